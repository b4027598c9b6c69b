/*
 * bench_at_rest.h — what encryption at rest costs (docs/security.md,
 * docs/performance.md), measured by bench_local in the same run:
 *   - limits: XChaCha20-Poly1305 and (where the CPU has AES-NI)
 *     AES-256-GCM sealing of one stored op's size, and one Argon2id
 *     derivation at the interactive limits (what unlocking costs);
 *   - local writes: one sealed and one plain store (FM_OPEN_PLAIN_, the
 *     benchmark-only baseline) written in alternating batches, so both see
 *     the same machine load; the ratio is the cost;
 *   - cold sync, ingest side: every op of the sealed writer read out in
 *     pull-sized batches and ingested by an empty sealed node and an empty
 *     plain node, alternating, as a pull from an empty node would.
 * Which side goes first alternates too (the second of a pair found the
 * disk busy with the first one's writes). Beside the wall time, each side's
 * CPU time (the process's, on one thread): on a loaded machine the fsync at
 * each commit makes the wall ratio swing by 10-20 points between runs,
 * while the CPU ratio says what sealing itself costs.
 */
#ifndef FM_BENCH_AT_REST_H
#define FM_BENCH_AT_REST_H

#include "crypto/crypto_int.h" /* fm_vault_sodium_only_ */

#define BAR_VLEN (FM_OP_HEADER_LEN + 300 + 40 + FM_SIG_LEN)

/* CPU seconds used by this process so far. */
static inline double bar_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall and CPU seconds of the sealed [0] and plain [1] side. */
struct bar_times {
    double wall[2], cpu[2];
};

static inline void bar_die(const char *what, int rc)
{
    fprintf(stderr, "bench_local: %s: %s\n", what, fm_strerror(rc));
    exit(1);
}

/* Vault seals per second of BAR_VLEN-byte values with a 40-byte key as ad,
 * in the given format (as the store seals them); AES-256-GCM through
 * libsodium rather than GnuTLS if sodium. */
static inline double bar_aead_rate(enum fm_vault_alg alg, bool sodium, double seconds)
{
    uint8_t ad[40], pt[BAR_VLEN], out[BAR_VLEN + FM_VAULT_OVERHEAD];
    struct fm_seal_key k = { NULL };
    struct fm_vault *v = NULL;
    if (fm_seal_key_generate(&k) != FM_OK || fm_vault_new(&v, &k, alg) != FM_OK)
        return 0;
    fm_random_bytes(ad, sizeof ad);
    fm_random_bytes(pt, sizeof pt);
    long n = 0;
    fm_vault_sodium_only_(sodium);
    double t0 = lim_now(), t;
    do {
        for (int i = 0; i < 1000; i++)
            fm_vault_seal(v, ad, sizeof ad, pt, sizeof pt, out);
        n += 1000;
    } while ((t = lim_now() - t0) < seconds);
    fm_vault_sodium_only_(false);
    fm_vault_free(&v);
    fm_seal_key_release(&k);
    return (double)n / t;
}

/* A writer: the incident its notes refer to, and BATCH note payloads of
 * text_len bytes of text. */
static inline struct payload *bar_writer(struct fx_node *x, unsigned flags, size_t text_len)
{
    int rc;
    x->cfg.map_size = (uint64_t)1 << 30;
    if ((rc = fx_open(x, FM_OPEN_IDENTITY | flags)) != 0)
        bar_die("open", rc);
    struct fm_incident_new in = { .category = "flood", .priority = 2, .caller = "+8613955501234",
                                  .address = "Qiantang levee km 12" };
    char inc[FM_ID_MAX];
    if ((rc = fm_node_incident_report(x->n, &in, inc)) != 0)
        bar_die("report", rc);
    struct payload *pls = calloc(BATCH, sizeof *pls);
    if (pls == NULL)
        bar_die("calloc", FM_ENOMEM);
    for (int i = 0; i < BATCH; i++) {
        pls[i].log.kind = OP_INC_NOTE;
        pls[i].present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
        memcpy(pls[i].ref.author, x->id.pk, FM_PK_LEN);
        pls[i].ref.seq = 2;
        memset(pls[i].text, 'x', text_len);
    }
    return pls;
}

static inline void bar_batch(struct fm_node *n, struct payload *pls, size_t count, long base,
                             struct bar_times *tm, int side)
{
    uint64_t first;
    for (size_t i = 0; i < count; i++)
        snprintf(pls[i].text, 32, "note %012ld ", base + (long)i), pls[i].text[18] = 'x';
    double t0 = lim_now(), c0 = bar_cpu();
    int rc = node_write_batch(n, &pls->log, count, &first);
    if (rc != 0)
        bar_die("write batch", rc);
    tm->wall[side] += lim_now() - t0;
    tm->cpu[side] += bar_cpu() - c0;
}

/* Prints the cost line of one measure: sealed/plain, wall and CPU. */
static inline double bar_cost(const char *what, const struct bar_times *tm)
{
    double w = tm->wall[0] / tm->wall[1], c = tm->cpu[0] / tm->cpu[1];
    printf("fieldmesh  encryption cost on %s: sealed/plain time %.3f = %+.1f%% "
           "(target <= 15%%: %s); CPU time %.3f = %+.1f%%\n", what, w, 100.0 * (w - 1.0),
           w <= 1.15 ? "PASS" : "MISS", c, 100.0 * (c - 1.0));
    return w;
}

/* Reads every op of author from src and ingests them into dst[0] and
 * dst[1] alternately in batches of `per` ops; adds each side's seconds. */
static inline void bar_ingest(struct fm_node *src, const uint8_t author[FM_PK_LEN],
                              struct fm_node *dst[2], size_t per, struct bar_times *tm)
{
    struct fm_buf buf;
    const uint8_t **ops = calloc(per, sizeof *ops);
    size_t *lens = calloc(per, sizeof *lens);
    fm_buf_init(&buf, (size_t)64 << 20);
    if (ops == NULL || lens == NULL)
        bar_die("calloc", FM_ENOMEM);
    for (uint64_t from = 1, round = 0;; round++) {
        size_t count = 0;
        fm_buf_reset(&buf);
        int rc = fm_node_read_ops(src, author, from, per, (size_t)32 << 20, &buf, &count);
        if (rc != 0)
            bar_die("read ops", rc);
        if (count == 0)
            break;
        size_t at = 0;
        for (size_t i = 0; i < count; i++) {
            lens[i] = fm_be32_get(buf.data + at);
            ops[i] = buf.data + at + 4;
            at += 4 + lens[i];
        }
        for (int i = 0; i < 2; i++) {
            int side = (int)((round + (uint64_t)i) & 1);
            struct fm_ingest_result res;
            double t0 = lim_now(), c0 = bar_cpu();
            if ((rc = fm_node_ingest(dst[side], ops, lens, count, &res)) != 0)
                bar_die("ingest", rc);
            tm->wall[side] += lim_now() - t0;
            tm->cpu[side] += bar_cpu() - c0;
        }
        from += count;
    }
    fm_buf_release(&buf);
    free(ops);
    free(lens);
}

/* text_len: each note's text (32 .. FM_TEXT_MAX - 1 bytes); with 300 an op
 * is 498 bytes. */
static inline void bench_at_rest(struct fx_org *org, long total, size_t text_len)
{
    struct fx_node s, p, rs, rp;
    int rc;
    double xc = bar_aead_rate(FM_VAULT_XCHACHA, false, 1.0);
    double aes = fm_aes_gcm_available() ? bar_aead_rate(FM_VAULT_AES, false, 1.0) : 0;
    double aes_na = fm_aes_gcm_available() ? bar_aead_rate(FM_VAULT_AES, true, 1.0) : 0;
    printf("\n-- encryption at rest --\n");
    printf("limit  XChaCha20-Poly1305 seal (%d B)           %10.0f /s (%.0f MB/s)\n", BAR_VLEN,
           xc, xc * BAR_VLEN / 1e6);
    if (aes > 0) {
        printf("limit  AES-256-GCM seal (%d B, AES-NI)        %10.0f /s (%.0f MB/s) = %.2fx "
               "XChaCha\n", BAR_VLEN, aes, aes * BAR_VLEN / 1e6, aes / xc);
        printf("limit  the same through libsodium, not GnuTLS %10.0f /s (%.0f MB/s): GnuTLS "
               "%.2fx\n", aes_na, aes_na * BAR_VLEN / 1e6, aes / aes_na);
    } else
        printf("limit  AES-256-GCM: not available on this CPU (no AES-NI/PCLMUL)\n");
    /* one unlock: Argon2id at the interactive limits (+ a small file) */
    struct fm_identity id = { { 0 }, NULL };
    struct fm_unlock *u = NULL;
    char kpath[600];
    snprintf(kpath, sizeof kpath, "%s/argon2.key", org->dir);
    if ((rc = fm_identity_generate(&id)) != 0 || (rc = fm_unlock_new(&u, "passphrase", 10)) != 0)
        bar_die("argon2id set-up", rc);
    double t0 = lim_now();
    if ((rc = fm_identity_save_sealed(&id, kpath, u, FM_KDF_INTERACTIVE)) != 0)
        bar_die("argon2id", rc);
    printf("limit  one Argon2id unlock (interactive: 64 MiB)  %8.0f ms\n",
           (lim_now() - t0) * 1000.0);
    fm_unlock_destroy(&u);
    fm_identity_release(&id);

    if ((rc = fx_author(org, &s, "sealed")) != 0 || (rc = fx_author(org, &p, "plain")) != 0 ||
        (rc = fx_author(org, &rs, "rsealed")) != 0 || (rc = fx_author(org, &rp, "rplain")) != 0)
        bar_die("set-up", rc);
    struct payload *ps = bar_writer(&s, 0, text_len),
                   *pp = bar_writer(&p, FM_OPEN_PLAIN_, text_len);
    struct bar_times wr = { { 0, 0 }, { 0, 0 } }, in = wr;
    for (long done = 0, round = 0; done < total; round++) {
        size_t n = (size_t)(total - done < BATCH ? total - done : BATCH);
        for (int i = 0; i < 2; i++) {
            int side = (int)((round + i) & 1);
            bar_batch(side ? p.n : s.n, side ? pp : ps, n, done, &wr, side);
        }
        done += (long)n;
    }
    printf("fieldmesh  sealed values: %s\n",
           fm_aes_gcm_available() ? "AES-256-GCM (AES-NI)" : "XChaCha20-Poly1305 (no AES-NI)");
    printf("fieldmesh  local ops, sealed store   %10.0f /s\n", (double)total / wr.wall[0]);
    printf("fieldmesh  local ops, plain store    %10.0f /s   (same run, alternating batches)\n",
           (double)total / wr.wall[1]);
    bar_cost("local writes", &wr);

    rs.cfg.map_size = rp.cfg.map_size = (uint64_t)1 << 30;
    if ((rc = fx_open(&rs, FM_OPEN_READ)) != 0 || (rc = fx_open(&rp, FM_OPEN_READ | FM_OPEN_PLAIN_)))
        bar_die("open receivers", rc);
    struct fm_node *dst[2] = { rs.n, rp.n };
    bar_ingest(s.n, s.id.pk, dst, 512, &in);
    printf("fieldmesh  cold sync, ingest side (%ld ops of %zu B text, 512/batch): sealed %.0f /s, "
           "plain %.0f /s\n", total + 2, text_len, (double)(total + 2) / in.wall[0],
           (double)(total + 2) / in.wall[1]);
    bar_cost("cold sync", &in);
    free(ps);
    free(pp);
    fx_done(&s);
    fx_done(&p);
    fx_done(&rs);
    fx_done(&rp);
}

#endif
