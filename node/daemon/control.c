/*
 * control.c — the CLI's side of the running daemon.
 *
 * fieldmeshd listens on cfg->control (a local ipc:// socket); the CLI uses
 * these two calls to nudge it after writing ops and to ask it about its
 * peers. The socket work and the message format live in sync/ (the only
 * layer that speaks ZeroMQ); this file maps them to daemon.h's types and
 * fixes the deadlines: a nudge must never slow a CLI command noticeably.
 */
#include "daemon.h"

#include <stdlib.h>
#include <string.h>

#define NUDGE_TIMEOUT_MS 100
#define PEERS_TIMEOUT_MS 500

int fm_node_nudge(const struct fm_config *cfg)
{
    if (!cfg || !cfg->control[0])
        return FM_ENET;
    return fm_sync_ctl_nudge(cfg->control, NUDGE_TIMEOUT_MS);
}

int fm_node_daemon_peers(const struct fm_config *cfg, struct fm_daemon_info *info,
                         struct fm_peer_info **out, size_t *n)
{
    struct fm_sync_status st;
    struct fm_sync_peer_info *sp = NULL;
    size_t count = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if (!cfg || !cfg->control[0])
        return FM_ENET;
    rc = fm_sync_ctl_peers(cfg->control, PEERS_TIMEOUT_MS, &st, &sp, &count);
    if (rc != FM_OK)
        return rc;
    if (info) {
        memset(info, 0, sizeof(*info));
        info->uptime_ms = st.uptime_ms;
        info->pid = st.pid;
        info->ops_stored = st.counters.ops_stored;
        info->ops_rejected = st.counters.ops_rejected;
        info->msgs_dropped = st.counters.msgs_dropped;
        info->zap_refused = st.counters.zap_refused;
        info->soft_stored = st.counters.soft_stored;
        info->peers_dropped = st.counters.peers_dropped;
        info->ingest_faults = st.counters.ingest_faults;
        info->ingest_fault_err = -(int)(st.counters.ingest_fault_err & 0xff);
        info->ingest_backoff_ms = st.counters.ingest_backoff_ms;
        info->key_conns_refused = st.counters.key_conns_refused;
        info->pulls_deferred = st.counters.pulls_deferred;
        info->clone_alerts = st.counters.clone_alerts;
        info->tree_known = st.tree_known;
        info->tree = st.tree;
    }
    if (count) {
        *out = calloc(count, sizeof(**out));
        if (!*out) {
            free(sp);
            return FM_ENOMEM;
        }
        for (size_t i = 0; i < count; i++) {
            struct fm_peer_info *p = &(*out)[i];
            const struct fm_sync_peer_info *q = &sp[i];
            fm_strlcpy(p->name, q->name, sizeof(p->name));
            fm_strlcpy(p->endpoint, q->endpoint, sizeof(p->endpoint));
            memcpy(p->pk, q->pk, FM_PK_LEN);
            p->configured = q->configured;
            p->connected = q->connected;
            p->vector_known = q->vector_known;
            p->eager = q->eager;
            p->push = q->push;
            p->last_heard_ms = q->last_heard_ms;
            p->we_lack = q->we_lack;
            p->it_lacks = q->it_lacks;
            p->skew_ms = q->skew_ms;
            p->skew_known = q->skew_known;
            p->ops_received = q->ops_received;
            p->ops_sent = q->ops_sent;
            p->bad_messages = q->bad_messages;
            p->revoked = q->banned;
            p->refused_us = q->refused_us;
            p->cloned_key = q->cloned_key;
            p->conns = q->conns;
            p->conns_refused = q->conns_refused;
            p->rate_limit_bps = q->rate_limit_bps;
            p->queued_bytes = q->queued_bytes;
        }
        *n = count;
    }
    free(sp);
    return FM_OK;
}
