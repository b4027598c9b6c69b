/*
 * fuzz_roster_csv.c — libFuzzer target for the roster CSV decoder
 * (node/formats/roster_csv.c, roster_rows.c), which reads spreadsheets an
 * admin saved in whatever encoding. Nothing may crash, leak or read out of
 * bounds; a refusal always lists at least one "fuzz:LINE: ..." error;
 * decoding is a function of the bytes; what is accepted holds only valid
 * UTF-8 names without control characters and in-range indexes; and an
 * accepted roster written back as CSV (every field quoted) decodes to the
 * same departments and units.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool text_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return s[0] != '\0';
}

static void check_accepted(const struct fmt_roster *r)
{
    if (r->errors != NULL || r->nerrors != 0 || r->ndepts == 0)
        __builtin_trap();
    for (size_t i = 0; i < r->ncounties; i++)
        if (!text_ok(r->counties[i]))
            __builtin_trap();
    for (size_t i = 0; i < r->ndepts; i++)
        if (!text_ok(r->depts[i].name) || r->depts[i].county >= r->ncounties ||
            r->depts[i].tier < 1 || r->depts[i].tier > 3)
            __builtin_trap();
    for (size_t i = 0; i < r->nunits; i++)
        if (!text_ok(r->units[i].name) || r->units[i].dept >= r->ndepts ||
            r->units[i].lat < -90 || r->units[i].lat > 90)
            __builtin_trap();
}

static void put_field(FILE *f, const char *s, bool last)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputs(last ? "\"\r\n" : "\",", f);
}

/* The accepted roster as CSV again; decoding it must give the same. */
static void round_trip(const struct fmt_roster *r)
{
    static struct fmt_roster back;
    char *csv = NULL, num[64];
    size_t len = 0;
    FILE *f = open_memstream(&csv, &len);
    if (f == NULL)
        return;
    fputs("department,department_kind,tier,county,unit,unit_kind,capabilities,lat,lon\n", f);
    for (size_t i = 0; i < r->nunits; i++) {
        const struct fmt_roster_unit *u = &r->units[i];
        const struct fmt_roster_dept *x = &r->depts[u->dept];
        put_field(f, x->name, false);
        put_field(f, x->kind, false);
        snprintf(num, sizeof num, "%u", x->tier);
        put_field(f, num, false);
        put_field(f, r->counties[x->county], false);
        put_field(f, u->name, false);
        put_field(f, u->kind, false);
        put_field(f, u->caps, false);
        snprintf(num, sizeof num, "%.17g", u->lat);
        put_field(f, num, false);
        snprintf(num, sizeof num, "%.17g", u->lon);
        put_field(f, num, true);
    }
    fclose(f);
    int rc = fmt_roster_parse(csv, len, "again", FMT_ROSTER_UTF8, &back);
    if (r->nunits == 0) {
        /* departments without units are not written above: nothing to compare */
    } else if (rc != FM_OK || back.nunits != r->nunits) {
        __builtin_trap();
    } else {
        for (size_t i = 0; i < r->nunits; i++)
            if (strcmp(back.units[i].name, r->units[i].name) != 0 ||
                strcmp(back.units[i].caps, r->units[i].caps) != 0 ||
                back.units[i].lat != r->units[i].lat || back.units[i].lon != r->units[i].lon ||
                strcmp(back.depts[back.units[i].dept].name, r->depts[r->units[i].dept].name))
                __builtin_trap();
    }
    fmt_roster_release(&back);
    free(csv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fmt_roster a, b;
    int rc = fmt_roster_parse((const char *)data, size, "fuzz", FMT_ROSTER_AUTO, &a);
    if (rc != FM_OK && rc != FM_EDECODE && rc != FM_ETOOBIG && rc != FM_ENOMEM)
        __builtin_trap();
    if ((rc == FM_EDECODE || rc == FM_ETOOBIG) &&
        (a.nerrors == 0 || a.errors == NULL || strncmp(a.errors, "fuzz:", 5) != 0))
        __builtin_trap();
    int rc2 = fmt_roster_parse((const char *)data, size, "fuzz", FMT_ROSTER_AUTO, &b);
    if (rc2 != rc || a.nerrors != b.nerrors || a.nunits != b.nunits ||
        (a.errors != NULL && strcmp(a.errors, b.errors) != 0))
        __builtin_trap();
    if (rc == FM_OK) {
        check_accepted(&a);
        round_trip(&a);
    }
    fmt_roster_release(&a);
    fmt_roster_release(&b);
    return 0;
}
