/*
 * out.c — how the CLI prints: aligned tables for people, JSON for
 * programs, and the small formatters both share (coordinates, HLC times,
 * hex).
 *
 * Everything printed may come from another author's signed op, so text is
 * never trusted: JSON strings are escaped here (quotes, backslash, control
 * characters, invalid UTF-8 as U+FFFD) and table cells are made
 * terminal-safe, so a crafted description cannot break the JSON or send
 * escape sequences to an operator's terminal. No JSON library needed.
 */
#include "cli_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
size_t cli_utf8_seq(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (p[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && p[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && p[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xf4 && p[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

void cli_json_escape(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        unsigned char c = *p;
        switch (c) {
        case '"': fputs("\\\"", f); p++; continue;
        case '\\': fputs("\\\\", f); p++; continue;
        case '\b': fputs("\\b", f); p++; continue;
        case '\f': fputs("\\f", f); p++; continue;
        case '\n': fputs("\\n", f); p++; continue;
        case '\r': fputs("\\r", f); p++; continue;
        case '\t': fputs("\\t", f); p++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            p++;
            continue;
        }
        size_t n = cli_utf8_seq((const char *)p);
        if (n == 0) {
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        fwrite(p, 1, n, f);
        p += n;
    }
}

void cli_json_init(struct cli_json *j, FILE *f)
{
    memset(j, 0, sizeof(*j));
    j->f = f;
}

static void json_indent(struct cli_json *j, unsigned depth)
{
    fputc('\n', j->f);
    for (unsigned i = 0; i < depth; i++)
        fputs("  ", j->f);
}

/* Separator and indentation before a value (or a key). */
static void json_pre_value(struct cli_json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth == 0)
        return;
    if (j->has_items[j->depth - 1])
        fputc(',', j->f);
    j->has_items[j->depth - 1] = true;
    json_indent(j, j->depth);
}

static void json_open(struct cli_json *j, char c)
{
    json_pre_value(j);
    fputc(c, j->f);
    if (j->depth < CLI_JSON_DEPTH)
        j->has_items[j->depth] = false;
    j->depth++;
}

static void json_close(struct cli_json *j, char c)
{
    if (j->depth == 0)
        return;
    j->depth--;
    if (j->depth < CLI_JSON_DEPTH && j->has_items[j->depth])
        json_indent(j, j->depth);
    fputc(c, j->f);
}

void cli_json_begin_object(struct cli_json *j) { json_open(j, '{'); }
void cli_json_end_object(struct cli_json *j) { json_close(j, '}'); }
void cli_json_begin_array(struct cli_json *j) { json_open(j, '['); }
void cli_json_end_array(struct cli_json *j) { json_close(j, ']'); }

void cli_json_key(struct cli_json *j, const char *key)
{
    json_pre_value(j);
    fputc('"', j->f);
    cli_json_escape(j->f, key);
    fputs("\": ", j->f);
    j->after_key = true;
}

void cli_json_string(struct cli_json *j, const char *s)
{
    if (s == NULL) {
        cli_json_null(j);
        return;
    }
    json_pre_value(j);
    fputc('"', j->f);
    cli_json_escape(j->f, s);
    fputc('"', j->f);
}

void cli_json_uint(struct cli_json *j, uint64_t v)
{
    json_pre_value(j);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

void cli_json_int(struct cli_json *j, int64_t v)
{
    json_pre_value(j);
    fprintf(j->f, "%lld", (long long)v);
}

void cli_json_bool(struct cli_json *j, bool v)
{
    json_pre_value(j);
    fputs(v ? "true" : "false", j->f);
}

void cli_json_null(struct cli_json *j)
{
    json_pre_value(j);
    fputs("null", j->f);
}

void cli_json_raw(struct cli_json *j, const char *number_text)
{
    json_pre_value(j);
    fputs(number_text, j->f);
}

void cli_json_finish(struct cli_json *j)
{
    fputc('\n', j->f);
}

void cli_json_kstr(struct cli_json *j, const char *key, const char *s)
{
    cli_json_key(j, key);
    cli_json_string(j, s);
}

void cli_json_kuint(struct cli_json *j, const char *key, uint64_t v)
{
    cli_json_key(j, key);
    cli_json_uint(j, v);
}

void cli_json_kint(struct cli_json *j, const char *key, int64_t v)
{
    cli_json_key(j, key);
    cli_json_int(j, v);
}

void cli_json_kcoord(struct cli_json *j, const char *key, int32_t e7)
{
    char buf[CLI_COORD_LEN];
    cli_fmt_coord(e7, buf);
    cli_json_key(j, key);
    cli_json_raw(j, buf);
}

void cli_json_ktime(struct cli_json *j, const char *key, uint64_t hlc)
{
    char buf[CLI_TIME_LEN];
    cli_json_key(j, key);
    if (hlc == 0) {
        cli_json_null(j);
        return;
    }
    cli_fmt_time(hlc, true, buf);
    cli_json_string(j, buf);
}

/* ------------------------------------------------------------------ */
/* formatters                                                          */
/* ------------------------------------------------------------------ */

void cli_fmt_coord(int32_t e7, char out[CLI_COORD_LEN])
{
    int64_t v = e7;
    bool neg = v < 0;
    uint64_t a = (uint64_t)(neg ? -v : v);
    int n = snprintf(out, CLI_COORD_LEN, "%s%llu.%07llu", neg ? "-" : "",
                     (unsigned long long)(a / 10000000u), (unsigned long long)(a % 10000000u));
    /* trim trailing zeros, keeping one decimal */
    while (n > 2 && out[n - 1] == '0' && out[n - 2] != '.')
        out[--n] = '\0';
}

void cli_fmt_time(uint64_t hlc, bool with_ms, char out[CLI_TIME_LEN])
{
    uint64_t ms = hlc >> 16;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, CLI_TIME_LEN, "?");
        return;
    }
    char date[24];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_ms)
        snprintf(out, CLI_TIME_LEN, "%s.%03uZ", date, (unsigned)(ms % 1000));
    else
        snprintf(out, CLI_TIME_LEN, "%sZ", date);
}

/* Tables show local time (TZ, else the system's zone) with its offset, as
 * one ISO-8601 token so column parsers keep working; JSON stays in UTC. */
void cli_fmt_local(uint64_t hlc, bool with_ms, char out[CLI_TIME_LEN])
{
    uint64_t ms = hlc >> 16;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char date[24], zone[8], frac[8] = "";
    if (localtime_r(&secs, &tm) == NULL || strftime(zone, sizeof zone, "%z", &tm) != 5) {
        cli_fmt_time(hlc, with_ms, out);
        return;
    }
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_ms)
        snprintf(frac, sizeof frac, ".%03u", (unsigned)(ms % 1000));
    /* "+0800" -> "+08:00"; a year past 9999 would not fit: UTC then */
    int n = snprintf(out, CLI_TIME_LEN, "%s%s%.3s:%.2s", date, frac, zone, zone + 3);
    if (n < 0 || n >= CLI_TIME_LEN)
        cli_fmt_time(hlc, with_ms, out);
}

void cli_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Invisible formatting characters that can reorder or hide what a terminal
 * shows (bidi overrides and isolates, zero-width marks, BOM): U+200B-200F,
 * U+202A-202E, U+2066-2069, U+FEFF. p starts a valid 3-byte sequence. */
static bool is_format_char(const unsigned char *p)
{
    if (p[0] == 0xe2 && p[1] == 0x80)
        return (p[2] >= 0x8b && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae);
    if (p[0] == 0xe2 && p[1] == 0x81)
        return p[2] >= 0xa6 && p[2] <= 0xa9;
    return p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf;
}

void cli_sanitize(const char *in, char *out, size_t cap, size_t max_chars)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0, chars = 0;
    if (cap == 0)
        return;
    while (*p != '\0') {
        size_t n = cli_utf8_seq((const char *)p);
        if (chars >= max_chars) {
            /* replace the last char with "..." so the cut is visible */
            if (o + 4 <= cap) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        bool control = (n == 1 && (*p < 0x20 || *p == 0x7f)) ||
                       (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) || /* C1 controls */
                       (n == 3 && is_format_char(p));
        if (n == 0 || control) {
            if (o + 2 > cap)
                break;
            out[o++] = n == 0 ? '?' : ' ';
            p += n == 0 ? 1 : n;
        } else {
            if (o + n + 1 > cap)
                break;
            memcpy(out + o, p, n);
            o += n;
            p += n;
        }
        chars++;
    }
    out[o] = '\0';
}

/* Columns a code point takes in a terminal: 2 for East Asian wide and
 * fullwidth characters (Chinese addresses and names are the common case)
 * and emoji, else 1. The ranges follow Unicode's East Asian Width "W"/"F"
 * blocks in outline. */
static unsigned cp_width(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
                   (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
                   (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
                   (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
                   (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
                   (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
                   (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd)
               ? 2
               : 1;
}

/* Columns the character at p (n bytes, valid UTF-8) takes. */
static unsigned char_width(const unsigned char *p, size_t n)
{
    uint32_t c = n == 1 ? p[0]
               : n == 2 ? (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f)
               : n == 3 ? (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 |
                              (p[2] & 0x3f)
                        : (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 |
                              (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
    return cp_width(c);
}

/* Display width of sanitized (valid UTF-8) text. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        size_t n = cli_utf8_seq((const char *)p);
        if (n == 0) { /* cannot happen after cli_sanitize; count and move on */
            w++;
            p++;
            continue;
        }
        w += char_width(p, n);
        p += n;
    }
    return w;
}

/* Cuts sanitized text s (with room for 3 more bytes past any cut) to at
 * most max_cols terminal columns, ending a cut with "...": a name of 64
 * Chinese characters is 128 columns, too wide for a table column. */
static void cut_to_width(char *s, size_t max_cols)
{
    unsigned char *p = (unsigned char *)s;
    size_t w = 0;
    while (*p != '\0') {
        size_t n = cli_utf8_seq((const char *)p);
        if (n == 0)
            n = 1;
        unsigned cw = char_width(p, n);
        if (w + cw > max_cols) {
            memcpy(p, "...", 4);
            return;
        }
        w += cw;
        p += n;
    }
}

/* ------------------------------------------------------------------ */
/* tables                                                              */
/* ------------------------------------------------------------------ */

void cli_table_init(struct cli_table *t, const char *const *headers, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->headers = headers;
    t->ncols = ncols < CLI_MAX_OPTS ? ncols : CLI_MAX_OPTS;
    for (size_t c = 0; c < t->ncols; c++)
        t->width[c] = text_width(headers[c]);
}

int cli_table_add(struct cli_table *t, const char *const *cells, size_t max_cols)
{
    if (t->nrows == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        char **n = realloc(t->cells, ncap * t->ncols * sizeof(*n));
        if (n == NULL)
            return FM_ENOMEM;
        t->cells = n;
        t->cap = ncap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t c = 0; c < t->ncols; c++) {
        const char *in = cells[c] != NULL ? cells[c] : "";
        size_t cap = strlen(in) * 3 + 8; /* '?' or "..." never grows beyond this */
        row[c] = malloc(cap);
        if (row[c] == NULL) {
            while (c-- > 0)
                free(row[c]);
            return FM_ENOMEM;
        }
        cli_sanitize(in, row[c], cap, max_cols);
        size_t w = text_width(row[c]);
        if (w > max_cols) {
            cut_to_width(row[c], max_cols);
            w = text_width(row[c]);
        }
        if (w > t->width[c])
            t->width[c] = w;
    }
    t->nrows++;
    return 0;
}

static void print_row(const struct cli_table *t, const char *const *cells, FILE *f)
{
    for (size_t c = 0; c < t->ncols; c++) {
        fputs(cells[c], f);
        if (c + 1 < t->ncols)
            for (size_t w = text_width(cells[c]); w < t->width[c] + 2; w++)
                fputc(' ', f);
    }
    fputc('\n', f);
}

void cli_table_print(const struct cli_table *t, FILE *f)
{
    print_row(t, t->headers, f);
    for (size_t r = 0; r < t->nrows; r++)
        print_row(t, (const char *const *)(t->cells + r * t->ncols), f);
}

void cli_table_release(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ */
/* list commands                                                       */
/* ------------------------------------------------------------------ */

void cli_list_begin(bool json, struct cli_json *j, struct cli_table *t, FILE *f,
                    const char *const *headers, size_t ncols)
{
    if (json) {
        cli_json_init(j, f);
        cli_json_begin_array(j);
    } else {
        cli_table_init(t, headers, ncols);
    }
}

int cli_list_end(bool json, struct cli_json *j, struct cli_table *t, FILE *f, int rc)
{
    if (json) {
        cli_json_end_array(j);
        cli_json_finish(j);
        return rc;
    }
    if (rc == 0)
        cli_table_print(t, f);
    cli_table_release(t);
    return rc;
}
