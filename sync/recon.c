/*
 * recon.c — range-based reconciliation of two version vectors.
 *
 * The idea is negentropy's (Doug Hoyte's range-based set reconciliation):
 * both sides sort their items by author, a range of the author space is
 * summed up by a fingerprint of the items in it, and only ranges whose
 * fingerprints differ are split further, until they are small enough to
 * list. A difference in d authors among n costs about d x log16(n/16)
 * ranges plus d short lists, instead of the whole vector.
 *
 * An item's fingerprint is the first 16 bytes of BLAKE2b(author | seq |
 * head hash); a range's is BLAKE2b(sum of its items' fingerprints mod 2^128
 * | count), so two ranges match only when they hold the same authors at
 * the same seqs with the same head ops. The sums are kept as prefix sums,
 * so any range costs two binary searches however large it is: the work a
 * message can make us do is bounded by its ranges and items, which the
 * decoder caps (recon_int.h).
 */
#include "recon_int.h"

#include <stdlib.h>
#include <string.h>

#include "../crypto/crypto.h"

#define CHECK(expr)                                                            \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != FM_OK)                                                      \
            return rc_;                                                        \
    } while (0)

static const uint8_t zero_hash[FM_RECON_HASH_LEN];

/* ------------------------------------------------------------------ sets */

void fm_recon_set_init(struct fm_recon_set *set) { memset(set, 0, sizeof(*set)); }

void fm_recon_set_release(struct fm_recon_set *set)
{
    free(set->items);
    free(set->pre);
    fm_recon_set_init(set);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void item_fp(struct fm_recon_item *it, const uint8_t head_hash[FM_HASH_LEN])
{
    uint8_t buf[FM_PK_LEN + 8 + FM_HASH_LEN], h[FM_HASH_LEN];
    memcpy(buf, it->pk, FM_PK_LEN);
    fm_be64_put(buf + FM_PK_LEN, it->seq);
    memcpy(buf + FM_PK_LEN + 8, head_hash, FM_HASH_LEN);
    fm_hash(h, buf, sizeof(buf));
    it->fp[0] = le64(h);
    it->fp[1] = le64(h + 8);
}

int fm_recon_set_build(struct fm_recon_set *set, const struct fm_head *heads, size_t n)
{
    if (n > set->cap) {
        struct fm_recon_item *items = malloc(n * sizeof(*items));
        uint64_t(*pre)[2] = malloc((n + 1) * sizeof(*pre));
        if (!items || !pre) {
            free(items);
            free(pre);
            return FM_ENOMEM;
        }
        free(set->items);
        free(set->pre);
        set->items = items;
        set->pre = pre;
        set->cap = n;
    }
    if (!set->pre) {
        set->pre = malloc(sizeof(*set->pre));
        if (!set->pre)
            return FM_ENOMEM;
    }
    set->n = n;
    set->pre[0][0] = set->pre[0][1] = 0;
    for (size_t i = 0; i < n; i++) {
        struct fm_recon_item *it = &set->items[i];
        memcpy(it->pk, heads[i].author, FM_PK_LEN);
        it->seq = heads[i].seq;
        memcpy(it->hash, heads[i].hash, FM_RECON_HASH_LEN);
        item_fp(it, heads[i].hash);
        uint64_t lo = set->pre[i][0] + it->fp[0];
        set->pre[i + 1][0] = lo;
        set->pre[i + 1][1] = set->pre[i][1] + it->fp[1] + (lo < it->fp[0]);
    }
    return FM_OK;
}

/* Index of the first item at or above bound b (n for the end). */
static size_t set_lower(const struct fm_recon_set *set, const struct fm_recon_bound *b)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fm_recon_below(set->items[mid].pk, b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void range_fp(const struct fm_recon_set *set, size_t i, size_t j,
                     uint8_t out[FM_RECON_FP_LEN])
{
    uint64_t lo = set->pre[j][0] - set->pre[i][0];
    uint64_t hi = set->pre[j][1] - set->pre[i][1] - (set->pre[j][0] < set->pre[i][0]);
    uint8_t buf[20], h[FM_HASH_LEN];
    for (int k = 0; k < 8; k++) {
        buf[k] = (uint8_t)(lo >> (8 * k));
        buf[8 + k] = (uint8_t)(hi >> (8 * k));
    }
    fm_be32_put(buf + 16, (uint32_t)(j - i));
    fm_hash(h, buf, sizeof(buf));
    memcpy(out, h, FM_RECON_FP_LEN);
}

/* The shortest bound above items[m-1] and at or below items[m]. */
static void split_bound(const struct fm_recon_set *set, size_t m, struct fm_recon_bound *b)
{
    const uint8_t *a = set->items[m - 1].pk, *c = set->items[m].pk;
    size_t k = 0;
    while (k < FM_PK_LEN - 1 && a[k] == c[k])
        k++;
    memset(b, 0, sizeof(*b));
    b->len = (uint8_t)(k + 1);
    memcpy(b->b, c, k + 1);
}

/* ------------------------------------------------------------- answers */

static int put_list(struct fm_recon_enc *e, const struct fm_recon_set *set, size_t i, size_t j,
                    const struct fm_recon_bound *hi)
{
    uint8_t buf[FM_RECON_LIST_MAX * FM_RECON_ITEM_LEN];
    for (size_t k = i; k < j; k++)
        fm_recon_put_item(buf + (k - i) * FM_RECON_ITEM_LEN, set->items[k].pk,
                          set->items[k].seq, set->items[k].hash);
    return fm_recon_enc_range(e, hi, FM_RECON_LIST, NULL, buf, (uint16_t)(j - i));
}

/* Our items [i, j) up to hi in k FP pieces cut at item boundaries. */
static int put_split(struct fm_recon_enc *e, const struct fm_recon_set *set, size_t i, size_t j,
                     const struct fm_recon_bound *hi, size_t k)
{
    size_t count = j - i, from = i;
    uint8_t fp[FM_RECON_FP_LEN];
    if (k > count)
        k = count;
    for (size_t t = 1; t <= k; t++) {
        size_t to = t == k ? j : i + count * t / k;
        struct fm_recon_bound b = *hi;
        if (t < k)
            split_bound(set, to, &b);
        range_fp(set, from, to, fp);
        CHECK(fm_recon_enc_range(e, &b, FM_RECON_FP, fp, NULL, 0));
        from = to;
    }
    return FM_OK;
}

/* Our items [i, j): a LIST when few, else FP pieces. */
static int put_ask(struct fm_recon_enc *e, const struct fm_recon_set *set, size_t i, size_t j,
                   const struct fm_recon_bound *hi)
{
    if (j - i <= FM_RECON_LIST_AT)
        return put_list(e, set, i, j, hi);
    return put_split(e, set, i, j, hi, FM_RECON_BRANCH);
}

int fm_recon_initiate(const struct fm_recon_set *set, struct fm_buf *out)
{
    struct fm_recon_enc e;
    const struct fm_recon_bound end = {.len = FM_RECON_BOUND_END};
    CHECK(fm_recon_enc_begin(&e, out, 0));
    CHECK(put_ask(&e, set, 0, set->n, &end));
    return fm_recon_enc_finish(&e);
}

static void each_same(const struct fm_recon_set *set, size_t i, size_t j,
                      const struct fm_recon_cb *cb)
{
    for (size_t k = i; k < j; k++)
        cb->same(cb->ctx, &set->items[k]);
}

/* Their LIST of range r against our items [i, j): reports what it
 * teaches, and writes into have (if not NULL) our state of every author
 * where the two differ; returns how many. */
static uint16_t list_diff(const struct fm_recon_set *set, size_t i, size_t j,
                          const struct fm_recon_range *r, const struct fm_recon_cb *cb,
                          uint8_t *have)
{
    uint16_t n = 0, t = 0;
    while (i < j || t < r->n) {
        const uint8_t *it = t < r->n ? r->items + (size_t)t * FM_RECON_ITEM_LEN : NULL;
        const struct fm_recon_item *o = i < j ? &set->items[i] : NULL;
        int c = !it ? -1 : !o ? 1 : memcmp(o->pk, it, FM_PK_LEN);
        if (c < 0) { /* ours only: it holds none */
            cb->item(cb->ctx, o->pk, 0, zero_hash);
            if (have)
                fm_recon_put_item(have + (size_t)n * FM_RECON_ITEM_LEN, o->pk, o->seq, o->hash);
            n++, i++;
            continue;
        }
        uint64_t seq = fm_be64_get(it + FM_PK_LEN);
        const uint8_t *h = it + FM_PK_LEN + 8;
        cb->item(cb->ctx, it, seq, h);
        bool same = c == 0 && o->seq == seq && memcmp(o->hash, h, FM_RECON_HASH_LEN) == 0;
        if (!same) {
            if (have)
                fm_recon_put_item(have + (size_t)n * FM_RECON_ITEM_LEN, it, c == 0 ? o->seq : 0,
                                  c == 0 ? o->hash : zero_hash);
            n++;
        }
        t++;
        i += c == 0;
    }
    return n;
}

/* Their HAVE: what it holds where we differ; the rest of ours in the range
 * it holds as we do. */
static void take_have(const struct fm_recon_set *set, size_t i, size_t j,
                      const struct fm_recon_range *r, const struct fm_recon_cb *cb)
{
    uint16_t t = 0;
    for (; i < j; i++) {
        while (t < r->n && memcmp(r->items + (size_t)t * FM_RECON_ITEM_LEN, set->items[i].pk,
                                  FM_PK_LEN) < 0)
            t++;
        if (t < r->n &&
            memcmp(r->items + (size_t)t * FM_RECON_ITEM_LEN, set->items[i].pk, FM_PK_LEN) == 0)
            continue;
        cb->same(cb->ctx, &set->items[i]);
    }
    for (t = 0; t < r->n; t++) {
        const uint8_t *it = r->items + (size_t)t * FM_RECON_ITEM_LEN;
        cb->item(cb->ctx, it, fm_be64_get(it + FM_PK_LEN), it + FM_PK_LEN + 8);
    }
}

struct answer {
    const struct fm_recon_set *set;
    const struct fm_recon_cb *cb;
    struct fm_recon_enc e;
    bool more, full;
};

/* Whether the answer still has room for what range r needs (our items
 * [i, j) in it), keeping one range for "the rest" and one for a SKIP in
 * front. */
static bool room_for(const struct answer *a, const struct fm_recon_range *r, size_t i, size_t j)
{
    size_t ranges = 1, items = 0, count = j - i;
    if (r->mode == FM_RECON_FP) {
        ranges = count <= FM_RECON_LIST_AT ? 1 : FM_RECON_BRANCH;
        items = count <= FM_RECON_LIST_AT ? count : 0;
    } else if (r->mode == FM_RECON_LIST) {
        ranges = count <= FM_RECON_HAVE_AT ? 1 : FM_RECON_BRANCH;
        items = count <= FM_RECON_HAVE_AT ? count + r->n : 0;
    }
    return a->e.nranges + ranges + 2 <= FM_RECON_RANGES_MAX &&
           a->e.nitems + items <= FM_RECON_ITEMS_MAX;
}

static int answer_range(struct answer *a, const struct fm_recon_range *r)
{
    const struct fm_recon_set *set = a->set;
    size_t i = set_lower(set, &r->lo), j = set_lower(set, &r->hi);
    uint8_t fp[FM_RECON_FP_LEN];
    switch (r->mode) {
    case FM_RECON_MATCH:
        each_same(set, i, j, a->cb);
        return a->full ? FM_OK : fm_recon_enc_range(&a->e, &r->hi, FM_RECON_SKIP, NULL, NULL, 0);
    case FM_RECON_HAVE:
        take_have(set, i, j, r, a->cb);
        return a->full ? FM_OK : fm_recon_enc_range(&a->e, &r->hi, FM_RECON_SKIP, NULL, NULL, 0);
    case FM_RECON_SKIP:
        return a->full ? FM_OK : fm_recon_enc_range(&a->e, &r->hi, FM_RECON_SKIP, NULL, NULL, 0);
    case FM_RECON_FP:
        range_fp(set, i, j, fp);
        if (memcmp(fp, r->fp, FM_RECON_FP_LEN) == 0) {
            each_same(set, i, j, a->cb);
            return a->full ? FM_OK : fm_recon_enc_range(&a->e, &r->hi, FM_RECON_MATCH, NULL, NULL, 0);
        }
        if (a->full)
            return FM_OK;
        a->more = true;
        return put_ask(&a->e, set, i, j, &r->hi);
    case FM_RECON_LIST: {
        if (a->full || j - i > FM_RECON_HAVE_AT) {
            (void)list_diff(set, i, j, r, a->cb, NULL);
            if (a->full)
                return FM_OK;
            a->more = true;
            return put_split(&a->e, set, i, j, &r->hi, FM_RECON_BRANCH);
        }
        uint8_t have[FM_RECON_HAVE_MAX * FM_RECON_ITEM_LEN];
        uint16_t n = list_diff(set, i, j, r, a->cb, have);
        return fm_recon_enc_range(&a->e, &r->hi, n ? FM_RECON_HAVE : FM_RECON_MATCH, NULL,
                                  n ? have : NULL, n);
    }
    default: return FM_EINVAL;
    }
}

int fm_recon_respond(const struct fm_recon_set *set, const struct fm_wire_recon *in,
                     const struct fm_recon_cb *cb, struct fm_buf *out, bool *send, bool *more)
{
    struct answer a = {.set = set, .cb = cb};
    struct fm_recon_range r;
    size_t pos = 0;
    bool asked = false;
    *send = *more = false;
    CHECK(fm_recon_enc_begin(&a.e, out, (uint8_t)(in->depth + 1)));
    while (fm_recon_next(in, &pos, &r)) {
        asked |= r.mode == FM_RECON_FP || r.mode == FM_RECON_LIST;
        size_t i = set_lower(set, &r.lo), j = set_lower(set, &r.hi);
        if (!a.full && !room_for(&a, &r, i, j)) {
            /* no room left: the rest of the space as one fingerprint, which
             * the peer splits in its turn (what it taught us still counts) */
            const struct fm_recon_bound end = {.len = FM_RECON_BOUND_END};
            uint8_t fp[FM_RECON_FP_LEN];
            range_fp(set, i, set->n, fp);
            CHECK(fm_recon_enc_range(&a.e, &end, FM_RECON_FP, fp, NULL, 0));
            a.full = a.more = true;
        }
        CHECK(answer_range(&a, &r));
    }
    CHECK(fm_recon_enc_finish(&a.e));
    if (!asked)
        return FM_OK; /* nothing was asked: the exchange is over */
    if (in->depth >= FM_RECON_DEPTH_MAX)
        return FM_ETOOBIG; /* an answer would be over the depth bound */
    *send = true;
    *more = a.more;
    return FM_OK;
}
