/*
 * model.c — applying ops to entities: the merge rules.
 *
 * Each op kind maps to merges on one entity record (keyed by kind + id):
 *   - plain fields: last-writer-wins by the stamp (hlc, author). An author's
 *     hlc strictly increases along its log (ingest enforces it), so a stamp
 *     names exactly one op and ties cannot happen between different values;
 *   - incident status: (epoch u32 BE, stage u8) merged by max; for equal
 *     values the smaller stamp is kept so the stamp is order-independent;
 *   - updated_hlc: max; timeline: a set keyed by (id, hlc, author, seq);
 *     the entry count grows only when an entry is new;
 *   - resource quantity: per-author P and N in the counters database plus
 *     running totals in the record, all sums mod 2^64.
 * Ops may reach an entity before its create op (another author's report
 * still in flight): they merge into a placeholder record without
 * F_CREATED, which the report later completes with the same merges. Since
 * every merge is commutative, so is apply, and the records (and the
 * indexes, recomputed from each record as it changes) are a function of
 * the set of ops applied.
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stage_names[] = {"new", "dispatched", "enroute",
                                          "onscene", "resolved", "closed"};

const char *fm_stage_name(enum fm_incident_stage s)
{
    return (unsigned)s <= FM_STAGE_CLOSED ? stage_names[s] : "?";
}

int fm_stage_parse(const char *s, enum fm_incident_stage *out)
{
    for (unsigned i = 0; s != NULL && i <= FM_STAGE_CLOSED; i++) {
        if (strcmp(s, stage_names[i]) == 0) {
            *out = (enum fm_incident_stage)i;
            return FM_OK;
        }
    }
    return FM_EINVAL;
}


/* Orders writes by (eff, hlc, author): the effective stamp first
 * (model_base.c), then the op's own stamp, then the author. */
static int stamp_cmp(const struct model_stamp *a, const struct model_field_val *f)
{
    uint64_t eff = a->eff > a->hlc ? a->eff : a->hlc;
    if (eff != f->eff)
        return eff < f->eff ? -1 : 1;
    if (a->hlc != f->hlc)
        return a->hlc < f->hlc ? -1 : 1;
    return memcmp(a->author, f->author, FM_PK_LEN);
}

static void field_store(struct model_field_val *f, const struct model_stamp *s, const void *v,
                        size_t n)
{
    f->set = true;
    f->hlc = s ? s->hlc : 0;
    f->eff = s ? (s->eff > s->hlc ? s->eff : s->hlc) : 0;
    if (s)
        memcpy(f->author, s->author, FM_PK_LEN);
    else
        memset(f->author, 0, FM_PK_LEN);
    if (n > MODEL_VAL_MAX)
        n = MODEL_VAL_MAX; /* callers pass bounded payload fields */
    f->len = (uint16_t)n;
    memcpy(f->val, v, n);
}

/* Last writer wins by stamp. */
void model_merge_lww(struct model_rec *r, unsigned tag, const struct model_stamp *s, const void *v,
                      size_t n)
{
    struct model_field_val *f = &r->f[tag];
    if (!f->set || stamp_cmp(s, f) > 0)
        field_store(f, s, v, n);
}

/* First writer wins: the smallest stamp (e.g. the first report of a
 * ticket step). */
void model_merge_min(struct model_rec *r, unsigned tag, const struct model_stamp *s,
                     const void *v, size_t n)
{
    struct model_field_val *f = &r->f[tag];
    if (!f->set || stamp_cmp(s, f) < 0)
        field_store(f, s, v, n);
}

static void merge_lww_str(struct model_rec *r, unsigned tag, const struct model_stamp *s,
                          const char *str)
{
    model_merge_lww(r, tag, s, str, strlen(str));
}

static void merge_lww_u8(struct model_rec *r, unsigned tag, const struct model_stamp *s, uint8_t v)
{
    model_merge_lww(r, tag, s, &v, 1);
}

static void merge_lww_pos(struct model_rec *r, unsigned tag, const struct model_stamp *s,
                          int32_t lat, int32_t lon)
{
    uint8_t v[8];
    fm_be32_put(v, (uint32_t)lat);
    fm_be32_put(v + 4, (uint32_t)lon);
    model_merge_lww(r, tag, s, v, sizeof v);
}

/* The caller field: in clear (older writers), or MODEL_SEALED_MARK and
 * the sealed bytes, the same on every node whether it can open them or
 * not, so the digest does not depend on who holds the dispatcher key. */
static void merge_caller(struct model_rec *r, const struct model_stamp *s,
                         const struct payload *pl)
{
    uint8_t v[1 + FM_SEALED_MAX];
    if (!(pl->present & PT_BIT(PT_SEALED))) {
        merge_lww_str(r, F_CALLER, s, pl->caller);
        return;
    }
    v[0] = MODEL_SEALED_MARK;
    memcpy(v + 1, pl->sealed, pl->sealed_len);
    model_merge_lww(r, F_CALLER, s, v, 1 + (size_t)pl->sealed_len);
}

/* Max by value bytes (fixed width, big-endian so memcmp orders numbers);
 * equal values keep the smaller stamp. */
static void merge_max(struct model_rec *r, unsigned tag, const struct model_stamp *s, const void *v,
                      size_t n)
{
    struct model_field_val *f = &r->f[tag];
    int c = (!f->set || f->len != n) ? 1 : memcmp(v, f->val, n);
    if (c > 0 || (c == 0 && stamp_cmp(s, f) < 0))
        field_store(f, s, v, n);
}

void model_merge_max_u64(struct model_rec *r, unsigned tag, uint64_t v)
{
    struct model_field_val *f = &r->f[tag];
    if (f->set && f->len == 8 && fm_be64_get(f->val) >= v)
        return;
    uint8_t b[8];
    fm_be64_put(b, v);
    field_store(f, NULL, b, sizeof b);
}

/* Unstamped sum, mod 2^width. */
void model_merge_add(struct model_rec *r, unsigned tag, uint64_t add, size_t width)
{
    struct model_field_val *f = &r->f[tag];
    uint64_t cur = 0;
    uint8_t b[8];
    if (f->set && f->len == width)
        cur = width == 8 ? fm_be64_get(f->val) : fm_be32_get(f->val);
    if (width == 8)
        fm_be64_put(b, cur + add);
    else
        fm_be32_put(b, (uint32_t)(cur + add));
    field_store(f, NULL, b, width);
}

/* ---- incident indexes, recomputed from the record ---- */

struct inc_idx {
    bool present, merged;
    uint8_t time[8 + FM_ID_MAX], status[1 + 8 + FM_ID_MAX],
        category[FM_CATEGORY_MAX + 1 + 8 + FM_ID_MAX], into[1 + 2 * FM_ID_MAX];
    size_t tlen, slen, clen, ilen;
};

static void idx_compute(const struct model_rec *r, const char *id, struct inc_idx *x)
{
    x->present = model_rec_exists(r);
    if (!x->present)
        return;
    size_t idlen = strnlen(id, FM_ID_MAX - 1);
    uint64_t hlc = r->f[F_CREATED].hlc;
    const struct model_field_val *st = &r->f[F_STATUS], *cat = &r->f[F_CATEGORY];
    uint8_t stage = (st->set && st->len == 5) ? st->val[4] : 0;
    size_t clen = cat->set && cat->len < FM_CATEGORY_MAX ? cat->len : 0;

    fm_be64_put(x->time, hlc);
    memcpy(x->time + 8, id, idlen);
    x->tlen = 8 + idlen;

    x->status[0] = stage;
    memcpy(x->status + 1, x->time, x->tlen);
    x->slen = 1 + x->tlen;

    memcpy(x->category, cat->val, clen);
    x->category[clen] = 0;
    memcpy(x->category + clen + 1, x->time, x->tlen);
    x->clen = clen + 1 + x->tlen;

    const struct model_field_val *m = &r->f[F_MERGED];
    x->merged = m->set && m->len == FM_PK_LEN + 8;
    if (x->merged) {
        char into[FM_ID_MAX];
        fm_op_id_format(m->val, fm_be64_get(m->val + FM_PK_LEN), into);
        size_t ilen = strnlen(into, FM_ID_MAX - 1);
        x->into[0] = ENT_MERGED;
        memcpy(x->into + 1, into, ilen);
        x->into[1 + ilen] = 0;
        memcpy(x->into + 2 + ilen, id, idlen);
        x->ilen = 2 + ilen + idlen;
    }
}

static int idx_swap(struct store_txn *t, enum store_db db, bool had, const uint8_t *ok,
                    size_t oklen, bool has, const uint8_t *nk, size_t nklen)
{
    bool same = had && has && oklen == nklen && memcmp(ok, nk, oklen) == 0;
    int rc;
    if (same)
        return FM_OK;
    if (had && (rc = store_del(t, db, ok, oklen)) != FM_OK && rc != FM_ENOTFOUND)
        return rc;
    if (has && (rc = store_put(t, db, nk, nklen, "", 0, false)) != FM_OK)
        return rc;
    return FM_OK;
}

/* The merged-by-survivor entry (ENT_MERGED) lives in DB_ENTITIES, whose
 * values readers may take for records: it is a raw value. */
static int merged_swap(struct store_txn *t, bool had, const uint8_t *ok, size_t oklen, bool has,
                       const uint8_t *nk, size_t nklen)
{
    static const uint8_t raw = RAW_VERSION;
    int rc;
    if (had && has && oklen == nklen && memcmp(ok, nk, oklen) == 0)
        return FM_OK;
    if (had && (rc = store_del(t, DB_ENTITIES, ok, oklen)) != FM_OK && rc != FM_ENOTFOUND)
        return rc;
    if (has && (rc = store_put(t, DB_ENTITIES, nk, nklen, &raw, 1, false)) != FM_OK)
        return rc;
    return FM_OK;
}

static int idx_update(struct store_txn *t, const struct inc_idx *o, const struct inc_idx *n)
{
    int rc;
    if ((rc = idx_swap(t, DB_IDX_TIME, o->present, o->time, o->tlen, n->present, n->time,
                       n->tlen)) ||
        (rc = idx_swap(t, DB_IDX_STATUS, o->present, o->status, o->slen, n->present,
                       n->status, n->slen)) ||
        (rc = idx_swap(t, DB_IDX_CATEGORY, o->present, o->category, o->clen, n->present,
                       n->category, n->clen)))
        return rc;
    return merged_swap(t, o->present && o->merged, o->into, o->ilen, n->present && n->merged,
                       n->into, n->ilen);
}

/* ---- timeline and counters ---- */

/* Adds an entry; *added tells whether it was new. */
static int tl_add(struct store_txn *t, const char *id, const struct fm_op *op, uint8_t kind,
                  const char *text, bool *added)
{
    uint8_t key[FM_ID_MAX + 1 + 8 + FM_PK_LEN + 8];
    uint8_t val[1 + FM_TEXT_MAX];
    size_t plen = model_tl_prefix(key, FM_ENT_INCIDENT, id), tlen = strnlen(text, FM_TEXT_MAX - 1);
    fm_be64_put(key + plen, op->hlc);
    memcpy(key + plen + 8, op->author, FM_PK_LEN);
    fm_be64_put(key + plen + 8 + FM_PK_LEN, op->seq);
    val[0] = kind;
    if (kind == TL_NOTE)
        tlen = 0; /* a note's text stays in its op (model_tl_decode reads it there) */
    memcpy(val + 1, text, tlen);
    int rc = store_put(t, DB_TIMELINE, key, plen + 8 + FM_PK_LEN + 8, val, 1 + tlen, true);
    *added = rc == FM_OK;
    return rc == FM_EEXISTS ? FM_OK : rc;
}

static int counter_add(struct store_txn *t, const char *id, const uint8_t *author, uint64_t p,
                       uint64_t n)
{
    uint8_t key[FM_ID_MAX + 1 + FM_PK_LEN], val[16];
    size_t idlen = strnlen(id, FM_ID_MAX - 1), klen = idlen + 1 + FM_PK_LEN;
    const uint8_t *cur;
    size_t curlen;
    uint64_t P = 0, N = 0;
    memcpy(key, id, idlen);
    key[idlen] = 0;
    memcpy(key + idlen + 1, author, FM_PK_LEN);
    int rc = store_get(t, DB_COUNTERS, key, klen, &cur, &curlen);
    if (rc == FM_OK) {
        if (curlen != 16)
            return FM_ESTORE;
        P = fm_be64_get(cur);
        N = fm_be64_get(cur + 8);
    } else if (rc != FM_ENOTFOUND) {
        return rc;
    }
    fm_be64_put(val, P + p);
    fm_be64_put(val + 8, N + n);
    return store_put(t, DB_COUNTERS, key, klen, val, sizeof val, false);
}

/* Encodes r and stores it as entity (kind, id). Every field is at most
 * MODEL_VAL_MAX bytes, so the encoding fits a stack buffer: no allocation
 * per applied op. */
int model_rec_store(struct store_txn *t, uint8_t kind, const char *id, const struct model_rec *r)
{
    uint8_t mem[2 + F__MAX * (1 + 8 + 8 + FM_PK_LEN + 2 + MODEL_VAL_MAX)];
    struct fm_buf buf = {.data = mem, .len = 0, .cap = sizeof mem, .max = sizeof mem};
    uint8_t key[1 + FM_ID_MAX];
    size_t klen = model_ent_key(kind, id, key);
    int rc = model_rec_encode(r, &buf);
    if (rc == FM_OK)
        rc = store_put(t, DB_ENTITIES, key, klen, buf.data, buf.len, false);
    return rc;
}

/* ---- apply ---- */

static int apply_incident(struct store_txn *t, const struct fm_op *op, const struct payload *pl,
                          const struct model_stamp *s, struct model_rec *r, const char *id)
{
    char text[FM_TEXT_MAX];
    uint8_t tl_kind = 0;
    const uint64_t has = pl->present;
    switch (pl->log.kind) {
    case OP_INC_REPORT: {
        uint8_t created[FM_PK_LEN + 8];
        memcpy(created, op->author, FM_PK_LEN);
        fm_be64_put(created + FM_PK_LEN, op->seq);
        model_merge_lww(r, F_CREATED, s, created, sizeof created);
        /* A report writes every plain field (absent ones as empty). */
        merge_lww_str(r, F_CATEGORY, s, pl->category);
        merge_lww_u8(r, F_PRIORITY, s, pl->priority);
        merge_lww_pos(r, F_LOCATION, s, pl->lat, pl->lon);
        merge_lww_str(r, F_ADDRESS, s, pl->address);
        merge_caller(r, s, pl);
        merge_lww_str(r, F_DESC, s, pl->desc);
        uint8_t st[5] = {0, 0, 0, 0, FM_STAGE_NEW};
        merge_max(r, F_STATUS, s, st, sizeof st);
        tl_kind = TL_REPORT;
        payload_summary(pl, text, sizeof text);
        break;
    }
    case OP_INC_UPDATE:
        if (has & PT_BIT(PT_CATEGORY))
            merge_lww_str(r, F_CATEGORY, s, pl->category);
        if (has & PT_BIT(PT_PRIORITY))
            merge_lww_u8(r, F_PRIORITY, s, pl->priority);
        if (has & PT_BIT(PT_LAT))
            merge_lww_pos(r, F_LOCATION, s, pl->lat, pl->lon);
        if (has & PT_BIT(PT_ADDRESS))
            merge_lww_str(r, F_ADDRESS, s, pl->address);
        if (has & (PT_BIT(PT_CALLER) | PT_BIT(PT_SEALED)))
            merge_caller(r, s, pl);
        if (has & PT_BIT(PT_DESC))
            merge_lww_str(r, F_DESC, s, pl->desc);
        tl_kind = TL_UPDATE;
        payload_summary(pl, text, sizeof text);
        break;
    case OP_INC_NOTE:
        tl_kind = TL_NOTE;
        text[0] = '\0'; /* referenced, not copied: see tl_add */
        break;
    case OP_INC_MERGE: {
        /* the first merge by stamp wins: two dispatchers who folded one
         * incident into two others agree on every node (docs/workflow.md §3c) */
        uint8_t into[FM_PK_LEN + 8];
        char into_id[FM_ID_MAX];
        memcpy(into, pl->ref2.author, FM_PK_LEN);
        fm_be64_put(into + FM_PK_LEN, pl->ref2.seq);
        model_merge_min(r, F_MERGED, s, into, sizeof into);
        fm_op_id_format(pl->ref2.author, pl->ref2.seq, into_id);
        snprintf(text, sizeof text, "merged into %s%s%.900s", into_id, pl->text[0] ? ": " : "",
                 pl->text);
        tl_kind = TL_STATUS;
        break;
    }
    case OP_INC_STATUS: {
        uint8_t st[5];
        fm_be32_put(st, pl->epoch);
        st[4] = pl->stage;
        merge_max(r, F_STATUS, s, st, sizeof st);
        tl_kind = TL_STATUS;
        if (pl->epoch > 0)
            snprintf(text, sizeof text, "%s epoch %u",
                     fm_stage_name((enum fm_incident_stage)pl->stage), pl->epoch);
        else
            snprintf(text, sizeof text, "%s", fm_stage_name((enum fm_incident_stage)pl->stage));
        break;
    }
    default:
        return FM_EINVAL;
    }
    bool added;
    int rc = tl_add(t, id, op, tl_kind, text, &added);
    if (rc == FM_OK && added)
        model_merge_add(r, F_NNOTES, 1, 4);
    return rc;
}

/* ---- a unit's names (docs/workflow.md §1c) ---- */

#define UNIT_NAME_KEY_MAX (2 + FM_ID_MAX + FM_DEPT_CLAIM_LEN + FM_NAME_MAX)

static size_t unit_name_key(uint8_t key[UNIT_NAME_KEY_MAX], const char *id, const char *prefix,
                            const char *name)
{
    size_t il = strnlen(id, FM_ID_MAX - 1), pl = strlen(prefix),
           nl = strnlen(name, FM_NAME_MAX - 1);
    key[0] = ENT_UNIT_NAME;
    memcpy(key + 1, id, il);
    key[1 + il] = 0;
    memcpy(key + 2 + il, prefix, pl);
    memcpy(key + 2 + il + pl, name, nl);
    return 2 + il + pl + nl;
}

/* A keyed unit's registration adds its name and its department (as the
 * claim a station of that department makes) to its set. */
static int unit_names_add(struct store_txn *t, const char *id, const struct payload *pl)
{
    static const uint8_t val[3] = {RAW_VERSION, ENT_UNIT_NAME, 0};
    uint8_t key[UNIT_NAME_KEY_MAX];
    int rc = store_put(t, DB_ENTITIES, key, unit_name_key(key, id, "", pl->name), val,
                       sizeof val, false);
    if (rc == FM_OK)
        rc = store_put(t, DB_ENTITIES, key,
                       unit_name_key(key, id, FM_DEPT_CLAIM, pl->department), val, sizeof val,
                       false);
    return rc;
}

static bool field_is(const struct model_field_val *f, const char *s)
{
    size_t n = strlen(s);
    return f->set && f->len == n && memcmp(f->val, s, n) == 0;
}

int model_unit_claim(struct store_txn *t, const char *id, const struct model_rec *r,
                     const char *name, bool *holds, bool *wait)
{
    *holds = false;
    *wait = false;
    if (!r->f[F_NAME].set) {
        *wait = true; /* not registered here yet */
        return FM_OK;
    }
    /* a station acting for every unit of its department claims "dept:D" */
    const bool dept = strncmp(name, FM_DEPT_CLAIM, FM_DEPT_CLAIM_LEN) == 0;
    if (field_is(&r->f[dept ? F_DEPT : F_NAME], dept ? name + FM_DEPT_CLAIM_LEN : name)) {
        *holds = true;
        return FM_OK;
    }
    if (!r->f[F_UKEY].set)
        return FM_OK; /* its name and department never change: another unit's */
    if (!dept && field_is(&r->f[F_UKEY], name)) {
        *holds = true;
        return FM_OK;
    }
    uint8_t key[UNIT_NAME_KEY_MAX];
    const uint8_t *v;
    size_t vlen;
    int rc = store_get(t, DB_ENTITIES, key, unit_name_key(key, id, "", name), &v, &vlen);
    if (rc == FM_OK)
        *holds = true;
    else if (rc == FM_ENOTFOUND)
        *wait = true; /* a later registration may give it that name */
    return rc == FM_ENOTFOUND ? FM_OK : rc;
}

static int apply_unit(const struct fm_op *op, const struct payload *pl, const struct model_stamp *s,
                      struct model_rec *r)
{
    switch (pl->log.kind) {
    case OP_UNIT_REGISTER: {
        /* the entity's full ref: the op's, or a directory unit's derived one */
        const bool dir = (pl->present & PT_BIT(PT_REF)) != 0;
        uint8_t created[FM_PK_LEN + 8];
        memcpy(created, dir ? pl->ref.author : op->author, FM_PK_LEN);
        fm_be64_put(created + FM_PK_LEN, dir ? pl->ref.seq : op->seq);
        model_merge_lww(r, F_CREATED, s, created, sizeof created);
        merge_lww_str(r, F_NAME, s, pl->name);
        merge_lww_str(r, F_DEPT, s, pl->department);
        merge_lww_u8(r, F_TIER, s, pl->tier);
        merge_lww_str(r, F_UKIND, s, pl->unit_kind);
        merge_lww_str(r, F_CAPS, s, pl->caps);
        if (pl->present & PT_BIT(PT_KEY))
            merge_lww_str(r, F_UKEY, s, pl->key);
        if (dir) {
            /* a directory unit (derived id) registered again by another
             * publish: "available" only as the oldest possible status, so
             * a re-registration never undoes a status change */
            static const uint8_t zero[FM_PK_LEN];
            const struct model_stamp z = {.hlc = 0, .author = zero};
            merge_lww_u8(r, F_USTATUS, &z, US_AVAILABLE);
        } else {
            merge_lww_u8(r, F_USTATUS, s, US_AVAILABLE);
        }
        return FM_OK;
    }
    case OP_UNIT_STATUS:
        merge_lww_u8(r, F_USTATUS, s, pl->unit_status);
        return FM_OK;
    case OP_UNIT_POSITION:
        merge_lww_pos(r, F_POSITION, s, pl->lat, pl->lon);
        return FM_OK;
    default:
        return FM_EINVAL;
    }
}

static int apply_resource(struct store_txn *t, const struct fm_op *op, const struct payload *pl,
                          const struct model_stamp *s, struct model_rec *r, const char *id)
{
    uint64_t p = 0, n = 0;
    if (pl->log.kind == OP_RES_ADD) {
        uint8_t created[FM_PK_LEN + 8];
        memcpy(created, op->author, FM_PK_LEN);
        fm_be64_put(created + FM_PK_LEN, op->seq);
        model_merge_lww(r, F_CREATED, s, created, sizeof created);
        merge_lww_str(r, F_RKIND, s, pl->res_kind);
        merge_lww_str(r, F_DEPOT, s, pl->depot);
        p = (uint64_t)pl->qty;
    } else if (pl->log.kind == OP_RES_ADJUST) {
        if (pl->delta > 0)
            p = (uint64_t)pl->delta;
        else
            n = (uint64_t)(-pl->delta); /* |delta| <= FM_QTY_MAX: no overflow */
    } else {
        return FM_EINVAL;
    }
    model_merge_add(r, F_PTOTAL, p, 8);
    model_merge_add(r, F_NTOTAL, n, 8);
    return counter_add(t, id, op->author, p, n);
}

int model_apply(struct store_txn *t, const struct fm_op *op, const struct payload *pl,
                model_apply_fn reapply)
{
    uint8_t kind;
    bool own_id;
    switch (pl->log.kind) {
    case OP_CERT:
    case OP_REVOKE:
    case OP_CERT_RENEW:    /* moves the author's head (node_op_store) */
    case OP_GROUP_KEY:     /* indexed for this node's reads (node_op_store) */
    case OP_CERT_ANNOUNCE: /* indexed for admission (node_op_store, announce.c) */
    case OP_FORK_EVIDENCE: /* applied to the fork records by its writer (fork.c) */
        return FM_OK;
    case OP_INC_REPORT: kind = FM_ENT_INCIDENT, own_id = true; break;
    case OP_INC_UPDATE:
    case OP_INC_NOTE:
    case OP_INC_STATUS:
    case OP_INC_MERGE: kind = FM_ENT_INCIDENT, own_id = false; break;
    case OP_UNIT_REGISTER: kind = FM_ENT_UNIT, own_id = true; break;
    case OP_UNIT_STATUS:
    case OP_UNIT_POSITION: kind = FM_ENT_UNIT, own_id = false; break;
    case OP_RES_ADD: kind = FM_ENT_RESOURCE, own_id = true; break;
    case OP_RES_ADJUST: kind = FM_ENT_RESOURCE, own_id = false; break;
    default: /* the workflow's kinds go to workflow_apply (domain.c) */
        return FM_EINVAL;
    }
    char id[FM_ID_MAX];
    if (own_id && !(pl->log.kind == OP_UNIT_REGISTER && (pl->present & PT_BIT(PT_REF))))
        fm_op_id_format(op->author, op->seq, id);
    else
        fm_op_id_format(pl->ref.author, pl->ref.seq, id);

    struct model_rec r;
    struct inc_idx before, after;
    const struct model_stamp s = {
        .hlc = op->hlc, .eff = model_eff(op->hlc, pl->log.base), .author = op->author};
    int rc = model_rec_load(t, kind, id, &r);
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return rc;
    if (kind == FM_ENT_INCIDENT)
        idx_compute(&r, id, &before);
    if (kind == FM_ENT_UNIT && pl->log.kind != OP_UNIT_REGISTER && (pl->present & PT_BIT(PT_NAME))) {
        /* a claim by the unit's name (a station's or vehicle's, workflow.md
         * §4): judged against the names it is registered under, waiting for
         * them (park.c) */
        bool holds, wait;
        if ((rc = model_unit_claim(t, id, &r, pl->name, &holds, &wait)) != FM_OK)
            return rc;
        if (wait)
            return park_put(t, kind, id, op);
        if (!holds)
            return FM_OK; /* another unit's: ignored on every node alike */
    }

    if (pl->log.kind == OP_RES_ADJUST && (pl->present & PT_BIT(PT_DEPOT))) {
        /* a unit's claim that the depot is its own (permit.c): judged
         * against the stock's depot, waiting for it (park.c) */
        bool go;
        if ((rc = park_depot_judge(t, op, id, pl->depot, &go)) != FM_OK || !go)
            return rc;
    }

    if (kind == FM_ENT_INCIDENT)
        rc = apply_incident(t, op, pl, &s, &r, id);
    else if (kind == FM_ENT_UNIT)
        rc = apply_unit(op, pl, &s, &r);
    else
        rc = apply_resource(t, op, pl, &s, &r, id);
    if (rc != FM_OK)
        return rc;
    model_merge_max_u64(&r, F_UPDATED, op->hlc);

    if ((rc = model_rec_store(t, kind, id, &r)) != FM_OK)
        return rc;
    if (kind == FM_ENT_INCIDENT) {
        idx_compute(&r, id, &after);
        rc = idx_update(t, &before, &after);
    }
    if (rc == FM_OK && pl->log.kind == OP_UNIT_REGISTER && (pl->present & PT_BIT(PT_KEY)))
        rc = unit_names_add(t, id, pl);
    if (rc == FM_OK && (pl->log.kind == OP_UNIT_REGISTER || pl->log.kind == OP_RES_ADD))
        rc = park_release(t, kind, id, reapply); /* ops that waited for the name or depot */
    return rc;
}

int model_node_unit_claim(struct fm_node *n, const char *id, const char *name, bool *holds)
{
    struct store_txn *t;
    struct model_rec *r = malloc(sizeof *r);
    bool wait;
    int rc;
    *holds = false;
    if (r == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) == FM_OK) {
        rc = model_rec_load(t, FM_ENT_UNIT, id, r);
        if (rc == FM_OK)
            rc = model_unit_claim(t, id, r, name, holds, &wait);
        store_txn_abort(&t);
    }
    free(r);
    return rc == FM_ENOTFOUND ? FM_OK : rc;
}

/* ---- linkage workflow: an op of another kind touching an incident ---- */

int model_incident_touch(struct store_txn *t, const struct fm_op *op,
                         const struct payload_ref *inc, uint8_t tl_kind, const char *text,
                         bool with_stage, uint32_t epoch, uint8_t stage)
{
    char id[FM_ID_MAX];
    struct model_rec *r = malloc(sizeof *r);
    struct inc_idx before, after;
    const struct model_stamp s = {.hlc = op->hlc, .author = op->author};
    bool added;
    int rc;
    if (r == NULL)
        return FM_ENOMEM;
    fm_op_id_format(inc->author, inc->seq, id);
    rc = model_rec_load(t, FM_ENT_INCIDENT, id, r);
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        goto out_rec;
    idx_compute(r, id, &before);
    if (with_stage) {
        uint8_t st[5];
        fm_be32_put(st, epoch);
        st[4] = stage;
        merge_max(r, F_STATUS, &s, st, sizeof st);
    }
    if ((rc = tl_add(t, id, op, tl_kind, text, &added)) != FM_OK)
        goto out_rec;
    if (added)
        model_merge_add(r, F_NNOTES, 1, 4);
    model_merge_max_u64(r, F_UPDATED, op->hlc);
    if ((rc = model_rec_store(t, FM_ENT_INCIDENT, id, r)) == FM_OK) {
        idx_compute(r, id, &after);
        rc = idx_update(t, &before, &after);
    }
out_rec:
    free(r);
    return rc;
}

int model_clear(struct store_txn *t)
{
    static const enum store_db dbs[] = {DB_ENTITIES, DB_TIMELINE, DB_COUNTERS,
                                        DB_IDX_STATUS, DB_IDX_CATEGORY, DB_IDX_TIME};
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        int rc = store_clear(t, dbs[i]);
        if (rc != FM_OK)
            return rc;
    }
    return FM_OK;
}
