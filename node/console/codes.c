/*
 * codes.c — the human codes of incidents and tickets ("K3MX-12",
 * node/workflow/hid.c) in the console: shown beside every id and taken
 * wherever an id is. fm_node_hids walks every incident and ticket (about
 * 17 ms per 5,000), so the table is kept here and rebuilt only when an
 * op came since it was made, and at most once per CODES_REBUILD_MS.
 */
#include "console_int.h"

#include <stdlib.h>
#include <string.h>

/* The codes follow from the ops held alone, but the change mark also
 * moves for soft state (presence every 5 s, positions), which changes no
 * code: when it has moved, the version vector (one row per author) says
 * whether any op came. Equal heads: the table still holds. */
static bool same_heads(struct fm_console *c, struct fm_head *heads, size_t n)
{
    return c->hids_heads != NULL && n == c->hids_nheads &&
           (n == 0 || memcmp(heads, c->hids_heads, n * sizeof *heads) == 0);
}

/* A rebuild holds the node lock for the whole walk (about 300 ms with
 * 100,000 incidents), and sync waits on that lock. So a table is rebuilt
 * at most once per CODES_REBUILD_MS: in between, a reply may lack the code
 * of an item newer than the table (null: pages show the id instead). */
#define CODES_REBUILD_MS 2000

const struct fm_hids *codes_table(struct fm_console *c)
{
    uint64_t mark = fm_node_change_mark(c->node);
    /* mark 0 means "unknown": never trust a table on it. */
    if (c->hids != NULL && mark != 0 && mark == c->hids_mark)
        return c->hids;
    uint64_t now = fm_mono_ms();
    if (c->hids != NULL && now - c->hids_built_ms < CODES_REBUILD_MS)
        return c->hids;
    struct fm_head *heads = NULL;
    size_t nheads = 0;
    bool have_heads = fm_node_heads(c->node, &heads, &nheads) == FM_OK;
    if (c->hids != NULL && have_heads && same_heads(c, heads, nheads)) {
        free(heads);
        c->hids_mark = mark;
        return c->hids;
    }
    fm_hids_free(&c->hids);
    free(c->hids_heads);
    c->hids_heads = have_heads ? heads : NULL;
    c->hids_nheads = have_heads ? nheads : 0;
    if (!have_heads)
        free(heads);
    c->hids_built_ms = now;
    if (fm_node_hids(c->node, &c->hids) != FM_OK) {
        c->hids = NULL;
        return NULL;
    }
    c->hids_mark = mark;
    return c->hids;
}

void codes_destroy(struct fm_console *c)
{
    fm_hids_free(&c->hids);
    free(c->hids_heads);
    c->hids_heads = NULL;
}

int console_resolve(struct fm_console *c, enum fm_entity_kind kind, const char *text,
                    char out[FM_ID_MAX])
{
    int rc = fm_node_resolve_id(c->node, kind, text, out);
    if (rc == FM_OK || (kind != FM_ENT_INCIDENT && kind != FM_ENT_TICKET) ||
        (rc != FM_ENOTFOUND && rc != FM_EINVAL))
        return rc;
    const struct fm_hids *h = codes_table(c);
    size_t nfound = 0;
    int hr = h != NULL ? fm_hids_resolve(h, kind, text, out, NULL, 0, &nfound) : FM_EINVAL;
    if (hr == FM_ENOTFOUND && h != NULL) {
        /* a code typed by a person may be newer than a rate-limited table */
        c->hids_built_ms = 0;
        c->hids_mark = 0;
        if ((h = codes_table(c)) != NULL)
            hr = fm_hids_resolve(h, kind, text, out, NULL, 0, &nfound);
    }
    if (hr == FM_EINVAL) /* not a code: the id lookup's answer stands */
        return rc;
    return hr;
}

/* Sets o[key] to the code of the string o[idkey] (null if none). */
static void fill_one(json_t *o, const char *key, const char *idkey, const struct fm_hids *h)
{
    const char *id = json_string_value(json_object_get(o, idkey));
    char code[FM_HID_MAX];
    if (id != NULL && h != NULL && fm_hids_code(h, id, code))
        json_object_set_new(o, key, json_string(code));
    else
        json_object_set_new(o, key, json_null());
}

/* Walks j: fill false only says whether there is anything to fill. */
static bool walk(json_t *j, const struct fm_hids *h, bool fill)
{
    bool any = false;
    size_t i;
    json_t *v;
    const char *key;
    if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            any = walk(v, h, fill) || any;
            if (any && !fill)
                return true;
        }
        return any;
    }
    if (!json_is_object(j))
        return false;
    json_t *code = json_object_get(j, "code");
    if (code != NULL && json_is_null(code) && json_is_string(json_object_get(j, "id"))) {
        if (!fill)
            return true;
        fill_one(j, "code", "id", h);
        any = true;
    }
    static const char *const refs[][2] = { { "incident", "incident_code" },
                                           { "ticket", "ticket_code" },
                                           { "replaces", "replaces_code" } };
    for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++)
        if (json_is_string(json_object_get(j, refs[r][0])) &&
            json_object_get(j, refs[r][1]) == NULL) {
            if (!fill)
                return true;
            fill_one(j, refs[r][1], refs[r][0], h);
            any = true;
        }
    json_object_foreach(j, key, v) {
        if (json_is_object(v) || json_is_array(v)) {
            any = walk(v, h, fill) || any;
            if (any && !fill)
                return true;
        }
    }
    return any;
}

void codes_fill(struct fm_console *c, json_t *body)
{
    if (body == NULL || !walk(body, NULL, false))
        return;
    node_lock(c);
    const struct fm_hids *h = codes_table(c);
    walk(body, h, true);
    node_unlock(c);
}

void codes_fill_cached(struct fm_console *c, json_t *body)
{
    if (body != NULL)
        walk(body, c->hids, true);
}
