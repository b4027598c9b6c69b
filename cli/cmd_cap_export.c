/*
 * cmd_cap_export.c — `fieldmesh export cap ID`: an incident or a bulletin
 * as one OASIS CAP 1.2 alert, for the provincial platform, the 120 centre
 * or a hospital's system (docs/interop.md has the field mapping and what
 * is lost). This file only maps our records onto struct fmt_cap_alert;
 * the XML is written by node/formats/ through libxml2.
 *
 * An incident's CAP identifier carries its last-update time, so each
 * change exported is a new message, as CAP requires; a changed incident
 * is an Update that references the first message (the report), whose
 * identifier and time it can rebuild without any state.
 */
#include "cli_wf.h"

#include "../node/formats/formats.h"

#include <stdlib.h>
#include <string.h>

struct cap_opts {
    const char *sender, *status, *scope, *language;
};

static uint64_t hlc_ms(uint64_t hlc) { return hlc >> 16; }

static void set(char *dst, size_t cap, const char *src)
{
    fm_strlcpy(dst, src ? src : "", cap); /* a longer value is cut here, checked by the writer */
}

/* CAP's category for ours: by the words our categories are made of. */
static const char *cap_category(const char *c)
{
    static const struct {
        const char *word, *cap;
    } map[] = {
        { "fire", "Fire" },       { "smoke", "Fire" },        { "medical", "Health" },
        { "injur", "Health" },    { "illness", "Health" },        { "traffic", "Transport" },
        { "road", "Transport" },  { "rail", "Transport" },    { "flood", "Met" },
        { "storm", "Met" },       { "typhoon", "Met" },       { "weather", "Met" },
        { "quake", "Geo" },       { "landslide", "Geo" },     { "hazmat", "CBRNE" },
        { "chemical", "CBRNE" },  { "gas", "CBRNE" },         { "rescue", "Rescue" },
        { "collapse", "Rescue" }, { "crime", "Security" },    { "police", "Security" },
        { "power", "Infra" },     { "water_main", "Infra" },  { "pollution", "Env" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strstr(c, map[i].word))
            return map[i].cap;
    return "Other";
}

static const char *cap_severity(uint8_t priority)
{
    static const char *const s[] = { "Unknown", "Extreme", "Severe", "Moderate", "Minor",
                                     "Minor" };
    return priority <= 5 ? s[priority] : "Unknown";
}

static void add_pair(struct fmt_cap_pair *p, size_t *n, const char *name, const char *value)
{
    set(p[*n].name, sizeof p[*n].name, name);
    set(p[*n].value, sizeof p[*n].value, value);
    (*n)++;
}

static void cap_head(struct fmt_cap_alert *a, const struct cap_opts *o, const char *ident,
                     uint64_t sent_ms, const char *msg_type)
{
    set(a->identifier, sizeof a->identifier, ident);
    set(a->sender, sizeof a->sender, o->sender);
    fmt_cap_time(sent_ms, a->sent);
    set(a->status, sizeof a->status, o->status);
    set(a->msg_type, sizeof a->msg_type, msg_type);
    set(a->source, sizeof a->source, "fieldmesh");
    set(a->scope, sizeof a->scope, o->scope);
    if (strcmp(o->scope, "Restricted") == 0)
        set(a->restriction, sizeof a->restriction, "for emergency services only");
    a->ninfo = 1;
    set(a->info[0].language, sizeof a->info[0].language, o->language);
}

static void cap_from_incident(struct fmt_cap_alert *a, const struct fm_incident *inc,
                              const struct cap_opts *o, const char *node_name)
{
    char ident[FMT_CAP_ID_MAX], first[FMT_CAP_ID_MAX], t[FMT_CAP_TIME_LEN], num[8];
    char event[FM_CATEGORY_MAX], coord[2][CLI_COORD_LEN];
    uint64_t rep = hlc_ms(inc->reported_hlc), upd = hlc_ms(inc->updated_hlc);
    bool past = inc->stage == FM_STAGE_RESOLVED || inc->stage == FM_STAGE_CLOSED;
    snprintf(ident, sizeof ident, "fieldmesh-%s-%llu", inc->id, (unsigned long long)upd);
    cap_head(a, o, ident, upd, upd > rep ? "Update" : "Alert");
    if (upd > rep) {
        snprintf(first, sizeof first, "fieldmesh-%s-%llu", inc->id, (unsigned long long)rep);
        fmt_cap_time(rep, t);
        snprintf(a->references, sizeof a->references, "%s,%s,%s", o->sender, first, t);
    }
    set(a->incidents, sizeof a->incidents, inc->id);
    struct fmt_cap_info *in = &a->info[0];
    in->ncategories = 1;
    set(in->categories[0], sizeof in->categories[0], cap_category(inc->category));
    set(event, sizeof event, inc->category);
    for (char *p = event; *p; p++)
        *p = *p == '_' ? ' ' : *p;
    set(in->event, sizeof in->event, event);
    set(in->urgency, sizeof in->urgency, past ? "Past" : "Immediate");
    set(in->severity, sizeof in->severity, cap_severity(inc->priority));
    set(in->certainty, sizeof in->certainty, "Observed");
    add_pair(in->eventcodes, &in->neventcodes, "fieldmesh:category", inc->category);
    set(in->sender_name, sizeof in->sender_name, node_name);
    snprintf(in->headline, sizeof in->headline, "%s%s%s", event, inc->address[0] ? ": " : "",
             inc->address);
    set(in->description, sizeof in->description, inc->desc);
    snprintf(num, sizeof num, "%u", inc->priority);
    add_pair(in->params, &in->nparams, "fieldmesh:priority", num);
    add_pair(in->params, &in->nparams, "fieldmesh:status", fm_stage_name(inc->stage));
    fmt_cap_time(rep, t);
    add_pair(in->params, &in->nparams, "fieldmesh:reported", t);
    in->nareas = 1;
    cli_fmt_coord(inc->lat_e7, coord[0]);
    cli_fmt_coord(inc->lon_e7, coord[1]);
    if (inc->address[0])
        set(in->areas[0].desc, sizeof in->areas[0].desc, inc->address);
    else
        snprintf(in->areas[0].desc, sizeof in->areas[0].desc, "%s,%s", coord[0], coord[1]);
    in->areas[0].ncircles = 1;
    in->areas[0].circles[0] = (struct fmt_cap_circle){ inc->lat_e7 / 1e7, inc->lon_e7 / 1e7, 0 };
}

/* The first bytes of s, cut at a character boundary, as a headline. */
static void headline_of(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

static void cap_from_bulletin(struct fmt_cap_alert *a, const struct fm_bulletin *b,
                              const struct cap_opts *o, const char *node_name)
{
    char ident[FMT_CAP_ID_MAX];
    snprintf(ident, sizeof ident, "fieldmesh-%s", b->id);
    cap_head(a, o, ident, hlc_ms(b->sent_hlc), "Alert");
    struct fmt_cap_info *in = &a->info[0];
    in->ncategories = 1;
    set(in->categories[0], sizeof in->categories[0], "Other");
    set(in->event, sizeof in->event, "bulletin");
    set(in->urgency, sizeof in->urgency, "Unknown");
    set(in->severity, sizeof in->severity, "Unknown");
    set(in->certainty, sizeof in->certainty, "Unknown");
    set(in->audience, sizeof in->audience, b->audience);
    set(in->sender_name, sizeof in->sender_name, node_name);
    headline_of(b->text, in->headline, 161);
    set(in->description, sizeof in->description, b->text);
    add_pair(in->params, &in->nparams, "fieldmesh:audience", b->audience);
}

struct find_bulletin {
    const char *id;
    struct fm_bulletin *out;
    bool found;
};

static int find_bulletin_cb(void *ctx, const struct fm_bulletin *b)
{
    struct find_bulletin *f = ctx;
    if (strcmp(b->id, f->id) != 0)
        return 0;
    *f->out = *b;
    f->found = true;
    return 1;
}

/* ID names an incident or a bulletin: the alert for it. */
static int build_alert(struct cli *cl, const char *prefix, const struct cap_opts *o,
                       struct fmt_cap_alert *a)
{
    char id[FM_ID_MAX];
    struct fm_incident inc;
    struct fm_bulletin b;
    int rc = fm_node_resolve_id(cl->node, FM_ENT_INCIDENT, prefix, id);
    if (rc == FM_OK) {
        if ((rc = fm_node_incident_get(cl->node, id, &inc)) != FM_OK)
            return cli_error(cl, rc, "cannot read incident %s: %s", id, fm_strerror(rc));
        cap_from_incident(a, &inc, o, cl->cfg.name);
        return FM_OK;
    }
    if (rc != FM_ENOTFOUND)
        return cli_resolve(cl, FM_ENT_INCIDENT, prefix, id); /* prints the ambiguity */
    rc = fm_node_resolve_id(cl->node, FM_ENT_BULLETIN, prefix, id);
    if (rc == FM_ENOTFOUND)
        return cli_error(cl, rc, "no incident or bulletin %s", prefix);
    if (rc != FM_OK)
        return cli_resolve(cl, FM_ENT_BULLETIN, prefix, id);
    struct find_bulletin f = { id, &b, false };
    rc = fm_node_bulletins(cl->node, find_bulletin_cb, &f);
    if (rc < 0)
        return cli_error(cl, rc, "cannot read bulletins: %s", fm_strerror(rc));
    if (!f.found)
        return cli_error(cl, FM_ENOTFOUND, "no incident or bulletin %s", prefix);
    cap_from_bulletin(a, &b, o, cl->cfg.name);
    return FM_OK;
}

static bool one_of(const char *v, const char *const *words)
{
    for (; *words; words++)
        if (strcmp(v, *words) == 0)
            return true;
    return false;
}

/* --sender: CAP forbids spaces and commas; the node name is the default. */
static void default_sender(const struct cli *cl, char *out, size_t cap)
{
    static const char prefix[] = "fieldmesh:";
    const char *name = cl->cfg.name;
    size_t n = strlen(name), room = cap - sizeof prefix; /* cap >= FMT_CAP_ID_MAX */
    if (n > room) { /* a long name: cut where a character starts */
        n = room;
        while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(out, prefix, sizeof prefix - 1);
    memcpy(out + sizeof prefix - 1, name, n);
    out[sizeof prefix - 1 + n] = '\0';
    for (char *p = out; *p; p++)
        if (*p == ' ' || *p == ',' || *p == '<' || *p == '&' || (unsigned char)*p < 0x20)
            *p = '_';
}

static int write_out(struct cli *cl, const char *path, const char *xml, size_t len)
{
    if (path == NULL) {
        fwrite(xml, 1, len, stdout);
        return CLI_EXIT_OK;
    }
    int rc = fm_file_write(path, xml, len, 0644, true);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot write %s: %s", path,
                         rc == FM_EEXISTS ? "it exists" : fm_strerror(rc));
    return CLI_EXIT_OK;
}

static int run_export_cap(struct cli *cl, int argc, char **argv)
{
    enum { O_SENDER, O_STATUS, O_SCOPE, O_LANG, O_OUT };
    static const struct cli_opt opts[] = {
        [O_SENDER] = { "sender", true }, [O_STATUS] = { "status", true },
        [O_SCOPE] = { "scope", true },   [O_LANG] = { "language", true },
        [O_OUT] = { "out", true },
    };
    static const char *const statuses[] = { "Actual", "Exercise", "Test", NULL };
    static const char *const scopes[] = { "Public", "Restricted", NULL };
    struct cli_args a;
    char sender[FMT_CAP_ID_MAX], err[512], *xml = NULL;
    size_t len;
    int rc;

    CLI_PARSE_OR_RETURN(cl, argc, argv, opts, CLI_NELEM(opts), 1, 1, &a);
    struct cap_opts o = { a.val[O_SENDER], a.val[O_STATUS] ? a.val[O_STATUS] : "Actual",
                          a.val[O_SCOPE] ? a.val[O_SCOPE] : "Restricted", a.val[O_LANG] };
    if (!one_of(o.status, statuses))
        return cli_usage(cl, "--status must be Actual, Exercise or Test, not '%s'", o.status);
    if (!one_of(o.scope, scopes))
        return cli_usage(cl, "--scope must be Public or Restricted, not '%s'", o.scope);
    if ((rc = cli_open_node(cl, FM_OPEN_READ)) != 0)
        return rc;
    if (o.sender == NULL) {
        default_sender(cl, sender, sizeof sender);
        o.sender = sender;
    }
    struct fmt_cap_alert *al = calloc(1, sizeof *al);
    if (al == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if ((rc = build_alert(cl, a.pos[0], &o, al)) == FM_OK) {
        int wrc = fmt_cap_write(al, &xml, &len, err, sizeof err);
        rc = wrc == FM_OK ? write_out(cl, a.val[O_OUT], xml, len)
                          : cli_error(cl, wrc, "cannot write a valid CAP alert: %s", err);
    }
    free(xml);
    free(al);
    return rc;
}

const struct cli_cmd cli_cmd_export_cap = {
    "export", "cap", "ID [--sender S] [--status Actual|Exercise|Test] "
                     "[--scope Restricted|Public] [--language L] [--out FILE]",
    "write an incident or a bulletin as an OASIS CAP 1.2 alert (XML)",
    "Prints one CAP 1.2 alert (or writes it to FILE, which must not exist). ID is an\n"
    "incident or a bulletin (a unique prefix is enough). An incident changed since\n"
    "its report is an Update referencing the first message; each export of a new\n"
    "state has a new identifier. --sender defaults to fieldmesh:NODE-NAME, --scope to\n"
    "Restricted. The caller's phone number is never exported. Mapping and what is\n"
    "lost: docs/interop.md.\n",
    run_export_cap,
};
