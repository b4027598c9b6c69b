/*
 * sim_diag.c — where propagation time goes (--diag): per delivery, whether
 * the op came by eager push or by a pull reply, from which neighbour, and
 * so over how many links and how many pulls its path ran.
 *
 * The engine does not say why it ingests, so the simulator attributes each
 * store call from the messages it hands over (diag_deliver / diag_wake):
 * a pull reply is held by the engine until its burst ends (the next step,
 * a non-reply message, or a reply from another neighbour), then ingested
 * alone; an eager push is ingested at once, after whatever was held. Only
 * figures; nothing here changes the run.
 */
#include "sim_int.h"
#include "sync/compact_int.h" /* FM_COMPACT_WIRE_VERSION, FM_MSG_COPS: read, not changed */

#include <stdlib.h>
#include <string.h>

/* Whether message p is an OPS (plain or compact), a reply, and carries ops. */
static void msg_kind(const uint8_t *p, size_t n, bool *ops, bool *reply, bool *nonempty)
{
    *ops = *reply = *nonempty = false;
    if (n < 3)
        return;
    /* versions 3 and 4 share the head: u8 version | u8 9 | u8 flags |
     * varint req_id | varint nruns */
    if ((p[0] == FM_COMPACT_WIRE_VERSION || p[0] == FM_COMPACT4_WIRE_VERSION) &&
        p[1] == FM_MSG_COPS) {
        size_t at = 3;
        *ops = true;
        *reply = (p[2] & FM_OPS_REPLY) != 0;
        while (at < n && (p[at] & 0x80)) /* varint req_id */
            at++;
        at++;
        *nonempty = at < n && p[at] != 0; /* varint nruns */
        return;
    }
    if (p[1] == FM_MSG_OPS && n >= 11) {
        *ops = true;
        *reply = (p[2] & FM_OPS_REPLY) != 0;
        *nonempty = (p[7] | p[8] | p[9] | p[10]) != 0;
    }
}

int sim_diag_init(struct sim_world *w)
{
    if (!w->sc->diag)
        return FM_OK;
    size_t n = (size_t)w->nnodes * (w->nauthors ? w->nauthors : 1);
    w->dg_hops = calloc(n, sizeof(*w->dg_hops));
    w->dg_pulls = calloc(n, sizeof(*w->dg_pulls));
    w->dg_pend_from = malloc(w->nnodes * sizeof(*w->dg_pend_from));
    w->dg_pend_ops = calloc(w->nnodes, sizeof(*w->dg_pend_ops));
    w->dg_kind = calloc(n, sizeof(*w->dg_kind));
    if (!w->dg_kind || !w->dg_hops || !w->dg_pulls || !w->dg_pend_from || !w->dg_pend_ops)
        return FM_ENOMEM;
    for (uint32_t i = 0; i < w->nnodes; i++)
        w->dg_pend_from[i] = -1;
    w->dg_cur_from = -1;
    return FM_OK;
}

void sim_diag_free(struct sim_world *w)
{
    free(w->dg_hops);
    free(w->dg_pulls);
    free(w->dg_pend_from);
    free(w->dg_pend_ops);
    free(w->dg_kind);
    free(w->dg);
}

void sim_diag_deliver(struct sim_world *w, uint32_t from, uint32_t to, const uint8_t *p,
                      size_t n)
{
    bool ops, reply, nonempty;
    if (!w->sc->diag)
        return;
    msg_kind(p, n, &ops, &reply, &nonempty);
    int32_t pend = w->dg_pend_from[to];
    w->dg_next_valid = false;
    if (reply) {
        /* held; what was held from another neighbour is ingested first */
        w->dg_cur_from = pend >= 0 ? pend : (int32_t)from;
        w->dg_cur_pull = true;
        w->dg_pend_from[to] = (int32_t)from;
        w->dg_pend_ops[to] = (pend == (int32_t)from && w->dg_pend_ops[to]) || nonempty;
        return;
    }
    if (pend >= 0 && w->dg_pend_ops[to]) {
        w->dg_cur_from = pend;
        w->dg_cur_pull = true;
        w->dg_next_valid = true; /* the push comes after the held replies */
        w->dg_next_from = (int32_t)from;
    } else {
        w->dg_cur_from = (int32_t)from;
        w->dg_cur_pull = false;
    }
    w->dg_pend_from[to] = -1;
    w->dg_pend_ops[to] = false;
}

void sim_diag_wake(struct sim_world *w, uint32_t node)
{
    if (!w->sc->diag)
        return;
    w->dg_cur_from = w->dg_pend_from[node];
    w->dg_cur_pull = true;
    w->dg_next_valid = false;
    w->dg_pend_from[node] = -1;
    w->dg_pend_ops[node] = false;
}

void sim_diag_ingested(struct sim_world *w)
{
    if (w->sc->diag && w->dg_next_valid) {
        w->dg_cur_from = w->dg_next_from;
        w->dg_cur_pull = false;
        w->dg_next_valid = false;
    }
}

/* Node `node` stored op `seq` of author a (its own write when own). */
void sim_diag_store(struct sim_world *w, uint32_t node, uint32_t a, uint64_t seq, bool own)
{
    if (!w->sc->diag)
        return;
    size_t at = (size_t)node * w->nauthors + a;
    int32_t f = w->dg_cur_from;
    uint16_t hops = 0, pulls = 0;
    if (!own) {
        size_t fa = f >= 0 ? (size_t)f * w->nauthors + a : at;
        hops = f >= 0 ? (uint16_t)(w->dg_hops[fa] + 1) : 0xffff;
        pulls = f >= 0 ? (uint16_t)(w->dg_pulls[fa] + w->dg_cur_pull) : 0xffff;
    }
    w->dg_hops[at] = hops;
    w->dg_kind[at] = !own && w->dg_cur_pull;
    w->dg_pulls[at] = pulls;
    const struct sim_author *au = &w->authors[a];
    if (own || au->born_ms[seq - 1] < w->sc->warmup_ms)
        return;
    if (w->ndg == w->dg_cap) {
        size_t cap = w->dg_cap ? 2 * w->dg_cap : 4096;
        struct sim_diag_rec *r = realloc(w->dg, cap * sizeof(*r));
        if (!r)
            return;
        w->dg = r;
        w->dg_cap = cap;
    }
    w->dg[w->ndg++] = (struct sim_diag_rec){
        .lat = (uint32_t)(w->now - au->born_ms[seq - 1]), .bound = au->hops[node],
        .hops = hops, .pulls = pulls, .pull = w->dg_cur_pull};
}

void sim_diag_dup(struct sim_world *w, uint32_t node, uint32_t a, uint64_t seq)
{
    if (!w->sc->diag || w->authors[a].born_ms[seq - 1] < w->sc->warmup_ms)
        return;
    if (w->dg_cur_pull)
        w->dg_dup_pull++;
    else {
        w->dg_dup_push++;
        w->dg_dup_push_on_pulled += w->dg_kind[(size_t)node * w->nauthors + a];
    }
}

static int rec_cmp(const void *x, const void *y)
{
    const struct sim_diag_rec *a = x, *b = y;
    return a->lat < b->lat ? -1 : a->lat > b->lat;
}

static void group(FILE *f, const char *name, const struct sim_diag_rec *r, size_t n)
{
    double hops = 0, bound = 0, pulls = 0, lat = 0;
    size_t npull = 0, byp[5] = {0}, known = 0;
    if (n == 0)
        return;
    for (size_t k = 0; k < n; k++) {
        bound += r[k].bound;
        lat += r[k].lat;
        npull += r[k].pull;
        if (r[k].hops == 0xffff || r[k].pulls == 0xffff)
            continue; /* a path the diagnosis could not follow back */
        known++;
        hops += r[k].hops;
        pulls += r[k].pulls;
        byp[r[k].pulls < 4 ? r[k].pulls : 4]++;
    }
    double kn = known ? (double)known : 1.0;
    fprintf(f, "  diag %-16s n %7zu  mean lat %5.0f ms  last hop pulled %5.1f %%  path links %4.2f "
               "(shortest %4.2f)  pulls on path %4.2f  [0:%4.1f%% 1:%4.1f%% 2:%4.1f%% 3:%4.1f%% "
               "4+:%4.1f%%]  paths unknown %zu\n",
            name, n, lat / n, 100.0 * npull / n, hops / kn, bound / n, pulls / kn,
            100.0 * byp[0] / kn, 100.0 * byp[1] / kn, 100.0 * byp[2] / kn, 100.0 * byp[3] / kn,
            100.0 * byp[4] / kn, n - known);
}

void sim_diag_print(struct sim_world *w, FILE *f)
{
    if (!w->sc->diag || w->ndg == 0)
        return;
    size_t n = w->ndg;
    qsort(w->dg, n, sizeof(*w->dg), rec_cmp);
    size_t npull = 0;
    for (size_t i = 0; i < n; i++)
        npull += w->dg[i].pull;
    fprintf(f, "  diag deliveries %zu: by push %zu, by pull %zu; copies already held: by push "
               "%llu (%.3f per delivery), by pull %llu (%.3f)\n",
            n, n - npull, npull, (unsigned long long)w->dg_dup_push,
            (double)w->dg_dup_push / (double)n, (unsigned long long)w->dg_dup_pull,
            (double)w->dg_dup_pull / (double)n);
    fprintf(f, "  diag pushed copies already held where the op had come by a pull: %llu; "
               "eager links per node (one way, mean after warm-up): %.2f\n",
            (unsigned long long)w->dg_dup_push_on_pulled,
            w->dg_checks ? (double)w->dg_eager_links / (double)w->dg_checks / w->nnodes : 0);
    group(f, "all", w->dg, n);
    size_t p50 = n / 2, p90 = n * 9 / 10, p99 = n * 99 / 100;
    group(f, "below p50", w->dg, p50);
    group(f, "p50-p90", w->dg + p50, p90 - p50);
    group(f, "p90-p99", w->dg + p90, p99 - p90);
    group(f, "p99 and over", w->dg + p99, n - p99);
    /* latency by pulls on the path */
    for (uint16_t k = 0; k <= 4; k++) {
        uint32_t *v = malloc(n * sizeof(*v));
        size_t m = 0;
        if (!v)
            return;
        for (size_t i = 0; i < n; i++)
            if ((k < 4 && w->dg[i].pulls == k) || (k == 4 && w->dg[i].pulls >= 4 && w->dg[i].pulls != 0xffff))
                v[m++] = w->dg[i].lat; /* sorted already */
        if (m)
            fprintf(f, "  diag pulls on path %u%s: n %7zu  p50 %u ms  p90 %u ms  p99 %u ms\n", k,
                    k == 4 ? "+" : "", m, v[m / 2], v[m * 9 / 10], v[m * 99 / 100]);
        free(v);
    }
}
