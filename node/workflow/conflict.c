/*
 * conflict.c — domain conflicts that no merge can settle, computed from
 * the merged state, and their explicit resolution.
 *
 * After a partition heals the merges have combined both sides' ops, but
 * some combinations still need a person: one unit holding two active
 * tickets, a ticket cleared on one side and reassigned (or cancelled) on
 * the other, two different closing results for one ticket, stock driven
 * below zero. They are derived here on every read from the records alone,
 * so every replica with the same ops lists the same conflicts in the same
 * (id) order. Each carries a fingerprint — a hash of the facts in conflict
 * — and a resolve op names the id and the fingerprint it saw: the conflict
 * is shown as resolved while those facts stand, and comes back if they
 * change (a third ticket for the unit, another result).
 */
#include "workflow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cf_list {
    struct fm_conflict *v;
    size_t n, cap;
    struct fm_ticket *tk;
    size_t ntk, captk;
};

static struct fm_conflict *cf_add(struct cf_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct fm_conflict *nv = realloc(l->v, cap * sizeof *nv);
        if (nv == NULL)
            return NULL;
        l->v = nv;
        l->cap = cap;
    }
    struct fm_conflict *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    return c;
}

static int tk_collect(const struct model_rec *r, const char *id, void *arg)
{
    struct cf_list *l = arg;
    if (l->ntk == l->captk) {
        size_t cap = l->captk ? 2 * l->captk : 32;
        struct fm_ticket *nv = realloc(l->tk, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        l->tk = nv;
        l->captk = cap;
    }
    return wf_rec_to_ticket(r, id, &l->tk[l->ntk++]) == FM_OK ? 0 : FM_ESTORE;
}

static void cf_fill(struct fm_conflict *c, const char *kind, const char *prefix,
                    const char *subject)
{
    fm_strlcpy(c->kind, kind, sizeof c->kind);
    fm_strlcpy(c->subject, subject, sizeof c->subject);
    snprintf(c->id, sizeof c->id, "%s:%s", prefix, subject);
}

static void detail_add(char *out, size_t cap, const char *s)
{
    size_t used = strlen(out);
    if (used + 1 < cap)
        snprintf(out + used, cap - used, "%s", s);
}

static int tk_cmp_unit(const void *a, const void *b)
{
    const struct fm_ticket *x = a, *y = b;
    int c = strcmp(x->unit, y->unit);
    return c ? c : strcmp(x->id, y->id);
}

/* Units holding two or more active tickets. Tickets sorted by (unit, id). */
static int cf_double_booked(struct cf_list *l)
{
    for (size_t i = 0; i < l->ntk;) {
        size_t j = i, active = 0;
        while (j < l->ntk && strcmp(l->tk[j].unit, l->tk[i].unit) == 0)
            active += l->tk[j++].active;
        if (active >= 2) {
            struct fm_conflict *c = cf_add(l);
            struct fm_hasher *h = fm_hasher_new();
            if (c == NULL || h == NULL) {
                fm_hasher_destroy(&h);
                return FM_ENOMEM;
            }
            cf_fill(c, "unit_double_booked", "double", l->tk[i].unit);
            snprintf(c->detail, sizeof c->detail, "unit %s holds %zu active tickets:",
                     l->tk[i].unit, active);
            for (size_t k = i; k < j; k++) {
                if (!l->tk[k].active)
                    continue;
                char part[FM_ID_MAX * 2 + 8];
                snprintf(part, sizeof part, " %s (%s)", l->tk[k].id, l->tk[k].incident);
                detail_add(c->detail, sizeof c->detail, part);
                fm_hasher_update(h, l->tk[k].id, strlen(l->tk[k].id) + 1);
            }
            fm_hasher_final(h, c->fingerprint);
            fm_hasher_destroy(&h);
        }
        i = j;
    }
    return FM_OK;
}

struct results {
    char texts[8][FM_TEXT_MAX / 4];
    size_t n, total;
};

static int result_each(void *ctx, const struct fm_ticket_event *e)
{
    struct results *r = ctx;
    if (strcmp(e->step, "clear") != 0)
        return 0;
    for (size_t i = 0; i < r->n; i++)
        if (strncmp(r->texts[i], e->text, sizeof r->texts[i] - 1) == 0)
            return 0;
    r->total++;
    if (r->n < 8)
        fm_strlcpy(r->texts[r->n++], e->text, sizeof r->texts[0]);
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int cf_tickets(struct fm_node *n, struct cf_list *l)
{
    struct results *res = malloc(sizeof *res);
    int rc = FM_OK;
    if (res == NULL)
        return FM_ENOMEM;
    for (size_t i = 0; i < l->ntk && rc == FM_OK; i++) {
        const struct fm_ticket *tk = &l->tk[i];
        struct fm_conflict *c;
        uint8_t fp_in[2 * 8];
        if (tk->cleared.hlc && (tk->reassigned.hlc || tk->cancelled.hlc)) {
            bool re = tk->reassigned.hlc != 0;
            if ((c = cf_add(l)) == NULL) {
                rc = FM_ENOMEM;
                break;
            }
            cf_fill(c, re ? "cleared_and_reassigned" : "cleared_and_cancelled",
                    re ? "clear-reassign" : "clear-cancel", tk->id);
            snprintf(c->detail, sizeof c->detail, "ticket %s (unit %s) was cleared ('%.300s') "
                     "by %.8s and %s by %.8s", tk->id, tk->unit, tk->result,
                     tk->cleared.author, re ? "reassigned" : "cancelled",
                     re ? tk->reassigned.author : tk->cancelled.author);
            fm_be64_put(fp_in, tk->cleared.hlc);
            fm_be64_put(fp_in + 8, re ? tk->reassigned.hlc : tk->cancelled.hlc);
            fm_hash(c->fingerprint, fp_in, sizeof fp_in);
        }
        if (!tk->cleared.hlc)
            continue;
        memset(res, 0, sizeof *res);
        if ((rc = fm_node_ticket_history(n, tk->id, result_each, res)) != FM_OK)
            break;
        if (res->total < 2)
            continue;
        if ((c = cf_add(l)) == NULL) {
            rc = FM_ENOMEM;
            break;
        }
        qsort(res->texts, res->n, sizeof res->texts[0], str_cmp);
        cf_fill(c, "closing_results_differ", "results", tk->id);
        snprintf(c->detail, sizeof c->detail, "ticket %s has %zu different closing results:",
                 tk->id, res->total);
        struct fm_hasher *h = fm_hasher_new();
        if (h == NULL) {
            rc = FM_ENOMEM;
            break;
        }
        for (size_t k = 0; k < res->n; k++) {
            char part[FM_TEXT_MAX / 4 + 8];
            snprintf(part, sizeof part, " '%s'", res->texts[k]);
            detail_add(c->detail, sizeof c->detail, part);
            fm_hasher_update(h, res->texts[k], strlen(res->texts[k]) + 1);
        }
        fm_hasher_final(h, c->fingerprint);
        fm_hasher_destroy(&h);
    }
    free(res);
    return rc;
}

static int stock_each(const struct model_rec *r, const char *id, void *arg)
{
    struct cf_list *l = arg;
    struct fm_resource res;
    uint8_t q[8];
    if (model_rec_to_resource(r, id, &res) != FM_OK)
        return FM_ESTORE;
    if (res.quantity >= 0)
        return 0;
    struct fm_conflict *c = cf_add(l);
    if (c == NULL)
        return FM_ENOMEM;
    cf_fill(c, "stock_below_zero", "stock", id);
    snprintf(c->detail, sizeof c->detail,
             "%s at %s: quantity %lld, a shortfall of %lld (consumed or allocated on both "
             "sides of a partition)", res.kind, res.depot, (long long)res.quantity,
             -(long long)res.quantity);
    fm_be64_put(q, (uint64_t)res.quantity);
    fm_hash(c->fingerprint, q, sizeof q);
    return 0;
}

static int cf_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fm_conflict *)a)->id, ((const struct fm_conflict *)b)->id);
}

/* Marks c resolved if a resolution names its id and fingerprint. */
static void cf_resolution(struct store_txn *t, struct fm_conflict *c)
{
    uint8_t key[1 + FM_CONFLICT_ID_MAX + 1 + FM_HASH_LEN];
    const uint8_t *v;
    size_t vlen, idlen = strlen(c->id);
    key[0] = ENT_RESOLUTION;
    memcpy(key + 1, c->id, idlen);
    key[1 + idlen] = 0;
    memcpy(key + 2 + idlen, c->fingerprint, FM_HASH_LEN);
    if (store_get(t, DB_ENTITIES, key, 2 + idlen + FM_HASH_LEN, &v, &vlen) != FM_OK ||
        vlen < 11 + FM_PK_LEN)
        return;
    c->resolved = true;
    c->resolved_hlc = fm_be64_get(v + 3);
    fm_key_encode(v + 11, c->resolved_by);
    size_t nlen = vlen - 11 - FM_PK_LEN;
    if (nlen >= sizeof c->resolution)
        nlen = sizeof c->resolution - 1;
    memcpy(c->resolution, v + 11 + FM_PK_LEN, nlen);
    c->resolution[nlen] = '\0';
}

static int conflicts_compute(struct fm_node *n, struct cf_list *l)
{
    struct store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = wf_walk(t, FM_ENT_TICKET, false, tk_collect, l)) == FM_OK)
        rc = wf_walk(t, FM_ENT_RESOURCE, false, stock_each, l);
    if (rc == FM_OK) {
        if (l->ntk > 0)
            qsort(l->tk, l->ntk, sizeof *l->tk, tk_cmp_unit);
        rc = cf_double_booked(l);
    }
    if (rc == FM_OK)
        rc = cf_tickets(n, l);
    if (rc == FM_OK) {
        if (l->n > 0)
            qsort(l->v, l->n, sizeof *l->v, cf_cmp);
        for (size_t i = 0; i < l->n; i++)
            cf_resolution(t, &l->v[i]);
    }
    store_txn_abort(&t);
    return rc;
}

int fm_node_conflicts(struct fm_node *n, bool include_resolved, fm_conflict_cb cb, void *ctx)
{
    struct cf_list l = {0};
    if (n == NULL || cb == NULL)
        return FM_EINVAL;
    int rc = conflicts_compute(n, &l);
    for (size_t i = 0; rc == FM_OK && i < l.n; i++)
        if (include_resolved || !l.v[i].resolved)
            rc = cb(ctx, &l.v[i]);
    free(l.v);
    free(l.tk);
    return rc;
}

int fm_node_conflict_resolve(struct fm_node *n, const char *id, const char *note)
{
    struct cf_list l = {0};
    struct payload *pl = NULL;
    int rc;
    if (n == NULL || !n->has_identity)
        return FM_EPERM;
    if (id == NULL || (note != NULL && note[0] != '\0' &&
                       !payload_text_ok(note, 1, FM_TEXT_MAX - 1)))
        return FM_EINVAL;
    if ((rc = conflicts_compute(n, &l)) != FM_OK)
        goto out;
    rc = FM_ENOTFOUND;
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.v[i].id, id) != 0 || l.v[i].resolved)
            continue;
        if ((pl = calloc(1, sizeof *pl)) == NULL) {
            rc = FM_ENOMEM;
            break;
        }
        pl->log.kind = OP_CONFLICT_RESOLVE;
        fm_strlcpy(pl->text, l.v[i].id, sizeof pl->text);
        memcpy(pl->blob, l.v[i].fingerprint, FM_HASH_LEN);
        pl->blob_len = FM_HASH_LEN;
        pl->present = PT_BIT(PT_TEXT) | PT_BIT(PT_BLOB);
        if (note != NULL && note[0] != '\0') {
            fm_strlcpy(pl->desc, note, sizeof pl->desc);
            pl->present |= PT_BIT(PT_DESC);
        }
        rc = node_write_payload(n, &pl->log, NULL);
        break;
    }
out:
    free(pl);
    free(l.v);
    free(l.tk);
    return rc;
}
