/*
 * clone_alert.c — two diverging writers on one key (issue 9 item 6,
 * docs/field-sync.md §5 "Cloned keys").
 *
 * A fork's root is a pair of ops signed by one key at one seq on top of
 * the same prev: two machines wrote with that key from the same history
 * (a cloned key, or an old backup signing beside the original). Fork
 * settling keeps every replica on one branch, but the key itself is now
 * held twice, which an administrator must hear about. A root whose author
 * is not revoked is such an alert; `status` lists them, and fieldmeshd
 * logs each new one at WARN (rate-limited), once a second at most.
 * Pairs below a root are consequences of the root, not new evidence.
 */
#include "replica_int.h"

#include <stdlib.h>
#include <string.h>

struct roots {
    struct fm_clone_alert *a;
    size_t n, cap;
};

static int collect_root(void *ctx, const struct fm_fork_info *f)
{
    struct roots *r = ctx;
    if (!f->root)
        return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 4;
        struct fm_clone_alert *p = realloc(r->a, cap * sizeof *p);
        if (p == NULL)
            return FM_ENOMEM;
        r->a = p;
        r->cap = cap;
    }
    struct fm_clone_alert *x = &r->a[r->n++];
    memset(x, 0, sizeof *x);
    memcpy(x->author, f->author, FM_PK_LEN);
    x->seq = f->seq;
    x->kept_hlc = f->kept_hlc;
    x->dropped_hlc = f->dropped_hlc;
    return 0;
}

/* Drops the alerts of revoked authors and names the rest. */
static int keep_live(struct fm_node *n, struct roots *r)
{
    struct store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc != FM_OK)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < r->n && rc == FM_OK; i++) {
        struct node_head h;
        uint64_t limit;
        if ((rc = node_head_get(t, r->a[i].author, &h)) != FM_OK ||
            (rc = node_limit_get(t, r->a[i].author, &limit)) != FM_OK)
            break;
        if (limit != UINT64_MAX)
            continue; /* revoked: the administrator has acted */
        r->a[k] = r->a[i];
        fm_strlcpy(r->a[k].name, h.name, sizeof r->a[k].name);
        k++;
    }
    r->n = k;
    store_txn_abort(&t);
    return rc;
}

int fm_node_diverging_writers(struct fm_node *n, struct fm_clone_alert **out, size_t *count)
{
    struct roots r = {0};
    *out = NULL;
    *count = 0;
    int rc = fm_node_forks(n, collect_root, &r);
    if (rc == FM_OK)
        rc = keep_live(n, &r);
    if (rc != FM_OK) {
        free(r.a);
        return rc;
    }
    *out = r.a;
    *count = r.n;
    return FM_OK;
}

int fm_node_clone_watch(struct fm_node *n, size_t *known)
{
    static struct fm_log_limiter lim;
    struct fm_clone_alert *a;
    size_t count;
    int rc = fm_node_diverging_writers(n, &a, &count);
    if (rc != FM_OK)
        return rc;
    if (count > *known) {
        char key[FM_KEY_TEXT_LEN];
        const struct fm_clone_alert *x = &a[count - 1];
        fm_key_encode(x->author, key);
        fm_log_limited(&lim, 5, FM_LOG_WARN, "clone",
                       "node %s (%s) signed two diverging histories at seq %llu "
                       "(%zu such fork(s) of live keys): its key is in use on two "
                       "machines (cloned, or a backup signing beside the original)",
                       x->name, key, (unsigned long long)x->seq, count);
    }
    *known = count;
    free(a);
    return FM_OK;
}
