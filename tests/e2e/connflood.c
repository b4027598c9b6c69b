/*
 * connflood.c — an enrolled node's key opening many connections at once
 * (the attack of issue 9 item 11; used by tests/e2e/test_key_limits.sh).
 *
 *   connflood -c CONF --to ENDPOINT --server KEY -n N [--seconds S] [--speak]
 *
 * Unlocks the node key of CONF (trust.passphrase_file), then dials
 * ENDPOINT N times at once with that key's Curve key as a CurveZMQ client
 * expecting the server node key KEY: N DEALER sockets (libzmq makes one
 * connection per endpoint and socket), each its own TCP connection and
 * handshake, each redialled by libzmq every 100 ms once it is closed or
 * refused. With --speak it sends a
 * harmless SUMMARY (no reply wanted) on every connection each second, as
 * an honest node's hello. For S seconds (default 10) it counts the socket
 * monitor's events, then prints one line:
 *   tried T succeeded H refused R open O max_open M
 * T = TCP connections made, H = handshakes that succeeded, R = refused by
 * the server's ZAP handler, O = connections open at the end (succeeded,
 * not closed since), M = the most open at any moment. Exit 0, 2 on usage,
 * 1 when it could not start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zmq.h>

#include "crypto/crypto.h"
#include "node/config/config.h"
#include "node/replica/replica.h"
#include "sync/wire_int.h"

struct counts {
    long tried, succeeded, refused, open, max_open;
};

static int usage(void)
{
    fprintf(stderr, "usage: connflood -c CONF --to ENDPOINT --server KEY -n N "
                    "[--seconds S] [--speak]\n");
    return 2;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void take_events(void *mon, struct counts *c, bool *up)
{
    for (;;) {
        uint8_t ev[6];
        char addr[256];
        int n = zmq_recv(mon, ev, sizeof(ev), ZMQ_DONTWAIT);
        if (n < 0)
            return;
        (void)zmq_recv(mon, addr, sizeof(addr), 0);
        uint16_t e;
        memcpy(&e, ev, sizeof(e));
        if (e == ZMQ_EVENT_CONNECTED)
            c->tried++;
        else if (e == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
            c->succeeded++;
            *up = true;
            if (++c->open > c->max_open)
                c->max_open = c->open;
        } else if (e == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            c->refused++;
        } else if (e == ZMQ_EVENT_DISCONNECTED && *up) {
            *up = false;
            c->open--;
        }
    }
}

/* Keys of CONF's node as Curve keys. */
static int load_keys(const char *conf, uint8_t cpk[FM_CURVE_LEN], uint8_t csk[FM_CURVE_LEN])
{
    static struct fm_config cfg;
    struct fm_keys keys;
    char err[512] = "";
    char from[FM_PATH_MAX];
    if (fm_config_load(&cfg, conf, err, sizeof(err)) != FM_OK) {
        fprintf(stderr, "connflood: %s\n", err);
        return -1;
    }
    memset(&keys, 0, sizeof(keys));
    int rc = fm_keys_unlock_any(&keys, &cfg, NULL, from, sizeof(from));
    if (rc != FM_OK || !keys.has_id) {
        fprintf(stderr, "connflood: cannot unlock the node key: %s\n", fm_strerror(rc));
        return -1;
    }
    rc = fm_curve_from_identity(&keys.id, cpk, csk);
    fm_keys_release(&keys);
    return rc == FM_OK ? 0 : -1;
}

/* One DEALER with its monitor; NULL on failure. */
static void *dealer_new(void *ctx, const char *to, const uint8_t *server, const uint8_t *cpk,
                        const uint8_t *csk, long i, void **mon)
{
    char ep[64];
    void *d = zmq_socket(ctx, ZMQ_DEALER);
    int ivl = 100, linger = 0, hwm = 0;
    if (!d)
        return NULL;
    zmq_setsockopt(d, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, server, FM_CURVE_LEN);
    zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, cpk, FM_CURVE_LEN);
    zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, csk, FM_CURVE_LEN);
    snprintf(ep, sizeof(ep), "inproc://connflood-mon-%ld", i);
    if (zmq_socket_monitor(d, ep, ZMQ_EVENT_ALL) != 0)
        return NULL;
    *mon = zmq_socket(ctx, ZMQ_PAIR);
    zmq_setsockopt(*mon, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    if (!*mon || zmq_connect(*mon, ep) != 0 || zmq_connect(d, to) != 0)
        return NULL;
    return d;
}

static int flood(const char *to, const uint8_t server[FM_CURVE_LEN], const uint8_t cpk[FM_CURVE_LEN],
                 const uint8_t csk[FM_CURVE_LEN], long n, long seconds, bool speak)
{
    struct counts c = {0};
    void *ctx = zmq_ctx_new();
    void **d = calloc((size_t)n, sizeof(*d)), **mon = calloc((size_t)n, sizeof(*mon));
    bool *up = calloc((size_t)n, sizeof(*up));
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)(3 * n + 16));
    if (!d || !mon || !up)
        return 1;
    for (long i = 0; i < n; i++)
        if (!(d[i] = dealer_new(ctx, to, server, cpk, csk, i, &mon[i]))) {
            fprintf(stderr, "connflood: socket %ld: %s\n", i, zmq_strerror(errno));
            return 1;
        }
    struct fm_buf hello;
    fm_buf_init(&hello, 128);
    struct fm_wire_summary sm = {.flags = 0};
    uint64_t end = mono_ms() + (uint64_t)seconds * 1000, next_speak = 0;
    while (mono_ms() < end) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
        bool say = speak && mono_ms() >= next_speak;
        if (say) {
            next_speak = mono_ms() + 1000;
            sm.now_ms = (uint64_t)time(NULL) * 1000;
            say = fm_wire_encode_summary(&hello, &sm) == FM_OK;
        }
        for (long i = 0; i < n; i++) {
            take_events(mon[i], &c, &up[i]);
            char junk[64];
            while (zmq_recv(d[i], junk, sizeof(junk), ZMQ_DONTWAIT) >= 0) {
            }
            if (say && up[i])
                (void)zmq_send(d[i], hello.data, hello.len, ZMQ_DONTWAIT);
        }
    }
    for (long i = 0; i < n; i++)
        take_events(mon[i], &c, &up[i]);
    printf("tried %ld succeeded %ld refused %ld open %ld max_open %ld\n", c.tried, c.succeeded,
           c.refused, c.open, c.max_open);
    fflush(stdout);
    fm_buf_release(&hello);
    for (long i = 0; i < n; i++) {
        zmq_close(mon[i]);
        zmq_close(d[i]);
    }
    zmq_ctx_term(ctx);
    free(d);
    free(mon);
    free(up);
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = NULL, *to = NULL, *server = NULL;
    long n = 0, seconds = 10;
    bool speak = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
            server = argv[++i];
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--speak") == 0)
            speak = true;
        else
            return usage();
    }
    if (!conf || !to || !server || n < 1 || n > 100000 || seconds < 1)
        return usage();
    if (fm_crypto_init() != FM_OK)
        return 1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { /* one descriptor per connection */
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    uint8_t spk[FM_PK_LEN], scurve[FM_CURVE_LEN], cpk[FM_CURVE_LEN], csk[FM_CURVE_LEN];
    if (fm_key_decode(server, spk) != FM_OK || fm_curve_from_pk(spk, scurve) != FM_OK) {
        fprintf(stderr, "connflood: --server is not a node key\n");
        return 2;
    }
    if (load_keys(conf, cpk, csk) != 0)
        return 1;
    return flood(to, scurve, cpk, csk, n, seconds, speak);
}
