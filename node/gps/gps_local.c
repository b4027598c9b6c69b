/*
 * gps_local.c — the GPS reader's records that stay on this node
 * (DB_LOCAL, never synced, never in the digest): its status, which
 * `fieldmesh status` shows even though the reader runs in fieldmeshd.
 *
 *   key 'S' -> u8 state | u64 since | u64 updated | u64 last fix | u32
 *              accuracy dm | u64 published | u64 jumps | u64 bad lines |
 *              u64 reconnects                                (61 bytes)
 */
#include "gps_int.h"
#include "../replica/replica_int.h"

#include <string.h>

const char *fm_gps_state_name(enum fm_gps_state s)
{
    switch (s) {
    case FM_GPS_OFF:
        return "off";
    case FM_GPS_GONE:
        return "gpsd gone";
    case FM_GPS_NOFIX:
        return "no fix";
    case FM_GPS_POOR:
        return "poor fix";
    case FM_GPS_OK:
        return "ok";
    }
    return "unknown";
}

#define LOCAL_GPS_STATUS 'S'
#define GPS_STATUS_LEN (1 + 8 * 3 + 4 + 8 * 4)

struct status_put {
    uint8_t val[GPS_STATUS_LEN];
};

static int status_put_txn(struct store_txn *t, void *ctx)
{
    const struct status_put *sp = ctx;
    const uint8_t key = LOCAL_GPS_STATUS;
    return store_put(t, DB_LOCAL, &key, 1, sp->val, sizeof sp->val, false);
}

int fm_node_gps_status_put(struct fm_node *n, const struct fm_gps_status *s)
{
    struct status_put sp;
    uint8_t *p = sp.val;
    *p++ = (uint8_t)s->state;
    const uint64_t a[] = {s->since_ms, s->updated_ms, s->last_fix_ms};
    for (size_t i = 0; i < 3; i++, p += 8)
        fm_be64_put(p, a[i]);
    fm_be32_put(p, s->last_accuracy_dm);
    p += 4;
    const uint64_t b[] = {s->published, s->rejected_jumps, s->bad_lines, s->reconnects};
    for (size_t i = 0; i < 4; i++, p += 8)
        fm_be64_put(p, b[i]);
    return store_write(n->st, status_put_txn, &sp);
}

int fm_node_gps_status_get(struct fm_node *n, struct fm_gps_status *s)
{
    struct store_txn *t;
    const uint8_t key = LOCAL_GPS_STATUS, *v;
    size_t vlen;
    int rc;
    memset(s, 0, sizeof *s);
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    rc = store_get(t, DB_LOCAL, &key, 1, &v, &vlen);
    if (rc == FM_OK && (vlen != GPS_STATUS_LEN || v[0] > FM_GPS_OK))
        rc = FM_ESTORE;
    if (rc == FM_OK) {
        s->state = (enum fm_gps_state)v[0];
        s->since_ms = fm_be64_get(v + 1);
        s->updated_ms = fm_be64_get(v + 9);
        s->last_fix_ms = fm_be64_get(v + 17);
        s->last_accuracy_dm = fm_be32_get(v + 25);
        s->published = fm_be64_get(v + 29);
        s->rejected_jumps = fm_be64_get(v + 37);
        s->bad_lines = fm_be64_get(v + 45);
        s->reconnects = fm_be64_get(v + 53);
    }
    store_txn_abort(&t);
    return rc;
}

int fm_node_self_unit(const struct fm_node *n, char *out, size_t cap)
{
    if (n == NULL || !n->has_identity || n->cert.unit[0] == '\0')
        return FM_ENOTFOUND;
    return fm_strlcpy(out, n->cert.unit, cap) == 0 ? FM_OK : FM_ETOOBIG;
}
