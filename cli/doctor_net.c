/*
 * doctor_net.c — the network half of `fieldmesh doctor`: is the daemon
 * running (it answers on the control socket), does each configured peer
 * answer it, how far is each peer's clock from ours, and can the listen
 * port be had. Peers and clocks are seen through the daemon, which is the
 * one process that talks to them; with the daemon down they are reported
 * as not checked rather than guessed.
 */
#include "doctor_int.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint64_t abs_i64(int64_t v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

static const struct fm_peer_info *find_peer(const struct fm_peer_info *p, size_t n,
                                            const uint8_t pk[FM_PK_LEN])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(p[i].pk, pk, FM_PK_LEN) == 0)
            return &p[i];
    return NULL;
}

static void check_clock(struct doctor *d, const char *name, const struct fm_peer_info *p)
{
    uint64_t skew = abs_i64(p->skew_ms);
    const char *fix = "check time sync on both machines: timedatectl status "
                      "(System clock synchronized: yes)";
    if (!p->skew_known)
        doctor_add(d, "clock", DOCTOR_SKIP, NULL, "clock of peer %s not known yet", name);
    else if (skew > d->cfg.max_skew_ms)
        doctor_add(d, "clock", DOCTOR_PROBLEM, fix,
                   "peer %s's clock is %+.1f s from ours, beyond gossip.max_skew_ms (%.1f s): "
                   "its ops are flagged and its positions dropped", name,
                   (double)p->skew_ms / 1000.0, (double)d->cfg.max_skew_ms / 1000.0);
    else if (skew > DOCTOR_SKEW_WARN_MS)
        doctor_add(d, "clock", DOCTOR_WARN, fix, "peer %s's clock is %+.1f s from ours", name,
                   (double)p->skew_ms / 1000.0);
    else
        doctor_add(d, "clock", DOCTOR_OK, NULL, "peer %s's clock is %+.3f s from ours", name,
                   (double)p->skew_ms / 1000.0);
}

static void check_peer(struct doctor *d, const struct fm_peer_conf *pc,
                       const struct fm_peer_info *pi)
{
    char name[FM_NAME_MAX + FM_ENDPOINT_MAX + 8], fix[DOCTOR_TEXT_MAX];
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(pc->pk, key);
    snprintf(name, sizeof(name), "%s (%s)", pc->name[0] ? pc->name : key, pc->endpoint);
    snprintf(fix, sizeof(fix), "check that fieldmeshd runs on the peer and that %s is "
             "reachable from here (address, firewall); then: fieldmesh -c %s peers",
             pc->endpoint, d->conf_path);
    if (pi == NULL || !pi->connected) {
        uint64_t now = fm_now_ms();
        if (pi != NULL && pi->last_heard_ms != 0 && now > pi->last_heard_ms)
            doctor_add(d, "peer", DOCTOR_PROBLEM, fix, "peer %s does not answer (last heard "
                       "%llu s ago)", name,
                       (unsigned long long)((now - pi->last_heard_ms) / 1000));
        else
            doctor_add(d, "peer", DOCTOR_PROBLEM, fix, "peer %s does not answer (never heard)",
                       name);
        return;
    }
    if (pi->refused_us) {
        doctor_add(d, "peer", DOCTOR_PROBLEM,
                   "have this node enrolled (or its revocation checked) by the organisation",
                   "peer %s refuses our handshake: it does not admit this node", name);
        return;
    }
    if (pi->revoked) {
        doctor_add(d, "peer", DOCTOR_PROBLEM, "ask the organisation about this peer's key",
                   "peer %s is revoked or its certificate expired", name);
        return;
    }
    doctor_add(d, "peer", DOCTOR_OK, NULL, "peer %s answers (%llu ops it lacks, %llu we lack)",
               name, (unsigned long long)pi->it_lacks, (unsigned long long)pi->we_lack);
    check_clock(d, pc->name[0] ? pc->name : key, pi);
}

void doctor_check_daemon_and_peers(struct doctor *d)
{
    struct fm_daemon_info info;
    struct fm_peer_info *peers = NULL;
    size_t n = 0;
    char fix[DOCTOR_TEXT_MAX];
    int rc = fm_node_daemon_peers(&d->cfg, &info, &peers, &n);
    if (rc != FM_OK) {
        snprintf(fix, sizeof(fix), "sudo systemctl start fieldmeshd (or: fieldmeshd -c %s)",
                 d->conf_path);
        doctor_add(d, "daemon", DOCTOR_PROBLEM, fix,
                   "fieldmeshd is not running: no answer on %s (%s)", d->cfg.control,
                   fm_strerror(rc));
        if (d->cfg.npeers > 0)
            doctor_add(d, "peer", DOCTOR_SKIP, NULL,
                       "%zu peer(s) and their clocks not checked: the daemon is down",
                       d->cfg.npeers);
        return;
    }
    d->daemon_up = true;
    doctor_add(d, "daemon", DOCTOR_OK, NULL, "fieldmeshd runs (pid %llu, up %llu s)",
               (unsigned long long)info.pid, (unsigned long long)(info.uptime_ms / 1000));
    if (d->cfg.npeers == 0)
        doctor_add(d, "peer", DOCTOR_WARN, "list the peers this node dials under network.peers",
                   "no peers configured: this node syncs only with nodes that dial it");
    for (size_t i = 0; i < d->cfg.npeers; i++)
        check_peer(d, &d->cfg.peers[i], find_peer(peers, n, d->cfg.peers[i].pk));
    free(peers);
}

/* Splits "tcp://HOST:PORT" (HOST may be "*", a name, an IPv4 or a
 * [bracketed] IPv6 address). false for anything else. */
static bool split_tcp(const char *ep, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *h, *colon;
    if (strncmp(ep, "tcp://", 6) != 0)
        return false;
    h = ep + 6;
    colon = strrchr(h, ':');
    if (colon == NULL || colon == h || colon[1] == '\0')
        return false;
    size_t hl = (size_t)(colon - h);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hcap || strlen(colon + 1) >= pcap)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, strlen(colon + 1) + 1);
    return true;
}

void doctor_check_port(struct doctor *d)
{
    char host[FM_ENDPOINT_MAX], port[16], fix[DOCTOR_TEXT_MAX];
    struct addrinfo hints = {0}, *ai = NULL;
    if (d->cfg.listen[0] == '\0')
        return; /* a node that only dials */
    if (!split_tcp(d->cfg.listen, host, sizeof(host), port, sizeof(port)))
        return; /* ipc:// endpoints: the daemon check covers them */
    if (d->daemon_up) {
        doctor_add(d, "port", DOCTOR_OK, NULL, "%s is held by fieldmeshd", d->cfg.listen);
        return;
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int g = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, port, &hints, &ai);
    if (g != 0) {
        snprintf(fix, sizeof(fix), "correct network.listen in %s", d->conf_path);
        doctor_add(d, "port", DOCTOR_PROBLEM, fix, "cannot resolve the listen address %s: %s",
                   d->cfg.listen, gai_strerror(g));
        return;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol), one = 1;
    int err = 0;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        err = errno;
    if (fd >= 0)
        close(fd);
    freeaddrinfo(ai);
    if (err == EADDRINUSE) {
        snprintf(fix, sizeof(fix), "find the process with: ss -ltnp 'sport = :%s'; stop it or "
                 "change network.listen in %s", port, d->conf_path);
        doctor_add(d, "port", DOCTOR_PROBLEM, fix,
                   "port %s of %s is taken by another process: fieldmeshd cannot listen",
                   port, d->cfg.listen);
    } else if (err != 0) {
        doctor_add(d, "port", DOCTOR_PROBLEM, NULL, "cannot bind %s: %s", d->cfg.listen,
                   strerror(err));
    } else {
        doctor_add(d, "port", DOCTOR_OK, NULL, "%s is free for fieldmeshd", d->cfg.listen);
    }
}
