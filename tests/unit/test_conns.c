/*
 * test_conns.c — connections per node key (sync/conns.c, conns_mon.c;
 * issue 9 item 11). First the counting on its own (no sockets): the cap,
 * the counter, a close freeing its slot, the overall cap, silent
 * connections and stale admissions expiring, one log line per key per
 * interval. Then an engine over real CurveZMQ loopback sockets: one
 * enrolled key dialling five times is held to its cap, and once those
 * connections close the key connects again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "crypto/crypto.h"
#include "sync/sync_int.h"
#include "tests/unit/memstore.h"

static struct fm_sync *counting_engine(uint32_t per_key, uint32_t total)
{
    struct fm_sync *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->cfg.max_conns_per_key = per_key;
    s->cfg.max_conns = total;
    assert_int_equal(sync_conns_init(s), FM_OK);
    return s;
}

static void counting_free(struct fm_sync *s)
{
    sync_conns_release(s);
    free(s);
}

static uint32_t open_of(struct fm_sync *s, const uint8_t *pk)
{
    uint32_t open;
    uint64_t refused;
    sync_conn_of(s, pk, &open, &refused);
    return open;
}

static void test_cap_and_counter(void **state)
{
    (void)state;
    struct fm_sync *s = counting_engine(2, 8);
    uint8_t k1[FM_PK_LEN], k2[FM_PK_LEN];
    memset(k1, 1, sizeof(k1));
    memset(k2, 2, sizeof(k2));
    uint64_t t = 1000;
    for (int fd = 10; fd < 14; fd++)
        assert_true(sync_conn_opened(s, fd, t));
    /* two connections of k1 pass ZAP, the third and fourth are refused */
    assert_true(sync_conn_admit(s, k1, t));
    assert_true(sync_conn_admit(s, k1, t));
    assert_false(sync_conn_admit(s, k1, t));
    assert_false(sync_conn_admit(s, k1, t));
    assert_int_equal(s->k.key_conns_refused, 2);
    /* another key is not affected */
    assert_true(sync_conn_admit(s, k2, t));
    assert_int_equal(open_of(s, k1), 2);
    assert_int_equal(open_of(s, k2), 1);
    /* k1 speaks on fd 10 and 11: tied, still two */
    sync_conn_spoke(s, 10, k1, t);
    sync_conn_spoke(s, 11, k1, t);
    sync_conn_spoke(s, 11, k1, t); /* a second message changes nothing */
    assert_int_equal(open_of(s, k1), 2);
    assert_false(sync_conn_admit(s, k1, t));
    /* a close frees its slot: k1 may connect once more, not twice */
    sync_conn_closed(s, 10);
    assert_int_equal(open_of(s, k1), 1);
    assert_true(sync_conn_admit(s, k1, t));
    assert_false(sync_conn_admit(s, k1, t));
    assert_int_equal(s->k.key_conns_refused, 4);
    uint32_t open;
    uint64_t refused;
    sync_conn_of(s, k1, &open, &refused);
    assert_int_equal(refused, 4);
    /* closing an unknown descriptor, or one twice, frees nothing more */
    sync_conn_closed(s, 99);
    sync_conn_closed(s, 10);
    assert_int_equal(open_of(s, k1), 2);
    counting_free(s);
}

static void test_overall_cap(void **state)
{
    (void)state;
    struct fm_sync *s = counting_engine(4, 3);
    for (int fd = 20; fd < 23; fd++)
        assert_true(sync_conn_opened(s, fd, 0));
    assert_false(sync_conn_opened(s, 23, 0)); /* the caller closes it */
    sync_conn_closed(s, 21);
    assert_true(sync_conn_opened(s, 23, 0));
    assert_false(sync_conn_opened(s, 24, 0));
    counting_free(s);
}

/* A descriptor libzmq closed and reused before we read the close. */
static void test_fd_reuse(void **state)
{
    (void)state;
    struct fm_sync *s = counting_engine(1, 4);
    uint8_t k[FM_PK_LEN];
    memset(k, 7, sizeof(k));
    assert_true(sync_conn_opened(s, 5, 0));
    assert_true(sync_conn_admit(s, k, 0));
    sync_conn_spoke(s, 5, k, 0);
    assert_false(sync_conn_admit(s, k, 0));
    assert_true(sync_conn_opened(s, 5, 10)); /* the old connection 5 is gone */
    assert_int_equal(open_of(s, k), 0);
    assert_true(sync_conn_admit(s, k, 10));
    counting_free(s);
}

/* A connection admitted and then silent cannot keep its slot. */
static void test_silent_expire(void **state)
{
    (void)state;
    struct fm_sync *s = counting_engine(2, 8);
    uint8_t k[FM_PK_LEN];
    int fds[8];
    memset(k, 3, sizeof(k));
    assert_true(sync_conn_opened(s, 30, 0));
    assert_true(sync_conn_opened(s, 31, 0));
    assert_true(sync_conn_admit(s, k, 0));
    assert_true(sync_conn_admit(s, k, 0));
    sync_conn_spoke(s, 30, k, 500); /* 30 speaks; 31 never does */
    assert_false(sync_conn_admit(s, k, 1000));
    assert_int_equal(sync_conn_expire(s, SYNC_CONN_SILENT_MS - 1, fds, 8), 0);
    assert_int_equal(open_of(s, k), 2);
    assert_int_equal(sync_conn_expire(s, SYNC_CONN_SILENT_MS, fds, 8), 1);
    assert_int_equal(fds[0], 31);
    assert_int_equal(open_of(s, k), 1); /* its admission is forgotten */
    assert_int_equal(sync_conn_expire(s, SYNC_CONN_SILENT_MS + 1000, fds, 8), 0); /* once */
    assert_true(sync_conn_admit(s, k, SYNC_CONN_SILENT_MS));
    sync_conn_closed(s, 31); /* the close of the one we shut: untied, nothing to free */
    assert_int_equal(open_of(s, k), 2);
    counting_free(s);
}

/* One line per key per SYNC_CONN_LOG_MS, however many refusals. */
static void test_log_once_per_interval(void **state)
{
    (void)state;
    struct fm_sync *s = counting_engine(1, 8);
    uint8_t k[FM_PK_LEN];
    memset(k, 9, sizeof(k));
    assert_true(sync_conn_admit(s, k, 1));
    for (int i = 0; i < 1000; i++)
        assert_false(sync_conn_admit(s, k, 2 + (uint64_t)i));
    /* the first refusal was logged; the 999 after it wait for the next line */
    assert_int_equal(s->ckeys[0].refused_logged, 1);
    assert_false(sync_conn_admit(s, k, 2 + SYNC_CONN_LOG_MS));
    assert_int_equal(s->ckeys[0].refused_logged, 1001);
    assert_int_equal(s->k.key_conns_refused, 1001);
    counting_free(s);
}

/* ---------------------------------------------------- over real sockets */

struct client {
    void *d, *mon;
    bool up;
};

static void client_open(void *ctx, struct client *c, const char *ep, const uint8_t *server,
                        const struct fm_identity *id, int n)
{
    uint8_t cpk[FM_CURVE_LEN], csk[FM_CURVE_LEN];
    char mep[64];
    int linger = 0;
    assert_int_equal(fm_curve_from_identity(id, cpk, csk), FM_OK);
    c->d = zmq_socket(ctx, ZMQ_DEALER);
    c->up = false;
    zmq_setsockopt(c->d, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(c->d, ZMQ_CURVE_SERVERKEY, server, FM_CURVE_LEN);
    zmq_setsockopt(c->d, ZMQ_CURVE_PUBLICKEY, cpk, FM_CURVE_LEN);
    zmq_setsockopt(c->d, ZMQ_CURVE_SECRETKEY, csk, FM_CURVE_LEN);
    snprintf(mep, sizeof(mep), "inproc://test-conns-%d", n);
    assert_int_equal(zmq_socket_monitor(c->d, mep, ZMQ_EVENT_ALL), 0);
    c->mon = zmq_socket(ctx, ZMQ_PAIR);
    assert_int_equal(zmq_connect(c->mon, mep), 0);
    assert_int_equal(zmq_connect(c->d, ep), 0);
}

static void client_close(struct client *c)
{
    (void)zmq_socket_monitor(c->d, NULL, 0); /* before its reader goes */
    zmq_close(c->mon);
    zmq_close(c->d);
}

/* Reads c's monitor; says hello (a SUMMARY) once its handshake succeeded. */
static void client_poll(struct client *c)
{
    uint8_t ev[6];
    char addr[256];
    while (zmq_recv(c->mon, ev, sizeof(ev), ZMQ_DONTWAIT) >= 0) {
        uint16_t e;
        (void)zmq_recv(c->mon, addr, sizeof(addr), 0);
        memcpy(&e, ev, sizeof(e));
        if (e == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            struct fm_buf b;
            struct fm_wire_summary sm = {.flags = 0, .now_ms = fm_wall_ms()};
            fm_buf_init(&b, 128);
            assert_int_equal(fm_wire_encode_summary(&b, &sm), FM_OK);
            (void)zmq_send(c->d, b.data, b.len, ZMQ_DONTWAIT);
            fm_buf_release(&b);
            c->up = true;
        } else if (e == ZMQ_EVENT_DISCONNECTED) {
            c->up = false;
        }
    }
}

static uint32_t engine_conns_of(struct fm_sync *s, const uint8_t *pk)
{
    struct fm_sync_peer_info *pi = NULL;
    size_t np = 0;
    uint32_t r = 0;
    assert_int_equal(fm_sync_peers(s, NULL, &pi, &np), FM_OK);
    for (size_t i = 0; i < np; i++)
        if (memcmp(pi[i].pk, pk, FM_PK_LEN) == 0)
            r = pi[i].conns;
    free(pi);
    return r;
}

static void spin(struct fm_sync *s, struct client *cs, size_t n, uint64_t ms)
{
    uint64_t end = fm_mono_ms() + ms;
    while (fm_mono_ms() < end) {
        assert_int_equal(fm_sync_run(s, 5), FM_OK);
        for (size_t i = 0; i < n; i++)
            if (cs[i].d)
                client_poll(&cs[i]);
    }
}

static void test_engine_cap_and_slot_frees(void **state)
{
    (void)state;
    struct fm_identity srv, key;
    struct memstore ms;
    memset(&ms, 0, sizeof(ms));
    assert_int_equal(fm_identity_generate(&srv), FM_OK);
    assert_int_equal(fm_identity_generate(&key), FM_OK);
    ms_enroll(&ms, srv.pk);
    ms_enroll(&ms, key.pk);
    assert_int_equal(ms_write(&ms, &key, 100), FM_OK); /* an author the server holds */
    struct fm_sync_store store = ms_store(&ms);
    struct fm_sync_config cfg = {.id = &srv, .listen = "tcp://127.0.0.1:*",
                                 .push_interval_ms = 20, .heartbeat_ms = 500,
                                 .max_conns_per_key = 2};
    struct fm_sync *s = NULL;
    assert_int_equal(fm_sync_new(&s, &cfg, &store), FM_OK);
    uint8_t server[FM_CURVE_LEN];
    assert_int_equal(fm_curve_from_pk(srv.pk, server), FM_OK);
    void *ctx = zmq_ctx_new();
    struct client cs[6] = {0};
    for (int i = 0; i < 5; i++)
        client_open(ctx, &cs[i], fm_sync_endpoint(s), server, &key, i);
    spin(s, cs, 5, 1500);
    int up = 0;
    for (int i = 0; i < 5; i++)
        up += cs[i].up;
    struct fm_sync_counters k;
    fm_sync_get_counters(s, &k);
    printf("# 5 connections on one key, cap 2: %d up, %llu refused, %u counted\n", up,
           (unsigned long long)k.key_conns_refused, engine_conns_of(s, key.pk));
    assert_int_equal(up, 2);
    assert_true(k.key_conns_refused >= 3); /* the refused ones keep redialling */
    assert_int_equal(engine_conns_of(s, key.pk), 2);
    /* every one closes: the slots free up (the monitor's close events; an
     * admission whose connection closed before it spoke is forgotten
     * SYNC_CONN_SILENT_MS later) */
    for (int i = 0; i < 5; i++) {
        client_close(&cs[i]);
        cs[i].d = NULL;
    }
    uint64_t end = fm_mono_ms() + SYNC_CONN_SILENT_MS + 5000;
    while (engine_conns_of(s, key.pk) != 0 && fm_mono_ms() < end)
        spin(s, cs, 0, 20);
    assert_int_equal(engine_conns_of(s, key.pk), 0);
    /* and the key connects again, twice */
    fm_sync_get_counters(s, &k);
    uint64_t refused_before = k.key_conns_refused;
    client_open(ctx, &cs[5], fm_sync_endpoint(s), server, &key, 5);
    client_open(ctx, &cs[0], fm_sync_endpoint(s), server, &key, 6);
    end = fm_mono_ms() + 5000;
    while (!(cs[5].up && cs[0].up) && fm_mono_ms() < end)
        spin(s, cs, 6, 20);
    assert_true(cs[5].up && cs[0].up);
    fm_sync_get_counters(s, &k);
    assert_int_equal(k.key_conns_refused, refused_before);
    spin(s, cs, 6, 200);
    assert_int_equal(engine_conns_of(s, key.pk), 2);
    client_close(&cs[5]);
    client_close(&cs[0]);
    zmq_ctx_term(ctx);
    fm_sync_destroy(&s);
    ms_free(&ms);
    fm_identity_release(&srv);
    fm_identity_release(&key);
}

/* An honest node refused over the cap (its stale connection still holds
 * the slot) is told so apart from a refusal of its key (ZAP status 300),
 * is not marked "refused us", and dials again once the slot is free. */
static void test_engine_over_cap_redials(void **state)
{
    (void)state;
    struct fm_identity ia, ib;
    struct memstore ma, mb;
    memset(&ma, 0, sizeof(ma));
    memset(&mb, 0, sizeof(mb));
    assert_int_equal(fm_identity_generate(&ia), FM_OK);
    assert_int_equal(fm_identity_generate(&ib), FM_OK);
    ms_enroll(&ma, ia.pk);
    ms_enroll(&ma, ib.pk);
    ms_enroll(&mb, ia.pk);
    ms_enroll(&mb, ib.pk);
    struct fm_sync_store sa = ms_store(&ma), sb = ms_store(&mb);
    struct fm_sync_config ca = {.id = &ia, .listen = "tcp://127.0.0.1:*", .push_interval_ms = 20,
                                .heartbeat_ms = 500, .max_conns_per_key = 1};
    struct fm_sync_config cb = {.id = &ib, .push_interval_ms = 20, .heartbeat_ms = 500};
    struct fm_sync *a = NULL, *b = NULL;
    assert_int_equal(fm_sync_new(&a, &ca, &sa), FM_OK);
    assert_int_equal(fm_sync_new(&b, &cb, &sb), FM_OK);
    assert_int_equal(fm_sync_add_peer(a, NULL, ib.pk, "b"), FM_OK); /* admitted, not dialled */
    uint8_t server[FM_CURVE_LEN];
    assert_int_equal(fm_curve_from_pk(ia.pk, server), FM_OK);
    void *ctx = zmq_ctx_new();
    struct client stale = {0};
    client_open(ctx, &stale, fm_sync_endpoint(a), server, &ib, 20); /* b's key, first */
    uint64_t end = fm_mono_ms() + 5000;
    while (!stale.up && fm_mono_ms() < end)
        spin(a, &stale, 1, 20);
    assert_true(stale.up);
    assert_int_equal(fm_sync_add_peer(b, fm_sync_endpoint(a), ia.pk, "a"), FM_OK);
    struct fm_sync_counters k = {0};
    end = fm_mono_ms() + 5000;
    while (k.key_conns_refused == 0 && fm_mono_ms() < end) {
        spin(a, &stale, 1, 20);
        assert_int_equal(fm_sync_run(b, 5), FM_OK);
        fm_sync_get_counters(a, &k);
    }
    assert_true(k.key_conns_refused >= 1);
    struct fm_sync_peer_info *pi = NULL;
    size_t np = 0;
    for (int i = 0; i < 20; i++)
        assert_int_equal(fm_sync_run(b, 5), FM_OK);
    assert_int_equal(fm_sync_peers(b, NULL, &pi, &np), FM_OK);
    assert_int_equal(np, 1);
    assert_false(pi[0].refused_us); /* over a cap is not "not admitted" */
    free(pi);
    /* the stale connection goes; b's next dial gets the slot */
    client_close(&stale);
    end = fm_mono_ms() + 10000;
    while (engine_conns_of(a, ib.pk) != 1 && fm_mono_ms() < end) {
        assert_int_equal(fm_sync_run(a, 5), FM_OK);
        assert_int_equal(fm_sync_run(b, 5), FM_OK);
    }
    printf("# b re-dialled after the cap refusal: %u connection(s) of b at a, %llu refused\n",
           engine_conns_of(a, ib.pk), (unsigned long long)k.key_conns_refused);
    assert_int_equal(engine_conns_of(a, ib.pk), 1);
    zmq_ctx_term(ctx);
    fm_sync_destroy(&b);
    fm_sync_destroy(&a);
    ms_free(&ma);
    ms_free(&mb);
    fm_identity_release(&ia);
    fm_identity_release(&ib);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_and_counter),
        cmocka_unit_test(test_overall_cap),
        cmocka_unit_test(test_fd_reuse),
        cmocka_unit_test(test_silent_expire),
        cmocka_unit_test(test_log_once_per_interval),
        cmocka_unit_test(test_engine_cap_and_slot_frees),
        cmocka_unit_test(test_engine_over_cap_redials),
    };
    assert_int_equal(fm_crypto_init(), FM_OK);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
