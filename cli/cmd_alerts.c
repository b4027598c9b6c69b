/*
 * cmd_alerts.c — the integrity warnings of `fieldmesh status`: a node key
 * in use on two machines (two live connections into our daemon, or two
 * diverging writers in its log), and ops that reached us after their
 * author's certificate expired (back-dated?). Each warning names what was
 * seen and what the administrator should do; `--json` carries the same
 * as `cloned_keys`, `clone_alerts` and `backdated_ops`.
 * See docs/field-sync.md §4 and §5.
 */
#include "cli_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_alerts_collect(struct cli *cl, struct cli_alerts *al)
{
    memset(al, 0, sizeof(*al));
    return fm_node_diverging_writers(cl->node, &al->div, &al->ndiv);
}

void cli_alerts_release(struct cli_alerts *al)
{
    free(al->div);
    memset(al, 0, sizeof(*al));
}

/* The revocation that keeps ops up to last_good: run with this node's
 * config, whose store holds the op at last_good, so the revocation names
 * that op's hash as the head that stands (docs/data-model.md §6). */
static void revoke_cmd(const char *conf, const char *key, uint64_t last_good, char *out,
                       size_t cap)
{
    snprintf(out, cap,
             "fieldmesh -c %s org revoke --org ORGDIR --key %s --last-seq %llu --out rev.txt, "
             "then fieldmesh -c %s trust publish rev.txt",
             conf, key, (unsigned long long)last_good, conf);
}

static uint64_t last_good(const struct fm_author_seen *a)
{
    uint64_t first = a->late_ops ? a->late_first_seq : UINT64_MAX;
    if (a->beyond_expiry_ops && a->beyond_expiry_first_seq < first)
        first = a->beyond_expiry_first_seq;
    return first > 0 ? first - 1 : 0;
}

void cli_alerts_text(const struct cli_alerts *al, const struct cli_status_in *in)
{
    char key[FM_KEY_TEXT_LEN], cmd[320 + 2 * FM_PATH_MAX], t[CLI_TIME_LEN];
    for (size_t i = 0; i < in->npeers; i++) {
        const struct fm_peer_info *p = &in->peers[i];
        if (!in->daemon_up || !p->cloned_key)
            continue;
        fm_key_encode(p->pk, key);
        printf("warning:   cloned key? %s (%.16s) is connected to this node twice at once "
               "(see the daemon log for both addresses); find the machine that should not "
               "hold it, then revoke the key and enrol the genuine node again\n",
               p->name, key);
    }
    for (size_t i = 0; i < al->ndiv; i++) {
        const struct fm_clone_alert *c = &al->div[i];
        fm_key_encode(c->author, key);
        printf("warning:   cloned key? %s (%.16s) signed two diverging histories at seq %llu "
               "(two machines writing with one key, or an old backup signing beside the "
               "original); retire one copy: revoke the key and enrol the genuine node again\n",
               c->name, key, (unsigned long long)c->seq);
    }
    for (size_t i = 0; i < in->nseen; i++) {
        const struct fm_author_seen *a = &in->seen[i];
        if (a->revoked || (!a->late_ops && !a->beyond_expiry_ops))
            continue;
        fm_key_encode(a->pk, key);
        revoke_cmd(in->conf, key, last_good(a), cmd, sizeof(cmd));
        if (a->late_ops) {
            cli_fmt_local(a->late_expires_ms << 16, false, t);
            printf("warning:   %s (%.16s): %llu op(s), seq %llu..%llu, reached this node after "
                   "its certificate expired (%s) but are stamped before it: back-dated? If "
                   "the key is not in your control: %s\n",
                   a->name, key, (unsigned long long)a->late_ops,
                   (unsigned long long)a->late_first_seq, (unsigned long long)a->late_last_seq,
                   t, cmd);
        }
        if (a->beyond_expiry_ops)
            printf("warning:   %s (%.16s): %llu op(s) from seq %llu claim to have seen values "
                   "written after its certificate expired (back-dated, or edits on top of a "
                   "far-future value). If the key is not in your control: %s\n",
                   a->name, key, (unsigned long long)a->beyond_expiry_ops,
                   (unsigned long long)a->beyond_expiry_first_seq, cmd);
    }
}

static void json_cloned(struct cli_json *j, const struct cli_alerts *al,
                        const struct cli_status_in *in)
{
    char key[FM_KEY_TEXT_LEN];
    cli_json_key(j, "cloned_keys");
    cli_json_begin_array(j);
    for (size_t i = 0; in->daemon_up && i < in->npeers; i++) {
        const struct fm_peer_info *p = &in->peers[i];
        if (!p->cloned_key)
            continue;
        fm_key_encode(p->pk, key);
        cli_json_begin_object(j);
        cli_json_kstr(j, "author", key);
        cli_json_kstr(j, "name", p->name);
        cli_json_kstr(j, "evidence", "two_connections");
        cli_json_key(j, "seq");
        cli_json_null(j);
        cli_json_end_object(j);
    }
    for (size_t i = 0; i < al->ndiv; i++) {
        const struct fm_clone_alert *c = &al->div[i];
        fm_key_encode(c->author, key);
        cli_json_begin_object(j);
        cli_json_kstr(j, "author", key);
        cli_json_kstr(j, "name", c->name);
        cli_json_kstr(j, "evidence", "diverging_writers");
        cli_json_kuint(j, "seq", c->seq);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
    cli_json_key(j, "clone_alerts");
    if (in->daemon_up)
        cli_json_uint(j, in->info->clone_alerts);
    else
        cli_json_null(j);
}

void cli_alerts_json(struct cli_json *j, const struct cli_alerts *al,
                     const struct cli_status_in *in)
{
    char key[FM_KEY_TEXT_LEN], cmd[320 + 2 * FM_PATH_MAX];
    json_cloned(j, al, in);
    cli_json_key(j, "backdated_ops");
    cli_json_begin_array(j);
    for (size_t i = 0; i < in->nseen; i++) {
        const struct fm_author_seen *a = &in->seen[i];
        if (a->revoked || (!a->late_ops && !a->beyond_expiry_ops))
            continue;
        fm_key_encode(a->pk, key);
        revoke_cmd(in->conf, key, last_good(a), cmd, sizeof(cmd));
        cli_json_begin_object(j);
        cli_json_kstr(j, "author", key);
        cli_json_kstr(j, "name", a->name);
        cli_json_kuint(j, "late_ops", a->late_ops);
        cli_json_key(j, "first_late_seq");
        if (a->late_ops)
            cli_json_uint(j, a->late_first_seq);
        else
            cli_json_null(j);
        cli_json_key(j, "last_late_seq");
        if (a->late_ops)
            cli_json_uint(j, a->late_last_seq);
        else
            cli_json_null(j);
        cli_json_ktime(j, "expired_at", a->late_expires_ms << 16);
        cli_json_ktime(j, "detected_at", a->late_detected_ms << 16);
        cli_json_kuint(j, "beyond_expiry_ops", a->beyond_expiry_ops);
        cli_json_kuint(j, "last_good_seq", last_good(a));
        cli_json_kstr(j, "revoke_command", cmd);
        cli_json_end_object(j);
    }
    cli_json_end_array(j);
}
