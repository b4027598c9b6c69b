/*
 * cmd_alarm.c — `fieldmesh incident upgrade ID [--level N] [--reason T]`:
 * raise an incident's alarm level and propose what the new level adds.
 *
 * The directory's linkage plan for the category says which units each
 * alarm level calls for; the proposal counts the units already out on the
 * incident first, so what it prints after the raise is the difference —
 * `fieldmesh dispatch ID --plan` sends exactly that.
 */
#include "cli_wf.h"

#include <stdio.h>

static int run_upgrade(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "level", true }, { "reason", true } };
    struct cli_args a;
    struct fm_incident_workflow wf;
    char id[FM_ID_MAX];
    uint64_t level = 0;
    uint8_t aimed = 0;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (a.val[0] != NULL &&
        (rc = cli_parse_uint(cl, "--level", a.val[0], 2, FM_ALARM_MAX, &level)) != 0)
        return rc;
    if (a.val[1] != NULL && (rc = cli_check_text(cl, "--reason", a.val[1], FM_TEXT_MAX)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_incident_alarm(cl->node, id, (uint8_t)level, a.val[1], &aimed);
    if (rc == FM_ESTATE) {
        if (fm_node_incident_workflow(cl->node, id, &wf) != FM_OK)
            wf.alarm_level = 0;
        if (aimed > FM_ALARM_MAX)
            return cli_error(cl, rc, "cannot upgrade %s: it is at the highest alarm level (%d)",
                             id, FM_ALARM_MAX);
        return cli_error(cl, rc, "cannot upgrade %s to alarm level %u: it is already at level "
                                 "%u (levels only go up)", id, aimed, wf.alarm_level);
    }
    if (rc == FM_ECLOSED)
        return cli_error(cl, rc, "cannot upgrade %s: the incident is resolved or closed", id);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "raise an alarm level", "centre, county and admin nodes "
                                                              "raise alarm levels");
    if (rc != FM_OK)
        return cli_wf_error(cl, rc, "upgrade", id);
    cli_after_write(cl);
    printf("%s raised to alarm level %u\n", id, aimed);
    cli_wf_print_proposal(cl, id, stdout);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_upgrade = {
    "incident", "upgrade", "ID [--level N] [--reason TEXT]",
    "raise an incident's alarm level and propose the units the new level adds",
    "  ID             the incident id, code or an unambiguous prefix\n"
    "  --level N      the level to raise it to, 2 to 5 (default: one level up)\n"
    "  --reason TEXT  why, kept in the timeline\n"
    "  Prints the new level and the proposal at that level: the directory rule's\n"
    "  linkage plan (levels:) minus the units already out on the incident; send it\n"
    "  with fieldmesh dispatch ID --plan. Levels only go up (exit 1 if already\n"
    "  there); the highest level raised wins on every node. Needs the centre,\n"
    "  county or admin role.\n",
    run_upgrade,
};
