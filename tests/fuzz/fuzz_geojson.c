/*
 * fuzz_geojson.c — libFuzzer target for the GeoJSON boundary reader
 * (node/formats/geojson_bounds.c), which reads files an admin downloaded
 * from wherever. Nothing may crash, leak or read out of bounds; a refusal
 * always says why; what is accepted holds named features whose rings are
 * open, of at least 3 points, in range and within the limits; and an
 * accepted file written back as GeoJSON (rings closed again) reads back
 * to the same features, rings and points.
 *
 * The two structs are allocated once: a fresh pair per input spent most
 * of the time faulting in pages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_accepted(const struct fmt_geo_bounds *b)
{
    size_t rings = 0;
    if (b->nfeatures == 0 || b->nfeatures > FMT_GEO_MAX_FEATURES ||
        b->npoints > FMT_GEO_MAX_POINTS || b->nrings > FMT_GEO_MAX_RINGS)
        __builtin_trap();
    for (size_t i = 0; i < b->nfeatures; i++) {
        const struct fmt_geo_feature *f = &b->features[i];
        size_t pts = 0;
        if (f->name[0] == '\0' || f->first_ring != rings || f->nrings == 0 ||
            f->nrings > FMT_GEO_MAX_RINGS_PER_FEATURE)
            __builtin_trap();
        for (size_t k = 0; k < f->nrings; k++) {
            const struct fmt_geo_ring *r = &b->rings[f->first_ring + k];
            const struct fmt_geo_point *p = &b->points[r->first];
            if (r->npoints < 3 || r->first + r->npoints > b->npoints ||
                (p[0].lat_e7 == p[r->npoints - 1].lat_e7 &&
                 p[0].lon_e7 == p[r->npoints - 1].lon_e7))
                __builtin_trap();
            for (size_t j = 0; j < r->npoints; j++)
                if (p[j].lat_e7 < -900000000 || p[j].lat_e7 > 900000000 ||
                    p[j].lon_e7 < -1800000000 || p[j].lon_e7 > 1800000000)
                    __builtin_trap();
            pts += r->npoints;
        }
        if (pts > FMT_GEO_MAX_POINTS_PER_FEATURE)
            __builtin_trap();
        rings += f->nrings;
    }
}

static void put_pt(FILE *f, const struct fmt_geo_point *p)
{
    fprintf(f, "[%.7f,%.7f]", p->lon_e7 / 1e7, p->lat_e7 / 1e7);
}

/* b as GeoJSON: one MultiPolygon of one-ring polygons a feature. */
static char *write_back(const struct fmt_geo_bounds *b, size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    if (f == NULL)
        return NULL;
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t i = 0; i < b->nfeatures; i++) {
        const struct fmt_geo_feature *ft = &b->features[i];
        fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"name\":\"", i ? "," : "");
        for (const char *c = ft->name; *c; c++)
            fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
        fprintf(f, "\"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[");
        for (size_t k = 0; k < ft->nrings; k++) {
            const struct fmt_geo_ring *r = &b->rings[ft->first_ring + k];
            fprintf(f, "%s[[", k ? "," : "");
            for (size_t j = 0; j < r->npoints; j++) {
                put_pt(f, &b->points[r->first + j]);
                fputc(',', f);
            }
            put_pt(f, &b->points[r->first]);
            fprintf(f, "]]");
        }
        fprintf(f, "]}}");
    }
    fprintf(f, "]}");
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fmt_geo_bounds *a, *b;
    char err[512], err2[512];
    if (a == NULL && ((a = malloc(sizeof *a)) == NULL || (b = malloc(sizeof *b)) == NULL))
        __builtin_trap();
    int rc = fmt_geojson_bounds_parse((const char *)data, size, NULL, a, err, sizeof err);
    if (rc == 0) {
        check_accepted(a);
        size_t len = 0;
        char *text = write_back(a, &len);
        if (text == NULL)
            __builtin_trap();
        if (fmt_geojson_bounds_parse(text, len, NULL, b, err2, sizeof err2) != 0 ||
            b->nfeatures != a->nfeatures || b->nrings != a->nrings || b->npoints != a->npoints ||
            memcmp(b->points, a->points, a->npoints * sizeof a->points[0]) != 0)
            __builtin_trap();
        free(text);
    } else if (rc != FM_ENOMEM && err[0] == '\0') {
        __builtin_trap();
    }
    return 0;
}
