/*
 * backup_int.h — shared by backup.c (the file: writing it, the strict
 * decoder), backup_restore.c (putting a backup in place) and restored.c
 * (the "restored, unconfirmed" state that keeps a restored node from
 * signing until a peer has told it how far its own log went).
 */
#ifndef FM_BACKUP_INT_H
#define FM_BACKUP_INT_H

#include "replica_int.h"
#include "store_int.h"

#include <stdio.h>

#define BK_VERSION 1
#define BK_SMALL_MAX (64u * 1024u)          /* a key file, certificate or meta section */
#define BK_LAST_NAME "backup.last"          /* in data_dir: the last backup made here */
#define BK_RESTORED_NAME "restored"         /* in data_dir: restored, not yet confirmed */

enum backup_section {
    BK_END = 0,   /* BLAKE2b-256 of every byte before this section; last */
    BK_META,      /* created_ms u64 BE | node name */
    BK_IDKEY,     /* trust.key, sealed */
    BK_IDPUB,     /* trust.key.pub (optional) */
    BK_CERT,      /* trust.cert */
    BK_DATAKEY,   /* <data_dir>/data.key, sealed */
    BK_BUNDLEKEY, /* <data_dir>/bundle.key (optional) */
    BK_STORE,     /* LMDB's compacting copy of data.mdb, values sealed */
    BK__COUNT
};

struct backup_parts {
    uint8_t *small[BK__COUNT]; /* malloc'd contents of each small section */
    size_t len[BK__COUNT];
    bool seen[BK__COUNT];
    struct fm_backup_info info;
};

const char *backup_section_name(unsigned type);
bool backup_section_required(unsigned type);
int backup_section_path(const struct fm_config *cfg, unsigned type, char *out,
                        size_t cap) FM_MUST_USE;
/* Decodes a backup from in, streaming the store section to store_out (may
 * be NULL), at most store_max bytes of it. On failure err says what and
 * where, p holds nothing. */
int backup_decode(FILE *in, FILE *store_out, uint64_t store_max, struct backup_parts *p,
                  char *err, size_t cap) FM_MUST_USE;
void backup_parts_release(struct backup_parts *p);

/* The restored marker (restored.c): written before the store is put in
 * place; `head` is this node's own head in the restored store. */
int restored_mark(const struct fm_config *cfg, uint64_t head, uint64_t backup_ms) FM_MUST_USE;
/* True if cfg's node is restored and unconfirmed; *head the own head the
 * restore found (0 if the marker cannot be read: then any peer holding a
 * part of our log no longer than ours confirms). */
bool restored_get(const struct fm_config *cfg, uint64_t *head);

#endif
