/*
 * duplicates.c — the same emergency called in twice.
 *
 * A fire seen from five windows is five calls. At intake the call-taker is
 * shown the open incidents of the same category reported close by and
 * shortly before or after (fm_node_incident_duplicates); `incident link`
 * then folds the new incident into the existing one with ops every node
 * already knows: a note on the survivor recording the further call (its
 * caller, address and description), a note on the duplicate naming the
 * survivor, and the duplicate closed — its active tickets cancelled in the
 * same transaction when asked (the units are on the survivor's proposal
 * again). No new op kind, so every version of every node agrees. The note
 * never copies the caller's name or number (dispatchers only).
 */
#include "workflow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dup_walk {
    struct fm_incident me;
    const struct fm_directory *d; /* related categories (NULL: none) */
    uint32_t radius_m, window_s;
    struct fm_duplicate *v;
    size_t n, cap;
};

static int dup_each(void *ctx, const struct fm_incident *inc)
{
    struct dup_walk *w = ctx;
    if (!fm_incident_open(inc) || strcmp(inc->id, w->me.id) == 0 ||
        !fm_directory_related(w->d, inc->category, w->me.category))
        return 0;
    uint64_t a = hlc_ms(inc->reported_hlc), b = hlc_ms(w->me.reported_hlc);
    uint64_t apart_ms = a > b ? a - b : b - a;
    double m = 1000.0 * fm_great_circle_km(inc->lat_e7, inc->lon_e7, w->me.lat_e7, w->me.lon_e7);
    if (apart_ms > (uint64_t)w->window_s * 1000 || m > (double)w->radius_m)
        return 0;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 8;
        struct fm_duplicate *nv = realloc(w->v, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        w->v = nv;
        w->cap = cap;
    }
    struct fm_duplicate *d = &w->v[w->n++];
    memset(d, 0, sizeof *d);
    fm_strlcpy(d->id, inc->id, sizeof d->id);
    d->distance_m = m;
    d->apart_s = (int64_t)(apart_ms / 1000);
    d->earlier = inc->reported_hlc <= w->me.reported_hlc; /* the HLC orders one node's reports */
    d->priority = inc->priority;
    d->stage = inc->stage;
    return 0;
}

/* Nearest first, then the earlier report, then id: every node alike. */
static int dup_cmp(const void *x, const void *y)
{
    const struct fm_duplicate *a = x, *b = y;
    if (a->distance_m != b->distance_m)
        return a->distance_m < b->distance_m ? -1 : 1;
    if (a->earlier != b->earlier)
        return a->earlier ? -1 : 1;
    return strcmp(a->id, b->id);
}

int fm_node_incident_duplicates(struct fm_node *n, const char *incident, uint32_t radius_m,
                                uint32_t window_s, fm_duplicate_cb cb, void *ctx)
{
    struct dup_walk w = {.radius_m = radius_m, .window_s = window_s};
    struct fm_incident_filter any = {.stage = -1};
    struct fm_directory *d = NULL;
    int rc;
    if (n == NULL || incident == NULL || cb == NULL)
        return FM_EINVAL;
    if ((rc = fm_node_incident_get(n, incident, &w.me)) != FM_OK)
        return rc;
    if (fm_node_directory_get(n, &d) != FM_OK)
        d = NULL; /* no directory: the same category only, the built-in bounds */
    w.d = d;
    if (w.radius_m == 0)
        w.radius_m = d != NULL && d->dup_radius_m ? d->dup_radius_m : FM_DUP_RADIUS_M;
    if (w.window_s == 0)
        w.window_s = d != NULL && d->dup_window_s ? d->dup_window_s : FM_DUP_WINDOW_S;
    if ((rc = fm_node_incidents(n, &any, dup_each, &w)) != 0)
        goto out;
    if (w.n > 1) /* qsort may not take NULL, even for 0 items */
        qsort(w.v, w.n, sizeof *w.v, dup_cmp);
    for (size_t i = 0; i < w.n && rc == 0; i++)
        rc = cb(ctx, &w.v[i]);
out:
    free(w.v);
    fm_directory_free(&d);
    return rc;
}

/* The two notes of a link: what the survivor learns of the further call,
 * and where the duplicate went. */
static int link_notes(struct fm_node *n, const char *dup, const char *into, struct payload pl[2],
                      char dup_id[FM_ID_MAX], char into_id[FM_ID_MAX])
{
    struct store_txn *t;
    struct fm_incident d;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = wf_ref_resolve(t, FM_ENT_INCIDENT, dup, dup_id, &pl[1].ref, NULL)) == FM_OK)
        rc = wf_ref_resolve(t, FM_ENT_INCIDENT, into, into_id, &pl[0].ref, NULL);
    store_txn_abort(&t);
    if (rc != FM_OK)
        return rc;
    if (strcmp(dup_id, into_id) == 0)
        return FM_EINVAL;
    if ((rc = fm_node_incident_get(n, dup_id, &d)) != FM_OK)
        return rc;
    for (size_t i = 0; i < 2; i++) {
        pl[i].log.kind = OP_INC_NOTE;
        pl[i].present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
    }
    /* never the caller's name or number: a note is read by every node,
     * while caller details are for dispatchers only (docs/security.md,
     * "Need to know"); they stay on the duplicate, which the note names */
    snprintf(pl[0].text, sizeof pl[0].text, "further call (duplicate %s linked here)%s%.255s"
             "%s%.600s", dup_id, d.address[0] ? "; address: " : "", d.address,
             d.desc[0] ? "; " : "", d.desc);
    snprintf(pl[1].text, sizeof pl[1].text, "duplicate of %s: closed and linked there", into_id);
    return FM_OK;
}

/* The incident.merge op folding dup_id into into_id. */
static void merge_payload(struct payload *pl, const struct payload_ref *dup,
                          const struct payload_ref *into, const char *reason)
{
    memset(pl, 0, sizeof *pl);
    pl->log.kind = OP_INC_MERGE;
    pl->ref = *dup;
    pl->ref2 = *into;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_REF2);
    if (reason != NULL && reason[0] != '\0') {
        fm_strlcpy(pl->text, reason, sizeof pl->text);
        pl->present |= PT_BIT(PT_TEXT);
    }
}

int fm_node_incident_link(struct fm_node *n, const char *dup, const char *into,
                          bool cancel_tickets, size_t *nactive)
{
    struct payload *pl = calloc(3, sizeof *pl);
    char dup_id[FM_ID_MAX], into_id[FM_ID_MAX];
    struct fm_incident target;
    int rc;
    if (nactive)
        *nactive = 0;
    if (pl == NULL)
        return FM_ENOMEM;
    if (n == NULL || !n->has_identity || dup == NULL || into == NULL) {
        rc = n == NULL || dup == NULL || into == NULL ? FM_EINVAL : FM_EPERM;
        goto out;
    }
    if ((rc = link_notes(n, dup, into, pl, dup_id, into_id)) != FM_OK ||
        (rc = fm_node_incident_get(n, into_id, &target)) != FM_OK)
        goto out;
    if (target.stage >= FM_STAGE_RESOLVED) {
        rc = FM_ECLOSED; /* a call is linked to a live incident, not a closed one */
        goto out;
    }
    char reason[FM_TEXT_MAX];
    snprintf(reason, sizeof reason, "duplicate of %s", into_id);
    /* at op format 3 the link is a merge too: the further call counts on
     * the survivor, and the duplicate's id names it */
    size_t nextra = 2;
    if (n->cfg.op_format >= 3)
        merge_payload(&pl[nextra++], &pl[1].ref, &pl[0].ref, reason); /* pl[2]: no alias */
    rc = wf_close_with(n, dup_id, FM_STAGE_CLOSED, cancel_tickets, reason, pl, nextra, nactive);
out:
    free(pl);
    return rc;
}

/* Resolves and checks the two incidents of a merge in one read. */
static int merge_check(struct store_txn *t, const char *dup, const char *into,
                       char dup_id[FM_ID_MAX], char into_id[FM_ID_MAX], struct payload *pl)
{
    char root[FM_ID_MAX];
    enum fm_incident_stage stage;
    int rc;
    if ((rc = node_resolve_exact_txn(t, FM_ENT_INCIDENT, dup, dup_id)) != FM_OK ||
        (rc = model_incident_root(t, dup_id, root)) != FM_OK)
        return rc;
    if (strcmp(root, dup_id) != 0) {
        fm_strlcpy(into_id, root, FM_ID_MAX); /* merged already: where to */
        return FM_ESTATE;
    }
    if ((rc = node_resolve_txn(t, FM_ENT_INCIDENT, into, into_id)) != FM_OK)
        return rc;
    if (strcmp(into_id, dup_id) == 0)
        return FM_EINVAL; /* into itself, or into an incident merged into it */
    if ((rc = wf_ref_resolve(t, FM_ENT_INCIDENT, dup_id, root, &pl->ref, NULL)) != FM_OK ||
        (rc = wf_ref_resolve(t, FM_ENT_INCIDENT, into_id, root, &pl->ref2, NULL)) != FM_OK)
        return rc;
    (void)wf_incident_epoch_stage(t, &pl->ref2, &stage);
    return stage >= FM_STAGE_RESOLVED ? FM_ECLOSED : FM_OK;
}

int fm_node_incident_merge(struct fm_node *n, const char *dup, const char *into,
                           const char *reason, char dup_out[FM_ID_MAX], char into_out[FM_ID_MAX])
{
    struct payload *pl = NULL;
    struct store_txn *t;
    int rc;
    dup_out[0] = into_out[0] = '\0';
    if (n == NULL || dup == NULL || into == NULL)
        return FM_EINVAL;
    if (!n->has_identity || !wf_can_dispatch(n))
        return FM_EPERM;
    if (reason != NULL && reason[0] != '\0' && !payload_text_ok(reason, 1, FM_TEXT_MAX - 1))
        return FM_EINVAL;
    if (n->cfg.op_format < 3)
        return FM_ECONFIG; /* an op kind older builds refuse (docs/decisions.md) */
    if ((pl = calloc(1, sizeof *pl)) == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    rc = merge_check(t, dup, into, dup_out, into_out, pl);
    store_txn_abort(&t);
    if (rc != FM_OK)
        goto out;
    const struct payload_ref d = pl->ref, s = pl->ref2;
    merge_payload(pl, &d, &s, reason); /* clears pl first */
    rc = node_write_payload(n, &pl->log, NULL);
out:
    free(pl);
    return rc;
}
