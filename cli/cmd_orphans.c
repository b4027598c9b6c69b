/*
 * cmd_orphans.c — nothing stranded, as the dispatcher sees it: `incident
 * status ID resolved|closed` refusing while units are out on the incident
 * (or cancelling their tickets with --cancel-tickets), `incident list
 * --orphans`, the orphan line of `dispatch status` and the orphan warnings
 * of `fieldmesh status`. The list itself is computed by fm_node_orphans
 * (node/workflow/orphans.c), the same on every node holding the same ops.
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>

/* ---- closing with active tickets ---- */

struct active_print {
    struct cli *cl;
    size_t n;
};

static int active_one(void *ctx, const struct fm_ticket *tk)
{
    struct active_print *p = ctx;
    struct fm_unit u;
    if (!tk->active)
        return 0;
    const char *name = fm_node_unit_get(p->cl->node, tk->unit, &u) == FM_OK ? u.name : "?";
    fprintf(stderr, "  %s  %s (%s)  %s\n", tk->id, name, tk->unit,
            fm_ticket_state_name(tk->state));
    p->n++;
    return 0;
}

int cli_orphans_close(struct cli *cl, const char *id, enum fm_incident_stage stage,
                      bool cancel_tickets, const char *reason)
{
    const char *what = stage == FM_STAGE_CLOSED ? "closed" : "resolved";
    size_t nactive = 0;
    int rc = fm_node_incident_close(cl->node, id, stage, cancel_tickets, reason, &nactive);
    if (rc == FM_ESTATE && nactive > 0) {
        struct active_print p = { cl, 0 };
        cli_error(cl, rc, "cannot set %s to %s: %zu unit(s) still hold active tickets on it "
                          "(they would stay assigned):", id, what, nactive);
        if (fm_node_tickets(cl->node, id, active_one, &p) != FM_OK)
            fprintf(stderr, "  (cannot list them)\n");
        fprintf(stderr, "clear each one that finished (fieldmesh ticket clear TICKET --result "
                        "TEXT), or cancel them all in the same write:\n"
                        "  fieldmesh incident status %s %s --cancel-tickets [--reason TEXT]\n",
                id, what);
        return CLI_EXIT_FAIL;
    }
    if (rc == FM_EPERM && cancel_tickets && nactive > 0)
        return cli_role_error(cl, rc, "cancel the tickets of an incident",
                              "centre and county nodes cancel tickets");
    if (rc == FM_ETOOBIG)
        return cli_error(cl, rc, "cannot set %s to %s: more than %d active tickets; cancel "
                                 "some first (fieldmesh ticket cancel TICKET)",
                         id, what, FM_CLOSE_MAX);
    if (rc == FM_OK) {
        cli_after_write(cl);
        if (nactive > 0)
            printf("%s: %s (%zu ticket(s) cancelled, their units available)\n", id, what,
                   nactive);
        else
            printf("%s: %s\n", id, what);
        return CLI_EXIT_OK;
    }
    return rc; /* the caller words the rest (role, not forward) */
}

/* ---- the list ---- */

static const char *orphan_hint(const struct fm_orphan *o, char *buf, size_t cap)
{
    switch (o->kind) {
    case FM_ORPHAN_UNDISPATCHED:
        snprintf(buf, cap, "never dispatched: fieldmesh dispatch suggest %s", o->incident);
        break;
    case FM_ORPHAN_UNCOVERED:
        snprintf(buf, cap, "every ticket cancelled: fieldmesh dispatch suggest %s", o->incident);
        break;
    case FM_ORPHAN_CLEARED:
        snprintf(buf, cap, "every unit cleared: fieldmesh incident status %s resolved",
                 o->incident);
        break;
    case FM_ORPHAN_STRANDED:
        snprintf(buf, cap, "%s still out on a %s incident: fieldmesh ticket cancel %s (or "
                           "reopen the incident)", o->unit_name[0] ? o->unit_name : o->unit,
                 o->status, o->ticket);
        break;
    case FM_ORPHAN_BUSY_UNIT:
        snprintf(buf, cap, "%s with no active ticket: fieldmesh unit status %s available",
                 o->status, o->unit);
        break;
    }
    return buf;
}

static void orphan_json(struct cli_json *j, const struct fm_orphan *o)
{
    char hint[FM_TEXT_MAX], code[FM_HID_MAX];
    cli_json_begin_object(j);
    cli_json_kstr(j, "kind", fm_orphan_kind_name(o->kind));
    cli_json_kstr(j, "incident", o->incident);
    cli_json_kstr(j, "incident_code", o->incident[0] ? cli_hid(o->incident, code) : "");
    cli_json_kstr(j, "ticket", o->ticket);
    cli_json_kstr(j, "unit", o->unit);
    cli_json_kstr(j, "unit_name", o->unit_name);
    cli_json_kstr(j, "category", o->category);
    cli_json_key(j, "priority");
    if (o->priority)
        cli_json_uint(j, o->priority);
    else
        cli_json_null(j);
    cli_json_kstr(j, "status", o->status);
    cli_json_ktime(j, "since", o->since_hlc);
    cli_json_kstr(j, "action", orphan_hint(o, hint, sizeof hint));
    cli_json_end_object(j);
}

struct orphan_list {
    bool as_json;
    struct cli_json json;
    struct cli_table table;
};

static int orphan_row(void *ctx, const struct fm_orphan *o)
{
    struct orphan_list *l = ctx;
    if (l->as_json) {
        orphan_json(&l->json, o);
        return 0;
    }
    char prio[8] = "", since[CLI_TIME_LEN], hint[FM_TEXT_MAX];
    if (o->priority)
        snprintf(prio, sizeof prio, "%u", o->priority);
    cli_fmt_local(o->since_hlc, false, since);
    char code[FM_HID_MAX];
    const char *what = o->kind == FM_ORPHAN_BUSY_UNIT ? o->unit_name
                       : cli_hid(o->incident, code)[0] ? code
                                                       : o->incident;
    const char *cells[] = { fm_orphan_kind_name(o->kind), what, prio, o->category, since,
                            orphan_hint(o, hint, sizeof hint) };
    return cli_table_add(&l->table, cells, 120);
}

int cli_orphans_list(struct cli *cl, bool as_json)
{
    static const char *const headers[] = { "KIND", "INCIDENT/UNIT", "PRI", "CATEGORY",
                                            "SINCE", "ACTION" };
    struct orphan_list l;
    memset(&l, 0, sizeof l);
    l.as_json = as_json;
    cli_hid_prepare(cl);
    cli_list_begin(as_json, &l.json, &l.table, stdout, headers, CLI_NELEM(headers));
    int rc = fm_node_orphans(cl->node, orphan_row, &l);
    if (rc != 0) {
        if (!as_json)
            cli_table_release(&l.table);
        else
            cli_json_finish(&l.json);
        return cli_error(cl, rc, "cannot list orphans: %s", fm_strerror(rc));
    }
    cli_list_end(as_json, &l.json, &l.table, stdout, rc);
    return CLI_EXIT_OK;
}

/* ---- one incident (dispatch status) ---- */

struct orphan_find {
    const char *incident;
    struct fm_orphan o[4];
    size_t n;
};

static int find_one(void *ctx, const struct fm_orphan *o)
{
    struct orphan_find *f = ctx;
    if (strcmp(o->incident, f->incident) == 0 && f->n < CLI_NELEM(f->o))
        f->o[f->n++] = *o;
    return 0;
}

void cli_orphans_incident(struct cli *cl, const char *incident, struct cli_json *j)
{
    struct orphan_find *f = calloc(1, sizeof *f);
    char hint[FM_TEXT_MAX], since[CLI_TIME_LEN];
    if (f == NULL)
        return;
    f->incident = incident;
    if (fm_node_orphans(cl->node, find_one, f) != FM_OK)
        f->n = 0;
    if (j != NULL) {
        cli_json_key(j, "orphans");
        cli_json_begin_array(j);
        for (size_t i = 0; i < f->n; i++)
            orphan_json(j, &f->o[i]);
        cli_json_end_array(j);
    }
    for (size_t i = 0; j == NULL && i < f->n; i++) {
        cli_fmt_local(f->o[i].since_hlc, false, since);
        printf("orphan:       %s since %s (%s)\n", fm_orphan_kind_name(f->o[i].kind), since,
               orphan_hint(&f->o[i], hint, sizeof hint));
    }
    free(f);
}

/* ---- fieldmesh status ---- */

struct orphan_warn {
    uint64_t now_ms;
    struct cli_json *j;
    size_t n;
};

static int warn_one(void *ctx, const struct fm_orphan *o)
{
    struct orphan_warn *w = ctx;
    char hint[FM_TEXT_MAX];
    uint64_t since_ms = o->since_hlc >> 16;
    unsigned long long s = w->now_ms > since_ms ? (w->now_ms - since_ms) / 1000 : 0;
    w->n++;
    if (w->j != NULL) {
        orphan_json(w->j, o);
        return 0;
    }
    if (o->kind == FM_ORPHAN_BUSY_UNIT)
        printf("warning:   unit %s (%s) is %s with no active ticket for %llum%02llus: %s\n",
               o->unit_name, o->unit, o->status, s / 60, s % 60,
               orphan_hint(o, hint, sizeof hint));
    else
        printf("warning:   incident %s (priority %u, %s) has %s for %llum%02llus: %s\n",
               o->incident, o->priority, o->category,
               o->kind == FM_ORPHAN_STRANDED ? "a unit stranded on it" : "no unit out on it",
               s / 60, s % 60, orphan_hint(o, hint, sizeof hint));
    return 0;
}

void cli_orphans_alerts(struct cli *cl, struct cli_json *j)
{
    struct orphan_warn w = { fm_now_ms(), j, 0 };
    if (j != NULL) {
        cli_json_key(j, "orphans");
        cli_json_begin_array(j);
    }
    int rc = fm_node_orphans(cl->node, warn_one, &w);
    if (j != NULL)
        cli_json_end_array(j);
    else if (rc != FM_OK)
        printf("warning:   cannot list orphans: %s\n", fm_strerror(rc));
}
