/* xml.h: a small, capped, non-validating XML reader for what AWS Query services send.
 *
 * It reads a prolog (<?xml ...?>, comments, processing instructions), one root element, its
 * child elements, character data with the five predefined entities and numeric character
 * references, and CDATA sections. Attributes are checked for shape and skipped (namespaces
 * do not matter to us). DOCTYPE is refused: a DTD can declare entities, and nothing AWS sends
 * has one. Input size, nesting depth and element count are capped; anything malformed is
 * CMEK_ERR_PARSE with why naming the problem and its byte offset. Never reads past len. */
#ifndef CMEK_XML_H
#define CMEK_XML_H

#include <stddef.h>

#include "cmek/buf.h"
#include "cmek/error.h"

#define CMEK_XML_MAX_BYTES    (8u * 1024u * 1024u) /* the whole document */
#define CMEK_XML_MAX_DEPTH    64u                  /* nested elements */
#define CMEK_XML_MAX_ELEMENTS 100000u              /* elements in the document */

struct cmek_xml_node {
    char *name;           /* owned; as written, prefix included */
    struct cmek_buf text; /* owned; the decoded character data directly inside the element,
                             all runs concatenated (whitespace between children included) */
    struct cmek_xml_node **children; /* owned array of owned nodes */
    size_t n_children;
    size_t children_cap;
};

/* Parses data[0..len) into *root (owned by the caller: cmek_xml_node_destroy). On failure
 * *root is NULL and why (why_len bytes, NUL-terminated) says what and where. CMEK_ERR_LIMIT
 * past a cap, CMEK_ERR_NOMEM, otherwise CMEK_ERR_PARSE. */
CMEK_WUR int cmek_xml_parse(const char *data, size_t len, struct cmek_xml_node **root, char *why,
                            size_t why_len);

/* Frees node and everything under it; NULL-safe. */
void cmek_xml_node_destroy(struct cmek_xml_node *node);

/* The first child element called name, or NULL. Borrowed from node. */
const struct cmek_xml_node *cmek_xml_child(const struct cmek_xml_node *node, const char *name);

/* The text of the first child called name, or NULL when there is no such child. */
const char *cmek_xml_child_text(const struct cmek_xml_node *node, const char *name);

#endif
