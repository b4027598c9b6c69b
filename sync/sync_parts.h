/*
 * sync_parts.h — the sync engine's parts below gossip, file by file:
 * connections per key and the socket monitor, knock counting, pulls,
 * the engine's I/O apart from its transport, the ZeroMQ transport, the
 * per-neighbour rate limit and queues, soft-state gossip, ZAP and the
 * control socket. Private to sync/; included by sync_int.h after the
 * structures it names.
 */
#ifndef FM_SYNC_PARTS_H
#define FM_SYNC_PARTS_H

/* ---- conns.c: connections per key (no ZeroMQ here) ---- */
int sync_conns_init(struct fm_sync *s) FM_MUST_USE;
void sync_conns_release(struct fm_sync *s);
/* A connection was accepted: false when every slot is taken (cfg.max_conns:
 * the caller closes it). */
bool sync_conn_opened(struct fm_sync *s, int fd, uint64_t now);
/* A connection closed: the slot of its key, if it had one, is free. */
void sync_conn_closed(struct fm_sync *s, int fd);
/* The record of connection fd, NULL if none. */
struct sync_conn *sync_conn_get(struct fm_sync *s, int fd);
/* Every connection closed (the ROUTER was closed). */
void sync_conns_reset(struct fm_sync *s);
/* ZAP admitted key pk: true if it may have one more connection (noted as
 * pending until it speaks), false when it is at cfg.max_conns_per_key
 * (counted in key_conns_refused, logged once per key per SYNC_CONN_LOG_MS). */
bool sync_conn_admit(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], uint64_t now);
/* A message with key pk arrived on connection fd: false if fd is not
 * known (its accept event not read yet). */
bool sync_conn_spoke(struct fm_sync *s, int fd, const uint8_t pk[FM_PK_LEN], uint64_t now);
/* Forgets admissions older than SYNC_CONN_SILENT_MS, and puts into fds (at
 * most cap) the connections that stayed silent that long (each once): the
 * caller closes them. Returns how many. */
size_t sync_conn_expire(struct fm_sync *s, uint64_t now, int *fds, size_t cap);
/* Open connections of key pk (spoken or pending) and its refusals. */
void sync_conn_of(const struct fm_sync *s, const uint8_t pk[FM_PK_LEN], uint32_t *open,
                  uint64_t *refused);

/* ---- conns_mon.c: the ROUTER's socket monitor ---- */
/* Starts monitoring s->router (after each bind); best effort. */
void sync_conns_mon_open(struct fm_sync *s);
void sync_conns_mon_close(struct fm_sync *s);
/* Takes the accept/close events waiting (never blocks), then closes the
 * connections sync_conn_expire gives up on. */
void sync_conns_mon_drain(struct fm_sync *s);

/* ---- knock.c ---- */
/* The ZAP handler refused key (a node key or a stranger's Curve key) once
 * more: true when this refusal should be logged (the 1st, 2nd, 4th ...
 * of that key); *count = its refusals so far. */
bool sync_knock_log_due(struct fm_sync *s, const uint8_t key[FM_PK_LEN], uint64_t now,
                        uint64_t *count);

/* ---- pull.c ---- */
/* nb claims to hold author i up to seq: pull it from after_ms on (graft:
 * the claim came lazily, so the pull asks nb to push eagerly again). */
void sync_want_raise(struct fm_sync *s, struct sync_nb *nb, uint32_t i, uint64_t seq,
                     uint64_t after_ms, bool graft);
/* Sends the PULLs that free credits and due wants allow. */
void sync_pull_schedule(struct fm_sync *s, uint64_t now);
/* At s->pull_wake_ms: pulls what is due and sets the next wake. */
void sync_pull_wake(struct fm_sync *s, uint64_t now);
/* Frees a request's credit and its authors' pull slots. */
void sync_req_release(struct fm_sync *s, struct sync_nb *nb, struct sync_req *rq);
/* nb's op at head+1 of author i does not chain onto ours: fetch its op at
 * our head (at most once per SYNC_PROBE_INTERVAL_MS per author). */
void sync_fork_probe(struct fm_sync *s, struct sync_nb *nb, uint32_t i, uint64_t now);
/* The same probe without its log line; whether it was sent. */
bool sync_fork_probe_quiet(struct fm_sync *s, struct sync_nb *nb, uint32_t i, uint64_t now);
/* After ingest: op d of author i (d->seq <= our head) came from nb in a
 * reply. If it answers our probe and is the lowest op asked and differs
 * from ours with another prev, the fork's root is lower: ask nb for the
 * SYNC_PROBE_SPAN ops below it. If it shares our op's prev (the root) and
 * ours won, push ours to nb (it holds the losing branch). */
void sync_fork_probe_reply(struct fm_sync *s, struct sync_nb *nb, uint32_t i,
                           const struct fm_op *d);
/* Priority class (0 critical .. 2 bulk) of op seq of author pk; 1 when the
 * store has no opinion. Uses s->tmp. */
int sync_op_priority(struct fm_sync *s, const uint8_t *pk, uint64_t seq);
void sync_on_pull(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_pull *p);
/* An OPS message: a push is taken at once, a reply settled and held. */
void sync_on_ops(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_ops *o);
/* Ingests the pull replies held back by sync_on_ops; called once the
 * sockets have been read (and before anything that must see them). */
void sync_pend_flush(struct fm_sync *s);

/* ---- io.c: the engine apart from its transport ---- */
/* Fills s (calloc'd) from cfg, store and io: defaults, buffers, authors,
 * the heads at start. The transport opens its sockets afterwards. */
int sync_engine_init(struct fm_sync *s, const struct fm_sync_config *cfg,
                     const struct fm_sync_store *store, const struct fm_sync_io *io) FM_MUST_USE;
/* Frees what sync_engine_init made (the transport closed its sockets). */
void sync_engine_release(struct fm_sync *s);
/* After messages were read: held replies, moved heads, queues, timers
 * when due. Returns as fm_sync_run. */
int sync_engine_service(struct fm_sync *s) FM_MUST_USE;
/* Before waiting for messages: sends what the rate limits allow, and
 * returns the ms until the engine next needs sync_engine_service (at most
 * timeout_ms when that is >= 0). */
long sync_engine_wait(struct fm_sync *s, long timeout_ms);
/* The system clocks and randomness (fm_sync_new's table). */
extern const struct fm_sync_io sync_io_system;

/* ---- transport.c ---- */
/* Sends s->msg-style bytes to nb on its best channel. 0, or FM_ENET when
 * the queue is full or the peer is gone (counted in sends_dropped). */
int sync_send(struct fm_sync *s, struct sync_nb *nb, const struct fm_buf *m) FM_MUST_USE;
void sync_dealer_close(struct fm_sync *s, struct sync_nb *nb);
/* A fresh DEALER for a configured peer that stayed silent. */
void sync_dealer_reopen(struct fm_sync *s, struct sync_nb *nb);

/* ---- rate.c: per-neighbour rate limit and priority queue ---- */
/* Class of an encoded message (control, op priority + 1, soft). */
int sync_msg_class(struct fm_sync *s, const uint8_t *p, size_t n);
/* Bytes a reply or push to nb may carry (dflt when unlimited). */
size_t sync_nb_budget(const struct sync_nb *nb, size_t dflt);
/* Sends what the token buckets allow; returns ms until it can send more
 * (-1 when nothing waits). */
long sync_rate_pump(struct fm_sync *s);
void sync_queue_clear(struct sync_nb *nb);
/* Sends on nb's best channel now (no queue). */
int sync_send_now(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n) FM_MUST_USE;

/* ---- soft.c: soft-state gossip ---- */
void sync_soft_tick(struct fm_sync *s, uint64_t now);
void sync_on_soft(struct fm_sync *s, struct sync_nb *nb, const struct fm_wire_soft *m);
/* Drops a neighbour whose key was revoked or expired (transport.c). */
void sync_nb_ban(struct fm_sync *s, struct sync_nb *nb, int why);
void sync_ban_check(struct fm_sync *s, uint64_t now);
void sync_router_rebind(struct fm_sync *s);

/* ---- tree.c: the spanning tree of eager links (wire version 5) ---- */
bool sync_tree_on(const struct fm_sync *s);
void sync_tree_init(struct fm_sync *s);
/* Beside each hello: our claim, to a neighbour not known to speak 5. */
void sync_tree_hello(struct fm_sync *s, struct sync_nb *nb);
void sync_on_tree(struct fm_sync *s, struct sync_nb *nb, const uint8_t *p, size_t n);
void sync_tree_link_down(struct fm_sync *s, struct sync_nb *nb);
void sync_tree_tick(struct fm_sync *s, uint64_t now);
/* Whether the tree, not Plumtree's prunes and grafts, decides nb's link:
 * both ends speak version 5. */
bool sync_tree_link(const struct fm_sync *s, const struct sync_nb *nb);
/* Whether ops go to nb eagerly: a tree link for a version-5 neighbour,
 * Plumtree's state (nb->eager) for an older one. */
bool sync_nb_eager(const struct fm_sync *s, const struct sync_nb *nb);
/* How new ops go to nb (enum fm_sync_push): why sync_nb_eager says what it says. */
uint8_t sync_nb_push(const struct fm_sync *s, const struct sync_nb *nb);

/* ---- zap.c ---- */
int sync_zap_bind(struct fm_sync *s) FM_MUST_USE;
void sync_zap_handle(struct fm_sync *s);

/* ---- ctl.c ---- */
void sync_ctl_handle(struct fm_sync *s);

void sync_hex(const uint8_t *p, size_t n, char *out, size_t cap);
int sync_unhex(const char *hex, uint8_t *out, size_t n) FM_MUST_USE;

#endif
