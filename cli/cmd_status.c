/*
 * cmd_status.c — `fieldmesh status`: this node's own store (authors and
 * their heads, op count, digest, size) plus the daemon's uptime and
 * counters when one runs; with the daemon down it says so and shows the
 * store alone.
 *
 * Beside the store it reports field sync's findings: how long ago the
 * centre was heard of, whether this node may sign (a restored backup waits
 * for a peer to confirm its own log), ops stamped far in the future, forks
 * and what became of this node's own ops a fork dropped, then the daemon's
 * limits (status_sync.c), cloned keys and back-dating (cmd_alerts.c),
 * orphaned records, the GPS reader and the dispatcher key.
 */
#include "cli_wf.h" /* cli_orphans_alerts */

#include <stdlib.h>
#include <string.h>

/* Field sync parts of `status`: forks, future-stamped ops, staleness. */
struct fs_status {
    struct fm_fork_info *forks;
    size_t nforks, cap;
    struct fm_author_seen *seen;
    size_t nseen;
    struct fm_self_state self;
    bool have_self;
    uint8_t me[FM_PK_LEN];
    bool have_me;
    struct fm_reentry *reent; /* our own ops lost in a fork, re-entered or not */
    size_t nreent, reent_cap;
};

static int collect_reentry(void *ctx, const struct fm_reentry *e)
{
    struct fs_status *fs = ctx;
    if (fs->nreent == fs->reent_cap) {
        size_t cap = fs->reent_cap ? fs->reent_cap * 2 : 8;
        struct fm_reentry *p = realloc(fs->reent, cap * sizeof(*p));
        if (!p)
            return FM_ENOMEM;
        fs->reent = p;
        fs->reent_cap = cap;
    }
    fs->reent[fs->nreent++] = *e;
    return 0;
}

static size_t reent_count(const struct fs_status *fs, enum fm_reentry_state st)
{
    size_t n = 0;
    for (size_t i = 0; i < fs->nreent; i++)
        n += fs->reent[i].state == st;
    return n;
}

static const char *reent_state_name(enum fm_reentry_state st)
{
    return st == FM_REENTRY_DONE ? "reauthored" : st == FM_REENTRY_SKIPPED ? "skipped" : "pending";
}

static int collect_fork(void *ctx, const struct fm_fork_info *f)
{
    struct fs_status *fs = ctx;
    if (fs->nforks == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 8;
        struct fm_fork_info *p = realloc(fs->forks, cap * sizeof(*p));
        if (!p)
            return FM_ENOMEM;
        fs->forks = p;
        fs->cap = cap;
    }
    fs->forks[fs->nforks++] = *f;
    return 0;
}

static int fs_collect(struct cli *cl, struct fs_status *fs)
{
    int rc;
    memset(fs, 0, sizeof(*fs));
    fs->have_me = cli_self_key(cl, fs->me);
    if ((rc = fm_node_forks(cl->node, collect_fork, fs)) != 0 ||
        (rc = fm_node_fork_reentries(cl->node, collect_reentry, fs)) != 0 ||
        (rc = fm_node_authors_seen(cl->node, &fs->seen, &fs->nseen)) != 0)
        return rc;
    return 0;
}

static void fs_release(struct fs_status *fs)
{
    free(fs->forks);
    free(fs->reent);
    free(fs->seen);
}

static const char *seen_name(const struct fs_status *fs, const uint8_t pk[FM_PK_LEN])
{
    const struct fm_author_seen *a = cli_seen_find(fs->seen, fs->nseen, pk);
    return a ? a->name : "?";
}

static void fs_json_forks(struct cli_json *j, const struct fs_status *fs)
{
    char key[FM_KEY_TEXT_LEN], h1[2 * FM_HASH_LEN + 1], h2[2 * FM_HASH_LEN + 1];
    cli_json_key(j, "forks");
    cli_json_begin_array(j);
    for (size_t i = 0; i < fs->nforks; i++) {
        const struct fm_fork_info *f = &fs->forks[i];
        fm_key_encode(f->author, key);
        cli_hex(f->kept, FM_HASH_LEN, h1);
        cli_hex(f->dropped, FM_HASH_LEN, h2);
        cli_json_begin_object(j);
        cli_json_kstr(j, "author", key);
        cli_json_kstr(j, "author_name", seen_name(fs, f->author));
        cli_json_kuint(j, "seq", f->seq);
        cli_json_kstr(j, "kept", h1);
        cli_json_ktime(j, "kept_at", f->kept_hlc);
        cli_json_kstr(j, "dropped", h2);
        cli_json_ktime(j, "dropped_at", f->dropped_hlc);
        cli_json_kuint(j, "dropped_kind", f->dropped_kind);
        cli_json_key(j, "published");
        cli_json_bool(j, f->published);
        cli_json_key(j, "root");
        cli_json_bool(j, f->root);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}

/* This node's own ops dropped by a fork settling, and what became of them. */
static void fs_json_lost(struct cli_json *j, const struct fs_status *fs)
{
    char h1[2 * FM_HASH_LEN + 1];
    cli_json_key(j, "reauthored_ops");
    cli_json_uint(j, reent_count(fs, FM_REENTRY_DONE));
    cli_json_key(j, "lost_ops");
    cli_json_begin_array(j);
    for (size_t i = 0; i < fs->nreent; i++) {
        const struct fm_reentry *e = &fs->reent[i];
        cli_hex(e->lost_hash, FM_HASH_LEN, h1);
        cli_json_begin_object(j);
        cli_json_kuint(j, "seq", e->lost_seq);
        cli_json_kstr(j, "hash", h1);
        cli_json_kstr(j, "kind", e->kind_name);
        cli_json_ktime(j, "written_at", e->lost_hlc);
        cli_json_kstr(j, "state", reent_state_name(e->state));
        cli_json_kstr(j, "old_id", e->old_id);
        cli_json_key(j, "new_id");
        cli_json_string(j, e->state == FM_REENTRY_DONE ? e->new_id : NULL);
        cli_json_key(j, "reason");
        cli_json_string(j, e->reason);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}

/* Each author seen: ops it stamped in our future, then its role and
 * silence. */
static void fs_json_authors(struct cli_json *j, const struct fs_status *fs, uint64_t now)
{
    char key[FM_KEY_TEXT_LEN];
    cli_json_key(j, "future_ops");
    cli_json_begin_array(j);
    for (size_t i = 0; i < fs->nseen; i++) {
        const struct fm_author_seen *a = &fs->seen[i];
        if (!a->future_ops)
            continue;
        fm_key_encode(a->pk, key);
        cli_json_begin_object(j);
        cli_json_kstr(j, "author", key);
        cli_json_kstr(j, "name", a->name);
        cli_json_kuint(j, "ops", a->future_ops);
        cli_json_kuint(j, "max_ahead_ms", a->future_max_ms);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
    cli_json_key(j, "nodes");
    cli_json_begin_array(j);
    for (size_t i = 0; i < fs->nseen; i++) {
        const struct fm_author_seen *a = &fs->seen[i];
        fm_key_encode(a->pk, key);
        cli_json_begin_object(j);
        cli_json_kstr(j, "author", key);
        cli_json_kstr(j, "name", a->name);
        cli_json_kstr(j, "role", fm_role_name(a->role));
        cli_json_key(j, "last_seen_age_s");
        cli_json_uint(j, now > a->last_seen_ms ? (now - a->last_seen_ms) / 1000 : 0);
        cli_json_key(j, "revoked");
        cli_json_bool(j, a->revoked);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}

/* The most recently heard other centre's silence, then whether this node
 * may sign (null without an identity). */
static void fs_json_self(struct cli_json *j, const struct fs_status *fs, uint64_t now)
{
    bool any = false;
    uint64_t best = 0;
    for (size_t i = 0; i < fs->nseen; i++)
        if (cli_other_centre(&fs->seen[i], fs->have_me ? fs->me : NULL) &&
            fs->seen[i].last_seen_ms > best) {
            best = fs->seen[i].last_seen_ms;
            any = true;
        }
    cli_json_key(j, "centre_last_seen_age_s");
    if (any)
        cli_json_uint(j, now > best ? (now - best) / 1000 : 0);
    else
        cli_json_null(j);
    cli_json_key(j, "may_sign");
    if (fs->have_self)
        cli_json_bool(j, fs->self.may_sign);
    else
        cli_json_null(j);
    cli_json_key(j, "restored_unconfirmed");
    if (fs->have_self)
        cli_json_bool(j, fs->self.restored);
    else
        cli_json_null(j);
    cli_json_key(j, "peers_hold_own_seq");
    if (fs->have_self)
        cli_json_uint(j, fs->self.peers_hold);
    else
        cli_json_null(j);
}

static void fs_json(struct cli_json *j, const struct fs_status *fs, uint64_t now)
{
    fs_json_forks(j, fs);
    fs_json_lost(j, fs);
    fs_json_authors(j, fs, now);
    fs_json_self(j, fs, now);
}

/* Each fork seen: which op was kept and which dropped. */
static void fs_text_forks(const struct fs_status *fs)
{
    if (fs->nforks)
        printf("forks:     %zu detected (two different ops signed with one author and seq)\n",
               fs->nforks);
    for (size_t i = 0; i < fs->nforks; i++) {
        const struct fm_fork_info *f = &fs->forks[i];
        char key[FM_KEY_TEXT_LEN], h1[2 * FM_HASH_LEN + 1], h2[2 * FM_HASH_LEN + 1];
        char t1[CLI_TIME_LEN], t2[CLI_TIME_LEN];
        fm_key_encode(f->author, key);
        cli_hex(f->kept, FM_HASH_LEN, h1);
        cli_hex(f->dropped, FM_HASH_LEN, h2);
        cli_fmt_local(f->kept_hlc, false, t1);
        cli_fmt_local(f->dropped_hlc, false, t2);
        if (f->root)
            printf("  fork:    %s (%.16s) seq %llu: kept %.12s (%s), dropped %.12s (%s)%s\n",
                   seen_name(fs, f->author), key, (unsigned long long)f->seq, h1, t1, h2, t2,
                   f->published ? "" : ", evidence not yet published");
        else
            printf("  fork:    %s (%.16s) seq %llu: %.12s (%s) and %.12s (%s) follow from a "
                   "fork lower down (the root decides)%s\n",
                   seen_name(fs, f->author), key, (unsigned long long)f->seq, h1, t1, h2, t2,
                   f->published ? "" : ", evidence not yet published");
    }
}

/* This node's own ops dropped by a fork settling, and what became of them. */
static void fs_text_lost(const struct fs_status *fs)
{
    if (fs->nreent)
        printf("lost ops:  %zu of this node's own op(s) dropped by a fork settling: "
               "re-authored %zu, skipped %zu, pending %zu\n",
               fs->nreent, reent_count(fs, FM_REENTRY_DONE), reent_count(fs, FM_REENTRY_SKIPPED),
               reent_count(fs, FM_REENTRY_PENDING));
    for (size_t i = 0; i < fs->nreent; i++) {
        const struct fm_reentry *e = &fs->reent[i];
        if (e->state == FM_REENTRY_DONE)
            printf("  re-authored: %s (%s) -> %s\n", e->old_id, e->kind_name,
                   e->new_id);
        else if (e->state == FM_REENTRY_SKIPPED)
            printf("  skipped:  %s (%s): %s\n", e->old_id, e->kind_name, e->reason);
        else
            printf("  pending:  %s (%s): re-entered once this node may sign\n", e->old_id,
                   e->kind_name);
    }
}

static void fs_text(const struct fs_status *fs, uint64_t now)
{
    char ago[32];
    for (size_t i = 0; i < fs->nseen; i++) {
        if (!cli_other_centre(&fs->seen[i], fs->have_me ? fs->me : NULL))
            continue;
        cli_fmt_ago(fs->seen[i].last_seen_ms, now, ago, sizeof(ago));
        printf("centre:    %s last heard of %s\n", fs->seen[i].name, ago);
    }
    if (fs->have_self && fs->self.restored && fs->self.peers_hold <= fs->self.head)
        printf("signing:   REFUSED: restored from a backup (own log up to seq %llu), waiting "
               "for a peer to confirm; `fieldmesh restore --confirmed` if none ever will\n",
               (unsigned long long)fs->self.restored_head);
    else if (fs->have_self && !fs->self.may_sign)
        printf("signing:   REFUSED until this node's own log is recovered from peers (they "
               "hold %llu of its ops, this store %llu)\n",
               (unsigned long long)fs->self.peers_hold, (unsigned long long)fs->self.head);
    for (size_t i = 0; i < fs->nseen; i++) {
        const struct fm_author_seen *a = &fs->seen[i];
        if (a->future_ops)
            printf("clock:     %llu op(s) of %s were stamped up to %llus ahead of our clock "
                   "(stored, flagged; our clock not moved)\n",
                   (unsigned long long)a->future_ops, a->name,
                   (unsigned long long)(a->future_max_ms / 1000));
    }
    fs_text_forks(fs);
    fs_text_lost(fs);
}


static void fmt_uptime(uint64_t ms, char *out, size_t cap)
{
    uint64_t s = ms / 1000;
    snprintf(out, cap, "%lluh%02llum%02llus", (unsigned long long)(s / 3600),
             (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

/* Everything `status` reads before printing: the store, the field sync
 * parts, the daemon's view (up false when none answers), the integrity
 * alerts and the dispatcher key. */
struct st_view {
    struct fm_node_stats st;
    struct fm_head *heads;
    size_t nheads;
    char digest[2 * FM_HASH_LEN + 1];
    struct fs_status fs;
    struct fm_daemon_info info;
    struct fm_peer_info *peers;
    size_t npeers, connected, refused;
    bool up;
    struct cli_alerts al; /* cloned keys, back-dating (cmd_alerts.c) */
    bool have_self;
    char self[FM_KEY_TEXT_LEN];
    uint32_t dk_gen; /* need to know (docs/security.md) */
    int dk_rc;
};

static void st_release(struct st_view *v)
{
    free(v->heads);
    free(v->peers);
    fs_release(&v->fs);
    cli_alerts_release(&v->al);
}

/* Fills v (zeroed first; st_release frees it whatever this returns);
 * a failure has been reported and its exit code is returned. */
static int st_collect(struct cli *cl, struct st_view *v)
{
    uint8_t d[FM_HASH_LEN], selfpk[FM_PK_LEN];
    int rc;
    memset(v, 0, sizeof(*v));
    if ((rc = fm_node_stats(cl->node, &v->st)) != 0 || (rc = fm_node_digest(cl->node, d)) != 0 ||
        (rc = fm_node_heads(cl->node, &v->heads, &v->nheads)) != 0 ||
        (rc = fs_collect(cl, &v->fs)) != 0)
        return cli_error(cl, rc, "cannot read the store: %s", fm_strerror(rc));
    cli_hex(d, sizeof(d), v->digest);
    /* may this node sign? needs the identity; without one, not shown */
    v->fs.have_self = fm_node_self_state(cl->node, &v->fs.self) == 0;
    v->up = fm_node_daemon_peers(&cl->cfg, &v->info, &v->peers, &v->npeers) == 0;
    if ((rc = cli_alerts_collect(cl, &v->al)) != 0)
        return cli_error(cl, rc, "cannot read the store: %s", fm_strerror(rc));
    for (size_t i = 0; i < v->npeers; i++) {
        v->connected += v->peers[i].connected;
        v->refused += v->peers[i].refused_us;
    }
    v->have_self = cli_self_key(cl, selfpk);
    if (v->have_self)
        fm_key_encode(selfpk, v->self);
    v->dk_rc = fm_node_dispatch_key(cl->node, &v->dk_gen, NULL);
    return 0;
}

static void st_json_heads(struct cli_json *j, const struct st_view *v)
{
    cli_json_key(j, "heads");
    cli_json_begin_array(j);
    for (size_t i = 0; i < v->nheads; i++) {
        char key[FM_KEY_TEXT_LEN], hash[2 * FM_HASH_LEN + 1];
        fm_key_encode(v->heads[i].author, key);
        cli_hex(v->heads[i].hash, FM_HASH_LEN, hash);
        cli_json_begin_object(j);
        cli_json_kstr(j, "author", key);
        cli_json_kuint(j, "seq", v->heads[i].seq);
        cli_json_kstr(j, "head", hash);
        cli_json_key(j, "revoked_after");
        if (v->heads[i].limit != UINT64_MAX)
            cli_json_uint(j, v->heads[i].limit);
        else
            cli_json_null(j);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}

/* The node and its store, the daemon's uptime and peer counts. */
static void st_json_node(struct cli_json *j, const struct cli *cl, const struct st_view *v)
{
    cli_json_kstr(j, "name", cl->cfg.name);
    cli_json_kstr(j, "role", fm_role_name(cl->cfg.role));
    cli_json_key(j, "key");
    if (v->have_self)
        cli_json_string(j, v->self);
    else
        cli_json_null(j);
    cli_json_kstr(j, "digest", v->digest);
    cli_json_kuint(j, "ops", v->st.ops);
    cli_json_kuint(j, "authors", v->st.authors);
    cli_json_kuint(j, "entities", v->st.entities);
    cli_json_kuint(j, "store_bytes", v->st.store_bytes);
    cli_json_kuint(j, "map_size", v->st.map_size);
    cli_json_kuint(j, "rejected_ops", v->st.rejected);
    cli_json_ktime(j, "clock", v->st.hlc);
    cli_json_key(j, "daemon_running");
    cli_json_bool(j, v->up);
    cli_json_key(j, "uptime_s");
    if (v->up)
        cli_json_uint(j, v->info.uptime_ms / 1000);
    else
        cli_json_null(j);
    cli_json_key(j, "peers_connected");
    if (v->up)
        cli_json_uint(j, v->connected);
    else
        cli_json_null(j);
    cli_json_kuint(j, "peers_configured", cl->cfg.npeers);
    cli_json_kuint(j, "peers_refusing_us", v->refused);
}

static void st_json(struct cli *cl, const struct st_view *v, const struct cli_status_in *ain)
{
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_object(&j);
    st_json_node(&j, cl, v);
    st_json_heads(&j, v);
    fs_json(&j, &v->fs, fm_now_ms());
    cli_status_sync_json(&j, ain);
    cli_alerts_json(&j, &v->al, ain);
    cli_orphans_alerts(cl, &j);
    cli_status_gps_json(&j, cl->node, &cl->cfg);
    cli_json_key(&j, "dispatcher_key"); /* need to know: the generation held, or null */
    if (v->dk_rc == 0)
        cli_json_uint(&j, v->dk_gen);
    else
        cli_json_null(&j);
    cli_json_end_object(&j);
    cli_json_finish(&j);
}

static void st_text_node(const struct cli *cl, const struct st_view *v)
{
    char up_s[32] = "not running";
    if (v->up)
        fmt_uptime(v->info.uptime_ms, up_s, sizeof(up_s));
    printf("node:      %s (%s)\n", cl->cfg.name, fm_role_name(cl->cfg.role));
    printf("key:       %s\n", v->have_self ? v->self : "(no identity yet: run fieldmesh keygen)");
    printf("digest:    %s\n", v->digest);
    printf("ops:       %llu from %llu author(s), %llu entities, %llu rejected\n",
           (unsigned long long)v->st.ops, (unsigned long long)v->st.authors,
           (unsigned long long)v->st.entities, (unsigned long long)v->st.rejected);
    printf("store:     %.1f MiB used of a %.0f MiB map\n", v->st.store_bytes / 1048576.0,
           v->st.map_size / 1048576.0);
    printf("daemon:    %s", up_s);
    if (v->up)
        printf(", %zu of %zu peer(s) connected, %llu ops ingested, %llu refused\n",
               v->connected, v->npeers, (unsigned long long)v->info.ops_stored,
               (unsigned long long)v->info.ops_rejected);
    else
        printf("\n");
}

static int st_text_heads(const struct st_view *v)
{
    static const char *const headers[] = { "AUTHOR", "SEQ", "HEAD", "REVOKED AFTER" };
    struct cli_table t;
    int rc = 0;
    cli_table_init(&t, headers, CLI_NELEM(headers));
    for (size_t i = 0; i < v->nheads && rc == 0; i++) {
        char key[FM_KEY_TEXT_LEN], hash[2 * FM_HASH_LEN + 1], seq[24], lim[24];
        fm_key_encode(v->heads[i].author, key);
        cli_hex(v->heads[i].hash, FM_HASH_LEN, hash);
        hash[12] = '\0';
        snprintf(seq, sizeof(seq), "%llu", (unsigned long long)v->heads[i].seq);
        snprintf(lim, sizeof(lim), v->heads[i].limit != UINT64_MAX ? "%llu" : "-",
                 (unsigned long long)v->heads[i].limit);
        const char *cells[] = { key, seq, hash, lim };
        rc = cli_table_add(&t, cells, 60);
    }
    if (rc == 0)
        cli_table_print(&t, stdout);
    cli_table_release(&t);
    return rc;
}

static int st_text(struct cli *cl, const struct st_view *v, const struct cli_status_in *ain)
{
    st_text_node(cl, v);
    fs_text(&v->fs, fm_now_ms());
    cli_status_sync_text(ain);
    cli_alerts_text(&v->al, ain);
    cli_orphans_alerts(cl, NULL);
    cli_status_gps_text(cl->node, &cl->cfg, fm_now_ms());
    if (v->dk_rc == 0)
        printf("callers:   this node reads and seals them (dispatcher key %u)\n", v->dk_gen);
    else if (cl->cfg.role == FM_ROLE_CENTRE || cl->cfg.role == FM_ROLE_COUNTY ||
             cl->cfg.role == FM_ROLE_ADMIN)
        printf("callers:   NO dispatcher key here: callers show sealed and reports are "
               "written without them (org dispatch-key, then trust publish)\n");
    if (v->refused)
        printf("warning:   %zu peer(s) refuse this node's handshake: not admitted "
               "(revoked or not enrolled?); see fieldmesh peers\n"
               "           a node enrolled after the others is admitted once a centre, county "
               "or admin node runs: fieldmesh trust publish ITS.cert\n", v->refused);
    printf("\n");
    return st_text_heads(v);
}

static int run_status(struct cli *cl, int argc, char **argv)
{
    enum { ST_JSON };
    static const struct cli_opt opts[] = { [ST_JSON] = { "json", false } };
    struct cli_args a;
    struct st_view v; /* zeroed by st_collect */
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    /* with the identity when it loads (to say whether this node may sign),
     * else read-only; one LMDB environment per process either way */
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_crypto(cl)) != 0)
        return rc;
    if (fm_node_open(&cl->node, &cl->cfg, FM_OPEN_IDENTITY) != 0 &&
        (rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    if ((rc = st_collect(cl, &v)) != 0) {
        st_release(&v);
        return rc;
    }
    const struct cli_status_in ain = { v.peers, v.npeers, v.up, &v.info, v.fs.seen, v.fs.nseen,
                                       cl->cfg.path };
    if (cli_flag(&a, ST_JSON))
        st_json(cl, &v, &ain);
    else
        rc = st_text(cl, &v, &ain);
    st_release(&v);
    if (rc != 0)
        return cli_error(cl, rc, "cannot print the status: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_status = {
    NULL, "status", "[--json]", "show this node: authors and heads, ops, digest, store size, uptime",
    "Reads the local store (works with the daemon down) and, when fieldmeshd runs,\n"
    "its uptime and counters.\n\n"
    "  --json   {name, role, key, digest, ops, authors, entities, store_bytes, map_size,\n"
    "           rejected_ops, clock, daemon_running, uptime_s, peers_connected,\n"
    "           peers_configured, dispatcher_key (generation held, or null),\n"
    "           tree: {root, root_name, root_role, root_is_us, hops, epoch, parent,\n"
    "           parent_name, children} or null (no daemon, or gossip.wire_version 4),\n"
    "           heads: [{author, seq, head, revoked_after}],\n"
    "           forks: [{author, author_name, seq, kept, kept_at, dropped, dropped_at,\n"
    "           dropped_kind, published, root}], reauthored_ops, lost_ops: [{seq, hash, kind,\n"
    "           written_at, state (reauthored|skipped|pending), old_id, new_id, reason}],\n"
    "           future_ops: [{author, name, ops,\n"
    "           max_ahead_ms}], nodes: [{author, name, role, last_seen_age_s, revoked}],\n"
    "           centre_last_seen_age_s, may_sign, restored_unconfirmed, peers_hold_own_seq,\n"
    "           cloned_keys: [{author, name, evidence (two_connections|diverging_writers),\n"
    "           seq}], clone_alerts, backdated_ops: [{author, name, late_ops, first_late_seq,\n"
    "           last_late_seq, expired_at, detected_at, beyond_expiry_ops, last_good_seq,\n"
    "           revoke_command}], orphans: [as incident list --orphans --json]}\n",
    run_status,
};
