/*
 * cmd_export.c — `fieldmesh export geojson`: this node's incidents, units
 * and stations as one GeoJSON FeatureCollection (RFC 7946) that QGIS or any
 * web map opens as it is. Each feature is a Point with [longitude,
 * latitude] in WGS 84 (RFC 7946's order, the reverse of ours elsewhere) and
 * properties saying what it is: an incident (category, priority, status,
 * address, times), a unit with a known position (name, department, status,
 * when it was placed) or a station (a directory unit's home). Written
 * through the CLI's JSON writer, so every string is escaped the same way
 * as `--json` output.
 */
#include "cli_int.h"

#include <stdlib.h>
#include <string.h>

struct geo_ctx {
    struct cli_json j;
    size_t incidents, units, stations;
    uint64_t since_hlc; /* --since: only what changed at or after (0 = all) */
};

/* "type": "Feature", "id", "geometry": Point [lon, lat]; leaves the
 * "properties" object open for the caller. */
static void geo_begin_feature(struct cli_json *j, const char *id, int32_t lat_e7,
                              int32_t lon_e7, const char *kind)
{
    char lat[CLI_COORD_LEN], lon[CLI_COORD_LEN];
    cli_fmt_coord(lat_e7, lat);
    cli_fmt_coord(lon_e7, lon);
    cli_json_begin_object(j);
    cli_json_kstr(j, "type", "Feature");
    cli_json_kstr(j, "id", id);
    cli_json_key(j, "geometry");
    cli_json_begin_object(j);
    cli_json_kstr(j, "type", "Point");
    cli_json_key(j, "coordinates");
    cli_json_begin_array(j);
    cli_json_raw(j, lon);
    cli_json_raw(j, lat);
    cli_json_end_array(j);
    cli_json_end_object(j);
    cli_json_key(j, "properties");
    cli_json_begin_object(j);
    cli_json_kstr(j, "kind", kind);
}

static void geo_end_feature(struct cli_json *j)
{
    cli_json_end_object(j); /* properties */
    cli_json_end_object(j);
}

static int geo_incident(void *ctx, const struct fm_incident *inc)
{
    struct geo_ctx *g = ctx;
    if (inc->updated_hlc < g->since_hlc)
        return 0;
    geo_begin_feature(&g->j, inc->id, inc->lat_e7, inc->lon_e7, "incident");
    cli_json_kstr(&g->j, "category", inc->category);
    cli_json_kuint(&g->j, "priority", inc->priority);
    cli_json_kstr(&g->j, "status", fm_stage_name(inc->stage));
    cli_json_kstr(&g->j, "address", inc->address);
    cli_json_ktime(&g->j, "reported_at", inc->reported_hlc);
    cli_json_ktime(&g->j, "updated_at", inc->updated_hlc);
    geo_end_feature(&g->j);
    g->incidents++;
    return 0;
}

static int geo_unit(void *ctx, const struct fm_unit *u)
{
    struct geo_ctx *g = ctx;
    if (!u->has_position || u->position_hlc < g->since_hlc)
        return 0; /* no live position yet (its station stands for it), or an old one */
    geo_begin_feature(&g->j, u->id, u->lat_e7, u->lon_e7, "unit");
    cli_json_kstr(&g->j, "name", u->name);
    cli_json_kstr(&g->j, "department", u->department);
    cli_json_kstr(&g->j, "unit_kind", u->kind);
    cli_json_kstr(&g->j, "status", u->status);
    cli_json_ktime(&g->j, "position_at", u->position_hlc);
    geo_end_feature(&g->j);
    g->units++;
    return 0;
}

static void geo_stations(struct geo_ctx *g, const struct fm_directory *d)
{
    char id[FM_NAME_MAX + 16];
    for (size_t i = 0; i < d->nunits; i++) {
        const struct fm_dir_unit *u = &d->units[i];
        const struct fm_dir_dept *dept = u->dept < d->ndepts ? &d->depts[u->dept] : NULL;
        snprintf(id, sizeof(id), "station:%s", u->name);
        geo_begin_feature(&g->j, id, u->lat_e7, u->lon_e7, "station");
        cli_json_kstr(&g->j, "unit", u->name);
        cli_json_kstr(&g->j, "department", dept ? dept->name : NULL);
        cli_json_kstr(&g->j, "county",
                      dept && dept->county < d->ncounties ? d->counties[dept->county] : NULL);
        cli_json_kstr(&g->j, "unit_kind", u->kind);
        geo_end_feature(&g->j);
        g->stations++;
    }
}

static int run_export_geojson(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "since", true } };
    struct cli_args a;
    uint64_t since_ms = 0;
    struct fm_incident_filter f = { .stage = -1, .category = NULL };
    struct fm_directory *dir = NULL;
    struct geo_ctx *g;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if (a.val[0] != NULL && (rc = cli_parse_date(cl, "--since", a.val[0], &since_ms)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    rc = fm_node_directory_get(cl->node, &dir);
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return cli_error(cl, rc, "cannot read the directory: %s", fm_strerror(rc));
    if ((g = calloc(1, sizeof(*g))) == NULL) {
        fm_directory_free(&dir);
        return cli_error(cl, FM_ENOMEM, "out of memory");
    }
    g->since_hlc = since_ms << 16;
    cli_json_init(&g->j, stdout);
    cli_json_begin_object(&g->j);
    cli_json_kstr(&g->j, "type", "FeatureCollection");
    cli_json_key(&g->j, "features");
    cli_json_begin_array(&g->j);
    rc = fm_node_incidents(cl->node, &f, geo_incident, g);
    if (rc == FM_OK)
        rc = fm_node_units(cl->node, geo_unit, g);
    if (rc == FM_OK && dir != NULL && since_ms == 0)
        geo_stations(g, dir); /* stations have no change time: whole exports only */
    cli_json_end_array(&g->j);
    cli_json_end_object(&g->j);
    cli_json_finish(&g->j);
    fm_directory_free(&dir);
    free(g);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot read the store: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_export_geojson = {
    "export", "geojson", "[--since DATE]",
    "write incidents, unit positions and stations as GeoJSON (for QGIS, web maps)",
    "Prints one GeoJSON FeatureCollection (RFC 7946) on stdout: a Point\n"
    "feature per incident, per unit with a known position and per directory\n"
    "station (a unit's home), coordinates as [longitude, latitude]. Each\n"
    "feature's properties.kind is \"incident\", \"unit\" or \"station\"; fields\n"
    "in docs/cli.md.\n"
    "--since DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z, UTC): only incidents changed\n"
    "and unit positions placed at or after DATE, and no stations (they carry no\n"
    "change time), for a map layer refreshed by increments.\n",
    run_export_geojson,
};
