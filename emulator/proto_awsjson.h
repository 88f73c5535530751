/* proto_awsjson.h: the AWS JSON 1.1 protocol (KMS): errors as {"__type","message"} with
 * AWS's statuses; botocore reads the error code from __type only, so it is always there. */
#ifndef EMU_PROTO_AWSJSON_H
#define EMU_PROTO_AWSJSON_H

#include <jansson.h>

#include "http.h"

/* message NULL: no message member (InvalidCiphertextException and a few others). */
void emu_awsjson_render_error(struct emu_response *resp, const char *request_id, int status,
                              const char *type, const char *message);

/* Appends v as compact JSON, byte for byte what json_dump_callback(v, ..., JSON_COMPACT)
 * writes, without its per-character UTF-8 walk: objects, arrays, integers, literals and
 * strings of printable ASCII are written directly; anything else (reals, escapes, non-ASCII)
 * is left to jansson. The body may hold secrets: growing it wipes the storage it leaves
 * (cmek_buf_append_secret). CMEK_ERR_LIMIT past out's cap, CMEK_ERR_NOMEM. */
CMEK_WUR int emu_awsjson_write(const json_t *v, struct cmek_buf *out);

/* Parses an AWS JSON 1.1 request body (not NUL-terminated): the same value
 * json_loadb(body, len, JSON_REJECT_DUPLICATES, ...) returns (NULL where it fails), with the
 * same types and member order, without its per-character lexer: a top-level object of
 * printable-ASCII strings without escapes, integers of up to 18 digits, literals, and
 * shallow nesting is built directly; anything else (escapes, non-ASCII, reals, long
 * integers, duplicate keys, errors) is left to jansson. New reference. */
CMEK_WUR json_t *emu_awsjson_read(const char *body, size_t len);

#endif
