/*
 * fuzz_cert_decode.c — feeds arbitrary bytes to the certificate and the
 * revocation decoders. Decoding is strict, so anything that decodes must
 * re-encode to exactly the input bytes (one encoding per object); the
 * target traps if it does not, and also runs the signature checks against
 * the object's own org key.
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
    struct fm_buf b;
    fm_buf_init(&b, FM_CERT_MAX);

    struct fm_cert cert;
    int rc = fm_cert_decode(&cert, data, size);
    if (rc == FM_OK) {
        if (fm_cert_encode(&cert, &b) != FM_OK || b.len != size ||
            memcmp(b.data, data, size) != 0)
            __builtin_trap();
        if (strlen(cert.name) == 0 || strlen(cert.name) >= FM_NAME_MAX ||
            strlen(cert.unit) >= FM_NAME_MAX || cert.tier > 3 ||
            cert.not_before_ms > cert.expires_ms)
            __builtin_trap();
        volatile int c = fm_cert_check(&cert, cert.org, cert.not_before_ms);
        (void)c;
    } else if (rc != FM_EDECODE) {
        __builtin_trap();
    }

    fm_buf_reset(&b);
    struct fm_revocation rev;
    rc = fm_revocation_decode(&rev, data, size);
    if (rc == FM_OK) {
        if (fm_revocation_encode(&rev, &b) != FM_OK || b.len != size ||
            memcmp(b.data, data, size) != 0)
            __builtin_trap();
        volatile int c = fm_revocation_check(&rev, rev.org);
        (void)c;
    } else if (rc != FM_EDECODE) {
        __builtin_trap();
    }
    fm_buf_release(&b);
    return 0;
}
