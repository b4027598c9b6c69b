/*
 * cap_write.c — writing a CAP 1.2 alert through libxml2's text writer,
 * which escapes every value (never string concatenation), in the order
 * of the same schema tables the parser checks against; then the result is
 * parsed back by fmt_cap_parse, so nothing invalid ever leaves (a value
 * too long, an empty required element, a bad time): the caller gets
 * FM_EINVAL and the parser's reason instead.
 */
#include "formats_int.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define X(s) ((const xmlChar *)(s))

static int write_group(xmlTextWriterPtr wr, const struct cap_group *g, const void *base);

static int write_text(xmlTextWriterPtr wr, const char *name, const char *v)
{
    return xmlTextWriterWriteElement(wr, X(name), X(v)) < 0 ? FM_ENOMEM : FM_OK;
}

static int write_sub(xmlTextWriterPtr wr, const struct cap_el *el, const void *item)
{
    if (xmlTextWriterStartElement(wr, X(el->name)) < 0)
        return FM_ENOMEM;
    int rc = write_group(wr, el->group, item);
    if (rc == FM_OK && xmlTextWriterEndElement(wr) < 0)
        rc = FM_ENOMEM;
    return rc;
}

static int write_el(xmlTextWriterPtr wr, const struct cap_el *el, const uint8_t *b)
{
    size_t n = el->count_off ? *(const size_t *)(b + el->count_off) : 0;
    int rc = FM_OK;
    if (el->keep_max && n > el->keep_max)
        n = el->keep_max;
    switch (el->keep) {
    case CK_STR:
        return b[el->off] ? write_text(wr, el->name, (const char *)b + el->off) : FM_OK;
    case CK_LIST:
        for (size_t k = 0; rc == FM_OK && k < n; k++)
            rc = write_text(wr, el->name, (const char *)b + el->off + k * FMT_CAP_WORD_MAX);
        return rc;
    case CK_CIRCLE:
        for (size_t k = 0; rc == FM_OK && k < n; k++) {
            const struct fmt_cap_circle *c = (const struct fmt_cap_circle *)(b + el->off) + k;
            char v[96];
            snprintf(v, sizeof v, "%.7f,%.7f %.3f", c->lat, c->lon, c->radius_km);
            rc = write_text(wr, el->name, v);
        }
        return rc;
    case CK_PAIR:
        for (size_t k = 0; rc == FM_OK && k < n; k++)
            rc = write_sub(wr, el, (const struct fmt_cap_pair *)(b + el->off) + k);
        return rc;
    case CK_INFO:
        for (size_t k = 0; rc == FM_OK && k < n; k++)
            rc = write_sub(wr, el, (const struct fmt_cap_info *)(b + el->off) + k);
        return rc;
    case CK_AREA:
        for (size_t k = 0; rc == FM_OK && k < n; k++)
            rc = write_sub(wr, el, (const struct fmt_cap_area *)(b + el->off) + k);
        return rc;
    default:
        return FM_OK; /* polygons, resources, altitudes: read, never kept */
    }
}

static int write_group(xmlTextWriterPtr wr, const struct cap_group *g, const void *base)
{
    int rc = FM_OK;
    for (size_t i = 0; rc == FM_OK && i < g->nels; i++)
        rc = write_el(wr, &g->els[i], base);
    return rc;
}

static int write_doc(const struct fmt_cap_alert *a, xmlBufferPtr buf)
{
    xmlTextWriterPtr wr = xmlNewTextWriterMemory(buf, 0);
    if (wr == NULL)
        return FM_ENOMEM;
    int rc = FM_ENOMEM;
    if (xmlTextWriterSetIndent(wr, 1) >= 0 && xmlTextWriterSetIndentString(wr, X("  ")) >= 0 &&
        xmlTextWriterStartDocument(wr, NULL, "UTF-8", NULL) >= 0 &&
        xmlTextWriterStartElement(wr, X("alert")) >= 0 &&
        xmlTextWriterWriteAttribute(wr, X("xmlns"), X(FMT_CAP_NS)) >= 0) {
        rc = write_group(wr, &cap_alert_group, a);
        if (rc == FM_OK && (xmlTextWriterEndElement(wr) < 0 || xmlTextWriterEndDocument(wr) < 0))
            rc = FM_ENOMEM;
    }
    xmlFreeTextWriter(wr);
    return rc;
}

int fmt_cap_write(const struct fmt_cap_alert *a, char **out, size_t *len, char *err,
                  size_t errcap)
{
    *out = NULL;
    *len = 0;
    err[0] = '\0';
    xmlBufferPtr buf = xmlBufferCreate();
    struct fmt_cap_alert *back = malloc(sizeof *back);
    int rc = buf && back ? write_doc(a, buf) : FM_ENOMEM;
    if (rc == FM_OK) {
        const char *text = (const char *)xmlBufferContent(buf);
        size_t n = (size_t)xmlBufferLength(buf);
        /* the same rules as reading: what we write always reads back */
        if (fmt_cap_parse(text, n, "written alert", back, err, errcap) != FM_OK)
            rc = FM_EINVAL;
        else if ((*out = malloc(n + 1)) == NULL)
            rc = FM_ENOMEM;
        else {
            memcpy(*out, text, n + 1);
            *len = n;
        }
    }
    free(back);
    if (buf)
        xmlBufferFree(buf);
    return rc;
}

void fmt_cap_time(uint64_t ms, char out[FMT_CAP_TIME_LEN])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL ||
        strftime(out, FMT_CAP_TIME_LEN, "%Y-%m-%dT%H:%M:%S-00:00", &tm) == 0)
        snprintf(out, FMT_CAP_TIME_LEN, "1970-01-01T00:00:00-00:00");
}

int fmt_cap_time_parse(const char *s, uint64_t *ms)
{
    static const struct cap_el el = { "time", 1, 1, CV_TIME, NULL, 25, CK_NONE, 0, 0, 0, NULL };
    char why[128];
    if (cap_check_value(&el, s, why, sizeof why) != FM_OK)
        return FM_EDECODE;
    struct tm tm = { 0 };
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
    tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
    tm.tm_hour = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_min = (s[14] - '0') * 10 + (s[15] - '0');
    tm.tm_sec = (s[17] - '0') * 10 + (s[18] - '0');
    long off = ((s[20] - '0') * 10 + (s[21] - '0')) * 3600L + ((s[23] - '0') * 10 + (s[24] - '0')) * 60L;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return FM_EDECODE;
    t -= s[19] == '+' ? off : -off;
    if (t < 0)
        return FM_EDECODE;
    *ms = (uint64_t)t * 1000;
    return FM_OK;
}
