/* proto_query.h: the AWS Query protocol (IAM, STS): parameters from a form-encoded POST body
 * or a GET query string in; <XResponse><XResult>...</XResult><ResponseMetadata> or
 * <ErrorResponse> XML out. Service logic never sees form encoding or writes envelopes. */
#ifndef EMU_PROTO_QUERY_H
#define EMU_PROTO_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "cmek/buf.h"
#include "cmek/vec.h"
#include "http.h"

#define EMU_QUERY_MAX_PARAMS 512

struct emu_query_param {
    char *name;  /* decoded, owned */
    char *value; /* decoded, owned */
};

struct emu_query_params {
    struct cmek_vec items; /* struct emu_query_param * */
};

void emu_query_params_init(struct emu_query_params *params);
void emu_query_params_clean_up(struct emu_query_params *params);
/* Decodes application/x-www-form-urlencoded text ('+' is a space, %XX bytes). For a GET the
 * SigV4 presign parameters (X-Amz-*) are left out. CMEK_ERR_PARSE on a bad escape,
 * CMEK_ERR_LIMIT on too many parameters. A repeated name keeps its first value. */
CMEK_WUR int emu_query_params_parse(struct cmek_view text, bool skip_presign,
                                    struct emu_query_params *params);
/* The value of name (exact match), or NULL. */
const char *emu_query_param(const struct emu_query_params *params, const char *name);

/* An AWS Query error, rendered as <ErrorResponse>. */
struct emu_query_error {
    int status;       /* 400, 403, 404, 409, 500 ... */
    const char *code; /* static: "AccessDenied", "NoSuchEntity" ... */
    char message[1024];
};
void emu_query_error_set(struct emu_query_error *err, int status, const char *code, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

/* XML text with &, <, >, ", ' escaped. */
CMEK_WUR int emu_xml_escape(struct cmek_buf *out, const char *text);
/* <tag>escaped text</tag> */
CMEK_WUR int emu_xml_element(struct cmek_buf *out, const char *tag, const char *text);

/* Renders a success: <{action}Response xmlns=ns><{action}Result>result_xml</...>; with
 * result_xml NULL only the ResponseMetadata (operations with no output). */
CMEK_WUR int emu_query_render_result(struct emu_response *resp, const char *xmlns,
                                     const char *action, const char *result_xml,
                                     const char *request_id);
/* Renders an error in AWS's <ErrorResponse> shape (Type Sender for 4xx, Receiver for 5xx). */
CMEK_WUR int emu_query_render_error(struct emu_response *resp, const char *xmlns,
                                    const struct emu_query_error *err, const char *request_id);

#endif
