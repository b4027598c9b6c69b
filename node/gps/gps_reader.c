/*
 * gps_reader.c — fieldmeshd's client of gpsd (docs/gps.md).
 *
 * A vehicle's receiver is read by gpsd; we connect to gpsd's TCP port,
 * ask it to WATCH in JSON, and read its reports between the sync engine's
 * turns, never blocking: a non-blocking socket, at most GPS_READ_MAX bytes
 * per turn, lines of at most GPS_LINE_MAX bytes (a longer one is dropped
 * whole, so a hostile or broken gpsd can neither flood the loop nor grow
 * our memory). Each report goes through gps_json_decode; fixes through the
 * rules of gps_rules.c; a good fix that is due becomes the unit's
 * soft-state position with its fix time and accuracy, and is handed to
 * the arrival watch (gps_arrive.c).
 *
 * gpsd going away (EOF, an error, no answer to the connect) is survived:
 * the state says "gpsd gone" and we connect again after 1, 2, 4, 8 s. The
 * state (gone, no fix, poor fix, ok) and counters are written to the local
 * store on every change and every GPS_STATUS_MS for `fieldmesh status`.
 */
#include "gps_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define COMPONENT "gps"
#define GPS_READ_MAX 65536       /* bytes taken from gpsd per loop turn */
#define GPS_BACKOFF_MAX_MS 8000  /* reconnect at most this long after losing gpsd */
#define GPS_CONNECT_MS 5000      /* a connect that has not completed by then is given up */
#define GPS_QUIET_MS 5000        /* no report for this long while connected: no fix */
#define GPS_STATUS_MS 5000       /* status record refreshed at least this often */

struct fm_gps {
    struct fm_gps_conf conf;
    char unit[FM_ID_MAX + FM_NAME_MAX];
    int fd;
    bool connecting, ever_connected;
    uint64_t connect_start, next_connect, backoff;
    char line[GPS_LINE_MAX + 1];
    size_t len;
    bool dropping;               /* inside a line that was too long */
    uint64_t last_report_mono;   /* last TPV */
    enum gps_verdict last_verdict;
    struct gps_rules rules;
    struct gps_arrive arrive;
    struct fm_gps_status st;
    uint64_t next_status_mono;
    bool status_dirty;
    struct fm_log_limiter lim;
};

int fm_gps_new(struct fm_gps **out, const struct fm_gps_conf *conf, const char *unit)
{
    struct fm_gps *g;
    *out = NULL;
    if (conf == NULL || unit == NULL || unit[0] == '\0')
        return FM_EINVAL;
    if ((g = calloc(1, sizeof *g)) == NULL)
        return FM_ENOMEM;
    g->conf = *conf;
    if (fm_strlcpy(g->unit, unit, sizeof g->unit) != 0) {
        free(g);
        return FM_EINVAL;
    }
    g->fd = -1;
    g->backoff = 1000;
    g->rules.conf = &g->conf;
    g->rules.pub_track = -1;
    g->arrive.conf = &g->conf;
    fm_strlcpy(g->arrive.unit, unit, sizeof g->arrive.unit);
    g->st.state = FM_GPS_GONE;
    g->st.last_accuracy_dm = FM_GPS_NO_ACCURACY;
    g->status_dirty = true;
    *out = g;
    return FM_OK;
}

static void gps_close(struct fm_gps *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    g->connecting = false;
    g->len = 0;
    g->dropping = false;
}

void fm_gps_destroy(struct fm_gps **gp)
{
    if (gp == NULL || *gp == NULL)
        return;
    gps_close(*gp);
    free(*gp);
    *gp = NULL;
}

int fm_gps_fd(const struct fm_gps *g)
{
    return g == NULL ? -1 : g->fd;
}

static void gps_set_state(struct fm_gps *g, enum fm_gps_state s, uint64_t wall_ms)
{
    if (g->st.state == s)
        return;
    fm_log(s == FM_GPS_OK ? FM_LOG_INFO : FM_LOG_WARN, COMPONENT, "%s (was %s)",
           fm_gps_state_name(s), fm_gps_state_name(g->st.state));
    g->st.state = s;
    g->st.since_ms = wall_ms;
    g->status_dirty = true;
}

/* Lost gpsd (or never reached it): close, and try again after the backoff. */
static void gps_lost(struct fm_gps *g, const char *why, uint64_t wall_ms, uint64_t mono_ms)
{
    fm_log_limited(&g->lim, 3, FM_LOG_WARN, COMPONENT, "gpsd at %s:%u: %s", g->conf.host,
                   (unsigned)g->conf.port, why);
    gps_close(g);
    g->next_connect = mono_ms + g->backoff;
    g->backoff = g->backoff * 2 > GPS_BACKOFF_MAX_MS ? GPS_BACKOFF_MAX_MS : g->backoff * 2;
    gps_set_state(g, FM_GPS_GONE, wall_ms);
}

static void gps_connect(struct fm_gps *g, uint64_t wall_ms, uint64_t mono_ms)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char port[8];
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    /* a name other than localhost would mean a DNS lookup in the loop */
    if (strcmp(g->conf.host, "localhost") != 0)
        hints.ai_flags |= AI_NUMERICHOST;
    snprintf(port, sizeof port, "%u", (unsigned)g->conf.port);
    if (getaddrinfo(g->conf.host, port, &hints, &ai) != 0 || ai == NULL) {
        gps_lost(g, "bad address (a numeric IP or localhost)", wall_ms, mono_ms);
        return;
    }
    g->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g->fd < 0) {
        freeaddrinfo(ai);
        gps_lost(g, strerror(errno), wall_ms, mono_ms);
        return;
    }
    int rc = connect(g->fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc != 0 && errno != EINPROGRESS) {
        gps_lost(g, strerror(errno), wall_ms, mono_ms);
        return;
    }
    g->connecting = true;
    g->connect_start = mono_ms;
}

/* The connect completed: ask for reports. The device name is printable
 * text (config); quotes and backslashes are escaped. */
static void gps_watch(struct fm_gps *g, uint64_t wall_ms, uint64_t mono_ms)
{
    char cmd[64 + 2 * FM_GPS_DEVICE_MAX], dev[2 * FM_GPS_DEVICE_MAX];
    size_t k = 0;
    for (const char *p = g->conf.device; *p && k + 2 < sizeof dev; p++) {
        if (*p == '"' || *p == '\\')
            dev[k++] = '\\';
        dev[k++] = *p;
    }
    dev[k] = '\0';
    int n = snprintf(cmd, sizeof cmd, "?WATCH={\"enable\":true,\"json\":true%s%s%s};\n",
                     k ? ",\"device\":\"" : "", dev, k ? "\"" : "");
    if (n < 0 || (size_t)n >= sizeof cmd || send(g->fd, cmd, (size_t)n, MSG_NOSIGNAL) != n) {
        gps_lost(g, "cannot send WATCH", wall_ms, mono_ms);
        return;
    }
    g->connecting = false;
    if (g->ever_connected)
        g->st.reconnects++;
    g->ever_connected = true;
    g->backoff = 1000;
    g->last_report_mono = mono_ms;
    fm_log(FM_LOG_INFO, COMPONENT, "connected to gpsd at %s:%u", g->conf.host,
           (unsigned)g->conf.port);
    gps_set_state(g, FM_GPS_NOFIX, wall_ms);
}

static void gps_publish(struct fm_gps *g, struct fm_node *n, const struct gps_tpv *t,
                        uint64_t mono_ms)
{
    struct fm_gps_fix fix;
    struct fm_unit *u = malloc(sizeof *u);
    int rc = u == NULL ? FM_ENOMEM : gps_unit_resolve(n, g->unit, u);
    gps_fix_from_tpv(t, &fix);
    if (rc == FM_OK)
        rc = fm_node_soft_fix(n, u->id, &fix);
    free(u);
    if (rc != FM_OK) {
        fm_log_limited(&g->lim, 3, FM_LOG_WARN, COMPONENT, "cannot publish the position of %s: %s",
                       g->unit, fm_strerror(rc));
        return;
    }
    gps_rules_published(&g->rules, t, mono_ms);
    g->st.published++;
    g->status_dirty = true;
}

static void gps_report(struct fm_gps *g, struct fm_node *n, const struct gps_tpv *t,
                       uint64_t wall_ms, uint64_t mono_ms)
{
    enum gps_verdict v = gps_rules_judge(&g->rules, t, wall_ms);
    g->last_report_mono = mono_ms;
    g->last_verdict = v;
    if (v == GPS_V_JUMP) {
        g->st.rejected_jumps++;
        fm_log_limited(&g->lim, 3, FM_LOG_WARN, COMPONENT,
                       "fix at %.6f,%.6f refused: a jump from the last good fix", t->lat, t->lon);
        return;
    }
    gps_set_state(g, v == GPS_V_GOOD ? FM_GPS_OK : v == GPS_V_POOR ? FM_GPS_POOR : FM_GPS_NOFIX,
                  wall_ms);
    if (v != GPS_V_GOOD)
        return;
    g->st.last_fix_ms = t->time_ms;
    g->st.last_accuracy_dm = (uint32_t)(t->eph_m * 10 + 0.5);
    if (gps_rules_due(&g->rules, t, mono_ms))
        gps_publish(g, n, t, mono_ms);
    gps_arrive_fix(&g->arrive, n, t, mono_ms);
}

static void gps_line(struct fm_gps *g, struct fm_node *n, uint64_t wall_ms, uint64_t mono_ms)
{
    struct gps_msg m;
    if (gps_json_decode(&m, g->line, g->len) != FM_OK) {
        g->st.bad_lines++;
        fm_log_limited(&g->lim, 3, FM_LOG_WARN, COMPONENT, "refused a malformed line from gpsd "
                       "(%zu bytes)", g->len);
        return;
    }
    if (m.cls == GPS_CLASS_TPV)
        gps_report(g, n, &m.tpv, wall_ms, mono_ms);
    else if (m.cls == GPS_CLASS_ERROR)
        fm_log_limited(&g->lim, 3, FM_LOG_WARN, COMPONENT, "gpsd says: %s", m.message);
}

/* Splits what arrived into lines; a line longer than GPS_LINE_MAX is
 * dropped up to its newline and counted once. */
static void gps_bytes(struct fm_gps *g, struct fm_node *n, const char *p, size_t len,
                      uint64_t wall_ms, uint64_t mono_ms)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n') {
            if (!g->dropping)
                gps_line(g, n, wall_ms, mono_ms);
            g->dropping = false;
            g->len = 0;
        } else if (g->dropping) {
            continue;
        } else if (g->len == GPS_LINE_MAX) {
            g->st.bad_lines++;
            fm_log_limited(&g->lim, 3, FM_LOG_WARN, COMPONENT,
                           "dropped a line from gpsd longer than %d bytes", GPS_LINE_MAX);
            g->dropping = true;
            g->len = 0;
        } else {
            g->line[g->len++] = p[i];
        }
    }
}

static void gps_read(struct fm_gps *g, struct fm_node *n, uint64_t wall_ms, uint64_t mono_ms)
{
    char buf[4096];
    size_t total = 0;
    while (g->fd >= 0 && total < GPS_READ_MAX) {
        ssize_t r = recv(g->fd, buf, sizeof buf, 0);
        if (r > 0) {
            total += (size_t)r;
            gps_bytes(g, n, buf, (size_t)r, wall_ms, mono_ms);
        } else if (r == 0) {
            gps_lost(g, "closed the connection", wall_ms, mono_ms);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            gps_lost(g, strerror(errno), wall_ms, mono_ms);
        }
    }
}

static void gps_status_flush(struct fm_gps *g, struct fm_node *n, uint64_t wall_ms,
                             uint64_t mono_ms)
{
    if (!g->status_dirty && mono_ms < g->next_status_mono)
        return;
    g->st.updated_ms = wall_ms;
    int rc = fm_node_gps_status_put(n, &g->st);
    if (rc != FM_OK)
        fm_log_limited(&g->lim, 3, FM_LOG_WARN, COMPONENT, "cannot record the GPS status: %s",
                       fm_strerror(rc));
    g->status_dirty = false;
    g->next_status_mono = mono_ms + GPS_STATUS_MS;
}

void fm_gps_poll(struct fm_gps *g, struct fm_node *n, uint64_t wall_ms, uint64_t mono_ms)
{
    if (g == NULL)
        return;
    if (g->fd < 0 && mono_ms >= g->next_connect)
        gps_connect(g, wall_ms, mono_ms);
    if (g->fd >= 0 && g->connecting) {
        struct pollfd pfd = {.fd = g->fd, .events = POLLOUT};
        int err = 0;
        socklen_t elen = sizeof err;
        if (poll(&pfd, 1, 0) > 0) {
            if (getsockopt(g->fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
                gps_lost(g, err ? strerror(err) : "connect failed", wall_ms, mono_ms);
            else
                gps_watch(g, wall_ms, mono_ms);
        } else if (mono_ms - g->connect_start > GPS_CONNECT_MS) {
            gps_lost(g, "connect timed out", wall_ms, mono_ms);
        }
    }
    if (g->fd >= 0 && !g->connecting) {
        gps_read(g, n, wall_ms, mono_ms);
        if (g->fd >= 0 && mono_ms - g->last_report_mono > GPS_QUIET_MS)
            gps_set_state(g, FM_GPS_NOFIX, wall_ms); /* gpsd answers, the receiver is silent */
    }
    gps_status_flush(g, n, wall_ms, mono_ms);
}
