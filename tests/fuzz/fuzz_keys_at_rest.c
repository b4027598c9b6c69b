/*
 * fuzz_keys_at_rest.c — feeds arbitrary bytes to the decoders of keys at
 * rest (docs/security.md): a sealed key file (its text form and its
 * decoded bytes; a file on disk is untrusted, and its KDF parameters must
 * be bounded before any derivation) and the key socket's message. Whatever
 * decodes must respect the bounds the decoders promise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_int.h"
#include "node/daemon/daemon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sealed(const uint8_t *p, size_t n)
{
    struct fm_sealed s;
    int rc = fm_sealed_decode(&s, p, n);
    if (rc == FM_OK) {
        size_t want = s.kind == FM_SEALED_IDENTITY ? FM_SK_LEN : FM_SEAL_KEY_LEN;
        if ((s.kind != FM_SEALED_IDENTITY && s.kind != FM_SEALED_DATA_KEY) ||
            s.ct_len != want + FM_SEAL_MAC_LEN || s.ops == 0 || s.ops > 4 ||
            s.mem < 8192 || s.mem > (UINT64_C(1) << 30) || s.ct + s.ct_len != p + n)
            __builtin_trap();
    } else if (rc != FM_EDECODE) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (fm_crypto_init() != FM_OK)
            abort();
        ready = 1;
    }
    check_sealed(data, size);
    uint8_t blob[512];
    size_t blen = 0;
    if (fm_text_unwrap(data, size, "fieldmesh-sealed-key 1", blob, sizeof blob, &blen) == FM_OK)
        check_sealed(blob, blen);

    struct fm_keys k;
    int rc = fm_keys_decode(&k, data, size);
    if (rc == FM_OK) {
        if (k.data.k == NULL || (k.has_id && k.id.sk == NULL) || (!k.has_id && k.id.sk))
            __builtin_trap();
        fm_keys_release(&k);
    } else if (rc != FM_EDECODE && rc != FM_ENOMEM) {
        __builtin_trap();
    }
    return 0;
}
