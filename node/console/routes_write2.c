/*
 * routes_write2.c — the console API's other writes: incident status and
 * edits, feedback, material requests and their allocation and return,
 * bulletins and read receipts, conflict resolution. Each as in
 * routes_write.c: the body checked, the CLI's node call under the node
 * lock (durable when it returns), refusals in the CLI's words.
 */
#include "console_int.h"

#include <math.h>
#include <string.h>

/* Resolves the path's id of `kind` and runs fn under the node lock. */
static int resolved(struct call *k, enum fm_entity_kind kind, char id[FM_ID_MAX])
{
    return console_resolve(k->c, kind, k->arg[0], id);
}

static int body_int(struct call *k, const char *key, bool required, json_int_t min,
                    json_int_t max, json_int_t *out)
{
    json_t *v = json_object_get(k->json, key);
    if (v == NULL || json_is_null(v)) {
        if (required)
            return reply_error(k, 400, "usage", "'%s' is required", key), -1;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return reply_error(k, 400, "usage", "'%s' must be an integer %lld..%lld", key,
                           (long long)min, (long long)max), -1;
    *out = json_integer_value(v);
    return 0;
}

static void nudge(struct call *k)
{
    if (fm_node_nudge(k->c->cfg) != FM_OK)
        fm_log(FM_LOG_DEBUG, COMPONENT_CONSOLE, "no sync nudge");
}

static int role_refusal(struct call *k, const char *what, const char *who)
{
    return reply_error(k, 403, "forbidden", "cannot %s: only %s may (this node is %s)", what,
                       who, fm_role_name(k->c->cfg->role));
}

/* POST /api/incidents/{id}/status {stage | "reopen"} */
int route_incident_status(struct call *k)
{
    const char *stage, *reason;
    bool cancel;
    enum fm_incident_stage st = FM_STAGE_NEW;
    char id[FM_ID_MAX];
    struct fm_incident inc;
    if (body_str(k, "stage", true, 16, &stage) != 0 ||
        body_bool(k, "cancel_tickets", &cancel) != 0 ||
        body_str(k, "reason", false, FM_TEXT_MAX, &reason) != 0)
        return 0;
    bool reopen = strcmp(stage, "reopen") == 0;
    if (!reopen && fm_stage_parse(stage, &st) != FM_OK)
        return reply_error(k, 400, "usage", "bad stage '%s' (dispatched, enroute, onscene, "
                           "resolved, closed or reopen)", stage);
    node_lock(k->c);
    int rc = resolved(k, FM_ENT_INCIDENT, id);
    bool closing = !reopen && (st == FM_STAGE_RESOLVED || st == FM_STAGE_CLOSED);
    if (rc == FM_OK && closing && (rc = close_checked(k, id, st, cancel, reason)) == 1) {
        node_unlock(k->c);
        return 0;
    }
    if (rc == FM_OK && !closing)
        rc = fm_node_incident_status(k->c->node, id, st, reopen);
    bool have = rc != FM_OK && fm_node_incident_get(k->c->node, id, &inc) == FM_OK;
    node_unlock(k->c);
    if (rc == FM_EPERM)
        return role_refusal(k, "change the status", "centre, county and admin nodes, or the "
                            "node that reported it,");
    if (rc == FM_ESTATE && have && reopen)
        return reply_error(k, 409, "conflict", "cannot reopen %s: it is %s (only resolved or "
                           "closed incidents reopen)", id, fm_stage_name(inc.stage));
    if (rc == FM_ESTATE && have)
        return reply_error(k, 409, "conflict", "cannot move %s from %s to %s: a status only "
                           "moves forward (or reopen)", id, fm_stage_name(inc.stage), stage);
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot set the status of %s: %s", k->arg[0],
                                fm_strerror(rc));
    nudge(k);
    return reply_json(k, 200, json_pack("{s:s, s:s}", "id", id, "status",
                                        reopen ? "new" : fm_stage_name(st)));
}

/* POST /api/incidents/{id}/edit {category?, priority?, lat?+lon?, address?, caller?, text?} */
int route_incident_edit(struct call *k)
{
    struct fm_incident_edit e = { 0 };
    json_int_t prio = 0;
    char id[FM_ID_MAX];
    json_t *lat = json_object_get(k->json, "lat"), *lon = json_object_get(k->json, "lon");
    if (body_str(k, "category", false, FM_CATEGORY_MAX, &e.category) != 0 ||
        body_int(k, "priority", false, 1, 5, &prio) != 0 ||
        body_str(k, "address", false, FM_ADDRESS_MAX, &e.address) != 0 ||
        body_str(k, "caller", false, FM_PHONE_MAX, &e.caller) != 0 ||
        body_str(k, "text", false, FM_TEXT_MAX, &e.desc) != 0)
        return 0;
    if ((lat != NULL) != (lon != NULL))
        return reply_error(k, 400, "usage", "'lat' and 'lon' go together");
    if (lat != NULL) {
        double a = json_number_value(lat), o = json_number_value(lon);
        if (!json_is_number(lat) || !json_is_number(lon) || !(a >= -90 && a <= 90) ||
            !(o >= -180 && o <= 180))
            return reply_error(k, 400, "usage", "'lat'/'lon' must be numbers within -90..90 "
                               "and -180..180");
        e.has_location = true;
        e.lat_e7 = (int32_t)lround(a * 1e7);
        e.lon_e7 = (int32_t)lround(o * 1e7);
    }
    e.priority = (uint8_t)prio;
    node_lock(k->c);
    int rc = resolved(k, FM_ENT_INCIDENT, id);
    if (rc == FM_OK)
        rc = fm_node_incident_edit(k->c->node, id, &e);
    node_unlock(k->c);
    if (rc == FM_EPERM)
        return role_refusal(k, "edit this incident", "centre, county and admin nodes, or the "
                            "node that reported it,");
    if (rc == FM_EINVAL)
        return reply_error(k, 400, "usage", "nothing to change, or a value out of range");
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot edit %s: %s", k->arg[0], fm_strerror(rc));
    nudge(k);
    return reply_json(k, 200, json_pack("{s:s}", "id", id));
}

/* POST /api/incidents/{id}/feedback {score 1..5, comment?} */
int route_feedback(struct call *k)
{
    json_int_t score = 0;
    const char *comment;
    char id[FM_ID_MAX];
    if (body_int(k, "score", true, 1, 5, &score) != 0 ||
        body_str(k, "comment", false, FM_TEXT_MAX, &comment) != 0)
        return 0;
    node_lock(k->c);
    int rc = resolved(k, FM_ENT_INCIDENT, id);
    if (rc == FM_OK)
        rc = fm_node_incident_feedback(k->c->node, id, (uint8_t)score, comment);
    node_unlock(k->c);
    if (rc == FM_EPERM)
        return role_refusal(k, "record feedback", "centre, county and admin nodes");
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot record feedback on %s: %s", k->arg[0],
                                fm_strerror(rc));
    nudge(k);
    return reply_json(k, 201, json_pack("{s:s}", "incident", id));
}

/* POST /api/requests {incident, kind, qty, text?} */
int route_material_request(struct call *k)
{
    const char *inc, *kind, *text;
    json_int_t qty = 0;
    char iid[FM_ID_MAX], id[FM_ID_MAX];
    if (body_str(k, "incident", true, FM_ID_MAX, &inc) != 0 ||
        body_str(k, "kind", true, FM_NAME_MAX, &kind) != 0 ||
        body_int(k, "qty", true, 1, INT64_C(1000000000000), &qty) != 0 ||
        body_str(k, "text", false, FM_TEXT_MAX, &text) != 0)
        return 0;
    node_lock(k->c);
    int rc = console_resolve(k->c, FM_ENT_INCIDENT, inc, iid);
    if (rc == FM_OK)
        rc = fm_node_material_request(k->c->node, iid, kind, qty, text, id);
    node_unlock(k->c);
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot request %s for %s: %s", kind, inc,
                                fm_strerror(rc));
    nudge(k);
    return reply_json(k, 201, json_pack("{s:s}", "id", id));
}

/* POST /api/requests/{id}/allocate|return {resource, qty} */
static int material_move(struct call *k, bool is_return)
{
    const char *res;
    json_int_t qty = 0;
    char id[FM_ID_MAX], rid[FM_ID_MAX];
    if (body_str(k, "resource", true, FM_ID_MAX, &res) != 0 ||
        body_int(k, "qty", true, 1, INT64_C(1000000000000), &qty) != 0)
        return 0;
    node_lock(k->c);
    int rc = resolved(k, FM_ENT_REQUEST, id);
    if (rc == FM_OK)
        rc = fm_node_resolve_id(k->c->node, FM_ENT_RESOURCE, res, rid);
    if (rc == FM_OK)
        rc = fm_node_material_move(k->c->node, id, rid, qty, is_return);
    node_unlock(k->c);
    if (rc == FM_ESTATE)
        return reply_error(k, 409, "conflict", "cannot %s %lld: the stock, the outstanding "
                           "request or the allocation does not cover it",
                           is_return ? "return" : "allocate", (long long)qty);
    if (rc == FM_EPERM)
        return role_refusal(k, is_return ? "return material" : "allocate material",
                            "centre, county, admin and station nodes");
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot %s for %s: %s", is_return ? "return" : "allocate",
                                k->arg[0], fm_strerror(rc));
    nudge(k);
    return reply_json(k, 200, json_pack("{s:s}", "id", id));
}

int route_allocate(struct call *k) { return material_move(k, false); }
int route_return(struct call *k) { return material_move(k, true); }

/* POST /api/bulletins {to, text} */
int route_bulletin_send(struct call *k)
{
    const char *to, *text;
    char id[FM_ID_MAX];
    if (body_str(k, "to", true, FM_NAME_MAX, &to) != 0 ||
        body_str(k, "text", true, FM_TEXT_MAX, &text) != 0)
        return 0;
    node_lock(k->c);
    int rc = fm_node_bulletin_send(k->c->node, to, text, id);
    node_unlock(k->c);
    if (rc == FM_EINVAL)
        return reply_error(k, 400, "usage", "bad audience '%s' (all, tier:1..3, dept:NAME, "
                           "county:NAME or unit:NAME)", to);
    if (rc == FM_EPERM)
        return role_refusal(k, "send bulletins", "centre, county and admin nodes");
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot send the bulletin: %s", fm_strerror(rc));
    nudge(k);
    return reply_json(k, 201, json_pack("{s:s}", "id", id));
}

/* POST /api/bulletins/{id}/read */
int route_bulletin_read(struct call *k)
{
    char id[FM_ID_MAX];
    node_lock(k->c);
    int rc = resolved(k, FM_ENT_BULLETIN, id);
    if (rc == FM_OK)
        rc = fm_node_bulletin_read(k->c->node, id);
    node_unlock(k->c);
    if (rc == FM_EEXISTS)
        return reply_json(k, 200, json_pack("{s:s, s:b}", "id", id, "already", 1));
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot record the read receipt of %s: %s", k->arg[0],
                                fm_strerror(rc));
    nudge(k);
    return reply_json(k, 201, json_pack("{s:s, s:b}", "id", id, "already", 0));
}

/* POST /api/conflicts/{id}/resolve {note, [keep]}: keep is cleared,
 * cancelled, reassigned or result:N (as the CLI's --keep and --result) */
int route_conflict_resolve(struct call *k)
{
    static const char *const keeps[] = { "cleared", "cancelled", "reassigned" };
    const char *note, *keep_s = NULL;
    unsigned result_no = 0;
    enum fm_conflict_keep keep = FM_KEEP_NONE;
    if (body_str(k, "note", true, FM_TEXT_MAX, &note) != 0 ||
        body_str(k, "keep", false, 16, &keep_s) != 0)
        return 0;
    for (size_t i = 0; keep_s != NULL && i < sizeof keeps / sizeof keeps[0]; i++)
        if (strcmp(keep_s, keeps[i]) == 0)
            keep = (enum fm_conflict_keep)(FM_KEEP_CLEARED + i);
    if (keep_s != NULL && strncmp(keep_s, "result:", 7) == 0 && keep_s[7] >= '1' &&
        keep_s[7] <= '8' && keep_s[8] == '\0') {
        keep = FM_KEEP_RESULT;
        result_no = (unsigned)(keep_s[7] - '0');
    }
    if (keep_s != NULL && keep == FM_KEEP_NONE)
        return reply_error(k, 400, "usage", "'keep' is cleared, cancelled, reassigned or "
                                             "result:N (1..8)");
    node_lock(k->c);
    int rc = fm_node_conflict_resolve(k->c->node, k->arg[0], note, keep, result_no);
    node_unlock(k->c);
    if (rc == FM_EINVAL && keep != FM_KEEP_NONE)
        return reply_error(k, 400, "usage", "conflict %s cannot decide that (clear-cancel: keep "
                           "cleared or cancelled; clear-reassign: cleared or reassigned; "
                           "results: result:N, N as listed)", k->arg[0]);
    if (rc == FM_ECONFIG)
        return reply_error(k, 409, "op_format", "deciding which fact stands needs "
                           "node.op_format 5 on this node");
    if (rc == FM_ENOTFOUND)
        return reply_error(k, 404, "not_found", "no open conflict %s", k->arg[0]);
    if (rc == FM_EPERM)
        return role_refusal(k, "resolve conflicts", "centre and county nodes");
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot resolve %s: %s", k->arg[0], fm_strerror(rc));
    nudge(k);
    return reply_json(k, 200, json_pack("{s:s}", "id", k->arg[0]));
}
