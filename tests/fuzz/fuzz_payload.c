/*
 * fuzz_payload.c — feeds arbitrary bytes to the strict payload decoder.
 * Input: one byte of op kind, then the payload. Beyond "no crash", it
 * traps when a promise breaks: a refusal is always FM_EDECODE; anything
 * that decodes has NUL-terminated strings inside their arrays, and for
 * TLV kinds re-encoding the decoded struct gives back exactly the input
 * (the format has one encoding per value, so this is a strictness check:
 * a decoder that tolerated slack would fail it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/model/payload_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t cap)
{
    if (memchr(s, 0, cap) == NULL)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static struct payload p, again;
    if (!ready) {
        if (fm_crypto_init() != FM_OK)
            abort();
        ready = 1;
    }
    if (size < 1)
        return 0;
    uint8_t kind = data[0];
    int rc = payload_decode(&p, kind, data + 1, size - 1);
    if (rc != FM_OK) {
        if (rc != FM_EDECODE || p.present != 0)
            __builtin_trap();
        return 0;
    }
    check_str(p.category, sizeof p.category);
    check_str(p.address, sizeof p.address);
    check_str(p.caller, sizeof p.caller);
    check_str(p.desc, sizeof p.desc);
    check_str(p.text, sizeof p.text);
    check_str(p.name, sizeof p.name);
    check_str(p.department, sizeof p.department);
    check_str(p.unit_kind, sizeof p.unit_kind);
    check_str(p.caps, sizeof p.caps);
    check_str(p.res_kind, sizeof p.res_kind);
    check_str(p.depot, sizeof p.depot);
    check_str(p.log.operator_name, sizeof p.log.operator_name);
    if ((p.present & PT_BIT(PT_LAT)) && (p.lat < -FM_LAT_MAX || p.lat > FM_LAT_MAX))
        __builtin_trap();
    if ((p.present & PT_BIT(PT_LON)) && (p.lon < -FM_LON_MAX || p.lon > FM_LON_MAX))
        __builtin_trap();

    char sum[FM_TEXT_MAX];
    payload_summary(&p, sum, sizeof sum);
    check_str(sum, sizeof sum);

    struct fm_buf b;
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    rc = payload_encode(&p, &b, &again);
    if (rc != FM_OK)
        __builtin_trap();
    if (kind != OP_CERT && kind != OP_REVOKE &&
        (b.len != size - 1 || memcmp(b.data, data + 1, b.len) != 0))
        __builtin_trap();
    if (again.present != p.present)
        __builtin_trap();
    fm_buf_release(&b);
    return 0;
}
