/*
 * reconcile.c — the engine's side of range reconciliation (recon.c does
 * the set arithmetic and the wire).
 *
 * When an anti-entropy SUMMARY differs from ours and the neighbour speaks
 * wire version 2, we start a RECON exchange instead of sending our whole
 * VECTOR; every RECON that arrives is answered, and what it teaches about
 * the neighbour lands where a VECTOR's entries would: its belief, our
 * wants (so we pull what we lack: the exchange is symmetric, so it pulls
 * what it lacks from what it learnt), and a fork probe for an author whose
 * head is at the same seq but another op.
 *
 * Versions: a neighbour's version is probed whenever it is heard again
 * after its link was down (and at start): when it is first heard, and with
 * each anti-entropy check while it is live, we send a hello (an empty
 * RECON at depth 0, version byte 2), at most SYNC_HELLOS of them. A
 * version-2 node answers every hello with an empty RECON at depth 1, which
 * asks nothing and is never answered, so two new nodes know each other
 * after one round trip, whichever of them probes; an old node drops
 * version-2 frames (logged, rate-limited), costs at most SYNC_HELLOS
 * six-byte frames per link-up and keeps getting VECTORs. The version
 * found is kept while the link is down, so a partition heals with a
 * reconciliation, and probed again when the neighbour is back.
 */
#include "sync_int.h"

#include <string.h>

#define COMPONENT "sync"

static struct fm_log_limiter lim_deep;

/* Our set as of the current heads (rebuilt only when they moved). */
static int set_fresh(struct fm_sync *s)
{
    if (s->recon_built && s->recon_total == s->vv_total &&
        memcmp(s->recon_hash, s->vv_hash, FM_HASH_LEN) == 0)
        return FM_OK;
    int rc = fm_recon_set_build(&s->recon, s->heads, s->nheads);
    s->recon_built = rc == FM_OK;
    s->recon_total = s->vv_total;
    memcpy(s->recon_hash, s->vv_hash, FM_HASH_LEN);
    return rc;
}

/* An empty RECON: at depth 0 a hello, at depth 1 the answer to one (an
 * answer that asks nothing, so it is never answered in turn). */
static bool send_empty(struct fm_sync *s, struct sync_nb *nb, uint8_t depth)
{
    struct fm_recon_enc e;
    bool sent = fm_recon_enc_begin(&e, &s->msg, depth) == FM_OK &&
                fm_recon_enc_finish(&e) == FM_OK && sync_send(s, nb, &s->msg) == FM_OK;
    if (sent)
        sync_compact_hello(s, nb); /* and version 3 (compact_peer.c) */
    return sent;
}

void sync_recon_hello(struct fm_sync *s, struct sync_nb *nb, uint64_t now)
{
    if (s->cfg.wire_version == 1 || nb->ver_probed)
        return;
    if (!sync_nb_live(s, nb, now)) {
        /* not heard yet: a hello ahead of our first SUMMARY lets a new
         * neighbour answer it with RECON; it does not count towards the
         * probe (it may go into a dead link) */
        if (nb->ver == 0)
            (void)send_empty(s, nb, 0);
        return;
    }
    if (nb->hellos >= SYNC_HELLOS) {
        nb->ver = 1; /* never answered: an older node */
        nb->ver_probed = true;
        fm_log(FM_LOG_INFO, COMPONENT, "peer %s speaks wire version 1: sending it vectors",
               nb->name);
        return;
    }
    if (send_empty(s, nb, 0))
        nb->hellos++;
}

void sync_recon_link_down(struct sync_nb *nb)
{
    /* keep the version it had (a partition heals with a reconciliation),
     * but check it again: it may come back as another build */
    nb->ver_probed = false;
    nb->hellos = 0;
    nb->v3 = nb->v3_dict = nb->v4 = false; /* learnt again from its hello's answer */
}

bool sync_recon_start(struct fm_sync *s, struct sync_nb *nb)
{
    if (s->cfg.wire_version == 1 || nb->ver != 2 ||
        fm_recon_vector_len(s->nheads) <= FM_RECON_MIN_VECTOR || set_fresh(s) != FM_OK)
        return false;
    if (fm_recon_initiate(&s->recon, &s->msg) != FM_OK)
        return false;
    if (sync_send(s, nb, &s->msg) != FM_OK)
        return true; /* dropped and counted; the next check starts again */
    return true;
}

struct learn {
    struct fm_sync *s;
    struct sync_nb *nb;
    uint64_t now;
    size_t probes; /* fork probes sent */
};

/* What a vector chunk covering our key tells the store (gossip.c,
 * own_vector_seen): how much of our own log the neighbour holds. */
static void own_seen(struct learn *l, const uint8_t pk[FM_PK_LEN], uint64_t seq)
{
    if (l->s->store.own_vector && memcmp(pk, l->s->pk, FM_PK_LEN) == 0)
        l->s->store.own_vector(l->s->store.ctx, seq);
}

static void learn_same(void *ctx, const struct fm_recon_item *ours)
{
    struct learn *l = ctx;
    own_seen(l, ours->pk, ours->seq);
    int32_t i = sync_author_get(l->s, ours->pk, false);
    if (i >= 0)
        sync_belief_set(l->nb, (uint32_t)i, ours->seq);
}

static void learn_item(void *ctx, const uint8_t pk[FM_PK_LEN], uint64_t seq,
                       const uint8_t hash[FM_RECON_HASH_LEN])
{
    struct learn *l = ctx;
    own_seen(l, pk, seq);
    int32_t i = sync_author_get(l->s, pk, seq > 0);
    if (i < 0)
        return;
    const struct sync_author *a = &l->s->authors[i];
    sync_belief_set(l->nb, (uint32_t)i, seq);
    if (seq == 0)
        return;
    sync_want_raise(l->s, l->nb, (uint32_t)i, seq, l->now, false);
    /* same seq, another head op: a fork of equal length (docs/sync.md) */
    if (seq == a->head && a->in_store && memcmp(a->hash, hash, FM_RECON_HASH_LEN) != 0)
        l->probes += sync_fork_probe_quiet(l->s, l->nb, (uint32_t)i, l->now);
}

void sync_on_recon(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_recon *m)
{
    struct learn l = {s, nb, sync_now(s), 0};
    struct fm_recon_cb cb = {&l, learn_same, learn_item};
    bool send = false, more = false;
    nb->ver = 2;
    nb->ver_probed = true;
    if (m->nranges == 0) {
        /* a hello (depth 0: it is probing us) or the answer to ours; an
         * exchange never sends an empty message (an asked range is always
         * answered), so this teaches nothing about its vector */
        if (m->depth == 0)
            (void)send_empty(s, nb, 1);
        return;
    }
    if (set_fresh(s) != FM_OK)
        return;
    int rc = fm_recon_respond(&s->recon, m, &cb, &s->msg, &send, &more);
    if (rc == FM_ETOOBIG) {
        /* the exchange ran too long: settle it the old way */
        fm_log_limited(&lim_deep, 10, FM_LOG_WARN, COMPONENT,
                       "peer %s: reconciliation over %d rounds: sending the whole vector",
                       nb->name, FM_RECON_DEPTH_MAX);
        sync_send_vector(s, nb);
    } else if (rc == FM_OK && send && s->msg.len > fm_recon_vector_len(s->nheads)) {
        sync_send_vector(s, nb); /* most authors differ: the vector is cheaper */
        more = false;
    } else if (rc == FM_OK && send && sync_send(s, nb, &s->msg) != FM_OK) {
        return; /* dropped and counted; the next check starts again */
    }
    if (rc == FM_OK && !more)
        nb->vec_known = true; /* the exchange is over: its vector is known */
    if (l.probes)
        fm_log(FM_LOG_INFO, COMPONENT,
               "peer %s: same seq, different head op: probing %zu author(s) for a fork", nb->name,
               l.probes);
    sync_pull_schedule(s, l.now);
}
