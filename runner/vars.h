/* vars.h: ${...} references in scenario strings and the {"$file"|"$json"|"$base64": ...}
 * value builders (docs/scenarios.md, "Values").
 *
 * Two uses share one grammar: the static pass (scenario.c) lists every reference of a
 * template so undefined names are found before any step runs, and the run (exec.c) builds
 * the values a step sends and expects.
 *
 * Grammar, in any string: "${name}" (name: a letter or '_', then letters, digits, '_', '-');
 * "${env.NAME}" and "${env.NAME:-default}" (NAME: letters, digits, '_'; default: any text
 * without '}'); "$${" is a literal "${". Any other '$' is itself. */
#ifndef CRUN_VARS_H
#define CRUN_VARS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmek/buf.h"
#include "cmek/error.h"

#define CRUN_TEXT_MAX_BYTES (1024 * 1024) /* a substituted string or a $file's text */
#define CRUN_VAR_NAME_MAX   128

enum crun_ref_kind {
    CRUN_REF_VAR = 0, /* ${name} */
    CRUN_REF_ENV,     /* ${env.NAME} or ${env.NAME:-default} */
};

struct crun_ref {
    enum crun_ref_kind kind;
    char name[CRUN_VAR_NAME_MAX + 1]; /* "role_arn"; for env refs, NAME */
    bool has_default;
    size_t offset; /* byte offset of the '$' in the string */
};

/* Called for each reference; a non-zero return stops the scan and is returned. */
typedef int (*crun_ref_fn)(void *ctx, const struct crun_ref *ref);

/* Lists the references of text. CMEK_ERR_PARSE with why for a malformed one ("unterminated
 * ${", "bad variable name in ${...}"). */
CMEK_WUR int crun_refs_scan(const char *text, crun_ref_fn fn, void *ctx, char *why, size_t why_len);

/* What an object with '$' keys is. */
enum crun_builder {
    CRUN_BUILDER_NONE = 0, /* an ordinary object: no member name starts with '$' */
    CRUN_BUILDER_FILE,     /* {"$file": "path"} */
    CRUN_BUILDER_JSON,     /* {"$json": any} */
    CRUN_BUILDER_BASE64,   /* {"$base64": "text"} */
    CRUN_BUILDER_MATCHER,  /* {"$exists"|"$absent"|"$contains"|"$length": ...} (expect.c) */
};

/* Classifies obj (a JSON object). CMEK_ERR_PARSE with why for an unknown "$name", a '$'
 * member beside others, or a builder operand of the wrong type. Matchers are recognised
 * only when allow_matchers (in expect.values); elsewhere they are unknown builders. */
CMEK_WUR int crun_builder_kind(const json_t *obj, bool allow_matchers, enum crun_builder *kind,
                               char *why, size_t why_len);

/* Reads a fixture: path relative to fixtures_dir (an absolute path is used as is), at most
 * CRUN_TEXT_MAX_BYTES. CMEK_ERR_IO / CMEK_ERR_LIMIT with why. */
CMEK_WUR int crun_fixture_read(const char *fixtures_dir, const char *path, struct cmek_buf *out,
                               char *why, size_t why_len);

/* Where references are resolved when a step runs. */
struct crun_lookup {
    /* The value of ${name} (borrowed), or NULL when it has none. */
    const json_t *(*var)(void *ctx, const char *name);
    /* The environment; NULL: getenv(3). */
    const char *(*getenv_fn)(void *ctx, const char *name);
    void *ctx;
    const char *fixtures_dir; /* for $file */
};

/* Substitutes the references of text into out (appended). A string value is inserted as
 * is; any other JSON value as its compact JSON text. CMEK_ERR_NOT_FOUND with why for an
 * undefined name or an unset environment variable without default. */
CMEK_WUR int crun_subst_text(const char *text, const struct crun_lookup *lk, struct cmek_buf *out,
                             char *why, size_t why_len);

/* Builds the value a template stands for: strings substituted (a string that is exactly
 * one "${name}" whose value is not a string becomes that value, type kept), builders
 * applied, everything else copied. *out is a new reference. With allow_matchers, matcher
 * objects are kept with their operand substituted. */
CMEK_WUR int crun_subst_value(const json_t *tmpl, const struct crun_lookup *lk, bool allow_matchers,
                              json_t **out, char *why, size_t why_len);

#endif
