/*
 * formats.h — other systems' formats: OASIS CAP 1.2 alerts as XML, read
 * and written through libxml2, and roster spreadsheets as CSV
 * (docs/interop.md).
 *
 * This library knows nothing of the store or the data model: the CLI
 * fills a struct fmt_cap_alert from an incident or a bulletin and hands it
 * to fmt_cap_write, or gets one from fmt_cap_parse and turns it into a
 * bulletin. So libxml2 (the only includer is this folder) links into the
 * CLI alone, never into fieldmeshd, and the parser, the most exposed code
 * here, can be fuzzed on its own. It depends on crypto/base only.
 *
 * The parser is strict: the document must be well-formed, carry no
 * DOCTYPE (so no entity of any kind, internal or external, and nothing
 * fetched from the network), be at most FMT_CAP_MAX_BYTES, and match the
 * CAP 1.2 schema as checked here: every element in its place in its
 * parent's sequence, required ones present, no unknown element, values of
 * the right type (dateTime with a numeric zone, the enumerations, numbers,
 * polygons and circles in range) and no value longer than its cap. An
 * error names the line and the element.
 */
#ifndef FM_FORMATS_H
#define FM_FORMATS_H

#include "../../crypto/base/fm_base.h"

#include <stddef.h>
#include <stdint.h>

#define FMT_CAP_NS "urn:oasis:names:tc:emergency:cap:1.2"
#define FMT_CAP_MAX_BYTES (1u << 20)   /* a larger file is refused before parsing */
#define FMT_CAP_MAX_INFO 4             /* info blocks kept (one per language, usually) */
#define FMT_CAP_MAX_AREA 8             /* areas per info */
#define FMT_CAP_MAX_LIST 8             /* categories, response types, codes */
#define FMT_CAP_MAX_PAIRS 16           /* parameters, event codes, geocodes */
#define FMT_CAP_MAX_SHAPES 16          /* circles per area kept with their values */
#define FMT_CAP_MAX_POINTS 1000        /* vertices in one polygon */
#define FMT_CAP_ID_MAX 256             /* identifier, sender */
#define FMT_CAP_WORD_MAX 64            /* enumerations, language, mime type */
#define FMT_CAP_LINE_MAX 512           /* event, headline, senderName, areaDesc, ... */
#define FMT_CAP_TEXT_MAX 4096          /* description, instruction, note */
#define FMT_CAP_TIME_LEN 26            /* "2026-12-05T07:20:00-00:00" + NUL */

struct fmt_cap_pair {
    char name[FMT_CAP_LINE_MAX];
    char value[FMT_CAP_LINE_MAX];
};

struct fmt_cap_circle {
    double lat, lon, radius_km;
};

struct fmt_cap_area {
    char desc[FMT_CAP_LINE_MAX];
    size_t npolygons;                       /* counted and checked; vertices not kept */
    size_t ncircles;                        /* all counted; the first FMT_CAP_MAX_SHAPES kept */
    struct fmt_cap_circle circles[FMT_CAP_MAX_SHAPES];
    bool has_bbox;                          /* over every polygon vertex and circle centre */
    double min_lat, min_lon, max_lat, max_lon;
    size_t ngeocodes;
    struct fmt_cap_pair geocodes[FMT_CAP_MAX_PAIRS];
};

struct fmt_cap_info {
    char language[FMT_CAP_WORD_MAX];        /* "" = CAP's default en-US */
    size_t ncategories;
    char categories[FMT_CAP_MAX_LIST][FMT_CAP_WORD_MAX];
    char event[FMT_CAP_LINE_MAX];
    size_t nresponses;
    char responses[FMT_CAP_MAX_LIST][FMT_CAP_WORD_MAX];
    char urgency[FMT_CAP_WORD_MAX], severity[FMT_CAP_WORD_MAX], certainty[FMT_CAP_WORD_MAX];
    char audience[FMT_CAP_LINE_MAX];
    size_t neventcodes;
    struct fmt_cap_pair eventcodes[FMT_CAP_MAX_PAIRS];
    char effective[FMT_CAP_TIME_LEN], onset[FMT_CAP_TIME_LEN], expires[FMT_CAP_TIME_LEN];
    char sender_name[FMT_CAP_LINE_MAX];
    char headline[FMT_CAP_LINE_MAX];
    char description[FMT_CAP_TEXT_MAX];
    char instruction[FMT_CAP_TEXT_MAX];
    char web[FMT_CAP_LINE_MAX];
    char contact[FMT_CAP_LINE_MAX];
    size_t nparams;
    struct fmt_cap_pair params[FMT_CAP_MAX_PAIRS];
    size_t nresources;                      /* counted and checked; not kept */
    size_t nareas;
    struct fmt_cap_area areas[FMT_CAP_MAX_AREA];
};

struct fmt_cap_alert {
    char identifier[FMT_CAP_ID_MAX];
    char sender[FMT_CAP_ID_MAX];
    char sent[FMT_CAP_TIME_LEN];
    char status[FMT_CAP_WORD_MAX];          /* Actual Exercise System Test Draft */
    char msg_type[FMT_CAP_WORD_MAX];        /* Alert Update Cancel Ack Error */
    char source[FMT_CAP_LINE_MAX];
    char scope[FMT_CAP_WORD_MAX];           /* Public Restricted Private */
    char restriction[FMT_CAP_LINE_MAX];
    char addresses[FMT_CAP_LINE_MAX];
    size_t ncodes;
    char codes[FMT_CAP_MAX_LIST][FMT_CAP_WORD_MAX];
    char note[FMT_CAP_TEXT_MAX];
    char references[FMT_CAP_TEXT_MAX];
    char incidents[FMT_CAP_LINE_MAX];
    size_t ninfo;                           /* all counted; the first FMT_CAP_MAX_INFO kept */
    struct fmt_cap_info info[FMT_CAP_MAX_INFO];
    bool signed_xmldsig;                    /* carried an XML signature (not verified) */
};

/* Parses and validates one CAP 1.2 alert of len bytes (name, e.g. the
 * file's path, prefixes errors). 0; FM_ETOOBIG over FMT_CAP_MAX_BYTES;
 * FM_EDECODE for anything else wrong, with err = "NAME:LINE: ELEMENT: what
 * is wrong". out is zeroed first and holds nothing useful on failure. */
int fmt_cap_parse(const char *buf, size_t len, const char *name, struct fmt_cap_alert *out,
                  char *err, size_t errcap) FM_MUST_USE;

/* Writes a as one CAP 1.2 document (UTF-8, indented) into a malloc'd,
 * NUL-terminated buffer the caller frees. The alert is validated by the
 * same rules first (FM_EINVAL, err says what), so a written alert always
 * parses back. FM_ENOMEM. */
int fmt_cap_write(const struct fmt_cap_alert *a, char **out, size_t *len, char *err,
                  size_t errcap) FM_MUST_USE;

/* "YYYY-MM-DDThh:mm:ss-00:00" (CAP's form of UTC) for ms since the epoch. */
void fmt_cap_time(uint64_t ms, char out[FMT_CAP_TIME_LEN]);
/* The CAP dateTime s (with its zone) as ms since the epoch; FM_EDECODE. */
int fmt_cap_time_parse(const char *s, uint64_t *ms) FM_MUST_USE;

/* A PIDF-LO document (RFC 4119/5491) holding one WGS 84 point, stamped ms,
 * with text as its civic "additional location" (RFC 5139 LOC) when not
 * empty; malloc'd, NUL-terminated, caller frees. For EIDO's location by
 * value. FM_ENOMEM (also for text that is not UTF-8). */
int fmt_pidf_point(const char *entity, double lat, double lon, uint64_t ms, const char *text,
                   char **out) FM_MUST_USE;

/* ---- roster CSV (docs/interop.md "Roster import") ----
 *
 * A spreadsheet of departments and units, one row per unit (the department
 * columns repeated on each), read strictly: RFC 4180 quoting (commas, line
 * breaks and doubled quotes inside quoted fields), CRLF or LF, UTF-8 with
 * or without a BOM, or GB18030 (converted with glibc's iconv). A header
 * row names the columns in any order. Every error is collected, not just
 * the first, as "NAME:LINE: column COLUMN: what is wrong", one a line.
 * Limits match the directory's (workflow.h), which this library cannot
 * include: a name is at most FM_NAME_CHARS characters (64; a Chinese
 * character takes 3 bytes) and FM_NAME_MAX - 1 bytes; a kind is a token of
 * at most FMT_ROSTER_KIND_MAX - 1 bytes. */
#define FMT_ROSTER_MAX_BYTES (8u << 20)
#define FMT_ROSTER_NAME_MAX FM_NAME_MAX
#define FMT_ROSTER_KIND_MAX 64      /* = FM_DIR_KIND_MAX, with the NUL */
#define FMT_ROSTER_CAPS_MAX 256     /* = FM_DIR_CAPS_MAX: "a,b,c" */
#define FMT_ROSTER_MAX_COUNTIES 64
#define FMT_ROSTER_MAX_DEPTS 256
#define FMT_ROSTER_MAX_UNITS 2048
#define FMT_ROSTER_MAX_ERRORS 200   /* listed; the rest are counted */

enum fmt_roster_encoding { FMT_ROSTER_AUTO, FMT_ROSTER_UTF8, FMT_ROSTER_GB18030 };

struct fmt_roster_dept {
    char name[FMT_ROSTER_NAME_MAX];
    char kind[FMT_ROSTER_KIND_MAX];
    uint8_t tier;                       /* 1..3 */
    uint16_t county;                    /* index into counties */
    size_t line;                        /* where it first appears */
};

struct fmt_roster_unit {
    char name[FMT_ROSTER_NAME_MAX];
    char kind[FMT_ROSTER_KIND_MAX];
    char caps[FMT_ROSTER_CAPS_MAX];     /* words joined by ',' in cell order */
    double lat, lon;
    uint16_t dept;                      /* index into depts */
    size_t line;
};

struct fmt_roster {
    bool was_gb18030;                   /* the input was converted */
    size_t ncounties, ndepts, nunits;
    char counties[FMT_ROSTER_MAX_COUNTIES][FMT_ROSTER_NAME_MAX]; /* first-seen order */
    struct fmt_roster_dept depts[FMT_ROSTER_MAX_DEPTS];
    struct fmt_roster_unit units[FMT_ROSTER_MAX_UNITS];
    size_t nerrors;                     /* all found, listed or not */
    char *errors;                       /* malloc'd lines, NUL-terminated; NULL if none */
};

/* Decodes len bytes of roster CSV (name prefixes errors) into *out (zeroed
 * first). 0; FM_EDECODE with out->errors listing every problem (nothing
 * else in *out is meaningful then); FM_ETOOBIG over FMT_ROSTER_MAX_BYTES
 * (also listed); FM_ENOMEM. Free out->errors with fmt_roster_release. */
int fmt_roster_parse(const char *buf, size_t len, const char *name,
                     enum fmt_roster_encoding enc, struct fmt_roster *out) FM_MUST_USE;
void fmt_roster_release(struct fmt_roster *r);

/* ---- county boundaries from GeoJSON (geojson_bounds.c) ----
 * A FeatureCollection whose features carry Polygon or MultiPolygon
 * geometries, parsed with jansson (duplicate keys refused). Each feature
 * is named by a property (a string, or an integer written in decimal).
 * Rings must be closed (last position = first) with at least 4 positions;
 * they are kept open (the repeated last position dropped), as lat/lon in
 * 1e-7 degrees. The first problem is reported as "features[N] (NAME): what
 * is wrong", or "line L, column C: ..." for JSON syntax. Limits match the
 * directory's (workflow.h), which this library cannot include. */
#define FMT_GEO_MAX_BYTES (16u << 20)
#define FMT_GEO_MAX_FEATURES 64          /* = FM_DIR_MAX_COUNTIES */
#define FMT_GEO_MAX_RINGS_PER_FEATURE 64
#define FMT_GEO_MAX_POINTS_PER_FEATURE 20000
#define FMT_GEO_MAX_RINGS 1024
#define FMT_GEO_MAX_POINTS 100000
#define FMT_GEO_NAME_MAX FM_NAME_MAX     /* and at most FM_NAME_CHARS characters */

struct fmt_geo_point {
    int32_t lat_e7, lon_e7;
};
struct fmt_geo_ring {
    size_t first, npoints;               /* into points; open */
};
struct fmt_geo_feature {
    size_t index;                        /* its place in "features" */
    char name[FMT_GEO_NAME_MAX];
    size_t first_ring, nrings;           /* into rings */
};
struct fmt_geo_bounds {
    size_t nfeatures, nrings, npoints;
    struct fmt_geo_feature features[FMT_GEO_MAX_FEATURES];
    struct fmt_geo_ring rings[FMT_GEO_MAX_RINGS];
    struct fmt_geo_point points[FMT_GEO_MAX_POINTS];
};

/* Decodes len bytes of GeoJSON into *out (zeroed first), naming features
 * by property (NULL = "name"). 0; FM_EDECODE with the reason in err;
 * FM_ETOOBIG over FMT_GEO_MAX_BYTES; FM_ENOMEM. */
int fmt_geojson_bounds_parse(const char *buf, size_t len, const char *property,
                             struct fmt_geo_bounds *out, char *err, size_t errlen) FM_MUST_USE;

#endif
