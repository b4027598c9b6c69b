/*
 * cmd_conflicts.c — `fieldmesh conflicts [--all] [--json]` and `fieldmesh
 * conflicts resolve ID [--note TEXT]`.
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
            cli_json_ktime(&x->j, "resolved_at", c->resolved_hlc);
        }
        cli_json_end_object(&x->j);
        return 0;
    }
    const char *cells[] = { c->id, c->kind, c->resolved ? "resolved" : "open", c->detail };
    return cli_table_add(&x->t, cells, 200);
}

static int run_resolve(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "note", true } };
    struct cli_args a;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (strlen(a.pos[0]) >= FM_CONFLICT_ID_MAX || a.pos[0][0] == '\0')
        return cli_usage(cl, "bad conflict id '%s'", a.pos[0]);
    if (a.val[0] != NULL && (rc = cli_check_text(cl, "--note", a.val[0], FM_TEXT_MAX)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_conflict_resolve(cl->node, a.pos[0], a.val[0]);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no open conflict '%s' (see fieldmesh conflicts)", a.pos[0]);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "resolve a conflict", "centre and county nodes resolve "
                                                            "conflicts");
    if (rc != 0)
        return cli_wf_error(cl, rc, "resolve", a.pos[0]);
    cli_after_write(cl);
    printf("%s: resolved\n", a.pos[0]);
    return CLI_EXIT_OK;
}

static const struct cli_cmd cmd_resolve = {
    "conflicts", "resolve", "ID [--note TEXT]", "mark a conflict resolved (dispatchers only)",
    "  ID            the conflict id from `fieldmesh conflicts`\n"
    "  --note TEXT   what was decided\n", run_resolve,
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
    NULL, "conflicts", "[--all] [--json] | resolve ID [--note TEXT]",
    "list conflicts that appeared when partitions healed; resolve one",
    "  --all          include resolved conflicts\n"
    "  --json         an array of {id, kind, subject, detail, fingerprint, resolved,\n"
    "                 [resolution, resolved_by, resolved_at]}\n"
    "  resolve ID     mark conflict ID resolved (centre or county); --note TEXT\n"
    "Kinds: unit_double_booked, cleared_and_reassigned, cleared_and_cancelled,\n"
    "closing_results_differ, stock_below_zero.\n",
    run_conflicts,
};
