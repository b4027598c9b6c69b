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
 */
#ifndef FM_BENCH_AT_REST_H
#define FM_BENCH_AT_REST_H

#define BAR_VLEN (FM_OP_HEADER_LEN + 300 + 40 + FM_SIG_LEN)

static inline void bar_die(const char *what, int rc)
{
    fprintf(stderr, "bench_local: %s: %s\n", what, fm_strerror(rc));
    exit(1);
}

/* AEAD seals per second of BAR_VLEN-byte values with a 40-byte key as ad. */
static inline double bar_aead_rate(bool aes, double seconds)
{
    uint8_t key[32], ad[40], pt[BAR_VLEN], out[BAR_VLEN + 64];
    struct fm_seal_key k = { key };
    fm_random_bytes(key, sizeof key);
    fm_random_bytes(ad, sizeof ad);
    fm_random_bytes(pt, sizeof pt);
    long n = 0;
    double t0 = lim_now(), t;
    do {
        for (int i = 0; i < 1000; i++) {
            if (aes) {
                if (fm_aes_gcm_seal(key, ad, sizeof ad, pt, sizeof pt, out) != FM_OK)
                    return 0;
            } else {
                fm_vault_seal(&k, ad, sizeof ad, pt, sizeof pt, out);
            }
        }
        n += 1000;
    } while ((t = lim_now() - t0) < seconds);
    return (double)n / t;
}

/* A writer: the incident its notes refer to, and BATCH note payloads. */
static inline struct payload *bar_writer(struct fx_node *x, unsigned flags)
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
        pls[i].kind = OP_INC_NOTE;
        pls[i].present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
        memcpy(pls[i].ref.author, x->id.pk, FM_PK_LEN);
        pls[i].ref.seq = 2;
        memset(pls[i].text, 'x', PAYLOAD_TEXT);
    }
    return pls;
}

static inline double bar_batch(struct fm_node *n, struct payload *pls, size_t count, long base)
{
    uint64_t first;
    for (size_t i = 0; i < count; i++)
        snprintf(pls[i].text, 32, "note %012ld ", base + (long)i), pls[i].text[18] = 'x';
    double t0 = lim_now();
    int rc = node_write_batch(n, pls, count, &first);
    if (rc != 0)
        bar_die("write batch", rc);
    return lim_now() - t0;
}

/* Reads every op of author from src and ingests them into dst[0] and
 * dst[1] alternately in batches of `per` ops; adds each side's seconds. */
static inline void bar_ingest(struct fm_node *src, const uint8_t author[FM_PK_LEN],
                              struct fm_node *dst[2], size_t per, double secs[2])
{
    struct fm_buf buf;
    const uint8_t **ops = calloc(per, sizeof *ops);
    size_t *lens = calloc(per, sizeof *lens);
    fm_buf_init(&buf, (size_t)64 << 20);
    if (ops == NULL || lens == NULL)
        bar_die("calloc", FM_ENOMEM);
    for (uint64_t from = 1;;) {
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
        for (int side = 0; side < 2; side++) {
            struct fm_ingest_result res;
            double t0 = lim_now();
            if ((rc = fm_node_ingest(dst[side], ops, lens, count, &res)) != 0)
                bar_die("ingest", rc);
            secs[side] += lim_now() - t0;
        }
        from += count;
    }
    fm_buf_release(&buf);
    free(ops);
    free(lens);
}

static inline void bench_at_rest(struct fx_org *org, long total)
{
    struct fx_node s, p, rs, rp;
    int rc;
    double xc = bar_aead_rate(false, 1.0);
    double aes = fm_aes_gcm_available() ? bar_aead_rate(true, 1.0) : 0;
    printf("\n-- encryption at rest --\n");
    printf("limit  XChaCha20-Poly1305 seal (%d B)           %10.0f /s (%.0f MB/s)\n", BAR_VLEN,
           xc, xc * BAR_VLEN / 1e6);
    if (aes > 0)
        printf("limit  AES-256-GCM seal (%d B, AES-NI)        %10.0f /s (%.0f MB/s) = %.2fx "
               "XChaCha\n", BAR_VLEN, aes, aes * BAR_VLEN / 1e6, aes / xc);
    else
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
    struct payload *ps = bar_writer(&s, 0), *pp = bar_writer(&p, FM_OPEN_PLAIN_);
    double ts = 0, tp = 0;
    for (long done = 0; done < total;) {
        size_t n = (size_t)(total - done < BATCH ? total - done : BATCH);
        ts += bar_batch(s.n, ps, n, done);
        tp += bar_batch(p.n, pp, n, done);
        done += (long)n;
    }
    double cost_w = 100.0 * (ts / tp - 1.0);
    printf("fieldmesh  local ops, sealed store   %10.0f /s\n", (double)total / ts);
    printf("fieldmesh  local ops, plain store    %10.0f /s   (same run, alternating batches)\n",
           (double)total / tp);
    printf("fieldmesh  encryption cost on local writes: sealed/plain time %.3f = %+.1f%% "
           "(target <= 15%%: %s)\n", ts / tp, cost_w, cost_w <= 15.0 ? "PASS" : "MISS");

    rs.cfg.map_size = rp.cfg.map_size = (uint64_t)1 << 30;
    if ((rc = fx_open(&rs, FM_OPEN_READ)) != 0 || (rc = fx_open(&rp, FM_OPEN_READ | FM_OPEN_PLAIN_)))
        bar_die("open receivers", rc);
    struct fm_node *dst[2] = { rs.n, rp.n };
    double ti[2] = { 0, 0 };
    bar_ingest(s.n, s.id.pk, dst, 512, ti);
    double cost_i = 100.0 * (ti[0] / ti[1] - 1.0);
    printf("fieldmesh  cold sync, ingest side (%ld ops, 512/batch): sealed %.0f /s, plain "
           "%.0f /s\n", total + 2, (double)(total + 2) / ti[0], (double)(total + 2) / ti[1]);
    printf("fieldmesh  encryption cost on cold sync: sealed/plain time %.3f = %+.1f%% "
           "(target <= 15%%: %s)\n", ti[0] / ti[1], cost_i, cost_i <= 15.0 ? "PASS" : "MISS");
    free(ps);
    free(pp);
    fx_done(&s);
    fx_done(&p);
    fx_done(&rs);
    fx_done(&rp);
}

#endif
