/*
 * auth.c — operators signing in to the console: login against the
 * operators file (re-read when it changes, so `fieldmesh operator add`
 * works on a running daemon), sessions as HttpOnly SameSite=Strict
 * cookies with an idle timeout, one CSRF token per session, and the
 * lockout after CONSOLE_LOCK_FAILS failed logins (logged). Sessions live
 * in memory: a restarted daemon asks everyone to log in again. Failure
 * counts and locks are kept on disk too (lockout.c), in wall-clock time,
 * so a restart neither ends a lock nor resets a count.
 */
#include "console_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int auth_init(struct console_auth *a, const struct fm_config *cfg)
{
    memset(a, 0, sizeof *a);
    a->idle_ms = (uint64_t)cfg->console.session_idle_s * 1000u;
    /* browsers keep cookies per host, not per port: a name per port keeps
     * the consoles of several nodes on one machine (a testbed, the demo)
     * from logging each other out */
    snprintf(a->cookie, sizeof a->cookie, "fm_session_%u", (unsigned)cfg->console.port);
    if (fm_operators_path(cfg, a->path, sizeof a->path) != FM_OK ||
        lockout_path(cfg, a->lockout_path, sizeof a->lockout_path) != FM_OK)
        return FM_ETOOBIG;
    if (pthread_mutex_init(&a->lock, NULL) != 0)
        return FM_ENOMEM;
    if (pthread_mutex_init(&a->save_lock, NULL) != 0) {
        pthread_mutex_destroy(&a->lock);
        return FM_ENOMEM;
    }
    lockout_load(a);
    return FM_OK;
}

void auth_destroy(struct console_auth *a)
{
    sodium_memzero(a->sessions, sizeof a->sessions);
    pthread_mutex_destroy(&a->save_lock);
    pthread_mutex_destroy(&a->lock);
}

void console_token(char out[CONSOLE_TOKEN_LEN])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, CONSOLE_TOKEN_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

/* Cookie: a=b; c=d. Names and values are compared as bytes; a value is
 * [A-Za-z0-9_-] only (our tokens), anything else means "absent". */
bool console_cookie_find(const char *header, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = header;
    if (header == NULL || cap == 0)
        return false;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *eq = strchr(p, '=');
        const char *end = strchr(p, ';');
        if (end == NULL)
            end = p + strlen(p);
        if (eq != NULL && eq < end && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            const char *v = eq + 1;
            size_t vlen = (size_t)(end - v);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            if (vlen == 0 || vlen >= cap)
                return false;
            for (size_t i = 0; i < vlen; i++)
                if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
                      (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '-'))
                    return false;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

/* Slot of a session token (auth lock held); NULL if none. */
static struct console_session *session_find(struct console_auth *a, const char *token,
                                            uint64_t now)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
        struct console_session *s = &a->sessions[i];
        if (s->last_ms == 0)
            continue;
        if (now - s->last_ms > a->idle_ms) { /* idle too long: signed out */
            sodium_memzero(s, sizeof *s);
            continue;
        }
        if (strlen(s->token) == tl && sodium_memcmp(s->token, token, tl) == 0)
            return s;
    }
    return NULL;
}

bool auth_session(struct fm_console *c, struct MHD_Connection *conn, struct console_session *out)
{
    char token[CONSOLE_TOKEN_LEN];
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie");
    if (!console_cookie_find(h, c->auth.cookie, token, sizeof token))
        return false;
    uint64_t now = fm_mono_ms();
    pthread_mutex_lock(&c->auth.lock);
    struct console_session *s = session_find(&c->auth, token, now);
    if (s != NULL) {
        s->last_ms = now;
        *out = *s;
    }
    pthread_mutex_unlock(&c->auth.lock);
    return s != NULL;
}

/* The failure record of a name (auth lock held): reuses the oldest slot. */
static struct console_fail *fail_slot(struct console_auth *a, const char *name)
{
    struct console_fail *oldest = &a->fails[0];
    for (size_t i = 0; i < CONSOLE_FAIL_SLOTS; i++) {
        if (a->fails[i].last_ms != 0 && strcmp(a->fails[i].name, name) == 0)
            return &a->fails[i];
        if (a->fails[i].last_ms < oldest->last_ms)
            oldest = &a->fails[i];
    }
    memset(oldest, 0, sizeof *oldest);
    fm_strlcpy(oldest->name, name, sizeof oldest->name);
    return oldest;
}

static const char *peer_ip(struct MHD_Connection *conn, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (ci != NULL && ci->client_addr != NULL) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
                      (socklen_t)cap);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                      buf, (socklen_t)cap);
    }
    return buf[0] ? buf : "?";
}

/* Seconds left of a lock on name, 0 if none (auth lock held). */
static uint64_t locked_for(struct console_auth *a, const char *name, uint64_t now)
{
    for (size_t i = 0; i < CONSOLE_FAIL_SLOTS; i++)
        if (a->fails[i].last_ms != 0 && strcmp(a->fails[i].name, name) == 0 &&
            a->fails[i].locked_until_ms > now)
            return (a->fails[i].locked_until_ms - now + 999) / 1000;
    return 0;
}

/* Checks name/password against the operators file; fills *who. */
static bool check_password(struct fm_console *c, const char *name, const char *password,
                           struct fm_operator *who)
{
    struct fm_operators ops = { 0 };
    char err[256];
    bool ok = false;
    if (fm_operators_load(c->auth.path, &ops, err, sizeof err) != FM_OK) {
        fm_log(FM_LOG_ERROR, COMPONENT_CONSOLE, "cannot read the operators file: %s", err);
        return false;
    }
    struct fm_operator *op = fm_operators_find(&ops, name);
    if (op != NULL && fm_password_verify(op->hash, password)) {
        *who = *op;
        ok = true;
    }
    fm_operators_free(&ops);
    return ok;
}

static void set_session_cookie(struct call *k, const char *token, bool clear)
{
    snprintf(k->set_cookie, sizeof k->set_cookie,
             "%s=%s; HttpOnly; SameSite=Strict; Path=/%s%s", k->c->auth.cookie, clear ? "" : token,
             k->c->cfg->console.tls_cert[0] ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}

static json_t *session_json(struct fm_console *c, const struct console_session *s)
{
    const struct fm_config *cfg = c->cfg;
    char unit[FM_ID_MAX + FM_NAME_MAX] = "";
    node_lock(c);
    int rc = fm_node_self_unit(c->node, unit, sizeof unit);
    node_unlock(c);
    return json_pack("{s:{s:s, s:s}, s:s, s:{s:s, s:s, s:o}}", "operator", "name", s->name,
                     "role", fm_op_role_name(s->role), "csrf", s->csrf, "node", "name",
                     cfg->name, "role", fm_role_name(cfg->role), "unit",
                     rc == FM_OK ? json_string(unit) : json_null());
}

/* A failed login: counted, logged, maybe locking the name. */
static int login_failed(struct call *k, const char *name, const char *ip)
{
    struct console_auth *a = &k->c->auth;
    uint64_t now = fm_now_ms(); /* wall clock: a lock outlives a restart */
    pthread_mutex_lock(&a->lock);
    struct console_fail *f = fail_slot(a, name);
    f->fails++;
    f->last_ms = now;
    bool locks = f->fails >= CONSOLE_LOCK_FAILS;
    if (locks) {
        f->locked_until_ms = now + CONSOLE_LOCK_S * 1000u;
        f->fails = 0;
    }
    pthread_mutex_unlock(&a->lock);
    lockout_save(a);
    if (locks) {
        fm_log(FM_LOG_WARN, COMPONENT_CONSOLE, "operator '%s' locked for %u s after %u failed "
               "logins (last from %s)", name, CONSOLE_LOCK_S, CONSOLE_LOCK_FAILS, ip);
        snprintf(k->retry_after, sizeof k->retry_after, "%u", CONSOLE_LOCK_S);
        return reply_json(k, 429, json_pack("{s:s, s:s, s:i}", "error", "too many failed "
                          "logins: the account is locked for a while", "code", "locked",
                          "retry_after_s", CONSOLE_LOCK_S));
    }
    fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "failed login as '%s' from %s", name, ip);
    return reply_error(k, 401, "unauthorized", "wrong operator name or password");
}

int route_login(struct call *k)
{
    const char *name, *password;
    char ip[64];
    struct fm_operator op;
    if (body_str(k, "name", true, FM_OPERATOR_NAME_MAX, &name) != 0 ||
        body_str(k, "password", true, FM_PASSWORD_MAX + 1, &password) != 0)
        return 0;
    peer_ip(k->conn, ip, sizeof ip);
    uint64_t now = fm_mono_ms();
    pthread_mutex_lock(&k->c->auth.lock);
    uint64_t wait_s = locked_for(&k->c->auth, name, fm_now_ms());
    pthread_mutex_unlock(&k->c->auth.lock);
    if (wait_s > 0) {
        fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "login as locked operator '%s' from %s refused",
               name, ip);
        snprintf(k->retry_after, sizeof k->retry_after, "%llu", (unsigned long long)wait_s);
        return reply_json(k, 429, json_pack("{s:s, s:s, s:I}", "error", "too many failed "
                          "logins: the account is locked for a while", "code", "locked",
                          "retry_after_s", (json_int_t)wait_s));
    }
    if (!check_password(k->c, name, password, &op))
        return login_failed(k, name, ip);
    struct console_session s = { .role = op.role, .last_ms = fm_mono_ms() };
    fm_strlcpy(s.name, op.name, sizeof s.name);
    console_token(s.token);
    console_token(s.csrf);
    struct console_auth *a = &k->c->auth;
    pthread_mutex_lock(&a->lock);
    struct console_session *slot = &a->sessions[0];
    for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
        if (a->sessions[i].last_ms == 0 || now - a->sessions[i].last_ms > a->idle_ms) {
            slot = &a->sessions[i];
            break;
        }
        if (a->sessions[i].last_ms < slot->last_ms)
            slot = &a->sessions[i]; /* full: the longest idle one goes */
    }
    *slot = s;
    bool had_fails = false; /* a success wipes the name's count */
    for (size_t i = 0; i < CONSOLE_FAIL_SLOTS; i++)
        if (a->fails[i].last_ms != 0 && strcmp(a->fails[i].name, name) == 0) {
            had_fails = a->fails[i].fails > 0;
            a->fails[i].fails = 0;
            if (a->fails[i].locked_until_ms <= fm_now_ms()) /* else locked meanwhile */
                memset(&a->fails[i], 0, sizeof a->fails[i]);
        }
    pthread_mutex_unlock(&a->lock);
    if (had_fails)
        lockout_save(a);
    fm_log(FM_LOG_INFO, COMPONENT_CONSOLE, "operator '%s' (%s) logged in from %s", s.name,
           fm_op_role_name(s.role), ip);
    set_session_cookie(k, s.token, false);
    json_t *out = session_json(k->c, &s);
    sodium_memzero(&s, sizeof s);
    return reply_json(k, 200, out);
}

int route_logout(struct call *k)
{
    struct console_auth *a = &k->c->auth;
    pthread_mutex_lock(&a->lock);
    struct console_session *s = session_find(a, k->who.token, fm_mono_ms());
    if (s != NULL)
        sodium_memzero(s, sizeof *s);
    pthread_mutex_unlock(&a->lock);
    set_session_cookie(k, "", true);
    return reply_json(k, 204, NULL);
}

int route_session(struct call *k)
{
    return reply_json(k, 200, session_json(k->c, &k->who));
}
