/*
 * directory_keys.c — stable unit keys (docs/workflow.md §1c). A directory
 * unit may carry `id: KEY`; its unit entity then lives under an id derived
 * from the key alone, so renaming the unit, or moving it to another
 * department, changes the entity's fields and not its id: its tickets,
 * statuses and history stay with it. A unit without a key keeps the id
 * derived from (department, name), as before keys existed.
 *
 * The section (tag 0x84) may be skipped: a build that does not know it
 * still reads every unit by name, which is how proposals find units. Its
 * body, units by ascending index, each key once:
 *
 *   u16 n { u16 unit index | str8 key }
 *
 * What a unit entity is to the directory in force (its standing) is
 * derived here too: listed, retired (registered by a directory that no
 * longer lists it) or unlisted (registered by hand, outside it).
 */
#include "workflow_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEC_KEYS 0x84

_Static_assert(FM_DIR_KEY_MAX == FM_UNIT_KEY_MAX, "a directory key fits the entity's");

bool fm_dir_key_ok(const char *k)
{
    return payload_key_ok(k);
}

bool directory_has_keys(const struct fm_directory *d)
{
    for (size_t i = 0; i < d->nunits; i++)
        if (d->units[i].key[0])
            return true;
    return false;
}

void directory_unit_ref(const struct fm_directory *d, const struct fm_dir_unit *u,
                        struct payload_ref *out)
{
    if (u->key[0])
        payload_dir_key_ref(u->key, out);
    else
        payload_dir_unit_ref(d->depts[u->dept].name, u->name, out);
}

void fm_directory_unit_id(const struct fm_directory *d, const struct fm_dir_unit *u,
                          char id[FM_ID_MAX])
{
    struct payload_ref r;
    directory_unit_ref(d, u, &r);
    fm_op_id_format(r.author, r.seq, id);
}

const struct fm_dir_unit *fm_directory_unit_key(const struct fm_directory *d, const char *key)
{
    if (d == NULL || key == NULL || key[0] == '\0')
        return NULL;
    for (size_t i = 0; i < d->nunits; i++)
        if (strcmp(d->units[i].key, key) == 0)
            return &d->units[i];
    return NULL;
}

/* ---- checks, shared by the YAML loader and the decoder ---- */

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int directory_keys_check(const struct fm_directory *d, char *err, size_t errlen)
{
    const char **v = malloc((d->nunits ? d->nunits : 1) * sizeof *v);
    size_t n = 0;
    int rc = FM_OK;
    if (v == NULL)
        return FM_ENOMEM;
    for (size_t i = 0; i < d->nunits; i++) {
        const char *k = d->units[i].key;
        if (k[0] == '\0')
            continue;
        if (!fm_dir_key_ok(k)) {
            snprintf(err, errlen, "unit '%s': id '%s' must be 1 to %d letters, digits, '_' or "
                     "'-'", d->units[i].name, k, FM_DIR_KEY_MAX - 1);
            rc = FM_EINVAL;
            goto out;
        }
        v[n++] = k;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, key_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i], v[i - 1]) == 0) {
            snprintf(err, errlen, "unit id '%s' is given twice (ids must be unique)", v[i]);
            rc = FM_EINVAL;
            goto out;
        }
out:
    free(v);
    return rc;
}

/* ---- the section ---- */

int directory_encode_keys(const struct fm_directory *d, struct fm_buf *out)
{
    size_t len = 2, n = 0;
    int rc;
    for (size_t i = 0; i < d->nunits; i++)
        if (d->units[i].key[0]) {
            len += 3 + strlen(d->units[i].key);
            n++;
        }
    if (n == 0)
        return FM_OK;
    if ((rc = fm_buf_put_u8(out, SEC_KEYS)) || (rc = fm_buf_put_u32(out, (uint32_t)len)) ||
        (rc = fm_buf_put_u16(out, (uint16_t)n)))
        return rc;
    for (size_t i = 0; i < d->nunits; i++) {
        const char *k = d->units[i].key;
        size_t kl = strlen(k);
        if (kl == 0)
            continue;
        if ((rc = fm_buf_put_u16(out, (uint16_t)i)) || (rc = fm_buf_put_u8(out, (uint8_t)kl)) ||
            (rc = fm_buf_append(out, k, kl)))
            return rc;
    }
    return FM_OK;
}

int directory_decode_keys(struct fm_cur *c, struct fm_directory *d)
{
    uint16_t n;
    char err[160];
    int last = -1;
    if (fm_cur_u16(c, &n) || n == 0 || n > d->nunits)
        return FM_EDECODE; /* an empty section is not written */
    for (size_t i = 0; i < n; i++) {
        uint16_t at;
        if (fm_cur_u16(c, &at) || (int)at <= last || at >= d->nunits)
            return FM_EDECODE; /* one canonical form: ascending, each unit once */
        last = at;
        if (directory_get_str8(c, d->units[at].key, sizeof d->units[at].key))
            return FM_EDECODE;
    }
    return directory_keys_check(d, err, sizeof err) == FM_OK ? FM_OK : FM_EDECODE;
}

/* ---- a unit entity's standing ---- */

static bool id_is(const char *id, const struct payload_ref *r)
{
    char want[FM_ID_MAX];
    fm_op_id_format(r->author, r->seq, want);
    return strcmp(id, want) == 0;
}

const struct fm_dir_unit *directory_unit_judge(const struct fm_directory *d,
                                               const struct fm_unit *u,
                                               const struct fm_dir_unit *by_name,
                                               const struct fm_dir_unit *by_key,
                                               enum fm_unit_standing *standing)
{
    struct payload_ref want;
    const struct fm_dir_unit *du = NULL;
    enum fm_unit_standing s = FM_UNIT_UNLISTED;
    if (u->key[0]) {
        /* a keyed entity: only the directory unit of that key */
        payload_dir_key_ref(u->key, &want);
        if (id_is(u->id, &want)) {
            du = by_key;
            s = du != NULL ? FM_UNIT_LISTED : FM_UNIT_RETIRED;
        }
    } else {
        payload_dir_unit_ref(u->department, u->name, &want);
        if (id_is(u->id, &want)) {
            /* registered by a directory under (department, name): listed
             * while a unit of that name and department, without a key, is */
            if (by_name != NULL && !by_name->key[0] &&
                strcmp(d->depts[by_name->dept].name, u->department) == 0)
                du = by_name;
            s = du != NULL ? FM_UNIT_LISTED : FM_UNIT_RETIRED;
        } else if (by_name != NULL && !by_name->key[0]) {
            du = by_name; /* registered by hand, listed by name: adopted */
            s = FM_UNIT_LISTED;
        }
    }
    if (standing)
        *standing = s;
    return du;
}

const struct fm_dir_unit *fm_directory_unit_of(const struct fm_directory *d,
                                               const struct fm_unit *u,
                                               enum fm_unit_standing *standing)
{
    if (d == NULL) {
        if (standing)
            *standing = FM_UNIT_UNLISTED;
        return NULL;
    }
    return directory_unit_judge(d, u, fm_directory_unit(d, u->name),
                                fm_directory_unit_key(d, u->key), standing);
}
