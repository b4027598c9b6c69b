/*
 * cmd_eido.c — `fieldmesh export eido ID`: one incident as a NENA
 * EIDO-style JSON object (NENA-STA-021), for handing the incident to
 * another agency's system: the incident, its location (PIDF-LO by value,
 * written by node/formats/ through libxml2), its notes, and per dispatched
 * unit its ticket and status history. The header and the component names
 * follow NENA's EIDO JSON; where we did not have the standard's vocabulary
 * for a field (inside the resource components) the name is ours and
 * docs/interop.md says so. JSON goes through the CLI's one JSON writer.
 */
#include "cli_wf.h"

#include "../node/formats/formats.h"

#include <stdlib.h>
#include <string.h>

struct eido {
    struct cli_json j;
    struct cli *cl;
    const char *agency;
    char base[FM_ID_MAX + FM_NAME_MAX + 32]; /* incidentid:<id>:<agency> */
    size_t n;                                /* components written in the current list */
    int rc;
};

static void ktime(struct cli_json *j, const char *key, uint64_t hlc)
{
    char t[CLI_TIME_LEN];
    if (hlc == 0) {
        cli_json_key(j, key);
        cli_json_null(j);
        return;
    }
    cli_fmt_time(hlc, true, t);
    cli_json_kstr(j, key, t);
}

/* Every component opens with its id and the common header fields. */
static void component_begin(struct eido *e, const char *kind, uint64_t hlc)
{
    char id[sizeof e->base + 48];
    snprintf(id, sizeof id, "%s:%s:%zu", e->base, kind, e->n++);
    cli_json_begin_object(&e->j);
    cli_json_kstr(&e->j, "$id", id);
    ktime(&e->j, "LastUpdateTimeStamp", hlc);
    cli_json_kstr(&e->j, "OwningAgencyIdentifier", e->agency);
    cli_json_kstr(&e->j, "UpdatedByAgentIdentifier", e->cl->cfg.name);
}

static void incident_component(struct eido *e, const struct fm_incident *inc)
{
    char text[FM_CATEGORY_MAX];
    fm_strlcpy(text, inc->category, sizeof text);
    for (char *p = text; *p; p++)
        *p = *p == '_' ? ' ' : *p;
    cli_json_key(&e->j, "incidentComponent");
    cli_json_begin_array(&e->j);
    e->n = 0;
    component_begin(e, "incident", inc->updated_hlc);
    cli_json_kstr(&e->j, "incidentTypeInternalCode", inc->category);
    cli_json_kstr(&e->j, "incidentTypeInternalText", text);
    cli_json_key(&e->j, "incidentStatusInternalText");
    cli_json_begin_array(&e->j);
    cli_json_string(&e->j, fm_stage_name(inc->stage));
    cli_json_end_array(&e->j);
    cli_json_kuint(&e->j, "incidentPriorityInternalText", inc->priority);
    /* EIDO's common priority grows with urgency; ours is 1 (highest) .. 5 */
    cli_json_kuint(&e->j, "incidentCommonPriorityNumber",
                   inc->priority >= 1 && inc->priority <= 5 ? 12u - 2u * inc->priority : 0);
    ktime(&e->j, "incidentCreationTimeStamp", inc->reported_hlc);
    cli_json_kstr(&e->j, "incidentDescriptionText", inc->desc);
    cli_json_end_object(&e->j);
    cli_json_end_array(&e->j);
}

static int location_component(struct eido *e, const struct fm_incident *inc)
{
    char *pidf = NULL, entity[FM_ID_MAX + 16];
    snprintf(entity, sizeof entity, "pres:%s", inc->id);
    int rc = fmt_pidf_point(entity, inc->lat_e7 / 1e7, inc->lon_e7 / 1e7,
                            inc->updated_hlc >> 16, inc->address, &pidf);
    if (rc != FM_OK)
        return rc;
    cli_json_key(&e->j, "locationInformationComponent");
    cli_json_begin_array(&e->j);
    e->n = 0;
    component_begin(e, "locationinformation", inc->updated_hlc);
    cli_json_kstr(&e->j, "locationTypeDescriptionRegistryText", "IncidentLocation");
    cli_json_kstr(&e->j, "locationByValue", pidf);
    cli_json_end_object(&e->j);
    cli_json_end_array(&e->j);
    free(pidf);
    return FM_OK;
}

static int note_cb(void *ctx, const struct fm_timeline_entry *t)
{
    struct eido *e = ctx;
    /* the report and its edits may name the caller's number, which never
     * leaves (the incident component carries the description) */
    if (strcmp(t->kind, "report") == 0 || strcmp(t->kind, "update") == 0)
        return 0;
    component_begin(e, "notes", t->hlc);
    cli_json_kstr(&e->j, "notesTypeText", t->kind);
    cli_json_kstr(&e->j, "notesActionCommentsText", t->text);
    cli_json_kstr(&e->j, "notesAuthorIdentifier", t->author);
    cli_json_end_object(&e->j);
    return 0;
}

static void history_entry(struct eido *e, const struct fm_ticket_event *ev)
{
    cli_json_begin_object(&e->j);
    cli_json_kstr(&e->j, "statusText", ev->step);
    ktime(&e->j, "statusTimeStamp", ev->hlc);
    bool dispatcher = ev->behalf || strcmp(ev->step, "dispatch") == 0 ||
                      strcmp(ev->step, "reassign") == 0;
    cli_json_kstr(&e->j, "statusSourceText", ev->gps ? "gps" : dispatcher ? "dispatcher" : "unit");
    if (ev->text[0])
        cli_json_kstr(&e->j, "statusCommentText", ev->text);
    cli_json_end_object(&e->j);
}

static int history_cb(void *ctx, const struct fm_ticket_event *ev)
{
    history_entry(ctx, ev);
    return 0;
}

/* One resource component per ticket: the unit and its status history. */
static int ticket_cb(void *ctx, const struct fm_ticket *t)
{
    struct eido *e = ctx;
    struct fm_unit u;
    memset(&u, 0, sizeof u);
    if (fm_node_unit_get(e->cl->node, t->unit, &u) != FM_OK)
        fm_strlcpy(u.id, t->unit, sizeof u.id); /* not here yet: its id is still known */
    component_begin(e, "emergencyresource", t->updated_hlc);
    cli_json_kstr(&e->j, "dispatchIdentification", t->id);
    cli_json_kstr(&e->j, "emergencyResourceIdentification", u.id);
    cli_json_kstr(&e->j, "emergencyResourceName", u.name[0] ? u.name : NULL);
    cli_json_kstr(&e->j, "organizationIdentification", u.department[0] ? u.department : NULL);
    cli_json_kstr(&e->j, "emergencyResourceTypeText", u.kind[0] ? u.kind : NULL);
    cli_json_kstr(&e->j, "emergencyResourceStatusText", fm_ticket_state_name(t->state));
    ktime(&e->j, "dispatchTimeStamp", t->dispatched.hlc);
    if (t->replaces[0])
        cli_json_kstr(&e->j, "replacesDispatchIdentification", t->replaces);
    cli_json_key(&e->j, "statusHistory");
    cli_json_begin_array(&e->j);
    int rc = fm_node_ticket_history(e->cl->node, t->id, history_cb, e);
    cli_json_end_array(&e->j);
    cli_json_end_object(&e->j);
    if (rc < 0)
        e->rc = rc;
    return rc < 0 ? rc : 0;
}

static void header(struct eido *e, const struct fm_incident *inc)
{
    char tracking[sizeof e->base + 32];
    snprintf(tracking, sizeof tracking, "urn:emergency:uid:incidentid:%s:%s", inc->id, e->agency);
    cli_json_kstr(&e->j, "$id", e->base);
    cli_json_kstr(&e->j, "EIDOVersion", "1.0");
    ktime(&e->j, "LastUpdateTimeStamp", inc->updated_hlc);
    cli_json_kstr(&e->j, "OwningAgencyIdentifier", e->agency);
    cli_json_kstr(&e->j, "UpdatedByAgentIdentifier", e->cl->cfg.name);
    cli_json_kstr(&e->j, "incidentTrackingIdentifier", tracking);
    cli_json_kstr(&e->j, "reasonForIssueRegistryText", "IncidentTransfer");
    cli_json_kstr(&e->j, "issuingElementIdentification", "fieldmesh");
    cli_json_key(&e->j, "agencyComponent");
    cli_json_begin_array(&e->j);
    e->n = 0;
    component_begin(e, "agency", inc->updated_hlc);
    cli_json_kstr(&e->j, "organizationIdentification", e->agency);
    cli_json_key(&e->j, "incidentOwningAgencyIndicator");
    cli_json_bool(&e->j, true);
    cli_json_end_object(&e->j);
    cli_json_end_array(&e->j);
}

static int write_eido(struct eido *e, const struct fm_incident *inc)
{
    int rc;
    cli_json_begin_object(&e->j);
    header(e, inc);
    incident_component(e, inc);
    if ((rc = location_component(e, inc)) != FM_OK)
        return rc;
    cli_json_key(&e->j, "notesComponent");
    cli_json_begin_array(&e->j);
    e->n = 0;
    rc = fm_node_incident_timeline(e->cl->node, inc->id, note_cb, e);
    cli_json_end_array(&e->j);
    if (rc < 0)
        return rc;
    cli_json_key(&e->j, "emergencyResourceComponent");
    cli_json_begin_array(&e->j);
    e->n = 0;
    rc = fm_node_tickets(e->cl->node, inc->id, ticket_cb, e);
    cli_json_end_array(&e->j);
    cli_json_end_object(&e->j);
    cli_json_finish(&e->j);
    return rc < 0 ? rc : e->rc;
}

static int run_export_eido(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "agency", true } };
    struct cli_args a;
    char id[FM_ID_MAX], agency[FM_NAME_MAX + 16];
    struct fm_incident inc;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (a.val[0] && (rc = cli_check_text(cl, "--agency", a.val[0], FM_NAME_MAX)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    if ((rc = fm_node_incident_get(cl->node, id, &inc)) != FM_OK)
        return cli_error(cl, rc, "cannot read incident %s: %s", id, fm_strerror(rc));
    snprintf(agency, sizeof agency, "%s", a.val[0] ? a.val[0] : cl->cfg.name);
    struct eido *e = calloc(1, sizeof *e);
    if (e == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    e->cl = cl;
    e->agency = agency;
    snprintf(e->base, sizeof e->base, "incidentid:%s:%s", inc.id, agency);
    /* into memory first: a failure half way prints nothing on stdout */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem == NULL) {
        free(e);
        return cli_error(cl, FM_ENOMEM, "out of memory");
    }
    cli_json_init(&e->j, mem);
    rc = write_eido(e, &inc);
    free(e);
    if (fclose(mem) != 0 && rc == FM_OK)
        rc = FM_ENOMEM;
    if (rc == FM_OK)
        fwrite(text, 1, len, stdout);
    free(text);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot export incident %s: %s", id, fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_export_eido = {
    "export", "eido", "ID [--agency NAME]",
    "write an incident, its location, notes, units and their status history as EIDO JSON",
    "Prints one NENA EIDO-style JSON object (NENA-STA-021) for handing the incident\n"
    "to another agency's system: the incident (type, status, priority, description),\n"
    "its location as PIDF-LO by value (point and address), its notes, and one\n"
    "resource component per dispatched unit with its status history (time and whether\n"
    "the unit, a dispatcher or GPS stamped it). --agency: the owning agency's\n"
    "identifier (default the node's name). The caller's number is not exported.\n"
    "Field names: docs/interop.md.\n",
    run_export_eido,
};
