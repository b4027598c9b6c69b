/*
 * sim_store.c — the store each simulated node hands its sync engine.
 *
 * The simulator has no forks and no forgers, so every node's log of an
 * author is a prefix of that author's true log (struct sim_author), and a
 * store is one count per author. Ingest keeps the real store's rules that
 * matter to sync: ops are taken per author in seq order; a stored seq is a
 * duplicate if its bytes are the true op's, else refused as a fork; the
 * next seq is stored only if its bytes are the true op's (which stands for
 * "the prev chain links and the signature verifies": the writer signed
 * exactly those bytes); a seq beyond the next is refused as a gap
 * (FM_EGAP), which makes the engine pull from the sender. Comparing bytes
 * instead of verifying Ed25519 keeps 2,000 nodes fast; the engine cannot
 * tell the difference. Every op a node stores is a delivery: its delay
 * from the write is a propagation sample.
 */
#include "sim_int.h"

#include <stdlib.h>
#include <string.h>

int32_t sim_author_find(const struct sim_world *w, const uint8_t pk[FM_PK_LEN])
{
    size_t lo = 0, hi = w->nauthors;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(w->authors[w->by_pk[mid]].pk, pk, FM_PK_LEN);
        if (c == 0)
            return (int32_t)w->by_pk[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int sim_store_init(struct sim_store *st, struct sim_world *w, uint32_t node)
{
    st->w = w;
    st->node = node;
    st->total = 0;
    st->have = calloc(w->nauthors ? w->nauthors : 1, sizeof(*st->have));
    return st->have ? FM_OK : FM_ENOMEM;
}

void sim_store_release(struct sim_store *st)
{
    free(st->have);
    st->have = NULL;
}

static int st_heads(void *ctx, struct fm_head **out, size_t *count)
{
    struct sim_store *st = ctx;
    struct sim_world *w = st->w;
    size_t n = 0;
    *out = malloc((w->nauthors ? w->nauthors : 1) * sizeof(**out));
    if (!*out)
        return FM_ENOMEM;
    for (uint32_t k = 0; k < w->nauthors; k++) {
        uint32_t a = w->by_pk[k];
        uint64_t seq = st->have[a];
        if (seq == 0)
            continue;
        struct fm_head *h = &(*out)[n++];
        memcpy(h->author, w->authors[a].pk, FM_PK_LEN);
        h->seq = seq;
        memcpy(h->hash, w->authors[a].hashes[seq - 1], FM_HASH_LEN);
        h->limit = UINT64_MAX;
    }
    *count = n;
    return FM_OK;
}

static int st_read_ops(void *ctx, const uint8_t author[FM_PK_LEN], uint64_t from_seq,
                       size_t max_ops, size_t max_bytes, struct fm_buf *out, size_t *count)
{
    struct sim_store *st = ctx;
    int32_t a = sim_author_find(st->w, author);
    *count = 0;
    if (a < 0 || from_seq == 0)
        return FM_OK;
    const struct sim_author *au = &st->w->authors[a];
    for (uint64_t s = from_seq; s <= st->have[a] && *count < max_ops && out->len < max_bytes;
         s++) {
        int rc = fm_buf_put_u32(out, au->lens[s - 1]);
        if (rc == FM_OK)
            rc = fm_buf_append(out, au->ops[s - 1], au->lens[s - 1]);
        if (rc != FM_OK)
            return rc;
        (*count)++;
    }
    return FM_OK;
}

struct st_item {
    int32_t a;
    uint64_t seq;
    const uint8_t *p;
    size_t len;
};

static int item_cmp(const void *x, const void *y)
{
    const struct st_item *i = x, *j = y;
    if (i->a != j->a)
        return i->a < j->a ? -1 : 1;
    return i->seq < j->seq ? -1 : i->seq > j->seq;
}

static void refuse(struct fm_ingest_result *res, int err, uint64_t seq)
{
    if (res->rejected++ == 0) {
        res->err = err;
        res->err_seq = seq;
    }
}

/* Op it of node st is the next of its author: a delivery. */
static void st_store(struct sim_store *st, const struct st_item *it)
{
    struct sim_world *w = st->w;
    const struct sim_author *au = &w->authors[it->a];
    st->have[it->a]++;
    st->total++;
    w->res->deliveries++;
    sim_diag_store(w, st->node, (uint32_t)it->a, it->seq, false);
    uint64_t born = au->born_ms[it->seq - 1];
    if (born < w->sc->warmup_ms || it->seq > au->n)
        return;
    w->res->deliveries_after_warmup++;
    if (w->nlat == w->lat_cap) {
        size_t cap = w->lat_cap ? 2 * w->lat_cap : 4096;
        uint32_t *l = realloc(w->lat, cap * sizeof(*l)), *b;
        if (!l)
            return;
        w->lat = l;
        b = realloc(w->lat_bound, cap * sizeof(*b));
        if (!b)
            return;
        w->lat_bound = b;
        w->lat_cap = cap;
    }
    w->lat[w->nlat] = (uint32_t)(w->now - born);
    w->lat_bound[w->nlat++] = (uint32_t)au->hops[st->node] * w->sc->latency_ms;
}

static int st_ingest(void *ctx, const uint8_t *const *ops, const size_t *lens,
                     const uint8_t *const *hashes, size_t nops, struct fm_ingest_result *res)
{
    (void)hashes; /* the simulator's store hashes what it needs itself */
    struct sim_store *st = ctx;
    struct st_item *it = malloc((nops ? nops : 1) * sizeof(*it));
    size_t n = 0;
    memset(res, 0, sizeof(*res));
    if (!it)
        return FM_ENOMEM;
    for (size_t i = 0; i < nops; i++) {
        struct fm_op d;
        if (fm_op_decode(&d, ops[i], lens[i]) != FM_OK) {
            refuse(res, FM_EDECODE, 0);
            continue;
        }
        int32_t a = sim_author_find(st->w, d.author);
        if (a < 0) {
            refuse(res, FM_ECERT, d.seq);
            continue;
        }
        it[n++] = (struct st_item){.a = a, .seq = d.seq, .p = ops[i], .len = lens[i]};
    }
    qsort(it, n, sizeof(*it), item_cmp);
    for (size_t i = 0; i < n; i++) {
        const struct sim_author *au = &st->w->authors[it[i].a];
        bool genuine = it[i].seq <= au->n && au->lens[it[i].seq - 1] == it[i].len &&
                       memcmp(au->ops[it[i].seq - 1], it[i].p, it[i].len) == 0;
        uint64_t have = st->have[it[i].a];
        if (it[i].seq <= have) {
            genuine ? (void)res->duplicates++ : refuse(res, FM_EFORK, it[i].seq);
            if (genuine)
                sim_diag_dup(st->w, st->node, (uint32_t)it[i].a, it[i].seq);
        }
        else if (it[i].seq > have + 1)
            refuse(res, FM_EGAP, it[i].seq);
        else if (!genuine)
            refuse(res, FM_EVERIFY, it[i].seq);
        else {
            st_store(st, &it[i]);
            res->stored++;
        }
    }
    free(it);
    sim_diag_ingested(st->w);
    return FM_OK;
}

/* The tree's root rank of a key, the same in every store (--centres). */
static int st_root_rank(void *ctx, const uint8_t prefix[8])
{
    const struct sim_store *st = ctx;
    return sim_rank_of(st->w, prefix);
}

struct fm_sync_store sim_store_table(struct sim_store *st)
{
    struct fm_sync_store t = {.ctx = st, .heads = st_heads, .read_ops = st_read_ops,
                              .ingest = st_ingest};
    if (st->w->sc->centres)
        t.root_rank = st_root_rank;
    return t;
}

static int author_grow(struct sim_author *au)
{
    uint64_t cap = au->cap ? 2 * au->cap : 64;
    uint8_t **o = realloc(au->ops, cap * sizeof(*o));
    if (!o)
        return FM_ENOMEM;
    au->ops = o;
    uint32_t *l = realloc(au->lens, cap * sizeof(*l));
    if (!l)
        return FM_ENOMEM;
    au->lens = l;
    uint8_t(*h)[FM_HASH_LEN] = realloc(au->hashes, cap * sizeof(*h));
    if (!h)
        return FM_ENOMEM;
    au->hashes = h;
    uint64_t *b = realloc(au->born_ms, cap * sizeof(*b));
    if (!b)
        return FM_ENOMEM;
    au->born_ms = b;
    au->cap = cap;
    return FM_OK;
}

int sim_store_write(struct sim_world *w, uint32_t a)
{
    struct sim_author *au = &w->authors[a];
    struct sim_node *nd = &w->nodes[au->node];
    uint8_t payload[FM_OP_MAX_PAYLOAD], zero[FM_HASH_LEN] = {0};
    struct fm_buf b;
    struct fm_op d;
    uint32_t plen = w->sc->payload < sizeof(payload) ? w->sc->payload : (uint32_t)sizeof(payload);
    int rc;
    if (au->n == au->cap && (rc = author_grow(au)) != FM_OK)
        return rc;
    sim_rng_bytes(&w->rng, payload, plen);
    uint64_t wall = w->epoch_ms + w->now + (uint64_t)nd->skew_ms;
    fm_buf_init(&b, FM_OP_MAX_LEN);
    rc = fm_op_build(&b, &nd->id, 7, au->n + 1, au->n ? au->hashes[au->n - 1] : zero,
                     (wall << 16) + au->n, payload, plen);
    if (rc == FM_OK && (rc = fm_op_decode(&d, b.data, b.len)) == FM_OK) {
        fm_op_hash(&d, au->hashes[au->n]);
        au->ops[au->n] = b.data; /* the log owns the bytes now */
        au->lens[au->n] = (uint32_t)b.len;
        au->born_ms[au->n] = w->now;
        au->n++;
        nd->st.have[a]++;
        nd->st.total++;
        sim_diag_store(w, au->node, a, au->n, true);
        w->global_total++;
        w->res->ops_written++;
        return FM_OK;
    }
    fm_buf_release(&b);
    return rc;
}
