/*
 * daemon.h — the running fieldmeshd as others see it: the CLI's control
 * calls (nudge, peer status), the store as the sync engine sees it, and
 * the service manager protocol (node/daemon/).
 */
#ifndef FM_DAEMON_H
#define FM_DAEMON_H

#include "../replica/replica.h"
#include "../../sync/sync.h" /* the engine the daemon runs */

#include <pthread.h>

/* ======================= the running daemon =======================
 * The CLI talks to a running fieldmeshd over cfg->control (an ipc://
 * socket). Both calls are bounded in time and harmless when no daemon runs:
 * the CLI keeps working on the shared LMDB store either way. */

/* Tells the daemon listening on cfg->control that new local ops exist, so
 * they are pushed to peers now rather than at the next poll. Waits at most
 * ~100 ms. Returns 0 when the daemon acknowledged, FM_ENET when none
 * listens (callers may ignore that: the daemon also polls the store). */
int fm_node_nudge(const struct fm_config *cfg) FM_MUST_USE;

struct fm_peer_info {
    char name[FM_NAME_MAX];         /* config label, or the key tag if none */
    char endpoint[FM_ENDPOINT_MAX]; /* "" for a peer that dialled us */
    uint8_t pk[FM_PK_LEN];          /* its node key */
    bool configured;                /* listed in our config */
    bool connected;                 /* heard from recently */
    bool vector_known;              /* we know its version vector (so it_lacks is exact) */
    bool eager;                     /* new ops are pushed to it (else announced lazily) */
    uint8_t push;                   /* why: enum fm_sync_push (parent, child, Plumtree) */
    uint64_t last_heard_ms;         /* Unix ms of its last message, 0 = never */
    uint64_t we_lack;               /* ops it holds that we do not */
    uint64_t it_lacks;              /* ops we hold that it does not */
    int64_t skew_ms;                /* its clock minus ours when last measured */
    bool skew_known;                /* skew_ms was measured (else unknown) */
    uint64_t ops_received;          /* ops it sent us that we stored */
    uint64_t ops_sent;              /* ops we sent it (pushes and pull replies) */
    uint64_t bad_messages;          /* its messages we dropped (malformed, forged, ...) */
    bool revoked;                   /* its key was revoked or expired: connections dropped */
    uint32_t rate_limit_bps;        /* send limit towards it, 0 = none */
    uint64_t queued_bytes;          /* bytes waiting for that limit */
    bool refused_us;                /* it refused our handshake: we are not admitted there
                                     * (revoked, or not enrolled) */
    bool cloned_key;                /* its key spoke on two live connections into our
                                     * listener at once lately (a cloned key?) */
    uint32_t conns;                 /* its connections into our listener now */
    uint64_t conns_refused;         /* ... refused over gossip.max_conns_per_key */
};

struct fm_daemon_info {
    uint64_t uptime_ms;
    uint64_t pid;
    uint64_t ops_stored;     /* ops ingested from peers since start */
    uint64_t ops_rejected;   /* ops refused by ingest since start */
    uint64_t msgs_dropped;   /* malformed / unexpected messages dropped */
    uint64_t zap_refused;    /* handshakes refused by the ZAP handler */
    uint64_t soft_stored;    /* soft-state records taken from peers since start */
    uint64_t peers_dropped;  /* connections dropped for a revoked or expired key */
    /* the store could not take ops (full disk, map at its cap, I/O error):
     * a local fault, not refusals; pulls wait ingest_backoff_ms */
    uint64_t ingest_faults;  /* ingests that failed in the store since start */
    int ingest_fault_err;    /* the fault now (FM_EMAPFULL, FM_EIO, ...), 0 = none */
    uint64_t ingest_backoff_ms; /* the pause of pulls now, 0 = none */
    uint64_t key_conns_refused; /* connections refused: over gossip.max_conns_per_key */
    uint64_t pulls_deferred; /* PULLs answered later: the key's reply budget was spent */
    uint64_t clone_alerts;   /* times a key was seen on two live connections at once */
    bool tree_known;         /* the daemon told its place in the tree (an older one does not) */
    struct fm_sync_tree_info tree; /* that place: root, hops, parent, children */
};

/* The store as the sync engine sees it (struct fm_sync_store in sync.h):
 * heads, read_ops and ingest call fm_node_heads / fm_node_read_ops /
 * fm_node_ingest; admit accepts an author whose log (starting with a valid
 * certificate, checked at ingest) this node holds and who is not revoked.
 * n must outlive every use of *out. */
void fm_node_sync_store(struct fm_node *n, struct fm_sync_store *out);

/* The same store with every callback run under `lock` (store_lock.c): the
 * daemon shares its node handle with the console's HTTP threads. l holds
 * the inner store and must outlive every use of *out. */
struct fm_locked_store {
    struct fm_sync_store inner;
    pthread_mutex_t *lock;
};
void fm_sync_store_locked(struct fm_locked_store *l, const struct fm_sync_store *inner,
                          pthread_mutex_t *lock, struct fm_sync_store *out);

/* Asks the daemon on cfg->control for its peers. On success *out is a
 * malloc'd array of *n entries (caller frees; NULL when n == 0) and *info
 * is filled. FM_ENET if no daemon answers within ~500 ms, FM_EDECODE if
 * the reply is malformed. */
int fm_node_daemon_peers(const struct fm_config *cfg, struct fm_daemon_info *info,
                         struct fm_peer_info **out, size_t *n) FM_MUST_USE;

/* ---- service manager (node/service.c) ---- */
/* Sends `state` ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=text", or
 * several such lines) to the service manager's $NOTIFY_SOCKET (systemd's
 * sd_notify protocol). FM_OK and nothing sent when the variable is unset;
 * FM_EINVAL for a malformed socket name or an empty or over-long state,
 * FM_EIO when the datagram cannot be sent. */
int fm_service_notify(const char *state) FM_MUST_USE;
/* The watchdog period the manager asks for ($WATCHDOG_USEC, for this pid
 * when $WATCHDOG_PID is set) in ms, 0 when there is none. The daemon sends
 * "WATCHDOG=1" at half of it. FM_EINVAL for a malformed value. */
int fm_service_watchdog_ms(uint64_t *period_ms) FM_MUST_USE;

#endif
