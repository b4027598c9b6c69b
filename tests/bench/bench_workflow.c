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
#include "tests/bench/workflow_setup.h"

static int count_cb(void *ctx, const struct fm_orphan *o)
{
    (void)o;
    (*(size_t *)ctx)++;
    return 0;
}

static void report_one(const char *what, double *ms, int runs)
{
    qsort(ms, (size_t)runs, sizeof *ms, wfb_cmp_double);
    printf("%-34s median %8.2f ms   p90 %8.2f ms\n", what, ms[runs / 2],
           ms[(runs * 9 + 9) / 10 - 1]);
}

/* N incidents; every other one dispatched (first unit of the proposal)
 * and cleared; the last p1 open at priority 1. */
static void fill(struct fm_node *n, long incidents, long p1, char (*last)[FM_ID_MAX])
{
    struct fm_suggestion *s = malloc(sizeof *s);
    char tk[1][FM_ID_MAX];
    int rc;
    if (s == NULL)
        wfb_die("fill", FM_ENOMEM);
    for (long i = 0; i < incidents; i++) {
        struct fm_incident_new in = {.category = i % 2 ? "chemical_leak" : "building_fire",
                                     .priority = i >= incidents - p1 ? 1 : 3,
                                     .lat_e7 = 312300000 + (int32_t)(i % 100) * 1000,
                                     .lon_e7 = 1214700000 + (int32_t)(i / 100) * 1000};
        if ((rc = fm_node_incident_report(n, &in, *last)) != FM_OK)
            wfb_die("report", rc);
        if (i % 2 != 0 || i >= incidents - p1)
            continue;
        if ((rc = fm_node_dispatch_suggest(n, *last, fm_now_ms(), s)) != FM_OK || s->nunits == 0)
            wfb_die("suggest", rc ? rc : FM_ENOTFOUND);
        const char *u = s->units[0].unit;
        if ((rc = fm_node_dispatch(n, *last, &u, 1, NULL, tk)) != FM_OK ||
            (rc = fm_node_ticket_step(n, tk[0], FM_STEP_CLEAR, "done")) != FM_OK)
            wfb_die("dispatch", rc);
    }
    free(s);
}

int main(int argc, char **argv)
{
    struct wfb_opts o = {.incidents = 5000, .p1 = 10, .runs = 30};
    wfb_parse_opts(argc, argv, &o);
    long incidents = o.incidents, p1 = o.p1, runs = o.runs;
    char path[512], v[FM_ID_MAX], last[FM_ID_MAX];
    struct fx_org org;
    struct fx_node c;
    int rc;
    wfb_start("bench_workflow", &org);
    struct fm_directory *d = wfb_directory("directory.yaml", path, sizeof path);
    wfb_centre(&org, &c, "centre", true);
    if ((rc = fm_node_directory_publish(c.n, d, v, NULL)) != FM_OK)
        wfb_die("publish", rc);
    double t0 = lim_now();
    fill(c.n, incidents, p1, &last);
    printf("store: %ld incidents (%ld tickets), %ld open at priority 1; filled in %.1f s\n",
           incidents, incidents / 2, p1, lim_now() - t0);
    double *ms = calloc((size_t)runs, sizeof *ms);
    struct fm_suggestion *s = malloc(sizeof *s);
    struct fm_hids *h = NULL;
    size_t norph = 0;
    if (ms == NULL || s == NULL)
        wfb_die("alloc", FM_ENOMEM);
    for (long r = 0; r < runs; r++) {
        norph = 0;
        t0 = lim_now();
        if ((rc = fm_node_orphans(c.n, count_cb, &norph)) != FM_OK)
            wfb_die("orphans", rc);
        ms[r] = (lim_now() - t0) * 1000;
    }
    printf("(%zu orphans)\n", norph);
    report_one("fm_node_orphans", ms, (int)runs);
    for (long r = 0; r < runs; r++) {
        t0 = lim_now();
        if ((rc = fm_node_dispatch_suggest(c.n, last, fm_now_ms(), s)) != FM_OK)
            wfb_die("suggest", rc);
        ms[r] = (lim_now() - t0) * 1000;
    }
    report_one("fm_node_dispatch_suggest (P1 marks)", ms, (int)runs);
    for (long r = 0; r < runs; r++) {
        t0 = lim_now();
        if ((rc = fm_node_hids(c.n, &h)) != FM_OK)
            wfb_die("hids", rc);
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
