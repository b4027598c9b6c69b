/*
 * node_state.c — whole-store views: the raw signed log, the version
 * vector and op ranges that sync and bundles read, the state digest,
 * stats, and the public rebuild.
 *
 * The digest hashes, in a fixed order, every (key, value) of the databases
 * that hold derived state — entities, timeline, counters and the three
 * incident indexes — each framed with its length. All of them are a
 * function of the set of stored ops (see model.c), so two replicas with the
 * same ops have the same digest whatever order the ops arrived in. Ops,
 * heads, revocations and meta are inputs or bookkeeping, not state, and
 * are left out.
 */
#include "replica_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- the raw log ---- */

static int log_emit(const struct replica_domain *dom, const struct store_kv *kv,
                    struct fm_log_entry *e, struct log_payload *pl, fm_log_cb cb, void *ctx)
{
    struct fm_op op;
    if (fm_op_decode(&op, kv->val, kv->vlen) != FM_OK)
        return FM_ESTORE;
    memset(e, 0, sizeof *e);
    fm_key_encode(op.author, e->author);
    e->seq = op.seq;
    e->hlc = op.hlc;
    e->kind = op.kind;
    e->kind_name = dom != NULL ? dom->kind_name(op.kind) : "?";
    fm_op_hash(&op, e->hash);
    memcpy(e->prev, op.prev, FM_HASH_LEN);
    memcpy(e->sig, op.sig, FM_SIG_LEN);
    e->payload = op.payload;
    e->payload_len = op.payload_len;
    if (dom != NULL && dom->decode(pl, op.kind, op.payload, op.payload_len) == FM_OK)
        dom->summary(pl, e->summary, sizeof e->summary);
    else
        fm_strlcpy(e->summary, "(undecodable payload)", sizeof e->summary);
    return cb(ctx, e);
}

int fm_node_log(struct fm_node *n, const uint8_t *author, fm_log_cb cb, void *ctx)
{
    struct store_txn *t;
    struct store_cur *c = NULL;
    struct store_kv kv;
    struct fm_log_entry *e = malloc(sizeof *e);
    struct log_payload *pl = node_payload_new(n);
    int rc = FM_ENOMEM;
    if (cb == NULL)
        rc = FM_EINVAL;
    if (e == NULL || pl == NULL || cb == NULL)
        goto out_free;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out_free;
    if ((rc = store_cur_open(t, DB_OPS, &c)) != FM_OK)
        goto out_txn;
    if (author != NULL)
        rc = store_cur_seek(c, author, FM_PK_LEN, &kv);
    else
        rc = store_cur_first(c, &kv);
    for (; rc == FM_OK; rc = store_cur_next(c, &kv)) {
        if (author != NULL && !store_kv_has_prefix(&kv, author, FM_PK_LEN))
            break;
        if ((rc = log_emit(n->dom, &kv, e, pl, cb, ctx)) != 0)
            goto out_cur;
    }
    if (rc == FM_ENOTFOUND || rc == FM_OK)
        rc = FM_OK;
out_cur:
    store_cur_close(&c);
out_txn:
    store_txn_abort(&t);
out_free:
    free(e);
    free(pl);
    return rc;
}

/* ---- replication ---- */

int fm_node_heads(struct fm_node *n, struct fm_head **out, size_t *count)
{
    struct store_txn *t;
    struct store_cur *c = NULL;
    struct store_kv kv;
    struct fm_head *heads = NULL;
    uint64_t total;
    size_t k = 0;
    *out = NULL;
    *count = 0;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = store_count(t, DB_HEADS, &total)) != FM_OK)
        goto out_txn;
    if (total > SIZE_MAX / sizeof *heads) {
        rc = FM_ETOOBIG;
        goto out_txn;
    }
    heads = calloc(total ? (size_t)total : 1, sizeof *heads);
    if (heads == NULL) {
        rc = FM_ENOMEM;
        goto out_txn;
    }
    if ((rc = store_cur_open(t, DB_HEADS, &c)) != FM_OK)
        goto out_txn;
    for (rc = store_cur_first(c, &kv); rc == FM_OK && k < total; rc = store_cur_next(c, &kv)) {
        struct node_head h;
        if (kv.klen != FM_PK_LEN || (rc = node_head_get(t, kv.key, &h)) != FM_OK) {
            rc = FM_ESTORE;
            break;
        }
        memcpy(heads[k].author, kv.key, FM_PK_LEN);
        heads[k].seq = h.seq;
        memcpy(heads[k].hash, h.hash, FM_HASH_LEN);
        if ((rc = node_limit_get(t, kv.key, &heads[k].limit)) != FM_OK)
            break;
        k++;
    }
    store_cur_close(&c);
    if (rc == FM_ENOTFOUND || rc == FM_OK) {
        rc = FM_OK;
        *out = heads;
        *count = k;
        heads = NULL;
    }
out_txn:
    store_txn_abort(&t);
    free(heads);
    return rc;
}

int fm_node_read_ops(struct fm_node *n, const uint8_t author[FM_PK_LEN], uint64_t from_seq,
                     size_t max_ops, size_t max_bytes, struct fm_buf *out, size_t *count)
{
    uint8_t key[FM_PK_LEN + 8];
    struct store_txn *t;
    struct store_cur *c;
    struct store_kv kv;
    size_t k = 0;
    *count = 0;
    if (author == NULL || out == NULL)
        return FM_EINVAL;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = store_cur_open(t, DB_OPS, &c)) != FM_OK)
        goto out_txn;
    node_op_key(author, from_seq ? from_seq : 1, key);
    for (rc = store_cur_seek(c, key, sizeof key, &kv);
         rc == FM_OK && k < max_ops && out->len < max_bytes; rc = store_cur_next(c, &kv)) {
        if (!store_kv_has_prefix(&kv, author, FM_PK_LEN))
            break;
        if (kv.vlen > UINT32_MAX) {
            rc = FM_ESTORE;
            break;
        }
        size_t before = out->len;
        if ((rc = fm_buf_put_u32(out, (uint32_t)kv.vlen)) != FM_OK ||
            (rc = fm_buf_append(out, kv.val, kv.vlen)) != FM_OK) {
            out->len = before; /* never leave half an op */
            if (rc == FM_ETOOBIG && k > 0)
                rc = FM_OK; /* the buffer's own cap: a full batch */
            break;
        }
        k++;
    }
    if (rc == FM_ENOTFOUND)
        rc = FM_OK;
    store_cur_close(&c);
out_txn:
    store_txn_abort(&t);
    *count = k;
    return rc;
}

/* ---- digest, stats, rebuild ---- */

static const enum store_db digest_dbs[] = {DB_ENTITIES,   DB_TIMELINE,     DB_COUNTERS,
                                           DB_IDX_STATUS, DB_IDX_CATEGORY, DB_IDX_TIME};

static void digest_kv(struct fm_hasher *h, const uint8_t *key, size_t klen, const uint8_t *val,
                      size_t vlen)
{
    uint8_t hdr[8];
    fm_be32_put(hdr, (uint32_t)klen);
    fm_be32_put(hdr + 4, (uint32_t)vlen);
    fm_hasher_update(h, hdr, 8);
    fm_hasher_update(h, key, klen);
    fm_hasher_update(h, val, vlen);
}

/* LMDB's default order of two keys. */
static int key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c != 0 ? c : (alen > blen) - (alen < blen);
}

#define DIGEST_TL_KINDS 8

/* The timeline as schema 2 laid it out: keys without the entity kind in
 * front (schema 3), in the order those keys sort. One cursor per kind
 * present, merged; so a store's digest is the same before and after the
 * upgrade, and nodes of either build compare equal on the same ops. */
static int digest_timeline(struct store_txn *t, struct fm_hasher *h)
{
    struct store_cur *c[DIGEST_TL_KINDS] = {0};
    struct store_kv kv[DIGEST_TL_KINDS];
    bool live[DIGEST_TL_KINDS] = {0};
    size_t nk = 0;
    int rc = FM_OK;
    for (unsigned k = 0; k < 256 && rc == FM_OK;) {
        uint8_t from = (uint8_t)k;
        if (nk == DIGEST_TL_KINDS) {
            rc = FM_ESTORE; /* more kinds than the model has */
            break;
        }
        if ((rc = store_cur_open(t, DB_TIMELINE, &c[nk])) != FM_OK)
            break;
        rc = store_cur_seek(c[nk], &from, 1, &kv[nk]);
        if (rc == FM_ENOTFOUND) {
            store_cur_close(&c[nk]);
            rc = FM_OK;
            break;
        }
        if (rc == FM_OK && kv[nk].klen < 2)
            rc = FM_ESTORE;
        if (rc != FM_OK) {
            nk++;
            break;
        }
        live[nk] = true;
        k = (unsigned)kv[nk].key[0] + 1;
        nk++;
    }
    while (rc == FM_OK) {
        size_t best = nk;
        for (size_t i = 0; i < nk; i++)
            if (live[i] && (best == nk || key_cmp(kv[i].key + 1, kv[i].klen - 1, kv[best].key + 1,
                                                  kv[best].klen - 1) < 0))
                best = i;
        if (best == nk)
            break;
        digest_kv(h, kv[best].key + 1, kv[best].klen - 1, kv[best].val, kv[best].vlen);
        uint8_t kind = kv[best].key[0];
        rc = store_cur_next(c[best], &kv[best]);
        if (rc == FM_ENOTFOUND || (rc == FM_OK && kv[best].key[0] != kind)) {
            live[best] = false;
            rc = FM_OK;
        } else if (rc == FM_OK && kv[best].klen < 2) {
            rc = FM_ESTORE;
        }
    }
    for (size_t i = 0; i < nk; i++)
        store_cur_close(&c[i]);
    return rc;
}

int fm_node_digest(struct fm_node *n, uint8_t out[FM_HASH_LEN])
{
    struct store_txn *t;
    struct fm_hasher *h = fm_hasher_new();
    int rc;
    if (h == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out_hash;
    fm_hasher_update(h, "fieldmesh-state-1", 17);
    for (size_t i = 0; i < sizeof digest_dbs / sizeof digest_dbs[0] && rc == FM_OK; i++) {
        struct store_cur *c;
        struct store_kv kv;
        uint8_t hdr[4];
        fm_be32_put(hdr, (uint32_t)i);
        fm_hasher_update(h, hdr, 4);
        if (digest_dbs[i] == DB_TIMELINE) {
            rc = digest_timeline(t, h);
            continue;
        }
        if ((rc = store_cur_open(t, digest_dbs[i], &c)) != FM_OK)
            break;
        for (rc = store_cur_first(c, &kv); rc == FM_OK; rc = store_cur_next(c, &kv))
            digest_kv(h, kv.key, kv.klen, kv.val, kv.vlen);
        if (rc == FM_ENOTFOUND)
            rc = FM_OK;
        store_cur_close(&c);
    }
    store_txn_abort(&t);
    if (rc == FM_OK)
        fm_hasher_final(h, out);
out_hash:
    fm_hasher_destroy(&h);
    return rc;
}

int fm_node_stats(struct fm_node *n, struct fm_node_stats *out)
{
    struct store_txn *t;
    memset(out, 0, sizeof *out);
    int rc = store_info(n->st, &out->map_size, &out->store_bytes);
    if (rc != FM_OK || (rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    if ((rc = store_count(t, DB_OPS, &out->ops)) != FM_OK ||
        (rc = store_count(t, DB_HEADS, &out->authors)) != FM_OK ||
        (rc = node_meta_get_u64(t, "hlc", &out->hlc)) != FM_OK ||
        (rc = node_meta_get_u64(t, "rejected", &out->rejected)) != FM_OK ||
        (rc = node_meta_get_u64(t, "soft_unit_refused", &out->soft_unit_refused)) != FM_OK)
        goto out_txn;
    if (n->dom != NULL)
        rc = n->dom->entities(t, &out->entities);
out_txn:
    store_txn_abort(&t);
    return rc;
}

static int rebuild_txn(struct store_txn *t, void *ctx)
{
    const struct fm_node *n = ctx;
    return node_rebuild_txn_progress(n, t, n->progress.fn != NULL ? &n->progress : NULL);
}

int fm_node_rebuild(struct fm_node *n)
{
    return store_write(n->st, rebuild_txn, n);
}

void fm_node_set_progress(struct fm_node *n, const struct fm_progress *p)
{
    if (p != NULL)
        n->progress = *p;
    else
        memset(&n->progress, 0, sizeof n->progress);
}

uint64_t fm_node_change_mark(struct fm_node *n)
{
    return store_last_txn(n->st);
}
