/*
 * cmd_unit.c — `fieldmesh unit register|list|show|status|position`:
 * the crews and vehicles that incidents are dispatched to.
 */
#include "cli_int.h"

#include <string.h>

static const char *const unit_statuses[] = { "available", "assigned", "onscene", "offline" };

/* ------------------------------------------------------------------ */
/* register                                                            */
/* ------------------------------------------------------------------ */

enum { RG_NAME, RG_DEPARTMENT, RG_TIER, RG_KIND, RG_CAPS };
static const struct cli_opt register_opts[] = {
    [RG_NAME] = { "name", true },         [RG_DEPARTMENT] = { "department", true },
    [RG_TIER] = { "tier", true },         [RG_KIND] = { "kind", true },
    [RG_CAPS] = { "capabilities", true },
};

/* "a,b,c": each item a word. */
static int check_capabilities(struct cli *cl, const char *s)
{
    char item[FM_CATEGORY_MAX];
    size_t n = strlen(s);
    if (n >= FM_TEXT_MAX)
        return cli_usage(cl, "--capabilities is too long (at most %d bytes)", FM_TEXT_MAX - 1);
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof(item))
            return cli_usage(cl, "--capabilities must be a comma-separated list of words, "
                                 "not '%s'", s);
        memcpy(item, p, len);
        item[len] = '\0';
        int rc = cli_check_word(cl, "each capability", item, sizeof(item));
        if (rc != 0)
            return rc;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

static int run_register(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_unit_new in;
    uint64_t tier;
    char id[FM_ID_MAX];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, register_opts, CLI_NELEM(register_opts), 0, 0, &a);
    static const char *const required[] = { "--name", "--department", "--tier", "--kind" };
    for (size_t i = 0; i < 4; i++)
        if (a.val[i] == NULL)
            return cli_usage(cl, "%s is required", required[i]);
    if ((rc = cli_check_name(cl, "--name", a.val[RG_NAME], FM_NAME_MAX)) != 0 ||
        (rc = cli_check_name(cl, "--department", a.val[RG_DEPARTMENT], FM_NAME_MAX)) !=
            0 ||
        (rc = cli_parse_uint(cl, "--tier", a.val[RG_TIER], 1, 3, &tier)) != 0 ||
        (rc = cli_check_word(cl, "--kind", a.val[RG_KIND], FM_NAME_MAX)) != 0)
        return rc;
    if (a.val[RG_CAPS] != NULL && (rc = check_capabilities(cl, a.val[RG_CAPS])) != 0)
        return rc;
    memset(&in, 0, sizeof(in));
    in.name = a.val[RG_NAME];
    in.department = a.val[RG_DEPARTMENT];
    in.kind = a.val[RG_KIND];
    in.capabilities = a.val[RG_CAPS];
    in.tier = (uint8_t)tier;

    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_unit_register(cl->node, &in, id);
    if (rc == FM_EEXISTS)
        return cli_error(cl, rc, "%s of %s is already registered as %s; not registering it "
                         "twice", in.name, in.department, id);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "register a unit", "centre, county, admin and station "
                                                         "nodes register units");
    if (rc != 0)
        return cli_error(cl, rc, "cannot register the unit: %s", fm_strerror(rc));
    cli_after_write(cl);
    printf("%s\n", id);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_unit_register = {
    "unit", "register",
    "--name N --department D --tier T --kind K [--capabilities a,b,...]",
    "register a unit; prints only its id",
    "  --name N           call sign, e.g. \"Engine 7-1\" (at most 64 characters)\n"
    "  --department D     fire, ems, police, ... (at most 64 characters)\n"
    "  --tier T           1..3\n"
    "  --kind K           patrol, medical, fire, ... ([a-z0-9_-])\n"
    "  --capabilities L   comma-separated words, e.g. ladder,hazmat\n",
    run_register,
};

/* ------------------------------------------------------------------ */
/* output                                                              */
/* ------------------------------------------------------------------ */

/* What the unit is to the directory in force: "listed", "retired" (a
 * directory registered it and the one in force no longer lists it) or
 * "unlisted" (registered by hand, not in it); NULL without a directory. */
static const char *unit_standing(const struct fm_directory *d, const struct fm_unit *u)
{
    enum fm_unit_standing st;
    if (d == NULL)
        return NULL;
    (void)fm_directory_unit_of(d, u, &st);
    return st == FM_UNIT_LISTED ? "listed" : st == FM_UNIT_RETIRED ? "retired" : "unlisted";
}

/* standing: unit_standing's, computed once by the caller */
static void unit_json(struct cli_json *j, const struct fm_unit *u, const char *standing)
{
    cli_json_begin_object(j);
    cli_json_kstr(j, "id", u->id);
    cli_json_key(j, "directory_id");
    if (u->key[0])
        cli_json_string(j, u->key);
    else
        cli_json_null(j);
    cli_json_key(j, "directory");
    if (standing != NULL)
        cli_json_string(j, standing);
    else
        cli_json_null(j);
    cli_json_kstr(j, "name", u->name);
    cli_json_kstr(j, "department", u->department);
    cli_json_kuint(j, "tier", u->tier);
    cli_json_kstr(j, "kind", u->kind);
    cli_json_key(j, "capabilities");
    cli_json_begin_array(j);
    for (const char *p = u->capabilities; *p != '\0';) {
        char item[FM_TEXT_MAX];
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len >= sizeof(item))
            len = sizeof(item) - 1;
        memcpy(item, p, len);
        item[len] = '\0';
        if (len > 0)
            cli_json_string(j, item);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    cli_json_end_array(j);
    cli_json_kstr(j, "status", u->status);
    if (u->has_position) {
        cli_json_kcoord(j, "lat", u->lat_e7);
        cli_json_kcoord(j, "lon", u->lon_e7);
        cli_json_ktime(j, "position_at", u->position_hlc);
        /* docs/gps.md: where the position came from, and for a fix its
         * time and accuracy */
        cli_json_kstr(j, "position_source", u->gps ? "gps" : "reported");
        if (u->gps) {
            cli_json_kuint(j, "fix_at_ms", u->fix_ms);
            cli_json_key(j, "accuracy_m");
            if (u->accuracy_dm == FM_GPS_NO_ACCURACY)
                cli_json_null(j);
            else
                cli_json_uint(j, (u->accuracy_dm + 5) / 10);
        }
    } else {
        cli_json_key(j, "lat");
        cli_json_null(j);
        cli_json_key(j, "lon");
        cli_json_null(j);
        cli_json_key(j, "position_at");
        cli_json_null(j);
    }
    cli_json_ktime(j, "updated_at", u->updated_hlc);
    cli_json_end_object(j);
}

static void unit_position_text(const struct fm_unit *u, char *out, size_t cap)
{
    char lat[CLI_COORD_LEN], lon[CLI_COORD_LEN];
    if (!u->has_position) {
        snprintf(out, cap, "-");
        return;
    }
    cli_fmt_coord(u->lat_e7, lat);
    cli_fmt_coord(u->lon_e7, lon);
    if (u->gps && u->accuracy_dm != FM_GPS_NO_ACCURACY)
        snprintf(out, cap, "%s,%s gps ±%um", lat, lon, (unsigned)((u->accuracy_dm + 5) / 10));
    else
        snprintf(out, cap, "%s,%s%s", lat, lon, u->gps ? " gps" : "");
}

static const char *const unit_headers[] = {
    "ID", "NAME", "DEPARTMENT", "TIER", "KIND", "STATUS", "POSITION", "CAPABILITIES", "DIRECTORY",
};

struct unit_list_ctx {
    struct cli_json json;
    struct cli_table table;
    bool as_json;
    const struct fm_directory *d;
    size_t retired, unlisted;
};

static int unit_list_one(void *ctx, const struct fm_unit *u)
{
    struct unit_list_ctx *lc = ctx;
    const char *standing = unit_standing(lc->d, u);
    lc->retired += standing != NULL && strcmp(standing, "retired") == 0;
    lc->unlisted += standing != NULL && strcmp(standing, "unlisted") == 0;
    if (lc->as_json) {
        unit_json(&lc->json, u, standing);
        return 0;
    }
    char tier[8], pos[2 * CLI_COORD_LEN + 32], dir[FM_UNIT_KEY_MAX + 32];
    snprintf(tier, sizeof(tier), "%u", u->tier);
    unit_position_text(u, pos, sizeof(pos));
    if (standing == NULL)
        snprintf(dir, sizeof dir, "-");
    else if (strcmp(standing, "unlisted") == 0)
        snprintf(dir, sizeof dir, "not listed (by hand)");
    else
        snprintf(dir, sizeof dir, "%s%s%s", standing, u->key[0] ? " id " : "", u->key);
    const char *cells[] = { u->id,   u->name, u->department,   tier, u->kind,
                            u->status, pos,   u->capabilities, dir };
    return cli_table_add(&lc->table, cells, 40);
}

enum { UL_JSON };
static const struct cli_opt json_opts[] = { [UL_JSON] = { "json", false } };

static int run_list(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct unit_list_ctx lc;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, json_opts, CLI_NELEM(json_opts), 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    memset(&lc, 0, sizeof(lc));
    struct fm_directory *d = NULL;
    rc = fm_node_directory_get(cl->node, &d);
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return cli_error(cl, rc, "cannot read the directory: %s", fm_strerror(rc));
    lc.d = d;
    lc.as_json = cli_flag(&a, UL_JSON);
    cli_list_begin(lc.as_json, &lc.json, &lc.table, stdout, unit_headers, CLI_NELEM(unit_headers));
    rc = fm_node_units(cl->node, unit_list_one, &lc);
    rc = cli_list_end(lc.as_json, &lc.json, &lc.table, stdout, rc);
    fm_directory_free(&d);
    if (rc != 0)
        return cli_error(cl, rc, "cannot list units: %s", fm_strerror(rc));
    if (!lc.as_json && lc.retired)
        fprintf(stderr, "%zu retired: the directory in force no longer lists %s (never "
                        "proposed; history kept)\n", lc.retired, lc.retired == 1 ? "it" : "them");
    if (!lc.as_json && lc.unlisted)
        fprintf(stderr, "%zu registered by hand and not in the directory (list %s under the "
                        "same name and department to adopt %s)\n", lc.unlisted,
                lc.unlisted == 1 ? "it" : "them", lc.unlisted == 1 ? "it" : "them");
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_unit_list = {
    "unit", "list", "[--json]", "list units",
    "  --json   a JSON array of unit objects (fields in docs/cli.md)\n",
    run_list,
};

/* ------------------------------------------------------------------ */
/* show                                                                */
/* ------------------------------------------------------------------ */

static void show_line(const char *label, const char *value)
{
    char clean[FM_TEXT_MAX * 3];
    cli_sanitize(value, clean, sizeof(clean), FM_TEXT_MAX);
    printf("%-14s %s\n", label, clean);
}

static int run_show(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_unit u;
    char id[FM_ID_MAX];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, json_opts, CLI_NELEM(json_opts), 1, 1, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_UNIT, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_unit_get(cl->node, id, &u);
    if (rc != 0)
        return cli_error(cl, rc, "cannot read unit %s: %s", id, fm_strerror(rc));
    struct fm_directory *d = NULL;
    rc = fm_node_directory_get(cl->node, &d);
    if (rc != FM_OK && rc != FM_ENOTFOUND)
        return cli_error(cl, rc, "cannot read the directory: %s", fm_strerror(rc));
    const char *standing = unit_standing(d, &u);
    if (cli_flag(&a, UL_JSON)) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        unit_json(&j, &u, standing);
        cli_json_finish(&j);
        fm_directory_free(&d);
        return CLI_EXIT_OK;
    }
    fm_directory_free(&d);
    char buf[64], when[CLI_TIME_LEN];
    show_line("id:", u.id);
    show_line("name:", u.name);
    show_line("department:", u.department);
    snprintf(buf, sizeof(buf), "%u", u.tier);
    show_line("tier:", buf);
    show_line("kind:", u.kind);
    show_line("capabilities:", u.capabilities);
    show_line("status:", u.status);
    if (u.key[0])
        show_line("directory id:", u.key);
    if (standing != NULL)
        show_line("directory:", strcmp(standing, "listed") == 0 ? "listed"
                                : strcmp(standing, "retired") == 0
                                    ? "retired: the directory in force no longer lists it "
                                      "(never proposed; its history is kept)"
                                    : "not listed: registered by hand (list it under its name "
                                      "and department to adopt it)");
    unit_position_text(&u, buf, sizeof(buf));
    show_line("position:", buf);
    if (u.has_position) {
        cli_fmt_local(u.position_hlc, true, when);
        show_line("position at:", when);
    }
    cli_fmt_local(u.updated_hlc, true, when);
    show_line("updated:", when);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_unit_show = {
    "unit", "show", "ID [--json]", "show one unit",
    "  ID       the unit id or an unambiguous prefix\n"
    "  --json   one JSON object (fields in docs/cli.md)\n",
    run_show,
};

/* ------------------------------------------------------------------ */
/* status, position                                                    */
/* ------------------------------------------------------------------ */

static int run_status(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    char id[FM_ID_MAX];
    bool known = false;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 2, 2, &a);
    for (size_t i = 0; i < CLI_NELEM(unit_statuses); i++)
        known = known || strcmp(a.pos[1], unit_statuses[i]) == 0;
    if (!known)
        return cli_usage(cl, "unknown unit status '%s' (expected available, assigned, onscene "
                             "or offline)", a.pos[1]);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_UNIT, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_unit_status(cl->node, id, a.pos[1]);
    if (rc != 0)
        return cli_error(cl, rc, "cannot set the status of %s: %s", id, fm_strerror(rc));
    cli_after_write(cl);
    printf("%s: %s\n", id, a.pos[1]);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_unit_status = {
    "unit", "status", "ID STATUS", "set a unit's status",
    "  ID       the unit id or an unambiguous prefix\n"
    "  STATUS   available | assigned | onscene | offline\n",
    run_status,
};

static int run_position(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    char id[FM_ID_MAX];
    int32_t lat, lon;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 3, 3, &a);
    if ((rc = cli_parse_coord(cl, "LAT", a.pos[1], 90, &lat)) != 0 ||
        (rc = cli_parse_coord(cl, "LON", a.pos[2], 180, &lon)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_UNIT, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_soft_position(cl->node, id, lat, lon); /* soft state (docs/field-sync.md) */
    if (rc != 0)
        return cli_error(cl, rc, "cannot set the position of %s: %s", id, fm_strerror(rc));
    cli_after_write(cl);
    char la[CLI_COORD_LEN], lo[CLI_COORD_LEN];
    cli_fmt_coord(lat, la);
    cli_fmt_coord(lon, lo);
    printf("%s: at %s,%s\n", id, la, lo);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_unit_position = {
    "unit", "position", "ID LAT LON", "record a unit's position",
    "Positions are soft state: signed, the latest per unit kept, not logged\n"
    "(docs/field-sync.md).\n\n"
    "  ID    the unit id or an unambiguous prefix\n"
    "  LAT   latitude in degrees, -90..90 (negative values need no \"--\")\n"
    "  LON   longitude in degrees, -180..180\n",
    run_position,
};
