/*
 * cmd_backup.c — `fieldmesh backup FILE` and `fieldmesh restore FILE`
 * (docs/service.md §6). The work is in node/replica/backup*.c; this file
 * parses the words and says what happened, and what the operator does
 * next: a restored node refuses to sign until a peer confirms how far its
 * own log went, so restore says how that happens and how to end it by
 * hand when no peer ever will.
 */
#include "cli_int.h"

#include <stdlib.h>
#include <unistd.h>

static void print_size(const char *what, uint64_t bytes)
{
    if (bytes >= (UINT64_C(10) << 20))
        printf("%s %.1f MiB", what, (double)bytes / (1 << 20));
    else
        printf("%s %llu bytes", what, (unsigned long long)bytes);
}

static int run_backup(struct cli *cl, int argc, char **argv)
{
    struct cli_progress line;
    struct fm_backup_progress progress = { cli_progress_show, &line };
    struct cli_args a;
    struct fm_backup_info info;
    char err[2 * FM_PATH_MAX + 256], when[CLI_TIME_LEN];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 1, 1, &a);
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_crypto(cl)) != 0)
        return rc;
    /* on a terminal only: one stderr line, so stdout gets nothing extra */
    bool tty = cli_progress_begin(&line, "copying the store", CLI_PROGRESS_BYTES);
    rc = fm_backup_write(&cl->cfg, a.pos[0], tty ? &progress : NULL, &info, err, sizeof err);
    cli_progress_end(&line);
    if (rc != FM_OK)
        return cli_error(cl, rc, "%s", err[0] ? err : fm_strerror(rc));
    cli_fmt_time(info.created_ms << 16, false, when);
    printf("backup of node %s written to %s at %s:", info.name, a.pos[0], when);
    print_size("", info.file_bytes);
    print_size(" (store", info.store_bytes);
    printf(")\nIt is sealed like the node's disk: keep the passphrase or key file apart "
           "from it.\nRestore on a new machine: fieldmesh -c CONF restore %s\n", a.pos[0]);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_backup = {
    NULL, "backup", "FILE",
    "copy this node's keys, certificate and store into FILE while the daemon runs",
    "Writes one file holding the sealed key files, the certificate, the data key and a\n"
    "compacted copy of the LMDB store taken from one read transaction (a consistent\n"
    "state; the daemon keeps running and writing). Nothing is decrypted: the backup is\n"
    "as sealed as the node's disk and useless without its passphrase or key file.\n"
    "FILE must not exist. On a terminal the copy's progress is shown on stderr.\n"
    "`fieldmesh doctor` reports when the last backup was made.\n",
    run_backup,
};

static int restore_confirm(struct cli *cl)
{
    int rc = fm_restored_confirm(&cl->cfg);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "this node is not in the restored state; nothing to confirm");
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot end the restored state: %s", fm_strerror(rc));
    printf("restored store confirmed: this node signs again from its own log as restored.\n");
    return CLI_EXIT_OK;
}

static int run_restore(struct cli *cl, int argc, char **argv)
{
    enum { RS_CONFIRMED, RS_PASS };
    static const struct cli_opt opts[] = {
        [RS_CONFIRMED] = { "confirmed", false },
        [RS_PASS] = { "passphrase-file", true },
    };
    struct cli_args a;
    struct fm_backup_info info;
    char err[2 * FM_PATH_MAX + 256], when[CLI_TIME_LEN];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 0, 1, &a);
    if (cli_flag(&a, RS_CONFIRMED) != (a.npos == 0))
        return cli_usage(cl, "give either FILE or --confirmed");
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_crypto(cl)) != 0)
        return rc;
    if (cli_flag(&a, RS_CONFIRMED))
        return restore_confirm(cl);
    const char *pass = a.val[RS_PASS] ? a.val[RS_PASS] : getenv("FIELDMESH_PASSPHRASE_FILE");
    rc = fm_backup_restore(&cl->cfg, a.pos[0], pass, &info, err, sizeof err);
    if (rc != FM_OK)
        return cli_error(cl, rc, "%s: %s", a.pos[0], err[0] ? err : fm_strerror(rc));
    cli_fmt_time(info.created_ms << 16, false, when);
    printf("restored node %s from %s (backup of %s): its own log up to seq %llu.\n"
           "It will not sign until a peer confirms how far its log went: start fieldmeshd\n"
           "and let it reach a peer; it pulls any newer ops of its own first, then signs.\n"
           "If no peer ever received anything newer from this node, end the wait with:\n"
           "  fieldmesh -c %s restore --confirmed\n",
           info.name, a.pos[0], when, (unsigned long long)info.own_head,
           cl->cfg.path[0] ? cl->cfg.path : "CONF");
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_restore = {
    NULL, "restore", "FILE [--passphrase-file F] | --confirmed",
    "put a backup in place on a new machine (it waits for a peer before signing)",
    "FILE: checks the backup whole, unlocks its keys with the node's passphrase\n"
    "(--passphrase-file, $FIELDMESH_PASSPHRASE_FILE, trust.passphrase_file or the\n"
    "terminal), checks the certificate against trust.org_key, opens the store, and only\n"
    "then writes the key files and the store where this config puts them. It refuses\n"
    "when a key, certificate, data key or store is already there.\n"
    "The node is then \"restored, unconfirmed\": it refuses to sign (exit 3) until\n"
    "fieldmeshd has heard from a peer that holds this node's log at least as far as\n"
    "the backup and no further than this store (newer own ops are pulled first).\n"
    "--confirmed: end that wait by hand, when no peer ever received anything newer\n"
    "from this node (the old machine never synced after the backup).\n",
    run_restore,
};
