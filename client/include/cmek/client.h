/* cmek/client.h: libcmek's client handle, its errors, and the one call every operation of
 * every service goes through.
 *
 * Operations are data: each service header (cmek/iam.h, sts.h, kms.h, ccloud.h, vault.h,
 * emulator.h) lists its operations once, in an X-macro that both declares the named call
 * (cmek_kms_encrypt ...) and builds the operation table that cmek_operation_find and
 * cmek-run's scenarios use ("kms.encrypt").
 *
 * Inputs and outputs are jansson JSON values, in each service's own field names:
 * - KMS (JSON 1.1): the input is the request body; the output is the response body.
 * - IAM and STS (Query): the input object is flattened into Query parameters as botocore
 *   does (lists as Name.member.N, maps as Name.entry.N.key/value, structures as Name.Field);
 *   the output is the <OperationResult> element as JSON (elements become members, "member"
 *   lists become arrays, text stays text).
 * - Cloud API and Vault (REST): the operation's path parameters are taken from the input
 *   ("cluster_id", "name" ...); the rest is the JSON body (POST/PUT/PATCH) or the query
 *   (GET/DELETE). The output is the response body (Vault: the whole envelope, {} on 204).
 *
 * Ownership: a client owns its copy of the target and credentials, and its transport unless
 * one was lent in the options. Outputs belong to the caller (json_decref). A client is used
 * by one thread at a time. */
#ifndef CMEK_CLIENT_H
#define CMEK_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cmek/error.h"
#include "cmek/target.h"
#include "cmek/transport.h"

#define CMEK_API_CODE_MAX       128
#define CMEK_API_MESSAGE_MAX    2048
#define CMEK_API_REQUEST_ID_MAX 128

enum cmek_failure {
    CMEK_FAILURE_NONE = 0,
    CMEK_FAILURE_CLIENT,    /* refused before sending: bad input, missing credentials */
    CMEK_FAILURE_TRANSPORT, /* no HTTP answer (after the retries it allowed) */
    CMEK_FAILURE_SERVICE,   /* the service answered with an error */
};

/* An error, by value, with the service's own words preserved. */
struct cmek_api_error {
    enum cmek_failure failure;
    long http_status; /* 0 without an answer */
    /* AWS: the error code ("AccessDeniedException", "NoSuchEntity", "AccessDenied").
     * Cloud API: the numeric code as text ("9"). Vault: "" (Vault has no codes). */
    char code[CMEK_API_CODE_MAX];
    int ccloud_code;                    /* Cloud API code; 0 otherwise */
    char message[CMEK_API_MESSAGE_MAX]; /* verbatim (Vault: its errors joined by "; ") */
    char request_id[CMEK_API_REQUEST_ID_MAX];
    unsigned attempts; /* HTTP attempts made, retries included */
};
void cmek_api_error_clear(struct cmek_api_error *err);

struct cmek_operation {
    enum cmek_service service;
    const char *name;   /* "encrypt"; the qualified name is "kms.encrypt" */
    const char *wire;   /* AWS: the action ("Encrypt"); REST: the path template */
    const char *method; /* REST: "GET", "POST", ...; AWS: "POST" */
    bool idempotent;    /* safe to retry after a 5xx or a broken connection */
    bool emulator_only; /* exists only on cmek-emulator (its /_emulator endpoints) */
};

/* "kms.encrypt" -> its operation, or NULL. */
const struct cmek_operation *cmek_operation_find(const char *qualified);
size_t cmek_operation_count(void);
const struct cmek_operation *cmek_operation_at(size_t i);

struct cmek_client;

struct cmek_client_options {
    const struct cmek_target *target;          /* required; copied */
    const struct cmek_aws_credentials *aws_as; /* AWS identity; NULL: target->aws. Copied. */
    struct cmek_transport *transport;          /* lent; NULL: a libcurl transport, owned */
    /* Seams for tests; NULL: the real clock, nanosleep and OpenSSL's RAND. */
    time_t (*now)(void *ctx);
    void (*sleep_ms)(void *ctx, unsigned ms);
    uint32_t (*random_u32)(void *ctx);
    void *seam_ctx;
};

CMEK_WUR int cmek_client_new(const struct cmek_client_options *opt, struct cmek_client **out,
                             struct cmek_api_error *err);
void cmek_client_destroy(struct cmek_client *client); /* NULL-safe */

/* Runs op with input (a JSON object; NULL means {}). CMEK_OK with *out a new reference;
 * otherwise *out is NULL, err is filled and the return says which kind:
 * CMEK_ERR_SERVICE, CMEK_ERR_TRANSPORT, CMEK_ERR_INVALID_ARG (refused before sending).
 *
 * Retries follow the AWS SDKs' standard mode: up to target->max_attempts tries, waiting
 * random(0, min(20 s, 100 ms * 2^attempt)) between them, for throttling (HTTP 429,
 * ThrottlingException, Throttling, TooManyRequestsException, RequestLimitExceeded ...),
 * for 500/502/503/504, and for connections that failed. A non-idempotent operation is
 * retried only when the service cannot have applied it: throttled, or nothing was sent. */
CMEK_WUR int cmek_client_call(struct cmek_client *client, const struct cmek_operation *op,
                              const json_t *input, json_t **out, struct cmek_api_error *err);

/* cmek_client_call by qualified name ("kms.encrypt"). */
CMEK_WUR int cmek_client_call_named(struct cmek_client *client, const char *qualified,
                                    const json_t *input, json_t **out, struct cmek_api_error *err);

/* The named calls of the service headers are all of this shape. */
#define CMEK_DECLARE_OPERATION_CALL(svc, name)                                                     \
    CMEK_WUR int cmek_##svc##_##name(struct cmek_client *client, const json_t *input,              \
                                     json_t **out, struct cmek_api_error *err);

#endif
