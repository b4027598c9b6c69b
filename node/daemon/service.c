/*
 * service.c — telling a service manager how the daemon is doing: the
 * sd_notify protocol of systemd (READY=1, WATCHDOG=1, STOPPING=1, STATUS=).
 *
 * The protocol is one datagram of "KEY=VALUE" lines to the Unix socket named
 * by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), and the
 * watchdog period comes from $WATCHDOG_USEC (for our pid, if $WATCHDOG_PID is
 * set). systemd lists it among its stable interfaces, meant to be spoken
 * without libsystemd, so we speak it here in a few dozen lines rather than
 * link libsystemd and its compression libraries into a daemon that parses
 * bytes from the network (docs/decisions.md). Without
 * $NOTIFY_SOCKET every call does nothing, so the daemon runs the same under
 * a shell, a test or another supervisor.
 */
#include "../node.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define SERVICE_MSG_MAX 512

/* Fills *sa and *len from $NOTIFY_SOCKET. FM_ENOTFOUND when it is unset. */
static int service_socket_addr(struct sockaddr_un *sa, socklen_t *len)
{
    const char *path = getenv("NOTIFY_SOCKET");
    size_t n;
    if (path == NULL || path[0] == '\0')
        return FM_ENOTFOUND;
    n = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || n >= sizeof(sa->sun_path))
        return FM_EINVAL;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, n);
    if (path[0] == '@')
        sa->sun_path[0] = '\0'; /* abstract namespace: the length counts, no NUL */
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
    return FM_OK;
}

int fm_service_notify(const char *state)
{
    struct sockaddr_un sa;
    socklen_t len;
    size_t n = strlen(state);
    int fd, rc = service_socket_addr(&sa, &len);
    if (rc == FM_ENOTFOUND)
        return FM_OK;
    if (rc != FM_OK || n == 0 || n > SERVICE_MSG_MAX)
        return FM_EINVAL;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return FM_EIO;
    ssize_t sent = sendto(fd, state, n, MSG_NOSIGNAL, (const struct sockaddr *)&sa, len);
    rc = (sent == (ssize_t)n) ? FM_OK : FM_EIO;
    close(fd);
    return rc;
}

int fm_service_watchdog_ms(uint64_t *period_ms)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    char *end;
    *period_ms = 0;
    if (usec == NULL || usec[0] == '\0')
        return FM_OK;
    if (pid != NULL && pid[0] != '\0') {
        errno = 0;
        unsigned long long p = strtoull(pid, &end, 10);
        if (errno != 0 || *end != '\0' || end == pid)
            return FM_EINVAL;
        if (p != (unsigned long long)getpid())
            return FM_OK; /* meant for another process */
    }
    errno = 0;
    unsigned long long us = strtoull(usec, &end, 10);
    if (errno != 0 || *end != '\0' || end == usec || usec[0] == '-' || us < 1000)
        return FM_EINVAL;
    *period_ms = us / 1000u;
    return FM_OK;
}
