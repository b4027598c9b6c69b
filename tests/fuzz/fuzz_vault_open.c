/*
 * fuzz_vault_open.c — feeds arbitrary bytes to the opening of a stored
 * value (crypto/vault.c): a data.mdb on a lost laptop may have been
 * altered, so a value is untrusted bytes. Input: byte 0 is the database
 * number of the associated data (the key is fixed: "key"), the rest the
 * value, sealed under a fixed data key (0x42 x 32; the corpus holds values
 * sealed so, in both formats). Opening must return a known code, never
 * crash; a value that opens must stop opening when its last byte changes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fm_seal_key dk;
    static struct fm_vault *v;
    if (v == NULL) {
        uint8_t kb[FM_SEAL_KEY_LEN];
        memset(kb, 0x42, sizeof kb);
        if (fm_crypto_init() != FM_OK || fm_seal_key_from_bytes(&dk, kb) != FM_OK ||
            fm_vault_new(&v, &dk, FM_VAULT_AUTO) != FM_OK)
            abort();
    }
    if (size < 1 || size > 4096)
        return 0;
    uint8_t ad[4] = { data[0], 'k', 'e', 'y' };
    const uint8_t *in = data + 1;
    size_t n = size - 1;
    uint8_t *out = malloc(n ? n : 1), *copy = malloc(n ? n : 1);
    if (out == NULL || copy == NULL)
        abort();
    int rc = fm_vault_open(v, ad, sizeof ad, in, n, out);
    if (rc == FM_OK) {
        if (n < FM_VAULT_OVERHEAD)
            __builtin_trap();
        memcpy(copy, in, n);
        copy[n - 1] ^= 1;
        if (fm_vault_open(v, ad, sizeof ad, copy, n, out) != FM_EVERIFY)
            __builtin_trap();
    } else if (rc != FM_EDECODE && rc != FM_EVERIFY && rc != FM_EINVAL) {
        __builtin_trap();
    }
    free(out);
    free(copy);
    return 0;
}
