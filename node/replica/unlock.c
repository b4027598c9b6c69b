/*
 * unlock.c — getting this node's keys out of their sealed files, making
 * them, and destroying the data key (docs/security.md).
 *
 * A node has two secrets on disk, both sealed under one passphrase (or key
 * file): the identity key (trust.key, default <data_dir>/node.key) and the
 * data key (<data_dir>/data.key) that seals every value in the store. A
 * process gets them in one of two ways: from the running daemon over its
 * key socket (keyserve.c; no passphrase needed, same Unix user only), or
 * by opening the files with the passphrase. The data key is made the
 * first time a store is created; a store that exists without one is
 * either from before encryption at rest (FM_EPLAIN) or shredded
 * (FM_ESHREDDED, the marker file says so), never silently re-keyed.
 */
#include "replica_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASSPHRASE_FILE_MAX 4096

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int fm_keys_path(const struct fm_config *cfg, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", cfg->data_dir, name);
    return n < 0 || (size_t)n >= cap ? FM_ETOOBIG : FM_OK;
}

void fm_keys_release(struct fm_keys *k)
{
    if (k == NULL)
        return;
    fm_identity_release(&k->id);
    fm_seal_key_release(&k->data);
    k->has_id = false;
}

int fm_keys_copy(struct fm_keys *dst, const struct fm_keys *src)
{
    memset(dst, 0, sizeof *dst);
    dst->id_err = src->id_err;
    int rc = fm_seal_key_copy(&dst->data, &src->data);
    if (rc == FM_OK && src->has_id && (rc = fm_identity_copy(&dst->id, &src->id)) == FM_OK)
        dst->has_id = true;
    if (rc != FM_OK)
        fm_keys_release(dst);
    return rc;
}

/* The data key: opened, or made for a store that does not exist yet. */
static int keys_data(struct fm_keys *k, const struct fm_config *cfg, struct fm_unlock *u)
{
    char path[FM_PATH_MAX + 32], mark[FM_PATH_MAX + 32], mdb[FM_PATH_MAX + 32];
    if (fm_keys_path(cfg, "data.key", path, sizeof path) != FM_OK ||
        fm_keys_path(cfg, "data.key.shredded", mark, sizeof mark) != FM_OK ||
        fm_keys_path(cfg, "data.mdb", mdb, sizeof mdb) != FM_OK)
        return FM_ETOOBIG;
    int rc = fm_seal_key_load_sealed(&k->data, path, u);
    if (rc != FM_ENOTFOUND)
        return rc;
    if (file_exists(mark))
        return FM_ESHREDDED;
    if (file_exists(mdb))
        return FM_EPLAIN;
    if ((rc = fm_mkdirs(cfg->data_dir)) != FM_OK)
        return rc;
    if ((rc = fm_seal_key_generate(&k->data)) != FM_OK)
        return rc;
    rc = fm_seal_key_save_sealed(&k->data, path, u, cfg->kdf);
    if (rc == FM_OK)
        return FM_OK;
    fm_seal_key_release(&k->data);
    /* another process made it first (O_EXCL): use theirs */
    return rc == FM_EEXISTS ? fm_seal_key_load_sealed(&k->data, path, u) : rc;
}

static void keys_warn_weak(const char *path)
{
    uint64_t ops, mem;
    if (fm_sealed_file_level(path, &ops, &mem) == FM_OK && fm_kdf_is_weak(ops, mem))
        fm_log(FM_LOG_INFO, "keys", "%s is sealed with the minimal KDF (tests and demos "
               "only): a stolen copy falls to a passphrase search", path);
}

int fm_keys_unlock(struct fm_keys *k, const struct fm_config *cfg, const void *secret,
                   size_t len)
{
    struct fm_unlock *u = NULL;
    memset(k, 0, sizeof *k);
    int rc = fm_unlock_new(&u, secret, len);
    if (rc != FM_OK)
        return rc;
    rc = fm_identity_load_sealed(&k->id, cfg->key_path, u);
    if (rc == FM_OK) {
        k->has_id = true;
        keys_warn_weak(cfg->key_path);
    } else if (rc == FM_ENOTFOUND || rc == FM_EKEYPERM) {
        /* reads need no identity: a node without one still reads and
         * relays; a group-readable key is refused only for signing */
        k->id_err = rc == FM_EKEYPERM ? rc : FM_OK;
        rc = FM_OK;
    }
    if (rc == FM_OK)
        rc = keys_data(k, cfg, u);
    fm_unlock_destroy(&u);
    if (rc != FM_OK)
        fm_keys_release(k);
    return rc;
}

int fm_keys_read_secret(const char *path, uint8_t *out, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT ? FM_ENOTFOUND : FM_EIO;
    struct stat st;
    int rc = FM_OK;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        rc = FM_EIO;
    else if (st.st_mode & 077)
        rc = FM_EKEYPERM;
    size_t n = rc == FM_OK ? fread(out, 1, cap, f) : 0;
    if (rc == FM_OK && (ferror(f) || (n == cap && fgetc(f) != EOF)))
        rc = n == cap ? FM_ETOOBIG : FM_EIO;
    fclose(f);
    /* one trailing newline is the editor's, not the passphrase's */
    if (n > 0 && out[n - 1] == '\n')
        n--;
    if (n > 0 && out[n - 1] == '\r')
        n--;
    if (rc == FM_OK && n == 0)
        rc = FM_EINVAL;
    if (rc != FM_OK)
        fm_wipe(out, cap);
    *len = rc == FM_OK ? n : 0;
    return rc;
}

int fm_keys_unlock_file(struct fm_keys *k, const struct fm_config *cfg, const char *path)
{
    uint8_t secret[PASSPHRASE_FILE_MAX];
    size_t len = 0;
    memset(k, 0, sizeof *k);
    int rc = fm_keys_read_secret(path, secret, sizeof secret, &len);
    if (rc == FM_OK)
        rc = fm_keys_unlock(k, cfg, secret, len);
    fm_wipe(secret, sizeof secret);
    return rc;
}

int fm_keys_get(struct fm_keys *k, const struct fm_config *cfg)
{
    int rc = fm_keys_from_daemon(k, cfg);
    if (rc != FM_ELOCKED)
        return rc;
    if (cfg->passphrase_file[0] != '\0')
        return fm_keys_unlock_file(k, cfg, cfg->passphrase_file);
    return FM_ELOCKED;
}

int fm_keys_generate(const struct fm_config *cfg, const void *secret, size_t len,
                     const struct fm_identity *given, uint8_t pk_out[FM_PK_LEN])
{
    struct fm_unlock *u = NULL;
    struct fm_identity id = { { 0 }, NULL };
    struct fm_keys k;
    int rc = fm_unlock_new(&u, secret, len);
    if (rc != FM_OK)
        return rc;
    /* the data key first: an existing one must open with this secret, or
     * the two keys would need two passphrases */
    memset(&k, 0, sizeof k);
    rc = keys_data(&k, cfg, u);
    fm_keys_release(&k);
    if (rc == FM_EPLAIN)
        rc = FM_OK; /* an old store: opening it says what to do */
    if (rc == FM_OK)
        rc = given != NULL ? fm_identity_copy(&id, given) : fm_identity_generate(&id);
    if (rc == FM_OK && (rc = fm_identity_save_sealed(&id, cfg->key_path, u, cfg->kdf)) == FM_OK)
        memcpy(pk_out, id.pk, FM_PK_LEN); /* same salt as the data key: one derivation */
    fm_identity_release(&id);
    fm_unlock_destroy(&u);
    return rc;
}

int fm_keys_shred(const struct fm_config *cfg, struct fm_keys *k, const char *why)
{
    char path[FM_PATH_MAX + 32], mark[FM_PATH_MAX + 32];
    if (fm_keys_path(cfg, "data.key", path, sizeof path) != FM_OK ||
        fm_keys_path(cfg, "data.key.shredded", mark, sizeof mark) != FM_OK)
        return FM_ETOOBIG;
    if (k != NULL)
        fm_seal_key_release(&k->data);
    /* the marker first: a crash between the two leaves a store that says
     * why it cannot be read rather than one that looks like an old one */
    char text[256];
    int n = snprintf(text, sizeof text, "data key destroyed at %llu ms: %s\n",
                     (unsigned long long)fm_now_ms(), why);
    FILE *f = fopen(mark, "we");
    if (f != NULL) {
        fwrite(text, 1, n > 0 && (size_t)n < sizeof text ? (size_t)n : 0, f);
        fclose(f);
    }
    int rc = fm_file_shred(path);
    if (rc == FM_ENOTFOUND)
        rc = FM_OK;
    fm_log(rc == FM_OK ? FM_LOG_WARN : FM_LOG_ERROR, "keys",
           "%s: data key %s destroyed (%s); this store can no longer be read", why, path,
           rc == FM_OK ? "overwritten and removed" : fm_strerror(rc));
    return rc;
}
