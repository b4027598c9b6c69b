/*
 * roster_rows.c — the roster's columns: which the header must name, what
 * each cell may hold, and how rows become departments and units.
 *
 * One row per unit; its department's columns are repeated on every row of
 * that department and must agree. A row with the unit columns all empty
 * lists a department without units. The checks mirror the directory
 * loader's (directory_yaml.c) so that what passes here publishes; each
 * failure names the line and the column and reading goes on.
 */
#include "roster_int.h"

#include <string.h>

enum roster_col {
    COL_DEPT, COL_DEPT_KIND, COL_TIER, COL_COUNTY, COL_UNIT, COL_UNIT_KIND, COL_CAPS, COL_LAT,
    COL_LON, COL_COUNT
};

static const char *const col_names[COL_COUNT] = {
    "department", "department_kind", "tier", "county", "unit", "unit_kind", "capabilities",
    "lat", "lon",
};

/* capabilities may be left out; every other column must be in the header */
static bool col_required(int col) { return col != COL_CAPS; }

const char *roster_col_name(const struct roster_ctx *c, size_t i)
{
    if (c->ncols == 0)
        return "header";
    if (i < c->ncols && i < ROSTER_MAX_FIELDS && c->col[i] >= 0)
        return col_names[c->col[i]];
    return "(extra)";
}

static bool same_word(const char *s, size_t n, const char *word)
{
    if (strlen(word) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (ch != word[i])
            return false;
    }
    return true;
}

bool roster_header(struct roster_ctx *c, struct roster_record *rec)
{
    bool seen[COL_COUNT] = {false}, ok = true;
    if (rec->n > ROSTER_MAX_FIELDS) {
        roster_error(c, rec->line, "header", "%zu columns (at most %d)", rec->n,
                     ROSTER_MAX_FIELDS);
        return false;
    }
    for (size_t i = 0; i < rec->n; i++) {
        const struct roster_field *f = &rec->f[i];
        int col = -1;
        for (int k = 0; k < COL_COUNT; k++)
            if (same_word(f->s, f->len, col_names[k]))
                col = k;
        c->col[i] = col;
        if (col < 0) {
            bool shown = f->len > 0 && f->len <= 64 && memchr(f->s, '\0', f->len) == NULL;
            roster_error(c, f->line, shown ? f->s : "header", "unknown column%s (expected "
                         "department, department_kind, tier, county, unit, unit_kind, "
                         "capabilities, lat, lon)", f->len == 0 ? " with no name" : "");
            ok = false;
        } else if (seen[col]) {
            roster_error(c, f->line, col_names[col], "named twice in the header");
            ok = false;
        }
        if (col >= 0)
            seen[col] = true;
    }
    for (int k = 0; k < COL_COUNT; k++) {
        if (!seen[k] && col_required(k)) {
            roster_error(c, rec->line, col_names[k], "missing from the header");
            ok = false;
        }
    }
    c->ncols = rec->n;
    return ok;
}

/* ---- cells ---- */

/* How many of a cell's n bytes to quote in a message: at most max, cut
 * before a NUL and on a UTF-8 character boundary. */
static int shown(const char *s, size_t n, size_t max)
{
    const char *nul = memchr(s, '\0', n);
    if (nul != NULL)
        n = (size_t)(nul - s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    return (int)n;
}

static bool cell_text(struct roster_ctx *c, const struct roster_field *f, const char *col,
                      char *out, size_t cap)
{
    const uint8_t *s = (const uint8_t *)f->s;
    if (f->len == 0) {
        roster_error(c, f->line, col, "empty");
        return false;
    }
    size_t chars = fm_utf8_chars(f->s, f->len);
    if (chars > FM_NAME_CHARS) {
        roster_error(c, f->line, col, "'%.*s...' is %zu characters (at most %d)",
                     shown(f->s, f->len, 24), f->s, chars, FM_NAME_CHARS);
        return false;
    }
    if (f->len >= cap) {
        roster_error(c, f->line, col, "'%.*s...' is %zu bytes (at most %zu)",
                     shown(f->s, f->len, 24), f->s, f->len, cap - 1);
        return false;
    }
    for (size_t i = 0; i < f->len; i++) {
        if (s[i] < 0x20 || s[i] == 0x7f) {
            roster_error(c, f->line, col, "contains a %s", s[i] == '\n' ? "line break" :
                         s[i] == 0 ? "NUL byte" : "control character");
            return false;
        }
    }
    if (!roster_utf8_ok(s, f->len)) {
        roster_error(c, f->line, col, "not valid UTF-8 text");
        return false;
    }
    memcpy(out, f->s, f->len + 1);
    return true;
}

static bool tok_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

static bool word_ok(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!tok_char(s[i]))
            return false;
    return true;
}

static bool cell_token(struct roster_ctx *c, const struct roster_field *f, const char *col,
                       char *out, size_t cap)
{
    if (!word_ok(f->s, f->len, cap - 1) || memchr(f->s, '\0', f->len) != NULL) {
        roster_error(c, f->line, col, "'%.*s' must be 1 to %zu characters of a-z, 0-9, '_' "
                     "or '-'", shown(f->s, f->len, 40), f->s, cap - 1);
        return false;
    }
    memcpy(out, f->s, f->len + 1);
    return true;
}

static bool cell_tier(struct roster_ctx *c, const struct roster_field *f, uint8_t *tier)
{
    if (f->len != 1 || f->s[0] < '1' || f->s[0] > '3') {
        roster_error(c, f->line, "tier", "'%.*s' must be 1, 2 or 3",
                     shown(f->s, f->len, 20), f->s);
        return false;
    }
    *tier = (uint8_t)(f->s[0] - '0');
    return true;
}

static bool cell_coord(struct roster_ctx *c, const struct roster_field *f, const char *col,
                       double limit, double *out)
{
    if (f->len == 0 || f->len > 32 || memchr(f->s, '\0', f->len) != NULL ||
        fm_parse_double(f->s, -limit, limit, out) != FM_OK) {
        roster_error(c, f->line, col, "'%.*s' must be a number from %g to %g (decimal "
                     "degrees, WGS 84)", shown(f->s, f->len, 32), f->s, -limit, limit);
        return false;
    }
    return true;
}

/* Words split by spaces, line breaks, ',' or ';', joined by ','. */
static bool cell_caps(struct roster_ctx *c, const struct roster_field *f, char *out, size_t cap)
{
    size_t used = 0, i = 0;
    out[0] = '\0';
    if (memchr(f->s, '\0', f->len) != NULL) {
        roster_error(c, f->line, "capabilities", "contains a NUL byte");
        return false;
    }
    while (i < f->len) {
        size_t n = strcspn(f->s + i, " \t\r\n,;");
        if (i + n > f->len)
            n = f->len - i;
        if (n > 0) {
            if (!word_ok(f->s + i, n, 31)) {
                roster_error(c, f->line, "capabilities", "'%.*s' must be 1 to 31 characters "
                             "of a-z, 0-9, '_' or '-'", shown(f->s + i, n, 40), f->s + i);
                return false;
            }
            if (used + (used > 0) + n + 1 > cap) {
                roster_error(c, f->line, "capabilities", "more than %zu bytes in all", cap - 1);
                return false;
            }
            if (used > 0)
                out[used++] = ',';
            memcpy(out + used, f->s + i, n);
            out[used += n] = '\0';
        }
        i += n + 1;
    }
    return true;
}

/* ---- rows ---- */

struct row {
    const struct roster_field *cell[COL_COUNT];
};

static const struct roster_field empty_field = {"", 0, 0, false};

static int find_county(struct fmt_roster *r, const char *name)
{
    for (size_t i = 0; i < r->ncounties; i++)
        if (strcmp(r->counties[i], name) == 0)
            return (int)i;
    return -1;
}

/* The row's department, added if new; -1 after listing what is wrong. */
static int row_dept(struct roster_ctx *c, const struct row *w)
{
    struct fmt_roster *r = c->r;
    struct fmt_roster_dept x = {.line = w->cell[COL_DEPT]->line};
    char county[FMT_ROSTER_NAME_MAX];
    bool ok = cell_text(c, w->cell[COL_DEPT], "department", x.name, sizeof x.name);
    ok &= cell_token(c, w->cell[COL_DEPT_KIND], "department_kind", x.kind, sizeof x.kind);
    ok &= cell_tier(c, w->cell[COL_TIER], &x.tier);
    ok &= cell_text(c, w->cell[COL_COUNTY], "county", county, sizeof county);
    if (!ok)
        return -1;
    int ci = find_county(r, county);
    for (size_t i = 0; i < r->ndepts; i++) {
        const struct fmt_roster_dept *y = &r->depts[i];
        if (strcmp(y->name, x.name) != 0)
            continue;
        if (strcmp(y->kind, x.kind) != 0)
            roster_error(c, w->cell[COL_DEPT_KIND]->line, "department_kind", "'%s' has kind "
                         "'%s' on line %zu", x.name, y->kind, y->line);
        else if (y->tier != x.tier)
            roster_error(c, w->cell[COL_TIER]->line, "tier", "'%s' has tier %u on line %zu",
                         x.name, y->tier, y->line);
        else if (ci != (int)y->county)
            roster_error(c, w->cell[COL_COUNTY]->line, "county", "'%s' is in county '%s' on "
                         "line %zu", x.name, r->counties[y->county], y->line);
        else
            return (int)i;
        return -1;
    }
    if (r->ndepts >= FMT_ROSTER_MAX_DEPTS) {
        roster_error(c, x.line, "department", "more than %d departments",
                     FMT_ROSTER_MAX_DEPTS);
        return -1;
    }
    if (ci < 0) {
        if (r->ncounties >= FMT_ROSTER_MAX_COUNTIES) {
            roster_error(c, w->cell[COL_COUNTY]->line, "county", "more than %d counties",
                         FMT_ROSTER_MAX_COUNTIES);
            return -1;
        }
        memcpy(r->counties[r->ncounties], county, sizeof county);
        ci = (int)r->ncounties++;
    }
    x.county = (uint16_t)ci;
    r->depts[r->ndepts] = x;
    return (int)r->ndepts++;
}

static bool unit_cells_empty(const struct row *w)
{
    return w->cell[COL_UNIT]->len == 0 && w->cell[COL_UNIT_KIND]->len == 0 &&
           w->cell[COL_CAPS]->len == 0 && w->cell[COL_LAT]->len == 0 &&
           w->cell[COL_LON]->len == 0;
}

static void row_unit(struct roster_ctx *c, const struct row *w, int dept)
{
    struct fmt_roster *r = c->r;
    struct fmt_roster_unit u = {.line = w->cell[COL_UNIT]->line};
    bool ok = cell_text(c, w->cell[COL_UNIT], "unit", u.name, sizeof u.name);
    ok &= cell_token(c, w->cell[COL_UNIT_KIND], "unit_kind", u.kind, sizeof u.kind);
    ok &= cell_caps(c, w->cell[COL_CAPS], u.caps, sizeof u.caps);
    ok &= cell_coord(c, w->cell[COL_LAT], "lat", 90, &u.lat);
    ok &= cell_coord(c, w->cell[COL_LON], "lon", 180, &u.lon);
    if (!ok)
        return;
    for (size_t i = 0; i < r->nunits; i++) {
        if (strcmp(r->units[i].name, u.name) == 0) {
            roster_error(c, u.line, "unit", "'%s' is already listed on line %zu (unit names "
                         "must be unique)", u.name, r->units[i].line);
            return;
        }
    }
    if (dept < 0)
        return;
    if (r->nunits >= FMT_ROSTER_MAX_UNITS) {
        roster_error(c, u.line, "unit", "more than %d units", FMT_ROSTER_MAX_UNITS);
        return;
    }
    u.dept = (uint16_t)dept;
    r->units[r->nunits++] = u;
}

void roster_row(struct roster_ctx *c, struct roster_record *rec)
{
    struct row w;
    if (rec->n != c->ncols) {
        roster_error(c, rec->line, NULL, "the row has %zu fields, the header %zu (a value "
                     "holding a comma must be in double quotes)", rec->n, c->ncols);
        return;
    }
    for (int k = 0; k < COL_COUNT; k++)
        w.cell[k] = &empty_field;
    for (size_t i = 0; i < rec->n; i++)
        if (c->col[i] >= 0)
            w.cell[c->col[i]] = &rec->f[i];
    int dept = row_dept(c, &w);
    if (!unit_cells_empty(&w))
        row_unit(c, &w, dept);
}
