/*
 * yamlkit.c — the strict-YAML toolkit (yamlkit.h) that the node config and
 * the organisation directory are read with.
 *
 * The idea: libyaml is trusted to tokenise, never to decide what a value
 * means. A hostile file is first walked event by event with a depth
 * counter (libyaml's document loader costs time quadratic in the nesting:
 * a 1 MiB file nested 40,000 deep took 2.1 s), so it is refused in
 * microseconds before the loader sees it. Then each value is read by a
 * helper that accepts exactly one shape and otherwise says where the
 * file went wrong, as "file:line:column: what". Everything here is
 * independent of what the file describes; the schema walks live with
 * their parsers.
 */
#include "yamlkit.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define YK_DIGITS "0123456789"

void yk_init(struct yk_loader *L, const char *file, char *err, size_t errlen)
{
    memset(L, 0, sizeof *L);
    L->file = file;
    if (err == NULL || errlen == 0) {
        err = L->none;
        errlen = sizeof L->none;
    }
    err[0] = '\0';
    L->err = err;
    L->errlen = errlen;
    L->scalar_want = "a single value";
}

void yk_release(struct yk_loader *L)
{
    if (L->have_doc)
        yaml_document_delete(&L->doc);
    if (L->have_parser)
        yaml_parser_delete(&L->parser);
    L->have_doc = L->have_parser = false;
}

int yk_fail_at(struct yk_loader *L, size_t line, size_t col, const char *fmt, ...)
{
    int n = snprintf(L->err, L->errlen, "%s:%zu:%zu: ", L->file, line, col);
    if (n >= 0 && (size_t)n < L->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return FM_ECONFIG;
}

int yk_read_file(struct yk_loader *L, size_t max, char **out, size_t *len)
{
    int rc = fm_file_read_alloc(L->file, max, out, len);
    if (rc == FM_ETOOBIG)
        return yk_fail_at(L, 1, 1, "file too large (max %zu bytes)", max);
    if (rc == FM_ENOMEM) {
        if (L->style & YK_PARSER_DETAIL)
            snprintf(L->err, L->errlen, "%s: out of memory", L->file);
    } else if (rc != FM_OK) {
        snprintf(L->err, L->errlen, "%s: cannot open: %s", L->file, strerror(errno));
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

/* Walks the events of buf and stops at the first mapping or sequence
 * nested deeper than max_depth: FM_ETOOBIG with its 1-based place. FM_OK
 * when there is none, including when the text is not valid YAML (the
 * loader reports that itself); FM_ENOMEM. */
static int check_depth(const char *buf, size_t len, unsigned max_depth, size_t *line,
                       size_t *col)
{
    yaml_parser_t p;
    yaml_event_t ev;
    unsigned depth = 0;
    int rc = FM_OK;
    if (!yaml_parser_initialize(&p))
        return FM_ENOMEM;
    yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev))
            break;
        yaml_event_type_t t = ev.type;
        if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT) {
            if (++depth > max_depth) {
                *line = ev.start_mark.line + 1;
                *col = ev.start_mark.column + 1;
                rc = FM_ETOOBIG;
            }
        } else if (t == YAML_MAPPING_END_EVENT || t == YAML_SEQUENCE_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (rc != FM_OK || t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&p);
    return rc;
}

/* Line and column (1-based, in characters) of byte offset off of buf:
 * libyaml places its reader errors by offset only. */
static void offset_place(const char *buf, size_t len, size_t off, size_t *line, size_t *col)
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

/* The parser's error as a located message (buf, len: the text parsed). */
static int parser_error(struct yk_loader *L, const char *buf, size_t len)
{
    const yaml_parser_t *p = &L->parser;
    const char *problem = p->problem != NULL ? p->problem : "YAML syntax error";
    if (!(L->style & YK_PARSER_DETAIL))
        return yk_fail_mark(L, p->problem_mark, "%s", problem);
    if (p->error == YAML_MEMORY_ERROR) {
        yk_fail_at(L, 1, 1, "out of memory while parsing");
        return FM_ENOMEM;
    }
    if (p->error == YAML_READER_ERROR) {
        size_t line, col;
        offset_place(buf, len, p->problem_offset, &line, &col);
        return yk_fail_at(L, line, col, "%s", problem);
    }
    if (p->context != NULL)
        return yk_fail_mark(L, p->problem_mark, "%s %s (line %zu, column %zu)", problem,
                            p->context, (size_t)p->context_mark.line + 1,
                            (size_t)p->context_mark.column + 1);
    return yk_fail_mark(L, p->problem_mark, "%s", problem);
}

static int out_of_memory(struct yk_loader *L)
{
    if (L->style & YK_PARSER_DETAIL)
        snprintf(L->err, L->errlen, "%s: out of memory", L->file);
    return FM_ENOMEM;
}

int yk_parse(struct yk_loader *L, const char *buf, size_t len)
{
    size_t line = 0, col = 0;
    int rc = check_depth(buf, len, YK_MAX_DEPTH, &line, &col);
    if (rc == FM_ETOOBIG)
        return yk_fail_at(L, line, col, "nesting deeper than %d", YK_MAX_DEPTH);
    if (rc != FM_OK)
        return out_of_memory(L);
    if (!yaml_parser_initialize(&L->parser))
        return out_of_memory(L);
    L->have_parser = true;
    yaml_parser_set_input_string(&L->parser, (const unsigned char *)buf, len);
    if (!yaml_parser_load(&L->parser, &L->doc))
        return parser_error(L, buf, len);
    L->have_doc = true;
    return 0;
}

int yk_single_document(struct yk_loader *L, const char *why)
{
    yaml_document_t extra;
    const char *buf = (const char *)L->parser.input.string.start;
    size_t len = (size_t)(L->parser.input.string.end - L->parser.input.string.start);
    if (!yaml_parser_load(&L->parser, &extra))
        return parser_error(L, buf, len);
    yaml_node_t *r = yaml_document_get_root_node(&extra);
    int rc = 0;
    if (r != NULL)
        rc = yk_fail(L, r, "more than one YAML document (%s)", why);
    yaml_document_delete(&extra);
    return rc;
}

yaml_node_t *yk_root(struct yk_loader *L) { return yaml_document_get_root_node(&L->doc); }

yaml_node_t *yk_node(struct yk_loader *L, int idx)
{
    return yaml_document_get_node(&L->doc, idx);
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */
/* ------------------------------------------------------------------ */

const char *yk_plain(const yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return NULL;
    return (const char *)v->data.scalar.value;
}

int yk_scalar(struct yk_loader *L, yaml_node_t *v, const char *key, const char **out)
{
    if (v->type != YAML_SCALAR_NODE)
        return yk_fail(L, v, "expected %s for '%s'", L->scalar_want, key);
    const char *s = (const char *)v->data.scalar.value;
    if (memchr(s, '\0', v->data.scalar.length) != NULL)
        return yk_fail(L, v, "'%s' contains a NUL byte", key);
    *out = s;
    return 0;
}

bool yk_is_null(const yaml_node_t *v)
{
    const char *s = yk_plain(v);
    if (s == NULL)
        return false;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

bool yk_has_control_char(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return true;
    return false;
}

bool yk_printable_utf8(const char *s, size_t n)
{
    const uint8_t *b = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        size_t step = 1;
        if (b[i] >= 0x80)
            step = fm_utf8_seq(b + i, n - i); /* 0 when ill-formed or C1 */
        else if (b[i] < 0x20 || b[i] == 0x7f)
            step = 0;
        if (step == 0)
            return false;
        i += step;
    }
    return true;
}

static int out_of_range(struct yk_loader *L, yaml_node_t *v, const char *key, uint64_t lo,
                        uint64_t hi)
{
    return yk_fail(L, v, "'%s' must be between %llu and %llu", key, (unsigned long long)lo,
                   (unsigned long long)hi);
}

int yk_uint(struct yk_loader *L, yaml_node_t *v, const char *key, uint64_t lo, uint64_t hi,
            uint64_t *out)
{
    uint64_t val = 0;
    const char *s = yk_plain(v);
    if (s == NULL)
        return yk_fail(L, v, "expected an integer for '%s'", key);
    size_t n = v->data.scalar.length;
    bool digits = n > 0 && strspn(s, YK_DIGITS) == n;
    if (!digits || n > 19 || fm_parse_u64(s, &val) != 0) {
        /* a number all the same (too long, or negative)? */
        bool number = digits || (n > 1 && s[0] == '-' && strspn(s + 1, YK_DIGITS) == n - 1);
        if (number && (L->style & YK_RANGE_ANY_NUMBER))
            return out_of_range(L, v, key, lo, hi);
        return yk_fail(L, v, "expected an integer for '%s'", key);
    }
    if (val < lo || val > hi)
        return out_of_range(L, v, key, lo, hi);
    *out = val;
    return 0;
}

int yk_bool(struct yk_loader *L, yaml_node_t *v, const char *key, bool *out)
{
    const char *s = yk_plain(v);
    if (s == NULL || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
        return yk_fail(L, v, "expected true or false for '%s'", key);
    *out = s[0] == 't';
    return 0;
}

int yk_text(struct yk_loader *L, yaml_node_t *v, const char *key, char *out, size_t cap)
{
    const char *s = NULL;
    int rc = yk_scalar(L, v, key, &s);
    if (rc != 0)
        return rc;
    size_t n = v->data.scalar.length;
    if (n == 0 || n > cap - 1) {
        size_t chars = 0;
        for (size_t i = 0; i < n; i++)
            chars += ((unsigned char)s[i] & 0xC0) != 0x80; /* UTF-8 lead bytes */
        return yk_fail(L, v, "'%s' must be 1 to %zu bytes (%zu Chinese characters); got %zu "
                             "bytes (%zu characters)", key, cap - 1, (cap - 1) / 3, n, chars);
    }
    if (!yk_printable_utf8(s, n))
        return yk_fail(L, v, "'%s' must be printable UTF-8 text (no control characters)", key);
    memcpy(out, s, n + 1);
    return 0;
}

int yk_name(struct yk_loader *L, yaml_node_t *v, const char *key, char out[FM_NAME_MAX])
{
    const char *s = NULL;
    int rc = yk_scalar(L, v, key, &s);
    if (rc != 0)
        return rc;
    size_t n = v->data.scalar.length, chars = fm_utf8_chars(s, n);
    if (n == 0 || chars > FM_NAME_CHARS)
        return yk_fail(L, v, "'%s' must be 1 to %d characters; got %zu characters", key,
                       FM_NAME_CHARS, chars);
    if (n > FM_NAME_MAX - 1)
        return yk_fail(L, v, "'%s' must be 1 to %d characters and at most %d bytes; got %zu "
                             "bytes", key, FM_NAME_CHARS, FM_NAME_MAX - 1, n);
    if (!yk_printable_utf8(s, n))
        return yk_fail(L, v, "'%s' must be printable UTF-8 text (no control characters)", key);
    memcpy(out, s, n + 1);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Mappings and sequences                                              */
/* ------------------------------------------------------------------ */

/* "duplicate key" when ks is also the key of a pair of m before p. */
static int check_duplicate(struct yk_loader *L, yaml_node_t *m, yaml_node_pair_t *p,
                           const char *ks, yaml_node_t *kn, const char *where)
{
    for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
        yaml_node_t *qk = yk_node(L, q->key);
        if (qk != NULL && qk->type == YAML_SCALAR_NODE &&
            strcmp((const char *)qk->data.scalar.value, ks) == 0)
            return yk_fail(L, kn, "duplicate key '%s' in %s (first at line %zu)", ks, where,
                           (size_t)qk->start_mark.line + 1);
    }
    return 0;
}

int yk_pair_key(struct yk_loader *L, yaml_node_t *m, yaml_node_pair_t *p, const char *where,
                yaml_node_t **kn, const char **ks)
{
    *kn = yk_node(L, p->key);
    if (*kn == NULL)
        return yk_fail_mark(L, L->doc.start_mark, "expected a plain key");
    if ((*kn)->type != YAML_SCALAR_NODE)
        return yk_fail(L, *kn, "expected a plain key");
    *ks = (const char *)(*kn)->data.scalar.value;
    if (memchr(*ks, '\0', (*kn)->data.scalar.length) != NULL)
        return yk_fail(L, *kn, "key contains a NUL byte");
    return check_duplicate(L, m, p, *ks, *kn, where);
}

int yk_map_each(struct yk_loader *L, yaml_node_t *m, const char *where, yk_field_fn fn,
                void *arg)
{
    if (m->type != YAML_MAPPING_NODE)
        return yk_fail(L, m, "expected a mapping for %s", where);
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yk_node(L, p->key), *v = yk_node(L, p->value);
        if (kn == NULL || v == NULL || kn->type != YAML_SCALAR_NODE)
            return yk_fail(L, m, "expected plain keys in %s", where);
        const char *ks = (const char *)kn->data.scalar.value;
        int rc = check_duplicate(L, m, p, ks, kn, where);
        if (rc == 0)
            rc = fn(L, ks, kn, v, arg);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int yk_need_seq(struct yk_loader *L, yaml_node_t *v, const char *key)
{
    if (v->type != YAML_SEQUENCE_NODE)
        return yk_fail(L, v, "expected a list for '%s'", key);
    return 0;
}

size_t yk_seq_len(const yaml_node_t *v)
{
    return (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
}

yaml_node_t *yk_seq_at(struct yk_loader *L, const yaml_node_t *v, size_t i)
{
    if (i >= yk_seq_len(v))
        return NULL;
    return yk_node(L, v->data.sequence.items.start[i]);
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

void yk_put_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
