/*
 * test_node.c — the node library through its public calls on one node: writes
 * and reads, input validation, opening errors, id resolution, reopening,
 * reading ops, heads and the log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "node_test_util.h"

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
    /* no dispatcher key here: the caller is left out, never written in
     * clear (sealed callers: test_need_to_know) */
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
    assert_string_equal(inc.caller, "");
    assert_int_equal(inc.caller_state, FM_CALLER_CLEAR);
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
                                         "desc 'smoke'");
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
    /* an id with its dash is exact: tag-1 (the cert) names no incident,
     * although tag-10..tag-19 start that way; a dropped digit must not
     * reach another entity */
    snprintf(p, sizeof p, "%s-1", tag);
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, p, out), FM_ENOTFOUND);
    snprintf(p, sizeof p, "%s-", tag);
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, p, out), FM_ENOTFOUND);
    /* the tag alone (no dash) is a prefix: ambiguous here, candidates named */
    assert_int_equal(fm_node_resolve_id(a.n, FM_ENT_INCIDENT, tag, out), FM_EAMBIGUOUS);
    char want[64];
    snprintf(want, sizeof want, "%s-10, %s-11", tag, tag);
    assert_string_equal(out, want);
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
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_read_ops_heads_log),
    };
    return fx_node_main("test_node", tests, sizeof tests / sizeof tests[0]);
}
