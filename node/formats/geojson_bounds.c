/*
 * geojson_bounds.c — county boundaries from a GeoJSON FeatureCollection
 * (RFC 7946) for `fieldmesh directory import-geojson` (docs/interop.md).
 *
 * jansson parses the text (invalid UTF-8, duplicate keys, numbers that
 * overflow and nesting past its depth limit are its syntax errors); this
 * walks the tree against what a boundary may be and stops at the first
 * problem, naming the feature. Positions are [lon, lat] in GeoJSON, kept
 * here as lat/lon in 1e-7 degrees like every coordinate of the directory.
 */
#include "formats.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct gp {
    struct fmt_geo_bounds *b;
    char *err;
    size_t errlen;
    size_t fi;          /* the feature being read */
    const char *fname;  /* its name, once known */
};

static int gp_fail(struct gp *g, const char *fmt, ...) FM_PRINTF(2, 3);
static int gp_fail(struct gp *g, const char *fmt, ...)
{
    int n = g->fname != NULL ? snprintf(g->err, g->errlen, "features[%zu] (%s): ", g->fi, g->fname)
                             : snprintf(g->err, g->errlen, "features[%zu]: ", g->fi);
    if (n >= 0 && (size_t)n < g->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->err + n, g->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return FM_EDECODE;
}

static int position(struct gp *g, json_t *pos, size_t ring, size_t k, struct fmt_geo_point *p)
{
    json_t *lon = json_array_get(pos, 0), *lat = json_array_get(pos, 1);
    if (!json_is_array(pos) || json_array_size(pos) < 2 ||
        !json_is_number(lon) || !json_is_number(lat))
        return gp_fail(g, "ring %zu, position %zu is not [lon, lat] numbers", ring, k);
    double x = json_number_value(lon), y = json_number_value(lat);
    if (!isfinite(x) || !isfinite(y) || x < -180.0 || x > 180.0 || y < -90.0 || y > 90.0)
        return gp_fail(g, "ring %zu, position %zu: coordinates out of range "
                          "(lon -180..180, lat -90..90): [%g, %g]", ring, k, x, y);
    p->lat_e7 = (int32_t)lround(y * 1e7);
    p->lon_e7 = (int32_t)lround(x * 1e7);
    return FM_OK;
}

static bool same_point(const struct fmt_geo_point *a, const struct fmt_geo_point *b)
{
    return a->lat_e7 == b->lat_e7 && a->lon_e7 == b->lon_e7;
}

/* One linear ring: closed, at least 4 positions; stored open, each
 * position once where it repeats the one before (at 1e-7 degrees), and
 * then at least 3 distinct positions: [A,B,A,A] is closed and has four
 * positions but encloses nothing, and stored open it would still end on
 * its first point. */
static int linear_ring(struct gp *g, json_t *r, size_t idx, struct fmt_geo_feature *f)
{
    struct fmt_geo_bounds *b = g->b;
    size_t n = json_array_size(r), had = 0, m = 0;
    if (!json_is_array(r) || n < 4)
        return gp_fail(g, "ring %zu is not a list of at least 4 positions", idx);
    if (f->nrings >= FMT_GEO_MAX_RINGS_PER_FEATURE || b->nrings >= FMT_GEO_MAX_RINGS)
        return gp_fail(g, "too many rings (at most %d a county, %d in all)",
                       FMT_GEO_MAX_RINGS_PER_FEATURE, FMT_GEO_MAX_RINGS);
    for (size_t i = f->first_ring; i < b->nrings; i++)
        had += b->rings[i].npoints;
    if (had + n - 1 > FMT_GEO_MAX_POINTS_PER_FEATURE || b->npoints + n - 1 > FMT_GEO_MAX_POINTS)
        return gp_fail(g, "too many points (at most %d a county, %d in all)",
                       FMT_GEO_MAX_POINTS_PER_FEATURE, FMT_GEO_MAX_POINTS);
    struct fmt_geo_point *pts = &b->points[b->npoints], last;
    for (size_t k = 0; k < n; k++) {
        struct fmt_geo_point *p = k < n - 1 ? &pts[m] : &last;
        if (position(g, json_array_get(r, k), idx, k, p) != FM_OK)
            return FM_EDECODE;
        if (k < n - 1 && (m == 0 || !same_point(&pts[m - 1], p)))
            m++;
    }
    if (!same_point(&pts[0], &last))
        return gp_fail(g, "ring %zu is not closed (its last position differs from its first)",
                       idx);
    while (m > 1 && same_point(&pts[m - 1], &pts[0]))
        m--;
    if (m < 3)
        return gp_fail(g, "ring %zu has fewer than 3 distinct positions (it encloses nothing)",
                       idx);
    struct fmt_geo_ring *ring = &b->rings[b->nrings];
    ring->first = b->npoints;
    ring->npoints = m;
    b->npoints += m;
    b->nrings++;
    f->nrings++;
    return FM_OK;
}

static int polygon(struct gp *g, json_t *rings, struct fmt_geo_feature *f)
{
    if (!json_is_array(rings) || json_array_size(rings) == 0)
        return gp_fail(g, "a polygon is not a non-empty list of rings");
    for (size_t i = 0; i < json_array_size(rings); i++)
        if (linear_ring(g, json_array_get(rings, i), f->nrings, f) != FM_OK)
            return FM_EDECODE;
    return FM_OK;
}

static int geometry(struct gp *g, json_t *geo, struct fmt_geo_feature *f)
{
    const char *type = json_string_value(json_object_get(geo, "type"));
    json_t *coords = json_object_get(geo, "coordinates");
    if (!json_is_object(geo))
        return gp_fail(g, "has no geometry");
    if (type == NULL)
        return gp_fail(g, "geometry has no \"type\"");
    if (strcmp(type, "Polygon") == 0)
        return polygon(g, coords, f);
    if (strcmp(type, "MultiPolygon") != 0)
        return gp_fail(g, "geometry is a %.32s, not a Polygon or MultiPolygon", type);
    if (!json_is_array(coords) || json_array_size(coords) == 0)
        return gp_fail(g, "a MultiPolygon's coordinates are not a non-empty list of polygons");
    for (size_t i = 0; i < json_array_size(coords); i++)
        if (polygon(g, json_array_get(coords, i), f) != FM_OK)
            return FM_EDECODE;
    return FM_OK;
}

/* The naming property: a string, or an integer (codes like 330702). */
static int feature_name(struct gp *g, json_t *props, const char *property, char *out, size_t cap)
{
    json_t *v = json_object_get(props, property);
    if (json_is_integer(v)) {
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
        return FM_OK;
    }
    if (!json_is_string(v)) {
        char keys[200] = "";
        const char *k;
        json_t *x;
        size_t at = 0;
        json_object_foreach(props, k, x) {
            int n = snprintf(keys + at, sizeof keys - at, "%s%s", at ? ", " : "", k);
            if (n < 0 || (size_t)n >= sizeof keys - at)
                break;
            at += (size_t)n;
        }
        return gp_fail(g, "property \"%s\" is %s (properties here: %s)", property,
                       v == NULL ? "missing" : "not a string or an integer",
                       keys[0] ? keys : "none");
    }
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n == 0 || n >= cap || memchr(s, '\0', n) != NULL || fm_utf8_chars(s, n) > FM_NAME_CHARS)
        return gp_fail(g, "property \"%s\" must be 1 to %d characters of text (got %zu "
                       "characters, %zu bytes)", property, FM_NAME_CHARS, fm_utf8_chars(s, n), n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return gp_fail(g, "property \"%s\" holds a control character", property);
    memcpy(out, s, n + 1);
    return FM_OK;
}

static int feature(struct gp *g, json_t *ft, const char *property)
{
    struct fmt_geo_bounds *b = g->b;
    struct fmt_geo_feature *f = &b->features[b->nfeatures];
    const char *type = json_string_value(json_object_get(ft, "type"));
    if (!json_is_object(ft) || type == NULL || strcmp(type, "Feature") != 0)
        return gp_fail(g, "is not a Feature object");
    memset(f, 0, sizeof *f);
    f->index = g->fi;
    f->first_ring = b->nrings;
    if (feature_name(g, json_object_get(ft, "properties"), property, f->name,
                     sizeof f->name) != FM_OK)
        return FM_EDECODE;
    g->fname = f->name;
    for (size_t i = 0; i < b->nfeatures; i++)
        if (strcmp(b->features[i].name, f->name) == 0)
            return gp_fail(g, "the same name as features[%zu]", b->features[i].index);
    if (geometry(g, json_object_get(ft, "geometry"), f) != FM_OK)
        return FM_EDECODE;
    b->nfeatures++;
    return FM_OK;
}

int fmt_geojson_bounds_parse(const char *buf, size_t len, const char *property,
                             struct fmt_geo_bounds *out, char *err, size_t errlen)
{
    struct gp g = {.b = out, .err = err, .errlen = errlen};
    json_error_t je;
    char dummy[1];
    int rc = FM_OK;
    memset(out, 0, sizeof *out);
    if (err == NULL || errlen == 0) {
        g.err = err = dummy;
        g.errlen = errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (property == NULL)
        property = "name";
    if (len > FMT_GEO_MAX_BYTES) {
        snprintf(err, errlen, "file too large (%zu bytes; at most %u)", len, FMT_GEO_MAX_BYTES);
        return FM_ETOOBIG;
    }
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        snprintf(err, errlen, "line %d, column %d: %s", je.line, je.column, je.text);
        return FM_EDECODE;
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *fs = json_object_get(root, "features");
    if (!json_is_object(root) || type == NULL || strcmp(type, "FeatureCollection") != 0 ||
        !json_is_array(fs)) {
        snprintf(err, errlen, "not a GeoJSON FeatureCollection (an object with \"type\": "
                              "\"FeatureCollection\" and a \"features\" list)");
        rc = FM_EDECODE;
    } else if (json_array_size(fs) > FMT_GEO_MAX_FEATURES) {
        snprintf(err, errlen, "%zu features; at most %d (one a county)", json_array_size(fs),
                 FMT_GEO_MAX_FEATURES);
        rc = FM_EDECODE;
    } else if (json_array_size(fs) == 0) {
        snprintf(err, errlen, "the FeatureCollection has no feature");
        rc = FM_EDECODE;
    }
    for (size_t i = 0; rc == FM_OK && i < json_array_size(fs); i++) {
        g.fi = i;
        g.fname = NULL;
        rc = feature(&g, json_array_get(fs, i), property);
    }
    json_decref(root);
    if (rc != FM_OK) {
        out->nfeatures = out->nrings = out->npoints = 0;
    }
    return rc;
}
