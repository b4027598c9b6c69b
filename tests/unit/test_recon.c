/*
 * test_recon.c — range-based reconciliation (sync/recon.c) against a
 * brute-force diff. Random pairs of version vectors (sizes 0..5,000, from
 * identical to disjoint, seqs and head hashes changed) are reconciled
 * message by message through the real decoder; at the end each side must
 * know, for every author either holds, exactly what the other holds —
 * which is what a full vector would have told it. The seed is printed;
 * FM_SEED replays it. Also: the byte and round-trip figures at 2,000
 * authors, and each decoder rule broken in turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "sync/recon_int.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static int head_cmp(const void *a, const void *b)
{
    return memcmp(((const struct fm_head *)a)->author, ((const struct fm_head *)b)->author,
                  FM_PK_LEN);
}

/* ---- one side: its heads, its set, and what it has learnt of the other ---- */

struct view {
    bool known;
    uint64_t seq;
    uint8_t hash[FM_RECON_HASH_LEN];
};

struct side {
    struct fm_head *heads;
    size_t n;
    struct fm_recon_set set;
    struct view *view; /* per author of the union */
};

static struct fm_head *uni; /* union of both sides' authors, sorted */
static size_t nuni;

static size_t uni_find(const uint8_t *pk)
{
    size_t lo = 0, hi = nuni;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(uni[mid].author, pk, FM_PK_LEN);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    fail_msg("the peer reported an author neither side holds");
    return 0;
}

static void cb_same(void *ctx, const struct fm_recon_item *ours)
{
    struct view *v = &((struct side *)ctx)->view[uni_find(ours->pk)];
    v->known = true;
    v->seq = ours->seq;
    memcpy(v->hash, ours->hash, FM_RECON_HASH_LEN);
}

static void cb_item(void *ctx, const uint8_t *pk, uint64_t seq, const uint8_t *hash)
{
    struct view *v = &((struct side *)ctx)->view[uni_find(pk)];
    v->known = true;
    v->seq = seq;
    memcpy(v->hash, hash, FM_RECON_HASH_LEN);
}

/* The truth: what side o holds of union author u (seq 0 = none). */
static const struct fm_head *truth(const struct side *o, size_t u)
{
    const struct fm_head *h = bsearch(&uni[u], o->heads, o->n, sizeof(*o->heads), head_cmp);
    return h;
}

static void check_view(const struct side *me, const struct side *other, uint64_t seed)
{
    for (size_t u = 0; u < nuni; u++) {
        const struct fm_head *t = truth(other, u);
        const struct view *v = &me->view[u];
        if (!truth(me, u) && !t)
            continue;
        if (!v->known)
            fail_msg("seed %llu: author %zu never learnt", (unsigned long long)seed, u);
        if (v->seq != (t ? t->seq : 0))
            fail_msg("seed %llu: author %zu seq %llu, truth %llu", (unsigned long long)seed, u,
                     (unsigned long long)v->seq, (unsigned long long)(t ? t->seq : 0));
        if (t && memcmp(v->hash, t->hash, FM_RECON_HASH_LEN) != 0)
            fail_msg("seed %llu: author %zu head hash differs", (unsigned long long)seed, u);
    }
}

struct stats {
    size_t msgs, bytes;
};

/* Runs an exchange started by a; checks both views. */
static void exchange(struct side *a, struct side *b, uint64_t seed, struct stats *st)
{
    struct fm_buf m[2];
    fm_buf_init(&m[0], FM_WIRE_MAX_MSG);
    fm_buf_init(&m[1], FM_WIRE_MAX_MSG);
    struct side *sides[2] = {a, b};
    struct fm_recon_cb cb[2] = {{a, cb_same, cb_item}, {b, cb_same, cb_item}};
    assert_int_equal(fm_recon_set_build(&a->set, a->heads, a->n), FM_OK);
    assert_int_equal(fm_recon_set_build(&b->set, b->heads, b->n), FM_OK);
    assert_int_equal(fm_recon_initiate(&a->set, &m[0]), FM_OK);
    memset(st, 0, sizeof(*st));
    int cur = 0, to = 1; /* m[cur] goes to sides[to] */
    for (;;) {
        struct fm_wire_msg w;
        bool send, more;
        st->msgs++;
        st->bytes += m[cur].len;
        assert_int_equal(fm_wire_decode(&w, m[cur].data, m[cur].len), FM_OK);
        assert_int_equal(w.type, FM_MSG_RECON);
        assert_true(w.u.recon.depth <= FM_RECON_DEPTH_MAX);
        assert_true(w.u.recon.nranges > 0); /* empty RECONs are hellos only (reconcile.c) */
        int rc = fm_recon_respond(&sides[to]->set, &w.u.recon, &cb[to], &m[cur ^ 1], &send,
                                  &more);
        if (rc != FM_OK)
            fail_msg("seed %llu: respond: %s", (unsigned long long)seed, fm_strerror(rc));
        if (!send)
            break;
        cur ^= 1;
        to ^= 1;
    }
    (void)sides;
    check_view(a, b, seed);
    check_view(b, a, seed);
    fm_buf_release(&m[0]);
    fm_buf_release(&m[1]);
}

/* Fills a random pair: n authors shared, then `diff` changes of random kind
 * (seq up or down, same seq other head, author only on one side). */
static void make_pair(struct side *a, struct side *b, size_t n, size_t diff)
{
    size_t cap = n + diff + 1;
    a->heads = calloc(cap, sizeof(*a->heads));
    b->heads = calloc(cap, sizeof(*b->heads));
    assert_non_null(a->heads);
    assert_non_null(b->heads);
    a->n = b->n = 0;
    for (size_t i = 0; i < n; i++) {
        struct fm_head h = {.seq = 1 + rnd() % 1000, .limit = UINT64_MAX};
        rnd_bytes(h.author, FM_PK_LEN);
        if (rnd() % 4 == 0)
            h.author[0] = 0x42; /* crowd one corner: long common prefixes */
        rnd_bytes(h.hash, FM_HASH_LEN);
        a->heads[a->n++] = h;
        b->heads[b->n++] = h;
    }
    for (size_t k = 0; k < diff; k++) {
        size_t kind = rnd() % 4, i = n ? rnd() % n : 0;
        if (kind == 3 || n == 0) { /* an author only one side holds */
            struct fm_head h = {.seq = 1 + rnd() % 50, .limit = UINT64_MAX};
            rnd_bytes(h.author, FM_PK_LEN);
            rnd_bytes(h.hash, FM_HASH_LEN);
            struct side *s = rnd() % 2 ? a : b;
            s->heads[s->n++] = h;
        } else if (kind == 2) { /* same seq, another head op (a fork) */
            rnd_bytes(b->heads[i].hash, FM_HASH_LEN);
        } else {
            b->heads[i].seq = 1 + rnd() % 1000;
            rnd_bytes(b->heads[i].hash, FM_HASH_LEN);
        }
    }
    /* drop duplicate authors (a random key twice is 2^-256, but be exact) */
    qsort(a->heads, a->n, sizeof(*a->heads), head_cmp);
    qsort(b->heads, b->n, sizeof(*b->heads), head_cmp);
    nuni = 0;
    uni = calloc(a->n + b->n + 1, sizeof(*uni));
    assert_non_null(uni);
    memcpy(uni, a->heads, a->n * sizeof(*uni));
    memcpy(uni + a->n, b->heads, b->n * sizeof(*uni));
    qsort(uni, a->n + b->n, sizeof(*uni), head_cmp);
    for (size_t i = 0; i < a->n + b->n; i++)
        if (nuni == 0 || memcmp(uni[nuni - 1].author, uni[i].author, FM_PK_LEN) != 0)
            uni[nuni++] = uni[i];
    a->view = calloc(nuni + 1, sizeof(*a->view));
    b->view = calloc(nuni + 1, sizeof(*b->view));
    assert_non_null(a->view);
    assert_non_null(b->view);
    fm_recon_set_init(&a->set);
    fm_recon_set_init(&b->set);
}

static void free_pair(struct side *a, struct side *b)
{
    struct side *s[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        free(s[k]->heads);
        free(s[k]->view);
        fm_recon_set_release(&s[k]->set);
    }
    free(uni);
    uni = NULL;
}

static uint64_t test_seed(void)
{
    const char *e = getenv("FM_SEED");
    uint64_t v = 0;
    if (e && fm_parse_u64(e, &v) == FM_OK)
        return v;
    return fm_now_ms();
}

static void test_random_pairs(void **state)
{
    (void)state;
    uint64_t base = test_seed();
    printf("# recon seed %llu (set FM_SEED to replay)\n", (unsigned long long)base);
    for (uint64_t k = 0; k < 300; k++) {
        uint64_t seed = base + k;
        rng_state = seed;
        size_t n = k % 50 == 0 ? 5000 : rnd() % 700;
        size_t diff;
        switch (rnd() % 5) {
        case 0: diff = 0; break;
        case 1: diff = 1; break;
        case 2: diff = rnd() % 8; break;
        case 3: diff = rnd() % (n + 1); break;
        default: diff = rnd() % (2 * n + 2); break; /* up to disjoint */
        }
        struct side a, b;
        struct stats st;
        make_pair(&a, &b, n, diff);
        if (rnd() % 2)
            exchange(&a, &b, seed, &st);
        else
            exchange(&b, &a, seed, &st);
        assert_true(st.msgs <= 2 * FM_RECON_DEPTH_MAX);
        free_pair(&a, &b);
    }
}

/* The figures of issue 13 at 2,000 authors, in the exchange alone (the
 * SUMMARY round trip before it is 2 x 55 bytes). */
static void test_figures_2000(void **state)
{
    (void)state;
    size_t last = 0;
    for (size_t d = 0; d <= 64; d = d ? d * 4 : 1) {
        struct side a, b;
        struct stats st;
        rng_state = 1000 + d;
        make_pair(&a, &b, 2000, 0);
        for (size_t k = 0; k < d; k++) { /* d authors with a newer seq on b */
            b.heads[k * 31].seq++;
            rnd_bytes(b.heads[k * 31].hash, FM_HASH_LEN);
        }
        exchange(&b, &a, 1000 + d, &st);
        printf("# 2000 authors, %zu differing: %zu messages, %zu bytes\n", d, st.msgs, st.bytes);
        if (d == 0)
            assert_int_equal(st.msgs, 2); /* 16 fingerprints, one MATCH */
        if (d == 1) {
            assert_true(st.msgs <= 4);  /* with the SUMMARY pair: 3 round trips */
            assert_true(st.bytes + 110 <= 2048);
        }
        if (d > 1)
            assert_true(st.bytes > last); /* grows with d ... */
        assert_true(st.bytes < 40 * 2000); /* ... and stays below one full vector */
        last = st.bytes;
        free_pair(&a, &b);
    }
}

/* ---- decoder rules ---- */

static struct fm_buf B;

static int decode(void)
{
    struct fm_wire_msg m;
    return fm_wire_decode(&m, B.data, B.len);
}

static void put_header(uint8_t version, uint8_t type, uint8_t flags, uint8_t depth, uint16_t n)
{
    fm_buf_reset(&B);
    assert_int_equal(fm_buf_put_u8(&B, version), FM_OK);
    assert_int_equal(fm_buf_put_u8(&B, type), FM_OK);
    assert_int_equal(fm_buf_put_u8(&B, flags), FM_OK);
    assert_int_equal(fm_buf_put_u8(&B, depth), FM_OK);
    assert_int_equal(fm_buf_put_u16(&B, n), FM_OK);
}

static void put_bound(uint8_t len, uint8_t fill)
{
    assert_int_equal(fm_buf_put_u8(&B, len), FM_OK);
    for (uint8_t i = 0; len != FM_RECON_BOUND_END && i < len; i++)
        assert_int_equal(fm_buf_put_u8(&B, fill), FM_OK);
}

static void put_list(uint8_t mode, uint16_t n, uint8_t first, uint64_t seq)
{
    assert_int_equal(fm_buf_put_u8(&B, mode), FM_OK);
    assert_int_equal(fm_buf_put_u16(&B, n), FM_OK);
    for (uint16_t i = 0; i < n; i++) {
        uint8_t it[FM_RECON_ITEM_LEN] = {0};
        memset(it, first + i, FM_PK_LEN);
        fm_be64_put(it + FM_PK_LEN, seq);
        assert_int_equal(fm_buf_append(&B, it, sizeof(it)), FM_OK);
    }
}

/* a fingerprint's bytes for frames the decoder must refuse for other reasons */
static const uint8_t zero_fp[FM_RECON_FP_LEN];

static void test_decoder_rules(void **state)
{
    (void)state;
    struct fm_wire_msg m;
    /* a good message: MATCH to 0x40, LIST of two, FP to the end */
    put_header(2, FM_MSG_RECON, 0, 3, 3);
    put_bound(1, 0x40);
    assert_int_equal(fm_buf_put_u8(&B, FM_RECON_MATCH), FM_OK);
    put_bound(1, 0x80);
    put_list(FM_RECON_LIST, 2, 0x50, 7);
    put_bound(FM_RECON_BOUND_END, 0);
    assert_int_equal(fm_buf_put_u8(&B, FM_RECON_FP), FM_OK);
    for (int i = 0; i < FM_RECON_FP_LEN; i++)
        assert_int_equal(fm_buf_put_u8(&B, (uint8_t)i), FM_OK);
    assert_int_equal(fm_wire_decode(&m, B.data, B.len), FM_OK);
    assert_int_equal(m.u.recon.depth, 3);
    struct fm_buf again;
    fm_buf_init(&again, FM_WIRE_MAX_MSG);
    assert_int_equal(fm_recon_encode_copy(&again, &m.u.recon), FM_OK);
    assert_int_equal(again.len, B.len);
    assert_memory_equal(again.data, B.data, B.len);
    fm_buf_release(&again);
    B.len--; /* truncated */
    assert_int_equal(decode(), FM_EDECODE);
    B.data[0] = 1; /* RECON under version 1 */
    B.len++;
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_SUMMARY, 0, 0, 0); /* another type under version 2 */
    assert_int_equal(decode(), FM_EDECODE);
    put_header(2, FM_MSG_RECON, 1, 0, 0); /* unknown flag */
    assert_int_equal(decode(), FM_EDECODE);
    put_header(2, FM_MSG_RECON, 0, FM_RECON_DEPTH_MAX + 1, 0); /* too deep */
    assert_int_equal(decode(), FM_ETOOBIG);
    put_header(2, FM_MSG_RECON, 0, 0, FM_RECON_RANGES_MAX + 1); /* too many ranges */
    assert_int_equal(decode(), FM_ETOOBIG);
    put_header(2, FM_MSG_RECON, 0, 0, 0); /* empty: everything settled */
    assert_int_equal(decode(), FM_OK);

    put_header(2, FM_MSG_RECON, 0, 0, 2); /* bounds not increasing */
    put_bound(1, 0x80);
    assert_int_equal(fm_buf_put_u8(&B, FM_RECON_MATCH), FM_OK);
    put_bound(2, 0x40);
    assert_int_equal(fm_buf_put_u8(&B, FM_RECON_FP), FM_OK);
    assert_int_equal(fm_buf_append(&B, zero_fp, FM_RECON_FP_LEN), FM_OK);
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_RECON, 0, 0, 1); /* a bound longer than a key */
    put_bound(FM_PK_LEN + 1, 1);
    assert_int_equal(fm_buf_put_u8(&B, FM_RECON_MATCH), FM_OK);
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_RECON, 0, 0, 2); /* two MATCH in a row */
    put_bound(1, 0x40);
    assert_int_equal(fm_buf_put_u8(&B, FM_RECON_MATCH), FM_OK);
    put_bound(1, 0x80);
    assert_int_equal(fm_buf_put_u8(&B, FM_RECON_MATCH), FM_OK);
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_RECON, 0, 0, 1); /* a trailing SKIP */
    put_bound(1, 0x40);
    assert_int_equal(fm_buf_put_u8(&B, FM_RECON_SKIP), FM_OK);
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_RECON, 0, 0, 1); /* unknown mode */
    put_bound(1, 0x40);
    assert_int_equal(fm_buf_put_u8(&B, 9), FM_OK);
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_RECON, 0, 0, 1); /* LIST over its cap */
    put_bound(FM_RECON_BOUND_END, 0);
    put_list(FM_RECON_LIST, FM_RECON_LIST_MAX + 1, 1, 1);
    assert_int_equal(decode(), FM_ETOOBIG);

    put_header(2, FM_MSG_RECON, 0, 0, 1); /* LIST with seq 0 */
    put_bound(FM_RECON_BOUND_END, 0);
    put_list(FM_RECON_LIST, 1, 1, 0);
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_RECON, 0, 0, 1); /* HAVE with seq 0 (none) is fine ... */
    put_bound(FM_RECON_BOUND_END, 0);
    put_list(FM_RECON_HAVE, 1, 1, 0);
    assert_int_equal(decode(), FM_OK);
    put_header(2, FM_MSG_RECON, 0, 0, 1); /* ... an empty HAVE is not */
    put_bound(FM_RECON_BOUND_END, 0);
    put_list(FM_RECON_HAVE, 0, 1, 0);
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_RECON, 0, 0, 1); /* items out of their range */
    put_bound(1, 0x10);
    put_list(FM_RECON_LIST, 1, 0x20, 1);
    assert_int_equal(decode(), FM_EDECODE);

    put_header(2, FM_MSG_RECON, 0, 0, 1); /* items not increasing */
    put_bound(FM_RECON_BOUND_END, 0);
    put_list(FM_RECON_LIST, 2, 0x20, 1);
    memset(B.data + B.len - FM_RECON_ITEM_LEN, 0x10, FM_PK_LEN);
    assert_int_equal(decode(), FM_EDECODE);

    /* more items in all than FM_RECON_ITEMS_MAX */
    uint16_t nr = FM_RECON_ITEMS_MAX / FM_RECON_HAVE_MAX + 1;
    put_header(2, FM_MSG_RECON, 0, 0, nr);
    for (uint16_t r = 0; r < nr; r++) {
        put_bound(1, (uint8_t)(r + 1));
        put_list(FM_RECON_HAVE, FM_RECON_HAVE_MAX, 0, 1);
        for (int i = 0; i < FM_RECON_HAVE_MAX; i++) { /* keys r | i..., increasing */
            uint8_t *it = B.data + B.len - (size_t)(FM_RECON_HAVE_MAX - i) * FM_RECON_ITEM_LEN;
            memset(it + 1, (uint8_t)i, FM_PK_LEN - 1);
            it[0] = (uint8_t)r;
        }
    }
    assert_int_equal(decode(), FM_ETOOBIG);
}

/* A peer that keeps the exchange going past the depth bound gets no answer. */
static void test_depth_bound(void **state)
{
    (void)state;
    struct fm_recon_set set;
    struct fm_head h = {.seq = 3, .limit = UINT64_MAX};
    memset(h.author, 7, FM_PK_LEN);
    fm_recon_set_init(&set);
    assert_int_equal(fm_recon_set_build(&set, &h, 1), FM_OK);
    put_header(2, FM_MSG_RECON, 0, FM_RECON_DEPTH_MAX, 1);
    put_bound(FM_RECON_BOUND_END, 0);
    put_list(FM_RECON_LIST, 0, 0, 1);
    struct fm_wire_msg m;
    assert_int_equal(fm_wire_decode(&m, B.data, B.len), FM_OK);
    struct side dummy = {0};
    struct fm_buf out;
    fm_buf_init(&out, FM_WIRE_MAX_MSG);
    bool send = true, more = true;
    uni = calloc(1, sizeof(*uni));
    memcpy(uni[0].author, h.author, FM_PK_LEN);
    nuni = 1;
    struct view v[1] = {{0}};
    dummy.view = v;
    struct fm_recon_cb cb2 = {&dummy, cb_same, cb_item};
    assert_int_equal(fm_recon_respond(&set, &m.u.recon, &cb2, &out, &send, &more), FM_ETOOBIG);
    assert_false(send);
    assert_true(v[0].known && v[0].seq == 0); /* what it taught still counted */
    free(uni);
    uni = NULL;
    fm_buf_release(&out);
    fm_recon_set_release(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_pairs),
        cmocka_unit_test(test_figures_2000),
        cmocka_unit_test(test_decoder_rules),
        cmocka_unit_test(test_depth_bound),
    };
    if (fm_crypto_init() != FM_OK)
        return 1;
    fm_buf_init(&B, FM_WIRE_MAX_MSG);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fm_buf_release(&B);
    return rc;
}
