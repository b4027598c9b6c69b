/*
 * file.c — the one bounded file reader and the one durable file writer
 * every layer uses (keys, certificates, configs, directories, bundles,
 * fork markers, the enrolment list), and mkdir -p.
 *
 * Reading: a whole file goes into a caller's buffer of `max` bytes or a
 * malloc'd one that never grows past `max`, and one byte more than `max`
 * means FM_ETOOBIG, so a hostile or mistaken file cannot make us allocate
 * without bound. Writing: the data is fsynced before close, a replaced
 * file goes through a temporary file and rename (readers see the old file
 * or the new one, never half of one), and the directory is fsynced after a
 * name was created so the new entry survives a power cut too. On FM_EIO
 * errno still says why, for the caller's message.
 */
#include "fm_base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading ---- */

static int open_read(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? FM_ENOTFOUND : FM_EIO;
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return FM_EIO;
    }
    return fd;
}

static void close_keep_errno(int fd)
{
    int e = errno;
    close(fd);
    errno = e;
}

/* Reads up to cap bytes into out; *got says how many. 0 or FM_EIO. */
static int read_upto(int fd, uint8_t *out, size_t cap, size_t *got)
{
    *got = 0;
    while (*got < cap) {
        ssize_t r = read(fd, out + *got, cap - *got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return FM_EIO;
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return FM_OK;
}

int fm_file_read_small(const char *path, uint8_t *out, size_t max, size_t *len,
                       bool private_only)
{
    struct stat st;
    uint8_t extra = 0;
    size_t got = 0, more = 0;
    int fd = open_read(path, &st);
    if (fd < 0)
        return fd;
    int rc = FM_OK;
    if (!S_ISREG(st.st_mode))
        rc = FM_EIO;
    else if (private_only && (st.st_mode & 077) != 0)
        rc = FM_EKEYPERM;
    else if ((rc = read_upto(fd, out, max, &got)) == FM_OK && got == max &&
             (rc = read_upto(fd, &extra, 1, &more)) == FM_OK && more > 0)
        rc = FM_ETOOBIG; /* one byte past max: the file is too long */
    *(volatile uint8_t *)&extra = 0; /* it may be a secret's byte */
    close_keep_errno(fd);
    if (rc == FM_OK)
        *len = got;
    return rc;
}

/* First allocation: the file's size when it says one, within max + 1. */
static size_t first_cap(const struct stat *st, size_t max)
{
    size_t want = S_ISREG(st->st_mode) && st->st_size > 0 ? (size_t)st->st_size + 1 : 4096;
    return want > max + 1 ? max + 1 : want;
}

int fm_file_read_alloc(const char *path, size_t max, char **out, size_t *len)
{
    struct stat st;
    int fd = open_read(path, &st);
    if (fd < 0)
        return fd;
    size_t cap = first_cap(&st, max), got = 0, n;
    char *buf = NULL;
    int rc = FM_OK;
    for (;;) {
        char *grown = realloc(buf, cap + 1); /* + 1: the NUL after the data */
        if (grown == NULL) {
            rc = FM_ENOMEM;
            break;
        }
        buf = grown;
        if ((rc = read_upto(fd, (uint8_t *)buf + got, cap - got, &n)) != FM_OK)
            break;
        got += n;
        if (got < cap)
            break; /* end of file */
        if (got > max) {
            rc = FM_ETOOBIG;
            break;
        }
        cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
    }
    close_keep_errno(fd);
    if (rc != FM_OK) {
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return FM_OK;
}

/* ---- writing ---- */

/* Best effort: makes a new directory entry durable. Errors are ignored
 * because the data itself is already synced and some file systems refuse
 * fsync on a directory. */
static void fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL) {
        dir[0] = '.';
        dir[1] = '\0';
    } else {
        size_t n = slash == path ? 1 : (size_t)(slash - path);
        if (n >= sizeof dir)
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int e = errno;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    errno = e;
}

/* Writes all of data to fd and fsyncs it. */
static int write_all_sync(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FM_EIO;
        done += (size_t)w;
    }
    return fsync(fd) == 0 ? FM_OK : FM_EIO;
}

/* Exclusive: create path itself with O_EXCL and remove it again if the
 * write fails, so a failed save can be retried. Otherwise: write a
 * temporary file next to path and rename it over. */
int fm_file_write(const char *path, const void *data, size_t len, mode_t mode, bool exclusive)
{
    int rc;
    char tmp[4096];
    const char *target = path;
    int fd;
    if (exclusive) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode);
        if (fd < 0)
            return errno == EEXIST ? FM_EEXISTS : FM_EIO;
    } else {
        int n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
        if (n < 0 || (size_t)n >= sizeof tmp)
            return FM_EINVAL;
        fd = mkstemp(tmp);
        if (fd < 0)
            return FM_EIO;
        target = tmp;
        if (fchmod(fd, mode) != 0) {
            rc = FM_EIO;
            goto close_fd;
        }
    }
    rc = write_all_sync(fd, data, len);
close_fd:
    if (close(fd) != 0 && rc == FM_OK)
        rc = FM_EIO;
    if (rc == FM_OK && !exclusive && rename(tmp, path) != 0)
        rc = FM_EIO;
    if (rc != FM_OK) {
        int e = errno;
        unlink(target);
        errno = e;
        return rc;
    }
    fsync_parent(path);
    return FM_OK;
}

int fm_file_append(const char *path, const void *data, size_t len, mode_t mode)
{
    struct stat st;
    bool created = stat(path, &st) != 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, mode);
    if (fd < 0)
        return FM_EIO;
    int rc = write_all_sync(fd, data, len);
    if (close(fd) != 0 && rc == FM_OK)
        rc = FM_EIO;
    if (rc == FM_OK && created)
        fsync_parent(path);
    return rc;
}

int fm_mkdirs(const char *dir)
{
    char tmp[FM_BASE_PATH_MAX];
    if (fm_strlcpy(tmp, dir, sizeof(tmp)) != FM_OK)
        return FM_ETOOBIG;
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return FM_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return FM_EIO;
    return FM_OK;
}
