/*
 * test_backup.c — the backup file decoder (node/replica/backup.c) on the
 * checked-in seed corpus: the one whole file is accepted with its meta
 * section read, and every damaged one is refused with the error code and
 * the reason `fieldmesh restore` prints (each case names what is wrong).
 * Writing and restoring a real node's backup is e2e.test_backup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/replica/replica.h"

static int check_file(const char *name, struct fm_backup_info *info, char *err, size_t cap)
{
    char path[1024];
    const char *src = getenv("FM_SRC");
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/fuzz_backup/%s", src ? src : ".", name);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    int rc = fm_backup_check(in, 1u << 20, info, err, cap);
    fclose(in);
    return rc;
}

static void test_whole_file_accepted(void **state)
{
    (void)state;
    struct fm_backup_info info;
    char err[512];
    assert_int_equal(check_file("valid_min", &info, err, sizeof err), FM_OK);
    assert_string_equal(info.name, "node1");
    assert_int_equal(info.created_ms, 1764900000000ull);
    assert_int_equal(info.store_bytes, 64);
}

static void test_damaged_files_refused(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int rc;
        const char *says;
    } cases[] = {
        { "bad_hash", FM_EVERIFY, "hash in its end section does not match" },
        { "trailing", FM_EDECODE, "bytes follow its end section" },
        { "no_store", FM_EDECODE, "no store section" },
        { "dup_cert", FM_EDECODE, "certificate section appears twice" },
        { "unknown_type", FM_EDECODE, "unknown section type 9" },
        { "bad_magic", FM_EDECODE, "not a fieldmesh backup" },
        { "version2", FM_EDECODE, "version 2 is not 1" },
        { "huge_small", FM_ETOOBIG, "identity key section (1099511627776 bytes) is larger" },
        { "huge_store", FM_ETOOBIG, "store section (4611686018427387904 bytes) is larger" },
        { "meta_ctrl", FM_EDECODE, "control byte at offset 1" },
        { "meta_short", FM_EDECODE, "meta section has a bad length" },
        { "truncated", FM_EDECODE, "truncated" },
        { "header_only", FM_EDECODE, "truncated: the file ends before its end section" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fm_backup_info info;
        char err[512];
        int rc = check_file(cases[i].file, &info, err, sizeof err);
        if (rc != cases[i].rc || strstr(err, cases[i].says) == NULL)
            fail_msg("%s: rc %d (want %d), \"%s\" (want \"%s\")", cases[i].file, rc,
                     cases[i].rc, err, cases[i].says);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_file_accepted),
        cmocka_unit_test(test_damaged_files_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
