/*
 * config.c — loading the node's YAML configuration strictly, with a
 * "file:line:column: what is wrong" message for every error.
 *
 * This file is the loader (config_write.c writes, locates and holds the
 * defaults). It reads the whole file (capped at CONFIG_FILE_MAX), lets libyaml
 * build its node tree, and walks that tree against a table of the known
 * sections and keys. Each key has one type; anything the table does not
 * know, any value of the wrong shape and any value out of range is an error
 * pointing at the offending node. Relative paths are resolved against the
 * directory holding the file, so a config works wherever the command runs.
 * It walks with the strict-YAML toolkit (yamlkit.h: parsing, located
 * errors, scalars, integers, keys) and the config's own value shapes
 * (config_yaml.c: paths, endpoints, key text, text).
 */
#include "config_yaml.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FILE_MAX (1u << 20) /* a config is a few hundred bytes */

/* ------------------------------------------------------------------ */
/* The schema                                                          */
/* ------------------------------------------------------------------ */

enum ftype {
    FT_NAME,      /* non-empty string < FM_NAME_MAX */
    FT_ROLE,      /* centre | county | station | vehicle | admin */
    FT_PATH,      /* file system path, relative to the file's directory */
    FT_ENDPOINT,  /* tcp://host:port or ipc://path */
    FT_KEY,       /* 52-character key text */
    FT_MB,        /* integer MiB, stored as bytes in a uint64_t */
    FT_U32,       /* integer, stored in a uint32_t */
    FT_PEERS,     /* sequence of peer mappings */
    FT_KDF,       /* interactive | moderate | sensitive | minimal (docs/security.md) */
    FT_BOOL,      /* true | false, stored in a bool (gps.enabled) */
    FT_HOSTPORT,  /* "HOST:PORT" (gps.address) */
    FT_RADII,     /* mapping category -> metres (gps.arrive_by_category) */
    FT_LISTEN,    /* "HOST:PORT" or "[V6]:PORT" (console.listen) */
    FT_TZ,        /* an IANA time zone name this machine has (node.time_zone) */
};

struct field {
    const char *key;
    enum ftype type;
    bool required;
    size_t off;         /* offset into struct fm_config */
    size_t cap;         /* string capacity */
    uint64_t min, max;  /* integer range */
};

struct section {
    const char *name;
    bool required;
    const struct field *fields;
    size_t nfields;
};

#define STR_FIELD(k, t, req, member) \
    { k, t, req, offsetof(struct fm_config, member), sizeof(((struct fm_config *)0)->member), 0, 0 }
#define INT_FIELD(k, t, member, lo, hi) \
    { k, t, false, offsetof(struct fm_config, member), 0, lo, hi }

static const struct field node_fields[] = {
    STR_FIELD("name", FT_NAME, true, name),
    { "role", FT_ROLE, true, offsetof(struct fm_config, role), 0, 0, 0 },
    INT_FIELD("op_format", FT_U32, op_format, 1, FM_OP_FORMAT_MAX), /* docs/decisions.md */
    STR_FIELD("time_zone", FT_TZ, false, time_zone),
};
static const struct field storage_fields[] = {
    STR_FIELD("data_dir", FT_PATH, true, data_dir),
    INT_FIELD("map_size_mb", FT_MB, map_size, 1, 1u << 20),      /* up to 1 TiB */
    INT_FIELD("map_max_mb", FT_MB, map_max, 1, UINT64_C(1) << 24), /* up to 16 TiB */
};
static const struct field network_fields[] = {
    STR_FIELD("listen", FT_ENDPOINT, false, listen),
    STR_FIELD("control", FT_ENDPOINT, false, control),
    { "peers", FT_PEERS, false, 0, 0, 0, 0 },
};
static const struct field trust_fields[] = {
    { "org_key", FT_KEY, true, offsetof(struct fm_config, org_pk), 0, 0, 0 },
    STR_FIELD("certificate", FT_PATH, false, cert_path),
    STR_FIELD("key", FT_PATH, false, key_path),
    STR_FIELD("passphrase_file", FT_PATH, false, passphrase_file),
    { "kdf", FT_KDF, false, offsetof(struct fm_config, kdf), 0, 0, 0 },
};
static const struct field gossip_fields[] = {
    INT_FIELD("push_interval_ms", FT_U32, push_interval_ms, 1, 60000),
    INT_FIELD("anti_entropy_ms", FT_U32, anti_entropy_ms, 10, 3600000),
    INT_FIELD("heartbeat_ms", FT_U32, heartbeat_ms, 10, 3600000),
    INT_FIELD("batch_ops", FT_U32, batch_ops, 1, 65536),
    INT_FIELD("max_skew_ms", FT_U32, max_skew_ms, 0, 86400000),
    INT_FIELD("rate_limit_bps", FT_U32, rate_limit_bps, 0, 4000000000u), /* field sync */
    INT_FIELD("reply_bytes_per_s", FT_U32, reply_bytes_per_s, 0, 4000000000u), /* budget.c */
    INT_FIELD("max_conns_per_key", FT_U32, max_conns_per_key, 1, 64), /* sync/conns.c */
    INT_FIELD("max_conns", FT_U32, max_conns, 1, 65536),
};

static const struct field gps_fields[] = { /* docs/gps.md */
    { "enabled", FT_BOOL, false, offsetof(struct fm_config, gps.enabled), 0, 0, 0 },
    STR_FIELD("device", FT_NAME, false, gps.device),
    { "address", FT_HOSTPORT, false, 0, 0, 0, 0 },
    INT_FIELD("interval_s", FT_U32, gps.interval_s, 1, 3600),
    INT_FIELD("min_move_m", FT_U32, gps.min_move_m, 1, 100000),
    INT_FIELD("heading_deg", FT_U32, gps.heading_deg, 1, 180),
    INT_FIELD("accuracy_m", FT_U32, gps.accuracy_m, 1, 10000),
    INT_FIELD("max_speed_kmh", FT_U32, gps.max_speed_kmh, 10, 2000),
    INT_FIELD("arrive_m", FT_U32, gps.arrive_m, 10, 10000),
    INT_FIELD("dwell_s", FT_U32, gps.dwell_s, 0, 600),
    INT_FIELD("leave_m", FT_U32, gps.leave_m, 10, 10000),
    { "arrive_by_category", FT_RADII, false, 0, 0, 0, 0 },
};

static const struct field console_fields[] = { /* docs/console-api.md */
    { "enabled", FT_BOOL, false, offsetof(struct fm_config, console.enabled), 0, 0, 0 },
    { "listen", FT_LISTEN, false, 0, 0, 0, 0 },
    STR_FIELD("tls_cert", FT_PATH, false, console.tls_cert),
    STR_FIELD("tls_key", FT_PATH, false, console.tls_key),
    STR_FIELD("web_root", FT_PATH, false, console.web_root),
    STR_FIELD("tiles", FT_PATH, false, console.tiles),
    INT_FIELD("session_idle_s", FT_U32, console.session_idle_s, 60, 86400),
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
static const struct section sections[] = {
    { "node", true, node_fields, NELEM(node_fields) },
    { "storage", true, storage_fields, NELEM(storage_fields) },
    { "network", false, network_fields, NELEM(network_fields) },
    { "trust", true, trust_fields, NELEM(trust_fields) },
    { "gossip", false, gossip_fields, NELEM(gossip_fields) },
    { "gps", false, gps_fields, NELEM(gps_fields) },
    { "console", false, console_fields, NELEM(console_fields) },
};

/* ------------------------------------------------------------------ */
/* Mapping walks                                                       */
/* ------------------------------------------------------------------ */

static int load_peer(struct loader *L, yaml_node_t *item, struct fm_peer_conf *peer)
{
    static const char *where = "section 'network.peers'";
    bool have_endpoint = false, have_key = false;
    if (item->type != YAML_MAPPING_NODE)
        return cfg_fail(L, item->start_mark,
                        "expected a mapping with endpoint, key and name for each peer");
    memset(peer, 0, sizeof(*peer));
    for (yaml_node_pair_t *p = item->data.mapping.pairs.start;
         p < item->data.mapping.pairs.top; p++) {
        yaml_node_t *kn, *v;
        const char *ks = NULL, *s = NULL;
        int rc = yk_pair_key(&L->yk, item, p, where, &kn, &ks);
        if (rc != 0)
            return rc;
        v = yk_node(&L->yk, p->value);
        if (v == NULL)
            return cfg_fail(L, kn->start_mark, "missing value for '%s'", ks);
        if (strcmp(ks, "endpoint") == 0) {
            rc = yk_scalar(&L->yk, v, ks, &s);
            if (rc == 0 && yk_is_null(v))
                rc = cfg_fail(L, v->start_mark, "missing value for 'endpoint'");
            if (rc == 0)
                rc = cfg_parse_endpoint(L, v, ks, s, peer->endpoint, sizeof(peer->endpoint));
            have_endpoint = true;
        } else if (strcmp(ks, "key") == 0) {
            rc = cfg_parse_key_text(L, v, ks, peer->pk);
            have_key = true;
        } else if (strcmp(ks, "name") == 0) {
            rc = cfg_parse_text(L, v, ks, peer->name, sizeof(peer->name), true);
        } else if (strcmp(ks, "rate_limit_bps") == 0) { /* field sync */
            uint64_t bps = 0;
            rc = yk_uint(&L->yk, v, ks, 0, 4000000000u, &bps);
            peer->rate_limit_bps = (uint32_t)bps;
        } else {
            rc = cfg_fail(L, kn->start_mark, "unknown key '%s' in %s", ks, where);
        }
        if (rc != 0)
            return rc;
    }
    if (!have_endpoint)
        return cfg_fail(L, item->start_mark, "missing required key 'endpoint' in %s", where);
    if (!have_key)
        return cfg_fail(L, item->start_mark, "missing required key 'key' in %s", where);
    return 0;
}

static int load_peers(struct loader *L, yaml_node_t *v)
{
    struct fm_config *cfg = L->cfg;
    if (yk_is_null(v))
        return 0;
    if (v->type != YAML_SEQUENCE_NODE)
        return cfg_fail(L, v->start_mark, "expected a list for 'peers'");
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yk_node(&L->yk, *it);
        if (item == NULL)
            return cfg_fail(L, v->start_mark, "bad peer entry");
        if (cfg->npeers >= FM_CONFIG_MAX_PEERS)
            return cfg_fail(L, item->start_mark, "too many peers (max %d)", FM_CONFIG_MAX_PEERS);
        struct fm_peer_conf *peer = &cfg->peers[cfg->npeers];
        int rc = load_peer(L, item, peer);
        if (rc != 0)
            return rc;
        for (size_t i = 0; i < cfg->npeers; i++)
            if (memcmp(cfg->peers[i].pk, peer->pk, FM_PK_LEN) == 0)
                return cfg_fail(L, item->start_mark, "peer key listed twice (also peer %zu)",
                                i + 1);
        cfg->npeers++;
    }
    return 0;
}

static bool category_token_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n < sizeof(((struct fm_gps_radius *)0)->category) &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* The gps section's own types (docs/gps.md). */
static int load_gps_field(struct loader *L, const struct field *f, yaml_node_t *v)
{
    struct fm_gps_conf *g = &L->cfg->gps;
    const char *s = NULL;
    uint64_t val;
    int rc;
    if (f->type == FT_BOOL) {
        return yk_bool(&L->yk, v, f->key, (bool *)(void *)((char *)L->cfg + f->off));
    }
    if (f->type == FT_HOSTPORT) {
        char buf[FM_GPS_HOST_MAX + 8];
        if ((rc = cfg_parse_text(L, v, f->key, buf, sizeof buf, false)) != 0)
            return rc;
        char *colon = strrchr(buf, ':');
        if (colon == NULL || colon == buf || fm_parse_u64(colon + 1, &val) != 0 || val < 1 ||
            val > 65535 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return cfg_fail(L, v->start_mark, "bad address '%s' for '%s': expected HOST:PORT "
                            "(port 1..65535)", buf, f->key);
        *colon = '\0';
        if (strcspn(buf, " /") != strlen(buf) || fm_strlcpy(g->host, buf, sizeof g->host) != 0)
            return cfg_fail(L, v->start_mark, "bad host in '%s'", f->key);
        g->port = (uint16_t)val;
        return 0;
    }
    if (v->type != YAML_MAPPING_NODE)
        return cfg_fail(L, v->start_mark, "expected a mapping of category: metres for '%s'",
                        f->key);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *kn, *vn;
        if ((rc = yk_pair_key(&L->yk, v, p, "'arrive_by_category'", &kn, &s)) != 0)
            return rc;
        if (g->nradii == FM_GPS_RADII_MAX)
            return cfg_fail(L, kn->start_mark, "too many categories (max %d)", FM_GPS_RADII_MAX);
        if (!category_token_ok(s))
            return cfg_fail(L, kn->start_mark, "bad category '%s' ([a-z0-9_-], 1..31)", s);
        if ((vn = yk_node(&L->yk, p->value)) == NULL)
            return cfg_fail(L, kn->start_mark, "missing value for '%s'", s);
        if ((rc = yk_uint(&L->yk, vn, s, 10, 10000, &val)) != 0)
            return rc;
        fm_strlcpy(g->radii[g->nradii].category, s, sizeof g->radii[0].category);
        g->radii[g->nradii++].m = (uint32_t)val;
    }
    return 0;
}

/* console.listen: "HOST:PORT" or "[V6]:PORT", port 1..65535. */
static int load_console_listen(struct loader *L, const struct field *f, yaml_node_t *v)
{
    struct fm_console_conf *c = &L->cfg->console;
    char buf[FM_CONSOLE_HOST_MAX + 8];
    uint64_t val;
    int rc = cfg_parse_text(L, v, f->key, buf, sizeof buf, false);
    if (rc != 0)
        return rc;
    char *colon = strrchr(buf, ':');
    if (colon == NULL || colon == buf || fm_parse_u64(colon + 1, &val) != 0 || val < 1 ||
        val > 65535 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return cfg_fail(L, v->start_mark, "bad address '%s' for 'listen': expected HOST:PORT "
                        "(port 1..65535), e.g. 127.0.0.1:8470", buf);
    *colon = '\0';
    char *host = buf;
    size_t hl = strlen(host);
    if (host[0] == '[') {
        if (hl < 3 || host[hl - 1] != ']')
            return cfg_fail(L, v->start_mark, "bad IPv6 host in 'listen': write [ADDR]:PORT");
        host[hl - 1] = '\0';
        host++;
    } else if (strchr(host, ':') != NULL) {
        return cfg_fail(L, v->start_mark, "bad host in 'listen': write an IPv6 address as "
                        "[ADDR]:PORT");
    }
    if (strcspn(host, " /\t") != strlen(host) || fm_strlcpy(c->host, host, sizeof c->host) != 0)
        return cfg_fail(L, v->start_mark, "bad host in 'listen'");
    c->port = (uint16_t)val;
    return 0;
}

static int load_role(struct loader *L, const struct field *f, yaml_node_t *v)
{
    enum fm_role role = FM_ROLE_NONE;
    const char *s = NULL;
    int rc;
    if ((rc = yk_scalar(&L->yk, v, f->key, &s)) != 0)
        return rc;
    if (yk_is_null(v))
        return cfg_fail(L, v->start_mark, "missing value for '%s'", f->key);
    if (fm_role_parse(s, &role) != 0 || role == FM_ROLE_NONE)
        return cfg_fail(L, v->start_mark,
                        "unknown role '%s' (expected centre, county, station, vehicle "
                        "or admin)", s);
    L->cfg->role = role;
    return 0;
}

static int load_kdf(struct loader *L, const struct field *f, yaml_node_t *v)
{
    const char *s = NULL;
    int rc;
    if ((rc = yk_scalar(&L->yk, v, f->key, &s)) != 0)
        return rc;
    if (yk_is_null(v) || fm_kdf_level_parse(s, &L->cfg->kdf) != FM_OK)
        return cfg_fail(L, v->start_mark, "unknown kdf '%s' (expected interactive, "
                        "moderate, sensitive or minimal)", yk_is_null(v) ? "" : s);
    return 0;
}

const char *fm_zoneinfo_dir(void)
{
    const char *d = getenv("TZDIR");
    return d != NULL && d[0] == '/' ? d : "/usr/share/zoneinfo";
}

int fm_time_zone_check(const char *name, char *err, size_t errlen)
{
    size_t n = strlen(name), seg = 0;
    if (n == 0 || n >= FM_TZ_NAME_MAX) {
        snprintf(err, errlen, "a time zone name has 1 to %d bytes (got %zu)",
                 FM_TZ_NAME_MAX - 1, n);
        return FM_EINVAL;
    }
    for (size_t i = 0; i <= n; i++) {
        char c = name[i];
        if (c == '/' || c == '\0') {
            if (seg == 0 || (seg == 1 && name[i - 1] == '.') ||
                (seg == 2 && name[i - 1] == '.' && name[i - 2] == '.'))
                goto bad;
            seg = 0;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '+' || c == '-' || c == '.') {
            seg++;
        } else {
            goto bad;
        }
    }
    char path[FM_PATH_MAX], magic[4];
    int w = snprintf(path, sizeof path, "%s/%s", fm_zoneinfo_dir(), name);
    FILE *f = w > 0 && (size_t)w < sizeof path ? fopen(path, "rb") : NULL;
    size_t got = f != NULL ? fread(magic, 1, sizeof magic, f) : 0;
    if (f != NULL)
        fclose(f);
    if (got != sizeof magic || memcmp(magic, "TZif", 4) != 0) {
        snprintf(err, errlen, "unknown time zone '%s' (no zone file %s; names are like "
                 "Asia/Shanghai or UTC, and the tzdata package provides them)", name, path);
        return FM_ENOTFOUND;
    }
    return FM_OK;
bad:
    snprintf(err, errlen, "'%s' is not a time zone name (like Asia/Shanghai or UTC)", name);
    return FM_EINVAL;
}

static int load_tz(struct loader *L, const struct field *f, yaml_node_t *v, char *dst)
{
    const char *s = NULL;
    char why[FM_PATH_MAX + 160];
    int rc;
    if ((rc = yk_scalar(&L->yk, v, f->key, &s)) != 0)
        return rc;
    if (yk_is_null(v))
        return cfg_fail(L, v->start_mark, "missing value for '%s'", f->key);
    if (fm_time_zone_check(s, why, sizeof why) != FM_OK)
        return cfg_fail(L, v->start_mark, "%s", why);
    fm_strlcpy(dst, s, f->cap);
    return 0;
}

/* Notes which path keys were set, and where, for load_finish. */
static void note_path_set(struct loader *L, const struct field *f, yaml_node_t *v)
{
    if (f->off == offsetof(struct fm_config, cert_path))
        L->cert_set = true;
    else if (f->off == offsetof(struct fm_config, key_path))
        L->key_set = true;
    else if (f->off == offsetof(struct fm_config, data_dir))
        L->data_dir_mark = v->start_mark;
    else if (f->off == offsetof(struct fm_config, console.tls_cert) ||
             f->off == offsetof(struct fm_config, console.tls_key)) {
        if (!L->tls_cert_set && !L->tls_key_set)
            L->tls_mark = v->start_mark;
        *(f->off == offsetof(struct fm_config, console.tls_cert) ? &L->tls_cert_set
                                                                  : &L->tls_key_set) = true;
    }
}

static int load_path(struct loader *L, const struct field *f, yaml_node_t *v, char *dst)
{
    const char *s = NULL;
    int rc;
    if ((rc = yk_scalar(&L->yk, v, f->key, &s)) != 0)
        return rc;
    if (yk_is_null(v) || s[0] == '\0')
        return cfg_fail(L, v->start_mark, "'%s' must not be empty", f->key);
    if (yk_has_control_char(s))
        return cfg_fail(L, v->start_mark, "'%s' contains a control character", f->key);
    if ((rc = cfg_resolve_path(L, v, f->key, s, dst, f->cap)) != 0)
        return rc;
    note_path_set(L, f, v);
    return 0;
}

/* An endpoint; empty means none (listen), except for control, whose
 * default needs the key left out. */
static int load_endpoint(struct loader *L, const struct field *f, yaml_node_t *v, char *dst)
{
    const char *s = NULL;
    int rc;
    if ((rc = yk_scalar(&L->yk, v, f->key, &s)) != 0)
        return rc;
    if (yk_is_null(v) || s[0] == '\0') {
        if (f->off == offsetof(struct fm_config, control))
            return cfg_fail(L, v->start_mark,
                            "'control' must not be empty (omit it for the default)");
        dst[0] = '\0';
        return 0;
    }
    if ((rc = cfg_parse_endpoint(L, v, f->key, s, dst, f->cap)) != 0)
        return rc;
    if (f->off == offsetof(struct fm_config, control))
        L->control_set = true;
    return 0;
}

static int load_mb(struct loader *L, const struct field *f, yaml_node_t *v, char *dst)
{
    uint64_t val;
    int rc;
    if ((rc = yk_uint(&L->yk, v, f->key, f->min, f->max, &val)) != 0)
        return rc;
    *(uint64_t *)(void *)dst = val * MIB;
    if (f->off == offsetof(struct fm_config, map_size)) {
        L->map_size_set = true;
        L->map_size_mark = v->start_mark;
    } else {
        L->map_max_mark = v->start_mark;
    }
    return 0;
}

/* One key's value, by its type in the schema, into the config. */
static int load_field(struct loader *L, const struct field *f, yaml_node_t *v)
{
    char *dst = (char *)L->cfg + f->off;
    uint64_t val;
    int rc;

    switch (f->type) {
    case FT_NAME:
        if (f->cap == FM_NAME_MAX && v->type == YAML_SCALAR_NODE) {
            /* a name is judged in characters first: 64 Chinese ones fit */
            const char *s = (const char *)v->data.scalar.value;
            size_t chars = fm_utf8_chars(s, strlen(s));
            if (chars > FM_NAME_CHARS)
                return cfg_fail(L, v->start_mark, "'%s' is too long (%zu characters, at most %d)",
                                f->key, chars, FM_NAME_CHARS);
        }
        return cfg_parse_text(L, v, f->key, dst, f->cap, false);
    case FT_ROLE:
        return load_role(L, f, v);
    case FT_KDF:
        return load_kdf(L, f, v);
    case FT_PATH:
        return load_path(L, f, v, dst);
    case FT_ENDPOINT:
        return load_endpoint(L, f, v, dst);
    case FT_KEY:
        return cfg_parse_key_text(L, v, f->key, (uint8_t *)dst);
    case FT_MB:
        return load_mb(L, f, v, dst);
    case FT_U32:
        if ((rc = yk_uint(&L->yk, v, f->key, f->min, f->max, &val)) != 0)
            return rc;
        *(uint32_t *)(void *)dst = (uint32_t)val;
        return 0;
    case FT_PEERS:
        return load_peers(L, v);
    case FT_BOOL:
    case FT_HOSTPORT:
    case FT_RADII:
        return load_gps_field(L, f, v);
    case FT_LISTEN:
        return load_console_listen(L, f, v);
    case FT_TZ:
        return load_tz(L, f, v, dst);
    }
    return cfg_fail(L, v->start_mark, "internal error: unhandled field type");
}

static int load_section(struct loader *L, const struct section *sec, yaml_node_t *m)
{
    char where[64];
    bool seen[16] = { false };
    snprintf(where, sizeof(where), "section '%s'", sec->name);

    if (m->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
             p++) {
            yaml_node_t *kn, *v;
            const char *ks;
            int rc = yk_pair_key(&L->yk, m, p, where, &kn, &ks);
            if (rc != 0)
                return rc;
            size_t i;
            for (i = 0; i < sec->nfields; i++)
                if (strcmp(sec->fields[i].key, ks) == 0)
                    break;
            if (i == sec->nfields)
                return cfg_fail(L, kn->start_mark, "unknown key '%s' in %s", ks, where);
            v = yk_node(&L->yk, p->value);
            if (v == NULL)
                return cfg_fail(L, kn->start_mark, "missing value for '%s'", ks);
            if ((rc = load_field(L, &sec->fields[i], v)) != 0)
                return rc;
            seen[i] = true;
        }
    } else if (!yk_is_null(m)) {
        return cfg_fail(L, m->start_mark, "expected a mapping for section '%s'", sec->name);
    }
    for (size_t i = 0; i < sec->nfields; i++)
        if (sec->fields[i].required && !seen[i])
            return cfg_fail(L, m->start_mark, "missing required key '%s' in %s",
                            sec->fields[i].key, where);
    return 0;
}

/* Defaults that depend on other values, and cross-field checks. */
static int load_finish(struct loader *L)
{
    struct fm_config *cfg = L->cfg;
    int n;
    if (cfg->map_size > cfg->map_max)
        return cfg_fail(L, L->map_size_set ? L->map_size_mark : L->map_max_mark,
                        "map_size_mb (%llu) exceeds map_max_mb (%llu)",
                        (unsigned long long)(cfg->map_size / MIB),
                        (unsigned long long)(cfg->map_max / MIB));
    if (!L->control_set) {
        size_t plen = strlen(cfg->data_dir) + strlen("/control.sock");
        n = snprintf(cfg->control, sizeof(cfg->control), "ipc://%s/control.sock", cfg->data_dir);
        if (plen > IPC_PATH_MAX || n < 0 || (size_t)n >= sizeof(cfg->control))
            return cfg_fail(L, L->data_dir_mark,
                            "data_dir is too long for the default control socket "
                            "(a Unix socket path allows at most %d bytes); set "
                            "network.control to a shorter ipc:// path", IPC_PATH_MAX);
    }
    if (L->tls_cert_set != L->tls_key_set)
        return cfg_fail(L, L->tls_mark, "console.tls_cert and console.tls_key go together: "
                        "set both (HTTPS) or neither (plain HTTP on a loopback address)");
    if (!L->cert_set) {
        n = snprintf(cfg->cert_path, sizeof(cfg->cert_path), "%s/node.cert", cfg->data_dir);
        if (n < 0 || (size_t)n >= sizeof(cfg->cert_path))
            return cfg_fail(L, L->data_dir_mark, "data_dir is too long");
    }
    if (!L->key_set) {
        n = snprintf(cfg->key_path, sizeof(cfg->key_path), "%s/node.key", cfg->data_dir);
        if (n < 0 || (size_t)n >= sizeof(cfg->key_path))
            return cfg_fail(L, L->data_dir_mark, "data_dir is too long");
    }
    return 0;
}

static int load_document(struct loader *L)
{
    yaml_node_t *root = yk_root(&L->yk);
    bool seen[NELEM(sections)] = { false };
    if (root == NULL)
        return yk_fail_at(&L->yk, 1, 1, "empty configuration (expected sections node, storage, "
                                    "trust)");
    if (root->type != YAML_MAPPING_NODE)
        return cfg_fail(L, root->start_mark, "expected a mapping of sections at the top level");
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn, *v;
        const char *ks;
        int rc = yk_pair_key(&L->yk, root, p, "the top level", &kn, &ks);
        if (rc != 0)
            return rc;
        size_t i;
        for (i = 0; i < NELEM(sections); i++)
            if (strcmp(sections[i].name, ks) == 0)
                break;
        if (i == NELEM(sections))
            return cfg_fail(L, kn->start_mark,
                            "unknown section '%s' (expected node, storage, network, trust, "
                            "gossip, gps, console)", ks);
        v = yk_node(&L->yk, p->value);
        if (v == NULL)
            return cfg_fail(L, kn->start_mark, "missing value for section '%s'", ks);
        if ((rc = load_section(L, &sections[i], v)) != 0)
            return rc;
        seen[i] = true;
    }
    for (size_t i = 0; i < NELEM(sections); i++)
        if (sections[i].required && !seen[i])
            return cfg_fail(L, root->start_mark, "missing required section '%s'",
                            sections[i].name);
    return load_finish(L);
}

int fm_config_load(struct fm_config *cfg, const char *path, char *err, size_t errlen)
{
    struct loader L;
    char *buf = NULL;
    size_t len = 0;
    int rc;

    memset(&L, 0, sizeof(L));
    yk_init(&L.yk, path, err, errlen);
    L.yk.style = YK_RANGE_ANY_NUMBER | YK_PARSER_DETAIL;
    L.yk.scalar_want = "a string";
    L.cfg = cfg;
    fm_config_defaults(cfg);

    if (fm_strlcpy(cfg->path, path, sizeof(cfg->path)) != 0) {
        snprintf(L.yk.err, L.yk.errlen, "%s: path too long", path);
        return FM_ECONFIG;
    }
    if ((rc = yk_read_file(&L.yk, CONFIG_FILE_MAX, &buf, &len)) != 0)
        return rc;
    if ((rc = config_file_dir(path, L.dir, sizeof(L.dir))) != 0) {
        snprintf(L.yk.err, L.yk.errlen, "%s: cannot resolve the file's directory", path);
        goto free_buf;
    }
    if ((rc = yk_parse(&L.yk, buf, len)) == 0)
        rc = load_document(&L);
    /* a second document in the stream would be silently ignored */
    if (rc == 0)
        rc = yk_single_document(&L.yk, "a config is one document");
    yk_release(&L.yk);
free_buf:
    free(buf);
    if (rc != 0) {
        char keep[FM_PATH_MAX];
        fm_strlcpy(keep, cfg->path, sizeof(keep));
        fm_config_defaults(cfg);
        fm_strlcpy(cfg->path, keep, sizeof(cfg->path));
    }
    return rc;
}
