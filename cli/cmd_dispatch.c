/*
 * cmd_dispatch.c — `fieldmesh dispatch ID --unit U [--unit U2 ...]`,
 * `fieldmesh dispatch suggest ID [--json]`, `fieldmesh dispatch status ID
 * [--json]`, `fieldmesh escalate` and `fieldmesh incident feedback`.
 *
 * The proposal comes from the directory's rules (fm_node_dispatch_suggest);
 * dispatching writes one ticket op per unit in one transaction and prints
 * the ticket ids one per line, so scripts can capture them.
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* suggest                                                             */
/* ------------------------------------------------------------------ */

static void suggestion_json(const struct fm_suggestion *s, FILE *f)
{
    struct cli_json j;
    cli_json_init(&j, f);
    cli_json_begin_object(&j);
    cli_json_kstr(&j, "incident", s->incident);
    cli_json_kstr(&j, "category", s->category);
    cli_json_kuint(&j, "priority", s->priority);
    cli_json_key(&j, "has_directory");
    cli_json_bool(&j, s->has_directory);
    cli_json_key(&j, "has_rule");
    cli_json_bool(&j, s->has_rule);
    cli_json_kuint(&j, "max_tier", s->max_tier);
    cli_json_kuint(&j, "alarm_level", s->alarm_level);
    cli_json_key(&j, "departments");
    cli_json_begin_array(&j);
    for (size_t i = 0; i < s->ndepts; i++)
        cli_json_string(&j, s->departments[i]);
    cli_json_end_array(&j);
    cli_json_key(&j, "units");
    cli_json_begin_array(&j);
    for (size_t i = 0; i < s->nunits; i++) {
        const struct fm_suggest_unit *u = &s->units[i];
        cli_json_begin_object(&j);
        cli_json_kstr(&j, "unit", u->unit);
        cli_json_kstr(&j, "name", u->name);
        cli_json_kstr(&j, "department", u->department);
        cli_json_kstr(&j, "county", u->county);
        cli_json_kuint(&j, "tier", u->tier);
        cli_json_kstr(&j, "capability", u->capability);
        cli_wf_kdouble(&j, "distance_km", u->distance_km, 3);
        cli_json_key(&j, "position_age_s");
        if (u->live_position)
            cli_json_int(&j, u->position_age_s);
        else
            cli_json_null(&j);
        cli_json_kstr(&j, "position", !u->live_position ? "home" : u->gps_position ? "gps"
                                                                                   : "reported");
        cli_json_key(&j, "also_proposed_for");
        if (u->also_for[0])
            cli_json_string(&j, u->also_for);
        else
            cli_json_null(&j);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_key(&j, "assigned");
    cli_json_begin_array(&j);
    for (size_t i = 0; i < s->nassigned; i++) {
        const struct fm_suggest_assigned *a = &s->assigned[i];
        cli_json_begin_object(&j);
        cli_json_kstr(&j, "unit", a->unit);
        cli_json_kstr(&j, "name", a->name);
        cli_json_kstr(&j, "ticket", a->ticket);
        cli_json_key(&j, "counted");
        cli_json_bool(&j, a->counted);
        cli_json_kuint(&j, "tier", a->tier);
        cli_json_kstr(&j, "kind", a->kind);
        cli_json_kstr(&j, "capability", a->capability);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_key(&j, "gaps");
    cli_json_begin_array(&j);
    for (size_t i = 0; i < s->ngaps; i++) {
        const struct fm_suggest_gap *g = &s->gaps[i];
        cli_json_begin_object(&j);
        cli_json_kuint(&j, "tier", g->tier);
        cli_json_kstr(&j, "kind", g->kind);
        cli_json_kstr(&j, "capability", g->capability);
        cli_json_kuint(&j, "wanted", g->wanted);
        cli_json_kuint(&j, "found", g->found);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static void suggestion_text(const struct fm_suggestion *s, FILE *f)
{
    if (!s->has_directory) {
        fprintf(f, "no directory published yet: no proposed dispatch (fieldmesh directory "
                   "publish FILE)\n");
        return;
    }
    if (!s->has_rule) {
        fprintf(f, "no classification rule for category '%s': no proposed dispatch\n",
                s->category);
        return;
    }
    char level[32] = "";
    if (s->alarm_level > 1)
        snprintf(level, sizeof level, ", alarm level %u", s->alarm_level);
    fprintf(f, "proposed dispatch for %s (%s, priority %u%s, tiers 1-%u):\n", s->incident,
            s->category, s->priority, level, s->max_tier);
    fprintf(f, "  departments: ");
    for (size_t i = 0; i < s->ndepts; i++)
        fprintf(f, "%s%s", i ? ", " : "", s->departments[i]);
    fprintf(f, "%s\n", s->ndepts ? "" : "(none available)");
    for (size_t i = 0; i < s->nassigned; i++) {
        const struct fm_suggest_assigned *a = &s->assigned[i];
        if (a->counted)
            fprintf(f, "  already out: %s (%s, ticket %s) for %s%s%s (tier %u)\n", a->name,
                    a->unit, a->ticket, a->kind, a->capability[0] ? "/" : "", a->capability,
                    a->tier);
        else
            fprintf(f, "  already out: %s (%s, ticket %s), fits no need of tiers 1-%u left "
                       "open\n", a->name, a->unit, a->ticket, s->max_tier);
    }
    if (s->nunits == 0 && s->ngaps == 0 && s->nassigned > 0)
        fprintf(f, "  nothing missing: the units out on it fill every need of tiers 1-%u\n",
                s->max_tier);
    /* a table, so names of any length (and width: CJK) stay aligned */
    static const char *const headers[] = { "  UNIT", "NAME", "DEPARTMENT", "TIER",
                                           "DISTANCE", "POSITION", "FOR", "NOTE" };
    struct cli_table t;
    int trc = 0;
    cli_table_init(&t, headers, CLI_NELEM(headers));
    for (size_t i = 0; i < s->nunits && trc == 0; i++) {
        const struct fm_suggest_unit *u = &s->units[i];
        char unit[FM_ID_MAX + 2], tier[8], dist[32], age[48];
        snprintf(unit, sizeof unit, "  %s", u->unit);
        snprintf(tier, sizeof tier, "%u", u->tier);
        snprintf(dist, sizeof dist, "%.2f km", u->distance_km);
        if (u->live_position)
            snprintf(age, sizeof age, "%s %llds old", u->gps_position ? "gps" : "reported",
                     (long long)u->position_age_s);
        else
            snprintf(age, sizeof age, "home station");
        char note[FM_ID_MAX + 32] = "";
        if (u->also_for[0])
            snprintf(note, sizeof note, "also proposed for P1 %s", u->also_for);
        const char *cells[] = { unit, u->name, u->department, tier, dist, age, u->capability,
                                note };
        trc = cli_table_add(&t, cells, 40);
    }
    if (s->nunits > 0 && trc == 0)
        cli_table_print(&t, f);
    cli_table_release(&t);
    for (size_t i = 0; i < s->ngaps; i++)
        fprintf(f, "  missing: %u of %u %s unit(s)%s%s (tier %u)\n",
                s->gaps[i].wanted - s->gaps[i].found, s->gaps[i].wanted, s->gaps[i].kind,
                s->gaps[i].capability[0] ? " with " : "", s->gaps[i].capability,
                s->gaps[i].tier);
    if (s->nunits > 0) {
        fprintf(f, "  dispatch with: fieldmesh dispatch %s --plan (or", s->incident);
        for (size_t i = 0; i < s->nunits; i++)
            fprintf(f, " --unit %s", s->units[i].unit);
        fprintf(f, ")\n");
    }
}

void cli_wf_print_proposal(struct cli *cl, const char *incident, FILE *f)
{
    struct fm_suggestion *s = malloc(sizeof *s);
    if (s == NULL)
        return;
    if (fm_node_dispatch_suggest(cl->node, incident, fm_now_ms(), s) == FM_OK && s->has_directory)
        suggestion_text(s, f);
    free(s);
}

static int run_suggest(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false } };
    struct cli_args a;
    char id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    struct fm_suggestion *s = malloc(sizeof *s);
    if (s == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    rc = fm_node_dispatch_suggest(cl->node, id, fm_now_ms(), s);
    if (rc != 0) {
        free(s);
        return cli_error(cl, rc, "cannot propose a dispatch for %s: %s", id, fm_strerror(rc));
    }
    if (cli_flag(&a, 0))
        suggestion_json(s, stdout);
    else
        suggestion_text(s, stdout);
    free(s);
    return CLI_EXIT_OK;
}

static const struct cli_cmd cmd_suggest = {
    "dispatch", "suggest", "ID [--json]",
    "propose the departments and nearest available units for an incident",
    "  ID       the incident id or an unambiguous prefix\n"
    "  --json   one object: incident, category, priority, max_tier, departments,\n"
    "           units [{unit, name, department, county, tier, capability, distance_km,\n"
    "           position_age_s (null for a home position), position, also_proposed_for\n"
    "           (another open priority-1 incident whose proposal takes it too, or null)}],\n"
    "           gaps (found counts the units already out on it), assigned [{unit, name,\n"
    "           ticket, counted, tier, kind, capability}]: units already out on it\n",
    run_suggest,
};

/* ------------------------------------------------------------------ */
/* status                                                              */
/* ------------------------------------------------------------------ */

struct tk_print {
    struct cli_json *j;
    struct cli_table *t;
    struct cli *cl;
};

static int status_ticket(void *ctx, const struct fm_ticket *tk)
{
    struct tk_print *p = ctx;
    if (p->j != NULL) {
        cli_wf_ticket_json(p->j, tk);
        return 0;
    }
    char when[CLI_TIME_LEN];
    cli_fmt_local(tk->updated_hlc, false, when);
    char code[FM_HID_MAX], uname[FM_NAME_MAX];
    const char *cells[] = { cli_hid(tk->id, code), tk->id,
                            cli_wf_unit_name(p->cl, tk->unit, uname), tk->unit,
                            fm_ticket_state_name(tk->state), when, tk->result };
    return cli_table_add(p->t, cells, 60);
}

/* `dispatch status --json`: one object, the tickets last. Returns the
 * ticket listing's result. */
static int status_json(struct cli *cl, const char *id, const struct fm_incident *inc,
                       const struct fm_incident_workflow *wf)
{
    struct cli_json j;
    struct tk_print p = { &j, NULL, cl };
    int rc;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j);
    cli_json_kstr(&j, "incident", id);
    cli_json_kstr(&j, "status", fm_stage_name(inc->stage));
    cli_json_key(&j, "coordinator");
    if (wf->coordinator_unit[0]) {
        cli_json_begin_object(&j);
        cli_json_kstr(&j, "unit", wf->coordinator_unit);
        cli_json_kstr(&j, "ticket", wf->coordinator_ticket);
        cli_json_ktime(&j, "since", wf->coordinator_hlc);
        cli_json_end_object(&j);
    } else {
        cli_json_null(&j);
    }
    cli_json_kuint(&j, "escalated_tier", wf->escalated_tier);
    cli_json_kuint(&j, "alarm_level", wf->alarm_level);
    cli_json_key(&j, "escalations");
    cli_json_begin_array(&j);
    for (unsigned tier = 2; tier <= 3; tier++) {
        if (wf->escalated_hlc[tier] == 0)
            continue;
        cli_json_begin_object(&j);
        cli_json_kuint(&j, "tier", tier);
        cli_json_ktime(&j, "at", wf->escalated_hlc[tier]);
        cli_json_kuint(&j, "raised", wf->escalation_raises[tier]);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_kuint(&j, "feedback_count", wf->feedback_count);
    cli_json_key(&j, "satisfaction");
    if (wf->feedback_count)
        cli_wf_kdouble(&j, NULL, (double)wf->feedback_sum / wf->feedback_count, 2);
    else
        cli_json_null(&j);
    cli_orphans_incident(cl, id, &j);
    cli_json_key(&j, "tickets");
    cli_json_begin_array(&j);
    rc = fm_node_tickets(cl->node, id, status_ticket, &p);
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
    return rc;
}

/* `dispatch status`: a few lines, then the tickets as a table (printed
 * only if they could all be read). Returns the ticket listing's result. */
static int status_text(struct cli *cl, const char *id, const struct fm_incident *inc,
                       const struct fm_incident_workflow *wf)
{
    static const char *const headers[] = { "CODE", "TICKET", "UNIT", "UNIT ID", "STATE",
                                           "UPDATED", "RESULT" };
    struct cli_table t;
    struct tk_print p = { NULL, &t, cl };
    int rc;
    printf("incident:     %s (%s)\n", id, fm_stage_name(inc->stage));
    if (wf->alarm_level > 1)
        printf("alarm level:  %u (incident upgrade)\n", wf->alarm_level);
    if (wf->coordinator_unit[0])
        printf("coordinator:  unit %s (first to acknowledge, ticket %s)\n",
               wf->coordinator_unit, wf->coordinator_ticket);
    else
        printf("coordinator:  none yet (no unit has acknowledged)\n");
    for (unsigned tier = 2; tier <= 3; tier++)
        if (wf->escalated_hlc[tier])
            printf("escalation:   tier %u brought in (%u raise%s merged)\n", tier,
                   wf->escalation_raises[tier], wf->escalation_raises[tier] == 1 ? "" : "s");
    if (wf->feedback_count)
        printf("satisfaction: %.2f / 5 (%u)\n", (double)wf->feedback_sum / wf->feedback_count,
               wf->feedback_count);
    cli_orphans_incident(cl, id, NULL);
    cli_table_init(&t, headers, CLI_NELEM(headers));
    rc = fm_node_tickets(cl->node, id, status_ticket, &p);
    if (rc == 0)
        cli_table_print(&t, stdout);
    cli_table_release(&t);
    return rc;
}

static int run_status(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false } };
    struct cli_args a;
    struct fm_incident_workflow wf;
    struct fm_incident inc;
    char id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    if ((rc = fm_node_incident_get(cl->node, id, &inc)) != 0 ||
        (rc = fm_node_incident_workflow(cl->node, id, &wf)) != 0)
        return cli_error(cl, rc, "cannot read %s: %s", id, fm_strerror(rc));
    cli_hid_prepare(cl);
    rc = cli_flag(&a, 0) ? status_json(cl, id, &inc, &wf) : status_text(cl, id, &inc, &wf);
    if (rc != 0)
        return cli_error(cl, rc, "cannot list the tickets of %s: %s", id, fm_strerror(rc));
    return CLI_EXIT_OK;
}

static const struct cli_cmd cmd_status = {
    "dispatch", "status", "ID [--json]",
    "show an incident's coordinator, escalations, satisfaction, orphan state, tickets",
    "  ID       the incident id or an unambiguous prefix\n"
    "  --json   one object: incident, status, coordinator {unit, ticket, since} or null,\n"
    "           escalated_tier, alarm_level, escalations, feedback_count, satisfaction,\n"
    "           orphans\n"
    "           (as in incident list --orphans: none, or why no unit is out on it,\n"
    "           or which unit is stranded on it once closed), tickets\n",
    run_status,
};

/* ------------------------------------------------------------------ */
/* dispatch                                                            */
/* ------------------------------------------------------------------ */

/* The dispatcher's choice against the rule: a unit that fits none of the
 * category's needs is refused without --force; a far one is warned about
 * (after the dispatch, on stderr). Returns 0 or the exit code. */
int cli_wf_dispatch_checks(struct cli *cl, const char *incident, const char *const *uids,
                           size_t nunits, bool force, struct fm_dispatch_check *chk)
{
    int refused = 0;
    struct fm_incident inc;
    /* a role or a closed incident is refused as such by the dispatch itself */
    if ((cl->cfg.role != FM_ROLE_CENTRE && cl->cfg.role != FM_ROLE_COUNTY) ||
        fm_node_incident_get(cl->node, incident, &inc) != FM_OK || inc.stage >= FM_STAGE_RESOLVED)
        return 0;
    for (size_t i = 0; i < nunits; i++) {
        struct fm_unit u;
        int rc = fm_node_dispatch_check(cl->node, incident, uids[i], &chk[i]);
        if (rc != FM_OK)
            return cli_wf_error(cl, rc, "check the unit for", incident);
        if (chk[i].fits)
            continue;
        const char *name = fm_node_unit_get(cl->node, uids[i], &u) == FM_OK ? u.name : "?";
        const char *what = chk[i].retired ? "" : "it fits no need of the rule: ";
        if (force) {
            fprintf(stderr, "warning: dispatching %s (%s) with --force although %s%s\n", name,
                    uids[i], what, chk[i].why);
            continue;
        }
        fprintf(stderr, "fieldmesh dispatch: cannot dispatch %s (%s) to %s: %s%s\n", name,
                uids[i], incident, what, chk[i].why);
        refused++;
    }
    if (refused) {
        fprintf(stderr, "nothing dispatched; to send %s anyway, add --force (or see fieldmesh "
                        "dispatch suggest %s)\n", refused > 1 ? "them" : "it", incident);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

void cli_wf_far_warnings(struct cli *cl, const char *const *uids, size_t nunits,
                         const struct fm_dispatch_check *chk)
{
    for (size_t i = 0; i < nunits; i++) {
        struct fm_unit u;
        if (!chk[i].far && !chk[i].outside_county)
            continue;
        const char *name = fm_node_unit_get(cl->node, uids[i], &u) == FM_OK ? u.name : "?";
        /* with boundaries the county is known, not guessed from the distance */
        if (chk[i].outside_county)
            fprintf(stderr, "warning: %s (%s, county %s) goes outside its county: the "
                            "incident lies in %s\n", name, uids[i], chk[i].county,
                    chk[i].incident_county);
        if (chk[i].far)
            fprintf(stderr, "warning: %s (%s%s%s) is %.1f km from the incident (from its %s), "
                            "%s (over %.0f km)\n",
                    name, uids[i], chk[i].county[0] ? ", county " : "", chk[i].county,
                    chk[i].distance_km, chk[i].live_position ? "last position" : "home station",
                    chk[i].incident_county[0] ? "far from home"
                                              : "far outside its county's area",
                    FM_FAR_KM);
    }
}

/* The wording of a refused dispatch (nothing was written). */
static int dispatch_refused(struct cli *cl, int rc, const char *id, const char *const *uids,
                            size_t nunits)
{
    if (rc == FM_ECLOSED)
        return cli_error(cl, rc, "cannot dispatch to %s: the incident is resolved or closed "
                                 "(reopen it first: fieldmesh incident status %s reopen)",
                         id, id);
    if (rc == FM_ESTATE) {
        char unit[FM_ID_MAX], ticket[FM_ID_MAX];
        int busy = cli_wf_busy_unit(cl, uids, nunits, unit, ticket);
        if (busy == 1) {
            struct fm_unit u;
            const char *name = fm_node_unit_get(cl->node, unit, &u) == FM_OK ? u.name : "?";
            return cli_error(cl, rc,
                             "cannot dispatch to %s: unit %s (%s) already holds active ticket "
                             "%s (clear, cancel or reassign it first)",
                             id, name, unit, ticket);
        }
        return cli_error(cl, rc, "cannot dispatch to %s: a unit already holds an active ticket "
                                 "(clear, cancel or reassign it first)", id);
    }
    if (rc == FM_EINVAL)
        return cli_usage(cl, "a unit is named twice");
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "dispatch", "centre and county nodes dispatch");
    return cli_wf_error(cl, rc, "dispatch to", id);
}

/* Checks, dispatches uids in one write and prints the tickets. */
static int dispatch_units(struct cli *cl, const char *id, const char *const *uids, size_t nunits,
                          const char *note, bool force)
{
    char (*ids)[FM_ID_MAX] = NULL;
    int rc;
    struct fm_dispatch_check *chk = calloc(nunits, sizeof *chk);
    if (chk == NULL || (ids = calloc(nunits, sizeof *ids)) == NULL) {
        free(chk);
        return cli_error(cl, FM_ENOMEM, "out of memory");
    }
    if ((rc = cli_wf_dispatch_checks(cl, id, uids, nunits, force, chk)) != 0) {
        free(chk);
        free(ids);
        return rc;
    }
    rc = fm_node_dispatch(cl->node, id, uids, nunits, note, ids);
    if (rc == FM_OK)
        cli_wf_far_warnings(cl, uids, nunits, chk);
    free(chk);
    if (rc != FM_OK) {
        free(ids);
        return dispatch_refused(cl, rc, id, uids, nunits);
    }
    cli_after_write(cl);
    for (size_t i = 0; i < nunits; i++)
        printf("%s\n", ids[i]);
    free(ids);
    return CLI_EXIT_OK;
}

/* --plan: every unit of the current proposal, in one write; an empty
 * proposal writes nothing and says why (exit 1). */
static int dispatch_plan(struct cli *cl, const char *id, const char *note, bool force)
{
    const char *uids[FM_SUGGEST_MAX];
    struct fm_suggestion *s = malloc(sizeof *s);
    int rc;
    if (s == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if ((rc = fm_node_dispatch_suggest(cl->node, id, fm_now_ms(), s)) != FM_OK) {
        free(s);
        return cli_error(cl, rc, "cannot propose a dispatch for %s: %s", id, fm_strerror(rc));
    }
    if (s->nunits == 0) {
        const char *why = !s->has_directory ? "no directory is published"
                          : !s->has_rule    ? "the directory has no rule for its category"
                          : s->ngaps > 0    ? "no available unit fits what is still missing"
                                            : "the units out on it fill every need";
        fprintf(stderr, "fieldmesh dispatch: nothing to dispatch for %s: the proposal is empty "
                        "(%s); nothing written\n", id, why);
        if (s->has_rule)
            suggestion_text(s, stderr);
        free(s);
        return CLI_EXIT_FAIL;
    }
    for (size_t i = 0; i < s->nunits; i++)
        uids[i] = s->units[i].unit;
    rc = dispatch_units(cl, id, uids, s->nunits, note, force);
    free(s);
    return rc;
}

static int run_dispatch(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "note", true }, { "force", false },
                                           { "plan", false } };
    char *units[FM_SUGGEST_MAX];
    char *rest[64];
    size_t nunits = 0;
    int nrest = 0;
    struct cli_args a;
    char id[FM_ID_MAX];
    int rc;

    if (argc >= 2 && strcmp(argv[1], "suggest") == 0) {
        cl->cmd = &cmd_suggest;
        return run_suggest(cl, argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "status") == 0) {
        cl->cmd = &cmd_status;
        return run_status(cl, argc - 1, argv + 1);
    }
    /* --unit may repeat: take those out before the common parser */
    for (int i = 0; i < argc; i++) {
        const char *u = NULL;
        if (i > 0 && strcmp(argv[i], "--unit") == 0) {
            if (i + 1 >= argc)
                return cli_usage(cl, "option '--unit' needs a value");
            u = argv[++i];
        } else if (i > 0 && strncmp(argv[i], "--unit=", 7) == 0) {
            u = argv[i] + 7;
        } else if (i > 0 && strcmp(argv[i], "--") == 0) {
            while (i < argc && nrest < (int)CLI_NELEM(rest))
                rest[nrest++] = argv[i++];
            break;
        }
        if (u != NULL) {
            if (nunits >= FM_SUGGEST_MAX)
                return cli_usage(cl, "at most %d units at once", FM_SUGGEST_MAX);
            units[nunits++] = (char *)u;
            continue;
        }
        if (nrest >= (int)CLI_NELEM(rest))
            return cli_usage(cl, "too many arguments");
        rest[nrest++] = argv[i];
    }
    CLI_PARSE_OR_RETURN(cl, nrest, rest, opts, CLI_NELEM(opts), 1, 1, &a);
    bool plan = cli_flag(&a, 2);
    if (plan && nunits > 0)
        return cli_usage(cl, "--plan dispatches the proposal: give it or --unit, not both");
    if (!plan && nunits == 0)
        return cli_usage(cl, "at least one --unit U (or --plan) is required");
    if (a.val[0] != NULL && (rc = cli_check_text(cl, "--note", a.val[0], FM_TEXT_MAX)) != 0)
        return rc;
    for (size_t i = 0; i < nunits; i++)
        if (units[i][0] == '\0' || strlen(units[i]) >= FM_NAME_MAX)
            return cli_usage(cl, "bad unit id or name '%s'", units[i]);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    if (plan)
        return dispatch_plan(cl, id, a.val[0], cli_flag(&a, 1));
    char full[FM_SUGGEST_MAX][FM_ID_MAX];
    const char *uids[FM_SUGGEST_MAX];
    for (size_t i = 0; i < nunits; i++) {
        if ((rc = cli_resolve(cl, FM_ENT_UNIT, units[i], full[i])) != 0)
            return rc;
        uids[i] = full[i];
    }
    return dispatch_units(cl, id, uids, nunits, a.val[0], cli_flag(&a, 1));
}

const struct cli_cmd cli_cmd_dispatch = {
    NULL, "dispatch", "ID --unit U [--unit U2 ...] [--note TEXT] [--force] | ID --plan [--note TEXT] "
    "[--force] | suggest ID [--json] | status ID [--json]",
    "dispatch units to an incident (one ticket each); or propose / show a dispatch",
    "  ID              the incident id or an unambiguous prefix\n"
    "  --unit U        a unit id (repeat for more units); prints the new ticket ids,\n"
    "                  one per line. Needs the centre or county role.\n"
    "  --plan          dispatch every unit of the current proposal (dispatch suggest)\n"
    "                  in one write and print the tickets; an empty proposal is\n"
    "                  refused (exit 1, nothing written), saying why\n"
    "  --note TEXT     a note stored with each ticket\n"
    "  --force         dispatch a unit that fits none of the category rule's needs\n"
    "                  (without it such a dispatch is refused, exit 1, saying what\n"
    "                  the unit is and what the rule needs). A unit more than 25 km\n"
    "                  from the incident (from its home station) is dispatched with\n"
    "                  a warning on stderr; so is one whose county is not the one\n"
    "                  whose boundary in the directory holds the incident.\n"
    "  suggest ID      the proposal from the directory's rules: departments and the\n"
    "                  nearest available units with the needed capability (--json)\n"
    "  status ID       coordinator (first unit to acknowledge), escalations,\n"
    "                  satisfaction and tickets of the incident (--json)\n",
    run_dispatch,
};

/* ------------------------------------------------------------------ */
/* escalate                                                            */
/* ------------------------------------------------------------------ */

static int run_escalate(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false } };
    struct cli_args a;
    unsigned raised = 0;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_workflow_tick(cl->node, fm_now_ms(), &raised);
    if (rc != 0)
        return cli_error(cl, rc, "escalation check failed: %s", fm_strerror(rc));
    if (raised)
        cli_after_write(cl);
    if (cli_flag(&a, 0))
        printf("{\"raised\": %u}\n", raised);
    else
        printf("%u escalation%s raised\n", raised, raised == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_escalate = {
    NULL, "escalate", "[--json]",
    "raise escalations for tickets nobody acknowledged in time (fieldmeshd does this each "
    "second)",
    "  Needs the centre or county role; elsewhere it raises nothing.\n"
    "  --json   {\"raised\": N}\n",
    run_escalate,
};

/* ------------------------------------------------------------------ */
/* incident feedback                                                   */
/* ------------------------------------------------------------------ */

static int run_feedback(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "score", true }, { "comment", true } };
    struct cli_args a;
    uint64_t score;
    char id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (a.val[0] == NULL)
        return cli_usage(cl, "--score is required");
    if ((rc = cli_parse_uint(cl, "--score", a.val[0], 1, 5, &score)) != 0)
        return rc;
    if (a.val[1] != NULL && (rc = cli_check_text(cl, "--comment", a.val[1], FM_TEXT_MAX)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_incident_feedback(cl->node, id, (uint8_t)score, a.val[1]);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "record feedback", "centre, county and admin nodes record "
                                                         "feedback");
    if (rc != 0)
        return cli_wf_error(cl, rc, "record feedback for", id);
    cli_after_write(cl);
    printf("%s: feedback %llu/5 recorded\n", id, (unsigned long long)score);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_feedback = {
    "incident", "feedback", "ID --score 1-5 [--comment TEXT]",
    "record the caller's satisfaction with the response",
    "  ID               the incident id or an unambiguous prefix\n"
    "  --score N        1 (very unsatisfied) .. 5 (very satisfied)\n"
    "  --comment TEXT   optional comment (at most 1023 bytes)\n",
    run_feedback,
};
