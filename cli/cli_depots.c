/*
 * cli_depots.c — stock nearest an incident first: `resource list --near
 * INCIDENT | --for REQUEST` and `resource allocate REQUEST --from nearest`
 * (docs/workflow.md §6).
 *
 * A depot's place is the home station of the directory unit it is named
 * after (stock kept at a station is registered with the station's unit
 * name, the convention permit.c already checks), or the place the
 * directory's materials section gives a depot that is not a unit (a city
 * warehouse). A depot the directory does not place has no distance: such
 * stock is listed after every placed depot, never guessed nearer.
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>

struct near_ctx {
    struct cli_depot *v;
    size_t n, cap;
    const char *kind;
    const struct fm_directory *d;
    const struct fm_incident *at;
};

static int near_one(void *ctx, const struct fm_resource *r)
{
    struct near_ctx *c = ctx;
    if (c->kind != NULL && strcmp(r->kind, c->kind) != 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        struct cli_depot *nv = realloc(c->v, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        c->v = nv;
        c->cap = cap;
    }
    struct cli_depot *o = &c->v[c->n++];
    o->r = *r;
    o->km = -1;
    int32_t lat, lon;
    if (fm_directory_depot_at(c->d, r->depot, &lat, &lon))
        o->km = fm_great_circle_km(c->at->lat_e7, c->at->lon_e7, lat, lon);
    return 0;
}

/* Placed depots first, nearest first; then the others; ties by id. */
static int near_cmp(const void *a, const void *b)
{
    const struct cli_depot *x = a, *y = b;
    if ((x->km < 0) != (y->km < 0))
        return x->km < 0 ? 1 : -1;
    if (x->km != y->km)
        return x->km < y->km ? -1 : 1;
    return strcmp(x->r.id, y->r.id);
}

int cli_depots_near(struct cli *cl, const struct fm_directory *d, const char *incident,
                    const char *kind, struct cli_depot **out, size_t *n)
{
    struct fm_incident inc;
    struct near_ctx c = {.kind = kind, .d = d, .at = &inc}; /* no directory: none placed */
    *out = NULL;
    *n = 0;
    int rc = fm_node_incident_get(cl->node, incident, &inc);
    if (rc != FM_OK)
        return rc;
    rc = fm_node_resources(cl->node, near_one, &c);
    if (rc != FM_OK) {
        free(c.v);
        return rc;
    }
    if (c.n > 1)
        qsort(c.v, c.n, sizeof *c.v, near_cmp);
    *out = c.v;
    *n = c.n;
    return FM_OK;
}

struct req_ctx {
    const char *id;
    struct fm_request r;
    bool found;
};

static int req_one(void *ctx, const struct fm_request *r)
{
    struct req_ctx *c = ctx;
    if (strcmp(r->id, c->id) != 0)
        return 0;
    c->r = *r;
    c->found = true;
    return 1;
}

int cli_depots_request(struct cli *cl, const char *request, struct fm_request *out)
{
    struct req_ctx c = {.id = request};
    int rc = fm_node_requests(cl->node, req_one, &c);
    if (rc < 0)
        return rc;
    if (!c.found)
        return FM_ENOTFOUND;
    *out = c.r;
    return FM_OK;
}
