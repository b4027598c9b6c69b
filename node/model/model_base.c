/*
 * model_base.c — causal last-writer-wins: an op's effective stamp and the
 * `base` a writer puts into an op (docs/field-sync.md §6).
 *
 * A plain LWW register lets the op with the largest hlc win, so an op
 * stamped 300 days ahead (a bad clock, or a key holder who wants a value
 * to stick) would win every merge until that date. Instead, an op that
 * edits an existing entity's LWW fields carries `base`: the largest
 * effective stamp among that entity's LWW fields as its writer saw them.
 * The op's effective stamp is eff = max(hlc, base + 1), a function of the
 * op's own bytes, and fields merge by (eff, hlc, author). A write by
 * anyone who has seen the far-future value thus carries a base at least
 * its effective stamp and wins over it: the value is no longer pinned.
 * Because eff depends on nothing but the op, the merge stays a total
 * order on ops: commutative, independent of arrival order and of every
 * node's clock.
 *
 * Writers put `base` into the op only when it changes the effective stamp
 * (base >= hlc); otherwise eff = hlc either way, and the op keeps the
 * bytes a node of the previous build reads (its strict decoder refuses a
 * tag it does not know).
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <stdlib.h>

/* The largest base an op may carry: eff = base + 1 never overflows, and
 * no real clock comes near it (2^63 hlc is the year 6429). */
#define BASE_MAX ((uint64_t)INT64_MAX)

uint64_t model_eff(uint64_t hlc, uint64_t base)
{
    if (base > BASE_MAX)
        base = BASE_MAX; /* the decoder refuses more; defensive */
    return base >= hlc ? base + 1 : hlc;
}

/* The record tags merged last-writer-wins, per entity kind (bit = tag). */
static uint32_t lww_tags(uint8_t kind)
{
#define T(x) (UINT32_C(1) << (x))
    switch (kind) {
    case FM_ENT_INCIDENT:
        return T(F_CREATED) | T(F_CATEGORY) | T(F_PRIORITY) | T(F_LOCATION) | T(F_ADDRESS) |
               T(F_CALLER) | T(F_DESC);
    case FM_ENT_UNIT:
        return T(F_CREATED) | T(F_NAME) | T(F_DEPT) | T(F_TIER) | T(F_UKIND) | T(F_CAPS) |
               T(F_USTATUS) | T(F_POSITION) | T(F_UKEY);
    case FM_ENT_RESOURCE:
        return T(F_CREATED) | T(F_RKIND) | T(F_DEPOT);
    default:
        return 0;
    }
#undef T
}

uint64_t model_rec_lww_max(const struct model_rec *r)
{
    uint32_t tags = lww_tags(r->kind);
    uint64_t max = 0;
    for (unsigned tag = 1; tag <= F__MAX; tag++)
        if ((tags & (UINT32_C(1) << tag)) && r->f[tag].set && r->f[tag].eff > max)
            max = r->f[tag].eff;
    return max;
}

/* The entity whose LWW fields pl edits, if it may carry a base. */
static bool base_target(const struct payload *pl, uint8_t *kind)
{
    switch (pl->log.kind) {
    case OP_INC_UPDATE:
        *kind = FM_ENT_INCIDENT;
        return true;
    case OP_UNIT_STATUS:
    case OP_UNIT_POSITION:
        *kind = FM_ENT_UNIT;
        return true;
    case OP_UNIT_REGISTER: /* a directory unit registered again (derived id) */
        *kind = FM_ENT_UNIT;
        return (pl->present & PT_BIT(PT_REF)) != 0;
    default:
        return false;
    }
}

int model_base_for(struct store_txn *t, const struct payload *pl, uint64_t hlc, uint64_t *base)
{
    uint8_t kind;
    char id[FM_ID_MAX];
    *base = 0;
    if (!base_target(pl, &kind))
        return FM_OK;
    struct model_rec *r = malloc(sizeof *r);
    if (r == NULL)
        return FM_ENOMEM;
    fm_op_id_format(pl->ref.author, pl->ref.seq, id);
    int rc = model_rec_load(t, kind, id, r);
    if (rc == FM_OK) {
        uint64_t seen = model_rec_lww_max(r);
        if (seen > BASE_MAX)
            seen = BASE_MAX; /* ties at the cap fall to (hlc, author) */
        if (seen >= hlc)
            *base = seen;
    } else if (rc == FM_ENOTFOUND) {
        rc = FM_OK; /* nothing seen: no base */
    }
    free(r);
    return rc;
}
