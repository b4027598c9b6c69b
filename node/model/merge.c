/*
 * merge.c — incidents opened twice, folded into one (docs/workflow.md §3c).
 *
 * An incident.merge op sets the merged incident's F_MERGED to its survivor
 * (the first merge by stamp wins, model.c). Nothing is moved: tickets,
 * notes and feedback keep the incident they were written for, and every
 * read maps an incident to its ROOT — the end of its chain of merges — so
 * what arrives later, in any order, lands on the survivor too. This file
 * computes that root and the set of incidents folded into a root.
 *
 * The root is a function of the replicated records only, so every node
 * agrees. Two dispatchers on two sides of a partition can fold A into B
 * and B into A; after the heal the chain is a cycle, and the cycle's root
 * is its earliest report (smallest report stamp, then id): the first call.
 * A chain ends at the last incident whose report has arrived, so a merge
 * into an incident this node has not seen yet leaves the merged one in
 * place until the survivor's report comes.
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <stdlib.h>
#include <string.h>

/* One hop: the survivor named by id's F_MERGED ("" if none), and id's
 * report stamp. FM_ENOTFOUND when id's report has not arrived. */
static int hop(struct store_txn *t, struct model_rec *r, const char *id, char next[FM_ID_MAX],
               uint64_t *reported)
{
    int rc = model_rec_load(t, FM_ENT_INCIDENT, id, r);
    next[0] = '\0';
    if (rc != FM_OK)
        return rc;
    if (!model_rec_exists(r))
        return FM_ENOTFOUND;
    *reported = r->f[F_CREATED].hlc;
    const struct model_field_val *m = &r->f[F_MERGED];
    if (m->set && m->len == FM_PK_LEN + 8)
        fm_op_id_format(m->val, fm_be64_get(m->val + FM_PK_LEN), next);
    return FM_OK;
}

int model_incident_root(struct store_txn *t, const char *id, char root[FM_ID_MAX])
{
    char path[FM_MERGE_DEPTH][FM_ID_MAX];
    uint64_t reported[FM_MERGE_DEPTH];
    size_t n = 0;
    struct model_rec *r = malloc(sizeof *r);
    int rc = FM_OK;
    if (r == NULL)
        return FM_ENOMEM;
    fm_strlcpy(root, id, FM_ID_MAX);
    fm_strlcpy(path[0], id, FM_ID_MAX);
    for (;;) {
        char next[FM_ID_MAX];
        rc = hop(t, r, path[n], next, &reported[n]);
        if (rc == FM_ENOTFOUND) {
            rc = FM_OK; /* not arrived: the chain ends before it */
            break;
        }
        if (rc != FM_OK)
            break;
        fm_strlcpy(root, path[n], FM_ID_MAX);
        n++;
        if (next[0] == '\0' || n == FM_MERGE_DEPTH)
            break;
        size_t k = 0;
        while (k < n && strcmp(path[k], next) != 0)
            k++;
        if (k < n) {
            /* a cycle path[k..n-1]: its earliest report stands */
            size_t best = k;
            for (size_t i = k + 1; i < n; i++)
                if (reported[i] < reported[best] ||
                    (reported[i] == reported[best] && strcmp(path[i], path[best]) < 0))
                    best = i;
            fm_strlcpy(root, path[best], FM_ID_MAX);
            break;
        }
        fm_strlcpy(path[n], next, FM_ID_MAX);
    }
    free(r);
    return rc;
}

/* The incidents whose F_MERGED names `into` (ENT_MERGED entries). */
static int direct_children(struct store_txn *t, const char *into, char (*out)[FM_ID_MAX],
                           size_t cap, size_t *n)
{
    uint8_t prefix[1 + FM_ID_MAX];
    size_t ilen = strnlen(into, FM_ID_MAX - 1);
    struct store_each e;
    prefix[0] = ENT_MERGED;
    memcpy(prefix + 1, into, ilen);
    prefix[1 + ilen] = 0;
    int rc = store_each_prefix(&e, t, DB_ENTITIES, prefix, ilen + 2);
    *n = 0;
    while (rc == FM_OK && store_each_next(&e, &rc)) {
        size_t dlen = e.kv.klen - (ilen + 2);
        if (dlen == 0 || dlen >= FM_ID_MAX) {
            rc = FM_ESTORE;
            break;
        }
        if (*n == cap)
            break; /* bounded: FM_MERGE_MEMBERS in all */
        memcpy(out[*n], e.kv.key + ilen + 2, dlen);
        out[*n][dlen] = '\0';
        (*n)++;
    }
    store_each_end(&e);
    return rc;
}

int model_incident_members(struct store_txn *t, const char *root, char (*out)[FM_ID_MAX],
                           size_t cap, size_t *n)
{
    /* breadth first from the root; a child belongs when its own root is
     * this one (a cycle's link back into the root does not) */
    char (*kids)[FM_ID_MAX] = malloc(FM_MERGE_MEMBERS * sizeof *kids);
    int rc = FM_OK;
    *n = 0;
    if (kids == NULL)
        return FM_ENOMEM;
    for (size_t at = 0; at <= *n && rc == FM_OK; at++) {
        const char *parent = at == 0 ? root : out[at - 1];
        size_t nk;
        if ((rc = direct_children(t, parent, kids, FM_MERGE_MEMBERS, &nk)) != FM_OK)
            break;
        for (size_t i = 0; i < nk && *n < cap; i++) {
            char r2[FM_ID_MAX];
            bool seen = strcmp(kids[i], root) == 0;
            for (size_t j = 0; j < *n && !seen; j++)
                seen = strcmp(out[j], kids[i]) == 0;
            if (seen)
                continue;
            if ((rc = model_incident_root(t, kids[i], r2)) != FM_OK)
                break;
            if (strcmp(r2, root) == 0)
                fm_strlcpy(out[(*n)++], kids[i], FM_ID_MAX);
        }
    }
    free(kids);
    return rc;
}

int model_incident_merge_info(struct store_txn *t, struct fm_incident *inc)
{
    char root[FM_ID_MAX];
    int rc = model_incident_root(t, inc->id, root);
    inc->merged_into[0] = '\0';
    inc->calls = 0;
    if (rc != FM_OK)
        return rc;
    if (strcmp(root, inc->id) != 0) {
        fm_strlcpy(inc->merged_into, root, sizeof inc->merged_into);
        return FM_OK;
    }
    char (*m)[FM_ID_MAX] = malloc(FM_MERGE_MEMBERS * sizeof *m);
    size_t n = 0;
    if (m == NULL)
        return FM_ENOMEM;
    rc = model_incident_members(t, root, m, FM_MERGE_MEMBERS, &n);
    free(m);
    inc->calls = (uint32_t)(1 + n);
    return rc;
}

int fm_node_incident_merged(struct fm_node *n, const char *id, char (*out)[FM_ID_MAX],
                            size_t cap, size_t *count)
{
    struct store_txn *t;
    char full[FM_ID_MAX];
    *count = 0;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = node_resolve_txn(t, FM_ENT_INCIDENT, id, full)) == FM_OK)
        rc = model_incident_members(t, full, out, cap, count);
    store_txn_abort(&t);
    return rc;
}
