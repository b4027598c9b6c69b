/*
 * seal.c — encryption for sneakernet bundles.
 *
 * A bundle's contents are encrypted once under a random content key with
 * XChaCha20-Poly1305 (random 24-byte nonces are safe with it). The content
 * key then travels sealed: to one node with an anonymous sealed box to the
 * Curve25519 form of its Ed25519 key (only that node opens it), or
 * wrapped under the organisation's shared bundle key (every enrolled node
 * that was handed that key opens it). Keys sit in sodium_malloc'd memory
 * and are wiped on release; every failure to open zeroes the output.
 */
#include "crypto_int.h"

#include <sodium.h>
#include <string.h>

#define KEY_MAGIC "fieldmesh-bundle-key 1"
#define KEY_ID_DOMAIN "fieldmesh bundle key id v1"

static int key_alloc(struct fm_seal_key *k)
{
    k->k = sodium_malloc(FM_SEAL_KEY_LEN);
    return k->k ? FM_OK : FM_ENOMEM;
}

int fm_seal_key_generate(struct fm_seal_key *k)
{
    int rc = key_alloc(k);
    if (rc == FM_OK)
        crypto_aead_xchacha20poly1305_ietf_keygen(k->k);
    return rc;
}

void fm_seal_key_release(struct fm_seal_key *k)
{
    if (k && k->k) {
        sodium_free(k->k); /* wipes */
        k->k = NULL;
    }
}

int fm_seal_key_save(const struct fm_seal_key *k, const char *path)
{
    struct fm_buf b;
    int rc;
    fm_buf_init(&b, FM_SECRET_FILE_MAX);
    rc = fm_text_wrap(&b, KEY_MAGIC, k->k, FM_SEAL_KEY_LEN);
    if (rc == FM_OK)
        rc = fm_file_write(path, b.data, b.len, 0600, true);
    if (b.data)
        sodium_memzero(b.data, b.cap);
    fm_buf_release(&b);
    return rc;
}

int fm_seal_key_load(struct fm_seal_key *k, const char *path)
{
    uint8_t text[FM_SECRET_FILE_MAX];
    size_t len = 0, klen = 0;
    int rc;
    k->k = NULL;
    rc = fm_file_read_small(path, text, sizeof(text), &len, true);
    if (rc != FM_OK)
        goto out;
    if ((rc = key_alloc(k)) != FM_OK)
        goto out;
    rc = fm_text_unwrap(text, len, KEY_MAGIC, k->k, FM_SEAL_KEY_LEN, &klen);
    if (rc != FM_OK || klen != FM_SEAL_KEY_LEN) {
        fm_seal_key_release(k);
        rc = FM_EDECODE;
    }
out:
    sodium_memzero(text, sizeof(text));
    return rc;
}

void fm_seal_key_id(const struct fm_seal_key *k, uint8_t id[FM_SEAL_KEY_ID_LEN])
{
    uint8_t h[FM_HASH_LEN];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const uint8_t *)KEY_ID_DOMAIN, strlen(KEY_ID_DOMAIN));
    crypto_generichash_update(&st, k->k, FM_SEAL_KEY_LEN);
    crypto_generichash_final(&st, h, sizeof(h));
    memcpy(id, h, FM_SEAL_KEY_ID_LEN);
}

int fm_seal_encrypt(struct fm_buf *out, const struct fm_seal_key *k,
                    uint8_t nonce_out[FM_SEAL_NONCE_LEN], const void *ad, size_t adlen,
                    const void *pt, size_t n)
{
    unsigned long long clen = 0;
    size_t at = out->len;
    int rc;
    if (n > SIZE_MAX - FM_SEAL_MAC_LEN - at)
        return FM_ETOOBIG;
    /* grow to the final size first: encrypt in place into the buffer */
    if ((rc = fm_buf_append(out, pt, n)) != FM_OK)
        return rc;
    static const uint8_t zero[FM_SEAL_MAC_LEN];
    if ((rc = fm_buf_append(out, zero, sizeof(zero))) != FM_OK)
        return rc;
    randombytes_buf(nonce_out, FM_SEAL_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out->data + at, &clen, out->data + at, n, ad,
                                               adlen, NULL, nonce_out, k->k);
    return clen == n + FM_SEAL_MAC_LEN ? FM_OK : FM_EINVAL;
}

int fm_seal_decrypt(uint8_t *out, size_t cap, const struct fm_seal_key *k,
                    const uint8_t nonce[FM_SEAL_NONCE_LEN], const void *ad, size_t adlen,
                    const uint8_t *ct, size_t n)
{
    unsigned long long mlen = 0;
    if (n < FM_SEAL_MAC_LEN)
        return FM_EDECODE;
    if (cap < n - FM_SEAL_MAC_LEN)
        return FM_ETOOBIG;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct, n, ad, adlen, nonce,
                                                   k->k) != 0) {
        sodium_memzero(out, n - FM_SEAL_MAC_LEN);
        return FM_EVERIFY;
    }
    return FM_OK;
}

int fm_seal_to_node(uint8_t box[FM_SEAL_BOX_LEN], const uint8_t node_pk[FM_PK_LEN],
                    const struct fm_seal_key *k)
{
    uint8_t curve[FM_CURVE_LEN];
    int rc = fm_curve_from_pk(node_pk, curve);
    if (rc != FM_OK)
        return rc;
    return crypto_box_seal(box, k->k, FM_SEAL_KEY_LEN, curve) == 0 ? FM_OK : FM_EINVAL;
}

int fm_seal_open_node(struct fm_seal_key *k, const struct fm_identity *id,
                      const uint8_t box[FM_SEAL_BOX_LEN])
{
    uint8_t cpk[FM_CURVE_LEN], csk[FM_CURVE_LEN];
    int rc;
    k->k = NULL;
    if ((rc = fm_curve_from_identity(id, cpk, csk)) != FM_OK)
        return rc;
    if ((rc = key_alloc(k)) == FM_OK &&
        crypto_box_seal_open(k->k, box, FM_SEAL_BOX_LEN, cpk, csk) != 0) {
        fm_seal_key_release(k);
        rc = FM_EVERIFY;
    }
    sodium_memzero(csk, sizeof(csk));
    return rc;
}

int fm_seal_wrap(uint8_t out[FM_SEAL_WRAP_LEN], const struct fm_seal_key *w,
                 const struct fm_seal_key *k, const void *ad, size_t adlen)
{
    unsigned long long clen = 0;
    randombytes_buf(out, FM_SEAL_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + FM_SEAL_NONCE_LEN, &clen, k->k,
                                               FM_SEAL_KEY_LEN, ad, adlen, NULL, out, w->k);
    return clen == FM_SEAL_KEY_LEN + FM_SEAL_MAC_LEN ? FM_OK : FM_EINVAL;
}

int fm_seal_unwrap(struct fm_seal_key *k, const struct fm_seal_key *w,
                   const uint8_t in[FM_SEAL_WRAP_LEN], const void *ad, size_t adlen)
{
    unsigned long long mlen = 0;
    int rc = key_alloc(k);
    if (rc != FM_OK)
        return rc;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(k->k, &mlen, NULL, in + FM_SEAL_NONCE_LEN,
                                                   FM_SEAL_KEY_LEN + FM_SEAL_MAC_LEN, ad, adlen,
                                                   in, w->k) != 0 ||
        mlen != FM_SEAL_KEY_LEN) {
        fm_seal_key_release(k);
        return FM_EVERIFY;
    }
    return FM_OK;
}
