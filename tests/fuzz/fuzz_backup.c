/*
 * fuzz_backup.c — libFuzzer target for the backup file decoder
 * (node/replica/backup.c) that `fieldmesh restore` runs on a file from
 * removable media or a file server. Nothing may crash or read out of
 * bounds; every refusal says why; a file is accepted only whole (its hash
 * checks) and decoding is a function of the bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "node/replica/replica.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(const uint8_t *data, size_t size, struct fm_backup_info *info, char *err,
                 size_t cap)
{
    FILE *in = fmemopen((void *)data, size, "rb");
    if (in == NULL)
        return FM_EIO;
    int rc = fm_backup_check(in, 1u << 20, info, err, cap);
    fclose(in);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fm_backup_info a, b;
    char ea[512], eb[512];
    if (size == 0)
        return 0; /* fmemopen refuses an empty buffer */
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    int rc = check(data, size, &a, ea, sizeof ea);
    if (rc == FM_EIO)
        return 0;
    if (rc != FM_OK && ea[0] == '\0')
        __builtin_trap(); /* a refusal without a reason */
    if (rc == FM_OK && memchr(a.name, '\0', sizeof a.name) == NULL)
        __builtin_trap();
    if (check(data, size, &b, eb, sizeof eb) != rc || memcmp(&a, &b, sizeof a) != 0 ||
        (rc != FM_OK && strcmp(ea, eb) != 0))
        __builtin_trap();
    return 0;
}
