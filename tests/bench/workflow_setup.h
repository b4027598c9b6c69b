/*
 * workflow_setup.h — the setup the workflow benchmarks (bench_city.c,
 * bench_workflow.c) share: their common options (--incidents N --p1 K
 * --runs R), the start (crypto, a test organisation, quiet logs), a
 * directory read from the source tree's configs/ (FM_SRC), and a centre
 * node of that organisation with a 512 MiB map. Any failure ends the
 * program with "PROG: what: error". Header-only, like limits.h, so each
 * bench_*.c stays one translation unit.
 */
#ifndef FM_BENCH_WORKFLOW_SETUP_H
#define FM_BENCH_WORKFLOW_SETUP_H

#include "tests/unit/node_fixture.h"

#include "node/workflow/workflow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The program's name in messages; set by wfb_start. */
static const char *wfb_prog = "bench";

static inline void wfb_die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", wfb_prog, what, fm_strerror(rc));
    exit(1);
}

/* The options both benchmarks take; what is not given (or not a positive
 * number) keeps the value *o came with; p1 is at most incidents. */
struct wfb_opts {
    long incidents, p1, runs;
};

static inline void wfb_parse_opts(int argc, char **argv, struct wfb_opts *o)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        long val = strtol(argv[i + 1], NULL, 10);
        if (val <= 0)
            continue;
        if (strcmp(argv[i], "--incidents") == 0)
            o->incidents = val;
        else if (strcmp(argv[i], "--p1") == 0)
            o->p1 = val;
        else if (strcmp(argv[i], "--runs") == 0)
            o->runs = val;
    }
    if (o->p1 > o->incidents)
        o->p1 = o->incidents;
}

/* Crypto, a test organisation in *org, logs at errors only. */
static inline void wfb_start(const char *prog, struct fx_org *org)
{
    wfb_prog = prog;
    if (fm_crypto_init() != FM_OK || fx_org_init(org) != FM_OK)
        wfb_die("init", FM_EIO);
    fm_log_set_level(FM_LOG_ERROR);
}

/* configs/NAME of the source tree (FM_SRC, else the current directory),
 * its path in path (cap bytes). Exits with the loader's message if the
 * file does not load. */
static inline struct fm_directory *wfb_directory(const char *name, char *path, size_t cap)
{
    const char *src = getenv("FM_SRC");
    char err[512];
    struct fm_directory *d = NULL;
    snprintf(path, cap, "%s/configs/%s", src ? src : ".", name);
    if (fm_directory_load_yaml(path, &d, err, sizeof err) != FM_OK) {
        fprintf(stderr, "%s: %s\n", wfb_prog, err);
        exit(1);
    }
    return d;
}

/* A fresh centre of org named name; durable commits unless nosync. */
static inline void wfb_centre(struct fx_org *org, struct fx_node *c, const char *name,
                              bool nosync)
{
    int rc;
    if ((rc = fx_author(org, c, name)) != FM_OK)
        wfb_die("author", rc);
    c->cert.role = FM_ROLE_CENTRE;
    c->cfg.role = FM_ROLE_CENTRE;
    c->cfg.map_size = 512u << 20;
    c->cfg.op_format = FM_OP_FORMAT_MAX; /* the Jinhua directory gives units stable ids */
    fm_cert_sign(&c->cert, &org->root);
    if ((rc = fm_cert_write_file(&c->cert, c->cfg.cert_path)) != FM_OK ||
        (rc = fx_open(c, FM_OPEN_IDENTITY | (nosync ? FM_OPEN_NOSYNC_ : 0))) != FM_OK)
        wfb_die("open", rc);
}

static inline int wfb_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#endif
