/*
 * fork.c — fork safety: two different signed ops with one author and seq.
 *
 * An author's log must be one chain. It forks when the same key signs two
 * different ops at one seq: a laptop restored from an old backup that
 * writes again, a store lost while the key survived, or a stolen key. The
 * two ops are proof by themselves (both carry the author's signature), so:
 *
 *  - Detection: ingest meets an op whose seq we hold with other bytes, or
 *    two different ops with one seq in one batch (sync also probes when a
 *    peer's op does not chain onto our head, so the differing op arrives).
 *  - Evidence: the pair is kept in DB_FORKS and published as a
 *    fork.evidence op (kind 3: u32 len | op | u32 len | op, in ascending
 *    hash order, both signatures verified at decode), which gossips.
 *  - Settling, at the fork's root, the same everywhere: of the ops seen
 *    at that seq with the root's prev, the one with the smaller (hlc,
 *    hash) is kept — normally the older branch, so a restored node gets
 *    its original log back — and any other with that prev is refused from
 *    then on. A node that stored the losing op truncates the author's log
 *    before that seq and rebuilds its entities, then sync pulls the kept
 *    branch. The record outlives the op that carried it (like a
 *    revocation), so the result does not depend on arrival order.
 *  - A pair with different prevs follows from a fork lower down (say a
 *    re-entered op against the cut op at its seq): it is kept as evidence
 *    and settles nothing; the chain rule decides (sync probes lower until
 *    it meets the root, docs/field-sync.md §5).
 *  - Prevention: a node does not sign while it is behind its own log:
 *    peers were seen holding more of it (sync reports it, meta
 *    "self_known"), a fork at a seq beyond our head was settled against us,
 *    or its key was used before (<key>.used) but the store holds none of
 *    its log (a lost store). fieldmeshd then recovers the log from peers.
 *  - Nothing lost: the ops a settling cuts out of a store are kept aside
 *    (DB_FORKS, key author | seq | hash), and the key holder signs its own
 *    again once it may sign (fork_reenter.c).
 */
#include "backup_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FORK_VERSION 1
#define FORK_PUBLISHED 0x01
#define COMPONENT "fork"

/* ---- the evidence payload ---- */

int fork_evidence_decode(struct log_payload *out, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    struct fm_op op[2];
    uint8_t h[2][FM_HASH_LEN];
    fm_cur_init(&c, p, n);
    for (int i = 0; i < 2; i++) {
        uint32_t len;
        const uint8_t *b;
        if (fm_cur_u32(&c, &len) != FM_OK || len > FM_OP_MAX_LEN ||
            fm_cur_bytes(&c, len, &b) != FM_OK || fm_op_decode(&op[i], b, len) != FM_OK)
            return FM_EDECODE;
        out->fork_op[i] = b;
        out->fork_len[i] = len;
        fm_op_hash(&op[i], h[i]);
    }
    if (fm_cur_left(&c) != 0 || memcmp(op[0].author, op[1].author, FM_PK_LEN) != 0 ||
        op[0].seq != op[1].seq || memcmp(h[0], h[1], FM_HASH_LEN) >= 0)
        return FM_EDECODE; /* one author, one seq, two ops in hash order */
    if (!fm_op_verify(&op[0]) || !fm_op_verify(&op[1]))
        return FM_EDECODE;
    return FM_OK;
}

int fork_evidence_encode(const struct log_payload *p, struct fm_buf *out)
{
    for (int i = 0; i < 2; i++) {
        int rc;
        if (!p->fork_op[i])
            return FM_EINVAL;
        if ((rc = fm_buf_put_u32(out, p->fork_len[i])) != FM_OK ||
            (rc = fm_buf_append(out, p->fork_op[i], p->fork_len[i])) != FM_OK)
            return rc;
    }
    return FM_OK;
}

void fork_evidence_summary(const struct log_payload *p, char *out, size_t cap)
{
    struct fm_op op;
    char key[FM_KEY_TEXT_LEN];
    if (fm_op_decode(&op, p->fork_op[0], p->fork_len[0]) != FM_OK) {
        snprintf(out, cap, "fork evidence");
        return;
    }
    fm_key_encode(op.author, key);
    snprintf(out, cap, "fork evidence: %s signed two ops at seq %llu", key,
             (unsigned long long)op.seq);
}

/* ---- records ---- */

struct fork_rec {
    uint8_t flags;
    uint8_t winner[FM_HASH_LEN];
    const uint8_t *op[2]; /* [0] = the kept op, [1] = a dropped one */
    uint32_t len[2];
};

static int rec_decode(struct fork_rec *r, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    uint8_t ver;
    fm_cur_init(&c, p, n);
    if (fm_cur_u8(&c, &ver) || ver != FORK_VERSION || fm_cur_u8(&c, &r->flags) ||
        fm_cur_copy(&c, r->winner, FM_HASH_LEN))
        return FM_ESTORE;
    for (int i = 0; i < 2; i++)
        if (fm_cur_u32(&c, &r->len[i]) || fm_cur_bytes(&c, r->len[i], &r->op[i]))
            return FM_ESTORE;
    return fm_cur_left(&c) == 0 ? FM_OK : FM_ESTORE;
}

static void fork_key(const uint8_t author[FM_PK_LEN], uint64_t seq, uint8_t key[FM_PK_LEN + 8])
{
    node_op_key(author, seq, key);
}

/* (hlc, hash) order: true if a should be kept over b. */
static bool op_wins(const struct fm_op *a, const uint8_t ha[FM_HASH_LEN], const struct fm_op *b,
                    const uint8_t hb[FM_HASH_LEN])
{
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc;
    return memcmp(ha, hb, FM_HASH_LEN) < 0;
}

/* Deletes the author's ops after `keep` and moves its head back (the same
 * cut as a revocation's, node_truncate), keeping the cut ops aside so
 * their author can re-enter them (fork_reenter.c). */
static int fork_truncate(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t keep)
{
    struct node_head h;
    int rc = node_head_get(t, author, &h);
    if (rc != FM_OK || h.seq <= keep)
        return rc;
    if ((rc = fork_lost_keep(t, author, keep, h.seq)) != FM_OK)
        return rc;
    return node_truncate(t, author, keep, &h);
}

/* Whether a record settles its seq: its two ops share their prev (the
 * fork's root). A pair with different prevs is a consequence of a fork
 * lower down; it is kept as evidence but keeps no op out. Read from the
 * ops themselves, so records written before this rule obey it too. */
static int rec_root(const struct fork_rec *r, bool *root, uint8_t prev[FM_HASH_LEN])
{
    struct fm_op a, b;
    if (fm_op_decode(&a, r->op[0], r->len[0]) != FM_OK ||
        fm_op_decode(&b, r->op[1], r->len[1]) != FM_OK)
        return FM_ESTORE;
    *root = memcmp(a.prev, b.prev, FM_HASH_LEN) == 0;
    memcpy(prev, a.prev, FM_HASH_LEN);
    return FM_OK;
}

/* The op this store holds at (author, seq) and its hash: *held false when
 * there is none. op borrows the store's bytes until the next write. */
static int held_op(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                   bool *held, struct fm_op *op, uint8_t hash[FM_HASH_LEN])
{
    uint8_t key[FM_PK_LEN + 8];
    const uint8_t *v;
    size_t vlen;
    *held = false;
    node_op_key(author, seq, key);
    int rc = store_get(t, DB_OPS, key, sizeof key, &v, &vlen);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    if (fm_op_decode(op, v, vlen) != FM_OK)
        return FM_ESTORE;
    fm_op_hash(op, hash);
    *held = true;
    return FM_OK;
}

/* Whether the op this store holds at (author, seq) has this hash. */
static int held_is(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                   const uint8_t hash[FM_HASH_LEN], bool *is)
{
    uint8_t h[FM_HASH_LEN];
    struct fm_op op;
    bool held;
    int rc = held_op(t, author, seq, &held, &op, h);
    *is = rc == FM_OK && held && memcmp(h, hash, FM_HASH_LEN) == 0;
    return rc;
}

static int rec_put(struct store_txn *t, const uint8_t key[FM_PK_LEN + 8], uint8_t flags,
                   const uint8_t win_hash[FM_HASH_LEN], const uint8_t *win, size_t win_len,
                   const uint8_t *lose, size_t lose_len)
{
    struct fm_buf b;
    int rc;
    fm_buf_init(&b, 2 + FM_HASH_LEN + 8 + 2 * (size_t)FM_OP_MAX_LEN);
    if ((rc = fm_buf_put_u8(&b, FORK_VERSION)) == FM_OK &&
        (rc = fm_buf_put_u8(&b, flags)) == FM_OK &&
        (rc = fm_buf_append(&b, win_hash, FM_HASH_LEN)) == FM_OK &&
        (rc = fm_buf_put_u32(&b, (uint32_t)win_len)) == FM_OK &&
        (rc = fm_buf_append(&b, win, win_len)) == FM_OK &&
        (rc = fm_buf_put_u32(&b, (uint32_t)lose_len)) == FM_OK &&
        (rc = fm_buf_append(&b, lose, lose_len)) == FM_OK)
        rc = store_put(t, DB_FORKS, key, FM_PK_LEN + 8, b.data, b.len, false);
    fm_buf_release(&b);
    return rc;
}

/* Evidence for a seq whose record it does not change: the record need
 * not be published again (its value v is copied: the put invalidates it). */
static int rec_mark_published(struct store_txn *t, const uint8_t key[FM_PK_LEN + 8],
                              const uint8_t *v, size_t vlen, const struct fork_rec *r)
{
    if (r->flags & FORK_PUBLISHED)
        return FM_OK;
    uint8_t *copy = malloc(vlen);
    if (!copy)
        return FM_ENOMEM;
    memcpy(copy, v, vlen);
    copy[1] |= FORK_PUBLISHED; /* u8 version | u8 flags | ... */
    int rc = store_put(t, DB_FORKS, key, FM_PK_LEN + 8, copy, vlen, false);
    free(copy);
    return rc;
}

/* The root pair's winner is settled: if the op this store holds at that
 * seq competes with it (same prev) and lost, it goes with everything
 * after it. */
static int settle_held(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                       const uint8_t prev[FM_HASH_LEN], const uint8_t win[FM_HASH_LEN],
                       bool *need_rebuild)
{
    uint8_t sh[FM_HASH_LEN];
    struct fm_op st;
    bool held;
    int rc = held_op(t, author, seq, &held, &st, sh);
    if (rc != FM_OK || !held || memcmp(st.prev, prev, FM_HASH_LEN) != 0 ||
        memcmp(sh, win, FM_HASH_LEN) == 0)
        return rc;
    char k[FM_KEY_TEXT_LEN];
    fm_key_encode(author, k);
    fm_log(FM_LOG_WARN, COMPONENT,
           "author %.16s signed two ops at seq %llu: keeping the earlier, "
           "dropping our branch from there on", k, (unsigned long long)seq);
    *need_rebuild = true;
    return fork_truncate(t, author, seq - 1);
}

/* fork_note's candidates: the two ops it was given and, when a record of
 * a root pair at their seq exists, the op that record kept (op[2]). */
struct fork_cands {
    struct fm_op op[3];
    uint8_t h[3][FM_HASH_LEN];
    const uint8_t *raw[3];
    size_t len[3];
    size_t n;
    uint8_t flags; /* for the record written */
    uint8_t *copy; /* owns raw[2] */
};

/* Decodes and hashes the two ops: FM_EINVAL unless one author signed two
 * different ops at one seq (the signatures are checked by the caller). */
static int cands_decode(struct fork_cands *fc, const uint8_t *x, size_t xlen, const uint8_t *y,
                        size_t ylen)
{
    fc->raw[0] = x, fc->len[0] = xlen;
    fc->raw[1] = y, fc->len[1] = ylen;
    fc->n = 2;
    for (size_t i = 0; i < 2; i++) {
        if (fm_op_decode(&fc->op[i], fc->raw[i], fc->len[i]) != FM_OK)
            return FM_EINVAL;
        fm_op_hash(&fc->op[i], fc->h[i]);
    }
    if (memcmp(fc->op[0].author, fc->op[1].author, FM_PK_LEN) != 0 ||
        fc->op[0].seq != fc->op[1].seq || memcmp(fc->h[0], fc->h[1], FM_HASH_LEN) == 0)
        return FM_EINVAL;
    return FM_OK;
}

/* The record already at key, if any, against the new pair: a pair below a
 * root, or a root on a branch this store does not hold, changes nothing
 * (*done); a root pair's kept op joins the candidates. */
static int fork_against_record(struct store_txn *t, const uint8_t key[FM_PK_LEN + 8], bool root,
                               bool from_evidence, struct fork_cands *fc, bool *done)
{
    const uint8_t *v;
    size_t vlen;
    struct fork_rec r;
    bool rroot;
    uint8_t rprev[FM_HASH_LEN];
    int rc;
    *done = false;
    rc = store_get(t, DB_FORKS, key, FM_PK_LEN + 8, &v, &vlen);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    if (rec_decode(&r, v, vlen) != FM_OK || rec_root(&r, &rroot, rprev) != FM_OK)
        return FM_ESTORE;
    if (!root) { /* below a root: the record there says as much */
        *done = true;
        return from_evidence ? rec_mark_published(t, key, v, vlen, &r) : FM_OK;
    }
    if (rroot && memcmp(rprev, fc->op[0].prev, FM_HASH_LEN) != 0) {
        /* two roots at one seq, on two branches of a lower fork: the
         * one on this store's log counts (the other branch is cut
         * once the lower root is settled) */
        bool live = false;
        uint64_t seq = fc->op[0].seq;
        if (seq > 1 && (rc = held_is(t, fc->op[0].author, seq - 1, fc->op[0].prev, &live)) != FM_OK)
            return rc;
        if (!live) {
            *done = true;
            return from_evidence ? rec_mark_published(t, key, v, vlen, &r) : FM_OK;
        }
    } else if (rroot) {
        /* the value is invalidated by our put below: copy the kept op */
        fc->copy = malloc(r.len[0] ? r.len[0] : 1);
        if (!fc->copy)
            return FM_ENOMEM;
        memcpy(fc->copy, r.op[0], r.len[0]);
        fc->raw[2] = fc->copy;
        fc->len[2] = r.len[0];
        fc->flags |= r.flags;
        if (fm_op_decode(&fc->op[2], fc->raw[2], fc->len[2]) != FM_OK)
            return FM_ESTORE;
        fm_op_hash(&fc->op[2], fc->h[2]);
        fc->n = 3;
    }
    /* else a record of a pair below a root gives way to the root */
    return FM_OK;
}

/* Writes the record (winner among the candidates, and the new pair's
 * loser); at a root, drops this store's branch if it lost. */
static int fork_settle(struct store_txn *t, const uint8_t key[FM_PK_LEN + 8], bool root,
                       const struct fork_cands *fc, bool *need_rebuild)
{
    size_t win = 0, lose = 1;
    int rc;
    for (size_t i = 1; i < fc->n; i++)
        if (op_wins(&fc->op[i], fc->h[i], &fc->op[win], fc->h[win]))
            win = i;
    for (size_t i = 0; i < 2; i++)
        if (memcmp(fc->h[i], fc->h[win], FM_HASH_LEN) != 0)
            lose = i;
    rc = rec_put(t, key, fc->flags, fc->h[win], fc->raw[win], fc->len[win], fc->raw[lose],
                 fc->len[lose]);
    if (rc == FM_OK && root)
        rc = settle_held(t, fc->op[0].author, fc->op[0].seq, fc->op[0].prev, fc->h[win],
                         need_rebuild);
    return rc;
}

int fork_note(struct store_txn *t, const uint8_t *x, size_t xlen, const uint8_t *y, size_t ylen,
              bool from_evidence, bool *need_rebuild)
{
    struct fork_cands fc = {0};
    uint8_t key[FM_PK_LEN + 8];
    bool root, frozen, done;
    int rc;

    if ((rc = cands_decode(&fc, x, xlen, y, ylen)) != FM_OK)
        return rc;
    /* evidence only if the author really signed both */
    if (!fm_op_verify(&fc.op[0]) || !fm_op_verify(&fc.op[1]))
        return FM_OK;
    fc.flags = from_evidence ? FORK_PUBLISHED : 0;
    root = memcmp(fc.op[0].prev, fc.op[1].prev, FM_HASH_LEN) == 0;
    /* below a revocation that names its head, the org has settled it
     * (frozen.c): no stamp or hash decides there */
    if ((rc = frozen_covers(t, fc.op[0].author, fc.op[0].seq, &frozen)) != FM_OK || frozen)
        return rc;
    fork_key(fc.op[0].author, fc.op[0].seq, key);
    if ((rc = fork_against_record(t, key, root, from_evidence, &fc, &done)) == FM_OK && !done)
        rc = fork_settle(t, key, root, &fc, need_rebuild);
    free(fc.copy);
    return rc;
}

int fork_allowed(struct store_txn *t, const struct fm_op *op, const uint8_t hash[FM_HASH_LEN],
                 bool *ok)
{
    uint8_t key[FM_PK_LEN + 8], prev[FM_HASH_LEN];
    const uint8_t *v;
    size_t vlen;
    struct fork_rec r;
    bool root;
    bool frozen;
    fork_key(op->author, op->seq, key);
    *ok = true;
    int rc = frozen_covers(t, op->author, op->seq, &frozen);
    if (rc != FM_OK || frozen)
        return rc; /* the frozen history decides (frozen.c) */
    rc = store_get(t, DB_FORKS, key, sizeof key, &v, &vlen);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    if (rec_decode(&r, v, vlen) != FM_OK || rec_root(&r, &root, prev) != FM_OK)
        return FM_ESTORE;
    /* only a root keeps ops out, and only those competing with its winner
     * (the same prev); anything else the chain rules decide */
    if (root && memcmp(op->prev, prev, FM_HASH_LEN) == 0)
        *ok = memcmp(r.winner, hash, FM_HASH_LEN) == 0;
    return FM_OK;
}

/* ---- prevention ---- */

static void used_path(const struct fm_node *n, char *out, size_t cap)
{
    snprintf(out, cap, "%s.used", n->cfg.key_path);
}

static bool key_used(const struct fm_node *n)
{
    char p[FM_PATH_MAX + 8];
    used_path(n, p, sizeof p);
    return access(p, F_OK) == 0;
}

void fork_mark_used(struct fm_node *n)
{
    char p[FM_PATH_MAX + 8];
    if (!n->has_identity || key_used(n))
        return;
    used_path(n, p, sizeof p);
    static const char text[] = "this key has signed ops; a store without its log must "
                               "recover it from peers before signing again\n";
    if (fm_file_write(p, text, sizeof text - 1, 0600, false) != FM_OK)
        fm_log(FM_LOG_WARN, COMPONENT, "cannot write %s: %s", p, strerror(errno));
}

/* Highest seq of a settled fork of author beyond `after`, 0 if none. */
static int fork_bar_beyond(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t after,
                           uint64_t *seq)
{
    uint8_t key[FM_PK_LEN + 8];
    struct store_cur *c;
    struct store_kv kv;
    int rc = store_cur_open(t, DB_FORKS, &c);
    *seq = 0;
    if (rc != FM_OK)
        return rc;
    node_op_key(author, after + 1, key);
    for (rc = store_cur_seek(c, key, sizeof key, &kv);
         rc == FM_OK && store_kv_has_prefix(&kv, author, FM_PK_LEN); rc = store_cur_next(c, &kv))
        if (kv.klen == sizeof key) { /* a fork record, not a dropped op kept aside */
            *seq = fm_be64_get(kv.key + FM_PK_LEN);
            break;
        }
    store_cur_close(&c);
    return rc == FM_ENOTFOUND ? FM_OK : rc;
}

static int self_state_txn(struct fm_node *n, struct store_txn *t, const struct node_head *h,
                          struct fm_self_state *st)
{
    uint64_t bar = 0;
    int rc = node_meta_get_u64(t, "self_known", &st->peers_hold);
    if (rc == FM_OK)
        rc = fork_bar_beyond(t, n->id.pk, h->seq, &bar);
    if (rc != FM_OK)
        return rc;
    st->head = h->seq;
    st->key_used = key_used(n);
    st->restored = restored_get(&n->cfg, &st->restored_head);
    st->may_sign = st->peers_hold <= h->seq && bar == 0 && !(h->seq == 0 && st->key_used) &&
                   !st->restored;
    return FM_OK;
}

int fork_guard(struct fm_node *n, struct store_txn *t, const struct node_head *h)
{
    static struct fm_log_limiter lim;
    struct fm_self_state st;
    int rc = self_state_txn(n, t, h, &st);
    if (rc != FM_OK || st.may_sign)
        return rc;
    if (st.restored && st.peers_hold <= h->seq) {
        fm_log_limited(&lim, 3, FM_LOG_ERROR, COMPONENT,
                       "refusing to sign: this store was restored from a backup (own log up to "
                       "seq %llu) and no peer has yet confirmed that this node wrote nothing "
                       "newer; start fieldmeshd and let it reach a peer (it pulls any newer "
                       "ops of this node, then signs again), or, if no peer ever received "
                       "anything newer from this node, run: fieldmesh -c %s restore --confirmed",
                       (unsigned long long)h->seq, n->cfg.path[0] ? n->cfg.path : "CONF");
        return FM_EFORK;
    }
    if (st.peers_hold > h->seq)
        fm_log_limited(&lim, 3, FM_LOG_ERROR, COMPONENT,
                       "refusing to sign: peers hold this node's own log up to seq %llu but "
                       "this store only up to %llu (restored or lost store?); let fieldmeshd "
                       "recover it from peers first, or take a new identity",
                       (unsigned long long)st.peers_hold, (unsigned long long)h->seq);
    else if (h->seq == 0)
        fm_log_limited(&lim, 3, FM_LOG_ERROR, COMPONENT,
                       "refusing to sign: this key has signed ops before (%s.used) but this "
                       "store holds none of them; run fieldmeshd until it has recovered this "
                       "node's log from peers, or take a new identity (keygen + enroll); if "
                       "no peer ever received its ops, remove %s.used",
                       n->cfg.key_path, n->cfg.key_path);
    else
        fm_log_limited(&lim, 3, FM_LOG_ERROR, COMPONENT,
                       "refusing to sign: a fork of this node's own log was settled against "
                       "this store; let fieldmeshd recover the kept branch from peers first");
    /* the way out when recovery cannot happen (no reachable peer holds
     * the kept ops): a new identity; the old log stays valid as it is */
    fm_log_limited(&lim, 3, FM_LOG_ERROR, COMPONENT,
                   "if no reachable peer holds this node's log, retire this identity and enrol a "
                   "new one: mv %s %s.retired && fieldmesh -c %s keygen; the admin then runs "
                   "fieldmesh org enroll --org DIR --key NEWKEY --name NAME --role ROLE "
                   "[--unit UNIT] --out %s; `fieldmesh status` shows this state",
                   n->cfg.key_path, n->cfg.key_path, n->cfg.path[0] ? n->cfg.path : "CONF",
                   n->cfg.cert_path);
    return FM_EFORK;
}

int fm_node_self_state(struct fm_node *n, struct fm_self_state *out)
{
    struct store_txn *t;
    struct node_head h;
    int rc;
    memset(out, 0, sizeof *out);
    if (!n->has_identity)
        return FM_EPERM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    if ((rc = node_head_get(t, n->id.pk, &h)) == FM_OK)
        rc = self_state_txn(n, t, &h, out);
    store_txn_abort(&t);
    return rc;
}

static int own_claim_txn(struct store_txn *t, void *ctx)
{
    return node_meta_put_u64(t, "self_known", *(const uint64_t *)ctx);
}

int fm_node_own_claim(struct fm_node *n, uint64_t seq)
{
    return store_write(n->st, own_claim_txn, &seq);
}

int fm_node_ensure_cert(struct fm_node *n)
{
    struct fm_self_state st;
    int rc = fm_node_self_state(n, &st);
    if (rc != FM_OK || st.head > 0)
        return rc;
    if (!st.may_sign)
        return FM_EFORK;
    return node_write_batch(n, NULL, 0, NULL); /* appends the certificate op alone */
}

/* ---- listing and publishing ---- */

static int rec_to_info(const struct store_kv *kv, struct fm_fork_info *fi, struct fork_rec *r)
{
    struct fm_op a, b;
    memset(fi, 0, sizeof *fi);
    if (kv->klen != FM_PK_LEN + 8 || rec_decode(r, kv->val, kv->vlen) != FM_OK ||
        fm_op_decode(&a, r->op[0], r->len[0]) != FM_OK ||
        fm_op_decode(&b, r->op[1], r->len[1]) != FM_OK)
        return FM_ESTORE;
    memcpy(fi->author, kv->key, FM_PK_LEN);
    fi->seq = fm_be64_get(kv->key + FM_PK_LEN);
    fm_op_hash(&a, fi->kept);
    fm_op_hash(&b, fi->dropped);
    fi->kept_hlc = a.hlc;
    fi->dropped_hlc = b.hlc;
    fi->dropped_kind = b.kind;
    fi->published = r->flags & FORK_PUBLISHED;
    fi->root = memcmp(a.prev, b.prev, FM_HASH_LEN) == 0;
    return FM_OK;
}

int fm_node_forks(struct fm_node *n, fm_fork_cb cb, void *ctx)
{
    struct store_txn *t;
    struct store_cur *c;
    struct store_kv kv;
    int rc;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    if ((rc = store_cur_open(t, DB_FORKS, &c)) == FM_OK) {
        for (rc = store_cur_first(c, &kv); rc == FM_OK; rc = store_cur_next(c, &kv)) {
            struct fm_fork_info fi;
            struct fork_rec r;
            if (fork_key_is_lost(kv.klen))
                continue;
            if ((rc = rec_to_info(&kv, &fi, &r)) != FM_OK || (rc = cb(ctx, &fi)) != 0)
                break;
        }
        store_cur_close(&c);
    }
    store_txn_abort(&t);
    return rc == FM_ENOTFOUND ? FM_OK : rc;
}

/* The first unpublished record, copied out (ops malloc'd in *buf). */
static int next_unpublished(struct fm_node *n, struct log_payload *pl, uint8_t **buf, bool *found)
{
    struct store_txn *t;
    struct store_cur *c;
    struct store_kv kv;
    int rc;
    *found = false;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    if ((rc = store_cur_open(t, DB_FORKS, &c)) == FM_OK) {
        for (rc = store_cur_first(c, &kv); rc == FM_OK; rc = store_cur_next(c, &kv)) {
            struct fork_rec r;
            struct fm_fork_info fi;
            if (fork_key_is_lost(kv.klen))
                continue;
            if ((rc = rec_to_info(&kv, &fi, &r)) != FM_OK)
                break;
            if (fi.published)
                continue;
            *buf = malloc((size_t)r.len[0] + r.len[1]);
            if (!*buf) {
                rc = FM_ENOMEM;
                break;
            }
            /* evidence lists the two ops in hash order */
            int first = memcmp(fi.kept, fi.dropped, FM_HASH_LEN) < 0 ? 0 : 1;
            memcpy(*buf, r.op[first], r.len[first]);
            memcpy(*buf + r.len[first], r.op[1 - first], r.len[1 - first]);
            memset(pl, 0, n->dom->payload_size);
            pl->kind = OP_FORK_EVIDENCE;
            pl->fork_op[0] = *buf;
            pl->fork_len[0] = r.len[first];
            pl->fork_op[1] = *buf + r.len[first];
            pl->fork_len[1] = r.len[1 - first];
            *found = true;
            break;
        }
        store_cur_close(&c);
    }
    store_txn_abort(&t);
    return rc == FM_ENOTFOUND ? FM_OK : rc;
}

int fm_node_fork_publish(struct fm_node *n, size_t *count)
{
    struct fm_self_state st;
    int rc;
    *count = 0;
    if (!n->has_identity)
        return FM_OK;
    if ((rc = fm_node_self_state(n, &st)) != FM_OK || !st.may_sign)
        return rc;
    for (int k = 0; k < 16; k++) {
        struct log_payload *pl = node_payload_new(n);
        uint8_t *buf = NULL;
        bool found = false;
        if (!pl)
            return FM_ENOMEM;
        rc = next_unpublished(n, pl, &buf, &found);
        if (rc == FM_OK && found)
            rc = node_write_payload(n, pl, NULL); /* marks it published (fork_note) */
        free(buf);
        free(pl);
        if (rc != FM_OK || !found)
            return rc;
        ++*count;
    }
    return FM_OK;
}
