/*
 * bundle_int.h — the signed version-vector file of `bundle vector`
 * (bundle.c), as the exporter reads it: declared here so its fuzz target
 * (tests/fuzz/fuzz_bundle_vector.c) can drive the decoder without a file.
 *
 * File (text, one item a line, every line ending in "\n"):
 *   fieldmesh-vector 1
 *   node KEY                      the writer
 *   KEY SEQ                       zero or more heads, one per author
 *   cert HEX                      the writer's certificate
 *   sig HEX                       Ed25519 by the writer over
 *                                 "fieldmesh-vector-sig-1" | every byte before this line
 */
#ifndef FM_BUNDLE_INT_H
#define FM_BUNDLE_INT_H

#include "replica_int.h"

struct bundle_vector {
    uint8_t node[FM_PK_LEN];
    bool has_sig;              /* the cert and sig lines were present and well-formed */
    struct fm_cert cert;       /* the writer's certificate (unchecked) */
    uint8_t sig[FM_SIG_LEN];
    size_t signed_len;         /* bytes before the sig line */
    const uint8_t *file;       /* the parsed bytes (borrowed), to verify sig */
    struct fm_head *e;         /* heads sorted by author, no author twice (malloc'd) */
    size_t n;
};

/* Parses len bytes of a vector file. v borrows buf: buf must outlive v.
 * Structure only: the signature and certificate are checked by
 * bundle_vector_check. FM_EDECODE (malformed: a line out of place, a bad
 * key, seq or hex, an author twice, no final newline), FM_ETOOBIG, FM_ENOMEM;
 * on failure v is left empty. Release with bundle_vector_release. */
int bundle_vector_parse(struct bundle_vector *v, const uint8_t *buf, size_t len) FM_MUST_USE;
void bundle_vector_release(struct bundle_vector *v);

/* Whether n may seal a bundle to the vector's node: the file carries a
 * certificate of our organisation for that node, valid now, the node's
 * signature over the file verifies, and the node is not revoked here.
 * FM_EVERIFY (unsigned, or a bad signature), FM_ECERT (certificate for
 * another key, or invalid), FM_EFOREIGN, FM_EEXPIRED, FM_EREVOKED. */
int bundle_vector_check(struct fm_node *n, const struct bundle_vector *v) FM_MUST_USE;

#endif
