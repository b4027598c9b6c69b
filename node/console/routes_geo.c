/*
 * routes_geo.c — GET /api/directory/boundaries: the county outlines of the
 * directory in force, for the map (web/map.js). Apart from /api/directory
 * because a city's outlines may be most of a megabyte that the board and
 * intake pages never need.
 *
 *   {"version": ID, "counties": [{"name": N, "rings": [[[lat, lon], ...], ...]}]}
 *
 * Rings are open (the first point is not repeated) and a county's rings
 * are meant by the even-odd rule, which is how Leaflet fills a polygon
 * given several rings: holes and separate parts draw right alike.
 */
#include "console_int.h"

static json_t *enc_ring(const struct fm_directory *d, const struct fm_dir_ring *r)
{
    json_t *ring = json_array();
    for (uint32_t k = 0; k < r->npoints; k++) {
        const struct fm_dir_point *p = &d->points[r->first + k];
        json_array_append_new(ring, json_pack("[o, o]", enc_coord(p->lat_e7),
                                              enc_coord(p->lon_e7)));
    }
    return ring;
}

int route_boundaries(struct call *k)
{
    struct fm_directory *d = NULL;
    node_lock(k->c);
    int rc = fm_node_directory_get(k->c->node, &d);
    node_unlock(k->c);
    if (rc == FM_ENOTFOUND)
        return reply_error(k, 404, "not_found", "no directory was published yet (fieldmesh "
                           "directory publish FILE)");
    if (rc != FM_OK)
        return reply_node_error(k, rc, "cannot read the directory: %s", fm_strerror(rc));
    json_t *counties = json_array(), *rings = NULL;
    for (size_t i = 0; i < d->nrings; i++) {
        const struct fm_dir_ring *r = &d->rings[i];
        if (i == 0 || d->rings[i - 1].county != r->county) {
            rings = json_array();
            json_array_append_new(counties, json_pack("{s:s, s:o}", "name",
                                                      d->counties[r->county], "rings", rings));
        }
        json_array_append_new(rings, enc_ring(d, r));
    }
    json_t *o = json_pack("{s:s, s:o}", "version", d->version, "counties", counties);
    fm_directory_free(&d);
    return reply_json(k, 200, o);
}
