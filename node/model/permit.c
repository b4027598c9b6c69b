/*
 * permit.c — who may write which op: the role (and unit) rule of every op
 * kind, decided at ingest on every node and by the writer up front.
 *
 * The verdict is a function of the op and its author's certificate (the
 * one in force at the op's seq: op 1 or the latest renewal before it), so
 * every replica reaches the same one whatever it holds. Where a rule is
 * about ownership — "the reporter of this incident", "the node that added
 * this stock" — the owner is read from the target's id: an entity's id is
 * the (author, seq) of the op that created it, and the op carries the full
 * ref, so "the target was created by this author" needs no other op and
 * cannot depend on arrival order. Claims that do need another op (a unit's
 * name, a ticket's dispatch, a depot named after the author's unit) pass
 * here only when they name the author's own unit and are judged again
 * when applied, waiting for that op if need be (park.c).
 * docs/workflow.md §4 has the table.
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <string.h>

/* Whether a node whose certificate names `cert_unit` acts on its own unit
 * when it targets `unit` (the op carries the unit's name, optional, in pl):
 * the certificate names the unit by its entity id, or by the name the op
 * carries. The name claim is checked against the name the dispatcher
 * recorded (tickets) or the unit's registration (unit ops) when the op is
 * applied (docs/workflow.md §4). */
bool workflow_unit_own(const char *cert_unit, const struct payload_ref *unit,
                       const struct payload *pl)
{
    char id[FM_ID_MAX];
    if (cert_unit == NULL || cert_unit[0] == '\0')
        return false;
    if ((pl->present & PT_BIT(PT_NAME)) && strcmp(cert_unit, pl->name) == 0)
        return true;
    fm_op_id_format(unit->author, unit->seq, id);
    return strcmp(cert_unit, id) == 0;
}

/* Whether the entity `ref` names was created by `author` (its id is the
 * creating op's author and seq). */
static bool permit_own_entity(const struct payload_ref *ref, const uint8_t author[FM_PK_LEN])
{
    return memcmp(ref->author, author, FM_PK_LEN) == 0;
}

/* A unit's claim that the stock it changes is its own: the op names the
 * depot, and that is the unit the author's certificate names. Whether the
 * stock is really kept at that depot is judged when applied, against the
 * stock's resource.add (park_depot_judge). */
static bool permit_depot_claim(const struct node_head *h, const struct payload *pl)
{
    return (pl->present & PT_BIT(PT_DEPOT)) && h->unit[0] != '\0' &&
           strcmp(pl->depot, h->unit) == 0;
}

int workflow_permitted(const struct node_head *h, const uint8_t author[FM_PK_LEN],
                       const struct payload *pl)
{
    const uint8_t role = h->role;
    const bool dispatcher = role == FM_ROLE_CENTRE || role == FM_ROLE_COUNTY;
    const bool any_unit = model_role_any_unit(role); /* model_int.h */
    const bool field = role == FM_ROLE_VEHICLE || role == FM_ROLE_NONE;
    switch (pl->log.kind) {
    case OP_INC_REPORT:
    case OP_INC_NOTE:
    case OP_MAT_REQUEST:
    case OP_BULLETIN_READ:
        return FM_OK; /* anyone enrolled reports, notes, asks, reads */
    case OP_INC_UPDATE:
    case OP_INC_STATUS:
        return any_unit || permit_own_entity(&pl->ref, author) ? FM_OK : FM_EPERM;
    case OP_RES_ADD:
        return field ? FM_EPERM : FM_OK; /* depots are kept by stations and up */
    case OP_RES_ADJUST:
        return dispatcher || permit_own_entity(&pl->ref, author) || permit_depot_claim(h, pl)
                   ? FM_OK
                   : FM_EPERM;
    case OP_MAT_ALLOCATE:
    case OP_MAT_RETURN:
        /* ref2 is the depot the stock leaves or comes back to */
        return dispatcher || permit_own_entity(&pl->ref2, author) || permit_depot_claim(h, pl)
                   ? FM_OK
                   : FM_EPERM;
    case OP_DIR_PUBLISH:
        return role == FM_ROLE_ADMIN || role == FM_ROLE_CENTRE ? FM_OK : FM_EPERM;
    case OP_UNIT_REGISTER:
        /* a directory unit's derived id is for its publishers only: anyone
         * else could overwrite its fields */
        if (pl->present & PT_BIT(PT_REF))
            return role == FM_ROLE_ADMIN || role == FM_ROLE_CENTRE ? FM_OK : FM_EPERM;
        return field ? FM_EPERM : FM_OK;
    case OP_UNIT_STATUS:
    case OP_UNIT_POSITION:
        return any_unit || workflow_unit_own(h->unit, &pl->ref, pl) ? FM_OK : FM_EUNIT;
    case OP_TICKET_DISPATCH:
    case OP_TICKET_ESCALATE:
    case OP_CONFLICT_RESOLVE:
    case OP_INC_MERGE: /* moves tickets between incidents: a dispatch decision */
        return dispatcher ? FM_OK : FM_EPERM;
    case OP_INC_ALARM:
        /* raising the alarm level commits more units: whoever may
         * dispatch, and admin */
        return any_unit ? FM_OK : FM_EPERM;
    case OP_TICKET_STEP:
        /* a unit reports its own progress; cancelling and reassigning is
         * a dispatcher's decision */
        if (pl->code == TS_CANCEL || pl->code == TS_REASSIGN)
            return dispatcher ? FM_OK : FM_EPERM;
        /* the record says whose report it is: a dispatcher node (centre,
         * county, admin) reports on the unit's behalf, a station or
         * vehicle as the unit itself */
        if (((pl->flags & 1) != 0) != any_unit)
            return FM_EPERM;
        /* and a station or vehicle only for the unit its certificate
         * names; that the step's unit is its ticket's is checked when the
         * ticket's dispatch is known (apply_step) */
        return any_unit || workflow_unit_own(h->unit, &pl->ref3, pl) ? FM_OK : FM_EUNIT;
    case OP_BULLETIN_SEND:
        return field ? FM_EPERM : FM_OK;
    case OP_INC_FEEDBACK:
        return any_unit ? FM_OK : FM_EPERM;
    case OP_FORK_EVIDENCE:
        return FM_OK; /* two ops signed by another key, verified by fork.c */
    case OP_GROUP_KEY:
        /* the dispatchers' key travels with the roles that use it; the
         * org's signature on it is checked after this (node_op_check) */
        return any_unit ? FM_OK : FM_EPERM;
    case OP_CERT_ANNOUNCE:
        /* enrolling nodes is the mesh's managers' business: they announce a
         * new node's certificate (the org's signature is checked after
         * this, node_op_check) */
        return any_unit ? FM_OK : FM_EPERM;
    default:
        /* certificates, renewals and revocations are checked against the
         * organisation's key before this (node_op_check); a kind without
         * a rule here is refused rather than let through */
        return FM_EPERM;
    }
}
