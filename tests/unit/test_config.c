/*
 * test_config.c — the YAML configuration loader, writer and locator.
 *
 * Every error class is checked for its exact "file:line:column: message"
 * text, because operators fix configs by that position. The example
 * configs in configs/ must load; written configs must load back equal.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/config/config.h"

struct fixture {
    char dir[128]; /* realpath of a fresh temp dir */
    char file[256];
    char err[512];
    struct fm_config cfg;
};

static char g_org[FM_KEY_TEXT_LEN];

static void key_text(uint8_t fill, char out[FM_KEY_TEXT_LEN])
{
    uint8_t pk[FM_PK_LEN];
    memset(pk, fill, sizeof(pk));
    pk[0] = (uint8_t)(fill ^ 0x5a);
    fm_key_encode(pk, out);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char tmpl[] = "/tmp/fm-test-config-XXXXXX";
    char real[PATH_MAX];
    if (f == NULL || mkdtemp(tmpl) == NULL || realpath(tmpl, real) == NULL ||
        fm_strlcpy(f->dir, real, sizeof(f->dir)) != 0)
        return -1;
    snprintf(f->file, sizeof(f->file), "%s/node.yaml", f->dir);
    key_text(7, g_org);
    *state = f;
    return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unsetenv("TZDIR"); /* fake_zones */
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* Zone files of the test's own under DIR/zoneinfo, and TZDIR pointing
 * there, so node.time_zone does not depend on the machine's tzdata. */
static void write_zone(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    write_text(path, "TZif2 (the loader reads the magic only)");
}

static void fake_zones(const char *dir, char *zones, size_t cap)
{
    snprintf(zones, cap, "%s/zoneinfo", dir);
    assert_int_equal(mkdir(zones, 0755), 0);
    write_zone(zones, "Asia/Shanghai");
    write_zone(zones, "UTC");
    write_zone(zones, "Etc/GMT-8");
    assert_int_equal(setenv("TZDIR", zones, 1), 0);
}

/* Writes text (with every "ORGKEY" replaced by a valid key text) to the
 * fixture's file and loads it. */
static int load_text(struct fixture *f, const char *text)
{
    char buf[16384];
    size_t o = 0;
    for (const char *p = text; *p != '\0' && o + FM_KEY_TEXT_LEN < sizeof(buf);) {
        if (strncmp(p, "ORGKEY", 6) == 0) {
            memcpy(buf + o, g_org, FM_KEY_TEXT_LEN - 1);
            o += FM_KEY_TEXT_LEN - 1;
            p += 6;
        } else {
            buf[o++] = *p++;
        }
    }
    buf[o] = '\0';
    write_text(f->file, buf);
    f->err[0] = '\0';
    return fm_config_load(&f->cfg, f->file, f->err, sizeof(f->err));
}

/* Asserts a FM_ECONFIG with exactly "<file>:<where>: <msg>". */
static void expect_error(struct fixture *f, const char *text, const char *where, const char *msg)
{
    char want[2048];
    int rc = load_text(f, text);
    snprintf(want, sizeof(want), "%s:%s: %s", f->file, where, msg);
    if (rc != FM_ECONFIG || strcmp(f->err, want) != 0)
        print_error("want: %s\n got: rc=%d %s\n", want, rc, f->err);
    assert_int_equal(rc, FM_ECONFIG);
    assert_string_equal(f->err, want);
}

#define MINIMAL "node:\n  name: n1\n  role: county\nstorage:\n  data_dir: data\ntrust:\n  org_key: ORGKEY\n"

/* ---------------- the example configs ---------------- */

static void src_dir(char *out, size_t cap)
{
    const char *env = getenv("FM_SRC");
    if (env != NULL && env[0] != '\0') {
        snprintf(out, cap, "%s", env);
        return;
    }
    /* __FILE__ is <src>/tests/unit/test_config.c in a CMake build */
    snprintf(out, cap, "%s", __FILE__);
    for (int i = 0; i < 3; i++) {
        char *s = strrchr(out, '/');
        if (s != NULL)
            *s = '\0';
    }
}

static void test_examples_load(void **state)
{
    (void)state;
    static const struct {
        const char *file, *name;
        enum fm_role role;
        size_t npeers;
        const char *listen;
    } ex[] = {
        { "county.yaml", "north-county", FM_ROLE_COUNTY, 2, "tcp://0.0.0.0:7401" },
        { "station.yaml", "station-7", FM_ROLE_STATION, 2, "tcp://0.0.0.0:7402" },
        { "vehicle.yaml", "engine-7-1", FM_ROLE_VEHICLE, 2, "" },
    };
    char src[PATH_MAX], path[PATH_MAX + 64], err[512];
    src_dir(src, sizeof(src));
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        struct fm_config cfg;
        snprintf(path, sizeof(path), "%s/configs/%s", src, ex[i].file);
        int rc = fm_config_load(&cfg, path, err, sizeof(err));
        if (rc != 0)
            print_error("%s: %s\n", path, err);
        assert_int_equal(rc, 0);
        assert_string_equal(cfg.name, ex[i].name);
        assert_int_equal(cfg.role, ex[i].role);
        assert_int_equal(cfg.npeers, ex[i].npeers);
        assert_string_equal(cfg.listen, ex[i].listen);
        assert_true(cfg.data_dir[0] == '/');
        assert_non_null(strstr(cfg.data_dir, "/configs/data/"));
        assert_true(strncmp(cfg.control, "ipc:///", 7) == 0);
        assert_true(cfg.peers[0].name[0] != '\0');
    }
}

static void test_example_values(void **state)
{
    (void)state;
    char src[PATH_MAX], path[PATH_MAX + 64], err[512], want[PATH_MAX + 64];
    struct fm_config cfg;
    src_dir(src, sizeof(src));
    snprintf(path, sizeof(path), "%s/configs/vehicle.yaml", src);
    assert_int_equal(fm_config_load(&cfg, path, err, sizeof(err)), 0);
    assert_int_equal(cfg.map_size, 64ull << 20);
    assert_int_equal(cfg.map_max, 4096ull << 20);
    assert_int_equal(cfg.anti_entropy_ms, 5000);
    assert_int_equal(cfg.heartbeat_ms, 3000);
    assert_int_equal(cfg.batch_ops, 128);
    assert_int_equal(cfg.push_interval_ms, 50); /* default */
    /* the explicit certificate path is relative to the file, not data_dir */
    snprintf(want, sizeof(want), "/configs/data/vehicle/engine-7-1.cert");
    size_t cl = strlen(cfg.cert_path), wl = strlen(want);
    assert_true(cl > wl && strcmp(cfg.cert_path + cl - wl, want) == 0);
}

/* ---------------- defaults and paths ---------------- */

static void test_defaults(void **state)
{
    struct fixture *f = *state;
    char want[PATH_MAX + 64];
    struct fm_config d;
    fm_config_defaults(&d);
    assert_int_equal(d.map_size, 256ull << 20);
    assert_int_equal(d.map_max, 64ull << 30);
    assert_int_equal(d.push_interval_ms, 50);
    assert_int_equal(d.anti_entropy_ms, 2000);
    assert_int_equal(d.heartbeat_ms, 1000);
    assert_int_equal(d.batch_ops, 512);
    assert_int_equal(d.max_skew_ms, 300000);
    assert_int_equal(d.npeers, 0);
    assert_int_equal(d.role, FM_ROLE_NONE);
    assert_string_equal(d.name, "");
    assert_int_equal(d.op_format, 1); /* ops name no operator until told */

    assert_int_equal(load_text(f, MINIMAL), 0);
    assert_string_equal(f->cfg.name, "n1");
    assert_int_equal(f->cfg.role, FM_ROLE_COUNTY);
    assert_string_equal(f->cfg.path, f->file);
    snprintf(want, sizeof(want), "%s/data", f->dir);
    assert_string_equal(f->cfg.data_dir, want);
    snprintf(want, sizeof(want), "ipc://%s/data/control.sock", f->dir);
    assert_string_equal(f->cfg.control, want);
    snprintf(want, sizeof(want), "%s/data/node.cert", f->dir);
    assert_string_equal(f->cfg.cert_path, want);
    snprintf(want, sizeof(want), "%s/data/node.key", f->dir);
    assert_string_equal(f->cfg.key_path, want);
    assert_string_equal(f->cfg.listen, "");
    assert_int_equal(f->cfg.map_size, d.map_size);
    assert_int_equal(f->cfg.map_max, d.map_max);
    assert_int_equal(f->cfg.batch_ops, 512);
    assert_int_equal(f->cfg.max_skew_ms, 300000);
    uint8_t org[FM_PK_LEN];
    assert_int_equal(fm_key_decode(g_org, org), 0);
    assert_memory_equal(f->cfg.org_pk, org, FM_PK_LEN);

    /* empty optional sections are fine */
    assert_int_equal(load_text(f, MINIMAL "network:\ngossip: {}\n"), 0);
    assert_int_equal(f->cfg.npeers, 0);
}

static void test_relative_paths(void **state)
{
    struct fixture *f = *state;
    char sub[PATH_MAX + 16], want[PATH_MAX + 64], cwd[PATH_MAX];
    snprintf(sub, sizeof(sub), "%s/etc", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(f->file, sizeof(f->file), "%s/etc/node.yaml", f->dir);
    assert_int_equal(load_text(f, "node: {name: n1, role: station}\n"
                                  "storage: {data_dir: ./store/}\n"
                                  "network: {control: ipc://run/ctl.sock}\n"
                                  "trust:\n  org_key: ORGKEY\n"
                                  "  certificate: certs/me.cert\n"
                                  "  key: /abs/me.key\n"),
                     0);
    snprintf(want, sizeof(want), "%s/etc/store", f->dir);
    assert_string_equal(f->cfg.data_dir, want);
    snprintf(want, sizeof(want), "ipc://%s/etc/run/ctl.sock", f->dir);
    assert_string_equal(f->cfg.control, want);
    snprintf(want, sizeof(want), "%s/etc/certs/me.cert", f->dir);
    assert_string_equal(f->cfg.cert_path, want);
    assert_string_equal(f->cfg.key_path, "/abs/me.key");

    /* a relative file name is resolved against the working directory */
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(sub), 0);
    char err[512];
    struct fm_config cfg;
    int rc = fm_config_load(&cfg, "node.yaml", err, sizeof(err));
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_string_equal(cfg.path, "node.yaml");
    snprintf(want, sizeof(want), "%s/etc/store", f->dir);
    assert_string_equal(cfg.data_dir, want);

    /* "~/" is $HOME */
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", "/home/tester", 1);
    rc = load_text(f, "node: {name: n1, role: station}\nstorage: {data_dir: ~/fm}\n"
                      "trust: {org_key: ORGKEY}\n");
    if (old_home != NULL) {
        setenv("HOME", old_home, 1);
        free(old_home);
    } else {
        unsetenv("HOME");
    }
    assert_int_equal(rc, 0);
    assert_string_equal(f->cfg.data_dir, "/home/tester/fm");
}

/* ---------------- every error class, with its exact position ---------------- */

static void test_error_syntax(void **state)
{
    struct fixture *f = *state;
    expect_error(f, "node:\n  name: n1\n   role: county\n", "3:8",
                 "mapping values are not allowed in this context");
    expect_error(f, "node: {name: n1\n", "2:1",
                 "did not find expected ',' or '}' while parsing a flow mapping "
                 "(line 1, column 7)");
    expect_error(f, "node:\n  name: \"n1\n", "3:1",
                 "found unexpected end of stream while scanning a quoted scalar "
                 "(line 2, column 9)");
    /* invalid UTF-8 is a reader error, reported from its byte offset */
    expect_error(f, "node:\n  name: n\xff\n", "2:10", "invalid leading UTF-8 octet");
    expect_error(f, "", "1:1", "empty configuration (expected sections node, storage, trust)");
    expect_error(f, "# only a comment\n", "1:1",
                 "empty configuration (expected sections node, storage, trust)");
    expect_error(f, "- node\n", "1:1", "expected a mapping of sections at the top level");
    expect_error(f, MINIMAL "---\nnode: {}\n", "9:1",
                 "more than one YAML document (a config is one document)");
}

static void test_error_unknown(void **state)
{
    struct fixture *f = *state;
    expect_error(f, "node:\n  name: n1\n  colour: red\n  role: county\n", "3:3",
                 "unknown key 'colour' in section 'node'");
    expect_error(f, MINIMAL "gossip:\n  fanout: 3\n", "9:3",
                 "unknown key 'fanout' in section 'gossip'");
    expect_error(f, MINIMAL "logging:\n  level: debug\n", "8:1",
                 "unknown section 'logging' (expected node, storage, network, trust, gossip, gps, console)");
    expect_error(f, MINIMAL "network:\n  peers:\n    - endpoint: tcp://a:1\n      keys: x\n",
                 "11:7", "unknown key 'keys' in section 'network.peers'");
    expect_error(f, "node:\n  name: n1\n  role: county\n  name: n2\n", "4:3",
                 "duplicate key 'name' in section 'node' (first at line 2)");
    expect_error(f, MINIMAL "node: {}\n", "8:1",
                 "duplicate key 'node' in the top level (first at line 1)");
    expect_error(f, "node:\n  ? [a]\n  : 1\n", "2:5", "expected a plain key");
}

static void test_error_types(void **state)
{
    struct fixture *f = *state;
    expect_error(f, MINIMAL "storage_x: 1\n", "8:1",
                 "unknown section 'storage_x' (expected node, storage, network, trust, gossip, gps, console)");
    expect_error(f, "node:\n  name: n1\n  role: county\nstorage:\n  data_dir: d\n"
                    "  map_size_mb: lots\n",
                 "6:16", "expected an integer for 'map_size_mb'");
    expect_error(f, "node:\n  name: n1\n  role: county\nstorage:\n  data_dir: d\n"
                    "  map_size_mb: \"256\"\n",
                 "6:16", "expected an integer for 'map_size_mb'");
    expect_error(f, MINIMAL "gossip:\n  batch_ops: 1.5\n", "9:14",
                 "expected an integer for 'batch_ops'");
    expect_error(f, MINIMAL "gossip:\n  heartbeat_ms: -5\n", "9:17",
                 "'heartbeat_ms' must be between 10 and 3600000");
    expect_error(f, MINIMAL "gossip:\n  heartbeat_ms: -x\n", "9:17",
                 "expected an integer for 'heartbeat_ms'");
    expect_error(f, MINIMAL "gossip:\n  heartbeat_ms: [1]\n", "9:17",
                 "expected an integer for 'heartbeat_ms'");
    expect_error(f, "node:\n  name: [a, b]\n", "2:9", "expected a string for 'name'");
    expect_error(f, "node: county\n", "1:7", "expected a mapping for section 'node'");
    expect_error(f, MINIMAL "network:\n  peers: tcp://a:1\n", "9:10",
                 "expected a list for 'peers'");
    expect_error(f, MINIMAL "network:\n  peers:\n    - tcp://a:1\n", "10:7",
                 "expected a mapping with endpoint, key and name for each peer");
    expect_error(f, "node:\n  name: n1\n  role: chief\n", "3:9",
                 "unknown role 'chief' (expected centre, county, station, vehicle or admin)");
    expect_error(f, "node:\n  name: \"\"\n", "2:9", "'name' must not be empty");
    expect_error(f, "node:\n  name: \"a\\tb\"\n", "2:9", "'name' contains a control character");
}

static void test_error_ranges(void **state)
{
    struct fixture *f = *state;
    char text[512];
    expect_error(f, MINIMAL "gossip:\n  batch_ops: 0\n", "9:14",
                 "'batch_ops' must be between 1 and 65536");
    /* node.name: a name of at most 64 characters (64 Chinese ones fit) */
    {
        char text[1024], name[256];
        for (size_t i = 0; i < 65; i++)
            memcpy(name + 3 * i, "金", 3);
        name[195] = '\0';
        snprintf(text, sizeof text, "node:\n  name: %s\n  role: county\nstorage:\n  data_dir: "
                 "data\ntrust:\n  org_key: ORGKEY\n", name);
        expect_error(f, text, "2:9", "'name' is too long (65 characters, at most 64)");
        name[192] = '\0';
        snprintf(text, sizeof text, "node:\n  name: %s\n  role: county\nstorage:\n  data_dir: "
                 "data\ntrust:\n  org_key: ORGKEY\n", name);
        assert_int_equal(load_text(f, text), FM_OK);
        assert_string_equal(f->cfg.name, name);
    }
    /* node.op_format: 1..7 (docs/decisions.md) */
    expect_error(f, "node:\n  name: n1\n  role: county\n  op_format: 8\n"
                    "storage:\n  data_dir: data\ntrust:\n  org_key: ORGKEY\n", "4:14",
                 "'op_format' must be between 1 and 7");
    expect_error(f, "node:\n  name: n1\n  role: county\n  op_format: 0\n"
                    "storage:\n  data_dir: data\ntrust:\n  org_key: ORGKEY\n", "4:14",
                 "'op_format' must be between 1 and 7");
    /* per-key limits (sync/conns.c) */
    expect_error(f, MINIMAL "gossip:\n  max_conns_per_key: 0\n", "9:22",
                 "'max_conns_per_key' must be between 1 and 64");
    expect_error(f, MINIMAL "gossip:\n  max_conns_per_key: 65\n", "9:22",
                 "'max_conns_per_key' must be between 1 and 64");
    expect_error(f, MINIMAL "gossip:\n  max_conns: 0\n", "9:14",
                 "'max_conns' must be between 1 and 65536");
    expect_error(f, MINIMAL "gossip:\n  max_conns: many\n", "9:14",
                 "expected an integer for 'max_conns'");
    assert_int_equal(load_text(f, MINIMAL "gossip:\n  max_conns_per_key: 2\n  max_conns: 50\n"),
                     0);
    assert_int_equal(f->cfg.max_conns_per_key, 2);
    assert_int_equal(f->cfg.max_conns, 50);
    assert_int_equal(load_text(f, MINIMAL), 0);
    assert_int_equal(f->cfg.max_conns_per_key, 4); /* the defaults */
    assert_int_equal(f->cfg.max_conns, 256);
    expect_error(f, MINIMAL "gossip:\n  push_interval_ms: 99999999999999999999999\n", "9:21",
                 "'push_interval_ms' must be between 1 and 60000");
    expect_error(f, "node:\n  name: n1\n  role: county\nstorage:\n  data_dir: d\n"
                    "  map_size_mb: 0\n",
                 "6:16", "'map_size_mb' must be between 1 and 1048576");
    expect_error(f, "node:\n  name: n1\n  role: county\nstorage:\n  data_dir: d\n"
                    "  map_size_mb: 2048\n  map_max_mb: 1024\ntrust: {org_key: ORGKEY}\n",
                 "6:16", "map_size_mb (2048) exceeds map_max_mb (1024)");
    expect_error(f, MINIMAL "network:\n  listen: tcp://0.0.0.0:70000\n", "9:11",
                 "bad port in endpoint 'tcp://0.0.0.0:70000' for 'listen': expected 1..65535");
    expect_error(f, MINIMAL "network:\n  listen: http://x:1\n", "9:11",
                 "bad endpoint 'http://x:1' for 'listen': expected tcp://HOST:PORT or "
                 "ipc://PATH");
    expect_error(f, MINIMAL "network:\n  listen: tcp://host\n", "9:11",
                 "bad endpoint 'tcp://host' for 'listen': expected tcp://HOST:PORT");
    char longname[100];
    memset(longname, 'x', 65);
    longname[65] = '\0';
    snprintf(text, sizeof(text), "node:\n  name: %s\n", longname);
    expect_error(f, text, "2:9", "'name' is too long (65 characters, at most 64)");
    char longipc[200];
    memset(longipc, 'p', 120);
    longipc[120] = '\0';
    snprintf(text, sizeof(text), MINIMAL "network:\n  control: ipc:///%s\n", longipc);
    expect_error(f, text, "9:12",
                 "ipc path for 'control' is too long (121 bytes; a Unix socket path allows "
                 "at most 107)");
}

static void test_error_keys(void **state)
{
    struct fixture *f = *state;
    char peer[FM_KEY_TEXT_LEN];
    char text[1024];
    const char *bad = "bad key text for 'org_key': expected 52 base32 characters (a-z, 2-7)";
    expect_error(f, "node: {name: n1, role: county}\ntrust:\n  org_key: abc\n", "3:12", bad);
    /* right length, but '1' is not in the base32 alphabet */
    snprintf(text, sizeof(text), "trust:\n  org_key: 1%s\n", g_org + 1);
    expect_error(f, text, "2:12", bad);
    /* nonzero padding bits in the last character */
    snprintf(text, sizeof(text), "trust:\n  org_key: %.51sb\n", g_org);
    expect_error(f, text, "2:12", bad);
    expect_error(f, "trust:\n  org_key:\n", "2:11", "missing value for 'org_key'");
    expect_error(f, MINIMAL "network:\n  peers:\n    - endpoint: tcp://a:1\n      key: zz\n",
                 "11:12", "bad key text for 'key': expected 52 base32 characters (a-z, 2-7)");
    key_text(9, peer);
    snprintf(text, sizeof(text),
             MINIMAL "network:\n  peers:\n    - {endpoint: tcp://a:1, key: %s}\n"
                     "    - {endpoint: tcp://b:1, key: %s}\n",
             peer, peer);
    expect_error(f, text, "11:7", "peer key listed twice (also peer 1)");
}

static void test_error_too_many_peers(void **state)
{
    struct fixture *f = *state;
    static char text[32768];
    size_t o = (size_t)snprintf(text, sizeof(text), "%snetwork:\n  peers:\n", MINIMAL);
    for (int i = 0; i < FM_CONFIG_MAX_PEERS + 1; i++) {
        char k[FM_KEY_TEXT_LEN];
        uint8_t pk[FM_PK_LEN] = { 0 };
        pk[0] = (uint8_t)i;
        pk[1] = 0xee;
        fm_key_encode(pk, k);
        o += (size_t)snprintf(text + o, sizeof(text) - o,
                              "    - endpoint: tcp://127.0.0.1:%d\n      key: %s\n", 7000 + i,
                              k);
    }
    /* MINIMAL is 7 lines, then network + peers; peer i starts at line 10 + 2i */
    char where[32];
    snprintf(where, sizeof(where), "%d:7", 10 + 2 * FM_CONFIG_MAX_PEERS);
    expect_error(f, text, where, "too many peers (max 64)");

    /* exactly the maximum is fine */
    char *cut = strstr(text, "tcp://127.0.0.1:7064");
    assert_non_null(cut);
    cut[-16] = '\0'; /* back to the start of "    - endpoint: " */
    assert_int_equal(load_text(f, text), 0);
    assert_int_equal(f->cfg.npeers, FM_CONFIG_MAX_PEERS);
    assert_int_equal(f->cfg.peers[63].pk[0], 63);
    assert_string_equal(f->cfg.peers[63].endpoint, "tcp://127.0.0.1:7063");
}

static void test_error_missing(void **state)
{
    struct fixture *f = *state;
    /* a missing key points at the start of its section */
    expect_error(f, "node:\n  name: n1\nstorage:\n  data_dir: d\ntrust: {org_key: ORGKEY}\n",
                 "2:3", "missing required key 'role' in section 'node'");
    expect_error(f, "node: {role: county}\n", "1:7",
                 "missing required key 'name' in section 'node'");
    expect_error(f, "node:\n  name: n1\n  role: county\nstorage:\n  map_size_mb: 10\n", "5:3",
                 "missing required key 'data_dir' in section 'storage'");
    expect_error(f, "node: {name: n1, role: county}\nstorage: {data_dir: d}\ntrust:\n", "3:7",
                 "missing required key 'org_key' in section 'trust'");
    expect_error(f, MINIMAL "network:\n  peers:\n    - key: ORGKEY\n", "10:7",
                 "missing required key 'endpoint' in section 'network.peers'");
    expect_error(f, MINIMAL "network:\n  peers:\n    - name: x\n      endpoint: tcp://a:9\n",
                 "10:7", "missing required key 'key' in section 'network.peers'");
    /* a missing section points at the document's start */
    expect_error(f, "# comment\n\nnode: {name: n1, role: county}\nstorage: {data_dir: d}\n",
                 "3:1", "missing required section 'trust'");
    expect_error(f, "trust: {org_key: ORGKEY}\n", "1:1", "missing required section 'node'");

    /* an unreadable file is not a config error */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/nope.yaml", f->dir);
    assert_int_equal(fm_config_load(&f->cfg, path, f->err, sizeof(f->err)), FM_ENOTFOUND);
    assert_non_null(strstr(f->err, "nope.yaml"));
    assert_int_equal(fm_config_load(&f->cfg, f->dir, f->err, sizeof(f->err)), FM_EIO);
}

/* ---------------- write -> load ---------------- */

/* A console that differs from the defaults beside non-default connection
 * limits: the limits stay in the gossip section, so the file loads. */
static void test_round_trip_console_limits(void **state)
{
    struct fixture *f = *state;
    struct fm_config a, b;
    char path[PATH_MAX + 64], err[512];

    fm_config_defaults(&a);
    fm_strlcpy(a.name, "c", sizeof(a.name));
    a.role = FM_ROLE_CENTRE;
    snprintf(a.data_dir, sizeof(a.data_dir), "%s/c-data", f->dir);
    assert_int_equal(fm_key_decode(g_org, a.org_pk), 0);
    a.console.port = 9470;
    a.max_conns_per_key = 7;
    a.max_conns = 999;
    snprintf(path, sizeof(path), "%s/c.yaml", f->dir);
    assert_int_equal(fm_config_write(&a, path), 0);
    int rc = fm_config_load(&b, path, err, sizeof(err));
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(b.console.port, 9470);
    assert_int_equal(b.max_conns_per_key, 7);
    assert_int_equal(b.max_conns, 999);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    struct fm_config a, b;
    char path[PATH_MAX + 64], err[512];

    fm_config_defaults(&a);
    fm_strlcpy(a.name, "Ünit \"7\" \\ north", sizeof(a.name));
    a.role = FM_ROLE_VEHICLE;
    snprintf(a.data_dir, sizeof(a.data_dir), "%s/deep/dir/data", f->dir);
    a.map_size = 100ull << 20;
    a.map_max = 2000ull << 20;
    fm_strlcpy(a.listen, "tcp://127.0.0.1:7409", sizeof(a.listen));
    snprintf(a.control, sizeof(a.control), "ipc://%s/deep/dir/ctl.sock", f->dir);
    assert_int_equal(fm_key_decode(g_org, a.org_pk), 0);
    snprintf(a.cert_path, sizeof(a.cert_path), "/etc/fieldmesh/v.cert");
    snprintf(a.key_path, sizeof(a.key_path), "%s/deep/dir/data/node.key", f->dir);
    a.push_interval_ms = 7;
    a.anti_entropy_ms = 1234;
    a.heartbeat_ms = 4321;
    a.max_conns_per_key = 7; /* written only when not the default */
    a.max_conns = 999;
    a.op_format = 2; /* written only when not 1 */
    char zones[600];
    fake_zones(f->dir, zones, sizeof zones);
    fm_strlcpy(a.time_zone, "Asia/Shanghai", sizeof a.time_zone);
    a.batch_ops = 99;
    a.max_skew_ms = 0;
    for (size_t i = 0; i < 3; i++) {
        snprintf(a.peers[i].endpoint, sizeof(a.peers[i].endpoint), "tcp://10.0.0.%zu:74%02zu",
                 i + 1, i);
        memset(a.peers[i].pk, (int)(0x20 + i), FM_PK_LEN);
        if (i != 1)
            snprintf(a.peers[i].name, sizeof(a.peers[i].name), "peer: #%zu", i);
    }
    a.npeers = 3;

    snprintf(path, sizeof(path), "%s/deep/dir/node.yaml", f->dir);
    fm_strlcpy(a.path, path, sizeof(a.path));
    assert_int_equal(fm_config_write(&a, path), 0);
    assert_int_equal(fm_config_write(&a, path), FM_EEXISTS);
    int rc = fm_config_load(&b, path, err, sizeof(err));
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_memory_equal(&a, &b, sizeof(a));

    /* paths inside the file's directory are written relative to it */
    FILE *fp = fopen(path, "r");
    char text[8192];
    assert_non_null(fp);
    size_t n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';
    assert_non_null(strstr(text, "  role: vehicle\n  op_format: 2\n  time_zone: \"Asia/Shanghai\"\n"));
    assert_non_null(strstr(text, "data_dir: \"data\"\n"));
    assert_non_null(strstr(text, "control: \"ipc://ctl.sock\"\n"));
    assert_null(strstr(text, "\n  key: ")); /* the default key path is left out */
    assert_non_null(strstr(text, "certificate: \"/etc/fieldmesh/v.cert\"\n"));

    /* a minimal config (defaults everywhere) also survives */
    struct fm_config c, d;
    fm_config_defaults(&c);
    fm_strlcpy(c.name, "m", sizeof(c.name));
    c.role = FM_ROLE_CENTRE;
    snprintf(c.data_dir, sizeof(c.data_dir), "%s/m-data", f->dir);
    snprintf(path, sizeof(path), "%s/m.yaml", f->dir);
    assert_int_equal(fm_config_write(&c, path), 0);
    assert_int_equal(fm_config_load(&d, path, err, sizeof(err)), 0);
    snprintf(c.control, sizeof(c.control), "ipc://%s/m-data/control.sock", f->dir);
    snprintf(c.cert_path, sizeof(c.cert_path), "%s/m-data/node.cert", f->dir);
    snprintf(c.key_path, sizeof(c.key_path), "%s/m-data/node.key", f->dir);
    fm_strlcpy(c.path, path, sizeof(c.path));
    assert_memory_equal(&c, &d, sizeof(c));

    /* incomplete configs are refused */
    c.role = FM_ROLE_NONE;
    snprintf(path, sizeof(path), "%s/bad.yaml", f->dir);
    assert_int_equal(fm_config_write(&c, path), FM_EINVAL);
    assert_int_equal(access(path, F_OK), -1);
}

/* ---------------- locating the default config ---------------- */

struct saved_env {
    char *v[3];
};
static const char *env_names[3] = { "FIELDMESH_CONFIG", "XDG_CONFIG_HOME", "HOME" };

static void env_save(struct saved_env *s)
{
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(env_names[i]);
        s->v[i] = v != NULL ? strdup(v) : NULL;
    }
}

static void env_restore(struct saved_env *s)
{
    for (int i = 0; i < 3; i++) {
        if (s->v[i] != NULL)
            setenv(env_names[i], s->v[i], 1);
        else
            unsetenv(env_names[i]);
        free(s->v[i]);
    }
}

static void test_locate(void **state)
{
    struct fixture *f = *state;
    struct saved_env saved;
    char out[FM_PATH_MAX], want[PATH_MAX + 64], xdg[PATH_MAX + 16];
    env_save(&saved);

    /* $FIELDMESH_CONFIG wins, whether or not the file exists */
    snprintf(want, sizeof(want), "%s/explicit.yaml", f->dir);
    setenv("FIELDMESH_CONFIG", want, 1);
    setenv("XDG_CONFIG_HOME", f->dir, 1);
    setenv("HOME", f->dir, 1);
    assert_int_equal(fm_config_locate(out, sizeof(out)), FM_ENOTFOUND);
    assert_string_equal(out, want);
    write_text(want, "x");
    assert_int_equal(fm_config_locate(out, sizeof(out)), 0);
    assert_string_equal(out, want);

    /* then $XDG_CONFIG_HOME/fieldmesh/node.yaml */
    unsetenv("FIELDMESH_CONFIG");
    snprintf(xdg, sizeof(xdg), "%s/xdg", f->dir);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    snprintf(want, sizeof(want), "%s/xdg/fieldmesh/node.yaml", f->dir);
    assert_int_equal(fm_config_locate(out, sizeof(out)), FM_ENOTFOUND);
    assert_string_equal(out, want);
    assert_int_equal(mkdir(xdg, 0700), 0);
    snprintf(xdg, sizeof(xdg), "%s/xdg/fieldmesh", f->dir);
    assert_int_equal(mkdir(xdg, 0700), 0);
    write_text(want, "x");
    assert_int_equal(fm_config_locate(out, sizeof(out)), 0);
    assert_string_equal(out, want);

    /* a relative $XDG_CONFIG_HOME is ignored (XDG spec): $HOME/.config */
    setenv("XDG_CONFIG_HOME", "relative/dir", 1);
    snprintf(want, sizeof(want), "%s/.config/fieldmesh/node.yaml", f->dir);
    assert_int_equal(fm_config_locate(out, sizeof(out)), FM_ENOTFOUND);
    assert_string_equal(out, want);
    unsetenv("XDG_CONFIG_HOME");
    assert_int_equal(fm_config_locate(out, sizeof(out)), FM_ENOTFOUND);
    assert_string_equal(out, want);

    /* fm_config_write creates the missing directories; locate then finds it */
    struct fm_config c;
    fm_config_defaults(&c);
    fm_strlcpy(c.name, "home", sizeof(c.name));
    c.role = FM_ROLE_STATION;
    snprintf(c.data_dir, sizeof(c.data_dir), "%s/hd", f->dir);
    assert_int_equal(fm_config_write(&c, out), 0);
    assert_int_equal(fm_config_locate(out, sizeof(out)), 0);
    assert_string_equal(out, want);
    struct stat st;
    snprintf(want, sizeof(want), "%s/.config/fieldmesh", f->dir);
    assert_int_equal(stat(want, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* too small a buffer */
    char tiny[8];
    assert_int_equal(fm_config_locate(tiny, sizeof(tiny)), FM_ETOOBIG);

    env_restore(&saved);
}

/* node.time_zone: a zone this machine has, looked up under $TZDIR (set to
 * the fixture's own zone files here, so the test does not depend on the
 * machine's tzdata); what is wrong says where and what it got. */
static void test_time_zone(void **state)
{
    struct fixture *f = *state;
    char zones[600], text[1024], err[1200];
    fake_zones(f->dir, zones, sizeof zones);
    snprintf(text, sizeof text, "%s/Bad", zones);
    write_text(text, "not a zone file");

    assert_int_equal(load_text(f, MINIMAL), 0);
    assert_string_equal(f->cfg.time_zone, ""); /* default: the system's zone */
    static const char *const ok[] = {"Asia/Shanghai", "UTC", "Etc/GMT-8"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "node:\n  name: n1\n  role: county\n  time_zone: %s\n"
                 "storage:\n  data_dir: data\ntrust:\n  org_key: ORGKEY\n", ok[i]);
        assert_int_equal(load_text(f, text), 0);
        assert_string_equal(f->cfg.time_zone, ok[i]);
    }
    static const struct {
        const char *value, *msg;
    } bad[] = {
        {"Asia/Shangai", "unknown time zone 'Asia/Shangai' (no zone file %s/Asia/Shangai; names "
                         "are like Asia/Shanghai or UTC, and the tzdata package provides them)"},
        {"Bad", "unknown time zone 'Bad' (no zone file %s/Bad; names are like Asia/Shanghai or "
                "UTC, and the tzdata package provides them)"},
        {"../zoneinfo/UTC", "'../zoneinfo/UTC' is not a time zone name (like Asia/Shanghai or UTC)"},
        {"/etc/localtime", "'/etc/localtime' is not a time zone name (like Asia/Shanghai or UTC)"},
        {"Asia//Shanghai", "'Asia//Shanghai' is not a time zone name (like Asia/Shanghai or UTC)"},
        {"\"Asia/Shanghai \"", "'Asia/Shanghai ' is not a time zone name (like Asia/Shanghai or "
                               "UTC)"},
        {"\"\"", "a time zone name has 1 to 63 bytes (got 0)"},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
         "a time zone name has 1 to 63 bytes (got 64)"},
        {"", "missing value for 'time_zone'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[1024];
        snprintf(text, sizeof text, "node:\n  name: n1\n  role: county\n  time_zone: %s\n"
                 "storage:\n  data_dir: data\ntrust:\n  org_key: ORGKEY\n", bad[i].value);
        snprintf(msg, sizeof msg, bad[i].msg, zones);
        expect_error(f, text, bad[i].value[0] ? "4:14" : "4:13", msg);
    }
    /* the same check the CLI and the console rely on */
    assert_int_equal(fm_time_zone_check("Asia/Shanghai", err, sizeof err), FM_OK);
    assert_int_equal(fm_time_zone_check("Asia/Harbin", err, sizeof err), FM_ENOTFOUND);
    assert_int_equal(fm_time_zone_check("a/./b", err, sizeof err), FM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_load),
        cmocka_unit_test(test_example_values),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_too_many_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_console_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_zone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
