/*
 * doctor_report.c — the list of findings `fieldmesh doctor` builds: each
 * check (doctor_checks.c, doctor_net.c) appends what it found and the
 * command that fixes it; cmd_doctor.c prints the list. Kept apart so the
 * checks call down into it and never up into the command.
 */
#include "doctor_int.h"

#include <stdarg.h>
#include <stdio.h>

void doctor_add(struct doctor *d, const char *check, enum doctor_level level, const char *fix,
                const char *fmt, ...)
{
    if (d->n >= DOCTOR_MAX_FINDINGS)
        return;
    struct doctor_finding *f = &d->f[d->n++];
    va_list ap;
    f->check = check;
    f->level = level;
    va_start(ap, fmt);
    vsnprintf(f->what, sizeof(f->what), fmt, ap);
    va_end(ap);
    snprintf(f->fix, sizeof(f->fix), "%s", fix != NULL ? fix : "");
}
