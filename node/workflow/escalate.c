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
};

struct tick {
    struct fm_node *n;
    struct fm_directory *d;
    uint64_t now_ms;
    char me[FM_KEY_TEXT_LEN];
    struct due *due;
    size_t ndue, cap;
};

static int tick_each(void *ctx, const struct fm_ticket *tk)
{
    struct tick *k = ctx;
    struct fm_incident inc;
    struct fm_incident_workflow wf;
    if (!tk->active || tk->acked.hlc != 0 || tk->onscene.hlc != 0 || tk->enroute.hlc != 0)
        return 0;
    if (fm_node_incident_get(k->n, tk->incident, &inc) != FM_OK)
        return 0;
    if (inc.stage >= FM_STAGE_RESOLVED)
        return 0; /* handled: nobody is brought in for it any more */
    const struct fm_dir_rule *rule = fm_directory_rule(k->d, inc.category);
    if (rule == NULL || rule->escalate_after_s == 0)
        return 0;
    /* the tiers in play, as in the proposal: 1, 2 for urgent incidents, or
     * what an escalation already brought in; the next one joins */
    if (fm_node_incident_workflow(k->n, inc.id, &wf) != FM_OK)
        return 0;
    /* the clock runs from the dispatch, or from the last escalation when
     * the ticket's tier has been joined since: every tier gets the rule's
     * full period (both times are replicated op stamps) */
    uint64_t after = (uint64_t)rule->escalate_after_s * 1000;
    uint64_t start = hlc_ms(tk->dispatched.hlc);
    if (wf.escalated_tier >= 2 && wf.escalated_tier <= 3 &&
        hlc_ms(wf.escalated_hlc[wf.escalated_tier]) > start)
        start = hlc_ms(wf.escalated_hlc[wf.escalated_tier]);
    uint64_t due = start + after;
    if (strcmp(tk->dispatched.author, k->me) != 0)
        due += after / 2 > GRACE_MIN_MS ? after / 2 : GRACE_MIN_MS;
    if (k->now_ms < due)
        return 0;
    uint8_t tier = 1;
    if (rule->escalate_priority != 0 && inc.priority <= rule->escalate_priority)
        tier = 2;
    if (wf.escalated_tier > tier)
        tier = wf.escalated_tier;
    tier++;
    bool needed = false;
    for (size_t i = 0; i < rule->nrespond; i++)
        needed = needed || rule->respond[i].tier >= tier;
    if (tier > 3 || !needed)
        return 0;
    for (size_t i = 0; i < k->ndue; i++)
        if (strcmp(k->due[i].incident, inc.id) == 0 && k->due[i].tier == tier)
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
    fm_strlcpy(d->incident, inc.id, sizeof d->incident);
    fm_strlcpy(d->ticket, tk->id, sizeof d->ticket);
    d->tier = tier;
    d->after_s = rule->escalate_after_s;
    return 0;
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
    for (size_t i = 0; rc == FM_OK && i < k.ndue; i++) {
        char why[128];
        snprintf(why, sizeof why, ": no acknowledgement within %u s", k.due[i].after_s);
        rc = fm_node_escalate(n, k.due[i].incident, k.due[i].tier, k.due[i].ticket, why + 2);
        if (rc == FM_OK) {
            fm_log(FM_LOG_INFO, "escalate", "incident %s: tier %u brought in (ticket %s%s)",
                   k.due[i].incident, k.due[i].tier, k.due[i].ticket, why);
            if (raised)
                (*raised)++;
        }
    }
    free(k.due);
    fm_directory_free(&k.d);
    return rc;
}
