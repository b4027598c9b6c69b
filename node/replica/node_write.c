/*
 * node_write.c — the write path: how this node authors ops.
 *
 * A write hands payloads to write_run(), which does everything in one
 * LMDB write transaction: the log opens with our certificate if it is
 * empty, ops a fork settling dropped are re-entered first, then each
 * payload goes through its caller's optional `prepare` step (resolve an
 * id, check the entity's state — inside the same transaction, so
 * "consume 5 when 5 are left" cannot race another writer on this store),
 * is encoded by the domain, signed, checked as ingest would check it,
 * stored and applied. The domain's own writes come through
 * node_write_run() (payloads of the domain's size, handed over as their
 * log part: logpayload.h); the writes of the log itself — certificate
 * renewal, revocation — live here.
 */
#include "replica_int.h"

#include <stdlib.h>
#include <string.h>

struct write_ctx {
    struct write_prep p; /* the node, and what the prepare step is given and answers */
    const struct log_payload *pls; /* count payloads, written in order */
    size_t count;
    node_prepare_fn prepare; /* optional: resolve ids and check state; may edit *pl */
    uint64_t first_seq;
    struct fork_reentry_list reent; /* our ops re-entered after a fork (fork_reenter.c) */
    struct log_payload *pl, *check; /* scratch: domain payloads (dom->payload_size) */
    struct fm_buf opbuf, plbuf;
};

/* Signs and stores one op with payload pl after head h; advances clock. */
static int write_append(struct write_ctx *w, struct store_txn *t, const struct log_payload *pl,
                        struct node_head *h, uint64_t *clock)
{
    struct fm_node *n = w->p.n;
    struct fm_op op;
    uint8_t hash[FM_HASH_LEN];
    *clock = hlc_now(*clock, node_wall_ms());
    if (pl != w->pl) /* free here: a re-entered op of fork_reenter.c */
        memcpy(w->pl, pl, n->dom->payload_size);
    pl = w->pl;
    w->pl->format = (uint8_t)n->cfg.op_format;
    int rc = n->dom->encode(t, w->pl, *clock, &w->plbuf, w->check); /* may set its base */
    if (rc != FM_OK)
        return rc;
    rc = fm_op_build(&w->opbuf, &n->id, pl->kind, h->seq + 1, h->seq ? h->hash : NULL, *clock,
                     w->plbuf.data, (uint32_t)w->plbuf.len);
    if (rc != FM_OK)
        return rc;
    if (fm_op_decode(&op, w->opbuf.data, w->opbuf.len) != FM_OK)
        return FM_EINVAL;
    if ((rc = node_op_check(n, &op, h, w->check)) != FM_OK)
        return rc;
    fm_op_hash(&op, hash);
    if ((rc = node_op_store(n, t, &op, hash, w->check, h)) != FM_OK)
        return rc;
    if (pl->kind == OP_FORK_EVIDENCE) { /* field sync: settle the fork here too */
        bool rebuild = false;
        rc = fork_note(t, w->check->fork_op[0], w->check->fork_len[0], w->check->fork_op[1],
                       w->check->fork_len[1], true, &rebuild);
        if (rc == FM_OK && rebuild)
            rc = node_rebuild_txn(n, t);
        if (rc == FM_OK)
            rc = node_head_get(t, n->id.pk, h);
        if (rc != FM_OK)
            return rc;
    }
    if (pl->kind == OP_REVOKE) {
        bool rebuild = false;
        rc = node_revocation_note(t, &w->check->rev, &rebuild);
        if (rc == FM_OK && rebuild)
            rc = node_rebuild_txn(n, t);
        if (rc == FM_OK)
            rc = node_head_get(t, n->id.pk, h); /* we may have revoked ourselves */
    }
    return rc;
}

/* fork_reenter.c's append step: our next op, inside write_txn. */
struct reenter_ctx {
    struct write_ctx *w;
    struct node_head *h;
    uint64_t *clock;
    uint64_t limit;
};

static int reenter_append(void *ctx, struct store_txn *t, const struct log_payload *pl,
                          uint64_t *seq)
{
    struct reenter_ctx *r = ctx;
    if (r->h->seq + 1 > r->limit)
        return FM_EREVOKED;
    int rc = write_append(r->w, t, pl, r->h, r->clock);
    *seq = r->h->seq;
    return rc;
}

/* Op format 2: names the acting console operator in a domain op (the
 * one place every write passes; docs/decisions.md). The domain's encoder
 * writes a non-empty operator_name into the op. */
static void write_stamp_operator(const struct fm_node *n, struct log_payload *pl)
{
    if (!fm_node_writes_operator(n) || n->acting_operator[0] == '\0' ||
        pl->kind < LOG_KIND_DOMAIN_MIN)
        return; /* off, nobody acting, or a trust op (certificate, revocation, keys) */
    fm_strlcpy(pl->operator_name, n->acting_operator, sizeof pl->operator_name);
}

/* Text as the operator field takes it: 1..63 bytes of printable UTF-8 (the
 * payload codec checks the encoding again; this refuses early, and the
 * replica calls nothing of the model's). */
static bool operator_text_ok(const char *name)
{
    const uint8_t *s = (const uint8_t *)name;
    size_t n = strlen(name);
    if (n == 0 || n >= FM_OP_OPERATOR_MAX)
        return false;
    for (size_t i = 0; i < n;) {
        size_t len = s[i] < 0x80 ? (s[i] >= 0x20 && s[i] != 0x7f) : fm_utf8_seq(s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

bool fm_node_writes_operator(const struct fm_node *n)
{
    return n != NULL && n->cfg.op_format >= 2;
}

int fm_node_set_operator(struct fm_node *n, const char *name)
{
    if (n == NULL)
        return FM_EINVAL;
    if (name == NULL || name[0] == '\0') {
        n->acting_operator[0] = '\0';
        return FM_OK;
    }
    if (!operator_text_ok(name))
        return FM_EINVAL;
    return fm_strlcpy(n->acting_operator, name, sizeof n->acting_operator);
}

static int write_txn(struct store_txn *t, void *ctx)
{
    struct write_ctx *w = ctx;
    struct fm_node *n = w->p.n;
    struct node_head h;
    uint64_t limit, clock;
    int rc;
    w->reent.n = 0; /* the transaction may run again (map full) */
    if ((rc = node_head_get(t, n->id.pk, &h)) != FM_OK ||
        (rc = node_limit_get(t, n->id.pk, &limit)) != FM_OK ||
        (rc = node_meta_get_u64(t, "hlc", &clock)) != FM_OK)
        return rc;
    if (h.hlc > clock)
        clock = h.hlc;
    if ((rc = fork_guard(n, t, &h)) != FM_OK) /* field sync: never sign behind our own log */
        return rc;
    if (h.seq == 0) {
        /* Our log opens with our certificate. */
        if (limit < 1)
            return FM_EREVOKED;
        memset(w->pl, 0, n->dom->payload_size);
        w->pl->kind = OP_CERT;
        w->pl->cert = n->cert;
        if ((rc = write_append(w, t, w->pl, &h, &clock)) != FM_OK)
            return rc;
    }
    /* field sync: first, anything of ours a fork settling dropped, so the
     * lost ops keep their order before this write's own */
    {
        struct reenter_ctx rx = {w, &h, &clock, limit};
        if ((rc = fork_reenter_txn(n, t, reenter_append, &rx, &w->reent)) != FM_OK)
            return rc;
    }
    for (size_t i = 0; i < w->count; i++) {
        if (h.seq + 1 > limit)
            return FM_EREVOKED;
        memcpy(w->pl, (const uint8_t *)w->pls + i * n->dom->payload_size, n->dom->payload_size);
        write_stamp_operator(n, w->pl);
        if (w->prepare && (rc = w->prepare(&w->p, t, w->pl)) != FM_OK)
            return rc;
        if ((rc = write_append(w, t, w->pl, &h, &clock)) != FM_OK)
            return rc;
        if (i == 0)
            w->first_seq = h.seq;
    }
    return node_meta_put_u64(t, "hlc", clock);
}

/* found_out (optional): what prepare found when it refused (w->found). */
static int write_run_ex(struct fm_node *n, const struct log_payload *pls, size_t count,
                        node_prepare_fn prepare, const char *target, uint64_t *seq_out,
                        size_t *reentered,
                        char *found_out)
{
    if (n == NULL || !n->has_identity)
        return FM_EPERM;
    if (n->dom == NULL)
        return FM_EINVAL; /* a store opened only to read its logs */
    struct write_ctx *w = calloc(1, sizeof *w);
    if (w == NULL)
        return FM_ENOMEM;
    w->pl = calloc(2, n->dom->payload_size);
    if (w->pl == NULL) {
        free(w);
        return FM_ENOMEM;
    }
    w->check = (struct log_payload *)(void *)((uint8_t *)w->pl + n->dom->payload_size);
    w->p.n = n;
    w->p.target = target;
    w->pls = pls;
    w->count = count;
    w->prepare = prepare;
    fm_buf_init(&w->opbuf, FM_OP_MAX_LEN);
    fm_buf_init(&w->plbuf, FM_OP_MAX_PAYLOAD);
    int rc = store_write(n->st, write_txn, w);
    if (rc == FM_OK)
        fork_mark_used(n); /* field sync: this key has signed */
    if (rc == FM_OK && seq_out)
        *seq_out = w->first_seq;
    if (rc == FM_OK && w->reent.n)
        fork_reenter_log(&w->reent);
    if (reentered)
        *reentered = rc == FM_OK ? w->reent.n : 0;
    if (found_out != NULL)
        fm_strlcpy(found_out, rc == FM_OK ? "" : w->p.found, FM_ID_MAX);
    fm_buf_release(&w->opbuf);
    fm_buf_release(&w->plbuf);
    free(w->pl);
    free(w);
    return rc;
}

static int write_run(struct fm_node *n, const struct log_payload *pls, size_t count,
                     node_prepare_fn prepare, const char *target, uint64_t *seq_out)
{
    return write_run_ex(n, pls, count, prepare, target, seq_out, NULL, NULL);
}

int node_write_run(struct fm_node *n, const struct log_payload *pls, size_t count,
                   node_prepare_fn prepare, const char *target, uint64_t *seq_out,
                   char found_out[FM_ID_MAX])
{
    return write_run_ex(n, pls, count, prepare, target, seq_out, NULL, found_out);
}

int node_write_reenter(struct fm_node *n, size_t *count)
{
    return write_run_ex(n, NULL, 0, NULL, NULL, NULL, count, NULL);
}

int node_write_payload(struct fm_node *n, const struct log_payload *pl, uint64_t *seq_out)
{
    return write_run(n, pl, 1, NULL, NULL, seq_out);
}

int node_write_batch(struct fm_node *n, const struct log_payload *pls, size_t count,
                     uint64_t *first_seq)
{
    return write_run(n, pls, count, NULL, NULL, first_seq);
}

/* A renewal to the certificate already in force adds nothing. */
static int prep_renew(struct write_prep *w, struct store_txn *t, struct log_payload *pl)
{
    struct node_head h;
    int rc = node_head_get(t, w->n->id.pk, &h);
    if (rc == FM_OK && h.seq > 0 && h.not_before_ms == pl->cert.not_before_ms &&
        h.expires_ms == pl->cert.expires_ms && h.role == (uint8_t)pl->cert.role &&
        h.tier == pl->cert.tier && strcmp(h.name, pl->cert.name) == 0 &&
        strcmp(h.unit, pl->cert.unit) == 0)
        rc = FM_EEXISTS;
    return rc;
}

int fm_node_renew_cert(struct fm_node *n, const struct fm_cert *cert)
{
    if (n == NULL || cert == NULL)
        return FM_EINVAL;
    if (!n->has_identity)
        return FM_EPERM;
    if (memcmp(cert->node, n->id.pk, FM_PK_LEN) != 0)
        return FM_ECERT;
    if (memcmp(cert->org, n->cfg.org_pk, FM_PK_LEN) != 0)
        return FM_EFOREIGN;
    int rc = fm_cert_check(cert, n->cfg.org_pk, node_wall_ms());
    if (rc == FM_EFOREIGN || rc == FM_EEXPIRED)
        return rc;
    if (rc != FM_OK)
        return FM_ECERT;
    struct store_txn *t;
    struct node_head h;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        return rc;
    rc = node_head_get(t, n->id.pk, &h);
    store_txn_abort(&t);
    if (rc != FM_OK)
        return rc;
    if (h.seq == 0) {
        /* nothing signed yet: the log simply opens with the new one */
        struct fm_cert old = n->cert;
        n->cert = *cert;
        if ((rc = write_run(n, NULL, 0, NULL, NULL, NULL)) != FM_OK)
            n->cert = old;
        return rc;
    }
    struct log_payload *pl = node_payload_new(n);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->kind = OP_CERT_RENEW;
    pl->cert = *cert;
    rc = write_run(n, pl, 1, prep_renew, NULL, NULL);
    if (rc == FM_OK)
        n->cert = *cert; /* a log opened later starts with the new one */
    free(pl);
    return rc;
}

/* A revocation adds nothing when one as strict (same node, last_seq at
 * or below, and a head named if this one names one) is already in force:
 * FM_EEXISTS rather than a second op. */
static int prep_revocation(struct write_prep *w, struct store_txn *t, struct log_payload *pl)
{
    struct node_rev cur;
    (void)w;
    int rc = node_revocation_get(t, pl->rev.node, &cur);
    if (rc == FM_OK && !node_revocation_stricter(&pl->rev, &cur))
        rc = FM_EEXISTS;
    return rc;
}

/* An announcement adds nothing for a key whose log is here, nor for a
 * window already announced; a revoked key is not announced. */
static int prep_announce(struct write_prep *w, struct store_txn *t, struct log_payload *pl)
{
    struct node_head h;
    struct fm_cert held;
    uint64_t limit;
    (void)w;
    int rc = node_limit_get(t, pl->cert.node, &limit);
    if (rc != FM_OK)
        return rc;
    if (limit != UINT64_MAX)
        return FM_EREVOKED;
    rc = node_head_get(t, pl->cert.node, &h);
    if (rc == FM_OK && h.seq != 0)
        return FM_EEXISTS;
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return rc;
    rc = node_announce_get(t, pl->cert.node, &held);
    if (rc == FM_OK && held.expires_ms >= pl->cert.expires_ms)
        return FM_EEXISTS;
    return rc == FM_OK || rc == FM_ENOTFOUND || rc == FM_ESTORE ? FM_OK : rc;
}

int fm_node_announce_cert(struct fm_node *n, const struct fm_cert *cert)
{
    if (n == NULL || cert == NULL)
        return FM_EINVAL;
    if (n->cfg.op_format < 4)
        return FM_ECONFIG; /* a kind older builds refuse (docs/decisions.md) */
    if (!n->has_identity || memcmp(cert->node, n->id.pk, FM_PK_LEN) == 0)
        return FM_EINVAL;
    if (memcmp(cert->org, n->cfg.org_pk, FM_PK_LEN) != 0)
        return FM_EFOREIGN;
    int rc = fm_cert_check(cert, n->cfg.org_pk, node_wall_ms());
    if (rc != FM_OK)
        return rc == FM_EEXPIRED || rc == FM_EFOREIGN ? rc : FM_ECERT;
    struct log_payload *pl = node_payload_new(n);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->kind = OP_CERT_ANNOUNCE;
    pl->cert = *cert;
    rc = write_run(n, pl, 1, prep_announce, NULL, NULL);
    free(pl);
    return rc;
}

int fm_node_publish_revocation(struct fm_node *n, const struct fm_revocation *rev)
{
    if (n == NULL || rev == NULL)
        return FM_EINVAL;
    int rc = fm_revocation_check(rev, n->cfg.org_pk);
    if (rc != FM_OK)
        return rc;
    struct log_payload *pl = node_payload_new(n);
    if (pl == NULL)
        return FM_ENOMEM;
    pl->kind = OP_REVOKE;
    pl->rev = *rev;
    rc = write_run(n, pl, 1, prep_revocation, NULL, NULL);
    free(pl);
    return rc;
}
