/*
 * node.c — opening a node, the pieces every path shares (heads, limits,
 * meta, checking and storing one op, revocations, rebuild) and the local
 * write path.
 *
 * A local write is one LMDB write transaction: read this author's head,
 * let the caller's `prepare` step resolve ids and check state against the
 * same snapshot, encode the payload (which re-decodes it, so we never sign
 * what a peer would refuse), build and sign op head+1 chained to the head
 * hash with a fresh HLC stamp, run the same content checks ingest runs,
 * store it, apply it, move the head and the clock, commit. The very first
 * write of an author first appends its certificate as op 1.
 */
#include "replica_int.h"

#include <stdlib.h>
#include <string.h>

#define HEAD_VERSION 1
#define WRITE_OP_BUF_MAX FM_OP_MAX_LEN

/* ---- heads, limits, meta ---- */

void node_op_key(const uint8_t author[FM_PK_LEN], uint64_t seq, uint8_t key[FM_PK_LEN + 8])
{
    memcpy(key, author, FM_PK_LEN);
    fm_be64_put(key + FM_PK_LEN, seq);
}

/* A u8 length always leaves room for the NUL of a name field. */
_Static_assert(FM_NAME_MAX > UINT8_MAX, "a name field holds any u8-length string");

static int head_decode(struct node_head *h, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    uint8_t ver, nlen, ulen;
    fm_cur_init(&c, p, n);
    memset(h, 0, sizeof *h);
    if (fm_cur_u8(&c, &ver) || ver != HEAD_VERSION || fm_cur_u64(&c, &h->seq) ||
        fm_cur_copy(&c, h->hash, FM_HASH_LEN) || fm_cur_u64(&c, &h->hlc) ||
        fm_cur_u8(&c, &h->role) || fm_cur_u8(&c, &h->tier) ||
        fm_cur_u64(&c, &h->not_before_ms) || fm_cur_u64(&c, &h->expires_ms) ||
        fm_cur_u8(&c, &nlen) || fm_cur_copy(&c, h->name, nlen) ||
        fm_cur_u8(&c, &ulen) || fm_cur_copy(&c, h->unit, ulen) ||
        fm_cur_left(&c) != 0)
        return FM_ESTORE;
    return FM_OK;
}

int node_head_get(struct store_txn *t, const uint8_t author[FM_PK_LEN], struct node_head *h)
{
    const uint8_t *v;
    size_t vlen;
    int rc = store_get(t, DB_HEADS, author, FM_PK_LEN, &v, &vlen);
    if (rc == FM_ENOTFOUND) {
        memset(h, 0, sizeof *h);
        return FM_OK;
    }
    return rc != FM_OK ? rc : head_decode(h, v, vlen);
}

int node_head_put(struct store_txn *t, const uint8_t author[FM_PK_LEN], const struct node_head *h)
{
    uint8_t buf[1 + 8 + FM_HASH_LEN + 8 + 2 + 16 + 2 * FM_NAME_MAX];
    struct fm_buf b = {.data = buf, .cap = sizeof buf, .max = sizeof buf};
    size_t nlen = strnlen(h->name, FM_NAME_MAX - 1), ulen = strnlen(h->unit, FM_NAME_MAX - 1);
    int rc;
    if ((rc = fm_buf_put_u8(&b, HEAD_VERSION)) || (rc = fm_buf_put_u64(&b, h->seq)) ||
        (rc = fm_buf_append(&b, h->hash, FM_HASH_LEN)) || (rc = fm_buf_put_u64(&b, h->hlc)) ||
        (rc = fm_buf_put_u8(&b, h->role)) || (rc = fm_buf_put_u8(&b, h->tier)) ||
        (rc = fm_buf_put_u64(&b, h->not_before_ms)) || (rc = fm_buf_put_u64(&b, h->expires_ms)) ||
        (rc = fm_buf_put_u8(&b, (uint8_t)nlen)) || (rc = fm_buf_append(&b, h->name, nlen)) ||
        (rc = fm_buf_put_u8(&b, (uint8_t)ulen)) || (rc = fm_buf_append(&b, h->unit, ulen)))
        return rc;
    return store_put(t, DB_HEADS, author, FM_PK_LEN, b.data, b.len, false);
}

int node_limit_get(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t *limit)
{
    struct node_rev r;
    int rc = node_revocation_get(t, author, &r); /* frozen.c: the record's one reader */
    *limit = r.limit;
    return rc;
}

int node_meta_get_u64(struct store_txn *t, const char *name, uint64_t *out)
{
    const uint8_t *v;
    size_t vlen;
    int rc = store_get(t, DB_META, name, strlen(name), &v, &vlen);
    *out = 0;
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    if (vlen != 8)
        return FM_ESTORE;
    *out = fm_be64_get(v);
    return FM_OK;
}

int node_meta_put_u64(struct store_txn *t, const char *name, uint64_t v)
{
    uint8_t b[8];
    fm_be64_put(b, v);
    return store_put(t, DB_META, name, strlen(name), b, sizeof b, false);
}

void fm_op_id_format(const uint8_t author[FM_PK_LEN], uint64_t seq, char out[FM_ID_MAX])
{
    /* "<tag>-<seq>": formatted by hand, as apply names an entity per op */
    char digits[20];
    size_t n = 0, o = FM_KEY_TAG_LEN;
    fm_key_tag(author, out);
    do
        digits[n++] = (char)('0' + seq % 10);
    while ((seq /= 10) != 0);
    out[o++] = '-';
    while (n > 0)
        out[o++] = digits[--n];
    out[o] = '\0';
}

/* ---- one op: check, store, revoke, rebuild ---- */

struct log_payload *node_payload_new(const struct fm_node *n)
{
    return calloc(1, n->dom != NULL ? n->dom->payload_size : sizeof(struct log_payload));
}

static void head_set_cert(struct node_head *h, const struct fm_cert *cert)
{
    h->role = (uint8_t)cert->role;
    h->tier = cert->tier;
    h->not_before_ms = cert->not_before_ms;
    h->expires_ms = cert->expires_ms;
    fm_strlcpy(h->name, cert->name, sizeof h->name);
    fm_strlcpy(h->unit, cert->unit, sizeof h->unit);
}

int node_op_check(const struct fm_node *n, const struct fm_op *op, const struct node_head *h,
                  struct log_payload *pl)
{
    const uint8_t *org = n->cfg.org_pk;
    uint64_t ms = hlc_ms(op->hlc);
    if (n->dom == NULL)
        return FM_EINVAL; /* opened to read logs only */
    int rc = n->dom->decode(pl, op->kind, op->payload, op->payload_len);
    if (op->seq == 1) {
        if (op->kind != OP_CERT || rc != FM_OK)
            return FM_ECERT;
        if (memcmp(pl->cert.node, op->author, FM_PK_LEN) != 0)
            return FM_ECERT;
        if (memcmp(pl->cert.org, org, FM_PK_LEN) != 0)
            return FM_EFOREIGN;
        rc = fm_cert_check(&pl->cert, org, ms);
        if (rc == FM_EFOREIGN || rc == FM_EEXPIRED)
            return rc;
        return rc == FM_OK ? FM_OK : FM_ECERT;
    }
    if (op->kind == OP_CERT)
        return FM_ECERT; /* a certificate only ever opens a log */
    if (rc != FM_OK)
        return FM_EDECODE;
    if (op->kind == OP_CERT_RENEW) {
        /* a new certificate of this author from this org, checked against
         * its own (new) window, so an expired author can still renew */
        if (memcmp(pl->cert.node, op->author, FM_PK_LEN) != 0)
            return FM_ECERT;
        if (memcmp(pl->cert.org, org, FM_PK_LEN) != 0)
            return FM_EFOREIGN;
        rc = fm_cert_check(&pl->cert, org, ms);
        if (rc == FM_EFOREIGN || rc == FM_EEXPIRED)
            return rc;
        return rc == FM_OK ? FM_OK : FM_ECERT;
    }
    if (ms < h->not_before_ms || ms >= h->expires_ms)
        return FM_EEXPIRED;
    if (op->kind == OP_REVOKE)
        return fm_revocation_check(&pl->rev, org);
    if (op->kind == OP_GROUP_KEY) {
        /* carried by a dispatcher or admin node, made by the org root */
        if ((rc = n->dom->permitted(h, op->author, pl)) != FM_OK)
            return rc;
        return fm_groupkey_check(&pl->gk, org);
    }
    if (op->kind == OP_CERT_ANNOUNCE) {
        /* another node's certificate, valid when announced (announce.c) */
        if ((rc = n->dom->permitted(h, op->author, pl)) != FM_OK)
            return rc;
        if (memcmp(pl->cert.node, op->author, FM_PK_LEN) == 0)
            return FM_ECERT; /* its own: that is a renewal */
        if (memcmp(pl->cert.org, org, FM_PK_LEN) != 0)
            return FM_EFOREIGN;
        rc = fm_cert_check(&pl->cert, org, ms);
        return rc == FM_OK || rc == FM_EEXPIRED || rc == FM_EFOREIGN ? rc : FM_ECERT;
    }
    return n->dom->permitted(h, op->author, pl); /* role and unit rules (permit.c) */
}

int node_op_store(const struct fm_node *n, struct store_txn *t, const struct fm_op *op,
                  const uint8_t hash[FM_HASH_LEN], const struct log_payload *pl, struct node_head *h)
{
    uint8_t key[FM_PK_LEN + 8];
    int rc;
    node_op_key(op->author, op->seq, key);
    rc = store_put(t, DB_OPS, key, sizeof key, op->raw, op->raw_len, true);
    if (rc == FM_EEXISTS)
        return FM_ESTORE; /* the head said this seq was free */
    if (rc != FM_OK || (rc = n->dom->apply(t, op, pl)) != FM_OK)
        return rc;
    if (pl->kind == OP_GROUP_KEY && (rc = node_groupkey_note(t, op, pl)) != FM_OK)
        return rc;
    if (pl->kind == OP_CERT_ANNOUNCE && (rc = node_announce_note(t, pl)) != FM_OK)
        return rc;
    h->seq = op->seq;
    memcpy(h->hash, hash, FM_HASH_LEN);
    h->hlc = op->hlc;
    if ((op->seq == 1 && pl->kind == OP_CERT) || pl->kind == OP_CERT_RENEW)
        head_set_cert(h, &pl->cert); /* a renewal moves the validity window */
    return node_head_put(t, op->author, h);
}

int node_head_at(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                 struct node_head *h)
{
    uint8_t key[FM_PK_LEN + 8];
    const uint8_t *v;
    size_t vlen;
    struct fm_op op;
    int rc;
    memset(h, 0, sizeof *h);
    if (seq == 0)
        return FM_OK;
    node_op_key(author, seq, key);
    if ((rc = store_get(t, DB_OPS, key, sizeof key, &v, &vlen)) != FM_OK)
        return rc;
    if (fm_op_decode(&op, v, vlen) != FM_OK)
        return FM_ESTORE;
    h->seq = seq;
    h->hlc = op.hlc;
    fm_op_hash(&op, h->hash);
    /* the certificate fields come from the latest certificate or renewal
     * at or below seq (op 1 always is one) */
    for (uint64_t s = seq; s >= 1; s--) {
        struct fm_cert cert;
        node_op_key(author, s, key);
        if ((rc = store_get(t, DB_OPS, key, sizeof key, &v, &vlen)) != FM_OK)
            return rc == FM_ENOTFOUND ? FM_ESTORE : rc;
        if (fm_op_decode(&op, v, vlen) != FM_OK)
            return FM_ESTORE;
        if (op.kind != OP_CERT && op.kind != OP_CERT_RENEW)
            continue;
        if (fm_cert_decode(&cert, op.payload, op.payload_len) != FM_OK)
            return FM_ESTORE;
        head_set_cert(h, &cert);
        return FM_OK;
    }
    return FM_ESTORE; /* a log without its certificate */
}

/* Deletes the author's ops after `keep` and moves the head back. */
int node_truncate(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t keep,
                  struct node_head *h)
{
    uint8_t key[FM_PK_LEN + 8];
    struct store_cur *c;
    struct store_kv kv;
    int rc = store_cur_open(t, DB_OPS, &c);
    if (rc != FM_OK)
        return rc;
    node_op_key(author, keep + 1, key);
    while ((rc = store_cur_seek(c, key, sizeof key, &kv)) == FM_OK &&
           store_kv_has_prefix(&kv, author, FM_PK_LEN)) {
        if ((rc = store_cur_del(c)) != FM_OK)
            break;
    }
    store_cur_close(&c);
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return rc;
    if (keep == 0) {
        rc = store_del(t, DB_HEADS, author, FM_PK_LEN);
        return rc == FM_ENOTFOUND ? FM_OK : rc;
    }
    if ((rc = node_head_at(t, author, keep, h)) != FM_OK)
        return rc == FM_ENOTFOUND ? FM_ESTORE : rc;
    return node_head_put(t, author, h);
}

int node_rebuild_txn(const struct fm_node *n, struct store_txn *t)
{
    return node_rebuild_txn_progress(n, t, NULL);
}

#define REBUILD_PROGRESS_EVERY 1024 /* ops between progress reports */

int node_rebuild_txn_progress(const struct fm_node *n, struct store_txn *t,
                              const struct fm_progress *p)
{
    struct store_cur *c;
    struct store_kv kv;
    struct fm_op op;
    struct log_payload *pl = node_payload_new(n);
    uint64_t total = 0, done = 0;
    int rc;
    if (pl == NULL)
        return FM_ENOMEM;
    if (n->dom == NULL) {
        free(pl);
        return FM_EINVAL; /* opened to read logs only */
    }
    if (p != NULL && p->fn != NULL && (rc = store_count(t, DB_OPS, &total)) != FM_OK)
        goto out;
    if ((rc = n->dom->clear(t)) != FM_OK || (rc = store_cur_open(t, DB_OPS, &c)) != FM_OK)
        goto out;
    for (rc = store_cur_first(c, &kv); rc == FM_OK; rc = store_cur_next(c, &kv)) {
        if (p != NULL && p->fn != NULL && ++done % REBUILD_PROGRESS_EVERY == 0)
            p->fn(p->ctx, done, total);
        if (fm_op_decode(&op, kv.val, kv.vlen) != FM_OK ||
            n->dom->decode(pl, op.kind, op.payload, op.payload_len) != FM_OK) {
            rc = FM_ESTORE;
            break;
        }
        if ((rc = n->dom->apply(t, &op, pl)) != FM_OK)
            break;
    }
    store_cur_close(&c);
    if (rc == FM_ENOTFOUND)
        rc = FM_OK;
    if (rc == FM_OK && p != NULL && p->fn != NULL)
        p->fn(p->ctx, done, total); /* the end, also under REBUILD_PROGRESS_EVERY ops */
out:
    free(pl);
    return rc;
}

/* ---- open / close ---- */

int node_identity_from_keys(struct fm_node *n)
{
    if (!n->keys.has_id)
        return n->keys.id_err != FM_OK ? n->keys.id_err : FM_ENOTFOUND;
    return fm_identity_copy(&n->id, &n->keys.id);
}

bool fm_node_self_revoked(struct fm_node *n)
{
    struct store_txn *t;
    uint64_t limit = UINT64_MAX;
    if (n == NULL || n->st == NULL || !n->keys.has_id || store_read_begin(n->st, &t) != FM_OK)
        return false;
    int rc = node_limit_get(t, n->keys.id.pk, &limit);
    store_txn_abort(&t);
    return rc == FM_OK && limit != UINT64_MAX;
}

static int node_load_identity(struct fm_node *n)
{
    int rc = node_identity_from_keys(n);
    if (rc != FM_OK)
        return rc;
    n->has_identity = true;
    if ((rc = fm_cert_read_file(&n->cert, n->cfg.cert_path)) != FM_OK)
        return rc;
    if (memcmp(n->cert.node, n->id.pk, FM_PK_LEN) != 0 ||
        memcmp(n->cert.org, n->cfg.org_pk, FM_PK_LEN) != 0)
        return FM_ECERT;
    /* Signature check only; expiry is checked per op (writes then fail
     * with FM_EEXPIRED, reads keep working). */
    rc = fm_cert_check(&n->cert, n->cfg.org_pk, n->cert.not_before_ms);
    if (rc != FM_OK)
        return FM_ECERT;
    /* The certificate's role is what every node enforces; a config that
     * says otherwise only misleads the operator. */
    if (n->cert.role != n->cfg.role)
        fm_log(FM_LOG_WARN, "node",
               "%s says role %s but this node's certificate says %s; the certificate's "
               "role is what other nodes allow",
               n->cfg.path[0] ? n->cfg.path : "the config", fm_role_name(n->cfg.role),
               fm_role_name(n->cert.role));
    return FM_OK;
}

static int schema_txn(struct store_txn *t, void *ctx)
{
    const struct fm_node *n = ctx;
    uint64_t v;
    int rc = node_meta_get_u64(t, "schema", &v);
    if (rc != FM_OK)
        return rc;
    if (v == 0)
        return node_meta_put_u64(t, "schema", NODE_SCHEMA_VERSION);
    if (v == 1 || v == 2) {
        /* schema 1 copied each note's text into its timeline entry, and
         * schema 2 keyed the timeline by id alone; the entities are a
         * function of the ops, so re-derive them */
        if ((rc = node_rebuild_txn(n, t)) != FM_OK)
            return rc;
        return node_meta_put_u64(t, "schema", NODE_SCHEMA_VERSION);
    }
    return v == NODE_SCHEMA_VERSION ? FM_OK : FM_ESTORE;
}

int replica_open(struct fm_node **out, const struct fm_config *cfg, unsigned flags,
                 const struct fm_keys *k, const struct replica_domain *dom)
{
    int rc;
    *out = NULL;
    if (cfg == NULL || cfg->data_dir[0] == '\0' || k == NULL)
        return FM_EINVAL;
    struct fm_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return FM_ENOMEM;
    pthread_mutex_init(&n->gk_lock, NULL);
    n->cfg = *cfg;
    n->flags = flags;
    n->dom = dom;
    if ((rc = fm_keys_copy(&n->keys, k)) != FM_OK)
        goto fail;
    if ((flags & FM_OPEN_IDENTITY) && (rc = node_load_identity(n)) != FM_OK)
        goto fail;
    rc = store_open(&n->st, cfg->data_dir, cfg->map_size, cfg->map_max,
                    (flags & FM_OPEN_NOSYNC_) ? STORE_NOSYNC : 0,
                    (flags & FM_OPEN_PLAIN_) ? NULL : &n->keys.data);
    if (rc != FM_OK)
        goto fail;
    if (fm_node_self_revoked(n)) {
        store_close(&n->st);
        rc = fm_keys_shred(cfg, &n->keys, "this node's own certificate is revoked");
        if (rc == FM_OK)
            rc = FM_ESHREDDED;
        goto fail;
    }
    struct store_txn *t;
    uint64_t schema = 0;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto fail;
    rc = node_meta_get_u64(t, "schema", &schema);
    store_txn_abort(&t);
    if (rc == FM_OK && schema > NODE_SCHEMA_VERSION)
        rc = FM_ESTORE; /* written by a newer fieldmesh */
    else if (rc == FM_OK && schema != NODE_SCHEMA_VERSION && dom != NULL)
        rc = store_write(n->st, schema_txn, n);
    if (rc != FM_OK)
        goto fail;
    *out = n;
    return FM_OK;
fail:
    fm_node_close(&n);
    return rc;
}

void fm_node_close(struct fm_node **np)
{
    if (np == NULL || *np == NULL)
        return;
    struct fm_node *n = *np;
    store_close(&n->st);
    node_groupkey_release(n);
    pthread_mutex_destroy(&n->gk_lock);
    fm_identity_release(&n->id);
    fm_keys_release(&n->keys);
    free(n);
    *np = NULL;
}

const uint8_t *fm_node_pk(const struct fm_node *n)
{
    static const uint8_t zero[FM_PK_LEN];
    return n != NULL && n->has_identity ? n->id.pk : zero;
}

const struct fm_config *fm_node_config(const struct fm_node *n)
{
    return &n->cfg;
}

static int clear_txn(struct store_txn *t, void *ctx)
{
    (void)ctx;
    for (int db = 0; db < DB__COUNT; db++) {
        int rc = store_clear(t, (enum store_db)db);
        if (rc != FM_OK)
            return rc;
    }
    return node_meta_put_u64(t, "schema", NODE_SCHEMA_VERSION);
}

int node_test_clear(struct fm_node *n)
{
    return store_write(n->st, clear_txn, NULL);
}
