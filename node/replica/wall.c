/*
 * wall.c — the node's wall clock for callers outside the node library.
 * Certificate validity, admission and op stamps are all judged on
 * node_wall_ms() (hlc.c: the system clock, shifted in tests by
 * $FM_TEST_CLOCK_OFFSET_MS); `fieldmesh doctor` judges certificate expiry
 * on the same clock, so it predicts what the node will decide.
 */
#include "replica_int.h"

uint64_t fm_node_wall_ms(void) { return node_wall_ms(); }
