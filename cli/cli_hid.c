/*
 * cli_hid.c — what people type and read instead of machine ids: the human
 * codes of incidents and tickets ("K3MX-12", node/workflow/hid.c), shown
 * in tables and JSON and accepted wherever an id is, and units by name.
 *
 * cli_resolve (cli_open.c) tries the id or prefix first, as before, and
 * comes here only when nothing matched: a code for an incident or ticket,
 * a name for a unit. The code table is built once per command, on first
 * use (one CLI process runs one command).
 */
#include "cli_wf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static struct fm_hids *cache;
static const struct fm_node *cache_node;

void cli_hid_prepare(struct cli *cl)
{
    if (cache_node == cl->node && cache != NULL)
        return;
    fm_hids_free(&cache);
    cache_node = NULL;
    if (cl->node != NULL && fm_node_hids(cl->node, &cache) == FM_OK)
        cache_node = cl->node;
}

const char *cli_hid(const char *id, char out[FM_HID_MAX])
{
    if (cache == NULL || !fm_hids_code(cache, id, out))
        out[0] = '\0';
    return out;
}

const char *cli_wf_unit_name(struct cli *cl, const char *uid, char out[FM_NAME_MAX])
{
    struct fm_unit *u = malloc(sizeof *u);
    fm_strlcpy(out, "?", FM_NAME_MAX);
    if (u != NULL && fm_node_unit_get(cl->node, uid, u) == FM_OK)
        fm_strlcpy(out, u->name, FM_NAME_MAX);
    free(u);
    return out;
}

/* ---- codes ---- */

static int resolve_code(struct cli *cl, enum fm_entity_kind kind, const char *text,
                        char out[FM_ID_MAX])
{
    char cands[6][FM_ID_MAX];
    size_t nfound = 0;
    cli_hid_prepare(cl);
    int rc = fm_hids_resolve(cache, kind, text, out, cands, 6, &nfound);
    if (rc == FM_EINVAL || rc == FM_ENOTFOUND)
        return -1; /* not a code, or no such code: the caller's "no match" */
    if (rc == FM_EAMBIGUOUS) {
        char list[6 * (FM_ID_MAX + 2)] = "";
        size_t len = 0;
        for (size_t i = 0; i < nfound && i < 6; i++) {
            int w = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", cands[i]);
            if (w < 0 || (size_t)w >= sizeof list - len)
                break;
            len += (size_t)w;
        }
        return cli_error(cl, rc, "ambiguous code '%s': it names %zu items (%s%s); give the id",
                         text, nfound, list, nfound > 6 ? ", ..." : "");
    }
    return rc == FM_OK ? 0 : cli_error(cl, rc, "cannot look up '%s': %s", text, fm_strerror(rc));
}

/* ---- units by name ---- */

#define NAME_CANDS 6
struct name_walk {
    const char *name;
    size_t exact, near;
    struct fm_unit hit[NAME_CANDS];   /* exact matches */
    struct fm_unit close[NAME_CANDS]; /* near misses */
};

/* Case-insensitive (ASCII) substring: a near miss either way round. */
static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return false;
    for (const char *p = hay; *p != '\0'; p++) {
        size_t i = 0;
        while (i < n && p[i] != '\0' &&
               tolower((unsigned char)p[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

static int name_each(void *ctx, const struct fm_unit *u)
{
    struct name_walk *w = ctx;
    if (strcmp(u->name, w->name) == 0 || (u->key[0] && strcmp(u->key, w->name) == 0)) {
        if (w->exact < NAME_CANDS)
            w->hit[w->exact] = *u;
        w->exact++;
    } else if (contains_ci(u->name, w->name) || contains_ci(w->name, u->name)) {
        if (w->near < NAME_CANDS)
            w->close[w->near] = *u;
        w->near++;
    }
    return 0;
}

static void unit_list_text(const struct fm_unit *v, size_t n, size_t total, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len + 1 < cap; i++) {
        int w = snprintf(out + len, cap - len, "%s%s (%s, %s)", i ? ", " : "", v[i].name, v[i].id,
                         v[i].department);
        if (w < 0 || (size_t)w >= cap - len)
            break;
        len += (size_t)w;
    }
    if (total > n && len + 6 < cap)
        memcpy(out + len, ", ...", 6);
}

static int resolve_unit_name(struct cli *cl, const char *text, char out[FM_ID_MAX])
{
    struct name_walk *w = calloc(1, sizeof *w);
    char list[1024];
    int rc;
    if (w == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    w->name = text;
    if ((rc = fm_node_units(cl->node, name_each, w)) != FM_OK) {
        free(w);
        return cli_error(cl, rc, "cannot look up '%s': %s", text, fm_strerror(rc));
    }
    if (w->exact == 1) {
        fm_strlcpy(out, w->hit[0].id, FM_ID_MAX);
        rc = 0;
    } else if (w->exact > 1) {
        unit_list_text(w->hit, w->exact < NAME_CANDS ? w->exact : NAME_CANDS, w->exact, list,
                       sizeof list);
        rc = cli_error(cl, FM_EAMBIGUOUS, "ambiguous unit name '%s': %zu units are named so: "
                                          "%s; give the id", text, w->exact, list);
    } else if (w->near > 0) {
        unit_list_text(w->close, w->near < NAME_CANDS ? w->near : NAME_CANDS, w->near, list,
                       sizeof list);
        rc = cli_error(cl, FM_ENOTFOUND, "no unit matches '%s' (by id, name or directory id); "
                                         "did you mean: %s?",
                       text, list);
    } else {
        rc = cli_error(cl, FM_ENOTFOUND, "no unit matches '%s' (by id, name or directory id; "
                                         "fieldmesh unit list shows them)", text);
    }
    free(w);
    return rc;
}

int cli_resolve_human(struct cli *cl, enum fm_entity_kind kind, const char *text,
                      char out[FM_ID_MAX])
{
    if (kind == FM_ENT_UNIT)
        return resolve_unit_name(cl, text, out);
    if (kind == FM_ENT_INCIDENT || kind == FM_ENT_TICKET)
        return resolve_code(cl, kind, text, out);
    return -1;
}
