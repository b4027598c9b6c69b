/*
 * cmd_ticket.c — `fieldmesh ticket ack|enroute|arrive|clear|cancel|reassign
 * TICKET` and `ticket list|show`.
 *
 * A step is run from the unit's own node (vehicle or station role) or by a
 * dispatcher on the unit's behalf after a radio call; the op records which
 * (and who, and when). Steps only move forward and a closed ticket takes
 * no more; a refused step exits 1 naming the ticket's state.
 */
#include "cli_wf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* steps                                                               */
/* ------------------------------------------------------------------ */

static int run_step(struct cli *cl, int argc, char **argv, enum fm_ticket_step step)
{
    static const struct cli_opt opts[] = { { "result", true }, { "reason", true } };
    struct cli_args a;
    struct fm_ticket tk;
    char id[FM_ID_MAX];
    const char *text;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 1, &a);
    if (a.val[0] != NULL && step != FM_STEP_CLEAR)
        return cli_usage(cl, "--result only goes with 'ticket clear'");
    if (a.val[1] != NULL && step != FM_STEP_CANCEL)
        return cli_usage(cl, "--reason only goes with 'ticket cancel' or 'ticket reassign'");
    if (step == FM_STEP_CLEAR && a.val[0] == NULL)
        return cli_usage(cl, "--result TEXT is required (what was done)");
    text = step == FM_STEP_CLEAR ? a.val[0] : a.val[1];
    struct fm_route forged;
    if (step == FM_STEP_CLEAR && fm_route_parse(text, &forged, NULL))
        return cli_usage(cl, "--result may not end with a \"[GPS route: ...]\" summary: "
                             "the node adds it from its own trail");
    if (text != NULL && (rc = cli_check_text(cl, step == FM_STEP_CLEAR ? "--result" : "--reason",
                                             text, FM_TEXT_MAX)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    /* no TICKET: the one active ticket of this node's own unit */
    rc = a.npos > 0 ? cli_resolve(cl, FM_ENT_TICKET, a.pos[0], id) : cli_own_ticket(cl, id);
    if (rc != 0)
        return rc;
    /* a press after the position stamped this step is a confirmation
     * (docs/gps.md): say so, and which stamp stands */
    char gps_at[CLI_TIME_LEN] = "";
    if (fm_node_ticket_get(cl->node, id, &tk) == 0) {
        const struct fm_ticket_mark *mk = step == FM_STEP_ENROUTE  ? &tk.enroute
                                          : step == FM_STEP_ARRIVE ? &tk.onscene
                                                                   : NULL;
        if (mk != NULL && mk->hlc != 0 && mk->gps)
            cli_fmt_local(mk->hlc, true, gps_at);
    }
    rc = fm_node_ticket_step(cl->node, id, step, text);
    if (rc == FM_ESTATE && fm_node_ticket_get(cl->node, id, &tk) == 0)
        return cli_error(cl, rc, "ticket %s is %s: cannot %s it", id,
                         fm_ticket_state_name(tk.state), argv[0]);
    if (rc == FM_EUNIT && fm_node_ticket_get(cl->node, id, &tk) == 0) {
        /* a station or vehicle reports only for its own unit */
        struct fm_unit u;
        const char *name = fm_node_unit_get(cl->node, tk.unit, &u) == 0 ? u.name : "?";
        return cli_error(cl, rc, "cannot %s %s: it is unit %s (%s)'s ticket and this node is not "
                                 "that unit's own node nor a dispatcher (centre, county, admin)",
                         argv[0], id, name, tk.unit);
    }
    if (rc != 0)
        return cli_wf_error(cl, rc, argv[0], id);
    cli_after_write(cl);
    if (gps_at[0] != '\0')
        printf("%s: %s confirms the GPS stamp of %s (the stamp stands)\n", id, argv[0], gps_at);
    else if (fm_node_ticket_get(cl->node, id, &tk) == 0)
        printf("%s: %s\n", id, fm_ticket_state_name(tk.state));
    else
        printf("%s: %s\n", id, argv[0]);
    return CLI_EXIT_OK;
}

static int run_ack(struct cli *cl, int argc, char **argv) { return run_step(cl, argc, argv, FM_STEP_ACK); }
static int run_enroute(struct cli *cl, int argc, char **argv) { return run_step(cl, argc, argv, FM_STEP_ENROUTE); }
static int run_arrive(struct cli *cl, int argc, char **argv) { return run_step(cl, argc, argv, FM_STEP_ARRIVE); }
static int run_clear(struct cli *cl, int argc, char **argv) { return run_step(cl, argc, argv, FM_STEP_CLEAR); }
static int run_cancel(struct cli *cl, int argc, char **argv) { return run_step(cl, argc, argv, FM_STEP_CANCEL); }

#define STEP_HELP                                                                          \
    "  TICKET   the ticket id, code (K3MX-12), an unambiguous prefix, or a number alone\n"  \
    "           (104: the one active ticket whose code ends in -104). Left out on a\n"     \
    "           unit's own node: the unit's one active ticket.\n"                           \
    "  Run on the unit's own node, or by a dispatcher for the unit (recorded as on its\n"   \
    "  behalf). Moves the unit's status. Prints '<ticket>: <state>'.\n"

const struct cli_cmd cli_cmd_ticket_ack = {
    "ticket", "ack", "[TICKET]", "the unit acknowledges the ticket (the first one coordinates)",
    STEP_HELP, run_ack,
};
const struct cli_cmd cli_cmd_ticket_enroute = {
    "ticket", "enroute", "[TICKET]", "the unit is on its way", STEP_HELP, run_enroute,
};
const struct cli_cmd cli_cmd_ticket_arrive = {
    "ticket", "arrive", "[TICKET]", "the unit is on scene", STEP_HELP, run_arrive,
};
const struct cli_cmd cli_cmd_ticket_clear = {
    "ticket", "clear", "[TICKET] --result TEXT", "the unit is done; the unit is available again",
    STEP_HELP "  --result TEXT   what was done (required; at most 1023 bytes)\n", run_clear,
};
const struct cli_cmd cli_cmd_ticket_cancel = {
    "ticket", "cancel", "TICKET [--reason TEXT]", "call the unit off (dispatchers only)",
    STEP_HELP "  --reason TEXT   why\n", run_cancel,
};

static int run_reassign(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "unit", true }, { "reason", true },
                                           { "force", false } };
    struct cli_args a;
    struct fm_dispatch_check chk;
    struct fm_ticket cur;
    char id[FM_ID_MAX], unit[FM_ID_MAX], nid[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (a.val[0] == NULL)
        return cli_usage(cl, "--unit U is required");
    if (a.val[1] != NULL && (rc = cli_check_text(cl, "--reason", a.val[1], FM_TEXT_MAX)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_TICKET, a.pos[0], id)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_UNIT, a.val[0], unit)) != 0)
        return rc;
    const char *uids[1] = { unit };
    memset(&chk, 0, sizeof chk);
    if (fm_node_ticket_get(cl->node, id, &cur) == FM_OK &&
        (rc = cli_wf_dispatch_checks(cl, cur.incident, uids, 1, cli_flag(&a, 2), &chk)) != 0)
        return rc;
    rc = fm_node_ticket_reassign(cl->node, id, unit, a.val[1], nid);
    if (rc == FM_OK)
        cli_wf_far_warnings(cl, uids, 1, &chk);
    if (rc == FM_ESTATE) {
        struct fm_ticket tk;
        struct fm_unit u;
        char busy[FM_ID_MAX];
        const char *name = fm_node_unit_get(cl->node, unit, &u) == FM_OK ? u.name : "?";
        if (fm_node_ticket_get(cl->node, id, &tk) == FM_OK && !tk.active)
            return cli_error(cl, rc, "cannot reassign %s: the ticket is %s, no longer active",
                             id, fm_ticket_state_name(tk.state));
        if (cli_wf_unit_ticket(cl, unit, busy) == 1)
            return cli_error(cl, rc,
                             "cannot reassign %s to %s (%s): the unit already holds active "
                             "ticket %s (clear, cancel or reassign it first)",
                             id, name, unit, busy);
        return cli_error(cl, rc, "cannot reassign %s to %s (%s): not in a state that allows it",
                         id, name, unit);
    }
    if (rc != 0)
        return cli_wf_error(cl, rc, "reassign", id);
    cli_after_write(cl);
    printf("%s\n", nid);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_ticket_reassign = {
    "ticket", "reassign", "TICKET --unit U [--reason TEXT] [--force]",
    "close the ticket as reassigned and dispatch another unit; prints the new ticket id",
    "  TICKET          the ticket id, prefix or code\n"
    "  --unit U        the unit taking over (id, prefix or name)\n"
    "  --reason TEXT   why\n"
    "  --force         a unit that fits none of the rule's needs (else exit 1, as\n"
    "                  for dispatch)\n", run_reassign,
};

/* ------------------------------------------------------------------ */
/* list / show                                                         */
/* ------------------------------------------------------------------ */

struct list_ctx {
    struct cli *cl;
    bool json, active_only;
    struct cli_json j;
    struct cli_table t;
};

static int list_one(void *ctx, const struct fm_ticket *tk)
{
    struct list_ctx *lc = ctx;
    if (lc->active_only && !tk->active)
        return 0;
    if (lc->json) {
        cli_wf_ticket_json(&lc->j, tk);
        return 0;
    }
    char when[CLI_TIME_LEN];
    cli_fmt_local(tk->dispatched.hlc, false, when);
    char code[FM_HID_MAX], icode[FM_HID_MAX], uname[FM_NAME_MAX];
    const char *cells[] = { cli_hid(tk->id, code), tk->id, cli_hid(tk->incident, icode),
                            tk->incident, cli_wf_unit_name(lc->cl, tk->unit, uname), tk->unit,
                            fm_ticket_state_name(tk->state), when,
                            tk->result[0] ? tk->result : tk->reason };
    return cli_table_add(&lc->t, cells, 50);
}

static int run_list(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "incident", true }, { "active", false },
                                           { "json", false } };
    static const char *const headers[] = { "CODE", "TICKET", "INC CODE", "INCIDENT", "UNIT",
                                           "UNIT ID", "STATE", "DISPATCHED",
                                           "RESULT/REASON" };
    struct cli_args a;
    struct list_ctx lc;
    char inc[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    if (a.val[0] != NULL && (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.val[0], inc)) != 0)
        return rc;
    memset(&lc, 0, sizeof lc);
    lc.cl = cl;
    cli_hid_prepare(cl);
    lc.json = cli_flag(&a, 2);
    lc.active_only = cli_flag(&a, 1);
    cli_list_begin(lc.json, &lc.j, &lc.t, stdout, headers, CLI_NELEM(headers));
    rc = fm_node_tickets(cl->node, a.val[0] ? inc : NULL, list_one, &lc);
    rc = cli_list_end(lc.json, &lc.j, &lc.t, stdout, rc);
    if (rc != 0)
        return cli_error(cl, rc, "cannot list tickets: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_ticket_list = {
    "ticket", "list", "[--incident ID] [--active] [--json]", "list tickets",
    "  --incident ID   only this incident's tickets\n"
    "  --active        only tickets not cleared, cancelled or reassigned\n"
    "  --json          an array of ticket objects (docs/workflow.md)\n",
    run_list,
};

struct show_ctx {
    bool json;
    struct cli_json *j;
    struct cli_table *t;
};

static int show_event(void *ctx, const struct fm_ticket_event *e)
{
    struct show_ctx *sc = ctx;
    if (sc->json) {
        cli_json_begin_object(sc->j);
        cli_json_ktime(sc->j, "at", e->hlc);
        cli_json_kstr(sc->j, "by", e->author);
        cli_json_kuint(sc->j, "seq", e->seq);
        cli_json_kstr(sc->j, "step", e->step);
        cli_json_key(sc->j, "on_behalf");
        cli_json_bool(sc->j, e->behalf);
        cli_json_kstr(sc->j, "source", e->gps ? "gps" : "button"); /* docs/gps.md */
        cli_json_kstr(sc->j, "text", e->text);
        cli_json_key(sc->j, "operator"); /* op format 2: who at the console */
        if (e->operator_name[0])
            cli_json_string(sc->j, e->operator_name);
        else
            cli_json_null(sc->j);
        cli_json_end_object(sc->j);
        return 0;
    }
    char when[CLI_TIME_LEN], who[FM_KEY_TAG_LEN + 32 + sizeof e->operator_name];
    cli_fmt_local(e->hlc, true, when);
    snprintf(who, sizeof who, "%.*s%s%s%s%s", FM_KEY_TAG_LEN, e->author,
             e->behalf ? " (behalf)" : "", e->operator_name[0] ? " (operator " : "",
             e->operator_name, e->operator_name[0] ? ")" : "");
    char step[24];
    snprintf(step, sizeof step, "%s%s", e->step, e->gps ? " (GPS)" : "");
    const char *cells[] = { when, who, step, e->text };
    return cli_table_add(sc->t, cells, 80);
}

/* The breadcrumb trail this node kept while the ticket was en route
 * (docs/gps.md): local evidence, only on the unit's own node. */
static void trail_json(struct cli_json *j, const struct fm_gps_trail *tr)
{
    char at[CLI_TIME_LEN], acc[24];
    cli_json_key(j, "trail");
    cli_json_begin_array(j);
    for (uint32_t i = 0; i < tr->n; i++) {
        const struct fm_gps_trail_pt *p = &tr->pt[i];
        cli_json_begin_object(j);
        cli_fmt_time(p->at_ms << 16, true, at);
        cli_json_kstr(j, "at", at);
        cli_json_kcoord(j, "lat", p->lat_e7);
        cli_json_kcoord(j, "lon", p->lon_e7);
        cli_json_key(j, "accuracy_m");
        if (p->accuracy_dm == FM_GPS_NO_ACCURACY) {
            cli_json_null(j);
        } else {
            snprintf(acc, sizeof acc, "%u.%u", p->accuracy_dm / 10, p->accuracy_dm % 10);
            cli_json_raw(j, acc);
        }
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
    cli_json_key(j, "trail_full");
    cli_json_bool(j, tr->full);
}

static void trail_print(const struct fm_gps_trail *tr)
{
    char at[CLI_TIME_LEN], la[CLI_COORD_LEN], lo[CLI_COORD_LEN];
    if (tr->n == 0)
        return;
    printf("\ntrail (this node's GPS while en route, one point per 30 s; %u of %u fixes, "
           "%llu m%s):\n", (unsigned)tr->n, (unsigned)tr->fixes,
           (unsigned long long)tr->distance_m,
           tr->full ? "; full: only the last point moved after the cap, distance undercounted"
                    : "");
    for (uint32_t i = 0; i < tr->n; i++) {
        cli_fmt_time(tr->pt[i].at_ms << 16, false, at);
        cli_fmt_coord(tr->pt[i].lat_e7, la);
        cli_fmt_coord(tr->pt[i].lon_e7, lo);
        if (tr->pt[i].accuracy_dm == FM_GPS_NO_ACCURACY)
            printf("  %s  %s,%s\n", at, la, lo);
        else
            printf("  %s  %s,%s  ±%um\n", at, la, lo, (tr->pt[i].accuracy_dm + 5) / 10);
    }
}

static void route_json(struct cli_json *j, const struct fm_ticket *tk)
{
    struct fm_route r;
    cli_json_key(j, "route");
    if (tk->cleared.behalf || !fm_route_parse(tk->result, &r, NULL)) {
        cli_json_null(j);
        return;
    }
    cli_json_begin_object(j);
    cli_json_kuint(j, "distance_m", r.distance_m);
    cli_json_kuint(j, "enroute_s", r.enroute_s);
    cli_json_end_object(j);
}

static int run_show(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false } };
    static const char *const headers[] = { "TIME", "BY", "STEP", "TEXT" };
    struct cli_args a;
    struct fm_ticket tk;
    struct cli_json j;
    struct cli_table t;
    struct show_ctx sc = { false, &j, &t };
    char id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_TICKET, a.pos[0], id)) != 0)
        return rc;
    if ((rc = fm_node_ticket_get(cl->node, id, &tk)) != 0)
        return cli_error(cl, rc, "cannot read ticket %s: %s", id, fm_strerror(rc));
    struct fm_gps_trail *tr = calloc(1, sizeof *tr);
    if (tr == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if (fm_node_gps_trail_get(cl->node, id, tr) != 0)
        memset(tr, 0, sizeof *tr); /* none kept here: only the unit's own node has one */
    cli_hid_prepare(cl);
    sc.json = cli_flag(&a, 0);
    if (sc.json) {
        cli_json_init(&j, stdout);
        cli_json_begin_object(&j);
        cli_json_key(&j, "ticket");
        cli_wf_ticket_json(&j, &tk);
        route_json(&j, &tk);
        trail_json(&j, tr);
        cli_json_key(&j, "history");
        cli_json_begin_array(&j);
    } else {
        char code[FM_HID_MAX], icode[FM_HID_MAX], uname[FM_NAME_MAX];
        printf("ticket:    %s (%s)\nincident:  %s (%s)\nunit:      %s (%s)\nstate:     %s\n",
               tk.id, cli_hid(tk.id, code), tk.incident, cli_hid(tk.incident, icode), tk.unit,
               cli_wf_unit_name(cl, tk.unit, uname), fm_ticket_state_name(tk.state));
        if (tk.replaces[0])
            printf("replaces:  %s\n", tk.replaces);
        if (tk.result[0])
            printf("result:    %s\n", tk.result);
        struct fm_route r;
        if (!tk.cleared.behalf && fm_route_parse(tk.result, &r, NULL))
            printf("route:     %llu m driven, %llu s en route (GPS, from the unit's clear)\n",
                   (unsigned long long)r.distance_m, (unsigned long long)r.enroute_s);
        if (tk.void_steps)
            printf("ignored:   %u step(s) naming another unit or incident than this "
                   "ticket's dispatch (see the log of their authors)\n",
                   (unsigned)tk.void_steps);
        printf("\nhistory:\n");
        cli_table_init(&t, headers, CLI_NELEM(headers));
    }
    rc = fm_node_ticket_history(cl->node, id, show_event, &sc);
    if (sc.json) {
        cli_json_end_array(&j);
        cli_json_end_object(&j);
        cli_json_finish(&j);
    } else {
        if (rc == 0) {
            cli_table_print(&t, stdout);
            trail_print(tr);
        }
        cli_table_release(&t);
    }
    free(tr);
    if (rc != 0)
        return cli_error(cl, rc, "cannot read the history of %s: %s", id, fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_ticket_show = {
    "ticket", "show", "TICKET [--json]", "show a ticket and its history (who, when, for whom)",
    "  --json   {\"ticket\": {...}, \"route\": {distance_m, enroute_s} | null,\n"
    "           \"trail\": [{at, lat, lon, accuracy_m}], \"trail_full\",\n"
    "           \"history\": [{at, by, seq, step, on_behalf, source, text}]}\n",
    run_show,
};
