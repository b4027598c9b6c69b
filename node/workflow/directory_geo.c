/*
 * directory_geo.c — county boundaries in the directory: the optional
 * sections of format version 2, their limits, and which county holds a
 * point.
 *
 * Version 2 is version 1's body followed by sections, in increasing tag
 * order, each at most once, running to the end of the blob:
 *
 *   u8 tag | u32 len | len bytes
 *
 * A tag below 0x80 must be understood: a decoder that does not know it
 * refuses the whole version (the node keeps the previous directory, as a
 * version-1 node does with any version 2). A tag of 0x80 or above may be
 * skipped by a decoder that does not know it: for data that changes
 * nothing a node decides (docs/decisions.md). Version 2 with no section is
 * refused: a directory without boundaries has exactly one form, version 1.
 *
 * Tag 2 (linkage plan levels) is format version 3's (directory_levels.c);
 * version 3 must carry it and version 2 must not.
 *
 * Tag 1, boundaries:
 *   u16 nrings { u8 county | u16 npoints | npoints x (i32 lat_e7 | i32 lon_e7) }
 * rings grouped by county in nondecreasing county order; each ring open
 * (last point differs from the first), at least 3 points; the limits of
 * workflow.h per county and in total.
 */
#include "workflow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC_BOUNDARIES 1
#define SEC_LEVELS 2 /* format version 3 (directory_levels.c) */
#define SEC_MAY_SKIP 0x80
#define SEC_ALIASES 0x81 /* directory_aliases.c */
#define SEC_DUPS 0x82    /* directory_dups.c */
#define SEC_MATERIALS 0x83 /* directory_materials.c */
#define SEC_KEYS 0x84      /* directory_keys.c */

int fm_directory_format(const struct fm_directory *d)
{
    /* aliases need the sections of version 2, but no newer reader */
    return directory_has_levels(d)                                           ? 3
           : d->nrings > 0 || d->naliases > 0 || directory_has_dups(d) || d->nmaterials > 0 ||
                   d->ndepots > 0 || directory_has_keys(d)
               ? 2
               : 1;
}

/* ---- limits and canonical order ---- */

static int ring_cmp(const void *a, const void *b)
{
    const struct fm_dir_ring *x = a, *y = b;
    if (x->county != y->county)
        return x->county < y->county ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first; /* stable: file order */
}

static bool coord_ok(const struct fm_dir_point *p)
{
    return p->lat_e7 >= -FM_LAT_MAX && p->lat_e7 <= FM_LAT_MAX && p->lon_e7 >= -FM_LON_MAX &&
           p->lon_e7 <= FM_LON_MAX;
}

static int check_ring(const struct fm_directory *d, const struct fm_dir_ring *r)
{
    if (r->county >= d->ncounties || r->npoints < 3 || r->first > d->npoints ||
        r->npoints > d->npoints - r->first)
        return FM_EINVAL;
    const struct fm_dir_point *p = &d->points[r->first];
    if (p[0].lat_e7 == p[r->npoints - 1].lat_e7 && p[0].lon_e7 == p[r->npoints - 1].lon_e7)
        return FM_EINVAL;
    for (uint32_t i = 0; i < r->npoints; i++)
        if (!coord_ok(&p[i]))
            return FM_EINVAL;
    return FM_OK;
}

int fm_directory_boundaries_normalise(struct fm_directory *d, char *err, size_t errlen)
{
    if (d->nrings > FM_DIR_MAX_RINGS || d->npoints > FM_DIR_MAX_POINTS) {
        snprintf(err, errlen, "too many boundary rings or points (at most %d rings, %d points)",
                 FM_DIR_MAX_RINGS, FM_DIR_MAX_POINTS);
        return FM_EINVAL;
    }
    size_t total = 0;
    for (size_t i = 0; i < d->nrings; i++) {
        if (check_ring(d, &d->rings[i]) != FM_OK) {
            snprintf(err, errlen, "boundary ring %zu is not a ring of at least 3 points in range",
                     i + 1);
            return FM_EINVAL;
        }
        total += d->rings[i].npoints;
    }
    if (total != d->npoints) { /* rings must share no point and leave none out */
        snprintf(err, errlen, "boundary rings hold %zu points, not %zu", total, d->npoints);
        return FM_EINVAL;
    }
    qsort(d->rings, d->nrings, sizeof d->rings[0], ring_cmp);
    /* points in ring order too, so the encoding has one form */
    struct fm_dir_point *tmp = malloc(d->npoints * sizeof *tmp + 1);
    if (tmp == NULL)
        return FM_ENOMEM;
    size_t at = 0;
    for (size_t i = 0; i < d->nrings; i++) {
        memcpy(&tmp[at], &d->points[d->rings[i].first], d->rings[i].npoints * sizeof *tmp);
        d->rings[i].first = (uint32_t)at;
        at += d->rings[i].npoints;
    }
    memcpy(d->points, tmp, at * sizeof *tmp);
    d->npoints = at;
    free(tmp);
    for (size_t i = 0, start = 0; i <= d->nrings; i++) {
        if (i < d->nrings && d->rings[i].county == d->rings[start].county)
            continue;
        size_t pts = 0;
        for (size_t k = start; k < i; k++)
            pts += d->rings[k].npoints;
        if (i - start > FM_DIR_MAX_RINGS_PER_COUNTY || pts > FM_DIR_MAX_POINTS_PER_COUNTY) {
            snprintf(err, errlen, "county '%s': boundary has %zu rings and %zu points "
                     "(at most %d and %d)", d->counties[d->rings[start].county], i - start, pts,
                     FM_DIR_MAX_RINGS_PER_COUNTY, FM_DIR_MAX_POINTS_PER_COUNTY);
            return FM_EINVAL;
        }
        start = i;
    }
    return FM_OK;
}

/* ---- encode ---- */

int directory_encode_sections(const struct fm_directory *d, struct fm_buf *out)
{
    int rc;
    size_t len = 2 + d->nrings * 3 + d->npoints * 8;
    if (d->nrings == 0) {
        if ((rc = directory_encode_levels(d, out)) != FM_OK ||
            (rc = directory_encode_aliases(d, out)) != FM_OK ||
            (rc = directory_encode_dups(d, out)) != FM_OK)
            return rc;
        if ((rc = directory_encode_materials(d, out)) != FM_OK)
            return rc;
        return directory_encode_keys(d, out);
    }
    if ((rc = fm_buf_put_u8(out, SEC_BOUNDARIES)) || (rc = fm_buf_put_u32(out, (uint32_t)len)) ||
        (rc = fm_buf_put_u16(out, (uint16_t)d->nrings)))
        return rc;
    for (size_t i = 0; i < d->nrings; i++) {
        const struct fm_dir_ring *r = &d->rings[i];
        if ((rc = fm_buf_put_u8(out, (uint8_t)r->county)) ||
            (rc = fm_buf_put_u16(out, (uint16_t)r->npoints)))
            return rc;
        for (uint32_t k = 0; k < r->npoints; k++) {
            const struct fm_dir_point *p = &d->points[r->first + k];
            if ((rc = fm_buf_put_u32(out, (uint32_t)p->lat_e7)) ||
                (rc = fm_buf_put_u32(out, (uint32_t)p->lon_e7)))
                return rc;
        }
    }
    if ((rc = directory_encode_levels(d, out)) != FM_OK ||
        (rc = directory_encode_aliases(d, out)) != FM_OK ||
        (rc = directory_encode_dups(d, out)) != FM_OK)
        return rc;
    if ((rc = directory_encode_materials(d, out)) != FM_OK)
        return rc;
    return directory_encode_keys(d, out);
}

/* ---- decode ---- */

static int decode_boundaries(struct fm_cur *c, struct fm_directory *d)
{
    uint16_t nr;
    char err[8];
    if (fm_cur_u16(c, &nr) || nr == 0 || nr > FM_DIR_MAX_RINGS)
        return FM_EDECODE;
    for (size_t i = 0; i < nr; i++) {
        struct fm_dir_ring *r = &d->rings[i];
        uint8_t county;
        uint16_t np;
        if (fm_cur_u8(c, &county) || fm_cur_u16(c, &np) || county >= d->ncounties ||
            (i > 0 && county < d->rings[i - 1].county) || np > FM_DIR_MAX_POINTS - d->npoints ||
            fm_cur_left(c) / 8 < np)
            return FM_EDECODE;
        r->county = county;
        r->first = (uint32_t)d->npoints;
        r->npoints = np;
        for (size_t k = 0; k < np; k++) {
            uint32_t lat, lon;
            if (fm_cur_u32(c, &lat) || fm_cur_u32(c, &lon))
                return FM_EDECODE;
            d->points[d->npoints].lat_e7 = (int32_t)lat;
            d->points[d->npoints].lon_e7 = (int32_t)lon;
            d->npoints++;
        }
        d->nrings = i + 1;
    }
    /* the encoder's own checks: ranges, open rings, per-county limits */
    return fm_directory_boundaries_normalise(d, err, sizeof err) == FM_OK ? FM_OK : FM_EDECODE;
}

int directory_decode_sections(struct fm_cur *c, struct fm_directory *d, uint8_t version)
{
    int last = -1;
    bool levels = false;
    if (fm_cur_left(c) == 0)
        return FM_EDECODE; /* version 2 without a section: that directory is version 1 */
    while (fm_cur_left(c) > 0) {
        uint8_t tag;
        uint32_t len;
        const uint8_t *body;
        if (fm_cur_u8(c, &tag) || (int)tag <= last || fm_cur_u32(c, &len) ||
            fm_cur_bytes(c, len, &body))
            return FM_EDECODE;
        last = tag;
        struct fm_cur s;
        fm_cur_init(&s, body, len);
        if (tag == SEC_BOUNDARIES) {
            if (decode_boundaries(&s, d) != FM_OK || fm_cur_left(&s) != 0)
                return FM_EDECODE;
        } else if (tag == SEC_LEVELS && version >= 3) {
            if (directory_decode_levels(&s, d) != FM_OK || fm_cur_left(&s) != 0)
                return FM_EDECODE;
            levels = true;
        } else if (tag == SEC_ALIASES) {
            if (directory_decode_aliases(&s, d) != FM_OK || fm_cur_left(&s) != 0)
                return FM_EDECODE;
        } else if (tag == SEC_DUPS) {
            if (directory_decode_dups(&s, d) != FM_OK || fm_cur_left(&s) != 0)
                return FM_EDECODE;
        } else if (tag == SEC_MATERIALS) {
            if (directory_decode_materials(&s, d) != FM_OK || fm_cur_left(&s) != 0)
                return FM_EDECODE;
        } else if (tag == SEC_KEYS) {
            if (directory_decode_keys(&s, d) != FM_OK || fm_cur_left(&s) != 0)
                return FM_EDECODE;
        } else if (!(tag & SEC_MAY_SKIP)) {
            return FM_EDECODE; /* must be understood, and we do not */
        } else {
            d->nskipped++;
        }
    }
    /* one form per directory: version 3 is a directory with levels */
    return (version >= 3) == levels ? FM_OK : FM_EDECODE;
}

/* ---- which county holds a point ---- */

/* Ray casting: does a ray from the point towards +lon cross the edge? */
static bool crosses(const struct fm_dir_point *a, const struct fm_dir_point *b, int32_t lat,
                    int32_t lon)
{
    if ((a->lat_e7 > lat) == (b->lat_e7 > lat))
        return false;
    double t = ((double)lat - a->lat_e7) / ((double)b->lat_e7 - a->lat_e7);
    double x = a->lon_e7 + t * ((double)b->lon_e7 - a->lon_e7);
    return (double)lon < x;
}

static bool in_ring(const struct fm_directory *d, const struct fm_dir_ring *r, int32_t lat,
                    int32_t lon)
{
    bool in = false;
    const struct fm_dir_point *p = &d->points[r->first];
    for (uint32_t i = 0, j = r->npoints - 1; i < r->npoints; j = i++)
        if (crosses(&p[j], &p[i], lat, lon))
            in = !in;
    return in;
}

int fm_directory_county_at(const struct fm_directory *d, int32_t lat_e7, int32_t lon_e7)
{
    for (size_t i = 0; d != NULL && i < d->nrings;) {
        uint16_t county = d->rings[i].county;
        bool in = false;
        for (; i < d->nrings && d->rings[i].county == county; i++)
            if (in_ring(d, &d->rings[i], lat_e7, lon_e7))
                in = !in;
        if (in)
            return county;
    }
    return -1;
}
