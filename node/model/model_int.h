/*
 * model_int.h — entities materialized from ops, and their merge rules
 * (model.c, model_rec.c). See docs/data-model.md.
 *
 * An entity record is a set of fields, each carrying the stamp (hlc,
 * author) of the op that last won it. Applying an op only ever merges:
 * last-writer-wins by stamp for plain fields, max for the status lattice,
 * max for updated_hlc, sums for counters, set insertion for the timeline.
 * Every merge is commutative, so the records after applying a set of ops
 * do not depend on the order — including ops that reach an entity before
 * the op that creates it: they fill a placeholder record (no F_CREATED)
 * under the target id, which the create op later completes.
 */
#ifndef FM_MODEL_INT_H
#define FM_MODEL_INT_H

#include "payload_int.h"
#include "../replica/store_int.h"

/* Parked ops (park.c): kind u8 | id | 0 | author(32) | seq u64 -> raw.
 * Internal entity kinds are never resolved from user input; the
 * workflow's own (16..20) are in workflow_int.h. A raw (non-record) value
 * starts with RAW_VERSION so no reader mistakes it for a record. */
#define ENT_PARKED 21
/* Merged incidents by survivor: kind u8 | survivor id | 0 | merged id ->
 * RAW_VERSION. Kept with the incident indexes (model.c, idx_compute), so
 * it holds exactly the incidents whose F_MERGED names the survivor. */
#define ENT_MERGED 22
/* The names a unit with a stable directory key has been registered under
 * (docs/workflow.md §1c): kind u8 | unit id | 0 | name -> RAW_VERSION. A
 * grow-only set, so a claim by any of them is judged alike in every
 * arrival order. Only keyed units have one (no other unit's name changes). */
#define ENT_UNIT_NAME 23
#define RAW_VERSION 0xF0

/* Record field tags. 1 and 2 are common to every kind. */
enum model_field {
    F_CREATED = 1, /* creator pk[32] | seq u64; stamp = the create op */
    F_UPDATED = 2, /* u64 max hlc of all ops applied (no stamp) */
    /* incident */
    F_CATEGORY = 3, F_PRIORITY = 4, F_LOCATION = 5, F_ADDRESS = 6, F_CALLER = 7, F_DESC = 8,
    F_STATUS = 9, /* epoch u32 BE | stage u8, merged by max */
    F_NNOTES = 10, /* u32 count of timeline entries (no stamp) */
    F_MERGED = 11, /* survivor pk[32] | seq u64: merged into it; the first merge by stamp wins */
    /* unit */
    F_NAME = 3, F_DEPT = 4, F_TIER = 5, F_UKIND = 6, F_CAPS = 7, F_USTATUS = 8, F_POSITION = 9,
    F_UKEY = 10, /* a directory unit's stable key (op format 6); set only on keyed units */
    /* resource */
    F_RKIND = 3, F_DEPOT = 4, F_PTOTAL = 5, F_NTOTAL = 6, /* u64 sums, mod 2^64 */
    F_RVOID = 7, /* u32 count of depot claims that named another depot (ignored) */
    F__MAX = 15
};

#define MODEL_VAL_MAX FM_TEXT_MAX
/* First byte of a sealed caller value in F_CALLER (text never starts with
 * a control character). */
#define MODEL_SEALED_MARK 0x01

struct model_field_val {
    bool set;
    uint64_t hlc;
    uint64_t eff; /* effective stamp of the op that won it (model_base.c); = hlc
                   * unless that op carried a base */
    uint8_t author[FM_PK_LEN];
    uint16_t len;
    uint8_t val[MODEL_VAL_MAX];
};

struct model_rec {
    uint8_t kind; /* enum fm_entity_kind */
    struct model_field_val f[F__MAX + 1];
};

/* Timeline entry kinds (first byte of a timeline value). */
enum model_tl_kind { TL_REPORT = 1, TL_NOTE = 2, TL_STATUS = 3, TL_UPDATE = 4,
    /* linkage workflow entries on an incident's timeline */
    TL_DISPATCH = 5, TL_TICKET = 6, TL_ESCALATE = 7, TL_MATERIAL = 8, TL_FEEDBACK = 9,
    TL__MAX = 9 };

/* ---- model_rec.c: record codec, keys, conversions ---- */
void model_rec_init(struct model_rec *r, uint8_t kind);
int model_rec_decode(struct model_rec *r, const uint8_t *p, size_t n) FM_MUST_USE;
int model_rec_encode(const struct model_rec *r, struct fm_buf *out) FM_MUST_USE;
/* model.c: encodes r and stores it as the entity (kind, id). */
int model_rec_store(struct store_txn *t, uint8_t kind, const char *id,
                    const struct model_rec *r) FM_MUST_USE;
/* FM_ENOTFOUND leaves an empty record of that kind in r. */
int model_rec_load(struct store_txn *t, uint8_t kind, const char *id,
                   struct model_rec *r) FM_MUST_USE;
static inline bool model_rec_exists(const struct model_rec *r) { return r->f[F_CREATED].set; }
/* Entity key: kind byte + id text; returns its length. */
size_t model_ent_key(uint8_t kind, const char *id, uint8_t key[1 + FM_ID_MAX]);

int model_rec_to_incident(const struct model_rec *r, const char *id,
                          struct fm_incident *out) FM_MUST_USE;
int model_rec_to_unit(const struct model_rec *r, const char *id, struct fm_unit *out) FM_MUST_USE;
int model_rec_to_resource(const struct model_rec *r, const char *id,
                          struct fm_resource *out) FM_MUST_USE;
/* The timeline key prefix of entity (kind, id): kind | id | 0, into out
 * (up to FM_ID_MAX + 1 bytes); returns its length. Entries of an incident
 * and of a ticket never share a prefix, whatever ids ops name. */
size_t model_tl_prefix(uint8_t *out, uint8_t kind, const char *id);
/* Decodes a timeline (key, value) into e. A note's entry holds no text:
 * it is read from the note's op, (author, seq) of the key, through t. */
int model_tl_decode(struct store_txn *t, const uint8_t *key, size_t klen, const uint8_t *val,
                    size_t vlen, struct fm_timeline_entry *e) FM_MUST_USE;
/* The stored op (author, seq) decoded: its kind in *kind, its payload in
 * pl. FM_ESTORE if it is missing or does not decode (a held op did). */
int model_op_load(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                  uint8_t *kind, struct payload *pl) FM_MUST_USE;
/* The console operator named in the stored op (author, seq) (op format 2,
 * PT_OPERATOR), "" when none; out has FM_OP_OPERATOR_MAX bytes. */
int model_op_operator(struct store_txn *t, const uint8_t author[FM_PK_LEN], uint64_t seq,
                      char *out) FM_MUST_USE;

/* ---- model.c: a unit's names ---- */
/* Whether a station's or vehicle's claim to be unit `id` (record r) by
 * `name` holds: its registered name; for a unit with a stable key, also
 * the key and every name it has been registered under. *wait is set when
 * the claim may yet hold (no registration yet, or a keyed unit that may
 * still be registered under that name): park the op. */
int model_unit_claim(struct store_txn *t, const char *id, const struct model_rec *r,
                     const char *name, bool *holds, bool *wait) FM_MUST_USE;
/* The same for unit `id` as this node's store holds it now (a writer's
 * check before it claims a unit by name). */
int model_node_unit_claim(struct fm_node *n, const char *id, const char *name,
                          bool *holds) FM_MUST_USE;

/* ---- model.c: apply ---- */
/* Applies one stored op of any kind (the domain's whole apply: domain.c). */
typedef int (*model_apply_fn)(struct store_txn *t, const struct fm_op *op,
                              const struct payload *pl);
/* Applies one stored op (already validated) of the model's kinds to the
 * entities (FM_EINVAL for the workflow's kinds). Cert and revoke ops
 * change no entity. Runs once per stored op. Ops parked for the entity
 * it registers are applied again through `reapply`, which knows every
 * kind. */
int model_apply(struct store_txn *t, const struct fm_op *op, const struct payload *pl,
                model_apply_fn reapply) FM_MUST_USE;
/* Empties every entity-derived database (entities, timeline, counters,
 * indexes). */
int model_clear(struct store_txn *t) FM_MUST_USE;

/* ---- park.c: ops that wait for the op that lets them be judged ----
 * An op whose effect depends on a fact another op establishes (a ticket
 * step needs its ticket's dispatch; a unit op claiming the unit's name
 * needs the unit's registration) and that arrives first is parked: a raw
 * record under (kind, id of the entity awaited, author, seq), in the
 * entities database, so in the digest and rebuilt from the ops. */
int park_put(struct store_txn *t, uint8_t kind, const char *id,
             const struct fm_op *op) FM_MUST_USE;
/* Applies (through `apply`) and removes every op parked under (kind, id),
 * in (author, seq) order; call once the awaited fact is stored. Ops no
 * longer stored (a truncation about to be rebuilt) are skipped. */
int park_release(struct store_txn *t, uint8_t kind, const char *id,
                 model_apply_fn apply) FM_MUST_USE;
/* A depot claim (permit.c): op changes the stock `res_id` as its
 * author's unit, naming the depot. *go = true when the stock's depot is
 * that name; false when the stock has not arrived (op parked under it) or
 * its depot is another (the claim is counted in F_RVOID, nothing else). */
int park_depot_judge(struct store_txn *t, const struct fm_op *op, const char *res_id,
                     const char *depot, bool *go) FM_MUST_USE;

/* ---- linkage workflow ---- */
/* For workflow ops that touch an incident (model.c): adds a timeline entry
 * keyed by the op (counted once), merges (epoch, stage) into the status
 * lattice when with_stage, bumps updated_hlc, and keeps the indexes. The
 * incident may not exist yet: the merge then fills its placeholder. */
int model_incident_touch(struct store_txn *t, const struct fm_op *op,
                         const struct payload_ref *inc, uint8_t tl_kind, const char *text,
                         bool with_stage, uint32_t epoch, uint8_t stage) FM_MUST_USE;

/* ---- merge primitives (model.c), shared by the workflow apply ----
 * A stamp orders writes: (hlc, author); larger is later. */
struct model_stamp {
    uint64_t hlc;
    uint64_t eff;          /* max(hlc, base + 1); 0 stands for hlc */
    const uint8_t *author; /* FM_PK_LEN */
};
/* Last writer wins by stamp: (eff, hlc, author). */
void model_merge_lww(struct model_rec *r, unsigned tag, const struct model_stamp *s,
                     const void *v, size_t n);
/* First writer wins (smallest stamp). */
void model_merge_min(struct model_rec *r, unsigned tag, const struct model_stamp *s,
                     const void *v, size_t n);
/* Unstamped sum, mod 2^(8*width); width 4 or 8. */
void model_merge_add(struct model_rec *r, unsigned tag, uint64_t add, size_t width);
/* Unstamped maximum of a u64. */
void model_merge_max_u64(struct model_rec *r, unsigned tag, uint64_t v);

/* ---- model_base.c: causal last-writer-wins ---- */
/* An op's effective stamp: max(hlc, base + 1) (base 0 = none). */
uint64_t model_eff(uint64_t hlc, uint64_t base);
/* The largest effective stamp among r's last-writer-wins fields (0: none). */
uint64_t model_rec_lww_max(const struct model_rec *r);
/* The base a writer puts into pl, stamped hlc: the largest effective
 * stamp among the LWW fields of the entity pl edits as stored in t, if
 * it is >= hlc (it then raises the op's effective stamp); else 0, and
 * the op carries none. */
int model_base_for(struct store_txn *t, const struct payload *pl, uint64_t hlc,
                   uint64_t *base) FM_MUST_USE;

/* caller.c: opens an incident's sealed caller (inc from
 * model_rec_to_incident, caller_state FM_CALLER_SEALED) when this node
 * holds its dispatcher key: FM_CALLER_OPENED with the values, else it
 * stays sealed, or FM_CALLER_DAMAGED if a held key does not open it. */
struct fm_node;
void model_incident_unseal(struct fm_node *n, struct store_txn *t, const struct model_rec *r,
                           struct fm_incident *inc);

/* model_read.c: how many entity records exist (created, not placeholders). */
int model_entities(struct store_txn *t, uint64_t *count) FM_MUST_USE;
/* model_read.c: resolves an id or unique prefix inside a transaction. */
int node_resolve_txn(struct store_txn *t, enum fm_entity_kind kind, const char *prefix,
                     char out[FM_ID_MAX]) FM_MUST_USE;
/* The same without following an incident's merges to its survivor
 * (node_resolve_txn does: a merged incident's id names its survivor). */
int node_resolve_exact_txn(struct store_txn *t, enum fm_entity_kind kind, const char *prefix,
                           char out[FM_ID_MAX]) FM_MUST_USE;

/* merge.c: incidents folded into one (docs/workflow.md §3c). The root is
 * the end of id's chain of merges (id itself when not merged); members
 * are the incidents whose root is `root`, at most cap of them. */
#define FM_MERGE_DEPTH 32
#define FM_MERGE_MEMBERS 256
int model_incident_root(struct store_txn *t, const char *id, char root[FM_ID_MAX]) FM_MUST_USE;
int model_incident_members(struct store_txn *t, const char *root, char (*out)[FM_ID_MAX],
                           size_t cap, size_t *n) FM_MUST_USE;
/* Fills inc->merged_into and inc->calls. */
int model_incident_merge_info(struct store_txn *t, struct fm_incident *inc) FM_MUST_USE;

/* Centre, county and admin act for any unit and any incident; every
 * other role (station, vehicle, none) only for the unit its certificate
 * names and the incidents it reported (permit.c, docs/workflow.md §4). */
static inline bool model_role_any_unit(unsigned role)
{
    return role == FM_ROLE_CENTRE || role == FM_ROLE_COUNTY || role == FM_ROLE_ADMIN;
}

struct node_head;
/* permit.c: FM_OK if `author`, whose certificate in force is summarised
 * in its head h (role, unit), may write the op `pl`; FM_EPERM when its
 * role may not (or the incident or depot is not its own), FM_EUNIT when
 * it is a station's or vehicle's op on a unit its certificate does not
 * name. Decided from the op and the certificate only, so every node
 * agrees (docs/workflow.md §4). */
int workflow_permitted(const struct node_head *h, const uint8_t author[FM_PK_LEN],
                       const struct payload *pl) FM_MUST_USE;

/* model_soft.c: soft state's rules for units (the replica's domain
 * table: soft_subject, soft_subject_own), and a unit's newest soft
 * position laid over its logged one. */
struct fm_cert;
int model_soft_subject(struct store_txn *t, const struct fm_cert *cert, const char *name,
                       uint8_t ref[FM_PK_LEN + 8]) FM_MUST_USE;
int model_soft_subject_own(struct store_txn *t, const struct node_head *h,
                           const uint8_t ref[FM_PK_LEN + 8]) FM_MUST_USE;
int model_unit_soft(struct fm_node *n, const struct model_rec *mr, struct fm_unit *u) FM_MUST_USE;

#endif
