/*
 * cmd_log.c — audit and whole-state commands: `log` prints the raw signed
 * ops, `digest` the hash of the materialized state (equal on replicas
 * holding the same ops), `rebuild` re-derives every entity from the ops.
 */
#include "cli_int.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* log                                                                 */
/* ------------------------------------------------------------------ */

struct log_ctx {
    struct cli_json json;
    struct cli_table table;
    bool as_json;
    char *hexbuf; /* 2 * FM_OP_MAX_PAYLOAD + 1 */
};

static const char *const log_headers[] = { "AUTHOR", "SEQ", "TIME", "KIND", "HASH", "SUMMARY" };

static int log_one(void *ctx, const struct fm_log_entry *e)
{
    struct log_ctx *lc = ctx;
    char when[CLI_TIME_LEN], hash[2 * FM_HASH_LEN + 1];
    const char *kind = e->kind_name != NULL ? e->kind_name : "?";
    cli_hex(e->hash, FM_HASH_LEN, hash);
    if (lc->as_json) {
        struct cli_json *j = &lc->json;
        char prev[2 * FM_HASH_LEN + 1], sig[2 * FM_SIG_LEN + 1];
        cli_hex(e->prev, FM_HASH_LEN, prev);
        cli_hex(e->sig, FM_SIG_LEN, sig);
        uint32_t plen = e->payload_len <= FM_OP_MAX_PAYLOAD ? e->payload_len : 0;
        if (e->payload != NULL)
            cli_hex(e->payload, plen, lc->hexbuf);
        else
            lc->hexbuf[0] = '\0';
        cli_json_begin_object(j);
        cli_json_kstr(j, "author", e->author);
        cli_json_kuint(j, "seq", e->seq);
        cli_json_kuint(j, "hlc", e->hlc);
        cli_json_ktime(j, "at", e->hlc);
        cli_json_kstr(j, "kind", kind);
        cli_json_kuint(j, "kind_code", e->kind);
        cli_json_kstr(j, "hash", hash);
        cli_json_kstr(j, "prev", prev);
        cli_json_kstr(j, "signature", sig);
        cli_json_kstr(j, "payload", lc->hexbuf);
        cli_json_kstr(j, "summary", e->summary);
        cli_json_end_object(j);
        return 0;
    }
    char tag[FM_KEY_TAG_LEN + 1], seq[24], shorthash[13];
    snprintf(tag, sizeof(tag), "%.*s", FM_KEY_TAG_LEN, e->author);
    snprintf(seq, sizeof(seq), "%llu", (unsigned long long)e->seq);
    snprintf(shorthash, sizeof(shorthash), "%.12s", hash);
    cli_fmt_local(e->hlc, false, when);
    const char *cells[] = { tag, seq, when, kind, shorthash, e->summary };
    return cli_table_add(&lc->table, cells, 80);
}

static int run_log(struct cli *cl, int argc, char **argv)
{
    enum { LG_AUTHOR, LG_JSON };
    static const struct cli_opt opts[] = {
        [LG_AUTHOR] = { "author", true },
        [LG_JSON] = { "json", false },
    };
    struct cli_args a;
    struct log_ctx lc;
    uint8_t author[FM_PK_LEN];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if (a.val[LG_AUTHOR] != NULL &&
        (rc = cli_parse_key(cl, "--author", a.val[LG_AUTHOR], author)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    memset(&lc, 0, sizeof(lc));
    lc.as_json = cli_flag(&a, LG_JSON);
    if (lc.as_json) {
        lc.hexbuf = malloc(2 * FM_OP_MAX_PAYLOAD + 1);
        if (lc.hexbuf == NULL)
            return cli_error(cl, FM_ENOMEM, "out of memory");
    }
    cli_list_begin(lc.as_json, &lc.json, &lc.table, stdout, log_headers, CLI_NELEM(log_headers));
    rc = fm_node_log(cl->node, a.val[LG_AUTHOR] != NULL ? author : NULL, log_one, &lc);
    rc = cli_list_end(lc.as_json, &lc.json, &lc.table, stdout, rc);
    free(lc.hexbuf);
    if (rc != 0)
        return cli_error(cl, rc, "cannot read the log: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_log = {
    NULL, "log", "[--author KEY] [--json]", "print the raw signed ops, for audit",
    "  --author KEY   only this author's ops (full public key text)\n"
    "  --json         a JSON array with every op's hash, prev, signature and payload\n"
    "                 (hex); fields in docs/cli.md\n",
    run_log,
};

/* ------------------------------------------------------------------ */
/* digest, rebuild                                                     */
/* ------------------------------------------------------------------ */

static int run_digest(struct cli *cl, int argc, char **argv)
{
    enum { DG_JSON };
    static const struct cli_opt opts[] = { [DG_JSON] = { "json", false } };
    struct cli_args a;
    uint8_t d[FM_HASH_LEN];
    char hex[2 * FM_HASH_LEN + 1];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    if ((rc = fm_node_digest(cl->node, d)) != 0)
        return cli_error(cl, rc, "cannot compute the digest: %s", fm_strerror(rc));
    cli_hex(d, sizeof(d), hex);
    if (cli_flag(&a, DG_JSON)) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        cli_json_begin_object(&j);
        cli_json_kstr(&j, "digest", hex);
        cli_json_end_object(&j);
        cli_json_finish(&j);
    } else {
        printf("%s\n", hex);
    }
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_digest = {
    NULL, "digest", "[--json]", "print the hash of this node's materialized state",
    "Two nodes holding the same ops print the same digest.\n\n"
    "  --json   {\"digest\": \"<64 hex>\"}\n",
    run_digest,
};

static int run_rebuild(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    uint8_t d[FM_HASH_LEN];
    char hex[2 * FM_HASH_LEN + 1];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    struct cli_progress line;
    cli_progress_node_begin(&line, cl->node, "re-applying the ops");
    rc = fm_node_rebuild(cl->node);
    cli_progress_node_end(&line, cl->node);
    if (rc != 0)
        return cli_error(cl, rc, "rebuild failed: %s", fm_strerror(rc));
    if ((rc = fm_node_digest(cl->node, d)) != 0)
        return cli_error(cl, rc, "cannot compute the digest: %s", fm_strerror(rc));
    cli_hex(d, sizeof(d), hex);
    printf("%s\n", hex);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_rebuild = {
    NULL, "rebuild", "", "re-derive every entity from the stored ops; prints the digest",
    "Drops the materialized incidents, units and resources and re-applies every\n"
    "stored op. The printed digest equals `fieldmesh digest` before the rebuild.\n"
    "On a terminal the ops re-applied so far are shown on stderr.\n",
    run_rebuild,
};
