/*
 * conns_mon.c — the ROUTER's socket monitor: which connections are open
 * (conns.c counts them per key).
 *
 * libzmq reports ZMQ_EVENT_ACCEPTED and ZMQ_EVENT_DISCONNECTED with the
 * connection's file descriptor as the value; ZMQ_ROUTER_NOTIFY, which
 * would name the routing id, is a draft API that Debian's libzmq 4.3 does
 * not build. A ROUTER cannot close one connection either, so a connection
 * we give up on (one over gossip.max_conns, or one silent since its
 * handshake) is shut down under libzmq with shutdown(2): its I/O thread
 * then reads end-of-file and closes it the ordinary way (and reports
 * DISCONNECTED). We never close(2) a descriptor libzmq owns. The events are
 * read before the ZAP handler and the ROUTER are (fm_sync_run), so a
 * descriptor closed and reused is seen closed first.
 */
#include "sync_int.h"

#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#define COMPONENT "sync"
#define MON_BURST 4096 /* events taken per call */

void sync_conns_mon_close(struct fm_sync *s)
{
    /* stop the monitor before closing its reader: libzmq's I/O thread
     * would otherwise block sending the close events of the listener's
     * connections to a reader that is gone */
    if (s->router_mon && s->router)
        (void)zmq_socket_monitor(s->router, NULL, 0);
    if (s->router_mon) {
        zmq_close(s->router_mon);
        s->router_mon = NULL;
    }
    sync_conns_reset(s);
}

void sync_conns_mon_open(struct fm_sync *s)
{
    static unsigned seq; /* inproc endpoints are not reused */
    char ep[96];
    sync_conns_mon_close(s);
    if (!s->router)
        return;
    snprintf(ep, sizeof(ep), "inproc://fm-router-mon-%p-%u", (void *)s, ++seq);
    if (zmq_socket_monitor(s->router, ep, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
        fm_log(FM_LOG_WARN, COMPONENT, "no socket monitor on the listener: connections per "
               "key are not capped");
        return;
    }
    s->router_mon = zmq_socket(s->zctx, ZMQ_PAIR);
    /* no high-water mark: a lost close event would keep a slot taken */
    int hwm = 0;
    if (s->router_mon)
        (void)zmq_setsockopt(s->router_mon, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    if (s->router_mon && zmq_connect(s->router_mon, ep) != 0) {
        zmq_close(s->router_mon);
        s->router_mon = NULL;
    }
}

/* One event: u16 event | u32 value (host order), then the endpoint frame.
 * 0 and the event, or -1 when none waits. */
static int mon_read(void *mon, uint16_t *event, uint32_t *value)
{
    uint8_t ev[6];
    char addr[256];
    int n = zmq_recv(mon, ev, sizeof(ev), ZMQ_DONTWAIT);
    if (n < 0)
        return -1;
    int more = 0;
    size_t ml = sizeof(more);
    if (zmq_getsockopt(mon, ZMQ_RCVMORE, &more, &ml) == 0 && more)
        (void)zmq_recv(mon, addr, sizeof(addr), 0); /* sent together with the first */
    if (n != (int)sizeof(ev)) {
        *event = 0;
        return 0;
    }
    memcpy(event, ev, sizeof(*event));
    memcpy(value, ev + 2, sizeof(*value));
    return 0;
}

/* fd's peer address into out (at most cap bytes); its length, 0 if fd is
 * not a connected socket. */
static size_t peer_of(int fd, uint8_t *out, size_t cap)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
        return 0;
    if (len > cap)
        len = (socklen_t)cap; /* IPv4 and IPv6 fit; a longer one compares by its start */
    memcpy(out, &sa, len);
    return len;
}

/* The safety net under the events: a record whose descriptor no longer
 * holds the connection accepted on it (closed, or reused for another peer)
 * at two audits in a row, SYNC_CONN_AUDIT_MS apart, is a close we did not
 * see, so its slot is freed. A connection that is closing (its socket
 * already unconnected, its close event on the way) gets that long to
 * report itself, and one we shut down is left to its close event: the
 * overall cap must count it until libzmq has let it go. */
static void conns_audit(struct fm_sync *s, uint64_t now)
{
    if (now < s->conns_audit_ms)
        return;
    s->conns_audit_ms = now + SYNC_CONN_AUDIT_MS;
    for (size_t i = 0; s->conns && i < s->cfg.max_conns; i++) {
        struct sync_conn *c = &s->conns[i];
        uint8_t peer[sizeof(c->peer)];
        if (c->fd < 0 || c->peer_len == 0 || c->shut)
            continue;
        if (peer_of(c->fd, peer, sizeof(peer)) == c->peer_len &&
            memcmp(peer, c->peer, c->peer_len) == 0) {
            c->suspect = false;
        } else if (!c->suspect) {
            c->suspect = true; /* closing, maybe: look again next time */
        } else {
            fm_log(FM_LOG_DEBUG, COMPONENT, "connection %d went without a close event",
                   c->fd);
            sync_conn_closed(s, c->fd);
        }
    }
}

void sync_conns_mon_drain(struct fm_sync *s)
{
    uint64_t now = sync_now(s);
    uint16_t event = 0;
    uint32_t value = 0;
    if (!s->router_mon)
        return;
    for (int i = 0;; i++) {
        if (i == MON_BURST)
            return; /* more to read: expire nothing before we have seen every close */
        if (mon_read(s->router_mon, &event, &value) < 0)
            break;
        if (event == ZMQ_EVENT_ACCEPTED && !sync_conn_opened(s, (int)value, now)) {
            (void)shutdown((int)value, SHUT_RDWR);
        } else if (event == ZMQ_EVENT_ACCEPTED) {
            struct sync_conn *c = sync_conn_get(s, (int)value);
            if (c)
                c->peer_len = (uint8_t)peer_of(c->fd, c->peer, sizeof(c->peer));
        } else if (event == ZMQ_EVENT_DISCONNECTED)
            sync_conn_closed(s, (int)value);
    }
    conns_audit(s, now);
    int fds[64];
    size_t n = sync_conn_expire(s, now, fds, sizeof(fds) / sizeof(fds[0]));
    for (size_t i = 0; i < n; i++)
        (void)shutdown(fds[i], SHUT_RDWR);
}
