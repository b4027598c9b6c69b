/*
 * cmd_incident.c — `fieldmesh incident report|list|show|note|status`
 * (`edit` is in cmd_incident_edit.c).
 *
 * Writes need the node's identity (each is one signed op); reads open the
 * store read-only and print a table or, with --json, the stable fields
 * documented in docs/cli.md. Ids may be given as any unambiguous prefix.
 */
#include "cli_wf.h"

#include <string.h>

#define NSTAGES 6

static void stage_list(char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (int s = 0; s < NSTAGES; s++) {
        int n = snprintf(out + o, cap - o, "%s%s", s ? ", " : "",
                         fm_stage_name((enum fm_incident_stage)s));
        if (n < 0 || (size_t)n >= cap - o)
            return;
        o += (size_t)n;
    }
}

static int parse_stage(struct cli *cl, const char *s, enum fm_incident_stage *out,
                       bool or_reopen)
{
    char list[128];
    if (fm_stage_parse(s, out) == 0)
        return 0;
    stage_list(list, sizeof(list));
    return cli_usage(cl, "unknown status '%s' (expected one of: %s%s)", s, list,
                     or_reopen ? "; or reopen" : "");
}

/* ------------------------------------------------------------------ */
/* report                                                              */
/* ------------------------------------------------------------------ */

enum { RP_CATEGORY, RP_LAT, RP_LON, RP_ADDRESS, RP_PRIORITY, RP_CALLER, RP_DESC, RP_CNAME,
       RP_FORCE };
static const struct cli_opt report_opts[] = {
    [RP_CATEGORY] = { "category", true }, [RP_LAT] = { "lat", true },
    [RP_LON] = { "lon", true },           [RP_ADDRESS] = { "address", true },
    [RP_PRIORITY] = { "priority", true }, [RP_CALLER] = { "caller", true },
    [RP_DESC] = { "desc", true },         [RP_CNAME] = { "caller-name", true },
    [RP_FORCE] = { "force", false },
};

/* Without a dispatcher key the caller is left out, never written in clear:
 * an emergency report must not wait for key distribution. Tell the
 * call-taker at once, and how to add the caller once the key is there. */
static void warn_caller_left_out(struct cli *cl, const char *id)
{
    enum fm_role r = cl->cfg.role;
    fprintf(stderr, "fieldmesh incident report: WARNING: the caller was NOT recorded: this "
                    "node holds no dispatcher key, and caller details are only ever stored "
                    "sealed to it.\n");
    if (r != FM_ROLE_CENTRE && r != FM_ROLE_COUNTY && r != FM_ROLE_ADMIN) {
        fprintf(stderr, "  a %s node never holds it: pass the caller's details to the "
                        "dispatch centre by voice; a dispatcher adds them with\n"
                        "  fieldmesh incident edit %s --caller PHONE [--caller-name NAME]\n",
                fm_role_name(r), id);
        return;
    }
    fprintf(stderr,
            "  keep the caller's details at hand; the org admin runs\n"
            "    fieldmesh org dispatch-key --org ORGDIR --out FILE\n"
            "  and a dispatcher node runs: fieldmesh -c %s trust publish FILE\n"
            "  then add them: fieldmesh -c %s incident edit %s --caller PHONE "
            "[--caller-name NAME]\n",
            cl->cfg.path, cl->cfg.path, id);
}

static int run_report(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_incident_new in;
    char id[FM_ID_MAX];
    uint64_t prio = 3;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, report_opts, CLI_NELEM(report_opts), 0, 0, &a);
    memset(&in, 0, sizeof(in));
    if (a.val[RP_CATEGORY] == NULL)
        return cli_usage(cl, "--category is required");
    if (a.val[RP_LAT] == NULL || a.val[RP_LON] == NULL)
        return cli_usage(cl, "--lat and --lon are required");
    /* a word or an alias (any printable name): which, the directory says */
    if ((rc = cli_check_name(cl, "--category", a.val[RP_CATEGORY], FM_NAME_MAX)) != 0 ||
        (rc = cli_parse_coord(cl, "--lat", a.val[RP_LAT], 90, &in.lat_e7)) != 0 ||
        (rc = cli_parse_coord(cl, "--lon", a.val[RP_LON], 180, &in.lon_e7)) != 0)
        return rc;
    if (a.val[RP_PRIORITY] != NULL &&
        (rc = cli_parse_uint(cl, "--priority", a.val[RP_PRIORITY], 1, 5, &prio)) != 0)
        return rc;
    if (a.val[RP_ADDRESS] != NULL &&
        (rc = cli_check_text(cl, "--address", a.val[RP_ADDRESS], FM_ADDRESS_MAX)) != 0)
        return rc;
    if (a.val[RP_CALLER] != NULL &&
        (rc = cli_check_text(cl, "--caller", a.val[RP_CALLER], FM_PHONE_MAX)) != 0)
        return rc;
    if (a.val[RP_DESC] != NULL &&
        (rc = cli_check_text(cl, "--desc", a.val[RP_DESC], FM_TEXT_MAX)) != 0)
        return rc;
    if (a.val[RP_CNAME] != NULL &&
        (rc = cli_check_text(cl, "--caller-name", a.val[RP_CNAME], FM_CALLER_NAME_MAX)) != 0)
        return rc;
    in.caller_name = a.val[RP_CNAME];
    in.priority = (uint8_t)prio;
    in.address = a.val[RP_ADDRESS];
    in.caller = a.val[RP_CALLER];
    in.desc = a.val[RP_DESC];

    char category[FM_CATEGORY_MAX];
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_category(cl, "--category", a.val[RP_CATEGORY], cli_flag(&a, RP_FORCE),
                           category)) != 0)
        return rc;
    in.category = category;
    if (a.val[RP_PRIORITY] == NULL) { /* the rule's default, when a rule has one */
        uint8_t rule = fm_node_default_priority(cl->node, in.category);
        if (rule != 0)
            in.priority = rule;
    }
    bool has_caller = (in.caller && in.caller[0]) || (in.caller_name && in.caller_name[0]);
    bool sealable = fm_node_dispatch_key(cl->node, NULL, NULL) == FM_OK;
    rc = fm_node_incident_report(cl->node, &in, id);
    if (rc != 0)
        return cli_error(cl, rc, "cannot record the incident: %s", fm_strerror(rc));
    cli_after_write(cl);
    printf("%s\n", id);
    fflush(stdout);
    if (has_caller && !sealable)
        warn_caller_left_out(cl, id);
    cli_wf_print_proposal(cl, id, stderr); /* linkage workflow: proposed dispatch */
    cli_link_print_duplicates(cl, id); /* the same emergency called in again? */
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_report = {
    "incident", "report",
    "--category C --lat X --lon Y [--priority 1-5] [--address A] [--caller PHONE] "
    "[--caller-name NAME] [--desc TEXT] [--force]",
    "record a new incident; prints only its id",
    "  --category C   a category of the directory's rules (building_fire, medical,\n"
    "                 ...) or an alias the directory gives it (火灾); one no rule\n"
    "                 has is refused (exit 2) with the closest ones\n"
    "  --force        record a category no rule has, as typed ([a-z0-9_-], at\n"
    "                 most 31 characters)\n"
    "  --lat X        latitude in degrees, -90..90\n"
    "  --lon Y        longitude in degrees, -180..180\n"
    "  --priority P   1 (highest) .. 5 (default 3)\n"
    "  --address A    street address (at most 255 bytes)\n"
    "  --caller PHONE caller's number (at most 31 bytes)\n"
    "  --caller-name NAME  caller's name (at most 63 bytes)\n"
    "  --desc TEXT    description (at most 1023 bytes)\n\n"
    "The caller's number and name are sealed to the dispatchers' key (only\n"
    "centre, county and admin nodes read them). A node that holds no\n"
    "dispatcher key records the incident without them and says so.\n",
    run_report,
};

/* ------------------------------------------------------------------ */
/* JSON and table rows                                                 */
/* ------------------------------------------------------------------ */

/* A sealed caller this node cannot open is null, never an empty string
 * that would read as "no caller". */
static void incident_json_caller(struct cli_json *j, const struct fm_incident *inc)
{
    bool sealed = inc->caller_state == FM_CALLER_SEALED || inc->caller_state == FM_CALLER_DAMAGED;
    cli_json_key(j, "caller");
    cli_json_string(j, sealed ? NULL : inc->caller);
    cli_json_key(j, "caller_name");
    cli_json_string(j, sealed ? NULL : inc->caller_name);
    cli_json_key(j, "caller_sealed");
    cli_json_bool(j, sealed);
}

static const char *caller_text(const struct fm_incident *inc)
{
    if (inc->caller_state == FM_CALLER_SEALED)
        return "(sealed: dispatcher only)";
    if (inc->caller_state == FM_CALLER_DAMAGED)
        return "(sealed: does not open with this node's dispatcher key)";
    return inc->caller;
}

static void incident_json_fields(struct cli_json *j, const struct fm_incident *inc)
{
    char code[FM_HID_MAX];
    cli_json_kstr(j, "id", inc->id);
    cli_json_kstr(j, "code", cli_hid(inc->id, code)); /* "" without one */
    cli_json_kstr(j, "category", inc->category);
    cli_json_kuint(j, "priority", inc->priority);
    cli_json_kstr(j, "status", fm_stage_name(inc->stage));
    cli_json_kuint(j, "epoch", inc->epoch);
    cli_json_kcoord(j, "lat", inc->lat_e7);
    cli_json_kcoord(j, "lon", inc->lon_e7);
    cli_json_kstr(j, "address", inc->address);
    incident_json_caller(j, inc);
    cli_json_kstr(j, "description", inc->desc);
    cli_json_kstr(j, "reporter", inc->reporter);
    cli_json_ktime(j, "reported_at", inc->reported_hlc);
    cli_json_ktime(j, "updated_at", inc->updated_hlc);
    cli_json_kuint(j, "notes", inc->nnotes);
    cli_json_kuint(j, "calls", inc->calls); /* 0 for a merged one */
    cli_json_key(j, "merged_into");
    if (inc->merged_into[0])
        cli_json_string(j, inc->merged_into);
    else
        cli_json_null(j);
}

/* The STATUS cell: a merged incident names where it went. */
static const char *status_cell(const struct fm_incident *inc, char *buf, size_t cap)
{
    char code[FM_HID_MAX];
    if (inc->merged_into[0] == '\0')
        return fm_stage_name(inc->stage);
    const char *c = cli_hid(inc->merged_into, code);
    snprintf(buf, cap, "merged into %s", c[0] ? c : inc->merged_into);
    return buf;
}

static const char *const list_headers[] = {
    "CODE", "ID", "PRI", "STATUS", "CATEGORY", "REPORTED", "LAT", "LON", "ADDRESS", "DESCRIPTION",
};

struct list_ctx {
    struct cli_json json;
    struct cli_table table;
    bool as_json;
    struct cli_stale *stale; /* field sync: --stale-after */
};

/* --stale-after: the incident's table gains a STALE column */
static const char *const list_headers_stale[] = {
    "CODE", "ID", "PRI", "STATUS", "CATEGORY", "REPORTED", "LAT", "LON", "ADDRESS", "DESCRIPTION",
    "STALE",
};

static int list_one(void *ctx, const struct fm_incident *inc)
{
    struct list_ctx *lc = ctx;
    struct cli_stale_info si = {0};
    if (lc->stale)
        cli_stale_check(lc->stale, inc->id, &si);
    if (lc->as_json) {
        cli_json_begin_object(&lc->json);
        incident_json_fields(&lc->json, inc);
        if (lc->stale)
            cli_stale_json(&lc->json, &si);
        cli_json_end_object(&lc->json);
        return 0;
    }
    char prio[8], when[CLI_TIME_LEN], lat[CLI_COORD_LEN], lon[CLI_COORD_LEN];
    snprintf(prio, sizeof(prio), "%u", inc->priority);
    cli_fmt_local(inc->reported_hlc, false, when);
    cli_fmt_coord(inc->lat_e7, lat);
    cli_fmt_coord(inc->lon_e7, lon);
    char code[FM_HID_MAX], status[FM_HID_MAX + FM_ID_MAX + 16];
    const char *cells[] = { cli_hid(inc->id, code), inc->id, prio,
                            status_cell(inc, status, sizeof status),
                            inc->category, when,
                            lat, lon, inc->address, inc->desc, si.text };
    return cli_table_add(&lc->table, cells, 40);
}

/* ------------------------------------------------------------------ */
/* list                                                                */
/* ------------------------------------------------------------------ */

enum { LS_STATUS, LS_CATEGORY, LS_JSON, LS_STALE, LS_ORPHANS };
static const struct cli_opt list_opts[] = {
    [LS_STATUS] = { "status", true },
    [LS_CATEGORY] = { "category", true },
    [LS_JSON] = { "json", false },
    [LS_STALE] = { "stale-after", true },
    [LS_ORPHANS] = { "orphans", false },
};

static int run_list(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_incident_filter filter = { -1, NULL };
    struct list_ctx lc;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, list_opts, CLI_NELEM(list_opts), 0, 0, &a);
    if (cli_flag(&a, LS_ORPHANS)) {
        if (a.val[LS_STATUS] || a.val[LS_CATEGORY] || a.val[LS_STALE])
            return cli_usage(cl, "--orphans takes no --status, --category or --stale-after");
        if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
            return rc;
        return cli_orphans_list(cl, cli_flag(&a, LS_JSON));
    }
    if (a.val[LS_STATUS] != NULL) {
        enum fm_incident_stage st;
        if ((rc = parse_stage(cl, a.val[LS_STATUS], &st, false)) != 0)
            return rc;
        filter.stage = (int)st;
    }

    uint64_t stale_s = 0;
    if (a.val[LS_STALE] != NULL &&
        (rc = cli_parse_uint(cl, "--stale-after", a.val[LS_STALE], 1, UINT32_MAX, &stale_s)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    char category[FM_CATEGORY_MAX];
    if (a.val[LS_CATEGORY] != NULL) { /* a word or an alias of one */
        if ((rc = cli_word(cl, "--category", a.val[LS_CATEGORY], category, sizeof category)) != 0)
            return rc;
        filter.category = category;
    }

    memset(&lc, 0, sizeof(lc));
    if (stale_s && (rc = cli_stale_open(cl, stale_s, &lc.stale)) != 0)
        return rc;
    lc.as_json = cli_flag(&a, LS_JSON);
    cli_hid_prepare(cl);
    if (lc.stale)
        cli_list_begin(lc.as_json, &lc.json, &lc.table, stdout, list_headers_stale,
                       CLI_NELEM(list_headers_stale));
    else
        cli_list_begin(lc.as_json, &lc.json, &lc.table, stdout, list_headers,
                       CLI_NELEM(list_headers));
    rc = fm_node_incidents(cl->node, &filter, list_one, &lc);
    cli_stale_close(&lc.stale);
    if (rc != 0) {
        if (!lc.as_json)
            cli_table_release(&lc.table);
        else
            cli_json_finish(&lc.json);
        return cli_error(cl, rc, "cannot list incidents: %s", fm_strerror(rc));
    }
    cli_list_end(lc.as_json, &lc.json, &lc.table, stdout, rc);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_list = {
    "incident", "list", "[--status S] [--category C] [--stale-after SECONDS] [--json] | --orphans "
    "[--json]",
    "list incidents, newest report first",
    "  --status S     only incidents in status S (new, dispatched, enroute, onscene,\n"
    "                 resolved, closed)\n"
    "  --category C   only incidents of category C\n"
    "  --stale-after SECONDS\n"
    "                 flag incidents last changed by a node not heard from (no op,\n"
    "                 no presence) for longer than SECONDS: column STALE, JSON\n"
    "                 stale, last_changed_by, last_changed_by_name, silent_s\n"
    "  --json         a JSON array of incident objects (fields in docs/cli.md)\n"
    "  --orphans      instead, what fell through the cracks, most urgent first: open\n"
    "                 incidents no unit is out on (undispatched, uncovered: every\n"
    "                 ticket cancelled, cleared: every unit cleared), closed incidents\n"
    "                 a unit is still out on (stranded_ticket), units assigned or on\n"
    "                 scene with no active ticket (busy_unit), each with the command\n"
    "                 that fixes it; JSON [{kind, incident, incident_code, ticket, unit,\n"
    "                 unit_name, category, priority, status, since, action}]\n",
    run_list,
};

/* ------------------------------------------------------------------ */
/* show                                                                */
/* ------------------------------------------------------------------ */

#define SHOW_MERGED_MAX 64 /* incidents merged into the one shown, listed */
struct show_ctx {
    struct cli_json json;
    struct cli_table table;
    bool as_json;
    char merged[SHOW_MERGED_MAX][FM_ID_MAX];
    size_t nmerged;
};

static int timeline_one(void *ctx, const struct fm_timeline_entry *e)
{
    struct show_ctx *sc = ctx;
    if (sc->as_json) {
        cli_json_begin_object(&sc->json);
        cli_json_ktime(&sc->json, "at", e->hlc);
        cli_json_kstr(&sc->json, "author", e->author);
        cli_json_kuint(&sc->json, "seq", e->seq);
        cli_json_kstr(&sc->json, "kind", e->kind);
        cli_json_kstr(&sc->json, "text", e->text);
        cli_json_key(&sc->json, "operator"); /* op format 2: who at the console */
        if (e->operator_name[0])
            cli_json_string(&sc->json, e->operator_name);
        else
            cli_json_null(&sc->json);
        cli_json_end_object(&sc->json);
        return 0;
    }
    char when[CLI_TIME_LEN], who[FM_KEY_TAG_LEN + 48 + sizeof e->operator_name];
    cli_fmt_local(e->hlc, false, when);
    snprintf(who, sizeof(who), "%.*s-%llu%s%s%s", FM_KEY_TAG_LEN, e->author,
             (unsigned long long)e->seq, e->operator_name[0] ? " (operator " : "",
             e->operator_name, e->operator_name[0] ? ")" : "");
    const char *cells[] = { when, who, e->kind, e->text };
    return cli_table_add(&sc->table, cells, 200);
}

static void show_line(const char *label, const char *value)
{
    char clean[FM_TEXT_MAX * 3];
    cli_sanitize(value, clean, sizeof(clean), FM_TEXT_MAX);
    printf("%-12s %s\n", label, clean);
}

enum { SH_JSON };
static const struct cli_opt json_opts[] = { [SH_JSON] = { "json", false } };
static const char *const timeline_headers[] = { "TIME", "BY", "KIND", "TEXT" };

/* The county whose boundary in the directory holds the incident; "" when
 * no directory, no boundaries, or outside them all. */
static void incident_county(struct cli *cl, const struct fm_incident *inc, char *out)
{
    struct fm_directory *d = NULL;
    out[0] = '\0';
    if (fm_node_directory_get(cl->node, &d) != FM_OK)
        return;
    int c = fm_directory_county_at(d, inc->lat_e7, inc->lon_e7);
    if (c >= 0)
        fm_strlcpy(out, d->counties[c], FM_NAME_MAX);
    fm_directory_free(&d);
}

/* `incident show --json`: the incident's fields, county and alarm level,
 * then opens the timeline array. */
static void show_head_json(struct show_ctx *sc, const struct fm_incident *inc,
                           const char *county, const struct fm_incident_workflow *wf)
{
    cli_json_init(&sc->json, stdout);
    cli_json_begin_object(&sc->json);
    incident_json_fields(&sc->json, inc);
    cli_json_key(&sc->json, "county");
    if (county[0])
        cli_json_string(&sc->json, county);
    else
        cli_json_null(&sc->json);
    cli_json_kuint(&sc->json, "alarm_level", wf->alarm_level);
    cli_json_key(&sc->json, "merged");
    cli_json_begin_array(&sc->json);
    for (size_t i = 0; i < sc->nmerged; i++)
        cli_json_string(&sc->json, sc->merged[i]);
    cli_json_end_array(&sc->json);
    cli_json_key(&sc->json, "timeline");
    cli_json_begin_array(&sc->json);
}

/* "calls: 3 (merged here: WC1-12, k3mx9q2a-40)" */
static void show_calls(const struct show_ctx *sc, const struct fm_incident *inc)
{
    char buf[512], code[FM_HID_MAX];
    size_t used = (size_t)snprintf(buf, sizeof buf, "%u", inc->calls);
    for (size_t i = 0; i < sc->nmerged && used + 1 < sizeof buf; i++) {
        const char *c = cli_hid(sc->merged[i], code);
        int w = snprintf(buf + used, sizeof buf - used, "%s%s", i ? ", " : " (merged here: ",
                         c[0] ? c : sc->merged[i]);
        if (w < 0 || (size_t)w >= sizeof buf - used)
            break;
        used += (size_t)w;
    }
    if (sc->nmerged > 0 && used + 2 < sizeof buf)
        memcpy(buf + used, ")", 2);
    show_line("calls:", buf);
}

/* `incident show`: one labelled line per field, then the timeline's
 * heading and table. */
static void show_head_text(struct show_ctx *sc, const struct fm_incident *inc,
                           const char *county, const struct fm_incident_workflow *wf)
{
    char buf[128], lat[CLI_COORD_LEN], lon[CLI_COORD_LEN], when[CLI_TIME_LEN];
    char code[FM_HID_MAX];
    show_line("id:", inc->id);
    show_line("code:", cli_hid(inc->id, code));
    show_line("category:", inc->category);
    snprintf(buf, sizeof(buf), "%u", inc->priority);
    show_line("priority:", buf);
    if (inc->epoch > 0)
        snprintf(buf, sizeof(buf), "%s (reopened %u time%s)", fm_stage_name(inc->stage),
                 inc->epoch, inc->epoch == 1 ? "" : "s");
    else
        snprintf(buf, sizeof(buf), "%s", fm_stage_name(inc->stage));
    show_line("status:", buf);
    if (wf->alarm_level > 1) {
        cli_fmt_local(wf->alarm_hlc, true, when);
        snprintf(buf, sizeof(buf), "%u (raised %s)", wf->alarm_level, when);
    } else {
        snprintf(buf, sizeof(buf), "1");
    }
    show_line("alarm level:", buf);
    show_calls(sc, inc);
    cli_fmt_coord(inc->lat_e7, lat);
    cli_fmt_coord(inc->lon_e7, lon);
    snprintf(buf, sizeof(buf), "%s, %s", lat, lon);
    show_line("location:", buf);
    if (county[0])
        show_line("county:", county); /* from the directory's boundaries */
    show_line("address:", inc->address);
    show_line("caller:", caller_text(inc));
    if (inc->caller_name[0])
        show_line("caller name:", inc->caller_name);
    show_line("description:", inc->desc);
    show_line("reporter:", inc->reporter);
    cli_fmt_local(inc->reported_hlc, true, when);
    show_line("reported:", when);
    cli_fmt_local(inc->updated_hlc, true, when);
    show_line("updated:", when);
    printf("\ntimeline:\n");
    cli_table_init(&sc->table, timeline_headers, CLI_NELEM(timeline_headers));
}

static int run_show(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_incident inc;
    struct show_ctx sc;
    char id[FM_ID_MAX];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, json_opts, CLI_NELEM(json_opts), 1, 1, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_incident_get(cl->node, id, &inc);
    if (rc != 0)
        return cli_error(cl, rc, "cannot read incident %s: %s", id, fm_strerror(rc));
    cli_hid_prepare(cl);
    char county[FM_NAME_MAX];
    incident_county(cl, &inc, county);
    struct fm_incident_workflow wf;
    if (fm_node_incident_workflow(cl->node, id, &wf) != FM_OK)
        wf.alarm_level = 1; /* the default, as if never raised */

    memset(&sc, 0, sizeof(sc));
    char self[FM_ID_MAX];
    if (strlen(a.pos[0]) < FM_ID_MAX &&
        fm_node_resolve_exact_id(cl->node, FM_ENT_INCIDENT, a.pos[0], self) == 0 &&
        strcmp(self, id) != 0)
        fprintf(stderr, "%s was merged into %s: showing %s\n", self, id, id);
    if ((rc = fm_node_incident_merged(cl->node, id, sc.merged, SHOW_MERGED_MAX, &sc.nmerged)) != 0)
        return cli_error(cl, rc, "cannot read the merges of %s: %s", id, fm_strerror(rc));
    sc.as_json = cli_flag(&a, SH_JSON);
    if (sc.as_json)
        show_head_json(&sc, &inc, county, &wf);
    else
        show_head_text(&sc, &inc, county, &wf);
    rc = fm_node_incident_timeline(cl->node, id, timeline_one, &sc);
    if (sc.as_json) {
        cli_json_end_array(&sc.json);
        cli_json_end_object(&sc.json);
        cli_json_finish(&sc.json);
    } else {
        if (rc == 0)
            cli_table_print(&sc.table, stdout);
        cli_table_release(&sc.table);
    }
    if (rc != 0)
        return cli_error(cl, rc, "cannot read the timeline of %s: %s", id, fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_show = {
    "incident", "show", "ID [--json]", "show one incident and its timeline",
    "  ID        the incident id or any unambiguous prefix of it\n"
    "  --json    one JSON object: the list fields plus \"county\" (the county whose\n"
    "            boundary in the directory holds it, null if none), \"alarm_level\"\n"
    "            (1 unless raised: incident upgrade), \"merged\" (the incidents merged\n"
    "            into this one: incident merge) and \"timeline\"\n"
    "An incident merged into another shows that one (its survivor).\n",
    run_show,
};

/* ------------------------------------------------------------------ */
/* note                                                                */
/* ------------------------------------------------------------------ */

static int run_note(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    char id[FM_ID_MAX];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 2, 2, &a);
    if ((rc = cli_check_text(cl, "TEXT", a.pos[1], FM_TEXT_MAX)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_incident_note(cl->node, id, a.pos[1]);
    if (rc != 0)
        return cli_error(cl, rc, "cannot add the note to %s: %s", id, fm_strerror(rc));
    cli_after_write(cl);
    printf("%s: note added\n", id);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_note = {
    "incident", "note", "ID TEXT", "add a note to an incident's timeline",
    "  ID     the incident id or an unambiguous prefix\n"
    "  TEXT   the note (one argument: quote it; at most 1023 bytes)\n",
    run_note,
};

/* ------------------------------------------------------------------ */
/* status                                                              */
/* ------------------------------------------------------------------ */

static int run_status(struct cli *cl, int argc, char **argv)
{
    enum { ST_CANCEL, ST_REASON };
    static const struct cli_opt opts[] = { [ST_CANCEL] = { "cancel-tickets", false },
                                           [ST_REASON] = { "reason", true } };
    struct cli_args a;
    enum fm_incident_stage stage = FM_STAGE_NEW;
    bool reopen = false;
    char id[FM_ID_MAX];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 2, 2, &a);
    if (strcmp(a.pos[1], "reopen") == 0)
        reopen = true;
    else if ((rc = parse_stage(cl, a.pos[1], &stage, true)) != 0)
        return rc;
    bool closing = !reopen && stage >= FM_STAGE_RESOLVED;
    if (!closing && (cli_flag(&a, ST_CANCEL) || a.val[ST_REASON]))
        return cli_usage(cl, "--cancel-tickets and --reason go with resolved or closed");
    if (a.val[ST_REASON] && (rc = cli_check_text(cl, "--reason", a.val[ST_REASON],
                                                 FM_TEXT_MAX)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.pos[0], id)) != 0)
        return rc;
    if (closing) {
        /* nothing stranded: refuses while units are out on it */
        rc = cli_orphans_close(cl, id, stage, cli_flag(&a, ST_CANCEL), a.val[ST_REASON]);
        if (rc >= 0)
            return rc;
    } else {
        rc = fm_node_incident_status(cl->node, id, stage, reopen);
    }
    if (rc == FM_EPERM) {
        char what[64 + FM_ID_MAX];
        snprintf(what, sizeof what, "set the status of %s", id);
        return cli_role_error(cl, rc, what, "centre, county and admin nodes, or the node that "
                                            "reported it, change an incident's status");
    }
    if (rc == FM_ESTATE) {
        struct fm_incident inc;
        const char *now = fm_node_incident_get(cl->node, id, &inc) == 0
                              ? fm_stage_name(inc.stage)
                              : "?";
        if (reopen)
            return cli_error(cl, rc, "cannot reopen %s: it is %s (only resolved or closed "
                                     "incidents reopen)", id, now);
        return cli_error(cl, rc, "cannot move %s from %s to %s: a status only moves forward "
                                 "(use 'reopen' after resolved or closed)",
                         id, now, a.pos[1]);
    }
    if (rc != 0)
        return cli_error(cl, rc, "cannot set the status of %s: %s", id, fm_strerror(rc));
    cli_after_write(cl);
    printf("%s: %s\n", id, reopen ? "reopened" : fm_stage_name(stage));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_incident_status = {
    "incident", "status", "ID STATUS [--cancel-tickets] [--reason TEXT]",
    "move an incident to a later status, or reopen it",
    "  ID       the incident id or an unambiguous prefix\n"
    "  STATUS   new | dispatched | enroute | onscene | resolved | closed, or reopen\n"
    "           (a status only moves forward; reopen starts over at new and works\n"
    "           only from resolved or closed)\n"
    "  --cancel-tickets\n"
    "           resolved or closed while units hold active tickets on the incident:\n"
    "           cancel those tickets in the same write (their units become\n"
    "           available). Without it such a close is refused (exit 1) with the\n"
    "           list of tickets. Only centre and county nodes cancel tickets.\n"
    "  --reason TEXT  the cancel reason recorded on each ticket\n"
    "Centre, county and admin nodes set any incident's status; a station or\n"
    "vehicle only that of an incident it reported (else exit 3).\n",
    run_status,
};
