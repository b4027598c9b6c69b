/*
 * operators.c — the node's operator accounts file (<data_dir>/operators):
 * a strict parser (the file may have been edited or damaged, so it is
 * treated as untrusted bytes and fuzzed), rendering it back, durable
 * saving, and Argon2id password hashes (libsodium's crypto_pwhash_str).
 */
#include "console_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPERATORS_HEADER "# fieldmesh operators v1: NAME<TAB>ROLE<TAB>ARGON2ID-HASH\n"

static const char *const role_names[] = { "viewer", "calltaker", "dispatcher", "admin" };

const char *fm_op_role_name(enum fm_op_role r)
{
    return (unsigned)r < 4 ? role_names[r] : "?";
}

int fm_op_role_parse(const char *s, enum fm_op_role *out)
{
    for (unsigned i = 0; i < 4; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum fm_op_role)i;
            return FM_OK;
        }
    return FM_EINVAL;
}

/* Printable UTF-8 (well-formed, no C0/C1 controls, no DEL), no space,
 * tab or ':', 1..FM_OPERATOR_NAME_MAX-1 bytes. */
bool fm_operator_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= FM_OPERATOR_NAME_MAX)
        return false;
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        unsigned c = *p;
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
            return false;
        if (len == 1 && (c <= 0x20 || c == 0x7f || c == ':'))
            return false;
        for (size_t i = 1; i < len; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        if (len == 2 && c == 0xc2 && p[1] < 0xa0)
            return false; /* C1 controls and NBSP */
        if (len == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
            return false; /* overlong, surrogates */
        if (len == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
            return false;
        p += len;
    }
    return true;
}

/* An Argon2id string as crypto_pwhash_str makes it: printable ASCII. */
static bool hash_ok(const char *h)
{
    size_t n = strlen(h);
    if (n < 20 || n >= FM_OPERATOR_HASH_MAX || strncmp(h, "$argon2id$", 10) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (h[i] <= 0x20 || h[i] >= 0x7f)
            return false;
    return true;
}

void fm_operators_free(struct fm_operators *o)
{
    if (o->ops != NULL)
        sodium_memzero(o->ops, o->n * sizeof *o->ops);
    free(o->ops);
    o->ops = NULL;
    o->n = 0;
}

struct fm_operator *fm_operators_find(struct fm_operators *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->ops[i].name, name) == 0)
            return &o->ops[i];
    return NULL;
}

int fm_operators_set(struct fm_operators *o, const char *name, enum fm_op_role role,
                     const char *hash, bool replace)
{
    if (!fm_operator_name_ok(name) || !hash_ok(hash) || (unsigned)role > FM_OPROLE_ADMIN)
        return FM_EINVAL;
    struct fm_operator *op = fm_operators_find(o, name);
    if (op != NULL && !replace)
        return FM_EEXISTS;
    if (op == NULL && replace)
        return FM_ENOTFOUND;
    if (op == NULL) {
        if (o->n >= FM_OPERATORS_MAX)
            return FM_ETOOBIG;
        struct fm_operator *grown = realloc(o->ops, (o->n + 1) * sizeof *grown);
        if (grown == NULL)
            return FM_ENOMEM;
        o->ops = grown;
        op = &o->ops[o->n++];
        fm_strlcpy(op->name, name, sizeof op->name);
    }
    op->role = role;
    fm_strlcpy(op->hash, hash, sizeof op->hash);
    return FM_OK;
}

int fm_operators_remove(struct fm_operators *o, const char *name)
{
    struct fm_operator *op = fm_operators_find(o, name);
    if (op == NULL)
        return FM_ENOTFOUND;
    size_t i = (size_t)(op - o->ops);
    memmove(op, op + 1, (o->n - i - 1) * sizeof *op);
    o->n--;
    return FM_OK;
}

/* One line "NAME\tROLE\tHASH" (without its newline) into the list. */
static int parse_line(char *line, struct fm_operators *out, size_t lineno, char *err,
                      size_t errlen)
{
    char *t1 = strchr(line, '\t');
    char *t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
    enum fm_op_role role;
    if (t1 == NULL || t2 == NULL || strchr(t2 + 1, '\t') != NULL) {
        snprintf(err, errlen, "line %zu: expected NAME<TAB>ROLE<TAB>HASH", lineno);
        return FM_EDECODE;
    }
    *t1 = *t2 = '\0';
    if (!fm_operator_name_ok(line)) {
        snprintf(err, errlen, "line %zu: bad operator name", lineno);
        return FM_EDECODE;
    }
    if (fm_op_role_parse(t1 + 1, &role) != FM_OK) {
        snprintf(err, errlen, "line %zu: unknown role (calltaker, dispatcher, viewer, admin)",
                 lineno);
        return FM_EDECODE;
    }
    if (!hash_ok(t2 + 1)) {
        snprintf(err, errlen, "line %zu: bad password hash (expected $argon2id$...)", lineno);
        return FM_EDECODE;
    }
    int rc = fm_operators_set(out, line, role, t2 + 1, false);
    if (rc == FM_EEXISTS)
        snprintf(err, errlen, "line %zu: operator '%s' listed twice", lineno, line);
    else if (rc != FM_OK)
        snprintf(err, errlen, "line %zu: %s", lineno, fm_strerror(rc));
    return rc == FM_OK ? FM_OK : rc == FM_ENOMEM ? rc : FM_EDECODE;
}

struct parse_arg {
    struct fm_operators *out;
    char *err;
    size_t errlen;
};

/* console_each_line's callback. */
static int take_line(char *line, size_t lineno, void *arg)
{
    struct parse_arg *a = arg;
    return parse_line(line, a->out, lineno, a->err, a->errlen);
}

int fm_operators_parse(const char *buf, size_t len, struct fm_operators *out, char *err,
                       size_t errlen)
{
    struct parse_arg a = {out, err, errlen};
    size_t open_line = 0;
    if (len > FM_OPERATORS_FILE_MAX) {
        snprintf(err, errlen, "file too large (%zu bytes)", len);
        return FM_EDECODE;
    }
    if (memchr(buf, '\0', len) != NULL) {
        snprintf(err, errlen, "file contains a NUL byte");
        return FM_EDECODE;
    }
    int rc = console_each_line(buf, len, take_line, &a, &open_line);
    if (open_line != 0)
        snprintf(err, errlen, "line %zu: missing newline at the end (truncated file?)",
                 open_line);
    if (rc != FM_OK)
        fm_operators_free(out);
    return rc;
}

int fm_operators_render(const struct fm_operators *o, char **text, size_t *len)
{
    FILE *f = open_memstream(text, len);
    if (f == NULL)
        return FM_ENOMEM;
    fputs(OPERATORS_HEADER, f);
    for (size_t i = 0; i < o->n; i++)
        fprintf(f, "%s\t%s\t%s\n", o->ops[i].name, fm_op_role_name(o->ops[i].role),
                o->ops[i].hash);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        free(*text);
        *text = NULL;
        return FM_ENOMEM;
    }
    return FM_OK;
}

int fm_operators_path(const struct fm_config *cfg, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/operators", cfg->data_dir);
    return n < 0 || (size_t)n >= cap ? FM_ETOOBIG : FM_OK;
}

int fm_operators_load(const char *path, struct fm_operators *out, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = fm_file_read_alloc(path, FM_OPERATORS_FILE_MAX, &buf, &len);
    if (rc == FM_ENOTFOUND)
        return FM_OK; /* no operators yet */
    if (rc != FM_OK) {
        snprintf(err, errlen, "%s: %s", path, fm_strerror(rc));
        return rc;
    }
    rc = fm_operators_parse(buf, len, out, err, errlen);
    sodium_memzero(buf, len);
    free(buf);
    return rc;
}

int fm_operators_save(const char *path, const struct fm_operators *o)
{
    char *text = NULL;
    size_t len = 0;
    int rc = fm_operators_render(o, &text, &len);
    if (rc != FM_OK)
        return rc;
    rc = fm_file_write(path, text, len, 0600, false);
    free(text);
    return rc;
}

int fm_password_hash(const char *password, enum fm_kdf_level lvl, char out[FM_OPERATOR_HASH_MAX])
{
    size_t n = strlen(password);
    unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (n < FM_PASSWORD_MIN || n > FM_PASSWORD_MAX)
        return FM_EINVAL;
    if (lvl == FM_KDF_MODERATE) {
        ops = crypto_pwhash_OPSLIMIT_MODERATE;
        mem = crypto_pwhash_MEMLIMIT_MODERATE;
    } else if (lvl == FM_KDF_MINIMAL) { /* tests and demos only */
        ops = crypto_pwhash_OPSLIMIT_MIN;
        mem = crypto_pwhash_MEMLIMIT_MIN;
    }
    _Static_assert(crypto_pwhash_STRBYTES <= FM_OPERATOR_HASH_MAX, "hash buffer");
    if (crypto_pwhash_str_alg(out, password, n, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return FM_ENOMEM;
    return FM_OK;
}

bool fm_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}
