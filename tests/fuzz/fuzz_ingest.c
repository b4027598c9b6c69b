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

#include "tests/fuzz/fuzz_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 64
/* an invariant: with FM_FUZZ_VERBOSE set, which one broke is printed */
#define CHECK(cond, what)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            if (getenv("FM_FUZZ_VERBOSE"))                                                 \
                fprintf(stderr, "broken: %s\n", what);                                     \
            __builtin_trap();                                                              \
        }                                                                                  \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *ops[MAX_OPS];
    size_t lens[MAX_OPS], n = 0;
    struct fm_cur c;
    struct fm_ingest_result res, res2;
    struct fm_node_stats st;
    uint8_t d0[FM_HASH_LEN], d1[FM_HASH_LEN];
    if (fuzz_node == NULL)
        fuzz_store_open("ingest");
    fm_cur_init(&c, data, size);
    while (n < MAX_OPS) {
        uint16_t len;
        if (fm_cur_u16(&c, &len) != FM_OK || fm_cur_bytes(&c, len, &ops[n]) != FM_OK)
            break;
        lens[n++] = len;
    }
    CHECK(node_test_clear(fuzz_node) == FM_OK, "clear");
    int irc = fm_node_ingest(fuzz_node, ops, lens, n, &res);
    if (irc != FM_OK && getenv("FM_FUZZ_VERBOSE"))
        fprintf(stderr, "ingest: %s\n", fm_strerror(irc));
    CHECK(irc == FM_OK, "ingest failed");
    if (getenv("FM_FUZZ_VERBOSE"))
        fprintf(stderr, "%zu ops: %zu stored, %zu duplicates, %zu rejected (%s)\n", n,
                res.stored, res.duplicates, res.rejected, fm_strerror(res.err));
    CHECK(res.stored + res.duplicates + res.rejected == n, "every op counted once");
    CHECK((res.rejected == 0) == (res.err == 0), "an error iff a rejection");
    /* fewer only if a revocation dropped some */
    CHECK(fm_node_stats(fuzz_node, &st) == FM_OK && st.ops <= res.stored, "stored ops held");
    CHECK(fm_node_digest(fuzz_node, d0) == FM_OK, "digest");
    CHECK(fm_node_rebuild(fuzz_node) == FM_OK, "rebuild");
    CHECK(fm_node_digest(fuzz_node, d1) == FM_OK && memcmp(d0, d1, FM_HASH_LEN) == 0,
          "the digest after a rebuild");
    CHECK(fm_node_ingest(fuzz_node, ops, lens, n, &res2) == FM_OK, "second ingest failed");
    CHECK(res2.stored == 0, "a second ingest stores nothing");
    CHECK(fm_node_digest(fuzz_node, d1) == FM_OK && memcmp(d0, d1, FM_HASH_LEN) == 0,
          "the digest after a second ingest");
    return 0;
}
