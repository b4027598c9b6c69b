/*
 * cli_number.c — the shortest ways to name an incident or ticket: a bare
 * number (`ticket ack 104`) and, on a unit's own node, no id at all
 * (`ticket enroute`).
 *
 * A number alone is read as the counter of a code (the "104" of
 * "K3MX-104", node/workflow/hid.c) among the items still active on this
 * node: open incidents (not resolved or closed), tickets not cleared,
 * cancelled or reassigned. Exactly one such item resolves; several are
 * refused with their full codes (exit 1), never guessed; none falls back
 * to reading the digits as an id prefix, as before (an id's tag is base32
 * and may start with digits). Codes are per author, so two dispatch
 * centres each have a 104: the active ones are few, which is why the rule
 * looks only at them.
 */
#include "cli_wf.h"

#include <stdlib.h>
#include <string.h>

#define NUM_CANDS 6

struct num_walk {
    const char *num;
    size_t n;
    char ids[NUM_CANDS][FM_ID_MAX];
};

/* Whether id's code ends in "-num". */
static void num_match(struct num_walk *w, const char *id)
{
    char code[FM_HID_MAX];
    const char *dash = strrchr(cli_hid(id, code), '-');
    if (dash == NULL || strcmp(dash + 1, w->num) != 0)
        return;
    if (w->n < NUM_CANDS)
        fm_strlcpy(w->ids[w->n], id, FM_ID_MAX);
    w->n++;
}

static int num_ticket(void *ctx, const struct fm_ticket *tk)
{
    if (tk->active)
        num_match(ctx, tk->id);
    return 0;
}

static int num_incident(void *ctx, const struct fm_incident *inc)
{
    if (fm_incident_open(inc))
        num_match(ctx, inc->id);
    return 0;
}

static void cands_text(const char (*ids)[FM_ID_MAX], size_t n, size_t total, char *out,
                       size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char code[FM_HID_MAX];
        int w = snprintf(out + len, cap - len, "%s%s (%s)", i ? ", " : "", cli_hid(ids[i], code),
                         ids[i]);
        if (w < 0 || (size_t)w >= cap - len)
            return;
        len += (size_t)w;
    }
    if (total > n && len + 6 < cap)
        memcpy(out + len, ", ...", 6);
}

int cli_resolve_number(struct cli *cl, enum fm_entity_kind kind, const char *text,
                       char out[FM_ID_MAX])
{
    size_t len = strlen(text);
    if ((kind != FM_ENT_INCIDENT && kind != FM_ENT_TICKET) || len == 0 || len > 9 ||
        strspn(text, "0123456789") != len || text[0] == '0')
        return -1;
    struct num_walk *w = calloc(1, sizeof *w);
    char list[NUM_CANDS * (FM_HID_MAX + FM_ID_MAX + 6)];
    int rc;
    if (w == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    w->num = text;
    cli_hid_prepare(cl);
    if (kind == FM_ENT_TICKET) {
        rc = fm_node_tickets(cl->node, NULL, num_ticket, w);
    } else {
        struct fm_incident_filter any = {.stage = -1};
        rc = fm_node_incidents(cl->node, &any, num_incident, w);
    }
    if (rc != FM_OK) {
        rc = cli_error(cl, rc, "cannot look up '%s': %s", text, fm_strerror(rc));
    } else if (w->n == 1) {
        fm_strlcpy(out, w->ids[0], FM_ID_MAX);
        rc = 0;
    } else if (w->n > 1) {
        cands_text((const char (*)[FM_ID_MAX])w->ids, w->n < NUM_CANDS ? w->n : NUM_CANDS, w->n,
                   list, sizeof list);
        rc = cli_error(cl, FM_EAMBIGUOUS, "ambiguous number '%s': %zu active %ss have it: %s; "
                                          "give the code", text, w->n,
                       kind == FM_ENT_TICKET ? "ticket" : "incident", list);
    } else {
        rc = -1; /* no active item: read it as an id prefix */
    }
    free(w);
    return rc;
}

/* ---- the unit's own ticket ---- */

struct own_walk {
    const char *unit;
    size_t n;
    char ids[NUM_CANDS][FM_ID_MAX];
};

static int own_ticket(void *ctx, const struct fm_ticket *tk)
{
    struct own_walk *w = ctx;
    if (!tk->active || strcmp(tk->unit, w->unit) != 0)
        return 0;
    if (w->n < NUM_CANDS)
        fm_strlcpy(w->ids[w->n], tk->id, FM_ID_MAX);
    w->n++;
    return 0;
}

int cli_own_ticket(struct cli *cl, char out[FM_ID_MAX])
{
    char self[FM_NAME_MAX], uid[FM_ID_MAX], list[NUM_CANDS * (FM_HID_MAX + FM_ID_MAX + 6)];
    struct own_walk w = {.unit = uid};
    int rc;
    if (fm_node_self_unit(cl->node, self, sizeof self) != FM_OK)
        return cli_usage(cl, "TICKET is required (this node's certificate names no unit whose "
                             "ticket it could mean)");
    if ((rc = cli_resolve(cl, FM_ENT_UNIT, self, uid)) != 0)
        return rc;
    if ((rc = fm_node_tickets(cl->node, NULL, own_ticket, &w)) != FM_OK)
        return cli_error(cl, rc, "cannot read the tickets: %s", fm_strerror(rc));
    if (w.n == 1) {
        fm_strlcpy(out, w.ids[0], FM_ID_MAX);
        return 0;
    }
    if (w.n == 0)
        return cli_error(cl, FM_ENOTFOUND, "unit %s (%s) holds no active ticket here; give "
                                           "TICKET", self, uid);
    cli_hid_prepare(cl);
    cands_text((const char (*)[FM_ID_MAX])w.ids, w.n < NUM_CANDS ? w.n : NUM_CANDS, w.n, list,
               sizeof list);
    return cli_error(cl, FM_EAMBIGUOUS, "unit %s holds %zu active tickets (%s); say which",
                     self, w.n, list);
}
