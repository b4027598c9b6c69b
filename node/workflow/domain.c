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

/* The replica hands each function below the log's part of a payload
 * (struct log_payload, logpayload.h); it is the first member of the
 * domain's struct payload, which payload_of() gives back. */

static int domain_decode(struct log_payload *out, uint8_t kind, const uint8_t *p, size_t n)
{
    return payload_decode(payload_of(out), kind, p, n);
}

static int domain_encode(struct store_txn *t, struct log_payload *lp, uint64_t clock,
                         struct fm_buf *out, struct log_payload *check)
{
    struct payload *pl = payload_of(lp);
    /* causal LWW: an edit names the newest value it saw when that is
     * stamped at or after our clock (model_base.c) */
    uint64_t base;
    int rc = pl->log.kind == OP_CONFLICT_RESOLVE ? wf_resolution_base(t, pl, clock, &base)
                                                 : model_base_for(t, pl, clock, &base);
    if (rc != FM_OK)
        return rc;
    if (base != 0) {
        pl->log.base = base;
        pl->present |= PT_BIT(PT_BASE);
    }
    if (pl->log.operator_name[0] != '\0') /* op format 2: stamped by the replica's writer */
        pl->present |= PT_BIT(PT_OPERATOR);
    return payload_encode(pl, out, payload_of(check));
}

static int domain_permitted(const struct node_head *h, const uint8_t author[FM_PK_LEN],
                            const struct log_payload *pl)
{
    return workflow_permitted(h, author, payload_of_const(pl));
}

int domain_apply(struct store_txn *t, const struct fm_op *op, const struct payload *pl)
{
    if (workflow_kind(pl->log.kind))
        return workflow_apply(t, op, pl); /* linkage workflow (workflow_apply.c) */
    return model_apply(t, op, pl, domain_apply);
}

static int domain_apply_log(struct store_txn *t, const struct fm_op *op,
                            const struct log_payload *pl)
{
    return domain_apply(t, op, payload_of_const(pl));
}

static void domain_summary(const struct log_payload *lp, char *out, size_t cap)
{
    const struct payload *pl = payload_of_const(lp);
    if (workflow_kind(pl->log.kind))
        workflow_payload_summary(pl, out, cap);
    else
        payload_summary(pl, out, cap);
    if (pl->present & PT_BIT(PT_OPERATOR)) { /* op format 2: who at the console */
        size_t len = strnlen(out, cap);
        if (len + 1 < cap)
            snprintf(out + len, cap - len, " (operator %s)", pl->log.operator_name);
    }
}

/* The ops a payload names (PT_REF, PT_REF2, PT_REF3, those present). */
static size_t domain_op_refs(struct log_payload *lp, const uint8_t *author[], uint64_t *seq[])
{
    static const enum payload_tag tags[LOG_REFS_MAX] = {PT_REF, PT_REF2, PT_REF3};
    struct payload *pl = payload_of(lp);
    struct payload_ref *refs[LOG_REFS_MAX] = {&pl->ref, &pl->ref2, &pl->ref3};
    size_t k = 0;
    for (size_t i = 0; i < LOG_REFS_MAX; i++) {
        if (!(pl->present & PT_BIT(tags[i])))
            continue;
        author[k] = refs[i]->author;
        seq[k++] = &refs[i]->seq;
    }
    return k;
}

static const struct replica_domain domain = {
    .payload_size = sizeof(struct payload),
    .decode = domain_decode,
    .encode = domain_encode,
    .permitted = domain_permitted,
    .apply = domain_apply_log,
    .clear = model_clear,
    .entities = model_entities,
    .summary = domain_summary,
    .kind_name = payload_kind_name,
    .soft_subject = model_soft_subject,
    .soft_subject_own = model_soft_subject_own,
    .op_refs = domain_op_refs,
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
