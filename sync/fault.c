/*
 * fault.c — a store that cannot take ops (a full disk, an LMDB map at its
 * cap, an I/O error) is a local fault, not a peer's mistake.
 *
 * Ingest returns an error only when the store itself failed: nothing of
 * the batch was stored, and no op in it was judged. Retrying at once only
 * re-reads the same ops from the neighbour and fails again (a receiver
 * with a full disk once pulled ~3.9 million ops in 40 s at 87 % CPU). So
 * a failed ingest pauses pulling from every neighbour, and taking pushed
 * ops, for a back-off that doubles with each failure in a row
 * (SYNC_FAULT_BACKOFF_MIN_MS .. SYNC_FAULT_BACKOFF_MAX_MS); the first
 * ingest after the wait is the probe. Each step is logged once (the
 * back-off itself is the rate limit), the state is shown in the counters
 * (`fieldmesh status`), and the neighbour that sent the ops is sent our
 * version vector, which is read from the store: it learns what really
 * arrived rather than believing what it served.
 */
#include "sync_int.h"

#define COMPONENT "sync"

bool sync_fault_paused(const struct fm_sync *s, uint64_t now)
{
    return s->fault_err != FM_OK && now < s->fault_until_ms;
}

void sync_fault_note(struct fm_sync *s, int err, uint64_t now)
{
    if (s->fault_err == FM_OK || s->fault_backoff_ms == 0)
        s->fault_backoff_ms = SYNC_FAULT_BACKOFF_MIN_MS;
    else if (s->fault_backoff_ms < SYNC_FAULT_BACKOFF_MAX_MS / 2)
        s->fault_backoff_ms *= 2;
    else
        s->fault_backoff_ms = SYNC_FAULT_BACKOFF_MAX_MS;
    s->fault_err = err;
    s->fault_until_ms = now + s->fault_backoff_ms;
    s->fault_in_row++;
    s->k.ingest_faults++;
    s->k.ingest_fault_err = (uint64_t)-(int64_t)err;
    s->k.ingest_backoff_ms = s->fault_backoff_ms;
    /* every op of the batch comes again, from head + 1 */
    for (size_t i = 0; i < s->nauthors; i++)
        s->authors[i].pulled = 0;
    fm_log(FM_LOG_ERROR, COMPONENT,
           "the store cannot take ops (%s; %llu failure(s) in a row): nothing stored, "
           "pulls paused for %u ms (free disk space or raise storage.map_max_mb)",
           fm_strerror(err), (unsigned long long)s->fault_in_row, s->fault_backoff_ms);
}

void sync_fault_clear(struct fm_sync *s)
{
    if (s->fault_err == FM_OK)
        return;
    fm_log(FM_LOG_WARN, COMPONENT, "the store takes ops again after %llu failed ingest(s)",
           (unsigned long long)s->fault_in_row);
    s->fault_err = FM_OK;
    s->fault_backoff_ms = 0;
    s->fault_in_row = 0;
    s->k.ingest_fault_err = 0;
    s->k.ingest_backoff_ms = 0;
}
