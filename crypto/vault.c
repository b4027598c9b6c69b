/*
 * vault.c — the data key's work: sealing each stored value, and destroying
 * the key for good (crypto-shredding, docs/security.md).
 *
 * A stored value is nonce[24] | XChaCha20-Poly1305(value) | tag[16], the
 * associated data being what the caller names (the store passes its
 * database number and the LMDB key), so a value copied under another key
 * or into another database fails to open. XChaCha20-Poly1305's 192-bit
 * nonces leave room for a random per-process prefix and a counter, so no
 * coordination between the processes sharing a store (daemon and CLI) is
 * needed; AES-256-GCM's 96 bits do not (docs/decisions.md).
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
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Nonces: 16 random bytes drawn once per process (again in a forked
 * child) and a 64-bit counter. Two processes share a prefix with
 * probability 2^-128, and a counter never repeats within one, so nonces
 * stay unique without a system call per value (getrandom per value was
 * a third of the cost of sealing one, measured by bench_local). */
static uint8_t vault_prefix[16];
static _Atomic uint64_t vault_counter;
static pthread_once_t vault_once = PTHREAD_ONCE_INIT;

static void vault_reseed(void)
{
    randombytes_buf(vault_prefix, sizeof vault_prefix);
    atomic_store(&vault_counter, 0);
}

static void vault_init(void)
{
    vault_reseed();
    pthread_atfork(NULL, NULL, vault_reseed);
}

void fm_vault_seal(const struct fm_seal_key *k, const void *ad, size_t adlen, const void *pt,
                   size_t n, uint8_t *out)
{
    pthread_once(&vault_once, vault_init);
    memcpy(out, vault_prefix, sizeof vault_prefix);
    fm_be64_put(out + sizeof vault_prefix, atomic_fetch_add(&vault_counter, 1));
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + FM_SEAL_NONCE_LEN, NULL, pt, n, ad, adlen,
                                               NULL, out, k->k);
}

int fm_vault_open(const struct fm_seal_key *k, const void *ad, size_t adlen, const uint8_t *in,
                  size_t n, uint8_t *out)
{
    if (n < FM_VAULT_OVERHEAD)
        return FM_EDECODE;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in + FM_SEAL_NONCE_LEN,
                                                   n - FM_SEAL_NONCE_LEN, ad, adlen, in,
                                                   k->k) != 0) {
        sodium_memzero(out, n - FM_VAULT_OVERHEAD);
        return FM_EVERIFY;
    }
    return FM_OK;
}

bool fm_aes_gcm_available(void) { return crypto_aead_aes256gcm_is_available() != 0; }

int fm_aes_gcm_seal(const uint8_t key[32], const void *ad, size_t adlen, const void *pt,
                    size_t n, uint8_t *out)
{
    if (!crypto_aead_aes256gcm_is_available())
        return FM_EINVAL;
    /* a counter nonce, as the store's would have to be: this is for the
     * measurement only (a per-process counter is not safe with 96 bits) */
    static uint64_t ctr;
    memset(out, 0, crypto_aead_aes256gcm_NPUBBYTES);
    fm_be64_put(out + 4, ++ctr);
    crypto_aead_aes256gcm_encrypt(out + crypto_aead_aes256gcm_NPUBBYTES, NULL, pt, n, ad, adlen,
                                  NULL, out, key);
    return FM_OK;
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
