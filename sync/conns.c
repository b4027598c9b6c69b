/*
 * conns.c — how many connections into our ROUTER one node key holds
 * (issue 9 item 11; docs/sync.md, "Per-key limits").
 *
 * One enrolled key once opened 2,000 connections and took the daemon to
 * 140 MB: libzmq keeps buffers and a session per connection whoever owns
 * it. So each key may hold cfg.max_conns_per_key connections, and all
 * connections together cfg.max_conns.
 *
 * libzmq tells the pieces apart: the ZAP request names the key but not
 * the connection (its address is the peer's IP, no port), the ROUTER's
 * socket monitor names each connection by its file descriptor when it is
 * accepted and when it closes, and every message says which descriptor it
 * came on (ZMQ_SRCFD) and which key the ZAP handler stamped on it. So:
 *   - at ZAP, a key at its cap is refused; else the admission is noted as
 *     pending (it has no descriptor yet);
 *   - a connection's first message ties its descriptor to its key: one
 *     pending admission of that key becomes a live connection;
 *   - a close frees the live slot of the descriptor's key;
 *   - a connection that says nothing for SYNC_CONN_SILENT_MS is closed
 *     (conns_mon.c) and pending admissions that old are forgotten, so a
 *     connection that authenticates and then stays silent cannot keep a
 *     slot, and silent ones cannot pile up outside the count. Honest nodes
 *     say hello on their connection as soon as the handshake succeeds
 *     (clone.c), and ZMTP heartbeats keep a quiet one open once tied.
 * Nothing here touches ZeroMQ (conns_mon.c does), so it is unit-tested
 * by itself (tests/unit/test_conns.c).
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

#define COMPONENT "sync"

static struct fm_log_limiter lim_full;

static size_t ckeys_cap(const struct fm_sync *s) { return s->cfg.max_conns + SYNC_KNOCK_KEYS; }

int sync_conns_init(struct fm_sync *s)
{
    if (s->cfg.max_conns_per_key == 0)
        s->cfg.max_conns_per_key = 4;
    if (s->cfg.max_conns_per_key > SYNC_CONN_KEY_CAP_MAX)
        s->cfg.max_conns_per_key = SYNC_CONN_KEY_CAP_MAX;
    if (s->cfg.max_conns == 0)
        s->cfg.max_conns = 256;
    if (s->cfg.max_conns > SYNC_CONNS_MAX)
        s->cfg.max_conns = SYNC_CONNS_MAX;
    s->conns = malloc(s->cfg.max_conns * sizeof(*s->conns));
    s->ckeys = calloc(ckeys_cap(s), sizeof(*s->ckeys));
    if (!s->conns || !s->ckeys) {
        sync_conns_release(s);
        return FM_ENOMEM;
    }
    sync_conns_reset(s);
    return FM_OK;
}

void sync_conns_release(struct fm_sync *s)
{
    free(s->conns);
    free(s->ckeys);
    s->conns = NULL;
    s->ckeys = NULL;
}

void sync_conns_reset(struct fm_sync *s)
{
    if (!s->conns)
        return;
    for (size_t i = 0; i < s->cfg.max_conns; i++)
        s->conns[i] = (struct sync_conn){.fd = -1, .key = -1};
    for (size_t i = 0; i < s->nckeys; i++)
        s->ckeys[i].live = s->ckeys[i].npend = 0;
}

static struct sync_conn *conn_find(struct fm_sync *s, int fd)
{
    for (size_t i = 0; s->conns && i < s->cfg.max_conns; i++)
        if (s->conns[i].fd == fd)
            return &s->conns[i];
    return NULL;
}

struct sync_conn *sync_conn_get(struct fm_sync *s, int fd)
{
    return fd < 0 ? NULL : conn_find(s, fd);
}

static int32_t ckey_find(const struct fm_sync *s, const uint8_t pk[FM_PK_LEN])
{
    for (size_t i = 0; i < s->nckeys; i++)
        if (s->ckeys[i].used && memcmp(s->ckeys[i].pk, pk, FM_PK_LEN) == 0)
            return (int32_t)i;
    return -1;
}

/* The entry of pk, made if new: a free one, else the one without
 * connections seen longest ago. -1 if every entry has connections (cannot
 * happen: there are more entries than connection slots). */
static int32_t ckey_get(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], uint64_t now)
{
    int32_t k = ckey_find(s, pk), pick = -1;
    if (k >= 0)
        return k;
    if (s->nckeys < ckeys_cap(s)) {
        pick = (int32_t)s->nckeys++;
    } else {
        for (size_t i = 0; i < s->nckeys; i++) {
            const struct sync_ckey *c = &s->ckeys[i];
            if (c->live == 0 && c->npend == 0 &&
                (pick < 0 || c->seen_ms < s->ckeys[pick].seen_ms))
                pick = (int32_t)i;
        }
        if (pick < 0)
            return -1;
    }
    s->ckeys[pick] = (struct sync_ckey){.used = true, .seen_ms = now};
    memcpy(s->ckeys[pick].pk, pk, FM_PK_LEN);
    return pick;
}

bool sync_conn_opened(struct fm_sync *s, int fd, uint64_t now)
{
    struct sync_conn *c = conn_find(s, fd);
    if (c) /* a descriptor reused before we read its close: the old one is gone */
        sync_conn_closed(s, fd);
    if (!(c = conn_find(s, -1))) {
        fm_log_limited(&lim_full, 2, FM_LOG_WARN, COMPONENT,
                       "%u connections into this node already (gossip.max_conns): "
                       "closing a new one", s->cfg.max_conns);
        return false;
    }
    *c = (struct sync_conn){.fd = fd, .key = -1, .opened_ms = now};
    return true;
}

void sync_conn_closed(struct fm_sync *s, int fd)
{
    struct sync_conn *c = conn_find(s, fd);
    if (!c || fd < 0)
        return;
    if (c->key >= 0 && s->ckeys[c->key].live > 0)
        s->ckeys[c->key].live--;
    *c = (struct sync_conn){.fd = -1, .key = -1};
}

/* One line per key per SYNC_CONN_LOG_MS, saying how many were refused. */
static void refusal_log(const struct fm_sync *s, struct sync_ckey *c, uint64_t now)
{
    if (c->log_ms != 0 && now - c->log_ms < SYNC_CONN_LOG_MS)
        return;
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(c->pk, key);
    fm_log(FM_LOG_WARN, COMPONENT,
           "refused a connection from node %s: it already holds %u, its cap "
           "(gossip.max_conns_per_key); "
           "%llu refused since the last line, %llu in all (next line in %u s at the earliest)",
           key, s->cfg.max_conns_per_key, (unsigned long long)(c->refused - c->refused_logged),
           (unsigned long long)c->refused, SYNC_CONN_LOG_MS / 1000);
    c->refused_logged = c->refused;
    c->log_ms = now;
}

bool sync_conn_admit(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], uint64_t now)
{
    int32_t k = ckey_get(s, pk, now);
    if (k < 0)
        return true; /* cannot happen; the overall cap still holds */
    struct sync_ckey *c = &s->ckeys[k];
    c->seen_ms = now;
    if (c->live + c->npend >= s->cfg.max_conns_per_key) {
        c->refused++;
        s->k.key_conns_refused++;
        refusal_log(s, c, now);
        return false;
    }
    c->pend_ms[c->npend++] = now;
    return true;
}

bool sync_conn_spoke(struct fm_sync *s, int fd, const uint8_t pk[FM_PK_LEN], uint64_t now)
{
    struct sync_conn *c = fd < 0 ? NULL : conn_find(s, fd);
    if (!c)
        return false; /* not one we track (yet) */
    if (c->key >= 0)
        return true; /* tied already */
    int32_t k = ckey_get(s, pk, now);
    if (k < 0)
        return true;
    struct sync_ckey *ck = &s->ckeys[k];
    if (ck->npend > 0) { /* the oldest admission is the likeliest to be this one */
        ck->npend--;
        memmove(ck->pend_ms, ck->pend_ms + 1, ck->npend * sizeof(ck->pend_ms[0]));
    }
    c->key = k;
    ck->live++;
    return true;
}

size_t sync_conn_expire(struct fm_sync *s, uint64_t now, int *fds, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nckeys; i++) {
        struct sync_ckey *c = &s->ckeys[i];
        size_t keep = 0;
        for (size_t j = 0; j < c->npend; j++)
            if (now - c->pend_ms[j] < SYNC_CONN_SILENT_MS)
                c->pend_ms[keep++] = c->pend_ms[j];
        c->npend = (uint32_t)keep;
    }
    for (size_t i = 0; s->conns && i < s->cfg.max_conns && n < cap; i++) {
        struct sync_conn *c = &s->conns[i];
        if (c->fd >= 0 && c->key < 0 && !c->shut && now - c->opened_ms >= SYNC_CONN_SILENT_MS) {
            c->shut = true;
            fds[n++] = c->fd;
        }
    }
    return n;
}

void sync_conn_of(const struct fm_sync *s, const uint8_t pk[FM_PK_LEN], uint32_t *open,
                  uint64_t *refused)
{
    int32_t k = ckey_find(s, pk);
    *open = k < 0 ? 0 : s->ckeys[k].live + s->ckeys[k].npend;
    *refused = k < 0 ? 0 : s->ckeys[k].refused;
}
