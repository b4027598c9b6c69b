/*
 * doctor_backup.c — doctor's `backup` check: when this node's last backup
 * was made (<data_dir>/backup.last, written by `fieldmesh backup`), a
 * warning when there is none or it is older than DOCTOR_BACKUP_WARN_DAYS,
 * and a problem while the node is restored and unconfirmed (it signs
 * nothing until a peer confirms its log, docs/service.md §6).
 */
#include "doctor_int.h"

#include <stdio.h>

void doctor_check_backup(struct doctor *d)
{
    char file[FM_PATH_MAX], fix[DOCTOR_TEXT_MAX], when[CLI_TIME_LEN];
    uint64_t at = 0, head = 0, now = fm_wall_ms();
    if (fm_restored_pending(&d->cfg, &head)) {
        snprintf(fix, sizeof fix, "start fieldmeshd and let it reach a peer; if no peer ever "
                 "received anything newer from this node: fieldmesh -c %s restore --confirmed",
                 d->conf_path);
        doctor_add(d, "backup", DOCTOR_PROBLEM, fix,
                   "restored from a backup (own log up to seq %llu): refuses to sign until a "
                   "peer confirms how far this node's log went", (unsigned long long)head);
    }
    snprintf(fix, sizeof fix, "fieldmesh -c %s backup /path/to/%s-$(date +%%F).fmbk",
             d->conf_path, d->cfg.name);
    int rc = fm_backup_last(&d->cfg, &at, file, sizeof file);
    if (rc == FM_ENOTFOUND) {
        doctor_add(d, "backup", DOCTOR_WARN, fix, "no backup of this node was ever made here");
        return;
    }
    if (rc != FM_OK) {
        doctor_add(d, "backup", DOCTOR_WARN, fix, "cannot read %s/backup.last: %s",
                   d->cfg.data_dir, fm_strerror(rc));
        return;
    }
    cli_fmt_time(at << 16, false, when);
    uint64_t age_days = now > at ? (now - at) / 86400000u : 0;
    if (age_days >= DOCTOR_BACKUP_WARN_DAYS)
        doctor_add(d, "backup", DOCTOR_WARN, fix, "last backup %llu days ago (%s, %s)",
                   (unsigned long long)age_days, when, file);
    else
        doctor_add(d, "backup", DOCTOR_OK, NULL, "last backup %s (%s)", when, file);
}
