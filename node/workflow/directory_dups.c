/*
 * directory_dups.c — what counts as the same emergency called in twice
 * (docs/workflow.md §3c): the directory may set how near and how close in
 * time an open incident must be to be shown as a possible duplicate, and
 * groups of related categories (a car on fire and a traffic accident at
 * one junction are one emergency, whatever the call-takers chose).
 *
 * Like aliases, this changes no decision any node takes on its own — the
 * hints are shown to a person, who links or merges — so its section may
 * be skipped by a build that does not know it (tag 0x82):
 *
 *   u32 radius_m | u32 window_s | u8 n { str8 category | u8 group }
 *
 * radius 1..50,000 m or 0 (the default), window 60..86,400 s or 0,
 * categories strictly ascending, each a rule's, groups numbered from 0 in
 * order of their first category and each of at least two categories.
 */
#include "workflow_int.h"

#include <stdlib.h>
#include <string.h>

#define SEC_DUPS 0x82

bool fm_directory_related(const struct fm_directory *d, const char *a, const char *b)
{
    int ga = -1, gb = -1;
    if (strcmp(a, b) == 0)
        return true;
    for (size_t i = 0; d != NULL && i < d->nrelated; i++) {
        if (strcmp(d->related[i].category, a) == 0)
            ga = d->related[i].group;
        if (strcmp(d->related[i].category, b) == 0)
            gb = d->related[i].group;
    }
    return ga >= 0 && ga == gb;
}

static int related_cmp(const void *x, const void *y)
{
    return strcmp(((const struct fm_dir_related *)x)->category,
                  ((const struct fm_dir_related *)y)->category);
}

/* Canonical form: sorted by category, groups renumbered by first
 * appearance in that order; checks every rule of the section. */
int directory_dups_normalise(struct fm_directory *d, char *err, size_t errlen)
{
    int map[256];
    size_t size[256] = {0};
    int next = 0;
    if (d->dup_radius_m > 50000 || (d->dup_window_s != 0 && d->dup_window_s < 60) ||
        d->dup_window_s > 86400 || d->nrelated > FM_DIR_MAX_RELATED) {
        snprintf(err, errlen, "duplicates: radius 1..50000 m, window 1..1440 minutes");
        return FM_EINVAL;
    }
    if (d->nrelated > 1)
        qsort(d->related, d->nrelated, sizeof d->related[0], related_cmp);
    for (size_t i = 0; i < 256; i++)
        map[i] = -1;
    for (size_t i = 0; i < d->nrelated; i++) {
        struct fm_dir_related *r = &d->related[i];
        if (fm_directory_rule(d, r->category) == NULL) {
            snprintf(err, errlen, "related category '%s' has no rule", r->category);
            return FM_EINVAL;
        }
        if (i > 0 && strcmp(r->category, d->related[i - 1].category) == 0) {
            snprintf(err, errlen, "category '%s' is in two groups of related categories",
                     r->category);
            return FM_EINVAL;
        }
        if (map[r->group] < 0)
            map[r->group] = next++;
        r->group = (uint8_t)map[r->group];
        size[r->group]++;
    }
    for (int g = 0; g < next; g++)
        if (size[g] < 2) {
            snprintf(err, errlen, "a group of related categories needs at least two");
            return FM_EINVAL;
        }
    return FM_OK;
}

bool directory_has_dups(const struct fm_directory *d)
{
    return d->dup_radius_m != 0 || d->dup_window_s != 0 || d->nrelated > 0;
}

int directory_encode_dups(const struct fm_directory *d, struct fm_buf *out)
{
    size_t len = 9;
    int rc;
    if (!directory_has_dups(d))
        return FM_OK;
    for (size_t i = 0; i < d->nrelated; i++)
        len += 2 + strlen(d->related[i].category);
    if ((rc = fm_buf_put_u8(out, SEC_DUPS)) || (rc = fm_buf_put_u32(out, (uint32_t)len)) ||
        (rc = fm_buf_put_u32(out, d->dup_radius_m)) ||
        (rc = fm_buf_put_u32(out, d->dup_window_s)) ||
        (rc = fm_buf_put_u8(out, (uint8_t)d->nrelated)))
        return rc;
    for (size_t i = 0; i < d->nrelated; i++) {
        size_t n = strlen(d->related[i].category);
        if ((rc = fm_buf_put_u8(out, (uint8_t)n)) ||
            (rc = fm_buf_append(out, d->related[i].category, n)) ||
            (rc = fm_buf_put_u8(out, d->related[i].group)))
            return rc;
    }
    return FM_OK;
}

int directory_decode_dups(struct fm_cur *c, struct fm_directory *d)
{
    uint8_t n;
    char err[160];
    if (fm_cur_u32(c, &d->dup_radius_m) || fm_cur_u32(c, &d->dup_window_s) || fm_cur_u8(c, &n) ||
        n > FM_DIR_MAX_RELATED)
        return FM_EDECODE;
    for (size_t i = 0; i < n; i++) {
        struct fm_dir_related *r = &d->related[i];
        uint8_t len;
        const uint8_t *p;
        if (fm_cur_u8(c, &len) || len == 0 || len >= sizeof r->category ||
            fm_cur_bytes(c, len, &p) || memchr(p, 0, len) != NULL || fm_cur_u8(c, &r->group))
            return FM_EDECODE;
        memcpy(r->category, p, len);
        r->category[len] = '\0';
    }
    d->nrelated = n;
    if (!directory_has_dups(d))
        return FM_EDECODE; /* an empty section is written as none */
    /* one canonical form: what normalising would change was not canonical */
    struct fm_dir_related before[FM_DIR_MAX_RELATED];
    memcpy(before, d->related, n * sizeof before[0]);
    if (directory_dups_normalise(d, err, sizeof err) != FM_OK ||
        memcmp(before, d->related, n * sizeof before[0]) != 0)
        return FM_EDECODE;
    return FM_OK;
}
