/*
 * directory_yaml.c — reading the organisation directory from YAML
 * (configs/directory.yaml; format in docs/workflow.md).
 *
 * Like the node config loader (config.c), it lets libyaml build the node
 * tree and walks it against what each mapping may hold; an unknown key, a
 * duplicate key, a value of the wrong shape or out of range, a reference
 * to a county or department that is not listed, or a unit name used twice
 * is an error reported as "file:line:column: message". Parsing, the
 * messages' places, scalars, integers, text and the mapping walk are the
 * strict-YAML toolkit's (node/config/yamlkit.h); what a directory may hold
 * is this file's.
 */
#include "workflow_int.h"
#include "../config/yamlkit.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIR_FILE_MAX (8u << 20) /* room for the boundaries' points */

/* A directory load: the toolkit's loader and the directory being filled. */
struct dl {
    struct yk_loader yk;
    struct fm_directory *d;
};

/* The directory of the load that L belongs to. */
static struct fm_directory *dir_of(struct yk_loader *L)
{
    return ((struct dl *)(void *)((char *)L - offsetof(struct dl, yk)))->d;
}

static int get_token(struct yk_loader *L, yaml_node_t *v, const char *key, char *out, size_t cap)
{
    const char *s = NULL;
    int rc = yk_scalar(L, v, key, &s);
    if (rc != 0)
        return rc;
    if (!payload_token_ok(s, 1, cap - 1))
        return yk_fail(L, v, "'%s' must be 1 to %zu characters of a-z, 0-9, '_' or '-', not "
                             "'%s'", key, cap - 1, s);
    fm_strlcpy(out, s, cap);
    return 0;
}

static int get_coord(struct yk_loader *L, yaml_node_t *v, const char *what, double limit, int32_t *e7)
{
    const char *s = NULL;
    double d;
    if ((s = yk_plain(v)) == NULL)
        return yk_fail(L, v, "expected a number for the %s", what);
    if (fm_parse_double(s, -limit, limit, &d) != 0)
        return yk_fail(L, v, "the %s must be a number from %g to %g, not '%s'", what, -limit,
                       limit, s);
    *e7 = (int32_t)lround(d * 1e7);
    return 0;
}

/* ---- units ---- */

struct unit_arg {
    struct fm_dir_unit *u;
    bool name, kind, home;
};

static int caps_from(struct yk_loader *L, yaml_node_t *v, char *out, size_t cap)
{
    char joined[FM_TEXT_MAX];
    size_t used = 0;
    joined[0] = '\0';
    if (v->type == YAML_SCALAR_NODE) {
        const char *s = NULL;
        int rc = yk_scalar(L, v, "capabilities", &s);
        if (rc != 0)
            return rc;
        if (fm_strlcpy(joined, s, sizeof joined) != FM_OK)
            return yk_fail(L, v, "'capabilities' is too long");
    } else if (v->type == YAML_SEQUENCE_NODE) {
        yaml_node_t *item;
        YK_SEQ_EACH(L, v, item) {
            char tok[FM_CATEGORY_MAX];
            int rc = get_token(L, item, "capabilities", tok, sizeof tok);
            if (rc != 0)
                return rc;
            size_t n = strlen(tok);
            if (used + n + 2 >= sizeof joined)
                return yk_fail(L, item, "too many capabilities");
            if (used > 0)
                joined[used++] = ',';
            memcpy(joined + used, tok, n + 1);
            used += n;
        }
    } else {
        return yk_fail(L, v, "expected a list of capabilities");
    }
    if (payload_caps_canonical(joined, out, cap) != FM_OK)
        return yk_fail(L, v, "capabilities must be words of a-z, 0-9, '_' or '-' (at most 31 "
                             "characters each, %zu bytes in all)", cap - 1);
    return 0;
}

static int unit_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v, void *arg)
{
    struct unit_arg *a = arg;
    if (strcmp(key, "name") == 0) {
        a->name = true;
        int rc = yk_name(L, v, key, a->u->name);
        if (rc == 0 && strncmp(a->u->name, FM_DEPT_CLAIM, FM_DEPT_CLAIM_LEN) == 0)
            return yk_fail(L, v, "a unit name may not start with '%s' (a station certificate's "
                                 "claim on a whole department)", FM_DEPT_CLAIM);
        return rc;
    }
    if (strcmp(key, "kind") == 0) {
        a->kind = true;
        return get_token(L, v, key, a->u->kind, FM_DIR_KIND_MAX);
    }
    if (strcmp(key, "capabilities") == 0)
        return caps_from(L, v, a->u->caps, sizeof a->u->caps);
    if (strcmp(key, "id") == 0) {
        const char *s = NULL;
        int rc = yk_scalar(L, v, key, &s);
        if (rc != 0)
            return rc;
        if (strlen(s) >= sizeof a->u->key || !fm_dir_key_ok(s))
            return yk_fail(L, v, "'id' must be 1 to %d letters, digits, '_' or '-' (a stable id "
                                 "for the unit, kept when it is renamed); got '%s'",
                           FM_DIR_KEY_MAX - 1, s);
        memcpy(a->u->key, s, strlen(s) + 1);
        return 0;
    }
    if (strcmp(key, "home") == 0) {
        if (v->type != YAML_SEQUENCE_NODE || yk_seq_len(v) != 2)
            return yk_fail(L, v, "'home' must be [latitude, longitude]");
        yaml_node_t *lat = yk_seq_at(L, v, 0), *lon = yk_seq_at(L, v, 1);
        int rc;
        if (lat == NULL || lon == NULL)
            return yk_fail(L, v, "'home' must be [latitude, longitude]");
        if ((rc = get_coord(L, lat, "latitude", 90, &a->u->lat_e7)) != 0 ||
            (rc = get_coord(L, lon, "longitude", 180, &a->u->lon_e7)) != 0)
            return rc;
        a->home = true;
        return 0;
    }
    return yk_fail(L, kn, "unknown key '%s' in a unit (expected name, id, kind, capabilities, "
                          "home)", key);
}

static int load_units(struct yk_loader *L, yaml_node_t *v, uint16_t dept)
{
    struct fm_directory *d = dir_of(L);
    yaml_node_t *item;
    int rc = yk_need_seq(L, v, "units");
    if (rc != 0)
        return rc;
    YK_SEQ_EACH(L, v, item) {
        if (d->nunits >= FM_DIR_MAX_UNITS)
            return yk_fail(L, item, "too many units (at most %d)", FM_DIR_MAX_UNITS);
        struct unit_arg a = {.u = &d->units[d->nunits]};
        memset(a.u, 0, sizeof *a.u);
        a.u->dept = dept;
        if ((rc = yk_map_each(L, item, "a unit", unit_field, &a)) != 0)
            return rc;
        if (!a.name || !a.kind || !a.home)
            return yk_fail(L, item, "a unit needs name, kind and home");
        for (size_t k = 0; k < d->nunits; k++) {
            if (strcmp(d->units[k].name, a.u->name) == 0)
                return yk_fail(L, item, "unit name '%s' is used twice (names must be unique)",
                               a.u->name);
            if (a.u->key[0] && strcmp(d->units[k].key, a.u->key) == 0)
                return yk_fail(L, item, "unit id '%s' is used twice (ids must be unique)",
                               a.u->key);
        }
        d->nunits++;
    }
    return 0;
}

/* ---- departments ---- */

struct dept_arg {
    struct fm_dir_dept *x;
    yaml_node_t *units;
    bool name, kind, tier, county;
};

static int dept_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v, void *arg)
{
    struct dept_arg *a = arg;
    struct fm_directory *d = dir_of(L);
    uint64_t u;
    int rc;
    if (strcmp(key, "name") == 0) {
        a->name = true;
        return yk_name(L, v, key, a->x->name);
    }
    if (strcmp(key, "kind") == 0) {
        a->kind = true;
        return get_token(L, v, key, a->x->kind, FM_DIR_KIND_MAX);
    }
    if (strcmp(key, "tier") == 0) {
        if ((rc = yk_uint(L, v, key, 1, 3, &u)) != 0)
            return rc;
        a->x->tier = (uint8_t)u;
        a->tier = true;
        return 0;
    }
    if (strcmp(key, "county") == 0) {
        char name[FM_NAME_MAX];
        if ((rc = yk_name(L, v, key, name)) != 0)
            return rc;
        for (size_t i = 0; i < d->ncounties; i++) {
            if (strcmp(d->counties[i], name) == 0) {
                a->x->county = (uint16_t)i;
                a->county = true;
                return 0;
            }
        }
        return yk_fail(L, v, "county '%s' is not in the counties list", name);
    }
    if (strcmp(key, "units") == 0) {
        a->units = v;
        return 0;
    }
    return yk_fail(L, kn, "unknown key '%s' in a department (expected name, kind, tier, county, "
                          "units)", key);
}

static int load_depts(struct yk_loader *L, yaml_node_t *v)
{
    struct fm_directory *d = dir_of(L);
    yaml_node_t *item;
    int rc = yk_need_seq(L, v, "departments");
    if (rc != 0)
        return rc;
    YK_SEQ_EACH(L, v, item) {
        if (d->ndepts >= FM_DIR_MAX_DEPTS)
            return yk_fail(L, item, "too many departments (at most %d)", FM_DIR_MAX_DEPTS);
        struct dept_arg a = {.x = &d->depts[d->ndepts]};
        memset(a.x, 0, sizeof *a.x);
        if ((rc = yk_map_each(L, item, "a department", dept_field, &a)) != 0)
            return rc;
        if (!a.name || !a.kind || !a.tier || !a.county)
            return yk_fail(L, item, "a department needs name, kind, tier and county");
        for (size_t k = 0; k < d->ndepts; k++)
            if (strcmp(d->depts[k].name, a.x->name) == 0)
                return yk_fail(L, item, "department '%s' is listed twice", a.x->name);
        uint16_t idx = (uint16_t)d->ndepts++;
        if (a.units != NULL && (rc = load_units(L, a.units, idx)) != 0)
            return rc;
    }
    return 0;
}

/* ---- rules ---- */

struct resp_arg {
    struct fm_dir_respond *e;
    bool tier, kind;
};

static int resp_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v, void *arg)
{
    struct resp_arg *a = arg;
    uint64_t u;
    int rc;
    if (strcmp(key, "tier") == 0) {
        if ((rc = yk_uint(L, v, key, 1, 3, &u)) != 0)
            return rc;
        a->e->tier = (uint8_t)u;
        a->tier = true;
        return 0;
    }
    if (strcmp(key, "kind") == 0) {
        a->kind = true;
        return get_token(L, v, key, a->e->kind, FM_DIR_KIND_MAX);
    }
    if (strcmp(key, "department") == 0) {
        if ((rc = yk_name(L, v, key, a->e->department)) != 0)
            return rc;
        if (directory_dept(dir_of(L), a->e->department) == NULL)
            return yk_fail(L, v, "department '%s' is not in the departments list",
                           a->e->department);
        return 0;
    }
    if (strcmp(key, "capability") == 0)
        return get_token(L, v, key, a->e->capability, sizeof a->e->capability);
    if (strcmp(key, "units") == 0) {
        if ((rc = yk_uint(L, v, key, 1, 9, &u)) != 0)
            return rc;
        a->e->units = (uint8_t)u;
        return 0;
    }
    return yk_fail(L, kn, "unknown key '%s' in a response need (expected tier, kind, department, "
                          "capability, units)", key);
}

/* A list of response needs (a rule's respond, or a level's). */
static int load_needs(struct yk_loader *L, yaml_node_t *v, const char *key, struct fm_dir_respond *arr,
                      uint8_t *n)
{
    yaml_node_t *item;
    int rc = yk_need_seq(L, v, key);
    if (rc != 0)
        return rc;
    YK_SEQ_EACH(L, v, item) {
        if (*n >= FM_DIR_MAX_RESPOND)
            return yk_fail(L, item, "too many response needs (at most %d)", FM_DIR_MAX_RESPOND);
        struct resp_arg ra = {.e = &arr[*n]};
        memset(ra.e, 0, sizeof *ra.e);
        ra.e->units = 1;
        if ((rc = yk_map_each(L, item, "a response need", resp_field, &ra)) != 0)
            return rc;
        if (!ra.tier || !ra.kind)
            return yk_fail(L, item, "a response need needs tier and kind");
        (*n)++;
    }
    return 0;
}

/* ---- linkage plan levels: [{level: 2, respond: [...]}, ...] ---- */

struct level_arg {
    struct fm_dir_level *l;
    yaml_node_t *level_node, *respond_node;
};

static int level_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v, void *arg)
{
    struct level_arg *a = arg;
    uint64_t u;
    int rc;
    if (strcmp(key, "level") == 0) {
        if ((rc = yk_uint(L, v, key, 2, FM_ALARM_MAX, &u)) != 0)
            return rc;
        a->l->level = (uint8_t)u;
        a->level_node = v;
        return 0;
    }
    if (strcmp(key, "respond") == 0) {
        a->respond_node = v;
        return load_needs(L, v, key, a->l->respond, &a->l->nrespond);
    }
    return yk_fail(L, kn, "unknown key '%s' in a level (expected level, respond)", key);
}

static int load_levels(struct yk_loader *L, yaml_node_t *v, struct fm_dir_rule *r)
{
    yaml_node_t *item;
    int rc = yk_need_seq(L, v, "levels");
    if (rc != 0)
        return rc;
    YK_SEQ_EACH(L, v, item) {
        if (r->nlevels >= FM_DIR_MAX_LEVELS)
            return yk_fail(L, item, "too many levels (at most %d: levels 2 to %d)",
                           FM_DIR_MAX_LEVELS, FM_ALARM_MAX);
        struct level_arg a = {.l = &r->levels[r->nlevels]};
        memset(a.l, 0, sizeof *a.l);
        if ((rc = yk_map_each(L, item, "a level", level_field, &a)) != 0)
            return rc;
        if (a.level_node == NULL)
            return yk_fail(L, item, "a level needs 'level' (2 to %d; level 1 is the rule's "
                                    "own respond)", FM_ALARM_MAX);
        if (a.respond_node == NULL || a.l->nrespond == 0)
            return yk_fail(L, a.respond_node ? a.respond_node : item,
                           "level %u needs a non-empty 'respond' (the full set of needs at "
                           "that level)", a.l->level);
        if (r->nlevels > 0 && a.l->level == r->levels[r->nlevels - 1].level)
            return yk_fail(L, a.level_node, "level %u is listed twice", a.l->level);
        if (r->nlevels > 0 && a.l->level < r->levels[r->nlevels - 1].level)
            return yk_fail(L, a.level_node, "levels must be in ascending order (%u after %u)",
                           a.l->level, r->levels[r->nlevels - 1].level);
        r->nlevels++;
    }
    return 0;
}

struct rule_arg {
    struct fm_dir_rule *r;
    bool category;
};

static int rule_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v, void *arg)
{
    struct rule_arg *a = arg;
    struct fm_dir_rule *r = a->r;
    uint64_t u;
    int rc;
    if (strcmp(key, "category") == 0) {
        a->category = true;
        return get_token(L, v, key, r->category, sizeof r->category);
    }
    if (strcmp(key, "priority") == 0 || strcmp(key, "escalate_priority") == 0) {
        bool esc = key[0] == 'e';
        if ((rc = yk_uint(L, v, key, esc ? 0 : 1, 5, &u)) != 0)
            return rc;
        *(esc ? &r->escalate_priority : &r->priority) = (uint8_t)u;
        return 0;
    }
    if (strcmp(key, "escalate_after_s") == 0 || strcmp(key, "target_s") == 0) {
        if ((rc = yk_uint(L, v, key, 0, 7 * 86400, &u)) != 0)
            return rc;
        *(key[0] == 'e' ? &r->escalate_after_s : &r->target_s) = (uint32_t)u;
        return 0;
    }
    if (strcmp(key, "respond") == 0)
        return load_needs(L, v, key, r->respond, &r->nrespond);
    if (strcmp(key, "levels") == 0)
        return load_levels(L, v, r);
    return yk_fail(L, kn, "unknown key '%s' in a rule (expected category, priority, "
                          "escalate_priority, escalate_after_s, target_s, respond, levels)",
                   key);
}

/* Is `cap` one of the comma-separated capabilities of list ("" fits)? */
static bool caps_list_has(const char *list, const char *cap)
{
    size_t n = strlen(cap);
    if (n == 0)
        return true;
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, cap, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

/* A need no unit of the directory can ever fill is a mistake in the rule
 * (a typing error in a kind or capability): say which part matches
 * nothing, or NULL when some unit fits. */
static const char *need_unfillable(const struct fm_directory *d, const struct fm_dir_respond *e)
{
    bool kind = false, dept = false;
    for (size_t i = 0; i < d->ndepts; i++) {
        kind |= strcmp(d->depts[i].kind, e->kind) == 0;
        dept |= strcmp(d->depts[i].kind, e->kind) == 0 &&
                (!e->department[0] || strcmp(d->depts[i].name, e->department) == 0);
    }
    if (!kind)
        return "kind";
    if (!dept)
        return "department";
    if (e->capability[0] == '\0')
        return NULL; /* any unit of such a department, the directory's or one registered */
    for (size_t i = 0; i < d->nunits; i++) {
        const struct fm_dir_dept *x = &d->depts[d->units[i].dept];
        if (strcmp(x->kind, e->kind) == 0 &&
            (!e->department[0] || strcmp(x->name, e->department) == 0) &&
            caps_list_has(d->units[i].caps, e->capability))
            return NULL;
    }
    return "capability";
}

static int check_needs(struct yk_loader *L, yaml_node_t *item, const struct fm_dir_rule *r)
{
    const struct fm_directory *d = dir_of(L);
    for (size_t lv = 0; lv <= r->nlevels && lv <= FM_DIR_MAX_LEVELS; lv++) {
        const struct fm_dir_respond *v = lv == 0 ? r->respond : r->levels[lv - 1].respond;
        size_t n = lv == 0 ? r->nrespond : r->levels[lv - 1].nrespond;
        for (size_t k = 0; k < n; k++) {
            const char *bad = need_unfillable(d, &v[k]);
            if (bad == NULL)
                continue;
            const char *what = strcmp(bad, "kind") == 0 ? v[k].kind
                               : strcmp(bad, "department") == 0 ? v[k].department
                                                                 : v[k].capability;
            return yk_fail(L, item, "rule '%s' needs %s '%s'%s%s, which no %s of the directory "
                           "has (a unit could never be proposed for it)", r->category, bad,
                           what, strcmp(bad, "kind") == 0 ? "" : " of kind ",
                           strcmp(bad, "kind") == 0 ? "" : v[k].kind,
                           strcmp(bad, "capability") == 0 ? "unit" : "department");
        }
    }
    return 0;
}

static int load_rules(struct yk_loader *L, yaml_node_t *v)
{
    struct fm_directory *d = dir_of(L);
    yaml_node_t *item;
    int rc = yk_need_seq(L, v, "rules");
    if (rc != 0)
        return rc;
    YK_SEQ_EACH(L, v, item) {
        if (d->nrules >= FM_DIR_MAX_RULES)
            return yk_fail(L, item, "too many rules (at most %d)", FM_DIR_MAX_RULES);
        struct rule_arg a = {.r = &d->rules[d->nrules]};
        memset(a.r, 0, sizeof *a.r);
        a.r->priority = 3;
        if ((rc = yk_map_each(L, item, "a rule", rule_field, &a)) != 0)
            return rc;
        if (!a.category)
            return yk_fail(L, item, "a rule needs a category");
        if (fm_directory_rule(d, a.r->category) != NULL)
            return yk_fail(L, item, "two rules for category '%s'", a.r->category);
        if (d->ndepts > 0 && (rc = check_needs(L, item, a.r)) != 0)
            return rc; /* (no department at all is refused below, with its own words) */
        d->nrules++;
    }
    return 0;
}

/* ---- boundaries: county -> [[lat, lon, lat, lon, ...], ...] ---- */

static int county_index(const struct fm_directory *d, const char *name)
{
    for (size_t i = 0; i < d->ncounties; i++)
        if (strcmp(d->counties[i], name) == 0)
            return (int)i;
    return -1;
}

static int load_ring(struct yk_loader *L, yaml_node_t *v, uint16_t county)
{
    struct fm_directory *d = dir_of(L);
    yaml_node_t *item;
    size_t n = 0;
    int rc;
    if (v->type != YAML_SEQUENCE_NODE)
        return yk_fail(L, v, "expected a ring as a flat list [lat, lon, lat, lon, ...]");
    if (d->nrings >= FM_DIR_MAX_RINGS)
        return yk_fail(L, v, "too many boundary rings (at most %d)", FM_DIR_MAX_RINGS);
    struct fm_dir_ring *r = &d->rings[d->nrings];
    r->county = county;
    r->first = (uint32_t)d->npoints;
    YK_SEQ_EACH(L, v, item) {
        struct fm_dir_point *p = &d->points[d->npoints];
        if (n % 2 == 0 && d->npoints >= FM_DIR_MAX_POINTS)
            return yk_fail(L, item, "too many boundary points (at most %d)", FM_DIR_MAX_POINTS);
        if (n % 2 == 0 ? (rc = get_coord(L, item, "latitude", 90.0, &p->lat_e7))
                       : (rc = get_coord(L, item, "longitude", 180.0, &p->lon_e7)))
            return rc;
        if (n++ % 2 == 1)
            d->npoints++;
    }
    if (n % 2 != 0)
        return yk_fail(L, v, "a ring needs lat, lon pairs (%zu numbers is odd)", n);
    r->npoints = (uint32_t)(n / 2);
    if (r->npoints < 3)
        return yk_fail(L, v, "a ring needs at least 3 points, not %u", (unsigned)r->npoints);
    const struct fm_dir_point *a = &d->points[r->first], *z = &a[r->npoints - 1];
    if (a->lat_e7 == z->lat_e7 && a->lon_e7 == z->lon_e7)
        return yk_fail(L, v, "a ring is written open: drop the last point, it repeats the first");
    d->nrings++;
    return 0;
}

static int bound_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v, void *arg)
{
    yaml_node_t *item;
    int rc, county = county_index(dir_of(L), key);
    (void)arg;
    if (county < 0)
        return yk_fail(L, kn, "boundary for '%s', which is not in the counties list", key);
    if ((rc = yk_need_seq(L, v, key)) != 0)
        return rc;
    YK_SEQ_EACH(L, v, item) {
        if ((rc = load_ring(L, item, (uint16_t)county)) != 0)
            return rc;
    }
    if (yk_seq_len(v) == 0)
        return yk_fail(L, v, "the boundary of '%s' has no ring", key);
    return 0;
}

static int load_boundaries(struct yk_loader *L, yaml_node_t *v)
{
    char err[256];
    int rc = yk_map_each(L, v, "boundaries", bound_field, NULL);
    if (rc != 0)
        return rc;
    if ((rc = fm_directory_boundaries_normalise(dir_of(L), err, sizeof err)) == FM_ENOMEM)
        return rc;
    return rc != FM_OK ? yk_fail(L, v, "%s", err) : 0;
}

/* ---- aliases: name -> word (directory_aliases.c) ---- */

static int alias_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v,
                       void *arg)
{
    struct fm_directory *d = dir_of(L);
    (void)arg;
    if (d->naliases >= FM_DIR_MAX_ALIASES)
        return yk_fail(L, kn, "too many aliases (at most %d)", FM_DIR_MAX_ALIASES);
    struct fm_dir_alias *a = &d->aliases[d->naliases];
    size_t klen = strlen(key), chars = fm_utf8_chars(key, klen);
    if (chars > FM_NAME_CHARS || klen >= sizeof a->name)
        return yk_fail(L, kn, "alias '%s' is %zu characters (%zu bytes); at most %d characters "
                              "and %zu bytes", key, chars, klen, FM_NAME_CHARS, sizeof a->name - 1);
    if (!payload_name_ok(key))
        return yk_fail(L, kn, "alias '%s' must be printable text", key);
    fm_strlcpy(a->name, key, sizeof a->name);
    int rc = get_token(L, v, key, a->word, sizeof a->word);
    if (rc != 0)
        return rc;
    if (fm_directory_rule(d, key) != NULL || strcmp(key, a->word) == 0)
        return yk_fail(L, kn, "alias '%s' is itself a category: an alias names another word",
                       key);
    d->naliases++;
    return 0;
}

static int load_aliases(struct yk_loader *L, yaml_node_t *v)
{
    char err[256];
    int rc = yk_map_each(L, v, "aliases", alias_field, NULL);
    if (rc != 0)
        return rc;
    if ((rc = directory_aliases_normalise(dir_of(L), err, sizeof err)) == FM_ENOMEM)
        return rc;
    return rc != FM_OK ? yk_fail(L, v, "%s", err) : 0;
}

/* ---- materials: units of measure and depots (directory_materials.c) ---- */

/* units: {kind: measure, ...} */
static int measure_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v,
                         void *arg)
{
    struct fm_directory *d = dir_of(L);
    (void)arg;
    if (d->nmaterials >= FM_DIR_MAX_MATERIALS)
        return yk_fail(L, kn, "too many material kinds (at most %d)", FM_DIR_MAX_MATERIALS);
    struct fm_dir_material *m = &d->materials[d->nmaterials];
    memset(m, 0, sizeof *m);
    if (strlen(key) >= sizeof m->kind)
        return yk_fail(L, kn, "material kind '%s' is too long (at most %zu bytes)", key,
                       sizeof m->kind - 1);
    fm_strlcpy(m->kind, key, sizeof m->kind);
    const char *s = NULL;
    int rc = yk_scalar(L, v, key, &s);
    if (rc != 0)
        return rc;
    if (strlen(s) >= sizeof m->measure)
        return yk_fail(L, v, "the unit of measure of '%s' is %zu bytes; at most %zu", key,
                       strlen(s), sizeof m->measure - 1);
    fm_strlcpy(m->measure, s, sizeof m->measure);
    d->nmaterials++;
    return 0;
}

struct depot_arg {
    struct fm_dir_depot *p;
    bool name, at;
};

static int depot_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v,
                       void *arg)
{
    struct depot_arg *a = arg;
    if (strcmp(key, "name") == 0) {
        a->name = true;
        return yk_name(L, v, key, a->p->name);
    }
    if (strcmp(key, "at") == 0) {
        yaml_node_t *lat = NULL, *lon = NULL;
        if (v->type == YAML_SEQUENCE_NODE && yk_seq_len(v) == 2) {
            lat = yk_seq_at(L, v, 0);
            lon = yk_seq_at(L, v, 1);
        }
        if (lat == NULL || lon == NULL)
            return yk_fail(L, v, "'at' must be [latitude, longitude]");
        int rc;
        if ((rc = get_coord(L, lat, "latitude", 90, &a->p->lat_e7)) != 0 ||
            (rc = get_coord(L, lon, "longitude", 180, &a->p->lon_e7)) != 0)
            return rc;
        a->at = true;
        return 0;
    }
    return yk_fail(L, kn, "unknown key '%s' in a depot (expected name, at)", key);
}

static int materials_field(struct yk_loader *L, const char *key, yaml_node_t *kn,
                           yaml_node_t *v, void *arg)
{
    struct fm_directory *d = dir_of(L);
    yaml_node_t *item;
    int rc;
    (void)arg;
    if (strcmp(key, "units") == 0)
        return yk_map_each(L, v, "materials units", measure_field, NULL);
    if (strcmp(key, "depots") != 0)
        return yk_fail(L, kn, "unknown key '%s' in materials (expected units, depots)", key);
    if ((rc = yk_need_seq(L, v, "depots")) != 0)
        return rc;
    YK_SEQ_EACH(L, v, item) {
        if (d->ndepots >= FM_DIR_MAX_DEPOTS)
            return yk_fail(L, item, "too many depots (at most %d)", FM_DIR_MAX_DEPOTS);
        struct depot_arg a = {.p = &d->depots[d->ndepots]};
        memset(a.p, 0, sizeof *a.p);
        if ((rc = yk_map_each(L, item, "a depot", depot_field, &a)) != 0)
            return rc;
        if (!a.name || !a.at)
            return yk_fail(L, item, "a depot needs name and at");
        if (fm_directory_unit(d, a.p->name) != NULL)
            return yk_fail(L, item, "depot '%s' is also a unit: a unit's stock is at its home",
                           a.p->name);
        for (size_t k = 0; k < d->ndepots; k++)
            if (strcmp(d->depots[k].name, a.p->name) == 0)
                return yk_fail(L, item, "depot '%s' is placed twice", a.p->name);
        d->ndepots++;
    }
    return 0;
}

static int load_materials(struct yk_loader *L, yaml_node_t *v)
{
    char err[256];
    int rc = yk_map_each(L, v, "materials", materials_field, NULL);
    if (rc != 0)
        return rc;
    if ((rc = directory_materials_normalise(dir_of(L), err, sizeof err)) == FM_ENOMEM)
        return rc;
    return rc != FM_OK ? yk_fail(L, v, "%s", err) : 0;
}

/* ---- duplicates: radius_m, window_min, related (directory_dups.c) ---- */

static int load_related(struct yk_loader *L, yaml_node_t *v)
{
    struct fm_directory *d = dir_of(L);
    yaml_node_t *group, *item;
    int rc = yk_need_seq(L, v, "related");
    uint8_t g = 0;
    if (rc != 0)
        return rc;
    YK_SEQ_EACH(L, v, group) {
        if ((rc = yk_need_seq(L, group, "a group of related categories")) != 0)
            return rc;
        if (yk_seq_len(group) < 2)
            return yk_fail(L, group, "a group of related categories needs at least two");
        YK_SEQ_EACH(L, group, item) {
            if (d->nrelated >= FM_DIR_MAX_RELATED)
                return yk_fail(L, item, "too many related categories (at most %d)",
                               FM_DIR_MAX_RELATED);
            struct fm_dir_related *r = &d->related[d->nrelated];
            if ((rc = get_token(L, item, "related", r->category, sizeof r->category)) != 0)
                return rc;
            if (fm_directory_rule(d, r->category) == NULL)
                return yk_fail(L, item, "related category '%s' has no rule", r->category);
            for (size_t k = 0; k < d->nrelated; k++)
                if (strcmp(d->related[k].category, r->category) == 0)
                    return yk_fail(L, item, "category '%s' is in two groups of related "
                                            "categories", r->category);
            r->group = g;
            d->nrelated++;
        }
        if (g == UINT8_MAX)
            return yk_fail(L, group, "too many groups of related categories");
        g++;
    }
    return 0;
}

static int dups_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v,
                      void *arg)
{
    struct fm_directory *d = dir_of(L);
    uint64_t x;
    int rc;
    (void)arg;
    if (strcmp(key, "radius_m") == 0) {
        if ((rc = yk_uint(L, v, key, 1, 50000, &x)) != 0)
            return rc;
        d->dup_radius_m = (uint32_t)x;
        return 0;
    }
    if (strcmp(key, "window_min") == 0) {
        if ((rc = yk_uint(L, v, key, 1, 1440, &x)) != 0)
            return rc;
        d->dup_window_s = (uint32_t)x * 60;
        return 0;
    }
    if (strcmp(key, "related") == 0)
        return load_related(L, v);
    return yk_fail(L, kn, "unknown key '%s' in duplicates (expected radius_m, window_min, "
                          "related)", key);
}

static int load_dups(struct yk_loader *L, yaml_node_t *v)
{
    char err[256];
    int rc = yk_map_each(L, v, "duplicates", dups_field, NULL);
    if (rc != 0)
        return rc;
    if ((rc = directory_dups_normalise(dir_of(L), err, sizeof err)) == FM_ENOMEM)
        return rc;
    return rc != FM_OK ? yk_fail(L, v, "%s", err) : 0;
}

/* ---- top level ---- */

struct top_arg {
    yaml_node_t *counties, *depts, *rules, *bounds, *aliases, *dups, *materials;
    bool name;
};

static int top_field(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v, void *arg)
{
    struct top_arg *a = arg;
    if (strcmp(key, "name") == 0) {
        a->name = true;
        return yk_name(L, v, key, dir_of(L)->name);
    }
    if (strcmp(key, "counties") == 0) {
        a->counties = v;
        return 0;
    }
    if (strcmp(key, "departments") == 0) {
        a->depts = v;
        return 0;
    }
    if (strcmp(key, "rules") == 0) {
        a->rules = v;
        return 0;
    }
    if (strcmp(key, "boundaries") == 0) {
        a->bounds = v;
        return 0;
    }
    if (strcmp(key, "aliases") == 0) {
        a->aliases = v;
        return 0;
    }
    if (strcmp(key, "duplicates") == 0) {
        a->dups = v;
        return 0;
    }
    if (strcmp(key, "materials") == 0) {
        a->materials = v;
        return 0;
    }
    return yk_fail(L, kn, "unknown key '%s' (expected name, counties, departments, rules, "
                          "boundaries, aliases, duplicates, materials)", key);
}

static int load_doc(struct yk_loader *L)
{
    struct fm_directory *d = dir_of(L);
    struct top_arg a = {0};
    yaml_node_t *root = yk_root(L), *item;
    int rc;
    if (root == NULL)
        return yk_fail_at(L, 1, 1, "empty directory (expected name, counties, departments, "
                                   "rules)");
    if ((rc = yk_map_each(L, root, "the top level", top_field, &a)) != 0)
        return rc;
    if (!a.name || a.counties == NULL || a.depts == NULL)
        return yk_fail(L, root, "the directory needs name, counties and departments");
    if ((rc = yk_need_seq(L, a.counties, "counties")) != 0)
        return rc;
    YK_SEQ_EACH(L, a.counties, item) {
        if (d->ncounties >= FM_DIR_MAX_COUNTIES)
            return yk_fail(L, item, "too many counties (at most %d)", FM_DIR_MAX_COUNTIES);
        if ((rc = yk_name(L, item, "counties", d->counties[d->ncounties])) != 0)
            return rc;
        for (size_t k = 0; k < d->ncounties; k++)
            if (strcmp(d->counties[k], d->counties[d->ncounties]) == 0)
                return yk_fail(L, item, "county '%s' is listed twice", d->counties[k]);
        d->ncounties++;
    }
    if ((rc = load_depts(L, a.depts)) != 0)
        return rc;
    if (a.rules != NULL && (rc = load_rules(L, a.rules)) != 0)
        return rc;
    if (a.bounds != NULL && (rc = load_boundaries(L, a.bounds)) != 0)
        return rc;
    if (a.aliases != NULL && (rc = load_aliases(L, a.aliases)) != 0)
        return rc;
    if (a.dups != NULL && (rc = load_dups(L, a.dups)) != 0)
        return rc;
    if (a.materials != NULL && (rc = load_materials(L, a.materials)) != 0)
        return rc;
    /* a published directory replaces the one before it everywhere: one
     * without departments or rules would wipe every dispatch rule */
    if (d->ndepts == 0)
        return yk_fail(L, a.depts, "the directory lists no department (publishing it would "
                                   "remove every department everywhere)");
    if (d->nrules == 0)
        return yk_fail(L, a.rules != NULL ? a.rules : root,
                       "the directory has no rule (publishing it would remove every "
                       "dispatch rule everywhere)");
    return 0;
}

int fm_directory_load_yaml(const char *path, struct fm_directory **out, char *err,
                           size_t errlen)
{
    struct yk_loader R;
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    yk_init(&R, path, err, errlen);
    int rc = yk_read_file(&R, DIR_FILE_MAX, &buf, &len);
    if (rc != FM_OK)
        return rc;
    rc = fm_directory_parse_yaml(path, buf, len, out, err, errlen);
    free(buf);
    return rc;
}

int directory_parse_yaml_into(const char *name, const char *buf, size_t len,
                              struct fm_directory *d, char *err, size_t errlen)
{
    struct dl D = {.d = d};
    int rc;
    memset(d, 0, sizeof *d);
    yk_init(&D.yk, name, err, errlen);
    if (len > DIR_FILE_MAX)
        return yk_fail_at(&D.yk, 1, 1, "file too large (max %u bytes)", DIR_FILE_MAX);
    if ((rc = yk_parse(&D.yk, buf, len)) == FM_OK)
        rc = load_doc(&D.yk);
    yk_release(&D.yk);
    return rc;
}

int fm_directory_parse_yaml(const char *name, const char *buf, size_t len,
                            struct fm_directory **out, char *err, size_t errlen)
{
    struct fm_directory *d = malloc(sizeof *d);
    *out = NULL;
    if (d == NULL)
        return FM_ENOMEM;
    int rc = directory_parse_yaml_into(name, buf, len, d, err, errlen);
    if (rc == FM_OK)
        *out = d;
    else
        free(d);
    return rc;
}
