/*
 * sync_glue.c — plugs a node's LMDB store into the sync engine.
 *
 * The sync layer never sees LMDB or payloads; it talks to a struct
 * fm_sync_store. This file fills one from the node's public replication
 * calls only (fm_node_heads, fm_node_read_ops, fm_node_ingest), so the
 * engine gets exactly the checks every other ingest path gets. Admission
 * for the transport (ZAP) is decided from the version vector: an author
 * appears there only once its log, which starts with an org certificate,
 * passed ingest, and its head carries the revocation limit if any.
 */
#include "node.h"

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

static int glue_ingest(void *ctx, const uint8_t *const *ops, const size_t *lens, size_t nops,
                       struct fm_ingest_result *res)
{
    return fm_node_ingest(ctx, ops, lens, nops, res);
}

static int head_cmp(const void *key, const void *elem)
{
    return memcmp(key, ((const struct fm_head *)elem)->author, FM_PK_LEN);
}

static int glue_admit(void *ctx, const uint8_t pk[FM_PK_LEN])
{
    struct fm_head *h = NULL, *hit;
    size_t n = 0;
    int rc = fm_node_heads(ctx, &h, &n);
    if (rc != FM_OK)
        return rc;
    hit = n ? bsearch(pk, h, n, sizeof(*h), head_cmp) : NULL;
    if (!hit)
        rc = FM_ENOTFOUND;
    else if (hit->limit != UINT64_MAX)
        rc = FM_EREVOKED;
    else
        rc = FM_OK;
    free(h);
    return rc;
}

void fm_node_sync_store(struct fm_node *n, struct fm_sync_store *out)
{
    memset(out, 0, sizeof(*out));
    out->ctx = n;
    out->heads = glue_heads;
    out->read_ops = glue_read_ops;
    out->ingest = glue_ingest;
    out->admit = glue_admit;
}
