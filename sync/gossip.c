/*
 * gossip.c — the sync protocol: who gets which ops, when.
 *
 * Every node keeps, per neighbour, a belief of the neighbour's version
 * vector (belief[author] = the seq it holds). Beliefs come from the
 * neighbour's own words (a matching SUMMARY digest, a VECTOR, an IHAVE, a
 * PULL's from_seq, the ops it sent us) and, optimistically, from what we
 * sent it. Three mechanisms move ops:
 *
 *  - eager push: when our heads move (a local write or an ingest), the new
 *    ops go at once to each *eager* neighbour whose vector we know and who
 *    we believe lacks them. A push that turns out to be all duplicates makes
 *    the receiver answer PRUNE (unless that link brought it a new op within
 *    SYNC_PRUNE_QUIET_MS: it is in use for other writers): the link becomes
 *    lazy both ways. The eager links thus thin out towards a spanning tree
 *    (as in Plumtree), which keeps payload redundancy near one transmission
 *    per node reached.
 *  - lazy announce: every push interval, lazy neighbours get IHAVE (author,
 *    seq) for heads that moved. A receiver still lacking those ops after a
 *    grace period pulls them with the GRAFT flag, which makes the link eager
 *    again (repairing the tree).
 *  - anti-entropy: every anti_entropy_ms each node sends each neighbour a
 *    55-byte SUMMARY (digest of its version vector). A match settles it in
 *    one round trip; on a mismatch the receiver answers with its VECTOR, the
 *    initiator pulls what it lacks and announces (IHAVE NOW) what the other
 *    lacks, which pulls in turn.
 *  - catch-up is not gossiped: ops that came only in answer to a bulk
 *    anti-entropy pull (many authors at once: a partition healing, a node
 *    back from a crash) and are old (stamped more than SYNC_LAZY_LIVE_MS
 *    before our clock) are neither pushed eagerly nor announced lazily.
 *    Every neighbour is reconciling at the same time and pulls each op
 *    once; pushing them too made many copies arrive twice. Live ops, ops
 *    pushed to us and small repairs are forwarded as before (mark_catchup).
 *
 * Pulling (wants, credits, serving and settling) lives in pull.c, the
 * neighbour table (beliefs, liveness, bans) in neighbours.c; this
 * file keeps pushes, announcements, anti-entropy, the ingest of
 * every OPS message (sync_ops_take) and the timers. Whatever arrives goes
 * through store->ingest, which verifies it; what it refuses is counted,
 * logged (rate-limited) and charged to the sender, and nothing else about
 * the connection changes.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#define COMPONENT "sync"

static struct fm_log_limiter lim_reject, lim_skew, lim_store;

/* ------------------------------------------------------------ helpers */

static int entry_cmp(const void *x, const void *y) { return memcmp(x, y, FM_PK_LEN); }

/* s->entries holds n entries; sort them (the wire wants increasing authors). */
void sync_entries_sort(struct fm_sync *s)
{
    size_t n = s->entries.len / FM_WIRE_ENTRY_LEN;
    qsort(s->entries.data, n, FM_WIRE_ENTRY_LEN, entry_cmp);
}

int sync_entries_add(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], uint64_t seq)
{
    uint8_t e[FM_WIRE_ENTRY_LEN];
    fm_wire_put_entry(e, pk, seq);
    return fm_buf_append(&s->entries, e, sizeof(e));
}

/* Sends s->entries as IHAVE messages of at most FM_WIRE_IHAVE_MAX entries.
 * Returns true if every message went out. */
static bool send_ihaves(struct fm_sync *s, struct sync_nb *nb, uint8_t flags)
{
    size_t n = s->entries.len / FM_WIRE_ENTRY_LEN;
    bool ok = true;
    sync_entries_sort(s);
    for (size_t off = 0; off < n; off += FM_WIRE_IHAVE_MAX) {
        size_t k = n - off < FM_WIRE_IHAVE_MAX ? n - off : FM_WIRE_IHAVE_MAX;
        if (fm_wire_encode_ihave(&s->msg, flags, s->entries.data + off * FM_WIRE_ENTRY_LEN,
                                 (uint32_t)k) != FM_OK ||
            sync_send(s, nb, &s->msg) != FM_OK)
            ok = false;
    }
    return ok;
}

static void send_summary(struct fm_sync *s, struct sync_nb *nb, uint8_t flags, uint64_t now)
{
    struct fm_wire_summary sm = {.flags = flags, .now_ms = sync_wall(s),
                                 .nauthors = (uint32_t)s->nheads, .total = s->vv_total};
    memcpy(sm.hash, s->vv_hash, FM_HASH_LEN);
    if (fm_wire_encode_summary(&s->msg, &sm) == FM_OK && sync_send(s, nb, &s->msg) == FM_OK)
        return;
    /* not connected yet: try again soon rather than a whole period later;
     * while a fresh DEALER is still in its handshake, very soon (the first
     * exchange of a link should not wait a retry period) */
    if (flags & FM_SUMMARY_REPLY) {
        bool dialling = nb->dealer && now - nb->dealer_opened_ms < SYNC_DIAL_FAST_MS;
        uint64_t retry = now + (dialling ? SYNC_DIAL_RETRY_MS : 250);
        if (retry < nb->next_ae_ms)
            nb->next_ae_ms = retry;
        if (retry < s->next_tick_ms)
            s->next_tick_ms = retry;
    }
}

/* Our whole vector, in chunks; the last chunk ends at ff..ff. */
void sync_send_vector(struct fm_sync *s, struct sync_nb *nb)
{
    uint8_t lo[FM_PK_LEN], hi[FM_PK_LEN];
    size_t off = 0;
    memset(lo, 0, sizeof(lo));
    do {
        size_t k = s->nheads - off;
        fm_buf_reset(&s->entries);
        if (k > FM_WIRE_VECTOR_MAX)
            k = FM_WIRE_VECTOR_MAX;
        for (size_t i = off; i < off + k; i++)
            if (sync_entries_add(s, s->heads[i].author, s->heads[i].seq) != FM_OK)
                return;
        if (off + k < s->nheads)
            memcpy(hi, s->heads[off + k - 1].author, FM_PK_LEN);
        else
            memset(hi, 0xff, sizeof(hi));
        if (fm_wire_encode_vector(&s->msg, lo, hi, s->entries.data, (uint32_t)k) != FM_OK ||
            sync_send(s, nb, &s->msg) != FM_OK)
            return;
        /* next chunk starts just after hi (hi + 1 as a 256-bit number) */
        memcpy(lo, hi, FM_PK_LEN);
        for (int b = FM_PK_LEN - 1; b >= 0 && ++lo[b] == 0; b--)
            ;
        off += k;
    } while (off < s->nheads);
}

/* ------------------------------------------------------------ pushing */

static void announce_lazy(struct fm_sync *s, uint64_t now);

/* Pushes the fresh heads to every eager neighbour that lacks them. */
void sync_flush(struct fm_sync *s)
{
    uint64_t now = sync_now(s);
    if (s->nfresh == 0)
        return;
    for (size_t n = 0; n < s->nnb; n++) {
        struct sync_nb *nb = s->nbs[n];
        size_t count = 0, nauth = 0;
        if (!nb || !sync_nb_eager(s, nb) || !nb->vec_known || !sync_nb_live(s, nb, now))
            continue;
        if (fm_wire_ops_begin(&s->msg, 0, 0) != FM_OK)
            continue;
        fm_buf_reset(&s->entries);
        uint32_t pushed_idx[SYNC_PUSH_MAX_AUTHORS];
        uint64_t pushed_seq[SYNC_PUSH_MAX_AUTHORS];
        size_t max_bytes = sync_nb_budget(nb, SYNC_PUSH_MAX_BYTES);
        /* over a rate-limited link: authors whose next op is critical first */
        int passes = nb->rate_bps && s->store.priority ? 2 : 1;
        for (int pass = 0; pass < passes; pass++)
        for (size_t f = 0; f < s->nfresh; f++) {
            uint32_t i = s->fresh[f];
            struct sync_author *a = &s->authors[i];
            uint64_t b = sync_nb_belief(nb, i);
            size_t got = 0;
            if (a->head <= b || a->catchup)
                continue;
            if (passes == 2 && (sync_op_priority(s, a->pk, b + 1) == 0) != (pass == 0))
                continue;
            if (a->head - b > SYNC_PUSH_MAX_OPS || nauth == SYNC_PUSH_MAX_AUTHORS ||
                s->msg.len >= max_bytes) {
                if (a->head > (i < nb->bcap ? nb->announced[i] : 0) &&
                    sync_entries_add(s, a->pk, a->head) == FM_OK && i < nb->bcap)
                    nb->announced[i] = a->head;
                continue;
            }
            fm_buf_reset(&s->tmp);
            if (s->store.read_ops(s->store.ctx, a->pk, b + 1, (size_t)(a->head - b),
                                  max_bytes - s->msg.len, &s->tmp, &got) != FM_OK ||
                got == 0)
                continue;
            if (fm_wire_ops_add(&s->msg, s->tmp.data, s->tmp.len, (uint32_t)got) != FM_OK)
                continue;
            pushed_idx[nauth] = i;
            pushed_seq[nauth] = b + got;
            nauth++;
            count += got;
        }
        if (count > 0 && fm_wire_ops_finish(&s->msg) == FM_OK &&
            sync_send_ops(s, nb, &s->msg, false) == FM_OK) {
            for (size_t k = 0; k < nauth; k++)
                sync_belief_raise(nb, pushed_idx[k], pushed_seq[k]);
            nb->ops_sent += count;
            s->k.ops_sent += count;
        }
        if (s->entries.len)
            (void)send_ihaves(s, nb, FM_IHAVE_NOW);
    }
    for (size_t f = 0; f < s->nfresh; f++)
        s->authors[s->fresh[f]].fresh = false;
    s->nfresh = 0;
    /* lazy neighbours hear of it now too, not at the next tick: an
     * announcement that travels as fast as the eager copies lets each
     * receiver tell which of its links is the shorter path
     * (tree_optimise) */
    announce_lazy(s, now);
}

/* Lazy neighbours hear about moved heads once per push interval. */
static void announce_lazy(struct fm_sync *s, uint64_t now)
{
    if (s->nchanged == 0)
        return;
    for (size_t n = 0; n < s->nnb; n++) {
        struct sync_nb *nb = s->nbs[n];
        if (!nb || sync_nb_eager(s, nb) || !nb->vec_known || !sync_nb_live(s, nb, now))
            continue;
        fm_buf_reset(&s->entries);
        for (size_t c = 0; c < s->nchanged; c++) {
            uint32_t i = s->changed[c];
            struct sync_author *a = &s->authors[i];
            if (a->catchup)
                continue; /* old ops from anti-entropy: it reconciles too */
            if (sync_nb_grow(nb, (size_t)i + 1) != FM_OK)
                break;
            if (a->head > nb->belief[i] && a->head > nb->announced[i] &&
                sync_entries_add(s, a->pk, a->head) == FM_OK)
                nb->announced[i] = a->head;
        }
        if (s->entries.len)
            (void)send_ihaves(s, nb, 0);
    }
    for (size_t c = 0; c < s->nchanged; c++)
        s->authors[s->changed[c]].changed = s->authors[s->changed[c]].catchup = false;
    s->nchanged = 0;
}

/* After an ingest of pull replies (ops_count refreshed the heads): an
 * author whose head moved only by old ops answering a bulk anti-entropy
 * pull (SYNC_OPS_CATCHUP, stamped more than SYNC_LAZY_LIVE_MS before our
 * clock) is marked, so that sync_flush neither pushes nor announces it.
 * Two passes over the ops: the first notes the authors with a live op in
 * this ingest (a generation, so nothing needs clearing), the second marks
 * the others. Nothing to do when no reply answered a bulk pull. */
static void mark_catchup(struct fm_sync *s, const struct fm_wire_ops *os, size_t nos)
{
    bool any = false;
    for (size_t m = 0; m < nos && !any; m++)
        any = (os[m].flags & SYNC_OPS_CATCHUP) != 0;
    if (!any)
        return;
    uint64_t wall = sync_wall(s);
    uint32_t gen = ++s->take_gen;
    for (int pass = 0; pass < 2; pass++)
        for (size_t m = 0; m < nos; m++) {
            size_t pos = 0, len;
            const uint8_t *p;
            bool ae = (os[m].flags & SYNC_OPS_CATCHUP) != 0;
            while (fm_wire_ops_next(&os[m], &pos, &p, &len)) {
                struct fm_op d;
                int32_t i;
                if (fm_op_decode(&d, p, len) != FM_OK ||
                    (i = sync_author_get(s, d.author, false)) < 0)
                    continue;
                struct sync_author *a = &s->authors[i];
                bool old = ae && (d.hlc >> 16) + SYNC_LAZY_LIVE_MS < wall;
                if (pass == 0 && !old)
                    a->live_gen = gen;
                else if (pass == 1 && old && a->changed && a->live_gen != gen)
                    a->catchup = true;
            }
        }
}

/* ------------------------------------------------------------ handlers */

/* An identical summary: the neighbour holds our own log exactly to our
 * head (what the store learns from a vector, own_vector_seen below). */
static void own_vector_same(struct fm_sync *s)
{
    if (!s->store.own_vector)
        return;
    int32_t i = sync_author_get(s, s->pk, false);
    s->store.own_vector(s->store.ctx, i >= 0 ? s->authors[i].head : 0);
}

static void on_summary(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_summary *sm)
{
    uint64_t now = sync_now(s);
    nb->skew_ms = (int64_t)(sm->now_ms - sync_wall(s));
    nb->skew_known = true;
    if (s->cfg.max_skew_ms &&
        (nb->skew_ms > (int64_t)s->cfg.max_skew_ms || -nb->skew_ms > (int64_t)s->cfg.max_skew_ms))
        fm_log_limited(&lim_skew, 2, FM_LOG_WARN, COMPONENT,
                       "peer %s clock differs from ours by %lld ms", nb->name,
                       (long long)nb->skew_ms);
    if (sm->nauthors == s->nheads && sm->total == s->vv_total &&
        memcmp(sm->hash, s->vv_hash, FM_HASH_LEN) == 0) {
        /* identical vectors: our heads are exactly its heads */
        nb->same_seq_seen = 0;
        for (size_t i = 0; i < s->nauthors; i++)
            sync_belief_set(nb, (uint32_t)i, s->authors[i].head);
        nb->vec_known = true;
        own_vector_same(s);
        if (sm->flags & FM_SUMMARY_REPLY)
            send_summary(s, nb, 0, now);
        return;
    }
    if ((sm->flags & FM_SUMMARY_REPLY) && !sync_recon_start(s, nb))
        sync_send_vector(s, nb);
}

/* A neighbour sends its vector when our summary differed from its own. If
 * every author's seq is the same on both sides, twice in a row (the first
 * time we ask again at once: an op may have crossed the summary), the
 * difference is in the head ops themselves: some author forked and both
 * branches are equally long (a restored node that wrote as many ops as it
 * had lost).
 * Nothing would ever be pulled, so probe the heads: the neighbour's op at
 * our head meets ours in ingest (a duplicate, or the fork's evidence) and
 * the probe walks down to the fork's root when the two differ in prev.
 * (A transient race costs a few duplicate ops.) At most
 * SYNC_SAME_SEQ_PROBES authors per vector, round robin; each author at
 * most once per SYNC_PROBE_INTERVAL_MS. */
static void same_seq_probe(struct fm_sync *s, struct sync_nb *nb, uint64_t now)
{
    size_t sent = 0, n = s->nauthors;
    for (size_t k = 0; k < n && sent < SYNC_SAME_SEQ_PROBES; k++) {
        uint32_t i = (uint32_t)((nb->same_seq_rr + k) % n);
        if (s->authors[i].head == 0 || !s->authors[i].in_store)
            continue;
        sent += sync_fork_probe_quiet(s, nb, i, now);
        nb->same_seq_rr = i + 1;
    }
    if (sent)
        fm_log(FM_LOG_INFO, COMPONENT,
               "peer %s: same version vector, different heads: probing %zu author(s) for a fork",
               nb->name, sent);
}

/* Tells the store how much of our own log the neighbour lists, when this
 * chunk of its vector covers our key. */
static void own_vector_seen(struct fm_sync *s, const struct fm_wire_vector *v)
{
    uint64_t mine = 0;
    if (!s->store.own_vector || memcmp(s->pk, v->lo, FM_PK_LEN) < 0 ||
        memcmp(s->pk, v->hi, FM_PK_LEN) > 0)
        return;
    for (uint32_t e = 0; e < v->e.count; e++) {
        const uint8_t *pk;
        uint64_t seq;
        fm_wire_entry(&v->e, e, &pk, &seq);
        if (memcmp(pk, s->pk, FM_PK_LEN) == 0)
            mine = seq;
    }
    s->store.own_vector(s->store.ctx, mine);
}

static void on_vector(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_vector *v)
{
    uint64_t now = sync_now(s);
    static const uint8_t ff[FM_PK_LEN] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t zero[FM_PK_LEN];
    if (memcmp(v->lo, zero, FM_PK_LEN) == 0)
        nb->vec_differs = false; /* the first chunk of its vector */
    /* authors of ours in [lo, hi] it does not list: it holds none of them */
    for (size_t i = 0; i < s->nauthors; i++) {
        const uint8_t *pk = s->authors[i].pk;
        if (memcmp(pk, v->lo, FM_PK_LEN) >= 0 && memcmp(pk, v->hi, FM_PK_LEN) <= 0)
            sync_belief_set(nb, (uint32_t)i, 0);
    }
    for (uint32_t e = 0; e < v->e.count; e++) {
        const uint8_t *pk;
        uint64_t seq;
        fm_wire_entry(&v->e, e, &pk, &seq);
        int32_t i = sync_author_get(s, pk, true);
        if (i < 0)
            continue;
        sync_belief_set(nb, (uint32_t)i, seq);
        sync_want_raise(s, nb, (uint32_t)i, seq, now, false);
    }
    own_vector_seen(s, v);
    /* what it lacks in this range: announce so it pulls */
    fm_buf_reset(&s->entries);
    for (size_t k = 0; k < s->nheads; k++) {
        uint32_t i = s->head_idx[k];
        const uint8_t *pk = s->heads[k].author;
        if (memcmp(pk, v->lo, FM_PK_LEN) < 0 || memcmp(pk, v->hi, FM_PK_LEN) > 0)
            continue;
        if (s->heads[k].seq > sync_nb_belief(nb, i) &&
            sync_entries_add(s, pk, s->heads[k].seq) != FM_OK)
            break;
    }
    if (s->entries.len)
        (void)send_ihaves(s, nb, FM_IHAVE_NOW);
    for (size_t i = 0; i < s->nauthors && !nb->vec_differs; i++) {
        const struct sync_author *a = &s->authors[i];
        nb->vec_differs = memcmp(a->pk, v->lo, FM_PK_LEN) >= 0 &&
                          memcmp(a->pk, v->hi, FM_PK_LEN) <= 0 && sync_nb_belief(nb, (uint32_t)i) != a->head;
    }
    if (memcmp(v->hi, ff, FM_PK_LEN) == 0) {
        nb->vec_known = true;
        if (nb->vec_differs) {
            nb->same_seq_seen = 0;
        } else if (++nb->same_seq_seen < 2) {
            /* maybe a race (an op crossed the summary): check again now */
            send_summary(s, nb, FM_SUMMARY_REPLY, now);
        } else {
            nb->same_seq_seen = 0;
            same_seq_probe(s, nb, now);
        }
    }
    sync_pull_schedule(s, now);
}

static void on_ihave(struct fm_sync *s, struct sync_nb *nb, uint8_t flags,
                     const struct fm_wire_entries *e)
{
    uint64_t now = sync_now(s);
    bool lazy = !(flags & FM_IHAVE_NOW);
    uint64_t grace = 2 * (uint64_t)s->cfg.push_interval_ms;
    for (uint32_t k = 0; k < e->count; k++) {
        const uint8_t *pk;
        uint64_t seq;
        fm_wire_entry(e, k, &pk, &seq);
        int32_t i = sync_author_get(s, pk, true);
        if (i < 0)
            continue;
        sync_belief_raise(nb, (uint32_t)i, seq);
        sync_want_raise(s, nb, (uint32_t)i, seq, lazy ? now + grace : now, lazy);
        struct sync_author *a = &s->authors[i];
        if (lazy && seq > a->head && (a->lazy_from < 0 || a->lazy_seq <= a->head)) {
            a->lazy_seq = seq;
            a->lazy_ms = now;
            a->lazy_from = nb->slot;
        }
    }
    sync_pull_schedule(s, now);
}

/* Plumtree's optimisation. Eager push e has just brought op `seq` of
 * author i, which neighbour a->lazy_from had announced lazily at least
 * SYNC_OPTIMISE_MS earlier: that neighbour got it by a shorter (faster)
 * path. Swap the links: graft it (a one-op PULL with the graft flag, from
 * our new head on, which it answers with nothing or the next op) and
 * prune e. Removing e's edge cuts us off the tree's origin side and the
 * grafted edge joins that side again, so the eager links stay a tree. */
static void tree_optimise(struct fm_sync *s, struct sync_nb *e, uint32_t i, uint64_t seq,
                          uint64_t now)
{
    struct sync_author *a = &s->authors[i];
    struct sync_nb *l = a->lazy_from >= 0 ? s->nbs[a->lazy_from] : NULL;
    bool due = l && l != e && seq <= a->lazy_seq && now - a->lazy_ms >= SYNC_OPTIMISE_MS;
    if (a->head >= a->lazy_seq)
        a->lazy_from = -1; /* the announcement is settled either way */
    if (due && (sync_tree_link(s, l) || sync_tree_link(s, e)))
        return; /* the spanning tree decides these links (tree.c) */
    if (!due || l->banned || !l->vec_known || !sync_nb_live(s, l, now) || !e->eager)
        return;
    fm_buf_reset(&s->entries);
    if (sync_entries_add(s, a->pk, a->head + 1) != FM_OK)
        return;
    if (++s->next_req_id == 0)
        s->next_req_id = 1;
    if (fm_wire_encode_pull(&s->msg, FM_PULL_GRAFT, s->next_req_id, 1, s->entries.data, 1) !=
            FM_OK ||
        sync_send(s, l, &s->msg) != FM_OK)
        return;
    l->eager = true;
    a->lazy_from = -1;
    if (fm_wire_encode_simple(&s->msg, FM_MSG_PRUNE) == FM_OK && sync_send(s, e, &s->msg) == FM_OK)
        e->eager = false;
    fm_log(FM_LOG_DEBUG, COMPONENT, "%s announced an op %llu ms before %s pushed it: "
           "grafted the first, pruned the second", l->name,
           (unsigned long long)(now - a->lazy_ms), e->name);
}

/* Lays the ops of `nos` OPS messages side by side in s->in_ops and
 * s->in_lens (at most FM_WIRE_BATCH_MAX per message, SYNC_INGEST_MAX_OPS in
 * all) and returns how many. */
static size_t ops_gather(struct fm_sync *s, const struct fm_wire_ops *os, size_t nos)
{
    size_t n = 0;
    const uint8_t *op;
    size_t len;
    for (size_t m = 0; m < nos; m++) {
        size_t pos = 0, k = 0;
        while (k < FM_WIRE_BATCH_MAX && n < SYNC_INGEST_MAX_OPS &&
               fm_wire_ops_next(&os[m], &pos, &op, &len)) {
            s->in_ops[n] = op;
            s->in_lens[n] = len;
            s->in_hash[n] = os[m].hashes ? os[m].hashes + k * FM_HASH_LEN : NULL;
            n++;
            k++;
        }
    }
    return n;
}

/* One store call for the n gathered ops. False when the store could not
 * take them (paused after a fault, or failing now): nothing was judged and
 * the caller does no bookkeeping. */
static bool ops_ingest(struct fm_sync *s, struct sync_nb *nb, size_t n, uint64_t now,
                       struct fm_ingest_result *res)
{
    memset(res, 0, sizeof(*res));
    if (n == 0)
        return true;
    if (sync_fault_paused(s, now)) {
        for (size_t i = 0; i < s->nauthors; i++)
            s->authors[i].pulled = 0;
        return false; /* the store cannot take ops yet (fault.c): they come again */
    }
    int rc = s->store.ingest(s->store.ctx, s->in_ops, s->in_lens, s->in_hash, n, res);
    if (rc != FM_OK) {
        /* nothing stored, nothing judged: a local fault, not refusals;
         * tell the sender what we really hold */
        sync_fault_note(s, rc, now);
        sync_send_vector(s, nb);
        return false;
    }
    sync_fault_clear(s);
    return true;
}

/* Counters, our heads, and (for a reply) pulling again what was refused. */
static void ops_count(struct fm_sync *s, struct sync_nb *nb, const struct fm_ingest_result *res,
                      bool reply)
{
    if (res->stored)
        fm_log(FM_LOG_DEBUG, COMPONENT, "stored %zu op(s) from %s (%zu duplicate)", res->stored,
               nb->name, res->duplicates);
    s->k.ops_stored += res->stored;
    if (res->stored)
        s->ban_check_due = true; /* a revocation may have come with them */
    s->k.ops_dup += res->duplicates;
    s->k.ops_rejected += res->rejected;
    nb->ops_received += res->stored;
    if (sync_heads_refresh(s) != FM_OK)
        fm_log_limited(&lim_store, 5, FM_LOG_ERROR, COMPONENT, "cannot read heads");
    if (reply) {
        /* every reply received is ingested now: what ingest refused is
         * pulled again from head + 1 */
        for (size_t i = 0; i < s->nauthors; i++)
            s->authors[i].pulled = 0;
    }
}

/* Op d of author i was refused for a reason of its own: stop pulling this
 * author until the next anti-entropy round claims it again, backing off
 * while its head stays put. */
static void op_refused(struct fm_sync *s, struct sync_nb *nb, uint32_t i, const struct fm_op *d,
                       uint64_t now)
{
    struct sync_author *a = &s->authors[i];
    a->refused = true;
    a->want = a->head;
    a->want_from = -1;
    if (a->refuse_backoff_ms == 0 || a->refused_head != a->head)
        a->refuse_backoff_ms = SYNC_REFUSE_BACKOFF_MIN_MS;
    else if (a->refuse_backoff_ms < SYNC_REFUSE_BACKOFF_MAX_MS / 2)
        a->refuse_backoff_ms *= 2;
    else
        a->refuse_backoff_ms = SYNC_REFUSE_BACKOFF_MAX_MS;
    a->refused_head = a->head;
    a->refused_until_ms = now + a->refuse_backoff_ms;
    /* from a version-3 neighbour the prev was rebuilt from our
     * head, so another history shows as a bad signature instead */
    if (a->head > 0 && (memcmp(d->prev, a->hash, FM_HASH_LEN) != 0 || nb->v3))
        sync_fork_probe(s, nb, i, now);
}

/* Bookkeeping per op: what the sender holds, gaps to pull, the tree to
 * optimise, refusals. True when an op was really refused (undecodable, or
 * refused for a reason of its own rather than a gap). */
static bool ops_note_each(struct fm_sync *s, struct sync_nb *nb, size_t n,
                          const struct fm_ingest_result *res, bool reply, uint64_t now)
{
    bool real_reject = false;
    for (size_t k = 0; k < n; k++) {
        struct fm_op d;
        if (fm_op_decode(&d, s->in_ops[k], s->in_lens[k]) != FM_OK) {
            real_reject = true;
            continue;
        }
        int32_t i = sync_author_get(s, d.author, false);
        if (i < 0)
            continue;
        struct sync_author *a = &s->authors[i];
        if (a->head >= d.seq) {
            sync_belief_raise(nb, (uint32_t)i, d.seq);
            if (reply)
                sync_fork_probe_reply(s, nb, (uint32_t)i, &d);
            if (a->lazy_from >= 0) {
                if (!reply && res->stored > 0)
                    tree_optimise(s, nb, (uint32_t)i, d.seq, now);
                else if (a->head >= a->lazy_seq)
                    a->lazy_from = -1;
            }
        } else if (d.seq > a->head + 1) {
            /* a gap: pull it, unless it follows an op of this reply we refused */
            if (!(a->refused && reply))
                sync_want_raise(s, nb, (uint32_t)i, d.seq, now, false);
        } else {
            real_reject = true;
            op_refused(s, nb, (uint32_t)i, &d, now);
        }
    }
    return real_reject;
}

/* After a real refusal: the authors of this batch may be pulled again. */
static void ops_clear_refused(struct fm_sync *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct fm_op d;
        int32_t i;
        if (fm_op_decode(&d, s->in_ops[k], s->in_lens[k]) == FM_OK &&
            (i = sync_author_get(s, d.author, false)) >= 0)
            s->authors[i].refused = false;
    }
}

static void ops_log_refused(struct sync_nb *nb, const struct fm_ingest_result *res,
                            bool real_reject)
{
    if (res->rejected == 0 || (!real_reject && (res->err == FM_EGAP || res->err == FM_EDUP)))
        return;
    char tag[17];
    sync_hex(nb->pk, 8, tag, sizeof(tag));
    if (res->err != FM_EREVOKED)
        nb->bad++;
    fm_log_limited(&lim_reject, 10, FM_LOG_WARN, COMPONENT,
                   "refused %zu op(s) from %s (%s): %s at seq %llu", res->rejected,
                   nb->name[0] ? nb->name : tag, tag, fm_strerror(res->err),
                   (unsigned long long)res->err_seq);
}

/* Ingests the ops of `nos` OPS messages from nb in one store call (one
 * transaction), then does each message's bookkeeping. */
void sync_ops_take(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_ops *os,
                     size_t nos)
{
    struct fm_ingest_result res;
    uint64_t now = sync_now(s);
    bool reply = (os[0].flags & FM_OPS_REPLY) != 0;
    size_t n = ops_gather(s, os, nos);

    if (!ops_ingest(s, nb, n, now, &res))
        return;
    ops_count(s, nb, &res, reply);
    if (reply)
        mark_catchup(s, os, nos);
    bool real_reject = ops_note_each(s, nb, n, &res, reply, now);
    if (real_reject)
        ops_clear_refused(s, n);
    ops_log_refused(nb, &res, real_reject);
    if (!reply && res.stored > 0)
        nb->first_copy_ms = now;
    if (!reply && res.stored == 0 && res.duplicates > 0 && res.rejected == 0 &&
        !sync_tree_link(s, nb) && /* the tree decides its links (tree.c) */
        (nb->first_copy_ms == 0 || now - nb->first_copy_ms > SYNC_PRUNE_QUIET_MS)) {
        /* an eager push we already had, on a link that brought us nothing
         * new lately: this link is redundant */
        nb->eager = false;
        if (fm_wire_encode_simple(&s->msg, FM_MSG_PRUNE) == FM_OK &&
            sync_send(s, nb, &s->msg) != FM_OK)
            nb->eager = true; /* it did not hear us: keep treating it as eager */
    }
    sync_flush(s);
    sync_pull_schedule(s, now);
}

void sync_on_message(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n)
{
    struct fm_wire_msg m;
    int rc = fm_wire_decode(&m, p, n);
    /* versions 3 and 4 (compact_peer.c): an engine that does not speak
     * one drops it in the decoder above, as an older build does */
    bool v3 = rc != FM_OK && n >= 3 &&
              ((p[0] == FM_COMPACT_WIRE_VERSION && sync_compact_on(s)) ||
               (p[0] == FM_COMPACT4_WIRE_VERSION && sync_compact4_on(s)));
    /* version 5 (tree.c): likewise */
    bool v5 = rc != FM_OK && n >= 2 && p[0] == FM_TREE_WIRE_VERSION && sync_tree_on(s);
    int kind = v3   ? (p[1] == FM_MSG_COPS ? FM_SYNC_MSG_OPS : FM_SYNC_MSG_VECTOR)
               : v5 ? FM_SYNC_MSG_PRUNE
               : rc == FM_OK ? fm_wire_kind(m.type) : FM_SYNC_MSG_OTHER;
    struct fm_sync_msg_count *c = &nb->msgs[kind];
    s->k.msgs_in++;
    s->k.bytes_in += n;
    c->msgs_in++;
    c->bytes_in += n;
    if (rc == FM_OK && m.type == FM_MSG_SUMMARY && (m.u.summary.flags & FM_SUMMARY_REPLY))
        nb->checks_in++;
    if (nb->banned) {
        s->k.msgs_dropped++;
        return;
    }
    nb->heard_ms = sync_now(s);
    nb->heard_wall_ms = sync_wall(s);
    if (!nb->up) {
        nb->up = true;
        nb->soft_sent = 0; /* it gets every current soft record once */
        nb->soft_next_ms = 0;
        fm_log(FM_LOG_INFO, COMPONENT, "peer %s is up", nb->name);
        if (rc == FM_OK || v3 || v5)
            sync_recon_hello(s, nb, nb->heard_ms);
    }
    bool reply = v3 ? p[1] == FM_MSG_COPS && (p[2] & FM_OPS_REPLY)
                    : rc == FM_OK && m.type == FM_MSG_OPS && (m.u.ops.flags & FM_OPS_REPLY);
    if (s->npend > 0 && !reply)
        sync_pend_flush(s); /* what came before is taken first */
    if (v3) {
        sync_on_v3(s, nb, p, n);
        return;
    }
    if (v5) {
        sync_on_tree(s, nb, p, n);
        return;
    }
    if (rc == FM_OK && m.version != FM_WIRE_VERSION && s->cfg.wire_version == 1)
        rc = FM_EDECODE; /* a version-1 node's decoder stops at the version byte */
    if (rc != FM_OK) {
        bool other = m.version && m.version != FM_WIRE_VERSION &&
                     (m.version != FM_RECON_WIRE_VERSION || s->cfg.wire_version == 1);
        sync_nb_bad(s, nb, other ? "message of another protocol version" : "malformed message", rc);
        return;
    }
    switch (m.type) {
    case FM_MSG_SUMMARY: on_summary(s, nb, &m.u.summary); break;
    case FM_MSG_VECTOR: on_vector(s, nb, &m.u.vector); break;
    case FM_MSG_IHAVE: on_ihave(s, nb, m.u.ihave.flags, &m.u.ihave.e); break;
    case FM_MSG_PULL: sync_budget_on_pull(s, nb, p, n, &m.u.pull); break;
    case FM_MSG_OPS: sync_on_ops(s, nb, &m.u.ops); break;
    case FM_MSG_PRUNE: nb->eager = false; break;
    case FM_MSG_SOFT: sync_on_soft(s, nb, &m.u.soft); break;
    case FM_MSG_RECON: sync_on_recon(s, nb, &m.u.recon); break;
    default: sync_nb_bad(s, nb, "control message", FM_EDECODE); break;
    }
}

/* ------------------------------------------------------------ timers */

int sync_tick(struct fm_sync *s, uint64_t now)
{
    int rc = sync_heads_refresh(s); /* catches writes by other processes */
    if (rc != FM_OK)
        fm_log_limited(&lim_store, 5, FM_LOG_ERROR, COMPONENT, "cannot read heads: %s",
                       fm_strerror(rc));
    sync_flush(s);
    announce_lazy(s, now);
    sync_tree_tick(s, now);
    sync_ban_check(s, now);
    sync_soft_tick(s, now);
    sync_budget_tick(s, now);
    for (size_t n = 0; n < s->nnb; n++) {
        struct sync_nb *nb = s->nbs[n];
        if (!nb)
            continue;
        if (nb->up && !sync_nb_live(s, nb, now)) {
            nb->up = false;
            nb->vec_known = false; /* it may come back with another history (restore) */
            nb->soft_sent = 0;
            sync_recon_link_down(nb);
            sync_tree_link_down(s, nb);
            fm_log(FM_LOG_INFO, COMPONENT, "peer %s is silent: down or unreachable", nb->name);
        }
        if (nb->dealer && !sync_nb_live(s, nb, now) &&
            now - nb->dealer_opened_ms > sync_live_window(s) &&
            (!nb->heard_dealer_ms || now - nb->heard_dealer_ms > sync_live_window(s)))
            sync_dealer_reopen(s, nb); /* a stuck stream (docs/field-sync.md) */
        for (int r = 0; r < SYNC_CREDITS; r++)
            if (nb->reqs[r].id && now >= nb->reqs[r].deadline_ms)
                sync_req_release(s, nb, &nb->reqs[r]);
        if (now >= nb->next_ae_ms) {
            /* jitter keeps neighbours from synchronising their rounds */
            uint32_t j = 0;
            s->io.random(s->io.ctx, &j, sizeof(j));
            nb->next_ae_ms = now + s->cfg.anti_entropy_ms - s->cfg.anti_entropy_ms / 10 +
                             j % (s->cfg.anti_entropy_ms / 5 + 1);
            sync_recon_hello(s, nb, now);
            send_summary(s, nb, FM_SUMMARY_REPLY, now);
        }
    }
    for (size_t i = 0; i < s->nauthors; i++) {
        struct sync_author *a = &s->authors[i];
        if (a->pull_nb >= 0 && now >= a->pull_deadline_ms)
            a->pull_nb = -1;
    }
    sync_pull_schedule(s, now);
    return FM_OK;
}
