/*
 * cmd_materials.c — material requests: `fieldmesh resource request KIND
 * QTY --for INCIDENT`, `resource allocate REQUEST --from RESOURCE [--qty
 * N]`, `resource return REQUEST --to RESOURCE --qty N` and `resource
 * requests [--json]`.
 *
 * Allocating takes stock out of a depot (the resource's PN-counter goes
 * down) for a request; returning puts unused stock back. What was
 * allocated and not returned was consumed at the scene. Stock consumed or
 * allocated on both sides of a partition can end below zero after the
 * heal: `fieldmesh conflicts` lists that shortfall.
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>

#define QTY_MAX 1000000000000ull

static int run_request(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "for", true }, { "note", true } };
    struct cli_args a;
    uint64_t qty;
    char inc[FM_ID_MAX], id[FM_ID_MAX];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 2, 2, &a);
    if (a.val[0] == NULL)
        return cli_usage(cl, "--for INCIDENT is required");
    if ((rc = cli_parse_uint(cl, "QTY", a.pos[1], 1, QTY_MAX, &qty)) != 0)
        return rc;
    if (a.val[1] != NULL && (rc = cli_check_text(cl, "--note", a.val[1], FM_TEXT_MAX)) != 0)
        return rc;
    char kind[FM_NAME_MAX];
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_word(cl, "KIND", a.pos[0], kind, sizeof kind)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_INCIDENT, a.val[0], inc)) != 0)
        return rc;
    rc = fm_node_material_request(cl->node, inc, kind, (int64_t)qty, a.val[1], id);
    if (rc != 0)
        return cli_wf_error(cl, rc, "request material for", inc);
    cli_after_write(cl);
    printf("%s\n", id);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_resource_request = {
    "resource", "request", "KIND QTY --for INCIDENT [--note TEXT]",
    "request material for an incident; prints the request id",
    "  KIND            foam, sandbag, neutralizer, ... ([a-z0-9_-]), or an alias\n"
    "                  the directory gives one (沙袋)\n"
    "  QTY             1..10^12\n"
    "  --for INCIDENT  the incident id or an unambiguous prefix\n",
    run_request,
};

/* The stock item's quantity as this node sees it. */
struct onhand_ctx {
    const char *id;
    struct fm_resource r;
    bool found;
};
static int onhand_one(void *ctx, const struct fm_resource *r)
{
    struct onhand_ctx *c = ctx;
    if (strcmp(r->id, c->id) != 0)
        return 0;
    c->r = *r;
    c->found = true;
    return 1;
}

/* allocate: how much to take. What the request lacks unless --qty says;
 * more than the depot holds is refused with what it holds and the two
 * ways on, unless --partial takes what there is. *lacking gets what the
 * request lacks before the move. 0 to go on, else an exit code after
 * printing why. */
static int allocate_qty(struct cli *cl, const char *req, const char *res, bool partial,
                        uint64_t *qty, int64_t *lacking)
{
    struct fm_request rq;
    struct onhand_ctx oc;
    memset(&oc, 0, sizeof oc);
    oc.id = res;
    int rc = cli_depots_request(cl, req, &rq);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot read request %s", req);
    int64_t lacking_now = rq.qty - (rq.allocated - rq.returned);
    rc = fm_node_resources(cl->node, onhand_one, &oc);
    if ((rc != 0 && rc != 1) || !oc.found)
        return cli_error(cl, rc < 0 ? rc : FM_ENOTFOUND, "cannot read stock item %s", res);
    if (lacking_now <= 0)
        return cli_error(cl, FM_ESTATE, "request %s needs nothing more", req);
    *lacking = lacking_now;
    uint64_t want = *qty ? *qty : (uint64_t)lacking_now;
    if (want > (uint64_t)lacking_now)
        return cli_error(cl, FM_ESTATE, "cannot allocate %llu to %s: it lacks only %lld",
                         (unsigned long long)want, req, (long long)lacking_now);
    int64_t have = oc.r.quantity;
    if (have <= 0)
        return cli_error(cl, FM_ESTATE, "cannot allocate from %s (%s at %s): nothing on hand "
                         "(%lld); see the other depots, nearest first, with: fieldmesh "
                         "resource list --for %s", res, oc.r.kind, oc.r.depot, (long long)have,
                         req);
    if ((uint64_t)have < want && !partial)
        return cli_error(cl, FM_ESTATE, "cannot allocate %llu from %s (%s at %s): %lld on hand; "
                         "take those with --partial (or --qty %lld) and the rest from another "
                         "depot (fieldmesh resource list --for %s)", (unsigned long long)want,
                         res, oc.r.kind, oc.r.depot, (long long)have, (long long)have, req);
    *qty = (uint64_t)have < want ? (uint64_t)have : want;
    return 0;
}

/* `--from nearest`: the stock item of the request's kind with something on
 * hand at the placed depot nearest the request's incident (cli_depots.c);
 * says which on stderr. 0 with res set, or an exit code after printing
 * why. */
static int nearest_stock(struct cli *cl, const char *req, char res[FM_ID_MAX])
{
    struct fm_request rq;
    struct fm_directory *d = NULL;
    struct cli_depot *v = NULL;
    size_t n = 0, pick = 0;
    int rc = cli_depots_request(cl, req, &rq);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot read request %s: %s", req, fm_strerror(rc));
    if (fm_node_directory_get(cl->node, &d) != FM_OK)
        d = NULL; /* none: no depot is placed */
    rc = cli_depots_near(cl, d, rq.incident, rq.kind, &v, &n);
    fm_directory_free(&d);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot find the depots near %s: %s", rq.incident,
                         fm_strerror(rc));
    while (pick < n && (v[pick].km < 0 || v[pick].r.quantity <= 0))
        pick++;
    if (pick == n) {
        free(v);
        return cli_error(cl, FM_ENOTFOUND, "no depot the directory places holds %s on hand "
                         "(see fieldmesh resource list --for %s; choose one with --from)",
                         rq.kind, req);
    }
    fm_strlcpy(res, v[pick].r.id, FM_ID_MAX);
    fprintf(stderr, "fieldmesh: nearest with %s on hand: %s at %s, %.1f km, %lld on hand\n",
            rq.kind, v[pick].r.id, v[pick].r.depot, v[pick].km, (long long)v[pick].r.quantity);
    free(v);
    return 0;
}

static int move(struct cli *cl, int argc, char **argv, bool is_return)
{
    static const struct cli_opt opts[] = { { "from", true }, { "to", true }, { "qty", true },
                                           { "partial", false } };
    struct cli_args a;
    uint64_t qty = 0;
    char req[FM_ID_MAX], res[FM_ID_MAX];
    const char *depot;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    depot = is_return ? a.val[1] : a.val[0];
    if ((is_return && a.val[0] != NULL) || (!is_return && a.val[1] != NULL))
        return cli_usage(cl, is_return ? "use --to with return" : "use --from with allocate");
    if (is_return && cli_flag(&a, 3))
        return cli_usage(cl, "--partial goes with allocate");
    if (depot == NULL)
        return cli_usage(cl, is_return ? "--to RESOURCE is required"
                                       : "--from RESOURCE is required");
    if (is_return && a.val[2] == NULL)
        return cli_usage(cl, "--qty N is required");
    if (a.val[2] != NULL && (rc = cli_parse_uint(cl, "--qty", a.val[2], 1, QTY_MAX, &qty)) != 0)
        return rc;
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0 ||
        (rc = cli_resolve(cl, FM_ENT_REQUEST, a.pos[0], req)) != 0)
        return rc;
    if (!is_return && strcmp(depot, "nearest") == 0) {
        if ((rc = nearest_stock(cl, req, res)) != 0)
            return rc;
    } else if ((rc = cli_resolve(cl, FM_ENT_RESOURCE, depot, res)) != 0) {
        return rc;
    }
    uint64_t asked = qty;
    int64_t lacking = 0;
    if (!is_return && (rc = allocate_qty(cl, req, res, cli_flag(&a, 3), &qty, &lacking)) != 0)
        return rc;
    rc = fm_node_material_move(cl->node, req, res, (int64_t)qty, is_return);
    if (rc == FM_ESTATE)
        return cli_error(cl, rc, is_return ? "cannot return %llu to %s: more than was allocated "
                                             "from it for %s"
                                           : "cannot allocate %llu from %s to %s: not enough "
                                             "stock, or more than the request still needs",
                         (unsigned long long)qty, res, req);
    if (rc == FM_EINVAL)
        return cli_error(cl, rc, "resource %s is not of the kind request %s asks for", res, req);
    if (rc == FM_EPERM) {
        char what[96 + 2 * FM_ID_MAX];
        snprintf(what, sizeof what, "%s %s for %s", is_return ? "return material to" :
                 "allocate material from", res, req);
        return cli_role_error(cl, rc, what, "centre and county nodes, the node that added the "
                                            "stock or its depot's unit move a depot's material");
    }
    if (rc != 0)
        return cli_wf_error(cl, rc, is_return ? "return material for" : "allocate material for",
                            req);
    cli_after_write(cl);
    printf("%s: %s %llu %s %s\n", req, is_return ? "returned" : "allocated",
           (unsigned long long)qty, is_return ? "to" : "from", res);
    if (!is_return && lacking > (int64_t)qty)
        fprintf(stderr, "fieldmesh: partly: %s still lacks %lld%s; allocate the rest from "
                "another depot (fieldmesh resource list --for %s)\n", req,
                (long long)(lacking - (int64_t)qty),
                asked && asked > qty ? " (all this depot had)" : "", req);
    return CLI_EXIT_OK;
}

static int run_allocate(struct cli *cl, int argc, char **argv) { return move(cl, argc, argv, false); }
static int run_return(struct cli *cl, int argc, char **argv) { return move(cl, argc, argv, true); }

const struct cli_cmd cli_cmd_resource_allocate = {
    "resource", "allocate", "REQUEST --from RESOURCE [--qty N] [--partial]",
    "take stock from a depot for a request (default: all it still needs)",
    "  REQUEST          the request id or an unambiguous prefix\n"
    "  --from RESOURCE  the stock item (same kind) at the depot, or `nearest`:\n"
    "                   the one with stock on hand at the depot nearest the\n"
    "                   incident (see resource list --for REQUEST)\n"
    "  --qty N          how much; default what the request still lacks\n"
    "  --partial        the depot holds less: take what it has (the refusal\n"
    "                   without it says how much that is); the request keeps\n"
    "                   lacking the rest, which another depot can give\n"
    "  Needs a role other than vehicle.\n",
    run_allocate,
};

const struct cli_cmd cli_cmd_resource_return = {
    "resource", "return", "REQUEST --to RESOURCE --qty N",
    "put unused allocated stock back into its depot",
    "  REQUEST        the request id or an unambiguous prefix\n"
    "  --to RESOURCE  the stock item it was allocated from\n"
    "  --qty N        how much\n",
    run_return,
};

struct rq_ctx {
    bool json;
    struct cli_json j;
    struct cli_table t;
    const struct fm_directory *d; /* units of measure, or NULL */
};

static int rq_one(void *ctx, const struct fm_request *r)
{
    struct rq_ctx *c = ctx;
    if (c->json) {
        cli_json_begin_object(&c->j);
        cli_json_kstr(&c->j, "id", r->id);
        cli_json_kstr(&c->j, "incident", r->incident);
        cli_json_kstr(&c->j, "kind", r->kind);
        cli_json_key(&c->j, "measure");
        if (fm_directory_measure(c->d, r->kind) != NULL)
            cli_json_string(&c->j, fm_directory_measure(c->d, r->kind));
        else
            cli_json_null(&c->j);
        cli_json_kint(&c->j, "qty", r->qty);
        cli_json_kint(&c->j, "allocated", r->allocated);
        cli_json_kint(&c->j, "returned", r->returned);
        cli_json_kint(&c->j, "consumed", r->allocated - r->returned);
        cli_json_kint(&c->j, "outstanding", r->qty - (r->allocated - r->returned));
        cli_json_kstr(&c->j, "requester", r->requester);
        cli_json_kstr(&c->j, "note", r->text);
        cli_json_ktime(&c->j, "requested_at", r->created_hlc);
        cli_json_end_object(&c->j);
        return 0;
    }
    char q[24 + FM_DIR_MEASURE_MAX], al[24], re[24], co[24], ou[24];
    const char *m = fm_directory_measure(c->d, r->kind);
    snprintf(q, sizeof q, "%lld%s%s", (long long)r->qty, m ? " " : "", m ? m : "");
    snprintf(al, sizeof al, "%lld", (long long)r->allocated);
    snprintf(re, sizeof re, "%lld", (long long)r->returned);
    snprintf(co, sizeof co, "%lld", (long long)(r->allocated - r->returned));
    snprintf(ou, sizeof ou, "%lld", (long long)(r->qty - (r->allocated - r->returned)));
    const char *cells[] = { r->id, r->incident, r->kind, q, al, re, co, ou, r->text };
    return cli_table_add(&c->t, cells, 40);
}

static int run_requests(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false } };
    static const char *const headers[] = { "REQUEST", "INCIDENT", "KIND",     "QTY",
                                           "ALLOCATED", "RETURNED", "CONSUMED", "OUTSTANDING",
                                           "NOTE" };
    struct cli_args a;
    struct rq_ctx c;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    memset(&c, 0, sizeof c);
    c.json = cli_flag(&a, 0);
    struct fm_directory *d = NULL;
    if (fm_node_directory_get(cl->node, &d) == FM_OK)
        c.d = d; /* none: no units of measure */
    cli_list_begin(c.json, &c.j, &c.t, stdout, headers, CLI_NELEM(headers));
    rc = fm_node_requests(cl->node, rq_one, &c);
    rc = cli_list_end(c.json, &c.j, &c.t, stdout, rc);
    fm_directory_free(&d);
    if (rc != 0)
        return cli_error(cl, rc, "cannot list requests: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_resource_requests = {
    "resource", "requests", "[--json]", "list material requests and what they received",
    "  --json   an array of {id, incident, kind, measure, qty, allocated, returned,\n"
    "           consumed, outstanding, requester, note, requested_at}; measure is the\n"
    "           kind's unit of measure in the directory (QTY shows it), or null\n",
    run_requests,
};
