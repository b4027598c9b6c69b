/*
 * bench_workflow.c — what the dispatch reads of a busy night cost: the
 * orphan list (run every second by a dispatcher's daemon and by `status`),
 * the proposal for an incident while other priority-1 incidents are open
 * (one extra proposal each), and the human-code table (built by every
 * list command), on a store of N incidents (default 5,000), half of them
 * dispatched and cleared, the example directory's 33 units.
 *
 * Prints the median and 90th percentile of R runs (default 30) of each.
 * usage: bench_workflow [--incidents N] [--p1 K] [--runs R] (FM_SRC: the
 * source tree, for configs/directory.yaml)
 */
#include "tests/bench/limits.h"
#include "tests/unit/node_fixture.h"

#include "node/workflow/workflow_int.h"

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_workflow: %s: %s\n", what, fm_strerror(rc));
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int count_cb(void *ctx, const struct fm_orphan *o)
{
    (void)o;
    (*(size_t *)ctx)++;
    return 0;
}

static void report_one(const char *what, double *ms, int runs)
{
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    printf("%-34s median %8.2f ms   p90 %8.2f ms\n", what, ms[runs / 2],
           ms[(runs * 9 + 9) / 10 - 1]);
}

static void centre(struct fx_org *org, struct fx_node *c)
{
    int rc;
    if ((rc = fx_author(org, c, "centre")) != FM_OK)
        die("author", rc);
    c->cert.role = FM_ROLE_CENTRE;
    c->cfg.role = FM_ROLE_CENTRE;
    c->cfg.map_size = 512u << 20;
    fm_cert_sign(&c->cert, &org->root);
    if ((rc = fm_cert_write_file(&c->cert, c->cfg.cert_path)) != FM_OK ||
        (rc = fx_open(c, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_)) != FM_OK)
        die("open", rc);
}

/* N incidents; every other one dispatched (first unit of the proposal)
 * and cleared; the last p1 open at priority 1. */
static void fill(struct fm_node *n, long incidents, long p1, char (*last)[FM_ID_MAX])
{
    struct fm_suggestion *s = malloc(sizeof *s);
    char tk[1][FM_ID_MAX];
    int rc;
    if (s == NULL)
        die("fill", FM_ENOMEM);
    for (long i = 0; i < incidents; i++) {
        struct fm_incident_new in = {.category = i % 2 ? "chemical_leak" : "building_fire",
                                     .priority = i >= incidents - p1 ? 1 : 3,
                                     .lat_e7 = 312300000 + (int32_t)(i % 100) * 1000,
                                     .lon_e7 = 1214700000 + (int32_t)(i / 100) * 1000};
        if ((rc = fm_node_incident_report(n, &in, *last)) != FM_OK)
            die("report", rc);
        if (i % 2 != 0 || i >= incidents - p1)
            continue;
        if ((rc = fm_node_dispatch_suggest(n, *last, fm_now_ms(), s)) != FM_OK || s->nunits == 0)
            die("suggest", rc ? rc : FM_ENOTFOUND);
        const char *u = s->units[0].unit;
        if ((rc = fm_node_dispatch(n, *last, &u, 1, NULL, tk)) != FM_OK ||
            (rc = fm_node_ticket_step(n, tk[0], FM_STEP_CLEAR, "done")) != FM_OK)
            die("dispatch", rc);
    }
    free(s);
}

int main(int argc, char **argv)
{
    long incidents = 5000, p1 = 10, runs = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (v <= 0)
            continue;
        if (strcmp(argv[i], "--incidents") == 0)
            incidents = v;
        else if (strcmp(argv[i], "--p1") == 0)
            p1 = v;
        else if (strcmp(argv[i], "--runs") == 0)
            runs = v;
    }
    if (p1 > incidents)
        p1 = incidents;
    const char *src = getenv("FM_SRC");
    char path[512], err[512], v[FM_ID_MAX], last[FM_ID_MAX];
    struct fm_directory *d = NULL;
    struct fx_org org;
    struct fx_node c;
    int rc;
    snprintf(path, sizeof path, "%s/configs/directory.yaml", src ? src : ".");
    if (fm_crypto_init() != FM_OK || fx_org_init(&org) != FM_OK)
        die("init", FM_EIO);
    fm_log_set_level(FM_LOG_ERROR);
    if ((rc = fm_directory_load_yaml(path, &d, err, sizeof err)) != FM_OK) {
        fprintf(stderr, "bench_workflow: %s\n", err);
        return 1;
    }
    centre(&org, &c);
    if ((rc = fm_node_directory_publish(c.n, d, v, NULL)) != FM_OK)
        die("publish", rc);
    double t0 = lim_now();
    fill(c.n, incidents, p1, &last);
    printf("store: %ld incidents (%ld tickets), %ld open at priority 1; filled in %.1f s\n",
           incidents, incidents / 2, p1, lim_now() - t0);
    double *ms = calloc((size_t)runs, sizeof *ms);
    struct fm_suggestion *s = malloc(sizeof *s);
    struct fm_hids *h = NULL;
    size_t norph = 0;
    if (ms == NULL || s == NULL)
        die("alloc", FM_ENOMEM);
    for (long r = 0; r < runs; r++) {
        norph = 0;
        t0 = lim_now();
        if ((rc = fm_node_orphans(c.n, count_cb, &norph)) != FM_OK)
            die("orphans", rc);
        ms[r] = (lim_now() - t0) * 1000;
    }
    printf("(%zu orphans)\n", norph);
    report_one("fm_node_orphans", ms, (int)runs);
    for (long r = 0; r < runs; r++) {
        t0 = lim_now();
        if ((rc = fm_node_dispatch_suggest(c.n, last, fm_now_ms(), s)) != FM_OK)
            die("suggest", rc);
        ms[r] = (lim_now() - t0) * 1000;
    }
    report_one("fm_node_dispatch_suggest (P1 marks)", ms, (int)runs);
    for (long r = 0; r < runs; r++) {
        t0 = lim_now();
        if ((rc = fm_node_hids(c.n, &h)) != FM_OK)
            die("hids", rc);
        ms[r] = (lim_now() - t0) * 1000;
        fm_hids_free(&h);
    }
    report_one("fm_node_hids", ms, (int)runs);
    free(ms);
    free(s);
    fm_directory_free(&d);
    fx_done(&c);
    fx_org_done(&org);
    return 0;
}
