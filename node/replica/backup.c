/*
 * backup.c — `fieldmesh backup`: one file holding everything a new machine
 * needs to take over a node, written while the daemon runs, and the strict
 * decoder `fieldmesh restore` reads it with (docs/service.md §6).
 *
 * The file is a list of sections, each `u8 type | u64 BE length | bytes`,
 * after the header "FMBACKUP" | u32 BE version; the last section (END)
 * holds the BLAKE2b-256 of every byte before it. The key files, the
 * certificate and the organisation bundle key are copied as they lie on
 * disk (sealed under the node's passphrase, docs/security.md); the store is
 * LMDB's compacting copy of data.mdb, taken from one read transaction, so
 * it is one consistent state while the daemon keeps writing, and its
 * values stay sealed under the data key. Nothing is decrypted to make a
 * backup, so it needs no passphrase; a backup is exactly as sealed as the
 * node's own disk, and useless without the passphrase or key file.
 *
 * The decoder reads from a stream (the restore streams the store section
 * to its staging file; the fuzz target reads from memory) and checks every
 * length against a named maximum before reading, each section type at most
 * once, the required ones present, the hash, and that nothing follows END.
 */
#include "backup_int.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COMPONENT "backup"

static const char magic[8] = { 'F', 'M', 'B', 'A', 'C', 'K', 'U', 'P' };

const char *backup_section_name(unsigned type)
{
    static const char *const names[] = {
        [BK_END] = "end",           [BK_META] = "meta",     [BK_IDKEY] = "identity key",
        [BK_IDPUB] = "public key",  [BK_CERT] = "certificate", [BK_DATAKEY] = "data key",
        [BK_BUNDLEKEY] = "bundle key", [BK_STORE] = "store",
    };
    return type < BK__COUNT ? names[type] : "unknown";
}

/* Where a small section's file lives for cfg (into out); FM_ETOOBIG. */
int backup_section_path(const struct fm_config *cfg, unsigned type, char *out, size_t cap)
{
    int n;
    switch (type) {
    case BK_IDKEY:
        n = snprintf(out, cap, "%s", cfg->key_path);
        break;
    case BK_IDPUB:
        n = snprintf(out, cap, "%s.pub", cfg->key_path);
        break;
    case BK_CERT:
        n = snprintf(out, cap, "%s", cfg->cert_path);
        break;
    case BK_DATAKEY:
        n = snprintf(out, cap, "%s/data.key", cfg->data_dir);
        break;
    case BK_BUNDLEKEY:
        n = snprintf(out, cap, "%s/bundle.key", cfg->data_dir);
        break;
    default:
        return FM_EINVAL;
    }
    return n < 0 || (size_t)n >= cap ? FM_ETOOBIG : FM_OK;
}

bool backup_section_required(unsigned type)
{
    return type == BK_META || type == BK_IDKEY || type == BK_CERT || type == BK_DATAKEY ||
           type == BK_STORE;
}

/* ------------------------------------------------------------ writing */

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FM_EIO;
        b += w;
        n -= (size_t)w;
    }
    return FM_OK;
}

static int write_section(int fd, unsigned type, const void *p, size_t n)
{
    uint8_t h[9];
    h[0] = (uint8_t)type;
    fm_be64_put(h + 1, n);
    int rc = write_all(fd, h, sizeof h);
    return rc == FM_OK ? write_all(fd, p, n) : rc;
}

/* META: created_ms u64 BE | the node's name (no NUL). */
static int write_meta(int fd, const struct fm_config *cfg, uint64_t now)
{
    uint8_t m[8 + FM_NAME_MAX];
    size_t nl = strnlen(cfg->name, FM_NAME_MAX - 1);
    fm_be64_put(m, now);
    memcpy(m + 8, cfg->name, nl);
    return write_section(fd, BK_META, m, 8 + nl);
}

/* Each key file and the certificate, as they lie on disk. */
static int write_small_files(int fd, const struct fm_config *cfg, char *err, size_t errcap)
{
    static const unsigned types[] = { BK_IDKEY, BK_IDPUB, BK_CERT, BK_DATAKEY, BK_BUNDLEKEY };
    uint8_t *buf = malloc(BK_SMALL_MAX);
    char path[FM_PATH_MAX + 16];
    int rc = buf ? FM_OK : FM_ENOMEM;
    for (size_t i = 0; rc == FM_OK && i < sizeof types / sizeof types[0]; i++) {
        size_t len = 0;
        if ((rc = backup_section_path(cfg, types[i], path, sizeof path)) != FM_OK)
            break;
        rc = fm_file_read_small(path, buf, BK_SMALL_MAX, &len, false);
        if (rc == FM_ENOTFOUND && !backup_section_required(types[i])) {
            rc = FM_OK; /* no public key copy, no bundle key: nothing to keep */
            continue;
        }
        if (rc != FM_OK)
            snprintf(err, errcap, "cannot read the %s %s: %s", backup_section_name(types[i]),
                     path, rc == FM_EIO ? strerror(errno) : fm_strerror(rc));
        else
            rc = write_section(fd, types[i], buf, len);
    }
    free(buf);
    return rc;
}

/* A thread that reports how far LMDB's copy has got (the size of what it
 * has written to fd) until told to stop. */
struct poller {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int fd;
    off_t start;
    uint64_t total;
    const struct fm_backup_progress *p;
};

static void *poll_main(void *arg)
{
    struct poller *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec until;
        struct stat st;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &until);
        if (!w->stop && fstat(w->fd, &st) == 0 && st.st_size >= w->start)
            w->p->fn(w->p->ctx, (uint64_t)(st.st_size - w->start), w->total);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static bool poller_start(struct poller *w, const struct fm_backup_progress *p, int fd,
                         off_t start, const char *data_dir)
{
    char mdb[FM_PATH_MAX + 16];
    struct stat st;
    if (p == NULL || p->fn == NULL)
        return false;
    snprintf(mdb, sizeof mdb, "%s/data.mdb", data_dir);
    *w = (struct poller){ .stop = false, .fd = fd, .start = start, .p = p,
                          .total = stat(mdb, &st) == 0 ? (uint64_t)st.st_size : 0 };
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->th, NULL, poll_main, w) == 0)
        return true;
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    return false; /* no progress shown, the backup goes on */
}

static void poller_stop(struct poller *w)
{
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    struct stat st;
    if (fstat(w->fd, &st) == 0 && st.st_size >= w->start) /* the last word: all of it */
        w->p->fn(w->p->ctx, (uint64_t)(st.st_size - w->start), w->total);
}

/* STORE: the length is known only after LMDB wrote the copy, so it is
 * written as a placeholder and filled in after. */
static int write_store(int fd, const struct fm_config *cfg,
                       const struct fm_backup_progress *progress, uint64_t *bytes, char *err,
                       size_t errcap)
{
    uint8_t h[9] = { BK_STORE };
    struct poller w;
    off_t start;
    int rc = write_all(fd, h, sizeof h);
    if (rc != FM_OK || (start = lseek(fd, 0, SEEK_CUR)) < 0)
        return FM_EIO;
    bool polling = poller_start(&w, progress, fd, start, cfg->data_dir);
    rc = store_copy_compact(cfg->data_dir, fd);
    if (polling)
        poller_stop(&w);
    if (rc != FM_OK) {
        snprintf(err, errcap, "cannot copy the store in %s: %s", cfg->data_dir,
                 rc == FM_ENOTFOUND ? "there is no store (data.mdb) yet" : fm_strerror(rc));
        return rc;
    }
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < start)
        return FM_EIO;
    *bytes = (uint64_t)(end - start);
    fm_be64_put(h + 1, *bytes);
    if (pwrite(fd, h + 1, 8, start - 8) != 8)
        return FM_EIO;
    return FM_OK;
}

/* END: the hash of everything before it, read back from the disk. */
static int write_end(int fd)
{
    uint8_t buf[1 << 16], hash[FM_HASH_LEN];
    struct fm_hasher *hs = fm_hasher_new();
    ssize_t r;
    if (hs == NULL)
        return FM_ENOMEM;
    if (fsync(fd) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
        fm_hasher_destroy(&hs);
        return FM_EIO;
    }
    while ((r = read(fd, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0)
            fm_hasher_update(hs, buf, (size_t)r);
    fm_hasher_final(hs, hash);
    fm_hasher_destroy(&hs);
    if (r < 0)
        return FM_EIO;
    int rc = write_section(fd, BK_END, hash, sizeof hash);
    return rc == FM_OK && fsync(fd) != 0 ? FM_EIO : rc;
}

static void fsync_dir_of(const char *path)
{
    char dir[FM_PATH_MAX + 16];
    if (fm_strlcpy(dir, path, sizeof dir) != 0)
        return;
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        fm_strlcpy(dir, ".", sizeof dir);
    else if (slash == dir)
        slash[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* backup.last in the data dir: when, where, how big (doctor reads it). */
static void record_last(const struct fm_config *cfg, const char *path, uint64_t now,
                        uint64_t bytes)
{
    char rec[FM_PATH_MAX + 128], p[FM_PATH_MAX + 16];
    int n = snprintf(rec, sizeof rec, "time_ms %llu\nbytes %llu\nfile %s\n",
                     (unsigned long long)now, (unsigned long long)bytes, path);
    if (n < 0 || (size_t)n >= sizeof rec || fm_keys_path(cfg, BK_LAST_NAME, p, sizeof p) != FM_OK)
        return;
    if (fm_file_write(p, rec, (size_t)n, 0600, false) != FM_OK)
        fm_log(FM_LOG_WARN, COMPONENT, "cannot record the backup in %s: %s", p, strerror(errno));
}

int fm_backup_write(const struct fm_config *cfg, const char *path,
                    const struct fm_backup_progress *progress, struct fm_backup_info *info,
                    char *err, size_t errcap)
{
    char tmp[FM_PATH_MAX + 16];
    uint8_t head[12];
    uint64_t now = fm_wall_ms();
    memset(info, 0, sizeof *info);
    err[0] = '\0';
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.partial", path) >= sizeof tmp)
        return FM_ETOOBIG;
    if (access(path, F_OK) == 0) {
        snprintf(err, errcap, "%s exists; a backup never overwrites a file (choose a new name)",
                 path);
        return FM_EEXISTS;
    }
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errcap, "cannot create %s: %s%s", tmp, strerror(e),
                 e == EEXIST ? " (left by an interrupted backup, or one running now? if none "
                               "runs, remove it)"
                             : "");
        return e == EEXIST ? FM_EEXISTS : FM_EIO;
    }
    memcpy(head, magic, sizeof magic);
    fm_be32_put(head + 8, BK_VERSION);
    int rc = write_all(fd, head, sizeof head);
    if (rc == FM_OK)
        rc = write_meta(fd, cfg, now);
    if (rc == FM_OK)
        rc = write_small_files(fd, cfg, err, errcap);
    if (rc == FM_OK)
        rc = write_store(fd, cfg, progress, &info->store_bytes, err, errcap);
    if (rc == FM_OK)
        rc = write_end(fd);
    off_t size = lseek(fd, 0, SEEK_END);
    if (close(fd) != 0 && rc == FM_OK)
        rc = FM_EIO;
    if (rc == FM_OK && rename(tmp, path) != 0)
        rc = FM_EIO;
    if (rc != FM_OK) {
        if (err[0] == '\0')
            snprintf(err, errcap, "cannot write %s: %s", tmp,
                     rc == FM_EIO ? strerror(errno) : fm_strerror(rc));
        unlink(tmp);
        return rc;
    }
    fsync_dir_of(path);
    char abs[PATH_MAX];
    if (realpath(path, abs) != NULL && strlen(abs) < FM_PATH_MAX)
        path = abs; /* doctor shows where it is, whatever the directory it ran in */
    info->created_ms = now;
    info->file_bytes = size > 0 ? (uint64_t)size : 0;
    fm_strlcpy(info->name, cfg->name, sizeof info->name);
    record_last(cfg, path, now, info->file_bytes);
    return FM_OK;
}

/* ------------------------------------------------------------ reading */

static int fail(char *err, size_t cap, int rc, const char *fmt, ...) FM_PRINTF(4, 5);
static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return rc;
}

static int read_exact(FILE *in, void *p, size_t n, struct fm_hasher *hs)
{
    if (n > 0 && fread(p, 1, n, in) != n)
        return ferror(in) ? FM_EIO : FM_EDECODE;
    if (hs)
        fm_hasher_update(hs, p, n);
    return FM_OK;
}

/* The store section, in chunks, to out (which may be NULL). */
static int read_store(FILE *in, FILE *out, uint64_t len, struct fm_hasher *hs)
{
    uint8_t buf[1 << 16];
    while (len > 0) {
        size_t k = len < sizeof buf ? (size_t)len : sizeof buf;
        int rc = read_exact(in, buf, k, hs);
        if (rc != FM_OK)
            return rc;
        if (out != NULL && fwrite(buf, 1, k, out) != k)
            return FM_EIO;
        len -= k;
    }
    return FM_OK;
}

static int read_meta(struct backup_parts *p, char *err, size_t cap)
{
    size_t n = p->len[BK_META];
    if (n < 8 || n - 8 >= FM_NAME_MAX)
        return fail(err, cap, FM_EDECODE, "the meta section has a bad length (%zu bytes)", n);
    p->info.created_ms = fm_be64_get(p->small[BK_META]);
    memcpy(p->info.name, p->small[BK_META] + 8, n - 8);
    p->info.name[n - 8] = '\0';
    for (size_t i = 0; i < n - 8; i++)
        if ((unsigned char)p->info.name[i] < 0x20 || p->info.name[i] == 0x7f)
            return fail(err, cap, FM_EDECODE,
                        "the meta section's node name holds a control byte at offset %zu", i);
    return FM_OK;
}

/* Every section but END; *end set when END was met and checked. */
static int read_section(FILE *in, FILE *store_out, uint64_t store_max, struct backup_parts *p,
                        struct fm_hasher *hs, bool *end, char *err, size_t cap)
{
    uint8_t h[9];
    int rc = read_exact(in, h, sizeof h, NULL);
    if (rc != FM_OK)
        return fail(err, cap, rc, "truncated: the file ends before its end section");
    unsigned type = h[0];
    uint64_t len = fm_be64_get(h + 1);
    if (type >= BK__COUNT)
        return fail(err, cap, FM_EDECODE,
                    "unknown section type %u (a newer fieldmesh wrote it?)", type);
    if (p->seen[type])
        return fail(err, cap, FM_EDECODE, "the %s section appears twice",
                    backup_section_name(type));
    p->seen[type] = true;
    if (type == BK_END) {
        uint8_t want[FM_HASH_LEN], got[FM_HASH_LEN];
        if (len != FM_HASH_LEN)
            return fail(err, cap, FM_EDECODE, "the end section has %llu bytes, not 32",
                        (unsigned long long)len);
        if ((rc = read_exact(in, got, sizeof got, NULL)) != FM_OK)
            return fail(err, cap, rc, "truncated in its end section");
        fm_hasher_final(hs, want);
        if (memcmp(want, got, sizeof want) != 0)
            return fail(err, cap, FM_EVERIFY,
                        "damaged: the hash in its end section does not match the file");
        if (fgetc(in) != EOF)
            return fail(err, cap, FM_EDECODE, "bytes follow its end section");
        *end = true;
        return FM_OK;
    }
    fm_hasher_update(hs, h, sizeof h);
    if (type == BK_STORE) {
        if (len > store_max)
            return fail(err, cap, FM_ETOOBIG, "the store section (%llu bytes) is larger "
                        "than storage.map_max_mb allows", (unsigned long long)len);
        p->info.store_bytes = len;
        rc = read_store(in, store_out, len, hs);
        return rc == FM_OK ? FM_OK
                           : fail(err, cap, rc, "truncated or unreadable in its store "
                                  "section (%llu bytes announced)", (unsigned long long)len);
    }
    if (len > BK_SMALL_MAX)
        return fail(err, cap, FM_ETOOBIG, "the %s section (%llu bytes) is larger than 64 KiB",
                    backup_section_name(type), (unsigned long long)len);
    if ((p->small[type] = malloc(len ? len : 1)) == NULL)
        return FM_ENOMEM;
    p->len[type] = (size_t)len;
    if ((rc = read_exact(in, p->small[type], (size_t)len, hs)) != FM_OK)
        return fail(err, cap, rc, "truncated in its %s section (%llu bytes announced)",
                    backup_section_name(type), (unsigned long long)len);
    return type == BK_META ? read_meta(p, err, cap) : FM_OK;
}

int backup_decode(FILE *in, FILE *store_out, uint64_t store_max, struct backup_parts *p,
                  char *err, size_t cap)
{
    uint8_t head[12];
    bool end = false;
    memset(p, 0, sizeof *p);
    err[0] = '\0';
    struct fm_hasher *hs = fm_hasher_new();
    if (hs == NULL)
        return FM_ENOMEM;
    int rc = read_exact(in, head, sizeof head, hs);
    if (rc != FM_OK || memcmp(head, magic, sizeof magic) != 0)
        rc = fail(err, cap, FM_EDECODE, "not a fieldmesh backup (no FMBACKUP header)");
    else if (fm_be32_get(head + 8) != BK_VERSION)
        rc = fail(err, cap, FM_EDECODE,
                  "backup format version %u is not 1 (a newer fieldmesh wrote it?)",
                  (unsigned)fm_be32_get(head + 8));
    while (rc == FM_OK && !end)
        rc = read_section(in, store_out, store_max, p, hs, &end, err, cap);
    for (unsigned t = 0; rc == FM_OK && t < BK__COUNT; t++)
        if (backup_section_required(t) && !p->seen[t])
            rc = fail(err, cap, FM_EDECODE, "it has no %s section", backup_section_name(t));
    fm_hasher_destroy(&hs);
    if (rc != FM_OK)
        backup_parts_release(p);
    return rc;
}

void backup_parts_release(struct backup_parts *p)
{
    for (unsigned t = 0; t < BK__COUNT; t++) {
        if (p->small[t] != NULL)
            fm_wipe(p->small[t], p->len[t]); /* sealed, but still key material */
        free(p->small[t]);
        p->small[t] = NULL;
    }
}

int fm_backup_check(FILE *in, uint64_t store_max, struct fm_backup_info *info, char *err,
                    size_t errcap)
{
    struct backup_parts p;
    int rc = backup_decode(in, NULL, store_max, &p, err, errcap);
    if (rc == FM_OK) {
        *info = p.info;
        backup_parts_release(&p);
    }
    return rc;
}
