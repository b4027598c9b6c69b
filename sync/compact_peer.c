/*
 * compact_peer.c — the engine's side of compact batches (compact.c holds
 * the format): who gets them, how a version-3 frame that arrives is
 * handled, and where a run's missing prev hash comes from.
 *
 * Versions: a version-3 node sends VERSION (depth 0) beside every empty
 * RECON it sends (the version-2 hello and its answer, reconcile.c) to a
 * neighbour not known to speak version 3; a version-3 node answers it with
 * VERSION depth 1, and either frame (or a COPS) marks the sender as
 * version 3 (and, when its VERSION names our dictionary's id, as holding
 * our dictionary). Only then do our OPS go to it compact; everyone else gets
 * the plain OPS of version 1. A version-2 or -1 node drops VERSION as a
 * message of another protocol version (a few per link-up). What a peer
 * speaks is forgotten when its link goes down and learnt again when it is
 * back (it may have come back as another build).
 *
 * Version 4 is the same exchange under version byte 4: a version-4 node
 * sends VERSION(0) under both bytes to a neighbour not known as version 4,
 * answers each under its own byte, and sends its batches as version-4
 * COPS to a neighbour heard speaking 4, as version-3 COPS to one heard
 * speaking only 3. A version-3 node drops our version-4 hellos as messages
 * of another protocol version (a few per link-up).
 */
#include "sync_int.h"
#include "compact_int.h"

#include <string.h>

#define COMPONENT "sync"

bool sync_compact_on(const struct fm_sync *s)
{
    return s->cfg.wire_version == 0 || s->cfg.wire_version == FM_COMPACT_WIRE_VERSION;
}

bool sync_compact4_on(const struct fm_sync *s)
{
    return s->cfg.wire_version == 0 || s->cfg.wire_version == FM_COMPACT4_WIRE_VERSION;
}

void sync_compact_hello(struct fm_sync *s, struct sync_nb *nb)
{
    sync_tree_hello(s, nb); /* and version 5 (tree.c) */
    /* a failed send is dropped and counted: the next hello says it again */
    if (sync_compact_on(s) && !nb->v3 &&
        fm_compact_encode_version(&s->msg, FM_COMPACT_WIRE_VERSION, 0) == FM_OK &&
        sync_send(s, nb, &s->msg) != FM_OK)
        return;
    if (sync_compact4_on(s) && !nb->v4 &&
        fm_compact_encode_version(&s->msg, FM_COMPACT4_WIRE_VERSION, 0) == FM_OK &&
        sync_send(s, nb, &s->msg) != FM_OK)
        return;
}

int sync_send_ops(struct fm_sync *s, struct sync_nb *nb, struct fm_buf *m, bool give_prev)
{
    if (!sync_compact_on(s) || !nb->v3 || m->len < 3)
        return sync_send(s, nb, m);
    /* a pull reply carries each run's first prev: our reply may arrive
     * while the asker's earlier replies still wait for ingest, and a fork
     * probe must see our real prev. Only a version-4 asker's PULL can say
     * it needs none (from its head + 1). */
    bool reply = (m->data[2] & FM_OPS_REPLY) != 0;
    bool v4 = nb->v4 && sync_compact4_on(s);
    uint8_t version = v4 ? FM_COMPACT4_WIRE_VERSION : FM_COMPACT_WIRE_VERSION;
    if (fm_compact_encode(&s->z, version, m->data, m->len, reply && (give_prev || !v4),
                          nb->v3_dict, &s->cops) != FM_OK)
        return sync_send(s, nb, m); /* an op we cannot write compactly */
    return sync_send(s, nb, &s->cops);
}

struct prev_ctx {
    struct fm_sync *s;
    struct sync_nb *nb;
};

/* The hash of our op seq-1 of author pk: the head's, or read from the
 * store below it; a gap in front is pulled instead (FM_ENOTFOUND). */
static int run_prev(void *ctx, const uint8_t pk[FM_PK_LEN], uint64_t seq, uint64_t last,
                    uint8_t out[FM_HASH_LEN])
{
    struct prev_ctx *c = ctx;
    struct fm_sync *s = c->s;
    int32_t i = sync_author_get(s, pk, false);
    if (i >= 0 && s->authors[i].in_store && s->authors[i].head >= seq - 1) {
        const struct sync_author *a = &s->authors[i];
        struct fm_op d;
        size_t got = 0;
        if (a->head == seq - 1) {
            memcpy(out, a->hash, FM_HASH_LEN);
            return FM_OK;
        }
        /* ops we hold already (a duplicate push): rebuild them to match */
        fm_buf_reset(&s->tmp);
        if (s->store.read_ops(s->store.ctx, pk, seq - 1, 1, FM_OP_MAX_LEN + 4, &s->tmp,
                              &got) == FM_OK &&
            got == 1 && s->tmp.len >= 4 &&
            fm_op_decode(&d, s->tmp.data + 4, s->tmp.len - 4) == FM_OK && d.seq == seq - 1) {
            fm_op_hash(&d, out);
            return FM_OK;
        }
    }
    i = sync_author_get(s, pk, true);
    if (i >= 0)
        sync_want_raise(s, c->nb, (uint32_t)i, last, sync_now(s), false);
    return FM_ENOTFOUND;
}

/* A short author (version 4). In a reply to one of our requests: the one
 * author that request named whose key starts so (a reply continuing one
 * still waiting for ingest is of an author we do not hold yet). Else (a
 * push, a graft or a fork probe, all from an op we hold): the one author
 * we hold whose key starts so. A peer can make us list keys it made up,
 * never make us hold one or ask another peer for it, so it cannot make an
 * honest neighbour's prefix ambiguous. None or two: FM_ENOTFOUND, and the
 * run is skipped (anti-entropy brings its ops). */
static int run_author(void *ctx, uint32_t req_id, const uint8_t *prefix, size_t len,
                      uint8_t out[FM_PK_LEN])
{
    struct prev_ctx *c = ctx;
    struct fm_sync *s = c->s;
    int32_t found = -1;
    for (int r = 0; req_id && r < SYNC_CREDITS; r++) {
        const struct sync_req *rq = &c->nb->reqs[r];
        if (rq->id != req_id)
            continue;
        for (uint16_t k = 0; k < rq->n; k++)
            if (memcmp(s->authors[rq->authors[k]].pk, prefix, len) == 0) {
                if (found >= 0 && (uint32_t)found != rq->authors[k])
                    return FM_ENOTFOUND;
                found = (int32_t)rq->authors[k];
            }
        break;
    }
    if (found < 0)
        found = sync_author_by_prefix(s, prefix, len);
    if (found < 0)
        return FM_ENOTFOUND;
    memcpy(out, s->authors[found].pk, FM_PK_LEN);
    return FM_OK;
}

static void on_cops(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n)
{
    struct prev_ctx c = {s, nb};
    struct fm_compact_prev cb = {&c, run_prev, run_author};
    struct fm_wire_ops o;
    size_t skipped = 0;
    int rc = fm_compact_decode(&s->z, p, n, &cb, &s->cops_in, &o, &skipped);
    if (rc != FM_OK) {
        sync_nb_bad(s, nb, "malformed compact batch", rc);
        return;
    }
    nb->v3 = true;
    if (p[0] == FM_COMPACT4_WIRE_VERSION)
        nb->v4 = true;
    if (o.count == 0 && !(o.flags & FM_OPS_REPLY))
        return; /* a push of ops after a gap: pulled instead (run_prev) */
    sync_on_ops(s, nb, &o);
}

void sync_on_v3(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n)
{
    uint8_t version, depth;
    uint32_t dict_id;
    if (n >= 2 && p[1] == FM_MSG_COPS) {
        on_cops(s, nb, p, n);
        return;
    }
    if (fm_compact_decode_version(p, n, &version, &depth, &dict_id) != FM_OK) {
        sync_nb_bad(s, nb, "malformed message", FM_EDECODE);
        return;
    }
    if (version == FM_COMPACT4_WIRE_VERSION && !nb->v4)
        fm_log(FM_LOG_INFO, COMPONENT, "peer %s speaks wire version 4: sending it compact "
               "batches without what it knows", nb->name);
    else if (version == FM_COMPACT_WIRE_VERSION && !nb->v3 && !nb->v4)
        /* a version-4 peer says both hellos; when we speak 4 as well, the
         * version-3 line is at debug level (its version-4 line follows,
         * or plain "peer is up" stands for a peer that speaks only 3) */
        fm_log(sync_compact4_on(s) ? FM_LOG_DEBUG : FM_LOG_INFO, COMPONENT,
               "peer %s speaks wire version 3: sending it compact batches", nb->name);
    if (version == FM_COMPACT4_WIRE_VERSION)
        nb->v4 = true;
    nb->v3 = true;
    nb->v3_dict = dict_id != 0 && dict_id == fm_compact_dict_id();
    nb->ver = 2; /* version 3 includes 2: range reconciliation */
    nb->ver_probed = true;
    if (depth == 0 && fm_compact_encode_version(&s->msg, version, 1) == FM_OK &&
        sync_send(s, nb, &s->msg) != FM_OK)
        return; /* dropped and counted: its next hello asks again */
}
