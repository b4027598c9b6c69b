/*
 * crypto.h — keys, hashes, signatures, certificates and the signed,
 * hash-chained op envelope. Knows nothing of what a payload means.
 *
 * Only crypto/ includes sodium.h. Secret keys live in sodium_malloc'd,
 * guarded memory and are wiped on release.
 */
#ifndef FM_CRYPTO_H
#define FM_CRYPTO_H

#include "base/fm_base.h"

#define FM_PK_LEN 32
#define FM_SK_LEN 64
#define FM_SIG_LEN 64
#define FM_HASH_LEN 32
#define FM_CURVE_LEN 32
/* Printable key: RFC 4648 base32, lowercase, no padding: 52 chars + NUL. */
#define FM_KEY_TEXT_LEN 53
/* Short author tag used in entity ids: first 8 chars of the key text. */
#define FM_KEY_TAG_LEN 8

/* Call once per process before anything else here. 0 or FM_ENOMEM. */
int fm_crypto_init(void) FM_MUST_USE;

void fm_random_bytes(void *out, size_t n);

/* ---- Identity (Ed25519) ---- */
struct fm_identity {
    uint8_t pk[FM_PK_LEN];
    uint8_t *sk; /* FM_SK_LEN bytes in sodium_malloc memory, or NULL */
};

int fm_identity_generate(struct fm_identity *id) FM_MUST_USE;
/* Writes the secret key file (mode 0600, created with O_EXCL: FM_EEXISTS
 * if present) and `path`.pub holding the key text and a newline. */
int fm_identity_save(const struct fm_identity *id, const char *path) FM_MUST_USE;
/* Loads a secret key file. FM_EKEYPERM if the file is group/world
 * readable, FM_ENOTFOUND if missing, FM_EDECODE if malformed. */
int fm_identity_load(struct fm_identity *id, const char *path) FM_MUST_USE;
/* Wipes and frees the secret key; id may be zeroed or already released. */
void fm_identity_release(struct fm_identity *id);

/* Key text <-> bytes. decode returns FM_EDECODE for anything but exactly
 * 52 base32 characters (case-insensitive). */
void fm_key_encode(const uint8_t pk[FM_PK_LEN], char out[FM_KEY_TEXT_LEN]);
/* The first FM_KEY_TAG_LEN characters of fm_key_encode(pk) (the short tag
 * in entity ids), NUL-terminated, without encoding the whole key. */
void fm_key_tag(const uint8_t pk[FM_PK_LEN], char out[FM_KEY_TAG_LEN + 1]);
int fm_key_decode(const char *text, uint8_t pk[FM_PK_LEN]) FM_MUST_USE;
/* Reads a .pub-style file holding a key text (whitespace trimmed). */
int fm_key_read_file(const char *path, uint8_t pk[FM_PK_LEN]) FM_MUST_USE;

/* ---- Signatures and hashes ---- */
void fm_sign(const struct fm_identity *id, const void *msg, size_t len,
             uint8_t sig[FM_SIG_LEN]);
bool fm_verify(const uint8_t pk[FM_PK_LEN], const void *msg, size_t len,
               const uint8_t sig[FM_SIG_LEN]) FM_MUST_USE;

/* BLAKE2b-256. */
void fm_hash(uint8_t out[FM_HASH_LEN], const void *data, size_t len);
struct fm_hasher; /* opaque streaming state */
struct fm_hasher *fm_hasher_new(void); /* NULL on ENOMEM */
void fm_hasher_update(struct fm_hasher *h, const void *data, size_t len);
void fm_hasher_final(struct fm_hasher *h, uint8_t out[FM_HASH_LEN]);
void fm_hasher_destroy(struct fm_hasher **hp);

/* Curve25519 keys for CurveZMQ derived from the Ed25519 identity, so one
 * enrolled key serves both signing and transport. */
int fm_curve_from_pk(const uint8_t pk[FM_PK_LEN], uint8_t curve_pk[FM_CURVE_LEN]) FM_MUST_USE;
int fm_curve_from_identity(const struct fm_identity *id, uint8_t curve_pk[FM_CURVE_LEN],
                           uint8_t curve_sk[FM_CURVE_LEN]) FM_MUST_USE;

/* ---- Roles, certificates, revocations ---- */
enum fm_role {
    FM_ROLE_NONE = 0,
    FM_ROLE_CENTRE = 1,
    FM_ROLE_COUNTY = 2,
    FM_ROLE_STATION = 3,
    FM_ROLE_VEHICLE = 4,
    FM_ROLE_ADMIN = 5,
};
const char *fm_role_name(enum fm_role r);            /* "centre", ... or "?" */
int fm_role_parse(const char *s, enum fm_role *out) FM_MUST_USE;

#define FM_CERT_MAX 720 /* encoded size bound */

/* Whether p[0..n) is a name (fm_base.h: FM_NAME_CHARS). */
bool fm_name_ok(const uint8_t *p, size_t n);

struct fm_cert {
    uint8_t org[FM_PK_LEN];  /* root public key that signed it */
    uint8_t node[FM_PK_LEN]; /* enrolled identity */
    char name[FM_NAME_MAX];
    enum fm_role role;
    uint8_t tier; /* 0 = none, else 1..3 */
    char unit[FM_NAME_MAX];
    uint64_t not_before_ms, expires_ms;
    uint8_t sig[FM_SIG_LEN];
};

/* Sets cert->org from root and signs everything but sig. */
void fm_cert_sign(struct fm_cert *cert, const struct fm_identity *root);
int fm_cert_encode(const struct fm_cert *cert, struct fm_buf *out) FM_MUST_USE;
/* Strict: exact length, NUL-free printable strings within bounds, known role. */
int fm_cert_decode(struct fm_cert *cert, const uint8_t *p, size_t n) FM_MUST_USE;
/* 0 if signed by org and valid at at_ms; FM_EFOREIGN, FM_EVERIFY, FM_EEXPIRED. */
int fm_cert_check(const struct fm_cert *cert, const uint8_t org[FM_PK_LEN], uint64_t at_ms) FM_MUST_USE;
/* Text files: "fieldmesh-cert 1\n<base64 of encoding>\n". */
int fm_cert_write_file(const struct fm_cert *cert, const char *path) FM_MUST_USE;
int fm_cert_read_file(struct fm_cert *cert, const char *path) FM_MUST_USE;

struct fm_revocation {
    uint8_t org[FM_PK_LEN];
    uint8_t node[FM_PK_LEN];
    uint64_t last_seq; /* ops with seq <= last_seq stay valid */
    /* hash of the node's op at last_seq (zeros for last_seq 0): exactly
     * that history stays valid, whatever else the revoked key signs.
     * has_head is false only for revocations made before heads (v1). */
    uint8_t head[FM_HASH_LEN];
    bool has_head;
    uint64_t issued_ms;
    uint8_t sig[FM_SIG_LEN];
};
void fm_revocation_sign(struct fm_revocation *rev, const struct fm_identity *root);
int fm_revocation_encode(const struct fm_revocation *rev, struct fm_buf *out) FM_MUST_USE;
int fm_revocation_decode(struct fm_revocation *rev, const uint8_t *p, size_t n) FM_MUST_USE;
int fm_revocation_check(const struct fm_revocation *rev, const uint8_t org[FM_PK_LEN]) FM_MUST_USE;
/* "fieldmesh-revocation 1\n<base64>\n" */
int fm_revocation_write_file(const struct fm_revocation *rev, const char *path) FM_MUST_USE;
int fm_revocation_read_file(struct fm_revocation *rev, const char *path) FM_MUST_USE;

/* ---- The op envelope ----
 * Layout (all integers big-endian), FM_OP_HEADER_LEN = 88 bytes:
 *   u8 version (=1) | u8 kind | u16 flags (=0) | author[32] | u64 seq |
 *   prev[32] | u64 hlc | u32 payload_len | payload | sig[64]
 * sig = Ed25519(author, everything before sig). Op hash = BLAKE2b-256 of
 * the whole encoding. seq starts at 1; op 1 has prev = 32 zero bytes.
 */
#define FM_OP_VERSION 1
#define FM_OP_HEADER_LEN 88
#define FM_OP_MAX_PAYLOAD 16384
#define FM_OP_MAX_LEN (FM_OP_HEADER_LEN + FM_OP_MAX_PAYLOAD + FM_SIG_LEN)

/* A decoded op: pointers borrow from the buffer given to fm_op_decode and
 * stay valid as long as it does. */
struct fm_op {
    uint8_t version, kind;
    uint16_t flags;
    const uint8_t *author; /* FM_PK_LEN */
    uint64_t seq;
    const uint8_t *prev; /* FM_HASH_LEN */
    uint64_t hlc;
    const uint8_t *payload;
    uint32_t payload_len;
    const uint8_t *sig; /* FM_SIG_LEN */
    const uint8_t *raw;
    size_t raw_len;
};

/* Structural decode only (no signature check): FM_EDECODE for a wrong
 * version, nonzero flags, seq 0, seq 1 with nonzero prev, or a length that
 * is not exactly header + payload_len + sig; FM_ETOOBIG for payload_len >
 * FM_OP_MAX_PAYLOAD. */
int fm_op_decode(struct fm_op *op, const uint8_t *buf, size_t len) FM_MUST_USE;
bool fm_op_verify(const struct fm_op *op) FM_MUST_USE;
void fm_op_hash(const struct fm_op *op, uint8_t out[FM_HASH_LEN]);
/* Builds and signs an op into out (reset first). */
int fm_op_build(struct fm_buf *out, const struct fm_identity *id, uint8_t kind,
                uint64_t seq, const uint8_t prev[FM_HASH_LEN], uint64_t hlc,
                const void *payload, uint32_t payload_len) FM_MUST_USE;

/* ---- Base64 (standard alphabet, padded) for text files ---- */
/* Returns needed size incl NUL. */
size_t fm_base64_encoded_len(size_t n);
void fm_base64_encode(char *out, size_t cap, const uint8_t *in, size_t n);
/* FM_EDECODE on invalid text, FM_ETOOBIG if more than cap bytes. */
int fm_base64_decode(uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t inlen) FM_MUST_USE;

/* ---- Sealing (bundles; crypto/seal.c) ----
 * Authenticated encryption (XChaCha20-Poly1305) under a 32-byte content
 * key, and sealing that key either to one node (an anonymous sealed box
 * to the Curve25519 form of its Ed25519 key) or under a shared key. Keys
 * live in sodium_malloc memory and are wiped on release. */
#define FM_SEAL_KEY_LEN 32
#define FM_SEAL_NONCE_LEN 24
#define FM_SEAL_MAC_LEN 16
#define FM_SEAL_BOX_LEN (32 + 16 + FM_SEAL_KEY_LEN) /* a key sealed to a node */
#define FM_SEAL_KEY_ID_LEN 8
struct fm_seal_key {
    uint8_t *k; /* FM_SEAL_KEY_LEN bytes, sodium_malloc'd, or NULL */
};
int fm_seal_key_generate(struct fm_seal_key *k) FM_MUST_USE;
/* Key files: "fieldmesh-bundle-key 1\n<base64>\n", mode 0600 (created with
 * O_EXCL: FM_EEXISTS). load: FM_EKEYPERM if group/world readable,
 * FM_ENOTFOUND if missing, FM_EDECODE if malformed. */
int fm_seal_key_save(const struct fm_seal_key *k, const char *path) FM_MUST_USE;
int fm_seal_key_load(struct fm_seal_key *k, const char *path) FM_MUST_USE;
void fm_seal_key_release(struct fm_seal_key *k);
/* A public fingerprint of a key (so a reader can say which key it lacks). */
void fm_seal_key_id(const struct fm_seal_key *k, uint8_t id[FM_SEAL_KEY_ID_LEN]);
/* Appends ciphertext + MAC (n + FM_SEAL_MAC_LEN bytes) of pt to out, with
 * a fresh random nonce written to nonce_out; ad is authenticated too. */
int fm_seal_encrypt(struct fm_buf *out, const struct fm_seal_key *k,
                    uint8_t nonce_out[FM_SEAL_NONCE_LEN], const void *ad, size_t adlen,
                    const void *pt, size_t n) FM_MUST_USE;
/* Decrypts n bytes of ciphertext + MAC into out (cap >= n - MAC).
 * FM_EVERIFY if the MAC fails (out zeroed), FM_EDECODE if n < MAC. */
int fm_seal_decrypt(uint8_t *out, size_t cap, const struct fm_seal_key *k,
                    const uint8_t nonce[FM_SEAL_NONCE_LEN], const void *ad, size_t adlen,
                    const uint8_t *ct, size_t n) FM_MUST_USE;
/* Seals k to the node with Ed25519 key node_pk / opens it with id. */
int fm_seal_to_node(uint8_t box[FM_SEAL_BOX_LEN], const uint8_t node_pk[FM_PK_LEN],
                    const struct fm_seal_key *k) FM_MUST_USE;
int fm_seal_open_node(struct fm_seal_key *k, const struct fm_identity *id,
                      const uint8_t box[FM_SEAL_BOX_LEN]) FM_MUST_USE;
/* Wraps k (content key) under w (a shared key): FM_SEAL_NONCE_LEN nonce +
 * FM_SEAL_KEY_LEN + FM_SEAL_MAC_LEN bytes, and back (FM_EVERIFY). */
#define FM_SEAL_WRAP_LEN (FM_SEAL_NONCE_LEN + FM_SEAL_KEY_LEN + FM_SEAL_MAC_LEN)
int fm_seal_wrap(uint8_t out[FM_SEAL_WRAP_LEN], const struct fm_seal_key *w,
                 const struct fm_seal_key *k, const void *ad, size_t adlen) FM_MUST_USE;
int fm_seal_unwrap(struct fm_seal_key *k, const struct fm_seal_key *w,
                   const uint8_t in[FM_SEAL_WRAP_LEN], const void *ad, size_t adlen) FM_MUST_USE;

/* ---- Dispatcher group key (crypto/groupkey.c, docs/security.md "Need to know") ----
 * The org root makes a symmetric key for the dispatcher roles (centre,
 * county, admin) and signs a record that seals it to each dispatcher
 * node's key (fm_seal_to_node: a sealed box to the X25519 form of its
 * Ed25519 key). Encoding (integers big-endian):
 *   u8 version (=1) | org[32] | u32 generation (>= 1) | key_id[8] |
 *   u64 issued_ms | u16 count (1..FM_GROUPKEY_MAX_TO) |
 *   count x (node[32] | box[FM_SEAL_BOX_LEN]) | sig[64]
 * nodes strictly ascending; sig = Ed25519(org, "fieldmesh-groupkey-v1" ||
 * every byte before sig); key_id = fm_seal_key_id of the key. */
#define FM_GROUPKEY_MAX_TO 64
#define FM_GROUPKEY_ENTRY_LEN (FM_PK_LEN + FM_SEAL_BOX_LEN)
#define FM_GROUPKEY_HEAD_LEN (1 + FM_PK_LEN + 4 + FM_SEAL_KEY_ID_LEN + 8 + 2)
#define FM_GROUPKEY_MAX_LEN \
    (FM_GROUPKEY_HEAD_LEN + FM_GROUPKEY_MAX_TO * FM_GROUPKEY_ENTRY_LEN + FM_SIG_LEN)
struct fm_groupkey {
    uint8_t org[FM_PK_LEN];
    uint32_t generation;
    uint8_t key_id[FM_SEAL_KEY_ID_LEN];
    uint64_t issued_ms;
    uint16_t count;
    struct {
        uint8_t node[FM_PK_LEN];
        uint8_t box[FM_SEAL_BOX_LEN];
    } to[FM_GROUPKEY_MAX_TO];
    uint8_t sig[FM_SIG_LEN];
};
/* Fills gk for key k (generation, issued_ms set by the caller beforehand
 * are kept): seals k to each of the n nodes (sorted and deduplicated here)
 * and signs with root. FM_EINVAL for 0 or more than FM_GROUPKEY_MAX_TO
 * nodes or a node key that has no X25519 form. */
int fm_groupkey_make(struct fm_groupkey *gk, const struct fm_seal_key *k,
                     const uint8_t (*nodes)[FM_PK_LEN], size_t n,
                     const struct fm_identity *root) FM_MUST_USE;
int fm_groupkey_encode(const struct fm_groupkey *gk, struct fm_buf *out) FM_MUST_USE;
/* Strict: exact length, version, generation >= 1, count in range, nodes
 * strictly ascending. FM_EDECODE, gk zeroed. */
int fm_groupkey_decode(struct fm_groupkey *gk, const uint8_t *p, size_t n) FM_MUST_USE;
/* FM_EFOREIGN (another org), FM_EVERIFY (bad signature). */
int fm_groupkey_check(const struct fm_groupkey *gk, const uint8_t org[FM_PK_LEN]) FM_MUST_USE;
/* Whether pk is one of the record's recipients. */
bool fm_groupkey_lists(const struct fm_groupkey *gk, const uint8_t pk[FM_PK_LEN]);
/* Opens the key sealed to id: FM_ENOTFOUND if id is not a recipient,
 * FM_EVERIFY if its box does not open or holds another key than key_id. */
int fm_groupkey_open(const struct fm_groupkey *gk, const struct fm_identity *id,
                     struct fm_seal_key *k) FM_MUST_USE;
/* Files: "fieldmesh-dispatch-key 1\n<base64>\n" (FM_EDECODE if malformed). */
int fm_groupkey_write_file(const struct fm_groupkey *gk, const char *path) FM_MUST_USE;
int fm_groupkey_read_file(struct fm_groupkey *gk, const char *path) FM_MUST_USE;

/* A field sealed to a group key:
 *   u8 version (=1) | key_id[8] | nonce[24] | ciphertext | mac[16]
 * XChaCha20-Poly1305 with associated data "fieldmesh-sealed-field-v1" ||
 * version || key_id || ad (the caller's binding, e.g. the op's author). */
#define FM_SEALED_FIELD_OVERHEAD (1 + FM_SEAL_KEY_ID_LEN + FM_SEAL_NONCE_LEN + FM_SEAL_MAC_LEN)
/* Appends the sealed form of pt to out. */
int fm_sealed_field_seal(struct fm_buf *out, const struct fm_seal_key *k, const void *ad,
                         size_t adlen, const void *pt, size_t n) FM_MUST_USE;
/* Structure only (no key needed): FM_EDECODE unless version 1 and at least
 * FM_SEALED_FIELD_OVERHEAD bytes; key_id gets the key it names. */
int fm_sealed_field_parse(const uint8_t *p, size_t n,
                          uint8_t key_id[FM_SEAL_KEY_ID_LEN]) FM_MUST_USE;
/* Opens p into out (cap >= n - FM_SEALED_FIELD_OVERHEAD): *outlen set.
 * FM_EDECODE malformed, FM_EVERIFY wrong key, ad or tampered (out zeroed). */
int fm_sealed_field_open(const struct fm_seal_key *k, const void *ad, size_t adlen,
                         const uint8_t *p, size_t n, uint8_t *out, size_t cap,
                         size_t *outlen) FM_MUST_USE;

/* ---- Keys at rest (crypto/keyfile.c, docs/security.md) ----
 * The node's identity key and data key are stored sealed under a KEK
 * derived with Argon2id from a passphrase or the bytes of a key file; the
 * parameters and salt are stored in the file. */
enum fm_kdf_level {
    FM_KDF_INTERACTIVE = 0, /* libsodium's interactive limits: 64 MiB (the default) */
    FM_KDF_MODERATE = 1,    /* 256 MiB */
    FM_KDF_SENSITIVE = 2,   /* 1 GiB */
    FM_KDF_MINIMAL = 3,     /* the minimum: tests and demos only, never a field machine */
};
const char *fm_kdf_level_name(enum fm_kdf_level l);
int fm_kdf_level_parse(const char *s, enum fm_kdf_level *out) FM_MUST_USE;
/* Below the interactive limits (a file made with FM_KDF_MINIMAL). */
bool fm_kdf_is_weak(uint64_t ops, uint64_t mem);

/* The secret that unlocks sealed keys (passphrase or key file bytes),
 * copied into guarded memory, with the last derived KEK cached. new:
 * FM_EINVAL for 0 or more than 4096 bytes, FM_ENOMEM. */
struct fm_unlock;
int fm_unlock_new(struct fm_unlock **out, const void *secret, size_t len) FM_MUST_USE;
void fm_unlock_destroy(struct fm_unlock **up);

/* Sealed key files: "fieldmesh-sealed-key 1\n<base64>\n", mode 0600, never
 * overwritten (FM_EEXISTS). The identity's save also writes `path`.pub.
 * load: FM_EPASSPHRASE if the secret is wrong (nothing is returned),
 * FM_EPLAIN for an unsealed key of the old format, FM_EKEYPERM if group or
 * world readable, FM_ENOTFOUND, FM_EDECODE. */
int fm_identity_save_sealed(const struct fm_identity *id, const char *path,
                            struct fm_unlock *u, enum fm_kdf_level lvl) FM_MUST_USE;
int fm_identity_load_sealed(struct fm_identity *id, const char *path,
                            struct fm_unlock *u) FM_MUST_USE;
int fm_seal_key_save_sealed(const struct fm_seal_key *k, const char *path, struct fm_unlock *u,
                            enum fm_kdf_level lvl) FM_MUST_USE;
int fm_seal_key_load_sealed(struct fm_seal_key *k, const char *path,
                            struct fm_unlock *u) FM_MUST_USE;
/* The KDF parameters a sealed file was made with (no secret needed). */
int fm_sealed_file_level(const char *path, uint64_t *ops, uint64_t *mem) FM_MUST_USE;

/* Copies into fresh guarded memory (release as usual). from_sk checks that
 * the public half matches the seed (FM_EDECODE). */
int fm_seal_key_copy(struct fm_seal_key *dst, const struct fm_seal_key *src) FM_MUST_USE;
int fm_seal_key_from_bytes(struct fm_seal_key *k, const uint8_t bytes[FM_SEAL_KEY_LEN]) FM_MUST_USE;
int fm_identity_copy(struct fm_identity *dst, const struct fm_identity *src) FM_MUST_USE;
int fm_identity_from_sk(struct fm_identity *id, const uint8_t sk[FM_SK_LEN]) FM_MUST_USE;
/* Zeroes memory the compiler may not optimise away. */
void fm_wipe(void *p, size_t n);

/* ---- Stored values (crypto/vault.c) ----
 * A vault seals and opens the values of one store under its data key
 * (borrowed: it must outlive the vault); make one per open store. seal
 * writes n + FM_VAULT_OVERHEAD bytes (header | ciphertext | tag) to out
 * with a nonce that never repeats (vault.c says why); open writes
 * n - FM_VAULT_OVERHEAD bytes and reads every format ever written:
 * FM_EDECODE if n is shorter than the overhead or the format is unknown,
 * FM_EVERIFY (out zeroed) if the value or ad differ, FM_EINVAL for an
 * AES-256-GCM value on a CPU without AES-NI. Thread-safe. */
#define FM_VAULT_OVERHEAD (FM_SEAL_NONCE_LEN + FM_SEAL_MAC_LEN)
enum fm_vault_alg {
    FM_VAULT_AUTO = 0, /* AES-256-GCM where the CPU has AES-NI, else XChaCha20-Poly1305 */
    FM_VAULT_XCHACHA,  /* forced: tests and the benchmark's comparison */
    FM_VAULT_AES,      /* forced (FM_EINVAL without AES-NI) */
};
struct fm_vault;
int fm_vault_new(struct fm_vault **out, const struct fm_seal_key *dk,
                 enum fm_vault_alg alg) FM_MUST_USE;
void fm_vault_free(struct fm_vault **v);
/* What seal writes (never FM_VAULT_AUTO). */
enum fm_vault_alg fm_vault_alg(const struct fm_vault *v);
void fm_vault_seal(struct fm_vault *v, const void *ad, size_t adlen, const void *pt, size_t n,
                   uint8_t *out);
int fm_vault_open(struct fm_vault *v, const void *ad, size_t adlen, const uint8_t *in, size_t n,
                  uint8_t *out) FM_MUST_USE;
/* Whether this CPU runs libsodium's AES-256-GCM (AES-NI and PCLMUL). */
bool fm_aes_gcm_available(void);
/* Overwrites a file with random bytes, syncs and unlinks it (FM_ENOTFOUND
 * if absent). Not a guarantee on flash or copy-on-write file systems. */
int fm_file_shred(const char *path) FM_MUST_USE;

#endif
