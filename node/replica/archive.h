/*
 * archive.h — the store's contents leaving the node and coming back:
 * hot backups and restore (backup*.c, restored.c; docs/service.md §6) and
 * bundles carried by hand where no link reaches (bundle.c; docs/
 * field-sync.md). Part of replica.h, which includes it at its end.
 */
#ifndef FM_ARCHIVE_H
#define FM_ARCHIVE_H

/* ---- backups (node/replica/backup*.c, restored.c; docs/service.md §6) ----
 * `fieldmesh backup FILE`: the key files, certificate and a compacting
 * LMDB copy of the store, all sealed as they lie on disk, in one file,
 * taken while the daemon runs. `fieldmesh restore FILE` puts it in place
 * on a new machine and marks the node "restored, unconfirmed": it refuses
 * to sign (FM_EFORK, exit 3) until a peer's version vector shows it holds
 * this node's log no further than the restored store (after pulling what
 * the peer had), or the operator confirms that no peer holds more. */
struct fm_backup_info {
    char name[FM_NAME_MAX];  /* the node's name when the backup was made */
    uint64_t created_ms;     /* wall clock of the backup */
    uint64_t store_bytes;    /* the compacted store copy */
    uint64_t file_bytes;     /* the whole backup file (write only) */
    uint64_t own_head;       /* restore only: own ops the restored store holds */
};
/* Progress of a long backup: fn is called from another thread about four
 * times a second while the store is copied, with the bytes written so far
 * and the store file's size (the copy ends at or below it). */
struct fm_backup_progress {
    void (*fn)(void *ctx, uint64_t done, uint64_t total);
    void *ctx;
};
/* Writes the backup to path (never over an existing file: FM_EEXISTS),
 * through path.partial renamed at the end, and records it in
 * <data_dir>/backup.last. Needs no keys. err gets the reason. progress
 * may be NULL. */
int fm_backup_write(const struct fm_config *cfg, const char *path,
                    const struct fm_backup_progress *progress, struct fm_backup_info *info,
                    char *err, size_t errcap) FM_MUST_USE;
/* Puts the backup at path in place for cfg: refuses (FM_EEXISTS, naming
 * the file) when a key, certificate, data key or store is already there;
 * checks the file whole, unlocks the restored keys with the passphrase
 * (arg_file, else as fm_passphrase_find), opens the store and reads its
 * own head before anything lands, then marks the node restored. */
int fm_backup_restore(const struct fm_config *cfg, const char *path, const char *arg_file,
                      struct fm_backup_info *info, char *err, size_t errcap) FM_MUST_USE;
/* Checks a backup read from in without writing anything (the fuzz target
 * and `restore` use the same decoder). */
int fm_backup_check(FILE *in, uint64_t store_max, struct fm_backup_info *info, char *err,
                    size_t errcap) FM_MUST_USE;
/* The last backup made on this node: FM_ENOTFOUND if none recorded. */
int fm_backup_last(const struct fm_config *cfg, uint64_t *when_ms, char *file,
                   size_t cap) FM_MUST_USE;
/* The operator's word that no peer holds more of this node's log than the
 * restored store: ends the restored state. FM_ENOTFOUND if not restored. */
int fm_restored_confirm(const struct fm_config *cfg) FM_MUST_USE;
/* True while cfg's node is restored and unconfirmed; *head = the own head
 * the restore found. */
bool fm_restored_pending(const struct fm_config *cfg, uint64_t *head);
/* From sync: a neighbour's vector says it holds this node's own log up to
 * seq (0: none of it). Ends the restored state when the neighbour holds at
 * least what the backup held and no more than this store. */
int fm_node_own_vector(struct fm_node *n, uint64_t seq) FM_MUST_USE;

/* ---- bundles (sneakernet) ----
 * A bundle file carries ops (as stored, signed by their authors) signed by
 * the exporting node and encrypted: to one node's key when the export is
 * --for that node's vector file, else to the organisation's bundle key
 * (<data_dir>/bundle.key, handed out with enrollment). Import verifies the
 * exporter's signature and certificate before decrypting, then feeds the
 * ops through fm_node_ingest. Any damage rejects the bundle whole. */
#define FM_BUNDLE_MAX_BYTES (256u * 1024u * 1024u)
/* Writes this node's version vector (who and up to which seq) to path. */
int fm_node_vector_write(struct fm_node *n, const char *path) FM_MUST_USE;
struct fm_bundle_opts {
    const char *for_vector; /* a vector file: only what it lacks, sealed to its node */
    uint64_t since_ms;      /* else: ops stamped at or after this (0 = everything) */
    const char *key_path;   /* org bundle key (NULL = <data_dir>/bundle.key) */
};
struct fm_bundle_info {
    uint8_t exporter[FM_PK_LEN];
    char exporter_name[FM_NAME_MAX];
    uint64_t created_ms;
    uint64_t ops;
    uint32_t authors;
    bool sealed_to_node;  /* else to the org bundle key */
    bool truncated;       /* hit FM_BUNDLE_MAX_BYTES: export again after import */
    /* import: refused ops by reason (fm_err), the most frequent reasons
     * first; per-op refusals are not logged one by one */
    struct {
        int err;
        uint64_t count;
    } refused[8];
    uint32_t n_refused_reasons; /* entries of refused[] in use */
};
/* Needs FM_OPEN_IDENTITY. FM_ENOTFOUND if the org bundle key is missing
 * (and not --for), FM_EDECODE for a bad vector file. */
int fm_node_bundle_export(struct fm_node *n, const char *path, const struct fm_bundle_opts *o,
                          struct fm_bundle_info *info) FM_MUST_USE;
/* FM_EVERIFY: signature, certificate or decryption failed (tampered or
 * not for us; nothing imported); FM_EDECODE: malformed; FM_ENOTFOUND: no
 * key to open it. res gets the ingest outcome. */
int fm_node_bundle_import(struct fm_node *n, const char *path, const char *key_path,
                          struct fm_bundle_info *info, struct fm_ingest_result *res) FM_MUST_USE;
/* Creates a new organisation bundle key file (mode 0600); FM_EEXISTS. */
int fm_bundle_key_create(const char *path) FM_MUST_USE;

/* The wall clock (Unix ms) the node judges certificates and stamps ops by
 * (node/wall.c). */
uint64_t fm_node_wall_ms(void);

#endif
