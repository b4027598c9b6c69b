/*
 * io.c — the engine apart from its transport: setting it up, servicing
 * its timers, and the entry points for a transport other than ZeroMQ.
 *
 * The protocol files (gossip.c, pull.c, rate.c ...) read time only through
 * sync_now / sync_wall and jitter only through s->io.random, and hand every
 * message to sync_send_now. So the same engine runs over ZeroMQ with the
 * system clocks (transport.c fills s->io with sync_io_system) or, through
 * fm_sync_new_io, over any transport and clock the caller supplies: the
 * network simulator (tests/sim) drives thousands of engines in one process
 * on a simulated clock, and a run is a function of its seed.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

static uint64_t sys_mono(void *ctx)
{
    (void)ctx;
    return fm_mono_ms();
}

static uint64_t sys_wall(void *ctx)
{
    (void)ctx;
    return fm_wall_ms();
}

static void sys_random(void *ctx, void *out, size_t n)
{
    (void)ctx;
    fm_random_bytes(out, n);
}

const struct fm_sync_io sync_io_system = {
    .ctx = NULL, .mono_ms = sys_mono, .wall_ms = sys_wall, .random = sys_random, .send = NULL};

static uint32_t dflt(uint32_t v, uint32_t d) { return v ? v : d; }

int sync_engine_init(struct fm_sync *s, const struct fm_sync_config *cfg,
                     const struct fm_sync_store *store, const struct fm_sync_io *io)
{
    int rc;
    if (!cfg || !cfg->id || !store || !store->heads || !store->read_ops || !store->ingest ||
        !io || !io->mono_ms || !io->wall_ms || !io->random)
        return FM_EINVAL;
    s->store = *store;
    s->io = *io;
    s->cfg = *cfg;
    s->cfg.listen = s->cfg.control = NULL; /* not kept: the caller's strings */
    s->cfg.push_interval_ms = dflt(cfg->push_interval_ms, 50);
    s->cfg.anti_entropy_ms = dflt(cfg->anti_entropy_ms, 2000);
    s->cfg.heartbeat_ms = dflt(cfg->heartbeat_ms, 1000);
    s->cfg.batch_ops = dflt(cfg->batch_ops, 512);
    if (s->cfg.batch_ops > FM_WIRE_BATCH_MAX)
        s->cfg.batch_ops = FM_WIRE_BATCH_MAX;
    memcpy(s->pk, cfg->id->pk, FM_PK_LEN);
    s->start_mono_ms = sync_now(s);
    s->next_ban_check_ms = s->start_mono_ms;
    fm_buf_init(&s->msg, FM_WIRE_MAX_MSG);
    fm_buf_init(&s->cops, FM_WIRE_MAX_MSG);
    fm_buf_init(&s->cops_in, FM_WIRE_MAX_MSG);
    fm_compact_init(&s->z);
    /* every batch the engine sends is read from its store, whose ingest
     * checked each prev link: the encoder need not hash the ops again */
    s->z.chained = true;
    fm_buf_init(&s->tmp, SYNC_REPLY_MAX_BYTES + FM_OP_MAX_LEN + 4);
    fm_buf_init(&s->entries, (size_t)SYNC_MAX_AUTHORS * FM_WIRE_ENTRY_LEN);
    fm_buf_init(&s->pend, SYNC_INGEST_MAX_BYTES);
    fm_buf_init(&s->pend_hash, (size_t)SYNC_INGEST_MAX_OPS * FM_HASH_LEN);
    s->pend_slot = -1;
    s->in_ops = malloc(SYNC_INGEST_MAX_OPS * sizeof(*s->in_ops));
    s->in_lens = malloc(SYNC_INGEST_MAX_OPS * sizeof(*s->in_lens));
    s->in_hash = malloc(SYNC_INGEST_MAX_OPS * sizeof(*s->in_hash));
    if (!s->in_ops || !s->in_lens || !s->in_hash) {
        rc = FM_ENOMEM;
        goto fail;
    }
    if ((rc = sync_authors_init(s)) != FM_OK || (rc = sync_conns_init(s)) != FM_OK)
        goto fail;
    if ((rc = sync_heads_refresh(s)) != FM_OK)
        goto fail;
    sync_tree_init(s);
    /* what is in the store at start is not news */
    for (size_t i = 0; i < s->nauthors; i++)
        s->authors[i].fresh = s->authors[i].changed = false;
    s->nfresh = s->nchanged = 0;
    s->next_tick_ms = sync_now(s);
    return FM_OK;
fail:
    sync_engine_release(s);
    return rc;
}

void sync_engine_release(struct fm_sync *s)
{
    sync_authors_release(s);
    sync_conns_release(s);
    fm_recon_set_release(&s->recon);
    free(s->probes);
    s->probes = NULL;
    fm_buf_release(&s->msg);
    fm_buf_release(&s->cops);
    fm_buf_release(&s->cops_in);
    fm_compact_release(&s->z);
    fm_buf_release(&s->tmp);
    fm_buf_release(&s->entries);
    fm_buf_release(&s->pend);
    fm_buf_release(&s->pend_hash);
    free(s->in_ops);
    free(s->in_lens);
    free(s->in_hash);
    s->in_ops = NULL;
    s->in_lens = NULL;
    s->in_hash = NULL;
}

int sync_engine_service(struct fm_sync *s)
{
    sync_pend_flush(s); /* pull replies read together: one ingest */
    uint64_t now = sync_now(s);
    if (s->refresh_due) {
        s->refresh_due = false;
        if (sync_heads_refresh(s) == FM_OK)
            sync_flush(s);
    }
    (void)sync_rate_pump(s);
    if (s->pull_wake_ms && now >= s->pull_wake_ms)
        sync_pull_wake(s, now); /* a lazy announcement's grace has ended */
    if (now >= s->next_tick_ms) {
        s->next_tick_ms = now + s->cfg.push_interval_ms;
        int rc = sync_tick(s, now);
        sync_clone_tick(s, now); /* a key on two live connections? */
        sync_router_rebind(s);
        return rc;
    }
    return FM_OK;
}

long sync_engine_wait(struct fm_sync *s, long timeout_ms)
{
    uint64_t now = sync_now(s);
    long wait = s->next_tick_ms > now ? (long)(s->next_tick_ms - now) : 0;
    if (s->pull_wake_ms && s->pull_wake_ms < s->next_tick_ms)
        wait = s->pull_wake_ms > now ? (long)(s->pull_wake_ms - now) : 0;
    if (timeout_ms >= 0 && timeout_ms < wait)
        wait = timeout_ms;
    long pump = sync_rate_pump(s); /* sends what the buckets allow now */
    if (pump >= 0 && pump < wait)
        wait = pump;
    if (s->refresh_due)
        wait = 0;
    return wait;
}

int fm_sync_new_io(struct fm_sync **out, const struct fm_sync_config *cfg,
                   const struct fm_sync_store *store, const struct fm_sync_io *io)
{
    struct fm_sync *s;
    int rc;
    *out = NULL;
    if (!io || !io->send)
        return FM_EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return FM_ENOMEM;
    if ((rc = sync_engine_init(s, cfg, store, io)) != FM_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return FM_OK;
}

int fm_sync_io_deliver(struct fm_sync *s, const uint8_t pk[FM_PK_LEN], const uint8_t *p,
                       size_t n)
{
    if (!s->io.send)
        return FM_EINVAL;
    struct sync_nb *nb = sync_nb_find(s, pk);
    if (!nb) {
        nb = sync_nb_new(s, pk);
        if (!nb)
            return FM_ETOOBIG;
        fm_key_encode(pk, nb->name);
        nb->name[FM_KEY_TAG_LEN] = '\0';
    }
    sync_on_message(s, nb, p, n);
    return FM_OK;
}

int fm_sync_io_step(struct fm_sync *s, uint64_t *next_ms)
{
    int rc = sync_engine_service(s);
    /* what fm_sync_run does before it polls again */
    *next_ms = sync_now(s) + (uint64_t)sync_engine_wait(s, -1);
    return rc;
}
