/*
 * budget.c — how many reply bytes one neighbour's key may draw from us.
 *
 * A PULL of a few dozen bytes can draw a reply of up to a megabyte, so a
 * neighbour that floods PULLs (20,000 of them once drew 1.38 GB) makes us
 * read, encrypt and send without end. Each neighbour (one per node key,
 * however many connections it opens) has a token bucket of reply bytes,
 * refilled at cfg.reply_bytes_per_s up to one second's worth (at least one
 * whole reply). A PULL that arrives while the bucket is empty, or while
 * earlier ones wait, is deferred: its bytes are kept (at most
 * SYNC_DEFER_MAX per neighbour, each a PULL of bounded size) and it is
 * answered, in order, when the bucket has refilled. Beyond that it is
 * dropped, as a lost message would be: an honest requester's credit
 * expires and it asks again. Both are counted in pulls_deferred.
 *
 * Bytes alone do not bound the requests: a PULL for ops the neighbour
 * already holds draws an empty reply of a few dozen bytes but still costs
 * a decode, store look-ups and a send. So each key also has a bucket of
 * SYNC_PULLS_PER_S PULLs a second (burst SYNC_PULLS_BURST); a PULL needs
 * one of those too, and waits or is dropped as above. An honest node has
 * at most SYNC_CREDITS PULLs in flight and each brings up to a batch of
 * ops, so it stays far below (a cold sync of 100,000 ops is ~200 PULLs).
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#define COMPONENT "sync"

static struct fm_log_limiter lim_budget;

static int64_t budget_burst(const struct fm_sync *s)
{
    uint64_t b = s->cfg.reply_bytes_per_s;
    return (int64_t)(b > SYNC_REPLY_MAX_BYTES ? b : SYNC_REPLY_MAX_BYTES);
}

static void budget_refill(struct fm_sync *s, struct sync_nb *nb, uint64_t now)
{
    if (nb->reply_tokens_ms == 0) {
        nb->reply_tokens = budget_burst(s);
        nb->pull_tokens = SYNC_PULLS_BURST;
        nb->pull_tokens_ms = now;
    } else if (now > nb->reply_tokens_ms) {
        uint64_t add = (now - nb->reply_tokens_ms) * (uint64_t)s->cfg.reply_bytes_per_s / 1000;
        int64_t t = nb->reply_tokens + (int64_t)(add > INT64_MAX / 2 ? INT64_MAX / 2 : add);
        nb->reply_tokens = t > budget_burst(s) ? budget_burst(s) : t;
    }
    nb->reply_tokens_ms = now;
    uint64_t pulls = now > nb->pull_tokens_ms
                         ? (now - nb->pull_tokens_ms) * SYNC_PULLS_PER_S / 1000 : 0;
    if (pulls > 0) { /* whole PULLs only: the fraction waits for the next refill */
        nb->pull_tokens_ms += pulls * 1000 / SYNC_PULLS_PER_S;
        pulls += nb->pull_tokens;
        nb->pull_tokens = (uint32_t)(pulls > SYNC_PULLS_BURST ? SYNC_PULLS_BURST : pulls);
        if (nb->pull_tokens == SYNC_PULLS_BURST)
            nb->pull_tokens_ms = now;
    }
}

/* Whether nb may have a PULL answered now. */
static bool budget_ok(const struct sync_nb *nb)
{
    return nb->reply_tokens > 0 && nb->pull_tokens > 0;
}

/* Answers now and charges the reply (s->msg, as sync_on_pull left it). */
static void budget_serve(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_pull *p)
{
    fm_buf_reset(&s->msg);
    sync_on_pull(s, nb, p);
    nb->reply_tokens -= (int64_t)s->msg.len;
    nb->pull_tokens--;
}

void sync_budget_on_pull(struct fm_sync *s, struct sync_nb *nb, const uint8_t *raw, size_t n,
                         const struct fm_wire_pull *p)
{
    if (s->cfg.reply_bytes_per_s == 0) {
        sync_on_pull(s, nb, p);
        return;
    }
    budget_refill(s, nb, sync_now(s));
    if (budget_ok(nb) && nb->ndefer == 0) {
        budget_serve(s, nb, p);
        return;
    }
    s->k.pulls_deferred++;
    uint8_t *copy = nb->ndefer < SYNC_DEFER_MAX && n <= SYNC_DEFER_MSG_MAX ? malloc(n) : NULL;
    if (copy == NULL) {
        fm_log_limited(&lim_budget, 2, FM_LOG_WARN, COMPONENT,
                       "peer %s asks for more than its reply budget (%u bytes/s, %u PULLs/s): "
                       "PULL dropped", nb->name, s->cfg.reply_bytes_per_s, SYNC_PULLS_PER_S);
        return;
    }
    memcpy(copy, raw, n);
    nb->defer[nb->ndefer] = copy;
    nb->defer_len[nb->ndefer++] = n;
}

void sync_budget_tick(struct fm_sync *s, uint64_t now)
{
    for (size_t i = 0; i < s->nnb; i++) {
        struct sync_nb *nb = s->nbs[i];
        if (nb == NULL || nb->ndefer == 0)
            continue;
        if (nb->banned) {
            sync_budget_release(nb);
            continue;
        }
        budget_refill(s, nb, now);
        while (nb->ndefer > 0 && budget_ok(nb)) {
            struct fm_wire_msg m;
            uint8_t *raw = nb->defer[0];
            size_t len = nb->defer_len[0];
            nb->ndefer--;
            memmove(nb->defer, nb->defer + 1, nb->ndefer * sizeof(nb->defer[0]));
            memmove(nb->defer_len, nb->defer_len + 1, nb->ndefer * sizeof(nb->defer_len[0]));
            if (fm_wire_decode(&m, raw, len) == FM_OK && m.type == FM_MSG_PULL)
                budget_serve(s, nb, &m.u.pull);
            free(raw);
        }
    }
}

void sync_budget_release(struct sync_nb *nb)
{
    for (size_t i = 0; i < nb->ndefer; i++)
        free(nb->defer[i]);
    nb->ndefer = 0;
}
