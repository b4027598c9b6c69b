/*
 * cli.c — the front of the `fieldmesh` command: global options, the
 * command table, the global and group help, and dispatch to a command.
 *
 * Each command lives in a cmd_*.c file as a struct cli_cmd; this file only
 * knows the list. The commands call down into cli_args.c (the strict
 * option parser and diagnostics with their exit codes) and cli_open.c
 * (config, keys and node), never back up into this file.
 */
#include "cli_int.h"
#include "../node/console/console.h" /* fm_operator_name_ok: --operator */

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
    &cli_cmd_org_dispatch_key,
    &cli_cmd_trust_publish,
    &cli_cmd_trust_renew,
    &cli_cmd_bundle_org_key,
    &cli_cmd_directory_check,
    &cli_cmd_directory_publish,
    &cli_cmd_directory_show,
    &cli_cmd_directory_import_csv,
    &cli_cmd_directory_import_geojson,
    &cli_cmd_testbed,
    /* incidents and dispatch */
    &cli_cmd_incident_report,
    &cli_cmd_incident_list,
    &cli_cmd_incident_show,
    &cli_cmd_incident_note,
    &cli_cmd_incident_status,
    &cli_cmd_incident_edit,
    &cli_cmd_incident_feedback,
    &cli_cmd_incident_link,
    &cli_cmd_incident_merge,
    &cli_cmd_incident_upgrade,
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
    &cli_cmd_backup,
    &cli_cmd_restore,
    &cli_cmd_export_geojson,
    &cli_cmd_export_cap,
    &cli_cmd_export_eido,
    &cli_cmd_import_cap,
    &cli_cmd_operator_add,
    &cli_cmd_operator_passwd,
    &cli_cmd_operator_list,
    &cli_cmd_operator_remove,
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
    { "export", "this node's data in other systems' formats (GeoJSON, CAP 1.2, EIDO)" },
    { "import", "other systems' data into this node (CAP 1.2 alerts)" },
    { "operator", "who may log in to this node's browser console: add, passwd, list, remove" },
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

/* ------------------------------------------------------------------ */
/* help                                                                */
/* ------------------------------------------------------------------ */

static void print_global_help(FILE *f)
{
    char words[64];
    fprintf(f, "%s\n", cli_global_usage);
    fprintf(f, "fieldmesh records incidents, units and stock as signed ops in a local store\n"
               "that fieldmeshd replicates to peers.\n\n");
    fprintf(f, "global options (before COMMAND):\n"
               "  -c, --config CONF   node config (default: $FIELDMESH_CONFIG, else\n"
               "                      $XDG_CONFIG_HOME/fieldmesh/node.yaml or\n"
               "                      ~/.config/fieldmesh/node.yaml)\n"
               "  --log-level L       error | warn | info | debug (default warn)\n"
               "  --operator NAME     name the person at this node in the ops this command\n"
               "                      writes (needs node.op_format: 2 in the config)\n"
               "  -h, --help          this help; `fieldmesh COMMAND --help` for one command\n"
               "  -V, --version       print the version\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        cli_cmd_words(commands[i], words, sizeof(words));
        fprintf(f, "  %-21s %s%s\n", words, strlen(words) >= 21 ? " " : "", commands[i]->summary);
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

#define GO_ON (-1) /* a step returns this to let cli_main go on */

/* One global option at argv[*i] (and its value): GO_ON or an exit code. */
static int parse_global(struct cli *cl, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *val = NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        print_global_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
        printf("fieldmesh %s\n", CLI_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 || strcmp(a, "--log-level") == 0 ||
        strcmp(a, "--operator") == 0) {
        if (*i + 1 >= argc)
            return cli_usage(cl, "option '%s' needs a value", a);
        val = argv[++*i];
    } else if (strncmp(a, "--config=", 9) == 0) {
        val = a + 9;
        a = "--config";
    } else if (strncmp(a, "--log-level=", 12) == 0) {
        val = a + 12;
        a = "--log-level";
    } else if (strncmp(a, "--operator=", 11) == 0) {
        val = a + 11;
        a = "--operator";
    } else {
        return cli_usage(cl, "unknown global option '%s'", a);
    }
    if (strcmp(a, "--log-level") == 0) {
        enum fm_log_level lvl;
        if (fm_log_parse_level(val, &lvl) != 0)
            return cli_usage(cl, "log level must be error, warn, info or debug, not '%s'", val);
        fm_log_set_level(lvl);
        return GO_ON;
    }
    if (strcmp(a, "--operator") == 0) {
        if (cl->operator_arg != NULL)
            return cli_usage(cl, "option '--operator' given twice");
        if (!fm_operator_name_ok(val))
            return cli_usage(cl, "bad operator name '%s': 1..63 bytes of printable UTF-8 "
                             "without spaces or ':'", val);
        cl->operator_arg = val;
        return GO_ON;
    }
    if (cl->conf_arg != NULL)
        return cli_usage(cl, "option '-c' given twice");
    if (val[0] == '\0')
        return cli_usage(cl, "option '-c' needs a file name");
    cl->conf_arg = val;
    return GO_ON;
}

/* `fieldmesh help [GROUP [SUB]]` (`help --help` is the global help too);
 * args are the words after `help`. */
static int run_help(struct cli *cl, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        print_global_help(stdout);
        return CLI_EXIT_OK;
    }
    const char *word = argv[0], *sub = argc > 1 ? argv[1] : NULL;
    for (size_t k = 0; k < NCOMMANDS; k++) {
        const struct cli_cmd *c = commands[k];
        bool match = c->group == NULL ? strcmp(c->name, word) == 0
                                      : strcmp(c->group, word) == 0 && sub != NULL &&
                                            strcmp(c->name, sub) == 0;
        if (match) {
            cli_print_help(c, stdout);
            return CLI_EXIT_OK;
        }
    }
    for (size_t g = 0; g < NGROUPS; g++) {
        if (strcmp(groups[g].name, word) == 0) {
            print_group_help(groups[g].name, groups[g].summary, stdout);
            return CLI_EXIT_OK;
        }
    }
    return cli_usage(cl, "no such command '%s'", word);
}

/* `fieldmesh GROUP SUB ...` for groups[g]; args start at the group word. */
static int run_group(struct cli *cl, size_t g, int argc, char **argv)
{
    const char *word = argv[0], *sub = argc > 1 ? argv[1] : NULL;
    if (sub != NULL && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
        print_group_help(groups[g].name, groups[g].summary, stdout);
        return CLI_EXIT_OK;
    }
    for (size_t k = 0; sub != NULL && k < NCOMMANDS; k++) {
        const struct cli_cmd *c = commands[k];
        if (c->group != NULL && strcmp(c->group, word) == 0 && strcmp(c->name, sub) == 0)
            return run_command(cl, c, argc - 1, argv + 1);
    }
    fprintf(stderr, "fieldmesh %s: %s%s%s\n", word,
            sub == NULL ? "missing subcommand" : "unknown subcommand '", sub == NULL ? "" : sub,
            sub == NULL ? "" : "'");
    print_group_help(groups[g].name, groups[g].summary, stderr);
    return CLI_EXIT_USAGE;
}

/* The command word and what follows it. */
static int run_word(struct cli *cl, int argc, char **argv)
{
    const char *word = argv[0];
    if (strcmp(word, "help") == 0)
        return run_help(cl, argc - 1, argv + 1);
    for (size_t k = 0; k < NCOMMANDS; k++)
        if (commands[k]->group == NULL && strcmp(commands[k]->name, word) == 0)
            return run_command(cl, commands[k], argc, argv);
    for (size_t g = 0; g < NGROUPS; g++)
        if (strcmp(groups[g].name, word) == 0)
            return run_group(cl, g, argc, argv);
    return cli_usage(cl, "unknown command '%s' (try 'fieldmesh --help')", word);
}

int cli_main(int argc, char **argv)
{
    struct cli *cl = calloc(1, sizeof(*cl));
    int i = 1, rc = GO_ON;
    if (cl == NULL) {
        fprintf(stderr, "fieldmesh: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    fm_log_set_level(FM_LOG_WARN);
    for (; rc == GO_ON && i < argc && argv[i][0] == '-'; i++)
        rc = parse_global(cl, argc, argv, &i);
    if (rc == GO_ON && i >= argc)
        rc = cli_usage(cl, "no command given (try 'fieldmesh --help')");
    if (rc == GO_ON)
        rc = run_word(cl, argc - i, argv + i);
    fm_node_close(&cl->node);
    free(cl);
    return rc;
}
