/*
 * doctor_checks.c — the checks behind `fieldmesh doctor`. Each looks at one
 * thing an admin gets wrong when a node will not sync (the key's mode, an
 * expired certificate, a full disk, a taken port, a daemon that is not
 * running, a peer that does not answer, a clock that is off) and records a
 * finding: what is wrong in the admin's terms and the command that fixes
 * it. Checks only read: nothing here writes the store, the key or the
 * config, so doctor is safe to run on a live node at any time.
 */
#include "doctor_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DAY_MS (UINT64_C(86400000))
#define MIB (UINT64_C(1) << 20)

/* ---- key ---- */

void doctor_check_key(struct doctor *d)
{
    const char *key = d->cfg.key_path;
    struct stat st;
    char fix[DOCTOR_TEXT_MAX];
    if (stat(key, &st) != 0) {
        snprintf(fix, sizeof(fix), "fieldmesh -c %s keygen", d->conf_path);
        doctor_add(d, "key", DOCTOR_PROBLEM, fix, "no node key at %s (%s)", key,
                   strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        doctor_add(d, "key", DOCTOR_PROBLEM, NULL, "%s is not a regular file", key);
        return;
    }
    if (st.st_mode & 077) {
        snprintf(fix, sizeof(fix), "chmod 600 %s", key);
        doctor_add(d, "key", DOCTOR_PROBLEM, fix,
                   "secret key %s has mode %04o: readable by group or others, so the node "
                   "refuses it", key, (unsigned)(st.st_mode & 07777));
        return;
    }
    if (st.st_uid != geteuid())
        doctor_add(d, "key", DOCTOR_WARN, NULL,
                   "secret key %s belongs to uid %lu, not to this user (uid %lu): run doctor "
                   "as the user the daemon runs as", key, (unsigned long)st.st_uid,
                   (unsigned long)geteuid());
    else
        doctor_add(d, "key", DOCTOR_OK, NULL, "secret key %s has mode %04o", key,
                   (unsigned)(st.st_mode & 07777));
}

/* ---- certificate ---- */

static void cert_fix_renew(const struct doctor *d, const uint8_t pk[FM_PK_LEN], char *fix,
                           size_t cap)
{
    char key[FM_KEY_TEXT_LEN];
    fm_key_encode(pk, key);
    snprintf(fix, cap,
             "on the admin machine: fieldmesh org enroll --org ORGDIR --key %s --name %s "
             "--role %s --out new.cert; then here: fieldmesh -c %s trust renew new.cert",
             key, d->cfg.name, fm_role_name(d->cfg.role), d->conf_path);
}

/* The certificate's dates against the node's clock. */
static void cert_check_dates(struct doctor *d, const struct fm_cert *c)
{
    uint64_t now = fm_node_wall_ms();
    char fix[DOCTOR_TEXT_MAX];
    cert_fix_renew(d, c->node, fix, sizeof(fix));
    if (now >= c->expires_ms) {
        doctor_add(d, "certificate", DOCTOR_PROBLEM, fix,
                   "certificate %s expired %llu day(s) ago: peers refuse this node",
                   d->cfg.cert_path, (unsigned long long)((now - c->expires_ms) / DAY_MS));
    } else if (now < c->not_before_ms) {
        doctor_add(d, "certificate", DOCTOR_PROBLEM,
                   "check this machine's clock: timedatectl status",
                   "certificate %s is not valid yet (this clock is behind its start)",
                   d->cfg.cert_path);
    } else if (c->expires_ms - now < DOCTOR_CERT_WARN_DAYS * DAY_MS) {
        doctor_add(d, "certificate", DOCTOR_WARN, fix,
                   "certificate %s expires in %llu day(s)", d->cfg.cert_path,
                   (unsigned long long)((c->expires_ms - now) / DAY_MS));
    } else {
        doctor_add(d, "certificate", DOCTOR_OK, NULL, "certificate %s valid for %llu more days",
                   d->cfg.cert_path, (unsigned long long)((c->expires_ms - now) / DAY_MS));
    }
}

void doctor_check_cert(struct doctor *d)
{
    struct fm_cert c;
    struct fm_identity id = {0};
    char fix[DOCTOR_TEXT_MAX];
    int rc = fm_cert_read_file(&c, d->cfg.cert_path);
    if (rc != FM_OK) {
        snprintf(fix, sizeof(fix),
                 "have this node's key enrolled (fieldmesh org enroll ... --out FILE on the "
                 "admin machine) and copy the certificate to %s", d->cfg.cert_path);
        doctor_add(d, "certificate", DOCTOR_PROBLEM, fix, "no usable certificate at %s: %s",
                   d->cfg.cert_path, fm_strerror(rc));
        return;
    }
    if (memcmp(c.org, d->cfg.org_pk, FM_PK_LEN) != 0) {
        doctor_add(d, "certificate", DOCTOR_PROBLEM,
                   "check trust.org_key in the config, or enroll this node with this "
                   "organisation's root key",
                   "certificate %s was signed by another organisation than trust.org_key",
                   d->cfg.cert_path);
        return;
    }
    if (fm_identity_load(&id, d->cfg.key_path) == FM_OK) {
        bool mine = memcmp(id.pk, c.node, FM_PK_LEN) == 0;
        if (!mine) {
            cert_fix_renew(d, id.pk, fix, sizeof(fix));
            doctor_add(d, "certificate", DOCTOR_PROBLEM, fix,
                       "certificate %s enrolls another key than %s", d->cfg.cert_path,
                       d->cfg.key_path);
            fm_identity_release(&id);
            return;
        }
        fm_identity_release(&id);
    }
    rc = fm_cert_check(&c, d->cfg.org_pk, c.not_before_ms);
    if (rc != FM_OK) {
        doctor_add(d, "certificate", DOCTOR_PROBLEM, NULL,
                   "certificate %s does not verify: %s", d->cfg.cert_path, fm_strerror(rc));
        return;
    }
    cert_check_dates(d, &c);
}

/* ---- store and disk ---- */

static void check_disk(struct doctor *d, uint64_t used)
{
    struct statvfs vs;
    char fix[DOCTOR_TEXT_MAX];
    if (statvfs(d->cfg.data_dir, &vs) != 0) {
        doctor_add(d, "disk", DOCTOR_PROBLEM, NULL, "cannot read the free space of %s: %s",
                   d->cfg.data_dir, strerror(errno));
        return;
    }
    uint64_t avail = (uint64_t)vs.f_bavail * (uint64_t)vs.f_frsize;
    snprintf(fix, sizeof(fix), "free space on the file system of %s (df -h %s)",
             d->cfg.data_dir, d->cfg.data_dir);
    if (avail < DOCTOR_DISK_MIN_BYTES)
        doctor_add(d, "disk", DOCTOR_PROBLEM, fix,
                   "only %llu KiB free on %s: new ops will fail to commit",
                   (unsigned long long)(avail >> 10), d->cfg.data_dir);
    else if (d->cfg.map_max > used && avail < d->cfg.map_max - used)
        doctor_add(d, "disk", DOCTOR_WARN, fix,
                   "%llu MiB free on %s, less than the store may still grow "
                   "(storage.map_max_mb %llu)", (unsigned long long)(avail / MIB),
                   d->cfg.data_dir, (unsigned long long)(d->cfg.map_max / MIB));
    else
        doctor_add(d, "disk", DOCTOR_OK, NULL, "%llu MiB free on %s",
                   (unsigned long long)(avail / MIB), d->cfg.data_dir);
}

void doctor_check_store(struct doctor *d)
{
    char path[FM_PATH_MAX + 16], fix[DOCTOR_TEXT_MAX];
    struct fm_node *n = NULL;
    struct fm_node_stats st;
    struct stat sb;
    snprintf(path, sizeof(path), "%s/data.mdb", d->cfg.data_dir);
    if (stat(path, &sb) != 0) {
        doctor_add(d, "store", DOCTOR_WARN, NULL,
                   "no store in %s yet (fieldmeshd or the first command creates it)",
                   d->cfg.data_dir);
        check_disk(d, 0);
        return;
    }
    int rc = fm_node_open(&n, &d->cfg, FM_OPEN_READ);
    if (rc == FM_OK)
        rc = fm_node_stats(n, &st);
    fm_node_close(&n);
    if (rc != FM_OK) {
        doctor_add(d, "store", DOCTOR_PROBLEM, NULL, "cannot open the store in %s: %s",
                   d->cfg.data_dir, fm_strerror(rc));
        check_disk(d, 0);
        return;
    }
    if (st.store_bytes * 100 >= d->cfg.map_max * DOCTOR_MAP_FULL_PCT) {
        snprintf(fix, sizeof(fix), "raise storage.map_max_mb in %s (now %llu) and restart "
                 "fieldmeshd", d->conf_path, (unsigned long long)(d->cfg.map_max / MIB));
        doctor_add(d, "store", DOCTOR_PROBLEM, fix,
                   "the store uses %llu KiB of its %llu KiB cap (storage.map_max_mb): writes "
                   "will fail with 'map full'", (unsigned long long)(st.store_bytes >> 10),
                   (unsigned long long)(d->cfg.map_max >> 10));
    } else {
        doctor_add(d, "store", DOCTOR_OK, NULL, "%llu ops, %llu KiB used of a %llu MiB cap",
                   (unsigned long long)st.ops, (unsigned long long)(st.store_bytes >> 10),
                   (unsigned long long)(d->cfg.map_max / MIB));
    }
    check_disk(d, st.store_bytes);
}
