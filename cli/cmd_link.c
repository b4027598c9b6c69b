/*
 * cmd_link.c — the same emergency called in twice: the "possible
 * duplicate" lines `incident report` prints after the proposal, and
 * `fieldmesh incident link DUP --to OTHER`, which folds the duplicate into
 * the incident it repeats, and `fieldmesh incident merge DUP --into OTHER`,
 * which moves everything of an incident opened twice onto the survivor
 * (node/workflow/duplicates.c, node/model/merge.c).
 */
#include "cli_wf.h"

#include <string.h>

struct dup_print {
    const char *incident;
    size_t n;
};

static int dup_line(void *ctx, const struct fm_duplicate *d)
{
    struct dup_print *p = ctx;
    char code[FM_HID_MAX];
    unsigned long long s = (unsigned long long)d->apart_s;
    const char *c = cli_hid(d->id, code);
    fprintf(stderr, "possible duplicate of %s (%s, priority %u, %s): %.0f m away, reported "
                    "%llum%02llus %s; if it is the same emergency: fieldmesh incident link %s "
                    "--to %s\n",
            c[0] ? c : d->id, d->id, d->priority, fm_stage_name(d->stage), d->distance_m,
            s / 60, s % 60, d->earlier ? "before" : "after", p->incident, c[0] ? c : d->id);
    p->n++;
    return p->n >= 5 ? 1 : 0; /* the nearest five are enough to decide */
}

void cli_link_print_duplicates(struct cli *cl, const char *incident)
{
    struct dup_print p = { incident, 0 };
    cli_hid_prepare(cl);
    /* 0, 0: the directory's bounds (its duplicates: section), or the built-in */
    int rc = fm_node_incident_duplicates(cl->node, incident, 0, 0, dup_line, &p);
    if (rc < 0)
        fprintf(stderr, "warning: cannot look for duplicate calls: %s\n", fm_strerror(rc));
}

static int run_link(struct cli *cl, int argc, char **argv)
{
    enum { LK_TO, LK_CANCEL };
    static const struct cli_opt opts[] = { [LK_TO] = { "to", true },
                                           [LK_CANCEL] = { "cancel-tickets", false } };
    struct cli_args a;
    char dup[FM_ID_MAX], into[FM_ID_MAX];
    size_t nactive = 0;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (a.val[LK_TO] == NULL)
        return cli_usage(cl, "--to OTHER is required (the incident this call repeats)");
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], dup)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.val[LK_TO], into)) != 0)
        return rc;
    if (strcmp(dup, into) == 0)
        return cli_usage(cl, "an incident cannot be linked to itself");
    rc = fm_node_incident_link(cl->node, dup, into, cli_flag(&a, LK_CANCEL), &nactive);
    if (rc == FM_ESTATE && nactive > 0)
        return cli_error(cl, rc, "cannot link %s: %zu unit(s) still hold active tickets on it; "
                                 "cancel them in the same write with --cancel-tickets (then "
                                 "dispatch to %s what it still needs: fieldmesh dispatch "
                                 "suggest %s)", dup, nactive, into, into);
    if (rc == FM_ESTATE)
        return cli_error(cl, rc, "cannot link %s: it is already resolved or closed", dup);
    if (rc == FM_ECLOSED)
        return cli_error(cl, rc, "cannot link %s to %s: %s is resolved or closed (reopen it, "
                                 "or link the other way round)", dup, into, into);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "link these incidents",
                              "centre, county and admin nodes, or the node that reported the "
                              "duplicate, close it; only centre and county cancel tickets");
    if (rc != 0)
        return cli_wf_error(cl, rc, "link", dup);
    cli_after_write(cl);
    printf("%s: linked to %s and closed", dup, into);
    if (nactive > 0)
        printf(" (%zu ticket(s) cancelled)", nactive);
    printf("\n");
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_link = {
    "incident", "link", "DUP --to OTHER [--cancel-tickets]",
    "fold a duplicate call into the incident it repeats",
    "  DUP      the duplicate incident (id, prefix or code)\n"
    "  --to OTHER\n"
    "           the incident it repeats (must be open); gets a note with the\n"
    "           duplicate's address and description (caller details stay on it)\n"
    "  --cancel-tickets\n"
    "           cancel the duplicate's active tickets in the same write (without\n"
    "           it a duplicate with units out on it is refused, exit 1)\n"
    "One transaction: a note on each incident and DUP closed. `incident report`\n"
    "names possible duplicates (same or related category, within 300 m and 30\n"
    "minutes unless the directory's duplicates: section says otherwise).\n",
    run_link,
};

/* The incident named on the command line itself, not its survivor: a
 * merged incident's id otherwise resolves to where it went. */
static int resolve_self(struct cli *cl, const char *arg, char out[FM_ID_MAX])
{
    if (strlen(arg) < FM_ID_MAX && fm_node_resolve_exact_id(cl->node, FM_ENT_INCIDENT, arg, out) == 0)
        return 0;
    return cli_resolve(cl, FM_ENT_INCIDENT, arg, out); /* a code or a number */
}

static int merge_error(struct cli *cl, int rc, const char *dup, const char *into)
{
    switch (rc) {
    case FM_ESTATE:
        return cli_error(cl, rc, "%s is merged already, into %s: its id names that incident "
                                 "now", dup, into);
    case FM_EINVAL:
        return cli_error(cl, rc, "cannot merge %s into itself (or into an incident merged "
                                 "into it)", dup);
    case FM_ECLOSED:
        return cli_error(cl, rc, "cannot merge %s into %s: %s is resolved or closed (reopen "
                                 "it, or merge the other way round)", dup, into, into);
    case FM_EPERM:
        return cli_role_error(cl, rc, "merge incidents", "centre and county nodes (merging "
                              "moves tickets between incidents, a dispatch decision)");
    case FM_ECONFIG:
        return cli_error(cl, rc, "incident merge writes an op kind that builds before op "
                                 "format 3 refuse: set node.op_format: 3 in %s once every "
                                 "node of the mesh runs this version (docs/decisions.md)",
                         cl->cfg.path);
    default:
        return cli_wf_error(cl, rc, "merge", dup);
    }
}

static int run_merge(struct cli *cl, int argc, char **argv)
{
    enum { MG_INTO, MG_REASON };
    static const struct cli_opt opts[] = { [MG_INTO] = { "into", true },
                                           [MG_REASON] = { "reason", true } };
    struct cli_args a;
    char dup[FM_ID_MAX], into[FM_ID_MAX], dup_id[FM_ID_MAX], into_id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (a.val[MG_INTO] == NULL)
        return cli_usage(cl, "--into OTHER is required (the incident that stays)");
    const char *reason = a.val[MG_REASON];
    if (reason != NULL && (reason[0] == '\0' || strlen(reason) >= FM_TEXT_MAX))
        return cli_usage(cl, "--reason must be 1..%d bytes", FM_TEXT_MAX - 1);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = resolve_self(cl, a.pos[0], dup)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.val[MG_INTO], into)) != 0)
        return rc;
    rc = fm_node_incident_merge(cl->node, dup, into, reason, dup_id, into_id);
    if (rc != 0)
        return merge_error(cl, rc, dup_id[0] ? dup_id : dup, into_id[0] ? into_id : into);
    cli_after_write(cl);
    struct fm_incident s;
    if (fm_node_incident_get(cl->node, into_id, &s) == 0)
        printf("%s: merged into %s, which now stands for %u call%s; its tickets, notes and "
               "feedback count there\n", dup_id, into_id, s.calls, s.calls == 1 ? "" : "s");
    else
        printf("%s: merged into %s\n", dup_id, into_id);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_merge = {
    "incident", "merge", "DUP --into OTHER [--reason TEXT]",
    "fold an incident opened twice into the one that stays",
    "  DUP      the incident opened twice (id, prefix or code)\n"
    "  --into OTHER\n"
    "           the incident that stays (must be open; if it was merged itself,\n"
    "           the one it went to)\n"
    "  --reason TEXT\n"
    "           why, in the timeline (1..1023 bytes)\n"
    "One incident.merge op (centre and county). From then on, on every node,\n"
    "DUP's tickets, notes and feedback count on OTHER, DUP's id and code name\n"
    "OTHER, OTHER's call count includes DUP, and reports count the incident\n"
    "once (DUP as a duplicate). Two merges of one incident: the earlier stands.\n"
    "Two dispatchers merging each into the other while apart end at the\n"
    "earlier report on every node. Needs node.op_format: 3 (below: exit 78).\n",
    run_merge,
};
