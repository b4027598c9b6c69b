/*
 * base.c — the shared base every layer links against: error strings,
 * clocks, big-endian helpers, the capped growable buffer, the strict read
 * cursor for untrusted bytes, bounded string copy and strict number parsing.
 *
 * The idea: every length check happens in exactly one place. A decoder
 * never compares pointers after adding a length (which can overflow); it
 * asks the cursor, which compares the remaining length against n. A buffer
 * never grows past its named maximum. Number parsing accepts a whole string
 * or nothing: FM_EINVAL for empty input or junk, FM_ETOOBIG for a number
 * that does not fit its type or its [min, max] range.
 * Logging lives in log.c, files on disk in file.c.
 */
#include "fm_base.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *fm_strerror(int err)
{
    switch (err) {
    case FM_OK: return "success";
    case FM_ENOMEM: return "out of memory";
    case FM_EINVAL: return "invalid argument";
    case FM_EDECODE: return "malformed data";
    case FM_ETOOBIG: return "too large";
    case FM_EVERIFY: return "signature does not verify";
    case FM_ECHAIN: return "prev hash does not match the author's head";
    case FM_EGAP: return "op missing before this seq";
    case FM_ECERT: return "author's log does not start with a valid certificate";
    case FM_EFOREIGN: return "certificate from another organisation";
    case FM_EEXPIRED: return "certificate not valid at that time";
    case FM_EREVOKED: return "author revoked";
    case FM_EDUP: return "op already stored";
    case FM_EFORK: return "conflicting op for the same author and seq";
    case FM_EPERM: return "permission denied";
    case FM_EIO: return "input/output error";
    case FM_ESTORE: return "storage error";
    case FM_EMAPFULL: return "storage map full";
    case FM_ENOTFOUND: return "not found";
    case FM_EAMBIGUOUS: return "ambiguous id prefix";
    case FM_EEXISTS: return "already exists";
    case FM_ECONFIG: return "configuration error";
    case FM_ENET: return "network error";
    case FM_ETIMEOUT: return "timed out";
    case FM_EKEYPERM: return "secret key file is readable by group or others";
    case FM_ESTATE: return "not allowed in the current state";
    case FM_EUNIT: return "the author's certificate names another unit";
    case FM_ECLOSED: return "the incident is resolved or closed";
    case FM_EPASSPHRASE: return "wrong passphrase or key file";
    case FM_ELOCKED: return "no passphrase available to unlock the node's keys";
    case FM_EPLAIN: return "written before encryption at rest (not sealed)";
    case FM_ESHREDDED: return "the data key was destroyed: the store cannot be read";
    case FM_ETAMPER: return "a stored value failed authentication";
    case FM_ENOKEY: return "this node holds no dispatcher key";
    default: return "unknown error";
    }
}

/* ---- clocks ---- */

static uint64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t fm_now_ms(void) { return clock_ms(CLOCK_REALTIME); }
uint64_t fm_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

uint64_t fm_wall_ms(void)
{
    static int loaded;
    static int64_t offset;
    if (!loaded) {
        const char *e = getenv("FM_TEST_CLOCK_OFFSET_MS");
        int64_t v;
        if (e && e[0] && fm_parse_i64(e, -INT64_C(864000000000), INT64_C(864000000000), &v) == FM_OK)
            offset = v;
        loaded = 1;
    }
    uint64_t now = fm_now_ms();
    if (offset < 0 && (uint64_t)(-offset) > now)
        return 0;
    return now + (uint64_t)offset;
}

/* ---- big-endian helpers ---- */

void fm_be64_put(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xffu);
        v >>= 8;
    }
}

uint64_t fm_be64_get(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

void fm_be32_put(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

uint32_t fm_be32_get(const uint8_t in[4])
{
    return ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) | in[3];
}

/* ---- capped buffer ---- */

void fm_buf_init(struct fm_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void fm_buf_release(struct fm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void fm_buf_reset(struct fm_buf *b) { b->len = 0; }

/* Makes room for n more bytes, growing geometrically but never past max. */
static int buf_reserve(struct fm_buf *b, size_t n)
{
    if (b->len > b->max || n > b->max - b->len)
        return FM_ETOOBIG;
    size_t need = b->len + n;
    if (need <= b->cap)
        return FM_OK;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (ncap > b->max)
        ncap = b->max;
    uint8_t *nd = realloc(b->data, ncap);
    if (!nd)
        return FM_ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return FM_OK;
}

int fm_buf_append(struct fm_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return FM_OK;
    int rc = buf_reserve(b, n);
    if (rc != FM_OK)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return FM_OK;
}

int fm_buf_put_u8(struct fm_buf *b, uint8_t v) { return fm_buf_append(b, &v, 1); }

int fm_buf_put_u16(struct fm_buf *b, uint16_t v)
{
    uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return fm_buf_append(b, t, sizeof t);
}

int fm_buf_put_u32(struct fm_buf *b, uint32_t v)
{
    uint8_t t[4];
    fm_be32_put(t, v);
    return fm_buf_append(b, t, sizeof t);
}

int fm_buf_put_u64(struct fm_buf *b, uint64_t v)
{
    uint8_t t[8];
    fm_be64_put(t, v);
    return fm_buf_append(b, t, sizeof t);
}

/* ---- strict cursor ---- */

int fm_cur_bytes(struct fm_cur *c, size_t n, const uint8_t **p)
{
    if ((size_t)(c->end - c->pos) < n)
        return FM_EDECODE;
    *p = c->pos;
    c->pos += n;
    return FM_OK;
}

int fm_cur_copy(struct fm_cur *c, void *dst, size_t n)
{
    const uint8_t *p;
    int rc = fm_cur_bytes(c, n, &p);
    if (rc != FM_OK)
        return rc;
    if (n)
        memcpy(dst, p, n);
    return FM_OK;
}

int fm_cur_u8(struct fm_cur *c, uint8_t *v)
{
    const uint8_t *p;
    int rc = fm_cur_bytes(c, 1, &p);
    if (rc == FM_OK)
        *v = p[0];
    return rc;
}

int fm_cur_u16(struct fm_cur *c, uint16_t *v)
{
    const uint8_t *p;
    int rc = fm_cur_bytes(c, 2, &p);
    if (rc == FM_OK)
        *v = (uint16_t)(((unsigned)p[0] << 8) | p[1]);
    return rc;
}

int fm_cur_u32(struct fm_cur *c, uint32_t *v)
{
    const uint8_t *p;
    int rc = fm_cur_bytes(c, 4, &p);
    if (rc == FM_OK)
        *v = fm_be32_get(p);
    return rc;
}

int fm_cur_u64(struct fm_cur *c, uint64_t *v)
{
    const uint8_t *p;
    int rc = fm_cur_bytes(c, 8, &p);
    if (rc == FM_OK)
        *v = fm_be64_get(p);
    return rc;
}

/* ---- strings and numbers ---- */

size_t fm_utf8_seq(const uint8_t *s, size_t n)
{
    size_t len;
    uint32_t cp, lowest;
    if (n == 0)
        return 0;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, cp = s[0] & 0x1f, lowest = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, cp = s[0] & 0x0f, lowest = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, cp = s[0] & 0x07, lowest = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3f);
    }
    if (cp < lowest || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return len;
}

size_t fm_utf8_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    return chars;
}

int fm_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (cap == 0)
        return FM_ETOOBIG;
    if (n < cap) {
        memcpy(dst, src, n + 1);
        return FM_OK;
    }
    memcpy(dst, src, cap - 1);
    dst[cap - 1] = '\0';
    return FM_ETOOBIG;
}

/* Digits only, at least one; accumulates with an overflow check. */
static int parse_digits(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0')
        return FM_EINVAL;
    uint64_t v = 0;
    bool overflow = false;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return FM_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (overflow)
        return FM_ETOOBIG;
    *out = v;
    return FM_OK;
}

int fm_parse_u64(const char *s, uint64_t *out)
{
    return parse_digits(s, out);
}

int fm_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (s == NULL)
        return FM_EINVAL;
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    uint64_t mag;
    int rc = parse_digits(s, &mag);
    if (rc != FM_OK)
        return rc;
    int64_t v;
    if (neg) {
        if (mag > (uint64_t)INT64_MAX + 1u)
            return FM_ETOOBIG;
        v = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX)
            return FM_ETOOBIG;
        v = (int64_t)mag;
    }
    if (v < min || v > max)
        return FM_ETOOBIG;
    *out = v;
    return FM_OK;
}

/* Plain decimal only: [+-]digits[.digits][e[+-]digits]; no hex, inf, nan,
 * or surrounding spaces, which strtod would otherwise accept. */
int fm_parse_double(const char *s, double min, double max, double *out)
{
    if (s == NULL || *s == '\0')
        return FM_EINVAL;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t mant = 0;
    while (*p >= '0' && *p <= '9') { p++; mant++; }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') { p++; mant++; }
    }
    if (mant == 0)
        return FM_EINVAL;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        size_t ed = 0;
        while (*p >= '0' && *p <= '9') { p++; ed++; }
        if (ed == 0)
            return FM_EINVAL;
    }
    if (*p != '\0')
        return FM_EINVAL;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == NULL || *end != '\0')
        return FM_EINVAL;
    if (errno == ERANGE || !isfinite(v))
        return FM_ETOOBIG;
    if (!(v >= min && v <= max))
        return FM_ETOOBIG;
    *out = v;
    return FM_OK;
}
