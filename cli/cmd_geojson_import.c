/*
 * cmd_geojson_import.c — `fieldmesh directory import-geojson`: county
 * boundaries from a GeoJSON FeatureCollection into directory YAML
 * (docs/interop.md, "County boundaries").
 *
 * node/formats reads and checks the GeoJSON; here each feature is matched
 * to a county of a base directory (the YAML given with --base, else the
 * version in force on this node) by a property, `name` unless --property
 * says otherwise. A feature naming no county is an error that lists the
 * closest county names (by edit distance over characters, so 婺城 finds
 * 婺城区). Counties without a feature keep the boundary they had. The YAML
 * is read back with the directory loader before anything is written.
 */
#include "cli_wf.h"
#include "../node/formats/formats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { O_OUT, O_BASE, O_PROPERTY };

static void print_closest(const struct fm_directory *d, const char *name)
{
    bool used[FM_DIR_MAX_COUNTIES] = {false};
    fprintf(stderr, "fieldmesh:   closest counties:");
    for (int k = 0; k < 3 && (size_t)k < d->ncounties; k++) {
        size_t best = SIZE_MAX, at = 0;
        for (size_t i = 0; i < d->ncounties; i++) {
            size_t e = used[i] ? SIZE_MAX : fm_text_distance(name, d->counties[i]);
            if (e < best) {
                best = e;
                at = i;
            }
        }
        used[at] = true;
        fprintf(stderr, "%s %s", k ? "," : "", d->counties[at]);
    }
    fputc('\n', stderr);
}

static int county_of(const struct fm_directory *d, const char *name)
{
    for (size_t i = 0; i < d->ncounties; i++)
        if (strcmp(d->counties[i], name) == 0)
            return (int)i;
    return -1;
}

/* Replaces the boundaries of the counties g names; keeps the others. */
static int merge(struct cli *cl, const struct fmt_geo_bounds *g, const char *file,
                 struct fm_directory *d)
{
    char err[256];
    bool replaced[FM_DIR_MAX_COUNTIES] = {false};
    struct fm_directory *keep = malloc(sizeof *keep);
    if (keep == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    for (size_t i = 0; i < g->nfeatures; i++) {
        int c = county_of(d, g->features[i].name);
        if (c < 0) {
            fprintf(stderr, "fieldmesh: %s: features[%zu]: no county '%s' in the directory\n",
                    file, g->features[i].index, g->features[i].name);
            print_closest(d, g->features[i].name);
            free(keep);
            return CLI_EXIT_FAIL;
        }
        replaced[c] = true;
    }
    memcpy(keep, d, sizeof *keep);
    d->nrings = d->npoints = 0;
    for (size_t i = 0; i < keep->nrings; i++) { /* the boundaries not replaced */
        const struct fm_dir_ring *r = &keep->rings[i];
        if (replaced[r->county])
            continue;
        d->rings[d->nrings] = *r;
        d->rings[d->nrings].first = (uint32_t)d->npoints;
        memcpy(&d->points[d->npoints], &keep->points[r->first], r->npoints * sizeof d->points[0]);
        d->npoints += r->npoints;
        d->nrings++;
    }
    free(keep);
    for (size_t i = 0; i < g->nfeatures; i++) {
        const struct fmt_geo_feature *f = &g->features[i];
        for (size_t k = 0; k < f->nrings; k++) {
            const struct fmt_geo_ring *r = &g->rings[f->first_ring + k];
            if (d->nrings >= FM_DIR_MAX_RINGS || r->npoints > FM_DIR_MAX_POINTS - d->npoints)
                return cli_error(cl, FM_EINVAL, "%s: with the boundaries kept from the base, "
                                 "more than %d rings or %d points", file, FM_DIR_MAX_RINGS,
                                 FM_DIR_MAX_POINTS);
            struct fm_dir_ring *o = &d->rings[d->nrings++];
            o->county = (uint16_t)county_of(d, f->name);
            o->first = (uint32_t)d->npoints;
            o->npoints = (uint32_t)r->npoints;
            memcpy(&d->points[d->npoints], &g->points[r->first], r->npoints * sizeof d->points[0]);
            d->npoints += r->npoints;
        }
    }
    if (fm_directory_boundaries_normalise(d, err, sizeof err) != FM_OK)
        return cli_error(cl, FM_EINVAL, "%s: %s", file, err);
    return CLI_EXIT_OK;
}

static int load_base(struct cli *cl, const char *path, struct fm_directory **b)
{
    char err[FM_PATH_MAX + 512];
    int rc;
    if (path != NULL) {
        if ((rc = fm_directory_load_yaml(path, b, err, sizeof err)) == FM_OK)
            return CLI_EXIT_OK;
        fprintf(stderr, "fieldmesh: %s\n", err[0] ? err : fm_strerror(rc));
        return rc == FM_ECONFIG ? CLI_EXIT_CONFIG : cli_exit_code(rc);
    }
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    rc = fm_node_directory_get(cl->node, b);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no directory is published on this node to add boundaries "
                                 "to: pass --base DIRECTORY.yaml");
    return rc != FM_OK ? cli_error(cl, rc, "cannot read the directory: %s", fm_strerror(rc))
                       : CLI_EXIT_OK;
}

static int read_geojson(struct cli *cl, const char *path, const char *prop,
                        struct fmt_geo_bounds *g)
{
    char *buf = NULL, err[512];
    size_t len = 0;
    int rc = fm_file_read_alloc(path, FMT_GEO_MAX_BYTES, &buf, &len);
    if (rc == FM_ETOOBIG)
        return cli_error(cl, rc, "%s: too large (at most %u bytes)", path, FMT_GEO_MAX_BYTES);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot read %s: %s", path,
                         rc == FM_EIO ? strerror(errno) : fm_strerror(rc));
    rc = fmt_geojson_bounds_parse(buf, len, prop, g, err, sizeof err);
    free(buf);
    if (rc == FM_ENOMEM)
        return cli_error(cl, rc, "out of memory");
    if (rc != FM_OK) {
        fprintf(stderr, "fieldmesh: %s: %s; nothing written\n", path, err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int emit(struct cli *cl, const struct fm_directory *d, const char *file, const char *out)
{
    char comment[FM_PATH_MAX + 160], err[FM_PATH_MAX + 512];
    char *text = NULL;
    size_t len = 0;
    struct fm_directory *back = NULL;
    int rc;
    snprintf(comment, sizeof comment, "Boundaries from %s by `fieldmesh directory "
             "import-geojson`.\nPublish with `fieldmesh directory publish`.", file);
    if ((rc = fm_directory_render_yaml(d, comment, &text, &len)) != FM_OK)
        return cli_error(cl, rc, "cannot write the YAML: %s", fm_strerror(rc));
    rc = fm_directory_parse_yaml(out != NULL ? out : "(output)", text, len, &back, err,
                                 sizeof err);
    if (rc != FM_OK || back->npoints != d->npoints) {
        fprintf(stderr, "fieldmesh: the YAML written does not read back: %s\n",
                err[0] ? err : fm_strerror(rc));
        rc = CLI_EXIT_FAIL;
    } else if (out == NULL) {
        rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0
                 ? CLI_EXIT_OK : cli_error(cl, FM_EIO, "cannot write to stdout");
    } else if ((rc = fm_file_write(out, text, len, 0644, false)) != FM_OK) {
        rc = cli_error(cl, rc, "cannot write %s: %s; nothing written", out,
                       rc == FM_EIO ? strerror(errno) : fm_strerror(rc));
    }
    fm_directory_free(&back);
    free(text);
    return rc;
}

static int run_import_geojson(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "out", true }, { "base", true },
                                           { "property", true } };
    struct cli_args a;
    struct fmt_geo_bounds *g = NULL;
    struct fm_directory *d = NULL;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    const char *prop = a.val[O_PROPERTY];
    if (prop != NULL && (prop[0] == '\0' || strlen(prop) > 255))
        return cli_usage(cl, "--property must name a property (1 to 255 bytes)");
    if ((g = malloc(sizeof *g)) == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if ((rc = read_geojson(cl, a.pos[0], prop, g)) != CLI_EXIT_OK ||
        (rc = load_base(cl, a.val[O_BASE], &d)) != CLI_EXIT_OK ||
        (rc = merge(cl, g, a.pos[0], d)) != CLI_EXIT_OK ||
        (rc = emit(cl, d, a.pos[0], a.val[O_OUT])) != CLI_EXIT_OK)
        goto out;
    size_t bounded = 0;
    for (size_t i = 0; i < d->nrings; i++)
        bounded += i == 0 || d->rings[i].county != d->rings[i - 1].county;
    fprintf(stderr, "%s%s: %zu count%s from %s; boundaries for %zu of %zu counties now "
            "(%zu rings, %zu points)\n", a.val[O_OUT] != NULL ? "wrote " : "",
            a.val[O_OUT] != NULL ? a.val[O_OUT] : "(stdout)", g->nfeatures,
            g->nfeatures == 1 ? "y" : "ies", a.pos[0], bounded, d->ncounties, d->nrings,
            d->npoints);
out:
    fm_directory_free(&d);
    free(g);
    return rc;
}

const struct cli_cmd cli_cmd_directory_import_geojson = {
    "directory", "import-geojson", "FILE [--out YAML] [--base YAML] [--property NAME]",
    "add county boundaries from a GeoJSON FeatureCollection to directory YAML",
    "  FILE            GeoJSON: one Feature a county, Polygon or MultiPolygon geometry\n"
    "                  ([lon, lat] positions, closed rings); at most 64 rings and 20,000\n"
    "                  points a county, 100,000 points in all (docs/interop.md)\n"
    "  --out YAML      write there (atomically) instead of to stdout\n"
    "  --base YAML     the directory to add them to; without it the one in force here\n"
    "  --property NAME the feature property holding the county's name (default name);\n"
    "                  a string, or an integer such as an administrative code\n"
    "  Counties with no feature keep the boundary they had. The first error names the\n"
    "  feature (features[N]) and what is wrong (exit 1, nothing written); a feature\n"
    "  naming no county lists the closest county names. Publishing a directory with\n"
    "  boundaries makes it format version 2: see `directory publish --help`.\n",
    run_import_geojson,
};
