/*
 * test_file.c — unit tests for the shared base's file module
 * (crypto/base/file.c): the one bounded reader into a caller's buffer or
 * a capped heap buffer, the one durable writer (exclusive create, atomic
 * replace, mode) and the durable append. Each test works in its own
 * temporary directory and checks what is on disk afterwards, including
 * that a failed or replacing write leaves no temporary file behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/base/fm_base.h"

struct fx {
    char dir[64];
    char path[128];
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/fm_test_file.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/f", f->dir);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char p[512];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Entries in the directory: a replacing write must leave only its target. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d != NULL && (e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    return n;
}

static void put(const char *path, const char *text, mode_t mode)
{
    assert_int_equal(fm_file_write(path, text, strlen(text), mode, false), FM_OK);
}

static void test_read_small_bounds(void **state)
{
    struct fx *f = *state;
    uint8_t buf[8];
    size_t len = 99;
    assert_int_equal(fm_file_read_small(f->path, buf, sizeof buf, &len, false), FM_ENOTFOUND);
    put(f->path, "12345678", 0600); /* exactly max */
    assert_int_equal(fm_file_read_small(f->path, buf, sizeof buf, &len, false), FM_OK);
    assert_int_equal(len, 8);
    assert_memory_equal(buf, "12345678", 8);
    put(f->path, "123456789", 0600); /* one byte more */
    assert_int_equal(fm_file_read_small(f->path, buf, sizeof buf, &len, false), FM_ETOOBIG);
    put(f->path, "1", 0640);
    assert_int_equal(fm_file_read_small(f->path, buf, sizeof buf, &len, true), FM_EKEYPERM);
    assert_int_equal(fm_file_read_small(f->dir, buf, sizeof buf, &len, false), FM_EIO);
}

static void test_read_alloc_bounds(void **state)
{
    struct fx *f = *state;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(fm_file_read_alloc(f->path, 16, &text, &len), FM_ENOTFOUND);
    assert_null(text);
    put(f->path, "", 0600);
    assert_int_equal(fm_file_read_alloc(f->path, 16, &text, &len), FM_OK);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);
    put(f->path, "0123456789abcdef", 0600); /* exactly max, NUL after it */
    assert_int_equal(fm_file_read_alloc(f->path, 16, &text, &len), FM_OK);
    assert_int_equal(len, 16);
    assert_string_equal(text, "0123456789abcdef");
    free(text);
    text = NULL;
    put(f->path, "0123456789abcdefg", 0600);
    assert_int_equal(fm_file_read_alloc(f->path, 16, &text, &len), FM_ETOOBIG);
    assert_null(text);
    assert_int_equal(fm_file_read_alloc(f->dir, 16, &text, &len), FM_EIO);
    assert_int_equal(errno, EISDIR); /* errno says why, for the message */
}

/* A file bigger than the first guess (not a regular file's size) grows
 * the buffer by doubling, never past max + 1. */
static void test_read_alloc_grows(void **state)
{
    struct fx *f = *state;
    size_t big = 100000, len = 0;
    char *want = malloc(big), *text = NULL;
    assert_non_null(want);
    for (size_t i = 0; i < big; i++)
        want[i] = (char)('a' + i % 26);
    assert_int_equal(fm_file_write(f->path, want, big, 0600, false), FM_OK);
    assert_int_equal(fm_file_read_alloc(f->path, big, &text, &len), FM_OK);
    assert_int_equal(len, big);
    assert_memory_equal(text, want, big);
    free(text);
    assert_int_equal(fm_file_read_alloc(f->path, big - 1, &text, &len), FM_ETOOBIG);
    free(want);
}

static void test_write_exclusive(void **state)
{
    struct fx *f = *state;
    struct stat st;
    mode_t old = umask(022);
    assert_int_equal(fm_file_write(f->path, "one", 3, 0660, true), FM_OK);
    umask(old);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640); /* created: the umask applies */
    assert_int_equal(fm_file_write(f->path, "two", 3, 0600, true), FM_EEXISTS);
    char *text = NULL;
    size_t len;
    assert_int_equal(fm_file_read_alloc(f->path, 16, &text, &len), FM_OK);
    assert_string_equal(text, "one");
    free(text);
}

static void test_write_replaces_whole(void **state)
{
    struct fx *f = *state;
    struct stat st;
    put(f->path, "a long first version", 0644);
    put(f->path, "short", 0600);
    char *text = NULL;
    size_t len;
    assert_int_equal(fm_file_read_alloc(f->path, 64, &text, &len), FM_OK);
    assert_string_equal(text, "short");
    free(text);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* fchmod: not cut by the umask */
    assert_int_equal(entries(f->dir), 1);      /* no temporary file left */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/such/dir/f", f->dir);
    assert_int_equal(fm_file_write(missing, "x", 1, 0600, false), FM_EIO);
    assert_int_equal(entries(f->dir), 1);
}

static void test_append(void **state)
{
    struct fx *f = *state;
    assert_int_equal(fm_file_append(f->path, "", 0, 0644), FM_OK); /* creates it */
    assert_int_equal(access(f->path, F_OK), 0);
    assert_int_equal(fm_file_append(f->path, "a\n", 2, 0644), FM_OK);
    assert_int_equal(fm_file_append(f->path, "b\n", 2, 0644), FM_OK);
    char *text = NULL;
    size_t len;
    assert_int_equal(fm_file_read_alloc(f->path, 64, &text, &len), FM_OK);
    assert_string_equal(text, "a\nb\n");
    free(text);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/no/f", f->dir);
    assert_int_equal(fm_file_append(missing, "x", 1, 0644), FM_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_small_bounds, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_alloc_bounds, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_alloc_grows, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_write_exclusive, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_write_replaces_whole, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_append, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
