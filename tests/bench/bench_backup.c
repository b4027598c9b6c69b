/*
 * bench_backup.c — how long `fieldmesh backup` and the restore's check of
 * a backup take for a store of N ops, next to this machine's BLAKE2b rate
 * in the same run (the check hashes every byte; the backup hashes what it
 * wrote, read back from the disk).
 *
 * Writes N notes of 300 bytes (batched, as bench_local does), closes the
 * store, then times fm_backup_write (LMDB's compacting copy + the file
 * hash) and fm_backup_check (decode + hash), and prints the store's size,
 * the backup's size and both rates.
 *
 * usage: bench_backup [--ops N]   (default 200,000)
 */
#include "tests/bench/limits.h"
#include "tests/unit/node_fixture.h"

#define BATCH 10000
#define PAYLOAD_TEXT 300

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_backup: %s: %s\n", what, fm_strerror(rc));
    exit(1);
}

static void write_notes(struct fx_node *a, long total)
{
    struct fm_incident_new in = { .category = "flood", .lat_e7 = 1, .lon_e7 = 1 };
    char inc[FM_ID_MAX];
    uint64_t first;
    int rc = fm_node_incident_report(a->n, &in, inc);
    struct payload *pls = calloc(BATCH, sizeof *pls);
    if (rc != 0 || pls == NULL)
        die("report", rc ? rc : FM_ENOMEM);
    for (long written = 0; written < total;) {
        size_t n = (size_t)(total - written < BATCH ? total - written : BATCH);
        for (size_t i = 0; i < n; i++) {
            struct payload *p = &pls[i];
            p->log.kind = OP_INC_NOTE;
            p->present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
            memcpy(p->ref.author, a->id.pk, FM_PK_LEN);
            p->ref.seq = 2;
            memset(p->text, 'x', PAYLOAD_TEXT);
            p->text[PAYLOAD_TEXT] = '\0';
            char tag[32];
            int k = snprintf(tag, sizeof tag, "note %012ld ", written + (long)i);
            memcpy(p->text, tag, (size_t)k); /* distinct texts */
        }
        if ((rc = node_write_batch(a->n, &pls->log, n, &first)) != 0)
            die("write batch", rc);
        written += (long)n;
    }
    free(pls);
}

int main(int argc, char **argv)
{
    long total = 200000;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc)
            total = strtol(argv[++i], NULL, 10);
    if (fm_crypto_init() != 0)
        die("crypto init", FM_ENOMEM);
    fm_log_set_level(FM_LOG_ERROR);
    struct fx_org org;
    struct fx_node a;
    struct fm_backup_info info;
    char path[700], err[512];
    int rc;
    if ((rc = fx_org_init(&org)) != 0 || (rc = fx_author(&org, &a, "bench")) != 0)
        die("set-up", rc);
    a.cfg.map_size = (uint64_t)1 << 30;
    if ((rc = fx_open(&a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_)) != 0)
        die("open", rc);
    write_notes(&a, total);
    struct fm_node_stats st;
    if ((rc = fm_node_stats(a.n, &st)) != 0)
        die("stats", rc);
    fm_node_close(&a.n);

    double hash = lim_blake2b_rate(1 << 16, 1.0) * (1 << 16) / 1048576.0;
    snprintf(path, sizeof path, "%s/bench.fmbk", org.dir);
    double t0 = lim_now();
    if ((rc = fm_backup_write(&a.cfg, path, NULL, &info, err, sizeof err)) != 0) {
        fprintf(stderr, "bench_backup: %s\n", err);
        return 1;
    }
    double tb = lim_now() - t0, mib = info.file_bytes / 1048576.0;
    FILE *in = fopen(path, "rb");
    t0 = lim_now();
    if (in == NULL || (rc = fm_backup_check(in, UINT64_MAX, &info, err, sizeof err)) != 0) {
        fprintf(stderr, "bench_backup: check: %s\n", err);
        return 1;
    }
    double tc = lim_now() - t0;
    fclose(in);
    printf("fieldmesh bench_backup: %llu ops, store %.1f MiB in use\n",
           (unsigned long long)st.ops, st.store_bytes / 1048576.0);
    printf("limit      BLAKE2b (64 KiB blocks, 1 core)  %8.0f MiB/s\n", hash);
    printf("fieldmesh  backup (compacting copy + hash)  %8.2f s  %8.0f MiB/s  file %.1f MiB\n",
           tb, mib / tb, mib);
    printf("fieldmesh  restore's check (decode + hash)  %8.2f s  %8.0f MiB/s\n", tc, mib / tc);
    fx_done(&a);
    fx_org_done(&org);
    return 0;
}
