/*
 * console.h — the browser console's server inside fieldmeshd: static
 * pages, a JSON API and Server-Sent Events over libmicrohttpd, and the
 * node's operator accounts (node/console/, docs/console-api.md).
 */
#ifndef FM_CONSOLE_H
#define FM_CONSOLE_H

#include <pthread.h>

#include "../workflow/workflow.h"

/* ======================= operator accounts =======================
 * <data_dir>/operators: one line per operator, "NAME<TAB>ROLE<TAB>HASH",
 * HASH an Argon2id string from libsodium's crypto_pwhash_str; lines
 * starting with '#' are comments. Written whole and durably
 * (fm_file_write), mode 0600. */
enum fm_op_role { FM_OPROLE_VIEWER = 0, FM_OPROLE_CALLTAKER, FM_OPROLE_DISPATCHER,
                  FM_OPROLE_ADMIN };
const char *fm_op_role_name(enum fm_op_role r);
int fm_op_role_parse(const char *s, enum fm_op_role *out) FM_MUST_USE;

#define FM_OPERATOR_NAME_MAX 64   /* bytes incl. NUL; printable UTF-8, no space, tab or ':' */
#define FM_OPERATOR_HASH_MAX 128  /* crypto_pwhash_STRBYTES */
#define FM_OPERATORS_MAX 1024
#define FM_OPERATORS_FILE_MAX (256u << 10)
#define FM_PASSWORD_MIN 8
#define FM_PASSWORD_MAX 1024

struct fm_operator {
    char name[FM_OPERATOR_NAME_MAX];
    enum fm_op_role role;
    char hash[FM_OPERATOR_HASH_MAX];
};
struct fm_operators {
    size_t n;
    struct fm_operator *ops; /* malloc'd */
};
/* A valid operator name (see above). */
bool fm_operator_name_ok(const char *name);
/* Strict parser of the file's bytes (untrusted: fuzzed). FM_EDECODE with
 * "line N: what is wrong" in err; FM_ENOMEM. *out must be zeroed. */
int fm_operators_parse(const char *buf, size_t len, struct fm_operators *out, char *err,
                       size_t errlen) FM_MUST_USE;
/* The file's text (malloc'd, NUL-terminated). */
int fm_operators_render(const struct fm_operators *o, char **text, size_t *len) FM_MUST_USE;
/* <data_dir>/operators. */
int fm_operators_path(const struct fm_config *cfg, char *out, size_t cap) FM_MUST_USE;
/* Loads the file; a missing file is an empty list. FM_EDECODE (err set),
 * FM_EIO, FM_ETOOBIG. */
int fm_operators_load(const char *path, struct fm_operators *out, char *err,
                      size_t errlen) FM_MUST_USE;
int fm_operators_save(const char *path, const struct fm_operators *o) FM_MUST_USE;
void fm_operators_free(struct fm_operators *o);
struct fm_operator *fm_operators_find(struct fm_operators *o, const char *name);
/* Adds or (replace) replaces; FM_EEXISTS / FM_ENOTFOUND. */
int fm_operators_set(struct fm_operators *o, const char *name, enum fm_op_role role,
                     const char *hash, bool replace) FM_MUST_USE;
int fm_operators_remove(struct fm_operators *o, const char *name) FM_MUST_USE;
/* Argon2id of a password (kdf level as for sealed keys); FM_EINVAL for a
 * password shorter than FM_PASSWORD_MIN or longer than FM_PASSWORD_MAX. */
int fm_password_hash(const char *password, enum fm_kdf_level lvl,
                     char out[FM_OPERATOR_HASH_MAX]) FM_MUST_USE;
bool fm_password_verify(const char *hash, const char *password);

/* ======================= the server ======================= */
/* Refuses a configuration the console cannot serve safely: a listen
 * address that is not loopback without console.tls_cert/tls_key, or TLS
 * files that cannot be read. FM_ECONFIG with the reason in err. */
int fm_console_check(const struct fm_config *cfg, char *err, size_t errlen) FM_MUST_USE;

struct fm_console;
/* Starts the HTTP server on cfg->console (its own threads). Every use of
 * `node` by the server happens with *node_lock held; the daemon holds the
 * same lock whenever it uses the node (sync callbacks, housekeeping), so
 * the two never run on the handle at once. FM_ENET when the address
 * cannot be bound, FM_ECONFIG for unreadable TLS files. */
int fm_console_start(struct fm_console **out, const struct fm_config *cfg, struct fm_node *node,
                     pthread_mutex_t *node_lock) FM_MUST_USE;
void fm_console_stop(struct fm_console **cp);

#endif
