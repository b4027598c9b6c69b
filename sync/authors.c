/*
 * authors.c — the engine's table of authors and its view of our own store.
 *
 * Every author the engine has heard of gets a stable small index, so that
 * per-neighbour beliefs ("it holds author i up to seq k") are flat arrays
 * instead of maps. The table is filled from the store's heads and from
 * peers' vectors and announcements, and capped (SYNC_MAX_AUTHORS) because
 * peers can claim authors we have never seen.
 *
 * sync_heads_refresh() re-reads the store's version vector, notes which
 * heads moved (the gossip layer pushes those), and recomputes the digest
 * sent in SUMMARY messages: BLAKE2b over the sorted (author, seq, hash)
 * triples, plus the author count and the sum of seqs.
 *
 * The ZAP handler asks sync_admit_curve() whether a client's Curve key
 * belongs to a configured peer or to an author the store admits; Curve keys
 * of authors are derived once and cached here.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

static uint32_t pk_hash(const uint8_t pk[FM_PK_LEN])
{
    /* keys are uniformly random: their first bytes are a fine hash */
    return (uint32_t)pk[0] | (uint32_t)pk[1] << 8 | (uint32_t)pk[2] << 16 |
           (uint32_t)pk[3] << 24;
}

int sync_authors_init(struct fm_sync *s)
{
    s->acap = 64;
    s->authors = calloc(s->acap, sizeof(*s->authors));
    s->index_cap = 256;
    s->index = malloc(s->index_cap * sizeof(*s->index));
    s->fresh = malloc(s->acap * sizeof(*s->fresh));
    s->changed = malloc(s->acap * sizeof(*s->changed));
    if (!s->authors || !s->index || !s->fresh || !s->changed)
        return FM_ENOMEM;
    memset(s->index, 0xff, s->index_cap * sizeof(*s->index));
    return FM_OK;
}

void sync_authors_release(struct fm_sync *s)
{
    free(s->authors);
    free(s->index);
    free(s->fresh);
    free(s->changed);
    free(s->heads);
    free(s->head_idx);
    s->authors = NULL;
    s->index = NULL;
    s->fresh = s->changed = NULL;
    s->heads = NULL;
    s->head_idx = NULL;
}

static void index_insert(uint32_t *index, size_t cap, const struct sync_author *authors,
                         uint32_t i)
{
    size_t mask = cap - 1, h = pk_hash(authors[i].pk) & mask;
    while (index[h] != UINT32_MAX)
        h = (h + 1) & mask;
    index[h] = i;
}

static int grow(struct fm_sync *s)
{
    size_t ncap = s->acap * 2, icap = s->index_cap * 2;
    struct sync_author *a = realloc(s->authors, ncap * sizeof(*a));
    if (!a)
        return FM_ENOMEM;
    s->authors = a;
    memset(a + s->acap, 0, (ncap - s->acap) * sizeof(*a));
    uint32_t *f = realloc(s->fresh, ncap * sizeof(*f));
    if (!f)
        return FM_ENOMEM;
    s->fresh = f;
    uint32_t *c = realloc(s->changed, ncap * sizeof(*c));
    if (!c)
        return FM_ENOMEM;
    s->changed = c;
    uint32_t *idx = malloc(icap * sizeof(*idx));
    if (!idx)
        return FM_ENOMEM;
    memset(idx, 0xff, icap * sizeof(*idx));
    for (uint32_t i = 0; i < s->nauthors; i++)
        index_insert(idx, icap, s->authors, i);
    free(s->index);
    s->index = idx;
    s->index_cap = icap;
    s->acap = ncap;
    return FM_OK;
}

int32_t sync_author_get(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], bool add)
{
    size_t mask = s->index_cap - 1, h = pk_hash(pk) & mask;
    while (s->index[h] != UINT32_MAX) {
        if (memcmp(s->authors[s->index[h]].pk, pk, FM_PK_LEN) == 0)
            return (int32_t)s->index[h];
        h = (h + 1) & mask;
    }
    if (!add || s->nauthors >= SYNC_MAX_AUTHORS)
        return -1;
    if (s->nauthors == s->acap && grow(s) != FM_OK)
        return -1;
    uint32_t i = (uint32_t)s->nauthors++;
    struct sync_author *a = &s->authors[i];
    memset(a, 0, sizeof(*a));
    memcpy(a->pk, pk, FM_PK_LEN);
    a->limit = UINT64_MAX;
    a->want_from = -1;
    a->pull_nb = -1;
    a->lazy_from = -1;
    index_insert(s->index, s->index_cap, s->authors, i);
    return (int32_t)i;
}

int32_t sync_author_by_prefix(const struct fm_sync *s, const uint8_t *prefix, size_t len)
{
    /* keys sharing their first 4 bytes share a probe chain */
    if (len < 4 || len > FM_PK_LEN)
        return -1;
    size_t mask = s->index_cap - 1, h = pk_hash(prefix) & mask;
    int32_t found = -1;
    while (s->index[h] != UINT32_MAX) {
        const struct sync_author *a = &s->authors[s->index[h]];
        if (a->in_store && memcmp(a->pk, prefix, len) == 0) {
            if (found >= 0)
                return -1; /* two: neither */
            found = (int32_t)s->index[h];
        }
        h = (h + 1) & mask;
    }
    return found;
}

static void mark_moved(struct fm_sync *s, uint32_t i)
{
    struct sync_author *a = &s->authors[i];
    if (!a->fresh) {
        a->fresh = true;
        s->fresh[s->nfresh++] = i;
    }
    if (!a->changed) {
        a->changed = true;
        s->changed[s->nchanged++] = i;
    }
}

int sync_heads_refresh(struct fm_sync *s)
{
    struct fm_head *h = NULL;
    size_t n = 0;
    uint32_t *idx = NULL;
    bool moved = false;
    int rc = s->store.heads(s->store.ctx, &h, &n);
    if (rc != FM_OK)
        return rc;
    if (n > SYNC_MAX_AUTHORS)
        n = SYNC_MAX_AUTHORS; /* beyond the cap we cannot track; vv stays comparable */
    idx = malloc((n ? n : 1) * sizeof(*idx));
    if (!idx) {
        free(h);
        return FM_ENOMEM;
    }
    if (n != s->nheads)
        moved = true;
    for (size_t k = 0; k < n; k++) {
        int32_t i = sync_author_get(s, h[k].author, true);
        if (i < 0) {
            free(idx);
            free(h);
            return FM_ENOMEM;
        }
        struct sync_author *a = &s->authors[i];
        idx[k] = (uint32_t)i;
        a->in_store = true;
        a->limit = h[k].limit;
        if (a->head != h[k].seq || memcmp(a->hash, h[k].hash, FM_HASH_LEN) != 0) {
            bool up = h[k].seq > a->head;
            a->head = h[k].seq;
            memcpy(a->hash, h[k].hash, FM_HASH_LEN);
            moved = true;
            if (up)
                mark_moved(s, (uint32_t)i);
        }
    }
    free(s->heads);
    free(s->head_idx);
    s->heads = h;
    s->nheads = n;
    s->head_idx = idx;
    if (moved) {
        struct fm_hasher *hs = fm_hasher_new();
        uint8_t rec[FM_PK_LEN + 8 + FM_HASH_LEN];
        if (!hs)
            return FM_ENOMEM;
        s->vv_total = 0;
        for (size_t k = 0; k < n; k++) {
            memcpy(rec, h[k].author, FM_PK_LEN);
            fm_be64_put(rec + FM_PK_LEN, h[k].seq);
            memcpy(rec + FM_PK_LEN + 8, h[k].hash, FM_HASH_LEN);
            fm_hasher_update(hs, rec, sizeof(rec));
            s->vv_total += h[k].seq;
        }
        fm_hasher_final(hs, s->vv_hash);
        fm_hasher_destroy(&hs);
    }
    return FM_OK;
}

/* A configured peer is admitted unless the store knows it is revoked or
 * its certificate is bad; any other author only if the store admits it. */
int sync_admit_curve(struct fm_sync *s, const uint8_t curve[FM_CURVE_LEN],
                     uint8_t pk_out[FM_PK_LEN], const char **name)
{
    *name = NULL;
    for (size_t i = 0; i < s->nnb; i++) {
        struct sync_nb *nb = s->nbs[i];
        if (!nb || !nb->configured || memcmp(nb->curve, curve, FM_CURVE_LEN) != 0)
            continue;
        memcpy(pk_out, nb->pk, FM_PK_LEN);
        *name = nb->name;
        if (s->store.admit) {
            int rc = s->store.admit(s->store.ctx, nb->pk);
            if (rc != FM_OK && rc != FM_ENOTFOUND)
                return rc;
        }
        return FM_OK;
    }
    if (!s->store.admit)
        return FM_ENOTFOUND;
    for (size_t i = 0; i < s->nauthors; i++) {
        struct sync_author *a = &s->authors[i];
        if (!a->in_store)
            continue;
        if (!a->has_curve) {
            if (fm_curve_from_pk(a->pk, a->curve) != FM_OK)
                continue;
            a->has_curve = true;
        }
        if (memcmp(a->curve, curve, FM_CURVE_LEN) != 0)
            continue;
        memcpy(pk_out, a->pk, FM_PK_LEN);
        int rc = s->store.admit(s->store.ctx, a->pk);
        return rc == FM_ENOTFOUND ? FM_ECERT : rc; /* held, yet not admitted */
    }
    /* no log of it here: a certificate announced for it (announce.c) */
    if (s->store.admit_curve)
        return s->store.admit_curve(s->store.ctx, curve, pk_out);
    return FM_ENOTFOUND;
}

void sync_hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t k = 0;
    for (size_t i = 0; i < n && k + 2 < cap; i++) {
        out[k++] = digits[p[i] >> 4];
        out[k++] = digits[p[i] & 15];
    }
    if (cap)
        out[k] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int sync_unhex(const char *hex, uint8_t *out, size_t n)
{
    if (strnlen(hex, 2 * n + 1) != 2 * n)
        return FM_EDECODE;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return FM_EDECODE;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return FM_OK;
}
