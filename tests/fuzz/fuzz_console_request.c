/*
 * fuzz_console_request.c — libFuzzer target for the console's parsers of
 * a request's head (node/console/http.c, auth.c): the input is split at
 * NUL bytes into a URL path, a Cookie header and a method. Nothing may
 * crash or read out of bounds; a cookie value found is a non-empty token
 * of [A-Za-z0-9_-] that fits; a static file name accepted has no ".."
 * segment and no segment starting with '.'; a route found matches the
 * path it was found for, and its {id} part has no '/'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/console/console_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *part(const char **p, const char *end)
{
    const char *s = *p;
    const char *nul = memchr(s, '\0', (size_t)(end - s));
    *p = nul != NULL ? nul + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *p = buf, *end = buf + size;
    const char *path = part(&p, end), *cookie = p < end ? part(&p, end) : "";
    const char *method = p < end ? part(&p, end) : "GET";

    char v[CONSOLE_TOKEN_LEN];
    if (console_cookie_find(cookie, "fm_session", v, sizeof v)) {
        size_t n = strlen(v);
        if (n == 0 || n >= sizeof v || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                 "0123456789_-") != n)
            __builtin_trap();
    }
    if (console_plain_name(path)) {
        if (path[0] == '.' || strstr(path, "/.") != NULL || strstr(path, "//") != NULL ||
            path[0] == '/')
            __builtin_trap();
    }
    const char *arg = NULL;
    int r = console_route_lookup(method, path, &arg);
    if (r >= 0 && (strncmp(path, "/api/", 5) != 0 || strchr(arg, '/') != NULL))
        __builtin_trap();
    if (r < -2 || arg == NULL)
        __builtin_trap();
    free(buf);
    return 0;
}
