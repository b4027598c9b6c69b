/*
 * fuzz_wire.c — feeds arbitrary bytes to the sync wire decoder. Beyond "no
 * crash", it traps when the decoder breaks its promises: a failure is only
 * ever FM_EDECODE or FM_ETOOBIG, and anything that decodes re-encodes to
 * exactly the same bytes (so the decoder accepts one encoding per message
 * and walks every list it validated without leaving the frame). Frames of
 * version byte 5 go to the spanning tree's decoder (sync/tree.c), under
 * the same promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sync/wire_int.h"
#include "sync/recon_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fm_sync_peer_info peers[FM_WIRE_PEERS_MAX];

static int reencode(const struct fm_wire_msg *m, struct fm_buf *b)
{
    switch (m->type) {
    case FM_MSG_SUMMARY:
        return fm_wire_encode_summary(b, &m->u.summary);
    case FM_MSG_VECTOR:
        return fm_wire_encode_vector(b, m->u.vector.lo, m->u.vector.hi, m->u.vector.e.entries,
                                     m->u.vector.e.count);
    case FM_MSG_IHAVE:
        return fm_wire_encode_ihave(b, m->u.ihave.flags, m->u.ihave.e.entries,
                                    m->u.ihave.e.count);
    case FM_MSG_PULL:
        return fm_wire_encode_pull(b, m->u.pull.flags, m->u.pull.req_id, m->u.pull.max_ops,
                                   m->u.pull.e.entries, m->u.pull.e.count);
    case FM_MSG_OPS: {
        size_t pos = 0, len, n = 0;
        const uint8_t *op;
        int rc = fm_wire_ops_begin(b, m->u.ops.flags, m->u.ops.req_id);
        while (rc == FM_OK && fm_wire_ops_next(&m->u.ops, &pos, &op, &len)) {
            if (op < m->u.ops.data || op + len > m->u.ops.data + m->u.ops.data_len)
                __builtin_trap();
            n++;
        }
        if (n != m->u.ops.count || pos != m->u.ops.data_len)
            __builtin_trap();
        if (rc == FM_OK && n)
            rc = fm_wire_ops_add(b, m->u.ops.data, m->u.ops.data_len, (uint32_t)n);
        return rc == FM_OK ? fm_wire_ops_finish(b) : rc;
    }
    case FM_MSG_CTL_STATUS: {
        struct fm_sync_status st = {.uptime_ms = m->u.status.uptime_ms, .pid = m->u.status.pid,
                                    .counters = m->u.status.counters,
                                    .tree_known = m->u.status.tree_known,
                                    .tree = m->u.status.tree};
        size_t pos = 0;
        uint32_t n = 0;
        while (n < FM_WIRE_PEERS_MAX && fm_wire_status_next(&m->u.status, &pos, &peers[n])) {
            /* the tree block's push bytes, one per peer, when it came */
            if ((m->u.status.push != NULL) != m->u.status.tree_known)
                __builtin_trap();
            peers[n].push = m->u.status.push ? m->u.status.push[n] : FM_PUSH_LAZY;
            n++;
        }
        if (n != m->u.status.count)
            __builtin_trap();
        return fm_wire_encode_status(b, &st, peers, n);
    }
    case FM_MSG_SOFT: { /* field sync: soft-state records */
        size_t pos = 0, len, n = 0;
        const uint8_t *rec;
        while (fm_wire_soft_next(&m->u.soft, &pos, &rec, &len)) {
            if (rec < m->u.soft.data || rec + len > m->u.soft.data + m->u.soft.data_len)
                __builtin_trap();
            n++;
        }
        if (n != m->u.soft.count || pos != m->u.soft.data_len)
            __builtin_trap();
        return fm_wire_encode_soft(b, m->u.soft.data, m->u.soft.data_len, (uint32_t)n);
    }
    case FM_MSG_RECON: /* version 2: range reconciliation */
        return fm_recon_encode_copy(b, &m->u.recon);
    default:
        return fm_wire_encode_simple(b, m->type);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fm_wire_msg m;
    struct fm_buf b;
    if (size >= 1 && data[0] == FM_TREE_WIRE_VERSION) {
        struct fm_wire_tree t;
        int trc = fm_tree_decode(&t, data, size);
        if (trc != FM_OK) {
            if (trc != FM_EDECODE) /* its only failure */
                __builtin_trap();
            return 0;
        }
        fm_buf_init(&b, FM_TREE_MSG_LEN);
        if (fm_tree_encode(&b, &t) != FM_OK || b.len != size || memcmp(b.data, data, size) != 0)
            __builtin_trap();
        fm_buf_release(&b);
        return 0;
    }
    int rc = fm_wire_decode(&m, data, size);
    if (rc != FM_OK) {
        if (rc != FM_EDECODE && rc != FM_ETOOBIG)
            __builtin_trap();
        return 0;
    }
    fm_buf_init(&b, FM_WIRE_MAX_MSG);
    if (reencode(&m, &b) != FM_OK)
        __builtin_trap();
    if (b.len != size || memcmp(b.data, data, size) != 0)
        __builtin_trap();
    fm_buf_release(&b);
    return 0;
}
