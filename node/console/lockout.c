/*
 * lockout.c — the console's failed-login counts and account locks, kept
 * in <data_dir>/console-lockout so that restarting fieldmeshd does not
 * hand an attacker five fresh guesses (docs/console-api.md).
 *
 * The file is the daemon's alone: one line per name with failures or a
 * lock, "NAME<TAB>FAILS<TAB>LOCKED_UNTIL_MS" (wall-clock Unix ms), written
 * whole with the durable writer (temporary file, fsync, rename) after
 * every change. It is not the operators file because `fieldmesh operator`
 * rewrites that one from another process at any time (two writers of one
 * file lose each other's updates), and because names that are no account
 * are counted too, so that a refusal tells nothing about which names
 * exist. Its bytes are untrusted (a damaged disk, a hand edit): parsed
 * strictly and fuzzed; a lock read back never lasts longer than
 * CONSOLE_LOCK_S from now, whatever the file or the clock says.
 */
#include "console_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCKOUT_HEADER "# fieldmesh console failed logins v1: NAME<TAB>FAILS<TAB>LOCKED_UNTIL_MS\n"
#define LOCKOUT_FILE_MAX (64u << 10)

int lockout_path(const struct fm_config *cfg, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/console-lockout", cfg->data_dir);
    return n < 0 || (size_t)n >= cap ? FM_ETOOBIG : FM_OK;
}

/* A login name as the API accepts it: 1..63 bytes, no control byte. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= FM_OPERATOR_NAME_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* One line (its newline already cut) into out. */
static int parse_line(char *line, struct console_fail *out, uint64_t now_ms)
{
    char *t1 = strchr(line, '\t');
    char *t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
    uint64_t fails, until;
    if (t1 == NULL || t2 == NULL || strchr(t2 + 1, '\t') != NULL)
        return FM_EDECODE;
    *t1 = *t2 = '\0';
    if (!name_ok(line) || fm_parse_u64(t1 + 1, &fails) != FM_OK ||
        fm_parse_u64(t2 + 1, &until) != FM_OK || fails >= CONSOLE_LOCK_FAILS)
        return FM_EDECODE;
    memset(out, 0, sizeof *out);
    fm_strlcpy(out->name, line, sizeof out->name);
    out->fails = (uint32_t)fails;
    /* a lock already past is no lock (and is written back as 0); never
     * longer than a lock from now: a clock set back, or a hand edit */
    out->locked_until_ms = until <= now_ms                          ? 0
                           : until > now_ms + CONSOLE_LOCK_S * 1000u ? now_ms + CONSOLE_LOCK_S * 1000u
                                                                     : until;
    out->last_ms = now_ms;
    return FM_OK;
}

struct parse_arg {
    struct console_fail *out;
    size_t cap, *n;
    uint64_t now_ms;
    char *err;
    size_t errlen;
};

/* One line of the file into the next record (console_each_line's callback). */
static int take_line(char *line, size_t lineno, void *arg)
{
    struct parse_arg *a = arg;
    struct console_fail f;
    if (parse_line(line, &f, a->now_ms) != FM_OK) {
        snprintf(a->err, a->errlen, "line %zu: expected NAME<TAB>FAILS (0..%u)<TAB>MS", lineno,
                 CONSOLE_LOCK_FAILS - 1);
        return FM_EDECODE;
    }
    if (*a->n >= a->cap) {
        snprintf(a->err, a->errlen, "line %zu: more than %zu names", lineno, a->cap);
        return FM_EDECODE;
    }
    for (size_t i = 0; i < *a->n; i++)
        if (strcmp(a->out[i].name, f.name) == 0) {
            snprintf(a->err, a->errlen, "line %zu: '%s' listed twice", lineno, f.name);
            return FM_EDECODE;
        }
    a->out[(*a->n)++] = f;
    return FM_OK;
}

int lockout_parse(const char *buf, size_t len, struct console_fail *out, size_t cap,
                  size_t *n, uint64_t now_ms, char *err, size_t errlen)
{
    struct parse_arg a = {out, cap, n, now_ms, err, errlen};
    size_t open_line = 0;
    *n = 0;
    if (len > LOCKOUT_FILE_MAX || memchr(buf, '\0', len) != NULL) {
        snprintf(err, errlen, "too large or not text");
        return FM_EDECODE;
    }
    int rc = console_each_line(buf, len, take_line, &a, &open_line);
    if (open_line != 0)
        snprintf(err, errlen, "line %zu: missing newline (truncated file?)", open_line);
    if (rc != FM_OK) {
        memset(out, 0, *n * sizeof *out);
        *n = 0;
    }
    return rc;
}

/* Whether a record still matters: failures counted or a lock running. */
static bool fail_live(const struct console_fail *f, uint64_t now_ms)
{
    return f->last_ms != 0 && (f->fails > 0 || f->locked_until_ms > now_ms);
}

int lockout_render(const struct console_fail *f, size_t n, uint64_t now_ms, char **text,
                   size_t *len)
{
    FILE *m = open_memstream(text, len);
    if (m == NULL)
        return FM_ENOMEM;
    fputs(LOCKOUT_HEADER, m);
    for (size_t i = 0; i < n; i++)
        if (fail_live(&f[i], now_ms))
            fprintf(m, "%s\t%u\t%llu\n", f[i].name, (unsigned)f[i].fails,
                    (unsigned long long)(f[i].locked_until_ms > now_ms ? f[i].locked_until_ms
                                                                       : 0));
    bool bad = ferror(m) != 0;
    if (fclose(m) != 0 || bad) {
        free(*text);
        *text = NULL;
        return FM_ENOMEM;
    }
    return FM_OK;
}

void lockout_load(struct console_auth *a)
{
    char *buf = NULL, err[160] = "";
    size_t len = 0, n = 0;
    int rc = fm_file_read_alloc(a->lockout_path, LOCKOUT_FILE_MAX, &buf, &len);
    if (rc == FM_ENOTFOUND)
        return;
    if (rc == FM_OK)
        rc = lockout_parse(buf, len, a->fails, CONSOLE_FAIL_SLOTS, &n, fm_now_ms(), err,
                           sizeof err);
    free(buf);
    if (rc != FM_OK)
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "cannot read %s: %s; failed-login counts "
               "start from zero", a->lockout_path, err[0] ? err : fm_strerror(rc));
    else if (n > 0)
        fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "failed-login counts of %zu name(s) read back "
               "from %s", n, a->lockout_path);
}

void lockout_save(struct console_auth *a)
{
    char *text = NULL;
    size_t len = 0;
    /* save_lock orders the writes: each renders the newest table, so the
     * last file written is the newest; the auth lock is held only while
     * rendering, never across the fsync */
    pthread_mutex_lock(&a->save_lock);
    pthread_mutex_lock(&a->lock);
    int rc = lockout_render(a->fails, CONSOLE_FAIL_SLOTS, fm_now_ms(), &text, &len);
    pthread_mutex_unlock(&a->lock);
    if (rc == FM_OK)
        rc = fm_file_write(a->lockout_path, text, len, 0600, false);
    pthread_mutex_unlock(&a->save_lock);
    free(text);
    if (rc != FM_OK)
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "cannot write %s: %s (failed-login counts "
               "would not survive a restart)", a->lockout_path, fm_strerror(rc));
}
