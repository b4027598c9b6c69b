/*
 * directory.h — the organisation directory: counties (with boundaries),
 * member departments in three tiers, their units, and the dispatch rules
 * with their linkage plans per alarm level (docs/workflow.md §1, §1a).
 * Parsed from YAML (directory_yaml.c), carried in a canonical binary form
 * in directory.publish ops (directory.c), read back as the version in
 * force (workflow_read.c). Part of workflow.h, which includes it.
 */
#ifndef FM_DIRECTORY_H
#define FM_DIRECTORY_H

#include "../model/model.h"

/* ---- the organisation directory ---- */
#define FM_DIR_MAX_COUNTIES 64
#define FM_DIR_MAX_DEPTS 256
#define FM_DIR_MAX_UNITS 2048
#define FM_DIR_MAX_RULES 128
#define FM_DIR_MAX_ALIASES 1024
#define FM_DIR_MAX_MATERIALS 256 /* material kinds with a unit of measure */
#define FM_DIR_MAX_DEPOTS 256    /* depots placed by the directory */
#define FM_DIR_MEASURE_MAX 16    /* a unit of measure: 1..15 bytes (袋, kg, m³) */
#define FM_DIR_MAX_RELATED 128
#define FM_DIR_MAX_RESPOND 16
#define FM_DIR_CAPS_MAX 256
#define FM_DIR_KEY_MAX 32        /* a unit's stable id: [A-Za-z0-9_-]{1,31} (§1c) */
/* County boundaries (format version 2, docs/workflow.md): rings of
 * lat/lon points; the whole directory still travels in at most 64 chunks
 * of 16,000 bytes, which is why the total is capped below 1 MiB. */
#define FM_DIR_MAX_RINGS_PER_COUNTY 64
#define FM_DIR_MAX_POINTS_PER_COUNTY 20000
#define FM_DIR_MAX_RINGS 1024
#define FM_DIR_MAX_POINTS 100000  /* 800,000 bytes of points */

#define FM_DIR_KIND_MAX 64 /* a department or unit kind: a word's bytes, incl. NUL */

struct fm_dir_dept {
    char name[FM_NAME_MAX];
    char kind[FM_DIR_KIND_MAX];   /* police, fire, medical, gas, ... */
    uint8_t tier;             /* 1..3 */
    uint16_t county;          /* index into counties */
};
struct fm_dir_unit {
    char name[FM_NAME_MAX];   /* unique in the directory; matches the unit entity's name */
    uint16_t dept;            /* index into depts */
    char kind[FM_DIR_KIND_MAX];   /* engine, ambulance, patrol, ... */
    char caps[FM_DIR_CAPS_MAX]; /* canonical: sorted, unique, comma-separated */
    int32_t lat_e7, lon_e7;   /* home station */
    char key[FM_DIR_KEY_MAX]; /* stable id (`id:`), "" if none: the entity's id derives
                               * from it, not from (department, name) (§1c) */
};
struct fm_dir_respond {
    uint8_t tier;                        /* 1..3 */
    char kind[FM_DIR_KIND_MAX];              /* department kind */
    char department[FM_NAME_MAX];        /* "" = any department of that kind */
    char capability[FM_CATEGORY_MAX];    /* "" = any unit */
    uint8_t units;                       /* how many units, 1..9 */
};
/* A linkage plan's alarm level above 1: the full set of needs at that
 * level (level 1 is the rule's own respond). Format version 3. */
#define FM_DIR_MAX_LEVELS (FM_ALARM_MAX - 1)
struct fm_dir_level {
    uint8_t level;                       /* 2..FM_ALARM_MAX, ascending in a rule */
    uint8_t nrespond;                    /* 1..FM_DIR_MAX_RESPOND */
    struct fm_dir_respond respond[FM_DIR_MAX_RESPOND];
};
struct fm_dir_rule {
    char category[FM_CATEGORY_MAX];
    uint8_t priority;           /* default priority 1..5 */
    uint8_t escalate_priority;  /* 0 = never; priority <= this brings in tier 2 at once */
    uint32_t escalate_after_s;  /* 0 = never; no acknowledgement by then brings in the next tier */
    uint32_t target_s;          /* response target (report -> on scene, 90th pct); 0 = none */
    uint8_t nrespond;
    struct fm_dir_respond respond[FM_DIR_MAX_RESPOND];
    uint8_t nlevels;            /* linkage plan levels 2.. (0 = level 1 only) */
    struct fm_dir_level levels[FM_DIR_MAX_LEVELS];
};
/* One ring of a county's boundary: points[first .. first+npoints-1],
 * open (the first point is not repeated at the end), at least 3 points.
 * A county's rings are read with the even-odd rule, so holes and
 * multi-part counties need no further structure. */
struct fm_dir_ring {
    uint16_t county;          /* index into counties */
    uint32_t first, npoints;
};
struct fm_dir_point {
    int32_t lat_e7, lon_e7;
};
struct fm_dir_alias {
    char name[FM_NAME_MAX];       /* printable UTF-8, no word of the directory */
    char word[FM_CATEGORY_MAX];   /* [a-z0-9_-]{1,31} */
};
/* Materials (docs/workflow.md §6): a kind's unit of measure, and the place
 * of a depot that is not a unit (a unit's stock is at its home). */
struct fm_dir_material {
    char kind[FM_CATEGORY_MAX];   /* [a-z0-9_-]{1,31} */
    char measure[FM_DIR_MEASURE_MAX]; /* printable UTF-8 */
};
struct fm_dir_depot {
    char name[FM_NAME_MAX];       /* printable UTF-8, no unit's name */
    int32_t lat_e7, lon_e7;
};
/* A category in a group of related ones (duplicate calls, §3c). */
struct fm_dir_related {
    char category[FM_CATEGORY_MAX]; /* a rule's */
    uint8_t group;                  /* 0.., groups numbered in order of first mention */
};
struct fm_directory {
    char name[FM_NAME_MAX];
    /* Set when read from the store: the version that won. */
    char version[FM_ID_MAX];          /* id of its first op */
    char publisher[FM_KEY_TEXT_LEN];
    uint64_t version_hlc;
    size_t ncounties, ndepts, nunits, nrules;
    char counties[FM_DIR_MAX_COUNTIES][FM_NAME_MAX];
    struct fm_dir_dept depts[FM_DIR_MAX_DEPTS];
    struct fm_dir_unit units[FM_DIR_MAX_UNITS];
    struct fm_dir_rule rules[FM_DIR_MAX_RULES];
    /* boundaries: rings grouped by county in county order; none = a
     * version-1 directory, byte for byte */
    size_t nrings, npoints;
    size_t nskipped;          /* sections this build does not know and may skip (tags from
                               * 0x80): the publisher's build knew more than this one */
    struct fm_dir_ring rings[FM_DIR_MAX_RINGS];
    struct fm_dir_point points[FM_DIR_MAX_POINTS];
    /* names people type for a word of the directory: a category, a
     * capability, a department or unit kind, a material kind (火灾 ->
     * building_fire); sorted by name, each name once */
    size_t naliases;
    struct fm_dir_alias aliases[FM_DIR_MAX_ALIASES];
    /* duplicate calls (§3c): how near and how close in time a possible
     * duplicate is (0: the built-in FM_DUP_RADIUS_M / FM_DUP_WINDOW_S), and
     * which categories count as the same emergency; sorted by category */
    uint32_t dup_radius_m, dup_window_s;
    size_t nrelated;
    struct fm_dir_related related[FM_DIR_MAX_RELATED];
    /* materials: sorted by kind, depots by name, each once */
    size_t nmaterials, ndepots;
    struct fm_dir_material materials[FM_DIR_MAX_MATERIALS];
    struct fm_dir_depot depots[FM_DIR_MAX_DEPOTS];
};

/* Parses a directory YAML file (format in docs/workflow.md). On error
 * FM_ECONFIG (or FM_ENOTFOUND / FM_EIO / FM_ENOMEM) with "file:line:column:
 * message" in err. *out is malloc'd; free with fm_directory_free. */
int fm_directory_load_yaml(const char *path, struct fm_directory **out, char *err,
                           size_t errlen) FM_MUST_USE;
/* The same from len bytes already in memory; name prefixes the errors. */
int fm_directory_parse_yaml(const char *name, const char *buf, size_t len,
                            struct fm_directory **out, char *err, size_t errlen) FM_MUST_USE;
/* d as directory YAML that fm_directory_load_yaml reads back to the same
 * directory (version fields aside), each line of comment (may be NULL)
 * as a leading "# " line; *out malloc'd and NUL-terminated. FM_ENOMEM. */
int fm_directory_render_yaml(const struct fm_directory *d, const char *comment, char **out,
                             size_t *len) FM_MUST_USE;
void fm_directory_free(struct fm_directory **dp);
/* Lookups; NULL when absent. */
const struct fm_dir_rule *fm_directory_rule(const struct fm_directory *d, const char *category);
/* Same category, or two categories the directory relates (§3c). */
bool fm_directory_related(const struct fm_directory *d, const char *a, const char *b);
/* Edit distance between two texts, over characters (UTF-8 code points,
 * at most FM_NAME_MAX of each). */
size_t fm_text_distance(const char *a, const char *b);
/* The word an alias names (NULL if `name` is no alias). */
const char *fm_directory_alias(const struct fm_directory *d, const char *name);
/* Up to max categories (rules) closest to `text` by edit distance over
 * characters, each with its aliases in mind; returns how many. */
size_t fm_directory_closest_categories(const struct fm_directory *d, const char *text,
                                       const char **out, size_t max);
const struct fm_dir_unit *fm_directory_unit(const struct fm_directory *d, const char *name);
/* ---- stable unit ids and standing (directory_keys.c, §1c) ---- */
/* Whether k is a unit key: [A-Za-z0-9_-]{1,31}. */
bool fm_dir_key_ok(const char *k);
const struct fm_dir_unit *fm_directory_unit_key(const struct fm_directory *d, const char *key);
/* The id of directory unit u's entity: derived from its key, else from
 * (department, name). */
void fm_directory_unit_id(const struct fm_directory *d, const struct fm_dir_unit *u,
                          char id[FM_ID_MAX]);
/* The directory unit that stands for unit entity u (NULL: none), and u's
 * standing: listed (by its key; by (department, name) for an entity a
 * directory registered; by name for one registered by hand: adopted),
 * retired (a directory registered it and this one no longer lists it) or
 * unlisted (registered by hand, not in the directory). d may be NULL. */
const struct fm_dir_unit *fm_directory_unit_of(const struct fm_directory *d,
                                               const struct fm_unit *u,
                                               enum fm_unit_standing *standing);
/* A material kind's unit of measure (NULL: none given). */
const char *fm_directory_measure(const struct fm_directory *d, const char *kind);
/* Where depot `name` is: the home of the unit so named, else the place the
 * directory's materials section gives it; false when neither. */
bool fm_directory_depot_at(const struct fm_directory *d, const char *name, int32_t *lat_e7,
                           int32_t *lon_e7);
/* The needs of a rule at an alarm level: the highest level defined at or
 * below it (level 1: the rule's own respond). *n gets how many. */
const struct fm_dir_respond *fm_dir_rule_needs(const struct fm_dir_rule *r, unsigned level,
                                               size_t *n);
/* The directory format version d encodes as: 1 without boundaries or
 * levels, 2 with boundaries, 3 with linkage plan levels. */
int fm_directory_format(const struct fm_directory *d);
/* A name of d longer than builds before op format 7 read (FM_NAME_V1_MAX
 * bytes: the directory's own, a county's, department's, unit's, alias's or
 * depot's), or NULL. Such a directory is refused whole by those builds, so
 * publishing it needs node.op_format 7 (FM_ECONFIG below). */
const char *fm_directory_long_name(const struct fm_directory *d);
/* The county (index) whose boundary holds the point, -1 if none does or
 * the directory has no boundaries. Even-odd rule over the county's rings
 * (holes respected); a point on an edge may fall either way. */
int fm_directory_county_at(const struct fm_directory *d, int32_t lat_e7, int32_t lon_e7);
/* Checks the boundary limits and puts the rings in canonical order
 * (grouped by county, stable); FM_EINVAL with a message in err. */
int fm_directory_boundaries_normalise(struct fm_directory *d, char *err, size_t errlen) FM_MUST_USE;
/* Publishes d as a new version (one or more signed ops; the newest version
 * by (hlc, author) wins everywhere) and registers every directory unit no
 * unit entity carries the name of yet, in the same transaction, under an
 * id derived from (department, unit name): every publisher registers the
 * same entity, so concurrent publishes leave one unit per directory unit. */
/* FM_ECONFIG when d needs a newer node.op_format than the node writes: 6
 * for stable unit ids, 7 for a long name (fm_directory_long_name). */
int fm_node_directory_publish(struct fm_node *n, const struct fm_directory *d,
                              char version_out[FM_ID_MAX], size_t *registered) FM_MUST_USE;
/* The winning version; FM_ENOTFOUND if none was published. *out malloc'd. */
int fm_node_directory_get(struct fm_node *n, struct fm_directory **out) FM_MUST_USE;

#endif
