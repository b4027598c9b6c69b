/*
 * directory_materials.c — what the directory says about materials: each
 * kind's unit of measure (沙袋 are counted in 袋, diesel in L) and the
 * places of depots that are not units (a city warehouse). Stock kept at a
 * station is registered under the station's unit name and is at that
 * unit's home; `resource list --near` and `allocate --from nearest` order
 * depots by these places (cli/cli_depots.c, docs/workflow.md §6).
 *
 * Like the aliases, this changes no decision — every op carries the same
 * kind, depot and count as before — so its section may be skipped by a
 * build that does not know it (tag 0x83):
 *
 *   u16 nmaterials { str8 kind | str8 measure }        kinds ascending
 *   u16 ndepots { str8 name | i32 lat_e7 | i32 lon_e7 }  names ascending
 */
#include "workflow_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEC_MATERIALS 0x83

static int material_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fm_dir_material *)a)->kind,
                  ((const struct fm_dir_material *)b)->kind);
}

static int depot_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fm_dir_depot *)a)->name, ((const struct fm_dir_depot *)b)->name);
}

const char *fm_directory_measure(const struct fm_directory *d, const char *kind)
{
    struct fm_dir_material key;
    if (d == NULL || kind == NULL || d->nmaterials == 0 || strlen(kind) >= sizeof key.kind)
        return NULL;
    fm_strlcpy(key.kind, kind, sizeof key.kind);
    const struct fm_dir_material *hit =
        bsearch(&key, d->materials, d->nmaterials, sizeof key, material_cmp);
    return hit != NULL ? hit->measure : NULL;
}

bool fm_directory_depot_at(const struct fm_directory *d, const char *name, int32_t *lat_e7,
                           int32_t *lon_e7)
{
    if (d == NULL || name == NULL)
        return false;
    const struct fm_dir_unit *u = fm_directory_unit(d, name);
    if (u != NULL) {
        *lat_e7 = u->lat_e7;
        *lon_e7 = u->lon_e7;
        return true;
    }
    struct fm_dir_depot key;
    if (d->ndepots == 0 || strlen(name) >= sizeof key.name)
        return false;
    fm_strlcpy(key.name, name, sizeof key.name);
    const struct fm_dir_depot *hit = bsearch(&key, d->depots, d->ndepots, sizeof key, depot_cmp);
    if (hit == NULL)
        return false;
    *lat_e7 = hit->lat_e7;
    *lon_e7 = hit->lon_e7;
    return true;
}

/* ---- checks, shared by the YAML loader and the decoder ---- */

int directory_materials_normalise(struct fm_directory *d, char *err, size_t errlen)
{
    if (d->nmaterials > FM_DIR_MAX_MATERIALS || d->ndepots > FM_DIR_MAX_DEPOTS)
        return FM_EINVAL;
    if (d->nmaterials > 1)
        qsort(d->materials, d->nmaterials, sizeof d->materials[0], material_cmp);
    if (d->ndepots > 1)
        qsort(d->depots, d->ndepots, sizeof d->depots[0], depot_cmp);
    for (size_t i = 0; i < d->nmaterials; i++) {
        const struct fm_dir_material *m = &d->materials[i];
        if (!directory_word_ok(m->kind)) {
            snprintf(err, errlen, "material kind '%s' is not a word of a-z, 0-9, '_' or '-'",
                     m->kind);
            return FM_EINVAL;
        }
        if (!payload_text_ok(m->measure, 1, FM_DIR_MEASURE_MAX - 1)) {
            snprintf(err, errlen, "the unit of measure of '%s' must be printable text of 1 to "
                     "%d bytes (got %zu)", m->kind, FM_DIR_MEASURE_MAX - 1, strlen(m->measure));
            return FM_EINVAL;
        }
        if (i > 0 && strcmp(m->kind, d->materials[i - 1].kind) == 0) {
            snprintf(err, errlen, "material kind '%s' has two units of measure", m->kind);
            return FM_EINVAL;
        }
    }
    for (size_t i = 0; i < d->ndepots; i++) {
        const struct fm_dir_depot *p = &d->depots[i];
        if (!payload_name_ok(p->name)) {
            snprintf(err, errlen, "depot '%s': a name must be printable text of 1 to %d "
                     "characters (got %zu)", p->name, FM_NAME_CHARS,
                     fm_utf8_chars(p->name, strlen(p->name)));
            return FM_EINVAL;
        }
        if (p->lat_e7 < -900000000 || p->lat_e7 > 900000000 || p->lon_e7 < -1800000000 ||
            p->lon_e7 > 1800000000) {
            snprintf(err, errlen, "depot '%s': its place is not a latitude and longitude",
                     p->name);
            return FM_EINVAL;
        }
        if (i > 0 && strcmp(p->name, d->depots[i - 1].name) == 0) {
            snprintf(err, errlen, "depot '%s' is placed twice", p->name);
            return FM_EINVAL;
        }
        if (fm_directory_unit(d, p->name) != NULL) {
            snprintf(err, errlen, "depot '%s' is also a unit: a unit's stock is at its home",
                     p->name);
            return FM_EINVAL;
        }
    }
    return FM_OK;
}

/* ---- the section ---- */

int directory_encode_materials(const struct fm_directory *d, struct fm_buf *out)
{
    size_t len = 4;
    int rc;
    if (d->nmaterials == 0 && d->ndepots == 0)
        return FM_OK;
    for (size_t i = 0; i < d->nmaterials; i++)
        len += 2 + strlen(d->materials[i].kind) + strlen(d->materials[i].measure);
    for (size_t i = 0; i < d->ndepots; i++)
        len += 1 + strlen(d->depots[i].name) + 8;
    if ((rc = fm_buf_put_u8(out, SEC_MATERIALS)) || (rc = fm_buf_put_u32(out, (uint32_t)len)) ||
        (rc = fm_buf_put_u16(out, (uint16_t)d->nmaterials)))
        return rc;
    for (size_t i = 0; i < d->nmaterials; i++) {
        const struct fm_dir_material *m = &d->materials[i];
        size_t kl = strlen(m->kind), ml = strlen(m->measure);
        if ((rc = fm_buf_put_u8(out, (uint8_t)kl)) || (rc = fm_buf_append(out, m->kind, kl)) ||
            (rc = fm_buf_put_u8(out, (uint8_t)ml)) || (rc = fm_buf_append(out, m->measure, ml)))
            return rc;
    }
    if ((rc = fm_buf_put_u16(out, (uint16_t)d->ndepots)))
        return rc;
    for (size_t i = 0; i < d->ndepots; i++) {
        const struct fm_dir_depot *p = &d->depots[i];
        size_t nl = strlen(p->name);
        if ((rc = fm_buf_put_u8(out, (uint8_t)nl)) || (rc = fm_buf_append(out, p->name, nl)) ||
            (rc = fm_buf_put_u32(out, (uint32_t)p->lat_e7)) ||
            (rc = fm_buf_put_u32(out, (uint32_t)p->lon_e7)))
            return rc;
    }
    return FM_OK;
}

int directory_decode_materials(struct fm_cur *c, struct fm_directory *d)
{
    uint16_t nm, nd;
    char err[160];
    if (fm_cur_u16(c, &nm) || nm > FM_DIR_MAX_MATERIALS)
        return FM_EDECODE;
    for (size_t i = 0; i < nm; i++) {
        struct fm_dir_material *m = &d->materials[i];
        if (directory_get_str8(c, m->kind, sizeof m->kind) ||
            directory_get_str8(c, m->measure, sizeof m->measure))
            return FM_EDECODE;
        if (i > 0 && strcmp(m->kind, d->materials[i - 1].kind) <= 0)
            return FM_EDECODE; /* one canonical form: ascending, each once */
    }
    if (fm_cur_u16(c, &nd) || nd > FM_DIR_MAX_DEPOTS || (nm == 0 && nd == 0))
        return FM_EDECODE; /* an empty section is not written */
    for (size_t i = 0; i < nd; i++) {
        struct fm_dir_depot *p = &d->depots[i];
        uint32_t lat, lon;
        if (directory_get_str8(c, p->name, sizeof p->name) || fm_cur_u32(c, &lat) ||
            fm_cur_u32(c, &lon))
            return FM_EDECODE;
        p->lat_e7 = (int32_t)lat;
        p->lon_e7 = (int32_t)lon;
        if (i > 0 && strcmp(p->name, d->depots[i - 1].name) <= 0)
            return FM_EDECODE;
    }
    d->nmaterials = nm;
    d->ndepots = nd;
    return directory_materials_normalise(d, err, sizeof err) == FM_OK ? FM_OK : FM_EDECODE;
}
