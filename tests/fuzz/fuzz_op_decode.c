/*
 * fuzz_op_decode.c — feeds arbitrary bytes to the op envelope decoder, and
 * for anything that decodes, to signature verification and hashing. Beyond
 * "no crash", it traps if a decoded op breaks the decoder's promises: the
 * borrowed pointers lie inside the input in layout order, the length is
 * exactly header + payload + signature, and the structural rules hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (fm_crypto_init() != FM_OK)
            abort();
        ready = 1;
    }
    struct fm_op op;
    int rc = fm_op_decode(&op, data, size);
    if (rc != FM_OK) {
        if (rc != FM_EDECODE && rc != FM_ETOOBIG)
            __builtin_trap();
        if (op.raw != NULL || op.author != NULL)
            __builtin_trap();
        return 0;
    }
    static const uint8_t zero[FM_HASH_LEN];
    if (op.raw != data || op.raw_len != size || op.version != FM_OP_VERSION || op.flags != 0 ||
        op.seq == 0 || op.payload_len > FM_OP_MAX_PAYLOAD ||
        size != (size_t)FM_OP_HEADER_LEN + op.payload_len + FM_SIG_LEN ||
        op.author != data + 4 || op.prev != data + 44 || op.payload != data + FM_OP_HEADER_LEN ||
        op.sig != data + FM_OP_HEADER_LEN + op.payload_len ||
        (op.seq == 1 && memcmp(op.prev, zero, FM_HASH_LEN) != 0))
        __builtin_trap();
    volatile bool ok = fm_op_verify(&op);
    (void)ok;
    uint8_t h[FM_HASH_LEN];
    fm_op_hash(&op, h);
    return 0;
}
