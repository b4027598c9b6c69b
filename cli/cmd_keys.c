/*
 * cmd_keys.c — `fieldmesh keys seal`: migrating an unsealed node.key of
 * an older version to a key sealed under the node's passphrase
 * (docs/security.md). How every command gets the node's keys is in
 * cli_open.c.
 */
#include "cli_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX 4096

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
