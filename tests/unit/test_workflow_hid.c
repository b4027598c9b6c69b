/*
 * test_workflow_hid.c — human codes of incidents and tickets: the author's
 * key prefix and its own counter of incidents and tickets, the same on
 * every node holding the same ops, resolved in any case, kept apart by
 * kind; two authors sharing a prefix get longer codes, and the short form
 * they both had becomes ambiguous, never wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>

#include "node_fixture.h"
#include "wf_test_util.h"

static void code_of(struct fm_node *n, const char *id, char out[FM_HID_MAX])
{
    struct fm_hids *h = NULL;
    OK(fm_node_hids(n, &h));
    assert_true(fm_hids_code(h, id, out));
    fm_hids_free(&h);
    assert_null(h);
}

/* "VVVQ" of a node: its key text's first 4 characters, upper-cased. */
static void author_code(const struct fx_node *a, char out[8])
{
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(a->id.pk, key);
    for (size_t i = 0; i < 4; i++)
        out[i] = (char)toupper((unsigned char)key[i]);
    out[4] = '\0';
}

static void test_codes_count_per_author_and_agree(void **state)
{
    (void)state;
    struct fx_node a, b;
    struct fm_unit_new un = {.name = "E1", .department = "Fire", .kind = "engine", .tier = 1};
    char i1[FM_ID_MAX], i2[FM_ID_MAX], i3[FM_ID_MAX], uid[FM_ID_MAX], tk[1][FM_ID_MAX];
    char ca[8], cb[8], want[FM_HID_MAX], got[FM_HID_MAX], back[FM_ID_MAX];
    make_node(&a, "a", FM_ROLE_CENTRE);
    make_node(&b, "b", FM_ROLE_COUNTY);
    author_code(&a, ca);
    author_code(&b, cb);
    if (strcmp(ca, cb) == 0)
        skip(); /* one chance in a million: the collision test covers it */
    report(a.n, "fire", 1, 1, 2, i1);
    OK(fm_node_incident_note(a.n, i1, "a note is no incident")); /* not counted */
    OK(fm_node_unit_register(a.n, &un, uid));                     /* not counted */
    report(b.n, "fire", 2, 2, 2, i3);
    OK(fx_sync(b.n, a.n, NULL));
    OK(fm_node_dispatch(a.n, i3, (const char *const[]){uid}, 1, NULL, tk));
    report(a.n, "fire", 1, 1, 2, i2);
    OK(fx_sync(a.n, b.n, NULL));
    struct fx_node *both[2] = {&a, &b};
    for (size_t k = 0; k < 2; k++) {
        struct fm_node *n = both[k]->n;
        snprintf(want, sizeof want, "%s-1", ca);
        code_of(n, i1, got);
        assert_string_equal(got, want);
        snprintf(want, sizeof want, "%s-2", ca); /* the ticket counts too */
        code_of(n, tk[0], got);
        assert_string_equal(got, want);
        snprintf(want, sizeof want, "%s-3", ca);
        code_of(n, i2, got);
        assert_string_equal(got, want);
        snprintf(want, sizeof want, "%s-1", cb);
        code_of(n, i3, got);
        assert_string_equal(got, want);
    }
    struct fm_hids *h = NULL;
    size_t nf = 9;
    OK(fm_node_hids(b.n, &h));
    char lower[FM_HID_MAX];
    snprintf(lower, sizeof lower, "%s-3", ca);
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    OK(fm_hids_resolve(h, FM_ENT_INCIDENT, lower, back, NULL, 0, &nf));
    assert_string_equal(back, i2);
    assert_int_equal(nf, 1);
    snprintf(want, sizeof want, "%s-2", ca); /* a ticket's code is no incident's */
    assert_int_equal(fm_hids_resolve(h, FM_ENT_INCIDENT, want, back, NULL, 0, &nf),
                     FM_ENOTFOUND);
    OK(fm_hids_resolve(h, FM_ENT_TICKET, want, back, NULL, 0, &nf));
    assert_string_equal(back, tk[0]);
    snprintf(want, sizeof want, "%s-4", ca);
    assert_int_equal(fm_hids_resolve(h, FM_ENT_INCIDENT, want, back, NULL, 0, &nf),
                     FM_ENOTFOUND);
    const char *bad[] = {"ABC-1", "ABCDEFGH-1", "ABCD-", "ABCD-0", "ABCD-1x", "AB-CD-1",
                         "ABCD-99999999999", "ABCD", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fm_hids_resolve(h, FM_ENT_INCIDENT, bad[i], back, NULL, 0, &nf),
                         FM_EINVAL);
    assert_false(fm_hids_code(h, "nosuch-1", got));
    assert_string_equal(got, "");
    fm_hids_free(&h);
    fx_done(&a);
    fx_done(&b);
}

/* Authors sharing their first 5 key characters get 6-character codes;
 * the 4-character form names both authors' items: ambiguous, with both. */
static void test_codes_lengthen_on_collision(void **state)
{
    (void)state;
    struct fm_hids *h = wf_hids_new();
    char got[FM_HID_MAX], back[FM_ID_MAX], cands[4][FM_ID_MAX];
    size_t nf = 0;
    assert_non_null(h);
    OK(wf_hids_add(h, "abcdexxxx", 7, FM_ENT_INCIDENT, "abcdexxx-7"));
    OK(wf_hids_add(h, "abcdeyyyy", 3, FM_ENT_INCIDENT, "abcdeyyy-3"));
    OK(wf_hids_add(h, "abcdeyyyy", 9, FM_ENT_TICKET, "abcdeyyy-9"));
    OK(wf_hids_add(h, "zzzzqqqqq", 2, FM_ENT_INCIDENT, "zzzzqqqq-2"));
    OK(wf_hids_finish(h));
    assert_true(fm_hids_code(h, "abcdexxx-7", got));
    assert_string_equal(got, "ABCDEX-1");
    assert_true(fm_hids_code(h, "abcdeyyy-9", got));
    assert_string_equal(got, "ABCDEY-2");
    assert_true(fm_hids_code(h, "zzzzqqqq-2", got));
    assert_string_equal(got, "ZZZZ-1");
    assert_int_equal(fm_hids_resolve(h, FM_ENT_INCIDENT, "abcd-1", back, cands, 4, &nf),
                     FM_EAMBIGUOUS);
    assert_int_equal(nf, 2);
    assert_string_equal(cands[0], "abcdexxx-7");
    assert_string_equal(cands[1], "abcdeyyy-3");
    OK(fm_hids_resolve(h, FM_ENT_INCIDENT, "ABCDEY-1", back, cands, 4, &nf));
    assert_string_equal(back, "abcdeyyy-3");
    fm_hids_free(&h);
    fm_hids_free(&h); /* accepts NULL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_count_per_author_and_agree),
        cmocka_unit_test(test_codes_lengthen_on_collision),
    };
    return wf_test_main("workflow_hid", tests, sizeof tests / sizeof tests[0]);
}
