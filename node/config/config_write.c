/*
 * config_write.c — the node configuration's defaults, writing a config
 * (for `fieldmesh init` and `testbed`) and finding the default file.
 *
 * Writing is the loader's mirror: every value goes out in the layout
 * config.c reads, strings double-quoted and escaped, paths inside the
 * file's directory written relative to it so a testbed directory can be
 * moved as a whole, and values equal to their defaults (control socket,
 * certificate, key) left out so they follow data_dir. No YAML library is
 * needed for that: strings go out through the toolkit's yk_put_quoted.
 */
#include "config_int.h"
#include "yamlkit.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fm_config_defaults(struct fm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->role = FM_ROLE_NONE;
    cfg->op_format = 1;
    cfg->map_size = DEF_MAP_SIZE_MB * MIB;
    cfg->map_max = DEF_MAP_MAX_MB * MIB;
    cfg->push_interval_ms = DEF_PUSH_INTERVAL_MS;
    cfg->anti_entropy_ms = DEF_ANTI_ENTROPY_MS;
    cfg->heartbeat_ms = DEF_HEARTBEAT_MS;
    cfg->batch_ops = DEF_BATCH_OPS;
    cfg->max_skew_ms = DEF_MAX_SKEW_MS;
    cfg->reply_bytes_per_s = DEF_REPLY_BYTES_PER_S;
    cfg->max_conns_per_key = DEF_MAX_CONNS_PER_KEY;
    cfg->max_conns = DEF_MAX_CONNS;
    fm_gps_conf_defaults(&cfg->gps);
    fm_console_conf_defaults(&cfg->console);
}

/* Absolute directory holding `path`. */
int config_file_dir(const char *path, char *out, size_t cap)
{
    char tmp[FM_PATH_MAX];
    char real[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        fm_strlcpy(tmp, ".", sizeof(tmp));
    } else if (slash == path) {
        fm_strlcpy(tmp, "/", sizeof(tmp));
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof(tmp))
            return FM_ETOOBIG;
        memcpy(tmp, path, n);
        tmp[n] = '\0';
    }
    if (realpath(tmp, real) == NULL)
        return errno == ENOENT ? FM_ENOTFOUND : FM_EIO;
    return fm_strlcpy(out, real, cap);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* Writes `p` relative to dir when it lies inside dir. */
static void yaml_put_path(FILE *f, const char *dir, const char *p)
{
    size_t dl = strlen(dir);
    if (dl > 1 && strncmp(p, dir, dl) == 0 && p[dl] == '/' && p[dl + 1] != '\0')
        yk_put_quoted(f, p + dl + 1);
    else
        yk_put_quoted(f, p);
}

static void yaml_put_endpoint(FILE *f, const char *dir, const char *ep)
{
    if (strncmp(ep, "ipc://", 6) == 0) {
        size_t dl = strlen(dir);
        const char *p = ep + 6;
        if (dl > 1 && strncmp(p, dir, dl) == 0 && p[dl] == '/' && p[dl + 1] != '\0') {
            char tmp[FM_ENDPOINT_MAX];
            snprintf(tmp, sizeof(tmp), "ipc://%s", p + dl + 1);
            yk_put_quoted(f, tmp);
            return;
        }
    }
    yk_put_quoted(f, ep);
}

/* `  name: ` then the value, when it differs from def (written as-is:
 * "data_dir/...") or def is NULL; as a path relative to dir. */
static void write_path_unless(FILE *f, const char *dir, const char *name, const char *p,
                              const char *def)
{
    if (p[0] == '\0' || (def != NULL && strcmp(p, def) == 0))
        return;
    fprintf(f, "  %s: ", name);
    yaml_put_path(f, dir, p);
    fputc('\n', f);
}

static void write_node_storage(FILE *f, const struct fm_config *cfg, const char *dir)
{
    fprintf(f, "# fieldmesh node configuration (see docs/config.md).\n"
               "# Relative paths are relative to this file's directory.\n\n");
    fprintf(f, "node:\n  name: ");
    yk_put_quoted(f, cfg->name);
    fprintf(f, "\n  role: %s\n", fm_role_name(cfg->role));
    if (cfg->op_format != 1)
        fprintf(f, "  op_format: %u\n", cfg->op_format);
    if (cfg->time_zone[0] != '\0') {
        fprintf(f, "  time_zone: ");
        yk_put_quoted(f, cfg->time_zone);
        fputc('\n', f);
    }
    fputc('\n', f);

    fprintf(f, "storage:\n  data_dir: ");
    yaml_put_path(f, dir, cfg->data_dir);
    fprintf(f, "\n  map_size_mb: %llu\n  map_max_mb: %llu\n\n",
            (unsigned long long)((cfg->map_size + MIB - 1) / MIB),
            (unsigned long long)((cfg->map_max + MIB - 1) / MIB));
}

static void write_peers(FILE *f, const struct fm_config *cfg, const char *dir)
{
    char key[FM_KEY_TEXT_LEN];
    if (cfg->npeers == 0)
        fprintf(f, "  peers: []\n");
    else
        fprintf(f, "  peers:\n");
    for (size_t i = 0; i < cfg->npeers && i < FM_CONFIG_MAX_PEERS; i++) {
        const struct fm_peer_conf *p = &cfg->peers[i];
        fm_key_encode(p->pk, key);
        fprintf(f, "    - endpoint: ");
        yaml_put_endpoint(f, dir, p->endpoint);
        fprintf(f, "\n      key: %s\n", key);
        if (p->name[0] != '\0') {
            fprintf(f, "      name: ");
            yk_put_quoted(f, p->name);
            fputc('\n', f);
        }
    }
}

static void write_network(FILE *f, const struct fm_config *cfg, const char *dir)
{
    char def[FM_PATH_MAX + 32];
    fprintf(f, "network:\n");
    if (cfg->listen[0] != '\0') {
        fprintf(f, "  listen: ");
        yaml_put_endpoint(f, dir, cfg->listen);
        fputc('\n', f);
    } else {
        fprintf(f, "  # listen: \"tcp://0.0.0.0:7400\"   # not listening\n");
    }
    snprintf(def, sizeof(def), "ipc://%s/control.sock", cfg->data_dir);
    if (cfg->control[0] != '\0' && strcmp(cfg->control, def) != 0) {
        fprintf(f, "  control: ");
        yaml_put_endpoint(f, dir, cfg->control);
        fputc('\n', f);
    }
    write_peers(f, cfg, dir);
}

/* The trust section: certificate and key only when not the defaults in
 * the data directory. */
static void write_trust(FILE *f, const struct fm_config *cfg, const char *dir)
{
    char key[FM_KEY_TEXT_LEN];
    char def[FM_PATH_MAX + 32];
    fm_key_encode(cfg->org_pk, key);
    fprintf(f, "\ntrust:\n  org_key: %s\n", key);
    snprintf(def, sizeof(def), "%s/node.cert", cfg->data_dir);
    write_path_unless(f, dir, "certificate", cfg->cert_path, def);
    snprintf(def, sizeof(def), "%s/node.key", cfg->data_dir);
    write_path_unless(f, dir, "key", cfg->key_path, def);
    write_path_unless(f, dir, "passphrase_file", cfg->passphrase_file, NULL);
    if (cfg->kdf != FM_KDF_INTERACTIVE)
        fprintf(f, "  kdf: %s\n", fm_kdf_level_name(cfg->kdf));
}

static void write_body(FILE *f, const struct fm_config *cfg, const char *dir)
{
    write_node_storage(f, cfg, dir);
    write_network(f, cfg, dir);
    write_trust(f, cfg, dir);
    fprintf(f, "\ngossip:\n  push_interval_ms: %u\n  anti_entropy_ms: %u\n"
               "  heartbeat_ms: %u\n  batch_ops: %u\n  max_skew_ms: %u\n",
            cfg->push_interval_ms, cfg->anti_entropy_ms, cfg->heartbeat_ms, cfg->batch_ops,
            cfg->max_skew_ms);
    if (cfg->reply_bytes_per_s != DEF_REPLY_BYTES_PER_S)
        fprintf(f, "  reply_bytes_per_s: %u\n", cfg->reply_bytes_per_s);
    if (cfg->max_conns_per_key != DEF_MAX_CONNS_PER_KEY)
        fprintf(f, "  max_conns_per_key: %u\n", cfg->max_conns_per_key);
    if (cfg->max_conns != DEF_MAX_CONNS)
        fprintf(f, "  max_conns: %u\n", cfg->max_conns);
    config_write_console(f, &cfg->console); /* its own section: after gossip's keys */
}

/* The whole file in memory (caller frees *text), for the one durable writer. */
static int config_render(const struct fm_config *cfg, const char *dir, char **text, size_t *len)
{
    FILE *f = open_memstream(text, len);
    if (f == NULL)
        return FM_ENOMEM;
    write_body(f, cfg, dir);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        free(*text);
        *text = NULL;
        return FM_ENOMEM;
    }
    return 0;
}

int fm_config_write(const struct fm_config *cfg, const char *path)
{
    char parent[FM_PATH_MAX];
    char dir[FM_PATH_MAX];
    const char *slash;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (cfg == NULL || path == NULL || path[0] == '\0' || cfg->name[0] == '\0' ||
        cfg->role == FM_ROLE_NONE || cfg->data_dir[0] == '\0')
        return FM_EINVAL;
    slash = strrchr(path, '/');
    if (slash != NULL && slash != path) {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof(parent))
            return FM_ETOOBIG;
        memcpy(parent, path, n);
        parent[n] = '\0';
        if ((rc = fm_mkdirs(parent)) != 0)
            return rc;
    }
    if ((rc = config_file_dir(path, dir, sizeof(dir))) != 0)
        return rc;
    if ((rc = config_render(cfg, dir, &text, &len)) != 0)
        return rc;
    rc = fm_file_write(path, text, len, 0644, true);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Locating                                                            */
/* ------------------------------------------------------------------ */

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int fm_config_locate(char *out, size_t cap)
{
    const char *env = getenv("FIELDMESH_CONFIG");
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;

    if (cap > 0)
        out[0] = '\0';
    if (env != NULL && env[0] != '\0') {
        if (fm_strlcpy(out, env, cap) != 0)
            return FM_ETOOBIG;
        return file_exists(out) ? 0 : FM_ENOTFOUND;
    }
    if (xdg != NULL && xdg[0] == '/') {
        n = snprintf(out, cap, "%s/fieldmesh/node.yaml", xdg);
    } else {
        if (home == NULL || home[0] == '\0') {
            struct passwd *pw = getpwuid(getuid());
            home = pw != NULL ? pw->pw_dir : NULL;
        }
        if (home == NULL || home[0] == '\0')
            return FM_ENOTFOUND;
        n = snprintf(out, cap, "%s/.config/fieldmesh/node.yaml", home);
    }
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return FM_ETOOBIG;
    }
    return file_exists(out) ? 0 : FM_ENOTFOUND;
}
