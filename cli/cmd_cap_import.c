/*
 * cmd_cap_import.c — `fieldmesh import cap FILE`: a CAP 1.2 alert from
 * another system (a provincial notice, a weather warning) becomes a
 * bulletin to every node, or to the audience given, with its area in
 * words and as a bounding box (docs/interop.md says what is kept and what
 * is lost: a bulletin is one line of text).
 *
 * The file is read whole (at most FMT_CAP_MAX_BYTES) and validated by
 * node/formats/ before anything is written; a refusal names the line and
 * the element. Test and exercise alerts are refused unless asked for, so
 * a drill on the provincial platform never reaches the crews as real.
 * The bulletin starts with a tag made from the alert's sender and
 * identifier, so importing the same alert twice is refused.
 */
#include "cli_wf.h"

#include "../node/formats/formats.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TAG_LEN 18 /* "[CAP 0123456789ab]" */

struct text {
    char s[FM_TEXT_MAX];
    size_t n;
    bool cut;
};

/* Appends, turning tabs and newlines into single spaces, and stops at the
 * bulletin's size on a character boundary. */
static void put(struct text *t, const char *s)
{
    const size_t room = FM_TEXT_MAX - 1 - 4; /* keep room for " ..." */
    for (; *s && !t->cut; s++) {
        char c = (*s == '\n' || *s == '\r' || *s == '\t') ? ' ' : *s;
        if (c == ' ' && (t->n == 0 || t->s[t->n - 1] == ' '))
            continue;
        if (t->n >= room) {
            while (t->n > 0 && ((unsigned char)t->s[t->n] & 0xc0) == 0x80)
                t->n--; /* not inside a character */
            memcpy(t->s + t->n, " ...", 4);
            t->n += 4;
            t->cut = true;
            break;
        }
        t->s[t->n++] = c;
    }
    t->s[t->n] = '\0';
}

static void putf(struct text *t, const char *fmt, ...) FM_PRINTF(2, 3);
static void putf(struct text *t, const char *fmt, ...)
{
    char buf[FMT_CAP_TEXT_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put(t, buf);
}

/* "[CAP xxxxxxxxxxxx]": 12 hex of BLAKE2b(sender "," identifier). */
static void alert_tag(const struct fmt_cap_alert *a, char out[TAG_LEN + 1])
{
    char key[2 * FMT_CAP_ID_MAX + 2];
    uint8_t h[FM_HASH_LEN];
    char hex[2 * FM_HASH_LEN + 1];
    hex[12] = '\0';
    int n = snprintf(key, sizeof key, "%s,%s", a->sender, a->identifier);
    fm_hash(h, key, (size_t)n);
    cli_hex(h, 6, hex);
    memcpy(out, "[CAP ", 5);
    memcpy(out + 5, hex, 12);
    memcpy(out + 17, "]", 2);
}

static void area_text(struct text *t, const struct fmt_cap_info *in)
{
    for (size_t i = 0; i < in->nareas; i++) {
        const struct fmt_cap_area *ar = &in->areas[i];
        putf(t, "%s%s", i ? "; " : " Area: ", ar->desc);
        if (ar->has_bbox && ar->min_lat == ar->max_lat && ar->min_lon == ar->max_lon)
            putf(t, " (at %.5f, %.5f)", ar->min_lat, ar->min_lon);
        else if (ar->has_bbox)
            putf(t, " (lat %.4f..%.4f, lon %.4f..%.4f)", ar->min_lat, ar->max_lat, ar->min_lon,
                 ar->max_lon);
    }
    if (in->nareas)
        put(t, ".");
}

static void compose(const struct fmt_cap_alert *a, const struct fmt_cap_info *in,
                    struct text *t)
{
    char tag[TAG_LEN + 1];
    alert_tag(a, tag);
    putf(t, "%s ", tag);
    if (strcmp(a->msg_type, "Alert") != 0)
        putf(t, "%s: ", strcmp(a->msg_type, "Cancel") == 0 ? "CANCELLED" : "UPDATE");
    if (strcmp(a->status, "Actual") != 0)
        putf(t, "%s: ", a->status);
    putf(t, "%s (%s, %s, %s).", in->headline[0] ? in->headline : in->event, in->severity,
         in->urgency, in->certainty);
    if (in->description[0] && strcmp(in->description, in->headline) != 0)
        putf(t, " %s", in->description);
    if (in->instruction[0])
        putf(t, " Instruction: %s", in->instruction);
    area_text(t, in);
    if (in->expires[0])
        putf(t, " Expires %s.", in->expires);
    putf(t, " From %s (CAP %s, sent %s).", in->sender_name[0] ? in->sender_name : a->sender,
         a->identifier, a->sent);
}

/* The info block to import: the first in --lang, else the first. */
static const struct fmt_cap_info *pick_info(const struct fmt_cap_alert *a, const char *lang)
{
    size_t n = a->ninfo < FMT_CAP_MAX_INFO ? a->ninfo : FMT_CAP_MAX_INFO;
    for (size_t i = 0; lang && i < n; i++)
        if (strncasecmp(a->info[i].language, lang, strlen(lang)) == 0)
            return &a->info[i];
    return n ? &a->info[0] : NULL;
}

struct dup_ctx {
    const char *tag;
    char id[FM_ID_MAX];
};

static int dup_cb(void *ctx, const struct fm_bulletin *b)
{
    struct dup_ctx *d = ctx;
    if (strncmp(b->text, d->tag, TAG_LEN) != 0)
        return 0;
    fm_strlcpy(d->id, b->id, sizeof d->id);
    return 1;
}

/* What makes an alert not ours to import (exit 1), or NULL. */
static const char *refusal(const struct fmt_cap_alert *a, bool allow_test)
{
    if (strcmp(a->status, "Draft") == 0)
        return "it is a Draft, not a message to act on";
    if (strcmp(a->status, "System") == 0)
        return "its status is System (a message between systems, not for people)";
    if (!allow_test && strcmp(a->status, "Actual") != 0)
        return "it is an exercise or a test (--allow-test imports those, marked as such)";
    if (strcmp(a->msg_type, "Ack") == 0 || strcmp(a->msg_type, "Error") == 0)
        return "it is an Ack or Error message: nothing for a person to read";
    if (a->ninfo == 0)
        return "it has no <info> block: nothing for a person to read";
    return NULL;
}

static int import_one(struct cli *cl, const char *path, const struct fmt_cap_alert *al,
                      const char *to, const char *lang, bool allow_test)
{
    const char *why = refusal(al, allow_test);
    char id[FM_ID_MAX];
    if (why != NULL)
        return cli_error(cl, FM_ESTATE, "%s: not imported: %s", path, why);
    struct text *t = calloc(1, sizeof *t);
    if (t == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    compose(al, pick_info(al, lang), t);
    char tag[TAG_LEN + 1];
    memcpy(tag, t->s, TAG_LEN);
    tag[TAG_LEN] = '\0';
    struct dup_ctx d = { tag, "" };
    int rc = cli_open_node(cl, FM_OPEN_IDENTITY);
    if (rc != 0) {
        free(t);
        return rc;
    }
    if ((rc = fm_node_bulletins(cl->node, dup_cb, &d)) < 0) {
        free(t);
        return cli_error(cl, rc, "cannot read bulletins: %s", fm_strerror(rc));
    }
    if (d.id[0]) {
        free(t);
        return cli_error(cl, FM_EEXISTS, "%s: this alert (%s from %s) was already imported as "
                         "bulletin %s", path, al->identifier, al->sender, d.id);
    }
    rc = fm_node_bulletin_send(cl->node, to, t->s, id);
    free(t);
    if (rc == FM_EPERM)
        return cli_role_error(cl, rc, "import an alert as a bulletin",
                              "centre, county, admin and station nodes send bulletins");
    if (rc != FM_OK)
        return cli_wf_error(cl, rc, "send a bulletin to", to);
    cli_after_write(cl);
    printf("%s\n", id);
    return CLI_EXIT_OK;
}

static int run_import_cap(struct cli *cl, int argc, char **argv)
{
    enum { O_TO, O_LANG, O_TEST };
    static const struct cli_opt opts[] = {
        [O_TO] = { "to", true }, [O_LANG] = { "language", true }, [O_TEST] = { "allow-test", false },
    };
    struct cli_args a;
    char err[1024], *buf = NULL;
    size_t len;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    const char *to = a.val[O_TO] ? a.val[O_TO] : "all";
    if ((rc = cli_check_text(cl, "--to", to, FM_NAME_MAX)) != 0)
        return rc;
    rc = fm_file_read_alloc(a.pos[0], FMT_CAP_MAX_BYTES, &buf, &len);
    if (rc == FM_ETOOBIG)
        return cli_error(cl, rc, "%s: larger than %u bytes, refused before parsing", a.pos[0],
                         FMT_CAP_MAX_BYTES);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot read %s: %s", a.pos[0], fm_strerror(rc));
    struct fmt_cap_alert *al = malloc(sizeof *al);
    rc = al ? fmt_cap_parse(buf, len, a.pos[0], al, err, sizeof err) : FM_ENOMEM;
    free(buf);
    if (rc == FM_OK)
        rc = import_one(cl, a.pos[0], al, to, a.val[O_LANG], cli_flag(&a, O_TEST));
    else
        rc = cli_error(cl, rc, "%s", rc == FM_ENOMEM ? "out of memory" : err);
    free(al);
    return rc;
}

const struct cli_cmd cli_cmd_import_cap = {
    "import", "cap", "FILE [--to AUDIENCE] [--language L] [--allow-test]",
    "take in a CAP 1.2 alert from another system as a bulletin; prints its id",
    "Reads one OASIS CAP 1.2 alert (at most 1 MiB), checks it strictly against the\n"
    "schema (errors name the line and the element; a DOCTYPE or entity is refused)\n"
    "and sends it as a bulletin with its headline, severity, description,\n"
    "instruction, area and expiry. --to: the audience (default all). --language:\n"
    "the <info> block to use (e.g. zh; default the first). Exercise and test alerts\n"
    "are refused unless --allow-test; Draft, System, Ack and Error never import.\n"
    "The same alert (sender and identifier) is imported once. Mapping: docs/interop.md.\n",
    run_import_cap,
};
