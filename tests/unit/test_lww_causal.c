/*
 * test_lww_causal.c — a far-future stamp cannot pin a value (issue 9,
 * item 4; docs/field-sync.md §6).
 *
 * An op stamped 300 days ahead sets an incident's address; a dispatcher
 * who has seen it edits the address: the edit carries `base` and wins on
 * every node, whichever op arrives first, with one digest everywhere.
 * The property test runs three writers that edit, exchange ops and take a
 * far-future author's ops (some with a base inflated to the cap) in a
 * random schedule, then replays the union of their logs into fresh stores
 * in random interleavings and batchings: every digest equals the
 * writers', and a final edit made after seeing everything wins
 * everywhere. Seed: printed; FM_SEED=n replays.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "tests/unit/lww_fixture.h"

#define OK(x) assert_int_equal((x), FM_OK)
#define DAYS_AHEAD(d) ((fm_now_ms() + (uint64_t)(d) * FX_DAY_MS) << 16)

static struct fx_org org;
static uint64_t seed, rng;

static uint64_t rnd(void)
{
    rng ^= rng << 13; /* xorshift64 */
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

static int setup(void **state)
{
    (void)state;
    return fx_org_init(&org) == FM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fx_org_done(&org);
    return 0;
}

static void node_up(struct fx_node *x, const char *name, unsigned flags)
{
    OK(fx_author(&org, x, name));
    OK(fx_open(x, flags | FM_OPEN_NOSYNC_));
}

/* A far-future author: enrolled for 400 days, its log opened now. */
static void future_author(struct lww_author *f)
{
    uint64_t now = fm_now_ms();
    OK(lww_author_init(f, &org.root, 0x5a, "fast-clock", now - FX_DAY_MS, now + 400 * FX_DAY_MS,
                       now << 16));
}

/* A local address edit of incident `id` on node x (the writer's path:
 * base filled in by node_write.c). */
static void edit(struct fx_node *x, const char *id, const char *address)
{
    struct payload *pl = lww_pl(OP_INC_UPDATE);
    uint8_t pk[FM_PK_LEN];
    uint64_t seq;
    assert_non_null(pl);
    const char *dash = strchr(id, '-');
    assert_non_null(dash);
    /* the incident's creating op: found through its record */
    struct fm_incident inc;
    OK(fm_node_incident_get(x->n, id, &inc));
    OK(fm_key_decode(inc.reporter, pk));
    seq = strtoull(dash + 1, NULL, 10);
    lww_ref(pl, pk, seq);
    fm_strlcpy(pl->address, address, sizeof pl->address);
    pl->present |= PT_BIT(PT_ADDRESS);
    OK(node_write_payload(x->n, &pl->log, &seq));
    free(pl);
}

static void assert_address(struct fm_node *n, const char *id, const char *want)
{
    char addr[FM_ADDRESS_MAX];
    OK(lww_address(n, id, addr, sizeof addr));
    assert_string_equal(addr, want);
}

/* The last op of `author` held by n, decoded, with its payload. */
static void last_op(struct fm_node *n, const uint8_t *author, struct payload *pl)
{
    struct fx_ops l = {0};
    struct fm_op op;
    OK(fx_collect(n, author, &l));
    assert_true(l.n > 0);
    OK(fm_op_decode(&op, l.ops[l.n - 1], l.lens[l.n - 1]));
    OK(payload_decode(pl, op.kind, op.payload, op.payload_len));
    fx_ops_free(&l);
}

static void ingest_all(struct fm_node *n, const struct fx_ops *l)
{
    struct fm_ingest_result res;
    OK(fx_ingest(n, l, 0, l->n, &res));
    assert_int_equal(res.rejected, 0);
}

static void test_far_future_value_is_not_pinned(void **state)
{
    (void)state;
    struct fx_node d, r, s;
    struct lww_author f;
    struct fx_ops dlog = {0};
    char id[FM_ID_MAX];
    node_up(&d, "dispatcher", FM_OPEN_IDENTITY);
    node_up(&r, "reader-1", 0);
    node_up(&s, "reader-2", 0);
    future_author(&f);

    struct fm_incident_new in = {.category = "building_fire", .priority = 1, .lat_e7 = 312302000,
                                 .lon_e7 = 1214751000, .address = "No. 1 Department Store"};
    OK(fm_node_incident_report(d.n, &in, id));
    uint8_t dpk[FM_PK_LEN];
    memcpy(dpk, d.id.pk, FM_PK_LEN);
    lww_at(&f, DAYS_AHEAD(300));
    OK(lww_update(&f, dpk, 2, "Pinned by a clock 300 days ahead", 0));

    /* the far-future value wins at first: it is the latest anyone wrote */
    ingest_all(d.n, &f.log.ops);
    assert_address(d.n, id, "Pinned by a clock 300 days ahead");
    /* the dispatcher, having seen it, corrects it */
    edit(&d, id, "No. 1 Department Store, east gate");
    assert_address(d.n, id, "No. 1 Department Store, east gate");
    struct payload *pl = malloc(sizeof *pl);
    assert_non_null(pl);
    last_op(d.n, dpk, pl);
    assert_int_equal(pl->log.kind, OP_INC_UPDATE);
    assert_true(pl->present & PT_BIT(PT_BASE));
    assert_true(pl->log.base >= DAYS_AHEAD(299)); /* it names the far-future value */
    free(pl);

    /* both arrival orders on two other nodes: the edit wins, one digest */
    OK(fx_collect(d.n, dpk, &dlog));
    ingest_all(r.n, &dlog);
    ingest_all(r.n, &f.log.ops);
    ingest_all(s.n, &f.log.ops);
    ingest_all(s.n, &dlog);
    assert_address(r.n, id, "No. 1 Department Store, east gate");
    assert_address(s.n, id, "No. 1 Department Store, east gate");
    assert_int_equal(fx_digest_eq(r.n, s.n), 1);
    assert_int_equal(fx_digest_eq(d.n, s.n), 1);

    /* a rebuild from the ops gives the same state */
    OK(fm_node_rebuild(s.n));
    assert_int_equal(fx_digest_eq(d.n, s.n), 1);

    fx_ops_free(&dlog);
    lww_author_done(&f);
    fx_done(&d);
    fx_done(&r);
    fx_done(&s);
}

/* Records: version 1 while every field's effective stamp is its hlc (the
 * bytes the build before causal LWW wrote), version 2 otherwise; the
 * decoder takes exactly one encoding per state. */
static void test_record_encoding(void **state)
{
    (void)state;
    struct model_rec *r = malloc(sizeof *r), *back = malloc(sizeof *back);
    uint8_t who[FM_PK_LEN];
    struct fm_buf b;
    assert_non_null(r);
    assert_non_null(back);
    memset(who, 7, sizeof who);
    fm_buf_init(&b, 1u << 16);
    model_rec_init(r, FM_ENT_INCIDENT);
    struct model_stamp s = {.hlc = 1000, .author = who};
    model_merge_lww(r, F_ADDRESS, &s, "a", 1);
    OK(model_rec_encode(r, &b));
    assert_int_equal(b.data[0], 1);
    assert_int_equal(b.len, 2 + 1 + 8 + FM_PK_LEN + 2 + 1);
    struct model_stamp later = {.hlc = 900, .eff = 5000, .author = who};
    model_merge_lww(r, F_ADDRESS, &later, "b", 1); /* eff 5000 beats hlc 1000 */
    model_merge_lww(r, F_CALLER, &s, "c", 1);
    assert_int_equal(r->f[F_ADDRESS].val[0], 'b');
    OK(model_rec_encode(r, &b));
    assert_int_equal(b.data[0], 2);
    OK(model_rec_decode(back, b.data, b.len));
    assert_true(back->f[F_ADDRESS].eff == 5000 && back->f[F_ADDRESS].hlc == 900);
    assert_true(back->f[F_CALLER].eff == 1000);
    assert_int_equal(model_rec_lww_max(back), 5000);
    struct fm_buf b2;
    fm_buf_init(&b2, 1u << 16);
    OK(model_rec_encode(back, &b2));
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    /* eff below hlc, or a version 2 record with nothing raised: refused */
    uint8_t *eff = b.data + 2 + 1 + 8; /* the first field is F_ADDRESS */
    fm_be64_put(eff, 899);
    assert_int_equal(model_rec_decode(back, b.data, b.len), FM_ESTORE);
    fm_be64_put(eff, 900);
    assert_int_equal(model_rec_decode(back, b.data, b.len), FM_ESTORE);
    /* the effective stamp: max(hlc, base + 1) */
    assert_true(model_eff(100, 0) == 100);
    assert_true(model_eff(100, 99) == 100);
    assert_true(model_eff(100, 100) == 101);
    assert_true(model_eff(100, (uint64_t)INT64_MAX) == (uint64_t)INT64_MAX + 1);
    fm_buf_release(&b);
    fm_buf_release(&b2);
    free(r);
    free(back);
}

/* ---- the property test ---- */

#define NW 3          /* writers */
#define NFUT 6        /* far-future ops */
#define STEPS 80
#define ORDERS 12

struct world {
    struct fx_node w[NW];
    struct lww_author f;
    size_t f_given[NW]; /* far-future ops each writer has taken */
    char id[FM_ID_MAX];
    uint8_t rep_pk[FM_PK_LEN];
};

static void future_ops(struct world *x)
{
    future_author(&x->f);
    for (int k = 0; k < NFUT; k++) {
        struct payload *pl = lww_pl(OP_INC_UPDATE);
        char text[64];
        assert_non_null(pl);
        lww_at(&x->f, DAYS_AHEAD(300 + 10 * k));
        lww_ref(pl, x->rep_pk, 2);
        snprintf(text, sizeof text, "future-%d", k);
        fm_strlcpy(pl->address, text, sizeof pl->address);
        pl->present |= PT_BIT(PT_ADDRESS);
        if (k % 3 == 2) { /* a key holder inflating its base to the cap */
            pl->log.base = (uint64_t)INT64_MAX - 1000 - rnd_below(4);
            pl->present |= PT_BIT(PT_BASE);
        }
        OK(lww_put(&x->f, pl));
    }
}

static void give_future(struct world *x, int i)
{
    struct fm_ingest_result res;
    size_t upto = x->f_given[i] + 1 + rnd_below(2);
    if (upto > x->f.log.ops.n)
        upto = x->f.log.ops.n;
    OK(fx_ingest(x->w[i].n, &x->f.log.ops, 0, upto, &res)); /* a prefix: duplicates are fine */
    assert_int_equal(res.rejected, 0);
    x->f_given[i] = upto;
}

static void run_schedule(struct world *x)
{
    struct fm_ingest_result res;
    for (int step = 0; step < STEPS; step++) {
        int i = (int)rnd_below(NW), j = (int)rnd_below(NW);
        char text[64];
        switch (rnd_below(3)) {
        case 0:
            snprintf(text, sizeof text, "w%d-step%d", i, step);
            edit(&x->w[i], x->id, text);
            break;
        case 1:
            if (i != j)
                OK(fx_sync(x->w[j].n, x->w[i].n, &res));
            break;
        default:
            give_future(x, i);
            break;
        }
    }
    for (int i = 0; i < NW; i++) {
        x->f_given[i] = x->f.log.ops.n - 1;
        give_future(x, i);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < NW; i++)
            for (int j = 0; j < NW; j++)
                if (i != j)
                    OK(fx_sync(x->w[j].n, x->w[i].n, &res));
}

/* Every author's log, interleaved at random (each log in its order), in
 * random shuffled batches, into a fresh store. */
static void replay(struct world *x, struct fx_ops *logs, size_t nlogs, struct fm_node *n)
{
    size_t next[NW + 1] = {0}, total = 0;
    for (size_t a = 0; a < nlogs; a++)
        total += logs[a].n;
    const uint8_t **seq = malloc(total * sizeof *seq);
    size_t *lens = malloc(total * sizeof *lens);
    assert_non_null(seq);
    assert_non_null(lens);
    (void)x;
    for (size_t k = 0; k < total; k++) {
        uint64_t pick = rnd_below(total - k);
        size_t a = 0;
        for (;; a++) {
            size_t left = logs[a].n - next[a];
            if (pick < left)
                break;
            pick -= left;
        }
        seq[k] = logs[a].ops[next[a]];
        lens[k] = logs[a].lens[next[a]];
        next[a]++;
    }
    for (size_t k = 0; k < total;) {
        size_t len = 1 + rnd_below(12);
        if (len > total - k)
            len = total - k;
        for (size_t i = len; i > 1; i--) {
            size_t j = rnd_below(i);
            const uint8_t *tp = seq[k + i - 1];
            size_t tl = lens[k + i - 1];
            seq[k + i - 1] = seq[k + j];
            lens[k + i - 1] = lens[k + j];
            seq[k + j] = tp;
            lens[k + j] = tl;
        }
        struct fm_ingest_result res;
        OK(fm_node_ingest(n, seq + k, lens + k, len, &res));
        assert_int_equal(res.rejected, 0);
        k += len;
    }
    free(seq);
    free(lens);
}

static void test_causal_lww_any_order(void **state)
{
    (void)state;
    struct world *x = calloc(1, sizeof *x);
    struct fm_ingest_result res;
    assert_non_null(x);
    for (int i = 0; i < NW; i++) {
        char name[16];
        snprintf(name, sizeof name, "writer-%d", i);
        node_up(&x->w[i], name, FM_OPEN_IDENTITY);
    }
    struct fm_incident_new in = {.category = "chemical", .priority = 2, .lat_e7 = 1, .lon_e7 = 1,
                                 .address = "first report"};
    OK(fm_node_incident_report(x->w[0].n, &in, x->id));
    memcpy(x->rep_pk, x->w[0].id.pk, FM_PK_LEN);
    for (int i = 1; i < NW; i++)
        OK(fx_sync(x->w[0].n, x->w[i].n, &res));
    future_ops(x);
    run_schedule(x);
    for (int i = 1; i < NW; i++)
        assert_int_equal(fx_digest_eq(x->w[0].n, x->w[i].n), 1);

    /* a writer that has seen everything edits: its edit wins everywhere */
    edit(&x->w[1], x->id, "final, after seeing everything");
    for (int i = 0; i < NW; i++)
        if (i != 1)
            OK(fx_sync(x->w[1].n, x->w[i].n, &res));
    for (int i = 0; i < NW; i++)
        assert_address(x->w[i].n, x->id, "final, after seeing everything");

    struct fx_ops logs[NW + 1];
    memset(logs, 0, sizeof logs);
    for (int i = 0; i < NW; i++)
        OK(fx_collect(x->w[0].n, x->w[i].id.pk, &logs[i]));
    OK(fx_collect(x->w[0].n, x->f.id.pk, &logs[NW]));
    assert_int_equal(logs[NW].n, 1 + NFUT);
    for (int o = 0; o < ORDERS; o++) {
        struct fx_node fresh;
        node_up(&fresh, "replay", 0);
        replay(x, logs, NW + 1, fresh.n);
        if (fx_digest_eq(fresh.n, x->w[0].n) != 1)
            fail_msg("digest differs in order %d (FM_SEED=%" PRIu64 ")", o, seed);
        assert_address(fresh.n, x->id, "final, after seeing everything");
        fx_done(&fresh);
    }
    for (int i = 0; i <= NW; i++)
        fx_ops_free(&logs[i]);
    lww_author_done(&x->f);
    for (int i = 0; i < NW; i++)
        fx_done(&x->w[i]);
    free(x);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    const char *env = getenv("FM_SEED");
    seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    printf("test_lww_causal: FM_SEED=%" PRIu64 "\n", seed);
    rng = seed * 2654435761u + 88172645463325252ull;
    if (rng == 0)
        rng = 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_far_future_value_is_not_pinned),
        cmocka_unit_test(test_causal_lww_any_order),
        cmocka_unit_test(test_record_encoding),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
