/*
 * gps.h — the GPS reader fieldmeshd runs against gpsd (node/gps/,
 * docs/gps.md): it publishes the unit's position as soft state under the
 * rate rules and stamps en route and arrival by position. The config
 * section is in config.h, the published fix and the reader's status in
 * replica.h, the GPS-stamped ticket step in workflow.h.
 */
#ifndef FM_GPS_H
#define FM_GPS_H

#include "../workflow/workflow.h"

struct fm_gps;
/* A reader for `unit` (this node's certificate unit); it connects lazily
 * and never blocks. NULL-safe destroy. */
int fm_gps_new(struct fm_gps **out, const struct fm_gps_conf *conf, const char *unit) FM_MUST_USE;
void fm_gps_destroy(struct fm_gps **gp);
/* The socket to poll for input (-1 when not connected). */
int fm_gps_fd(const struct fm_gps *g);
/* Reads what gpsd sent, (re)connects when due, publishes under the rate
 * rules and watches arrival. Call often (every loop turn); cheap when
 * there is nothing to do. Errors are logged, never fatal. */
void fm_gps_poll(struct fm_gps *g, struct fm_node *n, uint64_t wall_ms, uint64_t mono_ms);

#endif
