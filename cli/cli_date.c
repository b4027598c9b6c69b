/*
 * cli_date.c — the one parser of a DATE operand for commands written from
 * now on ("YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]Z", UTC). cmd_bundle.c and
 * cmd_report.c still carry older private copies with slightly different
 * rules (report accepts a space for the T); they can move here.
 */
#include "cli_int.h"

#include <string.h>
#include <time.h>

int cli_parse_date(struct cli *cl, const char *what, const char *s, uint64_t *ms)
{
    int v[6] = { 0, 0, 0, 0, 0, 0 };
    static const size_t at[6] = { 0, 5, 8, 11, 14, 17 };
    size_t n = strlen(s), nf = 0;
    if (n == 10 && s[4] == '-' && s[7] == '-')
        nf = 3;
    else if (n == 17 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
             s[16] == 'Z')
        nf = 5;
    else if (n == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
             s[16] == ':' && s[19] == 'Z')
        nf = 6;
    for (size_t i = 0; i < nf; i++)
        for (size_t k = 0; k < (i == 0 ? 4u : 2u); k++) {
            char c = s[at[i] + k];
            if (c < '0' || c > '9')
                nf = 0;
            else
                v[i] = v[i] * 10 + (c - '0');
        }
    struct tm tm = { .tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2],
                     .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5] };
    time_t t = nf ? timegm(&tm) : (time_t)-1;
    if (nf == 0 || v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 ||
        v[3] > 23 || v[4] > 59 || v[5] > 59 || t < 0)
        return cli_usage(cl, "%s must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z (UTC), not '%s'",
                         what, s);
    *ms = (uint64_t)t * 1000;
    return 0;
}
