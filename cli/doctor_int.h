/*
 * doctor_int.h — shared by cmd_doctor.c (the command and its output),
 * doctor_checks.c and doctor_net.c (the checks) and doctor_report.c (the
 * list): a list of findings, each with what is wrong and the command that
 * fixes it.
 */
#ifndef FM_CLI_DOCTOR_INT_H
#define FM_CLI_DOCTOR_INT_H

#include "cli_int.h"

enum doctor_level { DOCTOR_OK = 0, DOCTOR_SKIP, DOCTOR_WARN, DOCTOR_PROBLEM };

#define DOCTOR_MAX_FINDINGS (16 + 3 * FM_CONFIG_MAX_PEERS)
#define DOCTOR_TEXT_MAX (4 * FM_PATH_MAX) /* room for a few paths and endpoints */

struct doctor_finding {
    const char *check;      /* "config", "key", "certificate", "store", "disk", "port",
                             * "daemon", "peer", "clock", "backup" (static strings) */
    enum doctor_level level;
    char what[DOCTOR_TEXT_MAX];
    char fix[DOCTOR_TEXT_MAX]; /* "" when there is nothing to do */
};

struct doctor {
    const char *conf_path;     /* as the user should type it after -c */
    struct fm_config cfg;
    bool daemon_up;            /* the daemon answered on the control socket */
    size_t n;
    struct doctor_finding f[DOCTOR_MAX_FINDINGS];
};

/* Appends a finding (doctor_report.c); `fix` may be NULL. Findings past the cap are dropped
 * (the cap holds every check for the maximum number of peers). */
void doctor_add(struct doctor *d, const char *check, enum doctor_level level, const char *fix,
                const char *fmt, ...) FM_PRINTF(5, 6);

/* The checks, in the order they run; each adds its findings. */
void doctor_check_key(struct doctor *d);
void doctor_check_cert(struct doctor *d);
void doctor_check_store(struct doctor *d);
void doctor_check_daemon_and_peers(struct doctor *d);
void doctor_check_port(struct doctor *d);
void doctor_check_backup(struct doctor *d); /* doctor_backup.c */

/* Thresholds (docs/service.md §5). */
#define DOCTOR_CERT_WARN_DAYS 30    /* a certificate expiring sooner is a warning */
#define DOCTOR_DISK_MIN_BYTES (UINT64_C(64) << 20)  /* less free space is a problem */
#define DOCTOR_MAP_FULL_PCT 90      /* a store this full of map_max is a problem */
#define DOCTOR_BACKUP_WARN_DAYS 7  /* no backup this recent is a warning */
#define DOCTOR_SKEW_WARN_MS 5000    /* a peer clock this far off is a warning; past
                                     * gossip.max_skew_ms a problem */

#endif
