/*
 * cli_wf.c — helpers the linkage-workflow commands share (declared in
 * cli_wf.h): the workflow's wording for a refused write, one ticket as
 * JSON, which unit holds an active ticket, and a JSON number with fixed
 * decimals. They live apart from every cmd_*.c so the commands call down
 * into them and never into each other.
 */
#include "cli_wf.h"

#include <string.h>

void cli_wf_kdouble(struct cli_json *j, const char *key, double v, int decimals)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    if (key != NULL)
        cli_json_key(j, key);
    cli_json_raw(j, buf);
}

int cli_wf_error(struct cli *cl, int rc, const char *what, const char *id)
{
    switch (rc) {
    case FM_EPERM:
        return cli_error(cl, rc, "cannot %s %s: this node's role (%s) may not do that (see "
                                 "docs/workflow.md, permissions)", what, id,
                         cl->have_cfg ? fm_role_name(cl->cfg.role) : "?");
    case FM_ESTATE:
        return cli_error(cl, rc, "cannot %s %s: not in a state that allows it", what, id);
    case FM_ENOTFOUND:
        return cli_error(cl, rc, "cannot %s %s: no such entity", what, id);
    default:
        return cli_error(cl, rc, "cannot %s %s: %s", what, id, fm_strerror(rc));
    }
}

static void mark_json(struct cli_json *j, const char *key, const struct fm_ticket_mark *m)
{
    cli_json_key(j, key);
    if (m->hlc == 0) {
        cli_json_null(j);
        return;
    }
    cli_json_begin_object(j);
    cli_json_ktime(j, "at", m->hlc);
    cli_json_kstr(j, "by", m->author);
    cli_json_key(j, "on_behalf");
    cli_json_bool(j, m->behalf);
    cli_json_kstr(j, "source", m->gps ? "gps" : "button"); /* docs/gps.md */
    cli_json_end_object(j);
}

void cli_wf_ticket_json(struct cli_json *j, const struct fm_ticket *t)
{
    char code[FM_HID_MAX], icode[FM_HID_MAX];
    cli_json_begin_object(j);
    cli_json_kstr(j, "id", t->id);
    cli_json_kstr(j, "code", cli_hid(t->id, code)); /* "" unless cli_hid_prepare ran */
    cli_json_kstr(j, "incident", t->incident);
    cli_json_kstr(j, "incident_code", cli_hid(t->incident, icode));
    cli_json_kstr(j, "unit", t->unit);
    cli_json_kstr(j, "state", fm_ticket_state_name(t->state));
    cli_json_key(j, "active");
    cli_json_bool(j, t->active);
    cli_json_kstr(j, "replaces", t->replaces[0] ? t->replaces : NULL);
    mark_json(j, "dispatched", &t->dispatched);
    mark_json(j, "acknowledged", &t->acked);
    mark_json(j, "enroute", &t->enroute);
    mark_json(j, "onscene", &t->onscene);
    mark_json(j, "cleared", &t->cleared);
    mark_json(j, "cancelled", &t->cancelled);
    mark_json(j, "reassigned", &t->reassigned);
    cli_json_kstr(j, "result", t->result);
    cli_json_kstr(j, "reason", t->reason);
    cli_json_kuint(j, "events", t->events);
    cli_json_kuint(j, "ignored_steps", t->void_steps);
    cli_json_ktime(j, "updated_at", t->updated_hlc);
    cli_json_end_object(j);
}

/* Which of the units holds an active ticket, and which one: a refused
 * dispatch names both. */
struct busy_find {
    const char *const *units;
    size_t nunits;
    char unit[FM_ID_MAX], ticket[FM_ID_MAX];
};
static int busy_each(void *ctx, const struct fm_ticket *tk)
{
    struct busy_find *b = ctx;
    if (!tk->active)
        return 0;
    for (size_t i = 0; i < b->nunits; i++)
        if (strcmp(b->units[i], tk->unit) == 0) {
            fm_strlcpy(b->unit, tk->unit, sizeof b->unit);
            fm_strlcpy(b->ticket, tk->id, sizeof b->ticket);
            return 1;
        }
    return 0;
}

int cli_wf_busy_unit(struct cli *cl, const char *const *units, size_t nunits,
                     char unit[FM_ID_MAX], char ticket[FM_ID_MAX])
{
    struct busy_find bf = {.units = units, .nunits = nunits};
    int rc = fm_node_tickets(cl->node, NULL, busy_each, &bf);
    if (rc == 1) {
        fm_strlcpy(unit, bf.unit, FM_ID_MAX);
        fm_strlcpy(ticket, bf.ticket, FM_ID_MAX);
    }
    return rc;
}

int cli_wf_unit_ticket(struct cli *cl, const char *uid, char ticket[FM_ID_MAX])
{
    const char *units[1] = {uid};
    char unit[FM_ID_MAX];
    return cli_wf_busy_unit(cl, units, 1, unit, ticket);
}
