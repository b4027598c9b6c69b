/*
 * yaml_depth.h — YAML helpers shared inside node/ (config.c,
 * config_write.c, directory_yaml.c, directory_write.c): a nesting limit
 * checked before libyaml builds a document, and the one quoted-scalar writer.
 */
#ifndef FM_YAML_DEPTH_H
#define FM_YAML_DEPTH_H

#include <stddef.h>
#include <stdio.h>

#include "../../crypto/base/fm_base.h"

/* Deepest nesting of mappings and sequences a config or directory file may
 * have. The deepest real file nests 6 levels (directory: departments ->
 * units -> capabilities). */
#define YAML_MAX_DEPTH 32

/* Scans buf (len bytes of YAML) event by event and stops at the first
 * mapping or sequence nested deeper than max_depth: FM_ETOOBIG, with
 * *line and *col (1-based) where it starts. FM_OK when no such nesting
 * exists, including when the text is not valid YAML (the loader then
 * reports the syntax error itself); FM_ENOMEM. */
int yaml_check_depth(const char *buf, size_t len, unsigned max_depth, size_t *line,
                     size_t *col) FM_MUST_USE;

/* Writes s as a YAML double-quoted scalar: quotes, backslashes and control
 * bytes escaped; other bytes (UTF-8 included) pass through. */
void yaml_put_quoted(FILE *f, const char *s);

#endif
