/*
 * cmd_bundle.c — `fieldmesh bundle vector|export|import|keygen`: moving
 * ops by file where no link exists (a USB stick, a vehicle driving
 * between a cut-off station and the centre).
 *
 * The round trip: the cut-off node writes its vector (`bundle vector`),
 * the file travels to a connected node, which exports exactly what the
 * cut-off node lacks (`bundle export --for VECTOR`, sealed to that node
 * alone); the bundle travels back and is imported (`bundle import`)
 * through the same ingest checks as the network. Without a vector,
 * `--since DATE` (or nothing: everything) makes a bundle any enrolled node
 * can open with the organisation bundle key (`bundle keygen`, handed out
 * as <data_dir>/bundle.key with each enrollment). node/replica/bundle.c has the
 * format; docs/field-sync.md the threat model.
 */
#include "cli_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]Z" (UTC) -> ms since the epoch. */
static int parse_date(const char *s, uint64_t *out)
{
    int v[6] = {0, 0, 0, 0, 0, 0};
    static const struct {
        size_t at, len;
    } f[6] = {{0, 4}, {5, 2}, {8, 2}, {11, 2}, {14, 2}, {17, 2}};
    size_t n = strlen(s), nf;
    if (n == 10)
        nf = 3;
    else if (n == 17 && s[10] == 'T' && s[13] == ':' && s[16] == 'Z')
        nf = 5;
    else if (n == 20 && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z')
        nf = 6;
    else
        return FM_EINVAL;
    if (s[4] != '-' || s[7] != '-')
        return FM_EINVAL;
    for (size_t i = 0; i < nf; i++)
        for (size_t k = 0; k < f[i].len; k++) {
            char c = s[f[i].at + k];
            if (c < '0' || c > '9')
                return FM_EINVAL;
            v[i] = v[i] * 10 + (c - '0');
        }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
        v[4] > 59 || v[5] > 59)
        return FM_EINVAL;
    /* days from civil (proleptic Gregorian) */
    int y = v[0] - (v[1] <= 2), m = v[1];
    int era = y / 400, yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + v[2] - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    *out = (uint64_t)(((days * 24 + v[3]) * 60 + v[4]) * 60 + v[5]) * 1000;
    return FM_OK;
}

static void print_exporter(const struct fm_bundle_info *info)
{
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(info->exporter, key);
    fprintf(stderr, "  from %s (%s)\n", info->exporter_name, key);
}

/* ---- vector ---- */

static int run_vector(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 1, 1, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_vector_write(cl->node, a.pos[0]);
    if (rc != 0)
        return cli_error(cl, rc, "cannot write %s: %s", a.pos[0], fm_strerror(rc));
    fprintf(stderr, "fieldmesh bundle vector: wrote what this node holds to %s; carry it to a "
                    "node that has what this one lacks and run there:\n"
                    "  fieldmesh bundle export BUNDLE --for %s\n", a.pos[0], a.pos[0]);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_bundle_vector = {
    "bundle", "vector", "FILE", "write this node's version vector (what it holds) to FILE",
    "FILE names this node and, per author, how many of its ops this node holds.\n"
    "Another node uses it with `bundle export --for FILE` to write exactly what\n"
    "this node lacks, sealed to this node.\n",
    run_vector,
};

/* ---- export ---- */

enum { EX_FOR, EX_SINCE, EX_KEY };
static const struct cli_opt export_opts[] = {
    [EX_FOR] = {"for", true}, [EX_SINCE] = {"since", true}, [EX_KEY] = {"key", true}};

static int run_export(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_bundle_opts o = {0};
    struct fm_bundle_info info;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, export_opts, CLI_NELEM(export_opts), 1, 1, &a);
    if (a.val[EX_FOR] && a.val[EX_SINCE])
        return cli_usage(cl, "give --for or --since, not both");
    if (a.val[EX_SINCE] && parse_date(a.val[EX_SINCE], &o.since_ms) != FM_OK)
        return cli_usage(cl, "--since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z (UTC), not "
                             "'%s'", a.val[EX_SINCE]);
    o.for_vector = a.val[EX_FOR];
    o.key_path = a.val[EX_KEY];
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    struct cli_progress line;
    cli_progress_node_begin(&line, cl->node, "exporting the ops");
    rc = fm_node_bundle_export(cl->node, a.pos[0], &o, &info);
    cli_progress_node_end(&line, cl->node);
    if (rc == FM_ENOTFOUND && !o.for_vector) {
        char def[FM_PATH_MAX + 16];
        snprintf(def, sizeof def, "%s/bundle.key", cl->cfg.data_dir);
        return cli_error(cl, rc,
                         "no organisation bundle key at %s (create one with `fieldmesh bundle "
                         "keygen --org ORGDIR` and install it as %s, or use --for VECTOR)",
                         o.key_path ? o.key_path : def, def);
    }
    if (o.for_vector && (rc == FM_EFOREIGN || rc == FM_EREVOKED || rc == FM_EEXPIRED ||
                         rc == FM_EVERIFY || rc == FM_ECERT)) {
        char key[FM_KEY_TEXT_LEN];
        fm_key_encode(info.exporter, key);
        return cli_error(cl, rc,
                         "refusing to export for %s: the node it names (%s) %s; nothing "
                         "written", o.for_vector, key,
                         rc == FM_EREVOKED   ? "is revoked"
                         : rc == FM_EEXPIRED ? "has no certificate valid now"
                         : rc == FM_EVERIFY  ? "did not sign it (unsigned, from an older "
                                               "build, or altered: write it again with "
                                               "`bundle vector`)"
                                             : "is not a node of this organisation (its "
                                               "certificate is missing or foreign)");
    }
    if (rc == FM_EDECODE && o.for_vector)
        return cli_error(cl, rc, "%s is not a vector file (from `fieldmesh bundle vector`)",
                         o.for_vector);
    if (rc != 0)
        return cli_error(cl, rc, "cannot export: %s", fm_strerror(rc));
    printf("%llu\n", (unsigned long long)info.ops);
    fprintf(stderr, "fieldmesh bundle export: %llu op(s) of %u author(s) written to %s, %s\n",
            (unsigned long long)info.ops, info.authors, a.pos[0],
            info.sealed_to_node ? "sealed to the node of the vector file"
                                : "sealed to the organisation bundle key");
    if (info.truncated)
        fprintf(stderr, "fieldmesh bundle export: the bundle is full; export again after it "
                        "was imported\n");
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_bundle_export = {
    "bundle", "export", "FILE [--for VECTOR | --since DATE] [--key KEYFILE]",
    "write a signed, encrypted bundle of ops to FILE",
    "  --for VECTOR   only what the node of VECTOR (`bundle vector`) lacks; sealed\n"
    "                 to that node's key: no other node can open it\n"
    "  --since DATE   ops stamped at or after DATE (YYYY-MM-DD or\n"
    "                 YYYY-MM-DDTHH:MM[:SS]Z, UTC); without --for and --since:\n"
    "                 everything. Sealed to the organisation bundle key\n"
    "  --key KEYFILE  the organisation bundle key (default <data_dir>/bundle.key)\n\n"
    "Prints the number of ops. The bundle is signed by this node.\n"
    "On a terminal the ops exported so far are shown on stderr.\n",
    run_export,
};

/* ---- import ---- */

enum { IM_KEY, IM_JSON };
static const struct cli_opt import_opts[] = {[IM_KEY] = {"key", true}, [IM_JSON] = {"json", false}};

/* The message and exit code for a bundle that could not be imported
 * (rc from fm_node_bundle_import, not FM_OK). key is --key or NULL. */
static int import_failed(struct cli *cl, int rc, const char *path, const char *key,
                         const struct fm_bundle_info *info)
{
    switch (rc) {
    case FM_EVERIFY:
        return cli_error(cl, rc, "refusing %s: it is damaged or was tampered with (signature or "
                                 "encryption check failed); nothing imported", path);
    case FM_EDECODE:
        return cli_error(cl, FM_EVERIFY, "refusing %s: not a well-formed bundle (damaged or "
                                         "truncated); nothing imported", path);
    case FM_ECERT:
    case FM_EFOREIGN:
    case FM_EEXPIRED:
    case FM_EREVOKED:
        return cli_error(cl, rc, "refusing %s: its exporter is not a node of this organisation "
                                 "in good standing (%s); nothing imported", path,
                         fm_strerror(rc));
    case FM_ENOTFOUND:
        if (info->sealed_to_node)
            return cli_error(cl, rc, "cannot open %s: it is sealed to another node; nothing "
                                     "imported", path);
        return cli_error(cl, rc, "cannot open %s: this node lacks the organisation bundle key "
                                 "it was made with (%s); nothing imported", path,
                         key ? key : "<data_dir>/bundle.key");
    case FM_ETOOBIG:
        return cli_error(cl, rc, "refusing %s: larger than a bundle can be", path);
    default:
        return cli_error(cl, rc, "cannot import %s: %s", path, fm_strerror(rc));
    }
}

static void import_json(const struct fm_bundle_info *info, const struct fm_ingest_result *res)
{
    struct cli_json j;
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(info->exporter, key);
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j);
    cli_json_kstr(&j, "exporter", key);
    cli_json_kstr(&j, "exporter_name", info->exporter_name);
    cli_json_kuint(&j, "ops", info->ops);
    cli_json_kuint(&j, "stored", res->stored);
    cli_json_kuint(&j, "duplicates", res->duplicates);
    cli_json_kuint(&j, "rejected", res->rejected);
    cli_json_key(&j, "first_refusal");
    if (res->rejected)
        cli_json_string(&j, fm_strerror(res->err));
    else
        cli_json_null(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static void import_text(const struct fm_bundle_info *info, const struct fm_ingest_result *res)
{
    printf("%zu\n", res->stored);
    fprintf(stderr, "fieldmesh bundle import: %llu op(s): %zu new, %zu already held, %zu "
                    "refused%s%s\n",
            (unsigned long long)info->ops, res->stored, res->duplicates, res->rejected,
            res->rejected ? " — first: " : "", res->rejected ? fm_strerror(res->err) : "");
    for (uint32_t i = 0; i < info->n_refused_reasons; i++)
        fprintf(stderr, "  refused %llu op(s): %s\n",
                (unsigned long long)info->refused[i].count, fm_strerror(info->refused[i].err));
    print_exporter(info);
}

static int run_import(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_bundle_info info;
    struct fm_ingest_result res;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, import_opts, CLI_NELEM(import_opts), 1, 1, &a);
    if (access(a.pos[0], R_OK) != 0)
        return cli_error(cl, errno == ENOENT ? FM_ENOTFOUND : FM_EIO,
                         "cannot read %s: %s; nothing imported", a.pos[0], strerror(errno));
    /* the identity is needed to open a bundle sealed to this node */
    rc = cli_open_node(cl, FM_OPEN_IDENTITY);
    if (rc != 0)
        return rc;
    struct cli_progress line;
    cli_progress_node_begin(&line, cl->node, "importing the ops");
    rc = fm_node_bundle_import(cl->node, a.pos[0], a.val[IM_KEY], &info, &res);
    cli_progress_node_end(&line, cl->node);
    if (rc != FM_OK)
        return import_failed(cl, rc, a.pos[0], a.val[IM_KEY], &info);
    cli_after_write(cl);
    if (cli_flag(&a, IM_JSON))
        import_json(&info, &res);
    else
        import_text(&info, &res);
    if (res.rejected > 0 && res.stored == 0) {
        /* nothing could be stored because ops were refused */
        int worst = res.err;
        for (uint32_t i = 0; i < info.n_refused_reasons; i++)
            if (cli_exit_code(info.refused[i].err) == CLI_EXIT_TRUST)
                worst = info.refused[i].err;
        return cli_error(cl, worst, "nothing stored from %s: %zu op(s) refused, none stored",
                         a.pos[0], res.rejected);
    }
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_bundle_import = {
    "bundle", "import", "FILE [--key KEYFILE] [--json]",
    "take in the ops of a bundle, through the same checks as the network",
    "Verifies the exporter's signature and certificate, opens the bundle (sealed\n"
    "to this node, or with the organisation bundle key), and ingests its ops\n"
    "(each still checked: signature, chain, certificate, revocation). A bundle\n"
    "that fails any check is refused whole (exit 3). Prints the number of new\n"
    "ops. On a terminal the ops ingested so far are shown on stderr.\n\n"
    "  --key KEYFILE  the organisation bundle key (default <data_dir>/bundle.key)\n"
    "  --json         {exporter, exporter_name, ops, stored, duplicates, rejected,\n"
    "                 first_refusal}\n",
    run_import,
};

/* ---- keygen ---- */

enum { OK_ORG };
static const struct cli_opt orgkey_opts[] = {[OK_ORG] = {"org", true}};

static int run_org_key(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    char path[FM_PATH_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, orgkey_opts, CLI_NELEM(orgkey_opts), 0, 0, &a);
    if (!a.val[OK_ORG] || !a.val[OK_ORG][0])
        return cli_usage(cl, "--org is required");
    if ((rc = cli_crypto(cl)) != 0)
        return rc;
    if (snprintf(path, sizeof path, "%s/bundle.key", a.val[OK_ORG]) >= (int)sizeof path)
        return cli_error(cl, FM_ETOOBIG, "path too long");
    rc = fm_bundle_key_create(path);
    if (rc == FM_EEXISTS)
        return cli_error(cl, rc, "%s exists; not replacing it (a new key means handing it "
                                 "to every node again)", path);
    if (rc != 0)
        return cli_error(cl, rc, "cannot create %s: %s", path, fm_strerror(rc));
    printf("%s\n", path);
    fprintf(stderr, "fieldmesh bundle keygen: hand %s to every enrolled node as "
                    "<data_dir>/bundle.key (mode 0600), with its certificate\n", path);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_bundle_org_key = {
    "bundle", "keygen", "--org DIR", "create the organisation bundle key in DIR",
    "Creates DIR/bundle.key (mode 0600): the shared key that bundles made without\n"
    "--for are sealed to. Give a copy to every enrolled node (as\n"
    "<data_dir>/bundle.key) together with its certificate.\n",
    run_org_key,
};
