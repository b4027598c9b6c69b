/*
 * workflow_apply.c — applying the linkage-workflow ops (tickets,
 * escalations, materials, directory chunks, bulletins, feedback, conflict
 * resolutions) to the entities.
 *
 * The merges follow the core's rules (model.c) so apply stays commutative:
 * a ticket's creation fields are last-writer-wins by stamp, each step
 * (ack, en route, on scene, clear, cancel, reassign) keeps its first report
 * (smallest stamp), counts and sums add, and histories are sets keyed by
 * the op. Every op carries all the refs it needs (ticket, incident, unit),
 * so it applies the same whether or not the entities it names have arrived:
 * like the core, it fills placeholders. Effects on core entities — the
 * unit's status, the depot's stock, the incident's stage and timeline — go
 * through the core's own merges (model_apply with a derived payload, and
 * model_incident_touch) stamped with this op, so they commute with
 * everything else. Who may write each kind is decided in permit.c.
 */
#include "workflow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


bool workflow_kind(uint8_t kind)
{
    switch (kind) {
    case OP_INC_FEEDBACK:
    case OP_INC_ALARM:
    case OP_TICKET_DISPATCH:
    case OP_TICKET_STEP:
    case OP_TICKET_ESCALATE:
    case OP_MAT_REQUEST:
    case OP_MAT_ALLOCATE:
    case OP_MAT_RETURN:
    case OP_DIR_PUBLISH:
    case OP_BULLETIN_SEND:
    case OP_BULLETIN_READ:
    case OP_CONFLICT_RESOLVE:
        return true;
    default:
        return false;
    }
}

/* ---- merges ---- */

void wf_ref_put(uint8_t out[FM_PK_LEN + 8], const struct payload_ref *ref)
{
    memcpy(out, ref->author, FM_PK_LEN);
    fm_be64_put(out + FM_PK_LEN, ref->seq);
}

bool wf_rec_ref_id(const struct model_rec *r, unsigned tag, char id[FM_ID_MAX])
{
    const struct model_field_val *f = &r->f[tag];
    id[0] = '\0';
    if (!f->set || f->len < FM_PK_LEN + 8)
        return false;
    fm_op_id_format(f->val, fm_be64_get(f->val + FM_PK_LEN), id);
    return true;
}

void wf_rec_str(const struct model_rec *r, unsigned tag, char *out, size_t cap)
{
    const struct model_field_val *f = &r->f[tag];
    size_t n = f->set ? f->len : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, f->val, n);
    out[n] = '\0';
}

uint64_t wf_rec_uint(const struct model_rec *r, unsigned tag)
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

const char *wf_step_name(unsigned code)
{
    static const char *const names[] = {"dispatch", "ack",    "enroute", "arrive",
                                        "clear",    "cancel", "reassign"};
    return code <= TS__MAX ? names[code] : "?";
}

/* ---- histories ---- */

/* A ticket history entry, keyed like the incident timeline: id | 0 | hlc |
 * author | seq -> code | flags | text. *added tells whether it was new. */
static int ticket_event_add(struct store_txn *t, const char *id, const struct fm_op *op,
                            uint8_t code, uint8_t flags, const char *text, bool *added)
{
    uint8_t key[FM_ID_MAX + 1 + 8 + FM_PK_LEN + 8];
    uint8_t val[2 + FM_TEXT_MAX];
    size_t plen = model_tl_prefix(key, FM_ENT_TICKET, id), tlen = strnlen(text, FM_TEXT_MAX - 1);
    fm_be64_put(key + plen, op->hlc);
    memcpy(key + plen + 8, op->author, FM_PK_LEN);
    fm_be64_put(key + plen + 8 + FM_PK_LEN, op->seq);
    val[0] = code;
    val[1] = flags;
    memcpy(val + 2, text, tlen);
    int rc = store_put(t, DB_TIMELINE, key, plen + 8 + FM_PK_LEN + 8, val, 2 + tlen, true);
    *added = rc == FM_OK;
    return rc == FM_EEXISTS ? FM_OK : rc;
}

/* Applies a derived core op (unit status, stock adjust) stamped by op. */
static int apply_derived(struct store_txn *t, const struct fm_op *op, uint8_t kind,
                         const struct payload_ref *ref, uint8_t unit_status, int64_t delta)
{
    struct payload *syn = calloc(1, sizeof *syn);
    if (syn == NULL)
        return FM_ENOMEM;
    syn->log.kind = kind;
    syn->ref = *ref;
    syn->present = PT_BIT(PT_REF);
    if (kind == OP_UNIT_STATUS) {
        syn->unit_status = unit_status;
        syn->present |= PT_BIT(PT_UNIT_STATUS);
    } else {
        syn->delta = delta;
        syn->present |= PT_BIT(PT_DELTA);
    }
    int rc = model_apply(t, op, syn, domain_apply);
    free(syn);
    return rc;
}

/* ---- per kind ---- */

struct wf_apply {
    struct store_txn *t;
    const struct fm_op *op;
    const struct payload *pl;
    struct model_stamp s;
    struct model_rec *r;
    char id[FM_ID_MAX], id2[FM_ID_MAX], id3[FM_ID_MAX];
    char text[FM_TEXT_MAX];
};

static int load(struct wf_apply *a, uint8_t kind, const char *id)
{
    int rc = model_rec_load(a->t, kind, id, a->r);
    return rc == FM_ENOTFOUND ? FM_OK : rc;
}

static int save(struct wf_apply *a, uint8_t kind, const char *id)
{
    model_merge_max_u64(a->r, F_UPDATED, a->op->hlc);
    return model_rec_store(a->t, kind, id, a->r);
}

static void set_created(struct wf_apply *a)
{
    uint8_t created[FM_PK_LEN + 8];
    memcpy(created, a->op->author, FM_PK_LEN);
    fm_be64_put(created + FM_PK_LEN, a->op->seq);
    model_merge_lww(a->r, F_CREATED, &a->s, created, sizeof created);
}

static int apply_feedback(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    int rc;
    if ((rc = load(a, ENT_WFINC, a->id)) != FM_OK)
        return rc;
    model_merge_add(a->r, WI_FB_N, 1, 4);
    model_merge_add(a->r, WI_FB_SUM, pl->score, 8);
    if ((rc = save(a, ENT_WFINC, a->id)) != FM_OK)
        return rc;
    snprintf(a->text, sizeof a->text, "feedback %u/5%s%.900s", pl->score, pl->text[0] ? ": " : "",
             pl->text);
    return model_incident_touch(a->t, a->op, &pl->ref, TL_FEEDBACK, a->text, false, 0, 0);
}

static int apply_dispatch(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    uint8_t ref[FM_PK_LEN + 8];
    bool added;
    int rc;
    fm_op_id_format(a->op->author, a->op->seq, a->id); /* the ticket */
    if ((rc = load(a, FM_ENT_TICKET, a->id)) != FM_OK)
        return rc;
    set_created(a);
    wf_ref_put(ref, &pl->ref);
    model_merge_lww(a->r, TK_INCIDENT, &a->s, ref, sizeof ref);
    wf_ref_put(ref, &pl->ref2);
    model_merge_lww(a->r, TK_UNIT, &a->s, ref, sizeof ref);
    if (pl->present & PT_BIT(PT_NAME))
        model_merge_lww(a->r, TK_UNAME, &a->s, pl->name, strlen(pl->name));
    if (pl->present & PT_BIT(PT_REF3)) {
        wf_ref_put(ref, &pl->ref3);
        model_merge_lww(a->r, TK_REPLACES, &a->s, ref, sizeof ref);
    }
    if ((rc = ticket_event_add(a->t, a->id, a->op, 0, 0, pl->text, &added)) != FM_OK)
        return rc;
    if (added)
        model_merge_add(a->r, TK_EVENTS, 1, 4);
    if ((rc = save(a, FM_ENT_TICKET, a->id)) != FM_OK)
        return rc;
    if ((rc = apply_derived(a->t, a->op, OP_UNIT_STATUS, &pl->ref2, US_ASSIGNED, 0)) != FM_OK)
        return rc;
    fm_op_id_format(pl->ref2.author, pl->ref2.seq, a->id2);
    snprintf(a->text, sizeof a->text, "ticket %s: unit %s dispatched%s%.900s", a->id, a->id2,
             pl->text[0] ? ": " : "", pl->text);
    if ((rc = model_incident_touch(a->t, a->op, &pl->ref, TL_DISPATCH, a->text, true, pl->epoch,
                                   FM_STAGE_DISPATCHED)) != FM_OK)
        return rc;
    /* steps that arrived before this dispatch can be judged now */
    fm_op_id_format(a->op->author, a->op->seq, a->id);
    return park_release(a->t, FM_ENT_TICKET, a->id, domain_apply);
}

static bool rec_ref_eq(const struct model_rec *r, unsigned tag, const struct payload_ref *ref)
{
    const struct model_field_val *f = &r->f[tag];
    uint8_t want[FM_PK_LEN + 8];
    wf_ref_put(want, ref);
    return f->set && f->len == sizeof want && memcmp(f->val, want, sizeof want) == 0;
}

enum step_fit { STEP_VOID, STEP_MATCH, STEP_WAIT };

/* Whether a step belongs to the ticket its dispatch made: the same unit
 * and incident, and, for a unit's own report carrying the unit's name
 * (what a certificate naming the unit by name was checked against at
 * ingest), the name the dispatcher recorded for that unit, or else one the
 * unit's registrations give it (a unit with a stable key renamed since its
 * crew was enrolled, a duty room's department, docs/workflow.md §1c, §4;
 * and a dispatch that recorded no name, made by a node that did not know
 * the unit). STEP_WAIT: the registrations may yet give it that name (park
 * the step on the unit). */
static int step_fit(struct wf_apply *a, enum step_fit *fit)
{
    const struct model_rec *r = a->r;
    const struct payload *pl = a->pl;
    const struct model_field_val *f = &r->f[TK_UNAME];
    *fit = STEP_VOID;
    if (!rec_ref_eq(r, TK_UNIT, &pl->ref3) || !rec_ref_eq(r, TK_INCIDENT, &pl->ref2))
        return FM_OK;
    *fit = STEP_MATCH;
    if ((pl->flags & 1) != 0 || !(pl->present & PT_BIT(PT_NAME)) ||
        (f->set && f->len == strlen(pl->name) && memcmp(f->val, pl->name, f->len) == 0))
        return FM_OK;
    struct model_rec *u = malloc(sizeof *u);
    bool holds, wait;
    int rc;
    if (u == NULL)
        return FM_ENOMEM;
    fm_op_id_format(pl->ref3.author, pl->ref3.seq, a->id3);
    rc = model_rec_load(a->t, FM_ENT_UNIT, a->id3, u);
    if (rc == FM_ENOTFOUND) {
        *fit = STEP_WAIT;
        rc = FM_OK;
    } else if (rc == FM_OK && (rc = model_unit_claim(a->t, a->id3, u, pl->name, &holds,
                                                     &wait)) == FM_OK) {
        *fit = holds ? STEP_MATCH : wait ? STEP_WAIT : STEP_VOID;
    }
    free(u);
    return rc;
}

static int apply_step(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    uint8_t val[1 + FM_TEXT_MAX];
    size_t tlen = strnlen(pl->text, FM_TEXT_MAX - 1);
    bool added;
    int rc;
    fm_op_id_format(pl->ref.author, pl->ref.seq, a->id); /* the ticket */
    if ((rc = load(a, FM_ENT_TICKET, a->id)) != FM_OK)
        return rc;
    /* a step is judged against its ticket's dispatch (park.c): until that
     * is here it waits; a step for another unit or incident is ignored
     * (counted), so nobody moves a ticket that is not theirs */
    if (!a->r->f[TK_UNIT].set)
        return park_put(a->t, FM_ENT_TICKET, a->id, a->op);
    enum step_fit fit;
    if ((rc = step_fit(a, &fit)) != FM_OK)
        return rc;
    if (fit == STEP_WAIT)
        return park_put(a->t, FM_ENT_UNIT, a->id3, a->op);
    if (fit == STEP_VOID) {
        model_merge_add(a->r, TK_VOID, 1, 4);
        return save(a, FM_ENT_TICKET, a->id);
    }
    val[0] = pl->flags;
    memcpy(val + 1, pl->text, tlen);
    model_merge_min(a->r, wf_step_field(pl->code), &a->s, val, 1 + tlen);
    if ((rc = ticket_event_add(a->t, a->id, a->op, pl->code, pl->flags, pl->text, &added)))
        return rc;
    if (added)
        model_merge_add(a->r, TK_EVENTS, 1, 4);
    if ((rc = save(a, FM_ENT_TICKET, a->id)) != FM_OK)
        return rc;

    uint8_t ustatus = pl->code == TS_ARRIVE                           ? US_ONSCENE
                      : pl->code == TS_ACK || pl->code == TS_ENROUTE ? US_ASSIGNED
                                                                      : US_AVAILABLE;
    if ((rc = apply_derived(a->t, a->op, OP_UNIT_STATUS, &pl->ref3, ustatus, 0)) != FM_OK)
        return rc;
    if (pl->code == TS_ACK) {
        /* the first unit to acknowledge coordinates on scene */
        uint8_t coord[2 * (FM_PK_LEN + 8)];
        fm_op_id_format(pl->ref2.author, pl->ref2.seq, a->id2);
        if ((rc = load(a, ENT_WFINC, a->id2)) != FM_OK)
            return rc;
        wf_ref_put(coord, &pl->ref3);
        wf_ref_put(coord + FM_PK_LEN + 8, &pl->ref);
        model_merge_min(a->r, WI_COORD, &a->s, coord, sizeof coord);
        if ((rc = save(a, ENT_WFINC, a->id2)) != FM_OK)
            return rc;
    }
    fm_op_id_format(pl->ref3.author, pl->ref3.seq, a->id3);
    snprintf(a->text, sizeof a->text, "ticket %s: %s by unit %s%s%s%.900s", a->id,
             wf_step_name(pl->code), a->id3,
             (pl->flags & 1) ? " (on its behalf)" : (pl->flags & 2) ? " (source: GPS)" : "",
             pl->text[0] ? ": " : "", pl->text);
    bool staged = pl->code == TS_ENROUTE || pl->code == TS_ARRIVE;
    return model_incident_touch(a->t, a->op, &pl->ref2, TL_TICKET, a->text, staged, pl->epoch,
                                pl->code == TS_ARRIVE ? FM_STAGE_ONSCENE : FM_STAGE_ENROUTE);
}

static int apply_escalate(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    uint8_t ref[FM_PK_LEN + 8];
    size_t rlen = 0;
    int rc;
    if ((rc = load(a, ENT_WFINC, a->id)) != FM_OK)
        return rc;
    if (pl->present & PT_BIT(PT_REF2)) {
        wf_ref_put(ref, &pl->ref2);
        rlen = sizeof ref;
        fm_op_id_format(pl->ref2.author, pl->ref2.seq, a->id2);
    }
    model_merge_min(a->r, pl->tier == 2 ? WI_ESC2 : WI_ESC3, &a->s, ref, rlen);
    model_merge_add(a->r, pl->tier == 2 ? WI_ESC2_N : WI_ESC3_N, 1, 4);
    if ((rc = save(a, ENT_WFINC, a->id)) != FM_OK)
        return rc;
    snprintf(a->text, sizeof a->text, "tier %u brought in%s%s%s%s%.900s", pl->tier,
             rlen ? " (ticket " : "", rlen ? a->id2 : "", rlen ? " not acknowledged)" : "",
             pl->text[0] ? ": " : "", pl->text);
    return model_incident_touch(a->t, a->op, &pl->ref, TL_ESCALATE, a->text, false, 0, 0);
}

/* The alarm level merges by max: the highest level raised stands, stamped
 * by the first raise to it (smallest stamp), so the order of arrival does
 * not matter. */
static int apply_alarm(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    const struct model_field_val *f;
    uint8_t level = pl->code;
    int rc;
    if ((rc = load(a, ENT_WFINC, a->id)) != FM_OK)
        return rc;
    f = &a->r->f[WI_ALARM];
    bool higher = !f->set || f->len != 1 || f->val[0] < level;
    if (higher)
        memset(&a->r->f[WI_ALARM], 0, sizeof a->r->f[WI_ALARM]);
    if (higher || f->val[0] == level) /* same level: the first raise's stamp */
        model_merge_min(a->r, WI_ALARM, &a->s, &level, 1);
    if ((rc = save(a, ENT_WFINC, a->id)) != FM_OK)
        return rc;
    snprintf(a->text, sizeof a->text, "alarm level %u%s%.900s", level, pl->text[0] ? ": " : "",
             pl->text);
    return model_incident_touch(a->t, a->op, &pl->ref, TL_ESCALATE, a->text, false, 0, 0);
}

static int apply_request(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    uint8_t ref[FM_PK_LEN + 8], q[8];
    int rc;
    fm_op_id_format(a->op->author, a->op->seq, a->id);
    if ((rc = load(a, FM_ENT_REQUEST, a->id)) != FM_OK)
        return rc;
    set_created(a);
    wf_ref_put(ref, &pl->ref);
    model_merge_lww(a->r, RQ_INCIDENT, &a->s, ref, sizeof ref);
    model_merge_lww(a->r, RQ_KIND, &a->s, pl->res_kind, strlen(pl->res_kind));
    fm_be64_put(q, (uint64_t)pl->qty);
    model_merge_lww(a->r, RQ_QTY, &a->s, q, sizeof q);
    model_merge_lww(a->r, RQ_TEXT, &a->s, pl->text, strlen(pl->text));
    if ((rc = save(a, FM_ENT_REQUEST, a->id)) != FM_OK)
        return rc;
    snprintf(a->text, sizeof a->text, "material request %s: %lld %s", a->id,
             (long long)pl->qty, pl->res_kind);
    return model_incident_touch(a->t, a->op, &pl->ref, TL_MATERIAL, a->text, false, 0, 0);
}

/* Per (request, depot) sums: request id | 0 | resource ref(40) ->
 * allocated u64 | returned u64. */
static int move_counter(struct store_txn *t, const char *req, const struct payload_ref *res,
                        uint64_t alloc, uint64_t ret)
{
    uint8_t key[FM_ID_MAX + 1 + FM_PK_LEN + 8], val[16];
    size_t idlen = strnlen(req, FM_ID_MAX - 1), klen = idlen + 1 + FM_PK_LEN + 8;
    const uint8_t *cur;
    size_t curlen;
    uint64_t A = 0, R = 0;
    memcpy(key, req, idlen);
    key[idlen] = 0;
    wf_ref_put(key + idlen + 1, res);
    int rc = store_get(t, DB_COUNTERS, key, klen, &cur, &curlen);
    if (rc == FM_OK) {
        if (curlen != 16)
            return FM_ESTORE;
        A = fm_be64_get(cur);
        R = fm_be64_get(cur + 8);
    } else if (rc != FM_ENOTFOUND) {
        return rc;
    }
    fm_be64_put(val, A + alloc);
    fm_be64_put(val + 8, R + ret);
    return store_put(t, DB_COUNTERS, key, klen, val, sizeof val, false);
}

static int apply_move(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    bool ret = pl->log.kind == OP_MAT_RETURN;
    uint64_t q = (uint64_t)pl->qty;
    int rc;
    if (pl->present & PT_BIT(PT_DEPOT)) {
        /* a unit's claim that the depot is its own (permit.c) */
        bool go;
        fm_op_id_format(pl->ref2.author, pl->ref2.seq, a->id2);
        if ((rc = park_depot_judge(a->t, a->op, a->id2, pl->depot, &go)) != FM_OK || !go)
            return rc;
    }
    fm_op_id_format(pl->ref.author, pl->ref.seq, a->id); /* the request */
    if ((rc = load(a, FM_ENT_REQUEST, a->id)) != FM_OK)
        return rc;
    model_merge_add(a->r, ret ? RQ_RET : RQ_ALLOC, q, 8);
    if ((rc = save(a, FM_ENT_REQUEST, a->id)) != FM_OK ||
        (rc = move_counter(a->t, a->id, &pl->ref2, ret ? 0 : q, ret ? q : 0)) != FM_OK ||
        (rc = apply_derived(a->t, a->op, OP_RES_ADJUST, &pl->ref2, 0,
                            ret ? pl->qty : -pl->qty)) != FM_OK)
        return rc;
    fm_op_id_format(pl->ref2.author, pl->ref2.seq, a->id2);
    snprintf(a->text, sizeof a->text, "material %s: %lld %s %s", a->id, (long long)pl->qty,
             ret ? "returned to" : "allocated from", a->id2);
    return model_incident_touch(a->t, a->op, &pl->ref3, TL_MATERIAL, a->text, false, 0, 0);
}

/* A directory chunk: kept as is; readers assemble the newest complete
 * version (workflow_read.c). */
static int apply_dir_chunk(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    uint16_t idx = (uint16_t)(pl->part >> 16), count = (uint16_t)(pl->part & 0xffff);
    uint8_t key[1 + FM_PK_LEN + 8 + 2];
    if ((uint64_t)idx >= a->op->seq)
        return FM_OK; /* cannot belong to a run of this log: ignored everywhere alike */
    key[0] = ENT_DIRCHUNK;
    memcpy(key + 1, a->op->author, FM_PK_LEN);
    fm_be64_put(key + 1 + FM_PK_LEN, a->op->seq - idx);
    key[1 + FM_PK_LEN + 8] = (uint8_t)(idx >> 8);
    key[1 + FM_PK_LEN + 9] = (uint8_t)idx;
    uint8_t *val = malloc(3 + 8 + 2 + (size_t)pl->blob_len);
    if (val == NULL)
        return FM_ENOMEM;
    val[0] = RAW_VERSION;
    val[1] = ENT_DIRCHUNK;
    val[2] = 0;
    fm_be64_put(val + 3, a->op->hlc);
    val[11] = (uint8_t)(count >> 8);
    val[12] = (uint8_t)count;
    memcpy(val + 13, pl->blob, pl->blob_len);
    int rc = store_put(a->t, DB_ENTITIES, key, sizeof key, val, 13 + (size_t)pl->blob_len, false);
    free(val);
    return rc;
}

static int apply_bulletin(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    int rc;
    fm_op_id_format(a->op->author, a->op->seq, a->id);
    if ((rc = load(a, FM_ENT_BULLETIN, a->id)) != FM_OK)
        return rc;
    set_created(a);
    model_merge_lww(a->r, BL_AUDIENCE, &a->s, pl->audience, strlen(pl->audience));
    model_merge_lww(a->r, BL_TEXT, &a->s, pl->text, strlen(pl->text));
    return save(a, FM_ENT_BULLETIN, a->id);
}

/* Receipt: bulletin id | 0 | reader -> RAW | kind | 0 | hlc (the first). */
static int apply_receipt(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    uint8_t key[1 + FM_ID_MAX + 1 + FM_PK_LEN], val[3 + 8];
    const uint8_t *cur;
    size_t curlen;
    int rc;
    fm_op_id_format(pl->ref.author, pl->ref.seq, a->id);
    size_t idlen = strnlen(a->id, FM_ID_MAX - 1), klen = 1 + idlen + 1 + FM_PK_LEN;
    key[0] = ENT_RECEIPT;
    memcpy(key + 1, a->id, idlen);
    key[1 + idlen] = 0;
    memcpy(key + 2 + idlen, a->op->author, FM_PK_LEN);
    val[0] = RAW_VERSION;
    val[1] = ENT_RECEIPT;
    val[2] = 0;
    fm_be64_put(val + 3, a->op->hlc);
    rc = store_get(a->t, DB_ENTITIES, key, klen, &cur, &curlen);
    if (rc == FM_OK) {
        if (curlen != sizeof val)
            return FM_ESTORE;
        if (fm_be64_get(cur + 3) <= a->op->hlc)
            return FM_OK; /* an earlier receipt of the same reader stays */
        return store_put(a->t, DB_ENTITIES, key, klen, val, sizeof val, false);
    }
    if (rc != FM_ENOTFOUND)
        return rc;
    if ((rc = store_put(a->t, DB_ENTITIES, key, klen, val, sizeof val, false)) != FM_OK ||
        (rc = load(a, FM_ENT_BULLETIN, a->id)) != FM_OK)
        return rc;
    model_merge_add(a->r, BL_READERS, 1, 4);
    return save(a, FM_ENT_BULLETIN, a->id);
}

/* Resolution: conflict id | 0 | fingerprint -> RAW | kind | 0 | hlc |
 * author | note; the smallest stamp wins. */
static int apply_resolve(struct wf_apply *a)
{
    const struct payload *pl = a->pl;
    uint8_t key[1 + FM_TEXT_MAX + 1 + FM_HASH_LEN];
    const uint8_t *cur;
    size_t curlen, idlen = strnlen(pl->text, FM_TEXT_MAX - 1), dlen = strlen(pl->desc);
    size_t klen = 1 + idlen + 1 + FM_HASH_LEN;
    uint8_t decision = (pl->present & PT_BIT(PT_CODE)) ? pl->code : 0;
    uint64_t eff = model_eff(a->op->hlc, (pl->present & PT_BIT(PT_BASE)) ? pl->log.base : 0);
    int rc;
    if (idlen >= FM_CONFLICT_ID_MAX)
        return FM_OK; /* names no conflict (ids are short): inert everywhere alike */
    key[0] = ENT_RESOLUTION;
    memcpy(key + 1, pl->text, idlen);
    key[1 + idlen] = 0;
    memcpy(key + 2 + idlen, pl->blob, FM_HASH_LEN);
    rc = store_get(a->t, DB_ENTITIES, key, klen, &cur, &curlen);
    if (rc == FM_OK) {
        /* the larger (effective stamp, hlc, author) stands: a decision made
         * by someone who saw the other overrides it (model_base.c) */
        struct wf_resolution r;
        if ((rc = wf_resolution_decode(cur, curlen, &r)) != FM_OK)
            return rc;
        if (r.eff != eff ? r.eff > eff
                         : r.hlc != a->op->hlc ? r.hlc > a->op->hlc
                                               : memcmp(r.author, a->op->author, FM_PK_LEN) >= 0)
            return FM_OK;
    } else if (rc != FM_ENOTFOUND) {
        return rc;
    }
    uint8_t *val = malloc(3 + 8 + FM_PK_LEN + 17 + FM_HASH_LEN + dlen);
    if (val == NULL)
        return FM_ENOMEM;
    size_t at = 11 + FM_PK_LEN;
    val[0] = RAW_VERSION;
    val[1] = ENT_RESOLUTION;
    /* without a decision, the record of every build before op format 5,
     * byte for byte (records are in the digest): conflict.c reads both */
    val[2] = decision ? RES_FULL : 0;
    fm_be64_put(val + 3, a->op->hlc);
    memcpy(val + 11, a->op->author, FM_PK_LEN);
    if (decision) {
        fm_be64_put(val + at, a->op->seq);
        fm_be64_put(val + at + 8, eff);
        val[at + 16] = decision;
        at += 17;
    }
    if (decision == RD_RESULT) { /* payload.c checked the blob holds it */
        memcpy(val + at, pl->blob + FM_HASH_LEN, FM_HASH_LEN);
        at += FM_HASH_LEN;
    }
    memcpy(val + at, pl->desc, dlen);
    rc = store_put(a->t, DB_ENTITIES, key, klen, val, at + dlen, false);
    free(val);
    return rc;
}

int workflow_apply(struct store_txn *t, const struct fm_op *op, const struct payload *pl)
{
    struct wf_apply *a = calloc(1, sizeof *a);
    int rc;
    if (a == NULL)
        return FM_ENOMEM;
    a->r = malloc(sizeof *a->r);
    if (a->r == NULL) {
        free(a);
        return FM_ENOMEM;
    }
    a->t = t;
    a->op = op;
    a->pl = pl;
    a->s.hlc = op->hlc;
    a->s.author = op->author;
    if (pl->present & PT_BIT(PT_REF))
        fm_op_id_format(pl->ref.author, pl->ref.seq, a->id);
    switch (pl->log.kind) {
    case OP_INC_FEEDBACK: rc = apply_feedback(a); break;
    case OP_INC_ALARM: rc = apply_alarm(a); break;
    case OP_TICKET_DISPATCH: rc = apply_dispatch(a); break;
    case OP_TICKET_STEP: rc = apply_step(a); break;
    case OP_TICKET_ESCALATE: rc = apply_escalate(a); break;
    case OP_MAT_REQUEST: rc = apply_request(a); break;
    case OP_MAT_ALLOCATE:
    case OP_MAT_RETURN: rc = apply_move(a); break;
    case OP_DIR_PUBLISH: rc = apply_dir_chunk(a); break;
    case OP_BULLETIN_SEND: rc = apply_bulletin(a); break;
    case OP_BULLETIN_READ: rc = apply_receipt(a); break;
    case OP_CONFLICT_RESOLVE: rc = apply_resolve(a); break;
    default: rc = FM_EINVAL; break;
    }
    free(a->r);
    free(a);
    return rc;
}

/* ---- summaries for `fieldmesh log` ---- */

void workflow_payload_summary(const struct payload *p, char *out, size_t cap)
{
    char id[FM_ID_MAX] = "", id2[FM_ID_MAX] = "", id3[FM_ID_MAX] = "";
    if (p->present & PT_BIT(PT_REF))
        fm_op_id_format(p->ref.author, p->ref.seq, id);
    if (p->present & PT_BIT(PT_REF2))
        fm_op_id_format(p->ref2.author, p->ref2.seq, id2);
    if (p->present & PT_BIT(PT_REF3))
        fm_op_id_format(p->ref3.author, p->ref3.seq, id3);
    switch (p->log.kind) {
    case OP_INC_FEEDBACK:
        snprintf(out, cap, "feedback %s score %u '%s'", id, p->score, p->text);
        break;
    case OP_INC_ALARM:
        snprintf(out, cap, "alarm %s to level %u%s%s%s", id, p->code, p->text[0] ? " '" : "",
                 p->text, p->text[0] ? "'" : "");
        break;
    case OP_TICKET_DISPATCH:
        snprintf(out, cap, "dispatch unit %s to %s%s%s", id2, id, id3[0] ? " replacing " : "",
                 id3);
        break;
    case OP_TICKET_STEP:
        snprintf(out, cap, "ticket %s %s unit %s%s%s%s", id, wf_step_name(p->code), id3,
                 (p->flags & 1) ? " (behalf)" : "", p->text[0] ? " '" : "", p->text);
        if (p->text[0] && strlen(out) + 1 < cap)
            memcpy(out + strlen(out), "'", 2);
        break;
    case OP_TICKET_ESCALATE:
        snprintf(out, cap, "escalate %s to tier %u%s%s", id, p->tier, id2[0] ? " ticket " : "",
                 id2);
        break;
    case OP_MAT_REQUEST:
        snprintf(out, cap, "request %lld %s for %s", (long long)p->qty, p->res_kind, id);
        break;
    case OP_MAT_ALLOCATE:
    case OP_MAT_RETURN:
        snprintf(out, cap, "%s %lld %s %s for request %s",
                 p->log.kind == OP_MAT_RETURN ? "return" : "allocate", (long long)p->qty,
                 p->log.kind == OP_MAT_RETURN ? "to" : "from", id2, id);
        break;
    case OP_DIR_PUBLISH:
        snprintf(out, cap, "directory chunk %u/%u (%u bytes)", (unsigned)(p->part >> 16) + 1,
                 (unsigned)(p->part & 0xffff), (unsigned)p->blob_len);
        break;
    case OP_BULLETIN_SEND:
        snprintf(out, cap, "bulletin to %s '%s'", p->audience, p->text);
        break;
    case OP_BULLETIN_READ:
        snprintf(out, cap, "read receipt %s", id);
        break;
    case OP_CONFLICT_RESOLVE:
        snprintf(out, cap, "resolve conflict %s '%s'", p->text, p->desc);
        break;
    default:
        snprintf(out, cap, "unknown kind %u", p->log.kind);
        break;
    }
}
