/*
 * fuzz_sealed_caller.c — the decoders need to know adds (docs/security.md,
 * "Need to know"): the org-signed dispatcher key record, the sealed field
 * around a caller, and the caller's plaintext. Every input goes to all
 * three: a record that decodes must re-encode to the input and may be
 * checked and opened (with a fixed identity); a sealed field is parsed
 * and opened with a fixed key; the input as plaintext is decoded strictly
 * (re-encoding must give it back) and also sealed and opened again, so the
 * path behind a passing MAC — what a hostile dispatcher could craft — is
 * reached. Refusals must be FM_EDECODE / FM_EVERIFY / FM_ENOTFOUND.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_int.h"
#include "node/model/payload_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fm_identity me;
static struct fm_seal_key key;
static struct fm_groupkey gk;
static const uint8_t author[FM_PK_LEN] = {7};

static void record(const uint8_t *data, size_t size)
{
    struct fm_buf b;
    struct fm_seal_key k = {NULL};
    int rc = fm_groupkey_decode(&gk, data, size);
    if (rc != FM_OK) {
        if (rc != FM_EDECODE)
            __builtin_trap();
        return;
    }
    fm_buf_init(&b, FM_GROUPKEY_MAX_LEN);
    if (fm_groupkey_encode(&gk, &b) != FM_OK || b.len != size || memcmp(b.data, data, size))
        __builtin_trap();
    fm_buf_release(&b);
    volatile int c = fm_groupkey_check(&gk, gk.org);
    (void)c;
    rc = fm_groupkey_open(&gk, &me, &k);
    if (rc == FM_OK)
        fm_seal_key_release(&k);
    else if (rc != FM_ENOTFOUND && rc != FM_EVERIFY)
        __builtin_trap();
}

static void sealed(const uint8_t *data, size_t size)
{
    char phone[FM_PHONE_MAX], name[FM_CALLER_NAME_MAX];
    uint8_t kid[FM_SEAL_KEY_ID_LEN];
    int rc = fm_sealed_field_parse(data, size, kid);
    if (rc != FM_OK && rc != FM_EDECODE)
        __builtin_trap();
    rc = caller_open(&key, author, data, size, phone, name);
    if (rc != FM_OK && rc != FM_EDECODE && rc != FM_EVERIFY)
        __builtin_trap();
    if (memchr(phone, 0, sizeof phone) == NULL || memchr(name, 0, sizeof name) == NULL)
        __builtin_trap();
}

static void plain(const uint8_t *data, size_t size)
{
    char phone[FM_PHONE_MAX], name[FM_CALLER_NAME_MAX], p2[FM_PHONE_MAX], n2[FM_CALLER_NAME_MAX];
    uint8_t again[FM_SEALED_PLAIN_MAX];
    size_t n = 0;
    int rc = caller_plain_decode(data, size, phone, name);
    if (rc == FM_OK) {
        if (caller_plain_encode(phone, name, again, &n) != FM_OK || n != size ||
            memcmp(again, data, size) != 0)
            __builtin_trap();
    } else if (rc != FM_EDECODE) {
        __builtin_trap();
    }
    if (size > FM_SEALED_PLAIN_MAX)
        return;
    /* the same bytes behind a valid MAC */
    struct fm_buf b;
    fm_buf_init(&b, FM_SEALED_MAX);
    if (fm_sealed_field_seal(&b, &key, author, FM_PK_LEN, data, size) != FM_OK)
        __builtin_trap();
    int rc2 = caller_open(&key, author, b.data, b.len, p2, n2);
    if ((rc == FM_OK) != (rc2 == FM_OK) || (rc == FM_OK && (strcmp(phone, p2) || strcmp(name, n2))))
        __builtin_trap();
    fm_buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        static const uint8_t seed[32] = {1, 2, 3}, kb[FM_SEAL_KEY_LEN] = {9, 8, 7};
        if (fm_crypto_init() != FM_OK || fm_identity_from_seed(&me, seed) != FM_OK ||
            fm_seal_key_from_bytes(&key, kb) != FM_OK)
            abort();
        ready = 1;
    }
    record(data, size);
    sealed(data, size);
    plain(data, size);
    return 0;
}
