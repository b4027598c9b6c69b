/*
 * test_need_to_know.c — caller details for dispatchers only (issue 9,
 * item 8; docs/security.md "Need to know"): the org-signed key record,
 * sealing and opening the caller, what a vehicle, a county and a revoked
 * dispatcher can read, and the attacks with validly signed ops in both
 * arrival orders: a key record carried by a vehicle, one not signed by the
 * org, a revoked dispatcher left out of the rotation, damaged ciphertext.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include "tests/unit/node_fixture.h"
#include "tests/unit/node_test_util.h"

#define PHONE "13955501234"
#define NAME "Li Wei"

/* A centre (the call-taker), a county (another dispatcher), a vehicle. */
static struct fx_node centre, county, vehicle;

static void actors_open(void)
{
    fx_open_role(&centre, "centre", FM_ROLE_CENTRE, NULL);
    fx_open_role(&county, "county", FM_ROLE_COUNTY, NULL);
    fx_open_role(&vehicle, "engine1", FM_ROLE_VEHICLE, "Engine 1");
}

static void actors_done(void)
{
    fx_done(&centre);
    fx_done(&county);
    fx_done(&vehicle);
}

/* A key record of generation gen for the given nodes, signed by signer
 * (the org root unless another is given). */
static void record_make(struct fm_groupkey *gk, struct fm_seal_key *k, uint32_t gen,
                        const struct fx_node *const *to, size_t n,
                        const struct fm_identity *signer)
{
    uint8_t pks[4][FM_PK_LEN];
    for (size_t i = 0; i < n; i++)
        memcpy(pks[i], to[i]->id.pk, FM_PK_LEN);
    memset(gk, 0, sizeof *gk);
    gk->generation = gen;
    gk->issued_ms = fm_now_ms();
    OK(fm_seal_key_generate(k));
    OK(fm_groupkey_make(gk, k, (const uint8_t (*)[FM_PK_LEN])pks, n,
                        signer ? signer : &org.root));
}

/* Every op of author in `from`, then ingested into `to`. */
static void relay(struct fx_node *from, struct fx_node *to)
{
    struct fx_ops l = {0};
    struct fm_ingest_result res;
    OK(fx_collect(from->n, from->id.pk, &l));
    OK(fx_ingest(to->n, &l, 0, l.n, &res));
    fx_ops_free(&l);
}

static void relay_all(void)
{
    struct fx_node *all[] = {&centre, &county, &vehicle};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (i != j)
                relay(all[i], all[j]);
}

static struct fm_groupkey *gk_new(void)
{
    struct fm_groupkey *gk = calloc(1, sizeof *gk);
    assert_non_null(gk);
    return gk;
}

/* ---- the record ---- */

static void test_record_codec(void **state)
{
    (void)state;
    struct fm_groupkey *gk = gk_new(), *back = gk_new();
    struct fm_seal_key k = {NULL}, opened = {NULL};
    struct fm_buf b;
    actors_open();
    const struct fx_node *to[] = {&county, &centre, &centre}; /* a repeat is dropped */
    record_make(gk, &k, 1, to, 3, NULL);
    assert_int_equal(gk->count, 2);
    fm_buf_init(&b, FM_GROUPKEY_MAX_LEN);
    OK(fm_groupkey_encode(gk, &b));
    OK(fm_groupkey_decode(back, b.data, b.len));
    OK(fm_groupkey_check(back, org.root.pk));
    assert_memory_equal(back, gk, sizeof *gk);
    /* the recipients open it, the vehicle is not one of them */
    OK(fm_groupkey_open(back, &centre.id, &opened));
    assert_memory_equal(opened.k, k.k, FM_SEAL_KEY_LEN);
    fm_seal_key_release(&opened);
    assert_int_equal(fm_groupkey_open(back, &vehicle.id, &opened), FM_ENOTFOUND);
    /* any changed byte breaks the signature or the structure */
    for (size_t i = 0; i < b.len; i += 7) {
        b.data[i] ^= 0x20;
        int rc = fm_groupkey_decode(back, b.data, b.len);
        if (rc == FM_OK)
            assert_int_not_equal(fm_groupkey_check(back, org.root.pk), FM_OK);
        b.data[i] ^= 0x20;
    }
    /* truncated, trailing, unsorted */
    assert_int_equal(fm_groupkey_decode(back, b.data, b.len - 1), FM_EDECODE);
    OK(fm_buf_append(&b, "x", 1));
    assert_int_equal(fm_groupkey_decode(back, b.data, b.len), FM_EDECODE);
    b.len--;
    uint8_t *e0 = b.data + FM_GROUPKEY_HEAD_LEN, *e1 = e0 + FM_GROUPKEY_ENTRY_LEN;
    uint8_t tmp[FM_GROUPKEY_ENTRY_LEN];
    memcpy(tmp, e0, sizeof tmp);
    memcpy(e0, e1, sizeof tmp);
    memcpy(e1, tmp, sizeof tmp);
    assert_int_equal(fm_groupkey_decode(back, b.data, b.len), FM_EDECODE);
    fm_buf_release(&b);
    fm_seal_key_release(&k);
    free(gk);
    free(back);
    actors_done();
}

static void test_plain_codec(void **state)
{
    (void)state;
    uint8_t p[FM_SEALED_PLAIN_MAX];
    size_t n;
    char phone[FM_PHONE_MAX], name[FM_CALLER_NAME_MAX];
    OK(caller_plain_encode(PHONE, NAME, p, &n));
    OK(caller_plain_decode(p, n, phone, name));
    assert_string_equal(phone, PHONE);
    assert_string_equal(name, NAME);
    OK(caller_plain_encode(NULL, NAME, p, &n));
    OK(caller_plain_decode(p, n, phone, name));
    assert_string_equal(phone, "");
    assert_int_equal(caller_plain_encode("", NULL, p, &n), FM_EINVAL);
    assert_int_equal(caller_plain_encode("a\nb", NULL, p, &n), FM_EINVAL);
    static const uint8_t bad[][6] = {
        {2, 1, 'a', 1, 1, 'b'}, /* out of order */
        {1, 1, 'a', 1, 1, 'b'}, /* repeated */
        {3, 1, 'a', 0, 0, 0},   /* unknown tag */
        {1, 2, 'a', 0x01, 0, 0},/* a control character */
        {1, 9, 'a', 'b', 0, 0}, /* truncated */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(caller_plain_decode(bad[i], i == 2 || i == 3 ? 4 : 6, phone, name),
                         FM_EDECODE);
    assert_int_equal(caller_plain_decode(p, 0, phone, name), FM_EDECODE);
}

/* ---- reading ---- */

static void publish_gen1(struct fm_seal_key *k)
{
    struct fm_groupkey *gk = gk_new();
    const struct fx_node *to[] = {&centre, &county};
    record_make(gk, k, 1, to, 2, NULL);
    OK(fm_node_publish_groupkey(centre.n, gk));
    assert_int_equal(fm_node_publish_groupkey(centre.n, gk), FM_EEXISTS);
    free(gk);
}

static void report(struct fx_node *x, const char *phone, const char *name, char id[FM_ID_MAX])
{
    struct fm_incident_new in = {.category = "fire", .priority = 1, .lat_e7 = 1, .lon_e7 = 2,
                                 .caller = phone, .caller_name = name};
    OK(fm_node_incident_report(x->n, &in, id));
}

static void assert_opened(struct fm_node *n, const char *id, const char *phone,
                          const char *name)
{
    struct fm_incident inc;
    OK(fm_node_incident_get(n, id, &inc));
    assert_int_equal(inc.caller_state, FM_CALLER_OPENED);
    assert_string_equal(inc.caller, phone);
    assert_string_equal(inc.caller_name, name);
}

static void assert_sealed(struct fm_node *n, const char *id, enum fm_caller_state want)
{
    struct fm_incident inc;
    OK(fm_node_incident_get(n, id, &inc));
    assert_int_equal(inc.caller_state, want);
    assert_string_equal(inc.caller, "");
    assert_string_equal(inc.caller_name, "");
}

struct scan {
    const char *needle;
    bool found;
};

static int scan_log(void *ctx, const struct fm_log_entry *e)
{
    struct scan *s = ctx;
    size_t n = strlen(s->needle);
    for (size_t i = 0; i + n <= e->payload_len; i++)
        s->found = s->found || memcmp(e->payload + i, s->needle, n) == 0;
    s->found = s->found || strstr(e->summary, s->needle) != NULL;
    return 0;
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    static char buf[1 << 20];
    size_t n, k = strlen(needle), carry = 0;
    bool found = false;
    assert_non_null(f);
    while (!found && (n = fread(buf + carry, 1, sizeof buf - carry, f)) > 0) {
        n += carry;
        for (size_t i = 0; i + k <= n && !found; i++)
            found = memcmp(buf + i, needle, k) == 0;
        carry = n >= k ? k - 1 : n;
        memmove(buf, buf + n - carry, carry);
    }
    fclose(f);
    return found;
}

static void test_dispatchers_read_vehicles_do_not(void **state)
{
    (void)state;
    struct fm_seal_key k = {NULL};
    char id[FM_ID_MAX], mdb[700];
    actors_open();
    publish_gen1(&k);
    report(&centre, PHONE, NAME, id);
    assert_opened(centre.n, id, PHONE, NAME);
    relay_all();
    assert_opened(county.n, id, PHONE, NAME);
    assert_sealed(vehicle.n, id, FM_CALLER_SEALED);
    /* one state everywhere, whoever can read it */
    assert_int_equal(fx_digest_eq(centre.n, vehicle.n), 1);
    assert_int_equal(fx_digest_eq(centre.n, county.n), 1);
    /* nothing the vehicle holds decodes to the caller, and no store file
     * holds it in clear */
    struct scan s = {PHONE, false};
    OK(fm_node_log(vehicle.n, NULL, scan_log, &s));
    assert_false(s.found);
    s = (struct scan){NAME, false};
    OK(fm_node_log(vehicle.n, NULL, scan_log, &s));
    assert_false(s.found);
    struct fx_node *all[] = {&centre, &county, &vehicle};
    for (int i = 0; i < 3; i++) {
        fm_node_close(&all[i]->n);
        snprintf(mdb, sizeof mdb, "%s/data.mdb", all[i]->cfg.data_dir);
        assert_false(file_has(mdb, PHONE));
        assert_false(file_has(mdb, NAME));
        OK(fx_open(all[i], FM_OPEN_IDENTITY | NOSYNC));
    }
    /* a dispatcher edits the number; the name it did not name stays */
    struct fm_incident_edit e = {.caller = "110"};
    OK(fm_node_incident_edit(county.n, id, &e));
    relay_all();
    assert_opened(centre.n, id, "110", NAME);
    assert_sealed(vehicle.n, id, FM_CALLER_SEALED);
    fm_seal_key_release(&k);
    actors_done();
}

/* A node without a dispatcher key (not yet sealed to it, or not a
 * dispatcher) writes the report without the caller: an emergency is
 * never held back, and the caller never goes out in clear. */
static void test_no_key_leaves_caller_out(void **state)
{
    (void)state;
    char id[FM_ID_MAX];
    uint32_t gen;
    actors_open();
    assert_int_equal(fm_node_dispatch_key(centre.n, &gen, NULL), FM_ENOKEY);
    report(&centre, PHONE, NAME, id);
    struct fm_incident inc;
    OK(fm_node_incident_get(centre.n, id, &inc));
    assert_int_equal(inc.caller_state, FM_CALLER_CLEAR);
    assert_string_equal(inc.caller, "");
    struct scan s = {PHONE, false};
    OK(fm_node_log(centre.n, NULL, scan_log, &s));
    assert_false(s.found);
    /* an edit that only names the caller cannot be written */
    struct fm_incident_edit e = {.caller = PHONE};
    assert_int_equal(fm_node_incident_edit(centre.n, id, &e), FM_ENOKEY);
    /* once the key arrives, the call-taker adds it */
    struct fm_seal_key k = {NULL};
    publish_gen1(&k);
    OK(fm_node_dispatch_key(centre.n, &gen, NULL));
    assert_int_equal(gen, 1);
    OK(fm_node_incident_edit(centre.n, id, &e));
    assert_opened(centre.n, id, PHONE, "");
    /* the vehicle, named in no record, still cannot seal */
    relay_all();
    assert_int_equal(fm_node_dispatch_key(vehicle.n, &gen, NULL), FM_ENOKEY);
    fm_seal_key_release(&k);
    actors_done();
}

/* ---- attacks: validly signed ops, both arrival orders ---- */

/* An op of `x` at its next seq with the given payload, built by hand so
 * that x's own writer checks are bypassed, as an attacker would. */
static void forge(struct fx_ops *l, struct fx_node *x, uint8_t kind, const struct fm_buf *p)
{
    struct fx_ops mine = {0};
    uint8_t prev[FM_HASH_LEN];
    OK(fm_node_ensure_cert(x->n)); /* op 1, its certificate */
    OK(fx_collect(x->n, x->id.pk, &mine));
    assert_true(mine.n > 0);
    op_hash_of(&mine, mine.n - 1, prev);
    struct fm_op last;
    OK(fm_op_decode(&last, mine.ops[mine.n - 1], mine.lens[mine.n - 1]));
    for (size_t i = 0; i < mine.n; i++)
        OK(fx_ops_add(l, mine.ops[i], mine.lens[i]));
    build_op(l, &x->id, kind, last.seq + 1, prev, last.hlc + 1, p->data, p->len);
    fx_ops_free(&mine);
}

/* Feeds attacker ops and the genuine centre log, in both orders, to a
 * fresh store of the county (named in every record here, forged or not);
 * each time the forged op is refused with `want` and the county seals to
 * the genuine generation-1 key. */
static void check_refused(struct fx_ops *attack, int want, const uint8_t genuine[8])
{
    for (int order = 0; order < 2; order++) {
        struct fx_node r = county;
        struct fx_ops good = {0};
        struct fm_ingest_result res;
        uint8_t kid[FM_SEAL_KEY_ID_LEN];
        uint32_t gen = 0;
        r.n = NULL;
        snprintf(r.cfg.data_dir, sizeof r.cfg.data_dir, "%s/recv%d", county.dir, order);
        OK(fm_node_open(&r.n, &r.cfg, FM_OPEN_IDENTITY | NOSYNC));
        OK(fx_collect(centre.n, centre.id.pk, &good));
        int *each = calloc(attack->n, sizeof *each);
        assert_non_null(each);
        if (order == 1)
            OK(fx_ingest(r.n, &good, 0, good.n, &res));
        OK(fm_node_ingest_each(r.n, (const uint8_t *const *)attack->ops, attack->lens,
                               attack->n, &res, each));
        assert_int_equal(each[attack->n - 1], want);
        if (order == 0)
            OK(fx_ingest(r.n, &good, 0, good.n, &res));
        OK(fm_node_dispatch_key(r.n, &gen, kid));
        assert_int_equal(gen, 1);
        assert_memory_equal(kid, genuine, sizeof kid);
        free(each);
        fx_ops_free(&good);
        fm_node_close(&r.n);
    }
}

static void test_forged_key_records_refused(void **state)
{
    (void)state;
    struct fm_seal_key k = {NULL}, fk = {NULL};
    struct fm_groupkey *gk = gk_new(), *forged = gk_new();
    struct fm_buf b;
    struct fx_ops l = {0};
    actors_open();
    publish_gen1(&k);
    uint8_t genuine[FM_SEAL_KEY_ID_LEN];
    fm_seal_key_id(&k, genuine);
    struct fx_node rogue;
    fx_open_role(&rogue, "rogue", FM_ROLE_COUNTY, NULL);
    const struct fx_node *to[] = {&centre, &county, &vehicle};
    fm_buf_init(&b, FM_GROUPKEY_MAX_LEN);

    /* 1. a vehicle carries a genuine, org-signed record naming itself */
    record_make(gk, &fk, 2, to, 3, NULL);
    OK(fm_groupkey_encode(gk, &b));
    forge(&l, &vehicle, OP_GROUP_KEY, &b);
    check_refused(&l, FM_EPERM, genuine);
    fx_ops_free(&l);
    fm_seal_key_release(&fk);

    /* 2. a county (a dispatcher) carries a record it signed itself,
     * naming the org as its maker, to make dispatchers seal to a key the
     * vehicle holds */
    record_make(forged, &fk, 9, to, 3, &rogue.id);
    memcpy(forged->org, org.root.pk, FM_PK_LEN);
    fm_buf_reset(&b);
    OK(fm_groupkey_encode(forged, &b));
    forge(&l, &rogue, OP_GROUP_KEY, &b);
    check_refused(&l, FM_EVERIFY, genuine);
    fx_ops_free(&l);
    fm_seal_key_release(&fk);

    /* 3. the same with its own key as the org: another org's record */
    fm_seal_key_release(&fk);
    record_make(forged, &fk, 9, to, 3, &rogue.id);
    fm_buf_reset(&b);
    OK(fm_groupkey_encode(forged, &b));
    forge(&l, &rogue, OP_GROUP_KEY, &b);
    check_refused(&l, FM_EFOREIGN, genuine);
    fx_ops_free(&l);

    /* and the writers refuse up front */
    assert_int_equal(fm_node_publish_groupkey(vehicle.n, gk), FM_EPERM);
    assert_int_equal(fm_node_publish_groupkey(rogue.n, forged), FM_EFOREIGN);
    fx_done(&rogue);
    /* the centre still seals to the genuine key */
    uint8_t kid[FM_SEAL_KEY_ID_LEN];
    OK(fm_node_dispatch_key(centre.n, NULL, kid));
    assert_memory_equal(kid, genuine, sizeof kid);
    fm_buf_release(&b);
    fm_seal_key_release(&k);
    fm_seal_key_release(&fk);
    free(gk);
    free(forged);
    actors_done();
}

/* The county is revoked; generation 2 is sealed to the centre only. The
 * county holds the record (every node stores it) but cannot open it, keeps
 * reading generation 1 incidents and cannot read generation 2 ones,
 * whichever arrives first. */
static void test_revoked_dispatcher_left_out(void **state)
{
    (void)state;
    struct fm_seal_key k1 = {NULL}, k2 = {NULL};
    struct fm_groupkey *gk = gk_new();
    char old_id[FM_ID_MAX], new_id[FM_ID_MAX];
    uint32_t gen;
    actors_open();
    publish_gen1(&k1);
    report(&centre, PHONE, NAME, old_id);
    relay_all();
    const struct fx_node *to[] = {&centre};
    record_make(gk, &k2, 2, to, 1, NULL);
    assert_false(fm_groupkey_lists(gk, county.id.pk));
    OK(fm_node_publish_groupkey(centre.n, gk));
    OK(fm_node_dispatch_key(centre.n, &gen, NULL));
    assert_int_equal(gen, 2);
    report(&centre, "5550000", "New Caller", new_id);
    relay(&centre, &county);
    OK(fm_node_dispatch_key(county.n, &gen, NULL));
    assert_int_equal(gen, 1); /* never 2 */
    assert_opened(county.n, old_id, PHONE, NAME);
    assert_sealed(county.n, new_id, FM_CALLER_SEALED);
    assert_opened(centre.n, old_id, PHONE, NAME);
    assert_opened(centre.n, new_id, "5550000", "New Caller");
    /* the other order: a fresh county-role store gets everything at once */
    struct fx_node late;
    fx_open_role(&late, "late", FM_ROLE_COUNTY, NULL);
    relay(&centre, &late);
    assert_sealed(late.n, new_id, FM_CALLER_SEALED);
    assert_sealed(late.n, old_id, FM_CALLER_SEALED); /* named in neither record */
    fx_done(&late);
    fm_seal_key_release(&k1);
    fm_seal_key_release(&k2);
    free(gk);
    actors_done();
}

/* A dispatcher writes a sealed caller that is not what it claims: damaged
 * ciphertext under a held key id, an unknown key id, bytes lifted from
 * another author's op. Stored like any op, never a crash, never shown. */
static void test_damaged_ciphertext(void **state)
{
    (void)state;
    struct fm_seal_key k = {NULL};
    char id[FM_ID_MAX];
    actors_open();
    publish_gen1(&k);
    report(&centre, PHONE, NAME, id);
    relay_all();
    struct fm_incident inc;
    OK(fm_node_incident_get(county.n, id, &inc));

    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    OK(caller_seal(&k, centre.id.pk, PHONE, NAME, pl)); /* bound to the centre */
    pl->log.kind = OP_INC_UPDATE;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_SEALED);
    memcpy(pl->ref.author, centre.id.pk, FM_PK_LEN);
    pl->ref.seq = 3;
    /* lifted: the county signs the centre's sealed bytes as its own */
    OK(node_write_payload(county.n, &pl->log, NULL));
    relay_all();
    assert_sealed(centre.n, id, FM_CALLER_DAMAGED);
    assert_sealed(county.n, id, FM_CALLER_DAMAGED);
    assert_sealed(vehicle.n, id, FM_CALLER_SEALED);
    /* flipped ciphertext bytes, and an unknown key id */
    pl->sealed[pl->sealed_len - 3] ^= 1;
    OK(node_write_payload(centre.n, &pl->log, NULL));
    relay_all();
    assert_sealed(county.n, id, FM_CALLER_DAMAGED);
    pl->sealed[pl->sealed_len - 3] ^= 1;
    pl->sealed[1] ^= 0xff;
    OK(node_write_payload(centre.n, &pl->log, NULL));
    relay_all();
    assert_sealed(county.n, id, FM_CALLER_SEALED);
    assert_int_equal(fx_digest_eq(centre.n, vehicle.n), 1);
    /* a structurally short sealed value never reaches a store */
    pl->sealed_len = FM_SEALED_MIN - 1;
    assert_int_not_equal(node_write_payload(centre.n, &pl->log, NULL), FM_OK);
    free(pl);
    fm_seal_key_release(&k);
    actors_done();
}

/* Sealed caller bytes sealed by caller_seal open with caller_open only
 * for the same key and author. */
static void test_seal_open(void **state)
{
    (void)state;
    struct fm_seal_key k = {NULL}, other = {NULL};
    uint8_t a[FM_PK_LEN] = {1}, b[FM_PK_LEN] = {2};
    char phone[FM_PHONE_MAX], name[FM_CALLER_NAME_MAX];
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    OK(fm_seal_key_generate(&k));
    OK(fm_seal_key_generate(&other));
    OK(caller_seal(&k, a, PHONE, NAME, pl));
    assert_true(pl->sealed_len >= FM_SEALED_MIN && pl->sealed_len <= FM_SEALED_MAX);
    for (size_t i = 0; i + strlen(PHONE) <= pl->sealed_len; i++)
        assert_memory_not_equal(pl->sealed + i, PHONE, strlen(PHONE));
    OK(caller_open(&k, a, pl->sealed, pl->sealed_len, phone, name));
    assert_string_equal(phone, PHONE);
    assert_string_equal(name, NAME);
    assert_int_equal(caller_open(&k, b, pl->sealed, pl->sealed_len, phone, name), FM_EVERIFY);
    assert_int_equal(caller_open(&other, a, pl->sealed, pl->sealed_len, phone, name),
                     FM_EVERIFY);
    assert_string_equal(phone, "");
    for (size_t n = 0; n < pl->sealed_len; n++)
        assert_int_not_equal(caller_open(&k, a, pl->sealed, n, phone, name), FM_OK);
    fm_seal_key_release(&k);
    fm_seal_key_release(&other);
    free(pl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_codec),
        cmocka_unit_test(test_plain_codec),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_dispatchers_read_vehicles_do_not),
        cmocka_unit_test(test_no_key_leaves_caller_out),
        cmocka_unit_test(test_forged_key_records_refused),
        cmocka_unit_test(test_revoked_dispatcher_left_out),
        cmocka_unit_test(test_damaged_ciphertext),
    };
    return fx_node_main("need_to_know", tests, sizeof tests / sizeof tests[0]);
}
