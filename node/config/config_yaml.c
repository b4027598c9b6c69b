/*
 * config_yaml.c — the config's own value shapes, read on top of the
 * strict-YAML toolkit (yamlkit.h): paths resolved against the file's
 * directory (or $HOME), endpoints, key text and short text. config.c walks
 * the schema with these and the toolkit; each refuses anything that is not
 * exactly the shape asked for, at its line and column.
 */
#include "config_yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Value parsers                                                       */
/* ------------------------------------------------------------------ */

/* Joins `raw` onto the file's directory unless absolute; "~/" means $HOME. */
int cfg_resolve_path(struct loader *L, yaml_node_t *v, const char *key, const char *raw,
                     char *out, size_t cap)
{
    int n;
    if (raw[0] == '/') {
        n = snprintf(out, cap, "%s", raw);
    } else if (raw[0] == '~' && (raw[1] == '/' || raw[1] == '\0')) {
        const char *home = getenv("HOME");
        if (home == NULL || home[0] != '/')
            return cfg_fail(L, v->start_mark, "'%s' starts with '~' but $HOME is not set", key);
        n = snprintf(out, cap, "%s%s", home, raw + 1);
    } else {
        while (raw[0] == '.' && raw[1] == '/')
            raw += 2;
        while (raw[0] == '/')
            raw++;
        if (strcmp(raw, ".") == 0 || raw[0] == '\0')
            n = snprintf(out, cap, "%s", L->dir);
        else
            n = snprintf(out, cap, "%s/%s", strcmp(L->dir, "/") == 0 ? "" : L->dir, raw);
    }
    if (n < 0 || (size_t)n >= cap)
        return cfg_fail(L, v->start_mark, "path for '%s' is too long (max %zu bytes)", key,
                        cap - 1);
    /* drop trailing slashes, keep "/" */
    size_t len = (size_t)n;
    while (len > 1 && out[len - 1] == '/')
        out[--len] = '\0';
    return 0;
}

/* tcp://host:port (port 1..65535 or *) or ipc://path (relative paths
 * resolved like other paths; at most IPC_PATH_MAX bytes). */
int cfg_parse_endpoint(struct loader *L, yaml_node_t *v, const char *key, const char *raw,
                       char *out, size_t cap)
{
    if (strncmp(raw, "tcp://", 6) == 0) {
        const char *hostport = raw + 6;
        const char *colon = strrchr(hostport, ':');
        if (colon == NULL || colon == hostport)
            return cfg_fail(L, v->start_mark,
                            "bad endpoint '%s' for '%s': expected tcp://HOST:PORT", raw, key);
        uint64_t port = 0;
        if (strcmp(colon + 1, "*") != 0 &&
            (strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
             fm_parse_u64(colon + 1, &port) != 0 || port < 1 || port > 65535))
            return cfg_fail(L, v->start_mark,
                            "bad port in endpoint '%s' for '%s': expected 1..65535", raw, key);
        if (strchr(hostport, ' ') != NULL)
            return cfg_fail(L, v->start_mark, "bad endpoint '%s' for '%s'", raw, key);
        if (fm_strlcpy(out, raw, cap) != 0)
            return cfg_fail(L, v->start_mark, "endpoint for '%s' is too long (max %zu bytes)",
                            key, cap - 1);
        return 0;
    }
    if (strncmp(raw, "ipc://", 6) == 0) {
        char path[FM_PATH_MAX];
        if (raw[6] == '\0')
            return cfg_fail(L, v->start_mark, "bad endpoint '%s' for '%s': empty ipc path", raw,
                            key);
        int rc = cfg_resolve_path(L, v, key, raw + 6, path, sizeof(path));
        if (rc != 0)
            return rc;
        if (strlen(path) > IPC_PATH_MAX)
            return cfg_fail(L, v->start_mark,
                            "ipc path for '%s' is too long (%zu bytes; a Unix socket path "
                            "allows at most %d)", key, strlen(path), IPC_PATH_MAX);
        int n = snprintf(out, cap, "ipc://%s", path);
        if (n < 0 || (size_t)n >= cap)
            return cfg_fail(L, v->start_mark, "endpoint for '%s' is too long (max %zu bytes)",
                            key, cap - 1);
        return 0;
    }
    return cfg_fail(L, v->start_mark,
                    "bad endpoint '%s' for '%s': expected tcp://HOST:PORT or ipc://PATH", raw,
                    key);
}

int cfg_parse_key_text(struct loader *L, yaml_node_t *v, const char *key,
                       uint8_t pk[FM_PK_LEN])
{
    const char *s = NULL;
    int rc = yk_scalar(&L->yk, v, key, &s);
    if (rc != 0)
        return rc;
    if (yk_is_null(v))
        return cfg_fail(L, v->start_mark, "missing value for '%s'", key);
    if (fm_key_decode(s, pk) != 0)
        return cfg_fail(L, v->start_mark,
                        "bad key text for '%s': expected 52 base32 characters (a-z, 2-7)", key);
    return 0;
}

/* Non-empty printable text that fits in cap (including NUL). */
int cfg_parse_text(struct loader *L, yaml_node_t *v, const char *key, char *out, size_t cap,
                   bool allow_empty)
{
    const char *s = NULL;
    int rc = yk_scalar(&L->yk, v, key, &s);
    if (rc != 0)
        return rc;
    if (yk_is_null(v))
        s = "";
    if (!allow_empty && s[0] == '\0')
        return cfg_fail(L, v->start_mark, "'%s' must not be empty", key);
    if (yk_has_control_char(s))
        return cfg_fail(L, v->start_mark, "'%s' contains a control character", key);
    if (fm_strlcpy(out, s, cap) != 0)
        return cfg_fail(L, v->start_mark, "'%s' is too long (max %zu bytes)", key, cap - 1);
    return 0;
}
