/*
 * test_cli_out.c — the CLI's output helpers and option parser, in-process:
 * the JSON string escaper (every control character, quotes, backslash,
 * UTF-8 passed through, invalid bytes as U+FFFD), JSON structure, the
 * coordinate and time formatters, terminal-safe table cells, and the
 * strict option parser (negative numbers as operands, repeats refused).
 *
 * Text printed by the CLI can come from any author's signed op, so these
 * are the guarantees that keep --json parseable and terminals safe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_int.h"

/* Output captured through fmemopen lands here. */
static char g_text[65536];
static const char *capture_escape(const char *in)
{
    memset(g_text, 0, sizeof(g_text));
    FILE *f = fmemopen(g_text, sizeof(g_text), "w");
    assert_non_null(f);
    cli_json_escape(f, in);
    assert_int_equal(fclose(f), 0);
    return g_text;
}

static void test_json_escape_specials(void **state)
{
    (void)state;
    assert_string_equal(capture_escape("plain text"), "plain text");
    assert_string_equal(capture_escape("a\"b"), "a\\\"b");
    assert_string_equal(capture_escape("a\\b"), "a\\\\b");
    assert_string_equal(capture_escape("\b\f\n\r\t"), "\\b\\f\\n\\r\\t");
    assert_string_equal(capture_escape("/"), "/");
    assert_string_equal(capture_escape(""), "");
}

static void test_json_escape_all_controls(void **state)
{
    (void)state;
    for (int c = 1; c < 0x20; c++) {
        char in[2] = { (char)c, 0 };
        char want[8];
        switch (c) {
        case '\b': snprintf(want, sizeof(want), "\\b"); break;
        case '\f': snprintf(want, sizeof(want), "\\f"); break;
        case '\n': snprintf(want, sizeof(want), "\\n"); break;
        case '\r': snprintf(want, sizeof(want), "\\r"); break;
        case '\t': snprintf(want, sizeof(want), "\\t"); break;
        default: snprintf(want, sizeof(want), "\\u%04x", c); break;
        }
        assert_string_equal(capture_escape(in), want);
    }
    assert_string_equal(capture_escape("\x7f"), "\\u007f");
}

static void test_json_escape_utf8(void **state)
{
    (void)state;
    /* valid 2-, 3- and 4-byte sequences pass through unchanged */
    const char *ok = "\xc3\xbc \xe2\x82\xac \xf0\x9f\x9a\x92 \xf4\x8f\xbf\xbf";
    assert_string_equal(capture_escape(ok), ok);
    /* invalid bytes become U+FFFD, one per bad byte, and the rest survives */
    assert_string_equal(capture_escape("a\xff" "b"), "a\\ufffdb");
    assert_string_equal(capture_escape("\xc3"), "\\ufffd");              /* truncated */
    assert_string_equal(capture_escape("\xc0\xaf"), "\\ufffd\\ufffd");   /* overlong */
    assert_string_equal(capture_escape("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd");
    assert_string_equal(capture_escape("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd"); /* surrogate */
    assert_string_equal(capture_escape("\xf4\x90\x80\x80"),
                        "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF */
    assert_string_equal(capture_escape("\x80x"), "\\ufffdx"); /* lone continuation */
}

static void test_json_structure(void **state)
{
    (void)state;
    memset(g_text, 0, sizeof(g_text));
    FILE *f = fmemopen(g_text, sizeof(g_text), "w");
    struct cli_json j;
    assert_non_null(f);
    cli_json_init(&j, f);
    cli_json_begin_array(&j);
    cli_json_begin_object(&j);
    cli_json_kstr(&j, "s", "x\"y");
    cli_json_kuint(&j, "u", UINT64_MAX);
    cli_json_kint(&j, "i", -5);
    cli_json_kcoord(&j, "lat", -339249000);
    cli_json_ktime(&j, "t", 0);
    cli_json_key(&j, "empty");
    cli_json_begin_array(&j);
    cli_json_end_array(&j);
    cli_json_key(&j, "b");
    cli_json_bool(&j, true);
    cli_json_end_object(&j);
    cli_json_begin_object(&j);
    cli_json_end_object(&j);
    cli_json_end_array(&j);
    cli_json_finish(&j);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(g_text, "[\n"
                                "  {\n"
                                "    \"s\": \"x\\\"y\",\n"
                                "    \"u\": 18446744073709551615,\n"
                                "    \"i\": -5,\n"
                                "    \"lat\": -33.9249,\n"
                                "    \"t\": null,\n"
                                "    \"empty\": [],\n"
                                "    \"b\": true\n"
                                "  },\n"
                                "  {}\n"
                                "]\n");
}

static void test_fmt_coord(void **state)
{
    (void)state;
    char b[CLI_COORD_LEN];
    cli_fmt_coord(0, b);
    assert_string_equal(b, "0.0");
    cli_fmt_coord(525200080, b);
    assert_string_equal(b, "52.520008");
    cli_fmt_coord(-5, b);
    assert_string_equal(b, "-0.0000005");
    cli_fmt_coord(-1800000000, b);
    assert_string_equal(b, "-180.0");
    cli_fmt_coord(INT32_MIN, b);
    assert_string_equal(b, "-214.7483648");
    cli_fmt_coord(900000000, b);
    assert_string_equal(b, "90.0");
}

static void test_fmt_time(void **state)
{
    (void)state;
    char b[CLI_TIME_LEN];
    /* 2024-05-01T12:34:56.789Z = 1714566896789 ms; counter bits are ignored */
    uint64_t hlc = (UINT64_C(1714566896789) << 16) | 7;
    cli_fmt_time(hlc, true, b);
    assert_string_equal(b, "2024-05-01T12:34:56.789Z");
    cli_fmt_time(hlc, false, b);
    assert_string_equal(b, "2024-05-01T12:34:56Z");
    cli_fmt_time(0, true, b);
    assert_string_equal(b, "1970-01-01T00:00:00.000Z");
}

/* Tables: local time with the offset, one token (POSIX TZ strings need no
 * tzdata). */
static void test_fmt_local(void **state)
{
    (void)state;
    char b[CLI_TIME_LEN];
    uint64_t hlc = (UINT64_C(1714566896789) << 16) | 7; /* 2024-05-01T12:34:56.789Z */
    setenv("TZ", "CST-8", 1);
    tzset();
    cli_fmt_local(hlc, true, b);
    assert_string_equal(b, "2024-05-01T20:34:56.789+08:00");
    cli_fmt_local(hlc, false, b);
    assert_string_equal(b, "2024-05-01T20:34:56+08:00");
    setenv("TZ", "NST+3:30", 1);
    tzset();
    cli_fmt_local(hlc, false, b);
    assert_string_equal(b, "2024-05-01T09:04:56-03:30");
    setenv("TZ", "UTC0", 1);
    tzset();
    cli_fmt_local(hlc, false, b);
    assert_string_equal(b, "2024-05-01T12:34:56+00:00");
    cli_fmt_time(hlc, false, b); /* JSON's form is unchanged */
    assert_string_equal(b, "2024-05-01T12:34:56Z");
}

static void test_sanitize(void **state)
{
    (void)state;
    char b[64];
    cli_sanitize("a\x1b[31mred\x07", b, sizeof(b), 100);
    assert_string_equal(b, "a [31mred ");
    cli_sanitize("x\xc2\x9b" "y", b, sizeof(b), 100); /* C1 CSI */
    assert_string_equal(b, "x y");
    cli_sanitize("bad\xff", b, sizeof(b), 100);
    assert_string_equal(b, "bad?");
    cli_sanitize("\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc", b, sizeof(b), 2);
    assert_string_equal(b, "\xc3\xbc\xc3\xbc...");
    cli_sanitize("abcdef", b, 4, 100); /* never overflows its buffer */
    assert_string_equal(b, "abc");
    /* bidi override, isolate, zero-width space and BOM cannot reorder or
     * hide what the operator reads */
    cli_sanitize("a\xe2\x80\xae" "b\xe2\x81\xa6" "c\xe2\x80\x8b" "d\xef\xbb\xbf" "e", b, sizeof(b), 100);
    assert_string_equal(b, "a b c d e");
    cli_sanitize("\xe2\x80\x94", b, sizeof(b), 100); /* an em dash is kept */
    assert_string_equal(b, "\xe2\x80\x94");
}

static void test_table(void **state)
{
    (void)state;
    static const char *const headers[] = { "ID", "NAME", "X" };
    struct cli_table t;
    cli_table_init(&t, headers, 3);
    /* "über" is split so the hex escape ends before "ber"; kept out of the
     * array initialiser, where clang's -Wstring-concatenation would read
     * the split as a missing comma */
    static const char uber[] = "\xc3\xbc" "ber";
    const char *r1[] = { "a-1", uber, "1" };
    const char *r2[] = { "bb-22", "n", "22" };
    assert_int_equal(cli_table_add(&t, r1, 40), 0);
    assert_int_equal(cli_table_add(&t, r2, 40), 0);
    memset(g_text, 0, sizeof(g_text));
    FILE *f = fmemopen(g_text, sizeof(g_text), "w");
    assert_non_null(f);
    cli_table_print(&t, f);
    assert_int_equal(fclose(f), 0);
    cli_table_release(&t);
    /* columns align by code points: "über" is 4 columns wide */
    assert_string_equal(g_text, "ID     NAME  X\n"
                                "a-1    \xc3\xbc" "ber  1\n"
                                "bb-22  n     22\n");

    /* Chinese characters take two terminal columns each: "南京路" is 6 wide */
    cli_table_init(&t, headers, 3);
    const char *r3[] = { "c-3", "\xe5\x8d\x97\xe4\xba\xac\xe8\xb7\xaf", "1" };
    const char *r4[] = { "d-4", "abcdefg", "2" };
    assert_int_equal(cli_table_add(&t, r3, 40), 0);
    assert_int_equal(cli_table_add(&t, r4, 40), 0);
    memset(g_text, 0, sizeof(g_text));
    f = fmemopen(g_text, sizeof(g_text), "w");
    assert_non_null(f);
    cli_table_print(&t, f);
    assert_int_equal(fclose(f), 0);
    cli_table_release(&t);
    assert_string_equal(g_text, "ID   NAME     X\n"
                                "c-3  \xe5\x8d\x97\xe4\xba\xac\xe8\xb7\xaf   1\n"
                                "d-4  abcdefg  2\n");

    /* a cell is cut to the column budget in terminal columns, not in
     * characters: a name of 64 Chinese characters (128 columns) under a
     * budget of 9 keeps 4 of them (8 columns) and "..."; ASCII keeps 9 */
    char longname[64 * 3 + 1] = "";
    for (int i = 0; i < 64; i++)
        strcat(longname, "\xe5\xa9\xba"); /* 婺 */
    cli_table_init(&t, headers, 3);
    const char *r5[] = { "e-5", longname, "1" };
    const char *r6[] = { "f-6", "abcdefghijkl", "2" };
    const char *r7[] = { "g-7", "a\xe5\xa9\xba\xe5\xa9\xba\xe5\xa9\xba\xe5\xa9\xba", "3" };
    assert_int_equal(cli_table_add(&t, r5, 9), 0);
    assert_int_equal(cli_table_add(&t, r6, 9), 0);
    assert_int_equal(cli_table_add(&t, r7, 9), 0);
    memset(g_text, 0, sizeof(g_text));
    f = fmemopen(g_text, sizeof(g_text), "w");
    assert_non_null(f);
    cli_table_print(&t, f);
    assert_int_equal(fclose(f), 0);
    cli_table_release(&t);
    assert_string_equal(g_text,
                        "ID   NAME          X\n"
                        "e-5  \xe5\xa9\xba\xe5\xa9\xba\xe5\xa9\xba\xe5\xa9\xba...   1\n"
                        "f-6  abcdefghi...  2\n"
                        "g-7  a\xe5\xa9\xba\xe5\xa9\xba\xe5\xa9\xba\xe5\xa9\xba     3\n");
}

static const struct cli_cmd dummy_cmd = { "test", "cmd", "[--flag] [--val V] A B", "summary",
                                          NULL, NULL };

static int parse(int argc, char **argv, struct cli_args *a)
{
    static const struct cli_opt opts[] = { { "flag", false }, { "val", true } };
    struct cli cl;
    memset(&cl, 0, sizeof(cl));
    cl.cmd = &dummy_cmd;
    /* usage errors and help go to stderr/stdout; silence them */
    FILE *saved_err = stderr, *saved_out = stdout;
    FILE *null = fopen("/dev/null", "w");
    assert_non_null(null);
    stderr = null;
    stdout = null;
    int rc = cli_parse(&cl, argc, argv, opts, 2, 0, 2, a);
    stderr = saved_err;
    stdout = saved_out;
    fclose(null);
    return rc;
}

static void test_parser(void **state)
{
    (void)state;
    struct cli_args a;
    char *v1[] = { "cmd", "-33.9", "--val", "-1", "--flag", "18.4", NULL };
    assert_int_equal(parse(6, v1, &a), 0);
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "-33.9");
    assert_string_equal(a.pos[1], "18.4");
    assert_string_equal(a.val[1], "-1");
    assert_true(cli_flag(&a, 0));

    char *v2[] = { "cmd", "--val=x=y", "--", "--flag", NULL };
    assert_int_equal(parse(4, v2, &a), 0);
    assert_string_equal(a.val[1], "x=y");
    assert_false(cli_flag(&a, 0));
    assert_string_equal(a.pos[0], "--flag");

    char *bad1[] = { "cmd", "--nope", NULL };
    assert_int_equal(parse(2, bad1, &a), CLI_EXIT_USAGE);
    char *bad2[] = { "cmd", "--val", NULL };
    assert_int_equal(parse(2, bad2, &a), CLI_EXIT_USAGE);
    char *bad3[] = { "cmd", "--flag", "--flag", NULL };
    assert_int_equal(parse(3, bad3, &a), CLI_EXIT_USAGE);
    char *bad4[] = { "cmd", "--flag=1", NULL };
    assert_int_equal(parse(2, bad4, &a), CLI_EXIT_USAGE);
    char *bad5[] = { "cmd", "a", "b", "c", NULL };
    assert_int_equal(parse(4, bad5, &a), CLI_EXIT_USAGE);
    char *bad6[] = { "cmd", "-x", NULL };
    assert_int_equal(parse(2, bad6, &a), CLI_EXIT_USAGE);
    char *help[] = { "cmd", "a", "--help", NULL };
    assert_int_equal(parse(3, help, &a), CLI_PARSE_HELP);
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(cli_exit_code(FM_OK), 0);
    assert_int_equal(cli_exit_code(FM_ENOTFOUND), 1);
    assert_int_equal(cli_exit_code(FM_EAMBIGUOUS), 1);
    assert_int_equal(cli_exit_code(FM_ESTATE), 1);
    assert_int_equal(cli_exit_code(FM_EINVAL), 2);
    assert_int_equal(cli_exit_code(FM_EKEYPERM), 3);
    assert_int_equal(cli_exit_code(FM_ECERT), 3);
    assert_int_equal(cli_exit_code(FM_EREVOKED), 3);
    assert_int_equal(cli_exit_code(FM_EFOREIGN), 3);
    assert_int_equal(cli_exit_code(FM_EIO), 74);
    assert_int_equal(cli_exit_code(FM_ESTORE), 74);
    assert_int_equal(cli_exit_code(FM_ECONFIG), 78);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escape_specials),
        cmocka_unit_test(test_json_escape_all_controls),
        cmocka_unit_test(test_json_escape_utf8),
        cmocka_unit_test(test_json_structure),
        cmocka_unit_test(test_fmt_coord),
        cmocka_unit_test(test_fmt_time),
        cmocka_unit_test(test_fmt_local),
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_parser),
        cmocka_unit_test(test_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
