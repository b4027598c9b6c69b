/*
 * test_yamlkit.c — the strict-YAML toolkit (node/config/yamlkit.h) on its
 * own: for each helper what it accepts, what it refuses, and that the
 * refusal names the file, line and column of the offending node with the
 * exact message the config and directory parsers show their users. Both
 * wordings (the config's style bits and the directory's default) are
 * checked where they differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/config/yamlkit.h"

#define CONFIG_STYLE (YK_RANGE_ANY_NUMBER | YK_PARSER_DETAIL)

static char g_err[512];

/* Parses text as "t.yaml" with the given style bits; returns yk_parse's
 * code. The loader is left for the test to walk and release. */
static int parse(struct yk_loader *L, unsigned style, const char *text)
{
    yk_init(L, "t.yaml", g_err, sizeof g_err);
    L->style = style;
    return yk_parse(L, text, strlen(text));
}

/* The value node of key in the root mapping. */
static yaml_node_t *value_of(struct yk_loader *L, const char *key)
{
    yaml_node_t *root = yk_root(L);
    assert_non_null(root);
    assert_int_equal(root->type, YAML_MAPPING_NODE);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yk_node(L, p->key);
        if (k != NULL && strcmp((const char *)k->data.scalar.value, key) == 0)
            return yk_node(L, p->value);
    }
    fail_msg("no key %s", key);
    return NULL;
}

static void test_fail_at_places_message(void **state)
{
    (void)state;
    struct yk_loader L;
    yk_init(&L, "dir/f.yaml", g_err, sizeof g_err);
    assert_int_equal(yk_fail_at(&L, 3, 7, "bad %s %d", "thing", 5), FM_ECONFIG);
    assert_string_equal(g_err, "dir/f.yaml:3:7: bad thing 5");
    /* a short buffer is cut, never overrun */
    char small[8];
    memset(small, 'x', sizeof small);
    yk_init(&L, "dir/f.yaml", small, 6);
    assert_int_equal(yk_fail_at(&L, 1, 1, "long message"), FM_ECONFIG);
    assert_string_equal(small, "dir/f");
    assert_int_equal(small[6], 'x');
    /* no buffer at all: still the code, nothing written */
    yk_init(&L, "f.yaml", NULL, 0);
    assert_int_equal(yk_fail_at(&L, 1, 1, "dropped"), FM_ECONFIG);
}

static void test_parse_and_syntax_errors(void **state)
{
    (void)state;
    struct yk_loader L;
    assert_int_equal(parse(&L, 0, "a: 1\nb: [x, y]\n"), 0);
    assert_int_equal(value_of(&L, "b")->type, YAML_SEQUENCE_NODE);
    yk_release(&L);
    yk_release(&L); /* twice is harmless */

    /* libyaml's message at its place; with detail, its context too */
    assert_int_equal(parse(&L, 0, "a: 1\nb: [1, 2\n"), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:3:1: did not find expected ',' or ']'");
    yk_release(&L);
    assert_int_equal(parse(&L, CONFIG_STYLE, "a: 1\nb: [1, 2\n"), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:3:1: did not find expected ',' or ']' while parsing "
                               "a flow sequence (line 2, column 4)");
    yk_release(&L);

    /* reader errors: at their own place only with detail */
    assert_int_equal(parse(&L, CONFIG_STYLE, "a: b\nc: \xff\n"), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:2:4: invalid leading UTF-8 octet");
    yk_release(&L);
    assert_int_equal(parse(&L, 0, "a: b\nc: \xff\n"), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:1:1: invalid leading UTF-8 octet");
    yk_release(&L);

    /* an empty document has no root */
    assert_int_equal(parse(&L, 0, ""), 0);
    assert_null(yk_root(&L));
    yk_release(&L);
}

static void test_depth_limit(void **state)
{
    (void)state;
    struct yk_loader L;
    char text[2 * (YK_MAX_DEPTH + 1) + 8];
    for (int depth = YK_MAX_DEPTH; depth <= YK_MAX_DEPTH + 1; depth++) {
        size_t n = 0;
        memcpy(text, "k: ", 3);
        n = 3;
        for (int i = 0; i < depth - 1; i++) /* the mapping is level 1 */
            text[n++] = '[';
        for (int i = 0; i < depth - 1; i++)
            text[n++] = ']';
        text[n] = '\0';
        int rc = parse(&L, 0, text);
        if (depth == YK_MAX_DEPTH) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, FM_ECONFIG);
            /* the 33rd collection: the 32nd '[' after "k: " */
            assert_string_equal(g_err, "t.yaml:1:35: nesting deeper than 32");
        }
        yk_release(&L);
    }
}

static void test_single_document(void **state)
{
    (void)state;
    struct yk_loader L;
    assert_int_equal(parse(&L, CONFIG_STYLE, "a: 1\n"), 0);
    assert_int_equal(yk_single_document(&L, "one, please"), 0);
    yk_release(&L);
    assert_int_equal(parse(&L, CONFIG_STYLE, "a: 1\n---\nb: 2\n"), 0);
    assert_int_equal(yk_single_document(&L, "one, please"), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:3:1: more than one YAML document (one, please)");
    yk_release(&L);
}

static void test_scalar_and_null(void **state)
{
    (void)state;
    struct yk_loader L;
    const char *s = NULL;
    assert_int_equal(parse(&L, 0, "a: hello\nm: {x: 1}\nz: \"a\\0b\"\n"), 0);
    assert_int_equal(yk_scalar(&L, value_of(&L, "a"), "a", &s), 0);
    assert_string_equal(s, "hello");
    assert_int_equal(yk_scalar(&L, value_of(&L, "m"), "m", &s), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:2:4: expected a single value for 'm'");
    L.scalar_want = "a string";
    assert_int_equal(yk_scalar(&L, value_of(&L, "m"), "m", &s), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:2:4: expected a string for 'm'");
    assert_int_equal(yk_scalar(&L, value_of(&L, "z"), "z", &s), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:3:4: 'z' contains a NUL byte");
    yk_release(&L);

    assert_int_equal(parse(&L, 0, "a:\nb: ~\nc: null\nd: NULL\ne: \"null\"\nf: nul\ng: ''\n"), 0);
    assert_true(yk_is_null(value_of(&L, "a")));
    assert_true(yk_is_null(value_of(&L, "b")));
    assert_true(yk_is_null(value_of(&L, "c")));
    assert_true(yk_is_null(value_of(&L, "d")));
    assert_false(yk_is_null(value_of(&L, "e"))); /* quoted: the text "null" */
    assert_false(yk_is_null(value_of(&L, "f")));
    assert_false(yk_is_null(value_of(&L, "g")));
    assert_null(yk_plain(value_of(&L, "e")));
    assert_string_equal(yk_plain(value_of(&L, "f")), "nul");
    yk_release(&L);

    assert_false(yk_has_control_char("plain text"));
    assert_true(yk_has_control_char("tab\there"));
    assert_true(yk_has_control_char("del\x7f"));
}

static void test_uint(void **state)
{
    (void)state;
    struct yk_loader L;
    uint64_t v = 99;
    static const char doc[] = "ok: 7\nlow: 0\nhigh: 10\nword: seven\nquoted: \"7\"\n"
                              "neg: -5\nlong: 123456789012345678901\nmax: 9999999999999999999\n";
    for (int style = 0; style <= 1; style++) {
        assert_int_equal(parse(&L, style ? CONFIG_STYLE : 0, doc), 0);
        assert_int_equal(yk_uint(&L, value_of(&L, "ok"), "ok", 1, 9, &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(yk_uint(&L, value_of(&L, "low"), "low", 1, 9, &v), FM_ECONFIG);
        assert_string_equal(g_err, "t.yaml:2:6: 'low' must be between 1 and 9");
        assert_int_equal(yk_uint(&L, value_of(&L, "high"), "high", 1, 9, &v), FM_ECONFIG);
        assert_string_equal(g_err, "t.yaml:3:7: 'high' must be between 1 and 9");
        assert_int_equal(yk_uint(&L, value_of(&L, "word"), "word", 1, 9, &v), FM_ECONFIG);
        assert_string_equal(g_err, "t.yaml:4:7: expected an integer for 'word'");
        assert_int_equal(yk_uint(&L, value_of(&L, "quoted"), "quoted", 1, 9, &v), FM_ECONFIG);
        assert_string_equal(g_err, "t.yaml:5:9: expected an integer for 'quoted'");
        /* 19 digits is the most read; the value is then range-checked */
        assert_int_equal(yk_uint(&L, value_of(&L, "max"), "max", 0, UINT64_MAX, &v), 0);
        assert_true(v == UINT64_C(9999999999999999999));
        /* numbers that are no unsigned integer: the wording differs */
        assert_int_equal(yk_uint(&L, value_of(&L, "neg"), "neg", 1, 9, &v), FM_ECONFIG);
        assert_string_equal(g_err, style ? "t.yaml:6:6: 'neg' must be between 1 and 9"
                                         : "t.yaml:6:6: expected an integer for 'neg'");
        assert_int_equal(yk_uint(&L, value_of(&L, "long"), "long", 1, 9, &v), FM_ECONFIG);
        assert_string_equal(g_err, style ? "t.yaml:7:7: 'long' must be between 1 and 9"
                                         : "t.yaml:7:7: expected an integer for 'long'");
        assert_true(v == UINT64_C(9999999999999999999)); /* untouched on refusal */
        yk_release(&L);
    }
}

static void test_bool(void **state)
{
    (void)state;
    struct yk_loader L;
    bool b = false;
    assert_int_equal(parse(&L, 0, "t: true\nf: false\ny: yes\nq: \"true\"\nl: [true]\n"), 0);
    assert_int_equal(yk_bool(&L, value_of(&L, "t"), "t", &b), 0);
    assert_true(b);
    assert_int_equal(yk_bool(&L, value_of(&L, "f"), "f", &b), 0);
    assert_false(b);
    assert_int_equal(yk_bool(&L, value_of(&L, "y"), "y", &b), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:3:4: expected true or false for 'y'");
    assert_int_equal(yk_bool(&L, value_of(&L, "q"), "q", &b), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:4:4: expected true or false for 'q'");
    assert_int_equal(yk_bool(&L, value_of(&L, "l"), "l", &b), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:5:4: expected true or false for 'l'");
    yk_release(&L);
}

static void test_text(void **state)
{
    (void)state;
    struct yk_loader L;
    char out[7]; /* at most 6 bytes */
    assert_int_equal(parse(&L, 0, "a: abc\nzh: 中文\nlong: 中文字\nempty: ''\n"
                                  "ctl: \"a\\x01\"\nc1: \"a\\u0085\"\ndel: \"a\\x7f\"\n"),
                     0);
    assert_int_equal(yk_text(&L, value_of(&L, "a"), "a", out, sizeof out), 0);
    assert_string_equal(out, "abc");
    assert_int_equal(yk_text(&L, value_of(&L, "zh"), "zh", out, sizeof out), 0);
    assert_string_equal(out, "中文");
    assert_int_equal(yk_text(&L, value_of(&L, "long"), "long", out, sizeof out), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:3:7: 'long' must be 1 to 6 bytes (2 Chinese "
                               "characters); got 9 bytes (3 characters)");
    assert_int_equal(yk_text(&L, value_of(&L, "empty"), "empty", out, sizeof out), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:4:8: 'empty' must be 1 to 6 bytes (2 Chinese "
                               "characters); got 0 bytes (0 characters)");
    static const char *const bad[] = {"ctl", "c1", "del"};
    for (size_t i = 0; i < 3; i++) {
        char want[128];
        assert_int_equal(yk_text(&L, value_of(&L, bad[i]), bad[i], out, sizeof out),
                         FM_ECONFIG);
        snprintf(want, sizeof want, "t.yaml:%zu:%zu: '%s' must be printable UTF-8 text (no "
                 "control characters)", i + 5, strlen(bad[i]) + 3, bad[i]);
        assert_string_equal(g_err, want);
    }
    yk_release(&L);
}

static void test_printable_utf8(void **state)
{
    (void)state;
    assert_true(yk_printable_utf8("", 0));
    assert_true(yk_printable_utf8("ascii ~", 7));
    assert_true(yk_printable_utf8("\xe4\xb8\xad\xf0\x9f\x9a\x92", 7)); /* 中, U+1F692 */
    assert_false(yk_printable_utf8("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(yk_printable_utf8("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(yk_printable_utf8("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    assert_false(yk_printable_utf8("\xe4\xb8", 2));         /* cut short */
    assert_false(yk_printable_utf8("\xc2\x85", 2));         /* C1 control */
    assert_false(yk_printable_utf8("a\nb", 3));
    assert_false(yk_printable_utf8("a\0b", 3)); /* a NUL inside the n bytes */
}

static void test_pair_key(void **state)
{
    (void)state;
    struct yk_loader L;
    yaml_node_t *kn = NULL;
    const char *ks = NULL;
    static const char *const docs[] = {"a: 1\nb: 2\na: 3\n", "a: 1\n? [x]\n: 2\n",
                                       "a: 1\n\"k\\0\": 2\n"};
    static const char *const want[] = {
        "t.yaml:3:1: duplicate key 'a' in the top (first at line 1)",
        "t.yaml:2:3: expected a plain key", "t.yaml:2:1: key contains a NUL byte"};
    for (size_t d = 0; d < 3; d++) {
        assert_int_equal(parse(&L, 0, docs[d]), 0);
        yaml_node_t *m = yk_root(&L);
        yaml_node_pair_t *p = m->data.mapping.pairs.start;
        assert_int_equal(yk_pair_key(&L, m, p, "the top", &kn, &ks), 0);
        assert_string_equal(ks, "a");
        int rc = 0;
        for (p++; p < m->data.mapping.pairs.top && rc == 0; p++)
            rc = yk_pair_key(&L, m, p, "the top", &kn, &ks);
        assert_int_equal(rc, FM_ECONFIG);
        assert_string_equal(g_err, want[d]);
        yk_release(&L);
    }
}

struct seen {
    char keys[64];
    int stop_at; /* the callback refuses the pair with this number (1-based) */
    int n;
};

static int collect(struct yk_loader *L, const char *key, yaml_node_t *kn, yaml_node_t *v,
                   void *arg)
{
    struct seen *s = arg;
    (void)v;
    if (++s->n == s->stop_at)
        return yk_fail(L, kn, "stop at '%s'", key);
    size_t n = strlen(s->keys);
    if (n + 1 < sizeof s->keys) { /* keys are one letter */
        s->keys[n] = key[0];
        s->keys[n + 1] = '\0';
    }
    return 0;
}

static void test_map_each(void **state)
{
    (void)state;
    struct yk_loader L;
    struct seen s = {.stop_at = 0};
    assert_int_equal(parse(&L, 0, "m: {a: 1, b: 2, c: 3}\nl: [1]\nd: {a: 1, a: 2}\n"
                                  "k: {[x]: 1}\n"), 0);
    assert_int_equal(yk_map_each(&L, value_of(&L, "m"), "m", collect, &s), 0);
    assert_string_equal(s.keys, "abc");
    s = (struct seen){.stop_at = 2};
    assert_int_equal(yk_map_each(&L, value_of(&L, "m"), "m", collect, &s), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:1:11: stop at 'b'");
    assert_string_equal(s.keys, "a");
    assert_int_equal(s.n, 2); /* nothing after the refusal */
    s = (struct seen){.stop_at = 0};
    assert_int_equal(yk_map_each(&L, value_of(&L, "l"), "a list", collect, &s), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:2:4: expected a mapping for a list");
    assert_int_equal(yk_map_each(&L, value_of(&L, "d"), "d", collect, &s), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:3:11: duplicate key 'a' in d (first at line 3)");
    assert_int_equal(yk_map_each(&L, value_of(&L, "k"), "k", collect, &s), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:4:4: expected plain keys in k");
    yk_release(&L);
}

static void test_sequences(void **state)
{
    (void)state;
    struct yk_loader L;
    assert_int_equal(parse(&L, 0, "l: [x, y, z]\ne: []\ns: x\n"), 0);
    yaml_node_t *l = value_of(&L, "l"), *item;
    assert_int_equal(yk_need_seq(&L, l, "l"), 0);
    assert_int_equal(yk_seq_len(l), 3);
    assert_string_equal((const char *)yk_seq_at(&L, l, 2)->data.scalar.value, "z");
    assert_null(yk_seq_at(&L, l, 3));
    char all[8] = "";
    size_t n = 0;
    YK_SEQ_EACH(&L, l, item) {
        if (n + 1 < sizeof all)
            all[n++] = (char)item->data.scalar.value[0];
    }
    all[n] = '\0';
    assert_string_equal(all, "xyz");
    assert_int_equal(yk_seq_len(value_of(&L, "e")), 0);
    assert_int_equal(yk_need_seq(&L, value_of(&L, "s"), "s"), FM_ECONFIG);
    assert_string_equal(g_err, "t.yaml:3:4: expected a list for 's'");
    yk_release(&L);
}

static void test_read_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/fm_yamlkit_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/f.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("a: 123456\n", f);
    assert_int_equal(fclose(f), 0);

    struct yk_loader L;
    char *buf = NULL;
    size_t len = 0;
    yk_init(&L, path, g_err, sizeof g_err);
    assert_int_equal(yk_read_file(&L, 64, &buf, &len), 0);
    assert_int_equal(len, 10);
    assert_string_equal(buf, "a: 123456\n");
    free(buf);
    buf = NULL;
    assert_int_equal(yk_read_file(&L, 8, &buf, &len), FM_ECONFIG);
    char want[128];
    snprintf(want, sizeof want, "%s:1:1: file too large (max 8 bytes)", path);
    assert_string_equal(g_err, want);
    assert_null(buf);
    unlink(path);
    assert_int_not_equal(yk_read_file(&L, 64, &buf, &len), 0);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    assert_string_equal(g_err, want);
    rmdir(dir);
}

static void test_put_quoted_round_trip(void **state)
{
    (void)state;
    static const char value[] = "a\"b\\c\nd\x01 中 - [x]: #";
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    fputs("k: ", f);
    yk_put_quoted(f, value);
    fputc('\n', f);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(text, "k: \"a\\\"b\\\\c\\x0ad\\x01 中 - [x]: #\"\n");

    struct yk_loader L;
    const char *s = NULL;
    assert_int_equal(parse(&L, 0, text), 0);
    assert_int_equal(yk_scalar(&L, value_of(&L, "k"), "k", &s), 0);
    assert_string_equal(s, value);
    yk_release(&L);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_at_places_message),
        cmocka_unit_test(test_parse_and_syntax_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_single_document),
        cmocka_unit_test(test_scalar_and_null),
        cmocka_unit_test(test_uint),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_printable_utf8),
        cmocka_unit_test(test_pair_key),
        cmocka_unit_test(test_map_each),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_put_quoted_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
