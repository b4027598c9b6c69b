/*
 * vault.c — the data key's work: sealing each stored value, and destroying
 * the key for good (crypto-shredding, docs/security.md).
 *
 * A stored value is header[24] | ciphertext | tag[16]; the associated data
 * is what the caller names (the store passes its database number and the
 * LMDB key), so a value copied under another key or into another database
 * fails to open. Byte 16 of the header says how it was sealed:
 *
 *   0  XChaCha20-Poly1305 under the data key, the header its nonce:
 *      a random prefix[16] | a 64-bit counter, big-endian, so byte 16 is
 *      the counter's top byte, 0 as long as the counter is below 2^56
 *      (every value written before AES-GCM was used has it so);
 *   1  AES-256-GCM under a subkey: salt[16] | 1 | counter[7]. The subkey is
 *      BLAKE2b-256 keyed with the data key, of the salt (BLAKE2b's own salt
 *      parameter) and a personalisation naming this use; the GCM nonce is
 *      header bytes 12..23. Written where the CPU has AES-NI (libsodium's
 *      AES-GCM needs it): 2-3x faster than XChaCha20 here.
 *
 * Who computes AES-256-GCM. Seals go through GnuTLS, whose AES-GCM
 * interleaves the counter mode and GHASH in one pass (its x86-64 "AES-NI
 * GCM module", from CRYPTOGAMS): a stored op's seal takes about 0.6 of
 * libsodium 1.0.18's time (bench_local prints both), and that seal is
 * most of what encryption costs a cold sync (docs/performance.md). Opens, and any seal GnuTLS refuses, go through
 * libsodium. The two compute the same function, so either opens what the
 * other sealed (unit.test_vault checks it value by value); GnuTLS is in
 * the process already, under libmicrohttpd. What it costs: GnuTLS keeps
 * its copy of the vault's own subkey in ordinary heap memory, not in
 * sodium_malloc's locked pages (docs/security.md).
 *
 * Why nonces never repeat under one key. A vault (one per open store and
 * process) draws a fresh random 16-byte prefix or salt when it is made,
 * again in a forked child before its first seal, and again before its
 * 56-bit counter would run out; the counter starts at 0 with each one and
 * goes up by one per seal, under the vault's lock. So within a vault no
 * (key, nonce) pair comes twice, and two vaults (two processes sharing a
 * store, the daemon and the CLI, or one process before and after a
 * restart) share one only if their 16-byte random draws are equal:
 * probability below n^2 / 2^129 for n draws ever made under a data key.
 * For AES-GCM the draw picks the subkey, so the 96-bit nonce only has to
 * be unique per subkey, which the counter gives: the same construction
 * XChaCha20 uses (a subkey from the first 16 nonce bytes), and the one
 * C2SP's XAES-256-GCM uses. Nothing of it is kept in the store, so a
 * restored backup or a rolled-back transaction cannot bring a nonce back.
 *
 * Shredding overwrites the sealed key file with random bytes, syncs, and
 * unlinks it; the caller wipes the key in memory. On flash and on
 * journalling or copy-on-write file systems an overwrite is not a
 * guarantee that the old blocks are gone, which is why the file only ever
 * held the key sealed under the passphrase anyway.
 */
#include "crypto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAULT_FMT_AT 16         /* the header byte that names the format */
#define VAULT_FMT_XCHACHA 0
#define VAULT_FMT_AES 1
#define VAULT_CTR_MAX (UINT64_C(1) << 56)
#define VAULT_PERSONAL "fieldmesh-vault2" /* 16 bytes: BLAKE2b's personal */
#define VAULT_SUBKEYS 8 /* opened subkeys kept (other processes' salts) */

/* Bumped in every forked child: a vault made before the fork draws again. */
static _Atomic unsigned vault_forks;
static pthread_once_t vault_once = PTHREAD_ONCE_INIT;
static void vault_forked(void) { atomic_fetch_add(&vault_forks, 1); }
static void vault_init(void) { pthread_atfork(NULL, NULL, vault_forked); }

/* An AES-GCM subkey, ready (key schedule and GHASH powers). */
struct vault_subkey {
    crypto_aead_aes256gcm_state st;
    uint8_t salt[16];
    uint64_t used; /* when last used (the vault's clock), 0: empty */
};

/* Key material, in guarded memory (sodium_malloc: locked, wiped). */
struct vault_secrets {
    struct vault_subkey sub[VAULT_SUBKEYS]; /* [0]: this vault's own, when AES */
    uint8_t xsub[32]; /* HChaCha20(data key, prefix): XChaCha20 precomputed */
};

struct fm_vault {
    pthread_mutex_t mu;
    const struct fm_seal_key *dk; /* borrowed */
    struct vault_secrets *sec;
    enum fm_vault_alg alg; /* what seal writes: FM_VAULT_XCHACHA or FM_VAULT_AES */
    uint8_t head[16];      /* the current prefix or salt */
    uint64_t ctr;          /* the next counter */
    uint64_t clock;        /* for the subkey cache's least-recently-used */
    unsigned forks;        /* vault_forks when head was drawn */
    gnutls_aead_cipher_hd_t gcm; /* the own subkey's GnuTLS AES-GCM, or NULL */
};

static _Atomic bool vault_no_aes; /* tests: act as a CPU without AES-NI */

bool fm_aes_gcm_available(void)
{
    return !atomic_load(&vault_no_aes) && crypto_aead_aes256gcm_is_available() != 0;
}

void fm_vault_pretend_no_aes_(bool on) { atomic_store(&vault_no_aes, on); }

static _Atomic bool vault_sodium_only; /* tests and benches: seal with libsodium */

void fm_vault_sodium_only_(bool on) { atomic_store(&vault_sodium_only, on); }

bool fm_vault_gnutls_(const struct fm_vault *v) { return v->gcm != NULL; }

/* Readies salt's subkey in *sk; with gcm, also as a GnuTLS handle there
 * (NULL if GnuTLS would not take it: seals then use libsodium). */
static void vault_subkey_derive(const struct fm_vault *v, struct vault_subkey *sk,
                                const uint8_t salt[16], gnutls_aead_cipher_hd_t *gcm)
{
    uint8_t key[32];
    crypto_generichash_blake2b_salt_personal(key, sizeof key, NULL, 0, v->dk->k,
                                             FM_SEAL_KEY_LEN, salt,
                                             (const uint8_t *)VAULT_PERSONAL);
    crypto_aead_aes256gcm_beforenm(&sk->st, key);
    if (gcm != NULL) {
        gnutls_datum_t d = {.data = key, .size = sizeof key};
        if (gnutls_aead_cipher_init(gcm, GNUTLS_CIPHER_AES_256_GCM, &d) < 0)
            *gcm = NULL;
    }
    sodium_memzero(key, sizeof key);
    memcpy(sk->salt, salt, 16);
}

static void vault_gcm_drop(struct fm_vault *v)
{
    if (v->gcm != NULL)
        gnutls_aead_cipher_deinit(v->gcm); /* wipes its key schedule */
    v->gcm = NULL;
}

/* A fresh prefix or salt and counter 0 (vault locked). */
static void vault_draw(struct fm_vault *v)
{
    randombytes_buf(v->head, sizeof v->head);
    v->ctr = 0;
    v->forks = atomic_load(&vault_forks);
    if (v->alg == FM_VAULT_AES) {
        vault_gcm_drop(v);
        vault_subkey_derive(v, &v->sec->sub[0], v->head, &v->gcm);
        v->sec->sub[0].used = ++v->clock;
    } else {
        crypto_core_hchacha20(v->sec->xsub, v->head, v->dk->k, NULL);
    }
}

int fm_vault_new(struct fm_vault **out, const struct fm_seal_key *dk, enum fm_vault_alg alg)
{
    *out = NULL;
    pthread_once(&vault_once, vault_init);
    if (alg == FM_VAULT_AUTO)
        alg = fm_aes_gcm_available() ? FM_VAULT_AES : FM_VAULT_XCHACHA;
    if (dk == NULL || dk->k == NULL || (alg == FM_VAULT_AES && !fm_aes_gcm_available()))
        return FM_EINVAL;
    struct fm_vault *v = calloc(1, sizeof *v);
    if (v == NULL)
        return FM_ENOMEM;
    /* a multiple of 16 keeps sodium_malloc's (end-aligned) block aligned */
    size_t n = (sizeof *v->sec + 15) & ~(size_t)15;
    if ((v->sec = sodium_malloc(n)) == NULL) {
        free(v);
        return FM_ENOMEM;
    }
    memset(v->sec, 0, n);
    pthread_mutex_init(&v->mu, NULL);
    v->dk = dk;
    v->alg = alg;
    vault_draw(v);
    *out = v;
    return FM_OK;
}

void fm_vault_free(struct fm_vault **vp)
{
    if (vp == NULL || *vp == NULL)
        return;
    struct fm_vault *v = *vp;
    vault_gcm_drop(v);
    sodium_free(v->sec); /* wipes */
    pthread_mutex_destroy(&v->mu);
    sodium_memzero(v, sizeof *v);
    free(v);
    *vp = NULL;
}

enum fm_vault_alg fm_vault_alg(const struct fm_vault *v) { return v->alg; }

void fm_vault_set_counter_(struct fm_vault *v, uint64_t ctr)
{
    pthread_mutex_lock(&v->mu);
    v->ctr = ctr;
    pthread_mutex_unlock(&v->mu);
}

/* AES-GCM through GnuTLS (vault locked, header written): false if it did
 * not seal, and libsodium must. */
static bool vault_gcm_seal(struct fm_vault *v, const void *ad, size_t adlen, const void *pt,
                           size_t n, uint8_t *out)
{
    if (v->gcm == NULL || atomic_load(&vault_sodium_only))
        return false;
    size_t clen = n + crypto_aead_aes256gcm_ABYTES;
    static const uint8_t none = 0; /* GnuTLS is not asked to read a NULL */
    return gnutls_aead_cipher_encrypt(v->gcm, out + 12, 12, adlen ? ad : &none, adlen,
                                      crypto_aead_aes256gcm_ABYTES, n ? pt : &none, n,
                                      out + FM_SEAL_NONCE_LEN, &clen) == 0 &&
           clen == n + crypto_aead_aes256gcm_ABYTES;
}

void fm_vault_seal(struct fm_vault *v, const void *ad, size_t adlen, const void *pt, size_t n,
                   uint8_t *out)
{
    pthread_mutex_lock(&v->mu);
    if (v->ctr >= VAULT_CTR_MAX || v->forks != atomic_load(&vault_forks))
        vault_draw(v);
    uint64_t ctr = v->ctr++;
    memcpy(out, v->head, 16);
    fm_be64_put(out + 16, ctr); /* top byte 0: ctr < 2^56 */
    if (v->alg == FM_VAULT_AES) {
        out[VAULT_FMT_AT] = VAULT_FMT_AES;
        if (!vault_gcm_seal(v, ad, adlen, pt, n, out))
            crypto_aead_aes256gcm_encrypt_afternm(out + FM_SEAL_NONCE_LEN, NULL, pt, n, ad, adlen,
                                                  NULL, out + 12, &v->sec->sub[0].st);
    } else {
        /* XChaCha20-Poly1305 as libsodium computes it, with the HChaCha20
         * subkey of this prefix computed once (vault_draw) */
        uint8_t npub[12] = {0};
        memcpy(npub + 4, out + 16, 8);
        crypto_aead_chacha20poly1305_ietf_encrypt(out + FM_SEAL_NONCE_LEN, NULL, pt, n, ad,
                                                  adlen, NULL, npub, v->sec->xsub);
    }
    pthread_mutex_unlock(&v->mu);
}

/* Copies the ready subkey of salt into *sk (vault locked), deriving it
 * into the least recently used slot if it is not kept. */
static void vault_subkey_get(struct fm_vault *v, const uint8_t salt[16], struct vault_subkey *sk)
{
    struct vault_subkey *s = v->sec->sub, *victim = NULL;
    for (int i = 0; i < VAULT_SUBKEYS; i++) {
        if (s[i].used != 0 && memcmp(s[i].salt, salt, 16) == 0) {
            s[i].used = ++v->clock;
            *sk = s[i];
            return;
        }
        /* slot 0 holds this vault's own subkey while it writes AES */
        if ((i > 0 || v->alg != FM_VAULT_AES) && (victim == NULL || s[i].used < victim->used))
            victim = &s[i];
    }
    vault_subkey_derive(v, victim, salt, NULL);
    victim->used = ++v->clock;
    *sk = *victim;
}

static int vault_open_aes(struct fm_vault *v, const void *ad, size_t adlen, const uint8_t *in,
                          size_t n, uint8_t *out)
{
    if (!fm_aes_gcm_available())
        return FM_EINVAL;
    struct vault_subkey sk; /* a copy: opens run on many threads at once */
    pthread_mutex_lock(&v->mu);
    vault_subkey_get(v, in, &sk);
    pthread_mutex_unlock(&v->mu);
    int rc = crypto_aead_aes256gcm_decrypt_afternm(out, NULL, NULL, in + FM_SEAL_NONCE_LEN,
                                                   n - FM_SEAL_NONCE_LEN, ad, adlen, in + 12,
                                                   &sk.st);
    sodium_memzero(&sk, sizeof sk);
    return rc == 0 ? FM_OK : FM_EVERIFY;
}

int fm_vault_open(struct fm_vault *v, const void *ad, size_t adlen, const uint8_t *in, size_t n,
                  uint8_t *out)
{
    if (n < FM_VAULT_OVERHEAD)
        return FM_EDECODE;
    int rc;
    switch (in[VAULT_FMT_AT]) {
    case VAULT_FMT_XCHACHA:
        rc = crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in + FM_SEAL_NONCE_LEN,
                                                        n - FM_SEAL_NONCE_LEN, ad, adlen, in,
                                                        v->dk->k) == 0
                 ? FM_OK
                 : FM_EVERIFY;
        break;
    case VAULT_FMT_AES:
        rc = vault_open_aes(v, ad, adlen, in, n, out);
        break;
    default:
        return FM_EDECODE; /* a format this version does not know */
    }
    if (rc != FM_OK)
        sodium_memzero(out, n - FM_VAULT_OVERHEAD);
    return rc;
}

int fm_file_shred(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? FM_ENOTFOUND : FM_EIO;
    struct stat st;
    int rc = FM_OK;
    if (fstat(fd, &st) != 0) {
        rc = FM_EIO;
    } else {
        uint8_t junk[512];
        for (off_t at = 0; at < st.st_size && rc == FM_OK;) {
            size_t n = (size_t)(st.st_size - at) < sizeof junk ? (size_t)(st.st_size - at)
                                                              : sizeof junk;
            randombytes_buf(junk, n);
            ssize_t w = pwrite(fd, junk, n, at);
            if (w <= 0)
                rc = FM_EIO;
            else
                at += w;
        }
        if (rc == FM_OK && fsync(fd) != 0)
            rc = FM_EIO;
    }
    close(fd);
    if (unlink(path) != 0)
        return FM_EIO;
    return rc;
}
