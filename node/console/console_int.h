/*
 * console_int.h — declarations shared by the console server's files:
 * the server state, one HTTP call as the route handlers see it, the
 * session table, the event ring and the JSON encoders of model objects.
 */
#ifndef FM_CONSOLE_INT_H
#define FM_CONSOLE_INT_H

#include <jansson.h>
#include <microhttpd.h>

#include "console.h"
#include "../daemon/daemon.h"

#define COMPONENT_CONSOLE "console"
#define CONSOLE_BODY_MAX (64u << 10)   /* request bodies beyond this get 413 */
#define CONSOLE_SESSIONS_MAX 256
#define CONSOLE_TOKEN_LEN 44           /* base64url of 32 random bytes, + NUL */
#define CONSOLE_LOCK_FAILS 5           /* failed logins before an account locks */
#define CONSOLE_LOCK_S 300             /* ... for this long */
#define CONSOLE_FAIL_SLOTS 512         /* names whose failures are counted */
#define CONSOLE_EVENTS_RING 4096       /* events kept for Last-Event-ID resumes */
#define CONSOLE_EVENT_MAX 512          /* bytes of one event's data line */
#define CONSOLE_KEEPALIVE_MS 15000

/* ---- sessions and failed logins (auth.c) ---- */
struct console_session {
    char token[CONSOLE_TOKEN_LEN];
    char csrf[CONSOLE_TOKEN_LEN];
    char name[FM_OPERATOR_NAME_MAX];
    enum fm_op_role role;
    uint64_t last_ms;                  /* monotonic; 0 = free slot */
};
struct console_fail {
    char name[FM_OPERATOR_NAME_MAX];
    uint32_t fails;
    uint64_t locked_until_ms;          /* wall clock (Unix ms): kept across restarts */
    uint64_t last_ms;                  /* wall clock; 0 = free slot */
};
struct console_auth {
    pthread_mutex_t lock;
    pthread_mutex_t save_lock;         /* orders writes of the lockout file (lockout.c) */
    char lockout_path[FM_PATH_MAX];    /* <data_dir>/console-lockout */
    struct console_session sessions[CONSOLE_SESSIONS_MAX];
    struct console_fail fails[CONSOLE_FAIL_SLOTS];
    char path[FM_PATH_MAX];            /* the operators file */
    char cookie[32];                   /* the session cookie's name: fm_session_<port> */
    uint64_t idle_ms;
};

/* ---- the line walk of the operators and lockout files (lines.c) ---- */
/* One line (its newline cut; writable until the next call) and its
 * number from 1; 0 or a negative code, which ends the walk. */
typedef int (*console_line_fn)(char *line, size_t lineno, void *arg);
/* Calls fn for each line of buf[0..len) that is neither empty nor a '#'
 * comment, in order, until one returns non-zero; returns that, or 0. buf
 * holds no NUL byte (callers check first, in their own words). A last
 * line without its newline: FM_EDECODE with its number in *open_line (0
 * otherwise), fn not called for it. FM_ENOMEM. */
int console_each_line(const char *buf, size_t len, console_line_fn fn, void *arg,
                      size_t *open_line) FM_MUST_USE;

/* ---- failed logins kept across restarts (lockout.c) ---- */
int lockout_path(const struct fm_config *cfg, char *out, size_t cap) FM_MUST_USE;
/* Strict parser of the file's bytes (untrusted: fuzzed): up to cap
 * records into out, *n of them, each lock cut to CONSOLE_LOCK_S from
 * now_ms. FM_EDECODE ("line N: ..." in err, *n = 0), FM_ENOMEM. */
int lockout_parse(const char *buf, size_t len, struct console_fail *out, size_t cap,
                  size_t *n, uint64_t now_ms, char *err, size_t errlen) FM_MUST_USE;
/* The file's text (malloc'd) of the records with failures or a running lock. */
int lockout_render(const struct console_fail *f, size_t n, uint64_t now_ms, char **text,
                   size_t *len) FM_MUST_USE;
/* At start: the file into a->fails (a bad file is logged and ignored). */
void lockout_load(struct console_auth *a);
/* After a change: a->fails to the file, durably (takes a->lock itself;
 * call without it). A failure is logged. */
void lockout_save(struct console_auth *a);

/* ---- events (events.c) ---- */
enum console_event_kind { EV_OP = 0, EV_SOFT, EV_RESET };
struct console_event {
    uint64_t id;
    enum console_event_kind kind;
    char data[CONSOLE_EVENT_MAX];      /* the JSON of `data:` */
};
struct stream;
struct console_events {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct console_event *ring;        /* CONSOLE_EVENTS_RING */
    uint64_t first_id;                 /* ids start here (this daemon's start, in ms * 1000) */
    uint64_t next_id;
    struct fm_head *heads;             /* the version vector last seen */
    size_t nheads;
    uint64_t soft_seq;                 /* last soft record seen */
    uint64_t mark;                     /* the store's change mark at the last look */
    bool reset_owed;                   /* a burst was not told op by op */
    uint64_t reset_after;              /* monotonic ms: the next burst reset not before */
    bool primed;
    uint64_t streams;                  /* open event streams */
    struct stream *suspended;          /* streams waiting for events */
    pthread_t poller;
    bool poller_started;
};

struct fm_console {
    struct MHD_Daemon *mhd;
    const struct fm_config *cfg;
    struct fm_node *node;
    pthread_mutex_t *node_lock;
    char web_root[FM_PATH_MAX];
    char *tls_cert, *tls_key;          /* PEM text (TLS only) */
    struct console_auth auth;
    struct console_events ev;
    volatile bool stopping;
    struct fm_hids *hids;              /* codes.c: the human codes, node lock held */
    uint64_t hids_mark;                /* the change mark it was last found good at */
    struct fm_head *hids_heads;        /* the version vector it was made from */
    size_t hids_nheads;
    uint64_t hids_built_ms;            /* monotonic time of the last rebuild */
    /* counters (logged at stop, shown in /api/status) */
    _Atomic uint64_t requests, refused, bad_bodies;
};

/* ---- one HTTP call ---- */
#define CALL_MAX_ARGS 2
struct call {
    struct fm_console *c;
    struct MHD_Connection *conn;
    const char *method, *path;
    const char *arg[CALL_MAX_ARGS];    /* the path's {id} parts */
    char argbuf[CALL_MAX_ARGS][FM_ID_MAX * 2];
    const char *body;
    size_t body_len;
    json_t *json;                      /* the parsed body (POST) */
    struct console_session who;        /* a copy of the caller's session */
    /* the reply */
    int status;
    json_t *out;                       /* owned; NULL for 204 */
    char set_cookie[256];
    char retry_after[24];
    char allow[32];
};

/* Replies (http.c). Each returns 0 so handlers can `return reply_...`. */
int reply_json(struct call *k, int status, json_t *body);  /* takes body */
/* {"error": msg, "code": code} */
int reply_error(struct call *k, int status, const char *code, const char *fmt, ...)
    FM_PRINTF(4, 5);
/* An fm_err from a node call: status and code by kind, message "what: reason". */
int reply_node_error(struct call *k, int err, const char *fmt, ...) FM_PRINTF(3, 4);
const char *call_query(struct call *k, const char *name);

/* Pure parts of http.c (unit-tested and fuzzed): a static file name
 * (segments of [A-Za-z0-9_.-], none starting with '.'), and the route of
 * a method and path: its index, -1 for no route, -2 for a route of
 * another method (405); *arg0 the first {id} part ("" if none). */
bool console_plain_name(const char *s);
int console_route_lookup(const char *method, const char *path, const char **arg0);
size_t console_route_count(void);
/* openapi.c: the documented routes ({id} in paths) and the document. */
size_t console_doc_count(void);
void console_doc_route(size_t i, const char **method, const char **path);
json_t *console_openapi(void);

/* ---- auth.c ---- */
int auth_init(struct console_auth *a, const struct fm_config *cfg);
void auth_destroy(struct console_auth *a);
/* The session named by the request's cookie, refreshed; false if none. */
bool auth_session(struct fm_console *c, struct MHD_Connection *conn, struct console_session *out);
int route_login(struct call *k);
int route_logout(struct call *k);
int route_session(struct call *k);
/* Finds "name" in a Cookie header value; false if absent or malformed
 * (untrusted: fuzzed). */
bool console_cookie_find(const char *header, const char *name, char *out, size_t cap);
/* Base64url token of 32 random bytes. */
void console_token(char out[CONSOLE_TOKEN_LEN]);

/* ---- lock around every node call ----
 * The operator whose request this thread is running (http.c sets it for
 * the length of a route, NULL outside one). node_lock names it to the
 * node as the acting operator, node_unlock clears it before letting go:
 * writes are serialised by this lock and libmicrohttpd runs a request on
 * one thread, so the name reaches exactly the ops of that request and
 * never a concurrent request's or the sync loop's (docs/console-api.md). */
extern __thread const char *console_acting;
static inline void node_lock(struct fm_console *c)
{
    pthread_mutex_lock(c->node_lock);
    if (fm_node_set_operator(c->node, console_acting) != FM_OK) /* not text: none named */
        fm_log(FM_LOG_WARN, "console", "operator name not recorded in ops (not text)");
}
static inline void node_unlock(struct fm_console *c)
{
    if (fm_node_set_operator(c->node, NULL) != FM_OK)
        fm_log(FM_LOG_ERROR, "console", "cannot clear the acting operator");
    pthread_mutex_unlock(c->node_lock);
}

/* ---- JSON encoders (encode.c) ---- */
json_t *enc_time(uint64_t hlc);          /* ISO 8601 UTC with ms, null for 0 */
json_t *enc_coord(int32_t e7);
/* caller_ok: the operator may read caller details (not a viewer). */
json_t *enc_incident(const struct fm_incident *inc, bool caller_ok);
json_t *enc_unit(const struct fm_unit *u);
json_t *enc_ticket(const struct fm_ticket *t);
json_t *enc_ticket_event(const struct fm_ticket_event *e);
json_t *enc_timeline_entry(const struct fm_timeline_entry *e);
/* The incident's tickets as a JSON array (node lock held). */
json_t *enc_incident_tickets(struct fm_node *n, const char *incident);

/* ---- routes ---- */
int route_status(struct call *k);
int route_incidents(struct call *k);
int route_incident(struct call *k);
int route_units(struct call *k);
int route_tickets(struct call *k);
int route_ticket(struct call *k);
int route_categories(struct call *k);
int route_report_incident(struct call *k);
int route_note(struct call *k);
int route_close(struct call *k);
int route_dispatch(struct call *k);
int route_ticket_step(struct call *k);
int route_reassign(struct call *k);
/* routes_more.c */
int route_suggest(struct call *k);
int route_alerts(struct call *k);
int route_report(struct call *k);
int route_peers(struct call *k);
int route_directory(struct call *k);
int route_boundaries(struct call *k); /* routes_geo.c */
int route_resources(struct call *k);
int route_requests(struct call *k);
int route_bulletins(struct call *k);
int route_conflicts(struct call *k);
/* routes_write2.c */
int route_incident_status(struct call *k);
int route_incident_edit(struct call *k);
int route_feedback(struct call *k);
int route_material_request(struct call *k);
int route_allocate(struct call *k);
int route_return(struct call *k);
int route_bulletin_send(struct call *k);
int route_bulletin_read(struct call *k);
int route_conflict_resolve(struct call *k);
int route_openapi(struct call *k);

/* Body fields (routes_write.c): 0, or an error reply already made. */
int body_str(struct call *k, const char *key, bool required, size_t cap, const char **out);
int body_bool(struct call *k, const char *key, bool *out);
/* Resolve/close through the nothing-stranded check: 0, a node error
 * (negative), or 1 with the 409/403 reply made. Node lock held. */
int close_checked(struct call *k, const char *id, enum fm_incident_stage st, bool cancel,
                  const char *reason);

/* ---- codes.c: human codes (docs/console-api.md "Codes"), node lock held
 * unless said ---- */
/* The codes table, rebuilt only if the store's change mark moved; NULL
 * if it cannot be made. */
const struct fm_hids *codes_table(struct fm_console *c);
void codes_destroy(struct fm_console *c);
/* An id, id prefix or (incidents, tickets) human code to the full id. */
int console_resolve(struct fm_console *c, enum fm_entity_kind kind, const char *text,
                    char out[FM_ID_MAX]);
/* Fills a reply's codes: "code" (null placeholders from enc_incident and
 * enc_ticket) from "id", and incident_code / ticket_code / replaces_code
 * beside every "incident" / "ticket" / "replaces" string. Takes the node
 * lock itself, and only if there is something to fill. */
void codes_fill(struct fm_console *c, json_t *body);
/* The same from the table as it is, never rebuilt (node lock held): for
 * the event poller, whose events must not wait for a rebuild. */
void codes_fill_cached(struct fm_console *c, json_t *body);

/* ---- events.c ---- */
int events_init(struct console_events *ev);
int events_start(struct fm_console *c);  /* the poller thread */
void events_stop(struct fm_console *c);  /* stops it and ends every stream */
void events_destroy(struct console_events *ev);
int route_events(struct call *k, struct MHD_Response **resp);

#endif
