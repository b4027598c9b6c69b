/*
 * routes_more.c — the console API's other reads: proposed dispatch,
 * alerts (late tickets, open conflicts, escalations, cloned keys), the
 * assessment report, peers (asked of this daemon's sync engine over its
 * control socket, as `fieldmesh peers` does), the directory, resources,
 * material requests, bulletins and conflicts. Field names follow the
 * CLI's --json output (docs/cli.md).
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include "console_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- proposed dispatch ---- */

int route_suggest(struct call *k)
{
    const char *inc = call_query(k, "incident");
    char id[FM_ID_MAX];
    if (inc == NULL || inc[0] == '\0')
        return reply_error(k, 400, "usage", "?incident=ID is required");
    struct fm_suggestion *s = malloc(sizeof *s);
    if (s == NULL)
        return reply_error(k, 500, "internal", "out of memory");
    node_lock(k->c);
    int rc = console_resolve(k->c, FM_ENT_INCIDENT, inc, id);
    if (rc == FM_OK)
        rc = fm_node_dispatch_suggest(k->c->node, id, fm_now_ms(), s);
    node_unlock(k->c);
    if (rc != FM_OK) {
        free(s);
        return reply_node_error(k, rc, "cannot propose a dispatch for %s: %s", inc,
                                fm_strerror(rc));
    }
    json_t *depts = json_array(), *units = json_array(), *gaps = json_array();
    for (size_t i = 0; i < s->ndepts; i++)
        json_array_append_new(depts, json_string(s->departments[i]));
    for (size_t i = 0; i < s->nunits; i++) {
        const struct fm_suggest_unit *u = &s->units[i];
        json_array_append_new(units, json_pack(
            "{s:s, s:s, s:s, s:s, s:i, s:s, s:f, s:o, s:s}", "unit", u->unit, "name", u->name,
            "department", u->department, "county", u->county, "tier", u->tier, "capability",
            u->capability, "distance_km", u->distance_km, "position_age_s",
            u->live_position ? json_integer(u->position_age_s) : json_null(), "position",
            !u->live_position ? "home" : u->gps_position ? "gps" : "reported"));
    }
    for (size_t i = 0; i < s->ngaps; i++) {
        const struct fm_suggest_gap *g = &s->gaps[i];
        json_array_append_new(gaps, json_pack("{s:i, s:s, s:s, s:i, s:i}", "tier", g->tier,
                                              "kind", g->kind, "capability", g->capability,
                                              "wanted", g->wanted, "found", g->found));
    }
    json_t *o = json_pack("{s:s, s:s, s:i, s:b, s:b, s:i, s:o, s:o, s:o}", "incident",
                          s->incident, "category", s->category, "priority", s->priority,
                          "has_directory", s->has_directory, "has_rule", s->has_rule,
                          "max_tier", s->max_tier, "departments", depts, "units", units,
                          "gaps", gaps);
    free(s);
    return reply_json(k, 200, o);
}

/* ---- alerts ---- */

struct alert_walk {
    json_t *list;
    struct fm_node *node;
    const struct fm_directory *dir;
    uint64_t now_ms;
};

static int alert_ticket(void *ctx, const struct fm_ticket *t)
{
    struct alert_walk *w = ctx;
    struct fm_incident inc;
    if (!t->active || t->dispatched.hlc == 0 ||
        fm_node_incident_get(w->node, t->incident, &inc) != FM_OK)
        return 0;
    const struct fm_dir_rule *r = w->dir ? fm_directory_rule(w->dir, inc.category) : NULL;
    if (r == NULL)
        return 0;
    uint64_t dispatched = t->dispatched.hlc >> 16, reported = inc.reported_hlc >> 16;
    if (t->acked.hlc == 0 && r->escalate_after_s &&
        w->now_ms > dispatched + (uint64_t)r->escalate_after_s * 1000u)
        json_array_append_new(w->list, json_pack(
            "{s:s, s:s, s:s, s:s, s:o, s:I, s:s}", "kind", "ack_late", "ticket", t->id,
            "incident", t->incident, "unit", t->unit, "due_at",
            enc_time((dispatched + (uint64_t)r->escalate_after_s * 1000u) << 16), "late_s",
            (json_int_t)((w->now_ms - dispatched) / 1000u - r->escalate_after_s), "text",
            "dispatched and not acknowledged within the rule's time"));
    else if (t->onscene.hlc == 0 && r->target_s &&
             w->now_ms > reported + (uint64_t)r->target_s * 1000u)
        json_array_append_new(w->list, json_pack(
            "{s:s, s:s, s:s, s:s, s:o, s:I, s:s}", "kind", "response_late", "ticket", t->id,
            "incident", t->incident, "unit", t->unit, "due_at",
            enc_time((reported + (uint64_t)r->target_s * 1000u) << 16), "late_s",
            (json_int_t)((w->now_ms - reported) / 1000u - r->target_s), "text",
            "not on scene within the category's response target"));
    return 0;
}

static int alert_conflict(void *ctx, const struct fm_conflict *c)
{
    struct alert_walk *w = ctx;
    json_array_append_new(w->list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "conflict",
                                             "conflict", c->id, "conflict_kind", c->kind,
                                             "subject", c->subject, "text", c->detail));
    return 0;
}

static int alert_escalation(void *ctx, const struct fm_incident *inc)
{
    struct alert_walk *w = ctx;
    struct fm_incident_workflow wf;
    if (!fm_incident_open(inc) ||
        fm_node_incident_workflow(w->node, inc->id, &wf) != FM_OK || wf.escalated_tier == 0)
        return 0;
    json_array_append_new(w->list, json_pack(
        "{s:s, s:s, s:i, s:o, s:s}", "kind", "escalation", "incident", inc->id, "tier",
        wf.escalated_tier, "at", enc_time(wf.escalated_hlc[wf.escalated_tier & 3]), "text",
        "escalated to a higher tier"));
    return 0;
}

int route_alerts(struct call *k)
{
    struct alert_walk w = { .list = json_array(), .node = k->c->node, .now_ms = fm_now_ms() };
    struct fm_directory *dir = NULL;
    struct fm_clone_alert *clones = NULL;
    size_t nclones = 0;
    struct fm_incident_filter f = { .stage = -1 };
    node_lock(k->c);
    if (fm_node_directory_get(k->c->node, &dir) != FM_OK)
        dir = NULL;
    w.dir = dir;
    int rc = fm_node_tickets(k->c->node, NULL, alert_ticket, &w);
    if (rc == FM_OK)
        rc = fm_node_conflicts(k->c->node, false, alert_conflict, &w);
    if (rc == FM_OK)
        rc = fm_node_incidents(k->c->node, &f, alert_escalation, &w);
    if (rc == FM_OK && fm_node_diverging_writers(k->c->node, &clones, &nclones) != FM_OK)
        nclones = 0;
    node_unlock(k->c);
    fm_directory_free(&dir);
    for (size_t i = 0; i < nclones; i++) {
        char key[FM_KEY_TEXT_LEN];
        fm_key_encode(clones[i].author, key);
        json_array_append_new(w.list, json_pack("{s:s, s:s, s:s, s:I, s:s}", "kind",
                                                "cloned_key", "author", key, "name",
                                                clones[i].name, "seq", (json_int_t)clones[i].seq,
                                                "text", "a node key signs on two machines"));
    }
    free(clones);
    if (rc != FM_OK) {
        json_decref(w.list);
        return reply_node_error(k, rc, "cannot collect alerts: %s", fm_strerror(rc));
    }
    return reply_json(k, 200, json_pack("{s:o, s:o}", "alerts", w.list, "now",
                                        enc_time(w.now_ms << 16)));
}

/* ---- the assessment report ---- */

/* "2026-12-05" or "2026-12-05T08:00:00Z" or Unix ms -> Unix ms. */
static int parse_when(const char *s, uint64_t *ms)
{
    struct tm tm = { 0 };
    const char *end;
    if (fm_parse_u64(s, ms) == FM_OK)
        return FM_OK;
    if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL &&
        (end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
        return FM_EINVAL;
    if (*end != '\0' && strcmp(end, "Z") != 0)
        return FM_EINVAL;
    time_t t = timegm(&tm);
    if (t < 0)
        return FM_EINVAL;
    *ms = (uint64_t)t * 1000u;
    return FM_OK;
}

static json_t *stat_json(const struct fm_report_stat *s)
{
    return json_pack("{s:I, s:o, s:o, s:I, s:I}", "n", (json_int_t)s->n, "median_s",
                     s->n ? json_real(s->median_s) : json_null(), "p90_s",
                     s->n ? json_real(s->p90_s) : json_null(), "gps", (json_int_t)s->gps_stamps,
                     "button", (json_int_t)s->button_stamps);
}

static json_t *share(size_t part, size_t whole)
{
    return whole ? json_real((double)part / (double)whole) : json_null();
}

static json_t *group_json(const struct fm_report_group *g)
{
    json_t *iv = json_object(), *seg = json_object();
    for (int i = 0; i < FM_REPORT_NINTERVALS; i++)
        json_object_set_new(iv, fm_report_interval_names[i], stat_json(&g->interval[i]));
    for (int i = 0; i < FM_REPORT_NSEGMENTS; i++) {
        const struct fm_report_segment *sg = &g->segment[i];
        json_object_set_new(seg, fm_report_segment_names[i], json_pack(
            "{s:I, s:o, s:o, s:o}", "n", (json_int_t)sg->s.n, "median_s",
            sg->s.n ? json_real(sg->s.median_s) : json_null(), "p90_s",
            sg->s.n ? json_real(sg->s.p90_s) : json_null(), "within_target_share",
            share(sg->within, sg->s.n)));
    }
    return json_pack("{s:s, s:I, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:o}",
                     "group", g->key, "tickets", (json_int_t)g->tickets, "intervals", iv,
                     "response", stat_json(&g->response), "segments", seg, "late",
                     (json_int_t)g->late, "with_target", (json_int_t)g->with_target,
                     "within_target_share", share(g->within_target, g->with_target),
                     "cleared_share", share(g->cleared, g->tickets), "cancelled_share",
                     share(g->cancelled, g->tickets), "escalated_share",
                     share(g->escalated, g->tickets), "feedback_count",
                     (json_int_t)g->feedback_n, "satisfaction",
                     g->feedback_n ? json_real(g->feedback_sum / (double)g->feedback_n)
                                   : json_null());
}

int route_report(struct call *k)
{
    static const char *const bys[] = { "all", "unit", "department", "county", "category",
                                       "tier", "incident-county" };
    enum { NBY = sizeof bys / sizeof bys[0] };
    struct fm_report_query q = { .segment_target_s = { FM_REPORT_PROCESSING_S,
                                                       FM_REPORT_TURNOUT_S,
                                                       FM_REPORT_TRAVEL_S } };
    struct fm_report r = { 0 };
    const char *by = call_query(k, "by"), *from = call_query(k, "from"), *to = call_query(k, "to");
    const char *gps = call_query(k, "gps_only");
    size_t i;
    for (i = 0; by != NULL && i < NBY && strcmp(by, bys[i]) != 0; i++)
        ;
    if (i == NBY)
        return reply_error(k, 400, "usage", "bad by '%s': expected unit, department, county, "
                           "incident-county, tier or category", by);
    q.by = by != NULL ? (enum fm_report_by)i : FM_REPORT_ALL;
    if ((from != NULL && parse_when(from, &q.from_ms) != FM_OK) ||
        (to != NULL && parse_when(to, &q.to_ms) != FM_OK))
        return reply_error(k, 400, "usage", "bad from/to: expected YYYY-MM-DD, "
                           "YYYY-MM-DDTHH:MM:SSZ or Unix ms");
    q.gps_only = gps != NULL && strcmp(gps, "1") == 0;
    node_lock(k->c);
    int rc = fm_node_report(k->c->node, &q, &r);
    node_unlock(k->c);
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot compute the report: %s", fm_strerror(rc));
    json_t *groups = json_array();
    for (i = 0; i < r.ngroups; i++)
        json_array_append_new(groups, group_json(&r.groups[i]));
    json_t *late = json_array(), *targets = json_object();
    for (i = 0; i < r.nlate; i++) {
        const struct fm_report_late *l = &r.late[i];
        json_array_append_new(late, json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:I}", "ticket", l->ticket, "incident",
            l->incident, "unit", l->unit, "category", l->category, "group", l->group, "measure",
            fm_report_segment_names[l->measure >= 0 && l->measure <= FM_LATE_RESPONSE
                                        ? l->measure : FM_LATE_RESPONSE],
            "seconds", l->seconds, "target_s", (json_int_t)l->target_s));
    }
    for (i = 0; i < FM_REPORT_NSEGMENTS; i++)
        json_object_set_new(targets, fm_report_segment_names[i],
                            json_integer((json_int_t)q.segment_target_s[i]));
    json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:s, s:I, s:o, s:o, s:o, s:I}", "by",
                          bys[q.by], "gps_only", q.gps_only, "tickets", (json_int_t)r.tickets,
                          "duplicates", (json_int_t)r.duplicates, "clock_note", r.clock_note,
                          "negative_intervals", (json_int_t)r.negative_intervals,
                          "segment_targets_s", targets, "groups", groups, "late", late,
                          "late_more", (json_int_t)r.late_more);
    fm_report_release(&r);
    return reply_json(k, 200, o);
}

/* ---- peers (from the running sync engine) ---- */

int route_peers(struct call *k)
{
    struct fm_daemon_info info;
    struct fm_peer_info *peers = NULL;
    size_t n = 0;
    uint64_t now = fm_now_ms();
    int rc = fm_node_daemon_peers(k->c->cfg, &info, &peers, &n);
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot ask the sync engine for its peers: %s",
                                fm_strerror(rc));
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct fm_peer_info *p = &peers[i];
        char key[FM_KEY_TEXT_LEN];
        fm_key_encode(p->pk, key);
        json_array_append_new(list, json_pack(
            "{s:s, s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:b, s:b, s:b, s:o}",
            "name", p->name, "endpoint", p->endpoint, "key", key, "configured", p->configured,
            "connected", p->connected, "last_heard_at",
            p->last_heard_ms ? enc_time(p->last_heard_ms << 16) : json_null(),
            "last_heard_age_s", p->last_heard_ms && p->last_heard_ms <= now
                ? json_integer((json_int_t)((now - p->last_heard_ms) / 1000)) : json_null(),
            "we_lack", p->vector_known ? json_integer((json_int_t)p->we_lack) : json_null(),
            "it_lacks", p->vector_known ? json_integer((json_int_t)p->it_lacks) : json_null(),
            "ops_received", (json_int_t)p->ops_received, "ops_sent", (json_int_t)p->ops_sent,
            "bad_messages", (json_int_t)p->bad_messages, "revoked", p->revoked, "refused_us",
            p->refused_us, "cloned_key", p->cloned_key, "push",
            p->connected && !p->revoked ? json_string(fm_sync_push_name(p->push)) : json_null()));
    }
    free(peers);
    return reply_json(k, 200, json_pack("{s:o, s:I, s:I}", "peers", list, "uptime_s",
                                        (json_int_t)(info.uptime_ms / 1000), "ops_stored",
                                        (json_int_t)info.ops_stored));
}

/* ---- the directory ---- */

int route_directory(struct call *k)
{
    struct fm_directory *d = NULL;
    node_lock(k->c);
    int rc = fm_node_directory_get(k->c->node, &d);
    node_unlock(k->c);
    if (rc == FM_ENOTFOUND)
        return reply_error(k, 404, "not_found", "no directory was published yet (fieldmesh "
                           "directory publish FILE)");
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot read the directory: %s", fm_strerror(rc));
    json_t *counties = json_array(), *depts = json_array(), *units = json_array(),
           *rules = json_array();
    for (size_t i = 0; i < d->ncounties; i++)
        json_array_append_new(counties, json_pack("{s:s}", "name", d->counties[i]));
    for (size_t i = 0; i < d->ndepts; i++)
        json_array_append_new(depts, json_pack("{s:s, s:s, s:i, s:s}", "name", d->depts[i].name,
                                               "kind", d->depts[i].kind, "tier", d->depts[i].tier,
                                               "county", d->depts[i].county < d->ncounties
                                                   ? d->counties[d->depts[i].county] : ""));
    for (size_t i = 0; i < d->nunits; i++) {
        const struct fm_dir_unit *u = &d->units[i];
        json_array_append_new(units, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "name", u->name,
                                               "department", u->dept < d->ndepts
                                                   ? d->depts[u->dept].name : "",
                                               "kind", u->kind, "capabilities", u->caps,
                                               "home_lat", enc_coord(u->lat_e7), "home_lon",
                                               enc_coord(u->lon_e7)));
    }
    for (size_t i = 0; i < d->nrules; i++) {
        const struct fm_dir_rule *r = &d->rules[i];
        json_array_append_new(rules, json_pack("{s:s, s:i, s:i, s:I, s:I}", "category",
                                               r->category, "priority", r->priority,
                                               "escalate_priority", r->escalate_priority,
                                               "escalate_after_s",
                                               (json_int_t)r->escalate_after_s, "target_s",
                                               (json_int_t)r->target_s));
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "name", d->name, "version",
                          d->version, "publisher", d->publisher, "counties", counties,
                          "departments", depts, "units", units, "rules", rules);
    fm_directory_free(&d);
    return reply_json(k, 200, o);
}

/* ---- resources, requests, bulletins, conflicts ---- */

static int add_resource(void *ctx, const struct fm_resource *r)
{
    return json_array_append_new(ctx, json_pack(
        "{s:s, s:s, s:s, s:I, s:b, s:o, s:i}", "id", r->id, "kind", r->kind, "depot", r->depot,
        "quantity", (json_int_t)r->quantity, "oversold", r->quantity < 0, "updated_at",
        enc_time(r->updated_hlc), "void_changes", (int)r->void_changes));
}

static int add_request(void *ctx, const struct fm_request *r)
{
    return json_array_append_new(ctx, json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:o}", "id", r->id, "incident",
        r->incident, "kind", r->kind, "qty", (json_int_t)r->qty, "allocated",
        (json_int_t)r->allocated, "returned", (json_int_t)r->returned, "consumed",
        (json_int_t)(r->allocated - r->returned), "outstanding",
        (json_int_t)(r->qty - r->allocated), "requester", r->requester, "note", r->text,
        "requested_at", enc_time(r->created_hlc)));
}

static int add_bulletin(void *ctx, const struct fm_bulletin *b)
{
    return json_array_append_new(ctx, json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:i, s:b, s:b}", "id", b->id, "to", b->audience, "text",
        b->text, "sender", b->sender, "sent_at", enc_time(b->sent_hlc), "receipts",
        (int)b->receipts, "for_me", b->for_me, "read_by_me", b->read_by_me));
}

static int add_conflict(void *ctx, const struct fm_conflict *c)
{
    char fp[2 * FM_HASH_LEN + 1];
    for (size_t i = 0; i < FM_HASH_LEN; i++)
        snprintf(fp + 2 * i, 3, "%02x", c->fingerprint[i]);
    return json_array_append_new(ctx, json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "id", c->id, "kind",
        c->kind, "subject", c->subject, "detail", c->detail, "fingerprint", fp, "resolved",
        c->resolved, "resolution", c->resolved ? json_string(c->resolution) : json_null(),
        "resolved_by", c->resolved ? json_string(c->resolved_by) : json_null(),
        "resolved_by_name", c->resolved ? json_string(c->resolved_by_name) : json_null(),
        "operator", c->resolved_operator[0] ? json_string(c->resolved_operator) : json_null(),
        "decided", c->decided[0] ? json_string(c->decided) : json_null(), "resolved_at",
        c->resolved ? enc_time(c->resolved_hlc) : json_null()));
}

enum list_kind { L_RESOURCES, L_REQUESTS, L_BULLETINS, L_CONFLICTS };

static int list_route(struct call *k, enum list_kind kind)
{
    static const char *const keys[] = { "resources", "requests", "bulletins", "conflicts" };
    const char *all = call_query(k, "all");
    json_t *list = json_array();
    int rc;
    node_lock(k->c);
    switch (kind) {
    case L_RESOURCES:
        rc = fm_node_resources(k->c->node, add_resource, list);
        break;
    case L_REQUESTS:
        rc = fm_node_requests(k->c->node, add_request, list);
        break;
    case L_BULLETINS:
        rc = fm_node_bulletins(k->c->node, add_bulletin, list);
        break;
    default:
        rc = fm_node_conflicts(k->c->node, all != NULL && strcmp(all, "1") == 0, add_conflict,
                               list);
    }
    node_unlock(k->c);
    if (rc != FM_OK) {
        json_decref(list);
        return reply_node_error(k, rc, "cannot list %s: %s", keys[kind], fm_strerror(rc));
    }
    return reply_json(k, 200, json_pack("{s:o}", keys[kind], list));
}

int route_resources(struct call *k) { return list_route(k, L_RESOURCES); }
int route_requests(struct call *k) { return list_route(k, L_REQUESTS); }
int route_bulletins(struct call *k) { return list_route(k, L_BULLETINS); }
int route_conflicts(struct call *k) { return list_route(k, L_CONFLICTS); }
