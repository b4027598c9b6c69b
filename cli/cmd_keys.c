/*
 * cmd_keys.c — the CLI side of keys at rest (docs/security.md): how every
 * command gets the node's keys, and `keys seal` (migrating an unsealed
 * node.key of an older version).
 *
 * A command asks the running daemon first (its key socket answers only
 * the same Unix user), so a console never types the passphrase while the
 * daemon runs. Without a daemon it unlocks the keys itself with the
 * passphrase from $FIELDMESH_PASSPHRASE_FILE, trust.passphrase_file or the
 * terminal. Wrong passphrase: a clear message, exit 3, nothing touched
 * (the store is not even opened).
 */
#include "cli_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX 4096

int cli_open_sealed(struct cli *cl, unsigned flags)
{
    const struct fm_config *cfg = &cl->cfg;
    struct fm_keys k;
    char from[FM_PATH_MAX] = "the daemon";
    if ((flags & FM_OPEN_IDENTITY) && access(cfg->key_path, F_OK) != 0)
        return FM_ENOTFOUND; /* no key yet: the caller says to run keygen */
    int rc = fm_keys_from_daemon(&k, cfg);
    if (rc == FM_ELOCKED)
        rc = fm_keys_unlock_any(&k, cfg, getenv("FIELDMESH_PASSPHRASE_FILE"), from,
                                sizeof from);
    if (rc == FM_OK) {
        rc = fm_node_open_keys(&cl->node, cfg, flags, &k);
        fm_keys_release(&k);
        return rc; /* 0 or a negative fm_err for the caller to explain */
    }
    char dk[FM_PATH_MAX + 32], shred[FM_PATH_MAX + 32];
    snprintf(dk, sizeof dk, "%s/data.key", cfg->data_dir);
    snprintf(shred, sizeof shred, "%s/data.key.shredded", cfg->data_dir);
    switch (rc) {
    case FM_ELOCKED:
        if (access(dk, F_OK) != 0 && access(shred, F_OK) != 0 && access(cfg->key_path, F_OK) != 0)
            return cli_error(cl, rc, "the node's keys are locked: no daemon runs and no "
                             "passphrase was given, and this node has no keys yet (no %s): run "
                             "`fieldmesh -c %s keygen`, then have the printed key enrolled "
                             "(docs/security.md)", dk, cfg->path);
        return cli_error(cl, rc, "the node's keys are locked: start fieldmeshd, or give the "
                         "passphrase (FIELDMESH_PASSPHRASE_FILE=FILE, trust.passphrase_file, "
                         "or run on a terminal)");
    case FM_EPASSPHRASE:
        return cli_error(cl, rc, "wrong passphrase (from %s): the keys of %s did not open; "
                         "nothing was read or changed", from, cfg->data_dir);
    case FM_EPLAIN:
        return cli_error(cl, rc, "%s or the store in %s predates encryption at rest: run "
                         "`fieldmesh -c %s keys seal` (docs/security.md, migration)",
                         cfg->key_path, cfg->data_dir, cfg->path);
    case FM_ESHREDDED:
        return cli_error(cl, rc, "the data key of %s was destroyed after this node's "
                         "revocation: its store cannot be read (docs/security.md)",
                         cfg->data_dir);
    case FM_EKEYPERM: {
        struct stat st;
        const char *bad = stat(cfg->key_path, &st) == 0 && (st.st_mode & 077) ? cfg->key_path
                                                                              : from;
        return cli_error(cl, rc, "refusing the secret %s: it is readable by group or others "
                         "(fix: chmod 600 %s)", bad, bad);
    }
    default:
        return cli_error(cl, rc, "cannot unlock the keys of %s: %s", cfg->data_dir,
                         fm_strerror(rc));
    }
}

/* ------------------------------------------------------------------ */
/* keys seal                                                           */
/* ------------------------------------------------------------------ */

static int run_keys_seal(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    struct fm_identity id = { { 0 }, NULL };
    struct fm_unlock *u = NULL;
    uint8_t secret[SECRET_MAX];
    size_t len = 0;
    char from[FM_PATH_MAX], tmp[FM_PATH_MAX + 16], tmp_pub[FM_PATH_MAX + 24];
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, NULL, 0, 0, 0, &a);
    if ((rc = cli_need_config(cl)) != 0 || (rc = cli_crypto(cl)) != 0)
        return rc;
    const struct fm_config *cfg = &cl->cfg;
    rc = fm_identity_load(&id, cfg->key_path);
    if (rc == FM_EDECODE)
        return cli_error(cl, rc, "%s is not an unsealed key of the old format (already "
                         "sealed?)", cfg->key_path);
    if (rc != 0)
        return cli_error(cl, rc, "cannot read %s: %s", cfg->key_path, fm_strerror(rc));
    snprintf(tmp, sizeof tmp, "%s.sealing", cfg->key_path);
    snprintf(tmp_pub, sizeof tmp_pub, "%s.pub", tmp);
    rc = fm_passphrase_find(cfg, getenv("FIELDMESH_PASSPHRASE_FILE"), true, secret,
                            sizeof secret, &len, from, sizeof from);
    if (rc == FM_OK && (rc = fm_unlock_new(&u, secret, len)) == FM_OK) {
        unlink(tmp);
        rc = fm_identity_save_sealed(&id, tmp, u, cfg->kdf);
    }
    if (rc == FM_OK && rename(tmp, cfg->key_path) != 0)
        rc = FM_EIO;
    unlink(tmp_pub);
    fm_wipe(secret, sizeof secret);
    fm_unlock_destroy(&u);
    fm_identity_release(&id);
    if (rc != FM_OK) {
        unlink(tmp);
        return cli_error(cl, rc, "cannot seal %s (passphrase from %s): %s", cfg->key_path,
                         from, fm_strerror(rc));
    }
    fprintf(stderr, "fieldmesh keys seal: %s is now sealed under the passphrase from %s.\n"
            "A store written before encryption at rest cannot be sealed in place: move %s\n"
            "aside and let the node take its ops back from its peers (docs/security.md).\n",
            cfg->key_path, from, cfg->data_dir);
    return CLI_EXIT_OK;
}

const struct cli_cmd cli_cmd_keys_seal = {
    "keys", "seal", "", "seal an unsealed node key (from an older version) under a passphrase",
    "Replaces trust.key, written in clear by an older fieldmesh, with the same key\n"
    "sealed under a passphrase (Argon2id at trust.kdf): from $FIELDMESH_PASSPHRASE_FILE,\n"
    "trust.passphrase_file, or asked twice on the terminal. The public key and the\n"
    "certificate stay valid. Exits 3 if the key is group/world readable.\n",
    run_keys_seal,
};
