/*
 * bundle.c — sneakernet: ops carried by file where no link exists.
 *
 * `bundle vector` writes what this node holds (its version vector, and
 * its key); `bundle export --for VECTOR` writes exactly what that node
 * lacks, `--since DATE` everything stamped since then, neither everything.
 * `bundle import` feeds a bundle through fm_node_ingest, the very checks
 * gossip uses: a bundle cannot carry anything the network could not.
 *
 * File layout (integers big-endian):
 *   "FMBUNDL1" | u8 version (1) | u8 mode | exporter[32] | u64 created_ms |
 *   u16 cert_len | exporter's certificate |
 *   mode 1 (to a node): recipient[32] | sealed content key[80]
 *   mode 2 (to the org): bundle key id[8] | wrapped content key[72]
 *   nonce[24] | u64 ct_len | ciphertext (+16 MAC) | sig[64]
 * sig = Ed25519 by the exporter over "fieldmesh-bundle-1" and every byte
 * before it. The plaintext is "FMOPS1" | u32 n | n x (u32 len | op).
 *
 * Import checks, in this order, and refuses the whole file at the first
 * failure: structure, the exporter's signature, its certificate (from our
 * organisation, valid when the bundle was made, not revoked here), the
 * content key (sealed to us, or wrapped under the org key we hold), the
 * MAC, the plaintext's structure. Only then are ops ingested; each op is
 * still checked on its own (signature, chain, certificate, revocation).
 *
 * Who can read a bundle: a bundle --for a node is sealed to that node's
 * key (X25519 form of its Ed25519 key): only it can open it. Any other
 * bundle is sealed under the organisation bundle key, a 32-byte secret
 * the admin creates once (`bundle keygen`) and hands out with each
 * enrollment (<data_dir>/bundle.key): every enrolled node can read it, a
 * finder of the USB stick cannot. See docs/field-sync.md for the threat
 * model (a stolen laptop holds that key; rotate it by handing out a new
 * one).
 */
#include "bundle_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUNDLE_MAGIC "FMBUNDL1"
#define BUNDLE_VERSION 1
#define BUNDLE_TO_NODE 1
#define BUNDLE_TO_ORG 2
#define BUNDLE_DOMAIN "fieldmesh-bundle-1"
#define PLAIN_MAGIC "FMOPS1"
#define VECTOR_MAGIC "fieldmesh-vector 1"
#define VECTOR_DOMAIN "fieldmesh-vector-sig-1"
#define VECTOR_FILE_MAX (8u * 1024u * 1024u)
#define VECTOR_MAX_AUTHORS 100000
#define BUNDLE_FILE_MAX ((size_t)FM_BUNDLE_MAX_BYTES + 4096)
#define INGEST_CHUNK 4096
#define COMPONENT "bundle"

/* ---- files ---- */

/* The whole file as bytes (caller frees), through the one bounded reader. */
static int file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
    char *text = NULL;
    int rc = fm_file_read_alloc(path, max, &text, len);
    *out = (uint8_t *)text;
    return rc;
}

/* ---- vectors ---- */

static int hex_append(struct fm_buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    int rc = FM_OK;
    for (size_t i = 0; i < n && rc == FM_OK; i++) {
        char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        rc = fm_buf_append(b, two, 2);
    }
    return rc;
}

static int hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2 != 0 || n / 2 > cap)
        return FM_EDECODE;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return FM_EDECODE;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    *len = n / 2;
    return FM_OK;
}

/* Appends "cert HEX\n" (this node's certificate) and "sig HEX\n": Ed25519
 * over VECTOR_DOMAIN and every byte before the sig line. */
static int vector_sign(struct fm_node *n, struct fm_buf *b)
{
    struct fm_buf cert, msg;
    uint8_t sig[FM_SIG_LEN];
    int rc;
    fm_buf_init(&cert, FM_CERT_MAX);
    fm_buf_init(&msg, VECTOR_FILE_MAX + 64);
    if ((rc = fm_cert_encode(&n->cert, &cert)) != FM_OK ||
        (rc = fm_buf_append(b, "cert ", 5)) != FM_OK ||
        (rc = hex_append(b, cert.data, cert.len)) != FM_OK ||
        (rc = fm_buf_append(b, "\n", 1)) != FM_OK ||
        (rc = fm_buf_append(&msg, VECTOR_DOMAIN, strlen(VECTOR_DOMAIN))) != FM_OK ||
        (rc = fm_buf_append(&msg, b->data, b->len)) != FM_OK)
        goto out;
    fm_sign(&n->id, msg.data, msg.len, sig);
    if ((rc = fm_buf_append(b, "sig ", 4)) != FM_OK ||
        (rc = hex_append(b, sig, sizeof sig)) != FM_OK)
        goto out;
    rc = fm_buf_append(b, "\n", 1);
out:
    fm_buf_release(&cert);
    fm_buf_release(&msg);
    return rc;
}

int fm_node_vector_write(struct fm_node *n, const char *path)
{
    struct fm_head *h = NULL;
    size_t nh = 0;
    struct fm_buf b;
    char key[FM_KEY_TEXT_LEN], line[FM_KEY_TEXT_LEN + 32];
    int rc;
    if (!n->has_identity)
        return FM_EPERM;
    if ((rc = fm_node_heads(n, &h, &nh)) != FM_OK)
        return rc;
    fm_buf_init(&b, VECTOR_FILE_MAX);
    fm_key_encode(n->id.pk, key);
    int l = snprintf(line, sizeof line, "%s\nnode %s\n", VECTOR_MAGIC, key);
    rc = fm_buf_append(&b, line, (size_t)l);
    for (size_t i = 0; i < nh && rc == FM_OK; i++) {
        fm_key_encode(h[i].author, key);
        l = snprintf(line, sizeof line, "%s %llu\n", key, (unsigned long long)h[i].seq);
        rc = fm_buf_append(&b, line, (size_t)l);
    }
    /* field sync: the writer's certificate and its signature over the
     * file, so an exporter seals only to a node of its organisation */
    if (rc == FM_OK)
        rc = vector_sign(n, &b);
    if (rc == FM_OK)
        rc = fm_file_write(path, b.data, b.len, 0600, false);
    fm_buf_release(&b);
    free(h);
    return rc;
}

static int head_cmp(const void *a, const void *b)
{
    return memcmp(((const struct fm_head *)a)->author, ((const struct fm_head *)b)->author,
                  FM_PK_LEN);
}

/* Strict: the magic line, "node KEY", then "KEY SEQ" lines, then the
 * optional "cert HEX" and "sig HEX" lines, nothing else. */
int bundle_vector_parse(struct bundle_vector *v, const uint8_t *buf, size_t len)
{
    size_t pos = 0, cap = 0, lineno;
    bool have_cert = false;
    int rc = FM_EDECODE;
    memset(v, 0, sizeof *v);
    if (len > VECTOR_FILE_MAX)
        return FM_ETOOBIG;
    for (lineno = 0; pos < len; lineno++) {
        const uint8_t *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            goto out;
        size_t ll = (size_t)(nl - (buf + pos));
        char line[2 * FM_CERT_MAX + 16];
        if (ll >= sizeof line || v->has_sig)
            goto out; /* nothing after the sig line */
        memcpy(line, buf + pos, ll);
        line[ll] = '\0';
        if (memchr(line, '\0', ll))
            goto out;
        size_t line_at = pos;
        pos += ll + 1;
        if (lineno > 1 && strncmp(line, "cert ", 5) == 0) {
            uint8_t cb[FM_CERT_MAX];
            size_t cl;
            if (have_cert || hex_decode(line + 5, cb, sizeof cb, &cl) != FM_OK ||
                fm_cert_decode(&v->cert, cb, cl) != FM_OK)
                goto out;
            have_cert = true;
        } else if (lineno > 1 && strncmp(line, "sig ", 4) == 0) {
            size_t sl;
            if (!have_cert || hex_decode(line + 4, v->sig, sizeof v->sig, &sl) != FM_OK ||
                sl != FM_SIG_LEN)
                goto out;
            v->has_sig = true;
            v->signed_len = line_at;
        } else if (have_cert) {
            goto out; /* only the sig line follows the cert line */
        } else if (lineno == 0) {
            if (strcmp(line, VECTOR_MAGIC) != 0)
                goto out;
        } else if (lineno == 1) {
            if (strncmp(line, "node ", 5) != 0 || fm_key_decode(line + 5, v->node) != FM_OK)
                goto out;
        } else {
            char *sp = strchr(line, ' ');
            uint64_t seq;
            if (!sp || v->n >= VECTOR_MAX_AUTHORS)
                goto out;
            *sp = '\0';
            if (sp[1] < '0' || sp[1] > '9' || fm_parse_u64(sp + 1, &seq) != FM_OK)
                goto out;
            if (v->n == cap) {
                cap = cap ? cap * 2 : 64;
                struct fm_head *e = realloc(v->e, cap * sizeof *e);
                if (!e) {
                    rc = FM_ENOMEM;
                    goto out;
                }
                v->e = e;
            }
            memset(&v->e[v->n], 0, sizeof v->e[v->n]);
            if (fm_key_decode(line, v->e[v->n].author) != FM_OK)
                goto out;
            v->e[v->n++].seq = seq;
        }
    }
    if (pos != len || lineno < 2)
        goto out; /* the magic and node lines are not optional */
    if (v->n > 1)
        qsort(v->e, v->n, sizeof *v->e, head_cmp);
    for (size_t i = 1; i < v->n; i++)
        if (memcmp(v->e[i - 1].author, v->e[i].author, FM_PK_LEN) == 0)
            goto out;
    rc = FM_OK;
    v->file = buf;
out:
    if (rc != FM_OK)
        bundle_vector_release(v);
    return rc;
}

void bundle_vector_release(struct bundle_vector *v)
{
    free(v->e);
    memset(v, 0, sizeof *v);
}

/* Reads and parses path; *file holds the bytes v borrows (caller frees,
 * after bundle_vector_release). */
static int vector_read(const char *path, struct bundle_vector *v, uint8_t **file)
{
    size_t len;
    int rc = file_read(path, VECTOR_FILE_MAX, file, &len);
    memset(v, 0, sizeof *v);
    if (rc != FM_OK)
        return rc;
    if ((rc = bundle_vector_parse(v, *file, len)) != FM_OK) {
        free(*file);
        *file = NULL;
    }
    return rc;
}

/* ---- export ---- */

/* A bundle --for a vector is sealed to the key the vector file names, so
 * the file must prove that key is one of ours: it carries the writer's
 * certificate (our organisation, valid now) and the writer's signature
 * over the file, and the key must not be revoked here. So a node never
 * seen before can be served, but never a foreign or revoked one.
 * FM_EVERIFY (unsigned, or a bad signature), FM_ECERT (certificate for
 * another key), FM_EFOREIGN, FM_EEXPIRED, FM_EREVOKED. */
int bundle_vector_check(struct fm_node *n, const struct bundle_vector *v)
{
    struct store_txn *t;
    struct fm_buf msg;
    uint64_t limit = UINT64_MAX;
    int rc;
    if (!v->has_sig)
        return FM_EVERIFY;
    if (memcmp(v->cert.node, v->node, FM_PK_LEN) != 0)
        return FM_ECERT;
    if (memcmp(v->cert.org, n->cfg.org_pk, FM_PK_LEN) != 0)
        return FM_EFOREIGN;
    rc = fm_cert_check(&v->cert, n->cfg.org_pk, fm_now_ms());
    if (rc == FM_EFOREIGN || rc == FM_EEXPIRED)
        return rc;
    if (rc != FM_OK)
        return FM_ECERT;
    fm_buf_init(&msg, VECTOR_FILE_MAX + 64);
    if ((rc = fm_buf_append(&msg, VECTOR_DOMAIN, strlen(VECTOR_DOMAIN))) == FM_OK &&
        (rc = fm_buf_append(&msg, v->file, v->signed_len)) == FM_OK &&
        !fm_verify(v->node, msg.data, msg.len, v->sig))
        rc = FM_EVERIFY;
    fm_buf_release(&msg);
    if (rc != FM_OK)
        return rc;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    rc = node_limit_get(t, v->node, &limit);
    store_txn_abort(&t);
    if (rc == FM_OK && limit != UINT64_MAX)
        rc = FM_EREVOKED;
    return rc;
}

static int default_key_path(const struct fm_node *n, const char *given, char *out, size_t cap)
{
    if (given && given[0])
        return fm_strlcpy(out, given, cap);
    return snprintf(out, cap, "%s/bundle.key", n->cfg.data_dir) < (int)cap ? FM_OK : FM_ETOOBIG;
}

int fm_bundle_key_create(const char *path)
{
    struct fm_seal_key k = {0};
    int rc = fm_seal_key_generate(&k);
    if (rc == FM_OK)
        rc = fm_seal_key_save(&k, path);
    fm_seal_key_release(&k);
    return rc;
}

/* First seq of author's log stamped at or after since_ms (head + 1 if none). */
static int first_since(struct fm_node *n, const struct fm_head *h, uint64_t since_ms,
                       uint64_t *from)
{
    struct fm_buf b;
    uint64_t seq = 1;
    int rc = FM_OK;
    fm_buf_init(&b, 8u << 20);
    *from = h->seq + 1;
    while (seq <= h->seq) {
        size_t got = 0, off = 0;
        fm_buf_reset(&b);
        if ((rc = fm_node_read_ops(n, h->author, seq, 4096, 4u << 20, &b, &got)) != FM_OK ||
            got == 0)
            break;
        for (size_t i = 0; i < got; i++) {
            uint32_t len = fm_be32_get(b.data + off);
            struct fm_op op;
            if (fm_op_decode(&op, b.data + off + 4, len) != FM_OK) {
                rc = FM_ESTORE;
                goto out;
            }
            if (hlc_ms(op.hlc) >= since_ms) {
                *from = op.seq;
                goto out;
            }
            off += 4 + len;
        }
        seq += got;
    }
out:
    fm_buf_release(&b);
    return rc;
}

/* Append author h's ops from `from` on to plain, until its head or the
 * bundle's size cap (then info->truncated). */
static int export_author_ops(struct fm_node *n, const struct fm_head *h, uint64_t from,
                             struct fm_buf *plain, struct fm_bundle_info *info, uint32_t *nops,
                             uint64_t *seen, uint64_t all)
{
    while (from <= h->seq) {
        size_t got = 0, before = plain->len;
        size_t room = FM_BUNDLE_MAX_BYTES - plain->len;
        if (room < FM_OP_MAX_LEN + 4) {
            info->truncated = true;
            break;
        }
        int rc = fm_node_read_ops(n, h->author, from, 4096,
                                  FM_BUNDLE_MAX_BYTES - FM_OP_MAX_LEN - 4, plain, &got);
        if (rc != FM_OK)
            return rc;
        if (got == 0) {
            plain->len = before;
            break;
        }
        *nops += (uint32_t)got;
        from += got;
        *seen += got;
        node_progress(n, *seen, all);
    }
    return FM_OK;
}

/* The plaintext: "FMOPS1" | u32 n | every op the reader lacks, author by
 * author. Sets info->authors, ->ops and ->truncated. */
static int export_plaintext(struct fm_node *n, const struct fm_bundle_opts *o, bool to_node,
                            const struct bundle_vector *vec, struct fm_buf *plain,
                            struct fm_bundle_info *info)
{
    struct fm_head *heads = NULL;
    size_t nh = 0;
    uint32_t nops = 0;
    int rc;
    if ((rc = fm_node_heads(n, &heads, &nh)) != FM_OK)
        goto out;
    uint64_t all = 0, seen = 0; /* for progress: every stored op counts, skipped too */
    for (size_t i = 0; i < nh; i++)
        all += heads[i].seq;

    if ((rc = fm_buf_append(plain, PLAIN_MAGIC, strlen(PLAIN_MAGIC))) != FM_OK ||
        (rc = fm_buf_put_u32(plain, 0)) != FM_OK)
        goto out;
    for (size_t i = 0; i < nh && !info->truncated; i++) {
        uint64_t from = 1;
        if (to_node) {
            struct fm_head *hit =
                vec->n ? bsearch(&heads[i], vec->e, vec->n, sizeof *vec->e, head_cmp) : NULL;
            from = hit ? hit->seq + 1 : 1;
        } else if (o && o->since_ms && (rc = first_since(n, &heads[i], o->since_ms, &from)) != FM_OK) {
            goto out;
        }
        seen += from - 1 < heads[i].seq ? from - 1 : heads[i].seq;
        if (from > heads[i].seq) {
            node_progress(n, seen, all);
            continue;
        }
        info->authors++;
        if ((rc = export_author_ops(n, &heads[i], from, plain, info, &nops, &seen, all)) != FM_OK)
            goto out;
    }
    fm_be32_put(plain->data + strlen(PLAIN_MAGIC), nops);
    info->ops = nops;
out:
    free(heads);
    return rc;
}

/* The clear header up to the content key: magic, version, mode, exporter,
 * time, certificate; then a fresh content key, sealed to the reader's node
 * key (--for) or wrapped under the org bundle key. Fills info. */
static int export_header(struct fm_node *n, bool to_node, const struct bundle_vector *vec,
                         const struct fm_seal_key *org, struct fm_seal_key *content,
                         struct fm_buf *file, struct fm_bundle_info *info)
{
    struct fm_buf certb;
    int rc;
    fm_buf_init(&certb, FM_CERT_MAX);
    if ((rc = fm_cert_encode(&n->cert, &certb)) != FM_OK)
        goto out;
    info->created_ms = fm_now_ms();
    info->sealed_to_node = to_node;
    memcpy(info->exporter, n->id.pk, FM_PK_LEN);
    fm_strlcpy(info->exporter_name, n->cert.name, sizeof info->exporter_name);
    if ((rc = fm_buf_append(file, BUNDLE_MAGIC, 8)) || (rc = fm_buf_put_u8(file, BUNDLE_VERSION)) ||
        (rc = fm_buf_put_u8(file, to_node ? BUNDLE_TO_NODE : BUNDLE_TO_ORG)) ||
        (rc = fm_buf_append(file, n->id.pk, FM_PK_LEN)) ||
        (rc = fm_buf_put_u64(file, info->created_ms)) ||
        (rc = fm_buf_put_u16(file, (uint16_t)certb.len)) ||
        (rc = fm_buf_append(file, certb.data, certb.len)))
        goto out;
    if ((rc = fm_seal_key_generate(content)) != FM_OK)
        goto out;
    if (to_node) {
        uint8_t box[FM_SEAL_BOX_LEN];
        if ((rc = fm_buf_append(file, vec->node, FM_PK_LEN)) ||
            (rc = fm_seal_to_node(box, vec->node, content)) ||
            (rc = fm_buf_append(file, box, sizeof box)))
            goto out;
    } else {
        uint8_t id[FM_SEAL_KEY_ID_LEN], wrap[FM_SEAL_WRAP_LEN];
        fm_seal_key_id(org, id);
        if ((rc = fm_buf_append(file, id, sizeof id)) ||
            (rc = fm_seal_wrap(wrap, org, content, file->data, file->len)) ||
            (rc = fm_buf_append(file, wrap, sizeof wrap)))
            goto out;
    }
out:
    fm_buf_release(&certb);
    return rc;
}

/* nonce | u64 ct_len | ciphertext of plain under the content key, with
 * every header byte before it as associated data. */
static int export_encrypt(struct fm_buf *file, const struct fm_seal_key *content,
                          const struct fm_buf *plain)
{
    static const uint8_t zero[FM_SEAL_NONCE_LEN];
    uint8_t nonce[FM_SEAL_NONCE_LEN];
    size_t ad_len = file->len, at;
    uint8_t *ad = malloc(ad_len);
    int rc;
    if (!ad)
        return FM_ENOMEM;
    memcpy(ad, file->data, ad_len);
    /* nonce and length go in front of the ciphertext: reserve them */
    if ((rc = fm_buf_append(file, zero, sizeof zero)) || (rc = fm_buf_put_u64(file, 0))) {
        free(ad);
        return rc;
    }
    at = file->len;
    rc = fm_seal_encrypt(file, content, nonce, ad, ad_len, plain->data, plain->len);
    free(ad);
    if (rc != FM_OK)
        return rc;
    memcpy(file->data + ad_len, nonce, sizeof nonce);
    fm_be64_put(file->data + ad_len + FM_SEAL_NONCE_LEN, (uint64_t)(file->len - at));
    return FM_OK;
}

/* Append the exporter's signature over the domain and every byte so far. */
static int export_sign(struct fm_node *n, struct fm_buf *file)
{
    struct fm_buf msg;
    uint8_t sig[FM_SIG_LEN];
    int rc;
    fm_buf_init(&msg, BUNDLE_FILE_MAX + 64);
    if ((rc = fm_buf_append(&msg, BUNDLE_DOMAIN, strlen(BUNDLE_DOMAIN))) ||
        (rc = fm_buf_append(&msg, file->data, file->len)))
        goto out;
    fm_sign(&n->id, msg.data, msg.len, sig);
    rc = fm_buf_append(file, sig, sizeof sig);
out:
    fm_buf_release(&msg);
    return rc;
}

int fm_node_bundle_export(struct fm_node *n, const char *path, const struct fm_bundle_opts *o,
                          struct fm_bundle_info *info)
{
    struct bundle_vector vec = {0};
    uint8_t *vecfile = NULL;
    struct fm_buf plain, file;
    struct fm_seal_key content = {0}, org = {0};
    char keypath[FM_PATH_MAX];
    bool to_node = o && o->for_vector;
    int rc;

    memset(info, 0, sizeof *info);
    if (!n->has_identity)
        return FM_EPERM;
    fm_buf_init(&plain, FM_BUNDLE_MAX_BYTES);
    fm_buf_init(&file, BUNDLE_FILE_MAX);
    if (to_node && (rc = vector_read(o->for_vector, &vec, &vecfile)) != FM_OK)
        goto out;
    if (to_node && (rc = bundle_vector_check(n, &vec)) != FM_OK) {
        memcpy(info->exporter, vec.node, FM_PK_LEN); /* for the caller's message */
        goto out;
    }
    if (!to_node) {
        if ((rc = default_key_path(n, o ? o->key_path : NULL, keypath, sizeof keypath)) != FM_OK ||
            (rc = fm_seal_key_load(&org, keypath)) != FM_OK)
            goto out;
    }
    if ((rc = export_plaintext(n, o, to_node, &vec, &plain, info)) != FM_OK ||
        (rc = export_header(n, to_node, &vec, &org, &content, &file, info)) != FM_OK ||
        (rc = export_encrypt(&file, &content, &plain)) != FM_OK ||
        (rc = export_sign(n, &file)) != FM_OK)
        goto out;
    rc = fm_file_write(path, file.data, file.len, 0600, false);
out:
    fm_seal_key_release(&content);
    fm_seal_key_release(&org);
    fm_buf_release(&plain);
    fm_buf_release(&file);
    bundle_vector_release(&vec);
    free(vecfile);
    return rc;
}

/* ---- import ---- */

struct bundle_hdr {
    uint8_t mode;
    const uint8_t *exporter;
    uint64_t created_ms;
    struct fm_cert cert;
    const uint8_t *recipient, *box, *key_id, *wrap;
    size_t ad_len; /* bytes authenticated with the ciphertext */
    size_t wrap_ad_len;
    const uint8_t *nonce, *ct;
    uint64_t ct_len;
    const uint8_t *sig;
    size_t signed_len;
};

static int bundle_parse(struct bundle_hdr *h, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    const uint8_t *magic, *cert;
    uint8_t ver;
    uint16_t cert_len;
    memset(h, 0, sizeof *h);
    fm_cur_init(&c, p, n);
    if (fm_cur_bytes(&c, 8, &magic) || memcmp(magic, BUNDLE_MAGIC, 8) != 0 ||
        fm_cur_u8(&c, &ver) || ver != BUNDLE_VERSION || fm_cur_u8(&c, &h->mode) ||
        (h->mode != BUNDLE_TO_NODE && h->mode != BUNDLE_TO_ORG) ||
        fm_cur_bytes(&c, FM_PK_LEN, &h->exporter) || fm_cur_u64(&c, &h->created_ms) ||
        fm_cur_u16(&c, &cert_len) || cert_len > FM_CERT_MAX ||
        fm_cur_bytes(&c, cert_len, &cert) || fm_cert_decode(&h->cert, cert, cert_len) != FM_OK)
        return FM_EDECODE;
    if (h->mode == BUNDLE_TO_NODE) {
        if (fm_cur_bytes(&c, FM_PK_LEN, &h->recipient) ||
            fm_cur_bytes(&c, FM_SEAL_BOX_LEN, &h->box))
            return FM_EDECODE;
    } else {
        if (fm_cur_bytes(&c, FM_SEAL_KEY_ID_LEN, &h->key_id))
            return FM_EDECODE;
        h->wrap_ad_len = (size_t)(c.pos - p);
        if (fm_cur_bytes(&c, FM_SEAL_WRAP_LEN, &h->wrap))
            return FM_EDECODE;
    }
    h->ad_len = (size_t)(c.pos - p);
    if (fm_cur_bytes(&c, FM_SEAL_NONCE_LEN, &h->nonce) || fm_cur_u64(&c, &h->ct_len) ||
        h->ct_len < FM_SEAL_MAC_LEN || h->ct_len > fm_cur_left(&c) ||
        fm_cur_bytes(&c, (size_t)h->ct_len, &h->ct))
        return FM_EDECODE;
    h->signed_len = (size_t)(c.pos - p);
    if (fm_cur_bytes(&c, FM_SIG_LEN, &h->sig) || fm_cur_left(&c) != 0)
        return FM_EDECODE;
    return FM_OK;
}

static int exporter_check(struct fm_node *n, const struct bundle_hdr *h)
{
    struct store_txn *t;
    uint64_t limit;
    int rc;
    if (memcmp(h->cert.node, h->exporter, FM_PK_LEN) != 0)
        return FM_ECERT;
    rc = fm_cert_check(&h->cert, n->cfg.org_pk, h->created_ms);
    if (rc == FM_EFOREIGN || rc == FM_EEXPIRED)
        return rc;
    if (rc != FM_OK)
        return FM_ECERT;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    rc = node_limit_get(t, h->exporter, &limit);
    store_txn_abort(&t);
    if (rc == FM_OK && limit != UINT64_MAX)
        rc = FM_EREVOKED;
    return rc;
}

static void refusal_count(struct fm_bundle_info *info, int err)
{
    uint32_t i, cap = (uint32_t)(sizeof info->refused / sizeof info->refused[0]);
    for (i = 0; i < info->n_refused_reasons; i++)
        if (info->refused[i].err == err)
            break;
    if (i == info->n_refused_reasons) {
        if (i == cap)
            i = cap - 1; /* more reasons than slots: the last slot takes the rest */
        else
            info->refused[info->n_refused_reasons++].err = err;
    }
    info->refused[i].count++;
    while (i > 0 && info->refused[i].count > info->refused[i - 1].count) {
        int e = info->refused[i].err;
        uint64_t c = info->refused[i].count;
        info->refused[i] = info->refused[i - 1];
        info->refused[i - 1].err = e;
        info->refused[i - 1].count = c;
        i--;
    }
}

static int plain_ingest(struct fm_node *n, const uint8_t *p, size_t len,
                        struct fm_bundle_info *info, struct fm_ingest_result *res)
{
    struct fm_cur c;
    const uint8_t *magic;
    uint32_t count;
    const uint8_t **ops = NULL;
    size_t *lens = NULL;
    int *each = NULL;
    int rc;
    fm_cur_init(&c, p, len);
    if (fm_cur_bytes(&c, strlen(PLAIN_MAGIC), &magic) ||
        memcmp(magic, PLAIN_MAGIC, strlen(PLAIN_MAGIC)) != 0 || fm_cur_u32(&c, &count) ||
        count > fm_cur_left(&c) / (4 + FM_OP_HEADER_LEN + FM_SIG_LEN))
        return FM_EDECODE;
    ops = malloc((count ? count : 1) * sizeof *ops);
    lens = malloc((count ? count : 1) * sizeof *lens);
    each = malloc(INGEST_CHUNK * sizeof *each);
    if (!ops || !lens || !each) {
        rc = FM_ENOMEM;
        goto out;
    }
    /* validate the whole structure before ingesting anything */
    for (uint32_t i = 0; i < count; i++) {
        uint32_t l;
        if (fm_cur_u32(&c, &l) || l > FM_OP_MAX_LEN || fm_cur_bytes(&c, l, &ops[i])) {
            rc = FM_EDECODE;
            goto out;
        }
        lens[i] = l;
    }
    if (fm_cur_left(&c) != 0) {
        rc = FM_EDECODE;
        goto out;
    }
    info->ops = count;
    rc = FM_OK;
    /* refusals are summarised per reason by the caller, not logged per op */
    enum fm_log_level lvl = fm_log_get_level();
    if (lvl >= FM_LOG_WARN)
        fm_log_set_level(FM_LOG_ERROR);
    for (uint32_t off = 0; off < count && rc == FM_OK; off += INGEST_CHUNK) {
        struct fm_ingest_result r;
        size_t k = count - off < INGEST_CHUNK ? count - off : INGEST_CHUNK;
        rc = fm_node_ingest_each(n, ops + off, lens + off, k, &r, each);
        for (size_t i = 0; rc == FM_OK && i < k; i++)
            if (each[i] < 0)
                refusal_count(info, each[i]);
        res->stored += r.stored;
        res->duplicates += r.duplicates;
        if (r.rejected && res->rejected == 0) {
            res->err = r.err;
            res->err_seq = r.err_seq;
        }
        res->rejected += r.rejected;
        node_progress(n, off + k, count);
    }
    fm_log_set_level(lvl);
out:
    free(ops);
    free(lens);
    free(each);
    return rc;
}

int fm_node_bundle_import(struct fm_node *n, const char *path, const char *key_path,
                          struct fm_bundle_info *info, struct fm_ingest_result *res)
{
    uint8_t *file = NULL, *plain = NULL;
    size_t len = 0;
    struct bundle_hdr h;
    struct fm_seal_key content = {0}, org = {0};
    struct fm_buf msg;
    int rc;
    memset(info, 0, sizeof *info);
    memset(res, 0, sizeof *res);
    fm_buf_init(&msg, BUNDLE_FILE_MAX + 64);
    if ((rc = file_read(path, BUNDLE_FILE_MAX, &file, &len)) != FM_OK)
        goto out;
    if ((rc = bundle_parse(&h, file, len)) != FM_OK)
        goto out;
    memcpy(info->exporter, h.exporter, FM_PK_LEN);
    fm_strlcpy(info->exporter_name, h.cert.name, sizeof info->exporter_name);
    info->created_ms = h.created_ms;
    info->sealed_to_node = h.mode == BUNDLE_TO_NODE;
    /* 1. the exporter's signature over everything */
    if ((rc = fm_buf_append(&msg, BUNDLE_DOMAIN, strlen(BUNDLE_DOMAIN))) != FM_OK ||
        (rc = fm_buf_append(&msg, file, h.signed_len)) != FM_OK)
        goto out;
    if (!fm_verify(h.exporter, msg.data, msg.len, h.sig)) {
        rc = FM_EVERIFY;
        goto out;
    }
    /* 2. the exporter is one of ours */
    if ((rc = exporter_check(n, &h)) != FM_OK)
        goto out;
    /* 3. the content key */
    if (h.mode == BUNDLE_TO_NODE) {
        if (!n->has_identity || memcmp(h.recipient, n->id.pk, FM_PK_LEN) != 0) {
            rc = FM_ENOTFOUND; /* sealed to another node */
            goto out;
        }
        if ((rc = fm_seal_open_node(&content, &n->id, h.box)) != FM_OK)
            goto out;
    } else {
        char kp[FM_PATH_MAX];
        uint8_t id[FM_SEAL_KEY_ID_LEN];
        if ((rc = default_key_path(n, key_path, kp, sizeof kp)) != FM_OK ||
            (rc = fm_seal_key_load(&org, kp)) != FM_OK)
            goto out;
        fm_seal_key_id(&org, id);
        if (memcmp(id, h.key_id, sizeof id) != 0) {
            rc = FM_ENOTFOUND; /* made under another org bundle key */
            goto out;
        }
        if ((rc = fm_seal_unwrap(&content, &org, h.wrap, file, h.wrap_ad_len)) != FM_OK)
            goto out;
    }
    /* 4. decrypt, 5. parse and ingest */
    plain = malloc((size_t)h.ct_len);
    if (!plain) {
        rc = FM_ENOMEM;
        goto out;
    }
    if ((rc = fm_seal_decrypt(plain, (size_t)h.ct_len, &content, h.nonce, file, h.ad_len, h.ct,
                              (size_t)h.ct_len)) != FM_OK)
        goto out;
    rc = plain_ingest(n, plain, (size_t)h.ct_len - FM_SEAL_MAC_LEN, info, res);
out:
    fm_seal_key_release(&content);
    fm_seal_key_release(&org);
    fm_buf_release(&msg);
    free(plain);
    free(file);
    return rc;
}
