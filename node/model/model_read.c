/*
 * model_read.c — reading the model: id resolution, incidents, units and
 * resources one at a time and as lists, and an incident's timeline. (The
 * raw log, version vector, digest and stats are node/replica/node_state.c.)
 *
 * Each call runs in one LMDB read transaction, so it sees one consistent
 * snapshot even while another process writes. Callbacks run inside that
 * transaction: they may read through the node again but must not write
 * (a write that needed to grow the map would deadlock on our snapshot).
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <stdlib.h>
#include <string.h>

/* A record exists once its create op is applied: F_CREATED (tag 1) is
 * then the first field, right after the 2-byte header. */
static bool rec_raw_exists(const uint8_t *v, size_t n)
{
    return n > 2 && v[2] == F_CREATED;
}

/* ---- ids ---- */

int node_resolve_txn(struct store_txn *t, enum fm_entity_kind kind, const char *prefix,
                     char out[FM_ID_MAX])
{
    char exact[FM_ID_MAX];
    if (kind != FM_ENT_INCIDENT)
        return node_resolve_exact_txn(t, kind, prefix, out);
    int rc = node_resolve_exact_txn(t, kind, prefix, exact);
    if (rc != FM_OK) {
        memcpy(out, exact, FM_ID_MAX); /* the candidates of FM_EAMBIGUOUS */
        return rc;
    }
    return model_incident_root(t, exact, out);
}

int node_resolve_exact_txn(struct store_txn *t, enum fm_entity_kind kind, const char *prefix,
                           char out[FM_ID_MAX])
{
    uint8_t key[1 + FM_ID_MAX];
    size_t plen;
    const uint8_t *v;
    size_t vlen;
    char found[2][FM_ID_MAX];
    size_t nfound = 0;
    struct store_each e;
    int rc;
    if (prefix == NULL || (plen = strlen(prefix)) == 0)
        return FM_EINVAL;
    if (plen >= FM_ID_MAX)
        return FM_ENOTFOUND;
    key[0] = (uint8_t)kind;
    for (size_t i = 0; i < plen; i++) {
        char ch = prefix[i];
        key[1 + i] = (uint8_t)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    rc = store_get(t, DB_ENTITIES, key, 1 + plen, &v, &vlen);
    if (rc == FM_OK && rec_raw_exists(v, vlen)) {
        memcpy(out, key + 1, plen);
        out[plen] = '\0';
        return FM_OK;
    }
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return rc;
    /* an id with its seq ("k3mx9q2a-1") names exactly one entity: a prefix
     * reaching into the seq would turn a dropped digit into another
     * ticket or incident ("k3mx9q2a-17") */
    if (memchr(prefix, '-', plen) != NULL)
        return FM_ENOTFOUND;
    rc = store_each_prefix(&e, t, DB_ENTITIES, key, 1 + plen);
    while (rc == FM_OK && store_each_next(&e, &rc)) {
        if (!rec_raw_exists(e.kv.val, e.kv.vlen) || e.kv.klen - 1 >= FM_ID_MAX)
            continue;
        memcpy(found[nfound], e.kv.key + 1, e.kv.klen - 1);
        found[nfound][e.kv.klen - 1] = '\0';
        if (++nfound == 2)
            break;
    }
    store_each_end(&e);
    if (rc != FM_OK)
        return rc;
    if (nfound == 0)
        return FM_ENOTFOUND;
    if (nfound == 1) {
        memcpy(out, found[0], FM_ID_MAX);
        return FM_OK;
    }
    /* "a, b" (truncated to fit) */
    size_t a = strlen(found[0]);
    fm_strlcpy(out, found[0], FM_ID_MAX);
    if (a + 2 < FM_ID_MAX) {
        memcpy(out + a, ", ", 3);
        (void)fm_strlcpy(out + a + 2, found[1], FM_ID_MAX - a - 2);
    }
    return FM_EAMBIGUOUS;
}

int fm_node_resolve_id(struct fm_node *n, enum fm_entity_kind kind, const char *prefix,
                       char out[FM_ID_MAX])
{
    struct store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    rc = node_resolve_txn(t, kind, prefix, out);
    store_txn_abort(&t);
    return rc;
}

int fm_node_resolve_exact_id(struct fm_node *n, enum fm_entity_kind kind, const char *prefix,
                             char out[FM_ID_MAX])
{
    struct store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    rc = node_resolve_exact_txn(t, kind, prefix, out);
    store_txn_abort(&t);
    return rc;
}

/* Resolves and loads one entity in a read transaction. */
static int read_entity(struct fm_node *n, enum fm_entity_kind kind, const char *prefix,
                       char id[FM_ID_MAX], struct model_rec *r)
{
    struct store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = node_resolve_txn(t, kind, prefix, id)) == FM_OK)
        rc = model_rec_load(t, (uint8_t)kind, id, r);
    store_txn_abort(&t);
    return rc;
}

int fm_node_incident_get(struct fm_node *n, const char *id, struct fm_incident *out)
{
    char full[FM_ID_MAX];
    struct store_txn *t;
    struct model_rec *r = malloc(sizeof *r);
    if (r == NULL)
        return FM_ENOMEM;
    int rc = store_read_begin(n->st, &t);
    if (rc == FM_OK) {
        if ((rc = node_resolve_txn(t, FM_ENT_INCIDENT, id, full)) == FM_OK &&
            (rc = model_rec_load(t, FM_ENT_INCIDENT, full, r)) == FM_OK &&
            (rc = model_rec_to_incident(r, full, out)) == FM_OK &&
            (rc = model_incident_merge_info(t, out)) == FM_OK)
            model_incident_unseal(n, t, r, out);
        store_txn_abort(&t);
    }
    free(r);
    return rc;
}

int fm_node_unit_get(struct fm_node *n, const char *id, struct fm_unit *out)
{
    char full[FM_ID_MAX];
    struct model_rec *r = malloc(sizeof *r);
    if (r == NULL)
        return FM_ENOMEM;
    int rc = read_entity(n, FM_ENT_UNIT, id, full, r);
    if (rc == FM_OK)
        rc = model_rec_to_unit(r, full, out);
    if (rc == FM_OK)
        rc = model_unit_soft(n, r, out); /* field sync: a newer soft position */
    free(r);
    return rc;
}

/* ---- lists ---- */

int fm_node_incidents(struct fm_node *n, const struct fm_incident_filter *f, fm_incident_cb cb,
                      void *ctx)
{
    uint8_t prefix[FM_CATEGORY_MAX + 1];
    size_t plen = 0, skip;
    enum store_db db = DB_IDX_TIME;
    int stage = f ? f->stage : -1;
    const char *category = f ? f->category : NULL;
    if (cb == NULL || stage > FM_STAGE_CLOSED)
        return FM_EINVAL;
    if (category != NULL) {
        plen = strlen(category);
        if (plen >= FM_CATEGORY_MAX)
            return FM_OK; /* no category is that long: nothing matches */
        db = DB_IDX_CATEGORY;
        memcpy(prefix, category, plen);
        prefix[plen++] = 0;
    } else if (stage >= 0) {
        db = DB_IDX_STATUS;
        prefix[plen++] = (uint8_t)stage;
    }
    skip = plen + 8;

    struct store_txn *t;
    struct store_cur *c = NULL;
    struct store_kv kv;
    struct model_rec *r = malloc(sizeof *r);
    struct fm_incident *inc = malloc(sizeof *inc);
    int rc = FM_ENOMEM;
    if (r == NULL || inc == NULL)
        goto out_free;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out_free;
    if ((rc = store_cur_open(t, db, &c)) != FM_OK)
        goto out_txn;
    for (rc = store_cur_seek_last_prefix(c, prefix, plen, &kv);
         rc == FM_OK && store_kv_has_prefix(&kv, prefix, plen); rc = store_cur_prev(c, &kv)) {
        char id[FM_ID_MAX];
        if (kv.klen <= skip || kv.klen - skip >= FM_ID_MAX) {
            rc = FM_ESTORE;
            break;
        }
        memcpy(id, kv.key + skip, kv.klen - skip);
        id[kv.klen - skip] = '\0';
        if ((rc = model_rec_load(t, FM_ENT_INCIDENT, id, r)) != FM_OK ||
            (rc = model_rec_to_incident(r, id, inc)) != FM_OK) {
            rc = FM_ESTORE; /* an index entry without its incident */
            break;
        }
        if ((rc = model_incident_merge_info(t, inc)) != FM_OK)
            break;
        model_incident_unseal(n, t, r, inc);
        if (stage >= 0 && (int)inc->stage != stage)
            continue;
        if (category != NULL && strcmp(inc->category, category) != 0)
            continue;
        if ((rc = cb(ctx, inc)) != 0)
            goto out_cur;
    }
    if (rc == FM_ENOTFOUND || rc == FM_OK)
        rc = FM_OK;
out_cur:
    store_cur_close(&c);
out_txn:
    store_txn_abort(&t);
out_free:
    free(r);
    free(inc);
    return rc;
}

/* One incident's timeline entries, to cb in key order. */
static int timeline_walk(struct store_txn *t, const char *id, fm_timeline_cb cb, void *ctx)
{
    uint8_t prefix[FM_ID_MAX + 1];
    struct store_each it;
    struct fm_timeline_entry e;
    size_t plen = model_tl_prefix(prefix, FM_ENT_INCIDENT, id);
    int rc = store_each_prefix(&it, t, DB_TIMELINE, prefix, plen);
    while (rc == FM_OK && store_each_next(&it, &rc)) {
        if ((rc = model_tl_decode(t, it.kv.key, it.kv.klen, it.kv.val, it.kv.vlen, &e)) == FM_OK)
            rc = cb(ctx, &e); /* non-zero stops the walk and is returned */
    }
    store_each_end(&it);
    return rc;
}

/* A survivor's timeline with those of the incidents merged into it. */
struct tl_gather {
    struct fm_timeline_entry *v;
    size_t n, cap;
};

static int tl_gather_one(void *ctx, const struct fm_timeline_entry *e)
{
    struct tl_gather *g = ctx;
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 32;
        struct fm_timeline_entry *nv = realloc(g->v, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        g->v = nv;
        g->cap = cap;
    }
    g->v[g->n++] = *e;
    return 0;
}

static int tl_cmp(const void *x, const void *y)
{
    const struct fm_timeline_entry *a = x, *b = y;
    if (a->hlc != b->hlc)
        return a->hlc < b->hlc ? -1 : 1;
    int c = strcmp(a->author, b->author);
    if (c != 0)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int timeline_merged(struct store_txn *t, const char *root, char (*m)[FM_ID_MAX],
                           size_t nm, fm_timeline_cb cb, void *ctx)
{
    struct tl_gather g = {0};
    int rc = timeline_walk(t, root, tl_gather_one, &g);
    for (size_t i = 0; i < nm && rc == FM_OK; i++)
        rc = timeline_walk(t, m[i], tl_gather_one, &g);
    if (rc == FM_OK && g.n > 1)
        qsort(g.v, g.n, sizeof *g.v, tl_cmp);
    for (size_t i = 0; i < g.n && rc == FM_OK; i++)
        rc = cb(ctx, &g.v[i]);
    free(g.v);
    return rc;
}

int fm_node_incident_timeline(struct fm_node *n, const char *id, fm_timeline_cb cb, void *ctx)
{
    char full[FM_ID_MAX];
    struct store_txn *t;
    char (*m)[FM_ID_MAX] = NULL;
    size_t nm = 0;
    if (cb == NULL)
        return FM_EINVAL;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    if ((rc = node_resolve_txn(t, FM_ENT_INCIDENT, id, full)) != FM_OK)
        goto out_txn;
    if ((m = malloc(FM_MERGE_MEMBERS * sizeof *m)) == NULL) {
        rc = FM_ENOMEM;
        goto out_txn;
    }
    if ((rc = model_incident_members(t, full, m, FM_MERGE_MEMBERS, &nm)) != FM_OK)
        goto out_txn;
    rc = nm == 0 ? timeline_walk(t, full, cb, ctx) : timeline_merged(t, full, m, nm, cb, ctx);
out_txn:
    free(m);
    store_txn_abort(&t);
    return rc;
}

/* Walks existing entities of one kind in id order. */
static int walk_kind(struct fm_node *n, uint8_t kind,
                     int (*each)(const struct model_rec *r, const char *id, void *arg), void *arg)
{
    struct store_txn *t;
    struct store_each e;
    struct model_rec *r = malloc(sizeof *r);
    int rc;
    if (r == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto out_free;
    rc = store_each_prefix(&e, t, DB_ENTITIES, &kind, 1);
    while (rc == FM_OK && store_each_next(&e, &rc)) {
        char id[FM_ID_MAX];
        if (!rec_raw_exists(e.kv.val, e.kv.vlen))
            continue;
        if (e.kv.klen - 1 >= FM_ID_MAX || model_rec_decode(r, e.kv.val, e.kv.vlen) != FM_OK) {
            rc = FM_ESTORE;
            break;
        }
        memcpy(id, e.kv.key + 1, e.kv.klen - 1);
        id[e.kv.klen - 1] = '\0';
        rc = each(r, id, arg); /* non-zero stops the walk and is returned */
    }
    store_each_end(&e);
    store_txn_abort(&t);
out_free:
    free(r);
    return rc;
}

struct walk_cb {
    struct fm_node *n; /* field sync: soft positions */
    fm_unit_cb ucb;
    fm_resource_cb rcb;
    void *ctx;
};

static int each_unit(const struct model_rec *r, const char *id, void *arg)
{
    struct walk_cb *w = arg;
    struct fm_unit u;
    if (model_rec_to_unit(r, id, &u) != FM_OK)
        return FM_ESTORE;
    if (w->n != NULL && model_unit_soft(w->n, r, &u) != FM_OK)
        return FM_ESTORE;
    return w->ucb(w->ctx, &u);
}

static int each_resource(const struct model_rec *r, const char *id, void *arg)
{
    struct walk_cb *w = arg;
    struct fm_resource res;
    if (model_rec_to_resource(r, id, &res) != FM_OK)
        return FM_ESTORE;
    return w->rcb(w->ctx, &res);
}

int fm_node_units(struct fm_node *n, fm_unit_cb cb, void *ctx)
{
    if (cb == NULL)
        return FM_EINVAL;
    struct walk_cb w = {.n = n, .ucb = cb, .ctx = ctx};
    return walk_kind(n, FM_ENT_UNIT, each_unit, &w);
}

int fm_node_resources(struct fm_node *n, fm_resource_cb cb, void *ctx)
{
    if (cb == NULL)
        return FM_EINVAL;
    struct walk_cb w = {.rcb = cb, .ctx = ctx};
    return walk_kind(n, FM_ENT_RESOURCE, each_resource, &w);
}

/* ---- who wrote last ---- */

struct last_author {
    uint64_t hlc;
    uint8_t pk[FM_PK_LEN];
    bool found;
};

static int last_author_cb(void *ctx, const struct fm_timeline_entry *e)
{
    struct last_author *la = ctx;
    if (!la->found || e->hlc >= la->hlc) {
        if (fm_key_decode(e->author, la->pk) == FM_OK) {
            la->hlc = e->hlc;
            la->found = true;
        }
    }
    return 0;
}

int fm_node_incident_last_author(struct fm_node *n, const char *id, uint8_t pk[FM_PK_LEN])
{
    struct last_author la = {0};
    int rc = fm_node_incident_timeline(n, id, last_author_cb, &la);
    if (rc != FM_OK)
        return rc;
    if (!la.found)
        return FM_ENOTFOUND;
    memcpy(pk, la.pk, FM_PK_LEN);
    return FM_OK;
}

int model_entities(struct store_txn *t, uint64_t *count)
{
    struct store_each e;
    int rc = store_each_prefix(&e, t, DB_ENTITIES, NULL, 0);
    *count = 0;
    while (rc == FM_OK && store_each_next(&e, &rc))
        if (rec_raw_exists(e.kv.val, e.kv.vlen))
            (*count)++;
    store_each_end(&e);
    return rc;
}
