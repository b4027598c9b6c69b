/*
 * cmd_incident_edit.c — `fieldmesh incident edit ID [--priority P]
 * [--category C] [--lat X --lon Y] [--address A] [--caller PHONE]
 * [--desc TEXT]`: correct an incident's fields after the report.
 *
 * One incident.update op carrying only the fields given; each merges
 * last-writer-wins. Who may edit is a role rule every node enforces
 * (centre, county and admin nodes edit any incident, others only one they
 * reported), so a refusal here is the same one ingest would give (exit 3).
 */
#include "cli_int.h"

#include <string.h>

/* Who may edit or move an incident's status (docs/workflow.md §4). */
#define CLI_WHO_INCIDENT "centre, county and admin nodes, or the node that reported it,"

enum { ED_CATEGORY, ED_PRIORITY, ED_LAT, ED_LON, ED_ADDRESS, ED_CALLER, ED_DESC, ED_CNAME,
       ED_FORCE };
static const struct cli_opt edit_opts[] = {
    [ED_CATEGORY] = { "category", true }, [ED_PRIORITY] = { "priority", true },
    [ED_LAT] = { "lat", true },           [ED_LON] = { "lon", true },
    [ED_ADDRESS] = { "address", true },   [ED_CALLER] = { "caller", true },
    [ED_DESC] = { "desc", true },         [ED_CNAME] = { "caller-name", true },
    [ED_FORCE] = { "force", false },
};

/* The options into e; 0 or a usage error already printed. */
static int edit_parse(struct cli *cl, const struct cli_args *a, struct fm_incident_edit *e)
{
    uint64_t prio = 0;
    int rc;
    memset(e, 0, sizeof *e);
    if ((a->val[ED_LAT] == NULL) != (a->val[ED_LON] == NULL))
        return cli_usage(cl, "--lat and --lon go together");
    if (a->val[ED_PRIORITY] != NULL &&
        (rc = cli_parse_uint(cl, "--priority", a->val[ED_PRIORITY], 1, 5, &prio)) != 0)
        return rc;
    if (a->val[ED_LAT] != NULL &&
        ((rc = cli_parse_coord(cl, "--lat", a->val[ED_LAT], 90, &e->lat_e7)) != 0 ||
         (rc = cli_parse_coord(cl, "--lon", a->val[ED_LON], 180, &e->lon_e7)) != 0))
        return rc;
    if (a->val[ED_ADDRESS] != NULL &&
        (rc = cli_check_text(cl, "--address", a->val[ED_ADDRESS], FM_ADDRESS_MAX)) != 0)
        return rc;
    if (a->val[ED_CALLER] != NULL &&
        (rc = cli_check_text(cl, "--caller", a->val[ED_CALLER], FM_PHONE_MAX)) != 0)
        return rc;
    if (a->val[ED_DESC] != NULL &&
        (rc = cli_check_text(cl, "--desc", a->val[ED_DESC], FM_TEXT_MAX)) != 0)
        return rc;
    if (a->val[ED_CNAME] != NULL &&
        (rc = cli_check_text(cl, "--caller-name", a->val[ED_CNAME], FM_CALLER_NAME_MAX)) != 0)
        return rc;
    e->caller_name = a->val[ED_CNAME];
    e->category = a->val[ED_CATEGORY]; /* checked with the node open (run_edit) */
    e->priority = (uint8_t)prio;
    e->has_location = a->val[ED_LAT] != NULL;
    e->address = a->val[ED_ADDRESS];
    e->caller = a->val[ED_CALLER];
    e->desc = a->val[ED_DESC];
    if (e->category == NULL && e->priority == 0 && !e->has_location && e->address == NULL &&
        e->caller == NULL && e->caller_name == NULL && e->desc == NULL)
        return cli_usage(cl, "nothing to change: give at least one field");
    return 0;
}

static int run_edit(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_incident_edit e;
    char id[FM_ID_MAX], what[64 + FM_ID_MAX];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, edit_opts, CLI_NELEM(edit_opts), 1, 1, &a);
    if ((rc = edit_parse(cl, &a, &e)) != 0)
        return rc;
    char category[FM_CATEGORY_MAX];
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    if (e.category != NULL) {
        if ((rc = cli_category(cl, "--category", e.category, cli_flag(&a, ED_FORCE),
                               category)) != 0)
            return rc;
        e.category = category;
    }
    rc = fm_node_incident_edit(cl->node, id, &e);
    if (rc == FM_EPERM) {
        snprintf(what, sizeof what, "edit incident %s", id);
        return cli_role_error(cl, rc, what, CLI_WHO_INCIDENT " edit an incident");
    }
    if (rc == FM_ENOKEY)
        return cli_error(cl, rc,
                         "cannot edit incident %s: this node holds no dispatcher key, and the "
                         "caller is only ever stored sealed to it; nothing written (the org "
                         "admin runs `fieldmesh org dispatch-key --org ORGDIR --out FILE`, a "
                         "dispatcher node `fieldmesh -c %s trust publish FILE`)",
                         id, cl->cfg.path);
    if (rc != 0)
        return cli_error(cl, rc, "cannot edit incident %s: %s", id, fm_strerror(rc));
    cli_after_write(cl);
    printf("%s: edited\n", id);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_edit = {
    "incident", "edit",
    "ID [--priority 1-5] [--category C] [--lat X --lon Y] [--address A] [--caller PHONE] "
    "[--caller-name NAME] [--desc TEXT] [--force]",
    "change an incident's fields (centre, county, admin, or its reporter)",
    "  ID             the incident id or an unambiguous prefix\n"
    "  --priority P   1 (highest) .. 5\n"
    "  --category C   a category of the directory's rules, or an alias of one; one\n"
    "                 no rule has is refused naming the closest (--force: as typed)\n"
    "  --lat X        latitude in degrees, -90..90 (with --lon)\n"
    "  --lon Y        longitude in degrees, -180..180 (with --lat)\n"
    "  --address A    street address (at most 255 bytes)\n"
    "  --caller PHONE caller's number (at most 31 bytes; sealed to the dispatchers)\n"
    "  --caller-name NAME  caller's name (at most 63 bytes; sealed likewise)\n"
    "  --desc TEXT    description (at most 1023 bytes)\n"
    "Only the fields given change. Centre, county and admin nodes edit any\n"
    "incident; a station or vehicle only one it reported (else exit 3).\n",
    run_edit,
};
