/*
 * sync_limits.h — the sync engine's named limits: every cap, budget and
 * interval in one place, so a reader sees what bounds memory, messages
 * and timing (docs/sync.md). Private to sync/; included by sync_int.h.
 */
#ifndef FM_SYNC_LIMITS_H
#define FM_SYNC_LIMITS_H

/* ---- named limits ---- */
#define SYNC_MAX_AUTHORS 100000        /* authors tracked (store + claimed by peers) */
#define SYNC_CREDITS 8                /* PULL requests in flight per neighbour */
#define SYNC_SAME_SEQ_PROBES 32       /* head probes per vector that differs only in hashes */
#define SYNC_PULL_TIMEOUT_MS 5000      /* a PULL without reply frees its credit */
#define SYNC_PUSH_MAX_OPS 64           /* more missing than this: announce, let it pull */
#define SYNC_PUSH_MAX_BYTES (256u * 1024u)
#define SYNC_PUSH_MAX_AUTHORS 64       /* authors per push message; the rest are announced */
/* A reply stops adding ops past this; read_ops may overshoot by one op,
 * and the whole message must stay within FM_WIRE_MAX_MSG. */
#define SYNC_REPLY_MAX_BYTES (FM_WIRE_MAX_MSG - FM_OP_MAX_LEN - 4096u)
/* Pull replies from one neighbour that arrive together are ingested in
 * one store call (one LMDB transaction): at most this many ops / bytes. */
#define SYNC_INGEST_MAX_OPS 8192
#define SYNC_INGEST_MAX_BYTES (4u * FM_WIRE_MAX_MSG)
#define SYNC_PEND_MAX 16               /* messages held for one such call */
#define SYNC_DIAL_RETRY_MS 5           /* first SUMMARY retried this often while dialling */
#define SYNC_DIAL_FAST_MS 2000         /* ... for this long after a DEALER opens */
#define SYNC_HWM 64                    /* ZMQ_SNDHWM / RCVHWM per socket, in messages */
#define SYNC_LINGER_MS 50
#define SYNC_RECV_BURST 256            /* messages taken from one socket per poll */
#define SYNC_ROUTE_MAX 255             /* ZeroMQ routing ids are at most 255 bytes */
#define SYNC_ADDR_MAX 64               /* a peer's address as clone.c keeps it */
#define SYNC_CLONE_ROUTES 4            /* connections per neighbour clone.c remembers */
#define SYNC_ZAP_DOMAIN "fieldmesh"

/* field sync (rate.c, soft.c) */
#define SYNC_CLASSES 5                 /* send queue classes: control, critical, ordinary, bulk, soft */
#define SYNC_CLASS_CONTROL 0
#define SYNC_CLASS_SOFT 4
#define SYNC_QUEUE_MAX_BYTES (256u * 1024u) /* per neighbour, all classes */
#define SYNC_WIRE_OVERHEAD 40          /* ZMTP + CurveZMQ bytes per message, charged to the limit */
#define SYNC_SOFT_MSG_MAX (16u * 1024u) /* bytes of soft records per message */
#define SYNC_SOFT_INTERVAL_MS 250      /* soft state goes out at most this often per neighbour */
#define SYNC_SOFT_SLOW_INTERVAL_MS 2000 /* ... and this often over a rate-limited link */
#define SYNC_PROBE_INTERVAL_MS 1000    /* fork probes per author at most this often */
#define SYNC_HELLOS 3                  /* version-2 hellos per link-up before a silent peer counts as version 1 */
#define SYNC_PROBE_SPAN 8              /* seqs asked per step when a probe walks down to a fork's root */
#define SYNC_REFUSE_BACKOFF_MIN_MS 2000    /* first wait before re-pulling a refused author */
#define SYNC_REFUSE_BACKOFF_MAX_MS 300000  /* ... doubling up to five minutes */
#define SYNC_FAULT_BACKOFF_MIN_MS 1000  /* a store that cannot take ops: first pause of pulls */
#define SYNC_FAULT_BACKOFF_MAX_MS 60000  /* ... doubling up to a minute (fault.c) */
#define SYNC_KNOCK_KEYS 64             /* refused keys whose refusals are counted (knock.c) */
#define SYNC_KNOCK_FORGET_MS 3600000   /* ... a key quiet this long starts counting again */
#define SYNC_BIND_RETRY_MS 30000       /* the listen port in use at start: retried this long */
#define SYNC_BIND_RETRY_STEP_MS 250    /* ... this often */
#define SYNC_PULLS_PER_S 1000         /* PULLs one key may have answered per second (budget.c) */
#define SYNC_PULLS_BURST 1000          /* ... at once after a quiet spell */
#define SYNC_DEFER_MAX 16              /* PULLs held per neighbour over its reply budget (budget.c) */
#define SYNC_DEFER_MSG_MAX (16u + FM_WIRE_PULL_MAX * FM_WIRE_ENTRY_LEN) /* ... each at most */
#define SYNC_CONN_KEY_CAP_MAX 64       /* gossip.max_conns_per_key at most (conns.c) */
#define SYNC_CONNS_MAX 65536           /* gossip.max_conns at most */
#define SYNC_CONN_SILENT_MS 10000      /* a connection that says nothing this long is closed */
#define SYNC_CONN_AUDIT_MS 5000       /* conns_mon.c checks its records against the sockets */
#define SYNC_CONN_LOG_MS 60000         /* one line per key this often about its refusals */
#define SYNC_ZAP_OVER_CAP "300"        /* ZAP status refusing a key over its connection cap */
#define SYNC_CAP_RETRY_MS 2000         /* refused over a peer's cap: dial again after this */
#define SYNC_AGING_MS 2000             /* a queued message waiting this long goes next: no class starves */
/* An eager copy arriving this much later than a lazy announcement of the
 * same op swaps the two links (Plumtree's optimisation): the announcing
 * neighbour's path is shorter. */
#define SYNC_OPTIMISE_MS 4
/* The spanning tree of wire version 5 (tree.c): the root says it is there
 * once per beat with a new epoch; a claim this many beats behind the
 * newest of its root is stale; a root silent this many beats is given up. */
#define SYNC_TREE_BEAT_MS 1000
#define SYNC_TREE_FRESH_BEATS 4
#define SYNC_TREE_DEAD_BEATS 4
#define SYNC_TREE_RESEND_MS 200 /* a child that has not answered our epoch: again */
/* Roots whose newest epoch each node remembers (tree.c, roots[]). */
#define SYNC_TREE_ROOTS 16
#define SYNC_TREE_GAP_MS 20    /* our claim goes to all neighbours at most this often */
/* A push that brought only duplicates prunes its link (Plumtree) unless
 * that link brought us an op we lacked within this long: a link in use by
 * some writers' ops is not cut for another writer's duplicate. One shared
 * tree serves every writer, and cutting it for each duplicate left a
 * forest that lazy pulls had to stitch together (docs/performance.md,
 * "prune only quiet links"). */
#define SYNC_PRUNE_QUIET_MS 2000
/* Catch-up is not gossiped on (gossip.c, mark_catchup): an op that comes
 * in answer to an anti-entropy pull while we wanted SYNC_CATCHUP_AUTHORS
 * or more authors from that neighbour (a partition healing, a node back
 * from a crash; a lost message or two leaves fewer behind, and those
 * repairs are gossiped on) and is stamped more than SYNC_LAZY_LIVE_MS
 * before our clock. Live gossip reaches every node in well under a
 * second. */
#define SYNC_CATCHUP_AUTHORS 8
#define SYNC_LAZY_LIVE_MS 5000

#endif
