/*
 * cmd_report.c — `fieldmesh report`: the assessment of how tickets were
 * handled (intervals, targets, outcomes, satisfaction) per unit,
 * department, county or category, as a table, JSON or CSV.
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC) -> Unix ms. */
static int parse_date(const char *s, uint64_t *ms)
{
    int v[6] = { 0, 0, 0, 0, 0, 0 };
    static const int width[6] = { 4, 2, 2, 2, 2, 2 };
    static const char sep[6] = { '-', '-', 'T', ':', ':', 'Z' };
    size_t p = 0;
    int fields = 0;
    for (int f = 0; f < 6; f++) {
        for (int k = 0; k < width[f]; k++, p++) {
            if (s[p] < '0' || s[p] > '9')
                return FM_EINVAL;
            v[f] = v[f] * 10 + (s[p] - '0');
        }
        fields++;
        if (s[p] == '\0' || (s[p] == 'Z' && s[p + 1] == '\0'))
            break;
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
    time_t t = timegm(&tm);
    if (t < 0)
        return FM_EINVAL;
    *ms = (uint64_t)t * 1000;
    return FM_OK;
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

static void report_json(const struct fm_report *r, const char *by, bool gps_only)
{
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j);
    cli_json_kstr(&j, "by", by);
    cli_json_key(&j, "gps_only");
    cli_json_bool(&j, gps_only);
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

static void report_csv(const struct fm_report *r)
{
    printf("group,tickets");
    for (int k = 0; k < FM_REPORT_NINTERVALS; k++)
        printf(",%s_median_s,%s_p90_s", fm_report_interval_names[k],
               fm_report_interval_names[k]);
    printf(",response_median_s,response_p90_s,within_target_share,cleared_share,"
           "cancelled_share,escalated_share,satisfaction,arrivals_gps,arrivals_button\n");
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct fm_report_group *g = &r->groups[i];
        csv_field(g->key);
        printf(",%zu", g->tickets);
        for (int k = 0; k < FM_REPORT_NINTERVALS; k++)
            csv_stat(&g->interval[k]);
        csv_stat(&g->response);
        if (g->with_target)
            printf(",%.4f", share(g->within_target, g->with_target));
        else
            printf(",");
        printf(",%.4f,%.4f,%.4f", share(g->cleared, g->tickets), share(g->cancelled, g->tickets),
               share(g->escalated, g->tickets));
        if (g->feedback_n)
            printf(",%.2f", g->feedback_sum / (double)g->feedback_n);
        else
            printf(",");
        printf(",%zu,%zu\n", g->interval[3].gps_stamps, g->interval[3].button_stamps);
    }
}

static void fmt_stat(char *out, size_t cap, const struct fm_report_stat *s)
{
    if (s->n)
        snprintf(out, cap, "%.0f/%.0f", s->median_s, s->p90_s);
    else
        snprintf(out, cap, "-");
}

static int report_table(const struct fm_report *r)
{
    static const char *const headers[] = { "GROUP",   "TICKETS", "R>D",     "D>ACK",
                                           "ACK>ER",  "ER>OS",   "OS>CLR",  "RESPONSE",
                                           "IN TGT",  "CLEARED", "CANCEL",  "ESCAL",
                                           "SATISF",  "OS GPS/BTN" };
    struct cli_table t;
    int rc = 0;
    cli_table_init(&t, headers, CLI_NELEM(headers));
    for (size_t i = 0; i < r->ngroups && rc == 0; i++) {
        const struct fm_report_group *g = &r->groups[i];
        char n[16], iv[FM_REPORT_NINTERVALS][32], resp[32], tgt[16], cl[16], ca[16], es[16],
            sat[16], src[48];
        snprintf(n, sizeof n, "%zu", g->tickets);
        snprintf(src, sizeof src, "%zu/%zu", g->interval[3].gps_stamps,
                 g->interval[3].button_stamps);
        for (int k = 0; k < FM_REPORT_NINTERVALS; k++)
            fmt_stat(iv[k], sizeof iv[k], &g->interval[k]);
        fmt_stat(resp, sizeof resp, &g->response);
        if (g->with_target)
            snprintf(tgt, sizeof tgt, "%.0f%%", 100 * share(g->within_target, g->with_target));
        else
            snprintf(tgt, sizeof tgt, "-");
        snprintf(cl, sizeof cl, "%.0f%%", 100 * share(g->cleared, g->tickets));
        snprintf(ca, sizeof ca, "%.0f%%", 100 * share(g->cancelled, g->tickets));
        snprintf(es, sizeof es, "%.0f%%", 100 * share(g->escalated, g->tickets));
        if (g->feedback_n)
            snprintf(sat, sizeof sat, "%.2f", g->feedback_sum / (double)g->feedback_n);
        else
            snprintf(sat, sizeof sat, "-");
        const char *cells[] = { g->key, n,    iv[0], iv[1], iv[2], iv[3], iv[4],
                                resp,   tgt,  cl,    ca,    es,    sat,  src };
        rc = cli_table_add(&t, cells, 40);
    }
    if (rc == 0) {
        cli_table_print(&t, stdout);
        printf("\nintervals: median/p90 in seconds (R report, D dispatch, ACK acknowledged, ER en "
               "route, OS on scene, CLR cleared); RESPONSE = report to on scene;\nIN TGT = share "
               "of responses within the category's target; OS GPS/BTN = arrivals stamped by "
               "position / by a button.\n");
        if (r->duplicates > 0)
            printf("duplicates: %zu incident%s opened twice and merged into another, counted "
                   "once there\n", r->duplicates, r->duplicates == 1 ? "" : "s");
        if (r->clock_note[0])
            printf("note: %s\n", r->clock_note);
    }
    cli_table_release(&t);
    return rc;
}

static int run_report(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "from", true }, { "to", true }, { "by", true },
                                           { "json", false }, { "csv", false },
                                           { "gps-only", false } };
    static const char *const bys[] = { "all", "unit", "department", "county", "category" };
    struct cli_args a;
    struct fm_report_query q;
    struct fm_report r;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    memset(&q, 0, sizeof q);
    if (cli_flag(&a, 3) && cli_flag(&a, 4))
        return cli_usage(cl, "give --json or --csv, not both");
    if (a.val[0] != NULL && parse_date(a.val[0], &q.from_ms) != 0)
        return cli_usage(cl, "--from must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, not '%s'",
                         a.val[0]);
    if (a.val[1] != NULL && parse_date(a.val[1], &q.to_ms) != 0)
        return cli_usage(cl, "--to must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, not '%s'",
                         a.val[1]);
    if (a.val[1] != NULL && strlen(a.val[1]) == 10)
        q.to_ms += 86400000; /* a date includes its whole day */
    q.by = FM_REPORT_ALL;
    q.gps_only = cli_flag(&a, 5);
    if (a.val[2] != NULL) {
        size_t k;
        for (k = 1; k < CLI_NELEM(bys); k++)
            if (strcmp(a.val[2], bys[k]) == 0)
                break;
        if (k == CLI_NELEM(bys))
            return cli_usage(cl, "--by must be unit, department, county or category, not '%s'",
                             a.val[2]);
        q.by = (enum fm_report_by)k;
    }
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    if ((rc = fm_node_report(cl->node, &q, &r)) != 0)
        return cli_error(cl, rc, "cannot compute the report: %s", fm_strerror(rc));
    if (cli_flag(&a, 3))
        report_json(&r, bys[q.by], q.gps_only);
    else if (cli_flag(&a, 4))
        report_csv(&r);
    else
        rc = report_table(&r);
    /* the clock note is said once: on stdout in the table, as the
     * clock_note field in JSON, and as a trailing comment line in CSV */
    if (r.clock_note[0] && cli_flag(&a, 4))
        printf("# note: %s\n", r.clock_note);
    fm_report_release(&r);
    if (rc != 0)
        return cli_error(cl, rc, "cannot print the report: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_report = {
    NULL, "report",
    "[--from DATE] [--to DATE] [--by unit|department|county|category] [--gps-only]\n"
    "       [--json|--csv]",
    "assess the response: interval medians and 90th percentiles, targets, outcomes",
    "  --from DATE   incidents reported at or after DATE (YYYY-MM-DD or\n"
    "                YYYY-MM-DDTHH:MM[:SS]Z, UTC)\n"
    "  --to DATE     ... and before DATE (a plain date includes that day)\n"
    "  --by G        one row per unit, department, county or category (default: all)\n"
    "  --gps-only    only tickets whose arrival was stamped by position (GPS)\n"
    "  --json        {by, gps_only, tickets, clock_note, negative_intervals, groups: [{group,\n"
    "                tickets, intervals {report_to_dispatch, dispatch_to_ack,\n"
    "                ack_to_enroute, enroute_to_onscene, onscene_to_cleared: {n, median_s,\n"
    "                p90_s, gps, button}}, response, with_target, within_target_share,\n"
    "                cleared_share,\n"
    "                cancelled_share, escalated_share, feedback_count, satisfaction}]}\n"
    "  --csv         the same, one line per group (when clocks disagreed, a last\n"
    "                line \"# note: ...\")\n"
    "Times come from the ops' hybrid logical clocks; when clocks disagreed (an interval\n"
    "ending before it started) those intervals are left out and a note says so.\n",
    run_report,
};
