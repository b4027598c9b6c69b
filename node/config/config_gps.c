/*
 * config_gps.c — the defaults of the node YAML's `gps` section and the
 * arrival distance it gives an incident category (docs/gps.md). The
 * section is parsed with the rest in config.c.
 */
#include "config.h"

#include <string.h>

void fm_gps_conf_defaults(struct fm_gps_conf *g)
{
    memset(g, 0, sizeof *g);
    fm_strlcpy(g->host, "127.0.0.1", sizeof g->host);
    g->port = 2947;
    g->interval_s = 10;
    g->min_move_m = 50;
    g->heading_deg = 30;
    g->accuracy_m = 50;
    g->max_speed_kmh = 250;
    g->arrive_m = 100;
    g->dwell_s = 5;
    g->leave_m = 150;
}

uint32_t fm_gps_arrive_m(const struct fm_gps_conf *g, const char *category)
{
    for (size_t i = 0; category != NULL && i < g->nradii; i++)
        if (strcmp(g->radii[i].category, category) == 0)
            return g->radii[i].m;
    return g->arrive_m;
}
