/*
 * directory_write.c — writing a directory as YAML in the form
 * directory_yaml.c reads (docs/workflow.md), for tools that build a
 * directory from other sources (the roster CSV import).
 *
 * Every string, words like kinds included, is a double-quoted scalar with
 * quotes, backslashes and control bytes escaped, so no value changes the
 * document's shape (a kind "-" written plain would start a list);
 * UTF-8 passes through, so Chinese names stay readable in the file.
 * Coordinates are written from their 1e-7 degree integers, exactly.
 */
#include "workflow_int.h"
#include "../config/yamlkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_e7(FILE *f, int32_t e7)
{
    int64_t v = e7;
    const char *sign = v < 0 ? "-" : "";
    if (v < 0)
        v = -v;
    fprintf(f, "%s%lld.%07lld", sign, (long long)(v / 10000000), (long long)(v % 10000000));
}

static void put_caps(FILE *f, const char *caps)
{
    char word[FM_DIR_CAPS_MAX];
    fputc('[', f);
    for (const char *p = caps; *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (n >= sizeof word)
            n = sizeof word - 1;
        memcpy(word, p, n);
        word[n] = '\0';
        yk_put_quoted(f, word);
        p += n;
        if (*p == ',') {
            fputs(", ", f);
            p++;
        }
    }
    fputc(']', f);
}

static void put_depts(FILE *f, const struct fm_directory *d)
{
    fprintf(f, "departments:\n");
    for (size_t i = 0; i < d->ndepts; i++) {
        const struct fm_dir_dept *x = &d->depts[i];
        fprintf(f, "  - name: ");
        yk_put_quoted(f, x->name);
        fprintf(f, "\n    kind: ");
        yk_put_quoted(f, x->kind);
        fprintf(f, "\n    tier: %u\n    county: ", x->tier);
        yk_put_quoted(f, d->counties[x->county]);
        fprintf(f, "\n    units:");
        size_t n = 0;
        for (size_t k = 0; k < d->nunits; k++) {
            const struct fm_dir_unit *u = &d->units[k];
            if (u->dept != i)
                continue;
            fprintf(f, "\n      - {name: ");
            yk_put_quoted(f, u->name);
            if (u->key[0]) {
                fprintf(f, ", id: ");
                yk_put_quoted(f, u->key);
            }
            fprintf(f, ", kind: ");
            yk_put_quoted(f, u->kind);
            fprintf(f, ", capabilities: ");
            put_caps(f, u->caps);
            fprintf(f, ", home: [");
            put_e7(f, u->lat_e7);
            fprintf(f, ", ");
            put_e7(f, u->lon_e7);
            fprintf(f, "]}");
            n++;
        }
        fprintf(f, "%s\n", n == 0 ? " []" : "");
    }
}

/* A list of needs, one flow mapping a line, after "respond:". */
static void put_needs(FILE *f, const struct fm_dir_respond *v, size_t n, const char *indent)
{
    for (size_t k = 0; k < n; k++) {
        const struct fm_dir_respond *e = &v[k];
        fprintf(f, "\n%s- {tier: %u, kind: ", indent, e->tier);
        yk_put_quoted(f, e->kind);
        if (e->department[0] != '\0') {
            fprintf(f, ", department: ");
            yk_put_quoted(f, e->department);
        }
        if (e->capability[0] != '\0') {
            fprintf(f, ", capability: ");
            yk_put_quoted(f, e->capability);
        }
        fprintf(f, ", units: %u}", e->units);
    }
    fprintf(f, "%s\n", n == 0 ? " []" : "");
}

static void put_rules(FILE *f, const struct fm_directory *d)
{
    fprintf(f, "\nrules:\n");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct fm_dir_rule *r = &d->rules[i];
        fprintf(f, "  - category: ");
        yk_put_quoted(f, r->category);
        fprintf(f, "\n    priority: %u\n    escalate_priority: %u\n"
                   "    escalate_after_s: %u\n    target_s: %u\n    respond:",
                r->priority, r->escalate_priority, r->escalate_after_s, r->target_s);
        put_needs(f, r->respond, r->nrespond, "      ");
        if (r->nlevels > 0)
            fprintf(f, "    levels:\n");
        for (size_t k = 0; k < r->nlevels && k < FM_DIR_MAX_LEVELS; k++) {
            fprintf(f, "      - level: %u\n        respond:", r->levels[k].level);
            put_needs(f, r->levels[k].respond, r->levels[k].nrespond, "          ");
        }
    }
}

/* boundaries: one flow list per ring, lat, lon pairs, one county a key */
static void put_boundaries(FILE *f, const struct fm_directory *d)
{
    if (d->nrings == 0)
        return;
    fprintf(f, "\nboundaries:\n");
    for (size_t i = 0; i < d->nrings; i++) {
        const struct fm_dir_ring *r = &d->rings[i];
        if (i == 0 || d->rings[i - 1].county != r->county) {
            fprintf(f, "  ");
            yk_put_quoted(f, d->counties[r->county]);
            fprintf(f, ":\n");
        }
        fprintf(f, "    - [");
        for (uint32_t k = 0; k < r->npoints; k++) {
            const struct fm_dir_point *p = &d->points[r->first + k];
            fprintf(f, "%s", k == 0 ? "" : (k % 4 == 0 ? ",\n       " : ", "));
            put_e7(f, p->lat_e7);
            fprintf(f, ", ");
            put_e7(f, p->lon_e7);
        }
        fprintf(f, "]\n");
    }
}

/* aliases: name -> word, one a line */
static void put_aliases(FILE *f, const struct fm_directory *d)
{
    if (d->naliases == 0)
        return;
    fprintf(f, "\naliases:\n");
    for (size_t i = 0; i < d->naliases; i++) {
        fprintf(f, "  ");
        yk_put_quoted(f, d->aliases[i].name);
        fprintf(f, ": %s\n", d->aliases[i].word);
    }
}

/* duplicates: the settings, and each group of related categories a line */
static void put_dups(FILE *f, const struct fm_directory *d)
{
    if (d->dup_radius_m == 0 && d->dup_window_s == 0 && d->nrelated == 0)
        return;
    fprintf(f, "\nduplicates:\n");
    if (d->dup_radius_m)
        fprintf(f, "  radius_m: %u\n", d->dup_radius_m);
    if (d->dup_window_s)
        fprintf(f, "  window_min: %u\n", d->dup_window_s / 60);
    if (d->nrelated == 0)
        return;
    fprintf(f, "  related:\n");
    for (unsigned g = 0; g < 256; g++) {
        bool any = false;
        for (size_t i = 0; i < d->nrelated; i++)
            if (d->related[i].group == g) {
                fprintf(f, "%s%s", any ? ", " : "    - [", d->related[i].category);
                any = true;
            }
        if (!any)
            break; /* groups are numbered without gaps */
        fprintf(f, "]\n");
    }
}

/* materials: units of measure a line each, then the depots */
static void put_materials(FILE *f, const struct fm_directory *d)
{
    if (d->nmaterials == 0 && d->ndepots == 0)
        return;
    fprintf(f, "\nmaterials:\n");
    if (d->nmaterials > 0) {
        fprintf(f, "  units:\n");
        for (size_t i = 0; i < d->nmaterials; i++) {
            fprintf(f, "    %s: ", d->materials[i].kind);
            yk_put_quoted(f, d->materials[i].measure);
            fputc('\n', f);
        }
    }
    if (d->ndepots > 0) {
        fprintf(f, "  depots:\n");
        for (size_t i = 0; i < d->ndepots; i++) {
            fprintf(f, "    - {name: ");
            yk_put_quoted(f, d->depots[i].name);
            fprintf(f, ", at: [");
            put_e7(f, d->depots[i].lat_e7);
            fprintf(f, ", ");
            put_e7(f, d->depots[i].lon_e7);
            fprintf(f, "]}\n");
        }
    }
}

int fm_directory_render_yaml(const struct fm_directory *d, const char *comment, char **out,
                             size_t *len)
{
    size_t size = 0;
    FILE *f = open_memstream(out, &size);
    if (f == NULL)
        return FM_ENOMEM;
    for (const char *p = comment; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "# %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
    fprintf(f, "name: ");
    yk_put_quoted(f, d->name);
    fprintf(f, "\n\ncounties:\n");
    for (size_t i = 0; i < d->ncounties; i++) {
        fprintf(f, "  - ");
        yk_put_quoted(f, d->counties[i]);
        fputc('\n', f);
    }
    fputc('\n', f);
    put_depts(f, d);
    put_rules(f, d);
    put_boundaries(f, d);
    put_aliases(f, d);
    put_dups(f, d);
    put_materials(f, d);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        return FM_ENOMEM;
    }
    *len = size;
    return FM_OK;
}
