/*
 * zap.c — the ZAP handler: who may connect to our ROUTER.
 *
 * libzmq asks, for every CurveZMQ handshake on a socket with a ZAP domain,
 * a REP socket bound to inproc://zeromq.zap.01 in the same context. We
 * poll that socket in the engine's own loop (no thread), read the request
 * strictly (RFC 27: version, request id, domain, address, routing id,
 * mechanism, then the client's 32-byte Curve key), and admit the key only
 * if it maps to a configured peer or to an author the store admits
 * (sync_admit_curve). The reply's User-Id is the node key in hex, so every
 * message later received on that connection names its sender. Refusals
 * are counted and logged (rate-limited: a stranger can trigger them): a
 * node we know (revoked, expired) by its key text, as operators know it,
 * a stranger by its Curve key in Z85, labelled as such.
 */
#include "sync_int.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

#define COMPONENT "zap"
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES_MAX 8
#define ZAP_FRAME_MAX 256

static struct fm_log_limiter lim_refuse;

int sync_zap_bind(struct fm_sync *s)
{
    int linger = 0;
    s->zap = zmq_socket(s->zctx, ZMQ_REP);
    if (!s->zap)
        return FM_ENET;
    (void)zmq_setsockopt(s->zap, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(s->zap, ZAP_ENDPOINT) != 0) {
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot bind %s: %s", ZAP_ENDPOINT, zmq_strerror(errno));
        return FM_ENET;
    }
    return FM_OK;
}

static bool frame_is(const uint8_t *p, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(p, s, n) == 0;
}

static void reply(struct fm_sync *s, const uint8_t *reqid, size_t reqid_len, const char *code,
                  const char *text, const char *user)
{
    int f = ZMQ_SNDMORE | ZMQ_DONTWAIT;
    (void)zmq_send(s->zap, "1.0", 3, f);
    (void)zmq_send(s->zap, reqid, reqid_len, f);
    (void)zmq_send(s->zap, code, strlen(code), f);
    (void)zmq_send(s->zap, text, strlen(text), f);
    (void)zmq_send(s->zap, user, strlen(user), f);
    (void)zmq_send(s->zap, "", 0, ZMQ_DONTWAIT);
}

/* One ZAP request's frames as received; oversize when a frame was too
 * long or there were too many (those are dropped). */
struct zap_req {
    uint8_t frames[ZAP_FRAMES_MAX][ZAP_FRAME_MAX];
    size_t lens[ZAP_FRAMES_MAX];
    int nf;
    bool oversize;
};

/* Reads every frame of one request; false when the socket failed. */
static bool zap_recv(struct fm_sync *s, struct zap_req *r)
{
    int more = 1;
    size_t sz = sizeof(more);
    r->nf = 0;
    r->oversize = false;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s->zap, 0) < 0) {
            zmq_msg_close(&m);
            return false;
        }
        if (r->nf < ZAP_FRAMES_MAX && zmq_msg_size(&m) <= ZAP_FRAME_MAX) {
            r->lens[r->nf] = zmq_msg_size(&m);
            memcpy(r->frames[r->nf], zmq_msg_data(&m), r->lens[r->nf]);
            r->nf++;
        } else {
            r->oversize = true;
        }
        zmq_msg_close(&m);
        if (zmq_getsockopt(s->zap, ZMQ_RCVMORE, &more, &sz) != 0)
            more = 0;
    }
    return true;
}

/* The peer's address (frame 3) as printable text for the log. */
static void zap_addr(const struct zap_req *r, char *addr, size_t cap)
{
    fm_strlcpy(addr, "?", cap);
    if (r->nf < 4)
        return;
    size_t al = r->lens[3] < cap - 1 ? r->lens[3] : cap - 1;
    for (size_t i = 0; i < al; i++)
        addr[i] = (r->frames[3][i] >= 0x20 && r->frames[3][i] < 0x7f) ? (char)r->frames[3][i]
                                                                         : '?';
    addr[al] = '\0';
}

/* Logs a key refused by sync_admit_curve (why): by its Curve key when we
 * know nobody with it, else by its key text and name. */
static void zap_log_refusal(const uint8_t curve[FM_CURVE_LEN], const uint8_t pk[FM_PK_LEN],
                            const char *name, int why, const char *addr, uint64_t knocks)
{
    if (why == FM_ENOTFOUND) {
        /* nobody we know: all there is to show is the Curve key */
        char z85[FM_CURVE_LEN * 5 / 4 + 1];
        if (!zmq_z85_encode(z85, curve, FM_CURVE_LEN))
            fm_strlcpy(z85, "?", sizeof(z85)); /* cannot happen: 32 is a multiple of 4 */
        fm_log_limited(&lim_refuse, 5, FM_LOG_WARN, COMPONENT,
                       "refused a connection from %s: curve key %s (Z85) is not an "
                       "enrolled node (refusal %llu of this key; the next line at %llu)",
                       addr, z85, (unsigned long long)knocks, (unsigned long long)(2 * knocks));
        return;
    }
    /* a node we know: operators know it by its key text */
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(pk, key);
    fm_log_limited(&lim_refuse, 5, FM_LOG_WARN, COMPONENT,
                   "refused a connection from %s: node %s%s%s%s is not admitted: %s "
                   "(refusal %llu of this key; the next line at %llu)",
                   addr, key, name && name[0] ? " (" : "", name ? name : "",
                   name && name[0] ? ")" : "",
                   why == FM_EREVOKED   ? "its key was revoked"
                   : why == FM_EEXPIRED ? "its certificate expired"
                                        : fm_strerror(why),
                   (unsigned long long)knocks, (unsigned long long)(2 * knocks));
}

static void handle_one(struct fm_sync *s)
{
    struct zap_req r;
    char addr[64];
    uint8_t pk[FM_PK_LEN];
    char hex[2 * FM_PK_LEN + 1];

    if (!zap_recv(s, &r))
        return;
    if (r.nf < 2) {
        /* cannot even echo a request id; REP still needs an answer */
        reply(s, (const uint8_t *)"", 0, "500", "malformed request", "");
        return;
    }
    const uint8_t *reqid = r.frames[1];
    size_t reqid_len = r.lens[1];
    zap_addr(&r, addr, sizeof(addr));
    if (r.oversize || r.nf != 7 || !frame_is(r.frames[0], r.lens[0], "1.0") ||
        !frame_is(r.frames[2], r.lens[2], SYNC_ZAP_DOMAIN) ||
        !frame_is(r.frames[5], r.lens[5], "CURVE") || r.lens[6] != FM_CURVE_LEN) {
        s->k.zap_refused++;
        fm_log_limited(&lim_refuse, 5, FM_LOG_WARN, COMPONENT,
                       "refused a connection from %s: not a CurveZMQ request for our domain",
                       addr);
        reply(s, reqid, reqid_len, "400", "refused", "");
        return;
    }
    const char *name = NULL;
    int why = sync_admit_curve(s, r.frames[6], pk, &name);
    uint64_t knocks = 0;
    if (why != FM_OK) {
        s->k.zap_refused++;
        /* one line per doubling of this key's refusals (knock.c) */
        if (sync_knock_log_due(s, why == FM_ENOTFOUND ? r.frames[6] : pk, sync_now(s), &knocks))
            zap_log_refusal(r.frames[6], pk, name, why, addr, knocks);
        reply(s, reqid, reqid_len, "400", "not enrolled", "");
        return;
    }
    /* a key at its connection cap is refused (conns.c: counted, logged);
     * without the listener's monitor nothing would free a slot */
    if (s->router_mon && !sync_conn_admit(s, pk, sync_now(s))) {
        /* 300, "temporary": the dialler's engine tells it from a refused
         * key and tries again (transport.c) */
        reply(s, reqid, reqid_len, SYNC_ZAP_OVER_CAP, "too many connections", "");
        return;
    }
    s->k.zap_admitted++;
    sync_hex(pk, FM_PK_LEN, hex, sizeof(hex));
    fm_log(FM_LOG_DEBUG, COMPONENT, "admitted %.16s... from %s", hex, addr);
    reply(s, reqid, reqid_len, "200", "OK", hex);
}

void sync_zap_handle(struct fm_sync *s)
{
    for (int k = 0; k < 64; k++) {
        int ev = 0;
        size_t sz = sizeof(ev);
        if (zmq_getsockopt(s->zap, ZMQ_EVENTS, &ev, &sz) != 0 || !(ev & ZMQ_POLLIN))
            return;
        handle_one(s);
    }
}
