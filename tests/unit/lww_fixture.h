/*
 * lww_fixture.h — fixed-key authors and hand-stamped ops for the tests of
 * the causal last-writer-wins rule (test_lww_compat.c, test_lww_causal.c).
 *
 * Keys come from fixed seeds and every op carries a stamp the test
 * chooses, so the ops (and the state they make) are the same bytes on
 * every run: a digest can be written into a test as a constant.
 */
#ifndef FM_LWW_FIXTURE_H
#define FM_LWW_FIXTURE_H

#include "crypto/crypto_int.h"
#include "tests/unit/node_fixture.h"

/* 2026-01-01 and 2030-01-01 (Unix ms): the fixed authors' window. */
#define LWW_NB_MS UINT64_C(1767225600000)
#define LWW_EXP_MS UINT64_C(1893456000000)

struct lww_author {
    struct fm_identity id;
    struct fm_cert cert;
    struct fx_log log;
};

static inline int lww_identity(struct fm_identity *id, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    return fm_identity_from_seed(id, seed);
}

/* An author whose key derives from seed_byte, enrolled by `root` for
 * [nb, exp], its log opened with its certificate stamped at hlc0 + 1. */
static inline int lww_author_init(struct lww_author *a, const struct fm_identity *root,
                                  uint8_t seed_byte, const char *name, uint64_t nb,
                                  uint64_t exp, uint64_t hlc0)
{
    int rc;
    memset(a, 0, sizeof *a);
    if ((rc = lww_identity(&a->id, seed_byte)) != FM_OK)
        return rc;
    memcpy(a->cert.node, a->id.pk, FM_PK_LEN);
    fm_strlcpy(a->cert.name, name, sizeof a->cert.name);
    a->cert.role = FM_ROLE_COUNTY;
    a->cert.tier = 1;
    a->cert.not_before_ms = nb;
    a->cert.expires_ms = exp;
    fm_cert_sign(&a->cert, root);
    fx_log_init(&a->log, &a->id);
    a->log.hlc = hlc0;
    return fx_log_cert(&a->log, &a->cert);
}

static inline void lww_author_done(struct lww_author *a)
{
    fx_log_free(&a->log);
    fm_identity_release(&a->id);
}

/* The next op of a's log is stamped hlc (it must exceed the last one). */
static inline void lww_at(struct lww_author *a, uint64_t hlc)
{
    a->log.hlc = hlc - 1;
}

static inline struct payload *lww_pl(uint8_t kind)
{
    struct payload *pl = calloc(1, sizeof *pl);
    if (pl != NULL)
        pl->log.kind = kind;
    return pl;
}

static inline void lww_ref(struct payload *pl, const uint8_t *author, uint64_t seq)
{
    memcpy(pl->ref.author, author, FM_PK_LEN);
    pl->ref.seq = seq;
    pl->present |= PT_BIT(PT_REF);
}

/* Writes pl into a's log and frees it. */
static inline int lww_put(struct lww_author *a, struct payload *pl)
{
    if (pl == NULL)
        return FM_ENOMEM;
    int rc = fx_log_pl(&a->log, pl);
    free(pl);
    return rc;
}

static inline int lww_report(struct lww_author *a, const char *address)
{
    struct payload *pl = lww_pl(OP_INC_REPORT);
    if (pl == NULL)
        return FM_ENOMEM;
    fm_strlcpy(pl->category, "building_fire", sizeof pl->category);
    pl->priority = 2;
    pl->lat = 312302000;
    pl->lon = 1214751000;
    fm_strlcpy(pl->address, address, sizeof pl->address);
    fm_strlcpy(pl->caller, "555-0100", sizeof pl->caller);
    fm_strlcpy(pl->desc, "smoke on the third floor", sizeof pl->desc);
    pl->present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON) |
                  PT_BIT(PT_ADDRESS) | PT_BIT(PT_CALLER) | PT_BIT(PT_DESC);
    return lww_put(a, pl);
}

/* An address edit of incident (author, seq); priority too when prio != 0. */
static inline int lww_update(struct lww_author *a, const uint8_t *author, uint64_t seq,
                             const char *address, uint8_t prio)
{
    struct payload *pl = lww_pl(OP_INC_UPDATE);
    if (pl == NULL)
        return FM_ENOMEM;
    lww_ref(pl, author, seq);
    fm_strlcpy(pl->address, address, sizeof pl->address);
    pl->present |= PT_BIT(PT_ADDRESS);
    if (prio) {
        pl->priority = prio;
        pl->present |= PT_BIT(PT_PRIORITY);
    }
    return lww_put(a, pl);
}

static inline int lww_address(struct fm_node *n, const char *id, char *out, size_t cap)
{
    struct fm_incident inc;
    int rc = fm_node_incident_get(n, id, &inc);
    if (rc == FM_OK)
        rc = fm_strlcpy(out, inc.address, cap);
    return rc;
}

#endif
