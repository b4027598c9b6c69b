/*
 * node_test_util.h — helpers shared by the node library's unit tests
 * (test_node.c, test_ingest.c, test_ingest_trust.c, test_store_life.c):
 * the test organisation, list collectors, raw op building. Include after
 * cmocka.h and node_fixture.h; every helper asserts through cmocka.
 */
#ifndef FM_NODE_TEST_UTIL_H
#define FM_NODE_TEST_UTIL_H

#include <stdio.h>
#include <time.h>

static struct fx_org org;

#define OK(x) assert_int_equal((x), FM_OK)
#define NOSYNC FM_OPEN_NOSYNC_

/* ---- small helpers ---- */

static inline void key_tag(const uint8_t pk[FM_PK_LEN], char tag[FM_KEY_TAG_LEN + 1])
{
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(pk, key);
    memcpy(tag, key, FM_KEY_TAG_LEN);
    tag[FM_KEY_TAG_LEN] = '\0';
}

static inline uint64_t ops_count(struct fm_node *n)
{
    struct fm_node_stats st;
    OK(fm_node_stats(n, &st));
    return st.ops;
}

struct ids {
    char id[64][FM_ID_MAX];
    int stage[64];
    size_t n;
};

static inline int collect_incident(void *ctx, const struct fm_incident *inc)
{
    struct ids *l = ctx;
    if (l->n < 64) {
        fm_strlcpy(l->id[l->n], inc->id, FM_ID_MAX);
        l->stage[l->n] = (int)inc->stage;
        l->n++;
    }
    return 0;
}

static inline size_t list_incidents(struct fm_node *n, int stage, const char *category, struct ids *l)
{
    struct fm_incident_filter f = {.stage = stage, .category = category};
    memset(l, 0, sizeof *l);
    OK(fm_node_incidents(n, &f, collect_incident, l));
    return l->n;
}

struct tl {
    struct fm_timeline_entry e[32];
    size_t n;
};

static inline int collect_tl(void *ctx, const struct fm_timeline_entry *e)
{
    struct tl *t = ctx;
    if (t->n < 32)
        t->e[t->n++] = *e;
    return 0;
}

static inline int stop_at_first(void *ctx, const struct fm_incident *inc)
{
    (void)ctx;
    (void)inc;
    return 7;
}

struct logs {
    struct fm_log_entry e[64];
    size_t n;
};

static inline int collect_log(void *ctx, const struct fm_log_entry *e)
{
    struct logs *l = ctx;
    if (l->n < 64) {
        l->e[l->n] = *e;
        l->e[l->n].payload = NULL;
        l->n++;
    }
    return 0;
}

static inline int count_unit(void *ctx, const struct fm_unit *u)
{
    (void)u;
    (*(int *)ctx)++;
    return 0;
}

struct res_find {
    const char *id;
    int64_t qty;
};

static inline int find_resource(void *ctx, const struct fm_resource *r)
{
    struct res_find *f = ctx;
    if (strcmp(r->id, f->id) == 0)
        f->qty = r->quantity;
    return 0;
}

static inline int64_t resource_qty(struct fm_node *n, const char *id)
{
    struct res_find f = {id, INT64_MIN};
    OK(fm_node_resources(n, find_resource, &f));
    return f.qty;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* A reader node: a config for a fresh data dir, no identity. */
static inline void reader(struct fx_node *c)
{
    OK(fx_author(&org, c, "reader"));
    OK(fx_open(c, FM_OPEN_READ | NOSYNC));
}

/* Builds one op with every field chosen by the caller. */
static inline void build_op(struct fx_ops *l, const struct fm_identity *id, uint8_t kind, uint64_t seq,
                     const uint8_t *prev, uint64_t hlc, const void *p, size_t len)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_OP_MAX_LEN);
    OK(fm_op_build(&b, id, kind, seq, prev, hlc, p, (uint32_t)len));
    OK(fx_ops_add(l, b.data, b.len));
    fm_buf_release(&b);
}

static inline void report_payload(struct payload *pl, const char *category)
{
    memset(pl, 0, sizeof *pl);
    pl->log.kind = OP_INC_REPORT;
    fm_strlcpy(pl->category, category, sizeof pl->category);
    pl->priority = 3;
    pl->present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON);
}

static inline void op_hash_of(const struct fx_ops *l, size_t i, uint8_t out[FM_HASH_LEN])
{
    struct fm_op op;
    OK(fm_op_decode(&op, l->ops[i], l->lens[i]));
    fm_op_hash(&op, out);
}

/* The seq of author pk's head in n (0 if it holds none of its log). */
static inline uint64_t fx_head_seq(struct fm_node *n, const uint8_t *pk)
{
    struct fm_head *heads;
    size_t nh;
    uint64_t seq = 0;
    OK(fm_node_heads(n, &heads, &nh));
    for (size_t i = 0; i < nh; i++)
        if (memcmp(heads[i].author, pk, FM_PK_LEN) == 0)
            seq = heads[i].seq;
    free(heads);
    return seq;
}

/* An enrolled author with the given role (and unit), opened with its
 * identity. */
static inline void fx_open_role(struct fx_node *a, const char *name, enum fm_role role,
                                const char *unit)
{
    OK(fx_author(&org, a, name));
    fm_strlcpy(a->cert.unit, unit ? unit : "", sizeof a->cert.unit);
    a->cert.role = role;
    a->cfg.role = role;
    fm_cert_sign(&a->cert, &org.root);
    OK(fm_cert_write_file(&a->cert, a->cfg.cert_path));
    OK(fx_open(a, FM_OPEN_IDENTITY | NOSYNC));
}

/* An enrolled author, opened with its identity (tests write through it). */
static inline void fx_open_author(struct fx_node *x, const char *name)
{
    OK(fx_author(&org, x, name));
    OK(fx_open(x, FM_OPEN_IDENTITY | NOSYNC));
}

static inline void fx_file_copy(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* Copies x's closed store (data.mdb) to `save`, or back from it: a backup
 * and its restore. */
static inline void fx_store_copy(struct fx_node *x, const char *save, bool restore)
{
    char mdb[FM_PATH_MAX + 16];
    snprintf(mdb, sizeof mdb, "%s/data.mdb", x->cfg.data_dir);
    if (restore)
        fx_file_copy(save, mdb);
    else
        fx_file_copy(mdb, save);
}

/* Runs a test file's tests with the organisation set up around them. */
static inline int fx_node_main(const char *name, const struct CMUnitTest *tests, size_t n)
{
    if (fm_crypto_init() != FM_OK || fx_org_init(&org) != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    int rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    fx_org_done(&org);
    return rc;
}

#endif
