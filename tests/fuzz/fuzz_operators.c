/*
 * fuzz_operators.c — libFuzzer target for the console's operators file
 * parser (node/console/operators.c): the file may be damaged or edited by
 * hand, so its bytes are untrusted. Nothing may crash; a refusal leaves
 * the list empty with a message; an accepted file holds only valid names,
 * roles and hashes, and renders back to text that parses to the same list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/console/console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fm_operators a = { 0 }, b = { 0 };
    char err[256] = "";
    int rc = fm_operators_parse((const char *)data, size, &a, err, sizeof err);
    if (rc != FM_OK) {
        if (rc != FM_EDECODE || a.n != 0 || a.ops != NULL || err[0] == '\0')
            __builtin_trap();
        return 0;
    }
    for (size_t i = 0; i < a.n; i++)
        if (!fm_operator_name_ok(a.ops[i].name) || a.ops[i].role > FM_OPROLE_ADMIN ||
            strncmp(a.ops[i].hash, "$argon2id$", 10) != 0)
            __builtin_trap();
    char *text = NULL;
    size_t len = 0;
    if (fm_operators_render(&a, &text, &len) != FM_OK)
        __builtin_trap();
    if (fm_operators_parse(text, len, &b, err, sizeof err) != FM_OK || b.n != a.n)
        __builtin_trap();
    for (size_t i = 0; i < a.n; i++)
        if (strcmp(a.ops[i].name, b.ops[i].name) != 0 || a.ops[i].role != b.ops[i].role ||
            strcmp(a.ops[i].hash, b.ops[i].hash) != 0)
            __builtin_trap();
    free(text);
    fm_operators_free(&a);
    fm_operators_free(&b);
    return 0;
}
