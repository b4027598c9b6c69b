/*
 * test_crypto_trust.c — unit tests for crypto/'s trust objects and files: roles,
 * certificates and revocations (round trip, foreign org, expiry,
 * tampering, truncation at every length), printable text, key text,
 * identity files and their permissions. Random inputs come from a seeded
 * PRNG; the seed is printed and can be replayed with FM_SEED=<n>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static const char fm_test_name[] = "test_crypto_trust";
#include "crypto_test_util.h"

/* ---- roles and certificates ---- */

static void test_roles(void **state)
{
    (void)state;
    static const char *names[] = {"centre", "county", "station", "vehicle", "admin"};
    for (int r = FM_ROLE_CENTRE; r <= FM_ROLE_ADMIN; r++) {
        assert_string_equal(fm_role_name((enum fm_role)r), names[r - 1]);
        enum fm_role out = FM_ROLE_NONE;
        assert_int_equal(fm_role_parse(names[r - 1], &out), FM_OK);
        assert_int_equal(out, r);
    }
    assert_string_equal(fm_role_name(FM_ROLE_NONE), "?");
    assert_string_equal(fm_role_name((enum fm_role)6), "?");
    enum fm_role out = FM_ROLE_ADMIN;
    assert_int_equal(fm_role_parse("none", &out), FM_EINVAL);
    assert_int_equal(fm_role_parse("Centre", &out), FM_EINVAL);
    assert_int_equal(fm_role_parse("", &out), FM_EINVAL);
    assert_int_equal(fm_role_parse(NULL, &out), FM_EINVAL);
    assert_int_equal(out, FM_ROLE_ADMIN);
}

static void test_cert_round_trip_and_check(void **state)
{
    (void)state;
    struct fm_identity root = {0}, other = {0}, node_id = {0};
    assert_int_equal(fm_identity_generate(&root), FM_OK);
    assert_int_equal(fm_identity_generate(&other), FM_OK);
    assert_int_equal(fm_identity_generate(&node_id), FM_OK);
    struct fm_cert c, d;
    make_cert(&c, &root, &node_id);
    assert_memory_equal(c.org, root.pk, FM_PK_LEN);
    struct fm_buf b;
    fm_buf_init(&b, FM_CERT_MAX);
    assert_int_equal(fm_cert_encode(&c, &b), FM_OK);
    assert_true(b.len <= FM_CERT_MAX);
    assert_int_equal(fm_cert_decode(&d, b.data, b.len), FM_OK);
    assert_memory_equal(d.org, c.org, FM_PK_LEN);
    assert_memory_equal(d.node, c.node, FM_PK_LEN);
    assert_string_equal(d.name, c.name);
    assert_string_equal(d.unit, c.unit);
    assert_int_equal(d.role, c.role);
    assert_int_equal(d.tier, c.tier);
    assert_true(d.not_before_ms == c.not_before_ms && d.expires_ms == c.expires_ms);
    assert_memory_equal(d.sig, c.sig, FM_SIG_LEN);

    uint64_t t = 1800000000000ULL;
    assert_int_equal(fm_cert_check(&d, root.pk, t), FM_OK);
    assert_int_equal(fm_cert_check(&d, root.pk, c.not_before_ms), FM_OK);
    assert_int_equal(fm_cert_check(&d, other.pk, t), FM_EFOREIGN);
    assert_int_equal(fm_cert_check(&d, root.pk, c.expires_ms), FM_EEXPIRED);
    assert_int_equal(fm_cert_check(&d, root.pk, c.expires_ms + 1), FM_EEXPIRED);
    assert_int_equal(fm_cert_check(&d, root.pk, c.not_before_ms - 1), FM_EEXPIRED);

    /* A cert signed by another root but claiming our org. */
    struct fm_cert forged;
    make_cert(&forged, &other, &node_id);
    memcpy(forged.org, root.pk, FM_PK_LEN);
    assert_int_equal(fm_cert_check(&forged, root.pk, t), FM_EVERIFY);

    /* Tampered fields. */
    d.tier = 3;
    assert_int_equal(fm_cert_check(&d, root.pk, t), FM_EVERIFY);
    d = c;
    d.role = FM_ROLE_ADMIN;
    assert_int_equal(fm_cert_check(&d, root.pk, t), FM_EVERIFY);
    d = c;
    d.expires_ms++;
    assert_int_equal(fm_cert_check(&d, root.pk, t), FM_EVERIFY);
    d = c;
    d.name[0] = 'e';
    assert_int_equal(fm_cert_check(&d, root.pk, t), FM_EVERIFY);

    /* Every flipped byte of the encoding: rejected by decode or check. */
    uint8_t *m = malloc(b.len);
    assert_non_null(m);
    for (size_t i = 0; i < b.len; i++) {
        memcpy(m, b.data, b.len);
        m[i] ^= 0x20;
        if (fm_cert_decode(&d, m, b.len) == FM_OK)
            assert_int_not_equal(fm_cert_check(&d, root.pk, t), FM_OK);
    }
    /* Strict length: every truncation and a trailing byte. */
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(fm_cert_decode(&d, b.data, n), FM_EDECODE);
    assert_int_equal(fm_buf_put_u8(&b, 0), FM_OK);
    assert_int_equal(fm_cert_decode(&d, b.data, b.len), FM_EDECODE);
    assert_int_equal(d.role, FM_ROLE_NONE); /* zeroed on failure */
    assert_int_equal(fm_cert_decode(&d, NULL, 0), FM_EDECODE);

    /* The signature covers the domain prefix, not just the body. */
    fm_buf_reset(&b);
    assert_int_equal(fm_cert_encode(&c, &b), FM_OK);
    assert_false(fm_verify(root.pk, b.data, b.len - FM_SIG_LEN, c.sig));

    free(m);
    fm_buf_release(&b);
    fm_identity_release(&root);
    fm_identity_release(&other);
    fm_identity_release(&node_id);
}

/* Mutates one field of an encoded cert and expects decode to refuse. */
static void test_cert_decode_strict_fields(void **state)
{
    (void)state;
    struct fm_identity root = {0};
    assert_int_equal(fm_identity_generate(&root), FM_OK);
    struct fm_cert c, d;
    make_cert(&c, &root, &root);
    assert_int_equal(fm_strlcpy(c.name, "abc", sizeof c.name), FM_OK);
    assert_int_equal(fm_strlcpy(c.unit, "xy", sizeof c.unit), FM_OK);
    struct fm_buf b;
    fm_buf_init(&b, FM_CERT_MAX);
    assert_int_equal(fm_cert_encode(&c, &b), FM_OK);
    /* offsets: version 0, org 1, node 33, role 65, tier 66, name_len 67,
     * name 68..70, unit_len 71, unit 72..73, not_before 74, expires 82 */
    assert_int_equal(b.len, 90 + FM_SIG_LEN);
    uint8_t m[FM_CERT_MAX];
    struct { size_t off; uint8_t val; } bad[] = {
        {0, 0}, {0, 2}, {65, 0}, {65, 6}, {65, 255}, {66, 4}, {67, 0}, {67, 2}, {67, 4},
        {68, 0}, {68, '\n'}, {69, 0x7f}, {70, 0x80}, {70, 0xc3}, {71, 1}, {71, 3},
        {72, 0}, {73, 0x1b}, {74, 0xff}, /* not_before > expires */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(m, b.data, b.len);
        m[bad[i].off] = bad[i].val;
        assert_int_equal(fm_cert_decode(&d, m, b.len), FM_EDECODE);
    }
    /* Valid mutations still decode (shows the offsets above are right). */
    memcpy(m, b.data, b.len);
    m[66] = 0;
    m[68] = 'Z';
    assert_int_equal(fm_cert_decode(&d, m, b.len), FM_OK);
    assert_string_equal(d.name, "Zbc");
    assert_int_equal(d.tier, 0);

    /* Encode refuses invalid fields. */
    struct fm_buf e;
    fm_buf_init(&e, FM_CERT_MAX);
    struct fm_cert x = c;
    x.name[0] = '\0';
    assert_int_equal(fm_cert_encode(&x, &e), FM_EINVAL);
    x = c;
    x.role = FM_ROLE_NONE;
    assert_int_equal(fm_cert_encode(&x, &e), FM_EINVAL);
    x = c;
    x.tier = 4;
    assert_int_equal(fm_cert_encode(&x, &e), FM_EINVAL);
    x = c;
    x.unit[0] = '\t';
    assert_int_equal(fm_cert_encode(&x, &e), FM_EINVAL);
    x = c;
    memset(x.name, 'a', sizeof x.name); /* not terminated */
    assert_int_equal(fm_cert_encode(&x, &e), FM_EINVAL);
    x = c;
    x.not_before_ms = x.expires_ms + 1;
    assert_int_equal(fm_cert_encode(&x, &e), FM_EINVAL);
    fm_cert_sign(&x, &root); /* invalid fields: signature never verifies */
    assert_int_equal(fm_cert_check(&x, root.pk, x.expires_ms - 5), FM_EVERIFY);
    /* Longest name and unit fit FM_CERT_MAX: a name of 64 characters in
     * 255 bytes (63 four-byte characters and a Chinese one), a unit of 255
     * bytes (a unit's name, its stable id or "dept:" and a department's). */
    x = c;
    for (size_t i = 0; i < 63; i++)
        memcpy(x.name + 4 * i, "\xf0\x9d\x84\x9e", 4); /* U+1D11E */
    memcpy(x.name + 252, "婺", 4);
    memset(x.unit, 'u', FM_NAME_MAX - 1);
    x.unit[FM_NAME_MAX - 1] = '\0';
    fm_cert_sign(&x, &root);
    assert_int_equal(fm_cert_encode(&x, &e), FM_OK);
    assert_int_equal(e.len, 659);
    assert_int_equal(fm_cert_decode(&d, e.data, e.len), FM_OK);
    assert_int_equal(fm_cert_check(&d, root.pk, x.not_before_ms), FM_OK);
    assert_int_equal(fm_utf8_chars(d.name, strlen(d.name)), 64);
    /* 64 Chinese characters are a name; 65 are not, to encode or decode */
    x = c;
    for (size_t i = 0; i < 64; i++)
        memcpy(x.name + 3 * i, "消", 3);
    x.name[192] = '\0';
    fm_cert_sign(&x, &root);
    fm_buf_reset(&e);
    assert_int_equal(fm_cert_encode(&x, &e), FM_OK);
    assert_int_equal(fm_cert_decode(&d, e.data, e.len), FM_OK);
    assert_string_equal(d.name, x.name);
    memcpy(x.name + 192, "防", 4);
    assert_int_equal(fm_cert_encode(&x, &e), FM_EINVAL);
    {
        /* the bytes a careless encoder would write: name_len 195 */
        uint8_t raw[FM_CERT_MAX];
        size_t at = 67;
        memcpy(raw, e.data, at);
        raw[at++] = 195;
        memcpy(raw + at, x.name, 195);
        at += 195;
        memcpy(raw + at, e.data + 67 + 1 + 192, e.len - (67 + 1 + 192));
        at += e.len - (67 + 1 + 192);
        assert_int_equal(fm_cert_decode(&d, raw, at), FM_EDECODE);
        raw[67] = 192; /* and back to 64 characters: decodes */
        memmove(raw + 68 + 192, raw + 68 + 195, at - (68 + 195));
        assert_int_equal(fm_cert_decode(&d, raw, at - 3), FM_OK);
    }
    fm_buf_release(&e);
    fm_buf_release(&b);
    fm_identity_release(&root);
}

static void test_printable_text(void **state)
{
    (void)state;
    struct { const char *s; bool ok; } cases[] = {
        {"Engine 7", true},
        {"Feuerwache Süd", true},
        {"救援", true},
        {"\xf0\x9f\x9a\x92", true},        /* U+1F692 fire engine */
        {"a\tb", false},
        {"\x7f", false},
        {"\xc2\x85", false},                /* C1 NEL */
        {"\xc0\xaf", false},                /* overlong */
        {"\xe0\x80\xaf", false},            /* overlong */
        {"\xed\xa0\x80", false},            /* surrogate */
        {"\xf4\x90\x80\x80", false},        /* > U+10FFFF */
        {"\xe2\x82", false},                /* truncated */
        {"\x80", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(fm_text_printable((const uint8_t *)cases[i].s, strlen(cases[i].s)),
                         cases[i].ok);
    assert_false(fm_text_printable((const uint8_t *)"a\0b", 3));
    assert_true(fm_text_printable((const uint8_t *)"", 0));
}

static void test_revocation(void **state)
{
    (void)state;
    struct fm_identity root = {0}, other = {0};
    assert_int_equal(fm_identity_generate(&root), FM_OK);
    assert_int_equal(fm_identity_generate(&other), FM_OK);
    struct fm_revocation r = {0}, d;
    rng_fill(r.node, FM_PK_LEN);
    r.last_seq = 17;
    r.issued_ms = 1800000000000ULL;
    fm_revocation_sign(&r, &root);
    struct fm_buf b;
    fm_buf_init(&b, FM_CERT_MAX);
    assert_int_equal(fm_revocation_encode(&r, &b), FM_OK);
    assert_int_equal(fm_revocation_decode(&d, b.data, b.len), FM_OK);
    assert_memory_equal(&d, &r, sizeof r);
    assert_int_equal(fm_revocation_check(&d, root.pk), FM_OK);
    assert_int_equal(fm_revocation_check(&d, other.pk), FM_EFOREIGN);
    d.last_seq = 18;
    assert_int_equal(fm_revocation_check(&d, root.pk), FM_EVERIFY);

    for (size_t bit = 0; bit < b.len * 8; bit++) {
        uint8_t m[145];
        memcpy(m, b.data, b.len);
        m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (fm_revocation_decode(&d, m, b.len) == FM_OK)
            assert_int_not_equal(fm_revocation_check(&d, root.pk), FM_OK);
    }
    for (size_t n = 0; n < b.len; n++)
        assert_int_equal(fm_revocation_decode(&d, b.data, n), FM_EDECODE);
    assert_int_equal(fm_buf_put_u8(&b, 0), FM_OK);
    assert_int_equal(fm_revocation_decode(&d, b.data, b.len), FM_EDECODE);
    b.data[0] = 2;
    assert_int_equal(fm_revocation_decode(&d, b.data, b.len - 1), FM_EDECODE);

    /* A revocation signature is not a certificate signature and vice versa. */
    struct fm_cert c;
    make_cert(&c, &root, &other);
    struct fm_revocation fake = {0};
    memcpy(fake.node, c.node, FM_PK_LEN);
    memcpy(fake.sig, c.sig, FM_SIG_LEN);
    memcpy(fake.org, root.pk, FM_PK_LEN);
    assert_int_equal(fm_revocation_check(&fake, root.pk), FM_EVERIFY);

    fm_buf_release(&b);
    fm_identity_release(&root);
    fm_identity_release(&other);
}

static void test_cert_and_revocation_files(void **state)
{
    (void)state;
    struct fm_identity root = {0};
    assert_int_equal(fm_identity_generate(&root), FM_OK);
    struct fm_cert c, d;
    make_cert(&c, &root, &root);
    char path[256], rpath[256];
    path_in_tmp(path, sizeof path, "node.cert");
    path_in_tmp(rpath, sizeof rpath, "node.rev");
    assert_int_equal(fm_cert_write_file(&c, path), FM_OK);
    assert_int_equal(fm_cert_read_file(&d, path), FM_OK);
    assert_memory_equal(&c, &d, sizeof c);
    assert_int_equal(fm_cert_check(&d, root.pk, c.not_before_ms), FM_OK);
    /* overwrite is allowed for certificates */
    assert_int_equal(fm_cert_write_file(&c, path), FM_OK);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[600];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "fieldmesh-cert 1\n");
    fclose(f);

    struct fm_revocation r = {0}, rd;
    memcpy(r.node, root.pk, FM_PK_LEN);
    r.last_seq = 3;
    fm_revocation_sign(&r, &root);
    assert_int_equal(fm_revocation_write_file(&r, rpath), FM_OK);
    assert_int_equal(fm_revocation_read_file(&rd, rpath), FM_OK);
    assert_memory_equal(&r, &rd, sizeof r);
    /* The wrong kind of file. */
    assert_int_equal(fm_cert_read_file(&d, rpath), FM_EDECODE);
    assert_int_equal(fm_revocation_read_file(&rd, path), FM_EDECODE);

    char missing[256];
    path_in_tmp(missing, sizeof missing, "no-dir/x.cert");
    assert_int_equal(fm_cert_write_file(&c, missing), FM_EIO);
    assert_int_equal(fm_revocation_write_file(&r, missing), FM_EIO);
    path_in_tmp(missing, sizeof missing, "nope.cert");
    assert_int_equal(fm_cert_read_file(&d, missing), FM_ENOTFOUND);
    assert_int_equal(fm_revocation_read_file(&rd, missing), FM_ENOTFOUND);
    write_raw(path, "fieldmesh-cert 1\nAAAA\n", 0644);
    assert_int_equal(fm_cert_read_file(&d, path), FM_EDECODE);
    write_raw(path, "fieldmesh-cert 1\n!!!!\n", 0644);
    assert_int_equal(fm_cert_read_file(&d, path), FM_EDECODE);
    write_raw(path, "fieldmesh-cert 2\nAAAA\n", 0644);
    assert_int_equal(fm_cert_read_file(&d, path), FM_EDECODE);
    write_raw(path, "", 0644);
    assert_int_equal(fm_cert_read_file(&d, path), FM_EDECODE);
    unlink(path);
    unlink(rpath);
    fm_identity_release(&root);
}

/* ---- key text ---- */

static void test_key_text(void **state)
{
    (void)state;
    /* the short tag is the key text's prefix, for every first-5-byte pattern
     * the PRNG gives and the extremes */
    for (int i = 0; i < 1000; i++) {
        uint8_t pk[FM_PK_LEN];
        char full[FM_KEY_TEXT_LEN], tag[FM_KEY_TAG_LEN + 1];
        rng_fill(pk, sizeof pk);
        if (i == 0)
            memset(pk, 0, sizeof pk);
        if (i == 1)
            memset(pk, 0xff, sizeof pk);
        fm_key_encode(pk, full);
        fm_key_tag(pk, tag);
        assert_int_equal(strlen(tag), FM_KEY_TAG_LEN);
        assert_memory_equal(tag, full, FM_KEY_TAG_LEN);
    }
    uint8_t pk[FM_PK_LEN], back[FM_PK_LEN];
    char text[FM_KEY_TEXT_LEN];
    for (int i = 0; i < 200; i++) {
        rng_fill(pk, sizeof pk);
        fm_key_encode(pk, text);
        assert_int_equal(strlen(text), 52);
        for (int k = 0; k < 52; k++)
            assert_true((text[k] >= 'a' && text[k] <= 'z') || (text[k] >= '2' && text[k] <= '7'));
        assert_int_equal(fm_key_decode(text, back), FM_OK);
        assert_memory_equal(pk, back, FM_PK_LEN);
        char upper[FM_KEY_TEXT_LEN];
        for (int k = 0; k < FM_KEY_TEXT_LEN; k++)
            upper[k] = (text[k] >= 'a' && text[k] <= 'z') ? (char)(text[k] - 32) : text[k];
        assert_int_equal(fm_key_decode(upper, back), FM_OK);
        assert_memory_equal(pk, back, FM_PK_LEN);
    }
    memset(pk, 0, sizeof pk);
    fm_key_encode(pk, text);
    assert_string_equal(text, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    memset(pk, 0xff, sizeof pk);
    fm_key_encode(pk, text);
    assert_string_equal(text, "777777777777777777777777777777777777777777777777777q");

    uint8_t keep[FM_PK_LEN];
    memset(back, 0x11, sizeof back);
    memcpy(keep, back, sizeof keep);
    char bad[80];
    assert_int_equal(fm_key_decode("", back), FM_EDECODE);
    assert_int_equal(fm_key_decode(NULL, back), FM_EDECODE);
    memcpy(bad, text, 52);
    bad[51] = '\0'; /* 51 chars */
    assert_int_equal(fm_key_decode(bad, back), FM_EDECODE);
    bad[51] = 'q';
    bad[52] = 'a';
    bad[53] = '\0'; /* 53 chars */
    assert_int_equal(fm_key_decode(bad, back), FM_EDECODE);
    bad[52] = '\n';
    assert_int_equal(fm_key_decode(bad, back), FM_EDECODE);
    bad[52] = '\0';
    assert_int_equal(fm_key_decode(bad, back), FM_OK);
    bad[51] = 'r'; /* trailing unused bits not zero */
    assert_int_equal(fm_key_decode(bad, back), FM_EDECODE);
    bad[51] = 'q';
    const char invalid[] = {'0', '1', '8', '9', '=', ' ', '-', '\xc3'};
    for (size_t i = 0; i < sizeof invalid; i++) {
        char t[FM_KEY_TEXT_LEN];
        memcpy(t, bad, sizeof t);
        t[10] = invalid[i];
        memset(back, 0x11, sizeof back);
        assert_int_equal(fm_key_decode(t, back), FM_EDECODE);
        assert_memory_equal(back, keep, sizeof back);
    }
    /* Every non-zero value of the last character's unused bits. */
    memcpy(bad, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 53);
    for (int v = 0; v < 32; v++) {
        bad[51] = "abcdefghijklmnopqrstuvwxyz234567"[v];
        assert_int_equal(fm_key_decode(bad, back), (v & 15) ? FM_EDECODE : FM_OK);
    }
}

static void test_key_read_file(void **state)
{
    (void)state;
    uint8_t pk[FM_PK_LEN], back[FM_PK_LEN];
    rng_fill(pk, sizeof pk);
    char text[FM_KEY_TEXT_LEN], body[128], path[256];
    fm_key_encode(pk, text);
    path_in_tmp(path, sizeof path, "k.pub");
    snprintf(body, sizeof body, "  %s \r\n\n", text);
    write_raw(path, body, 0644);
    assert_int_equal(fm_key_read_file(path, back), FM_OK);
    assert_memory_equal(pk, back, FM_PK_LEN);
    snprintf(body, sizeof body, "%s x\n", text);
    write_raw(path, body, 0644);
    assert_int_equal(fm_key_read_file(path, back), FM_EDECODE);
    write_raw(path, "", 0644);
    assert_int_equal(fm_key_read_file(path, back), FM_EDECODE);
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_raw(path, big, 0644);
    assert_int_equal(fm_key_read_file(path, back), FM_EDECODE);
    unlink(path);
    assert_int_equal(fm_key_read_file(path, back), FM_ENOTFOUND);
    assert_int_equal(fm_key_read_file(tmpdir, back), FM_EIO); /* a directory */
}

/* ---- identity files ---- */

static void test_identity_save_load(void **state)
{
    (void)state;
    struct fm_identity id = {0}, loaded = {0};
    assert_int_equal(fm_identity_generate(&id), FM_OK);
    char path[256], pub[300];
    path_in_tmp(path, sizeof path, "node.key");
    snprintf(pub, sizeof pub, "%s.pub", path);
    unlink(path);
    unlink(pub);
    assert_int_equal(fm_identity_save(&id, path), FM_OK);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    uint8_t pk[FM_PK_LEN];
    assert_int_equal(fm_key_read_file(pub, pk), FM_OK);
    assert_memory_equal(pk, id.pk, FM_PK_LEN);
    FILE *f = fopen(pub, "r");
    assert_non_null(f);
    char line[100] = {0};
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    char text[FM_KEY_TEXT_LEN];
    fm_key_encode(id.pk, text);
    assert_int_equal(strlen(line), 53);
    assert_memory_equal(line, text, 52);
    assert_int_equal(line[52], '\n');

    assert_int_equal(fm_identity_load(&loaded, path), FM_OK);
    assert_memory_equal(loaded.pk, id.pk, FM_PK_LEN);
    uint8_t sig[FM_SIG_LEN];
    fm_sign(&loaded, "x", 1, sig);
    assert_true(fm_verify(id.pk, "x", 1, sig));
    fm_identity_release(&loaded);

    /* Refuses to overwrite, leaves the original intact. */
    struct fm_identity other = {0};
    assert_int_equal(fm_identity_generate(&other), FM_OK);
    assert_int_equal(fm_identity_save(&other, path), FM_EEXISTS);
    assert_int_equal(fm_identity_load(&loaded, path), FM_OK);
    assert_memory_equal(loaded.pk, id.pk, FM_PK_LEN);
    fm_identity_release(&loaded);
    assert_int_equal(fm_key_read_file(pub, pk), FM_OK);
    assert_memory_equal(pk, id.pk, FM_PK_LEN);

    /* Group/world bits: refused. */
    static const mode_t modes[] = {0644, 0640, 0604, 0610, 0601, 0660};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        assert_int_equal(chmod(path, modes[i]), 0);
        assert_int_equal(fm_identity_load(&loaded, path), FM_EKEYPERM);
        assert_null(loaded.sk);
    }
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(fm_identity_load(&loaded, path), FM_OK);
    fm_identity_release(&loaded);
    unlink(path);
    unlink(pub);
    assert_int_equal(fm_identity_load(&loaded, path), FM_ENOTFOUND);

    struct fm_identity pub_only = {0};
    assert_int_equal(fm_identity_save(&pub_only, path), FM_EINVAL);
    char nodir[300];
    snprintf(nodir, sizeof nodir, "%s/missing-dir/node.key", tmpdir);
    assert_int_equal(fm_identity_save(&id, nodir), FM_EIO);
    fm_identity_release(&other);
    fm_identity_release(&id);
}

static void test_identity_load_malformed(void **state)
{
    (void)state;
    struct fm_identity id = {0}, loaded = {0};
    seed_identity(&id, 7);
    char b64[100];
    fm_base64_encode(b64, sizeof b64, id.sk, FM_SK_LEN);
    char path[256], body[400];
    path_in_tmp(path, sizeof path, "bad.key");

    snprintf(body, sizeof body, "fieldmesh-secret-key 1\n%s\n", b64);
    write_raw(path, body, 0600);
    assert_int_equal(fm_identity_load(&loaded, path), FM_OK); /* the control */
    assert_memory_equal(loaded.pk, id.pk, FM_PK_LEN);
    fm_identity_release(&loaded);

    /* prefix, then the valid base64 or not, then suffix */
    struct { const char *pre; bool key; const char *post; } bodies[] = {
        {"", false, ""},
        {"fieldmesh-secret-key 1\n", false, ""},
        {"fieldmesh-secret-key 2\n", true, "\n"},
        {"fieldmesh-secret-key 1 ", true, "\n"},
        {"fieldmesh-secret-key 1\n", true, "!\n"},
        {"fieldmesh-secret-key 1\n", true, "\nextra\n"},
        {"fieldmesh-secret-key 1\nAAAA\n", false, ""},
        {"\nfieldmesh-secret-key 1\n", true, "\n"},
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        snprintf(body, sizeof body, "%s%s%s", bodies[i].pre, bodies[i].key ? b64 : "",
                 bodies[i].post);
        write_raw(path, body, 0600);
        assert_int_equal(fm_identity_load(&loaded, path), FM_EDECODE);
        assert_null(loaded.sk);
    }
    /* Public half does not match the seed. */
    uint8_t sk[FM_SK_LEN];
    memcpy(sk, id.sk, FM_SK_LEN);
    sk[FM_SK_LEN - 1] ^= 1;
    fm_base64_encode(b64, sizeof b64, sk, FM_SK_LEN);
    snprintf(body, sizeof body, "fieldmesh-secret-key 1\n%s\n", b64);
    write_raw(path, body, 0600);
    assert_int_equal(fm_identity_load(&loaded, path), FM_EDECODE);
    /* Too long. */
    char big[FM_SECRET_FILE_MAX + 10];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_raw(path, big, 0600);
    assert_int_equal(fm_identity_load(&loaded, path), FM_EDECODE);
    unlink(path);
    fm_identity_release(&id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_cert_round_trip_and_check),
        cmocka_unit_test(test_cert_decode_strict_fields),
        cmocka_unit_test(test_printable_text),
        cmocka_unit_test(test_revocation),
        cmocka_unit_test(test_cert_and_revocation_files),
        cmocka_unit_test(test_key_text),
        cmocka_unit_test(test_key_read_file),
        cmocka_unit_test(test_identity_save_load),
        cmocka_unit_test(test_identity_load_malformed),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
