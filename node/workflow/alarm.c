/*
 * alarm.c — raising an incident's alarm level (linkage plans, docs/workflow.md §2).
 *
 * An incident starts at alarm level 1; a dispatcher raises it (one level
 * up, or to a named level up to FM_ALARM_MAX) with an incident.alarm op.
 * The level only goes up: the op merges by max (workflow_apply.c), so two
 * dispatchers raising it while apart end at the higher of their levels on
 * every node. The proposal then reads the needs of the category's rule at
 * that level (fm_dir_rule_needs), and the units already out count first,
 * so what is proposed after a raise is the difference.
 */
#include "workflow_int.h"

#include <stdlib.h>
#include <string.h>

int fm_node_incident_alarm(struct fm_node *n, const char *incident, uint8_t level,
                           const char *reason, uint8_t *level_out)
{
    struct store_txn *t;
    struct payload *pl = NULL;
    struct fm_incident_workflow wf;
    char id[FM_ID_MAX];
    int rc;
    if (level_out != NULL)
        *level_out = 0;
    if (n == NULL || !n->has_identity || !wf_is_dispatcher(n))
        return FM_EPERM;
    if (incident == NULL || level == 1 || level > FM_ALARM_MAX ||
        (reason != NULL && reason[0] != '\0' && !payload_text_ok(reason, 1, FM_TEXT_MAX - 1)))
        return FM_EINVAL;
    if ((pl = calloc(1, sizeof *pl)) == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out;
    rc = wf_ref_resolve(t, FM_ENT_INCIDENT, incident, id, &pl->ref, NULL);
    if (rc == FM_OK)
        rc = wf_incident_workflow_txn(t, id, &wf);
    if (rc == FM_OK) {
        enum fm_incident_stage stage;
        (void)wf_incident_epoch_stage(t, &pl->ref, &stage);
        if (stage >= FM_STAGE_RESOLVED)
            rc = FM_ECLOSED;
    }
    store_txn_abort(&t);
    if (rc != FM_OK)
        goto out;
    if (level == 0)
        level = (uint8_t)(wf.alarm_level + 1);
    if (level_out != NULL)
        *level_out = level;
    if (level <= wf.alarm_level || level > FM_ALARM_MAX) {
        rc = FM_ESTATE; /* already there (or at the top) */
        goto out;
    }
    pl->log.kind = OP_INC_ALARM;
    pl->code = level;
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_CODE);
    if (reason != NULL && reason[0] != '\0') {
        fm_strlcpy(pl->text, reason, sizeof pl->text);
        pl->present |= PT_BIT(PT_TEXT);
    }
    rc = node_write_payload(n, &pl->log, NULL);
out:
    free(pl);
    return rc;
}
