/*
 * test_ingest_trust.c — ingest and the organisation's trust: certificates
 * refused at ingest, certificate renewal, revocations arriving in either
 * order, a revocation carried by a revoked node.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "node_fixture.h"
#include "node_test_util.h"

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
    pl->log.kind = OP_CERT_RENEW;
    pl->log.cert = *cert;
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
    rp.log.kind = OP_REVOKE;
    memcpy(rp.log.rev.node, y.id.pk, FM_PK_LEN);
    rp.log.rev.last_seq = 2;
    fm_revocation_sign(&rp.log.rev, &org.root);
    fx_log_init(&gv, &v.id);
    OK(fx_log_cert(&gv, &v.cert));
    OK(fx_log_pl(&gv, &pl));
    OK(fx_log_pl(&gv, &rp)); /* v 3: revokes y after 2 */
    memcpy(rp.log.rev.node, v.id.pk, FM_PK_LEN);
    fm_revocation_sign(&rp.log.rev, &org.root);
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

/* author's log (its certificate, then an announcement of cert) ingested
 * into r: the certificate stored, the announcement refused with want, and
 * cert's key not admitted there. */
static void announce_refused(struct fx_node *author, const struct fm_cert *cert,
                             struct fm_node *r, struct payload *pl, int want)
{
    struct fx_log g;
    struct fm_ingest_result res;
    fx_log_init(&g, &author->id);
    g.hlc = fm_now_ms() << 16;
    OK(fx_log_cert(&g, &author->cert));
    memset(pl, 0, sizeof *pl);
    pl->log.kind = OP_CERT_ANNOUNCE;
    pl->log.cert = *cert;
    OK(fx_log_pl(&g, pl));
    OK(fx_ingest(r, &g.ops, 0, g.ops.n, &res));
    assert_int_equal(res.stored, 1);
    assert_int_equal(res.err, want);
    assert_int_equal(fm_node_admit(r, cert->node), FM_ENOTFOUND);
    fx_log_free(&g);
}

/* Announced certificates (announce.c): a county announces a node that
 * has written nothing anywhere yet; a node holding the op admits that key
 * at the handshake, one without it does not; a revocation refuses it in
 * either order of arrival; a vehicle's announcement and a forged
 * certificate are refused at ingest; writing one needs op format 4; a key
 * whose log is here, or a window already announced, is not announced
 * again; of two windows the later one stands on every node. */
static void test_announce(void **state)
{
    (void)state;
    struct fx_node c, nw, veh, r1, r2;
    struct fx_ops oc = {0};
    struct fm_ingest_result res;
    OK(fx_author(&org, &c, "county"));          /* a county (fx_author's role) */
    c.cfg.op_format = 4;
    OK(fx_open(&c, FM_OPEN_IDENTITY | NOSYNC));
    OK(fx_author(&org, &nw, "new laptop"));     /* enrolled, never opened */
    reader(&r1);
    reader(&r2);
    assert_int_equal(fm_node_admit(r1.n, nw.id.pk), FM_ENOTFOUND);

    /* op format 4 first; not this node's own; a forged one refused */
    {
        struct fx_node old;
        OK(fx_author(&org, &old, "old county")); /* op format 1 */
        OK(fx_open(&old, FM_OPEN_IDENTITY | NOSYNC));
        assert_int_equal(fm_node_announce_cert(old.n, &nw.cert), FM_ECONFIG);
        fx_done(&old);
    }
    assert_int_equal(fm_node_announce_cert(c.n, &c.cert), FM_EINVAL);
    struct fm_cert forged = nw.cert;
    forged.tier = 2; /* the org's signature no longer matches */
    assert_int_equal(fm_node_announce_cert(c.n, &forged), FM_ECERT);
    OK(fm_node_announce_cert(c.n, &nw.cert));
    assert_int_equal(fm_node_announce_cert(c.n, &nw.cert), FM_EEXISTS);
    OK(fx_collect(c.n, c.id.pk, &oc));
    assert_int_equal(oc.n, 2); /* its certificate, the announcement */

    /* the node holding it admits the key, the other does not (yet) */
    OK(fx_ingest(r1.n, &oc, 0, oc.n, &res));
    assert_int_equal(res.stored, 2);
    OK(fm_node_admit(r1.n, nw.id.pk));
    assert_int_equal(fm_node_admit(r2.n, nw.id.pk), FM_ENOTFOUND);
    /* the handshake knows only the Curve key */
    uint8_t curve[FM_CURVE_LEN], pk[FM_PK_LEN] = {0};
    OK(fm_curve_from_pk(nw.id.pk, curve));
    OK(fm_node_admit_curve(r1.n, curve, pk));
    assert_memory_equal(pk, nw.id.pk, FM_PK_LEN);
    assert_int_equal(fm_node_admit_curve(r2.n, curve, pk), FM_ENOTFOUND);
    OK(fm_node_rebuild(r1.n)); /* the index comes back from the ops */
    OK(fm_node_admit(r1.n, nw.id.pk));

    /* a revocation of the new key, before or after the announcement */
    struct fm_revocation rev = {0};
    memcpy(rev.node, nw.id.pk, FM_PK_LEN);
    rev.last_seq = 0;
    rev.issued_ms = fm_now_ms();
    fm_revocation_sign(&rev, &org.root);
    struct fx_node a2;
    struct fx_ops oa = {0};
    OK(fx_author(&org, &a2, "admin2"));
    OK(fx_open(&a2, FM_OPEN_IDENTITY | NOSYNC));
    OK(fm_node_publish_revocation(a2.n, &rev));
    OK(fx_collect(a2.n, a2.id.pk, &oa));
    OK(fx_ingest(r2.n, &oa, 0, oa.n, &res)); /* r2: the revocation first */
    OK(fx_ingest(r2.n, &oc, 0, oc.n, &res));
    assert_int_equal(fm_node_admit(r2.n, nw.id.pk), FM_EREVOKED);
    OK(fx_ingest(r1.n, &oa, 0, oa.n, &res)); /* r1: the revocation last */
    assert_int_equal(fm_node_admit(r1.n, nw.id.pk), FM_EREVOKED);
    assert_int_equal(fm_node_admit_curve(r1.n, curve, pk), FM_EREVOKED);
    assert_int_equal(fx_digest_eq(r1.n, r2.n), 1);
    /* and the announcer no longer announces a revoked key */
    OK(fx_ingest(c.n, &oa, 0, oa.n, &res));
    struct fx_node nw2;
    OK(fx_author(&org, &nw2, "second laptop"));
    OK(fm_node_announce_cert(c.n, &nw2.cert));
    struct fm_cert renewed = nw.cert;
    renewed.expires_ms += FX_DAY_MS;
    fm_cert_sign(&renewed, &org.root);
    assert_int_equal(fm_node_announce_cert(c.n, &renewed), FM_EREVOKED);

    /* a vehicle's announcement is refused at ingest, wherever it comes */
    struct payload *pl = calloc(1, sizeof *pl);
    assert_non_null(pl);
    OK(fx_author(&org, &veh, "vehicle"));
    veh.cert.role = FM_ROLE_VEHICLE;
    fm_strlcpy(veh.cert.unit, "E1", sizeof veh.cert.unit);
    fm_cert_sign(&veh.cert, &org.root);
    announce_refused(&veh, &nw2.cert, r2.n, pl, FM_EPERM);
    /* a county carrying a forged certificate: refused at ingest too */
    struct fx_node cf;
    OK(fx_author(&org, &cf, "county forger"));
    struct fm_cert promoted = nw2.cert;
    promoted.role = FM_ROLE_CENTRE; /* promoted, unsigned */
    announce_refused(&cf, &promoted, r2.n, pl, FM_ECERT);

    /* two windows of one key: the later stands, whatever the order */
    struct fx_node c3;
    struct fx_ops o3 = {0}, o1 = {0};
    OK(fx_author(&org, &c3, "county 3"));
    c3.cfg.op_format = 4;
    OK(fx_open(&c3, FM_OPEN_IDENTITY | NOSYNC));
    struct fm_cert longer = nw2.cert;
    longer.expires_ms += 30 * FX_DAY_MS;
    fm_cert_sign(&longer, &org.root);
    OK(fm_node_announce_cert(c3.n, &longer));
    OK(fx_collect(c3.n, c3.id.pk, &o3));
    OK(fx_collect(c.n, c.id.pk, &o1)); /* ... | nw2's shorter window */
    struct fx_node r3, r4;
    reader(&r3);
    reader(&r4);
    OK(fx_ingest(r3.n, &o1, 0, o1.n, &res));
    OK(fx_ingest(r3.n, &o3, 0, o3.n, &res));
    OK(fx_ingest(r4.n, &o3, 0, o3.n, &res));
    OK(fx_ingest(r4.n, &o1, 0, o1.n, &res));
    OK(fm_node_admit(r3.n, nw2.id.pk));
    OK(fm_node_admit(r4.n, nw2.id.pk));
    struct fm_cert got3, got4;
    struct store_txn *t;
    OK(store_read_begin(r3.n->st, &t));
    OK(node_announce_get(t, nw2.id.pk, &got3));
    store_txn_abort(&t);
    OK(store_read_begin(r4.n->st, &t));
    OK(node_announce_get(t, nw2.id.pk, &got4));
    store_txn_abort(&t);
    assert_int_equal(got3.expires_ms, longer.expires_ms);
    assert_int_equal(got4.expires_ms, longer.expires_ms);

    free(pl);
    fx_ops_free(&oc);
    fx_ops_free(&oa);
    fx_ops_free(&o1);
    fx_ops_free(&o3);
    fx_done(&c);
    fx_done(&c3);
    fx_done(&a2);
    fx_done(&cf);
    fx_done(&veh);
    fx_done(&r1);
    fx_done(&r2);
    fx_done(&r3);
    fx_done(&r4);
    fm_identity_release(&nw.id);
    fm_identity_release(&nw2.id);
}

/* An author of the given role (its certificate re-signed), opened. */
static void role_author(struct fx_node *a, const char *name, enum fm_role role)
{
    OK(fx_author(&org, a, name));
    a->cfg.role = a->cert.role = role;
    fm_cert_sign(&a->cert, &org.root);
    OK(fm_cert_write_file(&a->cert, a->cfg.cert_path));
    OK(fx_open(a, FM_OPEN_IDENTITY | NOSYNC));
}

/* The spanning tree's choice of root (fm_node_root_rank): by the
 * certificate's role, the same on every node that holds the logs; a
 * revoked key and an unknown prefix rank last. */
static void test_root_rank(void **state)
{
    (void)state;
    struct fx_node n[4], c;
    static const enum fm_role roles[4] = {FM_ROLE_CENTRE, FM_ROLE_COUNTY, FM_ROLE_STATION,
                                          FM_ROLE_VEHICLE};
    static const char *const names[4] = {"centre", "county", "station", "vehicle"};
    char x[FM_ID_MAX];
    struct fm_incident_new in = {.category = "fire"};
    reader(&c);
    for (int i = 0; i < 4; i++) {
        role_author(&n[i], names[i], roles[i]);
        /* a log opens with its certificate at the first write: a note */
        if (i == 0)
            OK(fm_node_incident_report(n[0].n, &in, x));
        else
            OK(fx_sync(n[0].n, n[i].n, NULL)), OK(fm_node_incident_note(n[i].n, x, "here"));
        OK(fx_sync(n[i].n, c.n, NULL));
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(fm_node_root_rank(c.n, n[i].id.pk), i);
    /* a centre's own store ranks it first too: every node agrees */
    OK(fx_sync(c.n, n[2].n, NULL));
    for (int i = 0; i < 4; i++)
        assert_int_equal(fm_node_root_rank(n[2].n, n[i].id.pk), i);
    uint8_t unknown[8] = {0};
    for (int i = 0; i < 8; i++)
        unknown[i] = (uint8_t)(n[0].id.pk[i] ^ 0xff);
    assert_int_equal(fm_node_root_rank(c.n, unknown), FM_SYNC_RANK_LAST);
    /* the centre revokes the station: last */
    struct fm_revocation rev = {0};
    memcpy(rev.node, n[2].id.pk, FM_PK_LEN);
    rev.last_seq = 1;
    rev.issued_ms = fm_now_ms();
    fm_revocation_sign(&rev, &org.root);
    OK(fm_node_publish_revocation(n[0].n, &rev));
    OK(fx_sync(n[0].n, c.n, NULL));
    assert_int_equal(fm_node_root_rank(c.n, n[2].id.pk), FM_SYNC_RANK_LAST);
    assert_int_equal(fm_node_root_rank(c.n, n[1].id.pk), 1);
    for (int i = 0; i < 4; i++)
        fx_done(&n[i]);
    fx_done(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_certs),
        cmocka_unit_test(test_cert_renewal),
        cmocka_unit_test(test_revocation_orders),
        cmocka_unit_test(test_revocation_carried_by_revoked),
        cmocka_unit_test(test_announce),
        cmocka_unit_test(test_root_rank),
    };
    return fx_node_main("test_ingest_trust", tests, sizeof tests / sizeof tests[0]);
}
