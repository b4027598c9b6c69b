/*
 * encode.c — JSON of the model's objects for the API, with the field
 * names of the CLI's --json output (docs/cli.md) so one vocabulary
 * serves scripts and pages, plus the aliases the console contract names
 * (`stage` beside `status`, `text` beside `description`).
 */
#include "console_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

json_t *enc_time(uint64_t hlc)
{
    if (hlc == 0)
        return json_null();
    uint64_t ms = hlc >> 16;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char date[24], out[40];
    if (gmtime_r(&secs, &tm) == NULL)
        return json_null();
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sizeof out, "%s.%03uZ", date, (unsigned)(ms % 1000));
    return json_string(out);
}

json_t *enc_coord(int32_t e7)
{
    return json_real((double)e7 / 1e7);
}

/* json_string of text the node already checked as UTF-8; "" if not. */
static json_t *str(const char *s)
{
    json_t *j = json_string(s);
    return j != NULL ? j : json_string("");
}

/* The console operator an op names (op format 2), null when none. */
static json_t *opname(const char *s)
{
    return s[0] ? str(s) : json_null();
}

/* The caller's number and name (issue 9, need to know): this node opens
 * them only with the dispatchers' key; of its operators, viewers never get
 * them. caller_sealed says the fields exist but are not readable here, so
 * an empty value never reads as "no caller". */
static void enc_caller(json_t *o, const struct fm_incident *inc, bool caller_ok)
{
    bool readable = inc->caller_state == FM_CALLER_CLEAR || inc->caller_state == FM_CALLER_OPENED;
    bool sealed = !readable || !caller_ok;
    bool have = inc->caller[0] != '\0' || inc->caller_name[0] != '\0';
    json_object_set_new(o, "caller", !sealed && have ? str(inc->caller) : json_null());
    json_object_set_new(o, "caller_name", !sealed && have ? str(inc->caller_name) : json_null());
    json_object_set_new(o, "caller_sealed", json_boolean(sealed && (have || !readable)));
}

json_t *enc_incident(const struct fm_incident *inc, bool caller_ok)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", str(inc->id));
    json_object_set_new(o, "code", json_null()); /* filled by codes_fill */
    json_object_set_new(o, "category", str(inc->category));
    json_object_set_new(o, "priority", json_integer(inc->priority));
    json_object_set_new(o, "status", str(fm_stage_name(inc->stage)));
    json_object_set_new(o, "stage", str(fm_stage_name(inc->stage)));
    json_object_set_new(o, "epoch", json_integer(inc->epoch));
    json_object_set_new(o, "lat", enc_coord(inc->lat_e7));
    json_object_set_new(o, "lon", enc_coord(inc->lon_e7));
    json_object_set_new(o, "address", str(inc->address));
    enc_caller(o, inc, caller_ok);
    json_object_set_new(o, "description", str(inc->desc));
    json_object_set_new(o, "text", str(inc->desc));
    json_object_set_new(o, "reporter", str(inc->reporter));
    json_object_set_new(o, "reported_at", enc_time(inc->reported_hlc));
    json_object_set_new(o, "updated_at", enc_time(inc->updated_hlc));
    json_object_set_new(o, "notes", json_integer(inc->nnotes));
    /* merges (docs/workflow.md §3c) */
    json_object_set_new(o, "calls", json_integer(inc->calls));
    json_object_set_new(o, "merged_into", inc->merged_into[0] ? str(inc->merged_into)
                                                               : json_null());
    return o;
}

json_t *enc_unit(const struct fm_unit *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", str(u->id));
    json_object_set_new(o, "name", str(u->name));
    json_object_set_new(o, "department", str(u->department));
    json_object_set_new(o, "tier", json_integer(u->tier));
    json_object_set_new(o, "kind", str(u->kind));
    json_object_set_new(o, "capabilities", str(u->capabilities));
    json_object_set_new(o, "status", str(u->status));
    json_object_set_new(o, "lat", u->has_position ? enc_coord(u->lat_e7) : json_null());
    json_object_set_new(o, "lon", u->has_position ? enc_coord(u->lon_e7) : json_null());
    json_object_set_new(o, "position_at", u->has_position ? enc_time(u->position_hlc)
                                                          : json_null());
    json_object_set_new(o, "source", !u->has_position ? json_null()
                                     : str(u->gps ? "gps" : "manual"));
    if (u->gps && u->accuracy_dm != FM_GPS_NO_ACCURACY)
        json_object_set_new(o, "accuracy_m", json_real(u->accuracy_dm / 10.0));
    json_object_set_new(o, "updated_at", enc_time(u->updated_hlc));
    return o;
}

static json_t *enc_mark(const struct fm_ticket_mark *m)
{
    if (m->hlc == 0)
        return json_null();
    return json_pack("{s:o, s:s, s:b, s:s}", "at", enc_time(m->hlc), "by", m->author,
                     "on_behalf", m->behalf, "source", m->gps ? "gps" : "button");
}

json_t *enc_ticket(const struct fm_ticket *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", str(t->id));
    json_object_set_new(o, "code", json_null()); /* filled by codes_fill */
    json_object_set_new(o, "incident", str(t->incident));
    json_object_set_new(o, "unit", str(t->unit));
    json_object_set_new(o, "replaces", t->replaces[0] ? str(t->replaces) : json_null());
    json_object_set_new(o, "state", str(fm_ticket_state_name(t->state)));
    json_object_set_new(o, "active", json_boolean(t->active));
    json_object_set_new(o, "dispatched", enc_mark(&t->dispatched));
    json_object_set_new(o, "acknowledged", enc_mark(&t->acked));
    json_object_set_new(o, "enroute", enc_mark(&t->enroute));
    json_object_set_new(o, "onscene", enc_mark(&t->onscene));
    json_object_set_new(o, "cleared", enc_mark(&t->cleared));
    json_object_set_new(o, "cancelled", enc_mark(&t->cancelled));
    json_object_set_new(o, "reassigned", enc_mark(&t->reassigned));
    json_object_set_new(o, "result", str(t->result));
    json_object_set_new(o, "reason", str(t->reason));
    json_object_set_new(o, "events", json_integer(t->events));
    json_object_set_new(o, "ignored_steps", json_integer(t->void_steps));
    json_object_set_new(o, "updated_at", enc_time(t->updated_hlc));
    return o;
}

json_t *enc_ticket_event(const struct fm_ticket_event *e)
{
    return json_pack("{s:o, s:s, s:I, s:s, s:b, s:s, s:o, s:o}", "at", enc_time(e->hlc),
                     "author", e->author, "seq", (json_int_t)e->seq, "step", e->step,
                     "on_behalf", e->behalf, "source", e->gps ? "gps" : "button", "text",
                     str(e->text), "operator", opname(e->operator_name));
}

json_t *enc_timeline_entry(const struct fm_timeline_entry *e)
{
    return json_pack("{s:o, s:s, s:I, s:s, s:o, s:o}", "at", enc_time(e->hlc), "author",
                     e->author, "seq", (json_int_t)e->seq, "kind", e->kind, "text", str(e->text),
                     "operator", opname(e->operator_name));
}

static int add_ticket(void *ctx, const struct fm_ticket *t)
{
    return json_array_append_new(ctx, enc_ticket(t)) == 0 ? 0 : FM_ENOMEM;
}

json_t *enc_incident_tickets(struct fm_node *n, const char *incident)
{
    json_t *a = json_array();
    if (fm_node_tickets(n, incident, add_ticket, a) != FM_OK) {
        json_decref(a);
        return NULL;
    }
    return a;
}
