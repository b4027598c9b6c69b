/*
 * cmd_daemon.c — operator views of replication: `peers` asks the running
 * fieldmeshd about each peer (connected, last heard, what each side lacks,
 * clock skew); `status` shows this node's own store (authors and their
 * heads, op count, digest, size) plus the daemon's uptime and counters when
 * one runs. Both work with the daemon down: `peers` then lists the
 * configured peers as not connected, `status` says the daemon is not
 * running.
 */
#include "cli_int.h"

#include <stdlib.h>
#include <string.h>

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
                      uint64_t now)
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
    if (daemon_up)
        cli_json_uint(j, p->we_lack);
    else
        cli_json_null(j);
    cli_json_key(j, "it_lacks");
    if (daemon_up && p->vector_known)
        cli_json_uint(j, p->it_lacks);
    else
        cli_json_null(j);
    cli_json_key(j, "skew_ms");
    if (daemon_up && p->last_heard_ms != 0)
        cli_json_int(j, p->skew_ms);
    else
        cli_json_null(j);
    cli_json_kuint(j, "ops_received", p->ops_received);
    cli_json_kuint(j, "ops_sent", p->ops_sent);
    cli_json_kuint(j, "bad_messages", p->bad_messages);
    cli_json_end_object(j);
}

static int run_peers(struct cli *cl, int argc, char **argv)
{
    enum { PR_JSON };
    static const struct cli_opt opts[] = { [PR_JSON] = { "json", false } };
    static const char *const headers[] = { "PEER", "ENDPOINT", "STATE", "LAST HEARD",
                                           "WE LACK", "IT LACKS", "SKEW", "BAD" };
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

    uint64_t now = fm_now_ms();
    if (cli_flag(&a, PR_JSON)) {
        struct cli_json j;
        cli_json_init(&j, stdout);
        cli_json_begin_array(&j);
        for (size_t i = 0; i < n; i++)
            peer_json(&j, &peers[i], up, now);
        cli_json_end_array(&j);
        cli_json_finish(&j);
    } else {
        struct cli_table t;
        cli_table_init(&t, headers, CLI_NELEM(headers));
        for (size_t i = 0; i < n && rc == 0; i++) {
            const struct fm_peer_info *p = &peers[i];
            char heard[32], lack[24], lacks[24], skew[32], bad[24];
            fmt_ago(p->last_heard_ms, now, heard, sizeof(heard));
            snprintf(lack, sizeof(lack), up ? "%llu" : "-", (unsigned long long)p->we_lack);
            snprintf(lacks, sizeof(lacks), up && p->vector_known ? "%llu" : "-",
                     (unsigned long long)p->it_lacks);
            snprintf(skew, sizeof(skew), up && p->last_heard_ms ? "%+lldms" : "-",
                     (long long)p->skew_ms);
            snprintf(bad, sizeof(bad), "%llu", (unsigned long long)p->bad_messages);
            const char *state = !up ? "daemon down" : p->connected ? "connected" : "down";
            const char *cells[] = { p->name, p->endpoint[0] ? p->endpoint : "(dialled us)",
                                    state, heard, lack, lacks, skew, bad };
            rc = cli_table_add(&t, cells, 48);
        }
        if (rc == 0)
            cli_table_print(&t, stdout);
        cli_table_release(&t);
        if (!up)
            fprintf(stderr, "fieldmesh peers: no daemon answers on %s; start it with: "
                            "fieldmeshd -c %s\n", cl->cfg.control, cl->cfg.path);
    }
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
    "           bad_messages}; unknown values are null\n",
    run_peers,
};

/* ------------------------------------------------------------------ */
/* status                                                              */
/* ------------------------------------------------------------------ */

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
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    if ((rc = fm_node_stats(cl->node, &st)) != 0 || (rc = fm_node_digest(cl->node, d)) != 0 ||
        (rc = fm_node_heads(cl->node, &heads, &nheads)) != 0)
        return cli_error(cl, rc, "cannot read the store: %s", fm_strerror(rc));
    cli_hex(d, sizeof(d), digest);
    memset(&info, 0, sizeof(info));
    bool up = fm_node_daemon_peers(&cl->cfg, &info, &peers, &npeers) == 0;
    size_t connected = 0;
    for (size_t i = 0; i < npeers; i++)
        connected += peers[i].connected;
    uint8_t selfpk[FM_PK_LEN];
    char pubpath[FM_PATH_MAX + 8];
    snprintf(pubpath, sizeof(pubpath), "%s.pub", cl->cfg.key_path);
    bool have_self = fm_key_read_file(pubpath, selfpk) == 0;
    if (have_self)
        fm_key_encode(selfpk, self);

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
    "           peers_configured, heads: [{author, seq, head, revoked_after}]}\n",
    run_status,
};
