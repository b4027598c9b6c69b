/*
 * announce.c — admitting a node before its own log reaches us.
 *
 * A node enrolled after the mesh was set up is known to nobody: its
 * certificate op opens its own log, which peers receive only once they
 * admit its key at the handshake — and they admit only keys they hold a
 * certificate for, or list in their config. A centre, county or admin node
 * breaks that circle by announcing the new node's certificate
 * (`fieldmesh trust publish NODE.cert`, op kind cert.announce, op format
 * 4): the op gossips like any other, every node that holds it indexes the
 * certificate here (DB_LOCAL 'A' | key, and 'C' | its Curve key -> key,
 * since the handshake knows only that; never synced nor digested, rebuilt
 * from the ops), and admission (fm_node_admit, fm_node_admit_curve) falls
 * back to it for a key with no log yet. The certificate is the
 * organisation's signature, so who carried it adds no trust: a revocation
 * or expiry refuses the key exactly as it refuses an enrolled author. Of
 * two announcements of one key, the one whose window ends later is kept
 * (the same on every node, whatever the order).
 */
#include "replica_int.h"

#include <stdlib.h>
#include <string.h>

#define ANNOUNCE_LOCAL 'A'
#define ANNOUNCE_CURVE 'C'

static void announce_key(const uint8_t pk[FM_PK_LEN], uint8_t key[1 + FM_PK_LEN])
{
    key[0] = ANNOUNCE_LOCAL;
    memcpy(key + 1, pk, FM_PK_LEN);
}

int node_announce_get(struct store_txn *t, const uint8_t pk[FM_PK_LEN], struct fm_cert *out)
{
    uint8_t key[1 + FM_PK_LEN];
    const uint8_t *v;
    size_t vlen;
    announce_key(pk, key);
    int rc = store_get(t, DB_LOCAL, key, sizeof key, &v, &vlen);
    if (rc != FM_OK)
        return rc;
    return fm_cert_decode(out, v, vlen) == FM_OK ? FM_OK : FM_ESTORE;
}

int node_announce_note(struct store_txn *t, const struct log_payload *pl)
{
    uint8_t key[1 + FM_PK_LEN];
    struct fm_cert held;
    struct fm_buf b;
    int rc = node_announce_get(t, pl->cert.node, &held);
    if (rc == FM_OK && held.expires_ms >= pl->cert.expires_ms)
        return FM_OK; /* the later window stands */
    if (rc != FM_OK && rc != FM_ENOTFOUND && rc != FM_ESTORE)
        return rc;
    uint8_t ckey[1 + FM_CURVE_LEN];
    ckey[0] = ANNOUNCE_CURVE;
    if (fm_curve_from_pk(pl->cert.node, ckey + 1) != FM_OK)
        return FM_OK; /* no Curve key: it could never connect; nothing to admit */
    announce_key(pl->cert.node, key);
    fm_buf_init(&b, 4096);
    if ((rc = fm_cert_encode(&pl->cert, &b)) == FM_OK)
        rc = store_put(t, DB_LOCAL, key, sizeof key, b.data, b.len, false);
    fm_buf_release(&b);
    if (rc == FM_OK)
        rc = store_put(t, DB_LOCAL, ckey, sizeof ckey, pl->cert.node, FM_PK_LEN, false);
    return rc;
}

int fm_node_admit_curve(struct fm_node *n, const uint8_t curve[FM_CURVE_LEN],
                        uint8_t pk_out[FM_PK_LEN])
{
    uint8_t ckey[1 + FM_CURVE_LEN];
    const uint8_t *v;
    size_t vlen;
    struct store_txn *t;
    ckey[0] = ANNOUNCE_CURVE;
    memcpy(ckey + 1, curve, FM_CURVE_LEN);
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    rc = store_get(t, DB_LOCAL, ckey, sizeof ckey, &v, &vlen);
    if (rc == FM_OK && vlen != FM_PK_LEN)
        rc = FM_ENOTFOUND; /* a damaged entry admits nothing */
    if (rc == FM_OK)
        memcpy(pk_out, v, FM_PK_LEN);
    store_txn_abort(&t);
    return rc == FM_OK ? fm_node_admit(n, pk_out) : rc;
}

/* A role's fitness to be the tree's root: the centre's links are the
 * best kept, a vehicle's the least. */
static int role_rank(uint8_t role)
{
    switch (role) {
    case FM_ROLE_CENTRE:
        return 0;
    case FM_ROLE_COUNTY:
        return 1;
    case FM_ROLE_STATION:
    case FM_ROLE_ADMIN:
        return 2;
    default:
        return FM_SYNC_RANK_LAST;
    }
}

int fm_node_root_rank(struct fm_node *n, const uint8_t prefix[8])
{
    struct store_txn *t;
    struct store_each e;
    uint64_t now = node_wall_ms();
    int worst = -1, rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return FM_SYNC_RANK_LAST;
    rc = store_each_prefix(&e, t, DB_HEADS, prefix, 8);
    while (rc == FM_OK && worst < FM_SYNC_RANK_LAST && store_each_next(&e, &rc)) {
        struct node_head h;
        uint64_t limit = UINT64_MAX;
        int r = FM_SYNC_RANK_LAST;
        if (e.kv.klen == FM_PK_LEN && node_head_get(t, e.kv.key, &h) == FM_OK && h.seq != 0 &&
            node_limit_get(t, e.kv.key, &limit) == FM_OK && limit == UINT64_MAX &&
            now < h.expires_ms)
            r = role_rank(h.role);
        if (r > worst)
            worst = r;
    }
    store_each_end(&e);
    store_txn_abort(&t);
    return rc != FM_OK || worst < 0 ? FM_SYNC_RANK_LAST : worst;
}

int fm_node_admit(struct fm_node *n, const uint8_t pk[FM_PK_LEN])
{
    struct store_txn *t;
    struct node_head h;
    struct fm_cert cert;
    uint64_t limit = UINT64_MAX, now = node_wall_ms();
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = node_limit_get(t, pk, &limit)) != FM_OK)
        goto out;
    if (limit != UINT64_MAX) {
        rc = FM_EREVOKED;
        goto out;
    }
    if ((rc = node_head_get(t, pk, &h)) == FM_OK && h.seq != 0) {
        rc = now >= h.expires_ms ? FM_EEXPIRED : FM_OK;
        goto out;
    }
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        goto out;
    /* no log of it here yet: an announced certificate, if any */
    rc = node_announce_get(t, pk, &cert);
    if (rc == FM_OK) {
        rc = fm_cert_check(&cert, n->cfg.org_pk, now);
        if (rc != FM_OK && rc != FM_EEXPIRED)
            rc = FM_ECERT;
    } else if (rc == FM_ESTORE) {
        rc = FM_ENOTFOUND; /* a damaged index entry admits nothing */
    }
out:
    store_txn_abort(&t);
    return rc;
}
