/*
 * hash_sign.c — BLAKE2b-256 hashing (one-shot and streaming) and Ed25519
 * detached signatures, the two primitives everything above is built from.
 *
 * The streaming hasher wraps libsodium's state in an opaque struct so no
 * caller sees sodium.h. The state type carries an alignment requirement, so
 * it is allocated with aligned_alloc(64, ...) rather than plain malloc, and
 * wiped before it is freed. fm_hasher_final leaves the hasher reset, ready
 * for a new message.
 */
#include "crypto_int.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>

struct fm_hasher {
    crypto_generichash_state st;
};

void fm_sign(const struct fm_identity *id, const void *msg, size_t len, uint8_t sig[FM_SIG_LEN])
{
    assert(id != NULL && id->sk != NULL);
    static const uint8_t empty;
    crypto_sign_detached(sig, NULL, len ? msg : &empty, len, id->sk);
}

bool fm_verify(const uint8_t pk[FM_PK_LEN], const void *msg, size_t len,
               const uint8_t sig[FM_SIG_LEN])
{
    static const uint8_t empty;
    return crypto_sign_verify_detached(sig, len ? msg : &empty, len, pk) == 0;
}

void fm_hash(uint8_t out[FM_HASH_LEN], const void *data, size_t len)
{
    static const uint8_t empty;
    crypto_generichash(out, FM_HASH_LEN, len ? data : &empty, len, NULL, 0);
}

struct fm_hasher *fm_hasher_new(void)
{
    size_t size = (sizeof(struct fm_hasher) + 63u) & ~(size_t)63u;
    struct fm_hasher *h = aligned_alloc(64, size);
    if (!h)
        return NULL;
    crypto_generichash_init(&h->st, NULL, 0, FM_HASH_LEN);
    return h;
}

void fm_hasher_update(struct fm_hasher *h, const void *data, size_t len)
{
    if (len == 0)
        return;
    crypto_generichash_update(&h->st, data, len);
}

void fm_hasher_final(struct fm_hasher *h, uint8_t out[FM_HASH_LEN])
{
    crypto_generichash_final(&h->st, out, FM_HASH_LEN);
    /* Ready for reuse: a finished state would otherwise be garbage. */
    crypto_generichash_init(&h->st, NULL, 0, FM_HASH_LEN);
}

void fm_hasher_destroy(struct fm_hasher **hp)
{
    if (hp == NULL || *hp == NULL)
        return;
    sodium_memzero(*hp, sizeof **hp);
    free(*hp);
    *hp = NULL;
}
