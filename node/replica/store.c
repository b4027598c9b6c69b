/*
 * store.c — LMDB behind a small interface of named databases, opaque
 * transactions and cursors, and fm_err codes.
 *
 * The one idea worth knowing: write transactions are functions. LMDB's map
 * is a fixed-size mapping; when a write fills it (MDB_MAP_FULL) the only
 * safe move is to abort, enlarge the map while no transaction of this
 * process is active, and redo the whole transaction. store_write() does
 * exactly that, doubling the map up to the configured cap. Another process
 * that grew the map makes our next mdb_txn_begin fail with MDB_MAP_RESIZED;
 * we adopt the new size with mdb_env_set_mapsize(env, 0) and try again.
 * The environment is opened with MDB_NOTLS so read transactions are not
 * tied to threads and several may be open at once (nested read callbacks).
 *
 * Values are sealed (docs/security.md): each value is stored as
 * header | ciphertext | tag under the node's data key (AES-256-GCM where
 * the CPU has AES-NI, else XChaCha20-Poly1305: crypto/vault.c; both are
 * read), with the database number and the LMDB key as associated data, so
 * a value moved to another key fails to open (FM_ETAMPER). The three
 * index databases, whose values are always empty, are not sealed, nor is a
 * timeline value of one byte (an entry's kind alone, as for every note:
 * docs/security.md says why). Keys stay in
 * clear (they hold ids, hashes, seqs and stamps only: the layouts are in
 * store_int.h). A value read is opened into memory owned by the
 * transaction (an arena of chunks, wiped and freed when the transaction
 * ends), so a borrowed value lives as long as its transaction, as in LMDB.
 * A write transaction opens each value at most once and seals a value it
 * writes more than once only at commit (store_cache.h).
 *
 * Built with FM_FAULT_SIM (tests only: the test_faults program links a
 * copy of the node library built so), the write path has numbered fault
 * points, after SQLite's sqlite3FaultSim: a test arms one with
 * store_fault_set() and the chosen check fails as LMDB itself would fail
 * there. Release builds have neither the points nor the setter.
 */
#include "store_int.h"
#include "store_cache.h"

#include "../../crypto/crypto.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const store_db_names[DB__COUNT] = {
    [DB_OPS] = "ops",
    [DB_HEADS] = "heads",
    [DB_ENTITIES] = "entities",
    [DB_TIMELINE] = "timeline",
    [DB_COUNTERS] = "counters",
    [DB_IDX_STATUS] = "idx_status",
    [DB_IDX_CATEGORY] = "idx_category",
    [DB_IDX_TIME] = "idx_time",
    [DB_REVOCATIONS] = "revocations",
    [DB_META] = "meta",
    [DB_SOFT] = "soft",
    [DB_SOFT_SEQ] = "soft_seq",
    [DB_FORKS] = "forks",
    [DB_FLAGS] = "flags",
    [DB_LOCAL] = "local",
};

struct store {
    MDB_env *env;
    MDB_dbi dbi[DB__COUNT];
    uint64_t map_max;
    struct fm_vault *vault; /* seals under the data key; NULL: values in clear (benchmarks) */
};

/* Plaintext of values read in one transaction. */
struct store_chunk {
    struct store_chunk *next;
    size_t used, cap;
    uint8_t data[];
};
#define STORE_CHUNK_MIN (64u << 10)

struct store_txn {
    struct store *s;
    MDB_txn *txn;
    bool write; /* begun by store_write (fault points apply) */
    struct store_chunk *chunks;
    struct store_cache cache; /* write transactions: opened and pending values */
};

struct store_cur {
    MDB_cursor *c;
    struct store_txn *t;
    enum store_db db;
};

#ifdef FM_FAULT_SIM
/* Per id: checks to let pass before failing (0 = disarmed), then how many
 * consecutive checks fail; and how many have failed since armed. */
static struct {
    unsigned countdown, repeat;
    uint64_t hits;
} store_faults[STORE_FAULT__COUNT];

void store_fault_set(enum store_fault id, unsigned countdown, unsigned repeat)
{
    if ((unsigned)id >= STORE_FAULT__COUNT)
        return;
    store_faults[id].countdown = countdown;
    store_faults[id].repeat = repeat ? repeat : 1;
    store_faults[id].hits = 0;
}

void store_fault_clear(void)
{
    memset(store_faults, 0, sizeof store_faults);
}

uint64_t store_fault_hits(enum store_fault id)
{
    return (unsigned)id < STORE_FAULT__COUNT ? store_faults[id].hits : 0;
}

bool store_fault_hit(enum store_fault id)
{
    if ((unsigned)id >= STORE_FAULT__COUNT || store_faults[id].countdown == 0)
        return false;
    if (store_faults[id].countdown > 1) {
        store_faults[id].countdown--;
        return false;
    }
    store_faults[id].hits++;
    if (store_faults[id].repeat != STORE_FAULT_ALWAYS && --store_faults[id].repeat == 0)
        store_faults[id].countdown = 0;
    return true;
}
#endif

static int store_err(int mrc, const char *what)
{
    switch (mrc) {
    case MDB_SUCCESS:
        return FM_OK;
    case MDB_NOTFOUND:
        return FM_ENOTFOUND;
    case MDB_KEYEXIST:
        return FM_EEXISTS;
    case MDB_MAP_FULL:
        return FM_EMAPFULL;
    case ENOMEM:
        return FM_ENOMEM;
    default:
        fm_log(FM_LOG_ERROR, "store", "%s: %s", what, mdb_strerror(mrc));
        return FM_ESTORE;
    }
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int store_mkdirs(const char *dir)
{
    char path[1024];
    if (fm_strlcpy(path, dir, sizeof path) != FM_OK || path[0] == '\0')
        return FM_EINVAL;
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST) {
                fm_log(FM_LOG_ERROR, "store", "mkdir %s: %s", path, strerror(errno));
                return FM_EIO;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return FM_EIO;
    return FM_OK;
}

/* Begins a transaction, adopting a map grown by another process. */
static int store_begin_raw(struct store *s, unsigned flags, MDB_txn **out)
{
    for (int tries = 0;; tries++) {
        int mrc = mdb_txn_begin(s->env, NULL, flags, out);
        if (mrc == MDB_MAP_RESIZED && tries < 8) {
            mrc = mdb_env_set_mapsize(s->env, 0);
            if (mrc != MDB_SUCCESS)
                return store_err(mrc, "set_mapsize");
            continue;
        }
        return store_err(mrc, "txn_begin");
    }
}

int store_open(struct store **out, const char *dir, uint64_t map_size, uint64_t map_max,
               unsigned flags, const struct fm_seal_key *dk)
{
    *out = NULL;
    int rc = store_mkdirs(dir);
    if (rc != FM_OK)
        return rc;
    struct store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return FM_ENOMEM;
    if (map_size < (1u << 20))
        map_size = 1u << 20;
    if (dk != NULL && (rc = fm_vault_new(&s->vault, dk, FM_VAULT_AUTO)) != FM_OK) {
        free(s);
        return rc;
    }
    s->map_max = map_max < map_size ? map_size : map_max;
    int mrc = mdb_env_create(&s->env);
    if (mrc != MDB_SUCCESS) {
        rc = store_err(mrc, "env_create");
        goto fail_free;
    }
    unsigned envflags = MDB_NOTLS | ((flags & STORE_NOSYNC) ? MDB_NOSYNC : 0);
    if ((mrc = mdb_env_set_maxdbs(s->env, DB__COUNT + 4)) != MDB_SUCCESS ||
        (mrc = mdb_env_set_mapsize(s->env, (size_t)map_size)) != MDB_SUCCESS ||
        (mrc = mdb_env_open(s->env, dir, envflags, 0600)) != MDB_SUCCESS) {
        rc = store_err(mrc, "env_open");
        goto fail_env;
    }
    MDB_txn *txn;
    if ((rc = store_begin_raw(s, 0, &txn)) != FM_OK)
        goto fail_env;
    for (int i = 0; i < DB__COUNT; i++) {
        mrc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE, &s->dbi[i]);
        if (mrc != MDB_SUCCESS) {
            mdb_txn_abort(txn);
            rc = store_err(mrc, "dbi_open");
            goto fail_env;
        }
    }
    if ((mrc = mdb_txn_commit(txn)) != MDB_SUCCESS) {
        rc = store_err(mrc, "commit");
        goto fail_env;
    }
    *out = s;
    return FM_OK;
fail_env:
    mdb_env_close(s->env);
fail_free:
    fm_vault_free(&s->vault);
    free(s);
    return rc;
}

void store_close(struct store **sp)
{
    if (sp == NULL || *sp == NULL)
        return;
    mdb_env_close((*sp)->env);
    fm_vault_free(&(*sp)->vault);
    free(*sp);
    *sp = NULL;
}

int store_read_begin(struct store *s, struct store_txn **out)
{
    *out = NULL;
    struct store_txn *t = calloc(1, sizeof *t);
    if (t == NULL)
        return FM_ENOMEM;
    t->s = s;
    int rc = store_begin_raw(s, MDB_RDONLY, &t->txn);
    if (rc != FM_OK) {
        free(t);
        return rc;
    }
    *out = t;
    return FM_OK;
}

/* Wipes and frees the plaintext of every value this transaction read. */
static void store_chunks_free(struct store_txn *t)
{
    while (t->chunks != NULL) {
        struct store_chunk *c = t->chunks;
        t->chunks = c->next;
        fm_wipe(c->data, c->used);
        free(c);
    }
}

/* n bytes that live until the transaction ends. */
static uint8_t *store_scratch(struct store_txn *t, size_t n)
{
    struct store_chunk *c = t->chunks;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > STORE_CHUNK_MIN ? n : STORE_CHUNK_MIN;
        if ((c = malloc(sizeof *c + cap)) == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = t->chunks;
        t->chunks = c;
    }
    uint8_t *p = c->data + c->used;
    c->used += n;
    return p;
}

/* The associated data of a value: its database and key. */
static size_t store_ad(uint8_t ad[1 + 512], enum store_db db, const void *key, size_t klen)
{
    ad[0] = (uint8_t)db;
    if (klen > 511)
        klen = 511; /* LMDB's default key cap; longer keys are refused by LMDB */
    memcpy(ad + 1, key, klen);
    return 1 + klen;
}

/* The three indexes hold their entry in the key and an empty value:
 * nothing to hide there, and not sealing them saves three seals per op. */
static bool store_sealed_db(const struct store *s, enum store_db db)
{
    return s->vault != NULL && db != DB_IDX_STATUS && db != DB_IDX_CATEGORY && db != DB_IDX_TIME;
}

/* A timeline entry whose value is its kind byte alone (every note: its
 * text stays in the op; an entry with empty text): stored in clear, like
 * the index entries. A sealed value is never this short, so reading tells
 * the two apart. */
static bool store_clear_val(enum store_db db, size_t vlen)
{
    return db == DB_TIMELINE && vlen == 1;
}

/* Opens the sealed value v stored under k in place of v. */
static int store_open_val(struct store_txn *t, enum store_db db, const MDB_val *k, MDB_val *v)
{
    if (!store_sealed_db(t->s, db) || store_clear_val(db, v->mv_size))
        return FM_OK;
    static struct fm_log_limiter lim;
    uint8_t ad[1 + 512];
    size_t adlen = store_ad(ad, db, k->mv_data, k->mv_size);
    if (v->mv_size < FM_VAULT_OVERHEAD) {
        fm_log_limited(&lim, 3, FM_LOG_ERROR, "store", "a value in %s is not sealed",
                       store_db_names[db]);
        return FM_ETAMPER;
    }
    size_t n = v->mv_size - FM_VAULT_OVERHEAD;
    uint8_t *pt = store_scratch(t, n ? n : 1);
    if (pt == NULL)
        return FM_ENOMEM;
    int rc = fm_vault_open(t->s->vault, ad, adlen, v->mv_data, v->mv_size, pt);
    if (rc == FM_EINVAL) {
        fm_log_limited(&lim, 3, FM_LOG_ERROR, "store",
                       "a value in %s is sealed with AES-256-GCM, which this CPU cannot run "
                       "(no AES-NI): open this store on the machine that wrote it, or move "
                       "data.mdb aside and let the node take its ops back from its peers "
                       "(docs/security.md)",
                       store_db_names[db]);
        return FM_ESTORE;
    }
    if (rc != FM_OK) {
        fm_log_limited(&lim, 3, FM_LOG_ERROR, "store",
                       rc == FM_EDECODE ? "a value in %s is in a format this version does not know"
                                        : "a value in %s failed authentication (moved, altered, "
                                          "or another key)",
                       store_db_names[db]);
        return FM_ETAMPER;
    }
    v->mv_data = pt;
    v->mv_size = n;
    return FM_OK;
}

/* Whether reads and writes of db in t go through t's value table. */
static bool store_cached_db(const struct store_txn *t, enum store_db db)
{
    return t->write && store_sealed_db(t->s, db);
}

/* Records (db, key) -> plaintext val in t's table, copying both into the
 * arena. FM_ENOMEM leaves the table as it was. */
static int store_cache_note(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                            const void *val, size_t vlen, enum store_cache_state state)
{
    struct store_cache_ent *e = store_cache_find(&t->cache, db, key, klen);
    uint8_t *kc = NULL;
    if (e == NULL && (kc = store_scratch(t, klen ? klen : 1)) == NULL)
        return FM_ENOMEM;
    uint8_t *vc = store_scratch(t, vlen ? vlen : 1);
    if (vc == NULL)
        return FM_ENOMEM;
    if (e == NULL) {
        memcpy(kc, key, klen);
        bool made;
        if ((e = store_cache_slot(&t->cache, db, kc, klen, &made)) == NULL)
            return FM_ENOMEM;
        e->key = kc;
    }
    if (vlen)
        memcpy(vc, val, vlen);
    e->val = vc;
    e->vlen = vlen;
    e->state = (uint8_t)state;
    return FM_OK;
}

static int store_put_sealed(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                            const void *val, size_t vlen, unsigned mflags);

/* At commit: seals and puts every value written again after its first put. */
static int store_cache_flush(struct store_txn *t)
{
    for (size_t i = 0; i < t->cache.cap; i++) {
        struct store_cache_ent *e = &t->cache.e[i];
        if (e->hash == 0 || e->state != SC_PENDING)
            continue;
        int rc = store_put_sealed(t, (enum store_db)e->db, e->key, e->klen, e->val, e->vlen, 0);
        if (rc != FM_OK)
            return rc;
        e->state = SC_CLEAN;
    }
    return FM_OK;
}

void store_txn_abort(struct store_txn **tp)
{
    if (tp == NULL || *tp == NULL)
        return;
    mdb_txn_abort((*tp)->txn);
    store_chunks_free(*tp);
    free(*tp);
    *tp = NULL;
}

/* Doubles the map, capped at map_max. Needs no transaction of this process
 * to be active (true between attempts in store_write). */
static int store_grow(struct store *s)
{
    MDB_envinfo info;
    int mrc = mdb_env_info(s->env, &info);
    if (mrc != MDB_SUCCESS)
        return store_err(mrc, "env_info");
    uint64_t cur = info.me_mapsize;
    uint64_t next = cur > UINT64_MAX / 2 ? UINT64_MAX : cur * 2;
    if (next > s->map_max)
        next = s->map_max;
    if (next <= cur) {
        fm_log(FM_LOG_ERROR, "store", "map full at %llu bytes (cap reached)",
               (unsigned long long)cur);
        return FM_EMAPFULL;
    }
    mrc = mdb_env_set_mapsize(s->env, (size_t)next);
    if (mrc != MDB_SUCCESS)
        return store_err(mrc, "set_mapsize");
    fm_log(FM_LOG_INFO, "store", "map grown to %llu bytes", (unsigned long long)next);
    return FM_OK;
}

int store_write(struct store *s, store_write_fn fn, void *ctx)
{
    for (;;) {
        struct store_txn t = {.s = s, .write = true};
        int rc = STORE_FAULT(STORE_FAULT_BEGIN) ? store_err(EIO, "txn_begin")
                                                : store_begin_raw(s, 0, &t.txn);
        if (rc != FM_OK)
            return rc;
        rc = fn(&t, ctx);
        if (rc == FM_OK)
            rc = store_cache_flush(&t);
        if (rc == FM_OK) {
            int mrc;
            if (STORE_FAULT(STORE_FAULT_COMMIT)) {
                mdb_txn_abort(t.txn); /* a failed mdb_txn_commit frees the txn too */
                mrc = EIO;
            } else {
                mrc = mdb_txn_commit(t.txn);
            }
            rc = store_err(mrc, "commit");
        } else {
            mdb_txn_abort(t.txn);
        }
        store_cache_free(&t.cache);
        store_chunks_free(&t);
        if (rc != FM_EMAPFULL)
            return rc;
        if ((rc = store_grow(s)) != FM_OK)
            return rc;
    }
}

static MDB_val store_val(const void *p, size_t n)
{
    MDB_val v = {.mv_size = n, .mv_data = (void *)p};
    return v;
}

int store_get(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const uint8_t **val, size_t *vlen)
{
    const struct store_cache_ent *e =
        store_cached_db(t, db) ? store_cache_find(&t->cache, db, key, klen) : NULL;
    if (e != NULL) {
        if (e->state == SC_GONE)
            return FM_ENOTFOUND;
        *val = e->val;
        *vlen = e->vlen;
        return FM_OK;
    }
    MDB_val k = store_val(key, klen), v;
    int mrc = mdb_get(t->txn, t->s->dbi[db], &k, &v);
    if (mrc != MDB_SUCCESS)
        return store_err(mrc, "get");
    int rc = store_open_val(t, db, &k, &v);
    if (rc != FM_OK)
        return rc;
    if (store_cached_db(t, db) &&
        (rc = store_cache_note(t, db, key, klen, v.mv_data, v.mv_size, SC_CLEAN)) != FM_OK)
        return rc;
    *val = v.mv_data;
    *vlen = v.mv_size;
    return FM_OK;
}

/* Seals (for a sealed database) and puts one value now. */
static int store_put_sealed(struct store_txn *t, enum store_db db, const void *key, size_t klen,
                            const void *val, size_t vlen, unsigned mflags)
{
    MDB_val k = store_val(key, klen), v = store_val(val, vlen);
    if (STORE_FAULT(STORE_FAULT_MAP_FULL))
        return store_err(MDB_MAP_FULL, "put");
    uint8_t small[1024], *sealed = NULL;
    if (store_sealed_db(t->s, db) && !store_clear_val(db, vlen)) {
        uint8_t ad[1 + 512];
        size_t adlen = store_ad(ad, db, key, klen);
        if (vlen > SIZE_MAX - FM_VAULT_OVERHEAD)
            return FM_ETOOBIG;
        size_t n = vlen + FM_VAULT_OVERHEAD;
        sealed = n <= sizeof small ? small : malloc(n);
        if (sealed == NULL)
            return FM_ENOMEM;
        fm_vault_seal(t->s->vault, ad, adlen, val, vlen, sealed);
        v = store_val(sealed, n);
    }
    int mrc = mdb_put(t->txn, t->s->dbi[db], &k, &v, mflags);
    if (sealed != NULL && sealed != small)
        free(sealed);
    return store_err(mrc, "put");
}

int store_put(struct store_txn *t, enum store_db db, const void *key, size_t klen,
              const void *val, size_t vlen, bool no_overwrite)
{
    if (!store_cached_db(t, db))
        return store_put_sealed(t, db, key, klen, val, vlen, no_overwrite ? MDB_NOOVERWRITE : 0);
    const struct store_cache_ent *e = store_cache_find(&t->cache, db, key, klen);
    if (e != NULL && e->state != SC_GONE) {
        /* LMDB holds the key already: seal the newest value at commit. */
        if (no_overwrite)
            return FM_EEXISTS;
        if (STORE_FAULT(STORE_FAULT_MAP_FULL))
            return store_err(MDB_MAP_FULL, "put");
        return store_cache_note(t, db, key, klen, val, vlen, SC_PENDING);
    }
    int rc = store_put_sealed(t, db, key, klen, val, vlen, no_overwrite ? MDB_NOOVERWRITE : 0);
    /* A write-once value (an op, a timeline entry) is rarely read or
     * written again in its transaction: not copying it into the table
     * saves more than the occasional open of it costs. LMDB holds its
     * latest value, so the table stays right without it — unless the
     * table has an entry for the key already: one deleted in this
     * transaction (a fork's cut op put back, with another value) would
     * otherwise keep saying "gone" and hide the value LMDB now holds. */
    if (rc == FM_OK && (!no_overwrite || e != NULL))
        rc = store_cache_note(t, db, key, klen, val, vlen, SC_CLEAN);
    return rc;
}

int store_del(struct store_txn *t, enum store_db db, const void *key, size_t klen)
{
    MDB_val k = store_val(key, klen);
    int mrc = mdb_del(t->txn, t->s->dbi[db], &k, NULL);
    struct store_cache_ent *e =
        store_cached_db(t, db) ? store_cache_find(&t->cache, db, key, klen) : NULL;
    if (e != NULL && mrc == MDB_SUCCESS)
        e->state = SC_GONE;
    return store_err(mrc, "del");
}

int store_clear(struct store_txn *t, enum store_db db)
{
    int mrc = mdb_drop(t->txn, t->s->dbi[db], 0);
    if (mrc == MDB_SUCCESS)
        store_cache_drop_db(&t->cache, db);
    return store_err(mrc, "drop");
}

int store_count(struct store_txn *t, enum store_db db, uint64_t *out)
{
    MDB_stat st;
    int mrc = mdb_stat(t->txn, t->s->dbi[db], &st);
    if (mrc != MDB_SUCCESS)
        return store_err(mrc, "stat");
    *out = st.ms_entries;
    return FM_OK;
}

int store_cur_open(struct store_txn *t, enum store_db db, struct store_cur **out)
{
    *out = NULL;
    struct store_cur *c = t->write && STORE_FAULT(STORE_FAULT_ALLOC) ? NULL
                                                                      : calloc(1, sizeof *c);
    if (c == NULL)
        return FM_ENOMEM;
    int mrc = mdb_cursor_open(t->txn, t->s->dbi[db], &c->c);
    if (mrc != MDB_SUCCESS) {
        free(c);
        return store_err(mrc, "cursor_open");
    }
    c->t = t;
    c->db = db;
    *out = c;
    return FM_OK;
}

void store_cur_close(struct store_cur **cp)
{
    if (cp == NULL || *cp == NULL)
        return;
    mdb_cursor_close((*cp)->c);
    free(*cp);
    *cp = NULL;
}

static int store_cur_get(struct store_cur *c, MDB_val *k, struct store_kv *kv, MDB_cursor_op op)
{
    MDB_val v;
    int mrc = mdb_cursor_get(c->c, k, &v, op);
    if (mrc != MDB_SUCCESS)
        return store_err(mrc, "cursor_get");
    /* A value this transaction wrote again is newer in the table than in
     * LMDB; cursor reads are not added to it (a scan would fill it). */
    const struct store_cache_ent *e =
        store_cached_db(c->t, c->db) ? store_cache_find(&c->t->cache, c->db, k->mv_data, k->mv_size)
                                     : NULL;
    int rc = FM_OK;
    if (e != NULL && e->state != SC_GONE) {
        v.mv_data = (void *)e->val;
        v.mv_size = e->vlen;
    } else if ((rc = store_open_val(c->t, c->db, k, &v)) != FM_OK) {
        return rc;
    }
    kv->key = k->mv_data;
    kv->klen = k->mv_size;
    kv->val = v.mv_data;
    kv->vlen = v.mv_size;
    return FM_OK;
}

int store_cur_first(struct store_cur *c, struct store_kv *kv)
{
    MDB_val k = {0};
    return store_cur_get(c, &k, kv, MDB_FIRST);
}

int store_cur_last(struct store_cur *c, struct store_kv *kv)
{
    MDB_val k = {0};
    return store_cur_get(c, &k, kv, MDB_LAST);
}

int store_cur_next(struct store_cur *c, struct store_kv *kv)
{
    MDB_val k = {0};
    return store_cur_get(c, &k, kv, MDB_NEXT);
}

int store_cur_prev(struct store_cur *c, struct store_kv *kv)
{
    MDB_val k = {0};
    return store_cur_get(c, &k, kv, MDB_PREV);
}

int store_cur_seek(struct store_cur *c, const void *key, size_t klen, struct store_kv *kv)
{
    if (klen == 0)
        return store_cur_first(c, kv);
    MDB_val k = store_val(key, klen);
    return store_cur_get(c, &k, kv, MDB_SET_RANGE);
}

int store_each_prefix(struct store_each *e, struct store_txn *t, enum store_db db,
                      const void *prefix, size_t plen)
{
    memset(e, 0, sizeof *e);
    e->prefix = prefix;
    e->plen = plen;
    return store_cur_open(t, db, &e->c);
}

bool store_each_next(struct store_each *e, int *rc)
{
    if (e->c == NULL)
        return false;
    int r = e->started ? store_cur_next(e->c, &e->kv)
                       : store_cur_seek(e->c, e->prefix, e->plen, &e->kv);
    e->started = true;
    if (r == FM_OK && (e->plen == 0 || store_kv_has_prefix(&e->kv, e->prefix, e->plen)))
        return true;
    *rc = r == FM_ENOTFOUND ? FM_OK : r;
    store_each_end(e);
    return false;
}

void store_each_end(struct store_each *e)
{
    store_cur_close(&e->c);
}

int store_cur_seek_last_prefix(struct store_cur *c, const void *prefix, size_t plen,
                               struct store_kv *kv)
{
    uint8_t succ[512];
    if (plen > sizeof succ)
        return FM_EINVAL;
    /* The smallest key greater than every key with this prefix: the prefix
     * with its last non-0xff byte incremented and the rest dropped. */
    memcpy(succ, prefix, plen);
    size_t slen = plen;
    while (slen > 0 && succ[slen - 1] == 0xff)
        slen--;
    int rc;
    if (slen == 0) {
        rc = store_cur_last(c, kv);
    } else {
        succ[slen - 1]++;
        rc = store_cur_seek(c, succ, slen, kv);
        if (rc == FM_OK)
            rc = store_cur_prev(c, kv);
        else if (rc == FM_ENOTFOUND)
            rc = store_cur_last(c, kv);
    }
    if (rc != FM_OK)
        return rc;
    return store_kv_has_prefix(kv, prefix, plen) ? FM_OK : FM_ENOTFOUND;
}

int store_cur_del(struct store_cur *c)
{
    MDB_val k = {0}, v;
    struct store_cache_ent *e = NULL;
    if (store_cached_db(c->t, c->db) &&
        mdb_cursor_get(c->c, &k, &v, MDB_GET_CURRENT) == MDB_SUCCESS)
        e = store_cache_find(&c->t->cache, c->db, k.mv_data, k.mv_size);
    int mrc = mdb_cursor_del(c->c, 0);
    if (e != NULL && mrc == MDB_SUCCESS)
        e->state = SC_GONE;
    return store_err(mrc, "cursor_del");
}

int store_info(struct store *s, uint64_t *map_size, uint64_t *used)
{
    MDB_envinfo info;
    MDB_stat st;
    int mrc = mdb_env_info(s->env, &info);
    if (mrc == MDB_SUCCESS)
        mrc = mdb_env_stat(s->env, &st);
    if (mrc != MDB_SUCCESS)
        return store_err(mrc, "env_info");
    *map_size = info.me_mapsize;
    *used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    return FM_OK;
}

int store_copy_compact(const char *dir, int fd)
{
    char path[FM_BASE_PATH_MAX + 16];
    MDB_env *env;
    if ((size_t)snprintf(path, sizeof path, "%s/data.mdb", dir) >= sizeof path)
        return FM_ETOOBIG;
    if (access(path, F_OK) != 0)
        return errno == ENOENT ? FM_ENOTFOUND : FM_EIO;
    int mrc = mdb_env_create(&env);
    if (mrc != MDB_SUCCESS)
        return store_err(mrc, "env_create");
    /* no mapsize: LMDB takes the file's own size; the databases are not
     * opened, the copy walks every tree itself */
    if ((mrc = mdb_env_set_maxdbs(env, DB__COUNT + 4)) == MDB_SUCCESS &&
        (mrc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) == MDB_SUCCESS)
        mrc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
    mdb_env_close(env);
    return mrc == MDB_SUCCESS ? FM_OK : store_err(mrc, "env_copy");
}

uint64_t store_last_txn(struct store *s)
{
    MDB_envinfo info;
    return mdb_env_info(s->env, &info) == MDB_SUCCESS ? (uint64_t)info.me_last_txnid : 0;
}
