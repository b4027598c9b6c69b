/*
 * routes_read.c — the console API's reads: status, incidents (paged),
 * one incident, units, tickets, categories. Each takes the node lock for
 * its node calls only, and builds its JSON before replying.
 */
#include "console_int.h"

#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 500

/* An unsigned query parameter in [min, max], def when absent. */
static int query_uint(struct call *k, const char *name, uint64_t min, uint64_t max,
                      uint64_t def, uint64_t *out)
{
    const char *s = call_query(k, name);
    *out = def;
    if (s == NULL)
        return 0;
    if (fm_parse_u64(s, out) != FM_OK || *out < min || *out > max)
        return reply_error(k, 400, "usage", "bad %s '%s': expected %llu..%llu", name, s,
                           (unsigned long long)min, (unsigned long long)max), -1;
    return 0;
}

/* ---- tickets with their targets ---- */

/* The ack target of a category's rule in ms (0: none). */
static uint64_t ack_target_ms(const struct fm_directory *d, const char *category)
{
    const struct fm_dir_rule *r = d != NULL ? fm_directory_rule(d, category) : NULL;
    return r != NULL ? (uint64_t)r->escalate_after_s * 1000u : 0;
}

/* Adds acked_by_target / ack_due_at to a ticket's JSON. */
static void add_targets(json_t *tj, const struct fm_ticket *t, uint64_t target_ms)
{
    if (target_ms == 0 || t->dispatched.hlc == 0) {
        json_object_set_new(tj, "acked_by_target", json_null());
        json_object_set_new(tj, "ack_due_at", json_null());
        return;
    }
    uint64_t due = (t->dispatched.hlc >> 16) + target_ms;
    json_object_set_new(tj, "ack_due_at", enc_time(due << 16));
    json_object_set_new(tj, "acked_by_target",
                        t->acked.hlc ? json_boolean((t->acked.hlc >> 16) <= due) : json_null());
}

/* ---- incidents ---- */

struct inc_page {
    json_t *list;
    int want;            /* 0 all, 1 open, 2 closed */
    const char *after;   /* cursor: the last id of the previous page */
    bool past_cursor;
    size_t limit, n;
    bool more;
    char last_id[FM_ID_MAX];
    char (*ids)[FM_ID_MAX];
    char (*cats)[FM_CATEGORY_MAX];
    bool caller_ok;      /* the operator may read caller details */
};

static int page_each(void *ctx, const struct fm_incident *inc)
{
    struct inc_page *p = ctx;
    if (!p->past_cursor) {
        p->past_cursor = strcmp(inc->id, p->after) == 0;
        return 0;
    }
    bool open = fm_incident_open(inc);
    if ((p->want == 1 && !open) || (p->want == 2 && open))
        return 0;
    if (p->n == p->limit) {
        p->more = true;
        return 1; /* stop: one more exists */
    }
    json_t *o = enc_incident(inc, p->caller_ok);
    json_object_set_new(o, "tickets", json_array());
    json_array_append_new(p->list, o);
    fm_strlcpy(p->ids[p->n], inc->id, FM_ID_MAX);
    fm_strlcpy(p->cats[p->n], inc->category, FM_CATEGORY_MAX);
    fm_strlcpy(p->last_id, inc->id, sizeof p->last_id);
    p->n++;
    return 0;
}

struct tk_attach {
    struct inc_page *p;
    const struct fm_directory *dir;
};

static int attach_ticket(void *ctx, const struct fm_ticket *t)
{
    struct tk_attach *a = ctx;
    for (size_t i = 0; i < a->p->n; i++)
        if (strcmp(a->p->ids[i], t->incident) == 0) {
            json_t *tj = enc_ticket(t);
            add_targets(tj, t, ack_target_ms(a->dir, a->p->cats[i]));
            json_array_append_new(json_object_get(json_array_get(a->p->list, i), "tickets"),
                                  tj);
            break;
        }
    return 0;
}

static int parse_state(struct call *k, int *want)
{
    const char *s = call_query(k, "state");
    *want = 0;
    if (s == NULL || strcmp(s, "all") == 0)
        return 0;
    if (strcmp(s, "open") == 0)
        *want = 1;
    else if (strcmp(s, "closed") == 0)
        *want = 2;
    else
        return reply_error(k, 400, "usage", "bad state '%s': expected open, closed or all", s),
               -1;
    return 0;
}

int route_incidents(struct call *k)
{
    uint64_t limit;
    struct inc_page p = { .after = call_query(k, "after") };
    struct fm_incident_filter f = { .stage = -1, .category = call_query(k, "category") };
    const char *stage = call_query(k, "stage");
    enum fm_incident_stage st;
    if (query_uint(k, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit) != 0 ||
        parse_state(k, &p.want) != 0)
        return 0;
    if (stage != NULL) {
        if (fm_stage_parse(stage, &st) != FM_OK)
            return reply_error(k, 400, "usage", "bad stage '%s'", stage);
        f.stage = (int)st;
    }
    p.limit = (size_t)limit;
    p.caller_ok = k->who.role != FM_OPROLE_VIEWER;
    p.past_cursor = p.after == NULL || p.after[0] == '\0';
    p.list = json_array();
    p.ids = calloc(p.limit, sizeof *p.ids);
    p.cats = calloc(p.limit, sizeof *p.cats);
    if (p.ids == NULL || p.cats == NULL) {
        free(p.ids), free(p.cats), json_decref(p.list);
        return reply_error(k, 500, "internal", "out of memory");
    }
    struct fm_directory *dir = NULL;
    node_lock(k->c);
    int rc = fm_node_incidents(k->c->node, &f, page_each, &p);
    if (rc >= 0 && p.n > 0) {
        if (fm_node_directory_get(k->c->node, &dir) != FM_OK)
            dir = NULL;
        struct tk_attach a = { &p, dir };
        rc = fm_node_tickets(k->c->node, NULL, attach_ticket, &a);
    }
    node_unlock(k->c);
    fm_directory_free(&dir);
    free(p.ids), free(p.cats);
    if (rc < 0) {
        json_decref(p.list);
        return reply_node_error(k, rc, "cannot list incidents: %s", fm_strerror(rc));
    }
    return reply_json(k, 200, json_pack("{s:o, s:o}", "incidents", p.list, "next",
                                        p.more ? json_string(p.last_id) : json_null()));
}

static int add_timeline(void *ctx, const struct fm_timeline_entry *e)
{
    return json_array_append_new(ctx, enc_timeline_entry(e)) == 0 ? 0 : FM_ENOMEM;
}

struct tk_list {
    json_t *list;
    const struct fm_directory *dir;
    const char *category;   /* for one incident's tickets */
    const char *unit;       /* filter: unit id */
    bool active_only;
};

static int list_ticket(void *ctx, const struct fm_ticket *t)
{
    struct tk_list *l = ctx;
    if ((l->unit != NULL && strcmp(t->unit, l->unit) != 0) || (l->active_only && !t->active))
        return 0;
    json_t *tj = enc_ticket(t);
    if (l->category != NULL)
        add_targets(tj, t, ack_target_ms(l->dir, l->category));
    return json_array_append_new(l->list, tj) == 0 ? 0 : FM_ENOMEM;
}

int route_incident(struct call *k)
{
    struct fm_incident inc;
    char id[FM_ID_MAX];
    struct fm_directory *dir = NULL;
    json_t *notes = json_array();
    struct tk_list tl = { .list = json_array() };
    struct fm_incident_workflow wf;
    node_lock(k->c);
    int rc = console_resolve(k->c, FM_ENT_INCIDENT, k->arg[0], id);
    if (rc == FM_OK)
        rc = fm_node_incident_get(k->c->node, id, &inc);
    if (rc == FM_OK)
        rc = fm_node_incident_workflow(k->c->node, inc.id, &wf);
    if (rc == FM_OK)
        rc = fm_node_incident_timeline(k->c->node, id, add_timeline, notes);
    if (rc == FM_OK) {
        if (fm_node_directory_get(k->c->node, &dir) != FM_OK)
            dir = NULL;
        tl.dir = dir;
        tl.category = inc.category;
        rc = fm_node_tickets(k->c->node, id, list_ticket, &tl);
    }
    node_unlock(k->c);
    if (rc != FM_OK) {
        fm_directory_free(&dir);
        json_decref(notes), json_decref(tl.list);
        return reply_node_error(k, rc, "cannot read incident %s: %s", k->arg[0],
                                fm_strerror(rc));
    }
    json_t *o = enc_incident(&inc, k->who.role != FM_OPROLE_VIEWER);
    /* the county whose boundary holds it; null without boundaries or outside them */
    int county = dir != NULL ? fm_directory_county_at(dir, inc.lat_e7, inc.lon_e7) : -1;
    json_object_set_new(o, "county", county >= 0 ? json_string(dir->counties[county])
                                                 : json_null());
    json_object_set_new(o, "alarm_level", json_integer(wf.alarm_level));
    json_object_set_new(o, "timeline", notes);
    json_object_set_new(o, "tickets", tl.list);
    fm_directory_free(&dir);
    return reply_json(k, 200, o);
}

/* ---- units ---- */

struct unit_walk {
    json_t *list;
    const struct fm_directory *d;
};

/* Each unit with what it is to the directory in force (docs/workflow.md
 * §1c): "listed", "retired" or "unlisted"; null without a directory. */
static int add_unit(void *ctx, const struct fm_unit *u)
{
    struct unit_walk *w = ctx;
    json_t *o = enc_unit(u);
    enum fm_unit_standing st;
    if (o == NULL)
        return FM_ENOMEM;
    (void)fm_directory_unit_of(w->d, u, &st);
    json_object_set_new(o, "directory_id", u->key[0] ? json_string(u->key) : json_null());
    json_object_set_new(o, "directory", w->d == NULL           ? json_null()
                                        : st == FM_UNIT_LISTED  ? json_string("listed")
                                        : st == FM_UNIT_RETIRED ? json_string("retired")
                                                                : json_string("unlisted"));
    return json_array_append_new(w->list, o) == 0 ? 0 : FM_ENOMEM;
}

/* Adds county (from the directory's department) to each unit. */
static void add_counties(json_t *units, const struct fm_directory *d)
{
    size_t i;
    json_t *u;
    json_array_foreach(units, i, u) {
        const char *dept = json_string_value(json_object_get(u, "department"));
        json_t *county = json_null();
        for (size_t j = 0; d != NULL && dept != NULL && j < d->ndepts; j++)
            if (strcmp(d->depts[j].name, dept) == 0 && d->depts[j].county < d->ncounties) {
                json_decref(county);
                county = json_string(d->counties[d->depts[j].county]);
                break;
            }
        json_object_set_new(u, "county", county);
    }
}

int route_units(struct call *k)
{
    json_t *list = json_array();
    struct fm_directory *dir = NULL;
    node_lock(k->c);
    if (fm_node_directory_get(k->c->node, &dir) != FM_OK)
        dir = NULL;
    struct unit_walk w = {list, dir};
    int rc = fm_node_units(k->c->node, add_unit, &w);
    node_unlock(k->c);
    if (rc != FM_OK) {
        json_decref(list);
        return reply_node_error(k, rc, "cannot list units: %s", fm_strerror(rc));
    }
    add_counties(list, dir);
    fm_directory_free(&dir);
    return reply_json(k, 200, json_pack("{s:o}", "units", list));
}

/* ---- tickets ---- */

int route_tickets(struct call *k)
{
    char unit[FM_ID_MAX], inc[FM_ID_MAX];
    const char *u = call_query(k, "unit"), *i = call_query(k, "incident");
    const char *active = call_query(k, "active");
    struct tk_list tl = { .active_only = active != NULL && strcmp(active, "1") == 0 };
    int rc = FM_OK;
    node_lock(k->c);
    if (u != NULL && (rc = fm_node_resolve_id(k->c->node, FM_ENT_UNIT, u, unit)) == FM_OK)
        tl.unit = unit;
    if (rc == FM_OK && i != NULL)
        rc = console_resolve(k->c, FM_ENT_INCIDENT, i, inc);
    if (rc == FM_OK) {
        tl.list = json_array();
        rc = fm_node_tickets(k->c->node, i != NULL ? inc : NULL, list_ticket, &tl);
    }
    node_unlock(k->c);
    if (rc != FM_OK) {
        json_decref(tl.list);
        return reply_node_error(k, rc, "cannot list tickets: %s", fm_strerror(rc));
    }
    return reply_json(k, 200, json_pack("{s:o}", "tickets", tl.list));
}

static int add_event(void *ctx, const struct fm_ticket_event *e)
{
    return json_array_append_new(ctx, enc_ticket_event(e)) == 0 ? 0 : FM_ENOMEM;
}

int route_ticket(struct call *k)
{
    char id[FM_ID_MAX];
    struct fm_ticket t;
    json_t *hist = json_array();
    node_lock(k->c);
    int rc = console_resolve(k->c, FM_ENT_TICKET, k->arg[0], id);
    if (rc == FM_OK)
        rc = fm_node_ticket_get(k->c->node, id, &t);
    if (rc == FM_OK)
        rc = fm_node_ticket_history(k->c->node, id, add_event, hist);
    node_unlock(k->c);
    if (rc != FM_OK) {
        json_decref(hist);
        return reply_node_error(k, rc, "cannot read ticket %s: %s", k->arg[0], fm_strerror(rc));
    }
    return reply_json(k, 200, json_pack("{s:o, s:o}", "ticket", enc_ticket(&t), "history", hist));
}

/* ---- status ---- */

int route_status(struct call *k)
{
    const struct fm_config *cfg = k->c->cfg;
    struct fm_author_seen *seen = NULL;
    size_t nseen = 0;
    char unit[FM_ID_MAX + FM_NAME_MAX] = "";
    struct fm_node_stats stats;
    node_lock(k->c);
    int rc = fm_node_stats(k->c->node, &stats);
    if (rc == FM_OK)
        rc = fm_node_authors_seen(k->c->node, &seen, &nseen);
    bool has_unit = fm_node_self_unit(k->c->node, unit, sizeof unit) == FM_OK;
    char self[FM_KEY_TEXT_LEN];
    fm_key_encode(fm_node_pk(k->c->node), self);
    node_unlock(k->c);
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot read the node's status: %s", fm_strerror(rc));
    json_t *nodes = json_array();
    uint64_t now = fm_now_ms();
    for (size_t i = 0; i < nseen; i++) {
        char key[FM_KEY_TEXT_LEN];
        fm_key_encode(seen[i].pk, key);
        if (strcmp(key, self) == 0)
            continue;
        json_array_append_new(nodes, json_pack(
            "{s:s, s:s, s:s, s:o, s:o, s:b}", "key", key, "name", seen[i].name, "role",
            fm_role_name(seen[i].role), "last_seen_at",
            seen[i].last_seen_ms ? enc_time(seen[i].last_seen_ms << 16) : json_null(),
            "last_seen_s_ago", seen[i].last_seen_ms && seen[i].last_seen_ms <= now
                ? json_integer((json_int_t)((now - seen[i].last_seen_ms) / 1000))
                : json_null(),
            "revoked", seen[i].revoked));
    }
    free(seen);
    return reply_json(k, 200, json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:{s:I, s:I, s:I}}", "name",
        cfg->name, "role", fm_role_name(cfg->role), "key", self, "unit",
        has_unit ? json_string(unit) : json_null(), "peers", (json_int_t)cfg->npeers, "ops",
        (json_int_t)stats.ops, "entities", (json_int_t)stats.entities, "now",
        enc_time(now << 16), "time_zone",
        cfg->time_zone[0] ? json_string(cfg->time_zone) : json_null(), "nodes", nodes,
        "console", "requests",
        (json_int_t)k->c->requests, "refused", (json_int_t)k->c->refused, "bad_bodies",
        (json_int_t)k->c->bad_bodies));
}

/* ---- categories ---- */

static const struct { const char *id, *en, *zh; } categories[] = {
    { "building_fire", "Building fire", "建筑火灾" },
    { "vehicle_fire", "Vehicle fire", "车辆火灾" },
    { "wildfire", "Wildfire", "山林火灾" },
    { "traffic_accident", "Traffic accident", "交通事故" },
    { "medical", "Medical emergency", "医疗急救" },
    { "hazmat", "Hazardous materials", "危险化学品" },
    { "gas_leak", "Gas leak", "燃气泄漏" },
    { "flood", "Flood", "洪涝" },
    { "rescue", "Rescue", "抢险救援" },
    { "crime", "Crime", "治安案件" },
    { "public_order", "Public order", "群体性事件" },
    { "power_outage", "Power outage", "停电" },
    { "other", "Other", "其他" },
};

/* The categories: the directory's rules first (labels where known), then
 * the built-in list. */
int route_categories(struct call *k)
{
    struct fm_directory *dir = NULL;
    json_t *list = json_array();
    node_lock(k->c);
    if (fm_node_directory_get(k->c->node, &dir) != FM_OK)
        dir = NULL;
    node_unlock(k->c);
    size_t nb = sizeof categories / sizeof categories[0];
    for (size_t i = 0; dir != NULL && i < dir->nrules; i++) {
        const char *id = dir->rules[i].category, *en = id, *zh = id;
        for (size_t j = 0; j < nb; j++)
            if (strcmp(categories[j].id, id) == 0)
                en = categories[j].en, zh = categories[j].zh;
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:i, s:b}", "id", id, "en", en,
                                              "zh", zh, "priority", dir->rules[i].priority,
                                              "rule", 1));
    }
    for (size_t j = 0; j < nb; j++) {
        bool dup = false;
        for (size_t i = 0; dir != NULL && i < dir->nrules; i++)
            dup = dup || strcmp(dir->rules[i].category, categories[j].id) == 0;
        if (!dup)
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:n, s:b}", "id",
                                                  categories[j].id, "en", categories[j].en,
                                                  "zh", categories[j].zh, "priority", "rule",
                                                  0));
    }
    fm_directory_free(&dir);
    return reply_json(k, 200, list);
}
