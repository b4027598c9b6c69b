/*
 * knock.c — how often the ZAP handler speaks of one refused key.
 *
 * A revoked or unknown node keeps dialling: its DEALER reconnects every
 * few seconds for as long as it runs, and each attempt is a refused
 * handshake here. A per-call-site log limiter still wrote a line every
 * few seconds forever and, shared by every key, could hide a new key
 * behind an old one. Instead each refused key (a node key, or the Curve
 * key of a stranger) is counted in a small table, and its refusals are
 * logged at the 1st, 2nd, 4th, 8th ... one: one line per doubling, each
 * saying how many came before. A key not refused for SYNC_KNOCK_FORGET_MS
 * starts again at one; when the table is full the key refused longest ago
 * makes room.
 */
#include "sync_int.h"

#include <string.h>

bool sync_knock_log_due(struct fm_sync *s, const uint8_t key[FM_PK_LEN], uint64_t now,
                        uint64_t *count)
{
    struct sync_knock *slot = NULL, *oldest = &s->knocks[0];
    for (size_t i = 0; i < SYNC_KNOCK_KEYS; i++) {
        struct sync_knock *k = &s->knocks[i];
        if (k->count != 0 && memcmp(k->key, key, FM_PK_LEN) == 0) {
            slot = k;
            break;
        }
        /* room for a new key: an empty slot, else the one refused longest ago */
        if (oldest->count != 0 && (k->count == 0 || k->last_ms < oldest->last_ms))
            oldest = k;
    }
    if (slot != NULL && now - slot->last_ms > SYNC_KNOCK_FORGET_MS)
        slot->count = 0;
    if (slot == NULL) {
        slot = oldest;
        memcpy(slot->key, key, FM_PK_LEN);
        slot->count = 0;
    }
    slot->count++;
    slot->last_ms = now;
    *count = slot->count;
    return (slot->count & (slot->count - 1)) == 0; /* 1, 2, 4, 8 ... */
}
