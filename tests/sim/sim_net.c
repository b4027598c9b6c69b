/*
 * sim_net.c — simulated time and the simulated network.
 *
 * One binary heap of events ordered by (time, sequence number): the
 * sequence number breaks ties in the order events were made, so a run
 * never depends on the heap's layout. A message an engine sends goes
 * through its link: it waits for the link's bandwidth (at most
 * SIM_LINK_HWM messages queued, as ZeroMQ's high-water mark; a send past
 * it is refused and the engine counts the drop), may be lost or
 * duplicated, and arrives after the latency plus a uniform jitter. Links
 * keep their messages in order (as TCP does) unless the scenario asks for
 * reordering. A message to a crashed node is refused at once (the
 * connection is gone); one that meets a cut, or a node that crashed or
 * restarted while it flew, is lost on arrival.
 */
#include "sim_int.h"
#include "sync/wire_int.h" /* FM_WIRE_MAX_MSG: the cap every message must keep */

#include <stdlib.h>
#include <string.h>

static bool ev_less(const struct sim_ev *a, const struct sim_ev *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

int sim_ev_push(struct sim_world *w, const struct sim_ev *e)
{
    if (w->nheap == w->heap_cap) {
        size_t cap = w->heap_cap ? 2 * w->heap_cap : 1024;
        struct sim_ev *h = realloc(w->heap, cap * sizeof(*h));
        if (!h)
            return FM_ENOMEM;
        w->heap = h;
        w->heap_cap = cap;
    }
    size_t i = w->nheap++;
    struct sim_ev x = *e;
    x.seq = w->seq++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(&x, &w->heap[p]))
            break;
        w->heap[i] = w->heap[p];
        i = p;
    }
    w->heap[i] = x;
    return FM_OK;
}

bool sim_ev_pop(struct sim_world *w, struct sim_ev *out)
{
    if (w->nheap == 0)
        return false;
    *out = w->heap[0];
    struct sim_ev x = w->heap[--w->nheap];
    size_t i = 0, n = w->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ev_less(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!ev_less(&w->heap[c], &x))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n > 0)
        w->heap[i] = x;
    return true;
}

int sim_wake(struct sim_world *w, struct sim_node *n, uint64_t t)
{
    if (!n->eng || t >= n->wake_at)
        return FM_OK;
    n->wake_at = t;
    struct sim_ev e = {.t = t, .type = SIM_E_WAKE, .node = n->index, .gen = n->gen};
    return sim_ev_push(w, &e);
}

bool sim_link_cut(const struct sim_world *w, uint32_t a, uint32_t b)
{
    return w->cut && w->nodes[a].side != w->nodes[b].side;
}

bool sim_linked(const struct sim_world *w, uint32_t a, uint32_t b)
{
    const struct sim_node *n = &w->nodes[a];
    for (uint32_t i = 0; i < n->nlinks; i++)
        if (n->links[i].to == b)
            return true;
    return false;
}

static int link_half(struct sim_node *n, uint32_t to)
{
    if (n->nlinks == n->lcap) {
        uint32_t cap = n->lcap ? 2 * n->lcap : 8;
        struct sim_link *l = realloc(n->links, cap * sizeof(*l));
        if (!l)
            return FM_ENOMEM;
        n->links = l;
        n->lcap = cap;
    }
    memset(&n->links[n->nlinks], 0, sizeof(n->links[0]));
    n->links[n->nlinks++].to = to;
    return FM_OK;
}

int sim_link_add(struct sim_world *w, uint32_t a, uint32_t b)
{
    if (a == b || sim_linked(w, a, b))
        return FM_EEXISTS;
    if (w->nodes[a].nlinks >= FM_SYNC_MAX_PEERS - 1 || w->nodes[b].nlinks >= FM_SYNC_MAX_PEERS - 1)
        return FM_ETOOBIG;
    int rc = link_half(&w->nodes[a], b);
    return rc == FM_OK ? link_half(&w->nodes[b], a) : rc;
}

/* ------------------------------------------------------------ the io table */

static uint64_t io_mono(void *ctx)
{
    struct sim_node *n = ctx;
    return n->w->now;
}

static uint64_t io_wall(void *ctx)
{
    struct sim_node *n = ctx;
    return n->w->epoch_ms + n->w->now + (uint64_t)n->skew_ms;
}

static void io_random(void *ctx, void *out, size_t len)
{
    struct sim_node *n = ctx;
    sim_rng_bytes(&n->rng, out, len);
}

static struct sim_link *link_to(struct sim_node *n, const uint8_t pk[FM_PK_LEN])
{
    for (uint32_t i = 0; i < n->nlinks; i++)
        if (memcmp(n->w->nodes[n->links[i].to].id.pk, pk, FM_PK_LEN) == 0)
            return &n->links[i];
    return NULL;
}

static void fail(struct sim_world *w, const char *what, const struct sim_node *n, size_t v)
{
    if (!w->res->failure[0])
        snprintf(w->res->failure, sizeof(w->res->failure), "%s: node %s, %zu, at %llu ms", what,
                 n->name, v, (unsigned long long)w->now);
}

/* Schedules one copy of a message on link l from n, arriving at t. */
static int deliver_at(struct sim_world *w, struct sim_node *n, struct sim_link *l,
                      const uint8_t *p, size_t len, uint64_t t)
{
    struct sim_ev e = {.t = t, .type = SIM_E_DELIVER, .node = l->to, .from = n->index,
                       .gen = w->nodes[l->to].gen, .len = (uint32_t)len};
    e.data = malloc(len ? len : 1);
    if (!e.data)
        return FM_ENOMEM;
    memcpy(e.data, p, len);
    int rc = sim_ev_push(w, &e);
    if (rc != FM_OK)
        free(e.data);
    return rc;
}

static int io_send(void *ctx, const uint8_t pk[FM_PK_LEN], const uint8_t *p, size_t len)
{
    struct sim_node *n = ctx;
    struct sim_world *w = n->w;
    const struct sim_scenario *sc = w->sc;
    struct sim_link *l = link_to(n, pk);
    if (len > FM_WIRE_MAX_MSG + 0u)
        fail(w, "message over the cap", n, len);
    if (len > w->res->max_msg)
        w->res->max_msg = len;
    if (!l || !w->nodes[l->to].eng)
        return FM_ENET;
    /* the queue waiting for bandwidth, as ZeroMQ's high-water mark */
    while (l->dep_n > 0 && l->dep[l->dep_head] <= w->now) {
        l->dep_head = (l->dep_head + 1) % SIM_LINK_HWM;
        l->dep_n--;
    }
    if (l->dep_n == SIM_LINK_HWM) {
        w->res->sends_refused++;
        return FM_ENET;
    }
    uint64_t tx = sc->bandwidth_kbps ? ((uint64_t)len * 8 + sc->bandwidth_kbps - 1) / sc->bandwidth_kbps : 0;
    uint64_t dep = (l->busy_until > w->now ? l->busy_until : w->now) + tx;
    l->busy_until = dep;
    l->dep[(l->dep_head + l->dep_n++) % SIM_LINK_HWM] = dep;
    w->res->msgs++;
    w->res->msg_bytes += len;
    if (w->heal_ms && !w->heal_done) {
        w->res->bytes_after_heal += len;
        if (len >= 2 && p[1] == 2)
            w->res->vector_bytes_after_heal += len;
        if (len >= 2 && p[1] == 8)
            w->res->recon_bytes_after_heal += len;
        if (len >= 2 && (p[1] == 5 || p[1] == 9))
            w->res->ops_bytes_after_heal += len;
        if (len >= 2 && p[1] == 3)
            w->res->ihave_bytes_after_heal += len;
        if (len >= 2 && p[1] == 4)
            w->res->pull_bytes_after_heal += len;
        if (len >= 2 && p[1] == 1)
            w->res->summary_bytes_after_heal += len;
    }
    if (len >= 2 && p[1] == 8)
        w->res->recon_msgs++;
    if (sc->loss > 0 && sim_rng_unit(&w->rng) < sc->loss) {
        w->res->msgs_lost++;
        return FM_OK;
    }
    uint64_t t = dep + sc->latency_ms + (sc->jitter_ms ? sim_rng_below(&w->rng, sc->jitter_ms + 1) : 0);
    if (!sc->reorder && t < l->last_arrival)
        t = l->last_arrival;
    l->last_arrival = t;
    int rc = deliver_at(w, n, l, p, len, t);
    if (rc == FM_OK && sc->dup > 0 && sim_rng_unit(&w->rng) < sc->dup) {
        w->res->msgs_dup_sent++;
        uint64_t t2 = t + (sc->jitter_ms ? sim_rng_below(&w->rng, sc->jitter_ms + 1) : 0);
        if (!sc->reorder)
            l->last_arrival = t2;
        rc = deliver_at(w, n, l, p, len, t2);
    }
    return rc == FM_OK ? FM_OK : FM_ENET;
}

struct fm_sync_io sim_net_io(struct sim_node *n)
{
    struct fm_sync_io io = {.ctx = n, .mono_ms = io_mono, .wall_ms = io_wall,
                            .random = io_random, .send = io_send};
    return io;
}
