/*
 * lines.c — the line walk shared by the console's two small text files,
 * the operator accounts (operators.c) and the failed-login counts
 * (lockout.c). Both are untrusted bytes read as lines that end in '\n':
 * empty lines and '#' comments are skipped, and a last line without its
 * newline is refused rather than half read (a file cut short by a crash
 * or a full disk). The walk happens on a private copy the callback may
 * write into; the copy is wiped before it is freed, since the operators
 * file holds password hashes. Each caller parses its own lines and words
 * its own messages.
 */
#include "console_int.h"

#include <stdlib.h>
#include <string.h>

int console_each_line(const char *buf, size_t len, console_line_fn fn, void *arg,
                      size_t *open_line)
{
    *open_line = 0;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return FM_ENOMEM;
    memcpy(copy, buf, len);
    copy[len] = '\0';
    int rc = FM_OK;
    size_t lineno = 0;
    for (char *p = copy; rc == FM_OK && *p != '\0';) {
        char *nl = strchr(p, '\n');
        lineno++;
        if (nl == NULL) {
            *open_line = lineno;
            rc = FM_EDECODE;
            break;
        }
        *nl = '\0';
        if (p[0] != '#' && p[0] != '\0')
            rc = fn(p, lineno, arg);
        p = nl + 1;
    }
    fm_wipe(copy, len);
    free(copy);
    return rc;
}
