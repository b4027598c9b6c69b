/*
 * cli_args.c — what every command uses to talk to its user: the strict
 * option parser, the checks of ids, texts, numbers and coordinates, a
 * command's help, and diagnostics with their exit codes.
 *
 * Errors map onto a small set of exit codes (docs/cli.md) so scripts can
 * tell a usage mistake from a trust refusal or a broken config. Every
 * message starts with the command's words ("fieldmesh ticket ack: ...").
 */
#include "cli_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char cli_global_usage[] =
    "usage: fieldmesh [-c CONF] [--log-level L] COMMAND [ARGS]\n"
    "       fieldmesh --help | --version | COMMAND --help\n";

/* ------------------------------------------------------------------ */
/* help                                                                */
/* ------------------------------------------------------------------ */

void cli_cmd_words(const struct cli_cmd *cmd, char *out, size_t cap)
{
    if (cmd->group != NULL)
        snprintf(out, cap, "%s %s", cmd->group, cmd->name);
    else
        snprintf(out, cap, "%s", cmd->name);
}

void cli_print_help(const struct cli_cmd *cmd, FILE *f)
{
    char words[64];
    cli_cmd_words(cmd, words, sizeof(words));
    fprintf(f, "usage: fieldmesh [-c CONF] %s%s%s\n\n%s\n", words, cmd->args[0] ? " " : "",
            cmd->args, cmd->summary);
    if (cmd->help != NULL)
        fprintf(f, "\n%s", cmd->help);
    fprintf(f, "\n  -h, --help   show this help\n");
}

/* ------------------------------------------------------------------ */
/* diagnostics                                                         */
/* ------------------------------------------------------------------ */

int cli_exit_code(int err)
{
    switch (err) {
    case FM_OK:
        return CLI_EXIT_OK;
    case FM_EINVAL:
        return CLI_EXIT_USAGE;
    case FM_EVERIFY:
    case FM_ECHAIN:
    case FM_ECERT:
    case FM_EFOREIGN:
    case FM_EEXPIRED:
    case FM_EREVOKED:
    case FM_EFORK:
    case FM_EPERM:
    case FM_EUNIT:
    case FM_EKEYPERM:
    case FM_EPASSPHRASE:
    case FM_ESHREDDED:
    case FM_ETAMPER:
        return CLI_EXIT_TRUST;
    case FM_ELOCKED:
    case FM_EPLAIN:
        return CLI_EXIT_CONFIG;
    case FM_EIO:
    case FM_ESTORE:
    case FM_EMAPFULL:
        return CLI_EXIT_IO;
    case FM_ECONFIG:
        return CLI_EXIT_CONFIG;
    default:
        return CLI_EXIT_FAIL;
    }
}

static void vprefix(struct cli *cl, const char *fmt, va_list ap)
{
    char words[64] = "";
    if (cl != NULL && cl->cmd != NULL)
        cli_cmd_words(cl->cmd, words, sizeof(words));
    fprintf(stderr, "fieldmesh%s%s: ", words[0] ? " " : "", words);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage(struct cli *cl, const char *fmt, ...)
{
    char words[64] = "";
    va_list ap;
    va_start(ap, fmt);
    vprefix(cl, fmt, ap);
    va_end(ap);
    if (cl->cmd != NULL) {
        cli_cmd_words(cl->cmd, words, sizeof(words));
        fprintf(stderr, "usage: fieldmesh [-c CONF] %s%s%s\n", words,
                cl->cmd->args[0] ? " " : "", cl->cmd->args);
        fprintf(stderr, "Try 'fieldmesh %s --help'.\n", words);
    } else {
        fputs(cli_global_usage, stderr);
    }
    return CLI_EXIT_USAGE;
}

int cli_error(struct cli *cl, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprefix(cl, fmt, ap);
    va_end(ap);
    /* this node's own certificate ran out (bundle commands use
     * FM_EEXPIRED for other nodes' certificates) */
    if (err == FM_EEXPIRED && cl != NULL &&
        !(cl->cmd != NULL && cl->cmd->group != NULL && strcmp(cl->cmd->group, "bundle") == 0))
        fprintf(stderr, "fieldmesh: this node's certificate is not valid now; ask the admin "
                        "for a new certificate: fieldmesh org enroll --org ORGDIR --key "
                        "\"$(cat %s.pub)\" ... --out FILE, then fieldmesh trust renew FILE\n",
                cl->cfg.key_path);
    int code = cli_exit_code(err);
    return code == CLI_EXIT_OK ? CLI_EXIT_FAIL : code;
}

int cli_role_error(struct cli *cl, int err, const char *what, const char *who)
{
    const char *role = cl != NULL && cl->have_cfg ? fm_role_name(cl->cfg.role) : "?";
    return cli_error(cl, err, "cannot %s: only %s (this node is %s)", what, who, role);
}

/* ------------------------------------------------------------------ */
/* option parsing                                                      */
/* ------------------------------------------------------------------ */

static bool looks_negative_number(const char *s)
{
    return s[0] == '-' && ((s[1] >= '0' && s[1] <= '9') || (s[1] == '.' && s[2] >= '0' &&
                                                             s[2] <= '9'));
}

int cli_parse(struct cli *cl, int argc, char **argv, const struct cli_opt *opts, size_t nopts,
              size_t min_pos, size_t max_pos, struct cli_args *a)
{
    bool only_pos = false;
    memset(a, 0, sizeof(*a));
    if (nopts > CLI_MAX_OPTS || max_pos > CLI_MAX_POS)
        return cli_error(cl, FM_EINVAL, "internal error: too many options");
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (only_pos || arg[0] != '-' || arg[1] == '\0' || looks_negative_number(arg)) {
            if (a->npos >= max_pos)
                return cli_usage(cl, "unexpected argument '%s'", arg);
            a->pos[a->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            cli_print_help(cl->cmd, stdout);
            return CLI_PARSE_HELP;
        }
        if (arg[1] != '-')
            return cli_usage(cl, "unknown option '%s' (options are long: --name)", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
        size_t k;
        for (k = 0; k < nopts; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
                break;
        if (k == nopts)
            return cli_usage(cl, "unknown option '--%.*s'", (int)nlen, name);
        if (a->val[k] != NULL)
            return cli_usage(cl, "option '--%s' given twice", opts[k].name);
        if (!opts[k].has_arg) {
            if (eq != NULL)
                return cli_usage(cl, "option '--%s' takes no value", opts[k].name);
            a->val[k] = "";
        } else if (eq != NULL) {
            a->val[k] = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_usage(cl, "option '--%s' needs a value", opts[k].name);
            a->val[k] = argv[++i];
        }
    }
    if (a->npos < min_pos)
        return cli_usage(cl, "missing argument%s", min_pos - a->npos > 1 ? "s" : "");
    return 0;
}

/* ------------------------------------------------------------------ */
/* operand checks                                                      */
/* ------------------------------------------------------------------ */

int cli_parse_uint(struct cli *cl, const char *what, const char *s, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    uint64_t v;
    if (s[0] < '0' || s[0] > '9' || fm_parse_u64(s, &v) != 0 || v < min || v > max)
        return cli_usage(cl, "%s must be a whole number from %llu to %llu, not '%s'", what,
                         (unsigned long long)min, (unsigned long long)max, s);
    *out = v;
    return 0;
}

int cli_parse_coord(struct cli *cl, const char *what, const char *s, double limit, int32_t *e7)
{
    double d;
    if (fm_parse_double(s, -limit, limit, &d) != 0)
        return cli_usage(cl, "%s must be a number from %g to %g, not '%s'", what, -limit, limit,
                         s);
    *e7 = (int32_t)lround(d * 1e7);
    return 0;
}

int cli_check_text(struct cli *cl, const char *what, const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0)
        return cli_usage(cl, "%s must not be empty", what);
    if (n >= cap)
        return cli_usage(cl, "%s is too long (%zu bytes, at most %zu)", what, n, cap - 1);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
        size_t len = cli_utf8_seq((const char *)p);
        if (len == 0)
            return cli_usage(cl, "%s is not valid UTF-8", what);
        /* C0 controls, DEL, and C1 controls (U+0080..U+009F = C2 80..C2 9F) */
        if ((len == 1 && (*p < 0x20 || *p == 0x7f)) || (len == 2 && p[0] == 0xc2 && p[1] < 0xa0))
            return cli_usage(cl, "%s contains a control character (tabs and line breaks "
                                 "included)", what);
        p += len;
    }
    return 0;
}

int cli_check_name(struct cli *cl, const char *what, const char *s, size_t cap)
{
    size_t n = strlen(s), chars = fm_utf8_chars(s, n);
    if (chars > FM_NAME_CHARS)
        return cli_usage(cl, "%s is too long (%zu characters, at most %d)", what, chars,
                         FM_NAME_CHARS);
    if (n >= cap)
        return cli_usage(cl, "%s is too long (%zu bytes, at most %zu; %zu characters)", what, n,
                         cap - 1, chars);
    return cli_check_text(cl, what, s, cap);
}

int cli_check_word(struct cli *cl, const char *what, const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n == 0 || n >= cap || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        return cli_usage(cl, "%s must be 1 to %zu characters of a-z, 0-9, '_' or '-', not '%s'",
                         what, cap - 1, s);
    return 0;
}

int cli_parse_key(struct cli *cl, const char *what, const char *s, uint8_t pk[FM_PK_LEN])
{
    if (fm_key_decode(s, pk) != 0)
        return cli_usage(cl, "%s is not a key text (52 base32 characters a-z, 2-7): '%s'", what,
                         s);
    return 0;
}
