/*
 * park.c — ops that wait for the op that lets them be judged.
 *
 * Some ops can only be judged against a fact another author's op
 * establishes: a ticket step is valid only for its ticket's unit and
 * incident, which the dispatch op names; a unit op that relies on the
 * unit's name (a station or vehicle whose certificate names its unit by
 * name) is valid only if that is the name the unit was registered under;
 * a stock change by a unit claiming the depot as its own (permit.c) only
 * if the stock was added at a depot of that name.
 * Gossip delivers authors' logs in any order, so such an op may arrive
 * first. Rather than apply it on trust (and be unable to take it back), it
 * is parked: a small raw record keyed by the awaited entity and the op.
 * When the awaited fact is applied, park_release runs every op parked for
 * it through the domain's apply again, which now judges it and applies it or
 * ignores it. Either way round the op ends up judged against the same
 * fact, and once both ops are held nothing stays parked — so the entities
 * (and the digest) are the same whatever the arrival order. An op whose
 * fact never arrives stays parked, which is itself a function of the set
 * of ops held. Parked records live in the entities database, so rebuild
 * clears them and the re-applied ops park again.
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <stdlib.h>
#include <string.h>

#define PARK_KEY_MAX (2 + FM_ID_MAX + 1 + FM_PK_LEN + 8)

static size_t park_prefix(uint8_t kind, const char *id, uint8_t key[PARK_KEY_MAX])
{
    size_t idlen = strnlen(id, FM_ID_MAX - 1);
    key[0] = ENT_PARKED;
    key[1] = kind;
    memcpy(key + 2, id, idlen);
    key[2 + idlen] = 0;
    return 3 + idlen;
}

int park_put(struct store_txn *t, uint8_t kind, const char *id, const struct fm_op *op)
{
    static const uint8_t val[3] = {RAW_VERSION, ENT_PARKED, 0};
    uint8_t key[PARK_KEY_MAX];
    size_t n = park_prefix(kind, id, key);
    memcpy(key + n, op->author, FM_PK_LEN);
    fm_be64_put(key + n + FM_PK_LEN, op->seq);
    return store_put(t, DB_ENTITIES, key, n + FM_PK_LEN + 8, val, sizeof val, false);
}

/* Applies the stored op (author, seq) again. */
static int park_apply(struct store_txn *t, const uint8_t *ref, struct payload *pl,
                      model_apply_fn apply)
{
    const uint8_t *v;
    size_t vlen;
    struct fm_op op;
    int rc = store_get(t, DB_OPS, ref, FM_PK_LEN + 8, &v, &vlen);
    if (rc == FM_ENOTFOUND)
        return FM_OK; /* truncated in this transaction: a rebuild follows */
    if (rc != FM_OK)
        return rc;
    uint8_t *copy = malloc(vlen); /* applying writes: the borrowed value may move */
    if (copy == NULL)
        return FM_ENOMEM;
    memcpy(copy, v, vlen);
    if (fm_op_decode(&op, copy, vlen) != FM_OK ||
        payload_decode(pl, op.kind, op.payload, op.payload_len) != FM_OK)
        rc = FM_ESTORE; /* it was checked before it was stored */
    else
        rc = apply(t, &op, pl);
    free(copy);
    return rc;
}

int park_release(struct store_txn *t, uint8_t kind, const char *id, model_apply_fn apply)
{
    uint8_t key[PARK_KEY_MAX];
    size_t plen = park_prefix(kind, id, key);
    struct store_cur *c;
    struct store_kv kv;
    uint8_t *refs = NULL;
    size_t nrefs = 0, cap = 0;
    int rc = store_cur_open(t, DB_ENTITIES, &c);
    if (rc != FM_OK)
        return rc;
    /* take them all out first: applying writes to the same database */
    while ((rc = store_cur_seek(c, key, plen, &kv)) == FM_OK &&
           store_kv_has_prefix(&kv, key, plen)) {
        if (kv.klen != plen + FM_PK_LEN + 8) {
            rc = FM_ESTORE;
            break;
        }
        if (nrefs == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            uint8_t *nr = realloc(refs, ncap * (FM_PK_LEN + 8));
            if (nr == NULL) {
                rc = FM_ENOMEM;
                break;
            }
            refs = nr;
            cap = ncap;
        }
        memcpy(refs + nrefs++ * (FM_PK_LEN + 8), kv.key + plen, FM_PK_LEN + 8);
        if ((rc = store_cur_del(c)) != FM_OK)
            break;
    }
    store_cur_close(&c);
    if (rc == FM_ENOTFOUND)
        rc = FM_OK;
    struct payload *pl = nrefs > 0 && rc == FM_OK ? malloc(sizeof *pl) : NULL;
    if (nrefs > 0 && rc == FM_OK && pl == NULL)
        rc = FM_ENOMEM;
    for (size_t i = 0; i < nrefs && rc == FM_OK; i++)
        rc = park_apply(t, refs + i * (FM_PK_LEN + 8), pl, apply);
    free(pl);
    free(refs);
    return rc;
}

int park_depot_judge(struct store_txn *t, const struct fm_op *op, const char *res_id,
                     const char *depot, bool *go)
{
    struct model_rec *r = malloc(sizeof *r);
    int rc;
    *go = false;
    if (r == NULL)
        return FM_ENOMEM;
    rc = model_rec_load(t, FM_ENT_RESOURCE, res_id, r);
    if (rc == FM_ENOTFOUND || (rc == FM_OK && !model_rec_exists(r))) {
        rc = park_put(t, FM_ENT_RESOURCE, res_id, op); /* released by resource.add */
    } else if (rc == FM_OK) {
        const struct model_field_val *f = &r->f[F_DEPOT];
        *go = f->set && f->len == strlen(depot) && memcmp(f->val, depot, f->len) == 0;
        if (!*go) {
            /* another depot's stock: ignored on every node alike, counted */
            model_merge_add(r, F_RVOID, 1, 4);
            rc = model_rec_store(t, FM_ENT_RESOURCE, res_id, r);
        }
    }
    free(r);
    return rc;
}
