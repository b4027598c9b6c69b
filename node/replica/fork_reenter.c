/*
 * fork_reenter.c — nothing the key holder wrote is lost to a fork.
 *
 * Settling a fork (fork.c) keeps one branch of an author's log and cuts
 * the other out of every store that held it. When the cut branch was
 * written by this node (a store restored from an old backup that signed
 * again), its content — an incident report, a note, a dispatch — would be
 * gone from every replica's state. So:
 *
 *  - Keeping: whenever settling cuts ops out of this store, each cut op is
 *    kept in DB_FORKS under author | seq | hash (a longer key than a fork
 *    record's author | seq, so it sorts just after it), state "pending".
 *    Every store keeps what it cut, of any author; only the key holder can
 *    do anything with it.
 *  - Re-entering: every local write (write_txn), once the fork guard lets
 *    this node sign, first signs each pending op of its own key again, in
 *    (seq, hash) order, as new ops at head+1, head+2, ... and marks the
 *    record done with the new seq in the same LMDB write transaction, so a
 *    restart, a rebuild or the evidence arriving again never re-enters an op
 *    twice, and the CLI and fieldmeshd (which calls it once a second) never
 *    both do. A reference from a cut op to another cut op of its own branch
 *    (a note on a report that was cut too) is moved to that op's new seq:
 *    the old (author, seq) names the kept op now. The branch is found by
 *    walking prev hashes through the kept records until the walk meets the
 *    kept log. References into the kept log and to other authors stay.
 *  - Not re-entered (skipped, with the reason kept and logged): certificate
 *    and renewal ops (the certificate in force applies), fork evidence
 *    (republished from the fork records), revocations (they outlive their
 *    carrier and are in force here already), ops the current certificate
 *    may not write, and ops referring to a cut op that was itself skipped
 *    or that this store never held. An expired or revoked identity stops
 *    the pass and leaves the rest pending.
 *
 * Only ops this store held are re-entered, never ops known only from a
 * peer's evidence: if two copies of one node run at once, each re-enters
 * only its own cut ops, so no content is entered twice (docs/field-sync.md).
 */
#include "replica_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOST_VERSION 1
#define LOST_KEY_LEN (FM_PK_LEN + 8 + FM_HASH_LEN)
#define COMPONENT "fork"

enum lost_reason {
    LR_NONE = 0,
    LR_CERT,
    LR_EVIDENCE,
    LR_REVOKE,
    LR_DENIED,
    LR_INVALID,
    LR_REF_SKIPPED,
    LR_REF_UNKNOWN,
    LR_HELD,
};

static const char *reason_text(uint8_t r)
{
    switch (r) {
    case LR_CERT: return "certificate op: the certificate in force applies";
    case LR_EVIDENCE: return "fork evidence: published again from the fork record";
    case LR_REVOKE: return "revocation: already in force (it outlives its carrier)";
    case LR_DENIED: return "the current certificate may not write it";
    case LR_INVALID: return "its payload is no longer valid";
    case LR_REF_SKIPPED: return "it refers to a lost op that was not re-entered";
    case LR_REF_UNKNOWN: return "it refers to a lost op this store never held";
    case LR_HELD: return "it is in the log again (a settling that cut it was undone)";
    default: return NULL;
    }
}

/* value: u8 version | u8 state | u8 reason | u64 new seq | u32 len | op */
struct lost_rec {
    uint8_t state, reason;
    uint64_t new_seq;
    const uint8_t *op;
    uint32_t len;
};

static int lost_decode(struct lost_rec *r, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    uint8_t ver;
    fm_cur_init(&c, p, n);
    if (fm_cur_u8(&c, &ver) || ver != LOST_VERSION || fm_cur_u8(&c, &r->state) ||
        r->state > FM_REENTRY_SKIPPED || fm_cur_u8(&c, &r->reason) ||
        fm_cur_u64(&c, &r->new_seq) || fm_cur_u32(&c, &r->len) ||
        fm_cur_bytes(&c, r->len, &r->op) || fm_cur_left(&c) != 0)
        return FM_ESTORE;
    return FM_OK;
}

static void lost_key(const uint8_t author[FM_PK_LEN], uint64_t seq,
                     const uint8_t hash[FM_HASH_LEN], uint8_t key[LOST_KEY_LEN])
{
    node_op_key(author, seq, key);
    memcpy(key + FM_PK_LEN + 8, hash, FM_HASH_LEN);
}

static int lost_put(struct store_txn *t, const uint8_t key[LOST_KEY_LEN], uint8_t state,
                    uint8_t reason, uint64_t new_seq, const uint8_t *op, size_t len,
                    bool no_overwrite)
{
    struct fm_buf b;
    int rc;
    fm_buf_init(&b, 16 + (size_t)FM_OP_MAX_LEN);
    if ((rc = fm_buf_put_u8(&b, LOST_VERSION)) == FM_OK &&
        (rc = fm_buf_put_u8(&b, state)) == FM_OK && (rc = fm_buf_put_u8(&b, reason)) == FM_OK &&
        (rc = fm_buf_put_u64(&b, new_seq)) == FM_OK &&
        (rc = fm_buf_put_u32(&b, (uint32_t)len)) == FM_OK &&
        (rc = fm_buf_append(&b, op, len)) == FM_OK)
        rc = store_put(t, DB_FORKS, key, LOST_KEY_LEN, b.data, b.len, no_overwrite);
    fm_buf_release(&b);
    return rc == FM_EEXISTS ? FM_OK : rc; /* kept already: its state stays */
}

bool fork_key_is_lost(size_t klen)
{
    return klen == LOST_KEY_LEN;
}

int fork_lost_keep(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t keep,
                   uint64_t head)
{
    for (uint64_t seq = keep + 1; seq <= head; seq++) {
        uint8_t okey[FM_PK_LEN + 8], key[LOST_KEY_LEN], hash[FM_HASH_LEN];
        const uint8_t *v;
        size_t vlen;
        struct fm_op op;
        uint8_t *copy;
        node_op_key(author, seq, okey);
        int rc = store_get(t, DB_OPS, okey, sizeof okey, &v, &vlen);
        if (rc == FM_ENOTFOUND)
            break;
        if (rc != FM_OK)
            return rc;
        if (fm_op_decode(&op, v, vlen) != FM_OK)
            return FM_ESTORE;
        fm_op_hash(&op, hash);
        lost_key(author, seq, hash, key);
        if ((copy = malloc(vlen)) == NULL) /* v is borrowed until our put */
            return FM_ENOMEM;
        memcpy(copy, v, vlen);
        rc = lost_put(t, key, FM_REENTRY_PENDING, LR_NONE, 0, copy, vlen, true);
        free(copy);
        if (rc != FM_OK)
            return rc;
    }
    return FM_OK;
}

/* ---- re-entering ---- */

/* Where a reference (me, ref_seq) made by the cut op `x` points: at the kept
 * log (*stay), or at a cut op of x's own branch (its record in *r). */
enum ref_where { REF_KEPT, REF_LOST, REF_UNKNOWN };

static int ref_locate(struct store_txn *t, const uint8_t me[FM_PK_LEN], const struct fm_op *x,
                      uint64_t ref_seq, enum ref_where *where, struct lost_rec *r)
{
    uint8_t want[FM_HASH_LEN];
    uint64_t seq = x->seq - 1;
    memcpy(want, x->prev, FM_HASH_LEN);
    for (;;) {
        uint8_t okey[FM_PK_LEN + 8], key[LOST_KEY_LEN];
        const uint8_t *v;
        size_t vlen;
        struct fm_op op;
        uint8_t h[FM_HASH_LEN];
        node_op_key(me, seq, okey);
        int rc = store_get(t, DB_OPS, okey, sizeof okey, &v, &vlen);
        if (rc == FM_OK) {
            if (fm_op_decode(&op, v, vlen) != FM_OK)
                return FM_ESTORE;
            fm_op_hash(&op, h);
            if (memcmp(h, want, FM_HASH_LEN) == 0) { /* the branch meets the kept log */
                *where = REF_KEPT;
                return FM_OK;
            }
        } else if (rc != FM_ENOTFOUND) {
            return rc;
        }
        lost_key(me, seq, want, key);
        rc = store_get(t, DB_FORKS, key, sizeof key, &v, &vlen);
        if (rc == FM_ENOTFOUND) {
            *where = REF_UNKNOWN;
            return FM_OK;
        }
        if (rc != FM_OK || (rc = lost_decode(r, v, vlen)) != FM_OK)
            return rc;
        if (seq == ref_seq) {
            *where = REF_LOST;
            return FM_OK;
        }
        if (fm_op_decode(&op, r->op, r->len) != FM_OK)
            return FM_ESTORE;
        memcpy(want, op.prev, FM_HASH_LEN);
        seq--;
    }
}

/* Moves x's references into its own cut branch to the re-entered copies;
 * *reason set (and nothing changed) when one cannot be moved. */
static int refs_remap(const struct fm_node *n, struct store_txn *t, const uint8_t me[FM_PK_LEN],
                      const struct fm_op *x, struct log_payload *pl, uint8_t *reason)
{
    const uint8_t *author[LOG_REFS_MAX];
    uint64_t *seq[LOG_REFS_MAX];
    size_t nrefs = n->dom->op_refs(pl, author, seq); /* the ops it names, in field order */
    for (size_t i = 0; i < nrefs && i < LOG_REFS_MAX; i++) {
        enum ref_where where;
        struct lost_rec r;
        if (memcmp(author[i], me, FM_PK_LEN) != 0 || *seq[i] == 0 || *seq[i] >= x->seq)
            continue;
        int rc = ref_locate(t, me, x, *seq[i], &where, &r);
        if (rc != FM_OK)
            return rc;
        if (where == REF_UNKNOWN) {
            *reason = LR_REF_UNKNOWN;
            return FM_OK;
        }
        if (where == REF_LOST && r.reason == LR_HELD)
            continue; /* back in the log at its own seq */
        if (where == REF_LOST) {
            if (r.state != FM_REENTRY_DONE) {
                *reason = LR_REF_SKIPPED;
                return FM_OK;
            }
            *seq[i] = r.new_seq;
        }
    }
    return FM_OK;
}

struct pending {
    uint8_t key[LOST_KEY_LEN];
    uint8_t *op;
    size_t len;
};

#define REENTER_BATCH 32

/* Up to REENTER_BATCH pending records of `me`, in key order, copied. */
static int pending_collect(struct store_txn *t, const uint8_t me[FM_PK_LEN], struct pending *out,
                           size_t *count)
{
    struct store_cur *c;
    struct store_kv kv;
    int rc = store_cur_open(t, DB_FORKS, &c);
    *count = 0;
    if (rc != FM_OK)
        return rc;
    for (rc = store_cur_seek(c, me, FM_PK_LEN, &kv);
         rc == FM_OK && store_kv_has_prefix(&kv, me, FM_PK_LEN) && *count < REENTER_BATCH;
         rc = store_cur_next(c, &kv)) {
        struct lost_rec r;
        if (kv.klen != LOST_KEY_LEN)
            continue;
        if ((rc = lost_decode(&r, kv.val, kv.vlen)) != FM_OK)
            break;
        if (r.state != FM_REENTRY_PENDING)
            continue;
        struct pending *p = &out[*count];
        if ((p->op = malloc(r.len ? r.len : 1)) == NULL) {
            rc = FM_ENOMEM;
            break;
        }
        memcpy(p->key, kv.key, LOST_KEY_LEN);
        memcpy(p->op, r.op, r.len);
        p->len = r.len;
        ++*count;
    }
    store_cur_close(&c);
    return rc == FM_ENOTFOUND || rc == FM_OK ? FM_OK : rc;
}

static uint8_t kind_reason(uint8_t kind)
{
    switch (kind) {
    case OP_CERT:
    case OP_CERT_RENEW: return LR_CERT;
    case OP_FORK_EVIDENCE: return LR_EVIDENCE;
    case OP_REVOKE: return LR_REVOKE;
    default: return LR_NONE;
    }
}

static void entry_fill(const struct fm_node *n, const uint8_t me[FM_PK_LEN],
                       const struct fm_op *op, const uint8_t hash[FM_HASH_LEN],
                       const struct lost_rec *r, struct fm_reentry *e)
{
    memset(e, 0, sizeof *e);
    e->lost_seq = op->seq;
    memcpy(e->lost_hash, hash, FM_HASH_LEN);
    e->kind = op->kind;
    e->kind_name = n->dom->kind_name(op->kind);
    e->lost_hlc = op->hlc;
    e->state = r->state;
    e->new_seq = r->new_seq;
    e->reason = reason_text(r->reason);
    fm_op_id_format(me, op->seq, e->old_id);
    if (r->state == FM_REENTRY_DONE)
        fm_op_id_format(me, r->new_seq, e->new_id);
}

/* One pending record: re-enter it or mark it skipped. *stop when the
 * identity cannot sign now (left pending). */
static int reenter_one(struct fm_node *n, struct store_txn *t, const struct pending *p,
                       fork_append_fn append, void *actx, struct log_payload *pl, bool *stop,
                       struct fork_reentry_list *out)
{
    const uint8_t *me = n->id.pk;
    struct fm_op op;
    uint8_t hash[FM_HASH_LEN];
    struct lost_rec r = {.state = FM_REENTRY_SKIPPED};
    int rc;
    if (fm_op_decode(&op, p->op, p->len) != FM_OK)
        return FM_ESTORE;
    fm_op_hash(&op, hash);
    r.reason = kind_reason(op.kind);
    if (r.reason == LR_NONE) {
        /* a store cut by a pair below a fork's root (before that settled
         * nothing) pulls the op back: signing it again would enter it twice */
        uint8_t okey[FM_PK_LEN + 8];
        const uint8_t *v;
        size_t vlen;
        node_op_key(me, op.seq, okey);
        rc = store_get(t, DB_OPS, okey, sizeof okey, &v, &vlen);
        if (rc == FM_OK && vlen == p->len && memcmp(v, p->op, vlen) == 0)
            r.reason = LR_HELD;
        else if (rc != FM_OK && rc != FM_ENOTFOUND)
            return rc;
    }
    if (r.reason == LR_NONE && n->dom->decode(pl, op.kind, op.payload, op.payload_len) != FM_OK)
        r.reason = LR_INVALID;
    if (r.reason == LR_NONE && (rc = refs_remap(n, t, me, &op, pl, &r.reason)) != FM_OK)
        return rc;
    if (r.reason == LR_NONE) {
        rc = append(actx, t, pl, &r.new_seq);
        if (rc == FM_EEXPIRED || rc == FM_EREVOKED) {
            *stop = true;
            return FM_OK;
        }
        if (rc == FM_EPERM || rc == FM_EUNIT)
            r.reason = LR_DENIED;
        else if (rc == FM_EINVAL || rc == FM_EDECODE || rc == FM_ECERT)
            r.reason = LR_INVALID;
        else if (rc != FM_OK)
            return rc;
        else
            r.state = FM_REENTRY_DONE;
    }
    if ((rc = lost_put(t, p->key, r.state, r.reason, r.new_seq, p->op, p->len, false)) != FM_OK)
        return rc;
    if (out->n < FORK_REENTRY_LOG_MAX)
        entry_fill(n, me, &op, hash, &r, &out->e[out->n]);
    out->n++;
    return FM_OK;
}

int fork_reenter_txn(struct fm_node *n, struct store_txn *t, fork_append_fn append, void *actx,
                     struct fork_reentry_list *out)
{
    struct pending *batch = calloc(REENTER_BATCH, sizeof *batch);
    struct log_payload *pl = node_payload_new(n);
    bool stop = false;
    int rc = (batch && pl) ? FM_OK : FM_ENOMEM;
    while (rc == FM_OK && !stop) {
        size_t count = 0;
        if ((rc = pending_collect(t, n->id.pk, batch, &count)) != FM_OK || count == 0)
            break;
        for (size_t i = 0; i < count && rc == FM_OK && !stop; i++)
            rc = reenter_one(n, t, &batch[i], append, actx, pl, &stop, out);
        for (size_t i = 0; i < count; i++)
            free(batch[i].op);
    }
    free(batch);
    free(pl);
    return rc;
}

void fork_reenter_log(const struct fork_reentry_list *l)
{
    for (size_t i = 0; i < l->n && i < FORK_REENTRY_LOG_MAX; i++) {
        const struct fm_reentry *e = &l->e[i];
        if (e->state == FM_REENTRY_DONE)
            fm_log(FM_LOG_WARN, COMPONENT,
                   "re-entered our op %s (%s, hash %02x%02x%02x%02x) that a fork settling "
                   "dropped, as %s", e->old_id, e->kind_name, e->lost_hash[0],
                   e->lost_hash[1], e->lost_hash[2], e->lost_hash[3], e->new_id);
        else
            fm_log(FM_LOG_WARN, COMPONENT,
                   "not re-entering our op %s (%s) that a fork settling dropped: %s", e->old_id,
                   e->kind_name, e->reason);
    }
    if (l->n > FORK_REENTRY_LOG_MAX)
        fm_log(FM_LOG_WARN, COMPONENT, "... and %zu more (fieldmesh status lists them all)",
               l->n - FORK_REENTRY_LOG_MAX);
}

/* ---- public ---- */

static int any_pending(struct fm_node *n, bool *found)
{
    struct store_txn *t;
    struct pending one[REENTER_BATCH];
    size_t count = 0;
    int rc = store_read_begin(n->st, &t);
    *found = false;
    if (rc != FM_OK)
        return rc;
    rc = pending_collect(t, n->id.pk, one, &count);
    for (size_t i = 0; i < count; i++)
        free(one[i].op);
    store_txn_abort(&t);
    *found = count > 0;
    return rc;
}

int fm_node_fork_reenter(struct fm_node *n, size_t *count)
{
    struct fm_self_state st;
    bool found;
    int rc;
    *count = 0;
    if (n == NULL || !n->has_identity)
        return FM_OK;
    if ((rc = fm_node_self_state(n, &st)) != FM_OK || !st.may_sign || st.head == 0)
        return rc;
    if ((rc = any_pending(n, &found)) != FM_OK || !found)
        return rc;
    return node_write_reenter(n, count);
}

int fm_node_fork_reentries(struct fm_node *n, fm_reentry_cb cb, void *ctx)
{
    struct store_txn *t;
    struct store_cur *c;
    struct store_kv kv;
    int rc;
    if (n == NULL || !n->has_identity)
        return FM_OK;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    if ((rc = store_cur_open(t, DB_FORKS, &c)) == FM_OK) {
        for (rc = store_cur_seek(c, n->id.pk, FM_PK_LEN, &kv);
             rc == FM_OK && store_kv_has_prefix(&kv, n->id.pk, FM_PK_LEN);
             rc = store_cur_next(c, &kv)) {
            struct lost_rec r;
            struct fm_op op;
            struct fm_reentry e;
            if (kv.klen != LOST_KEY_LEN)
                continue;
            if (lost_decode(&r, kv.val, kv.vlen) != FM_OK ||
                fm_op_decode(&op, r.op, r.len) != FM_OK) {
                rc = FM_ESTORE;
                break;
            }
            entry_fill(n, n->id.pk, &op, kv.key + FM_PK_LEN + 8, &r, &e);
            if ((rc = cb(ctx, &e)) != 0)
                break;
        }
        store_cur_close(&c);
    }
    store_txn_abort(&t);
    return rc == FM_ENOTFOUND || (rc == FM_OK) ? FM_OK : rc;
}
