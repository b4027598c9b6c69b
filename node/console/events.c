/*
 * events.c — /api/events, Server-Sent Events of everything applied on
 * this node.
 *
 * How ops are observed: a thread of the console looks at the store's
 * version vector (one head per author) every EVENTS_POLL_MS under the
 * node lock. When an author's head moved, the ops between the old and
 * the new head are copied out and, after the lock is released, turned
 * into events; more than EVENTS_TICK_MAX in one tick (a sync burst) are
 * not read: one reset event tells the pages to reload. This sees every
 * way an op arrives — written through the console, by the CLI in its own
 * process, by gossip or by a bundle import — without a hook in ingest,
 * so ingest is not slowed; the cost when nothing changes is one short
 * read transaction per tick. Soft state (positions, presence) is seen the
 * same way through its local sequence. Events go into a ring of
 * CONSOLE_EVENTS_RING; ids start at this daemon's start time in ms * 1000,
 * so they grow across restarts and a Last-Event-ID the ring no longer
 * holds (or from before a restart) gets `event: reset`.
 *
 * Streams: libmicrohttpd asks a stream's reader for bytes; with nothing
 * to send the reader suspends its connection (no thread waits on it) and
 * the poller resumes every suspended stream when events arrive or a
 * keep-alive comment is due.
 */
#include "console_int.h"
#include "../model/payload_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS_POLL_MS 40
#define EVENTS_TICK_MAX 256   /* more new ops than this in one tick: one reset event */
#define SOFT_EVENTS_MAX 64    /* soft records per tick told one by one; more: one summary */
#define EVENTS_RESET_GAP_MS 2000 /* at most one burst reset per this */

struct stream {
    struct fm_console *c;
    struct MHD_Connection *conn;
    uint64_t last;            /* last event id sent */
    uint64_t next_keepalive;  /* monotonic ms */
    bool reset_pending;
    bool suspended;
    struct stream *next;      /* in the suspended list */
    /* the chunk being sent, at byte offset `base` of the stream:
     * libmicrohttpd may ask for the same offset again (after a resume),
     * so bytes are served by offset, not consumed */
    char pending[CONSOLE_EVENT_MAX + 128];
    size_t pending_len;
    uint64_t base;
};


/* ---- the ring (ev->lock held) ---- */

static void ring_push(struct console_events *ev, enum console_event_kind kind, const char *data)
{
    struct console_event *e = &ev->ring[ev->next_id % CONSOLE_EVENTS_RING];
    e->id = ev->next_id++;
    e->kind = kind;
    fm_strlcpy(e->data, data, sizeof e->data);
}

static const struct console_event *ring_after(struct console_events *ev, uint64_t last)
{
    if (last + 1 >= ev->next_id)
        return NULL;
    uint64_t oldest = ev->next_id > CONSOLE_EVENTS_RING ? ev->next_id - CONSOLE_EVENTS_RING : 0;
    uint64_t want = last + 1 < oldest ? oldest : last + 1;
    if (want < ev->first_id)
        want = ev->first_id;
    return &ev->ring[want % CONSOLE_EVENTS_RING];
}

/* ---- ops to events ---- */

static void ref_id(const struct payload_ref *r, char out[FM_ID_MAX])
{
    char tag[FM_KEY_TAG_LEN + 1];
    fm_key_tag(r->author, tag);
    snprintf(out, FM_ID_MAX, "%s-%llu", tag, (unsigned long long)r->seq);
}

static void time_text(uint64_t hlc, char out[40])
{
    uint64_t ms = hlc >> 16;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char date[24];
    if (gmtime_r(&secs, &tm) == NULL) {
        out[0] = '\0';
        return;
    }
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%03uZ", date, (unsigned)(ms % 1000));
}

/* The ids an op touches: incident, ticket, unit (each "" if none). */
static void op_ids(const struct fm_op *op, const struct payload *p, char inc[FM_ID_MAX],
                   char tk[FM_ID_MAX], char unit[FM_ID_MAX])
{
    struct payload_ref self = { .seq = op->seq };
    memcpy(self.author, op->author, FM_PK_LEN);
    inc[0] = tk[0] = unit[0] = '\0';
    switch (op->kind) {
    case OP_INC_REPORT:
        ref_id(&self, inc);
        break;
    case OP_INC_UPDATE: case OP_INC_NOTE: case OP_INC_STATUS: case OP_INC_FEEDBACK:
    case OP_INC_ALARM: case OP_INC_MERGE:
    case OP_TICKET_ESCALATE: case OP_MAT_REQUEST:
        ref_id(&p->ref, inc);
        break;
    case OP_UNIT_REGISTER:
        ref_id(&self, unit);
        break;
    case OP_UNIT_STATUS: case OP_UNIT_POSITION:
        ref_id(&p->ref, unit);
        break;
    case OP_TICKET_DISPATCH:
        ref_id(&self, tk);
        ref_id(&p->ref, inc);
        ref_id(&p->ref2, unit);
        break;
    case OP_TICKET_STEP:
        ref_id(&p->ref, tk);
        ref_id(&p->ref2, inc);
        ref_id(&p->ref3, unit);
        break;
    default:
        break;
    }
}

static const char *step_name(uint8_t code)
{
    static const char *const names[] = { "", "ack", "enroute", "arrive", "clear", "cancel",
                                         "reassign" };
    return code <= TS__MAX ? names[code] : "";
}

/* One stored op as an event's JSON into out. */
static void op_event(struct fm_console *c, const struct fm_op *op, char *out, size_t cap)
{
    struct payload *p = malloc(sizeof *p);
    char inc[FM_ID_MAX] = "", tk[FM_ID_MAX] = "", unit[FM_ID_MAX] = "", at[40];
    char author[FM_KEY_TEXT_LEN];
    bool ok = p != NULL && payload_decode(p, op->kind, op->payload, op->payload_len) == FM_OK;
    if (ok)
        op_ids(op, p, inc, tk, unit);
    fm_key_encode(op->author, author);
    time_text(op->hlc, at);
    json_t *j = json_pack("{s:s, s:o, s:o, s:o, s:s, s:I, s:s}", "kind",
                          payload_kind_name(op->kind), "incident",
                          inc[0] ? json_string(inc) : json_null(), "ticket",
                          tk[0] ? json_string(tk) : json_null(), "unit",
                          unit[0] ? json_string(unit) : json_null(), "author", author, "seq",
                          (json_int_t)op->seq, "at", at);
    if (j != NULL && ok && op->kind == OP_TICKET_STEP)
        json_object_set_new(j, "stage", json_string(step_name(p->code)));
    if (j != NULL && ok && op->kind == OP_INC_STATUS)
        json_object_set_new(j, "stage", json_string(fm_stage_name(p->stage)));
    /* incident_code, ticket_code from the table as the last reply left it:
     * a rebuild here (~200 ms at 100,000 incidents) would delay every event */
    codes_fill_cached(c, j);
    char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    fm_strlcpy(out, text != NULL && strlen(text) < cap ? text : "{\"kind\":\"op\"}", cap);
    free(text);
    json_decref(j);
    free(p);
}

/* ---- the poller ---- */

static uint64_t head_seq(const struct fm_head *h, size_t n, const uint8_t author[FM_PK_LEN])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(h[i].author, author, FM_PK_LEN) == 0)
            return h[i].seq;
    return 0;
}

#define BATCH_MAX (EVENTS_TICK_MAX + SOFT_EVENTS_MAX)

/* Reads the new ops of every author whose head moved (node lock held)
 * into ops; false when there are more than EVENTS_TICK_MAX, which are
 * then not read (a burst: a sync after a partition, a bundle). */
static bool read_new_ops(struct fm_console *c, const struct fm_head *heads, size_t nheads,
                         struct fm_buf *ops, size_t *nops)
{
    struct console_events *ev = &c->ev;
    uint64_t total = 0;
    for (size_t i = 0; i < nheads; i++) {
        uint64_t old = head_seq(ev->heads, ev->nheads, heads[i].author);
        total += heads[i].seq > old ? heads[i].seq - old : 0;
    }
    if (total > EVENTS_TICK_MAX)
        return false;
    for (size_t i = 0; i < nheads; i++) {
        uint64_t old = head_seq(ev->heads, ev->nheads, heads[i].author);
        size_t count = 0;
        if (heads[i].seq > old &&
            fm_node_read_ops(c->node, heads[i].author, old + 1, (size_t)(heads[i].seq - old),
                             4u << 20, ops, &count) == FM_OK)
            *nops += count;
    }
    return true;
}

/* The ops read (u32 length + bytes each) as events into batch. */
static size_t ops_to_events(struct fm_console *c, const struct fm_buf *ops, size_t nops,
                            char (*batch)[CONSOLE_EVENT_MAX], size_t cap)
{
    struct fm_cur cur;
    size_t n = 0;
    fm_cur_init(&cur, ops->data, ops->len);
    if (nops > 0)
        node_lock(c); /* for the codes table only */
    for (size_t i = 0; i < nops && n < cap; i++) {
        uint32_t len;
        const uint8_t *bytes;
        struct fm_op op;
        if (fm_cur_u32(&cur, &len) != FM_OK || fm_cur_bytes(&cur, len, &bytes) != FM_OK)
            break;
        if (fm_op_decode(&op, bytes, len) == FM_OK)
            op_event(c, &op, batch[n++], CONSOLE_EVENT_MAX);
    }
    if (nops > 0)
        node_unlock(c);
    return n;
}


/* The soft records read (u16 length + record each) as events. */
static size_t soft_to_events(const struct fm_buf *soft, size_t nsoft,
                             char (*batch)[CONSOLE_EVENT_MAX], size_t cap)
{
    struct fm_cur cur;
    size_t n = 0;
    if (nsoft > SOFT_EVENTS_MAX || nsoft > cap) {
        if (cap > 0)
            snprintf(batch[n++], CONSOLE_EVENT_MAX, "{\"kind\":\"soft\",\"records\":%zu}",
                     nsoft);
        return n;
    }
    fm_cur_init(&cur, soft->data, soft->len);
    for (size_t i = 0; i < nsoft; i++) {
        uint16_t len;
        const uint8_t *rec;
        struct fm_soft_info si;
        char author[FM_KEY_TEXT_LEN], at[40];
        if (fm_cur_u16(&cur, &len) != FM_OK || fm_cur_bytes(&cur, len, &rec) != FM_OK)
            break;
        if (fm_soft_info(rec, len, &si) != FM_OK)
            continue;
        fm_key_encode(si.author, author);
        time_text(si.hlc, at);
        json_t *j = json_pack("{s:s, s:o, s:s, s:s}", "kind", si.kind, "unit",
                              si.unit[0] ? json_string(si.unit) : json_null(), "author", author,
                              "at", at);
        if (j != NULL && si.unit[0]) {
            json_object_set_new(j, "lat", json_real(si.lat_e7 / 1e7));
            json_object_set_new(j, "lon", json_real(si.lon_e7 / 1e7));
        }
        char *text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        if (text != NULL && strlen(text) < CONSOLE_EVENT_MAX)
            fm_strlcpy(batch[n++], text, CONSOLE_EVENT_MAX);
        free(text);
        json_decref(j);
    }
    return n;
}

/* One look at the store; events into the ring; true if any. The node
 * lock is held only to copy heads and new ops out: events are made after. */
static bool poll_once(struct fm_console *c, char (*batch)[CONSOLE_EVENT_MAX], bool *batch_soft)
{
    struct console_events *ev = &c->ev;
    struct fm_head *heads = NULL;
    size_t nheads = 0, nbatch = 0, nops = 0, nsoft = 0;
    struct fm_buf soft, ops;
    uint64_t soft_last = ev->soft_seq;
    bool complete = true;
    node_lock(c);
    uint64_t mark = fm_node_change_mark(c->node);
    if (ev->primed && mark != 0 && mark == ev->mark) { /* nothing committed since */
        node_unlock(c);
        return false;
    }
    fm_buf_init(&soft, 1u << 20);
    fm_buf_init(&ops, 8u << 20);
    int rc = fm_node_heads(c->node, &heads, &nheads);
    if (rc == FM_OK && ev->primed)
        complete = read_new_ops(c, heads, nheads, &ops, &nops);
    if (rc == FM_OK &&
        fm_node_soft_read(c->node, ev->soft_seq, 256u << 10, &soft, &nsoft, &soft_last) != FM_OK)
        nsoft = 0;
    node_unlock(c);
    if (rc != FM_OK) {
        fm_buf_release(&ops);
        fm_buf_release(&soft);
        return false;
    }
    nbatch = ops_to_events(c, &ops, nops, batch, BATCH_MAX);
    fm_buf_release(&ops);
    for (size_t i = 0; i < nbatch; i++)
        batch_soft[i] = false;
    if (ev->primed && nsoft > 0) {
        size_t ns = soft_to_events(&soft, nsoft, batch + nbatch, BATCH_MAX - nbatch);
        for (size_t i = nbatch; i < nbatch + ns; i++)
            batch_soft[i] = true;
        nbatch += ns;
    }
    fm_buf_release(&soft);
    pthread_mutex_lock(&ev->lock);
    for (size_t i = 0; i < nbatch; i++)
        ring_push(ev, batch_soft[i] ? EV_SOFT : EV_OP, batch[i]);
    if (!complete) /* more ops than events: the pages must reload (reset_due) */
        ev->reset_owed = true;
    free(ev->heads);
    ev->heads = heads;
    ev->nheads = nheads;
    ev->soft_seq = soft_last;
    ev->primed = true;
    ev->mark = mark;
    pthread_mutex_unlock(&ev->lock);
    return nbatch > 0;
}

/* Resumes every suspended stream (ev->lock held). */
static void wake_streams(struct console_events *ev)
{
    for (struct stream *s = ev->suspended; s != NULL; s = s->next) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
    ev->suspended = NULL;
}

/* A reset owed by a burst goes out at most once per EVENTS_RESET_GAP_MS:
 * every page reloads on it, and a cold sync would otherwise ask them to
 * 25 times a second. True when one went out. */
static bool reset_due(struct console_events *ev, uint64_t now)
{
    bool sent = false;
    pthread_mutex_lock(&ev->lock);
    if (ev->reset_owed && now >= ev->reset_after) {
        ring_push(ev, EV_RESET, "{\"kind\":\"reset\",\"why\":\"many ops at once\"}");
        ev->reset_owed = false;
        ev->reset_after = now + EVENTS_RESET_GAP_MS;
        sent = true;
    }
    pthread_mutex_unlock(&ev->lock);
    return sent;
}

static void *poll_main(void *arg)
{
    struct fm_console *c = arg;
    struct console_events *ev = &c->ev;
    char (*batch)[CONSOLE_EVENT_MAX] = malloc(BATCH_MAX * sizeof *batch);
    bool *batch_soft = malloc(BATCH_MAX * sizeof *batch_soft);
    uint64_t next_wake = fm_mono_ms() + 5000;
    if (batch == NULL || batch_soft == NULL) {
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "events: out of memory; no event streams");
        free(batch), free(batch_soft);
        return NULL;
    }
    while (!c->stopping) {
        bool any = poll_once(c, batch, batch_soft);
        uint64_t now = fm_mono_ms();
        any = reset_due(ev, now) || any;
        pthread_mutex_lock(&ev->lock);
        if (any || now >= next_wake) { /* new events, or a keep-alive may be due */
            wake_streams(ev);
            next_wake = now + 5000; /* keep-alives are due every 15 s */
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += EVENTS_POLL_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (!c->stopping)
            pthread_cond_timedwait(&ev->cond, &ev->lock, &ts);
        pthread_mutex_unlock(&ev->lock);
    }
    pthread_mutex_lock(&ev->lock);
    wake_streams(ev);
    pthread_mutex_unlock(&ev->lock);
    free(batch), free(batch_soft);
    return NULL;
}

int events_init(struct console_events *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->ring = calloc(CONSOLE_EVENTS_RING, sizeof *ev->ring);
    if (ev->ring == NULL)
        return FM_ENOMEM;
    ev->first_id = ev->next_id = fm_now_ms() * 1000u;
    if (pthread_mutex_init(&ev->lock, NULL) != 0 || pthread_cond_init(&ev->cond, NULL) != 0)
        return FM_ENOMEM;
    return FM_OK;
}

int events_start(struct fm_console *c)
{
    if (pthread_create(&c->ev.poller, NULL, poll_main, c) != 0)
        return FM_ENOMEM;
    c->ev.poller_started = true;
    return FM_OK;
}

void events_stop(struct fm_console *c)
{
    pthread_mutex_lock(&c->ev.lock);
    c->stopping = true;
    pthread_cond_broadcast(&c->ev.cond);
    pthread_mutex_unlock(&c->ev.lock);
    if (c->ev.poller_started)
        pthread_join(c->ev.poller, NULL);
    c->ev.poller_started = false;
}

void events_destroy(struct console_events *ev)
{
    free(ev->ring);
    free(ev->heads);
    ev->ring = NULL;
    ev->heads = NULL;
    pthread_mutex_destroy(&ev->lock);
    pthread_cond_destroy(&ev->cond);
}

/* ---- one stream ---- */

/* Fills s->pending with the next event or keep-alive (ev->lock held);
 * false when there is nothing to send now. */
static bool next_chunk(struct stream *s, struct console_events *ev)
{
    if (s->reset_pending) {
        s->reset_pending = false;
        s->pending_len = (size_t)snprintf(s->pending, sizeof s->pending,
                                          "retry: 2000\nevent: reset\ndata: {}\n\n");
        return true;
    }
    uint64_t oldest = ev->next_id > CONSOLE_EVENTS_RING ? ev->next_id - CONSOLE_EVENTS_RING : 0;
    if (s->last + 1 < oldest) { /* this stream fell behind the ring: start over */
        s->last = ev->next_id - 1;
        s->pending_len = (size_t)snprintf(s->pending, sizeof s->pending,
                                          "event: reset\ndata: {}\n\n");
        return true;
    }
    const struct console_event *e = ring_after(ev, s->last);
    if (e != NULL) {
        s->last = e->id;
        s->pending_len = (size_t)snprintf(s->pending, sizeof s->pending,
                                          "id: %llu\nevent: %s\ndata: %s\n\n",
                                          (unsigned long long)e->id,
                                          e->kind == EV_SOFT ? "soft"
                                          : e->kind == EV_RESET ? "reset" : "op",
                                          e->data);
        return true;
    }
    uint64_t now = fm_mono_ms();
    if (now >= s->next_keepalive) {
        s->next_keepalive = now + CONSOLE_KEEPALIVE_MS;
        s->pending_len = (size_t)snprintf(s->pending, sizeof s->pending, ": keep-alive\n\n");
        return true;
    }
    return false;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct stream *s = cls;
    struct console_events *ev = &s->c->ev;
    (void)pos;
    pthread_mutex_lock(&ev->lock);
    if (s->c->stopping || pos < s->base) {
        pthread_mutex_unlock(&ev->lock);
        return pos < s->base ? MHD_CONTENT_READER_END_WITH_ERROR
                             : MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (pos >= s->base + s->pending_len) {
        s->base = pos;
        s->pending_len = 0;
        if (!next_chunk(s, ev)) {
            s->suspended = true;
            s->next = ev->suspended;
            ev->suspended = s;
            MHD_suspend_connection(s->conn);
            pthread_mutex_unlock(&ev->lock);
            return 0;
        }
    }
    size_t off = (size_t)(pos - s->base);
    size_t n = s->pending_len - off;
    if (n > max)
        n = max;
    memcpy(buf, s->pending + off, n);
    pthread_mutex_unlock(&ev->lock);
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    struct console_events *ev = &s->c->ev;
    pthread_mutex_lock(&ev->lock);
    for (struct stream **pp = &ev->suspended; *pp != NULL; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    ev->streams--;
    pthread_mutex_unlock(&ev->lock);
    free(s);
}

int route_events(struct call *k, struct MHD_Response **resp)
{
    struct console_events *ev = &k->c->ev;
    struct stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return reply_error(k, 500, "internal", "out of memory");
    s->c = k->c;
    s->conn = k->conn;
    const char *last = MHD_lookup_connection_value(k->conn, MHD_HEADER_KIND, "Last-Event-ID");
    uint64_t want = 0;
    pthread_mutex_lock(&ev->lock);
    uint64_t oldest = ev->next_id > CONSOLE_EVENTS_RING ? ev->next_id - CONSOLE_EVENTS_RING : 0;
    if (oldest < ev->first_id)
        oldest = ev->first_id;
    if (last == NULL || fm_parse_u64(last, &want) != FM_OK) {
        s->last = ev->next_id - 1; /* from now on */
        s->reset_pending = last != NULL;
    } else if (want + 1 < oldest || want >= ev->next_id) {
        s->last = ev->next_id - 1; /* a gap we cannot fill: the page reloads */
        s->reset_pending = true;
    } else {
        s->last = want;
    }
    ev->streams++;
    pthread_mutex_unlock(&ev->lock);
    s->next_keepalive = fm_mono_ms() + CONSOLE_KEEPALIVE_MS;
    /* an opening comment, so the client sees the stream is up */
    s->pending_len = (size_t)snprintf(s->pending, sizeof s->pending, ": fieldmesh events\n\n");
    *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, stream_read, s,
                                              stream_free);
    if (*resp == NULL) {
        stream_free(s);
        return reply_error(k, 500, "internal", "out of memory");
    }
    MHD_add_response_header(*resp, "Content-Type", "text/event-stream; charset=utf-8");
    MHD_add_response_header(*resp, "Cache-Control", "no-store");
    MHD_add_response_header(*resp, "X-Accel-Buffering", "no");
    return 0;
}
