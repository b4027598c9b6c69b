/*
 * recon_wire.c — the RECON message: encoding and strict decoding.
 *
 * Body after `u8 version (=2) | u8 type (=8)`:
 *   u8 flags (0) | u8 depth | u16 nranges | nranges x range
 *   range = bound | u8 mode | body
 *   bound = u8 len (0..32: that many key bytes follow, zero-padded; 0xff:
 *           the end of the space, nothing follows)
 *   body  = SKIP, MATCH: nothing; FP: fp[16];
 *           LIST: u16 n (0..32) | n x item, seq >= 1;
 *           HAVE: u16 n (1..128) | n x item, seq 0 with a zero hash = none
 *   item  = author[32] | u64 seq | hash8
 * Bounds strictly increase; items strictly increase and lie in their
 * range. Like wire.c, the decoder checks every count against its named
 * maximum before trusting it and never allocates.
 */
#include "recon_int.h"

#include <string.h>

#define CHECK(expr)                                                            \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != FM_OK)                                                      \
            return rc_;                                                        \
    } while (0)

static const uint8_t zero_key[FM_PK_LEN];

int fm_recon_bound_cmp(const struct fm_recon_bound *a, const struct fm_recon_bound *b)
{
    bool ae = a->len == FM_RECON_BOUND_END, be = b->len == FM_RECON_BOUND_END;
    if (ae || be)
        return (int)ae - (int)be;
    uint8_t pa[FM_PK_LEN] = {0}, pb[FM_PK_LEN] = {0};
    memcpy(pa, a->b, a->len);
    memcpy(pb, b->b, b->len);
    return memcmp(pa, pb, FM_PK_LEN);
}

bool fm_recon_below(const uint8_t pk[FM_PK_LEN], const struct fm_recon_bound *b)
{
    if (b->len == FM_RECON_BOUND_END)
        return true;
    int c = memcmp(pk, b->b, b->len);
    if (c != 0)
        return c < 0;
    return false; /* pk starts with the prefix: pk >= prefix padded with zeros */
}

void fm_recon_put_item(uint8_t *dst, const uint8_t pk[FM_PK_LEN], uint64_t seq,
                       const uint8_t hash[FM_RECON_HASH_LEN])
{
    memcpy(dst, pk, FM_PK_LEN);
    fm_be64_put(dst + FM_PK_LEN, seq);
    memcpy(dst + FM_PK_LEN + 8, hash, FM_RECON_HASH_LEN);
}

/* ---------------------------------------------------------------- decode */

static int decode_bound(struct fm_cur *c, struct fm_recon_bound *b)
{
    CHECK(fm_cur_u8(c, &b->len));
    if (b->len == FM_RECON_BOUND_END)
        return FM_OK;
    if (b->len > FM_PK_LEN)
        return FM_EDECODE;
    memset(b->b, 0, sizeof(b->b));
    return fm_cur_copy(c, b->b, b->len);
}

/* n items, strictly increasing, in [lo, hi); LIST items have seq >= 1,
 * HAVE items with seq 0 a zero hash. */
static int decode_items(struct fm_cur *c, const struct fm_recon_range *r, uint16_t n,
                        const uint8_t **items)
{
    if (fm_cur_left(c) / FM_RECON_ITEM_LEN < n)
        return FM_EDECODE;
    CHECK(fm_cur_bytes(c, (size_t)n * FM_RECON_ITEM_LEN, items));
    for (uint16_t i = 0; i < n; i++) {
        const uint8_t *it = *items + (size_t)i * FM_RECON_ITEM_LEN;
        uint64_t seq = fm_be64_get(it + FM_PK_LEN);
        if (seq == 0 && (r->mode == FM_RECON_LIST ||
                         memcmp(it + FM_PK_LEN + 8, zero_key, FM_RECON_HASH_LEN) != 0))
            return FM_EDECODE;
        if (i > 0 && memcmp(it - FM_RECON_ITEM_LEN, it, FM_PK_LEN) >= 0)
            return FM_EDECODE;
        if (!fm_recon_below(it, &r->hi))
            return FM_EDECODE;
        if (i == 0 && r->lo.len != 0 && fm_recon_below(it, &r->lo))
            return FM_EDECODE;
    }
    return FM_OK;
}

/* One range after r->lo (set by the caller); *nitems counts items. */
static int decode_range(struct fm_cur *c, struct fm_recon_range *r, uint32_t *nitems)
{
    CHECK(decode_bound(c, &r->hi));
    if (fm_recon_bound_cmp(&r->hi, &r->lo) <= 0)
        return FM_EDECODE;
    CHECK(fm_cur_u8(c, &r->mode));
    r->fp = NULL;
    r->items = NULL;
    r->n = 0;
    switch (r->mode) {
    case FM_RECON_SKIP:
    case FM_RECON_MATCH: return FM_OK;
    case FM_RECON_FP: return fm_cur_bytes(c, FM_RECON_FP_LEN, &r->fp);
    case FM_RECON_LIST:
    case FM_RECON_HAVE:
        CHECK(fm_cur_u16(c, &r->n));
        if (r->mode == FM_RECON_HAVE && r->n == 0)
            return FM_EDECODE;
        if (r->n > (r->mode == FM_RECON_LIST ? FM_RECON_LIST_MAX : FM_RECON_HAVE_MAX))
            return FM_ETOOBIG;
        *nitems += r->n;
        if (*nitems > FM_RECON_ITEMS_MAX)
            return FM_ETOOBIG;
        return decode_items(c, r, r->n, &r->items);
    default: return FM_EDECODE;
    }
}

int fm_recon_decode(struct fm_wire_recon *m, struct fm_cur *c)
{
    CHECK(fm_cur_u8(c, &m->flags));
    if (m->flags)
        return FM_EDECODE;
    CHECK(fm_cur_u8(c, &m->depth));
    if (m->depth > FM_RECON_DEPTH_MAX)
        return FM_ETOOBIG;
    CHECK(fm_cur_u16(c, &m->nranges));
    if (m->nranges > FM_RECON_RANGES_MAX)
        return FM_ETOOBIG;
    m->data = c->pos;
    struct fm_recon_range r = {.lo = {.len = 0}};
    uint32_t nitems = 0;
    for (uint16_t i = 0; i < m->nranges; i++) {
        uint8_t prev = r.mode;
        if (i > 0)
            r.lo = r.hi;
        CHECK(decode_range(c, &r, &nitems));
        /* one encoding per message: adjacent SKIPs or MATCHes would be
         * one range, and a trailing SKIP is left out */
        if (i > 0 && prev == r.mode && (r.mode == FM_RECON_SKIP || r.mode == FM_RECON_MATCH))
            return FM_EDECODE;
        if (i + 1 == m->nranges && r.mode == FM_RECON_SKIP)
            return FM_EDECODE;
    }
    m->data_len = (size_t)(c->pos - m->data);
    return fm_cur_left(c) == 0 ? FM_OK : FM_EDECODE;
}

bool fm_recon_next(const struct fm_wire_recon *m, size_t *pos, struct fm_recon_range *r)
{
    if (*pos >= m->data_len)
        return false;
    struct fm_cur c;
    fm_cur_init(&c, m->data + *pos, m->data_len - *pos);
    if (*pos == 0)
        memset(&r->lo, 0, sizeof(r->lo));
    else
        r->lo = r->hi;
    uint32_t nitems = 0;
    if (decode_range(&c, r, &nitems) != FM_OK)
        return false; /* cannot happen on a validated message */
    *pos = (size_t)(c.pos - m->data);
    return true;
}

/* ---------------------------------------------------------------- encode */

int fm_recon_enc_begin(struct fm_recon_enc *e, struct fm_buf *out, uint8_t depth)
{
    memset(e, 0, sizeof(*e));
    e->out = out;
    fm_buf_reset(out);
    CHECK(fm_buf_put_u8(out, FM_RECON_WIRE_VERSION));
    CHECK(fm_buf_put_u8(out, FM_MSG_RECON));
    CHECK(fm_buf_put_u8(out, 0));
    CHECK(fm_buf_put_u8(out, depth));
    e->count_at = out->len;
    return fm_buf_put_u16(out, 0);
}

static int put_bound(struct fm_buf *out, const struct fm_recon_bound *b)
{
    CHECK(fm_buf_put_u8(out, b->len));
    return b->len == FM_RECON_BOUND_END ? FM_OK : fm_buf_append(out, b->b, b->len);
}

static int put_range(struct fm_recon_enc *e, const struct fm_recon_bound *hi, uint8_t mode,
                     const uint8_t *fp, const uint8_t *items, uint16_t n)
{
    if (e->nranges >= FM_RECON_RANGES_MAX)
        return FM_ETOOBIG;
    e->last_at = e->out->len;
    CHECK(put_bound(e->out, hi));
    CHECK(fm_buf_put_u8(e->out, mode));
    if (mode == FM_RECON_FP)
        CHECK(fm_buf_append(e->out, fp, FM_RECON_FP_LEN));
    if (mode == FM_RECON_LIST || mode == FM_RECON_HAVE) {
        CHECK(fm_buf_put_u16(e->out, n));
        if (n)
            CHECK(fm_buf_append(e->out, items, (size_t)n * FM_RECON_ITEM_LEN));
    }
    e->nranges++;
    e->at = *hi;
    e->skip_to = *hi;
    e->last_match = mode == FM_RECON_MATCH;
    return FM_OK;
}

int fm_recon_enc_range(struct fm_recon_enc *e, const struct fm_recon_bound *hi, uint8_t mode,
                       const uint8_t *fp, const uint8_t *items, uint16_t n)
{
    if (fm_recon_bound_cmp(hi, &e->skip_to) <= 0)
        return FM_EINVAL;
    if (mode == FM_RECON_LIST ? n > FM_RECON_LIST_MAX
                              : mode == FM_RECON_HAVE ? n == 0 || n > FM_RECON_HAVE_MAX : n != 0)
        return FM_EINVAL;
    if (e->nitems + n > FM_RECON_ITEMS_MAX)
        return FM_ETOOBIG;
    if (mode == FM_RECON_SKIP) {
        e->skip_to = *hi;
        return FM_OK;
    }
    bool skipping = fm_recon_bound_cmp(&e->skip_to, &e->at) != 0;
    if (skipping) {
        struct fm_recon_bound to = e->skip_to;
        CHECK(put_range(e, &to, FM_RECON_SKIP, NULL, NULL, 0));
    } else if (mode == FM_RECON_MATCH && e->last_match) {
        e->out->len = e->last_at; /* widen the MATCH just written */
        e->nranges--;
    }
    e->nitems += n;
    return put_range(e, hi, mode, fp, items, n);
}

int fm_recon_enc_finish(struct fm_recon_enc *e)
{
    e->out->data[e->count_at] = (uint8_t)(e->nranges >> 8);
    e->out->data[e->count_at + 1] = (uint8_t)e->nranges;
    return FM_OK;
}

int fm_recon_encode_copy(struct fm_buf *out, const struct fm_wire_recon *m)
{
    struct fm_recon_enc e;
    struct fm_recon_range r;
    size_t pos = 0;
    CHECK(fm_recon_enc_begin(&e, out, m->depth));
    while (fm_recon_next(m, &pos, &r))
        CHECK(fm_recon_enc_range(&e, &r.hi, r.mode, r.fp, r.items, r.n));
    return fm_recon_enc_finish(&e);
}
