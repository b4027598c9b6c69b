/*
 * clone.c — noticing one node key used by two live connections at once
 * (a cloned key: issue 9 item 6, docs/field-sync.md §5 "Cloned keys").
 *
 * Every connection into our ROUTER gets its own routing id, and the ZAP
 * handler stamps each with the node key that authenticated it. A node
 * has one DEALER to us, so its messages come with one routing id; after a
 * reconnect they come with a new one and the old one falls silent. Two
 * processes holding the same key and both dialling us instead interleave:
 * messages arrive from id A, then B, then A again. So the transport tells
 * us the routing id (and the peer's address) of every message, we keep
 * the previous id of each neighbour, and a switch *back* to it counts as a
 * flip; CLONE_FLIPS flips within CLONE_WINDOW_MS of each other mark the
 * key as in use twice. The mark lasts CLONE_HOLD_MS after the last flip.
 * Each episode is counted (counters.clone_alerts) and logged at WARN,
 * rate-limited: the peer controls how often this fires.
 *
 * What it cannot see: a clone that only we dial, or that reaches us while
 * the original does not. Two writers then still show as a fork of the
 * key's log once both have written (node/clone_alert.c).
 */
#include "sync_int.h"

#include <string.h>

#define COMPONENT "sync"
#define CLONE_FLIPS 2
#define CLONE_WINDOW_MS 30000
#define CLONE_HOLD_MS 300000

static struct fm_log_limiter lim_clone;

static void addr_copy(char dst[SYNC_ADDR_MAX], const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < SYNC_ADDR_MAX; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
    dst[i] = '\0';
}

bool sync_clone_live(const struct sync_nb *nb, uint64_t now_ms)
{
    return nb->clone_ms != 0 && now_ms - nb->clone_ms < CLONE_HOLD_MS;
}

void sync_clone_seen(struct fm_sync *s, struct sync_nb *nb, const uint8_t *rid, size_t rlen,
                     const char *addr)
{
    uint64_t now = fm_mono_ms();
    if (rlen == 0 || rlen > SYNC_ROUTE_MAX)
        return;
    if (nb->route_len == rlen && memcmp(nb->route, rid, rlen) == 0)
        return; /* the connection it spoke on last */
    bool back = nb->route_alt_len == rlen && memcmp(nb->route_alt, rid, rlen) == 0;
    if (nb->route_len > 0) {
        memcpy(nb->route_alt, nb->route, nb->route_len);
        nb->route_alt_len = nb->route_len;
        memcpy(nb->addr_alt, nb->addr, sizeof nb->addr);
    }
    addr_copy(nb->addr, addr);
    if (!back) {
        nb->clone_flips = 0; /* a new connection: a reconnect, so far */
        return;
    }
    if (now - nb->clone_flip_ms > CLONE_WINDOW_MS)
        nb->clone_flips = 0;
    nb->clone_flip_ms = now;
    if (++nb->clone_flips < CLONE_FLIPS)
        return;
    if (!sync_clone_live(nb, now)) {
        char key[FM_KEY_TEXT_LEN];
        fm_key_encode(nb->pk, key);
        s->k.clone_alerts++;
        fm_log_limited(&lim_clone, 5, FM_LOG_WARN, COMPONENT,
                       "node %s (%s) is connected to us twice at once, from %s and %s: "
                       "its key is in use by two machines (cloned?)",
                       nb->name, key, nb->addr_alt[0] ? nb->addr_alt : "?",
                       nb->addr[0] ? nb->addr : "?");
    }
    nb->clone_ms = now;
}
