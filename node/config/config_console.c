/*
 * config_console.c — the defaults of the node YAML's `console` section,
 * the loopback test the daemon's TLS rule needs, and writing the section
 * back (node/console/, docs/console-api.md). The section is parsed with
 * the rest in config.c.
 */
#include "config_int.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

void fm_console_conf_defaults(struct fm_console_conf *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = true;
    fm_strlcpy(c->host, "127.0.0.1", sizeof c->host);
    c->port = FM_CONSOLE_DEFAULT_PORT;
    c->session_idle_s = 1800;
}

bool fm_console_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return false; /* a name: it may resolve to anything */
}

void config_write_console(FILE *f, const struct fm_console_conf *c)
{
    struct fm_console_conf def;
    fm_console_conf_defaults(&def);
    if (c->enabled == def.enabled && c->port == def.port && strcmp(c->host, def.host) == 0)
        return; /* a node that never set it keeps following the defaults */
    bool v6 = strchr(c->host, ':') != NULL;
    fprintf(f, "\nconsole:\n  enabled: %s\n  listen: \"%s%s%s:%u\"\n",
            c->enabled ? "true" : "false", v6 ? "[" : "", c->host, v6 ? "]" : "",
            (unsigned)c->port);
}
