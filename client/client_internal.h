/* client_internal.h: what libcmek's modules share and callers do not see.
 *
 * A call flows: cmek_client_call (client.c) -> the service's codec builds a cmek_wire
 * (operations.c picks it: proto_awsjson.c for KMS, proto_query.c for IAM/STS,
 * proto_rest.c for the Cloud API, Vault and the emulator's endpoints) -> client.c adds
 * authentication (SigV4 for AWS, bearer + Cc-Version for the Cloud API, the Vault token and
 * namespace) and sends it through the transport, retrying by the rules in cmek/client.h ->
 * the codec parses the answer into the output or a cmek_api_error. */
#ifndef CMEK_CLIENT_INTERNAL_H
#define CMEK_CLIENT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "cmek/buf.h"
#include "cmek/client.h"
#include "cmek/transport.h"

#define CMEK_WIRE_MAX_HEADERS 16
#define CMEK_WIRE_MAX_URL     (16u * 1024u)
#define CMEK_WIRE_MAX_BODY    (4u * 1024u * 1024u)

/* One request as a codec built it, before authentication. Owns everything it holds. */
struct cmek_wire {
    const char *method;   /* static text: "GET", "POST", "PUT", "PATCH", "DELETE" */
    struct cmek_buf url;  /* absolute, percent-encoded: endpoint + path [+ '?' query] */
    struct cmek_buf body; /* may be empty */
    size_t n_headers;
    char *header_names[CMEK_WIRE_MAX_HEADERS];  /* owned */
    char *header_values[CMEK_WIRE_MAX_HEADERS]; /* owned */
};

void cmek_wire_init(struct cmek_wire *wire);
void cmek_wire_clean_up(struct cmek_wire *wire);
/* Copies name and value; CMEK_ERR_LIMIT past CMEK_WIRE_MAX_HEADERS. */
CMEK_WUR int cmek_wire_add_header(struct cmek_wire *wire, const char *name, const char *value);

/* A protocol: builds requests for its service's operations and reads their answers. */
struct cmek_codec {
    /* Fills wire (method, url from target->endpoint[op->service], body, content type and
     * protocol headers such as X-Amz-Target) for op with input (never NULL: {} when the
     * caller gave none). Bad input: CMEK_ERR_INVALID_ARG with err->message saying what. */
    int (*build)(const struct cmek_target *target, const struct cmek_operation *op,
                 const json_t *input, struct cmek_wire *wire, struct cmek_api_error *err);
    /* Reads an answer: a success status gives CMEK_OK and *out (a new reference); an error
     * status gives CMEK_ERR_SERVICE with err's http_status, code, message, request_id (and
     * ccloud_code) filled from the body in the service's own format. An answer that cannot
     * be read at all is CMEK_ERR_SERVICE with code "" and a message quoting its start. */
    int (*parse)(const struct cmek_operation *op, const struct cmek_http_response *resp,
                 json_t **out, struct cmek_api_error *err);
};

/* The codec for a service (operations.c). Never NULL for a valid service. */
const struct cmek_codec *cmek_codec_for(enum cmek_service svc);

/* Formats into err->message (truncating at the cap) and sets err->failure. */
void cmek_api_error_set(struct cmek_api_error *err, enum cmek_failure failure, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
