/*
 * pidf.c — a point as a PIDF-LO document (RFC 4119 / RFC 5491: a GML
 * Point in WGS 84, with an optional civic "additional location" text,
 * RFC 5139's LOC), which NENA's EIDO carries as its location by value.
 * Written through libxml2's text writer like every XML we produce.
 */
#include "formats.h"

#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X(s) ((const xmlChar *)(s))

static int pidf_body(xmlTextWriterPtr w, const char *entity, double lat, double lon,
                     uint64_t ms, const char *text)
{
    char pos[64], when[FMT_CAP_TIME_LEN];
    snprintf(pos, sizeof pos, "%.7f %.7f", lat, lon);
    fmt_cap_time(ms, when);
    bool ok =
        xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) >= 0 &&
        xmlTextWriterStartElement(w, X("presence")) >= 0 &&
        xmlTextWriterWriteAttribute(w, X("xmlns"), X("urn:ietf:params:xml:ns:pidf")) >= 0 &&
        xmlTextWriterWriteAttribute(w, X("xmlns:gp"), X("urn:ietf:params:xml:ns:pidf:geopriv10")) >= 0 &&
        xmlTextWriterWriteAttribute(w, X("xmlns:gml"), X("http://www.opengis.net/gml")) >= 0 &&
        xmlTextWriterWriteAttribute(w, X("xmlns:ca"), X("urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr")) >= 0 &&
        xmlTextWriterWriteAttribute(w, X("entity"), X(entity)) >= 0 &&
        xmlTextWriterStartElement(w, X("tuple")) >= 0 &&
        xmlTextWriterWriteAttribute(w, X("id"), X("incident")) >= 0 &&
        xmlTextWriterStartElement(w, X("status")) >= 0 &&
        xmlTextWriterStartElement(w, X("gp:geopriv")) >= 0 &&
        xmlTextWriterStartElement(w, X("gp:location-info")) >= 0 &&
        xmlTextWriterStartElement(w, X("gml:Point")) >= 0 &&
        xmlTextWriterWriteAttribute(w, X("srsName"), X("urn:ogc:def:crs:EPSG::4326")) >= 0 &&
        xmlTextWriterWriteElement(w, X("gml:pos"), X(pos)) >= 0 &&
        xmlTextWriterEndElement(w) >= 0;
    if (ok && text && text[0])
        ok = xmlTextWriterStartElement(w, X("ca:civicAddress")) >= 0 &&
             xmlTextWriterWriteElement(w, X("ca:LOC"), X(text)) >= 0 &&
             xmlTextWriterEndElement(w) >= 0;
    ok = ok && xmlTextWriterEndElement(w) >= 0 && /* location-info */
         xmlTextWriterStartElement(w, X("gp:usage-rules")) >= 0 &&
         xmlTextWriterEndElement(w) >= 0 && xmlTextWriterEndElement(w) >= 0 && /* geopriv */
         xmlTextWriterEndElement(w) >= 0 &&                                     /* status */
         xmlTextWriterWriteElement(w, X("timestamp"), X(when)) >= 0 &&
         xmlTextWriterEndDocument(w) >= 0;
    return ok ? FM_OK : FM_ENOMEM;
}

int fmt_pidf_point(const char *entity, double lat, double lon, uint64_t ms, const char *text,
                   char **out)
{
    *out = NULL;
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    int rc = w ? pidf_body(w, entity, lat, lon, ms, text) : FM_ENOMEM;
    if (w)
        xmlFreeTextWriter(w); /* flushes into buf */
    if (rc == FM_OK) {
        const char *s = (const char *)xmlBufferContent(buf);
        size_t n = strlen(s);
        if ((*out = malloc(n + 1)) == NULL)
            rc = FM_ENOMEM;
        else
            memcpy(*out, s, n + 1);
    }
    if (buf)
        xmlBufferFree(buf);
    return rc;
}
