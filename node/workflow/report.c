/*
 * report.c — the assessment report: how fast and how well tickets were
 * handled, per unit, department, county or category.
 *
 * Every time comes from the HLC of the ops (the report's, each ticket
 * step's first report), so the report is the same on every replica with
 * the same ops. Per group it gives the ticket count, the median and 90th
 * percentile of each interval (report -> dispatch -> acknowledge -> en
 * route -> on scene -> cleared) and of the response (report -> on scene),
 * the share of responses within the category's target from the directory
 * (targets are 90th-percentile figures, as in NFPA 1710 or the "1-3-5"
 * rule), the shares cleared, cancelled (or reassigned) and escalated, and
 * the mean satisfaction score of the incidents handled. An interval whose
 * end was stamped before its start can only come from disagreeing clocks:
 * it is left out and counted, and the report says so. Each interval also
 * counts how many of its end stamps came from GPS and how many from a
 * button (docs/gps.md), and the report can keep only the tickets whose
 * arrival was stamped by GPS.
 *
 * The response is also cut into the segments of NFPA 1221/1710 —
 * processing (report -> dispatch), turnout (dispatch -> en route) and
 * travel (en route -> on scene) — each with its median, 90th percentile
 * and share within the segment's target, and every ticket over a target
 * (the category's response target or a segment's) is listed as a late
 * case. Groups come in the directory's order (its counties, departments,
 * tiers and rules; units by county, department and name), then the rest.
 */
#include "workflow_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const fm_report_interval_names[FM_REPORT_NINTERVALS] = {
    "report_to_dispatch", "dispatch_to_ack", "ack_to_enroute", "enroute_to_onscene",
    "onscene_to_cleared"};
const char *const fm_report_segment_names[FM_REPORT_NSEGMENTS + 1] = {"processing", "turnout",
                                                                      "travel", "response"};

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double fm_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, dbl_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double fm_percentile(double *v, size_t n, double p)
{
    if (n == 0 || p <= 0 || p > 100)
        return 0;
    qsort(v, n, sizeof *v, dbl_cmp);
    size_t rank = (size_t)ceil(p / 100.0 * (double)n); /* nearest rank, 1-based */
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

struct dvec {
    double *v;
    size_t n, cap;
};

static int dvec_add(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 16;
        double *nv = realloc(d->v, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        d->v = nv;
        d->cap = cap;
    }
    d->v[d->n++] = x;
    return FM_OK;
}

struct grp {
    struct fm_report_group g;
    uint32_t rank;                            /* place in the directory's order */
    struct dvec iv[FM_REPORT_NINTERVALS + 1]; /* + response */
    struct dvec seg[FM_REPORT_NSEGMENTS];
    char (*incidents)[FM_ID_MAX];             /* distinct incidents, for feedback */
    size_t ninc, capinc;
};

struct rp {
    struct fm_node *n;
    struct store_txn *t;
    const struct fm_report_query *q;
    struct fm_directory *d;
    struct fm_unit *units;
    size_t nunits, capunits;
    struct grp *groups;
    size_t ngroups, capgroups;
    struct fm_report *out;
    char skew[8][2][FM_KEY_TAG_LEN + 1];
    size_t nskew;
    size_t caplate;
};

#define RANK_NONE UINT32_MAX /* not in the directory: after those that are, by key */

static struct grp *grp_get(struct rp *r, const char *key, uint32_t rank)
{
    for (size_t i = 0; i < r->ngroups; i++)
        if (strcmp(r->groups[i].g.key, key) == 0)
            return &r->groups[i];
    if (r->ngroups == r->capgroups) {
        size_t cap = r->capgroups ? 2 * r->capgroups : 8;
        struct grp *nv = realloc(r->groups, cap * sizeof *nv);
        if (nv == NULL)
            return NULL;
        r->groups = nv;
        r->capgroups = cap;
    }
    struct grp *g = &r->groups[r->ngroups++];
    memset(g, 0, sizeof *g);
    fm_strlcpy(g->g.key, key, sizeof g->g.key);
    g->rank = rank;
    return g;
}

static int unit_collect(void *ctx, const struct fm_unit *u)
{
    struct rp *r = ctx;
    if (r->nunits == r->capunits) {
        size_t cap = r->capunits ? 2 * r->capunits : 32;
        struct fm_unit *nv = realloc(r->units, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        r->units = nv;
        r->capunits = cap;
    }
    r->units[r->nunits++] = *u;
    return 0;
}

static const struct fm_unit *unit_find(const struct rp *r, const char *id)
{
    for (size_t i = 0; i < r->nunits; i++)
        if (strcmp(r->units[i].id, id) == 0)
            return &r->units[i];
    return NULL;
}

static size_t rule_index(const struct fm_directory *d, const char *category)
{
    const struct fm_dir_rule *rule = fm_directory_rule(d, category);
    return rule != NULL ? (size_t)(rule - d->rules) : SIZE_MAX;
}

/* The ticket's group and its place in the directory's order. */
static uint32_t group_key(const struct rp *r, const struct fm_ticket *tk,
                          const struct fm_incident *inc, char key[FM_NAME_MAX])
{
    const struct fm_unit *u = unit_find(r, tk->unit);
    const struct fm_dir_unit *du = u ? fm_directory_unit(r->d, u->name) : NULL;
    const struct fm_dir_dept *x = du ? &r->d->depts[du->dept]
                                     : (u ? directory_dept(r->d, u->department) : NULL);
    uint32_t dept = x ? (uint32_t)(x - r->d->depts) : 0xffff;
    uint32_t county = x && x->county < r->d->ncounties ? x->county : 0xffff;
    int at;
    size_t k;
    switch (r->q->by) {
    case FM_REPORT_UNIT:
        snprintf(key, FM_NAME_MAX, "%s", u ? u->name : tk->unit);
        return x ? county << 16 | dept : RANK_NONE;
    case FM_REPORT_DEPARTMENT:
        snprintf(key, FM_NAME_MAX, "%s", x ? x->name : (u ? u->department : "(unknown)"));
        return x ? dept : RANK_NONE;
    case FM_REPORT_COUNTY:
        snprintf(key, FM_NAME_MAX, "%s", county != 0xffff ? r->d->counties[county] : "(unknown)");
        return county != 0xffff ? county : RANK_NONE;
    case FM_REPORT_INCIDENT_COUNTY: /* where it happened, by the directory's boundaries */
        at = fm_directory_county_at(r->d, inc->lat_e7, inc->lon_e7);
        snprintf(key, FM_NAME_MAX, "%s",
                 at >= 0 ? r->d->counties[at]
                         : r->d->nrings ? "(outside every county)" : "(no boundaries)");
        return at >= 0 ? (uint32_t)at : RANK_NONE;
    case FM_REPORT_TIER: {
        unsigned tier = x ? x->tier : u ? u->tier : 0;
        if (tier >= 1 && tier <= 3)
            snprintf(key, FM_NAME_MAX, "tier %u", tier);
        else
            snprintf(key, FM_NAME_MAX, "(unknown)");
        return tier >= 1 && tier <= 3 ? tier : RANK_NONE;
    }
    case FM_REPORT_CATEGORY:
        snprintf(key, FM_NAME_MAX, "%s", inc->category);
        k = rule_index(r->d, inc->category);
        return k != SIZE_MAX ? (uint32_t)k : RANK_NONE;
    default:
        snprintf(key, FM_NAME_MAX, "all");
        return 0;
    }
}

/* A late case: the measure took `secs`, over target_s. */
static int late_add(struct rp *r, const struct fm_ticket *tk, const struct fm_incident *inc,
                    const struct grp *g, int measure, double secs, uint32_t target_s)
{
    struct fm_report *o = r->out;
    if (o->nlate >= FM_REPORT_LATE_MAX) {
        o->late_more++;
        return FM_OK;
    }
    if (o->nlate == r->caplate) {
        size_t cap = r->caplate ? 2 * r->caplate : 16;
        struct fm_report_late *nv = realloc(o->late, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        o->late = nv;
        r->caplate = cap;
    }
    struct fm_report_late *l = &o->late[o->nlate++];
    memset(l, 0, sizeof *l);
    fm_strlcpy(l->ticket, tk->id, sizeof l->ticket);
    fm_strlcpy(l->incident, inc->id, sizeof l->incident);
    const struct fm_unit *u = unit_find(r, tk->unit);
    fm_strlcpy(l->unit, u ? u->name : tk->unit, sizeof l->unit);
    fm_strlcpy(l->category, inc->category, sizeof l->category);
    fm_strlcpy(l->group, g->g.key, sizeof l->group);
    l->measure = measure;
    l->seconds = secs;
    l->target_s = target_s;
    return FM_OK;
}

/* Adds end - start (seconds) to v, or counts a clock disagreement. */
static int interval(struct rp *r, struct dvec *v, uint64_t start, const char *sa, uint64_t end,
                    const char *ea)
{
    if (start == 0 || end == 0)
        return FM_OK;
    if (end < start) {
        r->out->negative_intervals++;
        bool seen = false;
        for (size_t i = 0; i < r->nskew; i++)
            seen = seen || (strncmp(r->skew[i][0], sa, FM_KEY_TAG_LEN) == 0 &&
                            strncmp(r->skew[i][1], ea, FM_KEY_TAG_LEN) == 0);
        if (!seen && r->nskew < 8) {
            snprintf(r->skew[r->nskew][0], FM_KEY_TAG_LEN + 1, "%.*s", FM_KEY_TAG_LEN, sa);
            snprintf(r->skew[r->nskew][1], FM_KEY_TAG_LEN + 1, "%.*s", FM_KEY_TAG_LEN, ea);
            r->nskew++;
        }
        return FM_OK;
    }
    return dvec_add(v, (double)(hlc_ms(end) - hlc_ms(start)) / 1000.0);
}

/* An interval was added (its vector grew): count where its end came from. */
static void stamp_count(struct fm_report_stat *s, size_t n, size_t n_before,
                        const struct fm_ticket_mark *end)
{
    if (n == n_before)
        return;
    if (end->gps)
        s->gps_stamps++;
    else
        s->button_stamps++;
}

/* A ticket dispatched to an incident later merged into another answered
 * that incident's own call: its intervals start at that report. */
static int merged_call(struct store_txn *t, const char *id, uint64_t *reported,
                       char reporter[FM_KEY_TEXT_LEN])
{
    struct model_rec *mr = malloc(sizeof *mr);
    struct fm_incident *own = malloc(sizeof *own);
    int rc = FM_ENOMEM;
    if (mr != NULL && own != NULL && (rc = model_rec_load(t, FM_ENT_INCIDENT, id, mr)) == FM_OK &&
        model_rec_to_incident(mr, id, own) == FM_OK) {
        *reported = own->reported_hlc;
        fm_strlcpy(reporter, own->reporter, FM_KEY_TEXT_LEN);
    }
    free(mr);
    free(own);
    return rc;
}

/* Incidents folded into others (§3c): counted once, on the survivor. */
static int rp_duplicate(void *ctx, const struct fm_incident *inc)
{
    struct rp *r = ctx;
    uint64_t at = hlc_ms(inc->reported_hlc);
    if (inc->merged_into[0] == '\0' || (r->q->from_ms && at < r->q->from_ms) ||
        (r->q->to_ms && at >= r->q->to_ms))
        return 0;
    r->out->duplicates++;
    return 0;
}

static int rp_ticket(void *ctx, const struct fm_ticket *tk)
{
    struct rp *r = ctx;
    struct fm_incident inc;
    struct fm_incident_workflow wf;
    char key[FM_NAME_MAX];
    int rc;
    if (fm_node_incident_get(r->n, tk->incident, &inc) != FM_OK)
        return 0; /* the incident's report has not arrived here yet */
    uint64_t called = inc.reported_hlc; /* the call this ticket answered */
    char caller_node[FM_KEY_TEXT_LEN];
    fm_strlcpy(caller_node, inc.reporter, sizeof caller_node);
    if (tk->merged_from[0] && (rc = merged_call(r->t, tk->merged_from, &called, caller_node)) != FM_OK)
        return rc;
    if (r->q->gps_only && !(tk->onscene.hlc && tk->onscene.gps))
        return 0;
    uint64_t at = hlc_ms(inc.reported_hlc); /* the survivor's period */
    if ((r->q->from_ms && at < r->q->from_ms) || (r->q->to_ms && at >= r->q->to_ms))
        return 0;
    if ((rc = wf_incident_workflow_txn(r->t, inc.id, &wf)) != FM_OK)
        return rc;
    uint32_t rank = group_key(r, tk, &inc, key);
    struct grp *g = grp_get(r, key, rank);
    if (g == NULL)
        return FM_ENOMEM;
    g->g.tickets++;
    r->out->tickets++;
    const struct fm_ticket_mark *m[] = {&tk->dispatched, &tk->acked, &tk->enroute, &tk->onscene,
                                        &tk->cleared};
    size_t n0[FM_REPORT_NINTERVALS + 1];
    for (int k = 0; k <= FM_REPORT_NINTERVALS; k++)
        n0[k] = g->iv[k].n;
    /* report -> dispatch, then each step from the last step reached before it */
    if ((rc = interval(r, &g->iv[0], called, caller_node, tk->dispatched.hlc,
                       tk->dispatched.author)) != FM_OK)
        return rc;
    stamp_count(&g->g.interval[0], g->iv[0].n, n0[0], m[0]);
    for (int k = 1; k < FM_REPORT_NINTERVALS; k++) {
        if ((rc = interval(r, &g->iv[k], m[k - 1]->hlc, m[k - 1]->author, m[k]->hlc,
                           m[k]->author)) != FM_OK)
            return rc;
        stamp_count(&g->g.interval[k], g->iv[k].n, n0[k], m[k]);
    }
    if ((rc = interval(r, &g->iv[FM_REPORT_NINTERVALS], called, caller_node,
                       tk->onscene.hlc, tk->onscene.author)) != FM_OK)
        return rc;
    stamp_count(&g->g.response, g->iv[FM_REPORT_NINTERVALS].n, n0[FM_REPORT_NINTERVALS],
                &tk->onscene);
    bool late = false;
    const struct fm_dir_rule *rule = fm_directory_rule(r->d, inc.category);
    if (rule != NULL && rule->target_s > 0 && tk->onscene.hlc >= called && tk->onscene.hlc) {
        uint64_t took = hlc_ms(tk->onscene.hlc) - hlc_ms(called);
        g->g.with_target++;
        if (took <= (uint64_t)rule->target_s * 1000)
            g->g.within_target++;
        else if ((rc = late_add(r, tk, &inc, g, FM_LATE_RESPONSE, (double)took / 1000.0,
                                rule->target_s)) != FM_OK)
            return rc;
        late = late || took > (uint64_t)rule->target_s * 1000;
    }
    /* processing, turnout, travel: the same stamps as the intervals */
    const uint64_t seg_from[FM_REPORT_NSEGMENTS] = {called, tk->dispatched.hlc, tk->enroute.hlc};
    const uint64_t seg_to[FM_REPORT_NSEGMENTS] = {tk->dispatched.hlc, tk->enroute.hlc,
                                                  tk->onscene.hlc};
    for (int k = 0; k < FM_REPORT_NSEGMENTS; k++) {
        uint32_t target = r->q->segment_target_s[k];
        if (seg_from[k] == 0 || seg_to[k] < seg_from[k])
            continue; /* not reached, or clocks disagreed (counted with the intervals) */
        double secs = (double)(hlc_ms(seg_to[k]) - hlc_ms(seg_from[k])) / 1000.0;
        if ((rc = dvec_add(&g->seg[k], secs)) != FM_OK)
            return rc;
        if (target == 0 || secs <= (double)target) {
            g->g.segment[k].within++;
            continue;
        }
        late = true;
        if ((rc = late_add(r, tk, &inc, g, k, secs, target)) != FM_OK)
            return rc;
    }
    g->g.late += late;
    g->g.cleared += tk->state == FM_TICKET_CLEARED;
    g->g.cancelled += tk->state == FM_TICKET_CANCELLED || tk->state == FM_TICKET_REASSIGNED;
    g->g.escalated += wf.escalated_tier != 0;
    for (size_t i = 0; i < g->ninc; i++)
        if (strcmp(g->incidents[i], inc.id) == 0)
            return 0;
    if (g->ninc == g->capinc) {
        size_t cap = g->capinc ? 2 * g->capinc : 8;
        char(*nv)[FM_ID_MAX] = realloc(g->incidents, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        g->incidents = nv;
        g->capinc = cap;
    }
    fm_strlcpy(g->incidents[g->ninc++], inc.id, FM_ID_MAX);
    g->g.feedback_n += wf.feedback_count;
    g->g.feedback_sum += (double)wf.feedback_sum;
    return 0;
}

static int grp_cmp(const void *a, const void *b)
{
    const struct grp *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return strcmp(x->g.key, y->g.key);
}

/* Most over its target (as a share of it) first, then by ticket and measure. */
static int late_cmp(const void *a, const void *b)
{
    const struct fm_report_late *x = a, *y = b;
    double ox = x->seconds / (x->target_s ? x->target_s : 1);
    double oy = y->seconds / (y->target_s ? y->target_s : 1);
    if (ox != oy)
        return ox > oy ? -1 : 1;
    int c = strcmp(x->ticket, y->ticket);
    return c != 0 ? c : (x->measure > y->measure) - (x->measure < y->measure);
}

static void stat_fill(struct fm_report_stat *s, struct dvec *v)
{
    s->n = v->n;
    s->median_s = fm_median(v->v, v->n);
    s->p90_s = fm_percentile(v->v, v->n, 90);
}

int fm_node_report(struct fm_node *n, const struct fm_report_query *q, struct fm_report *out)
{
    struct rp r;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    if (n == NULL || q == NULL)
        return FM_EINVAL;
    r.n = n;
    r.q = q;
    r.out = out;
    if ((rc = fm_node_units(n, unit_collect, &r)) != FM_OK)
        goto out;
    if ((rc = store_read_begin(n->st, &r.t)) != FM_OK)
        goto out;
    rc = wf_directory_txn(r.t, &r.d);
    if (rc == FM_ENOTFOUND && (r.d = calloc(1, sizeof *r.d)) != NULL)
        rc = FM_OK;
    else if (rc == FM_ENOTFOUND)
        rc = FM_ENOMEM;
    if (rc == FM_OK)
        rc = fm_node_tickets(n, NULL, rp_ticket, &r);
    store_txn_abort(&r.t);
    struct fm_incident_filter any = {.stage = -1};
    if (rc == FM_OK)
        rc = fm_node_incidents(n, &any, rp_duplicate, &r);
    if (rc != FM_OK)
        goto out;
    out->groups = calloc(r.ngroups ? r.ngroups : 1, sizeof *out->groups);
    if (out->groups == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    if (r.ngroups > 1) /* qsort of NULL, 0 is undefined */
        qsort(r.groups, r.ngroups, sizeof *r.groups, grp_cmp);
    for (size_t i = 0; i < r.ngroups; i++) {
        struct grp *g = &r.groups[i];
        for (int k = 0; k < FM_REPORT_NINTERVALS; k++)
            stat_fill(&g->g.interval[k], &g->iv[k]);
        stat_fill(&g->g.response, &g->iv[FM_REPORT_NINTERVALS]);
        for (int k = 0; k < FM_REPORT_NSEGMENTS; k++)
            stat_fill(&g->g.segment[k].s, &g->seg[k]);
        out->groups[i] = g->g;
    }
    out->ngroups = r.ngroups;
    if (out->nlate > 1)
        qsort(out->late, out->nlate, sizeof *out->late, late_cmp);
    if (out->negative_intervals > 0) {
        size_t used = (size_t)snprintf(out->clock_note, sizeof out->clock_note,
                                       "clocks disagreed: %zu interval%s ended before it "
                                       "started and %s left out (nodes",
                                       out->negative_intervals,
                                       out->negative_intervals == 1 ? "" : "s",
                                       out->negative_intervals == 1 ? "was" : "were");
        for (size_t i = 0; i < r.nskew && used + 1 < sizeof out->clock_note; i++)
            used += (size_t)snprintf(out->clock_note + used, sizeof out->clock_note - used,
                                     "%s %s/%s", i ? "," : "", r.skew[i][0], r.skew[i][1]);
        if (used + 1 < sizeof out->clock_note)
            snprintf(out->clock_note + used, sizeof out->clock_note - used, ")");
    }
    out->skewed_pairs = r.nskew;
out:
    for (size_t i = 0; i < r.ngroups; i++) {
        for (int k = 0; k <= FM_REPORT_NINTERVALS; k++)
            free(r.groups[i].iv[k].v);
        for (int k = 0; k < FM_REPORT_NSEGMENTS; k++)
            free(r.groups[i].seg[k].v);
        free(r.groups[i].incidents);
    }
    free(r.groups);
    free(r.units);
    fm_directory_free(&r.d);
    if (rc != FM_OK)
        fm_report_release(out);
    return rc;
}

void fm_report_release(struct fm_report *r)
{
    if (r == NULL)
        return;
    free(r->groups);
    r->groups = NULL;
    r->ngroups = 0;
    free(r->late);
    r->late = NULL;
    r->nlate = 0;
}
