/* expect.h: a step's "expect" object (docs/scenarios.md, "Expectations") and paths into an
 * operation's output ("Credentials.AccessKeyId", "Aliases[0].AliasName"). */
#ifndef CRUN_EXPECT_H
#define CRUN_EXPECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmek/buf.h"
#include "cmek/client.h"
#include "cmek/error.h"
#include "vars.h"

#define CRUN_REASON_MAX_BYTES 8192 /* a mismatch's text */

/* Checks an output path's syntax: members separated by '.', each optionally followed by
 * "[N]" indexes; a path may start with an index. CMEK_ERR_PARSE with why. */
CMEK_WUR int crun_path_check(const char *path, char *why, size_t why_len);
/* The value at path in root (borrowed), or NULL when there is none. */
const json_t *crun_path_get(const json_t *root, const char *path);

/* Checks the shape of an expect object before any step runs. On CMEK_ERR_PARSE, bad_path
 * receives the offending value's path relative to the expect object (jsonpos syntax:
 * "values[\"A.B\"]", "status"), *at_key is true when the member's name itself is wrong, and
 * why says what. */
CMEK_WUR int crun_expect_validate(const json_t *expect, struct cmek_buf *bad_path, bool *at_key,
                                  char *why, size_t why_len);

/* Substitutes an expect object's templates (vars.h): every member, and in "values" each
 * expected value with its matchers kept. *out is a new reference. */
CMEK_WUR int crun_expect_subst(const json_t *expect, const struct crun_lookup *lk, json_t **out,
                               char *why, size_t why_len);

/* True when expect (NULL: none) makes the call expect a failure. */
bool crun_expect_wants_failure(const json_t *expect);

/* Decides whether a call's result meets expect (already substituted; NULL: the call must
 * succeed). call_rc is cmek_client_call's return, output its output (NULL on failure), err
 * its error. *holds says the verdict; when false, why receives the mismatch ("expected error
 * AccessDeniedException, got success"). Returns CMEK_OK unless why's cap or memory ran out. */
CMEK_WUR int crun_expect_check(const json_t *expect, int call_rc, const json_t *output,
                               const struct cmek_api_error *err, bool *holds, struct cmek_buf *why);

/* "AccessDeniedException (HTTP 400): User ... is not authorized" and the like. */
CMEK_WUR int crun_describe_error(int call_rc, const struct cmek_api_error *err,
                                 struct cmek_buf *out);

#endif
