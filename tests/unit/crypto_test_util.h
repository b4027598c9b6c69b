/*
 * crypto_test_util.h — helpers shared by crypto/'s unit tests
 * (test_crypto.c, test_crypto_trust.c): a seeded PRNG (seed printed,
 * FM_SEED replays it), hex, a temporary directory, raw files, fixed
 * identities and a valid certificate. Include after cmocka.h; define
 * fm_test_name (the test's name, printed with the seed) before it.
 */
#ifndef FM_CRYPTO_TEST_UTIL_H
#define FM_CRYPTO_TEST_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/crypto_int.h"

/* ---- helpers ---- */

static uint64_t rng_state;

static inline uint64_t rng_next(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static inline void rng_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rng_next() >> 56);
}

static inline void hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static char tmpdir[64];

static inline void path_in_tmp(char *out, size_t cap, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", tmpdir, name);
    assert_true(n > 0 && (size_t)n < cap);
}

static inline void write_raw(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static inline void seed_identity(struct fm_identity *id, uint8_t first)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(first + i);
    assert_int_equal(fm_identity_from_seed(id, seed), FM_OK);
}

/* A valid certificate for `node_id` signed by `root`. */
static inline void make_cert(struct fm_cert *c, const struct fm_identity *root,
                      const struct fm_identity *node_id)
{
    memset(c, 0, sizeof *c);
    memcpy(c->node, node_id->pk, FM_PK_LEN);
    assert_int_equal(fm_strlcpy(c->name, "Engine 7 – Nord", sizeof c->name), FM_OK);
    assert_int_equal(fm_strlcpy(c->unit, "FW Nord", sizeof c->unit), FM_OK);
    c->role = FM_ROLE_VEHICLE;
    c->tier = 2;
    c->not_before_ms = 1700000000000ULL;
    c->expires_ms = 1900000000000ULL;
    fm_cert_sign(c, root);
}

static inline int setup_all(void **state)
{
    (void)state;
    if (fm_crypto_init() != FM_OK)
        return -1;
    uint64_t seed = 0;
    const char *env = getenv("FM_SEED");
    if (env == NULL || fm_parse_u64(env, &seed) != FM_OK || seed == 0) {
        fm_random_bytes(&seed, sizeof seed);
        seed |= 1;
    }
    printf("%s seed: FM_SEED=%llu\n", fm_test_name, (unsigned long long)seed);
    rng_state = seed;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fm_test_crypto_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int teardown_all(void **state)
{
    (void)state;
    return rmdir(tmpdir) == 0 ? 0 : -1;
}

#endif
