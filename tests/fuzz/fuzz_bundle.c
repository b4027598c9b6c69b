/*
 * fuzz_bundle.c — libFuzzer target for sneakernet bundle files, which come
 * from USB sticks and vehicles: the input is written to a file and given
 * to fm_node_bundle_import on an empty temporary store, with an
 * organisation bundle key present. Nothing may crash; a bundle that is
 * refused (bad signature, certificate, decryption or format) must leave
 * the store without a single op.
 */
#include <stdint.h>

#include "tests/fuzz/fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char bundle[96], key[96];

static void setup(void)
{
    fuzz_extra_files[0] = "in.bundle";
    fuzz_extra_files[1] = "bundle.key";
    fuzz_store_open("bundle");
    snprintf(bundle, sizeof bundle, "%s/in.bundle", fuzz_dir);
    snprintf(key, sizeof key, "%s/bundle.key", fuzz_dir);
    if (fm_bundle_key_create(key) != FM_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fm_bundle_info info;
    struct fm_ingest_result res;
    struct fm_node_stats st;
    if (fuzz_node == NULL)
        setup();
    FILE *f = fopen(bundle, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    if (node_test_clear(fuzz_node) != FM_OK)
        __builtin_trap();
    memset(&info, 0, sizeof info);
    memset(&res, 0, sizeof res);
    int rc = fm_node_bundle_import(fuzz_node, bundle, key, &info, &res);
    if (fm_node_stats(fuzz_node, &st) != FM_OK)
        __builtin_trap();
    if (rc != FM_OK && st.ops != 0)
        __builtin_trap(); /* a refused bundle is refused whole */
    return 0;
}
