/*
 * workflow_int.h — the linkage workflow's private declarations, shared by
 * node/workflow_*.c, node/directory*.c, node/workflow/conflict.c, node/workflow/report.c and
 * node/escalate.c. See docs/workflow.md for the model.
 *
 * Tickets, material requests and bulletins are ordinary entity records
 * (model_rec) under their own kinds. Per-incident workflow state
 * (coordinator, escalations, feedback) is a record of kind ENT_WFINC keyed
 * by the incident id. Read receipts, conflict resolutions and directory
 * chunks are small raw records in the entities database under kinds of
 * their own, each value starting with RAW_VERSION so no reader mistakes
 * them for model records. Everything lives in databases the digest and
 * rebuild already cover.
 */
#ifndef FM_WORKFLOW_INT_H
#define FM_WORKFLOW_INT_H

#include "../replica/replica_int.h"
#include "../model/model_int.h"
#include "workflow.h"

/* Internal entity kinds (never resolved from user input). */
enum wf_ent {
    ENT_WFINC = 16,      /* incident id -> workflow record (model_rec) */
    ENT_RESOLUTION = 18, /* conflict id | 0 | fingerprint(32) -> raw (conflict.c,
                          * RES_*): hlc, author, [seq, decision, [result hash]], note */
    ENT_RECEIPT = 19,    /* bulletin id | 0 | reader(32) -> raw: hlc */
    ENT_DIRCHUNK = 20,   /* author(32) | first seq u64 | index u16 -> raw: hlc, count, bytes */
    /* 21: ENT_PARKED, the model's (model_int.h) */
};

/* Record field tags per kind (1 and 2 are F_CREATED and F_UPDATED). */
enum { TK_INCIDENT = 3, TK_UNIT, TK_REPLACES, TK_ACK, TK_ENROUTE, TK_ARRIVE, TK_CLEAR,
       TK_CANCEL, TK_REASSIGN, TK_EVENTS,
       TK_UNAME, /* the unit's name as the dispatcher recorded it (LWW, dispatch only) */
       TK_VOID   /* u32 count of steps that do not match the ticket (ignored) */ };
enum { RQ_INCIDENT = 3, RQ_KIND, RQ_QTY, RQ_TEXT, RQ_ALLOC, RQ_RET };
enum { BL_AUDIENCE = 3, BL_TEXT, BL_READERS };
enum { WI_COORD = 3, WI_FB_N, WI_FB_SUM, WI_ESC2, WI_ESC3, WI_ESC2_N, WI_ESC3_N,
       WI_ALARM /* u8 alarm level: the highest raised, stamped by its first raise */ };

/* Step code -> ticket field. */
static inline unsigned wf_step_field(unsigned code) { return TK_ACK + code - 1; }

/* ---- workflow_apply.c ---- */
/* Applies a linkage-workflow op kind; FM_EINVAL for a kind it does not
 * know. */
int workflow_apply(struct store_txn *t, const struct fm_op *op, const struct payload *pl) FM_MUST_USE;
bool workflow_kind(uint8_t kind);

/* ---- domain.c: the domain's whole apply (the workflow's kinds here, the
 * rest in model_apply); parked ops are released through it ---- */
int domain_apply(struct store_txn *t, const struct fm_op *op, const struct payload *pl) FM_MUST_USE;

/* ---- workflow_apply.c: record helpers (merges are model_merge_* in model_int.h) ---- */
/* A ref (author | seq) as 40 bytes and back. */
void wf_ref_put(uint8_t out[FM_PK_LEN + 8], const struct payload_ref *ref);
bool wf_rec_ref_id(const struct model_rec *r, unsigned tag, char id[FM_ID_MAX]);
const char *wf_step_name(unsigned code); /* 0 = dispatch */

/* Record readers (lengths checked: records are disk bytes). */
void wf_rec_str(const struct model_rec *r, unsigned tag, char *out, size_t cap);
uint64_t wf_rec_uint(const struct model_rec *r, unsigned tag);

/* ---- workflow_read.c ---- */
int wf_rec_to_ticket(const struct model_rec *r, const char *id, struct fm_ticket *out) FM_MUST_USE;
/* A resolution record (ENT_RESOLUTION) as apply_resolve writes it: after
 * the 3-byte raw header (version, kind, flags) come hlc and author; with
 * RES_FULL in the flags byte (a resolution with a decision, op format 5),
 * the op's seq, its effective stamp (model_eff: a decision that saw
 * another overrides it, whatever the clocks) and the decision (enum
 * resolve_decision) follow, then for RD_RESULT the hash of the result that
 * stands; the rest is the note.
 * Without a decision the flags are 0 and the author is followed by the
 * note, as every older build writes it. */
#define RES_FULL 0x01
struct wf_resolution {
    uint64_t hlc, seq, eff; /* eff = hlc for a record without a decision */
    uint8_t author[FM_PK_LEN];
    uint8_t decision;
    uint8_t result_hash[FM_HASH_LEN];
    const uint8_t *note;
    size_t note_len;
};
int wf_resolution_decode(const uint8_t *v, size_t n, struct wf_resolution *out) FM_MUST_USE;
/* The base a decision written at `hlc` carries: the effective stamp of the
 * resolution it overrides (same conflict and facts) when that is >= hlc,
 * else 0 (model_base.c's rule). */
int wf_resolution_base(struct store_txn *t, const struct payload *pl, uint64_t hlc,
                       uint64_t *base) FM_MUST_USE;
/* The decision of a resolution that names ticket tk's conflicts and their
 * facts as they stand applied to tk (the state or result that stands);
 * conflicts whose facts changed since, or decisions that do not fit the
 * conflict, change nothing (conflict.c). */
int wf_ticket_decided(struct store_txn *t, struct fm_ticket *tk) FM_MUST_USE;
int wf_rec_to_request(const struct model_rec *r, const char *id,
                      struct fm_request *out) FM_MUST_USE;
/* Walks the records of one kind (existing entities only unless
 * with_placeholders) inside t, in id order. */
int wf_walk(struct store_txn *t, uint8_t kind, bool with_placeholders,
            int (*each)(const struct model_rec *r, const char *id, void *arg),
            void *arg) FM_MUST_USE;
int wf_incident_workflow_txn(struct store_txn *t, const char *incident,
                             struct fm_incident_workflow *out) FM_MUST_USE;
/* Current directory in t (FM_ENOTFOUND if none); *out malloc'd. */
int wf_directory_txn(struct store_txn *t, struct fm_directory **out) FM_MUST_USE;

/* ---- orphans.c ---- */
/* fm_node_incident_close with nextra more ops (complete payloads) written
 * first in the same transaction (duplicates.c: the link notes). */
int wf_close_with(struct fm_node *n, const char *incident, enum fm_incident_stage stage,
                  bool cancel_tickets, const char *reason, const struct payload *extra,
                  size_t nextra, size_t *nactive) FM_MUST_USE;

/* ---- hid.c: building a code table by hand (tests: author collisions) ---- */
struct fm_hids *wf_hids_new(void);
/* One incident or ticket: its author's key text, creating seq, kind, id. */
int wf_hids_add(struct fm_hids *h, const char *key, uint64_t seq, uint8_t kind,
                const char *id) FM_MUST_USE;
/* Ranks and author codes; call after the last add. */
int wf_hids_finish(struct fm_hids *h) FM_MUST_USE;

/* ---- directory.c: the canonical binary form of a directory ---- */
int directory_encode(const struct fm_directory *d, struct fm_buf *out) FM_MUST_USE;
int directory_decode(struct fm_directory *d, const uint8_t *p, size_t n) FM_MUST_USE;
/* fm_directory_parse_yaml into a caller's struct (zeroed first; on error
 * it holds whatever was read): the fuzz target reuses one, as a fresh
 * 3.4 MB struct per input costs more than the parse. */
int directory_parse_yaml_into(const char *name, const char *buf, size_t len,
                              struct fm_directory *d, char *err, size_t errlen) FM_MUST_USE;
/* Format version 2's optional sections (directory_geo.c). */
int directory_encode_sections(const struct fm_directory *d, struct fm_buf *out) FM_MUST_USE;
int directory_decode_sections(struct fm_cur *c, struct fm_directory *d,
                              uint8_t version) FM_MUST_USE;
/* One response need in the binary form (directory.c), shared by the
 * rules and their levels. */
int directory_put_need(struct fm_buf *out, const struct fm_dir_respond *e) FM_MUST_USE;
int directory_get_need(struct fm_cur *c, struct fm_dir_respond *e) FM_MUST_USE;
/* Format version 3's levels section (directory_levels.c): encoded only
 * when a rule has levels; the decoder checks ranges and order. */
bool directory_has_levels(const struct fm_directory *d);
int directory_encode_levels(const struct fm_directory *d, struct fm_buf *out) FM_MUST_USE;
int directory_decode_levels(struct fm_cur *c, struct fm_directory *d) FM_MUST_USE;
/* directory_aliases.c: the aliases' section (tag 0x81, may be skipped),
 * and their canonical order and checks (err says what is wrong). */
int directory_encode_aliases(const struct fm_directory *d, struct fm_buf *out) FM_MUST_USE;
int directory_decode_aliases(struct fm_cur *c, struct fm_directory *d) FM_MUST_USE;
int directory_aliases_normalise(struct fm_directory *d, char *err, size_t errlen) FM_MUST_USE;
/* Shared by the skippable sections: a directory word ([a-z0-9_-]{1,31}),
 * and a str8 (u8 len, 1..cap-1 bytes, no NUL) read into dst. */
bool directory_word_ok(const char *w);
int directory_get_str8(struct fm_cur *c, char *dst, size_t cap) FM_MUST_USE;
/* directory_materials.c: units of measure and depots (section 0x83). */
int directory_encode_materials(const struct fm_directory *d, struct fm_buf *out) FM_MUST_USE;
int directory_decode_materials(struct fm_cur *c, struct fm_directory *d) FM_MUST_USE;
int directory_materials_normalise(struct fm_directory *d, char *err, size_t errlen) FM_MUST_USE;
/* directory_keys.c: stable unit keys (section 0x84, may be skipped). */
bool directory_has_keys(const struct fm_directory *d);
int directory_keys_check(const struct fm_directory *d, char *err, size_t errlen) FM_MUST_USE;
int directory_encode_keys(const struct fm_directory *d, struct fm_buf *out) FM_MUST_USE;
int directory_decode_keys(struct fm_cur *c, struct fm_directory *d) FM_MUST_USE;
/* fm_directory_unit_of with the directory units of u's name and of u's
 * key (NULL: none) already looked up (a proposal keeps sorted indexes). */
const struct fm_dir_unit *directory_unit_judge(const struct fm_directory *d,
                                               const struct fm_unit *u,
                                               const struct fm_dir_unit *by_name,
                                               const struct fm_dir_unit *by_key,
                                               enum fm_unit_standing *standing);
/* The ref directory unit u's entity lives under. */
void directory_unit_ref(const struct fm_directory *d, const struct fm_dir_unit *u,
                        struct payload_ref *out);
/* directory_dups.c: duplicate-call settings (tag 0x82, may be skipped). */
bool directory_has_dups(const struct fm_directory *d);
int directory_encode_dups(const struct fm_directory *d, struct fm_buf *out) FM_MUST_USE;
int directory_decode_dups(struct fm_cur *c, struct fm_directory *d) FM_MUST_USE;
int directory_dups_normalise(struct fm_directory *d, char *err, size_t errlen) FM_MUST_USE;
/* The newest format version directory_decode accepts: 3; tests set 1 or 2
 * to be a node built before version 2 or 3 (what it does with a newer one). */
extern int wf_directory_max_version;
/* Department kind / county name of a unit's department. */
const struct fm_dir_dept *directory_dept(const struct fm_directory *d, const char *name);

/* ---- workflow_write.c ---- */
/* Helpers the writers share (orphans.c closes an incident with them). */
/* Resolves prefix to an existing entity of kind: full id, its creating
 * op's ref, and (if r) its record. */
int wf_ref_resolve(struct store_txn *t, enum fm_entity_kind kind, const char *prefix,
                   char id[FM_ID_MAX], struct payload_ref *ref, struct model_rec *r) FM_MUST_USE;
/* The incident's reopen epoch; its stage into *stage when asked. */
uint32_t wf_incident_epoch_stage(struct store_txn *t, const struct payload_ref *inc,
                                 enum fm_incident_stage *stage);
/* A ticket with its refs, for a step or a reassignment. */
struct wf_tk_refs {
    char id[FM_ID_MAX];
    char unit_name[FM_NAME_MAX]; /* the unit's registered name ("" if unknown here) */
    struct payload_ref ticket, incident, unit;
    struct fm_ticket tk;
    uint32_t epoch;
};
int wf_ticket_refs(struct store_txn *t, const char *prefix, struct wf_tk_refs *x) FM_MUST_USE;
/* Fills a complete ticket.step payload for x. */
void wf_step_payload(struct payload *pl, const struct wf_tk_refs *x, uint8_t code, bool behalf,
                     bool gps, const char *text);
/* The verdict ingest will give this node's op (permit.c). */
int wf_permitted(const struct fm_node *n, const struct payload *pl) FM_MUST_USE;
bool wf_can_dispatch(const struct fm_node *n);  /* centre, county */
bool wf_is_dispatcher(const struct fm_node *n); /* centre, county, admin */
/* Loads the identity of a node opened without it (the daemon). */
int wf_load_identity(struct fm_node *n) FM_MUST_USE;
/* Whether an op on `unit` comes from the unit's own node: cert_unit (the
 * author's certificate `unit`) equals the unit name the op carries or the
 * unit's entity id (permit.c). */
bool workflow_unit_own(const char *cert_unit, const struct payload_ref *unit,
                       const struct payload *pl);

#endif
