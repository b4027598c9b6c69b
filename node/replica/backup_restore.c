/*
 * backup_restore.c — `fieldmesh restore FILE`: puts a backup in place on a
 * new machine (docs/service.md §6).
 *
 * Nothing lands where the node lives until the backup has been proved
 * whole and usable: the file is decoded into a staging directory inside
 * data_dir (<data_dir>/restore.tmp), the hash checked, the restored keys
 * unlocked with the node's passphrase, the certificate checked against the
 * configured organisation and the store opened, and this node's own head
 * read from it. Only then is the restored marker written (first, so no
 * crash can leave a store in place without it), the key files written to
 * the config's paths and data.mdb renamed into data_dir (if that fails,
 * what was placed is taken back). A restore never overwrites: any of a
 * node's files already there stops it before anything is read, so taking
 * back never removes a file restore did not write.
 */
#include "backup_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STAGE_NAME "restore.tmp"

/* Refuses when any file of a node is already where the config puts it. */
static int check_free(const struct fm_config *cfg, char *err, size_t cap)
{
    static const unsigned types[] = { BK_IDKEY, BK_IDPUB, BK_CERT, BK_DATAKEY, BK_BUNDLEKEY };
    char p[FM_PATH_MAX + 16];
    for (size_t i = 0; i <= sizeof types / sizeof types[0]; i++) {
        int rc = i < sizeof types / sizeof types[0]
                     ? backup_section_path(cfg, types[i], p, sizeof p)
                     : fm_keys_path(cfg, "data.mdb", p, sizeof p);
        if (rc != FM_OK)
            return rc;
        if (access(p, F_OK) == 0) {
            snprintf(err, cap, "%s exists: restore puts a node on a machine that has none; move "
                     "the old node's files away first (or point -c at a config for a new "
                     "data_dir)", p);
            return FM_EEXISTS;
        }
    }
    return FM_OK;
}

/* The config as it would be with every file inside the staging dir. */
static int staged_config(const struct fm_config *cfg, const char *stage, struct fm_config *sc)
{
    *sc = *cfg;
    if (fm_strlcpy(sc->data_dir, stage, sizeof sc->data_dir) != 0 ||
        (size_t)snprintf(sc->key_path, sizeof sc->key_path, "%s/node.key", stage) >=
            sizeof sc->key_path ||
        (size_t)snprintf(sc->cert_path, sizeof sc->cert_path, "%s/node.cert", stage) >=
            sizeof sc->cert_path)
        return FM_ETOOBIG;
    return FM_OK;
}

/* Writes each small section to its place under cfg (staged or final). */
static int place_small(const struct fm_config *cfg, const struct backup_parts *p)
{
    for (unsigned t = BK_IDKEY; t <= BK_BUNDLEKEY; t++) {
        char path[FM_PATH_MAX + 16];
        if (!p->seen[t])
            continue;
        int rc = backup_section_path(cfg, t, path, sizeof path);
        mode_t mode = t == BK_IDPUB || t == BK_CERT ? 0644 : 0600;
        if (rc == FM_OK)
            rc = fm_file_write(path, p->small[t], p->len[t], mode, true);
        if (rc != FM_OK)
            return rc;
    }
    return FM_OK;
}

/* Decodes path into the staging dir: the small sections in p, the store
 * as <stage>/data.mdb. */
static int stage_file(const struct fm_config *cfg, const char *path, const char *stage,
                      struct backup_parts *p, char *err, size_t cap)
{
    char mdb[FM_PATH_MAX + 32];
    FILE *in = fopen(path, "rb"), *out;
    if (in == NULL) {
        snprintf(err, cap, "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? FM_ENOTFOUND : FM_EIO;
    }
    snprintf(mdb, sizeof mdb, "%s/data.mdb", stage);
    if ((out = fopen(mdb, "wbx")) == NULL) {
        snprintf(err, cap, "cannot create %s: %s", mdb, strerror(errno));
        fclose(in);
        return FM_EIO;
    }
    uint64_t max = cfg->map_max ? cfg->map_max : UINT64_MAX;
    int rc = backup_decode(in, out, max, p, err, cap);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0) {
        if (rc == FM_OK)
            snprintf(err, cap, "cannot write %s: %s", mdb, strerror(errno));
        if (rc == FM_OK)
            backup_parts_release(p);
        rc = rc == FM_OK ? FM_EIO : rc;
    }
    fclose(in);
    return rc;
}

/* Unlocks the staged keys, opens the staged store, reads our own head. */
static int verify_staged(const struct fm_config *sc, const char *arg_file, uint64_t *head,
                         char *err, size_t cap)
{
    struct fm_keys k;
    struct fm_node *n = NULL;
    struct fm_self_state st;
    char from[FM_PATH_MAX + 32];
    int rc = fm_keys_unlock_any(&k, sc, arg_file, from, sizeof from);
    if (rc != FM_OK) {
        snprintf(err, cap, "the backup's keys do not open with the passphrase from %s: %s",
                 from[0] ? from : "(none found)", fm_strerror(rc));
        return rc;
    }
    rc = replica_open(&n, sc, FM_OPEN_IDENTITY, &k, NULL); /* reads the log only */
    fm_keys_release(&k);
    if (rc != FM_OK) {
        snprintf(err, cap, "the restored store does not open for this config: %s%s",
                 fm_strerror(rc), rc == FM_ECERT ? " (a backup of another organisation's node?)"
                                                  : "");
        return rc;
    }
    rc = fm_node_self_state(n, &st);
    *head = st.head;
    fm_node_close(&n);
    if (rc != FM_OK)
        snprintf(err, cap, "cannot read this node's log in the restored store: %s",
                 fm_strerror(rc));
    return rc;
}

/* Removes the staging dir and what is left in it. */
static void unstage(const char *stage)
{
    static const char *const names[] = { "data.mdb", "lock.mdb", "node.key", "node.key.pub",
                                          "node.cert", "data.key", "bundle.key",
                                          "node.key.used" };
    char p[FM_PATH_MAX + 32];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", stage, names[i]);
        unlink(p);
    }
    rmdir(stage);
}

/* Takes back what land() placed before it failed, so that restore can
 * simply be run again. */
static void unland(const struct fm_config *cfg, const struct backup_parts *p)
{
    char path[FM_PATH_MAX + 16];
    for (unsigned t = BK_IDKEY; t <= BK_BUNDLEKEY; t++)
        if (p->seen[t] && backup_section_path(cfg, t, path, sizeof path) == FM_OK)
            unlink(path);
    if (fm_keys_path(cfg, BK_RESTORED_NAME, path, sizeof path) == FM_OK)
        unlink(path);
}

/* The verified files into their places: marker, keys, then the store. */
static int land(const struct fm_config *cfg, const struct backup_parts *p, const char *stage,
                uint64_t head, char *err, size_t cap)
{
    char from[FM_PATH_MAX + 32], to[FM_PATH_MAX + 16];
    int rc = restored_mark(cfg, head, p->info.created_ms);
    if (rc == FM_OK)
        rc = place_small(cfg, p);
    if (rc != FM_OK) {
        snprintf(err, cap, "cannot write the restored key files: %s",
                 rc == FM_EIO ? strerror(errno) : fm_strerror(rc));
        unland(cfg, p);
        return rc;
    }
    snprintf(from, sizeof from, "%s/data.mdb", stage);
    if ((rc = fm_keys_path(cfg, "data.mdb", to, sizeof to)) == FM_OK && rename(from, to) != 0) {
        snprintf(err, cap, "cannot move the restored store to %s: %s", to, strerror(errno));
        rc = FM_EIO;
    }
    if (rc != FM_OK)
        unland(cfg, p);
    return rc;
}

int fm_backup_restore(const struct fm_config *cfg, const char *path, const char *arg_file,
                      struct fm_backup_info *info, char *err, size_t errcap)
{
    char stage[FM_PATH_MAX + 16];
    struct fm_config *sc = NULL;
    struct backup_parts p;
    uint64_t head = 0;
    int rc;
    memset(info, 0, sizeof *info);
    err[0] = '\0';
    if ((rc = check_free(cfg, err, errcap)) != FM_OK)
        return rc;
    if ((rc = fm_keys_path(cfg, STAGE_NAME, stage, sizeof stage)) != FM_OK ||
        (rc = fm_mkdirs(cfg->data_dir)) != FM_OK)
        return rc;
    unstage(stage); /* what an interrupted restore left */
    if (fm_mkdirs(stage) != FM_OK) {
        snprintf(err, errcap, "cannot create %s: %s", stage, strerror(errno));
        return FM_EIO;
    }
    if ((sc = malloc(sizeof *sc)) == NULL) {
        rc = FM_ENOMEM;
        goto out_stage;
    }
    if ((rc = stage_file(cfg, path, stage, &p, err, errcap)) != FM_OK)
        goto out_stage;
    if ((rc = staged_config(cfg, stage, sc)) == FM_OK && (rc = place_small(sc, &p)) == FM_OK)
        rc = verify_staged(sc, arg_file, &head, err, errcap);
    if (rc == FM_OK)
        rc = land(cfg, &p, stage, head, err, errcap);
    *info = p.info;
    info->own_head = head;
    backup_parts_release(&p);
out_stage:
    free(sc);
    unstage(stage);
    return rc;
}
