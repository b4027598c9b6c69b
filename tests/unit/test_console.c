/*
 * test_console.c — the pure parts of the browser console's server
 * (node/console/, docs/console-api.md): the `console` section of the node
 * YAML (defaults, every error with its file:line:column, writing it
 * back), the loopback rule the daemon enforces, the operators file's
 * strict parser and its round trip, Argon2id password hashes, operator
 * names, and the Cookie header parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/console/console_int.h"

static char g_dir[160];
static char g_file[200];

static int setup(void **state)
{
    char tmpl[] = "/tmp/fm-test-console-XXXXXX", real[PATH_MAX];
    (void)state;
    if (mkdtemp(tmpl) == NULL || realpath(tmpl, real) == NULL ||
        fm_strlcpy(g_dir, real, sizeof g_dir) != 0)
        return -1;
    snprintf(g_file, sizeof g_file, "%s/node.yaml", g_dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[sizeof g_dir + 16];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Loads MINIMAL + extra; err gets the message. */
static int load(const char *extra, struct fm_config *cfg, char *err, size_t cap)
{
    uint8_t pk[FM_PK_LEN];
    char key[FM_KEY_TEXT_LEN];
    memset(pk, 7, sizeof pk);
    fm_key_encode(pk, key);
    FILE *f = fopen(g_file, "w");
    assert_non_null(f);
    fprintf(f, "node:\n  name: n1\n  role: county\nstorage:\n  data_dir: data\ntrust:\n"
               "  org_key: %s\n%s", key, extra);
    assert_int_equal(fclose(f), 0);
    err[0] = '\0';
    return fm_config_load(cfg, g_file, err, cap);
}

static void expect_error(const char *extra, const char *where, const char *msg)
{
    static struct fm_config cfg;
    char err[1024], want[1024];
    int rc = load(extra, &cfg, err, sizeof err);
    snprintf(want, sizeof want, "%s:%s: %s", g_file, where, msg);
    if (rc != FM_ECONFIG || strcmp(err, want) != 0)
        print_error("want: %s\n got: rc=%d %s\n", want, rc, err);
    assert_int_equal(rc, FM_ECONFIG);
    assert_string_equal(err, want);
}

static void test_config_defaults(void **state)
{
    static struct fm_config cfg;
    char err[512];
    (void)state;
    assert_int_equal(load("", &cfg, err, sizeof err), FM_OK);
    assert_true(cfg.console.enabled);
    assert_string_equal(cfg.console.host, "127.0.0.1");
    assert_int_equal(cfg.console.port, 8470);
    assert_int_equal(cfg.console.session_idle_s, 1800);
    assert_string_equal(cfg.console.tls_cert, "");
    assert_int_equal(fm_console_check(&cfg, err, sizeof err), FM_OK);
}

static void test_config_values(void **state)
{
    static struct fm_config cfg;
    char err[512], want[sizeof g_dir + 64];
    (void)state;
    assert_int_equal(load("console:\n  enabled: false\n  listen: \"[::1]:9000\"\n"
                          "  web_root: web\n  tiles: /srv/tiles\n  session_idle_s: 600\n",
                          &cfg, err, sizeof err), FM_OK);
    assert_false(cfg.console.enabled);
    assert_string_equal(cfg.console.host, "::1");
    assert_int_equal(cfg.console.port, 9000);
    snprintf(want, sizeof want, "%s/web", g_dir);
    assert_string_equal(cfg.console.web_root, want);
    assert_string_equal(cfg.console.tiles, "/srv/tiles");
    assert_int_equal(cfg.console.session_idle_s, 600);
    /* disabled: nothing to refuse even on an open address */
    assert_int_equal(load("console:\n  enabled: false\n  listen: 0.0.0.0:80\n", &cfg, err,
                          sizeof err), FM_OK);
    assert_int_equal(fm_console_check(&cfg, err, sizeof err), FM_OK);
}

static void test_config_errors(void **state)
{
    (void)state;
    expect_error("console:\n  listen: 127.0.0.1\n", "9:11",
                 "bad address '127.0.0.1' for 'listen': expected HOST:PORT (port 1..65535), "
                 "e.g. 127.0.0.1:8470");
    expect_error("console:\n  listen: \"127.0.0.1:0\"\n", "9:11",
                 "bad address '127.0.0.1:0' for 'listen': expected HOST:PORT (port 1..65535), "
                 "e.g. 127.0.0.1:8470");
    expect_error("console:\n  listen: \"::1:8470\"\n", "9:11",
                 "bad host in 'listen': write an IPv6 address as [ADDR]:PORT");
    expect_error("console:\n  listen: \"[::1:8470\"\n", "9:11",
                 "bad IPv6 host in 'listen': write [ADDR]:PORT");
    expect_error("console:\n  enabled: yes\n", "9:12", "expected true or false for 'enabled'");
    expect_error("console:\n  session_idle_s: 5\n", "9:19",
                 "'session_idle_s' must be between 60 and 86400");
    expect_error("console:\n  colour: red\n", "9:3", "unknown key 'colour' in section 'console'");
    expect_error("console:\n  tls_cert: /etc/c.pem\n", "9:13",
                 "console.tls_cert and console.tls_key go together: set both (HTTPS) or "
                 "neither (plain HTTP on a loopback address)");
}

static void test_loopback_rule(void **state)
{
    static struct fm_config cfg;
    char err[1024];
    (void)state;
    assert_true(fm_console_host_is_loopback("127.0.0.1"));
    assert_true(fm_console_host_is_loopback("127.9.8.7"));
    assert_true(fm_console_host_is_loopback("::1"));
    assert_true(fm_console_host_is_loopback("localhost"));
    assert_false(fm_console_host_is_loopback("0.0.0.0"));
    assert_false(fm_console_host_is_loopback("::"));
    assert_false(fm_console_host_is_loopback("10.1.2.3"));
    assert_false(fm_console_host_is_loopback("console.example"));
    assert_int_equal(load("console:\n  listen: 10.1.2.3:8470\n", &cfg, err, sizeof err), FM_OK);
    assert_int_equal(fm_console_check(&cfg, err, sizeof err), FM_ECONFIG);
    assert_non_null(strstr(err, "not a loopback address"));
    /* with TLS files it is allowed, once they can be read */
    assert_int_equal(load("console:\n  listen: 10.1.2.3:8470\n  tls_cert: c.pem\n"
                          "  tls_key: k.pem\n", &cfg, err, sizeof err), FM_OK);
    assert_int_equal(fm_console_check(&cfg, err, sizeof err), FM_ECONFIG);
    assert_non_null(strstr(err, "cannot be read"));
    char p[sizeof g_dir + 16];
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, i ? "k.pem" : "c.pem");
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fclose(f);
    }
    assert_int_equal(fm_console_check(&cfg, err, sizeof err), FM_OK);
}

static void test_config_write_back(void **state)
{
    static struct fm_config a, b;
    char err[512], path[sizeof g_dir + 32];
    uint8_t pk[FM_PK_LEN];
    (void)state;
    fm_config_defaults(&a);
    fm_strlcpy(a.name, "n1", sizeof a.name);
    a.role = FM_ROLE_COUNTY;
    snprintf(a.data_dir, sizeof a.data_dir, "%s/data", g_dir);
    memset(pk, 7, sizeof pk);
    memcpy(a.org_pk, pk, FM_PK_LEN);
    a.console.port = 9123;
    fm_strlcpy(a.console.host, "::1", sizeof a.console.host);
    snprintf(path, sizeof path, "%s/w.yaml", g_dir);
    assert_int_equal(fm_config_write(&a, path), FM_OK);
    assert_int_equal(fm_config_load(&b, path, err, sizeof err), FM_OK);
    assert_true(b.console.enabled);
    assert_string_equal(b.console.host, "::1");
    assert_int_equal(b.console.port, 9123);
}

/* ---------------- operators file ---------------- */

static const char *const HASH =
    "$argon2id$v=19$m=8,t=1,p=1$Dee5qK1IfB8bhqlfqsSuPw$cWZn0uFv7JPU7KJa88q7/Qjg7I2cnekQLAFAd6xIB18";

static void expect_parse_error(const char *text, const char *msg)
{
    struct fm_operators o = { 0 };
    char err[256] = "";
    assert_int_equal(fm_operators_parse(text, strlen(text), &o, err, sizeof err), FM_EDECODE);
    if (strcmp(err, msg) != 0)
        print_error("want: %s\n got: %s\n", msg, err);
    assert_string_equal(err, msg);
    assert_int_equal(o.n, 0);
    assert_null(o.ops);
}

static void test_operators_parse(void **state)
{
    struct fm_operators o = { 0 };
    char err[256], text[1024];
    (void)state;
    snprintf(text, sizeof text, "# comment\n\nann\tdispatcher\t%s\n王小明\tviewer\t%s\n", HASH,
             HASH);
    assert_int_equal(fm_operators_parse(text, strlen(text), &o, err, sizeof err), FM_OK);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.ops[0].name, "ann");
    assert_int_equal(o.ops[0].role, FM_OPROLE_DISPATCHER);
    assert_string_equal(o.ops[1].name, "王小明");
    assert_int_equal(o.ops[1].role, FM_OPROLE_VIEWER);
    assert_string_equal(o.ops[1].hash, HASH);
    /* round trip */
    char *out = NULL;
    size_t len = 0;
    struct fm_operators p = { 0 };
    assert_int_equal(fm_operators_render(&o, &out, &len), FM_OK);
    assert_int_equal(fm_operators_parse(out, len, &p, err, sizeof err), FM_OK);
    assert_int_equal(p.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(p.ops[i].name, o.ops[i].name);
        assert_int_equal(p.ops[i].role, o.ops[i].role);
        assert_string_equal(p.ops[i].hash, o.ops[i].hash);
    }
    free(out);
    /* set, replace, remove */
    assert_int_equal(fm_operators_set(&p, "ann", FM_OPROLE_ADMIN, HASH, false), FM_EEXISTS);
    assert_int_equal(fm_operators_set(&p, "bob", FM_OPROLE_ADMIN, HASH, true), FM_ENOTFOUND);
    assert_int_equal(fm_operators_set(&p, "ann", FM_OPROLE_ADMIN, HASH, true), FM_OK);
    assert_int_equal(fm_operators_find(&p, "ann")->role, FM_OPROLE_ADMIN);
    assert_int_equal(fm_operators_set(&p, "bad name", FM_OPROLE_ADMIN, HASH, false), FM_EINVAL);
    assert_int_equal(fm_operators_set(&p, "x", FM_OPROLE_ADMIN, "plain", false), FM_EINVAL);
    assert_int_equal(fm_operators_remove(&p, "ann"), FM_OK);
    assert_int_equal(fm_operators_remove(&p, "ann"), FM_ENOTFOUND);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.ops[0].name, "王小明");
    fm_operators_free(&o);
    fm_operators_free(&p);
}

static void test_operators_errors(void **state)
{
    char text[1024];
    (void)state;
    expect_parse_error("ann dispatcher x\n", "line 1: expected NAME<TAB>ROLE<TAB>HASH");
    snprintf(text, sizeof text, "ann\tchief\t%s\n", HASH);
    expect_parse_error(text, "line 1: unknown role (calltaker, dispatcher, viewer, admin)");
    expect_parse_error("ann\tviewer\t$2y$10$abcdefghijklmnopqrstuv\n",
                       "line 1: bad password hash (expected $argon2id$...)");
    snprintf(text, sizeof text, "#\nann\tviewer\t%s\nann\tadmin\t%s\n", HASH, HASH);
    expect_parse_error(text, "line 3: operator 'ann' listed twice");
    snprintf(text, sizeof text, "ann\tviewer\t%s", HASH);
    expect_parse_error(text, "line 1: missing newline at the end (truncated file?)");
    snprintf(text, sizeof text, "a:b\tviewer\t%s\n", HASH);
    expect_parse_error(text, "line 1: bad operator name");
    snprintf(text, sizeof text, "\xff\tviewer\t%s\n", HASH);
    expect_parse_error(text, "line 1: bad operator name");
    snprintf(text, sizeof text, "ann\tviewer\t%s\textra\n", HASH);
    expect_parse_error(text, "line 1: expected NAME<TAB>ROLE<TAB>HASH");
    struct fm_operators o = { 0 };
    char err[128];
    assert_int_equal(fm_operators_parse("a\0b\n", 4, &o, err, sizeof err), FM_EDECODE);
    assert_string_equal(err, "file contains a NUL byte");
}

static void test_operators_file(void **state)
{
    struct fm_operators o = { 0 }, p = { 0 };
    char path[sizeof g_dir + 32], err[256];
    (void)state;
    snprintf(path, sizeof path, "%s/operators", g_dir);
    assert_int_equal(fm_operators_load(path, &o, err, sizeof err), FM_OK); /* missing: empty */
    assert_int_equal(o.n, 0);
    assert_int_equal(fm_operators_set(&o, "ann", FM_OPROLE_CALLTAKER, HASH, false), FM_OK);
    assert_int_equal(fm_operators_save(path, &o), FM_OK);
    assert_int_equal(fm_operators_load(path, &p, err, sizeof err), FM_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.ops[0].role, FM_OPROLE_CALLTAKER);
    fm_operators_free(&o);
    fm_operators_free(&p);
}

static void test_password(void **state)
{
    char h[FM_OPERATOR_HASH_MAX];
    (void)state;
    assert_int_equal(fm_password_hash("short", FM_KDF_MINIMAL, h), FM_EINVAL);
    assert_int_equal(fm_password_hash("correct horse", FM_KDF_MINIMAL, h), FM_OK);
    assert_int_equal(strncmp(h, "$argon2id$", 10), 0);
    assert_true(fm_password_verify(h, "correct horse"));
    assert_false(fm_password_verify(h, "correct horse "));
    assert_false(fm_password_verify(h, ""));
    assert_false(fm_password_verify("garbage", "correct horse"));
}

static void test_names_and_roles(void **state)
{
    enum fm_op_role r;
    (void)state;
    assert_true(fm_operator_name_ok("ann"));
    assert_true(fm_operator_name_ok("王小明"));
    assert_true(fm_operator_name_ok("a.b-c_d"));
    assert_false(fm_operator_name_ok(""));
    assert_false(fm_operator_name_ok("a b"));
    assert_false(fm_operator_name_ok("a:b"));
    assert_false(fm_operator_name_ok("a\tb"));
    assert_false(fm_operator_name_ok("a\x7f"));
    assert_false(fm_operator_name_ok("\xc0\x80"));     /* overlong NUL */
    assert_false(fm_operator_name_ok("\xed\xa0\x80")); /* a surrogate */
    assert_false(fm_operator_name_ok("\xc2\x85"));     /* C1 control */
    char longname[FM_OPERATOR_NAME_MAX + 1];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(fm_operator_name_ok(longname));
    longname[FM_OPERATOR_NAME_MAX - 1] = '\0';
    assert_true(fm_operator_name_ok(longname));
    assert_int_equal(fm_op_role_parse("dispatcher", &r), FM_OK);
    assert_int_equal(r, FM_OPROLE_DISPATCHER);
    assert_int_equal(fm_op_role_parse("Dispatcher", &r), FM_EINVAL);
    assert_string_equal(fm_op_role_name(FM_OPROLE_CALLTAKER), "calltaker");
}

static void test_cookie(void **state)
{
    char v[CONSOLE_TOKEN_LEN];
    (void)state;
    assert_true(console_cookie_find("fm_session=abc_-9", "fm_session", v, sizeof v));
    assert_string_equal(v, "abc_-9");
    assert_true(console_cookie_find("a=1; fm_session=xyz ; b=2", "fm_session", v, sizeof v));
    assert_string_equal(v, "xyz");
    assert_true(console_cookie_find("x_fm_session=no;fm_session=yes", "fm_session", v, sizeof v));
    assert_string_equal(v, "yes");
    assert_false(console_cookie_find("fm_sessionx=1", "fm_session", v, sizeof v));
    assert_false(console_cookie_find("fm_session=", "fm_session", v, sizeof v));
    assert_false(console_cookie_find("fm_session=a\"b", "fm_session", v, sizeof v));
    assert_false(console_cookie_find("fm_session=a b", "fm_session", v, sizeof v));
    assert_false(console_cookie_find("", "fm_session", v, sizeof v));
    assert_false(console_cookie_find(NULL, "fm_session", v, sizeof v));
    assert_false(console_cookie_find("fm_session", "fm_session", v, sizeof v));
    char big[200];
    memset(big, 'a', sizeof big);
    memcpy(big, "fm_session=", 11);
    big[sizeof big - 1] = '\0';
    assert_false(console_cookie_find(big, "fm_session", v, sizeof v)); /* longer than a token */
    char t1[CONSOLE_TOKEN_LEN], t2[CONSOLE_TOKEN_LEN];
    console_token(t1);
    console_token(t2);
    assert_int_equal(strlen(t1), 43);
    assert_string_not_equal(t1, t2);
    char c[80];
    snprintf(c, sizeof c, "fm_session=%s", t1);
    assert_true(console_cookie_find(c, "fm_session", v, sizeof v));
    assert_string_equal(v, t1);
}

/* The router and the OpenAPI table agree: every documented route is
 * routed (with a sample id), every route is documented, no two alike. */
static void test_routes_documented(void **state)
{
    (void)state;
    assert_int_equal(console_doc_count(), console_route_count());
    for (size_t i = 0; i < console_doc_count(); i++) {
        const char *m, *p, *arg;
        char path[128], *id;
        console_doc_route(i, &m, &p);
        fm_strlcpy(path, p, sizeof path);
        if ((id = strstr(path, "{id}")) != NULL) {
            memmove(id + 11, id + 4, strlen(id + 4) + 1);
            memcpy(id, "k3mx9q2a-17", 11);
        }
        int r = console_route_lookup(m, path, &arg);
        if (r < 0)
            print_error("documented but not routed: %s %s\n", m, path);
        assert_true(r >= 0);
        assert_string_equal(arg, id != NULL ? "k3mx9q2a-17" : "");
        for (size_t j = 0; j < i; j++) {
            const char *m2, *p2;
            console_doc_route(j, &m2, &p2);
            assert_false(strcmp(m, m2) == 0 && strcmp(p, p2) == 0);
        }
    }
    const char *arg;
    assert_int_equal(console_route_lookup("GET", "/api/nope", &arg), -1);
    assert_int_equal(console_route_lookup("DELETE", "/api/incidents", &arg), -2);
    assert_int_equal(console_route_lookup("GET", "/api/incidents/a/b", &arg), -1);
    assert_int_equal(console_route_lookup("GET", "/api/incidents/", &arg), -1);
    json_t *doc = console_openapi();
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    assert_int_equal(json_object_size(json_object_get(doc, "paths")) > 30, 1);
    json_decref(doc);
}

static void test_plain_names(void **state)
{
    (void)state;
    assert_true(console_plain_name("app.js"));
    assert_true(console_plain_name("images/marker-icon.png"));
    assert_false(console_plain_name(""));
    assert_false(console_plain_name("../x.js"));
    assert_false(console_plain_name("a/../x.js"));
    assert_false(console_plain_name(".hidden"));
    assert_false(console_plain_name("a//b.js"));
    assert_false(console_plain_name("/etc/passwd"));
    assert_false(console_plain_name("a/"));
    assert_false(console_plain_name("a b.js"));
    assert_false(console_plain_name("a%2e.js"));
}

/* ---------------- the lockout file (lockout.c) ---------------- */

static void test_lockout_file(void **state)
{
    (void)state;
    const uint64_t now = UINT64_C(1800000000000);
    struct console_fail f[4], g[4];
    size_t n = 0;
    char err[160], *text = NULL;
    size_t len = 0;
    const char *good = "# comment\n"
                       "\xe5\xbc\xa0\xe4\xbc\x9f\t3\t0\n"          /* 张伟: 3 failures */
                       "mallory with space\t0\t1800000100000\n"     /* locked 100 s */
                       "far\t0\t9000000000000\n";                   /* cut to 300 s */
    assert_int_equal(lockout_parse(good, strlen(good), f, 4, &n, now, err, sizeof err), FM_OK);
    assert_int_equal(n, 3);
    assert_string_equal(f[0].name, "\xe5\xbc\xa0\xe4\xbc\x9f");
    assert_int_equal(f[0].fails, 3);
    assert_int_equal(f[0].locked_until_ms, 0);
    assert_int_equal(f[1].locked_until_ms, now + 100000);
    assert_int_equal(f[2].locked_until_ms, now + CONSOLE_LOCK_S * 1000u);
    /* round trip; a record with nothing left to count is not written */
    assert_int_equal(lockout_render(f, n, now, &text, &len), FM_OK);
    size_t m = 0;
    assert_int_equal(lockout_parse(text, len, g, 4, &m, now, err, sizeof err), FM_OK);
    assert_int_equal(m, 3);
    assert_memory_equal(f, g, 3 * sizeof f[0]);
    free(text);
    f[0].fails = 0;
    assert_int_equal(lockout_render(f, n, now + 200000, &text, &len), FM_OK);
    assert_int_equal(lockout_parse(text, len, g, 4, &m, now, err, sizeof err), FM_OK);
    assert_int_equal(m, 1); /* 张伟 wiped, mallory's lock over: only "far" */
    assert_string_equal(g[0].name, "far");
    free(text);
    /* refused, each with its line, nothing kept */
    static const char *const bad[] = {
        "a\t5\t0\n",            /* 5 failures lock: never stored as a count */
        "a\t1\n",               /* a field missing */
        "a\t1\t0\tx\n",         /* one too many */
        "\t1\t0\n",             /* no name */
        "a\t-1\t0\n",           /* not a number */
        "a\t1\t0x10\n",
        "a\t1\t0",              /* no newline: truncated */
        "a\t1\t0\na\t2\t0\n",   /* twice */
        "a\x01\t1\t0\n",        /* a control byte */
        "a\t1\t0\nb\t1\t0\nc\t1\t0\nd\t1\t0\ne\t1\t0\n", /* more than cap */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(lockout_parse(bad[i], strlen(bad[i]), f, 4, &n, now, err, sizeof err),
                         FM_EDECODE);
        assert_int_equal(n, 0);
        assert_true(strncmp(err, "line ", 5) == 0);
    }
    assert_int_equal(lockout_parse("a\0\n", 3, f, 4, &n, now, err, sizeof err), FM_EDECODE);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_write_back, setup, teardown),
        cmocka_unit_test(test_operators_parse),
        cmocka_unit_test(test_operators_errors),
        cmocka_unit_test_setup_teardown(test_operators_file, setup, teardown),
        cmocka_unit_test(test_password),
        cmocka_unit_test(test_names_and_roles),
        cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_routes_documented),
        cmocka_unit_test(test_plain_names),
        cmocka_unit_test(test_lockout_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
