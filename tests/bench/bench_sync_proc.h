/*
 * bench_sync_proc.h — the process side of bench_sync: free loopback
 * ports, `fieldmesh testbed` run as a child, configs rewritten through
 * fm_config_load/fm_config_write (peers, gossip timings, map size), real
 * fieldmeshd children started and stopped, their counters read over the
 * control socket (fm_sync_ctl_peers) and their memory read from
 * /proc/PID/status. Header-only, included once by bench_sync.c.
 */
#ifndef FM_BENCH_SYNC_PROC_H
#define FM_BENCH_SYNC_PROC_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "node/workflow/workflow.h"
#include "node/daemon/daemon.h"
#include "sync/sync.h"

#define BP_MAX_CHILDREN 64

/* Every daemon we started, so that an early exit still stops them. */
static pid_t bp_children[BP_MAX_CHILDREN];

static void bp_die(const char *what)
{
    fprintf(stderr, "bench_sync: %s\n", what);
    exit(1);
}

static void bp_kill_all(void)
{
    for (int i = 0; i < BP_MAX_CHILDREN; i++)
        if (bp_children[i] > 0) {
            kill(bp_children[i], SIGKILL);
            waitpid(bp_children[i], NULL, 0);
            bp_children[i] = 0;
        }
}

static bool bp_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a;
    bool ok;
    if (fd < 0)
        return false;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* A run of n free loopback ports; each call starts past the last one. */
static int bp_ports(int n)
{
    static int next;
    if (next == 0) { /* ctest hands each test its own block */
        const char *b = getenv("FM_PORT_BASE");
        uint64_t v;
        /* by hand: below Linux's ephemeral ports (32768 on), which
         * outgoing connections take at random */
        next = b != NULL && fm_parse_u64(b, &v) == 0 && v >= 1024 && v < 60000
                   ? (int)v
                   : 10000 + (int)(getpid() % 20000);
    }
    for (int tries = 0; tries < 200; tries++) {
        int base = next, ok = 1;
        if (base + n > 32000)
            base = next = 10000;
        for (int p = base; p < base + n && ok; p++)
            ok = bp_port_free(p);
        next = base + n;
        if (ok)
            return base;
    }
    bp_die("no free port range");
    return -1;
}

/* Runs argv (argv[0] a path) with stdout/stderr to `log` (NULL: /dev/null);
 * returns its pid. */
static pid_t bp_spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        bp_die("fork failed");
    if (pid == 0) {
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int bp_run(char *const argv[])
{
    int st;
    pid_t pid = bp_spawn(argv, NULL);
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- a set of nodes made by `fieldmesh testbed` ---- */
struct bp_node {
    char conf[FM_PATH_MAX];
    char log[FM_PATH_MAX + 16];
    struct fm_config cfg;
    int port; /* its own listen port */
    pid_t pid;
};

struct bp_net {
    char dir[FM_PATH_MAX];
    int n;
    struct bp_node *nodes;
};

static void bp_net_make(struct bp_net *net, const char *fieldmesh, const char *dir, int n)
{
    char nodes_s[16], base_s[16];
    int base = bp_ports(n);
    memset(net, 0, sizeof *net);
    fm_strlcpy(net->dir, dir, sizeof net->dir);
    net->n = n;
    net->nodes = calloc((size_t)n, sizeof *net->nodes);
    if (!net->nodes)
        bp_die("out of memory");
    snprintf(nodes_s, sizeof nodes_s, "%d", n);
    snprintf(base_s, sizeof base_s, "%d", base);
    char *argv[] = {(char *)fieldmesh, "testbed", (char *)dir, "--nodes", nodes_s, "--topology",
                    "line", "--base-port", base_s, NULL};
    if (bp_run(argv) != 0)
        bp_die("fieldmesh testbed failed");
    for (int i = 0; i < n; i++) {
        struct bp_node *nd = &net->nodes[i];
        char err[600];
        snprintf(nd->conf, sizeof nd->conf, "%s/node%d/node.yaml", dir, i + 1);
        snprintf(nd->log, sizeof nd->log, "%s/node%d/daemon.log", dir, i + 1);
        if (fm_config_load(&nd->cfg, nd->conf, err, sizeof err) != 0)
            bp_die(err);
        nd->port = base + i;
    }
}

/* Rewrites node i's config file from nd->cfg. */
static void bp_node_save(struct bp_node *nd)
{
    char err[600];
    unlink(nd->conf);
    if (fm_config_write(&nd->cfg, nd->conf) != 0)
        bp_die("cannot write a config");
    if (fm_config_load(&nd->cfg, nd->conf, err, sizeof err) != 0)
        bp_die(err);
}

/* Adds node b to node a's peers, reached at `port` (b's own port, or a
 * proxy in front of it); the key is filled by bp_link. */
static void bp_peer_add(struct bp_net *net, int a, int b, int port)
{
    struct fm_config *c = &net->nodes[a].cfg;
    if (c->npeers >= FM_CONFIG_MAX_PEERS)
        bp_die("too many peers");
    struct fm_peer_conf *p = &c->peers[c->npeers++];
    memset(p, 0, sizeof *p);
    snprintf(p->endpoint, sizeof p->endpoint, "tcp://127.0.0.1:%d", port);
    snprintf(p->name, sizeof p->name, "node%d", b + 1);
}

/* The node key of node i (its data dir holds node.key.pub). */
static void bp_node_pk(const struct bp_net *net, int i, uint8_t pk[FM_PK_LEN])
{
    char path[FM_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/node.key.pub", net->nodes[i].cfg.data_dir);
    if (fm_key_read_file(path, pk) != 0)
        bp_die("cannot read a node key");
}

static void bp_link(struct bp_net *net, int a, int b, int port_of_b)
{
    struct fm_config *c = &net->nodes[a].cfg;
    bp_peer_add(net, a, b, port_of_b);
    bp_node_pk(net, b, c->peers[c->npeers - 1].pk);
}

static void bp_daemon_start(struct bp_node *nd, const char *fieldmeshd)
{
    char *argv[] = {(char *)fieldmeshd, "-c", nd->conf, "--log-level", "warn", NULL};
    nd->pid = bp_spawn(argv, nd->log);
    for (int i = 0; i < BP_MAX_CHILDREN; i++)
        if (bp_children[i] == 0) {
            bp_children[i] = nd->pid;
            break;
        }
}

static void bp_daemon_stop(struct bp_node *nd)
{
    int st;
    if (nd->pid <= 0)
        return;
    kill(nd->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(nd->pid, &st, WNOHANG) == nd->pid)
            goto reaped;
        usleep(25000);
    }
    fprintf(stderr, "bench_sync: daemon %d ignored SIGTERM for 5 s; killing it\n", (int)nd->pid);
    kill(nd->pid, SIGKILL);
    waitpid(nd->pid, &st, 0);
reaped:
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "bench_sync: daemon %d exited abnormally (status %d); see %s\n",
                (int)nd->pid, st, nd->log);
    for (int i = 0; i < BP_MAX_CHILDREN; i++)
        if (bp_children[i] == nd->pid)
            bp_children[i] = 0;
    nd->pid = 0;
}

/* Counters and peers of a running daemon; false if it does not answer. */
static bool bp_ctl(const struct bp_node *nd, struct fm_sync_status *st,
                   struct fm_sync_peer_info **peers, size_t *np)
{
    struct fm_sync_peer_info *p = NULL;
    size_t n = 0;
    if (fm_sync_ctl_peers(nd->cfg.control, 1000, st, &p, &n) != 0)
        return false;
    if (peers) {
        *peers = p;
        *np = n;
    } else {
        free(p);
    }
    return true;
}

static void bp_wait_up(const struct bp_node *nd)
{
    struct fm_sync_status st;
    for (int i = 0; i < 400; i++) {
        if (bp_ctl(nd, &st, NULL, NULL))
            return;
        usleep(25000);
    }
    bp_die("a daemon did not answer on its control socket within 10 s");
}

/* A field of /proc/PID/status in KiB ("VmHWM", "VmRSS", "RssAnon"); -1 if absent. */
static long bp_proc_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    size_t fl = strlen(field);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            char *end;
            errno = 0;
            long x = strtol(line + fl + 1, &end, 10);
            if (errno == 0 && end != line + fl + 1)
                v = x;
            break;
        }
    }
    fclose(f);
    return v;
}

/* Seconds of CPU (user + system) process pid has used, from /proc; 0 if
 * it cannot be read. */
static double bp_proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                            &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* How many ops a store holds: the sum of its heads' seqs. */
static uint64_t bp_ops_held(struct fm_node *n)
{
    struct fm_head *h = NULL;
    size_t nh = 0;
    uint64_t got = 0;
    if (fm_node_heads(n, &h, &nh) != 0)
        bp_die("cannot read the receiver's heads");
    for (size_t k = 0; k < nh; k++)
        got += h[k].seq;
    free(h);
    return got;
}

/* rm -rf without following symlinks (the bench's own temp dirs only). */
static void bp_rmrf(const char *dir)
{
    char *argv[] = {"/bin/rm", "-rf", "--one-file-system", (char *)dir, NULL};
    (void)bp_run(argv);
}

#endif
