/*
 * fuzz_gps_json.c — libFuzzer target for the gpsd JSON decoder
 * (node/gps_json.c): the input is one line as gpsd (or anything listening
 * on its port) might send it. Nothing may crash or read out of bounds; a
 * refused line leaves the output zeroed; an accepted TPV's values are in
 * their ranges; and decoding is a function of the bytes (the same line
 * decodes the same way twice).
 */
#include <stdint.h>
#include <string.h>

#include "node/gps/gps_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gps_msg a, b;
    static const struct gps_msg zero;
    int rc = gps_json_decode(&a, (const char *)data, size);
    if (rc != FM_OK && rc != FM_EDECODE)
        __builtin_trap();
    if (rc != FM_OK && memcmp(&a, &zero, sizeof a) != 0)
        __builtin_trap();
    if (rc == FM_OK && a.cls == GPS_CLASS_TPV) {
        const struct gps_tpv *t = &a.tpv;
        if (t->mode < 0 || t->mode > 3 || t->lat < -90 || t->lat > 90 || t->lon < -180 ||
            t->lon > 180 || (t->has_eph && !(t->eph_m >= 0)) ||
            (t->has_track && !(t->track_deg >= 0 && t->track_deg <= 360)) ||
            memchr(t->device, '\0', sizeof t->device) == NULL)
            __builtin_trap();
    }
    if (memchr(a.message, '\0', sizeof a.message) == NULL)
        __builtin_trap();
    if (gps_json_decode(&b, (const char *)data, size) != rc || memcmp(&a, &b, sizeof a) != 0)
        __builtin_trap();
    return 0;
}
