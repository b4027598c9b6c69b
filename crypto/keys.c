/*
 * keys.c — library start-up, randomness and Ed25519 identities: generating,
 * saving and loading secret keys, the printable key text, and deriving the
 * Curve25519 keys CurveZMQ uses from the same identity.
 *
 * Secret keys only ever live in sodium_malloc'd (guarded, locked) memory,
 * including the temporary text and base64 forms while a key file is read or
 * written, and every temporary is wiped. A secret key file is
 *     "fieldmesh-secret-key 1\n<base64 of the 64-byte libsodium sk>\n"
 * created with O_EXCL and mode 0600; loading refuses a file with any group
 * or other permission bit (FM_EKEYPERM) and checks that the stored public
 * half matches the seed, so a corrupted file is FM_EDECODE, not a wrong key.
 * Key text is RFC 4648 base32, lowercase, no padding: 52 characters for 32
 * bytes. Decoding is case-insensitive but strict: exactly 52 characters and
 * the 4 unused trailing bits must be zero, so each key has one text.
 */
#include "crypto_int.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SECRET_MAGIC "fieldmesh-secret-key 1"
#define KEY_CHARS 52

int fm_crypto_init(void)
{
    return sodium_init() < 0 ? FM_ENOMEM : FM_OK;
}

void fm_random_bytes(void *out, size_t n) { randombytes_buf(out, n); }

/* ---- identities ---- */

int fm_identity_generate(struct fm_identity *id)
{
    id->sk = sodium_malloc(FM_SK_LEN);
    if (!id->sk)
        return FM_ENOMEM;
    crypto_sign_keypair(id->pk, id->sk);
    return FM_OK;
}

int fm_identity_from_seed(struct fm_identity *id, const uint8_t seed[32])
{
    id->sk = sodium_malloc(FM_SK_LEN);
    if (!id->sk)
        return FM_ENOMEM;
    crypto_sign_seed_keypair(id->pk, id->sk, seed);
    return FM_OK;
}

void fm_identity_release(struct fm_identity *id)
{
    if (id->sk) {
        sodium_memzero(id->sk, FM_SK_LEN);
        sodium_free(id->sk);
        id->sk = NULL;
    }
}

int fm_identity_save(const struct fm_identity *id, const char *path)
{
    if (id == NULL || id->sk == NULL || path == NULL)
        return FM_EINVAL;
    char pub_path[PATH_MAX];
    int n = snprintf(pub_path, sizeof pub_path, "%s.pub", path);
    if (n < 0 || (size_t)n >= sizeof pub_path)
        return FM_EINVAL;

    /* magic + '\n' + base64(64) + '\n' */
    size_t b64cap = fm_base64_encoded_len(FM_SK_LEN);
    size_t cap = sizeof SECRET_MAGIC + b64cap + 1;
    char *text = sodium_malloc(cap);
    if (!text)
        return FM_ENOMEM;
    size_t mlen = sizeof SECRET_MAGIC - 1;
    memcpy(text, SECRET_MAGIC, mlen);
    text[mlen] = '\n';
    fm_base64_encode(text + mlen + 1, b64cap, id->sk, FM_SK_LEN);
    size_t len = mlen + 1 + strlen(text + mlen + 1);
    text[len++] = '\n';

    int rc = fm_file_write(path, text, len, 0600, true);
    sodium_memzero(text, cap);
    sodium_free(text);
    if (rc != FM_OK)
        return rc;

    char pub[FM_KEY_TEXT_LEN + 1];
    fm_key_encode(id->pk, pub);
    pub[KEY_CHARS] = '\n';
    rc = fm_file_write(pub_path, pub, KEY_CHARS + 1, 0644, false);
    if (rc != FM_OK) {
        unlink(path);
        return rc;
    }
    return FM_OK;
}

int fm_identity_load(struct fm_identity *id, const char *path)
{
    int rc;
    id->sk = NULL;
    uint8_t *text = sodium_malloc(FM_SECRET_FILE_MAX);
    if (!text)
        return FM_ENOMEM;
    uint8_t *sk = sodium_malloc(FM_SK_LEN);
    uint8_t *check = sodium_malloc(FM_SK_LEN);
    if (!sk || !check) {
        rc = FM_ENOMEM;
        goto free_bufs;
    }
    size_t len = 0;
    rc = fm_file_read_small(path, text, FM_SECRET_FILE_MAX, &len, true);
    if (rc == FM_ETOOBIG)
        rc = FM_EDECODE;
    if (rc != FM_OK)
        goto free_bufs;
    size_t sk_len = 0;
    rc = fm_text_unwrap(text, len, SECRET_MAGIC, sk, FM_SK_LEN, &sk_len);
    if (rc != FM_OK)
        goto free_bufs;
    if (sk_len != FM_SK_LEN) {
        rc = FM_EDECODE;
        goto free_bufs;
    }
    /* libsodium's sk is seed || pk: re-derive and compare. */
    uint8_t pk[FM_PK_LEN];
    crypto_sign_seed_keypair(pk, check, sk);
    if (sodium_memcmp(check, sk, FM_SK_LEN) != 0) {
        rc = FM_EDECODE;
        goto free_bufs;
    }
    memcpy(id->pk, pk, FM_PK_LEN);
    id->sk = sk;
    sk = NULL;
    rc = FM_OK;
free_bufs:
    if (sk) {
        sodium_memzero(sk, FM_SK_LEN);
        sodium_free(sk);
    }
    if (check) {
        sodium_memzero(check, FM_SK_LEN);
        sodium_free(check);
    }
    sodium_memzero(text, FM_SECRET_FILE_MAX);
    sodium_free(text);
    return rc;
}

/* ---- key text ---- */

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

void fm_key_encode(const uint8_t pk[FM_PK_LEN], char out[FM_KEY_TEXT_LEN])
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < FM_PK_LEN; i++) {
        acc = (acc << 8) | pk[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = b32_alphabet[(acc >> bits) & 31u];
        }
    }
    if (bits > 0)
        out[o++] = b32_alphabet[(acc << (5 - bits)) & 31u];
    out[o] = '\0';
}

void fm_key_tag(const uint8_t pk[FM_PK_LEN], char out[FM_KEY_TAG_LEN + 1])
{
    /* 8 characters of 5 bits: exactly the first 5 bytes */
    uint64_t acc = 0;
    for (int i = 0; i < 5; i++)
        acc = (acc << 8) | pk[i];
    for (int k = 0; k < FM_KEY_TAG_LEN; k++)
        out[k] = b32_alphabet[(acc >> (35 - 5 * k)) & 31u];
    out[FM_KEY_TAG_LEN] = '\0';
}

static int b32_value(char ch)
{
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a';
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= '2' && ch <= '7')
        return ch - '2' + 26;
    return -1;
}

int fm_key_decode(const char *text, uint8_t pk[FM_PK_LEN])
{
    if (text == NULL)
        return FM_EDECODE;
    uint8_t tmp[FM_PK_LEN];
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < KEY_CHARS; i++) {
        int v = b32_value(text[i]); /* stops at NUL: -1 */
        if (v < 0)
            return FM_EDECODE;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            tmp[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (text[KEY_CHARS] != '\0' || o != FM_PK_LEN || (acc & ((1u << bits) - 1u)) != 0)
        return FM_EDECODE;
    memcpy(pk, tmp, FM_PK_LEN);
    return FM_OK;
}

int fm_key_read_file(const char *path, uint8_t pk[FM_PK_LEN])
{
    uint8_t buf[FM_PUB_FILE_MAX];
    size_t len = 0;
    int rc = fm_file_read_small(path, buf, sizeof buf, &len, false);
    if (rc == FM_ETOOBIG)
        return FM_EDECODE;
    if (rc != FM_OK)
        return rc;
    size_t a = 0, b = len;
    while (a < b && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r' || buf[a] == '\n'))
        a++;
    while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t' || buf[b - 1] == '\r' ||
                     buf[b - 1] == '\n'))
        b--;
    if (b - a != KEY_CHARS)
        return FM_EDECODE;
    char text[FM_KEY_TEXT_LEN];
    memcpy(text, buf + a, KEY_CHARS);
    text[KEY_CHARS] = '\0';
    return fm_key_decode(text, pk);
}

/* ---- Curve25519 for CurveZMQ ---- */

int fm_curve_from_pk(const uint8_t pk[FM_PK_LEN], uint8_t curve_pk[FM_CURVE_LEN])
{
    if (crypto_sign_ed25519_pk_to_curve25519(curve_pk, pk) != 0) {
        memset(curve_pk, 0, FM_CURVE_LEN);
        return FM_EINVAL;
    }
    return FM_OK;
}

int fm_curve_from_identity(const struct fm_identity *id, uint8_t curve_pk[FM_CURVE_LEN],
                           uint8_t curve_sk[FM_CURVE_LEN])
{
    if (id == NULL || id->sk == NULL)
        return FM_EINVAL;
    int rc = fm_curve_from_pk(id->pk, curve_pk);
    if (rc != FM_OK)
        return rc;
    if (crypto_sign_ed25519_sk_to_curve25519(curve_sk, id->sk) != 0) {
        sodium_memzero(curve_sk, FM_CURVE_LEN);
        memset(curve_pk, 0, FM_CURVE_LEN);
        return FM_EINVAL;
    }
    return FM_OK;
}
