/*
 * cli_words.c — the directory's words as people type them: a category,
 * a capability, a kind or a material kind given by its word or by an
 * alias the directory defines (火灾 for building_fire, docs/workflow.md
 * §1b), and an unknown category answered with the closest ones.
 */
#include "cli_int.h"

#include <string.h>

/* The word `text` stands for in directory d (NULL: none): itself, or
 * what its alias names. */
static const char *word_of(const struct fm_directory *d, const char *text)
{
    const char *w = d != NULL && fm_directory_rule(d, text) == NULL ? fm_directory_alias(d, text)
                                                                   : NULL;
    return w != NULL ? w : text;
}

int cli_word(struct cli *cl, const char *what, const char *text, char *out, size_t cap)
{
    struct fm_directory *d = NULL;
    if (fm_node_directory_get(cl->node, &d) != FM_OK)
        d = NULL;
    const char *w = word_of(d, text);
    int rc = cli_check_word(cl, what, w, cap);
    if (rc == 0)
        fm_strlcpy(out, w, cap);
    fm_directory_free(&d);
    return rc;
}

int cli_category(struct cli *cl, const char *what, const char *text, bool force,
                 char out[FM_CATEGORY_MAX])
{
    struct fm_directory *d = NULL;
    if (fm_node_directory_get(cl->node, &d) != FM_OK)
        d = NULL;
    const char *w = word_of(d, text);
    int rc = 0;
    bool known = d == NULL || d->nrules == 0 || fm_directory_rule(d, w) != NULL;
    size_t n = strlen(w);
    bool word = n > 0 && n < FM_CATEGORY_MAX &&
                strspn(w, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
    if (!known && (!word || !force)) {
        const char *near[3];
        char list[3 * (FM_CATEGORY_MAX + 2)] = "";
        size_t k = fm_directory_closest_categories(d, text, near, 3), used = 0;
        for (size_t i = 0; i < k && used + 1 < sizeof list; i++) {
            int m = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", near[i]);
            if (m < 0 || (size_t)m >= sizeof list - used)
                break;
            used += (size_t)m;
        }
        rc = cli_usage(cl, "%s '%s' is no category of the directory (nor an alias of one); "
                           "closest: %s%s", what, text, list,
                       word ? "; --force records it as typed" : "");
    } else {
        rc = cli_check_word(cl, what, w, FM_CATEGORY_MAX);
    }
    if (rc == 0)
        fm_strlcpy(out, w, FM_CATEGORY_MAX);
    fm_directory_free(&d);
    return rc;
}
