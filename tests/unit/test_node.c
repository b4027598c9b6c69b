/*
 * test_node.c — the node library end to end through its public calls:
 * writes and reads, id resolution, two nodes converging, every ingest
 * refusal, duplicates and forks, revocations in either order, rebuild,
 * map growth from a tiny map, and reopening.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"

#include <time.h>

static struct fx_org org;

#define OK(x) assert_int_equal((x), FM_OK)
#define NOSYNC FM_OPEN_NOSYNC_

/* ---- small helpers ---- */

static void key_tag(const uint8_t pk[FM_PK_LEN], char tag[FM_KEY_TAG_LEN + 1])
{
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(pk, key);
    memcpy(tag, key, FM_KEY_TAG_LEN);
    tag[FM_KEY_TAG_LEN] = '\0';
}

static uint64_t ops_count(struct fm_node *n)
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

static int collect_incident(void *ctx, const struct fm_incident *inc)
{
    struct ids *l = ctx;
    if (l->n < 64) {
        fm_strlcpy(l->id[l->n], inc->id, FM_ID_MAX);
        l->stage[l->n] = (int)inc->stage;
        l->n++;
    }
    return 0;
}

static size_t list_incidents(struct fm_node *n, int stage, const char *category, struct ids *l)
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

static int collect_tl(void *ctx, const struct fm_timeline_entry *e)
{
    struct tl *t = ctx;
    if (t->n < 32)
        t->e[t->n++] = *e;
    return 0;
}

static int stop_at_first(void *ctx, const struct fm_incident *inc)
{
    (void)ctx;
    (void)inc;
    return 7;
}

struct logs {
    struct fm_log_entry e[64];
    size_t n;
};

static int collect_log(void *ctx, const struct fm_log_entry *e)
{
    struct logs *l = ctx;
    if (l->n < 64) {
        l->e[l->n] = *e;
        l->e[l->n].payload = NULL;
        l->n++;
    }
    return 0;
}

static int count_unit(void *ctx, const struct fm_unit *u)
{
    (void)u;
    (*(int *)ctx)++;
    return 0;
}

struct res_find {
    const char *id;
    int64_t qty;
};

static int find_resource(void *ctx, const struct fm_resource *r)
{
    struct res_find *f = ctx;
    if (strcmp(r->id, f->id) == 0)
        f->qty = r->quantity;
    return 0;
}

static int64_t resource_qty(struct fm_node *n, const char *id)
{
    struct res_find f = {id, INT64_MIN};
    OK(fm_node_resources(n, find_resource, &f));
    return f.qty;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* A reader node: a config for a fresh data dir, no identity. */
static void reader(struct fx_node *c)
{
    OK(fx_author(&org, c, "reader"));
    OK(fx_open(c, FM_OPEN_READ | NOSYNC));
}

/* Builds one op with every field chosen by the caller. */
static void build_op(struct fx_ops *l, const struct fm_identity *id, uint8_t kind, uint64_t seq,
                     const uint8_t *prev, uint64_t hlc, const void *p, size_t len)
{
    struct fm_buf b;
    fm_buf_init(&b, FM_OP_MAX_LEN);
    OK(fm_op_build(&b, id, kind, seq, prev, hlc, p, (uint32_t)len));
    OK(fx_ops_add(l, b.data, b.len));
    fm_buf_release(&b);
}

static void report_payload(struct payload *pl, const char *category)
{
    memset(pl, 0, sizeof *pl);
    pl->kind = OP_INC_REPORT;
    fm_strlcpy(pl->category, category, sizeof pl->category);
    pl->priority = 3;
    pl->present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON);
}

static void op_hash_of(const struct fx_ops *l, size_t i, uint8_t out[FM_HASH_LEN])
{
    struct fm_op op;
    OK(fm_op_decode(&op, l->ops[i], l->lens[i]));
    fm_op_hash(&op, out);
}

/* ---- tests ---- */

static void test_write_read_flow(void **state)
{
    (void)state;
    struct fx_node a;
    char id[FM_ID_MAX], id2[FM_ID_MAX], uid[FM_ID_MAX], rid[FM_ID_MAX], tag[9], want[FM_ID_MAX];
    char key[FM_KEY_TEXT_LEN];
    OK(fx_author(&org, &a, "centre"));
    OK(fx_open(&a, FM_OPEN_IDENTITY));
    assert_memory_equal(fm_node_pk(a.n), a.id.pk, FM_PK_LEN);
    assert_string_equal(fm_node_config(a.n)->name, "centre");

    struct fm_incident_new in = {.category = "fire", .priority = 2, .lat_e7 = 301234567,
                                 .lon_e7 = 1205678901, .address = "Main St 5",
                                 .caller = "110", .desc = "smoke"};
    OK(fm_node_incident_report(a.n, &in, id));
    key_tag(a.id.pk, tag);
    snprintf(want, sizeof want, "%s-2", tag); /* op 1 is our certificate */
    assert_string_equal(id, want);

    struct fm_incident inc;
    OK(fm_node_incident_get(a.n, id, &inc));
    assert_string_equal(inc.id, id);
    assert_string_equal(inc.category, "fire");
    assert_int_equal(inc.priority, 2);
    assert_int_equal(inc.lat_e7, 301234567);
    assert_int_equal(inc.lon_e7, 1205678901);
    assert_string_equal(inc.address, "Main St 5");
    assert_string_equal(inc.caller, "110");
    assert_string_equal(inc.desc, "smoke");
    assert_int_equal(inc.stage, FM_STAGE_NEW);
    assert_int_equal(inc.epoch, 0);
    fm_key_encode(a.id.pk, key);
    assert_string_equal(inc.reporter, key);
    assert_int_equal(inc.nnotes, 1);
    assert_true(inc.reported_hlc > 0 && inc.updated_hlc == inc.reported_hlc);

    OK(fm_node_incident_note(a.n, id, "crew on the way"));
    OK(fm_node_incident_status(a.n, id, FM_STAGE_DISPATCHED, false));
    assert_int_equal(fm_node_incident_status(a.n, id, FM_STAGE_NEW, false), FM_ESTATE);
    assert_int_equal(fm_node_incident_status(a.n, id, FM_STAGE_DISPATCHED, false), FM_ESTATE);
    assert_int_equal(fm_node_incident_status(a.n, id, FM_STAGE_NEW, true), FM_ESTATE);
    OK(fm_node_incident_status(a.n, id, FM_STAGE_RESOLVED, false));
    OK(fm_node_incident_status(a.n, id, FM_STAGE_NEW, true));
    OK(fm_node_incident_get(a.n, id, &inc));
    assert_int_equal(inc.epoch, 1);
    assert_int_equal(inc.stage, FM_STAGE_NEW);
    OK(fm_node_incident_status(a.n, id, FM_STAGE_ONSCENE, false));
    OK(fm_node_incident_get(a.n, id, &inc));
    assert_int_equal(inc.epoch, 1);
    assert_int_equal(inc.stage, FM_STAGE_ONSCENE);
    assert_int_equal(inc.nnotes, 6);
    assert_true(inc.updated_hlc > inc.reported_hlc);

    struct tl t = {0};
    OK(fm_node_incident_timeline(a.n, id, collect_tl, &t));
    assert_int_equal(t.n, 6);
    const char *kinds[] = {"report", "note", "status", "status", "status", "status"};
    const char *texts[] = {NULL, "crew on the way", "dispatched", "resolved", "new epoch 1",
                           "onscene epoch 1"};
    for (size_t i = 0; i < t.n; i++) {
        assert_string_equal(t.e[i].kind, kinds[i]);
        if (texts[i])
            assert_string_equal(t.e[i].text, texts[i]);
        assert_string_equal(t.e[i].author, key);
        if (i > 0)
            assert_true(t.e[i].hlc > t.e[i - 1].hlc);
    }
    assert_non_null(strstr(t.e[0].text, "report fire p2 @30.1234567,120.5678901 'Main St 5'"));

    struct fm_incident_new in2 = {.category = "flood", .priority = 0, .lat_e7 = -1, .lon_e7 = 2};
    OK(fm_node_incident_report(a.n, &in2, id2));
    OK(fm_node_incident_get(a.n, id2, &inc));
    assert_int_equal(inc.priority, 3); /* default */
    assert_string_equal(inc.address, "");

    struct ids l;
    assert_int_equal(list_incidents(a.n, -1, NULL, &l), 2);
    assert_string_equal(l.id[0], id2); /* newest report first */
    assert_string_equal(l.id[1], id);
    assert_int_equal(list_incidents(a.n, -1, "fire", &l), 1);
    assert_string_equal(l.id[0], id);
    assert_int_equal(list_incidents(a.n, FM_STAGE_ONSCENE, NULL, &l), 1);
    assert_string_equal(l.id[0], id);
    assert_int_equal(list_incidents(a.n, FM_STAGE_NEW, NULL, &l), 1);
    assert_string_equal(l.id[0], id2);
    assert_int_equal(list_incidents(a.n, FM_STAGE_CLOSED, NULL, &l), 0);
    assert_int_equal(list_incidents(a.n, -1, "nope", &l), 0);
    assert_int_equal(list_incidents(a.n, -1, "fir", &l), 0);
    assert_int_equal(list_incidents(a.n, FM_STAGE_NEW, "flood", &l), 1);
    assert_int_equal(list_incidents(a.n, FM_STAGE_NEW, "fire", &l), 0);
    assert_int_equal(fm_node_incidents(a.n, NULL, stop_at_first, NULL), 7);

    struct fm_unit_new un = {.name = "Engine 7", .department = "Fire Dept", .kind = "fire",
                             .capabilities = "water, ladder,water", .tier = 1};
    OK(fm_node_unit_register(a.n, &un, uid));
    struct fm_unit u;
    OK(fm_node_unit_get(a.n, uid, &u));
    assert_string_equal(u.name, "Engine 7");
    assert_string_equal(u.department, "Fire Dept");
    assert_string_equal(u.kind, "fire");
    assert_string_equal(u.capabilities, "ladder,water");
    assert_string_equal(u.status, "available");
    assert_int_equal(u.tier, 1);
    assert_false(u.has_position);
    OK(fm_node_unit_status(a.n, uid, "onscene"));
    assert_int_equal(fm_node_unit_status(a.n, uid, "flying"), FM_EINVAL);
    OK(fm_node_unit_position(a.n, uid, 301000000, -1200000000));
    OK(fm_node_unit_get(a.n, uid, &u));
    assert_string_equal(u.status, "onscene");
    assert_true(u.has_position);
    assert_int_equal(u.lat_e7, 301000000);
    assert_int_equal(u.lon_e7, -1200000000);
    assert_true(u.position_hlc > 0 && u.updated_hlc == u.position_hlc);
    int nunits = 0;
    OK(fm_node_units(a.n, count_unit, &nunits));
    assert_int_equal(nunits, 1);
    /* an incident id is not a unit id */
    assert_int_equal(fm_node_unit_get(a.n, id, &u), FM_ENOTFOUND);

    OK(fm_node_resource_add(a.n, "sandbag", "North", 100, rid));
    OK(fm_node_resource_adjust(a.n, rid, -30));
    assert_int_equal(fm_node_resource_adjust(a.n, rid, -71), FM_ESTATE);
    OK(fm_node_resource_adjust(a.n, rid, 5));
    assert_int_equal(resource_qty(a.n, rid), 75);

    struct logs lg = {0};
    OK(fm_node_log(a.n, NULL, collect_log, &lg));
    assert_int_equal(lg.n, ops_count(a.n));
    assert_string_equal(lg.e[0].kind_name, "cert");
    assert_int_equal(lg.e[0].seq, 1);
    assert_string_equal(lg.e[1].kind_name, "incident.report");
    assert_string_equal(lg.e[1].summary, "report fire p2 @30.1234567,120.5678901 'Main St 5' "
                                         "caller 110 desc 'smoke'");
    for (size_t i = 1; i < lg.n; i++) {
        assert_memory_equal(lg.e[i].prev, lg.e[i - 1].hash, FM_HASH_LEN);
        assert_int_equal(lg.e[i].seq, i + 1);
        assert_true(lg.e[i].hlc > lg.e[i - 1].hlc);
    }
    assert_non_null(strstr(lg.e[lg.n - 1].summary, "+5"));

    struct fm_node_stats st;
    OK(fm_node_stats(a.n, &st));
    assert_int_equal(st.ops, 14);
    assert_int_equal(st.authors, 1);
    assert_int_equal(st.entities, 4);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.hlc, lg.e[lg.n - 1].hlc);
    assert_true(st.map_size >= st.store_bytes && st.store_bytes > 0);
    fx_done(&a);
}

static void test_input_validation(void **state)
{
    (void)state;
    struct fx_node a;
    char id[FM_ID_MAX], big[600];
    OK(fx_author(&org, &a, "v"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    memset(big, 'a', sizeof big);
    big[sizeof big - 1] = '\0';
    struct fm_incident_new good = {.category = "fire", .priority = 1};
    struct fm_incident_new in = good;
    in.category = "Fire";
    assert_int_equal(fm_node_incident_report(a.n, &in, id), FM_EINVAL);
    in.category = "";
    assert_int_equal(fm_node_incident_report(a.n, &in, id), FM_EINVAL);
    in.category = NULL;
    assert_int_equal(fm_node_incident_report(a.n, &in, id), FM_EINVAL);
    in = good;
    in.priority = 6;
    assert_int_equal(fm_node_incident_report(a.n, &in, id), FM_EINVAL);
    in = good;
    in.lat_e7 = FM_LAT_MAX + 1;
    assert_int_equal(fm_node_incident_report(a.n, &in, id), FM_EINVAL);
    in = good;
    in.lon_e7 = -FM_LON_MAX - 1;
    assert_int_equal(fm_node_incident_report(a.n, &in, id), FM_EINVAL);
    in = good;
    in.address = big;
    assert_int_equal(fm_node_incident_report(a.n, &in, id), FM_EINVAL);
    in = good;
    in.desc = "bell\x07";
    assert_int_equal(fm_node_incident_report(a.n, &in, id), FM_EINVAL);
    assert_int_equal(fm_node_incident_report(a.n, NULL, id), FM_EINVAL);
    assert_int_equal(fm_node_incident_note(a.n, "zzzz", ""), FM_EINVAL);
    assert_int_equal(fm_node_incident_note(a.n, "zzzz", "no such incident"), FM_ENOTFOUND);
    assert_int_equal(fm_node_incident_status(a.n, "zzzz", 9, false), FM_EINVAL);
    struct fm_unit_new un = {.name = "u", .department = "d", .kind = "k", .tier = 0};
    assert_int_equal(fm_node_unit_register(a.n, &un, id), FM_EINVAL);
    un.tier = 4;
    assert_int_equal(fm_node_unit_register(a.n, &un, id), FM_EINVAL);
    un.tier = 1;
    un.name = "";
    assert_int_equal(fm_node_unit_register(a.n, &un, id), FM_EINVAL);
    un.name = "u";
    un.capabilities = "Bad Cap";
    assert_int_equal(fm_node_unit_register(a.n, &un, id), FM_EINVAL);
    assert_int_equal(fm_node_unit_position(a.n, "zzzz", FM_LAT_MAX + 1, 0), FM_EINVAL);
    assert_int_equal(fm_node_resource_add(a.n, "pump", "d", -1, id), FM_EINVAL);
    assert_int_equal(fm_node_resource_add(a.n, "", "d", 1, id), FM_EINVAL);
    assert_int_equal(fm_node_resource_adjust(a.n, "zzzz", 0), FM_EINVAL);
    assert_int_equal(fm_node_resource_adjust(a.n, "zzzz", 2), FM_ENOTFOUND);
    /* nothing at all was written, not even the certificate op */
    assert_int_equal(ops_count(a.n), 0);
    fx_done(&a);

    /* without identity, no writes */
    OK(fx_author(&org, &a, "ro"));
    OK(fx_open(&a, FM_OPEN_READ));
    uint8_t zero[FM_PK_LEN] = {0};
    assert_memory_equal(fm_node_pk(a.n), zero, FM_PK_LEN);
    assert_int_equal(fm_node_incident_report(a.n, &good, id), FM_EPERM);
    assert_int_equal(ops_count(a.n), 0);
    fx_done(&a);
}

static void test_open_errors(void **state)
{
    (void)state;
    struct fx_node a, b, f;
    struct fm_identity other;
    struct fm_config cfg;
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &b, "b"));
    assert_int_equal(chmod(a.cfg.key_path, 0644), 0);
    assert_int_equal(fx_open(&a, FM_OPEN_IDENTITY), FM_EKEYPERM);
    assert_null(a.n);
    assert_int_equal(chmod(a.cfg.key_path, 0600), 0);
    OK(fx_open(&a, FM_OPEN_IDENTITY));
    fm_node_close(&a.n);

    cfg = a.cfg;
    fm_strlcpy(cfg.key_path, "/nonexistent/key", sizeof cfg.key_path);
    assert_int_equal(fm_node_open(&a.n, &cfg, FM_OPEN_IDENTITY), FM_ENOTFOUND);
    cfg = a.cfg;
    fm_strlcpy(cfg.cert_path, "/nonexistent/cert", sizeof cfg.cert_path);
    assert_int_equal(fm_node_open(&a.n, &cfg, FM_OPEN_IDENTITY), FM_ENOTFOUND);
    cfg = a.cfg;
    fm_strlcpy(cfg.cert_path, b.cfg.cert_path, sizeof cfg.cert_path); /* someone else's */
    assert_int_equal(fm_node_open(&a.n, &cfg, FM_OPEN_IDENTITY), FM_ECERT);
    OK(fm_identity_generate(&other));
    uint64_t now = fm_now_ms();
    OK(fx_author_ex(&org, &f, "f", &other, now - FX_DAY_MS, now + FX_DAY_MS));
    assert_int_equal(fx_open(&f, FM_OPEN_IDENTITY), FM_ECERT); /* foreign org */
    OK(fx_open(&f, FM_OPEN_READ)); /* reading needs no identity */
    cfg = a.cfg;
    cfg.data_dir[0] = '\0';
    assert_int_equal(fm_node_open(&a.n, &cfg, FM_OPEN_READ), FM_EINVAL);
    fm_identity_release(&other);
    fx_done(&a);
    fx_done(&b);
    fx_done(&f);
}

static void test_resolve_ids(void **state)
{
    (void)state;
    struct fx_node a, b;
    char id[FM_ID_MAX], out[FM_ID_MAX], tag[9], btag[9], p[FM_ID_MAX], bid[FM_ID_MAX];
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &b, "b"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    OK(fx_open(&b, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire"};
    for (int i = 0; i < 20; i++) /* ids tag-2 .. tag-21 */
        OK(fm_node_incident_report(a.n, &in, id));
    OK(fm_node_incident_report(b.n, &in, bid));
    OK(fx_sync(b.n, a.n, NULL));
    key_tag(a.id.pk, tag);
    key_tag(b.id.pk, btag);

    snprintf(p, sizeof p, "%s-2", tag); /* exact, though tag-20 and tag-21 share it */
    OK(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, p, out));
    assert_string_equal(out, p);
    snprintf(p, sizeof p, "%s-1", tag); /* seq 1 is the cert: only a prefix */
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, p, out), FM_EAMBIGUOUS);
    char want[64];
    snprintf(want, sizeof want, "%s-10, %s-11", tag, tag);
    assert_string_equal(out, want);
    snprintf(p, sizeof p, "%s-", tag);
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, p, out), FM_EAMBIGUOUS);
    snprintf(p, sizeof p, "%s-21", tag);
    for (char *c = p; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    OK(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, p, out)); /* case-insensitive */
    snprintf(p, sizeof p, "%s-21", tag);
    assert_string_equal(out, p);
    snprintf(p, sizeof p, "%s-99", tag);
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, p, out), FM_ENOTFOUND);
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, "9", out), FM_ENOTFOUND);
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, "", out), FM_EINVAL);
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_UNIT, tag, out), FM_ENOTFOUND);

    /* shortest prefix of b's tag that is not a prefix of a's: unique */
    size_t k = 0;
    while (k < FM_KEY_TAG_LEN && tag[k] == btag[k])
        k++;
    if (k < FM_KEY_TAG_LEN) {
        memcpy(p, btag, k + 1);
        p[k + 1] = '\0';
        OK(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, p, out));
        assert_string_equal(out, bid);
        struct fm_incident inc;
        OK(fm_node_incident_get(a.n, p, &inc));
        assert_string_equal(inc.id, bid);
        OK(fm_node_incident_note(a.n, p, "via prefix"));
        OK(fm_node_incident_get(a.n, bid, &inc));
        assert_int_equal(inc.nnotes, 2);
    }
    fx_done(&a);
    fx_done(&b);
}

static void test_converge_two_nodes(void **state)
{
    (void)state;
    struct fx_node a, b;
    char xa[FM_ID_MAX], xb[FM_ID_MAX], ra[FM_ID_MAX], rb[FM_ID_MAX], ua[FM_ID_MAX];
    struct fm_ingest_result res;
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &b, "b"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    OK(fx_open(&b, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .address = "A street"};
    OK(fm_node_incident_report(a.n, &in, xa));
    in.category = "crash";
    OK(fm_node_incident_report(b.n, &in, xb));
    OK(fm_node_resource_add(a.n, "pump", "d1", 10, ra));
    OK(fm_node_resource_add(b.n, "sandbag", "d2", 50, rb));
    struct fm_unit_new un = {.name = "P1", .department = "Police", .kind = "patrol", .tier = 1};
    OK(fm_node_unit_register(a.n, &un, ua));
    OK(fx_sync(a.n, b.n, &res));
    assert_int_equal(res.stored, 4);
    assert_int_equal(res.rejected, 0);
    OK(fx_sync(b.n, a.n, &res));
    assert_int_equal(res.stored, 3);
    assert_int_equal(res.duplicates, 4);
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);

    /* concurrent edits of the same things on both sides */
    OK(fm_node_incident_status(a.n, xa, FM_STAGE_DISPATCHED, false));
    OK(fm_node_incident_status(b.n, xa, FM_STAGE_ENROUTE, false));
    OK(fm_node_incident_note(a.n, xa, "from a"));
    OK(fm_node_incident_note(b.n, xa, "from b"));
    OK(fm_node_resource_adjust(a.n, rb, -20));
    OK(fm_node_resource_adjust(b.n, rb, -25));
    OK(fm_node_resource_adjust(b.n, ra, -4));
    OK(fm_node_unit_status(a.n, ua, "assigned"));
    sleep_ms(3); /* b's status is stamped strictly later */
    OK(fm_node_unit_status(b.n, ua, "offline"));
    assert_int_equal(fx_digest_eq(a.n, b.n), 0);
    OK(fx_sync(a.n, b.n, NULL));
    OK(fx_sync(b.n, a.n, NULL));
    assert_int_equal(fx_digest_eq(a.n, b.n), 1);

    struct fm_incident ia, ib;
    OK(fm_node_incident_get(a.n, xa, &ia));
    OK(fm_node_incident_get(b.n, xa, &ib));
    assert_int_equal(ia.stage, FM_STAGE_ENROUTE); /* lattice max */
    assert_int_equal(ia.nnotes, 5);
    assert_memory_equal(&ia, &ib, sizeof ia);
    assert_int_equal(resource_qty(a.n, rb), 5);  /* 50 - 20 - 25 */
    assert_int_equal(resource_qty(b.n, rb), 5);
    struct fm_unit u1, u2;
    OK(fm_node_unit_get(a.n, ua, &u1));
    OK(fm_node_unit_get(b.n, ua, &u2));
    assert_string_equal(u1.status, u2.status); /* LWW: b wrote later */
    assert_string_equal(u1.status, "offline");

    /* everything again: all duplicates, nothing changes */
    uint8_t before[FM_HASH_LEN], after[FM_HASH_LEN];
    OK(fm_node_digest(a.n, before));
    OK(fx_sync(b.n, a.n, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.duplicates, ops_count(b.n));
    OK(fm_node_digest(a.n, after));
    assert_memory_equal(before, after, FM_HASH_LEN);
    assert_int_equal(ops_count(a.n), ops_count(b.n));
    fx_done(&a);
    fx_done(&b);
}

static void test_reject_tampered_forged(void **state)
{
    (void)state;
    struct fx_node a, b, c;
    struct fx_ops ops = {0}, bad = {0};
    struct fm_ingest_result res;
    struct fm_node_stats st;
    char id[FM_ID_MAX];
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &b, "b"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "abcdef"};
    for (int i = 0; i < 3; i++)
        OK(fm_node_incident_report(a.n, &in, id));
    OK(fx_collect(a.n, a.id.pk, &ops));
    assert_int_equal(ops.n, 4);
    reader(&c);

    /* a flipped byte in op 3's payload: op 4 no longer chains, and op 3's
     * signature fails, which takes the whole run 1..3 with it */
    for (size_t i = 0; i < ops.n; i++)
        OK(fx_ops_add(&bad, ops.ops[i], ops.lens[i]));
    bad.ops[2][FM_OP_HEADER_LEN + 3] ^= 1;
    OK(fx_ingest(c.n, &bad, 0, bad.n, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.rejected, 4);
    assert_int_equal(res.err, FM_EVERIFY);
    assert_int_equal(res.err_seq, 1);
    assert_int_equal(ops_count(c.n), 0);
    /* a tampered last op: the run's verification fails */
    bad.ops[2][FM_OP_HEADER_LEN + 3] ^= 1;
    bad.ops[3][bad.lens[3] - 1] ^= 0x80;
    OK(fx_ingest(c.n, &bad, 0, bad.n, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.err, FM_EVERIFY);
    assert_int_equal(ops_count(c.n), 0);

    /* ops 1..2 fine; then op 3 signed by b but claiming to be a's */
    OK(fx_ingest(c.n, &ops, 0, 2, &res));
    assert_int_equal(res.stored, 2);
    struct fx_ops forged = {0};
    uint8_t prev[FM_HASH_LEN];
    struct fm_op op3;
    op_hash_of(&ops, 1, prev);
    OK(fm_op_decode(&op3, ops.ops[2], ops.lens[2]));
    build_op(&forged, &b.id, OP_INC_REPORT, 3, prev, op3.hlc, op3.payload, op3.payload_len);
    memcpy(forged.ops[0] + 4, a.id.pk, FM_PK_LEN);
    OK(fx_ingest(c.n, &forged, 0, 1, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.err, FM_EVERIFY);
    assert_int_equal(res.err_seq, 3);
    assert_int_equal(ops_count(c.n), 2);
    /* the genuine ops still go in */
    OK(fx_ingest(c.n, &ops, 2, 2, &res));
    assert_int_equal(res.stored, 2);
    OK(fm_node_stats(c.n, &st));
    assert_int_equal(st.rejected, 4 + 4 + 1);
    assert_int_equal(fx_digest_eq(a.n, c.n), 1);

    /* undecodable envelopes */
    uint8_t junk[200] = {0};
    const uint8_t *jp[2] = {junk, NULL};
    size_t jl[2] = {sizeof junk, 0};
    OK(fm_node_ingest(c.n, jp, jl, 2, &res));
    assert_int_equal(res.rejected, 2);
    assert_int_equal(res.err, FM_EDECODE);
    fx_ops_free(&ops);
    fx_ops_free(&bad);
    fx_ops_free(&forged);
    fx_done(&a);
    fx_done(&b);
    fx_done(&c);
}

static void test_reject_chain_gap_hlc(void **state)
{
    (void)state;
    struct fx_node x, c;
    struct fx_log g;
    struct fm_ingest_result res;
    struct payload pl;
    struct fm_buf b;
    OK(fx_author(&org, &x, "x"));
    reader(&c);
    fx_log_init(&g, &x.id);
    OK(fx_log_cert(&g, &x.cert));
    report_payload(&pl, "fire");
    for (int i = 0; i < 3; i++)
        OK(fx_log_pl(&g, &pl));
    /* gap: 1 then 3 */
    const uint8_t *p[2] = {g.ops.ops[0], g.ops.ops[2]};
    size_t l[2] = {g.ops.lens[0], g.ops.lens[2]};
    OK(fm_node_ingest(c.n, p, l, 2, &res));
    assert_int_equal(res.stored, 1);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.err, FM_EGAP);
    assert_int_equal(res.err_seq, 3);
    assert_int_equal(ops_count(c.n), 1);

    /* broken prev at seq 2 (properly signed) */
    struct fx_ops o = {0};
    uint8_t wrong[FM_HASH_LEN];
    struct payload check;
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    OK(payload_encode(&pl, &b, &check));
    memset(wrong, 0x5a, sizeof wrong);
    struct fm_op op1;
    OK(fm_op_decode(&op1, g.ops.ops[0], g.ops.lens[0]));
    build_op(&o, &x.id, OP_INC_REPORT, 2, wrong, op1.hlc + 5, b.data, b.len);
    OK(fx_ingest(c.n, &o, 0, 1, &res));
    assert_int_equal(res.err, FM_ECHAIN);
    /* right prev, but an hlc that does not increase */
    uint8_t h1[FM_HASH_LEN];
    op_hash_of(&g.ops, 0, h1);
    build_op(&o, &x.id, OP_INC_REPORT, 2, h1, op1.hlc, b.data, b.len);
    OK(fx_ingest(c.n, &o, 1, 1, &res));
    assert_int_equal(res.err, FM_ECHAIN);
    /* a run whose first op breaks takes the later ones with it */
    const uint8_t *p2[3] = {o.ops[0], g.ops.ops[2], g.ops.ops[3]};
    size_t l2[3] = {o.lens[0], g.ops.lens[2], g.ops.lens[3]};
    OK(fm_node_ingest(c.n, p2, l2, 3, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.rejected, 3);
    assert_int_equal(ops_count(c.n), 1);
    /* and the real chain goes in */
    OK(fx_ingest(c.n, &g.ops, 1, 3, &res));
    assert_int_equal(res.stored, 3);
    fm_buf_release(&b);
    fx_ops_free(&o);
    fx_log_free(&g);
    fx_done(&x);
    fx_done(&c);
}

/* Ingests a hand-built log into c and expects err on the op at err_seq
 * with `stored` ops kept. */
static void expect_log(struct fm_node *c, struct fx_log *g, int err, uint64_t err_seq,
                       size_t stored)
{
    struct fm_ingest_result res;
    uint64_t before = ops_count(c);
    OK(fx_ingest(c, &g->ops, 0, g->ops.n, &res));
    assert_int_equal(res.err, err);
    assert_int_equal(res.err_seq, err_seq);
    assert_int_equal(res.stored, stored);
    assert_int_equal(ops_count(c), before + stored);
}

static void test_reject_certs(void **state)
{
    (void)state;
    struct fx_node f, e, y, z, w, c;
    struct fx_log g;
    struct fm_identity other;
    struct payload pl;
    uint64_t now = fm_now_ms();
    reader(&c);
    report_payload(&pl, "fire");
    OK(fm_identity_generate(&other));

    /* foreign organisation */
    OK(fx_author_ex(&org, &f, "f", &other, now - FX_DAY_MS, now + FX_DAY_MS));
    fx_log_init(&g, &f.id);
    OK(fx_log_cert(&g, &f.cert));
    OK(fx_log_pl(&g, &pl));
    expect_log(c.n, &g, FM_EFOREIGN, 1, 0);
    fx_log_free(&g);

    /* expired, and not yet valid */
    OK(fx_author_ex(&org, &e, "e", NULL, now - 2 * FX_DAY_MS, now - FX_DAY_MS));
    fx_log_init(&g, &e.id);
    OK(fx_log_cert(&g, &e.cert));
    OK(fx_log_pl(&g, &pl));
    expect_log(c.n, &g, FM_EEXPIRED, 1, 0);
    fx_log_free(&g);
    OK(fx_author_ex(&org, &w, "w", NULL, now + FX_DAY_MS, now + 2 * FX_DAY_MS));
    fx_log_init(&g, &w.id);
    OK(fx_log_cert(&g, &w.cert));
    expect_log(c.n, &g, FM_EEXPIRED, 1, 0);
    fx_log_free(&g);

    /* a log that does not start with a certificate */
    OK(fx_author(&org, &y, "y"));
    fx_log_init(&g, &y.id);
    OK(fx_log_pl(&g, &pl));
    OK(fx_log_pl(&g, &pl));
    expect_log(c.n, &g, FM_ECERT, 1, 0);
    fx_log_free(&g);
    /* someone else's certificate as op 1 */
    OK(fx_author(&org, &z, "z"));
    fx_log_init(&g, &y.id);
    OK(fx_log_cert(&g, &z.cert));
    expect_log(c.n, &g, FM_ECERT, 1, 0);
    fx_log_free(&g);
    /* a certificate altered after signing */
    struct fm_cert bent = y.cert;
    bent.role = FM_ROLE_ADMIN;
    fx_log_init(&g, &y.id);
    OK(fx_log_cert(&g, &bent));
    expect_log(c.n, &g, FM_ECERT, 1, 0);
    fx_log_free(&g);
    /* a second certificate later in the log */
    fx_log_init(&g, &y.id);
    OK(fx_log_cert(&g, &y.cert));
    OK(fx_log_cert(&g, &y.cert));
    expect_log(c.n, &g, FM_ECERT, 2, 1);
    /* an op stamped after the certificate expires */
    g.hlc = (now + 400 * FX_DAY_MS) << 16;
    struct fx_ops one = {0};
    uint8_t h1[FM_HASH_LEN];
    struct fm_buf b;
    struct payload check;
    op_hash_of(&g.ops, 0, h1);
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    OK(payload_encode(&pl, &b, &check));
    build_op(&one, &y.id, OP_INC_REPORT, 2, h1, g.hlc, b.data, b.len);
    struct fm_ingest_result res;
    OK(fx_ingest(c.n, &one, 0, 1, &res));
    assert_int_equal(res.err, FM_EEXPIRED);
    assert_int_equal(res.stored, 0);

    struct fm_head *heads;
    size_t nh;
    OK(fm_node_heads(c.n, &heads, &nh));
    assert_int_equal(nh, 1); /* only y, with its certificate */
    assert_memory_equal(heads[0].author, y.id.pk, FM_PK_LEN);
    assert_int_equal(heads[0].seq, 1);
    free(heads);
    fm_buf_release(&b);
    fx_ops_free(&one);
    fx_log_free(&g);
    fm_identity_release(&other);
    fx_done(&f);
    fx_done(&e);
    fx_done(&w);
    fx_done(&y);
    fx_done(&z);
    fx_done(&c);
}

/* The head of `author` in n (its certificate window included). */
static void head_of(struct fm_node *n, const uint8_t *author, struct node_head *h)
{
    struct store_txn *t;
    OK(store_read_begin(n->st, &t));
    OK(node_head_get(t, author, h));
    store_txn_abort(&t);
}

static void log_renew(struct fx_log *g, const struct fm_cert *cert)
{
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    pl->kind = OP_CERT_RENEW;
    pl->cert = *cert;
    OK(fx_log_pl(g, pl));
    free(pl);
}

/* A certificate renewal (cert.renew) moves the author's validity window:
 * an author whose certificate expired renews and writes again; every
 * reader accepts its later ops; a renewal for another key, from another
 * org, or stamped outside the new window is refused. */
static void test_cert_renewal(void **state)
{
    (void)state;
    struct fx_node x, c, c2, other_org_node;
    struct fx_log g, bad;
    struct payload pl;
    struct fm_ingest_result res;
    struct fx_org org2;
    struct node_head h;
    uint64_t now = fm_now_ms();
    report_payload(&pl, "fire");
    reader(&c);
    reader(&c2);
    /* x's first certificate ran out yesterday */
    OK(fx_author_ex(&org, &x, "x", NULL, now - 3 * FX_DAY_MS, now - FX_DAY_MS));
    struct fm_cert fresh = x.cert;
    fresh.not_before_ms = now - 3600 * 1000;
    fresh.expires_ms = now + 30 * FX_DAY_MS;
    fresh.role = FM_ROLE_CENTRE;
    fm_strlcpy(fresh.name, "x2", sizeof fresh.name);
    fm_cert_sign(&fresh, &org.root);

    fx_log_init(&g, &x.id);
    g.hlc = (now - 2 * FX_DAY_MS) << 16;
    OK(fx_log_cert(&g, &x.cert)); /* 1 */
    OK(fx_log_pl(&g, &pl));       /* 2, in the old window */
    g.hlc = now << 16;
    bad = g; /* a copy of the state to fork off an op without renewal */
    memset(&bad.ops, 0, sizeof bad.ops);
    OK(fx_log_pl(&bad, &pl));     /* 3': after expiry, no renewal */
    log_renew(&g, &fresh);        /* 3 */
    OK(fx_log_pl(&g, &pl));       /* 4 */

    OK(fx_ingest(c.n, &g.ops, 0, 2, &res));
    assert_int_equal(res.stored, 2);
    OK(fx_ingest(c.n, &bad.ops, 0, 1, &res));
    assert_int_equal(res.err, FM_EEXPIRED); /* expired without renewal */
    OK(fx_ingest(c.n, &g.ops, 2, 1, &res));  /* the renewal, stamped after expiry */
    assert_int_equal(res.stored, 1);
    head_of(c.n, x.id.pk, &h);
    assert_int_equal(h.expires_ms, fresh.expires_ms);
    assert_int_equal(h.not_before_ms, fresh.not_before_ms);
    assert_int_equal(h.role, FM_ROLE_CENTRE);
    assert_string_equal(h.name, "x2");
    OK(fx_ingest(c.n, &g.ops, 3, 1, &res));
    assert_int_equal(res.stored, 1);
    assert_int_equal(ops_count(c.n), 4);
    /* a second reader given the whole log in one batch: the ops after the
     * renewal are checked against the new window, and it ends equal */
    OK(fx_ingest(c2.n, &g.ops, 0, 4, &res));
    assert_int_equal(res.stored, 4);
    assert_int_equal(res.rejected, 0);
    assert_true(fx_digest_eq(c.n, c2.n));

    /* refused renewals: another key's certificate, another org's, and one
     * stamped outside its own window */
    struct fx_node y;
    OK(fx_author(&org, &y, "y"));
    OK(fx_org_init(&org2));
    OK(fx_author(&org2, &other_org_node, "o"));
    struct fx_log r;
    struct fm_cert foreign = fresh;
    fm_cert_sign(&foreign, &org2.root);
    struct fm_cert late = fresh;
    late.not_before_ms = now + FX_DAY_MS;
    fm_cert_sign(&late, &org.root);
    const struct {
        const struct fm_cert *cert;
        int err;
    } cases[] = {{&y.cert, FM_ECERT}, {&foreign, FM_EFOREIGN}, {&late, FM_EEXPIRED}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fx_node z;
        OK(fx_author(&org, &z, "z"));
        fx_log_init(&r, &z.id);
        OK(fx_log_cert(&r, &z.cert));
        struct fm_cert cc = *cases[i].cert;
        if (cases[i].err != FM_ECERT) { /* for z's key */
            memcpy(cc.node, z.id.pk, FM_PK_LEN);
            fm_cert_sign(&cc, cases[i].err == FM_EFOREIGN ? &org2.root : &org.root);
        }
        log_renew(&r, &cc);
        expect_log(c.n, &r, cases[i].err, 2, 1);
        fx_log_free(&r);
        fx_done(&z);
    }

    /* the writer: a node opened with a renewed certificate file (another
     * window than op 1's) renews through fm_node_renew_cert */
    struct fx_node w;
    OK(fx_author_ex(&org, &w, "w", NULL, now - FX_DAY_MS, now + FX_DAY_MS));
    OK(fx_open(&w, FM_OPEN_IDENTITY | NOSYNC));
    OK(fm_node_incident_report(w.n, &(struct fm_incident_new){.category = "fire", .priority = 3},
                               NULL));
    fm_node_close(&w.n);
    struct fm_cert w2 = w.cert;
    w2.expires_ms = now + 90 * FX_DAY_MS;
    fm_cert_sign(&w2, &org.root);
    OK(fm_cert_write_file(&w2, w.cfg.cert_path));
    OK(fx_open(&w, FM_OPEN_IDENTITY | NOSYNC));
    assert_int_equal(fm_node_renew_cert(w.n, &y.cert), FM_ECERT);
    struct fm_cert wf = w2;
    fm_cert_sign(&wf, &org2.root);
    assert_int_equal(fm_node_renew_cert(w.n, &wf), FM_EFOREIGN);
    OK(fm_node_renew_cert(w.n, &w2));
    assert_int_equal(fm_node_renew_cert(w.n, &w2), FM_EEXISTS);
    head_of(w.n, w.id.pk, &h);
    assert_int_equal(h.expires_ms, w2.expires_ms);
    OK(fx_sync(w.n, c.n, &res));
    head_of(c.n, w.id.pk, &h);
    assert_int_equal(h.expires_ms, w2.expires_ms);

    /* a node that never signed, with an expired certificate: the renewal
     * opens its log (op 1 = the new certificate) and it writes again */
    struct fx_node v;
    OK(fx_author_ex(&org, &v, "v", NULL, now - 3 * FX_DAY_MS, now - FX_DAY_MS));
    OK(fx_open(&v, FM_OPEN_IDENTITY | NOSYNC));
    assert_int_equal(fm_node_incident_report(v.n, &(struct fm_incident_new){.category = "fire"},
                                             NULL),
                     FM_EEXPIRED);
    struct fm_cert v2 = v.cert;
    v2.not_before_ms = now - 3600 * 1000;
    v2.expires_ms = now + FX_DAY_MS;
    fm_cert_sign(&v2, &org.root);
    OK(fm_node_renew_cert(v.n, &v2));
    head_of(v.n, v.id.pk, &h);
    assert_int_equal(h.seq, 1);
    assert_int_equal(h.expires_ms, v2.expires_ms);
    OK(fm_node_incident_report(v.n, &(struct fm_incident_new){.category = "fire"}, NULL));
    fx_done(&v);

    fx_log_free(&g);
    fx_ops_free(&bad.ops);
    fx_done(&w);
    fx_done(&y);
    fx_done(&other_org_node);
    fx_org_done(&org2);
    fx_done(&x);
    fx_done(&c);
    fx_done(&c2);
}

static void test_reject_payload_cuts_run(void **state)
{
    (void)state;
    struct fx_node x, c, c2;
    struct fx_log g;
    struct payload pl;
    struct fm_ingest_result res;
    OK(fx_author(&org, &x, "x"));
    reader(&c);
    report_payload(&pl, "fire");
    fx_log_init(&g, &x.id);
    OK(fx_log_cert(&g, &x.cert));
    OK(fx_log_pl(&g, &pl));
    OK(fx_log_raw(&g, OP_INC_REPORT, "\x02\x00\x02xx", 5)); /* category only */
    OK(fx_log_pl(&g, &pl));
    OK(fx_ingest(c.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    assert_int_equal(res.rejected, 2);
    assert_int_equal(res.err, FM_EDECODE);
    assert_int_equal(res.err_seq, 3);
    struct ids l;
    assert_int_equal(list_incidents(c.n, -1, NULL, &l), 1);
    fx_log_free(&g);

    /* unknown op kinds are refused too */
    fx_log_init(&g, &x.id);
    OK(fx_log_cert(&g, &x.cert));
    OK(fx_log_raw(&g, 99, "", 0));
    reader(&c2);
    OK(fx_ingest(c2.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 1);
    assert_int_equal(res.err, FM_EDECODE);
    fx_log_free(&g);
    fx_done(&x);
    fx_done(&c);
    fx_done(&c2);
}

static void test_duplicates_and_forks(void **state)
{
    (void)state;
    struct fx_node a, c, d, e;
    struct fx_ops ops = {0}, alt = {0}, mix = {0};
    struct fm_ingest_result res;
    char id[FM_ID_MAX];
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire"};
    OK(fm_node_incident_report(a.n, &in, id));
    OK(fm_node_incident_report(a.n, &in, id));
    OK(fx_collect(a.n, NULL, &ops));
    reader(&c);
    OK(fx_ingest(c.n, &ops, 0, ops.n, &res));
    assert_int_equal(res.stored, 3);
    OK(fx_ingest(c.n, &ops, 0, ops.n, &res));
    assert_int_equal(res.stored, 0);
    assert_int_equal(res.duplicates, 3);
    assert_int_equal(res.rejected, 0);

    /* duplicates inside one batch */
    reader(&d);
    for (size_t i = 0; i < ops.n; i++) {
        OK(fx_ops_add(&mix, ops.ops[i], ops.lens[i]));
        OK(fx_ops_add(&mix, ops.ops[i], ops.lens[i]));
    }
    OK(fx_ingest(d.n, &mix, 0, mix.n, &res));
    assert_int_equal(res.stored, 3);
    assert_int_equal(res.duplicates, 3);
    assert_int_equal(fx_digest_eq(c.n, d.n), 1);

    /* a fork: a different op 3, properly signed by a */
    uint8_t h2[FM_HASH_LEN];
    struct fm_op op3;
    op_hash_of(&ops, 1, h2);
    OK(fm_op_decode(&op3, ops.ops[2], ops.lens[2]));
    struct payload pl, check;
    struct fm_buf b;
    report_payload(&pl, "other");
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    OK(payload_encode(&pl, &b, &check));
    build_op(&alt, &a.id, OP_INC_REPORT, 3, h2, op3.hlc + 1, b.data, b.len);
    OK(fx_ingest(c.n, &alt, 0, 1, &res));
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.err, FM_EFORK);
    assert_int_equal(res.err_seq, 3);
    struct fx_ops back = {0};
    OK(fx_collect(c.n, NULL, &back));
    assert_int_equal(back.n, 3);
    assert_memory_equal(back.ops[2], ops.ops[2], ops.lens[2]); /* the first stays */

    /* a fork inside one batch: the fork is settled as everywhere (field
     * sync, docs/field-sync.md): the op with the smaller (hlc, hash) stays,
     * whatever the input order, so no replica diverges */
    reader(&e);
    const uint8_t *p[4] = {ops.ops[0], ops.ops[1], alt.ops[0], ops.ops[2]};
    size_t l[4] = {ops.lens[0], ops.lens[1], alt.lens[0], ops.lens[2]};
    OK(fm_node_ingest(e.n, p, l, 4, &res));
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.err, FM_EFORK);
    struct ids li;
    assert_int_equal(list_incidents(e.n, -1, "other", &li), 0);
    OK(fx_ingest(e.n, &ops, 0, ops.n, &res)); /* the kept op comes again */
    assert_int_equal(fx_digest_eq(c.n, e.n), 1);
    fm_buf_release(&b);
    fx_ops_free(&ops);
    fx_ops_free(&alt);
    fx_ops_free(&mix);
    fx_ops_free(&back);
    fx_done(&a);
    fx_done(&c);
    fx_done(&d);
    fx_done(&e);
}

static void test_placeholder_first(void **state)
{
    (void)state;
    struct fx_node a, b, c1, c2;
    struct fx_ops oa = {0}, ob = {0};
    struct fm_ingest_result res;
    char x[FM_ID_MAX];
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &b, "b"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    OK(fx_open(&b, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .priority = 4, .address = "old"};
    OK(fm_node_incident_report(a.n, &in, x));
    sleep_ms(3);
    /* b has never seen the incident, but writes to it by reference */
    struct payload pl = {0};
    pl.kind = OP_INC_NOTE;
    memcpy(pl.ref.author, a.id.pk, FM_PK_LEN);
    pl.ref.seq = 2;
    fm_strlcpy(pl.text, "seen from b", sizeof pl.text);
    pl.present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
    OK(node_write_payload(b.n, &pl, NULL));
    pl.kind = OP_INC_UPDATE;
    pl.priority = 1;
    fm_strlcpy(pl.address, "new", sizeof pl.address);
    pl.present = PT_BIT(PT_REF) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_ADDRESS);
    OK(node_write_payload(b.n, &pl, NULL));
    pl.kind = OP_INC_STATUS;
    pl.stage = FM_STAGE_ONSCENE;
    pl.present = PT_BIT(PT_REF) | PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
    OK(node_write_payload(b.n, &pl, NULL));
    OK(fx_collect(a.n, NULL, &oa));
    OK(fx_collect(b.n, NULL, &ob));

    reader(&c1);
    OK(fx_ingest(c1.n, &ob, 0, ob.n, &res));
    assert_int_equal(res.stored, 4);
    struct ids l;
    assert_int_equal(list_incidents(c1.n, -1, NULL, &l), 0); /* only a placeholder */
    char out[FM_ID_MAX];
    assert_int_equal(fm_node_resolve_id(c1.n, FM_ENT_INCIDENT, x, out), FM_ENOTFOUND);
    struct fm_node_stats st;
    OK(fm_node_stats(c1.n, &st));
    assert_int_equal(st.entities, 0);
    OK(fx_ingest(c1.n, &oa, 0, oa.n, &res));
    reader(&c2);
    OK(fx_ingest(c2.n, &oa, 0, oa.n, &res));
    OK(fx_ingest(c2.n, &ob, 0, ob.n, &res));
    assert_int_equal(fx_digest_eq(c1.n, c2.n), 1);
    struct fm_incident i1, i2;
    OK(fm_node_incident_get(c1.n, x, &i1));
    OK(fm_node_incident_get(c2.n, x, &i2));
    assert_memory_equal(&i1, &i2, sizeof i1);
    assert_int_equal(i1.priority, 1); /* b's update is later than a's report */
    assert_string_equal(i1.address, "new");
    assert_string_equal(i1.category, "fire");
    assert_int_equal(i1.stage, FM_STAGE_ONSCENE);
    assert_int_equal(i1.nnotes, 4);
    assert_int_equal(list_incidents(c1.n, FM_STAGE_ONSCENE, "fire", &l), 1);

    /* an update stamped before the report loses, in either order */
    struct fx_node y, c3, c4;
    struct fx_log g;
    OK(fx_author(&org, &y, "y"));
    fx_log_init(&g, &y.id);
    g.hlc = i1.reported_hlc - 1000;
    OK(fx_log_cert(&g, &y.cert));
    pl.kind = OP_INC_UPDATE;
    pl.priority = 5;
    fm_strlcpy(pl.desc, "stale", sizeof pl.desc);
    pl.present = PT_BIT(PT_REF) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_DESC);
    OK(fx_log_pl(&g, &pl));
    reader(&c3);
    reader(&c4);
    OK(fx_ingest(c3.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fx_ingest(c3.n, &oa, 0, oa.n, &res));
    OK(fx_ingest(c3.n, &ob, 0, ob.n, &res));
    OK(fx_ingest(c4.n, &ob, 0, ob.n, &res));
    OK(fx_ingest(c4.n, &oa, 0, oa.n, &res));
    OK(fx_ingest(c4.n, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(fx_digest_eq(c3.n, c4.n), 1);
    OK(fm_node_incident_get(c3.n, x, &i1));
    assert_int_equal(i1.priority, 1);
    assert_string_equal(i1.desc, ""); /* the report's empty desc is newer */
    fx_log_free(&g);
    fx_ops_free(&oa);
    fx_ops_free(&ob);
    fx_done(&a);
    fx_done(&b);
    fx_done(&c1);
    fx_done(&c2);
    fx_done(&y);
    fx_done(&c3);
    fx_done(&c4);
}

static int count_tl(void *ctx, const struct fm_timeline_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

static void test_revocation_orders(void **state)
{
    (void)state;
    struct fx_node a, w, c1, c2, c3;
    struct fx_ops oa = {0}, ow = {0}, all = {0};
    struct fm_ingest_result res;
    char x[FM_ID_MAX], r[FM_ID_MAX], own[FM_ID_MAX];
    OK(fx_author(&org, &a, "admin"));
    OK(fx_author(&org, &w, "w"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    OK(fx_open(&w, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire"};
    OK(fm_node_incident_report(a.n, &in, x));          /* a 2 */
    OK(fm_node_resource_add(a.n, "pump", "d", 10, r)); /* a 3 */
    OK(fx_sync(a.n, w.n, NULL));
    OK(fm_node_incident_note(w.n, x, "w2"));          /* w 2 */
    OK(fm_node_resource_adjust(w.n, r, -1));          /* w 3 */
    OK(fm_node_incident_note(w.n, x, "w4"));          /* w 4 */
    OK(fm_node_incident_report(w.n, &in, own));       /* w 5 */
    OK(fm_node_incident_note(w.n, x, "w6"));          /* w 6 */
    OK(fm_node_resource_adjust(w.n, r, -2));          /* w 7 */
    OK(fx_collect(w.n, w.id.pk, &ow));
    assert_int_equal(ow.n, 7);

    struct fm_revocation rev = {0};
    memcpy(rev.node, w.id.pk, FM_PK_LEN);
    rev.last_seq = 4;
    rev.issued_ms = fm_now_ms();
    fm_revocation_sign(&rev, &org.root);
    struct fm_revocation bad = rev;
    bad.last_seq = 1; /* signature no longer matches */
    assert_int_equal(fm_node_publish_revocation(a.n, &bad), FM_EVERIFY);
    OK(fm_node_publish_revocation(a.n, &rev)); /* a 4 */
    OK(fx_collect(a.n, a.id.pk, &oa));
    assert_int_equal(oa.n, 4);

    /* c1: w's ops first, the revocation last */
    reader(&c1);
    OK(fx_ingest(c1.n, &oa, 0, 3, &res));
    OK(fx_ingest(c1.n, &ow, 0, ow.n, &res));
    assert_int_equal(res.stored, 7);
    assert_int_equal(ops_count(c1.n), 10);
    OK(fx_ingest(c1.n, &oa, 3, 1, &res));
    assert_int_equal(res.stored, 1);
    assert_int_equal(ops_count(c1.n), 8);
    /* c2: the revocation first */
    reader(&c2);
    OK(fx_ingest(c2.n, &oa, 0, oa.n, &res));
    OK(fx_ingest(c2.n, &ow, 0, ow.n, &res));
    assert_int_equal(res.stored, 4);
    assert_int_equal(res.rejected, 3);
    assert_int_equal(res.err, FM_EREVOKED);
    assert_int_equal(res.err_seq, 5);
    /* c3: everything in one batch, w's ops first in the input */
    reader(&c3);
    for (size_t i = 0; i < ow.n; i++)
        OK(fx_ops_add(&all, ow.ops[i], ow.lens[i]));
    for (size_t i = 0; i < oa.n; i++)
        OK(fx_ops_add(&all, oa.ops[i], oa.lens[i]));
    OK(fx_ingest(c3.n, &all, 0, all.n, &res));
    assert_int_equal(ops_count(c3.n), 8);

    assert_int_equal(fx_digest_eq(c1.n, c2.n), 1);
    assert_int_equal(fx_digest_eq(c1.n, c3.n), 1);
    struct fm_incident inc;
    OK(fm_node_incident_get(c1.n, x, &inc));
    assert_int_equal(inc.nnotes, 3); /* report, w2, w4 — not w6 */
    int ntl = 0;
    OK(fm_node_incident_timeline(c1.n, x, count_tl, &ntl));
    assert_int_equal(ntl, 3);
    assert_int_equal(resource_qty(c1.n, r), 9);
    assert_int_equal(fm_node_incident_get(c1.n, own, &inc), FM_ENOTFOUND);
    struct fm_head *heads;
    size_t nh;
    OK(fm_node_heads(c2.n, &heads, &nh));
    assert_int_equal(nh, 2);
    for (size_t i = 0; i < nh; i++) {
        bool is_w = memcmp(heads[i].author, w.id.pk, FM_PK_LEN) == 0;
        assert_int_equal(heads[i].seq, 4);
        assert_true(heads[i].limit == (is_w ? 4 : UINT64_MAX));
    }
    free(heads);
    uint8_t before[FM_HASH_LEN], after[FM_HASH_LEN];
    OK(fm_node_digest(c1.n, before));
    OK(fm_node_rebuild(c1.n));
    OK(fm_node_digest(c1.n, after));
    assert_memory_equal(before, after, FM_HASH_LEN);

    /* w learns it is revoked: its own later ops go, and it can no longer write */
    OK(fx_sync(a.n, w.n, &res));
    assert_int_equal(ops_count(w.n), 8);
    assert_int_equal(fx_digest_eq(w.n, c1.n), 1);
    assert_int_equal(fm_node_incident_note(w.n, x, "still here?"), FM_EREVOKED);
    /* a refuses w's later ops too */
    OK(fx_sync(c1.n, a.n, NULL));
    OK(fx_ingest(a.n, &ow, 0, ow.n, &res));
    assert_int_equal(res.rejected, 3);
    assert_int_equal(fx_digest_eq(a.n, c1.n), 1);
    fx_ops_free(&oa);
    fx_ops_free(&ow);
    fx_ops_free(&all);
    fx_done(&a);
    fx_done(&w);
    fx_done(&c1);
    fx_done(&c2);
    fx_done(&c3);
}

/* A revocation carried by an author who is itself revoked before that op
 * still takes effect, whichever arrives first. */
static void test_revocation_carried_by_revoked(void **state)
{
    (void)state;
    struct fx_node a, v, y, c[3];
    struct fx_log ga, gv, gy;
    struct payload pl;
    struct fm_ingest_result res;
    OK(fx_author(&org, &a, "a"));
    OK(fx_author(&org, &v, "v"));
    OK(fx_author(&org, &y, "y"));
    report_payload(&pl, "fire");
    fx_log_init(&gy, &y.id);
    OK(fx_log_cert(&gy, &y.cert));
    for (int i = 0; i < 3; i++)
        OK(fx_log_pl(&gy, &pl));
    struct payload rp = {0};
    rp.kind = OP_REVOKE;
    memcpy(rp.rev.node, y.id.pk, FM_PK_LEN);
    rp.rev.last_seq = 2;
    fm_revocation_sign(&rp.rev, &org.root);
    fx_log_init(&gv, &v.id);
    OK(fx_log_cert(&gv, &v.cert));
    OK(fx_log_pl(&gv, &pl));
    OK(fx_log_pl(&gv, &rp)); /* v 3: revokes y after 2 */
    memcpy(rp.rev.node, v.id.pk, FM_PK_LEN);
    fm_revocation_sign(&rp.rev, &org.root);
    fx_log_init(&ga, &a.id);
    OK(fx_log_cert(&ga, &a.cert));
    OK(fx_log_pl(&ga, &rp)); /* a 2: revokes v after 2 */

    struct fx_log *orders[3][3] = {{&gy, &gv, &ga}, {&ga, &gv, &gy}, {&gv, &ga, &gy}};
    for (int k = 0; k < 3; k++) {
        reader(&c[k]);
        for (int j = 0; j < 3; j++)
            OK(fx_ingest(c[k].n, &orders[k][j]->ops, 0, orders[k][j]->ops.n, &res));
        assert_int_equal(ops_count(c[k].n), 2 + 2 + 2);
        struct fm_head *heads;
        size_t nh;
        OK(fm_node_heads(c[k].n, &heads, &nh));
        assert_int_equal(nh, 3);
        for (size_t i = 0; i < nh; i++)
            if (memcmp(heads[i].author, a.id.pk, FM_PK_LEN) != 0)
                assert_int_equal(heads[i].limit, 2);
        free(heads);
    }
    assert_int_equal(fx_digest_eq(c[0].n, c[1].n), 1);
    assert_int_equal(fx_digest_eq(c[0].n, c[2].n), 1);
    fx_log_free(&ga);
    fx_log_free(&gv);
    fx_log_free(&gy);
    fx_done(&a);
    fx_done(&v);
    fx_done(&y);
    for (int k = 0; k < 3; k++)
        fx_done(&c[k]);
}

static int wipe_entities(struct store_txn *t, void *ctx)
{
    (void)ctx;
    return model_clear(t);
}

/* Turns the store into what schema 1 wrote: each note's text copied into
 * its timeline entry. */
static int make_schema1(struct store_txn *t, void *ctx)
{
    (void)ctx;
    struct store_cur *c;
    struct store_kv kv;
    uint8_t key[256], val[64];
    size_t klen = 0;
    int rc = store_cur_open(t, DB_TIMELINE, &c);
    if (rc != FM_OK)
        return rc;
    for (rc = store_cur_seek(c, (const uint8_t *)"", 0, &kv); rc == FM_OK;
         rc = store_cur_next(c, &kv))
        if (kv.vlen == 1 && kv.val[0] == TL_NOTE && kv.klen <= sizeof key) {
            memcpy(key, kv.key, kv.klen);
            klen = kv.klen;
        }
    store_cur_close(&c);
    if (klen == 0)
        return FM_ENOTFOUND;
    val[0] = TL_NOTE;
    memcpy(val + 1, "old copy", 8);
    if ((rc = store_put(t, DB_TIMELINE, key, klen, val, 9, false)) != FM_OK)
        return rc;
    return node_meta_put_u64(t, "schema", 1);
}

static void test_schema1_store_is_rederived(void **state)
{
    (void)state;
    struct fx_node a;
    char x[FM_ID_MAX];
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    struct tl t = {0};
    uint64_t schema = 0;
    struct store_txn *rt;
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "d"};
    OK(fm_node_incident_report(a.n, &in, x));
    OK(fm_node_incident_note(a.n, x, "the text lives in the op"));
    OK(fm_node_digest(a.n, d0));
    OK(store_write(a.n->st, make_schema1, NULL));
    OK(fm_node_digest(a.n, d1));
    assert_memory_not_equal(d0, d1, FM_HASH_LEN);
    fm_node_close(&a.n);
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC)); /* upgrades: re-derives from the ops */
    OK(fm_node_digest(a.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    OK(store_read_begin(a.n->st, &rt));
    OK(node_meta_get_u64(rt, "schema", &schema));
    store_txn_abort(&rt);
    assert_int_equal(schema, NODE_SCHEMA_VERSION);
    OK(fm_node_incident_timeline(a.n, x, collect_tl, &t));
    assert_int_equal(t.n, 2);
    assert_string_equal(t.e[1].kind, "note");
    assert_string_equal(t.e[1].text, "the text lives in the op");
    fx_done(&a);
}

static void test_rebuild_keeps_digest(void **state)
{
    (void)state;
    struct fx_node a;
    char x[FM_ID_MAX], r[FM_ID_MAX], u[FM_ID_MAX];
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN], d2[FM_HASH_LEN];
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire", .desc = "d"};
    OK(fm_node_incident_report(a.n, &in, x));
    OK(fm_node_incident_note(a.n, x, "n"));
    OK(fm_node_incident_status(a.n, x, FM_STAGE_CLOSED, false));
    OK(fm_node_resource_add(a.n, "pump", "d", 3, r));
    OK(fm_node_resource_adjust(a.n, r, -3));
    struct fm_unit_new un = {.name = "U", .department = "D", .kind = "k", .tier = 2};
    OK(fm_node_unit_register(a.n, &un, u));
    OK(fm_node_unit_position(a.n, u, 1, 2));
    OK(fm_node_digest(a.n, d0));
    OK(fm_node_rebuild(a.n));
    OK(fm_node_digest(a.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    /* wipe the entities behind the node's back: the digest changes, and
     * rebuild brings it back from the ops alone */
    OK(store_write(a.n->st, wipe_entities, NULL));
    OK(fm_node_digest(a.n, d2));
    assert_memory_not_equal(d0, d2, FM_HASH_LEN);
    struct ids l;
    assert_int_equal(list_incidents(a.n, -1, NULL, &l), 0);
    OK(fm_node_rebuild(a.n));
    OK(fm_node_digest(a.n, d2));
    assert_memory_equal(d0, d2, FM_HASH_LEN);
    assert_int_equal(list_incidents(a.n, FM_STAGE_CLOSED, "fire", &l), 1);
    fx_done(&a);
}

static void fill_batch(struct payload *pls, size_t n, const uint8_t *author, uint64_t target)
{
    for (size_t i = 0; i < n; i++) {
        struct payload *pl = &pls[i];
        if (i % 2 == 0 || target == 0) {
            report_payload(pl, i % 3 ? "fire" : "flood");
            memset(pl->desc, 'd', 200);
            pl->desc[200] = '\0';
            pl->present |= PT_BIT(PT_DESC);
        } else {
            memset(pl, 0, sizeof *pl);
            pl->kind = OP_INC_NOTE;
            memcpy(pl->ref.author, author, FM_PK_LEN);
            pl->ref.seq = target;
            fm_strlcpy(pl->text, "a note that takes a little room in the map", sizeof pl->text);
            pl->present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
        }
    }
}

static void test_map_growth(void **state)
{
    (void)state;
    struct fx_node g, h;
    struct fm_node_stats st;
    struct fx_ops ops = {0};
    struct fm_ingest_result res;
    const size_t batch = 50, nbatches = 60;
    struct payload *pls = calloc(2000, sizeof *pls);
    assert_non_null(pls);
    OK(fx_author(&org, &g, "g"));
    g.cfg.map_size = 1u << 20;
    g.cfg.map_max = 1u << 30;
    OK(fx_open(&g, FM_OPEN_IDENTITY | NOSYNC));
    fill_batch(pls, 1, g.id.pk, 0);
    uint64_t first;
    OK(node_write_batch(g.n, pls, 1, &first)); /* seq 2: the incident the notes go to */
    fill_batch(pls, batch, g.id.pk, first);
    for (size_t i = 0; i < nbatches; i++)
        OK(node_write_batch(g.n, pls, batch, NULL));
    /* one transaction far larger than the map at that point */
    fill_batch(pls, 2000, g.id.pk, first);
    OK(node_write_batch(g.n, pls, 2000, NULL));
    char id[FM_ID_MAX];
    struct fm_incident_new in = {.category = "last"};
    OK(fm_node_incident_report(g.n, &in, id));
    OK(fm_node_stats(g.n, &st));
    uint64_t total = 2 + batch * nbatches + 2000 + 1;
    assert_int_equal(st.ops, total);
    assert_true(st.map_size > (1u << 20));
    struct fm_incident inc;
    char tid[FM_ID_MAX];
    payload_id_format(g.id.pk, first, tid);
    OK(fm_node_incident_get(g.n, tid, &inc));
    assert_int_equal(inc.nnotes, 1 + (batch / 2) * nbatches + 1000);

    /* a second node with a 1 MiB map takes it all in through ingest */
    OK(fx_collect(g.n, NULL, &ops));
    assert_int_equal(ops.n, total);
    OK(fx_author(&org, &h, "h"));
    h.cfg.map_size = 1u << 20;
    h.cfg.map_max = 1u << 30;
    OK(fx_open(&h, FM_OPEN_READ | NOSYNC));
    for (size_t i = 0; i < ops.n; i += 700) {
        size_t k = ops.n - i < 700 ? ops.n - i : 700;
        OK(fx_ingest(h.n, &ops, i, k, &res));
        assert_int_equal(res.stored, k);
    }
    assert_int_equal(fx_digest_eq(g.n, h.n), 1);
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    OK(fm_node_digest(h.n, d0));
    OK(fm_node_rebuild(h.n));
    OK(fm_node_digest(h.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);

    /* reopen: everything is still there */
    fm_node_close(&g.n);
    OK(fx_open(&g, FM_OPEN_IDENTITY));
    OK(fm_node_stats(g.n, &st));
    assert_int_equal(st.ops, total);
    OK(fm_node_digest(g.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    fx_ops_free(&ops);
    free(pls);
    fx_done(&g);
    fx_done(&h);
}

static void test_map_cap(void **state)
{
    (void)state;
    struct fx_node g;
    struct payload *pls = calloc(100, sizeof *pls);
    assert_non_null(pls);
    OK(fx_author(&org, &g, "cap"));
    g.cfg.map_size = 1u << 20;
    g.cfg.map_max = 1u << 20; /* no growth allowed */
    OK(fx_open(&g, FM_OPEN_IDENTITY | NOSYNC));
    fill_batch(pls, 100, g.id.pk, 0);
    uint64_t written = 0;
    int rc = FM_OK;
    for (int i = 0; i < 1000 && rc == FM_OK; i++) {
        rc = node_write_batch(g.n, pls, 100, NULL);
        if (rc == FM_OK)
            written += 100;
    }
    assert_int_equal(rc, FM_EMAPFULL);
    assert_true(written > 0);
    uint64_t ops = ops_count(g.n);
    assert_int_equal(ops, written + 1); /* + the certificate */
    /* smaller writes may still fit; reads keep working after reopening */
    fm_node_close(&g.n);
    OK(fx_open(&g, FM_OPEN_READ));
    assert_int_equal(ops_count(g.n), ops);
    struct ids l;
    assert_int_equal(list_incidents(g.n, -1, "flood", &l) > 0, 1);
    free(pls);
    fx_done(&g);
}

static void test_reopen(void **state)
{
    (void)state;
    struct fx_node a;
    char x[FM_ID_MAX], y[FM_ID_MAX], tag[9], want[FM_ID_MAX];
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY));
    struct fm_incident_new in = {.category = "fire"};
    OK(fm_node_incident_report(a.n, &in, x));
    OK(fm_node_incident_note(a.n, x, "before close"));
    OK(fm_node_digest(a.n, d0));
    fm_node_close(&a.n);
    assert_null(a.n);
    fm_node_close(&a.n); /* NULL is fine */
    OK(fx_open(&a, FM_OPEN_IDENTITY));
    OK(fm_node_digest(a.n, d1));
    assert_memory_equal(d0, d1, FM_HASH_LEN);
    struct fm_incident inc;
    OK(fm_node_incident_get(a.n, x, &inc));
    assert_int_equal(inc.nnotes, 2);
    OK(fm_node_incident_report(a.n, &in, y));
    key_tag(a.id.pk, tag);
    snprintf(want, sizeof want, "%s-4", tag); /* the log continues */
    assert_string_equal(y, want);
    /* a second handle on the same directory sees the same data */
    struct fm_node *other;
    OK(fm_node_open(&other, &a.cfg, FM_OPEN_READ));
    assert_int_equal(fx_digest_eq(a.n, other), 1);
    fm_node_close(&other);
    fx_done(&a);
}

static void test_read_ops_heads_log(void **state)
{
    (void)state;
    struct fx_node a;
    char x[FM_ID_MAX];
    OK(fx_author(&org, &a, "a"));
    OK(fx_open(&a, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_incident_new in = {.category = "fire"};
    for (int i = 0; i < 9; i++)
        OK(fm_node_incident_report(a.n, &in, x));
    struct fm_head *heads;
    size_t nh, count;
    OK(fm_node_heads(a.n, &heads, &nh));
    assert_int_equal(nh, 1);
    assert_int_equal(heads[0].seq, 10);
    assert_true(heads[0].limit == UINT64_MAX);
    struct fx_ops all = {0};
    OK(fx_collect(a.n, NULL, &all));
    uint8_t h10[FM_HASH_LEN];
    op_hash_of(&all, 9, h10);
    assert_memory_equal(heads[0].hash, h10, FM_HASH_LEN);
    free(heads);

    struct fm_buf b;
    fm_buf_init(&b, 1u << 20);
    OK(fm_node_read_ops(a.n, a.id.pk, 3, 4, 1u << 20, &b, &count));
    assert_int_equal(count, 4);
    struct fm_cur c;
    fm_cur_init(&c, b.data, b.len);
    for (uint64_t s = 3; s < 7; s++) {
        uint32_t len;
        const uint8_t *p;
        struct fm_op op;
        OK(fm_cur_u32(&c, &len));
        OK(fm_cur_bytes(&c, len, &p));
        OK(fm_op_decode(&op, p, len));
        assert_int_equal(op.seq, s);
    }
    assert_int_equal(fm_cur_left(&c), 0);
    fm_buf_reset(&b);
    OK(fm_node_read_ops(a.n, a.id.pk, 1, 100, 1, &b, &count));
    assert_int_equal(count, 1); /* stops once max_bytes is reached */
    fm_buf_reset(&b);
    OK(fm_node_read_ops(a.n, a.id.pk, 11, 100, 1u << 20, &b, &count));
    assert_int_equal(count, 0);
    uint8_t nobody[FM_PK_LEN];
    memset(nobody, 0xee, sizeof nobody);
    OK(fm_node_read_ops(a.n, nobody, 1, 100, 1u << 20, &b, &count));
    assert_int_equal(count, 0);
    /* a buffer whose own cap is smaller than one op */
    struct fm_buf tiny;
    fm_buf_init(&tiny, 16);
    assert_int_equal(fm_node_read_ops(a.n, a.id.pk, 1, 100, 1u << 20, &tiny, &count),
                     FM_ETOOBIG);
    assert_int_equal(tiny.len, 0);
    fm_buf_release(&tiny);
    fm_buf_release(&b);

    struct logs lg = {0};
    OK(fm_node_log(a.n, a.id.pk, collect_log, &lg));
    assert_int_equal(lg.n, 10);
    lg.n = 0;
    OK(fm_node_log(a.n, nobody, collect_log, &lg));
    assert_int_equal(lg.n, 0);
    fx_ops_free(&all);
    fx_done(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_read_flow),
        cmocka_unit_test(test_input_validation),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_resolve_ids),
        cmocka_unit_test(test_converge_two_nodes),
        cmocka_unit_test(test_reject_tampered_forged),
        cmocka_unit_test(test_reject_chain_gap_hlc),
        cmocka_unit_test(test_reject_certs),
        cmocka_unit_test(test_reject_payload_cuts_run),
        cmocka_unit_test(test_duplicates_and_forks),
        cmocka_unit_test(test_placeholder_first),
        cmocka_unit_test(test_revocation_orders),
        cmocka_unit_test(test_revocation_carried_by_revoked),
        cmocka_unit_test(test_rebuild_keeps_digest),
        cmocka_unit_test(test_schema1_store_is_rederived),
        cmocka_unit_test(test_map_growth),
        cmocka_unit_test(test_map_cap),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_read_ops_heads_log),
        cmocka_unit_test(test_cert_renewal),
    };
    if (fm_crypto_init() != FM_OK || fx_org_init(&org) != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fx_org_done(&org);
    return rc;
}
