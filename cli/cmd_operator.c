/*
 * cmd_operator.c — `fieldmesh operator add|passwd|list|remove`: the
 * people who may log in to this node's browser console, kept in
 * <data_dir>/operators (node/console/operators.c). Passwords come from
 * the terminal (asked twice) or --password-file and are stored only as
 * Argon2id hashes. A running daemon reads the file at each login, so
 * changes take effect at once; removing an operator or changing a
 * password does not end a session already open (it ends at its idle
 * timeout or at logout).
 */
#include "cli_int.h"
#include "../node/console/console.h"

#include <sodium.h>
#include <string.h>

/* The password: --password-file F (one trailing newline dropped) or the
 * terminal, twice. 0 or an exit code after a message. */
static int read_password(struct cli *cl, const char *file, char *out, size_t cap)
{
    size_t len = 0;
    int rc;
    if (file != NULL) {
        rc = fm_file_read_small(file, (uint8_t *)out, cap - 1, &len, false);
        if (rc != FM_OK)
            return cli_error(cl, rc, "cannot read the password from %s: %s", file,
                             fm_strerror(rc));
        if (len > 0 && out[len - 1] == '\n')
            len--;
        if (len > 0 && out[len - 1] == '\r')
            len--;
    } else {
        char again[FM_PASSWORD_MAX + 2];
        size_t alen = 0;
        if ((rc = fm_tty_secret("password: ", (uint8_t *)out, cap - 1, &len)) != FM_OK ||
            (rc = fm_tty_secret("the same again: ", (uint8_t *)again, sizeof again - 1,
                                &alen)) != FM_OK)
            return rc == FM_ELOCKED ? cli_usage(cl, "no terminal to ask for the password: "
                                                    "use --password-file FILE")
                                    : cli_error(cl, rc, "cannot read the password: %s",
                                                fm_strerror(rc));
        bool same = alen == len && sodium_memcmp(again, out, len) == 0;
        sodium_memzero(again, sizeof again);
        if (!same)
            return cli_usage(cl, "the two passwords differ");
    }
    out[len] = '\0';
    if (memchr(out, '\0', len) != NULL || len < FM_PASSWORD_MIN || len > FM_PASSWORD_MAX)
        return cli_usage(cl, "a password is %d..%d bytes (no NUL)", FM_PASSWORD_MIN,
                         FM_PASSWORD_MAX);
    return 0;
}

/* Loads the operators file: 0 or an exit code after a message. */
static int load(struct cli *cl, char *path, size_t cap, struct fm_operators *ops)
{
    char err[256];
    int rc = cli_need_config(cl);
    if (rc != 0)
        return rc;
    if (fm_operators_path(&cl->cfg, path, cap) != FM_OK)
        return cli_error(cl, FM_ETOOBIG, "data_dir is too long");
    if ((rc = fm_operators_load(path, ops, err, sizeof err)) != FM_OK)
        return cli_error(cl, rc, "%s: %s", path, err);
    return 0;
}

static int save(struct cli *cl, const char *path, struct fm_operators *ops)
{
    int rc = fm_operators_save(path, ops);
    fm_operators_free(ops);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot write %s: %s", path, fm_strerror(rc));
    return 0;
}

/* add NAME --role R, or passwd NAME (role kept). */
static int set_operator(struct cli *cl, int argc, char **argv, bool add)
{
    static const struct cli_opt opts[] = { { "password-file", true }, { "role", true } };
    struct cli_args a;
    enum fm_op_role role = FM_OPROLE_VIEWER;
    char path[FM_PATH_MAX], pw[FM_PASSWORD_MAX + 2], hash[FM_OPERATOR_HASH_MAX];
    struct fm_operators ops = { 0 };
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, add ? 2 : 1, 1, 1, &a);
    if (!fm_operator_name_ok(a.pos[0]))
        return cli_usage(cl, "bad operator name '%s' (1..63 bytes of printable text, no "
                             "spaces or ':')", a.pos[0]);
    if (add && a.val[1] == NULL)
        return cli_usage(cl, "--role is required (calltaker, dispatcher, viewer or admin)");
    if (add && fm_op_role_parse(a.val[1], &role) != FM_OK)
        return cli_usage(cl, "unknown role '%s' (calltaker, dispatcher, viewer or admin)",
                         a.val[1]);
    if ((rc = load(cl, path, sizeof path, &ops)) != 0)
        return rc;
    struct fm_operator *old = fm_operators_find(&ops, a.pos[0]);
    if (add && old != NULL) {
        fm_operators_free(&ops);
        return cli_error(cl, FM_EEXISTS, "operator '%s' exists already (operator passwd "
                                         "changes the password)", a.pos[0]);
    }
    if (!add && old == NULL) {
        fm_operators_free(&ops);
        return cli_error(cl, FM_ENOTFOUND, "no operator '%s'", a.pos[0]);
    }
    if (!add)
        role = old->role;
    if ((rc = read_password(cl, a.val[0], pw, sizeof pw)) != 0) {
        fm_operators_free(&ops);
        sodium_memzero(pw, sizeof pw);
        return rc;
    }
    rc = fm_password_hash(pw, cl->cfg.kdf, hash);
    sodium_memzero(pw, sizeof pw);
    if (rc == FM_OK)
        rc = fm_operators_set(&ops, a.pos[0], role, hash, !add);
    if (rc != FM_OK) {
        fm_operators_free(&ops);
        return cli_error(cl, rc, "cannot set the password: %s", fm_strerror(rc));
    }
    if ((rc = save(cl, path, &ops)) != 0)
        return rc;
    printf("%s %s (%s)\n", add ? "added" : "changed the password of", a.pos[0],
           fm_op_role_name(role));
    return CLI_EXIT_OK;
}

static int run_add(struct cli *cl, int argc, char **argv)
{
    return set_operator(cl, argc, argv, true);
}

static int run_passwd(struct cli *cl, int argc, char **argv)
{
    return set_operator(cl, argc, argv, false);
}

static int run_remove(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    char path[FM_PATH_MAX];
    struct fm_operators ops = { 0 };
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 1, 1, &a);
    if ((rc = load(cl, path, sizeof path, &ops)) != 0)
        return rc;
    if (fm_operators_remove(&ops, a.pos[0]) != FM_OK) {
        fm_operators_free(&ops);
        return cli_error(cl, FM_ENOTFOUND, "no operator '%s'", a.pos[0]);
    }
    if ((rc = save(cl, path, &ops)) != 0)
        return rc;
    printf("removed %s\n", a.pos[0]);
    return CLI_EXIT_OK;
}

static int run_list(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "json", false } };
    static const char *const headers[] = { "NAME", "ROLE" };
    struct cli_args a;
    char path[FM_PATH_MAX];
    struct fm_operators ops = { 0 };
    struct cli_json j;
    struct cli_table t;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, 1, 0, 0, &a);
    if ((rc = load(cl, path, sizeof path, &ops)) != 0)
        return rc;
    bool json = cli_flag(&a, 0);
    cli_list_begin(json, &j, &t, stdout, headers, 2);
    for (size_t i = 0; i < ops.n && rc == 0; i++) {
        if (json) {
            cli_json_begin_object(&j);
            cli_json_kstr(&j, "name", ops.ops[i].name);
            cli_json_kstr(&j, "role", fm_op_role_name(ops.ops[i].role));
            cli_json_end_object(&j);
        } else {
            const char *cells[] = { ops.ops[i].name, fm_op_role_name(ops.ops[i].role) };
            if (cli_table_add(&t, cells, 64) != 0)
                rc = cli_error(cl, FM_ENOMEM, "out of memory");
        }
    }
    fm_operators_free(&ops);
    return cli_list_end(json, &j, &t, stdout, rc);
}

#define PW_HELP "  --password-file F  read the password from F (else asked twice on the terminal)\n"

const struct cli_cmd cli_cmd_operator_add = {
    "operator", "add", "NAME --role calltaker|dispatcher|viewer|admin [--password-file F]",
    "add an operator who may log in to this node's console",
    "  NAME               1..63 bytes of printable text, no spaces or ':'\n"
    "  --role R           calltaker (reports, notes), dispatcher (+ dispatch, ticket steps),\n"
    "                     viewer (read only) or admin (all)\n" PW_HELP,
    run_add,
};
const struct cli_cmd cli_cmd_operator_passwd = {
    "operator", "passwd", "NAME [--password-file F]", "set an operator's console password",
    PW_HELP, run_passwd,
};
const struct cli_cmd cli_cmd_operator_list = {
    "operator", "list", "[--json]", "list this node's console operators",
    "  --json  a JSON array of {name, role}\n", run_list,
};
const struct cli_cmd cli_cmd_operator_remove = {
    "operator", "remove", "NAME", "remove a console operator", NULL, run_remove,
};
