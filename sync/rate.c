/*
 * rate.c — a per-neighbour send rate limit with priorities.
 *
 * A field link may carry 64 kbit/s or less. If we hand such a link more
 * than it carries, the excess waits in kernel and modem buffers in the
 * order it was written, and a new ticket queues behind minutes of notes.
 * So under a limit the engine keeps the excess itself: a token bucket per
 * neighbour (refilled at rate_bps / 8 bytes per second, a quarter second
 * of burst) decides when the next message may leave, and messages that
 * cannot leave yet wait in one FIFO per class, always drained highest
 * class first:
 *
 *   0 control   SUMMARY, VECTOR, IHAVE, PULL, PRUNE (small, keep sync alive)
 *   1 critical  OPS holding a dispatch-critical op (tickets, incidents,
 *               bulletins, trust), as the store's priority() says
 *   2 ordinary  OPS of ordinary ops
 *   3 bulk      OPS of bulk ops (notes, logged positions)
 *   4 soft      soft state (positions, presence), which is also thinned
 *
 * A message that has waited SYNC_AGING_MS goes next whatever its class,
 * so a link busy for minutes with a backlog still carries a batch of
 * positions every couple of seconds (thinned to the latest per unit).
 *
 * The queue is capped (SYNC_QUEUE_MAX_BYTES per neighbour); what does not
 * fit is dropped like a full ZeroMQ queue would drop it, and anti-entropy
 * repairs it. Under a limit, replies and pushes also shrink to about half
 * a second of the link (sync_nb_budget), so a critical op never waits
 * behind more than that. Each message is charged SYNC_WIRE_OVERHEAD bytes
 * for ZMTP and CurveZMQ framing. Set the limit a little under the link's
 * real rate, so that queues form here, where priorities apply.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#define OPS_BODY_AT 11 /* ver, type, flags, u32 req_id, u32 count */
#define MILLI 1000

/* A compact batch's class: that of its most urgent op, as below. */
static int compact_class(struct fm_sync *s, const uint8_t *p, size_t n)
{
    uint8_t kinds[FM_WIRE_BATCH_MAX];
    int best = 2;
    if (!s->store.priority)
        return 2;
    size_t k = fm_compact_kinds(p, n, kinds, FM_WIRE_BATCH_MAX);
    for (size_t i = 0; i < k && best > 0; i++) {
        int pr = s->store.priority(s->store.ctx, kinds[i]);
        if (pr < best)
            best = pr < 0 ? 0 : pr;
    }
    return 1 + best;
}

int sync_msg_class(struct fm_sync *s, const uint8_t *p, size_t n)
{
    if (n < 2)
        return SYNC_CLASS_CONTROL;
    if (p[1] == FM_MSG_SOFT)
        return SYNC_CLASS_SOFT;
    if ((p[0] == FM_COMPACT_WIRE_VERSION || p[0] == FM_COMPACT4_WIRE_VERSION) &&
        p[1] == FM_MSG_COPS)
        return compact_class(s, p, n);
    if (p[1] != FM_MSG_OPS)
        return SYNC_CLASS_CONTROL;
    if (!s->store.priority)
        return 2;
    int best = 2;
    struct fm_cur c;
    fm_cur_init(&c, p, n);
    const uint8_t *skip;
    if (fm_cur_bytes(&c, OPS_BODY_AT, &skip) != FM_OK)
        return 2;
    while (fm_cur_left(&c) >= 4) {
        uint32_t len;
        const uint8_t *op;
        if (fm_cur_u32(&c, &len) != FM_OK || fm_cur_bytes(&c, len, &op) != FM_OK || len < 2)
            break;
        int pr = s->store.priority(s->store.ctx, op[1]);
        if (pr < best)
            best = pr < 0 ? 0 : pr;
        if (best == 0)
            break;
    }
    return 1 + best;
}

size_t sync_nb_budget(const struct sync_nb *nb, size_t dflt)
{
    if (!nb->rate_bps)
        return dflt;
    size_t b = nb->rate_bps / 16; /* half a second of the link */
    if (b < 1024)
        b = 1024;
    return b < dflt ? b : dflt;
}

static int64_t burst_milli(const struct sync_nb *nb)
{
    int64_t b = (int64_t)nb->rate_bps / 32; /* a quarter second */
    if (b < 512)
        b = 512;
    return b * MILLI;
}

static void refill(struct sync_nb *nb, uint64_t now)
{
    if (nb->tokens_ms == 0) {
        nb->tokens_ms = now;
        nb->tokens = burst_milli(nb);
        return;
    }
    if (now <= nb->tokens_ms)
        return;
    nb->tokens += (int64_t)(now - nb->tokens_ms) * (int64_t)(nb->rate_bps / 8);
    nb->tokens_ms = now;
    if (nb->tokens > burst_milli(nb))
        nb->tokens = burst_milli(nb);
}

static void charge(struct sync_nb *nb, size_t len)
{
    nb->tokens -= (int64_t)(len + SYNC_WIRE_OVERHEAD) * MILLI;
}

void sync_queue_clear(struct sync_nb *nb)
{
    for (int c = 0; c < SYNC_CLASSES; c++) {
        struct sync_qmsg *m = nb->q_head[c];
        while (m) {
            struct sync_qmsg *next = m->next;
            free(m);
            m = next;
        }
        nb->q_head[c] = nb->q_tail[c] = NULL;
    }
    nb->q_bytes = 0;
}

static bool queued_at_or_above(const struct sync_nb *nb, int cls)
{
    for (int c = 0; c <= cls; c++)
        if (nb->q_head[c])
            return true;
    return false;
}

int sync_send(struct fm_sync *s, struct sync_nb *nb, const struct fm_buf *m)
{
    if (nb->banned) {
        s->k.sends_dropped++;
        return FM_ENET;
    }
    if (!nb->rate_bps)
        return sync_send_now(s, nb, m->data, m->len);
    int cls = sync_msg_class(s, m->data, m->len);
    refill(nb, sync_now(s));
    if (nb->tokens > 0 && !queued_at_or_above(nb, cls)) {
        int rc = sync_send_now(s, nb, m->data, m->len);
        if (rc == FM_OK)
            charge(nb, m->len);
        return rc;
    }
    if (nb->q_bytes + m->len > SYNC_QUEUE_MAX_BYTES) {
        s->k.sends_dropped++;
        return FM_ENET;
    }
    struct sync_qmsg *q = malloc(sizeof(*q) + m->len);
    if (!q) {
        s->k.sends_dropped++;
        return FM_ENET;
    }
    q->next = NULL;
    q->queued_ms = sync_now(s);
    q->len = m->len;
    memcpy(q->data, m->data, m->len);
    if (nb->q_tail[cls])
        nb->q_tail[cls]->next = q;
    else
        nb->q_head[cls] = q;
    nb->q_tail[cls] = q;
    nb->q_bytes += m->len;
    return FM_OK;
}

long sync_rate_pump(struct fm_sync *s)
{
    long wait = -1;
    uint64_t now = sync_now(s);
    for (size_t i = 0; i < s->nnb; i++) {
        struct sync_nb *nb = s->nbs[i];
        if (!nb || !nb->rate_bps || nb->q_bytes == 0)
            continue;
        refill(nb, now);
        while (nb->tokens > 0 && nb->q_bytes > 0) {
            int c = 0;
            while (c < SYNC_CLASSES && !nb->q_head[c])
                c++;
            if (c == SYNC_CLASSES)
                break;
            /* aging: the oldest head of a lower class that waited too long goes first */
            for (int k = c + 1; k < SYNC_CLASSES; k++)
                if (nb->q_head[k] && now - nb->q_head[k]->queued_ms >= SYNC_AGING_MS &&
                    nb->q_head[k]->queued_ms < nb->q_head[c]->queued_ms)
                    c = k;
            struct sync_qmsg *q = nb->q_head[c];
            nb->q_head[c] = q->next;
            if (!q->next)
                nb->q_tail[c] = NULL;
            nb->q_bytes -= q->len;
            if (sync_send_now(s, nb, q->data, q->len) == FM_OK)
                charge(nb, q->len);
            free(q);
        }
        if (nb->q_bytes > 0) {
            int64_t per_ms = nb->rate_bps / 8 ? (int64_t)(nb->rate_bps / 8) : 1;
            long ms = (long)((-nb->tokens) / per_ms) + 1;
            if (ms < 1)
                ms = 1;
            if (wait < 0 || ms < wait)
                wait = ms;
        }
    }
    return wait;
}

int fm_sync_set_peer_rate(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], uint32_t bps)
{
    struct sync_nb *nb = sync_nb_find(s, pk);
    if (!nb)
        return FM_ENOTFOUND;
    nb->rate_bps = bps;
    nb->tokens_ms = 0;
    if (!bps) {
        /* unlimited from now on: send what waits */
        for (int c = 0; c < SYNC_CLASSES; c++)
            for (struct sync_qmsg *q = nb->q_head[c]; q; q = q->next)
                if (sync_send_now(s, nb, q->data, q->len) != FM_OK)
                    break; /* dropped, as a full queue would; anti-entropy repairs it */
        sync_queue_clear(nb);
    }
    return FM_OK;
}
