/*
 * status_sync.c — the part of `fieldmesh status` that tells how the daemon
 * copes with running out: a store that cannot take ops (full disk, map at
 * its cap) and the per-key limits it enforces on its neighbours; and where
 * the node stands in the spanning tree that new ops are pushed along
 * (docs/sync.md, "The eager tree"). Kept apart from cmd_daemon.c so the
 * status command only calls two functions.
 */
#include "cli_int.h"

#include <stdio.h>
#include <string.h>

/* The author whose key starts with the root's 8 bytes, or NULL. */
static const struct fm_author_seen *root_seen(const struct cli_status_in *in,
                                              const uint8_t root[8])
{
    for (size_t i = 0; i < in->nseen; i++)
        if (memcmp(in->seen[i].pk, root, 8) == 0)
            return &in->seen[i];
    return NULL;
}

/* The name the daemon gives the neighbour with key pk, or NULL. */
static const char *peer_name(const struct cli_status_in *in, const uint8_t *pk)
{
    for (size_t i = 0; i < in->npeers; i++)
        if (memcmp(in->peers[i].pk, pk, FM_PK_LEN) == 0)
            return in->peers[i].name;
    return NULL;
}

static bool tree_shown(const struct cli_status_in *in)
{
    return in->daemon_up && in->info->tree_known && in->info->tree.on;
}

static void tree_json(struct cli_json *j, const struct cli_status_in *in)
{
    const struct fm_sync_tree_info *t = &in->info->tree;
    cli_json_key(j, "tree");
    if (!tree_shown(in)) {
        cli_json_null(j);
        return;
    }
    char root[17], parent[FM_KEY_TEXT_LEN];
    const struct fm_author_seen *rs = root_seen(in, t->root);
    cli_hex(t->root, sizeof t->root, root);
    if (t->has_parent)
        fm_key_encode(t->parent, parent);
    cli_json_begin_object(j);
    cli_json_kstr(j, "root", root);
    cli_json_kstr(j, "root_name", rs ? rs->name : NULL); /* NULL: null */
    cli_json_kstr(j, "root_role", rs ? fm_role_name(rs->role) : NULL); /* what made it root */
    cli_json_key(j, "root_is_us");
    cli_json_bool(j, t->hops == 0);
    cli_json_key(j, "hops"); /* null: detached, no feasible way to the root yet */
    if (t->hops != 255)
        cli_json_uint(j, t->hops);
    else
        cli_json_null(j);
    cli_json_kuint(j, "epoch", t->epoch);
    cli_json_kstr(j, "parent", t->has_parent ? parent : NULL);
    cli_json_kstr(j, "parent_name", t->has_parent ? peer_name(in, t->parent) : NULL);
    cli_json_kuint(j, "children", t->children);
    cli_json_end_object(j);
}

static void tree_text(const struct cli_status_in *in)
{
    const struct fm_sync_tree_info *t = &in->info->tree;
    if (!in->daemon_up || !in->info->tree_known)
        return;
    if (!t->on) {
        printf("tree:      off (gossip.wire_version 4: Plumtree's eager links)\n");
        return;
    }
    char root[17], who[FM_NAME_MAX + 48];
    const struct fm_author_seen *rs = root_seen(in, t->root);
    cli_hex(t->root, sizeof t->root, root);
    if (rs)
        snprintf(who, sizeof who, "%s (%s, %s)", rs->name, fm_role_name(rs->role), root);
    else
        snprintf(who, sizeof who, "? (%s)", root);
    if (t->hops == 0) {
        printf("tree:      this node is the root; %u neighbour(s) take it as parent\n",
               (unsigned)t->children);
    } else if (t->hops == 255 || !t->has_parent) {
        printf("tree:      detached from root %s: new ops go out as announcements until its "
               "next beat arrives\n", who);
    } else {
        const char *pn = peer_name(in, t->parent);
        printf("tree:      root %s, %u hop(s) away through %s; %u child(ren)\n", who,
               (unsigned)t->hops, pn ? pn : "?", (unsigned)t->children);
    }
}

void cli_status_sync_json(struct cli_json *j, const struct cli_status_in *in)
{
    const struct fm_daemon_info *info = in->info;
    bool up = in->daemon_up;
    tree_json(j, in);
    cli_json_key(j, "store_fault");
    if (up && info->ingest_fault_err != 0)
        cli_json_string(j, fm_strerror(info->ingest_fault_err));
    else
        cli_json_null(j);
    cli_json_key(j, "pulls_paused_ms");
    if (up)
        cli_json_uint(j, info->ingest_backoff_ms);
    else
        cli_json_null(j);
    cli_json_key(j, "ingest_faults");
    if (up)
        cli_json_uint(j, info->ingest_faults);
    else
        cli_json_null(j);
    cli_json_key(j, "conns_refused_per_key");
    if (up)
        cli_json_uint(j, info->key_conns_refused);
    else
        cli_json_null(j);
    cli_json_key(j, "pulls_deferred");
    if (up)
        cli_json_uint(j, info->pulls_deferred);
    else
        cli_json_null(j);
}

void cli_status_sync_text(const struct cli_status_in *in)
{
    const struct fm_daemon_info *info = in->info;
    if (!in->daemon_up)
        return;
    tree_text(in);
    if (info->ingest_fault_err != 0)
        printf("STORE:     cannot take ops from peers (%s): nothing stored, pulls paused "
               "%llu ms at a time, %llu failed ingest(s); free disk space or raise "
               "storage.map_max_mb\n",
               fm_strerror(info->ingest_fault_err),
               (unsigned long long)info->ingest_backoff_ms,
               (unsigned long long)info->ingest_faults);
    if (info->key_conns_refused || info->pulls_deferred)
        printf("limits:    %llu connection(s) refused over the per-key cap, %llu pull(s) "
               "deferred over a key's reply budget\n",
               (unsigned long long)info->key_conns_refused,
               (unsigned long long)info->pulls_deferred);
}
