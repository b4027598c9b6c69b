/*
 * store_cache.h — the opened values of one write transaction, by (database,
 * key): private to store.c (store_cache.c holds the table).
 *
 * Sealing and opening values is most of what encryption at rest costs, and
 * one write transaction reads and rewrites the same few values again and
 * again: the author's head once per op, the incident record once per note
 * of a batch. With the table a value is opened at most once per
 * transaction, and a value written again after its first put in the
 * transaction is only recorded here (PENDING) and sealed once, when the
 * transaction commits. Every read of the store inside the transaction
 * (gets and cursors) asks the table first, so it sees the latest value.
 */
#ifndef FM_STORE_CACHE_H
#define FM_STORE_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_cache_state {
    SC_CLEAN = 1,   /* the plaintext of what LMDB holds under the key */
    SC_PENDING = 2, /* newer than what LMDB holds: seal and put at commit */
    SC_GONE = 3,    /* deleted in this transaction */
};

struct store_cache_ent {
    uint64_t hash;        /* 0: free slot */
    const uint8_t *key;   /* borrowed from the transaction's arena */
    const uint8_t *val;   /* the plaintext, in the transaction's arena */
    size_t vlen;
    uint16_t klen;
    uint8_t db;
    uint8_t state;        /* enum store_cache_state */
};

struct store_cache {
    struct store_cache_ent *e;
    size_t cap, used;     /* cap: a power of two, or 0 */
};

/* The entry of (db, key), NULL if none. */
struct store_cache_ent *store_cache_find(const struct store_cache *c, unsigned db,
                                         const void *key, size_t klen);
/* The entry of (db, key), made if absent (*made set; the caller fills key,
 * val, vlen and state). NULL when out of memory. */
struct store_cache_ent *store_cache_slot(struct store_cache *c, unsigned db, const void *key,
                                         size_t klen, bool *made);
/* Marks every entry of db GONE (the database was emptied). */
void store_cache_drop_db(struct store_cache *c, unsigned db);
void store_cache_free(struct store_cache *c);

#endif
