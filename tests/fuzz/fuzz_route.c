/*
 * fuzz_route.c — libFuzzer target for the GPS route summary reader
 * (node/workflow/route.c): the input is a clear's result text as any node
 * may sign it. Nothing may crash or read out of bounds; an accepted
 * summary is within FM_ROUTE_MAX and the crew's text before it is a
 * prefix of the input; writing the parsed summary back after that prefix
 * gives the same text (the form is canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/workflow/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[FM_TEXT_MAX], again[FM_TEXT_MAX];
    struct fm_route r;
    size_t rl = 0;
    if (size >= sizeof text)
        size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = '\0';
    if (!fm_route_parse(text, &r, &rl)) {
        if (r.distance_m != 0 || r.enroute_s != 0)
            __builtin_trap();
        return 0;
    }
    if (r.distance_m > FM_ROUTE_MAX || r.enroute_s > FM_ROUTE_MAX || rl > strlen(text))
        __builtin_trap();
    memcpy(again, text, rl);
    again[rl] = '\0';
    if (!fm_route_append(again, sizeof again, &r) || strcmp(again, text) != 0)
        __builtin_trap();
    return 0;
}
