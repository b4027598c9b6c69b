/*
 * store_cache.c — the table of a write transaction's opened and pending
 * values (store_cache.h says why it exists).
 *
 * Open addressing with linear probing over a power-of-two array, grown at
 * half full; entries are never removed (a deleted value is an entry in
 * state SC_GONE), so probing needs no tombstones. The table holds pointers
 * only: keys and values live in the transaction's arena (store.c), which
 * outlives the table and is wiped when the transaction ends.
 */
#include "store_cache.h"

#include <stdlib.h>
#include <string.h>

/* One 64-bit word into the hash: multiply and fold the high half down, so
 * the low bits (the slot) depend on every input bit. */
static uint64_t store_cache_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
    return h ^ (h >> 32);
}

/* A hash of the database number and the key, a word at a time (a byte at a
 * time was a tenth of what sealing costs on the ingest path); never 0 (0
 * marks a free slot). */
static uint64_t store_cache_hash(unsigned db, const void *key, size_t klen)
{
    const uint8_t *p = key;
    uint64_t h = store_cache_mix(UINT64_C(0xcbf29ce484222325), ((uint64_t)db << 32) | klen);
    for (; klen >= 8; p += 8, klen -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = store_cache_mix(h, w);
    }
    if (klen > 0) {
        uint64_t w = 0;
        memcpy(&w, p, klen);
        h = store_cache_mix(h, w);
    }
    h = store_cache_mix(h, UINT64_C(0x94d049bb133111eb));
    return h ? h : 1;
}

static bool store_cache_match(const struct store_cache_ent *e, uint64_t h, unsigned db,
                              const void *key, size_t klen)
{
    return e->hash == h && e->db == db && e->klen == klen && memcmp(e->key, key, klen) == 0;
}

struct store_cache_ent *store_cache_find(const struct store_cache *c, unsigned db,
                                         const void *key, size_t klen)
{
    if (c->cap == 0)
        return NULL;
    uint64_t h = store_cache_hash(db, key, klen);
    for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        struct store_cache_ent *e = &c->e[i];
        if (e->hash == 0)
            return NULL;
        if (store_cache_match(e, h, db, key, klen))
            return e;
    }
}

static bool store_cache_grow(struct store_cache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 64;
    struct store_cache_ent *e = calloc(cap, sizeof *e);
    if (e == NULL)
        return false;
    for (size_t i = 0; i < c->cap; i++) {
        if (c->e[i].hash == 0)
            continue;
        size_t j = c->e[i].hash & (cap - 1);
        while (e[j].hash != 0)
            j = (j + 1) & (cap - 1);
        e[j] = c->e[i];
    }
    free(c->e);
    c->e = e;
    c->cap = cap;
    return true;
}

struct store_cache_ent *store_cache_slot(struct store_cache *c, unsigned db, const void *key,
                                         size_t klen, bool *made)
{
    *made = false;
    struct store_cache_ent *e = store_cache_find(c, db, key, klen);
    if (e != NULL)
        return e;
    if ((c->used + 1) * 2 > c->cap && !store_cache_grow(c))
        return NULL;
    uint64_t h = store_cache_hash(db, key, klen);
    size_t i = h & (c->cap - 1);
    while (c->e[i].hash != 0)
        i = (i + 1) & (c->cap - 1);
    e = &c->e[i];
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->db = (uint8_t)db;
    e->klen = (uint16_t)klen;
    c->used++;
    *made = true;
    return e;
}

void store_cache_drop_db(struct store_cache *c, unsigned db)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->e[i].hash != 0 && c->e[i].db == db)
            c->e[i].state = SC_GONE;
}

void store_cache_free(struct store_cache *c)
{
    free(c->e);
    memset(c, 0, sizeof *c);
}
