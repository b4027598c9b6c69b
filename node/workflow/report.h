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
                    FM_REPORT_CATEGORY, FM_REPORT_TIER, FM_REPORT_INCIDENT_COUNTY };
#define FM_REPORT_NINTERVALS 5 /* report->dispatch, ->ack, ->enroute, ->onscene, ->cleared */
/* The response segments of NFPA 1221/1710: processing (report ->
 * dispatch), turnout (dispatch -> en route), travel (en route -> on
 * scene); their default targets, each a 90th-percentile figure. */
enum { FM_SEG_PROCESSING = 0, FM_SEG_TURNOUT, FM_SEG_TRAVEL, FM_REPORT_NSEGMENTS };
#define FM_REPORT_PROCESSING_S 64 /* NFPA 1710 (2020) 4.1.2.3.3: alarm processing, 90 % */
#define FM_REPORT_TURNOUT_S 80    /* NFPA 1710 4.1.2.1: fire turnout (60 s for EMS) */
#define FM_REPORT_TRAVEL_S 240    /* NFPA 1710 4.1.2.1: first arriving engine */
#define FM_REPORT_LATE_MAX 10000  /* late cases listed; more are counted */
struct fm_report_query {
    uint64_t from_ms, to_ms;   /* incident report time window; 0 = open */
    enum fm_report_by by;
    bool gps_only;             /* only tickets whose arrival was stamped by GPS (docs/gps.md) */
    uint32_t segment_target_s[FM_REPORT_NSEGMENTS]; /* 0: no target for that segment */
};
struct fm_report_stat {
    size_t n;
    double median_s, p90_s;    /* meaningful when n > 0 */
    size_t gps_stamps, button_stamps; /* of the n: end stamped by position / by hand */
};
struct fm_report_segment {
    struct fm_report_stat s;
    size_t within;             /* of s.n, within the segment's target (all when it has none) */
};
struct fm_report_group {
    char key[FM_NAME_MAX];
    size_t tickets;
    struct fm_report_stat interval[FM_REPORT_NINTERVALS];
    struct fm_report_stat response;   /* report -> on scene */
    struct fm_report_segment segment[FM_REPORT_NSEGMENTS];
    size_t with_target, within_target;
    size_t cleared, cancelled, escalated;
    size_t feedback_n;
    double feedback_sum;
    size_t late;                      /* tickets with a response or segment over its target */
};
/* A ticket whose response (against its category's target) or one of the
 * segments took longer than its target: one entry per measure missed. */
enum { FM_LATE_RESPONSE = FM_REPORT_NSEGMENTS }; /* measure: a segment, or the response */
struct fm_report_late {
    char ticket[FM_ID_MAX], incident[FM_ID_MAX];
    char unit[FM_NAME_MAX];
    char category[FM_CATEGORY_MAX];
    char group[FM_NAME_MAX];
    int measure;                      /* FM_SEG_* or FM_LATE_RESPONSE */
    double seconds;
    uint32_t target_s;
};
struct fm_report {
    size_t ngroups;
    struct fm_report_group *groups;   /* malloc'd, in the directory's order (below) */
    size_t tickets;
    size_t duplicates;                /* incidents merged into another: counted once, there */
    size_t negative_intervals;        /* intervals whose end was stamped before its start */
    size_t skewed_pairs;
    char clock_note[FM_TEXT_MAX];     /* "" when the clocks agreed */
    struct fm_report_late *late;      /* malloc'd, most over its target first */
    size_t nlate, late_more;          /* listed; missed beyond FM_REPORT_LATE_MAX */
};
int fm_node_report(struct fm_node *n, const struct fm_report_query *q,
                   struct fm_report *out) FM_MUST_USE;
void fm_report_release(struct fm_report *r);
extern const char *const fm_report_interval_names[FM_REPORT_NINTERVALS];
extern const char *const fm_report_segment_names[FM_REPORT_NSEGMENTS + 1]; /* + "response" */
/* Median (mean of the middle two for even n) and nearest-rank percentile
 * p (0 < p <= 100) of n values; v is sorted in place. 0 for n == 0. */
double fm_median(double *v, size_t n);
double fm_percentile(double *v, size_t n, double p);

#endif
