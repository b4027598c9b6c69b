/*
 * model_rec.c — the canonical byte encoding of entity records and the
 * conversions from records to the public structs of model.h.
 *
 * A record encodes as `u8 version | u8 kind` followed by its set fields in
 * ascending tag order, each `u8 tag | u64 hlc | author[32] | u16 len |
 * value` (version 1). When some field was won by an op whose effective
 * stamp exceeds its hlc (causal LWW, model_base.c), the record is version
 * 2 and every field carries `u64 eff` after its hlc; otherwise it stays
 * version 1, byte for byte what the build before causal LWW wrote, so
 * those stores keep their digest. The same state always gives the same
 * bytes, which is what lets the state digest compare replicas. Records come back from disk, so they
 * are decoded as strictly as anything from the network: a bad record is
 * FM_ESTORE, never an assert.
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_VERSION 1
#define REC_VERSION_EFF 2 /* every field also carries its effective stamp */

void model_rec_init(struct model_rec *r, uint8_t kind)
{
    r->kind = kind;
    for (int i = 0; i <= F__MAX; i++) {
        r->f[i].set = false;
        r->f[i].len = 0;
        r->f[i].hlc = 0;
        r->f[i].eff = 0;
    }
}

int model_rec_decode(struct model_rec *r, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    uint8_t version, kind;
    fm_cur_init(&c, p, n);
    if (fm_cur_u8(&c, &version) || fm_cur_u8(&c, &kind) ||
        (version != REC_VERSION && version != REC_VERSION_EFF))
        return FM_ESTORE;
    model_rec_init(r, kind);
    const bool with_eff = version == REC_VERSION_EFF;
    bool raised = false;
    unsigned last = 0;
    while (fm_cur_left(&c) > 0) {
        uint8_t tag;
        uint16_t len;
        uint64_t hlc, eff = 0;
        struct model_field_val *f;
        if (fm_cur_u8(&c, &tag) || tag <= last || tag > F__MAX)
            return FM_ESTORE;
        f = &r->f[tag];
        if (fm_cur_u64(&c, &hlc) || (with_eff && fm_cur_u64(&c, &eff)) ||
            fm_cur_copy(&c, f->author, FM_PK_LEN) || fm_cur_u16(&c, &len) ||
            len > MODEL_VAL_MAX || fm_cur_copy(&c, f->val, len))
            return FM_ESTORE;
        if (!with_eff)
            eff = hlc;
        if (eff < hlc)
            return FM_ESTORE;
        raised = raised || eff != hlc;
        f->set = true;
        f->hlc = hlc;
        f->eff = eff;
        f->len = len;
        last = tag;
    }
    return with_eff && !raised ? FM_ESTORE : FM_OK; /* one encoding per state */
}

/* Version 2: some field's effective stamp differs from its hlc. */
static int rec_encode_eff(const struct model_rec *r, struct fm_buf *out)
{
    int rc;
    if ((rc = fm_buf_put_u8(out, REC_VERSION_EFF)) || (rc = fm_buf_put_u8(out, r->kind)))
        return rc;
    for (unsigned tag = 1; tag <= F__MAX; tag++) {
        const struct model_field_val *f = &r->f[tag];
        if (!f->set)
            continue;
        if ((rc = fm_buf_put_u8(out, (uint8_t)tag)) || (rc = fm_buf_put_u64(out, f->hlc)) ||
            (rc = fm_buf_put_u64(out, f->eff)) ||
            (rc = fm_buf_append(out, f->author, FM_PK_LEN)) ||
            (rc = fm_buf_put_u16(out, f->len)) || (rc = fm_buf_append(out, f->val, f->len)))
            return rc;
    }
    return FM_OK;
}

int model_rec_encode(const struct model_rec *r, struct fm_buf *out)
{
    int rc;
    size_t need = 2;
    bool with_eff = false;
    fm_buf_reset(out);
    for (unsigned tag = 1; tag <= F__MAX; tag++)
        if (r->f[tag].set) {
            need += 1 + 8 + FM_PK_LEN + 2 + r->f[tag].len;
            with_eff = with_eff || r->f[tag].eff != r->f[tag].hlc;
        }
    if (with_eff)
        return rec_encode_eff(r, out);
    if (out->cap >= need) {
        /* the usual case (rec_store's buffer fits any record): one pass of
         * stores, as every record is re-encoded on each op applied to it */
        uint8_t *p = out->data;
        *p++ = REC_VERSION;
        *p++ = r->kind;
        for (unsigned tag = 1; tag <= F__MAX; tag++) {
            const struct model_field_val *f = &r->f[tag];
            if (!f->set)
                continue;
            *p++ = (uint8_t)tag;
            fm_be64_put(p, f->hlc);
            memcpy(p + 8, f->author, FM_PK_LEN);
            p += 8 + FM_PK_LEN;
            *p++ = (uint8_t)(f->len >> 8);
            *p++ = (uint8_t)f->len;
            memcpy(p, f->val, f->len);
            p += f->len;
        }
        out->len = need;
        return FM_OK;
    }
    if ((rc = fm_buf_put_u8(out, REC_VERSION)) || (rc = fm_buf_put_u8(out, r->kind)))
        return rc;
    for (unsigned tag = 1; tag <= F__MAX; tag++) {
        const struct model_field_val *f = &r->f[tag];
        if (!f->set)
            continue;
        if ((rc = fm_buf_put_u8(out, (uint8_t)tag)) || (rc = fm_buf_put_u64(out, f->hlc)) ||
            (rc = fm_buf_append(out, f->author, FM_PK_LEN)) ||
            (rc = fm_buf_put_u16(out, f->len)) || (rc = fm_buf_append(out, f->val, f->len)))
            return rc;
    }
    return FM_OK;
}

size_t model_ent_key(uint8_t kind, const char *id, uint8_t key[1 + FM_ID_MAX])
{
    size_t n = strnlen(id, FM_ID_MAX - 1);
    key[0] = kind;
    memcpy(key + 1, id, n);
    return 1 + n;
}

int model_rec_load(struct store_txn *t, uint8_t kind, const char *id, struct model_rec *r)
{
    uint8_t key[1 + FM_ID_MAX];
    size_t klen = model_ent_key(kind, id, key);
    const uint8_t *v;
    size_t vlen;
    int rc = store_get(t, DB_ENTITIES, key, klen, &v, &vlen);
    if (rc != FM_OK) {
        model_rec_init(r, kind);
        return rc;
    }
    rc = model_rec_decode(r, v, vlen);
    if (rc == FM_OK && r->kind != kind)
        rc = FM_ESTORE;
    return rc;
}

/* ---- field readers (lengths checked: records are disk bytes) ---- */

static void rec_str(const struct model_rec *r, unsigned tag, char *out, size_t cap)
{
    const struct model_field_val *f = &r->f[tag];
    size_t n = f->set ? f->len : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, f->val, n);
    out[n] = '\0';
}

static uint64_t rec_uint(const struct model_rec *r, unsigned tag)
{
    const struct model_field_val *f = &r->f[tag];
    if (!f->set)
        return 0;
    switch (f->len) {
    case 1: return f->val[0];
    case 4: return fm_be32_get(f->val);
    case 8: return fm_be64_get(f->val);
    default: return 0;
    }
}

static bool rec_pos(const struct model_rec *r, unsigned tag, int32_t *lat, int32_t *lon)
{
    const struct model_field_val *f = &r->f[tag];
    if (!f->set || f->len != 8)
        return false;
    *lat = (int32_t)fm_be32_get(f->val);
    *lon = (int32_t)fm_be32_get(f->val + 4);
    return true;
}

static int rec_creator(const struct model_rec *r, char out[FM_KEY_TEXT_LEN], uint64_t *hlc)
{
    const struct model_field_val *f = &r->f[F_CREATED];
    if (!f->set || f->len != FM_PK_LEN + 8)
        return FM_ENOTFOUND;
    fm_key_encode(f->val, out);
    *hlc = f->hlc;
    return FM_OK;
}

int model_rec_to_incident(const struct model_rec *r, const char *id, struct fm_incident *out)
{
    memset(out, 0, sizeof *out);
    if (r->kind != FM_ENT_INCIDENT || rec_creator(r, out->reporter, &out->reported_hlc) != FM_OK)
        return FM_ENOTFOUND;
    fm_strlcpy(out->id, id, sizeof out->id);
    rec_str(r, F_CATEGORY, out->category, sizeof out->category);
    out->priority = (uint8_t)rec_uint(r, F_PRIORITY);
    const struct model_field_val *st = &r->f[F_STATUS];
    if (st->set && st->len == 5) {
        out->epoch = fm_be32_get(st->val);
        out->stage = st->val[4] <= FM_STAGE_CLOSED ? (enum fm_incident_stage)st->val[4]
                                                   : FM_STAGE_CLOSED;
    }
    rec_pos(r, F_LOCATION, &out->lat_e7, &out->lon_e7);
    rec_str(r, F_ADDRESS, out->address, sizeof out->address);
    if (r->f[F_CALLER].set && r->f[F_CALLER].len > 0 &&
        r->f[F_CALLER].val[0] == MODEL_SEALED_MARK)
        out->caller_state = FM_CALLER_SEALED; /* opened by model_incident_unseal */
    else
        rec_str(r, F_CALLER, out->caller, sizeof out->caller);
    rec_str(r, F_DESC, out->desc, sizeof out->desc);
    out->updated_hlc = rec_uint(r, F_UPDATED);
    out->nnotes = (uint32_t)rec_uint(r, F_NNOTES);
    return FM_OK;
}

int model_rec_to_unit(const struct model_rec *r, const char *id, struct fm_unit *out)
{
    char creator[FM_KEY_TEXT_LEN];
    uint64_t created_hlc;
    memset(out, 0, sizeof *out);
    if (r->kind != FM_ENT_UNIT || rec_creator(r, creator, &created_hlc) != FM_OK)
        return FM_ENOTFOUND;
    fm_strlcpy(out->id, id, sizeof out->id);
    rec_str(r, F_NAME, out->name, sizeof out->name);
    rec_str(r, F_DEPT, out->department, sizeof out->department);
    out->tier = (uint8_t)rec_uint(r, F_TIER);
    rec_str(r, F_UKIND, out->kind, sizeof out->kind);
    rec_str(r, F_CAPS, out->capabilities, sizeof out->capabilities);
    rec_str(r, F_UKEY, out->key, sizeof out->key);
    fm_strlcpy(out->status, unit_status_name((unsigned)rec_uint(r, F_USTATUS)),
               sizeof out->status);
    out->has_position = rec_pos(r, F_POSITION, &out->lat_e7, &out->lon_e7);
    if (out->has_position)
        out->position_hlc = r->f[F_POSITION].hlc;
    out->updated_hlc = rec_uint(r, F_UPDATED);
    return FM_OK;
}

int model_rec_to_resource(const struct model_rec *r, const char *id, struct fm_resource *out)
{
    char creator[FM_KEY_TEXT_LEN];
    uint64_t created_hlc;
    memset(out, 0, sizeof *out);
    if (r->kind != FM_ENT_RESOURCE || rec_creator(r, creator, &created_hlc) != FM_OK)
        return FM_ENOTFOUND;
    fm_strlcpy(out->id, id, sizeof out->id);
    rec_str(r, F_RKIND, out->kind, sizeof out->kind);
    rec_str(r, F_DEPOT, out->depot, sizeof out->depot);
    /* Sums are kept mod 2^64; their difference read as two's complement is
     * the quantity (exact while it fits in int64). */
    uint64_t q = rec_uint(r, F_PTOTAL) - rec_uint(r, F_NTOTAL);
    memcpy(&out->quantity, &q, sizeof q);
    out->updated_hlc = rec_uint(r, F_UPDATED);
    out->void_changes = (uint32_t)rec_uint(r, F_RVOID);
    return FM_OK;
}

int model_op_load(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                  uint8_t *kind, struct payload *pl)
{
    uint8_t key[FM_PK_LEN + 8];
    const uint8_t *raw;
    size_t rawlen;
    struct fm_op op;
    node_op_key(author, seq, key);
    int rc = store_get(t, DB_OPS, key, sizeof key, &raw, &rawlen);
    if (rc == FM_ENOTFOUND)
        return FM_ESTORE; /* every timeline entry has its op */
    if (rc != FM_OK)
        return rc;
    if (fm_op_decode(&op, raw, rawlen) != FM_OK ||
        payload_decode(pl, op.kind, op.payload, op.payload_len) != FM_OK)
        return FM_ESTORE;
    *kind = op.kind;
    return FM_OK;
}

int model_op_operator(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                      char *out)
{
    uint8_t kind;
    struct payload *pl = malloc(sizeof *pl);
    out[0] = '\0';
    if (pl == NULL)
        return FM_ENOMEM;
    int rc = model_op_load(t, author, seq, &kind, pl);
    if (rc == FM_OK && (pl->present & PT_BIT(PT_OPERATOR)))
        fm_strlcpy(out, pl->log.operator_name, FM_OP_OPERATOR_MAX);
    free(pl);
    return rc;
}

/* The text of the note op (author, seq) into e->text, its operator into
 * e->operator_name: one read of the op. */
static int tl_note_text(struct store_txn *t, const uint8_t *author, uint64_t seq,
                        struct fm_timeline_entry *e)
{
    uint8_t kind;
    struct payload *pl = malloc(sizeof *pl);
    if (pl == NULL)
        return FM_ENOMEM;
    int rc = model_op_load(t, author, seq, &kind, pl);
    if (rc == FM_OK && kind != OP_INC_NOTE)
        rc = FM_ESTORE;
    if (rc == FM_OK) {
        fm_strlcpy(e->text, pl->text, sizeof e->text);
        fm_strlcpy(e->operator_name, pl->log.operator_name, sizeof e->operator_name);
    }
    free(pl);
    return rc;
}

size_t model_tl_prefix(uint8_t *out, uint8_t kind, const char *id)
{
    size_t idlen = strnlen(id, FM_ID_MAX - 1);
    out[0] = kind;
    memcpy(out + 1, id, idlen);
    out[1 + idlen] = 0;
    return idlen + 2;
}

int model_tl_decode(struct store_txn *t, const uint8_t *key, size_t klen, const uint8_t *val,
                    size_t vlen, struct fm_timeline_entry *e)
{
    static const char *const names[] = {"?",        "report",   "note",       "status",
                                        "update",   "dispatch", "ticket",     "escalation",
                                        "material", "feedback"};
    memset(e, 0, sizeof *e);
    const uint8_t *nul =
        klen > 1 && key[0] == FM_ENT_INCIDENT ? memchr(key + 1, 0, klen - 1) : NULL;
    if (nul == NULL || (size_t)(key + klen - nul) != 1 + 8 + FM_PK_LEN + 8 || vlen < 1 ||
        vlen - 1 >= sizeof e->text || val[0] < TL_REPORT || val[0] > TL__MAX)
        return FM_ESTORE;
    e->hlc = fm_be64_get(nul + 1);
    fm_key_encode(nul + 9, e->author);
    e->seq = fm_be64_get(nul + 9 + FM_PK_LEN);
    fm_strlcpy(e->kind, names[val[0]], sizeof e->kind);
    if (val[0] == TL_NOTE)
        return vlen == 1 ? tl_note_text(t, nul + 9, e->seq, e) : FM_ESTORE;
    memcpy(e->text, val + 1, vlen - 1);
    e->text[vlen - 1] = '\0';
    return model_op_operator(t, nul + 9, e->seq, e->operator_name);
}

_Static_assert(sizeof(((struct fm_timeline_entry *)0)->operator_name) == FM_OP_OPERATOR_MAX,
               "a timeline entry holds any PT_OPERATOR");
