/*
 * test_base.c — unit tests for the shared base in crypto/base/fm_base.h: error
 * strings, the capped buffer, the strict cursor, big-endian helpers,
 * bounded copy, strict number parsing, clocks and the logger (level
 * filtering, line format, sanitising, rate limiting). Log output is
 * captured by pointing fd 2 at a temporary file for the duration of a call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/base/fm_base.h"

/* ---- errors ---- */

static void test_strerror_all_codes(void **state)
{
    (void)state;
    const char *seen[32] = {0};
    for (int e = FM_OK; e >= FM_ECLOSED; e--) {
        const char *s = fm_strerror(e);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
        for (int k = 0; k < -e; k++)
            assert_string_not_equal(s, seen[k]);
        seen[-e] = s;
    }
    assert_string_equal(fm_strerror(FM_ECLOSED - 1), "unknown error");
    assert_string_equal(fm_strerror(1), "unknown error");
}

/* ---- buffer ---- */

static void test_buf_cap_enforced(void **state)
{
    (void)state;
    struct fm_buf b;
    fm_buf_init(&b, 10);
    assert_int_equal(fm_buf_append(&b, "0123456789", 10), FM_OK);
    assert_int_equal(b.len, 10);
    assert_int_equal(fm_buf_put_u8(&b, 1), FM_ETOOBIG);
    assert_int_equal(fm_buf_append(&b, "x", 1), FM_ETOOBIG);
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 10);
    assert_memory_equal(b.data, "0123456789", 10);
    assert_int_equal(fm_buf_append(&b, NULL, 0), FM_OK);
    fm_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_non_null(b.data);
    assert_int_equal(fm_buf_put_u64(&b, 1), FM_OK);
    assert_int_equal(fm_buf_put_u16(&b, 1), FM_OK);
    assert_int_equal(fm_buf_put_u16(&b, 1), FM_ETOOBIG);
    assert_int_equal(fm_buf_append(&b, "x", SIZE_MAX), FM_ETOOBIG);
    fm_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);

    fm_buf_init(&b, 0);
    assert_int_equal(fm_buf_put_u8(&b, 0), FM_ETOOBIG);
    fm_buf_release(&b);
}

static void test_buf_grows_and_is_big_endian(void **state)
{
    (void)state;
    struct fm_buf b;
    fm_buf_init(&b, 1 << 20);
    assert_int_equal(fm_buf_put_u8(&b, 0xab), FM_OK);
    assert_int_equal(fm_buf_put_u16(&b, 0x0102), FM_OK);
    assert_int_equal(fm_buf_put_u32(&b, 0x03040506), FM_OK);
    assert_int_equal(fm_buf_put_u64(&b, 0x0708090a0b0c0d0eULL), FM_OK);
    static const uint8_t want[] = {0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    uint8_t block[1000];
    memset(block, 0x5a, sizeof block);
    for (int i = 0; i < 100; i++)
        assert_int_equal(fm_buf_append(&b, block, sizeof block), FM_OK);
    assert_int_equal(b.len, sizeof want + 100000);
    assert_true(b.cap >= b.len && b.cap <= b.max);
    assert_memory_equal(b.data, want, sizeof want);
    assert_int_equal(b.data[b.len - 1], 0x5a);
    fm_buf_release(&b);
}

/* ---- cursor ---- */

static void test_cur_reads_and_short_reads(void **state)
{
    (void)state;
    static const uint8_t in[] = {0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff};
    struct fm_cur c;
    fm_cur_init(&c, in, sizeof in);
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    assert_int_equal(fm_cur_u8(&c, &u8), FM_OK);
    assert_int_equal(u8, 0xab);
    assert_int_equal(fm_cur_u16(&c, &u16), FM_OK);
    assert_int_equal(u16, 0x0102);
    assert_int_equal(fm_cur_u32(&c, &u32), FM_OK);
    assert_int_equal(u32, 0x03040506);
    assert_int_equal(fm_cur_u64(&c, &u64), FM_OK);
    assert_true(u64 == 0x0708090a0b0c0d0eULL);
    assert_int_equal(fm_cur_left(&c), 1);

    /* Every getter fails on 1 byte left except u8, and fails without moving. */
    u16 = 0x7777;
    assert_int_equal(fm_cur_u16(&c, &u16), FM_EDECODE);
    assert_int_equal(u16, 0x7777);
    assert_int_equal(fm_cur_u32(&c, &u32), FM_EDECODE);
    assert_int_equal(fm_cur_u64(&c, &u64), FM_EDECODE);
    const uint8_t *p = NULL;
    assert_int_equal(fm_cur_bytes(&c, 2, &p), FM_EDECODE);
    assert_null(p);
    uint8_t dst[4] = {0};
    assert_int_equal(fm_cur_copy(&c, dst, 2), FM_EDECODE);
    assert_int_equal(fm_cur_bytes(&c, SIZE_MAX, &p), FM_EDECODE);
    assert_int_equal(fm_cur_left(&c), 1);
    assert_int_equal(fm_cur_bytes(&c, 1, &p), FM_OK);
    assert_ptr_equal(p, in + sizeof in - 1);
    assert_int_equal(fm_cur_left(&c), 0);
    assert_int_equal(fm_cur_u8(&c, &u8), FM_EDECODE);
    assert_int_equal(fm_cur_bytes(&c, 0, &p), FM_OK);
    assert_int_equal(fm_cur_copy(&c, dst, 0), FM_OK);

    /* Short reads at every length for a u64. */
    for (size_t n = 0; n < 8; n++) {
        fm_cur_init(&c, in, n);
        assert_int_equal(fm_cur_u64(&c, &u64), FM_EDECODE);
        assert_int_equal(fm_cur_left(&c), n);
    }
    fm_cur_init(&c, in, 4);
    assert_int_equal(fm_cur_copy(&c, dst, 4), FM_OK);
    assert_memory_equal(dst, in, 4);
}

static void test_be_helpers(void **state)
{
    (void)state;
    uint8_t b8[8], b4[4];
    fm_be64_put(b8, 0x0102030405060708ULL);
    static const uint8_t w8[] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(b8, w8, 8);
    assert_true(fm_be64_get(b8) == 0x0102030405060708ULL);
    fm_be64_put(b8, UINT64_MAX);
    assert_true(fm_be64_get(b8) == UINT64_MAX);
    fm_be32_put(b4, 0xdeadbeef);
    static const uint8_t w4[] = {0xde, 0xad, 0xbe, 0xef};
    assert_memory_equal(b4, w4, 4);
    assert_int_equal(fm_be32_get(b4), 0xdeadbeef);
}

/* ---- strings and numbers ---- */

static void test_strlcpy(void **state)
{
    (void)state;
    char d[6];
    assert_int_equal(fm_strlcpy(d, "hello", sizeof d), FM_OK);
    assert_string_equal(d, "hello");
    assert_int_equal(fm_strlcpy(d, "", sizeof d), FM_OK);
    assert_string_equal(d, "");
    assert_int_equal(fm_strlcpy(d, "hello!", sizeof d), FM_ETOOBIG);
    assert_string_equal(d, "hello");
    assert_int_equal(fm_strlcpy(d, "much too long", sizeof d), FM_ETOOBIG);
    assert_string_equal(d, "much ");
    d[0] = 'x';
    assert_int_equal(fm_strlcpy(d, "a", 0), FM_ETOOBIG);
    assert_int_equal(d[0], 'x');
    assert_int_equal(fm_strlcpy(d, "a", 1), FM_ETOOBIG);
    assert_string_equal(d, "");
}

static void test_parse_u64(void **state)
{
    (void)state;
    uint64_t v = 42;
    assert_int_equal(fm_parse_u64("0", &v), FM_OK);
    assert_true(v == 0);
    assert_int_equal(fm_parse_u64("18446744073709551615", &v), FM_OK);
    assert_true(v == UINT64_MAX);
    assert_int_equal(fm_parse_u64("0000000000000000000000000000123", &v), FM_OK);
    assert_true(v == 123);
    v = 42;
    assert_int_equal(fm_parse_u64("18446744073709551616", &v), FM_ETOOBIG);
    assert_int_equal(fm_parse_u64("99999999999999999999999", &v), FM_ETOOBIG);
    const char *junk[] = {"", "-1", "+1", " 1", "1 ", "1a", "a", "0x10", "1.0", "1e3", "--"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(fm_parse_u64(junk[i], &v), FM_EINVAL);
    assert_int_equal(fm_parse_u64(NULL, &v), FM_EINVAL);
    assert_true(v == 42);
}

static void test_parse_i64(void **state)
{
    (void)state;
    int64_t v = 42;
    assert_int_equal(fm_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), FM_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(fm_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), FM_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(fm_parse_i64("+5", 1, 5, &v), FM_OK);
    assert_true(v == 5);
    assert_int_equal(fm_parse_i64("-0", 0, 0, &v), FM_OK);
    assert_true(v == 0);
    v = 42;
    assert_int_equal(fm_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v), FM_ETOOBIG);
    assert_int_equal(fm_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v), FM_ETOOBIG);
    assert_int_equal(fm_parse_i64("6", 1, 5, &v), FM_ETOOBIG);
    assert_int_equal(fm_parse_i64("0", 1, 5, &v), FM_ETOOBIG);
    assert_int_equal(fm_parse_i64("-1", 0, 5, &v), FM_ETOOBIG);
    const char *junk[] = {"", "-", "+", "+-1", " 1", "1 ", "1x", "0x1", "1.5", "--1"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(fm_parse_i64(junk[i], INT64_MIN, INT64_MAX, &v), FM_EINVAL);
    assert_int_equal(fm_parse_i64(NULL, 0, 1, &v), FM_EINVAL);
    assert_true(v == 42);
}

static void test_parse_double(void **state)
{
    (void)state;
    double v = 42;
    assert_int_equal(fm_parse_double("1.5", -10, 10, &v), FM_OK);
    assert_true(v == 1.5);
    assert_int_equal(fm_parse_double("-90", -90, 90, &v), FM_OK);
    assert_true(v == -90);
    assert_int_equal(fm_parse_double(".25", 0, 1, &v), FM_OK);
    assert_true(v == 0.25);
    assert_int_equal(fm_parse_double("5.", 0, 10, &v), FM_OK);
    assert_true(v == 5);
    assert_int_equal(fm_parse_double("1e3", 0, 1e4, &v), FM_OK);
    assert_true(v == 1000);
    assert_int_equal(fm_parse_double("+2.5E-1", 0, 1, &v), FM_OK);
    assert_true(v == 0.25);
    v = 42;
    assert_int_equal(fm_parse_double("90.0001", -90, 90, &v), FM_ETOOBIG);
    assert_int_equal(fm_parse_double("-181", -180, 180, &v), FM_ETOOBIG);
    assert_int_equal(fm_parse_double("1e400", -1e300, 1e300, &v), FM_ETOOBIG);
    const char *junk[] = {"",    ".",   "-",    "e5",  "1e",  "1e+", "1.2.3", "nan", "inf",
                          "NaN", "0x10", " 1", "1 ", "1,5", "1..", "--1", "1e5x"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(fm_parse_double(junk[i], -1e300, 1e300, &v), FM_EINVAL);
    assert_int_equal(fm_parse_double(NULL, 0, 1, &v), FM_EINVAL);
    assert_true(v == 42);
}

/* ---- clocks ---- */

static void test_clocks(void **state)
{
    (void)state;
    uint64_t now = fm_now_ms();
    assert_true(now > 1577836800000ULL); /* after 2020-01-01 */
    assert_true(now < 4102444800000ULL); /* before 2100-01-01 */
    uint64_t a = fm_mono_ms();
    uint64_t b = fm_mono_ms();
    assert_true(b >= a);
}

/* ---- logging ---- */

static void test_log_parse_level(void **state)
{
    (void)state;
    enum fm_log_level l = FM_LOG_WARN;
    assert_int_equal(fm_log_parse_level("error", &l), FM_OK);
    assert_int_equal(l, FM_LOG_ERROR);
    assert_int_equal(fm_log_parse_level("warn", &l), FM_OK);
    assert_int_equal(l, FM_LOG_WARN);
    assert_int_equal(fm_log_parse_level("info", &l), FM_OK);
    assert_int_equal(l, FM_LOG_INFO);
    assert_int_equal(fm_log_parse_level("debug", &l), FM_OK);
    assert_int_equal(l, FM_LOG_DEBUG);
    const char *bad[] = {"", "ERROR", "Info", "verbose", "warning", "info ", "2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fm_log_parse_level(bad[i], &l), FM_EINVAL);
    assert_int_equal(fm_log_parse_level(NULL, &l), FM_EINVAL);
    assert_int_equal(l, FM_LOG_DEBUG);
    fm_log_set_level(FM_LOG_WARN);
    assert_int_equal(fm_log_get_level(), FM_LOG_WARN);
}

/* Stderr capture into a temp file. */
struct capture {
    int saved, fd;
    char path[64];
};

static void capture_start(struct capture *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/fm_test_log_XXXXXX");
    c->fd = mkstemp(c->path);
    assert_true(c->fd >= 0);
    fflush(stderr);
    c->saved = dup(2);
    assert_true(c->saved >= 0);
    assert_true(dup2(c->fd, 2) >= 0);
}

/* Returns the captured text (malloc'd, NUL-terminated). */
static char *capture_end(struct capture *c)
{
    fflush(stderr);
    assert_true(dup2(c->saved, 2) >= 0);
    close(c->saved);
    off_t size = lseek(c->fd, 0, SEEK_END);
    assert_true(size >= 0);
    char *text = calloc(1, (size_t)size + 1);
    assert_non_null(text);
    assert_int_equal(pread(c->fd, text, (size_t)size, 0), size);
    close(c->fd);
    unlink(c->path);
    return text;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static bool line_format_ok(const char *line, const char *rest)
{
    /* 2024-05-01T12:00:00.123Z <rest> */
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
    for (size_t i = 0; i < sizeof pat - 1; i++) {
        if (pat[i] == 'd' ? (line[i] < '0' || line[i] > '9') : line[i] != pat[i])
            return false;
    }
    return strncmp(line + sizeof pat - 1, rest, strlen(rest)) == 0;
}

static void test_log_format_and_levels(void **state)
{
    (void)state;
    struct capture c;
    fm_log_set_level(FM_LOG_INFO);
    capture_start(&c);
    fm_log(FM_LOG_DEBUG, "test", "hidden %d", 1);
    fm_log(FM_LOG_INFO, "test", "shown %d", 2);
    fm_log(FM_LOG_WARN, "sync", "peer %s", "a\nINFO fake: line\x7f");
    fm_log(FM_LOG_ERROR, "node", "bad");
    char *out = capture_end(&c);
    assert_int_equal(count_lines(out), 3);
    char *l1 = out, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    assert_true(line_format_ok(l1, "INFO test: shown 2\n"));
    assert_true(line_format_ok(l2, "WARN sync: peer a?INFO fake: line?\n"));
    assert_true(line_format_ok(l3, "ERROR node: bad\n"));
    free(out);

    fm_log_set_level(FM_LOG_ERROR);
    capture_start(&c);
    fm_log(FM_LOG_WARN, "test", "hidden");
    fm_log(FM_LOG_INFO, "test", "hidden");
    out = capture_end(&c);
    assert_string_equal(out, "");
    free(out);

    /* An over-long message is cut to one line. */
    fm_log_set_level(FM_LOG_DEBUG);
    char big[5000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    capture_start(&c);
    fm_log(FM_LOG_DEBUG, "test", "%s", big);
    out = capture_end(&c);
    assert_int_equal(count_lines(out), 1);
    assert_true(strlen(out) <= 1024);
    assert_int_equal(out[strlen(out) - 1], '\n');
    free(out);
    fm_log_set_level(FM_LOG_INFO);
}

static void test_log_limiter_suppresses(void **state)
{
    (void)state;
    static struct fm_log_limiter lim;
    struct capture c;
    fm_log_set_level(FM_LOG_INFO);
    capture_start(&c);
    for (int i = 0; i < 10; i++)
        fm_log_limited(&lim, 3, FM_LOG_WARN, "peer", "bad frame %d", i);
    /* Filtered-out levels neither print nor count. */
    fm_log_limited(&lim, 3, FM_LOG_DEBUG, "peer", "debug");
    char *out = capture_end(&c);
    assert_int_equal(count_lines(out), 3);
    assert_non_null(strstr(out, "bad frame 0"));
    assert_non_null(strstr(out, "bad frame 2"));
    assert_null(strstr(out, "bad frame 3"));
    assert_int_equal(lim.suppressed, 7);
    free(out);

    /* Pretend the 10 s window is over: the next line passes and reports. */
    lim.window_start_ms -= 10001;
    capture_start(&c);
    fm_log_limited(&lim, 3, FM_LOG_WARN, "peer", "bad frame %d", 10);
    fm_log_limited(&lim, 3, FM_LOG_WARN, "peer", "bad frame %d", 11);
    out = capture_end(&c);
    assert_int_equal(count_lines(out), 2);
    assert_non_null(strstr(out, "WARN peer: bad frame 10 (7 similar lines suppressed)\n"));
    assert_non_null(strstr(out, "WARN peer: bad frame 11\n"));
    assert_int_equal(lim.suppressed, 0);
    free(out);

    /* burst 0 suppresses everything. */
    struct fm_log_limiter none = {0};
    capture_start(&c);
    fm_log_limited(&none, 0, FM_LOG_ERROR, "peer", "never");
    out = capture_end(&c);
    assert_string_equal(out, "");
    assert_int_equal(none.suppressed, 1);
    free(out);
}

/* fm_mkdirs: creates every missing level with mode 0700, accepts what
 * exists, fails on a file in the way and on an over-long path. */
static void test_mkdirs(void **state)
{
    (void)state;
    char root[] = "/tmp/fm_mkdirs_XXXXXX", deep[128], file[128];
    struct stat st;
    assert_non_null(mkdtemp(root));
    snprintf(deep, sizeof deep, "%s/a/b/c", root);
    assert_int_equal(fm_mkdirs(deep), FM_OK);
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(fm_mkdirs(deep), FM_OK); /* already there */
    snprintf(file, sizeof file, "%s/f", root);
    int fd = open(file, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    snprintf(deep, sizeof deep, "%s/f/x", root);
    assert_int_equal(fm_mkdirs(deep), FM_EIO);
    char big[FM_BASE_PATH_MAX + 8];
    memset(big, 'a', sizeof big - 1);
    big[0] = '/';
    big[sizeof big - 1] = '\0';
    assert_int_equal(fm_mkdirs(big), FM_ETOOBIG);
    unlink(file);
    rmdir(root); /* best effort: a/b/c left are removed below */
    snprintf(deep, sizeof deep, "%s/a/b/c", root);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a/b", root);
    rmdir(deep);
    snprintf(deep, sizeof deep, "%s/a", root);
    rmdir(deep);
    rmdir(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_all_codes),
        cmocka_unit_test(test_buf_cap_enforced),
        cmocka_unit_test(test_buf_grows_and_is_big_endian),
        cmocka_unit_test(test_cur_reads_and_short_reads),
        cmocka_unit_test(test_be_helpers),
        cmocka_unit_test(test_strlcpy),
        cmocka_unit_test(test_mkdirs),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_log_parse_level),
        cmocka_unit_test(test_log_format_and_levels),
        cmocka_unit_test(test_log_limiter_suppresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
