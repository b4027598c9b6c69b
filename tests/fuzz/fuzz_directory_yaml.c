/*
 * fuzz_directory_yaml.c — libFuzzer target for the organisation directory
 * YAML (directory_yaml.c), which an admin edits by hand and publishes to
 * every node. The input goes to the parser behind fm_directory_load_yaml
 * and fm_directory_parse_yaml, into one struct kept across inputs (a
 * fresh 3.4 MB struct per input spent most of the time faulting in pages:
 * ~300 inputs a second). Nothing may crash; a refusal must name its place
 * as "NAME:LINE:COLUMN: what" (line and column from 1, a message after
 * them); a directory that loads must hold only what the format allows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/workflow/workflow_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char path[] = "fuzz/directory.yaml";

/* "PATH:LINE:COL: message" with LINE, COL >= 1 and a non-empty message. */
static int located(const char *err)
{
    size_t pl = strlen(path);
    if (strncmp(err, path, pl) != 0 || err[pl] != ':')
        return 0;
    const char *p = err + pl + 1;
    for (int field = 0; field < 2; field++) {
        unsigned long v = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (unsigned long)(*p++ - '0');
        if (p == start || v == 0 || *p != ':')
            return 0;
        p++;
    }
    return p[0] == ' ' && p[1] != '\0';
}

static int text_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n > 0 && n < cap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fm_directory *d;
    char err[512];
    if (d == NULL && (d = malloc(sizeof *d)) == NULL)
        abort();
    int rc = directory_parse_yaml_into(path, (const char *)data, size, d, err, sizeof err);
    if (rc != FM_OK) {
        if (rc != FM_ECONFIG || !located(err))
            __builtin_trap();
        return 0;
    }
    if (d->ncounties == 0 || d->ncounties > FM_DIR_MAX_COUNTIES ||
        !text_ok(d->name, sizeof d->name))
        __builtin_trap();
    for (size_t i = 0; i < d->ncounties; i++)
        if (!text_ok(d->counties[i], sizeof d->counties[i]))
            __builtin_trap();
    if (d->ndepts == 0 || d->ndepts > FM_DIR_MAX_DEPTS || d->nunits > FM_DIR_MAX_UNITS ||
        d->nrules > FM_DIR_MAX_RULES)
        __builtin_trap();
    for (size_t i = 0; i < d->ndepts; i++)
        if (d->depts[i].county >= d->ncounties || d->depts[i].tier < 1 || d->depts[i].tier > 3)
            __builtin_trap(); /* references resolve */
    for (size_t i = 0; i < d->nrules; i++)
        if (d->rules[i].nrespond > FM_DIR_MAX_RESPOND)
            __builtin_trap();
    for (size_t i = 0; i < d->nunits; i++)
        if (d->units[i].dept >= d->ndepts || !text_ok(d->units[i].name, sizeof d->units[i].name) ||
            fm_directory_unit(d, d->units[i].name) != &d->units[i])
            __builtin_trap(); /* unit names are unique */
    return 0;
}
