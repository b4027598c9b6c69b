/*
 * keyfile.c — secret keys at rest: the node's identity key and its data key
 * sealed under a key-encryption key (KEK) derived from a passphrase or the
 * bytes of a key file (docs/security.md).
 *
 * A sealed key file is text, "fieldmesh-sealed-key 1\n<base64>\n", whose
 * bytes are
 *     u8 kind | u8 alg (1 = Argon2id v1.3) | u64 opslimit | u64 memlimit |
 *     salt[16] | nonce[24] | XChaCha20-Poly1305(key) (len + 16)
 * with everything before the nonce as associated data, so the kind and the
 * KDF parameters cannot be changed without the MAC failing. The KEK is
 * Argon2id(secret, salt, opslimit, memlimit); the parameters are stored, so
 * a file made on a strong machine opens on a weak one and tests may choose
 * the minimum. A header's parameters are checked against libsodium's bounds
 * before any derivation (a crafted file cannot ask for a terabyte).
 *
 * struct fm_unlock holds the secret in sodium_malloc memory and remembers
 * the last KEK it derived (salt + parameters), so the identity key and the
 * data key, sealed with the same salt, cost one Argon2id run together.
 */
#include "crypto_int.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define SEALED_MAGIC "fieldmesh-sealed-key 1"
#define PLAIN_MAGIC "fieldmesh-secret-key 1"
#define SEALED_ALG_ARGON2ID 1
#define SEALED_SALT_LEN 16
#define SEALED_HEAD_LEN (1 + 1 + 8 + 8 + SEALED_SALT_LEN)
#define SEALED_MAX_KEY 64
#define SEALED_BLOB_MAX (SEALED_HEAD_LEN + FM_SEAL_NONCE_LEN + SEALED_MAX_KEY + FM_SEAL_MAC_LEN)
#define UNLOCK_SECRET_MAX 4096

struct fm_unlock {
    uint8_t *secret; /* sodium_malloc */
    size_t len;
    bool have_kek;
    uint64_t ops, mem;
    uint8_t salt[SEALED_SALT_LEN];
    uint8_t *kek; /* sodium_malloc, 32 bytes */
};

static const struct {
    const char *name;
    uint64_t ops, mem;
} kdf_levels[] = {
    [FM_KDF_INTERACTIVE] = { "interactive", crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE },
    [FM_KDF_MODERATE] = { "moderate", crypto_pwhash_OPSLIMIT_MODERATE,
                          crypto_pwhash_MEMLIMIT_MODERATE },
    [FM_KDF_SENSITIVE] = { "sensitive", crypto_pwhash_OPSLIMIT_SENSITIVE,
                           crypto_pwhash_MEMLIMIT_SENSITIVE },
    [FM_KDF_MINIMAL] = { "minimal", crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN },
};

const char *fm_kdf_level_name(enum fm_kdf_level l)
{
    return (unsigned)l < sizeof kdf_levels / sizeof kdf_levels[0] ? kdf_levels[l].name : "?";
}

int fm_kdf_level_parse(const char *s, enum fm_kdf_level *out)
{
    for (unsigned i = 0; i < sizeof kdf_levels / sizeof kdf_levels[0]; i++) {
        if (strcmp(s, kdf_levels[i].name) == 0) {
            *out = (enum fm_kdf_level)i;
            return FM_OK;
        }
    }
    return FM_EINVAL;
}

int fm_unlock_new(struct fm_unlock **out, const void *secret, size_t len)
{
    *out = NULL;
    if (len == 0 || len > UNLOCK_SECRET_MAX)
        return FM_EINVAL;
    struct fm_unlock *u = calloc(1, sizeof *u);
    if (u == NULL)
        return FM_ENOMEM;
    u->secret = sodium_malloc(len);
    u->kek = sodium_malloc(FM_SEAL_KEY_LEN);
    if (u->secret == NULL || u->kek == NULL) {
        fm_unlock_destroy(&u);
        return FM_ENOMEM;
    }
    memcpy(u->secret, secret, len);
    u->len = len;
    *out = u;
    return FM_OK;
}

void fm_unlock_destroy(struct fm_unlock **up)
{
    if (up == NULL || *up == NULL)
        return;
    sodium_free((*up)->secret); /* sodium_free wipes */
    sodium_free((*up)->kek);
    sodium_memzero(*up, sizeof **up);
    free(*up);
    *up = NULL;
}

/* The KEK for (ops, mem, salt): the cached one or a fresh derivation. */
static int unlock_kek(struct fm_unlock *u, uint64_t ops, uint64_t mem,
                      const uint8_t salt[SEALED_SALT_LEN])
{
    if (u->have_kek && u->ops == ops && u->mem == mem &&
        sodium_memcmp(u->salt, salt, SEALED_SALT_LEN) == 0)
        return FM_OK;
    u->have_kek = false;
    if (crypto_pwhash(u->kek, FM_SEAL_KEY_LEN, (const char *)u->secret, u->len, salt,
                      (unsigned long long)ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return FM_ENOMEM; /* libsodium fails only when it cannot get the memory */
    u->ops = ops;
    u->mem = mem;
    memcpy(u->salt, salt, SEALED_SALT_LEN);
    u->have_kek = true;
    return FM_OK;
}

int fm_sealed_decode(struct fm_sealed *s, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    uint8_t alg;
    memset(s, 0, sizeof *s);
    fm_cur_init(&c, p, n);
    if (fm_cur_u8(&c, &s->kind) != FM_OK || fm_cur_u8(&c, &alg) != FM_OK ||
        fm_cur_u64(&c, &s->ops) != FM_OK || fm_cur_u64(&c, &s->mem) != FM_OK ||
        fm_cur_bytes(&c, SEALED_SALT_LEN, &s->salt) != FM_OK ||
        fm_cur_bytes(&c, FM_SEAL_NONCE_LEN, &s->nonce) != FM_OK)
        return FM_EDECODE;
    if (alg != SEALED_ALG_ARGON2ID ||
        (s->kind != FM_SEALED_IDENTITY && s->kind != FM_SEALED_DATA_KEY))
        return FM_EDECODE;
    if (s->ops < crypto_pwhash_OPSLIMIT_MIN || s->ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
        s->mem < crypto_pwhash_MEMLIMIT_MIN || s->mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
        return FM_EDECODE;
    size_t want = s->kind == FM_SEALED_IDENTITY ? FM_SK_LEN : FM_SEAL_KEY_LEN;
    if (fm_cur_left(&c) != want + FM_SEAL_MAC_LEN)
        return FM_EDECODE;
    s->head = p;
    s->ct = c.pos;
    s->ct_len = fm_cur_left(&c);
    return FM_OK;
}

/* Reads path into blob (the decoded bytes) and decodes its header.
 * FM_EPLAIN for an unsealed key file of the old format. */
static int sealed_read(const char *path, uint8_t *blob, size_t cap, struct fm_sealed *s)
{
    uint8_t text[FM_SECRET_FILE_MAX];
    size_t len = 0, blen = 0;
    int rc = fm_file_read_small(path, text, sizeof text, &len, true);
    if (rc == FM_ETOOBIG)
        rc = FM_EDECODE;
    if (rc == FM_OK && len > sizeof PLAIN_MAGIC - 1 &&
        memcmp(text, PLAIN_MAGIC, sizeof PLAIN_MAGIC - 1) == 0)
        rc = FM_EPLAIN;
    if (rc == FM_OK)
        rc = fm_text_unwrap(text, len, SEALED_MAGIC, blob, cap, &blen);
    if (rc == FM_OK)
        rc = fm_sealed_decode(s, blob, blen);
    sodium_memzero(text, sizeof text);
    return rc;
}

/* Opens the sealed key at path (of `kind`) into out (len bytes). */
static int sealed_load(const char *path, struct fm_unlock *u, uint8_t kind, uint8_t *out,
                       size_t len)
{
    uint8_t blob[SEALED_BLOB_MAX];
    struct fm_sealed s;
    int rc = sealed_read(path, blob, sizeof blob, &s);
    if (rc != FM_OK)
        return rc;
    if (s.kind != kind || s.ct_len != len + FM_SEAL_MAC_LEN)
        return FM_EDECODE;
    if ((rc = unlock_kek(u, s.ops, s.mem, s.salt)) != FM_OK)
        return rc;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, s.ct, s.ct_len, s.head,
                                                   SEALED_HEAD_LEN, s.nonce, u->kek) != 0) {
        sodium_memzero(out, len);
        return FM_EPASSPHRASE;
    }
    return FM_OK;
}

/* Seals key (len bytes) to path (mode 0600, O_EXCL unless `replace`). The
 * salt and parameters of the last KEK are reused when they are `lvl`'s. */
static int sealed_save(const char *path, struct fm_unlock *u, uint8_t kind,
                       enum fm_kdf_level lvl, const uint8_t *key, size_t len, bool replace)
{
    if ((unsigned)lvl >= sizeof kdf_levels / sizeof kdf_levels[0] || len > SEALED_MAX_KEY)
        return FM_EINVAL;
    uint8_t blob[SEALED_BLOB_MAX], salt[SEALED_SALT_LEN];
    uint64_t ops = kdf_levels[lvl].ops, mem = kdf_levels[lvl].mem;
    if (u->have_kek && u->ops == ops && u->mem == mem)
        memcpy(salt, u->salt, sizeof salt);
    else
        randombytes_buf(salt, sizeof salt);
    int rc = unlock_kek(u, ops, mem, salt);
    if (rc != FM_OK)
        return rc;
    blob[0] = kind;
    blob[1] = SEALED_ALG_ARGON2ID;
    fm_be64_put(blob + 2, ops);
    fm_be64_put(blob + 10, mem);
    memcpy(blob + 18, salt, sizeof salt);
    uint8_t *nonce = blob + SEALED_HEAD_LEN;
    randombytes_buf(nonce, FM_SEAL_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + FM_SEAL_NONCE_LEN, NULL, key, len, blob,
                                               SEALED_HEAD_LEN, NULL, nonce, u->kek);
    size_t blen = SEALED_HEAD_LEN + FM_SEAL_NONCE_LEN + len + FM_SEAL_MAC_LEN;
    struct fm_buf b;
    fm_buf_init(&b, FM_SECRET_FILE_MAX);
    rc = fm_text_wrap(&b, SEALED_MAGIC, blob, blen);
    if (rc == FM_OK)
        rc = fm_file_write(path, b.data, b.len, 0600, !replace);
    fm_buf_release(&b);
    return rc;
}

int fm_identity_save_sealed(const struct fm_identity *id, const char *path,
                            struct fm_unlock *u, enum fm_kdf_level lvl)
{
    if (id == NULL || id->sk == NULL || path == NULL || u == NULL)
        return FM_EINVAL;
    char pub_path[PATH_MAX], text[FM_KEY_TEXT_LEN + 1];
    int n = snprintf(pub_path, sizeof pub_path, "%s.pub", path);
    if (n < 0 || (size_t)n >= sizeof pub_path)
        return FM_EINVAL;
    int rc = sealed_save(path, u, FM_SEALED_IDENTITY, lvl, id->sk, FM_SK_LEN, false);
    if (rc != FM_OK)
        return rc;
    fm_key_encode(id->pk, text);
    text[FM_KEY_TEXT_LEN - 1] = '\n';
    return fm_file_write(pub_path, text, FM_KEY_TEXT_LEN, 0644, false);
}

int fm_identity_load_sealed(struct fm_identity *id, const char *path, struct fm_unlock *u)
{
    id->sk = sodium_malloc(FM_SK_LEN);
    uint8_t *check = sodium_malloc(FM_SK_LEN);
    int rc = FM_ENOMEM;
    if (id->sk == NULL || check == NULL)
        goto fail;
    if ((rc = sealed_load(path, u, FM_SEALED_IDENTITY, id->sk, FM_SK_LEN)) != FM_OK)
        goto fail;
    /* libsodium's sk is seed || pk: re-derive and compare */
    crypto_sign_seed_keypair(id->pk, check, id->sk);
    if (sodium_memcmp(check, id->sk, FM_SK_LEN) != 0) {
        rc = FM_EDECODE;
        goto fail;
    }
    sodium_free(check);
    return FM_OK;
fail:
    sodium_free(check);
    fm_identity_release(id);
    return rc;
}

int fm_seal_key_save_sealed(const struct fm_seal_key *k, const char *path, struct fm_unlock *u,
                            enum fm_kdf_level lvl)
{
    if (k == NULL || k->k == NULL || u == NULL)
        return FM_EINVAL;
    return sealed_save(path, u, FM_SEALED_DATA_KEY, lvl, k->k, FM_SEAL_KEY_LEN, false);
}

int fm_seal_key_load_sealed(struct fm_seal_key *k, const char *path, struct fm_unlock *u)
{
    k->k = sodium_malloc(FM_SEAL_KEY_LEN);
    if (k->k == NULL)
        return FM_ENOMEM;
    int rc = sealed_load(path, u, FM_SEALED_DATA_KEY, k->k, FM_SEAL_KEY_LEN);
    if (rc != FM_OK)
        fm_seal_key_release(k);
    return rc;
}

int fm_sealed_file_level(const char *path, uint64_t *ops, uint64_t *mem)
{
    uint8_t blob[SEALED_BLOB_MAX];
    struct fm_sealed s;
    int rc = sealed_read(path, blob, sizeof blob, &s);
    if (rc == FM_OK) {
        *ops = s.ops;
        *mem = s.mem;
    }
    return rc;
}

bool fm_kdf_is_weak(uint64_t ops, uint64_t mem)
{
    return ops < crypto_pwhash_OPSLIMIT_INTERACTIVE || mem < crypto_pwhash_MEMLIMIT_INTERACTIVE;
}

int fm_seal_key_copy(struct fm_seal_key *dst, const struct fm_seal_key *src)
{
    dst->k = NULL;
    if (src == NULL || src->k == NULL)
        return FM_EINVAL;
    dst->k = sodium_malloc(FM_SEAL_KEY_LEN);
    if (dst->k == NULL)
        return FM_ENOMEM;
    memcpy(dst->k, src->k, FM_SEAL_KEY_LEN);
    return FM_OK;
}

int fm_seal_key_from_bytes(struct fm_seal_key *k, const uint8_t bytes[FM_SEAL_KEY_LEN])
{
    k->k = sodium_malloc(FM_SEAL_KEY_LEN);
    if (k->k == NULL)
        return FM_ENOMEM;
    memcpy(k->k, bytes, FM_SEAL_KEY_LEN);
    return FM_OK;
}

int fm_identity_copy(struct fm_identity *dst, const struct fm_identity *src)
{
    dst->sk = NULL;
    if (src == NULL || src->sk == NULL)
        return FM_EINVAL;
    dst->sk = sodium_malloc(FM_SK_LEN);
    if (dst->sk == NULL)
        return FM_ENOMEM;
    memcpy(dst->sk, src->sk, FM_SK_LEN);
    memcpy(dst->pk, src->pk, FM_PK_LEN);
    return FM_OK;
}

int fm_identity_from_sk(struct fm_identity *id, const uint8_t sk[FM_SK_LEN])
{
    uint8_t *check = sodium_malloc(FM_SK_LEN);
    id->sk = sodium_malloc(FM_SK_LEN);
    int rc = FM_ENOMEM;
    if (check != NULL && id->sk != NULL) {
        crypto_sign_seed_keypair(id->pk, check, sk);
        rc = sodium_memcmp(check, sk, FM_SK_LEN) == 0 ? FM_OK : FM_EDECODE;
        if (rc == FM_OK)
            memcpy(id->sk, sk, FM_SK_LEN);
    }
    sodium_free(check);
    if (rc != FM_OK)
        fm_identity_release(id);
    return rc;
}

void fm_wipe(void *p, size_t n) { sodium_memzero(p, n); }
