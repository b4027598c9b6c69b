/*
 * cli.c — the front of the `fieldmesh` command: global options, the
 * command table and dispatch, the strict option parser every command uses,
 * diagnostics with their exit codes, and opening the configured node.
 *
 * Each command lives in a cmd_*.c file as a struct cli_cmd; this file only
 * knows the list. Errors map onto a small set of exit codes (docs/cli.md)
 * so scripts can tell a usage mistake from a trust refusal or a broken
 * config.
 */
#include "cli_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* In the order `fieldmesh --help` lists them: setting up, the daily work
 * at the consoles and in the vehicles, then audit and replication. */
static const struct cli_cmd *const commands[] = {
    /* setting up */
    &cli_cmd_init,
    &cli_cmd_keygen,
    &cli_cmd_keys_seal,
    &cli_cmd_org_init,
    &cli_cmd_org_enroll,
    &cli_cmd_org_revoke,
    &cli_cmd_trust_publish,
    &cli_cmd_trust_renew,
    &cli_cmd_bundle_org_key,
    &cli_cmd_directory_check,
    &cli_cmd_directory_publish,
    &cli_cmd_directory_show,
    &cli_cmd_testbed,
    /* incidents and dispatch */
    &cli_cmd_incident_report,
    &cli_cmd_incident_list,
    &cli_cmd_incident_show,
    &cli_cmd_incident_note,
    &cli_cmd_incident_status,
    &cli_cmd_incident_edit,
    &cli_cmd_incident_feedback,
    &cli_cmd_dispatch,
    &cli_cmd_ticket_ack,
    &cli_cmd_ticket_enroute,
    &cli_cmd_ticket_arrive,
    &cli_cmd_ticket_clear,
    &cli_cmd_ticket_cancel,
    &cli_cmd_ticket_reassign,
    &cli_cmd_ticket_list,
    &cli_cmd_ticket_show,
    &cli_cmd_escalate,
    &cli_cmd_conflicts,
    /* units and materials */
    &cli_cmd_unit_register,
    &cli_cmd_unit_list,
    &cli_cmd_unit_show,
    &cli_cmd_unit_status,
    &cli_cmd_unit_position,
    &cli_cmd_resource_add,
    &cli_cmd_resource_consume,
    &cli_cmd_resource_restock,
    &cli_cmd_resource_list,
    &cli_cmd_resource_request,
    &cli_cmd_resource_allocate,
    &cli_cmd_resource_return,
    &cli_cmd_resource_requests,
    /* bulletins and assessment */
    &cli_cmd_bulletin_send,
    &cli_cmd_bulletin_list,
    &cli_cmd_bulletin_read,
    &cli_cmd_bulletin_receipts,
    &cli_cmd_report,
    /* audit and replication */
    &cli_cmd_log,
    &cli_cmd_digest,
    &cli_cmd_rebuild,
    &cli_cmd_status,
    &cli_cmd_peers,
    &cli_cmd_bundle_vector,
    &cli_cmd_bundle_export,
    &cli_cmd_bundle_import,
    /* operating the node */
    &cli_cmd_doctor,
    &cli_cmd_export_geojson,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct {
    const char *name, *summary;
} groups[] = {
    { "org", "organisation root key: create it, enroll and revoke node keys" },
    { "trust", "put a revocation into this node's log" },
    { "incident", "report, list, show and update incidents" },
    { "unit", "register units, set their status and position" },
    { "resource", "stock kept at depots: add, consume, restock, list" },
    { "ticket", "a unit's dispatch: acknowledge, en route, on scene, clear, cancel, reassign" },
    { "directory", "the organisation directory and its dispatch rules" },
    { "bulletin", "bulletins to all, a tier, department, county or unit, with read receipts" },
    { "bundle", "move ops by file where no link exists (sneakernet)" },
    { "keys", "the node's keys at rest: seal an old unsealed key" },
    { "export", "this node's data in other systems' formats (GeoJSON)" },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static const char global_usage[] =
    "usage: fieldmesh [-c CONF] [--log-level L] COMMAND [ARGS]\n"
    "       fieldmesh --help | --version | COMMAND --help\n";

/* ------------------------------------------------------------------ */
/* help                                                                */
/* ------------------------------------------------------------------ */

static void cmd_words(const struct cli_cmd *cmd, char *out, size_t cap)
{
    if (cmd->group != NULL)
        snprintf(out, cap, "%s %s", cmd->group, cmd->name);
    else
        snprintf(out, cap, "%s", cmd->name);
}

void cli_print_help(const struct cli_cmd *cmd, FILE *f)
{
    char words[64];
    cmd_words(cmd, words, sizeof(words));
    fprintf(f, "usage: fieldmesh [-c CONF] %s%s%s\n\n%s\n", words, cmd->args[0] ? " " : "",
            cmd->args, cmd->summary);
    if (cmd->help != NULL)
        fprintf(f, "\n%s", cmd->help);
    fprintf(f, "\n  -h, --help   show this help\n");
}

static void print_global_help(FILE *f)
{
    char words[64];
    fprintf(f, "%s\n", global_usage);
    fprintf(f, "fieldmesh records incidents, units and stock as signed ops in a local store\n"
               "that fieldmeshd replicates to peers.\n\n");
    fprintf(f, "global options (before COMMAND):\n"
               "  -c, --config CONF   node config (default: $FIELDMESH_CONFIG, else\n"
               "                      $XDG_CONFIG_HOME/fieldmesh/node.yaml or\n"
               "                      ~/.config/fieldmesh/node.yaml)\n"
               "  --log-level L       error | warn | info | debug (default warn)\n"
               "  -h, --help          this help; `fieldmesh COMMAND --help` for one command\n"
               "  -V, --version       print the version\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        cmd_words(commands[i], words, sizeof(words));
        fprintf(f, "  %-20s %s\n", words, commands[i]->summary);
    }
    fprintf(f, "\nexit codes: 0 ok, 1 failed, 2 usage, 3 trust refusal, 74 I/O or store error,\n"
               "78 configuration error. See docs/cli.md.\n");
}

static void print_group_help(const char *group, const char *summary, FILE *f)
{
    fprintf(f, "usage: fieldmesh [-c CONF] %s SUBCOMMAND [ARGS]\n\n%s\n\nsubcommands:\n", group,
            summary);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (commands[i]->group != NULL && strcmp(commands[i]->group, group) == 0)
            fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nRun `fieldmesh %s SUBCOMMAND --help` for details.\n", group);
}

/* ------------------------------------------------------------------ */
/* diagnostics                                                         */
/* ------------------------------------------------------------------ */

int cli_exit_code(int err)
{
    switch (err) {
    case FM_OK:
        return CLI_EXIT_OK;
    case FM_EINVAL:
        return CLI_EXIT_USAGE;
    case FM_EVERIFY:
    case FM_ECHAIN:
    case FM_ECERT:
    case FM_EFOREIGN:
    case FM_EEXPIRED:
    case FM_EREVOKED:
    case FM_EFORK:
    case FM_EPERM:
    case FM_EUNIT:
    case FM_EKEYPERM:
    case FM_EPASSPHRASE:
    case FM_ESHREDDED:
    case FM_ETAMPER:
        return CLI_EXIT_TRUST;
    case FM_ELOCKED:
    case FM_EPLAIN:
        return CLI_EXIT_CONFIG;
    case FM_EIO:
    case FM_ESTORE:
    case FM_EMAPFULL:
        return CLI_EXIT_IO;
    case FM_ECONFIG:
        return CLI_EXIT_CONFIG;
    default:
        return CLI_EXIT_FAIL;
    }
}

static void vprefix(struct cli *cl, const char *fmt, va_list ap)
{
    char words[64] = "";
    if (cl != NULL && cl->cmd != NULL)
        cmd_words(cl->cmd, words, sizeof(words));
    fprintf(stderr, "fieldmesh%s%s: ", words[0] ? " " : "", words);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage(struct cli *cl, const char *fmt, ...)
{
    char words[64] = "";
    va_list ap;
    va_start(ap, fmt);
    vprefix(cl, fmt, ap);
    va_end(ap);
    if (cl->cmd != NULL) {
        cmd_words(cl->cmd, words, sizeof(words));
        fprintf(stderr, "usage: fieldmesh [-c CONF] %s%s%s\n", words,
                cl->cmd->args[0] ? " " : "", cl->cmd->args);
        fprintf(stderr, "Try 'fieldmesh %s --help'.\n", words);
    } else {
        fputs(global_usage, stderr);
    }
    return CLI_EXIT_USAGE;
}

int cli_error(struct cli *cl, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprefix(cl, fmt, ap);
    va_end(ap);
    /* this node's own certificate ran out (bundle commands use
     * FM_EEXPIRED for other nodes' certificates) */
    if (err == FM_EEXPIRED && cl != NULL &&
        !(cl->cmd != NULL && cl->cmd->group != NULL && strcmp(cl->cmd->group, "bundle") == 0))
        fprintf(stderr, "fieldmesh: this node's certificate is not valid now; ask the admin "
                        "for a new certificate: fieldmesh org enroll --org ORGDIR --key "
                        "\"$(cat %s.pub)\" ... --out FILE, then fieldmesh trust renew FILE\n",
                cl->cfg.key_path);
    int code = cli_exit_code(err);
    return code == CLI_EXIT_OK ? CLI_EXIT_FAIL : code;
}

int cli_role_error(struct cli *cl, int err, const char *what, const char *who)
{
    const char *role = cl != NULL && cl->have_cfg ? fm_role_name(cl->cfg.role) : "?";
    return cli_error(cl, err, "cannot %s: only %s (this node is %s)", what, who, role);
}

/* ------------------------------------------------------------------ */
/* option parsing                                                      */
/* ------------------------------------------------------------------ */

static bool looks_negative_number(const char *s)
{
    return s[0] == '-' && ((s[1] >= '0' && s[1] <= '9') || (s[1] == '.' && s[2] >= '0' &&
                                                             s[2] <= '9'));
}

int cli_parse(struct cli *cl, int argc, char **argv, const struct cli_opt *opts, size_t nopts,
              size_t min_pos, size_t max_pos, struct cli_args *a)
{
    bool only_pos = false;
    memset(a, 0, sizeof(*a));
    if (nopts > CLI_MAX_OPTS || max_pos > CLI_MAX_POS)
        return cli_error(cl, FM_EINVAL, "internal error: too many options");
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (only_pos || arg[0] != '-' || arg[1] == '\0' || looks_negative_number(arg)) {
            if (a->npos >= max_pos)
                return cli_usage(cl, "unexpected argument '%s'", arg);
            a->pos[a->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_print_help(cl->cmd, stdout);
            return CLI_PARSE_HELP;
        }
        if (arg[1] != '-')
            return cli_usage(cl, "unknown option '%s' (options are long: --name)", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        size_t k;
        for (k = 0; k < nopts; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
                break;
        if (k == nopts)
            return cli_usage(cl, "unknown option '--%.*s'", (int)nlen, name);
        if (a->val[k] != NULL)
            return cli_usage(cl, "option '--%s' given twice", opts[k].name);
        if (!opts[k].has_arg) {
            if (eq != NULL)
                return cli_usage(cl, "option '--%s' takes no value", opts[k].name);
            a->val[k] = "";
        } else if (eq != NULL) {
            a->val[k] = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_usage(cl, "option '--%s' needs a value", opts[k].name);
            a->val[k] = argv[++i];
        }
    }
    if (a->npos < min_pos)
        return cli_usage(cl, "missing argument%s", min_pos - a->npos > 1 ? "s" : "");
    return 0;
}

/* ------------------------------------------------------------------ */
/* operand checks                                                      */
/* ------------------------------------------------------------------ */

int cli_parse_uint(struct cli *cl, const char *what, const char *s, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    uint64_t v;
    if (s[0] < '0' || s[0] > '9' || fm_parse_u64(s, &v) != 0 || v < min || v > max)
        return cli_usage(cl, "%s must be a whole number from %llu to %llu, not '%s'", what,
                         (unsigned long long)min, (unsigned long long)max, s);
    *out = v;
    return 0;
}

int cli_parse_coord(struct cli *cl, const char *what, const char *s, double limit, int32_t *e7)
{
    double d;
    if (fm_parse_double(s, -limit, limit, &d) != 0)
        return cli_usage(cl, "%s must be a number from %g to %g, not '%s'", what, -limit, limit,
                         s);
    *e7 = (int32_t)lround(d * 1e7);
    return 0;
}

int cli_check_text(struct cli *cl, const char *what, const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0)
        return cli_usage(cl, "%s must not be empty", what);
    if (n >= cap)
        return cli_usage(cl, "%s is too long (%zu bytes, at most %zu)", what, n, cap - 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        size_t len = cli_utf8_seq((const char *)p);
        if (len == 0)
            return cli_usage(cl, "%s is not valid UTF-8", what);
        /* C0 controls, DEL, and C1 controls (U+0080..U+009F = C2 80..C2 9F) */
        if ((len == 1 && (*p < 0x20 || *p == 0x7f)) || (len == 2 && p[0] == 0xc2 && p[1] < 0xa0))
            return cli_usage(cl, "%s contains a control character (tabs and line breaks "
                                 "included)", what);
        p += len;
    }
    return 0;
}

int cli_check_word(struct cli *cl, const char *what, const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0 || n >= cap || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        return cli_usage(cl, "%s must be 1 to %zu characters of a-z, 0-9, '_' or '-', not '%s'",
                         what, cap - 1, s);
    return 0;
}

int cli_parse_key(struct cli *cl, const char *what, const char *s, uint8_t pk[FM_PK_LEN])
{
    if (fm_key_decode(s, pk) != 0)
        return cli_usage(cl, "%s is not a key text (52 base32 characters a-z, 2-7): '%s'", what,
                         s);
    return 0;
}

/* ------------------------------------------------------------------ */
/* config and node                                                     */
/* ------------------------------------------------------------------ */

int cli_crypto(struct cli *cl)
{
    if (cl->crypto_ready)
        return 0;
    int rc = fm_crypto_init();
    if (rc != 0)
        return cli_error(cl, rc, "cannot initialise the crypto library: %s", fm_strerror(rc));
    cl->crypto_ready = true;
    return 0;
}

int cli_need_config(struct cli *cl)
{
    char path[FM_PATH_MAX];
    char err[FM_PATH_MAX + 256];
    int rc;

    if (cl->have_cfg)
        return 0;
    if (cl->conf_arg != NULL) {
        if (fm_strlcpy(path, cl->conf_arg, sizeof(path)) != 0)
            return cli_error(cl, FM_ECONFIG, "config path too long: %s", cl->conf_arg);
    } else {
        rc = fm_config_locate(path, sizeof(path));
        if (rc != 0) {
            if (path[0] == '\0')
                fprintf(stderr, "fieldmesh: no configuration found ($FIELDMESH_CONFIG is "
                                "unset and there is no home directory)\n"
                                "create one with: fieldmesh -c FILE init --org-key ORGKEY "
                                "[--name NAME] [--role ROLE]\n");
            else
                fprintf(stderr,
                        "fieldmesh: no configuration found (looked for %s)\n"
                        "create one with: fieldmesh init --org-key ORGKEY [--name NAME] "
                        "[--role ROLE]\n"
                        "  (this writes %s; ORGKEY is the key `fieldmesh org init DIR` "
                        "printed)\n",
                        path, path);
            fprintf(stderr, "or use an existing one with -c FILE or FIELDMESH_CONFIG=FILE\n");
            return CLI_EXIT_CONFIG;
        }
    }
    rc = fm_config_load(&cl->cfg, path, err, sizeof(err));
    if (rc != 0) {
        if (rc == FM_ENOTFOUND && cl->conf_arg != NULL) {
            fprintf(stderr,
                    "fieldmesh: config %s does not exist\n"
                    "create it with: fieldmesh -c %s init --org-key ORGKEY [--name NAME] "
                    "[--role ROLE]\n",
                    path, path);
            return CLI_EXIT_CONFIG;
        }
        fprintf(stderr, "fieldmesh: %s\n", err);
        return CLI_EXIT_CONFIG;
    }
    cl->have_cfg = true;
    return 0;
}

static bool path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int cli_open_node(struct cli *cl, unsigned flags)
{
    int rc = cli_need_config(cl);
    if (rc != 0)
        return rc;
    if ((rc = cli_crypto(cl)) != 0)
        return rc;
    const struct fm_config *cfg = &cl->cfg;
    rc = cli_open_sealed(cl, flags);
    if (rc >= 0)
        return rc; /* 0, or the exit code of a lock already reported */
    cl->node = NULL;
    switch (rc) {
    case FM_ESHREDDED:
        return cli_error(cl, rc, "this node's certificate is revoked: its data key is now "
                         "destroyed and the store in %s cannot be read (docs/security.md)",
                         cfg->data_dir);
    case FM_EKEYPERM:
        return cli_error(cl, rc,
                         "refusing the secret key %s: it is readable by group or others "
                         "(fix: chmod 600 %s)", cfg->key_path, cfg->key_path);
    case FM_ENOTFOUND:
        if ((flags & FM_OPEN_IDENTITY) && !path_exists(cfg->key_path))
            return cli_error(cl, rc,
                             "no node key at %s; create one with: fieldmesh -c %s keygen",
                             cfg->key_path, cfg->path);
        if ((flags & FM_OPEN_IDENTITY) && !path_exists(cfg->cert_path))
            return cli_error(cl, rc,
                             "no certificate at %s; have this node's key enrolled: fieldmesh "
                             "org enroll --org ORGDIR --key \"$(cat %s.pub)\" --name %s --role "
                             "%s --out %s",
                             cfg->cert_path, cfg->key_path, cfg->name, fm_role_name(cfg->role),
                             cfg->cert_path);
        return cli_error(cl, rc, "cannot open the store in %s: %s", cfg->data_dir,
                         fm_strerror(rc));
    case FM_ECERT:
    case FM_EFOREIGN:
    case FM_EEXPIRED:
    case FM_EVERIFY:
        return cli_error(cl, rc,
                         "certificate %s refused: %s (it must be for this node's key and "
                         "signed by trust.org_key of %s)",
                         cfg->cert_path, fm_strerror(rc), cfg->path);
    case FM_EDECODE:
        return cli_error(cl, FM_ECERT, "refusing a malformed key or certificate (%s or %s): %s",
                         cfg->key_path, cfg->cert_path, fm_strerror(rc));
    default:
        return cli_error(cl, rc, "cannot open the node in %s: %s", cfg->data_dir,
                         fm_strerror(rc));
    }
}

int cli_resolve(struct cli *cl, enum fm_entity_kind kind, const char *prefix,
                char out[FM_ID_MAX])
{
    static const char *const kind_names[] = { "", "incident", "unit", "resource",
                                              "ticket", "material request", "bulletin" };
    int rc;
    if (prefix[0] == '\0' || strlen(prefix) >= FM_ID_MAX)
        return cli_usage(cl, "bad id '%s'", prefix);
    rc = fm_node_resolve_id(cl->node, kind, prefix, out);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no %s matches '%s'", kind_names[kind], prefix);
    if (rc == FM_EAMBIGUOUS)
        return cli_error(cl, rc, "ambiguous %s id '%s': it matches %s (and maybe more); give more characters", kind_names[kind],
                         prefix, out);
    if (rc != 0)
        return cli_error(cl, rc, "cannot look up '%s': %s", prefix, fm_strerror(rc));
    return 0;
}

/* The one place that runs after every successful write. The op is already
 * durable; the nudge only makes a running daemon push it at once. No daemon
 * (FM_ENET) is normal for a field laptop: the daemon also polls the store. */
void cli_after_write(struct cli *cl)
{
    int rc = fm_node_nudge(&cl->cfg);
    if (rc != 0)
        fm_log(FM_LOG_DEBUG, "cli", "no daemon nudged: %s", fm_strerror(rc));
}

/* ------------------------------------------------------------------ */
/* dispatch                                                            */
/* ------------------------------------------------------------------ */

static int run_command(struct cli *cl, const struct cli_cmd *cmd, int argc, char **argv)
{
    cl->cmd = cmd;
    int rc = cmd->run(cl, argc, argv);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
        fprintf(stderr, "fieldmesh: cannot write output: %s\n", strerror(errno));
        rc = CLI_EXIT_IO;
    }
    return rc;
}

int cli_main(int argc, char **argv)
{
    struct cli *cl = calloc(1, sizeof(*cl));
    int i = 1, rc = CLI_EXIT_USAGE;
    if (cl == NULL) {
        fprintf(stderr, "fieldmesh: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    fm_log_set_level(FM_LOG_WARN);

    /* global options, up to the first command word */
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_global_help(stdout);
            rc = CLI_EXIT_OK;
            goto done;
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("fieldmesh %s\n", CLI_VERSION);
            rc = CLI_EXIT_OK;
            goto done;
        }
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
            strcmp(a, "--log-level") == 0) {
            if (i + 1 >= argc) {
                rc = cli_usage(cl, "option '%s' needs a value", a);
                goto done;
            }
            val = argv[++i];
        } else if (strncmp(a, "--config=", 9) == 0) {
            val = a + 9;
            a = "--config";
        } else if (strncmp(a, "--log-level=", 12) == 0) {
            val = a + 12;
            a = "--log-level";
        } else {
            rc = cli_usage(cl, "unknown global option '%s'", a);
            goto done;
        }
        if (strcmp(a, "--log-level") == 0) {
            enum fm_log_level lvl;
            if (fm_log_parse_level(val, &lvl) != 0) {
                rc = cli_usage(cl, "log level must be error, warn, info or debug, not '%s'", val);
                goto done;
            }
            fm_log_set_level(lvl);
        } else {
            if (cl->conf_arg != NULL) {
                rc = cli_usage(cl, "option '-c' given twice");
                goto done;
            }
            if (val[0] == '\0') {
                rc = cli_usage(cl, "option '-c' needs a file name");
                goto done;
            }
            cl->conf_arg = val;
        }
    }
    if (i >= argc) {
        rc = cli_usage(cl, "no command given (try 'fieldmesh --help')");
        goto done;
    }
    const char *word = argv[i];
    if (strcmp(word, "help") == 0) {
        /* `fieldmesh help [GROUP [SUB]]` (`help --help` is the global help too) */
        if (i + 1 >= argc || strcmp(argv[i + 1], "--help") == 0 ||
            strcmp(argv[i + 1], "-h") == 0) {
            print_global_help(stdout);
            rc = CLI_EXIT_OK;
            goto done;
        }
        char *help_argv[3] = { argv[i + 1], i + 2 < argc ? argv[i + 2] : NULL, NULL };
        for (size_t k = 0; k < NCOMMANDS; k++) {
            const struct cli_cmd *c = commands[k];
            bool match = c->group == NULL
                             ? strcmp(c->name, help_argv[0]) == 0
                             : strcmp(c->group, help_argv[0]) == 0 && help_argv[1] != NULL &&
                                   strcmp(c->name, help_argv[1]) == 0;
            if (match) {
                cli_print_help(c, stdout);
                rc = CLI_EXIT_OK;
                goto done;
            }
        }
        for (size_t g = 0; g < NGROUPS; g++) {
            if (strcmp(groups[g].name, help_argv[0]) == 0) {
                print_group_help(groups[g].name, groups[g].summary, stdout);
                rc = CLI_EXIT_OK;
                goto done;
            }
        }
        rc = cli_usage(cl, "no such command '%s'", help_argv[0]);
        goto done;
    }
    for (size_t k = 0; k < NCOMMANDS; k++) {
        if (commands[k]->group == NULL && strcmp(commands[k]->name, word) == 0) {
            rc = run_command(cl, commands[k], argc - i, argv + i);
            goto done;
        }
    }
    for (size_t g = 0; g < NGROUPS; g++) {
        if (strcmp(groups[g].name, word) != 0)
            continue;
        const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
        if (sub != NULL && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
            print_group_help(groups[g].name, groups[g].summary, stdout);
            rc = CLI_EXIT_OK;
            goto done;
        }
        for (size_t k = 0; sub != NULL && k < NCOMMANDS; k++) {
            const struct cli_cmd *c = commands[k];
            if (c->group != NULL && strcmp(c->group, word) == 0 && strcmp(c->name, sub) == 0) {
                rc = run_command(cl, c, argc - i - 1, argv + i + 1);
                goto done;
            }
        }
        fprintf(stderr, "fieldmesh %s: %s%s%s\n", word,
                sub == NULL ? "missing subcommand" : "unknown subcommand '",
                sub == NULL ? "" : sub, sub == NULL ? "" : "'");
        print_group_help(groups[g].name, groups[g].summary, stderr);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    rc = cli_usage(cl, "unknown command '%s' (try 'fieldmesh --help')", word);
done:
    fm_node_close(&cl->node);
    free(cl);
    return rc;
}
