/*
 * cmd_roster.c — `fieldmesh directory import-csv`: directory YAML from the
 * admin's roster spreadsheet (docs/interop.md, "Roster import").
 *
 * The CSV holds counties, departments and units (node/formats decodes and
 * checks it, listing every error with its line and column); the dispatch
 * rules and the directory's name come from a base directory — the YAML
 * given with --base, else the version in force on this node — because a
 * directory without rules is refused. The YAML is read back with the
 * directory loader before anything is written, so what this prints is
 * what `directory publish` accepts.
 */
#include "cli_wf.h"
#include "../node/formats/formats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { O_OUT, O_BASE, O_NAME, O_ENCODING };

static int read_csv(struct cli *cl, const char *path, enum fmt_roster_encoding enc,
                    struct fmt_roster *r)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = fm_file_read_alloc(path, FMT_ROSTER_MAX_BYTES + 1, &buf, &len);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot read %s: %s", path,
                         rc == FM_EIO ? strerror(errno) : fm_strerror(rc));
    rc = fmt_roster_parse(buf, len, path, enc, r);
    free(buf);
    if (rc == FM_ENOMEM)
        return cli_error(cl, rc, "out of memory");
    if (rc != FM_OK) {
        fputs(r->errors != NULL ? r->errors : "", stderr);
        fprintf(stderr, "fieldmesh: %zu error%s in %s; nothing written\n", r->nerrors,
                r->nerrors == 1 ? "" : "s", path);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int load_base(struct cli *cl, const char *path, struct fm_directory **b)
{
    char err[FM_PATH_MAX + 512];
    int rc;
    if (path != NULL) {
        rc = fm_directory_load_yaml(path, b, err, sizeof err);
        if (rc == 0)
            return CLI_EXIT_OK;
        fprintf(stderr, "fieldmesh: %s\n", err[0] ? err : fm_strerror(rc));
        return rc == FM_ECONFIG ? CLI_EXIT_CONFIG : cli_exit_code(rc);
    }
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    rc = fm_node_directory_get(cl->node, b);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no directory is published on this node to take the rules "
                                 "from: pass --base DIRECTORY.yaml");
    if (rc != 0)
        return cli_error(cl, rc, "cannot read the directory: %s", fm_strerror(rc));
    return CLI_EXIT_OK;
}

/* Counties, departments and units from the roster; name and rules from b. */
static int merge(const struct fmt_roster *r, const char *csv, const char *bname,
                 struct fm_directory *b)
{
    size_t bad = 0;
    b->ncounties = r->ncounties;
    for (size_t i = 0; i < r->ncounties; i++)
        memcpy(b->counties[i], r->counties[i], FM_NAME_MAX);
    b->ndepts = r->ndepts;
    for (size_t i = 0; i < r->ndepts; i++) {
        struct fm_dir_dept *x = &b->depts[i];
        memset(x, 0, sizeof *x);
        memcpy(x->name, r->depts[i].name, FM_NAME_MAX);
        memcpy(x->kind, r->depts[i].kind, FM_NAME_MAX);
        x->tier = r->depts[i].tier;
        x->county = r->depts[i].county;
    }
    b->nunits = r->nunits;
    for (size_t i = 0; i < r->nunits; i++) {
        struct fm_dir_unit *u = &b->units[i];
        memset(u, 0, sizeof *u);
        memcpy(u->name, r->units[i].name, FM_NAME_MAX);
        memcpy(u->kind, r->units[i].kind, FM_NAME_MAX);
        fm_strlcpy(u->caps, r->units[i].caps, sizeof u->caps);
        u->dept = r->units[i].dept;
        u->lat_e7 = (int32_t)lround(r->units[i].lat * 1e7);
        u->lon_e7 = (int32_t)lround(r->units[i].lon * 1e7);
    }
    for (size_t i = 0; i < b->nrules; i++) {
        for (size_t k = 0; k < b->rules[i].nrespond; k++) {
            const char *dept = b->rules[i].respond[k].department;
            bool found = dept[0] == '\0';
            for (size_t j = 0; j < b->ndepts && !found; j++)
                found = strcmp(b->depts[j].name, dept) == 0;
            if (!found && ++bad)
                fprintf(stderr, "fieldmesh: %s: rule '%s' calls on department '%s', which %s "
                                "does not list\n", bname, b->rules[i].category, dept, csv);
        }
    }
    if (bad > 0) {
        fprintf(stderr, "fieldmesh: %zu response need%s call%s on a department missing from "
                        "%s; nothing written\n", bad, bad == 1 ? "" : "s", bad == 1 ? "s" : "",
                csv);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Renders d, reads the text back with the directory loader, and writes it. */
static int emit(struct cli *cl, const struct fm_directory *d, const char *csv, const char *bname,
                const char *out)
{
    char comment[FM_PATH_MAX * 2 + 160], err[FM_PATH_MAX + 512];
    char *text = NULL;
    size_t len = 0;
    struct fm_directory *back = NULL;
    int rc;
    snprintf(comment, sizeof comment, "Written by `fieldmesh directory import-csv` from %s;\n"
             "name and rules from %s. Publish with `fieldmesh directory publish`.", csv, bname);
    if ((rc = fm_directory_render_yaml(d, comment, &text, &len)) != FM_OK)
        return cli_error(cl, rc, "cannot write the YAML: %s", fm_strerror(rc));
    rc = fm_directory_parse_yaml(out != NULL ? out : "(output)", text, len, &back, err,
                                 sizeof err);
    if (rc != FM_OK || back->nunits != d->nunits || back->ndepts != d->ndepts) {
        fprintf(stderr, "fieldmesh: the YAML written does not read back: %s\n",
                err[0] ? err : fm_strerror(rc));
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (out == NULL) {
        rc = fwrite(text, 1, len, stdout) == len && fflush(stdout) == 0
                 ? CLI_EXIT_OK : cli_error(cl, FM_EIO, "cannot write to stdout");
    } else if ((rc = fm_file_write(out, text, len, 0644, false)) != FM_OK) {
        rc = cli_error(cl, rc, "cannot write %s: %s; nothing written", out,
                       rc == FM_EIO ? strerror(errno) : fm_strerror(rc));
    }
out:
    fm_directory_free(&back);
    free(text);
    return rc;
}

static int run_import_csv(struct cli *cl, int argc, char **argv)
{
    static const struct cli_opt opts[] = {
        { "out", true }, { "base", true }, { "name", true }, { "encoding", true },
    };
    struct cli_args a;
    enum fmt_roster_encoding enc = FMT_ROSTER_AUTO;
    struct fmt_roster *r = NULL;
    struct fm_directory *b = NULL;
    int rc;
    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    const char *csv = a.pos[0], *enc_s = a.val[O_ENCODING];
    if (enc_s != NULL && strcmp(enc_s, "gb18030") == 0)
        enc = FMT_ROSTER_GB18030;
    else if (enc_s != NULL && strcmp(enc_s, "utf-8") == 0)
        enc = FMT_ROSTER_UTF8;
    else if (enc_s != NULL && strcmp(enc_s, "auto") != 0)
        return cli_usage(cl, "--encoding must be auto, utf-8 or gb18030, not '%s'", enc_s);
    if (a.val[O_NAME] != NULL && (rc = cli_check_text(cl, "--name", a.val[O_NAME],
                                                      FM_NAME_MAX)) != 0)
        return rc;
    if ((r = calloc(1, sizeof *r)) == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if ((rc = read_csv(cl, csv, enc, r)) != CLI_EXIT_OK)
        goto out;
    if ((rc = load_base(cl, a.val[O_BASE], &b)) != CLI_EXIT_OK)
        goto out;
    const char *bname = a.val[O_BASE] != NULL ? a.val[O_BASE] : "the directory in force";
    if (a.val[O_NAME] != NULL)
        fm_strlcpy(b->name, a.val[O_NAME], sizeof b->name);
    if ((rc = merge(r, csv, bname, b)) != CLI_EXIT_OK ||
        (rc = emit(cl, b, csv, bname, a.val[O_OUT])) != CLI_EXIT_OK)
        goto out;
    fprintf(stderr, "%s%s: %zu counties, %zu departments, %zu units; %zu rules from %s\n",
            a.val[O_OUT] != NULL ? "wrote " : "", a.val[O_OUT] != NULL ? a.val[O_OUT] : csv,
            b->ncounties, b->ndepts, b->nunits, b->nrules, bname);
    if (r->was_gb18030)
        fprintf(stderr, "(%s was read as GB18030 and written as UTF-8)\n", csv);
out:
    fm_directory_free(&b);
    fmt_roster_release(r);
    free(r);
    return rc;
}

const struct cli_cmd cli_cmd_directory_import_csv = {
    "directory", "import-csv",
    "FILE [--out YAML] [--base YAML] [--name TEXT] [--encoding auto|utf-8|gb18030]",
    "write directory YAML from a roster CSV of departments and units",
    "  FILE        the roster: a header row naming the columns department,\n"
    "              department_kind, tier, county, unit, unit_kind, capabilities (optional),\n"
    "              lat, lon, then one row per unit (docs/interop.md, \"Roster import\")\n"
    "  --out YAML  write there (atomically) instead of to stdout\n"
    "  --base YAML take the name and the dispatch rules from this directory; without it\n"
    "              from the directory in force on this node\n"
    "  --name TEXT the directory's name instead of the base's\n"
    "  --encoding  auto (default: UTF-8 with or without BOM, else GB18030), utf-8, gb18030\n"
    "  Every error is listed as FILE:LINE: column NAME: what is wrong (exit 1, nothing\n"
    "  written). The output is read back before it is written, so `directory publish`\n"
    "  accepts it unchanged.\n",
    run_import_csv,
};
