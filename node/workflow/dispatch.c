/*
 * dispatch.c — the proposed dispatch: which departments respond to an
 * incident and which of their units are nearest.
 *
 * The category's rule lists needs (tier, department kind or a named
 * department, capability, how many units). Tier 1 needs always count;
 * tier 2 joins at once when the incident's priority is at least as urgent
 * as the rule's escalate_priority, and any tier an escalation op brought in
 * joins too. The needs are the rule's linkage plan at the incident's alarm
 * level (1 unless raised, alarm.c). For each need (tier by tier, the scarcest first), the candidates are the units of
 * a matching department (per the directory) that are available — status
 * available and holding no active ticket — and have the capability; they
 * are ranked by great-circle distance from their last reported position,
 * or their home station when they never reported one, and the nearest
 * ones are proposed. Positions are read through fm_node_units only, so
 * this works whether they live in the op log or in soft state.
 */
#include "workflow_int.h"

#include <math.h>
#include <stdio.h>
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

struct busy_one {              /* an active ticket: its unit is out */
    char unit[FM_ID_MAX];
    char incident[FM_ID_MAX];
    char ticket[FM_ID_MAX];
};
struct busy_list {
    struct busy_one *v;
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
            struct busy_one *nv = realloc(b->v, cap * sizeof *nv);
            if (nv == NULL) {
                rc = FM_ENOMEM;
                goto out;
            }
            b->v = nv;
            b->cap = cap;
        }
        struct busy_one *o = &b->v[b->n++];
        fm_strlcpy(o->unit, tk->unit, sizeof o->unit);
        fm_strlcpy(o->incident, tk->incident, sizeof o->incident);
        fm_strlcpy(o->ticket, tk->id, sizeof o->ticket);
    }
out:
    free(tk);
    return rc;
}

static bool busy_has(const struct busy_list *b, const char *id)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i].unit, id) == 0)
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

/* Does unit u, whatever its status, fit need? du is its directory entry
 * (NULL: none), dept its department (NULL: not in the directory). */
static bool fits(const struct fm_dir_respond *need, const struct fm_unit *u,
                 const struct fm_dir_unit *du, const struct fm_dir_dept *dept)
{
    return dept != NULL && strcmp(dept->kind, need->kind) == 0 &&
           (!need->department[0] || strcmp(dept->name, need->department) == 0) &&
           (caps_has(u->capabilities, need->capability) ||
            (du && caps_has(du->caps, need->capability)));
}

/* The same for one unit looked up now (a dispatcher's check); sets *deptp
 * and *dup. */
static bool unit_fits(const struct fm_dir_respond *need, const struct fm_directory *d,
                      const struct fm_unit *u, const struct fm_dir_dept **deptp,
                      const struct fm_dir_unit **dup)
{
    enum fm_unit_standing st;
    const struct fm_dir_unit *du = fm_directory_unit_of(d, u, &st);
    const struct fm_dir_dept *dept = du ? &d->depts[du->dept] : directory_dept(d, u->department);
    *deptp = dept;
    *dup = du;
    return st != FM_UNIT_RETIRED && fits(need, u, du, dept);
}

/* What one proposal needs, read once (a proposal for another incident
 * reuses it). du[i] and dept[i] are unit i's directory entry and
 * department, looked up once: by name in a city's directory that lookup
 * is the cost of a proposal if it is done per need and per unit. */
struct sg_ctx {
    struct fm_node *n;
    struct unit_list ul;
    struct busy_list busy;
    struct fm_directory *d;
    const struct fm_dir_unit **du;
    const struct fm_dir_dept **dept;
    bool dept_ok[FM_DIR_MAX_DEPTS]; /* per department: fits the need at hand */
    bool *chosen;
    struct cand *cands;
    uint64_t now_ms;
};

/* Which departments fit need (kind, and name when it names one): judged
 * once a need, not once a unit. */
static void need_depts(struct sg_ctx *c, const struct fm_dir_respond *need)
{
    for (size_t j = 0; j < c->d->ndepts; j++) {
        const struct fm_dir_dept *x = &c->d->depts[j];
        c->dept_ok[j] = strcmp(x->kind, need->kind) == 0 &&
                        (!need->department[0] || strcmp(x->name, need->department) == 0);
    }
}

/* fits() for unit i, with dept_ok set for need by need_depts. */
static bool fits_at(const struct sg_ctx *c, const struct fm_dir_respond *need, size_t i)
{
    const struct fm_dir_dept *dept = c->dept[i];
    return dept != NULL && c->dept_ok[dept - c->d->depts] &&
           (caps_has(c->ul.v[i].capabilities, need->capability) ||
            (c->du[i] && caps_has(c->du[i]->caps, need->capability)));
}

/* Can unit i serve need now (available, no active ticket, a position)?
 * dept_ok is set for need. */
static bool cand_ok(const struct sg_ctx *c, const struct fm_dir_respond *need, size_t i)
{
    const struct fm_unit *u = &c->ul.v[i];
    return fits_at(c, need, i) && strcmp(u->status, "available") == 0 &&
           !busy_has(&c->busy, u->id) && (u->has_position || c->du[i] != NULL);
}

/* Fills the proposal for one need. */
static void need_fill(struct sg_ctx *x, struct fm_suggestion *s,
                      const struct fm_dir_respond *need, const struct fm_incident *inc,
                      size_t covered)
{
    const struct fm_directory *d = x->d;
    const struct unit_list *ul = &x->ul;
    bool *chosen = x->chosen;
    struct cand *cands = x->cands;
    uint64_t now_ms = x->now_ms;
    size_t nc = 0, found = covered;
    need_depts(x, need);
    for (size_t i = 0; i < ul->n; i++) {
        const struct fm_unit *u = &ul->v[i];
        const struct fm_dir_unit *du = x->du[i];
        if (chosen[i] || !cand_ok(x, need, i))
            continue;
        struct cand *c = &cands[nc];
        c->unit = i;
        c->dept = x->dept[i];
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

/* The units already out on this incident count toward its needs: each
 * fills the first need (in fill order) it fits that is not full yet;
 * covered[k] gets how many each need has. Every one is listed. */
static void count_assigned(struct sg_ctx *c, struct fm_suggestion *s,
                           const struct fm_dir_respond *needs, const size_t *order, size_t nn,
                           size_t *covered)
{
    for (size_t b = 0; b < c->busy.n; b++) {
        const struct busy_one *x = &c->busy.v[b];
        if (strcmp(x->incident, s->incident) != 0 || s->nassigned >= FM_SUGGEST_MAX)
            continue;
        struct fm_suggest_assigned *a = &s->assigned[s->nassigned++];
        memset(a, 0, sizeof *a);
        fm_strlcpy(a->unit, x->unit, sizeof a->unit);
        fm_strlcpy(a->ticket, x->ticket, sizeof a->ticket);
        for (size_t i = 0; i < c->ul.n; i++) {
            const struct fm_unit *u = &c->ul.v[i];
            if (strcmp(u->id, x->unit) != 0)
                continue;
            fm_strlcpy(a->name, u->name, sizeof a->name);
            for (size_t k = 0; k < nn; k++) {
                const struct fm_dir_respond *need = &needs[order[k]];
                if (covered[k] >= need->units)
                    continue;
                need_depts(c, need);
                if (!fits_at(c, need, i))
                    continue;
                covered[k]++;
                a->counted = true;
                a->tier = need->tier;
                fm_strlcpy(a->kind, need->kind, sizeof a->kind);
                fm_strlcpy(a->capability, need->capability, sizeof a->capability);
                break;
            }
        }
    }
}

/* The needs of the tiers in play, in fill order: tier by tier, scarcest
 * first (fewest candidates), so a unit that could serve two needs goes
 * to the one nobody else can fill (the only ladder is not spent on "any
 * fire engine"). Returns how many. */
static size_t need_order(struct sg_ctx *c, const struct fm_dir_respond *needs, size_t nneeds,
                         uint8_t max_tier, size_t order[FM_DIR_MAX_RESPOND])
{
    size_t ncount[FM_DIR_MAX_RESPOND], nn = 0;
    for (size_t k = 0; k < nneeds && k < FM_DIR_MAX_RESPOND; k++) {
        if (needs[k].tier > max_tier)
            continue;
        size_t cnt = 0;
        need_depts(c, &needs[k]);
        for (size_t i = 0; i < c->ul.n; i++)
            cnt += cand_ok(c, &needs[k], i);
        size_t at = nn++;
        while (at > 0) {
            const struct fm_dir_respond *p = &needs[order[at - 1]];
            if (p->tier < needs[k].tier || (p->tier == needs[k].tier && ncount[at - 1] <= cnt))
                break;
            order[at] = order[at - 1];
            ncount[at] = ncount[at - 1];
            at--;
        }
        order[at] = k;
        ncount[at] = cnt;
    }
    return nn;
}

/* The proposal for one incident from the context. */
static void propose(struct sg_ctx *c, const struct fm_incident *inc,
                    const struct fm_incident_workflow *wf, struct fm_suggestion *out)
{
    size_t order[FM_DIR_MAX_RESPOND], covered[FM_DIR_MAX_RESPOND] = {0};
    memset(out, 0, sizeof *out);
    fm_strlcpy(out->incident, inc->id, sizeof out->incident);
    fm_strlcpy(out->category, inc->category, sizeof out->category);
    out->priority = inc->priority;
    out->max_tier = 1;
    out->alarm_level = wf->alarm_level;
    out->has_directory = true;
    const struct fm_dir_rule *rule = fm_directory_rule(c->d, inc->category);
    if (rule == NULL)
        return;
    out->has_rule = true;
    if (rule->escalate_priority != 0 && inc->priority <= rule->escalate_priority)
        out->max_tier = 2;
    if (wf->escalated_tier > out->max_tier)
        out->max_tier = wf->escalated_tier;
    /* the linkage plan at the incident's alarm level */
    size_t nneeds;
    const struct fm_dir_respond *needs = fm_dir_rule_needs(rule, out->alarm_level, &nneeds);
    memset(c->chosen, 0, (c->ul.n ? c->ul.n : 1) * sizeof *c->chosen);
    size_t nn = need_order(c, needs, nneeds, out->max_tier, order);
    count_assigned(c, out, needs, order, nn, covered);
    for (size_t k = 0; k < nn; k++)
        need_fill(c, out, &needs[order[k]], inc, covered[k]);
}

/* Marks each proposed unit that the proposal of another open priority-1
 * incident also takes (the first such incident by id). */
struct p1_walk {
    struct sg_ctx *c;
    struct fm_suggestion *mine, *other;
};

static int p1_each(void *ctx, const struct fm_incident *inc)
{
    struct p1_walk *w = ctx;
    struct fm_incident_workflow wf;
    if (inc->priority != 1 || !fm_incident_open(inc) ||
        strcmp(inc->id, w->mine->incident) == 0)
        return 0;
    if (fm_node_incident_workflow(w->c->n, inc->id, &wf) != FM_OK)
        return 0;
    propose(w->c, inc, &wf, w->other);
    for (size_t i = 0; i < w->mine->nunits; i++) {
        struct fm_suggest_unit *u = &w->mine->units[i];
        for (size_t k = 0; k < w->other->nunits; k++)
            if (strcmp(u->unit, w->other->units[k].unit) == 0 &&
                (u->also_for[0] == '\0' || strcmp(inc->id, u->also_for) < 0))
                fm_strlcpy(u->also_for, inc->id, sizeof u->also_for);
    }
    return 0;
}

/* Directory units ordered by name, equal names in directory order (the
 * first one wins, as in fm_directory_unit); and keyed ones by key. */
static int dir_unit_cmp(const void *a, const void *b)
{
    const struct fm_dir_unit *x = *(const struct fm_dir_unit *const *)a;
    const struct fm_dir_unit *y = *(const struct fm_dir_unit *const *)b;
    int r = strcmp(x->name, y->name);
    return r != 0 ? r : (x > y) - (x < y);
}

static int dir_key_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct fm_dir_unit *const *)a)->key,
                  (*(const struct fm_dir_unit *const *)b)->key);
}

/* The leftmost of idx[0..n) whose name (by_key: key) is s, else NULL. */
static const struct fm_dir_unit *idx_find(const struct fm_dir_unit **idx, size_t n,
                                          const char *s, bool by_key)
{
    size_t lo = 0, hi = n;
    if (s[0] == '\0')
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(by_key ? idx[mid]->key : idx[mid]->name, s) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(by_key ? idx[lo]->key : idx[lo]->name, s) == 0 ? idx[lo] : NULL;
}

/* Looks each unit's directory entry and department up once: sorted
 * indexes of the directory's unit names and keys, then binary searches a
 * unit. A retired unit gets no department, so it fits no need. */
static int sg_resolve(struct sg_ctx *c)
{
    const struct fm_directory *d = c->d;
    size_t n = c->ul.n ? c->ul.n : 1, nk = 0;
    const struct fm_dir_unit **idx = malloc(2 * (d->nunits ? d->nunits : 1) * sizeof *idx);
    c->du = calloc(n, sizeof *c->du);
    c->dept = calloc(n, sizeof *c->dept);
    if (idx == NULL || c->du == NULL || c->dept == NULL) {
        free(idx);
        return FM_ENOMEM;
    }
    const struct fm_dir_unit **kidx = idx + d->nunits;
    for (size_t i = 0; i < d->nunits; i++) {
        idx[i] = &d->units[i];
        if (d->units[i].key[0])
            kidx[nk++] = &d->units[i];
    }
    qsort(idx, d->nunits, sizeof *idx, dir_unit_cmp);
    if (nk > 1)
        qsort(kidx, nk, sizeof *kidx, dir_key_cmp);
    for (size_t i = 0; i < c->ul.n; i++) {
        const struct fm_unit *u = &c->ul.v[i];
        enum fm_unit_standing st;
        c->du[i] = directory_unit_judge(d, u, idx_find(idx, d->nunits, u->name, false),
                                        idx_find(kidx, nk, u->key, true), &st);
        c->dept[i] = st == FM_UNIT_RETIRED ? NULL
                     : c->du[i]            ? &d->depts[c->du[i]->dept]
                                           : directory_dept(d, u->department);
    }
    free(idx);
    return FM_OK;
}

static int sg_load(struct sg_ctx *c, const char *incident, struct fm_incident_workflow *wf)
{
    struct store_txn *t;
    int rc = fm_node_units(c->n, unit_collect, &c->ul);
    if (rc != FM_OK || (rc = store_read_begin(c->n->st, &t)) != FM_OK)
        return rc;
    rc = wf_directory_txn(t, &c->d);
    if (rc == FM_OK && (rc = wf_incident_workflow_txn(t, incident, wf)) == FM_OK)
        rc = wf_walk(t, FM_ENT_TICKET, false, busy_each, &c->busy);
    store_txn_abort(&t);
    if (rc != FM_OK)
        return rc;
    c->chosen = calloc(c->ul.n ? c->ul.n : 1, sizeof *c->chosen);
    c->cands = calloc(c->ul.n ? c->ul.n : 1, sizeof *c->cands);
    if (c->chosen == NULL || c->cands == NULL)
        return FM_ENOMEM;
    return sg_resolve(c);
}

static void sg_release(struct sg_ctx *c)
{
    free(c->chosen);
    free(c->cands);
    free(c->du);
    free(c->dept);
    free(c->ul.v);
    free(c->busy.v);
    fm_directory_free(&c->d);
}

int fm_node_dispatch_suggest(struct fm_node *n, const char *incident, uint64_t now_ms,
                             struct fm_suggestion *out)
{
    struct sg_ctx c = {.n = n, .now_ms = now_ms};
    struct fm_incident inc;
    struct fm_incident_workflow wf;
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
    out->alarm_level = 1;
    rc = sg_load(&c, inc.id, &wf);
    if (rc == FM_ENOTFOUND) {
        rc = FM_OK; /* no directory yet: nothing to propose */
        goto out;
    }
    if (rc != FM_OK)
        goto out;
    propose(&c, &inc, &wf, out);
    if (out->nunits > 0) {
        struct fm_incident_filter any = {.stage = -1};
        struct p1_walk w = {.c = &c, .mine = out, .other = malloc(sizeof *w.other)};
        if (w.other == NULL) {
            rc = FM_ENOMEM;
            goto out;
        }
        rc = fm_node_incidents(n, &any, p1_each, &w);
        free(w.other);
    }
out:
    sg_release(&c);
    return rc;
}

/* ---- a dispatcher's own choice, checked against the rule ---- */

/* "fire/hazmat, medical/ambulance, ..." of the rule's needs (any tier, level 1). */
static void needs_text(const struct fm_dir_rule *rule, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < rule->nrespond && len + 1 < cap; k++) {
        const struct fm_dir_respond *r = &rule->respond[k];
        int w = snprintf(out + len, cap - len, "%s%s%s%s", k ? ", " : "", r->kind,
                         r->capability[0] ? "/" : "", r->capability);
        if (w < 0)
            break;
        len += (size_t)w < cap - len ? (size_t)w : cap - len - 1;
    }
}

static void check_fit(const struct fm_directory *d, const struct fm_dir_rule *rule,
                      const struct fm_unit *u, const struct fm_incident *inc,
                      struct fm_dispatch_check *out)
{
    const struct fm_dir_dept *dept = NULL;
    const struct fm_dir_unit *du = NULL;
    char needs[FM_TEXT_MAX / 2];
    for (size_t k = 0; k < rule->nrespond && !out->fits; k++)
        out->fits = unit_fits(&rule->respond[k], d, u, &dept, &du);
    for (size_t l = 0; l < rule->nlevels && l < FM_DIR_MAX_LEVELS && !out->fits; l++)
        for (size_t k = 0; k < rule->levels[l].nrespond && !out->fits; k++)
            out->fits = unit_fits(&rule->levels[l].respond[k], d, u, &dept, &du);
    if (dept == NULL) { /* unit_fits sets them even when it does not fit */
        du = fm_directory_unit_of(d, u, NULL);
        dept = du ? &d->depts[du->dept] : directory_dept(d, u->department);
    }
    if (dept != NULL && dept->county < d->ncounties)
        fm_strlcpy(out->county, d->counties[dept->county], sizeof out->county);
    if (!out->fits) {
        needs_text(rule, needs, sizeof needs);
        if (dept == NULL)
            snprintf(out->why, sizeof out->why,
                     "its department '%.255s' is not in the directory, so it fits none of "
                     "%.31s's needs (%.560s)", u->department, inc->category, needs);
        else
            snprintf(out->why, sizeof out->why, "it is %.63s with %.300s; %.31s needs %.560s",
                     dept->kind, u->capabilities[0] ? u->capabilities : "no capabilities",
                     inc->category, needs);
    }
    /* how far from home: its station, else where it last reported */
    if (du != NULL) {
        out->has_distance = true;
        out->distance_km = fm_great_circle_km(du->lat_e7, du->lon_e7, inc->lat_e7, inc->lon_e7);
    } else if (u->has_position) {
        out->has_distance = true;
        out->live_position = true;
        out->distance_km = fm_great_circle_km(u->lat_e7, u->lon_e7, inc->lat_e7, inc->lon_e7);
    }
    out->far = out->has_distance && out->distance_km > FM_FAR_KM;
}

/* With boundaries, the county is known rather than guessed from distance:
 * judged with or without a rule for the category. */
static void county_check(const struct fm_directory *d, const struct fm_unit *u,
                         const struct fm_incident *inc, struct fm_dispatch_check *out)
{
    int ic = fm_directory_county_at(d, inc->lat_e7, inc->lon_e7);
    if (ic < 0)
        return;
    const struct fm_dir_unit *du = fm_directory_unit_of(d, u, NULL);
    const struct fm_dir_dept *dept = du ? &d->depts[du->dept] : directory_dept(d, u->department);
    fm_strlcpy(out->incident_county, d->counties[ic], sizeof out->incident_county);
    if (dept != NULL && dept->county < d->ncounties) {
        fm_strlcpy(out->county, d->counties[dept->county], sizeof out->county);
        out->outside_county = dept->county != ic;
    }
}

int fm_node_dispatch_check(struct fm_node *n, const char *incident, const char *unit,
                           struct fm_dispatch_check *out)
{
    struct fm_incident inc;
    struct fm_unit *u = NULL;
    struct fm_directory *d = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    out->fits = true;
    if (n == NULL || incident == NULL || unit == NULL)
        return FM_EINVAL;
    if ((rc = fm_node_incident_get(n, incident, &inc)) != FM_OK)
        return rc;
    if ((u = malloc(sizeof *u)) == NULL)
        return FM_ENOMEM;
    if ((rc = fm_node_unit_get(n, unit, u)) != FM_OK)
        goto out;
    rc = fm_node_directory_get(n, &d);
    if (rc == FM_ENOTFOUND) {
        rc = FM_OK; /* nothing to judge against */
        goto out;
    }
    const struct fm_dir_rule *rule = rc == FM_OK ? fm_directory_rule(d, inc.category) : NULL;
    enum fm_unit_standing st = FM_UNIT_UNLISTED;
    if (rc == FM_OK)
        (void)fm_directory_unit_of(d, u, &st);
    if (st == FM_UNIT_RETIRED) {
        /* never proposed; sent by hand only on purpose */
        out->judged = true;
        out->fits = false;
        out->retired = true;
        snprintf(out->why, sizeof out->why, "it is retired: the directory in force (version "
                 "%.60s) no longer lists it", d->version);
    } else if (rule != NULL) {
        out->judged = true;
        out->fits = false;
        check_fit(d, rule, u, &inc, out);
    }
    if (rc == FM_OK)
        county_check(d, u, &inc, out);
out:
    free(u);
    fm_directory_free(&d);
    return rc;
}
