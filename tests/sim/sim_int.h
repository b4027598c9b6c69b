/*
 * sim_int.h — the simulator's world, shared by its files (private).
 */
#ifndef FM_SIM_INT_H
#define FM_SIM_INT_H

#include "sim.h"

struct sim_world;

/* The true log of one writing node: every op it wrote, in order. Node
 * stores hold a prefix of it (no forks in the simulator), so they keep
 * counts and point here; op bytes are never copied per node. */
struct sim_author {
    uint8_t pk[FM_PK_LEN];
    uint32_t node;           /* the node that writes it */
    uint64_t n, cap;
    uint8_t **ops;
    uint32_t *lens;
    uint8_t (*hashes)[FM_HASH_LEN];
    uint64_t *born_ms;       /* when op seq k+1 was written */
    uint16_t *hops;          /* shortest path in links from the writer to each node */
};

/* What one node's engine sees as its store (sim_store.c). */
struct sim_store {
    struct sim_world *w;
    uint32_t node;
    uint64_t *have;          /* per author index: the prefix held */
    uint64_t total;          /* sum of have */
};

/* One direction of a link. */
struct sim_link {
    uint32_t to;
    uint64_t busy_until;     /* the link sends the last queued byte then */
    uint64_t last_arrival;   /* keeps a link in order unless reordering is on */
    uint64_t dep[SIM_LINK_HWM]; /* departure times of messages still queued (ring) */
    uint32_t dep_head, dep_n;
};

struct sim_node {
    struct sim_world *w;
    uint32_t index;
    struct fm_identity id;
    char name[16];
    struct sim_store st;
    struct fm_sync *eng;     /* NULL while crashed */
    uint32_t gen;            /* incarnation: bumped by each crash and restart */
    uint64_t wake_at;        /* the step the engine asked for, UINT64_MAX = none */
    struct sim_rng rng;      /* this engine's jitter */
    int64_t skew_ms;
    uint32_t side;           /* which side of a cut */
    uint32_t county;         /* city layout, else 0 */
    int32_t author;          /* index into w->authors, -1 = does not write */
    struct sim_link *links;
    uint32_t nlinks, lcap;
    bool crashed_by_sched;   /* picked by the last CRASH */
    uint8_t rank;            /* its root rank in every store (--centres) */
};

enum sim_ev_type { SIM_E_DELIVER, SIM_E_WAKE, SIM_E_WRITE, SIM_E_SCHED, SIM_E_CHECK };

struct sim_ev {
    uint64_t t, seq;
    uint32_t type, node, from, gen;
    uint32_t len;
    uint8_t *data;           /* DELIVER: owned copy */
};

/* One delivery after warm-up, for --diag. */
struct sim_diag_rec {
    uint32_t lat;      /* ms from the write */
    uint16_t bound;    /* shortest path in links */
    uint16_t hops;     /* links the copy travelled */
    uint16_t pulls;    /* of them, pull replies */
    bool pull;         /* the last link was a pull reply */
};

struct sim_world {
    const struct sim_scenario *sc;
    struct sim_result *res;
    struct sim_rng rng;
    uint64_t now, seq;
    uint64_t epoch_ms;       /* wall clock at simulated time 0 */
    struct sim_node *nodes;
    uint32_t nnodes;
    struct sim_author *authors;
    uint32_t nauthors;
    uint32_t *by_pk;         /* author indices sorted by key */
    uint32_t *node_by_pk;    /* node indices sorted by key (--centres' ranks) */
    struct sim_ev *heap;
    size_t nheap, heap_cap;
    bool cut;                /* a cut is in force */
    uint64_t global_total;   /* ops written */
    uint64_t heal_ms;        /* the last heal, 0 = none */
    bool heal_done;          /* every live node held every op after it */
    uint64_t quiet_ms;       /* after the last fault and the last write */
    uint32_t *lat;           /* propagation samples (ms), and their bounds */
    uint32_t *lat_bound;
    size_t nlat, lat_cap;
    uint64_t ops_sent_mark;  /* sum of engines' ops_sent at warm-up */
    bool warm_marked;
    uint64_t deliveries_mark;
    uint64_t dropped_msgs;   /* engines' msgs_dropped at the last check */
    struct sim_ev trace[SIM_TRACE_RING]; /* the last deliveries (data not kept) */
    size_t ntrace;
    /* --diag (sim_diag.c) */
    uint16_t *dg_hops, *dg_pulls;  /* per node x author: links and pulls of the head's path */
    int32_t *dg_pend_from;         /* per node: sender of pull replies held, -1 none */
    bool *dg_pend_ops;             /* ... and whether they carry ops */
    int32_t dg_cur_from, dg_next_from; /* who the current store call's ops came from */
    bool dg_cur_pull, dg_next_valid;
    struct sim_diag_rec *dg;
    size_t ndg, dg_cap;
    uint64_t dg_dup_push, dg_dup_pull; /* copies of ops already held, after warm-up */
    uint64_t dg_dup_push_on_pulled;    /* ... pushed where the op had come by a pull */
    uint8_t *dg_kind;                  /* per node x author: the head came by a pull */
    uint64_t dg_eager_links, dg_checks; /* eager links (one way) summed over checks */
};

/* ---- sim_store.c ---- */
int sim_store_init(struct sim_store *st, struct sim_world *w, uint32_t node) FM_MUST_USE;
void sim_store_release(struct sim_store *st);
struct fm_sync_store sim_store_table(struct sim_store *st);
/* The root rank every store gives the key starting with prefix (--centres;
 * FM_SYNC_RANK_LAST for no node's). */
int sim_rank_of(const struct sim_world *w, const uint8_t prefix[8]);
/* The writer of author index a appends a new op (a local write). */
int sim_store_write(struct sim_world *w, uint32_t a) FM_MUST_USE;
/* Author index of pk, -1 if none. */
int32_t sim_author_find(const struct sim_world *w, const uint8_t pk[FM_PK_LEN]);

/* ---- sim_net.c ---- */
int sim_ev_push(struct sim_world *w, const struct sim_ev *e) FM_MUST_USE;
bool sim_ev_pop(struct sim_world *w, struct sim_ev *out);
/* The io table for node n's engine. */
struct fm_sync_io sim_net_io(struct sim_node *n);
/* Asks for a step of node n at time t (earlier wins). */
int sim_wake(struct sim_world *w, struct sim_node *n, uint64_t t) FM_MUST_USE;
/* Whether node i's engine speaks wire version 1 (--v1: spread evenly). */
static inline bool sim_node_v1(const struct sim_world *w, uint32_t i)
{
    return w->sc->v1_nodes && ((uint64_t)i * w->sc->v1_nodes) % w->nnodes < w->sc->v1_nodes;
}
/* Whether node i's engine speaks wire version 3 (--v3: spread evenly,
 * offset from the version-1 ones, which win where both fall). */
static inline bool sim_node_v3(const struct sim_world *w, uint32_t i)
{
    uint64_t k = (uint64_t)i + w->nnodes / 2;
    return w->sc->v3_nodes && !sim_node_v1(w, i) &&
           (k * w->sc->v3_nodes) % w->nnodes < w->sc->v3_nodes;
}
/* Whether node i's engine speaks wire version 4 (--v4: spread evenly,
 * offset from the others, which win where they fall). */
static inline bool sim_node_v4(const struct sim_world *w, uint32_t i)
{
    uint64_t k = (uint64_t)i + w->nnodes / 4;
    return w->sc->v4_nodes && !sim_node_v1(w, i) && !sim_node_v3(w, i) &&
           (k * w->sc->v4_nodes) % w->nnodes < w->sc->v4_nodes;
}
bool sim_link_cut(const struct sim_world *w, uint32_t a, uint32_t b);
int sim_link_add(struct sim_world *w, uint32_t a, uint32_t b) FM_MUST_USE;
bool sim_linked(const struct sim_world *w, uint32_t a, uint32_t b);

/* ---- sim_diag.c ---- */
int sim_diag_init(struct sim_world *w) FM_MUST_USE;
void sim_diag_free(struct sim_world *w);
void sim_diag_deliver(struct sim_world *w, uint32_t from, uint32_t to, const uint8_t *p,
                      size_t n);
void sim_diag_wake(struct sim_world *w, uint32_t node);
void sim_diag_ingested(struct sim_world *w);
void sim_diag_dup(struct sim_world *w, uint32_t node, uint32_t a, uint64_t seq);
void sim_diag_store(struct sim_world *w, uint32_t node, uint32_t a, uint64_t seq, bool own);
void sim_diag_print(struct sim_world *w, FILE *f);

/* ---- sim_topo.c ---- */
int sim_topo_build(struct sim_world *w) FM_MUST_USE;
/* Hops from node `from` to every node (UINT16_MAX = unreachable). */
void sim_topo_hops(const struct sim_world *w, uint32_t from, uint16_t *out);

#endif
