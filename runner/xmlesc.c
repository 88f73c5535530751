/* xmlesc.c: XML escaping that also repairs what XML cannot carry, since failure messages
 * quote services verbatim. */
#include "xmlesc.h"

#include <stdbool.h>
#include <stdint.h>

/* Appends one UTF-8 sequence starting at p if it is valid and XML-legal; returns its length,
 * or 0 when it is not (the caller writes U+FFFD and moves one byte). */
static size_t s_utf8_char(const unsigned char *p, uint32_t *cp)
{
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    size_t n = (p[0] & 0xE0) == 0xC0   ? 2
               : (p[0] & 0xF0) == 0xE0 ? 3
               : (p[0] & 0xF8) == 0xF0 ? 4
                                       : 0;
    if (n == 0) {
        return 0;
    }
    uint32_t v = p[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        return 0;
    }
    *cp = v;
    return n;
}

int crun_xml_escape(struct cmek_buf *out, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    int rc = CMEK_OK;
    while (*p != '\0' && rc == CMEK_OK) {
        uint32_t cp = 0;
        size_t n = s_utf8_char(p, &cp);
        bool legal =
            n > 0 && (cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                      (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000);
        if (!legal) {
            rc = cmek_buf_append_str(out, "\xEF\xBF\xBD");
            p += n > 0 ? n : 1;
            continue;
        }
        switch (cp) {
        case '&':
            rc = cmek_buf_append_str(out, "&amp;");
            break;
        case '<':
            rc = cmek_buf_append_str(out, "&lt;");
            break;
        case '>':
            rc = cmek_buf_append_str(out, "&gt;");
            break;
        case '"':
            rc = cmek_buf_append_str(out, "&quot;");
            break;
        case '\'':
            rc = cmek_buf_append_str(out, "&apos;");
            break;
        case '\n':
            rc = cmek_buf_append_str(out, "&#10;");
            break;
        case '\r':
            rc = cmek_buf_append_str(out, "&#13;");
            break;
        case '\t':
            rc = cmek_buf_append_str(out, "&#9;");
            break;
        default:
            rc = cmek_buf_append(out, p, n);
            break;
        }
        p += n;
    }
    return rc;
}
