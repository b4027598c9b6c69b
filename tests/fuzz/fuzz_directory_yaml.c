/*
 * fuzz_directory_yaml.c — libFuzzer target for the organisation directory
 * YAML (fm_directory_load_yaml in directory_yaml.c), which an admin edits
 * by hand and publishes to every node. The parser reads a file, so the
 * input is written to one in a temporary directory. Nothing may crash; a
 * refusal must name its place as "FILE:LINE:COLUMN: what" (line and column
 * from 1, a message after them); a directory that loads must hold only
 * what the format allows and be freed cleanly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/fm_fuzz_dir_XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof path, "%s/directory.yaml", dir);
    atexit(cleanup);
}

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
    struct fm_directory *d = NULL;
    char err[512];
    if (path[0] == '\0')
        setup();
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    int rc = fm_directory_load_yaml(path, &d, err, sizeof err);
    if (rc != FM_OK) {
        if (d != NULL || rc != FM_ECONFIG || !located(err))
            __builtin_trap();
        return 0;
    }
    if (d == NULL || d->ncounties == 0 || d->ncounties > FM_DIR_MAX_COUNTIES ||
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
    fm_directory_free(&d);
    if (d != NULL)
        __builtin_trap();
    return 0;
}
