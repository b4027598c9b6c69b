/*
 * softstate.c — soft state: where each vehicle is and which nodes are
 * alive, kept apart from the signed logs.
 *
 * Positions change every few seconds and only the latest matters, so they
 * do not go into the hash-chained logs (which must never lose anything and
 * so never shrink). A soft record is
 *
 *   u8 version (1) | u8 kind | author[32] | u64 hlc | u16 body_len | body | sig[64]
 *
 * with kind 1 = position (body: unit creator key[32] | unit seq u64 |
 * i32 lat | i32 lon), kind 2 = presence (empty body) and kind 3 = GPS fix
 * (the position body | fix time u64 ms | accuracy u32 dm | course u16
 * 0.01 deg | speed u16 cm/s; docs/gps.md), which has the same target as a
 * position, so the newer of a typed and a GPS position wins; and sig =
 * Ed25519 by the author over "fieldmesh-soft-1" followed by every byte
 * before sig (a soft record can never pass for an op). The store keeps one
 * record per target (unit or node): last-writer-wins by (hlc, author), so
 * the outcome does not depend on arrival order, and the store is bounded
 * by the number of units and nodes (FM_SOFT_MAX_RECORDS). Each stored
 * record gets a fresh local sequence number (DB_SOFT_SEQ), which is how
 * sync finds "what changed since I last sent to this neighbour".
 *
 * A record is accepted only from an author whose log (with its
 * certificate) we hold, who is not revoked, whose certificate covers the
 * stamp, and whose stamp is not beyond max_skew_ms ahead of our clock — a
 * position from a clock hours fast would otherwise win every merge for
 * hours. Soft state is not part of the digest: it is current, not agreed.
 *
 * What a position's subject is, and who may place it, is the domain's:
 * the replica asks through its table (soft_subject, soft_subject_own), so
 * this file names no unit record. It also answers "when did we last hear
 * of each node" (newest op or presence record) and keeps the per-author count of ops stamped far
 * in the future (DB_FLAGS), for staleness and clock reports.
 */
#include "replica_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SOFT_VERSION 1
#define SOFT_POSITION 1
#define SOFT_PRESENCE 2
#define SOFT_FIX 3 /* a GPS position (gps.h): the position body + fix details */
#define SOFT_FIX_BODY (SOFT_POS_BODY + 8 + 4 + 2 + 2)
#define SOFT_HDR (1 + 1 + FM_PK_LEN + 8 + 2)
#define SOFT_POS_BODY (FM_PK_LEN + 8 + 4 + 4)
#define SOFT_DOMAIN "fieldmesh-soft-1"
#define SOFT_KEY_MAX (1 + FM_PK_LEN + 8)
#define SOFT_REC_MAX 512 /* = FM_SOFT_REC_MAX of the sync wire */

struct soft_rec {
    uint8_t kind;
    const uint8_t *author;
    uint64_t hlc;
    uint8_t ref_author[FM_PK_LEN];
    uint64_t ref_seq;
    int32_t lat, lon;
    struct fm_gps_fix fix; /* SOFT_FIX */
    const uint8_t *raw;
    size_t raw_len;
    const uint8_t *sig;
};

static int soft_decode(struct soft_rec *r, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    uint8_t ver;
    uint16_t blen;
    memset(r, 0, sizeof *r);
    fm_cur_init(&c, p, n);
    if (fm_cur_u8(&c, &ver) || ver != SOFT_VERSION || fm_cur_u8(&c, &r->kind) ||
        fm_cur_bytes(&c, FM_PK_LEN, &r->author) || fm_cur_u64(&c, &r->hlc) ||
        fm_cur_u16(&c, &blen))
        return FM_EDECODE;
    if (r->kind == SOFT_POSITION || r->kind == SOFT_FIX) {
        uint32_t lat, lon;
        if (blen != (r->kind == SOFT_FIX ? SOFT_FIX_BODY : SOFT_POS_BODY) ||
            fm_cur_copy(&c, r->ref_author, FM_PK_LEN) ||
            fm_cur_u64(&c, &r->ref_seq) || fm_cur_u32(&c, &lat) || fm_cur_u32(&c, &lon))
            return FM_EDECODE;
        r->lat = (int32_t)lat;
        r->lon = (int32_t)lon;
        if (r->ref_seq == 0 || r->lat < -FM_LAT_MAX || r->lat > FM_LAT_MAX ||
            r->lon < -FM_LON_MAX || r->lon > FM_LON_MAX)
            return FM_EDECODE;
        r->fix.lat_e7 = r->lat;
        r->fix.lon_e7 = r->lon;
        if (r->kind == SOFT_FIX &&
            (fm_cur_u64(&c, &r->fix.fix_ms) || fm_cur_u32(&c, &r->fix.accuracy_dm) ||
             fm_cur_u16(&c, &r->fix.track_cdeg) || fm_cur_u16(&c, &r->fix.speed_cms) ||
             r->fix.fix_ms == 0 || r->fix.fix_ms > INT64_MAX ||
             (r->fix.track_cdeg >= 36000 && r->fix.track_cdeg != FM_GPS_NO_TRACK)))
            return FM_EDECODE;
    } else if (r->kind == SOFT_PRESENCE) {
        if (blen != 0)
            return FM_EDECODE;
    } else {
        return FM_EDECODE;
    }
    if (fm_cur_bytes(&c, FM_SIG_LEN, &r->sig) || fm_cur_left(&c) != 0)
        return FM_EDECODE;
    r->raw = p;
    r->raw_len = n;
    return FM_OK;
}

/* The signed message: domain | record without its signature. */
static int soft_signed_msg(const uint8_t *raw, size_t len, struct fm_buf *out)
{
    fm_buf_reset(out);
    int rc = fm_buf_append(out, SOFT_DOMAIN, strlen(SOFT_DOMAIN));
    return rc == FM_OK ? fm_buf_append(out, raw, len - FM_SIG_LEN) : rc;
}

static size_t soft_key(const struct soft_rec *r, uint8_t key[SOFT_KEY_MAX])
{
    key[0] = r->kind == SOFT_FIX ? SOFT_POSITION : r->kind; /* one target per unit */
    if (r->kind == SOFT_POSITION || r->kind == SOFT_FIX) {
        memcpy(key + 1, r->ref_author, FM_PK_LEN);
        fm_be64_put(key + 1 + FM_PK_LEN, r->ref_seq);
        return 1 + FM_PK_LEN + 8;
    }
    memcpy(key + 1, r->author, FM_PK_LEN);
    return 1 + FM_PK_LEN;
}

/* Stores r if it is newer than the record held for its target. */
static int soft_put(struct store_txn *t, const struct soft_rec *r, bool *stored)
{
    uint8_t key[SOFT_KEY_MAX], seqk[8];
    size_t klen = soft_key(r, key);
    const uint8_t *v;
    size_t vlen;
    uint64_t seq;
    int rc = store_get(t, DB_SOFT, key, klen, &v, &vlen);
    *stored = false;
    if (rc == FM_OK) {
        struct soft_rec old;
        if (vlen < 8 || soft_decode(&old, v + 8, vlen - 8) != FM_OK)
            return FM_ESTORE;
        if (old.hlc > r->hlc ||
            (old.hlc == r->hlc && memcmp(old.author, r->author, FM_PK_LEN) >= 0))
            return FM_OK; /* not newer (or the same) */
        if ((rc = store_del(t, DB_SOFT_SEQ, v, 8)) != FM_OK && rc != FM_ENOTFOUND)
            return rc;
    } else if (rc == FM_ENOTFOUND) {
        uint64_t count;
        if ((rc = store_count(t, DB_SOFT, &count)) != FM_OK)
            return rc;
        if (count >= FM_SOFT_MAX_RECORDS)
            return FM_OK; /* bounded: new targets wait until the store is cleared */
    } else {
        return rc;
    }
    if ((rc = node_meta_get_u64(t, "soft_seq", &seq)) != FM_OK)
        return rc;
    seq++;
    fm_be64_put(seqk, seq);
    uint8_t *val = malloc(8 + r->raw_len);
    if (!val)
        return FM_ENOMEM;
    memcpy(val, seqk, 8);
    memcpy(val + 8, r->raw, r->raw_len);
    rc = store_put(t, DB_SOFT, key, klen, val, 8 + r->raw_len, false);
    free(val);
    if (rc == FM_OK)
        rc = store_put(t, DB_SOFT_SEQ, seqk, 8, key, klen, false);
    if (rc == FM_OK)
        rc = node_meta_put_u64(t, "soft_seq", seq);
    *stored = rc == FM_OK;
    return rc;
}

/* ---- local records ---- */

struct soft_write {
    struct fm_node *n;
    uint8_t kind;
    const char *unit;
    int32_t lat, lon;
    const struct fm_gps_fix *fix; /* SOFT_FIX */
    struct fm_buf rec, msg;
};

static int soft_write_txn(struct store_txn *t, void *ctx)
{
    struct soft_write *w = ctx;
    struct fm_node *n = w->n;
    struct soft_rec r;
    struct node_head h;
    uint64_t clock;
    uint8_t sig[FM_SIG_LEN];
    bool stored;
    int rc;
    if ((rc = node_head_get(t, n->id.pk, &h)) != FM_OK ||
        (rc = node_meta_get_u64(t, "hlc", &clock)) != FM_OK)
        return rc;
    if (h.hlc > clock)
        clock = h.hlc;
    clock = hlc_now(clock, node_wall_ms());
    fm_buf_reset(&w->rec);
    if ((rc = fm_buf_put_u8(&w->rec, SOFT_VERSION)) || (rc = fm_buf_put_u8(&w->rec, w->kind)) ||
        (rc = fm_buf_append(&w->rec, n->id.pk, FM_PK_LEN)) ||
        (rc = fm_buf_put_u64(&w->rec, clock)))
        return rc;
    if (w->kind == SOFT_POSITION || w->kind == SOFT_FIX) {
        uint8_t ref[FM_PK_LEN + 8];
        /* the subject by id or name, and what soft_check would refuse at
         * every receiver (the domain's rule: replica_domain.soft_subject) */
        rc = n->dom == NULL ? FM_EINVAL : n->dom->soft_subject(t, &n->cert, w->unit, ref);
        if (rc == FM_OK && (rc = fm_buf_put_u16(&w->rec, w->fix ? SOFT_FIX_BODY
                                                                 : SOFT_POS_BODY)) == FM_OK &&
            (rc = fm_buf_append(&w->rec, ref, sizeof ref)) == FM_OK &&
            (rc = fm_buf_put_u32(&w->rec, (uint32_t)w->lat)) == FM_OK)
            rc = fm_buf_put_u32(&w->rec, (uint32_t)w->lon);
        if (rc == FM_OK && w->fix && (rc = fm_buf_put_u64(&w->rec, w->fix->fix_ms)) == FM_OK &&
            (rc = fm_buf_put_u32(&w->rec, w->fix->accuracy_dm)) == FM_OK &&
            (rc = fm_buf_put_u16(&w->rec, w->fix->track_cdeg)) == FM_OK)
            rc = fm_buf_put_u16(&w->rec, w->fix->speed_cms);
        if (rc != FM_OK)
            return rc;
    } else if ((rc = fm_buf_put_u16(&w->rec, 0)) != FM_OK) {
        return rc;
    }
    static const uint8_t zero[FM_SIG_LEN];
    if ((rc = fm_buf_append(&w->rec, zero, sizeof zero)) != FM_OK ||
        (rc = soft_signed_msg(w->rec.data, w->rec.len, &w->msg)) != FM_OK)
        return rc;
    fm_sign(&n->id, w->msg.data, w->msg.len, sig);
    memcpy(w->rec.data + w->rec.len - FM_SIG_LEN, sig, FM_SIG_LEN);
    if (soft_decode(&r, w->rec.data, w->rec.len) != FM_OK)
        return FM_EINVAL;
    if ((rc = soft_put(t, &r, &stored)) != FM_OK)
        return rc;
    return node_meta_put_u64(t, "hlc", clock);
}

static int soft_write(struct fm_node *n, uint8_t kind, const char *unit, int32_t lat, int32_t lon,
                      const struct fm_gps_fix *fix)
{
    struct soft_write w = {.n = n, .kind = kind, .unit = unit, .lat = lat, .lon = lon,
                           .fix = fix};
    int rc;
    if (n == NULL || !n->has_identity)
        return FM_EPERM;
    fm_buf_init(&w.rec, SOFT_REC_MAX);
    fm_buf_init(&w.msg, SOFT_REC_MAX + 64);
    rc = store_write(n->st, soft_write_txn, &w);
    fm_buf_release(&w.rec);
    fm_buf_release(&w.msg);
    return rc;
}

int fm_node_soft_position(struct fm_node *n, const char *unit, int32_t lat_e7, int32_t lon_e7)
{
    if (unit == NULL || lat_e7 < -FM_LAT_MAX || lat_e7 > FM_LAT_MAX || lon_e7 < -FM_LON_MAX ||
        lon_e7 > FM_LON_MAX)
        return FM_EINVAL;
    return soft_write(n, SOFT_POSITION, unit, lat_e7, lon_e7, NULL);
}

int fm_node_soft_fix(struct fm_node *n, const char *unit, const struct fm_gps_fix *fix)
{
    if (unit == NULL || fix == NULL || fix->lat_e7 < -FM_LAT_MAX || fix->lat_e7 > FM_LAT_MAX ||
        fix->lon_e7 < -FM_LON_MAX || fix->lon_e7 > FM_LON_MAX || fix->fix_ms == 0 ||
        fix->fix_ms > INT64_MAX ||
        (fix->track_cdeg >= 36000 && fix->track_cdeg != FM_GPS_NO_TRACK))
        return FM_EINVAL;
    return soft_write(n, SOFT_FIX, unit, fix->lat_e7, fix->lon_e7, fix);
}

int fm_node_soft_presence(struct fm_node *n)
{
    return soft_write(n, SOFT_PRESENCE, NULL, 0, 0, NULL);
}

/* ---- sync ---- */

int fm_node_soft_read(struct fm_node *n, uint64_t after, size_t max_bytes, struct fm_buf *out,
                      size_t *count, uint64_t *last)
{
    struct store_txn *t;
    struct store_cur *c;
    struct store_kv kv;
    uint8_t from[8];
    int rc;
    *count = 0;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    if ((rc = store_cur_open(t, DB_SOFT_SEQ, &c)) != FM_OK)
        goto out;
    fm_be64_put(from, after + 1);
    for (rc = store_cur_seek(c, from, sizeof from, &kv); rc == FM_OK;
         rc = store_cur_next(c, &kv)) {
        const uint8_t *v;
        size_t vlen;
        if (*count >= 1024 || (*count > 0 && out->len >= max_bytes))
            break;
        if (kv.klen != 8)
            continue;
        if ((rc = store_get(t, DB_SOFT, kv.val, kv.vlen, &v, &vlen)) != FM_OK) {
            if (rc == FM_ENOTFOUND)
                continue;
            break;
        }
        if (vlen < 8 + SOFT_HDR + FM_SIG_LEN || vlen - 8 > UINT16_MAX) {
            rc = FM_ESTORE;
            break;
        }
        if ((rc = fm_buf_put_u16(out, (uint16_t)(vlen - 8))) != FM_OK ||
            (rc = fm_buf_append(out, v + 8, vlen - 8)) != FM_OK)
            break;
        *last = fm_be64_get(kv.key);
        ++*count;
    }
    if (rc == FM_ENOTFOUND)
        rc = FM_OK;
    store_cur_close(&c);
out:
    store_txn_abort(&t);
    return rc;
}

struct soft_ingest {
    struct fm_node *n;
    const uint8_t *const *recs;
    const size_t *lens;
    size_t nrecs, stored;
    uint64_t wall_ms;
    struct fm_buf msg;
};

static int soft_check(struct soft_ingest *si, struct store_txn *t, const struct soft_rec *r)
{
    struct node_head h;
    uint64_t limit, ms = hlc_ms(r->hlc);
    int rc;
    if ((rc = node_head_get(t, r->author, &h)) != FM_OK ||
        (rc = node_limit_get(t, r->author, &limit)) != FM_OK)
        return rc;
    if (h.seq == 0 || limit != UINT64_MAX)
        return FM_ECERT; /* unknown author or revoked */
    if (ms < h.not_before_ms || ms >= h.expires_ms)
        return FM_EEXPIRED;
    if (ms > si->wall_ms + si->n->cfg.max_skew_ms)
        return FM_EEXPIRED; /* from the future: would pin the merge */
    if ((rc = soft_signed_msg(r->raw, r->raw_len, &si->msg)) != FM_OK)
        return rc;
    if (!fm_verify(r->author, si->msg.data, si->msg.len, r->sig))
        return FM_EVERIFY;
    if (r->kind != SOFT_POSITION && r->kind != SOFT_FIX)
        return FM_OK;
    /* may this author place that subject (a station or vehicle only its
     * own unit): the domain's rule, FM_EUNIT like ingest's for a logged op */
    uint8_t ref[FM_PK_LEN + 8];
    memcpy(ref, r->ref_author, FM_PK_LEN);
    fm_be64_put(ref + FM_PK_LEN, r->ref_seq);
    return si->n->dom == NULL ? FM_EUNIT : si->n->dom->soft_subject_own(t, &h, ref);
}

static int soft_ingest_txn(struct store_txn *t, void *ctx)
{
    static struct fm_log_limiter lim;
    struct soft_ingest *si = ctx;
    si->stored = 0;
    for (size_t i = 0; i < si->nrecs; i++) {
        struct soft_rec r;
        bool stored = false;
        int rc;
        if (si->recs[i] == NULL || soft_decode(&r, si->recs[i], si->lens[i]) != FM_OK) {
            fm_log_limited(&lim, 5, FM_LOG_WARN, "soft", "refused a malformed soft record");
            continue;
        }
        rc = soft_check(si, t, &r);
        if (rc == FM_ESTORE || rc == FM_ENOMEM || rc == FM_EMAPFULL)
            return rc;
        if (rc == FM_EUNIT) { /* another unit's position: dropped and counted */
            uint64_t total;
            char key[FM_KEY_TEXT_LEN];
            if ((rc = node_meta_get_u64(t, "soft_unit_refused", &total)) != FM_OK ||
                (rc = node_meta_put_u64(t, "soft_unit_refused", total + 1)) != FM_OK)
                return rc;
            fm_key_encode(r.author, key);
            fm_log_limited(&lim, 5, FM_LOG_WARN, "soft",
                           "refused a position from %.8s: %s", key, fm_strerror(FM_EUNIT));
            continue;
        }
        if (rc != FM_OK) {
            fm_log_limited(&lim, 5, FM_LOG_DEBUG, "soft", "refused a soft record: %s",
                           fm_strerror(rc));
            continue;
        }
        if ((rc = soft_put(t, &r, &stored)) != FM_OK)
            return rc;
        si->stored += stored;
    }
    return FM_OK;
}

int fm_node_soft_ingest(struct fm_node *n, const uint8_t *const *recs, const size_t *lens,
                        size_t nrecs, size_t *stored)
{
    struct soft_ingest si = {.n = n, .recs = recs, .lens = lens, .nrecs = nrecs,
                             .wall_ms = node_wall_ms()};
    int rc;
    *stored = 0;
    if (nrecs == 0)
        return FM_OK;
    fm_buf_init(&si.msg, SOFT_REC_MAX + 64);
    rc = store_write(n->st, soft_ingest_txn, &si);
    fm_buf_release(&si.msg);
    if (rc == FM_OK)
        *stored = si.stored;
    return rc;
}

/* ---- reading positions back ---- */

int soft_position_get(struct fm_node *n, const uint8_t ref[FM_PK_LEN + 8],
                      struct soft_position *out)
{
    struct store_txn *t;
    uint8_t key[SOFT_KEY_MAX];
    const uint8_t *v;
    size_t vlen;
    struct soft_rec r;
    int rc;
    memset(out, 0, sizeof *out);
    key[0] = SOFT_POSITION;
    memcpy(key + 1, ref, FM_PK_LEN + 8);
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    rc = store_get(t, DB_SOFT, key, sizeof key, &v, &vlen);
    if (rc == FM_OK && (vlen <= 8 || soft_decode(&r, v + 8, vlen - 8) != FM_OK))
        rc = FM_ENOTFOUND; /* not what we store: as if none */
    if (rc == FM_OK) {
        out->lat_e7 = r.lat;
        out->lon_e7 = r.lon;
        out->hlc = r.hlc;
        out->gps = r.kind == SOFT_FIX;
        out->fix_ms = out->gps ? r.fix.fix_ms : 0;
        out->accuracy_dm = out->gps ? r.fix.accuracy_dm : FM_GPS_NO_ACCURACY;
    }
    store_txn_abort(&t);
    return rc;
}

/* ---- clock flags ---- */

int flags_note(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
               uint64_t ahead_ms)
{
    static struct fm_log_limiter lim;
    uint8_t val[24];
    const uint8_t *v;
    size_t vlen;
    uint64_t count = 0, max = 0;
    int rc = store_get(t, DB_FLAGS, author, FM_PK_LEN, &v, &vlen);
    if (rc == FM_OK && vlen == sizeof val) {
        count = fm_be64_get(v);
        max = fm_be64_get(v + 8);
    } else if (rc != FM_OK && rc != FM_ENOTFOUND) {
        return rc;
    }
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(author, key);
    fm_log_limited(&lim, 5, FM_LOG_WARN, "clock",
                   "op %.8s seq %llu is stamped %llu ms ahead of our clock: stored, flagged, "
                   "our clock not moved", key, (unsigned long long)seq,
                   (unsigned long long)ahead_ms);
    fm_be64_put(val, count + 1);
    fm_be64_put(val + 8, ahead_ms > max ? ahead_ms : max);
    fm_be64_put(val + 16, seq);
    return store_put(t, DB_FLAGS, author, FM_PK_LEN, val, sizeof val, false);
}

/* ---- who was heard of when ---- */

int fm_node_authors_seen(struct fm_node *n, struct fm_author_seen **out, size_t *count)
{
    struct store_txn *t;
    struct store_cur *c;
    struct store_kv kv;
    size_t cap = 16, k = 0;
    uint64_t now = node_wall_ms();
    int rc;
    *out = NULL;
    *count = 0;
    struct fm_author_seen *a = calloc(cap, sizeof *a);
    if (!a)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK) {
        free(a);
        return rc;
    }
    if ((rc = store_cur_open(t, DB_HEADS, &c)) != FM_OK)
        goto out;
    for (rc = store_cur_first(c, &kv); rc == FM_OK; rc = store_cur_next(c, &kv)) {
        struct node_head h;
        const uint8_t *v;
        size_t vlen;
        uint64_t limit;
        uint8_t key[SOFT_KEY_MAX];
        if (kv.klen != FM_PK_LEN)
            continue;
        if ((rc = node_head_get(t, kv.key, &h)) != FM_OK ||
            (rc = node_limit_get(t, kv.key, &limit)) != FM_OK)
            break;
        if (k == cap) {
            struct fm_author_seen *b = realloc(a, 2 * cap * sizeof *a);
            if (!b) {
                rc = FM_ENOMEM;
                break;
            }
            a = b;
            cap *= 2;
        }
        struct fm_author_seen *s = &a[k++];
        memset(s, 0, sizeof *s);
        memcpy(s->pk, kv.key, FM_PK_LEN);
        fm_strlcpy(s->name, h.name, sizeof s->name);
        s->role = (enum fm_role)h.role;
        s->seq = h.seq;
        s->last_op_ms = hlc_ms(h.hlc);
        s->revoked = limit != UINT64_MAX;
        key[0] = SOFT_PRESENCE;
        memcpy(key + 1, kv.key, FM_PK_LEN);
        struct soft_rec r;
        if (store_get(t, DB_SOFT, key, 1 + FM_PK_LEN, &v, &vlen) == FM_OK && vlen > 8 &&
            soft_decode(&r, v + 8, vlen - 8) == FM_OK)
            s->last_presence_ms = hlc_ms(r.hlc);
        if (store_get(t, DB_FLAGS, kv.key, FM_PK_LEN, &v, &vlen) == FM_OK && vlen == 24) {
            s->future_ops = fm_be64_get(v);
            s->future_max_ms = fm_be64_get(v + 8);
        }
        if ((rc = backdate_read(t, kv.key, s)) != FM_OK)
            break;
        s->last_seen_ms = s->last_op_ms > s->last_presence_ms ? s->last_op_ms
                                                               : s->last_presence_ms;
        if (s->last_seen_ms > now)
            s->last_seen_ms = now; /* a clock ahead of ours does not make it fresher */
    }
    if (rc == FM_ENOTFOUND)
        rc = FM_OK;
    store_cur_close(&c);
out:
    store_txn_abort(&t);
    if (rc != FM_OK) {
        free(a);
        return rc;
    }
    *out = a;
    *count = k;
    return FM_OK;
}

int fm_soft_info(const uint8_t *rec, size_t len, struct fm_soft_info *out)
{
    struct soft_rec r;
    memset(out, 0, sizeof *out);
    if (soft_decode(&r, rec, len) != FM_OK)
        return FM_EDECODE;
    out->kind = r.kind == SOFT_PRESENCE ? "presence" : r.kind == SOFT_FIX ? "gps" : "position";
    memcpy(out->author, r.author, FM_PK_LEN);
    out->hlc = r.hlc;
    if (r.kind != SOFT_PRESENCE) {
        char tag[FM_KEY_TAG_LEN + 1];
        fm_key_tag(r.ref_author, tag);
        snprintf(out->unit, sizeof out->unit, "%s-%llu", tag, (unsigned long long)r.ref_seq);
        out->lat_e7 = r.lat;
        out->lon_e7 = r.lon;
    }
    return FM_OK;
}
