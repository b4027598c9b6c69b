/*
 * cert.c — roles, enrolment certificates and revocations signed by the
 * organisation root key: binary encoding, strict decoding, signing,
 * checking and the small text files the CLI passes around.
 *
 * Certificate encoding (integers big-endian), 150..659 bytes:
 *   u8 version (=1) | org[32] | node[32] | u8 role (1..5) | u8 tier (0..3) |
 *   u8 name_len (1..255) | name | u8 unit_len (0..255) | unit |
 *   u64 not_before_ms | u64 expires_ms | sig[64]
 * Revocation encoding, exactly 177 bytes (version 2) or 145 (version 1):
 *   u8 version (=2) | org[32] | node[32] | u64 last_seq | head[32] |
 *   u64 issued_ms | sig[64]
 * where head is the hash of the revoked node's op at last_seq (zeros when
 * last_seq is 0): it names exactly which history stays valid, so a fork
 * the revoked key signs below last_seq can never replace it. Version 1
 * (no head) is still read; it limits the seq only.
 *
 * sig = Ed25519(org, DOMAIN || every byte before sig), where DOMAIN is the
 * ASCII text "fieldmesh-cert-v1" or "fieldmesh-revocation-v1" (no NUL).
 * The prefix separates the three things the root or a node ever signs: an
 * op's signed bytes start with its version byte 0x01, these start with 'f',
 * and the two prefixes differ, so no signature can be replayed as another
 * kind of object.
 *
 * Strings are printable UTF-8 (shortest form, no C0/C1 controls, DEL or
 * NUL); name is required and a name (fm_name_ok: at most 64 characters);
 * unit is a unit's name, its stable id or "dept:" and a department's name.
 * Builds before op format 7 took at most 63 bytes of each and refuse a
 * longer one, so a node whose name is longer is admitted only by nodes of
 * op format 7 and later. A certificate is valid at time t iff
 * not_before_ms <= t < expires_ms. Decoding is strict: exact length, known
 * version and role, tier 0..3, not_before <= expires, valid strings — so a
 * decoded object re-encodes to the same bytes.
 *
 * Files: "fieldmesh-cert 1\n<base64>\n" and
 * "fieldmesh-revocation 1\n<base64>\n" (standard base64, padded).
 */
#include "crypto_int.h"

#include <string.h>

#define CERT_VERSION 1
#define REV_VERSION 2
#define REV_VERSION_NOHEAD 1
#define CERT_DOMAIN "fieldmesh-cert-v1"
#define REV_DOMAIN "fieldmesh-revocation-v1"
#define CERT_MAGIC "fieldmesh-cert 1"
#define REV_MAGIC "fieldmesh-revocation 1"
#define STR_MAX (FM_NAME_MAX - 1) /* 255: what a u8 length holds */
#define REV_LEN_V1 (1 + 2 * FM_PK_LEN + 8 + 8 + FM_SIG_LEN)
#define REV_LEN (REV_LEN_V1 + FM_HASH_LEN)
/* Room for the domain prefix in front of the longest body. */
#define SIGNED_MAX (FM_CERT_MAX + 32)

static const char *const role_names[] = {"none", "centre", "county", "station", "vehicle",
                                         "admin"};

const char *fm_role_name(enum fm_role r)
{
    if ((int)r < (int)FM_ROLE_CENTRE || r > FM_ROLE_ADMIN)
        return "?";
    return role_names[r];
}

int fm_role_parse(const char *s, enum fm_role *out)
{
    if (s == NULL)
        return FM_EINVAL;
    for (int r = FM_ROLE_CENTRE; r <= FM_ROLE_ADMIN; r++) {
        if (strcmp(s, role_names[r]) == 0) {
            *out = (enum fm_role)r;
            return FM_OK;
        }
    }
    return FM_EINVAL;
}

/* A fixed-capacity writer for the signed message: no allocation, so
 * signing cannot fail for want of memory. */
struct wr {
    uint8_t *p;
    size_t len, cap;
    bool overflow;
};

static void wr_bytes(struct wr *w, const void *src, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void wr_u8(struct wr *w, uint8_t v) { wr_bytes(w, &v, 1); }

static void wr_u64(struct wr *w, uint64_t v)
{
    uint8_t t[8];
    fm_be64_put(t, v);
    wr_bytes(w, t, sizeof t);
}

/* Length of a NUL-terminated string inside a FM_NAME_MAX array, or
 * FM_NAME_MAX if it is not terminated. */
static size_t field_len(const char s[FM_NAME_MAX])
{
    const char *nul = memchr(s, '\0', FM_NAME_MAX);
    return nul ? (size_t)(nul - s) : FM_NAME_MAX;
}

static bool cert_fields_valid(const struct fm_cert *c)
{
    size_t nl = field_len(c->name), ul = field_len(c->unit);
    return (int)c->role >= (int)FM_ROLE_CENTRE && c->role <= FM_ROLE_ADMIN && c->tier <= 3 &&
           nl <= STR_MAX && ul <= STR_MAX && fm_name_ok((const uint8_t *)c->name, nl) &&
           fm_text_printable((const uint8_t *)c->unit, ul) && c->not_before_ms <= c->expires_ms;
}

/* Writes [domain] || body (everything before sig). */
static int cert_body(const struct fm_cert *c, bool with_domain, uint8_t *out, size_t cap,
                     size_t *len)
{
    if (!cert_fields_valid(c))
        return FM_EINVAL;
    struct wr w = {out, 0, cap, false};
    if (with_domain)
        wr_bytes(&w, CERT_DOMAIN, sizeof CERT_DOMAIN - 1);
    size_t nl = field_len(c->name), ul = field_len(c->unit);
    wr_u8(&w, CERT_VERSION);
    wr_bytes(&w, c->org, FM_PK_LEN);
    wr_bytes(&w, c->node, FM_PK_LEN);
    wr_u8(&w, (uint8_t)c->role);
    wr_u8(&w, c->tier);
    wr_u8(&w, (uint8_t)nl);
    wr_bytes(&w, c->name, nl);
    wr_u8(&w, (uint8_t)ul);
    wr_bytes(&w, c->unit, ul);
    wr_u64(&w, c->not_before_ms);
    wr_u64(&w, c->expires_ms);
    if (w.overflow)
        return FM_ETOOBIG;
    *len = w.len;
    return FM_OK;
}

void fm_cert_sign(struct fm_cert *cert, const struct fm_identity *root)
{
    uint8_t msg[SIGNED_MAX];
    size_t len;
    memcpy(cert->org, root->pk, FM_PK_LEN);
    if (cert_body(cert, true, msg, sizeof msg, &len) != FM_OK) {
        /* Invalid fields: leave a signature that can never verify. */
        memset(cert->sig, 0, FM_SIG_LEN);
        return;
    }
    fm_sign(root, msg, len, cert->sig);
}

int fm_cert_encode(const struct fm_cert *cert, struct fm_buf *out)
{
    uint8_t body[FM_CERT_MAX];
    size_t len;
    int rc = cert_body(cert, false, body, sizeof body, &len);
    if (rc != FM_OK)
        return rc;
    rc = fm_buf_append(out, body, len);
    if (rc == FM_OK)
        rc = fm_buf_append(out, cert->sig, FM_SIG_LEN);
    return rc;
}

/* Reads u8 length + string into a FM_NAME_MAX field; min 1: a name
 * (fm_name_ok). */
static int cur_string(struct fm_cur *c, char dst[FM_NAME_MAX], size_t min)
{
    uint8_t n;
    const uint8_t *p;
    int rc = fm_cur_u8(c, &n);
    if (rc != FM_OK)
        return rc;
    if (n < min) /* a u8 length is at most STR_MAX */
        return FM_EDECODE;
    rc = fm_cur_bytes(c, n, &p);
    if (rc != FM_OK)
        return rc;
    if (!fm_text_printable(p, n) || (min > 0 && !fm_name_ok(p, n)))
        return FM_EDECODE;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return FM_OK;
}

static int cert_decode_fields(struct fm_cert *cert, struct fm_cur *c)
{
    uint8_t version, role, tier;
    if (fm_cur_u8(c, &version) || version != CERT_VERSION)
        return FM_EDECODE;
    if (fm_cur_copy(c, cert->org, FM_PK_LEN) || fm_cur_copy(c, cert->node, FM_PK_LEN))
        return FM_EDECODE;
    if (fm_cur_u8(c, &role) || role < FM_ROLE_CENTRE || role > FM_ROLE_ADMIN)
        return FM_EDECODE;
    cert->role = (enum fm_role)role;
    if (fm_cur_u8(c, &tier) || tier > 3)
        return FM_EDECODE;
    cert->tier = tier;
    if (cur_string(c, cert->name, 1) || cur_string(c, cert->unit, 0))
        return FM_EDECODE;
    if (fm_cur_u64(c, &cert->not_before_ms) || fm_cur_u64(c, &cert->expires_ms))
        return FM_EDECODE;
    if (cert->not_before_ms > cert->expires_ms)
        return FM_EDECODE;
    if (fm_cur_copy(c, cert->sig, FM_SIG_LEN) || fm_cur_left(c) != 0)
        return FM_EDECODE;
    return FM_OK;
}

int fm_cert_decode(struct fm_cert *cert, const uint8_t *p, size_t n)
{
    memset(cert, 0, sizeof *cert);
    if (p == NULL || n > FM_CERT_MAX)
        return FM_EDECODE;
    struct fm_cur c;
    fm_cur_init(&c, p, n);
    int rc = cert_decode_fields(cert, &c);
    if (rc != FM_OK)
        memset(cert, 0, sizeof *cert);
    return rc;
}

int fm_cert_check(const struct fm_cert *cert, const uint8_t org[FM_PK_LEN], uint64_t at_ms)
{
    if (memcmp(cert->org, org, FM_PK_LEN) != 0)
        return FM_EFOREIGN;
    uint8_t msg[SIGNED_MAX];
    size_t len;
    if (cert_body(cert, true, msg, sizeof msg, &len) != FM_OK)
        return FM_EVERIFY;
    if (!fm_verify(org, msg, len, cert->sig))
        return FM_EVERIFY;
    if (at_ms < cert->not_before_ms || at_ms >= cert->expires_ms)
        return FM_EEXPIRED;
    return FM_OK;
}

/* ---- revocations ---- */

static void rev_body(const struct fm_revocation *r, bool with_domain, struct wr *w)
{
    if (with_domain)
        wr_bytes(w, REV_DOMAIN, sizeof REV_DOMAIN - 1);
    wr_u8(w, r->has_head ? REV_VERSION : REV_VERSION_NOHEAD);
    wr_bytes(w, r->org, FM_PK_LEN);
    wr_bytes(w, r->node, FM_PK_LEN);
    wr_u64(w, r->last_seq);
    if (r->has_head)
        wr_bytes(w, r->head, FM_HASH_LEN);
    wr_u64(w, r->issued_ms);
}

void fm_revocation_sign(struct fm_revocation *rev, const struct fm_identity *root)
{
    uint8_t msg[SIGNED_MAX];
    struct wr w = {msg, 0, sizeof msg, false};
    memcpy(rev->org, root->pk, FM_PK_LEN);
    rev_body(rev, true, &w);
    fm_sign(root, msg, w.len, rev->sig);
}

int fm_revocation_encode(const struct fm_revocation *rev, struct fm_buf *out)
{
    uint8_t body[REV_LEN];
    struct wr w = {body, 0, sizeof body, false};
    rev_body(rev, false, &w);
    wr_bytes(&w, rev->sig, FM_SIG_LEN);
    return fm_buf_append(out, body, w.len);
}

int fm_revocation_decode(struct fm_revocation *rev, const uint8_t *p, size_t n)
{
    static const uint8_t no_head[FM_HASH_LEN];
    memset(rev, 0, sizeof *rev);
    if (p == NULL || (n != REV_LEN && n != REV_LEN_V1))
        return FM_EDECODE;
    struct fm_cur c;
    fm_cur_init(&c, p, n);
    uint8_t version;
    if (fm_cur_u8(&c, &version) ||
        version != (n == REV_LEN ? REV_VERSION : REV_VERSION_NOHEAD))
        return FM_EDECODE;
    rev->has_head = version == REV_VERSION;
    if (fm_cur_copy(&c, rev->org, FM_PK_LEN) || fm_cur_copy(&c, rev->node, FM_PK_LEN) ||
        fm_cur_u64(&c, &rev->last_seq) ||
        (rev->has_head && fm_cur_copy(&c, rev->head, FM_HASH_LEN)) ||
        fm_cur_u64(&c, &rev->issued_ms) ||
        fm_cur_copy(&c, rev->sig, FM_SIG_LEN) || fm_cur_left(&c) != 0 ||
        (rev->has_head && rev->last_seq == 0 && memcmp(rev->head, no_head, FM_HASH_LEN) != 0)) {
        memset(rev, 0, sizeof *rev);
        return FM_EDECODE;
    }
    return FM_OK;
}

int fm_revocation_check(const struct fm_revocation *rev, const uint8_t org[FM_PK_LEN])
{
    if (memcmp(rev->org, org, FM_PK_LEN) != 0)
        return FM_EFOREIGN;
    uint8_t msg[SIGNED_MAX];
    struct wr w = {msg, 0, sizeof msg, false};
    rev_body(rev, true, &w);
    return fm_verify(org, msg, w.len, rev->sig) ? FM_OK : FM_EVERIFY;
}

/* ---- files ---- */

static int write_wrapped(const char *path, const char *magic, const struct fm_buf *bin)
{
    struct fm_buf text;
    fm_buf_init(&text, FM_CERT_FILE_MAX);
    int rc = fm_text_wrap(&text, magic, bin->data, bin->len);
    if (rc == FM_OK)
        rc = fm_file_write(path, text.data, text.len, 0644, false);
    fm_buf_release(&text);
    return rc;
}

static int read_wrapped(const char *path, const char *magic, uint8_t *bin, size_t cap,
                        size_t *len)
{
    uint8_t text[FM_CERT_FILE_MAX];
    size_t tlen = 0;
    int rc = fm_file_read_small(path, text, sizeof text, &tlen, false);
    if (rc == FM_ETOOBIG)
        return FM_EDECODE;
    if (rc != FM_OK)
        return rc;
    return fm_text_unwrap(text, tlen, magic, bin, cap, len);
}

int fm_cert_write_file(const struct fm_cert *cert, const char *path)
{
    struct fm_buf bin;
    fm_buf_init(&bin, FM_CERT_MAX);
    int rc = fm_cert_encode(cert, &bin);
    if (rc == FM_OK)
        rc = write_wrapped(path, CERT_MAGIC, &bin);
    fm_buf_release(&bin);
    return rc;
}

int fm_cert_read_file(struct fm_cert *cert, const char *path)
{
    uint8_t bin[FM_CERT_MAX];
    size_t len = 0;
    memset(cert, 0, sizeof *cert);
    int rc = read_wrapped(path, CERT_MAGIC, bin, sizeof bin, &len);
    if (rc != FM_OK)
        return rc;
    return fm_cert_decode(cert, bin, len);
}

int fm_revocation_write_file(const struct fm_revocation *rev, const char *path)
{
    struct fm_buf bin;
    fm_buf_init(&bin, FM_CERT_MAX);
    int rc = fm_revocation_encode(rev, &bin);
    if (rc == FM_OK)
        rc = write_wrapped(path, REV_MAGIC, &bin);
    fm_buf_release(&bin);
    return rc;
}

int fm_revocation_read_file(struct fm_revocation *rev, const char *path)
{
    uint8_t bin[FM_CERT_MAX];
    size_t len = 0;
    memset(rev, 0, sizeof *rev);
    int rc = read_wrapped(path, REV_MAGIC, bin, sizeof bin, &len);
    if (rc != FM_OK)
        return rc;
    return fm_revocation_decode(rev, bin, len);
}
