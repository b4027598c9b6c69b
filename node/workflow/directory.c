/*
 * directory.c — the organisation directory's canonical binary form, and
 * lookups in it.
 *
 * A published directory travels as the bytes below, split into chunks of
 * at most FM_BLOB_MAX bytes (one op each). The encoding has exactly one
 * form per directory (fixed field order, length-prefixed strings, counts
 * before lists), and the decoder is as strict as every other decoder of
 * bytes from elsewhere: it checks every length, range, index and string,
 * refuses duplicates and trailing bytes, and never asserts. So a node that
 * holds a version either understands it completely or ignores it — the
 * same on every node.
 *
 *   u8 version (1) | str8 name
 *   u8 ncounties  { str8 name }
 *   u16 ndepts    { str8 name | str8 kind | u8 tier | u8 county }
 *   u16 nunits    { str8 name | u16 dept | str8 kind | str16 caps | i32 lat | i32 lon }
 *   u8 nrules     { str8 category | u8 priority | u8 escalate_priority |
 *                   u32 escalate_after_s | u32 target_s | u8 nrespond
 *                   { u8 tier | str8 kind | str8 department | str8 capability | u8 units } }
 *
 * Version 2 (a directory with county boundaries) is the same with version
 * byte 2 and optional sections after the rules (directory_geo.c). A
 * directory without boundaries is still version 1, byte for byte, so the
 * versions published before stay what they were and old nodes read them.
 * Version 3 (a directory whose rules carry linkage plan levels) is the same
 * again with version byte 3 and a levels section (directory_levels.c): a
 * node built for version 2 skips it whole and keeps the newest directory it
 * can read, rather than dispatching by half a plan.
 */
#include "workflow_int.h"

#include <stdlib.h>
#include <string.h>

#define DIR_VERSION_MAX 3

int wf_directory_max_version = DIR_VERSION_MAX;

void fm_directory_free(struct fm_directory **dp)
{
    if (dp == NULL || *dp == NULL)
        return;
    free(*dp);
    *dp = NULL;
}

const struct fm_dir_rule *fm_directory_rule(const struct fm_directory *d, const char *category)
{
    for (size_t i = 0; d != NULL && category != NULL && i < d->nrules; i++)
        if (strcmp(d->rules[i].category, category) == 0)
            return &d->rules[i];
    return NULL;
}

const struct fm_dir_unit *fm_directory_unit(const struct fm_directory *d, const char *name)
{
    for (size_t i = 0; d != NULL && name != NULL && i < d->nunits; i++)
        if (strcmp(d->units[i].name, name) == 0)
            return &d->units[i];
    return NULL;
}

const struct fm_dir_dept *directory_dept(const struct fm_directory *d, const char *name)
{
    for (size_t i = 0; d != NULL && name != NULL && i < d->ndepts; i++)
        if (strcmp(d->depts[i].name, name) == 0)
            return &d->depts[i];
    return NULL;
}

static bool long_name(const char *s)
{
    return strnlen(s, FM_NAME_MAX) > FM_NAME_V1_MAX;
}

const char *fm_directory_long_name(const struct fm_directory *d)
{
    if (long_name(d->name))
        return d->name;
    for (size_t i = 0; i < d->ncounties; i++)
        if (long_name(d->counties[i]))
            return d->counties[i];
    for (size_t i = 0; i < d->ndepts; i++)
        if (long_name(d->depts[i].name))
            return d->depts[i].name;
    for (size_t i = 0; i < d->nunits; i++)
        if (long_name(d->units[i].name))
            return d->units[i].name;
    for (size_t i = 0; i < d->naliases; i++)
        if (long_name(d->aliases[i].name))
            return d->aliases[i].name;
    for (size_t i = 0; i < d->ndepots; i++)
        if (long_name(d->depots[i].name))
            return d->depots[i].name;
    return NULL; /* a rule's department is a department's name */
}

/* ---- encode ---- */

static int put_str8(struct fm_buf *b, const char *s)
{
    size_t n = strlen(s);
    int rc;
    if (n > 255)
        return FM_EINVAL;
    if ((rc = fm_buf_put_u8(b, (uint8_t)n)) != FM_OK)
        return rc;
    return fm_buf_append(b, s, n);
}

static int put_str16(struct fm_buf *b, const char *s)
{
    size_t n = strlen(s);
    int rc;
    if (n > UINT16_MAX)
        return FM_EINVAL;
    if ((rc = fm_buf_put_u16(b, (uint16_t)n)) != FM_OK)
        return rc;
    return fm_buf_append(b, s, n);
}

int directory_put_need(struct fm_buf *out, const struct fm_dir_respond *e)
{
    int rc;
    if ((rc = fm_buf_put_u8(out, e->tier)) || (rc = put_str8(out, e->kind)) ||
        (rc = put_str8(out, e->department)) || (rc = put_str8(out, e->capability)) ||
        (rc = fm_buf_put_u8(out, e->units)))
        return rc;
    return FM_OK;
}

int directory_encode(const struct fm_directory *d, struct fm_buf *out)
{
    int rc;
    fm_buf_reset(out);
    if (d->ncounties > FM_DIR_MAX_COUNTIES || d->ndepts > FM_DIR_MAX_DEPTS ||
        d->nunits > FM_DIR_MAX_UNITS || d->nrules > FM_DIR_MAX_RULES)
        return FM_EINVAL;
    if ((rc = fm_buf_put_u8(out, (uint8_t)fm_directory_format(d))) ||
        (rc = put_str8(out, d->name)) ||
        (rc = fm_buf_put_u8(out, (uint8_t)d->ncounties)))
        return rc;
    for (size_t i = 0; i < d->ncounties; i++)
        if ((rc = put_str8(out, d->counties[i])) != FM_OK)
            return rc;
    if ((rc = fm_buf_put_u16(out, (uint16_t)d->ndepts)) != FM_OK)
        return rc;
    for (size_t i = 0; i < d->ndepts; i++) {
        const struct fm_dir_dept *x = &d->depts[i];
        if ((rc = put_str8(out, x->name)) || (rc = put_str8(out, x->kind)) ||
            (rc = fm_buf_put_u8(out, x->tier)) || (rc = fm_buf_put_u8(out, (uint8_t)x->county)))
            return rc;
    }
    if ((rc = fm_buf_put_u16(out, (uint16_t)d->nunits)) != FM_OK)
        return rc;
    for (size_t i = 0; i < d->nunits; i++) {
        const struct fm_dir_unit *u = &d->units[i];
        if ((rc = put_str8(out, u->name)) || (rc = fm_buf_put_u16(out, u->dept)) ||
            (rc = put_str8(out, u->kind)) || (rc = put_str16(out, u->caps)) ||
            (rc = fm_buf_put_u32(out, (uint32_t)u->lat_e7)) ||
            (rc = fm_buf_put_u32(out, (uint32_t)u->lon_e7)))
            return rc;
    }
    if ((rc = fm_buf_put_u8(out, (uint8_t)d->nrules)) != FM_OK)
        return rc;
    for (size_t i = 0; i < d->nrules; i++) {
        const struct fm_dir_rule *r = &d->rules[i];
        if ((rc = put_str8(out, r->category)) || (rc = fm_buf_put_u8(out, r->priority)) ||
            (rc = fm_buf_put_u8(out, r->escalate_priority)) ||
            (rc = fm_buf_put_u32(out, r->escalate_after_s)) ||
            (rc = fm_buf_put_u32(out, r->target_s)) || (rc = fm_buf_put_u8(out, r->nrespond)))
            return rc;
        for (size_t k = 0; k < r->nrespond && k < FM_DIR_MAX_RESPOND; k++)
            if ((rc = directory_put_need(out, &r->respond[k])) != FM_OK)
                return rc;
    }
    if ((rc = directory_encode_sections(d, out)) != FM_OK)
        return rc;
    /* never publish what a receiver would refuse */
    struct fm_directory *check = malloc(sizeof *check);
    if (check == NULL)
        return FM_ENOMEM;
    rc = directory_decode(check, out->data, out->len);
    free(check);
    return rc == FM_OK ? FM_OK : FM_EINVAL;
}

/* ---- decode ---- */

enum str_kind { S_TEXT, S_TOKEN, S_NAME /* text that is a name (payload_name_ok) */ };

static int get_str(struct fm_cur *c, size_t lenbytes, char *out, size_t cap, size_t min,
                   enum str_kind kind)
{
    uint8_t n8;
    uint16_t n16;
    size_t n;
    const uint8_t *p;
    if (lenbytes == 1) {
        if (fm_cur_u8(c, &n8))
            return FM_EDECODE;
        n = n8;
    } else {
        if (fm_cur_u16(c, &n16))
            return FM_EDECODE;
        n = n16;
    }
    if (n < min || n >= cap || fm_cur_bytes(c, n, &p))
        return FM_EDECODE;
    memcpy(out, p, n);
    out[n] = '\0';
    if (memchr(out, '\0', n) != NULL)
        return FM_EDECODE;
    if (n == 0)
        return FM_OK;
    bool ok = kind == S_TOKEN  ? payload_token_ok(out, min, cap - 1)
              : kind == S_NAME ? payload_name_ok(out)
                               : payload_text_ok(out, min, cap - 1);
    return ok ? FM_OK : FM_EDECODE;
}

static int name_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Are the unit names unique? Sorted, then neighbours compared: a check of
 * every pair is quadratic, half a million compares for a city's thousand
 * units, paid on every read of the directory (each proposal). */
static bool units_unique(const struct fm_directory *d)
{
    const char *v[FM_DIR_MAX_UNITS];
    for (size_t i = 0; i < d->nunits; i++)
        v[i] = d->units[i].name;
    qsort(v, d->nunits, sizeof v[0], name_ptr_cmp);
    for (size_t i = 1; i < d->nunits; i++)
        if (strcmp(v[i - 1], v[i]) == 0)
            return false;
    return true;
}

int directory_get_need(struct fm_cur *c, struct fm_dir_respond *e)
{
    if (fm_cur_u8(c, &e->tier) || e->tier < 1 || e->tier > 3 ||
        get_str(c, 1, e->kind, FM_DIR_KIND_MAX, 1, S_TOKEN) ||
        get_str(c, 1, e->department, sizeof e->department, 0, S_NAME) ||
        get_str(c, 1, e->capability, sizeof e->capability, 0, S_TOKEN) ||
        fm_cur_u8(c, &e->units) || e->units < 1 || e->units > 9)
        return FM_EDECODE;
    return FM_OK;
}

static int decode_units(struct fm_cur *c, struct fm_directory *d)
{
    uint16_t n;
    if (fm_cur_u16(c, &n) || n > FM_DIR_MAX_UNITS)
        return FM_EDECODE;
    d->nunits = n;
    for (size_t i = 0; i < n; i++) {
        struct fm_dir_unit *u = &d->units[i];
        char canon[FM_DIR_CAPS_MAX];
        uint32_t lat, lon;
        if (get_str(c, 1, u->name, sizeof u->name, 1, S_NAME) || fm_cur_u16(c, &u->dept) ||
            u->dept >= d->ndepts || get_str(c, 1, u->kind, FM_DIR_KIND_MAX, 1, S_TOKEN) ||
            get_str(c, 2, u->caps, sizeof u->caps, 0, S_TEXT) || fm_cur_u32(c, &lat) ||
            fm_cur_u32(c, &lon))
            return FM_EDECODE;
        u->lat_e7 = (int32_t)lat;
        u->lon_e7 = (int32_t)lon;
        if (u->lat_e7 < -FM_LAT_MAX || u->lat_e7 > FM_LAT_MAX || u->lon_e7 < -FM_LON_MAX ||
            u->lon_e7 > FM_LON_MAX)
            return FM_EDECODE;
        if (payload_caps_canonical(u->caps, canon, sizeof canon) != FM_OK ||
            strcmp(canon, u->caps) != 0)
            return FM_EDECODE;
    }
    return units_unique(d) ? FM_OK : FM_EDECODE;
}

static int decode_rules(struct fm_cur *c, struct fm_directory *d)
{
    uint8_t n;
    if (fm_cur_u8(c, &n) || n > FM_DIR_MAX_RULES)
        return FM_EDECODE;
    d->nrules = n;
    for (size_t i = 0; i < n; i++) {
        struct fm_dir_rule *r = &d->rules[i];
        if (get_str(c, 1, r->category, sizeof r->category, 1, S_TOKEN) ||
            fm_cur_u8(c, &r->priority) || r->priority < 1 || r->priority > 5 ||
            fm_cur_u8(c, &r->escalate_priority) || r->escalate_priority > 5 ||
            fm_cur_u32(c, &r->escalate_after_s) || fm_cur_u32(c, &r->target_s) ||
            fm_cur_u8(c, &r->nrespond) || r->nrespond > FM_DIR_MAX_RESPOND)
            return FM_EDECODE;
        for (size_t k = 0; k < i; k++)
            if (strcmp(d->rules[k].category, r->category) == 0)
                return FM_EDECODE;
        for (size_t k = 0; k < r->nrespond; k++)
            if (directory_get_need(c, &r->respond[k]) != FM_OK)
                return FM_EDECODE;
    }
    return FM_OK;
}

int directory_decode(struct fm_directory *d, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    uint8_t version, nc;
    uint16_t nd;
    memset(d, 0, sizeof *d);
    fm_cur_init(&c, p, n);
    if (fm_cur_u8(&c, &version) || version < 1 || (int)version > wf_directory_max_version ||
        get_str(&c, 1, d->name, sizeof d->name, 1, S_NAME) || fm_cur_u8(&c, &nc) ||
        nc > FM_DIR_MAX_COUNTIES)
        goto bad;
    d->ncounties = nc;
    for (size_t i = 0; i < nc; i++) {
        if (get_str(&c, 1, d->counties[i], FM_NAME_MAX, 1, S_NAME))
            goto bad;
        for (size_t k = 0; k < i; k++)
            if (strcmp(d->counties[k], d->counties[i]) == 0)
                goto bad;
    }
    if (fm_cur_u16(&c, &nd) || nd > FM_DIR_MAX_DEPTS)
        goto bad;
    d->ndepts = nd;
    for (size_t i = 0; i < nd; i++) {
        struct fm_dir_dept *x = &d->depts[i];
        uint8_t county;
        if (get_str(&c, 1, x->name, sizeof x->name, 1, S_NAME) ||
            get_str(&c, 1, x->kind, FM_DIR_KIND_MAX, 1, S_TOKEN) || fm_cur_u8(&c, &x->tier) ||
            x->tier < 1 || x->tier > 3 || fm_cur_u8(&c, &county) || county >= nc)
            goto bad;
        x->county = county;
        for (size_t k = 0; k < i; k++)
            if (strcmp(d->depts[k].name, x->name) == 0)
                goto bad;
    }
    if (decode_units(&c, d) != FM_OK || decode_rules(&c, d) != FM_OK)
        goto bad;
    if (version == 1 ? fm_cur_left(&c) != 0 : directory_decode_sections(&c, d, version) != FM_OK)
        goto bad;
    return FM_OK;
bad:
    memset(d, 0, sizeof *d);
    return FM_EDECODE;
}
