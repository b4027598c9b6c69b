/*
 * cmd_conflicts.c — `fieldmesh conflicts [--all] [--json]` and `fieldmesh
 * conflicts resolve ID [--note TEXT] [--keep cleared|cancelled|reassigned |
 * --result N]`.
 *
 * The list is computed from the merged state, so every node holding the
 * same ops prints the same list in the same order. Resolving writes an op
 * naming the conflict and the facts it saw; it gossips like any other.
 */
#include "cli_wf.h"

#include <string.h>

struct cf_ctx {
    bool json;
    struct cli_json j;
    struct cli_table t;
};

static int cf_one(void *ctx, const struct fm_conflict *c)
{
    struct cf_ctx *x = ctx;
    if (x->json) {
        char fp[2 * FM_HASH_LEN + 1];
        cli_hex(c->fingerprint, FM_HASH_LEN, fp);
        cli_json_begin_object(&x->j);
        cli_json_kstr(&x->j, "id", c->id);
        cli_json_kstr(&x->j, "kind", c->kind);
        cli_json_kstr(&x->j, "subject", c->subject);
        cli_json_kstr(&x->j, "detail", c->detail);
        cli_json_kstr(&x->j, "fingerprint", fp);
        cli_json_key(&x->j, "resolved");
        cli_json_bool(&x->j, c->resolved);
        if (c->resolved) {
            cli_json_kstr(&x->j, "resolution", c->resolution);
            cli_json_kstr(&x->j, "resolved_by", c->resolved_by);
            cli_json_kstr(&x->j, "resolved_by_name", c->resolved_by_name);
            cli_json_key(&x->j, "operator");
            if (c->resolved_operator[0])
                cli_json_string(&x->j, c->resolved_operator);
            else
                cli_json_null(&x->j);
            cli_json_key(&x->j, "decided");
            if (c->decided[0])
                cli_json_string(&x->j, c->decided);
            else
                cli_json_null(&x->j);
            cli_json_ktime(&x->j, "resolved_at", c->resolved_hlc);
        }
        cli_json_end_object(&x->j);
        return 0;
    }
    /* resolved: by whom (the node's name, the operator) and why */
    char state[FM_NAME_MAX + 64 + 32], detail[2 * FM_TEXT_MAX + sizeof c->decided + 32];
    if (c->resolved)
        snprintf(state, sizeof state, "resolved by %s%s%s%s",
                 c->resolved_by_name[0] ? c->resolved_by_name : c->resolved_by,
                 c->resolved_operator[0] ? " (operator " : "", c->resolved_operator,
                 c->resolved_operator[0] ? ")" : "");
    else
        snprintf(state, sizeof state, "open");
    snprintf(detail, sizeof detail, "%s%s%s%s%s", c->detail, c->decided[0] ? "; decided: " : "",
             c->decided, c->resolution[0] ? "; note: " : "", c->resolution);
    const char *cells[] = { c->id, c->kind, state, detail };
    return cli_table_add(&x->t, cells, 300);
}

/* Whether a decision fits conflict `id` (its kind is its id's prefix). */
static bool keep_fits(const char *id, enum fm_conflict_keep keep)
{
    if (strncmp(id, "clear-cancel:", 13) == 0)
        return keep == FM_KEEP_CLEARED || keep == FM_KEEP_CANCELLED;
    if (strncmp(id, "clear-reassign:", 15) == 0)
        return keep == FM_KEEP_CLEARED || keep == FM_KEEP_REASSIGNED;
    return strncmp(id, "results:", 8) == 0 && keep == FM_KEEP_RESULT;
}

/* What --keep / --result may say for conflict `id`, for the usage error. */
static const char *choices_for(const char *id)
{
    if (strncmp(id, "clear-cancel:", 13) == 0)
        return "--keep cleared or --keep cancelled";
    if (strncmp(id, "clear-reassign:", 15) == 0)
        return "--keep cleared or --keep reassigned";
    if (strncmp(id, "results:", 8) == 0)
        return "--result N (N as numbered in the conflict's detail)";
    return NULL;
}

static int run_resolve(struct cli *cl, int argc, char **argv)
{
    enum { R_NOTE, R_KEEP, R_RESULT };
    static const struct cli_opt opts[] = {
        [R_NOTE] = { "note", true }, [R_KEEP] = { "keep", true }, [R_RESULT] = { "result", true } };
    static const char *const keeps[] = { "cleared", "cancelled", "reassigned" };
    enum fm_conflict_keep keep = FM_KEEP_NONE;
    uint64_t result_no = 0;
    struct cli_args a;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    const char *id = a.pos[0];
    if (strlen(id) >= FM_CONFLICT_ID_MAX || id[0] == '\0')
        return cli_usage(cl, "bad conflict id '%s'", id);
    if (a.val[R_NOTE] != NULL &&
        (rc = cli_check_text(cl, "--note", a.val[R_NOTE], FM_TEXT_MAX)) != 0)
        return rc;
    if (a.val[R_KEEP] != NULL && a.val[R_RESULT] != NULL)
        return cli_usage(cl, "--keep and --result decide different conflicts: give one");
    if (a.val[R_KEEP] != NULL) {
        for (size_t k = 0; k < CLI_NELEM(keeps); k++)
            if (strcmp(a.val[R_KEEP], keeps[k]) == 0)
                keep = (enum fm_conflict_keep)(FM_KEEP_CLEARED + k);
        if (keep == FM_KEEP_NONE)
            return cli_usage(cl, "--keep '%s': say cleared, cancelled or reassigned",
                             a.val[R_KEEP]);
    }
    if (a.val[R_RESULT] != NULL) {
        if ((rc = cli_parse_uint(cl, "--result", a.val[R_RESULT], 1, 8, &result_no)) != 0)
            return rc;
        keep = FM_KEEP_RESULT;
    }
    if (keep != FM_KEEP_NONE && !keep_fits(id, keep)) {
        const char *fits = choices_for(id);
        return cli_usage(cl, "conflict %s cannot decide that: %s", id,
                         fits ? fits : "only a note (fix the facts with ticket or resource "
                                       "commands)");
    }
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_conflict_resolve(cl->node, id, a.val[R_NOTE], keep, (unsigned)result_no);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no open conflict '%s' (see fieldmesh conflicts)", id);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "resolve a conflict", "centre and county nodes resolve "
                                                            "conflicts");
    if (rc == FM_ECONFIG)
        return cli_error(cl, rc, "deciding which fact stands needs node.op_format 5, which "
                                 "only builds from this one read (docs/config.md); resolve "
                                 "with --note only, or raise op_format once every node is "
                                 "upgraded");
    if (rc == FM_EINVAL && keep == FM_KEEP_RESULT)
        return cli_error(cl, rc, "conflict %s lists fewer than %llu results (see fieldmesh "
                                 "conflicts)", id, (unsigned long long)result_no);
    if (rc == FM_ESTATE)
        return cli_error(cl, rc, "the results of %s changed while deciding: look again "
                                 "(fieldmesh conflicts)", id);
    if (rc != 0)
        return cli_wf_error(cl, rc, "resolve", id);
    cli_after_write(cl);
    printf("%s: resolved\n", id);
    return CLI_EXIT_OK;
}

static const struct cli_cmd cmd_resolve = {
    "conflicts", "resolve", "ID [--note TEXT] [--keep cleared|cancelled|reassigned | --result N]",
    "mark a conflict resolved, deciding which fact stands (dispatchers only)",
    "  ID             the conflict id from `fieldmesh conflicts`\n"
    "  --note TEXT    why (shown with the conflict)\n"
    "  --keep WHAT    clear-cancel: cleared or cancelled; clear-reassign: cleared or\n"
    "                 reassigned. The ticket then reads so in lists, show and the report\n"
    "  --result N     results: the Nth result of the conflict's detail stands\n"
    "A decision holds while the facts are those listed; new facts reopen the conflict.\n"
    "Deciding needs node.op_format 5.\n",
    run_resolve,
};

static int run_conflicts(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false }, { "all", false } };
    static const char *const headers[] = { "ID", "KIND", "STATE", "DETAIL" };
    struct cli_args a;
    struct cf_ctx x;
    int rc;
    if (argc >= 2 && strcmp(argv[1], "resolve") == 0) {
        cl->cmd = &cmd_resolve;
        return run_resolve(cl, argc - 1, argv + 1);
    }
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    memset(&x, 0, sizeof x);
    x.json = cli_flag(&a, 0);
    cli_list_begin(x.json, &x.j, &x.t, stdout, headers, CLI_NELEM(headers));
    rc = fm_node_conflicts(cl->node, cli_flag(&a, 1), cf_one, &x);
    rc = cli_list_end(x.json, &x.j, &x.t, stdout, rc);
    if (rc != 0)
        return cli_error(cl, rc, "cannot compute conflicts: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_conflicts = {
    NULL, "conflicts", "[--all] [--json] | resolve ID [--note TEXT] [--keep WHAT | --result N]",
    "list conflicts that appeared when partitions healed; resolve one",
    "  --all          include resolved conflicts\n"
    "  --json         an array of {id, kind, subject, detail, fingerprint, resolved,\n"
    "                 [resolution, resolved_by, resolved_by_name, operator, decided,\n"
    "                 resolved_at]}\n"
    "  resolve ID     mark conflict ID resolved (centre or county); --note TEXT,\n"
    "                 --keep cleared|cancelled|reassigned or --result N decide what stands\n"
    "Kinds: unit_double_booked, cleared_and_reassigned, cleared_and_cancelled,\n"
    "closing_results_differ, stock_below_zero.\n",
    run_conflicts,
};
