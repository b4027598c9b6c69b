/*
 * node_fixture.h — shared set-up for the node tests (header-only, included
 * by test_node.c and test_model_property.c): a temporary organisation
 * with its root key, enrolled authors each with a data dir, key and
 * certificate, hand-built op logs for hostile inputs, and op transfer
 * between nodes through the same calls sync uses.
 */
#ifndef FM_NODE_FIXTURE_H
#define FM_NODE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/replica/replica_int.h"
#include "node/model/model_int.h"
#include "node/workflow/workflow.h" /* tests drive the workflow too */

#define FX_DAY_MS (UINT64_C(86400) * 1000)

struct fx_org {
    char dir[256];
    struct fm_identity root;
    unsigned next;
};

struct fx_node {
    char dir[300];
    struct fm_config cfg;
    struct fm_identity id;
    struct fm_cert cert;
    struct fm_node *n;
};

/* rm -rf of a test directory (no symlinks are followed). */
static inline void fx_rmrf(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char path[1024];
            struct stat st;
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            size_t dl = strlen(dir), nl = strlen(e->d_name);
            if (dl + 1 + nl >= sizeof path)
                continue;
            memcpy(path, dir, dl);
            path[dl] = '/';
            memcpy(path + dl + 1, e->d_name, nl + 1);
            if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                fx_rmrf(path);
            else
                unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static inline int fx_org_init(struct fx_org *o)
{
    memset(o, 0, sizeof *o);
    if (fm_strlcpy(o->dir, "/tmp/fm_node_test_XXXXXX", sizeof o->dir) != FM_OK ||
        mkdtemp(o->dir) == NULL)
        return FM_EIO;
    return fm_identity_generate(&o->root);
}

static inline void fx_org_done(struct fx_org *o)
{
    fx_rmrf(o->dir);
    fm_identity_release(&o->root);
}

/* Seals the author's key (and a new data key) under a passphrase kept in
 * <dir>/passphrase, named by the config, with the minimal KDF: every
 * fm_node_open then unlocks as a testbed node does (docs/security.md). */
#define FX_PASSPHRASE "fixture passphrase"
static inline int fx_seal_keys(struct fx_node *a)
{
    uint8_t pk[FM_PK_LEN];
    if (snprintf(a->cfg.passphrase_file, sizeof a->cfg.passphrase_file, "%s/passphrase",
                 a->dir) >= (int)sizeof a->cfg.passphrase_file)
        return FM_EINVAL;
    a->cfg.kdf = FM_KDF_MINIMAL;
    FILE *f = fopen(a->cfg.passphrase_file, "w");
    if (f == NULL)
        return FM_EIO;
    fputs(FX_PASSPHRASE "\n", f);
    if (fclose(f) != 0 || chmod(a->cfg.passphrase_file, 0600) != 0)
        return FM_EIO;
    return fm_keys_generate(&a->cfg, FX_PASSPHRASE, strlen(FX_PASSPHRASE), &a->id, pk);
}

/* Makes an enrolled author: its own dir with node.key and node.cert (cert
 * signed by `signer`, the org root unless another is given) and a config
 * pointing at them. Does not open it. */
static inline int fx_author_ex(struct fx_org *o, struct fx_node *a, const char *name,
                               const struct fm_identity *signer, uint64_t not_before,
                               uint64_t expires)
{
    int rc;
    memset(a, 0, sizeof *a);
    snprintf(a->dir, sizeof a->dir, "%s/n%u", o->dir, o->next++);
    if (mkdir(a->dir, 0700) != 0)
        return FM_EIO;
    if ((rc = fm_identity_generate(&a->id)) != FM_OK)
        return rc;
    fm_config_defaults(&a->cfg);
    fm_strlcpy(a->cfg.name, name, sizeof a->cfg.name);
    a->cfg.role = FM_ROLE_COUNTY;
    if (snprintf(a->cfg.data_dir, sizeof a->cfg.data_dir, "%s/data", a->dir) >=
            (int)sizeof a->cfg.data_dir ||
        snprintf(a->cfg.key_path, sizeof a->cfg.key_path, "%s/node.key", a->dir) >=
            (int)sizeof a->cfg.key_path ||
        snprintf(a->cfg.cert_path, sizeof a->cfg.cert_path, "%s/node.cert", a->dir) >=
            (int)sizeof a->cfg.cert_path)
        return FM_EINVAL;
    memcpy(a->cfg.org_pk, o->root.pk, FM_PK_LEN);
    a->cfg.map_size = 4u << 20;
    if ((rc = fx_seal_keys(a)) != FM_OK)
        return rc;
    memcpy(a->cert.node, a->id.pk, FM_PK_LEN);
    fm_strlcpy(a->cert.name, name, sizeof a->cert.name);
    a->cert.role = FM_ROLE_COUNTY;
    a->cert.tier = 1;
    a->cert.not_before_ms = not_before;
    a->cert.expires_ms = expires;
    fm_cert_sign(&a->cert, signer ? signer : &o->root);
    return fm_cert_write_file(&a->cert, a->cfg.cert_path);
}

static inline int fx_author(struct fx_org *o, struct fx_node *a, const char *name)
{
    uint64_t now = fm_now_ms();
    return fx_author_ex(o, a, name, NULL, now - FX_DAY_MS, now + 365 * FX_DAY_MS);
}

static inline int fx_open(struct fx_node *a, unsigned flags)
{
    return fm_node_open(&a->n, &a->cfg, flags);
}

static inline void fx_done(struct fx_node *a)
{
    fm_node_close(&a->n);
    fm_identity_release(&a->id);
}

static inline int fx_digest_eq(struct fm_node *x, struct fm_node *y)
{
    uint8_t a[FM_HASH_LEN], b[FM_HASH_LEN];
    if (fm_node_digest(x, a) != FM_OK || fm_node_digest(y, b) != FM_OK)
        return -1;
    return memcmp(a, b, FM_HASH_LEN) == 0;
}

/* ---- a list of op buffers ---- */
struct fx_ops {
    uint8_t **ops;
    size_t *lens;
    size_t n, cap;
};

static inline int fx_ops_add(struct fx_ops *l, const uint8_t *p, size_t len)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint8_t **o = realloc(l->ops, cap * sizeof *o);
        if (o == NULL)
            return FM_ENOMEM;
        l->ops = o;
        size_t *s = realloc(l->lens, cap * sizeof *s);
        if (s == NULL)
            return FM_ENOMEM;
        l->lens = s;
        l->cap = cap;
    }
    l->ops[l->n] = malloc(len ? len : 1);
    if (l->ops[l->n] == NULL)
        return FM_ENOMEM;
    memcpy(l->ops[l->n], p, len);
    l->lens[l->n++] = len;
    return FM_OK;
}

static inline void fx_ops_free(struct fx_ops *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ops[i]);
    free(l->ops);
    free(l->lens);
    memset(l, 0, sizeof *l);
}

static inline int fx_ingest(struct fm_node *n, const struct fx_ops *l, size_t from, size_t count,
                            struct fm_ingest_result *res)
{
    return fm_node_ingest(n, (const uint8_t *const *)(l->ops + from), l->lens + from, count, res);
}

/* Appends every op `n` holds of `author` (or of every author) to l, in
 * (author, seq) order, through fm_node_heads + fm_node_read_ops. */
static inline int fx_collect(struct fm_node *n, const uint8_t *author, struct fx_ops *l)
{
    struct fm_head *heads;
    size_t nh;
    int rc = fm_node_heads(n, &heads, &nh);
    if (rc != FM_OK)
        return rc;
    struct fm_buf b;
    fm_buf_init(&b, 64u << 20);
    for (size_t i = 0; i < nh && rc == FM_OK; i++) {
        if (author && memcmp(author, heads[i].author, FM_PK_LEN) != 0)
            continue;
        uint64_t from = 1;
        for (;;) {
            size_t count;
            fm_buf_reset(&b);
            if ((rc = fm_node_read_ops(n, heads[i].author, from, 256, 1u << 20, &b, &count)))
                break;
            if (count == 0)
                break;
            struct fm_cur c;
            fm_cur_init(&c, b.data, b.len);
            for (size_t k = 0; k < count && rc == FM_OK; k++) {
                uint32_t len;
                const uint8_t *p;
                if (fm_cur_u32(&c, &len) || fm_cur_bytes(&c, len, &p))
                    rc = FM_EDECODE;
                else
                    rc = fx_ops_add(l, p, len);
            }
            from += count;
        }
    }
    fm_buf_release(&b);
    free(heads);
    return rc;
}

/* Sends everything `from` holds to `to`. */
static inline int fx_sync(struct fm_node *from, struct fm_node *to, struct fm_ingest_result *res)
{
    struct fx_ops l = {0};
    int rc = fx_collect(from, NULL, &l);
    if (rc == FM_OK)
        rc = fx_ingest(to, &l, 0, l.n, res);
    fx_ops_free(&l);
    return rc;
}

/* ---- hand-built logs (for ops a node would never write itself) ---- */
struct fx_log {
    const struct fm_identity *id;
    uint64_t seq, hlc;
    uint8_t head[FM_HASH_LEN];
    struct fx_ops ops;
};

static inline void fx_log_init(struct fx_log *g, const struct fm_identity *id)
{
    memset(g, 0, sizeof *g);
    g->id = id;
    g->hlc = fm_now_ms() << 16;
}

/* Builds and signs the next op (seq, prev, hlc all correct). */
static inline int fx_log_raw(struct fx_log *g, uint8_t kind, const void *p, size_t len)
{
    struct fm_buf b;
    struct fm_op op;
    fm_buf_init(&b, FM_OP_MAX_LEN);
    int rc = fm_op_build(&b, g->id, kind, g->seq + 1, g->seq ? g->head : NULL, ++g->hlc, p,
                         (uint32_t)len);
    if (rc == FM_OK && (rc = fm_op_decode(&op, b.data, b.len)) == FM_OK) {
        fm_op_hash(&op, g->head);
        g->seq++;
        rc = fx_ops_add(&g->ops, b.data, b.len);
    }
    fm_buf_release(&b);
    return rc;
}

static inline int fx_log_pl(struct fx_log *g, const struct payload *pl)
{
    struct fm_buf b;
    struct payload *check = malloc(sizeof *check);
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    int rc = check ? payload_encode(pl, &b, check) : FM_ENOMEM;
    if (rc == FM_OK)
        rc = fx_log_raw(g, pl->log.kind, b.data, b.len);
    fm_buf_release(&b);
    free(check);
    return rc;
}

static inline int fx_log_cert(struct fx_log *g, const struct fm_cert *cert)
{
    struct payload *pl = calloc(1, sizeof *pl);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->log.kind = OP_CERT;
    pl->log.cert = *cert;
    int rc = fx_log_pl(g, pl);
    free(pl);
    return rc;
}

static inline int fx_log_note(struct fx_log *g, const uint8_t *author, uint64_t seq,
                              const char *text)
{
    struct payload *pl = calloc(1, sizeof *pl);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->log.kind = OP_INC_NOTE;
    memcpy(pl->ref.author, author, FM_PK_LEN);
    pl->ref.seq = seq;
    fm_strlcpy(pl->text, text, sizeof pl->text);
    pl->present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
    int rc = fx_log_pl(g, pl);
    free(pl);
    return rc;
}

static inline void fx_log_free(struct fx_log *g)
{
    fx_ops_free(&g->ops);
}

#endif
