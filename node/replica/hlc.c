/*
 * hlc.c — the hybrid logical clock that stamps every op.
 *
 * A timestamp is 48 bits of wall-clock milliseconds shifted left by 16,
 * plus a 16-bit counter. A new local stamp is max(wall << 16, last + 1), so
 * it is strictly increasing even if the wall clock steps back, and stays
 * close to real time. Stamps seen on remote ops pull the local clock
 * forward (so causally later ops get larger stamps), but only when the
 * remote clock is not implausibly far ahead of ours: one node with a wrong
 * clock must not drag every other node into the future. The high-water
 * mark lives in the store's meta database, written in the same
 * transaction as the ops it stamped, so it survives restarts: a node whose
 * wall clock is set back after a restart still stamps above everything it
 * stamped before.
 *
 * The wall clock is the shared base's fm_wall_ms(), which sync reads too:
 * tests may shift it with $FM_TEST_CLOCK_OFFSET_MS (signed milliseconds),
 * to play a node whose clock is wrong.
 */
#include "replica_int.h"

#include <stdlib.h>

uint64_t node_wall_ms(void) { return fm_wall_ms(); }

uint64_t hlc_now(uint64_t last, uint64_t wall_ms)
{
    uint64_t wall = (wall_ms & ((UINT64_C(1) << 48) - 1)) << 16;
    if (last == UINT64_MAX)
        return last;
    return wall > last ? wall : last + 1;
}

uint64_t hlc_observe(uint64_t local, uint64_t remote, uint64_t wall_ms, uint32_t max_skew_ms)
{
    if (hlc_ms(remote) > wall_ms + max_skew_ms)
        return local;
    return remote > local ? remote : local;
}
