/*
 * cli_wf.h — helpers shared by the linkage-workflow commands (cmd_dispatch.c,
 * cmd_ticket.c, cmd_directory.c, cmd_materials.c, cmd_bulletin.c,
 * cmd_report.c, cmd_conflicts.c), defined in cli_wf.c except
 * cli_wf_print_proposal (cmd_dispatch.c). Not for other folders.
 */
#ifndef FM_CLI_WF_H
#define FM_CLI_WF_H

#include "cli_int.h"

/* Prints the proposed dispatch for an incident (as after `incident
 * report`) to f; quiet when there is no directory. */
void cli_wf_print_proposal(struct cli *cl, const char *incident, FILE *f);
/* A JSON number with `decimals` decimals. */
void cli_wf_kdouble(struct cli_json *j, const char *key, double v, int decimals);
/* Writes one ticket as a JSON object. */
void cli_wf_ticket_json(struct cli_json *j, const struct fm_ticket *t);
/* Reports a write error with the workflow's usual wording; returns the exit code. */
int cli_wf_error(struct cli *cl, int rc, const char *what, const char *id);
/* Which of units[0..nunits) holds an active ticket: 1 with that unit and
 * its ticket copied out, 0 if none does, or a negative fm_err. */
int cli_wf_busy_unit(struct cli *cl, const char *const *units, size_t nunits,
                     char unit[FM_ID_MAX], char ticket[FM_ID_MAX]);
/* The active ticket unit `uid` holds, into ticket; 1 if it holds one, 0 if
 * not, or a negative fm_err. */
int cli_wf_unit_ticket(struct cli *cl, const char *uid, char ticket[FM_ID_MAX]);

/* cmd_orphans.c: nothing stranded (docs/workflow.md §3a). */
/* `incident status ID resolved|closed`: refuses while units hold active
 * tickets on it (listing them, exit 1) unless cancel_tickets; prints the
 * result. Returns an exit code, or a negative fm_err the caller words. */
int cli_orphans_close(struct cli *cl, const char *id, enum fm_incident_stage stage,
                      bool cancel_tickets, const char *reason);
/* `incident list --orphans`: the table or JSON array. */
int cli_orphans_list(struct cli *cl, bool as_json);
/* The orphan lines of `dispatch status` for one incident (j: an "orphans"
 * JSON key and array instead). */
void cli_orphans_incident(struct cli *cl, const char *incident, struct cli_json *j);
/* The orphan warnings of `fieldmesh status` (j: an "orphans" key and array). */
void cli_orphans_alerts(struct cli *cl, struct cli_json *j);

/* cli_depots.c: stock nearest an incident (docs/workflow.md §6). */
struct cli_depot {
    struct fm_resource r;
    double km; /* from the incident to the depot's station; < 0: not placed */
};
/* The stock items of `kind` (NULL: every kind), placed depots first and
 * nearest the incident first, places from directory d (NULL: none placed);
 * *out malloc'd (free it), *n items. */
int cli_depots_near(struct cli *cl, const struct fm_directory *d, const char *incident,
                    const char *kind, struct cli_depot **out, size_t *n) FM_MUST_USE;
/* Request `request` (a full id) as this node sees it: FM_ENOTFOUND if none. */
int cli_depots_request(struct cli *cl, const char *request, struct fm_request *out) FM_MUST_USE;

/* cli_hid.c: human codes and names (docs/decisions.md). */
/* A unit's name for a table ("?" if unknown here); returns out. */
const char *cli_wf_unit_name(struct cli *cl, const char *uid, char out[FM_NAME_MAX]);
/* Builds the code table once for this command (quiet on failure: no codes). */
void cli_hid_prepare(struct cli *cl);
/* The code of an incident or ticket id into out ("" if none or not
 * prepared); returns out. */
const char *cli_hid(const char *id, char out[FM_HID_MAX]);
/* After an id or prefix matched nothing: a code for an incident or ticket,
 * a name for a unit (exact; ambiguous -> the candidates; near misses ->
 * "did you mean"). 0 with out set, an exit code after printing the error,
 * or -1 when text is no code (the caller reports "no match"). */
int cli_resolve_human(struct cli *cl, enum fm_entity_kind kind, const char *text,
                      char out[FM_ID_MAX]);

/* cli_number.c: a bare number as the counter of an active item's code:
 * 0 with out set, an exit code after printing the error (several match:
 * the candidates' codes), or -1 (not all digits, or no active item has it:
 * read it as an id prefix). */
int cli_resolve_number(struct cli *cl, enum fm_entity_kind kind, const char *text,
                       char out[FM_ID_MAX]);
/* The one active ticket of the unit this node's certificate names: 0 with
 * out set, else an exit code after printing why (no unit, none, several). */
int cli_own_ticket(struct cli *cl, char out[FM_ID_MAX]);

/* cmd_dispatch.c: a dispatcher's own choice against the rule (dispatch,
 * reassign): a unit fitting no need is refused (exit 1, the reason on
 * stderr) unless force; 0 when all may go. The far warnings come after a
 * successful write. */
int cli_wf_dispatch_checks(struct cli *cl, const char *incident, const char *const *uids,
                           size_t nunits, bool force, struct fm_dispatch_check *chk);
void cli_wf_far_warnings(struct cli *cl, const char *const *uids, size_t nunits,
                         const struct fm_dispatch_check *chk);

/* cmd_link.c: the "possible duplicate of CODE" lines on stderr after a report. */
void cli_link_print_duplicates(struct cli *cl, const char *incident);

#endif
