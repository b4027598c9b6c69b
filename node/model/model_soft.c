/*
 * model_soft.c — what soft state means to units: a position's subject is
 * a unit, and a station or vehicle places only the unit its certificate
 * names.
 *
 * The replica keeps soft records (node/replica/softstate.c) keyed by a
 * subject it does not interpret; it asks these two rules through its
 * domain table, one when this node writes a position and one when it
 * receives another's, so both sides judge alike. Reading a unit lays the
 * newest soft position over the logged one (model_unit_soft).
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <stdlib.h>
#include <string.h>

/* Is the unit of record mr (with id) the one `own` names: by id, or by a
 * name it is registered under here (model_unit_claim)? */
static bool unit_is_own(struct store_txn *t, const struct model_rec *mr, const char *id,
                        const char *own)
{
    bool holds = false, wait;
    if (own[0] == '\0')
        return false;
    if (strcmp(own, id) == 0)
        return true;
    return model_unit_claim(t, id, mr, own, &holds, &wait) == FM_OK && holds;
}

int model_soft_subject(struct store_txn *t, const struct fm_cert *cert, const char *name,
                       uint8_t ref[FM_PK_LEN + 8])
{
    char id[FM_ID_MAX];
    struct model_rec *mr = malloc(sizeof *mr);
    if (mr == NULL)
        return FM_ENOMEM;
    int rc = node_resolve_txn(t, FM_ENT_UNIT, name, id);
    if (rc == FM_OK)
        rc = model_rec_load(t, FM_ENT_UNIT, id, mr);
    const struct model_field_val *f = &mr->f[F_CREATED];
    if (rc == FM_OK && (!f->set || f->len != FM_PK_LEN + 8))
        rc = FM_ENOTFOUND;
    if (rc == FM_OK && !model_role_any_unit(cert->role) && !unit_is_own(t, mr, id, cert->unit))
        rc = FM_EUNIT;
    if (rc == FM_OK)
        memcpy(ref, f->val, FM_PK_LEN + 8);
    free(mr);
    return rc;
}

/* Soft state is current, not agreed: judging against the local records
 * is enough, and a position of a unit not known here yet is useless. */
int model_soft_subject_own(struct store_txn *t, const struct node_head *h,
                           const uint8_t ref[FM_PK_LEN + 8])
{
    char id[FM_ID_MAX];
    if (model_role_any_unit(h->role))
        return FM_OK;
    if (h->unit[0] == '\0')
        return FM_EUNIT;
    fm_op_id_format(ref, fm_be64_get(ref + FM_PK_LEN), id);
    if (strcmp(h->unit, id) == 0)
        return FM_OK;
    struct model_rec *mr = malloc(sizeof *mr);
    if (mr == NULL)
        return FM_ENOMEM;
    int rc = model_rec_load(t, FM_ENT_UNIT, id, mr);
    if (rc == FM_OK || rc == FM_ENOTFOUND)
        rc = unit_is_own(t, mr, id, h->unit) ? FM_OK : FM_EUNIT;
    free(mr);
    return rc;
}

int model_unit_soft(struct fm_node *n, const struct model_rec *mr, struct fm_unit *u)
{
    const struct model_field_val *f = &mr->f[F_CREATED];
    struct soft_position p;
    if (!f->set || f->len != FM_PK_LEN + 8)
        return FM_OK;
    int rc = soft_position_get(n, f->val, &p);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK)
        return rc;
    if (!u->has_position || p.hlc > u->position_hlc) {
        u->has_position = true;
        u->lat_e7 = p.lat_e7;
        u->lon_e7 = p.lon_e7;
        u->position_hlc = p.hlc;
        u->gps = p.gps;
        u->fix_ms = p.fix_ms;
        u->accuracy_dm = p.accuracy_dm;
    }
    return FM_OK;
}
