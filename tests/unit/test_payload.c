/*
 * test_payload.c — the strict TLV payload codec: round trips for every op
 * kind and every way a payload must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/model/payload_int.h"

#define SET(dst, src) assert_int_equal(fm_strlcpy((dst), (src), sizeof(dst)), FM_OK)

/* ---- raw TLV builder for hostile inputs ---- */
struct raw {
    uint8_t b[8192];
    size_t n;
};

static void raw_field(struct raw *r, uint8_t tag, const void *v, size_t len)
{
    assert_true(r->n + 3 + len <= sizeof r->b);
    r->b[r->n++] = tag;
    r->b[r->n++] = (uint8_t)(len >> 8);
    r->b[r->n++] = (uint8_t)len;
    memcpy(r->b + r->n, v, len);
    r->n += len;
}

static void raw_u8(struct raw *r, uint8_t tag, uint8_t v) { raw_field(r, tag, &v, 1); }
static void raw_u32(struct raw *r, uint8_t tag, uint32_t v)
{
    uint8_t b[4];
    fm_be32_put(b, v);
    raw_field(r, tag, b, 4);
}
static void raw_u64(struct raw *r, uint8_t tag, uint64_t v)
{
    uint8_t b[8];
    fm_be64_put(b, v);
    raw_field(r, tag, b, 8);
}
static void raw_str(struct raw *r, uint8_t tag, const char *s) { raw_field(r, tag, s, strlen(s)); }
static void raw_ref(struct raw *r, uint64_t seq)
{
    uint8_t b[40];
    memset(b, 0xab, 32);
    fm_be64_put(b + 32, seq);
    raw_field(r, PT_REF, b, sizeof b);
}

static int dec(uint8_t kind, const struct raw *r)
{
    struct payload p;
    return payload_decode(&p, kind, r->b, r->n);
}

/* A valid report: category, priority, lat, lon [, address]. */
static void raw_report(struct raw *r, int32_t lat, int32_t lon)
{
    r->n = 0;
    raw_str(r, PT_CATEGORY, "fire");
    raw_u8(r, PT_PRIORITY, 2);
    raw_u32(r, PT_LAT, (uint32_t)lat);
    raw_u32(r, PT_LON, (uint32_t)lon);
}

/* ---- round trips ---- */

static void roundtrip(const struct payload *in, struct payload *out)
{
    struct fm_buf b;
    struct payload check;
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    assert_int_equal(payload_encode(in, &b, &check), FM_OK);
    assert_int_equal(payload_decode(out, in->log.kind, b.data, b.len), FM_OK);
    assert_int_equal(out->present, in->present);
    assert_int_equal(check.present, in->present);
    /* re-encoding the decoded struct gives the same bytes */
    struct fm_buf b2;
    fm_buf_init(&b2, FM_OP_MAX_PAYLOAD);
    assert_int_equal(payload_encode(out, &b2, &check), FM_OK);
    assert_int_equal(b.len, b2.len);
    assert_memory_equal(b.data, b2.data, b.len);
    fm_buf_release(&b);
    fm_buf_release(&b2);
}

static void test_roundtrip_incident(void **state)
{
    (void)state;
    struct payload in = {0}, out;
    in.log.kind = OP_INC_REPORT;
    SET(in.category, "chemical_leak-2");
    in.priority = 1;
    in.lat = -FM_LAT_MAX;
    in.lon = FM_LON_MAX;
    SET(in.address, "Hauptstraße 5, 中山路");
    SET(in.caller, "+86 138 0000 0000");
    SET(in.desc, "smoke 🔥 visible");
    in.present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON) |
                 PT_BIT(PT_ADDRESS) | PT_BIT(PT_CALLER) | PT_BIT(PT_DESC);
    roundtrip(&in, &out);
    assert_string_equal(out.category, in.category);
    assert_int_equal(out.priority, 1);
    assert_int_equal(out.lat, -FM_LAT_MAX);
    assert_int_equal(out.lon, FM_LON_MAX);
    assert_string_equal(out.address, in.address);
    assert_string_equal(out.caller, in.caller);
    assert_string_equal(out.desc, in.desc);

    memset(&in, 0, sizeof in);
    in.log.kind = OP_INC_UPDATE;
    memset(in.ref.author, 7, 32);
    in.ref.seq = 42;
    in.priority = 5;
    in.address[0] = '\0'; /* clearing a field is allowed in an update */
    in.present = PT_BIT(PT_REF) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_ADDRESS);
    roundtrip(&in, &out);
    assert_int_equal(out.ref.seq, 42);
    assert_int_equal(out.ref.author[31], 7);
    assert_int_equal(out.priority, 5);

    memset(&in, 0, sizeof in);
    in.log.kind = OP_INC_NOTE;
    in.ref.seq = 1;
    memset(in.text, 'x', FM_TEXT_MAX - 1);
    in.present = PT_BIT(PT_REF) | PT_BIT(PT_TEXT);
    roundtrip(&in, &out);
    assert_int_equal(strlen(out.text), FM_TEXT_MAX - 1);

    memset(&in, 0, sizeof in);
    in.log.kind = OP_INC_STATUS;
    in.ref.seq = UINT64_MAX;
    in.epoch = UINT32_MAX;
    in.stage = FM_STAGE_CLOSED;
    in.present = PT_BIT(PT_REF) | PT_BIT(PT_EPOCH) | PT_BIT(PT_STAGE);
    roundtrip(&in, &out);
    assert_int_equal(out.epoch, UINT32_MAX);
    assert_int_equal(out.stage, FM_STAGE_CLOSED);
    assert_int_equal(out.ref.seq, UINT64_MAX);
}

static void test_roundtrip_unit_resource(void **state)
{
    (void)state;
    struct payload in = {0}, out;
    in.log.kind = OP_UNIT_REGISTER;
    SET(in.name, "Engine 7");
    SET(in.department, "Fire Dept");
    in.tier = 3;
    SET(in.unit_kind, "fire");
    SET(in.caps, "foam,ladder,water");
    in.present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_TIER) |
                 PT_BIT(PT_UNIT_KIND) | PT_BIT(PT_CAPS);
    roundtrip(&in, &out);
    assert_string_equal(out.caps, "foam,ladder,water");
    assert_int_equal(out.tier, 3);

    memset(&in, 0, sizeof in);
    in.log.kind = OP_UNIT_STATUS;
    in.ref.seq = 3;
    in.unit_status = US_OFFLINE;
    in.present = PT_BIT(PT_REF) | PT_BIT(PT_UNIT_STATUS);
    roundtrip(&in, &out);
    assert_int_equal(out.unit_status, US_OFFLINE);

    memset(&in, 0, sizeof in);
    in.log.kind = OP_UNIT_POSITION;
    in.ref.seq = 3;
    in.lat = 301234567;
    in.lon = -1205678000;
    in.present = PT_BIT(PT_REF) | PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    roundtrip(&in, &out);
    assert_int_equal(out.lat, 301234567);
    assert_int_equal(out.lon, -1205678000);

    memset(&in, 0, sizeof in);
    in.log.kind = OP_RES_ADD;
    SET(in.res_kind, "sandbag");
    SET(in.depot, "North depot");
    in.qty = FM_QTY_MAX;
    in.present = PT_BIT(PT_RES_KIND) | PT_BIT(PT_DEPOT) | PT_BIT(PT_QTY);
    roundtrip(&in, &out);
    assert_int_equal(out.qty, FM_QTY_MAX);

    memset(&in, 0, sizeof in);
    in.log.kind = OP_RES_ADJUST;
    in.ref.seq = 9;
    in.delta = -FM_QTY_MAX;
    in.present = PT_BIT(PT_REF) | PT_BIT(PT_DELTA);
    roundtrip(&in, &out);
    assert_int_equal(out.delta, -FM_QTY_MAX);
}

static void test_roundtrip_cert_revoke(void **state)
{
    (void)state;
    struct fm_identity root = {0}, node = {0};
    assert_int_equal(fm_identity_generate(&root), FM_OK);
    assert_int_equal(fm_identity_generate(&node), FM_OK);
    struct payload in = {0}, out;
    in.log.kind = OP_CERT;
    memcpy(in.log.cert.node, node.pk, FM_PK_LEN);
    SET(in.log.cert.name, "north");
    in.log.cert.role = FM_ROLE_COUNTY;
    in.log.cert.tier = 2;
    in.log.cert.not_before_ms = 1;
    in.log.cert.expires_ms = UINT64_C(1) << 50;
    fm_cert_sign(&in.log.cert, &root);
    roundtrip(&in, &out);
    assert_memory_equal(out.log.cert.node, node.pk, FM_PK_LEN);
    assert_int_equal(fm_cert_check(&out.log.cert, root.pk, 1000), FM_OK);
    char sum[FM_TEXT_MAX];
    payload_summary(&out, sum, sizeof sum);
    assert_non_null(strstr(sum, "cert 'north' county"));

    memset(&in, 0, sizeof in);
    in.log.kind = OP_REVOKE;
    memcpy(in.log.rev.node, node.pk, FM_PK_LEN);
    in.log.rev.last_seq = 17;
    in.log.rev.issued_ms = 5;
    fm_revocation_sign(&in.log.rev, &root);
    roundtrip(&in, &out);
    assert_int_equal(out.log.rev.last_seq, 17);
    assert_int_equal(fm_revocation_check(&out.log.rev, root.pk), FM_OK);
    payload_summary(&out, sum, sizeof sum);
    assert_non_null(strstr(sum, "after seq 17"));

    /* garbage is not a cert / revocation */
    uint8_t junk[10] = {1, 2, 3};
    assert_int_equal(payload_decode(&out, OP_CERT, junk, sizeof junk), FM_EDECODE);
    assert_int_equal(payload_decode(&out, OP_REVOKE, junk, sizeof junk), FM_EDECODE);
    fm_identity_release(&root);
    fm_identity_release(&node);
}

/* ---- rejections ---- */

static void test_reject_tags(void **state)
{
    (void)state;
    struct raw r;
    raw_report(&r, 0, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_OK);

    /* unknown tag */
    raw_report(&r, 0, 0);
    raw_str(&r, 30, "x");
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* known tag not allowed for this kind */
    raw_report(&r, 0, 0);
    raw_str(&r, PT_TEXT, "x");
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* tag 0 */
    r.n = 0;
    raw_u8(&r, 0, 1);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* duplicate tag */
    r.n = 0;
    raw_str(&r, PT_CATEGORY, "fire");
    raw_str(&r, PT_CATEGORY, "fire");
    raw_u8(&r, PT_PRIORITY, 2);
    raw_u32(&r, PT_LAT, 0);
    raw_u32(&r, PT_LON, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* unsorted */
    r.n = 0;
    raw_u8(&r, PT_PRIORITY, 2);
    raw_str(&r, PT_CATEGORY, "fire");
    raw_u32(&r, PT_LAT, 0);
    raw_u32(&r, PT_LON, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* missing required */
    r.n = 0;
    raw_str(&r, PT_CATEGORY, "fire");
    raw_u32(&r, PT_LAT, 0);
    raw_u32(&r, PT_LON, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* lat without lon in an update; update with only a ref */
    r.n = 0;
    raw_ref(&r, 1);
    raw_u32(&r, PT_LAT, 0);
    assert_int_equal(dec(OP_INC_UPDATE, &r), FM_EDECODE);
    r.n = 0;
    raw_ref(&r, 1);
    assert_int_equal(dec(OP_INC_UPDATE, &r), FM_EDECODE);
    raw_u8(&r, PT_PRIORITY, 4);
    assert_int_equal(dec(OP_INC_UPDATE, &r), FM_OK);
    /* unknown kinds */
    assert_int_equal(dec(0, &r), FM_EDECODE);
    assert_int_equal(dec(40, &r), FM_EDECODE);
    assert_int_equal(dec(255, &r), FM_EDECODE);
    /* empty payload for a kind with required fields */
    r.n = 0;
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
}

static void test_reject_truncation_trailing(void **state)
{
    (void)state;
    struct raw full, r;
    struct payload p;
    /* Kinds whose last field is required: every proper prefix must fail. */
    const uint8_t kinds[] = {OP_INC_NOTE, OP_INC_STATUS, OP_UNIT_POSITION, OP_RES_ADJUST,
                             OP_INC_REPORT};
    for (size_t k = 0; k < sizeof kinds; k++) {
        full.n = 0;
        switch (kinds[k]) {
        case OP_INC_NOTE: raw_ref(&full, 5); raw_str(&full, PT_TEXT, "hello there"); break;
        case OP_INC_STATUS:
            raw_ref(&full, 5); raw_u32(&full, PT_EPOCH, 1); raw_u8(&full, PT_STAGE, 2); break;
        case OP_UNIT_POSITION:
            raw_ref(&full, 5); raw_u32(&full, PT_LAT, 5); raw_u32(&full, PT_LON, 6); break;
        case OP_RES_ADJUST: raw_ref(&full, 5); raw_u64(&full, PT_DELTA, 3); break;
        default: raw_report(&full, 1, 2); break;
        }
        assert_int_equal(payload_decode(&p, kinds[k], full.b, full.n), FM_OK);
        for (size_t len = 0; len < full.n; len++)
            assert_int_equal(payload_decode(&p, kinds[k], full.b, len), FM_EDECODE);
        /* trailing bytes: one stray byte, or a stray partial header */
        r = full;
        r.b[r.n++] = 0x00;
        assert_int_equal(dec(kinds[k], &r), FM_EDECODE);
        r = full;
        r.b[r.n++] = 0x1f;
        r.b[r.n++] = 0x00;
        assert_int_equal(dec(kinds[k], &r), FM_EDECODE);
    }
    /* a length field pointing past the end */
    r.n = 0;
    raw_ref(&r, 5);
    raw_str(&r, PT_TEXT, "abc");
    r.b[r.n - 4] = 0x10; /* len 0x1003 */
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
}

/* causal LWW: the base an edit carries (docs/field-sync.md §6) */
static void test_base_field(void **state)
{
    (void)state;
    struct raw r;
    struct payload p, out;
    /* accepted on the edits of an existing entity's LWW fields */
    r.n = 0;
    raw_ref(&r, 2);
    raw_str(&r, PT_ADDRESS, "east gate");
    raw_u64(&r, PT_BASE, UINT64_C(1) << 56);
    assert_int_equal(payload_decode(&p, OP_INC_UPDATE, r.b, r.n), FM_OK);
    assert_true(p.present & PT_BIT(PT_BASE));
    assert_true(p.log.base == UINT64_C(1) << 56);
    roundtrip(&p, &out);
    assert_true(out.log.base == p.log.base);
    r.n = 0;
    raw_ref(&r, 3);
    raw_u8(&r, PT_UNIT_STATUS, 1);
    raw_u64(&r, PT_BASE, (uint64_t)INT64_MAX);
    assert_int_equal(dec(OP_UNIT_STATUS, &r), FM_OK);
    r.n = 0;
    raw_ref(&r, 3);
    raw_u32(&r, PT_LAT, 1);
    raw_u32(&r, PT_LON, 1);
    raw_u64(&r, PT_BASE, 1);
    assert_int_equal(dec(OP_UNIT_POSITION, &r), FM_OK);
    /* refused: zero (absent has one encoding), past the cap, wrong width */
    uint64_t bad[] = {0, (uint64_t)INT64_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r.n = 0;
        raw_ref(&r, 2);
        raw_str(&r, PT_ADDRESS, "x");
        raw_u64(&r, PT_BASE, bad[i]);
        assert_int_equal(dec(OP_INC_UPDATE, &r), FM_EDECODE);
    }
    r.n = 0;
    raw_ref(&r, 2);
    raw_str(&r, PT_ADDRESS, "x");
    raw_u32(&r, PT_BASE, 5);
    assert_int_equal(dec(OP_INC_UPDATE, &r), FM_EDECODE);
    /* an update that changes nothing but names a base changes nothing */
    r.n = 0;
    raw_ref(&r, 2);
    raw_u64(&r, PT_BASE, 5);
    assert_int_equal(dec(OP_INC_UPDATE, &r), FM_EDECODE);
    /* not on kinds that create an entity, nor on a plain unit.register */
    raw_report(&r, 0, 0);
    raw_u64(&r, PT_BASE, 5);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    r.n = 0;
    raw_str(&r, PT_NAME, "Engine 1");
    raw_str(&r, PT_DEPARTMENT, "fire");
    raw_u8(&r, PT_TIER, 1);
    raw_str(&r, PT_UNIT_KIND, "engine");
    raw_u64(&r, PT_BASE, 5);
    assert_int_equal(dec(OP_UNIT_REGISTER, &r), FM_EDECODE);
    r.n = 0;
    raw_ref(&r, 2);
    raw_str(&r, PT_TEXT, "note");
    raw_u64(&r, PT_BASE, 5);
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
}

static void test_reject_widths_ranges(void **state)
{
    (void)state;
    struct raw r;
    /* coordinates */
    raw_report(&r, FM_LAT_MAX, -FM_LON_MAX);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_OK);
    raw_report(&r, FM_LAT_MAX + 1, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    raw_report(&r, -FM_LAT_MAX - 1, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    raw_report(&r, 0, FM_LON_MAX + 1);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    raw_report(&r, 0, INT32_MIN);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* wrong fixed widths */
    r.n = 0;
    raw_str(&r, PT_CATEGORY, "fire");
    raw_u32(&r, PT_PRIORITY, 2);
    raw_u32(&r, PT_LAT, 0);
    raw_u32(&r, PT_LON, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    r.n = 0;
    raw_str(&r, PT_CATEGORY, "fire");
    raw_u8(&r, PT_PRIORITY, 2);
    raw_u64(&r, PT_LAT, 0);
    raw_u32(&r, PT_LON, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    r.n = 0;
    raw_field(&r, PT_REF, "short", 5);
    raw_str(&r, PT_TEXT, "x");
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
    /* integer ranges */
    uint8_t bad_prio[] = {0, 6, 255};
    for (size_t i = 0; i < sizeof bad_prio; i++) {
        r.n = 0;
        raw_str(&r, PT_CATEGORY, "fire");
        raw_u8(&r, PT_PRIORITY, bad_prio[i]);
        raw_u32(&r, PT_LAT, 0);
        raw_u32(&r, PT_LON, 0);
        assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    }
    r.n = 0;
    raw_ref(&r, 0); /* seq 0 names nothing */
    raw_str(&r, PT_TEXT, "x");
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
    r.n = 0;
    raw_ref(&r, 1);
    raw_u32(&r, PT_EPOCH, 0);
    raw_u8(&r, PT_STAGE, FM_STAGE_CLOSED + 1);
    assert_int_equal(dec(OP_INC_STATUS, &r), FM_EDECODE);
    r.n = 0;
    raw_ref(&r, 1);
    raw_u8(&r, PT_UNIT_STATUS, US__COUNT);
    assert_int_equal(dec(OP_UNIT_STATUS, &r), FM_EDECODE);
    for (int tier = 0; tier <= 4; tier += 4) {
        r.n = 0;
        raw_str(&r, PT_NAME, "a");
        raw_str(&r, PT_DEPARTMENT, "b");
        raw_u8(&r, PT_TIER, (uint8_t)tier);
        raw_str(&r, PT_UNIT_KIND, "c");
        assert_int_equal(dec(OP_UNIT_REGISTER, &r), FM_EDECODE);
    }
    r.n = 0;
    raw_str(&r, PT_RES_KIND, "pump");
    raw_str(&r, PT_DEPOT, "d");
    raw_u64(&r, PT_QTY, (uint64_t)-1);
    assert_int_equal(dec(OP_RES_ADD, &r), FM_EDECODE);
    r.n = 0;
    raw_str(&r, PT_RES_KIND, "pump");
    raw_str(&r, PT_DEPOT, "d");
    raw_u64(&r, PT_QTY, (uint64_t)FM_QTY_MAX + 1);
    assert_int_equal(dec(OP_RES_ADD, &r), FM_EDECODE);
    int64_t bad_delta[] = {0, FM_QTY_MAX + 1, -FM_QTY_MAX - 1, INT64_MIN};
    for (size_t i = 0; i < sizeof bad_delta / sizeof bad_delta[0]; i++) {
        r.n = 0;
        raw_ref(&r, 1);
        raw_u64(&r, PT_DELTA, (uint64_t)bad_delta[i]);
        assert_int_equal(dec(OP_RES_ADJUST, &r), FM_EDECODE);
    }
}

static void note_with(struct raw *r, const void *text, size_t n)
{
    r->n = 0;
    raw_ref(r, 1);
    raw_field(r, PT_TEXT, text, n);
}

static void test_reject_strings(void **state)
{
    (void)state;
    struct raw r;
    char big[2048];
    /* category: charset and length */
    const char *bad_cat[] = {"Fire", "fi re", "", "fire!", "feu\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_cat / sizeof bad_cat[0]; i++) {
        r.n = 0;
        raw_str(&r, PT_CATEGORY, bad_cat[i]);
        raw_u8(&r, PT_PRIORITY, 2);
        raw_u32(&r, PT_LAT, 0);
        raw_u32(&r, PT_LON, 0);
        assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    }
    memset(big, 'a', sizeof big);
    r.n = 0;
    raw_field(&r, PT_CATEGORY, big, FM_CATEGORY_MAX - 1);
    raw_u8(&r, PT_PRIORITY, 2);
    raw_u32(&r, PT_LAT, 0);
    raw_u32(&r, PT_LON, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_OK);
    r.n = 0;
    raw_field(&r, PT_CATEGORY, big, FM_CATEGORY_MAX);
    raw_u8(&r, PT_PRIORITY, 2);
    raw_u32(&r, PT_LAT, 0);
    raw_u32(&r, PT_LON, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* overlong texts */
    raw_report(&r, 0, 0);
    raw_field(&r, PT_ADDRESS, big, FM_ADDRESS_MAX - 1);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_OK);
    raw_report(&r, 0, 0);
    raw_field(&r, PT_ADDRESS, big, FM_ADDRESS_MAX);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    raw_report(&r, 0, 0);
    raw_field(&r, PT_CALLER, big, FM_PHONE_MAX);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    note_with(&r, big, FM_TEXT_MAX - 1);
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_OK);
    note_with(&r, big, FM_TEXT_MAX);
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
    note_with(&r, big, 0);
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
    /* control characters and bad UTF-8 */
    const char *bad_text[] = {"a\x01z", "tab\there", "nl\n", "del\x7f", "nul",
                              "\xc2\x80 C1", "\xff", "\xc0\xaf overlong", "\xed\xa0\x80 surrogate",
                              "\xe4\xb8 cut", "\xf4\x90\x80\x80 >10ffff", "\x80 lone"};
    for (size_t i = 0; i < sizeof bad_text / sizeof bad_text[0]; i++) {
        size_t n = strlen(bad_text[i]);
        if (i == 4) { /* embedded NUL */
            note_with(&r, "a\0b", 3);
        } else {
            note_with(&r, bad_text[i], n);
        }
        assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
    }
    const char *good_text[] = {"plain", "é中🔥", "\xf4\x8f\xbf\xbf", "~ !\"#"};
    for (size_t i = 0; i < sizeof good_text / sizeof good_text[0]; i++) {
        note_with(&r, good_text[i], strlen(good_text[i]));
        assert_int_equal(dec(OP_INC_NOTE, &r), FM_OK);
    }
    /* every position of a long text, so the 8-bytes-at-a-time ASCII check
     * sees the byte at each offset of a word and in the tail: the edges of
     * printable ASCII pass, every control byte, DEL, C1 and stray
     * continuation bytes are refused, a bad byte after an allowed one too */
    const uint8_t bad_bytes[] = {0x00, 0x01, 0x09, 0x1f, 0x7f, 0x80, 0xbf, 0xff};
    const uint8_t edge_ok[] = {0x20, 0x21, 0x7e, 0x60};
    char line[40];
    for (size_t pos = 0; pos < sizeof line; pos++) {
        for (size_t b = 0; b < sizeof bad_bytes; b++) {
            memset(line, 'a', sizeof line);
            line[pos] = (char)bad_bytes[b];
            note_with(&r, line, sizeof line);
            assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
            if (pos + 1 < sizeof line) { /* an allowed edge byte just before it */
                line[pos + 1] = (char)bad_bytes[b];
                line[pos] = ' ';
                note_with(&r, line, sizeof line);
                assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
            }
        }
        for (size_t b = 0; b < sizeof edge_ok; b++) {
            memset(line, '~', sizeof line);
            line[pos] = (char)edge_ok[b];
            note_with(&r, line, sizeof line);
            assert_int_equal(dec(OP_INC_NOTE, &r), FM_OK);
        }
    }
    /* a multi-byte character straddling a word boundary */
    memset(line, 'a', sizeof line);
    memcpy(line + 6, "\xe4\xb8\xad", 3);
    note_with(&r, line, sizeof line);
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_OK);
    line[7] = 'a'; /* cut in the middle */
    note_with(&r, line, sizeof line);
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
    /* capabilities: sorted, unique, tokens */
    const char *bad_caps[] = {"b,a", "a,a", "a,,b", ",a", "a,", "A", "a b"};
    for (size_t i = 0; i < sizeof bad_caps / sizeof bad_caps[0]; i++) {
        r.n = 0;
        raw_str(&r, PT_NAME, "a");
        raw_str(&r, PT_DEPARTMENT, "b");
        raw_u8(&r, PT_TIER, 1);
        raw_str(&r, PT_UNIT_KIND, "c");
        raw_str(&r, PT_CAPS, bad_caps[i]);
        assert_int_equal(dec(OP_UNIT_REGISTER, &r), FM_EDECODE);
    }
    r.n = 0;
    raw_str(&r, PT_NAME, "a");
    raw_str(&r, PT_DEPARTMENT, "b");
    raw_u8(&r, PT_TIER, 1);
    raw_str(&r, PT_UNIT_KIND, "c");
    raw_str(&r, PT_CAPS, "a,ab,b");
    assert_int_equal(dec(OP_UNIT_REGISTER, &r), FM_OK);
}

static void test_encode_refuses_bad_values(void **state)
{
    (void)state;
    struct payload in = {0}, check;
    struct fm_buf b;
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    in.log.kind = OP_INC_REPORT;
    SET(in.category, "Fire");
    in.priority = 2;
    in.present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON);
    assert_int_equal(payload_encode(&in, &b, &check), FM_EINVAL);
    SET(in.category, "fire");
    in.lat = FM_LAT_MAX + 1;
    assert_int_equal(payload_encode(&in, &b, &check), FM_EINVAL);
    in.lat = 0;
    assert_int_equal(payload_encode(&in, &b, &check), FM_OK);
    in.present |= PT_BIT(PT_TEXT); /* not allowed in a report */
    assert_int_equal(payload_encode(&in, &b, &check), FM_EINVAL);
    in.log.kind = 99;
    assert_int_equal(payload_encode(&in, &b, &check), FM_EINVAL);
    fm_buf_release(&b);
}

static void test_id_format(void **state)
{
    (void)state;
    const uint64_t seqs[] = {0, 1, 9, 10, 99, 100, 12345, 4294967296ULL, UINT64_MAX};
    uint8_t pk[FM_PK_LEN];
    char key[FM_KEY_TEXT_LEN], want[64], id[FM_ID_MAX];
    for (size_t i = 0; i < FM_PK_LEN; i++)
        pk[i] = (uint8_t)(37 * i + 11);
    fm_key_encode(pk, key);
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        snprintf(want, sizeof want, "%.8s-%llu", key, (unsigned long long)seqs[i]);
        fm_op_id_format(pk, seqs[i], id);
        assert_string_equal(id, want);
    }
}

static void test_caps_canonical_and_summary(void **state)
{
    (void)state;
    char out[FM_TEXT_MAX];
    assert_int_equal(payload_caps_canonical("water, ladder,foam,water", out, sizeof out), FM_OK);
    assert_string_equal(out, "foam,ladder,water");
    assert_int_equal(payload_caps_canonical(NULL, out, sizeof out), FM_OK);
    assert_string_equal(out, "");
    assert_int_equal(payload_caps_canonical("a,,b", out, sizeof out), FM_EINVAL);
    assert_int_equal(payload_caps_canonical("Ladder", out, sizeof out), FM_EINVAL);
    assert_int_equal(payload_caps_canonical("abc,def", out, 5), FM_EINVAL);

    struct payload p = {0};
    char sum[FM_TEXT_MAX];
    p.log.kind = OP_INC_REPORT;
    SET(p.category, "fire");
    p.priority = 2;
    p.lat = 301234000;
    p.lon = 1205678000;
    SET(p.address, "Main St 5");
    payload_summary(&p, sum, sizeof sum);
    assert_string_equal(sum, "report fire p2 @30.1234000,120.5678000 'Main St 5'");
    p.lat = -5;
    p.address[0] = '\0';
    payload_summary(&p, sum, sizeof sum);
    assert_string_equal(sum, "report fire p2 @-0.0000005,120.5678000");
    char tiny[8];
    payload_summary(&p, tiny, sizeof tiny);
    assert_string_equal(tiny, "report ");
    assert_string_equal(payload_kind_name(OP_RES_ADJUST), "resource.adjust");
    assert_string_equal(payload_kind_name(77), "unknown");

    char id[FM_ID_MAX];
    uint8_t pk[FM_PK_LEN] = {0};
    fm_op_id_format(pk, 17, id);
    assert_string_equal(id, "aaaaaaaa-17");
    fm_op_id_format(pk, UINT64_MAX, id);
    assert_string_equal(id, "aaaaaaaa-18446744073709551615");
}

/* Op format 2: PT_OPERATOR (tag 32, the first past the old 32-bit
 * bitmap) on every TLV kind, printable text 1..63 bytes. */
static void test_operator_field(void **state)
{
    (void)state;
    struct payload in = {0}, out;
    struct raw r;
    char s[80];
    /* round trips on a report and on a ticket step, with a Chinese name */
    in.log.kind = OP_INC_REPORT;
    SET(in.category, "fire");
    in.priority = 2;
    in.present = PT_BIT(PT_CATEGORY) | PT_BIT(PT_PRIORITY) | PT_BIT(PT_LAT) | PT_BIT(PT_LON) |
                 PT_BIT(PT_OPERATOR);
    SET(in.log.operator_name, "\xe5\xbc\xa0\xe4\xbc\x9f"); /* 张伟 */
    roundtrip(&in, &out);
    assert_string_equal(out.log.operator_name, "\xe5\xbc\xa0\xe4\xbc\x9f");
    assert_true(out.present & PT_BIT(PT_OPERATOR));
    assert_true((out.present >> 32) == 1); /* the bit above the old bitmap */
    memset(&in, 0, sizeof in);
    in.log.kind = OP_TICKET_STEP;
    in.ref.seq = in.ref2.seq = in.ref3.seq = 1;
    in.epoch = 1;
    in.code = TS_CANCEL;
    in.present = PT_BIT(PT_REF) | PT_BIT(PT_EPOCH) | PT_BIT(PT_REF2) | PT_BIT(PT_REF3) |
                 PT_BIT(PT_CODE) | PT_BIT(PT_FLAGS) | PT_BIT(PT_OPERATOR);
    SET(in.log.operator_name, "dispatcher-7");
    roundtrip(&in, &out);
    assert_string_equal(out.log.operator_name, "dispatcher-7");
    /* allowed on every TLV kind: a bulletin read receipt as well */
    r.n = 0;
    raw_ref(&r, 3);
    raw_str(&r, PT_OPERATOR, "a");
    assert_int_equal(dec(OP_BULLETIN_READ, &r), FM_OK);
    /* ... but never on a trust op, which carries no TLV */
    assert_int_equal(dec(OP_CERT, &r), FM_EDECODE);
    /* bounds: 63 bytes yes, 64 and 0 no */
    memset(s, 'x', sizeof s);
    raw_report(&r, 0, 0);
    raw_field(&r, PT_OPERATOR, s, FM_OP_OPERATOR_MAX - 1);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_OK);
    raw_report(&r, 0, 0);
    raw_field(&r, PT_OPERATOR, s, FM_OP_OPERATOR_MAX);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    raw_report(&r, 0, 0);
    raw_field(&r, PT_OPERATOR, s, 0);
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* not printable: a control character, DEL, broken UTF-8 */
    static const char *const bad[] = {"ab\ncd", "ab\x7f", "\x01", "ab\xe5\xbc", "\xc0\xaf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        raw_report(&r, 0, 0);
        raw_str(&r, PT_OPERATOR, bad[i]);
        assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    }
    /* it must come last (tags ascending), once */
    r.n = 0;
    raw_ref(&r, 1);
    raw_str(&r, PT_OPERATOR, "a");
    raw_str(&r, PT_TEXT, "note");
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
    r.n = 0;
    raw_ref(&r, 1);
    raw_str(&r, PT_TEXT, "note");
    raw_str(&r, PT_OPERATOR, "a");
    raw_str(&r, PT_OPERATOR, "b");
    assert_int_equal(dec(OP_INC_NOTE, &r), FM_EDECODE);
    /* tags past it stay unknown (what an older node does with 32 today) */
    raw_report(&r, 0, 0);
    raw_str(&r, PT__MAX + 1, "a");
    assert_int_equal(dec(OP_INC_REPORT, &r), FM_EDECODE);
    /* an operator alone is no edit */
    r.n = 0;
    raw_ref(&r, 1);
    raw_str(&r, PT_OPERATOR, "a");
    assert_int_equal(dec(OP_INC_UPDATE, &r), FM_EDECODE);
    /* the encoder refuses what the decoder would */
    memset(&in, 0, sizeof in);
    in.log.kind = OP_BULLETIN_READ;
    in.ref.seq = 1;
    in.present = PT_BIT(PT_REF) | PT_BIT(PT_OPERATOR);
    SET(in.log.operator_name, "tab\there");
    struct fm_buf b;
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    assert_int_equal(payload_encode(&in, &b, &out), FM_EINVAL);
    fm_buf_release(&b);
}

/* Op format 7: a name is at most 64 characters (FM_NAME_CHARS), up to 255
 * bytes; builds before it took 63 bytes, so a node still writing an older
 * format refuses to encode a longer name rather than write an op its peers
 * would refuse. */
static void test_long_names(void **state)
{
    (void)state;
    struct payload in = {0}, out;
    struct fm_buf b;
    struct payload check;
    char name64[64 * 3 + 1] = "", name65[65 * 3 + 1] = "";
    for (int i = 0; i < 64; i++)
        strcat(name64, "\xe5\xa9\xba"); /* 婺 */
    snprintf(name65, sizeof name65, "%s\xe5\xa9\xba", name64);
    in.log.kind = OP_UNIT_REGISTER;
    SET(in.name, name64);
    SET(in.department, name64);
    in.tier = 1;
    SET(in.unit_kind, "engine");
    in.present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_TIER) | PT_BIT(PT_UNIT_KIND);
    in.log.format = 7;
    roundtrip(&in, &out);
    assert_string_equal(out.name, name64);
    assert_string_equal(out.department, name64);
    /* at op format 6 the same op is refused at encode (FM_ECONFIG) ... */
    fm_buf_init(&b, FM_OP_MAX_PAYLOAD);
    in.log.format = 6;
    assert_int_equal(payload_encode(&in, &b, &check), FM_ECONFIG);
    /* ... while a name of 63 bytes, which every build takes, is not */
    memset(in.name, 'x', 63);
    in.name[63] = '\0';
    memcpy(in.department, name64, 63); /* 21 characters */
    in.department[63] = '\0';
    assert_int_equal(payload_encode(&in, &b, &check), FM_OK);
    /* a 64-byte depot is refused at format 6 as well */
    memset(&in, 0, sizeof in);
    in.log.kind = OP_RES_ADD;
    in.log.format = 6;
    SET(in.res_kind, "sandbag");
    memset(in.depot, 'd', 64);
    in.qty = 1;
    in.present = PT_BIT(PT_RES_KIND) | PT_BIT(PT_DEPOT) | PT_BIT(PT_QTY);
    assert_int_equal(payload_encode(&in, &b, &check), FM_ECONFIG);
    in.log.format = 7;
    assert_int_equal(payload_encode(&in, &b, &check), FM_OK);
    /* a certificate announced for another node, with a 64-character name */
    memset(&in, 0, sizeof in);
    in.log.kind = OP_CERT_ANNOUNCE;
    in.log.format = 6;
    memset(in.log.cert.node, 7, sizeof in.log.cert.node);
    SET(in.log.cert.name, name64);
    in.log.cert.role = FM_ROLE_STATION;
    in.log.cert.expires_ms = 1;
    assert_int_equal(payload_encode(&in, &b, &check), FM_ECONFIG);
    in.log.format = 7;
    assert_int_equal(payload_encode(&in, &b, &check), FM_OK);
    /* 65 characters: refused at encode whatever the format, and at decode */
    memset(&in, 0, sizeof in);
    in.log.kind = OP_UNIT_REGISTER;
    in.log.format = 7;
    SET(in.name, name65);
    SET(in.department, "F");
    in.tier = 1;
    SET(in.unit_kind, "engine");
    in.present = PT_BIT(PT_NAME) | PT_BIT(PT_DEPARTMENT) | PT_BIT(PT_TIER) | PT_BIT(PT_UNIT_KIND);
    assert_int_not_equal(payload_encode(&in, &b, &check), FM_OK);
    fm_buf_release(&b);
    struct raw r = {0};
    raw_str(&r, PT_NAME, name65);
    raw_str(&r, PT_DEPARTMENT, "F");
    raw_u8(&r, PT_TIER, 1);
    raw_str(&r, PT_UNIT_KIND, "engine");
    assert_int_equal(dec(OP_UNIT_REGISTER, &r), FM_EDECODE);
    /* 64 characters but 256 bytes (four-byte characters): over the byte cap */
    char wide[257] = "";
    for (int i = 0; i < 64; i++)
        strcat(wide, "\xf0\x9f\x9a\x92"); /* U+1F692, a fire engine */
    r.n = 0;
    raw_str(&r, PT_NAME, wide);
    raw_str(&r, PT_DEPARTMENT, "F");
    raw_u8(&r, PT_TIER, 1);
    raw_str(&r, PT_UNIT_KIND, "engine");
    assert_int_equal(dec(OP_UNIT_REGISTER, &r), FM_EDECODE);
    /* and the 64-character one decodes */
    r.n = 0;
    raw_str(&r, PT_NAME, name64);
    raw_str(&r, PT_DEPARTMENT, "F");
    raw_u8(&r, PT_TIER, 1);
    raw_str(&r, PT_UNIT_KIND, "engine");
    assert_int_equal(dec(OP_UNIT_REGISTER, &r), FM_OK);
}

int main(void)
{
    if (fm_crypto_init() != FM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_incident),
        cmocka_unit_test(test_roundtrip_unit_resource),
        cmocka_unit_test(test_roundtrip_cert_revoke),
        cmocka_unit_test(test_reject_tags),
        cmocka_unit_test(test_reject_truncation_trailing),
        cmocka_unit_test(test_reject_widths_ranges),
        cmocka_unit_test(test_base_field),
        cmocka_unit_test(test_reject_strings),
        cmocka_unit_test(test_encode_refuses_bad_values),
        cmocka_unit_test(test_caps_canonical_and_summary),
        cmocka_unit_test(test_id_format),
        cmocka_unit_test(test_operator_field),
        cmocka_unit_test(test_long_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
