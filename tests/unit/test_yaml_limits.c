/*
 * test_yaml_limits.c — YAML an administrator (or an attacker with write
 * access to a file) can hand the node and the directory tools: nesting is
 * refused before libyaml builds it, at a bounded cost, with file:line:
 * column; a directory without departments or rules is refused (its
 * publication would wipe every dispatch rule everywhere); and a name over
 * the cap is refused with the length it got, in bytes and characters.
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

#include "node/workflow/workflow.h"

static char g_dir[] = "/tmp/fm_yaml_limits_XXXXXX";

static const char *write_file(const char *name, const char *head, size_t depth,
                              const char *tail)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(head, f);
    for (size_t i = 0; i < depth; i++)
        fputc('[', f);
    for (size_t i = 0; i < depth; i++)
        fputc(']', f);
    fputs(tail, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* 40,000 levels took libyaml's loader 2.1 s; now refused at level 33 */
static void test_config_nesting_refused_fast(void **state)
{
    (void)state;
    struct fm_config cfg;
    char err[512];
    const char *p = write_file("deep.yaml", "node:\n  name: ", 40000, "\n");
    uint64_t t0 = fm_mono_ms();
    assert_int_equal(fm_config_load(&cfg, p, err, sizeof err), FM_ECONFIG);
    uint64_t ms = fm_mono_ms() - t0;
    printf("# config nested 40000 deep refused in %llu ms: %s\n", (unsigned long long)ms, err);
    assert_non_null(strstr(err, "deep.yaml:2:"));
    assert_non_null(strstr(err, ": nesting deeper than 32"));
    assert_true(ms < 300);
    /* the limit itself: 30 levels inside node (depth 2 + 30 = 32) pass the
     * depth check and fail on the type, 31 do not */
    p = write_file("edge.yaml", "node:\n  name: ", 30, "\n");
    assert_int_equal(fm_config_load(&cfg, p, err, sizeof err), FM_ECONFIG);
    assert_null(strstr(err, "nesting"));
    p = write_file("edge.yaml", "node:\n  name: ", 31, "\n");
    assert_int_equal(fm_config_load(&cfg, p, err, sizeof err), FM_ECONFIG);
    assert_non_null(strstr(err, "edge.yaml:2:39: nesting deeper than 32"));
}

static void test_directory_nesting_refused_fast(void **state)
{
    (void)state;
    struct fm_directory *d = NULL;
    char err[512];
    const char *p = write_file("dir.yaml", "name: x\ncounties: ", 40000, "\n");
    uint64_t t0 = fm_mono_ms();
    assert_int_equal(fm_directory_load_yaml(p, &d, err, sizeof err), FM_ECONFIG);
    uint64_t ms = fm_mono_ms() - t0;
    printf("# directory nested 40000 deep refused in %llu ms: %s\n", (unsigned long long)ms,
           err);
    assert_null(d);
    assert_non_null(strstr(err, "dir.yaml:2:"));
    assert_non_null(strstr(err, ": nesting deeper than 32"));
    assert_true(ms < 300);
}

#define DEPT "departments:\n  - {name: F, kind: fire, tier: 1, county: a}\n"
#define RULE "rules:\n  - category: fire\n    respond: [{tier: 1, kind: fire, units: 1}]\n"

static void load_expect(const char *text, const char *want)
{
    struct fm_directory *d = NULL;
    char err[512];
    const char *p = write_file("d.yaml", text, 0, "");
    int rc = fm_directory_load_yaml(p, &d, err, sizeof err);
    if (want == NULL) {
        if (rc != FM_OK)
            fail_msg("expected the directory to load; got %d: %s", rc, err);
        assert_non_null(d);
        fm_directory_free(&d);
        return;
    }
    assert_int_equal(rc, FM_ECONFIG);
    assert_null(d);
    if (strstr(err, want) == NULL)
        fail_msg("expected '%s' in '%s'", want, err);
}

/* publishing a directory without departments or rules wiped every rule */
static void test_directory_without_departments_or_rules(void **state)
{
    (void)state;
    load_expect("name: x\ncounties: [a]\n" DEPT RULE, NULL);
    load_expect("name: x\ncounties: [a]\ndepartments: []\n" RULE,
                "d.yaml:3:14: the directory lists no department");
    load_expect("name: x\ncounties: [a]\n" DEPT, "d.yaml:1:1: the directory has no rule");
    load_expect("name: x\ncounties: [a]\n" DEPT "rules: []\n",
                "d.yaml:5:8: the directory has no rule");
}

/* A name is at most 64 characters (64 Chinese characters are 192 bytes):
 * the longest fits; one more character is refused, saying what it got. */
static void test_directory_name_length(void **state)
{
    (void)state;
    char text[2048], name[512];
    for (size_t i = 0; i < 65; i++)
        memcpy(name + 3 * i, "婺", 3);
    name[192] = '\0';
    snprintf(text, sizeof text,
             "name: x\ncounties: [a]\ndepartments:\n  - {name: %s, kind: fire, tier: 1, "
             "county: a}\n" RULE, name);
    load_expect(text, NULL);
    memcpy(name + 192, "婺", 3);
    name[195] = '\0';
    snprintf(text, sizeof text,
             "name: x\ncounties: [a]\ndepartments:\n  - {name: %s, kind: fire, tier: 1, "
             "county: a}\n" RULE, name);
    load_expect(text, "d.yaml:4:12: 'name' must be 1 to 64 characters; got 65 characters");
    snprintf(text, sizeof text,
             "name: x\ncounties: [a]\ndepartments:\n  - name: F\n    kind: fire\n    tier: 1\n"
             "    county: a\n    units:\n      - {name: \"%s\", kind: engine, home: [29.08, "
             "119.65]}\n" RULE, name);
    load_expect(text, "d.yaml:9:16: 'name' must be 1 to 64 characters; got 65 characters");
    load_expect("name: x\ncounties: [\"a\\tb\"]\n" DEPT RULE,
                "d.yaml:2:12: 'counties' must be printable UTF-8 text");
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"deep.yaml", "edge.yaml", "dir.yaml", "d.yaml"};
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", g_dir, names[i]);
        unlink(path);
    }
    return rmdir(g_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_nesting_refused_fast),
        cmocka_unit_test(test_directory_nesting_refused_fast),
        cmocka_unit_test(test_directory_without_departments_or_rules),
        cmocka_unit_test(test_directory_name_length),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
