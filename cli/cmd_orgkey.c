/*
 * cmd_orgkey.c — `org dispatch-key`: the dispatchers' group key, made and
 * sealed on the organisation's offline machine (docs/security.md, "Need
 * to know").
 *
 * The org directory keeps every generation of the key (dispatch/key.N,
 * mode 0600, beside root.key) and whom each was sealed to
 * (dispatch/holders.N). The dispatchers are the keys enrolled.txt lists
 * as centre, county or admin, less those revoked.txt lists (`org revoke`
 * appends there). Run after enrolling a dispatcher: the current key is
 * sealed again to all of them. Run after revoking one (or with --rotate):
 * a new generation is made, sealed to the others only, and new incidents
 * use it everywhere once it is published; older incidents stay readable
 * to the dispatchers that held the older keys.
 */
#include "cli_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORG_LINE_MAX 256

struct key_set {
    uint8_t (*pk)[FM_PK_LEN];
    size_t n, cap;
};

static bool set_has(const struct key_set *s, const uint8_t pk[FM_PK_LEN])
{
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->pk[i], pk, FM_PK_LEN) == 0)
            return true;
    return false;
}

static int set_add(struct key_set *s, const uint8_t pk[FM_PK_LEN])
{
    if (set_has(s, pk))
        return FM_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        void *p = realloc(s->pk, cap * FM_PK_LEN);
        if (p == NULL)
            return FM_ENOMEM;
        s->pk = p;
        s->cap = cap;
    }
    memcpy(s->pk[s->n++], pk, FM_PK_LEN);
    return FM_OK;
}

/* Reads "<key text> [role [name]]" lines of path into s, keeping only
 * those whose role is a dispatcher's when `roles` is set. A missing file
 * is an empty list. */
static int read_keys(struct cli *cl, const char *path, bool roles, struct key_set *s)
{
    char line[ORG_LINE_MAX], role[16];
    uint8_t pk[FM_PK_LEN];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return errno == ENOENT ? 0 : cli_error(cl, FM_EIO, "cannot read %s: %s", path,
                                               strerror(errno));
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        char *sp = strchr(line, ' '), *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (sp)
            *sp = '\0';
        if (line[0] == '\0' || fm_key_decode(line, pk) != FM_OK)
            continue;
        if (roles) {
            enum fm_role r;
            char *end = sp ? strchr(sp + 1, ' ') : NULL;
            size_t len = sp ? (end ? (size_t)(end - sp - 1) : strlen(sp + 1)) : 0;
            if (len == 0 || len >= sizeof role)
                continue;
            memcpy(role, sp + 1, len);
            role[len] = '\0';
            if (fm_role_parse(role, &r) != FM_OK ||
                (r != FM_ROLE_CENTRE && r != FM_ROLE_COUNTY && r != FM_ROLE_ADMIN))
                continue;
        }
        if (set_add(s, pk) != FM_OK)
            rc = cli_error(cl, FM_ENOMEM, "out of memory");
    }
    fclose(f);
    return rc;
}

static int write_keys(struct cli *cl, const char *path, const struct key_set *s)
{
    size_t cap = s->n * FM_KEY_TEXT_LEN + 1, len = 0;
    char *text = malloc(cap);
    if (text == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n; i++) {
        fm_key_encode(s->pk[i], text + len);
        len += strlen(text + len);
        text[len++] = '\n';
    }
    int rc = fm_file_write(path, text, len, 0644, false);
    free(text);
    return rc == FM_OK ? 0 : cli_error(cl, rc, "cannot write %s: %s", path, fm_strerror(rc));
}

static int dir_file(struct cli *cl, const char *dir, const char *name, uint32_t gen, char *out,
                    size_t cap)
{
    int n = gen ? snprintf(out, cap, "%s/dispatch/%s.%u", dir, name, gen)
                : snprintf(out, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return cli_error(cl, FM_ETOOBIG, "path too long: %s", dir);
    return 0;
}

/* The highest generation N with a dispatch/key.N (0 for none). */
static uint32_t current_generation(const char *dir)
{
    char path[FM_PATH_MAX];
    uint32_t g = 0;
    for (;;) {
        int n = snprintf(path, sizeof path, "%s/dispatch/key.%u", dir, g + 1);
        if (n < 0 || (size_t)n >= sizeof path || access(path, F_OK) != 0)
            return g;
        g++;
    }
}

/* Whether a holder of generation gen has since been revoked. */
static int holders_revoked(struct cli *cl, const char *dir, uint32_t gen,
                           const struct key_set *revoked, struct key_set *holders, bool *any)
{
    char path[FM_PATH_MAX];
    int rc;
    *any = false;
    if ((rc = dir_file(cl, dir, "holders", gen, path, sizeof path)) != 0 ||
        (rc = read_keys(cl, path, false, holders)) != 0)
        return rc;
    for (size_t i = 0; i < holders->n; i++)
        *any = *any || set_has(revoked, holders->pk[i]);
    return 0;
}

/* The key of generation gen: loaded, or made if `make`. */
static int gen_key(struct cli *cl, const char *dir, uint32_t gen, bool make,
                   struct fm_seal_key *k)
{
    char path[FM_PATH_MAX], sub[FM_PATH_MAX];
    int rc;
    if ((rc = dir_file(cl, dir, "key", gen, path, sizeof path)) != 0 ||
        (rc = dir_file(cl, dir, "dispatch", 0, sub, sizeof sub)) != 0)
        return rc;
    if (!make) {
        rc = fm_seal_key_load(k, path);
        return rc == FM_OK ? 0 : cli_error(cl, rc, "cannot load %s: %s", path, fm_strerror(rc));
    }
    if (fm_mkdirs(sub) != 0)
        return cli_error(cl, FM_EIO, "cannot create %s: %s", sub, strerror(errno));
    chmod(sub, 0700);
    if ((rc = fm_seal_key_generate(k)) != FM_OK || (rc = fm_seal_key_save(k, path)) != FM_OK) {
        fm_seal_key_release(k);
        return cli_error(cl, rc, "cannot make %s: %s", path, fm_strerror(rc));
    }
    return 0;
}

static int load_root_key(struct cli *cl, const char *dir, struct fm_identity *root)
{
    char path[FM_PATH_MAX];
    int rc;
    if ((rc = cli_crypto(cl)) != 0 || (rc = dir_file(cl, dir, "root.key", 0, path, sizeof path)))
        return rc;
    rc = fm_identity_load(root, path);
    if (rc != FM_OK)
        return cli_error(cl, rc, "cannot load the root key %s: %s", path, fm_strerror(rc));
    return 0;
}

struct dk_plan {
    struct key_set dispatchers, revoked, holders;
    uint32_t gen;
    bool rotate;
    const char *why;
};

static void plan_release(struct dk_plan *p)
{
    free(p->dispatchers.pk);
    free(p->revoked.pk);
    free(p->holders.pk);
}

/* Who gets the key and whether it is a new generation; `only_gen` (not 0)
 * seals that existing generation again instead. */
static int dk_plan(struct cli *cl, const char *dir, bool force_rotate, uint32_t only_gen,
                   struct dk_plan *p)
{
    char path[FM_PATH_MAX];
    struct key_set enrolled = {0};
    bool revoked_holder = false;
    int rc;
    if ((rc = dir_file(cl, dir, "enrolled.txt", 0, path, sizeof path)) != 0 ||
        (rc = read_keys(cl, path, true, &enrolled)) != 0 ||
        (rc = dir_file(cl, dir, "revoked.txt", 0, path, sizeof path)) != 0 ||
        (rc = read_keys(cl, path, false, &p->revoked)) != 0)
        goto out;
    for (size_t i = 0; i < enrolled.n && rc == 0; i++)
        if (!set_has(&p->revoked, enrolled.pk[i]) && set_add(&p->dispatchers, enrolled.pk[i]))
            rc = cli_error(cl, FM_ENOMEM, "out of memory");
    if (rc != 0)
        goto out;
    if (p->dispatchers.n == 0) {
        rc = cli_error(cl, FM_ENOTFOUND, "no dispatcher node (centre, county, admin) is enrolled "
                                         "and unrevoked in %s: enrol one first", dir);
        goto out;
    }
    if (p->dispatchers.n > FM_GROUPKEY_MAX_TO) {
        rc = cli_error(cl, FM_ETOOBIG, "%zu dispatcher nodes: one key record seals to at most %d",
                       p->dispatchers.n, FM_GROUPKEY_MAX_TO);
        goto out;
    }
    p->gen = current_generation(dir);
    if (only_gen != 0) {
        if (only_gen > p->gen) {
            rc = cli_error(cl, FM_ENOTFOUND, "no dispatcher key %u in %s/dispatch (the newest "
                                             "is %u)", only_gen, dir, p->gen);
            goto out;
        }
        p->gen = only_gen; /* an older key, for dispatchers enrolled after it */
        rc = holders_revoked(cl, dir, p->gen, &p->revoked, &p->holders, &revoked_holder);
        goto out;
    }
    if (p->gen > 0 &&
        (rc = holders_revoked(cl, dir, p->gen, &p->revoked, &p->holders, &revoked_holder)) != 0)
        goto out;
    p->rotate = p->gen == 0 || force_rotate || revoked_holder;
    p->why = p->gen == 0         ? "first key"
             : revoked_holder    ? "a node that held the current key is revoked"
             : force_rotate      ? "--rotate"
                                 : NULL;
    if (p->rotate) {
        p->gen++;
        free(p->holders.pk);
        memset(&p->holders, 0, sizeof p->holders);
    }
out:
    free(enrolled.pk);
    return rc;
}

static int dispatch_key(struct cli *cl, const char *dir, bool rotate, uint32_t only_gen,
                        const char *out_path, uint32_t *gen_out)
{
    struct dk_plan p = {0};
    struct fm_identity root = { { 0 }, NULL };
    struct fm_seal_key k = {NULL};
    struct fm_groupkey *gk = calloc(1, sizeof *gk);
    char path[FM_PATH_MAX];
    int rc;
    if (gk == NULL)
        return cli_error(cl, FM_ENOMEM, "out of memory");
    if ((rc = load_root_key(cl, dir, &root)) != 0 ||
        (rc = dk_plan(cl, dir, rotate, only_gen, &p)) != 0 ||
        (rc = gen_key(cl, dir, p.gen, p.rotate, &k)) != 0)
        goto out;
    gk->generation = p.gen;
    gk->issued_ms = fm_now_ms();
    rc = fm_groupkey_make(gk, &k, (const uint8_t (*)[FM_PK_LEN])p.dispatchers.pk,
                          p.dispatchers.n, &root);
    if (rc != FM_OK) {
        rc = cli_error(cl, rc, "cannot seal the key: %s", fm_strerror(rc));
        goto out;
    }
    if ((rc = fm_groupkey_write_file(gk, out_path)) != FM_OK) {
        rc = cli_error(cl, rc, "cannot write %s: %s", out_path, fm_strerror(rc));
        goto out;
    }
    for (size_t i = 0; i < p.dispatchers.n && rc == 0; i++)
        if (set_add(&p.holders, p.dispatchers.pk[i]) != FM_OK)
            rc = cli_error(cl, FM_ENOMEM, "out of memory");
    if (rc == 0 && (rc = dir_file(cl, dir, "holders", p.gen, path, sizeof path)) == 0)
        rc = write_keys(cl, path, &p.holders);
    if (rc == 0) {
        fprintf(stderr,
                "fieldmesh org dispatch-key: dispatcher key %u %s, sealed to %zu dispatcher "
                "node%s, written to %s\n"
                "next: fieldmesh -c CONF trust publish %s (on a centre, county or admin node)\n",
                p.gen, p.rotate ? "made" : "sealed again", p.dispatchers.n,
                p.dispatchers.n == 1 ? "" : "s", out_path, out_path);
        if (p.why)
            fprintf(stderr, "  new generation: %s; new incidents use it once published\n",
                    p.why);
        if (gen_out)
            *gen_out = p.gen;
    }
out:
    fm_seal_key_release(&k);
    fm_identity_release(&root);
    plan_release(&p);
    free(gk);
    return rc;
}

int cli_org_dispatch_key(struct cli *cl, const char *dir, bool rotate, const char *out_path,
                         uint32_t *gen_out)
{
    return dispatch_key(cl, dir, rotate, 0, out_path, gen_out);
}

enum { DK_ORG, DK_OUT, DK_ROTATE, DK_GEN };
static const struct cli_opt dk_opts[] = {
    [DK_ORG] = { "org", true },
    [DK_OUT] = { "out", true },
    [DK_ROTATE] = { "rotate", false },
    [DK_GEN] = { "generation", true },
};

static int run_org_dispatch_key(struct cli *cl, int argc, char **argv)
{
    struct cli_args a;
    CLI_PARSE_OR_RETURN(cl, argc, argv, dk_opts, CLI_NELEM(dk_opts), 0, 0, &a);
    if (a.val[DK_ORG] == NULL || a.val[DK_ORG][0] == '\0')
        return cli_usage(cl, "--org is required");
    if (a.val[DK_OUT] == NULL || a.val[DK_OUT][0] == '\0')
        return cli_usage(cl, "--out is required");
    uint64_t gen = 0;
    int rc;
    if (a.val[DK_GEN] != NULL &&
        (rc = cli_parse_uint(cl, "--generation", a.val[DK_GEN], 1, UINT32_MAX, &gen)) != 0)
        return rc;
    if (gen != 0 && a.val[DK_ROTATE] != NULL)
        return cli_usage(cl, "--generation seals an existing key again; it cannot --rotate");
    rc = dispatch_key(cl, a.val[DK_ORG], a.val[DK_ROTATE] != NULL, (uint32_t)gen,
                      a.val[DK_OUT], NULL);
    return rc == 0 ? CLI_EXIT_OK : rc;
}

const struct cli_cmd cli_cmd_org_dispatch_key = {
    "org", "dispatch-key", "--org DIR --out FILE [--rotate | --generation N]",
    "seal the dispatchers' key (caller details) to every dispatcher node",
    "  --org DIR     the organisation directory\n"
    "  --out FILE    where to write the key record (then `trust publish FILE`\n"
    "                on a centre, county or admin node)\n"
    "  --rotate      make a new generation even if no holder was revoked\n"
    "  --generation N  seal the older key N again to today's dispatchers, so a\n"
    "                dispatcher enrolled after N was replaced reads the callers\n"
    "                of incidents sealed under it (new incidents keep the newest)\n\n"
    "Caller names and numbers are sealed to this key: only the nodes enrolled as\n"
    "centre, county or admin (and not revoked) can read them. Run it after\n"
    "enrolling a dispatcher node (the current key is sealed to it too) and after\n"
    "`org revoke` of one (a new key is made automatically, sealed to the others).\n",
    run_org_dispatch_key,
};
