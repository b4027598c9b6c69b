/*
 * workflow.h — the linkage workflow on top of the model: the
 * organisation directory, proposed dispatch, tickets, escalation,
 * materials, bulletins, conflicts and the assessment report
 * (node/workflow/, docs/workflow.md).
 */
#ifndef FM_WORKFLOW_H
#define FM_WORKFLOW_H

#include "../model/model.h"
#include "directory.h" /* the organisation directory */
#include "report.h"    /* the assessment report */

/* ======================= linkage workflow =======================
 * The organisation directory and its classification rules, proposed
 * dispatch, tickets, escalation, materials, bulletins, conflicts and the
 * assessment report (node/workflow*.c, node/directory*.c; docs/workflow.md).
 * Every write below is one or more signed ops like the writes above (needs
 * FM_OPEN_IDENTITY); every merge is commutative, so replicas holding the
 * same ops agree. Role permissions are checked on every op, local or
 * ingested (FM_EPERM): only admin and centre publish the directory; only
 * centre and county dispatch, reassign, cancel, escalate and resolve. */

/* ---- proposed dispatch ---- */
#define FM_SUGGEST_MAX 64
struct fm_suggest_unit {
    char unit[FM_ID_MAX];
    char name[FM_NAME_MAX];
    char department[FM_NAME_MAX];
    char county[FM_NAME_MAX];
    char capability[FM_CATEGORY_MAX]; /* the capability it was picked for ("" = any) */
    uint8_t tier;
    double distance_km;               /* great-circle, from its position to the incident */
    bool live_position;               /* false: the directory's home position */
    int64_t position_age_s;           /* age of the live position; -1 for a home position */
    bool gps_position;                /* the live position is a GPS fix (docs/gps.md) */
    char also_for[FM_ID_MAX];         /* another open priority-1 incident whose proposal
                                       * takes this unit too ("" if none) */
};
struct fm_suggest_assigned {          /* a unit already out on the incident (active ticket) */
    char unit[FM_ID_MAX];
    char name[FM_NAME_MAX];
    char ticket[FM_ID_MAX];
    bool counted;                     /* it fills a need of the tiers in play: */
    uint8_t tier;                     /*   that need's tier, kind and capability */
    char kind[FM_NAME_MAX];
    char capability[FM_CATEGORY_MAX];
};
struct fm_suggest_gap {               /* a need no available unit could fill */
    uint8_t tier;
    char kind[FM_NAME_MAX];
    char capability[FM_CATEGORY_MAX];
    uint8_t wanted, found;
};
struct fm_suggestion {
    char incident[FM_ID_MAX];
    char category[FM_CATEGORY_MAX];
    uint8_t priority;
    bool has_directory, has_rule;
    uint8_t max_tier;                 /* tiers included (1, or more by priority / escalation) */
    uint8_t alarm_level;              /* the incident's alarm level: the plan's level used */
    size_t ndepts;
    char departments[FM_SUGGEST_MAX][FM_NAME_MAX]; /* responsible departments, by need */
    size_t nunits;
    struct fm_suggest_unit units[FM_SUGGEST_MAX];
    size_t ngaps;
    struct fm_suggest_gap gaps[FM_DIR_MAX_RESPOND]; /* found counts the assigned too */
    size_t nassigned;
    struct fm_suggest_assigned assigned[FM_SUGGEST_MAX];
};
/* Applies the category's rule: for each need of the tiers in play, the
 * nearest available units (status available and no active ticket) of the
 * matching departments with the capability, by great-circle distance from
 * the last reported position (else the home position) at now_ms. Units
 * already out on the incident (active tickets) are listed in `assigned`
 * and count toward the needs they fit, so only what is still missing is
 * proposed; a proposed unit that another open priority-1 incident's
 * proposal takes too is marked (`also_for`). */
int fm_node_dispatch_suggest(struct fm_node *n, const char *incident, uint64_t now_ms,
                             struct fm_suggestion *out) FM_MUST_USE;
/* Whether a dispatcher's chosen unit suits the incident, before
 * dispatching it (the CLI asks for --force when it does not fit, and warns
 * when it is far). Without a directory or a rule for the category nothing
 * is judged (judged false, fits true). */
#define FM_FAR_KM 25.0 /* beyond this from its home station, a unit is "far" */
struct fm_dispatch_check {
    bool judged;              /* a directory rule for the category exists */
    bool fits;                /* the unit fits at least one need of the rule (any tier or alarm level) */
    bool retired;             /* the directory in force no longer lists it (never proposed) */
    char why[FM_TEXT_MAX];    /* when it does not: what it is and what the rule needs */
    char county[FM_NAME_MAX]; /* its department's county ("" unknown) */
    bool has_distance, live_position, far;
    double distance_km;       /* from its home station (else its last position) */
    char incident_county[FM_NAME_MAX]; /* whose boundary holds the incident ("" unknown) */
    bool outside_county;      /* the incident lies in another county's boundary than the
                               * unit's department's county */
};
int fm_node_dispatch_check(struct fm_node *n, const char *incident, const char *unit,
                           struct fm_dispatch_check *out) FM_MUST_USE;
/* Great-circle distance in km (haversine, mean Earth radius 6371.0088 km). */
double fm_great_circle_km(int32_t lat1_e7, int32_t lon1_e7, int32_t lat2_e7, int32_t lon2_e7);
/* The rule's default priority for a category (0 if no directory or rule). */
uint8_t fm_node_default_priority(struct fm_node *n, const char *category);

/* ---- tickets ---- */
enum fm_ticket_step { FM_STEP_ACK = 1, FM_STEP_ENROUTE, FM_STEP_ARRIVE, FM_STEP_CLEAR,
                      FM_STEP_CANCEL };
enum fm_ticket_state { FM_TICKET_DISPATCHED = 0, FM_TICKET_ACKNOWLEDGED, FM_TICKET_ENROUTE,
                       FM_TICKET_ONSCENE, FM_TICKET_CLEARED, FM_TICKET_CANCELLED,
                       FM_TICKET_REASSIGNED };
const char *fm_ticket_state_name(enum fm_ticket_state s);
int fm_ticket_step_parse(const char *s, enum fm_ticket_step *out) FM_MUST_USE;

struct fm_ticket_mark {              /* one step: the first report of it wins */
    uint64_t hlc;                    /* 0 = not reached */
    char author[FM_KEY_TEXT_LEN];
    bool behalf;                     /* recorded by a dispatcher for the unit */
    bool gps;                        /* stamped by position (docs/gps.md) */
};
struct fm_ticket {
    char id[FM_ID_MAX];
    char incident[FM_ID_MAX];        /* its incident, or the survivor that one was merged into */
    char merged_from[FM_ID_MAX];     /* the merged incident it was dispatched to ("" if none) */
    char unit[FM_ID_MAX];
    char replaces[FM_ID_MAX];        /* the ticket this one took over ("" if none) */
    enum fm_ticket_state state;
    bool active;                     /* not cleared, cancelled or reassigned */
    struct fm_ticket_mark dispatched, acked, enroute, onscene, cleared, cancelled, reassigned;
    char result[FM_TEXT_MAX];        /* the first clear's result text */
    char reason[FM_TEXT_MAX];        /* the first cancel's / reassign's reason */
    uint32_t events;
    uint32_t void_steps;             /* steps naming another unit or incident: ignored */
    uint64_t updated_hlc;
};
struct fm_ticket_event {
    uint64_t hlc;
    char author[FM_KEY_TEXT_LEN];
    uint64_t seq;
    char step[16];                   /* dispatch, ack, enroute, arrive, clear, cancel, reassign */
    bool behalf;
    bool gps;                        /* stamped by position (docs/gps.md) */
    char text[FM_TEXT_MAX];
    char operator_name[64];          /* the console operator named in the op, "" if none */
};
/* One ticket per unit (one transaction); ids_out gets nunits ids. Units
 * must exist; FM_ESTATE if one already holds an active ticket; FM_ECLOSED
 * if the incident is resolved or closed (reopen it first). */
int fm_node_dispatch(struct fm_node *n, const char *incident, const char *const *units,
                     size_t nunits, const char *note, char (*ids_out)[FM_ID_MAX]) FM_MUST_USE;
/* A step on a ticket, from the unit's node (a station or vehicle whose
 * certificate's unit is the unit's name or id; recorded as the unit's own)
 * or by a centre, county or admin (recorded on its behalf); FM_EUNIT for a
 * station or vehicle of another unit. text: the result for FM_STEP_CLEAR
 * (required), a reason for FM_STEP_CANCEL (optional). FM_ESTATE when the
 * ticket is closed or already past that step. */
int fm_node_ticket_step(struct fm_node *n, const char *ticket, enum fm_ticket_step step,
                        const char *text) FM_MUST_USE;
/* A ticket step stamped by position (en route or arrive only), written by
 * the unit's own node with the GPS flag; otherwise as fm_node_ticket_step.
 * A button press (fm_node_ticket_step) on a step already stamped this way
 * is accepted as a confirmation and cannot move the stamp. */
int fm_node_ticket_step_gps(struct fm_node *n, const char *ticket, enum fm_ticket_step step,
                            const char *text) FM_MUST_USE;
/* The GPS route summary a unit's own clear carries at the end of its
 * result text (route.c, docs/gps.md): " [GPS route: D m, T s en route]". */
#define FM_ROUTE_MAX UINT64_C(1000000000)
struct fm_route {
    uint64_t distance_m;             /* sum of the trail's great-circle legs */
    uint64_t enroute_s;              /* first to last fix of the trail */
};
/* True when text ends with a well-formed summary; result_len (may be
 * NULL) gets the length of the crew's text before it. */
bool fm_route_parse(const char *text, struct fm_route *out, size_t *result_len);
/* Appends the summary to text (a string in a buffer of cap bytes); false
 * and text unchanged when it does not fit. */
bool fm_route_append(char *text, size_t cap, const struct fm_route *r);
/* Closes the ticket as reassigned and dispatches `unit` on a new ticket. */
int fm_node_ticket_reassign(struct fm_node *n, const char *ticket, const char *unit,
                            const char *reason, char new_id[FM_ID_MAX]) FM_MUST_USE;
int fm_node_ticket_get(struct fm_node *n, const char *id, struct fm_ticket *out) FM_MUST_USE;
typedef int (*fm_ticket_cb)(void *ctx, const struct fm_ticket *t);
/* All tickets (or one incident's) in id order. */
int fm_node_tickets(struct fm_node *n, const char *incident, fm_ticket_cb cb,
                    void *ctx) FM_MUST_USE;
typedef int (*fm_ticket_event_cb)(void *ctx, const struct fm_ticket_event *e);
/* A ticket's events in (time, author, seq) order. */
int fm_node_ticket_history(struct fm_node *n, const char *id, fm_ticket_event_cb cb,
                           void *ctx) FM_MUST_USE;

/* ---- nothing stranded (orphans.c, docs/workflow.md §3a) ---- */
#define FM_CLOSE_MAX 64 /* active tickets one close may cancel */
/* Resolves or closes an incident (stage FM_STAGE_RESOLVED or
 * FM_STAGE_CLOSED) only when no unit is still out on it. With active
 * tickets: FM_ESTATE and *nactive (may be NULL) = how many, unless
 * cancel_tickets, which writes a cancel step for each (reason as its text,
 * may be NULL) and the status op in one transaction, so their units go back
 * to available; only centre and county cancel (FM_EPERM). FM_ESTATE with
 * *nactive 0: the stage is not after the current one. FM_EPERM as for
 * fm_node_incident_status; FM_ETOOBIG beyond FM_CLOSE_MAX tickets. */
int fm_node_incident_close(struct fm_node *n, const char *incident, enum fm_incident_stage stage,
                           bool cancel_tickets, const char *reason, size_t *nactive) FM_MUST_USE;
enum fm_orphan_kind {
    FM_ORPHAN_UNDISPATCHED = 1, /* open incident, never dispatched */
    FM_ORPHAN_UNCOVERED,        /* open incident, every ticket cancelled or reassigned away */
    FM_ORPHAN_CLEARED,          /* open incident, every unit cleared: resolve it or dispatch */
    FM_ORPHAN_STRANDED,         /* resolved or closed incident still holding an active ticket */
    FM_ORPHAN_BUSY_UNIT,        /* unit assigned or on scene holding no active ticket */
};
struct fm_orphan {
    enum fm_orphan_kind kind;
    char incident[FM_ID_MAX];          /* "" for a busy unit */
    char ticket[FM_ID_MAX];            /* the active ticket of a stranded one */
    char unit[FM_ID_MAX];              /* stranded ticket's unit, or the busy unit */
    char unit_name[FM_NAME_MAX];
    char category[FM_CATEGORY_MAX];
    uint8_t priority;
    char status[FM_UNIT_STATUS_MAX];   /* the incident's stage, or the unit's status */
    uint64_t since_hlc;                /* waiting since (report, last ticket ended, close,
                                        * the unit's last status change) */
};
const char *fm_orphan_kind_name(enum fm_orphan_kind k);
typedef int (*fm_orphan_cb)(void *ctx, const struct fm_orphan *o);
/* Everything stranded, from the merged records alone (every node holding
 * the same ops lists the same): incidents by priority, longest waiting
 * first, then busy units by id. A nonzero cb return stops the walk. */
int fm_node_orphans(struct fm_node *n, fm_orphan_cb cb, void *ctx) FM_MUST_USE;

/* ---- duplicate calls (duplicates.c, docs/workflow.md §3c) ---- */
#define FM_DUP_RADIUS_M 300   /* intake: same category within this distance */
#define FM_DUP_WINDOW_S 1800  /*   and reported within this time of each other */
struct fm_duplicate {
    char id[FM_ID_MAX];
    double distance_m;
    int64_t apart_s;          /* between the two reports */
    bool earlier;             /* reported before (or with) the incident asked about */
    uint8_t priority;
    enum fm_incident_stage stage;
};
typedef int (*fm_duplicate_cb)(void *ctx, const struct fm_duplicate *d);
/* The open incidents (not resolved, closed or merged) of the incident's
 * category or one the directory relates to it, reported within window_s
 * of it and radius_m of its location (0: the directory's, else
 * FM_DUP_RADIUS_M / FM_DUP_WINDOW_S), nearest first; the incident itself
 * is not one. */
int fm_node_incident_duplicates(struct fm_node *n, const char *incident, uint32_t radius_m,
                                uint32_t window_s, fm_duplicate_cb cb, void *ctx) FM_MUST_USE;
/* Folds the duplicate `dup` into `into` in one transaction: a note on
 * `into` recording the further call (its address and description; never
 * the caller's details, which are for dispatchers only), a note on `dup`
 * naming `into`, and `dup` closed; its active tickets are
 * refused (FM_ESTATE, *nactive set) unless cancel_tickets, as for
 * fm_node_incident_close. FM_ECLOSED if `into` is resolved or closed,
 * FM_EINVAL if they are the same incident. */
/* Folds the incident `dup`, opened twice, into `into` with an
 * incident.merge op (docs/workflow.md §3c): its tickets, notes and feedback
 * count on `into` and its id names `into` from then on, on every node
 * (the first merge of an incident by stamp wins; merges that form a cycle
 * end at its earliest report). `into` is followed to its own survivor.
 * dup_out/into_out name the two. FM_ESTATE if `dup` is merged already
 * (into_out names where), FM_EINVAL if they are one, FM_ECLOSED if `into`
 * is resolved or closed, FM_EPERM for a node that may not dispatch,
 * FM_ECONFIG below node.op_format 3. At op format 3 a link (below) is
 * also a merge. */
int fm_node_incident_merge(struct fm_node *n, const char *dup, const char *into,
                           const char *reason, char dup_out[FM_ID_MAX],
                           char into_out[FM_ID_MAX]) FM_MUST_USE;
int fm_node_incident_link(struct fm_node *n, const char *dup, const char *into,
                          bool cancel_tickets, size_t *nactive) FM_MUST_USE;

/* ---- human codes (hid.c, docs/decisions.md) ---- */
#define FM_HID_MAX 20 /* "K3MX9Q2-4294967295" and NUL */
/* The human codes of every incident and ticket held: the author's code (4
 * to 7 upper-case characters of its key, as many as tell it from the other
 * authors held) and its own counter of incidents and tickets, "K3MX-12".
 * *out malloc'd; free with fm_hids_free. The same on every node holding
 * the same ops; computed on read (nothing stored). */
struct fm_hids;
int fm_node_hids(struct fm_node *n, struct fm_hids **out) FM_MUST_USE;
void fm_hids_free(struct fm_hids **hp);
/* The code of an incident or ticket id; false (out "") if it has none. */
bool fm_hids_code(const struct fm_hids *h, const char *id, char out[FM_HID_MAX]);
/* The id of the incident or ticket (kind) a code names, any case; a
 * shorter author prefix (4+) than shown matches too. FM_EINVAL if code is
 * not of that form, FM_ENOTFOUND, or FM_EAMBIGUOUS with *nfound
 * candidates (the first ncap copied to cands, which may be NULL). */
int fm_hids_resolve(const struct fm_hids *h, enum fm_entity_kind kind, const char *code,
                    char id[FM_ID_MAX], char (*cands)[FM_ID_MAX], size_t ncap,
                    size_t *nfound) FM_MUST_USE;

/* ---- incident workflow state ---- */
struct fm_incident_workflow {
    char coordinator_unit[FM_ID_MAX];   /* first unit to acknowledge ("" if none) */
    char coordinator_ticket[FM_ID_MAX];
    uint64_t coordinator_hlc;
    uint8_t escalated_tier;             /* highest tier brought in by escalation (0 = none) */
    uint64_t escalated_hlc[4];          /* [tier]: first escalation to it */
    uint32_t escalation_raises[4];      /* [tier]: escalation ops merged into it */
    uint32_t feedback_count;
    uint64_t feedback_sum;
    uint8_t alarm_level;                /* 1 (default) .. FM_ALARM_MAX: the highest raised */
    uint64_t alarm_hlc;                 /* first raise to that level (0 at level 1) */
};
int fm_node_incident_workflow(struct fm_node *n, const char *incident,
                              struct fm_incident_workflow *out) FM_MUST_USE;
/* Satisfaction feedback, score 1..5, optional comment. */
int fm_node_incident_feedback(struct fm_node *n, const char *incident, uint8_t score,
                              const char *comment) FM_MUST_USE;
/* Raises the incident's alarm level to `level` (2..FM_ALARM_MAX; 0 = one
 * up from where it is) with an optional reason; *level_out (may be NULL)
 * gets the level aimed at. Centre, county and admin only (FM_EPERM);
 * FM_ESTATE when the incident is already at that level or above (or at
 * the top), FM_ECLOSED when resolved or closed, FM_EINVAL for level 1. */
int fm_node_incident_alarm(struct fm_node *n, const char *incident, uint8_t level,
                           const char *reason, uint8_t *level_out) FM_MUST_USE;
/* Raises an escalation of `incident` to `tier` (2..3); ticket may be NULL. */
int fm_node_escalate(struct fm_node *n, const char *incident, uint8_t tier, const char *ticket,
                     const char *reason) FM_MUST_USE;
/* The periodic check (fieldmeshd calls it about once a second; `fieldmesh
 * escalate` once): for every active ticket not acknowledged within its
 * rule's escalate_after_s, raises an escalation to the next tier unless the
 * incident already has one. Tickets this node dispatched are due at the
 * deadline, others' a grace period later. Needs a dispatcher identity
 * (loaded on first use from the config; without one it does nothing).
 * *raised (may be NULL) gets the number of escalations written. */
int fm_node_workflow_tick(struct fm_node *n, uint64_t now_ms, unsigned *raised);

/* ---- materials ---- */
struct fm_request {
    char id[FM_ID_MAX];
    char incident[FM_ID_MAX];
    char kind[FM_NAME_MAX];
    char text[FM_TEXT_MAX];
    char requester[FM_KEY_TEXT_LEN];
    int64_t qty, allocated, returned;  /* consumed at the scene = allocated - returned */
    uint64_t created_hlc, updated_hlc;
};
int fm_node_material_request(struct fm_node *n, const char *incident, const char *kind,
                             int64_t qty, const char *text, char id_out[FM_ID_MAX]) FM_MUST_USE;
/* Allocates qty from a depot's stock to a request (stock goes down), or
 * returns unused qty to it (stock goes up). FM_ESTATE if the stock, the
 * outstanding request or the allocation does not cover qty; FM_EINVAL if
 * the resource's kind is not the request's. */
int fm_node_material_move(struct fm_node *n, const char *request, const char *resource,
                          int64_t qty, bool is_return) FM_MUST_USE;
typedef int (*fm_request_cb)(void *ctx, const struct fm_request *r);
int fm_node_requests(struct fm_node *n, fm_request_cb cb, void *ctx) FM_MUST_USE;

/* ---- bulletins ---- */
struct fm_bulletin {
    char id[FM_ID_MAX];
    char audience[FM_NAME_MAX];
    char text[FM_TEXT_MAX];
    char sender[FM_KEY_TEXT_LEN];
    uint64_t sent_hlc;
    uint32_t receipts;          /* distinct nodes that recorded a read receipt */
    bool for_me;                /* this node is in the audience */
    bool read_by_me;
};
struct fm_receipt {
    char reader[FM_KEY_TEXT_LEN];
    uint64_t hlc;
};
/* audience: all | tier:1..3 | dept:NAME | county:NAME | unit:NAME-OR-ID. */
int fm_node_bulletin_send(struct fm_node *n, const char *audience, const char *text,
                          char id_out[FM_ID_MAX]) FM_MUST_USE;
typedef int (*fm_bulletin_cb)(void *ctx, const struct fm_bulletin *b);
int fm_node_bulletins(struct fm_node *n, fm_bulletin_cb cb, void *ctx) FM_MUST_USE;
/* Records this node's read receipt (FM_EEXISTS if already recorded). */
int fm_node_bulletin_read(struct fm_node *n, const char *id) FM_MUST_USE;
typedef int (*fm_receipt_cb)(void *ctx, const struct fm_receipt *r);
int fm_node_bulletin_receipts(struct fm_node *n, const char *id, fm_receipt_cb cb,
                              void *ctx) FM_MUST_USE;

/* ---- conflicts ---- */
#define FM_CONFLICT_ID_MAX 64
struct fm_conflict {
    char id[FM_CONFLICT_ID_MAX];   /* e.g. "double:k3mx9q2a-17" */
    char kind[32];                 /* unit_double_booked, cleared_and_reassigned, ... */
    char subject[FM_ID_MAX];       /* the unit, ticket or resource */
    char detail[FM_TEXT_MAX];
    uint8_t fingerprint[FM_HASH_LEN]; /* over the conflicting facts */
    bool resolved;                 /* a resolve op names this id and fingerprint */
    char resolution[FM_TEXT_MAX];  /* its note */
    char resolved_by[FM_KEY_TEXT_LEN];
    char resolved_by_name[FM_NAME_MAX]; /* the resolving node's certificate name */
    char resolved_operator[64];    /* the console operator the op names, "" if none */
    char decided[FM_TEXT_MAX / 4 + 32]; /* "the clear stands", "result 'x' stands"; "" */
    uint64_t resolved_hlc;
};
typedef int (*fm_conflict_cb)(void *ctx, const struct fm_conflict *c);
/* Deterministic, in id order; resolved ones only with include_resolved. */
int fm_node_conflicts(struct fm_node *n, bool include_resolved, fm_conflict_cb cb,
                      void *ctx) FM_MUST_USE;
/* What a resolution decides stands (op format 5): the ticket's clear, its
 * cancel, its reassignment, or one of its closing results. Reads of the
 * ticket (lists, show, the report) then show the decided state or result
 * while the conflict's facts are those the resolver saw. */
enum fm_conflict_keep {
    FM_KEEP_NONE = 0,       /* a note only: the facts stay as they merged */
    FM_KEEP_CLEARED = 1,    /* clear-cancel, clear-reassign: the clear stands */
    FM_KEEP_CANCELLED = 2,  /* clear-cancel: the cancel stands */
    FM_KEEP_REASSIGNED = 3, /* clear-reassign: the reassignment stands */
    FM_KEEP_RESULT = 4      /* results: result number result_no (1-based, as listed) */
};
/* Resolves the open conflict `id` (FM_ENOTFOUND if none is open), with a
 * decision when keep is not FM_KEEP_NONE: FM_EINVAL when the decision does
 * not fit the conflict's kind or the result number is past the list,
 * FM_ECONFIG when node.op_format is below 5. */
int fm_node_conflict_resolve(struct fm_node *n, const char *id, const char *note,
                             enum fm_conflict_keep keep, unsigned result_no) FM_MUST_USE;

/* ---- GPS trails (gps_trail_store.c) ---- */
/* The breadcrumb trail of one ticket while en route (docs/gps.md,
 * gps_trail.c in node/gps/ fills it, gps_trail_store.c keeps it): local soft
 * state, never synced. Kept points are at least FM_GPS_TRAIL_GAP_MS apart
 * except the last, which is always the newest fix. */
#define FM_GPS_TRAIL_POINTS 240      /* two hours at one per 30 s */
#define FM_GPS_TRAIL_TICKETS 16      /* trails kept; the least recently updated goes first */
#define FM_GPS_TRAIL_GAP_MS 30000
struct fm_gps_trail_pt {
    uint64_t at_ms;                  /* the receiver's fix time */
    int32_t lat_e7, lon_e7;
    uint32_t accuracy_dm;            /* FM_GPS_NO_ACCURACY unknown */
};
struct fm_gps_trail {
    char ticket[FM_ID_MAX];
    uint64_t updated_ms;             /* wall time of the last change (for eviction) */
    uint32_t n;                      /* points kept */
    uint32_t fixes;                  /* good fixes seen en route */
    bool full;                       /* FM_GPS_TRAIL_POINTS reached: only the last moves now */
    uint64_t distance_m;             /* sum of great-circle legs between kept points */
    struct fm_gps_trail_pt pt[FM_GPS_TRAIL_POINTS];
};
/* Stores a ticket's trail (replacing it); past FM_GPS_TRAIL_TICKETS
 * trails the least recently updated other one is deleted. */
int fm_node_gps_trail_put(struct fm_node *n, const struct fm_gps_trail *tr) FM_MUST_USE;
/* FM_ENOTFOUND when this node kept no trail for the ticket (full id). */
int fm_node_gps_trail_get(struct fm_node *n, const char *ticket,
                          struct fm_gps_trail *out) FM_MUST_USE;


#endif
