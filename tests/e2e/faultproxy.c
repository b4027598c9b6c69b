/*
 * faultproxy.c — a TCP proxy for tests that mistreats what it carries.
 *
 *   faultproxy LISTEN_PORT TARGET_PORT [--seed N] [--drop PM] [--dup PM]
 *              [--reorder PM] [--truncate PM] [--delay PM] [--delay-max MS]
 *              [--duration S] [--stats FILE] [--scheduled 1]
 *
 * Listens on 127.0.0.1:LISTEN_PORT and connects each client to
 * 127.0.0.1:TARGET_PORT (loopback only). Every chunk read from either side
 * (what one read() returns, up to 16 KiB: usually one message) meets, with
 * the given per-mille probabilities: drop (never forwarded), dup (forwarded
 * twice), reorder (held back and forwarded after the next chunk), delay
 * (held 1..delay-max ms, order kept) or truncate (half forwarded, then the
 * connection closed). Over CurveZMQ each of the first four breaks the
 * stream's authentication, so the receiver drops the connection and
 * libzmq dials again: exactly the flapping a bad radio link produces. The
 * run is reproducible from --seed, bounded by --duration (default 120 s),
 * and prints (or writes to --stats) how many of each fault it injected.
 * With --scheduled 1, chunks 4, 8, 12, 16 and 20 are also dropped,
 * duplicated, reordered, delayed and truncated, so a short run meets every
 * kind of fault whatever the dice say.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 32
#define CHUNK 16384
#define QCAP 64

struct chunk {
    uint8_t *data;
    size_t len, off;
    uint64_t due_ms;
};

struct dir {
    struct chunk q[QCAP];
    size_t head, n;
    struct chunk held; /* reorder: waits for the next chunk */
    bool has_held;
};

struct pair {
    int fd[2]; /* 0 = client, 1 = target; -1 = unused */
    struct dir d[2]; /* d[0]: client -> target */
    bool closing;
};

static struct pair pairs[MAX_PAIRS];
static unsigned pm_drop, pm_dup, pm_reorder, pm_truncate, pm_delay, delay_max = 50;
static bool scheduled;
static unsigned long stats_drop, stats_dup, stats_reorder, stats_truncate, stats_delay,
    stats_conns;
static uint64_t rng;
static volatile sig_atomic_t stop;

static void on_signal(int s) { (void)s; stop = 1; }

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t rnd(void) /* xorshift64* */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

static unsigned long stats_chunks;
static bool chance(unsigned pm) { return pm && rnd() % 1000 < pm; }
/* fault kind k (0 drop .. 4 truncate) forced at chunk 4 * (k + 1) */
static bool forced(int k) { return scheduled && stats_chunks == 4ul * (unsigned long)(k + 1); }

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static void dir_free(struct dir *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->q[(d->head + i) % QCAP].data);
    d->head = d->n = 0;
    if (d->has_held)
        free(d->held.data);
    d->has_held = false;
}

static void pair_close(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        if (p->fd[i] >= 0)
            close(p->fd[i]);
        p->fd[i] = -1;
        dir_free(&p->d[i]);
    }
    p->closing = false;
}

static bool push(struct dir *d, const uint8_t *data, size_t len, uint64_t due)
{
    if (d->n == QCAP)
        return false;
    struct chunk *c = &d->q[(d->head + d->n) % QCAP];
    c->data = malloc(len);
    if (!c->data)
        return false;
    memcpy(c->data, data, len);
    c->len = len;
    c->off = 0;
    c->due_ms = due;
    d->n++;
    return true;
}

/* One chunk read from side `from` of p: decide its fate. */
static void inject(struct pair *p, int from, const uint8_t *buf, size_t len)
{
    struct dir *d = &p->d[from];
    uint64_t due = now_ms();
    stats_chunks++;
    if (d->n) {
        uint64_t last = d->q[(d->head + d->n - 1) % QCAP].due_ms;
        if (last > due)
            due = last; /* keep order behind delayed chunks */
    }
    if (forced(0) || chance(pm_drop)) {
        stats_drop++;
        return;
    }
    if (forced(4) || chance(pm_truncate)) {
        stats_truncate++;
        push(d, buf, len / 2, due);
        p->closing = true;
        return;
    }
    if (forced(3) || chance(pm_delay)) {
        stats_delay++;
        due += 1 + rnd() % delay_max;
    }
    if ((forced(2) || chance(pm_reorder)) && !d->has_held) {
        stats_reorder++;
        d->held.data = malloc(len);
        if (d->held.data) {
            memcpy(d->held.data, buf, len);
            d->held.len = len;
            d->has_held = true;
        }
        return;
    }
    push(d, buf, len, due);
    if (d->has_held) {
        push(d, d->held.data, d->held.len, due);
        free(d->held.data);
        d->has_held = false;
    }
    if (forced(1) || chance(pm_dup)) {
        stats_dup++;
        push(d, buf, len, due);
    }
}

static int listen_on(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0) {
        perror("faultproxy: listen");
        exit(1);
    }
    return fd;
}

static int dial(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void usage(void)
{
    fprintf(stderr, "usage: faultproxy LISTEN_PORT TARGET_PORT [--seed N] [--drop PM] [--dup PM]"
                    " [--reorder PM] [--truncate PM] [--delay PM] [--delay-max MS]"
                    " [--duration S] [--stats FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned long lport, tport, v, duration = 120, seed = 1;
    const char *stats_path = NULL;
    if (argc < 3 || parse_uint(argv[1], 65535, &lport) || parse_uint(argv[2], 65535, &tport))
        usage();
    for (int i = 3; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        const char *o = argv[i], *val = argv[++i];
        if (strcmp(o, "--stats") == 0) {
            stats_path = val;
            continue;
        }
        if (parse_uint(val, 1000000000ul, &v))
            usage();
        if (strcmp(o, "--seed") == 0) seed = v;
        else if (strcmp(o, "--drop") == 0 && v <= 1000) pm_drop = (unsigned)v;
        else if (strcmp(o, "--dup") == 0 && v <= 1000) pm_dup = (unsigned)v;
        else if (strcmp(o, "--reorder") == 0 && v <= 1000) pm_reorder = (unsigned)v;
        else if (strcmp(o, "--truncate") == 0 && v <= 1000) pm_truncate = (unsigned)v;
        else if (strcmp(o, "--delay") == 0 && v <= 1000) pm_delay = (unsigned)v;
        else if (strcmp(o, "--delay-max") == 0 && v >= 1 && v <= 60000) delay_max = (unsigned)v;
        else if (strcmp(o, "--duration") == 0 && v >= 1 && v <= 3600) duration = v;
        else if (strcmp(o, "--scheduled") == 0 && v <= 1) scheduled = v == 1;
        else usage();
    }
    rng = seed * 0x9E3779B97F4A7C15ull + 1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    for (int i = 0; i < MAX_PAIRS; i++)
        pairs[i].fd[0] = pairs[i].fd[1] = -1;
    int lfd = listen_on((unsigned)lport);
    uint64_t end = now_ms() + duration * 1000;
    static uint8_t buf[CHUNK];

    while (!stop && now_ms() < end) {
        struct pollfd pf[1 + 2 * MAX_PAIRS];
        int map[1 + 2 * MAX_PAIRS], np = 0;
        uint64_t now = now_ms();
        int timeout = 100;
        pf[np] = (struct pollfd){.fd = lfd, .events = POLLIN};
        map[np++] = -1;
        for (int i = 0; i < MAX_PAIRS; i++) {
            struct pair *p = &pairs[i];
            if (p->fd[0] < 0)
                continue;
            for (int s = 0; s < 2; s++) {
                short ev = 0;
                if (!p->closing && p->d[s].n < QCAP - 2)
                    ev |= POLLIN;
                struct dir *out = &p->d[1 - s]; /* what goes out on fd[s] */
                if (out->n) {
                    struct chunk *c = &out->q[out->head];
                    if (c->due_ms <= now)
                        ev |= POLLOUT;
                    else if ((int)(c->due_ms - now) < timeout)
                        timeout = (int)(c->due_ms - now);
                }
                pf[np] = (struct pollfd){.fd = p->fd[s], .events = ev};
                map[np++] = i * 2 + s;
            }
        }
        if (poll(pf, (nfds_t)np, timeout) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[0].revents & POLLIN) {
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
            int slot = -1;
            for (int i = 0; i < MAX_PAIRS && slot < 0; i++)
                if (pairs[i].fd[0] < 0)
                    slot = i;
            int t = c >= 0 && slot >= 0 ? dial((unsigned)tport) : -1;
            if (t < 0) {
                if (c >= 0)
                    close(c);
            } else {
                pairs[slot].fd[0] = c;
                pairs[slot].fd[1] = t;
                stats_conns++;
            }
        }
        for (int k = 1; k < np; k++) {
            struct pair *p = &pairs[map[k] / 2];
            int s = map[k] % 2;
            if (p->fd[0] < 0)
                continue;
            if (pf[k].revents & POLLIN) {
                ssize_t r = read(p->fd[s], buf, sizeof buf);
                if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR))) {
                    pair_close(p);
                    continue;
                }
                if (r > 0)
                    inject(p, s, buf, (size_t)r);
            } else if (pf[k].revents & (POLLERR | POLLHUP)) {
                pair_close(p);
                continue;
            }
            struct dir *out = &p->d[1 - s];
            while ((pf[k].revents & POLLOUT) && out->n) {
                struct chunk *c = &out->q[out->head];
                if (c->due_ms > now_ms())
                    break;
                ssize_t w = write(p->fd[s], c->data + c->off, c->len - c->off);
                if (w < 0) {
                    if (errno != EAGAIN && errno != EINTR)
                        pair_close(p);
                    break;
                }
                c->off += (size_t)w;
                if (c->off < c->len)
                    break;
                free(c->data);
                out->head = (out->head + 1) % QCAP;
                out->n--;
            }
            if (p->fd[0] >= 0 && p->closing && !p->d[0].n && !p->d[1].n)
                pair_close(p);
        }
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        if (pairs[i].fd[0] >= 0)
            pair_close(&pairs[i]);
    close(lfd);
    FILE *f = stats_path ? fopen(stats_path, "w") : stderr;
    if (f) {
        fprintf(f, "connections %lu chunks %lu drop %lu dup %lu reorder %lu delay %lu truncate %lu\n",
                stats_conns, stats_chunks, stats_drop, stats_dup, stats_reorder, stats_delay,
                stats_truncate);
        if (f != stderr)
            fclose(f);
    }
    return 0;
}
