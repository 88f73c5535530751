/* codecs.h: what libcmek's protocol codecs (proto_awsjson.c, proto_query.c, proto_rest.c)
 * share. The helpers live in operations.c, next to cmek_codec_for, so each codec file holds
 * only its protocol. */
#ifndef CMEK_CODECS_H
#define CMEK_CODECS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "client_internal.h"

extern const struct cmek_codec cmek_codec_awsjson; /* KMS: JSON 1.1 */
extern const struct cmek_codec cmek_codec_query;   /* IAM, STS: Query in, XML out */
extern const struct cmek_codec cmek_codec_rest;    /* Cloud API, Vault, /_emulator */

/* How much of an unreadable body an error message quotes. */
#define CMEK_CODEC_QUOTE_BYTES 120

/* wire->url = target's endpoint for svc + path (path appended as is: already encoded).
 * CMEK_ERR_INVALID_ARG (err says which service) when the target has no endpoint. */
CMEK_WUR int cmek_codec_set_url(const struct cmek_target *target, enum cmek_service svc,
                                const char *path, struct cmek_wire *wire,
                                struct cmek_api_error *err);

/* Appends len bytes of str percent-encoded as RFC 3986 wants (unreserved A-Z a-z 0-9 - . _ ~
 * kept; '/' kept too when keep_slash), upper-case hex, as botocore's quote() does. */
CMEK_WUR int cmek_codec_append_encoded(struct cmek_buf *buf, const char *str, size_t len,
                                       bool keep_slash);

/* True for HTTP 200-299. */
bool cmek_codec_is_success(long status);

/* Parses a JSON body (duplicates rejected); an empty body is {}. *out: a new reference.
 * CMEK_ERR_PARSE when it is not JSON. */
CMEK_WUR int cmek_codec_parse_json(const struct cmek_buf *body, json_t **out);

/* Copies src into dst (cap bytes, always NUL-terminated, truncating). NULL src gives "". */
void cmek_codec_copy(char *dst, size_t cap, const char *src);

/* Fills err for an answer that cannot be read: CMEK_FAILURE_SERVICE, the status, code "",
 * and a message "<what> (HTTP <status>): \"<the body's start, escaped>\"". Returns
 * CMEK_ERR_SERVICE. */
int cmek_codec_unreadable(const struct cmek_http_response *resp, const char *what,
                          struct cmek_api_error *err);

#endif
