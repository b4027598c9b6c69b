/*
 * bench_recon.c — what it costs two nodes of 2,000 authors to find out how
 * their version vectors differ (issue 13, docs/performance.md).
 *
 * For d = 0, 1, 2 ... 2,000 authors differing (one side holds a newer op
 * of each), it runs in one process the messages the engine sends when an
 * anti-entropy check finds a difference, encoded and decoded by the real
 * code (sync/wire.c, sync/recon.c):
 *   version 2: SUMMARY(reply wanted) -> RECON exchange (reconcile.c)
 *   version 1: SUMMARY(reply wanted) -> VECTOR -> IHAVE(now) for what the
 *              vector's sender lacks (gossip.c on_vector)
 * and prints the bytes each way, the messages and round trips, and the
 * CPU time per exchange. Ops themselves are not counted: both versions
 * pull the same ops afterwards. In sync (d = 0) both are one SUMMARY each
 * way. usage: bench_recon [--authors N] [--seed S]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "sync/recon_int.h"

struct cost {
    size_t bytes[2]; /* sent by side 0 (the checker), side 1 */
    size_t msgs;
};

static uint64_t rng = 1;
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int head_cmp(const void *a, const void *b)
{
    return memcmp(((const struct fm_head *)a)->author, ((const struct fm_head *)b)->author,
                  FM_PK_LEN);
}

static void nop_same(void *ctx, const struct fm_recon_item *o)
{
    (void)ctx;
    (void)o;
}
static void nop_item(void *ctx, const uint8_t *pk, uint64_t seq, const uint8_t *h)
{
    (void)ctx;
    (void)pk;
    (void)seq;
    (void)h;
}

static size_t summary_len(void)
{
    struct fm_buf b;
    struct fm_wire_summary s = {.flags = FM_SUMMARY_REPLY};
    fm_buf_init(&b, 1024);
    if (fm_wire_encode_summary(&b, &s) != FM_OK)
        abort();
    size_t n = b.len;
    fm_buf_release(&b);
    return n;
}

/* Bytes of the IHAVE(now) messages announcing what side `from` holds
 * beyond side `from ^ 1`. */
static size_t ihave_len(struct fm_head *h[2], size_t n, int from)
{
    size_t behind = 0;
    for (size_t i = 0; i < n; i++)
        behind += h[from][i].seq > h[from ^ 1][i].seq;
    size_t msgs = (behind + FM_WIRE_IHAVE_MAX - 1) / FM_WIRE_IHAVE_MAX;
    return msgs * 5 + behind * FM_WIRE_ENTRY_LEN;
}

/* Version 2: side 0's SUMMARY, then side 1 starts the exchange; an answer
 * longer than the whole vector is replaced by it (reconcile.c), and the
 * vector is answered by an IHAVE. */
static void cost_recon(struct fm_head *h[2], size_t n, struct cost *c, struct fm_buf m[2])
{
    struct fm_recon_set set[2];
    struct fm_recon_cb cb = {NULL, nop_same, nop_item};
    memset(c, 0, sizeof(*c));
    c->bytes[0] += summary_len();
    c->msgs++;
    for (int k = 0; k < 2; k++) {
        fm_recon_set_init(&set[k]);
        if (fm_recon_set_build(&set[k], h[k], n) != FM_OK)
            abort();
    }
    if (fm_recon_initiate(&set[1], &m[0]) != FM_OK)
        abort();
    int from = 1, cur = 0;
    for (;;) {
        struct fm_wire_msg w;
        bool send, more;
        c->bytes[from] += m[cur].len;
        c->msgs++;
        if (fm_wire_decode(&w, m[cur].data, m[cur].len) != FM_OK ||
            fm_recon_respond(&set[from ^ 1], &w.u.recon, &cb, &m[cur ^ 1], &send, &more) != FM_OK)
            abort();
        if (!send)
            break;
        cur ^= 1;
        from ^= 1;
        if (m[cur].len > fm_recon_vector_len(n)) {
            c->bytes[from] += fm_recon_vector_len(n);
            c->bytes[from ^ 1] += ihave_len(h, n, from ^ 1);
            c->msgs += 2;
            break;
        }
    }
    fm_recon_set_release(&set[0]);
    fm_recon_set_release(&set[1]);
}

/* Version 1: side 0's SUMMARY, side 1's whole VECTOR, side 0's IHAVE of
 * the authors side 1 is behind on. */
static void cost_vector(struct fm_head *h[2], size_t n, struct cost *c, struct fm_buf m[2])
{
    uint8_t lo[FM_PK_LEN] = {0}, hi[FM_PK_LEN];
    uint8_t *e = malloc(n * FM_WIRE_ENTRY_LEN + 1);
    size_t behind = 0;
    memset(c, 0, sizeof(*c));
    memset(hi, 0xff, sizeof(hi));
    c->bytes[0] += summary_len();
    c->msgs++;
    for (size_t i = 0; i < n; i++)
        fm_wire_put_entry(e + i * FM_WIRE_ENTRY_LEN, h[1][i].author, h[1][i].seq);
    if (!e || n > FM_WIRE_VECTOR_MAX || fm_wire_encode_vector(&m[0], lo, hi, e, (uint32_t)n) != FM_OK)
        abort();
    c->bytes[1] += m[0].len;
    c->msgs++;
    for (size_t i = 0; i < n; i++)
        if (h[0][i].seq > h[1][i].seq)
            fm_wire_put_entry(e + behind++ * FM_WIRE_ENTRY_LEN, h[0][i].author, h[0][i].seq);
    for (size_t off = 0; off < behind; off += FM_WIRE_IHAVE_MAX) {
        size_t k = behind - off < FM_WIRE_IHAVE_MAX ? behind - off : FM_WIRE_IHAVE_MAX;
        if (fm_wire_encode_ihave(&m[1], FM_IHAVE_NOW, e + off * FM_WIRE_ENTRY_LEN, (uint32_t)k) !=
            FM_OK)
            abort();
        c->bytes[0] += m[1].len;
        c->msgs++;
    }
    free(e);
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    size_t n = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--authors") == 0)
            n = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            rng = strtoull(argv[i + 1], NULL, 10);
    }
    if (n < 1 || n > FM_WIRE_VECTOR_MAX || fm_crypto_init() != FM_OK) {
        fprintf(stderr, "usage: bench_recon [--authors 1..%u] [--seed S]\n", FM_WIRE_VECTOR_MAX);
        return 2;
    }
    printf("# bench_recon: %zu authors, seed %llu; bytes are whole frames; round trips\n"
           "# count the SUMMARY that found the difference\n", n, (unsigned long long)rng);
    printf("%6s | %-34s | %-28s | %s\n", "d", "version 2 RECON: B A->B / B->A, msgs, RTT",
           "version 1 VECTOR: B A->B / B->A", "recon us/exchange");
    struct fm_head *h[2] = {calloc(n, sizeof(struct fm_head)), calloc(n, sizeof(struct fm_head))};
    struct fm_buf m[2];
    fm_buf_init(&m[0], FM_WIRE_MAX_MSG);
    fm_buf_init(&m[1], FM_WIRE_MAX_MSG);
    size_t ds[] = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 2000};
    for (size_t t = 0; t < sizeof(ds) / sizeof(ds[0]); t++) {
        size_t d = ds[t] > n ? n : ds[t];
        for (size_t i = 0; i < n; i++) {
            for (int b = 0; b < FM_PK_LEN; b += 8) {
                uint64_t r = rnd();
                memcpy(h[0][i].author + b, &r, 8);
            }
            h[0][i].seq = 1 + rnd() % 5000;
            for (int b = 0; b < FM_HASH_LEN; b++)
                h[0][i].hash[b] = (uint8_t)rnd();
        }
        qsort(h[0], n, sizeof(*h[0]), head_cmp);
        memcpy(h[1], h[0], n * sizeof(*h[0]));
        for (size_t k = 0; k < d; k++) { /* spread the differing authors */
            struct fm_head *x = &h[k % 2][k * n / d];
            x->seq++;
            x->hash[0] ^= 1;
        }
        struct cost r, v;
        if (d == 0) { /* equal digests: one SUMMARY each way in both versions */
            r.bytes[0] = r.bytes[1] = v.bytes[0] = v.bytes[1] = summary_len();
            r.msgs = v.msgs = 2;
            printf("%6zu | %6zu / %6zu B, %3zu msgs, %2zu RTT | %7zu / %7zu B, %zu RTT   | -\n",
                   d, r.bytes[0], r.bytes[1], r.msgs, (r.msgs + 1) / 2, v.bytes[0], v.bytes[1],
                   (v.msgs + 1) / 2);
            continue;
        }
        int reps = 20;
        double t0 = now_us();
        for (int k = 0; k < reps; k++)
            cost_recon(h, n, &r, m);
        double us = (now_us() - t0) / reps;
        cost_vector(h, n, &v, m);
        printf("%6zu | %6zu / %6zu B, %3zu msgs, %2zu RTT | %7zu / %7zu B, %zu RTT   | %.0f\n", d,
               r.bytes[0], r.bytes[1], r.msgs, (r.msgs + 1) / 2, v.bytes[0], v.bytes[1],
               (v.msgs + 1) / 2, us);
    }
    fm_buf_release(&m[0]);
    fm_buf_release(&m[1]);
    free(h[0]);
    free(h[1]);
    return 0;
}
