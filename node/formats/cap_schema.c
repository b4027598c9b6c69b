/*
 * cap_schema.c — the CAP 1.2 schema (OASIS CAP-V1.2, its XML schema's
 * sequences and types) as tables, and the value checks. No libxml2 here:
 * the tables say what may appear where; cap_parse.c walks a document
 * against them and cap_write.c writes a struct in their order.
 *
 * Limits beyond the schema (its strings are unbounded) are ours and named
 * in formats.h: a value longer than its cap, or more repetitions than the
 * struct keeps, is refused rather than silently cut.
 */
#include "formats_int.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const w_status[] = { "Actual", "Exercise", "System", "Test", "Draft", NULL };
static const char *const w_msgtype[] = { "Alert", "Update", "Cancel", "Ack", "Error", NULL };
static const char *const w_scope[] = { "Public", "Restricted", "Private", NULL };
static const char *const w_category[] = { "Geo",    "Met",   "Safety", "Security",
                                          "Rescue", "Fire",  "Health", "Env",
                                          "Transport", "Infra", "CBRNE", "Other", NULL };
static const char *const w_response[] = { "Shelter", "Evacuate", "Prepare", "Execute", "Avoid",
                                          "Monitor", "Assess",   "AllClear", "None", NULL };
static const char *const w_urgency[] = { "Immediate", "Expected", "Future", "Past", "Unknown",
                                         NULL };
static const char *const w_severity[] = { "Extreme", "Severe", "Moderate", "Minor", "Unknown",
                                          NULL };
static const char *const w_certainty[] = { "Observed", "Likely", "Possible", "Unlikely",
                                           "Unknown", NULL };

#define STR(st, field, chk, mn, nm)                                                         \
    { nm, mn, 1, chk, NULL, sizeof(((struct st *)0)->field) - 1, CK_STR,                     \
      offsetof(struct st, field), 0, 0, NULL }
#define ENUM(st, field, words, nm)                                                          \
    { nm, 1, 1, CV_ENUM, words, FMT_CAP_WORD_MAX - 1, CK_STR, offsetof(struct st, field), 0, \
      0, NULL }
#define LIST(st, field, n, chk, words, mn, nm)                                              \
    { nm, mn, 0, chk, words, FMT_CAP_WORD_MAX - 1, CK_LIST, offsetof(struct st, field),      \
      offsetof(struct st, n), FMT_CAP_MAX_LIST, NULL }
#define PAIRS(st, field, n, nm)                                                             \
    { nm, 0, 0, CV_GROUP, NULL, 0, CK_PAIR, offsetof(struct st, field),                      \
      offsetof(struct st, n), FMT_CAP_MAX_PAIRS, &pair_group }

static const struct cap_el pair_els[] = {
    STR(fmt_cap_pair, name, CV_TEXT, 1, "valueName"),
    STR(fmt_cap_pair, value, CV_TEXT, 1, "value"),
};
static const struct cap_group pair_group = { "pair", pair_els, 2 };

static const struct cap_el resource_els[] = {
    { "resourceDesc", 1, 1, CV_TEXT, NULL, FMT_CAP_LINE_MAX - 1, CK_NONE, 0, 0, 0, NULL },
    { "mimeType", 1, 1, CV_URI, NULL, FMT_CAP_WORD_MAX - 1, CK_NONE, 0, 0, 0, NULL },
    { "size", 0, 1, CV_INT, NULL, 20, CK_NONE, 0, 0, 0, NULL },
    { "uri", 0, 1, CV_URI, NULL, FMT_CAP_LINE_MAX - 1, CK_NONE, 0, 0, 0, NULL },
    { "derefUri", 0, 1, CV_TEXT, NULL, FMT_CAP_MAX_BYTES, CK_NONE, 0, 0, 0, NULL },
    { "digest", 0, 1, CV_URI, NULL, FMT_CAP_WORD_MAX * 2, CK_NONE, 0, 0, 0, NULL },
};
static const struct cap_group resource_group = { "resource", resource_els, 6 };

static const struct cap_el area_els[] = {
    STR(fmt_cap_area, desc, CV_TEXT, 1, "areaDesc"),
    { "polygon", 0, 0, CV_POLYGON, NULL, 64 * 1024, CK_POLYGON, 0,
      offsetof(struct fmt_cap_area, npolygons), FMT_CAP_MAX_SHAPES, NULL },
    { "circle", 0, 0, CV_CIRCLE, NULL, 128, CK_CIRCLE, offsetof(struct fmt_cap_area, circles),
      offsetof(struct fmt_cap_area, ncircles), FMT_CAP_MAX_SHAPES, NULL },
    PAIRS(fmt_cap_area, geocodes, ngeocodes, "geocode"),
    { "altitude", 0, 1, CV_DECIMAL, NULL, 32, CK_NONE, 0, 0, 0, NULL },
    { "ceiling", 0, 1, CV_DECIMAL, NULL, 32, CK_NONE, 0, 0, 0, NULL },
};
static const struct cap_group area_group = { "area", area_els, 6 };

static const struct cap_el info_els[] = {
    STR(fmt_cap_info, language, CV_LANG, 0, "language"),
    LIST(fmt_cap_info, categories, ncategories, CV_ENUM, w_category, 1, "category"),
    STR(fmt_cap_info, event, CV_TEXT, 1, "event"),
    LIST(fmt_cap_info, responses, nresponses, CV_ENUM, w_response, 0, "responseType"),
    ENUM(fmt_cap_info, urgency, w_urgency, "urgency"),
    ENUM(fmt_cap_info, severity, w_severity, "severity"),
    ENUM(fmt_cap_info, certainty, w_certainty, "certainty"),
    STR(fmt_cap_info, audience, CV_TEXT, 0, "audience"),
    PAIRS(fmt_cap_info, eventcodes, neventcodes, "eventCode"),
    STR(fmt_cap_info, effective, CV_TIME, 0, "effective"),
    STR(fmt_cap_info, onset, CV_TIME, 0, "onset"),
    STR(fmt_cap_info, expires, CV_TIME, 0, "expires"),
    STR(fmt_cap_info, sender_name, CV_TEXT, 0, "senderName"),
    STR(fmt_cap_info, headline, CV_TEXT, 0, "headline"),
    STR(fmt_cap_info, description, CV_TEXT, 0, "description"),
    STR(fmt_cap_info, instruction, CV_TEXT, 0, "instruction"),
    STR(fmt_cap_info, web, CV_URI, 0, "web"),
    STR(fmt_cap_info, contact, CV_TEXT, 0, "contact"),
    PAIRS(fmt_cap_info, params, nparams, "parameter"),
    { "resource", 0, 0, CV_GROUP, NULL, 0, CK_COUNT, 0, offsetof(struct fmt_cap_info, nresources),
      FMT_CAP_MAX_PAIRS, &resource_group },
    { "area", 0, 0, CV_GROUP, NULL, 0, CK_AREA, offsetof(struct fmt_cap_info, areas),
      offsetof(struct fmt_cap_info, nareas), FMT_CAP_MAX_AREA, &area_group },
};
static const struct cap_group info_group = { "info", info_els, sizeof info_els / sizeof info_els[0] };

static const struct cap_el alert_els[] = {
    STR(fmt_cap_alert, identifier, CV_ID, 1, "identifier"),
    STR(fmt_cap_alert, sender, CV_ID, 1, "sender"),
    STR(fmt_cap_alert, sent, CV_TIME, 1, "sent"),
    ENUM(fmt_cap_alert, status, w_status, "status"),
    ENUM(fmt_cap_alert, msg_type, w_msgtype, "msgType"),
    STR(fmt_cap_alert, source, CV_TEXT, 0, "source"),
    ENUM(fmt_cap_alert, scope, w_scope, "scope"),
    STR(fmt_cap_alert, restriction, CV_TEXT, 0, "restriction"),
    STR(fmt_cap_alert, addresses, CV_TEXT, 0, "addresses"),
    LIST(fmt_cap_alert, codes, ncodes, CV_TEXT, NULL, 0, "code"),
    STR(fmt_cap_alert, note, CV_TEXT, 0, "note"),
    STR(fmt_cap_alert, references, CV_TEXT, 0, "references"),
    STR(fmt_cap_alert, incidents, CV_TEXT, 0, "incidents"),
    { "info", 0, 0, CV_GROUP, NULL, 0, CK_INFO, offsetof(struct fmt_cap_alert, info),
      offsetof(struct fmt_cap_alert, ninfo), FMT_CAP_MAX_INFO, &info_group },
};
const struct cap_group cap_alert_group = { "alert", alert_els,
                                           sizeof alert_els / sizeof alert_els[0] };

/* ------------------------------------------------------------ values */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num2(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

static int check_time(const char *v, char *err, size_t cap)
{
    /* 0123456789012345678901234
     * 2026-12-05T07:20:00-00:00 */
    if (strlen(v) != 25 || !digits(v, 4) || v[4] != '-' || !digits(v + 5, 2) || v[7] != '-' ||
        !digits(v + 8, 2) || v[10] != 'T' || !digits(v + 11, 2) || v[13] != ':' ||
        !digits(v + 14, 2) || v[16] != ':' || !digits(v + 17, 2) ||
        (v[19] != '+' && v[19] != '-') || !digits(v + 20, 2) || v[22] != ':' ||
        !digits(v + 23, 2)) {
        snprintf(err, cap, "\"%.40s\" is not a CAP dateTime (YYYY-MM-DDThh:mm:ss+hh:mm; "
                 "UTC is -00:00, never Z)", v);
        return FM_EDECODE;
    }
    int mo = num2(v + 5), d = num2(v + 8), h = num2(v + 11), mi = num2(v + 14), s = num2(v + 17);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 ||
        num2(v + 20) > 14 || num2(v + 23) > 59) {
        snprintf(err, cap, "\"%s\" has a field out of range", v);
        return FM_EDECODE;
    }
    return FM_OK;
}

static int check_lang(const char *v, char *err, size_t cap)
{
    size_t run = 0;
    bool first = true;
    for (const char *p = v;; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
        bool digit = *p >= '0' && *p <= '9';
        if (alpha || (digit && !first)) {
            if (++run > 8)
                break;
            continue;
        }
        if ((*p == '-' || *p == '\0') && run > 0) {
            if (*p == '\0')
                return FM_OK;
            run = 0;
            first = false;
            continue;
        }
        break;
    }
    snprintf(err, cap, "\"%.40s\" is not a language tag (RFC 3066, e.g. zh-CN)", v);
    return FM_EDECODE;
}

static int check_decimal(const char *v, bool integer, char *err, size_t cap)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    bool ok = end != v && *end == '\0' && errno == 0 && isfinite(d) &&
              strspn(v, "+-0123456789.eE") == strlen(v);
    if (integer)
        ok = ok && strspn(v, "0123456789") == strlen(v);
    if (!ok) {
        snprintf(err, cap, "\"%.40s\" is not %s", v, integer ? "a whole number" : "a number");
        return FM_EDECODE;
    }
    return FM_OK;
}

static int parse_num(const char **p, double lo, double hi, double *out)
{
    char *end;
    if (**p == '\0' || strchr("+-0123456789.", **p) == NULL)
        return FM_EDECODE;
    errno = 0;
    double d = strtod(*p, &end);
    if (end == *p || errno != 0 || !isfinite(d) || d < lo || d > hi)
        return FM_EDECODE;
    *p = end;
    *out = d;
    return FM_OK;
}

int cap_parse_point(const char **p, double *lat, double *lon)
{
    if (parse_num(p, -90, 90, lat) != FM_OK || **p != ',')
        return FM_EDECODE;
    (*p)++;
    return parse_num(p, -180, 180, lon);
}

static bool xml_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int check_polygon(const char *v, char *err, size_t cap)
{
    double lat0 = 0, lon0 = 0, lat = 0, lon = 0;
    size_t n = 0;
    for (const char *p = v; *p;) {
        if (cap_parse_point(&p, &lat, &lon) != FM_OK || (*p && !xml_space(*p))) {
            snprintf(err, cap, "point %zu is not \"lat,lon\" within -90..90, -180..180", n + 1);
            return FM_EDECODE;
        }
        if (n++ == 0) {
            lat0 = lat;
            lon0 = lon;
        }
        if (n > FMT_CAP_MAX_POINTS) {
            snprintf(err, cap, "more than %d points", FMT_CAP_MAX_POINTS);
            return FM_EDECODE;
        }
        while (xml_space(*p))
            p++;
    }
    if (n < 4 || lat != lat0 || lon != lon0) {
        snprintf(err, cap, "a polygon needs at least 4 points, the last equal to the first "
                 "(%zu point(s)%s)", n, n >= 4 ? ", not closed" : "");
        return FM_EDECODE;
    }
    return FM_OK;
}

static int check_circle(const char *v, char *err, size_t cap)
{
    double lat, lon, r;
    const char *p = v;
    if (cap_parse_point(&p, &lat, &lon) != FM_OK || !xml_space(*p)) {
        snprintf(err, cap, "\"%.40s\" is not \"lat,lon radius\"", v);
        return FM_EDECODE;
    }
    while (xml_space(*p))
        p++;
    if (parse_num(&p, 0, 40075, &r) != FM_OK || *p != '\0') {
        snprintf(err, cap, "\"%.40s\": the radius must be 0..40075 km", v);
        return FM_EDECODE;
    }
    return FM_OK;
}

/* Text: no control characters except tab, newline and carriage return
 * (libxml2 has checked it is UTF-8 already). */
static int check_text(const char *v, bool id, char *err, size_t cap)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f) {
            snprintf(err, cap, "holds control character 0x%02x", *p);
            return FM_EDECODE;
        }
        if (id && (xml_space((char)*p) || *p == ',' || *p == '<' || *p == '&')) {
            snprintf(err, cap, "\"%.40s\" holds a space, comma, '<' or '&', which CAP forbids "
                     "here", v);
            return FM_EDECODE;
        }
    }
    return FM_OK;
}

static int enum_error(const struct cap_el *el, const char *v, char *err, size_t cap)
{
    size_t used = (size_t)snprintf(err, cap, "\"%.40s\" is not one of", v);
    for (const char *const *w = el->words; *w && used < cap; w++)
        used += (size_t)snprintf(err + used, cap - used, " %s", *w);
    return FM_EDECODE;
}

int cap_check_value(const struct cap_el *el, const char *v, char *err, size_t cap)
{
    size_t n = strlen(v);
    if (n > el->cap) {
        snprintf(err, cap, "%zu bytes, more than the %zu this importer accepts", n, el->cap);
        return FM_EDECODE;
    }
    if (n == 0 && el->check != CV_GROUP) {
        snprintf(err, cap, "is empty");
        return FM_EDECODE;
    }
    switch (el->check) {
    case CV_TEXT:
        return check_text(v, false, err, cap);
    case CV_ID:
    case CV_URI:
        return check_text(v, true, err, cap);
    case CV_ENUM:
        for (const char *const *w = el->words; *w; w++)
            if (strcmp(*w, v) == 0)
                return FM_OK;
        return enum_error(el, v, err, cap);
    case CV_TIME:
        return check_time(v, err, cap);
    case CV_LANG:
        return check_lang(v, err, cap);
    case CV_DECIMAL:
    case CV_INT:
        return check_decimal(v, el->check == CV_INT, err, cap);
    case CV_POLYGON:
        return check_polygon(v, err, cap);
    case CV_CIRCLE:
        return check_circle(v, err, cap);
    case CV_GROUP:
        return FM_OK;
    }
    return FM_EDECODE;
}
