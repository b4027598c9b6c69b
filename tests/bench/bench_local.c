/*
 * bench_local.c — how fast one field node records work on its own, next to
 * the limits of this machine measured in the same run.
 *
 * Prints: raw Ed25519 sign rate and raw LMDB batched put rate (300-byte
 * values, 10,000 per transaction); local op creation through the node
 * (sign + chain + store + apply, batched 10,000 per durable transaction)
 * with its ratio to the sign rate (target >= 60%); the median and p90
 * latency of one durable `fieldmesh incident report` through the real CLI;
 * the RSS of the writing process and the store size after N ops
 * (default 1,000,000); and what encryption at rest costs on local writes
 * and on the ingest side of a cold sync, as same-run ratios of a sealed to
 * a plain store (bench_at_rest.h; --at-rest-ops N, default 200,000).
 *
 * usage: bench_local [--ops N] [--at-rest-ops N] [--at-rest-text BYTES] [--at-rest-only]
 *                    [--cli PATH] [--quick]
 * (--at-rest-only: the encryption-at-rest section alone, for repeated runs;
 * --at-rest-text: its notes' text length, default 300: a 498-byte op)
 */
#include "tests/bench/limits.h"
#include "tests/unit/node_fixture.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

#define BATCH 10000
#define PAYLOAD_TEXT 300

#include "tests/bench/bench_at_rest.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_local: %s: %s\n", what, fm_strerror(rc));
    exit(1);
}

/* Runs argv, stdout to /dev/null; returns the exit status or -1. */
static int run_quiet(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv)
{
    long total = 1000000;
    int cli_runs = 50;
    long at_rest_ops = 200000;
    char cli[1024] = "";
    bool at_rest_only = false;
    size_t at_rest_text = PAYLOAD_TEXT;
    for (int i = 1; i < argc; i++) {
        uint64_t v;
        if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc && fm_parse_u64(argv[i + 1], &v) == 0 &&
            v >= BATCH && v <= 100000000) {
            total = (long)v;
            i++;
        } else if (strcmp(argv[i], "--cli") == 0 && i + 1 < argc) {
            if (fm_strlcpy(cli, argv[++i], sizeof cli) != 0)
                die("--cli", FM_ETOOBIG);
        } else if (strcmp(argv[i], "--at-rest-ops") == 0 && i + 1 < argc &&
                   fm_parse_u64(argv[i + 1], &v) == 0 && v >= BATCH && v <= 100000000) {
            at_rest_ops = (long)v;
            i++;
        } else if (strcmp(argv[i], "--at-rest-text") == 0 && i + 1 < argc &&
                   fm_parse_u64(argv[i + 1], &v) == 0 && v >= 32 && v < FM_TEXT_MAX) {
            at_rest_text = (size_t)v;
            i++;
        } else if (strcmp(argv[i], "--at-rest-only") == 0) {
            at_rest_only = true;
        } else if (strcmp(argv[i], "--quick") == 0) {
            total = 50000;
            at_rest_ops = 20000;
            cli_runs = 10;
        } else {
            fprintf(stderr, "usage: bench_local [--ops N (>= %d)] [--at-rest-ops N] "
                            "[--at-rest-text BYTES (32-%d)] [--at-rest-only] [--cli PATH] "
                            "[--quick]\n", BATCH, FM_TEXT_MAX - 1);
            return 2;
        }
    }
    if (cli[0] == '\0') { /* the fieldmesh binary beside this one */
        ssize_t n = readlink("/proc/self/exe", cli, sizeof cli - 16);
        if (n <= 0)
            die("readlink", FM_EIO);
        cli[n] = '\0';
        char *slash = strrchr(cli, '/');
        memcpy(slash + 1, "fieldmesh", 10);
    }
    if (fm_crypto_init() != 0)
        die("crypto init", FM_ENOMEM);
    fm_log_set_level(FM_LOG_ERROR);

    struct fx_org org;
    struct fx_node a;
    int rc;
    if ((rc = fx_org_init(&org)) != 0 || (rc = fx_author(&org, &a, "bench")) != 0)
        die("set-up", rc);
    if (at_rest_only) {
        bench_at_rest(&org, at_rest_ops, at_rest_text);
        fx_org_done(&org);
        return 0;
    }

    printf("fieldmesh bench_local: %ld ops, %d-byte note text, %d ops per transaction\n\n",
           total, PAYLOAD_TEXT, BATCH);

    /* ---- limits, same run ---- */
    double sign = lim_sign_rate(FM_OP_HEADER_LEN + PAYLOAD_TEXT + 40, 2.0);
    char lmdb_dir[512];
    snprintf(lmdb_dir, sizeof lmdb_dir, "%s/rawlmdb", org.dir);
    mkdir(lmdb_dir, 0700);
    double put = lim_lmdb_put_rate(lmdb_dir, total < 500000 ? total : 500000, BATCH,
                                   FM_OP_HEADER_LEN + PAYLOAD_TEXT + 40 + FM_SIG_LEN);
    printf("limit  Ed25519 sign (%d B msg, 1 core)        %10.0f /s\n",
           FM_OP_HEADER_LEN + PAYLOAD_TEXT + 40, sign);
    printf("limit  LMDB put (%d B, %d/txn, durable)     %10.0f /s\n",
           FM_OP_HEADER_LEN + PAYLOAD_TEXT + 40 + FM_SIG_LEN, BATCH, put);

    /* ---- local batched op creation ---- */
    a.cfg.map_size = (uint64_t)1 << 30;
    if ((rc = fx_open(&a, FM_OPEN_IDENTITY)) != 0)
        die("open", rc);
    struct fm_incident_new in = { .category = "flood", .priority = 2, .lat_e7 = 302741000,
                                  .lon_e7 = 1201551000, .address = "Qiantang levee km 12",
                                  .desc = "water over the levee" };
    char inc[FM_ID_MAX];
    if ((rc = fm_node_incident_report(a.n, &in, inc)) != 0)
        die("report", rc);
    struct fm_incident got;
    if ((rc = fm_node_incident_get(a.n, inc, &got)) != 0)
        die("get", rc);

    struct payload *pls = calloc(BATCH, sizeof *pls);
    if (pls == NULL)
        die("calloc", FM_ENOMEM);
    for (int i = 0; i < BATCH; i++) {
        struct payload *p = &pls[i];
        p->log.kind = OP_INC_NOTE;
        p->present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
        memcpy(p->ref.author, a.id.pk, FM_PK_LEN);
        p->ref.seq = 2; /* the report above: op 1 is the certificate */
        memset(p->text, 'x', PAYLOAD_TEXT);
        p->text[PAYLOAD_TEXT] = '\0';
    }
    long written = 0;
    uint64_t first;
    double t0 = lim_now();
    while (written < total) {
        size_t n = (size_t)(total - written < BATCH ? total - written : BATCH);
        for (size_t i = 0; i < n; i++) /* distinct texts */
            snprintf(pls[i].text, 24, "note %012ld ", written + (long)i), pls[i].text[18] = 'x';
        if ((rc = node_write_batch(a.n, &pls->log, n, &first)) != 0)
            die("write batch", rc);
        written += (long)n;
    }
    double dt = lim_now() - t0;
    double local = (double)written / dt;
    struct fm_node_stats st;
    if ((rc = fm_node_stats(a.n, &st)) != 0)
        die("stats", rc);
    long rss = lim_rss_kb(), peak = lim_peak_rss_kb();
    printf("fieldmesh  local ops created (sign+store+apply) %10.0f /s   = %5.1f%% of sign rate "
           "(target >= 60%%: %s), %5.1f%% of LMDB put\n",
           local, 100.0 * local / sign, local >= 0.6 * sign ? "PASS" : "MISS", 100.0 * local / put);
    printf("fieldmesh  after %ld ops: RSS %.1f MiB (peak %.1f MiB), store %.1f MiB "
           "(%.0f B/op), %llu ops in store\n",
           written, rss / 1024.0, peak / 1024.0, st.store_bytes / 1048576.0,
           (double)st.store_bytes / (double)st.ops, (unsigned long long)st.ops);
    fm_node_close(&a.n);
    free(pls);

    /* ---- one durable incident report through the CLI ---- */
    char conf[600];
    snprintf(conf, sizeof conf, "%s/node.yaml", a.dir);
    if ((rc = fm_config_write(&a.cfg, conf)) != 0)
        die("config write", rc);
    double *lat = calloc((size_t)cli_runs, sizeof *lat);
    char *cargv[] = { cli, "-c", conf, "incident", "report", "--category", "fire", "--lat",
                      "30.2741", "--lon", "120.1551", "--priority", "1", "--desc",
                      "smoke on the 3rd floor", NULL };
    for (int i = 0; i < cli_runs; i++) {
        double c0 = lim_now();
        int st_ = run_quiet(cargv);
        lat[i] = (lim_now() - c0) * 1000.0;
        if (st_ != 0) {
            fprintf(stderr, "bench_local: %s exited %d\n", cli, st_);
            return 1;
        }
    }
    qsort(lat, (size_t)cli_runs, sizeof *lat, cmp_double);
    printf("fieldmesh  CLI `incident report` (durable, %d runs, store of %ld ops): "
           "median %.1f ms, p90 %.1f ms\n",
           cli_runs, written, lat[cli_runs / 2], lat[cli_runs * 9 / 10]);
    free(lat);
    fm_identity_release(&a.id);
    bench_at_rest(&org, at_rest_ops, at_rest_text);
    fx_org_done(&org);
    return 0;
}
