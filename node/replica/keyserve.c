/*
 * keyserve.c — how the CLI gets the node's keys while the daemon runs,
 * without a passphrase (docs/security.md, "the CLI and the daemon").
 *
 * The daemon, once unlocked, listens on a Unix stream socket
 * <data_dir>/keys.sock (mode 0600 inside the 0700 data dir). For each
 * connection it asks the kernel who the peer is (SO_PEERCRED) and answers
 * only a process of the daemon's own user or root, with one message:
 *     "FMK1" | u8 has_id | data key[32] | identity sk[64] if has_id
 * and hangs up. The client checks the server's credentials the same way
 * and decodes the reply strictly (exact length). A user who may talk to
 * the socket could equally read the daemon's memory (ptrace), so the
 * socket gives nothing that same user could not already take.
 *
 * The server runs on its own thread, polling its socket with a short
 * timeout so stopping it needs no signal. Keys are served from a private
 * copy, wiped when the server stops.
 */
#define _GNU_SOURCE
#include "replica_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define KEYS_MAGIC "FMK1"
#define KEYS_MSG_MAX (4 + 1 + FM_SEAL_KEY_LEN + FM_SK_LEN)

struct fm_keyserve {
    int fd;
    pthread_t thread;
    atomic_bool stop;
    struct fm_keys keys;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int keys_sock_addr(const struct fm_config *cfg, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path, sizeof a->sun_path, "%s/keys.sock", cfg->data_dir);
    return n < 0 || (size_t)n >= sizeof a->sun_path ? FM_ETOOBIG : FM_OK;
}

/* The peer is this process's user or root. */
static bool keys_peer_ok(int fd)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof cr)
        return false;
    return cr.uid == geteuid() || cr.uid == 0;
}

/* Encodes the keys into msg; returns its length. */
static size_t keys_encode(const struct fm_keys *k, uint8_t msg[KEYS_MSG_MAX])
{
    memcpy(msg, KEYS_MAGIC, 4);
    msg[4] = k->has_id ? 1 : 0;
    memcpy(msg + 5, k->data.k, FM_SEAL_KEY_LEN);
    if (!k->has_id)
        return 5 + FM_SEAL_KEY_LEN;
    memcpy(msg + 5 + FM_SEAL_KEY_LEN, k->id.sk, FM_SK_LEN);
    return KEYS_MSG_MAX;
}

int fm_keys_decode(struct fm_keys *k, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    const uint8_t *magic, *dk, *sk = NULL;
    uint8_t has_id;
    memset(k, 0, sizeof *k);
    fm_cur_init(&c, p, n);
    if (fm_cur_bytes(&c, 4, &magic) != FM_OK || memcmp(magic, KEYS_MAGIC, 4) != 0 ||
        fm_cur_u8(&c, &has_id) != FM_OK || has_id > 1 ||
        fm_cur_bytes(&c, FM_SEAL_KEY_LEN, &dk) != FM_OK ||
        (has_id && fm_cur_bytes(&c, FM_SK_LEN, &sk) != FM_OK) || fm_cur_left(&c) != 0)
        return FM_EDECODE;
    int rc = fm_seal_key_from_bytes(&k->data, dk);
    if (rc == FM_OK && sk != NULL && (rc = fm_identity_from_sk(&k->id, sk)) == FM_OK)
        k->has_id = true;
    if (rc != FM_OK)
        fm_keys_release(k);
    return rc;
}

static void keys_serve_one(struct fm_keyserve *ks, int cfd)
{
    static struct fm_log_limiter lim;
    uint8_t msg[KEYS_MSG_MAX];
    if (!keys_peer_ok(cfd)) {
        fm_log_limited(&lim, 3, FM_LOG_WARN, "keys",
                       "refused the node's keys to a process of another user");
        return;
    }
    size_t n = keys_encode(&ks->keys, msg);
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(cfd, msg + off, n - off, MSG_NOSIGNAL);
        if (w <= 0 && errno != EINTR)
            break;
        if (w > 0)
            off += (size_t)w;
    }
    fm_wipe(msg, sizeof msg);
}

static void *keys_thread(void *arg)
{
    struct fm_keyserve *ks = arg;
    while (!atomic_load(&ks->stop)) {
        struct pollfd p = { .fd = ks->fd, .events = POLLIN };
        int r = poll(&p, 1, 100);
        if (r <= 0)
            continue;
        int cfd = accept4(ks->fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        keys_serve_one(ks, cfd);
        close(cfd);
    }
    return NULL;
}

int fm_keyserve_start(struct fm_keyserve **out, const struct fm_config *cfg,
                      const struct fm_keys *k)
{
    struct sockaddr_un a;
    *out = NULL;
    if (keys_sock_addr(cfg, &a) != FM_OK)
        return FM_ETOOBIG;
    struct fm_keyserve *ks = calloc(1, sizeof *ks);
    if (ks == NULL)
        return FM_ENOMEM;
    int rc = fm_keys_copy(&ks->keys, k);
    if (rc != FM_OK) {
        free(ks);
        return rc;
    }
    memcpy(ks->path, a.sun_path, sizeof ks->path);
    unlink(ks->path); /* a stale socket of a daemon that died (we hold the lock) */
    ks->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    mode_t old = umask(077);
    if (ks->fd < 0 || bind(ks->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(ks->fd, 16) != 0) {
        umask(old);
        fm_log(FM_LOG_ERROR, "keys", "cannot listen on %s: %s", ks->path, strerror(errno));
        rc = FM_EIO;
        goto fail;
    }
    umask(old);
    atomic_init(&ks->stop, false);
    if (pthread_create(&ks->thread, NULL, keys_thread, ks) != 0) {
        rc = FM_ENOMEM;
        unlink(ks->path);
        goto fail;
    }
    *out = ks;
    return FM_OK;
fail:
    if (ks->fd >= 0)
        close(ks->fd);
    fm_keys_release(&ks->keys);
    free(ks);
    return rc;
}

void fm_keyserve_stop(struct fm_keyserve **ksp)
{
    if (ksp == NULL || *ksp == NULL)
        return;
    struct fm_keyserve *ks = *ksp;
    atomic_store(&ks->stop, true);
    pthread_join(ks->thread, NULL);
    close(ks->fd);
    unlink(ks->path);
    fm_keys_release(&ks->keys);
    free(ks);
    *ksp = NULL;
}

int fm_keys_from_daemon(struct fm_keys *k, const struct fm_config *cfg)
{
    struct sockaddr_un a;
    uint8_t msg[KEYS_MSG_MAX + 1];
    size_t n = 0;
    memset(k, 0, sizeof *k);
    if (keys_sock_addr(cfg, &a) != FM_OK)
        return FM_ELOCKED;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FM_EIO;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return FM_ELOCKED; /* no daemon (or not yet listening) */
    }
    int rc = FM_EDECODE;
    if (!keys_peer_ok(fd)) {
        rc = FM_EPERM;
        goto out;
    }
    struct timeval tv = { .tv_sec = 5 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (n < sizeof msg) {
        ssize_t r = recv(fd, msg + n, sizeof msg - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    /* a daemon of another user hangs up without a word: locked for us */
    rc = n == 0 ? FM_ELOCKED : fm_keys_decode(k, msg, n);
out:
    fm_wipe(msg, sizeof msg);
    close(fd);
    return rc;
}
