/*
 * neighbours.c — the neighbour table: each neighbour's record and its
 * belief of what the neighbour holds per author, whether it is live, what
 * `fieldmesh peers` shows of it, the messages it sent that we dropped, and
 * the ban of a neighbour whose key was revoked or expired. What is sent to
 * neighbours and when is gossip.c's and pull.c's business.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#define COMPONENT "sync"

static struct fm_log_limiter lim_bad;

/* ------------------------------------------------------------ neighbours */

uint64_t sync_nb_belief(const struct sync_nb *nb, uint32_t a)
{
    return a < nb->bcap ? nb->belief[a] : 0;
}

int sync_nb_grow(struct sync_nb *nb, size_t n)
{
    size_t cap = nb->bcap ? nb->bcap : 64;
    if (n <= nb->bcap)
        return FM_OK;
    while (cap < n)
        cap *= 2;
    uint64_t *b = realloc(nb->belief, cap * sizeof(*b));
    if (!b)
        return FM_ENOMEM;
    nb->belief = b;
    uint64_t *a = realloc(nb->announced, cap * sizeof(*a));
    if (!a)
        return FM_ENOMEM;
    nb->announced = a;
    memset(b + nb->bcap, 0, (cap - nb->bcap) * sizeof(*b));
    memset(a + nb->bcap, 0, (cap - nb->bcap) * sizeof(*a));
    nb->bcap = cap;
    return FM_OK;
}

void sync_belief_set(struct sync_nb *nb, uint32_t a, uint64_t seq)
{
    if (a >= nb->bcap && sync_nb_grow(nb, (size_t)a + 1) != FM_OK)
        return; /* out of memory: the belief stays 0, which only costs a resend */
    nb->belief[a] = seq;
}

void sync_belief_raise(struct sync_nb *nb, uint32_t a, uint64_t seq)
{
    if (seq > sync_nb_belief(nb, a))
        sync_belief_set(nb, a, seq);
}

struct sync_nb *sync_nb_find(struct fm_sync *s, const uint8_t pk[FM_PK_LEN])
{
    for (size_t i = 0; i < s->nnb; i++)
        if (s->nbs[i] && memcmp(s->nbs[i]->pk, pk, FM_PK_LEN) == 0)
            return s->nbs[i];
    return NULL;
}

struct sync_nb *sync_nb_new(struct fm_sync *s, const uint8_t pk[FM_PK_LEN])
{
    size_t slot = 0;
    while (slot < s->nnb && s->nbs[slot])
        slot++;
    if (slot == FM_SYNC_MAX_PEERS)
        return NULL;
    struct sync_nb *nb = calloc(1, sizeof(*nb));
    if (!nb)
        return NULL;
    nb->slot = (int)slot;
    memcpy(nb->pk, pk, FM_PK_LEN);
    if (fm_curve_from_pk(pk, nb->curve) != FM_OK) {
        free(nb);
        return NULL;
    }
    nb->eager = true;
    nb->next_ae_ms = sync_now(s);
    nb->rate_bps = s->cfg.rate_limit_bps;
    s->nbs[slot] = nb;
    if (slot == s->nnb)
        s->nnb++;
    return nb;
}

void sync_nb_free(struct fm_sync *s, struct sync_nb *nb)
{
    if (!nb)
        return;
    for (size_t i = 0; i < s->nauthors; i++) {
        struct sync_author *a = &s->authors[i];
        if (a->want_from == nb->slot)
            a->want_from = -1;
        if (a->pull_nb == nb->slot)
            a->pull_nb = -1;
        if (a->lazy_from == nb->slot)
            a->lazy_from = -1;
    }
    if (s->pend_slot == nb->slot) { /* its held replies go with it */
        s->npend = 0;
        s->pend_ops = 0;
        s->pend_slot = -1;
        for (size_t i = 0; i < s->nauthors; i++)
            s->authors[i].pulled = 0;
    }
    sync_dealer_close(s, nb);
    if (s->tree.parent == nb->slot)
        s->tree.parent = -1; /* the next tick chooses again (tree.c) */
    s->nbs[nb->slot] = NULL;
    while (s->nnb > 0 && !s->nbs[s->nnb - 1])
        s->nnb--;
    sync_budget_release(nb);
    free(nb->belief);
    free(nb->announced);
    free(nb);
}

uint64_t sync_live_window(const struct fm_sync *s)
{
    uint64_t w = 2 * (uint64_t)s->cfg.anti_entropy_ms + 1000;
    uint64_t hb = 3 * (uint64_t)s->cfg.heartbeat_ms;
    return w > hb ? w : hb;
}

bool sync_nb_live(const struct fm_sync *s, const struct sync_nb *nb, uint64_t now)
{
    return nb->heard_ms && now - nb->heard_ms <= sync_live_window(s);
}

void sync_nb_info(const struct fm_sync *s, const struct sync_nb *nb, struct fm_sync_peer_info *pi)
{
    memset(pi, 0, sizeof(*pi));
    memcpy(pi->pk, nb->pk, FM_PK_LEN);
    fm_strlcpy(pi->name, nb->name, sizeof(pi->name));
    fm_strlcpy(pi->endpoint, nb->endpoint, sizeof(pi->endpoint));
    pi->configured = nb->configured;
    pi->connected = sync_nb_live(s, nb, sync_now(s));
    pi->vector_known = nb->vec_known;
    pi->push = sync_nb_push(s, nb);
    pi->eager = pi->push != FM_PUSH_LAZY;
    pi->last_heard_ms = nb->heard_wall_ms;
    pi->skew_ms = nb->skew_ms;
    pi->skew_known = nb->skew_known;
    pi->ops_received = nb->ops_received;
    pi->ops_sent = nb->ops_sent;
    pi->bad_messages = nb->bad;
    pi->banned = nb->banned;
    pi->connected = pi->connected && !nb->banned;
    pi->rate_limit_bps = nb->rate_bps;
    pi->queued_bytes = nb->q_bytes;
    memcpy(pi->msgs, nb->msgs, sizeof(pi->msgs));
    pi->checks_out = nb->checks_out;
    pi->checks_in = nb->checks_in;
    for (size_t i = 0; i < s->nauthors; i++) {
        uint64_t b = sync_nb_belief(nb, (uint32_t)i), h = s->authors[i].head;
        if (b > h)
            pi->we_lack += b - h;
        else if (nb->vec_known)
            pi->it_lacks += h - b;
    }
}

void sync_nb_bad(struct fm_sync *s, struct sync_nb *nb, const char *what, int err)
{
    char tag[17];
    nb->bad++;
    s->k.msgs_dropped++;
    sync_hex(nb->pk, 8, tag, sizeof(tag));
    fm_log_limited(&lim_bad, 10, FM_LOG_WARN, COMPONENT, "dropped %s from %s (%s): %s", what,
                   nb->name[0] ? nb->name : tag, tag, fm_strerror(err));
}

/* ------------------------------------------------------------ bans */

void sync_nb_ban(struct fm_sync *s, struct sync_nb *nb, int why)
{
    char tag[17];
    sync_hex(nb->pk, 8, tag, sizeof(tag));
    fm_log(FM_LOG_WARN, COMPONENT, "dropping every connection of %s (%s): %s", nb->name, tag,
           why == FM_EEXPIRED ? "its certificate expired" : "its key was revoked");
    nb->banned = true;
    nb->up = false;
    nb->vec_known = false;
    nb->eager = false;
    for (int r = 0; r < SYNC_CREDITS; r++)
        if (nb->reqs[r].id)
            sync_req_release(s, nb, &nb->reqs[r]);
    for (size_t i = 0; i < s->nauthors; i++)
        if (s->authors[i].want_from == nb->slot)
            s->authors[i].want_from = -1;
    sync_dealer_close(s, nb); /* also empties its send queue */
    if (nb->route_len) {
        nb->route_len = 0;
        s->rebind_due = true;
    }
    s->k.peers_dropped++;
}
