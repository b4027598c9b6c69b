/*
 * route.c — the GPS route summary a unit's clear carries (docs/gps.md):
 * distance driven and time en route from the ticket's breadcrumb trail.
 *
 * The payload's 32-bit tag bitmap is full and a ticket.step allows no
 * numeric field it does not already use: an older node refuses any other
 * tag as malformed. The clear's result text is required and free, so the
 * summary rides at its end in one strict form, which older nodes show as
 * part of the result and this code reads back:
 *
 *     <crew's result> [GPS route: 5234 m, 612 s en route]
 */
#include "workflow_int.h"

#include <stdio.h>
#include <string.h>

#define ROUTE_OPEN " [GPS route: "
#define ROUTE_CLOSE " s en route]"

static bool digits(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

bool fm_route_parse(const char *text, struct fm_route *out, size_t *result_len)
{
    size_t len = text != NULL ? strlen(text) : 0, cl = strlen(ROUTE_CLOSE);
    memset(out, 0, sizeof *out);
    if (len < cl || strcmp(text + len - cl, ROUTE_CLOSE) != 0)
        return false;
    const char *open = NULL;
    for (const char *p = strstr(text, ROUTE_OPEN); p != NULL; p = strstr(p + 1, ROUTE_OPEN))
        open = p;
    if (open == NULL)
        return false;
    const char *d = open + strlen(ROUTE_OPEN), *end = text + len - cl;
    const char *m = strstr(d, " m, ");
    uint64_t dist, secs;
    if (m == NULL || m > end || !digits(d, (size_t)(m - d), FM_ROUTE_MAX, &dist) ||
        !digits(m + 4, (size_t)(end - (m + 4)), FM_ROUTE_MAX, &secs))
        return false;
    out->distance_m = dist;
    out->enroute_s = secs;
    if (result_len != NULL)
        *result_len = (size_t)(open - text);
    return true;
}

bool fm_route_append(char *text, size_t cap, const struct fm_route *r)
{
    size_t len = strlen(text);
    int w = snprintf(text + len, cap - len, ROUTE_OPEN "%llu m, %llu" ROUTE_CLOSE,
                     (unsigned long long)r->distance_m, (unsigned long long)r->enroute_s);
    if (w < 0 || (size_t)w >= cap - len) {
        text[len] = '\0';
        return false;
    }
    return true;
}
