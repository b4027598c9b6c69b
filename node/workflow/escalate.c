/*
 * escalate.c — bringing in the next tier when nobody acknowledges.
 *
 * fieldmeshd calls fm_node_workflow_tick about once a second (and
 * `fieldmesh escalate` runs it once). On a dispatcher node (centre or
 * county) it looks for active tickets that no unit has acknowledged within
 * their category's escalate_after_s and raises an escalation op for the
 * incident to the next tier of its rule (after tier 1, or tier 2 for an
 * incident urgent enough to have brought tier 2 in at once). A further
 * tier waits the full period again, counted from the previous escalation's
 * stamp (replicated, so every node agrees). The node that dispatched the
 * ticket acts at the deadline; any other dispatcher waits a grace period
 * more, so the dispatching node normally raises it alone, yet a dispatcher
 * cut off from it still does. When several do anyway, their ops merge:
 * an incident has at most one escalation per tier (the first raise wins,
 * the others are counted), so duplicates are harmless.
 *
 * An open incident that no unit is out on (never dispatched, or every
 * ticket cancelled: an orphan, orphans.c) escalates the same way, its
 * period counted from the report or from its last ticket's end, with its
 * reporter as the node that acts first; the daemon logs it as a warning.
 */
#include "workflow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GRACE_MIN_MS 5000

struct due {
    char incident[FM_ID_MAX];
    char ticket[FM_ID_MAX];
    uint8_t tier;
    uint32_t after_s;
    enum fm_orphan_kind orphan; /* 0: an unacknowledged ticket */
};

struct tick {
    struct fm_node *n;
    struct fm_directory *d;
    uint64_t now_ms;
    char me[FM_KEY_TEXT_LEN];
    struct due *due;
    size_t ndue, cap;
};

/* The tier an escalation of inc would bring in now, or 0: the clock runs
 * from start_hlc, or from the last escalation when that is later, so every
 * tier gets the rule's full period (both are replicated op stamps); the
 * node named by `actor` acts at the deadline, others a grace period later. */
static uint8_t due_tier(const struct tick *k, const struct fm_incident *inc, uint64_t start_hlc,
                        const char *actor, uint32_t *after_s)
{
    struct fm_incident_workflow wf;
    if (!fm_incident_open(inc))
        return 0; /* handled (or merged: its tickets count on the survivor): nobody is brought in for it any more */
    const struct fm_dir_rule *rule = fm_directory_rule(k->d, inc->category);
    if (rule == NULL || rule->escalate_after_s == 0)
        return 0;
    if (fm_node_incident_workflow(k->n, inc->id, &wf) != FM_OK)
        return 0;
    uint64_t after = (uint64_t)rule->escalate_after_s * 1000;
    uint64_t start = hlc_ms(start_hlc);
    if (wf.escalated_tier >= 2 && wf.escalated_tier <= 3 &&
        hlc_ms(wf.escalated_hlc[wf.escalated_tier]) > start)
        start = hlc_ms(wf.escalated_hlc[wf.escalated_tier]);
    uint64_t due = start + after;
    if (strcmp(actor, k->me) != 0)
        due += after / 2 > GRACE_MIN_MS ? after / 2 : GRACE_MIN_MS;
    if (k->now_ms < due)
        return 0;
    /* the tiers in play, as in the proposal: 1, 2 for urgent incidents, or
     * what an escalation already brought in; the next one joins */
    uint8_t tier = 1;
    if (rule->escalate_priority != 0 && inc->priority <= rule->escalate_priority)
        tier = 2;
    if (wf.escalated_tier > tier)
        tier = wf.escalated_tier;
    tier++;
    bool needed = false;
    size_t nneeds;
    const struct fm_dir_respond *needs = fm_dir_rule_needs(rule, wf.alarm_level, &nneeds);
    for (size_t i = 0; i < nneeds; i++)
        needed = needed || needs[i].tier >= tier;
    if (tier > 3 || !needed)
        return 0;
    *after_s = rule->escalate_after_s;
    return tier;
}

static int due_add(struct tick *k, const char *incident, const char *ticket, uint8_t tier,
                   uint32_t after_s, enum fm_orphan_kind orphan)
{
    for (size_t i = 0; i < k->ndue; i++)
        if (strcmp(k->due[i].incident, incident) == 0 && k->due[i].tier == tier)
            return 0;
    if (k->ndue == k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 8;
        struct due *nv = realloc(k->due, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        k->due = nv;
        k->cap = cap;
    }
    struct due *d = &k->due[k->ndue++];
    fm_strlcpy(d->incident, incident, sizeof d->incident);
    fm_strlcpy(d->ticket, ticket, sizeof d->ticket);
    d->tier = tier;
    d->after_s = after_s;
    d->orphan = orphan;
    return 0;
}

static int tick_each(void *ctx, const struct fm_ticket *tk)
{
    struct tick *k = ctx;
    struct fm_incident inc;
    uint32_t after_s = 0;
    if (!tk->active || tk->acked.hlc != 0 || tk->onscene.hlc != 0 || tk->enroute.hlc != 0)
        return 0;
    if (fm_node_incident_get(k->n, tk->incident, &inc) != FM_OK)
        return 0;
    uint8_t tier = due_tier(k, &inc, tk->dispatched.hlc, tk->dispatched.author, &after_s);
    return tier == 0 ? 0 : due_add(k, inc.id, tk->id, tier, after_s, 0);
}

/* An open incident no unit is out on (never dispatched, or every ticket
 * cancelled) escalates like an unacknowledged ticket: the period runs from
 * the report or from the last ticket's end; its reporter acts first. */
static int orphan_each(void *ctx, const struct fm_orphan *o)
{
    struct tick *k = ctx;
    struct fm_incident inc;
    uint32_t after_s = 0;
    if (o->kind != FM_ORPHAN_UNDISPATCHED && o->kind != FM_ORPHAN_UNCOVERED)
        return 0;
    if (fm_node_incident_get(k->n, o->incident, &inc) != FM_OK)
        return 0;
    uint8_t tier = due_tier(k, &inc, o->since_hlc, inc.reporter, &after_s);
    return tier == 0 ? 0 : due_add(k, inc.id, "", tier, after_s, o->kind);
}

static int raise_one(struct fm_node *n, const struct due *d)
{
    char why[128];
    if (d->orphan == FM_ORPHAN_UNDISPATCHED)
        snprintf(why, sizeof why, "no unit dispatched within %u s", d->after_s);
    else if (d->orphan != 0)
        snprintf(why, sizeof why, "no unit on it for %u s (every ticket cancelled)", d->after_s);
    else
        snprintf(why, sizeof why, "no acknowledgement within %u s", d->after_s);
    int rc = fm_node_escalate(n, d->incident, d->tier, d->ticket[0] ? d->ticket : NULL, why);
    if (rc != FM_OK)
        return rc;
    /* an incident nobody is out on is the one a busy night loses: louder */
    fm_log(d->orphan ? FM_LOG_WARN : FM_LOG_INFO, "escalate",
           "incident %s: tier %u brought in (%s%s%s)", d->incident, d->tier, why,
           d->ticket[0] ? ", ticket " : "", d->ticket);
    return FM_OK;
}

int fm_node_workflow_tick(struct fm_node *n, uint64_t now_ms, unsigned *raised)
{
    static const struct fm_node *last_node;
    static uint64_t last_sec;
    static bool warned;
    struct tick k;
    int rc;
    if (raised)
        *raised = 0;
    if (n == NULL)
        return FM_EINVAL;
    /* at most once a second per node (the daemon calls it every loop) */
    if (last_node == n && last_sec == now_ms / 1000)
        return FM_OK;
    last_node = n;
    last_sec = now_ms / 1000;
    if (!n->has_identity && (rc = wf_load_identity(n)) != FM_OK) {
        if (!warned)
            fm_log(FM_LOG_DEBUG, "escalate", "no identity to raise escalations: %s",
                   fm_strerror(rc));
        warned = true;
        return FM_OK;
    }
    if (n->cert.role != FM_ROLE_CENTRE && n->cert.role != FM_ROLE_COUNTY)
        return FM_OK; /* only dispatchers escalate */
    memset(&k, 0, sizeof k);
    k.n = n;
    k.now_ms = now_ms;
    fm_key_encode(n->id.pk, k.me);
    rc = fm_node_directory_get(n, &k.d);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    rc = fm_node_tickets(n, NULL, tick_each, &k);
    if (rc == FM_OK)
        rc = fm_node_orphans(n, orphan_each, &k);
    for (size_t i = 0; rc == FM_OK && i < k.ndue; i++)
        if ((rc = raise_one(n, &k.due[i])) == FM_OK && raised)
            (*raised)++;
    free(k.due);
    fm_directory_free(&k.d);
    return rc;
}
