/* xml.c: the small XML reader of xml.h. A recursive descent over the bytes, with the depth
 * bounded by CMEK_XML_MAX_DEPTH so the recursion is too. */
#include "xml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct s_parser {
    const char *data;
    size_t len;
    size_t pos;
    size_t elements;
    char *why;
    size_t why_len;
};

static int s_fail(struct s_parser *ps, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(struct s_parser *ps, int rc, const char *fmt, ...)
{
    if (ps->why != NULL && ps->why_len > 0) {
        char what[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        snprintf(ps->why, ps->why_len, "malformed XML at byte %zu: %s", ps->pos, what);
    }
    return rc;
}

static bool s_starts(const struct s_parser *ps, const char *lit)
{
    size_t n = strlen(lit);
    return ps->len - ps->pos >= n && memcmp(ps->data + ps->pos, lit, n) == 0;
}

static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void s_skip_space(struct s_parser *ps)
{
    while (ps->pos < ps->len && s_is_space(ps->data[ps->pos])) {
        ps->pos++;
    }
}

/* Moves past the next occurrence of end; false (position unchanged) when there is none. */
static bool s_skip_past(struct s_parser *ps, const char *end)
{
    size_t n = strlen(end);
    for (size_t i = ps->pos; ps->len - i >= n; i++) {
        if (memcmp(ps->data + i, end, n) == 0) {
            ps->pos = i + n;
            return true;
        }
    }
    return false;
}

static bool s_name_start(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
}

static bool s_name_char(unsigned char c)
{
    return s_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool s_name(struct s_parser *ps, struct cmek_view *name)
{
    size_t start = ps->pos;
    if (ps->pos >= ps->len || !s_name_start((unsigned char)ps->data[ps->pos])) {
        return false;
    }
    while (ps->pos < ps->len && s_name_char((unsigned char)ps->data[ps->pos])) {
        ps->pos++;
    }
    name->ptr = ps->data + start;
    name->len = ps->pos - start;
    return true;
}

/* Comments, processing instructions (the <?xml?> declaration among them) and space, where
 * the grammar allows "Misc". DOCTYPE is refused (see xml.h). */
static int s_misc(struct s_parser *ps)
{
    for (;;) {
        s_skip_space(ps);
        if (s_starts(ps, "<?")) {
            if (!s_skip_past(ps, "?>")) {
                return s_fail(ps, CMEK_ERR_PARSE, "unterminated processing instruction");
            }
        } else if (s_starts(ps, "<!--")) {
            ps->pos += 4;
            if (!s_skip_past(ps, "-->")) {
                return s_fail(ps, CMEK_ERR_PARSE, "unterminated comment");
            }
        } else if (s_starts(ps, "<!")) {
            return s_fail(ps, CMEK_ERR_PARSE, "DOCTYPE and declarations are not accepted");
        } else {
            return CMEK_OK;
        }
    }
}

static int s_append_utf8(struct cmek_buf *out, unsigned long cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return cmek_buf_append(out, b, n);
}

/* At '&': decodes one reference into out. */
static int s_entity(struct s_parser *ps, struct cmek_buf *out)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    size_t start = ps->pos + 1;
    size_t end = start;
    while (end < ps->len && end - start < 12 && ps->data[end] != ';') {
        end++;
    }
    if (end >= ps->len || ps->data[end] != ';' || end == start) {
        return s_fail(ps, CMEK_ERR_PARSE, "unterminated or empty entity reference");
    }
    struct cmek_view ref = {ps->data + start, end - start};
    if (ref.ptr[0] == '#') {
        unsigned long cp = 0;
        bool hex = ref.len > 1 && ref.ptr[1] == 'x';
        size_t i = hex ? 2 : 1;
        if (i >= ref.len) {
            return s_fail(ps, CMEK_ERR_PARSE, "empty character reference");
        }
        for (; i < ref.len; i++) {
            char c = ref.ptr[i];
            int d;
            if (c >= '0' && c <= '9') {
                d = c - '0';
            } else if (hex && c >= 'a' && c <= 'f') {
                d = c - 'a' + 10;
            } else if (hex && c >= 'A' && c <= 'F') {
                d = c - 'A' + 10;
            } else {
                return s_fail(ps, CMEK_ERR_PARSE, "bad digit in character reference");
            }
            cp = cp * (hex ? 16u : 10u) + (unsigned long)d;
            if (cp > 0x10ffff) {
                return s_fail(ps, CMEK_ERR_PARSE, "character reference out of range");
            }
        }
        if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
            return s_fail(ps, CMEK_ERR_PARSE, "character reference to an invalid character");
        }
        ps->pos = end + 1;
        return s_append_utf8(out, cp);
    }
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (cmek_view_eq_cstr(ref, named[i].name)) {
            ps->pos = end + 1;
            return cmek_buf_append_byte(out, named[i].c);
        }
    }
    return s_fail(ps, CMEK_ERR_PARSE, "unknown entity &%.*s;", (int)ref.len, ref.ptr);
}

static struct cmek_xml_node *s_node_new(struct cmek_view name)
{
    struct cmek_xml_node *node = calloc(1, sizeof *node);
    if (node == NULL) {
        return NULL;
    }
    node->name = cmek_view_dup(name);
    if (node->name == NULL) {
        free(node);
        return NULL;
    }
    cmek_buf_init(&node->text, CMEK_XML_MAX_BYTES);
    return node;
}

static int s_add_child(struct cmek_xml_node *parent, struct cmek_xml_node *child)
{
    if (parent->n_children == parent->children_cap) {
        size_t cap = parent->children_cap ? parent->children_cap * 2 : 4;
        struct cmek_xml_node **grown = realloc(parent->children, cap * sizeof *grown);
        if (grown == NULL) {
            return CMEK_ERR_NOMEM;
        }
        parent->children = grown;
        parent->children_cap = cap;
    }
    parent->children[parent->n_children++] = child;
    return CMEK_OK;
}

/* Attributes up to '>' or "/>": checked for shape, not kept. */
static int s_attributes(struct s_parser *ps, bool *empty)
{
    for (;;) {
        bool spaced = ps->pos < ps->len && s_is_space(ps->data[ps->pos]);
        s_skip_space(ps);
        if (s_starts(ps, "/>")) {
            ps->pos += 2;
            *empty = true;
            return CMEK_OK;
        }
        if (s_starts(ps, ">")) {
            ps->pos += 1;
            *empty = false;
            return CMEK_OK;
        }
        struct cmek_view attr;
        if (!spaced || !s_name(ps, &attr)) {
            return s_fail(ps, CMEK_ERR_PARSE, "expected an attribute, '>' or '/>'");
        }
        s_skip_space(ps);
        if (!s_starts(ps, "=")) {
            return s_fail(ps, CMEK_ERR_PARSE, "expected '=' after an attribute name");
        }
        ps->pos++;
        s_skip_space(ps);
        if (ps->pos >= ps->len || (ps->data[ps->pos] != '"' && ps->data[ps->pos] != '\'')) {
            return s_fail(ps, CMEK_ERR_PARSE, "expected a quoted attribute value");
        }
        char quote = ps->data[ps->pos++];
        while (ps->pos < ps->len && ps->data[ps->pos] != quote) {
            if (ps->data[ps->pos] == '<') {
                return s_fail(ps, CMEK_ERR_PARSE, "'<' in an attribute value");
            }
            ps->pos++;
        }
        if (ps->pos >= ps->len) {
            return s_fail(ps, CMEK_ERR_PARSE, "unterminated attribute value");
        }
        ps->pos++;
    }
}

static int s_element(struct s_parser *ps, unsigned depth, struct cmek_xml_node **out);

/* Appends character data to node. The document cap bounds it already; the buffer's own cap
 * is a second line. */
static int s_text(struct s_parser *ps, struct cmek_xml_node *node, const char *bytes, size_t len)
{
    int rc = cmek_buf_append(&node->text, bytes, len);
    if (rc == CMEK_ERR_LIMIT) {
        return s_fail(ps, rc, "text longer than %u bytes", CMEK_XML_MAX_BYTES);
    }
    return rc;
}

/* The content of node up to and including its end tag. */
static int s_content(struct s_parser *ps, unsigned depth, struct cmek_xml_node *node)
{
    int rc = CMEK_OK;
    while (rc == CMEK_OK) {
        if (ps->pos >= ps->len) {
            return s_fail(ps, CMEK_ERR_PARSE, "document ends inside <%s>", node->name);
        }
        char c = ps->data[ps->pos];
        if (c == '&') {
            rc = s_entity(ps, &node->text);
        } else if (c != '<') {
            size_t start = ps->pos;
            while (ps->pos < ps->len && ps->data[ps->pos] != '<' && ps->data[ps->pos] != '&') {
                if (ps->data[ps->pos] == '\0') {
                    return s_fail(ps, CMEK_ERR_PARSE, "NUL byte in text");
                }
                ps->pos++;
            }
            rc = s_text(ps, node, ps->data + start, ps->pos - start);
        } else if (s_starts(ps, "</")) {
            size_t at = ps->pos;
            ps->pos += 2;
            struct cmek_view name;
            if (!s_name(ps, &name) || !cmek_view_eq_cstr(name, node->name)) {
                ps->pos = at;
                return s_fail(ps, CMEK_ERR_PARSE, "expected </%s>", node->name);
            }
            s_skip_space(ps);
            if (!s_starts(ps, ">")) {
                return s_fail(ps, CMEK_ERR_PARSE, "expected '>' to end </%s", node->name);
            }
            ps->pos++;
            return CMEK_OK;
        } else if (s_starts(ps, "<![CDATA[")) {
            ps->pos += 9;
            size_t start = ps->pos;
            if (!s_skip_past(ps, "]]>")) {
                return s_fail(ps, CMEK_ERR_PARSE, "unterminated CDATA section");
            }
            rc = s_text(ps, node, ps->data + start, ps->pos - 3 - start);
        } else if (s_starts(ps, "<!--")) {
            ps->pos += 4;
            if (!s_skip_past(ps, "-->")) {
                return s_fail(ps, CMEK_ERR_PARSE, "unterminated comment");
            }
        } else if (s_starts(ps, "<?")) {
            if (!s_skip_past(ps, "?>")) {
                return s_fail(ps, CMEK_ERR_PARSE, "unterminated processing instruction");
            }
        } else if (s_starts(ps, "<!")) {
            return s_fail(ps, CMEK_ERR_PARSE, "declarations are not accepted inside elements");
        } else {
            struct cmek_xml_node *child = NULL;
            rc = s_element(ps, depth + 1, &child);
            if (rc == CMEK_OK) {
                rc = s_add_child(node, child);
                if (rc) {
                    cmek_xml_node_destroy(child);
                }
            }
        }
    }
    return rc;
}

static int s_element(struct s_parser *ps, unsigned depth, struct cmek_xml_node **out)
{
    int rc = CMEK_OK;
    struct cmek_xml_node *node = NULL;
    struct cmek_view name;
    bool empty = false;

    *out = NULL;
    if (depth > CMEK_XML_MAX_DEPTH) {
        return s_fail(ps, CMEK_ERR_LIMIT, "elements nested deeper than %u", CMEK_XML_MAX_DEPTH);
    }
    if (++ps->elements > CMEK_XML_MAX_ELEMENTS) {
        return s_fail(ps, CMEK_ERR_LIMIT, "more than %u elements", CMEK_XML_MAX_ELEMENTS);
    }
    if (!s_starts(ps, "<")) {
        return s_fail(ps, CMEK_ERR_PARSE, "expected an element");
    }
    ps->pos++;
    if (!s_name(ps, &name)) {
        return s_fail(ps, CMEK_ERR_PARSE, "expected an element name after '<'");
    }
    node = s_node_new(name);
    if (node == NULL) {
        return CMEK_ERR_NOMEM;
    }
    rc = s_attributes(ps, &empty);
    if (rc == CMEK_OK && !empty) {
        rc = s_content(ps, depth, node);
    }
    if (rc) {
        cmek_xml_node_destroy(node);
        return rc;
    }
    *out = node;
    return CMEK_OK;
}

int cmek_xml_parse(const char *data, size_t len, struct cmek_xml_node **root, char *why,
                   size_t why_len)
{
    struct s_parser ps = {data, len, 0, 0, why, why_len};
    struct cmek_xml_node *node = NULL;
    int rc;

    *root = NULL;
    if (why != NULL && why_len > 0) {
        why[0] = '\0';
    }
    if (data == NULL && len > 0) {
        return CMEK_ERR_INVALID_ARG;
    }
    if (len > CMEK_XML_MAX_BYTES) {
        return s_fail(&ps, CMEK_ERR_LIMIT, "document larger than %u bytes", CMEK_XML_MAX_BYTES);
    }
    if (s_starts(&ps, "\xef\xbb\xbf")) { /* a UTF-8 byte order mark */
        ps.pos += 3;
    }
    rc = s_misc(&ps);
    if (rc) {
        goto done;
    }
    if (ps.pos >= ps.len) {
        rc = s_fail(&ps, CMEK_ERR_PARSE, "no root element");
        goto done;
    }
    rc = s_element(&ps, 1, &node);
    if (rc) {
        goto done;
    }
    rc = s_misc(&ps);
    if (rc) {
        goto done;
    }
    if (ps.pos != ps.len) {
        rc = s_fail(&ps, CMEK_ERR_PARSE, "content after the root element");
        goto done;
    }
    *root = node;
    node = NULL;
done:
    cmek_xml_node_destroy(node);
    return rc;
}

void cmek_xml_node_destroy(struct cmek_xml_node *node)
{
    if (node == NULL) {
        return;
    }
    for (size_t i = 0; i < node->n_children; i++) {
        cmek_xml_node_destroy(node->children[i]);
    }
    free(node->children);
    cmek_buf_clean_up(&node->text);
    free(node->name);
    free(node);
}

const struct cmek_xml_node *cmek_xml_child(const struct cmek_xml_node *node, const char *name)
{
    if (node == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < node->n_children; i++) {
        if (strcmp(node->children[i]->name, name) == 0) {
            return node->children[i];
        }
    }
    return NULL;
}

const char *cmek_xml_child_text(const struct cmek_xml_node *node, const char *name)
{
    const struct cmek_xml_node *child = cmek_xml_child(node, name);
    return child != NULL ? cmek_buf_cstr(&child->text) : NULL;
}
