/*
 * fuzz_soft.c — libFuzzer target for soft-state records (vehicle positions
 * and presence) as they arrive from peers: the input is split into records
 * (u16 length + bytes each) and given to fm_node_soft_ingest on a
 * temporary store. Nothing may crash; the store may keep at most the
 * records it was given, and ingesting the same records again must not
 * change the soft state's count.
 */
#include <stdint.h>

#include "tests/fuzz/fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *recs[MAX_RECS];
    size_t lens[MAX_RECS], n = 0, stored = 0, again = 0;
    struct fm_cur c;
    if (fuzz_node == NULL)
        fuzz_store_open("soft");
    fm_cur_init(&c, data, size);
    while (n < MAX_RECS) {
        uint16_t len;
        if (fm_cur_u16(&c, &len) != FM_OK || fm_cur_bytes(&c, len, &recs[n]) != FM_OK)
            break;
        lens[n++] = len;
    }
    if (node_test_clear(fuzz_node) != FM_OK)
        __builtin_trap();
    int rc = fm_node_soft_ingest(fuzz_node, recs, lens, n, &stored);
    if (rc != FM_OK && rc != FM_EDECODE && rc != FM_EVERIFY)
        __builtin_trap(); /* only the store itself may fail otherwise */
    if (stored > n)
        __builtin_trap();
    if (fm_node_soft_ingest(fuzz_node, recs, lens, n, &again) == FM_OK && again > stored)
        __builtin_trap(); /* nothing new the second time */
    return 0;
}
