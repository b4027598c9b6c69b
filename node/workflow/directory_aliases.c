/*
 * directory_aliases.c — the names people type for the directory's words.
 *
 * A call-taker in Jinhua types 火灾, not building_fire. The directory may
 * carry aliases: a name (any printable text, Chinese or English) for one
 * of its words — a rule's category, a capability, a department or unit
 * kind, a material kind. Every command that takes such a word takes an
 * alias of it too, and an unknown category is answered with the closest
 * ones (edit distance over characters, so 火灾 finds 火警 as well as the
 * English words).
 *
 * Aliases change no decision — the word they stand for is what every op
 * carries — so their section may be skipped by a build that does not
 * know it (tag 0x81, docs/workflow.md §1a):
 *
 *   u16 n { str8 name | str8 word }    names strictly ascending (bytes)
 */
#include "workflow_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEC_ALIASES 0x81

/* ---- edit distance over characters ---- */

/* UTF-8 text as code points (at most cap); returns how many. */
static size_t code_points(const char *s, uint32_t *cp, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && n < cap; n++) {
        uint32_t c = *p++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        for (; more > 0 && (*p & 0xc0) == 0x80; more--)
            c = c << 6 | (*p++ & 0x3f);
        cp[n] = c;
    }
    return n;
}

size_t fm_text_distance(const char *a, const char *b)
{
    uint32_t x[FM_NAME_MAX], y[FM_NAME_MAX];
    size_t row[FM_NAME_MAX + 1];
    size_t n = code_points(a, x, FM_NAME_MAX), m = code_points(b, y, FM_NAME_MAX);
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], best = diag + (x[i - 1] != y[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[m];
}

/* ---- lookups ---- */

static int alias_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fm_dir_alias *)a)->name, ((const struct fm_dir_alias *)b)->name);
}

const char *fm_directory_alias(const struct fm_directory *d, const char *name)
{
    struct fm_dir_alias key;
    if (d == NULL || name == NULL || strlen(name) >= sizeof key.name || d->naliases == 0)
        return NULL;
    fm_strlcpy(key.name, name, sizeof key.name);
    const struct fm_dir_alias *hit =
        bsearch(&key, d->aliases, d->naliases, sizeof key, alias_cmp);
    return hit != NULL ? hit->word : NULL;
}

/* The distance from text to a category: to its word or its nearest alias. */
static size_t category_distance(const struct fm_directory *d, const char *text, const char *cat)
{
    size_t best = fm_text_distance(text, cat);
    for (size_t i = 0; i < d->naliases; i++)
        if (strcmp(d->aliases[i].word, cat) == 0) {
            size_t e = fm_text_distance(text, d->aliases[i].name);
            if (e < best)
                best = e;
        }
    return best;
}

size_t fm_directory_closest_categories(const struct fm_directory *d, const char *text,
                                       const char **out, size_t max)
{
    bool used[FM_DIR_MAX_RULES] = {false};
    size_t dist[FM_DIR_MAX_RULES], n = 0;
    if (d == NULL || text == NULL)
        return 0;
    for (size_t i = 0; i < d->nrules && i < FM_DIR_MAX_RULES; i++)
        dist[i] = category_distance(d, text, d->rules[i].category);
    for (; n < max && n < d->nrules; n++) {
        size_t at = SIZE_MAX;
        for (size_t i = 0; i < d->nrules && i < FM_DIR_MAX_RULES; i++)
            if (!used[i] && (at == SIZE_MAX || dist[i] < dist[at]))
                at = i; /* ties: the directory's order */
        used[at] = true;
        out[n] = d->rules[at].category;
    }
    return n;
}

/* ---- checks, shared by the YAML loader and the decoder ---- */

bool directory_word_ok(const char *w)
{
    size_t n = strlen(w);
    if (n == 0 || n >= FM_CATEGORY_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int directory_aliases_normalise(struct fm_directory *d, char *err, size_t errlen)
{
    if (d->naliases > FM_DIR_MAX_ALIASES)
        return FM_EINVAL;
    if (d->naliases > 1)
        qsort(d->aliases, d->naliases, sizeof d->aliases[0], alias_cmp);
    for (size_t i = 0; i < d->naliases; i++) {
        const struct fm_dir_alias *a = &d->aliases[i];
        if (!directory_word_ok(a->word) || !payload_name_ok(a->name)) {
            snprintf(err, errlen, "alias '%s' -> '%s': not a name and a word", a->name, a->word);
            return FM_EINVAL;
        }
        if (i > 0 && strcmp(a->name, d->aliases[i - 1].name) == 0) {
            snprintf(err, errlen, "alias '%s' is given twice", a->name);
            return FM_EINVAL;
        }
        if (strcmp(a->name, a->word) == 0 || fm_directory_rule(d, a->name) != NULL) {
            snprintf(err, errlen, "alias '%s' is itself a category: an alias names another word",
                     a->name);
            return FM_EINVAL;
        }
    }
    return FM_OK;
}

/* ---- the section ---- */

int directory_encode_aliases(const struct fm_directory *d, struct fm_buf *out)
{
    size_t len = 2;
    int rc;
    if (d->naliases == 0)
        return FM_OK;
    for (size_t i = 0; i < d->naliases; i++)
        len += 2 + strlen(d->aliases[i].name) + strlen(d->aliases[i].word);
    if ((rc = fm_buf_put_u8(out, SEC_ALIASES)) || (rc = fm_buf_put_u32(out, (uint32_t)len)) ||
        (rc = fm_buf_put_u16(out, (uint16_t)d->naliases)))
        return rc;
    for (size_t i = 0; i < d->naliases; i++) {
        const struct fm_dir_alias *a = &d->aliases[i];
        size_t nl = strlen(a->name), wl = strlen(a->word);
        if ((rc = fm_buf_put_u8(out, (uint8_t)nl)) || (rc = fm_buf_append(out, a->name, nl)) ||
            (rc = fm_buf_put_u8(out, (uint8_t)wl)) || (rc = fm_buf_append(out, a->word, wl)))
            return rc;
    }
    return FM_OK;
}

int directory_get_str8(struct fm_cur *c, char *dst, size_t cap)
{
    uint8_t n;
    const uint8_t *p;
    if (fm_cur_u8(c, &n) || n == 0 || n >= cap || fm_cur_bytes(c, n, &p))
        return FM_EDECODE;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return strlen(dst) == n ? FM_OK : FM_EDECODE; /* no NUL inside */
}

int directory_decode_aliases(struct fm_cur *c, struct fm_directory *d)
{
    uint16_t n;
    char err[160];
    if (fm_cur_u16(c, &n) || n == 0 || n > FM_DIR_MAX_ALIASES)
        return FM_EDECODE;
    for (size_t i = 0; i < n; i++) {
        struct fm_dir_alias *a = &d->aliases[i];
        if (directory_get_str8(c, a->name, sizeof a->name) ||
            directory_get_str8(c, a->word, sizeof a->word))
            return FM_EDECODE;
        if (i > 0 && strcmp(a->name, d->aliases[i - 1].name) <= 0)
            return FM_EDECODE; /* one canonical form: ascending, each once */
    }
    d->naliases = n;
    return directory_aliases_normalise(d, err, sizeof err) == FM_OK ? FM_OK : FM_EDECODE;
}
