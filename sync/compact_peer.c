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
 */
#include "sync_int.h"
#include "compact_int.h"

#include <string.h>

#define COMPONENT "sync"

bool sync_compact_on(const struct fm_sync *s) { return s->cfg.wire_version == 0; }

void sync_compact_hello(struct fm_sync *s, struct sync_nb *nb)
{
    if (!sync_compact_on(s) || nb->v3)
        return;
    if (fm_compact_encode_version(&s->msg, 0) == FM_OK && sync_send(s, nb, &s->msg) != FM_OK)
        return; /* dropped and counted: the next hello says it again */
}

int sync_send_ops(struct fm_sync *s, struct sync_nb *nb, struct fm_buf *m)
{
    if (!sync_compact_on(s) || !nb->v3 || m->len < 3)
        return sync_send(s, nb, m);
    /* a pull reply carries each run's first prev: our reply may arrive
     * while the asker's earlier replies still wait for ingest */
    bool reply = (m->data[2] & FM_OPS_REPLY) != 0;
    if (fm_compact_encode(&s->z, m->data, m->len, reply, nb->v3_dict, &s->cops) != FM_OK)
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

static void on_cops(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n)
{
    struct prev_ctx c = {s, nb};
    struct fm_compact_prev cb = {&c, run_prev};
    struct fm_wire_ops o;
    size_t skipped = 0;
    int rc = fm_compact_decode(&s->z, p, n, &cb, &s->cops_in, &o, &skipped);
    if (rc != FM_OK) {
        sync_nb_bad(s, nb, "malformed compact batch", rc);
        return;
    }
    nb->v3 = true;
    if (o.count == 0 && !(o.flags & FM_OPS_REPLY))
        return; /* a push of ops after a gap: pulled instead (run_prev) */
    sync_on_ops(s, nb, &o);
}

void sync_on_v3(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n)
{
    uint8_t depth;
    uint32_t dict_id;
    if (n >= 2 && p[1] == FM_MSG_COPS) {
        on_cops(s, nb, p, n);
        return;
    }
    if (fm_compact_decode_version(p, n, &depth, &dict_id) != FM_OK) {
        sync_nb_bad(s, nb, "malformed message", FM_EDECODE);
        return;
    }
    if (!nb->v3)
        fm_log(FM_LOG_INFO, COMPONENT, "peer %s speaks wire version 3: sending it compact batches",
               nb->name);
    nb->v3 = true;
    nb->v3_dict = dict_id != 0 && dict_id == fm_compact_dict_id();
    nb->ver = 2; /* version 3 includes 2: range reconciliation */
    nb->ver_probed = true;
    if (depth == 0 && fm_compact_encode_version(&s->msg, 1) == FM_OK &&
        sync_send(s, nb, &s->msg) != FM_OK)
        return; /* dropped and counted: its next hello asks again */
}
