/*
 * transport.c — the engine's ZeroMQ side: sockets, the poll loop, sending.
 *
 * One ROUTER bound to `listen` is the CurveZMQ server: every connection is
 * authenticated by the ZAP handler (zap.c), which stamps the peer's node
 * key (hex) as the ZAP User-Id, so each message on the ROUTER says who sent
 * it. One DEALER per configured peer is a CurveZMQ client that insists on
 * the peer's Curve key. A neighbour may thus be reachable on two channels
 * (our DEALER, and its DEALER into our ROUTER); sync_send picks the one last
 * heard working, so one neighbour's messages do not race each other over
 * two paths. Every socket has a message-size cap, high-water marks, a short
 * linger and ZMTP heartbeats; sends never block (a full queue drops the
 * message, which anti-entropy repairs).
 */
#include "sync_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define COMPONENT "sync"

static struct fm_log_limiter lim_recv;

static void set_int(void *sock, int opt, int v) { (void)zmq_setsockopt(sock, opt, &v, sizeof(v)); }

/* Options every network socket gets. */
static void socket_common(struct fm_sync *s, void *sock)
{
    int64_t maxmsg = FM_WIRE_ZMQ_MAXMSG;
    (void)zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    set_int(sock, ZMQ_LINGER, SYNC_LINGER_MS);
    set_int(sock, ZMQ_SNDHWM, SYNC_HWM);
    set_int(sock, ZMQ_RCVHWM, SYNC_HWM);
    set_int(sock, ZMQ_HEARTBEAT_IVL, (int)s->cfg.heartbeat_ms);
    set_int(sock, ZMQ_HEARTBEAT_TIMEOUT, (int)(3 * s->cfg.heartbeat_ms));
    set_int(sock, ZMQ_HEARTBEAT_TTL, (int)(3 * s->cfg.heartbeat_ms));
}

/* The listening ROUTER: CurveZMQ server, ZAP domain, bound to ep. Needs
 * s->curve_sk (kept for a later rebind in s->router_sk). */
static int router_open(struct fm_sync *s, const char *ep)
{
    size_t len = sizeof(s->endpoint);
    s->router = zmq_socket(s->zctx, ZMQ_ROUTER);
    if (!s->router)
        return FM_ENET;
    socket_common(s, s->router);
    set_int(s->router, ZMQ_CURVE_SERVER, 1);
    (void)zmq_setsockopt(s->router, ZMQ_CURVE_SECRETKEY, s->curve_sk, FM_CURVE_LEN);
    (void)zmq_setsockopt(s->router, ZMQ_ZAP_DOMAIN, SYNC_ZAP_DOMAIN, strlen(SYNC_ZAP_DOMAIN));
    set_int(s->router, ZMQ_ROUTER_MANDATORY, 1);
    set_int(s->router, ZMQ_ROUTER_HANDOVER, 1);
    if (zmq_bind(s->router, ep) != 0) {
        int e = errno;
        zmq_close(s->router);
        s->router = NULL;
        errno = e;
        return FM_ENET;
    }
    if (zmq_getsockopt(s->router, ZMQ_LAST_ENDPOINT, s->endpoint, &len) != 0)
        s->endpoint[0] = '\0';
    return FM_OK;
}

/* router_open, waiting while the port is in use: a daemon restarted while
 * the old one's sockets close, or a listener of another program that is
 * going away. EADDRINUSE is retried every SYNC_BIND_RETRY_STEP_MS for at
 * most SYNC_BIND_RETRY_MS (logged once); any other error at once. */
static int router_open_wait(struct fm_sync *s, const char *ep)
{
    uint64_t end = fm_mono_ms() + SYNC_BIND_RETRY_MS;
    bool logged = false;
    for (;;) {
        int rc = router_open(s, ep);
        if (rc == FM_OK || errno != EADDRINUSE || fm_mono_ms() >= end)
            return rc;
        if (!logged)
            fm_log(FM_LOG_WARN, COMPONENT, "%s is in use: trying again for up to %u s", ep,
                   SYNC_BIND_RETRY_MS / 1000);
        logged = true;
        struct timespec ts = {0, SYNC_BIND_RETRY_STEP_MS * 1000000L};
        nanosleep(&ts, NULL);
        errno = EADDRINUSE;
    }
}

/* A ROUTER cannot close one peer's connection, so dropping a banned key's
 * inbound connection means closing the listener and binding it again:
 * every inbound connection drops, the others reconnect at once (100 ms)
 * and pass ZAP again; the banned key does not. Tried again every tick
 * until the port is free. */
void sync_router_rebind(struct fm_sync *s)
{
    if (!s->rebind_due || !s->endpoint[0])
        return;
    if (s->router) {
        sync_conns_mon_close(s);
        zmq_close(s->router);
        s->router = NULL;
        for (size_t i = 0; i < s->nnb; i++)
            if (s->nbs[i])
                s->nbs[i]->route_len = 0;
    }
    if (fm_curve_from_identity(s->cfg.id, s->curve_pk, s->curve_sk) != FM_OK)
        return;
    char ep[256];
    fm_strlcpy(ep, s->endpoint, sizeof(ep));
    int rc = router_open(s, ep);
    explicit_bzero(s->curve_sk, sizeof(s->curve_sk));
    if (rc == FM_OK) {
        sync_conns_mon_open(s);
        s->rebind_due = false;
        fm_log(FM_LOG_INFO, COMPONENT, "listener re-bound on %s: inbound connections renewed",
               s->endpoint);
    } else {
        fm_strlcpy(s->endpoint, ep, sizeof(s->endpoint));
    }
}

int fm_sync_new(struct fm_sync **out, const struct fm_sync_config *cfg,
                const struct fm_sync_store *store)
{
    struct fm_sync *s;
    int rc;
    *out = NULL;
    if (!cfg || !cfg->id || !cfg->id->sk)
        return FM_EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return FM_ENOMEM;
    if ((rc = sync_engine_init(s, cfg, store, &sync_io_system)) != FM_OK) {
        free(s);
        return rc;
    }
    rc = FM_ENOMEM;
    s->pollitems = calloc(3 + FM_SYNC_MAX_PEERS, sizeof(zmq_pollitem_t));
    if (!s->pollitems)
        goto fail;
    if ((rc = fm_curve_from_identity(cfg->id, s->curve_pk, s->curve_sk)) != FM_OK)
        goto fail;
    rc = FM_ENET;
    s->zctx = zmq_ctx_new();
    if (!s->zctx)
        goto fail;
    if (sync_zap_bind(s) != FM_OK)
        goto fail;
    if (cfg->listen && cfg->listen[0]) {
        if (router_open_wait(s, cfg->listen) != FM_OK) {
            fm_log(FM_LOG_ERROR, COMPONENT, "cannot listen on %s: %s", cfg->listen,
                   zmq_strerror(errno));
            goto fail;
        }
        fm_log(FM_LOG_INFO, COMPONENT, "listening on %s", s->endpoint);
        sync_conns_mon_open(s); /* connections per key (conns.c) */
    }
    if (cfg->control && cfg->control[0]) {
        s->ctl = zmq_socket(s->zctx, ZMQ_ROUTER);
        if (!s->ctl)
            goto fail;
        int64_t maxmsg = 4096;
        (void)zmq_setsockopt(s->ctl, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
        set_int(s->ctl, ZMQ_LINGER, 0);
        set_int(s->ctl, ZMQ_SNDHWM, 16);
        if (zmq_bind(s->ctl, cfg->control) != 0) {
            fm_log(FM_LOG_ERROR, COMPONENT, "cannot bind control socket %s: %s", cfg->control,
                   zmq_strerror(errno));
            goto fail;
        }
    }
    /* the ROUTER has its copy; DEALERs re-derive it from cfg->id */
    explicit_bzero(s->curve_sk, sizeof(s->curve_sk));
    *out = s;
    return FM_OK;
fail:
    fm_sync_destroy(&s);
    return rc;
}

/* The DEALER's monitor: closed with the DEALER. */
static void dealer_monitor_close(struct sync_nb *nb)
{
    if (nb->mon && nb->dealer) /* stop it first: see sync_conns_mon_close */
        (void)zmq_socket_monitor(nb->dealer, NULL, 0);
    if (nb->mon) {
        zmq_close(nb->mon);
        nb->mon = NULL;
    }
}

void sync_dealer_close(struct fm_sync *s, struct sync_nb *nb)
{
    (void)s;
    sync_queue_clear(nb);
    dealer_monitor_close(nb);
    if (nb->dealer) {
        zmq_close(nb->dealer);
        nb->dealer = NULL;
    }
}

void fm_sync_destroy(struct fm_sync **sp)
{
    struct fm_sync *s = sp ? *sp : NULL;
    if (!s)
        return;
    for (size_t i = 0; i < s->nnb; i++)
        sync_nb_free(s, s->nbs[i]);
    s->nnb = 0;
    sync_conns_mon_close(s);
    if (s->router)
        zmq_close(s->router);
    if (s->ctl)
        zmq_close(s->ctl);
    if (s->zap)
        zmq_close(s->zap);
    if (s->zctx)
        zmq_ctx_term(s->zctx);
    sync_engine_release(s);
    free(s->pollitems);
    explicit_bzero(s->curve_sk, sizeof(s->curve_sk));
    free(s);
    *sp = NULL;
}

const char *fm_sync_endpoint(const struct fm_sync *s) { return s->endpoint; }

/* A peer that refuses our key at the handshake (ZAP) says nothing to the
 * gossip: the DEALER just keeps retrying. A socket monitor on the DEALER
 * reports ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, so this side learns that it is
 * not admitted there (revoked, or not enrolled) and can say so. Best
 * effort: without a monitor, nothing else changes. */
static void dealer_monitor_open(struct fm_sync *s, struct sync_nb *nb)
{
    static unsigned seq; /* inproc endpoints are not reused */
    char ep[96];
    dealer_monitor_close(nb);
    snprintf(ep, sizeof(ep), "inproc://fm-dealer-mon-%d-%u", nb->slot, ++seq);
    if (zmq_socket_monitor(nb->dealer, ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0)
        return;
    nb->mon = zmq_socket(s->zctx, ZMQ_PAIR);
    if (nb->mon && zmq_connect(nb->mon, ep) != 0)
        dealer_monitor_close(nb);
}

/* Takes the monitor events waiting for nb (never blocks). A refusal
 * with ZAP status 300 means our key holds too many connections there
 * (conns.c: a stale one of ours not closed yet, or a clone), not that it
 * is not admitted. libzmq 4.3.4 redials by itself after a 300 and reports
 * no failure for it (after a 400 it never redials); should a libzmq report
 * one, we re-dial SYNC_CAP_RETRY_MS later rather than wait. */
static void dealer_monitor_drain(struct fm_sync *s, struct sync_nb *nb)
{
    static struct fm_log_limiter lim;
    for (int i = 0; nb->mon && i < 16; i++) {
        uint8_t ev[6];
        char addr[64];
        int n = zmq_recv(nb->mon, ev, sizeof(ev), ZMQ_DONTWAIT);
        if (n < 0)
            return;
        int more = 0;
        size_t ml = sizeof(more);
        if (zmq_getsockopt(nb->mon, ZMQ_RCVMORE, &more, &ml) == 0 && more)
            (void)zmq_recv(nb->mon, addr, sizeof(addr), ZMQ_DONTWAIT); /* the endpoint */
        if (n != (int)sizeof(ev))
            continue;
        uint16_t event; /* u16 event | u32 value, in host order (libzmq's own) */
        uint32_t value;
        memcpy(&event, ev, sizeof(event));
        memcpy(&value, ev + 2, sizeof(value));
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH &&
            value == (uint32_t)atoi(SYNC_ZAP_OVER_CAP)) {
            if (nb->cap_retry_ms == 0)
                fm_log_limited(&lim, 10, FM_LOG_WARN, COMPONENT,
                               "peer %s at %s refused a connection: this node's key holds too "
                               "many there already (a stale one, or a clone?); dialling again "
                               "in %u s", nb->name, nb->endpoint, SYNC_CAP_RETRY_MS / 1000);
            nb->cap_retry_ms = sync_now(s) + SYNC_CAP_RETRY_MS;
        } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && !nb->refused_auth) {
            nb->refused_auth = true;
            /* ZAP tells the dialler nothing but the refusal (its status
             * 300 is taken by the connection cap, and libzmq retries it
             * silently): what this node knows of its own key narrows it */
            int own = s->store.admit ? s->store.admit(s->store.ctx, s->pk) : FM_OK;
            if (own == FM_EEXPIRED)
                fm_log_limited(&lim, 10, FM_LOG_WARN, COMPONENT,
                               "refused by peer %s at %s: not admitted: this node's "
                               "certificate has expired (enrol the same key again with org "
                               "enroll, install it here with trust renew, and announce it "
                               "with trust publish on a centre or county node)", nb->name,
                               nb->endpoint);
            else if (own == FM_EREVOKED)
                fm_log_limited(&lim, 10, FM_LOG_WARN, COMPONENT,
                               "refused by peer %s at %s: not admitted: this node's key is "
                               "revoked (its revocation is in this node's store)", nb->name,
                               nb->endpoint);
            else
                fm_log_limited(&lim, 10, FM_LOG_WARN, COMPONENT,
                               "refused by peer %s at %s: not admitted, although this node "
                               "holds no revocation of its key and its certificate is in "
                               "force: %s does not know this node's certificate yet (a node "
                               "enrolled after its peers is admitted once it is announced: "
                               "trust publish on a centre or county node), or the key was "
                               "revoked where this node has not heard of it", nb->name,
                               nb->endpoint, nb->name);
        } else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            nb->cap_retry_ms = 0;
            nb->hello_due = true; /* clone.c: the peer learns this connection */
            if (nb->refused_auth)
                fm_log(FM_LOG_INFO, COMPONENT, "peer %s admits this node again", nb->name);
            nb->refused_auth = false;
        }
    }
}

/* nb's DEALER: CurveZMQ client to nb->endpoint, insisting on nb's key. */
static int dealer_open(struct fm_sync *s, struct sync_nb *nb)
{
    uint8_t cpk[FM_CURVE_LEN], csk[FM_CURVE_LEN];
    nb->dealer = zmq_socket(s->zctx, ZMQ_DEALER);
    if (!nb->dealer)
        return FM_ENET;
    nb->dealer_opened_ms = sync_now(s);
    socket_common(s, nb->dealer);
    set_int(nb->dealer, ZMQ_IMMEDIATE, 1);
    set_int(nb->dealer, ZMQ_RECONNECT_IVL, 100);
    set_int(nb->dealer, ZMQ_RECONNECT_IVL_MAX, 2000);
    (void)zmq_setsockopt(nb->dealer, ZMQ_CURVE_SERVERKEY, nb->curve, FM_CURVE_LEN);
    if (fm_curve_from_identity(s->cfg.id, cpk, csk) != FM_OK) {
        sync_dealer_close(s, nb);
        return FM_EINVAL;
    }
    (void)zmq_setsockopt(nb->dealer, ZMQ_CURVE_PUBLICKEY, cpk, FM_CURVE_LEN);
    (void)zmq_setsockopt(nb->dealer, ZMQ_CURVE_SECRETKEY, csk, FM_CURVE_LEN);
    explicit_bzero(csk, sizeof(csk));
    dealer_monitor_open(s, nb);
    if (zmq_connect(nb->dealer, nb->endpoint) != 0) {
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot dial %s at %s: %s", nb->name, nb->endpoint,
               zmq_strerror(errno));
        sync_dealer_close(s, nb);
        return FM_ENET;
    }
    return FM_OK;
}

int fm_sync_add_peer(struct fm_sync *s, const char *endpoint, const uint8_t pk[FM_PK_LEN],
                     const char *name)
{
    struct sync_nb *nb = sync_nb_find(s, pk);
    char tag[FM_KEY_TEXT_LEN];
    if (nb && nb->configured)
        return FM_EEXISTS;
    if (memcmp(pk, s->pk, FM_PK_LEN) == 0)
        return FM_EINVAL;
    if (!nb)
        nb = sync_nb_new(s, pk);
    if (!nb)
        return FM_ETOOBIG;
    nb->configured = true;
    fm_key_encode(pk, tag);
    if (name && name[0])
        fm_strlcpy(nb->name, name, sizeof(nb->name));
    else
        fm_strlcpy(nb->name, tag, FM_KEY_TAG_LEN + 1);
    if (!endpoint || !endpoint[0])
        return FM_OK;
    fm_strlcpy(nb->endpoint, endpoint, sizeof(nb->endpoint));
    int rc = dealer_open(s, nb);
    if (rc == FM_OK)
        fm_log(FM_LOG_INFO, COMPONENT, "dialling %s at %s", nb->name, endpoint);
    return rc;
}

/* A link can look alive to ZeroMQ and carry nothing we can parse: a
 * CurveZMQ stream that lost bytes mid-frame waits for the rest of a frame
 * that never comes, while heartbeats (which count as traffic) keep it
 * open. So a configured peer silent for the live window gets a fresh
 * DEALER: a new TCP connection and handshake. */
void sync_dealer_reopen(struct fm_sync *s, struct sync_nb *nb)
{
    if (!nb->endpoint[0] || nb->banned)
        return;
    dealer_monitor_close(nb);
    if (nb->dealer) {
        zmq_close(nb->dealer);
        nb->dealer = NULL;
    }
    nb->heard_dealer_ms = 0;
    if (dealer_open(s, nb) == FM_OK)
        fm_log(FM_LOG_DEBUG, COMPONENT, "re-dialling silent peer %s", nb->name);
}

/* ------------------------------------------------------------ sending */

static int send_frames(void *sock, const void *route, size_t route_len, const void *p,
                       size_t n)
{
    if (route && zmq_send(sock, route, route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return FM_ENET;
    if (zmq_send(sock, p, n, ZMQ_DONTWAIT) < 0)
        return FM_ENET;
    return FM_OK;
}

int sync_send_now(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n)
{
    uint64_t now = sync_now(s), w = 2 * (uint64_t)s->cfg.anti_entropy_ms + 1000;
    bool router_ok = s->router && nb->route_len && now - nb->heard_router_ms <= w;
    bool dealer_ok = nb->dealer && nb->heard_dealer_ms && now - nb->heard_dealer_ms <= w;
    int rc = FM_ENET;
    if (s->io.send)
        rc = s->io.send(s->io.ctx, nb->pk, p, n); /* another transport (tests/sim) */
    else if (nb->dealer && (dealer_ok || !router_ok))
        rc = send_frames(nb->dealer, NULL, 0, p, n);
    if (rc != FM_OK && router_ok && !s->io.send)
        rc = send_frames(s->router, nb->route, nb->route_len, p, n);
    if (rc == FM_OK) {
        struct fm_sync_msg_count *c = &nb->msgs[n >= 2 ? fm_wire_kind(p[1]) : FM_SYNC_MSG_OTHER];
        s->k.msgs_out++;
        s->k.bytes_out += n;
        c->msgs_out++;
        c->bytes_out += n;
        if (n >= 3 && p[1] == FM_MSG_SUMMARY && (p[2] & FM_SUMMARY_REPLY))
            nb->checks_out++;
    } else {
        s->k.sends_dropped++;
    }
    return rc;
}

int fm_sync_send_raw(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], const void *p, size_t len)
{
    struct sync_nb *nb = sync_nb_find(s, pk);
    struct fm_buf b = {.data = (uint8_t *)(uintptr_t)p, .len = len, .cap = len, .max = len};
    if (!nb)
        return FM_ENOTFOUND;
    return sync_send(s, nb, &b);
}

/* ------------------------------------------------------------ receiving */

/* Takes the rest of a multipart message we do not want. */
static void drain(void *sock)
{
    int more = 1;
    size_t sz = sizeof(more);
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        zmq_msg_close(&m);
    }
}

/* A neighbour that dialled us, by the node key the ZAP handler vouched for. */
static struct sync_nb *router_sender(struct fm_sync *s, zmq_msg_t *body)
{
    const char *uid = zmq_msg_gets(body, "User-Id");
    uint8_t pk[FM_PK_LEN];
    struct sync_nb *nb;
    if (!uid || sync_unhex(uid, pk, FM_PK_LEN) != FM_OK)
        return NULL;
    nb = sync_nb_find(s, pk);
    if (nb)
        return nb;
    /* make room: forget the longest-silent neighbour that was not configured */
    if (s->nnb == FM_SYNC_MAX_PEERS) {
        struct sync_nb *old = NULL;
        bool full = true;
        for (size_t i = 0; i < s->nnb; i++) {
            if (!s->nbs[i]) {
                full = false;
                break;
            }
            if (!s->nbs[i]->configured && (!old || s->nbs[i]->heard_ms < old->heard_ms))
                old = s->nbs[i];
        }
        if (full && !old)
            return NULL;
        if (full)
            sync_nb_free(s, old);
    }
    nb = sync_nb_new(s, pk);
    if (!nb)
        return NULL;
    fm_key_encode(pk, nb->name);
    nb->name[FM_KEY_TAG_LEN] = '\0';
    fm_log(FM_LOG_INFO, COMPONENT, "peer %s connected to us", nb->name);
    return nb;
}

static void recv_router(struct fm_sync *s)
{
    for (int k = 0; k < SYNC_RECV_BURST; k++) {
        zmq_msg_t id, body;
        int more = 0;
        size_t sz = sizeof(more);
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, s->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return;
        }
        if (zmq_getsockopt(s->router, ZMQ_RCVMORE, &more, &sz) != 0 || !more ||
            zmq_msg_size(&id) > SYNC_ROUTE_MAX) {
            drain(s->router);
            zmq_msg_close(&id);
            s->k.msgs_dropped++;
            continue;
        }
        zmq_msg_init(&body);
        if (zmq_msg_recv(&body, s->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&body);
            zmq_msg_close(&id);
            continue;
        }
        if (zmq_getsockopt(s->router, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
            drain(s->router);
            s->k.msgs_dropped++;
            fm_log_limited(&lim_recv, 5, FM_LOG_WARN, COMPONENT,
                           "dropped a multi-frame message on the listener");
        } else {
            struct sync_nb *nb = router_sender(s, &body);
            if (!nb) {
                s->k.msgs_dropped++;
                fm_log_limited(&lim_recv, 5, FM_LOG_WARN, COMPONENT,
                               "dropped a message from an unknown sender");
            } else {
                /* ties the connection to its key (conns.c) */
                int fd = zmq_msg_get(&body, ZMQ_SRCFD);
                if (!sync_conn_spoke(s, fd, nb->pk, sync_now(s)) && s->router_mon) {
                    sync_conns_mon_drain(s); /* its accept event was still on the way */
                    (void)sync_conn_spoke(s, fd, nb->pk, sync_now(s));
                }
                sync_clone_seen(s, nb, zmq_msg_data(&id), zmq_msg_size(&id),
                                zmq_msg_gets(&body, "Peer-Address"));
                nb->route_len = zmq_msg_size(&id);
                memcpy(nb->route, zmq_msg_data(&id), nb->route_len);
                nb->heard_router_ms = sync_now(s);
                sync_on_message(s, nb, zmq_msg_data(&body), zmq_msg_size(&body));
            }
        }
        zmq_msg_close(&body);
        zmq_msg_close(&id);
    }
}

static void recv_dealer(struct fm_sync *s, struct sync_nb *nb)
{
    for (int k = 0; k < SYNC_RECV_BURST && nb->dealer; k++) {
        zmq_msg_t body;
        int more = 0;
        size_t sz = sizeof(more);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&body, nb->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&body);
            return;
        }
        if (zmq_getsockopt(nb->dealer, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
            drain(nb->dealer);
            nb->bad++;
            s->k.msgs_dropped++;
        } else {
            nb->heard_dealer_ms = sync_now(s);
            sync_on_message(s, nb, zmq_msg_data(&body), zmq_msg_size(&body));
        }
        zmq_msg_close(&body);
    }
}

int fm_sync_run(struct fm_sync *s, int timeout_ms)
{
    zmq_pollitem_t *items = s->pollitems;
    struct sync_nb *polled[FM_SYNC_MAX_PEERS];
    int n = 0, nd = 0, rc;
    long wait;

    if (s->zap)
        items[n++] = (zmq_pollitem_t){.socket = s->zap, .events = ZMQ_POLLIN};
    if (s->router)
        items[n++] = (zmq_pollitem_t){.socket = s->router, .events = ZMQ_POLLIN};
    if (s->ctl)
        items[n++] = (zmq_pollitem_t){.socket = s->ctl, .events = ZMQ_POLLIN};
    int base = n;
    for (size_t i = 0; i < s->nnb; i++) {
        if (s->nbs[i] && s->nbs[i]->dealer) {
            polled[nd++] = s->nbs[i];
            items[n++] = (zmq_pollitem_t){.socket = s->nbs[i]->dealer, .events = ZMQ_POLLIN};
        }
    }
    wait = sync_engine_wait(s, timeout_ms);
    rc = zmq_poll(items, n, wait);
    if (rc < 0)
        return errno == EINTR || errno == ETERM ? FM_OK : FM_ENET;
    n = 0;
    sync_conns_mon_drain(s); /* closes first: a freed slot is free for ZAP */
    if (s->zap && (items[n++].revents & ZMQ_POLLIN))
        sync_zap_handle(s);
    if (s->router && (items[n++].revents & ZMQ_POLLIN))
        recv_router(s);
    if (s->ctl && (items[n++].revents & ZMQ_POLLIN))
        sync_ctl_handle(s);
    for (int d = 0; d < nd; d++) {
        if (items[base + d].revents & ZMQ_POLLIN)
            recv_dealer(s, polled[d]);
        dealer_monitor_drain(s, polled[d]);
        if (polled[d]->cap_retry_ms && sync_now(s) >= polled[d]->cap_retry_ms) {
            polled[d]->cap_retry_ms = 0;
            sync_dealer_reopen(s, polled[d]);
        }
    }
    return sync_engine_service(s);
}

void fm_sync_nudge(struct fm_sync *s) { s->refresh_due = true; }

void fm_sync_get_counters(const struct fm_sync *s, struct fm_sync_counters *out)
{
    *out = s->k;
}

int fm_sync_peers(struct fm_sync *s, struct fm_sync_status *st, struct fm_sync_peer_info **out,
                  size_t *n)
{
    size_t count = 0, k = 0;
    *out = NULL;
    *n = 0;
    if (st) {
        memset(st, 0, sizeof(*st));
        st->uptime_ms = sync_now(s) - s->start_mono_ms;
        st->pid = (uint64_t)getpid();
        st->counters = s->k;
        st->tree_known = true;
        fm_sync_tree(s, &st->tree);
    }
    for (size_t i = 0; i < s->nnb; i++)
        count += s->nbs[i] != NULL;
    if (count == 0)
        return FM_OK;
    *out = calloc(count, sizeof(**out));
    if (!*out)
        return FM_ENOMEM;
    for (size_t i = 0; i < s->nnb; i++)
        if (s->nbs[i]) {
            sync_nb_info(s, s->nbs[i], &(*out)[k]);
            (*out)[k].cloned_key = sync_clone_live(s->nbs[i], sync_now(s));
            sync_conn_of(s, s->nbs[i]->pk, &(*out)[k].conns, &(*out)[k].conns_refused);
            (*out)[k++].refused_us = s->nbs[i]->refused_auth;
        }
    *n = k;
    return FM_OK;
}
