/*
 * fieldmeshd.c — the node daemon: `fieldmeshd -c CONF [--log-level L]`.
 *
 * It opens the node's LMDB store (read + ingest; the CLI authors ops in
 * its own process), loads the node key only to derive its CurveZMQ keys,
 * and runs the sync engine until SIGINT or SIGTERM: bind the listen
 * endpoint, dial every configured peer, answer the CLI on the control
 * socket. Durability needs nothing here: an op counts as received only
 * once fm_node_ingest has committed it to LMDB, so kill -9 at any moment
 * loses nothing that was acknowledged. A lock file keeps a second daemon
 * off the same data directory.
 *
 * Field sync (docs/field-sync.md): the daemon opens the store with the
 * node's identity when its certificate is there, so it can append the
 * certificate op when this identity's log is empty (peers that do not
 * list this node admit it only once they hold that op) — unless the key
 * was used before and its log must first be recovered from peers — and
 * write fork evidence. About once a second it also publishes fork
 * evidence, re-enters this node's own ops a fork settling dropped, records its presence (soft state, every PRESENCE_MS) and runs
 * the linkage workflow's escalation check. Each configured peer may have
 * its own send rate limit (network.peers[].rate_limit_bps).
 *
 * Keys at rest (docs/security.md): the node key and the data key are
 * sealed; the daemon unlocks them at start with the passphrase from
 * --passphrase-file, systemd's $CREDENTIALS_DIRECTORY/fieldmesh-passphrase,
 * trust.passphrase_file or the terminal, then hands them to the CLI of the
 * same Unix user over <data_dir>/keys.sock (keyserve.c). When it learns
 * that its own certificate is revoked it destroys the data key and stops.
 *
 * Under systemd (Type=notify, packaging/fieldmeshd.service) it says
 * READY=1 once its endpoints are bound and its peers dialled, pings the
 * watchdog at half of WatchdogSec= from the main loop, so a hung loop gets
 * the service restarted, and says STOPPING=1 on the way out (node/daemon/service.c).
 *
 * GPS (docs/gps.md): with gps.enabled, a vehicle or station node reads its
 * unit's position from gpsd (node/gps/) between the sync engine's turns,
 * once it may sign.
 *
 * Console (docs/console-api.md): with console.enabled (the default) the
 * daemon serves the browser console and its JSON API from its own HTTP
 * threads (node/console/). Those threads share the node handle with the
 * sync loop; one mutex (node_lock) is held around every use of the
 * handle: inside each sync store callback (store_lock.c), around
 * housekeeping and GPS, and by the console around each of its node
 * calls. A console address that is not loopback without TLS is refused
 * (exit 78); a console that cannot bind is logged and the node keeps
 * syncing without it.
 *
 * Exit status: 0 after a clean shutdown, 2 for bad usage, 78 (EX_CONFIG)
 * for a bad configuration, 1 for anything else.
 */
#include "daemon.h"
#include "../workflow/workflow.h"
#include "../gps/gps.h"
#include "../console/console.h"

#ifdef FM_BENCH_PLAIN_STORE
/* fieldmeshd_plain (tests/tests.cmake): a benchmark's baseline only, never
 * built into a package: the store keeps its values in clear, so
 * bench_sync can put a number on what sealing costs a whole cold sync */
#include "../replica/replica_int.h"
#define DAEMON_OPEN_FLAGS FM_OPEN_PLAIN_
#else
#define DAEMON_OPEN_FLAGS 0u
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_CONFIG 78
#define COMPONENT "fieldmeshd"
#define PRESENCE_MS 5000
#define HOUSEKEEPING_MS 1000

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static void usage(FILE *f)
{
    fprintf(f, "usage: fieldmeshd -c CONF [--passphrase-file F] [--log-level error|warn|info|debug]\n"
               "                 [--help]\n"
               "  Runs a fieldmesh node: gossips signed ops with the peers in CONF over\n"
               "  CurveZMQ until SIGINT/SIGTERM. Logs one line per event to stderr.\n"
               "  The node's sealed keys are unlocked with the passphrase (or key file) F,\n"
               "  else $CREDENTIALS_DIRECTORY/fieldmesh-passphrase (systemd), else\n"
               "  trust.passphrase_file, else a prompt on the terminal.\n");
}

static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return FM_EIO;
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return FM_EIO;
    return FM_OK;
}

/* Returns an fd holding an exclusive lock on data_dir/fieldmeshd.lock, or -1. */
static int lock_data_dir(const char *data_dir)
{
    char path[FM_PATH_MAX + 32];
    int fd;
    if (snprintf(path, sizeof(path), "%s/fieldmeshd.lock", data_dir) >= (int)sizeof(path))
        return -1;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fm_log(FM_LOG_ERROR, COMPONENT, "another fieldmeshd already runs on %s", data_dir);
        close(fd);
        return -1;
    }
    return fd;
}

/* Unlocks the node's keys; logs why not. */
static int unlock_keys(const struct fm_config *cfg, const char *pass_file, const char *conf,
                       struct fm_keys *keys)
{
    char from[FM_PATH_MAX];
    int rc = fm_keys_unlock_any(keys, cfg, pass_file, from, sizeof from);
    if (rc == FM_OK && !keys->has_id) {
        rc = keys->id_err != FM_OK ? keys->id_err : FM_ENOTFOUND;
        fm_keys_release(keys);
    }
    switch (rc) {
    case FM_OK:
        return FM_OK;
    case FM_EKEYPERM:
        fm_log(FM_LOG_ERROR, COMPONENT, "refusing to start: %s or %s is readable by group or "
               "others (chmod 600 it)", cfg->key_path, from);
        break;
    case FM_ENOTFOUND:
        fm_log(FM_LOG_ERROR, COMPONENT, "no node key at %s (or no passphrase file %s): run "
               "`fieldmesh -c %s keygen`", cfg->key_path, from, conf);
        break;
    case FM_ELOCKED:
        fm_log(FM_LOG_ERROR, COMPONENT, "locked: no passphrase (pass --passphrase-file, set "
               "trust.passphrase_file, or start on a terminal)");
        break;
    case FM_EPASSPHRASE:
        fm_log(FM_LOG_ERROR, COMPONENT, "wrong passphrase (from %s): the node's keys did not "
               "open; nothing was read or changed", from);
        break;
    case FM_EPLAIN:
        fm_log(FM_LOG_ERROR, COMPONENT, "%s or the store in %s predates encryption at rest: "
               "run `fieldmesh -c %s keys seal` (docs/security.md, migration)",
               cfg->key_path, cfg->data_dir, conf);
        break;
    default:
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot unlock the node's keys: %s", fm_strerror(rc));
    }
    return rc;
}

/* Once a second: our certificate op (until our log has one), fork
 * evidence, presence, escalations. Failures are logged, never fatal. */
static void housekeeping(struct fm_node *node, bool *cert_ok, bool presence)
{
    static struct fm_log_limiter lim;
    struct fm_self_state self;
    size_t published = 0, reentered = 0;
    unsigned raised = 0;
    static size_t clones; /* diverging writers on live keys seen so far */
    int rc;
    if ((rc = fm_node_clone_watch(node, &clones)) != FM_OK) /* a cloned key? */
        fm_log_limited(&lim, 3, FM_LOG_WARN, COMPONENT, "cannot check for cloned keys: %s",
                       fm_strerror(rc));
    if (fm_node_self_state(node, &self) != FM_OK)
        return; /* no identity */
    if (!*cert_ok) {
        rc = fm_node_ensure_cert(node);
        if (rc == FM_OK) {
            *cert_ok = true;
        } else {
            fm_log_limited(&lim, 1, FM_LOG_WARN, COMPONENT,
                           "not signing yet (%s): waiting to recover this node's own log "
                           "from peers", fm_strerror(rc));
            return;
        }
    }
    if ((rc = fm_node_fork_publish(node, &published)) != FM_OK)
        fm_log_limited(&lim, 3, FM_LOG_WARN, COMPONENT, "cannot publish fork evidence: %s",
                       fm_strerror(rc));
    else if (published)
        fm_log(FM_LOG_WARN, COMPONENT, "published evidence of %zu fork(s)", published);
    /* our own ops a fork settling dropped: signed again once we may sign
     * (each one logged by the node library; CLI writes do it too, first) */
    if ((rc = fm_node_fork_reenter(node, &reentered)) != FM_OK)
        fm_log_limited(&lim, 3, FM_LOG_WARN, COMPONENT,
                       "cannot re-enter ops lost in a fork: %s", fm_strerror(rc));
    else if (reentered)
        fm_log(FM_LOG_WARN, COMPONENT, "settled %zu of our own op(s) lost in a fork "
               "(`fieldmesh status` lists them)", reentered);
    if (presence && self.may_sign && (rc = fm_node_soft_presence(node)) != FM_OK)
        fm_log_limited(&lim, 3, FM_LOG_WARN, COMPONENT, "cannot record presence: %s",
                       fm_strerror(rc));
    if ((rc = fm_node_workflow_tick(node, fm_now_ms(), &raised)) != FM_OK)
        fm_log_limited(&lim, 3, FM_LOG_WARN, COMPONENT, "escalation check failed: %s",
                       fm_strerror(rc));
    else if (raised)
        fm_log(FM_LOG_INFO, COMPONENT, "raised %u escalation(s)", raised);
}

/* Under systemd (Type=notify): endpoints bound, peers dialled, so say
 * READY=1, and learn the watchdog period (0: none). Outside it, nothing. */
static int service_ready(const struct fm_config *cfg, uint64_t *watchdog_ms)
{
    char state[FM_NAME_MAX + 64];
    int rc = fm_service_watchdog_ms(watchdog_ms);
    if (rc != FM_OK) {
        fm_log(FM_LOG_ERROR, COMPONENT, "bad WATCHDOG_USEC/WATCHDOG_PID from the service manager");
        return rc;
    }
    snprintf(state, sizeof(state), "READY=1\nSTATUS=node %s, %zu peer(s)", cfg->name,
             cfg->npeers);
    if ((rc = fm_service_notify(state)) != FM_OK)
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot notify the service manager ($NOTIFY_SOCKET): %s",
               fm_strerror(rc));
    return rc;
}

/* One watchdog ping; a failure is logged (rate-limited), the manager will
 * notice the missing pings by itself. */
static void service_ping(void)
{
    static struct fm_log_limiter lim;
    if (fm_service_notify("WATCHDOG=1") != FM_OK)
        fm_log_limited(&lim, 1, FM_LOG_WARN, COMPONENT, "cannot ping the service watchdog");
}

/* Everything main() starts, so each step can take it and `out` undo it. */
struct daemon {
    struct fm_config cfg;
    struct fm_keys keys;
    struct fm_keyserve *keyserve;
    struct fm_identity id;
    struct fm_node *node;
    struct fm_sync *sync;
    struct fm_sync_store store;
    struct fm_gps *gps; /* gps.enabled only */
    int lockfd;
    pthread_mutex_t node_lock;     /* held around every use of node (see the top) */
    struct fm_locked_store locked; /* the sync store behind node_lock */
    struct fm_console *console;    /* console.enabled and bound */
};

/* gps.enabled: a reader for the unit this node's certificate names. */
static int gps_start(const struct fm_config *cfg, struct fm_node *node, struct fm_gps **gps)
{
    char unit[FM_ID_MAX + FM_NAME_MAX];
    int rc = fm_node_self_unit(node, unit, sizeof unit);
    if (rc != FM_OK) {
        fm_log(FM_LOG_ERROR, COMPONENT, "gps.enabled needs a certificate naming this node's "
               "unit (`fieldmesh org enroll --unit NAME`)");
        return rc;
    }
    if ((rc = fm_gps_new(gps, &cfg->gps, unit)) != FM_OK) {
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot start the GPS reader: %s", fm_strerror(rc));
        return rc;
    }
    fm_log(FM_LOG_INFO, COMPONENT, "GPS: reading gpsd at %s:%u for unit %s", cfg->gps.host,
           (unsigned)cfg->gps.port, unit);
    return FM_OK;
}

struct daemon_args {
    const char *conf, *level, *pass_file;
};

/* The command line: -1 to go on, else the exit status. */
static int daemon_parse_args(int argc, char **argv, struct daemon_args *a)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
                   i + 1 < argc) {
            a->conf = argv[++i];
        } else if (strcmp(argv[i], "--passphrase-file") == 0 && i + 1 < argc) {
            a->pass_file = argv[++i];
        } else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
            a->level = argv[++i];
        } else if (strncmp(argv[i], "--log-level=", 12) == 0) {
            a->level = argv[i] + 12;
        } else {
            fprintf(stderr, "fieldmeshd: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    enum fm_log_level lv = FM_LOG_INFO;
    if (a->level && fm_log_parse_level(a->level, &lv) != FM_OK) {
        fprintf(stderr, "fieldmeshd: bad --log-level '%s' (error|warn|info|debug)\n", a->level);
        return EXIT_USAGE;
    }
    fm_log_set_level(lv);
    return -1;
}

/* Crypto and the config (located like the CLI's): -1 to go on, else the
 * exit status. `located` holds the path when none was given. */
static int daemon_load_config(struct daemon *d, struct daemon_args *a, char *located,
                              size_t cap)
{
    char err[512];
    if (fm_crypto_init() != FM_OK) {
        fprintf(stderr, "fieldmeshd: cannot initialise the crypto library\n");
        return 1;
    }
    if (!a->conf) {
        if (fm_config_locate(located, cap) != FM_OK) {
            fprintf(stderr,
                    "fieldmeshd: no configuration found (looked for %s); pass -c CONF or run "
                    "`fieldmesh init`\n",
                    located);
            return EXIT_CONFIG;
        }
        a->conf = located;
    }
    err[0] = '\0';
    int rc = fm_config_load(&d->cfg, a->conf, err, sizeof(err));
    if (rc == FM_OK && (rc = fm_console_check(&d->cfg, err, sizeof err)) != FM_OK) {
        fprintf(stderr, "fieldmeshd: refusing to start: %s\n", err);
        return EXIT_CONFIG;
    }
    if (rc != FM_OK) {
        fprintf(stderr, "fieldmeshd: %s\n", err[0] ? err : fm_strerror(rc));
        return EXIT_CONFIG;
    }
    return -1;
}

/* The keys, the store (read-only without a usable certificate), the data
 * directory's lock, the key socket and the signal handlers. */
static int daemon_open(struct daemon *d, const struct daemon_args *a)
{
    const struct fm_config *cfg = &d->cfg;
    if (unlock_keys(cfg, a->pass_file, a->conf, &d->keys) != FM_OK ||
        fm_identity_copy(&d->id, &d->keys.id) != FM_OK)
        return FM_EIO;
    if (DAEMON_OPEN_FLAGS != 0)
        fm_log(FM_LOG_WARN, COMPONENT, "a benchmark's build: the store in %s keeps its values "
               "in clear", cfg->data_dir);
    int rc = fm_node_open_keys(&d->node, cfg, FM_OPEN_IDENTITY | DAEMON_OPEN_FLAGS, &d->keys);
    if (rc == FM_ENOTFOUND || rc == FM_ECERT || rc == FM_EDECODE) {
        fm_log(FM_LOG_WARN, COMPONENT,
               "no usable certificate at %s (%s): running without authoring anything",
               cfg->cert_path, fm_strerror(rc));
        rc = fm_node_open_keys(&d->node, cfg, FM_OPEN_READ | DAEMON_OPEN_FLAGS, &d->keys);
    }
    if (rc != FM_OK) {
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot open the store in %s: %s", cfg->data_dir,
               fm_strerror(rc));
        return rc;
    }
    d->lockfd = lock_data_dir(cfg->data_dir);
    if (d->lockfd < 0)
        return FM_EIO;
    if ((rc = fm_keyserve_start(&d->keyserve, cfg, &d->keys)) != FM_OK)
        return rc;
    if ((rc = install_signals()) != FM_OK) {
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot install signal handlers");
        return rc;
    }
    return FM_OK;
}

/* The sync engine on the store, with the configured peers. */
static int daemon_start_sync(struct daemon *d)
{
    const struct fm_config *cfg = &d->cfg;
    struct fm_sync_store raw;
    fm_node_sync_store(d->node, &raw);
    fm_sync_store_locked(&d->locked, &raw, &d->node_lock, &d->store);
    struct fm_sync_config sc = {
        .id = &d->id,
        .listen = cfg->listen,
        .control = cfg->control,
        .push_interval_ms = cfg->push_interval_ms,
        .anti_entropy_ms = cfg->anti_entropy_ms,
        .heartbeat_ms = cfg->heartbeat_ms,
        .batch_ops = cfg->batch_ops,
        .max_skew_ms = cfg->max_skew_ms,
        .rate_limit_bps = cfg->rate_limit_bps,
        .reply_bytes_per_s = cfg->reply_bytes_per_s,
        .max_conns_per_key = cfg->max_conns_per_key,
        .max_conns = cfg->max_conns,
    };
    /* tests and benches only: behave as an older build (docs/sync.md) */
    const char *wv = getenv("FM_TEST_WIRE_VERSION");
    if (wv && (strcmp(wv, "1") == 0 || strcmp(wv, "2") == 0 || strcmp(wv, "3") == 0 ||
               strcmp(wv, "4") == 0)) {
        sc.wire_version = (uint8_t)(wv[0] - '0');
        fm_log(FM_LOG_WARN, COMPONENT, "FM_TEST_WIRE_VERSION=%s: speaking wire version %s "
               "(for tests only)", wv, wv);
    }
    int rc = fm_sync_new(&d->sync, &sc, &d->store);
    if (rc != FM_OK) {
        fm_log(FM_LOG_ERROR, COMPONENT, "cannot start sync: %s", fm_strerror(rc));
        return rc;
    }
    for (size_t i = 0; i < cfg->npeers; i++) {
        const struct fm_peer_conf *p = &cfg->peers[i];
        rc = fm_sync_add_peer(d->sync, p->endpoint, p->pk, p->name);
        if (rc != FM_OK) {
            char key[FM_KEY_TEXT_LEN];
            fm_key_encode(p->pk, key);
            fm_log(FM_LOG_ERROR, COMPONENT, "peer %s (%s): %s", p->name, key, fm_strerror(rc));
            return rc;
        }
        if (p->rate_limit_bps &&
            (rc = fm_sync_set_peer_rate(d->sync, p->pk, p->rate_limit_bps)) != FM_OK)
            return rc;
    }
    return FM_OK;
}

/* Runs until a signal (FM_OK) or a failure: sync, the watchdog,
 * housekeeping, presence, and the stop when this node is revoked. */
static int daemon_run(struct daemon *d)
{
    uint64_t next_house = 0, next_presence = 0, watchdog_ms = 0, next_watchdog = 0;
    bool cert_ok = false;
    int rc;
    if (getenv("FM_TEST_CLOCK_OFFSET_MS"))
        fm_log(FM_LOG_WARN, COMPONENT, "FM_TEST_CLOCK_OFFSET_MS=%s shifts this node's clock "
               "(for tests only)", getenv("FM_TEST_CLOCK_OFFSET_MS"));
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(d->id.pk, key);
    fm_log(FM_LOG_INFO, COMPONENT, "node %s (%s) started, pid %ld, %zu peer(s)", d->cfg.name,
           key, (long)getpid(), d->cfg.npeers);
    if (d->cfg.console.enabled &&
        fm_console_start(&d->console, &d->cfg, d->node, &d->node_lock) != FM_OK)
        fm_log(FM_LOG_ERROR, COMPONENT, "the console is not served (see above); the node "
               "keeps syncing without it");
    if ((rc = service_ready(&d->cfg, &watchdog_ms)) != FM_OK)
        return rc;
    if (d->cfg.gps.enabled) {
        pthread_mutex_lock(&d->node_lock); /* the console's threads run already */
        rc = gps_start(&d->cfg, d->node, &d->gps);
        pthread_mutex_unlock(&d->node_lock);
        if (rc != FM_OK)
            return rc;
    }
    while (!stop_signal) {
        if ((rc = fm_sync_run(d->sync, 200)) != FM_OK) {
            fm_log(FM_LOG_ERROR, COMPONENT, "sync stopped: %s", fm_strerror(rc));
            return rc;
        }
        uint64_t now = fm_mono_ms();
        if (d->gps != NULL && cert_ok) {
            pthread_mutex_lock(&d->node_lock);
            fm_gps_poll(d->gps, d->node, fm_now_ms(), now);
            pthread_mutex_unlock(&d->node_lock);
        }
        if (watchdog_ms && now >= next_watchdog) {
            next_watchdog = now + watchdog_ms / 2;
            service_ping();
        }
        if (now < next_house)
            continue;
        next_house = now + HOUSEKEEPING_MS;
        pthread_mutex_lock(&d->node_lock);
        housekeeping(d->node, &cert_ok, now >= next_presence);
        bool revoked = fm_node_self_revoked(d->node);
        pthread_mutex_unlock(&d->node_lock);
        if (now >= next_presence)
            next_presence = now + PRESENCE_MS;
        if (revoked) {
            /* item 9 of issue 9: a revoked laptop keeps nothing readable */
            fm_console_stop(&d->console);
            fm_gps_destroy(&d->gps);
            fm_keyserve_stop(&d->keyserve);
            fm_node_close(&d->node);
            rc = fm_keys_shred(&d->cfg, &d->keys, "this node's own certificate is revoked");
            fm_log(FM_LOG_ERROR, COMPONENT, "revoked: data key destroyed (%s); stopping",
                   fm_strerror(rc));
            return FM_EREVOKED;
        }
    }
    fm_log(FM_LOG_INFO, COMPONENT, "signal %d: shutting down", (int)stop_signal);
    if (fm_service_notify("STOPPING=1") != FM_OK)
        fm_log(FM_LOG_WARN, COMPONENT, "cannot tell the service manager we are stopping");
    return FM_OK;
}

int main(int argc, char **argv)
{
    static struct daemon d; /* static: the config is large */
    struct daemon_args a = {0};
    char located[FM_PATH_MAX];
    int status;
    d.lockfd = -1;
    pthread_mutex_init(&d.node_lock, NULL);
    if ((status = daemon_parse_args(argc, argv, &a)) >= 0 ||
        (status = daemon_load_config(&d, &a, located, sizeof located)) >= 0)
        return status;
    status = daemon_open(&d, &a) == FM_OK && daemon_start_sync(&d) == FM_OK &&
                     daemon_run(&d) == FM_OK
                 ? 0
                 : 1;
    fm_console_stop(&d.console); /* its threads use the node: first */
    fm_gps_destroy(&d.gps);
    fm_sync_destroy(&d.sync);
    fm_keyserve_stop(&d.keyserve);
    fm_node_close(&d.node);
    fm_identity_release(&d.id);
    fm_keys_release(&d.keys);
    if (d.lockfd >= 0)
        close(d.lockfd);
    return status;
}
