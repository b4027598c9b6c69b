/*
 * fuzz_bundle.c — libFuzzer target for sneakernet bundle files, which come
 * from USB sticks and vehicles: the input is written to a file and given
 * to fm_node_bundle_import on an empty temporary store, with an
 * organisation bundle key present. Nothing may crash; a bundle that is
 * refused (bad signature, certificate, decryption or format) must leave
 * the store without a single op.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/node_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Public half of the corpus organisation (seed in gen_node_corpus.c). */
static const char fuzz_org_key[] = "6kf7rhg5y22x7zvdtkhl52duaz74dxdiv2ckdekbexwvx24ovada";

static char dir[64], bundle[96], key[96];
static struct fm_node *node;

static void cleanup(void)
{
    static const char *const files[] = {"data.mdb", "lock.mdb", "in.bundle", "bundle.key"};
    char path[128];
    fm_node_close(&node);
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void setup(void)
{
    struct fm_config cfg;
    if (fm_crypto_init() != FM_OK)
        abort();
    fm_log_set_level(FM_LOG_ERROR);
    fm_config_defaults(&cfg);
    snprintf(dir, sizeof dir, "/tmp/fm_fuzz_bundle_XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(bundle, sizeof bundle, "%s/in.bundle", dir);
    snprintf(key, sizeof key, "%s/bundle.key", dir);
    fm_strlcpy(cfg.data_dir, dir, sizeof cfg.data_dir);
    cfg.map_size = 8u << 20;
    cfg.map_max = 1u << 30;
    if (fm_key_decode(fuzz_org_key, cfg.org_pk) != FM_OK)
        abort();
    if (fm_node_open(&node, &cfg, FM_OPEN_READ | FM_OPEN_NOSYNC_) != FM_OK)
        abort();
    if (fm_bundle_key_create(key) != FM_OK)
        abort();
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fm_bundle_info info;
    struct fm_ingest_result res;
    struct fm_node_stats st;
    if (node == NULL)
        setup();
    FILE *f = fopen(bundle, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    if (node_test_clear(node) != FM_OK)
        __builtin_trap();
    memset(&info, 0, sizeof info);
    memset(&res, 0, sizeof res);
    int rc = fm_node_bundle_import(node, bundle, key, &info, &res);
    if (fm_node_stats(node, &st) != FM_OK)
        __builtin_trap();
    if (rc != FM_OK && st.ops != 0)
        __builtin_trap(); /* a refused bundle is refused whole */
    return 0;
}
