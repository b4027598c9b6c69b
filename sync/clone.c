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
 * the last SYNC_CLONE_ROUTES ids of each neighbour, and a message on a
 * remembered id other than the last one counts as a flip; CLONE_FLIPS
 * flips within CLONE_WINDOW_MS of each other mark the key as in use
 * twice. The original may also fall silent on its own
 * connection (it may send everything through the one we dialled), so
 * every node says hello (a SUMMARY, no reply wanted) on its DEALER as soon
 * as a handshake succeeds, which tells the peer the connection's routing
 * id, and every remembered connection but the last is probed: once it
 * has been silent for longer
 * than the heartbeat timeout (a half-open connection of a restarted peer
 * is gone by then), while the new one is in use, we send the neighbour a
 * SUMMARY (no reply wanted: harmless) on the old routing id. The ROUTER is
 * mandatory-routing, so a connection that is gone fails the send
 * (EHOSTUNREACH: it was a reconnect); one that takes it is live: two live
 * connections. The mark lasts CLONE_HOLD_MS after the last such sign.
 * Each episode is counted (counters.clone_alerts) and logged at WARN,
 * rate-limited: the peer controls how often this fires.
 *
 * What it cannot see: a clone that only we dial, or that reaches us while
 * the original does not. Two writers then still show as a fork of the
 * key's log once both have written (node/replica/clone_alert.c).
 */
#include "sync_int.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

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

/* nb's key is on two live connections (routes[other] besides the last):
 * a new episode is counted and logged, an ongoing one kept alive. */
static void clone_mark(struct fm_sync *s, struct sync_nb *nb, size_t other, uint64_t now)
{
    if (!sync_clone_live(nb, now)) {
        char key[FM_KEY_TEXT_LEN];
        const char *a = nb->routes[other].addr;
        const char *b = nb->route_cur ? nb->routes[nb->route_cur - 1].addr : "";
        fm_key_encode(nb->pk, key);
        s->k.clone_alerts++;
        fm_log_limited(&lim_clone, 5, FM_LOG_WARN, COMPONENT,
                       "node %s (%s) is connected to us twice at once, from %s and %s: "
                       "its key is in use by two machines (cloned?)",
                       nb->name, key, a[0] ? a : "?", b[0] ? b : "?");
    }
    nb->clone_ms = now;
}

/* The slot of routing id rid, or a slot for it: a free one, else the one
 * heard least lately other than the last. */
static size_t route_slot(struct sync_nb *nb, const uint8_t *rid, size_t rlen, bool *known)
{
    size_t pick = SYNC_CLONE_ROUTES;
    *known = false;
    for (size_t k = 0; k < SYNC_CLONE_ROUTES; k++) {
        const struct sync_route_seen *r = &nb->routes[k];
        if (r->len == rlen && memcmp(r->rid, rid, rlen) == 0) {
            *known = true;
            return k;
        }
    }
    for (size_t k = 0; k < SYNC_CLONE_ROUTES; k++) {
        const struct sync_route_seen *r = &nb->routes[k];
        if (r->len == 0)
            return k;
        if (k + 1 != nb->route_cur &&
            (pick == SYNC_CLONE_ROUTES || r->heard_ms < nb->routes[pick].heard_ms))
            pick = k;
    }
    return pick;
}

void sync_clone_seen(struct fm_sync *s, struct sync_nb *nb, const uint8_t *rid, size_t rlen,
                     const char *addr)
{
    uint64_t now = sync_now(s);
    bool known;
    if (rlen == 0 || rlen > SYNC_ROUTE_MAX)
        return;
    size_t k = route_slot(nb, rid, rlen, &known);
    if (k == SYNC_CLONE_ROUTES)
        return; /* cannot happen: SYNC_CLONE_ROUTES > 1 */
    struct sync_route_seen *r = &nb->routes[k];
    bool flip = known && nb->route_cur != 0 && nb->route_cur != k + 1;
    if (!known) {
        memcpy(r->rid, rid, rlen);
        r->len = rlen;
        r->probe_ms = 0;
    }
    addr_copy(r->addr, addr);
    r->heard_ms = now;
    size_t prev = nb->route_cur;
    nb->route_cur = k + 1;
    if (!flip)
        return; /* the same connection, or a new one (a reconnect, so far) */
    if (now - nb->clone_flip_ms > CLONE_WINDOW_MS)
        nb->clone_flips = 0;
    nb->clone_flip_ms = now;
    if (++nb->clone_flips >= CLONE_FLIPS)
        clone_mark(s, nb, prev - 1, now);
}

/* A SUMMARY with no reply wanted: the receiver only notes our clock and,
 * when our heads equal its own, what we hold. */
static int hello_encode(struct fm_sync *s, struct fm_buf *b)
{
    struct fm_wire_summary sm = {.flags = 0, .now_ms = sync_wall(s),
                                 .nauthors = (uint32_t)s->nheads, .total = s->vv_total};
    memcpy(sm.hash, s->vv_hash, FM_HASH_LEN);
    return fm_wire_encode_summary(b, &sm);
}

/* Counts a hello that ZeroMQ took, as every message sent is counted. */
static void count_out(struct fm_sync *s, struct sync_nb *nb, size_t len)
{
    s->k.msgs_out++;
    s->k.bytes_out += len;
    nb->msgs[FM_SYNC_MSG_SUMMARY].msgs_out++;
    nb->msgs[FM_SYNC_MSG_SUMMARY].bytes_out += len;
}

/* Sends the hello to nb on routing id r: false if that connection is
 * gone (the ROUTER is mandatory-routing). */
static bool route_alive(struct fm_sync *s, struct sync_nb *nb, const struct sync_route_seen *r)
{
    struct fm_buf b;
    bool alive = false;
    fm_buf_init(&b, 128);
    if (hello_encode(s, &b) == FM_OK) {
        if (zmq_send(s->router, r->rid, r->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
            alive = errno != EHOSTUNREACH; /* a full queue is still a connection */
        else if (zmq_send(s->router, b.data, b.len, ZMQ_DONTWAIT) >= 0)
            alive = true, count_out(s, nb, b.len);
        else
            alive = errno == EAGAIN;
    }
    fm_buf_release(&b);
    return alive;
}

static void hello_send(struct fm_sync *s, struct sync_nb *nb)
{
    struct fm_buf b;
    nb->hello_due = false;
    fm_buf_init(&b, 128);
    if (nb->dealer && !nb->banned && hello_encode(s, &b) == FM_OK &&
        zmq_send(nb->dealer, b.data, b.len, ZMQ_DONTWAIT) >= 0)
        count_out(s, nb, b.len);
    fm_buf_release(&b);
}

/* Probes nb's remembered connections other than the last, each silent for
 * longer than a dead one can stay open, while the last is in use. */
static void routes_probe(struct fm_sync *s, struct sync_nb *nb, uint64_t now)
{
    const uint64_t gone_after = 2 * 3 * (uint64_t)s->cfg.heartbeat_ms;
    if (!s->router || nb->banned || nb->route_cur == 0 ||
        now - nb->routes[nb->route_cur - 1].heard_ms > gone_after)
        return;
    for (size_t k = 0; k < SYNC_CLONE_ROUTES; k++) {
        struct sync_route_seen *r = &nb->routes[k];
        if (r->len == 0 || k + 1 == nb->route_cur || now - r->heard_ms < gone_after ||
            now < r->probe_ms)
            continue;
        r->probe_ms = now + s->cfg.heartbeat_ms;
        if (route_alive(s, nb, r))
            clone_mark(s, nb, k, now);
        else
            r->len = 0; /* it was a reconnect: that connection is gone */
    }
}

void sync_clone_tick(struct fm_sync *s, uint64_t now)
{
    for (size_t i = 0; i < s->nnb; i++) {
        struct sync_nb *nb = s->nbs[i];
        if (!nb)
            continue;
        if (nb->hello_due)
            hello_send(s, nb);
        routes_probe(s, nb, now);
    }
}
