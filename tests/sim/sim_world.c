/*
 * sim_world.c — one simulated run: build the world, play the events,
 * check the invariants, report.
 *
 * Node keys come from the seed, so the same seed gives the same keys, the
 * same topology, the same writes and the same jitter in every engine; the
 * event queue orders everything else. Invariants, checked every simulated
 * second and at the end:
 *  - no message over the wire cap (sim_net.c, at every send);
 *  - no engine's send queue past SYNC_QUEUE_MAX_BYTES, and no message an
 *    engine could not decode (msgs_dropped stays 0: honest nodes only);
 *  - once the last fault is over and the last write made, every live node
 *    holds every op written (so all digests are equal) within settle_ms.
 * A failure stops the run and names the first broken invariant; the last
 * SIM_TRACE_RING deliveries are printed with it.
 */
#include "sim_int.h"
#include "crypto/crypto_int.h" /* fm_identity_from_seed: keys from the run's seed */
#include "sync/sync_int.h"     /* SYNC_QUEUE_MAX_BYTES: the send-queue cap checked */

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define SIM_CHECK_MS 1000
#define SIM_QUEUE_CAP SYNC_QUEUE_MAX_BYTES

static void fail(struct sim_world *w, const char *fmt, ...) FM_PRINTF(2, 3);
static void fail(struct sim_world *w, const char *fmt, ...)
{
    va_list ap;
    if (w->res->failure[0])
        return;
    va_start(ap, fmt);
    vsnprintf(w->res->failure, sizeof(w->res->failure), fmt, ap);
    va_end(ap);
}

/* Op copies the live nodes still lack. */
static unsigned long long missing_now(const struct sim_world *w)
{
    unsigned long long m = 0;
    for (uint32_t i = 0; i < w->nnodes; i++)
        if (w->nodes[i].eng)
            m += w->global_total - w->nodes[i].st.total;
    return m;
}

static int pk_cmp_ctx_sort(struct sim_world *w)
{
    /* insertion sort of author indices by key: run once, authors are few */
    for (uint32_t i = 0; i < w->nauthors; i++)
        w->by_pk[i] = i;
    for (uint32_t i = 1; i < w->nauthors; i++) {
        uint32_t x = w->by_pk[i], j = i;
        while (j > 0 && memcmp(w->authors[w->by_pk[j - 1]].pk, w->authors[x].pk, FM_PK_LEN) > 0) {
            w->by_pk[j] = w->by_pk[j - 1];
            j--;
        }
        w->by_pk[j] = x;
    }
    return FM_OK;
}

static struct sim_world *sort_w; /* qsort's context: one world sorts at a time */

static int node_pk_cmp(const void *a, const void *b)
{
    return memcmp(sort_w->nodes[*(const uint32_t *)a].id.pk,
                  sort_w->nodes[*(const uint32_t *)b].id.pk, FM_PK_LEN);
}

/* --centres N: the N nodes with the largest keys rank 0 as the tree's
 * root, every other node last; the keys that would win without ranks
 * lose, so the runs show the ranks at work. No --centres: all rank 0. */
static int ranks_assign(struct sim_world *w)
{
    w->node_by_pk = malloc(w->nnodes * sizeof *w->node_by_pk);
    if (!w->node_by_pk)
        return FM_ENOMEM;
    for (uint32_t i = 0; i < w->nnodes; i++)
        w->node_by_pk[i] = i;
    sort_w = w;
    qsort(w->node_by_pk, w->nnodes, sizeof *w->node_by_pk, node_pk_cmp);
    sort_w = NULL;
    for (uint32_t k = 0; k < w->nnodes; k++)
        w->nodes[w->node_by_pk[k]].rank =
            w->sc->centres == 0 || k + w->sc->centres >= w->nnodes ? 0 : FM_SYNC_RANK_LAST;
    return FM_OK;
}

int sim_rank_of(const struct sim_world *w, const uint8_t prefix[8])
{
    uint32_t lo = 0, hi = w->nnodes;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(w->nodes[w->node_by_pk[mid]].id.pk, prefix, 8);
        if (c == 0)
            return w->nodes[w->node_by_pk[mid]].rank;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return FM_SYNC_RANK_LAST;
}

/* Whether node a is a better tree root than b (rank, then key); b NULL: yes. */
static bool sim_root_before(const struct sim_node *a, const struct sim_node *b)
{
    return b == NULL || (a->rank != b->rank ? a->rank < b->rank
                                            : memcmp(a->id.pk, b->id.pk, 8) < 0);
}

/* Keys, names, skews, the topology, the writers. */
static int world_build(struct sim_world *w)
{
    const struct sim_scenario *sc = w->sc;
    int rc;
    w->nnodes = sc->nodes;
    w->nodes = calloc(w->nnodes, sizeof(*w->nodes));
    if (!w->nodes)
        return FM_ENOMEM;
    for (uint32_t i = 0; i < w->nnodes; i++) {
        struct sim_node *n = &w->nodes[i];
        uint8_t seed[32];
        n->w = w;
        n->index = i;
        n->author = -1;
        n->wake_at = UINT64_MAX;
        sim_rng_bytes(&w->rng, seed, sizeof(seed));
        if ((rc = fm_identity_from_seed(&n->id, seed)) != FM_OK)
            return rc;
        snprintf(n->name, sizeof(n->name), "n%u", i);
        sim_rng_seed(&n->rng, sim_rng_next(&w->rng));
        n->skew_ms = sc->skew_ms ? (int64_t)sim_rng_below(&w->rng, 2u * sc->skew_ms + 1) - sc->skew_ms : 0;
    }
    if ((rc = sim_topo_build(w)) != FM_OK)
        return rc;
    if ((rc = ranks_assign(w)) != FM_OK)
        return rc;
    w->nauthors = sc->writers < w->nnodes ? sc->writers : w->nnodes;
    w->authors = calloc(w->nauthors ? w->nauthors : 1, sizeof(*w->authors));
    w->by_pk = calloc(w->nauthors ? w->nauthors : 1, sizeof(*w->by_pk));
    if (!w->authors || !w->by_pk)
        return FM_ENOMEM;
    for (uint32_t a = 0; a < w->nauthors; a++) {
        /* writers spread over the nodes: every (N / writers)-th node */
        uint32_t node = (uint32_t)((uint64_t)a * w->nnodes / w->nauthors);
        w->authors[a].node = node;
        w->nodes[node].author = (int32_t)a;
        memcpy(w->authors[a].pk, w->nodes[node].id.pk, FM_PK_LEN);
        w->authors[a].hops = malloc(w->nnodes * sizeof(uint16_t));
        if (!w->authors[a].hops)
            return FM_ENOMEM;
        sim_topo_hops(w, node, w->authors[a].hops);
    }
    return pk_cmp_ctx_sort(w);
}

static int node_start(struct sim_world *w, struct sim_node *n)
{
    struct fm_sync_config cfg = {.id = &n->id, .anti_entropy_ms = w->sc->anti_entropy_ms,
                                 .wire_version = sim_node_v1(w, n->index)   ? 1
                                                 : sim_node_v3(w, n->index) ? 3
                                                 : sim_node_v4(w, n->index) ? 4
                                                                            : 0};
    struct fm_sync_store st = sim_store_table(&n->st);
    struct fm_sync_io io = sim_net_io(n);
    int rc = fm_sync_new_io(&n->eng, &cfg, &st, &io);
    for (uint32_t k = 0; rc == FM_OK && k < n->nlinks; k++) {
        const struct sim_node *p = &w->nodes[n->links[k].to];
        rc = fm_sync_add_peer(n->eng, NULL, p->id.pk, p->name);
    }
    n->gen++;
    n->wake_at = UINT64_MAX;
    return rc == FM_OK ? sim_wake(w, n, w->now) : rc;
}

static void node_crash(struct sim_node *n)
{
    fm_sync_destroy(&n->eng); /* the store survives: what was stored was durable */
    n->gen++;
    n->wake_at = UINT64_MAX;
}

static void world_free(struct sim_world *w)
{
    struct sim_ev e;
    while (sim_ev_pop(w, &e))
        free(e.data);
    free(w->heap);
    for (uint32_t i = 0; w->nodes && i < w->nnodes; i++) {
        fm_sync_destroy(&w->nodes[i].eng);
        sim_store_release(&w->nodes[i].st);
        fm_identity_release(&w->nodes[i].id);
        free(w->nodes[i].links);
    }
    for (uint32_t a = 0; w->authors && a < w->nauthors; a++) {
        for (uint64_t k = 0; k < w->authors[a].n; k++)
            free(w->authors[a].ops[k]);
        free(w->authors[a].ops);
        free(w->authors[a].lens);
        free(w->authors[a].hashes);
        free(w->authors[a].born_ms);
        free(w->authors[a].hops);
    }
    free(w->authors);
    free(w->by_pk);
    free(w->node_by_pk);
    free(w->nodes);
    free(w->lat);
    free(w->lat_bound);
}

/* ------------------------------------------------------------ scenario events */

static void missing_at_heal(struct sim_world *w)
{
    w->res->missing_ops_at_heal = w->res->missing_bytes_at_heal = 0;
    for (uint32_t i = 0; i < w->nnodes; i++)
        for (uint32_t a = 0; a < w->nauthors; a++)
            for (uint64_t s = w->nodes[i].st.have[a]; s < w->authors[a].n; s++) {
                w->res->missing_ops_at_heal++;
                w->res->missing_bytes_at_heal += w->authors[a].lens[s];
            }
}

static int on_sched(struct sim_world *w, const struct sim_sched *ev)
{
    int rc = FM_OK;
    uint32_t n = w->nnodes;
    switch (ev->kind) {
    case SIM_EV_CUT:
        for (uint32_t i = 0; i < n; i++) {
            uint32_t key = w->sc->topo == SIM_TOPO_CITY ? w->nodes[i].county : i;
            uint32_t range = w->sc->topo == SIM_TOPO_CITY ? (n / 27 > 1 ? n / 27 : 2) : n;
            if (range > 200 && w->sc->topo == SIM_TOPO_CITY)
                range = 200;
            w->nodes[i].side = key < (uint32_t)(ev->frac * range) ? 0 : 1;
        }
        w->cut = true;
        break;
    case SIM_EV_HEAL:
        w->cut = false;
        w->heal_ms = w->now;
        w->heal_done = false;
        w->res->bytes_after_heal = 0;
        w->res->vector_bytes_after_heal = w->res->recon_bytes_after_heal = 0;
        w->res->ops_bytes_after_heal = w->res->ihave_bytes_after_heal = 0;
        w->res->pull_bytes_after_heal = w->res->summary_bytes_after_heal = 0;
        missing_at_heal(w);
        break;
    case SIM_EV_CRASH:
        for (uint32_t i = 0; i < n; i++)
            w->nodes[i].crashed_by_sched = false;
        for (uint32_t k = 0, tries = 0; k < ev->count && tries < 100 * n; tries++) {
            struct sim_node *nd = &w->nodes[sim_rng_below(&w->rng, n)];
            if (!nd->eng)
                continue;
            node_crash(nd);
            nd->crashed_by_sched = true;
            k++;
        }
        break;
    case SIM_EV_CRASH_ROOT:
    case SIM_EV_CRASH_LEAST: {
        /* the best root (rank, then key), or the smallest key */
        struct sim_node *least = NULL;
        for (uint32_t i = 0; i < n; i++) {
            struct sim_node *x = &w->nodes[i];
            x->crashed_by_sched = false;
            if (x->eng && (ev->kind == SIM_EV_CRASH_ROOT
                               ? sim_root_before(x, least)
                               : least == NULL || memcmp(x->id.pk, least->id.pk, FM_PK_LEN) < 0))
                least = x;
        }
        if (least) {
            node_crash(least);
            least->crashed_by_sched = true;
        }
        break;
    }
    case SIM_EV_RESTART:
        for (uint32_t i = 0; rc == FM_OK && i < n; i++)
            if (!w->nodes[i].eng && w->nodes[i].crashed_by_sched)
                rc = node_start(w, &w->nodes[i]);
        break;
    }
    return rc;
}

static uint64_t next_write_gap(struct sim_world *w)
{
    double mean = 60000.0 / w->sc->ops_per_min;
    double u = sim_rng_unit(&w->rng);
    return (uint64_t)(-log(1.0 - u) * mean) + 1;
}

static int on_write(struct sim_world *w)
{
    int rc = FM_OK;
    if (w->nauthors) {
        uint32_t a = (uint32_t)sim_rng_below(&w->rng, w->nauthors);
        struct sim_node *nd = &w->nodes[w->authors[a].node];
        if (nd->eng) { /* a crashed node writes nothing */
            rc = sim_store_write(w, a);
            fm_sync_nudge(nd->eng);
            if (rc == FM_OK)
                rc = sim_wake(w, nd, w->now);
        }
    }
    uint64_t t = w->now + next_write_gap(w);
    if (rc == FM_OK && t < w->sc->write_until_ms) {
        struct sim_ev e = {.t = t, .type = SIM_E_WRITE};
        rc = sim_ev_push(w, &e);
    }
    return rc;
}

/* ------------------------------------------------------------ invariants */

static void on_check(struct sim_world *w)
{
    if (w->sc->diag && w->now >= w->sc->warmup_ms)
        w->dg_checks++;
    bool all = !w->cut;
    uint64_t dropped = 0, v1_dropped = 0, v3_dropped = 0, v4_dropped = 0;
    for (uint32_t i = 0; i < w->nnodes; i++) {
        struct sim_node *n = &w->nodes[i];
        if (!n->eng) {
            all = false;
            continue;
        }
        if (n->st.total != w->global_total)
            all = false;
        struct fm_sync_status st;
        struct fm_sync_peer_info *pi = NULL;
        size_t np = 0;
        if (fm_sync_peers(n->eng, &st, &pi, &np) == FM_OK) {
            for (size_t k = 0; k < np; k++) {
                if (pi[k].queued_bytes > w->res->max_queue_bytes)
                    w->res->max_queue_bytes = pi[k].queued_bytes;
                if (w->sc->diag && w->now >= w->sc->warmup_ms)
                    w->dg_eager_links += pi[k].eager;
            }
            if (sim_node_v1(w, i)) /* they drop version-2 hellos, as old nodes do */
                v1_dropped += st.counters.msgs_dropped;
            else if (sim_node_v3(w, i)) /* and these version-4 ones */
                v3_dropped += st.counters.msgs_dropped;
            else if (sim_node_v4(w, i)) /* and these version-5 ones (TREE) */
                v4_dropped += st.counters.msgs_dropped;
            else
                dropped += st.counters.msgs_dropped;
        }
        free(pi);
    }
    w->res->v1_dropped = v1_dropped;
    w->res->v3_dropped = v3_dropped;
    w->res->v4_dropped = v4_dropped;
    if (w->res->max_queue_bytes > SIM_QUEUE_CAP)
        fail(w, "an engine's send queue held %llu bytes (cap %u)",
             (unsigned long long)w->res->max_queue_bytes, SIM_QUEUE_CAP);
    if (dropped > 0)
        fail(w, "engines dropped %llu message(s) they could not take", (unsigned long long)dropped);
    if (w->heal_ms && !w->heal_done && all) {
        w->heal_done = true;
        w->res->heal_converged_ms = w->now - w->heal_ms;
    }
    if (w->now >= w->quiet_ms && all && !w->res->converged) {
        w->res->converged = true;
        w->res->converged_ms = w->now - w->quiet_ms;
    }
    if (!w->res->converged && w->now >= w->quiet_ms + w->sc->settle_ms)
        fail(w, "not converged %llu ms after the last fault and write (%llu op copies missing)",
             (unsigned long long)(w->now - w->quiet_ms), missing_now(w));
}

static uint64_t ops_sent_sum(struct sim_world *w)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < w->nnodes; i++)
        if (w->nodes[i].eng) {
            struct fm_sync_counters k;
            fm_sync_get_counters(w->nodes[i].eng, &k);
            sum += k.ops_sent;
        }
    return sum;
}

/* ------------------------------------------------------------ the run */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001B3);
    return h;
}

static int on_deliver(struct sim_world *w, struct sim_ev *e)
{
    struct sim_node *to = &w->nodes[e->node];
    int rc = FM_OK;
    uint64_t meta[3] = {e->t, e->from, e->node};
    if (!to->eng || to->gen != e->gen || sim_link_cut(w, e->from, e->node)) {
        w->res->msgs_lost++;
        goto out;
    }
    w->res->trace_hash = fnv(fnv(w->res->trace_hash, meta, sizeof(meta)), e->data, e->len);
    w->trace[w->ntrace++ % SIM_TRACE_RING] = (struct sim_ev){
        .t = e->t, .type = e->data && e->len > 1 ? e->data[1] : 0, .node = e->node,
        .from = e->from, .len = e->len};
    if (w->sc->trace)
        printf("%8llu ms  %s -> %s  type %u  %u bytes\n", (unsigned long long)e->t,
               w->nodes[e->from].name, to->name, e->len > 1 ? e->data[1] : 0, e->len);
    if (w->sc->trace && e->len == 16 && e->data[0] == 5 && e->data[1] == 11) /* TREE */
        printf("          parent %u hops %u epoch %u root %02x%02x%02x%02x\n", e->data[2] & 1,
               e->data[3], fm_be32_get(e->data + 4), e->data[8], e->data[9], e->data[10],
               e->data[11]);
    sim_diag_deliver(w, e->from, e->node, e->data, e->len);
    rc = fm_sync_io_deliver(to->eng, w->nodes[e->from].id.pk, e->data, e->len);
    if (rc == FM_OK)
        rc = sim_wake(w, to, w->now);
out:
    free(e->data);
    return rc;
}

static int on_wake(struct sim_world *w, const struct sim_ev *e)
{
    struct sim_node *n = &w->nodes[e->node];
    uint64_t next = 0;
    if (!n->eng || n->gen != e->gen || n->wake_at != e->t)
        return FM_OK; /* superseded */
    n->wake_at = UINT64_MAX;
    sim_diag_wake(w, e->node);
    int rc = fm_sync_io_step(n->eng, &next);
    if (rc != FM_OK)
        return rc;
    return sim_wake(w, n, next > w->now ? next : w->now + 1);
}

static int event_do(struct sim_world *w, struct sim_ev *e)
{
    w->res->events++;
    if (!w->warm_marked && w->now >= w->sc->warmup_ms) {
        w->warm_marked = true;
        w->ops_sent_mark = ops_sent_sum(w);
    }
    switch (e->type) {
    case SIM_E_DELIVER: return on_deliver(w, e);
    case SIM_E_WAKE: return on_wake(w, e);
    case SIM_E_WRITE: return on_write(w);
    case SIM_E_SCHED: return on_sched(w, &w->sc->sched[e->node]);
    case SIM_E_CHECK: {
        on_check(w);
        struct sim_ev c = {.t = w->now + SIM_CHECK_MS, .type = SIM_E_CHECK};
        return sim_ev_push(w, &c);
    }
    }
    return FM_EINVAL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)ceil(p * (double)n);
    return v[(k ? k : 1) - 1];
}

static void figures(struct sim_world *w)
{
    struct sim_result *r = w->res;
    qsort(w->lat, w->nlat, sizeof(*w->lat), cmp_u32);
    qsort(w->lat_bound, w->nlat, sizeof(*w->lat_bound), cmp_u32);
    r->p50_ms = pct(w->lat, w->nlat, 0.50);
    r->p99_ms = pct(w->lat, w->nlat, 0.99);
    r->max_ms = w->nlat ? w->lat[w->nlat - 1] : 0;
    r->bound_p99_ms = pct(w->lat_bound, w->nlat, 0.99);
    r->ops_sent_after_warmup = ops_sent_sum(w) - (w->warm_marked ? w->ops_sent_mark : 0);
    r->last_fault_ms = w->quiet_ms;
}

/* The first scheduled events; quiet_ms: after the last fault and write. */
static int world_schedule(struct sim_world *w)
{
    const struct sim_scenario *sc = w->sc;
    int rc = FM_OK;
    w->quiet_ms = sc->write_until_ms;
    for (size_t i = 0; rc == FM_OK && i < sc->nsched; i++) {
        struct sim_ev e = {.t = sc->sched[i].at_ms, .type = SIM_E_SCHED, .node = (uint32_t)i};
        if (sc->sched[i].at_ms > w->quiet_ms)
            w->quiet_ms = sc->sched[i].at_ms;
        rc = sim_ev_push(w, &e);
    }
    struct sim_ev c = {.t = SIM_CHECK_MS, .type = SIM_E_CHECK};
    struct sim_ev wr = {.t = 1 + next_write_gap(w), .type = SIM_E_WRITE};
    if (rc == FM_OK)
        rc = sim_ev_push(w, &c);
    if (rc == FM_OK && sc->ops_per_min > 0 && wr.t < sc->write_until_ms)
        rc = sim_ev_push(w, &wr);
    for (uint32_t i = 0; rc == FM_OK && i < w->nnodes; i++)
        rc = sim_store_init(&w->nodes[i].st, w, i);
    for (uint32_t i = 0; rc == FM_OK && i < w->nnodes; i++)
        rc = node_start(w, &w->nodes[i]);
    return rc;
}

/* The last deliveries before a failure, into res->trace_tail. */
static void trace_tail(struct sim_world *w)
{
    struct sim_result *r = w->res;
    size_t n = w->ntrace < SIM_TRACE_RING ? w->ntrace : SIM_TRACE_RING, at = 0;
    at += (size_t)snprintf(r->trace_tail, sizeof(r->trace_tail),
                           "the last %zu deliveries (ms, from, to, kind, bytes):\n", n);
    for (size_t k = w->ntrace - n; k < w->ntrace && at < sizeof(r->trace_tail); k++) {
        const struct sim_ev *t = &w->trace[k % SIM_TRACE_RING];
        int kind = t->type >= 1 && t->type <= 7 ? (int)t->type - 1 : FM_SYNC_MSG_OTHER;
        at += (size_t)snprintf(r->trace_tail + at, sizeof(r->trace_tail) - at,
                               "  %8llu  %s -> %s  %s  %u\n", (unsigned long long)t->t,
                               w->nodes[t->from].name, w->nodes[t->node].name,
                               fm_sync_msg_kind_name(kind), t->len);
    }
}

/* Index of the neighbour of n whose key is pk, or UINT32_MAX. */
static uint32_t link_of(const struct sim_world *w, const struct sim_node *n, const uint8_t *pk)
{
    for (uint32_t k = 0; k < n->nlinks; k++)
        if (memcmp(w->nodes[n->links[k].to].id.pk, pk, FM_PK_LEN) == 0)
            return n->links[k].to;
    return UINT32_MAX;
}

static uint32_t uf_find(uint32_t *up, uint32_t x)
{
    while (up[x] != x)
        x = up[x] = up[up[x]];
    return x;
}

/* At the end of a run where every engine speaks version 5, no cut is in
 * force and the last fault is 15 s behind: every live engine names the
 * same root, the live engine of the best rank (--centres) and then the
 * smallest key, and the eager links
 * (each seen from both ends) form one spanning tree of the live engines. */
static void tree_check(struct sim_world *w)
{
    const struct sim_scenario *sc = w->sc;
    uint64_t last_fault = 0;
    for (size_t i = 0; i < sc->nsched; i++)
        if (sc->sched[i].at_ms > last_fault)
            last_fault = sc->sched[i].at_ms;
    if (sc->v1_nodes || sc->v3_nodes || sc->v4_nodes || w->cut || w->res->failure[0] ||
        w->now < last_fault + 15000)
        return;
    uint32_t *up = malloc(w->nnodes * sizeof *up);
    if (up == NULL)
        return;
    const struct sim_node *best = NULL;
    uint32_t live = 0, links = 0, one_way = 0, others = 0, parts = 0;
    uint8_t root[8] = {0};
    for (uint32_t i = 0; i < w->nnodes; i++) {
        up[i] = i;
        if (w->nodes[i].eng && sim_root_before(&w->nodes[i], best))
            best = &w->nodes[i];
    }
    const uint8_t *least = best ? best->id.pk : NULL;
    for (uint32_t i = 0; i < w->nnodes; i++) {
        struct sim_node *n = &w->nodes[i];
        if (!n->eng)
            continue;
        live++;
        struct fm_sync_tree_info ti;
        fm_sync_tree(n->eng, &ti);
        if (live == 1)
            memcpy(root, ti.root, 8);
        else if (memcmp(ti.root, root, 8) != 0)
            others++; /* it names another root than the first live engine */
        struct fm_sync_status st;
        struct fm_sync_peer_info *pi = NULL;
        size_t np = 0;
        if (fm_sync_peers(n->eng, &st, &pi, &np) != FM_OK)
            continue;
        for (size_t k = 0; k < np; k++) {
            uint32_t j = link_of(w, n, pi[k].pk);
            if (!pi[k].eager || j == UINT32_MAX || !w->nodes[j].eng)
                continue;
            if (j < i)
                continue; /* counted from j's side, when j said eager too */
            bool back = false;
            struct fm_sync_peer_info *pj = NULL;
            size_t nj = 0;
            if (fm_sync_peers(w->nodes[j].eng, &st, &pj, &nj) == FM_OK)
                for (size_t m = 0; m < nj; m++)
                    if (memcmp(pj[m].pk, n->id.pk, FM_PK_LEN) == 0)
                        back = pj[m].eager;
            free(pj);
            if (!back) {
                one_way++;
                continue;
            }
            links++;
            uint32_t a = uf_find(up, i), b = uf_find(up, j);
            if (a != b)
                up[a] = b;
        }
        free(pi);
    }
    for (uint32_t i = 0; i < w->nnodes; i++)
        if (w->nodes[i].eng && uf_find(up, i) == i)
            parts++;
    free(up);
    w->res->tree_checked = true;
    w->res->tree_roots = others ? 2 : 1;
    w->res->tree_links = links;
    w->res->tree_live = live;
    if (others || (least && memcmp(root, least, 8) != 0))
        fail(w, "the engines do not name one tree root, the best rank and key, at the end: %u "
                "name another than the first", others);
    else if (one_way || parts != 1 || links + 1 != live)
        fail(w, "the eager links are not one spanning tree at the end: %u links both ways, %u "
                "one way, %u parts, %u live engines", links, one_way, parts, live);
}

int sim_run(const struct sim_scenario *sc, struct sim_result *res)
{
    struct sim_world w;
    struct sim_ev e;
    int rc;
    memset(&w, 0, sizeof(w));
    memset(res, 0, sizeof(*res));
    res->seed = sc->seed;
    res->trace_hash = UINT64_C(0xcbf29ce484222325);
    w.sc = sc;
    w.res = res;
    w.epoch_ms = UINT64_C(1767225600000); /* 2026-01-01: fixed, so wall clocks replay */
    sim_rng_seed(&w.rng, sc->seed);
    rc = world_build(&w);
    if (rc == FM_OK)
        rc = sim_diag_init(&w);
    if (rc == FM_OK)
        rc = world_schedule(&w);
    while (rc == FM_OK && !res->failure[0] && sim_ev_pop(&w, &e)) {
        if (e.t > sc->duration_ms) {
            free(e.data);
            break;
        }
        w.now = e.t;
        rc = event_do(&w, &e);
    }
    if (rc == FM_OK) {
        on_check(&w);
        tree_check(&w);
        if (!res->converged && !res->failure[0])
            fail(&w, "not converged when the run ended at %llu ms, %llu ms after the last fault "
                     "and write (%llu op copies missing)", (unsigned long long)w.now,
                 (unsigned long long)(w.now > w.quiet_ms ? w.now - w.quiet_ms : 0),
                 missing_now(&w));
        figures(&w);
        if (res->failure[0])
            trace_tail(&w);
        if (!sc->quiet)
            sim_diag_print(&w, stdout);
    }
    sim_diag_free(&w);
    world_free(&w);
    return rc;
}

void sim_result_print(const struct sim_scenario *sc, const struct sim_result *r, FILE *f)
{
    double redundancy = r->deliveries_after_warmup
                            ? (double)r->ops_sent_after_warmup / (double)r->deliveries_after_warmup
                            : 0;
    fprintf(f, "seed %llu  nodes %u  events %llu  trace %016llx\n", (unsigned long long)r->seed,
            sc->nodes, (unsigned long long)r->events, (unsigned long long)r->trace_hash);
    fprintf(f, "  ops written %llu, deliveries %llu; messages %llu (%llu bytes, %llu lost, %llu "
               "duplicated, %llu refused by a full link queue); largest message %llu B\n",
            (unsigned long long)r->ops_written, (unsigned long long)r->deliveries,
            (unsigned long long)r->msgs, (unsigned long long)r->msg_bytes,
            (unsigned long long)r->msgs_lost, (unsigned long long)r->msgs_dup_sent,
            (unsigned long long)r->sends_refused, (unsigned long long)r->max_msg);
    fprintf(f, "  propagation after warm-up: p50 %.0f ms, p99 %.0f ms (shortest-path bound p99 "
               "%.0f ms, ratio %.2f), max %.0f ms; %.2f op transmissions per delivery\n",
            r->p50_ms, r->p99_ms, r->bound_p99_ms,
            r->bound_p99_ms > 0 ? r->p99_ms / r->bound_p99_ms : 0, r->max_ms, redundancy);
    if (r->missing_ops_at_heal)
        fprintf(f, "  at the last heal: %llu op copies missing (%llu B); all held %llu ms after "
                   "it, bytes moved until then %llu (%.2f x the missing bytes)\n",
                (unsigned long long)r->missing_ops_at_heal,
                (unsigned long long)r->missing_bytes_at_heal,
                (unsigned long long)r->heal_converged_ms,
                (unsigned long long)r->bytes_after_heal,
                (double)r->bytes_after_heal / (double)r->missing_bytes_at_heal);
    if (r->missing_ops_at_heal)
        fprintf(f, "  of which VECTOR %llu B, RECON %llu B; RECON messages in the run %llu\n",
                (unsigned long long)r->vector_bytes_after_heal,
                (unsigned long long)r->recon_bytes_after_heal, (unsigned long long)r->recon_msgs);
    if (r->missing_ops_at_heal)
        fprintf(f, "  and ops (OPS, COPS) %llu B, IHAVE %llu B, PULL %llu B, SUMMARY %llu B\n",
                (unsigned long long)r->ops_bytes_after_heal,
                (unsigned long long)r->ihave_bytes_after_heal,
                (unsigned long long)r->pull_bytes_after_heal,
                (unsigned long long)r->summary_bytes_after_heal);
    if (sc->v1_nodes)
        fprintf(f, "  %u engines speak wire version 1; they dropped %llu version-2 frames\n",
                sc->v1_nodes, (unsigned long long)r->v1_dropped);
    if (sc->v3_nodes)
        fprintf(f, "  %u engines speak wire version 3 (fewer where --v1 took them); they "
                "dropped %llu version-4 frames\n", sc->v3_nodes,
                (unsigned long long)r->v3_dropped);
    if (sc->v4_nodes)
        fprintf(f, "  %u engines speak wire version 4 (fewer where --v1 or --v3 took them); "
                "they dropped %llu version-5 frames\n", sc->v4_nodes,
                (unsigned long long)r->v4_dropped);
    if (r->tree_checked)
        fprintf(f, "  spanning tree at the end: one root, %u eager links both ways for %u live "
                "engines\n", r->tree_links, r->tree_live);
    if (r->converged)
        fprintf(f, "  converged %llu ms after the last fault and write; largest send queue %llu B\n",
                (unsigned long long)r->converged_ms, (unsigned long long)r->max_queue_bytes);
    fprintf(f, "  %s%s\n", r->failure[0] ? "FAILED: " : "every invariant held",
            r->failure);
}
