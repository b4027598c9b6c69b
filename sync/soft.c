/*
 * soft.c — gossip of soft state, and dropping neighbours whose key went bad.
 *
 * Soft state (vehicle positions, node presence) is current-only: each
 * record is signed by its author but not chained, and the store keeps only
 * the newest record per unit (or per node). The store numbers records by
 * a local sequence that grows whenever a record is replaced, so "what has
 * changed since I last sent to this neighbour" is one range read from the
 * neighbour's cursor (soft_sent). A record replaced twice between two sends
 * goes out once, the newest: that is the thinning. Soft state always goes
 * after log ops: over a rate-limited link a batch leaves at most every
 * SYNC_SOFT_SLOW_INTERVAL_MS, never while the previous one still waits,
 * and it sits in the lowest queue class (rate.c), which only aging lets
 * past a backlog of ops. When a neighbour comes up the
 * cursor restarts at zero, so it gets every current record once. Records
 * received are handed to the store, which verifies and keeps the newer
 * ones; those get fresh local sequences and so flow on to other
 * neighbours (relay), and at most once back to the sender, which drops
 * them as not newer.
 *
 * Bans: ZAP is only asked at the handshake, so a connection made before
 * a revocation or an expiry would live on. Every heartbeat, and at once
 * after ops arrived, each neighbour's key is put to store->admit again;
 * FM_EREVOKED or FM_EEXPIRED bans it (sync_nb_ban in gossip.c).
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#define COMPONENT "sync"

static struct fm_log_limiter lim_soft;

void sync_soft_tick(struct fm_sync *s, uint64_t now)
{
    if (!s->store.soft_read)
        return;
    for (size_t i = 0; i < s->nnb; i++) {
        struct sync_nb *nb = s->nbs[i];
        size_t count = 0;
        uint64_t last;
        if (!nb || nb->banned || !nb->vec_known || !sync_nb_live(s, nb, now) ||
            now < nb->soft_next_ms)
            continue;
        if (nb->q_head[SYNC_CLASS_SOFT])
            continue; /* the last batch still waits behind log ops: no pile-up */
        nb->soft_next_ms =
            now + (nb->rate_bps ? SYNC_SOFT_SLOW_INTERVAL_MS : SYNC_SOFT_INTERVAL_MS);
        last = nb->soft_sent;
        fm_buf_reset(&s->tmp);
        if (s->store.soft_read(s->store.ctx, nb->soft_sent,
                               sync_nb_budget(nb, SYNC_SOFT_MSG_MAX), &s->tmp, &count,
                               &last) != FM_OK ||
            count == 0)
            continue;
        if (count > FM_WIRE_SOFT_MAX)
            continue; /* cannot happen with the byte budget; never send it */
        if (fm_wire_encode_soft(&s->msg, s->tmp.data, s->tmp.len, (uint32_t)count) != FM_OK) {
            fm_log_limited(&lim_soft, 3, FM_LOG_WARN, COMPONENT,
                           "store gave malformed soft records");
            continue;
        }
        if (sync_send(s, nb, &s->msg) == FM_OK) {
            nb->soft_sent = last;
            s->k.soft_sent += count;
        }
    }
}

void sync_on_soft(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_soft *m)
{
    const uint8_t *recs[FM_WIRE_SOFT_MAX];
    size_t lens[FM_WIRE_SOFT_MAX];
    size_t pos = 0, n = 0, stored = 0;
    const uint8_t *r;
    size_t len;
    (void)nb;
    while (n < FM_WIRE_SOFT_MAX && fm_wire_soft_next(m, &pos, &r, &len)) {
        recs[n] = r;
        lens[n++] = len;
    }
    s->k.soft_in += n;
    if (!s->store.soft_ingest || n == 0)
        return;
    if (s->store.soft_ingest(s->store.ctx, recs, lens, n, &stored) != FM_OK) {
        fm_log_limited(&lim_soft, 3, FM_LOG_WARN, COMPONENT, "cannot store soft state");
        return;
    }
    s->k.soft_stored += stored;
}

void sync_ban_check(struct fm_sync *s, uint64_t now)
{
    if (!s->store.admit)
        return;
    if (!s->ban_check_due && now < s->next_ban_check_ms)
        return;
    s->ban_check_due = false;
    s->next_ban_check_ms = now + s->cfg.heartbeat_ms;
    for (size_t i = 0; i < s->nnb; i++) {
        struct sync_nb *nb = s->nbs[i];
        if (!nb || nb->banned)
            continue;
        int rc = s->store.admit(s->store.ctx, nb->pk);
        if (rc == FM_EREVOKED || rc == FM_EEXPIRED)
            sync_nb_ban(s, nb, rc);
    }
}
