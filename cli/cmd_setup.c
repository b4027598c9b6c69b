/*
 * cmd_setup.c — getting a node ready: `init` writes a config with sane
 * defaults, `keygen` makes the node's Ed25519 identity. Enrolling the key
 * (cmd_org.c) is the third and last step before the node can write.
 */
#include "cli_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* init                                                                */
/* ------------------------------------------------------------------ */

enum { INIT_NAME, INIT_ROLE, INIT_ORG_KEY, INIT_DATA_DIR, INIT_PASS_FILE, INIT_KDF };
static const struct cli_opt init_opts[] = {
    [INIT_NAME] = { "name", true },
    [INIT_ROLE] = { "role", true },
    [INIT_ORG_KEY] = { "org-key", true },
    [INIT_DATA_DIR] = { "data-dir", true },
    [INIT_PASS_FILE] = { "passphrase-file", true },
    [INIT_KDF] = { "kdf", true },
};

/* Absolute form of a path given on the command line (relative to cwd). */
static int absolute_path(const char *in, char *out, size_t cap)
{
    char cwd[FM_PATH_MAX];
    int n;
    if (in[0] == '/')
        return fm_strlcpy(out, in, cap);
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return FM_EIO;
    while (in[0] == '.' && in[1] == '/')
        in += 2;
    n = snprintf(out, cap, "%s/%s", cwd, in);
    return n < 0 || (size_t)n >= cap ? FM_ETOOBIG : 0;
}

/* Default node name: the host name, cut to a valid name. */
static void default_name(char *out, size_t cap)
{
    char host[256];
    if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0') {
        fm_strlcpy(out, "node", cap);
        return;
    }
    host[sizeof(host) - 1] = '\0';
    char *dot = strchr(host, '.');
    if (dot != NULL && dot != host)
        *dot = '\0';
    for (char *p = host; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '-';
    (void)fm_strlcpy(out, host, cap);
}

/* Where data lives for a config at the default location: XDG data dir. */
static int default_data_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(out, cap, "%s/fieldmesh", xdg);
    else if (home != NULL && home[0] == '/')
        n = snprintf(out, cap, "%s/.local/share/fieldmesh", home);
    else
        n = snprintf(out, cap, "data");
    return n < 0 || (size_t)n >= cap ? FM_ETOOBIG : 0;
}

/* s as one shell word in single quotes (a ' inside becomes '\''), so a
 * printed next-step command can be pasted as it is. */
static void sh_quote(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    if (cap < 3) {
        if (cap)
            out[0] = '\0';
        return;
    }
    out[o++] = '\'';
    for (; *s != '\0' && o + 5 < cap; s++) {
        if (*s == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *s;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
}

/* Where the config goes: PATH or -c (not two different ones), else the
 * default location, which must not hold a config yet. *default_location
 * says the default was used without $FIELDMESH_CONFIG. */
static int init_path(struct cli *cl, const struct cli_args *a, char path[FM_PATH_MAX],
                     bool *default_location)
{
    *default_location = false;
    if (a->npos == 1 && cl->conf_arg != NULL && strcmp(a->pos[0], cl->conf_arg) != 0)
        return cli_usage(cl, "give the config path either with -c or as PATH, not both");
    if (a->npos == 1 || cl->conf_arg != NULL) {
        const char *p = a->npos == 1 ? a->pos[0] : cl->conf_arg;
        if (p[0] == '\0' || fm_strlcpy(path, p, FM_PATH_MAX) != 0)
            return cli_usage(cl, "bad config path '%s'", p);
        return 0;
    }
    if (fm_config_locate(path, FM_PATH_MAX) == 0)
        return cli_error(cl, FM_EEXISTS, "%s already exists; not overwriting it", path);
    if (path[0] == '\0')
        return cli_error(cl, FM_ECONFIG,
                         "cannot tell where the config goes ($HOME is not set); give a PATH");
    const char *env = getenv("FIELDMESH_CONFIG");
    *default_location = env == NULL || env[0] == '\0';
    return 0;
}

/* The data directory: --data-dir made absolute, else beside the default
 * config, else "data" written as-is (relative to the config file). */
static int init_data_dir(struct cli *cl, const char *opt, bool default_location,
                         struct fm_config *cfg)
{
    if (opt != NULL) {
        if (opt[0] == '\0' || absolute_path(opt, cfg->data_dir, sizeof(cfg->data_dir)) != 0)
            return cli_usage(cl, "bad --data-dir '%s'", opt);
    } else if (default_location) {
        if (default_data_dir(cfg->data_dir, sizeof(cfg->data_dir)) != 0)
            return cli_error(cl, FM_ETOOBIG, "data directory path too long");
    } else {
        fm_strlcpy(cfg->data_dir, "data", sizeof(cfg->data_dir));
    }
    return 0;
}

/* The options into cfg: name, role, organisation key, data directory,
 * passphrase file and KDF level. */
static int init_fields(struct cli *cl, const struct cli_args *a, bool default_location,
                       struct fm_config *cfg)
{
    int rc;
    if (a->val[INIT_NAME] != NULL) {
        if ((rc = cli_check_name(cl, "--name", a->val[INIT_NAME], FM_NAME_MAX)) != 0)
            return rc;
        fm_strlcpy(cfg->name, a->val[INIT_NAME], sizeof(cfg->name));
    } else {
        default_name(cfg->name, sizeof(cfg->name));
    }
    cfg->role = FM_ROLE_STATION;
    if (a->val[INIT_ROLE] != NULL &&
        (fm_role_parse(a->val[INIT_ROLE], &cfg->role) != 0 || cfg->role == FM_ROLE_NONE))
        return cli_usage(cl, "--role must be centre, county, station, vehicle or admin, not '%s'",
                         a->val[INIT_ROLE]);
    if (a->val[INIT_ORG_KEY] == NULL)
        return cli_usage(cl, "--org-key is required: the organisation's root key, as printed by "
                             "`fieldmesh org init DIR` (or in DIR/root.key.pub)");
    if ((rc = cli_parse_key(cl, "--org-key", a->val[INIT_ORG_KEY], cfg->org_pk)) != 0)
        return rc;
    if ((rc = init_data_dir(cl, a->val[INIT_DATA_DIR], default_location, cfg)) != 0)
        return rc;
    if (a->val[INIT_PASS_FILE] != NULL &&
        (a->val[INIT_PASS_FILE][0] == '\0' ||
         absolute_path(a->val[INIT_PASS_FILE], cfg->passphrase_file,
                       sizeof(cfg->passphrase_file)) != 0))
        return cli_usage(cl, "bad --passphrase-file '%s'", a->val[INIT_PASS_FILE]);
    if (a->val[INIT_KDF] != NULL && fm_kdf_level_parse(a->val[INIT_KDF], &cfg->kdf) != 0)
        return cli_usage(cl, "--kdf must be interactive, moderate, sensitive or minimal, not "
                             "'%s'", a->val[INIT_KDF]);
    return 0;
}

/* Writes the config, loads it back (removing it if it does not load) and
 * says what comes next. */
static int init_write(struct cli *cl, struct fm_config *cfg, const char *path,
                      bool default_location)
{
    char err[FM_PATH_MAX + 256];
    int rc = fm_config_write(cfg, path);
    if (rc == FM_EEXISTS)
        return cli_error(cl, rc, "%s already exists; not overwriting it", path);
    if (rc != 0)
        return cli_error(cl, rc, "cannot write %s: %s", path, fm_strerror(rc));
    /* read it back: what we wrote must load */
    rc = fm_config_load(cfg, path, err, sizeof(err));
    if (rc != 0) {
        unlink(path);
        return cli_error(cl, rc, "the written config does not load (%s); removed it", err);
    }
    printf("%s\n", path);
    char qname[4 * FM_NAME_MAX + 3];
    sh_quote(cfg->name, qname, sizeof(qname));
    fprintf(stderr,
            "fieldmesh init: wrote %s (node '%s', role %s, data in %s)\n"
            "next: fieldmesh%s%s keygen, then have the printed key enrolled with\n"
            "      fieldmesh org enroll --org ORGDIR --key KEY --name %s --role %s --out %s\n",
            path, cfg->name, fm_role_name(cfg->role), cfg->data_dir,
            default_location ? "" : " -c ", default_location ? "" : path, qname,
            fm_role_name(cfg->role), cfg->cert_path);
    return CLI_EXIT_OK;
}

static int run_init(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    char path[FM_PATH_MAX];
    bool default_location = false;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, init_opts, CLI_NELEM(init_opts), 0, 1, &a);
    fm_config_defaults(&cl->cfg);
    if ((rc = init_path(cl, &a, path, &default_location)) != 0 ||
        (rc = init_fields(cl, &a, default_location, &cl->cfg)) != 0)
        return rc;
    return init_write(cl, &cl->cfg, path, default_location);
}

const struct cli_cmd cli_cmd_init = {
    NULL, "init", "[--name N] [--role R] --org-key KEY [--data-dir D] [--passphrase-file F] [--kdf K] [PATH]",
    "create a node config with sane defaults",
    "Writes PATH (default: -c CONF, else $FIELDMESH_CONFIG, else\n"
    "$XDG_CONFIG_HOME/fieldmesh/node.yaml or ~/.config/fieldmesh/node.yaml).\n"
    "Never overwrites an existing file. Prints the path written.\n\n"
    "  --name N       node name (default: the host name)\n"
    "  --role R       centre | county | station | vehicle | admin (default station)\n"
    "  --org-key KEY  the organisation's root public key (`fieldmesh org init` prints it)\n"
    "  --data-dir D   where the store, key and certificate live (default: data/ next\n"
    "                 to the config, or ~/.local/share/fieldmesh for the default config)\n"
    "  --passphrase-file F  trust.passphrase_file: the passphrase or key file that\n"
    "                 unlocks the node's sealed keys (default: asked on the terminal;\n"
    "                 point it at removable media, never next to the data)\n"
    "  --kdf K        trust.kdf: interactive (default) | moderate | sensitive |\n"
    "                 minimal (tests and demos only)\n",
    run_init,
};

/* ------------------------------------------------------------------ */
/* keygen                                                              */
/* ------------------------------------------------------------------ */

static int parent_dir(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return fm_strlcpy(out, slash == path ? "/" : ".", cap);
    size_t n = (size_t)(slash - path);
    if (n >= cap)
        return FM_ETOOBIG;
    memcpy(out, path, n);
    out[n] = '\0';
    return 0;
}

static bool path_exists_(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* A new identity and data key sealed under the passphrase: 0, a negative
 * fm_err, or a positive exit code after reporting a missing passphrase. */
static int keygen_sealed(struct cli *cl, uint8_t pk[FM_PK_LEN])
{
    static uint8_t secret[4096];
    char from[FM_PATH_MAX];
    size_t len = 0;
    int rc = fm_passphrase_find(&cl->cfg, getenv("FIELDMESH_PASSPHRASE_FILE"), true, secret,
                                sizeof secret, &len, from, sizeof from);
    if (rc == FM_OK)
        rc = fm_keys_generate(&cl->cfg, secret, len, NULL, pk);
    else if (rc == FM_ELOCKED)
        rc = cli_error(cl, rc, "no passphrase to seal the new key with: run on a terminal, "
                       "or set FIELDMESH_PASSPHRASE_FILE or trust.passphrase_file (a key "
                       "file on removable media works too)");
    else if (rc == FM_EPASSPHRASE)
        rc = cli_error(cl, rc, "the two passphrases differ; nothing was written");
    else
        rc = cli_error(cl, rc, "cannot read the passphrase from %s: %s", from,
                       fm_strerror(rc));
    fm_wipe(secret, sizeof secret);
    return rc;
}

static int run_keygen(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    char dir[FM_PATH_MAX], text[FM_KEY_TEXT_LEN], pub[FM_PATH_MAX + 8];
    uint8_t pk[FM_PK_LEN];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 0, 0, &a);
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_crypto(cl)) != 0)
        return rc;
    const struct fm_config *cfg = &cl->cfg;
    if (parent_dir(cfg->key_path, dir, sizeof(dir)) != 0 || fm_mkdirs(dir) != 0)
        return cli_error(cl, FM_EIO, "cannot create the directory for %s: %s", cfg->key_path,
                         strerror(errno));
    if (path_exists_(cfg->key_path))
        rc = FM_EEXISTS;
    else
        rc = keygen_sealed(cl, pk);
    if (rc > 0)
        return rc; /* the passphrase was not there: reported */
    if (rc == FM_EEXISTS) {
        snprintf(pub, sizeof(pub), "%s.pub", cfg->key_path);
        if (fm_key_read_file(pub, pk) == 0) {
            fm_key_encode(pk, text);
            return cli_error(cl, rc, "a node key already exists at %s (public key %s); "
                                     "not replacing it", cfg->key_path, text);
        }
        return cli_error(cl, rc, "a node key already exists at %s; not replacing it",
                         cfg->key_path);
    }
    if (rc != 0)
        return cli_error(cl, rc, "cannot save the key to %s: %s", cfg->key_path,
                         fm_strerror(rc));
    fm_key_encode(pk, text);
    printf("%s\n", text);
    char qname[4 * FM_NAME_MAX + 3];
    sh_quote(cfg->name, qname, sizeof(qname));
    fprintf(stderr,
            "fieldmesh keygen: secret key in %s (mode 0600), public key in %s.pub\n"
            "next: on the organisation's offline machine run\n"
            "      fieldmesh org enroll --org ORGDIR --key %s --name %s --role %s --out "
            "node.cert\n      and copy node.cert to %s\n",
            cfg->key_path, cfg->key_path, text, qname, fm_role_name(cfg->role),
            cfg->cert_path);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_keygen = {
    NULL, "keygen", "", "create this node's identity key and print its public key",
    "Creates the Ed25519 secret key at trust.key (default <data_dir>/node.key, mode\n"
    "0600) and <key>.pub, and prints the public key text on stdout. Refuses to\n"
    "replace an existing key. The key, and the data key that seals the store\n"
    "(<data_dir>/data.key), are sealed under a passphrase (Argon2id at trust.kdf):\n"
    "from $FIELDMESH_PASSPHRASE_FILE, trust.passphrase_file, or asked twice on the\n"
    "terminal (docs/security.md).\n",
    run_keygen,
};
