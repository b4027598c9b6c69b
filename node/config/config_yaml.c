/*
 * config_yaml.c — the strict-YAML toolkit of the config loader: errors that
 * point at "file:line:column", scalars as C strings, YAML's nulls, and one
 * parser per value shape (integers in a range, paths resolved against the
 * file's directory, endpoints, key text, printable text), plus the mapping
 * walk's checks (plain keys, no key twice) and libyaml's own errors turned
 * into the same form. config.c walks the schema with these; each refuses
 * anything that is not exactly the shape asked for.
 */
#include "config_yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cfg_fail_at(struct loader *L, size_t line, size_t col, const char *fmt, ...)
{
    if (L->err != NULL && L->errlen > 0) {
        int n = snprintf(L->err, L->errlen, "%s:%zu:%zu: ", L->file, line, col);
        if (n >= 0 && (size_t)n < L->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return FM_ECONFIG;
}

yaml_node_t *cfg_doc_node(struct loader *L, int idx)
{
    return yaml_document_get_node(&L->doc, idx);
}

/* A scalar's bytes as a C string; scalars holding a NUL byte (possible
 * through "\0" escapes) are refused. */
int cfg_scalar_str(struct loader *L, yaml_node_t *v, const char *key, const char **out)
{
    if (v->type != YAML_SCALAR_NODE)
        return cfg_fail(L, v->start_mark, "expected a string for '%s'", key);
    const char *s = (const char *)v->data.scalar.value;
    if (memchr(s, '\0', v->data.scalar.length) != NULL)
        return cfg_fail(L, v->start_mark, "'%s' contains a NUL byte", key);
    *out = s;
    return 0;
}

/* An empty plain scalar, "~" or "null": YAML's spelling of nothing. */
bool cfg_is_null(const yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)v->data.scalar.value;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

bool cfg_has_control_char(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return true;
    return false;
}

/* ------------------------------------------------------------------ */
/* Value parsers                                                       */
/* ------------------------------------------------------------------ */

int cfg_parse_uint(struct loader *L, yaml_node_t *v, const char *key, uint64_t lo,
                   uint64_t hi, uint64_t *out)
{
    const char *s = NULL;
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cfg_fail(L, v->start_mark, "expected an integer for '%s'", key);
    s = (const char *)v->data.scalar.value;
    size_t n = v->data.scalar.length;
    bool digits = n > 0 && n <= 19;
    for (size_t i = 0; digits && i < n; i++)
        digits = s[i] >= '0' && s[i] <= '9';
    uint64_t val = 0;
    if (!digits || fm_parse_u64(s, &val) != 0) {
        /* a number, just out of range (too long, or negative) */
        bool number = n > 0 && (strspn(s, "0123456789") == n ||
                                (n > 1 && s[0] == '-' && strspn(s + 1, "0123456789") == n - 1));
        if (number)
            return cfg_fail(L, v->start_mark, "'%s' must be between %llu and %llu", key,
                            (unsigned long long)lo, (unsigned long long)hi);
        return cfg_fail(L, v->start_mark, "expected an integer for '%s'", key);
    }
    if (val < lo || val > hi)
        return cfg_fail(L, v->start_mark, "'%s' must be between %llu and %llu", key,
                        (unsigned long long)lo, (unsigned long long)hi);
    *out = val;
    return 0;
}

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
    int rc = cfg_scalar_str(L, v, key, &s);
    if (rc != 0)
        return rc;
    if (cfg_is_null(v))
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
    int rc = cfg_scalar_str(L, v, key, &s);
    if (rc != 0)
        return rc;
    if (cfg_is_null(v))
        s = "";
    if (!allow_empty && s[0] == '\0')
        return cfg_fail(L, v->start_mark, "'%s' must not be empty", key);
    if (cfg_has_control_char(s))
        return cfg_fail(L, v->start_mark, "'%s' contains a control character", key);
    if (fm_strlcpy(out, s, cap) != 0)
        return cfg_fail(L, v->start_mark, "'%s' is too long (max %zu bytes)", key, cap - 1);
    return 0;
}

/* The key of a mapping pair as a plain string. */
int cfg_pair_key(struct loader *L, yaml_node_pair_t *p, yaml_node_t **kn, const char **ks)
{
    *kn = cfg_doc_node(L, p->key);
    if (*kn == NULL || (*kn)->type != YAML_SCALAR_NODE)
        return cfg_fail(L, (*kn != NULL ? (*kn)->start_mark : L->doc.start_mark),
                        "expected a plain key");
    *ks = (const char *)(*kn)->data.scalar.value;
    if (memchr(*ks, '\0', (*kn)->data.scalar.length) != NULL)
        return cfg_fail(L, (*kn)->start_mark, "key contains a NUL byte");
    return 0;
}

/* Reports "duplicate key" when key index i appears before in m. */
int cfg_check_duplicate(struct loader *L, yaml_node_t *m, yaml_node_pair_t *p,
                        const char *ks, yaml_node_t *kn, const char *where)
{
    for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
        yaml_node_t *qk = cfg_doc_node(L, q->key);
        if (qk != NULL && qk->type == YAML_SCALAR_NODE &&
            strcmp((const char *)qk->data.scalar.value, ks) == 0)
            return cfg_fail(L, kn->start_mark, "duplicate key '%s' in %s (first at line %zu)",
                            ks, where, (size_t)qk->start_mark.line + 1);
    }
    return 0;
}

/* Line and column (1-based) of byte offset `off` in buf, for reader
 * errors, which libyaml reports as an offset only. */
static void cfg_offset_to_linecol(const char *buf, size_t len, size_t off, size_t *line,
                                  size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

int cfg_report_parser_error(struct loader *L, const yaml_parser_t *p, const char *buf,
                            size_t len)
{
    const char *problem = p->problem != NULL ? p->problem : "YAML syntax error";
    if (p->error == YAML_MEMORY_ERROR) {
        cfg_fail_at(L, 1, 1, "out of memory while parsing");
        return FM_ENOMEM;
    }
    if (p->error == YAML_READER_ERROR) {
        size_t line, col;
        cfg_offset_to_linecol(buf, len, p->problem_offset, &line, &col);
        return cfg_fail_at(L, line, col, "%s", problem);
    }
    if (p->context != NULL)
        return cfg_fail(L, p->problem_mark, "%s %s (line %zu, column %zu)", problem, p->context,
                        (size_t)p->context_mark.line + 1, (size_t)p->context_mark.column + 1);
    return cfg_fail(L, p->problem_mark, "%s", problem);
}
