/*
 * cli_int.h — declarations shared by the files of the `fieldmesh` command:
 * the command table, the strict option parser, exit codes, opening the
 * configured node, and the table / JSON output helpers (out.c).
 */
#ifndef FM_CLI_INT_H
#define FM_CLI_INT_H

#include <stdarg.h>
#include <stdio.h>

#include "../node/workflow/workflow.h"
#include "../node/daemon/daemon.h"
#include "cli.h"

#define CLI_VERSION "0.1.0"
#define CLI_PROG "fieldmesh"

/* Exit codes (docs/cli.md). */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,    /* the operation failed: not found, ambiguous, refused by state */
    CLI_EXIT_USAGE = 2,   /* bad arguments */
    CLI_EXIT_TRUST = 3,   /* signature, certificate, revocation or key-permission refusal */
    CLI_EXIT_IO = 74,     /* EX_IOERR: file system or store error */
    CLI_EXIT_CONFIG = 78, /* EX_CONFIG: missing or invalid configuration */
};

struct cli;

struct cli_cmd {
    const char *group;   /* "incident"; NULL for a top-level command */
    const char *name;    /* "report" */
    const char *args;    /* synopsis after the command words */
    const char *summary; /* one line for the command list */
    const char *help;    /* option details (may be NULL) */
    /* argv[0] is the last command word; options and operands follow. */
    int (*run)(struct cli *cl, int argc, char **argv);
};

/* One invocation's state. */
struct cli {
    const char *conf_arg;      /* -c CONF, or NULL */
    const char *operator_arg;  /* --operator NAME (op format 2), or NULL */
    const struct cli_cmd *cmd; /* the command being run */
    bool have_cfg;
    struct fm_config cfg;
    struct fm_node *node;
    bool crypto_ready;
};

/* ---- option parsing (cli_args.c) ----
 * Long options only ("--name VALUE" or "--name=VALUE"), plus -h/--help.
 * A word that looks like a negative number ("-33.9") is an operand, so
 * coordinates need no "--". "--" ends the options. Each option may be
 * given once. */
#define CLI_MAX_OPTS 16
#define CLI_MAX_POS 8
struct cli_opt {
    const char *name;
    bool has_arg;
};
struct cli_args {
    const char *val[CLI_MAX_OPTS]; /* value (or "" for a given flag); NULL if absent */
    char *pos[CLI_MAX_POS];
    size_t npos;
};
/* 0 when parsed; CLI_PARSE_HELP after printing the help to stdout; or an
 * exit code after printing a usage error to stderr. */
#define CLI_PARSE_HELP (-1)
int cli_parse(struct cli *cl, int argc, char **argv, const struct cli_opt *opts, size_t nopts,
              size_t min_pos, size_t max_pos, struct cli_args *a);
#define CLI_NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define CLI_PARSE_OR_RETURN(cl, argc, argv, opts, nopts, min, max, a)                   \
    do {                                                                                  \
        int cli_rc_ = cli_parse((cl), (argc), (argv), (opts), (nopts), (min), (max), (a)); \
        if (cli_rc_ != 0)                                                                 \
            return cli_rc_ == CLI_PARSE_HELP ? CLI_EXIT_OK : cli_rc_;                     \
    } while (0)
static inline bool cli_flag(const struct cli_args *a, size_t i) { return a->val[i] != NULL; }

/* ---- diagnostics (cli_args.c) ---- */
/* "fieldmesh <cmd>: <msg>" + the usage line on stderr; returns CLI_EXIT_USAGE. */
int cli_usage(struct cli *cl, const char *fmt, ...) FM_PRINTF(2, 3);
/* "fieldmesh <cmd>: <msg>" on stderr; returns cli_exit_code(err). */
int cli_error(struct cli *cl, int err, const char *fmt, ...) FM_PRINTF(3, 4);
/* A refusal by role (FM_EPERM, exit 3): "cannot <what>: only <who> may
 * (this node is <role>)"; who names the roles (docs/workflow.md §4). */
int cli_role_error(struct cli *cl, int err, const char *what, const char *who);
/* fm_err -> exit code. */
int cli_exit_code(int err);
/* A command's usage, summary and help text. */
void cli_print_help(const struct cli_cmd *cmd, FILE *f);
/* "group name" or "name" of a command, into out. */
void cli_cmd_words(const struct cli_cmd *cmd, char *out, size_t cap);
/* The global usage lines (`fieldmesh --help` and a usage error outside a command). */
extern const char cli_global_usage[];

/* ---- operand checks: 0, or a usage error already printed ---- */
int cli_parse_uint(struct cli *cl, const char *what, const char *s, uint64_t min, uint64_t max,
                   uint64_t *out);
int cli_parse_coord(struct cli *cl, const char *what, const char *s, double limit, int32_t *e7);
/* Printable UTF-8 (no control characters, as the node requires) of
 * 1..cap-1 bytes. */
int cli_check_text(struct cli *cl, const char *what, const char *s, size_t cap);
/* A name (fm_base.h): cli_check_text, and at most FM_NAME_CHARS characters
 * and cap - 1 bytes (cap <= FM_NAME_MAX); the error says what it got. */
int cli_check_name(struct cli *cl, const char *what, const char *s, size_t cap);
int cli_check_word(struct cli *cl, const char *what, const char *s, size_t cap); /* [a-z0-9_-]+ */
/* cli_words.c (the node open): a directory word or an alias of one, into
 * out; a category no rule has is a usage error naming the closest ones
 * unless force (and then only a well-formed word). */
int cli_word(struct cli *cl, const char *what, const char *text, char *out, size_t cap);
int cli_category(struct cli *cl, const char *what, const char *text, bool force,
                 char out[FM_CATEGORY_MAX]);
int cli_parse_key(struct cli *cl, const char *what, const char *s, uint8_t pk[FM_PK_LEN]);
/* DATE: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]Z" (UTC) -> ms (cli_date.c). */
int cli_parse_date(struct cli *cl, const char *what, const char *s, uint64_t *ms);

/* ---- node access (cli_open.c) ---- */
int cli_crypto(struct cli *cl);                   /* fm_crypto_init once */
int cli_need_config(struct cli *cl);              /* loads the config: 0 or exit code */
int cli_open_node(struct cli *cl, unsigned flags); /* config + fm_node_open: 0 or exit code */
/* Expands an id prefix; FM_ENOTFOUND / FM_EAMBIGUOUS are reported. */
int cli_resolve(struct cli *cl, enum fm_entity_kind kind, const char *prefix,
                char out[FM_ID_MAX]);
/* Gets the node's keys (daemon, else passphrase) and opens cl->node with
 * them (cli_open.c): 0; a positive exit code after reporting a locked,
 * wrong or shredded key; or the negative fm_err of fm_node_open_keys. */
int cli_open_sealed(struct cli *cl, unsigned flags);
/* Called once after every successful write (see cli_open.c). */
void cli_after_write(struct cli *cl);

/* ---- output (out.c) ---- */
#define CLI_JSON_DEPTH 16
struct cli_json {
    FILE *f;
    unsigned depth;
    bool has_items[CLI_JSON_DEPTH];
    bool after_key;
};
void cli_json_init(struct cli_json *j, FILE *f);
void cli_json_begin_object(struct cli_json *j);
void cli_json_end_object(struct cli_json *j);
void cli_json_begin_array(struct cli_json *j);
void cli_json_end_array(struct cli_json *j);
void cli_json_key(struct cli_json *j, const char *key);
void cli_json_string(struct cli_json *j, const char *s); /* NULL -> null */
void cli_json_uint(struct cli_json *j, uint64_t v);
void cli_json_int(struct cli_json *j, int64_t v);
void cli_json_bool(struct cli_json *j, bool v);
void cli_json_null(struct cli_json *j);
void cli_json_raw(struct cli_json *j, const char *number_text);
void cli_json_finish(struct cli_json *j); /* final newline */
/* key + value shorthands */
void cli_json_kstr(struct cli_json *j, const char *key, const char *s);
void cli_json_kuint(struct cli_json *j, const char *key, uint64_t v);
void cli_json_kint(struct cli_json *j, const char *key, int64_t v);
void cli_json_kcoord(struct cli_json *j, const char *key, int32_t e7);
void cli_json_ktime(struct cli_json *j, const char *key, uint64_t hlc); /* null for 0 */
/* Writes s as a JSON string body: quotes, backslash and control characters
 * escaped, valid UTF-8 passed through, invalid bytes as U+FFFD. */
void cli_json_escape(FILE *f, const char *s);
/* Length (1..4) of the valid UTF-8 sequence at p, 0 if invalid (overlong,
 * surrogate, > U+10FFFF, truncated). Never reads past a NUL. */
size_t cli_utf8_seq(const char *p);

#define CLI_COORD_LEN 16
#define CLI_TIME_LEN 32
/* degrees*1e7 -> "-33.9249" (trailing zeros trimmed, at least one decimal) */
void cli_fmt_coord(int32_t e7, char out[CLI_COORD_LEN]);
/* HLC (48-bit ms << 16 | counter) -> "2024-05-01T12:34:56.789Z" (ms) or without ms */
void cli_fmt_time(uint64_t hlc, bool with_ms, char out[CLI_TIME_LEN]);
/* The same in local time (TZ, else the system's zone) with the offset:
 * "2024-05-01T20:34:56+08:00" — for tables; JSON keeps UTC. */
void cli_fmt_local(uint64_t hlc, bool with_ms, char out[CLI_TIME_LEN]);
void cli_hex(const uint8_t *p, size_t n, char *out); /* out: 2n+1 */
/* Terminal-safe copy: control bytes become spaces, invalid UTF-8 '?', and
 * text beyond max_chars code points is cut with "...". */
void cli_sanitize(const char *in, char *out, size_t cap, size_t max_chars);

struct cli_table {
    size_t ncols, nrows, cap;
    const char *const *headers;
    char **cells; /* nrows * ncols sanitized copies */
    size_t width[CLI_MAX_OPTS];
};
void cli_table_init(struct cli_table *t, const char *const *headers, size_t ncols);
/* Copies (sanitized, each cut to max_cols terminal columns and "...": a
 * Chinese character takes two). */
int cli_table_add(struct cli_table *t, const char *const *cells, size_t max_cols) FM_MUST_USE;
void cli_table_print(const struct cli_table *t, FILE *f);
void cli_table_release(struct cli_table *t);

/* The frame of a list command (out.c): --json makes one JSON array of
 * objects on f, otherwise a table with these headers. Between begin and
 * end the command adds one row or object per item; end closes the array,
 * or prints the table when rc is 0, releases it and returns rc. */
void cli_list_begin(bool json, struct cli_json *j, struct cli_table *t, FILE *f,
                    const char *const *headers, size_t ncols);
int cli_list_end(bool json, struct cli_json *j, struct cli_table *t, FILE *f, int rc);

/* ---- progress of long work on a terminal (cli_progress.c) ----
 * begin() says whether stderr is a terminal; report (or cli_progress_show
 * with the struct as ctx) then rewrites one stderr line at most ten times
 * a second; end() clears it. Off a terminal nothing is ever printed. */
enum cli_progress_unit { CLI_PROGRESS_BYTES, CLI_PROGRESS_OPS };
struct cli_progress {
    struct fm_progress report; /* hand to fm_node_set_progress */
    const char *what;          /* "importing the bundle" */
    enum cli_progress_unit unit;
    uint64_t last_ms;
    bool tty, shown;
};
bool cli_progress_begin(struct cli_progress *p, const char *what, enum cli_progress_unit unit);
void cli_progress_show(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(struct cli_progress *p);
/* For work on a node handle (counted in ops): begin() and, on a terminal,
 * fm_node_set_progress(n); node_end() unsets it and clears the line. */
void cli_progress_node_begin(struct cli_progress *p, struct fm_node *n, const char *what);
void cli_progress_node_end(struct cli_progress *p, struct fm_node *n);

/* ---- the commands (cmd_*.c) ---- */
extern const struct cli_cmd cli_cmd_init, cli_cmd_keygen, cli_cmd_keys_seal;
extern const struct cli_cmd cli_cmd_operator_add, cli_cmd_operator_passwd, cli_cmd_operator_list,
    cli_cmd_operator_remove;
extern const struct cli_cmd cli_cmd_org_init, cli_cmd_org_enroll, cli_cmd_org_revoke,
    cli_cmd_trust_publish, cli_cmd_trust_renew;
/* cmd_orgkey.c: the dispatchers' group key (docs/security.md) */
extern const struct cli_cmd cli_cmd_org_dispatch_key;
int cli_org_dispatch_key(struct cli *cl, const char *org_dir, bool rotate, const char *out_path,
                         uint32_t *gen_out);
extern const struct cli_cmd cli_cmd_incident_report, cli_cmd_incident_list,
    cli_cmd_incident_show, cli_cmd_incident_note, cli_cmd_incident_status,
    cli_cmd_incident_edit; /* cmd_incident_edit.c */
extern const struct cli_cmd cli_cmd_incident_link; /* cmd_link.c */
extern const struct cli_cmd cli_cmd_incident_merge; /* cmd_link.c */
extern const struct cli_cmd cli_cmd_incident_upgrade; /* cmd_alarm.c */
extern const struct cli_cmd cli_cmd_unit_register, cli_cmd_unit_list, cli_cmd_unit_show,
    cli_cmd_unit_status, cli_cmd_unit_position;
extern const struct cli_cmd cli_cmd_resource_add, cli_cmd_resource_consume,
    cli_cmd_resource_restock, cli_cmd_resource_list;
extern const struct cli_cmd cli_cmd_log, cli_cmd_digest, cli_cmd_rebuild;
extern const struct cli_cmd cli_cmd_testbed;
extern const struct cli_cmd cli_cmd_peers, cli_cmd_status;
extern const struct cli_cmd cli_cmd_backup, cli_cmd_restore; /* cmd_backup.c */
extern const struct cli_cmd cli_cmd_export_cap;             /* cmd_cap_export.c */
extern const struct cli_cmd cli_cmd_import_cap;             /* cmd_cap_import.c */
extern const struct cli_cmd cli_cmd_export_eido;            /* cmd_eido.c */
/* linkage workflow (cmd_dispatch.c, cmd_ticket.c, cmd_directory.c, cmd_materials.c,
 * cmd_bulletin.c, cmd_report.c, cmd_conflicts.c) */
extern const struct cli_cmd cli_cmd_dispatch, cli_cmd_escalate, cli_cmd_incident_feedback;
extern const struct cli_cmd cli_cmd_ticket_ack, cli_cmd_ticket_enroute, cli_cmd_ticket_arrive,
    cli_cmd_ticket_clear, cli_cmd_ticket_cancel, cli_cmd_ticket_reassign, cli_cmd_ticket_list,
    cli_cmd_ticket_show;
extern const struct cli_cmd cli_cmd_directory_publish, cli_cmd_directory_check,
    cli_cmd_directory_show;
extern const struct cli_cmd cli_cmd_directory_import_csv; /* cmd_roster.c */
extern const struct cli_cmd cli_cmd_directory_import_geojson; /* cmd_geojson_import.c */
extern const struct cli_cmd cli_cmd_resource_request, cli_cmd_resource_allocate,
    cli_cmd_resource_return, cli_cmd_resource_requests;
extern const struct cli_cmd cli_cmd_bulletin_send, cli_cmd_bulletin_list, cli_cmd_bulletin_read,
    cli_cmd_bulletin_receipts;
extern const struct cli_cmd cli_cmd_report, cli_cmd_conflicts;
/* Prints the proposed dispatch after `incident report` (cmd_dispatch.c). */
void cli_wf_print_proposal(struct cli *cl, const char *incident, FILE *f);
extern const struct cli_cmd cli_cmd_bundle_vector, cli_cmd_bundle_export, cli_cmd_bundle_import,
    cli_cmd_bundle_org_key; /* field sync (cmd_bundle.c) */

extern const struct cli_cmd cli_cmd_doctor; /* operating the node (cmd_doctor.c) */
extern const struct cli_cmd cli_cmd_export_geojson; /* other formats (cmd_export.c) */

/* ---- staleness (cmd_daemon.c): who last changed a record, and how long
 * that node has been silent (no op, no presence) ---- */
struct cli_stale;
struct cli_stale_info {
    bool known, stale;
    uint8_t by[FM_PK_LEN];
    char by_name[FM_NAME_MAX];
    uint64_t silent_s;
    char text[FM_NAME_MAX + 48]; /* table cell: "no" or "yes: node3 silent 300s" */
};
int cli_stale_open(struct cli *cl, uint64_t threshold_s, struct cli_stale **out);
void cli_stale_check(struct cli_stale *s, const char *incident_id, struct cli_stale_info *out);
void cli_stale_json(struct cli_json *j, const struct cli_stale_info *si);
void cli_stale_close(struct cli_stale **sp);
/* Shared by peers and status (cmd_daemon.c): the author pk among a (sorted
 * by key, as fm_node_authors_seen returns them), or NULL; this node's public
 * key from <key_path>.pub (false when there is none yet); whether a is a
 * centre other than this node (me NULL: any centre), the one whose silence
 * matters; then_ms as "12s ago", "3m ago", "5h ago" or "never". */
const struct fm_author_seen *cli_seen_find(const struct fm_author_seen *a, size_t n,
                                           const uint8_t pk[FM_PK_LEN]);
bool cli_self_key(const struct cli *cl, uint8_t pk[FM_PK_LEN]);
bool cli_other_centre(const struct fm_author_seen *a, const uint8_t *me);
void cli_fmt_ago(uint64_t then_ms, uint64_t now_ms, char *out, size_t cap);

/* ---- the daemon's sync engine in status (status_sync.c): its place in
 * the spanning tree, a store that cannot take ops, connections and pulls
 * held back per key; no daemon (in->daemon_up false) prints nothing (text)
 * or nulls (JSON) ---- */
struct cli_status_in;
void cli_status_sync_json(struct cli_json *j, const struct cli_status_in *in);
void cli_status_sync_text(const struct cli_status_in *in);
/* ---- the GPS reader (status_gps.c, docs/gps.md): null / nothing when
 * gps.enabled is false ---- */
void cli_status_gps_json(struct cli_json *j, struct fm_node *n, const struct fm_config *cfg);
void cli_status_gps_text(struct fm_node *n, const struct fm_config *cfg, uint64_t now_ms);

/* Shared by org enroll and testbed (cmd_org.c): signs a certificate for pk
 * with the root key in org_dir/root.key, records it in
 * org_dir/enrolled.txt (refusing a key whose 8-character tag is already
 * enrolled for another key) and writes it to out_path. Messages go to
 * stderr; returns 0 or an exit code. */
int cli_org_enroll_key(struct cli *cl, const char *org_dir, const uint8_t pk[FM_PK_LEN],
                       const char *name, enum fm_role role, uint8_t tier, const char *unit,
                       uint64_t days, const char *out_path);
/* Creates org_dir/root.key (+ .pub); prints nothing. 0 or exit code. */
int cli_org_create(struct cli *cl, const char *org_dir, uint8_t pk_out[FM_PK_LEN]);

/* cmd_alerts.c: integrity warnings of `status` (cloned keys, back-dating) */
struct cli_alerts {
    struct fm_clone_alert *div; /* diverging writers on live keys */
    size_t ndiv;
};
struct cli_status_in {          /* what status has read already */
    const struct fm_peer_info *peers;
    size_t npeers;
    bool daemon_up;
    const struct fm_daemon_info *info;
    const struct fm_author_seen *seen;
    size_t nseen;
    const char *conf;                /* this node's config: its store names the head */
};
int cli_alerts_collect(struct cli *cl, struct cli_alerts *al);
void cli_alerts_release(struct cli_alerts *al);
void cli_alerts_text(const struct cli_alerts *al, const struct cli_status_in *in);
void cli_alerts_json(struct cli_json *j, const struct cli_alerts *al,
                     const struct cli_status_in *in);

#endif
