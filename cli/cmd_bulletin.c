/*
 * cmd_bulletin.c — `fieldmesh bulletin send|list|read|receipts`.
 *
 * A bulletin goes to all nodes, a tier, a department, a county or one
 * unit. Listing bulletins on a node shows them to a person, so for each
 * one addressed to this node and not yet marked, `bulletin list` records a
 * read receipt (an op that gossips back to the sender); `--no-receipts`
 * only looks. `bulletin receipts ID` shows who has read a bulletin.
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>

static int run_send(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "to", true } };
    struct cli_args a;
    char id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (a.val[0] == NULL)
        return cli_usage(cl, "--to all|tier:N|dept:D|county:C|unit:U is required");
    if ((rc = cli_check_text(cl, "--to", a.val[0], FM_NAME_MAX)) != 0 ||
        (rc = cli_check_text(cl, "TEXT", a.pos[0], FM_TEXT_MAX)) != 0)
        return rc;
    const char *to = a.val[0];
    bool ok = strcmp(to, "all") == 0 ||
              (strncmp(to, "tier:", 5) == 0 && to[5] >= '1' && to[5] <= '3' && to[6] == '\0') ||
              (strncmp(to, "dept:", 5) == 0 && to[5] != '\0') ||
              (strncmp(to, "county:", 7) == 0 && to[7] != '\0') ||
              (strncmp(to, "unit:", 5) == 0 && to[5] != '\0');
    if (!ok)
        return cli_usage(cl, "--to must be all, tier:1..3, dept:NAME, county:NAME or unit:U, "
                             "not '%s'", to);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_bulletin_send(cl->node, to, a.pos[0], id);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "send a bulletin", "centre, county, admin and station "
                                                         "nodes send bulletins");
    if (rc != 0)
        return cli_wf_error(cl, rc, "send a bulletin to", to);
    cli_after_write(cl);
    printf("%s\n", id);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_bulletin_send = {
    "bulletin", "send", "--to all|tier:N|dept:D|county:C|unit:U TEXT",
    "send a bulletin; prints its id",
    "  --to AUDIENCE   all, tier:1..3, dept:NAME, county:NAME or unit:NAME-OR-ID\n"
    "  TEXT            the message (one argument; at most 1023 bytes)\n"
    "  Needs a role other than vehicle.\n",
    run_send,
};

struct bl_ctx {
    bool json;
    struct cli_json j;
    struct cli_table t;
    char (*unread)[FM_ID_MAX];
    size_t nunread, cap;
};

static int bl_one(void *ctx, const struct fm_bulletin *b)
{
    struct bl_ctx *c = ctx;
    if (b->for_me && !b->read_by_me) {
        if (c->nunread == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 16;
            char(*nv)[FM_ID_MAX] = realloc(c->unread, cap * sizeof *nv);
            if (nv == NULL)
                return FM_ENOMEM;
            c->unread = nv;
            c->cap = cap;
        }
        fm_strlcpy(c->unread[c->nunread++], b->id, FM_ID_MAX);
    }
    if (c->json) {
        cli_json_begin_object(&c->j);
        cli_json_kstr(&c->j, "id", b->id);
        cli_json_kstr(&c->j, "to", b->audience);
        cli_json_kstr(&c->j, "text", b->text);
        cli_json_kstr(&c->j, "sender", b->sender);
        cli_json_ktime(&c->j, "sent_at", b->sent_hlc);
        cli_json_kuint(&c->j, "receipts", b->receipts);
        cli_json_key(&c->j, "for_me");
        cli_json_bool(&c->j, b->for_me);
        cli_json_end_object(&c->j);
        return 0;
    }
    char when[CLI_TIME_LEN], rc[16], from[FM_KEY_TAG_LEN + 1];
    cli_fmt_local(b->sent_hlc, false, when);
    snprintf(rc, sizeof rc, "%u", b->receipts);
    snprintf(from, sizeof from, "%.*s", FM_KEY_TAG_LEN, b->sender);
    const char *cells[] = { b->id, when, from, b->audience, b->for_me ? "yes" : "", rc, b->text };
    return cli_table_add(&c->t, cells, 80);
}

static int run_list(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false }, { "no-receipts", false } };
    static const char *const headers[] = { "ID", "SENT", "FROM", "TO", "FOR ME", "READ BY",
                                           "TEXT" };
    struct cli_args a;
    struct bl_ctx c;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    memset(&c, 0, sizeof c);
    c.json = cli_flag(&a, 0);
    cli_list_begin(c.json, &c.j, &c.t, stdout, headers, CLI_NELEM(headers));
    rc = fm_node_bulletins(cl->node, bl_one, &c);
    rc = cli_list_end(c.json, &c.j, &c.t, stdout, rc);
    if (rc == 0 && !cli_flag(&a, 1)) {
        size_t wrote = 0;
        for (size_t i = 0; i < c.nunread && rc == 0; i++) {
            rc = fm_node_bulletin_read(cl->node, c.unread[i]);
            if (rc == FM_EEXISTS)
                rc = 0;
            else if (rc == 0)
                wrote++;
        }
        if (wrote)
            cli_after_write(cl);
    }
    free(c.unread);
    if (rc != 0)
        return cli_error(cl, rc, "cannot list bulletins: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_bulletin_list = {
    "bulletin", "list", "[--json] [--no-receipts]",
    "list bulletins, recording read receipts for those addressed to this node",
    "  --json          an array of {id, to, text, sender, sent_at, receipts, for_me}\n"
    "  --no-receipts   only look: record no read receipts\n",
    run_list,
};

static int run_read(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    char id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 1, 1, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_BULLETIN, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_bulletin_read(cl->node, id);
    if (rc == FM_EEXISTS) {
        printf("%s: already read\n", id);
        return CLI_EXIT_OK;
    }
    if (rc != 0)
        return cli_wf_error(cl, rc, "record a read receipt for", id);
    cli_after_write(cl);
    printf("%s: read\n", id);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_bulletin_read = {
    "bulletin", "read", "ID", "record this node's read receipt for a bulletin",
    "  ID   the bulletin id or an unambiguous prefix\n", run_read,
};

struct rc_ctx {
    bool json;
    struct cli_json j;
    struct cli_table t;
};

static int rc_one(void *ctx, const struct fm_receipt *r)
{
    struct rc_ctx *c = ctx;
    if (c->json) {
        cli_json_begin_object(&c->j);
        cli_json_kstr(&c->j, "reader", r->reader);
        cli_json_ktime(&c->j, "read_at", r->hlc);
        cli_json_end_object(&c->j);
        return 0;
    }
    char when[CLI_TIME_LEN];
    cli_fmt_local(r->hlc, true, when);
    const char *cells[] = { r->reader, when };
    return cli_table_add(&c->t, cells, 60);
}

static int run_receipts(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false } };
    static const char *const headers[] = { "READER", "READ AT" };
    struct cli_args a;
    struct rc_ctx c;
    char id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_BULLETIN, a.pos[0], id)) != 0)
        return rc;
    memset(&c, 0, sizeof c);
    c.json = cli_flag(&a, 0);
    cli_list_begin(c.json, &c.j, &c.t, stdout, headers, CLI_NELEM(headers));
    rc = fm_node_bulletin_receipts(cl->node, id, rc_one, &c);
    rc = cli_list_end(c.json, &c.j, &c.t, stdout, rc);
    if (rc != 0)
        return cli_error(cl, rc, "cannot list receipts of %s: %s", id, fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_bulletin_receipts = {
    "bulletin", "receipts", "ID [--json]", "who has read a bulletin, and when",
    "  --json   an array of {reader, read_at}\n", run_receipts,
};
