/*
 * fuzz_directory_blob.c — libFuzzer target for the directory's canonical
 * binary form (node/workflow/directory.c, directory_geo.c): the bytes of
 * a published version, assembled from ops any enrolled admin or centre
 * node wrote. Nothing may crash, leak or read out of bounds; decoding is
 * a function of the bytes; what is accepted has exactly one form (encoding
 * it again gives the same bytes, version byte included; with sections it
 * may skip, the bytes without them, which decode to the same) and its
 * boundaries answer point-in-county questions without trouble.
 *
 * The structs (3.4 MB each) are allocated once: a fresh one per input
 * spent most of the time faulting in pages and ran ~60 inputs a second.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/workflow/workflow_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fm_directory *d, *again;
    struct fm_buf b;
    if (d == NULL && ((d = malloc(sizeof *d)) == NULL || (again = malloc(sizeof *again)) == NULL))
        __builtin_trap();
    if (directory_decode(d, data, size) == FM_OK) {
        if (d->nskipped == 0 && fm_directory_format(d) != data[0])
            __builtin_trap();
        fm_buf_init(&b, (size_t)1 << 21);
        if (directory_encode(d, &b) != FM_OK)
            __builtin_trap();
        if (d->nskipped == 0 && (b.len != size || memcmp(b.data, data, size) != 0))
            __builtin_trap();
        if (d->nskipped > 0) {
            /* what this build read is encoded without the sections it skipped */
            if (b.len >= size || directory_decode(again, b.data, b.len) != FM_OK)
                __builtin_trap();
            again->nskipped = d->nskipped;
            if (memcmp(again, d, sizeof *d) != 0)
                __builtin_trap();
        }
        fm_buf_release(&b);
        for (size_t i = 0; i < d->npoints && i < 8; i++) {
            int c = fm_directory_county_at(d, d->points[i].lat_e7 + 1, d->points[i].lon_e7 + 1);
            if (c < -1 || c >= (int)d->ncounties)
                __builtin_trap();
        }
    }
    return 0;
}
