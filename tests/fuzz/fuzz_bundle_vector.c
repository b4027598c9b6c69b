/*
 * fuzz_bundle_vector.c — libFuzzer target for the signed vector file that
 * `bundle export --for VECTOR` reads (bundle_vector_parse in bundle.c): a
 * file handed over on a USB stick by a node asking for what it lacks. The
 * input is parsed as the file's bytes; what parses is checked against the
 * corpus organisation on an empty temporary store, as the exporter would.
 * Nothing may crash, and what the parser accepts must be what the format
 * allows: the magic line first, a sorted head list without repeats, and a
 * signature only with a certificate, its signed prefix ending on a line.
 */
#include <stdint.h>

#include "node/replica/bundle_int.h"
#include "tests/fuzz/fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAGIC_LINE "fieldmesh-vector 1\nnode "

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bundle_vector v;
    if (fuzz_node == NULL)
        fuzz_store_open("vector");
    int rc = bundle_vector_parse(&v, data, size);
    if (rc != FM_OK) {
        if (v.e != NULL || v.n != 0 || v.has_sig)
            __builtin_trap(); /* a refused file leaves nothing behind */
        return 0;
    }
    if (size < strlen(MAGIC_LINE) || memcmp(data, MAGIC_LINE, strlen(MAGIC_LINE)) != 0 ||
        data[size - 1] != '\n')
        __builtin_trap();
    for (size_t i = 1; i < v.n; i++)
        if (memcmp(v.e[i - 1].author, v.e[i].author, FM_PK_LEN) >= 0)
            __builtin_trap();
    if (v.has_sig && (v.signed_len == 0 || v.signed_len >= size || data[v.signed_len - 1] != '\n'))
        __builtin_trap();
    rc = bundle_vector_check(fuzz_node, &v);
    if (rc == FM_OK && (!v.has_sig || memcmp(v.cert.node, v.node, FM_PK_LEN) != 0))
        __builtin_trap(); /* sealing to an unproven key */
    bundle_vector_release(&v);
    return 0;
}
