/*
 * cmd_resource.c — `fieldmesh resource add|consume|restock|list`: stock
 * kept at depots (pumps, sandbags, generators). Quantities are PN-counters
 * merged across nodes, so a listed quantity may be negative after a
 * partition in which two sides consumed the same stock; the list flags it.
 * `list --near INCIDENT` / `--for REQUEST` order it nearest first
 * (cli_depots.c).
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>

#define QTY_MAX 1000000000000ull /* 10^12: far beyond any depot */

static int run_add(struct cli *cl, int argc, char **argv)
{
    enum { AD_DEPOT, AD_QTY };
    static const struct cli_opt opts[] = {
        [AD_DEPOT] = { "depot", true },
        [AD_QTY] = { "qty", true },
    };
    struct cli_args a;
    uint64_t qty;
    char id[FM_ID_MAX];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    if (a.val[AD_DEPOT] == NULL)
        return cli_usage(cl, "--depot is required");
    if (a.val[AD_QTY] == NULL)
        return cli_usage(cl, "--qty is required");
    if ((rc = cli_check_name(cl, "--depot", a.val[AD_DEPOT], FM_NAME_MAX)) != 0 ||
        (rc = cli_parse_uint(cl, "--qty", a.val[AD_QTY], 0, QTY_MAX, &qty)) != 0)
        return rc;
    char kind[FM_NAME_MAX];
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_word(cl, "KIND", a.pos[0], kind, sizeof kind)) != 0)
        return rc;
    rc = fm_node_resource_add(cl->node, kind, a.val[AD_DEPOT], (int64_t)qty, id);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "add stock", "centre, county, admin and station nodes "
                                                   "keep depots");
    if (rc != 0)
        return cli_error(cl, rc, "cannot add the resource: %s", fm_strerror(rc));
    cli_after_write(cl);
    printf("%s\n", id);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_resource_add = {
    "resource", "add", "KIND --depot D --qty N", "add a stock item at a depot; prints its id",
    "  KIND        pump, sandbag, generator, ... ([a-z0-9_-]), or an alias the\n"
    "              directory gives one (水泵)\n"
    "  --depot D   the depot holding it (at most 64 characters)\n"
    "  --qty N     initial quantity, 0..10^12\n",
    run_add,
};

/* Finds the quantity this node sees, for error messages. */
struct find_ctx {
    const char *id;
    int64_t qty;
    bool found;
};

static int find_one(void *ctx, const struct fm_resource *r)
{
    struct find_ctx *fc = ctx;
    if (strcmp(r->id, fc->id) != 0)
        return 0;
    fc->qty = r->quantity;
    fc->found = true;
    return 1; /* stop */
}

static int adjust(struct cli *cl, int argc, char **argv, int sign)
{
    struct cli_args a;
    uint64_t n;
    char id[FM_ID_MAX];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 2, 2, &a);
    if ((rc = cli_parse_uint(cl, "N", a.pos[1], 1, QTY_MAX, &n)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_RESOURCE, a.pos[0], id)) != 0)
        return rc;
    rc = fm_node_resource_adjust(cl->node, id, sign * (int64_t)n);
    if (rc == FM_ESTATE) {
        struct find_ctx fc = { id, 0, false };
        int frc = fm_node_resources(cl->node, find_one, &fc);
        if ((frc == 0 || frc == 1) && fc.found)
            return cli_error(cl, rc, "not enough stock: %s has %lld, cannot consume %llu", id,
                             (long long)fc.qty, (unsigned long long)n);
        return cli_error(cl, rc, "not enough stock in %s to consume %llu", id,
                         (unsigned long long)n);
    }
    if (rc == FM_EPERM) {
        char what[64 + FM_ID_MAX];
        snprintf(what, sizeof what, "change the stock of %s", id);
        return cli_role_error(cl, rc, what, "centre and county nodes, the node that added it "
                                            "or its depot's unit change a depot's stock");
    }
    if (rc != 0)
        return cli_error(cl, rc, "cannot change the stock of %s: %s", id, fm_strerror(rc));
    cli_after_write(cl);
    printf("%s: %s %llu\n", id, sign < 0 ? "consumed" : "restocked", (unsigned long long)n);
    return CLI_EXIT_OK;
}

static int run_consume(struct cli *cl, int argc, char **argv) { return adjust(cl, argc, argv, -1); }
static int run_restock(struct cli *cl, int argc, char **argv) { return adjust(cl, argc, argv, 1); }

const struct cli_cmd cli_cmd_resource_consume = {
    "resource", "consume", "ID N", "take N from a stock item",
    "  ID   the resource id or an unambiguous prefix\n"
    "  N    how many, 1..10^12; more than this node sees in stock is refused\n"
    "Centre and county nodes change any depot's stock; other nodes only stock\n"
    "they added or held at the depot named after their unit (else exit 3).\n",
    run_consume,
};

const struct cli_cmd cli_cmd_resource_restock = {
    "resource", "restock", "ID N", "add N to a stock item",
    "  ID   the resource id or an unambiguous prefix\n"
    "  N    how many, 1..10^12\n"
    "Centre and county nodes change any depot's stock; other nodes only stock\n"
    "they added or held at the depot named after their unit (else exit 3).\n",
    run_restock,
};

/* ------------------------------------------------------------------ */
/* list                                                                */
/* ------------------------------------------------------------------ */

struct list_ctx {
    struct cli_json json;
    struct cli_table table;
    bool as_json, near; /* near: ordered by distance, with a DIST column */
    double km;          /* the item's distance when near (< 0: not placed) */
    const struct fm_directory *d; /* units of measure, or NULL */
};

static const char *const headers[] = { "ID", "KIND", "DEPOT", "QTY", "UPDATED" };
static const char *const near_headers[] = { "ID", "KIND", "DEPOT", "QTY", "DIST", "UPDATED" };

static int list_one(void *ctx, const struct fm_resource *r)
{
    struct list_ctx *lc = ctx;
    char when[CLI_TIME_LEN];
    if (lc->as_json) {
        cli_json_begin_object(&lc->json);
        cli_json_kstr(&lc->json, "id", r->id);
        cli_json_kstr(&lc->json, "kind", r->kind);
        cli_json_kstr(&lc->json, "depot", r->depot);
        cli_json_kint(&lc->json, "quantity", r->quantity);
        cli_json_key(&lc->json, "measure");
        if (fm_directory_measure(lc->d, r->kind) != NULL)
            cli_json_string(&lc->json, fm_directory_measure(lc->d, r->kind));
        else
            cli_json_null(&lc->json);
        cli_json_key(&lc->json, "oversold");
        cli_json_bool(&lc->json, r->quantity < 0);
        cli_json_ktime(&lc->json, "updated_at", r->updated_hlc);
        cli_json_kuint(&lc->json, "void_changes", r->void_changes);
        if (lc->near) {
            cli_json_key(&lc->json, "distance_km");
            if (lc->km >= 0)
                cli_wf_kdouble(&lc->json, NULL, lc->km, 2);
            else
                cli_json_null(&lc->json);
        }
        cli_json_end_object(&lc->json);
        return 0;
    }
    char qty[40 + FM_DIR_MEASURE_MAX], dist[32];
    const char *m = fm_directory_measure(lc->d, r->kind);
    snprintf(qty, sizeof(qty), "%lld%s%s%s", (long long)r->quantity, m ? " " : "", m ? m : "",
             r->quantity < 0 ? " (oversold)" : "");
    cli_fmt_local(r->updated_hlc, false, when);
    if (lc->km >= 0)
        snprintf(dist, sizeof dist, "%.1f km", lc->km);
    else
        snprintf(dist, sizeof dist, "?");
    const char *cells[] = { r->id, r->kind, r->depot, qty, when };
    const char *near_cells[] = { r->id, r->kind, r->depot, qty, dist, when };
    return cli_table_add(&lc->table, lc->near ? near_cells : cells, 40);
}

struct kind_ctx {
    struct list_ctx *lc;
    const char *kind;
};

static int list_kind_one(void *ctx, const struct fm_resource *r)
{
    struct kind_ctx *kc = ctx;
    return strcmp(r->kind, kc->kind) == 0 ? list_one(kc->lc, r) : 0;
}

static int run_list(struct cli *cl, int argc, char **argv)
{
    enum { RL_JSON, RL_NEAR, RL_FOR, RL_KIND };
    static const struct cli_opt opts[] = { [RL_JSON] = { "json", false },
                                           [RL_NEAR] = { "near", true },
                                           [RL_FOR] = { "for", true },
                                           [RL_KIND] = { "kind", true } };
    struct cli_args a;
    struct list_ctx lc;
    char inc[FM_ID_MAX], kind[FM_NAME_MAX];
    const char *want_kind = NULL;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if (a.val[RL_NEAR] != NULL && a.val[RL_FOR] != NULL)
        return cli_usage(cl, "--near INCIDENT and --for REQUEST both name the place: give one");
    if (a.val[RL_FOR] != NULL && a.val[RL_KIND] != NULL)
        return cli_usage(cl, "--for REQUEST already names the kind");
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    memset(&lc, 0, sizeof(lc));
    lc.as_json = cli_flag(&a, RL_JSON);
    lc.km = -1;
    if (a.val[RL_KIND] != NULL) {
        if ((rc = cli_word(cl, "--kind", a.val[RL_KIND], kind, sizeof kind)) != 0)
            return rc;
        want_kind = kind;
    }
    if (a.val[RL_FOR] != NULL) {
        /* the request's incident and kind */
        struct fm_request rq;
        char req[FM_ID_MAX];
        if ((rc = cli_resolve(cl, FM_ENT_REQUEST, a.val[RL_FOR], req)) != 0)
            return rc;
        if ((rc = cli_depots_request(cl, req, &rq)) != FM_OK)
            return cli_error(cl, rc, "cannot read request %s: %s", req, fm_strerror(rc));
        fm_strlcpy(inc, rq.incident, sizeof inc);
        fm_strlcpy(kind, rq.kind, sizeof kind);
        want_kind = kind;
    } else if (a.val[RL_NEAR] != NULL &&
               (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.val[RL_NEAR], inc)) != 0) {
        return rc;
    }
    lc.near = a.val[RL_NEAR] != NULL || a.val[RL_FOR] != NULL;
    struct fm_directory *d = NULL;
    if (fm_node_directory_get(cl->node, &d) == FM_OK)
        lc.d = d; /* none: no units of measure */
    cli_list_begin(lc.as_json, &lc.json, &lc.table, stdout, lc.near ? near_headers : headers,
                   lc.near ? CLI_NELEM(near_headers) : CLI_NELEM(headers));
    if (lc.near) {
        struct cli_depot *v = NULL;
        size_t n = 0;
        rc = cli_depots_near(cl, lc.d, inc, want_kind, &v, &n);
        for (size_t i = 0; rc == FM_OK && i < n; i++) {
            lc.km = v[i].km;
            rc = list_one(&lc, &v[i].r);
        }
        free(v);
    } else if (want_kind != NULL) {
        struct kind_ctx kc = {&lc, want_kind}; /* no place: id order */
        rc = fm_node_resources(cl->node, list_kind_one, &kc);
    } else {
        rc = fm_node_resources(cl->node, list_one, &lc);
    }
    rc = cli_list_end(lc.as_json, &lc.json, &lc.table, stdout, rc);
    fm_directory_free(&d);
    if (rc != 0)
        return cli_error(cl, rc, "cannot list resources: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_resource_list = {
    "resource", "list", "[--near INCIDENT | --for REQUEST] [--kind KIND] [--json]",
    "list stock items and their quantities, nearest an incident first",
    "  --near INCIDENT  nearest the incident first, with the distance (DIST) from it\n"
    "                   to the depot: a depot named after a directory unit is at\n"
    "                   that unit's home, one the directory's materials section\n"
    "                   places is there; other depots come last (\"?\")\n"
    "  --for REQUEST    the same for a material request's incident, of its kind\n"
    "  --kind KIND      only stock of that kind (or a directory alias of it)\n"
    "  --json           a JSON array of resource objects (fields in docs/cli.md;\n"
    "                   with --near or --for each also has distance_km, or null)\n",
    run_list,
};
