/*
 * bench_sync_gen.h — fills a node's store with many realistic ops fast.
 *
 * Writing 1,000,000 ops one CLI call (one fsync) at a time would take
 * minutes, so the bench makes them itself: a set of authors enrolled by
 * the testbed's organisation root, each with a log that opens with its
 * certificate (seq 1), reports one incident (seq 2) and then adds notes to
 * it whose payload is exactly 300 bytes (a 43-byte reference and a
 * 254-character text field): 452 bytes per op with header and signature.
 * Ops are built and signed with fm_op_build, chained by prev hash, encoded
 * with the node's own payload codec and handed to fm_node_ingest in large
 * batches — the same verifying path gossip uses. Header-only.
 */
#ifndef FM_BENCH_SYNC_GEN_H
#define FM_BENCH_SYNC_GEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "node/workflow/workflow.h"
#include "node/daemon/daemon.h"
#include "node/model/payload_int.h"

#define GEN_BATCH 4096
#define GEN_NOTE_TEXT 254 /* PT_REF (3 + 40) + PT_TEXT (3 + 254) = 300 bytes */
#define GEN_DAY_MS (UINT64_C(86400) * 1000)

struct gen_author {
    struct fm_identity id;
    struct fm_cert cert;
    uint64_t seq;
    uint8_t head[FM_HASH_LEN];
    uint64_t hlc;
};

struct gen {
    struct fm_identity root;
    struct gen_author *a;
    size_t n;
    struct fm_buf op, pl, certbuf;
    uint8_t *ops;      /* GEN_BATCH ops back to back */
    size_t *lens;
    const uint8_t **ptrs;
    size_t nbatch, used;
    uint64_t payload_bytes, op_bytes, made;
    double ingest_s; /* wall time inside fm_node_ingest */
    bool reports;    /* every op after the certificate reports an incident (bench_console) */
};

static void gen_die(const char *what, int rc)
{
    fprintf(stderr, "bench_sync: %s: %s\n", what, fm_strerror(rc));
    exit(1);
}

/* root_key: the testbed's DIR/org/root.key. */
static void gen_init(struct gen *g, const char *root_key, size_t nauthors)
{
    int rc;
    memset(g, 0, sizeof *g);
    if ((rc = fm_identity_load(&g->root, root_key)) != 0)
        gen_die("cannot load the org root key", rc);
    g->a = calloc(nauthors, sizeof *g->a);
    g->ops = malloc((size_t)GEN_BATCH * FM_OP_MAX_LEN);
    g->lens = calloc(GEN_BATCH, sizeof *g->lens);
    g->ptrs = calloc(GEN_BATCH, sizeof *g->ptrs);
    if (!g->a || !g->ops || !g->lens || !g->ptrs)
        gen_die("generator", FM_ENOMEM);
    g->n = nauthors;
    fm_buf_init(&g->op, FM_OP_MAX_LEN);
    fm_buf_init(&g->pl, FM_OP_MAX_PAYLOAD);
    fm_buf_init(&g->certbuf, FM_CERT_MAX);
    uint64_t now = fm_now_ms();
    for (size_t i = 0; i < nauthors; i++) {
        struct gen_author *a = &g->a[i];
        if ((rc = fm_identity_generate(&a->id)) != 0)
            gen_die("keygen", rc);
        memcpy(a->cert.node, a->id.pk, FM_PK_LEN);
        snprintf(a->cert.name, sizeof a->cert.name, "vehicle%zu", i + 1);
        a->cert.role = FM_ROLE_VEHICLE;
        a->cert.tier = 2;
        a->cert.not_before_ms = now - GEN_DAY_MS;
        a->cert.expires_ms = now + 365 * GEN_DAY_MS;
        fm_cert_sign(&a->cert, &g->root);
        /* an hour ago; each op one tick of the 16-bit HLC counter later */
        a->hlc = (now - 3600 * 1000) << 16;
    }
}

static void gen_release(struct gen *g)
{
    for (size_t i = 0; i < g->n; i++)
        fm_identity_release(&g->a[i].id);
    fm_identity_release(&g->root);
    fm_buf_release(&g->op);
    fm_buf_release(&g->pl);
    fm_buf_release(&g->certbuf);
    free(g->a);
    free(g->ops);
    free(g->lens);
    free(g->ptrs);
}

/* Appends author i's next op to the current batch. */
static void gen_next(struct gen *g, size_t i)
{
    struct gen_author *a = &g->a[i];
    struct payload p, check;
    const void *pl;
    size_t plen;
    uint8_t kind;
    int rc;
    memset(&p, 0, sizeof p);
    if (a->seq == 0) {
        kind = OP_CERT;
        fm_buf_reset(&g->certbuf);
        if ((rc = fm_cert_encode(&a->cert, &g->certbuf)) != 0)
            gen_die("cert encode", rc);
        pl = g->certbuf.data;
        plen = g->certbuf.len;
    } else {
        if (a->seq == 1 || g->reports) {
            p.log.kind = kind = OP_INC_REPORT;
            p.present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) |
                        PT_BIT(PT_LON) | PT_BIT(PT_DESC);
            fm_strlcpy(p.category, "flood", sizeof p.category);
            p.priority = 2;
            p.lat = 519000000 + (int32_t)i + (g->reports ? (int32_t)(a->seq % 100000) * 10 : 0);
            p.lon = 44000000 + (int32_t)i;
            snprintf(p.desc, sizeof p.desc, "water over the dike road, sector %zu", i);
        } else {
            p.log.kind = kind = OP_INC_NOTE;
            p.present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
            memcpy(p.ref.author, a->id.pk, FM_PK_LEN);
            p.ref.seq = 2;
            int k = snprintf(p.text, sizeof p.text,
                             "seq %llu: crew reports water level %llu cm at gauge %zu; ",
                             (unsigned long long)a->seq + 1,
                             (unsigned long long)(a->seq * 7 % 400), i);
            for (; k < GEN_NOTE_TEXT; k++)
                p.text[k] = (char)('a' + (k * 7 + (int)a->seq) % 26);
            p.text[GEN_NOTE_TEXT] = '\0';
        }
        if ((rc = payload_encode(&p, &g->pl, &check)) != 0)
            gen_die("payload encode", rc);
        pl = g->pl.data;
        plen = g->pl.len;
    }
    a->hlc++;
    rc = fm_op_build(&g->op, &a->id, kind, a->seq + 1, a->seq ? a->head : NULL, a->hlc, pl,
                     (uint32_t)plen);
    if (rc != 0)
        gen_die("op build", rc);
    struct fm_op d;
    if ((rc = fm_op_decode(&d, g->op.data, g->op.len)) != 0)
        gen_die("op decode", rc);
    fm_op_hash(&d, a->head);
    a->seq++;
    uint8_t *dst = g->ops + g->used;
    memcpy(dst, g->op.data, g->op.len);
    g->ptrs[g->nbatch] = dst;
    g->lens[g->nbatch] = g->op.len;
    g->nbatch++;
    g->used += g->op.len;
    g->op_bytes += g->op.len;
    g->payload_bytes += plen;
    g->made++;
}

/* Ingests the batch into every node of `nodes`; every op must be stored. */
static void gen_flush(struct gen *g, struct fm_node **nodes, size_t nn)
{
    for (size_t k = 0; k < nn && g->nbatch; k++) {
        struct fm_ingest_result res;
        memset(&res, 0, sizeof res);
        double t0 = lim_now();
        int rc = fm_node_ingest(nodes[k], g->ptrs, g->lens, g->nbatch, &res);
        g->ingest_s += lim_now() - t0;
        if (rc != 0)
            gen_die("ingest", rc);
        if (res.stored != g->nbatch) {
            fprintf(stderr, "bench_sync: ingest stored %zu of %zu (%zu dup, %zu rejected: %s)\n",
                    res.stored, g->nbatch, res.duplicates, res.rejected, fm_strerror(res.err));
            exit(1);
        }
    }
    g->nbatch = 0;
    g->used = 0;
}

/* Adds `total` ops spread evenly over the authors (author by author, in
 * runs of up to GEN_BATCH) to every node of `nodes`. */
static void gen_fill(struct gen *g, struct fm_node **nodes, size_t nn, uint64_t total)
{
    uint64_t per = total / g->n, extra = total % g->n;
    for (size_t i = 0; i < g->n; i++) {
        uint64_t want = per + (i < extra ? 1 : 0);
        for (uint64_t k = 0; k < want; k++) {
            gen_next(g, i);
            if (g->nbatch == GEN_BATCH)
                gen_flush(g, nodes, nn);
        }
    }
    gen_flush(g, nodes, nn);
}

#endif
