/*
 * hid.c — human codes for incidents and tickets ("K3MX-12").
 *
 * An entity id is its creating op's author tag and seq ("k3mx9q2a-1742"):
 * unique, but long, and its number counts every op the node ever wrote.
 * A human code is the author's code — the first 4 characters of its key
 * text, upper-cased, lengthened up to 7 while another author that created
 * incidents or tickets shares them — and the author's own counter: the
 * rank of the creating op among that author's incident reports and ticket
 * dispatches, by seq. No node coordinates with another: an author's ops
 * arrive in seq order with no gap (ingest refuses a gap), so once an op is
 * held all of its author's earlier ops are, and its rank never changes;
 * the author code depends only on the authors held, so every node holding
 * the same ops shows the same codes. A code lengthened by a newly seen
 * author leaves the short form ambiguous (resolving it lists the
 * candidates), never wrong. Codes are computed on read, so nothing in the
 * op format or the digest changes (docs/decisions.md).
 */
#include "workflow_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HID_CODE_MIN 4
#define HID_CODE_MAX 7 /* below the 8 of an id's tag: a code never reads as an id */

struct hid_entry {
    char key[FM_KEY_TEXT_LEN];   /* the author's key text */
    uint64_t seq;
    uint8_t kind;                /* FM_ENT_INCIDENT or FM_ENT_TICKET */
    char id[FM_ID_MAX];
    uint32_t rank;               /* 1.. among the author's incidents and tickets */
    uint8_t code_len;            /* of the author's code; 0 = none (use the id) */
};

struct hid_index {
    char id[FM_ID_MAX];
    size_t at;                   /* index into v */
};
struct fm_hids {
    struct hid_entry *v;         /* sorted by (key, seq) */
    size_t n, cap;
    struct hid_index *by_id;     /* sorted by id */
};

struct hid_walk {
    struct fm_hids *h;
    uint8_t kind;
};

int wf_hids_add(struct fm_hids *h, const char *key, uint64_t seq, uint8_t kind, const char *id)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 256;
        struct hid_entry *nv = realloc(h->v, cap * sizeof *nv);
        if (nv == NULL)
            return FM_ENOMEM;
        h->v = nv;
        h->cap = cap;
    }
    struct hid_entry *e = &h->v[h->n++];
    memset(e, 0, sizeof *e);
    fm_strlcpy(e->key, key, sizeof e->key);
    e->seq = seq;
    e->kind = kind;
    fm_strlcpy(e->id, id, sizeof e->id);
    return 0;
}

static int hid_each(const struct model_rec *r, const char *id, void *arg)
{
    struct hid_walk *w = arg;
    const struct model_field_val *f = &r->f[F_CREATED];
    char key[FM_KEY_TEXT_LEN];
    if (!f->set || f->len != FM_PK_LEN + 8)
        return 0;
    fm_key_encode(f->val, key);
    return wf_hids_add(w->h, key, fm_be64_get(f->val + FM_PK_LEN), w->kind, id);
}

static int entry_cmp(const void *a, const void *b)
{
    const struct hid_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t common_prefix(const char *a, const char *b)
{
    size_t i = 0;
    while (a[i] != '\0' && a[i] == b[i])
        i++;
    return i;
}

/* Ranks per author and each author's code length: one more than the
 * longest prefix it shares with a neighbouring author in key order. */
static void hid_rank(struct fm_hids *h)
{
    size_t start = 0;
    while (start < h->n) {
        size_t end = start;
        while (end < h->n && strcmp(h->v[end].key, h->v[start].key) == 0) {
            h->v[end].rank = (uint32_t)(end - start + 1);
            end++;
        }
        size_t need = HID_CODE_MIN;
        if (start > 0) {
            size_t p = common_prefix(h->v[start - 1].key, h->v[start].key) + 1;
            need = p > need ? p : need;
        }
        if (end < h->n) {
            size_t p = common_prefix(h->v[end].key, h->v[start].key) + 1;
            need = p > need ? p : need;
        }
        for (size_t i = start; i < end; i++)
            h->v[i].code_len = need <= HID_CODE_MAX ? (uint8_t)need : 0;
        start = end;
    }
}

static int by_id_cmp(const void *a, const void *b)
{
    return strcmp(((const struct hid_index *)a)->id, ((const struct hid_index *)b)->id);
}

int fm_node_hids(struct fm_node *n, struct fm_hids **out)
{
    struct store_txn *t;
    struct fm_hids *h = calloc(1, sizeof *h);
    struct hid_walk w = {.h = h};
    int rc;
    *out = NULL;
    if (h == NULL)
        return FM_ENOMEM;
    if ((rc = store_read_begin(n->st, &t)) != FM_OK)
        goto fail;
    w.kind = FM_ENT_INCIDENT;
    rc = wf_walk(t, FM_ENT_INCIDENT, false, hid_each, &w);
    w.kind = FM_ENT_TICKET;
    if (rc == FM_OK)
        rc = wf_walk(t, FM_ENT_TICKET, false, hid_each, &w);
    store_txn_abort(&t);
    if (rc != FM_OK || (rc = wf_hids_finish(h)) != FM_OK)
        goto fail;
    *out = h;
    return FM_OK;
fail:
    fm_hids_free(&h);
    return rc;
}

struct fm_hids *wf_hids_new(void) { return calloc(1, sizeof(struct fm_hids)); }

int wf_hids_finish(struct fm_hids *h)
{
    if (h->n > 1) /* qsort may not take NULL, even for 0 items */
        qsort(h->v, h->n, sizeof *h->v, entry_cmp);
    hid_rank(h);
    free(h->by_id);
    if ((h->by_id = calloc(h->n ? h->n : 1, sizeof *h->by_id)) == NULL)
        return FM_ENOMEM;
    for (size_t i = 0; i < h->n; i++) {
        fm_strlcpy(h->by_id[i].id, h->v[i].id, sizeof h->by_id[i].id);
        h->by_id[i].at = i;
    }
    if (h->n > 1)
        qsort(h->by_id, h->n, sizeof *h->by_id, by_id_cmp);
    return FM_OK;
}

void fm_hids_free(struct fm_hids **hp)
{
    if (hp == NULL || *hp == NULL)
        return;
    free((*hp)->v);
    free((*hp)->by_id);
    free(*hp);
    *hp = NULL;
}

static void entry_code(const struct hid_entry *e, char out[FM_HID_MAX])
{
    size_t i;
    for (i = 0; i < e->code_len; i++)
        out[i] = (char)toupper((unsigned char)e->key[i]);
    snprintf(out + i, FM_HID_MAX - i, "-%u", e->rank);
}

bool fm_hids_code(const struct fm_hids *h, const char *id, char out[FM_HID_MAX])
{
    size_t lo = 0, hi = h ? h->n : 0;
    out[0] = '\0';
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(h->by_id[mid].id, id);
        if (c == 0) {
            const struct hid_entry *e = &h->v[h->by_id[mid].at];
            if (e->code_len == 0)
                return false;
            entry_code(e, out);
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* "k3mx-12" / "K3MX-12": the author prefix (4..7 base32 characters, any
 * case) and the number. */
static bool code_parse(const char *s, char prefix[HID_CODE_MAX + 1], uint32_t *num)
{
    const char *dash = strchr(s, '-');
    size_t len = dash ? (size_t)(dash - s) : 0;
    uint64_t v = 0;
    if (len < HID_CODE_MIN || len > HID_CODE_MAX || dash[1] == '\0')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)s[i]))
            return false;
        prefix[i] = (char)tolower((unsigned char)s[i]);
    }
    prefix[len] = '\0';
    for (const char *p = dash + 1; *p != '\0'; p++) {
        if (!isdigit((unsigned char)*p) || v > UINT32_MAX / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v == 0 || v > UINT32_MAX)
        return false;
    *num = (uint32_t)v;
    return true;
}

int fm_hids_resolve(const struct fm_hids *h, enum fm_entity_kind kind, const char *code,
                    char id[FM_ID_MAX], char (*cands)[FM_ID_MAX], size_t ncap, size_t *nfound)
{
    char prefix[HID_CODE_MAX + 1];
    uint32_t num;
    size_t found = 0;
    *nfound = 0;
    if (h == NULL || code == NULL || !code_parse(code, prefix, &num))
        return FM_EINVAL;
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < h->n; i++) {
        const struct hid_entry *e = &h->v[i];
        /* a prefix shorter than the author's code now (lengthened since by
         * a colliding author) still matches: ambiguous, never wrong */
        if (e->rank != num || e->kind != (uint8_t)kind || strncmp(e->key, prefix, plen) != 0)
            continue;
        if (found == 0)
            fm_strlcpy(id, e->id, FM_ID_MAX);
        if (cands != NULL && found < ncap)
            fm_strlcpy(cands[found], e->id, FM_ID_MAX);
        found++;
    }
    *nfound = found;
    return found == 0 ? FM_ENOTFOUND : found == 1 ? FM_OK : FM_EAMBIGUOUS;
}
