/*
 * gps.h — the GPS reader fieldmeshd runs against gpsd (node/gps/,
 * docs/gps.md): it publishes the unit's position as soft state under the
 * rate rules and stamps en route and arrival by position. The config
 * section is in config.h, the published fix in replica.h, the ticket's
 * trail and the GPS-stamped ticket step in workflow.h.
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

/* ---- the reader's status, kept in the node's local records (gps_local.c)
 * so that `fieldmesh status` shows it though the reader runs in fieldmeshd ---- */
enum fm_gps_state {
    FM_GPS_OFF = 0,     /* gps.enabled is false */
    FM_GPS_GONE,        /* no connection to gpsd (never had one, or it went away) */
    FM_GPS_NOFIX,       /* gpsd answers, the receiver has no fix */
    FM_GPS_POOR,        /* fixes worse than gps.accuracy_m: nothing published */
    FM_GPS_OK,          /* good fixes, published under the rate rules */
};
const char *fm_gps_state_name(enum fm_gps_state s); /* "off", "gpsd gone", ... */

/* What the reader last saw, kept in the local store (never synced) so
 * `fieldmesh status` can show it. */
struct fm_gps_status {
    enum fm_gps_state state;
    uint64_t since_ms;        /* wall time the state began */
    uint64_t updated_ms;      /* wall time of this record (the reader writes it every few s) */
    uint64_t last_fix_ms;     /* fix time of the last good fix (0 none) */
    uint32_t last_accuracy_dm;
    uint64_t published;       /* positions published since the reader started */
    uint64_t rejected_jumps;  /* fixes refused as jumps */
    uint64_t bad_lines;       /* lines from gpsd refused (malformed, too long) */
    uint64_t reconnects;      /* connections to gpsd made after the first */
};
int fm_node_gps_status_put(struct fm_node *n, const struct fm_gps_status *s) FM_MUST_USE;
/* FM_ENOTFOUND when no reader ever ran on this store. */
int fm_node_gps_status_get(struct fm_node *n, struct fm_gps_status *s) FM_MUST_USE;

#endif
