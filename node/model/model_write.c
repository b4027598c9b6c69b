/*
 * model_write.c — the fm_node_* calls that author incident, unit and
 * resource ops.
 *
 * Each validates the user's input (FM_EINVAL), fills a payload and hands
 * it to the replica's write path (node_write_run, node/replica/
 * node_write.c), which signs and stores it in one LMDB write transaction.
 * Writes that name an entity resolve the id and check the entity's state
 * in a `prepare` step the write path runs inside that same transaction,
 * so "consume 5 when 5 are left" cannot race another writer on this
 * store; the prepare step also asks the role rules (permit.c) first, so a
 * refusal by role says so rather than "not in that state".
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- prepare steps ---- */

/* Resolves w->target to an existing entity and sets pl->ref; the record is
 * left in *r for state checks. */
static int prep_ref(struct write_prep *w, struct store_txn *t, enum fm_entity_kind kind,
                    struct payload *pl, struct model_rec *r)
{
    char id[FM_ID_MAX];
    int rc = node_resolve_txn(t, kind, w->target, id);
    if (rc != FM_OK)
        return rc;
    if ((rc = model_rec_load(t, (uint8_t)kind, id, r)) != FM_OK)
        return rc;
    const struct model_field_val *f = &r->f[F_CREATED];
    if (!f->set || f->len != FM_PK_LEN + 8)
        return FM_ENOTFOUND;
    memcpy(pl->ref.author, f->val, FM_PK_LEN);
    pl->ref.seq = fm_be64_get(f->val + FM_PK_LEN);
    pl->present |= PT_BIT(PT_REF);
    return FM_OK;
}

/* The verdict ingest will give (permit.c), before any state check, so a
 * refusal by role says so rather than "not in that state". */
static int prep_permitted(struct write_prep *w, struct store_txn *t, const struct payload *pl)
{
    struct node_head h;
    int rc = node_head_get(t, w->n->id.pk, &h);
    return rc != FM_OK ? rc : workflow_permitted(&h, w->n->id.pk, pl);
}

static int prep_incident(struct write_prep *w, struct store_txn *t, struct log_payload *lp)
{
    struct payload *pl = payload_of(lp);
    struct model_rec *r = malloc(sizeof *r);
    if (r == NULL)
        return FM_ENOMEM;
    int rc = prep_ref(w, t, FM_ENT_INCIDENT, pl, r);
    if (rc == FM_OK)
        rc = prep_permitted(w, t, pl);
    if (rc == FM_OK && pl->log.kind == OP_INC_STATUS) {
        struct fm_incident cur;
        bool reopen = pl->epoch != 0; /* caller's marker, replaced below */
        if ((rc = model_rec_to_incident(r, "", &cur)) == FM_OK) {
            if (reopen) {
                if (cur.stage < FM_STAGE_RESOLVED || cur.epoch == UINT32_MAX)
                    rc = FM_ESTATE;
                pl->epoch = cur.epoch + 1;
                pl->stage = FM_STAGE_NEW;
            } else {
                if ((unsigned)pl->stage <= (unsigned)cur.stage)
                    rc = FM_ESTATE;
                pl->epoch = cur.epoch;
            }
        }
    }
    free(r);
    return rc;
}

static int prep_unit(struct write_prep *w, struct store_txn *t, struct log_payload *lp)
{
    struct payload *pl = payload_of(lp);
    const struct fm_cert *c = &w->n->cert;
    struct model_rec *r = malloc(sizeof *r);
    if (r == NULL)
        return FM_ENOMEM;
    int rc = prep_ref(w, t, FM_ENT_UNIT, pl, r);
    /* a station or vehicle whose certificate names its unit by name says
     * so (the claim ingest checks; apply holds it against the unit's
     * registered name: docs/workflow.md §4) */
    bool holds = false, wait;
    if (rc == FM_OK && !model_role_any_unit(c->role) && c->unit[0] != '\0') {
        char id[FM_ID_MAX];
        fm_op_id_format(pl->ref.author, pl->ref.seq, id);
        rc = model_unit_claim(t, id, r, c->unit, &holds, &wait);
    }
    if (rc == FM_OK && holds) {
        fm_strlcpy(pl->name, c->unit, sizeof pl->name);
        pl->present |= PT_BIT(PT_NAME);
    }
    free(r);
    return rc;
}

static int prep_resource(struct write_prep *w, struct store_txn *t, struct log_payload *lp)
{
    struct payload *pl = payload_of(lp);
    struct model_rec *r = malloc(sizeof *r);
    struct fm_resource res;
    if (r == NULL)
        return FM_ENOMEM;
    int rc = prep_ref(w, t, FM_ENT_RESOURCE, pl, r);
    if (rc == FM_OK && (rc = model_rec_to_resource(r, "", &res)) == FM_OK &&
        prep_permitted(w, t, pl) == FM_EPERM && w->n->cert.unit[0] != '\0' &&
        strcmp(res.depot, w->n->cert.unit) == 0) {
        /* the stock of our unit's depot: say so (permit.c) */
        fm_strlcpy(pl->depot, res.depot, sizeof pl->depot);
        pl->present |= PT_BIT(PT_DEPOT);
    }
    if (rc == FM_OK)
        rc = prep_permitted(w, t, pl);
    if (rc == FM_OK && pl->delta < 0 && res.quantity + pl->delta < 0)
        rc = FM_ESTATE;
    free(r);
    return rc;
}

/* ---- input checks ---- */

static bool coords_ok(int32_t lat, int32_t lon)
{
    return lat >= -FM_LAT_MAX && lat <= FM_LAT_MAX && lon >= -FM_LON_MAX && lon <= FM_LON_MAX;
}

/* Copies an optional text field; empty or NULL stays absent. */
static int opt_text(struct payload *pl, enum payload_tag tag, char *dst, size_t cap,
                    const char *src)
{
    if (src == NULL || src[0] == '\0')
        return FM_OK;
    if (!payload_text_ok(src, 1, cap - 1) || fm_strlcpy(dst, src, cap) != FM_OK)
        return FM_EINVAL;
    pl->present |= PT_BIT(tag);
    return FM_OK;
}

static int req_text(struct payload *pl, enum payload_tag tag, char *dst, size_t cap,
                    const char *src)
{
    if (src == NULL || src[0] == '\0')
        return FM_EINVAL;
    return opt_text(pl, tag, dst, cap, src);
}

static struct payload *payload_new(uint8_t kind)
{
    struct payload *pl = calloc(1, sizeof *pl);
    if (pl != NULL)
        pl->log.kind = kind;
    return pl;
}

static void id_out_set(const struct fm_node *n, uint64_t seq, char id_out[FM_ID_MAX])
{
    if (id_out != NULL)
        fm_op_id_format(n->id.pk, seq, id_out);
}

/* Seals phone and name to the newest dispatcher key this node holds
 * (docs/security.md, "Need to know"): FM_ENOKEY without one, and nothing
 * is put in the payload; the values are never written in clear. */
struct seal_ctx {
    const struct fm_node *n;
    const char *phone, *name;
    struct payload *pl;
};

static int seal_with(const struct fm_seal_key *k, void *ctx)
{
    struct seal_ctx *s = ctx;
    return caller_seal(k, s->n->id.pk, s->phone, s->name, s->pl);
}

static int seal_caller(struct fm_node *n, struct payload *pl, const char *phone,
                       const char *name)
{
    struct store_txn *t;
    struct seal_ctx s = {n, phone, name, pl};
    if ((phone == NULL || phone[0] == '\0') && (name == NULL || name[0] == '\0'))
        return FM_OK;
    if ((phone && !payload_text_ok(phone, 0, FM_PHONE_MAX - 1)) ||
        (name && !payload_text_ok(name, 0, FM_CALLER_NAME_MAX - 1)))
        return FM_EINVAL;
    if (!n->has_identity)
        return FM_EINVAL;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    rc = node_groupkey_use(n, t, NULL, NULL, seal_with, &s);
    store_txn_abort(&t);
    return rc;
}

/* An edit that names one of the caller's two values keeps the other as
 * this node reads it now (the sealed caller is replaced whole). */
static int edit_caller(struct fm_node *n, const char *id, const struct fm_incident_edit *e,
                       struct payload *pl)
{
    struct fm_incident cur;
    const char *phone = e->caller, *name = e->caller_name;
    if (phone == NULL && name == NULL)
        return FM_OK;
    if ((phone == NULL || name == NULL) && fm_node_incident_get(n, id, &cur) == FM_OK &&
        cur.caller_state == FM_CALLER_OPENED) {
        if (phone == NULL)
            phone = cur.caller;
        if (name == NULL)
            name = cur.caller_name;
    }
    if ((phone == NULL || phone[0] == '\0') && (name == NULL || name[0] == '\0')) {
        /* clearing both: an empty caller in clear says nothing */
        pl->caller[0] = '\0';
        pl->present |= PT_BIT(PT_CALLER);
        return FM_OK;
    }
    return seal_caller(n, pl, phone, name);
}

/* ---- public writes ---- */

int fm_node_incident_report(struct fm_node *n, const struct fm_incident_new *in,
                            char id_out[FM_ID_MAX])
{
    if (in == NULL || !payload_token_ok(in->category, 1, FM_CATEGORY_MAX - 1) ||
        in->priority > 5 || !coords_ok(in->lat_e7, in->lon_e7))
        return FM_EINVAL;
    struct payload *pl = payload_new(OP_INC_REPORT);
    uint64_t seq = 0;
    int rc;
    if (pl == NULL)
        return FM_ENOMEM;
    fm_strlcpy(pl->category, in->category, sizeof pl->category);
    pl->priority = in->priority ? in->priority : 3;
    pl->lat = in->lat_e7;
    pl->lon = in->lon_e7;
    pl->present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    if ((rc = opt_text(pl, PT_ADDRESS, pl->address, sizeof pl->address, in->address)) ||
        (rc = opt_text(pl, PT_DESC, pl->desc, sizeof pl->desc, in->desc)))
        goto out;
    /* an emergency report is never held back for want of a dispatcher
     * key: without one the caller is left out (fm_node_dispatch_key tells) */
    rc = seal_caller(n, pl, in->caller, in->caller_name);
    if (rc != FM_OK && rc != FM_ENOKEY)
        goto out;
    if ((rc = node_write_run(n, &pl->log, 1, NULL, NULL, &seq, NULL)) == FM_OK)
        id_out_set(n, seq, id_out);
out:
    free(pl);
    return rc;
}

int fm_node_incident_note(struct fm_node *n, const char *id, const char *text)
{
    struct payload *pl = payload_new(OP_INC_NOTE);
    int rc;
    if (pl == NULL)
        return FM_ENOMEM;
    if (id == NULL || (rc = req_text(pl, PT_TEXT, pl->text, sizeof pl->text, text)) != FM_OK)
        rc = FM_EINVAL;
    else
        rc = node_write_run(n, &pl->log, 1, prep_incident, id, NULL, NULL);
    free(pl);
    return rc;
}

int fm_node_incident_edit(struct fm_node *n, const char *id, const struct fm_incident_edit *e)
{
    if (id == NULL || e == NULL || e->priority > 5 ||
        (e->has_location && !coords_ok(e->lat_e7, e->lon_e7)))
        return FM_EINVAL;
    struct payload *pl = payload_new(OP_INC_UPDATE);
    int rc;
    if (pl == NULL)
        return FM_ENOMEM;
    if (e->category != NULL) {
        if (!payload_token_ok(e->category, 1, FM_CATEGORY_MAX - 1)) {
            rc = FM_EINVAL;
            goto out;
        }
        fm_strlcpy(pl->category, e->category, sizeof pl->category);
        pl->present |= PT_BIT(PT_CATEGORY);
    }
    if (e->priority != 0) {
        pl->priority = e->priority;
        pl->present |= PT_BIT(PT_PRIORITY);
    }
    if (e->has_location) {
        pl->lat = e->lat_e7;
        pl->lon = e->lon_e7;
        pl->present |= PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    }
    if ((rc = opt_text(pl, PT_ADDRESS, pl->address, sizeof pl->address, e->address)) ||
        (rc = opt_text(pl, PT_DESC, pl->desc, sizeof pl->desc, e->desc)) ||
        (rc = edit_caller(n, id, e, pl)))
        goto out;
    rc = pl->present == 0 ? FM_EINVAL : node_write_run(n, &pl->log, 1, prep_incident, id, NULL, NULL);
out:
    free(pl);
    return rc;
}

int fm_node_incident_status(struct fm_node *n, const char *id, enum fm_incident_stage stage,
                            bool reopen)
{
    if (id == NULL || (!reopen && ((unsigned)stage > FM_STAGE_CLOSED)))
        return FM_EINVAL;
    struct payload *pl = payload_new(OP_INC_STATUS);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->present = PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
    pl->stage = reopen ? FM_STAGE_NEW : (uint8_t)stage;
    pl->epoch = reopen ? 1 : 0; /* marker for prep_incident */
    int rc = node_write_run(n, &pl->log, 1, prep_incident, id, NULL, NULL);
    free(pl);
    return rc;
}

/* A unit is known by its department and name: a second one (by hand, or
 * by hand next to the directory's) would split its tickets and status
 * between two entities. */
static int prep_unit_new(struct write_prep *w, struct store_txn *t, struct log_payload *lp)
{
    struct payload *pl = payload_of(lp);
    const uint8_t prefix[1] = {FM_ENT_UNIT};
    struct store_each e;
    struct model_rec *r = malloc(sizeof *r);
    size_t nlen = strlen(pl->name), dlen = strlen(pl->department);
    int rc;
    if (r == NULL)
        return FM_ENOMEM;
    rc = store_each_prefix(&e, t, DB_ENTITIES, prefix, 1);
    while (rc == FM_OK && store_each_next(&e, &rc)) {
        const struct store_kv *kv = &e.kv;
        const struct model_field_val *fn = &r->f[F_NAME], *fd = &r->f[F_DEPT];
        if (kv->klen - 1 >= FM_ID_MAX || model_rec_decode(r, kv->val, kv->vlen) != FM_OK ||
            r->kind != FM_ENT_UNIT || !model_rec_exists(r))
            continue;
        if (fn->set && fn->len == nlen && memcmp(fn->val, pl->name, nlen) == 0 && fd->set &&
            fd->len == dlen && memcmp(fd->val, pl->department, dlen) == 0) {
            memcpy(w->found, kv->key + 1, kv->klen - 1);
            w->found[kv->klen - 1] = '\0';
            rc = FM_EEXISTS;
        }
    }
    store_each_end(&e);
    free(r);
    return rc;
}

int fm_node_unit_register(struct fm_node *n, const struct fm_unit_new *in,
                          char id_out[FM_ID_MAX])
{
    if (in == NULL || in->tier < 1 || in->tier > 3 ||
        (in->name != NULL && strncmp(in->name, FM_DEPT_CLAIM, FM_DEPT_CLAIM_LEN) == 0))
        return FM_EINVAL; /* "dept:" names a station's department claim */
    struct payload *pl = payload_new(OP_UNIT_REGISTER);
    uint64_t seq = 0;
    int rc;
    if (pl == NULL)
        return FM_ENOMEM;
    pl->tier = in->tier;
    pl->present = PT_BIT(PT_TIER);
    if ((rc = req_text(pl, PT_NAME, pl->name, sizeof pl->name, in->name)) ||
        (rc = req_text(pl, PT_DEPARTMENT, pl->department, sizeof pl->department,
                       in->department)) ||
        (rc = req_text(pl, PT_UNIT_KIND, pl->unit_kind, sizeof pl->unit_kind, in->kind)) ||
        (rc = payload_caps_canonical(in->capabilities, pl->caps, sizeof pl->caps)))
        goto out;
    if (pl->caps[0])
        pl->present |= PT_BIT(PT_CAPS);
    if ((rc = node_write_run(n, &pl->log, 1, prep_unit_new, NULL, &seq, id_out)) == FM_OK)
        id_out_set(n, seq, id_out);
out:
    free(pl);
    return rc;
}

int fm_node_unit_status(struct fm_node *n, const char *id, const char *status)
{
    struct payload *pl = payload_new(OP_UNIT_STATUS);
    int rc;
    if (pl == NULL)
        return FM_ENOMEM;
    if (id == NULL || unit_status_parse(status, &pl->unit_status) != FM_OK) {
        rc = FM_EINVAL;
    } else {
        pl->present = PT_BIT(PT_UNIT_STATUS);
        rc = node_write_run(n, &pl->log, 1, prep_unit, id, NULL, NULL);
    }
    free(pl);
    return rc;
}

int fm_node_unit_position(struct fm_node *n, const char *id, int32_t lat_e7, int32_t lon_e7)
{
    if (id == NULL || !coords_ok(lat_e7, lon_e7))
        return FM_EINVAL;
    struct payload *pl = payload_new(OP_UNIT_POSITION);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->lat = lat_e7;
    pl->lon = lon_e7;
    pl->present = PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    int rc = node_write_run(n, &pl->log, 1, prep_unit, id, NULL, NULL);
    free(pl);
    return rc;
}

int fm_node_resource_add(struct fm_node *n, const char *kind, const char *depot, int64_t qty,
                         char id_out[FM_ID_MAX])
{
    if (qty < 0 || qty > FM_QTY_MAX)
        return FM_EINVAL;
    struct payload *pl = payload_new(OP_RES_ADD);
    uint64_t seq = 0;
    int rc;
    if (pl == NULL)
        return FM_ENOMEM;
    pl->qty = qty;
    pl->present = PT_BIT(PT_QTY);
    if ((rc = req_text(pl, PT_RES_KIND, pl->res_kind, sizeof pl->res_kind, kind)) ||
        (rc = req_text(pl, PT_DEPOT, pl->depot, sizeof pl->depot, depot)))
        goto out;
    if ((rc = node_write_run(n, &pl->log, 1, NULL, NULL, &seq, NULL)) == FM_OK)
        id_out_set(n, seq, id_out);
out:
    free(pl);
    return rc;
}

int fm_node_resource_adjust(struct fm_node *n, const char *id, int64_t delta)
{
    if (id == NULL || delta == 0 || delta > FM_QTY_MAX || delta < -FM_QTY_MAX)
        return FM_EINVAL;
    struct payload *pl = payload_new(OP_RES_ADJUST);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->delta = delta;
    pl->present = PT_BIT(PT_DELTA);
    int rc = node_write_run(n, &pl->log, 1, prep_resource, id, NULL, NULL);
    free(pl);
    return rc;
}
