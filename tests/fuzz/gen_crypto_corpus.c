/*
 * gen_crypto_corpus.c — writes the seed corpora for fuzz_op_decode and
 * fuzz_cert_decode: valid ops, certificates and revocations made from fixed
 * seeds (Ed25519 is deterministic, so the output is stable), plus truncated
 * and mutated variants that hit each rejection path. Not part of the build;
 * run it once by hand when the formats change:
 *   cc -std=c11 -D_POSIX_C_SOURCE=200809L -I. tests/fuzz/gen_crypto_corpus.c \
 *      BUILD/libfm_crypto.a -lsodium -o /tmp/gen && /tmp/gen tests/fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

static const char *out_root;

static void put(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", out_root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void identity(struct fm_identity *id, uint8_t first)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(first * 7 + i);
    if (fm_identity_from_seed(id, seed) != FM_OK)
        exit(1);
}

/* Writes variants of an encoding: valid, truncations, trailing byte, and
 * the given single-byte mutations. */
static void variants(const char *target, const char *base, const uint8_t *p, size_t n,
                     const size_t *cuts, size_t ncuts)
{
    char name[128];
    uint8_t *m = malloc(n + 1);
    if (!m)
        exit(1);
    snprintf(name, sizeof name, "%s_valid", base);
    put(target, name, p, n);
    for (size_t i = 0; i < ncuts; i++) {
        if (cuts[i] >= n)
            continue;
        snprintf(name, sizeof name, "%s_cut%zu", base, cuts[i]);
        put(target, name, p, cuts[i]);
    }
    memcpy(m, p, n);
    m[n] = 0;
    snprintf(name, sizeof name, "%s_trailing", base);
    put(target, name, m, n + 1);
    m[n - 1] ^= 1;
    snprintf(name, sizeof name, "%s_badsig", base);
    put(target, name, m, n);
    free(m);
}

static void mutate(const char *target, const char *name, const uint8_t *p, size_t n,
                   size_t off, uint8_t val)
{
    uint8_t *m = malloc(n);
    if (!m)
        exit(1);
    memcpy(m, p, n);
    m[off] = val;
    put(target, name, m, n);
    free(m);
}

static void gen_ops(void)
{
    const char *t = "fuzz_op_decode";
    struct fm_identity id = {0};
    identity(&id, 1);
    struct fm_buf b;
    fm_buf_init(&b, FM_OP_MAX_LEN);
    uint8_t payload[300];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 31);
    static const size_t cuts[] = {0, 1, 4, 87, 88, 151, 152};

    if (fm_op_build(&b, &id, 1, 1, NULL, 1, payload, 0) != FM_OK)
        exit(1);
    variants(t, "seq1_p0", b.data, b.len, cuts, 7);
    uint8_t prev[FM_HASH_LEN];
    fm_hash(prev, b.data, b.len);

    if (fm_op_build(&b, &id, 9, 2, prev, 0x0000018f00000001ULL, payload, 300) != FM_OK)
        exit(1);
    variants(t, "seq2_p300", b.data, b.len, cuts, 7);
    mutate(t, "bad_version", b.data, b.len, 0, 2);
    mutate(t, "bad_flags", b.data, b.len, 3, 1);
    mutate(t, "plen_too_big", b.data, b.len, 84, 0x7f);
    mutate(t, "plen_mismatch", b.data, b.len, 87, 0x2d);
    /* seq 0, and seq 1 with a nonzero prev */
    uint8_t *m = malloc(b.len);
    if (!m)
        exit(1);
    memcpy(m, b.data, b.len);
    fm_be64_put(m + 36, 0);
    put(t, "seq0", m, b.len);
    fm_be64_put(m + 36, 1);
    put(t, "seq1_nonzero_prev", m, b.len);
    free(m);

    for (uint32_t len = 1; len <= 4096; len *= 8) {
        uint8_t big[4096];
        memset(big, 0x41, sizeof big);
        if (fm_op_build(&b, &id, (uint8_t)len, 3 + len, prev, len, big, len) != FM_OK)
            exit(1);
        char name[64];
        snprintf(name, sizeof name, "valid_p%u", len);
        put(t, name, b.data, b.len);
    }
    fm_buf_release(&b);
    fm_identity_release(&id);
}

static void gen_certs(void)
{
    const char *t = "fuzz_cert_decode";
    struct fm_identity root = {0}, node_id = {0};
    identity(&root, 2);
    identity(&node_id, 3);
    struct fm_buf b;
    fm_buf_init(&b, FM_CERT_MAX);
    static const size_t cuts[] = {0, 1, 33, 65, 67, 70, 80, 90, 100, 144, 150};

    struct fm_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.node, node_id.pk, FM_PK_LEN);
    if (fm_strlcpy(c.name, "Station Süd", sizeof c.name) ||
        fm_strlcpy(c.unit, "BF 3", sizeof c.unit))
        exit(1);
    c.role = FM_ROLE_STATION;
    c.tier = 1;
    c.not_before_ms = 1700000000000ULL;
    c.expires_ms = 1900000000000ULL;
    fm_cert_sign(&c, &root);
    if (fm_cert_encode(&c, &b) != FM_OK)
        exit(1);
    variants(t, "cert", b.data, b.len, cuts, 11);
    mutate(t, "cert_bad_version", b.data, b.len, 0, 9);
    mutate(t, "cert_role0", b.data, b.len, 65, 0);
    mutate(t, "cert_role6", b.data, b.len, 65, 6);
    mutate(t, "cert_tier4", b.data, b.len, 66, 4);
    mutate(t, "cert_name_len0", b.data, b.len, 67, 0);
    mutate(t, "cert_name_ctrl", b.data, b.len, 68, 0x0a);
    mutate(t, "cert_name_badutf8", b.data, b.len, 76, 0x20);

    /* Each role and tier, empty unit, longest strings. */
    for (int r = FM_ROLE_CENTRE; r <= FM_ROLE_ADMIN; r++) {
        struct fm_cert x = c;
        x.role = (enum fm_role)r;
        x.tier = (uint8_t)(r % 4);
        x.unit[0] = '\0';
        fm_cert_sign(&x, &root);
        fm_buf_reset(&b);
        if (fm_cert_encode(&x, &b) != FM_OK)
            exit(1);
        char name[64];
        snprintf(name, sizeof name, "cert_%s", fm_role_name(x.role));
        put(t, name, b.data, b.len);
    }
    /* the longest name: 64 characters in 255 bytes (63 four-byte ones and
     * a Chinese one); the unit has no character cap, only the byte one */
    struct fm_cert x = c;
    x.name[0] = '\0';
    for (int i = 0; i < 63; i++)
        strcat(x.name, "\xf0\x9f\x9a\x92");
    strcat(x.name, "\xe5\xa9\xba");
    memset(x.unit, 'u', FM_NAME_MAX - 1);
    x.unit[FM_NAME_MAX - 1] = '\0';
    x.not_before_ms = x.expires_ms = UINT64_MAX;
    fm_cert_sign(&x, &root);
    fm_buf_reset(&b);
    if (fm_cert_encode(&x, &b) != FM_OK)
        exit(1);
    put(t, "cert_longest", b.data, b.len);
    /* 64 Chinese characters (192 bytes), as a county would name a station */
    x = c;
    x.name[0] = '\0';
    for (int i = 0; i < 64; i++)
        strcat(x.name, "\xe5\xa9\xba");
    fm_cert_sign(&x, &root);
    fm_buf_reset(&b);
    if (fm_cert_encode(&x, &b) != FM_OK)
        exit(1);
    put(t, "cert_name_64_chinese", b.data, b.len);

    struct fm_revocation r = {0};
    memcpy(r.node, node_id.pk, FM_PK_LEN);
    r.last_seq = 12;
    r.issued_ms = 1800000000000ULL;
    fm_revocation_sign(&r, &root);
    fm_buf_reset(&b);
    if (fm_revocation_encode(&r, &b) != FM_OK)
        exit(1);
    variants(t, "rev", b.data, b.len, cuts, 11);
    mutate(t, "rev_bad_version", b.data, b.len, 0, 0);

    fm_buf_release(&b);
    fm_identity_release(&root);
    fm_identity_release(&node_id);
}

int main(int argc, char **argv)
{
    if (argc != 2 || fm_crypto_init() != FM_OK) {
        fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
        return 2;
    }
    out_root = argv[1];
    gen_ops();
    gen_certs();
    return 0;
}
