/*
 * test_model_property.c — state is a function of the op set.
 *
 * Four enrolled authors write a random history (> 600 ops) covering every
 * op kind: reports, updates, notes and status changes on each other's
 * incidents (often before the report exists anywhere), unit registration,
 * status and positions, stock adds and adjusts, and revocations — one of
 * them carried by an op that is itself revoked — and the linkage workflow's
 * kinds: dispatches and every ticket step (concurrently on the same
 * tickets), escalations, alarm levels, merges of incidents, feedback, material requests, allocations and
 * returns, multi-chunk directory versions from two centres with the
 * registrations of directory units (derived ids, so both publishers
 * register the same entities), bulletins and read receipts,
 * and conflict resolutions — including, once the history is written,
 * decisions on the ticket conflicts it produced (op format 5: which of
 * the clear, cancel, reassignment or results stands), some competing,
 * some from a clock far ahead, some overriding through a base, some that
 * fit no conflict. Author clocks start at the
 * same instant and advance in small random steps, so many ops of
 * different authors carry the same hlc and the author tie-break matters.
 * The same op set is then ingested into a fresh store in at least 1,000
 * random orders (each respecting per-author order, cut into random
 * batches, each batch shuffled), and every resulting digest must equal
 * the first one, and so must what every ticket reads (its state and
 * result, decisions applied). Rebuild must not change either.
 *
 * Seed: printed; set FM_SEED to replay. FM_PROP_ORDERS raises the number
 * of orders (never below 1,000).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <time.h>

#include "node_fixture.h"

#define OK(x) assert_int_equal((x), FM_OK)
#define NAUTH 4
#define MIN_ORDERS 1000

static struct fx_org org;
static uint64_t rng_state, seed;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(2685821657736338717);
}

static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }

struct ent {
    int author;
    uint64_t seq;
    uint8_t kind; /* FM_ENT_* */
    struct payload_ref inc, unit; /* a ticket's, from its dispatch */
};

struct world {
    struct fx_node who[NAUTH];
    struct fx_log log[NAUTH];
    struct ent ents[1024];
    size_t nents;
    uint64_t expect_ops;
    uint64_t base; /* the hlc every log starts at */
    uint64_t keyed_first[NAUTH]; /* per author, the seq of its first registration of the
                                  * unit with a stable id (0: none) */
    bool may_publish; /* room left for a directory version (up to 5 ops) */
};

static const char *const cats[] = {"fire", "flood", "crash", "gas"};
static const char *const words[] = {"north gate", "smoke", "two injured", "road blocked",
                                    "all clear", "need pump"};

/* Directory units: every publisher registers them under the same derived
 * id, concurrently, and the others' ops then target them. */
static const char *const dir_units[] = {"Engine 1", "Ladder 2", "Hazmat 3"};
#define DIR_DEPT "fire"

/* and one with a stable id (op format 6): its registrations rename and
 * move it, concurrently, under the one id its key derives */
#define DIR_KEY "K-1"
static const char *const key_names[] = {"Tanker 4", "水罐车4号", "Tanker 4 (south)"};
static const char *const key_depts[] = {"fire", "south fire"};

static void dir_unit_ref(size_t i, struct payload_ref *ref)
{
    if (i == 3)
        payload_dir_key_ref(DIR_KEY, ref);
    else
        payload_dir_unit_ref(DIR_DEPT, dir_units[i], ref);
}

static void pick_into(struct world *w, struct payload_ref *ref, uint8_t kind)
{
    struct ent cand[1024];
    size_t n = 0;
    if (kind == FM_ENT_UNIT && rnd_below(4) == 0) {
        dir_unit_ref(rnd_below(4), ref);
        return;
    }
    for (size_t i = 0; i < w->nents; i++)
        if (w->ents[i].kind == kind)
            cand[n++] = w->ents[i];
    uint64_t r = rnd_below(20);
    if (n == 0 || r == 0) {
        /* an entity that never exists (placeholder forever) */
        memcpy(ref->author, w->who[rnd_below(NAUTH)].id.pk, FM_PK_LEN);
        ref->seq = 5000 + rnd_below(10);
    } else if (r == 1 && w->nents > 0) {
        /* the id of an entity of another kind */
        struct ent e = w->ents[rnd_below(w->nents)];
        memcpy(ref->author, w->who[e.author].id.pk, FM_PK_LEN);
        ref->seq = e.seq;
    } else {
        /* prefer recent entities so edits pile up on the same ones */
        struct ent e = cand[n - 1 - rnd_below(n < 6 ? n : 6)];
        memcpy(ref->author, w->who[e.author].id.pk, FM_PK_LEN);
        ref->seq = e.seq;
    }
}

static void pick_ref(struct world *w, struct payload *pl, uint8_t kind)
{
    pick_into(w, &pl->ref, kind);
    pl->present |= PT_BIT(PT_REF);
}

/* ---- linkage workflow ops (issue 4): every kind, often concurrent on the
 * same tickets, requests and bulletins ---- */

static void maybe_text(struct payload *pl)
{
    if (rnd_below(2)) {
        fm_strlcpy(pl->text, words[rnd_below(6)], sizeof pl->text);
        pl->present |= PT_BIT(PT_TEXT);
    }
}

/* Fills a random workflow op; returns the entity kind it creates (0 if none).
 * Directory chunks are written by the caller (several ops in a row). */
static uint8_t random_workflow(struct world *w, struct payload *pl)
{
    uint64_t r = rnd_below(100);
    if (r < 14) {
        pl->log.kind = OP_TICKET_DISPATCH;
        pick_ref(w, pl, FM_ENT_INCIDENT);
        pick_into(w, &pl->ref2, FM_ENT_UNIT);
        pl->epoch = (uint32_t)rnd_below(2);
        pl->present |= PT_BIT(PT_REF2) | PT_BIT(PT_EPOCH);
        if (rnd_below(2)) { /* the unit's name as the dispatcher saw it */
            fm_strlcpy(pl->name, rnd_below(3) ? dir_units[rnd_below(3)] : key_names[rnd_below(3)],
                       sizeof pl->name);
            pl->present |= PT_BIT(PT_NAME);
        }
        if (rnd_below(4) == 0) {
            pick_into(w, &pl->ref3, FM_ENT_TICKET);
            pl->present |= PT_BIT(PT_REF3);
        }
        maybe_text(pl);
        return FM_ENT_TICKET;
    }
    if (r < 44) {
        pl->log.kind = OP_TICKET_STEP;
        pick_ref(w, pl, FM_ENT_TICKET);
        pick_into(w, &pl->ref2, FM_ENT_INCIDENT);
        pick_into(w, &pl->ref3, FM_ENT_UNIT);
        /* mostly the ticket's own incident and unit (a step that does not
         * match its dispatch is ignored, docs/workflow.md §4) */
        for (size_t i = 0, mine = rnd_below(5) != 0; mine && i < w->nents; i++) {
            const struct ent *e = &w->ents[i];
            if (e->kind == FM_ENT_TICKET && e->seq == pl->ref.seq &&
                memcmp(w->who[e->author].id.pk, pl->ref.author, FM_PK_LEN) == 0) {
                pl->ref2 = e->inc;
                pl->ref3 = e->unit;
                break;
            }
        }
        pl->epoch = (uint32_t)rnd_below(2);
        pl->code = (uint8_t)(1 + rnd_below(TS__MAX));
        /* the authors are dispatchers of no unit: their reports are on
         * the unit's behalf (ingest refuses any other flag) */
        pl->flags = pl->code >= TS_CANCEL ? (uint8_t)rnd_below(2) : 1;
        pl->present |= PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_EPOCH) | PT_BIT(PT_CODE) |
                       PT_BIT(PT_FLAGS);
        if (rnd_below(2)) { /* the unit's name as the writer saw it */
            fm_strlcpy(pl->name, rnd_below(3) ? dir_units[rnd_below(3)] : key_names[rnd_below(3)],
                       sizeof pl->name);
            pl->present |= PT_BIT(PT_NAME);
        }
        if (pl->code == TS_CLEAR) {
            fm_strlcpy(pl->text, words[rnd_below(3)], sizeof pl->text); /* results differ */
            pl->present |= PT_BIT(PT_TEXT);
        } else {
            maybe_text(pl);
        }
        return 0;
    }
    if (r < 47) {
        pl->log.kind = OP_TICKET_ESCALATE;
        pick_ref(w, pl, FM_ENT_INCIDENT);
        pl->tier = (uint8_t)(2 + rnd_below(2));
        pl->present |= PT_BIT(PT_TIER);
        if (rnd_below(2)) {
            pick_into(w, &pl->ref2, FM_ENT_TICKET);
            pl->present |= PT_BIT(PT_REF2);
        }
        maybe_text(pl);
        return 0;
    }
    if (r < 50) { /* incidents folded into others: chains, cycles, double merges,
                   * survivors that never arrive; the first merge by stamp wins */
        pl->log.kind = OP_INC_MERGE;
        pick_ref(w, pl, FM_ENT_INCIDENT);
        pick_into(w, &pl->ref2, FM_ENT_INCIDENT);
        if (pl->ref2.seq == pl->ref.seq &&
            memcmp(pl->ref2.author, pl->ref.author, FM_PK_LEN) == 0)
            pl->ref2.seq = 5000 + rnd_below(10) + (pl->ref.seq >= 5000 ? 20 : 0);
        pl->present |= PT_BIT(PT_REF2);
        maybe_text(pl);
        return 0;
    }
    if (r < 53) { /* the alarm level merges by max (first raise to it stamps it) */
        pl->log.kind = OP_INC_ALARM;
        pick_ref(w, pl, FM_ENT_INCIDENT);
        pl->code = (uint8_t)(2 + rnd_below(4));
        pl->present |= PT_BIT(PT_CODE);
        maybe_text(pl);
        return 0;
    }
    if (r < 56) {
        pl->log.kind = OP_INC_FEEDBACK;
        pick_ref(w, pl, FM_ENT_INCIDENT);
        pl->score = (uint8_t)(1 + rnd_below(5));
        pl->present |= PT_BIT(PT_SCORE);
        maybe_text(pl);
        return 0;
    }
    if (r < 63) {
        pl->log.kind = OP_MAT_REQUEST;
        pick_ref(w, pl, FM_ENT_INCIDENT);
        fm_strlcpy(pl->res_kind, "sandbag", sizeof pl->res_kind);
        pl->qty = 1 + (int64_t)rnd_below(50);
        pl->present |= PT_BIT(PT_RES_KIND) | PT_BIT(PT_QTY);
        maybe_text(pl);
        return FM_ENT_REQUEST;
    }
    if (r < 75) {
        pl->log.kind = rnd_below(3) ? OP_MAT_ALLOCATE : OP_MAT_RETURN;
        pick_ref(w, pl, FM_ENT_REQUEST);
        pick_into(w, &pl->ref2, FM_ENT_RESOURCE);
        pick_into(w, &pl->ref3, FM_ENT_INCIDENT);
        pl->qty = 1 + (int64_t)rnd_below(20);
        pl->present |= PT_BIT(PT_REF2) | PT_BIT(PT_REF3) | PT_BIT(PT_QTY);
        return 0;
    }
    if (r < 82) {
        static const char *const aud[] = {"all", "tier:2", "dept:fire", "county:north",
                                          "unit:e1"};
        pl->log.kind = OP_BULLETIN_SEND;
        fm_strlcpy(pl->audience, aud[rnd_below(5)], sizeof pl->audience);
        fm_strlcpy(pl->text, words[rnd_below(6)], sizeof pl->text);
        pl->present |= PT_BIT(PT_AUDIENCE) | PT_BIT(PT_TEXT);
        return FM_ENT_BULLETIN;
    }
    if (r < 93) {
        pl->log.kind = OP_BULLETIN_READ;
        pick_ref(w, pl, FM_ENT_BULLETIN);
        return 0;
    }
    /* resolutions, several on the same conflict ids and fingerprints */
    pl->log.kind = OP_CONFLICT_RESOLVE;
    snprintf(pl->text, sizeof pl->text, "stock:x-%u", (unsigned)rnd_below(3));
    memset(pl->blob, (int)rnd_below(2), FM_HASH_LEN);
    pl->blob_len = FM_HASH_LEN;
    pl->present |= PT_BIT(PT_TEXT) | PT_BIT(PT_BLOB);
    if (rnd_below(2)) {
        fm_strlcpy(pl->desc, words[rnd_below(6)], sizeof pl->desc);
        pl->present |= PT_BIT(PT_DESC);
    }
    return 0;
}

/* Author 1 (a centre) publishes a directory version of 1..3 chunks. */
#define DIR_AUTHOR 1
#define DIR_AUTHOR2 3 /* a second centre: concurrent publishes */
static void random_directory(struct world *w, int a)
{
    struct payload *pl = calloc(1, sizeof *pl);
    uint64_t chunks = 1 + rnd_below(3);
    assert_non_null(pl);
    for (uint64_t i = 0; i < chunks; i++) {
        memset(pl, 0, sizeof *pl);
        pl->log.kind = OP_DIR_PUBLISH;
        pl->part = (uint32_t)(i << 16 | chunks);
        pl->blob_len = (uint16_t)(1 + rnd_below(300));
        for (uint16_t k = 0; k < pl->blob_len; k++)
            pl->blob[k] = (uint8_t)rnd();
        pl->present = PT_BIT(PT_PART) | PT_BIT(PT_BLOB);
        w->log[a].hlc += rnd_below(3);
        OK(fx_log_pl(&w->log[a], pl));
    }
    /* and registers some of its units, as `directory publish` does; both
     * publishers do so for the same units */
    for (uint64_t i = 0, nu = rnd_below(4); i < nu; i++) {
        size_t u = (size_t)rnd_below(4);
        memset(pl, 0, sizeof *pl);
        pl->log.kind = OP_UNIT_REGISTER;
        fm_strlcpy(pl->name, u == 3 ? key_names[rnd_below(3)] : dir_units[u], sizeof pl->name);
        fm_strlcpy(pl->department, u == 3 ? key_depts[rnd_below(2)] : DIR_DEPT,
                   sizeof pl->department);
        fm_strlcpy(pl->unit_kind, rnd_below(2) ? "engine" : "truck", sizeof pl->unit_kind);
        pl->tier = (uint8_t)(1 + rnd_below(3));
        dir_unit_ref(u, &pl->ref);
        pl->present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_UNIT_KIND) |
                      PT_BIT(PT_TIER) | PT_BIT(PT_REF);
        if (u == 3) {
            fm_strlcpy(pl->key, DIR_KEY, sizeof pl->key);
            pl->present |= PT_BIT(PT_KEY);
            if (w->keyed_first[a] == 0)
                w->keyed_first[a] = w->log[a].seq + 1; /* fx_log_pl gives it the next seq */
        }
        if (rnd_below(2)) {
            fm_strlcpy(pl->caps, "foam,ladder", sizeof pl->caps);
            pl->present |= PT_BIT(PT_CAPS);
        }
        w->log[a].hlc += rnd_below(3);
        OK(fx_log_pl(&w->log[a], pl));
    }
    free(pl);
}

static void put_coords(struct payload *pl)
{
    pl->lat = (int32_t)((int64_t)rnd_below(2 * (uint64_t)FM_LAT_MAX + 1) - FM_LAT_MAX);
    pl->lon = (int32_t)((int64_t)rnd_below(2 * (uint64_t)FM_LON_MAX + 1) - FM_LON_MAX);
    pl->present |= PT_BIT(PT_LAT) | PT_BIT(PT_LON);
}

/* Appends one random op to author a's log. */
static void random_op(struct world *w, int a)
{
    static struct payload pl; /* large (directory chunks): not on the stack */
    struct fx_log *g = &w->log[a];
    memset(&pl, 0, sizeof pl);
    uint64_t r = rnd_below(100);
    uint8_t created = 0;
    if ((a == DIR_AUTHOR || a == DIR_AUTHOR2) && w->may_publish && rnd_below(40) == 0) {
        random_directory(w, a);
        return;
    }
    if (rnd_below(40) == 0) { /* a certificate renewal: same role, a later expiry */
        struct fm_cert c = w->who[a].cert;
        c.expires_ms += (1 + rnd_below(30)) * FX_DAY_MS;
        fm_cert_sign(&c, &org.root);
        pl.log.kind = OP_CERT_RENEW;
        pl.log.cert = c;
        g->hlc += rnd_below(3);
        OK(fx_log_pl(g, &pl));
        return;
    }
    if (rnd_below(100) < 40) {
        created = random_workflow(w, &pl);
        g->hlc += rnd_below(3);
        OK(fx_log_pl(g, &pl));
        if (created && w->nents < 1024)
            w->ents[w->nents++] = (struct ent){a, g->seq, created, pl.ref, pl.ref2};
        return;
    }
    if (r < 10) {
        pl.log.kind = OP_INC_REPORT;
        fm_strlcpy(pl.category, cats[rnd_below(4)], sizeof pl.category);
        pl.priority = (uint8_t)(1 + rnd_below(5));
        put_coords(&pl);
        pl.present |= PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY);
        if (rnd_below(2)) {
            fm_strlcpy(pl.address, words[rnd_below(6)], sizeof pl.address);
            pl.present |= PT_BIT(PT_ADDRESS);
        }
        created = FM_ENT_INCIDENT;
    } else if (r < 25) {
        pl.log.kind = OP_INC_UPDATE;
        pick_ref(w, &pl, FM_ENT_INCIDENT);
        do {
            if (rnd_below(2)) {
                fm_strlcpy(pl.category, cats[rnd_below(4)], sizeof pl.category);
                pl.present |= PT_BIT(PT_CATEGORY);
            }
            if (rnd_below(2)) {
                pl.priority = (uint8_t)(1 + rnd_below(5));
                pl.present |= PT_BIT(PT_PRIORITY);
            }
            if (rnd_below(3) == 0)
                put_coords(&pl);
            if (rnd_below(3) == 0) {
                fm_strlcpy(pl.desc, words[rnd_below(6)], sizeof pl.desc);
                pl.present |= PT_BIT(PT_DESC);
            }
            if (rnd_below(4) == 0) {
                fm_strlcpy(pl.caller, "+1 555", sizeof pl.caller);
                pl.present |= PT_BIT(PT_CALLER);
            }
            if (rnd_below(4) == 0) {
                pl.present |= PT_BIT(PT_ADDRESS); /* cleared */
            }
        } while (pl.present == PT_BIT(PT_REF));
    } else if (r < 40) {
        pl.log.kind = OP_INC_NOTE;
        pick_ref(w, &pl, FM_ENT_INCIDENT);
        fm_strlcpy(pl.text, words[rnd_below(6)], sizeof pl.text);
        pl.present |= PT_BIT(PT_TEXT);
    } else if (r < 52) {
        pl.log.kind = OP_INC_STATUS;
        pick_ref(w, &pl, FM_ENT_INCIDENT);
        pl.epoch = (uint32_t)rnd_below(3);
        pl.stage = (uint8_t)rnd_below(FM_STAGE_CLOSED + 1);
        pl.present |= PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
    } else if (r < 58) {
        pl.log.kind = OP_UNIT_REGISTER;
        fm_strlcpy(pl.name, words[rnd_below(6)], sizeof pl.name);
        fm_strlcpy(pl.department, cats[rnd_below(4)], sizeof pl.department);
        fm_strlcpy(pl.unit_kind, "engine", sizeof pl.unit_kind);
        pl.tier = (uint8_t)(1 + rnd_below(3));
        pl.present |= PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_UNIT_KIND) |
                      PT_BIT(PT_TIER);
        if (rnd_below(2)) {
            fm_strlcpy(pl.caps, "foam,ladder", sizeof pl.caps);
            pl.present |= PT_BIT(PT_CAPS);
        }
        created = FM_ENT_UNIT;
    } else if (r < 68) {
        pl.log.kind = OP_UNIT_STATUS;
        pick_ref(w, &pl, FM_ENT_UNIT);
        pl.unit_status = (uint8_t)rnd_below(US__COUNT);
        pl.present |= PT_BIT(PT_UNIT_STATUS);
    } else if (r < 78) {
        pl.log.kind = OP_UNIT_POSITION;
        pick_ref(w, &pl, FM_ENT_UNIT);
        put_coords(&pl);
    } else if (r < 84) {
        pl.log.kind = OP_RES_ADD;
        fm_strlcpy(pl.res_kind, "sandbag", sizeof pl.res_kind);
        fm_strlcpy(pl.depot, words[rnd_below(6)], sizeof pl.depot);
        pl.qty = (int64_t)rnd_below(100);
        pl.present |= PT_BIT(PT_RES_KIND) | PT_BIT(PT_DEPOT) | PT_BIT(PT_QTY);
        created = FM_ENT_RESOURCE;
    } else {
        pl.log.kind = OP_RES_ADJUST;
        pick_ref(w, &pl, FM_ENT_RESOURCE);
        pl.delta = (int64_t)rnd_below(41) - 20;
        if (pl.delta == 0)
            pl.delta = 7;
        pl.present |= PT_BIT(PT_DELTA);
    }
    g->hlc += rnd_below(3); /* fx_log adds 1: steps of 1..3 */
    OK(fx_log_pl(g, &pl));
    if (created && w->nents < 1024)
        w->ents[w->nents++] = (struct ent){.author = a, .seq = g->seq, .kind = created};
}

static void append_revocation(struct world *w, int carrier, int target, uint64_t last_seq)
{
    struct payload pl;
    memset(&pl, 0, sizeof pl);
    pl.log.kind = OP_REVOKE;
    memcpy(pl.log.rev.node, w->who[target].id.pk, FM_PK_LEN);
    pl.log.rev.last_seq = last_seq;
    pl.log.rev.issued_ms = fm_now_ms();
    fm_revocation_sign(&pl.log.rev, &org.root);
    OK(fx_log_pl(&w->log[carrier], &pl));
}

/* Authors 0..2 write freely; author 3 ("w") is revoked after its op
 * W_LIMIT by author 0, and carries (at W_CARRY > W_LIMIT) a revocation of
 * author 2 that drops author 2's last 10 ops. */
#define PER_AUTHOR 160
#define W_LIMIT 100
#define W_CARRY 120

static void build_world(struct world *w)
{
    uint64_t base = fm_now_ms() << 16;
    char name[16];
    memset(w, 0, sizeof *w);
    for (int a = 0; a < NAUTH; a++) {
        snprintf(name, sizeof name, "author%d", a);
        OK(fx_author(&org, &w->who[a], name));
        if (a == DIR_AUTHOR || a == DIR_AUTHOR2) { /* may publish the directory */
            w->who[a].cert.role = FM_ROLE_CENTRE;
            fm_cert_sign(&w->who[a].cert, &org.root);
        }
        fx_log_init(&w->log[a], &w->who[a].id);
        w->log[a].hlc = base;
        w->base = base;
        OK(fx_log_cert(&w->log[a], &w->who[a].cert));
    }
    uint64_t target[NAUTH] = {PER_AUTHOR, PER_AUTHOR + 20, PER_AUTHOR - 20, PER_AUTHOR};
    uint64_t revoke_at = 20 + rnd_below(100); /* position of the revocation in author 0's log */
    for (;;) {
        int live = 0;
        for (int a = 0; a < NAUTH; a++)
            live += w->log[a].seq < target[a];
        if (live == 0)
            break;
        int a = (int)rnd_below(NAUTH);
        if (w->log[a].seq >= target[a])
            continue;
        if (a == 0 && w->log[0].seq + 1 == revoke_at)
            append_revocation(w, 0, 3, W_LIMIT);
        else if (a == 3 && w->log[3].seq + 1 == W_CARRY)
            append_revocation(w, 3, 2, target[2] - 10);
        else {
            /* a multi-op directory version must neither overshoot a log's
             * length nor jump over the carrier's fixed position */
            uint64_t s = w->log[a].seq, room = 6;
            w->may_publish = a == DIR_AUTHOR ? s + room < target[a]
                                             : s + room < W_CARRY || s >= W_CARRY;
            random_op(w, a);
        }
    }
    w->expect_ops = target[0] + target[1] + (target[2] - 10) + W_LIMIT;
}

/* One random interleaving respecting per-author order, ingested in
 * random shuffled batches. */
static void ingest_order(struct world *w, struct fm_node *n, size_t *singles)
{
    size_t next[NAUTH] = {0};
    size_t total = 0;
    for (int a = 0; a < NAUTH; a++)
        total += w->log[a].ops.n;
    const uint8_t **seq = malloc(total * sizeof *seq);
    size_t *lens = malloc(total * sizeof *lens);
    assert_non_null(seq);
    assert_non_null(lens);
    for (size_t k = 0; k < total; k++) {
        uint64_t pick = rnd_below(total - k);
        int a = 0;
        for (;; a++) {
            size_t left = w->log[a].ops.n - next[a];
            if (pick < left)
                break;
            pick -= left;
        }
        seq[k] = w->log[a].ops.ops[next[a]];
        lens[k] = w->log[a].ops.lens[next[a]];
        next[a]++;
    }
    for (size_t k = 0; k < total;) {
        size_t len = rnd_below(2) ? 1 + rnd_below(3) : 5 + rnd_below(60);
        if (len > total - k)
            len = total - k;
        *singles += len == 1;
        for (size_t i = len; i > 1; i--) { /* shuffle the batch */
            size_t j = rnd_below(i);
            const uint8_t *tp = seq[k + i - 1];
            size_t tl = lens[k + i - 1];
            seq[k + i - 1] = seq[k + j];
            lens[k + i - 1] = lens[k + j];
            seq[k + j] = tp;
            lens[k + j] = tl;
        }
        struct fm_ingest_result res;
        OK(fm_node_ingest(n, seq + k, lens + k, len, &res));
        /* nothing may be refused except what revocations drop */
        if (res.rejected)
            assert_int_equal(res.err, FM_EREVOKED);
        k += len;
    }
    free(seq);
    free(lens);
}

/* What every ticket reads (id, state, result: decisions applied), hashed
 * in the order fm_node_tickets gives them. */
static int reads_each(void *ctx, const struct fm_ticket *tk)
{
    struct fm_hasher *h = ctx;
    uint8_t st = (uint8_t)tk->state;
    fm_hasher_update(h, tk->id, strlen(tk->id) + 1);
    fm_hasher_update(h, &st, 1);
    fm_hasher_update(h, tk->result, strlen(tk->result) + 1);
    return 0;
}

static void reads_hash(struct fm_node *n, uint8_t out[FM_HASH_LEN])
{
    struct fm_hasher *h = fm_hasher_new();
    assert_non_null(h);
    OK(fm_node_tickets(n, NULL, reads_each, h));
    fm_hasher_final(h, out);
    fm_hasher_destroy(&h);
}

/* A decision on conflict c, in author a's log; result_hash for RD_RESULT,
 * base 0 for none. */
static void append_decision(struct world *w, int a, const struct fm_conflict *c, uint8_t code,
                            const uint8_t *result_hash, uint64_t base)
{
    struct payload pl;
    memset(&pl, 0, sizeof pl);
    pl.log.kind = OP_CONFLICT_RESOLVE;
    fm_strlcpy(pl.text, c->id, sizeof pl.text);
    memcpy(pl.blob, c->fingerprint, FM_HASH_LEN);
    pl.blob_len = FM_HASH_LEN;
    if (code == RD_RESULT) {
        memcpy(pl.blob + FM_HASH_LEN, result_hash, FM_HASH_LEN);
        pl.blob_len = 2 * FM_HASH_LEN;
    }
    pl.code = code;
    pl.present = PT_BIT(PT_TEXT) | PT_BIT(PT_BLOB) | PT_BIT(PT_CODE);
    if (base) {
        pl.log.base = base;
        pl.present |= PT_BIT(PT_BASE);
    }
    if (rnd_below(2)) {
        fm_strlcpy(pl.desc, words[rnd_below(6)], sizeof pl.desc);
        pl.present |= PT_BIT(PT_DESC);
    }
    OK(fx_log_pl(&w->log[a], &pl));
    w->expect_ops++;
}

struct decide_ctx {
    struct world *w;
    size_t made;
};

/* For each ticket conflict of the written history: a fitting decision by
 * author 1 (a centre); half the time a competing one by author 0 (a
 * county), whose clock may be far ahead, and then sometimes a third by
 * author 1 that saw it (its base); and on other conflicts a decision that
 * fits none, which must change nothing. */
static int decide_each(void *ctx, const struct fm_conflict *c)
{
    struct decide_ctx *d = ctx;
    struct world *w = d->w;
    uint8_t h[FM_HASH_LEN] = {0};
    const char *q = strstr(c->detail, "1: '");
    uint8_t code;
    if (strncmp(c->id, "clear-cancel:", 13) == 0)
        code = rnd_below(2) ? RD_CLEARED : RD_CANCELLED;
    else if (strncmp(c->id, "clear-reassign:", 15) == 0)
        code = rnd_below(2) ? RD_CLEARED : RD_REASSIGNED;
    else if (strncmp(c->id, "results:", 8) == 0 && q != NULL) {
        /* the first result as listed: its text up to the closing quote */
        const char *e = strstr(q + 4, "' ");
        size_t len = e ? (size_t)(e - (q + 4)) : strlen(q + 4) - 1;
        fm_hash(h, q + 4, len);
        code = RD_RESULT;
    } else {
        append_decision(w, 1, c, (uint8_t)(1 + rnd_below(RD__MAX)), h, 0); /* fits nothing */
        d->made++;
        return 0;
    }
    append_decision(w, 1, c, code, h, 0);
    d->made++;
    if (rnd_below(2)) {
        uint8_t other = code == RD_CLEARED ? (strncmp(c->id, "clear-cancel:", 13) == 0
                                                  ? RD_CANCELLED
                                                  : RD_REASSIGNED)
                                           : code == RD_RESULT ? RD_RESULT : RD_CLEARED;
        if (rnd_below(2)) {
            /* clock ahead: up to 300 days past the start, never past the
             * county's certificate (365 days), however many conflicts */
            uint64_t ahead = w->base + ((uint64_t)(1 + rnd_below(300)) * 86400000ull << 16);
            if (ahead > w->log[0].hlc)
                w->log[0].hlc = ahead;
        }
        append_decision(w, 0, c, other, h, 0);
        d->made++;
        if (rnd_below(2)) { /* the centre saw it and decides again */
            append_decision(w, 1, c, code, h, w->log[0].hlc);
            d->made++;
        }
    }
    return 0;
}

static void test_digest_is_order_independent(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof *w);
    struct fx_node store;
    uint8_t ref[FM_HASH_LEN], d[FM_HASH_LEN];
    size_t orders = MIN_ORDERS, singles = 0;
    const char *env = getenv("FM_PROP_ORDERS");
    uint64_t v;
    if (env && fm_parse_u64(env, &v) == FM_OK && v > MIN_ORDERS)
        orders = (size_t)v;
    assert_non_null(w);
    build_world(w);
    size_t total = 0;
    for (int a = 0; a < NAUTH; a++)
        total += w->log[a].ops.n;
    assert_true(total >= 600);
    OK(fx_author(&org, &store, "store"));
    OK(fx_open(&store, FM_OPEN_READ | FM_OPEN_NOSYNC_));

    /* the conflicts the history produced, then decisions on them */
    for (int a = 0; a < NAUTH; a++)
        OK(fx_ingest(store.n, &w->log[a].ops, 0, w->log[a].ops.n, NULL));
    struct decide_ctx dc = {w, 0};
    OK(fm_node_conflicts(store.n, true, decide_each, &dc));
    OK(node_test_clear(store.n));
    total += dc.made;

    /* reference: each author's log whole, one after the other */
    uint8_t ref_reads[FM_HASH_LEN], reads[FM_HASH_LEN];
    for (int a = 0; a < NAUTH; a++)
        OK(fx_ingest(store.n, &w->log[a].ops, 0, w->log[a].ops.n, NULL));
    OK(fm_node_digest(store.n, ref));
    reads_hash(store.n, ref_reads);
    struct fm_node_stats st;
    OK(fm_node_stats(store.n, &st));
    assert_int_equal(st.ops, w->expect_ops);
    assert_true(st.entities > 30);
    /* renamed and moved, still one entity under its key's id, once a
     * registration of it is stored (the revoked tail of an author's log is
     * not) */
    struct fm_head *heads;
    size_t nh;
    bool keyed = false;
    OK(fm_node_heads(store.n, &heads, &nh));
    for (int a = 0; a < NAUTH; a++)
        for (size_t i = 0; i < nh && w->keyed_first[a]; i++)
            keyed |= memcmp(heads[i].author, w->who[a].id.pk, FM_PK_LEN) == 0 &&
                     heads[i].seq >= w->keyed_first[a];
    free(heads);
    if (keyed) {
        struct payload_ref kr;
        char kid[FM_ID_MAX];
        struct fm_unit ku;
        payload_dir_key_ref(DIR_KEY, &kr);
        fm_op_id_format(kr.author, kr.seq, kid);
        OK(fm_node_unit_get(store.n, kid, &ku));
        assert_string_equal(ku.key, DIR_KEY);
        assert_true(strcmp(ku.name, key_names[0]) == 0 || strcmp(ku.name, key_names[1]) == 0 ||
                    strcmp(ku.name, key_names[2]) == 0);
    }
    OK(fm_node_rebuild(store.n));
    OK(fm_node_digest(store.n, d));
    assert_memory_equal(ref, d, FM_HASH_LEN);

    time_t t0 = time(NULL);
    for (size_t o = 0; o < orders; o++) {
        OK(node_test_clear(store.n));
        ingest_order(w, store.n, &singles);
        OK(fm_node_digest(store.n, d));
        if (memcmp(ref, d, FM_HASH_LEN) != 0) {
            print_error("digest differs in order %zu (FM_SEED=%" PRIu64 ")\n", o, seed);
            fail();
        }
        reads_hash(store.n, reads);
        if (memcmp(ref_reads, reads, FM_HASH_LEN) != 0) {
            print_error("tickets read differently in order %zu (FM_SEED=%" PRIu64 ")\n", o,
                        seed);
            fail();
        }
        if (o % 97 == 0) {
            OK(fm_node_stats(store.n, &st));
            assert_int_equal(st.ops, w->expect_ops);
            OK(fm_node_rebuild(store.n));
            OK(fm_node_digest(store.n, d));
            assert_memory_equal(ref, d, FM_HASH_LEN);
        }
    }
    print_message("%zu ops (%zu decisions), %zu orders, %zu single-op ingests, %lld s\n", total,
                  dc.made, orders, singles, (long long)(time(NULL) - t0));
    for (int a = 0; a < NAUTH; a++) {
        fx_log_free(&w->log[a]);
        fx_done(&w->who[a]);
    }
    fx_done(&store);
    free(w);
}

/* The property must be able to fail: a store missing one op of a
 * contributing author has a different digest. */
static void test_digest_sees_a_missing_op(void **state)
{
    (void)state;
    struct world *w = calloc(1, sizeof *w);
    struct fx_node s1, s2;
    assert_non_null(w);
    build_world(w);
    OK(fx_author(&org, &s1, "s1"));
    OK(fx_author(&org, &s2, "s2"));
    OK(fx_open(&s1, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    OK(fx_open(&s2, FM_OPEN_READ | FM_OPEN_NOSYNC_));
    /* Drop the last op of an author whose last op is a note: notes are a
     * grow-only timeline, so its absence must show in the digest. (An
     * arbitrary last op may be an LWW write that lost to a later stamp and
     * rightly leaves no trace in the state, and the revoked tails of
     * authors 2 and 3 leave none either.) */
    int drop = -1;
    for (int a = 0; a < 2 && drop < 0; a++) { /* authors 2 and 3 end revoked */
        struct fm_op op;
        const struct fx_ops *l = &w->log[a].ops;
        if (l->n > 1 && fm_op_decode(&op, l->ops[l->n - 1], l->lens[l->n - 1]) == FM_OK &&
            op.kind == OP_INC_NOTE)
            drop = a;
    }
    if (drop < 0) { /* no author ends with a note: end author 0's log with one */
        struct fx_ops *l = &w->log[0].ops;
        struct fm_op last, first_report;
        uint8_t prev[FM_HASH_LEN];
        struct fm_buf b;
        bool found = false;
        assert_int_equal(fm_op_decode(&last, l->ops[l->n - 1], l->lens[l->n - 1]), FM_OK);
        fm_op_hash(&last, prev);
        for (size_t k = 0; k < l->n && !found; k++)
            found = fm_op_decode(&first_report, l->ops[k], l->lens[k]) == FM_OK &&
                    first_report.kind == OP_INC_REPORT;
        assert_true(found);
        struct payload pl;
        payload_clear(&pl);
        pl.log.kind = OP_INC_NOTE;
        pl.present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
        memcpy(pl.ref.author, first_report.author, FM_PK_LEN);
        pl.ref.seq = first_report.seq;
        fm_strlcpy(pl.text, "appended so the last op is a note", sizeof pl.text);
        fm_buf_init(&b, FM_OP_MAX_LEN);
        struct fm_buf enc;
        fm_buf_init(&enc, FM_OP_MAX_PAYLOAD);
        struct payload *chk = malloc(sizeof *chk);
        assert_non_null(chk);
        OK(payload_encode(&pl, &enc, chk));
        free(chk);
        OK(fm_op_build(&b, &w->who[0].id, OP_INC_NOTE, last.seq + 1, prev, last.hlc + 1,
                       enc.data, (uint32_t)enc.len));
        OK(fx_ops_add(l, b.data, b.len));
        fm_buf_release(&enc);
        fm_buf_release(&b);
        drop = 0;
    }
    for (int a = 0; a < NAUTH; a++) {
        OK(fx_ingest(s1.n, &w->log[a].ops, 0, w->log[a].ops.n, NULL));
        size_t n = w->log[a].ops.n - (a == drop); /* that author's last op missing */
        OK(fx_ingest(s2.n, &w->log[a].ops, 0, n, NULL));
    }
    assert_int_equal(fx_digest_eq(s1.n, s2.n), 0);
    for (int a = 0; a < NAUTH; a++) {
        fx_log_free(&w->log[a]);
        fx_done(&w->who[a]);
    }
    fx_done(&s1);
    fx_done(&s2);
    free(w);
}

int main(void)
{
    seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    const char *env = getenv("FM_SEED");
    if (env && fm_parse_u64(env, &seed) != FM_OK) {
        fprintf(stderr, "FM_SEED must be an unsigned integer\n");
        return 2;
    }
    if (seed == 0)
        seed = 1;
    printf("test_model_property: FM_SEED=%" PRIu64 "\n", seed);
    fflush(stdout);
    rng_state = seed;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digest_is_order_independent),
        cmocka_unit_test(test_digest_sees_a_missing_op),
    };
    if (fm_crypto_init() != FM_OK || fx_org_init(&org) != FM_OK)
        return 1;
    fm_log_set_level(FM_LOG_ERROR);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    fx_org_done(&org);
    return rc;
}
