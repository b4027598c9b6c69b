/*
 * gen_node_corpus.c — writes the seed corpora for fuzz_payload (a kind
 * byte + payload, valid for every kind plus malformed variants) and
 * fuzz_ingest (u16-framed op sequences: valid multi-author logs with
 * cross references, a revocation, and forks, gaps, bad signatures,
 * duplicates and a foreign certificate) and fuzz_bundle_vector (signed
 * vector files of a corpus node, and malformed ones). Keys come from fixed seeds and
 * Ed25519 is deterministic, so the output is stable; the organisation key
 * it prints is the one fuzz_ingest.c trusts. Not part of the build; run by
 * hand when the formats change:
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I. \
 *      tests/fuzz/gen_node_corpus.c BUILD/libfm_node.a BUILD/libfm_sync.a \
 *      BUILD/libfm_crypto.a -lsodium -llmdb -lyaml -lzmq -lm -o /tmp/gen \
 *   && /tmp/gen tests/fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_int.h"
#include "node/model/payload_int.h"

static const char *out_root;

static void die(const char *what)
{
    fprintf(stderr, "gen_node_corpus: %s\n", what);
    exit(1);
}

static void put(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", out_root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        die(path);
}

static void identity(struct fm_identity *id, uint8_t first)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(first * 11 + i);
    if (fm_identity_from_seed(id, seed) != FM_OK)
        die("identity");
}

static struct fm_identity org, other_org;

static void cert_for(struct fm_cert *c, const struct fm_identity *id, const char *name,
                     const struct fm_identity *signer)
{
    memset(c, 0, sizeof *c);
    memcpy(c->node, id->pk, FM_PK_LEN);
    fm_strlcpy(c->name, name, sizeof c->name);
    c->role = FM_ROLE_COUNTY;
    c->tier = 1;
    c->not_before_ms = 0;
    c->expires_ms = UINT64_C(1) << 46;
    fm_cert_sign(c, signer);
}

/* ---- payloads ---- */

static void encode(const struct payload *p, struct fm_buf *b)
{
    static struct payload check;
    if (payload_encode(p, b, &check) != FM_OK)
        die("encode");
}

static struct payload pl_report(const char *cat)
{
    struct payload p = {0};
    p.log.kind = OP_INC_REPORT;
    fm_strlcpy(p.category, cat, sizeof p.category);
    p.priority = 2;
    p.lat = 301234567;
    p.lon = -1205678901;
    fm_strlcpy(p.address, "Main St 5", sizeof p.address);
    p.present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON) |
                PT_BIT(PT_ADDRESS);
    return p;
}

static void set_ref(struct payload *p, const struct fm_identity *id, uint64_t seq)
{
    memcpy(p->ref.author, id->pk, FM_PK_LEN);
    p->ref.seq = seq;
    p->present |= PT_BIT(PT_REF);
}

static struct payload pl_note(const struct fm_identity *id, uint64_t seq)
{
    struct payload p = {0};
    p.log.kind = OP_INC_NOTE;
    set_ref(&p, id, seq);
    fm_strlcpy(p.text, "crew on the way", sizeof p.text);
    p.present |= PT_BIT(PT_TEXT);
    return p;
}

static struct payload pl_status(const struct fm_identity *id, uint64_t seq, uint8_t stage)
{
    struct payload p = {0};
    p.log.kind = OP_INC_STATUS;
    set_ref(&p, id, seq);
    p.stage = stage;
    p.present |= PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
    return p;
}

static struct payload pl_update(const struct fm_identity *id, uint64_t seq)
{
    struct payload p = {0};
    p.log.kind = OP_INC_UPDATE;
    set_ref(&p, id, seq);
    p.priority = 1;
    fm_strlcpy(p.desc, "spreading", sizeof p.desc);
    p.present |= PT_BIT(PT_PRIORITY) | PT_BIT(PT_DESC);
    return p;
}

static struct payload pl_unit(void)
{
    struct payload p = {0};
    p.log.kind = OP_UNIT_REGISTER;
    fm_strlcpy(p.name, "Engine 7", sizeof p.name);
    fm_strlcpy(p.department, "Fire", sizeof p.department);
    fm_strlcpy(p.unit_kind, "fire", sizeof p.unit_kind);
    fm_strlcpy(p.caps, "ladder,water", sizeof p.caps);
    p.tier = 1;
    p.present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_TIER) |
                PT_BIT(PT_UNIT_KIND) | PT_BIT(PT_CAPS);
    return p;
}

static struct payload pl_unit_status(const struct fm_identity *id, uint64_t seq)
{
    struct payload p = {0};
    p.log.kind = OP_UNIT_STATUS;
    set_ref(&p, id, seq);
    p.unit_status = US_ONSCENE;
    p.present |= PT_BIT(PT_UNIT_STATUS);
    return p;
}

static struct payload pl_position(const struct fm_identity *id, uint64_t seq)
{
    struct payload p = {0};
    p.log.kind = OP_UNIT_POSITION;
    set_ref(&p, id, seq);
    p.lat = -1;
    p.lon = 1;
    p.present |= PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    return p;
}

static struct payload pl_res_add(void)
{
    struct payload p = {0};
    p.log.kind = OP_RES_ADD;
    fm_strlcpy(p.res_kind, "sandbag", sizeof p.res_kind);
    fm_strlcpy(p.depot, "North", sizeof p.depot);
    p.qty = 100;
    p.present = PT_BIT(PT_RES_KIND) | PT_BIT(PT_DEPOT) | PT_BIT(PT_QTY);
    return p;
}

static struct payload pl_adjust(const struct fm_identity *id, uint64_t seq, int64_t d)
{
    struct payload p = {0};
    p.log.kind = OP_RES_ADJUST;
    set_ref(&p, id, seq);
    p.delta = d;
    p.present |= PT_BIT(PT_DELTA);
    return p;
}

static struct payload pl_cert(const struct fm_cert *c)
{
    struct payload p = {0};
    p.log.kind = OP_CERT;
    p.log.cert = *c;
    return p;
}

static struct payload pl_revoke(const struct fm_identity *node, uint64_t last)
{
    struct payload p = {0};
    p.log.kind = OP_REVOKE;
    memcpy(p.log.rev.node, node->pk, FM_PK_LEN);
    p.log.rev.last_seq = last;
    p.log.rev.issued_ms = 1700000000000;
    fm_revocation_sign(&p.log.rev, &org);
    return p;
}

static void put_payload(const char *name, const struct payload *p, int mutate)
{
    struct fm_buf b, out;
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    fm_buf_init(&out, FM_OP_MAX_PAYLOAD + 8);
    encode(p, &b);
    if (fm_buf_put_u8(&out, p->log.kind) || fm_buf_append(&out, b.data, b.len))
        die("buf");
    put("fuzz_payload", name, out.data, out.len);
    if (mutate && b.len > 4) {
        char n2[128];
        snprintf(n2, sizeof n2, "%s_cut", name);
        put("fuzz_payload", n2, out.data, 1 + b.len / 2);
        snprintf(n2, sizeof n2, "%s_trailing", name);
        if (fm_buf_put_u8(&out, 0))
            die("buf");
        put("fuzz_payload", n2, out.data, out.len);
        out.len--;
        snprintf(n2, sizeof n2, "%s_badtag", name);
        uint8_t save = out.data[1];
        out.data[1] = 0x1e;
        put("fuzz_payload", n2, out.data, out.len);
        out.data[1] = save;
    }
    fm_buf_release(&b);
    fm_buf_release(&out);
}

/* ---- logs ---- */

struct glog {
    const struct fm_identity *id;
    uint64_t seq, hlc;
    uint8_t head[FM_HASH_LEN];
};

struct frames {
    uint8_t b[65536];
    size_t n;
};

static void frame(struct frames *f, const uint8_t *p, size_t n)
{
    if (f->n + 2 + n > sizeof f->b || n > UINT16_MAX)
        die("frames");
    f->b[f->n++] = (uint8_t)(n >> 8);
    f->b[f->n++] = (uint8_t)n;
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

/* Builds the next op of g into out (and frames it unless f is NULL). */
static void op(struct glog *g, const struct payload *p, struct frames *f, struct fm_buf *out)
{
    struct fm_buf b;
    struct fm_op o;
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    encode(p, &b);
    g->hlc += 3;
    if (fm_op_build(out, g->id, p->log.kind, g->seq + 1, g->seq ? g->head : NULL, g->hlc, b.data,
                    (uint32_t)b.len) != FM_OK ||
        fm_op_decode(&o, out->data, out->len) != FM_OK)
        die("op");
    fm_op_hash(&o, g->head);
    g->seq++;
    if (f)
        frame(f, out->data, out->len);
    fm_buf_release(&b);
}

static void glog_init(struct glog *g, const struct fm_identity *id)
{
    memset(g, 0, sizeof *g);
    g->id = id;
    g->hlc = UINT64_C(1700000000000) << 16;
}

/* ---- vector files (format in node/replica/bundle_int.h) ---- */

static void hex(struct fm_buf *b, const uint8_t *p, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char two[2] = {d[p[i] >> 4], d[p[i] & 15]};
        if (fm_buf_append(b, two, 2) != FM_OK)
            die("hex");
    }
}

static void text(struct fm_buf *b, const char *s)
{
    if (fm_buf_append(b, s, strlen(s)) != FM_OK)
        die("text");
}

/* A vector of `writer` holding heads of a and b, signed if cert != NULL. */
static void vector(struct fm_buf *v, const struct fm_identity *writer, const struct fm_cert *cert,
                   const struct fm_identity *a, const struct fm_identity *b)
{
    char key[FM_KEY_TEXT_LEN], line[FM_KEY_TEXT_LEN + 32];
    struct fm_buf cb, msg;
    uint8_t sig[FM_SIG_LEN];
    fm_buf_reset(v);
    fm_key_encode(writer->pk, key);
    snprintf(line, sizeof line, "fieldmesh-vector 1\nnode %s\n", key);
    text(v, line);
    fm_key_encode(a->pk, key);
    snprintf(line, sizeof line, "%s 7\n", key);
    text(v, line);
    fm_key_encode(b->pk, key);
    snprintf(line, sizeof line, "%s 18446744073709551615\n", key);
    text(v, line);
    if (cert == NULL)
        return;
    fm_buf_init(&cb, FM_CERT_MAX);
    fm_buf_init(&msg, 1u << 16);
    if (fm_cert_encode(cert, &cb) != FM_OK)
        die("cert");
    text(v, "cert ");
    hex(v, cb.data, cb.len);
    text(v, "\n");
    text(&msg, "fieldmesh-vector-sig-1");
    if (fm_buf_append(&msg, v->data, v->len) != FM_OK)
        die("msg");
    fm_sign(writer, msg.data, msg.len, sig);
    text(v, "sig ");
    hex(v, sig, sizeof sig);
    text(v, "\n");
    fm_buf_release(&cb);
    fm_buf_release(&msg);
}

static void put_buf(const char *target, const char *name, const struct fm_buf *b)
{
    put(target, name, b->data, b->len);
}

static void vector_corpus(const struct fm_identity *a, const struct fm_cert *ca,
                          const struct fm_identity *b, const struct fm_cert *cforeign)
{
    struct fm_buf v;
    fm_buf_init(&v, 1u << 16);
    vector(&v, a, ca, a, b);
    put_buf("fuzz_bundle_vector", "signed", &v);
    v.data[v.len - 10] ^= 1; /* a bad signature byte (still hex) */
    put_buf("fuzz_bundle_vector", "bad_signature", &v);
    vector(&v, b, cforeign, a, b);
    put_buf("fuzz_bundle_vector", "foreign_cert", &v);
    vector(&v, b, ca, a, b); /* a's certificate on b's vector */
    put_buf("fuzz_bundle_vector", "cert_other_node", &v);
    vector(&v, a, NULL, a, b);
    put_buf("fuzz_bundle_vector", "unsigned", &v);
    v.len -= 1; /* no final newline */
    put_buf("fuzz_bundle_vector", "no_final_newline", &v);
    vector(&v, a, NULL, a, a);
    put_buf("fuzz_bundle_vector", "author_twice", &v);
    static const char magic_only[] = "fieldmesh-vector 1\n";
    put("fuzz_bundle_vector", "magic_only", (const uint8_t *)magic_only, sizeof magic_only - 1);
    static const char bad_seq[] = "fieldmesh-vector 1\nnode x\nkey -1\n";
    put("fuzz_bundle_vector", "bad_lines", (const uint8_t *)bad_seq, sizeof bad_seq - 1);
    put("fuzz_bundle_vector", "empty", (const uint8_t *)"", 0);
    fm_buf_release(&v);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: gen_node_corpus CORPUS_DIR");
    out_root = argv[1];
    if (fm_crypto_init() != FM_OK)
        die("crypto");
    struct fm_identity a, b, w;
    identity(&org, 100);
    identity(&other_org, 99);
    identity(&a, 101);
    identity(&b, 102);
    identity(&w, 103);
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(org.pk, key);
    printf("org key: %s\n", key);
    struct fm_cert ca, cb, cw, cforeign;
    cert_for(&ca, &a, "alpha", &org);
    cert_for(&cb, &b, "bravo", &org);
    cert_for(&cw, &w, "whiskey", &org);
    cert_for(&cforeign, &b, "bravo", &other_org);

    /* payload corpus */
    struct payload p;
    p = pl_report("fire");
    put_payload("report", &p, 1);
    p = pl_update(&a, 2);
    put_payload("update", &p, 1);
    p = pl_note(&a, 2);
    put_payload("note", &p, 1);
    p = pl_status(&a, 2, FM_STAGE_ONSCENE);
    put_payload("status", &p, 1);
    p = pl_unit();
    put_payload("unit_register", &p, 1);
    /* op format 7: a name and a department of 64 Chinese characters */
    p = pl_unit();
    p.name[0] = p.department[0] = '\0';
    for (int i = 0; i < 64; i++) {
        strcat(p.name, "\xe6\xb0\xb4");
        strcat(p.department, "\xe6\xb6\x88");
    }
    put_payload("unit_register_64_chinese", &p, 1);
    p = pl_unit_status(&a, 3);
    put_payload("unit_status", &p, 1);
    p = pl_position(&a, 3);
    put_payload("unit_position", &p, 1);
    /* a station's or vehicle's unit ops and a dispatch carry the unit's
     * name (docs/workflow.md §4) */
    p = pl_unit_status(&a, 3);
    fm_strlcpy(p.name, "Engine 7", sizeof p.name);
    p.present |= PT_BIT(PT_NAME);
    put_payload("unit_status_named", &p, 1);
    p = pl_position(&a, 3);
    fm_strlcpy(p.name, "Engine 7", sizeof p.name);
    p.present |= PT_BIT(PT_NAME);
    put_payload("unit_position_named", &p, 1);
    p = (struct payload){0};
    p.log.kind = OP_TICKET_DISPATCH;
    set_ref(&p, &a, 2);
    memcpy(p.ref2.author, b.pk, FM_PK_LEN);
    p.ref2.seq = 3;
    p.epoch = 0;
    fm_strlcpy(p.name, "Engine 7", sizeof p.name);
    p.present |= PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH) | PT_BIT(PT_NAME);
    put_payload("dispatch_named", &p, 1);
    p = pl_res_add();
    put_payload("resource_add", &p, 1);
    p = pl_adjust(&a, 4, -5);
    put_payload("resource_adjust", &p, 1);
    p = pl_cert(&ca);
    put_payload("cert", &p, 1);
    p = pl_revoke(&w, 2);
    put_payload("revoke", &p, 1);
    uint8_t empty[1] = {OP_INC_NOTE};
    put("fuzz_payload", "empty_note", empty, 1);
    uint8_t dup[] = {OP_INC_NOTE, 9, 0, 1, 'x', 9, 0, 1, 'y'};
    put("fuzz_payload", "dup_tag", dup, sizeof dup);

    /* ingest corpus */
    struct fm_buf o;
    fm_buf_init(&o, FM_OP_MAX_LEN);
    struct glog ga, gb, gw;
    static struct frames f;

    /* one author, every kind, in order */
    f.n = 0;
    glog_init(&ga, &a);
    p = pl_cert(&ca), op(&ga, &p, &f, &o);
    p = pl_report("fire"), op(&ga, &p, &f, &o);
    p = pl_note(&a, 2), op(&ga, &p, &f, &o);
    p = pl_status(&a, 2, FM_STAGE_DISPATCHED), op(&ga, &p, &f, &o);
    p = pl_update(&a, 2), op(&ga, &p, &f, &o);
    p = pl_unit(), op(&ga, &p, &f, &o);
    p = pl_unit_status(&a, 6), op(&ga, &p, &f, &o);
    p = pl_position(&a, 6), op(&ga, &p, &f, &o);
    p = pl_res_add(), op(&ga, &p, &f, &o);
    p = pl_adjust(&a, 9, -30), op(&ga, &p, &f, &o);
    put("fuzz_ingest", "one_author", f.b, f.n);

    /* two authors, b's ops first and referring to a's entities */
    f.n = 0;
    glog_init(&gb, &b);
    p = pl_cert(&cb), op(&gb, &p, &f, &o);
    p = pl_note(&a, 2), op(&gb, &p, &f, &o);
    p = pl_status(&a, 2, FM_STAGE_ONSCENE), op(&gb, &p, &f, &o);
    p = pl_adjust(&a, 9, 7), op(&gb, &p, &f, &o);
    glog_init(&ga, &a);
    p = pl_cert(&ca), op(&ga, &p, &f, &o);
    p = pl_report("flood"), op(&ga, &p, &f, &o);
    put("fuzz_ingest", "two_authors", f.b, f.n);

    /* a revocation arriving after the ops it drops */
    f.n = 0;
    glog_init(&gw, &w);
    p = pl_cert(&cw), op(&gw, &p, &f, &o);
    p = pl_report("gas"), op(&gw, &p, &f, &o);
    p = pl_report("gas"), op(&gw, &p, &f, &o);
    p = pl_note(&w, 2), op(&gw, &p, &f, &o);
    glog_init(&ga, &a);
    p = pl_cert(&ca), op(&ga, &p, &f, &o);
    p = pl_revoke(&w, 2), op(&ga, &p, &f, &o);
    put("fuzz_ingest", "revocation", f.b, f.n);

    /* fork, gap, bad signature, duplicate, foreign certificate */
    f.n = 0;
    glog_init(&ga, &a);
    p = pl_cert(&ca), op(&ga, &p, &f, &o);
    struct glog fork = ga;
    p = pl_report("fire"), op(&ga, &p, &f, &o);
    p = pl_report("crash"), op(&fork, &p, &f, &o);
    put("fuzz_ingest", "fork", f.b, f.n);

    f.n = 0;
    glog_init(&ga, &a);
    p = pl_cert(&ca), op(&ga, &p, &f, &o);
    p = pl_report("fire"), op(&ga, &p, NULL, &o);
    p = pl_report("fire"), op(&ga, &p, &f, &o);
    put("fuzz_ingest", "gap", f.b, f.n);

    f.n = 0;
    glog_init(&ga, &a);
    p = pl_cert(&ca), op(&ga, &p, &f, &o);
    p = pl_report("fire"), op(&ga, &p, NULL, &o);
    o.data[o.len - 1] ^= 1;
    frame(&f, o.data, o.len);
    put("fuzz_ingest", "bad_signature", f.b, f.n);

    f.n = 0;
    glog_init(&ga, &a);
    p = pl_cert(&ca), op(&ga, &p, &f, &o);
    frame(&f, o.data, o.len);
    p = pl_report("fire"), op(&ga, &p, &f, &o);
    frame(&f, o.data, o.len);
    put("fuzz_ingest", "duplicates", f.b, f.n);

    f.n = 0;
    glog_init(&gb, &b);
    p = pl_cert(&cforeign), op(&gb, &p, &f, &o);
    p = pl_report("fire"), op(&gb, &p, &f, &o);
    put("fuzz_ingest", "foreign_cert", f.b, f.n);

    uint8_t junk[] = {0, 5, 1, 2, 3, 4, 5, 0, 200, 9};
    put("fuzz_ingest", "junk", junk, sizeof junk);
    put("fuzz_ingest", "empty", junk, 0);

    vector_corpus(&a, &ca, &b, &cforeign);

    fm_buf_release(&o);
    fm_identity_release(&org);
    fm_identity_release(&other_org);
    fm_identity_release(&a);
    fm_identity_release(&b);
    fm_identity_release(&w);
    return 0;
}
