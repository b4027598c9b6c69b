/*
 * fuzz_store.h — the temporary store the node fuzz targets (ingest, soft
 * state, bundles) run against: an LMDB environment in a fresh /tmp
 * directory of the corpus organisation, opened without fsync, closed and
 * removed at exit. Header-only; each target is one translation unit.
 */
#ifndef FM_FUZZ_STORE_H
#define FM_FUZZ_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/replica/replica_int.h"
#include "node/model/model_int.h"

/* Public half of the corpus organisation (seed in gen_node_corpus.c). */
static const char fuzz_org_key[] = "6kf7rhg5y22x7zvdtkhl52duaz74dxdiv2ckdekbexwvx24ovada";

static char fuzz_dir[64];
static struct fm_node *fuzz_node;
/* Extra files a target creates in fuzz_dir, removed at exit. */
static const char *fuzz_extra_files[4];

static void fuzz_store_cleanup(void)
{
    static const char *const files[] = {"data.mdb", "lock.mdb"};
    char path[128];
    fm_node_close(&fuzz_node);
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, files[i]);
        unlink(path);
    }
    for (size_t i = 0; i < 4 && fuzz_extra_files[i] != NULL; i++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir, fuzz_extra_files[i]);
        unlink(path);
    }
    rmdir(fuzz_dir);
}

/* Opens the store in /tmp/fm_fuzz_<name>_XXXXXX; aborts on failure (a
 * harness problem, not a finding). */
static void fuzz_store_open(const char *name)
{
    struct fm_config cfg;
    if (fm_crypto_init() != FM_OK)
        abort();
    fm_log_set_level(FM_LOG_ERROR);
    fm_config_defaults(&cfg);
    snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/fm_fuzz_%s_XXXXXX", name);
    if (mkdtemp(fuzz_dir) == NULL)
        abort();
    fm_strlcpy(cfg.data_dir, fuzz_dir, sizeof cfg.data_dir);
    cfg.map_size = 8u << 20;
    cfg.map_max = 1u << 30;
    if (fm_key_decode(fuzz_org_key, cfg.org_pk) != FM_OK)
        abort();
    /* a sealed store as on every node, its data key made here in memory */
    struct fm_keys keys = { 0 };
    if (fm_seal_key_generate(&keys.data) != FM_OK ||
        fm_node_open_keys(&fuzz_node, &cfg, FM_OPEN_READ | FM_OPEN_NOSYNC_, &keys) != FM_OK)
        abort();
    fm_keys_release(&keys);
    atexit(fuzz_store_cleanup);
}

#endif
