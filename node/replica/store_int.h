/*
 * store_int.h — the node's thin wrapper around LMDB (node/replica/store.c is the
 * only file that includes lmdb.h).
 *
 * The rest of node/ sees named databases as an enum, transactions and
 * cursors as opaque handles, and fm_err codes instead of MDB_* codes.
 * Writes go through store_write(), which owns the "map full -> grow the
 * map -> run the whole transaction again" loop, so callers write their
 * transaction body once as a function that may be called several times.
 */
#ifndef FM_STORE_INT_H
#define FM_STORE_INT_H

#include "../../crypto/base/fm_base.h"

#include <string.h>

enum store_db {
    DB_OPS = 0,      /* author[32] | seq u64 BE -> op bytes */
    DB_HEADS,        /* author[32] -> head record (node_int.h) */
    DB_ENTITIES,     /* kind u8 | id text -> entity record (model.c) */
    DB_TIMELINE,     /* kind u8 | incident or ticket id | 0 | hlc BE | author[32] | seq BE
                      * -> entry */
    DB_COUNTERS,     /* resource id | 0 | author[32] -> P u64 BE | N u64 BE */
    DB_IDX_STATUS,   /* stage u8 | reported hlc BE | id -> "" */
    DB_IDX_CATEGORY, /* category | 0 | reported hlc BE | id -> "" */
    DB_IDX_TIME,     /* reported hlc BE | id -> "" */
    DB_REVOCATIONS,  /* node[32] -> last_seq u64 BE */
    DB_META,         /* name text -> value */
    /* field sync (docs/field-sync.md) */
    DB_SOFT,         /* u8 kind | target -> local seq u64 BE | soft record (latest only) */
    DB_SOFT_SEQ,     /* local seq u64 BE -> DB_SOFT key */
    DB_FORKS,        /* author[32] | seq u64 BE -> fork evidence (fork.c) */
    DB_FLAGS,        /* author[32] -> future-stamped ops seen (count, max skew, last seq) */
    DB_LOCAL,        /* u8 kind | key -> this node's own records, never synced nor digested
                      * (gps_local.c: the GPS reader's status, breadcrumb trails) */
    DB__COUNT
};

struct store;
struct store_txn;
struct store_cur;

enum store_open_flags {
    STORE_NOSYNC = 1, /* tests only: no fsync at commit */
};

/* Opens (creating dir 0700 and the databases if needed) the environment.
 * map_size is the initial size (an existing larger map is kept), map_max
 * the growth cap. Values are sealed under dk (borrowed: it must outlive
 * the store); NULL keeps them in clear, which only the benchmarks' plain
 * baseline does. Reads of a value that fails authentication return
 * FM_ETAMPER. */
struct fm_seal_key;
int store_open(struct store **out, const char *dir, uint64_t map_size, uint64_t map_max,
               unsigned flags, const struct fm_seal_key *dk) FM_MUST_USE;
void store_close(struct store **sp);

/* A read-only transaction. Ends with store_txn_abort. */
int store_read_begin(struct store *s, struct store_txn **out) FM_MUST_USE;
void store_txn_abort(struct store_txn **tp);

/* Runs fn(txn, ctx) in one write transaction and commits. If the map fills
 * (fn or the commit returns FM_EMAPFULL) the transaction is aborted, the
 * map doubled (up to map_max) and fn run again from the start; FM_EMAPFULL
 * once the cap is reached. Any other nonzero return of fn aborts and is
 * returned. fn must not keep state across calls except through ctx, which
 * it must reset itself. */
typedef int (*store_write_fn)(struct store_txn *t, void *ctx);
int store_write(struct store *s, store_write_fn fn, void *ctx) FM_MUST_USE;

/* Point operations. get: FM_ENOTFOUND if absent; the value is borrowed
 * until the transaction ends or the next write. put: FM_EMAPFULL when the
 * map is full (return it from the write fn to grow), FM_EEXISTS with
 * `no_overwrite` if the key exists. del: FM_ENOTFOUND if absent. */
int store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const uint8_t **val, size_t *vlen) FM_MUST_USE;
int store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const void *val, size_t vlen, bool no_overwrite) FM_MUST_USE;
int store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen) FM_MUST_USE;
/* Removes every entry of db (keeps the database). */
int store_clear(struct store_txn *t, enum store_db db) FM_MUST_USE;
int store_count(struct store_txn *t, enum store_db db, uint64_t *out) FM_MUST_USE;

/* Cursors. Each positioning call returns 0 with key/value borrowed (like
 * store_get), or FM_ENOTFOUND when there is no such entry. */
struct store_kv {
    const uint8_t *key, *val;
    size_t klen, vlen;
};
int store_cur_open(struct store_txn *t, enum store_db db, struct store_cur **out) FM_MUST_USE;
void store_cur_close(struct store_cur **cp);
int store_cur_first(struct store_cur *c, struct store_kv *kv) FM_MUST_USE;
int store_cur_last(struct store_cur *c, struct store_kv *kv) FM_MUST_USE;
int store_cur_next(struct store_cur *c, struct store_kv *kv) FM_MUST_USE;
int store_cur_prev(struct store_cur *c, struct store_kv *kv) FM_MUST_USE;
/* First key >= key. */
int store_cur_seek(struct store_cur *c, const void *key, size_t klen,
                   struct store_kv *kv) FM_MUST_USE;
/* Last key that starts with prefix (for newest-first index walks). */
int store_cur_seek_last_prefix(struct store_cur *c, const void *prefix, size_t plen,
                               struct store_kv *kv) FM_MUST_USE;
/* Deletes the entry under the cursor. */
int store_cur_del(struct store_cur *c) FM_MUST_USE;

/* Walks, in key order, the entries of db whose key starts with prefix
 * (plen 0: every entry); prefix must stay valid during the walk:
 *     struct store_each e;
 *     int rc = store_each_prefix(&e, t, DB_X, prefix, plen);
 *     while (rc == FM_OK && store_each_next(&e, &rc)) { ... e.kv ... }
 *     store_each_end(&e);
 * store_each_next gives the next entry in e.kv (true), or false at the
 * end (rc FM_OK) or on an error (rc set). The loop may break or write rc
 * itself; store_each_end closes the cursor in every case (safe twice).
 * e.c is the cursor, for store_cur_del on the current entry. */
struct store_each {
    struct store_cur *c;
    struct store_kv kv;
    const void *prefix;
    size_t plen;
    bool started;
};
int store_each_prefix(struct store_each *e, struct store_txn *t, enum store_db db,
                      const void *prefix, size_t plen) FM_MUST_USE;
bool store_each_next(struct store_each *e, int *rc);
void store_each_end(struct store_each *e);

/* Map size now, bytes in use (last page + 1 times page size). */
int store_info(struct store *s, uint64_t *map_size, uint64_t *used) FM_MUST_USE;
/* LMDB's id of the last committed write transaction, by any process
 * (0 on error): cheap, for "did anything change?" */
uint64_t store_last_txn(struct store *s);

/* Hot backup (backup.c): writes a compacted copy of the environment in
 * dir (which must hold data.mdb) to fd at its current offset, as LMDB's
 * compacting copy does it: from one read transaction, so the copy is one
 * consistent state while other processes keep writing; free pages are left
 * out. Values stay sealed as stored. Opens its own environment handle, so
 * the calling process must not have dir open. FM_ENOTFOUND without a
 * store, FM_ESTORE/FM_EIO otherwise. */
int store_copy_compact(const char *dir, int fd) FM_MUST_USE;

/* ---- fault simulation (tests only; docs/architecture.md "Fault injection")
 * Stable ids: a number keeps its meaning forever (tests and notes refer to
 * it); new points get new numbers. Each names one place where the write
 * path can fail and what the failure looks like to the caller. */
enum store_fault {
    STORE_FAULT_BEGIN = 1,    /* a write transaction cannot begin: FM_ESTORE */
    STORE_FAULT_MAP_FULL = 2, /* a put in a write transaction hits MDB_MAP_FULL: FM_EMAPFULL
                               * (store_write grows the map and runs the body again) */
    STORE_FAULT_COMMIT = 3,   /* the commit fails (EIO, as on a failed fsync): FM_ESTORE,
                               * the transaction is gone */
    STORE_FAULT_ALLOC = 4,    /* an allocation of the store inside a write transaction
                               * fails (a cursor): FM_ENOMEM */
    STORE_FAULT__COUNT
};
#define STORE_FAULT_ALWAYS (~0u)

#ifdef FM_FAULT_SIM
/* Arms fault `id`: the countdown-th check from now (1 = the next) fails,
 * and so do the repeat - 1 checks after it (STORE_FAULT_ALWAYS: every one;
 * 0 counts as 1). countdown 0 disarms. Process-wide, not thread-safe. */
void store_fault_set(enum store_fault id, unsigned countdown, unsigned repeat);
/* Disarms every fault. */
void store_fault_clear(void);
/* How many checks of `id` failed since it was last armed. */
uint64_t store_fault_hits(enum store_fault id);
/* The check at a fault point: true when it must fail now. */
bool store_fault_hit(enum store_fault id);
#define STORE_FAULT(id) store_fault_hit(id)
#else
#define STORE_FAULT(id) false
#endif

static inline bool store_kv_has_prefix(const struct store_kv *kv, const void *p, size_t n)
{
    return kv->klen >= n && memcmp(kv->key, p, n) == 0;
}

#endif
