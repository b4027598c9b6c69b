/*
 * yamlkit.h — the strict-YAML toolkit: the one place above libyaml.
 *
 * Two parsers read hand-written YAML: the node config (node/config/config.c)
 * and the organisation directory (node/workflow/directory_yaml.c). Both let
 * libyaml build the node tree, then walk it against what each mapping may
 * hold, refusing anything that is not exactly the shape asked for with a
 * message "FILE:LINE:COLUMN: what is wrong". This header gives them one
 * loader and one set of helpers for that, and one quoted-scalar writer for
 * the two writers. Only node/config/ includes yaml.h; everyone else reaches
 * libyaml through this header, and the toolkit calls nothing above
 * node/config/ (crypto/base only).
 *
 * Usage: embed a struct yk_loader, yk_init it, yk_read_file (or bring the
 * text), yk_parse, walk from yk_root with the helpers, yk_release.
 *
 * Errors: every helper that can refuse writes its message into the
 * loader's err buffer and returns FM_ECONFIG, unless it says otherwise;
 * none allocates. Strings and nodes handed out borrow the document and
 * live until yk_release.
 */
#ifndef FM_YAMLKIT_H
#define FM_YAMLKIT_H

#include "../../crypto/base/fm_base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

/* Deepest nesting of mappings and sequences a file may have, checked
 * before libyaml builds the document (its loader costs time quadratic in
 * the depth). The deepest real file nests 6 levels (directory:
 * departments -> units -> capabilities). */
#define YK_MAX_DEPTH 32

/* The wording of a few refusals, where the two parsers have always
 * differed; each keeps its own so nothing a user sees changes. */
enum yk_style {
    /* a negative or over-long number is "out of range", not "not an
     * integer" (the config's wording) */
    YK_RANGE_ANY_NUMBER = 1u << 0,
    /* libyaml's errors with their context, reader errors at their own
     * line:column, out-of-memory named in the message and returned as
     * FM_ENOMEM (the config's); without: the problem at its mark */
    YK_PARSER_DETAIL = 1u << 1,
};

/* One load in progress. Callers embed it in their own loader state. */
struct yk_loader {
    const char *file;        /* as given, for messages; borrowed */
    char *err;               /* where messages go (never NULL after yk_init) */
    size_t errlen;
    unsigned style;          /* enum yk_style bits; 0 after yk_init */
    const char *scalar_want; /* "expected %s for 'key'" when a scalar is not one:
                              * "a single value" after yk_init */
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_parser, have_doc;
    char none[1]; /* err when the caller gave no buffer */
};

/* Starts a load of `file` (the name messages give). err may be NULL or
 * errlen 0: messages are then dropped. err is emptied. */
void yk_init(struct yk_loader *L, const char *file, char *err, size_t errlen);
/* Frees the document and parser, if any. Safe to call twice. */
void yk_release(struct yk_loader *L);

/* Reads L->file whole (at most max bytes) into a NUL-terminated malloc'd
 * buffer the caller frees. Too large: "FILE:1:1: file too large (max N
 * bytes)", FM_ECONFIG. Unreadable: "FILE: cannot open: REASON" and
 * fm_file_read_alloc's code (FM_ENOTFOUND, FM_EIO); FM_ENOMEM ("FILE: out
 * of memory" with YK_PARSER_DETAIL). */
int yk_read_file(struct yk_loader *L, size_t max, char **out, size_t *len) FM_MUST_USE;

/* Checks the nesting (YK_MAX_DEPTH) and builds the first document of
 * buf[0..len): 0, FM_ECONFIG with the place of the problem, FM_ENOMEM. */
int yk_parse(struct yk_loader *L, const char *buf, size_t len) FM_MUST_USE;
/* After a good yk_parse: refuses a second document in the stream with
 * "more than one YAML document (why)" at its start. */
int yk_single_document(struct yk_loader *L, const char *why) FM_MUST_USE;
/* The document's root node; NULL for an empty document. */
yaml_node_t *yk_root(struct yk_loader *L);
/* Node idx of the document, or NULL. */
yaml_node_t *yk_node(struct yk_loader *L, int idx);

/* Writes "FILE:LINE:COL: message" into the err buffer (when there is
 * room); returns FM_ECONFIG. LINE and COL count from 1. */
int yk_fail_at(struct yk_loader *L, size_t line, size_t col, const char *fmt, ...)
    FM_PRINTF(4, 5);
/* The same at a libyaml mark (which counts from 0), or at a node's start. */
#define yk_fail_mark(L, mark, ...) \
    yk_fail_at((L), (size_t)(mark).line + 1, (size_t)(mark).column + 1, __VA_ARGS__)
#define yk_fail(L, node, ...) yk_fail_mark((L), (node)->start_mark, __VA_ARGS__)

/* ---- scalars ---- */

/* A scalar's bytes as a C string (*out borrows the document). Not a
 * scalar: "expected <scalar_want> for 'key'"; a NUL byte inside (a "\0"
 * escape): "'key' contains a NUL byte". */
int yk_scalar(struct yk_loader *L, yaml_node_t *v, const char *key, const char **out);
/* A plain (unquoted) scalar's text, or NULL for any other node. */
const char *yk_plain(const yaml_node_t *v);
/* An empty plain scalar, "~" or "null" (Null, NULL): YAML's nothing. */
bool yk_is_null(const yaml_node_t *v);
/* A byte below 0x20 or DEL in s. */
bool yk_has_control_char(const char *s);
/* Printable UTF-8: no C0 or C1 control, no DEL, shortest forms only, no
 * surrogates, nothing above U+10FFFF. */
bool yk_printable_utf8(const char *s, size_t n);

/* A plain decimal integer in lo..hi: "expected an integer for 'key'" or
 * "'key' must be between LO and HI". */
int yk_uint(struct yk_loader *L, yaml_node_t *v, const char *key, uint64_t lo, uint64_t hi,
            uint64_t *out);
/* Plain true or false: "expected true or false for 'key'". */
int yk_bool(struct yk_loader *L, yaml_node_t *v, const char *key, bool *out);
/* Printable UTF-8 text of 1..cap-1 bytes, copied into out: "'key' must be 1
 * to N bytes (N/3 Chinese characters); got B bytes (C characters)" or
 * "'key' must be printable UTF-8 text (no control characters)". */
int yk_text(struct yk_loader *L, yaml_node_t *v, const char *key, char *out, size_t cap);
/* A name (fm_base.h): printable UTF-8 of 1..FM_NAME_CHARS characters and
 * at most FM_NAME_MAX - 1 bytes, copied into out: "'key' must be 1 to 64
 * characters; got C characters" (or, for rare 4-byte characters, "... and
 * at most 255 bytes; got B bytes"). */
int yk_name(struct yk_loader *L, yaml_node_t *v, const char *key, char out[FM_NAME_MAX]);

/* ---- mappings and sequences ---- */

/* The key of pair p of mapping m (WHERE names m) as a string: "expected a
 * plain key" (at the key, or at the document's start when it has none),
 * "key contains a NUL byte", or "duplicate key 'K' in WHERE (first at line
 * N)" when an earlier pair of m has the same key. *kn is the key's node. */
int yk_pair_key(struct yk_loader *L, yaml_node_t *m, yaml_node_pair_t *p, const char *where,
                yaml_node_t **kn, const char **ks);
/* Called by yk_map_each for each pair: key, its node, the value. */
typedef int (*yk_field_fn)(struct yk_loader *L, const char *key, yaml_node_t *kn,
                           yaml_node_t *v, void *arg);
/* Walks mapping m (WHERE names it in messages: "expected a mapping for
 * WHERE", "expected plain keys in WHERE", duplicate keys), calling fn for
 * each pair in order; stops at the first non-zero return and returns it. */
int yk_map_each(struct yk_loader *L, yaml_node_t *m, const char *where, yk_field_fn fn,
                void *arg);
/* v is a sequence, or "expected a list for 'key'". */
int yk_need_seq(struct yk_loader *L, yaml_node_t *v, const char *key);
/* Number of items of sequence v. */
size_t yk_seq_len(const yaml_node_t *v);
/* Item i of sequence v, or NULL (past the end, or missing). */
yaml_node_t *yk_seq_at(struct yk_loader *L, const yaml_node_t *v, size_t i);
/* For each item of sequence v (stops early at a missing node). */
#define YK_SEQ_EACH(L, v, item)                                                            \
    for (yaml_node_item_t *yk_it_ = (v)->data.sequence.items.start;                       \
         yk_it_ < (v)->data.sequence.items.top && ((item) = yk_node((L), *yk_it_)) != NULL; \
         yk_it_++)

/* ---- writing ---- */

/* Writes s as a YAML double-quoted scalar: quotes, backslashes and
 * control bytes escaped; other bytes (UTF-8 included) pass through. */
void yk_put_quoted(FILE *f, const char *s);

#endif
