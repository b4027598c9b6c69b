/*
 * pull.c — pulling ops: what we want, when we ask, how we answer, and how
 * replies are settled.
 *
 * Claims that a neighbour holds more of an author than we do (its VECTOR,
 * IHAVE, the ops it pushed) become a *want* per author (sync_want_raise):
 * the highest seq claimed, who claimed it, and from when it may be pulled
 * (lazy announcements wait a grace, refused authors a backoff). The engine
 * wakes when the earliest of those waits ends (s->pull_wake_ms,
 * sync_pull_wake), not at its next tick, so a grace is as long as it says
 * rather than up to a push interval longer. Pulls are
 * credit-based: at most SYNC_CREDITS requests in flight per neighbour, at
 * most one neighbour pulled per author at a time, and the authors due are
 * spread over the free credits so several replies are in flight at once
 * (sync_pull_schedule). A reply frees its credit the moment it arrives and
 * the next PULL for its authors starts after the last op it brought
 * (reply_settle), so it leaves before the reply is ingested; replies read
 * in one burst are held and ingested together in one store call
 * (sync_on_ops, sync_pend_flush -> sync_ops_take in gossip.c). The serving
 * side (sync_on_pull) answers within the neighbour's byte budget, by
 * priority class over a rate-limited link. A fork probe is a one-op PULL
 * outside the credits; when the op it brings differs from ours with
 * another prev, it walks down SYNC_PROBE_SPAN seqs per round trip until it
 * meets the fork's root.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#define COMPONENT "sync"

/* Someone claims `seq` of author i exists at nb. */
void sync_want_raise(struct fm_sync *s, struct sync_nb *nb, uint32_t i, uint64_t seq,
                       uint64_t after_ms, bool graft)
{
    struct sync_author *a = &s->authors[i];
    if (seq > a->limit)
        seq = a->limit;
    if (seq <= a->head)
        return;
    if (a->refuse_backoff_ms != 0) {
        if (a->head != a->refused_head)
            a->refuse_backoff_ms = 0; /* progress: the refusal is behind us */
        else if (after_ms < a->refused_until_ms)
            after_ms = a->refused_until_ms;
    }
    if (s->store.own_claim && seq > s->own_claimed && memcmp(a->pk, s->pk, FM_PK_LEN) == 0) {
        /* a neighbour holds more of our own log than we do (lost store,
         * old backup): the store must not sign until it is back */
        s->own_claimed = seq;
        s->store.own_claim(s->store.ctx, seq);
    }
    if (seq > a->want || a->want_from < 0) {
        bool pending = a->want > a->head && a->want_from >= 0;
        a->want = seq > a->want ? seq : a->want;
        a->want_from = nb->slot;
        a->want_graft = graft;
        if (!pending || after_ms < a->want_after_ms)
            a->want_after_ms = after_ms;
    } else if (after_ms < a->want_after_ms) {
        a->want_after_ms = after_ms;
        a->want_graft = graft;
    }
    if (a->want_after_ms > sync_now(s) &&
        (s->pull_wake_ms == 0 || a->want_after_ms < s->pull_wake_ms))
        s->pull_wake_ms = a->want_after_ms;
}

/* The pull wake has come: the next one is the earliest grace still ahead. */
void sync_pull_wake(struct fm_sync *s, uint64_t now)
{
    uint64_t next = 0;
    s->pull_wake_ms = 0;
    for (size_t i = 0; i < s->nauthors; i++) {
        const struct sync_author *a = &s->authors[i];
        if (a->want_from >= 0 && a->want > a->head && a->want_after_ms > now &&
            (next == 0 || a->want_after_ms < next))
            next = a->want_after_ms;
    }
    s->pull_wake_ms = next;
    sync_pull_schedule(s, now);
}

/* The seq to pull after: our head, or the last op already received in a
 * pull reply and waiting for ingest. */
static uint64_t author_next(const struct sync_author *a)
{
    return a->pulled > a->head ? a->pulled : a->head;
}

static struct sync_req *req_free_slot(struct sync_nb *nb)
{
    for (int r = 0; r < SYNC_CREDITS; r++)
        if (nb->reqs[r].id == 0)
            return &nb->reqs[r];
    return NULL;
}

void sync_pull_schedule(struct fm_sync *s, uint64_t now)
{
    if (sync_fault_paused(s, now))
        return; /* the store cannot take ops (fault.c) */
    for (size_t n = 0; n < s->nnb; n++) {
        struct sync_nb *nb = s->nbs[n];
        struct sync_req *rq;
        size_t eligible = 0, nfree = 0, per = 0, behind = 0;
        if (!nb)
            continue;
        for (int r = 0; r < SYNC_CREDITS; r++)
            nfree += nb->reqs[r].id == 0;
        if (nfree == 0)
            continue;
        for (size_t i = 0; i < s->nauthors; i++) {
            const struct sync_author *a = &s->authors[i];
            bool wanted = a->want_from == nb->slot && a->want > author_next(a);
            behind += wanted;
            eligible += wanted && a->pull_nb < 0 && now >= a->want_after_ms;
        }
        if (eligible == 0)
            continue;
        /* spread the authors over the free credits, so several replies are
         * in flight: the sender reads the next while we ingest this one */
        per = (eligible + nfree - 1) / nfree;
        if (per > FM_WIRE_PULL_MAX)
            per = FM_WIRE_PULL_MAX;
        while ((rq = req_free_slot(nb)) != NULL) {
            bool graft = false, no_prev = nb->v4;
            fm_buf_reset(&s->entries);
            rq->n = 0;
            for (size_t i = 0; i < s->nauthors && rq->n < per; i++) {
                struct sync_author *a = &s->authors[i];
                if (a->want_from != nb->slot || a->want <= author_next(a) || a->pull_nb >= 0 ||
                    now < a->want_after_ms)
                    continue;
                if (sync_entries_add(s, a->pk, author_next(a) + 1) != FM_OK)
                    break;
                rq->from[rq->n] = author_next(a) + 1;
                rq->authors[rq->n++] = (uint32_t)i;
                graft = graft || a->want_graft;
                /* from our head + 1, not past a reply still waiting */
                no_prev = no_prev && author_next(a) == a->head && (a->in_store || a->head == 0);
            }
            if (rq->n == 0)
                break;
            sync_entries_sort(s);
            if (++s->next_req_id == 0)
                s->next_req_id = 1;
            if (fm_wire_encode_pull(&s->msg,
                                    (graft ? FM_PULL_GRAFT : 0) | (no_prev ? FM_PULL_NO_PREV : 0),
                                    s->next_req_id,
                                    s->cfg.batch_ops, s->entries.data, rq->n) != FM_OK ||
                sync_send(s, nb, &s->msg) != FM_OK) {
                rq->n = 0;
                break; /* retried at the next tick */
            }
            if (graft)
                nb->eager = true;
            rq->id = s->next_req_id;
            /* catching up on many authors from it: not gossiped on (gossip.c) */
            rq->bulk = !graft && behind >= SYNC_CATCHUP_AUTHORS;
            rq->deadline_ms = now + SYNC_PULL_TIMEOUT_MS;
            for (uint16_t k = 0; k < rq->n; k++) {
                struct sync_author *a = &s->authors[rq->authors[k]];
                a->pull_nb = nb->slot;
                a->pull_deadline_ms = rq->deadline_ms;
            }
        }
    }
}

void sync_req_release(struct fm_sync *s, struct sync_nb *nb, struct sync_req *rq)
{
    for (uint16_t k = 0; k < rq->n; k++) {
        struct sync_author *a = &s->authors[rq->authors[k]];
        if (a->pull_nb == nb->slot)
            a->pull_nb = -1;
    }
    rq->id = 0;
    rq->n = 0;
}

/* The probe state of author i, grown with the authors; NULL when out of
 * memory (the probe is skipped; the next refusal tries again). */
static struct sync_probe *probe_of(struct fm_sync *s, uint32_t i)
{
    if (i >= s->probe_cap) {
        size_t cap = s->probe_cap ? s->probe_cap : 64;
        while (cap <= i)
            cap *= 2;
        struct sync_probe *p = realloc(s->probes, cap * sizeof(*p));
        if (!p)
            return NULL;
        memset(p + s->probe_cap, 0, (cap - s->probe_cap) * sizeof(*p));
        s->probes = p;
        s->probe_cap = cap;
    }
    return &s->probes[i];
}

/* A PULL of author i's ops from..from+count-1 from nb, outside the credits
 * (answered like any pull). */
static int probe_send(struct fm_sync *s, struct sync_nb *nb, uint32_t i, uint64_t from,
                      uint32_t count)
{
    fm_buf_reset(&s->entries);
    if (sync_entries_add(s, s->authors[i].pk, from) != FM_OK)
        return FM_ENOMEM;
    if (++s->next_req_id == 0)
        s->next_req_id = 1;
    int rc = fm_wire_encode_pull(&s->msg, 0, s->next_req_id, count, s->entries.data, 1);
    return rc == FM_OK ? sync_send(s, nb, &s->msg) : rc;
}

/* An op at head+1 from nb does not chain onto our head: nb holds another
 * history of this author. Fetch nb's op at our head (a PULL outside the
 * credits, answered like any pull): if it differs from ours, the store's
 * ingest sees two ops with one author and seq, keeps the evidence and, if
 * they share their prev (the fork's root), settles which branch stays; if
 * not, sync_fork_probe_reply walks lower (docs/field-sync.md §5). At most
 * one probe per author per SYNC_PROBE_INTERVAL_MS. */
void sync_fork_probe(struct fm_sync *s, struct sync_nb *nb, uint32_t i, uint64_t now)
{
    if (sync_fork_probe_quiet(s, nb, i, now))
        fm_log(FM_LOG_INFO, COMPONENT, "peer %s holds another history of an author at seq %llu: "
               "probing for a fork", nb->name, (unsigned long long)s->authors[i].head);
}

bool sync_fork_probe_quiet(struct fm_sync *s, struct sync_nb *nb, uint32_t i, uint64_t now)
{
    struct sync_author *a = &s->authors[i];
    struct sync_probe *p = probe_of(s, i);
    if (!p || (p->started_ms && now - p->started_ms < SYNC_PROBE_INTERVAL_MS))
        return false;
    p->started_ms = now;
    p->low = 0;
    if (probe_send(s, nb, i, a->head, 1) != FM_OK)
        return false;
    p->low = p->top = a->head;
    p->slot = nb->slot;
    return true;
}

/* Sends nb our op at seq, read into s->tmp (u32 len | op), as an eager
 * push: its ingest meets the two ops of the fork's root and settles. */
static void probe_push(struct fm_sync *s, struct sync_nb *nb, uint64_t seq)
{
    if (fm_wire_ops_begin(&s->msg, 0, 0) == FM_OK &&
        fm_wire_ops_add(&s->msg, s->tmp.data, s->tmp.len, 1) == FM_OK &&
        fm_wire_ops_finish(&s->msg) == FM_OK && sync_send_ops(s, nb, &s->msg, false) == FM_OK)
        fm_log(FM_LOG_INFO, COMPONENT, "peer %s holds the losing branch of a fork at seq %llu: "
               "sent it the kept op", nb->name, (unsigned long long)seq);
}

/* Each step is driven by the reply to the last: one request in flight per
 * author, and only a correctly signed op that differs from ours with
 * another prev moves it lower, so a peer can make us walk no further than
 * the author really forked (and never below seq 1). */
void sync_fork_probe_reply(struct fm_sync *s, struct sync_nb *nb, uint32_t i,
                           const struct fm_op *d)
{
    struct sync_probe *p = i < s->probe_cap ? &s->probes[i] : NULL;
    struct fm_op ours;
    uint8_t h[FM_HASH_LEN], hd[FM_HASH_LEN];
    size_t got = 0;
    if (!p || p->low == 0 || p->slot != nb->slot || d->seq < p->low || d->seq > p->top)
        return;
    fm_buf_reset(&s->tmp);
    if (s->store.read_ops(s->store.ctx, d->author, d->seq, 1, FM_OP_MAX_LEN + 4, &s->tmp,
                          &got) != FM_OK ||
        got != 1 || s->tmp.len < 4 || fm_op_decode(&ours, s->tmp.data + 4, s->tmp.len - 4) != FM_OK)
        return;
    fm_op_hash(&ours, h);
    fm_op_hash(d, hd);
    if (memcmp(h, hd, FM_HASH_LEN) == 0)
        return; /* the same op: the root is above it, in this reply */
    if (memcmp(ours.prev, d->prev, FM_HASH_LEN) == 0) {
        p->low = 0; /* found */
        /* the root, settled by our ingest. If our op won, nb holds the
         * losing branch and would not learn of it (it pulls nothing from
         * us while its branch is the longer): push it our op there */
        if (ours.hlc < d->hlc || (ours.hlc == d->hlc && memcmp(h, hd, FM_HASH_LEN) < 0))
            probe_push(s, nb, d->seq);
        return;
    }
    if (d->seq != p->low)
        return; /* above the lowest op asked: that one says where to go */
    p->low = 0;
    if (d->seq < 2 || !fm_op_verify(d))
        return;
    uint64_t from = d->seq > SYNC_PROBE_SPAN ? d->seq - SYNC_PROBE_SPAN : 1;
    uint32_t count = (uint32_t)(d->seq - from);
    if (probe_send(s, nb, i, from, count) != FM_OK)
        return;
    p->low = from;
    p->top = d->seq - 1;
    fm_log(FM_LOG_INFO, COMPONENT, "peer %s: the fork of an author at seq %llu is lower down: "
           "probing seqs %llu..%llu", nb->name, (unsigned long long)d->seq,
           (unsigned long long)from, (unsigned long long)(d->seq - 1));
}

/* Priority class (0 critical .. 2 bulk) of op `seq` of author pk; 1 when
 * the store has no opinion. Uses s->tmp. */
int sync_op_priority(struct fm_sync *s, const uint8_t *pk, uint64_t seq)
{
    size_t got = 0;
    if (!s->store.priority)
        return 1;
    fm_buf_reset(&s->tmp);
    if (s->store.read_ops(s->store.ctx, pk, seq, 1, 1, &s->tmp, &got) != FM_OK || got == 0 ||
        s->tmp.len < 6)
        return 1;
    return s->store.priority(s->store.ctx, s->tmp.data[4 + 1]);
}

/* Serves a PULL within the byte budget of this neighbour; over a
 * rate-limited link by priority class of each author's next op (critical,
 * ordinary, bulk) — elsewhere the whole reply leaves at once and the class
 * lookups would only cost reads. The walk starts at an offset that moves
 * with every request, so one author with a long backlog cannot starve the
 * others. */
void sync_on_pull(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_pull *p)
{
    size_t budget = p->max_ops, count = 0;
    size_t max_bytes = sync_nb_budget(nb, SYNC_REPLY_MAX_BYTES);
    uint8_t flags = FM_OPS_REPLY;
    uint32_t served_idx[FM_WIRE_PULL_MAX];
    uint64_t served_seq[FM_WIRE_PULL_MAX];
    uint8_t prio[FM_WIRE_PULL_MAX];
    size_t nserved = 0;
    bool stop = false;
    if (p->flags & FM_PULL_GRAFT)
        nb->eager = true;
    for (uint32_t k = 0; k < p->e.count; k++) {
        const uint8_t *pk;
        uint64_t from;
        fm_wire_entry(&p->e, k, &pk, &from);
        int32_t i = sync_author_get(s, pk, false);
        prio[k] = 1;
        if (i < 0)
            continue;
        sync_belief_raise(nb, (uint32_t)i, from - 1);
        /* the order matters only when the reply may be cut by a rate limit */
        if (p->e.count > 1 && nb->rate_bps && s->authors[i].in_store &&
            s->authors[i].head >= from) {
            int pr = sync_op_priority(s, pk, from);
            prio[k] = (uint8_t)(pr < 0 ? 0 : pr > 2 ? 2 : pr);
        }
    }
    uint32_t start = p->e.count ? (uint32_t)(++s->pull_rr % p->e.count) : 0;
    if (fm_wire_ops_begin(&s->msg, FM_OPS_REPLY, p->req_id) != FM_OK)
        return;
    for (int pass = 0; pass < 3 && !stop; pass++) {
        for (uint32_t kk = 0; kk < p->e.count; kk++) {
            uint32_t k = (start + kk) % p->e.count;
            const uint8_t *pk;
            uint64_t from;
            size_t got = 0;
            if (prio[k] != pass)
                continue;
            fm_wire_entry(&p->e, k, &pk, &from);
            int32_t i = sync_author_get(s, pk, false);
            if (i < 0)
                continue;
            struct sync_author *a = &s->authors[i];
            if (!a->in_store || a->head < from)
                continue;
            if (budget == 0 || s->msg.len >= max_bytes) {
                flags |= FM_OPS_TRUNCATED;
                stop = true;
                break;
            }
            fm_buf_reset(&s->tmp);
            if (s->store.read_ops(s->store.ctx, pk, from, budget, max_bytes - s->msg.len,
                                  &s->tmp, &got) != FM_OK ||
                got == 0)
                continue;
            if (fm_wire_ops_add(&s->msg, s->tmp.data, s->tmp.len, (uint32_t)got) != FM_OK) {
                flags |= FM_OPS_TRUNCATED;
                stop = true;
                break;
            }
            budget -= got;
            count += got;
            served_idx[nserved] = (uint32_t)i;
            served_seq[nserved++] = from + got - 1;
        }
    }
    s->msg.data[2] = flags; /* the flags byte follows version and type */
    if (fm_wire_ops_finish(&s->msg) != FM_OK ||
        sync_send_ops(s, nb, &s->msg, !(p->flags & FM_PULL_NO_PREV)) != FM_OK)
        return;
    for (size_t k = 0; k < nserved; k++)
        sync_belief_raise(nb, served_idx[k], served_seq[k]);
    nb->ops_sent += count;
    s->k.ops_sent += count;
}

void sync_pend_flush(struct fm_sync *s)
{
    struct sync_nb *nb = s->pend_slot >= 0 ? s->nbs[s->pend_slot] : NULL;
    size_t npend = s->npend;
    s->npend = 0;
    s->pend_ops = 0;
    s->pend_slot = -1;
    if (npend == 0)
        return;
    if (nb != NULL && !nb->banned) {
        /* replies that brought nothing leave pend unallocated: no base */
        for (size_t m = 0; m < npend; m++) {
            struct fm_wire_ops *o = &s->pend_msg[m];
            o->data = s->pend.data ? s->pend.data + (size_t)(uintptr_t)o->data : NULL;
            if (o->hashes != NULL)
                o->hashes = s->pend_hash.data + ((size_t)(uintptr_t)o->hashes - 1);
        }
        sync_ops_take(s, nb, s->pend_msg, npend);
        return;
    }
    /* its neighbour is gone: the ops come again from someone */
    for (size_t i = 0; i < s->nauthors; i++)
        s->authors[i].pulled = 0;
    sync_pull_schedule(s, sync_now(s));
}

/* A pull reply has come: note what it brings (so the next pull for those
 * authors starts after it), settle the request and free its credit, and
 * send the next pulls at once, so the neighbour reads and sends them while
 * we ingest this one. */
static bool reply_settle(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_ops *o)
{
    bool catchup = false;
    size_t pos = 0;
    const uint8_t *p;
    size_t len;
    while (fm_wire_ops_next(o, &pos, &p, &len)) {
        struct fm_op d;
        int32_t i;
        if (fm_op_decode(&d, p, len) != FM_OK || (i = sync_author_get(s, d.author, false)) < 0)
            continue;
        struct sync_author *a = &s->authors[i];
        if (d.seq == author_next(a) + 1 && d.seq <= a->limit)
            a->pulled = d.seq;
    }
    for (int r = 0; r < SYNC_CREDITS; r++) {
        struct sync_req *rq = &nb->reqs[r];
        if (rq->id != o->req_id || rq->id == 0)
            continue;
        for (uint16_t k = 0; k < rq->n; k++) {
            struct sync_author *a = &s->authors[rq->authors[k]];
            uint64_t next = author_next(a);
            /* it had nothing more although it said so: forget the stale claim */
            if (!(o->flags & FM_OPS_TRUNCATED) && a->want_from == nb->slot &&
                a->want > next && next < rq->from[k]) {
                a->want = next;
                a->want_from = -1;
                if (s->store.own_claim && memcmp(a->pk, s->pk, FM_PK_LEN) == 0 &&
                    s->own_claimed > next) {
                    s->own_claimed = next;
                    s->store.own_claim(s->store.ctx, next);
                }
            }
        }
        catchup = rq->bulk;
        sync_req_release(s, nb, rq);
        break;
    }
    sync_pull_schedule(s, sync_now(s));
    return catchup;
}

/* A pull reply waits for the others read in the same burst (flushed by
 * fm_sync_run), so that they are ingested in one transaction. Anything
 * else is handled at once. */
void sync_on_ops(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_ops *o)
{
    if (!(o->flags & FM_OPS_REPLY)) {
        sync_ops_take(s, nb, o, 1);
        return;
    }
    if (s->npend > 0 &&
        (s->pend_slot != nb->slot || s->npend == SYNC_PEND_MAX ||
         s->pend_ops + o->count > SYNC_INGEST_MAX_OPS ||
         s->pend.len + o->data_len > SYNC_INGEST_MAX_BYTES))
        sync_pend_flush(s);
    struct fm_wire_ops held = *o;
    if (reply_settle(s, nb, o))
        held.flags |= SYNC_OPS_CATCHUP; /* an answer to anti-entropy */
    o = &held;
    if (s->npend == 0) {
        fm_buf_reset(&s->pend);
        fm_buf_reset(&s->pend_hash);
    }
    size_t off = s->pend.len, hoff = s->pend_hash.len;
    if (fm_buf_append(&s->pend, o->data, o->data_len) != FM_OK) {
        sync_ops_take(s, nb, o, 1); /* no room to hold it: take it alone */
        return;
    }
    s->pend_msg[s->npend] = *o;
    s->pend_msg[s->npend].data = (const uint8_t *)(uintptr_t)off; /* rebased at the flush */
    /* the rebuilt hashes go along (1 + offset: 0 stays "none"); without
     * room the store hashes the ops itself */
    s->pend_msg[s->npend].hashes =
        o->hashes != NULL &&
                fm_buf_append(&s->pend_hash, o->hashes, (size_t)o->count * FM_HASH_LEN) == FM_OK
            ? (const uint8_t *)(uintptr_t)(hoff + 1)
            : NULL;
    s->npend++;
    s->pend_ops += o->count;
    s->pend_slot = nb->slot;
}
