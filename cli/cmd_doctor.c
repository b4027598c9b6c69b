/*
 * cmd_doctor.c — `fieldmesh doctor`: checks that this node can run and
 * sync, and for each thing that is wrong prints what it is and the command
 * that fixes it. The checks themselves are in doctor_checks.c (key,
 * certificate, store, disk) and doctor_net.c (daemon, peers, clocks,
 * port); this file loads the config, runs them in order and prints the
 * findings as a list or as JSON. Exit 0 when nothing is wrong (warnings
 * allowed), 1 when a problem was found, 2 for bad usage.
 */
#include "doctor_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {
    [DOCTOR_OK] = "ok", [DOCTOR_SKIP] = "skipped", [DOCTOR_WARN] = "warn",
    [DOCTOR_PROBLEM] = "problem",
};

/* The config: located like every command's, but a failure is a finding. */
static bool doctor_load_config(struct doctor *d, struct cli *cl, char *path, size_t cap)
{
    char err[FM_PATH_MAX + 256];
    if (cl->conf_arg != NULL) {
        if (fm_strlcpy(path, cl->conf_arg, cap) != 0) {
            doctor_add(d, "config", DOCTOR_PROBLEM, NULL, "config path too long");
            return false;
        }
    } else if (fm_config_locate(path, cap) != FM_OK) {
        doctor_add(d, "config", DOCTOR_PROBLEM,
                   "fieldmesh init --org-key ORGKEY [--name NAME] [--role ROLE]",
                   "no configuration found (looked for %s)", path[0] ? path : "$HOME/.config");
        return false;
    }
    d->conf_path = path;
    err[0] = '\0';
    int rc = fm_config_load(&d->cfg, path, err, sizeof(err));
    if (rc != FM_OK) {
        char fix[DOCTOR_TEXT_MAX];
        snprintf(fix, sizeof(fix), "edit %s at the place named (see man 5 fieldmesh.yaml)", path);
        doctor_add(d, "config", DOCTOR_PROBLEM, fix, "%s", err[0] ? err : fm_strerror(rc));
        return false;
    }
    doctor_add(d, "config", DOCTOR_OK, NULL, "%s: node %s (%s), %zu peer(s)", path,
               d->cfg.name, fm_role_name(d->cfg.role), d->cfg.npeers);
    return true;
}

static void print_text(const struct doctor *d, size_t problems, size_t warnings)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct doctor_finding *f = &d->f[i];
        char what[DOCTOR_TEXT_MAX], fix[DOCTOR_TEXT_MAX];
        cli_sanitize(f->what, what, sizeof(what), DOCTOR_TEXT_MAX);
        printf("%-8s %-12s %s\n", level_names[f->level], f->check, what);
        if (f->fix[0] && f->level >= DOCTOR_WARN) {
            cli_sanitize(f->fix, fix, sizeof(fix), DOCTOR_TEXT_MAX);
            printf("%-8s %-12s   fix: %s\n", "", "", fix);
        }
    }
    if (problems == 0)
        printf("\nno problems found (%zu warning(s))\n", warnings);
    else
        printf("\n%zu problem(s), %zu warning(s)\n", problems, warnings);
}

static void print_json(const struct doctor *d, size_t problems, size_t warnings)
{
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j);
    cli_json_kuint(&j, "problems", problems);
    cli_json_kuint(&j, "warnings", warnings);
    cli_json_key(&j, "checks");
    cli_json_begin_array(&j);
    for (size_t i = 0; i < d->n; i++) {
        cli_json_begin_object(&j);
        cli_json_kstr(&j, "check", d->f[i].check);
        cli_json_kstr(&j, "status", level_names[d->f[i].level]);
        cli_json_kstr(&j, "what", d->f[i].what);
        cli_json_kstr(&j, "fix", d->f[i].fix[0] ? d->f[i].fix : NULL);
        cli_json_end_object(&j);
    }
    cli_json_end_array(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static int run_doctor(struct cli *cl, int argc, char **argv)
{
    enum { DR_JSON };
    static const struct cli_opt opts[] = { [DR_JSON] = { "json", false } };
    struct cli_args a;
    char path[FM_PATH_MAX] = "";
    size_t problems = 0, warnings = 0;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_crypto(cl)) != 0)
        return rc;
    struct doctor *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if (doctor_load_config(d, cl, path, sizeof(path))) {
        doctor_check_key(d);
        doctor_check_cert(d);
        doctor_check_store(d);
        doctor_check_daemon_and_peers(d);
        doctor_check_port(d);
        doctor_check_backup(d);
    }
    for (size_t i = 0; i < d->n; i++) {
        problems += d->f[i].level == DOCTOR_PROBLEM;
        warnings += d->f[i].level == DOCTOR_WARN;
    }
    if (cli_flag(&a, DR_JSON))
        print_json(d, problems, warnings);
    else
        print_text(d, problems, warnings);
    free(d);
    return problems ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_doctor = {
    NULL, "doctor", "[--json]",
    "check this node: config, key, certificate, disk, daemon, peers, clocks, port, backup",
    "Prints one line per check (ok, warn, problem, skipped) and, for each thing\n"
    "that is wrong, the command that fixes it. Run it as the user the daemon\n"
    "runs as (sudo -u fieldmesh fieldmesh -c /etc/fieldmesh/node.yaml doctor).\n"
    "Exit 0 when no problem was found (warnings allowed), 1 otherwise.\n\n"
    "  --json   {\"problems\": N, \"warnings\": N, \"checks\": [{\"check\", \"status\",\n"
    "           \"what\", \"fix\"}]}; fields in docs/service.md\n",
    run_doctor,
};
