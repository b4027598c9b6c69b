/*
 * backdate.c — noticing ops back-dated into an expired certificate's
 * window (docs/field-sync.md §4, "Expiry and back-dating").
 *
 * Ingest accepts an op whose stamp lies inside its author's certificate
 * window, whenever it arrives: a vehicle offline for weeks brings honest
 * ops written before its certificate expired. A key holder can use the
 * same rule to sign after expiry with a stamp from before it. Nothing in
 * the op tells the two apart, so nothing is refused; instead each node
 * records, per author, in DB_FLAGS under `author | 'B'`:
 *
 *   - late ops: stored when our own clock was past the certificate's
 *     expiry + max_skew_ms (the log grew after expiry). Depends on our
 *     clock and on when the op reached us, so nodes may differ;
 *   - ops whose `base` reaches past the certificate's expiry: the op
 *     claims to have seen a value that took effect after its author's
 *     certificate expired. Decided from the op and its author's
 *     certificate alone, so every node that takes the op records it. A
 *     back-dated op can override a value written after its author's
 *     expiry only this way (eff = max(hlc, base + 1), hlc <= expiry).
 *
 * `status` turns the record into a warning with the revocation the
 * administrator must issue (the last seq before the first late op).
 */
#include "replica_int.h"

#include <string.h>

#define BD_KEY_LEN (FM_PK_LEN + 1)
#define BD_VAL_LEN 56 /* 7 x u64, below */

struct bd_rec {
    uint64_t late_ops, late_first_seq, late_last_seq, expires_ms, detected_ms;
    uint64_t beyond_ops, beyond_first_seq;
};

static void bd_key(const uint8_t author[FM_PK_LEN], uint8_t key[BD_KEY_LEN])
{
    memcpy(key, author, FM_PK_LEN);
    key[FM_PK_LEN] = 'B';
}

static int bd_get(struct store_txn *t, const uint8_t author[FM_PK_LEN], struct bd_rec *r)
{
    uint8_t key[BD_KEY_LEN];
    const uint8_t *v;
    size_t vlen;
    memset(r, 0, sizeof *r);
    bd_key(author, key);
    int rc = store_get(t, DB_FLAGS, key, sizeof key, &v, &vlen);
    if (rc != FM_OK)
        return rc;
    if (vlen != BD_VAL_LEN)
        return FM_ESTORE;
    uint64_t *f[] = {&r->late_ops,    &r->late_first_seq, &r->late_last_seq, &r->expires_ms,
                     &r->detected_ms, &r->beyond_ops,     &r->beyond_first_seq};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        *f[i] = fm_be64_get(v + 8 * i);
    return FM_OK;
}

static int bd_put(struct store_txn *t, const uint8_t author[FM_PK_LEN], const struct bd_rec *r)
{
    uint8_t key[BD_KEY_LEN], val[BD_VAL_LEN];
    const uint64_t f[] = {r->late_ops,    r->late_first_seq, r->late_last_seq, r->expires_ms,
                          r->detected_ms, r->beyond_ops,     r->beyond_first_seq};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        fm_be64_put(val + 8 * i, f[i]);
    bd_key(author, key);
    return store_put(t, DB_FLAGS, key, sizeof key, val, sizeof val, false);
}

static void bd_log(const struct fm_op *op, const struct node_head *h, bool late)
{
    static struct fm_log_limiter lim;
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(op->author, key);
    if (late)
        fm_log_limited(&lim, 5, FM_LOG_WARN, "expiry",
                       "node %s (%s) op seq %llu reached us after its certificate expired "
                       "(stamped before expiry): back-dated? if the key is out of your "
                       "control, revoke it naming its last good seq (fieldmesh status)",
                       h->name, key, (unsigned long long)op->seq);
    else
        fm_log_limited(&lim, 5, FM_LOG_WARN, "expiry",
                       "node %s (%s) op seq %llu claims to have seen a value written after "
                       "its certificate expired: back-dated, or written on top of a "
                       "far-future value",
                       h->name, key, (unsigned long long)op->seq);
}

int backdate_note(struct store_txn *t, const struct fm_op *op, const struct log_payload *pl,
                  const struct node_head *h, uint64_t wall_ms, uint32_t max_skew_ms)
{
    if (h->expires_ms == 0 || h->expires_ms > (UINT64_MAX >> 16) || op->kind == OP_CERT ||
        op->kind == OP_CERT_RENEW)
        return FM_OK; /* a certificate op opens its own window */
    const bool late = wall_ms > h->expires_ms + max_skew_ms;
    const bool beyond = pl->base != 0 && pl->base >= h->expires_ms << 16; /* 0: no base */
    if (!late && !beyond)
        return FM_OK;
    struct bd_rec r;
    int rc = bd_get(t, op->author, &r);
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return rc;
    if (late) {
        if (r.late_ops++ == 0 || op->seq < r.late_first_seq)
            r.late_first_seq = op->seq;
        if (op->seq > r.late_last_seq)
            r.late_last_seq = op->seq;
        r.expires_ms = h->expires_ms;
        if (r.detected_ms == 0)
            r.detected_ms = wall_ms;
    }
    if (beyond && (r.beyond_ops++ == 0 || op->seq < r.beyond_first_seq))
        r.beyond_first_seq = op->seq;
    bd_log(op, h, late);
    return bd_put(t, op->author, &r);
}

int backdate_read(struct store_txn *t, const uint8_t author[FM_PK_LEN],
                  struct fm_author_seen *s)
{
    struct bd_rec r;
    int rc = bd_get(t, author, &r);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    s->late_ops = r.late_ops;
    s->late_first_seq = r.late_first_seq;
    s->late_last_seq = r.late_last_seq;
    s->late_expires_ms = r.expires_ms;
    s->late_detected_ms = r.detected_ms;
    s->beyond_expiry_ops = r.beyond_ops;
    s->beyond_expiry_first_seq = r.beyond_first_seq;
    return FM_OK;
}
