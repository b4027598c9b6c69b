/*
 * vault.c — the data key's work: sealing each stored value, and destroying
 * the key for good (crypto-shredding, docs/security.md).
 *
 * A stored value is nonce[24] | XChaCha20-Poly1305(value) | tag[16], the
 * associated data being what the caller names (the store passes its
 * database number and the LMDB key), so a value copied under another key
 * or into another database fails to open. Nonces are random: 192 bits
 * make collisions negligible however many values one key seals, which is
 * why XChaCha20-Poly1305 and not AES-256-GCM's 96-bit nonces (decisions).
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
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fm_vault_seal(const struct fm_seal_key *k, const void *ad, size_t adlen, const void *pt,
                   size_t n, uint8_t *out)
{
    randombytes_buf(out, FM_SEAL_NONCE_LEN);
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
    randombytes_buf(out, crypto_aead_aes256gcm_NPUBBYTES);
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
