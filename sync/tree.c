/*
 * tree.c — one spanning tree for eager pushes (wire version 5).
 *
 * Plumtree builds its eager tree from duplicates: a link that brings a
 * copy we hold is pruned. With one tree shared by every writer that left,
 * at 2,000 nodes, a forest with cycles: cycles cost duplicate copies and
 * the gaps cost pulls (docs/performance.md). Version 5 builds the tree
 * from the topology instead, as a bridge's spanning tree protocol does:
 *
 * - the root is the node alive and reachable with the best rank, then the
 *   smallest key prefix; it says so every SYNC_TREE_BEAT_MS with a new
 *   epoch. The rank comes from the store (fm_sync_store.root_rank), from
 *   the certificate's role: the centre first, then counties, stations,
 *   and vehicles last, so the root sits on a node with fixed links rather
 *   than on whichever vehicle drew the smallest key, and an insider cannot
 *   make itself root by grinding a key: its certificate says what it is.
 *   Ranks are not on the wire; each node asks its own store (ranks_refresh),
 *   and nodes holding the same certificates agree;
 * - every other node takes as its parent the neighbour with the fewest
 *   hops to that root (ties: the parent it has, then the smaller key), and
 *   tells each neighbour its root, epoch and hops, and whether it is that
 *   neighbour's child;
 * - a link is eager when one end is the other's parent. Every other link
 *   between version-5 nodes is lazy: IHAVE and, after the grace, PULL.
 *
 * The epoch keeps stale claims out: every node remembers the newest epoch
 * it heard of each root and since when; a claim more than
 * SYNC_TREE_FRESH_BEATS behind that newest epoch is not taken, and a root
 * whose newest epoch is SYNC_TREE_DEAD_BEATS beats old (it stopped, or a
 * partition cut us off it) is not taken at all: the next smallest key
 * takes over. A newer epoch of it (the partition healed) brings it back.
 * Within one epoch a claim is taken only at no more hops than we had
 * (tree_select): no loops, no counting to infinity.
 *
 * Nothing here decides what is delivered: eager pushes only go faster.
 * Lazy announcements and anti-entropy still bring every op, so a lie (a
 * node claiming to be near the root, then withholding its pushes) costs
 * latency, never data.
 *
 * TREE (`u8 5 | u8 11 | u8 flags | u8 hops | be32 epoch | root[8]`, 16 B):
 * flags bit 0 = "you are my parent"; other bits are refused. A claim of 0
 * hops must name the sender's own key. Neighbours: a TREE is sent beside
 * every hello (reconcile.c) to a neighbour not known to speak version 5;
 * one heard from it marks it version 5 (we answer with ours), and then it
 * gets a TREE whenever our claim or our parent changes, and at least once
 * per beat; a child answers each TREE of its parent with its own, and a
 * parent sends again to a child that has not answered its newest epoch
 * within SYNC_TREE_RESEND_MS. An older node
 * drops TREE as "message of another protocol version", a few per link-up,
 * and keeps Plumtree's links with us.
 */
#include "sync_int.h"

#include <string.h>

#define COMPONENT "sync"

#define TREE_FLAG_PARENT 0x01

bool sync_tree_on(const struct fm_sync *s) { return s->cfg.wire_version == 0; }

int fm_tree_decode(struct fm_wire_tree *t, const uint8_t *p, size_t n)
{
    if (n != FM_TREE_MSG_LEN || p[0] != FM_TREE_WIRE_VERSION || p[1] != FM_MSG_TREE ||
        (p[2] & ~TREE_FLAG_PARENT) != 0)
        return FM_EDECODE;
    t->parent = (p[2] & TREE_FLAG_PARENT) != 0;
    t->hops = p[3];
    t->epoch = fm_be32_get(p + 4);
    memcpy(t->root, p + 8, FM_TREE_ROOT_LEN);
    return FM_OK;
}

int fm_tree_encode(struct fm_buf *out, const struct fm_wire_tree *t)
{
    fm_buf_reset(out);
    uint8_t m[FM_TREE_MSG_LEN] = {FM_TREE_WIRE_VERSION, FM_MSG_TREE,
                                  t->parent ? TREE_FLAG_PARENT : 0, t->hops};
    fm_be32_put(m + 4, t->epoch);
    memcpy(m + 8, t->root, FM_TREE_ROOT_LEN);
    return fm_buf_append(out, m, sizeof m);
}

/* Epochs count beats; a root starts from its clock so that it goes on
 * above what it said before a restart. */
static uint32_t wall_epoch(struct fm_sync *s)
{
    return (uint32_t)(sync_wall(s) / SYNC_TREE_BEAT_MS);
}

/* Epochs wrap in 2106; compare them as serial numbers (RFC 1982). */
static bool epoch_after(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

static void become_root(struct fm_sync *s, uint64_t now)
{
    struct sync_tree *t = &s->tree;
    bool was = t->parent < 0 && t->hops == 0 && memcmp(t->root, s->pk, FM_TREE_ROOT_LEN) == 0;
    memcpy(t->root, s->pk, FM_TREE_ROOT_LEN);
    t->hops = 0;
    t->parent = -1;
    if (!was) {
        uint32_t e = wall_epoch(s);
        t->epoch = epoch_after(e, t->epoch) ? e : t->epoch + 1;
        t->next_beat_ms = now + SYNC_TREE_BEAT_MS;
        t->changed = true;
    }
}

/* The store's rank of the key starting with prefix (FM_SYNC_RANK_LAST
 * when it says nothing usable). */
static uint8_t rank_of(struct fm_sync *s, const uint8_t prefix[FM_TREE_ROOT_LEN])
{
    if (s->store.root_rank == NULL)
        return 0;
    int r = s->store.root_rank(s->store.ctx, prefix);
    return r >= 0 && r <= FM_SYNC_RANK_LAST ? (uint8_t)r : FM_SYNC_RANK_LAST;
}

/* Whether (rank a, key a) comes before (rank b, key b): a better root. */
static bool root_before(uint8_t ra, const uint8_t *a, uint8_t rb, const uint8_t *b)
{
    return ra != rb ? ra < rb : memcmp(a, b, FM_TREE_ROOT_LEN) < 0;
}

/* Asks the store again for our rank and every known root's: at the next
 * tick after ops were stored or an author appeared (a certificate or a
 * revocation may have come with them), else once a beat. Without the
 * first, a node that had just received the centre's log went on ranking
 * the centre last for up to a beat, with two roots and lazy links between
 * them: writes made in that second crossed by announcement and pull
 * (e2e.test_roles, which writes at once after starting three daemons). */
static void ranks_refresh(struct fm_sync *s, uint64_t now)
{
    struct sync_tree *t = &s->tree;
    bool news = s->k.ops_stored != t->ranked_ops || s->nauthors != t->ranked_authors;
    if (t->ranked_ms && !news && now - t->ranked_ms < SYNC_TREE_BEAT_MS)
        return;
    t->ranked_ms = now ? now : 1;
    t->ranked_ops = s->k.ops_stored;
    t->ranked_authors = s->nauthors;
    t->rank = rank_of(s, s->pk);
    for (int i = 0; i < SYNC_TREE_ROOTS; i++)
        if (t->roots[i].since_ms)
            t->roots[i].rank = rank_of(s, t->roots[i].root);
}

/* The slot of root r in t->roots, or NULL. */
static struct sync_tree_root *root_find(struct sync_tree *t, const uint8_t r[FM_TREE_ROOT_LEN])
{
    for (int i = 0; i < SYNC_TREE_ROOTS; i++)
        if (t->roots[i].since_ms && memcmp(t->roots[i].root, r, FM_TREE_ROOT_LEN) == 0)
            return &t->roots[i];
    return NULL;
}

/* A claim of root r at this epoch was heard: r's newest epoch, and since
 * when. A full table gives up the root silent longest. */
static void root_note(struct fm_sync *s, const uint8_t r[FM_TREE_ROOT_LEN], uint32_t epoch,
                      uint64_t now)
{
    struct sync_tree *t = &s->tree;
    if (epoch == 0)
        return;
    struct sync_tree_root *e = root_find(t, r);
    if (e == NULL) {
        e = &t->roots[0];
        for (int i = 0; i < SYNC_TREE_ROOTS && e->since_ms; i++)
            if (!t->roots[i].since_ms || t->roots[i].since_ms < e->since_ms)
                e = &t->roots[i];
        memset(e, 0, sizeof *e);
        memcpy(e->root, r, FM_TREE_ROOT_LEN);
        e->epoch = epoch;
        e->since_ms = now ? now : 1;
        e->rank = rank_of(s, r); /* a new root: asked now, then by ranks_refresh */
    } else if (epoch_after(epoch, e->epoch)) {
        e->epoch = epoch;
        e->since_ms = now ? now : 1;
    }
}

/* Whether root r has said a new epoch lately. Each node judges this by its
 * own table, so a root's old claims cannot come back: a node that took
 * one (and so reset a timer of its own) found its neighbours ignoring it,
 * where with a timer per node they took it from each other in turn (20
 * crashes and a cut in sim.city_faults, seed 9: a million TREE frames in
 * 70 s). */
static bool root_alive(struct sync_tree *t, const uint8_t r[FM_TREE_ROOT_LEN], uint64_t now)
{
    const struct sync_tree_root *e = root_find(t, r);
    return e != NULL && now - e->since_ms <= (uint64_t)SYNC_TREE_DEAD_BEATS * SYNC_TREE_BEAT_MS;
}

/* Whether nb's claim may be taken at all. */
static bool claim_usable(struct fm_sync *s, const struct sync_nb *nb, uint64_t now)
{
    struct sync_tree *t = &s->tree;
    if (!nb || !nb->v5 || !nb->t_heard || nb->banned || !sync_nb_live(s, nb, now))
        return false;
    if (nb->t_child || nb->t_hops == 255)
        return false; /* our child cannot be our parent; 255 hops is as far as it goes */
    if (memcmp(nb->t_root, s->pk, FM_TREE_ROOT_LEN) == 0)
        return false; /* an old claim of us as root: we say who we are ourselves */
    /* not far behind the newest epoch of its root we know */
    const struct sync_tree_root *e = root_find(t, nb->t_root);
    return e == NULL || !epoch_after(e->epoch, nb->t_epoch + SYNC_TREE_FRESH_BEATS);
}

/* Whether nb's claim may be taken (a route's feasibility, as in Babel,
 * RFC 8966): its root's epoch is newer than any we took of that root, or
 * the same at no more hops than the fewest we had in it. Within one epoch
 * of a root our hops can then only fall, whichever roots we took between,
 * and a node below us always claims more than we had, so it is never
 * taken: no loop, and no counting to infinity when a parent goes. A node
 * left with nothing feasible detaches and waits for the next epoch. */
static bool claim_feasible(struct sync_tree *t, const struct sync_nb *nb)
{
    const struct sync_tree_root *e = root_find(t, nb->t_root);
    if (e == NULL || e->fd_epoch_set == false || epoch_after(nb->t_epoch, e->fd_epoch))
        return true;
    return nb->t_epoch == e->fd_epoch && (uint32_t)nb->t_hops + 1 <= e->fd;
}

/* Chooses root, parent and hops from the neighbours' claims; marks the
 * tree changed when what we would say moved. */
static void tree_select(struct fm_sync *s, uint64_t now)
{
    struct sync_tree *t = &s->tree;
    /* the best root (rank, then key) that said a new epoch lately, or
     * ourselves: judged by what we heard, not by what the neighbours claim
     * now, so that the root does not change with each claim while they
     * change their minds */
    const uint8_t *root = s->pk;
    uint8_t rank = t->rank;
    for (int i = 0; i < SYNC_TREE_ROOTS; i++) {
        const struct sync_tree_root *e = &t->roots[i];
        if (e->since_ms && root_before(e->rank, e->root, rank, root) &&
            root_alive(t, e->root, now)) {
            root = e->root;
            rank = e->rank;
        }
    }
    if (root == s->pk) {
        become_root(s, now);
        return;
    }
    uint8_t r[FM_TREE_ROOT_LEN];
    memcpy(r, root, sizeof r);
    bool same_root = memcmp(t->root, r, sizeof r) == 0 && t->hops != 0;
    /* the nearest usable, feasible claim; ties keep the parent we have,
     * then go to the smaller key */
    const struct sync_nb *best = NULL;
    for (size_t i = 0; i < s->nnb; i++) {
        const struct sync_nb *nb = s->nbs[i];
        if (!claim_usable(s, nb, now) || memcmp(nb->t_root, r, sizeof r) != 0 ||
            !claim_feasible(t, nb))
            continue;
        if (best == NULL || nb->t_hops < best->t_hops ||
            (nb->t_hops == best->t_hops && best->slot != t->parent &&
             (nb->slot == t->parent || memcmp(nb->pk, best->pk, FM_PK_LEN) < 0)))
            best = nb;
    }
    if (!same_root)
        t->silent_logged = false;
    if (best == NULL) {
        /* nothing feasible: detached from this root until its next epoch
         * reaches us; we say 255 hops so that no one hangs on to us */
        if (!same_root || t->parent >= 0 || t->hops != 255)
            t->changed = true;
        memcpy(t->root, r, sizeof r);
        t->parent = -1;
        t->hops = 255;
        return;
    }
    bool newer = !same_root || epoch_after(best->t_epoch, t->epoch);
    if (newer || best->slot != t->parent || best->t_hops + 1 != t->hops)
        t->changed = true;
    memcpy(t->root, r, sizeof r);
    t->epoch = best->t_epoch;
    t->hops = (uint8_t)(best->t_hops + 1);
    t->parent = best->slot;
    struct sync_tree_root *e = root_find(t, r);
    if (e && (!e->fd_epoch_set || epoch_after(t->epoch, e->fd_epoch))) {
        e->fd_epoch = t->epoch;
        e->fd = t->hops;
        e->fd_epoch_set = true;
    } else if (e && t->epoch == e->fd_epoch && t->hops < e->fd) {
        e->fd = t->hops;
    }
}

/* Our claim to nb. */
static void send_tree(struct fm_sync *s, struct sync_nb *nb)
{
    struct fm_wire_tree m = {.parent = nb->slot == s->tree.parent, .hops = s->tree.hops,
                             .epoch = s->tree.epoch};
    memcpy(m.root, s->tree.root, sizeof m.root);
    nb->t_sent_ms = sync_now(s);
    /* a failed send is dropped and counted: the next beat says it again */
    if (fm_tree_encode(&s->msg, &m) != FM_OK || sync_send(s, nb, &s->msg) != FM_OK)
        return;
}

/* Our claim to every version-5 neighbour, when it changed; at most once
 * per SYNC_TREE_GAP_MS (the tick sends what waited), so that a neighbour
 * changing its claims as fast as it can send does not make us send
 * degree times as many. */
static void advertise(struct fm_sync *s, uint64_t now)
{
    if (!s->tree.changed || now - s->tree.sent_ms < SYNC_TREE_GAP_MS)
        return;
    s->tree.changed = false;
    s->tree.sent_ms = now;
    for (size_t i = 0; i < s->nnb; i++) {
        struct sync_nb *nb = s->nbs[i];
        if (nb && nb->v5 && !nb->banned && sync_nb_live(s, nb, now))
            send_tree(s, nb);
    }
}

void sync_tree_init(struct fm_sync *s)
{
    s->tree.epoch = 0;
    s->tree.parent = -1;
    s->tree.rank = rank_of(s, s->pk);
    if (sync_tree_on(s))
        become_root(s, sync_now(s));
}

void sync_tree_hello(struct fm_sync *s, struct sync_nb *nb)
{
    if (sync_tree_on(s) && !nb->v5)
        send_tree(s, nb);
}

void sync_on_tree(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n)
{
    struct fm_wire_tree m;
    int rc = fm_tree_decode(&m, p, n);
    if (rc != FM_OK) {
        sync_nb_bad(s, nb, "malformed tree message", rc);
        return;
    }
    if (m.hops == 0 && memcmp(m.root, nb->pk, FM_TREE_ROOT_LEN) != 0) {
        sync_nb_bad(s, nb, "tree message: a root that is not its sender", FM_EDECODE);
        return;
    }
    uint64_t now = sync_now(s);
    if (nb->t_heard && memcmp(m.root, nb->t_root, FM_TREE_ROOT_LEN) == 0 &&
        epoch_after(nb->t_epoch, m.epoch))
        return; /* older than the claim we hold from it: overtaken on the way */
    bool was_v5 = nb->v5;
    nb->v5 = true;
    nb->t_heard = true;
    nb->t_child = m.parent;
    nb->t_hops = m.hops;
    nb->t_epoch = m.epoch;
    memcpy(nb->t_root, m.root, FM_TREE_ROOT_LEN);
    if (memcmp(m.root, s->pk, FM_TREE_ROOT_LEN) != 0 && m.hops != 255)
        root_note(s, m.root, m.epoch, now);
    tree_select(s, now);
    /* a neighbour that does not know us yet gets our claim; so does our
     * parent for every claim it sends: the answer tells it we have its
     * epoch (else it sends again, sync_tree_tick) */
    if (!s->tree.changed && (!was_v5 || nb->slot == s->tree.parent))
        send_tree(s, nb);
    advertise(s, now);
}

void sync_tree_link_down(struct fm_sync *s, struct sync_nb *nb)
{
    nb->v5 = nb->t_heard = nb->t_child = false;
    if (sync_tree_on(s) && nb->slot == s->tree.parent) {
        uint64_t now = sync_now(s);
        tree_select(s, now);
        advertise(s, now);
    }
}

void sync_tree_tick(struct fm_sync *s, uint64_t now)
{
    if (!sync_tree_on(s))
        return;
    struct sync_tree *t = &s->tree;
    ranks_refresh(s, now);
    if (t->parent < 0 && t->hops == 0) { /* we are the root */
        if (now >= t->next_beat_ms) {
            uint32_t e = wall_epoch(s);
            t->epoch = epoch_after(e, t->epoch) ? e : t->epoch + 1;
            t->next_beat_ms = now + SYNC_TREE_BEAT_MS;
            t->changed = true;
        }
    } else if (!root_alive(t, t->root, now) && !t->silent_logged) {
        /* the root stopped saying it is there, or we were cut off it:
         * its claims are no longer taken (tree_select) */
        t->silent_logged = true;
        fm_log(FM_LOG_INFO, COMPONENT, "tree root %02x%02x%02x%02x… silent for %u s: "
               "choosing another", t->root[0], t->root[1], t->root[2], t->root[3],
               (unsigned)SYNC_TREE_DEAD_BEATS * SYNC_TREE_BEAT_MS / 1000);
    }
    tree_select(s, now); /* a parent gone silent, a silent root */
    /* once a beat at least, even when our epoch did not advance: a lazy
     * neighbour that lost our last claim still hears a fresh one */
    if (now - t->sent_ms >= SYNC_TREE_BEAT_MS)
        t->changed = true;
    advertise(s, now);
    /* a child that has not answered our newest epoch: it was lost on the
     * way, there or back. Sending it again at once, hop by hop, keeps a
     * lost message from costing the whole subtree below that child a beat
     * (on a 100-node line losing 5 %, an epoch reached the far end whole
     * once in 13 beats, and the root was given up there for silence) */
    for (size_t i = 0; i < s->nnb; i++) {
        struct sync_nb *nb = s->nbs[i];
        if (nb && nb->v5 && nb->t_child && !nb->banned && epoch_after(t->epoch, nb->t_epoch) &&
            now - nb->t_sent_ms >= SYNC_TREE_RESEND_MS && sync_nb_live(s, nb, now))
            send_tree(s, nb);
    }
}

bool sync_tree_link(const struct fm_sync *s, const struct sync_nb *nb)
{
    return sync_tree_on(s) && nb->v5;
}

uint8_t sync_nb_push(const struct fm_sync *s, const struct sync_nb *nb)
{
    if (!sync_tree_link(s, nb))
        return nb->eager ? FM_PUSH_EAGER : FM_PUSH_LAZY;
    return nb->slot == s->tree.parent ? FM_PUSH_PARENT
           : nb->t_child              ? FM_PUSH_CHILD
                                      : FM_PUSH_LAZY;
}

bool sync_nb_eager(const struct fm_sync *s, const struct sync_nb *nb)
{
    return sync_nb_push(s, nb) != FM_PUSH_LAZY;
}

void fm_sync_tree(const struct fm_sync *s, struct fm_sync_tree_info *out)
{
    memset(out, 0, sizeof *out);
    out->on = sync_tree_on(s);
    memcpy(out->root, s->tree.root, FM_TREE_ROOT_LEN);
    out->root_rank = s->tree.rank; /* ours, when we are the root */
    for (int i = 0; i < SYNC_TREE_ROOTS && s->tree.hops != 0; i++)
        if (s->tree.roots[i].since_ms &&
            memcmp(s->tree.roots[i].root, s->tree.root, FM_TREE_ROOT_LEN) == 0)
            out->root_rank = s->tree.roots[i].rank;
    out->epoch = s->tree.epoch;
    out->hops = s->tree.hops;
    if (s->tree.parent >= 0 && s->nbs[s->tree.parent])
        memcpy(out->parent, s->nbs[s->tree.parent]->pk, FM_PK_LEN);
    out->has_parent = s->tree.parent >= 0;
    for (size_t i = 0; i < s->nnb; i++)
        if (s->nbs[i] && s->nbs[i]->v5 && s->nbs[i]->t_child)
            out->children++;
}
