/*
 * status_gps.c — the GPS reader's part of `fieldmesh status` (docs/gps.md).
 *
 * fieldmeshd's GPS reader keeps its state in the local store (gps_local.c)
 * so the CLI can show it without asking the daemon: gpsd gone, no fix,
 * poor fix or ok, since when, the last good fix, and its counters. The
 * record's own age is shown too: a daemon that stopped leaves the last
 * state behind, and "as of" says how old it is.
 */
#include "cli_int.h"
#include "../node/gps/gps.h"

#include <stdio.h>

void cli_status_gps_json(struct cli_json *j, struct fm_node *n, const struct fm_config *cfg)
{
    struct fm_gps_status s;
    cli_json_key(j, "gps");
    if (!cfg->gps.enabled) {
        cli_json_null(j);
        return;
    }
    int rc = fm_node_gps_status_get(n, &s);
    cli_json_begin_object(j);
    cli_json_kstr(j, "state", rc == FM_OK ? fm_gps_state_name(s.state) : "not started");
    if (rc == FM_OK) {
        cli_json_kuint(j, "since_ms", s.since_ms);
        cli_json_kuint(j, "as_of_ms", s.updated_ms);
        cli_json_key(j, "last_fix_ms");
        if (s.last_fix_ms)
            cli_json_uint(j, s.last_fix_ms);
        else
            cli_json_null(j);
        cli_json_key(j, "last_accuracy_m");
        if (s.last_fix_ms && s.last_accuracy_dm != FM_GPS_NO_ACCURACY)
            cli_json_uint(j, (s.last_accuracy_dm + 5) / 10);
        else
            cli_json_null(j);
        cli_json_kuint(j, "published", s.published);
        cli_json_kuint(j, "rejected_jumps", s.rejected_jumps);
        cli_json_kuint(j, "bad_lines", s.bad_lines);
        cli_json_kuint(j, "reconnects", s.reconnects);
    }
    cli_json_end_object(j);
}

void cli_status_gps_text(struct fm_node *n, const struct fm_config *cfg, uint64_t now_ms)
{
    struct fm_gps_status s;
    if (!cfg->gps.enabled)
        return;
    if (fm_node_gps_status_get(n, &s) != FM_OK) {
        printf("gps:       not started (fieldmeshd reads gpsd at %s:%u)\n", cfg->gps.host,
               (unsigned)cfg->gps.port);
        return;
    }
    uint64_t since = now_ms > s.since_ms ? (now_ms - s.since_ms) / 1000 : 0;
    uint64_t age = now_ms > s.updated_ms ? (now_ms - s.updated_ms) / 1000 : 0;
    printf("gps:       %s for %llus", fm_gps_state_name(s.state), (unsigned long long)since);
    if (s.state == FM_GPS_GONE)
        printf(" (gpsd at %s:%u does not answer; nothing published)", cfg->gps.host,
               (unsigned)cfg->gps.port);
    else if (s.state == FM_GPS_NOFIX)
        printf(" (the receiver has no fix; nothing published)");
    else if (s.state == FM_GPS_POOR)
        printf(" (fixes worse than %u m; nothing published)", (unsigned)cfg->gps.accuracy_m);
    printf(", %llu published, %llu jumps refused, %llu bad lines, %llu reconnects",
           (unsigned long long)s.published, (unsigned long long)s.rejected_jumps,
           (unsigned long long)s.bad_lines, (unsigned long long)s.reconnects);
    if (age > 15)
        printf(" (as of %llus ago: is fieldmeshd running?)", (unsigned long long)age);
    printf("\n");
}
