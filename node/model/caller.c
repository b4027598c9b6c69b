/*
 * caller.c — the caller's name and number, sealed to the dispatchers'
 * group key (docs/security.md, "Need to know").
 *
 * Every node stores and relays an incident's sealed caller and applies it
 * to the incident record as the same bytes (so the digest does not depend
 * on who can read it); a node opens it only when an incident is read, with
 * the group key its identity opens (node/replica/dispatch_key.c). The
 * associated data binds the sealed bytes to the author of the op that
 * carries them, so a key holder cannot lift a caller out of one node's
 * report into an op of its own unnoticed.
 */
#include "../replica/replica_int.h"
#include "model_int.h"

#include <string.h>

#define CALLER_TAG_PHONE 1
#define CALLER_TAG_NAME 2

int caller_plain_encode(const char *phone, const char *name, uint8_t out[FM_SEALED_PLAIN_MAX],
                        size_t *n)
{
    const char *vals[2] = {phone, name};
    const size_t max[2] = {FM_PHONE_MAX - 1, FM_CALLER_NAME_MAX - 1};
    size_t used = 0;
    for (int i = 0; i < 2; i++) {
        if (vals[i] == NULL || vals[i][0] == '\0')
            continue;
        size_t len = strlen(vals[i]);
        if (!payload_bytes_text_ok((const uint8_t *)vals[i], len, 1, max[i]))
            return FM_EINVAL;
        out[used++] = (uint8_t)(i + 1);
        out[used++] = (uint8_t)len;
        memcpy(out + used, vals[i], len);
        used += len;
    }
    *n = used;
    return used > 0 ? FM_OK : FM_EINVAL;
}

int caller_plain_decode(const uint8_t *p, size_t n, char phone[FM_PHONE_MAX],
                        char name[FM_CALLER_NAME_MAX])
{
    char *dst[2] = {phone, name};
    const size_t max[2] = {FM_PHONE_MAX - 1, FM_CALLER_NAME_MAX - 1};
    struct fm_cur c;
    unsigned last = 0;
    phone[0] = name[0] = '\0';
    fm_cur_init(&c, p, n);
    while (fm_cur_left(&c) > 0) {
        uint8_t tag, len;
        const uint8_t *v;
        if (fm_cur_u8(&c, &tag) || fm_cur_u8(&c, &len) || fm_cur_bytes(&c, len, &v) ||
            tag <= last || tag > CALLER_TAG_NAME ||
            !payload_bytes_text_ok(v, len, 1, max[tag - 1]))
            goto bad;
        memcpy(dst[tag - 1], v, len);
        dst[tag - 1][len] = '\0';
        last = tag;
    }
    if (last == 0)
        goto bad;
    return FM_OK;
bad:
    phone[0] = name[0] = '\0';
    return FM_EDECODE;
}

int caller_seal(const struct fm_seal_key *k, const uint8_t author[FM_PK_LEN], const char *phone,
                const char *name, struct payload *pl)
{
    uint8_t plain[FM_SEALED_PLAIN_MAX];
    size_t n = 0;
    struct fm_buf out;
    int rc = caller_plain_encode(phone, name, plain, &n);
    if (rc != FM_OK)
        return rc;
    fm_buf_init(&out, FM_SEALED_MAX);
    rc = fm_sealed_field_seal(&out, k, author, FM_PK_LEN, plain, n);
    fm_wipe(plain, sizeof plain);
    if (rc == FM_OK && out.len <= sizeof pl->sealed) {
        memcpy(pl->sealed, out.data, out.len);
        pl->sealed_len = (uint16_t)out.len;
        pl->present |= PT_BIT(PT_SEALED);
    } else if (rc == FM_OK) {
        rc = FM_EINVAL;
    }
    fm_buf_release(&out);
    return rc;
}

int caller_open(const struct fm_seal_key *k, const uint8_t author[FM_PK_LEN], const uint8_t *p,
                size_t n, char phone[FM_PHONE_MAX], char name[FM_CALLER_NAME_MAX])
{
    uint8_t plain[FM_SEALED_MAX];
    size_t len = 0;
    phone[0] = name[0] = '\0';
    if (n < FM_SEALED_MIN || n > FM_SEALED_MAX)
        return FM_EDECODE;
    int rc = fm_sealed_field_open(k, author, FM_PK_LEN, p, n, plain, sizeof plain, &len);
    if (rc == FM_OK)
        rc = caller_plain_decode(plain, len, phone, name);
    fm_wipe(plain, sizeof plain);
    return rc == FM_ETOOBIG ? FM_EDECODE : rc;
}

struct unseal {
    const struct model_field_val *f;
    struct fm_incident *inc;
};

static int unseal_with(const struct fm_seal_key *k, void *ctx)
{
    struct unseal *u = ctx;
    return caller_open(k, u->f->author, u->f->val + 1, u->f->len - 1u, u->inc->caller,
                       u->inc->caller_name);
}

void model_incident_unseal(struct fm_node *n, struct store_txn *t, const struct model_rec *r,
                           struct fm_incident *inc)
{
    const struct model_field_val *f = &r->f[F_CALLER];
    struct unseal u = {f, inc};
    uint8_t kid[FM_SEAL_KEY_ID_LEN];
    if (inc->caller_state != FM_CALLER_SEALED || !f->set || f->len < 1)
        return;
    if (fm_sealed_field_parse(f->val + 1, f->len - 1u, kid) != FM_OK) {
        inc->caller_state = FM_CALLER_DAMAGED;
        return;
    }
    int rc = node_groupkey_use(n, t, kid, NULL, unseal_with, &u);
    if (rc == FM_ENOTFOUND)
        return; /* not a key this node holds: stays sealed */
    inc->caller_state = rc == FM_OK ? FM_CALLER_OPENED : FM_CALLER_DAMAGED;
}
