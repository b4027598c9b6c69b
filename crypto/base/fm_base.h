/*
 * fm_base.h — the few things every layer shares: error codes, logging,
 * clocks, bounded byte buffers, a strict read cursor for untrusted bytes,
 * strict number parsing, and the one bounded file reader and durable
 * file writer.
 *
 * It is not cryptography: it lives in crypto/base/, its own library
 * (fm_base), under the bottom layer (cli -> node -> sync -> crypto -> base)
 * so everything may include it. Nothing here touches a dependency.
 */
#ifndef FM_BASE_H
#define FM_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FM_MUST_USE __attribute__((warn_unused_result))
#define FM_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- Errors: 0 is success, every failure is one of these negatives. ---- */
enum fm_err {
    FM_OK = 0,
    FM_ENOMEM = -1,     /* allocation failed */
    FM_EINVAL = -2,     /* bad argument from the caller or the user */
    FM_EDECODE = -3,    /* malformed bytes: truncated, trailing, bad field */
    FM_ETOOBIG = -4,    /* a length beyond its named maximum */
    FM_EVERIFY = -5,    /* a signature or MAC does not verify */
    FM_ECHAIN = -6,     /* prev hash does not match the author's head */
    FM_EGAP = -7,       /* seq is not head+1: an op is missing before it */
    FM_ECERT = -8,      /* author's log does not start with a valid cert */
    FM_EFOREIGN = -9,   /* certificate from another organisation */
    FM_EEXPIRED = -10,  /* certificate not valid at that time */
    FM_EREVOKED = -11,  /* author revoked at or before this seq */
    FM_EDUP = -12,      /* op already stored (not an error for sync) */
    FM_EFORK = -13,     /* same author and seq, different op */
    FM_EPERM = -14,     /* role may not do this / file permissions wrong */
    FM_EIO = -15,       /* file system error (see errno) */
    FM_ESTORE = -16,    /* LMDB error */
    FM_EMAPFULL = -17,  /* LMDB map full and could not grow */
    FM_ENOTFOUND = -18, /* no such entity / id / file */
    FM_EAMBIGUOUS = -19,/* id prefix matches more than one entity */
    FM_EEXISTS = -20,   /* refusing to overwrite */
    FM_ECONFIG = -21,   /* configuration error */
    FM_ENET = -22,      /* transport error */
    FM_ETIMEOUT = -23,  /* gave up waiting */
    FM_EKEYPERM = -24,  /* secret key file readable by group or others */
    FM_ESTATE = -25,    /* operation not valid in the entity's state */
    FM_EUNIT = -26,     /* a station or vehicle acting on a unit its certificate does not name */
    FM_ECLOSED = -27,   /* the incident is resolved or closed: reopen it first */
    /* keys and data at rest (docs/security.md); numbered apart to ease merges */
    FM_EPASSPHRASE = -40, /* a sealed key file did not open: wrong passphrase or key file */
    FM_ELOCKED = -41,   /* no passphrase available (no daemon, file or terminal) */
    FM_EPLAIN = -42,    /* a key or store written before encryption at rest */
    FM_ESHREDDED = -43, /* the data key was destroyed: the store cannot be read */
    FM_ETAMPER = -44,   /* a stored value failed authentication (moved or altered) */
    FM_ENOKEY = -45,    /* no dispatcher key held here: a caller cannot be sealed */
};

/* Static English text for an fm_err (or "unknown error"). Never NULL. */
const char *fm_strerror(int err);

/* ---- Logging: one line per event to stderr, "LEVEL component: text". ---- */
enum fm_log_level { FM_LOG_ERROR = 0, FM_LOG_WARN, FM_LOG_INFO, FM_LOG_DEBUG };

void fm_log_set_level(enum fm_log_level lvl);
enum fm_log_level fm_log_get_level(void);
/* "error" | "warn" | "info" | "debug" -> level; returns FM_EINVAL otherwise. */
int fm_log_parse_level(const char *s, enum fm_log_level *out) FM_MUST_USE;
/* The level is checked before any formatting happens. */
void fm_log(enum fm_log_level lvl, const char *component, const char *fmt, ...)
    FM_PRINTF(3, 4);
/* Same, but at most `burst` lines per 10 s for this `limiter`; suppressed
 * lines are counted and reported with the next line that passes. Use for
 * anything a remote peer can trigger. `limiter` must be zero-initialised
 * and outlive the calls (typically a static). */
struct fm_log_limiter { uint64_t window_start_ms; uint32_t in_window, suppressed; };
void fm_log_limited(struct fm_log_limiter *limiter, uint32_t burst,
                    enum fm_log_level lvl, const char *component,
                    const char *fmt, ...) FM_PRINTF(5, 6);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME) and a monotonic clock. */
uint64_t fm_now_ms(void);
uint64_t fm_mono_ms(void);
/* This node's wall clock as it stamps ops and tells peers: fm_now_ms()
 * plus the test-only $FM_TEST_CLOCK_OFFSET_MS (signed ms, read once), so
 * a test can play a node whose clock is wrong. The HLC (node) and the
 * SUMMARY clock (sync) both read this one; 0 if the offset goes below. */
uint64_t fm_wall_ms(void);

/* ---- Growable buffer with a hard cap. ---- */
struct fm_buf {
    uint8_t *data;
    size_t len, cap;
    size_t max; /* appending past max fails with FM_ETOOBIG */
};
void fm_buf_init(struct fm_buf *b, size_t max);
void fm_buf_release(struct fm_buf *b); /* frees data; b may be reused after init */
void fm_buf_reset(struct fm_buf *b);   /* len = 0, keeps memory */
int fm_buf_append(struct fm_buf *b, const void *p, size_t n) FM_MUST_USE;
int fm_buf_put_u8(struct fm_buf *b, uint8_t v) FM_MUST_USE;
int fm_buf_put_u16(struct fm_buf *b, uint16_t v) FM_MUST_USE; /* big-endian */
int fm_buf_put_u32(struct fm_buf *b, uint32_t v) FM_MUST_USE;
int fm_buf_put_u64(struct fm_buf *b, uint64_t v) FM_MUST_USE;

/* ---- Strict cursor over untrusted bytes. Every getter checks the
 * remaining length first and returns FM_EDECODE when short. ---- */
struct fm_cur {
    const uint8_t *pos, *end;
};
static inline void fm_cur_init(struct fm_cur *c, const void *p, size_t n)
{
    c->pos = (const uint8_t *)p;
    c->end = c->pos + n;
}
static inline size_t fm_cur_left(const struct fm_cur *c) { return (size_t)(c->end - c->pos); }
int fm_cur_u8(struct fm_cur *c, uint8_t *v) FM_MUST_USE;
int fm_cur_u16(struct fm_cur *c, uint16_t *v) FM_MUST_USE;
int fm_cur_u32(struct fm_cur *c, uint32_t *v) FM_MUST_USE;
int fm_cur_u64(struct fm_cur *c, uint64_t *v) FM_MUST_USE;
/* Borrow n bytes (pointer into the input, valid as long as the input). */
int fm_cur_bytes(struct fm_cur *c, size_t n, const uint8_t **p) FM_MUST_USE;
int fm_cur_copy(struct fm_cur *c, void *dst, size_t n) FM_MUST_USE;

/* Big-endian helpers for fixed-layout keys. */
void fm_be64_put(uint8_t out[8], uint64_t v);
uint64_t fm_be64_get(const uint8_t in[8]);
void fm_be32_put(uint8_t out[4], uint32_t v);
uint32_t fm_be32_get(const uint8_t in[4]);

/* Bounded string copy: always NUL-terminates when cap > 0; returns
 * FM_ETOOBIG (after copying a truncated prefix) if src did not fit. */
int fm_strlcpy(char *dst, const char *src, size_t cap);
/* The length (2..4) of the well-formed UTF-8 sequence for a non-ASCII
 * code point at s[0..n): not overlong, no surrogate, at most U+10FFFF,
 * and not a C1 control (U+0080..U+009F); 0 otherwise (ASCII included:
 * callers judge ASCII by their own rules). */
size_t fm_utf8_seq(const uint8_t *s, size_t n);
/* Characters (code points) in s[0..n), counting UTF-8 lead bytes. */
size_t fm_utf8_chars(const char *s, size_t n);

/* A name (of a node, unit, department, county, kind, depot, ...) is 1 to
 * FM_NAME_CHARS characters of printable UTF-8 and at most FM_NAME_MAX - 1
 * bytes: 64 Chinese characters are 192 bytes. Before op format 7 a name was
 * at most FM_NAME_V1_MAX bytes (about 21 Chinese characters), and builds
 * from before then refuse a longer one (docs/decisions.md). */
#define FM_NAME_CHARS 64
#define FM_NAME_MAX 256   /* bytes, including NUL */
#define FM_NAME_V1_MAX 63 /* bytes, the cap of builds before op format 7 */


/* Strict integer parsing of a whole string (no trailing junk, range checked). */
int fm_parse_u64(const char *s, uint64_t *out) FM_MUST_USE;
int fm_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) FM_MUST_USE;
int fm_parse_double(const char *s, double min, double max, double *out) FM_MUST_USE;

/* ---- Files (file.c): the one bounded reader and the one durable writer.
 * On FM_EIO errno still says why. ---- */

/* Creates dir and each missing parent with mode 0700 (like mkdir -p).
 * 0, FM_ETOOBIG for a path of FM_BASE_PATH_MAX bytes or more, FM_EIO. */
#define FM_BASE_PATH_MAX 512
int fm_mkdirs(const char *dir) FM_MUST_USE;

/* Reads a whole regular file of at most `max` bytes into `out` (which must
 * hold max bytes). FM_ENOTFOUND if missing, FM_ETOOBIG if longer than max,
 * FM_EIO otherwise. If `private_only`, refuses with FM_EKEYPERM when the
 * file's mode has any group/other bit. */
int fm_file_read_small(const char *path, uint8_t *out, size_t max, size_t *len,
                       bool private_only) FM_MUST_USE;

/* Reads a whole file of at most `max` bytes into a malloc'd buffer the
 * caller frees; a NUL follows the *len bytes, so text can be parsed as a
 * string. FM_ENOTFOUND, FM_ETOOBIG (longer than max), FM_ENOMEM, FM_EIO. */
int fm_file_read_alloc(const char *path, size_t max, char **out, size_t *len) FM_MUST_USE;

/* Writes data to path durably: the file is fsynced, and so is its
 * directory once the name exists. With `exclusive`, path is created with
 * O_EXCL (FM_EEXISTS if present) and removed again if the write fails;
 * otherwise a temporary file next to it is written and renamed over it,
 * so readers see the old file or the new one, never half of one. */
int fm_file_write(const char *path, const void *data, size_t len, mode_t mode,
                  bool exclusive) FM_MUST_USE;

/* Appends data to path (created with `mode` if missing) and fsyncs it
 * (and its directory when it was created). 0 or FM_EIO. */
int fm_file_append(const char *path, const void *data, size_t len, mode_t mode) FM_MUST_USE;

#endif
