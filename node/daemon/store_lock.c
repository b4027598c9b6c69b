/*
 * store_lock.c — the sync engine's store behind the daemon's node lock.
 *
 * fieldmeshd's node handle is shared by the sync loop and the console's
 * HTTP threads (node/console/). The handle is not made for concurrent
 * use, so every use holds one mutex. The sync loop takes it only inside
 * each store callback (heads, read_ops, ingest, ...), never while it
 * waits on the network, so an HTTP request waits at most for one store
 * call, and sync waits at most for one console call.
 */
#include "daemon.h"

#include <string.h>

static int lk_heads(void *ctx, struct fm_head **out, size_t *count)
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    int rc = l->inner.heads(l->inner.ctx, out, count);
    pthread_mutex_unlock(l->lock);
    return rc;
}

static int lk_read_ops(void *ctx, const uint8_t author[FM_PK_LEN], uint64_t from_seq,
                       size_t max_ops, size_t max_bytes, struct fm_buf *out, size_t *count)
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    int rc = l->inner.read_ops(l->inner.ctx, author, from_seq, max_ops, max_bytes, out, count);
    pthread_mutex_unlock(l->lock);
    return rc;
}

static int lk_ingest(void *ctx, const uint8_t *const *ops, const size_t *lens,
                     const uint8_t *const *hashes, size_t nops, struct fm_ingest_result *res)
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    int rc = l->inner.ingest(l->inner.ctx, ops, lens, hashes, nops, res);
    pthread_mutex_unlock(l->lock);
    return rc;
}

static int lk_admit(void *ctx, const uint8_t pk[FM_PK_LEN])
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    int rc = l->inner.admit(l->inner.ctx, pk);
    pthread_mutex_unlock(l->lock);
    return rc;
}

static int lk_admit_curve(void *ctx, const uint8_t curve[FM_CURVE_LEN], uint8_t pk[FM_PK_LEN])
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    int rc = l->inner.admit_curve(l->inner.ctx, curve, pk);
    pthread_mutex_unlock(l->lock);
    return rc;
}

static int lk_priority(void *ctx, uint8_t kind)
{
    struct fm_locked_store *l = ctx; /* pure: no store access */
    return l->inner.priority(l->inner.ctx, kind);
}

static int lk_soft_read(void *ctx, uint64_t after, size_t max_bytes, struct fm_buf *out,
                        size_t *count, uint64_t *last)
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    int rc = l->inner.soft_read(l->inner.ctx, after, max_bytes, out, count, last);
    pthread_mutex_unlock(l->lock);
    return rc;
}

static int lk_soft_ingest(void *ctx, const uint8_t *const *recs, const size_t *lens, size_t n,
                          size_t *stored)
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    int rc = l->inner.soft_ingest(l->inner.ctx, recs, lens, n, stored);
    pthread_mutex_unlock(l->lock);
    return rc;
}

static void lk_own_claim(void *ctx, uint64_t seq)
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    l->inner.own_claim(l->inner.ctx, seq);
    pthread_mutex_unlock(l->lock);
}

static void lk_own_vector(void *ctx, uint64_t seq)
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    l->inner.own_vector(l->inner.ctx, seq);
    pthread_mutex_unlock(l->lock);
}

static int lk_root_rank(void *ctx, const uint8_t prefix[8])
{
    struct fm_locked_store *l = ctx;
    pthread_mutex_lock(l->lock);
    int r = l->inner.root_rank(l->inner.ctx, prefix);
    pthread_mutex_unlock(l->lock);
    return r;
}

/* Every callback of struct fm_sync_store must be wrapped here: one left
 * out is silently dropped (NULL) for the daemon. test_store_lock checks
 * the count against sync.h. */
void fm_sync_store_locked(struct fm_locked_store *l, const struct fm_sync_store *inner,
                          pthread_mutex_t *lock, struct fm_sync_store *out)
{
    l->inner = *inner;
    l->lock = lock;
    memset(out, 0, sizeof *out);
    out->ctx = l;
    out->heads = inner->heads ? lk_heads : NULL;
    out->read_ops = inner->read_ops ? lk_read_ops : NULL;
    out->ingest = inner->ingest ? lk_ingest : NULL;
    out->admit = inner->admit ? lk_admit : NULL;
    out->admit_curve = inner->admit_curve ? lk_admit_curve : NULL;
    out->priority = inner->priority ? lk_priority : NULL;
    out->soft_read = inner->soft_read ? lk_soft_read : NULL;
    out->soft_ingest = inner->soft_ingest ? lk_soft_ingest : NULL;
    out->own_claim = inner->own_claim ? lk_own_claim : NULL;
    out->own_vector = inner->own_vector ? lk_own_vector : NULL;
    out->root_rank = inner->root_rank ? lk_root_rank : NULL;
}
