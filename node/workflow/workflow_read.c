/*
 * workflow_read.c — reading the linkage workflow's state: tickets and
 * their histories, per-incident workflow state, material requests,
 * bulletins and receipts, and the winning directory version.
 *
 * Each call runs in one read transaction. Derived values (a ticket's
 * state, whether it is active, which directory version wins) are computed
 * here from the merged records, never stored, so they are as
 * order-independent as the records themselves.
 */
#include "workflow_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const ticket_state_names[] = {"dispatched", "acknowledged", "enroute",
                                                 "onscene",    "cleared",      "cancelled",
                                                 "reassigned"};

const char *fm_ticket_state_name(enum fm_ticket_state s)
{
    return (unsigned)s <= FM_TICKET_REASSIGNED ? ticket_state_names[s] : "?";
}

int fm_ticket_step_parse(const char *s, enum fm_ticket_step *out)
{
    static const char *const names[] = {"", "ack", "enroute", "arrive", "clear", "cancel"};
    for (unsigned i = 1; s != NULL && i <= FM_STEP_CANCEL; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum fm_ticket_step)i;
            return FM_OK;
        }
    }
    return FM_EINVAL;
}

/* ---- records -> structs ---- */

static void mark_get(const struct model_rec *r, unsigned tag, struct fm_ticket_mark *m,
                     char *text, size_t cap)
{
    const struct model_field_val *f = &r->f[tag];
    memset(m, 0, sizeof *m);
    if (!f->set || f->len < 1)
        return;
    m->hlc = f->hlc;
    fm_key_encode(f->author, m->author);
    m->behalf = (f->val[0] & 1) != 0;
    m->gps = (f->val[0] & 2) != 0;
    if (text != NULL) {
        size_t n = (size_t)f->len - 1;
        if (n >= cap)
            n = cap - 1;
        memcpy(text, f->val + 1, n);
        text[n] = '\0';
    }
}

int wf_rec_to_ticket(const struct model_rec *r, const char *id, struct fm_ticket *out)
{
    const struct model_field_val *c = &r->f[F_CREATED];
    memset(out, 0, sizeof *out);
    if (r->kind != FM_ENT_TICKET || !c->set || c->len != FM_PK_LEN + 8)
        return FM_ENOTFOUND;
    fm_strlcpy(out->id, id, sizeof out->id);
    wf_rec_ref_id(r, TK_INCIDENT, out->incident);
    wf_rec_ref_id(r, TK_UNIT, out->unit);
    wf_rec_ref_id(r, TK_REPLACES, out->replaces);
    out->dispatched.hlc = c->hlc;
    fm_key_encode(c->author, out->dispatched.author);
    mark_get(r, TK_ACK, &out->acked, NULL, 0);
    mark_get(r, TK_ENROUTE, &out->enroute, NULL, 0);
    mark_get(r, TK_ARRIVE, &out->onscene, NULL, 0);
    mark_get(r, TK_CLEAR, &out->cleared, out->result, sizeof out->result);
    mark_get(r, TK_CANCEL, &out->cancelled, out->reason, sizeof out->reason);
    if (out->cancelled.hlc == 0)
        mark_get(r, TK_REASSIGN, &out->reassigned, out->reason, sizeof out->reason);
    else
        mark_get(r, TK_REASSIGN, &out->reassigned, NULL, 0);
    out->events = (uint32_t)wf_rec_uint(r, TK_EVENTS);
    out->void_steps = (uint32_t)wf_rec_uint(r, TK_VOID);
    out->updated_hlc = wf_rec_uint(r, F_UPDATED);
    if (out->reassigned.hlc)
        out->state = FM_TICKET_REASSIGNED;
    else if (out->cleared.hlc)
        out->state = FM_TICKET_CLEARED;
    else if (out->cancelled.hlc)
        out->state = FM_TICKET_CANCELLED;
    else if (out->onscene.hlc)
        out->state = FM_TICKET_ONSCENE;
    else if (out->enroute.hlc)
        out->state = FM_TICKET_ENROUTE;
    else if (out->acked.hlc)
        out->state = FM_TICKET_ACKNOWLEDGED;
    else
        out->state = FM_TICKET_DISPATCHED;
    out->active = !out->reassigned.hlc && !out->cleared.hlc && !out->cancelled.hlc;
    return FM_OK;
}

int wf_rec_to_request(const struct model_rec *r, const char *id, struct fm_request *out)
{
    const struct model_field_val *c = &r->f[F_CREATED];
    memset(out, 0, sizeof *out);
    if (r->kind != FM_ENT_REQUEST || !c->set || c->len != FM_PK_LEN + 8)
        return FM_ENOTFOUND;
    fm_strlcpy(out->id, id, sizeof out->id);
    wf_rec_ref_id(r, RQ_INCIDENT, out->incident);
    wf_rec_str(r, RQ_KIND, out->kind, sizeof out->kind);
    wf_rec_str(r, RQ_TEXT, out->text, sizeof out->text);
    fm_key_encode(c->author, out->requester);
    out->qty = (int64_t)wf_rec_uint(r, RQ_QTY);
    out->allocated = (int64_t)wf_rec_uint(r, RQ_ALLOC);
    out->returned = (int64_t)wf_rec_uint(r, RQ_RET);
    out->created_hlc = c->hlc;
    out->updated_hlc = wf_rec_uint(r, F_UPDATED);
    return FM_OK;
}

int wf_walk(struct store_txn *t, uint8_t kind, bool with_placeholders,
            int (*each)(const struct model_rec *r, const char *id, void *arg), void *arg)
{
    struct store_each it;
    struct model_rec *r = malloc(sizeof *r);
    if (r == NULL)
        return FM_ENOMEM;
    int rc = store_each_prefix(&it, t, DB_ENTITIES, &kind, 1);
    while (rc == FM_OK && store_each_next(&it, &rc)) {
        const struct store_kv kv = it.kv;
        char id[FM_ID_MAX];
        if (!with_placeholders && !(kv.vlen > 2 && kv.val[2] == F_CREATED))
            continue;
        if (kv.klen - 1 >= FM_ID_MAX || model_rec_decode(r, kv.val, kv.vlen) != FM_OK) {
            rc = FM_ESTORE;
            break;
        }
        memcpy(id, kv.key + 1, kv.klen - 1);
        id[kv.klen - 1] = '\0';
        rc = each(r, id, arg); /* non-zero stops the walk and is returned */
    }
    store_each_end(&it);
    free(r);
    return rc;
}

/* ---- tickets ---- */

/* A ticket of a merged incident counts on its survivor (§3c). */
static int ticket_to_root(struct store_txn *t, struct fm_ticket *tk)
{
    char root[FM_ID_MAX];
    int rc = model_incident_root(t, tk->incident, root);
    if (rc == FM_OK && strcmp(root, tk->incident) != 0) {
        fm_strlcpy(tk->merged_from, tk->incident, sizeof tk->merged_from);
        fm_strlcpy(tk->incident, root, sizeof tk->incident);
    }
    return rc;
}

struct tk_walk {
    struct store_txn *t;
    const char *incident;
    fm_ticket_cb cb;
    void *ctx;
    struct fm_ticket tk;
};

static int tk_each(const struct model_rec *r, const char *id, void *arg)
{
    struct tk_walk *w = arg;
    int rc;
    if (wf_rec_to_ticket(r, id, &w->tk) != FM_OK)
        return FM_ESTORE;
    if ((rc = ticket_to_root(w->t, &w->tk)) != FM_OK ||
        (rc = wf_ticket_decided(w->t, &w->tk)) != FM_OK)
        return rc;
    if (w->incident != NULL && strcmp(w->tk.incident, w->incident) != 0)
        return 0;
    return w->cb(w->ctx, &w->tk);
}

int fm_node_tickets(struct fm_node *n, const char *incident, fm_ticket_cb cb, void *ctx)
{
    struct store_txn *t;
    struct tk_walk *w = calloc(1, sizeof *w);
    char full[FM_ID_MAX];
    int rc;
    if (w == NULL)
        return FM_ENOMEM;
    if (cb == NULL) {
        free(w);
        return FM_EINVAL;
    }
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    if (incident != NULL && (rc = node_resolve_txn(t, FM_ENT_INCIDENT, incident, full)) != FM_OK)
        goto out_txn;
    w->t = t;
    w->incident = incident ? full : NULL;
    w->cb = cb;
    w->ctx = ctx;
    rc = wf_walk(t, FM_ENT_TICKET, false, tk_each, w);
out_txn:
    store_txn_abort(&t);
out:
    free(w);
    return rc;
}

int fm_node_ticket_get(struct fm_node *n, const char *id, struct fm_ticket *out)
{
    struct store_txn *t;
    struct model_rec *r = malloc(sizeof *r);
    char full[FM_ID_MAX];
    int rc;
    if (r == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) == FM_OK) {
        if ((rc = node_resolve_txn(t, FM_ENT_TICKET, id, full)) == FM_OK &&
            (rc = model_rec_load(t, FM_ENT_TICKET, full, r)) == FM_OK &&
            (rc = wf_rec_to_ticket(r, full, out)) == FM_OK &&
            (rc = ticket_to_root(t, out)) == FM_OK)
            rc = wf_ticket_decided(t, out);
        store_txn_abort(&t);
    }
    free(r);
    return rc;
}

int fm_node_ticket_history(struct fm_node *n, const char *id, fm_ticket_event_cb cb, void *ctx)
{
    struct store_txn *t;
    struct store_each it;
    struct fm_ticket_event *e = malloc(sizeof *e);
    uint8_t prefix[FM_ID_MAX + 1];
    char full[FM_ID_MAX];
    int rc;
    if (e == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    if ((rc = node_resolve_txn(t, FM_ENT_TICKET, id, full)) != FM_OK)
        goto out_txn;
    size_t plen = model_tl_prefix(prefix, FM_ENT_TICKET, full);
    rc = store_each_prefix(&it, t, DB_TIMELINE, prefix, plen);
    while (rc == FM_OK && store_each_next(&it, &rc)) {
        const struct store_kv kv = it.kv;
        if (kv.klen != plen + 8 + FM_PK_LEN + 8 || kv.vlen < 2 || kv.val[0] > TS__MAX ||
            kv.vlen - 2 >= sizeof e->text) {
            rc = FM_ESTORE;
            break;
        }
        memset(e, 0, sizeof *e);
        e->hlc = fm_be64_get(kv.key + plen);
        fm_key_encode(kv.key + plen + 8, e->author);
        e->seq = fm_be64_get(kv.key + plen + 8 + FM_PK_LEN);
        fm_strlcpy(e->step, wf_step_name(kv.val[0]), sizeof e->step);
        e->behalf = (kv.val[1] & 1) != 0;
        e->gps = (kv.val[1] & 2) != 0;
        memcpy(e->text, kv.val + 2, kv.vlen - 2);
        if ((rc = model_op_operator(t, kv.key + plen + 8, e->seq, e->operator_name)) != FM_OK)
            break;
        rc = cb(ctx, e); /* non-zero stops the walk and is returned */
    }
    store_each_end(&it);
out_txn:
    store_txn_abort(&t);
out:
    free(e);
    return rc;
}

/* ---- per-incident workflow ---- */

/* The public's feedback on incidents merged into this one counts here
 * (§3c); r is scratch. */
static int members_feedback(struct store_txn *t, const char *incident, struct model_rec *r,
                            struct fm_incident_workflow *out)
{
    char (*m)[FM_ID_MAX] = malloc(FM_MERGE_MEMBERS * sizeof *m);
    size_t nm = 0;
    int rc = m == NULL ? FM_ENOMEM : model_incident_members(t, incident, m, FM_MERGE_MEMBERS, &nm);
    for (size_t i = 0; i < nm && rc == FM_OK; i++) {
        rc = model_rec_load(t, ENT_WFINC, m[i], r);
        if (rc == FM_ENOTFOUND) {
            rc = FM_OK;
            continue;
        }
        out->feedback_count += (uint32_t)wf_rec_uint(r, WI_FB_N);
        out->feedback_sum += wf_rec_uint(r, WI_FB_SUM);
    }
    free(m);
    return rc;
}

int wf_incident_workflow_txn(struct store_txn *t, const char *incident,
                             struct fm_incident_workflow *out)
{
    struct model_rec *r = malloc(sizeof *r);
    int rc;
    memset(out, 0, sizeof *out);
    out->alarm_level = 1;
    if (r == NULL)
        return FM_ENOMEM;
    rc = model_rec_load(t, ENT_WFINC, incident, r);
    if (rc == FM_ENOTFOUND) {
        rc = members_feedback(t, incident, r, out);
        goto out;
    }
    if (rc != FM_OK)
        goto out;
    const struct model_field_val *f = &r->f[WI_COORD];
    if (f->set && f->len == 2 * (FM_PK_LEN + 8)) {
        fm_op_id_format(f->val, fm_be64_get(f->val + FM_PK_LEN), out->coordinator_unit);
        fm_op_id_format(f->val + FM_PK_LEN + 8, fm_be64_get(f->val + 2 * FM_PK_LEN + 8),
                          out->coordinator_ticket);
        out->coordinator_hlc = f->hlc;
    }
    for (unsigned tier = 2; tier <= 3; tier++) {
        const struct model_field_val *e = &r->f[tier == 2 ? WI_ESC2 : WI_ESC3];
        if (!e->set)
            continue;
        out->escalated_tier = (uint8_t)tier;
        out->escalated_hlc[tier] = e->hlc;
        out->escalation_raises[tier] = (uint32_t)wf_rec_uint(r, tier == 2 ? WI_ESC2_N : WI_ESC3_N);
    }
    out->feedback_count = (uint32_t)wf_rec_uint(r, WI_FB_N);
    out->feedback_sum = wf_rec_uint(r, WI_FB_SUM);
    if ((rc = members_feedback(t, incident, r, out)) != FM_OK)
        goto out;
    f = &r->f[WI_ALARM];
    if (f->set && f->len == 1 && f->val[0] >= 2 && f->val[0] <= FM_ALARM_MAX) {
        out->alarm_level = f->val[0];
        out->alarm_hlc = f->hlc;
    }
out:
    free(r);
    return rc;
}

int fm_node_incident_workflow(struct fm_node *n, const char *incident,
                              struct fm_incident_workflow *out)
{
    struct store_txn *t;
    char full[FM_ID_MAX];
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = node_resolve_txn(t, FM_ENT_INCIDENT, incident, full)) == FM_OK)
        rc = wf_incident_workflow_txn(t, full, out);
    store_txn_abort(&t);
    return rc;
}

/* ---- requests ---- */

struct rq_walk {
    fm_request_cb cb;
    void *ctx;
    struct fm_request rq;
};

static int rq_each(const struct model_rec *r, const char *id, void *arg)
{
    struct rq_walk *w = arg;
    if (wf_rec_to_request(r, id, &w->rq) != FM_OK)
        return FM_ESTORE;
    return w->cb(w->ctx, &w->rq);
}

int fm_node_requests(struct fm_node *n, fm_request_cb cb, void *ctx)
{
    struct store_txn *t;
    struct rq_walk *w = calloc(1, sizeof *w);
    int rc;
    if (w == NULL)
        return FM_ENOMEM;
    w->cb = cb;
    w->ctx = ctx;
    if (cb == NULL)
        rc = FM_EINVAL;
    else if ((rc = store_read_begin(n->st, &t)) == FM_OK) {
        rc = wf_walk(t, FM_ENT_REQUEST, false, rq_each, w);
        store_txn_abort(&t);
    }
    free(w);
    return rc;
}

/* ---- bulletins ---- */

/* Is this node in the audience? From its certificate and the directory. */
static bool audience_match(struct fm_node *n, struct store_txn *t, const struct fm_directory *d,
                           const char *aud)
{
    const struct fm_cert *c = &n->cert;
    if (strcmp(aud, "all") == 0)
        return true;
    if (!n->has_identity)
        return false;
    const struct fm_dir_unit *u = fm_directory_unit(d, c->unit);
    const struct fm_dir_dept *x = u ? &d->depts[u->dept] : directory_dept(d, c->name);
    if (strncmp(aud, "tier:", 5) == 0)
        return c->tier == (uint8_t)(aud[5] - '0') || (c->tier == 0 && x && x->tier == aud[5] - '0');
    if (strncmp(aud, "dept:", 5) == 0)
        return strcmp(c->name, aud + 5) == 0 || (x && strcmp(x->name, aud + 5) == 0);
    if (strncmp(aud, "county:", 7) == 0)
        return strcmp(c->name, aud + 7) == 0 ||
               (x && x->county < d->ncounties && strcmp(d->counties[x->county], aud + 7) == 0);
    if (strncmp(aud, "unit:", 5) == 0) {
        const char *want = aud + 5;
        char id[FM_ID_MAX];
        if ((c->unit[0] && strcmp(c->unit, want) == 0) || strcmp(c->name, want) == 0)
            return true;
        /* an id (prefix) naming the unit entity whose name is our unit */
        if (c->unit[0] && node_resolve_txn(t, FM_ENT_UNIT, want, id) == FM_OK) {
            struct model_rec *r = malloc(sizeof *r);
            struct fm_unit ue;
            bool ok = r != NULL && model_rec_load(t, FM_ENT_UNIT, id, r) == FM_OK &&
                      model_rec_to_unit(r, id, &ue) == FM_OK && strcmp(ue.name, c->unit) == 0;
            free(r);
            return ok;
        }
    }
    return false;
}

static bool receipt_of(struct store_txn *t, const char *bid, const uint8_t reader[FM_PK_LEN])
{
    uint8_t key[1 + FM_ID_MAX + 1 + FM_PK_LEN];
    const uint8_t *v;
    size_t vlen, idlen = strnlen(bid, FM_ID_MAX - 1);
    key[0] = ENT_RECEIPT;
    memcpy(key + 1, bid, idlen);
    key[1 + idlen] = 0;
    memcpy(key + 2 + idlen, reader, FM_PK_LEN);
    return store_get(t, DB_ENTITIES, key, 2 + idlen + FM_PK_LEN, &v, &vlen) == FM_OK;
}

struct bl_walk {
    struct fm_node *n;
    struct store_txn *t;
    struct fm_directory *d;
    fm_bulletin_cb cb;
    void *ctx;
    struct fm_bulletin b;
};

static int bl_each(const struct model_rec *r, const char *id, void *arg)
{
    struct bl_walk *w = arg;
    struct fm_bulletin *b = &w->b;
    const struct model_field_val *c = &r->f[F_CREATED];
    memset(b, 0, sizeof *b);
    if (!c->set)
        return FM_ESTORE;
    fm_strlcpy(b->id, id, sizeof b->id);
    wf_rec_str(r, BL_AUDIENCE, b->audience, sizeof b->audience);
    wf_rec_str(r, BL_TEXT, b->text, sizeof b->text);
    fm_key_encode(c->author, b->sender);
    b->sent_hlc = c->hlc;
    b->receipts = (uint32_t)wf_rec_uint(r, BL_READERS);
    b->for_me = audience_match(w->n, w->t, w->d, b->audience);
    b->read_by_me = w->n->has_identity && receipt_of(w->t, id, w->n->id.pk);
    return w->cb(w->ctx, b);
}

int fm_node_bulletins(struct fm_node *n, fm_bulletin_cb cb, void *ctx)
{
    struct store_txn *t;
    struct bl_walk *w = calloc(1, sizeof *w);
    int rc;
    if (w == NULL)
        return FM_ENOMEM;
    if (cb == NULL) {
        free(w);
        return FM_EINVAL;
    }
    if ((rc = store_read_begin(n->st, &t)) == FM_OK) {
        rc = wf_directory_txn(t, &w->d);
        if (rc == FM_OK || rc == FM_ENOTFOUND) {
            w->n = n;
            w->t = t;
            w->cb = cb;
            w->ctx = ctx;
            rc = wf_walk(t, FM_ENT_BULLETIN, false, bl_each, w);
        }
        store_txn_abort(&t);
    }
    fm_directory_free(&w->d);
    free(w);
    return rc;
}

int fm_node_bulletin_receipts(struct fm_node *n, const char *id, fm_receipt_cb cb, void *ctx)
{
    struct store_txn *t;
    struct store_each it;
    struct fm_receipt rec;
    uint8_t prefix[1 + FM_ID_MAX + 1];
    char full[FM_ID_MAX];
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = node_resolve_txn(t, FM_ENT_BULLETIN, id, full)) != FM_OK)
        goto out;
    size_t idlen = strlen(full), plen = idlen + 2;
    prefix[0] = ENT_RECEIPT;
    memcpy(prefix + 1, full, idlen);
    prefix[1 + idlen] = 0;
    rc = store_each_prefix(&it, t, DB_ENTITIES, prefix, plen);
    while (rc == FM_OK && store_each_next(&it, &rc)) {
        const struct store_kv kv = it.kv;
        if (kv.klen != plen + FM_PK_LEN || kv.vlen != 11) {
            rc = FM_ESTORE;
            break;
        }
        fm_key_encode(kv.key + plen, rec.reader);
        rec.hlc = fm_be64_get(kv.val + 3);
        rc = cb(ctx, &rec); /* non-zero stops the walk and is returned */
    }
    store_each_end(&it);
out:
    store_txn_abort(&t);
    return rc;
}

/* ---- the directory: the newest complete version ---- */

struct dir_ver {
    uint8_t author[FM_PK_LEN];
    uint64_t first_seq, hlc;
    uint16_t count, seen;
    bool ok;
};

static int ver_cmp_desc(const void *a, const void *b)
{
    const struct dir_ver *x = a, *y = b;
    if (x->hlc != y->hlc)
        return x->hlc > y->hlc ? -1 : 1;
    return -memcmp(x->author, y->author, FM_PK_LEN);
}

/* Concatenates version v's chunks and decodes them. */
static int dir_assemble(struct store_txn *t, const struct dir_ver *v, struct fm_directory *d)
{
    struct fm_buf b;
    uint8_t key[1 + FM_PK_LEN + 8 + 2];
    int rc = FM_OK;
    fm_buf_init(&b, (size_t)FM_BLOB_MAX * FM_DIR_CHUNKS_MAX);
    key[0] = ENT_DIRCHUNK;
    memcpy(key + 1, v->author, FM_PK_LEN);
    fm_be64_put(key + 1 + FM_PK_LEN, v->first_seq);
    for (uint16_t i = 0; i < v->count && rc == FM_OK; i++) {
        const uint8_t *val;
        size_t vlen;
        key[1 + FM_PK_LEN + 8] = (uint8_t)(i >> 8);
        key[1 + FM_PK_LEN + 9] = (uint8_t)i;
        if ((rc = store_get(t, DB_ENTITIES, key, sizeof key, &val, &vlen)) != FM_OK)
            break;
        if (vlen < 13) {
            rc = FM_ESTORE;
            break;
        }
        rc = fm_buf_append(&b, val + 13, vlen - 13);
    }
    if (rc == FM_OK)
        rc = directory_decode(d, b.data, b.len);
    fm_buf_release(&b);
    return rc;
}

int wf_directory_txn(struct store_txn *t, struct fm_directory **out)
{
    struct store_each it;
    struct dir_ver *vers = NULL;
    size_t nv = 0, cap = 0;
    uint8_t kind = ENT_DIRCHUNK;
    *out = NULL;
    int rc = store_each_prefix(&it, t, DB_ENTITIES, &kind, 1);
    while (rc == FM_OK && store_each_next(&it, &rc)) {
        const struct store_kv kv = it.kv;
        if (kv.klen != 1 + FM_PK_LEN + 8 + 2 || kv.vlen < 13) {
            rc = FM_ESTORE;
            break;
        }
        uint64_t first = fm_be64_get(kv.key + 1 + FM_PK_LEN);
        uint16_t idx = (uint16_t)(kv.key[1 + FM_PK_LEN + 8] << 8 | kv.key[1 + FM_PK_LEN + 9]);
        uint16_t count = (uint16_t)(kv.val[11] << 8 | kv.val[12]);
        struct dir_ver *v = nv ? &vers[nv - 1] : NULL;
        if (v == NULL || memcmp(v->author, kv.key + 1, FM_PK_LEN) != 0 || v->first_seq != first) {
            if (nv == cap) {
                size_t ncap = cap ? 2 * cap : 8;
                struct dir_ver *nvv = realloc(vers, ncap * sizeof *nvv);
                if (nvv == NULL) {
                    rc = FM_ENOMEM;
                    break;
                }
                vers = nvv;
                cap = ncap;
            }
            v = &vers[nv++];
            memset(v, 0, sizeof *v);
            memcpy(v->author, kv.key + 1, FM_PK_LEN);
            v->first_seq = first;
            v->count = count;
            v->ok = true;
        }
        /* chunks come in index order; a complete version has 0..count-1 */
        if (idx != v->seen || count != v->count)
            v->ok = false;
        if (idx == 0)
            v->hlc = fm_be64_get(kv.val + 3);
        v->seen++;
    }
    store_each_end(&it);
    if (rc != FM_OK)
        goto out;
    rc = FM_ENOTFOUND;
    if (nv > 0)
        qsort(vers, nv, sizeof *vers, ver_cmp_desc);
    struct fm_directory *d = malloc(sizeof *d);
    if (d == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nv; i++) {
        if (!vers[i].ok || vers[i].seen != vers[i].count)
            continue;
        int drc = dir_assemble(t, &vers[i], d);
        if (drc == FM_EDECODE)
            continue; /* a version nobody can read is skipped everywhere alike */
        if (drc != FM_OK) {
            rc = drc;
            break;
        }
        fm_op_id_format(vers[i].author, vers[i].first_seq, d->version);
        fm_key_encode(vers[i].author, d->publisher);
        d->version_hlc = vers[i].hlc;
        *out = d;
        d = NULL;
        rc = FM_OK;
        break;
    }
    free(d);
out:
    free(vers);
    return rc;
}

int fm_node_directory_get(struct fm_node *n, struct fm_directory **out)
{
    struct store_txn *t;
    int rc = store_read_begin(n->st, &t);
    *out = NULL;
    if (rc != FM_OK)
        return rc;
    rc = wf_directory_txn(t, out);
    store_txn_abort(&t);
    return rc;
}

uint8_t fm_node_default_priority(struct fm_node *n, const char *category)
{
    struct fm_directory *d = NULL;
    uint8_t p = 0;
    if (fm_node_directory_get(n, &d) == FM_OK) {
        const struct fm_dir_rule *r = fm_directory_rule(d, category);
        if (r != NULL)
            p = r->priority;
    }
    fm_directory_free(&d);
    return p;
}
