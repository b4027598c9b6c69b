/*
 * orphans.c — nothing stranded: closing an incident only when no unit is
 * still out on it, and the list of what fell through the cracks.
 *
 * fm_node_incident_close refuses to resolve or close an incident that
 * holds active tickets (the units would stay "assigned" for ever), or,
 * asked to, cancels them and moves the status in one write: every cancel
 * and the status op are signed and stored in one transaction, so no node
 * ever holds the status without the cancels.
 *
 * fm_node_orphans computes, from the merged records only (so every node
 * holding the same ops lists the same), the open incidents with no active
 * ticket, the resolved or closed incidents that still hold one (a
 * dispatch and a close made on two sides of a partition), and the units
 * left assigned or on scene with no active ticket. It reads tickets once
 * into a small summary sorted by incident and by unit, so the cost is
 * O((I + T + U) log T), not I x T.
 */
#include "workflow_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- closing ---- */

/* The incident's active tickets, in id order, into x[0..*nx) (at most cap). */
struct close_walk {
    const char *incident;
    char (*ids)[FM_ID_MAX];
    size_t n, cap, total;
};

static int close_each(void *ctx, const struct fm_ticket *tk)
{
    struct close_walk *w = ctx;
    if (!tk->active || strcmp(tk->incident, w->incident) != 0)
        return 0;
    if (w->n < w->cap)
        fm_strlcpy(w->ids[w->n++], tk->id, FM_ID_MAX);
    w->total++;
    return 0;
}

/* The status op for the incident, at its current epoch. */
static int close_status_payload(struct store_txn *t, const char *incident,
                                enum fm_incident_stage stage, struct payload *pl)
{
    char id[FM_ID_MAX];
    enum fm_incident_stage cur;
    int rc = wf_ref_resolve(t, FM_ENT_INCIDENT, incident, id, &pl->ref, NULL);
    if (rc != FM_OK)
        return rc;
    pl->log.kind = OP_INC_STATUS;
    pl->epoch = wf_incident_epoch_stage(t, &pl->ref, &cur);
    pl->stage = (uint8_t)stage;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
    return (unsigned)stage <= (unsigned)cur ? FM_ESTATE : FM_OK;
}

/* The cancel steps of the active tickets: pls[0..n). */
static int close_cancel_payloads(struct fm_node *n, struct store_txn *t,
                                 char (*ids)[FM_ID_MAX], size_t nids, const char *reason,
                                 struct payload *pls)
{
    struct wf_tk_refs *x = malloc(sizeof *x);
    int rc = FM_OK;
    if (x == NULL)
        return FM_ENOMEM;
    for (size_t i = 0; i < nids && rc == FM_OK; i++) {
        memset(x, 0, sizeof *x);
        if ((rc = wf_ticket_refs(t, ids[i], x)) != FM_OK)
            break;
        struct model_rec *r = malloc(sizeof *r);
        if (r == NULL) {
            rc = FM_ENOMEM;
            break;
        }
        if (model_rec_load(t, FM_ENT_UNIT, x->tk.unit, r) == FM_OK)
            wf_rec_str(r, F_NAME, x->unit_name, sizeof x->unit_name);
        free(r);
        wf_step_payload(&pls[i], x, FM_STEP_CANCEL, wf_is_dispatcher(n), false, reason);
    }
    free(x);
    return rc;
}

int wf_close_with(struct fm_node *n, const char *incident, enum fm_incident_stage stage,
                  bool cancel_tickets, const char *reason, const struct payload *extra,
                  size_t nextra, size_t *nactive)
{
    struct close_walk w = {.cap = FM_CLOSE_MAX};
    struct store_txn *t = NULL;
    struct payload *pls = NULL;
    char full[FM_ID_MAX];
    int rc;
    if (nactive)
        *nactive = 0;
    if (n == NULL || !n->has_identity)
        return FM_EPERM;
    if (incident == NULL || (stage != FM_STAGE_RESOLVED && stage != FM_STAGE_CLOSED) ||
        (reason != NULL && reason[0] != '\0' && !payload_text_ok(reason, 1, FM_TEXT_MAX - 1)))
        return FM_EINVAL;
    if ((rc = fm_node_resolve_id(n, FM_ENT_INCIDENT, incident, full)) != FM_OK)
        return rc;
    if ((w.ids = calloc(FM_CLOSE_MAX, FM_ID_MAX)) == NULL ||
        (pls = calloc(nextra + FM_CLOSE_MAX + 1, sizeof *pls)) == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    w.incident = full;
    if ((rc = fm_node_tickets(n, full, close_each, &w)) != FM_OK)
        goto out;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    /* the batch: extra ops first, then the cancels, then the status */
    for (size_t i = 0; i < nextra; i++)
        pls[i] = extra[i];
    struct payload *st = &pls[nextra + w.n];
    if ((rc = close_status_payload(t, full, stage, st)) != FM_OK ||
        (rc = wf_permitted(n, st)) != FM_OK)
        goto out_txn;
    if (nactive)
        *nactive = w.total; /* tells this refusal from "not forward" */
    if (w.total > 0 && !cancel_tickets) {
        rc = FM_ESTATE;
        goto out_txn;
    }
    if (w.total > w.cap) {
        rc = FM_ETOOBIG;
        goto out_txn;
    }
    if (w.n > 0 && !wf_can_dispatch(n)) {
        rc = FM_EPERM; /* only centre and county cancel tickets */
        goto out_txn;
    }
    rc = close_cancel_payloads(n, t, w.ids, w.n, reason, pls + nextra);
out_txn:
    store_txn_abort(&t);
    if (rc == FM_OK)
        rc = node_write_batch(n, &pls->log, nextra + w.n + 1, NULL);
out:
    free(w.ids);
    free(pls);
    return rc;
}

int fm_node_incident_close(struct fm_node *n, const char *incident, enum fm_incident_stage stage,
                           bool cancel_tickets, const char *reason, size_t *nactive)
{
    return wf_close_with(n, incident, stage, cancel_tickets, reason, NULL, 0, nactive);
}

/* ---- the orphan list ---- */

struct tk_sum {                 /* what the list needs of a ticket */
    char id[FM_ID_MAX];
    char incident[FM_ID_MAX];
    char unit[FM_ID_MAX];
    bool active, cleared;
    uint64_t ended_hlc;         /* when it stopped being active (0 if active) */
};

struct orphan_scan {
    struct fm_node *n;
    struct tk_sum *tk;          /* sorted by (incident, id) */
    size_t ntk, cap;
    char (*busy)[FM_ID_MAX];    /* units holding an active ticket, sorted */
    size_t nbusy;
    struct fm_orphan *out;
    size_t nout, outcap;
};

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static int sum_each(void *ctx, const struct fm_ticket *tk)
{
    struct orphan_scan *s = ctx;
    if (s->ntk == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct tk_sum *nv = realloc(s->tk, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        s->tk = nv;
        s->cap = cap;
    }
    struct tk_sum *x = &s->tk[s->ntk++];
    fm_strlcpy(x->id, tk->id, sizeof x->id);
    fm_strlcpy(x->incident, tk->incident, sizeof x->incident);
    fm_strlcpy(x->unit, tk->unit, sizeof x->unit);
    x->active = tk->active;
    x->cleared = tk->state == FM_TICKET_CLEARED;
    x->ended_hlc = tk->active ? 0
                              : max_u64(tk->cleared.hlc,
                                        max_u64(tk->cancelled.hlc, tk->reassigned.hlc));
    return 0;
}

static int sum_cmp(const void *a, const void *b)
{
    const struct tk_sum *x = a, *y = b;
    int c = strcmp(x->incident, y->incident);
    return c != 0 ? c : strcmp(x->id, y->id);
}

static int id_cmp(const void *a, const void *b) { return strcmp(a, b); }

static struct fm_orphan *orphan_add(struct orphan_scan *s, enum fm_orphan_kind kind)
{
    if (s->nout == s->outcap) {
        size_t cap = s->outcap ? 2 * s->outcap : 16;
        struct fm_orphan *nv = realloc(s->out, cap * sizeof *nv);
        if (nv == NULL)
            return NULL;
        s->out = nv;
        s->outcap = cap;
    }
    struct fm_orphan *o = &s->out[s->nout++];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    return o;
}

static void orphan_unit_name(struct fm_node *n, struct fm_orphan *o)
{
    struct fm_unit *u = malloc(sizeof *u);
    if (u != NULL && fm_node_unit_get(n, o->unit, u) == FM_OK)
        fm_strlcpy(o->unit_name, u->name, sizeof o->unit_name);
    free(u);
}

/* First ticket of the incident in the sorted summary (ntk if none). */
static size_t sum_first(const struct orphan_scan *s, const char *incident)
{
    size_t lo = 0, hi = s->ntk;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->tk[mid].incident, incident) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void orphan_incident_fields(struct fm_orphan *o, const struct fm_incident *inc)
{
    fm_strlcpy(o->incident, inc->id, sizeof o->incident);
    fm_strlcpy(o->category, inc->category, sizeof o->category);
    fm_strlcpy(o->status, fm_stage_name(inc->stage), sizeof o->status);
    o->priority = inc->priority;
}

static int incident_each(void *ctx, const struct fm_incident *inc)
{
    struct orphan_scan *s = ctx;
    size_t i = sum_first(s, inc->id);
    bool open = fm_incident_open(inc);
    bool active = false, cleared = false;
    uint64_t since = inc->reported_hlc;
    size_t first = i;
    for (; i < s->ntk && strcmp(s->tk[i].incident, inc->id) == 0; i++) {
        const struct tk_sum *x = &s->tk[i];
        active = active || x->active;
        cleared = cleared || x->cleared;
        since = max_u64(since, x->ended_hlc);
        if (x->active && !open) { /* a unit still out on a closed incident */
            struct fm_orphan *o = orphan_add(s, FM_ORPHAN_STRANDED);
            if (o == NULL)
                return FM_ENOMEM;
            orphan_incident_fields(o, inc);
            fm_strlcpy(o->ticket, x->id, sizeof o->ticket);
            fm_strlcpy(o->unit, x->unit, sizeof o->unit);
            o->since_hlc = inc->updated_hlc;
            orphan_unit_name(s->n, o);
        }
    }
    if (!open || active)
        return 0;
    enum fm_orphan_kind kind = i == first ? FM_ORPHAN_UNDISPATCHED
                               : cleared  ? FM_ORPHAN_CLEARED
                                          : FM_ORPHAN_UNCOVERED;
    struct fm_orphan *o = orphan_add(s, kind);
    if (o == NULL)
        return FM_ENOMEM;
    orphan_incident_fields(o, inc);
    o->since_hlc = since;
    return 0;
}

static int unit_each(void *ctx, const struct fm_unit *u)
{
    struct orphan_scan *s = ctx;
    if (strcmp(u->status, "assigned") != 0 && strcmp(u->status, "onscene") != 0)
        return 0;
    if (s->nbusy > 0 && bsearch(u->id, s->busy, s->nbusy, FM_ID_MAX, id_cmp) != NULL)
        return 0;
    struct fm_orphan *o = orphan_add(s, FM_ORPHAN_BUSY_UNIT);
    if (o == NULL)
        return FM_ENOMEM;
    fm_strlcpy(o->unit, u->id, sizeof o->unit);
    fm_strlcpy(o->unit_name, u->name, sizeof o->unit_name);
    fm_strlcpy(o->status, u->status, sizeof o->status);
    o->since_hlc = u->updated_hlc;
    return 0;
}

/* Incidents by priority (most urgent first), then waiting longest, then
 * id; busy units last, by id. */
static int orphan_cmp(const void *a, const void *b)
{
    const struct fm_orphan *x = a, *y = b;
    bool ux = x->kind == FM_ORPHAN_BUSY_UNIT, uy = y->kind == FM_ORPHAN_BUSY_UNIT;
    if (ux != uy)
        return ux ? 1 : -1;
    if (!ux && x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (!ux && x->since_hlc != y->since_hlc)
        return x->since_hlc < y->since_hlc ? -1 : 1;
    int c = strcmp(x->incident, y->incident);
    if (c == 0)
        c = strcmp(x->ticket, y->ticket);
    return c != 0 ? c : strcmp(x->unit, y->unit);
}

static int busy_units(struct orphan_scan *s)
{
    if ((s->busy = calloc(s->ntk ? s->ntk : 1, FM_ID_MAX)) == NULL)
        return FM_ENOMEM;
    for (size_t i = 0; i < s->ntk; i++)
        if (s->tk[i].active)
            fm_strlcpy(s->busy[s->nbusy++], s->tk[i].unit, FM_ID_MAX);
    if (s->nbusy > 1)
        qsort(s->busy, s->nbusy, FM_ID_MAX, id_cmp);
    return FM_OK;
}

int fm_node_orphans(struct fm_node *n, fm_orphan_cb cb, void *ctx)
{
    struct orphan_scan s = {.n = n};
    struct fm_incident_filter any = {.stage = -1};
    int rc;
    if (n == NULL || cb == NULL)
        return FM_EINVAL;
    if ((rc = fm_node_tickets(n, NULL, sum_each, &s)) != FM_OK)
        goto out;
    if (s.ntk > 1) /* qsort may not take NULL, even for 0 items */
        qsort(s.tk, s.ntk, sizeof *s.tk, sum_cmp);
    if ((rc = busy_units(&s)) != FM_OK ||
        (rc = fm_node_incidents(n, &any, incident_each, &s)) != 0 ||
        (rc = fm_node_units(n, unit_each, &s)) != 0)
        goto out;
    if (s.nout > 1)
        qsort(s.out, s.nout, sizeof *s.out, orphan_cmp);
    for (size_t i = 0; i < s.nout && rc == 0; i++)
        rc = cb(ctx, &s.out[i]);
out:
    free(s.tk);
    free(s.busy);
    free(s.out);
    return rc;
}

const char *fm_orphan_kind_name(enum fm_orphan_kind k)
{
    switch (k) {
    case FM_ORPHAN_UNDISPATCHED: return "undispatched";
    case FM_ORPHAN_UNCOVERED: return "uncovered";
    case FM_ORPHAN_CLEARED: return "cleared";
    case FM_ORPHAN_STRANDED: return "stranded_ticket";
    case FM_ORPHAN_BUSY_UNIT: return "busy_unit";
    }
    return "?";
}
