/*
 * routes_write.c — the console API's writes. Each checks its JSON body
 * (types, ranges, text rules: the same as the CLI's), then calls the
 * same node function as the CLI under the node lock; that call is
 * durable (fsync'd) when it returns, so the 2xx follows a committed op.
 * Refusals carry the CLI's words. The sync engine is nudged afterwards
 * so the op leaves for peers at once.
 */
#include "console_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Text the node accepts: no control characters, 1..cap-1 bytes
 * (jansson has already refused invalid UTF-8 and NUL). */
static bool text_ok(const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0 || n >= cap)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

int body_str(struct call *k, const char *key, bool required, size_t cap, const char **out)
{
    json_t *v = json_object_get(k->json, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return reply_error(k, 400, "usage", "'%s' is required", key), -1;
        return 0;
    }
    if (!json_is_string(v))
        return reply_error(k, 400, "usage", "'%s' must be a string", key), -1;
    if (!text_ok(json_string_value(v), cap))
        return reply_error(k, 400, "usage", "'%s' must be 1..%zu bytes of text without control "
                           "characters", key, cap - 1), -1;
    *out = json_string_value(v);
    return 0;
}

int body_bool(struct call *k, const char *key, bool *out)
{
    json_t *v = json_object_get(k->json, key);
    *out = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return reply_error(k, 400, "usage", "'%s' must be true or false", key), -1;
    *out = json_is_true(v);
    return 0;
}

/* Resolving or closing goes through the same check as the CLI
 * (docs/workflow.md §3a): refused while units are out on the incident,
 * unless cancel_tickets cancels them in the same write. The caller holds
 * the node lock; 0, a node error (negative), or 1 when the refusal has
 * been replied. */
int close_checked(struct call *k, const char *id, enum fm_incident_stage st, bool cancel,
                  const char *reason)
{
    size_t nactive = 0;
    int rc = fm_node_incident_close(k->c->node, id, st, cancel, reason, &nactive);
    if (rc == FM_ESTATE && nactive > 0)
        return reply_error(k, 409, "conflict", "cannot %s %s: %zu ticket(s) still active on it; "
                           "clear them, or send \"cancel_tickets\": true (centre and county "
                           "only) to cancel them with it", fm_stage_name(st), id, nactive), 1;
    if (rc == FM_EPERM && cancel)
        return reply_error(k, 403, "forbidden", "cannot cancel the tickets of %s: only centre "
                           "and county nodes cancel tickets (this node is %s)", id,
                           fm_role_name(k->c->cfg->role)), 1;
    return rc;
}

/* A number in [-limit, limit] as degrees * 1e7. */
static int body_coord(struct call *k, const char *key, double limit, int32_t *e7)
{
    json_t *v = json_object_get(k->json, key);
    if (v == NULL)
        return reply_error(k, 400, "usage", "'%s' is required", key), -1;
    if (!json_is_number(v))
        return reply_error(k, 400, "usage", "'%s' must be a number (degrees)", key), -1;
    double d = json_number_value(v);
    if (!isfinite(d) || d < -limit || d > limit)
        return reply_error(k, 400, "usage", "'%s' must be within -%g..%g", key, limit, limit),
               -1;
    *e7 = (int32_t)lround(d * 1e7);
    return 0;
}

static int body_uint(struct call *k, const char *key, json_int_t min, json_int_t max,
                     json_int_t *out)
{
    json_t *v = json_object_get(k->json, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return reply_error(k, 400, "usage", "'%s' must be an integer %lld..%lld", key,
                           (long long)min, (long long)max), -1;
    *out = json_integer_value(v);
    return 0;
}

/* A word [a-z0-9_-] of 1..cap-1 bytes (category). */
static int body_word(struct call *k, const char *key, size_t cap, const char **out)
{
    if (body_str(k, key, true, cap, out) != 0)
        return -1;
    if (strspn(*out, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(*out))
        return reply_error(k, 400, "usage", "'%s' must be lower-case letters, digits, '_' or "
                           "'-'", key), -1;
    return 0;
}

static void after_write(struct call *k)
{
    int rc = fm_node_nudge(k->c->cfg);
    if (rc != FM_OK)
        fm_log(FM_LOG_DEBUG, COMPONENT_CONSOLE, "no sync nudge: %s", fm_strerror(rc));
}

/* Resolves an id prefix of `kind` (node lock held). */
static int resolve(struct call *k, enum fm_entity_kind kind, const char *prefix,
                   char out[FM_ID_MAX])
{
    return console_resolve(k->c, kind, prefix, out);
}

int route_report_incident(struct call *k)
{
    struct fm_incident_new in = { 0 };
    json_int_t prio = 0;
    const char *text = NULL, *desc = NULL;
    char id[FM_ID_MAX];
    if (body_word(k, "category", FM_CATEGORY_MAX, &in.category) != 0 ||
        body_coord(k, "lat", 90, &in.lat_e7) != 0 || body_coord(k, "lon", 180, &in.lon_e7) != 0 ||
        body_uint(k, "priority", 1, 5, &prio) != 0 ||
        body_str(k, "address", false, FM_ADDRESS_MAX, &in.address) != 0 ||
        body_str(k, "caller", false, FM_PHONE_MAX, &in.caller) != 0 ||
        body_str(k, "caller_name", false, FM_CALLER_NAME_MAX, &in.caller_name) != 0 ||
        body_str(k, "text", false, FM_TEXT_MAX, &text) != 0 ||
        body_str(k, "description", false, FM_TEXT_MAX, &desc) != 0)
        return 0;
    in.desc = text != NULL ? text : desc;
    in.priority = (uint8_t)prio;
    node_lock(k->c);
    if (prio == 0) { /* the rule's default, as the CLI does */
        uint8_t rule = fm_node_default_priority(k->c->node, in.category);
        in.priority = rule != 0 ? rule : 3;
    }
    /* without the dispatchers' key the node leaves the caller out (never
     * in clear): the reply says so, for the call-taker to act on */
    bool has_caller = in.caller != NULL || in.caller_name != NULL;
    bool sealable = fm_node_dispatch_key(k->c->node, NULL, NULL) == FM_OK;
    int rc = fm_node_incident_report(k->c->node, &in, id);
    node_unlock(k->c);
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot record the incident: %s", fm_strerror(rc));
    fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "operator '%s' reported incident %s", k->who.name, id);
    after_write(k);
    json_t *out = json_pack("{s:s, s:b}", "id", id, "caller_recorded", has_caller && sealable);
    if (has_caller && !sealable)
        json_object_set_new(out, "warning", json_string(
            "the caller was NOT recorded: this node holds no dispatcher key, and caller details "
            "are only ever stored sealed to it; pass them to the dispatch centre by voice"));
    return reply_json(k, 201, out);
}

int route_note(struct call *k)
{
    const char *text;
    char id[FM_ID_MAX];
    if (body_str(k, "text", true, FM_TEXT_MAX, &text) != 0)
        return 0;
    node_lock(k->c);
    int rc = resolve(k, FM_ENT_INCIDENT, k->arg[0], id);
    if (rc == FM_OK)
        rc = fm_node_incident_note(k->c->node, id, text);
    node_unlock(k->c);
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot add the note to %s: %s", k->arg[0],
                                fm_strerror(rc));
    after_write(k);
    return reply_json(k, 201, json_pack("{s:s}", "incident", id));
}

int route_close(struct call *k)
{
    const char *result, *reason;
    bool cancel;
    char id[FM_ID_MAX];
    struct fm_incident inc;
    if (body_str(k, "result", false, FM_TEXT_MAX, &result) != 0 ||
        body_bool(k, "cancel_tickets", &cancel) != 0 ||
        body_str(k, "reason", false, FM_TEXT_MAX, &reason) != 0)
        return 0;
    node_lock(k->c);
    int rc = resolve(k, FM_ENT_INCIDENT, k->arg[0], id);
    /* the result note only once nothing keeps the incident open */
    if (rc == FM_OK && (rc = close_checked(k, id, FM_STAGE_CLOSED, cancel, reason)) == 1) {
        node_unlock(k->c);
        return 0;
    }
    if (rc == FM_OK && result != NULL)
        rc = fm_node_incident_note(k->c->node, id, result);
    if (rc == FM_ESTATE && fm_node_incident_get(k->c->node, id, &inc) == FM_OK) {
        node_unlock(k->c);
        return reply_error(k, 409, "conflict", "cannot close %s: it is %s already", id,
                           fm_stage_name(inc.stage));
    }
    node_unlock(k->c);
    if (rc == FM_EPERM)
        return reply_error(k, 403, "forbidden", "cannot close %s: only centre, county and admin "
                           "nodes, or the node that reported it, may (this node is %s)",
                           k->arg[0], fm_role_name(k->c->cfg->role));
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot close %s: %s", k->arg[0], fm_strerror(rc));
    after_write(k);
    return reply_json(k, 200, json_pack("{s:s, s:s}", "id", id, "status", "closed"));
}

/* ---- dispatch ---- */

/* The unit ids of body.units, resolved (node lock held): 0 or a reply. */
static int dispatch_units(struct call *k, char (*full)[FM_ID_MAX], const char **uids, size_t *n)
{
    json_t *units = json_object_get(k->json, "units");
    size_t i;
    json_t *u;
    if (!json_is_array(units) || json_array_size(units) == 0)
        return reply_error(k, 400, "usage", "'units' must be a non-empty array of unit ids"), -1;
    if (json_array_size(units) > FM_SUGGEST_MAX)
        return reply_error(k, 400, "usage", "at most %d units at once", FM_SUGGEST_MAX), -1;
    json_array_foreach(units, i, u) {
        const char *s = json_string_value(u);
        if (s == NULL || s[0] == '\0' || strlen(s) >= FM_ID_MAX)
            return reply_error(k, 400, "usage", "'units' must hold unit ids (strings)"), -1;
        int rc = resolve(k, FM_ENT_UNIT, s, full[i]);
        if (rc != FM_OK)
            return reply_node_error(k, rc, "cannot dispatch: unit %s: %s", s, fm_strerror(rc)),
                   -1;
        uids[i] = full[i];
    }
    *n = json_array_size(units);
    return 0;
}

/* Why a dispatch was refused, in the CLI's words (node lock held). */
static int dispatch_refused(struct call *k, int rc, const char *id, const char *const *uids,
                            size_t n)
{
    if (rc == FM_ECLOSED)
        return reply_error(k, 409, "conflict", "cannot dispatch to %s: the incident is resolved "
                           "or closed (reopen it first: fieldmesh incident status %s reopen)",
                           id, id);
    if (rc == FM_ESTATE) {
        for (size_t i = 0; i < n; i++) {
            struct fm_unit u;
            if (fm_node_unit_get(k->c->node, uids[i], &u) == FM_OK &&
                strcmp(u.status, "available") != 0)
                return reply_error(k, 409, "conflict", "cannot dispatch to %s: unit %s (%s) is "
                                   "%s and may hold an active ticket (clear, cancel or reassign "
                                   "it first)", id, u.name, u.id, u.status);
        }
        return reply_error(k, 409, "conflict", "cannot dispatch to %s: a unit already holds an "
                           "active ticket (clear, cancel or reassign it first)", id);
    }
    if (rc == FM_EINVAL)
        return reply_error(k, 400, "usage", "a unit is named twice");
    if (rc == FM_EPERM)
        return reply_error(k, 403, "forbidden", "cannot dispatch: only centre and county nodes "
                           "dispatch (this node is %s)", fm_role_name(k->c->cfg->role));
    return reply_node_error(k, rc, "cannot dispatch to %s: %s", id, fm_strerror(rc));
}

int route_dispatch(struct call *k)
{
    const char *inc, *note;
    char id[FM_ID_MAX], full[FM_SUGGEST_MAX][FM_ID_MAX], ids[FM_SUGGEST_MAX][FM_ID_MAX];
    const char *uids[FM_SUGGEST_MAX];
    size_t n = 0;
    if (body_str(k, "incident", true, FM_ID_MAX, &inc) != 0 ||
        body_str(k, "note", false, FM_TEXT_MAX, &note) != 0)
        return 0;
    node_lock(k->c);
    int rc = resolve(k, FM_ENT_INCIDENT, inc, id);
    if (rc != FM_OK) {
        node_unlock(k->c);
        return reply_node_error(k, rc, "cannot dispatch to %s: %s", inc, fm_strerror(rc));
    }
    if (dispatch_units(k, full, uids, &n) != 0) {
        node_unlock(k->c);
        return 0;
    }
    rc = fm_node_dispatch(k->c->node, id, uids, n, note, ids);
    if (rc != FM_OK) {
        dispatch_refused(k, rc, id, uids, n);
        node_unlock(k->c);
        return 0;
    }
    node_unlock(k->c);
    fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "operator '%s' dispatched %zu unit(s) to %s",
           k->who.name, n, id);
    after_write(k);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(ids[i]));
    return reply_json(k, 201, json_pack("{s:o}", "tickets", list));
}

/* ---- ticket steps ---- */

static int ticket_refused(struct call *k, int rc, const char *id, const char *verb)
{
    struct fm_ticket tk;
    struct fm_unit u;
    if (rc == FM_ESTATE && fm_node_ticket_get(k->c->node, id, &tk) == FM_OK)
        return reply_error(k, 409, "conflict", "ticket %s is %s: cannot %s it", id,
                           fm_ticket_state_name(tk.state), verb);
    if (rc == FM_EUNIT && fm_node_ticket_get(k->c->node, id, &tk) == FM_OK)
        return reply_error(k, 403, "forbidden", "cannot %s %s: it is unit %s (%s)'s ticket and "
                           "this node is not that unit's own node nor a dispatcher (centre, "
                           "county, admin)", verb, id,
                           fm_node_unit_get(k->c->node, tk.unit, &u) == FM_OK ? u.name : "?",
                           tk.unit);
    return reply_node_error(k, rc, "cannot %s %s: %s", verb, id, fm_strerror(rc));
}

/* The step word is the last path segment. */
static const char *step_word(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

int route_ticket_step(struct call *k)
{
    const char *verb = step_word(k->path), *result, *reason;
    enum fm_ticket_step step;
    char id[FM_ID_MAX];
    struct fm_ticket tk;
    enum fm_role nrole = k->c->cfg->role;
    if (fm_ticket_step_parse(verb, &step) != FM_OK)
        return reply_error(k, 404, "not_found", "no such ticket step: %s", verb);
    /* a call-taker at a station or vehicle steps its own unit's tickets
     * (the node refuses others); on a dispatching node stepping on a
     * unit's behalf, or cancelling, is a dispatcher's */
    if (k->who.role == FM_OPROLE_CALLTAKER &&
        (step == FM_STEP_CANCEL || (nrole != FM_ROLE_STATION && nrole != FM_ROLE_VEHICLE)))
        return reply_error(k, 403, "forbidden", "cannot %s a ticket: operator %s is a calltaker "
                           "(a dispatcher records steps on a unit's behalf)", verb,
                           k->who.name);
    if (body_str(k, "result", step == FM_STEP_CLEAR, FM_TEXT_MAX, &result) != 0 ||
        body_str(k, "reason", false, FM_TEXT_MAX, &reason) != 0)
        return 0;
    node_lock(k->c);
    int rc = resolve(k, FM_ENT_TICKET, k->arg[0], id);
    if (rc == FM_OK)
        rc = fm_node_ticket_step(k->c->node, id, step,
                                 step == FM_STEP_CLEAR ? result : step == FM_STEP_CANCEL ? reason
                                                                                          : NULL);
    if (rc != FM_OK) {
        if (rc == FM_ENOTFOUND || rc == FM_EAMBIGUOUS)
            reply_node_error(k, rc, "cannot %s %s: %s", verb, k->arg[0], fm_strerror(rc));
        else
            ticket_refused(k, rc, id, verb);
        node_unlock(k->c);
        return 0;
    }
    rc = fm_node_ticket_get(k->c->node, id, &tk);
    node_unlock(k->c);
    fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "operator '%s': %s %s", k->who.name, verb, id);
    after_write(k);
    if (rc != FM_OK)
        return reply_json(k, 200, json_pack("{s:s}", "id", id));
    return reply_json(k, 200, enc_ticket(&tk));
}

int route_reassign(struct call *k)
{
    const char *unit, *reason;
    char id[FM_ID_MAX], uid[FM_ID_MAX], new_id[FM_ID_MAX];
    if (body_str(k, "unit", true, FM_ID_MAX, &unit) != 0 ||
        body_str(k, "reason", false, FM_TEXT_MAX, &reason) != 0)
        return 0;
    node_lock(k->c);
    int rc = resolve(k, FM_ENT_TICKET, k->arg[0], id);
    if (rc == FM_OK)
        rc = resolve(k, FM_ENT_UNIT, unit, uid);
    if (rc == FM_OK)
        rc = fm_node_ticket_reassign(k->c->node, id, uid, reason, new_id);
    if (rc != FM_OK) {
        if (rc == FM_ENOTFOUND || rc == FM_EAMBIGUOUS)
            reply_node_error(k, rc, "cannot reassign %s: %s", k->arg[0], fm_strerror(rc));
        else if (rc == FM_EPERM)
            reply_error(k, 403, "forbidden", "cannot reassign: only centre and county nodes "
                        "dispatch (this node is %s)", fm_role_name(k->c->cfg->role));
        else
            ticket_refused(k, rc, id, "reassign");
        node_unlock(k->c);
        return 0;
    }
    node_unlock(k->c);
    after_write(k);
    return reply_json(k, 201, json_pack("{s:s}", "ticket", new_id));
}
