/*
 * roster_csv.c — reading an admin's roster spreadsheet saved as CSV
 * (format in docs/interop.md, "Roster import").
 *
 * Three steps over a private copy of the bytes: make it UTF-8 (strip a
 * BOM; text that is not valid UTF-8 is taken as GB18030, what Excel in
 * China saves, and converted with glibc's iconv), split it into RFC 4180
 * records (quoted fields may hold commas, line breaks and doubled quotes;
 * fields are unescaped in place, which only ever shrinks them), and hand
 * the header and each row to roster_rows.c. Errors do not stop the read:
 * each is listed with its line so the admin fixes the sheet in one pass.
 */
#include "roster_int.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void roster_error(struct roster_ctx *c, size_t line, const char *column, const char *fmt, ...)
{
    c->r->nerrors++;
    if (c->errf == NULL || c->nlisted >= FMT_ROSTER_MAX_ERRORS)
        return;
    c->nlisted++;
    fprintf(c->errf, "%s:%zu: ", c->name, line);
    if (column != NULL)
        fprintf(c->errf, "column %s: ", column);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->errf, fmt, ap);
    va_end(ap);
    fputc('\n', c->errf);
}

bool roster_utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t len = s[i] < 0x80 ? 1 : fm_utf8_seq(s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

static size_t line_of(const char *buf, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off; i++)
        line += buf[i] == '\n';
    return line;
}

/* The first byte offset where s stops being UTF-8 (n if it never does). */
static size_t utf8_bad_at(const uint8_t *s, size_t n)
{
    size_t lo = 0;
    /* lines are independent: find the first line that fails */
    while (lo < n) {
        const uint8_t *nl = memchr(s + lo, '\n', n - lo);
        size_t end = nl != NULL ? (size_t)(nl - s) : n;
        if (!roster_utf8_ok(s + lo, end - lo))
            return lo;
        lo = end + 1;
    }
    return n;
}

static int from_gb18030(struct roster_ctx *c, const char *in, size_t len, char **out,
                        size_t *outlen)
{
    if (len >= 4 && memcmp(in, "\x84\x31\x95\x33", 4) == 0) /* GB18030's BOM */
        in += 4, len -= 4;
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1) {
        roster_error(c, 1, NULL, "this system cannot convert GB18030 (iconv: %s)",
                     strerror(errno));
        return FM_EDECODE;
    }
    size_t cap = len * 2 + 16; /* 1->1, 2->3, 4->4 bytes */
    char *buf = malloc(cap + 1), *ip = (char *)in, *op = buf;
    size_t il = len, ol = cap;
    int rc = FM_OK;
    if (buf == NULL) {
        rc = FM_ENOMEM;
    } else if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
        size_t at = (size_t)(ip - in);
        roster_error(c, line_of(in, at), NULL,
                     "neither UTF-8 nor GB18030 (byte 0x%02x at offset %zu); save the sheet "
                     "as \"CSV UTF-8\"", at < len ? (unsigned)(uint8_t)in[at] : 0u, at);
        rc = FM_EDECODE;
    }
    iconv_close(cd);
    if (rc != FM_OK) {
        free(buf);
        return rc;
    }
    *op = '\0';
    *out = buf;
    *outlen = (size_t)(op - buf);
    c->r->was_gb18030 = true;
    return FM_OK;
}

static int to_utf8(struct roster_ctx *c, const char *in, size_t len, enum fmt_roster_encoding enc,
                   char **out, size_t *outlen)
{
    if (len >= 2 && (memcmp(in, "\xff\xfe", 2) == 0 || memcmp(in, "\xfe\xff", 2) == 0)) {
        roster_error(c, 1, NULL, "the file is UTF-16 (Excel's \"Unicode Text\"); save the "
                     "sheet as \"CSV UTF-8\" or plain \"CSV\"");
        return FM_EDECODE;
    }
    bool bom = len >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0;
    if (bom)
        in += 3, len -= 3;
    size_t bad = utf8_bad_at((const uint8_t *)in, len);
    if (enc == FMT_ROSTER_GB18030 || (enc == FMT_ROSTER_AUTO && !bom && bad < len))
        return from_gb18030(c, in, len, out, outlen);
    if (bad < len) {
        roster_error(c, line_of(in, bad), NULL,
                     "not valid UTF-8; save the sheet as \"CSV UTF-8\" or pass --encoding "
                     "gb18030");
        return FM_EDECODE;
    }
    if ((*out = malloc(len + 1)) == NULL)
        return FM_ENOMEM;
    memcpy(*out, in, len);
    (*out)[len] = '\0';
    *outlen = len;
    return FM_OK;
}

/* ---- RFC 4180 records ---- */

struct cur {
    char *p, *end;
    size_t line;
};

static bool at_eol(const struct cur *k)
{
    return k->p == k->end || *k->p == '\n' || (*k->p == '\r' && k->end - k->p >= 2 &&
                                               k->p[1] == '\n');
}

static void skip_eol(struct cur *k)
{
    if (k->p < k->end && *k->p == '\r')
        k->p++;
    if (k->p < k->end && *k->p == '\n') {
        k->p++;
        k->line++;
    }
}

/* A quoted field from just after its opening quote; w is where the text
 * goes. false when the quote is never closed (the rest of the file). */
static bool quoted_field(struct roster_ctx *c, struct cur *k, struct roster_field *f, size_t i)
{
    char *w = f->s;
    for (;;) {
        if (k->p == k->end) {
            roster_error(c, f->line, roster_col_name(c, i),
                         "the quoted field opened here is never closed");
            return false;
        }
        char ch = *k->p++;
        if (ch == '"') {
            if (k->p < k->end && *k->p == '"') {
                k->p++;
                *w++ = '"';
                continue;
            }
            break;
        }
        if (ch == '\n')
            k->line++;
        *w++ = ch;
    }
    f->len = (size_t)(w - f->s);
    while (k->p < k->end && (*k->p == ' ' || *k->p == '\t'))
        k->p++;
    if (k->p < k->end && *k->p != ',' && !at_eol(k)) {
        roster_error(c, k->line, roster_col_name(c, i),
                     "text after the closing quote (double a quote inside a quoted field)");
        while (k->p < k->end && *k->p != ',' && !at_eol(k))
            k->p++;
    }
    return true;
}

static void plain_field(struct roster_ctx *c, struct cur *k, struct roster_field *f, size_t i)
{
    char *start = k->p;
    bool quote_seen = false;
    while (k->p < k->end && *k->p != ',' && !at_eol(k)) {
        if (*k->p == '"' && !quote_seen) {
            quote_seen = true;
            roster_error(c, k->line, roster_col_name(c, i),
                         "a quote inside an unquoted field (quote the whole field and "
                         "double the quote)");
        }
        k->p++;
    }
    size_t n = (size_t)(k->p - start);
    while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
        n--;
    memmove(f->s, start, n);
    f->len = n;
}

/* The next record; false at the end of the input or an unclosed quote. */
static bool next_record(struct roster_ctx *c, struct cur *k, struct roster_record *rec)
{
    struct roster_field spare;
    char *w = k->p;
    if (k->p == k->end)
        return false;
    rec->n = 0;
    rec->line = k->line;
    for (;;) {
        struct roster_field *f = rec->n < ROSTER_MAX_FIELDS ? &rec->f[rec->n] : &spare;
        size_t i = rec->n++;
        while (k->p < k->end && (*k->p == ' ' || *k->p == '\t'))
            k->p++;
        f->line = k->line;
        f->s = w;
        f->quoted = k->p < k->end && *k->p == '"';
        if (f->quoted) {
            k->p++;
            if (!quoted_field(c, k, f, i))
                return false;
        } else {
            plain_field(c, k, f, i);
        }
        w = f->s + f->len + 1;
        bool comma = k->p < k->end && *k->p == ',';
        if (comma)
            k->p++;
        else
            skip_eol(k);
        /* only now: the terminator may land on the separator just read */
        f->s[f->len] = '\0';
        if (!comma)
            return true;
    }
}

static bool record_blank(const struct roster_record *rec)
{
    for (size_t i = 0; i < rec->n && i < ROSTER_MAX_FIELDS; i++)
        if (rec->f[i].len > 0)
            return false;
    return true;
}

static void read_records(struct roster_ctx *c, char *text, size_t len)
{
    static const struct roster_record zero;
    struct roster_record *rec = malloc(sizeof *rec);
    struct cur k = {text, text + len, 1};
    bool header = false;
    if (rec == NULL) {
        roster_error(c, 1, NULL, "out of memory");
        return;
    }
    *rec = zero;
    while (next_record(c, &k, rec)) {
        if (record_blank(rec))
            continue;
        if (!header) {
            header = true;
            if (!roster_header(c, rec))
                break;
            continue;
        }
        roster_row(c, rec);
    }
    if (!header && c->r->nerrors == 0)
        roster_error(c, 1, NULL, "no header row (the file is empty)");
    else if (header && c->r->ndepts == 0 && c->r->nerrors == 0)
        roster_error(c, k.line, NULL, "no department rows under the header");
    free(rec);
}

int fmt_roster_parse(const char *buf, size_t len, const char *name,
                     enum fmt_roster_encoding enc, struct fmt_roster *out)
{
    struct roster_ctx c = {.name = name, .r = out};
    char *text = NULL;
    size_t tlen = 0;
    int rc;
    memset(out, 0, sizeof *out);
    if ((c.errf = open_memstream(&out->errors, &c.errsize)) == NULL)
        return FM_ENOMEM;
    if (len > FMT_ROSTER_MAX_BYTES) {
        roster_error(&c, 1, NULL, "file too large (at most %u bytes)", FMT_ROSTER_MAX_BYTES);
        rc = FM_ETOOBIG;
        goto out;
    }
    if ((rc = to_utf8(&c, buf, len, enc, &text, &tlen)) != FM_OK)
        goto out;
    read_records(&c, text, tlen);
    rc = out->nerrors > 0 ? FM_EDECODE : FM_OK;
out:
    if (out->nerrors > c.nlisted)
        fprintf(c.errf, "%s: and %zu more errors\n", name, out->nerrors - c.nlisted);
    if (fclose(c.errf) != 0 && rc == FM_OK)
        rc = FM_ENOMEM;
    if (out->nerrors == 0) {
        free(out->errors);
        out->errors = NULL;
    }
    free(text);
    return rc;
}

void fmt_roster_release(struct fmt_roster *r)
{
    if (r == NULL)
        return;
    free(r->errors);
    r->errors = NULL;
}
