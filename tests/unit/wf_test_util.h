/*
 * wf_test_util.h — helpers shared by the linkage workflow's unit tests
 * (test_workflow.c, test_workflow_heal.c): nodes of a given role, a unit
 * node whose certificate names its unit, the example directory
 * (configs/directory.yaml through FM_SRC), unit ids by name, reports.
 * Include after cmocka.h and node_fixture.h.
 */
#ifndef FM_WF_TEST_UTIL_H
#define FM_WF_TEST_UTIL_H

#include <math.h>
#include <stdlib.h>

#include "node/workflow/workflow_int.h"

#define OK(x) assert_int_equal((x), FM_OK)

static struct fx_org org;
static char dir_path[512];

/* Re-enrolls an author under another role (before its first write). */
static inline void set_role(struct fx_node *a, enum fm_role role)
{
    a->cert.role = role;
    a->cfg.role = role;
    fm_cert_sign(&a->cert, &org.root);
    OK(fm_cert_write_file(&a->cert, a->cfg.cert_path));
}

static inline void make_node(struct fx_node *a, const char *name, enum fm_role role)
{
    OK(fx_author(&org, a, name));
    set_role(a, role);
    OK(fx_open(a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
}

/* A station or vehicle node whose certificate names its unit. */
static inline void make_unit_node(struct fx_node *a, const char *name, enum fm_role role,
                           const char *unit)
{
    OK(fx_author(&org, a, name));
    fm_strlcpy(a->cert.unit, unit, sizeof a->cert.unit);
    set_role(a, role);
    OK(fx_open(a, FM_OPEN_IDENTITY | FM_OPEN_NOSYNC_));
}

static inline struct fm_directory *load_dir(void)
{
    struct fm_directory *d = NULL;
    char err[512];
    int rc = fm_directory_load_yaml(dir_path, &d, err, sizeof err);
    if (rc != FM_OK)
        print_error("%s\n", err);
    OK(rc);
    return d;
}

/* A directory YAML text parsed as file "t.yaml" (the tests of the
 * directory's sections), and one that must fail with both texts in its
 * error (file:line:column and what is wrong). */
static inline int dir_parse(const char *text, struct fm_directory **d, char *err, size_t errlen)
{
    return fm_directory_parse_yaml("t.yaml", text, strlen(text), d, err, errlen);
}

static inline void dir_expect_error(const char *text, const char *where, const char *what)
{
    struct fm_directory *d = NULL;
    char err[512];
    assert_int_equal(dir_parse(text, &d, err, sizeof err), FM_ECONFIG);
    assert_null(d);
    if (strstr(err, where) == NULL || strstr(err, what) == NULL)
        fail_msg("want '%s' and '%s' in: %s", where, what, err);
}

/* Finds a unit entity id by name. */
struct find_unit {
    const char *name;
    char id[FM_ID_MAX];
};
static inline int find_unit_cb(void *ctx, const struct fm_unit *u)
{
    struct find_unit *f = ctx;
    if (strcmp(u->name, f->name) == 0) {
        fm_strlcpy(f->id, u->id, sizeof f->id);
        return 1;
    }
    return 0;
}
static inline void unit_id(struct fm_node *n, const char *name, char id[FM_ID_MAX])
{
    struct find_unit f = {.name = name};
    assert_int_equal(fm_node_units(n, find_unit_cb, &f), 1);
    fm_strlcpy(id, f.id, FM_ID_MAX);
}

static inline void report(struct fm_node *n, const char *cat, double lat, double lon, uint8_t prio,
                   char id[FM_ID_MAX])
{
    struct fm_incident_new in = {.category = cat, .priority = prio,
                                 .lat_e7 = (int32_t)lround(lat * 1e7),
                                 .lon_e7 = (int32_t)lround(lon * 1e7)};
    OK(fm_node_incident_report(n, &in, id));
}

/* The seq of an entity id ("tag-seq"). */
static inline uint64_t id_seq(const char *id)
{
    uint64_t v = 0;
    const char *dash = strrchr(id, '-');
    assert_non_null(dash);
    OK(fm_parse_u64(dash + 1, &v));
    return v;
}

/* Runs a file's tests with the organisation and the directory path set. */
static inline int wf_test_main(const char *name, const struct CMUnitTest *tests, size_t n)
{
    const char *src = getenv("FM_SRC");
    snprintf(dir_path, sizeof dir_path, "%s/configs/directory.yaml", src ? src : ".");
    if (fm_crypto_init() != FM_OK || fx_org_init(&org) != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    int rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    fx_org_done(&org);
    return rc;
}

#endif
