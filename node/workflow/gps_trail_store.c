/*
 * gps_trail_store.c — the breadcrumb trails of this unit's tickets
 * (docs/gps.md), kept in the local store (DB_LOCAL: never synced, never in
 * the digest) so `fieldmesh ticket show` and `ticket clear` read what the
 * reader in fieldmeshd collected.
 *
 *   key 'T' ticket-id -> u64 updated | u32 n | u32 fixes | u8 full |
 *                        u64 distance m | n x (u64 at | i32 lat | i32 lon |
 *                        u32 accuracy dm)
 *
 * At most FM_GPS_TRAIL_TICKETS trails: storing one more deletes the least
 * recently updated, so a vehicle that runs for years keeps a bounded file.
 */
#include "workflow_int.h"

#include <stdlib.h>
#include <string.h>

#define LOCAL_TRAIL 'T'
#define TRAIL_HEAD (8 + 4 + 4 + 1 + 8)
#define TRAIL_PT 20

static size_t trail_key(const char *ticket, uint8_t key[1 + FM_ID_MAX])
{
    size_t len = strnlen(ticket, FM_ID_MAX - 1);
    key[0] = LOCAL_TRAIL;
    memcpy(key + 1, ticket, len);
    return 1 + len;
}

/* Deletes the least recently updated trail other than `keep` when
 * FM_GPS_TRAIL_TICKETS are stored already. */
static int trail_evict(struct store_txn *t, const uint8_t *keep, size_t klen)
{
    struct store_cur *c;
    struct store_kv kv;
    const uint8_t prefix = LOCAL_TRAIL;
    uint8_t old[1 + FM_ID_MAX];
    size_t oldlen = 0, count = 0;
    uint64_t oldest = UINT64_MAX;
    bool have_keep = false;
    int rc = store_cur_open(t, DB_LOCAL, &c);
    if (rc != FM_OK)
        return rc;
    for (rc = store_cur_seek(c, &prefix, 1, &kv); rc == FM_OK && kv.klen >= 1 &&
                                                   kv.key[0] == LOCAL_TRAIL;
         rc = store_cur_next(c, &kv)) {
        if (kv.klen == klen && memcmp(kv.key, keep, klen) == 0) {
            have_keep = true;
            continue;
        }
        count++;
        uint64_t upd = kv.vlen >= 8 ? fm_be64_get(kv.val) : 0;
        if (upd < oldest && kv.klen <= sizeof old) {
            oldest = upd;
            oldlen = kv.klen;
            memcpy(old, kv.key, kv.klen);
        }
    }
    store_cur_close(&c);
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return rc;
    if (have_keep || count < FM_GPS_TRAIL_TICKETS || oldlen == 0)
        return FM_OK;
    return store_del(t, DB_LOCAL, old, oldlen);
}

struct trail_put {
    uint8_t key[1 + FM_ID_MAX];
    size_t klen;
    uint8_t *val;
    size_t vlen;
};

static int trail_put_txn(struct store_txn *t, void *ctx)
{
    const struct trail_put *tp = ctx;
    int rc = trail_evict(t, tp->key, tp->klen);
    if (rc != FM_OK)
        return rc;
    return store_put(t, DB_LOCAL, tp->key, tp->klen, tp->val, tp->vlen, false);
}

int fm_node_gps_trail_put(struct fm_node *n, const struct fm_gps_trail *tr)
{
    struct trail_put tp;
    if (n == NULL || tr == NULL || tr->ticket[0] == '\0' || tr->n > FM_GPS_TRAIL_POINTS)
        return FM_EINVAL;
    tp.klen = trail_key(tr->ticket, tp.key);
    tp.vlen = TRAIL_HEAD + (size_t)tr->n * TRAIL_PT;
    if ((tp.val = malloc(tp.vlen)) == NULL)
        return FM_ENOMEM;
    uint8_t *p = tp.val;
    fm_be64_put(p, tr->updated_ms);
    fm_be32_put(p + 8, tr->n);
    fm_be32_put(p + 12, tr->fixes);
    p[16] = tr->full ? 1 : 0;
    fm_be64_put(p + 17, tr->distance_m);
    p += TRAIL_HEAD;
    for (uint32_t i = 0; i < tr->n; i++, p += TRAIL_PT) {
        fm_be64_put(p, tr->pt[i].at_ms);
        fm_be32_put(p + 8, (uint32_t)tr->pt[i].lat_e7);
        fm_be32_put(p + 12, (uint32_t)tr->pt[i].lon_e7);
        fm_be32_put(p + 16, tr->pt[i].accuracy_dm);
    }
    int rc = store_write(n->st, trail_put_txn, &tp);
    free(tp.val);
    return rc;
}

static int trail_decode(const uint8_t *v, size_t vlen, struct fm_gps_trail *out)
{
    if (vlen < TRAIL_HEAD)
        return FM_ESTORE;
    out->updated_ms = fm_be64_get(v);
    out->n = fm_be32_get(v + 8);
    out->fixes = fm_be32_get(v + 12);
    out->full = v[16] != 0;
    out->distance_m = fm_be64_get(v + 17);
    if (out->n > FM_GPS_TRAIL_POINTS || vlen != TRAIL_HEAD + (size_t)out->n * TRAIL_PT)
        return FM_ESTORE;
    v += TRAIL_HEAD;
    for (uint32_t i = 0; i < out->n; i++, v += TRAIL_PT) {
        out->pt[i].at_ms = fm_be64_get(v);
        out->pt[i].lat_e7 = (int32_t)fm_be32_get(v + 8);
        out->pt[i].lon_e7 = (int32_t)fm_be32_get(v + 12);
        out->pt[i].accuracy_dm = fm_be32_get(v + 16);
    }
    return FM_OK;
}

int fm_node_gps_trail_get(struct fm_node *n, const char *ticket, struct fm_gps_trail *out)
{
    struct store_txn *t;
    uint8_t key[1 + FM_ID_MAX];
    const uint8_t *v;
    size_t vlen;
    int rc;
    if (n == NULL || ticket == NULL || out == NULL)
        return FM_EINVAL;
    memset(out, 0, sizeof *out);
    size_t klen = trail_key(ticket, key);
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    rc = store_get(t, DB_LOCAL, key, klen, &v, &vlen);
    if (rc == FM_OK)
        rc = trail_decode(v, vlen, out);
    store_txn_abort(&t);
    if (rc == FM_OK)
        fm_strlcpy(out->ticket, ticket, sizeof out->ticket);
    else if (rc != FM_ENOTFOUND)
        memset(out, 0, sizeof *out);
    return rc;
}
