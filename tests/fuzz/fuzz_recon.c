/*
 * fuzz_recon.c — feeds arbitrary frames to the RECON decoder and, when one
 * decodes, to the reconciliation engine holding a small fixed set. It
 * traps when a promise breaks: a failure is only FM_EDECODE or FM_ETOOBIG,
 * a decoded message re-encodes to the same bytes, an answer (if any)
 * decodes itself, goes one level deeper and stays within the bounds of
 * recon_int.h, and every author reported to us lies in the message or in
 * our set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "sync/recon_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NSET 40
static struct fm_recon_set set;
static bool ready;

static void build_set(void)
{
    struct fm_head h[NSET];
    memset(h, 0, sizeof(h));
    for (int i = 0; i < NSET; i++) {
        /* keys spread over the space, some sharing long prefixes */
        memset(h[i].author, i < 20 ? 0x42 : i * 6, FM_PK_LEN);
        h[i].author[i < 20 ? 31 : 1] = (uint8_t)i;
        h[i].seq = 1 + (uint64_t)i;
        h[i].hash[0] = (uint8_t)i;
        h[i].limit = UINT64_MAX;
    }
    if (fm_crypto_init() != FM_OK)
        abort();
    fm_recon_set_init(&set);
    if (fm_recon_set_build(&set, h, NSET) != FM_OK)
        abort();
    ready = true;
}

static void on_same(void *ctx, const struct fm_recon_item *ours)
{
    (void)ctx;
    if (ours < set.items || ours >= set.items + set.n)
        __builtin_trap();
}

static void on_item(void *ctx, const uint8_t *pk, uint64_t seq, const uint8_t *hash)
{
    const struct fm_wire_recon *m = ctx;
    bool in_msg = pk >= m->data && pk + FM_PK_LEN <= m->data + m->data_len;
    bool in_set = pk >= set.items[0].pk && pk < (const uint8_t *)(set.items + set.n);
    if (!in_msg && !in_set)
        __builtin_trap();
    (void)seq;
    (void)hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fm_wire_msg m, a;
    struct fm_buf b;
    if (!ready)
        build_set();
    int rc = fm_wire_decode(&m, data, size);
    if (rc != FM_OK) {
        if (rc != FM_EDECODE && rc != FM_ETOOBIG)
            __builtin_trap();
        return 0;
    }
    if (m.type != FM_MSG_RECON)
        return 0;
    fm_buf_init(&b, FM_WIRE_MAX_MSG);
    if (fm_recon_encode_copy(&b, &m.u.recon) != FM_OK || b.len != size ||
        memcmp(b.data, data, size) != 0)
        __builtin_trap();
    struct fm_recon_cb cb = {&m.u.recon, on_same, on_item};
    bool send, more;
    rc = fm_recon_respond(&set, &m.u.recon, &cb, &b, &send, &more);
    if (rc != FM_OK && rc != FM_ETOOBIG)
        __builtin_trap();
    if (rc == FM_OK && send) {
        if (fm_wire_decode(&a, b.data, b.len) != FM_OK || a.type != FM_MSG_RECON ||
            a.u.recon.depth != m.u.recon.depth + 1)
            __builtin_trap();
    }
    fm_buf_release(&b);
    return 0;
}
