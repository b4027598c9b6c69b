/*
 * fuzz_ingest.c — feeds arbitrary bytes, cut into ops, through
 * fm_node_ingest on a temporary store, the path every remote byte takes.
 * Input: a sequence of `u16 BE length | op bytes` frames (a partial last
 * frame is dropped). The store trusts the organisation key below, whose
 * secret half made the certificates in the seed corpus (see
 * gen_node_corpus.c), so valid logs get all the way to the model.
 *
 * Beyond "no crash", it traps when an invariant breaks: ingest only fails
 * on store errors; every op is counted exactly once as stored, duplicate
 * or rejected; the store holds exactly the stored ops; rebuilding from the
 * ops gives the same digest; and a second ingest of the same input stores
 * nothing.
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

#define MAX_OPS 64

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
    snprintf(dir, sizeof dir, "/tmp/fm_fuzz_ingest_XXXXXX");
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
    const uint8_t *ops[MAX_OPS];
    size_t lens[MAX_OPS], n = 0;
    struct fm_cur c;
    struct fm_ingest_result res, res2;
    struct fm_node_stats st;
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    if (node == NULL)
        setup();
    fm_cur_init(&c, data, size);
    while (n < MAX_OPS) {
        uint16_t len;
        if (fm_cur_u16(&c, &len) != FM_OK || fm_cur_bytes(&c, len, &ops[n]) != FM_OK)
            break;
        lens[n++] = len;
    }
    if (node_test_clear(node) != FM_OK)
        __builtin_trap();
    if (fm_node_ingest(node, ops, lens, n, &res) != FM_OK)
        __builtin_trap();
    if (getenv("FM_FUZZ_VERBOSE"))
        fprintf(stderr, "%zu ops: %zu stored, %zu duplicates, %zu rejected (%s)\n", n,
                res.stored, res.duplicates, res.rejected, fm_strerror(res.err));
    if (res.stored + res.duplicates + res.rejected != n)
        __builtin_trap();
    if ((res.rejected == 0) != (res.err == 0))
        __builtin_trap();
    if (fm_node_stats(node, &st) != FM_OK || st.ops > res.stored)
        __builtin_trap(); /* fewer only if a revocation dropped some */
    if (fm_node_digest(node, d0) != FM_OK || fm_node_rebuild(node) != FM_OK ||
        fm_node_digest(node, d1) != FM_OK || memcmp(d0, d1, FM_HASH_LEN) != 0)
        __builtin_trap();
    if (fm_node_ingest(node, ops, lens, n, &res2) != FM_OK || res2.stored != 0)
        __builtin_trap();
    if (fm_node_digest(node, d1) != FM_OK || memcmp(d0, d1, FM_HASH_LEN) != 0)
        __builtin_trap();
    return 0;
}
