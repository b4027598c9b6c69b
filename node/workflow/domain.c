/*
 * domain.c — what the replica serves: the table through which the op log
 * (node/replica/) decodes, permits, applies and describes ops of the
 * domain's kinds, and the opens that hand it over.
 *
 * The replica never names the model or the workflow; it calls this table.
 * Ops of the linkage workflow's kinds go to workflow_apply.c, the rest to
 * the model (model.c), so neither calls the other to dispatch a kind and
 * every arrow between the folders points down: workflow -> model ->
 * replica (docs/architecture.md).
 */
#include "workflow_int.h"

#include <stdio.h>
#include <string.h>

static int domain_encode(struct store_txn *t, struct payload *pl, uint64_t clock,
                         struct fm_buf *out, struct payload *check)
{
    /* causal LWW: an edit names the newest value it saw when that is
     * stamped at or after our clock (model_base.c) */
    uint64_t base;
    int rc = model_base_for(t, pl, clock, &base);
    if (rc != FM_OK)
        return rc;
    if (base != 0) {
        pl->base = base;
        pl->present |= PT_BIT(PT_BASE);
    }
    return payload_encode(pl, out, check);
}

int domain_apply(struct store_txn *t, const struct fm_op *op, const struct payload *pl)
{
    if (workflow_kind(pl->kind))
        return workflow_apply(t, op, pl); /* linkage workflow (workflow_apply.c) */
    return model_apply(t, op, pl, domain_apply);
}

static void domain_summary(const struct payload *pl, char *out, size_t cap)
{
    if (workflow_kind(pl->kind))
        workflow_payload_summary(pl, out, cap);
    else
        payload_summary(pl, out, cap);
    if (pl->present & PT_BIT(PT_OPERATOR)) { /* op format 2: who at the console */
        size_t len = strnlen(out, cap);
        if (len + 1 < cap)
            snprintf(out + len, cap - len, " (operator %s)", pl->operator_name);
    }
}

static const struct replica_domain domain = {
    .decode = payload_decode,
    .encode = domain_encode,
    .permitted = workflow_permitted,
    .apply = domain_apply,
    .clear = model_clear,
    .entities = model_entities,
    .summary = domain_summary,
    .kind_name = payload_kind_name,
    .soft_subject = model_soft_subject,
    .soft_subject_own = model_soft_subject_own,
};

int fm_node_open_keys(struct fm_node **out, const struct fm_config *cfg, unsigned flags,
                      const struct fm_keys *k)
{
    return replica_open(out, cfg, flags, k, &domain);
}

int fm_node_open(struct fm_node **out, const struct fm_config *cfg, unsigned flags)
{
    struct fm_keys k;
    *out = NULL;
    if (cfg == NULL || cfg->data_dir[0] == '\0')
        return FM_EINVAL;
    int rc = fm_keys_get(&k, cfg);
    if (rc == FM_OK)
        rc = fm_node_open_keys(out, cfg, flags, &k);
    fm_keys_release(&k);
    return rc;
}
