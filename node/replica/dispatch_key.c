/*
 * dispatch_key.c — the dispatchers' group key as this node holds it
 * (docs/security.md, "Need to know").
 *
 * A dispatch.key op carries an org-signed record sealing one generation
 * of the key to each dispatcher node. Every node stores and relays it;
 * node_op_store also indexes it in DB_LOCAL (this node's own records,
 * sealed at rest, never synced nor digested) under
 *
 *   'K' | key_id[8] | author[32] | seq u64 BE -> the record's bytes
 *
 * so that a read finds the record for a sealed field's key id without
 * walking the log. The key itself is never stored: a dispatcher opens its
 * box with its identity key when it first needs it and keeps it only in
 * the node handle's guarded memory (NODE_GK_CACHE entries). A node the
 * record does not name finds nothing to open. The entries depend only on
 * ops stored here; an op a fork later cuts leaves its entry, which stays
 * harmless: the record is the org's, whoever carried it.
 */
#include "replica_int.h"

#include <stdlib.h>
#include <string.h>

#define GK_LOCAL 'K'
#define GK_KEY_LEN (1 + FM_SEAL_KEY_ID_LEN + FM_PK_LEN + 8)

int node_groupkey_note(struct store_txn *t, const struct fm_op *op, const struct log_payload *pl)
{
    uint8_t key[GK_KEY_LEN];
    key[0] = GK_LOCAL;
    memcpy(key + 1, pl->gk.key_id, FM_SEAL_KEY_ID_LEN);
    memcpy(key + 1 + FM_SEAL_KEY_ID_LEN, op->author, FM_PK_LEN);
    fm_be64_put(key + 1 + FM_SEAL_KEY_ID_LEN + FM_PK_LEN, op->seq);
    return store_put(t, DB_LOCAL, key, sizeof key, op->payload, op->payload_len, false);
}

static const struct fm_identity *gk_identity(const struct fm_node *n)
{
    if (n->has_identity)
        return &n->id;
    return n->keys.has_id ? &n->keys.id : NULL;
}

static const struct fm_seal_key *cache_get(const struct fm_node *n,
                                           const uint8_t key_id[FM_SEAL_KEY_ID_LEN])
{
    for (size_t i = 0; i < n->ngk; i++)
        if (memcmp(n->gk[i].key_id, key_id, FM_SEAL_KEY_ID_LEN) == 0)
            return &n->gk[i].k;
    return NULL;
}

/* Keeps k (taken over) in the cache, evicting the oldest when full. */
static const struct fm_seal_key *cache_put(struct fm_node *n,
                                           const uint8_t key_id[FM_SEAL_KEY_ID_LEN],
                                           struct fm_seal_key *k)
{
    if (n->ngk == NODE_GK_CACHE) {
        fm_seal_key_release(&n->gk[0].k);
        memmove(&n->gk[0], &n->gk[1], (NODE_GK_CACHE - 1) * sizeof n->gk[0]);
        n->ngk--;
    }
    struct node_gk *e = &n->gk[n->ngk++];
    memcpy(e->key_id, key_id, FM_SEAL_KEY_ID_LEN);
    e->k = *k;
    k->k = NULL;
    return &e->k;
}

void node_groupkey_release(struct fm_node *n)
{
    for (size_t i = 0; i < n->ngk; i++)
        fm_seal_key_release(&n->gk[i].k);
    n->ngk = 0;
}

/* Calls fn for every indexed record whose key starts with prefix; stops
 * at a nonzero return (FM_OK + 1 means "found, stop"). */
typedef int (*gk_each_fn)(struct fm_node *n, const struct fm_groupkey *gk, void *ctx);
static int gk_each(struct fm_node *n, struct store_txn *t, const uint8_t *prefix, size_t plen,
                   gk_each_fn fn, void *ctx)
{
    struct store_each e;
    struct fm_groupkey *gk = malloc(sizeof *gk);
    if (gk == NULL)
        return FM_ENOMEM;
    int rc = store_each_prefix(&e, t, DB_LOCAL, prefix, plen);
    while (rc == FM_OK && store_each_next(&e, &rc)) {
        if (e.kv.klen != GK_KEY_LEN || fm_groupkey_decode(gk, e.kv.val, e.kv.vlen) != FM_OK)
            continue; /* checked when stored; never trust disk bytes twice */
        rc = fn(n, gk, ctx);
    }
    store_each_end(&e);
    free(gk);
    return rc;
}

struct gk_find {
    const struct fm_seal_key *found;
};

static int find_one(struct fm_node *n, const struct fm_groupkey *gk, void *ctx)
{
    struct gk_find *f = ctx;
    struct fm_seal_key k = {NULL};
    const struct fm_identity *id = gk_identity(n);
    if (id == NULL || fm_groupkey_check(gk, n->cfg.org_pk) != FM_OK ||
        fm_groupkey_open(gk, id, &k) != FM_OK)
        return FM_OK; /* not ours: try the next record */
    f->found = cache_put(n, gk->key_id, &k);
    return 1;
}

static int groupkey_find(struct fm_node *n, struct store_txn *t,
                         const uint8_t key_id[FM_SEAL_KEY_ID_LEN], const struct fm_seal_key **out)
{
    uint8_t prefix[1 + FM_SEAL_KEY_ID_LEN] = {GK_LOCAL};
    struct gk_find f = {NULL};
    *out = cache_get(n, key_id);
    if (*out != NULL)
        return FM_OK;
    if (gk_identity(n) == NULL)
        return FM_ENOTFOUND;
    memcpy(prefix + 1, key_id, FM_SEAL_KEY_ID_LEN);
    int rc = gk_each(n, t, prefix, sizeof prefix, find_one, &f);
    if (rc < 0)
        return rc;
    *out = f.found;
    return f.found ? FM_OK : FM_ENOTFOUND;
}

struct gk_newest {
    uint32_t generation;
    uint8_t key_id[FM_SEAL_KEY_ID_LEN];
};

static int newest_one(struct fm_node *n, const struct fm_groupkey *gk, void *ctx)
{
    struct gk_newest *b = ctx;
    const struct fm_identity *id = gk_identity(n);
    if (id != NULL && gk->generation > b->generation && fm_groupkey_lists(gk, id->pk)) {
        b->generation = gk->generation;
        memcpy(b->key_id, gk->key_id, FM_SEAL_KEY_ID_LEN);
    }
    return FM_OK;
}

static int groupkey_current(struct fm_node *n, struct store_txn *t,
                            const struct fm_seal_key **out, uint32_t *generation)
{
    const uint8_t prefix = GK_LOCAL;
    struct gk_newest b = {0, {0}};
    *out = NULL;
    if (gk_identity(n) == NULL)
        return FM_ENOKEY;
    int rc = gk_each(n, t, &prefix, 1, newest_one, &b);
    if (rc != FM_OK)
        return rc;
    if (b.generation == 0)
        return FM_ENOKEY;
    rc = groupkey_find(n, t, b.key_id, out);
    if (generation)
        *generation = b.generation;
    return rc == FM_ENOTFOUND ? FM_ENOKEY : rc;
}

int node_groupkey_use(struct fm_node *n, struct store_txn *t,
                      const uint8_t key_id[FM_SEAL_KEY_ID_LEN], uint32_t *generation,
                      node_gk_fn fn, void *ctx)
{
    const struct fm_seal_key *k;
    pthread_mutex_lock(&n->gk_lock);
    int rc = key_id ? groupkey_find(n, t, key_id, &k) : groupkey_current(n, t, &k, generation);
    if (rc == FM_OK)
        rc = fn(k, ctx);
    pthread_mutex_unlock(&n->gk_lock);
    return rc;
}

static int key_id_of(const struct fm_seal_key *k, void *ctx)
{
    fm_seal_key_id(k, ctx);
    return FM_OK;
}

int fm_node_dispatch_key(struct fm_node *n, uint32_t *generation,
                         uint8_t key_id[FM_SEAL_KEY_ID_LEN])
{
    struct store_txn *t;
    uint8_t kid[FM_SEAL_KEY_ID_LEN];
    uint32_t gen = 0;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    rc = node_groupkey_use(n, t, NULL, &gen, key_id_of, kid);
    store_txn_abort(&t);
    if (rc == FM_OK) {
        if (generation)
            *generation = gen;
        if (key_id)
            memcpy(key_id, kid, sizeof kid);
    }
    return rc;
}

/* ---- publishing a record (trust publish) ---- */

struct gk_same {
    const struct fm_groupkey *want;
    bool found;
};

static int same_one(struct fm_node *n, const struct fm_groupkey *gk, void *ctx)
{
    struct gk_same *s = ctx;
    (void)n;
    if (gk->count == s->want->count && gk->generation == s->want->generation &&
        memcmp(gk->sig, s->want->sig, FM_SIG_LEN) == 0) {
        s->found = true;
        return 1;
    }
    return FM_OK;
}

int fm_node_publish_groupkey(struct fm_node *n, const struct fm_groupkey *gk)
{
    uint8_t prefix[1 + FM_SEAL_KEY_ID_LEN] = {GK_LOCAL};
    struct gk_same s = {gk, false};
    struct store_txn *t;
    int rc;
    if (!n->has_identity)
        return FM_EINVAL;
    if ((rc = fm_groupkey_check(gk, n->cfg.org_pk)) != FM_OK)
        return rc;
    memcpy(prefix + 1, gk->key_id, FM_SEAL_KEY_ID_LEN);
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    rc = gk_each(n, t, prefix, sizeof prefix, same_one, &s);
    store_txn_abort(&t);
    if (rc < 0)
        return rc;
    if (s.found)
        return FM_EEXISTS;
    struct log_payload *pl = node_payload_new(n);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->kind = OP_GROUP_KEY;
    pl->gk = *gk;
    rc = node_write_payload(n, pl, NULL);
    free(pl);
    return rc;
}
