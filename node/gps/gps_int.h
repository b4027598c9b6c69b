/*
 * gps_int.h — the GPS reader of fieldmeshd (docs/gps.md): declarations
 * shared by the gpsd JSON decoder (gps_json.c), the gpsd client
 * (gps_client.c), the publishing rules (gps_rules.c) and the arrival
 * watch (gps_arrive.c).
 *
 * gpsd speaks newline-terminated JSON objects over TCP. We parse them
 * ourselves rather than through libgps: the bytes come from a socket we do
 * not control, so the decoder is a small strict cursor over one bounded
 * line, fuzzed (tests/fuzz/fuzz_gps_json.c), and the client never blocks
 * the daemon's loop.
 */
#ifndef FM_GPS_INT_H
#define FM_GPS_INT_H

#include "gps.h"
#include "../daemon/daemon.h"

#define GPS_LINE_MAX 4096  /* longest object we take (libgps uses 4096 too); longer: dropped whole */
#define GPS_DEPTH_MAX 8    /* nesting of objects/arrays we skip over */

enum gps_class { GPS_CLASS_OTHER = 0, GPS_CLASS_TPV, GPS_CLASS_VERSION, GPS_CLASS_ERROR };

/* A time-position-velocity report, the fields we use. */
struct gps_tpv {
    int mode;              /* 0 unknown, 1 no fix, 2 2D, 3 3D */
    bool has_time, has_pos, has_eph, has_track, has_speed;
    uint64_t time_ms;      /* the fix time (UTC, from the receiver) */
    double lat, lon;       /* degrees */
    double eph_m;          /* horizontal position error estimate, metres */
    double track_deg;      /* course over ground, degrees true */
    double speed_mps;
    char device[64];       /* "" when absent */
};

struct gps_msg {
    enum gps_class cls;
    struct gps_tpv tpv;    /* GPS_CLASS_TPV */
    char message[128];     /* GPS_CLASS_ERROR: gpsd's text (control characters dropped) */
};

/* Decodes one gpsd JSON object (without its newline). Strict JSON: one
 * object, nothing after it but blanks; unknown members and nested values
 * are skipped (nesting at most GPS_DEPTH_MAX); a known member with the
 * wrong type, a number that is not finite, or a coordinate out of range
 * is FM_EDECODE. `out` is zeroed first. */
int gps_json_decode(struct gps_msg *out, const char *line, size_t len) FM_MUST_USE;

/* "2026-12-04T18:40:06.000Z" -> ms since the epoch; FM_EDECODE if not
 * exactly that form (fraction optional, 1..9 digits). */
int gps_time_parse(const char *s, size_t len, uint64_t *ms) FM_MUST_USE;

#endif

/* ---- publishing rules (gps_rules.c) ---- */
#define GPS_MIN_GAP_MS 1000      /* never two positions within a second */
#define GPS_STALE_MS 60000       /* a fix older than this (by our clock) is no fix */
#define GPS_FUTURE_MS 10000      /* a fix from further ahead is no fix either */
#define GPS_JUMP_CONFIRM 3       /* consistent fixes that make a jump the new truth */
#define GPS_TURN_MIN_MPS 2.0     /* below this speed the course is noise */

enum gps_verdict { GPS_V_NOFIX = 0, GPS_V_POOR, GPS_V_JUMP, GPS_V_GOOD };

struct gps_pt {
    double lat, lon;
    uint64_t fix_ms;
};

struct gps_rules {
    const struct fm_gps_conf *conf;
    bool has_good, has_pub, has_cand;
    struct gps_pt good;          /* the last fix taken as true */
    struct gps_pt pub;           /* the last one published */
    double pub_track;            /* its course (-1 none) */
    uint64_t pub_mono_ms;
    struct gps_pt cand;          /* a run of fixes far from `good` */
    unsigned cand_n;
};

/* Great-circle distance in metres. */
double gps_distance_m(double lat1, double lon1, double lat2, double lon2);
/* What a TPV report is: no fix (mode < 2, no position or time, stale),
 * poor (error estimate unknown or above gps.accuracy_m), a jump (faster
 * than gps.max_speed_kmh from the last good fix, until GPS_JUMP_CONFIRM
 * fixes agree with each other), or good (then remembered as the last). */
enum gps_verdict gps_rules_judge(struct gps_rules *r, const struct gps_tpv *t, uint64_t wall_ms);
/* Whether a good fix is to be published now: the first one, one after
 * gps.interval_s, a move of gps.min_move_m or a turn of gps.heading_deg
 * since the last published, and never within GPS_MIN_GAP_MS of it. */
bool gps_rules_due(const struct gps_rules *r, const struct gps_tpv *t, uint64_t mono_ms);
void gps_rules_published(struct gps_rules *r, const struct gps_tpv *t, uint64_t mono_ms);
/* The fix in the published form. */
void gps_fix_from_tpv(const struct gps_tpv *t, struct fm_gps_fix *out);

/* ---- arrival and departure by position (gps_arrive.c) ---- */
#define GPS_TICKETS_REFRESH_MS 2000 /* how often the unit's active tickets are looked up */
#define GPS_ARRIVE_MAX 4            /* active tickets of one unit watched at once */

struct gps_watch {                  /* one active ticket of our unit */
    char ticket_id[FM_ID_MAX];
    char incident[FM_ID_MAX];
    int state;                      /* enum fm_ticket_state when looked up */
    bool gps_enroute, gps_arrive;   /* already written by us */
    int32_t inc_lat_e7, inc_lon_e7;
    bool has_home;
    int32_t home_lat_e7, home_lon_e7;
    uint32_t arrive_m;
    uint64_t inside_since_ms;       /* fix time the unit came within arrive_m (0: outside) */
    bool trail_loaded;              /* trail read from the local store (after a restart) */
    uint64_t trail_saved_mono;      /* when it was last stored */
    struct fm_gps_trail trail;      /* while en route (gps_trail.c) */
};
#define GPS_TRAIL_SAVE_MS 5000      /* the moving last point is stored at most this often */

struct gps_arrive {
    const struct fm_gps_conf *conf;
    char unit[FM_ID_MAX + FM_NAME_MAX]; /* as configured: this node's certificate unit */
    uint64_t next_refresh_mono;
    struct gps_watch w[GPS_ARRIVE_MAX];
    size_t nw;
    unsigned written;               /* steps written since start */
};

/* Called for every good fix: writes "en route" once the unit is farther
 * than gps.leave_m from its home station after an ack, and "arrive" once
 * it has stayed within the category's arrival distance of the incident
 * for gps.dwell_s (by fix time), each with the GPS flag. */
/* The unit a certificate names, by id or by registered name (the first
 * unit of that name in id order). FM_ENOTFOUND if not known here yet. */
int gps_unit_resolve(struct fm_node *n, const char *unit, struct fm_unit *out) FM_MUST_USE;
void gps_arrive_fix(struct gps_arrive *a, struct fm_node *n, const struct gps_tpv *t,
                    uint64_t mono_ms);

/* ---- the breadcrumb trail while en route (gps_trail.c) ---- */
/* Adds a fix: kept when it is the first, or the previous last is at least
 * FM_GPS_TRAIL_GAP_MS after the one before it (and the cap is not reached);
 * otherwise it replaces the last. A fix not newer than the last is ignored.
 * Updates fixes, full and distance_m. True when a point was appended. */
bool gps_trail_add(struct fm_gps_trail *tr, const struct fm_gps_trail_pt *p);
/* Sum of the great-circle legs between kept points, metres. */
double gps_trail_distance_m(const struct fm_gps_trail *tr);
