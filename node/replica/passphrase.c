/*
 * passphrase.c — where a process that must unlock the node's keys itself
 * finds the passphrase, in a fixed order (docs/security.md):
 *   1. a file named on the command line (--passphrase-file; a key file on
 *      removable media is just such a file),
 *   2. systemd's credential: $CREDENTIALS_DIRECTORY/fieldmesh-passphrase
 *      (LoadCredential= or LoadCredentialEncrypted= in the unit),
 *   3. trust.passphrase_file in the config,
 *   4. a prompt on the controlling terminal, echo off.
 * With none of them, FM_ELOCKED. The passphrase only ever sits in a
 * buffer wiped right after the key derivation.
 */
#include "replica_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define SECRET_MAX 4096

/* Reads one line from /dev/tty with echo off. FM_ELOCKED without a tty. */
static int prompt_tty(const char *prompt, uint8_t *out, size_t cap, size_t *len)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return FM_ELOCKED;
    struct termios old, quiet;
    bool have_term = tcgetattr(fd, &old) == 0;
    if (!have_term) {
        close(fd);
        return FM_ELOCKED;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    (void)tcsetattr(fd, TCSAFLUSH, &quiet);
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* the prompt is a courtesy; reading still works */
    }
    size_t n = 0;
    int rc = FM_OK;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r <= 0 || ch == '\n')
            break;
        if (n == cap) {
            rc = FM_ETOOBIG;
            continue;
        }
        out[n++] = (uint8_t)ch;
    }
    (void)tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
        /* as above */
    }
    close(fd);
    if (rc == FM_OK && n == 0)
        rc = FM_EINVAL;
    *len = rc == FM_OK ? n : 0;
    return rc;
}

int fm_passphrase_find(const struct fm_config *cfg, const char *arg_file, bool twice,
                       uint8_t *out, size_t cap, size_t *len, char *from, size_t fromcap)
{
    char cred[FM_PATH_MAX + 64];
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    const char *file = NULL;
    if (arg_file != NULL && arg_file[0] != '\0')
        file = arg_file;
    else if (dir != NULL && dir[0] != '\0' &&
             snprintf(cred, sizeof cred, "%s/fieldmesh-passphrase", dir) < (int)sizeof cred &&
             access(cred, F_OK) == 0)
        file = cred;
    else if (cfg->passphrase_file[0] != '\0')
        file = cfg->passphrase_file;
    if (file != NULL) {
        fm_strlcpy(from, file, fromcap);
        return fm_keys_read_secret(file, out, cap, len);
    }
    fm_strlcpy(from, "the terminal", fromcap);
    char prompt[FM_NAME_MAX + 64];
    snprintf(prompt, sizeof prompt, "passphrase for node %s: ", cfg->name);
    int rc = prompt_tty(prompt, out, cap, len);
    if (rc != FM_OK || !twice)
        return rc;
    uint8_t *again = calloc(1, cap);
    size_t alen = 0;
    if (again == NULL)
        return FM_ENOMEM;
    rc = prompt_tty("the same again: ", again, cap, &alen);
    if (rc == FM_OK && (alen != *len || memcmp(again, out, alen) != 0))
        rc = FM_EPASSPHRASE;
    fm_wipe(again, cap);
    free(again);
    return rc;
}

int fm_keys_unlock_any(struct fm_keys *k, const struct fm_config *cfg, const char *arg_file,
                       char *from, size_t fromcap)
{
    uint8_t secret[SECRET_MAX];
    size_t len = 0;
    memset(k, 0, sizeof *k);
    int rc = fm_passphrase_find(cfg, arg_file, false, secret, sizeof secret, &len, from,
                                fromcap);
    if (rc == FM_OK)
        rc = fm_keys_unlock(k, cfg, secret, len);
    fm_wipe(secret, sizeof secret);
    return rc;
}

int fm_tty_secret(const char *prompt, uint8_t *out, size_t cap, size_t *len)
{
    return prompt_tty(prompt, out, cap, len);
}
