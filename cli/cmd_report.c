/*
 * cmd_report.c — `fieldmesh report`: the assessment of how tickets were
 * handled (intervals, targets, outcomes, satisfaction) per unit,
 * department, county or category, as a table, JSON or CSV.
 */
#include "cli_wf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS][Z]" -> Unix ms: local time in
 * the node's zone (node.time_zone, TZ), or UTC with the Z. */
static int parse_date(const char *s, uint64_t *ms)
{
    int v[6] = { 0, 0, 0, 0, 0, 0 };
    static const int width[6] = { 4, 2, 2, 2, 2, 2 };
    static const char sep[6] = { '-', '-', 'T', ':', ':', 'Z' };
    size_t p = 0;
    int fields = 0;
    bool utc = false;
    for (int f = 0; f < 6; f++) {
        for (int k = 0; k < width[f]; k++, p++) {
            if (s[p] < '0' || s[p] > '9')
                return FM_EINVAL;
            v[f] = v[f] * 10 + (s[p] - '0');
        }
        fields++;
        if (s[p] == '\0' || (s[p] == 'Z' && s[p + 1] == '\0')) {
            utc = s[p] == 'Z';
            break;
        }
        if (s[p] != sep[f] && !(f == 2 && s[p] == ' '))
            return FM_EINVAL;
        p++;
    }
    if (fields != 3 && fields != 5 && fields != 6)
        return FM_EINVAL;
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return FM_EINVAL;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    tm.tm_isdst = -1;
    time_t t = utc ? timegm(&tm) : mktime(&tm);
    if (t < 0)
        return FM_EINVAL;
    *ms = (uint64_t)t * 1000;
    return FM_OK;
}

/* "2026Q4": [start, end) of that quarter, local midnights. */
static int parse_quarter(const char *s, uint64_t *from, uint64_t *to)
{
    char a[16], b[16];
    if (strlen(s) != 6 || (s[4] != 'Q' && s[4] != 'q') || s[5] < '1' || s[5] > '4')
        return FM_EINVAL;
    for (int i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9')
            return FM_EINVAL;
    int year = atoi(s), q = s[5] - '0';
    snprintf(a, sizeof a, "%04d-%02d-01", year, 3 * q - 2);
    snprintf(b, sizeof b, "%04d-%02d-01", q == 4 ? year + 1 : year, q == 4 ? 1 : 3 * q + 1);
    return parse_date(a, from) == FM_OK && parse_date(b, to) == FM_OK ? FM_OK : FM_EINVAL;
}

static double share(size_t part, size_t whole)
{
    return whole ? (double)part / (double)whole : 0.0;
}

static void stat_json(struct cli_json *j, const char *key, const struct fm_report_stat *s)
{
    cli_json_key(j, key);
    cli_json_begin_object(j);
    cli_json_kuint(j, "n", s->n);
    cli_json_key(j, "median_s");
    if (s->n)
        cli_wf_kdouble(j, NULL, s->median_s, 3);
    else
        cli_json_null(j);
    cli_json_key(j, "p90_s");
    if (s->n)
        cli_wf_kdouble(j, NULL, s->p90_s, 3);
    else
        cli_json_null(j);
    cli_json_kuint(j, "gps", s->gps_stamps); /* where the end stamps came from (docs/gps.md) */
    cli_json_kuint(j, "button", s->button_stamps);
    cli_json_end_object(j);
}

static void opt_share(struct cli_json *j, const char *key, size_t part, size_t whole)
{
    cli_json_key(j, key);
    if (whole)
        cli_wf_kdouble(j, NULL, share(part, whole), 4);
    else
        cli_json_null(j);
}

static const char *measure_name(int m)
{
    return fm_report_segment_names[m >= 0 && m <= FM_LATE_RESPONSE ? m : FM_LATE_RESPONSE];
}

static void late_json(struct cli_json *j, const struct fm_report *r)
{
    char code[FM_HID_MAX], tcode[FM_HID_MAX];
    cli_json_key(j, "late");
    cli_json_begin_array(j);
    for (size_t i = 0; i < r->nlate; i++) {
        const struct fm_report_late *l = &r->late[i];
        cli_json_begin_object(j);
        cli_json_kstr(j, "ticket", l->ticket);
        cli_json_kstr(j, "ticket_code", cli_hid(l->ticket, tcode));
        cli_json_kstr(j, "incident", l->incident);
        cli_json_kstr(j, "incident_code", cli_hid(l->incident, code));
        cli_json_kstr(j, "unit", l->unit);
        cli_json_kstr(j, "category", l->category);
        cli_json_kstr(j, "group", l->group);
        cli_json_kstr(j, "measure", measure_name(l->measure));
        cli_wf_kdouble(j, "seconds", l->seconds, 3);
        cli_json_kuint(j, "target_s", l->target_s);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
    cli_json_kuint(j, "late_more", r->late_more);
}

static void report_json(const struct fm_report *r, const struct fm_report_query *q,
                        const char *by)
{
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j);
    cli_json_kstr(&j, "by", by);
    cli_json_key(&j, "gps_only");
    cli_json_bool(&j, q->gps_only);
    cli_json_ktime(&j, "from", q->from_ms << 16); /* null: open */
    cli_json_ktime(&j, "to", q->to_ms << 16);
    cli_json_key(&j, "segment_targets_s");
    cli_json_begin_object(&j);
    for (int k = 0; k < FM_REPORT_NSEGMENTS; k++)
        cli_json_kuint(&j, fm_report_segment_names[k], q->segment_target_s[k]);
    cli_json_end_object(&j);
    cli_json_kuint(&j, "tickets", r->tickets);
    cli_json_kuint(&j, "duplicates", r->duplicates); /* merged into another: counted there */
    cli_json_kstr(&j, "clock_note", r->clock_note);
    cli_json_kuint(&j, "negative_intervals", r->negative_intervals);
    cli_json_key(&j, "groups");
    cli_json_begin_array(&j);
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct fm_report_group *g = &r->groups[i];
        cli_json_begin_object(&j);
        cli_json_kstr(&j, "group", g->key);
        cli_json_kuint(&j, "tickets", g->tickets);
        cli_json_key(&j, "intervals");
        cli_json_begin_object(&j);
        for (int k = 0; k < FM_REPORT_NINTERVALS; k++)
            stat_json(&j, fm_report_interval_names[k], &g->interval[k]);
        cli_json_end_object(&j);
        stat_json(&j, "response", &g->response);
        cli_json_key(&j, "segments");
        cli_json_begin_object(&j);
        for (int k = 0; k < FM_REPORT_NSEGMENTS; k++) {
            const struct fm_report_segment *sg = &g->segment[k];
            cli_json_key(&j, fm_report_segment_names[k]);
            cli_json_begin_object(&j);
            cli_json_kuint(&j, "n", sg->s.n);
            cli_json_key(&j, "median_s");
            if (sg->s.n)
                cli_wf_kdouble(&j, NULL, sg->s.median_s, 3);
            else
                cli_json_null(&j);
            cli_json_key(&j, "p90_s");
            if (sg->s.n)
                cli_wf_kdouble(&j, NULL, sg->s.p90_s, 3);
            else
                cli_json_null(&j);
            opt_share(&j, "within_target_share", sg->within, sg->s.n);
            cli_json_end_object(&j);
        }
        cli_json_end_object(&j);
        cli_json_kuint(&j, "late", g->late);
        cli_json_kuint(&j, "with_target", g->with_target);
        opt_share(&j, "within_target_share", g->within_target, g->with_target);
        opt_share(&j, "cleared_share", g->cleared, g->tickets);
        opt_share(&j, "cancelled_share", g->cancelled, g->tickets);
        opt_share(&j, "escalated_share", g->escalated, g->tickets);
        cli_json_kuint(&j, "feedback_count", g->feedback_n);
        cli_json_key(&j, "satisfaction");
        if (g->feedback_n)
            cli_wf_kdouble(&j, NULL, g->feedback_sum / (double)g->feedback_n, 2);
        else
            cli_json_null(&j);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    late_json(&j, r);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static void csv_field(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void csv_stat(const struct fm_report_stat *s)
{
    if (s->n)
        printf(",%.3f,%.3f", s->median_s, s->p90_s);
    else
        printf(",,");
}

static void csv_share(size_t part, size_t whole)
{
    if (whole)
        printf(",%.4f", share(part, whole));
    else
        printf(",");
}

/* One line per group with every figure of the JSON; the columns of the
 * first version come first, in their order, the rest after them. */
static void report_csv(const struct fm_report *r)
{
    printf("group,tickets");
    for (int k = 0; k < FM_REPORT_NINTERVALS; k++)
        printf(",%s_median_s,%s_p90_s", fm_report_interval_names[k],
               fm_report_interval_names[k]);
    printf(",response_median_s,response_p90_s,within_target_share,cleared_share,"
           "cancelled_share,escalated_share,satisfaction,arrivals_gps,arrivals_button");
    for (int k = 0; k <= FM_REPORT_NINTERVALS; k++) {
        const char *nm = k < FM_REPORT_NINTERVALS ? fm_report_interval_names[k] : "response";
        printf(",%s_n,%s_gps,%s_button", nm, nm, nm);
    }
    printf(",with_target,feedback_count");
    for (int k = 0; k < FM_REPORT_NSEGMENTS; k++) {
        const char *nm = fm_report_segment_names[k];
        printf(",%s_n,%s_median_s,%s_p90_s,%s_within_target_share", nm, nm, nm, nm);
    }
    printf(",late\n");
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct fm_report_group *g = &r->groups[i];
        csv_field(g->key);
        printf(",%zu", g->tickets);
        for (int k = 0; k < FM_REPORT_NINTERVALS; k++)
            csv_stat(&g->interval[k]);
        csv_stat(&g->response);
        csv_share(g->within_target, g->with_target);
        printf(",%.4f,%.4f,%.4f", share(g->cleared, g->tickets), share(g->cancelled, g->tickets),
               share(g->escalated, g->tickets));
        if (g->feedback_n)
            printf(",%.2f", g->feedback_sum / (double)g->feedback_n);
        else
            printf(",");
        printf(",%zu,%zu", g->interval[3].gps_stamps, g->interval[3].button_stamps);
        for (int k = 0; k <= FM_REPORT_NINTERVALS; k++) {
            const struct fm_report_stat *st = k < FM_REPORT_NINTERVALS ? &g->interval[k]
                                                                       : &g->response;
            printf(",%zu,%zu,%zu", st->n, st->gps_stamps, st->button_stamps);
        }
        printf(",%zu,%zu", g->with_target, g->feedback_n);
        for (int k = 0; k < FM_REPORT_NSEGMENTS; k++) {
            printf(",%zu", g->segment[k].s.n);
            csv_stat(&g->segment[k].s);
            csv_share(g->segment[k].within, g->segment[k].s.n);
        }
        printf(",%zu\n", g->late);
    }
}

/* --late --csv: one line per late case. */
static void late_csv(const struct fm_report *r)
{
    char code[FM_HID_MAX], tcode[FM_HID_MAX];
    printf("incident_code,incident,ticket_code,ticket,unit,category,group,measure,seconds,"
           "target_s\n");
    for (size_t i = 0; i < r->nlate; i++) {
        const struct fm_report_late *l = &r->late[i];
        csv_field(cli_hid(l->incident, code));
        putchar(',');
        csv_field(l->incident);
        putchar(',');
        csv_field(cli_hid(l->ticket, tcode));
        putchar(',');
        csv_field(l->ticket);
        putchar(',');
        csv_field(l->unit);
        putchar(',');
        csv_field(l->category);
        putchar(',');
        csv_field(l->group);
        printf(",%s,%.3f,%u\n", measure_name(l->measure), l->seconds, (unsigned)l->target_s);
    }
}

static void fmt_stat(char *out, size_t cap, const struct fm_report_stat *s)
{
    if (s->n)
        snprintf(out, cap, "%.0f/%.0f", s->median_s, s->p90_s);
    else
        snprintf(out, cap, "-");
}

/* "median/p90 share%" of a segment, "-" when none was measured. */
static void fmt_segment(char *out, size_t cap, const struct fm_report_segment *sg)
{
    if (sg->s.n)
        snprintf(out, cap, "%.0f/%.0f %.0f%%", sg->s.median_s, sg->s.p90_s,
                 100 * share(sg->within, sg->s.n));
    else
        snprintf(out, cap, "-");
}

/* The late cases as a table: all of them, or the first `max`. */
static int late_table(const struct fm_report *r, size_t max, FILE *out)
{
    static const char *const headers[] = { "INCIDENT", "TICKET", "UNIT", "CATEGORY", "MEASURE",
                                           "TOOK", "TARGET" };
    struct cli_table t;
    int rc = 0;
    cli_table_init(&t, headers, CLI_NELEM(headers));
    for (size_t i = 0; i < r->nlate && i < max && rc == 0; i++) {
        const struct fm_report_late *l = &r->late[i];
        char code[FM_HID_MAX], tcode[FM_HID_MAX], took[24], tgt[24];
        const char *ic = cli_hid(l->incident, code), *tc = cli_hid(l->ticket, tcode);
        snprintf(took, sizeof took, "%.0f s", l->seconds);
        snprintf(tgt, sizeof tgt, "%u s", (unsigned)l->target_s);
        const char *cells[] = { ic[0] ? ic : l->incident, tc[0] ? tc : l->ticket, l->unit,
                                l->category, measure_name(l->measure), took, tgt };
        rc = cli_table_add(&t, cells, 40);
    }
    if (rc == 0)
        cli_table_print(&t, out);
    cli_table_release(&t);
    return rc;
}

#define LATE_SHOWN 10 /* under the report's table; --late lists all */

static int report_table(const struct fm_report *r, const struct fm_report_query *q)
{
    static const char *const headers[] = { "GROUP",   "TICKETS", "PROCESSING", "TURNOUT",
                                           "TRAVEL",  "RESPONSE", "IN TGT",    "LATE",
                                           "CLEARED", "CANCEL",  "ESCAL",      "SATISF",
                                           "OS GPS/BTN" };
    struct cli_table t;
    int rc = 0;
    cli_table_init(&t, headers, CLI_NELEM(headers));
    for (size_t i = 0; i < r->ngroups && rc == 0; i++) {
        const struct fm_report_group *g = &r->groups[i];
        char n[16], seg[FM_REPORT_NSEGMENTS][40], resp[32], tgt[16], late[16], cl[16], ca[16],
            es[16], sat[16], src[48];
        snprintf(n, sizeof n, "%zu", g->tickets);
        snprintf(src, sizeof src, "%zu/%zu", g->interval[3].gps_stamps,
                 g->interval[3].button_stamps);
        for (int k = 0; k < FM_REPORT_NSEGMENTS; k++)
            fmt_segment(seg[k], sizeof seg[k], &g->segment[k]);
        fmt_stat(resp, sizeof resp, &g->response);
        if (g->with_target)
            snprintf(tgt, sizeof tgt, "%.0f%%", 100 * share(g->within_target, g->with_target));
        else
            snprintf(tgt, sizeof tgt, "-");
        snprintf(late, sizeof late, "%zu", g->late);
        snprintf(cl, sizeof cl, "%.0f%%", 100 * share(g->cleared, g->tickets));
        snprintf(ca, sizeof ca, "%.0f%%", 100 * share(g->cancelled, g->tickets));
        snprintf(es, sizeof es, "%.0f%%", 100 * share(g->escalated, g->tickets));
        if (g->feedback_n)
            snprintf(sat, sizeof sat, "%.2f", g->feedback_sum / (double)g->feedback_n);
        else
            snprintf(sat, sizeof sat, "-");
        const char *cells[] = { g->key, n,  seg[0], seg[1], seg[2], resp, tgt,
                                late,   cl, ca,     es,     sat,    src };
        rc = cli_table_add(&t, cells, 40);
    }
    if (rc == 0) {
        cli_table_print(&t, stdout);
        printf("\nPROCESSING report to dispatch, TURNOUT dispatch to en route, TRAVEL en route to "
               "on scene: median/p90 in seconds and the share within its target (%u/%u/%u s);\n"
               "RESPONSE = report to on scene (median/p90), IN TGT = share within the category's "
               "target; LATE = tickets over a target;\nOS GPS/BTN = arrivals stamped by position "
               "/ by a button. Every interval: --json or --csv.\n",
               (unsigned)q->segment_target_s[0], (unsigned)q->segment_target_s[1],
               (unsigned)q->segment_target_s[2]);
        if (r->duplicates > 0)
            printf("duplicates: %zu incident%s opened twice and merged into another, counted "
                   "once there\n", r->duplicates, r->duplicates == 1 ? "" : "s");
        if (r->clock_note[0])
            printf("note: %s\n", r->clock_note);
        if (r->nlate > 0) {
            size_t all = r->nlate + r->late_more, tickets = 0;
            for (size_t i = 0; i < r->ngroups; i++)
                tickets += r->groups[i].late;
            printf("\nlate: %zu ticket%s over a target (%zu measure%s)%s\n", tickets,
                   tickets == 1 ? "" : "s", all, all == 1 ? "" : "s",
                   all > LATE_SHOWN ? "; the worst (all of them: report --late)" : "");
            rc = late_table(r, LATE_SHOWN, stdout);
        }
    }
    cli_table_release(&t);
    return rc;
}

/* run_report's options, in the order of its table */
enum { O_FROM, O_TO, O_BY, O_JSON, O_CSV, O_GPS, O_QUARTER, O_LATE, O_BOM, O_TPROC, O_TTURN,
       O_TTRAVEL };

/* --quarter, --from, --to into q, in the time zone in force (TZ, or the
 * node's node.time_zone once the config is loaded). */
static int report_period(struct cli *cl, const struct cli_args *a, struct fm_report_query *q)
{
    q->from_ms = q->to_ms = 0;
    if (a->val[O_QUARTER] != NULL && (a->val[O_FROM] != NULL || a->val[O_TO] != NULL))
        return cli_usage(cl, "give --quarter or --from/--to, not both");
    if (a->val[O_QUARTER] != NULL && parse_quarter(a->val[O_QUARTER], &q->from_ms, &q->to_ms) != 0)
        return cli_usage(cl, "--quarter must be YYYYQ1..YYYYQ4 (e.g. 2026Q4), not '%s'",
                         a->val[O_QUARTER]);
    if (a->val[O_FROM] != NULL && parse_date(a->val[O_FROM], &q->from_ms) != 0)
        return cli_usage(cl, "--from must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z], not '%s'",
                         a->val[O_FROM]);
    if (a->val[O_TO] != NULL && parse_date(a->val[O_TO], &q->to_ms) != 0)
        return cli_usage(cl, "--to must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z], not '%s'",
                         a->val[O_TO]);
    if (a->val[O_TO] != NULL && strlen(a->val[O_TO]) == 10) {
        /* a date includes its whole day (a local day: 23 or 25 h across DST) */
        char next[16];
        struct tm tm;
        time_t t = (time_t)(q->to_ms / 1000) + 36 * 3600;
        localtime_r(&t, &tm);
        strftime(next, sizeof next, "%Y-%m-%d", &tm);
        if (parse_date(next, &q->to_ms) != 0)
            return cli_usage(cl, "--to '%s' is out of range", a->val[O_TO]);
    }
    return 0;
}

/* --processing-target etc.: whole seconds, 0 = no target. */
static int parse_target(struct cli *cl, const char *opt, const char *v, uint32_t *out)
{
    int64_t x;
    if (v == NULL)
        return 0;
    if (fm_parse_i64(v, 0, 86400, &x) != FM_OK)
        return cli_usage(cl, "--%s must be whole seconds from 0 (no target) to 86400, not '%s'",
                         opt, v);
    *out = (uint32_t)x;
    return 0;
}

static int run_report(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "from", true }, { "to", true }, { "by", true },
                                           { "json", false }, { "csv", false },
                                           { "gps-only", false }, { "quarter", true },
                                           { "late", false }, { "bom", false },
                                           { "processing-target", true },
                                           { "turnout-target", true },
                                           { "travel-target", true } };
    static const char *const bys[] = { "all", "unit", "department", "county", "category", "tier",
                                       "incident-county" };
    struct cli_args a;
    struct fm_report_query q;
    struct fm_report r;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    memset(&q, 0, sizeof q);
    if (cli_flag(&a, O_JSON) && cli_flag(&a, O_CSV))
        return cli_usage(cl, "give --json or --csv, not both");
    if (cli_flag(&a, O_BOM) && !cli_flag(&a, O_CSV))
        return cli_usage(cl, "--bom goes with --csv");
    /* the period twice: its syntax before anything else (exit 2), its
     * value once the config has named the node's time zone */
    if ((rc = report_period(cl, &a, &q)) != 0 || (rc = cli_need_config(cl)) != 0 ||
        (rc = report_period(cl, &a, &q)) != 0)
        return rc;
    q.segment_target_s[FM_SEG_PROCESSING] = FM_REPORT_PROCESSING_S;
    q.segment_target_s[FM_SEG_TURNOUT] = FM_REPORT_TURNOUT_S;
    q.segment_target_s[FM_SEG_TRAVEL] = FM_REPORT_TRAVEL_S;
    if ((rc = parse_target(cl, "processing-target", a.val[O_TPROC],
                           &q.segment_target_s[FM_SEG_PROCESSING])) != 0 ||
        (rc = parse_target(cl, "turnout-target", a.val[O_TTURN],
                           &q.segment_target_s[FM_SEG_TURNOUT])) != 0 ||
        (rc = parse_target(cl, "travel-target", a.val[O_TTRAVEL],
                           &q.segment_target_s[FM_SEG_TRAVEL])) != 0)
        return rc;
    q.by = FM_REPORT_ALL;
    q.gps_only = cli_flag(&a, O_GPS);
    if (a.val[O_BY] != NULL) {
        size_t k;
        for (k = 1; k < CLI_NELEM(bys); k++)
            if (strcmp(a.val[O_BY], bys[k]) == 0)
                break;
        if (k == CLI_NELEM(bys))
            return cli_usage(cl, "--by must be unit, department, county, incident-county, tier "
                             "or category, not '%s'", a.val[O_BY]);
        q.by = (enum fm_report_by)k;
    }
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    if ((rc = fm_node_report(cl->node, &q, &r)) != 0)
        return cli_error(cl, rc, "cannot compute the report: %s", fm_strerror(rc));
    cli_hid_prepare(cl);
    if (cli_flag(&a, O_BOM))
        fputs("\xef\xbb\xbf", stdout); /* UTF-8 BOM: spreadsheet programs read UTF-8 then */
    if (cli_flag(&a, O_LATE) && cli_flag(&a, O_JSON)) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        cli_json_begin_object(&j);
        late_json(&j, &r);
        cli_json_end_object(&j);
        cli_json_finish(&j);
    } else if (cli_flag(&a, O_LATE) && cli_flag(&a, O_CSV)) {
        late_csv(&r);
    } else if (cli_flag(&a, O_LATE)) {
        if (r.nlate == 0)
            printf("no ticket over a target\n");
        else
            rc = late_table(&r, SIZE_MAX, stdout);
        if (rc == 0 && r.late_more > 0)
            printf("(and %zu more, not listed)\n", r.late_more);
    } else if (cli_flag(&a, O_JSON)) {
        report_json(&r, &q, bys[q.by]);
    } else if (cli_flag(&a, O_CSV)) {
        report_csv(&r);
    } else {
        rc = report_table(&r, &q);
    }
    /* the clock note is said once: on stdout in the table, as the
     * clock_note field in JSON, and as a trailing comment line in CSV,
     * with the duplicates count (a figure of the JSON the rows lack) */
    if (cli_flag(&a, O_CSV) && !cli_flag(&a, O_LATE)) {
        printf("# tickets: %zu; duplicates: %zu; negative_intervals: %zu\n", r.tickets,
               r.duplicates, r.negative_intervals);
        if (r.clock_note[0])
            printf("# note: %s\n", r.clock_note);
    }
    fm_report_release(&r);
    if (rc != 0)
        return cli_error(cl, rc, "cannot print the report: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_report = {
    NULL, "report",
    "[--from DATE] [--to DATE | --quarter YYYYQN]\n"
    "       [--by unit|department|county|incident-county|tier|category] [--gps-only]\n"
    "       [--processing-target S] [--turnout-target S] [--travel-target S]\n"
    "       [--late] [--json|--csv [--bom]]",
    "assess the response: segments and intervals (median, 90th percentile), targets, late "
    "cases, outcomes",
    "  --from DATE   incidents reported at or after DATE: YYYY-MM-DD or\n"
    "                YYYY-MM-DDTHH:MM[:SS] in the node's time zone (node.time_zone, TZ),\n"
    "                or UTC with a trailing Z\n"
    "  --to DATE     ... and before DATE (a plain date includes that day)\n"
    "  --quarter Q   a quarter in the node's time zone, e.g. 2026Q4 (Oct 1 to Jan 1)\n"
    "  --by G        one row per unit, department, county (the responding department's),\n"
    "                incident-county (where it happened, by the directory's boundaries),\n"
    "                tier or category, in the directory's order (default: all)\n"
    "  --gps-only    only tickets whose arrival was stamped by position (GPS)\n"
    "  --processing-target S, --turnout-target S, --travel-target S\n"
    "                the segments' targets in seconds (NFPA 1710: 64, 80, 240; 0 = none)\n"
    "  --late        list every ticket over a target instead of the groups: the\n"
    "                category's response target or a segment's, most over first\n"
    "  --json        {by, gps_only, from, to, segment_targets_s, tickets, duplicates,\n"
    "                clock_note, negative_intervals, groups: [{group, tickets, intervals\n"
    "                {report_to_dispatch, dispatch_to_ack, ack_to_enroute,\n"
    "                enroute_to_onscene, onscene_to_cleared: {n, median_s, p90_s, gps,\n"
    "                button}}, response, segments {processing, turnout, travel: {n,\n"
    "                median_s, p90_s, within_target_share}}, late, with_target,\n"
    "                within_target_share, cleared_share, cancelled_share, escalated_share,\n"
    "                feedback_count, satisfaction}], late: [{ticket, ticket_code, incident,\n"
    "                incident_code, unit, category, group, measure, seconds, target_s}],\n"
    "                late_more}\n"
    "  --csv         the same, one line per group (or per late case with --late), then\n"
    "                \"# tickets: ...; duplicates: ...\" and, when clocks disagreed,\n"
    "                \"# note: ...\"\n"
    "  --bom         begin the CSV with a UTF-8 byte order mark (for spreadsheet programs)\n"
    "Times come from the ops' hybrid logical clocks; when clocks disagreed (an interval\n"
    "ending before it started) those intervals are left out and a note says so.\n"
    "Incidents merged into another (duplicates) count once, on the one that stayed.\n",
    run_report,
};
