/*
 * directory_levels.c — linkage plans (run cards): the needs of a rule at
 * each alarm level, and their section in directory format version 3.
 *
 * A rule's own `respond` is alarm level 1. A rule may add levels 2..5,
 * each the full set of needs at that level (not a difference), so a
 * dispatcher reading the directory sees the whole plan of a level in one
 * place. An incident raised to a level the rule does not define uses the
 * highest level defined below it.
 *
 * Section tag 2 of the binary form (docs/workflow.md §1a):
 *
 *   u8 nrules { u8 rule index | u8 nlevels { u8 level | u8 nrespond { need } } }
 *
 * rule indexes strictly ascending and below the directory's rule count;
 * 1..4 levels a rule, strictly ascending within 2..5; 1..16 needs a level,
 * each encoded as in the rules (directory_put_need). A tag below 0x80
 * must be understood, so a node built for version 2 refuses the whole
 * version and keeps the previous directory.
 */
#include "workflow_int.h"

#include <string.h>

#define SEC_LEVELS 2

const struct fm_dir_respond *fm_dir_rule_needs(const struct fm_dir_rule *r, unsigned level,
                                               size_t *n)
{
    const struct fm_dir_respond *v = r->respond;
    size_t cnt = r->nrespond;
    for (size_t i = 0; i < r->nlevels && i < FM_DIR_MAX_LEVELS; i++) {
        if (r->levels[i].level > level)
            break;
        v = r->levels[i].respond;
        cnt = r->levels[i].nrespond;
    }
    *n = cnt;
    return v;
}

bool directory_has_levels(const struct fm_directory *d)
{
    for (size_t i = 0; i < d->nrules && i < FM_DIR_MAX_RULES; i++)
        if (d->rules[i].nlevels > 0)
            return true;
    return false;
}

static int encode_rule_levels(struct fm_buf *out, size_t idx, const struct fm_dir_rule *r)
{
    int rc;
    if (r->nlevels > FM_DIR_MAX_LEVELS)
        return FM_EINVAL;
    if ((rc = fm_buf_put_u8(out, (uint8_t)idx)) || (rc = fm_buf_put_u8(out, r->nlevels)))
        return rc;
    for (size_t k = 0; k < r->nlevels; k++) {
        const struct fm_dir_level *l = &r->levels[k];
        if (l->nrespond > FM_DIR_MAX_RESPOND)
            return FM_EINVAL;
        if ((rc = fm_buf_put_u8(out, l->level)) || (rc = fm_buf_put_u8(out, l->nrespond)))
            return rc;
        for (size_t e = 0; e < l->nrespond; e++)
            if ((rc = directory_put_need(out, &l->respond[e])) != FM_OK)
                return rc;
    }
    return FM_OK;
}

int directory_encode_levels(const struct fm_directory *d, struct fm_buf *out)
{
    size_t nr = 0, lenpos;
    int rc;
    if (!directory_has_levels(d))
        return FM_OK;
    for (size_t i = 0; i < d->nrules; i++)
        nr += d->rules[i].nlevels > 0;
    if ((rc = fm_buf_put_u8(out, SEC_LEVELS)) != FM_OK)
        return rc;
    lenpos = out->len;
    if ((rc = fm_buf_put_u32(out, 0)) || (rc = fm_buf_put_u8(out, (uint8_t)nr)))
        return rc;
    for (size_t i = 0; i < d->nrules; i++)
        if (d->rules[i].nlevels > 0 && (rc = encode_rule_levels(out, i, &d->rules[i])) != FM_OK)
            return rc;
    fm_be32_put(out->data + lenpos, (uint32_t)(out->len - lenpos - 4));
    return FM_OK;
}

static int decode_rule_levels(struct fm_cur *c, struct fm_dir_rule *r)
{
    uint8_t nl;
    if (fm_cur_u8(c, &nl) || nl < 1 || nl > FM_DIR_MAX_LEVELS)
        return FM_EDECODE;
    for (size_t k = 0; k < nl; k++) {
        struct fm_dir_level *l = &r->levels[k];
        if (fm_cur_u8(c, &l->level) || l->level < 2 || l->level > FM_ALARM_MAX ||
            (k > 0 && l->level <= r->levels[k - 1].level) || fm_cur_u8(c, &l->nrespond) ||
            l->nrespond < 1 || l->nrespond > FM_DIR_MAX_RESPOND)
            return FM_EDECODE;
        for (size_t e = 0; e < l->nrespond; e++)
            if (directory_get_need(c, &l->respond[e]) != FM_OK)
                return FM_EDECODE;
    }
    r->nlevels = nl;
    return FM_OK;
}

int directory_decode_levels(struct fm_cur *c, struct fm_directory *d)
{
    uint8_t nr;
    int last = -1;
    if (fm_cur_u8(c, &nr) || nr < 1 || nr > d->nrules)
        return FM_EDECODE;
    for (size_t i = 0; i < nr; i++) {
        uint8_t idx;
        if (fm_cur_u8(c, &idx) || (int)idx <= last || idx >= d->nrules ||
            decode_rule_levels(c, &d->rules[idx]) != FM_OK)
            return FM_EDECODE;
        last = idx;
    }
    return FM_OK;
}
