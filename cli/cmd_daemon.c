/*
 * cmd_daemon.c — operator views of replication: `peers` asks the running
 * fieldmeshd about each peer (connected, last heard, what each side lacks,
 * clock skew, rate limits and queued bytes, keys revoked or expired). With
 * the daemon down it lists the configured peers as not connected.
 *
 * It also holds what `peers`, `status` (cmd_status.c) and
 * `incident list --stale-after` share about the authors this store has
 * seen: how long ago each node and the centre were heard from by any path
 * (their newest op or presence record, not only a direct message), and
 * the staleness of a record's last writer.
 */
#include "cli_int.h"

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

const struct fm_author_seen *cli_seen_find(const struct fm_author_seen *a, size_t n,
                                           const uint8_t pk[FM_PK_LEN])
{
    return n ? bsearch(pk, a, n, sizeof(*a), seen_cmp) : NULL;
}

bool cli_self_key(const struct cli *cl, uint8_t pk[FM_PK_LEN])
{
    char pubpath[FM_PATH_MAX + 8];
    snprintf(pubpath, sizeof(pubpath), "%s.pub", cl->cfg.key_path);
    return fm_key_read_file(pubpath, pk) == 0;
}

bool cli_other_centre(const struct fm_author_seen *a, const uint8_t *me)
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
    s->have_self = cli_self_key(cl, s->self);
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
    const struct fm_author_seen *a = cli_seen_find(s->seen, s->nseen, out->by);
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

void cli_fmt_ago(uint64_t then_ms, uint64_t now_ms, char *out, size_t cap)
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
    /* how new ops go to it: parent, child, eager, lazy; null while not connected */
    cli_json_kstr(j, "push", daemon_up && p->connected && !p->revoked
                                 ? fm_sync_push_name(p->push) : NULL);
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

/* No daemon: the configured peers, none connected. */
static int peers_configured(struct cli *cl, struct fm_peer_info **out, size_t *nout)
{
    size_t n = cl->cfg.npeers;
    struct fm_peer_info *peers = n ? calloc(n, sizeof(*peers)) : NULL;
    if (n && peers == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct fm_peer_conf *pc = &cl->cfg.peers[i];
        (void)fm_strlcpy(peers[i].name, pc->name, sizeof(peers[i].name));
        (void)fm_strlcpy(peers[i].endpoint, pc->endpoint, sizeof(peers[i].endpoint));
        memcpy(peers[i].pk, pc->pk, FM_PK_LEN);
        peers[i].configured = true;
    }
    *out = peers;
    *nout = n;
    return 0;
}

/* What `peers` shows: the daemon's view, or the configured list when no
 * daemon answers (*up false), plus roles and "heard of by any path" from
 * the store (none when it cannot be read). */
struct peers_view {
    struct fm_peer_info *peers;
    size_t n;
    bool up;
    struct fm_author_seen *seen;
    size_t nseen;
    uint64_t now;
};

static int peers_collect(struct cli *cl, struct peers_view *v)
{
    struct fm_daemon_info info;
    int rc;
    memset(v, 0, sizeof(*v));
    v->up = true;
    memset(&info, 0, sizeof(info));
    rc = fm_node_daemon_peers(&cl->cfg, &info, &v->peers, &v->n);
    if (rc == FM_ENET) {
        v->up = false;
        if ((rc = peers_configured(cl, &v->peers, &v->n)) != 0)
            return rc;
    } else if (rc != 0) {
        return cli_error(cl, rc, "cannot ask the daemon: %s", fm_strerror(rc));
    }
    /* field sync: roles and "heard of by any path" from the store */
    if (cli_crypto(cl) == 0 && fm_node_open(&cl->node, &cl->cfg, FM_OPEN_READ) == 0 &&
        fm_node_authors_seen(cl->node, &v->seen, &v->nseen) != 0) {
        v->seen = NULL;
        v->nseen = 0;
    }
    v->now = fm_now_ms();
    return 0;
}

static void peers_json(const struct peers_view *v)
{
    struct cli_json j;
    cli_json_init(&j, stdout);
    cli_json_begin_array(&j);
    for (size_t i = 0; i < v->n; i++)
        peer_json(&j, &v->peers[i], v->up, v->now,
                  cli_seen_find(v->seen, v->nseen, v->peers[i].pk));
    cli_json_end_array(&j);
    cli_json_finish(&j);
}

static const char *peer_state(const struct fm_peer_info *p, bool up)
{
    return !up            ? "unknown"
           : p->revoked   ? "revoked"
           : p->refused_us ? "refused us"
           : p->connected ? "connected"
                          : "down";
}

static int peer_row(struct cli_table *t, const struct peers_view *v, const struct fm_peer_info *p)
{
    char heard[32], lack[24], lacks[24], skew[32], bad[24], any[32], limit[32];
    const struct fm_author_seen *sn = cli_seen_find(v->seen, v->nseen, p->pk);
    bool up = v->up;
    uint64_t any_ms = p->last_heard_ms;
    if (sn && sn->last_seen_ms > any_ms)
        any_ms = sn->last_seen_ms;
    cli_fmt_ago(p->last_heard_ms, v->now, heard, sizeof(heard));
    cli_fmt_ago(any_ms, v->now, any, sizeof(any));
    if (p->rate_limit_bps)
        snprintf(limit, sizeof(limit), "%ukbit/s%s", (unsigned)(p->rate_limit_bps / 1000),
                 p->queued_bytes ? " busy" : "");
    else
        snprintf(limit, sizeof(limit), "-");
    snprintf(lack, sizeof(lack), up && p->last_heard_ms ? "%llu" : "-",
             (unsigned long long)p->we_lack);
    snprintf(lacks, sizeof(lacks), up && p->vector_known ? "%llu" : "-",
             (unsigned long long)p->it_lacks);
    snprintf(skew, sizeof(skew), up && p->skew_known ? "%+lldms" : "-", (long long)p->skew_ms);
    snprintf(bad, sizeof(bad), "%llu", (unsigned long long)p->bad_messages);
    const char *cells[] = { p->name, p->endpoint[0] ? p->endpoint : "(dialled us)",
                            peer_state(p, up),
                            up && p->connected && !p->revoked ? fm_sync_push_name(p->push) : "-",
                            heard, any, lack, lacks, skew, bad, limit };
    return cli_table_add(t, cells, 48);
}

/* The lines under the table: connection limits, peers refusing us, how
 * long ago each other centre was heard of, and a missing daemon. */
static void peers_notes(struct cli *cl, const struct peers_view *v, size_t refused,
                        bool centres)
{
    for (size_t i = 0; v->up && i < v->n; i++)
        if (v->peers[i].conns_refused)
            printf("limits: %s holds %u connection(s) into this node; %llu more refused "
                   "(gossip.max_conns_per_key)\n", v->peers[i].name, v->peers[i].conns,
                   (unsigned long long)v->peers[i].conns_refused);
    if (refused)
        printf("refused by peer: not admitted (revoked or not enrolled?) by %zu peer(s) "
               "marked 'refused us'; a node enrolled after them is admitted once a centre, "
               "county or admin node runs: fieldmesh trust publish ITS.cert\n", refused);
    uint8_t me[FM_PK_LEN];
    bool have_me = cli_self_key(cl, me);
    for (size_t i = 0; centres && i < v->nseen; i++) {
        if (!cli_other_centre(&v->seen[i], have_me ? me : NULL))
            continue;
        char ago[32];
        cli_fmt_ago(v->seen[i].last_seen_ms, v->now, ago, sizeof(ago));
        printf("centre %s: last heard of %s\n", v->seen[i].name, ago);
    }
    if (!v->up)
        fprintf(stderr, "fieldmesh peers: this node's fieldmeshd is not running (no answer "
                        "on %s), so link states are unknown; start it with: "
                        "fieldmeshd -c %s\n", cl->cfg.control, cl->cfg.path);
}

static int peers_text(struct cli *cl, const struct peers_view *v)
{
    static const char *const headers[] = { "PEER", "ENDPOINT", "STATE", "PUSH", "LAST HEARD",
                                           "LAST SEEN", "WE LACK", "IT LACKS", "SKEW", "BAD",
                                           "LIMIT" };
    struct cli_table t;
    size_t refused = 0;
    int rc = 0;
    cli_table_init(&t, headers, CLI_NELEM(headers));
    for (size_t i = 0; i < v->n && rc == 0; i++) {
        refused += v->up && v->peers[i].refused_us;
        rc = peer_row(&t, v, &v->peers[i]);
    }
    if (rc == 0)
        cli_table_print(&t, stdout);
    cli_table_release(&t);
    peers_notes(cl, v, refused, rc == 0);
    return rc;
}

static int run_peers(struct cli *cl, int argc, char **argv)
{
    enum { PR_JSON };
    static const struct cli_opt opts[] = { [PR_JSON] = { "json", false } };
    struct cli_args a;
    struct peers_view v;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 0, &a);
    if ((rc = cli_need_config(cl)) != 0)
        return rc;
    if ((rc = peers_collect(cl, &v)) != 0)
        return rc;
    if (cli_flag(&a, PR_JSON))
        peers_json(&v);
    else
        rc = peers_text(cl, &v);
    free(v.seen);
    free(v.peers);
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
    "           bad_messages, revoked, refused_us, cloned_key, conns, conns_refused,\n"
    "           push, rate_limit_bps, queued_bytes, role, last_seen_ms,\n"
    "           last_seen_age_s}; unknown values are null.\n"
    "           push (PUSH) is how new ops go to it while connected: parent or\n"
    "           child (a link of the spanning tree, pushed at once), eager (an\n"
    "           older peer, Plumtree's rules) or lazy (announced, fetched if it\n"
    "           lacks them).\n"
    "           last_heard is a direct message; last_seen also counts its newest op\n"
    "           or presence record relayed by others. The table ends with how long\n"
    "           ago each centre was last heard of.\n",
    run_peers,
};
