/*
 * sync_glue.c — plugs a node's LMDB store into the sync engine.
 *
 * The sync layer never sees LMDB or payloads; it talks to a struct
 * fm_sync_store. This file fills one from the node's replication calls
 * (fm_node_heads, fm_node_read_ops, fm_node_ingest, and the soft-state
 * pair), so the engine gets exactly the checks every other ingest path
 * gets. It also tells the engine which op kinds are dispatch-critical
 * (they cross a slow link first) and answers the transport's admission
 * question (ZAP, and the periodic re-check that drops revoked or expired
 * keys) from one author's head: an author appears there only once its
 * log, which starts with an org certificate, passed ingest.
 */
#include "../model/payload_int.h" /* the dispatch-critical kinds */
#include "../replica/replica_int.h"

#include <stdlib.h>
#include <string.h>

static int glue_heads(void *ctx, struct fm_head **out, size_t *count)
{
    return fm_node_heads(ctx, out, count);
}

static int glue_read_ops(void *ctx, const uint8_t author[FM_PK_LEN], uint64_t from_seq,
                         size_t max_ops, size_t max_bytes, struct fm_buf *out, size_t *count)
{
    return fm_node_read_ops(ctx, author, from_seq, max_ops, max_bytes, out, count);
}

static int glue_ingest(void *ctx, const uint8_t *const *ops, const size_t *lens,
                       const uint8_t *const *hashes, size_t nops, struct fm_ingest_result *res)
{
    return fm_node_ingest_hashed(ctx, ops, lens, hashes, nops, res);
}

/* One author: enrolled (log held, or its certificate announced), not
 * revoked, certificate not expired (announce.c). */
static int glue_admit(void *ctx, const uint8_t pk[FM_PK_LEN])
{
    return fm_node_admit(ctx, pk);
}

static int glue_admit_curve(void *ctx, const uint8_t curve[FM_CURVE_LEN],
                            uint8_t pk_out[FM_PK_LEN])
{
    return fm_node_admit_curve(ctx, curve, pk_out);
}

/* Dispatch-critical: trust, incident reports/updates/status, unit status,
 * tickets (40..44), bulletins (60). Bulk: notes, logged positions,
 * feedback, read receipts. Everything else is ordinary. By kind number,
 * so kinds added later in those ranges are classified as they land. */
/* The priority class of an op kind under a rate limit (docs/field-sync.md):
 * 0 = dispatch-critical, sent first: trust (certificates, revocations, fork
 * evidence, renewals and the kinds reserved for trust, all below
 * OP_INC_REPORT), an incident reported, updated, closed or its alarm raised, a unit's
 * status, tickets (OP_TICKET_DISPATCH up to the material kinds, with the
 * ticket kinds still reserved) and bulletins; 2 = bulk, sent last: notes,
 * feedback, positions and read receipts; 1 = everything else. */
static int glue_priority(void *ctx, uint8_t kind)
{
    (void)ctx;
    switch (kind) {
    case OP_INC_REPORT:
    case OP_INC_UPDATE:
    case OP_INC_STATUS:
    case OP_INC_ALARM:
    case OP_INC_MERGE:
    case OP_UNIT_STATUS:
    case OP_BULLETIN_SEND:
        return 0;
    case OP_INC_NOTE:
    case OP_INC_FEEDBACK:
    case OP_UNIT_POSITION:
    case OP_BULLETIN_READ:
        return 2;
    default:
        if (kind < OP_INC_REPORT || (kind >= OP_TICKET_DISPATCH && kind < OP_MAT_REQUEST))
            return 0;
        return 1;
    }
}

static int glue_soft_read(void *ctx, uint64_t after, size_t max_bytes, struct fm_buf *out,
                          size_t *count, uint64_t *last)
{
    return fm_node_soft_read(ctx, after, max_bytes, out, count, last);
}

static int glue_soft_ingest(void *ctx, const uint8_t *const *recs, const size_t *lens, size_t n,
                            size_t *stored)
{
    return fm_node_soft_ingest(ctx, recs, lens, n, stored);
}

static void glue_own_claim(void *ctx, uint64_t seq)
{
    int rc = fm_node_own_claim(ctx, seq);
    if (rc != FM_OK)
        fm_log(FM_LOG_WARN, "node", "cannot record what peers hold of our log: %s",
               fm_strerror(rc));
}

static void glue_own_vector(void *ctx, uint64_t seq)
{
    int rc = fm_node_own_vector(ctx, seq);
    if (rc != FM_OK)
        fm_log(FM_LOG_WARN, "node", "cannot confirm the restored store: %s", fm_strerror(rc));
}

/* The spanning tree's choice of root (sync/tree.c): by certificate role. */
static int glue_root_rank(void *ctx, const uint8_t prefix[8])
{
    return fm_node_root_rank(ctx, prefix);
}

void fm_node_sync_store(struct fm_node *n, struct fm_sync_store *out)
{
    memset(out, 0, sizeof(*out));
    out->ctx = n;
    out->heads = glue_heads;
    out->read_ops = glue_read_ops;
    out->ingest = glue_ingest;
    out->admit = glue_admit;
    out->admit_curve = glue_admit_curve;
    out->priority = glue_priority;
    out->soft_read = glue_soft_read;
    out->soft_ingest = glue_soft_ingest;
    out->root_rank = glue_root_rank;
    if (n->has_identity) {
        out->own_claim = glue_own_claim;
        out->own_vector = glue_own_vector;
    }
}
