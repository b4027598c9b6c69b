/*
 * openapi.c — GET /api/openapi.json: the API described as OpenAPI 3.1,
 * built from one table of routes. test_console checks that the table and
 * the router agree (every route documented, every documented route
 * routed) and tests/e2e/test_console_openapi.sh calls every documented
 * route against a real daemon and checks the status is one documented.
 */
#include "console_int.h"

#include <stdlib.h>
#include <string.h>

struct doc_route {
    const char *method, *path, *summary;
    const char *query;   /* "name:type,..." (type int|string) */
    const char *body;    /* "name:type!,..." ('!' = required; type string|number|int|array|bool) */
    int ok;              /* the success status */
    const char *errors;  /* "400,403,404,409" */
    const char *tag;
};

#define W_ERR "400,401,403,404,409,413"
static const struct doc_route docs[] = {
    { "POST", "/api/login", "Log in; sets the session cookie fm_session_<port>", NULL,
      "name:string!,password:string!", 200, "400,401,413,429", "auth" },
    { "POST", "/api/logout", "Log out", NULL, NULL, 204, "401,403", "auth" },
    { "GET", "/api/session", "The operator, CSRF token and node of this session", NULL, NULL,
      200, "401", "auth" },
    { "GET", "/api/status", "This node: name, role, unit, nodes heard of", NULL, NULL, 200,
      "401", "reads" },
    { "GET", "/api/categories", "Incident categories with Chinese and English labels", NULL,
      NULL, 200, "401", "reads" },
    { "GET", "/api/incidents", "Incidents, newest first, with their tickets",
      "state:string,limit:int,after:string,category:string,stage:string", NULL, 200, "400,401",
      "reads" },
    { "POST", "/api/incidents", "Report an incident", NULL,
      "category:string!,lat:number!,lon:number!,priority:int,address:string,caller:string,"
      "caller_name:string,text:string", 201, W_ERR, "writes" },
    { "GET", "/api/incidents/{id}", "One incident with its timeline (each entry with the "
      "console operator it names, or null) and tickets", NULL, NULL, 200, "400,401,404", "reads" },
    { "POST", "/api/incidents/{id}/note", "Add a note", NULL, "text:string!", 201, W_ERR,
      "writes" },
    { "POST", "/api/incidents/{id}/close", "Close an incident (optional result note)", NULL,
      "result:string", 200, W_ERR, "writes" },
    { "POST", "/api/incidents/{id}/status", "Move the status forward, or reopen", NULL,
      "stage:string!", 200, W_ERR, "writes" },
    { "POST", "/api/incidents/{id}/edit", "Edit an incident's fields", NULL,
      "category:string,priority:int,lat:number,lon:number,address:string,caller:string,"
      "text:string", 200, W_ERR, "writes" },
    { "POST", "/api/incidents/{id}/feedback", "Record satisfaction feedback", NULL,
      "score:int!,comment:string", 201, W_ERR, "writes" },
    { "GET", "/api/units", "Units with status and latest position", NULL, NULL, 200, "401",
      "reads" },
    { "GET", "/api/tickets", "Tickets", "unit:string,incident:string,active:int", NULL, 200,
      "400,401,404", "reads" },
    { "GET", "/api/tickets/{id}", "One ticket and its history (each entry with the console "
      "operator it names, or null)", NULL, NULL, 200, "400,401,404", "reads" },
    { "POST", "/api/dispatch", "Dispatch units to an incident", NULL,
      "incident:string!,units:array!,note:string", 201, W_ERR, "writes" },
    { "POST", "/api/tickets/{id}/ack", "Acknowledge a ticket", NULL, NULL, 200, W_ERR,
      "writes" },
    { "POST", "/api/tickets/{id}/enroute", "Mark a ticket en route", NULL, NULL, 200, W_ERR,
      "writes" },
    { "POST", "/api/tickets/{id}/arrive", "Mark a ticket on scene", NULL, NULL, 200, W_ERR,
      "writes" },
    { "POST", "/api/tickets/{id}/clear", "Clear a ticket with its result", NULL,
      "result:string!", 200, W_ERR, "writes" },
    { "POST", "/api/tickets/{id}/cancel", "Cancel a ticket", NULL, "reason:string", 200,
      W_ERR, "writes" },
    { "POST", "/api/tickets/{id}/reassign", "Reassign a ticket to another unit", NULL,
      "unit:string!,reason:string", 201, W_ERR, "writes" },
    { "GET", "/api/events", "Server-Sent Events of every op applied here (text/event-stream)",
      NULL, NULL, 200, "401", "events" },
    { "GET", "/api/suggest", "Proposed dispatch for an incident", "incident:string", NULL, 200,
      "400,401,404", "reads" },
    { "GET", "/api/alerts", "Late tickets, open conflicts, escalations, cloned keys", NULL,
      NULL, 200, "401", "reads" },
    { "GET", "/api/report", "The assessment report",
      "by:string,from:string,to:string,gps_only:int", NULL, 200, "400,401", "reads" },
    { "GET", "/api/peers", "Peers as this daemon's sync engine sees them", NULL, NULL, 200,
      "401,500", "reads" },
    { "GET", "/api/directory", "The organisation directory", NULL, NULL, 200, "401,404",
      "reads" },
    { "GET", "/api/directory/boundaries", "County outlines: rings of [lat, lon], even-odd",
      NULL, NULL, 200, "401,404", "reads" },
    { "GET", "/api/resources", "Stock at depots", NULL, NULL, 200, "401", "reads" },
    { "GET", "/api/requests", "Material requests", NULL, NULL, 200, "401", "reads" },
    { "POST", "/api/requests", "Request material for an incident", NULL,
      "incident:string!,kind:string!,qty:int!,text:string", 201, W_ERR, "writes" },
    { "POST", "/api/requests/{id}/allocate", "Allocate stock to a request", NULL,
      "resource:string!,qty:int!", 200, W_ERR, "writes" },
    { "POST", "/api/requests/{id}/return", "Return unused stock", NULL,
      "resource:string!,qty:int!", 200, W_ERR, "writes" },
    { "GET", "/api/bulletins", "Bulletins", NULL, NULL, 200, "401", "reads" },
    { "POST", "/api/bulletins", "Send a bulletin", NULL, "to:string!,text:string!", 201, W_ERR,
      "writes" },
    { "POST", "/api/bulletins/{id}/read", "Record this node's read receipt", NULL, NULL, 201,
      W_ERR, "writes" },
    { "GET", "/api/conflicts", "Conflicts (open; all=1 with resolved)", "all:int", NULL, 200,
      "401", "reads" },
    { "POST", "/api/conflicts/{id}/resolve", "Resolve a conflict, deciding what stands",
      NULL, "note:string!,keep:string", 200,
      W_ERR, "writes" },
    { "GET", "/api/openapi.json", "This document", NULL, NULL, 200, "", "meta" },
};
#define NDOCS (sizeof docs / sizeof docs[0])

size_t console_doc_count(void) { return NDOCS; }

void console_doc_route(size_t i, const char **method, const char **path)
{
    *method = docs[i].method;
    *path = docs[i].path;
}

static json_t *schema_of(const char *type)
{
    if (strcmp(type, "array") == 0)
        return json_pack("{s:s, s:{s:s}}", "type", "array", "items", "type", "string");
    if (strcmp(type, "int") == 0)
        return json_pack("{s:s}", "type", "integer");
    return json_pack("{s:s}", "type", type);
}

/* "a:string!,b:int" -> (name, type, required) each. */
static void each_field(const char *spec, void (*fn)(void *, const char *, const char *, bool),
                       void *ctx)
{
    char buf[512], *save = NULL;
    fm_strlcpy(buf, spec, sizeof buf);
    for (char *f = strtok_r(buf, ",", &save); f != NULL; f = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(f, ':');
        if (colon == NULL)
            continue;
        *colon = '\0';
        size_t n = strlen(colon + 1);
        bool req = n > 0 && colon[n] == '!';
        if (req)
            colon[n] = '\0';
        fn(ctx, f, colon + 1, req);
    }
}

static void add_query(void *ctx, const char *name, const char *type, bool req)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:b, s:o}", "name", name, "in", "query",
                                         "required", req, "schema", schema_of(type)));
}

static void add_prop(void *ctx, const char *name, const char *type, bool req)
{
    json_t *schema = ctx;
    json_object_set_new(json_object_get(schema, "properties"), name, schema_of(type));
    if (req)
        json_array_append_new(json_object_get(schema, "required"), json_string(name));
}

static json_t *responses(const struct doc_route *d)
{
    json_t *r = json_object();
    char code[8];
    snprintf(code, sizeof code, "%d", d->ok);
    json_object_set_new(r, code, json_pack("{s:s}", "description", d->ok == 204 ? "No content"
                                                                                : "Success"));
    char buf[64], *save = NULL;
    fm_strlcpy(buf, d->errors, sizeof buf);
    for (char *e = strtok_r(buf, ",", &save); e != NULL; e = strtok_r(NULL, ",", &save))
        json_object_set_new(r, e, json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", "Error",
                                            "content", "application/json", "schema", "$ref",
                                            "#/components/schemas/Error"));
    return r;
}

static json_t *operation(const struct doc_route *d)
{
    json_t *op = json_pack("{s:s, s:[s], s:o}", "summary", d->summary, "tags", d->tag,
                           "responses", responses(d));
    json_t *params = json_array();
    if (strstr(d->path, "{id}") != NULL)
        json_array_append_new(params, json_pack(
            "{s:s, s:s, s:b, s:{s:s}, s:s}", "name", "id", "in", "path", "required", 1, "schema",
            "type", "string", "description",
            "an id or a unique id prefix; for incidents and tickets also a human code such "
            "as K3MX-12 (any case)"));
    if (d->query != NULL)
        each_field(d->query, add_query, params);
    if (json_array_size(params) > 0)
        json_object_set_new(op, "parameters", params);
    else
        json_decref(params);
    if (d->body != NULL) {
        json_t *schema = json_pack("{s:s, s:{}, s:[]}", "type", "object", "properties",
                                   "required");
        each_field(d->body, add_prop, schema);
        json_object_set_new(op, "requestBody", json_pack("{s:b, s:{s:{s:o}}}", "required", 1,
                                                         "content", "application/json", "schema",
                                                         schema));
    }
    if (strcmp(d->path, "/api/login") == 0 || strcmp(d->path, "/api/openapi.json") == 0)
        json_object_set_new(op, "security", json_array());
    return op;
}

json_t *console_openapi(void)
{
    json_t *paths = json_object();
    for (size_t i = 0; i < NDOCS; i++) {
        json_t *item = json_object_get(paths, docs[i].path);
        if (item == NULL) {
            item = json_object();
            json_object_set_new(paths, docs[i].path, item);
        }
        char m[8];
        size_t j;
        for (j = 0; docs[i].method[j] && j < sizeof m - 1; j++)
            m[j] = (char)(docs[i].method[j] | 0x20);
        m[j] = '\0';
        json_object_set_new(item, m, operation(&docs[i]));
    }
    return json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:o, s:{s:{s:{s:s, s:{s:{s:s}, s:{s:s}}, s:[s, s]}}, "
        "s:{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s}}}, s:[{s:[], s:[]}]}",
        "openapi", "3.1.0", "info", "title", "fieldmesh console API", "version", "1",
        "description", "Served by every fieldmeshd (docs/console-api.md). Writes need the "
        "X-CSRF-Token header of the session.",
        "paths", paths, "components", "schemas", "Error", "type", "object", "properties",
        "error", "type", "string", "code", "type", "string", "required", "error", "code",
        "securitySchemes", "session", "type", "apiKey", "in", "cookie", "name",
        "fm_session_<port>",
        "csrf", "type", "apiKey", "in", "header", "name", "X-CSRF-Token", "description",
        "the csrf value of /api/login or /api/session",
        "security", "session", "csrf");
}

int route_openapi(struct call *k)
{
    json_t *doc = console_openapi();
    if (doc == NULL)
        return reply_error(k, 500, "internal", "cannot build the OpenAPI document");
    return reply_json(k, 200, doc);
}
