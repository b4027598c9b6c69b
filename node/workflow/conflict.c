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
 *
 * A resolution may also decide which fact stands (op format 5): the clear
 * or the cancel / reassignment of a ticket, or one of its closing results.
 * wf_ticket_decided applies that decision when tickets are read (lists,
 * `ticket show`, the report), while the conflict's facts are still those
 * the resolver saw; the conflict list itself always shows the raw facts.
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

static int str_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Each clear step of ticket `id` (its timeline entries, in stamp order):
 * each(ctx, text, len); non-zero stops the walk and is returned. */
static int clears_each(struct store_txn *t, const char *id,
                       int (*each)(void *ctx, const char *text, size_t len), void *ctx)
{
    uint8_t prefix[FM_ID_MAX + 1];
    struct store_each it;
    int rc;
    if (strlen(id) >= FM_ID_MAX)
        return FM_EINVAL;
    size_t plen = model_tl_prefix(prefix, FM_ENT_TICKET, id);
    rc = store_each_prefix(&it, t, DB_TIMELINE, prefix, plen);
    while (rc == FM_OK && store_each_next(&it, &rc)) {
        const struct store_kv kv = it.kv;
        if (kv.vlen < 2 || kv.vlen - 2 >= FM_TEXT_MAX) {
            rc = FM_ESTORE;
            break;
        }
        if (kv.val[0] == TS_CLEAR && (rc = each(ctx, (const char *)kv.val + 2, kv.vlen - 2)) != 0)
            break;
    }
    store_each_end(&it);
    return rc;
}

static int result_each(void *ctx, const char *text, size_t len)
{
    struct results *r = ctx;
    char t[FM_TEXT_MAX / 4];
    size_t k = len < sizeof t - 1 ? len : sizeof t - 1;
    memcpy(t, text, k);
    t[k] = '\0';
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->texts[i], t) == 0)
            return 0;
    r->total++;
    if (r->n < 8)
        fm_strlcpy(r->texts[r->n++], t, sizeof r->texts[0]);
    return 0;
}

/* The distinct closing results of ticket `id` as the conflict lists them
 * (the first 255 bytes of each, at most 8, sorted) and their fingerprint. */
static int results_collect(struct store_txn *t, const char *id, struct results *res,
                           uint8_t fp[FM_HASH_LEN])
{
    memset(res, 0, sizeof *res);
    int rc = clears_each(t, id, result_each, res);
    if (rc != FM_OK)
        return rc;
    qsort(res->texts, res->n, sizeof res->texts[0], str_cmp);
    struct fm_hasher *h = fm_hasher_new();
    if (h == NULL)
        return FM_ENOMEM;
    for (size_t k = 0; k < res->n; k++)
        fm_hasher_update(h, res->texts[k], strlen(res->texts[k]) + 1);
    fm_hasher_final(h, fp);
    fm_hasher_destroy(&h);
    return FM_OK;
}

/* The fingerprint of a ticket cleared and then cancelled or reassigned. */
static void clear_other_fingerprint(const struct fm_ticket *tk, uint8_t fp[FM_HASH_LEN])
{
    uint8_t in[16];
    bool re = tk->reassigned.hlc != 0;
    fm_be64_put(in, tk->cleared.hlc);
    fm_be64_put(in + 8, re ? tk->reassigned.hlc : tk->cancelled.hlc);
    fm_hash(fp, in, sizeof in);
}

static int cf_tickets(struct store_txn *t, struct cf_list *l)
{
    struct results *res = malloc(sizeof *res);
    int rc = FM_OK;
    if (res == NULL)
        return FM_ENOMEM;
    for (size_t i = 0; i < l->ntk && rc == FM_OK; i++) {
        const struct fm_ticket *tk = &l->tk[i];
        struct fm_conflict *c;
        uint8_t fp[FM_HASH_LEN];
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
            clear_other_fingerprint(tk, c->fingerprint);
        }
        if (!tk->cleared.hlc)
            continue;
        if ((rc = results_collect(t, tk->id, res, fp)) != FM_OK)
            break;
        if (res->total < 2)
            continue;
        if ((c = cf_add(l)) == NULL) {
            rc = FM_ENOMEM;
            break;
        }
        cf_fill(c, "closing_results_differ", "results", tk->id);
        snprintf(c->detail, sizeof c->detail, "ticket %s has %zu different closing results:",
                 tk->id, res->total);
        for (size_t k = 0; k < res->n; k++) {
            char part[FM_TEXT_MAX / 4 + 32];
            snprintf(part, sizeof part, " %zu: '%s'", k + 1, res->texts[k]);
            detail_add(c->detail, sizeof c->detail, part);
        }
        memcpy(c->fingerprint, fp, FM_HASH_LEN);
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

int wf_resolution_decode(const uint8_t *v, size_t n, struct wf_resolution *out)
{
    size_t at = 11 + FM_PK_LEN;
    memset(out, 0, sizeof *out);
    if (n < at || v[1] != ENT_RESOLUTION || (v[2] & ~RES_FULL))
        return FM_ESTORE;
    out->hlc = fm_be64_get(v + 3);
    memcpy(out->author, v + 11, FM_PK_LEN);
    out->eff = out->hlc;
    if (v[2] & RES_FULL) {
        if (n < at + 17 || v[at + 16] == 0 || v[at + 16] > RD__MAX)
            return FM_ESTORE;
        out->seq = fm_be64_get(v + at);
        out->eff = fm_be64_get(v + at + 8);
        out->decision = v[at + 16];
        at += 17;
        if (out->decision == RD_RESULT) {
            if (n < at + FM_HASH_LEN)
                return FM_ESTORE;
            memcpy(out->result_hash, v + at, FM_HASH_LEN);
            at += FM_HASH_LEN;
        }
    }
    out->note = v + at;
    out->note_len = n - at;
    return FM_OK;
}

/* The resolution naming conflict `id` with fingerprint fp, if any. */
static int resolution_get(struct store_txn *t, const char *id, const uint8_t fp[FM_HASH_LEN],
                          struct wf_resolution *out)
{
    uint8_t key[1 + FM_CONFLICT_ID_MAX + 1 + FM_HASH_LEN];
    const uint8_t *v;
    size_t vlen, idlen = strlen(id);
    if (idlen >= FM_CONFLICT_ID_MAX)
        return FM_ENOTFOUND;
    key[0] = ENT_RESOLUTION;
    memcpy(key + 1, id, idlen);
    key[1 + idlen] = 0;
    memcpy(key + 2 + idlen, fp, FM_HASH_LEN);
    int rc = store_get(t, DB_ENTITIES, key, 2 + idlen + FM_HASH_LEN, &v, &vlen);
    return rc == FM_OK ? wf_resolution_decode(v, vlen, out) : rc;
}

int wf_resolution_base(struct store_txn *t, const struct payload *pl, uint64_t hlc,
                       uint64_t *base)
{
    struct wf_resolution r;
    char id[FM_CONFLICT_ID_MAX];
    *base = 0;
    if (pl->log.kind != OP_CONFLICT_RESOLVE || !(pl->present & PT_BIT(PT_CODE)) ||
        pl->blob_len < FM_HASH_LEN || strlen(pl->text) >= sizeof id)
        return FM_OK;
    fm_strlcpy(id, pl->text, sizeof id);
    int rc = resolution_get(t, id, pl->blob, &r);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc == FM_OK && r.eff >= hlc)
        *base = r.eff > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : r.eff;
    return rc;
}

/* Whether decision d fits a conflict of this kind (the id's prefix). */
static bool decision_fits(const char *id, uint8_t d)
{
    if (strncmp(id, "clear-cancel:", 13) == 0)
        return d == RD_CLEARED || d == RD_CANCELLED;
    if (strncmp(id, "clear-reassign:", 15) == 0)
        return d == RD_CLEARED || d == RD_REASSIGNED;
    if (strncmp(id, "results:", 8) == 0)
        return d == RD_RESULT;
    return false;
}

/* The result of res whose hash is h, or NULL. */
static const char *result_by_hash(const struct results *res, const uint8_t h[FM_HASH_LEN])
{
    for (size_t k = 0; k < res->n; k++) {
        uint8_t x[FM_HASH_LEN];
        fm_hash(x, res->texts[k], strlen(res->texts[k]));
        if (memcmp(x, h, FM_HASH_LEN) == 0)
            return res->texts[k];
    }
    return NULL;
}

/* Marks c resolved if a resolution names its id and fingerprint; says who
 * (the node's certificate name and the console operator, when recorded)
 * and what was decided. */
static int cf_resolution(struct store_txn *t, struct fm_conflict *c)
{
    struct wf_resolution r;
    struct node_head h;
    int rc = resolution_get(t, c->id, c->fingerprint, &r);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    c->resolved = true;
    c->resolved_hlc = r.hlc;
    fm_key_encode(r.author, c->resolved_by);
    if (node_head_get(t, r.author, &h) == FM_OK)
        fm_strlcpy(c->resolved_by_name, h.name, sizeof c->resolved_by_name);
    if (r.seq && (rc = model_op_operator(t, r.author, r.seq, c->resolved_operator)) != FM_OK)
        return rc;
    size_t nlen = r.note_len < sizeof c->resolution - 1 ? r.note_len : sizeof c->resolution - 1;
    memcpy(c->resolution, r.note, nlen);
    c->resolution[nlen] = '\0';
    if (!decision_fits(c->id, r.decision))
        return FM_OK; /* none, or one that names no fact of this conflict: inert */
    if (r.decision == RD_RESULT) {
        struct results *res = malloc(sizeof *res);
        uint8_t fp[FM_HASH_LEN];
        const char *text;
        if (res == NULL)
            return FM_ENOMEM;
        if ((rc = results_collect(t, c->subject, res, fp)) == FM_OK &&
            (text = result_by_hash(res, r.result_hash)) != NULL)
            snprintf(c->decided, sizeof c->decided, "result '%s' stands", text);
        free(res);
        return rc;
    }
    snprintf(c->decided, sizeof c->decided, "%s",
             r.decision == RD_CLEARED     ? "the clear stands"
             : r.decision == RD_CANCELLED ? "the cancel stands"
                                          : "the reassignment stands");
    return FM_OK;
}

/* Copies the clear whose first 255 bytes hash to want into tk->result. */
struct pick {
    const uint8_t *want;
    struct fm_ticket *tk;
    bool found;
};
static int pick_each(void *ctx, const char *text, size_t len)
{
    struct pick *p = ctx;
    uint8_t x[FM_HASH_LEN];
    size_t k = len < FM_TEXT_MAX / 4 - 1 ? len : FM_TEXT_MAX / 4 - 1;
    fm_hash(x, text, k);
    if (memcmp(x, p->want, FM_HASH_LEN) != 0)
        return 0;
    size_t n = len < sizeof p->tk->result - 1 ? len : sizeof p->tk->result - 1;
    memcpy(p->tk->result, text, n);
    p->tk->result[n] = '\0';
    p->found = true;
    return 1; /* the first such clear */
}

int wf_ticket_decided(struct store_txn *t, struct fm_ticket *tk)
{
    struct wf_resolution r;
    char id[FM_CONFLICT_ID_MAX];
    uint8_t fp[FM_HASH_LEN];
    int rc;
    if (!tk->cleared.hlc)
        return FM_OK; /* every conflict with a decision involves a clear */
    if (tk->reassigned.hlc || tk->cancelled.hlc) {
        bool re = tk->reassigned.hlc != 0;
        snprintf(id, sizeof id, "%s:%s", re ? "clear-reassign" : "clear-cancel", tk->id);
        clear_other_fingerprint(tk, fp);
        rc = resolution_get(t, id, fp, &r);
        if (rc != FM_OK && rc != FM_ENOTFOUND)
            return rc;
        if (rc == FM_OK && decision_fits(id, r.decision))
            tk->state = r.decision == RD_CLEARED     ? FM_TICKET_CLEARED
                        : r.decision == RD_CANCELLED ? FM_TICKET_CANCELLED
                                                     : FM_TICKET_REASSIGNED;
    }
    /* a result decided: only while the results are those it saw, and only
     * a ticket with a resolution looks at its timeline */
    snprintf(id, sizeof id, "results:%s", tk->id);
    uint8_t prefix[1 + FM_CONFLICT_ID_MAX + 1];
    size_t idlen = strlen(id);
    struct store_each it;
    bool any = false;
    prefix[0] = ENT_RESOLUTION;
    memcpy(prefix + 1, id, idlen);
    prefix[1 + idlen] = 0;
    rc = store_each_prefix(&it, t, DB_ENTITIES, prefix, idlen + 2);
    while (rc == FM_OK && store_each_next(&it, &rc))
        any = true;
    store_each_end(&it);
    if (rc != FM_OK || !any)
        return rc;
    struct results *res = malloc(sizeof *res);
    if (res == NULL)
        return FM_ENOMEM;
    if ((rc = results_collect(t, tk->id, res, fp)) == FM_OK && res->total >= 2 &&
        (rc = resolution_get(t, id, fp, &r)) == FM_OK && r.decision == RD_RESULT) {
        struct pick p = {r.result_hash, tk, false};
        rc = clears_each(t, tk->id, pick_each, &p);
        rc = rc == 1 ? FM_OK : rc;
    }
    free(res);
    return rc == FM_ENOTFOUND ? FM_OK : rc;
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
        rc = cf_tickets(t, l);
    if (rc == FM_OK) {
        if (l->n > 0)
            qsort(l->v, l->n, sizeof *l->v, cf_cmp);
        for (size_t i = 0; i < l->n && rc == FM_OK; i++)
            rc = cf_resolution(t, &l->v[i]);
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

_Static_assert((int)FM_KEEP_CLEARED == RD_CLEARED && (int)FM_KEEP_CANCELLED == RD_CANCELLED &&
                   (int)FM_KEEP_REASSIGNED == RD_REASSIGNED && (int)FM_KEEP_RESULT == RD_RESULT,
               "the public decision values are the op's");

int fm_node_conflict_resolve(struct fm_node *n, const char *id, const char *note,
                             enum fm_conflict_keep keep, unsigned result_no)
{
    struct cf_list l = {0};
    struct payload *pl = NULL;
    struct results *res = NULL;
    int rc;
    if (n == NULL || !n->has_identity)
        return FM_EPERM;
    if (id == NULL || (note != NULL && note[0] != '\0' &&
                       !payload_text_ok(note, 1, FM_TEXT_MAX - 1)) ||
        (unsigned)keep > FM_KEEP_RESULT || (keep == FM_KEEP_RESULT) != (result_no > 0))
        return FM_EINVAL;
    if (keep != FM_KEEP_NONE && n->cfg.op_format < 5)
        return FM_ECONFIG; /* older builds refuse a decision (docs/decisions.md) */
    if ((rc = conflicts_compute(n, &l)) != FM_OK)
        goto out;
    rc = FM_ENOTFOUND;
    for (size_t i = 0; i < l.n; i++) {
        /* a resolved conflict may be decided again (the decision it
         * overrides goes into the op's base: domain.c), not noted again */
        if (strcmp(l.v[i].id, id) != 0 || (l.v[i].resolved && keep == FM_KEEP_NONE))
            continue;
        if (keep != FM_KEEP_NONE && !decision_fits(id, (uint8_t)keep)) {
            rc = FM_EINVAL; /* a decision this kind of conflict cannot take */
            break;
        }
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
        if (keep == FM_KEEP_RESULT) {
            /* the Nth result as the conflict lists them, the facts it saw */
            struct store_txn *t;
            uint8_t fp[FM_HASH_LEN];
            if ((res = malloc(sizeof *res)) == NULL) {
                rc = FM_ENOMEM;
                break;
            }
            if ((rc = store_read_begin(n->st, &t)) != FM_OK)
                break;
            rc = results_collect(t, l.v[i].subject, res, fp);
            store_txn_abort(&t);
            if (rc != FM_OK)
                break;
            if (memcmp(fp, l.v[i].fingerprint, FM_HASH_LEN) != 0) {
                rc = FM_ESTATE; /* another result arrived meanwhile: look again */
                break;
            }
            if (result_no > res->n) {
                rc = FM_EINVAL;
                break;
            }
            fm_hash(pl->blob + FM_HASH_LEN, res->texts[result_no - 1],
                    strlen(res->texts[result_no - 1]));
            pl->blob_len = 2 * FM_HASH_LEN;
        }
        if (keep != FM_KEEP_NONE) {
            pl->code = (uint8_t)keep;
            pl->present |= PT_BIT(PT_CODE);
        }
        rc = node_write_payload(n, &pl->log, NULL);
        break;
    }
out:
    free(res);
    free(pl);
    free(l.v);
    free(l.tk);
    return rc;
}
