/*
 * test_service.c — unit tests for node/daemon/service.c, the sd_notify protocol:
 * a state reaches a datagram socket named by $NOTIFY_SOCKET (a path or an
 * abstract "@name") byte for byte; an unset variable sends nothing and
 * succeeds; malformed names and states are refused; $WATCHDOG_USEC and
 * $WATCHDOG_PID are parsed strictly. The daemon side (READY, pings,
 * STOPPING) is tested end to end in tests/e2e/test_service.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "node/node.h"

/* Binds a datagram socket at `name` (path or "@abstract"); returns its fd. */
static int bind_receiver(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_true(n < sizeof(sa.sun_path));
    memcpy(sa.sun_path, name, n);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
    return fd;
}

static void expect_datagram(int fd, const char *want)
{
    char buf[1024];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    assert_int_equal(n, (ssize_t)strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

static void test_notify_path_socket(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/fm-svc-%ld.sock", (long)getpid());
    unlink(path);
    int fd = bind_receiver(path);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(fm_service_notify("READY=1\nSTATUS=node a, 2 peer(s)"), FM_OK);
    expect_datagram(fd, "READY=1\nSTATUS=node a, 2 peer(s)");
    assert_int_equal(fm_service_notify("WATCHDOG=1"), FM_OK);
    expect_datagram(fd, "WATCHDOG=1");
    close(fd);
    unlink(path);
    /* nobody listens any more: the send fails, it does not block or crash */
    assert_int_equal(fm_service_notify("STOPPING=1"), FM_EIO);
    unsetenv("NOTIFY_SOCKET");
}

static void test_notify_abstract_socket(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof(name), "@fm-svc-test-%ld", (long)getpid());
    int fd = bind_receiver(name);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(fm_service_notify("STOPPING=1"), FM_OK);
    expect_datagram(fd, "STOPPING=1");
    close(fd);
    unsetenv("NOTIFY_SOCKET");
}

static void test_notify_unset_or_bad(void **state)
{
    (void)state;
    char longname[200];
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(fm_service_notify("READY=1"), FM_OK); /* no manager: nothing to do */
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(fm_service_notify("READY=1"), FM_OK);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(fm_service_notify("READY=1"), FM_EINVAL);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[0] = '/';
    longname[sizeof(longname) - 1] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    assert_int_equal(fm_service_notify("READY=1"), FM_EINVAL);
    setenv("NOTIFY_SOCKET", "/tmp/x.sock", 1);
    assert_int_equal(fm_service_notify(""), FM_EINVAL);
    unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_period(void **state)
{
    (void)state;
    uint64_t ms = 99;
    char pid[32];
    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(fm_service_watchdog_ms(&ms), FM_OK);
    assert_int_equal(ms, 0);
    setenv("WATCHDOG_USEC", "30000000", 1);
    assert_int_equal(fm_service_watchdog_ms(&ms), FM_OK);
    assert_int_equal(ms, 30000);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(fm_service_watchdog_ms(&ms), FM_OK);
    assert_int_equal(ms, 30000);
    setenv("WATCHDOG_PID", "1", 1); /* for another process */
    assert_int_equal(fm_service_watchdog_ms(&ms), FM_OK);
    assert_int_equal(ms, 0);
    setenv("WATCHDOG_PID", "12x", 1);
    assert_int_equal(fm_service_watchdog_ms(&ms), FM_EINVAL);
    unsetenv("WATCHDOG_PID");
    const char *bad[] = {"", "abc", "-5", "30s", "999", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("WATCHDOG_USEC", bad[i], 1);
        int rc = fm_service_watchdog_ms(&ms);
        if (bad[i][0] == '\0')
            assert_int_equal(rc, FM_OK); /* empty: no watchdog */
        else
            assert_int_equal(rc, FM_EINVAL);
        assert_int_equal(ms, 0);
    }
    unsetenv("WATCHDOG_USEC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_path_socket),
        cmocka_unit_test(test_notify_abstract_socket),
        cmocka_unit_test(test_notify_unset_or_bad),
        cmocka_unit_test(test_watchdog_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
