/*
 * test_gps.c — vehicles that say where they are (docs/gps.md): the gpsd
 * JSON decoder on good and hostile lines, fix times, the rules that judge
 * fixes (no fix, poor, jumps) and pace publishing (interval, move, turn,
 * never twice a second), the soft-state GPS fix with its fix time and
 * accuracy on another node, ticket steps stamped by position (a later
 * button press confirms and does not move them), the report's GPS and
 * button counts with the GPS-only filter, and the `gps` config section.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "wf_test_util.h"

#include "node/gps/gps_int.h"

#include <unistd.h>

static const char TPV[] =
    "{\"class\":\"TPV\",\"device\":\"/dev/pts/1\",\"mode\":3,\"time\":\"2026-12-04T18:40:07.250Z\","
    "\"ept\":0.005,\"lat\":29.079700000,\"lon\":119.647000000,\"altHAE\":50.0000,"
    "\"track\":45.5,\"magtrack\":354.7157,\"magvar\":-5.3,\"speed\":5.144,\"eph\":17.100}";

static int decode(struct gps_msg *m, const char *s)
{
    return gps_json_decode(m, s, strlen(s));
}

static void test_json_tpv(void **state)
{
    (void)state;
    struct gps_msg m;
    OK(decode(&m, TPV));
    assert_int_equal(m.cls, GPS_CLASS_TPV);
    assert_int_equal(m.tpv.mode, 3);
    assert_true(m.tpv.has_pos && m.tpv.has_time && m.tpv.has_eph && m.tpv.has_track);
    assert_true(fabs(m.tpv.lat - 29.0797) < 1e-9 && fabs(m.tpv.lon - 119.647) < 1e-9);
    assert_true(fabs(m.tpv.eph_m - 17.1) < 1e-9 && fabs(m.tpv.speed_mps - 5.144) < 1e-9);
    assert_int_equal(m.tpv.time_ms, UINT64_C(1796409607250));
    assert_string_equal(m.tpv.device, "/dev/pts/1");
    /* the other classes gpsd sends decode (and are not TPV) */
    OK(decode(&m, "{\"class\":\"VERSION\",\"release\":\"3.22\",\"proto_major\":3}"));
    assert_int_equal(m.cls, GPS_CLASS_VERSION);
    OK(decode(&m, "{\"class\":\"DEVICES\",\"devices\":[{\"class\":\"DEVICE\",\"path\":\"/dev/x\","
                  "\"cycle\":1.00}]}"));
    assert_int_equal(m.cls, GPS_CLASS_OTHER);
    OK(decode(&m, "{\"class\":\"ERROR\",\"message\":\"Unrecognized request\"}"));
    assert_int_equal(m.cls, GPS_CLASS_ERROR);
    assert_string_equal(m.message, "Unrecognized request");
    /* a TPV without a fix: mode 1, no position */
    OK(decode(&m, " {\"class\":\"TPV\",\"mode\":1} \r"));
    assert_int_equal(m.tpv.mode, 1);
    assert_false(m.tpv.has_pos);
    OK(decode(&m, "{\"class\":\"SKY\",\"satellites\":[{\"PRN\":1,\"used\":true,\"x\":null,"
                  "\"s\":\"a\\\"b\\u00e9\"}]}"));
}

static void test_json_hostile(void **state)
{
    (void)state;
    struct gps_msg m;
    static const char *const bad[] = {
        "", "{", "}", "[]", "{\"class\":\"TPV\"", "{\"class\":\"TPV\"}x", "{\"class\":TPV}",
        "{\"class\":\"TPV\",}", "{\"class\":\"TPV\" \"mode\":3}", "{\"mode\":3.5}", "{\"mode\":9}",
        "{\"lat\":91}", "{\"lon\":-180.5}", "{\"lat\":\"29\"}", "{\"lat\":NaN}", "{\"lat\":1e999}",
        "{\"lat\":01}", "{\"lat\":-}", "{\"lat\":1.}", "{\"eph\":-1}", "{\"track\":361}",
        "{\"time\":\"2026-02-30T00:00:00Z\"}", "{\"time\":\"2026-12-04 18:40:07Z\"}",
        "{\"time\":\"2026-12-04T18:40:07.1234567890Z\"}", "{\"class\":\"a\\nb\"}",
        "{\"x\":\"\x01\"}", "{\"x\":\"\\q\"}", "{\"x\":\"\\u12G4\"}", "{\"x\":tru}",
        "{\"lat\":1234567890123456789012345678901234567890}",
        "{\"class\":\"TOOLONGCLASSNAMEXXXXXXXXX\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (decode(&m, bad[i]) != FM_EDECODE)
            fail_msg("accepted: %s", bad[i]);
        assert_int_equal(m.cls, GPS_CLASS_OTHER); /* zeroed on failure */
    }
    /* nesting: GPS_DEPTH_MAX levels are skipped, one more is refused */
    char deep[64];
    size_t k = 0;
    k += (size_t)snprintf(deep + k, sizeof deep - k, "{\"x\":");
    for (int i = 0; i < GPS_DEPTH_MAX; i++)
        deep[k++] = '[';
    for (int i = 0; i < GPS_DEPTH_MAX; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = '\0';
    assert_int_equal(decode(&m, deep), FM_EDECODE);
    memmove(deep + 5, deep + 6, strlen(deep + 6) + 1); /* one '[' less */
    memmove(deep + 5 + GPS_DEPTH_MAX - 1, deep + 6 + GPS_DEPTH_MAX - 1,
            strlen(deep + 6 + GPS_DEPTH_MAX - 1) + 1); /* and one ']' less */
    OK(decode(&m, deep));
    /* longer than a line may be */
    char *big = malloc(GPS_LINE_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', GPS_LINE_MAX + 1);
    memcpy(big, "{}", 2);
    assert_int_equal(gps_json_decode(&m, big, GPS_LINE_MAX + 1), FM_EDECODE);
    OK(gps_json_decode(&m, big, GPS_LINE_MAX));
    free(big);
}

static void test_time(void **state)
{
    (void)state;
    uint64_t ms;
    OK(gps_time_parse("1970-01-01T00:00:00Z", 20, &ms));
    assert_int_equal(ms, 0);
    OK(gps_time_parse("2024-02-29T23:59:59.9Z", 22, &ms));
    assert_int_equal(ms, UINT64_C(1709251199900));
    assert_int_equal(gps_time_parse("2023-02-29T00:00:00Z", 20, &ms), FM_EDECODE);
    assert_int_equal(gps_time_parse("2023-13-01T00:00:00Z", 20, &ms), FM_EDECODE);
    assert_int_equal(gps_time_parse("2023-01-01T24:00:00Z", 20, &ms), FM_EDECODE);
    assert_int_equal(gps_time_parse("1969-12-31T23:59:59Z", 20, &ms), FM_EDECODE);
}

static struct gps_tpv fix_at(double lat, double lon, uint64_t t_ms, double eph)
{
    struct gps_tpv t = {.mode = 3, .has_time = true, .has_pos = true, .has_eph = eph >= 0,
                        .time_ms = t_ms, .lat = lat, .lon = lon, .eph_m = eph};
    return t;
}

static void test_rules_judge(void **state)
{
    (void)state;
    struct fm_gps_conf c;
    fm_gps_conf_defaults(&c);
    struct gps_rules r = {.conf = &c, .pub_track = -1};
    const uint64_t now = UINT64_C(1796409600000);
    struct gps_tpv t = fix_at(29.079, 119.647, now, 10);
    t.mode = 1;
    assert_int_equal(gps_rules_judge(&r, &t, now), GPS_V_NOFIX);
    t = fix_at(29.079, 119.647, now - GPS_STALE_MS - 1, 10);
    assert_int_equal(gps_rules_judge(&r, &t, now), GPS_V_NOFIX); /* stale */
    t = fix_at(29.079, 119.647, now + GPS_FUTURE_MS + 1, 10);
    assert_int_equal(gps_rules_judge(&r, &t, now), GPS_V_NOFIX); /* from the future */
    t = fix_at(29.079, 119.647, now, 51);
    assert_int_equal(gps_rules_judge(&r, &t, now), GPS_V_POOR); /* > accuracy_m 50 */
    t = fix_at(29.079, 119.647, now, -1);
    assert_int_equal(gps_rules_judge(&r, &t, now), GPS_V_POOR); /* no estimate */
    t = fix_at(29.079, 119.647, now, 10);
    assert_int_equal(gps_rules_judge(&r, &t, now), GPS_V_GOOD);
    /* 5 km in a second: a jump, refused until three fixes agree */
    for (unsigned i = 1; i < GPS_JUMP_CONFIRM; i++) {
        t = fix_at(29.124, 119.647, now + i * 1000, 10);
        assert_int_equal(gps_rules_judge(&r, &t, now + i * 1000), GPS_V_JUMP);
    }
    /* a single outlier between good fixes stays refused */
    struct gps_rules r2 = {.conf = &c, .pub_track = -1};
    t = fix_at(29.079, 119.647, now, 10);
    assert_int_equal(gps_rules_judge(&r2, &t, now), GPS_V_GOOD);
    t = fix_at(29.124, 119.647, now + 1000, 10);
    assert_int_equal(gps_rules_judge(&r2, &t, now + 1000), GPS_V_JUMP);
    t = fix_at(29.0791, 119.647, now + 2000, 10);
    assert_int_equal(gps_rules_judge(&r2, &t, now + 2000), GPS_V_GOOD);
    /* back to r: the third fix in the new place is believed */
    t = fix_at(29.1241, 119.647, now + GPS_JUMP_CONFIRM * 1000, 10);
    assert_int_equal(gps_rules_judge(&r, &t, now + GPS_JUMP_CONFIRM * 1000), GPS_V_GOOD);
    assert_true(fabs(r.good.lat - 29.1241) < 1e-9);
}

static void test_rules_due(void **state)
{
    (void)state;
    struct fm_gps_conf c;
    fm_gps_conf_defaults(&c); /* every 10 s, 50 m, 30 degrees */
    struct gps_rules r = {.conf = &c, .pub_track = -1};
    struct gps_tpv t = fix_at(29.079, 119.647, 1000, 5);
    t.has_track = t.has_speed = true;
    t.track_deg = 10;
    t.speed_mps = 10;
    assert_true(gps_rules_due(&r, &t, 100000)); /* the first */
    gps_rules_published(&r, &t, 100000);
    t.lat += 0.001; /* 111 m */
    assert_false(gps_rules_due(&r, &t, 100999)); /* never twice in a second */
    assert_true(gps_rules_due(&r, &t, 101000));
    t.lat -= 0.001;
    t.lat += 0.0004; /* 44 m: not far enough */
    assert_false(gps_rules_due(&r, &t, 105000));
    t.track_deg = 45; /* a 35 degree turn at speed */
    assert_true(gps_rules_due(&r, &t, 105000));
    t.speed_mps = 1; /* ... but not when crawling */
    assert_false(gps_rules_due(&r, &t, 105000));
    assert_true(gps_rules_due(&r, &t, 110000)); /* the interval */
    assert_true(gps_distance_m(29.0, 119.0, 29.001, 119.0) > 111 &&
                gps_distance_m(29.0, 119.0, 29.001, 119.0) < 111.4);
}

/* All soft records of n. */
static size_t soft_all(struct fm_node *n, struct fm_buf *b, const uint8_t **recs, size_t *lens,
                       size_t max)
{
    size_t count = 0, pos = 0, k = 0;
    uint64_t last = 0;
    fm_buf_reset(b);
    OK(fm_node_soft_read(n, 0, 1u << 20, b, &count, &last));
    while (pos + 2 <= b->len && k < max) {
        size_t l = (size_t)b->data[pos] << 8 | b->data[pos + 1];
        recs[k] = b->data + pos + 2;
        lens[k++] = l;
        pos += 2 + l;
    }
    return k;
}

static void test_soft_fix(void **state)
{
    (void)state;
    struct fx_node c, v;
    struct fm_ingest_result res;
    struct fm_unit u;
    struct fm_buf buf;
    const uint8_t *recs[16];
    size_t lens[16], stored, k;
    char uid[FM_ID_MAX];
    struct fm_unit_new un = {.name = "Engine J1", .department = "Jinhua Fire", .kind = "engine",
                             .tier = 1};
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_unit_node(&v, "vehicle", FM_ROLE_VEHICLE, "Engine J1");
    OK(fm_node_unit_register(c.n, &un, uid));
    OK(fx_sync(c.n, v.n, &res));
    OK(fm_node_ensure_cert(v.n)); /* as fieldmeshd does: the receiver must know the author */
    OK(fx_sync(v.n, c.n, &res));
    struct fm_gps_fix fix = {.lat_e7 = 290790000, .lon_e7 = 1196470000,
                             .fix_ms = fm_now_ms() - 1500, .accuracy_dm = 171,
                             .track_cdeg = 4550, .speed_cms = 514};
    assert_int_equal(fm_node_soft_fix(v.n, "Engine J1", &fix), FM_ENOTFOUND); /* an id */
    OK(gps_unit_resolve(v.n, "Engine J1", &u));
    assert_string_equal(u.id, uid);
    OK(fm_node_soft_fix(v.n, uid, &fix));
    OK(fm_node_unit_get(v.n, uid, &u));
    assert_true(u.has_position && u.gps);
    assert_int_equal(u.fix_ms, fix.fix_ms);
    assert_int_equal(u.accuracy_dm, 171);
    /* on another node: the same fix time and accuracy */
    fm_buf_init(&buf, 1u << 20);
    k = soft_all(v.n, &buf, recs, lens, 16);
    OK(fm_node_soft_ingest(c.n, recs, lens, k, &stored));
    assert_true(stored >= 1);
    OK(fm_node_unit_get(c.n, uid, &u));
    assert_true(u.gps);
    assert_int_equal(u.lat_e7, 290790000);
    assert_int_equal(u.fix_ms, fix.fix_ms);
    assert_int_equal(u.accuracy_dm, 171);
    /* a position typed later wins and is not a GPS one (later: a stamp in
     * the same millisecond may order either way, soft state is LWW) */
    usleep(5000);
    OK(fm_node_soft_position(c.n, uid, 290800000, 1196480000));
    OK(fm_node_unit_get(c.n, uid, &u));
    assert_false(u.gps);
    assert_int_equal(u.lat_e7, 290800000);
    /* another unit's vehicle cannot place this one; bad fixes are refused */
    fix.track_cdeg = 36000;
    assert_int_equal(fm_node_soft_fix(v.n, uid, &fix), FM_EINVAL);
    fix.track_cdeg = FM_GPS_NO_TRACK;
    fix.fix_ms = 0;
    assert_int_equal(fm_node_soft_fix(v.n, uid, &fix), FM_EINVAL);
    fm_buf_release(&buf);
    fx_done(&v);
    fx_done(&c);
}

/* The vehicle stamps en route and arrival by position; the crew's later
 * button press confirms without moving them; the report counts them. */
static void test_gps_steps_and_report(void **state)
{
    (void)state;
    struct fx_node c, v;
    struct fm_ingest_result res;
    struct fm_ticket t;
    struct fm_report r;
    char inc[FM_ID_MAX], inc2[FM_ID_MAX], uid[FM_ID_MAX], tk[1][FM_ID_MAX], tk2[1][FM_ID_MAX];
    struct fm_unit_new un = {.name = "Engine J1", .department = "Jinhua Fire", .kind = "engine",
                             .tier = 1};
    make_node(&c, "centre", FM_ROLE_CENTRE);
    make_unit_node(&v, "vehicle", FM_ROLE_VEHICLE, "Engine J1");
    OK(fm_node_unit_register(c.n, &un, uid));
    report(c.n, "building_fire", 29.083, 119.651, 1, inc);
    OK(fm_node_dispatch(c.n, inc, (const char *const[]){uid}, 1, NULL, tk));
    OK(fx_sync(c.n, v.n, &res));
    /* GPS cannot stamp an ack, nor a dispatcher stamp by GPS */
    assert_int_equal(fm_node_ticket_step_gps(v.n, tk[0], FM_STEP_ACK, NULL), FM_EINVAL);
    assert_int_equal(fm_node_ticket_step_gps(c.n, tk[0], FM_STEP_ARRIVE, NULL), FM_EINVAL);
    OK(fm_node_ticket_step(v.n, tk[0], FM_STEP_ACK, NULL));
    OK(fm_node_ticket_step_gps(v.n, tk[0], FM_STEP_ENROUTE, "source: GPS; left"));
    OK(fm_node_ticket_step_gps(v.n, tk[0], FM_STEP_ARRIVE, "source: GPS; within 100 m"));
    /* a second GPS arrival is refused: the step is there */
    assert_int_equal(fm_node_ticket_step_gps(v.n, tk[0], FM_STEP_ARRIVE, NULL), FM_ESTATE);
    OK(fm_node_ticket_get(v.n, tk[0], &t));
    uint64_t arrived = t.onscene.hlc;
    assert_true(t.onscene.gps && t.enroute.gps && !t.acked.gps);
    /* the crew presses "arrive" afterwards: accepted as a confirmation */
    OK(fm_node_ticket_step(v.n, tk[0], FM_STEP_ARRIVE, NULL));
    OK(fm_node_ticket_get(v.n, tk[0], &t));
    assert_int_equal(t.onscene.hlc, arrived);
    assert_true(t.onscene.gps);
    assert_int_equal(t.events, 5); /* dispatch, ack, enroute, arrive, arrive (confirmation) */
    /* ... and a press on a step stamped by a button is still refused */
    assert_int_equal(fm_node_ticket_step(v.n, tk[0], FM_STEP_ACK, NULL), FM_ESTATE);
    OK(fx_sync(v.n, c.n, &res));
    OK(fm_node_ticket_get(c.n, tk[0], &t));
    assert_int_equal(t.onscene.hlc, arrived);
    assert_true(t.onscene.gps && !t.onscene.behalf);
    /* a second incident whose arrival the centre records for the unit by radio */
    OK(fm_node_ticket_step(c.n, tk[0], FM_STEP_CLEAR, "out"));
    report(c.n, "building_fire", 29.09, 119.66, 1, inc2);
    OK(fm_node_dispatch(c.n, inc2, (const char *const[]){uid}, 1, NULL, tk2));
    OK(fm_node_ticket_step(c.n, tk2[0], FM_STEP_ACK, NULL));
    OK(fm_node_ticket_step(c.n, tk2[0], FM_STEP_ARRIVE, NULL));
    struct fm_report_query q = {.by = FM_REPORT_ALL};
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.ngroups, 1);
    assert_int_equal(r.groups[0].tickets, 2);
    assert_int_equal(r.groups[0].interval[3].gps_stamps, 1);   /* en route -> on scene */
    assert_int_equal(r.groups[0].interval[3].button_stamps, 0); /* tk2 has no en route */
    assert_int_equal(r.groups[0].interval[2].gps_stamps, 1);   /* ack -> en route */
    assert_int_equal(r.groups[0].response.gps_stamps, 1);
    assert_int_equal(r.groups[0].response.button_stamps, 1);
    assert_int_equal(r.groups[0].interval[1].button_stamps, 2);
    fm_report_release(&r);
    q.gps_only = true;
    OK(fm_node_report(c.n, &q, &r));
    assert_int_equal(r.tickets, 1);
    assert_int_equal(r.groups[0].response.n, 1);
    assert_int_equal(r.groups[0].response.gps_stamps, 1);
    fm_report_release(&r);
    fx_done(&v);
    fx_done(&c);
}

/* A GPS flag on a step it does not belong to never decodes. */
static void test_gps_flag_decode(void **state)
{
    (void)state;
    struct payload *p = calloc(2, sizeof *p);
    struct fm_buf b;
    assert_non_null(p);
    fm_buf_init(&b, 1 << 16);
    p->log.kind = OP_TICKET_STEP;
    p->ref.seq = p->ref2.seq = p->ref3.seq = 1;
    p->epoch = 0;
    p->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH) |
                 PT_BIT(PT_CODE) | PT_BIT(PT_FLAGS);
    p->code = TS_ARRIVE;
    p->flags = 2;
    OK(payload_encode(p, &b, &p[1]));
    p->flags = 3; /* on behalf and by GPS */
    assert_int_equal(payload_encode(p, &b, &p[1]), FM_EINVAL);
    p->flags = 2;
    p->code = TS_ACK;
    assert_int_equal(payload_encode(p, &b, &p[1]), FM_EINVAL);
    p->code = TS_ENROUTE;
    p->flags = 4;
    assert_int_equal(payload_encode(p, &b, &p[1]), FM_EINVAL);
    fm_buf_release(&b);
    free(p);
}

static int load_conf(const char *dir, const char *gps, struct fm_config *cfg, char *err,
                     size_t errlen)
{
    char path[600], key[FM_KEY_TEXT_LEN];
    uint8_t pk[FM_PK_LEN] = {1, 2, 3};
    fm_key_encode(pk, key);
    snprintf(path, sizeof path, "%s/node.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "node:\n  name: v1\n  role: vehicle\nstorage:\n  data_dir: data\ntrust:\n"
               "  org_key: %s\n%s", key, gps);
    fclose(f);
    return fm_config_load(cfg, path, err, errlen);
}

static void test_config_gps(void **state)
{
    (void)state;
    static struct fm_config cfg;
    char dir[] = "/tmp/fm-test-gps-XXXXXX", err[512];
    assert_non_null(mkdtemp(dir));
    OK(load_conf(dir, "", &cfg, err, sizeof err));
    assert_false(cfg.gps.enabled);
    assert_string_equal(cfg.gps.host, "127.0.0.1");
    assert_int_equal(cfg.gps.port, 2947);
    assert_int_equal(cfg.gps.arrive_m, 100);
    OK(load_conf(dir, "gps:\n  enabled: true\n  device: /dev/ttyACM0\n  address: 127.0.0.1:36123\n"
                      "  interval_s: 5\n  min_move_m: 25\n  accuracy_m: 30\n  dwell_s: 3\n"
                      "  arrive_by_category: {building_fire: 80, chemical_leak: 300}\n",
                 &cfg, err, sizeof err));
    assert_true(cfg.gps.enabled);
    assert_string_equal(cfg.gps.device, "/dev/ttyACM0");
    assert_int_equal(cfg.gps.port, 36123);
    assert_int_equal(cfg.gps.interval_s, 5);
    assert_int_equal(fm_gps_arrive_m(&cfg.gps, "building_fire"), 80);
    assert_int_equal(fm_gps_arrive_m(&cfg.gps, "chemical_leak"), 300);
    assert_int_equal(fm_gps_arrive_m(&cfg.gps, "flood"), 100);
    static const struct { const char *yaml, *want; } bad[] = {
        {"gps:\n  enabled: yes\n", "expected true or false for 'enabled'"},
        {"gps:\n  address: 127.0.0.1\n", "bad address '127.0.0.1' for 'address'"},
        {"gps:\n  address: 127.0.0.1:0\n", "bad address"},
        {"gps:\n  colour: red\n", "unknown key 'colour' in section 'gps'"},
        {"gps:\n  interval_s: 0\n", "'interval_s' must be between 1 and 3600"},
        {"gps:\n  arrive_by_category: {Bad!: 10}\n", "bad category 'Bad!'"},
        {"gps:\n  arrive_by_category: {fire: 5}\n", "'fire' must be between 10 and 10000"},
        {"gps:\n  arrive_by_category: {fire: 50, fire: 60}\n", "duplicate key 'fire'"},
        {"gps:\n  arrive_by_category: [fire]\n", "expected a mapping"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(load_conf(dir, bad[i].yaml, &cfg, err, sizeof err), FM_ECONFIG);
        if (strstr(err, bad[i].want) == NULL)
            fail_msg("%s: got '%s', want '%s'", bad[i].yaml, err, bad[i].want);
    }
    char path[600];
    snprintf(path, sizeof path, "%s/node.yaml", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_tpv),        cmocka_unit_test(test_json_hostile),
        cmocka_unit_test(test_time),            cmocka_unit_test(test_rules_judge),
        cmocka_unit_test(test_rules_due),       cmocka_unit_test(test_soft_fix),
        cmocka_unit_test(test_gps_steps_and_report), cmocka_unit_test(test_gps_flag_decode),
        cmocka_unit_test(test_config_gps),
    };
    return wf_test_main("test_gps", tests, sizeof tests / sizeof tests[0]);
}
