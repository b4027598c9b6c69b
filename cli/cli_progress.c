/*
 * cli_progress.c — one progress line on stderr for long commands (backup,
 * bundle export and import, rebuild), shown only on a terminal.
 *
 * The line is rewritten in place ("\r") at most ten times a second,
 * however often the work reports, and cleared at the end, so the final
 * output reads as if it had never been there. When stderr is not a
 * terminal nothing is printed at all: a script or a log gets exactly what
 * it got before. Reports may come from a worker thread (backup's poller);
 * one line has one reporter at a time.
 */
#include "cli_int.h"

#include <time.h>
#include <unistd.h>

#define PROGRESS_EVERY_MS 100

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool cli_progress_begin(struct cli_progress *p, const char *what, enum cli_progress_unit unit)
{
    p->what = what;
    p->unit = unit;
    p->last_ms = 0;
    p->shown = false;
    p->tty = isatty(STDERR_FILENO) == 1;
    p->report.fn = cli_progress_show;
    p->report.ctx = p;
    return p->tty;
}

void cli_progress_show(void *ctx, uint64_t done, uint64_t total)
{
    struct cli_progress *p = ctx;
    uint64_t now = mono_ms();
    if (!p->tty || (p->shown && now - p->last_ms < PROGRESS_EVERY_MS && done != total))
        return;
    p->last_ms = now;
    p->shown = true;
    if (p->unit == CLI_PROGRESS_BYTES && total >= done && total > 0)
        fprintf(stderr, "\r%s: %.1f of at most %.1f MiB ", p->what, done / 1048576.0,
                total / 1048576.0);
    else if (p->unit == CLI_PROGRESS_BYTES)
        fprintf(stderr, "\r%s: %.1f MiB ", p->what, done / 1048576.0);
    else if (total >= done && total > 0)
        fprintf(stderr, "\r%s: %llu of %llu ops (%u%%) ", p->what, (unsigned long long)done,
                (unsigned long long)total, (unsigned)(done * 100 / total));
    else
        fprintf(stderr, "\r%s: %llu ops ", p->what, (unsigned long long)done);
    fflush(stderr);
}

void cli_progress_node_begin(struct cli_progress *p, struct fm_node *n, const char *what)
{
    if (cli_progress_begin(p, what, CLI_PROGRESS_OPS))
        fm_node_set_progress(n, &p->report);
}

void cli_progress_node_end(struct cli_progress *p, struct fm_node *n)
{
    fm_node_set_progress(n, NULL);
    cli_progress_end(p);
}

void cli_progress_end(struct cli_progress *p)
{
    if (p->tty && p->shown)
        fprintf(stderr, "\r\033[K"); /* clear the line */
    p->shown = false;
}
