/*
 * fileio.c — the text form of the small files crypto/ reads and writes
 * (secret keys, public keys, certificates, revocations): "<magic>\n<base64>\n",
 * base64 and the printable-text check used for names in certificates. The
 * files themselves go through base/file.c. Base64 is libsodium's, ORIGINAL
 * variant (standard alphabet, padded), which rejects non-canonical
 * trailing bits, so every byte string has exactly one text.
 */
#include "crypto_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fm_text_wrap(struct fm_buf *out, const char *magic, const uint8_t *data, size_t len)
{
    size_t b64len = fm_base64_encoded_len(len);
    char *b64 = malloc(b64len);
    if (!b64)
        return FM_ENOMEM;
    fm_base64_encode(b64, b64len, data, len);
    int rc = fm_buf_append(out, magic, strlen(magic));
    if (rc == FM_OK)
        rc = fm_buf_put_u8(out, '\n');
    if (rc == FM_OK)
        rc = fm_buf_append(out, b64, strlen(b64));
    if (rc == FM_OK)
        rc = fm_buf_put_u8(out, '\n');
    free(b64);
    return rc;
}

static bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int fm_text_unwrap(const uint8_t *text, size_t text_len, const char *magic, uint8_t *out,
                   size_t cap, size_t *outlen)
{
    size_t mlen = strlen(magic);
    if (text_len < mlen + 1 || memcmp(text, magic, mlen) != 0 || text[mlen] != '\n')
        return FM_EDECODE;
    const uint8_t *b = text + mlen + 1;
    size_t blen = text_len - mlen - 1;
    while (blen > 0 && is_space(b[blen - 1]))
        blen--;
    if (blen == 0)
        return FM_EDECODE;
    int rc = fm_base64_decode(out, cap, outlen, (const char *)b, blen);
    return rc == FM_ETOOBIG ? FM_EDECODE : rc;
}

/* ---- base64 ---- */

size_t fm_base64_encoded_len(size_t n)
{
    return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
}

void fm_base64_encode(char *out, size_t cap, const uint8_t *in, size_t n)
{
    if (cap == 0)
        return;
    if (cap < fm_base64_encoded_len(n)) {
        out[0] = '\0';
        return;
    }
    sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_ORIGINAL);
}

int fm_base64_decode(uint8_t *out, size_t cap, size_t *outlen, const char *in, size_t inlen)
{
    size_t bin_len = 0;
    *outlen = 0;
    if (inlen == 0)
        return FM_OK;
    if (sodium_base642bin(out, cap, in, inlen, NULL, &bin_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) == 0) {
        *outlen = bin_len;
        return FM_OK;
    }
    /* Padded base64 of inlen chars holds at most inlen / 4 * 3 bytes; if
     * that fits cap, the failure was invalid text. Otherwise decode into a
     * scratch buffer to tell "valid but too big" from "invalid". */
    size_t tmp_cap = inlen / 4 * 3 + 3;
    if (inlen / 4 * 3 <= cap)
        return FM_EDECODE;
    uint8_t *tmp = malloc(tmp_cap);
    if (!tmp)
        return FM_ENOMEM;
    int ok = sodium_base642bin(tmp, tmp_cap, in, inlen, NULL, &bin_len, NULL,
                               sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(tmp, tmp_cap);
    free(tmp);
    return ok == 0 ? FM_ETOOBIG : FM_EDECODE;
}

/* ---- printable UTF-8 ---- */

bool fm_name_ok(const uint8_t *p, size_t n)
{
    return n >= 1 && n < FM_NAME_MAX && fm_text_printable(p, n) &&
           fm_utf8_chars((const char *)p, n) <= FM_NAME_CHARS;
}

bool fm_text_printable(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t need;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            cp = c & 0x1fu;
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            cp = c & 0x0fu;
            need = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            cp = c & 0x07u;
            need = 3;
        } else {
            return false; /* continuation byte, overlong lead, or > U+10FFFF */
        }
        if (n - i - 1 < need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xc0u) != 0x80u)
                return false;
            cp = (cp << 6) | (cc & 0x3fu);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false; /* overlong or out of range */
        if (cp >= 0xd800 && cp <= 0xdfff)
            return false; /* surrogate */
        if (cp >= 0x80 && cp <= 0x9f)
            return false; /* C1 control */
        i += need + 1;
    }
    return true;
}
