/*
 * sim_args.c — a scenario from flags.
 *
 * Every number is parsed strictly (fm_parse_*): a bad flag prints what was
 * wrong and the usage, and the program exits 2. Faults are given as
 * --cut AT:FRAC, --heal AT, --crash AT:COUNT, --crash-root AT, --crash-least AT,
 * --restart AT (times in simulated ms), in any order, at most
 * SIM_MAX_EVENTS of them.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

void sim_scenario_default(struct sim_scenario *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->seed = sc->seed_last = 1;
    sc->nodes = 50;
    sc->topo = SIM_TOPO_RANDOM;
    sc->degree_min = 5;
    sc->degree_max = 8;
    sc->chords = 1;
    sc->latency_ms = 20;
    sc->writers = 20;
    sc->ops_per_min = 120;
    sc->payload = 300;
    sc->write_until_ms = 30000;
    sc->duration_ms = 60000;
    sc->settle_ms = 30000;
    sc->warmup_ms = 5000;
}

void sim_usage(FILE *f)
{
    fputs("usage: fm_sim [flags]   (every time in simulated ms)\n"
          "  --seed N | --seeds A-B     one seed, or each of A..B (default 1)\n"
          "  --nodes N                  (default 50, at most 5000)\n"
          "  --topology random|ring|line|city   (default random)\n"
          "  --degree MIN-MAX           random graph degree (default 5-8)\n"
          "  --chords K                 ring: random chords per node (default 1)\n"
          "  --latency MS --jitter MS   per message (default 20, 0)\n"
          "  --bandwidth KBPS           per link and direction, 0 = unlimited\n"
          "  --loss P --dup P           per-message probabilities (0..1)\n"
          "  --reorder                  jitter may reorder a link's messages\n"
          "  --skew MS                  each node's wall clock off by up to this\n"
          "  --writers N --ops-per-min R --payload B   the write load (20, 120, 300)\n"
          "  --write-until MS --duration MS            (30000, 60000)\n"
          "  --settle MS                convergence bound after the last fault (30000)\n"
          "  --warmup MS                propagation counts ops written after this (5000)\n"
          "  --anti-entropy MS          the engines' anti-entropy period\n"
          "  --v1 N                     N engines speak wire version 1 (no reconciliation)\n"
          "  --v3 N                     N other engines speak wire version 3\n"
          "  --v4 N                     N other engines speak wire version 4 (the others 5)\n"
          "  --cut AT:FRAC --heal AT --crash AT:COUNT --restart AT   faults\n"
          "  --centres N                the N engines with the largest keys rank first as the\n"
          "                             tree's root, the others last (else the smallest key)\n"
          "  --crash-root AT            crash the tree's root: best rank, then smallest key\n"          "  --crash-least AT           crash the engine with the smallest key, whatever its rank\n"
          "  --replay-check             run each seed twice; fail unless identical\n"
          "  --trace                    print every delivery\n"
          "  --diag                     per delivery: push or pull, links and pulls on its path\n"
          "  --json                     the result of each run as one JSON line\n"
          "  --quiet                    only failures\n",
          f);
}

static int num(const char *flag, const char *v, uint64_t max, uint64_t *out)
{
    if (!v || fm_parse_u64(v, out) != FM_OK || *out > max) {
        fprintf(stderr, "fm_sim: %s wants a number up to %llu, got '%s'\n", flag,
                (unsigned long long)max, v ? v : "");
        return 2;
    }
    return 0;
}

static int prob(const char *flag, const char *v, double *out)
{
    if (!v || fm_parse_double(v, 0, 1, out) != FM_OK) {
        fprintf(stderr, "fm_sim: %s wants a probability in 0..1, got '%s'\n", flag, v ? v : "");
        return 2;
    }
    return 0;
}

/* "A:B" -> two numbers (B a fraction when frac). */
static int pair(const char *flag, const char *v, uint64_t *a, double *b, bool frac)
{
    const char *colon = v ? strchr(v, ':') : NULL;
    char left[32];
    uint64_t n;
    if (!colon || (size_t)(colon - v) >= sizeof(left)) {
        fprintf(stderr, "fm_sim: %s wants AT:%s, got '%s'\n", flag, frac ? "FRAC" : "COUNT",
                v ? v : "");
        return 2;
    }
    memcpy(left, v, (size_t)(colon - v));
    left[colon - v] = '\0';
    if (num(flag, left, UINT32_MAX * 1000ull, a))
        return 2;
    if (frac)
        return prob(flag, colon + 1, b);
    if (num(flag, colon + 1, SIM_MAX_NODES, &n))
        return 2;
    *b = (double)n;
    return 0;
}

static int sched_add(struct sim_scenario *sc, enum sim_event_kind k, const char *flag,
                     const char *v)
{
    struct sim_sched *e = &sc->sched[sc->nsched];
    uint64_t at = 0;
    double x = 0;
    int rc;
    if (sc->nsched == SIM_MAX_EVENTS) {
        fprintf(stderr, "fm_sim: at most %d faults\n", SIM_MAX_EVENTS);
        return 2;
    }
    if (k == SIM_EV_CUT || k == SIM_EV_CRASH)
        rc = pair(flag, v, &at, &x, k == SIM_EV_CUT);
    else
        rc = num(flag, v, UINT32_MAX * 1000ull, &at);
    if (rc)
        return rc;
    *e = (struct sim_sched){.kind = k, .at_ms = at, .frac = x, .count = (uint32_t)x};
    sc->nsched++;
    return 0;
}

static int topology(const char *v, enum sim_topology *t)
{
    static const char *names[] = {"random", "ring", "line", "city"};
    for (int i = 0; v && i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            *t = (enum sim_topology)i;
            return 0;
        }
    fprintf(stderr, "fm_sim: --topology is random, ring, line or city, got '%s'\n", v ? v : "");
    return 2;
}

static int range(const char *flag, const char *v, uint64_t max, uint64_t *a, uint64_t *b)
{
    const char *dash = v ? strchr(v, '-') : NULL;
    char left[32];
    if (!dash || (size_t)(dash - v) >= sizeof(left)) {
        if (num(flag, v, max, a))
            return 2;
        *b = *a;
        return 0;
    }
    memcpy(left, v, (size_t)(dash - v));
    left[dash - v] = '\0';
    if (num(flag, left, max, a) || num(flag, dash + 1, max, b))
        return 2;
    if (*a > *b) {
        fprintf(stderr, "fm_sim: %s: %s is not a range\n", flag, v);
        return 2;
    }
    return 0;
}

/* One flag with its value v (NULL when absent); *used: whether v was taken. */
static int flag_one(struct sim_scenario *sc, const char *f, const char *v, bool *used)
{
    uint64_t a = 0, b = 0;
    int rc = 0;
    *used = true;
    if (strcmp(f, "--seed") == 0) {
        rc = num(f, v, UINT64_MAX, &sc->seed);
        sc->seed_last = sc->seed;
    } else if (strcmp(f, "--seeds") == 0) {
        rc = range(f, v, UINT64_MAX, &sc->seed, &sc->seed_last);
    } else if (strcmp(f, "--nodes") == 0) {
        rc = num(f, v, SIM_MAX_NODES, &a);
        sc->nodes = (uint32_t)a;
        if (!rc && a < 2)
            rc = num(f, "x", SIM_MAX_NODES, &a);
    } else if (strcmp(f, "--topology") == 0) {
        rc = topology(v, &sc->topo);
    } else if (strcmp(f, "--degree") == 0) {
        rc = range(f, v, SIM_MAX_DEGREE, &a, &b);
        sc->degree_min = (uint32_t)(a ? a : 1);
        sc->degree_max = (uint32_t)(b ? b : 1);
    } else if (strcmp(f, "--chords") == 0) {
        rc = num(f, v, SIM_MAX_DEGREE, &a);
        sc->chords = (uint32_t)a;
    } else if (strcmp(f, "--latency") == 0 || strcmp(f, "--jitter") == 0 ||
               strcmp(f, "--skew") == 0 || strcmp(f, "--bandwidth") == 0 ||
               strcmp(f, "--anti-entropy") == 0 || strcmp(f, "--writers") == 0 ||
               strcmp(f, "--payload") == 0 || strcmp(f, "--v1") == 0 ||
               strcmp(f, "--v3") == 0 || strcmp(f, "--v4") == 0 ||
               strcmp(f, "--centres") == 0) {
        rc = num(f, v, strcmp(f, "--payload") == 0 ? 16000 : 10000000, &a);
        uint32_t *dst = f[2] == 'l' ? &sc->latency_ms : f[2] == 'j' ? &sc->jitter_ms
                      : f[2] == 's' ? &sc->skew_ms : f[2] == 'b' ? &sc->bandwidth_kbps
                      : f[2] == 'a' ? &sc->anti_entropy_ms : f[2] == 'w' ? &sc->writers
                      : f[2] == 'c' ? &sc->centres
                      : f[2] == 'v' ? (f[3] == '1'   ? &sc->v1_nodes
                                       : f[3] == '3' ? &sc->v3_nodes
                                                     : &sc->v4_nodes)
                      : &sc->payload;
        *dst = (uint32_t)a;
    } else if (strcmp(f, "--write-until") == 0 || strcmp(f, "--duration") == 0 ||
               strcmp(f, "--settle") == 0 || strcmp(f, "--warmup") == 0) {
        rc = num(f, v, UINT32_MAX * 1000ull, &a);
        uint64_t *dst = f[2] == 'w' && f[3] == 'r' ? &sc->write_until_ms
                      : f[2] == 'd' ? &sc->duration_ms : f[2] == 's' ? &sc->settle_ms
                      : &sc->warmup_ms;
        *dst = a;
    } else if (strcmp(f, "--ops-per-min") == 0) {
        if (!v || fm_parse_double(v, 0, 1e7, &sc->ops_per_min) != FM_OK) {
            fprintf(stderr, "fm_sim: --ops-per-min wants a rate, got '%s'\n", v ? v : "");
            rc = 2;
        }
    } else if (strcmp(f, "--loss") == 0) {
        rc = prob(f, v, &sc->loss);
    } else if (strcmp(f, "--dup") == 0) {
        rc = prob(f, v, &sc->dup);
    } else if (strcmp(f, "--cut") == 0) {
        rc = sched_add(sc, SIM_EV_CUT, f, v);
    } else if (strcmp(f, "--heal") == 0) {
        rc = sched_add(sc, SIM_EV_HEAL, f, v);
    } else if (strcmp(f, "--crash") == 0) {
        rc = sched_add(sc, SIM_EV_CRASH, f, v);
    } else if (strcmp(f, "--crash-root") == 0) {
        rc = sched_add(sc, SIM_EV_CRASH_ROOT, f, v);
    } else if (strcmp(f, "--crash-least") == 0) {
        rc = sched_add(sc, SIM_EV_CRASH_LEAST, f, v);
    } else if (strcmp(f, "--restart") == 0) {
        rc = sched_add(sc, SIM_EV_RESTART, f, v);
    } else {
        *used = false;
        if (strcmp(f, "--reorder") == 0)
            sc->reorder = true;
        else if (strcmp(f, "--replay-check") == 0)
            sc->replay_check = true;
        else if (strcmp(f, "--trace") == 0)
            sc->trace = true;
        else if (strcmp(f, "--diag") == 0)
            sc->diag = true;
        else if (strcmp(f, "--json") == 0)
            sc->json = true;
        else if (strcmp(f, "--quiet") == 0)
            sc->quiet = true;
        else {
            fprintf(stderr, "fm_sim: unknown flag '%s'\n", f);
            rc = 2;
        }
    }
    return rc;
}

int sim_args_parse(struct sim_scenario *sc, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        bool used = false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            sim_usage(stdout);
            return 1;
        }
        int rc = flag_one(sc, argv[i], i + 1 < argc ? argv[i + 1] : NULL, &used);
        if (rc) {
            sim_usage(stderr);
            return 2;
        }
        i += used;
    }
    if (sc->degree_min > sc->degree_max || sc->writers > sc->nodes || sc->ops_per_min <= 0) {
        fprintf(stderr, "fm_sim: need degree MIN <= MAX, writers <= nodes and a write rate > 0\n");
        return 2;
    }
    return 0;
}
