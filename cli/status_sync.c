/*
 * status_sync.c — the part of `fieldmesh status` that tells how the daemon
 * copes with running out: a store that cannot take ops (full disk, map at
 * its cap) and the per-key limits it enforces on its neighbours. Kept apart
 * from cmd_daemon.c so the status command only calls two functions.
 */
#include "cli_int.h"

#include <stdio.h>

void cli_status_sync_json(struct cli_json *j, const struct fm_daemon_info *info, bool up)
{
    cli_json_key(j, "store_fault");
    if (up && info->ingest_fault_err != 0)
        cli_json_string(j, fm_strerror(info->ingest_fault_err));
    else
        cli_json_null(j);
    cli_json_key(j, "pulls_paused_ms");
    if (up)
        cli_json_uint(j, info->ingest_backoff_ms);
    else
        cli_json_null(j);
    cli_json_key(j, "ingest_faults");
    if (up)
        cli_json_uint(j, info->ingest_faults);
    else
        cli_json_null(j);
    cli_json_key(j, "conns_refused_per_key");
    if (up)
        cli_json_uint(j, info->key_conns_refused);
    else
        cli_json_null(j);
    cli_json_key(j, "pulls_deferred");
    if (up)
        cli_json_uint(j, info->pulls_deferred);
    else
        cli_json_null(j);
}

void cli_status_sync_text(const struct fm_daemon_info *info, bool up)
{
    if (!up)
        return;
    if (info->ingest_fault_err != 0)
        printf("STORE:     cannot take ops from peers (%s): nothing stored, pulls paused "
               "%llu ms at a time, %llu failed ingest(s); free disk space or raise "
               "storage.map_max_mb\n",
               fm_strerror(info->ingest_fault_err),
               (unsigned long long)info->ingest_backoff_ms,
               (unsigned long long)info->ingest_faults);
    if (info->key_conns_refused || info->pulls_deferred)
        printf("limits:    %llu connection(s) refused over the per-key cap, %llu pull(s) "
               "deferred over a key's reply budget\n",
               (unsigned long long)info->key_conns_refused,
               (unsigned long long)info->pulls_deferred);
}
