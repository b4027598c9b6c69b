/*
 * workflow_write.c — the fm_node_* calls that author linkage-workflow ops:
 * dispatch, ticket steps and reassignment, escalation, feedback, material
 * requests and movements, bulletins and read receipts, and directory
 * publication.
 *
 * Each call resolves the ids it was given and checks the state it sees in
 * one read transaction, fills complete payloads (every ref an op needs to
 * apply on its own: ticket, incident, unit, epoch), then signs and stores
 * them through node_write_batch — several ops of one action in one
 * transaction. A concurrent writer on another node can always make the
 * check stale; that is what the merges and the conflict list are for.
 */
#include "workflow_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* Resolves prefix to an existing entity of kind: full id, its creating
 * op's ref, and (if r) its record. */
int wf_ref_resolve(struct store_txn *t, enum fm_entity_kind kind, const char *prefix,
                   char id[FM_ID_MAX], struct payload_ref *ref, struct model_rec *r)
{
    struct model_rec *own = NULL;
    int rc;
    if (prefix == NULL)
        return FM_EINVAL;
    if (r == NULL && (r = own = malloc(sizeof *r)) == NULL)
        return FM_ENOMEM;
    if ((rc = node_resolve_txn(t, kind, prefix, id)) == FM_OK &&
        (rc = model_rec_load(t, (uint8_t)kind, id, r)) == FM_OK) {
        const struct model_field_val *f = &r->f[F_CREATED];
        if (!f->set || f->len != FM_PK_LEN + 8) {
            rc = FM_ENOTFOUND;
        } else {
            memcpy(ref->author, f->val, FM_PK_LEN);
            ref->seq = fm_be64_get(f->val + FM_PK_LEN);
        }
    }
    free(own);
    return rc;
}

/* A ref stored in a record field (ticket's incident, unit, ...). */
static bool rec_ref(const struct model_rec *r, unsigned tag, struct payload_ref *ref)
{
    const struct model_field_val *f = &r->f[tag];
    if (!f->set || f->len != FM_PK_LEN + 8)
        return false;
    memcpy(ref->author, f->val, FM_PK_LEN);
    ref->seq = fm_be64_get(f->val + FM_PK_LEN);
    return ref->seq != 0;
}

/* The incident's reopen epoch; its stage into *stage when asked. */
uint32_t wf_incident_epoch_stage(struct store_txn *t, const struct payload_ref *inc,
                                 enum fm_incident_stage *stage)
{
    char id[FM_ID_MAX];
    struct model_rec *r = malloc(sizeof *r);
    struct fm_incident x;
    uint32_t epoch = 0;
    if (stage)
        *stage = FM_STAGE_NEW;
    if (r == NULL)
        return 0;
    fm_op_id_format(inc->author, inc->seq, id);
    if (model_rec_load(t, FM_ENT_INCIDENT, id, r) == FM_OK &&
        model_rec_to_incident(r, id, &x) == FM_OK) {
        epoch = x.epoch;
        if (stage)
            *stage = x.stage;
    }
    free(r);
    return epoch;
}

static uint32_t incident_epoch(struct store_txn *t, const struct payload_ref *inc)
{
    return wf_incident_epoch_stage(t, inc, NULL);
}

struct active_ctx {
    const char *unit;
    bool busy;
};

static int active_each(const struct model_rec *r, const char *id, void *arg)
{
    struct active_ctx *a = arg;
    struct fm_ticket tk;
    if (wf_rec_to_ticket(r, id, &tk) == FM_OK && tk.active && strcmp(tk.unit, a->unit) == 0) {
        a->busy = true;
        return 1;
    }
    return 0;
}

/* Whether the unit holds an active ticket in t. */
static int unit_busy(struct store_txn *t, const char *unit, bool *busy)
{
    struct active_ctx a = {.unit = unit};
    int rc = wf_walk(t, FM_ENT_TICKET, false, active_each, &a);
    *busy = a.busy;
    return rc < 0 ? rc : FM_OK;
}

static struct payload *payloads_new(size_t n)
{
    return calloc(n ? n : 1, sizeof(struct payload));
}

static int write_one(struct fm_node *n, struct payload *pl, char id_out[FM_ID_MAX])
{
    uint64_t seq = 0;
    int rc = node_write_payload(n, &pl->log, &seq);
    if (rc == FM_OK && id_out != NULL)
        fm_op_id_format(n->id.pk, seq, id_out);
    return rc;
}

/* Fail early with the error ingest would give (workflow_permitted). */
bool wf_can_dispatch(const struct fm_node *n)
{
    return n->cert.role == FM_ROLE_CENTRE || n->cert.role == FM_ROLE_COUNTY;
}

/* The verdict ingest will give this node's op (permit.c), from the
 * certificate it signs with. */
int wf_permitted(const struct fm_node *n, const struct payload *pl)
{
    struct node_head h = {.role = (uint8_t)n->cert.role};
    fm_strlcpy(h.unit, n->cert.unit, sizeof h.unit);
    return workflow_permitted(&h, n->id.pk, pl);
}

bool wf_is_dispatcher(const struct fm_node *n)
{
    return model_role_any_unit(n->cert.role);
}

int wf_load_identity(struct fm_node *n)
{
    int rc;
    if (n->has_identity)
        return FM_OK;
    if ((rc = node_identity_from_keys(n)) != FM_OK)
        return rc;
    if ((rc = fm_cert_read_file(&n->cert, n->cfg.cert_path)) != FM_OK ||
        memcmp(n->cert.node, n->id.pk, FM_PK_LEN) != 0 ||
        memcmp(n->cert.org, n->cfg.org_pk, FM_PK_LEN) != 0 ||
        fm_cert_check(&n->cert, n->cfg.org_pk, n->cert.not_before_ms) != FM_OK) {
        fm_identity_release(&n->id);
        return rc != FM_OK ? rc : FM_ECERT;
    }
    n->has_identity = true;
    return FM_OK;
}

/* ---- dispatch ---- */

/* A dispatch carries the unit's registered name: what a station's or
 * vehicle's step naming its unit by name is held against when applied
 * (workflow_apply.c, docs/workflow.md §4). */
static int dispatch_unit_name(struct store_txn *t, const char *uid, struct payload *pl)
{
    struct model_rec *r = malloc(sizeof *r);
    if (r == NULL)
        return FM_ENOMEM;
    int rc = model_rec_load(t, FM_ENT_UNIT, uid, r);
    if (rc == FM_OK) {
        wf_rec_str(r, F_NAME, pl->name, sizeof pl->name);
        if (pl->name[0] != '\0')
            pl->present |= PT_BIT(PT_NAME);
    }
    free(r);
    return rc == FM_ENOTFOUND ? FM_OK : rc;
}

int fm_node_dispatch(struct fm_node *n, const char *incident, const char *const *units,
                     size_t nunits, const char *note, char (*ids_out)[FM_ID_MAX])
{
    struct store_txn *t;
    struct payload *pls;
    struct payload_ref inc;
    char id[FM_ID_MAX];
    uint64_t first = 0;
    int rc;
    if (n == NULL || !n->has_identity || !wf_can_dispatch(n))
        return FM_EPERM;
    if (incident == NULL || units == NULL || nunits == 0 || nunits > FM_SUGGEST_MAX ||
        (note != NULL && note[0] != '\0' && !payload_text_ok(note, 1, FM_TEXT_MAX - 1)))
        return FM_EINVAL;
    if ((pls = payloads_new(nunits)) == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    if ((rc = wf_ref_resolve(t, FM_ENT_INCIDENT, incident, id, &inc, NULL)) != FM_OK)
        goto out_txn;
    enum fm_incident_stage stage;
    uint32_t epoch = wf_incident_epoch_stage(t, &inc, &stage);
    if (stage >= FM_STAGE_RESOLVED)
        rc = FM_ECLOSED; /* reopen it first: a dispatch would go to nobody's incident */
    for (size_t i = 0; i < nunits && rc == FM_OK; i++) {
        struct payload *pl = &pls[i];
        char uid[FM_ID_MAX];
        bool busy;
        if ((rc = wf_ref_resolve(t, FM_ENT_UNIT, units[i], uid, &pl->ref2, NULL)) != FM_OK ||
            (rc = unit_busy(t, uid, &busy)) != FM_OK)
            break;
        for (size_t k = 0; k < i; k++)
            if (memcmp(&pls[k].ref2, &pl->ref2, sizeof pl->ref2) == 0)
                rc = FM_EINVAL; /* the same unit twice */
        if (busy)
            rc = FM_ESTATE;
        pl->log.kind = OP_TICKET_DISPATCH;
        pl->ref = inc;
        pl->epoch = epoch;
        pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH);
        if (rc == FM_OK)
            rc = dispatch_unit_name(t, uid, pl);
        if (note != NULL && note[0] != '\0') {
            fm_strlcpy(pl->text, note, sizeof pl->text);
            pl->present |= PT_BIT(PT_TEXT);
        }
    }
out_txn:
    store_txn_abort(&t);
    if (rc == FM_OK && (rc = node_write_batch(n, &pls->log, nunits, &first)) == FM_OK && ids_out)
        for (size_t i = 0; i < nunits; i++)
            fm_op_id_format(n->id.pk, first + i, ids_out[i]);
out:
    free(pls);
    return rc;
}

int wf_ticket_refs(struct store_txn *t, const char *prefix, struct wf_tk_refs *x)
{
    struct model_rec *r = malloc(sizeof *r);
    int rc;
    if (r == NULL)
        return FM_ENOMEM;
    if ((rc = wf_ref_resolve(t, FM_ENT_TICKET, prefix, x->id, &x->ticket, r)) == FM_OK &&
        (rc = wf_rec_to_ticket(r, x->id, &x->tk)) == FM_OK) {
        if (!rec_ref(r, TK_INCIDENT, &x->incident) || !rec_ref(r, TK_UNIT, &x->unit))
            rc = FM_ESTORE;
        else
            x->epoch = incident_epoch(t, &x->incident);
    }
    free(r);
    return rc;
}

void wf_step_payload(struct payload *pl, const struct wf_tk_refs *x, uint8_t code, bool behalf,
                         bool gps, const char *text)
{
    pl->log.kind = OP_TICKET_STEP;
    pl->ref = x->ticket;
    pl->ref2 = x->incident;
    pl->ref3 = x->unit;
    pl->epoch = x->epoch;
    pl->code = code;
    pl->flags = (behalf ? 1 : 0) | (gps ? 2 : 0);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH) |
                  PT_BIT(PT_CODE) | PT_BIT(PT_FLAGS);
    if (x->unit_name[0] != '\0') {
        fm_strlcpy(pl->name, x->unit_name, sizeof pl->name);
        pl->present |= PT_BIT(PT_NAME);
    }
    if (text != NULL && text[0] != '\0') {
        fm_strlcpy(pl->text, text, sizeof pl->text);
        pl->present |= PT_BIT(PT_TEXT);
    }
}

/* The unit's own clear carries the route summary of the trail this node
 * kept while en route (docs/gps.md); when it does not fit in the result
 * text the clear goes without it (the trail stays as local evidence). */
static void route_into_clear(struct fm_node *n, const char *ticket, struct payload *pl)
{
    struct fm_gps_trail *tr = malloc(sizeof *tr);
    struct fm_route r;
    if (tr != NULL && fm_node_gps_trail_get(n, ticket, tr) == FM_OK && tr->n > 0) {
        r.distance_m = tr->distance_m;
        r.enroute_s = (tr->pt[tr->n - 1].at_ms - tr->pt[0].at_ms) / 1000;
        if (r.distance_m <= FM_ROUTE_MAX && r.enroute_s <= FM_ROUTE_MAX &&
            !fm_route_append(pl->text, sizeof pl->text, &r))
            fm_log(FM_LOG_WARN, "workflow", "ticket %s: the result is too long to carry the "
                   "GPS route summary; it stays local", ticket);
    }
    free(tr);
}

/* gps: stamped by position (docs/gps.md); only the unit's own node, only
 * en route and arrive. A button press on a step already stamped by GPS is
 * written as a confirmation: it cannot move the first stamp. */
static int ticket_step(struct fm_node *n, const char *ticket, enum fm_ticket_step step,
                       const char *text, bool gps)
{
    struct store_txn *t;
    struct wf_tk_refs *x = calloc(1, sizeof *x);
    struct payload *pl = payloads_new(1);
    int rc;
    if (x == NULL || pl == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    rc = FM_EINVAL;
    if (n == NULL || !n->has_identity) {
        rc = FM_EPERM;
        goto out;
    }
    if (gps && (wf_is_dispatcher(n) || (step != FM_STEP_ENROUTE && step != FM_STEP_ARRIVE)))
        goto out;
    if (ticket == NULL || step < FM_STEP_ACK || step > FM_STEP_CANCEL ||
        (step == FM_STEP_CLEAR && (text == NULL || text[0] == '\0')) ||
        (text != NULL && text[0] != '\0' && !payload_text_ok(text, 1, FM_TEXT_MAX - 1)))
        goto out;
    struct fm_route forged;
    if (step == FM_STEP_CLEAR && fm_route_parse(text, &forged, NULL))
        goto out; /* the summary is the trail's to write, not the crew's */
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    rc = wf_ticket_refs(t, ticket, x);
    store_txn_abort(&t);
    if (rc != FM_OK)
        goto out;
    /* the step carries the unit's name as registered here: what a station's
     * or vehicle's certificate is checked against (docs/workflow.md §4) */
    struct fm_unit *u = malloc(sizeof *u);
    if (u == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    if (fm_node_unit_get(n, x->tk.unit, u) == FM_OK && u->name[0] != '\0')
        fm_strlcpy(x->unit_name, u->name, sizeof x->unit_name);
    free(u);
    /* a crew enrolled under a name its unit had before a rename (or under
     * its stable id) claims it by that name (docs/workflow.md §1c) */
    bool holds = false;
    if (!wf_is_dispatcher(n) && n->cert.unit[0] != '\0' &&
        strcmp(n->cert.unit, x->unit_name) != 0 &&
        (rc = model_node_unit_claim(n, x->tk.unit, n->cert.unit, &holds)) != FM_OK)
        goto out;
    if (holds)
        fm_strlcpy(x->unit_name, n->cert.unit, sizeof x->unit_name);
    /* closed tickets take no more steps; steps only move forward */
    enum fm_ticket_state want = step == FM_STEP_CANCEL ? FM_TICKET_CANCELLED
                                                       : (enum fm_ticket_state)step;
    const struct fm_ticket_mark *mk = step == FM_STEP_ENROUTE  ? &x->tk.enroute
                                      : step == FM_STEP_ARRIVE ? &x->tk.onscene
                                                               : NULL;
    bool confirm = !gps && mk != NULL && mk->hlc != 0 && mk->gps;
    if (!x->tk.active || (step != FM_STEP_CANCEL && x->tk.state >= want && !confirm)) {
        rc = FM_ESTATE;
        goto out;
    }
    /* a dispatcher node reports on the unit's behalf; a station or vehicle
     * only for the unit its certificate names (the carried name or id) */
    wf_step_payload(pl, x, (uint8_t)step, wf_is_dispatcher(n), gps, text);
    if (step == FM_STEP_CLEAR && !wf_is_dispatcher(n))
        route_into_clear(n, x->tk.id, pl);
    if (!wf_is_dispatcher(n) && !workflow_unit_own(n->cert.unit, &pl->ref3, pl)) {
        rc = FM_EUNIT;
        goto out;
    }
    rc = write_one(n, pl, NULL);
out:
    free(x);
    free(pl);
    return rc;
}

int fm_node_ticket_step(struct fm_node *n, const char *ticket, enum fm_ticket_step step,
                        const char *text)
{
    return ticket_step(n, ticket, step, text, false);
}

int fm_node_ticket_step_gps(struct fm_node *n, const char *ticket, enum fm_ticket_step step,
                            const char *text)
{
    return ticket_step(n, ticket, step, text, true);
}

int fm_node_ticket_reassign(struct fm_node *n, const char *ticket, const char *unit,
                            const char *reason, char new_id[FM_ID_MAX])
{
    struct store_txn *t;
    struct wf_tk_refs *x = calloc(1, sizeof *x);
    struct payload *pls = payloads_new(2);
    char uid[FM_ID_MAX];
    uint64_t first = 0;
    bool busy = false;
    int rc;
    if (x == NULL || pls == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    rc = FM_EINVAL;
    if (n == NULL || !n->has_identity || !wf_can_dispatch(n)) {
        rc = FM_EPERM;
        goto out;
    }
    if (ticket == NULL || unit == NULL ||
        (reason != NULL && reason[0] != '\0' && !payload_text_ok(reason, 1, FM_TEXT_MAX - 1)))
        goto out;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    if ((rc = wf_ticket_refs(t, ticket, x)) == FM_OK &&
        (rc = wf_ref_resolve(t, FM_ENT_UNIT, unit, uid, &pls[1].ref2, NULL)) == FM_OK &&
        (rc = unit_busy(t, uid, &busy)) == FM_OK)
        rc = dispatch_unit_name(t, uid, &pls[1]);
    store_txn_abort(&t);
    if (rc != FM_OK)
        goto out;
    if (!x->tk.active || busy) {
        rc = FM_ESTATE;
        goto out;
    }
    wf_step_payload(&pls[0], x, TS_REASSIGN, wf_is_dispatcher(n), false, reason);
    pls[1].log.kind = OP_TICKET_DISPATCH;
    pls[1].ref = x->incident;
    pls[1].ref3 = x->ticket;
    pls[1].epoch = x->epoch;
    pls[1].present |= PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH);
    if ((rc = node_write_batch(n, &pls->log, 2, &first)) == FM_OK && new_id != NULL)
        fm_op_id_format(n->id.pk, first + 1, new_id);
out:
    free(x);
    free(pls);
    return rc;
}

/* ---- escalation, feedback ---- */

int fm_node_escalate(struct fm_node *n, const char *incident, uint8_t tier, const char *ticket,
                     const char *reason)
{
    struct store_txn *t;
    struct payload *pl = payloads_new(1);
    char id[FM_ID_MAX];
    int rc = FM_EINVAL;
    if (pl == NULL)
        return FM_ENOMEM;
    if (n == NULL || !n->has_identity) {
        rc = FM_EPERM;
        goto out;
    }
    if (incident == NULL || tier < 2 || tier > 3 ||
        (reason != NULL && reason[0] != '\0' && !payload_text_ok(reason, 1, FM_TEXT_MAX - 1)))
        goto out;
    pl->log.kind = OP_TICKET_ESCALATE;
    pl->tier = tier;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_TIER);
    if (reason != NULL && reason[0] != '\0') {
        fm_strlcpy(pl->text, reason, sizeof pl->text);
        pl->present |= PT_BIT(PT_TEXT);
    }
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    rc = wf_ref_resolve(t, FM_ENT_INCIDENT, incident, id, &pl->ref, NULL);
    if (rc == FM_OK && ticket != NULL) {
        rc = wf_ref_resolve(t, FM_ENT_TICKET, ticket, id, &pl->ref2, NULL);
        pl->present |= PT_BIT(PT_REF2);
    }
    store_txn_abort(&t);
    if (rc == FM_OK)
        rc = write_one(n, pl, NULL);
out:
    free(pl);
    return rc;
}

int fm_node_incident_feedback(struct fm_node *n, const char *incident, uint8_t score,
                              const char *comment)
{
    struct store_txn *t;
    struct payload *pl = payloads_new(1);
    char id[FM_ID_MAX];
    int rc = FM_EINVAL;
    if (pl == NULL)
        return FM_ENOMEM;
    if (incident == NULL || score < 1 || score > 5 ||
        (comment != NULL && comment[0] != '\0' && !payload_text_ok(comment, 1, FM_TEXT_MAX - 1)))
        goto out;
    pl->log.kind = OP_INC_FEEDBACK;
    pl->score = score;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_SCORE);
    if (comment != NULL && comment[0] != '\0') {
        fm_strlcpy(pl->text, comment, sizeof pl->text);
        pl->present |= PT_BIT(PT_TEXT);
    }
    if (n == NULL || !n->has_identity) {
        rc = FM_EPERM;
        goto out;
    }
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    rc = wf_ref_resolve(t, FM_ENT_INCIDENT, incident, id, &pl->ref, NULL);
    store_txn_abort(&t);
    if (rc == FM_OK)
        rc = write_one(n, pl, NULL);
out:
    free(pl);
    return rc;
}

/* ---- materials ---- */

int fm_node_material_request(struct fm_node *n, const char *incident, const char *kind,
                             int64_t qty, const char *text, char id_out[FM_ID_MAX])
{
    struct store_txn *t;
    struct payload *pl = payloads_new(1);
    char id[FM_ID_MAX];
    int rc = FM_EINVAL;
    if (pl == NULL)
        return FM_ENOMEM;
    if (incident == NULL || !payload_text_ok(kind, 1, FM_NAME_MAX - 1) || qty < 1 ||
        qty > FM_QTY_MAX ||
        (text != NULL && text[0] != '\0' && !payload_text_ok(text, 1, FM_TEXT_MAX - 1)))
        goto out;
    if (n == NULL || !n->has_identity) {
        rc = FM_EPERM;
        goto out;
    }
    pl->log.kind = OP_MAT_REQUEST;
    fm_strlcpy(pl->res_kind, kind, sizeof pl->res_kind);
    pl->qty = qty;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_RES_KIND) | PT_BIT(PT_QTY);
    if (text != NULL && text[0] != '\0') {
        fm_strlcpy(pl->text, text, sizeof pl->text);
        pl->present |= PT_BIT(PT_TEXT);
    }
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    rc = wf_ref_resolve(t, FM_ENT_INCIDENT, incident, id, &pl->ref, NULL);
    store_txn_abort(&t);
    if (rc == FM_OK)
        rc = write_one(n, pl, id_out);
out:
    free(pl);
    return rc;
}

/* Allocated minus returned for one (request, depot) pair. */
static int64_t move_outstanding(struct store_txn *t, const char *req, const struct payload_ref *res)
{
    uint8_t key[FM_ID_MAX + 1 + FM_PK_LEN + 8];
    size_t idlen = strnlen(req, FM_ID_MAX - 1);
    const uint8_t *v;
    size_t vlen;
    memcpy(key, req, idlen);
    key[idlen] = 0;
    wf_ref_put(key + idlen + 1, res);
    if (store_get(t, DB_COUNTERS, key, idlen + 1 + FM_PK_LEN + 8, &v, &vlen) != FM_OK ||
        vlen != 16)
        return 0;
    return (int64_t)(fm_be64_get(v) - fm_be64_get(v + 8));
}

int fm_node_material_move(struct fm_node *n, const char *request, const char *resource,
                          int64_t qty, bool is_return)
{
    struct store_txn *t;
    struct payload *pl = payloads_new(1);
    struct model_rec *r = malloc(sizeof *r);
    struct fm_request req;
    struct fm_resource res;
    char rid[FM_ID_MAX], sid[FM_ID_MAX];
    int rc = FM_EINVAL;
    if (pl == NULL || r == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    if (n == NULL || !n->has_identity) {
        rc = FM_EPERM;
        goto out;
    }
    if (request == NULL || resource == NULL || qty < 1 || qty > FM_QTY_MAX)
        goto out;
    pl->log.kind = is_return ? OP_MAT_RETURN : OP_MAT_ALLOCATE;
    pl->qty = qty;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_QTY);
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    if ((rc = wf_ref_resolve(t, FM_ENT_REQUEST, request, rid, &pl->ref, r)) != FM_OK ||
        (rc = wf_rec_to_request(r, rid, &req)) != FM_OK)
        goto out_txn;
    if (!rec_ref(r, RQ_INCIDENT, &pl->ref3)) {
        rc = FM_ESTORE;
        goto out_txn;
    }
    if ((rc = wf_ref_resolve(t, FM_ENT_RESOURCE, resource, sid, &pl->ref2, r)) != FM_OK ||
        (rc = model_rec_to_resource(r, sid, &res)) != FM_OK)
        goto out_txn;
    if (wf_permitted(n, pl) != FM_OK && n->cert.unit[0] != '\0' &&
        strcmp(res.depot, n->cert.unit) == 0) {
        /* the stock of our unit's depot: say so (permit.c) */
        fm_strlcpy(pl->depot, res.depot, sizeof pl->depot);
        pl->present |= PT_BIT(PT_DEPOT);
    }
    if ((rc = wf_permitted(n, pl)) != FM_OK)
        goto out_txn; /* by role before by state: the refusal names the role */
    if (strcmp(res.kind, req.kind) != 0)
        rc = FM_EINVAL;
    else if (!is_return && (res.quantity < qty || req.allocated - req.returned + qty > req.qty))
        rc = FM_ESTATE;
    else if (is_return && move_outstanding(t, rid, &pl->ref2) < qty)
        rc = FM_ESTATE;
out_txn:
    store_txn_abort(&t);
    if (rc == FM_OK)
        rc = write_one(n, pl, NULL);
out:
    free(pl);
    free(r);
    return rc;
}

/* ---- bulletins ---- */

static bool audience_ok(const char *a)
{
    if (a == NULL || !payload_text_ok(a, 1, FM_NAME_MAX - 1))
        return false;
    if (strcmp(a, "all") == 0)
        return true;
    if (strncmp(a, "tier:", 5) == 0)
        return a[5] >= '1' && a[5] <= '3' && a[6] == '\0';
    static const char *const pre[] = {"dept:", "county:", "unit:"};
    for (size_t i = 0; i < 3; i++) {
        size_t k = strlen(pre[i]);
        if (strncmp(a, pre[i], k) == 0 && a[k] != '\0')
            return true;
    }
    return false;
}

int fm_node_bulletin_send(struct fm_node *n, const char *audience, const char *text,
                          char id_out[FM_ID_MAX])
{
    if (!audience_ok(audience) || !payload_text_ok(text, 1, FM_TEXT_MAX - 1))
        return FM_EINVAL;
    struct payload *pl = payloads_new(1);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->log.kind = OP_BULLETIN_SEND;
    fm_strlcpy(pl->audience, audience, sizeof pl->audience);
    fm_strlcpy(pl->text, text, sizeof pl->text);
    pl->present = PT_BIT(PT_AUDIENCE) | PT_BIT(PT_TEXT);
    int rc = n != NULL && n->has_identity ? write_one(n, pl, id_out) : FM_EPERM;
    free(pl);
    return rc;
}

int fm_node_bulletin_read(struct fm_node *n, const char *id)
{
    struct store_txn *t;
    struct payload *pl = payloads_new(1);
    char full[FM_ID_MAX];
    int rc;
    if (pl == NULL)
        return FM_ENOMEM;
    if (n == NULL || !n->has_identity) {
        rc = FM_EPERM;
        goto out;
    }
    pl->log.kind = OP_BULLETIN_READ;
    pl->present = PT_BIT(PT_REF);
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    if ((rc = wf_ref_resolve(t, FM_ENT_BULLETIN, id, full, &pl->ref, NULL)) == FM_OK) {
        uint8_t key[1 + FM_ID_MAX + 1 + FM_PK_LEN];
        const uint8_t *v;
        size_t vlen, idlen = strlen(full);
        key[0] = ENT_RECEIPT;
        memcpy(key + 1, full, idlen);
        key[1 + idlen] = 0;
        memcpy(key + 2 + idlen, n->id.pk, FM_PK_LEN);
        if (store_get(t, DB_ENTITIES, key, 2 + idlen + FM_PK_LEN, &v, &vlen) == FM_OK)
            rc = FM_EEXISTS;
    }
    store_txn_abort(&t);
    if (rc == FM_OK)
        rc = write_one(n, pl, NULL);
out:
    free(pl);
    return rc;
}

/* ---- directory ---- */

struct name_ctx {
    const struct fm_directory *d;
    bool *known;
};

/* Which directory units need no registration: an unkeyed one that a unit
 * entity stands for already (by name: registered by a directory, or by hand
 * and so adopted); a keyed one whose entity holds every field this version
 * gives it (otherwise it is registered again: a rename, a move, new
 * capabilities; the newer stamp wins). */
static int name_each(void *ctx, const struct fm_unit *u)
{
    struct name_ctx *c = ctx;
    const struct fm_dir_unit *du = fm_directory_unit_of(c->d, u, NULL);
    if (du == NULL)
        return 0;
    const struct fm_dir_dept *x = &c->d->depts[du->dept];
    if (!du->key[0] || (strcmp(u->name, du->name) == 0 && strcmp(u->department, x->name) == 0 &&
                        strcmp(u->kind, du->kind) == 0 &&
                        strcmp(u->capabilities, du->caps) == 0 && u->tier == x->tier))
        c->known[du - c->d->units] = true;
    return 0;
}

int fm_node_directory_publish(struct fm_node *n, const struct fm_directory *d,
                              char version_out[FM_ID_MAX], size_t *registered)
{
    struct fm_buf blob;
    struct payload *pls = NULL;
    bool *known = NULL;
    uint64_t first = 0;
    size_t nchunks, nreg = 0, k = 0;
    int rc;
    if (registered)
        *registered = 0;
    if (n == NULL || !n->has_identity ||
        (n->cert.role != FM_ROLE_ADMIN && n->cert.role != FM_ROLE_CENTRE))
        return FM_EPERM;
    if (d == NULL)
        return FM_EINVAL;
    if ((directory_has_keys(d) && n->cfg.op_format < 6) ||
        (fm_directory_long_name(d) != NULL && n->cfg.op_format < 7))
        return FM_ECONFIG; /* older builds refuse a keyed registration or a long name
                            * (decisions.md) */
    fm_buf_init(&blob, (size_t)FM_BLOB_MAX * FM_DIR_CHUNKS_MAX);
    if ((rc = directory_encode(d, &blob)) != FM_OK)
        goto out;
    nchunks = (blob.len + FM_BLOB_MAX - 1) / FM_BLOB_MAX;
    if (nchunks == 0 || nchunks > FM_DIR_CHUNKS_MAX) {
        rc = FM_ETOOBIG;
        goto out;
    }
    known = calloc(d->nunits ? d->nunits : 1, sizeof *known);
    pls = payloads_new(nchunks + d->nunits);
    if (known == NULL || pls == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    struct name_ctx nc = {d, known};
    if ((rc = fm_node_units(n, name_each, &nc)) != FM_OK)
        goto out;
    for (size_t i = 0; i < nchunks; i++, k++) {
        size_t off = i * FM_BLOB_MAX, len = blob.len - off;
        if (len > FM_BLOB_MAX)
            len = FM_BLOB_MAX;
        pls[k].log.kind = OP_DIR_PUBLISH;
        pls[k].part = (uint32_t)(i << 16 | nchunks);
        memcpy(pls[k].blob, blob.data + off, len);
        pls[k].blob_len = (uint16_t)len;
        pls[k].present = PT_BIT(PT_PART) | PT_BIT(PT_BLOB);
    }
    for (size_t i = 0; i < d->nunits; i++) {
        const struct fm_dir_unit *u = &d->units[i];
        const struct fm_dir_dept *x = &d->depts[u->dept];
        if (known[i])
            continue;
        struct payload *pl = &pls[k++];
        pl->log.kind = OP_UNIT_REGISTER;
        fm_strlcpy(pl->name, u->name, sizeof pl->name);
        fm_strlcpy(pl->department, x->name, sizeof pl->department);
        fm_strlcpy(pl->unit_kind, u->kind, sizeof pl->unit_kind);
        fm_strlcpy(pl->caps, u->caps, sizeof pl->caps);
        pl->tier = x->tier;
        /* the id comes from the key, or from (department, name), not from
         * this log: two publishers registering it concurrently make one
         * entity */
        directory_unit_ref(d, u, &pl->ref);
        fm_strlcpy(pl->key, u->key, sizeof pl->key);
        pl->present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_TIER) |
                      PT_BIT(PT_UNIT_KIND) | (u->caps[0] ? PT_BIT(PT_CAPS) : 0) |
                      PT_BIT(PT_REF) | (u->key[0] ? PT_BIT(PT_KEY) : 0);
        nreg++;
    }
    if ((rc = node_write_batch(n, &pls->log, k, &first)) != FM_OK)
        goto out;
    if (version_out)
        fm_op_id_format(n->id.pk, first, version_out);
    if (registered)
        *registered = nreg;
out:
    fm_buf_release(&blob);
    free(pls);
    free(known);
    return rc;
}
