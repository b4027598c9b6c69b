/*
 * cmd_daemon.c — operator views of replication: `peers` asks the running
 * fieldmeshd about each peer (connected, last heard, what each side lacks,
 * clock skew); `status` shows this node's own store (authors and their
 * heads, op count, digest, size) plus the daemon's uptime and counters when
 * one runs. Both work with the daemon down: `peers` then lists the
 * configured peers as not connected, `status` says the daemon is not
 * running.
 *
 * Field sync adds: how long ago each peer and the centre were heard from
 * by any path (their newest op or presence record, not only a direct
 * message), peers whose key was revoked or expired (connections dropped),
 * rate limits and queued bytes, fork evidence, ops stamped far in the
 * future, and the staleness helpers `incident list --stale-after` uses.
 */
#include "cli_wf.h" /* cli_orphans_alerts */

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* authors seen (staleness)                                            */
/* ------------------------------------------------------------------ */

struct cli_stale {
    struct fm_node *node;
    uint64_t threshold_s, now_ms;
    struct fm_author_seen *seen;
    size_t nseen;
    uint8_t self[FM_PK_LEN];
    bool have_self;
};

static int seen_cmp(const void *key, const void *elem)
{
    return memcmp(key, ((const struct fm_author_seen *)elem)->pk, FM_PK_LEN);
}

static const struct fm_author_seen *seen_find(const struct fm_author_seen *a, size_t n,
                                              const uint8_t pk[FM_PK_LEN])
{
    return n ? bsearch(pk, a, n, sizeof(*a), seen_cmp) : NULL;
}

static bool self_key(const struct cli *cl, uint8_t pk[FM_PK_LEN])
{
    char pubpath[FM_PATH_MAX + 8];
    snprintf(pubpath, sizeof(pubpath), "%s.pub", cl->cfg.key_path);
    return fm_key_read_file(pubpath, pk) == 0;
}

/* A centre other than this node: the one whose silence matters. */
static bool other_centre(const struct fm_author_seen *a, const uint8_t *me)
{
    return a->role == FM_ROLE_CENTRE && (me == NULL || memcmp(a->pk, me, FM_PK_LEN) != 0);
}

int cli_stale_open(struct cli *cl, uint64_t threshold_s, struct cli_stale **out)
{
    struct cli_stale *s = calloc(1, sizeof(*s));
    int rc;
    *out = NULL;
    if (!s)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    s->node = cl->node;
    s->threshold_s = threshold_s;
    s->now_ms = fm_now_ms();
    s->have_self = self_key(cl, s->self);
    if ((rc = fm_node_authors_seen(cl->node, &s->seen, &s->nseen)) != 0) {
        free(s);
        return cli_error(cl, rc, "cannot read the store: %s", fm_strerror(rc));
    }
    *out = s;
    return 0;
}

void cli_stale_check(struct cli_stale *s, const char *incident_id, struct cli_stale_info *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->text, sizeof(out->text), "?");
    if (fm_node_incident_last_author(s->node, incident_id, out->by) != 0)
        return;
    const struct fm_author_seen *a = seen_find(s->seen, s->nseen, out->by);
    if (!a)
        return;
    out->known = true;
    fm_strlcpy(out->by_name, a->name, sizeof(out->by_name));
    if (s->have_self && memcmp(out->by, s->self, FM_PK_LEN) == 0) {
        out->silent_s = 0; /* this node: never silent to itself */
    } else {
        out->silent_s = s->now_ms > a->last_seen_ms ? (s->now_ms - a->last_seen_ms) / 1000 : 0;
    }
    out->stale = out->silent_s > s->threshold_s;
    if (out->stale)
        snprintf(out->text, sizeof(out->text), "yes: %s silent %llus", a->name,
                 (unsigned long long)out->silent_s);
    else
        snprintf(out->text, sizeof(out->text), "no");
}

void cli_stale_json(struct cli_json *j, const struct cli_stale_info *si)
{
    char key[FM_KEY_TEXT_LEN];
    cli_json_key(j, "stale");
    cli_json_bool(j, si->stale);
    cli_json_key(j, "last_changed_by");
    if (si->known) {
        fm_key_encode(si->by, key);
        cli_json_string(j, key);
    } else {
        cli_json_null(j);
    }
    cli_json_key(j, "last_changed_by_name");
    if (si->known)
        cli_json_string(j, si->by_name);
    else
        cli_json_null(j);
    cli_json_key(j, "silent_s");
    if (si->known)
        cli_json_uint(j, si->silent_s);
    else
        cli_json_null(j);
}

void cli_stale_close(struct cli_stale **sp)
{
    if (!sp || !*sp)
        return;
    free((*sp)->seen);
    free(*sp);
    *sp = NULL;
}

/* "12s ago", "3m ago", "never" */
static void fmt_ago(uint64_t then_ms, uint64_t now_ms, char *out, size_t cap)
{
    if (then_ms == 0) {
        snprintf(out, cap, "never");
        return;
    }
    uint64_t s = now_ms > then_ms ? (now_ms - then_ms) / 1000 : 0;
    if (s < 120)
        snprintf(out, cap, "%llus ago", (unsigned long long)s);
    else if (s < 7200)
        snprintf(out, cap, "%llum ago", (unsigned long long)(s / 60));
    else
        snprintf(out, cap, "%lluh ago", (unsigned long long)(s / 3600));
}

static void fmt_uptime(uint64_t ms, char *out, size_t cap)
{
    uint64_t s = ms / 1000;
    snprintf(out, cap, "%lluh%02llum%02llus", (unsigned long long)(s / 3600),
             (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

/* ------------------------------------------------------------------ */
/* peers                                                               */
/* ------------------------------------------------------------------ */

static void peer_json(struct cli_json *j, const struct fm_peer_info *p, bool daemon_up,
                      uint64_t now, const struct fm_author_seen *seen)
{
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(p->pk, key);
    cli_json_begin_object(j);
    cli_json_kstr(j, "name", p->name);
    cli_json_kstr(j, "endpoint", p->endpoint);
    cli_json_kstr(j, "key", key);
    cli_json_key(j, "configured");
    cli_json_bool(j, p->configured);
    cli_json_key(j, "connected");
    cli_json_bool(j, daemon_up && p->connected);
    cli_json_key(j, "last_heard_ms");
    if (p->last_heard_ms != 0)
        cli_json_uint(j, p->last_heard_ms);
    else
        cli_json_null(j);
    cli_json_key(j, "last_heard_age_s");
    if (p->last_heard_ms != 0)
        cli_json_uint(j, now > p->last_heard_ms ? (now - p->last_heard_ms) / 1000 : 0);
    else
        cli_json_null(j);
    cli_json_key(j, "we_lack");
    if (daemon_up && p->last_heard_ms != 0)
        cli_json_uint(j, p->we_lack);
    else
        cli_json_null(j);
    cli_json_key(j, "it_lacks");
    if (daemon_up && p->vector_known)
        cli_json_uint(j, p->it_lacks);
    else
        cli_json_null(j);
    cli_json_key(j, "skew_ms");
    if (daemon_up && p->skew_known)
        cli_json_int(j, p->skew_ms);
    else
        cli_json_null(j);
    cli_json_kuint(j, "ops_received", p->ops_received);
    cli_json_kuint(j, "ops_sent", p->ops_sent);
    cli_json_kuint(j, "bad_messages", p->bad_messages);
    cli_json_key(j, "revoked");
    cli_json_bool(j, daemon_up && p->revoked);
    cli_json_key(j, "refused_us");
    cli_json_bool(j, daemon_up && p->refused_us);
    cli_json_key(j, "cloned_key");
    cli_json_bool(j, daemon_up && p->cloned_key);
    cli_json_key(j, "conns"); /* into our listener, per key (sync/conns.c) */
    if (daemon_up)
        cli_json_uint(j, p->conns);
    else
        cli_json_null(j);
    cli_json_kuint(j, "conns_refused", p->conns_refused);
    cli_json_kuint(j, "rate_limit_bps", p->rate_limit_bps);
    cli_json_kuint(j, "queued_bytes", p->queued_bytes);
    cli_json_key(j, "role");
    if (seen)
        cli_json_string(j, fm_role_name(seen->role));
    else
        cli_json_null(j);
    /* heard of by any path: its newest op or presence record */
    uint64_t any = p->last_heard_ms;
    if (seen && seen->last_seen_ms > any)
        any = seen->last_seen_ms;
    cli_json_key(j, "last_seen_ms");
    if (any)
        cli_json_uint(j, any);
    else
        cli_json_null(j);
    cli_json_key(j, "last_seen_age_s");
    if (any)
        cli_json_uint(j, now > any ? (now - any) / 1000 : 0);
    else
        cli_json_null(j);
    cli_json_end_object(j);
}

static int run_peers(struct cli *cl, int argc, char **argv)
{
    enum { PR_JSON };
    static const struct cli_opt opts[] = { [PR_JSON] = { "json", false } };
    static const char *const headers[] = { "PEER", "ENDPOINT", "STATE", "LAST HEARD",
                                           "LAST SEEN", "WE LACK", "IT LACKS", "SKEW", "BAD",
                                           "LIMIT" };
    struct fm_author_seen *seen = NULL;
    size_t nseen = 0;
    struct cli_args a;
    struct fm_daemon_info info;
    struct fm_peer_info *peers = NULL;
    size_t n = 0;
    bool up = true;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_need_config(cl)) != 0)
        return rc;
    memset(&info, 0, sizeof(info));
    rc = fm_node_daemon_peers(&cl->cfg, &info, &peers, &n);
    if (rc == FM_ENET) {
        /* No daemon: show the configured peers, none connected. */
        up = false;
        rc = 0;
        n = cl->cfg.npeers;
        peers = n ? calloc(n, sizeof(*peers)) : NULL;
        if (n && peers == NULL)
            return cli_error(cl, FM_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            const struct fm_peer_conf *pc = &cl->cfg.peers[i];
            (void)fm_strlcpy(peers[i].name, pc->name, sizeof(peers[i].name));
            (void)fm_strlcpy(peers[i].endpoint, pc->endpoint, sizeof(peers[i].endpoint));
            memcpy(peers[i].pk, pc->pk, FM_PK_LEN);
            peers[i].configured = true;
        }
    } else if (rc != 0) {
        return cli_error(cl, rc, "cannot ask the daemon: %s", fm_strerror(rc));
    }

    /* field sync: roles and "heard of by any path" from the store */
    if (cli_crypto(cl) == 0 && fm_node_open(&cl->node, &cl->cfg, FM_OPEN_READ) == 0 &&
        fm_node_authors_seen(cl->node, &seen, &nseen) != 0) {
        seen = NULL;
        nseen = 0;
    }
    uint64_t now = fm_now_ms();
    if (cli_flag(&a, PR_JSON)) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        cli_json_begin_array(&j);
        for (size_t i = 0; i < n; i++)
            peer_json(&j, &peers[i], up, now, seen_find(seen, nseen, peers[i].pk));
        cli_json_end_array(&j);
        cli_json_finish(&j);
    } else {
        struct cli_table t;
        size_t refused = 0;
        cli_table_init(&t, headers, CLI_NELEM(headers));
        for (size_t i = 0; i < n && rc == 0; i++) {
            const struct fm_peer_info *p = &peers[i];
            char heard[32], lack[24], lacks[24], skew[32], bad[24], any[32], limit[32];
            const struct fm_author_seen *sn = seen_find(seen, nseen, p->pk);
            uint64_t any_ms = p->last_heard_ms;
            if (sn && sn->last_seen_ms > any_ms)
                any_ms = sn->last_seen_ms;
            fmt_ago(p->last_heard_ms, now, heard, sizeof(heard));
            fmt_ago(any_ms, now, any, sizeof(any));
            if (p->rate_limit_bps)
                snprintf(limit, sizeof(limit), "%ukbit/s%s", (unsigned)(p->rate_limit_bps / 1000),
                         p->queued_bytes ? " busy" : "");
            else
                snprintf(limit, sizeof(limit), "-");
            snprintf(lack, sizeof(lack), up && p->last_heard_ms ? "%llu" : "-",
                     (unsigned long long)p->we_lack);
            snprintf(lacks, sizeof(lacks), up && p->vector_known ? "%llu" : "-",
                     (unsigned long long)p->it_lacks);
            snprintf(skew, sizeof(skew), up && p->skew_known ? "%+lldms" : "-",
                     (long long)p->skew_ms);
            snprintf(bad, sizeof(bad), "%llu", (unsigned long long)p->bad_messages);
            const char *state = !up            ? "unknown"
                                : p->revoked   ? "revoked"
                                : p->refused_us ? "refused us"
                                : p->connected ? "connected"
                                               : "down";
            refused += up && p->refused_us;
            const char *cells[] = { p->name, p->endpoint[0] ? p->endpoint : "(dialled us)",
                                    state, heard, any, lack, lacks, skew, bad, limit };
            rc = cli_table_add(&t, cells, 48);
        }
        if (rc == 0)
            cli_table_print(&t, stdout);
        cli_table_release(&t);
        for (size_t i = 0; up && i < n; i++)
            if (peers[i].conns_refused)
                printf("limits: %s holds %u connection(s) into this node; %llu more refused "
                       "(gossip.max_conns_per_key)\n", peers[i].name, peers[i].conns,
                       (unsigned long long)peers[i].conns_refused);
        if (refused)
            printf("refused by peer: not admitted (revoked or not enrolled?) by %zu peer(s) "
                   "marked 'refused us'\n", refused);
        uint8_t me[FM_PK_LEN];
        bool have_me = self_key(cl, me);
        for (size_t i = 0; i < nseen && rc == 0; i++) {
            if (!other_centre(&seen[i], have_me ? me : NULL))
                continue;
            char ago[32];
            fmt_ago(seen[i].last_seen_ms, now, ago, sizeof(ago));
            printf("centre %s: last heard of %s\n", seen[i].name, ago);
        }
        if (!up)
            fprintf(stderr, "fieldmesh peers: this node's fieldmeshd is not running (no answer "
                            "on %s), so link states are unknown; start it with: "
                            "fieldmeshd -c %s\n", cl->cfg.control, cl->cfg.path);
    }
    free(seen);
    free(peers);
    if (rc != 0)
        return cli_error(cl, rc, "cannot list peers: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_peers = {
    NULL, "peers", "[--json]", "show each peer: connected, last heard, ops each side lacks, skew",
    "Asks the running fieldmeshd over the control socket. With no daemon, lists\n"
    "the configured peers as not connected.\n\n"
    "  --json   array of {name, endpoint, key, configured, connected, last_heard_ms,\n"
    "           last_heard_age_s, we_lack, it_lacks, skew_ms, ops_received, ops_sent,\n"
    "           bad_messages, revoked, rate_limit_bps, queued_bytes, role,\n"
    "           last_seen_ms, last_seen_age_s}; unknown values are null.\n"
    "           last_heard is a direct message; last_seen also counts its newest op\n"
    "           or presence record relayed by others. The table ends with how long\n"
    "           ago each centre was last heard of.\n",
    run_peers,
};

/* ------------------------------------------------------------------ */
/* status                                                              */
/* ------------------------------------------------------------------ */

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
    fs->have_me = self_key(cl, fs->me);
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
    const struct fm_author_seen *a = seen_find(fs->seen, fs->nseen, pk);
    return a ? a->name : "?";
}

static void fs_json(struct cli_json *j, const struct fs_status *fs, uint64_t now)
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
    cli_json_key(j, "centre_last_seen_age_s");
    {
        bool any = false;
        uint64_t best = 0;
        for (size_t i = 0; i < fs->nseen; i++)
            if (other_centre(&fs->seen[i], fs->have_me ? fs->me : NULL) &&
                fs->seen[i].last_seen_ms > best) {
                best = fs->seen[i].last_seen_ms;
                any = true;
            }
        if (any)
            cli_json_uint(j, now > best ? (now - best) / 1000 : 0);
        else
            cli_json_null(j);
    }
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

static void fs_text(const struct fs_status *fs, uint64_t now)
{
    char ago[32];
    for (size_t i = 0; i < fs->nseen; i++) {
        if (!other_centre(&fs->seen[i], fs->have_me ? fs->me : NULL))
            continue;
        fmt_ago(fs->seen[i].last_seen_ms, now, ago, sizeof(ago));
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


static int run_status(struct cli *cl, int argc, char **argv)
{
    enum { ST_JSON };
    static const struct cli_opt opts[] = { [ST_JSON] = { "json", false } };
    struct cli_args a;
    struct fm_node_stats st;
    struct fm_head *heads = NULL;
    size_t nheads = 0;
    struct fm_daemon_info info;
    struct fm_peer_info *peers = NULL;
    size_t npeers = 0;
    uint8_t d[FM_HASH_LEN];
    char digest[2 * FM_HASH_LEN + 1], self[FM_KEY_TEXT_LEN];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    /* with the identity when it loads (to say whether this node may sign),
     * else read-only; one LMDB environment per process either way */
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_crypto(cl)) != 0)
        return rc;
    if (fm_node_open(&cl->node, &cl->cfg, FM_OPEN_IDENTITY) != 0 &&
        (rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    if ((rc = fm_node_stats(cl->node, &st)) != 0 || (rc = fm_node_digest(cl->node, d)) != 0 ||
        (rc = fm_node_heads(cl->node, &heads, &nheads)) != 0)
        return cli_error(cl, rc, "cannot read the store: %s", fm_strerror(rc));
    cli_hex(d, sizeof(d), digest);
    struct fs_status fs;
    if ((rc = fs_collect(cl, &fs)) != 0) {
        fs_release(&fs);
        free(heads);
        return cli_error(cl, rc, "cannot read the store: %s", fm_strerror(rc));
    }
    /* may this node sign? needs the identity; without one, not shown */
    fs.have_self = fm_node_self_state(cl->node, &fs.self) == 0;
    memset(&info, 0, sizeof(info));
    bool up = fm_node_daemon_peers(&cl->cfg, &info, &peers, &npeers) == 0;
    struct cli_alerts al; /* cloned keys, back-dating (cmd_alerts.c) */
    if ((rc = cli_alerts_collect(cl, &al)) != 0) {
        cli_alerts_release(&al);
        fs_release(&fs);
        free(heads);
        free(peers);
        return cli_error(cl, rc, "cannot read the store: %s", fm_strerror(rc));
    }
    const struct cli_status_in ain = {peers, npeers, up, &info, fs.seen, fs.nseen, cl->cfg.path};
    size_t connected = 0, refused = 0;
    for (size_t i = 0; i < npeers; i++) {
        connected += peers[i].connected;
        refused += peers[i].refused_us;
    }
    uint8_t selfpk[FM_PK_LEN];
    char pubpath[FM_PATH_MAX + 8];
    snprintf(pubpath, sizeof(pubpath), "%s.pub", cl->cfg.key_path);
    bool have_self = fm_key_read_file(pubpath, selfpk) == 0;
    if (have_self)
        fm_key_encode(selfpk, self);
    uint32_t dk_gen = 0; /* need to know (docs/security.md) */
    int dk_rc = fm_node_dispatch_key(cl->node, &dk_gen, NULL);

    if (cli_flag(&a, ST_JSON)) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        cli_json_begin_object(&j);
        cli_json_kstr(&j, "name", cl->cfg.name);
        cli_json_kstr(&j, "role", fm_role_name(cl->cfg.role));
        cli_json_key(&j, "key");
        if (have_self)
            cli_json_string(&j, self);
        else
            cli_json_null(&j);
        cli_json_kstr(&j, "digest", digest);
        cli_json_kuint(&j, "ops", st.ops);
        cli_json_kuint(&j, "authors", st.authors);
        cli_json_kuint(&j, "entities", st.entities);
        cli_json_kuint(&j, "store_bytes", st.store_bytes);
        cli_json_kuint(&j, "map_size", st.map_size);
        cli_json_kuint(&j, "rejected_ops", st.rejected);
        cli_json_ktime(&j, "clock", st.hlc);
        cli_json_key(&j, "daemon_running");
        cli_json_bool(&j, up);
        cli_json_key(&j, "uptime_s");
        if (up)
            cli_json_uint(&j, info.uptime_ms / 1000);
        else
            cli_json_null(&j);
        cli_json_key(&j, "peers_connected");
        if (up)
            cli_json_uint(&j, connected);
        else
            cli_json_null(&j);
        cli_json_kuint(&j, "peers_configured", cl->cfg.npeers);
        cli_json_kuint(&j, "peers_refusing_us", refused);
        cli_json_key(&j, "heads");
        cli_json_begin_array(&j);
        for (size_t i = 0; i < nheads; i++) {
            char key[FM_KEY_TEXT_LEN], hash[2 * FM_HASH_LEN + 1];
            fm_key_encode(heads[i].author, key);
            cli_hex(heads[i].hash, FM_HASH_LEN, hash);
            cli_json_begin_object(&j);
            cli_json_kstr(&j, "author", key);
            cli_json_kuint(&j, "seq", heads[i].seq);
            cli_json_kstr(&j, "head", hash);
            cli_json_key(&j, "revoked_after");
            if (heads[i].limit != UINT64_MAX)
                cli_json_uint(&j, heads[i].limit);
            else
                cli_json_null(&j);
            cli_json_end_object(&j);
        }
        cli_json_end_array(&j);
        fs_json(&j, &fs, fm_now_ms());
        cli_status_sync_json(&j, &info, up);
        cli_alerts_json(&j, &al, &ain);
        cli_orphans_alerts(cl, &j);
        cli_status_gps_json(&j, cl->node, &cl->cfg);
        cli_json_key(&j, "dispatcher_key"); /* need to know: the generation held, or null */
        if (dk_rc == 0)
            cli_json_uint(&j, dk_gen);
        else
            cli_json_null(&j);
        cli_json_end_object(&j);
        cli_json_finish(&j);
    } else {
        char up_s[32] = "not running";
        if (up)
            fmt_uptime(info.uptime_ms, up_s, sizeof(up_s));
        printf("node:      %s (%s)\n", cl->cfg.name, fm_role_name(cl->cfg.role));
        printf("key:       %s\n", have_self ? self : "(no identity yet: run fieldmesh keygen)");
        printf("digest:    %s\n", digest);
        printf("ops:       %llu from %llu author(s), %llu entities, %llu rejected\n",
               (unsigned long long)st.ops, (unsigned long long)st.authors,
               (unsigned long long)st.entities, (unsigned long long)st.rejected);
        printf("store:     %.1f MiB used of a %.0f MiB map\n", st.store_bytes / 1048576.0,
               st.map_size / 1048576.0);
        printf("daemon:    %s", up_s);
        if (up)
            printf(", %zu of %zu peer(s) connected, %llu ops ingested, %llu refused\n",
                   connected, npeers, (unsigned long long)info.ops_stored,
                   (unsigned long long)info.ops_rejected);
        else
            printf("\n");
        fs_text(&fs, fm_now_ms());
        cli_status_sync_text(&info, up);
        cli_alerts_text(&al, &ain);
        cli_orphans_alerts(cl, NULL);
        cli_status_gps_text(cl->node, &cl->cfg, fm_now_ms());
        if (dk_rc == 0)
            printf("callers:   this node reads and seals them (dispatcher key %u)\n", dk_gen);
        else if (cl->cfg.role == FM_ROLE_CENTRE || cl->cfg.role == FM_ROLE_COUNTY ||
                 cl->cfg.role == FM_ROLE_ADMIN)
            printf("callers:   NO dispatcher key here: callers show sealed and reports are "
                   "written without them (org dispatch-key, then trust publish)\n");
        if (refused)
            printf("warning:   %zu peer(s) refuse this node's handshake: not admitted "
                   "(revoked or not enrolled?); see fieldmesh peers\n", refused);
        printf("\n");
        static const char *const headers[] = { "AUTHOR", "SEQ", "HEAD", "REVOKED AFTER" };
        struct cli_table t;
        cli_table_init(&t, headers, CLI_NELEM(headers));
        for (size_t i = 0; i < nheads && rc == 0; i++) {
            char key[FM_KEY_TEXT_LEN], hash[2 * FM_HASH_LEN + 1], seq[24], lim[24];
            fm_key_encode(heads[i].author, key);
            cli_hex(heads[i].hash, FM_HASH_LEN, hash);
            hash[12] = '\0';
            snprintf(seq, sizeof(seq), "%llu", (unsigned long long)heads[i].seq);
            snprintf(lim, sizeof(lim), heads[i].limit != UINT64_MAX ? "%llu" : "-",
                     (unsigned long long)heads[i].limit);
            const char *cells[] = { key, seq, hash, lim };
            rc = cli_table_add(&t, cells, 60);
        }
        if (rc == 0)
            cli_table_print(&t, stdout);
        cli_table_release(&t);
    }
    free(heads);
    free(peers);
    fs_release(&fs);
    cli_alerts_release(&al);
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
