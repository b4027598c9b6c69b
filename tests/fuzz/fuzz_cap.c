/*
 * fuzz_cap.c — libFuzzer target for the CAP 1.2 importer
 * (node/formats/cap_parse.c), which reads XML written by other systems.
 * Nothing may crash, leak or read out of bounds; a refusal always says
 * why; parsing is a function of the bytes; and an accepted alert is
 * written back (fmt_cap_write) and must parse again to the same struct
 * (minus what the importer counts but does not keep).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/formats/formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fmt_cap_alert a, b;
    char err[1024], err2[1024], *xml = NULL;
    size_t len;
    int rc = fmt_cap_parse((const char *)data, size, "fuzz", &a, err, sizeof err);
    if (rc != FM_OK && rc != FM_EDECODE && rc != FM_ETOOBIG && rc != FM_ENOMEM)
        __builtin_trap();
    if (rc != FM_OK && rc != FM_ENOMEM && err[0] == '\0')
        __builtin_trap();
    if (fmt_cap_parse((const char *)data, size, "fuzz", &b, err2, sizeof err2) != rc ||
        memcmp(&a, &b, sizeof a) != 0)
        __builtin_trap();
    if (rc != FM_OK)
        return 0;
    if (fmt_cap_write(&a, &xml, &len, err, sizeof err) == FM_OK) {
        if (fmt_cap_parse(xml, len, "again", &b, err, sizeof err) != FM_OK ||
            strcmp(a.identifier, b.identifier) != 0 || a.ninfo != b.ninfo)
            __builtin_trap();
    }
    free(xml);
    return 0;
}
