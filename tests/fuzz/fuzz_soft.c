/*
 * fuzz_soft.c — libFuzzer target for soft-state records (vehicle positions
 * and presence) as they arrive from peers: the input is split into records
 * (u16 length + bytes each) and given to fm_node_soft_ingest on a
 * temporary store. Nothing may crash; the store may keep at most the
 * records it was given, and ingesting the same records again must not
 * change the soft state's count.
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

#define MAX_RECS 64

static char dir[64];
static struct fm_node *node;

static void cleanup(void)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[128];
    fm_node_close(&node);
    for (size_t i = 0; i < 2; i++) {
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
    snprintf(dir, sizeof dir, "/tmp/fm_fuzz_soft_XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    fm_strlcpy(cfg.data_dir, dir, sizeof cfg.data_dir);
    cfg.map_size = 8u << 20;
    cfg.map_max = 1u << 30;
    if (fm_key_decode(fuzz_org_key, cfg.org_pk) != FM_OK)
        abort();
    if (fm_node_open(&node, &cfg, FM_OPEN_READ | FM_OPEN_NOSYNC_) != FM_OK)
        abort();
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *recs[MAX_RECS];
    size_t lens[MAX_RECS], n = 0, stored = 0, again = 0;
    struct fm_cur c;
    if (node == NULL)
        setup();
    fm_cur_init(&c, data, size);
    while (n < MAX_RECS) {
        uint16_t len;
        if (fm_cur_u16(&c, &len) != FM_OK || fm_cur_bytes(&c, len, &recs[n]) != FM_OK)
            break;
        lens[n++] = len;
    }
    if (node_test_clear(node) != FM_OK)
        __builtin_trap();
    int rc = fm_node_soft_ingest(node, recs, lens, n, &stored);
    if (rc != FM_OK && rc != FM_EDECODE && rc != FM_EVERIFY)
        __builtin_trap(); /* only the store itself may fail otherwise */
    if (stored > n)
        __builtin_trap();
    if (fm_node_soft_ingest(node, recs, lens, n, &again) == FM_OK && again > stored)
        __builtin_trap(); /* nothing new the second time */
    return 0;
}
