/*
 * formats_int.h — the CAP 1.2 schema as tables (cap_schema.c), shared by
 * the parser (cap_parse.c) and the writer (cap_write.c), so that what is
 * read and what is written follow one description: each element's place
 * in its parent's sequence, how often it may occur, how its value is
 * checked and where it is kept in struct fmt_cap_alert.
 */
#ifndef FM_FORMATS_INT_H
#define FM_FORMATS_INT_H

#include "formats.h"

enum cap_check {
    CV_TEXT,    /* any text without control characters other than tab and newline */
    CV_ID,      /* no whitespace, ',', '<' or '&' (identifier, sender) */
    CV_ENUM,    /* one of el->words */
    CV_TIME,    /* YYYY-MM-DDThh:mm:ss±hh:mm */
    CV_LANG,    /* RFC 3066: letters, then -alphanumerics, each 1..8 */
    CV_DECIMAL, /* a decimal number */
    CV_INT,     /* a non-negative integer */
    CV_URI,     /* no whitespace */
    CV_POLYGON, /* >= 4 "lat,lon" pairs, first = last, in range */
    CV_CIRCLE,  /* "lat,lon radius_km", in range */
    CV_GROUP,   /* an element with children: el->group */
};

enum cap_keep {
    CK_NONE,    /* checked, not kept */
    CK_STR,     /* char[el->cap] at el->off */
    CK_LIST,    /* char[FMT_CAP_MAX_LIST][FMT_CAP_WORD_MAX] at off, count at count_off */
    CK_PAIR,    /* struct fmt_cap_pair[FMT_CAP_MAX_PAIRS] at off, count at count_off */
    CK_POLYGON, /* counted (count_off) and folded into the area's bounding box */
    CK_CIRCLE,  /* struct fmt_cap_circle[FMT_CAP_MAX_SHAPES] at off, count at count_off */
    CK_INFO,    /* struct fmt_cap_info[FMT_CAP_MAX_INFO] at off, count at count_off */
    CK_AREA,    /* struct fmt_cap_area[FMT_CAP_MAX_AREA] at off, count at count_off */
    CK_COUNT,   /* only counted (resources) at count_off */
};

struct cap_group;

struct cap_el {
    const char *name;
    unsigned min, max;           /* occurrences; max 0 = unbounded */
    enum cap_check check;
    const char *const *words;    /* CV_ENUM: NULL-terminated */
    size_t cap;                  /* longest value in bytes (CK_STR: the array size) */
    enum cap_keep keep;
    size_t off, count_off, keep_max;
    const struct cap_group *group; /* CV_GROUP */
};

struct cap_group {
    const char *name;
    const struct cap_el *els;
    size_t nels;
};

extern const struct cap_group cap_alert_group;

/* Checks a trimmed value against el's rule; err gets what is wrong (without
 * the element's name). */
int cap_check_value(const struct cap_el *el, const char *v, char *err, size_t cap) FM_MUST_USE;
/* Parses "lat,lon" at *p (advancing it); FM_EDECODE if not in range. */
int cap_parse_point(const char **p, double *lat, double *lon) FM_MUST_USE;

#endif
