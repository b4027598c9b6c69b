/*
 * crypto_int.h — declarations private to crypto/ (and its tests).
 */
#ifndef FM_CRYPTO_INT_H
#define FM_CRYPTO_INT_H

#include "crypto.h"

/* Upper bounds for the small text files this module reads. */
#define FM_SECRET_FILE_MAX 512
#define FM_PUB_FILE_MAX 256
#define FM_CERT_FILE_MAX 2048

/* Deterministic identity from a 32-byte seed (golden vectors, tests).
 * id->sk is sodium_malloc'd; release with fm_identity_release. */
int fm_identity_from_seed(struct fm_identity *id, const uint8_t seed[32]) FM_MUST_USE;

/* Parses "<magic>\n<base64>\n" (trailing whitespace after the base64 is
 * tolerated, nothing else) into out. */
int fm_text_unwrap(const uint8_t *text, size_t text_len, const char *magic, uint8_t *out,
                   size_t cap, size_t *outlen) FM_MUST_USE;

/* Produces "<magic>\n<base64 of data>\n" into a buffer with a cap. */
int fm_text_wrap(struct fm_buf *out, const char *magic, const uint8_t *data,
                 size_t len) FM_MUST_USE;

/* Checks that s[0..n) is printable UTF-8: valid shortest-form encoding, no
 * C0/C1 control characters, no DEL, no NUL. */
bool fm_text_printable(const uint8_t *s, size_t n);

/* A sealed key file's decoded bytes (keyfile.c); pointers borrow from the
 * input. FM_EDECODE for a wrong length, kind, algorithm, or KDF parameters
 * outside libsodium's bounds. */
#define FM_SEALED_IDENTITY 1
#define FM_SEALED_DATA_KEY 2
struct fm_sealed {
    uint8_t kind;
    uint64_t ops, mem;
    const uint8_t *head, *salt, *nonce, *ct;
    size_t ct_len;
};
int fm_sealed_decode(struct fm_sealed *s, const uint8_t *p, size_t n) FM_MUST_USE;

/* Tests only: sets a vault's next counter (to reach the end of its range). */
void fm_vault_set_counter_(struct fm_vault *v, uint64_t ctr);
/* Tests only: vaults act as on a CPU without AES-NI (cannot open or write
 * AES-256-GCM values) while on. */
void fm_vault_pretend_no_aes_(bool on);
/* Tests and benchmarks only: AES-256-GCM seals use libsodium, not GnuTLS,
 * while on (the two must give the same bytes). */
void fm_vault_sodium_only_(bool on);
/* Tests only: whether v's AES-256-GCM seals go through GnuTLS. */
bool fm_vault_gnutls_(const struct fm_vault *v);

#endif
