/*
 * dispatch.c — the proposed dispatch: which departments respond to an
 * incident and which of their units are nearest.
 *
 * The category's rule lists needs (tier, department kind or a named
 * department, capability, how many units). Tier 1 needs always count;
 * tier 2 joins at once when the incident's priority is at least as urgent
 * as the rule's escalate_priority, and any tier an escalation op brought in
 * joins too. For each need (tier by tier, the scarcest first), the candidates are the units of
 * a matching department (per the directory) that are available — status
 * available and holding no active ticket — and have the capability; they
 * are ranked by great-circle distance from their last reported position,
 * or their home station when they never reported one, and the nearest
 * ones are proposed. Positions are read through fm_node_units only, so
 * this works whether they live in the op log or in soft state.
 */
#include "workflow_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EARTH_RADIUS_KM 6371.0088

double fm_great_circle_km(int32_t lat1_e7, int32_t lon1_e7, int32_t lat2_e7, int32_t lon2_e7)
{
    const double rad = M_PI / 180.0 / 1e7;
    double p1 = lat1_e7 * rad, p2 = lat2_e7 * rad;
    double dp = (double)((int64_t)lat2_e7 - lat1_e7) * rad;
    double dl = (double)((int64_t)lon2_e7 - lon1_e7) * rad;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    if (a > 1.0)
        a = 1.0;
    return 2.0 * EARTH_RADIUS_KM * atan2(sqrt(a), sqrt(1.0 - a));
}

/* Is `cap` one of the comma-separated tokens of list? */
static bool caps_has(const char *list, const char *cap)
{
    size_t n = strlen(cap);
    if (n == 0)
        return true;
    for (const char *p = list; *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, cap, n) == 0)
            return true;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return false;
}

struct unit_list {
    struct fm_unit *v;
    size_t n, cap;
};

static int unit_collect(void *ctx, const struct fm_unit *u)
{
    struct unit_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct fm_unit *nv = realloc(l->v, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = *u;
    return 0;
}

struct busy_list {
    char (*ids)[FM_ID_MAX];
    size_t n, cap;
};

static int busy_each(const struct model_rec *r, const char *id, void *arg)
{
    struct busy_list *b = arg;
    struct fm_ticket *tk = malloc(sizeof *tk);
    int rc = 0;
    if (tk == NULL)
        return FM_ENOMEM;
    if (wf_rec_to_ticket(r, id, tk) == FM_OK && tk->active) {
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 32;
            char(*nv)[FM_ID_MAX] = realloc(b->ids, cap * sizeof *nv);
            if (nv == NULL) {
                rc = FM_ENOMEM;
                goto out;
            }
            b->ids = nv;
            b->cap = cap;
        }
        fm_strlcpy(b->ids[b->n++], tk->unit, FM_ID_MAX);
    }
out:
    free(tk);
    return rc;
}

static bool busy_has(const struct busy_list *b, const char *id)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->ids[i], id) == 0)
            return true;
    return false;
}

struct cand {
    size_t unit; /* index into the unit list */
    const struct fm_dir_dept *dept;
    double km;
    bool live;
    int64_t age_s;
};

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->km != y->km)
        return x->km < y->km ? -1 : 1;
    return x->unit < y->unit ? -1 : x->unit > y->unit;
}

/* Can unit i of ul serve need? Sets *deptp and *dup. */
static bool cand_ok(const struct fm_dir_respond *need, const struct fm_directory *d,
                    const struct fm_unit *u, const struct busy_list *busy,
                    const struct fm_dir_dept **deptp, const struct fm_dir_unit **dup)
{
    const struct fm_dir_unit *du = fm_directory_unit(d, u->name);
    const struct fm_dir_dept *dept = du ? &d->depts[du->dept] : directory_dept(d, u->department);
    *deptp = dept;
    *dup = du;
    return dept != NULL && strcmp(u->status, "available") == 0 && !busy_has(busy, u->id) &&
           strcmp(dept->kind, need->kind) == 0 &&
           (!need->department[0] || strcmp(dept->name, need->department) == 0) &&
           (caps_has(u->capabilities, need->capability) ||
            (du && caps_has(du->caps, need->capability))) &&
           (u->has_position || du != NULL);
}

/* Fills the proposal for one need. */
static void need_fill(struct fm_suggestion *s, const struct fm_dir_respond *need,
                      const struct fm_directory *d, const struct unit_list *ul,
                      const struct busy_list *busy, bool *chosen, struct cand *cands,
                      const struct fm_incident *inc, uint64_t now_ms)
{
    size_t nc = 0, found = 0;
    for (size_t i = 0; i < ul->n; i++) {
        const struct fm_unit *u = &ul->v[i];
        const struct fm_dir_unit *du;
        const struct fm_dir_dept *dept;
        if (chosen[i] || !cand_ok(need, d, u, busy, &dept, &du))
            continue;
        struct cand *c = &cands[nc];
        c->unit = i;
        c->dept = dept;
        if (u->has_position) {
            c->live = true;
            uint64_t at = hlc_ms(u->position_hlc);
            c->age_s = now_ms > at ? (int64_t)((now_ms - at) / 1000) : 0;
            c->km = fm_great_circle_km(u->lat_e7, u->lon_e7, inc->lat_e7, inc->lon_e7);
        } else if (du != NULL) {
            c->live = false;
            c->age_s = -1;
            c->km = fm_great_circle_km(du->lat_e7, du->lon_e7, inc->lat_e7, inc->lon_e7);
        } else {
            continue; /* no position at all */
        }
        nc++;
    }
    qsort(cands, nc, sizeof *cands, cand_cmp);
    for (size_t k = 0; k < nc && found < need->units && s->nunits < FM_SUGGEST_MAX; k++) {
        const struct cand *c = &cands[k];
        const struct fm_unit *u = &ul->v[c->unit];
        struct fm_suggest_unit *o = &s->units[s->nunits++];
        chosen[c->unit] = true;
        found++;
        fm_strlcpy(o->unit, u->id, sizeof o->unit);
        fm_strlcpy(o->name, u->name, sizeof o->name);
        fm_strlcpy(o->department, c->dept->name, sizeof o->department);
        fm_strlcpy(o->county, c->dept->county < d->ncounties ? d->counties[c->dept->county] : "",
                   sizeof o->county);
        fm_strlcpy(o->capability, need->capability, sizeof o->capability);
        o->tier = c->dept->tier;
        o->distance_km = c->km;
        o->live_position = c->live;
        o->gps_position = c->live && u->gps;
        o->position_age_s = c->age_s;
        bool have = false;
        for (size_t j = 0; j < s->ndepts; j++)
            have = have || strcmp(s->departments[j], o->department) == 0;
        if (!have && s->ndepts < FM_SUGGEST_MAX)
            fm_strlcpy(s->departments[s->ndepts++], o->department, FM_NAME_MAX);
    }
    if (found < need->units && s->ngaps < FM_DIR_MAX_RESPOND) {
        struct fm_suggest_gap *g = &s->gaps[s->ngaps++];
        g->tier = need->tier;
        fm_strlcpy(g->kind, need->kind, sizeof g->kind);
        fm_strlcpy(g->capability, need->capability, sizeof g->capability);
        g->wanted = need->units;
        g->found = (uint8_t)found;
    }
}

int fm_node_dispatch_suggest(struct fm_node *n, const char *incident, uint64_t now_ms,
                             struct fm_suggestion *out)
{
    struct unit_list ul = {0};
    struct busy_list busy = {0};
    struct fm_directory *d = NULL;
    struct fm_incident inc;
    struct fm_incident_workflow wf;
    struct store_txn *t;
    bool *chosen = NULL;
    struct cand *cands = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if (n == NULL || incident == NULL)
        return FM_EINVAL;
    if ((rc = fm_node_incident_get(n, incident, &inc)) != FM_OK)
        return rc;
    fm_strlcpy(out->incident, inc.id, sizeof out->incident);
    fm_strlcpy(out->category, inc.category, sizeof out->category);
    out->priority = inc.priority;
    out->max_tier = 1;
    if ((rc = fm_node_units(n, unit_collect, &ul)) != FM_OK)
        goto out;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    rc = wf_directory_txn(t, &d);
    if (rc == FM_OK && (rc = wf_incident_workflow_txn(t, inc.id, &wf)) == FM_OK)
        rc = wf_walk(t, FM_ENT_TICKET, false, busy_each, &busy);
    store_txn_abort(&t);
    if (rc == FM_ENOTFOUND) {
        rc = FM_OK; /* no directory yet: nothing to propose */
        goto out;
    }
    if (rc != FM_OK)
        goto out;
    out->has_directory = true;
    const struct fm_dir_rule *rule = fm_directory_rule(d, inc.category);
    if (rule == NULL)
        goto out;
    out->has_rule = true;
    if (rule->escalate_priority != 0 && inc.priority <= rule->escalate_priority)
        out->max_tier = 2;
    if (wf.escalated_tier > out->max_tier)
        out->max_tier = wf.escalated_tier;
    chosen = calloc(ul.n ? ul.n : 1, sizeof *chosen);
    cands = calloc(ul.n ? ul.n : 1, sizeof *cands);
    if (chosen == NULL || cands == NULL) {
        rc = FM_ENOMEM;
        goto out;
    }
    /* Scarce needs first (fewest candidates), tier by tier, so a unit that
     * could serve two needs goes to the one nobody else can fill (the
     * only ladder is not spent on "any fire engine"). */
    size_t order[FM_DIR_MAX_RESPOND], ncount[FM_DIR_MAX_RESPOND], nn = 0;
    for (size_t k = 0; k < rule->nrespond; k++) {
        if (rule->respond[k].tier > out->max_tier)
            continue;
        size_t c = 0;
        for (size_t i = 0; i < ul.n; i++) {
            const struct fm_dir_unit *du;
            const struct fm_dir_dept *dept;
            c += cand_ok(&rule->respond[k], d, &ul.v[i], &busy, &dept, &du);
        }
        size_t at = nn++;
        while (at > 0) {
            const struct fm_dir_respond *p = &rule->respond[order[at - 1]];
            if (p->tier < rule->respond[k].tier ||
                (p->tier == rule->respond[k].tier && ncount[at - 1] <= c))
                break;
            order[at] = order[at - 1];
            ncount[at] = ncount[at - 1];
            at--;
        }
        order[at] = k;
        ncount[at] = c;
    }
    for (size_t k = 0; k < nn; k++)
        need_fill(out, &rule->respond[order[k]], d, &ul, &busy, chosen, cands, &inc, now_ms);
out:
    free(chosen);
    free(cands);
    free(ul.v);
    free(busy.ids);
    fm_directory_free(&d);
    return rc;
}
