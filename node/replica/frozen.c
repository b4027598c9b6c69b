/*
 * frozen.c — revocations, and the history a revocation freezes.
 *
 * A revocation (org-signed) names the revoked node's last valid seq L and,
 * since revocation version 2, the hash H of its op at L. Ops past L are
 * refused everywhere (as before). H settles what stays below L: the one
 * chain of ops ending in H. Nothing else the revoked key signs at a seq up
 * to L is accepted, however its stamp or hash compares, so a stolen key
 * cannot grind a fork that replaces what it wrote before it was revoked.
 * Stamps and hashes are chosen by the signer; only the org's word is not.
 *
 * A store learns the frozen chain from the top: the hash at L is H, and
 * every op found at its frozen hash names the one below it through its
 * prev. What a store learns that its own log cannot tell it (it holds
 * another branch, or nothing yet) is kept in DB_REVOCATIONS under the key
 * author | seq (40 bytes) next to the revocation itself (author, 32
 * bytes: u64 last_seq [| head]). Where a store's held log leaves the
 * frozen chain, the log is cut back to the last op still on it and the
 * entities rebuilt; sync then pulls the frozen ops (the probe walks down
 * to them because they do not chain onto the cut branch). So every store
 * ends up holding exactly the chain ending in H, whatever it held before
 * and in whatever order ops and the revocation arrived.
 *
 * Revocations without a head (version 1) keep their old meaning: a seq
 * limit, with forks below it settled as any other (docs/field-sync.md).
 */
#include "replica_int.h"

#include <string.h>

#define COMPONENT "trust"

static void frozen_key(const uint8_t author[FM_PK_LEN], uint64_t seq, uint8_t key[FM_PK_LEN + 8])
{
    node_op_key(author, seq, key); /* same layout: author | seq BE */
}

int node_revocation_get(struct store_txn *t, const uint8_t author[FM_PK_LEN], struct node_rev *r)
{
    const uint8_t *v;
    size_t vlen;
    memset(r, 0, sizeof *r);
    r->limit = UINT64_MAX;
    int rc = store_get(t, DB_REVOCATIONS, author, FM_PK_LEN, &v, &vlen);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    if (vlen != 8 && vlen != 8 + FM_HASH_LEN)
        return FM_ESTORE;
    r->limit = fm_be64_get(v);
    r->has_head = vlen == 8 + FM_HASH_LEN;
    if (r->has_head)
        memcpy(r->head, v + 8, FM_HASH_LEN);
    return FM_OK;
}

/* Forgets what was learned of an earlier frozen chain of this author. */
static int frozen_forget(struct store_txn *t, const uint8_t author[FM_PK_LEN])
{
    uint8_t key[FM_PK_LEN + 8];
    struct store_cur *c;
    struct store_kv kv;
    int rc = store_cur_open(t, DB_REVOCATIONS, &c);
    if (rc != FM_OK)
        return rc;
    frozen_key(author, 0, key);
    while ((rc = store_cur_seek(c, key, sizeof key, &kv)) == FM_OK &&
           kv.klen == sizeof key && store_kv_has_prefix(&kv, author, FM_PK_LEN))
        if ((rc = store_cur_del(c)) != FM_OK)
            break;
    store_cur_close(&c);
    return rc == FM_ENOTFOUND || rc == FM_OK ? FM_OK : rc;
}

/* Whether the revocation rev says more than the record cur: a lower
 * last_seq, or the same one with a head where cur has none or a larger. */
bool node_revocation_stricter(const struct fm_revocation *rev, const struct node_rev *cur)
{
    if (rev->last_seq != cur->limit)
        return rev->last_seq < cur->limit;
    if (!rev->has_head)
        return false;
    return !cur->has_head || memcmp(rev->head, cur->head, FM_HASH_LEN) < 0;
}

int node_revocation_note(struct store_txn *t, const struct fm_revocation *rev, bool *need_rebuild)
{
    struct node_rev cur;
    struct node_head h;
    uint8_t v[8 + FM_HASH_LEN];
    int rc = node_revocation_get(t, rev->node, &cur);
    if (rc != FM_OK || !node_revocation_stricter(rev, &cur))
        return rc;
    fm_be64_put(v, rev->last_seq);
    memcpy(v + 8, rev->head, FM_HASH_LEN);
    if ((rc = store_put(t, DB_REVOCATIONS, rev->node, FM_PK_LEN, v,
                        rev->has_head ? sizeof v : 8, false)) != FM_OK ||
        (rc = frozen_forget(t, rev->node)) != FM_OK ||
        (rc = node_head_get(t, rev->node, &h)) != FM_OK)
        return rc;
    if (h.seq > rev->last_seq) {
        *need_rebuild = true;
        if ((rc = node_truncate(t, rev->node, rev->last_seq, &h)) != FM_OK)
            return rc;
    }
    return frozen_repair(t, rev->node, need_rebuild);
}

int frozen_covers(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq, bool *covers)
{
    struct node_rev r;
    int rc = node_revocation_get(t, author, &r);
    *covers = rc == FM_OK && r.has_head && seq <= r.limit;
    return rc;
}

/* The hash of the author's held op at seq; *held false when none. */
static int held_hash(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                     uint8_t out[FM_HASH_LEN], bool *held)
{
    uint8_t key[FM_PK_LEN + 8];
    const uint8_t *v;
    size_t vlen;
    struct fm_op op;
    *held = false;
    node_op_key(author, seq, key);
    int rc = store_get(t, DB_OPS, key, sizeof key, &v, &vlen);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    if (fm_op_decode(&op, v, vlen) != FM_OK)
        return FM_ESTORE;
    fm_op_hash(&op, out);
    *held = true;
    return FM_OK;
}

int frozen_expected(struct store_txn *t, const uint8_t author[FM_PK_LEN],
                    const struct node_rev *r, uint64_t seq, uint8_t out[FM_HASH_LEN],
                    bool *known)
{
    uint8_t key[FM_PK_LEN + 8], top[FM_HASH_LEN];
    const uint8_t *v;
    size_t vlen;
    bool held;
    int rc;
    *known = false;
    if (!r->has_head || seq == 0 || seq > r->limit)
        return FM_OK;
    if (seq == r->limit) {
        memcpy(out, r->head, FM_HASH_LEN);
        *known = true;
        return FM_OK;
    }
    frozen_key(author, seq, key);
    rc = store_get(t, DB_REVOCATIONS, key, sizeof key, &v, &vlen);
    if (rc == FM_OK) {
        if (vlen != FM_HASH_LEN)
            return FM_ESTORE;
        memcpy(out, v, FM_HASH_LEN);
        *known = true;
        return FM_OK;
    }
    if (rc != FM_ENOTFOUND)
        return rc;
    /* a store holding the op at the head holds the whole frozen chain */
    if ((rc = held_hash(t, author, r->limit, top, &held)) != FM_OK || !held ||
        memcmp(top, r->head, FM_HASH_LEN) != 0)
        return rc;
    if ((rc = held_hash(t, author, seq, out, &held)) != FM_OK)
        return rc;
    *known = held;
    return FM_OK;
}

int frozen_learn(struct store_txn *t, const struct fm_op *op)
{
    struct node_rev r;
    uint8_t want[FM_HASH_LEN], hash[FM_HASH_LEN], key[FM_PK_LEN + 8];
    bool known;
    int rc = node_revocation_get(t, op->author, &r);
    if (rc != FM_OK || !r.has_head || op->seq <= 1 || op->seq > r.limit)
        return rc;
    if ((rc = frozen_expected(t, op->author, &r, op->seq, want, &known)) != FM_OK || !known)
        return rc;
    fm_op_hash(op, hash);
    if (memcmp(hash, want, FM_HASH_LEN) != 0)
        return FM_OK;
    frozen_key(op->author, op->seq - 1, key);
    return store_put(t, DB_REVOCATIONS, key, sizeof key, op->prev, FM_HASH_LEN, false);
}

int frozen_repair(struct store_txn *t, const uint8_t author[FM_PK_LEN], bool *need_rebuild)
{
    struct node_rev r;
    struct node_head h;
    int rc;
    if ((rc = node_revocation_get(t, author, &r)) != FM_OK || !r.has_head ||
        (rc = node_head_get(t, author, &h)) != FM_OK || h.seq == 0)
        return rc;
    /* Walk down from the top of what the store holds while the held op
     * is known to be off the frozen chain; keep the first one that is on
     * it (or that the store cannot judge yet). A held op on the chain
     * vouches for everything below it through the prev links. */
    uint64_t keep = h.seq < r.limit ? h.seq : r.limit;
    for (;;) {
        uint8_t want[FM_HASH_LEN], have[FM_HASH_LEN];
        bool known, held;
        if ((rc = frozen_expected(t, author, &r, keep, want, &known)) != FM_OK ||
            (rc = held_hash(t, author, keep, have, &held)) != FM_OK)
            return rc;
        if (!known || !held || memcmp(want, have, FM_HASH_LEN) == 0)
            break;
        if (--keep == 0)
            break;
    }
    if (keep >= h.seq)
        return FM_OK;
    char k[FM_KEY_TEXT_LEN];
    fm_key_encode(author, k);
    fm_log(FM_LOG_WARN, COMPONENT,
           "revoked author %.16s: our log left the history its revocation froze at seq %llu; "
           "cutting it back to seq %llu", k, (unsigned long long)(keep + 1),
           (unsigned long long)keep);
    *need_rebuild = true;
    return node_truncate(t, author, keep, &h);
}

int fm_node_op_hash(struct fm_node *n, const uint8_t author[FM_PK_LEN], uint64_t seq,
                    uint8_t out[FM_HASH_LEN])
{
    struct store_txn *t;
    bool held = false;
    int rc;
    if (n == NULL || author == NULL || out == NULL || seq == 0)
        return FM_EINVAL;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    rc = held_hash(t, author, seq, out, &held);
    store_txn_abort(&t);
    return rc == FM_OK && !held ? FM_ENOTFOUND : rc;
}
