/*
 * cmd_org.c — the organisation's side of trust: `org init` makes the root
 * key (kept offline), `org enroll` signs a node certificate, `org revoke`
 * signs a revocation, and `trust publish` (run on a node) puts a
 * revocation into that node's log so it gossips to every node.
 *
 * Entity ids start with the first 8 characters of the author's key text,
 * so two enrolled keys must never share those 8 characters: the org
 * directory keeps enrolled.txt ("<key text> <role> <name>" per line) and
 * enrolling refuses a key whose tag is already taken by another key.
 */
#include "cli_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY_MS (86400ull * 1000ull)
/* Certificates are valid from an hour before issue, so a node whose clock
 * is a little behind the enrolling machine's can use its key at once. */
#define CERT_BACKDATE_MS (3600ull * 1000ull)
#define ENROLLED_LINE_MAX 256

static int org_path(struct cli *cl, const char *dir, const char *file, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= cap)
        return cli_error(cl, FM_ETOOBIG, "path too long: %s/%s", dir, file);
    return 0;
}

int cli_org_create(struct cli *cl, const char *org_dir, uint8_t pk_out[FM_PK_LEN])
{
    char key_path[FM_PATH_MAX], list_path[FM_PATH_MAX];
    struct fm_identity root = { { 0 }, NULL };
    int rc;

    if ((rc = cli_crypto(cl)) != 0)
        return rc;
    if ((rc = org_path(cl, org_dir, "root.key", key_path, sizeof(key_path))) != 0 ||
        (rc = org_path(cl, org_dir, "enrolled.txt", list_path, sizeof(list_path))) != 0)
        return rc;
    if (fm_mkdirs(org_dir) != 0)
        return cli_error(cl, FM_EIO, "cannot create %s: %s", org_dir, strerror(errno));
    if (access(key_path, F_OK) == 0)
        return cli_error(cl, FM_EEXISTS, "%s already holds a root key; not replacing it",
                         org_dir);
    if ((rc = fm_identity_generate(&root)) != 0)
        return cli_error(cl, rc, "cannot generate the root key: %s", fm_strerror(rc));
    rc = fm_identity_save(&root, key_path);
    memcpy(pk_out, root.pk, FM_PK_LEN);
    fm_identity_release(&root);
    if (rc != 0)
        return cli_error(cl, rc, "cannot save %s: %s", key_path, fm_strerror(rc));
    if (fm_file_append(list_path, "", 0, 0644) != FM_OK)
        return cli_error(cl, FM_EIO, "cannot create %s: %s", list_path, strerror(errno));
    return 0;
}

/* Looks the key up in enrolled.txt: 0 if its tag is free or the same key
 * is already listed (*listed set), else an exit code (message printed). */
static int check_tag(struct cli *cl, const char *list_path, const char *text, bool *listed)
{
    char line[ENROLLED_LINE_MAX];
    FILE *f = fopen(list_path, "r");
    int rc = 0;
    *listed = false;
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        return cli_error(cl, FM_EIO, "cannot read %s: %s", list_path, strerror(errno));
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        bool whole = len > 0 && line[len - 1] == '\n';
        if (len >= FM_KEY_TEXT_LEN - 1 && strncmp(line, text, FM_KEY_TAG_LEN) == 0) {
            if (strncmp(line, text, FM_KEY_TEXT_LEN - 1) == 0) {
                *listed = true;
            } else {
                char *nl = strchr(line, '\n');
                if (nl != NULL)
                    *nl = '\0';
                rc = cli_error(cl, FM_EEXISTS,
                               "key tag '%.*s' is already used by an enrolled key (%s); entity "
                               "ids start with that tag, so they would collide. Generate "
                               "another key for this node and enroll that one",
                               FM_KEY_TAG_LEN, text, line);
                break;
            }
        }
        /* skip the rest of an over-long line */
        while (!whole && fgets(line, sizeof(line), f) != NULL) {
            len = strlen(line);
            whole = len > 0 && line[len - 1] == '\n';
        }
    }
    if (rc == 0 && ferror(f))
        rc = cli_error(cl, FM_EIO, "cannot read %s", list_path);
    fclose(f);
    return rc;
}

static int load_root(struct cli *cl, const char *org_dir, struct fm_identity *root)
{
    char key_path[FM_PATH_MAX];
    int rc;
    if ((rc = cli_crypto(cl)) != 0)
        return rc;
    if ((rc = org_path(cl, org_dir, "root.key", key_path, sizeof(key_path))) != 0)
        return rc;
    rc = fm_identity_load(root, key_path);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no root key in %s (create one with: fieldmesh org init %s)",
                         org_dir, org_dir);
    if (rc == FM_EKEYPERM)
        return cli_error(cl, rc,
                         "refusing the root key %s: it is readable by group or others "
                         "(fix: chmod 600 %s)", key_path, key_path);
    if (rc != 0)
        return cli_error(cl, rc, "cannot load the root key %s: %s", key_path, fm_strerror(rc));
    return 0;
}

int cli_org_enroll_key(struct cli *cl, const char *org_dir, const uint8_t pk[FM_PK_LEN],
                       const char *name, enum fm_role role, uint8_t tier, const char *unit,
                       uint64_t days, const char *out_path)
{
    struct fm_identity root = { { 0 }, NULL };
    struct fm_cert cert;
    char text[FM_KEY_TEXT_LEN], list_path[FM_PATH_MAX];
    bool listed;
    int rc;

    fm_key_encode(pk, text);
    if ((rc = org_path(cl, org_dir, "enrolled.txt", list_path, sizeof(list_path))) != 0)
        return rc;
    if ((rc = load_root(cl, org_dir, &root)) != 0)
        return rc;
    if ((rc = check_tag(cl, list_path, text, &listed)) != 0)
        goto release_root;

    memset(&cert, 0, sizeof(cert));
    memcpy(cert.node, pk, FM_PK_LEN);
    fm_strlcpy(cert.name, name, sizeof(cert.name));
    cert.role = role;
    cert.tier = tier;
    fm_strlcpy(cert.unit, unit != NULL ? unit : "", sizeof(cert.unit));
    uint64_t now = fm_now_ms();
    cert.not_before_ms = now > CERT_BACKDATE_MS ? now - CERT_BACKDATE_MS : 0;
    cert.expires_ms = now + days * DAY_MS;
    fm_cert_sign(&cert, &root);
    rc = fm_cert_write_file(&cert, out_path);
    if (rc != 0) {
        rc = cli_error(cl, rc, "cannot write the certificate %s: %s", out_path, fm_strerror(rc));
        goto release_root;
    }
    if (!listed) {
        char line[FM_KEY_TEXT_LEN + sizeof(cert.name) + 32];
        int n = snprintf(line, sizeof(line), "%s %s %s\n", text, fm_role_name(role), name);
        if (n < 0 || (size_t)n >= sizeof(line) ||
            fm_file_append(list_path, line, (size_t)n, 0644) != FM_OK) {
            rc = cli_error(cl, FM_EIO, "cannot record the key in %s: %s", list_path,
                           strerror(errno));
            unlink(out_path);
        }
    }
release_root:
    fm_identity_release(&root);
    return rc;
}

/* ------------------------------------------------------------------ */
/* org init                                                            */
/* ------------------------------------------------------------------ */

static int run_org_init(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    uint8_t pk[FM_PK_LEN];
    char text[FM_KEY_TEXT_LEN];
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 1, 1, &a);
    if ((rc = cli_org_create(cl, a.pos[0], pk)) != 0)
        return rc;
    fm_key_encode(pk, text);
    printf("%s\n", text);
    fprintf(stderr,
            "fieldmesh org init: root key in %s/root.key (mode 0600); keep %s offline.\n"
            "Put the key above into every node's config as trust.org_key.\n",
            a.pos[0], a.pos[0]);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_org_init = {
    "org", "init", "DIR", "create the organisation's root key pair in DIR",
    "Creates DIR/root.key (mode 0600), DIR/root.key.pub and DIR/enrolled.txt, and\n"
    "prints the root public key: the trust.org_key of every node config. Keep DIR\n"
    "offline. Refuses to replace an existing root key.\n",
    run_org_init,
};

/* ------------------------------------------------------------------ */
/* org enroll                                                          */
/* ------------------------------------------------------------------ */

enum { EN_ORG, EN_KEY, EN_NAME, EN_ROLE, EN_TIER, EN_UNIT, EN_DAYS, EN_OUT, EN_DEPT };
static const struct cli_opt enroll_opts[] = {
    [EN_ORG] = { "org", true },   [EN_KEY] = { "key", true },   [EN_NAME] = { "name", true },
    [EN_ROLE] = { "role", true }, [EN_TIER] = { "tier", true }, [EN_UNIT] = { "unit", true },
    [EN_DAYS] = { "days", true }, [EN_OUT] = { "out", true },   [EN_DEPT] = { "department", true },
};

static int run_org_enroll(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    uint8_t pk[FM_PK_LEN];
    enum fm_role role = FM_ROLE_NONE;
    uint64_t tier = 0, days = 365;
    char text[FM_KEY_TEXT_LEN];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, enroll_opts, CLI_NELEM(enroll_opts), 0, 0, &a);
    static const char *const required[] = { "--org", "--key", "--name", "--role" };
    for (size_t i = 0; i < 4; i++)
        if (a.val[i] == NULL)
            return cli_usage(cl, "%s is required", required[i]);
    if (a.val[EN_OUT] == NULL)
        return cli_usage(cl, "--out is required");
    if ((rc = cli_parse_key(cl, "--key", a.val[EN_KEY], pk)) != 0 ||
        (rc = cli_check_name(cl, "--name", a.val[EN_NAME], FM_NAME_MAX)) != 0)
        return rc;
    if (fm_role_parse(a.val[EN_ROLE], &role) != 0 || role == FM_ROLE_NONE)
        return cli_usage(cl, "--role must be centre, county, station, vehicle or admin, not '%s'",
                         a.val[EN_ROLE]);
    if (a.val[EN_TIER] != NULL && (rc = cli_parse_uint(cl, "--tier", a.val[EN_TIER], 0, 3,
                                                       &tier)) != 0)
        return rc;
    if (a.val[EN_UNIT] != NULL &&
        (rc = cli_check_name(cl, "--unit", a.val[EN_UNIT], FM_NAME_MAX)) != 0)
        return rc;
    /* a station's duty room acting for every unit of its department */
    char dept_claim[FM_NAME_MAX];
    const char *unit = a.val[EN_UNIT];
    if (a.val[EN_DEPT] != NULL) {
        if (unit != NULL)
            return cli_usage(cl, "give --unit or --department, not both");
        if (role != FM_ROLE_STATION)
            return cli_usage(cl, "--department is for a station (its duty room acts for every "
                                 "unit of the department), not a %s", fm_role_name(role));
        if ((rc = cli_check_name(cl, "--department", a.val[EN_DEPT],
                                 FM_NAME_MAX - FM_DEPT_CLAIM_LEN)) != 0)
            return rc;
        snprintf(dept_claim, sizeof dept_claim, "%s%s", FM_DEPT_CLAIM, a.val[EN_DEPT]);
        unit = dept_claim;
    } else if (unit != NULL && strncmp(unit, FM_DEPT_CLAIM, FM_DEPT_CLAIM_LEN) == 0) {
        return cli_usage(cl, "--unit may not start with '%s': use --department", FM_DEPT_CLAIM);
    }
    if (a.val[EN_DAYS] != NULL &&
        (rc = cli_parse_uint(cl, "--days", a.val[EN_DAYS], 1, 3650, &days)) != 0)
        return rc;
    if (a.val[EN_OUT][0] == '\0')
        return cli_usage(cl, "--out needs a file name");

    rc = cli_org_enroll_key(cl, a.val[EN_ORG], pk, a.val[EN_NAME], role, (uint8_t)tier, unit,
                            days, a.val[EN_OUT]);
    if (rc != 0)
        return rc;
    fm_key_encode(pk, text);
    fprintf(stderr, "fieldmesh org enroll: certificate for %s ('%s', %s) written to %s, valid "
                    "%llu days\n",
            text, a.val[EN_NAME], fm_role_name(role), a.val[EN_OUT], (unsigned long long)days);
    fprintf(stderr, "next: fieldmesh -c CONF trust publish %s (on a centre, county or admin "
                    "node), so peers that do not list the new node admit it when it first "
                    "dials them\n", a.val[EN_OUT]);
    if (strlen(a.val[EN_NAME]) > FM_NAME_V1_MAX || (unit != NULL && strlen(unit) > FM_NAME_V1_MAX))
        fprintf(stderr, "note: its name or unit is over %d bytes: nodes built before op "
                        "format 7 do not admit it, and publishing it needs node.op_format 7\n",
                FM_NAME_V1_MAX);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_org_enroll = {
    "org", "enroll",
    "--org DIR --key PUBKEY --name NAME --role ROLE [--tier N] [--unit UNIT | --department D] "
    "[--days N] --out FILE",
    "sign a certificate enrolling a node key",
    "  --org DIR      the organisation directory (from `org init`)\n"
    "  --key PUBKEY   the node's public key text (`fieldmesh keygen` prints it)\n"
    "  --name NAME    node name written into the certificate (at most 64 characters)\n"
    "  --role ROLE    centre | county | station | vehicle | admin\n"
    "  --tier N       0 (none) or 1..3 (default 0)\n"
    "  --unit UNIT    the unit the node belongs to (optional): its name, its stable\n"
    "                 directory id or its entity id\n"
    "  --department D a station acting for every unit of department D (a duty room\n"
    "                 for its trucks); at most 64 characters\n"
    "  --days N       validity in days, 1..3650 (default 365)\n"
    "  --out FILE     where to write the certificate (install it as trust.certificate)\n\n"
    "Refuses a key whose first 8 characters equal those of another key already\n"
    "enrolled in DIR (DIR/enrolled.txt): entity ids use those 8 characters.\n",
    run_org_enroll,
};

/* ------------------------------------------------------------------ */
/* org revoke                                                          */
/* ------------------------------------------------------------------ */

enum { RV_ORG, RV_KEY, RV_LAST_SEQ, RV_OUT, RV_HEAD };
static const struct cli_opt revoke_opts[] = {
    [RV_ORG] = { "org", true },
    [RV_KEY] = { "key", true },
    [RV_LAST_SEQ] = { "last-seq", true },
    [RV_OUT] = { "out", true },
    [RV_HEAD] = { "head", true },
};

static int hex_nibble(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int parse_head(struct cli *cl, const char *s, uint8_t out[FM_HASH_LEN])
{
    if (strlen(s) != 2 * FM_HASH_LEN)
        return cli_usage(cl, "--head takes the op's hash: %d hex digits (`fieldmesh log "
                             "--author KEY --json` shows it), got %zu characters",
                         2 * FM_HASH_LEN, strlen(s));
    for (size_t i = 0; i < FM_HASH_LEN; i++) {
        int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return cli_usage(cl, "--head: not a hex digit in %s", s);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* The head a revocation names: --head, or the op at last_seq in the
 * store of the node given with -c (the admin's own view of the log). */
static int revoke_head(struct cli *cl, const struct cli_args *a, struct fm_revocation *rev)
{
    int rc;
    rev->has_head = true;
    if (a->val[RV_HEAD] != NULL)
        return parse_head(cl, a->val[RV_HEAD], rev->head);
    if (rev->last_seq == 0)
        return 0; /* nothing stays valid: the head is all zeros */
    if (cl->conf_arg == NULL)
        return cli_usage(cl, "--head HASH is required: the hash of the node's op at --last-seq, "
                             "which names exactly which history stays valid (`fieldmesh log "
                             "--author KEY --json` on a node that holds it), or give -c CONF "
                             "to read it from that node's store");
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_open_node(cl, 0)) != 0)
        return rc;
    rc = fm_node_op_hash(cl->node, rev->node, rev->last_seq, rev->head);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "%s holds no op of that node at seq %llu: give --head HASH "
                                 "from a node that does, or a lower --last-seq",
                         cl->cfg.path, (unsigned long long)rev->last_seq);
    if (rc != 0)
        return cli_error(cl, rc, "cannot read the op at seq %llu: %s",
                         (unsigned long long)rev->last_seq, fm_strerror(rc));
    return 0;
}

static int run_org_revoke(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_identity root = { { 0 }, NULL };
    struct fm_revocation rev;
    uint64_t last_seq;
    char text[FM_KEY_TEXT_LEN];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, revoke_opts, CLI_NELEM(revoke_opts), 0, 0, &a);
    static const char *const required[] = { "--org", "--key", "--last-seq", "--out" };
    for (size_t i = 0; i < 4; i++)
        if (a.val[i] == NULL || a.val[i][0] == '\0')
            return cli_usage(cl, "%s is required", required[i]);
    memset(&rev, 0, sizeof(rev));
    if ((rc = cli_parse_key(cl, "--key", a.val[RV_KEY], rev.node)) != 0 ||
        (rc = cli_parse_uint(cl, "--last-seq", a.val[RV_LAST_SEQ], 0, INT64_MAX, &last_seq)) !=
            0)
        return rc;
    rev.last_seq = last_seq;
    if ((rc = revoke_head(cl, &a, &rev)) != 0)
        return rc;
    if ((rc = load_root(cl, a.val[RV_ORG], &root)) != 0)
        return rc;
    rev.issued_ms = fm_now_ms();
    fm_revocation_sign(&rev, &root);
    fm_identity_release(&root);
    rc = fm_revocation_write_file(&rev, a.val[RV_OUT]);
    if (rc != 0)
        return cli_error(cl, rc, "cannot write %s: %s", a.val[RV_OUT], fm_strerror(rc));
    char head[2 * FM_HASH_LEN + 1], list[FM_PATH_MAX], line[FM_KEY_TEXT_LEN + 1];
    fm_key_encode(rev.node, text);
    /* `org dispatch-key` rotates the dispatchers' key away from it */
    int n = snprintf(line, sizeof line, "%s\n", text);
    if ((rc = org_path(cl, a.val[RV_ORG], "revoked.txt", list, sizeof list)) != 0)
        return rc;
    if (n < 0 || fm_file_append(list, line, (size_t)n, 0644) != FM_OK)
        return cli_error(cl, FM_EIO, "cannot record the revocation in %s: %s", list,
                         strerror(errno));
    cli_hex(rev.head, FM_HASH_LEN, head);
    fprintf(stderr,
            "fieldmesh org revoke: revocation of %s after seq %llu (head %.16s) written to %s\n"
            "next: fieldmesh -c CONF trust publish %s (on any enrolled node)\n"
            "if it was a dispatcher node: fieldmesh org dispatch-key --org %s --out FILE, "
            "then trust publish FILE (a new key for caller details)\n",
            text, (unsigned long long)last_seq, head, a.val[RV_OUT], a.val[RV_OUT],
            a.val[RV_ORG]);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_org_revoke = {
    "org", "revoke", "--org DIR --key PUBKEY --last-seq N [--head HASH] --out FILE",
    "sign a revocation of a node key",
    "  --org DIR       the organisation directory\n"
    "  --key PUBKEY    the revoked node's public key text\n"
    "  --last-seq N    its last op that stays valid (0 = none); later ones are\n"
    "                  refused, and removed where already stored, on every node\n"
    "  --head HASH     the hash of its op at N (hex, from `log --author KEY --json`):\n"
    "                  exactly the history ending there stays valid, so nothing the\n"
    "                  key signs later can replace it; without --head, the op is\n"
    "                  read from the store of the node given with -c CONF\n"
    "  --out FILE      where to write the revocation (then `trust publish FILE`)\n",
    run_org_revoke,
};

/* ------------------------------------------------------------------ */
/* trust publish                                                       */
/* ------------------------------------------------------------------ */

/* trust publish of a dispatcher key record (from `org dispatch-key`). */
static int publish_groupkey(struct cli *cl, const char *path, struct fm_groupkey *gk)
{
    int rc = fm_groupkey_check(gk, cl->cfg.org_pk);
    if (rc != 0)
        return cli_error(cl, rc, "refusing %s: %s (it must be signed by trust.org_key of %s)",
                         path, fm_strerror(rc), cl->cfg.path);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_publish_groupkey(cl->node, gk);
    if (rc == FM_EEXISTS)
        return cli_error(cl, rc, "not publishing %s: this very key record is already in the "
                                 "log; nothing written", path);
    if (rc == FM_EPERM)
        return cli_error(cl, rc, "cannot publish %s: only centre, county and admin nodes carry "
                                 "the dispatchers' key; run it on one of those", path);
    if (rc != 0)
        return cli_error(cl, rc, "cannot publish %s: %s", path, fm_strerror(rc));
    cli_after_write(cl);
    printf("dispatcher key %u sealed to %u nodes%s\n", gk->generation, gk->count,
           fm_groupkey_lists(gk, fm_node_pk(cl->node)) ? " (this node among them)" : "");
    return CLI_EXIT_OK;
}

/* trust publish of another node's certificate (from `org enroll`): its
 * key is admitted wherever the op arrives, before its own log does. */
static int publish_cert(struct cli *cl, const char *path, const struct fm_cert *cert)
{
    char text[FM_KEY_TEXT_LEN];
    int rc;
    fm_key_encode(cert->node, text);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_announce_cert(cl->node, cert);
    switch (rc) {
    case FM_OK:
        break;
    case FM_ECONFIG:
        if (cl->cfg.op_format >= 4)
            return cli_error(cl, rc, "cannot announce %s: its name or unit is over %d bytes, "
                             "which needs node.op_format 7 (this node writes %u); set it in %s "
                             "once every node of the mesh runs a build that reads it", path,
                             FM_NAME_V1_MAX, (unsigned)cl->cfg.op_format, cl->cfg.path);
        return cli_error(cl, rc, "cannot announce %s: this node writes op format %u; set "
                         "node.op_format: 4 in %s once every node of the mesh runs a build that "
                         "reads it (an older node refuses the op and every later one of this "
                         "node)", path, (unsigned)cl->cfg.op_format, cl->cfg.path);
    case FM_EINVAL:
        return cli_error(cl, FM_ESTATE, "not publishing %s: it is this node's own certificate (use "
                         "trust renew for that)", path);
    case FM_EFOREIGN:
        return cli_error(cl, rc, "refusing %s: it was issued by another organisation than "
                         "trust.org_key of %s", path, cl->cfg.path);
    case FM_EEXPIRED:
        return cli_error(cl, rc, "refusing %s: it is not valid now (check its window and this "
                         "machine's clock)", path);
    case FM_ECERT:
    case FM_EVERIFY:
        return cli_error(cl, FM_ECERT, "refusing %s: its signature does not verify under "
                         "trust.org_key", path);
    case FM_EEXISTS:
        return cli_error(cl, rc, "not publishing %s: node %s is known here already (its log or "
                         "this certificate); nothing written", path, text);
    case FM_EREVOKED:
        return cli_error(cl, rc, "refusing %s: node %s is revoked", path, text);
    case FM_EPERM:
        return cli_error(cl, rc, "cannot announce %s: only centre, county and admin nodes "
                         "announce new nodes; run it on one of those", path);
    default:
        return cli_error(cl, rc, "cannot publish %s: %s", path, fm_strerror(rc));
    }
    cli_after_write(cl);
    printf("announced %s '%s' (%s): peers admit it once this op reaches them\n", text,
           cert->name, fm_role_name(cert->role));
    return CLI_EXIT_OK;
}

static int run_trust_publish(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_revocation rev;
    char text[FM_KEY_TEXT_LEN];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 1, 1, &a);
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_crypto(cl)) != 0)
        return rc;
    struct fm_groupkey *gk = malloc(sizeof *gk);
    if (gk == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if (fm_groupkey_read_file(gk, a.pos[0]) == FM_OK) {
        rc = publish_groupkey(cl, a.pos[0], gk);
        free(gk);
        return rc;
    }
    free(gk);
    struct fm_cert cert;
    if (fm_cert_read_file(&cert, a.pos[0]) == FM_OK)
        return publish_cert(cl, a.pos[0], &cert);
    rc = fm_revocation_read_file(&rev, a.pos[0]);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no such file: %s", a.pos[0]);
    if (rc != 0)
        return cli_error(cl, rc == FM_EIO ? rc : FM_EVERIFY,
                         "%s is not a certificate, revocation or dispatcher key file: %s",
                         a.pos[0], fm_strerror(rc));
    rc = fm_revocation_check(&rev, cl->cfg.org_pk);
    if (rc != 0)
        return cli_error(cl, rc, "refusing %s: %s (it must be signed by trust.org_key of %s)",
                         a.pos[0], fm_strerror(rc), cl->cfg.path);
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_publish_revocation(cl->node, &rev);
    if (rc == FM_EEXISTS) {
        fm_key_encode(rev.node, text);
        return cli_error(cl, rc, "not publishing %s: already published (a revocation of %s "
                                 "after seq %llu or earlier is in force); nothing written",
                         a.pos[0], text, (unsigned long long)rev.last_seq);
    }
    if (rc != 0)
        return cli_error(cl, rc, "cannot publish %s: %s", a.pos[0], fm_strerror(rc));
    cli_after_write(cl);
    fm_key_encode(rev.node, text);
    printf("revoked %s after seq %llu\n", text, (unsigned long long)rev.last_seq);
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* trust renew                                                         */
/* ------------------------------------------------------------------ */

static int run_trust_renew(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_cert cert;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 1, 1, &a);
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_crypto(cl)) != 0)
        return rc;
    rc = fm_cert_read_file(&cert, a.pos[0]);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no such file: %s", a.pos[0]);
    if (rc != 0)
        return cli_error(cl, rc == FM_EIO ? rc : FM_ECERT, "%s is not a certificate file: %s",
                         a.pos[0], fm_strerror(rc));
    if ((rc = cli_open_node(cl, FM_OPEN_IDENTITY)) != 0)
        return rc;
    rc = fm_node_renew_cert(cl->node, &cert);
    switch (rc) {
    case FM_OK:
        break;
    case FM_ECERT:
    case FM_EVERIFY:
        return cli_error(cl, FM_ECERT, "refusing %s: it is not a certificate for this node's "
                                       "key (%s) signed by trust.org_key; nothing written",
                         a.pos[0], cl->cfg.key_path);
    case FM_EFOREIGN:
        return cli_error(cl, rc, "refusing %s: it was issued by another organisation; "
                                 "nothing written", a.pos[0]);
    case FM_EEXPIRED:
        return cli_error(cl, rc, "refusing %s: it is not valid now; nothing written", a.pos[0]);
    case FM_EEXISTS:
        return cli_error(cl, rc, "not renewing with %s: that certificate is already in force; "
                                 "nothing written", a.pos[0]);
    default:
        return cli_error(cl, rc, "cannot renew with %s: %s", a.pos[0], fm_strerror(rc));
    }
    cli_after_write(cl);
    if ((rc = fm_cert_write_file(&cert, cl->cfg.cert_path)) != 0)
        fprintf(stderr, "fieldmesh trust renew: renewed in the log, but could not install %s "
                        "as %s (%s): copy it there by hand\n", a.pos[0], cl->cfg.cert_path,
                fm_strerror(rc));
    printf("renewed until %llu\n", (unsigned long long)(cert.expires_ms / 1000));
    fprintf(stderr, "fieldmesh trust renew: this node's certificate is renewed in its log (it "
                    "reaches every node like any op)%s%s\n", rc == 0 ? " and installed as " : "",
            rc == 0 ? cl->cfg.cert_path : "");
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_trust_renew = {
    "trust", "renew", "CERTFILE",
    "renew this node's certificate (a new one from `org enroll` of the same key)",
    "Checks that CERTFILE is a certificate for this node's key from this node's\n"
    "organisation, valid now (else exit 3, nothing stored), appends it to this\n"
    "node's log as a renewal (so every node moves this node's validity window,\n"
    "role, tier, unit and name) and installs it as trust.certificate. Works\n"
    "after the old certificate expired. Prints `renewed until <unix seconds>`.\n",
    run_trust_renew,
};

const struct cli_cmd cli_cmd_trust_publish = {
    "trust", "publish", "FILE",
    "put a revocation, dispatcher key or new node's certificate into the log",
    "Checks that FILE is signed by this node's organisation, then appends it to\n"
    "this node's log, from where it reaches every node. A certificate is announced\n"
    "(op format 4, centre, county and admin nodes): every node that holds the op\n"
    "admits that node's key when it dials, before its own log has arrived.\n",
    run_trust_publish,
};
