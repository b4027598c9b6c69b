/*
 * report.h — the assessment report: per unit, department, county or category,
 * response segments, results and satisfaction over a period, computed on
 * read from the merged records, the same on every node holding the same
 * ops (report.c, docs/workflow.md §9). Part of workflow.h, which includes it.
 */
#ifndef FM_REPORT_H
#define FM_REPORT_H

#include "../model/model.h"

/* ---- assessment ---- */
enum fm_report_by { FM_REPORT_ALL = 0, FM_REPORT_UNIT, FM_REPORT_DEPARTMENT, FM_REPORT_COUNTY,
                    FM_REPORT_CATEGORY };
#define FM_REPORT_NINTERVALS 5 /* report->dispatch, ->ack, ->enroute, ->onscene, ->cleared */
struct fm_report_query {
    uint64_t from_ms, to_ms;   /* incident report time window; 0 = open */
    enum fm_report_by by;
    bool gps_only;             /* only tickets whose arrival was stamped by GPS (docs/gps.md) */
};
struct fm_report_stat {
    size_t n;
    double median_s, p90_s;    /* meaningful when n > 0 */
    size_t gps_stamps, button_stamps; /* of the n: end stamped by position / by hand */
};
struct fm_report_group {
    char key[FM_NAME_MAX];
    size_t tickets;
    struct fm_report_stat interval[FM_REPORT_NINTERVALS];
    struct fm_report_stat response;   /* report -> on scene */
    size_t with_target, within_target;
    size_t cleared, cancelled, escalated;
    size_t feedback_n;
    double feedback_sum;
};
struct fm_report {
    size_t ngroups;
    struct fm_report_group *groups;   /* malloc'd, sorted by key */
    size_t tickets;
    size_t duplicates;                /* incidents merged into another: counted once, there */
    size_t negative_intervals;        /* intervals whose end was stamped before its start */
    size_t skewed_pairs;
    char clock_note[FM_TEXT_MAX];     /* "" when the clocks agreed */
};
int fm_node_report(struct fm_node *n, const struct fm_report_query *q,
                   struct fm_report *out) FM_MUST_USE;
void fm_report_release(struct fm_report *r);
extern const char *const fm_report_interval_names[FM_REPORT_NINTERVALS];
/* Median (mean of the middle two for even n) and nearest-rank percentile
 * p (0 < p <= 100) of n values; v is sorted in place. 0 for n == 0. */
double fm_median(double *v, size_t n);
double fm_percentile(double *v, size_t n, double p);

#endif
