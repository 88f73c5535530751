/* proto_awsjson.c: AWS JSON 1.1, the protocol of KMS.
 *
 * Request (as botocore sends it, ../shared/reference/aws-cli-wire-capture.log): POST to the
 * endpoint's "/", Content-Type "application/x-amz-json-1.1", X-Amz-Target
 * "TrentService.<Action>", the input object as compact JSON ("{}" when empty).
 * Answer: 2xx -> the body object ({} when empty); otherwise {"__type": ..., "message": ...}
 * (some services say "Message"), the request id in x-amzn-RequestId. botocore drops any
 * "namespace#" prefix of __type ("com.amazonaws.kms#NotFoundException"), and so do we. */
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "codecs.h"

#define S_TARGET_PREFIX "TrentService."
#define S_CONTENT_TYPE  "application/x-amz-json-1.1"

static int s_build(const struct cmek_target *target, const struct cmek_operation *op,
                   const json_t *input, struct cmek_wire *wire, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    char *text = NULL;
    char amz_target[128];

    if (!json_is_object(input)) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "kms.%s: the input must be a JSON object",
                           op->name);
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    wire->method = "POST";
    rc = cmek_codec_set_url(target, op->service, "/", wire, err);
    if (rc) {
        goto done;
    }
    text = json_dumps(input, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        rc = CMEK_ERR_NOMEM;
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "kms.%s: could not serialize the input",
                           op->name);
        goto done;
    }
    cmek_buf_reset(&wire->body);
    rc = cmek_buf_append_str(&wire->body, text);
    if (rc == CMEK_ERR_LIMIT) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "kms.%s: the request body is over %u bytes",
                           op->name, CMEK_WIRE_MAX_BODY);
        rc = CMEK_ERR_INVALID_ARG;
    }
    if (rc) {
        goto done;
    }
    if (strlen(S_TARGET_PREFIX) + strlen(op->wire) >= sizeof amz_target) {
        rc = CMEK_ERR_LIMIT;
        goto done;
    }
    memcpy(amz_target, S_TARGET_PREFIX, strlen(S_TARGET_PREFIX));
    memcpy(amz_target + strlen(S_TARGET_PREFIX), op->wire, strlen(op->wire) + 1);
    rc = cmek_wire_add_header(wire, "Content-Type", S_CONTENT_TYPE);
    if (rc) {
        goto done;
    }
    rc = cmek_wire_add_header(wire, "X-Amz-Target", amz_target);
done:
    free(text);
    return rc;
}

static int s_parse(const struct cmek_operation *op, const struct cmek_http_response *resp,
                   json_t **out, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    json_t *body = NULL;
    char request_id[CMEK_API_REQUEST_ID_MAX];
    bool have_id =
        cmek_http_response_header(resp, "x-amzn-RequestId", request_id, sizeof request_id);
    (void)op;

    *out = NULL;
    rc = cmek_codec_parse_json(&resp->body, &body);
    if (cmek_codec_is_success(resp->status)) {
        if (rc == CMEK_OK && json_is_object(body)) {
            *out = body;
            body = NULL;
            goto done;
        }
        rc = cmek_codec_unreadable(resp, "unreadable KMS answer", err);
        goto done;
    }
    const char *type = json_string_value(json_object_get(body, "__type"));
    const char *message = json_string_value(json_object_get(body, "message"));
    if (message == NULL) {
        message = json_string_value(json_object_get(body, "Message"));
    }
    if (rc != CMEK_OK || type == NULL) {
        rc = cmek_codec_unreadable(resp, "unreadable KMS error", err);
        goto done;
    }
    const char *hash = strrchr(type, '#');
    if (hash != NULL) {
        type = hash + 1;
    }
    cmek_api_error_set(err, CMEK_FAILURE_SERVICE, "%s", message != NULL ? message : "");
    err->http_status = resp->status;
    cmek_codec_copy(err->code, sizeof err->code, type);
    err->ccloud_code = 0;
    rc = CMEK_ERR_SERVICE;
done:
    if (rc == CMEK_ERR_SERVICE && have_id) {
        cmek_codec_copy(err->request_id, sizeof err->request_id, request_id);
    }
    json_decref(body);
    return rc;
}

const struct cmek_codec cmek_codec_awsjson = {
    .build = s_build,
    .parse = s_parse,
};
