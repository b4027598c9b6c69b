/*
 * model.h — the entities ops build: incidents with their timelines,
 * units and resources, and the ids people type for them (node/model/).
 */
#ifndef FM_MODEL_H
#define FM_MODEL_H

#include "../replica/replica.h"

/* ---- entity ids ----
 * "<tag>-<seq>": tag = first FM_KEY_TAG_LEN chars of the author's key
 * text, seq = the seq of the op that created the entity. e.g. "k3mx9q2a-17".
 * Commands accept any unambiguous prefix; an exact match always wins. */
enum fm_entity_kind { FM_ENT_INCIDENT = 1, FM_ENT_UNIT = 2, FM_ENT_RESOURCE = 3,
                      /* linkage workflow (see the section at the end) */
                      FM_ENT_TICKET = 4, FM_ENT_REQUEST = 5, FM_ENT_BULLETIN = 6 };
/* FM_ENOTFOUND, FM_EAMBIGUOUS (out gets the first two matches "a, b"). */
int fm_node_resolve_id(struct fm_node *n, enum fm_entity_kind kind, const char *prefix,
                       char out[FM_ID_MAX]) FM_MUST_USE;
/* An incident merged into another resolves to its survivor above (every
 * read and write then acts on the survivor, docs/workflow.md §3c); this
 * one names the incident itself. */
int fm_node_resolve_exact_id(struct fm_node *n, enum fm_entity_kind kind, const char *prefix,
                             char out[FM_ID_MAX]) FM_MUST_USE;

/* ---- incidents ---- */
enum fm_incident_stage {
    FM_STAGE_NEW = 0, FM_STAGE_DISPATCHED, FM_STAGE_ENROUTE, FM_STAGE_ONSCENE,
    FM_STAGE_RESOLVED, FM_STAGE_CLOSED,
};
const char *fm_stage_name(enum fm_incident_stage s);
int fm_stage_parse(const char *s, enum fm_incident_stage *out) FM_MUST_USE; /* also "reopen" -> FM_EINVAL */

#define FM_CATEGORY_MAX 32
#define FM_ADDRESS_MAX 256
#define FM_PHONE_MAX 32
#define FM_CALLER_NAME_MAX 64

/* How an incident's caller (name and number) reached this node: the
 * caller fields are sealed to the dispatchers' group key (docs/security.md,
 * "Need to know"); older writers wrote the number in clear. */
enum fm_caller_state {
    FM_CALLER_CLEAR = 0,   /* none, or a number written in clear by an older writer */
    FM_CALLER_OPENED = 1,  /* sealed, and opened here with a dispatcher key */
    FM_CALLER_SEALED = 2,  /* sealed to a key this node does not hold: caller fields empty */
    FM_CALLER_DAMAGED = 3, /* sealed to a key held here but it does not open: fields empty */
};

struct fm_incident {
    char id[FM_ID_MAX];
    char category[FM_CATEGORY_MAX];
    uint8_t priority; /* 1 (highest) .. 5 */
    enum fm_incident_stage stage;
    uint32_t epoch; /* bumped by each reopen */
    int32_t lat_e7, lon_e7; /* degrees * 1e7 */
    char address[FM_ADDRESS_MAX];
    char caller[FM_PHONE_MAX];
    char desc[FM_TEXT_MAX];
    char reporter[FM_KEY_TEXT_LEN]; /* author of the report op */
    char caller_name[FM_CALLER_NAME_MAX]; /* only ever sealed */
    enum fm_caller_state caller_state;
    uint64_t reported_hlc, updated_hlc;
    uint32_t nnotes; /* timeline entries */
    /* merges (docs/workflow.md §3c): the survivor this incident was folded
     * into ("" if none), and the calls an incident stands for: 1 + the
     * incidents folded into it (0 for a merged one) */
    char merged_into[FM_ID_MAX];
    uint32_t calls;
};

/* Open: not resolved or closed, and not merged into another (§3c). */
static inline bool fm_incident_open(const struct fm_incident *inc)
{
    return inc->stage < FM_STAGE_RESOLVED && inc->merged_into[0] == '\0';
}

struct fm_incident_new {
    const char *category; /* required, [a-z0-9_-]{1,31} */
    uint8_t priority;     /* 1..5, 0 = default 3 */
    int32_t lat_e7, lon_e7;
    const char *address, *caller, *desc; /* NULL = empty */
    /* caller and caller_name are sealed to the newest dispatcher key this
     * node holds; without one they are left out (not written in clear)
     * and the rest of the report is written: see fm_node_dispatch_key */
    const char *caller_name; /* NULL = none, <= 63 bytes */
};

struct fm_timeline_entry {
    uint64_t hlc;
    char author[FM_KEY_TEXT_LEN];
    uint64_t seq;
    char kind[16]; /* "report", "note", "status", "update" */
    char text[FM_TEXT_MAX];
    char operator_name[64]; /* the console operator named in the op, "" if none (op format 2) */
};

/* Each write below: one signed op, stored and applied in one transaction,
 * durable (fsync'd) when it returns 0. Needs FM_OPEN_IDENTITY. */
int fm_node_incident_report(struct fm_node *n, const struct fm_incident_new *in,
                            char id_out[FM_ID_MAX]) FM_MUST_USE;
int fm_node_incident_note(struct fm_node *n, const char *id, const char *text) FM_MUST_USE;
/* Fields an edit changes (NULL / 0 / false = unchanged; at least one). */
struct fm_incident_edit {
    const char *category; /* [a-z0-9_-]{1,31} */
    uint8_t priority;     /* 1..5 */
    bool has_location;
    int32_t lat_e7, lon_e7;
    const char *address, *caller, *desc;
    const char *caller_name; /* sealed with caller: FM_ENOKEY without a dispatcher key */
};
/* Changes an incident's plain fields (one incident.update op; each field
 * last-writer-wins). Only centre, county and admin nodes edit any
 * incident; other roles only one they reported: FM_EPERM otherwise, here
 * and at ingest on every node (docs/workflow.md §4). FM_EINVAL when
 * nothing would change or a value is out of range. */
int fm_node_incident_edit(struct fm_node *n, const char *id,
                          const struct fm_incident_edit *e) FM_MUST_USE;
/* Moves the status forward in the (epoch, stage) lattice. FM_ESTATE if
 * `stage` is not after the current stage; reopen = true starts a new
 * epoch at FM_STAGE_NEW (only from resolved/closed). FM_EPERM as for
 * fm_node_incident_edit (checked before the state). */
int fm_node_incident_status(struct fm_node *n, const char *id, enum fm_incident_stage stage,
                            bool reopen) FM_MUST_USE;

struct fm_incident_filter {
    int stage;            /* -1 = any */
    const char *category; /* NULL = any */
};
typedef int (*fm_incident_cb)(void *ctx, const struct fm_incident *inc);
/* Calls cb for each matching incident, newest report first. A nonzero cb
 * return stops the walk and is returned. */
int fm_node_incidents(struct fm_node *n, const struct fm_incident_filter *f,
                      fm_incident_cb cb, void *ctx) FM_MUST_USE;
int fm_node_incident_get(struct fm_node *n, const char *id, struct fm_incident *out) FM_MUST_USE;
/* The incidents merged into `id` (its survivor's, if id was merged), at
 * most cap; *count gets how many were written. */
int fm_node_incident_merged(struct fm_node *n, const char *id, char (*out)[FM_ID_MAX],
                            size_t cap, size_t *count) FM_MUST_USE;
typedef int (*fm_timeline_cb)(void *ctx, const struct fm_timeline_entry *e);
/* Timeline in (hlc, author, seq) order. */
int fm_node_incident_timeline(struct fm_node *n, const char *id, fm_timeline_cb cb,
                              void *ctx) FM_MUST_USE;

/* ---- units ---- */
#define FM_UNIT_STATUS_MAX 16
/* What a unit entity is to the directory in force (fm_directory_unit_of). */
enum fm_unit_standing { FM_UNIT_UNLISTED = 0, FM_UNIT_LISTED = 1, FM_UNIT_RETIRED = 2 };
#define FM_UNIT_KEY_MAX 32
/* A station's certificate may name a department instead of one unit
 * (`org enroll --department D`: unit "dept:D"): it acts for every unit
 * registered in D (docs/workflow.md §4). No unit is named so. */
#define FM_DEPT_CLAIM "dept:"
#define FM_DEPT_CLAIM_LEN 5
struct fm_unit {
    char id[FM_ID_MAX];
    char key[FM_UNIT_KEY_MAX];      /* its directory key (docs/workflow.md §1c), "" if none */
    char name[FM_NAME_MAX];
    char department[FM_NAME_MAX];
    uint8_t tier;
    char kind[FM_NAME_MAX];         /* patrol, medical, fire, ... */
    char capabilities[FM_TEXT_MAX]; /* comma-separated, sorted, unique */
    char status[FM_UNIT_STATUS_MAX]; /* available, assigned, onscene, offline */
    bool has_position;
    int32_t lat_e7, lon_e7;
    uint64_t position_hlc, updated_hlc;
    bool gps;                       /* the position is a GPS fix (docs/gps.md) */
    uint64_t fix_ms;                /* its fix time (gps only) */
    uint32_t accuracy_dm;           /* its error estimate (gps only; FM_GPS_NO_ACCURACY) */
};
struct fm_unit_new {
    const char *name, *department, *kind, *capabilities; /* capabilities may be NULL */
    uint8_t tier; /* 1..3 */
};
/* FM_EEXISTS when a unit of that department and name is registered
 * already (by hand or by the directory); id_out then names it. */
int fm_node_unit_register(struct fm_node *n, const struct fm_unit_new *in,
                          char id_out[FM_ID_MAX]) FM_MUST_USE;
/* status: available | assigned | onscene | offline (FM_EINVAL otherwise) */
int fm_node_unit_status(struct fm_node *n, const char *id, const char *status) FM_MUST_USE;
int fm_node_unit_position(struct fm_node *n, const char *id, int32_t lat_e7,
                          int32_t lon_e7) FM_MUST_USE;
typedef int (*fm_unit_cb)(void *ctx, const struct fm_unit *u);
int fm_node_units(struct fm_node *n, fm_unit_cb cb, void *ctx) FM_MUST_USE;
int fm_node_unit_get(struct fm_node *n, const char *id, struct fm_unit *out) FM_MUST_USE;

/* ---- resources (PN-counter quantities) ---- */
struct fm_resource {
    char id[FM_ID_MAX];
    char kind[FM_NAME_MAX];  /* pump, sandbag, generator, ... */
    char depot[FM_NAME_MAX];
    int64_t quantity;        /* sum of all increments minus all decrements; may be < 0 after a heal */
    uint64_t updated_hlc;
    uint32_t void_changes;   /* changes by a unit naming another depot as its own: ignored */
};
int fm_node_resource_add(struct fm_node *n, const char *kind, const char *depot, int64_t qty,
                         char id_out[FM_ID_MAX]) FM_MUST_USE;
/* delta < 0 consumes, > 0 restocks. Consuming more than this node sees in
 * stock is FM_ESTATE. */
int fm_node_resource_adjust(struct fm_node *n, const char *id, int64_t delta) FM_MUST_USE;
typedef int (*fm_resource_cb)(void *ctx, const struct fm_resource *r);
int fm_node_resources(struct fm_node *n, fm_resource_cb cb, void *ctx) FM_MUST_USE;

/* One entry per author held, sorted by key; *out malloc'd (caller frees). */
int fm_node_authors_seen(struct fm_node *n, struct fm_author_seen **out,
                         size_t *count) FM_MUST_USE;
/* The author of the newest timeline entry of an incident (the last node
 * that changed it). */
int fm_node_incident_last_author(struct fm_node *n, const char *id,
                                 uint8_t pk[FM_PK_LEN]) FM_MUST_USE;

/* The highest alarm level an incident can be raised to (incident.alarm
 * ops, linkage plans: docs/workflow.md §2). */
#define FM_ALARM_MAX 5

#endif
