/*
 * sim.h — the deterministic network simulator (tests/sim).
 *
 * The real sync engine (sync/, unchanged) runs once per simulated node,
 * all in one process, over a simulated transport and clock handed to it
 * through struct fm_sync_io. Time only moves when the event queue says
 * so; every random choice comes from one seeded generator; so a run is a
 * function of its seed and its scenario, and replays byte for byte.
 *
 * sim_rng.c    the generator (xoshiro256**, seeded by splitmix64)
 * sim_store.c  the in-memory store each node gives its engine
 * sim_net.c    the event queue, links (latency, bandwidth, loss,
 *              duplication, reordering, cuts) and the engines' io table
 * sim_topo.c   topologies: random graph, ring with chords, line, city
 * sim_world.c  nodes, crashes and restarts, writes, the schedule, the
 *              invariants, the run and its report
 * sim_args.c   scenario flags
 */
#ifndef FM_SIM_H
#define FM_SIM_H

#include "sync/sync.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- named limits ---- */
#define SIM_MAX_NODES 5000
#define SIM_MAX_DEGREE 32          /* links per node */
#define SIM_LINK_HWM 64            /* messages waiting for a link's bandwidth (ZeroMQ's HWM) */
#define SIM_MAX_EVENTS 64          /* scheduled scenario events */
#define SIM_TRACE_RING 64          /* last events kept to print on a failure */

/* ---- sim_rng.c ---- */
struct sim_rng {
    uint64_t s[4];
};
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n) (n > 0). */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double sim_rng_unit(struct sim_rng *r);
void sim_rng_bytes(struct sim_rng *r, void *out, size_t n);

/* ---- scenario ---- */
enum sim_topology { SIM_TOPO_RANDOM, SIM_TOPO_RING, SIM_TOPO_LINE, SIM_TOPO_CITY };
enum sim_event_kind {
    SIM_EV_CUT,
    SIM_EV_HEAL,
    SIM_EV_CRASH,
    SIM_EV_RESTART,
    SIM_EV_CRASH_ROOT,
    SIM_EV_CRASH_LEAST
};

/* A scheduled fault. CUT splits the nodes into two sides: nodes with
 * index < N * frac on one side (with a city layout: whole counties), the
 * rest on the other. CRASH / RESTART take `count` nodes picked by the
 * seed (the same ones for a RESTART that follows a CRASH). CRASH_ROOT
 * crashes the spanning tree's root (sync/tree.c): the live engine of the
 * best rank, then the smallest key; CRASH_LEAST the live engine with the
 * smallest key whatever its rank (with --centres, a vehicle; repeated with
 * RESTARTs, a vehicle whose link comes and goes). A RESTART brings either
 * back. */
struct sim_sched {
    enum sim_event_kind kind;
    uint64_t at_ms;
    double frac;
    uint32_t count;
};

struct sim_scenario {
    uint64_t seed;
    uint32_t nodes;
    enum sim_topology topo;
    uint32_t degree_min, degree_max; /* random graph */
    uint32_t chords;                 /* ring: chords per node */
    uint32_t latency_ms, jitter_ms;  /* per message: latency + uniform [0, jitter] */
    uint32_t bandwidth_kbps;         /* per link and direction, 0 = unlimited */
    double loss, dup;                /* per message probabilities */
    bool reorder;                    /* jitter may reorder a link's messages */
    uint32_t skew_ms;                /* each node's wall clock off by up to this */
    uint32_t writers;                /* nodes that write (authors) */
    double ops_per_min;              /* the whole network's write rate */
    uint32_t payload;                /* bytes per op payload */
    uint64_t write_until_ms;         /* no writes after this */
    uint64_t duration_ms;            /* simulated time in all */
    uint64_t settle_ms;              /* convergence bound after the last fault */
    uint64_t warmup_ms;              /* propagation figures count ops written after this */
    uint32_t anti_entropy_ms;        /* the engines' config (0 = default) */
    uint32_t v1_nodes;               /* engines speaking wire version 1, spread evenly */
    uint32_t v3_nodes;               /* engines speaking wire version 3 (not v1 ones) */
    uint32_t v4_nodes;               /* engines speaking wire version 4 (neither) */
    uint32_t centres;                /* the N engines with the largest keys rank first as
                                      * the tree's root, all others last (0: all alike) */
    struct sim_sched sched[SIM_MAX_EVENTS];
    size_t nsched;
    bool quiet;                      /* no per-run report */
    bool trace;                      /* print every event */
    bool diag;                       /* where propagation time goes (sim_diag.c) */
    uint64_t seed_last;              /* --seeds A-B: run seed .. seed_last */
    bool replay_check;               /* run each seed twice and compare */
    bool json;                       /* print each result as JSON */
};

/* Defaults of every field (a small random mesh, no faults). */
void sim_scenario_default(struct sim_scenario *sc);
/* Parses argv into sc; prints the problem and returns 2 on a bad flag,
 * 1 after --help, 0 otherwise. Flags are listed by sim_usage. */
int sim_args_parse(struct sim_scenario *sc, int argc, char **argv);
void sim_usage(FILE *f);

/* ---- the outcome of a run ---- */
struct sim_result {
    uint64_t seed;
    uint64_t trace_hash;     /* FNV-1a over every delivery: (time, from, to, bytes) */
    uint64_t events, msgs, msg_bytes, msgs_lost, msgs_dup_sent, sends_refused;
    uint64_t ops_written, deliveries;
    uint64_t ops_sent_after_warmup, deliveries_after_warmup;
    double p50_ms, p99_ms, max_ms;     /* op propagation (written after warm-up) */
    double bound_p99_ms;               /* the same for shortest-path arrival */
    bool converged;
    uint64_t converged_ms;             /* after the last fault, or -1 */
    uint64_t last_fault_ms;
    uint64_t max_queue_bytes;          /* largest engine send queue seen */
    uint64_t max_msg;                  /* largest message sent */
    uint64_t bytes_after_heal;         /* bytes moved from the last heal until every live
                                        * node held every op (checked each second) */
    uint64_t heal_converged_ms;        /* that moment, after the heal */
    uint64_t missing_bytes_at_heal;    /* op bytes some node lacked at that heal (sum per node) */
    uint64_t missing_ops_at_heal;
    uint64_t vector_bytes_after_heal;  /* of bytes_after_heal: VECTOR messages */
    uint64_t recon_bytes_after_heal;   /* ... RECON messages (version 2) */
    uint64_t ops_bytes_after_heal;     /* ... OPS and COPS (the ops themselves) */
    uint64_t ihave_bytes_after_heal, pull_bytes_after_heal, summary_bytes_after_heal;
    uint64_t recon_msgs;               /* RECON messages in the whole run */
    uint64_t v1_dropped;               /* frames version-1 engines dropped (hellos) */
    uint64_t v3_dropped;               /* frames version-3 engines dropped (hellos) */
    uint64_t v4_dropped;               /* frames version-4 engines dropped (TREE) */
    /* the spanning tree at the end (every engine version 5, no cut, and
     * 15 s after the last fault): checked; 1 root named by every live
     * engine, or 2 when some name another; eager links (both ends agree)
     * and live engines */
    bool tree_checked;
    uint32_t tree_roots, tree_links, tree_live;
    char failure[256];                 /* "" = every invariant held */
    char trace_tail[SIM_TRACE_RING * 64]; /* on a failure: the last deliveries before it */
};

/* Runs the scenario; 0 when it ran (see res->failure for the verdict),
 * an fm_err when it could not (out of memory). */
int sim_run(const struct sim_scenario *sc, struct sim_result *res);
void sim_result_print(const struct sim_scenario *sc, const struct sim_result *res, FILE *f);

#endif
