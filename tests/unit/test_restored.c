/*
 * test_restored.c — the "restored, unconfirmed" state of a node put back
 * from a backup (node/replica/restored.c, docs/service.md §6): while the
 * marker is there the node signs nothing; a neighbour's vector ends it
 * only when it holds our log at least as far as the backup and no further
 * than our store (a neighbour that never heard of us, one older than the
 * backup, or one holding more, which sync must pull first, confirms
 * nothing); the operator's confirmation ends it too, once; an unreadable
 * marker keeps the node careful rather than free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "tests/unit/node_fixture.h"
#include "tests/unit/node_test_util.h"

static void mark(struct fx_node *x, const char *text)
{
    char p[FM_PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/restored", x->cfg.data_dir);
    OK(fm_file_write(p, text, strlen(text), 0600, false));
}

static bool restored(struct fx_node *x, uint64_t *head)
{
    struct fm_self_state st;
    OK(fm_node_self_state(x->n, &st));
    *head = st.restored_head;
    assert_true(st.may_sign == !st.restored);
    return st.restored;
}

static void test_peer_confirms_only_the_right_seq(void **state)
{
    (void)state;
    struct fx_node x;
    char id[FM_ID_MAX];
    uint64_t head;
    struct fm_incident_new in = { .category = "fire", .lat_e7 = 1, .lon_e7 = 1 };
    fx_open_author(&x, "restored");
    OK(fm_node_incident_report(x.n, &in, id));
    OK(fm_node_incident_report(x.n, &in, id)); /* own log: cert, 2, 3 */
    mark(&x, "restored\nhead 3\nbackup_ms 1\n");
    assert_true(restored(&x, &head));
    assert_int_equal(head, 3);
    assert_int_equal(fm_node_incident_report(x.n, &in, id), FM_EFORK);
    OK(fm_node_own_vector(x.n, 0)); /* never heard of us */
    OK(fm_node_own_vector(x.n, 2)); /* older than the backup */
    OK(fm_node_own_claim(x.n, 5));
    OK(fm_node_own_vector(x.n, 5)); /* holds more: pull first */
    assert_true(restored(&x, &head));
    assert_int_equal(fm_node_incident_report(x.n, &in, id), FM_EFORK);
    OK(fm_node_own_claim(x.n, 3)); /* as after the pull: it holds what we hold */
    OK(fm_node_own_vector(x.n, 3));
    assert_false(restored(&x, &head));
    OK(fm_node_incident_report(x.n, &in, id));
    assert_int_equal(fx_head_seq(x.n, x.id.pk), 4);
    fx_done(&x);
}

static void test_operator_confirms_once(void **state)
{
    (void)state;
    struct fx_node x;
    char id[FM_ID_MAX];
    uint64_t head;
    struct fm_incident_new in = { .category = "fire", .lat_e7 = 1, .lon_e7 = 1 };
    fx_open_author(&x, "lone");
    OK(fm_node_incident_report(x.n, &in, id));
    assert_int_equal(fm_restored_confirm(&x.cfg), FM_ENOTFOUND); /* not restored */
    mark(&x, "restored\nhead 2\n");
    assert_true(fm_restored_pending(&x.cfg, &head));
    assert_int_equal(fm_node_incident_report(x.n, &in, id), FM_EFORK);
    OK(fm_restored_confirm(&x.cfg));
    assert_false(fm_restored_pending(&x.cfg, &head));
    OK(fm_node_incident_report(x.n, &in, id));
    assert_int_equal(fm_restored_confirm(&x.cfg), FM_ENOTFOUND);
    fx_done(&x);
}

static void test_unreadable_marker_stays_careful(void **state)
{
    (void)state;
    struct fx_node x;
    char id[FM_ID_MAX];
    uint64_t head = 99;
    struct fm_incident_new in = { .category = "fire", .lat_e7 = 1, .lon_e7 = 1 };
    fx_open_author(&x, "garbled");
    OK(fm_node_incident_report(x.n, &in, id));
    mark(&x, "head twelve\n");
    assert_true(restored(&x, &head));
    assert_int_equal(head, 0);
    assert_int_equal(fm_node_incident_report(x.n, &in, id), FM_EFORK);
    OK(fm_node_own_vector(x.n, 0));
    assert_true(restored(&x, &head));
    OK(fm_node_own_vector(x.n, 2)); /* a peer holding our log, no more than us */
    assert_false(restored(&x, &head));
    fx_done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_confirms_only_the_right_seq),
        cmocka_unit_test(test_operator_confirms_once),
        cmocka_unit_test(test_unreadable_marker_stays_careful),
    };
    return fx_node_main("restored", tests, sizeof tests / sizeof tests[0]);
}
