/*
 * memstore.h — an in-memory struct fm_sync_store for sync tests.
 *
 * Keeps each author's contiguous log 1..k in memory and ingests the way
 * the real store does: ops grouped per author and sorted by seq, dups of
 * stored ops ignored, a different op at a stored seq refused as a fork,
 * every prev link checked and the signature of each contiguous run's last
 * op verified before the run is stored; a run with a gap in front is
 * refused (FM_EGAP). With settle_forks set, a different op at a stored
 * seq with the same prev (a fork's root) and a smaller (hlc, hash) wins
 * as in the real store: the log is cut before it (roots counts them), so
 * sync pulls the winning branch; one with another prev settles nothing.
 * "Certificates" are simulated by an enrolled-key list:
 * an author not on it is refused with FM_ECERT, and admit() admits
 * exactly the enrolled authors this store holds ops of.
 */
#ifndef FM_TEST_MEMSTORE_H
#define FM_TEST_MEMSTORE_H

#include "sync/sync.h"

#include <stdlib.h>
#include <string.h>

#define MS_MAX_AUTHORS 128
#define MS_MAX_ENROLLED 128

struct ms_log {
    uint8_t pk[FM_PK_LEN];
    uint64_t n, cap;
    uint8_t **ops;
    size_t *lens;
    uint8_t head[FM_HASH_LEN];
};

struct memstore {
    struct ms_log logs[MS_MAX_AUTHORS];
    size_t nlogs;
    uint8_t enrolled[MS_MAX_ENROLLED][FM_PK_LEN];
    size_t nenrolled;
    uint64_t stored, rejected;
    bool settle_forks;
    uint64_t roots, root_seq; /* roots settled, the seq of the last */
    int fail_rc;              /* != 0: every ingest fails with it, storing nothing
                               * (a full disk); ingest_calls counts the tries */
    uint64_t ingest_calls;
    uint64_t hashes_given, hashes_wrong; /* ops handed with their hash; of them, wrong ones */
};

static inline void ms_enroll(struct memstore *m, const uint8_t pk[FM_PK_LEN])
{
    if (m->nenrolled < MS_MAX_ENROLLED)
        memcpy(m->enrolled[m->nenrolled++], pk, FM_PK_LEN);
}

static inline bool ms_is_enrolled(const struct memstore *m, const uint8_t *pk)
{
    for (size_t i = 0; i < m->nenrolled; i++)
        if (memcmp(m->enrolled[i], pk, FM_PK_LEN) == 0)
            return true;
    return false;
}

static inline struct ms_log *ms_log_find(struct memstore *m, const uint8_t *pk, bool add)
{
    for (size_t i = 0; i < m->nlogs; i++)
        if (memcmp(m->logs[i].pk, pk, FM_PK_LEN) == 0)
            return &m->logs[i];
    if (!add || m->nlogs == MS_MAX_AUTHORS)
        return NULL;
    struct ms_log *l = &m->logs[m->nlogs++];
    memset(l, 0, sizeof(*l));
    memcpy(l->pk, pk, FM_PK_LEN);
    return l;
}

static inline int ms_append(struct ms_log *l, const uint8_t *op, size_t len)
{
    if (l->n == l->cap) {
        uint64_t cap = l->cap ? l->cap * 2 : 64;
        uint8_t **o = realloc(l->ops, cap * sizeof(*o));
        if (!o)
            return FM_ENOMEM;
        l->ops = o;
        size_t *ls = realloc(l->lens, cap * sizeof(*ls));
        if (!ls)
            return FM_ENOMEM;
        l->lens = ls;
        l->cap = cap;
    }
    l->ops[l->n] = malloc(len);
    if (!l->ops[l->n])
        return FM_ENOMEM;
    memcpy(l->ops[l->n], op, len);
    l->lens[l->n] = len;
    l->n++;
    fm_hash(l->head, op, len);
    return FM_OK;
}

static inline void ms_free(struct memstore *m)
{
    for (size_t i = 0; i < m->nlogs; i++) {
        for (uint64_t k = 0; k < m->logs[i].n; k++)
            free(m->logs[i].ops[k]);
        free(m->logs[i].ops);
        free(m->logs[i].lens);
    }
    memset(m, 0, sizeof(*m));
}

/* Authors a new op in id's log (a local write). */
static inline int ms_write(struct memstore *m, const struct fm_identity *id, size_t payload_len)
{
    struct ms_log *l = ms_log_find(m, id->pk, true);
    struct fm_buf b;
    uint8_t payload[512];
    uint8_t zero[FM_HASH_LEN] = {0};
    int rc;
    if (!l || payload_len > sizeof(payload))
        return FM_EINVAL;
    for (size_t i = 0; i < payload_len; i++)
        payload[i] = (uint8_t)(l->n + i);
    fm_buf_init(&b, FM_OP_MAX_LEN);
    rc = fm_op_build(&b, id, 7, l->n + 1, l->n ? l->head : zero, (fm_now_ms() << 16) + l->n,
                     payload, (uint32_t)payload_len);
    if (rc == FM_OK)
        rc = ms_append(l, b.data, b.len);
    fm_buf_release(&b);
    return rc;
}

static int ms_head_cmp(const void *a, const void *b)
{
    return memcmp(((const struct fm_head *)a)->author, ((const struct fm_head *)b)->author,
                  FM_PK_LEN);
}

static inline int ms_heads(void *ctx, struct fm_head **out, size_t *count)
{
    struct memstore *m = ctx;
    size_t n = 0;
    *out = calloc(m->nlogs ? m->nlogs : 1, sizeof(**out));
    if (!*out)
        return FM_ENOMEM;
    for (size_t i = 0; i < m->nlogs; i++) {
        if (m->logs[i].n == 0)
            continue;
        memcpy((*out)[n].author, m->logs[i].pk, FM_PK_LEN);
        (*out)[n].seq = m->logs[i].n;
        memcpy((*out)[n].hash, m->logs[i].head, FM_HASH_LEN);
        (*out)[n].limit = UINT64_MAX;
        n++;
    }
    qsort(*out, n, sizeof(**out), ms_head_cmp);
    *count = n;
    return FM_OK;
}

static inline int ms_read_ops(void *ctx, const uint8_t author[FM_PK_LEN], uint64_t from_seq,
                              size_t max_ops, size_t max_bytes, struct fm_buf *out,
                              size_t *count)
{
    struct ms_log *l = ms_log_find(ctx, author, false);
    *count = 0;
    if (!l || from_seq == 0)
        return FM_OK;
    for (uint64_t s = from_seq; s <= l->n && *count < max_ops && out->len < max_bytes; s++) {
        int rc = fm_buf_put_u32(out, (uint32_t)l->lens[s - 1]);
        if (rc == FM_OK)
            rc = fm_buf_append(out, l->ops[s - 1], l->lens[s - 1]);
        if (rc != FM_OK)
            return rc;
        (*count)++;
    }
    return FM_OK;
}

struct ms_item {
    struct fm_op op;
};

static int ms_item_cmp(const void *a, const void *b)
{
    const struct fm_op *x = &((const struct ms_item *)a)->op, *y = &((const struct ms_item *)b)->op;
    int c = memcmp(x->author, y->author, FM_PK_LEN);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A fork's root: op x (not ours) at seq <= l->n, with our op's prev. If x
 * wins, cuts the log before it; true if cut. */
static inline bool ms_settle(struct memstore *m, struct ms_log *l, const struct fm_op *x)
{
    struct fm_op ours;
    uint8_t ho[FM_HASH_LEN], hx[FM_HASH_LEN];
    if (!m->settle_forks ||
        fm_op_decode(&ours, l->ops[x->seq - 1], l->lens[x->seq - 1]) != FM_OK ||
        memcmp(ours.prev, x->prev, FM_HASH_LEN) != 0 || !fm_op_verify(x))
        return false;
    fm_op_hash(&ours, ho);
    fm_op_hash(x, hx);
    if (ours.hlc < x->hlc || (ours.hlc == x->hlc && memcmp(ho, hx, FM_HASH_LEN) < 0))
        return false;
    for (uint64_t q = x->seq; q <= l->n; q++)
        free(l->ops[q - 1]);
    l->n = x->seq - 1;
    if (l->n)
        memcpy(l->head, x->prev, FM_HASH_LEN);
    else
        memset(l->head, 0, FM_HASH_LEN);
    m->roots++;
    m->root_seq = x->seq;
    return true;
}

static inline void ms_refuse(struct fm_ingest_result *res, int err, uint64_t seq, size_t n)
{
    if (res->rejected == 0) {
        res->err = err;
        res->err_seq = seq;
    }
    res->rejected += n;
}

static inline int ms_ingest(void *ctx, const uint8_t *const *ops, const size_t *lens,
                            const uint8_t *const *hashes, size_t nops,
                            struct fm_ingest_result *res)
{
    struct memstore *m = ctx;
    memset(res, 0, sizeof(*res));
    m->ingest_calls++;
    /* a hash handed with an op must be that op's (sync.h): count and check */
    for (size_t i = 0; hashes != NULL && i < nops; i++) {
        uint8_t h[FM_HASH_LEN];
        if (hashes[i] == NULL)
            continue;
        m->hashes_given++;
        fm_hash(h, ops[i], lens[i]);
        if (memcmp(h, hashes[i], FM_HASH_LEN) != 0)
            m->hashes_wrong++;
    }
    if (m->fail_rc != 0)
        return m->fail_rc;
    struct ms_item *it = calloc(nops ? nops : 1, sizeof(*it));
    size_t n = 0;
    if (!it)
        return FM_ENOMEM;
    for (size_t i = 0; i < nops; i++) {
        if (fm_op_decode(&it[n].op, ops[i], lens[i]) != FM_OK)
            ms_refuse(res, FM_EDECODE, 0, 1);
        else
            n++;
    }
    qsort(it, n, sizeof(*it), ms_item_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && memcmp(it[j].op.author, it[i].op.author, FM_PK_LEN) == 0)
            j++;
        /* ops i..j-1 are one author's, sorted by seq */
        const uint8_t *author = it[i].op.author;
        struct ms_log *l = ms_log_find(m, author, false);
        uint64_t head = l ? l->n : 0;
        size_t k = i;
        if (!ms_is_enrolled(m, author)) {
            ms_refuse(res, FM_ECERT, it[i].op.seq, j - i);
            i = j;
            continue;
        }
        for (; k < j && it[k].op.seq <= head; k++) {
            if (k > i && it[k].op.seq == it[k - 1].op.seq)
                continue;
            if (l->lens[it[k].op.seq - 1] == it[k].op.raw_len &&
                memcmp(l->ops[it[k].op.seq - 1], it[k].op.raw, it[k].op.raw_len) == 0) {
                res->duplicates++;
            } else if (ms_settle(m, l, &it[k].op)) {
                ms_refuse(res, FM_EFORK, it[k].op.seq, j - k); /* pulled again */
                k = j;
                break;
            } else {
                ms_refuse(res, FM_EFORK, it[k].op.seq, 1);
            }
        }
        if (k < j) {
            /* the run head+1 .. : contiguous, chained, last signature good */
            uint8_t prev[FM_HASH_LEN] = {0};
            size_t e = k;
            int err = FM_OK;
            if (l)
                memcpy(prev, l->head, FM_HASH_LEN);
            if (it[k].op.seq != head + 1)
                err = FM_EGAP;
            for (; err == FM_OK && e < j; e++) {
                if (e > k && it[e].op.seq == it[e - 1].op.seq)
                    break; /* two different ops at one seq inside the batch */
                if (e > k && it[e].op.seq != it[e - 1].op.seq + 1)
                    break;
                if (memcmp(it[e].op.prev, prev, FM_HASH_LEN) != 0)
                    err = FM_ECHAIN;
                fm_op_hash(&it[e].op, prev);
            }
            if (err == FM_OK && !fm_op_verify(&it[e - 1].op))
                err = FM_EVERIFY;
            if (err != FM_OK) {
                ms_refuse(res, err, it[k].op.seq, j - k);
            } else {
                if (!l)
                    l = ms_log_find(m, author, true);
                for (size_t q = k; q < e && l; q++) {
                    if (ms_append(l, it[q].op.raw, it[q].op.raw_len) != FM_OK) {
                        free(it);
                        return FM_ENOMEM;
                    }
                    res->stored++;
                }
                if (e < j)
                    ms_refuse(res, FM_EGAP, it[e].op.seq, j - e);
            }
        }
        i = j;
    }
    m->stored += res->stored;
    m->rejected += res->rejected;
    free(it);
    return FM_OK;
}

static inline int ms_admit(void *ctx, const uint8_t pk[FM_PK_LEN])
{
    struct memstore *m = ctx;
    if (!ms_is_enrolled(m, pk))
        return FM_ECERT;
    return ms_log_find(m, pk, false) ? FM_OK : FM_ENOTFOUND;
}

static inline struct fm_sync_store ms_store(struct memstore *m)
{
    struct fm_sync_store s = {.ctx = m, .heads = ms_heads, .read_ops = ms_read_ops,
                              .ingest = ms_ingest, .admit = ms_admit};
    return s;
}

/* Same set of ops in both stores? */
static inline bool ms_equal(struct memstore *a, struct memstore *b)
{
    if (a->nlogs != b->nlogs)
        return false;
    for (size_t i = 0; i < a->nlogs; i++) {
        struct ms_log *x = &a->logs[i], *y = ms_log_find(b, x->pk, false);
        if (!y || x->n != y->n || memcmp(x->head, y->head, FM_HASH_LEN) != 0)
            return false;
    }
    return true;
}

#endif
