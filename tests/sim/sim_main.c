/*
 * sim_main.c — fm_sim: run scenarios of the network simulator from flags.
 *
 * Each run prints its seed and the hash of its whole trace (every delivery:
 * time, sender, receiver, bytes); the same flags and seed give the same
 * hash. --replay-check runs every seed twice and fails if anything
 * differs. On a broken invariant the run says which, prints the last
 * deliveries before it and the command that replays it, and fm_sim exits
 * 1. Exit 2: bad flags.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

static void print_json(const struct sim_scenario *sc, const struct sim_result *r)
{
    printf("{\"seed\":%llu,\"nodes\":%u,\"trace\":\"%016llx\",\"ops_written\":%llu,"
           "\"deliveries\":%llu,\"msgs\":%llu,\"msg_bytes\":%llu,\"p50_ms\":%.0f,\"p99_ms\":%.0f,"
           "\"bound_p99_ms\":%.0f,\"transmissions_per_delivery\":%.3f,\"converged\":%s,"
           "\"converged_ms\":%llu,\"bytes_after_heal\":%llu,\"missing_bytes_at_heal\":%llu,"
           "\"ok\":%s}\n",
           (unsigned long long)r->seed, sc->nodes, (unsigned long long)r->trace_hash,
           (unsigned long long)r->ops_written, (unsigned long long)r->deliveries,
           (unsigned long long)r->msgs, (unsigned long long)r->msg_bytes, r->p50_ms, r->p99_ms,
           r->bound_p99_ms,
           r->deliveries_after_warmup ? (double)r->ops_sent_after_warmup / (double)r->deliveries_after_warmup : 0,
           r->converged ? "true" : "false", (unsigned long long)r->converged_ms,
           (unsigned long long)r->bytes_after_heal, (unsigned long long)r->missing_bytes_at_heal,
           r->failure[0] ? "false" : "true");
}

static void print_replay(int argc, char **argv, uint64_t seed)
{
    printf("replay:");
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 || strcmp(argv[i], "--seeds") == 0) {
            i++;
            continue;
        }
        printf(" %s", argv[i]);
    }
    printf(" --seed %llu\n", (unsigned long long)seed);
}

int main(int argc, char **argv)
{
    struct sim_scenario sc;
    int bad = 0;
    sim_scenario_default(&sc);
    int rc = sim_args_parse(&sc, argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    fm_log_set_level(FM_LOG_ERROR);
    if (fm_crypto_init() != FM_OK) {
        fprintf(stderr, "fm_sim: cannot initialise libsodium\n");
        return 1;
    }
    for (uint64_t seed = sc.seed;; seed++) {
        struct sim_scenario one = sc;
        struct sim_result r, again;
        one.seed = seed;
        if (sim_run(&one, &r) != FM_OK) {
            fprintf(stderr, "fm_sim: seed %llu: out of memory\n", (unsigned long long)seed);
            return 1;
        }
        if (one.replay_check && !r.failure[0]) {
            one.quiet = true;
            if (sim_run(&one, &again) != FM_OK)
                return 1;
            if (again.trace_hash != r.trace_hash || again.events != r.events ||
                again.msg_bytes != r.msg_bytes || again.p99_ms != r.p99_ms)
                snprintf(r.failure, sizeof(r.failure),
                         "replay differs: trace %016llx then %016llx, %llu then %llu events",
                         (unsigned long long)r.trace_hash, (unsigned long long)again.trace_hash,
                         (unsigned long long)r.events, (unsigned long long)again.events);
            else
                printf("seed %llu replayed: the same %llu events, trace %016llx\n",
                       (unsigned long long)seed, (unsigned long long)r.events,
                       (unsigned long long)r.trace_hash);
        }
        if (sc.json)
            print_json(&one, &r);
        else if (!sc.quiet || r.failure[0])
            sim_result_print(&one, &r, stdout);
        if (r.failure[0]) {
            if (r.trace_tail[0])
                fputs(r.trace_tail, stdout);
            print_replay(argc, argv, seed);
            bad = 1;
        }
        if (seed == sc.seed_last)
            break;
    }
    return bad;
}
