/*
 * limits.h — the physical limits every benchmark prints beside its own
 * figures, measured in the same run on the same machine: raw Ed25519
 * sign/verify rate, raw BLAKE2b rate, raw LMDB batched put rate, and
 * CurveZMQ loopback message rate. Header-only so each bench_*.c stays one
 * translation unit.
 */
#ifndef FM_BENCH_LIMITS_H
#define FM_BENCH_LIMITS_H

#include <lmdb.h>
#include <sodium.h>
#include <zmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

static inline double lim_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline long lim_peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Current RSS in KiB: the second field of /proc/self/statm, in pages. */
static inline long lim_rss_kb(void)
{
    char buf[128];
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strchr(buf, ' '), *end;
    if (!p)
        return -1;
    long pages = strtol(p + 1, &end, 10);
    if (end == p + 1 || pages < 0)
        return -1;
    return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Ed25519 signatures per second over msglen-byte messages (one core). */
static inline double lim_sign_rate(size_t msglen, double seconds)
{
    unsigned char pk[32], sk[64], sig[64];
    unsigned char *msg = calloc(1, msglen);
    crypto_sign_keypair(pk, sk);
    long n = 0;
    double t0 = lim_now(), t;
    do {
        for (int i = 0; i < 256; i++, n++) {
            msg[0] = (unsigned char)n;
            crypto_sign_detached(sig, NULL, msg, msglen, sk);
        }
        t = lim_now();
    } while (t - t0 < seconds);
    free(msg);
    return (double)n / (t - t0);
}

static inline double lim_verify_rate(size_t msglen, double seconds)
{
    unsigned char pk[32], sk[64], sig[64];
    unsigned char *msg = calloc(1, msglen);
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, msglen, sk);
    long n = 0, bad = 0;
    double t0 = lim_now(), t;
    do {
        for (int i = 0; i < 256; i++, n++)
            bad += crypto_sign_verify_detached(sig, msg, msglen, pk) != 0;
        t = lim_now();
    } while (t - t0 < seconds);
    free(msg);
    if (bad)
        fprintf(stderr, "limits: verify failed %ld times\n", bad);
    return (double)n / (t - t0);
}

static inline double lim_blake2b_rate(size_t msglen, double seconds)
{
    unsigned char out[32];
    unsigned char *msg = calloc(1, msglen);
    long n = 0;
    double t0 = lim_now(), t;
    do {
        for (int i = 0; i < 4096; i++, n++) {
            msg[0] = (unsigned char)n;
            crypto_generichash(out, 32, msg, msglen, NULL, 0);
        }
        t = lim_now();
    } while (t - t0 < seconds);
    free(msg);
    return (double)n / (t - t0);
}

/* Raw LMDB puts per second: `total` puts of vlen-byte values with 8-byte
 * big-endian keys, `per_txn` per write transaction, in a fresh env under
 * dir (default sync on commit). */
static inline double lim_lmdb_put_rate(const char *dir, long total, long per_txn, size_t vlen)
{
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    double rate = -1;
    unsigned char *val = calloc(1, vlen);
    if (mdb_env_create(&env) != 0)
        goto out;
    mdb_env_set_mapsize(env, (size_t)8 << 30);
    if (mdb_env_open(env, dir, 0, 0600) != 0)
        goto close;
    double t0 = lim_now();
    for (long i = 0; i < total;) {
        if (mdb_txn_begin(env, NULL, 0, &txn) != 0 || mdb_dbi_open(txn, NULL, 0, &dbi) != 0)
            goto close;
        for (long j = 0; j < per_txn && i < total; j++, i++) {
            unsigned char k[8];
            for (int b = 0; b < 8; b++)
                k[b] = (unsigned char)((unsigned long)i >> (56 - 8 * b));
            MDB_val key = {8, k}, v = {vlen, val};
            val[0] = (unsigned char)i;
            if (mdb_put(txn, dbi, &key, &v, MDB_APPEND) != 0) {
                mdb_txn_abort(txn);
                goto close;
            }
        }
        if (mdb_txn_commit(txn) != 0)
            goto close;
    }
    rate = (double)total / (lim_now() - t0);
close:
    mdb_env_close(env);
out:
    free(val);
    return rate;
}

struct lim_zmq_args { void *ctx; const char *ep; long n; size_t len; unsigned char spk[32], ssk[32]; };

static inline void *lim_zmq_pull(void *p)
{
    struct lim_zmq_args *a = p;
    void *s = zmq_socket(a->ctx, ZMQ_PULL);
    int one = 1;
    zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, a->ssk, 32);
    zmq_bind(s, a->ep);
    char *buf = malloc(a->len + 16);
    for (long i = 0; i < a->n; i++)
        zmq_recv(s, buf, a->len + 16, 0);
    free(buf);
    zmq_close(s);
    return NULL;
}

#include <pthread.h>
/* CurveZMQ PUSH->PULL messages per second over loopback TCP. */
static inline double lim_curve_msg_rate(int port, long n, size_t len)
{
    struct lim_zmq_args a;
    char ep[64];
    unsigned char cpk[32], csk[32];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    a.ctx = zmq_ctx_new();
    a.ep = ep;
    a.n = n;
    a.len = len;
    crypto_box_keypair(a.spk, a.ssk);
    crypto_box_keypair(cpk, csk);
    pthread_t th;
    pthread_create(&th, NULL, lim_zmq_pull, &a);
    usleep(100000);
    void *s = zmq_socket(a.ctx, ZMQ_PUSH);
    int hwm = 100000;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, a.spk, 32);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cpk, 32);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, csk, 32);
    zmq_connect(s, ep);
    char *buf = calloc(1, len);
    double t0 = lim_now();
    for (long i = 0; i < n; i++)
        zmq_send(s, buf, len, 0);
    pthread_join(th, NULL);
    double rate = (double)n / (lim_now() - t0);
    free(buf);
    zmq_close(s);
    zmq_ctx_term(a.ctx);
    return rate;
}

/* Raw LMDB reads: seconds for one read transaction that walks a cursor
 * over `count` vlen-byte records (filled first, in one write transaction,
 * in a fresh env under dir); the median of `rounds` walks. The floor under
 * any read that must look at `count` stored records. */
static inline double lim_lmdb_scan_s(const char *dir, long count, size_t vlen, int rounds)
{
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    double best[64], out = -1;
    if (rounds < 1 || rounds > 64 || lim_lmdb_put_rate(dir, count, count, vlen) < 0 ||
        mdb_env_create(&env) != 0)
        return -1;
    mdb_env_set_mapsize(env, (size_t)8 << 30);
    if (mdb_env_open(env, dir, MDB_RDONLY, 0600) != 0)
        goto close;
    for (int r = 0; r < rounds; r++) {
        volatile unsigned sum = 0;
        long seen = 0;
        double t0 = lim_now();
        if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 || mdb_dbi_open(txn, NULL, 0, &dbi) != 0 ||
            mdb_cursor_open(txn, dbi, &cur) != 0)
            goto close;
        while (mdb_cursor_get(cur, &k, &v, seen ? MDB_NEXT : MDB_FIRST) == 0) {
            sum += ((const unsigned char *)v.mv_data)[v.mv_size - 1];
            seen++;
        }
        (void)sum; /* read so the walk touches every value */
        mdb_cursor_close(cur);
        mdb_txn_abort(txn);
        best[r] = lim_now() - t0;
        if (seen != count)
            goto close;
    }
    for (int i = 1; i < rounds; i++) /* insertion sort: rounds is small */
        for (int j = i; j > 0 && best[j - 1] > best[j]; j--) {
            double t = best[j];
            best[j] = best[j - 1];
            best[j - 1] = t;
        }
    out = best[rounds / 2];
close:
    mdb_env_close(env);
    return out;
}

#endif
