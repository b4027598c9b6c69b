/*
 * test_vault.c — the sealing of stored values (crypto/vault.c): both
 * formats open, the XChaCha20 path with its precomputed subkey is the
 * XChaCha20-Poly1305 that older versions wrote, any change to a value is
 * refused, and nonces do not repeat — within a vault, between vaults, in a
 * forked child, and past the end of a counter range. AES-256-GCM seals
 * go through GnuTLS and opens through libsodium: both give the same bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "crypto/crypto_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OK(x) assert_int_equal((x), FM_OK)
#define PT "+8613955501234 caller at the levee"
#define AD "\x02key-of-the-value"
#define FMT_AT 16

struct fx {
    struct fm_seal_key dk;
};

static int setup(void **state)
{
    static struct fx f;
    if (fm_seal_key_generate(&f.dk) != FM_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fm_seal_key_release(&f->dk);
    return 0;
}

static bool mem_has(const uint8_t *h, size_t hn, const char *n, size_t nn)
{
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, n, nn) == 0)
            return true;
    return false;
}

static bool need_aes(void)
{
    if (fm_aes_gcm_available())
        return true;
    print_message("no AES-NI on this CPU: AES-256-GCM cases skipped\n");
    return false;
}

/* Seals PT with v and checks that a second vault of the same key opens it. */
static void seal_one(struct fx *f, struct fm_vault *v, uint8_t out[sizeof PT - 1 + 40])
{
    uint8_t back[sizeof PT];
    struct fm_vault *r = NULL;
    fm_vault_seal(v, AD, sizeof AD - 1, PT, sizeof PT - 1, out);
    assert_false(mem_has(out, sizeof PT - 1 + 40, "8613955501234", 13));
    OK(fm_vault_new(&r, &f->dk, FM_VAULT_XCHACHA));
    OK(fm_vault_open(r, AD, sizeof AD - 1, out, sizeof PT - 1 + 40, back));
    assert_memory_equal(back, PT, sizeof PT - 1);
    fm_vault_free(&r);
}

static void test_formats(void **state)
{
    struct fx *f = *state;
    struct fm_vault *x = NULL, *a = NULL, *autov = NULL;
    uint8_t sx[sizeof PT - 1 + 40], sa[sizeof PT - 1 + 40];
    OK(fm_vault_new(&x, &f->dk, FM_VAULT_XCHACHA));
    assert_int_equal(fm_vault_alg(x), FM_VAULT_XCHACHA);
    seal_one(f, x, sx);
    assert_int_equal(sx[FMT_AT], 0);
    OK(fm_vault_new(&autov, &f->dk, FM_VAULT_AUTO));
    assert_int_equal(fm_vault_alg(autov), fm_aes_gcm_available() ? FM_VAULT_AES : FM_VAULT_XCHACHA);
    if (need_aes()) {
        OK(fm_vault_new(&a, &f->dk, FM_VAULT_AES));
        seal_one(f, a, sa);
        assert_int_equal(sa[FMT_AT], 1);
        /* the salt is a subkey's, not a nonce: another vault's differs */
        assert_memory_not_equal(sa, sx, 16);
    } else {
        assert_int_equal(fm_vault_new(&a, &f->dk, FM_VAULT_AES), FM_EINVAL);
    }
    fm_vault_free(&x);
    fm_vault_free(&a);
    fm_vault_free(&autov);
    fm_vault_free(&a); /* twice: a no-op */
}

/* The XChaCha20 path computes HChaCha20 once per prefix: its values must
 * be what libsodium's XChaCha20-Poly1305 gives for the same nonce, and a
 * value sealed the old way (a prefix and a counter, libsodium's function)
 * must open. */
static void test_xchacha_is_the_old_format(void **state)
{
    struct fx *f = *state;
    struct fm_vault *x = NULL;
    uint8_t s[sizeof PT - 1 + 40], ref[sizeof PT - 1 + 40], back[sizeof PT];
    OK(fm_vault_new(&x, &f->dk, FM_VAULT_XCHACHA));
    fm_vault_seal(x, AD, sizeof AD - 1, PT, sizeof PT - 1, s);
    memcpy(ref, s, 24);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ref + 24, NULL, (const uint8_t *)PT, sizeof PT - 1,
                                               (const uint8_t *)AD, sizeof AD - 1, NULL, ref,
                                               f->dk.k);
    assert_memory_equal(s, ref, sizeof s);

    /* an old writer's value: random prefix, counter 41 */
    randombytes_buf(ref, 16);
    memset(ref + 16, 0, 8);
    ref[23] = 41;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ref + 24, NULL, (const uint8_t *)PT, sizeof PT - 1,
                                               (const uint8_t *)AD, sizeof AD - 1, NULL, ref,
                                               f->dk.k);
    struct fm_vault *any = NULL;
    OK(fm_vault_new(&any, &f->dk, FM_VAULT_AUTO));
    OK(fm_vault_open(any, AD, sizeof AD - 1, ref, sizeof ref, back));
    assert_memory_equal(back, PT, sizeof PT - 1);
    fm_vault_free(&any);
    fm_vault_free(&x);
}

/* Every byte of a value is covered: a flipped bit anywhere, another ad,
 * another key, a shortened value or an unknown format are refused, and a
 * refused open leaves no plaintext behind. */
static void refuse_changes(struct fx *f, enum fm_vault_alg alg)
{
    struct fm_vault *v = NULL, *other_v = NULL;
    struct fm_seal_key other = { NULL };
    uint8_t s[sizeof PT - 1 + 40], back[sizeof PT];
    size_t n = sizeof s;
    OK(fm_vault_new(&v, &f->dk, alg));
    fm_vault_seal(v, AD, sizeof AD - 1, PT, sizeof PT - 1, s);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            s[i] ^= (uint8_t)(1u << bit);
            memset(back, 0x55, sizeof back);
            int rc = fm_vault_open(v, AD, sizeof AD - 1, s, n, back);
            assert_true(rc == FM_EVERIFY || rc == FM_EDECODE);
            if (rc == FM_EVERIFY)
                for (size_t j = 0; j < sizeof PT - 1; j++)
                    assert_int_equal(back[j], 0);
            s[i] ^= (uint8_t)(1u << bit);
        }
    }
    OK(fm_vault_open(v, AD, sizeof AD - 1, s, n, back));
    assert_int_equal(fm_vault_open(v, "\x03key-of-the-value", sizeof AD - 1, s, n, back),
                     FM_EVERIFY);
    assert_int_equal(fm_vault_open(v, AD, sizeof AD - 1, s, n - 1, back), FM_EVERIFY);
    assert_int_equal(fm_vault_open(v, AD, sizeof AD - 1, s, 39, back), FM_EDECODE);
    uint8_t fmt = s[FMT_AT];
    s[FMT_AT] = 2;
    assert_int_equal(fm_vault_open(v, AD, sizeof AD - 1, s, n, back), FM_EDECODE);
    s[FMT_AT] = fmt ^ 1; /* read as the other format: does not open */
    assert_int_equal(fm_vault_open(v, AD, sizeof AD - 1, s, n, back), FM_EVERIFY);
    s[FMT_AT] = fmt;
    OK(fm_seal_key_generate(&other));
    OK(fm_vault_new(&other_v, &other, FM_VAULT_AUTO));
    assert_int_equal(fm_vault_open(other_v, AD, sizeof AD - 1, s, n, back), FM_EVERIFY);
    fm_vault_free(&other_v);
    fm_seal_key_release(&other);
    fm_vault_free(&v);
}

static void test_changes_refused(void **state)
{
    refuse_changes(*state, FM_VAULT_XCHACHA);
    if (need_aes())
        refuse_changes(*state, FM_VAULT_AES);
}

/* The 24-byte header of a fresh seal by v. */
static void header_of(struct fm_vault *v, uint8_t h[24])
{
    uint8_t s[8 + 40];
    fm_vault_seal(v, AD, sizeof AD - 1, "8 bytes.", 8, s);
    memcpy(h, s, 24);
}

static void nonces_never_repeat(struct fx *f, enum fm_vault_alg alg)
{
    struct fm_vault *v = NULL, *w = NULL;
    uint8_t h0[24], h1[24], hw[24];
    OK(fm_vault_new(&v, &f->dk, alg));
    OK(fm_vault_new(&w, &f->dk, alg));
    header_of(v, h0);
    header_of(v, h1);
    header_of(w, hw);
    /* one vault: one prefix, the counter goes up */
    assert_memory_equal(h0, h1, 16);
    assert_int_equal(fm_be64_get(h0 + 16) & ((UINT64_C(1) << 56) - 1), 0);
    assert_int_equal(fm_be64_get(h1 + 16) & ((UINT64_C(1) << 56) - 1), 1);
    /* two vaults of one key (two processes sharing a store): two prefixes */
    assert_memory_not_equal(h0, hw, 16);

    /* the end of the counter's range: a new prefix, counting from 0 */
    fm_vault_set_counter_(v, (UINT64_C(1) << 56) - 1);
    header_of(v, h1);
    assert_memory_equal(h0, h1, 16);
    assert_int_equal(fm_be64_get(h1 + 16) & ((UINT64_C(1) << 56) - 1), (UINT64_C(1) << 56) - 1);
    assert_int_equal(h1[FMT_AT], h0[FMT_AT]); /* the format byte is never the counter's */
    header_of(v, h1);
    assert_memory_not_equal(h0, h1, 16);
    assert_int_equal(fm_be64_get(h1 + 16) & ((UINT64_C(1) << 56) - 1), 0);
    assert_int_equal(h1[FMT_AT], h0[FMT_AT]);
    uint8_t s[8 + 40], back[8];
    fm_vault_seal(v, AD, sizeof AD - 1, "8 bytes.", 8, s);
    OK(fm_vault_open(w, AD, sizeof AD - 1, s, sizeof s, back));

    /* a forked child draws its own prefix before it seals */
    header_of(v, h0);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t hc[24];
        header_of(v, hc);
        _exit(write(pfd[1], hc, sizeof hc) == (ssize_t)sizeof hc ? 0 : 1);
    }
    uint8_t hc[24];
    int status;
    assert_int_equal(read(pfd[0], hc, sizeof hc), (ssize_t)sizeof hc);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pfd[0]);
    close(pfd[1]);
    assert_memory_not_equal(hc, h0, 16);
    assert_int_equal(fm_be64_get(hc + 16) & ((UINT64_C(1) << 56) - 1), 0);
    header_of(v, h1); /* the parent goes on with its own */
    assert_memory_equal(h1, h0, 16);
    fm_vault_free(&v);
    fm_vault_free(&w);
}

static void test_nonces_never_repeat(void **state)
{
    nonces_never_repeat(*state, FM_VAULT_XCHACHA);
    if (need_aes())
        nonces_never_repeat(*state, FM_VAULT_AES);
}

/* A reader opens values of more writers (salts) than it keeps subkeys
 * for, in any order, and its own writes stay readable throughout. */
static void test_many_writers(void **state)
{
    struct fx *f = *state;
    if (!need_aes())
        return;
    enum { W = 20 };
    struct fm_vault *w[W] = { NULL }, *r = NULL;
    uint8_t s[W][sizeof PT - 1 + 40], mine[sizeof PT - 1 + 40], back[sizeof PT];
    OK(fm_vault_new(&r, &f->dk, FM_VAULT_AES));
    fm_vault_seal(r, AD, sizeof AD - 1, PT, sizeof PT - 1, mine);
    for (int i = 0; i < W; i++) {
        OK(fm_vault_new(&w[i], &f->dk, FM_VAULT_AES));
        fm_vault_seal(w[i], AD, sizeof AD - 1, PT, sizeof PT - 1, s[i]);
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < W; i++) {
            int k = (i * 7 + round) % W;
            OK(fm_vault_open(r, AD, sizeof AD - 1, s[k], sizeof s[k], back));
            assert_memory_equal(back, PT, sizeof PT - 1);
            OK(fm_vault_open(r, AD, sizeof AD - 1, mine, sizeof mine, back));
        }
    }
    /* and it still seals under its own subkey */
    uint8_t again[sizeof PT - 1 + 40];
    fm_vault_seal(r, AD, sizeof AD - 1, PT, sizeof PT - 1, again);
    assert_memory_equal(again, mine, 16);
    OK(fm_vault_open(w[0], AD, sizeof AD - 1, again, sizeof again, back));
    for (int i = 0; i < W; i++)
        fm_vault_free(&w[i]);
    fm_vault_free(&r);
}

/* GnuTLS seals what libsodium would, byte for byte, at every length
 * around the block and chunk edges and with and without associated data,
 * and libsodium opens it; a value sealed in a forked child too. */
static void test_gnutls_is_libsodium(void **state)
{
    struct fx *f = *state;
    if (!need_aes())
        return;
    struct fm_vault *v = NULL;
    OK(fm_vault_new(&v, &f->dk, FM_VAULT_AES));
    assert_true(fm_vault_gnutls_(v));
    static const size_t lens[] = { 0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 95, 96, 97, 127, 128,
                                   129, 255, 256, 492, 511, 512, 1024, 4096, 65536 + 7 };
    size_t max = 65536 + 7;
    uint8_t *pt = malloc(max), *a = malloc(max + 40), *b = malloc(max + 40),
            *back = malloc(max + 1), ad[100];
    assert_non_null(pt);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(back);
    randombytes_buf(pt, max);
    randombytes_buf(ad, sizeof ad);
    uint64_t ctr = 1000;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (size_t adlen = 0; adlen <= sizeof ad; adlen += 50) {
            size_t n = lens[i];
            fm_vault_set_counter_(v, ctr);
            fm_vault_seal(v, ad, adlen, pt, n, a);
            fm_vault_set_counter_(v, ctr++);
            fm_vault_sodium_only_(true);
            fm_vault_seal(v, ad, adlen, pt, n, b);
            fm_vault_sodium_only_(false);
            assert_memory_equal(a, b, n + 40);
            OK(fm_vault_open(v, ad, adlen, a, n + 40, back));
            assert_memory_equal(back, pt, n);
            if (n > 0) {
                a[40 + n - 1] ^= 1; /* and GnuTLS's tag is checked by libsodium */
                assert_int_equal(fm_vault_open(v, ad, adlen, a, n + 40, back), FM_EVERIFY);
            }
        }
    }
    /* a child draws a new salt and its own GnuTLS key; the parent opens */
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fm_vault_seal(v, ad, sizeof ad, pt, 492, a);
        _exit(fm_vault_gnutls_(v) && write(pfd[1], a, 492 + 40) == 492 + 40 ? 0 : 1);
    }
    int status;
    assert_int_equal(read(pfd[0], b, 492 + 40), 492 + 40);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pfd[0]);
    close(pfd[1]);
    fm_vault_seal(v, ad, sizeof ad, pt, 492, a);
    assert_memory_not_equal(a, b, 16); /* the child's own salt */
    OK(fm_vault_open(v, ad, sizeof ad, b, 492 + 40, back));
    assert_memory_equal(back, pt, 492);
    free(pt);
    free(a);
    free(b);
    free(back);
    fm_vault_free(&v);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_xchacha_is_the_old_format),
        cmocka_unit_test(test_changes_refused),
        cmocka_unit_test(test_nonces_never_repeat),
        cmocka_unit_test(test_many_writers),
        cmocka_unit_test(test_gnutls_is_libsodium),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
