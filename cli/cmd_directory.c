/*
 * cmd_directory.c — `fieldmesh directory publish|check|show`: the
 * organisation directory (member units, their tiers, kinds, counties,
 * teams and vehicles, the classification rules and response targets).
 *
 * `publish` parses the YAML (errors as file:line:column, exit 78), stores
 * it as a signed version that gossips like any op (the newest version wins
 * everywhere) and registers the directory's units that no unit entity
 * carries the name of yet. Only admin and centre nodes may publish.
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>

static int load(struct cli *cl, const char *path, struct fm_directory **d)
{
    char err[FM_PATH_MAX + 512];
    int rc = fm_directory_load_yaml(path, d, err, sizeof err);
    (void)cl;
    if (rc == 0)
        return 0;
    fprintf(stderr, "fieldmesh: %s\n", err[0] ? err : fm_strerror(rc));
    return rc == FM_ECONFIG ? CLI_EXIT_CONFIG : cli_exit_code(rc);
}

static size_t bounded_counties(const struct fm_directory *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->nrings; i++)
        n += i == 0 || d->rings[i].county != d->rings[i - 1].county;
    return n;
}

static void summary(const struct fm_directory *d, FILE *f)
{
    fprintf(f, "%zu counties, %zu departments, %zu units, %zu rules", d->ncounties, d->ndepts,
            d->nunits, d->nrules);
    size_t nplans = 0;
    for (size_t i = 0; i < d->nrules; i++)
        nplans += d->rules[i].nlevels > 0;
    if (d->nrings > 0)
        fprintf(f, "; boundaries for %zu counties (%zu points)", bounded_counties(d),
                d->npoints);
    if (nplans > 0)
        fprintf(f, "; alarm levels for %zu rules", nplans);
    if (d->naliases > 0)
        fprintf(f, "; %zu aliases", d->naliases);
    if (d->nmaterials > 0 || d->ndepots > 0)
        fprintf(f, "; units of measure for %zu material kinds, %zu depots placed",
                d->nmaterials, d->ndepots);
    if (fm_directory_format(d) > 1)
        fprintf(f, ": format version %d", fm_directory_format(d));
    if (d->nskipped > 0)
        fprintf(f, "; %zu section%s this fieldmesh does not read (published by a newer one)",
                d->nskipped, d->nskipped == 1 ? "" : "s");
    fputc('\n', f);
}

/* No node says which directory formats it reads (neither the wire hello
 * nor any op carries it), so a version-2 publish is the admin's call:
 * docs/decisions.md, "Directory format version 2". */
static int refuse_v2(struct cli *cl, const char *file, const struct fm_directory *d)
{
    (void)cl;
    int v = fm_directory_format(d);
    fprintf(stderr,
            "fieldmesh: %s has %s, so it publishes as directory format version %d.\n"
            "fieldmesh: A node built before version %d ignores it and keeps dispatching by the\n"
            "fieldmesh: directory it has now, and nothing tells which nodes those are. Upgrade\n"
            "fieldmesh: every node first (`fieldmesh directory check` on a node reports the\n"
            "fieldmesh: format it reads), then publish again with --force; nothing published.\n",
            file,
            v == 3                 ? "alarm levels (linkage plans)"
            : d->nrings > 0        ? "county boundaries"
            : d->naliases > 0      ? "aliases"
            : d->nmaterials > 0 || d->ndepots > 0 ? "a materials section"
            : d->dup_radius_m || d->dup_window_s || d->nrelated ? "duplicate-call settings"
                                   : "stable unit ids",
            v, v);
    return CLI_EXIT_FAIL;
}

static int run_check(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_directory *d = NULL;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 1, 1, &a);
    if ((rc = load(cl, a.pos[0], &d)) != 0)
        return rc;
    printf("%s: ok: ", a.pos[0]);
    summary(d, stdout);
    printf("this fieldmesh reads directory formats 1, 2 and 3\n");
    fm_directory_free(&d);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_directory_check = {
    "directory", "check", "FILE", "check a directory YAML file without publishing it",
    "  FILE   the directory (format in docs/workflow.md); errors are file:line:column\n",
    run_check,
};

static int count_unit(void *ctx, const struct fm_unit *u)
{
    (void)u;
    (*(size_t *)ctx)++;
    return 0;
}

/* After a publish, one walk of the units: how many there are, and the
 * ones it retired and those registered by hand that it does not list,
 * named (up to a few of each) on stderr. */
struct standing_walk {
    const struct fm_directory *d;
    size_t total, n[3];
    char names[3][512];
};

static int standing_each(void *ctx, const struct fm_unit *u)
{
    struct standing_walk *w = ctx;
    enum fm_unit_standing st;
    w->total++;
    (void)fm_directory_unit_of(w->d, u, &st);
    if (st == FM_UNIT_LISTED)
        return 0;
    char *list = w->names[st];
    size_t len = strlen(list);
    if (w->n[st]++ < 5)
        snprintf(list + len, sizeof w->names[st] - len, "%s%s (%s)", len ? ", " : "", u->name,
                 u->department);
    return 0;
}

static void standing_report(const struct standing_walk *w)
{
    size_t r = w->n[FM_UNIT_RETIRED], h = w->n[FM_UNIT_UNLISTED];
    if (r)
        fprintf(stderr, "retired %zu unit%s no longer listed (never proposed; tickets and "
                        "history kept): %s%s\n",
                r, r == 1 ? "" : "s", w->names[FM_UNIT_RETIRED], r > 5 ? ", ..." : "");
    if (h)
        fprintf(stderr, "warning: %zu unit%s registered by hand %s not in the directory: "
                        "%s%s; list %s under the same name and department to adopt %s\n",
                h, h == 1 ? "" : "s", h == 1 ? "is" : "are", w->names[FM_UNIT_UNLISTED],
                h > 5 ? ", ..." : "", h == 1 ? "it" : "them", h == 1 ? "it" : "them");
}

static int run_publish(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_directory *d = NULL;
    char version[FM_ID_MAX];
    size_t reg = 0;
    int rc;
    static const struct cli_opt opts[] = { { "force", false } };
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if ((rc = load(cl, a.pos[0], &d)) != 0)
        return rc;
    if (fm_directory_format(d) > 1 && !cli_flag(&a, 0)) {
        rc = refuse_v2(cl, a.pos[0], d);
        fm_directory_free(&d);
        return rc;
    }
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0) {
        fm_directory_free(&d);
        return rc;
    }
    size_t before = 0;
    bool counted = fm_node_units(cl->node, count_unit, &before) == FM_OK;
    rc = fm_node_directory_publish(cl->node, d, version, &reg);
    if (rc == FM_EPERM) {
        fm_directory_free(&d);
        return cli_error(cl, rc, "only admin and centre nodes publish the directory (this node "
                                 "is %s)", fm_role_name(cl->cfg.role));
    }
    const char *long_name = fm_directory_long_name(d);
    if (rc == FM_ECONFIG && long_name != NULL && cl->cfg.op_format < 7) {
        rc = cli_error(cl, rc, "%s names '%s' (%zu characters, %zu bytes): a name over %d "
                               "bytes needs node.op_format 7, which nodes built before it "
                               "refuse; set op_format: 7 in %s once every node of the mesh "
                               "runs this build (nothing published)", a.pos[0], long_name,
                       fm_utf8_chars(long_name, strlen(long_name)), strlen(long_name),
                       FM_NAME_V1_MAX, cl->cfg.path);
        fm_directory_free(&d);
        return rc;
    }
    if (rc == FM_ECONFIG) {
        fm_directory_free(&d);
        return cli_error(cl, rc, "%s gives units a stable id, and registering such a unit "
                                 "needs node.op_format 6, which nodes built before it refuse; "
                                 "set op_format: 6 in %s once every node of the mesh runs this "
                                 "build (nothing published)", a.pos[0], cl->cfg.path);
    }
    if (rc == FM_ETOOBIG) {
        fm_directory_free(&d);
        return cli_error(cl, rc, "cannot publish the directory: it encodes to more than 64 "
                                 "chunks of 16,000 bytes, what every node accepts; simplify "
                                 "the county boundaries (8 bytes a point)");
    }
    if (rc != 0) {
        fm_directory_free(&d);
        return cli_error(cl, rc, "cannot publish the directory: %s", fm_strerror(rc));
    }
    cli_after_write(cl);
    printf("%s\n", version);
    fprintf(stderr, "published directory version %s: ", version);
    summary(d, stderr);
    /* the entities it added; the rest of its registrations updated units
     * with a stable id (renamed, moved or given other capabilities) */
    struct standing_walk *w = calloc(1, sizeof *w);
    if (w != NULL) {
        w->d = d;
        counted = counted && fm_node_units(cl->node, standing_each, w) == FM_OK;
    }
    counted = counted && w != NULL;
    size_t after = counted ? w->total : 0;
    size_t added = !counted ? reg : after > before ? after - before : 0;
    size_t updated = reg > added ? reg - added : 0;
    fprintf(stderr, "registered %zu new unit%s", added, added == 1 ? "" : "s");
    if (updated > 0)
        fprintf(stderr, "; updated %zu unit%s with a stable id (renamed, moved or changed)",
                updated, updated == 1 ? "" : "s");
    fputc('\n', stderr);
    if (counted)
        standing_report(w);
    free(w);
    fm_directory_free(&d);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_directory_publish = {
    "directory", "publish", "FILE [--force]",
    "publish the organisation directory as a signed op; prints the version id",
    "  FILE     the directory YAML (configs/directory.yaml is an example).\n"
    "  --force  publish a directory with county boundaries, aliases, materials or\n"
    "           stable unit ids (format version 2) or alarm levels (version 3) although\n"
    "           nodes built before that version will ignore it and keep the one they have\n"
    "  The newest published version wins on every node. Units listed in it that no\n"
    "  unit entity stands for yet are registered in the same transaction, and so is\n"
    "  a unit with a stable `id:` whose name, department, kind or capabilities\n"
    "  changed (needs node.op_format 6). Units it no longer lists are retired:\n"
    "  never proposed, history kept. Needs the admin or centre role.\n",
    run_publish,
};

/* "boundaries": {county: [[lat, lon, lat, lon, ...], ...]}, rings open */
static void put_boundaries_json(struct cli_json *j, const struct fm_directory *d)
{
    cli_json_key(j, "boundaries");
    cli_json_begin_object(j);
    for (size_t i = 0; i < d->nrings; i++) {
        const struct fm_dir_ring *r = &d->rings[i];
        if (i == 0 || d->rings[i - 1].county != r->county) {
            if (i > 0)
                cli_json_end_array(j);
            cli_json_key(j, d->counties[r->county]);
            cli_json_begin_array(j);
        }
        cli_json_begin_array(j);
        for (uint32_t k = 0; k < r->npoints; k++) {
            char buf[CLI_COORD_LEN];
            cli_fmt_coord(d->points[r->first + k].lat_e7, buf);
            cli_json_raw(j, buf);
            cli_fmt_coord(d->points[r->first + k].lon_e7, buf);
            cli_json_raw(j, buf);
        }
        cli_json_end_array(j);
    }
    if (d->nrings > 0)
        cli_json_end_array(j);
    cli_json_end_object(j);
}

/* "respond": [...] of a rule or one of its alarm levels. */
static void needs_json(struct cli_json *j, const struct fm_dir_respond *v, size_t n)
{
    cli_json_key(j, "respond");
    cli_json_begin_array(j);
    for (size_t k = 0; k < n; k++) {
        cli_json_begin_object(j);
        cli_json_kuint(j, "tier", v[k].tier);
        cli_json_kstr(j, "kind", v[k].kind);
        cli_json_kstr(j, "department", v[k].department);
        cli_json_kstr(j, "capability", v[k].capability);
        cli_json_kuint(j, "units", v[k].units);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}

static void put_departments_json(struct cli_json *j, const struct fm_directory *d)
{
    cli_json_key(j, "departments");
    cli_json_begin_array(j);
    for (size_t i = 0; i < d->ndepts; i++) {
        const struct fm_dir_dept *x = &d->depts[i];
        cli_json_begin_object(j);
        cli_json_kstr(j, "name", x->name);
        cli_json_kstr(j, "kind", x->kind);
        cli_json_kuint(j, "tier", x->tier);
        cli_json_kstr(j, "county", d->counties[x->county]);
        cli_json_key(j, "units");
        cli_json_begin_array(j);
        for (size_t k = 0; k < d->nunits; k++) {
            const struct fm_dir_unit *u = &d->units[k];
            if (u->dept != i)
                continue;
            cli_json_begin_object(j);
            cli_json_kstr(j, "name", u->name);
            cli_json_kstr(j, "kind", u->kind);
            cli_json_kstr(j, "capabilities", u->caps);
            cli_json_kcoord(j, "lat", u->lat_e7);
            cli_json_kcoord(j, "lon", u->lon_e7);
            cli_json_end_object(j);
        }
        cli_json_end_array(j);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}

static void needs_text(const struct fm_dir_respond *v, size_t n, const char *indent)
{
    for (size_t k = 0; k < n; k++)
        printf("%stier %u: %u x %s%s%s%s%s%s\n", indent, v[k].tier, v[k].units, v[k].kind,
               v[k].department[0] ? " (" : "", v[k].department, v[k].department[0] ? ")" : "",
               v[k].capability[0] ? " with " : "", v[k].capability);
}

static void put_rules_json(struct cli_json *j, const struct fm_directory *d)
{
    cli_json_key(j, "rules");
    cli_json_begin_array(j);
    for (size_t i = 0; i < d->nrules; i++) {
        const struct fm_dir_rule *r = &d->rules[i];
        cli_json_begin_object(j);
        cli_json_kstr(j, "category", r->category);
        cli_json_kuint(j, "priority", r->priority);
        cli_json_kuint(j, "escalate_priority", r->escalate_priority);
        cli_json_kuint(j, "escalate_after_s", r->escalate_after_s);
        cli_json_kuint(j, "target_s", r->target_s);
        needs_json(j, r->respond, r->nrespond);
        cli_json_key(j, "levels");
        cli_json_begin_array(j);
        for (size_t k = 0; k < r->nlevels && k < FM_DIR_MAX_LEVELS; k++) {
            cli_json_begin_object(j);
            cli_json_kuint(j, "level", r->levels[k].level);
            needs_json(j, r->levels[k].respond, r->levels[k].nrespond);
            cli_json_end_object(j);
        }
        cli_json_end_array(j);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}

static void show_json(const struct fm_directory *d)
{
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j);
    cli_json_kstr(&j, "name", d->name);
    cli_json_kstr(&j, "version", d->version);
    cli_json_kstr(&j, "publisher", d->publisher);
    cli_json_ktime(&j, "published_at", d->version_hlc);
    cli_json_kuint(&j, "format", (uint64_t)fm_directory_format(d));
    cli_json_kuint(&j, "skipped_sections", d->nskipped);
    put_boundaries_json(&j, d);
    cli_json_key(&j, "counties");
    cli_json_begin_array(&j);
    for (size_t i = 0; i < d->ncounties; i++)
        cli_json_string(&j, d->counties[i]);
    cli_json_end_array(&j);
    put_departments_json(&j, d);
    put_rules_json(&j, d);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static void show_text(const struct fm_directory *d)
{
    char when[CLI_TIME_LEN];
    cli_fmt_local(d->version_hlc, false, when);
    printf("%s\nversion %s, published %s by %.8s\n", d->name, d->version, when, d->publisher);
    summary(d, stdout);
    printf("\nrules:\n");
    for (size_t i = 0; i < d->nrules; i++) {
        const struct fm_dir_rule *r = &d->rules[i];
        printf("  %-20s priority %u, target %us, escalate after %us", r->category,
               r->priority, r->target_s, r->escalate_after_s);
        if (r->escalate_priority)
            printf(", tier 2 at once for priority <= %u", r->escalate_priority);
        printf("\n");
        needs_text(r->respond, r->nrespond, "    ");
        for (size_t k = 0; k < r->nlevels && k < FM_DIR_MAX_LEVELS; k++) {
            printf("    alarm level %u:\n", r->levels[k].level);
            needs_text(r->levels[k].respond, r->levels[k].nrespond, "      ");
        }
    }
}

static int run_show(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false } };
    struct cli_args a;
    struct fm_directory *d = NULL;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    rc = fm_node_directory_get(cl->node, &d);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no directory published yet (fieldmesh directory publish FILE)");
    if (rc != 0)
        return cli_error(cl, rc, "cannot read the directory: %s", fm_strerror(rc));
    if (cli_flag(&a, 0))
        show_json(d);
    else
        show_text(d);
    fm_directory_free(&d);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_directory_show = {
    "directory", "show", "[--json]", "show the directory version in force",
    "  --json   the whole directory: name, version, publisher, published_at, format,\n"
    "           boundaries ({county: [[lat, lon, ...], ...]}), counties, departments\n"
    "           (with their units), rules (each with its alarm levels: [{level,\n"
    "           respond}], [] if none)\n",
    run_show,
};
