/*
 * roster_int.h — shared by the roster CSV decoder's two files:
 * roster_csv.c (bytes to UTF-8, RFC 4180 records, the error list) and
 * roster_rows.c (the header and each row against the column rules).
 */
#ifndef FM_ROSTER_INT_H
#define FM_ROSTER_INT_H

#include "formats.h"

#include <stdio.h>

#define ROSTER_MAX_FIELDS 32 /* kept per record; more are counted */

struct roster_field {
    char *s;       /* NUL-terminated in the decoder's buffer; may hold a NUL */
    size_t len;
    size_t line;   /* where the field starts */
    bool quoted;
};

struct roster_record {
    size_t n;      /* fields in the record, kept or not */
    size_t line;
    struct roster_field f[ROSTER_MAX_FIELDS];
};

struct roster_ctx {
    const char *name;
    struct fmt_roster *r;
    FILE *errf;               /* open_memstream over r->errors */
    size_t errsize;
    size_t nlisted;
    int col[ROSTER_MAX_FIELDS]; /* header index -> enum roster_col, or -1 */
    size_t ncols;
};

void roster_error(struct roster_ctx *c, size_t line, const char *column, const char *fmt, ...)
    FM_PRINTF(4, 5);
/* Whether s[0..n) is UTF-8 without overlongs, surrogates or C1 controls. */
bool roster_utf8_ok(const uint8_t *s, size_t n);
/* Checks the header record and remembers the column order; false if the
 * file cannot be read on (an error was listed). */
bool roster_header(struct roster_ctx *c, struct roster_record *rec);
/* Checks one data row and adds its department and unit. */
void roster_row(struct roster_ctx *c, struct roster_record *rec);
/* The column name for field i of a row, "header" before the header is read. */
const char *roster_col_name(const struct roster_ctx *c, size_t i);

#endif
