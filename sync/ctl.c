/*
 * ctl.c — the local control socket between the CLI and the daemon.
 *
 * The daemon binds a ROUTER on an ipc:// path inside its data directory
 * (protected by the directory's permissions; no CurveZMQ on a local
 * socket). The CLI connects a DEALER, sends one message and waits for one
 * answer within a deadline: CTL_NUDGE ("new local ops exist, push them
 * now") is answered with CTL_ACK, CTL_PEERS with CTL_STATUS (uptime,
 * counters and one record per neighbour). Messages use the same framing and
 * strict decoder as the network protocol; network messages arriving here,
 * and control messages arriving on the network, are dropped.
 */
#include "sync_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#define COMPONENT "ctl"
#define CTL_BURST 16

static void ctl_reply(struct fm_sync *s, zmq_msg_t *id, const struct fm_buf *b)
{
    if (zmq_send(s->ctl, zmq_msg_data(id), zmq_msg_size(id), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return;
    (void)zmq_send(s->ctl, b->data, b->len, ZMQ_DONTWAIT);
}

static void ctl_one(struct fm_sync *s, zmq_msg_t *id, const uint8_t *p, size_t n)
{
    struct fm_wire_msg m;
    struct fm_buf out;
    fm_buf_init(&out, FM_WIRE_MAX_MSG);
    if (fm_wire_decode(&m, p, n) != FM_OK) {
        s->k.msgs_dropped++;
        goto done;
    }
    if (m.type == FM_MSG_CTL_NUDGE) {
        fm_log(FM_LOG_DEBUG, COMPONENT, "nudged");
        fm_sync_nudge(s);
        if (fm_wire_encode_simple(&out, FM_MSG_CTL_ACK) == FM_OK)
            ctl_reply(s, id, &out);
    } else if (m.type == FM_MSG_CTL_PEERS) {
        struct fm_sync_status st;
        struct fm_sync_peer_info *pi = NULL;
        size_t np = 0;
        if (fm_sync_peers(s, &st, &pi, &np) == FM_OK &&
            fm_wire_encode_status(&out, &st, pi, (uint32_t)np) == FM_OK)
            ctl_reply(s, id, &out);
        free(pi);
    } else {
        s->k.msgs_dropped++;
    }
done:
    fm_buf_release(&out);
}

void sync_ctl_handle(struct fm_sync *s)
{
    for (int k = 0; k < CTL_BURST; k++) {
        zmq_msg_t id, body;
        int more = 0;
        size_t sz = sizeof(more);
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, s->ctl, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return;
        }
        zmq_msg_init(&body);
        if (zmq_getsockopt(s->ctl, ZMQ_RCVMORE, &more, &sz) == 0 && more &&
            zmq_msg_recv(&body, s->ctl, ZMQ_DONTWAIT) >= 0) {
            if (zmq_getsockopt(s->ctl, ZMQ_RCVMORE, &more, &sz) == 0 && !more)
                ctl_one(s, &id, zmq_msg_data(&body), zmq_msg_size(&body));
        }
        /* drop any further frames */
        while (zmq_getsockopt(s->ctl, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
            zmq_msg_t x;
            zmq_msg_init(&x);
            int r = zmq_msg_recv(&x, s->ctl, ZMQ_DONTWAIT);
            zmq_msg_close(&x);
            if (r < 0)
                break;
        }
        zmq_msg_close(&body);
        zmq_msg_close(&id);
    }
}

/* ------------------------------------------------------------ client */

/* One request, one reply, within timeout_ms. reply->data valid until the
 * caller closes it. */
static int ctl_call(const char *control, int timeout_ms, uint8_t type, zmq_msg_t *reply)
{
    void *ctx = NULL, *sock = NULL;
    struct fm_buf req;
    int rc = FM_ENET, zero = 0, one = 1;
    int64_t maxmsg = FM_WIRE_MAX_MSG;
    struct stat st;

    if (!control || !control[0])
        return FM_ENET;
    /* no socket file: no daemon, and no need to wait for one */
    if (strncmp(control, "ipc://", 6) == 0 && stat(control + 6, &st) != 0)
        return FM_ENET;
    fm_buf_init(&req, 16);
    if (fm_wire_encode_simple(&req, type) != FM_OK)
        goto out;
    ctx = zmq_ctx_new();
    if (!ctx)
        goto out;
    sock = zmq_socket(ctx, ZMQ_DEALER);
    if (!sock)
        goto out;
    (void)zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof(zero));
    (void)zmq_setsockopt(sock, ZMQ_IMMEDIATE, &one, sizeof(one));
    (void)zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
    (void)zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
    (void)zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    if (zmq_connect(sock, control) != 0)
        goto out;
    if (zmq_send(sock, req.data, req.len, 0) < 0)
        goto out;
    if (zmq_msg_recv(reply, sock, 0) < 0)
        goto out;
    rc = FM_OK;
out:
    if (sock)
        zmq_close(sock);
    if (ctx)
        zmq_ctx_term(ctx);
    fm_buf_release(&req);
    return rc;
}

int fm_sync_ctl_nudge(const char *control, int timeout_ms)
{
    zmq_msg_t r;
    struct fm_wire_msg m;
    int rc;
    zmq_msg_init(&r);
    rc = ctl_call(control, timeout_ms, FM_MSG_CTL_NUDGE, &r);
    if (rc == FM_OK && (fm_wire_decode(&m, zmq_msg_data(&r), zmq_msg_size(&r)) != FM_OK ||
                        m.type != FM_MSG_CTL_ACK))
        rc = FM_EDECODE;
    zmq_msg_close(&r);
    return rc;
}

int fm_sync_ctl_peers(const char *control, int timeout_ms, struct fm_sync_status *st,
                      struct fm_sync_peer_info **out, size_t *n)
{
    zmq_msg_t r;
    struct fm_wire_msg m;
    int rc;
    *out = NULL;
    *n = 0;
    zmq_msg_init(&r);
    rc = ctl_call(control, timeout_ms, FM_MSG_CTL_PEERS, &r);
    if (rc != FM_OK)
        goto out;
    rc = FM_EDECODE;
    if (fm_wire_decode(&m, zmq_msg_data(&r), zmq_msg_size(&r)) != FM_OK ||
        m.type != FM_MSG_CTL_STATUS)
        goto out;
    if (st) {
        memset(st, 0, sizeof(*st));
        st->uptime_ms = m.u.status.uptime_ms;
        st->pid = m.u.status.pid;
        st->counters = m.u.status.counters;
        st->tree_known = m.u.status.tree_known;
        st->tree = m.u.status.tree;
    }
    if (m.u.status.count) {
        size_t pos = 0;
        *out = calloc(m.u.status.count, sizeof(**out));
        if (!*out) {
            rc = FM_ENOMEM;
            goto out;
        }
        for (uint32_t i = 0; i < m.u.status.count; i++) {
            if (!fm_wire_status_next(&m.u.status, &pos, &(*out)[i])) {
                free(*out);
                *out = NULL;
                goto out;
            }
            /* an older daemon sends no tree block: its eager flag says the rest */
            struct fm_sync_peer_info *q = &(*out)[i];
            q->push = m.u.status.push ? m.u.status.push[i]
                      : q->eager      ? FM_PUSH_EAGER
                                      : FM_PUSH_LAZY;
            q->eager = q->push != FM_PUSH_LAZY;
        }
        *n = m.u.status.count;
    }
    rc = FM_OK;
out:
    zmq_msg_close(&r);
    return rc;
}
