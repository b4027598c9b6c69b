/*
 * cap_parse.c — reading a CAP 1.2 alert from another system (a provincial
 * warning platform, a weather service) strictly, through libxml2.
 *
 * Hostile input first: the bytes are capped (FMT_CAP_MAX_BYTES) and
 * scanned for a DOCTYPE or ENTITY declaration before libxml2 sees them, so
 * no entity can be declared (no "billion laughs", no external entity, no
 * file or URL fetched); libxml2 runs with XML_PARSE_NONET and without
 * XML_PARSE_NOENT, DTD loading or XML_PARSE_HUGE, so its own limits (depth
 * 256, text size) stay on, and a document that still carries a DTD is
 * refused. Then the tree is walked against the schema tables
 * (cap_schema.c): each child in its parent's sequence order, each within
 * its occurrences, no unknown element or attribute, each value checked
 * and kept. Only the groups the schema names are entered, so the walk is
 * at most four levels deep whatever the document holds.
 */
#include "formats_int.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

struct walk {
    const char *name;
    char *err;
    size_t cap;
};

static int walk_fail(struct walk *w, const xmlNode *at, const char *el, const char *fmt, ...)
    FM_PRINTF(4, 5);
static int walk_fail(struct walk *w, const xmlNode *at, const char *el, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(w->err, w->cap, "%s:%ld: %s: ", w->name, at ? xmlGetLineNo(at) : 0L, el);
    if (n < 0 || (size_t)n >= w->cap)
        return FM_EDECODE;
    va_start(ap, fmt);
    vsnprintf(w->err + n, w->cap - (size_t)n, fmt, ap);
    va_end(ap);
    return FM_EDECODE;
}

static const char *ename(const xmlNode *n) { return (const char *)n->name; }

static bool is_ns(const xmlNode *n, const char *href)
{
    return n->ns != NULL && n->ns->href != NULL && strcmp((const char *)n->ns->href, href) == 0;
}

static bool blank(const xmlChar *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* Attributes: only xsi:* (schemaLocation and the like) are allowed. */
static int check_attrs(struct walk *w, const xmlNode *n)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (a->ns == NULL || a->ns->href == NULL || strcmp((const char *)a->ns->href, XSI_NS))
            return walk_fail(w, n, ename(n), "attribute \"%s\" is not allowed in CAP",
                             (const char *)a->name);
    return FM_OK;
}

/* The text of a leaf element, trimmed, into a malloc'd string. */
static int leaf_text(struct walk *w, const xmlNode *n, const struct cap_el *el, char **out)
{
    *out = NULL;
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE &&
            c->type != XML_COMMENT_NODE)
            return walk_fail(w, c, el->name, "holds <%s>, but CAP gives it only text",
                             c->name ? (const char *)c->name : "?");
    xmlChar *t = xmlNodeGetContent(n);
    if (t == NULL)
        t = xmlStrdup((const xmlChar *)"");
    if (t == NULL)
        return FM_ENOMEM;
    const char *s = (const char *)t;
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    while (len && strchr(" \t\r\n", *s)) {
        s++;
        len--;
    }
    *out = malloc(len + 1);
    if (*out != NULL) {
        memcpy(*out, s, len);
        (*out)[len] = '\0';
    }
    xmlFree(t);
    return *out ? FM_OK : FM_ENOMEM;
}

static void bbox_add(struct fmt_cap_area *a, double lat, double lon)
{
    if (!a->has_bbox) {
        a->min_lat = a->max_lat = lat;
        a->min_lon = a->max_lon = lon;
        a->has_bbox = true;
        return;
    }
    a->min_lat = lat < a->min_lat ? lat : a->min_lat;
    a->max_lat = lat > a->max_lat ? lat : a->max_lat;
    a->min_lon = lon < a->min_lon ? lon : a->min_lon;
    a->max_lon = lon > a->max_lon ? lon : a->max_lon;
}

/* Keeps a checked leaf value (the n-th occurrence, from 1) in base. */
static void keep_leaf(const struct cap_el *el, void *base, size_t n, const char *v)
{
    uint8_t *b = base;
    if (b == NULL)
        return;
    switch (el->keep) {
    case CK_STR:
        memcpy(b + el->off, v, strlen(v) + 1);
        break;
    case CK_LIST:
        memcpy(b + el->off + (n - 1) * FMT_CAP_WORD_MAX, v, strlen(v) + 1);
        break;
    case CK_POLYGON:
        for (const char *p = v; *p;) {
            double lat, lon;
            if (cap_parse_point(&p, &lat, &lon) != FM_OK)
                break; /* cannot happen: checked */
            bbox_add(base, lat, lon);
            while (*p && strchr(" \t\r\n", *p))
                p++;
        }
        break;
    case CK_CIRCLE: {
        struct fmt_cap_circle *c = (struct fmt_cap_circle *)(b + el->off) + (n - 1);
        const char *p = v;
        if (cap_parse_point(&p, &c->lat, &c->lon) == FM_OK)
            c->radius_km = strtod(p, NULL);
        bbox_add(base, c->lat, c->lon);
        break;
    }
    default:
        break;
    }
}

/* Where the n-th occurrence of a group element is kept (NULL: not kept). */
static void *group_base(const struct cap_el *el, void *base, size_t n)
{
    uint8_t *b = base;
    if (b == NULL)
        return NULL;
    switch (el->keep) {
    case CK_INFO:
        return (struct fmt_cap_info *)(b + el->off) + (n - 1);
    case CK_AREA:
        return (struct fmt_cap_area *)(b + el->off) + (n - 1);
    case CK_PAIR:
        return (struct fmt_cap_pair *)(b + el->off) + (n - 1);
    default:
        return NULL;
    }
}

static int walk_group(struct walk *w, const xmlNode *parent, const struct cap_group *g,
                      void *base, int depth);

/* One child element of a group: its place, its count, its value. */
static int walk_child(struct walk *w, const xmlNode *c, const struct cap_group *g, void *base,
                      size_t *last, size_t *count, int depth)
{
    size_t i = 0;
    while (i < g->nels && strcmp(g->els[i].name, ename(c)) != 0)
        i++;
    if (i == g->nels)
        return walk_fail(w, c, ename(c), "unknown element in <%s>", g->name);
    const struct cap_el *el = &g->els[i];
    if (i < *last)
        return walk_fail(w, c, el->name, "out of order: CAP puts it before <%s>",
                         g->els[*last].name);
    *last = i;
    size_t n = ++count[i];
    if (el->max && n > el->max)
        return walk_fail(w, c, el->name, "may appear only once in <%s>", g->name);
    if (el->keep_max && n > el->keep_max)
        return walk_fail(w, c, el->name, "more than %zu in one <%s>, the most this importer "
                         "accepts", el->keep_max, g->name);
    int rc = check_attrs(w, c);
    if (rc != FM_OK)
        return rc;
    if (base != NULL && el->count_off)
        *(size_t *)((uint8_t *)base + el->count_off) = n;
    if (el->check == CV_GROUP)
        return walk_group(w, c, el->group, group_base(el, base, n), depth + 1);
    char *v, why[256];
    if ((rc = leaf_text(w, c, el, &v)) != FM_OK)
        return rc;
    if ((rc = cap_check_value(el, v, why, sizeof why)) == FM_OK)
        keep_leaf(el, base, n, v);
    else
        walk_fail(w, c, el->name, "%s", why);
    free(v);
    return rc;
}

/* Rules across elements that a sequence cannot say. */
static int group_rules(struct walk *w, const xmlNode *n, const struct cap_group *g,
                       const size_t *count, const void *base)
{
    if (g == &cap_alert_group && base != NULL) {
        const struct fmt_cap_alert *a = base;
        if (strcmp(a->scope, "Restricted") == 0 && a->restriction[0] == '\0')
            return walk_fail(w, n, "restriction", "required when <scope> is Restricted");
        if (strcmp(a->scope, "Private") == 0 && a->addresses[0] == '\0')
            return walk_fail(w, n, "addresses", "required when <scope> is Private");
    }
    if (strcmp(g->name, "area") == 0 && count[5] && !count[4])
        return walk_fail(w, n, "ceiling", "may be given only with <altitude>");
    return FM_OK;
}

static int walk_group(struct walk *w, const xmlNode *parent, const struct cap_group *g,
                      void *base, int depth)
{
    size_t count[32] = { 0 }, last = 0;
    bool dsig = false;
    int rc = FM_OK;
    if (depth > 4 || g->nels > 32)
        return walk_fail(w, parent, g->name, "nested too deep");
    for (const xmlNode *c = parent->children; c && rc == FM_OK; c = c->next) {
        if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
            continue;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (!blank(c->content))
                rc = walk_fail(w, c, g->name, "holds text outside any element");
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            return walk_fail(w, c, g->name, "holds a node of type %d", (int)c->type);
        if (g == &cap_alert_group && is_ns(c, DSIG_NS)) {
            dsig = true; /* an XML signature may close the alert; not verified */
            if (base)
                ((struct fmt_cap_alert *)base)->signed_xmldsig = true;
            continue;
        }
        if (!is_ns(c, FMT_CAP_NS))
            return walk_fail(w, c, ename(c), "not in the CAP 1.2 namespace (%s)", FMT_CAP_NS);
        if (dsig)
            return walk_fail(w, c, ename(c), "after the XML signature, which must come last");
        rc = walk_child(w, c, g, base, &last, count, depth);
    }
    for (size_t i = 0; rc == FM_OK && i < g->nels; i++)
        if (count[i] < g->els[i].min)
            rc = walk_fail(w, parent, g->name, "lacks its required <%s>", g->els[i].name);
    return rc == FM_OK ? group_rules(w, parent, g, count, base) : rc;
}

/* Before libxml2 sees anything: size, NUL bytes, declarations. */
static int prescan(struct walk *w, const char *buf, size_t len)
{
    static const char *const banned[] = { "<!DOCTYPE", "<!ENTITY" };
    long line = 1;
    if (len > FMT_CAP_MAX_BYTES) {
        snprintf(w->err, w->cap, "%s: %zu bytes, more than the %u a CAP alert may have here",
                 w->name, len, FMT_CAP_MAX_BYTES);
        return FM_ETOOBIG;
    }
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            line++;
        if (buf[i] == '\0')
            return walk_fail(w, NULL, "document", "a NUL byte at line %ld", line);
        for (size_t b = 0; b < 2; b++)
            if (buf[i] == '<' && len - i >= strlen(banned[b]) &&
                memcmp(buf + i, banned[b], strlen(banned[b])) == 0) {
                snprintf(w->err, w->cap, "%s:%ld: document: %s refused: CAP needs no DTD, and "
                         "entities (internal or external) are never expanded here",
                         w->name, line, banned[b] + 2);
                return FM_EDECODE;
            }
    }
    return FM_OK;
}

static int parse_error(struct walk *w, xmlParserCtxtPtr ctx)
{
    const xmlError *e = xmlCtxtGetLastError(ctx);
    char msg[256] = "not well-formed XML";
    if (e != NULL && e->message != NULL) {
        snprintf(msg, sizeof msg, "%s", e->message);
        msg[strcspn(msg, "\n")] = '\0';
    }
    snprintf(w->err, w->cap, "%s:%d: document: %s", w->name, e ? e->line : 0, msg);
    return FM_EDECODE;
}

/* libxml2 prints some errors (encoding conversions) through its generic
 * handler whatever the parse options say; the caller gets them from the
 * context's last error instead. */
static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int fmt_cap_parse(const char *buf, size_t len, const char *name, struct fmt_cap_alert *out,
                  char *err, size_t errcap)
{
    struct walk w = { name ? name : "alert", err, errcap };
    memset(out, 0, sizeof *out);
    err[0] = '\0';
    int rc = prescan(&w, buf, len);
    if (rc != FM_OK)
        return rc;
    xmlSetGenericErrorFunc(NULL, quiet);
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    if (ctx == NULL)
        return FM_ENOMEM;
    xmlDocPtr doc = xmlCtxtReadMemory(ctx, buf, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                          XML_PARSE_BIG_LINES);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (doc == NULL || root == NULL)
        rc = parse_error(&w, ctx);
    else if (doc->intSubset != NULL || doc->extSubset != NULL)
        rc = walk_fail(&w, root, "document", "has a DTD, which CAP does not use");
    else if (strcmp(ename(root), "alert") != 0)
        rc = walk_fail(&w, root, ename(root), "the root element must be <alert>");
    else if (!is_ns(root, FMT_CAP_NS))
        rc = walk_fail(&w, root, "alert", "namespace %s%s, not CAP 1.2's %s",
                       root->ns && root->ns->href ? (const char *)root->ns->href : "(none)",
                       root->ns && root->ns->href && strstr((const char *)root->ns->href, "cap:1.1")
                           ? " (CAP 1.1; only 1.2 is read)"
                           : "",
                       FMT_CAP_NS);
    else if ((rc = check_attrs(&w, root)) == FM_OK)
        rc = walk_group(&w, root, &cap_alert_group, out, 0);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctx);
    if (rc != FM_OK)
        memset(out, 0, sizeof *out);
    return rc;
}
