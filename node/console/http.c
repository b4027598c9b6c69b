/*
 * http.c — the console's HTTP server: libmicrohttpd with its own thread
 * pool (so a slow browser never holds up sync), request bodies bounded at
 * 64 KiB, the route table with its session, CSRF and operator-role
 * checks, static files of the web root and the Debian-packaged
 * JavaScript libraries, and the JSON replies every /api/ route shares.
 */
#include "console_int.h"

#include <sodium.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define THREADS 4
#define ROLE(r) (1u << (r))
#define ANY_ROLE (ROLE(FM_OPROLE_VIEWER) | ROLE(FM_OPROLE_CALLTAKER) | \
                  ROLE(FM_OPROLE_DISPATCHER) | ROLE(FM_OPROLE_ADMIN))
#define TAKERS (ROLE(FM_OPROLE_CALLTAKER) | ROLE(FM_OPROLE_DISPATCHER) | ROLE(FM_OPROLE_ADMIN))
#define DISPATCHERS (ROLE(FM_OPROLE_DISPATCHER) | ROLE(FM_OPROLE_ADMIN))
#define PUBLIC 0u /* no session needed */

struct route {
    const char *method;
    const char *pattern; /* "*" matches one path segment (an id) */
    int (*fn)(struct call *k);
    unsigned roles;      /* operator roles allowed; PUBLIC = no session */
    const char *what;    /* for a refusal: "dispatch" */
};

static const struct route routes[] = {
    { "POST", "/api/login", route_login, PUBLIC, NULL },
    { "POST", "/api/logout", route_logout, ANY_ROLE, NULL },
    { "GET", "/api/session", route_session, ANY_ROLE, NULL },
    { "GET", "/api/status", route_status, ANY_ROLE, NULL },
    { "GET", "/api/categories", route_categories, ANY_ROLE, NULL },
    { "GET", "/api/incidents", route_incidents, ANY_ROLE, NULL },
    { "POST", "/api/incidents", route_report_incident, TAKERS, "report incidents" },
    { "GET", "/api/incidents/*", route_incident, ANY_ROLE, NULL },
    { "POST", "/api/incidents/*/note", route_note, TAKERS, "add notes" },
    { "POST", "/api/incidents/*/close", route_close, DISPATCHERS, "close incidents" },
    { "GET", "/api/units", route_units, ANY_ROLE, NULL },
    { "GET", "/api/tickets", route_tickets, ANY_ROLE, NULL },
    { "GET", "/api/tickets/*", route_ticket, ANY_ROLE, NULL },
    { "POST", "/api/dispatch", route_dispatch, DISPATCHERS, "dispatch" },
    { "POST", "/api/tickets/*/ack", route_ticket_step, TAKERS, "step tickets" },
    { "POST", "/api/tickets/*/enroute", route_ticket_step, TAKERS, "step tickets" },
    { "POST", "/api/tickets/*/arrive", route_ticket_step, TAKERS, "step tickets" },
    { "POST", "/api/tickets/*/clear", route_ticket_step, TAKERS, "step tickets" },
    { "POST", "/api/tickets/*/cancel", route_ticket_step, DISPATCHERS, "cancel tickets" },
    { "POST", "/api/tickets/*/reassign", route_reassign, DISPATCHERS, "reassign tickets" },
    { "GET", "/api/events", NULL, ANY_ROLE, NULL }, /* handled apart: a stream */
    { "GET", "/api/suggest", route_suggest, ANY_ROLE, NULL },
    { "GET", "/api/alerts", route_alerts, ANY_ROLE, NULL },
    { "GET", "/api/report", route_report, ANY_ROLE, NULL },
    { "GET", "/api/peers", route_peers, ANY_ROLE, NULL },
    { "GET", "/api/directory", route_directory, ANY_ROLE, NULL },
    { "GET", "/api/directory/boundaries", route_boundaries, ANY_ROLE, NULL },
    { "GET", "/api/resources", route_resources, ANY_ROLE, NULL },
    { "GET", "/api/requests", route_requests, ANY_ROLE, NULL },
    { "POST", "/api/requests", route_material_request, TAKERS, "request material" },
    { "POST", "/api/requests/*/allocate", route_allocate, DISPATCHERS, "allocate material" },
    { "POST", "/api/requests/*/return", route_return, DISPATCHERS, "return material" },
    { "GET", "/api/bulletins", route_bulletins, ANY_ROLE, NULL },
    { "POST", "/api/bulletins", route_bulletin_send, DISPATCHERS, "send bulletins" },
    { "POST", "/api/bulletins/*/read", route_bulletin_read, TAKERS, "record read receipts" },
    { "GET", "/api/conflicts", route_conflicts, ANY_ROLE, NULL },
    { "POST", "/api/conflicts/*/resolve", route_conflict_resolve, DISPATCHERS,
      "resolve conflicts" },
    { "POST", "/api/incidents/*/status", route_incident_status, DISPATCHERS,
      "change an incident's status" },
    { "POST", "/api/incidents/*/edit", route_incident_edit, TAKERS, "edit incidents" },
    { "POST", "/api/incidents/*/feedback", route_feedback, TAKERS, "record feedback" },
    { "GET", "/api/openapi.json", route_openapi, PUBLIC, NULL },
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* Per-request state across libmicrohttpd's calls of the handler. */
struct req {
    char *body;
    size_t len;
    bool too_big;
};

/* ------------------------------------------------------------------ */
/* replies                                                             */
/* ------------------------------------------------------------------ */

int reply_json(struct call *k, int status, json_t *body)
{
    json_decref(k->out);
    k->status = status;
    k->out = body;
    if (body == NULL && status != 204) { /* json_pack refused a value (not UTF-8?) */
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "%s %s: cannot encode the answer", k->method,
               k->path);
        k->status = 500;
        k->out = json_pack("{s:s, s:s}", "error", "cannot encode the answer", "code",
                           "internal");
    }
    return 0;
}

int reply_error(struct call *k, int status, const char *code, const char *fmt, ...)
{
    char msg[FM_TEXT_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return reply_json(k, status, json_pack("{s:s, s:s}", "error", msg, "code", code));
}

int reply_node_error(struct call *k, int err, const char *fmt, ...)
{
    char what[FM_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int status = 500;
    const char *code = "internal";
    switch (err) {
    case FM_EINVAL: case FM_EAMBIGUOUS: case FM_ETOOBIG:
        status = 400, code = "usage";
        break;
    case FM_ENOTFOUND:
        status = 404, code = "not_found";
        break;
    case FM_EPERM: case FM_EUNIT: case FM_EREVOKED: case FM_EEXPIRED: case FM_ECERT:
        status = 403, code = "forbidden";
        break;
    case FM_ESTATE: case FM_ECLOSED: case FM_EEXISTS: case FM_EFORK:
        status = 409, code = "conflict";
        break;
    case FM_EIO: case FM_ESTORE: case FM_EMAPFULL: case FM_ETAMPER:
        status = 500, code = "io";
        break;
    default:
        break;
    }
    if (status >= 500)
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "%s %s: %s: %s", k->method, k->path, what,
               fm_strerror(err));
    return reply_error(k, status, code, "%s", what);
}

const char *call_query(struct call *k, const char *name)
{
    return MHD_lookup_connection_value(k->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Cache-Control", "no-store");
}

static enum MHD_Result send_call(struct call *k)
{
    char *text = NULL;
    size_t len = 0;
    if (k->out != NULL) {
        text = json_dumps(k->out, JSON_COMPACT | JSON_REAL_PRECISION(10));
        if (text == NULL)
            return MHD_NO;
        len = strlen(text);
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text != NULL ? text : (void *)"",
                                                             text != NULL ? MHD_RESPMEM_MUST_FREE
                                                                          : MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        free(text);
        return MHD_NO;
    }
    common_headers(r);
    if (k->out != NULL)
        MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    if (k->set_cookie[0])
        MHD_add_response_header(r, "Set-Cookie", k->set_cookie);
    if (k->retry_after[0])
        MHD_add_response_header(r, "Retry-After", k->retry_after);
    if (k->allow[0])
        MHD_add_response_header(r, "Allow", k->allow);
    enum MHD_Result ret = MHD_queue_response(k->conn, (unsigned)k->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* ------------------------------------------------------------------ */
/* static files                                                        */
/* ------------------------------------------------------------------ */

static const char *content_type(const char *name)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },   { ".svg", "image/svg+xml" },
        { ".png", "image/png" },                 { ".json", "application/json; charset=utf-8" },
        { ".ico", "image/x-icon" },              { ".map", "application/json; charset=utf-8" },
        { ".wav", "audio/wav" },                 { ".txt", "text/plain; charset=utf-8" },
        { ".woff2", "font/woff2" },
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* A relative file name: segments of [A-Za-z0-9_.-], none starting with '.'. */
bool console_plain_name(const char *s)
{
    if (*s == '\0' || strlen(s) > 200)
        return false;
    for (const char *seg = s; *seg;) {
        size_t n = strcspn(seg, "/");
        if (n == 0 || seg[0] == '.' ||
            strspn(seg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
            return false;
        seg += n;
        if (*seg == '/')
            seg++;
        if (*seg == '\0' && seg[-1] == '/')
            return false;
    }
    return true;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, int status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    common_headers(r);
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Serves dir/name, or 404 saying `missing` when dir itself is absent. */
static enum MHD_Result send_file(struct MHD_Connection *conn, const char *dir, const char *name,
                                 const char *missing)
{
    char path[FM_PATH_MAX + 256];
    struct stat st;
    const char *type = content_type(name);
    if (!console_plain_name(name) || type == NULL)
        return send_text(conn, 404, "not found: only plain file names of known types are served\n");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return send_text(conn, 404, missing);
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return send_text(conn, 404, "not found\n");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return send_text(conn, 404, "not found\n");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (r == NULL) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_add_response_header(r, "Content-Type", type);
    if (strncmp(type, "text/html", 9) == 0)
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data: blob:; "
                                "style-src 'self' 'unsafe-inline'; script-src 'self'; "
                                "connect-src 'self'; media-src 'self' data: blob:; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* GET outside /api/: the pages, vendored libraries, map tiles. */
static enum MHD_Result serve_static(struct fm_console *c, struct MHD_Connection *conn,
                                    const char *method, const char *url)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_text(conn, 405, "method not allowed\n");
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        return send_file(conn, c->web_root, "index.html",
                         "the console's pages are not installed (console.web_root)\n");
    if (strncmp(url, "/static/", 8) == 0)
        return send_file(conn, c->web_root, url + 8,
                         "the console's pages are not installed (console.web_root)\n");
    if (strncmp(url, "/vendor/leaflet/", 16) == 0)
        return send_file(conn, "/usr/share/javascript/leaflet", url + 16,
                         "Leaflet is not installed on this node (Debian package libjs-leaflet)\n");
    if (strncmp(url, "/vendor/chart.js/", 17) == 0)
        return send_file(conn, "/usr/share/javascript/chart.js", url + 17,
                         "Chart.js is not installed on this node (Debian package "
                         "libjs-chart.js)\n");
    if (strncmp(url, "/tiles/", 7) == 0 && c->cfg->console.tiles[0])
        return send_file(conn, c->cfg->console.tiles, url + 7,
                         "no map tiles at console.tiles\n");
    return send_text(conn, 404, "not found\n");
}

/* ------------------------------------------------------------------ */
/* routing                                                             */
/* ------------------------------------------------------------------ */

/* Matches path against pattern, filling k->arg[] with the '*' parts. */
static bool match(const char *pattern, const char *path, struct call *k)
{
    size_t nargs = 0;
    while (*pattern && *path) {
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= sizeof k->argbuf[0] || nargs == CALL_MAX_ARGS)
                return false;
            memcpy(k->argbuf[nargs], path, n);
            k->argbuf[nargs][n] = '\0';
            k->arg[nargs] = k->argbuf[nargs];
            nargs++;
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *pattern == '\0' && *path == '\0';
}

static const struct route *find_route(struct call *k, bool *other_method)
{
    *other_method = false;
    k->allow[0] = '\0';
    for (size_t i = 0; i < NROUTES; i++) {
        if (!match(routes[i].pattern, k->path, k))
            continue;
        if (strcmp(routes[i].method, k->method) == 0)
            return &routes[i];
        *other_method = true;
        size_t used = strlen(k->allow);
        snprintf(k->allow + used, sizeof k->allow - used, "%s%s", used ? ", " : "",
                 routes[i].method);
    }
    return NULL;
}

/* Parses the body as a JSON object (400 with the position otherwise). */
static int parse_body(struct call *k)
{
    json_error_t e;
    if (k->body_len == 0) {
        k->json = json_object();
        return 0;
    }
    k->json = json_loadb(k->body, k->body_len, JSON_REJECT_DUPLICATES, &e);
    if (k->json == NULL) {
        k->c->bad_bodies++;
        return reply_error(k, 400, "usage", "malformed JSON at line %d, column %d: %s", e.line,
                           e.column, e.text), -1;
    }
    if (!json_is_object(k->json)) {
        k->c->bad_bodies++;
        return reply_error(k, 400, "usage", "the request body must be a JSON object"), -1;
    }
    return 0;
}

/* Session, CSRF and operator role; 0 to go on, else a reply is made. */
static int check_access(struct call *k, const struct route *r)
{
    if (r->roles == PUBLIC)
        return 0;
    if (!auth_session(k->c, k->conn, &k->who))
        return reply_error(k, 401, "unauthorized", "not signed in (or the session expired): "
                           "log in first"), -1;
    if (strcmp(k->method, "GET") != 0) {
        const char *t = MHD_lookup_connection_value(k->conn, MHD_HEADER_KIND, "X-CSRF-Token");
        if (t == NULL || strlen(t) != strlen(k->who.csrf) ||
            sodium_memcmp(t, k->who.csrf, strlen(k->who.csrf)) != 0)
            return reply_error(k, 403, "forbidden", "missing or wrong X-CSRF-Token header "
                               "(reload the page)"), -1;
    }
    if (!(r->roles & ROLE(k->who.role)))
        return reply_error(k, 403, "forbidden", "cannot %s: operator %s is a %s", r->what ? r->what
                           : "do that", k->who.name, fm_op_role_name(k->who.role)), -1;
    return 0;
}

size_t console_route_count(void) { return NROUTES; }

int console_route_lookup(const char *method, const char *path, const char **arg0)
{
    struct call k = { .method = method, .path = path };
    bool other;
    const struct route *r = find_route(&k, &other);
    *arg0 = k.arg[0] != NULL ? k.arg[0] : "";
    static __thread char keep[sizeof k.argbuf[0]];
    fm_strlcpy(keep, *arg0, sizeof keep);
    *arg0 = keep;
    return r != NULL ? (int)(r - routes) : other ? -2 : -1;
}

__thread const char *console_acting;

static enum MHD_Result serve_api(struct fm_console *c, struct MHD_Connection *conn,
                                 const char *method, const char *url, struct req *rq)
{
    struct call k = { .c = c, .conn = conn, .method = method, .path = url, .status = 200 };
    bool other;
    const struct route *r = find_route(&k, &other);
    if (rq->too_big) {
        c->bad_bodies++;
        reply_error(&k, 413, "too_large", "request body over %u bytes", CONSOLE_BODY_MAX);
    } else if (r == NULL && other) {
        reply_error(&k, 405, "usage", "%s is not allowed on %s (allowed: %s)", method, url,
                    k.allow);
    } else if (r == NULL) {
        reply_error(&k, 404, "not_found", "no such API route: %s %s", method, url);
    } else if (check_access(&k, r) == 0) {
        if (r->fn == NULL) { /* the event stream */
            struct MHD_Response *resp = NULL;
            if (route_events(&k, &resp) == 0 && resp != NULL) {
                enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
                MHD_destroy_response(resp);
                return ret;
            }
        } else {
            k.body = rq->body;
            k.body_len = rq->len;
            if (strcmp(method, "POST") != 0 || parse_body(&k) == 0) {
                console_acting = k.who.name; /* ops it writes name the operator */
                r->fn(&k);
                console_acting = NULL;
            }
            if (k.status < 300)
                codes_fill(c, k.out); /* the route has let go of the node lock */
        }
    }
    if (k.status >= 400)
        c->refused++;
    enum MHD_Result ret = send_call(&k);
    json_decref(k.out);
    json_decref(k.json);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    struct fm_console *c = cls;
    struct req *rq = *con_cls;
    (void)version;
    if (rq == NULL) {
        if ((rq = calloc(1, sizeof *rq)) == NULL)
            return MHD_NO;
        *con_cls = rq;
        c->requests++;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        uint64_t n;
        if (cl != NULL && fm_parse_u64(cl, &n) == FM_OK && n > CONSOLE_BODY_MAX)
            rq->too_big = true;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (!rq->too_big && rq->len + *upload_size <= CONSOLE_BODY_MAX) {
            char *grown = realloc(rq->body, rq->len + *upload_size + 1);
            if (grown == NULL)
                return MHD_NO;
            rq->body = grown;
            memcpy(rq->body + rq->len, upload, *upload_size);
            rq->len += *upload_size;
            rq->body[rq->len] = '\0';
        } else {
            rq->too_big = true; /* the rest is read and dropped */
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (strncmp(url, "/api/", 5) == 0)
        return serve_api(c, conn, method, url, rq);
    return serve_static(c, conn, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    struct req *rq = *con_cls;
    if (rq != NULL) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* Every connection sends at once (TCP_NODELAY): an event is one small
 * chunk, and Nagle's algorithm against the browser's delayed ACK held
 * each one back ~40 ms. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls, (void)socket_context;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int one = 1;
    if (ci != NULL)
        (void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    static struct fm_log_limiter lim;
    fm_log_limited(&lim, 5, FM_LOG_WARN, COMPONENT_CONSOLE, "http: %s", msg);
}

/* ------------------------------------------------------------------ */
/* start and stop                                                      */
/* ------------------------------------------------------------------ */

int fm_console_check(const struct fm_config *cfg, char *err, size_t errlen)
{
    const struct fm_console_conf *cc = &cfg->console;
    if (!cc->enabled)
        return FM_OK;
    if (!fm_console_host_is_loopback(cc->host) && cc->tls_cert[0] == '\0') {
        snprintf(err, errlen, "%s: console.listen %s:%u is not a loopback address: set "
                 "console.tls_cert and console.tls_key (HTTPS) or listen on 127.0.0.1 "
                 "(operators' passwords must not cross a network in clear)", cfg->path,
                 cc->host, (unsigned)cc->port);
        return FM_ECONFIG;
    }
    for (int i = 0; i < 2 && cc->tls_cert[0]; i++) {
        const char *p = i ? cc->tls_key : cc->tls_cert;
        if (access(p, R_OK) != 0) {
            snprintf(err, errlen, "%s: console.%s %s cannot be read: %s", cfg->path,
                     i ? "tls_key" : "tls_cert", p, strerror(errno));
            return FM_ECONFIG;
        }
    }
    return FM_OK;
}

/* The pages: console.web_root, else the installed copy beside the binary
 * (<exe>/../share/fieldmesh/web, so /usr and /usr/local both work), else
 * the source tree's (a build run from its tree). */
static void find_web_root(const struct fm_config *cfg, char *out, size_t cap)
{
    struct stat st;
    char exe[FM_PATH_MAX], installed[FM_PATH_MAX + 32] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(installed, sizeof installed, "%s/../share/fieldmesh/web", exe);
        }
    }
    const char *cands[] = { cfg->console.web_root, installed, FM_CONSOLE_WEB_SOURCE };
    if (cfg->console.web_root[0]) { /* set: used even when missing (pages then 404) */
        fm_strlcpy(out, cfg->console.web_root, cap);
        return;
    }
    for (size_t i = 1; i < 3; i++)
        if (cands[i][0] && stat(cands[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            fm_strlcpy(out, cands[i], cap);
            return;
        }
    fm_strlcpy(out, installed[0] ? installed : FM_CONSOLE_WEB_SOURCE, cap);
}

static int resolve_addr(const struct fm_console_conf *cc, struct sockaddr_storage *ss,
                        bool *v6)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)cc->port);
    if (getaddrinfo(cc->host, port, &hints, &res) != 0 || res == NULL)
        return FM_ENET;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return FM_OK;
}

static int load_tls(struct fm_console *c)
{
    size_t len;
    int rc = fm_file_read_alloc(c->cfg->console.tls_cert, 1u << 20, &c->tls_cert, &len);
    if (rc == FM_OK)
        rc = fm_file_read_alloc(c->cfg->console.tls_key, 1u << 20, &c->tls_key, &len);
    if (rc != FM_OK)
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "cannot read console.tls_cert/tls_key: %s",
               fm_strerror(rc));
    return rc == FM_OK ? FM_OK : FM_ECONFIG;
}

static void console_free(struct fm_console *c)
{
    auth_destroy(&c->auth);
    events_destroy(&c->ev);
    codes_destroy(c);
    free(c->tls_cert);
    if (c->tls_key != NULL)
        sodium_memzero(c->tls_key, strlen(c->tls_key));
    free(c->tls_key);
    free(c);
}

int fm_console_start(struct fm_console **out, const struct fm_config *cfg, struct fm_node *node,
                     pthread_mutex_t *lock)
{
    const struct fm_console_conf *cc = &cfg->console;
    struct sockaddr_storage ss;
    bool v6 = false;
    struct fm_console *c = calloc(1, sizeof *c);
    if (c == NULL)
        return FM_ENOMEM;
    c->cfg = cfg;
    c->node = node;
    c->node_lock = lock;
    find_web_root(cfg, c->web_root, sizeof c->web_root);
    int rc = auth_init(&c->auth, cfg);
    if (rc == FM_OK)
        rc = events_init(&c->ev);
    if (rc == FM_OK && cc->tls_cert[0])
        rc = load_tls(c);
    if (rc == FM_OK && resolve_addr(cc, &ss, &v6) != FM_OK) {
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "cannot resolve console.listen host '%s'",
               cc->host);
        rc = FM_ENET;
    }
    if (rc != FM_OK) {
        console_free(c);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0) |
                     (cc->tls_cert[0] ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls_opts[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, c->tls_cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, c->tls_key },
        { MHD_OPTION_END, 0, NULL },
    };
    c->mhd = MHD_start_daemon(
        flags, cc->port, NULL, NULL, on_request, c, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, c,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)THREADS, MHD_OPTION_CONNECTION_LIMIT, 512u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, 128u, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, c, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, c, MHD_OPTION_ARRAY, cc->tls_cert[0] ? tls_opts : tls_opts + 2, MHD_OPTION_END);
    if (c->mhd == NULL) {
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "cannot listen on %s:%u (in use, or not an "
               "address of this machine)", cc->host, (unsigned)cc->port);
        console_free(c);
        return FM_ENET;
    }
    if (events_start(c) != FM_OK) {
        MHD_stop_daemon(c->mhd);
        console_free(c);
        return FM_ENOMEM;
    }
    fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "serving %s://%s%s%s:%u/ (pages from %s)",
           cc->tls_cert[0] ? "https" : "http", v6 ? "[" : "", cc->host, v6 ? "]" : "",
           (unsigned)cc->port, c->web_root);
    *out = c;
    return FM_OK;
}

void fm_console_stop(struct fm_console **cp)
{
    struct fm_console *c = *cp;
    if (c == NULL)
        return;
    events_stop(c); /* ends every event stream */
    MHD_stop_daemon(c->mhd);
    fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "stopped: %llu request(s), %llu refused, %llu bad "
           "bodies", (unsigned long long)c->requests, (unsigned long long)c->refused,
           (unsigned long long)c->bad_bodies);
    console_free(c);
    *cp = NULL;
}
