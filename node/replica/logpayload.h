/*
 * logpayload.h — the replica's part of an op payload: what the op log
 * itself reads and writes of a decoded payload, and no more.
 *
 * The log owns the trust kinds (certificate, renewal, revocation, fork
 * evidence, group key, announced certificate: kinds 1..9) and their decoded forms, plus two
 * fields every kind may carry that the log acts on: the causal base (for
 * back-dating checks) and the console operator (op format 2). Everything
 * else in a payload belongs to the domain, which embeds this struct as the
 * first member of its own payload struct and tells the replica that
 * struct's size (struct replica_domain); the replica allocates and copies
 * payloads of that size and hands the domain pointers to this part.
 * Nothing here changes what an op's bytes are: the codec is the domain's.
 */
#ifndef FM_LOGPAYLOAD_H
#define FM_LOGPAYLOAD_H

#include "../../crypto/crypto.h"

#include <stddef.h>
#include <stdint.h>

/* The log's own op kinds; 6..9 are reserved for more of them, and the
 * domain's kinds start at LOG_KIND_DOMAIN_MIN. */
enum log_kind {
    OP_CERT = 1,
    OP_REVOKE = 2,
    OP_FORK_EVIDENCE = 3, /* two signed ops of one author with one seq (fork.c) */
    OP_CERT_RENEW = 4,    /* a new certificate of the author, same org (node.c) */
    OP_GROUP_KEY = 5,     /* the dispatchers' group key, org-signed (dispatch_key.c) */
    OP_CERT_ANNOUNCE = 6, /* another node's certificate, org-signed, carried so peers
                           * admit its key before its own log reaches them (announce.c;
                           * op format 4) */
};
#define LOG_KIND_DOMAIN_MIN 10

#define FM_OP_OPERATOR_MAX 64 /* operator name bytes incl. NUL (= FM_OPERATOR_NAME_MAX) */

struct log_payload {
    uint8_t kind;
    /* writing only: the op format the writer writes (node.op_format), so
     * the codec refuses what older builds would refuse; 0 when decoded */
    uint8_t format;
    uint64_t base;             /* the causal base of a domain op, 0 when absent */
    char operator_name[FM_OP_OPERATOR_MAX]; /* op format 2, "" when absent */
    struct fm_cert cert;       /* OP_CERT, OP_CERT_RENEW, OP_CERT_ANNOUNCE */
    struct fm_revocation rev;  /* OP_REVOKE */
    /* OP_FORK_EVIDENCE: u32 len | op | u32 len | op, both verified; the
     * pointers borrow from the decoded bytes */
    const uint8_t *fork_op[2];
    uint32_t fork_len[2];
    /* Last, so a decoder clears only what precedes it (LOG_PAYLOAD_CLEAR_LEN):
     * filled whole by its own decoder. */
    struct fm_groupkey gk;     /* OP_GROUP_KEY */
};
#define LOG_PAYLOAD_CLEAR_LEN offsetof(struct log_payload, gk)

/* fork.c: the OP_FORK_EVIDENCE payload (field sync). */
int fork_evidence_decode(struct log_payload *out, const uint8_t *p, size_t n) FM_MUST_USE;
int fork_evidence_encode(const struct log_payload *p, struct fm_buf *out) FM_MUST_USE;
void fork_evidence_summary(const struct log_payload *p, char *out, size_t cap);

#endif
