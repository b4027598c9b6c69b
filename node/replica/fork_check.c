/*
 * fork_check.c — which ops may take part in settling a fork.
 *
 * Settling a fork keeps one of two ops signed at one seq and cuts the
 * other branch on every store. Before this rule, any validly signed op was
 * a candidate: an op that ingest had refused (a vehicle-signed dispatch, a
 * stamp outside the certificate, a seq past a revocation) could come back
 * inside a bundle or a fork.evidence op, win on its earlier stamp, and cut
 * the author's real log everywhere. Now an op is a candidate only if it
 * would have been stored at its seq: it chains onto the op this store
 * holds at seq-1 (prev hash, increasing hlc), lies within the revocation
 * limit and the frozen history, passes every content check the ingest of
 * a new op makes (certificate, validity window, role and unit) and carries
 * the author's signature. A store that does not hold the op below cannot
 * judge it yet and settles nothing; the probe that brings the branch
 * below brings the pair again (docs/field-sync.md §5).
 */
#include "replica_int.h"

#include <string.h>

int fork_eligible(const struct fm_node *n, struct store_txn *t, const struct fm_op *op,
                  struct log_payload *pl, int *verdict)
{
    struct node_head vh;
    struct node_rev r;
    uint8_t want[FM_HASH_LEN], hash[FM_HASH_LEN];
    bool known;
    int rc;
    *verdict = FM_OK;
    if ((rc = node_revocation_get(t, op->author, &r)) != FM_OK)
        return rc;
    if (op->seq > r.limit) {
        *verdict = FM_EREVOKED;
        return FM_OK;
    }
    if ((rc = frozen_expected(t, op->author, &r, op->seq, want, &known)) != FM_OK)
        return rc;
    fm_op_hash(op, hash);
    if (known && memcmp(want, hash, FM_HASH_LEN) != 0) {
        *verdict = FM_EREVOKED; /* off the history its revocation froze */
        return FM_OK;
    }
    rc = node_head_at(t, op->author, op->seq - 1, &vh);
    if (rc == FM_ENOTFOUND) {
        *verdict = FM_EGAP; /* cannot be judged here yet */
        return FM_OK;
    }
    if (rc != FM_OK)
        return rc;
    if (op->seq > 1 && memcmp(op->prev, vh.hash, FM_HASH_LEN) != 0) {
        *verdict = FM_EGAP; /* on a branch this store does not hold below */
        return FM_OK;
    }
    if (op->seq > 1 && op->hlc <= vh.hlc) {
        *verdict = FM_ECHAIN; /* stamps must increase along a log */
        return FM_OK;
    }
    if ((*verdict = node_op_check(n, op, &vh, pl)) != FM_OK)
        return FM_OK;
    if (!fm_op_verify(op))
        *verdict = FM_EVERIFY;
    return FM_OK;
}
