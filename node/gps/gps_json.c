/*
 * gps_json.c — a strict decoder for the JSON objects gpsd sends.
 *
 * gpsd is a local daemon, but what it relays comes from a serial receiver
 * and a socket, so every byte is untrusted: one cursor walks one bounded
 * line, values are checked as they are read, nested members we do not use
 * are skipped with a depth cap, and numbers go through strtod only after
 * the JSON number grammar has been checked on a bounded copy. Of a report
 * we keep the class and, for TPV, the fix: mode, time, position, error
 * estimate, course and speed. Anything malformed is FM_EDECODE; the
 * caller drops the line and counts it.
 */
#include "gps_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct jcur {
    const char *pos, *end;
};

static void j_ws(struct jcur *c)
{
    while (c->pos < c->end &&
           (*c->pos == ' ' || *c->pos == '\t' || *c->pos == '\r' || *c->pos == '\n'))
        c->pos++;
}

static bool j_eat(struct jcur *c, char ch)
{
    j_ws(c);
    if (c->pos < c->end && *c->pos == ch) {
        c->pos++;
        return true;
    }
    return false;
}

/* A string; its raw bytes (escapes left as they are) in *s, *n. Control
 * characters inside are refused, as JSON requires. */
static int j_string(struct jcur *c, const char **s, size_t *n)
{
    if (!j_eat(c, '"'))
        return FM_EDECODE;
    *s = c->pos;
    while (c->pos < c->end) {
        unsigned char ch = (unsigned char)*c->pos;
        if (ch == '"') {
            *n = (size_t)(c->pos - *s);
            c->pos++;
            return FM_OK;
        }
        if (ch < 0x20)
            return FM_EDECODE;
        if (ch == '\\') {
            if ((size_t)(c->end - c->pos) < 2)
                return FM_EDECODE;
            c->pos++;
            if (*c->pos == 'u') {
                if ((size_t)(c->end - c->pos) < 5)
                    return FM_EDECODE;
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", c->pos[i]) || c->pos[i] == '\0')
                        return FM_EDECODE;
                c->pos += 4;
            } else if (!strchr("\"\\/bfnrt", *c->pos) || *c->pos == '\0') {
                return FM_EDECODE;
            }
        }
        c->pos++;
    }
    return FM_EDECODE;
}

/* A JSON number, checked against the grammar, then converted. */
static int j_number(struct jcur *c, double *v)
{
    char buf[40];
    const char *p;
    size_t n;
    j_ws(c);
    p = c->pos;
    if (p < c->end && *p == '-')
        p++;
    if (p >= c->end || *p < '0' || *p > '9')
        return FM_EDECODE;
    if (*p == '0')
        p++;
    else
        while (p < c->end && *p >= '0' && *p <= '9')
            p++;
    if (p < c->end && *p == '.') {
        p++;
        if (p >= c->end || *p < '0' || *p > '9')
            return FM_EDECODE;
        while (p < c->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < c->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < c->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= c->end || *p < '0' || *p > '9')
            return FM_EDECODE;
        while (p < c->end && *p >= '0' && *p <= '9')
            p++;
    }
    n = (size_t)(p - c->pos);
    if (n >= sizeof buf)
        return FM_EDECODE; /* no receiver needs 40 digits */
    memcpy(buf, c->pos, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    if (!isfinite(*v))
        return FM_EDECODE;
    c->pos = p;
    return FM_OK;
}

static bool j_word(struct jcur *c, const char *w)
{
    size_t n = strlen(w);
    j_ws(c);
    if ((size_t)(c->end - c->pos) < n || memcmp(c->pos, w, n) != 0)
        return false;
    c->pos += n;
    return true;
}

/* Skips any value, nested at most GPS_DEPTH_MAX deep. */
static int j_skip(struct jcur *c, int depth)
{
    const char *s;
    size_t n;
    double d;
    j_ws(c);
    if (c->pos >= c->end)
        return FM_EDECODE;
    switch (*c->pos) {
    case '"':
        return j_string(c, &s, &n);
    case '{':
    case '[': {
        bool obj = *c->pos == '{';
        char close = obj ? '}' : ']';
        if (depth >= GPS_DEPTH_MAX)
            return FM_EDECODE;
        c->pos++;
        if (j_eat(c, close))
            return FM_OK;
        do {
            if (obj && (j_string(c, &s, &n) != FM_OK || !j_eat(c, ':')))
                return FM_EDECODE;
            if (j_skip(c, depth + 1) != FM_OK)
                return FM_EDECODE;
        } while (j_eat(c, ','));
        return j_eat(c, close) ? FM_OK : FM_EDECODE;
    }
    case 't':
        return j_word(c, "true") ? FM_OK : FM_EDECODE;
    case 'f':
        return j_word(c, "false") ? FM_OK : FM_EDECODE;
    case 'n':
        return j_word(c, "null") ? FM_OK : FM_EDECODE;
    default:
        return j_number(c, &d);
    }
}

static bool key_is(const char *k, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(k, want, n) == 0;
}

/* Copies a string value without escapes or control characters; one
 * with a backslash is refused (gpsd never escapes the values we read). */
static int j_text(struct jcur *c, char *out, size_t cap)
{
    const char *s;
    size_t n;
    if (j_string(c, &s, &n) != FM_OK || n >= cap || memchr(s, '\\', n))
        return FM_EDECODE;
    memcpy(out, s, n);
    out[n] = '\0';
    return FM_OK;
}

/* One member of the object: known ones are read into m, others skipped. */
static int j_member(struct jcur *c, struct gps_msg *m, char *cls, size_t clscap, bool *has_lat,
                    bool *has_lon)
{
    struct gps_tpv *t = &m->tpv;
    const char *k;
    size_t n;
    double d;
    char tbuf[40];
    if (j_string(c, &k, &n) != FM_OK || !j_eat(c, ':'))
        return FM_EDECODE;
    if (key_is(k, n, "class"))
        return j_text(c, cls, clscap);
    if (key_is(k, n, "device"))
        return j_text(c, t->device, sizeof t->device);
    if (key_is(k, n, "message"))
        return j_text(c, m->message, sizeof m->message);
    if (key_is(k, n, "time")) {
        if (j_text(c, tbuf, sizeof tbuf) != FM_OK)
            return FM_EDECODE;
        t->has_time = gps_time_parse(tbuf, strlen(tbuf), &t->time_ms) == FM_OK;
        return t->has_time ? FM_OK : FM_EDECODE;
    }
    static const char *const nums[] = {"mode", "lat", "lon", "eph", "track", "speed"};
    size_t i;
    for (i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (key_is(k, n, nums[i]))
            break;
    if (i == sizeof nums / sizeof nums[0])
        return j_skip(c, 1);
    if (j_number(c, &d) != FM_OK)
        return FM_EDECODE;
    switch (i) {
    case 0:
        if (d != 0 && d != 1 && d != 2 && d != 3)
            return FM_EDECODE;
        t->mode = (int)d;
        return FM_OK;
    case 1:
        t->lat = d;
        *has_lat = true;
        return d >= -90.0 && d <= 90.0 ? FM_OK : FM_EDECODE;
    case 2:
        t->lon = d;
        *has_lon = true;
        return d >= -180.0 && d <= 180.0 ? FM_OK : FM_EDECODE;
    case 3:
        t->eph_m = d;
        t->has_eph = true;
        return d >= 0 ? FM_OK : FM_EDECODE;
    case 4:
        t->track_deg = d;
        t->has_track = true;
        return d >= 0 && d <= 360.0 ? FM_OK : FM_EDECODE;
    default:
        t->speed_mps = d;
        t->has_speed = true;
        return d >= 0 ? FM_OK : FM_EDECODE;
    }
}

int gps_json_decode(struct gps_msg *out, const char *line, size_t len)
{
    struct jcur c = {line, line + len};
    char cls[16] = "";
    bool has_lat = false, has_lon = false;
    memset(out, 0, sizeof *out);
    if (line == NULL || len > GPS_LINE_MAX || !j_eat(&c, '{'))
        return FM_EDECODE;
    if (!j_eat(&c, '}')) {
        do {
            if (j_member(&c, out, cls, sizeof cls, &has_lat, &has_lon) != FM_OK)
                goto bad;
        } while (j_eat(&c, ','));
        if (!j_eat(&c, '}'))
            goto bad;
    }
    j_ws(&c);
    if (c.pos != c.end)
        goto bad;
    if (strcmp(cls, "TPV") == 0) {
        out->cls = GPS_CLASS_TPV;
        out->tpv.has_pos = has_lat && has_lon;
    } else if (strcmp(cls, "VERSION") == 0) {
        out->cls = GPS_CLASS_VERSION;
    } else if (strcmp(cls, "ERROR") == 0) {
        out->cls = GPS_CLASS_ERROR;
    }
    return FM_OK;
bad:
    memset(out, 0, sizeof *out);
    return FM_EDECODE;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (unsigned)(s[i] - '0');
    }
    return true;
}

int gps_time_parse(const char *s, size_t len, uint64_t *ms)
{
    unsigned y, mo, d, h, mi, sec, frac = 0, scale = 1000;
    static const unsigned char mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    /* YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z */
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[len - 1] != 'Z' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
        !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
        !digits(s + 17, 2, &sec))
        return FM_EDECODE;
    if (len > 20) {
        size_t fn = len - 21;
        if (s[19] != '.' || fn < 1 || fn > 9)
            return FM_EDECODE;
        for (size_t i = 0; i < fn; i++) {
            if (s[20 + i] < '0' || s[20 + i] > '9')
                return FM_EDECODE;
            if (i < 3) {
                scale /= 10;
                frac += (unsigned)(s[20 + i] - '0') * scale;
            }
        }
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || sec > 60)
        return FM_EDECODE;
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((uint64_t)days * 86400u + h * 3600u + mi * 60u + sec) * 1000u + frac;
    return FM_OK;
}
