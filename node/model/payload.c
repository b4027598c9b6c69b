/*
 * payload.c — the strict TLV codec for op payloads, plus their one-line
 * human summaries for `fieldmesh log`.
 *
 * Two tables drive everything: one describes each tag (its type, length
 * bounds, value range and where it lands in struct payload), the other
 * says which tags each op kind allows and requires. The decoder walks the
 * bytes with a cursor, insists on strictly ascending known tags, exact
 * fixed widths, bounded printable strings and range-checked numbers, and
 * must consume its input exactly. The encoder writes the present fields in
 * tag order and then runs the decoder over its own output, so nothing can
 * be written that a receiver would refuse.
 */
#include "payload_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum pf_type { PF_NONE = 0, PF_REF, PF_TOKEN, PF_TEXT, PF_CAPS, PF_U8, PF_U32, PF_I32, PF_I64,
               PF_BLOB, PF_SEALED,
               PF_NAME /* text that is a name: also at most FM_NAME_CHARS characters */ };

struct pf_spec {
    uint8_t type;
    uint16_t min_len, max_len; /* strings: byte length bounds */
    int64_t min, max;          /* integers: value bounds */
    size_t off;                /* offset in struct payload */
};

#define PFS(t, lo, hi, field)                                                            \
    {.type = (t), .min_len = (lo), .max_len = (hi), .off = offsetof(struct payload, field)}
#define PFI(t, lo, hi, field)                                                            \
    {.type = (t), .min = (lo), .max = (hi), .off = offsetof(struct payload, field)}

static const struct pf_spec pf_specs[PT__MAX + 1] = {
    [PT_REF] = {.type = PF_REF, .off = offsetof(struct payload, ref)},
    [PT_CATEGORY] = PFS(PF_TOKEN, 1, FM_CATEGORY_MAX - 1, category),
    [PT_PRIORITY] = PFI(PF_U8, 1, 5, priority),
    [PT_LAT] = PFI(PF_I32, -FM_LAT_MAX, FM_LAT_MAX, lat),
    [PT_LON] = PFI(PF_I32, -FM_LON_MAX, FM_LON_MAX, lon),
    [PT_ADDRESS] = PFS(PF_TEXT, 0, FM_ADDRESS_MAX - 1, address),
    [PT_CALLER] = PFS(PF_TEXT, 0, FM_PHONE_MAX - 1, caller),
    [PT_DESC] = PFS(PF_TEXT, 0, FM_TEXT_MAX - 1, desc),
    [PT_TEXT] = PFS(PF_TEXT, 1, FM_TEXT_MAX - 1, text),
    [PT_EPOCH] = PFI(PF_U32, 0, UINT32_MAX, epoch),
    [PT_STAGE] = PFI(PF_U8, FM_STAGE_NEW, FM_STAGE_CLOSED, stage),
    [PT_NAME] = PFS(PF_NAME, 1, FM_NAME_MAX - 1, name),
    [PT_DEPARTMENT] = PFS(PF_NAME, 1, FM_NAME_MAX - 1, department),
    [PT_TIER] = PFI(PF_U8, 1, 3, tier),
    [PT_UNIT_KIND] = PFS(PF_NAME, 1, FM_NAME_MAX - 1, unit_kind),
    [PT_CAPS] = PFS(PF_CAPS, 1, FM_TEXT_MAX - 1, caps),
    [PT_UNIT_STATUS] = PFI(PF_U8, 0, US__COUNT - 1, unit_status),
    [PT_RES_KIND] = PFS(PF_NAME, 1, FM_NAME_MAX - 1, res_kind),
    [PT_DEPOT] = PFS(PF_NAME, 1, FM_NAME_MAX - 1, depot),
    [PT_QTY] = PFI(PF_I64, 0, FM_QTY_MAX, qty),
    [PT_DELTA] = PFI(PF_I64, -FM_QTY_MAX, FM_QTY_MAX, delta),
    /* linkage workflow */
    [PT_REF2] = {.type = PF_REF, .off = offsetof(struct payload, ref2)},
    [PT_REF3] = {.type = PF_REF, .off = offsetof(struct payload, ref3)},
    [PT_CODE] = PFI(PF_U8, 1, TS__MAX, code),
    [PT_FLAGS] = PFI(PF_U8, 0, 3, flags),
    [PT_PART] = PFI(PF_U32, 1, UINT32_MAX, part),
    [PT_BLOB] = {.type = PF_BLOB, .min_len = 1, .max_len = FM_BLOB_MAX,
                 .off = offsetof(struct payload, blob)},
    [PT_AUDIENCE] = PFS(PF_TEXT, 1, FM_NAME_MAX - 1, audience),
    [PT_SCORE] = PFI(PF_U8, 1, 5, score),
    [PT_BASE] = PFI(PF_I64, 1, INT64_MAX, log.base), /* held in a uint64_t */
    [PT_SEALED] = {.type = PF_SEALED, .min_len = FM_SEALED_MIN, .max_len = FM_SEALED_MAX,
                   .off = offsetof(struct payload, sealed)},
    [PT_OPERATOR] = PFS(PF_TEXT, 1, FM_OP_OPERATOR_MAX - 1, log.operator_name),
    [PT_KEY] = PFS(PF_TEXT, 1, FM_UNIT_KEY_MAX - 1, key),
};

struct kind_spec {
    uint8_t kind;
    const char *name;
    uint64_t allowed, required; /* PT_OPERATOR is allowed on every kind here too */
};

#define B PT_BIT
static const struct kind_spec kind_specs[] = {
    {OP_CERT, "cert", 0, 0},
    {OP_REVOKE, "revoke", 0, 0},
    {OP_FORK_EVIDENCE, "fork.evidence", 0, 0},
    {OP_CERT_RENEW, "cert.renew", 0, 0},
    {OP_GROUP_KEY, "dispatch.key", 0, 0},
    {OP_CERT_ANNOUNCE, "cert.announce", 0, 0},
    {OP_INC_REPORT, "incident.report",
     B(PT_CATEGORY) | B(PT_PRIORITY) | B(PT_LAT) | B(PT_LON) | B(PT_ADDRESS) | B(PT_CALLER) |
         B(PT_DESC) | B(PT_SEALED),
     B(PT_CATEGORY) | B(PT_PRIORITY) | B(PT_LAT) | B(PT_LON)},
    {OP_INC_UPDATE, "incident.update",
     B(PT_REF) | B(PT_CATEGORY) | B(PT_PRIORITY) | B(PT_LAT) | B(PT_LON) | B(PT_ADDRESS) |
         B(PT_CALLER) | B(PT_DESC) | B(PT_BASE) | B(PT_SEALED),
     B(PT_REF)},
    {OP_INC_NOTE, "incident.note", B(PT_REF) | B(PT_TEXT), B(PT_REF) | B(PT_TEXT)},
    {OP_INC_STATUS, "incident.status", B(PT_REF) | B(PT_EPOCH) | B(PT_STAGE),
     B(PT_REF) | B(PT_EPOCH) | B(PT_STAGE)},
    /* an incident opened twice folds into the survivor (docs/workflow.md §3c) */
    {OP_INC_MERGE, "incident.merge", B(PT_REF) | B(PT_REF2) | B(PT_TEXT), B(PT_REF) | B(PT_REF2)},
    {OP_UNIT_REGISTER, "unit.register",
     B(PT_NAME) | B(PT_DEPARTMENT) | B(PT_TIER) | B(PT_UNIT_KIND) | B(PT_CAPS) | B(PT_REF) |
         B(PT_BASE) | B(PT_KEY),
     B(PT_NAME) | B(PT_DEPARTMENT) | B(PT_TIER) | B(PT_UNIT_KIND)},
    /* [name]: the unit's name, carried by a station or vehicle whose
     * certificate names its unit by name (docs/workflow.md §4) */
    {OP_UNIT_STATUS, "unit.status", B(PT_REF) | B(PT_NAME) | B(PT_UNIT_STATUS) | B(PT_BASE),
     B(PT_REF) | B(PT_UNIT_STATUS)},
    {OP_UNIT_POSITION, "unit.position",
     B(PT_REF) | B(PT_LAT) | B(PT_LON) | B(PT_NAME) | B(PT_BASE),
     B(PT_REF) | B(PT_LAT) | B(PT_LON)},
    {OP_RES_ADD, "resource.add", B(PT_RES_KIND) | B(PT_DEPOT) | B(PT_QTY),
     B(PT_RES_KIND) | B(PT_DEPOT) | B(PT_QTY)},
    /* [depot]: the author's unit, claimed as the depot's (permit.c) */
    {OP_RES_ADJUST, "resource.adjust", B(PT_REF) | B(PT_DELTA) | B(PT_DEPOT),
     B(PT_REF) | B(PT_DELTA)},
    /* linkage workflow (docs/workflow.md) */
    {OP_INC_FEEDBACK, "incident.feedback", B(PT_REF) | B(PT_TEXT) | B(PT_SCORE),
     B(PT_REF) | B(PT_SCORE)},
    {OP_INC_ALARM, "incident.alarm", B(PT_REF) | B(PT_TEXT) | B(PT_CODE), B(PT_REF) | B(PT_CODE)},
    {OP_TICKET_DISPATCH, "ticket.dispatch",
     B(PT_REF) | B(PT_NAME) | B(PT_TEXT) | B(PT_EPOCH) | B(PT_REF2) | B(PT_REF3),
     B(PT_REF) | B(PT_EPOCH) | B(PT_REF2)},
    {OP_TICKET_STEP, "ticket.step",
     B(PT_REF) | B(PT_NAME) | B(PT_TEXT) | B(PT_EPOCH) | B(PT_REF2) | B(PT_REF3) | B(PT_CODE) |
         B(PT_FLAGS),
     B(PT_REF) | B(PT_EPOCH) | B(PT_REF2) | B(PT_REF3) | B(PT_CODE) | B(PT_FLAGS)},
    {OP_TICKET_ESCALATE, "ticket.escalate", B(PT_REF) | B(PT_TEXT) | B(PT_TIER) | B(PT_REF2),
     B(PT_REF) | B(PT_TIER)},
    {OP_MAT_REQUEST, "material.request", B(PT_REF) | B(PT_TEXT) | B(PT_RES_KIND) | B(PT_QTY),
     B(PT_REF) | B(PT_RES_KIND) | B(PT_QTY)},
    {OP_MAT_ALLOCATE, "material.allocate",
     B(PT_REF) | B(PT_QTY) | B(PT_REF2) | B(PT_REF3) | B(PT_DEPOT),
     B(PT_REF) | B(PT_QTY) | B(PT_REF2) | B(PT_REF3)},
    {OP_MAT_RETURN, "material.return",
     B(PT_REF) | B(PT_QTY) | B(PT_REF2) | B(PT_REF3) | B(PT_DEPOT),
     B(PT_REF) | B(PT_QTY) | B(PT_REF2) | B(PT_REF3)},
    {OP_DIR_PUBLISH, "directory.publish", B(PT_PART) | B(PT_BLOB), B(PT_PART) | B(PT_BLOB)},
    {OP_BULLETIN_SEND, "bulletin.send", B(PT_TEXT) | B(PT_AUDIENCE),
     B(PT_TEXT) | B(PT_AUDIENCE)},
    {OP_BULLETIN_READ, "bulletin.read", B(PT_REF), B(PT_REF)},
    {OP_CONFLICT_RESOLVE, "conflict.resolve",
     B(PT_DESC) | B(PT_TEXT) | B(PT_BLOB) | B(PT_CODE) | B(PT_BASE),
     B(PT_TEXT) | B(PT_BLOB)},
};
#undef B

static const struct kind_spec *kind_spec_find(uint8_t kind)
{
    for (size_t i = 0; i < sizeof kind_specs / sizeof kind_specs[0]; i++)
        if (kind_specs[i].kind == kind)
            return &kind_specs[i];
    return NULL;
}

const char *payload_kind_name(uint8_t kind)
{
    const struct kind_spec *ks = kind_spec_find(kind);
    return ks ? ks->name : "unknown";
}

static const char *const unit_status_names[US__COUNT] = {"available", "assigned", "onscene",
                                                         "offline"};

const char *unit_status_name(unsigned s)
{
    return s < US__COUNT ? unit_status_names[s] : "?";
}

int unit_status_parse(const char *s, uint8_t *out)
{
    for (unsigned i = 0; s != NULL && i < US__COUNT; i++) {
        if (strcmp(s, unit_status_names[i]) == 0) {
            *out = (uint8_t)i;
            return FM_OK;
        }
    }
    return FM_EINVAL;
}

/* ---- string checks ---- */

static bool tok_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool bytes_token_ok(const uint8_t *s, size_t n, size_t min, size_t max)
{
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!tok_char(s[i]))
            return false;
    return true;
}

/* Whether the 8 bytes at p are printable ASCII (0x20..0x7e): no high bit,
 * no byte below 0x20, no DEL. Word-at-a-time: most text is ASCII, and
 * every op's text is checked at ingest. */
static bool ascii8_printable(const uint8_t *p)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t w, del;
    memcpy(&w, p, sizeof w);
    if (w & highs)
        return false;
    /* with no high bit set, a byte b < 0x20 borrows into its own high bit */
    if ((w - 0x20 * ones) & highs)
        return false;
    del = w ^ (0x7f * ones); /* DEL becomes a zero byte */
    return ((del - ones) & ~del & highs) == 0;
}

/* Printable UTF-8: shortest form, no surrogates, <= U+10FFFF, no C0/C1
 * controls, no DEL. */
static bool bytes_text_ok(const uint8_t *s, size_t n, size_t min, size_t max)
{
    if (n < min || n > max)
        return false;
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8 && ascii8_printable(s + i)) {
            i += 8;
            continue;
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t len = fm_utf8_seq(s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

/* Comma-separated tokens, each 1..31 chars, strictly ascending. */
static bool bytes_caps_ok(const uint8_t *s, size_t n, size_t min, size_t max)
{
    if (n < min || n > max)
        return false;
    const uint8_t *prev = NULL;
    size_t prev_len = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != ',')
            continue;
        size_t len = i - start;
        if (!bytes_token_ok(s + start, len, 1, FM_CATEGORY_MAX - 1))
            return false;
        if (prev != NULL) {
            size_t m = len < prev_len ? len : prev_len;
            int c = memcmp(prev, s + start, m);
            if (c > 0 || (c == 0 && prev_len >= len))
                return false;
        }
        prev = s + start;
        prev_len = len;
        start = i + 1;
    }
    return true;
}

bool payload_token_ok(const char *s, size_t min, size_t max)
{
    return s != NULL && bytes_token_ok((const uint8_t *)s, strlen(s), min, max);
}

bool payload_bytes_text_ok(const uint8_t *s, size_t n, size_t min, size_t max)
{
    return s != NULL && bytes_text_ok(s, n, min, max);
}

bool payload_text_ok(const char *s, size_t min, size_t max)
{
    return s != NULL && bytes_text_ok((const uint8_t *)s, strlen(s), min, max);
}

static bool bytes_name_ok(const uint8_t *s, size_t n)
{
    return bytes_text_ok(s, n, 1, FM_NAME_MAX - 1) &&
           fm_utf8_chars((const char *)s, n) <= FM_NAME_CHARS;
}

bool payload_name_ok(const char *s)
{
    return s != NULL && bytes_name_ok((const uint8_t *)s, strnlen(s, FM_NAME_MAX));
}

static int caps_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int payload_caps_canonical(const char *in, char *out, size_t cap)
{
    char work[FM_TEXT_MAX];
    char *items[FM_TEXT_MAX / 2 + 1];
    size_t nitems = 0;
    if (cap == 0)
        return FM_EINVAL;
    out[0] = '\0';
    if (in == NULL || in[0] == '\0')
        return FM_OK;
    if (fm_strlcpy(work, in, sizeof work) != FM_OK)
        return FM_EINVAL;
    char *p = work;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        while (*p == ' ')
            p++;
        size_t len = strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            p[--len] = '\0';
        if (!payload_token_ok(p, 1, FM_CATEGORY_MAX - 1))
            return FM_EINVAL;
        items[nitems++] = p;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    qsort(items, nitems, sizeof items[0], caps_cmp);
    size_t used = 0;
    for (size_t i = 0; i < nitems; i++) {
        if (i > 0 && strcmp(items[i], items[i - 1]) == 0)
            continue;
        size_t len = strlen(items[i]);
        if (used + (used > 0) + len + 1 > cap)
            return FM_EINVAL;
        if (used > 0)
            out[used++] = ',';
        memcpy(out + used, items[i], len);
        used += len;
        out[used] = '\0';
    }
    return FM_OK;
}

/* ---- decode ---- */

static int field_decode(struct payload *p, uint8_t tag, const uint8_t *v, size_t n)
{
    const struct pf_spec *fs = &pf_specs[tag];
    uint8_t *dst = (uint8_t *)p + fs->off;
    int64_t val;
    switch (fs->type) {
    case PF_REF: {
        struct payload_ref *ref = (struct payload_ref *)(void *)dst;
        if (n != FM_PK_LEN + 8)
            return FM_EDECODE;
        memcpy(ref->author, v, FM_PK_LEN);
        ref->seq = fm_be64_get(v + FM_PK_LEN);
        return ref->seq == 0 ? FM_EDECODE : FM_OK;
    }
    case PF_BLOB:
        if (n < fs->min_len || n > fs->max_len)
            return FM_EDECODE;
        memcpy(dst, v, n);
        p->blob_len = (uint16_t)n;
        return FM_OK;
    case PF_SEALED: {
        /* the structure only: no node but a dispatcher can open it */
        uint8_t kid[FM_SEAL_KEY_ID_LEN];
        if (n < fs->min_len || n > fs->max_len || fm_sealed_field_parse(v, n, kid) != FM_OK)
            return FM_EDECODE;
        memcpy(dst, v, n);
        p->sealed_len = (uint16_t)n;
        return FM_OK;
    }
    case PF_TOKEN:
    case PF_TEXT:
    case PF_NAME:
    case PF_CAPS: {
        bool ok = fs->type == PF_TOKEN  ? bytes_token_ok(v, n, fs->min_len, fs->max_len)
                  : fs->type == PF_TEXT ? bytes_text_ok(v, n, fs->min_len, fs->max_len)
                  : fs->type == PF_NAME ? bytes_name_ok(v, n)
                                        : bytes_caps_ok(v, n, fs->min_len, fs->max_len);
        if (!ok)
            return FM_EDECODE;
        memcpy(dst, v, n); /* max_len < the array size: NUL stays from memset */
        return FM_OK;
    }
    case PF_U8:
        if (n != 1)
            return FM_EDECODE;
        val = v[0];
        break;
    case PF_U32:
        if (n != 4)
            return FM_EDECODE;
        val = fm_be32_get(v);
        break;
    case PF_I32:
        if (n != 4)
            return FM_EDECODE;
        val = (int32_t)fm_be32_get(v);
        break;
    case PF_I64:
        if (n != 8)
            return FM_EDECODE;
        val = (int64_t)fm_be64_get(v);
        break;
    default:
        return FM_EDECODE;
    }
    if (val < fs->min || val > fs->max)
        return FM_EDECODE;
    switch (fs->type) {
    case PF_U8: *dst = (uint8_t)val; break;
    case PF_U32: { uint32_t u = (uint32_t)val; memcpy(dst, &u, sizeof u); break; }
    case PF_I32: { int32_t i = (int32_t)val; memcpy(dst, &i, sizeof i); break; }
    default: memcpy(dst, &val, sizeof val); break;
    }
    return FM_OK;
}

/* Rules across fields of one kind. */
static int kind_check(const struct payload *p)
{
    uint64_t lat = p->present & PT_BIT(PT_LAT), lon = p->present & PT_BIT(PT_LON);
    if ((lat == 0) != (lon == 0))
        return FM_EDECODE;
    if (p->log.kind == OP_INC_UPDATE &&
        (p->present & ~(PT_BIT(PT_REF) | PT_BIT(PT_BASE) | PT_BIT(PT_OPERATOR))) == 0)
        return FM_EDECODE; /* an edit changes something */
    if ((p->present & PT_BIT(PT_CALLER)) && (p->present & PT_BIT(PT_SEALED)))
        return FM_EDECODE; /* one caller per op: in clear (older writers) or sealed */
    if (p->log.kind == OP_UNIT_REGISTER && (p->present & PT_BIT(PT_BASE)) &&
        !(p->present & PT_BIT(PT_REF)))
        return FM_EDECODE; /* a base names what was seen: only a directory unit exists before */
    if (p->log.kind == OP_RES_ADJUST && p->delta == 0)
        return FM_EDECODE;
    /* linkage workflow */
    if ((p->log.kind == OP_MAT_REQUEST || p->log.kind == OP_MAT_ALLOCATE || p->log.kind == OP_MAT_RETURN) &&
        p->qty < 1)
        return FM_EDECODE;
    if (p->log.kind == OP_TICKET_STEP && p->code == TS_CLEAR && !(p->present & PT_BIT(PT_TEXT)))
        return FM_EDECODE; /* a clear carries its result */
    if (p->log.kind == OP_TICKET_STEP && (p->flags & 2) &&
        ((p->flags & 1) || (p->code != TS_ENROUTE && p->code != TS_ARRIVE)))
        return FM_EDECODE; /* by position: only en route and arrival, by the unit itself */
    if (p->log.kind == OP_UNIT_REGISTER && (p->present & PT_BIT(PT_KEY)) &&
        (!(p->present & PT_BIT(PT_REF)) || !payload_key_ok(p->key)))
        return FM_EDECODE; /* a key names a directory unit's derived id */
    if (p->log.kind == OP_UNIT_REGISTER && (p->present & PT_BIT(PT_REF))) {
        /* a directory unit: its id is derived from its key, else from
         * (department, name) */
        struct payload_ref want;
        if (p->present & PT_BIT(PT_KEY))
            payload_dir_key_ref(p->key, &want);
        else
            payload_dir_unit_ref(p->department, p->name, &want);
        if (p->ref.seq != want.seq || memcmp(p->ref.author, want.author, FM_PK_LEN) != 0)
            return FM_EDECODE;
    }
    if (p->log.kind == OP_TICKET_ESCALATE && p->tier < 2)
        return FM_EDECODE;
    if (p->log.kind == OP_INC_ALARM && (p->code < 2 || p->code > FM_ALARM_MAX))
        return FM_EDECODE; /* an alarm level above the default 1 */
    if (p->log.kind == OP_INC_MERGE && p->ref.seq == p->ref2.seq &&
        memcmp(p->ref.author, p->ref2.author, FM_PK_LEN) == 0)
        return FM_EDECODE; /* an incident is not merged into itself */
    if (p->log.kind == OP_DIR_PUBLISH &&
        ((p->part & 0xffff) == 0 || (p->part & 0xffff) > FM_DIR_CHUNKS_MAX ||
         (p->part >> 16) >= (p->part & 0xffff)))
        return FM_EDECODE;
    if (p->log.kind == OP_CONFLICT_RESOLVE) {
        /* a decision (op format 5) names one of the facts; the result
         * that stands travels as its hash after the fingerprint */
        bool code = (p->present & PT_BIT(PT_CODE)) != 0;
        if (code && p->code > RD__MAX)
            return FM_EDECODE;
        if ((p->present & PT_BIT(PT_BASE)) && !code)
            return FM_EDECODE; /* a base only where a decision overrides another */
        if (p->blob_len != (code && p->code == RD_RESULT ? 2 * FM_HASH_LEN : FM_HASH_LEN))
            return FM_EDECODE;
    }
    return FM_OK;
}

int payload_decode(struct payload *out, uint8_t kind, const uint8_t *p, size_t n)
{
    payload_clear(out); /* the blob is read only up to blob_len */
    out->log.kind = kind;
    if (kind == OP_CERT || kind == OP_CERT_RENEW || kind == OP_CERT_ANNOUNCE)
        return fm_cert_decode(&out->log.cert, p, n) == FM_OK ? FM_OK : FM_EDECODE;
    if (kind == OP_REVOKE)
        return fm_revocation_decode(&out->log.rev, p, n) == FM_OK ? FM_OK : FM_EDECODE;
    if (kind == OP_GROUP_KEY)
        return fm_groupkey_decode(&out->log.gk, p, n) == FM_OK ? FM_OK : FM_EDECODE;
    if (kind == OP_FORK_EVIDENCE)
        return fork_evidence_decode(&out->log, p, n); /* fork.c: verifies both signatures */
    const struct kind_spec *ks = kind_spec_find(kind);
    if (ks == NULL)
        return FM_EDECODE;
    struct fm_cur c;
    fm_cur_init(&c, p, n);
    unsigned last = 0;
    int rc = FM_OK;
    uint64_t allowed = ks->allowed | PT_BIT(PT_OPERATOR); /* op format 2: any kind */
    while (fm_cur_left(&c) > 0) {
        uint8_t tag;
        uint16_t len;
        const uint8_t *v;
        if (fm_cur_u8(&c, &tag) || fm_cur_u16(&c, &len) || fm_cur_bytes(&c, len, &v))
            goto bad;
        if (tag <= last || tag > PT__MAX || (allowed & PT_BIT(tag)) == 0)
            goto bad;
        if ((rc = field_decode(out, tag, v, len)) != FM_OK)
            goto bad;
        out->present |= PT_BIT(tag);
        last = tag;
    }
    if ((out->present & ks->required) != ks->required || kind_check(out) != FM_OK)
        goto bad;
    return FM_OK;
bad:
    payload_clear(out); /* the blob is read only up to blob_len */
    out->log.kind = kind;
    return FM_EDECODE;
}

/* ---- encode ---- */

static int field_encode(const struct payload *p, uint8_t tag, struct fm_buf *out)
{
    const struct pf_spec *fs = &pf_specs[tag];
    const uint8_t *src = (const uint8_t *)p + fs->off;
    uint8_t tmp[FM_PK_LEN + 8];
    const uint8_t *v = tmp;
    size_t n;
    switch (fs->type) {
    case PF_REF: {
        const struct payload_ref *ref = (const struct payload_ref *)(const void *)src;
        memcpy(tmp, ref->author, FM_PK_LEN);
        fm_be64_put(tmp + FM_PK_LEN, ref->seq);
        n = sizeof tmp;
        break;
    }
    case PF_BLOB:
        v = src;
        n = p->blob_len;
        break;
    case PF_SEALED:
        v = src;
        n = p->sealed_len;
        break;
    case PF_TOKEN:
    case PF_TEXT:
    case PF_NAME:
    case PF_CAPS:
        v = src;
        n = strnlen((const char *)src, fs->max_len + 1);
        break;
    case PF_U8:
        tmp[0] = *src;
        n = 1;
        break;
    case PF_U32:
    case PF_I32: {
        uint32_t u;
        memcpy(&u, src, sizeof u);
        fm_be32_put(tmp, u);
        n = 4;
        break;
    }
    case PF_I64: {
        uint64_t u;
        memcpy(&u, src, sizeof u);
        fm_be64_put(tmp, u);
        n = 8;
        break;
    }
    default:
        return FM_EINVAL;
    }
    if (n > UINT16_MAX)
        return FM_EINVAL;
    int rc;
    if ((rc = fm_buf_put_u8(out, tag)) || (rc = fm_buf_put_u16(out, (uint16_t)n)) ||
        (rc = fm_buf_append(out, v, n)))
        return rc;
    return FM_OK;
}

/* Text longer than builds before op format 7 took (FM_NAME_V1_MAX bytes)
 * in a name field, the audience, or a certificate the op carries about
 * another node or anew (announce, renew); a node's first op, its own
 * certificate, is not asked: a node with a longer name is admitted only by
 * newer builds whatever it writes. */
static bool long_names(const struct payload *p)
{
    if (p->log.kind == OP_CERT_ANNOUNCE || p->log.kind == OP_CERT_RENEW)
        return strnlen(p->log.cert.name, FM_NAME_MAX) > FM_NAME_V1_MAX ||
               strnlen(p->log.cert.unit, FM_NAME_MAX) > FM_NAME_V1_MAX;
    for (uint8_t tag = 1; tag <= PT__MAX; tag++) {
        const struct pf_spec *fs = &pf_specs[tag];
        if ((p->present & PT_BIT(tag)) && (fs->type == PF_NAME || tag == PT_AUDIENCE) &&
            strnlen((const char *)p + fs->off, FM_NAME_MAX) > FM_NAME_V1_MAX)
            return true;
    }
    return false;
}

int payload_encode(const struct payload *p, struct fm_buf *out, struct payload *check)
{
    int rc;
    fm_buf_reset(out);
    if (p->log.format != 0 && p->log.format < 7 && long_names(p))
        return FM_ECONFIG; /* op format 7: older builds refuse the op */
    if (p->log.kind == OP_CERT || p->log.kind == OP_CERT_RENEW ||
        p->log.kind == OP_CERT_ANNOUNCE) {
        rc = fm_cert_encode(&p->log.cert, out);
    } else if (p->log.kind == OP_REVOKE) {
        rc = fm_revocation_encode(&p->log.rev, out);
    } else if (p->log.kind == OP_GROUP_KEY) {
        rc = fm_groupkey_encode(&p->log.gk, out);
    } else if (p->log.kind == OP_FORK_EVIDENCE) {
        rc = fork_evidence_encode(&p->log, out); /* fork.c */
    } else {
        const struct kind_spec *ks = kind_spec_find(p->log.kind);
        if (ks == NULL || (p->present & ~(ks->allowed | PT_BIT(PT_OPERATOR))) != 0)
            return FM_EINVAL;
        rc = FM_OK;
        for (uint8_t tag = 1; tag <= PT__MAX && rc == FM_OK; tag++)
            if (p->present & PT_BIT(tag))
                rc = field_encode(p, tag, out);
    }
    if (rc != FM_OK)
        return rc == FM_ENOMEM ? rc : FM_EINVAL;
    if (payload_decode(check, p->log.kind, out->data, out->len) != FM_OK)
        return FM_EINVAL;
    return FM_OK;
}

/* ---- human text ---- */

bool payload_key_ok(const char *k)
{
    size_t n = strnlen(k, FM_UNIT_KEY_MAX);
    if (n == 0 || n >= FM_UNIT_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

void payload_dir_key_ref(const char *key, struct payload_ref *out)
{
    static const char domain[] = "fieldmesh directory unit key";
    uint8_t mem[sizeof domain + FM_UNIT_KEY_MAX];
    size_t kl = strnlen(key, FM_UNIT_KEY_MAX - 1);
    memcpy(mem, domain, sizeof domain); /* with its NUL: a separator */
    memcpy(mem + sizeof domain, key, kl);
    fm_hash(out->author, mem, sizeof domain + kl);
    out->seq = 1;
}

void payload_dir_unit_ref(const char *department, const char *name, struct payload_ref *out)
{
    static const char domain[] = "fieldmesh directory unit";
    uint8_t mem[sizeof domain + 2 * FM_NAME_MAX];
    size_t dl = strnlen(department, FM_NAME_MAX - 1), nl = strnlen(name, FM_NAME_MAX - 1);
    size_t n = 0;
    memcpy(mem, domain, sizeof domain); /* with its NUL: a separator */
    n += sizeof domain;
    memcpy(mem + n, department, dl);
    n += dl;
    mem[n++] = 0;
    memcpy(mem + n, name, nl);
    n += nl;
    _Static_assert(FM_HASH_LEN == FM_PK_LEN, "a hash stands in for an author key");
    fm_hash(out->author, mem, n);
    out->seq = 1;
}


void payload_coord_format(int32_t e7, char out[16])
{
    int64_t v = e7;
    const char *sign = v < 0 ? "-" : "";
    if (v < 0)
        v = -v;
    snprintf(out, 16, "%s%lld.%07lld", sign, (long long)(v / 10000000),
             (long long)(v % 10000000));
}

struct sb {
    char *p;
    size_t cap, len;
};

static void FM_PRINTF(2, 3) sb_add(struct sb *b, const char *fmt, ...)
{
    if (b->len + 1 >= b->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

static void sb_coords(struct sb *b, int32_t lat, int32_t lon)
{
    char a[16], o[16];
    payload_coord_format(lat, a);
    payload_coord_format(lon, o);
    sb_add(b, " @%s,%s", a, o);
}

/* " tier T unit 'U'" of a certificate, each only when set. */
static void sb_cert_scope(struct sb *b, const struct payload *p)
{
    if (p->log.cert.tier)
        sb_add(b, " tier %u", p->log.cert.tier);
    if (p->log.cert.unit[0])
        sb_add(b, " unit '%s'", p->log.cert.unit);
}

static void sb_group_key(struct sb *b, const struct payload *p)
{
    char kid[2 * FM_SEAL_KEY_ID_LEN + 1];
    for (size_t i = 0; i < FM_SEAL_KEY_ID_LEN; i++)
        snprintf(kid + 2 * i, 3, "%02x", p->log.gk.key_id[i]);
    sb_add(b, "dispatcher key %u (id %s) sealed to %u nodes", p->log.gk.generation, kid,
           p->log.gk.count);
}

static void sb_report(struct sb *b, const struct payload *p)
{
    sb_add(b, "report %s p%u", p->category, p->priority);
    sb_coords(b, p->lat, p->lon);
    if (p->address[0])
        sb_add(b, " '%s'", p->address);
    if (p->caller[0])
        sb_add(b, " caller %s", p->caller);
    if (p->present & PT_BIT(PT_SEALED))
        sb_add(b, " caller (sealed)");
    if (p->desc[0])
        sb_add(b, " desc '%s'", p->desc);
}

/* An update names only the fields it changes. */
static void sb_update(struct sb *b, const struct payload *p, const char *id)
{
    sb_add(b, "update %s", id);
    if (p->present & PT_BIT(PT_CATEGORY))
        sb_add(b, " category %s", p->category);
    if (p->present & PT_BIT(PT_PRIORITY))
        sb_add(b, " p%u", p->priority);
    if (p->present & PT_BIT(PT_LAT))
        sb_coords(b, p->lat, p->lon);
    if (p->present & PT_BIT(PT_ADDRESS))
        sb_add(b, " address '%s'", p->address);
    if (p->present & PT_BIT(PT_CALLER))
        sb_add(b, " caller '%s'", p->caller);
    if (p->present & PT_BIT(PT_SEALED))
        sb_add(b, " caller (sealed)");
    if (p->present & PT_BIT(PT_DESC))
        sb_add(b, " desc '%s'", p->desc);
}

/* One case per op kind, flat on purpose: it runs longer than
 * the other steps, but the text of every kind is found in one place, and
 * the cases longer than a few lines are helpers above. */
void payload_summary(const struct payload *p, char *out, size_t cap)
{
    struct sb b = {out, cap, 0};
    char id[FM_ID_MAX], key[FM_KEY_TEXT_LEN];
    if (cap == 0)
        return;
    out[0] = '\0';
    if (p->present & PT_BIT(PT_REF))
        fm_op_id_format(p->ref.author, p->ref.seq, id);
    switch (p->log.kind) {
    case OP_CERT:
        fm_key_encode(p->log.cert.node, key);
        sb_add(&b, "cert '%s' %s", p->log.cert.name, fm_role_name(p->log.cert.role));
        sb_cert_scope(&b, p);
        sb_add(&b, " for %s", key);
        break;
    case OP_CERT_RENEW:
        sb_add(&b, "renew cert '%s' %s", p->log.cert.name, fm_role_name(p->log.cert.role));
        sb_cert_scope(&b, p);
        break;
    case OP_CERT_ANNOUNCE:
        fm_key_encode(p->log.cert.node, key);
        sb_add(&b, "announce cert '%s' %s", p->log.cert.name, fm_role_name(p->log.cert.role));
        sb_cert_scope(&b, p);
        sb_add(&b, " for %s", key);
        break;
    case OP_REVOKE:
        fm_key_encode(p->log.rev.node, key);
        sb_add(&b, "revoke %s after seq %llu", key, (unsigned long long)p->log.rev.last_seq);
        break;
    case OP_FORK_EVIDENCE:
        fork_evidence_summary(&p->log, out, cap); /* fork.c */
        return;
    case OP_GROUP_KEY:
        sb_group_key(&b, p);
        break;
    case OP_INC_REPORT:
        sb_report(&b, p);
        break;
    case OP_INC_UPDATE:
        sb_update(&b, p, id);
        break;
    case OP_INC_NOTE:
        sb_add(&b, "note %s '%s'", id, p->text);
        break;
    case OP_INC_STATUS:
        sb_add(&b, "status %s %s", id, fm_stage_name(p->stage));
        if (p->epoch)
            sb_add(&b, " epoch %u", p->epoch);
        break;
    case OP_INC_MERGE: {
        char into[FM_ID_MAX];
        fm_op_id_format(p->ref2.author, p->ref2.seq, into);
        sb_add(&b, "merge %s into %s", id, into);
        if (p->text[0])
            sb_add(&b, " '%s'", p->text);
        break;
    }
    case OP_UNIT_REGISTER:
        sb_add(&b, "unit '%s' dept '%s' tier %u kind '%s'", p->name, p->department, p->tier,
               p->unit_kind);
        if (p->caps[0])
            sb_add(&b, " caps %s", p->caps);
        if (p->key[0])
            sb_add(&b, " id '%s'", p->key);
        break;
    case OP_UNIT_STATUS:
        sb_add(&b, "unit %s %s", id, unit_status_name(p->unit_status));
        break;
    case OP_UNIT_POSITION:
        sb_add(&b, "unit %s", id);
        sb_coords(&b, p->lat, p->lon);
        break;
    case OP_RES_ADD:
        sb_add(&b, "resource '%s' depot '%s' qty %lld", p->res_kind, p->depot,
               (long long)p->qty);
        break;
    case OP_RES_ADJUST:
        sb_add(&b, "resource %s %+lld", id, (long long)p->delta);
        break;
    default: /* the workflow's kinds: workflow_payload_summary (domain.c) */
        sb_add(&b, "unknown kind %u", p->log.kind);
        break;
    }
}
