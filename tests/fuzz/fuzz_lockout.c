/*
 * fuzz_lockout.c — libFuzzer target for the console's lockout file parser
 * (node/console/lockout.c): the file may be damaged or edited by hand, so
 * its bytes are untrusted. Nothing may crash; a refusal keeps nothing and
 * says why; an accepted file holds only names of 1..63 bytes without
 * control bytes, counts below the lock threshold and locks no longer than
 * CONSOLE_LOCK_S, and renders back to text that parses to the same table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/console/console_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct console_fail a[CONSOLE_FAIL_SLOTS], b[CONSOLE_FAIL_SLOTS];
    const uint64_t now = UINT64_C(1800000000000);
    char err[160] = "", *text = NULL;
    size_t n = 0, m = 0, len = 0;
    int rc = lockout_parse((const char *)data, size, a, CONSOLE_FAIL_SLOTS, &n, now, err,
                           sizeof err);
    if (rc != FM_OK) {
        if (rc != FM_EDECODE || n != 0 || err[0] == '\0')
            __builtin_trap();
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t l = strnlen(a[i].name, sizeof a[i].name);
        if (l == 0 || l == sizeof a[i].name || a[i].fails >= CONSOLE_LOCK_FAILS ||
            a[i].locked_until_ms > now + CONSOLE_LOCK_S * 1000u)
            __builtin_trap();
        for (size_t j = 0; j < l; j++)
            if ((unsigned char)a[i].name[j] < 0x20 || a[i].name[j] == 0x7f)
                __builtin_trap();
    }
    if (lockout_render(a, n, now, &text, &len) != FM_OK)
        __builtin_trap();
    if (lockout_parse(text, len, b, CONSOLE_FAIL_SLOTS, &m, now, err, sizeof err) != FM_OK)
        __builtin_trap();
    /* records with nothing to count are dropped; the rest come back */
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].fails > 0 || a[i].locked_until_ms > now) {
            if (live >= m || strcmp(a[i].name, b[live].name) != 0 ||
                a[i].fails != b[live].fails || a[i].locked_until_ms != b[live].locked_until_ms)
                __builtin_trap();
            live++;
        }
    if (live != m)
        __builtin_trap();
    free(text);
    return 0;
}
