/*
 * log.c — the one logging module. Each event becomes one line on stderr:
 * "2024-05-01T12:00:00.123Z WARN sync: peer sent a bad frame".
 *
 * The level is checked before anything is formatted, so a disabled debug
 * line costs one comparison. The line is assembled in a stack buffer and
 * written with a single fwrite so concurrent writers do not interleave
 * within a line. Control characters in the message (a peer may have put
 * them in a name) are replaced with '?' so nobody can forge log lines.
 * fm_log_limited adds a per-call-site window (burst lines per 10 s on the
 * monotonic clock) for anything a remote peer can trigger; one mutex keeps
 * the limiters' counters consistent across threads.
 *
 * When stderr is the systemd journal ($JOURNAL_STREAM names its device and
 * inode, as systemd sets it for a service's stdout/stderr), a line is
 * "<4>sync: peer sent a bad frame" instead: the syslog priority prefix lets
 * `journalctl -p` filter by level, and the journal stamps time itself.
 */
#include "fm_base.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024
#define LOG_WINDOW_MS 10000u

/* Read on every call from any thread; set rarely. */
static atomic_int log_level = FM_LOG_INFO;
/* Guards every limiter's counters: limiters are shared statics. */
static pthread_mutex_t limiter_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static const char *const level_words[] = {"error", "warn", "info", "debug"};
/* syslog priorities: err, warning, info, debug */
static const char journal_prio[] = {'3', '4', '6', '7'};
/* 0 not checked yet, 1 stderr is a plain stream, 2 it is the journal */
static atomic_int stderr_kind;

void fm_log_set_level(enum fm_log_level lvl)
{
    if ((int)lvl < (int)FM_LOG_ERROR)
        lvl = FM_LOG_ERROR;
    if (lvl > FM_LOG_DEBUG)
        lvl = FM_LOG_DEBUG;
    atomic_store_explicit(&log_level, (int)lvl, memory_order_relaxed);
}

enum fm_log_level fm_log_get_level(void)
{
    return (enum fm_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

int fm_log_parse_level(const char *s, enum fm_log_level *out)
{
    if (s == NULL)
        return FM_EINVAL;
    for (size_t i = 0; i < sizeof level_words / sizeof level_words[0]; i++) {
        if (strcmp(s, level_words[i]) == 0) {
            *out = (enum fm_log_level)i;
            return FM_OK;
        }
    }
    return FM_EINVAL;
}

static bool log_enabled(enum fm_log_level lvl)
{
    return (int)lvl >= (int)FM_LOG_ERROR && lvl <= fm_log_get_level();
}

/* True when stderr is the stream $JOURNAL_STREAM ("DEV:INODE") names; a
 * child that inherited the variable but not the stream does not match. */
static bool log_to_journal(void)
{
    int kind = atomic_load_explicit(&stderr_kind, memory_order_relaxed);
    if (kind == 0) {
        const char *js = getenv("JOURNAL_STREAM");
        char want[64];
        struct stat st;
        kind = 1;
        if (js != NULL && fstat(STDERR_FILENO, &st) == 0 &&
            snprintf(want, sizeof want, "%llu:%llu", (unsigned long long)st.st_dev,
                     (unsigned long long)st.st_ino) < (int)sizeof want &&
            strcmp(js, want) == 0)
            kind = 2;
        atomic_store_explicit(&stderr_kind, kind, memory_order_relaxed);
    }
    return kind == 2;
}

/* The line's head: "<P>component: " for the journal, else
 * "TIME LEVEL component: ". Returns snprintf's result. */
static int log_format_head(char *line, size_t cap, enum fm_log_level lvl, const char *component)
{
    uint64_t now = fm_now_ms();
    time_t secs = (time_t)(now / 1000u);
    struct tm tm;
    if (component == NULL)
        component = "-";
    if (log_to_journal())
        return snprintf(line, cap, "<%c>%s: ", journal_prio[lvl], component);
    if (gmtime_r(&secs, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    return snprintf(line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ %s %s: ", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    (unsigned)(now % 1000u), level_names[lvl], component);
}

/* Formats and writes one line; `suppressed` > 0 appends a note. */
static void log_emit(enum fm_log_level lvl, const char *component, uint32_t suppressed,
                     const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    size_t pos = 0;
    int n = log_format_head(line, sizeof line, lvl, component);
    if (n < 0)
        return;
    pos = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;

    size_t msg_start = pos;
    n = vsnprintf(line + pos, sizeof line - pos, fmt, ap);
    if (n < 0)
        n = 0;
    pos += (size_t)n < sizeof line - pos ? (size_t)n : sizeof line - pos - 1;
    for (size_t i = msg_start; i < pos; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch < 0x20 || ch == 0x7f)
            line[i] = '?';
    }
    if (suppressed > 0 && pos < sizeof line - 1) {
        n = snprintf(line + pos, sizeof line - pos, " (%u similar lines suppressed)",
                     (unsigned)suppressed);
        if (n > 0)
            pos += (size_t)n < sizeof line - pos ? (size_t)n : sizeof line - pos - 1;
    }
    /* Room for the newline: overwrite the last byte if the line is full. */
    if (pos >= sizeof line - 1)
        pos = sizeof line - 2;
    line[pos++] = '\n';
    fwrite(line, 1, pos, stderr);
    fflush(stderr);
}

void fm_log(enum fm_log_level lvl, const char *component, const char *fmt, ...)
{
    if (!log_enabled(lvl))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_emit(lvl, component, 0, fmt, ap);
    va_end(ap);
}

void fm_log_limited(struct fm_log_limiter *limiter, uint32_t burst, enum fm_log_level lvl,
                    const char *component, const char *fmt, ...)
{
    if (!log_enabled(lvl))
        return;
    uint64_t now = fm_mono_ms();
    pthread_mutex_lock(&limiter_lock);
    if (limiter->in_window == 0 || now < limiter->window_start_ms ||
        now - limiter->window_start_ms >= LOG_WINDOW_MS) {
        limiter->window_start_ms = now;
        limiter->in_window = 0;
    }
    if (limiter->in_window >= burst) {
        if (limiter->suppressed < UINT32_MAX)
            limiter->suppressed++;
        pthread_mutex_unlock(&limiter_lock);
        return;
    }
    limiter->in_window++;
    uint32_t suppressed = limiter->suppressed;
    limiter->suppressed = 0;
    pthread_mutex_unlock(&limiter_lock);
    va_list ap;
    va_start(ap, fmt);
    log_emit(lvl, component, suppressed, fmt, ap);
    va_end(ap);
}
