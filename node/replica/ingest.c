/*
 * ingest.c — taking in ops from elsewhere (gossip, bundles): the checks
 * that decide what is stored, and revocations.
 *
 * Ops are decoded, hashed and sorted by (author, seq) before any
 * transaction starts. Then, in one write transaction, each author's ops
 * are walked in seq order against the stored head: seqs already held are
 * duplicates (or forks when the bytes differ), seqs past the author's
 * revocation limit are refused, and the rest must form one contiguous run
 * on top of the head — each prev link and the strictly increasing hlc
 * checked, each payload decoded and its content checked (certificate at
 * seq 1, validity window, revocation signatures). The first failure ends
 * the run. Only then is the signature of the run's last op verified: the
 * hash chain makes it vouch for the whole run. A bad signature rejects the
 * run whole. What survives is stored and applied exactly like a local
 * write.
 *
 * Revocations are kept as "the smallest last_seq seen per node", from any
 * op that carries a valid org-signed revocation — even one refused because
 * its own author is revoked (the org's signature is what counts, not the
 * carrier's). When a limit drops below an author's stored head, the ops
 * beyond it are deleted and the entities rebuilt from the remaining ops in
 * the same transaction, so the result is the same as if the revocation had
 * arrived first.
 */
#include "replica_int.h"

#include <stdlib.h>
#include <string.h>

enum { ST_NONE = 0, ST_PENDING = 1, ST_STORED = 2, ST_DUP = 3 };

struct ing_item {
    size_t idx; /* position in the caller's arrays */
    ptrdiff_t twin; /* index in items of an earlier op with the same author+seq, or -1 */
    int8_t frozen; /* revoked author, head named: 1 on the frozen history, -1 off it */
    bool tried;    /* a twin judged in the main walk (its rival there was refused) */
    bool stored_before; /* stored by the first walk (ingest_author_again) */
    struct fm_op op;
    uint8_t hash[FM_HASH_LEN];
};

struct ing_ctx {
    struct fm_node *n;
    struct ing_item *items;
    size_t nitems;
    int *status; /* per input op: ST_* or a negative fm_err */
    size_t nops;
    uint64_t wall_ms;
    bool need_rebuild;
    uint64_t clock;
    struct log_payload *pl;       /* domain payloads (node_payload_new) */
    struct log_payload *pl_check; /* fork_eligible's scratch: c->pl may be in use */
};

static int item_cmp(const void *a, const void *b)
{
    const struct ing_item *x = a, *y = b;
    int c = memcmp(x->op.author, y->op.author, FM_PK_LEN);
    if (c != 0)
        return c;
    if (x->op.seq != y->op.seq)
        return x->op.seq < y->op.seq ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The revocation inside a revoke op, if its payload and org signature are
 * good, lowers the node's limit. Used for ops we refuse as revoked. */
static int ingest_extract_revocation(struct ing_ctx *c, struct store_txn *t,
                                     const struct fm_op *op)
{
    if (op->kind != OP_REVOKE ||
        c->n->dom->decode(c->pl, op->kind, op->payload, op->payload_len) != FM_OK ||
        fm_revocation_check(&c->pl->rev, c->n->cfg.org_pk) != FM_OK)
        return FM_OK;
    return node_revocation_note(t, &c->pl->rev, &c->need_rebuild);
}

/* Duplicate or fork of a stored op. */
static int ingest_compare_stored(struct store_txn *t, const struct fm_op *op, int *st)
{
    uint8_t key[FM_PK_LEN + 8];
    const uint8_t *v;
    size_t vlen;
    node_op_key(op->author, op->seq, key);
    int rc = store_get(t, DB_OPS, key, sizeof key, &v, &vlen);
    if (rc == FM_ENOTFOUND)
        return FM_ESTORE; /* head says we hold it */
    if (rc != FM_OK)
        return rc;
    *st = (vlen == op->raw_len && memcmp(v, op->raw, vlen) == 0) ? ST_DUP : FM_EFORK;
    return FM_OK;
}

/* Whether the store holds exactly this op at its seq. */
static int ingest_held(struct store_txn *t, const struct fm_op *op, bool *held)
{
    uint8_t key[FM_PK_LEN + 8];
    const uint8_t *v;
    size_t vlen;
    node_op_key(op->author, op->seq, key);
    int rc = store_get(t, DB_OPS, key, sizeof key, &v, &vlen);
    *held = rc == FM_OK && vlen == op->raw_len && memcmp(v, op->raw, vlen) == 0;
    return rc == FM_ENOTFOUND ? FM_OK : rc;
}

/* Stores one verified op whose payload is decoded in c->pl. */
static int ingest_store_op(struct ing_ctx *c, struct store_txn *t, struct ing_item *it,
                           struct node_head *h)
{
    int rc;
    if ((rc = node_op_store(c->n, t, &it->op, it->hash, c->pl, h)) != FM_OK)
        return rc;
    c->status[it->idx] = ST_STORED;
    c->clock = hlc_observe(c->clock, it->op.hlc, c->wall_ms, c->n->cfg.max_skew_ms);
    if (hlc_ms(it->op.hlc) > c->wall_ms + c->n->cfg.max_skew_ms &&
        (rc = flags_note(t, it->op.author, it->op.seq, hlc_ms(it->op.hlc) - c->wall_ms)) != FM_OK)
        return rc; /* stored, but flagged: stamped far ahead of our clock */
    /* back-dated into an expired certificate's window? (backdate.c) */
    return backdate_note(t, &it->op, c->pl, h, c->wall_ms, c->n->cfg.max_skew_ms);
}

/* The run the headers alone allow on top of h: contiguous seqs, each prev
 * the hash of the one before, hlc increasing, within the limit. It stops
 * before a revocation or fork evidence (their effects on the limit and the
 * head are handled by ingest_store_run). Returns the index of its last op,
 * or SIZE_MAX when it is empty. */
static size_t ingest_header_run(const struct ing_ctx *c, size_t k0, size_t k1,
                                const struct node_head *h, uint64_t limit)
{
    uint64_t seq = h->seq, hlc = h->hlc;
    const uint8_t *prev = h->hash;
    size_t last = SIZE_MAX;
    for (size_t k = k0; k < k1; k++) {
        const struct ing_item *it = &c->items[k];
        const struct fm_op *op = &it->op;
        if (it->twin >= 0 || op->seq <= h->seq)
            continue;
        if (op->seq > limit || op->seq != seq + 1 || memcmp(op->prev, prev, FM_HASH_LEN) != 0 ||
            op->hlc <= hlc || op->kind == OP_REVOKE || op->kind == OP_FORK_EVIDENCE)
            break;
        seq = op->seq;
        hlc = op->hlc;
        prev = it->hash;
        last = k;
    }
    return last;
}

/* Whether op may take part in settling a fork (fork_check.c); a refusal
 * is logged, since it means someone offered a refused op as a rival. */
static int ingest_fork_eligible(struct ing_ctx *c, struct store_txn *t, const struct fm_op *op,
                                int *verdict)
{
    static struct fm_log_limiter lim;
    int rc = fork_eligible(c->n, t, op, c->pl_check, verdict);
    if (rc == FM_OK && *verdict != FM_OK && *verdict != FM_EGAP) {
        char key[FM_KEY_TEXT_LEN];
        fm_key_encode(op->author, key);
        fm_log_limited(&lim, 10, FM_LOG_WARN, "fork",
                       "op %.8s seq %llu rivals a stored op but would be refused (%s): it "
                       "settles nothing", key, (unsigned long long)op->seq, fm_strerror(*verdict));
    }
    return rc;
}

/* Whether a pair of ops at one seq may be noted as a fork: each must be
 * eligible (fork_check.c), except that a pair below the fork's root (the
 * two prevs differ) settles nothing and is kept as evidence as long as
 * neither op is known to be refused. */
static int ingest_pair_eligible(struct ing_ctx *c, struct store_txn *t, const uint8_t *const raw[2],
                                const size_t len[2], bool *ok)
{
    struct fm_op op[2];
    int verdict[2], rc;
    *ok = false;
    for (int i = 0; i < 2; i++)
        if (fm_op_decode(&op[i], raw[i], len[i]) != FM_OK)
            return FM_OK;
    for (int i = 0; i < 2; i++)
        if ((rc = ingest_fork_eligible(c, t, &op[i], &verdict[i])) != FM_OK)
            return rc;
    bool root = memcmp(op[0].prev, op[1].prev, FM_HASH_LEN) == 0;
    for (int i = 0; i < 2; i++)
        if (verdict[i] != FM_OK && (root || verdict[i] != FM_EGAP))
            return FM_OK;
    *ok = true;
    return FM_OK;
}

static int ingest_evidence_eligible(struct ing_ctx *c, struct store_txn *t, bool *ok)
{
    const uint8_t *const raw[2] = {c->pl->fork_op[0], c->pl->fork_op[1]};
    const size_t len[2] = {c->pl->fork_len[0], c->pl->fork_len[1]};
    return ingest_pair_eligible(c, t, raw, len, ok);
}

/* A revoked author whose revocation names its head: which of its ops in
 * the batch lie on the frozen history and which off it (walked from the
 * top, so each op found on it teaches the one below), then the held log
 * cut back to that history where it left it (frozen.c). */
static int ingest_frozen_screen(struct ing_ctx *c, struct store_txn *t, size_t k0, size_t k1)
{
    const uint8_t *author = c->items[k0].op.author;
    struct node_rev r;
    int rc = node_revocation_get(t, author, &r);
    if (rc != FM_OK || !r.has_head)
        return rc;
    for (size_t k = k1; k-- > k0;) {
        struct ing_item *it = &c->items[k];
        uint8_t want[FM_HASH_LEN];
        bool known;
        if (it->op.seq > r.limit)
            continue;
        if ((rc = frozen_expected(t, author, &r, it->op.seq, want, &known)) != FM_OK)
            return rc;
        if (!known)
            continue;
        it->frozen = memcmp(want, it->hash, FM_HASH_LEN) == 0 ? 1 : -1;
        if (it->frozen > 0 && (rc = frozen_learn(t, &it->op)) != FM_OK)
            return rc;
    }
    return frozen_repair(t, author, &c->need_rebuild);
}

/* Stores the verified run [first, last] (entries still ST_PENDING). */
static int ingest_store_run(struct ing_ctx *c, struct store_txn *t, size_t first, size_t last,
                            struct node_head *h, uint64_t *limit)
{
    const uint8_t *author = c->items[first].op.author;
    bool dead = false;
    int rc;
    for (size_t k = first; k <= last; k++) {
        struct ing_item *it = &c->items[k];
        int *st = &c->status[it->idx];
        if (*st != ST_PENDING)
            continue;
        if (dead) {
            *st = FM_EGAP;
            continue;
        }
        if (it->op.seq > *limit) { /* the run revoked its own author */
            *st = FM_EREVOKED;
            continue;
        }
        if (c->n->dom->decode(c->pl, it->op.kind, it->op.payload, it->op.payload_len) != FM_OK)
            return FM_ESTORE; /* decoded fine a moment ago */
        if ((rc = ingest_store_op(c, t, it, h)) != FM_OK)
            return rc;
        if (it->op.kind == OP_FORK_EVIDENCE) {
            bool ok;
            if ((rc = ingest_evidence_eligible(c, t, &ok)) != FM_OK ||
                (ok && (rc = fork_note(t, c->pl->fork_op[0], c->pl->fork_len[0], c->pl->fork_op[1],
                                       c->pl->fork_len[1], true, &c->need_rebuild)) != FM_OK) ||
                (rc = node_head_get(t, author, h)) != FM_OK)
                return rc;
            if (h->seq < it->op.seq)
                dead = true; /* the evidence cut its own carrier's log */
        }
        if (it->op.kind == OP_REVOKE) {
            if ((rc = node_revocation_note(t, &c->pl->rev, &c->need_rebuild)) != FM_OK ||
                (rc = node_limit_get(t, author, limit)) != FM_OK ||
                (rc = node_head_get(t, author, h)) != FM_OK)
                return rc;
        }
    }
    return FM_OK;
}

/* ingest_author's walk over one author's ops: the stored head h, the head
 * vh as the checked ops so far would leave it, and the run still to store. */
struct author_walk {
    struct node_head h, vh;
    uint64_t limit;
    size_t signed_to;   /* last op of the verified header run, or SIZE_MAX */
    size_t first, last; /* the run left for ingest_store_run (first: SIZE_MAX if none) */
    bool broken, have_fork;
    uint64_t broken_seq;
};

/* Settles what needs no chain check: a twin not to judge now, an op off
 * frozen history, a seq already held, past the author's limit, or after
 * the run broke. *done when items[k] needs nothing more. */
static int walk_screen(struct ing_ctx *c, struct store_txn *t, struct author_walk *w, size_t k,
                       bool *done)
{
    struct ing_item *it = &c->items[k];
    const struct fm_op *op = &it->op;
    int *st = &c->status[it->idx];
    int rc;
    *done = true;
    if (it->twin >= 0) {
        /* another op at one seq: judged only when the one before it
         * was refused there (a refused op must not shadow the real
         * one in a bundle); else it is a twin (ingest_resolve_twins) */
        if (!w->broken || op->seq != w->broken_seq || op->seq != w->vh.seq + 1)
            return FM_OK;
        w->broken = false;
        it->tried = true;
    }
    if (it->frozen < 0) {
        *st = FM_EREVOKED; /* off the history its revocation froze */
        if (op->seq > w->h.seq && !w->broken)
            w->broken = true, w->broken_seq = op->seq;
        return FM_OK;
    }
    if (op->seq <= w->h.seq) {
        if ((rc = ingest_compare_stored(t, op, st)) != FM_OK)
            return rc;
        if (*st == FM_EFORK)
            w->have_fork = true;
        return FM_OK;
    }
    if (op->seq > w->limit) {
        *st = FM_EREVOKED;
        return FM_OK;
    }
    if (w->broken) {
        *st = FM_EGAP;
        return FM_OK;
    }
    *done = false;
    return FM_OK;
}

/* A new op on top of vh: fork settlement, seq, chain and content checks.
 * One that passes moves vh on and is stored now (inside the verified
 * header run) or joins the run left for ingest_store_run. */
static int walk_check(struct ing_ctx *c, struct store_txn *t, struct author_walk *w, size_t k)
{
    struct ing_item *it = &c->items[k];
    const struct fm_op *op = &it->op;
    int *st = &c->status[it->idx];
    bool allowed = true;
    int rc;
    if ((rc = fork_allowed(t, op, it->hash, &allowed)) != FM_OK)
        return rc;
    if (!allowed)
        *st = FM_EFORK; /* a settled fork kept another op at this seq */
    else if (op->seq != w->vh.seq + 1)
        *st = FM_EGAP;
    else if (memcmp(op->prev, w->vh.hash, FM_HASH_LEN) != 0 || op->hlc <= w->vh.hlc)
        *st = FM_ECHAIN;
    else
        *st = node_op_check(c->n, op, &w->vh, c->pl);
    if (*st != FM_OK) {
        if (!w->broken)
            w->broken_seq = op->seq;
        w->broken = true;
        return FM_OK;
    }
    *st = ST_PENDING;
    if (op->seq == 1 || op->kind == OP_CERT_RENEW) { /* a renewal moves the window */
        w->vh.role = (uint8_t)c->pl->cert.role;
        w->vh.not_before_ms = c->pl->cert.not_before_ms;
        w->vh.expires_ms = c->pl->cert.expires_ms;
        /* and the unit: later ops of the run are checked against it */
        fm_strlcpy(w->vh.unit, c->pl->cert.unit, sizeof w->vh.unit);
    }
    w->vh.seq = op->seq;
    memcpy(w->vh.hash, it->hash, FM_HASH_LEN);
    w->vh.hlc = op->hlc;
    if (w->signed_to != SIZE_MAX && k <= w->signed_to && w->first == SIZE_MAX)
        return ingest_store_op(c, t, it, &w->h); /* c->pl: this op's payload */
    if (w->first == SIZE_MAX)
        w->first = k;
    w->last = k;
    return FM_OK;
}

/* The run left over: its last signature vouches for it whole, or every
 * op still pending in it is refused. */
static int walk_store_rest(struct ing_ctx *c, struct store_txn *t, struct author_walk *w)
{
    if (w->first == SIZE_MAX)
        return FM_OK;
    if (!fm_op_verify(&c->items[w->last].op)) {
        for (size_t k = w->first; k <= w->last; k++)
            if (c->status[c->items[k].idx] == ST_PENDING)
                c->status[c->items[k].idx] = FM_EVERIFY;
        return FM_OK;
    }
    return ingest_store_run(c, t, w->first, w->last, &w->h, &w->limit);
}

/* Two signed ops at one seq: keep the evidence, settle which stays. */
static int ingest_author_forks(struct ing_ctx *c, struct store_txn *t, size_t k0, size_t k1)
{
    const uint8_t *author = c->items[k0].op.author;
    int rc;
    for (size_t k = k0; k < k1; k++) {
        struct ing_item *it = &c->items[k];
        uint8_t key[FM_PK_LEN + 8];
        const uint8_t *v;
        size_t vlen;
        uint8_t *copy;
        int verdict;
        if (it->twin >= 0 || c->status[it->idx] != FM_EFORK)
            continue;
        if ((rc = ingest_fork_eligible(c, t, &it->op, &verdict)) != FM_OK)
            return rc;
        if (verdict != FM_OK && verdict != FM_EGAP) {
            c->status[it->idx] = verdict; /* a refused op is no rival */
            continue;
        }
        node_op_key(author, it->op.seq, key);
        rc = store_get(t, DB_OPS, key, sizeof key, &v, &vlen);
        if (rc == FM_ENOTFOUND)
            continue; /* truncated by an earlier fork in this batch */
        if (rc != FM_OK)
            return rc;
        if ((copy = malloc(vlen)) == NULL)
            return FM_ENOMEM;
        memcpy(copy, v, vlen);
        rc = fork_note(t, copy, vlen, it->op.raw, it->op.raw_len, false, &c->need_rebuild);
        free(copy);
        if (rc != FM_OK)
            return rc;
    }
    return FM_OK;
}

/* One author's ops, items[k0..k1). */
static int ingest_author(struct ing_ctx *c, struct store_txn *t, size_t k0, size_t k1)
{
    const uint8_t *author = c->items[k0].op.author;
    struct author_walk w = {.first = SIZE_MAX};
    int rc;
    if ((rc = ingest_frozen_screen(c, t, k0, k1)) != FM_OK ||
        (rc = node_head_get(t, author, &w.h)) != FM_OK ||
        (rc = node_limit_get(t, author, &w.limit)) != FM_OK)
        return rc;
    w.vh = w.h;
    /* Usually the whole batch of an author is one run: verify its last
     * signature first, and then each op can be stored as soon as its
     * content is checked (one payload decode per op). The signature of
     * `signed_to` vouches for every op up to it through the prev links.
     * Otherwise (bad signature, or a revocation or fork evidence in the
     * run) the ops are checked first and stored by ingest_store_run. */
    w.signed_to = ingest_header_run(c, k0, k1, &w.h, w.limit);
    if (w.signed_to != SIZE_MAX && !fm_op_verify(&c->items[w.signed_to].op))
        w.signed_to = SIZE_MAX;
    for (size_t k = k0; k < k1; k++) {
        bool done;
        if ((rc = walk_screen(c, t, &w, k, &done)) != FM_OK ||
            (!done && (rc = walk_check(c, t, &w, k)) != FM_OK))
            return rc;
    }
    if ((rc = walk_store_rest(c, t, &w)) != FM_OK ||
        (w.have_fork && (rc = ingest_author_forks(c, t, k0, k1)) != FM_OK))
        return rc;
    /* Revocations carried by ops we refused as revoked still count. */
    for (size_t k = k0; k < k1; k++) {
        struct ing_item *it = &c->items[k];
        if (it->twin < 0 && c->status[it->idx] == FM_EREVOKED &&
            (rc = ingest_extract_revocation(c, t, &it->op)) != FM_OK)
            return rc;
    }
    return FM_OK;
}

/* A repeated author+seq inside items[k0..k1): identical copies share the
 * fate of the first (reported as duplicates if it was stored), different
 * bytes are a fork. */
static int ingest_resolve_twins(struct ing_ctx *c, struct store_txn *t, size_t k0, size_t k1)
{
    for (size_t k = k0; k < k1; k++) {
        struct ing_item *it = &c->items[k];
        if (it->twin < 0 || it->tried)
            continue;
        const struct ing_item *first = &c->items[it->twin];
        int fst = c->status[first->idx];
        if (memcmp(it->hash, first->hash, FM_HASH_LEN) != 0) {
            bool held;
            int hrc = ingest_held(t, &it->op, &held);
            if (hrc != FM_OK)
                return hrc;
            if (held) { /* the op kept at this seq, sent beside a rival */
                c->status[it->idx] = ST_DUP;
                continue;
            }
            c->status[it->idx] = FM_EFORK;
            /* field sync: both signed by the author and both such as
             * would be stored at that seq: evidence */
            const uint8_t *const raw[2] = {first->op.raw, it->op.raw};
            const size_t len[2] = {first->op.raw_len, it->op.raw_len};
            bool ok = false;
            int rc = first->op.seq > 0 && fst >= 0 ? ingest_pair_eligible(c, t, raw, len, &ok)
                                                   : FM_OK;
            if (rc == FM_OK && ok)
                rc = fork_note(t, raw[0], len[0], raw[1], len[1], false, &c->need_rebuild);
            if (rc != FM_OK)
                return rc;
        } else {
            c->status[it->idx] = (fst == ST_STORED || fst == ST_DUP) ? ST_DUP : fst;
        }
    }
    return FM_OK;
}

/* items[k0..k1) again, from a clean slate: the second walk sees the fork
 * records the first one wrote. An op the first walk stored and the second
 * finds held is still reported as stored by this batch. */
static int ingest_author_again(struct ing_ctx *c, struct store_txn *t, size_t k0, size_t k1)
{
    for (size_t k = k0; k < k1; k++) {
        struct ing_item *it = &c->items[k];
        it->stored_before = c->status[it->idx] == ST_STORED;
        c->status[it->idx] = ST_NONE;
        it->tried = false;
    }
    int rc = ingest_author(c, t, k0, k1);
    if (rc == FM_OK)
        rc = ingest_resolve_twins(c, t, k0, k1);
    for (size_t k = k0; rc == FM_OK && k < k1; k++) {
        const struct ing_item *it = &c->items[k];
        if (it->stored_before && c->status[it->idx] == ST_DUP)
            c->status[it->idx] = ST_STORED;
    }
    return rc;
}

/* One author's ops, items[k0..k1), and the forks between them. When two
 * ops of the batch at one seq settle for the one that came second, the
 * first has been stored and then cut (fork_settle) and the second was
 * already refused as its rival: the store would hold neither, though the
 * winner is in hand. So the author is walked once more, when the head
 * ended below an op this walk stored; the fork record now keeps the loser
 * out and lets the winner (and what chains on it) in. Once is enough: the
 * second walk meets the settled record and settles nothing new between
 * these twins. */
static int ingest_author_settled(struct ing_ctx *c, struct store_txn *t, size_t k0, size_t k1)
{
    struct node_head h;
    int rc;
    if ((rc = ingest_author(c, t, k0, k1)) != FM_OK ||
        (rc = ingest_resolve_twins(c, t, k0, k1)) != FM_OK)
        return rc;
    bool twins = false;
    for (size_t k = k0; k < k1 && !twins; k++)
        twins = c->items[k].twin >= 0;
    if (!twins || (rc = node_head_get(t, c->items[k0].op.author, &h)) != FM_OK)
        return rc;
    for (size_t k = k0; k < k1; k++)
        if (c->status[c->items[k].idx] == ST_STORED && c->items[k].op.seq > h.seq)
            return ingest_author_again(c, t, k0, k1);
    return FM_OK;
}

static int ingest_txn(struct store_txn *t, void *ctx)
{
    struct ing_ctx *c = ctx;
    uint64_t rejected = 0, total;
    int rc;
    for (size_t k = 0; k < c->nitems; k++)
        c->status[c->items[k].idx] = ST_NONE;
    c->need_rebuild = false;
    if ((rc = node_meta_get_u64(t, "hlc", &c->clock)) != FM_OK)
        return rc;
    for (size_t k0 = 0, k1; k0 < c->nitems; k0 = k1) {
        for (k1 = k0 + 1; k1 < c->nitems; k1++)
            if (memcmp(c->items[k1].op.author, c->items[k0].op.author, FM_PK_LEN) != 0)
                break;
        if ((rc = ingest_author_settled(c, t, k0, k1)) != FM_OK)
            return rc;
    }
    if (c->need_rebuild && (rc = node_rebuild_txn(c->n, t)) != FM_OK)
        return rc;
    for (size_t i = 0; i < c->nops; i++)
        rejected += c->status[i] < 0;
    if ((rc = node_meta_put_u64(t, "hlc", c->clock)) != FM_OK)
        return rc;
    if (rejected == 0)
        return FM_OK;
    if ((rc = node_meta_get_u64(t, "rejected", &total)) != FM_OK)
        return rc;
    return node_meta_put_u64(t, "rejected", total + rejected);
}

static void ingest_report(const struct ing_ctx *c, const uint8_t *const *ops,
                          const size_t *lens, struct fm_ingest_result *res)
{
    static struct fm_log_limiter lim;
    for (size_t i = 0; i < c->nops; i++) {
        int st = c->status[i];
        if (st == ST_STORED) {
            res->stored++;
        } else if (st == ST_DUP) {
            res->duplicates++;
        } else if (st < 0) {
            struct fm_op op;
            char key[FM_KEY_TEXT_LEN] = "?";
            uint64_t seq = 0;
            if (fm_op_decode(&op, ops[i], lens[i]) == FM_OK) {
                fm_key_encode(op.author, key);
                seq = op.seq;
            }
            if (res->rejected++ == 0) {
                res->err = st;
                res->err_seq = seq;
            }
            fm_log_limited(&lim, 20, FM_LOG_WARN, "ingest", "refused op %.8s seq %llu: %s",
                           key, (unsigned long long)seq, fm_strerror(st));
        }
    }
}

static int ingest_batch(struct fm_node *n, const uint8_t *const *ops, const size_t *lens,
                        const uint8_t *const *hashes, size_t nops,
                        struct fm_ingest_result *res, int *each);

int fm_node_ingest(struct fm_node *n, const uint8_t *const *ops, const size_t *lens, size_t nops,
                   struct fm_ingest_result *res)
{
    return fm_node_ingest_each(n, ops, lens, nops, res, NULL);
}

int fm_node_ingest_each(struct fm_node *n, const uint8_t *const *ops, const size_t *lens,
                        size_t nops, struct fm_ingest_result *res, int *each)
{
    return ingest_batch(n, ops, lens, NULL, nops, res, each);
}

int fm_node_ingest_hashed(struct fm_node *n, const uint8_t *const *ops, const size_t *lens,
                          const uint8_t *const *hashes, size_t nops,
                          struct fm_ingest_result *res)
{
    return ingest_batch(n, ops, lens, hashes, nops, res, NULL);
}

static int ingest_batch(struct fm_node *n, const uint8_t *const *ops, const size_t *lens,
                        const uint8_t *const *hashes, size_t nops,
                        struct fm_ingest_result *res, int *each)
{
    struct fm_ingest_result dummy;
    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof *res);
    if (n == NULL || (nops > 0 && (ops == NULL || lens == NULL)))
        return FM_EINVAL;
    if (nops == 0)
        return FM_OK;
    struct ing_ctx *c = calloc(1, sizeof *c);
    int rc = FM_ENOMEM;
    if (c == NULL)
        return rc;
    c->n = n;
    c->nops = nops;
    c->wall_ms = node_wall_ms();
    c->status = calloc(nops, sizeof *c->status);
    c->items = calloc(nops, sizeof *c->items);
    c->pl = node_payload_new(n);
    c->pl_check = node_payload_new(n);
    if (c->status == NULL || c->items == NULL || c->pl == NULL || c->pl_check == NULL)
        goto out;
    for (size_t i = 0; i < nops; i++) {
        struct ing_item *it = &c->items[c->nitems];
        int drc = ops[i] == NULL ? FM_EDECODE : fm_op_decode(&it->op, ops[i], lens[i]);
        if (drc != FM_OK) {
            c->status[i] = drc < 0 ? drc : FM_EDECODE;
            continue;
        }
        it->idx = i;
        if (hashes != NULL && hashes[i] != NULL) /* made here from these bytes (replica.h) */
            memcpy(it->hash, hashes[i], FM_HASH_LEN);
        else
            fm_op_hash(&it->op, it->hash);
        c->nitems++;
    }
    qsort(c->items, c->nitems, sizeof *c->items, item_cmp);
    for (size_t k = 0; k < c->nitems; k++) {
        c->items[k].twin = -1;
        if (k > 0 && c->items[k].op.seq == c->items[k - 1].op.seq &&
            memcmp(c->items[k].op.author, c->items[k - 1].op.author, FM_PK_LEN) == 0)
            c->items[k].twin = c->items[k - 1].twin >= 0 ? c->items[k - 1].twin
                                                         : (ptrdiff_t)(k - 1);
    }
    rc = store_write(n->st, ingest_txn, c);
    if (rc == FM_OK)
        ingest_report(c, ops, lens, res);
    for (size_t i = 0; rc == FM_OK && each != NULL && i < nops; i++) {
        int st = c->status[i];
        each[i] = st == ST_STORED ? FM_INGEST_STORED
                  : st == ST_DUP  ? FM_INGEST_HELD
                  : st < 0        ? st
                                  : FM_EGAP; /* not reached by the checks */
    }
out:
    free(c->status);
    free(c->items);
    free(c->pl);
    free(c->pl_check);
    free(c);
    return rc;
}
