/*
 * compact.c — compact OPS batches: per-author runs, varint deltas and the
 * payloads in one zstd frame (compact_int.h has the layout of both
 * versions, 3 and 4).
 *
 * The decoder takes bytes from another node and a decompressor, so it is
 * as dull as wire.c's: every count and length is checked against its cap
 * before anything is derived from it, the runs are validated in a first
 * pass (so the sum of the payload lengths is known and capped before one
 * byte is decompressed), the zstd frame must declare exactly that size and
 * be exactly one frame, and decompression writes into a buffer of that
 * size, so a bomb stops at the cap. The second pass rebuilds the ops.
 */
#include "compact_int.h"

#include <stdlib.h>
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#define CHECK(expr)                                                            \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != FM_OK)                                                      \
            return rc_;                                                        \
    } while (0)

#define DEFAULT_LEVEL 1
#define OP_FIXED (FM_OP_HEADER_LEN + FM_SIG_LEN) /* an op less its payload */
#define PLAIN_HEADER 11 /* a plain OPS: ver, type, flags, u32 req_id, u32 count */
/* header field offsets in an op (crypto.h) */
#define AT_KIND 1
#define AT_AUTHOR 4
#define AT_SEQ 36
#define AT_PREV 44
#define AT_HLC 76
#define AT_PLEN 84

void fm_compact_init(struct fm_compact *z)
{
    memset(z, 0, sizeof(*z));
    z->level = DEFAULT_LEVEL;
    fm_buf_init(&z->meta, FM_WIRE_MAX_MSG);
    fm_buf_init(&z->raw, FM_COPS_MAX_RAW);
    fm_buf_init(&z->hashes, (size_t)FM_WIRE_BATCH_MAX * FM_HASH_LEN);
    fm_buf_init(&z->enc_hashes, (size_t)FM_WIRE_BATCH_MAX * FM_HASH_LEN);
}

void fm_compact_release(struct fm_compact *z)
{
    ZSTD_freeCCtx(z->cctx);
    ZSTD_freeDCtx(z->dctx);
    ZSTD_freeCDict(z->cdict);
    ZSTD_freeDDict(z->ddict);
    free(z->zdst);
    free(z->dec);
    free(z->framed);
    fm_buf_release(&z->meta);
    fm_buf_release(&z->raw);
    fm_buf_release(&z->enc_hashes);
    fm_buf_release(&z->hashes);
    memset(z, 0, sizeof(*z));
}

/* ------------------------------------------------------------- varints */

static int put_varint(struct fm_buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do {
        t[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            t[n] |= 0x80;
        n++;
    } while (v);
    return fm_buf_append(b, t, n);
}

/* LEB128, at most 10 bytes, no overlong form (one encoding per value). */
static int get_varint(struct fm_cur *c, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t b;
        CHECK(fm_cur_u8(c, &b));
        if (i == 9 && b > 1)
            return FM_EDECODE; /* past 64 bits */
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i > 0 && b == 0)
                return FM_EDECODE; /* overlong */
            *out = v;
            return FM_OK;
        }
    }
    return FM_EDECODE;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint64_t zigzag(uint64_t delta) { return (delta << 1) ^ (0 - (delta >> 63)); }
static uint64_t unzigzag(uint64_t z) { return (z >> 1) ^ (0 - (z & 1)); }

/* -------------------------------------------------------------- encode */

struct enc_run {
    const uint8_t *author;
    uint64_t next_seq, hlc;
    uint8_t last[FM_HASH_LEN]; /* the hash of the run's last op (unless chained) */
    size_t count_at; /* offset of the run's count in meta (u16, patched) */
    uint16_t n;
    bool chained; /* the caller vouches for the prev chain (fm_compact.chained) */
};

/* Does op d start a new run after r? Within a run the receiver takes each
 * op's prev to be the hash of the op before it, so an op that follows on
 * in seq but not in hash (the other branch of a fork) opens a run of its
 * own; unless the caller vouched that the batch holds no such op. */
static bool run_breaks(const struct enc_run *r, const struct fm_op *d)
{
    return !r->author || memcmp(r->author, d->author, FM_PK_LEN) != 0 ||
           d->seq != r->next_seq || r->n == UINT16_MAX ||
           (!r->chained && memcmp(d->prev, r->last, FM_HASH_LEN) != 0);
}

#define RUN_AUTHOR_SLOTS (2 * FM_WIRE_BATCH_MAX) /* a power of two, twice the runs */

/* Has an earlier run of this batch the same author? (Then the receiver,
 * which resolves a run's missing prev from what it held before the batch,
 * could resolve it wrong: the run carries its prev.) Records the author. */
static bool author_repeats(struct fm_compact *z, const uint8_t *author)
{
    uint32_t i = fm_be32_get(author) & (RUN_AUTHOR_SLOTS - 1);
    for (; z->run_authors[i]; i = (i + 1) & (RUN_AUTHOR_SLOTS - 1))
        if (memcmp(z->run_authors[i], author, FM_PK_LEN) == 0)
            return true;
    z->run_authors[i] = author;
    return false;
}

/* Version 3: author | rflags | [prev] | varint seq | u16 n.
 * Version 4: rflags | author or its prefix | [prev] | varint seq | varint n,
 * the count written first (fm_compact_encode measures each run before). */
static int run_open(struct fm_buf *meta, struct enc_run *r, const struct fm_op *d,
                    bool give_prev, uint8_t version, uint16_t n)
{
    uint8_t rflags = give_prev && d->seq > 1 ? FM_COPS_PREV_GIVEN : 0;
    if (version == FM_COMPACT4_WIRE_VERSION) {
        /* past seq 1 the receiver holds the author, or named it in the
         * request this answers: 8 bytes of its key find it */
        if (d->seq > 1)
            rflags |= FM_COPS_AUTHOR_SHORT;
        CHECK(fm_buf_put_u8(meta, rflags));
        CHECK(fm_buf_append(meta, d->author,
                            rflags & FM_COPS_AUTHOR_SHORT ? FM_COPS_AUTHOR_PREFIX : FM_PK_LEN));
    } else {
        CHECK(fm_buf_append(meta, d->author, FM_PK_LEN));
        CHECK(fm_buf_put_u8(meta, rflags));
    }
    if (rflags & FM_COPS_PREV_GIVEN)
        CHECK(fm_buf_append(meta, d->prev, FM_HASH_LEN));
    CHECK(put_varint(meta, d->seq));
    r->count_at = meta->len;
    CHECK(version == FM_COMPACT4_WIRE_VERSION ? put_varint(meta, n) : fm_buf_put_u16(meta, 0));
    r->author = d->author;
    r->n = 0;
    return FM_OK;
}

/* One op's metadata into its run (a new run when the author, the seq or
 * the prev does not follow on). *nruns counts the runs. run_len: in
 * version 4, the length of the run this op opens (its count is written
 * before its ops). hash: the op's own hash. */
static int enc_op(struct fm_compact *z, struct enc_run *r, const struct fm_op *d,
                  const uint8_t hash[FM_HASH_LEN], bool give_prev, uint8_t version,
                  uint16_t run_len, uint32_t *nruns)
{
    struct fm_buf *meta = &z->meta;
    bool first = run_breaks(r, d);
    if (first) {
        if (r->author && version != FM_COMPACT4_WIRE_VERSION)
            put_be16(meta->data + r->count_at, r->n);
        give_prev |= author_repeats(z, d->author);
        CHECK(run_open(meta, r, d, give_prev, version, run_len));
        (*nruns)++;
    }
    CHECK(fm_buf_put_u8(meta, d->kind));
    CHECK(put_varint(meta, first ? d->hlc : zigzag(d->hlc - r->hlc)));
    CHECK(put_varint(meta, d->payload_len));
    CHECK(fm_buf_append(meta, d->sig, FM_SIG_LEN));
    r->hlc = d->hlc;
    r->next_seq = d->seq + 1;
    memcpy(r->last, hash, FM_HASH_LEN);
    r->n++;
    return FM_OK;
}

/* Contexts and fixed buffers, made on first use: the compressor's output
 * holds the bound of a whole batch, the decompressor's the cap. */
static int zstd_ready(struct fm_compact *z, bool comp)
{
    if (comp && !z->cctx && !(z->cctx = ZSTD_createCCtx()))
        return FM_ENOMEM;
    if (comp && !z->zdst && !(z->zdst = malloc(ZSTD_COMPRESSBOUND(FM_COPS_MAX_RAW))))
        return FM_ENOMEM;
    if (!comp && !z->dctx && !(z->dctx = ZSTD_createDCtx()))
        return FM_ENOMEM;
    if (!comp && !z->dec && !(z->dec = malloc(FM_COPS_MAX_RAW)))
        return FM_ENOMEM;
    return FM_OK;
}

uint32_t fm_compact_dict_id(void)
{
    return fm_ops_dict_len ? ZDICT_getDictID(fm_ops_dict, fm_ops_dict_len) : 0;
}

/* The dictionary digested for compression or decompression; NULL when
 * none is compiled in or memory ran out. */
static void *dict_ready(struct fm_compact *z, bool comp)
{
    if (fm_compact_dict_id() == 0)
        return NULL;
    if (comp && !z->cdict)
        z->cdict = ZSTD_createCDict(fm_ops_dict, fm_ops_dict_len, z->level);
    if (!comp && !z->ddict)
        z->ddict = ZSTD_createDDict(fm_ops_dict, fm_ops_dict_len);
    return comp ? z->cdict : z->ddict;
}

/* Version 4 frames travel without zstd's 4-byte magic number (both sides
 * know it is zstd) and without the dictionary id (the receiver announced
 * it in VERSION): the frame is made with content size, no checksum, no
 * dictionary id, and its magic cut off. */
static const uint8_t zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

static size_t compress_v4(struct fm_compact *z, ZSTD_CDict *cd, size_t cap)
{
    ZSTD_CCtx *cc = z->cctx;
    ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, z->level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 0)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_dictIDFlag, 0)) ||
        (cd && ZSTD_isError(ZSTD_CCtx_refCDict(cc, cd))))
        return 0;
    size_t zn = ZSTD_compress2(cc, z->zdst, cap, z->raw.data, z->raw.len);
    ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters); /* drop the CDict reference */
    if (ZSTD_isError(zn) || zn <= sizeof(zstd_magic) ||
        memcmp(z->zdst, zstd_magic, sizeof(zstd_magic)) != 0)
        return 0;
    memmove(z->zdst, z->zdst + sizeof(zstd_magic), zn - sizeof(zstd_magic));
    return zn - sizeof(zstd_magic);
}

/* The payloads: one zstd frame (with the dictionary when the receiver
 * holds it), or as they are when that is not shorter. Version 3 states
 * their total length first; version 4 leaves it out (it is the sum of the
 * runs' payload lengths). */
static int put_payloads(struct fm_compact *z, uint8_t version, bool use_dict, struct fm_buf *out)
{
    size_t zn = 0;
    ZSTD_CDict *cd = use_dict ? dict_ready(z, true) : NULL;
    if (version != FM_COMPACT4_WIRE_VERSION)
        CHECK(put_varint(out, z->raw.len));
    if (z->raw.len > 0 && zstd_ready(z, true) == FM_OK) {
        size_t cap = ZSTD_COMPRESSBOUND(FM_COPS_MAX_RAW);
        if (version == FM_COMPACT4_WIRE_VERSION)
            zn = compress_v4(z, cd, cap);
        else {
            zn = cd ? ZSTD_compress_usingCDict(z->cctx, z->zdst, cap, z->raw.data, z->raw.len, cd)
                    : ZSTD_compressCCtx(z->cctx, z->zdst, cap, z->raw.data, z->raw.len,
                                        z->level);
            if (ZSTD_isError(zn))
                zn = 0;
        }
    }
    if (zn > 0 && zn < z->raw.len) {
        CHECK(fm_buf_put_u8(out, cd ? FM_COPS_ZDICT : FM_COPS_ZSTD));
        return fm_buf_append(out, z->zdst, zn);
    }
    CHECK(fm_buf_put_u8(out, FM_COPS_RAW));
    return fm_buf_append(out, z->raw.data, z->raw.len);
}

/* Version 4 writes each run's count before its ops: the lengths of the
 * runs of the plain batch m, in order, into lens (at most max). Each op's
 * hash, which a run's break depends on, goes into hashes, so the writing
 * pass need not hash the op again (hashing is most of an encode). */
static int run_lengths(const struct fm_wire_ops *ops, uint16_t *lens, size_t max, size_t *nlens,
                       struct fm_buf *hashes, bool chained)
{
    struct enc_run r = {.chained = chained};
    size_t pos = 0, len, k = 0;
    const uint8_t *op;
    while (fm_wire_ops_next(ops, &pos, &op, &len)) {
        struct fm_op d;
        if (fm_op_decode(&d, op, len) != FM_OK)
            return FM_EINVAL;
        if (run_breaks(&r, &d)) {
            if (k == max)
                return FM_ETOOBIG;
            lens[k++] = 0;
            r.n = 0;
        }
        r.author = op + AT_AUTHOR; /* d points into op: stays valid */
        r.next_seq = d.seq + 1;
        if (!chained) {
            fm_hash(r.last, op, len);
            CHECK(fm_buf_append(hashes, r.last, FM_HASH_LEN));
        }
        r.n++;
        lens[k - 1]++;
    }
    *nlens = k;
    return FM_OK;
}

int fm_compact_encode(struct fm_compact *z, uint8_t version, const uint8_t *plain,
                      size_t plain_len, bool give_prev, bool use_dict, struct fm_buf *out)
{
    struct fm_wire_msg m;
    struct enc_run r = {.chained = z->chained};
    uint32_t nruns = 0;
    size_t pos = 0, len, nlens = 0;
    const uint8_t *op;
    uint16_t *lens = z->run_lens;
    if (version != FM_COMPACT_WIRE_VERSION && version != FM_COMPACT4_WIRE_VERSION)
        return FM_EINVAL;
    CHECK(fm_wire_decode(&m, plain, plain_len));
    if (m.type != FM_MSG_OPS)
        return FM_EINVAL;
    fm_buf_reset(&z->enc_hashes);
    if (version == FM_COMPACT4_WIRE_VERSION)
        CHECK(run_lengths(&m.u.ops, lens, FM_WIRE_BATCH_MAX, &nlens, &z->enc_hashes,
                          z->chained));
    size_t nop = 0;
    fm_buf_reset(&z->meta);
    fm_buf_reset(&z->raw);
    memset(z->run_authors, 0, sizeof(z->run_authors));
    while (fm_wire_ops_next(&m.u.ops, &pos, &op, &len)) {
        struct fm_op d;
        if (fm_op_decode(&d, op, len) != FM_OK || d.version != FM_OP_VERSION || d.flags != 0)
            return FM_EINVAL; /* not rebuildable from our fields: send it plain */
        uint8_t h[FM_HASH_LEN] = {0}; /* not needed when the chain is vouched for */
        if ((nop + 1) * FM_HASH_LEN <= z->enc_hashes.len)
            memcpy(h, z->enc_hashes.data + nop * FM_HASH_LEN, FM_HASH_LEN); /* run_lengths' */
        else if (!z->chained)
            fm_hash(h, op, len);
        nop++;
        uint16_t run_len = run_breaks(&r, &d) && nruns < nlens ? lens[nruns] : 0;
        CHECK(enc_op(z, &r, &d, h, give_prev, version, run_len, &nruns));
        CHECK(fm_buf_append(&z->raw, d.payload, d.payload_len));
    }
    if (r.author && version != FM_COMPACT4_WIRE_VERSION)
        put_be16(z->meta.data + r.count_at, r.n);
    fm_buf_reset(out);
    CHECK(fm_buf_put_u8(out, version));
    CHECK(fm_buf_put_u8(out, FM_MSG_COPS));
    CHECK(fm_buf_put_u8(out, m.u.ops.flags));
    CHECK(put_varint(out, m.u.ops.req_id));
    CHECK(put_varint(out, nruns));
    CHECK(fm_buf_append(out, z->meta.data, z->meta.len));
    CHECK(put_payloads(z, version, use_dict, out));
    return out->len > FM_WIRE_MAX_MSG ? FM_ETOOBIG : FM_OK;
}

/* -------------------------------------------------------------- decode */

struct dec_head {
    uint8_t flags;
    uint64_t req_id, nruns;
};

/* One run's fixed part. */
struct dec_run {
    const uint8_t *author, *prev; /* prev NULL when not given */
    bool short_author;            /* author holds only FM_COPS_AUTHOR_PREFIX bytes */
    uint64_t seq;
    uint16_t n;
};

static int dec_run_head(struct fm_cur *c, uint8_t version, struct dec_run *r)
{
    uint8_t rflags;
    if (version == FM_COMPACT4_WIRE_VERSION) {
        CHECK(fm_cur_u8(c, &rflags));
        if (rflags & ~(FM_COPS_PREV_GIVEN | FM_COPS_AUTHOR_SHORT))
            return FM_EDECODE;
        r->short_author = (rflags & FM_COPS_AUTHOR_SHORT) != 0;
        CHECK(fm_cur_bytes(c, r->short_author ? FM_COPS_AUTHOR_PREFIX : FM_PK_LEN, &r->author));
    } else {
        CHECK(fm_cur_bytes(c, FM_PK_LEN, &r->author));
        CHECK(fm_cur_u8(c, &rflags));
        if (rflags & ~FM_COPS_PREV_GIVEN)
            return FM_EDECODE;
        r->short_author = false;
    }
    r->prev = NULL;
    if (rflags & FM_COPS_PREV_GIVEN)
        CHECK(fm_cur_bytes(c, FM_HASH_LEN, &r->prev));
    CHECK(get_varint(c, &r->seq));
    if (version == FM_COMPACT4_WIRE_VERSION) {
        uint64_t n;
        CHECK(get_varint(c, &n));
        if (n > UINT16_MAX)
            return FM_EDECODE;
        r->n = (uint16_t)n;
    } else
        CHECK(fm_cur_u16(c, &r->n));
    if (r->seq == 0 || r->n == 0 || r->seq > UINT64_MAX - r->n)
        return FM_EDECODE;
    if (r->prev && r->seq == 1)
        return FM_EDECODE; /* seq 1 has no prev: one encoding */
    if (r->short_author && r->seq == 1)
        return FM_EDECODE; /* a short author only past seq 1 (one encoding) */
    return FM_OK;
}

struct dec_op {
    uint8_t kind;
    uint64_t hlc, plen;
    const uint8_t *sig;
};

static int dec_op(struct fm_cur *c, struct dec_op *o)
{
    CHECK(fm_cur_u8(c, &o->kind));
    CHECK(get_varint(c, &o->hlc));
    CHECK(get_varint(c, &o->plen));
    if (o->plen > FM_OP_MAX_PAYLOAD)
        return FM_ETOOBIG;
    return fm_cur_bytes(c, FM_SIG_LEN, &o->sig);
}

/* Pass 1: the runs are well formed, within the caps; *raw is the sum of
 * the payload lengths and *ops the number of ops. */
static int validate_runs(struct fm_cur *c, uint8_t version, uint64_t nruns, size_t *ops,
                         size_t *raw)
{
    size_t total = 0, bytes = 0;
    for (uint64_t k = 0; k < nruns; k++) {
        struct dec_run r;
        CHECK(dec_run_head(c, version, &r));
        if (r.n > FM_WIRE_BATCH_MAX - total)
            return FM_ETOOBIG;
        total += r.n;
        for (uint16_t j = 0; j < r.n; j++) {
            struct dec_op o;
            CHECK(dec_op(c, &o));
            bytes += o.plen;
            if (bytes > FM_COPS_MAX_RAW)
                return FM_ETOOBIG;
        }
    }
    *ops = total;
    *raw = bytes;
    return FM_OK;
}

/* The payload bytes, exactly raw_len of them, into z->dec (or borrowed
 * from the frame when sent as they are). */
static int dec_payloads(struct fm_compact *z, struct fm_cur *c, uint8_t version, size_t raw_len,
                        const uint8_t **payloads)
{
    uint8_t codec;
    size_t left;
    if (version != FM_COMPACT4_WIRE_VERSION) {
        uint64_t declared;
        CHECK(get_varint(c, &declared));
        if (declared != raw_len)
            return FM_EDECODE;
    }
    CHECK(fm_cur_u8(c, &codec));
    left = fm_cur_left(c);
    if (codec == FM_COPS_RAW) {
        if (left != raw_len)
            return FM_EDECODE;
        return fm_cur_bytes(c, left, payloads);
    }
    if ((codec != FM_COPS_ZSTD && codec != FM_COPS_ZDICT) || left == 0)
        return FM_EDECODE;
    const uint8_t *src;
    CHECK(fm_cur_bytes(c, left, &src));
    CHECK(zstd_ready(z, false));
    if (version == FM_COMPACT4_WIRE_VERSION) {
        /* the magic goes back on in front, so zstd reads a whole frame */
        if (left > FM_WIRE_MAX_MSG)
            return FM_ETOOBIG;
        if (!z->framed && !(z->framed = malloc(FM_WIRE_MAX_MSG + sizeof(zstd_magic))))
            return FM_ENOMEM;
        memcpy(z->framed, zstd_magic, sizeof(zstd_magic));
        memcpy(z->framed + sizeof(zstd_magic), src, left);
        src = z->framed;
        left += sizeof(zstd_magic);
    }
    unsigned long long fcs = ZSTD_getFrameContentSize(src, left);
    if (fcs == ZSTD_CONTENTSIZE_ERROR || fcs == ZSTD_CONTENTSIZE_UNKNOWN)
        return FM_EDECODE;
    if (fcs > FM_COPS_MAX_RAW)
        return FM_ETOOBIG;
    if (fcs != raw_len || ZSTD_findFrameCompressedSize(src, left) != left)
        return FM_EDECODE; /* one frame, of the size the runs say */
    /* Version 3: with the dictionary only when the frame names ours;
     * without it a frame that needs one fails. Version 4 frames name no
     * dictionary (one encoding): codec 2 means ours, which the sender
     * uses only when our VERSION named it. */
    ZSTD_DDict *dd = NULL;
    unsigned named = ZSTD_getDictID_fromFrame(src, left);
    if (version == FM_COMPACT4_WIRE_VERSION ? named != 0
                                           : codec == FM_COPS_ZDICT &&
                                                 named != fm_compact_dict_id())
        return FM_EDECODE;
    if (codec == FM_COPS_ZDICT && (fm_compact_dict_id() == 0 || !(dd = dict_ready(z, false))))
        return FM_EDECODE;
    /* the destination is given exactly raw_len: more is an error, not a write */
    size_t got = dd ? ZSTD_decompress_usingDDict(z->dctx, z->dec, raw_len, src, left, dd)
                    : ZSTD_decompressDCtx(z->dctx, z->dec, raw_len, src, left);
    if (ZSTD_isError(got) || got != raw_len)
        return FM_EDECODE;
    *payloads = z->dec;
    return FM_OK;
}

/* Writes one op (u32 len | op) into out; *prev gets its hash. */
static int put_op(struct fm_buf *out, const struct dec_run *r, uint64_t seq,
                  const uint8_t prev[FM_HASH_LEN], const struct dec_op *o, uint64_t hlc,
                  const uint8_t *payload, uint8_t hash_out[FM_HASH_LEN])
{
    size_t at = out->len;
    CHECK(fm_buf_put_u32(out, (uint32_t)(OP_FIXED + o->plen)));
    CHECK(fm_buf_put_u8(out, FM_OP_VERSION));
    CHECK(fm_buf_put_u8(out, o->kind));
    CHECK(fm_buf_put_u16(out, 0));
    CHECK(fm_buf_append(out, r->author, FM_PK_LEN));
    CHECK(fm_buf_put_u64(out, seq));
    CHECK(fm_buf_append(out, prev, FM_HASH_LEN));
    CHECK(fm_buf_put_u64(out, hlc));
    CHECK(fm_buf_put_u32(out, (uint32_t)o->plen));
    CHECK(fm_buf_append(out, payload, o->plen));
    CHECK(fm_buf_append(out, o->sig, FM_SIG_LEN));
    fm_hash(hash_out, out->data + at + 4, out->len - at - 4);
    return FM_OK;
}

/* Pass 2: rebuilds run by run; a run whose prev cannot be resolved is
 * skipped (its payloads still consumed). */
static int rebuild(struct fm_cur *c, uint8_t version, uint32_t req_id, uint64_t nruns,
                   const uint8_t *payloads,
                   const struct fm_compact_prev *cb, struct fm_buf *out,
                   struct fm_buf *hashes, uint32_t *count, size_t *skipped)
{
    size_t at = 0;
    for (uint64_t k = 0; k < nruns; k++) {
        struct dec_run r;
        uint8_t prev[FM_HASH_LEN], author[FM_PK_LEN];
        uint64_t hlc = 0;
        CHECK(dec_run_head(c, version, &r));
        bool skip = false;
        if (r.short_author) {
            /* the receiver's one author whose key starts so; none or two:
             * skipped, and anti-entropy brings the ops */
            skip = !cb || !cb->author ||
                   cb->author(cb->ctx, req_id, r.author, FM_COPS_AUTHOR_PREFIX, author) !=
                       FM_OK ||
                   memcmp(author, r.author, FM_COPS_AUTHOR_PREFIX) != 0;
            r.author = author;
        }
        if (skip)
            ;
        else if (r.prev)
            memcpy(prev, r.prev, FM_HASH_LEN);
        else if (r.seq == 1)
            memset(prev, 0, FM_HASH_LEN);
        else
            skip = !cb || cb->prev(cb->ctx, r.author, r.seq, r.seq + r.n - 1, prev) != FM_OK;
        for (uint16_t j = 0; j < r.n; j++) {
            struct dec_op o;
            CHECK(dec_op(c, &o));
            hlc = j == 0 ? o.hlc : hlc + unzigzag(o.hlc);
            if (skip)
                (*skipped)++;
            else {
                CHECK(put_op(out, &r, r.seq + j, prev, &o, hlc, payloads + at, prev));
                CHECK(fm_buf_append(hashes, prev, FM_HASH_LEN)); /* the op's own hash */
                (*count)++;
            }
            at += o.plen;
        }
    }
    return FM_OK;
}

int fm_compact_decode(struct fm_compact *z, const uint8_t *p, size_t n,
                      const struct fm_compact_prev *cb, struct fm_buf *out,
                      struct fm_wire_ops *o, size_t *skipped)
{
    struct fm_cur c;
    uint8_t ver, type, flags;
    uint64_t req_id, nruns;
    size_t nops, raw_len;
    const uint8_t *payloads = NULL;
    memset(o, 0, sizeof(*o));
    *skipped = 0;
    if (n > FM_WIRE_MAX_MSG)
        return FM_ETOOBIG;
    fm_cur_init(&c, p, n);
    CHECK(fm_cur_u8(&c, &ver));
    CHECK(fm_cur_u8(&c, &type));
    if ((ver != FM_COMPACT_WIRE_VERSION && ver != FM_COMPACT4_WIRE_VERSION) ||
        type != FM_MSG_COPS)
        return FM_EDECODE;
    CHECK(fm_cur_u8(&c, &flags));
    if (flags & ~(FM_OPS_REPLY | FM_OPS_TRUNCATED))
        return FM_EDECODE;
    CHECK(get_varint(&c, &req_id));
    CHECK(get_varint(&c, &nruns));
    if (req_id > UINT32_MAX)
        return FM_EDECODE;
    if (nruns > FM_WIRE_BATCH_MAX)
        return FM_ETOOBIG;
    struct fm_cur runs = c;
    CHECK(validate_runs(&c, ver, nruns, &nops, &raw_len));
    if (!(flags & FM_OPS_REPLY) && (flags || req_id || nops == 0))
        return FM_EDECODE; /* a push: no flags, no req_id, at least one op */
    /* the rebuilt batch must fit where a plain one would, header and all */
    if (PLAIN_HEADER + nops * (4 + OP_FIXED) + raw_len > FM_WIRE_MAX_MSG)
        return FM_ETOOBIG;
    CHECK(dec_payloads(z, &c, ver, raw_len, &payloads));
    fm_buf_reset(out);
    fm_buf_reset(&z->hashes);
    CHECK(rebuild(&runs, ver, (uint32_t)req_id, nruns, payloads, cb, out, &z->hashes, &o->count, skipped));
    o->flags = flags;
    o->req_id = (uint32_t)req_id;
    o->data = out->data;
    o->data_len = out->len;
    o->hashes = o->count > 0 ? z->hashes.data : NULL;
    return FM_OK;
}

size_t fm_compact_kinds(const uint8_t *p, size_t n, uint8_t *kinds, size_t max)
{
    struct fm_cur c;
    uint8_t hdr[3];
    uint64_t req_id, nruns;
    size_t got = 0;
    fm_cur_init(&c, p, n);
    if (fm_cur_copy(&c, hdr, 3) != FM_OK ||
        (hdr[0] != FM_COMPACT_WIRE_VERSION && hdr[0] != FM_COMPACT4_WIRE_VERSION) ||
        hdr[1] != FM_MSG_COPS || get_varint(&c, &req_id) != FM_OK ||
        get_varint(&c, &nruns) != FM_OK || nruns > FM_WIRE_BATCH_MAX)
        return 0;
    for (uint64_t k = 0; k < nruns; k++) {
        struct dec_run r;
        if (dec_run_head(&c, hdr[0], &r) != FM_OK)
            return 0;
        for (uint16_t j = 0; j < r.n; j++) {
            struct dec_op o;
            if (dec_op(&c, &o) != FM_OK)
                return 0;
            if (got < max)
                kinds[got++] = o.kind;
        }
    }
    return got;
}

/* ------------------------------------------------------------- VERSION */

int fm_compact_encode_version(struct fm_buf *out, uint8_t version, uint8_t depth)
{
    if (depth > 1 || (version != FM_COMPACT_WIRE_VERSION && version != FM_COMPACT4_WIRE_VERSION))
        return FM_EINVAL;
    fm_buf_reset(out);
    CHECK(fm_buf_put_u8(out, version));
    CHECK(fm_buf_put_u8(out, FM_MSG_VERSION));
    CHECK(fm_buf_put_u8(out, depth));
    return fm_buf_put_u32(out, fm_compact_dict_id());
}

int fm_compact_decode_version(const uint8_t *p, size_t n, uint8_t *version, uint8_t *depth,
                              uint32_t *dict_id)
{
    if (n != 7 || (p[0] != FM_COMPACT_WIRE_VERSION && p[0] != FM_COMPACT4_WIRE_VERSION) ||
        p[1] != FM_MSG_VERSION || p[2] > 1)
        return FM_EDECODE;
    *version = p[0];
    *depth = p[2];
    *dict_id = fm_be32_get(p + 3);
    return FM_OK;
}
