/*
 * cli_open.c — how a command gets what it works on: the crypto library,
 * the node's config (with a message saying how to create one), the node's
 * keys and store, id prefixes resolved to whole ids, and the nudge to the
 * daemon after every write.
 *
 * Keys at rest (docs/security.md): a command asks the running daemon
 * first (its key socket answers only the same Unix user), so a console
 * never types the passphrase while the daemon runs. Without a daemon it
 * unlocks the keys itself with the passphrase from
 * $FIELDMESH_PASSPHRASE_FILE, trust.passphrase_file or the terminal. Wrong
 * passphrase: a clear message, exit 3, nothing touched (the store is not
 * even opened).
 */
#include "cli_wf.h" /* cli_resolve_human, cli_resolve_number */
#include "../node/console/console.h" /* fm_operator_name_ok: the Unix user as operator */

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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


/* node.time_zone: the zone tables show times in (cli_fmt_local), unless
 * TZ is set, which stays the per-command override it is everywhere else.
 * The config loader checked that the zone file exists. */
static void cli_apply_time_zone(const struct fm_config *cfg)
{
    const char *tz = getenv("TZ");
    if (cfg->time_zone[0] == '\0' || (tz != NULL && tz[0] != '\0'))
        return;
    if (setenv("TZ", cfg->time_zone, 1) == 0)
        tzset();
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
    cli_apply_time_zone(&cl->cfg);
    return 0;
}

/* --operator NAME: the ops this command writes name it (op format 2). */
static int cli_name_operator(struct cli *cl)
{
    int rc = fm_node_set_operator(cl->node, cl->operator_arg);
    if (rc == FM_OK && !fm_node_writes_operator(cl->node))
        fprintf(stderr, "fieldmesh: warning: --operator %s is not recorded: this node writes "
                "op format 1 (set node.op_format: 2 once every node of the mesh reads it)\n",
                cl->operator_arg);
    return rc;
}

/* Without --operator, the ops this command writes name the Unix user who
 * ran it, when the node writes op format 2 (issue 11: the console names
 * its operator, the CLI its user). A name that is no valid operator name
 * (or no passwd entry) names nobody: the op is still written. */
static void cli_name_unix_user(struct cli *cl)
{
    const struct passwd *pw = getpwuid(geteuid());
    if (!fm_node_writes_operator(cl->node) || pw == NULL || pw->pw_name == NULL ||
        !fm_operator_name_ok(pw->pw_name))
        return;
    if (fm_node_set_operator(cl->node, pw->pw_name) != FM_OK)
        fm_log(FM_LOG_DEBUG, "cli", "the Unix user '%s' is not recorded", pw->pw_name);
}

int cli_open_sealed(struct cli *cl, unsigned flags)
{
    const struct fm_config *cfg = &cl->cfg;
    struct fm_keys k;
    char from[FM_PATH_MAX] = "the daemon";
    if ((flags & FM_OPEN_IDENTITY) && access(cfg->key_path, F_OK) != 0)
        return FM_ENOTFOUND; /* no key yet: the caller says to run keygen */
    int rc = fm_keys_from_daemon(&k, cfg);
    if (rc == FM_ELOCKED)
        rc = fm_keys_unlock_any(&k, cfg, getenv("FIELDMESH_PASSPHRASE_FILE"), from,
                                sizeof from);
    if (rc == FM_OK) {
        rc = fm_node_open_keys(&cl->node, cfg, flags, &k);
        fm_keys_release(&k);
        if (rc == FM_OK && cl->operator_arg != NULL)
            rc = cli_name_operator(cl);
        else if (rc == FM_OK)
            cli_name_unix_user(cl);
        return rc; /* 0 or a negative fm_err for the caller to explain */
    }
    char dk[FM_PATH_MAX + 32], shred[FM_PATH_MAX + 32];
    snprintf(dk, sizeof dk, "%s/data.key", cfg->data_dir);
    snprintf(shred, sizeof shred, "%s/data.key.shredded", cfg->data_dir);
    switch (rc) {
    case FM_ELOCKED:
        if (access(dk, F_OK) != 0 && access(shred, F_OK) != 0 && access(cfg->key_path, F_OK) != 0)
            return cli_error(cl, rc, "the node's keys are locked: no daemon runs and no "
                             "passphrase was given, and this node has no keys yet (no %s): run "
                             "`fieldmesh -c %s keygen`, then have the printed key enrolled "
                             "(docs/security.md)", dk, cfg->path);
        return cli_error(cl, rc, "the node's keys are locked: start fieldmeshd, or give the "
                         "passphrase (FIELDMESH_PASSPHRASE_FILE=FILE, trust.passphrase_file, "
                         "or run on a terminal)");
    case FM_EPASSPHRASE:
        return cli_error(cl, rc, "wrong passphrase (from %s): the keys of %s did not open; "
                         "nothing was read or changed", from, cfg->data_dir);
    case FM_EPLAIN:
        return cli_error(cl, rc, "%s or the store in %s predates encryption at rest: run "
                         "`fieldmesh -c %s keys seal` (docs/security.md, migration)",
                         cfg->key_path, cfg->data_dir, cfg->path);
    case FM_ESHREDDED:
        return cli_error(cl, rc, "the data key of %s was destroyed after this node's "
                         "revocation: its store cannot be read (docs/security.md)",
                         cfg->data_dir);
    case FM_EKEYPERM: {
        struct stat st;
        const char *bad = stat(cfg->key_path, &st) == 0 && (st.st_mode & 077) ? cfg->key_path
                                                                              : from;
        return cli_error(cl, rc, "refusing the secret %s: it is readable by group or others "
                         "(fix: chmod 600 %s)", bad, bad);
    }
    default:
        return cli_error(cl, rc, "cannot unlock the keys of %s: %s", cfg->data_dir,
                         fm_strerror(rc));
    }
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
    /* a unit may be given by name (up to 64 characters, Chinese ones too) */
    size_t cap = kind == FM_ENT_UNIT ? FM_NAME_MAX : FM_ID_MAX;
    if (prefix[0] == '\0')
        return cli_usage(cl, "bad id '%s'", prefix);
    if (kind == FM_ENT_UNIT && (rc = cli_check_name(cl, "a unit id or name", prefix, cap)) != 0)
        return rc;
    if (strlen(prefix) >= cap)
        return cli_usage(cl, "bad id '%s'", prefix);
    /* a number alone: an active item's code counter first (cli_number.c) */
    int nrc = cli_resolve_number(cl, kind, prefix, out);
    if (nrc >= 0)
        return nrc;
    rc = strlen(prefix) < FM_ID_MAX ? fm_node_resolve_id(cl->node, kind, prefix, out)
                                    : FM_ENOTFOUND;
    if (rc == FM_ENOTFOUND) {
        int hrc = cli_resolve_human(cl, kind, prefix, out);
        if (hrc >= 0)
            return hrc; /* a code or a unit name, or its error (cli_hid.c) */
    }
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
