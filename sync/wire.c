/*
 * wire.c — encoding and strict decoding of the sync wire messages.
 *
 * The decoder is the first code that touches bytes from another node, so
 * it is deliberately dull: one cursor, every count checked against its
 * named maximum before anything is derived from it, every list checked to
 * be sorted and in range, flags with unknown bits refused, and the frame
 * consumed exactly. It never allocates; decoded messages borrow from the
 * frame. Encoders write into capped fm_bufs so a bug cannot grow a buffer
 * without bound either.
 */
#include "wire_int.h"
#include "recon_int.h"

#include <string.h>

#define CHECK(expr)                                                            \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != FM_OK)                                                      \
            return rc_;                                                        \
    } while (0)

/* ---------------------------------------------------------------- helpers */

void fm_wire_put_entry(uint8_t *dst, const uint8_t author[FM_PK_LEN], uint64_t seq)
{
    memcpy(dst, author, FM_PK_LEN);
    fm_be64_put(dst + FM_PK_LEN, seq);
}

void fm_wire_entry(const struct fm_wire_entries *e, uint32_t i, const uint8_t **author,
                   uint64_t *seq)
{
    const uint8_t *p = e->entries + (size_t)i * FM_WIRE_ENTRY_LEN;
    *author = p;
    *seq = fm_be64_get(p + FM_PK_LEN);
}

/* Reads count entries: strictly increasing authors, seq >= 1, each author
 * within [lo, hi] when those are given. */
static int decode_entries(struct fm_cur *c, uint32_t count, const uint8_t *lo,
                          const uint8_t *hi, struct fm_wire_entries *out)
{
    const uint8_t *p;
    if (fm_cur_left(c) / FM_WIRE_ENTRY_LEN < count)
        return FM_EDECODE;
    CHECK(fm_cur_bytes(c, (size_t)count * FM_WIRE_ENTRY_LEN, &p));
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = p + (size_t)i * FM_WIRE_ENTRY_LEN;
        if (fm_be64_get(e + FM_PK_LEN) == 0)
            return FM_EDECODE;
        if (i > 0 && memcmp(e - FM_WIRE_ENTRY_LEN, e, FM_PK_LEN) >= 0)
            return FM_EDECODE;
        if (lo && memcmp(e, lo, FM_PK_LEN) < 0)
            return FM_EDECODE;
        if (hi && memcmp(e, hi, FM_PK_LEN) > 0)
            return FM_EDECODE;
    }
    out->entries = p;
    out->count = count;
    return FM_OK;
}

/* Validates count x (u32 len | op) and that nothing follows. */
static int decode_op_list(struct fm_cur *c, uint32_t count, const uint8_t **data,
                          size_t *data_len)
{
    const uint8_t *start = c->pos;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len;
        const uint8_t *op;
        CHECK(fm_cur_u32(c, &len));
        if (len < FM_WIRE_OP_MIN)
            return FM_EDECODE;
        if (len > FM_OP_MAX_LEN)
            return FM_ETOOBIG;
        CHECK(fm_cur_bytes(c, len, &op));
    }
    *data = start;
    *data_len = (size_t)(c->pos - start);
    return FM_OK;
}

static int decode_text(struct fm_cur *c, size_t len, char *out, size_t cap)
{
    const uint8_t *p;
    if (len >= cap)
        return FM_EDECODE;
    CHECK(fm_cur_bytes(c, len, &p));
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return FM_EDECODE;
    memcpy(out, p, len);
    out[len] = '\0';
    return FM_OK;
}

#define PEER_FLAG_CONFIGURED 0x01
#define PEER_FLAG_CONNECTED 0x02
#define PEER_FLAG_VECTOR 0x04
#define PEER_FLAG_EAGER 0x08
#define PEER_FLAG_BANNED 0x10
#define PEER_FLAG_REFUSED_US 0x20 /* it refused our handshake (field sync) */
#define PEER_FLAG_CLONED 0x40 /* its key on two live connections (clone.c) */
#define PEER_FLAG_SKEW 0x80 /* skew_ms was measured (the byte is full: a next flag
                            * needs a second flags byte) */
#define PEER_FLAGS_ALL 0xff
/* CTL_STATUS's tree block (decode_status_tree) */
#define STATUS_TREE_ON 0x01
#define STATUS_TREE_PARENT 0x02

static int decode_peer(struct fm_cur *c, struct fm_sync_peer_info *pi)
{
    uint8_t nl, flags, nk;
    uint16_t el;
    uint64_t skew;
    memset(pi, 0, sizeof(*pi));
    CHECK(fm_cur_copy(c, pi->pk, FM_PK_LEN));
    CHECK(fm_cur_u8(c, &nl));
    CHECK(decode_text(c, nl, pi->name, sizeof(pi->name)));
    CHECK(fm_cur_u16(c, &el));
    CHECK(decode_text(c, el, pi->endpoint, sizeof(pi->endpoint)));
    CHECK(fm_cur_u8(c, &flags));
    if (flags & ~PEER_FLAGS_ALL)
        return FM_EDECODE;
    pi->configured = flags & PEER_FLAG_CONFIGURED;
    pi->connected = flags & PEER_FLAG_CONNECTED;
    pi->vector_known = flags & PEER_FLAG_VECTOR;
    pi->eager = flags & PEER_FLAG_EAGER;
    pi->banned = flags & PEER_FLAG_BANNED;
    pi->refused_us = flags & PEER_FLAG_REFUSED_US;
    pi->cloned_key = flags & PEER_FLAG_CLONED;
    pi->skew_known = flags & PEER_FLAG_SKEW;
    CHECK(fm_cur_u64(c, &pi->last_heard_ms));
    CHECK(fm_cur_u64(c, &pi->we_lack));
    CHECK(fm_cur_u64(c, &pi->it_lacks));
    CHECK(fm_cur_u64(c, &skew));
    pi->skew_ms = (int64_t)skew;
    CHECK(fm_cur_u64(c, &pi->ops_received));
    CHECK(fm_cur_u64(c, &pi->ops_sent));
    CHECK(fm_cur_u64(c, &pi->bad_messages));
    CHECK(fm_cur_u32(c, &pi->rate_limit_bps));
    CHECK(fm_cur_u64(c, &pi->queued_bytes));
    CHECK(fm_cur_u8(c, &nk));
    if (nk != FM_SYNC_MSG_KINDS)
        return FM_EDECODE;
    for (int k = 0; k < FM_SYNC_MSG_KINDS; k++) {
        CHECK(fm_cur_u64(c, &pi->msgs[k].msgs_in));
        CHECK(fm_cur_u64(c, &pi->msgs[k].bytes_in));
        CHECK(fm_cur_u64(c, &pi->msgs[k].msgs_out));
        CHECK(fm_cur_u64(c, &pi->msgs[k].bytes_out));
    }
    CHECK(fm_cur_u64(c, &pi->checks_out));
    CHECK(fm_cur_u64(c, &pi->checks_in));
    CHECK(fm_cur_u32(c, &pi->conns)); /* conns.c */
    CHECK(fm_cur_u64(c, &pi->conns_refused));
    return FM_OK;
}

#define NCOUNTERS 22
static uint64_t *counter_slot(struct fm_sync_counters *k, int i)
{
    uint64_t *slots[NCOUNTERS] = {
        &k->msgs_in,      &k->msgs_out,      &k->bytes_in,     &k->bytes_out,
        &k->ops_stored,   &k->ops_dup,       &k->ops_rejected, &k->ops_sent,
        &k->msgs_dropped, &k->sends_dropped, &k->zap_admitted, &k->zap_refused,
        &k->soft_in,      &k->soft_stored,   &k->soft_sent,    &k->peers_dropped,
        &k->ingest_faults, &k->ingest_fault_err, &k->ingest_backoff_ms,
        &k->key_conns_refused, &k->pulls_deferred, &k->clone_alerts,
    };
    return slots[i];
}

int fm_wire_kind(uint8_t type)
{
    switch (type) {
    case FM_MSG_SUMMARY: return FM_SYNC_MSG_SUMMARY;
    case FM_MSG_VECTOR: return FM_SYNC_MSG_VECTOR;
    case FM_MSG_IHAVE: return FM_SYNC_MSG_IHAVE;
    case FM_MSG_PULL: return FM_SYNC_MSG_PULL;
    case FM_MSG_OPS: return FM_SYNC_MSG_OPS;
    case FM_MSG_PRUNE: return FM_SYNC_MSG_PRUNE;
    case FM_MSG_SOFT: return FM_SYNC_MSG_SOFT;
    case FM_MSG_RECON: return FM_SYNC_MSG_VECTOR; /* it replaces the vector */
    case FM_MSG_TREE: return FM_SYNC_MSG_PRUNE; /* it decides eager links, as PRUNE does */
    default: return FM_SYNC_MSG_OTHER;
    }
}

const char *fm_sync_msg_kind_name(int kind)
{
    static const char *const names[FM_SYNC_MSG_KINDS] = {
        "summary", "vector", "ihave", "pull", "ops", "prune", "soft", "other"};
    return kind >= 0 && kind < FM_SYNC_MSG_KINDS ? names[kind] : "?";
}

const char *fm_sync_push_name(int push)
{
    static const char *const names[FM_PUSH_KINDS] = {
        [FM_PUSH_LAZY] = "lazy", [FM_PUSH_PARENT] = "parent", [FM_PUSH_CHILD] = "child",
        [FM_PUSH_EAGER] = "eager"};
    return push >= 0 && push < FM_PUSH_KINDS ? names[push] : "?";
}

/* ---------------------------------------------------------------- decode */

/* One decoder per message type; each checks its flags and counts against
 * the named maxima before reading what they announce. */
static int decode_summary(struct fm_wire_summary *s, struct fm_cur *c)
{
    CHECK(fm_cur_u8(c, &s->flags));
    if (s->flags & ~FM_SUMMARY_REPLY)
        return FM_EDECODE;
    CHECK(fm_cur_u64(c, &s->now_ms));
    CHECK(fm_cur_u32(c, &s->nauthors));
    CHECK(fm_cur_u64(c, &s->total));
    CHECK(fm_cur_copy(c, s->hash, FM_HASH_LEN));
    return FM_OK;
}

static int decode_vector(struct fm_wire_vector *v, struct fm_cur *c)
{
    uint32_t n32;
    CHECK(fm_cur_copy(c, v->lo, FM_PK_LEN));
    CHECK(fm_cur_copy(c, v->hi, FM_PK_LEN));
    if (memcmp(v->lo, v->hi, FM_PK_LEN) > 0)
        return FM_EDECODE;
    CHECK(fm_cur_u32(c, &n32));
    if (n32 > FM_WIRE_VECTOR_MAX)
        return FM_ETOOBIG;
    return decode_entries(c, n32, v->lo, v->hi, &v->e);
}

static int decode_ihave(struct fm_wire_msg *m, struct fm_cur *c)
{
    uint8_t flags;
    uint16_t n16;
    CHECK(fm_cur_u8(c, &flags));
    if (flags & ~FM_IHAVE_NOW)
        return FM_EDECODE;
    m->u.ihave.flags = flags;
    CHECK(fm_cur_u16(c, &n16));
    if (n16 == 0)
        return FM_EDECODE;
    if (n16 > FM_WIRE_IHAVE_MAX)
        return FM_ETOOBIG;
    return decode_entries(c, n16, NULL, NULL, &m->u.ihave.e);
}

static int decode_pull(struct fm_wire_pull *p, struct fm_cur *c)
{
    uint16_t n16;
    CHECK(fm_cur_u8(c, &p->flags));
    if (p->flags & ~(FM_PULL_GRAFT | FM_PULL_NO_PREV))
        return FM_EDECODE;
    CHECK(fm_cur_u32(c, &p->req_id));
    CHECK(fm_cur_u32(c, &p->max_ops));
    if (p->max_ops == 0)
        return FM_EDECODE;
    if (p->max_ops > FM_WIRE_BATCH_MAX)
        return FM_ETOOBIG;
    CHECK(fm_cur_u16(c, &n16));
    if (n16 == 0)
        return FM_EDECODE;
    if (n16 > FM_WIRE_PULL_MAX)
        return FM_ETOOBIG;
    return decode_entries(c, n16, NULL, NULL, &p->e);
}

static int decode_ops(struct fm_wire_ops *o, struct fm_cur *c)
{
    CHECK(fm_cur_u8(c, &o->flags));
    if (o->flags & ~(FM_OPS_REPLY | FM_OPS_TRUNCATED))
        return FM_EDECODE;
    CHECK(fm_cur_u32(c, &o->req_id));
    CHECK(fm_cur_u32(c, &o->count));
    if (!(o->flags & FM_OPS_REPLY) && (o->flags || o->req_id || o->count == 0))
        return FM_EDECODE; /* a push: no flags, no req_id, at least one op */
    if (o->count > FM_WIRE_BATCH_MAX)
        return FM_ETOOBIG;
    if (fm_cur_left(c) / (4 + FM_WIRE_OP_MIN) < o->count)
        return FM_EDECODE;
    return decode_op_list(c, o->count, &o->data, &o->data_len);
}

static int decode_soft(struct fm_wire_soft *sm, struct fm_cur *c)
{
    uint16_t n16;
    CHECK(fm_cur_u16(c, &n16));
    if (n16 == 0)
        return FM_EDECODE;
    if (n16 > FM_WIRE_SOFT_MAX)
        return FM_ETOOBIG;
    sm->count = n16;
    sm->data = c->pos;
    for (uint32_t i = 0; i < n16; i++) {
        uint16_t len;
        const uint8_t *rec;
        CHECK(fm_cur_u16(c, &len));
        if (len < FM_WIRE_SOFT_REC_MIN)
            return FM_EDECODE;
        if (len > FM_SOFT_REC_MAX)
            return FM_ETOOBIG;
        CHECK(fm_cur_bytes(c, len, &rec));
    }
    sm->data_len = (size_t)(c->pos - sm->data);
    return FM_OK;
}

/* The tree block after a status's peers: `u8 flags (bit 0 on, bit 1 has
 * a parent) | root[8] | be32 epoch | u8 hops | parent[32] | be32 children
 * | u8 push × count` (enum fm_sync_push, one per peer in order). */
static int decode_status_tree(struct fm_wire_status *s, struct fm_cur *c)
{
    struct fm_sync_tree_info *t = &s->tree;
    uint8_t flags;
    CHECK(fm_cur_u8(c, &flags));
    if (flags & ~(STATUS_TREE_ON | STATUS_TREE_PARENT))
        return FM_EDECODE;
    t->on = (flags & STATUS_TREE_ON) != 0;
    t->has_parent = (flags & STATUS_TREE_PARENT) != 0;
    CHECK(fm_cur_copy(c, t->root, sizeof t->root));
    CHECK(fm_cur_u32(c, &t->epoch));
    CHECK(fm_cur_u8(c, &t->hops));
    CHECK(fm_cur_copy(c, t->parent, FM_PK_LEN));
    CHECK(fm_cur_u32(c, &t->children));
    CHECK(fm_cur_bytes(c, s->count, &s->push));
    for (uint32_t i = 0; i < s->count; i++)
        if (s->push[i] >= FM_PUSH_KINDS)
            return FM_EDECODE;
    s->tree_known = true;
    return FM_OK;
}

static int decode_status(struct fm_wire_status *s, struct fm_cur *c)
{
    struct fm_sync_peer_info tmp;
    uint16_t n16;
    CHECK(fm_cur_u64(c, &s->uptime_ms));
    CHECK(fm_cur_u64(c, &s->pid));
    memset(&s->counters, 0, sizeof(s->counters));
    for (int i = 0; i < NCOUNTERS; i++)
        CHECK(fm_cur_u64(c, counter_slot(&s->counters, i)));
    CHECK(fm_cur_u16(c, &n16));
    if (n16 > FM_WIRE_PEERS_MAX)
        return FM_ETOOBIG;
    s->count = n16;
    s->data = c->pos;
    for (uint32_t i = 0; i < s->count; i++)
        CHECK(decode_peer(c, &tmp));
    s->data_len = (size_t)(c->pos - s->data);
    return fm_cur_left(c) == 0 ? FM_OK : decode_status_tree(s, c);
}

static int decode_body(struct fm_wire_msg *m, struct fm_cur *c)
{
    switch (m->type) {
    case FM_MSG_SUMMARY:
        return decode_summary(&m->u.summary, c);
    case FM_MSG_VECTOR:
        return decode_vector(&m->u.vector, c);
    case FM_MSG_IHAVE:
        return decode_ihave(m, c);
    case FM_MSG_PULL:
        return decode_pull(&m->u.pull, c);
    case FM_MSG_OPS:
        return decode_ops(&m->u.ops, c);
    case FM_MSG_SOFT:
        return decode_soft(&m->u.soft, c);
    case FM_MSG_PRUNE:
    case FM_MSG_CTL_NUDGE:
    case FM_MSG_CTL_ACK:
    case FM_MSG_CTL_PEERS:
        return FM_OK;
    case FM_MSG_CTL_STATUS:
        return decode_status(&m->u.status, c);
    default:
        return FM_EDECODE;
    }
}

int fm_wire_decode(struct fm_wire_msg *m, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    int rc;
    memset(m, 0, sizeof(*m));
    if (n > FM_WIRE_MAX_MSG)
        return FM_ETOOBIG;
    fm_cur_init(&c, p, n);
    CHECK(fm_cur_u8(&c, &m->version));
    if (m->version != FM_WIRE_VERSION && m->version != FM_RECON_WIRE_VERSION)
        return FM_EDECODE;
    CHECK(fm_cur_u8(&c, &m->type));
    /* version 2 adds RECON and changes nothing else: every other message
     * keeps version byte 1, so a version-1 peer still reads it */
    if ((m->type == FM_MSG_RECON) != (m->version == FM_RECON_WIRE_VERSION))
        return FM_EDECODE;
    rc = m->type == FM_MSG_RECON ? fm_recon_decode(&m->u.recon, &c) : decode_body(m, &c);
    if (rc != FM_OK)
        return rc;
    if (fm_cur_left(&c) != 0)
        return FM_EDECODE;
    return FM_OK;
}

bool fm_wire_ops_next(const struct fm_wire_ops *o, size_t *pos, const uint8_t **op, size_t *len)
{
    uint32_t l;
    if (*pos + 4 > o->data_len)
        return false;
    l = fm_be32_get(o->data + *pos);
    *op = o->data + *pos + 4;
    *len = l;
    *pos += 4 + (size_t)l;
    return true;
}

bool fm_wire_soft_next(const struct fm_wire_soft *m, size_t *pos, const uint8_t **rec,
                       size_t *len)
{
    uint16_t l;
    if (*pos + 2 > m->data_len)
        return false;
    l = (uint16_t)(m->data[*pos] << 8 | m->data[*pos + 1]);
    *rec = m->data + *pos + 2;
    *len = l;
    *pos += 2 + (size_t)l;
    return true;
}

bool fm_wire_status_next(const struct fm_wire_status *s, size_t *pos,
                         struct fm_sync_peer_info *out)
{
    struct fm_cur c;
    if (*pos >= s->data_len)
        return false;
    fm_cur_init(&c, s->data + *pos, s->data_len - *pos);
    if (decode_peer(&c, out) != FM_OK)
        return false; /* cannot happen on a validated message */
    *pos = s->data_len - fm_cur_left(&c);
    return true;
}

/* ---------------------------------------------------------------- encode */

static int put_header(struct fm_buf *out, uint8_t type)
{
    fm_buf_reset(out);
    CHECK(fm_buf_put_u8(out, FM_WIRE_VERSION));
    return fm_buf_put_u8(out, type);
}

int fm_wire_encode_summary(struct fm_buf *out, const struct fm_wire_summary *s)
{
    if (s->flags & ~FM_SUMMARY_REPLY)
        return FM_EINVAL;
    CHECK(put_header(out, FM_MSG_SUMMARY));
    CHECK(fm_buf_put_u8(out, s->flags));
    CHECK(fm_buf_put_u64(out, s->now_ms));
    CHECK(fm_buf_put_u32(out, s->nauthors));
    CHECK(fm_buf_put_u64(out, s->total));
    return fm_buf_append(out, s->hash, FM_HASH_LEN);
}

int fm_wire_encode_vector(struct fm_buf *out, const uint8_t lo[FM_PK_LEN],
                          const uint8_t hi[FM_PK_LEN], const uint8_t *entries, uint32_t n)
{
    if (n > FM_WIRE_VECTOR_MAX)
        return FM_ETOOBIG;
    CHECK(put_header(out, FM_MSG_VECTOR));
    CHECK(fm_buf_append(out, lo, FM_PK_LEN));
    CHECK(fm_buf_append(out, hi, FM_PK_LEN));
    CHECK(fm_buf_put_u32(out, n));
    return fm_buf_append(out, entries, (size_t)n * FM_WIRE_ENTRY_LEN);
}

int fm_wire_encode_ihave(struct fm_buf *out, uint8_t flags, const uint8_t *entries, uint32_t n)
{
    if (n == 0 || (flags & ~FM_IHAVE_NOW))
        return FM_EINVAL;
    if (n > FM_WIRE_IHAVE_MAX)
        return FM_ETOOBIG;
    CHECK(put_header(out, FM_MSG_IHAVE));
    CHECK(fm_buf_put_u8(out, flags));
    CHECK(fm_buf_put_u16(out, (uint16_t)n));
    return fm_buf_append(out, entries, (size_t)n * FM_WIRE_ENTRY_LEN);
}

int fm_wire_encode_pull(struct fm_buf *out, uint8_t flags, uint32_t req_id, uint32_t max_ops,
                        const uint8_t *entries, uint32_t n)
{
    if (n == 0 || max_ops == 0 || (flags & ~(FM_PULL_GRAFT | FM_PULL_NO_PREV)))
        return FM_EINVAL;
    if (n > FM_WIRE_PULL_MAX || max_ops > FM_WIRE_BATCH_MAX)
        return FM_ETOOBIG;
    CHECK(put_header(out, FM_MSG_PULL));
    CHECK(fm_buf_put_u8(out, flags));
    CHECK(fm_buf_put_u32(out, req_id));
    CHECK(fm_buf_put_u32(out, max_ops));
    CHECK(fm_buf_put_u16(out, (uint16_t)n));
    return fm_buf_append(out, entries, (size_t)n * FM_WIRE_ENTRY_LEN);
}

#define OPS_COUNT_AT 7 /* ver, type, flags, u32 req_id */

int fm_wire_ops_begin(struct fm_buf *out, uint8_t flags, uint32_t req_id)
{
    if (flags & ~(FM_OPS_REPLY | FM_OPS_TRUNCATED))
        return FM_EINVAL;
    CHECK(put_header(out, FM_MSG_OPS));
    CHECK(fm_buf_put_u8(out, flags));
    CHECK(fm_buf_put_u32(out, req_id));
    return fm_buf_put_u32(out, 0);
}

int fm_wire_ops_add(struct fm_buf *out, const uint8_t *ops, size_t len, uint32_t n)
{
    uint32_t count;
    if (out->len < OPS_COUNT_AT + 4)
        return FM_EINVAL;
    count = fm_be32_get(out->data + OPS_COUNT_AT);
    if (n > FM_WIRE_BATCH_MAX - count)
        return FM_ETOOBIG;
    CHECK(fm_buf_append(out, ops, len));
    fm_be32_put(out->data + OPS_COUNT_AT, count + n);
    return FM_OK;
}

int fm_wire_ops_finish(struct fm_buf *out)
{
    if (out->len < OPS_COUNT_AT + 4)
        return FM_EINVAL;
    if (out->len > FM_WIRE_MAX_MSG)
        return FM_ETOOBIG;
    return FM_OK;
}

int fm_wire_encode_soft(struct fm_buf *out, const uint8_t *recs, size_t len, uint32_t n)
{
    struct fm_cur c;
    if (n == 0 || len == 0)
        return FM_EINVAL;
    if (n > FM_WIRE_SOFT_MAX)
        return FM_ETOOBIG;
    /* the records must be well-formed: the receiver's decoder is strict */
    fm_cur_init(&c, recs, len);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t l;
        const uint8_t *p;
        if (fm_cur_u16(&c, &l) != FM_OK || l < FM_WIRE_SOFT_REC_MIN || l > FM_SOFT_REC_MAX ||
            fm_cur_bytes(&c, l, &p) != FM_OK)
            return FM_EINVAL;
    }
    if (fm_cur_left(&c) != 0)
        return FM_EINVAL;
    CHECK(put_header(out, FM_MSG_SOFT));
    CHECK(fm_buf_put_u16(out, (uint16_t)n));
    CHECK(fm_buf_append(out, recs, len));
    return out->len > FM_WIRE_MAX_MSG ? FM_ETOOBIG : FM_OK;
}

int fm_wire_encode_simple(struct fm_buf *out, uint8_t type)
{
    if (type != FM_MSG_PRUNE && type != FM_MSG_CTL_NUDGE && type != FM_MSG_CTL_ACK &&
        type != FM_MSG_CTL_PEERS)
        return FM_EINVAL;
    return put_header(out, type);
}

static int put_text(struct fm_buf *out, const char *s, size_t max, bool wide)
{
    size_t n = strnlen(s, max);
    if (n >= max)
        return FM_EINVAL;
    CHECK(wide ? fm_buf_put_u16(out, (uint16_t)n) : fm_buf_put_u8(out, (uint8_t)n));
    return fm_buf_append(out, s, n);
}

int fm_wire_encode_status(struct fm_buf *out, const struct fm_sync_status *st,
                          const struct fm_sync_peer_info *peers, uint32_t n)
{
    struct fm_sync_counters k = st->counters;
    if (n > FM_WIRE_PEERS_MAX)
        return FM_ETOOBIG;
    CHECK(put_header(out, FM_MSG_CTL_STATUS));
    CHECK(fm_buf_put_u64(out, st->uptime_ms));
    CHECK(fm_buf_put_u64(out, st->pid));
    for (int i = 0; i < NCOUNTERS; i++)
        CHECK(fm_buf_put_u64(out, *counter_slot(&k, i)));
    CHECK(fm_buf_put_u16(out, (uint16_t)n));
    for (uint32_t i = 0; i < n; i++) {
        const struct fm_sync_peer_info *p = &peers[i];
        uint8_t flags = (uint8_t)((p->configured ? PEER_FLAG_CONFIGURED : 0) |
                                  (p->connected ? PEER_FLAG_CONNECTED : 0) |
                                  (p->vector_known ? PEER_FLAG_VECTOR : 0) |
                                  (p->eager ? PEER_FLAG_EAGER : 0) |
                                  (p->banned ? PEER_FLAG_BANNED : 0) |
                                  (p->refused_us ? PEER_FLAG_REFUSED_US : 0) |
                                  (p->cloned_key ? PEER_FLAG_CLONED : 0) |
                                  (p->skew_known ? PEER_FLAG_SKEW : 0));
        CHECK(fm_buf_append(out, p->pk, FM_PK_LEN));
        CHECK(put_text(out, p->name, sizeof(p->name), false));
        CHECK(put_text(out, p->endpoint, sizeof(p->endpoint), true));
        CHECK(fm_buf_put_u8(out, flags));
        CHECK(fm_buf_put_u64(out, p->last_heard_ms));
        CHECK(fm_buf_put_u64(out, p->we_lack));
        CHECK(fm_buf_put_u64(out, p->it_lacks));
        CHECK(fm_buf_put_u64(out, (uint64_t)p->skew_ms));
        CHECK(fm_buf_put_u64(out, p->ops_received));
        CHECK(fm_buf_put_u64(out, p->ops_sent));
        CHECK(fm_buf_put_u64(out, p->bad_messages));
        CHECK(fm_buf_put_u32(out, p->rate_limit_bps));
        CHECK(fm_buf_put_u64(out, p->queued_bytes));
        CHECK(fm_buf_put_u8(out, FM_SYNC_MSG_KINDS));
        for (int k = 0; k < FM_SYNC_MSG_KINDS; k++) {
            CHECK(fm_buf_put_u64(out, p->msgs[k].msgs_in));
            CHECK(fm_buf_put_u64(out, p->msgs[k].bytes_in));
            CHECK(fm_buf_put_u64(out, p->msgs[k].msgs_out));
            CHECK(fm_buf_put_u64(out, p->msgs[k].bytes_out));
        }
        CHECK(fm_buf_put_u64(out, p->checks_out));
        CHECK(fm_buf_put_u64(out, p->checks_in));
        CHECK(fm_buf_put_u32(out, p->conns));
        CHECK(fm_buf_put_u64(out, p->conns_refused));
    }
    const struct fm_sync_tree_info *t = &st->tree;
    if (!st->tree_known)
        return FM_OK;
    CHECK(fm_buf_put_u8(out, (uint8_t)((t->on ? STATUS_TREE_ON : 0) |
                                       (t->has_parent ? STATUS_TREE_PARENT : 0))));
    CHECK(fm_buf_append(out, t->root, sizeof t->root));
    CHECK(fm_buf_put_u32(out, t->epoch));
    CHECK(fm_buf_put_u8(out, t->hops));
    CHECK(fm_buf_append(out, t->parent, FM_PK_LEN));
    CHECK(fm_buf_put_u32(out, t->children));
    for (uint32_t i = 0; i < n; i++) {
        if (peers[i].push >= FM_PUSH_KINDS)
            return FM_EINVAL;
        CHECK(fm_buf_put_u8(out, peers[i].push));
    }
    return FM_OK;
}
