/*
 * restored.c — the "restored, unconfirmed" state of a node put back from a
 * backup (docs/decisions.md, docs/service.md §6).
 *
 * A backup holds this node's own log up to some seq N. The machine it was
 * taken from may have signed N+1.. afterwards, and those ops may sit on
 * peers; a restored node that signed N+1 at once would fork its own log.
 * The fork rules would settle that (the older op wins, ours is re-entered),
 * but every node would carry the evidence and `status` would cry "cloned
 * key". So `restore` leaves a marker, <data_dir>/restored, and fork_guard
 * refuses to sign while it is there. The daemon ends the state itself: a
 * neighbour's version vector that lists our own log at a seq k with
 * N <= k <= our head says that neighbour holds nothing newer of ours (if it
 * held more, sync has pulled it first: own_claim). A neighbour holding less
 * than the backup (k < N) knows older news than the backup and confirms
 * nothing. When no peer will ever hold anything (the old machine never
 * synced), the operator says so with `fieldmesh restore --confirmed`.
 */
#include "backup_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMPONENT "restore"

int restored_mark(const struct fm_config *cfg, uint64_t head, uint64_t backup_ms)
{
    char p[FM_PATH_MAX + 16], text[256];
    int n = snprintf(text, sizeof text,
                     "this store was restored from a backup and will not sign until a peer "
                     "confirms how far this node's own log went (fieldmesh status)\n"
                     "head %llu\nbackup_ms %llu\nrestored_ms %llu\n",
                     (unsigned long long)head, (unsigned long long)backup_ms,
                     (unsigned long long)fm_wall_ms());
    int rc = fm_keys_path(cfg, BK_RESTORED_NAME, p, sizeof p);
    if (rc != FM_OK)
        return rc;
    return fm_file_write(p, text, (size_t)n, 0600, false);
}

/* The value of "name N" on a line of text, strictly; FM_ENOTFOUND. */
static int marker_field(const char *text, const char *name, uint64_t *out)
{
    size_t nl = strlen(name);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *next = strchr(line, '\n');
        if (strncmp(line, name, nl) == 0 && line[nl] == ' ') {
            char num[24];
            size_t k = strcspn(line + nl + 1, "\n");
            if (k == 0 || k >= sizeof num)
                return FM_EDECODE;
            memcpy(num, line + nl + 1, k);
            num[k] = '\0';
            return fm_parse_u64(num, out);
        }
        line = next ? next + 1 : NULL;
    }
    return FM_ENOTFOUND;
}

bool restored_get(const struct fm_config *cfg, uint64_t *head)
{
    char p[FM_PATH_MAX + 16], *text = NULL;
    size_t len;
    *head = 0;
    if (fm_keys_path(cfg, BK_RESTORED_NAME, p, sizeof p) != FM_OK)
        return true; /* cannot tell: stay careful */
    int rc = fm_file_read_alloc(p, 4096, &text, &len);
    if (rc == FM_ENOTFOUND)
        return false;
    if (rc == FM_OK && marker_field(text, "head", head) != FM_OK)
        *head = 0;
    free(text);
    return true;
}

bool fm_restored_pending(const struct fm_config *cfg, uint64_t *head)
{
    return restored_get(cfg, head);
}

static int restored_clear(const struct fm_config *cfg)
{
    char p[FM_PATH_MAX + 16];
    int rc = fm_keys_path(cfg, BK_RESTORED_NAME, p, sizeof p);
    if (rc != FM_OK)
        return rc;
    if (unlink(p) != 0)
        return errno == ENOENT ? FM_ENOTFOUND : FM_EIO;
    return FM_OK;
}

int fm_restored_confirm(const struct fm_config *cfg)
{
    uint64_t head;
    if (!restored_get(cfg, &head))
        return FM_ENOTFOUND;
    int rc = restored_clear(cfg);
    if (rc == FM_OK)
        fm_log(FM_LOG_WARN, COMPONENT,
               "restored store confirmed by the operator (own log up to seq %llu): this node "
               "signs again; if a peer does hold newer ops of it, that is a fork the peers will "
               "settle (docs/field-sync.md §5)", (unsigned long long)head);
    return rc;
}

int fm_node_own_vector(struct fm_node *n, uint64_t seq)
{
    struct fm_self_state st;
    uint64_t backup_head;
    if (!n->has_identity || !restored_get(&n->cfg, &backup_head))
        return FM_OK;
    int rc = fm_node_self_state(n, &st);
    if (rc != FM_OK)
        return rc;
    /* a neighbour that never heard of our log, or holds less than the
     * backup did, knows nothing newer than the backup: no confirmation */
    if (seq == 0 || seq < backup_head || seq > st.head || st.peers_hold > st.head)
        return FM_OK;
    if ((rc = restored_clear(&n->cfg)) != FM_OK)
        return rc == FM_ENOTFOUND ? FM_OK : rc; /* another process was first */
    fm_log(FM_LOG_INFO, COMPONENT,
           "restored store confirmed: a peer holds this node's own log up to seq %llu and this "
           "store up to %llu (the backup held %llu); signing resumes",
           (unsigned long long)seq, (unsigned long long)st.head,
           (unsigned long long)backup_head);
    return FM_OK;
}

int fm_backup_last(const struct fm_config *cfg, uint64_t *when_ms, char *file, size_t cap)
{
    char p[FM_PATH_MAX + 16], *text = NULL;
    size_t len;
    int rc = fm_keys_path(cfg, BK_LAST_NAME, p, sizeof p);
    if (rc == FM_OK)
        rc = fm_file_read_alloc(p, 4096 + FM_PATH_MAX, &text, &len);
    if (rc != FM_OK)
        return rc;
    rc = marker_field(text, "time_ms", when_ms);
    const char *f = strstr(text, "\nfile ");
    file[0] = '\0';
    if (rc == FM_OK && f != NULL) {
        size_t k = strcspn(f + 6, "\n");
        if (k < cap) {
            memcpy(file, f + 6, k);
            file[k] = '\0';
        }
    }
    free(text);
    return rc == FM_ENOTFOUND ? FM_EDECODE : rc;
}
