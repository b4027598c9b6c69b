/*
 * payload_int.h — op kinds and the strict TLV payload codec (payload.c).
 *
 * A payload is a sequence of fields `u8 tag | u16 len (BE) | value`, tags
 * strictly ascending. Each op kind allows a set of tags and requires a
 * subset; everything else (unknown, duplicate or unsorted tags, a wrong
 * fixed width, a string too long or with control characters, a coordinate
 * out of range, trailing or missing bytes) is FM_EDECODE. Cert and revoke
 * ops carry the crypto module's own encodings instead of TLV.
 */
#ifndef FM_PAYLOAD_INT_H
#define FM_PAYLOAD_INT_H

#include "model.h"
#include "../replica/logpayload.h" /* the log's part of a payload, trust kinds 1..9 */

#include <stddef.h>
#include <string.h>

/* The domain's kinds; 1..9 are the log's own (enum log_kind, logpayload.h). */
enum op_kind {
    OP_INC_REPORT = 10,
    OP_INC_UPDATE = 11,
    OP_INC_NOTE = 12,
    OP_INC_STATUS = 13,
    OP_UNIT_REGISTER = 20,
    OP_UNIT_STATUS = 21,
    OP_UNIT_POSITION = 22,
    OP_RES_ADD = 30,
    OP_RES_ADJUST = 31,
    /* 40.. tickets, 50.. directory, 60.. bulletins */
    /* ---- linkage workflow (node/workflow*.c, docs/workflow.md) ---- */
    OP_INC_FEEDBACK = 14,     /* ref incident, score, [text comment] */
    OP_INC_ALARM = 15,        /* ref incident, code = alarm level 2..5, [text reason] */
    OP_INC_MERGE = 16,        /* ref incident merged, ref2 the survivor, [text reason] */
    OP_TICKET_DISPATCH = 40,  /* ref incident, ref2 unit, epoch, [ref3 replaced ticket], [text] */
    OP_TICKET_STEP = 41,      /* ref ticket, ref2 incident, ref3 unit, epoch, code, flags, [text] */
    OP_TICKET_ESCALATE = 43,  /* ref incident, tier 2..3, [ref2 ticket], [text] */
    OP_MAT_REQUEST = 45,      /* ref incident, res_kind, qty >= 1, [text] */
    OP_MAT_ALLOCATE = 46,     /* ref request, ref2 resource, ref3 incident, qty >= 1 */
    OP_MAT_RETURN = 47,       /* ref request, ref2 resource, ref3 incident, qty >= 1 */
    OP_DIR_PUBLISH = 50,      /* part, blob: one chunk of a directory version */
    OP_BULLETIN_SEND = 60,    /* audience, text */
    OP_BULLETIN_READ = 61,    /* ref bulletin: a read receipt */
    OP_CONFLICT_RESOLVE = 70, /* text conflict id, blob fingerprint (32), [desc note],
                               * [code: what stands (enum resolve_decision), op format
                               * 5; RD_RESULT: blob = fingerprint | hash of the result;
                               * base: with a code, the decision it overrides] */
};

enum payload_tag {
    PT_REF = 1,         /* author[32] | seq u64: the entity an op targets */
    PT_CATEGORY = 2,    /* token [a-z0-9_-]{1,31} */
    PT_PRIORITY = 3,    /* u8 1..5 */
    PT_LAT = 4,         /* i32 degrees * 1e7, -90..90 */
    PT_LON = 5,         /* i32 degrees * 1e7, -180..180 */
    PT_ADDRESS = 6,     /* text <= 255 */
    PT_CALLER = 7,      /* text <= 31 */
    PT_DESC = 8,        /* text <= 1023 */
    PT_TEXT = 9,        /* text 1..1023 */
    PT_EPOCH = 10,      /* u32 */
    PT_STAGE = 11,      /* u8 0..5 */
    /* Names over FM_NAME_V1_MAX bytes (and an audience that long) are op
     * format 7: payload_encode refuses them below it (FM_ECONFIG). */
    PT_NAME = 12,       /* a name (crypto.h): 1..64 characters, at most 255 bytes */
    PT_DEPARTMENT = 13, /* a name (crypto.h): 1..64 characters, at most 255 bytes */
    PT_TIER = 14,       /* u8 1..3 */
    PT_UNIT_KIND = 15,  /* a name (crypto.h): 1..64 characters, at most 255 bytes */
    PT_CAPS = 16,       /* tokens joined by ',', strictly ascending, <= 1023 */
    PT_UNIT_STATUS = 17,/* u8 enum unit_status */
    PT_RES_KIND = 18,   /* a name (crypto.h): 1..64 characters, at most 255 bytes */
    PT_DEPOT = 19,      /* a name (crypto.h): 1..64 characters, at most 255 bytes */
    PT_QTY = 20,        /* i64 0..FM_QTY_MAX */
    PT_DELTA = 21,      /* i64 nonzero, |d| <= FM_QTY_MAX */
    /* linkage workflow */
    PT_REF2 = 22,       /* author[32] | seq u64: a second entity (per kind) */
    PT_REF3 = 23,       /* author[32] | seq u64: a third entity (per kind) */
    PT_CODE = 24,       /* u8 1..6: ticket step (enum ticket_step); alarm level 2..5 */
    PT_FLAGS = 25,      /* u8 0..3: bit 0 = recorded by a dispatcher on the unit's behalf,
                         * bit 1 = stamped by position (GPS, en route / arrive only) */
    PT_PART = 26,       /* u32 chunk index << 16 | chunk count; index < count <= 64 */
    PT_BLOB = 27,       /* bytes 1..FM_BLOB_MAX */
    PT_AUDIENCE = 28,   /* text 1..255: all | tier:N | dept:D | county:C | unit:U */
    PT_SCORE = 29,      /* u8 1..5 */
    /* causal last-writer-wins (model_base.c, docs/field-sync.md §6) */
    PT_BASE = 30,       /* u64 1..INT64_MAX: the largest effective stamp among the
                         * target's LWW fields its writer saw (only when >= the op's hlc) */
    /* need to know (node/model/caller.c, docs/security.md): the caller's
     * name and number sealed to the dispatchers' group key. */
    PT_SEALED = 31,     /* bytes FM_SEALED_MIN..FM_SEALED_MAX: fm_sealed_field */
    /* op format 2 (docs/decisions.md): the console operator who made the
     * op, allowed on every TLV kind; a node writes it only when its config
     * says `op_format: 2`, because older nodes refuse the tag. */
    PT_OPERATOR = 32,   /* text 1..FM_OP_OPERATOR_MAX-1 */
    /* op format 6 (docs/workflow.md §1c): a directory unit's stable key on
     * unit.register, from which its PT_REF derives */
    PT_KEY = 33,        /* [A-Za-z0-9_-]{1,31} */
    PT__MAX = 33        /* `present` is 64 bits: room up to 63 */
};

/* What a conflict.resolve decides (PT_CODE, op format 5): which of the
 * facts in conflict stands (docs/workflow.md §8). */
enum resolve_decision {
    RD_CLEARED = 1,    /* the clear stands (clear-cancel, clear-reassign) */
    RD_CANCELLED = 2,  /* the cancel stands (clear-cancel) */
    RD_REASSIGNED = 3, /* the reassignment stands (clear-reassign) */
    RD_RESULT = 4,     /* this closing result stands (results): its hash in the blob */
    RD__MAX = 4
};

/* Ticket steps (PT_CODE of OP_TICKET_STEP). */
enum ticket_step {
    TS_ACK = 1, TS_ENROUTE = 2, TS_ARRIVE = 3, TS_CLEAR = 4, TS_CANCEL = 5, TS_REASSIGN = 6,
    TS__MAX = 6
};
/* The sealed caller: a sealed field (crypto.h) around
 * [u8 1 | u8 len | number (<= 31)] [u8 2 | u8 len | name (<= 63)], each
 * optional but one present, printable text, in that order. */
#define FM_SEALED_PLAIN_MAX (2 + 31 + 2 + (FM_CALLER_NAME_MAX - 1))
#define FM_SEALED_MIN (FM_SEALED_FIELD_OVERHEAD + 2)
#define FM_SEALED_MAX (FM_SEALED_FIELD_OVERHEAD + FM_SEALED_PLAIN_MAX)
#define FM_BLOB_MAX 16000  /* one directory chunk; fits FM_OP_MAX_PAYLOAD with headers */
#define FM_DIR_CHUNKS_MAX 64
#define PT_BIT(t) (UINT64_C(1) << (t))

enum unit_status { US_AVAILABLE = 0, US_ASSIGNED, US_ONSCENE, US_OFFLINE, US__COUNT };
const char *unit_status_name(unsigned s);
int unit_status_parse(const char *s, uint8_t *out) FM_MUST_USE;

#define FM_QTY_MAX INT64_C(1000000000000) /* 1e12 of anything is plenty */

struct payload_ref {
    uint8_t author[FM_PK_LEN];
    uint64_t seq;
};

/* A decoded payload: one flat struct for every kind; `present` has
 * PT_BIT(tag) for each field that was in the encoding. The log's part
 * comes first (kind, trust structs, PT_BASE as log.base, PT_OPERATOR as
 * log.operator_name), so the replica is handed &pl->log and the domain's
 * functions get the payload back with payload_of(). */
struct payload {
    struct log_payload log;
    uint64_t present;
    struct payload_ref ref;
    char category[FM_CATEGORY_MAX];
    uint8_t priority;
    int32_t lat, lon;
    char address[FM_ADDRESS_MAX];
    char caller[FM_PHONE_MAX];
    char desc[FM_TEXT_MAX];
    char text[FM_TEXT_MAX];
    uint32_t epoch;
    uint8_t stage;
    char name[FM_NAME_MAX];
    char department[FM_NAME_MAX];
    uint8_t tier;
    char unit_kind[FM_NAME_MAX];
    char caps[FM_TEXT_MAX];
    char key[FM_UNIT_KEY_MAX];
    uint8_t unit_status;
    char res_kind[FM_NAME_MAX];
    char depot[FM_NAME_MAX];
    int64_t qty, delta;
    /* linkage workflow */
    struct payload_ref ref2, ref3;
    uint8_t code, flags, score;
    uint32_t part;
    char audience[FM_NAME_MAX];
    uint16_t blob_len;         /* bytes of blob in use */
    uint16_t sealed_len;       /* PT_SEALED: bytes of sealed in use */
    uint8_t sealed[FM_SEALED_MAX];
    /* Last, so the decoder clears only what precedes it (payload_clear):
     * bytes past blob_len are never read. */
    uint8_t blob[FM_BLOB_MAX];
};

/* Zeroes what a decode fills: all but the group key (filled whole by its
 * own decoder) and the blob (read only up to blob_len). */
static inline void payload_clear(struct payload *p)
{
    memset(&p->log, 0, LOG_PAYLOAD_CLEAR_LEN);
    memset(&p->present, 0, offsetof(struct payload, blob) - offsetof(struct payload, present));
}

/* The payload whose log part lp is (lp is its first member). */
static inline struct payload *payload_of(struct log_payload *lp)
{
    return (struct payload *)(void *)lp;
}
static inline const struct payload *payload_of_const(const struct log_payload *lp)
{
    return (const struct payload *)(const void *)lp;
}

/* Strict decode of a payload of `kind`. FM_EDECODE on anything malformed
 * or an unknown kind; `out` is zeroed first. */
int payload_decode(struct payload *out, uint8_t kind, const uint8_t *p, size_t n) FM_MUST_USE;
/* Encodes the fields named in p->present (in tag order) and checks the
 * result with payload_decode into `check` (which may be p's twin for the
 * caller to use). FM_EINVAL if the values would not decode. */
int payload_encode(const struct payload *p, struct fm_buf *out,
                   struct payload *check) FM_MUST_USE;

/* Static name of an op kind ("incident.report", ...), "unknown" else. */
const char *payload_kind_name(uint8_t kind);
/* One line of human text for a decoded payload (truncated to cap). */
void payload_summary(const struct payload *p, char *out, size_t cap);
/* The summary of a linkage-workflow kind (workflow_apply.c). */
void workflow_payload_summary(const struct payload *p, char *out, size_t cap);

/* Checks used by the writers too. */
bool payload_token_ok(const char *s, size_t min, size_t max);
bool payload_text_ok(const char *s, size_t min, size_t max);
/* A name: 1..FM_NAME_MAX-1 bytes of printable text, at most FM_NAME_CHARS
 * characters (crypto.h). */
bool payload_name_ok(const char *s);
bool payload_bytes_text_ok(const uint8_t *s, size_t n, size_t min, size_t max);

/* ---- the sealed caller (caller.c; docs/security.md, "Need to know") ---- */
/* The plaintext: [1 | len | number] [2 | len | name], each optional (a
 * NULL or empty value is left out), at least one present. Strict decode:
 * known tags in order, printable text within bounds, nothing trailing;
 * FM_EDECODE (outputs emptied). */
int caller_plain_encode(const char *phone, const char *name, uint8_t out[FM_SEALED_PLAIN_MAX],
                        size_t *n) FM_MUST_USE;
int caller_plain_decode(const uint8_t *p, size_t n, char phone[FM_PHONE_MAX],
                        char name[FM_CALLER_NAME_MAX]) FM_MUST_USE;
/* Seals phone and name under k, bound to the writing author, into
 * pl->sealed (sets PT_SEALED). FM_EINVAL if a value is too long or not text. */
int caller_seal(const struct fm_seal_key *k, const uint8_t author[FM_PK_LEN], const char *phone,
                const char *name, struct payload *pl) FM_MUST_USE;
/* Opens a sealed caller written by author: FM_EDECODE malformed (outer or
 * inner), FM_EVERIFY wrong key or tampered. */
int caller_open(const struct fm_seal_key *k, const uint8_t author[FM_PK_LEN], const uint8_t *p,
                size_t n, char phone[FM_PHONE_MAX], char name[FM_CALLER_NAME_MAX]) FM_MUST_USE;
/* Sorts and dedups a comma-separated token list into out; FM_EINVAL if an
 * item is not a token or the result does not fit. */
int payload_caps_canonical(const char *in, char *out, size_t cap) FM_MUST_USE;

/* The unit entity ref of a directory unit, derived from its department and
 * name alone (a hash under a domain string, seq 1), so every publisher
 * registers the same directory unit as the same entity. A unit.register
 * carrying PT_REF must carry exactly this ref (checked on decode). */
void payload_dir_unit_ref(const char *department, const char *name, struct payload_ref *out);
/* The same for a directory unit with a stable key (PT_KEY, op format 6):
 * derived from the key alone, so a rename keeps the entity. */
void payload_dir_key_ref(const char *key, struct payload_ref *out);
/* A unit key: [A-Za-z0-9_-]{1,31}. */
bool payload_key_ok(const char *k);
/* "12.3456789" from degrees * 1e7. */
void payload_coord_format(int32_t e7, char out[16]);

#endif
