/*
 * groupkey.c — the dispatchers' group key: the org-signed record that
 * seals one symmetric key to every dispatcher node, and the sealed fields
 * (caller name and number) written under it (docs/security.md, "Need to
 * know").
 *
 * The record is made on the org's offline machine, carried in an op by
 * any dispatcher node, and stored and relayed by every node; only a node
 * named in it can open its box, and only the org root can sign one, so a
 * node that injects a key of its own making (to read what dispatchers seal
 * next) is refused at ingest. The key id is a public fingerprint of the
 * key (fm_seal_key_id), so a sealed field names the key it needs without
 * saying anything about it. Decoding is strict (exact length, ascending
 * nodes), so a decoded record re-encodes to the same bytes.
 */
#include "crypto_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define GK_VERSION 1
#define GK_DOMAIN "fieldmesh-groupkey-v1"
#define GK_MAGIC "fieldmesh-dispatch-key 1"
#define GK_FILE_MAX (FM_GROUPKEY_MAX_LEN * 2)
#define SF_VERSION 1
#define SF_DOMAIN "fieldmesh-sealed-field-v1"

static int node_cmp(const void *a, const void *b)
{
    return memcmp(a, b, FM_PK_LEN);
}

/* Everything before the signature, with the domain in front if asked. */
static int gk_body(const struct fm_groupkey *gk, bool with_domain, struct fm_buf *w)
{
    uint8_t head[FM_GROUPKEY_HEAD_LEN], *p = head;
    int rc = FM_OK;
    if (with_domain)
        rc = fm_buf_append(w, GK_DOMAIN, sizeof GK_DOMAIN - 1);
    *p++ = GK_VERSION;
    memcpy(p, gk->org, FM_PK_LEN);
    p += FM_PK_LEN;
    fm_be32_put(p, gk->generation);
    p += 4;
    memcpy(p, gk->key_id, FM_SEAL_KEY_ID_LEN);
    p += FM_SEAL_KEY_ID_LEN;
    fm_be64_put(p, gk->issued_ms);
    p += 8;
    p[0] = (uint8_t)(gk->count >> 8);
    p[1] = (uint8_t)gk->count;
    if (rc == FM_OK)
        rc = fm_buf_append(w, head, sizeof head);
    for (uint16_t i = 0; i < gk->count && rc == FM_OK; i++)
        if ((rc = fm_buf_append(w, gk->to[i].node, FM_PK_LEN)) == FM_OK)
            rc = fm_buf_append(w, gk->to[i].box, FM_SEAL_BOX_LEN);
    return rc;
}

int fm_groupkey_make(struct fm_groupkey *gk, const struct fm_seal_key *k,
                     const uint8_t (*nodes)[FM_PK_LEN], size_t n,
                     const struct fm_identity *root)
{
    uint8_t sorted[FM_GROUPKEY_MAX_TO][FM_PK_LEN];
    size_t m = 0;
    if (n == 0 || n > FM_GROUPKEY_MAX_TO)
        return FM_EINVAL;
    memcpy(sorted, nodes, n * FM_PK_LEN);
    qsort(sorted, n, FM_PK_LEN, node_cmp);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || memcmp(sorted[m - 1], sorted[i], FM_PK_LEN) != 0)
            memmove(sorted[m++], sorted[i], FM_PK_LEN);
    memcpy(gk->org, root->pk, FM_PK_LEN);
    fm_seal_key_id(k, gk->key_id);
    gk->count = (uint16_t)m;
    for (size_t i = 0; i < m; i++) {
        memcpy(gk->to[i].node, sorted[i], FM_PK_LEN);
        if (fm_seal_to_node(gk->to[i].box, sorted[i], k) != FM_OK)
            return FM_EINVAL;
    }
    struct fm_buf w;
    fm_buf_init(&w, FM_GROUPKEY_MAX_LEN + sizeof GK_DOMAIN);
    int rc = gk_body(gk, true, &w);
    if (rc == FM_OK)
        fm_sign(root, w.data, w.len, gk->sig);
    fm_buf_release(&w);
    return rc;
}

int fm_groupkey_encode(const struct fm_groupkey *gk, struct fm_buf *out)
{
    if (gk->count == 0 || gk->count > FM_GROUPKEY_MAX_TO)
        return FM_EINVAL;
    int rc = gk_body(gk, false, out);
    return rc == FM_OK ? fm_buf_append(out, gk->sig, FM_SIG_LEN) : rc;
}

int fm_groupkey_decode(struct fm_groupkey *gk, const uint8_t *p, size_t n)
{
    struct fm_cur c;
    uint8_t version;
    memset(gk, 0, sizeof *gk);
    if (p == NULL || n < FM_GROUPKEY_HEAD_LEN + FM_GROUPKEY_ENTRY_LEN + FM_SIG_LEN ||
        n > FM_GROUPKEY_MAX_LEN)
        return FM_EDECODE;
    fm_cur_init(&c, p, n);
    if (fm_cur_u8(&c, &version) || version != GK_VERSION ||
        fm_cur_copy(&c, gk->org, FM_PK_LEN) || fm_cur_u32(&c, &gk->generation) ||
        gk->generation == 0 || fm_cur_copy(&c, gk->key_id, FM_SEAL_KEY_ID_LEN) ||
        fm_cur_u64(&c, &gk->issued_ms) || fm_cur_u16(&c, &gk->count) || gk->count == 0 ||
        gk->count > FM_GROUPKEY_MAX_TO ||
        n != FM_GROUPKEY_HEAD_LEN + (size_t)gk->count * FM_GROUPKEY_ENTRY_LEN + FM_SIG_LEN)
        goto bad;
    for (uint16_t i = 0; i < gk->count; i++) {
        if (fm_cur_copy(&c, gk->to[i].node, FM_PK_LEN) ||
            fm_cur_copy(&c, gk->to[i].box, FM_SEAL_BOX_LEN))
            goto bad;
        if (i > 0 && memcmp(gk->to[i - 1].node, gk->to[i].node, FM_PK_LEN) >= 0)
            goto bad; /* one encoding per record: ascending, no repeats */
    }
    if (fm_cur_copy(&c, gk->sig, FM_SIG_LEN) || fm_cur_left(&c) != 0)
        goto bad;
    return FM_OK;
bad:
    memset(gk, 0, sizeof *gk);
    return FM_EDECODE;
}

int fm_groupkey_check(const struct fm_groupkey *gk, const uint8_t org[FM_PK_LEN])
{
    if (memcmp(gk->org, org, FM_PK_LEN) != 0)
        return FM_EFOREIGN;
    struct fm_buf w;
    fm_buf_init(&w, FM_GROUPKEY_MAX_LEN + sizeof GK_DOMAIN);
    int rc = gk_body(gk, true, &w);
    if (rc == FM_OK)
        rc = fm_verify(org, w.data, w.len, gk->sig) ? FM_OK : FM_EVERIFY;
    fm_buf_release(&w);
    return rc;
}

bool fm_groupkey_lists(const struct fm_groupkey *gk, const uint8_t pk[FM_PK_LEN])
{
    for (uint16_t i = 0; i < gk->count && i < FM_GROUPKEY_MAX_TO; i++)
        if (memcmp(gk->to[i].node, pk, FM_PK_LEN) == 0)
            return true;
    return false;
}

int fm_groupkey_open(const struct fm_groupkey *gk, const struct fm_identity *id,
                     struct fm_seal_key *k)
{
    uint8_t kid[FM_SEAL_KEY_ID_LEN];
    for (uint16_t i = 0; i < gk->count && i < FM_GROUPKEY_MAX_TO; i++) {
        if (memcmp(gk->to[i].node, id->pk, FM_PK_LEN) != 0)
            continue;
        if (fm_seal_open_node(k, id, gk->to[i].box) != FM_OK)
            return FM_EVERIFY;
        fm_seal_key_id(k, kid);
        if (sodium_memcmp(kid, gk->key_id, sizeof kid) != 0) {
            fm_seal_key_release(k);
            return FM_EVERIFY; /* a box holding some other key */
        }
        return FM_OK;
    }
    return FM_ENOTFOUND;
}

int fm_groupkey_write_file(const struct fm_groupkey *gk, const char *path)
{
    struct fm_buf bin, text;
    fm_buf_init(&bin, FM_GROUPKEY_MAX_LEN);
    fm_buf_init(&text, GK_FILE_MAX);
    int rc = fm_groupkey_encode(gk, &bin);
    if (rc == FM_OK)
        rc = fm_text_wrap(&text, GK_MAGIC, bin.data, bin.len);
    if (rc == FM_OK)
        rc = fm_file_write(path, text.data, text.len, 0644, false);
    fm_buf_release(&bin);
    fm_buf_release(&text);
    return rc;
}

int fm_groupkey_read_file(struct fm_groupkey *gk, const char *path)
{
    char *text = NULL;
    size_t tlen = 0, len = 0;
    memset(gk, 0, sizeof *gk);
    int rc = fm_file_read_alloc(path, GK_FILE_MAX, &text, &tlen);
    if (rc == FM_ETOOBIG)
        return FM_EDECODE;
    if (rc != FM_OK)
        return rc;
    uint8_t *bin = malloc(FM_GROUPKEY_MAX_LEN);
    if (bin == NULL) {
        free(text);
        return FM_ENOMEM;
    }
    rc = fm_text_unwrap((const uint8_t *)text, tlen, GK_MAGIC, bin, FM_GROUPKEY_MAX_LEN, &len);
    if (rc == FM_OK)
        rc = fm_groupkey_decode(gk, bin, len);
    else if (rc != FM_ENOMEM)
        rc = FM_EDECODE;
    free(bin);
    free(text);
    return rc;
}

/* ---- sealed fields ---- */

/* The associated data: domain | version | key id | the caller's binding. */
static int sf_ad(struct fm_buf *w, const uint8_t key_id[FM_SEAL_KEY_ID_LEN], const void *ad,
                 size_t adlen)
{
    const uint8_t v = SF_VERSION;
    int rc;
    if ((rc = fm_buf_append(w, SF_DOMAIN, sizeof SF_DOMAIN - 1)) ||
        (rc = fm_buf_append(w, &v, 1)) || (rc = fm_buf_append(w, key_id, FM_SEAL_KEY_ID_LEN)))
        return rc;
    return adlen ? fm_buf_append(w, ad, adlen) : FM_OK;
}

int fm_sealed_field_seal(struct fm_buf *out, const struct fm_seal_key *k, const void *ad,
                         size_t adlen, const void *pt, size_t n)
{
    uint8_t kid[FM_SEAL_KEY_ID_LEN], nonce[FM_SEAL_NONCE_LEN];
    struct fm_buf a, ct;
    const uint8_t v = SF_VERSION;
    int rc;
    fm_seal_key_id(k, kid);
    fm_buf_init(&a, 4096);
    fm_buf_init(&ct, n + FM_SEAL_MAC_LEN);
    if ((rc = sf_ad(&a, kid, ad, adlen)) == FM_OK &&
        (rc = fm_seal_encrypt(&ct, k, nonce, a.data, a.len, pt, n)) == FM_OK &&
        (rc = fm_buf_append(out, &v, 1)) == FM_OK &&
        (rc = fm_buf_append(out, kid, sizeof kid)) == FM_OK &&
        (rc = fm_buf_append(out, nonce, sizeof nonce)) == FM_OK)
        rc = fm_buf_append(out, ct.data, ct.len);
    fm_buf_release(&a);
    if (ct.data)
        sodium_memzero(ct.data, ct.cap);
    fm_buf_release(&ct);
    return rc;
}

int fm_sealed_field_parse(const uint8_t *p, size_t n, uint8_t key_id[FM_SEAL_KEY_ID_LEN])
{
    if (p == NULL || n < FM_SEALED_FIELD_OVERHEAD || p[0] != SF_VERSION)
        return FM_EDECODE;
    memcpy(key_id, p + 1, FM_SEAL_KEY_ID_LEN);
    return FM_OK;
}

int fm_sealed_field_open(const struct fm_seal_key *k, const void *ad, size_t adlen,
                         const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t kid[FM_SEAL_KEY_ID_LEN];
    struct fm_buf a;
    int rc;
    *outlen = 0;
    if ((rc = fm_sealed_field_parse(p, n, kid)) != FM_OK)
        return rc;
    const uint8_t *nonce = p + 1 + FM_SEAL_KEY_ID_LEN, *ct = nonce + FM_SEAL_NONCE_LEN;
    size_t ctlen = n - 1 - FM_SEAL_KEY_ID_LEN - FM_SEAL_NONCE_LEN;
    if (cap < ctlen - FM_SEAL_MAC_LEN)
        return FM_ETOOBIG;
    fm_buf_init(&a, 4096);
    if ((rc = sf_ad(&a, kid, ad, adlen)) == FM_OK)
        rc = fm_seal_decrypt(out, cap, k, nonce, a.data, a.len, ct, ctlen);
    fm_buf_release(&a);
    if (rc == FM_OK)
        *outlen = ctlen - FM_SEAL_MAC_LEN;
    return rc;
}
