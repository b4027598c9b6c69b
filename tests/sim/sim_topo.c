/*
 * sim_topo.c — who is linked to whom.
 *
 * random: each node wants a degree drawn from [min, max] and links to
 *   random nodes that still have room; components left apart are joined
 *   in a chain, so the graph is connected.
 * ring:   node i to i+1 (mod N), plus `chords` random links per node.
 * line:   node i to i+1: the worst diameter, every op crosses every hop.
 * city:   as the city is laid out (issue 13): node 0 is the centre; about
 *   one node in 27 is a county centre (linked to the centre and to the
 *   next county centre in a ring); about 45 % are stations, each linked to
 *   its county centre and to another station of the county; the rest are
 *   vehicles, each linked to two stations of its county. A cut by county
 *   (sim_world.c) splits whole counties apart.
 * The hop counts from a writer give the shortest-path bound that the
 * propagation figures are compared with.
 */
#include "sim_int.h"

#include <stdlib.h>
#include <string.h>

static int link_ok(struct sim_world *w, uint32_t a, uint32_t b)
{
    int rc = sim_link_add(w, a, b);
    return rc == FM_EEXISTS || rc == FM_ETOOBIG ? FM_OK : rc;
}

/* Joins every component to the next one found: a connected graph. */
static int connect_all(struct sim_world *w)
{
    uint32_t n = w->nnodes, prev = UINT32_MAX;
    uint16_t *hops = malloc(n * sizeof(*hops));
    uint8_t *seen = calloc(n, 1);
    int rc = hops && seen ? FM_OK : FM_ENOMEM;
    for (uint32_t i = 0; rc == FM_OK && i < n; i++) {
        if (seen[i])
            continue;
        sim_topo_hops(w, i, hops);
        for (uint32_t k = 0; k < n; k++)
            if (hops[k] != UINT16_MAX)
                seen[k] = 1;
        if (prev != UINT32_MAX)
            rc = link_ok(w, prev, i);
        prev = i;
    }
    free(hops);
    free(seen);
    return rc;
}

static int topo_random(struct sim_world *w)
{
    const struct sim_scenario *sc = w->sc;
    uint32_t n = w->nnodes;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t want = sc->degree_min + (uint32_t)sim_rng_below(&w->rng, sc->degree_max - sc->degree_min + 1);
        for (uint32_t tries = 0; w->nodes[i].nlinks < want && tries < 20 * want; tries++) {
            uint32_t j = (uint32_t)sim_rng_below(&w->rng, n);
            if (j == i || w->nodes[j].nlinks >= sc->degree_max || sim_linked(w, i, j))
                continue;
            int rc = sim_link_add(w, i, j);
            if (rc != FM_OK && rc != FM_ETOOBIG)
                return rc;
        }
    }
    return connect_all(w);
}

static int topo_ring(struct sim_world *w, bool ring)
{
    uint32_t n = w->nnodes;
    int rc = FM_OK;
    for (uint32_t i = 0; rc == FM_OK && i + 1 < n; i++)
        rc = link_ok(w, i, i + 1);
    if (rc == FM_OK && ring && n > 2)
        rc = link_ok(w, n - 1, 0);
    for (uint32_t i = 0; ring && rc == FM_OK && i < n; i++)
        for (uint32_t c = 0; rc == FM_OK && c < w->sc->chords; c++)
            rc = link_ok(w, i, (uint32_t)sim_rng_below(&w->rng, n));
    return rc;
}

static int topo_city(struct sim_world *w)
{
    uint32_t n = w->nnodes;
    uint32_t counties = n / 27 > 1 ? n / 27 : (n > 2 ? 2 : 1);
    if (counties > 200)
        counties = 200;
    uint32_t stations_end = 1 + counties + (uint32_t)(0.45 * (n - 1 - counties));
    int rc = FM_OK;
    if (n < 4)
        return topo_ring(w, false);
    /* county centres: 1 .. counties */
    for (uint32_t c = 0; c < counties; c++) {
        w->nodes[1 + c].county = c;
        if (rc == FM_OK)
            rc = link_ok(w, 0, 1 + c);
        if (rc == FM_OK && counties > 1)
            rc = link_ok(w, 1 + c, 1 + (c + 1) % counties);
    }
    for (uint32_t i = 1 + counties; rc == FM_OK && i < n; i++) {
        uint32_t c = (uint32_t)sim_rng_below(&w->rng, counties);
        w->nodes[i].county = c;
        if (i < stations_end) {
            rc = link_ok(w, i, 1 + c);
            /* another station of the county seen so far */
            for (uint32_t t = 0; rc == FM_OK && t < 8; t++) {
                uint32_t j = 1 + counties + (uint32_t)sim_rng_below(&w->rng, i - counties);
                if (j != i && j < i && w->nodes[j].county == c) {
                    rc = link_ok(w, i, j);
                    break;
                }
            }
        } else {
            uint32_t linked = 0;
            for (uint32_t t = 0; rc == FM_OK && linked < 2 && t < 64; t++) {
                uint32_t j = 1 + counties + (uint32_t)sim_rng_below(&w->rng, stations_end - 1 - counties);
                if (w->nodes[j].county == c && !sim_linked(w, i, j)) {
                    rc = link_ok(w, i, j);
                    linked++;
                }
            }
            if (rc == FM_OK && linked == 0)
                rc = link_ok(w, i, 1 + c); /* no station found: its county centre */
        }
    }
    return rc == FM_OK ? connect_all(w) : rc;
}

int sim_topo_build(struct sim_world *w)
{
    switch (w->sc->topo) {
    case SIM_TOPO_RANDOM: return topo_random(w);
    case SIM_TOPO_RING: return topo_ring(w, true);
    case SIM_TOPO_LINE: return topo_ring(w, false);
    case SIM_TOPO_CITY: return topo_city(w);
    }
    return FM_EINVAL;
}

void sim_topo_hops(const struct sim_world *w, uint32_t from, uint16_t *out)
{
    uint32_t n = w->nnodes, *q = malloc(n * sizeof(*q)), head = 0, tail = 0;
    for (uint32_t i = 0; i < n; i++)
        out[i] = UINT16_MAX;
    if (!q)
        return;
    out[from] = 0;
    q[tail++] = from;
    while (head < tail) {
        const struct sim_node *nd = &w->nodes[q[head++]];
        for (uint32_t k = 0; k < nd->nlinks; k++) {
            uint32_t to = nd->links[k].to;
            if (out[to] == UINT16_MAX) {
                out[to] = (uint16_t)(out[nd->index] + 1);
                q[tail++] = to;
            }
        }
    }
    free(q);
}
