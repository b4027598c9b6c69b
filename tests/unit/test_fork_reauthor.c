/*
 * test_fork_reauthor.c — a node restored from an old backup loses nothing
 * it wrote after the restore.
 *
 * The laptop's store is copied, it writes more (which the peer receives),
 * the old copy is put back and the laptop writes again: a report, a note
 * on that report and a note on an incident from before the backup. Sync
 * with the peer settles the fork on the peer's (older) branch, so the
 * laptop's three ops are cut. The laptop then signs them again as new ops:
 * every text is in the state of both nodes, the note hangs on the new copy
 * of the report (not on the op that now holds the old seq), digests agree,
 * and nothing is re-entered twice after reopening, a rebuild, the evidence
 * arriving again or a later write. A second case: the first local write
 * after settling re-enters the lost ops before its own op, and a peer that
 * cut another author's ops keeps them but never signs them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <fcntl.h>

#include "tests/unit/node_fixture.h"
#include "tests/unit/node_test_util.h"

static void reopen(struct fx_node *x)
{
    fm_node_close(&x->n);
    OK(fx_open(x, FM_OPEN_IDENTITY | NOSYNC));
}

struct entries {
    struct fm_reentry e[16];
    size_t n;
};

static int collect_entry(void *ctx, const struct fm_reentry *e)
{
    struct entries *l = ctx;
    if (l->n < 16)
        l->e[l->n++] = *e;
    return 0;
}

static size_t entries(struct fm_node *n, struct entries *l)
{
    memset(l, 0, sizeof *l);
    OK(fm_node_fork_reentries(n, collect_entry, l));
    return l->n;
}

/* The id of the incident whose desc is `desc`, "" if none. */
static void find_desc(struct fm_node *n, const char *desc, char id[FM_ID_MAX])
{
    struct ids l;
    id[0] = '\0';
    list_incidents(n, -1, NULL, &l);
    for (size_t i = 0; i < l.n; i++) {
        struct fm_incident inc;
        OK(fm_node_incident_get(n, l.id[i], &inc));
        if (strcmp(inc.desc, desc) == 0)
            fm_strlcpy(id, inc.id, FM_ID_MAX);
    }
}

static bool has_note(struct fm_node *n, const char *id, const char *text)
{
    struct tl t = {0};
    OK(fm_node_incident_timeline(n, id, collect_tl, &t));
    for (size_t i = 0; i < t.n; i++)
        if (strcmp(t.e[i].kind, "note") == 0 && strcmp(t.e[i].text, text) == 0)
            return true;
    return false;
}

/* Everything the laptop wrote after the restore is in n's state. */
static void assert_content(struct fm_node *n, const char *old_id, const char *lost_id)
{
    char rid[FM_ID_MAX];
    struct fm_incident inc;
    find_desc(n, "after restore", rid);
    assert_string_not_equal(rid, "");
    assert_string_not_equal(rid, lost_id); /* a new op, not the old seq */
    OK(fm_node_incident_get(n, rid, &inc));
    assert_string_equal(inc.address, "Depot Road 7");
    assert_string_equal(inc.caller, ""); /* no dispatcher key: left out (test_need_to_know) */
    assert_int_equal(inc.priority, 2);
    assert_string_equal(inc.category, "chemical");
    assert_true(has_note(n, rid, "crew needs masks"));
    assert_true(has_note(n, old_id, "second call about the old fire"));
    /* the old seq names the peer-held report now; the note is not on it */
    OK(fm_node_incident_get(n, lost_id, &inc));
    assert_string_equal(inc.desc, "before loss");
    assert_false(has_note(n, lost_id, "crew needs masks"));
}

/* x writes A, is backed up, writes "before loss" (which p receives), is
 * restored and writes a report, a note on it and a note on A. On return
 * x is open with those three ops, p holds x's other branch. */
static void restored_laptop(struct fx_node *x, struct fx_node *p, char old_id[FM_ID_MAX],
                            char lost_id[FM_ID_MAX])
{
    char save[sizeof x->dir + 16], id[FM_ID_MAX];
    struct fm_ingest_result res;
    struct fm_incident_new a = {.category = "fire", .lat_e7 = 1, .lon_e7 = 1, .desc = "old fire"};
    struct fm_incident_new b = {.category = "fire", .lat_e7 = 2, .lon_e7 = 2,
                                .desc = "before loss"};
    struct fm_incident_new r = {.category = "chemical", .priority = 2, .lat_e7 = 3,
                                .lon_e7 = 3, .address = "Depot Road 7", .caller = "5550100",
                                .desc = "after restore"};
    fx_open_author(x, "laptop");
    fx_open_author(p, "peer");
    OK(fm_node_incident_report(x->n, &a, old_id));
    fm_node_close(&x->n);
    snprintf(save, sizeof save, "%s/backup.mdb", x->dir);
    fx_store_copy(x, save, false);
    OK(fx_open(x, FM_OPEN_IDENTITY | NOSYNC));
    OK(fm_node_incident_report(x->n, &b, lost_id));
    OK(fx_sync(x->n, p->n, &res));
    fm_node_close(&x->n);
    fx_store_copy(x, save, true);
    OK(fx_open(x, FM_OPEN_IDENTITY | NOSYNC));
    sleep_ms(5); /* the restored clock is behind: stamp after "before loss" */
    OK(fm_node_incident_report(x->n, &r, id));
    assert_string_equal(id, lost_id); /* the same seq, another op: a fork */
    OK(fm_node_incident_note(x->n, id, "crew needs masks"));
    OK(fm_node_incident_note(x->n, old_id, "second call about the old fire"));
}

static void test_restored_store_reenters(void **state)
{
    (void)state;
    struct fx_node x, p;
    struct fm_ingest_result res;
    struct fm_self_state self;
    struct entries l;
    char old_id[FM_ID_MAX], lost_id[FM_ID_MAX];
    size_t count;
    restored_laptop(&x, &p, old_id, lost_id);
    assert_int_equal(ops_count(x.n), 5);

    /* sync: the fork settles on the peer's branch, the laptop's is cut */
    OK(fx_sync(p.n, x.n, &res));
    OK(fx_sync(p.n, x.n, &res)); /* the kept branch */
    OK(fx_sync(x.n, p.n, &res));
    OK(fm_node_self_state(x.n, &self));
    assert_true(self.may_sign);
    assert_int_equal(self.head, 3);
    assert_int_equal(entries(x.n, &l), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(l.e[i].state, FM_REENTRY_PENDING);

    OK(fm_node_fork_reenter(x.n, &count));
    assert_int_equal(count, 3);
    assert_int_equal(entries(x.n, &l), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(l.e[i].state, FM_REENTRY_DONE);
        assert_int_equal(l.e[i].lost_seq, 3 + i);
        assert_int_equal(l.e[i].new_seq, 4 + i); /* head+1.., original order */
        assert_null(l.e[i].reason);
    }
    assert_string_equal(l.e[0].old_id, lost_id);
    OK(fx_sync(x.n, p.n, &res));
    OK(fx_sync(p.n, x.n, &res));
    assert_content(x.n, old_id, lost_id);
    assert_content(p.n, old_id, lost_id);
    assert_int_equal(fx_digest_eq(x.n, p.n), 1);

    /* exactly once: again, after reopening, a rebuild, the evidence */
    OK(fm_node_fork_reenter(x.n, &count));
    assert_int_equal(count, 0);
    reopen(&x);
    OK(fm_node_fork_reenter(x.n, &count));
    assert_int_equal(count, 0);
    OK(fm_node_rebuild(x.n));
    OK(fm_node_fork_reenter(x.n, &count));
    assert_int_equal(count, 0);
    size_t published = 0;
    OK(fm_node_fork_publish(x.n, &published)); /* the peer learns of it from this */
    assert_int_equal(published, 1);
    OK(fx_sync(x.n, p.n, &res));
    OK(fx_sync(p.n, x.n, &res));
    OK(fx_sync(x.n, p.n, &res)); /* the same evidence again */
    OK(fm_node_fork_reenter(x.n, &count));
    assert_int_equal(count, 0);
    assert_int_equal(ops_count(x.n), ops_count(p.n));
    struct fm_incident_new in = {.category = "flood", .lat_e7 = 5, .lon_e7 = 5};
    char id[FM_ID_MAX];
    uint64_t before = ops_count(x.n);
    OK(fm_node_incident_report(x.n, &in, id));
    assert_int_equal(ops_count(x.n), before + 1);
    assert_int_equal(entries(x.n, &l), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(l.e[i].new_seq, 4 + i);
    OK(fx_sync(x.n, p.n, &res));
    assert_int_equal(fx_digest_eq(x.n, p.n), 1);
    assert_content(x.n, old_id, lost_id);
    /* the peer cut nothing, holds nothing to re-enter */
    assert_int_equal(entries(p.n, &l), 0);
    fx_done(&x);
    fx_done(&p);
}

static void test_first_write_reenters(void **state)
{
    (void)state;
    struct fx_node x, p, q, r;
    struct fm_ingest_result res;
    struct entries l;
    struct fm_self_state self;
    char old_id[FM_ID_MAX], lost_id[FM_ID_MAX], id[FM_ID_MAX], tag[FM_KEY_TAG_LEN + 1];
    size_t count;
    restored_laptop(&x, &p, old_id, lost_id);
    fx_open_author(&r, "stale"); /* will hold the laptop's cut branch and hear of nothing */
    OK(fx_sync(x.n, r.n, &res));
    /* q receives the laptop's new branch first, then the peer's: q cuts
     * the laptop's ops too, keeps them, and never signs them */
    fx_open_author(&q, "third");
    OK(fx_sync(x.n, q.n, &res));
    OK(fx_sync(p.n, q.n, &res));
    OK(fx_sync(p.n, q.n, &res));
    OK(fm_node_fork_reenter(q.n, &count));
    assert_int_equal(count, 0);
    assert_int_equal(entries(q.n, &l), 0);

    /* while behind its own log the laptop refuses to sign (and re-enters
     * nothing); once it holds the kept branch, its next write re-enters
     * the three lost ops first, then its own */
    OK(fx_sync(p.n, x.n, &res));
    struct fm_incident_new in = {.category = "flood", .lat_e7 = 5, .lon_e7 = 5, .desc = "new"};
    assert_int_equal(fm_node_incident_report(x.n, &in, id), FM_EFORK);
    assert_int_equal(entries(x.n, &l), 3);
    assert_int_equal(l.e[0].state, FM_REENTRY_PENDING);
    OK(fx_sync(p.n, x.n, &res));
    OK(fm_node_incident_report(x.n, &in, id));
    key_tag(x.id.pk, tag);
    char want[FM_ID_MAX];
    snprintf(want, sizeof want, "%s-7", tag); /* 3 kept, 4..6 re-entered */
    assert_string_equal(id, want);
    OK(fx_sync(x.n, p.n, &res));
    OK(fx_sync(x.n, q.n, &res));
    assert_content(p.n, old_id, lost_id);
    assert_content(q.n, old_id, lost_id);
    assert_int_equal(fx_digest_eq(x.n, q.n), 1);
    assert_int_equal(fx_digest_eq(p.n, q.n), 1);
    OK(fm_node_fork_reenter(x.n, &count));
    assert_int_equal(count, 0);

    /* the stale store meets a re-entered op at a seq where it still holds
     * a cut one (older stamp) and publishes that pair as evidence: the
     * laptop, which cut that branch itself, keeps its log and may sign */
    struct fx_ops xo = {0};
    OK(fx_collect(x.n, x.id.pk, &xo));
    uint64_t head = xo.n;
    OK(fx_ingest(r.n, &xo, 4, 1, &res)); /* seq 5 */
    assert_int_equal(res.err, FM_EFORK);
    size_t published = 0;
    OK(fm_node_fork_publish(r.n, &published));
    assert_int_equal(published, 1);
    OK(fx_sync(r.n, x.n, &res));
    OK(fx_sync(r.n, q.n, &res));
    OK(fm_node_self_state(x.n, &self));
    assert_int_equal(self.head, head);
    assert_true(self.may_sign);
    OK(fm_node_incident_report(x.n, &in, id));
    OK(fx_sync(x.n, q.n, &res));
    OK(fm_node_self_state(q.n, &self)); /* q cut that branch too */
    struct fm_head *heads;
    size_t nh;
    OK(fm_node_heads(q.n, &heads, &nh));
    for (size_t i = 0; i < nh; i++)
        if (memcmp(heads[i].author, x.id.pk, FM_PK_LEN) == 0)
            assert_int_equal(heads[i].seq, head + 1);
    free(heads);
    assert_content(q.n, old_id, lost_id);
    fx_ops_free(&xo);
    fx_done(&x);
    fx_done(&p);
    fx_done(&q);
    fx_done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restored_store_reenters),
        cmocka_unit_test(test_first_write_reenters),
    };
    return fx_node_main("fork_reauthor", tests, sizeof tests / sizeof tests[0]);
}
