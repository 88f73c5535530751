/* jsonpos.h: where each value of a JSON text starts, by path.
 *
 * jansson keeps no positions for the values it parses, and scenario-file errors must say
 * FILE:LINE:COLUMN. So after jansson has accepted a text, this scanner walks the same text
 * once and records, for every value, its path and the line and column of the value and (for
 * object members) of its key. Paths read like the scenario docs: the root is "", members
 * are ".name" ("name" at the root), elements "[3]": "steps[3].args.KeyId". A key that is
 * not made of letters, digits, '_', '-' and '$' is written ["key"] (see
 * crun_jsonpos_append_key), so "Role.Arn" under save is save["Role.Arn"].
 *
 * Lines and columns count from 1; a column counts characters (UTF-8 code points), as
 * jansson's own error columns do. */
#ifndef CRUN_JSONPOS_H
#define CRUN_JSONPOS_H

#include <stdbool.h>
#include <stddef.h>

#include "cmek/buf.h"
#include "cmek/error.h"

#define CRUN_PATH_MAX_BYTES 4096 /* the longest path the scanner records */

struct crun_pos {
    int line;
    int column;
};

struct crun_jsonpos;

/* Scans text (len bytes, which jansson has already accepted). *out is owned by the caller
 * (crun_jsonpos_destroy). CMEK_ERR_PARSE if the text is not JSON after all, CMEK_ERR_LIMIT
 * for a path over CRUN_PATH_MAX_BYTES. */
CMEK_WUR int crun_jsonpos_scan(const char *text, size_t len, struct crun_jsonpos **out);
void crun_jsonpos_destroy(struct crun_jsonpos *pos); /* NULL-safe */

/* The position of the value at path; false when no value has that path. */
bool crun_jsonpos_value(const struct crun_jsonpos *pos, const char *path, struct crun_pos *out);
/* The position of the key of the member at path (an array element or the root: its value). */
bool crun_jsonpos_key(const struct crun_jsonpos *pos, const char *path, struct crun_pos *out);

/* Appends ".key" (or "key" when path is empty) or ["key"] to path, as the scanner does. */
CMEK_WUR int crun_jsonpos_append_key(struct cmek_buf *path, const char *key);
/* Appends "[index]". */
CMEK_WUR int crun_jsonpos_append_index(struct cmek_buf *path, size_t index);

#endif
