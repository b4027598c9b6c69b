/*
 * test_at_rest.c — keys and data at rest (docs/security.md): sealed key
 * files, sealed store values bound to their key, wrong passphrases that
 * touch nothing, old unsealed files refused, and the crypto-shred of a node
 * that learns its own certificate is revoked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "crypto/crypto_int.h"
#include "node_fixture.h"

#define OK(x) assert_int_equal((x), FM_OK)
#define PHONE "+8613955501234"

static bool mem_has(const uint8_t *h, size_t hn, const void *n, size_t nn)
{
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, n, nn) == 0)
            return true;
    return false;
}

static size_t read_all(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void test_sealed_identity(void **state)
{
    (void)state;
    struct fx_org o;
    struct fm_identity id = { { 0 }, NULL }, back = { { 0 }, NULL };
    struct fm_unlock *u = NULL, *wrong = NULL;
    char path[600], plain[600];
    OK(fx_org_init(&o));
    snprintf(path, sizeof path, "%s/node.key", o.dir);
    snprintf(plain, sizeof plain, "%s/plain.key", o.dir);
    OK(fm_identity_generate(&id));
    OK(fm_unlock_new(&u, "right", 5));
    OK(fm_unlock_new(&wrong, "wrong", 5));
    OK(fm_identity_save_sealed(&id, path, u, FM_KDF_MINIMAL));
    assert_int_equal(fm_identity_save_sealed(&id, path, u, FM_KDF_MINIMAL), FM_EEXISTS);

    /* the file holds neither half of the secret key in clear */
    uint8_t text[1024], blob[512];
    size_t n = read_all(path, text, sizeof text), blen = 0;
    OK(fm_text_unwrap(text, n, "fieldmesh-sealed-key 1", blob, sizeof blob, &blen));
    assert_false(mem_has(blob, blen, id.sk, 32));
    assert_false(mem_has(blob, blen, id.pk, FM_PK_LEN));

    assert_int_equal(fm_identity_load_sealed(&back, path, wrong), FM_EPASSPHRASE);
    assert_null(back.sk);
    OK(fm_identity_load_sealed(&back, path, u));
    assert_memory_equal(back.pk, id.pk, FM_PK_LEN);
    assert_memory_equal(back.sk, id.sk, FM_SK_LEN);
    fm_identity_release(&back);

    /* a changed KDF parameter (associated data) does not open */
    struct fm_sealed s;
    OK(fm_sealed_decode(&s, blob, blen));
    blob[2 + 7] ^= 1; /* opslimit 1 -> 0: outside the bounds */
    assert_int_equal(fm_sealed_decode(&s, blob, blen), FM_EDECODE);
    blob[2 + 7] ^= 3; /* opslimit 1 -> 2: valid, but not what was sealed */
    OK(fm_sealed_decode(&s, blob, blen));

    /* an old unsealed key is named as such, not as a wrong passphrase */
    OK(fm_identity_save(&id, plain));
    assert_int_equal(fm_identity_load_sealed(&back, plain, u), FM_EPLAIN);
    fm_unlock_destroy(&u);
    fm_unlock_destroy(&wrong);
    fm_identity_release(&id);
    fx_org_done(&o);
}

/* The raw (sealed) bytes of db/key, read with the values in clear. */
struct raw_ctx {
    enum store_db db;
    const char *from, *to;
    enum store_db to_db;
};

/* An organisation for the test's directory and a store sealed under a new
 * data key at <its dir>/store. */
static void sealed_store(struct fx_org *o, struct fm_seal_key *dk, struct store **st, char *dir,
                         size_t cap)
{
    OK(fx_org_init(o));
    snprintf(dir, cap, "%s/store", o->dir);
    OK(fm_seal_key_generate(dk));
    OK(store_open(st, dir, 1 << 20, 1 << 24, STORE_NOSYNC, dk));
}

static int move_raw(struct store_txn *t, void *ctx)
{
    struct raw_ctx *r = ctx;
    const uint8_t *v;
    size_t vlen;
    uint8_t copy[512];
    int rc = store_get(t, r->db, r->from, strlen(r->from), &v, &vlen);
    if (rc != FM_OK)
        return rc;
    assert_true(vlen <= sizeof copy);
    assert_false(mem_has(v, vlen, PHONE, strlen(PHONE))); /* sealed on disk */
    memcpy(copy, v, vlen);
    return store_put(t, r->to_db, r->to, strlen(r->to), copy, vlen, false);
}

static int put_phone(struct store_txn *t, void *ctx)
{
    (void)ctx;
    return store_put(t, DB_META, "a", 1, PHONE, strlen(PHONE), false);
}

static void test_value_bound_to_its_key(void **state)
{
    (void)state;
    struct fx_org o;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct fm_seal_key dk = { NULL }, other = { NULL };
    const uint8_t *v;
    size_t vlen;
    char dir[600];
    OK(fx_org_init(&o));
    snprintf(dir, sizeof dir, "%s/store", o.dir);
    OK(fm_seal_key_generate(&dk));
    OK(fm_seal_key_generate(&other));
    OK(store_open(&st, dir, 1 << 20, 1 << 24, STORE_NOSYNC, &dk));
    OK(store_write(st, put_phone, NULL));
    store_close(&st);

    /* with the values in clear: copy a's sealed bytes under b, and into
     * another database under the same key */
    OK(store_open(&st, dir, 1 << 20, 1 << 24, STORE_NOSYNC, NULL));
    struct raw_ctx r1 = { DB_META, "a", "b", DB_META }, r2 = { DB_META, "a", "a", DB_FLAGS };
    OK(store_write(st, move_raw, &r1));
    OK(store_write(st, move_raw, &r2));
    store_close(&st);

    OK(store_open(&st, dir, 1 << 20, 1 << 24, STORE_NOSYNC, &dk));
    OK(store_read_begin(st, &t));
    OK(store_get(t, DB_META, "a", 1, &v, &vlen));
    assert_int_equal(vlen, strlen(PHONE));
    assert_memory_equal(v, PHONE, vlen);
    assert_int_equal(store_get(t, DB_META, "b", 1, &v, &vlen), FM_ETAMPER);
    assert_int_equal(store_get(t, DB_FLAGS, "a", 1, &v, &vlen), FM_ETAMPER);
    store_txn_abort(&t);
    store_close(&st);

    /* another data key opens nothing */
    OK(store_open(&st, dir, 1 << 20, 1 << 24, STORE_NOSYNC, &other));
    OK(store_read_begin(st, &t));
    assert_int_equal(store_get(t, DB_META, "a", 1, &v, &vlen), FM_ETAMPER);
    store_txn_abort(&t);
    store_close(&st);

    /* and the file holds no clear number */
    char mdb[700];
    static uint8_t buf[4 << 20];
    snprintf(mdb, sizeof mdb, "%s/data.mdb", dir);
    size_t n = read_all(mdb, buf, sizeof buf);
    assert_false(mem_has(buf, n, PHONE, strlen(PHONE)));
    fm_seal_key_release(&dk);
    fm_seal_key_release(&other);
    fx_org_done(&o);
}

/* In one write transaction: a write-once value is read (so the table of
 * opened values holds it), deleted by a cursor, and put back with other
 * bytes (a fork settled inside one batch: the loser cut, the winner stored
 * at its seq). The read after must see the new value — the table used to
 * keep saying "gone" (fuzz_ingest finding of 6 December). Both the read and
 * the commit must give the new bytes. */
static int put_back(struct store_txn *t, void *ctx)
{
    (void)ctx;
    const uint8_t *v;
    size_t vlen;
    struct store_cur *c;
    struct store_kv kv;
    int rc;
    if ((rc = store_put(t, DB_OPS, "k", 1, "first", 5, true)) != FM_OK ||
        (rc = store_get(t, DB_OPS, "k", 1, &v, &vlen)) != FM_OK)
        return rc;
    if ((rc = store_cur_open(t, DB_OPS, &c)) != FM_OK)
        return rc;
    if ((rc = store_cur_seek(c, "k", 1, &kv)) == FM_OK)
        rc = store_cur_del(c);
    store_cur_close(&c);
    if (rc != FM_OK)
        return rc;
    if (store_get(t, DB_OPS, "k", 1, &v, &vlen) != FM_ENOTFOUND)
        return FM_EINVAL;
    if ((rc = store_put(t, DB_OPS, "k", 1, "second!", 7, true)) != FM_OK)
        return rc;
    if ((rc = store_get(t, DB_OPS, "k", 1, &v, &vlen)) != FM_OK)
        return rc; /* FM_ENOTFOUND before the fix */
    return vlen == 7 && memcmp(v, "second!", 7) == 0 ? FM_OK : FM_EINVAL;
}

static void test_put_back_after_delete(void **state)
{
    (void)state;
    struct fx_org o;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct fm_seal_key dk = { NULL };
    const uint8_t *v;
    size_t vlen;
    char dir[600];
    sealed_store(&o, &dk, &st, dir, sizeof dir);
    OK(store_write(st, put_back, NULL));
    OK(store_read_begin(st, &t));
    OK(store_get(t, DB_OPS, "k", 1, &v, &vlen));
    assert_int_equal(vlen, 7);
    assert_memory_equal(v, "second!", 7);
    store_txn_abort(&t);
    store_close(&st);
    fm_seal_key_release(&dk);
    fx_org_done(&o);
}

static int put_b(struct store_txn *t, void *ctx)
{
    (void)ctx;
    return store_put(t, DB_META, "b", 1, "written without AES-NI", 22, false);
}

/* A store written with AES-256-GCM, opened on a CPU without AES-NI: its
 * AES values are refused as unreadable here (not as tampered), what that
 * node writes is XChaCha20, and back on an AES-NI CPU both read. */
static void test_store_without_aes_ni(void **state)
{
    (void)state;
    if (!fm_aes_gcm_available()) {
        print_message("no AES-NI on this CPU: skipped\n");
        return;
    }
    struct fx_org o;
    struct store *st = NULL;
    struct store_txn *t = NULL;
    struct fm_seal_key dk = { NULL };
    const uint8_t *v;
    size_t vlen;
    char dir[600];
    sealed_store(&o, &dk, &st, dir, sizeof dir);
    OK(store_write(st, put_phone, NULL));
    store_close(&st);

    fm_vault_pretend_no_aes_(true);
    OK(store_open(&st, dir, 1 << 20, 1 << 24, STORE_NOSYNC, &dk));
    OK(store_write(st, put_b, NULL));
    OK(store_read_begin(st, &t));
    assert_int_equal(store_get(t, DB_META, "a", 1, &v, &vlen), FM_ESTORE);
    OK(store_get(t, DB_META, "b", 1, &v, &vlen));
    assert_int_equal(vlen, 22);
    store_txn_abort(&t);
    store_close(&st);
    fm_vault_pretend_no_aes_(false);

    OK(store_open(&st, dir, 1 << 20, 1 << 24, STORE_NOSYNC, &dk));
    OK(store_read_begin(st, &t));
    OK(store_get(t, DB_META, "a", 1, &v, &vlen));
    assert_memory_equal(v, PHONE, strlen(PHONE));
    OK(store_get(t, DB_META, "b", 1, &v, &vlen));
    assert_memory_equal(v, "written without AES-NI", 22);
    store_txn_abort(&t);
    store_close(&st);
    fm_seal_key_release(&dk);
    fx_org_done(&o);
}

static int tl_count(void *ctx, const struct fm_timeline_entry *e)
{
    int *n = ctx;
    if (strcmp(e->kind, "note") == 0)
        assert_true(strcmp(e->text, "third call") == 0 ||
                    strcmp(e->text, "second call " PHONE) == 0);
    (*n)++;
    return 0;
}

/* What a store holds in clear (docs/security.md, "Which values are
 * sealed"): every value is sealed except the indexes' empty ones and a
 * note's timeline entry, its one kind byte. */
static void test_what_stays_in_clear(void **state)
{
    (void)state;
    struct fx_org o;
    struct fx_node a;
    char id[FM_ID_MAX];
    OK(fx_org_init(&o));
    OK(fx_author(&o, &a, "alpha"));
    OK(fx_open(&a, FM_OPEN_IDENTITY));
    struct fm_incident_new in = { .category = "fire", .priority = 1, .caller = PHONE,
                                  .address = "12 Levee Road", .desc = "smoke" };
    OK(fm_node_incident_report(a.n, &in, id));
    OK(fm_node_incident_note(a.n, id, "second call " PHONE));
    OK(fm_node_incident_note(a.n, id, "third call"));
    fm_node_close(&a.n);

    struct store *st = NULL;
    struct store_txn *t = NULL;
    OK(store_open(&st, a.cfg.data_dir, 1 << 20, 1 << 30, STORE_NOSYNC, NULL)); /* raw bytes */
    OK(store_read_begin(st, &t));
    int clear_notes = 0, sealed = 0;
    for (int db = 0; db < DB__COUNT; db++) {
        struct store_cur *c = NULL;
        struct store_kv kv;
        OK(store_cur_open(t, (enum store_db)db, &c));
        for (int rc = store_cur_first(c, &kv); rc == FM_OK; rc = store_cur_next(c, &kv)) {
            assert_false(mem_has(kv.val, kv.vlen, PHONE, strlen(PHONE)));
            if (db == DB_IDX_STATUS || db == DB_IDX_CATEGORY || db == DB_IDX_TIME) {
                assert_int_equal(kv.vlen, 0);
            } else if (db == DB_TIMELINE && kv.vlen == 1) {
                assert_int_equal(kv.val[0], 2); /* TL_NOTE */
                clear_notes++;
            } else {
                assert_true(kv.vlen >= FM_VAULT_OVERHEAD);
                sealed++;
            }
        }
        store_cur_close(&c);
    }
    assert_int_equal(clear_notes, 2);
    assert_true(sealed >= 6);
    store_txn_abort(&t);
    store_close(&st);

    /* and the node reads its timeline as before */
    OK(fx_open(&a, FM_OPEN_READ));
    int entries = 0;
    OK(fm_node_incident_timeline(a.n, id, tl_count, &entries));
    assert_int_equal(entries, 3);
    fx_done(&a);
    fx_org_done(&o);
}

static void test_wrong_passphrase_touches_nothing(void **state)
{
    (void)state;
    struct fx_org o;
    struct fx_node a;
    struct stat before, after;
    char id[FM_ID_MAX], mdb[700], dkey[700];
    OK(fx_org_init(&o));
    OK(fx_author(&o, &a, "alpha"));
    OK(fx_open(&a, FM_OPEN_IDENTITY));
    struct fm_incident_new in = { .category = "fire", .priority = 1, .caller = PHONE };
    OK(fm_node_incident_report(a.n, &in, id));
    fm_node_close(&a.n);
    snprintf(mdb, sizeof mdb, "%s/data.mdb", a.cfg.data_dir);
    snprintf(dkey, sizeof dkey, "%s/data.key", a.cfg.data_dir);
    assert_int_equal(stat(mdb, &before), 0);

    FILE *f = fopen(a.cfg.passphrase_file, "w");
    assert_non_null(f);
    fputs("not it\n", f);
    fclose(f);
    assert_int_equal(fx_open(&a, FM_OPEN_IDENTITY), FM_EPASSPHRASE);
    assert_int_equal(fx_open(&a, FM_OPEN_READ), FM_EPASSPHRASE);
    assert_null(a.n);
    assert_int_equal(stat(mdb, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
    assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);

    /* a store whose data key is missing is not silently re-keyed */
    f = fopen(a.cfg.passphrase_file, "w");
    fputs(FX_PASSPHRASE "\n", f);
    fclose(f);
    OK(fx_open(&a, FM_OPEN_READ));
    fm_node_close(&a.n);
    char moved[700];
    snprintf(moved, sizeof moved, "%s/moved.key", a.dir);
    assert_int_equal(rename(dkey, moved), 0);
    assert_int_equal(fx_open(&a, FM_OPEN_READ), FM_EPLAIN);
    assert_int_equal(rename(moved, dkey), 0);
    OK(fx_open(&a, FM_OPEN_READ));
    fx_done(&a);
    fx_org_done(&o);
}

static void test_shred_on_own_revocation(void **state)
{
    (void)state;
    struct fx_org o;
    struct fx_node a, b;
    char id[FM_ID_MAX], dkey[700], mark[700];
    OK(fx_org_init(&o));
    OK(fx_author(&o, &a, "alpha"));
    OK(fx_author(&o, &b, "bravo"));
    OK(fx_open(&a, FM_OPEN_IDENTITY));
    OK(fx_open(&b, FM_OPEN_IDENTITY));
    struct fm_incident_new in = { .category = "fire", .priority = 1, .caller = PHONE };
    OK(fm_node_incident_report(a.n, &in, id));
    assert_false(fm_node_self_revoked(a.n));

    /* bravo publishes alpha's revocation: bravo goes on, alpha hears of it */
    struct fm_revocation rev = { .last_seq = 2, .issued_ms = fm_now_ms() };
    memcpy(rev.node, a.id.pk, FM_PK_LEN);
    fm_revocation_sign(&rev, &o.root);
    OK(fm_node_publish_revocation(b.n, &rev));
    assert_false(fm_node_self_revoked(b.n));
    OK(fm_node_publish_revocation(a.n, &rev));
    assert_true(fm_node_self_revoked(a.n));
    fm_node_close(&a.n);

    snprintf(dkey, sizeof dkey, "%s/data.key", a.cfg.data_dir);
    snprintf(mark, sizeof mark, "%s/data.key.shredded", a.cfg.data_dir);
    assert_int_equal(access(dkey, F_OK), 0);
    assert_int_equal(fx_open(&a, FM_OPEN_READ), FM_ESHREDDED);
    assert_int_not_equal(access(dkey, F_OK), 0);
    assert_int_equal(access(mark, F_OK), 0);
    /* and for good, with the right passphrase */
    assert_int_equal(fx_open(&a, FM_OPEN_IDENTITY), FM_ESHREDDED);
    assert_int_equal(fx_open(&a, FM_OPEN_READ), FM_ESHREDDED);
    /* bravo still reads its own store */
    fm_node_close(&b.n);
    OK(fx_open(&b, FM_OPEN_READ));
    fx_done(&a);
    fx_done(&b);
    fx_org_done(&o);
}

static void test_key_socket_message(void **state)
{
    (void)state;
    struct fm_keys k;
    uint8_t msg[4 + 1 + 32 + 64];
    memcpy(msg, "FMK1", 4);
    msg[4] = 0;
    memset(msg + 5, 7, 32);
    OK(fm_keys_decode(&k, msg, 37));
    assert_false(k.has_id);
    assert_int_equal(k.data.k[0], 7);
    fm_keys_release(&k);
    assert_int_equal(fm_keys_decode(&k, msg, 36), FM_EDECODE);
    assert_int_equal(fm_keys_decode(&k, msg, 38), FM_EDECODE);
    msg[4] = 2;
    assert_int_equal(fm_keys_decode(&k, msg, 37), FM_EDECODE);
    msg[4] = 1; /* a secret key whose public half does not match its seed */
    memset(msg + 37, 9, 64);
    assert_int_equal(fm_keys_decode(&k, msg, sizeof msg), FM_EDECODE);
    assert_null(k.data.k);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR + 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealed_identity),
        cmocka_unit_test(test_value_bound_to_its_key),
        cmocka_unit_test(test_put_back_after_delete),
        cmocka_unit_test(test_store_without_aes_ni),
        cmocka_unit_test(test_what_stays_in_clear),
        cmocka_unit_test(test_wrong_passphrase_touches_nothing),
        cmocka_unit_test(test_shred_on_own_revocation),
        cmocka_unit_test(test_key_socket_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
