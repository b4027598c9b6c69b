/*
 * test_store_lock.c — the daemon hands the sync engine its store wrapped
 * behind the node lock (node/daemon/store_lock.c). A callback the wrapper
 * does not know is dropped to NULL, and the engine then silently skips it:
 * that is how a restored node once never learned its peers held its log
 * (the own_vector hook was added to sync.h after the wrapper was written).
 * These tests call every callback through the wrapper, check that each
 * reaches the inner store with the lock held, and fail when sync.h gains a
 * callback the wrapper (and this test) have not been taught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "node/daemon/daemon.h"

/* The callbacks of struct fm_sync_store, besides ctx. A new callback in
 * sync.h changes the struct's size: teach store_lock.c and this test. */
#define NCALLBACKS 11

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned calls, held;

static void seen(void)
{
    calls++;
    /* the wrapper holds the lock: trylock must fail with EBUSY */
    if (pthread_mutex_trylock(&lock) == EBUSY)
        held++;
    else
        pthread_mutex_unlock(&lock);
}

static int in_heads(void *ctx, struct fm_head **out, size_t *count)
{
    (void)ctx, (void)out, (void)count;
    seen();
    return 11;
}
static int in_read_ops(void *ctx, const uint8_t author[FM_PK_LEN], uint64_t from_seq,
                       size_t max_ops, size_t max_bytes, struct fm_buf *out, size_t *count)
{
    (void)ctx, (void)author, (void)from_seq, (void)max_ops, (void)max_bytes, (void)out, (void)count;
    seen();
    return 12;
}
static int in_ingest(void *ctx, const uint8_t *const *ops, const size_t *lens,
                     const uint8_t *const *hashes, size_t nops, struct fm_ingest_result *res)
{
    (void)ctx, (void)ops, (void)lens, (void)hashes, (void)nops, (void)res;
    seen();
    return 13;
}
static int in_admit(void *ctx, const uint8_t pk[FM_PK_LEN])
{
    (void)ctx, (void)pk;
    seen();
    return 14;
}
static int in_admit_curve(void *ctx, const uint8_t curve[FM_CURVE_LEN], uint8_t pk[FM_PK_LEN])
{
    (void)ctx, (void)curve;
    seen();
    pk[0] = 0xab;
    return 15;
}
static int in_priority(void *ctx, uint8_t kind)
{
    (void)ctx;
    calls++; /* pure: the wrapper takes no lock for it */
    return kind;
}
static int in_soft_read(void *ctx, uint64_t after, size_t max_bytes, struct fm_buf *out,
                        size_t *count, uint64_t *last)
{
    (void)ctx, (void)after, (void)max_bytes, (void)out, (void)count, (void)last;
    seen();
    return 16;
}
static int in_soft_ingest(void *ctx, const uint8_t *const *recs, const size_t *lens, size_t n,
                          size_t *stored)
{
    (void)ctx, (void)recs, (void)lens, (void)n, (void)stored;
    seen();
    return 17;
}
static uint64_t claimed, vectored;
static void in_own_claim(void *ctx, uint64_t seq)
{
    (void)ctx;
    seen();
    claimed = seq;
}
static void in_own_vector(void *ctx, uint64_t seq)
{
    (void)ctx;
    seen();
    vectored = seq;
}

static int in_root_rank(void *ctx, const uint8_t prefix[8])
{
    (void)ctx;
    seen();
    return prefix[0];
}

static void test_every_callback_is_wrapped(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct fm_sync_store), (NCALLBACKS + 1) * sizeof(void *));
    struct fm_sync_store inner = {
        .ctx = NULL,
        .heads = in_heads,
        .read_ops = in_read_ops,
        .ingest = in_ingest,
        .admit = in_admit,
        .admit_curve = in_admit_curve,
        .priority = in_priority,
        .soft_read = in_soft_read,
        .soft_ingest = in_soft_ingest,
        .own_claim = in_own_claim,
        .own_vector = in_own_vector,
        .root_rank = in_root_rank,
    }, out;
    struct fm_locked_store l;
    fm_sync_store_locked(&l, &inner, &lock, &out);
    calls = held = 0;
    uint8_t pk[FM_PK_LEN] = { 0 };
    assert_int_equal(out.heads(out.ctx, NULL, NULL), 11);
    assert_int_equal(out.read_ops(out.ctx, pk, 1, 1, 1, NULL, NULL), 12);
    assert_int_equal(out.ingest(out.ctx, NULL, NULL, NULL, 0, NULL), 13);
    assert_int_equal(out.admit(out.ctx, pk), 14);
    assert_int_equal(out.admit_curve(out.ctx, pk, pk), 15);
    assert_int_equal(pk[0], 0xab);
    assert_int_equal(out.priority(out.ctx, 7), 7);
    assert_int_equal(out.soft_read(out.ctx, 0, 0, NULL, NULL, NULL), 16);
    assert_int_equal(out.soft_ingest(out.ctx, NULL, NULL, 0, NULL), 17);
    out.own_claim(out.ctx, 5);
    out.own_vector(out.ctx, 9);
    assert_int_equal(claimed, 5);
    assert_int_equal(vectored, 9);
    pk[0] = 2;
    assert_int_equal(out.root_rank(out.ctx, pk), 2);
    assert_int_equal(calls, NCALLBACKS);
    assert_int_equal(held, NCALLBACKS - 1); /* all but priority */
    /* and the lock is free again */
    assert_int_equal(pthread_mutex_trylock(&lock), 0);
    pthread_mutex_unlock(&lock);
}

static void test_absent_callbacks_stay_absent(void **state)
{
    (void)state;
    struct fm_sync_store inner = { .heads = in_heads }, out;
    struct fm_locked_store l;
    fm_sync_store_locked(&l, &inner, &lock, &out);
    assert_non_null(out.heads);
    assert_null(out.own_vector);
    assert_null(out.own_claim);
    assert_null(out.ingest);
    assert_null(out.admit_curve);
    assert_null(out.root_rank);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_callback_is_wrapped),
        cmocka_unit_test(test_absent_callbacks_stay_absent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
