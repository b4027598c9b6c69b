/*
 * cmd_testbed.c — `fieldmesh testbed DIR --nodes N`: a ready-to-start set
 * of nodes for trials, training exercises and tests.
 *
 * It creates an organisation (DIR/org), then for each node K a directory
 * DIR/nodeK with node.yaml and, in DIR/nodeK/data, the node's key and a
 * certificate signed by the organisation. Node K listens on
 * tcp://ADDR_K:(base_port + K - 1) and lists its neighbours in the chosen
 * topology as peers, with their keys. The configs are loaded back before
 * the command reports success.
 */
#include "cli_int.h"
#include "../node/console/console.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TESTBED_MAX_NODES 64
#define TESTBED_ADDR_MAX 64
#define IPC_PATH_MAX 107

enum topology { TOPO_LINE, TOPO_RING, TOPO_MESH };

/* out = a + b; FM_ETOOBIG if it does not fit. */
static int join(char *out, size_t cap, const char *a, const char *b)
{
    int n = snprintf(out, cap, "%s%s", a, b);
    return n < 0 || (size_t)n >= cap ? FM_ETOOBIG : 0;
}

struct tb_node {
    char dir[FM_PATH_MAX];
    char conf[FM_PATH_MAX];
    char addr[TESTBED_ADDR_MAX];
    char listen[FM_ENDPOINT_MAX];
    uint16_t console_port;          /* 0: console off */
    enum fm_role role;
    uint8_t pk[FM_PK_LEN];
};

/* Splits "a,b,c" into at most max items of at most cap-1 bytes each. */
static int split_list(const char *s, char items[][TESTBED_ADDR_MAX], size_t max, size_t *n)
{
    *n = 0;
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= TESTBED_ADDR_MAX || *n >= max)
            return FM_EINVAL;
        memcpy(items[*n], p, len);
        items[*n][len] = '\0';
        (*n)++;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

static bool links(enum topology t, size_t n, size_t a, size_t b)
{
    if (a == b)
        return false;
    if (t == TOPO_MESH)
        return true;
    size_t d = a > b ? a - b : b - a;
    if (d == 1)
        return true;
    return t == TOPO_RING && n >= 3 && d == n - 1;
}

static bool dir_is_empty_or_missing(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = false;
            break;
        }
    closedir(d);
    return empty;
}

enum { TB_NODES, TB_TOPOLOGY, TB_BASE_PORT, TB_ADDRESSES, TB_ROLES, TB_CONSOLE_PORT };
static const struct cli_opt testbed_opts[] = {
    [TB_NODES] = { "nodes", true },
    [TB_TOPOLOGY] = { "topology", true },
    [TB_BASE_PORT] = { "base-port", true },
    [TB_ADDRESSES] = { "addresses", true },
    [TB_ROLES] = { "roles", true },
    [TB_CONSOLE_PORT] = { "console-port", true },
};

/* The console's demo operator: "demo", an admin, with a random password
 * in <dir>/console.txt (mode 0600) beside the URL. */
static int tb_console_login(const char *dir, const char *data, uint16_t port)
{
    uint8_t raw[8];
    char pw[2 * sizeof raw + 1], hash[FM_OPERATOR_HASH_MAX], path[FM_PATH_MAX], text[256];
    struct fm_operators ops = { 0 };
    static struct fm_config cfg;
    fm_random_bytes(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(pw + 2 * i, 3, "%02x", raw[i]);
    fm_config_defaults(&cfg);
    if (fm_strlcpy(cfg.data_dir, data, sizeof cfg.data_dir) != 0 ||
        fm_operators_path(&cfg, path, sizeof path) != FM_OK)
        return FM_ETOOBIG;
    int rc = fm_password_hash(pw, FM_KDF_MINIMAL, hash);
    if (rc == FM_OK)
        rc = fm_operators_set(&ops, "demo", FM_OPROLE_ADMIN, hash, false);
    if (rc == FM_OK)
        rc = fm_operators_save(path, &ops);
    fm_operators_free(&ops);
    if (rc != FM_OK || join(path, sizeof path, dir, "/console.txt") != 0)
        return rc != FM_OK ? rc : FM_ETOOBIG;
    int n = snprintf(text, sizeof text, "url: http://127.0.0.1:%u/\noperator: demo\n"
                     "password: %s\n", (unsigned)port, pw);
    rc = fm_file_write(path, text, (size_t)n, 0600, true);
    fm_wipe(pw, sizeof pw);
    fm_wipe(text, sizeof text);
    return rc;
}

/* A testbed runs without prompts: each node gets a random passphrase in
 * <dir>/passphrase (mode 0600, named by trust.passphrase_file) and its keys
 * are sealed with the minimal KDF (trust.kdf: minimal). Fine for a test
 * mesh on one machine; a field node's passphrase is never on its disk. */
static int tb_seal_keys(const char *dir, const char *data, const char *key_path,
                        const struct fm_identity *id)
{
    uint8_t raw[24];
    char pass[2 * sizeof raw + 2], path[FM_PATH_MAX];
    static struct fm_config cfg;
    uint8_t pk[FM_PK_LEN];
    fm_config_defaults(&cfg);
    if (join(path, sizeof(path), dir, "/passphrase") != 0 ||
        fm_strlcpy(cfg.data_dir, data, sizeof(cfg.data_dir)) != 0 ||
        fm_strlcpy(cfg.key_path, key_path, sizeof(cfg.key_path)) != 0)
        return FM_ETOOBIG;
    cfg.kdf = FM_KDF_MINIMAL;
    fm_random_bytes(raw, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(pass + 2 * i, 3, "%02x", raw[i]);
    size_t len = 2 * sizeof raw;
    pass[len] = '\n';
    int rc = fm_file_write(path, pass, len + 1, 0600, true);
    if (rc != FM_OK) {
        fm_wipe(pass, sizeof pass);
        return rc == FM_EEXISTS ? FM_EIO : rc;
    }
    rc = fm_keys_generate(&cfg, pass, len, id, pk);
    fm_wipe(pass, sizeof pass);
    return rc;
}

static int make_nodes(struct cli *cl, const char *org_dir, struct tb_node *nodes,
                      size_t n, enum topology topo, const uint8_t org_pk[FM_PK_LEN])
{
    char text[TESTBED_MAX_NODES][FM_KEY_TEXT_LEN];
    char key_path[FM_PATH_MAX], cert_path[FM_PATH_MAX];
    int rc;

    /* keys first: configs list their peers' keys */
    for (size_t k = 0; k < n; k++) {
        struct fm_identity id = { { 0 }, NULL };
        char data[FM_PATH_MAX];
        if (join(data, sizeof(data), nodes[k].dir, "/data") != 0 ||
            join(key_path, sizeof(key_path), data, "/node.key") != 0 ||
            join(cert_path, sizeof(cert_path), data, "/node.cert") != 0)
            return cli_error(cl, FM_ETOOBIG, "path too long: %s", nodes[k].dir);
        if (fm_mkdirs(data) != 0)
            return cli_error(cl, FM_EIO, "cannot create %s: %s", data, strerror(errno));
        for (int attempt = 0;; attempt++) {
            if ((rc = fm_identity_generate(&id)) != 0)
                return cli_error(cl, rc, "cannot generate a key: %s", fm_strerror(rc));
            fm_key_encode(id.pk, text[k]);
            bool clash = false;
            for (size_t j = 0; j < k; j++)
                clash = clash || strncmp(text[j], text[k], FM_KEY_TAG_LEN) == 0;
            if (!clash || attempt > 8)
                break;
            fm_identity_release(&id);
        }
        memcpy(nodes[k].pk, id.pk, FM_PK_LEN);
        rc = tb_seal_keys(nodes[k].dir, data, key_path, &id);
        fm_identity_release(&id);
        if (rc != 0)
            return cli_error(cl, rc, "cannot seal the keys of %s: %s", nodes[k].dir,
                             fm_strerror(rc));
        char name[32];
        snprintf(name, sizeof(name), "node%zu", k + 1);
        if ((rc = cli_org_enroll_key(cl, org_dir, nodes[k].pk, name, nodes[k].role, 0, NULL, 365,
                                     cert_path)) != 0)
            return rc;
    }

    for (size_t k = 0; k < n; k++) {
        struct fm_config *cfg = &cl->cfg;
        char err[FM_PATH_MAX + 256];
        fm_config_defaults(cfg);
        snprintf(cfg->name, sizeof(cfg->name), "node%zu", k + 1);
        cfg->role = nodes[k].role;
        if (join(cfg->data_dir, sizeof(cfg->data_dir), nodes[k].dir, "/data") != 0)
            return cli_error(cl, FM_ETOOBIG, "path too long: %s", nodes[k].dir);
        fm_strlcpy(cfg->listen, nodes[k].listen, sizeof(cfg->listen));
        if (join(cfg->passphrase_file, sizeof(cfg->passphrase_file), nodes[k].dir,
                 "/passphrase") != 0)
            return cli_error(cl, FM_ETOOBIG, "path too long: %s", nodes[k].dir);
        cfg->kdf = FM_KDF_MINIMAL;
        cfg->op_format = FM_OP_FORMAT_MAX; /* one build everywhere: all read the newest */
        memcpy(cfg->org_pk, org_pk, FM_PK_LEN);
        cfg->console.enabled = nodes[k].console_port != 0;
        if (nodes[k].console_port != 0) {
            cfg->console.port = nodes[k].console_port;
            if ((rc = tb_console_login(nodes[k].dir, cfg->data_dir, cfg->console.port)) != 0)
                return cli_error(cl, rc, "cannot make the console login of %s: %s",
                                 nodes[k].dir, fm_strerror(rc));
        }
        for (size_t j = 0; j < n; j++) {
            if (!links(topo, n, k, j))
                continue;
            struct fm_peer_conf *p = &cfg->peers[cfg->npeers++];
            fm_strlcpy(p->endpoint, nodes[j].listen, sizeof(p->endpoint));
            memcpy(p->pk, nodes[j].pk, FM_PK_LEN);
            snprintf(p->name, sizeof(p->name), "node%zu", j + 1);
        }
        rc = fm_config_write(cfg, nodes[k].conf);
        if (rc != 0)
            return cli_error(cl, rc, "cannot write %s: %s", nodes[k].conf, fm_strerror(rc));
        rc = fm_config_load(cfg, nodes[k].conf, err, sizeof(err));
        if (rc != 0)
            return cli_error(cl, rc, "the written config does not load: %s", err);
    }
    return 0;
}

/* What the options ask for: how many nodes, how they link, their ports,
 * addresses and roles. */
struct tb_plan {
    uint64_t n, base_port, console_port;
    enum topology topo;
    char addrs[TESTBED_MAX_NODES][TESTBED_ADDR_MAX];
    char roles[TESTBED_MAX_NODES][TESTBED_ADDR_MAX];
    size_t naddrs, nroles;
};

static int tb_parse_topology(struct cli *cl, const char *v, enum topology *out)
{
    if (v == NULL)
        *out = TOPO_LINE;
    else if (strcmp(v, "line") == 0)
        *out = TOPO_LINE;
    else if (strcmp(v, "ring") == 0)
        *out = TOPO_RING;
    else if (strcmp(v, "mesh") == 0)
        *out = TOPO_MESH;
    else
        return cli_usage(cl, "--topology must be line, ring or mesh, not '%s'", v);
    return 0;
}

/* --addresses: exactly one per node, each an IPv4 address or host name. */
static int tb_parse_addresses(struct cli *cl, const char *v, struct tb_plan *p)
{
    if (v == NULL)
        return 0;
    if (split_list(v, p->addrs, TESTBED_MAX_NODES, &p->naddrs) != 0 || p->naddrs != p->n)
        return cli_usage(cl, "--addresses needs exactly %llu comma-separated addresses",
                         (unsigned long long)p->n);
    for (size_t i = 0; i < p->naddrs; i++)
        if (strspn(p->addrs[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789.-") != strlen(p->addrs[i]))
            return cli_usage(cl, "bad address '%s' (an IPv4 address or host name)",
                             p->addrs[i]);
    return 0;
}

static int tb_parse(struct cli *cl, const struct cli_args *a, struct tb_plan *p)
{
    int rc;
    memset(p, 0, sizeof(*p));
    p->base_port = 7400;
    if (a->val[TB_NODES] == NULL)
        return cli_usage(cl, "--nodes is required");
    if ((rc = cli_parse_uint(cl, "--nodes", a->val[TB_NODES], 1, TESTBED_MAX_NODES, &p->n)) != 0)
        return rc;
    if ((rc = tb_parse_topology(cl, a->val[TB_TOPOLOGY], &p->topo)) != 0)
        return rc;
    if (a->val[TB_BASE_PORT] != NULL &&
        (rc = cli_parse_uint(cl, "--base-port", a->val[TB_BASE_PORT], 1, 65536 - p->n,
                             &p->base_port)) != 0)
        return rc;
    /* consoles: --console-port, else 80 above the gossip ports (inside an
     * e2e test's block of 100 ports), else off */
    if (a->val[TB_CONSOLE_PORT] != NULL) {
        if ((rc = cli_parse_uint(cl, "--console-port", a->val[TB_CONSOLE_PORT], 0, 65536 - p->n,
                                 &p->console_port)) != 0)
            return rc;
    } else if (p->base_port + 80 + p->n <= 65536) {
        p->console_port = p->base_port + 80;
    }
    if ((rc = tb_parse_addresses(cl, a->val[TB_ADDRESSES], p)) != 0)
        return rc;
    if (a->val[TB_ROLES] != NULL &&
        (split_list(a->val[TB_ROLES], p->roles, TESTBED_MAX_NODES, &p->nroles) != 0 ||
         p->nroles != p->n))
        return cli_usage(cl, "--roles needs exactly %llu comma-separated roles",
                         (unsigned long long)p->n);
    return 0;
}

/* Each node's role, address, listen endpoint and console port. */
static int tb_place_nodes(struct cli *cl, const struct tb_plan *p, struct tb_node *nodes)
{
    for (size_t k = 0; k < p->n; k++) {
        nodes[k].role = k == 0 ? FM_ROLE_CENTRE : FM_ROLE_COUNTY;
        if (p->nroles > 0 &&
            (fm_role_parse(p->roles[k], &nodes[k].role) != 0 || nodes[k].role == FM_ROLE_NONE))
            return cli_usage(cl, "--roles: unknown role '%s' (centre, county, station, vehicle, "
                                 "admin)", p->roles[k]);
        fm_strlcpy(nodes[k].addr, p->naddrs > 0 ? p->addrs[k] : "127.0.0.1",
                   sizeof(nodes[k].addr));
        snprintf(nodes[k].listen, sizeof(nodes[k].listen), "tcp://%s:%llu", nodes[k].addr,
                 (unsigned long long)(p->base_port + k));
        nodes[k].console_port = p->console_port ? (uint16_t)(p->console_port + k) : 0;
    }
    return 0;
}

/* Creates DIR (new or empty), resolves it into root and names each node's
 * directory and config, checking the control socket's path fits. */
static int tb_make_root(struct cli *cl, const char *dir, char root[PATH_MAX],
                        struct tb_node *nodes, size_t n)
{
    if (!dir_is_empty_or_missing(dir))
        return cli_error(cl, FM_EEXISTS, "%s exists and is not empty; give a new directory", dir);
    if (fm_mkdirs(dir) != 0 || realpath(dir, root) == NULL)
        return cli_error(cl, FM_EIO, "cannot create %s: %s", dir, strerror(errno));
    for (size_t k = 0; k < n; k++) {
        int d = snprintf(nodes[k].dir, sizeof(nodes[k].dir), "%s/node%zu", root, k + 1);
        int c = snprintf(nodes[k].conf, sizeof(nodes[k].conf), "%s/node%zu/node.yaml", root,
                         k + 1);
        if (d < 0 || c < 0 || (size_t)c >= sizeof(nodes[k].conf) ||
            strlen(nodes[k].dir) + strlen("/data/control.sock") > IPC_PATH_MAX)
            return cli_error(cl, FM_ETOOBIG,
                             "%s is too long a path: a node's control socket "
                             "(DIR/nodeK/data/control.sock) must fit in %d bytes",
                             root, IPC_PATH_MAX);
    }
    return 0;
}

/* The organisation, the nodes, and a dispatcher key when any node
 * dispatches. */
static int tb_build(struct cli *cl, const char *org_dir, struct tb_node *nodes, size_t n,
                    enum topology topo)
{
    uint8_t org_pk[FM_PK_LEN];
    int rc;
    if ((rc = cli_org_create(cl, org_dir, org_pk)) != 0)
        return rc;
    if ((rc = make_nodes(cl, org_dir, nodes, n, topo, org_pk)) != 0)
        return rc;
    bool any_dispatcher = false;
    for (size_t k = 0; k < n; k++)
        any_dispatcher = any_dispatcher || nodes[k].role == FM_ROLE_CENTRE ||
                         nodes[k].role == FM_ROLE_COUNTY || nodes[k].role == FM_ROLE_ADMIN;
    char dk_path[FM_PATH_MAX];
    if (!any_dispatcher)
        return 0;
    if (join(dk_path, sizeof(dk_path), org_dir, "/dispatch-key") != 0)
        return cli_error(cl, FM_ETOOBIG, "path too long: %s", org_dir);
    return cli_org_dispatch_key(cl, org_dir, false, dk_path, NULL);
}

static int tb_print(struct cli *cl, const char *root, const struct tb_node *nodes, size_t n)
{
    static const char *const headers[] = { "NODE", "ROLE", "LISTEN", "KEY", "CONFIG",
                                           "CONSOLE" };
    struct cli_table t;
    cli_table_init(&t, headers, CLI_NELEM(headers));
    for (size_t k = 0; k < n; k++) {
        char name[32], text[FM_KEY_TEXT_LEN], url[64] = "off";
        snprintf(name, sizeof(name), "node%zu", k + 1);
        fm_key_encode(nodes[k].pk, text);
        if (nodes[k].console_port)
            snprintf(url, sizeof url, "http://127.0.0.1:%u/", (unsigned)nodes[k].console_port);
        const char *cells[] = { name, fm_role_name(nodes[k].role), nodes[k].listen, text,
                                nodes[k].conf, url };
        if (cli_table_add(&t, cells, FM_PATH_MAX) != 0) {
            cli_table_release(&t);
            return cli_error(cl, FM_ENOMEM, "out of memory");
        }
    }
    cli_table_print(&t, stdout);
    cli_table_release(&t);
    fprintf(stderr,
            "fieldmesh testbed: organisation in %s/org; start each node with\n"
            "  fieldmeshd -c %s/nodeK/node.yaml\n"
            "and use it with fieldmesh -c %s/nodeK/node.yaml ...\n"
            "each console's login (operator demo) is in %s/nodeK/console.txt\n",
            root, root, root, root);
    return CLI_EXIT_OK;
}

static int run_testbed(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    static struct tb_plan plan; /* 8 KiB of lists: off the stack */
    char root[PATH_MAX], org_dir[FM_PATH_MAX];
    struct tb_node *nodes = NULL;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, testbed_opts, CLI_NELEM(testbed_opts), 1, 1, &a);
    if ((rc = tb_parse(cl, &a, &plan)) != 0)
        return rc;
    nodes = calloc(plan.n, sizeof(*nodes));
    if (nodes == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if ((rc = tb_place_nodes(cl, &plan, nodes)) != 0 ||
        (rc = tb_make_root(cl, a.pos[0], root, nodes, plan.n)) != 0)
        goto free_nodes;
    if (join(org_dir, sizeof(org_dir), root, "/org") != 0) {
        rc = cli_error(cl, FM_ETOOBIG, "path too long: %s", root);
        goto free_nodes;
    }
    if ((rc = tb_build(cl, org_dir, nodes, plan.n, plan.topo)) != 0) {
        fprintf(stderr, "fieldmesh testbed: %s is incomplete; remove it and try again\n", root);
        goto free_nodes;
    }
    rc = tb_print(cl, root, nodes, plan.n);
free_nodes:
    free(nodes);
    return rc;
}

const struct cli_cmd cli_cmd_testbed = {
    NULL, "testbed",
    "DIR --nodes N [--topology line|ring|mesh] [--base-port P] [--addresses IP,...] "
    "[--roles R,...] [--console-port P]",
    "create an organisation and N enrolled, peered node configs in DIR",
    "  DIR           a new or empty directory\n"
    "  --nodes N     1..64\n"
    "  --topology T  line (default): node K peers with K-1 and K+1; ring: line plus\n"
    "                node N with node 1; mesh: every node with every other\n"
    "  --base-port P node K listens on port P+K-1 (default 7400)\n"
    "  --addresses L one listen address per node, comma-separated (default 127.0.0.1)\n"
    "  --roles L     one role per node (default: node1 centre, the others county)\n"
    "  --console-port P  node K serves its console on 127.0.0.1:P+K-1 (default: the\n"
    "                base port + 80; 0 = no consoles); its login is operator demo\n"
    "                with the password in DIR/nodeK/console.txt\n\n"
    "Creates DIR/org (root key), and per node DIR/nodeK/node.yaml plus\n"
    "DIR/nodeK/data/node.key and node.cert. The control socket is the default,\n"
    "ipc://DIR/nodeK/data/control.sock. Does not need -c.\n",
    run_testbed,
};
