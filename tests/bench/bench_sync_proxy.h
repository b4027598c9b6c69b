/*
 * bench_sync_proxy.h — a byte-counting TCP proxy on loopback, so that the
 * sync benchmark measures what really crosses the wire: every byte of the
 * ZMTP greeting, the CurveZMQ handshake, the encrypted frames and the
 * heartbeats, not only the gossip messages the engine counts.
 *
 * One proxy listens on one port and forwards each accepted connection to
 * one upstream port. Each connection gets two pump threads (one per
 * direction) doing blocking read/write; the totals are atomics. The accept
 * thread reaps finished connections; proxy_stop shuts every socket down,
 * joins every thread and closes every fd. Header-only.
 */
#ifndef FM_BENCH_SYNC_PROXY_H
#define FM_BENCH_SYNC_PROXY_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PX_MAX_CONNS 64
#define PX_BUF (64 * 1024)

struct px_conn;
struct px_pump {
    struct px_conn *c;
    int from, to;
    uint64_t *counter;
    pthread_t th;
};
struct px_conn {
    int used;
    int down_fd, up_fd; /* accepted client side, upstream side */
    int done;           /* pumps finished (atomic) */
    struct px_pump c2s, s2c;
};

struct px_proxy {
    int listen_fd, port, upstream;
    int stop; /* atomic */
    uint64_t c2s, s2c; /* atomic byte totals: client->server, server->client */
    uint64_t conns;    /* connections accepted */
    pthread_t th;
    struct px_conn conns_tab[PX_MAX_CONNS];
};

static void *px_pump_run(void *arg)
{
    struct px_pump *p = arg;
    char *buf = malloc(PX_BUF);
    while (buf) {
        ssize_t n = read(p->from, buf, PX_BUF);
        if (n <= 0)
            break;
        __atomic_fetch_add(p->counter, (uint64_t)n, __ATOMIC_RELAXED);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(p->to, buf + off, (size_t)(n - off));
            if (w <= 0)
                goto out;
            off += w;
        }
    }
out:
    free(buf);
    shutdown(p->to, SHUT_WR);
    shutdown(p->from, SHUT_RD);
    __atomic_fetch_add(&p->c->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void px_conn_close(struct px_conn *c)
{
    pthread_join(c->c2s.th, NULL);
    pthread_join(c->s2c.th, NULL);
    close(c->down_fd);
    close(c->up_fd);
    c->used = 0;
}

static int px_connect_upstream(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void *px_accept_run(void *arg)
{
    struct px_proxy *px = arg;
    struct pollfd pf = {px->listen_fd, POLLIN, 0};
    while (!__atomic_load_n(&px->stop, __ATOMIC_ACQUIRE)) {
        for (int i = 0; i < PX_MAX_CONNS; i++) {
            struct px_conn *c = &px->conns_tab[i];
            if (c->used && __atomic_load_n(&c->done, __ATOMIC_ACQUIRE) == 2)
                px_conn_close(c);
        }
        if (poll(&pf, 1, 50) <= 0)
            continue;
        int fd = accept(px->listen_fd, NULL, NULL), one = 1;
        if (fd < 0)
            continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int up = px_connect_upstream(px->upstream);
        struct px_conn *c = NULL;
        for (int i = 0; i < PX_MAX_CONNS && !c; i++)
            if (!px->conns_tab[i].used)
                c = &px->conns_tab[i];
        if (up < 0 || !c) {
            close(fd);
            if (up >= 0)
                close(up);
            continue;
        }
        memset(c, 0, sizeof *c);
        c->used = 1;
        c->down_fd = fd;
        c->up_fd = up;
        c->c2s = (struct px_pump){c, fd, up, &px->c2s, 0};
        c->s2c = (struct px_pump){c, up, fd, &px->s2c, 0};
        px->conns++;
        pthread_create(&c->c2s.th, NULL, px_pump_run, &c->c2s);
        pthread_create(&c->s2c.th, NULL, px_pump_run, &c->s2c);
    }
    for (int i = 0; i < PX_MAX_CONNS; i++) {
        struct px_conn *c = &px->conns_tab[i];
        if (!c->used)
            continue;
        shutdown(c->down_fd, SHUT_RDWR);
        shutdown(c->up_fd, SHUT_RDWR);
        px_conn_close(c);
    }
    return NULL;
}

/* Listens on 127.0.0.1:port, forwards to 127.0.0.1:upstream. 0 or -1. */
static int px_start(struct px_proxy *px, int port, int upstream)
{
    struct sockaddr_in a;
    int one = 1;
    memset(px, 0, sizeof *px);
    px->port = port;
    px->upstream = upstream;
    px->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (px->listen_fd < 0)
        return -1;
    setsockopt(px->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(px->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(px->listen_fd, 16) != 0) {
        close(px->listen_fd);
        return -1;
    }
    if (pthread_create(&px->th, NULL, px_accept_run, px) != 0) {
        close(px->listen_fd);
        return -1;
    }
    return 0;
}

static void px_stop(struct px_proxy *px)
{
    __atomic_store_n(&px->stop, 1, __ATOMIC_RELEASE);
    pthread_join(px->th, NULL);
    close(px->listen_fd);
}

static uint64_t px_c2s(struct px_proxy *px) { return __atomic_load_n(&px->c2s, __ATOMIC_RELAXED); }
static uint64_t px_s2c(struct px_proxy *px) { return __atomic_load_n(&px->s2c, __ATOMIC_RELAXED); }

#endif
