/* proto_query.c: the AWS Query protocol, as IAM (2010-05-08) and STS (2011-06-15) speak it.
 *
 * Request (botocore's QuerySerializer; ../shared/reference/aws-cli-wire-capture.log): POST to
 * the endpoint's "/", Content-Type "application/x-www-form-urlencoded; charset=utf-8", body
 * "Action=<Action>&Version=<version>" then the input flattened:
 *   - a string as is; an integer or real as its decimal text; a boolean as true/false;
 *     null is left out (botocore never sends a None);
 *   - an array as Name.member.N (N from 1); an empty array as "Name=" (as botocore does);
 *   - an object as Name.Field: every input object of the IAM and STS operations we serve is
 *     a structure (Tags are lists of {Key,Value} structures), none is a map, so without the
 *     model objects are always structures.
 * Names and values are percent-encoded keeping only RFC 3986's unreserved characters.
 *
 * Answer: <ActionResponse><ActionResult>...</ActionResult><ResponseMetadata>... becomes the
 * Result element as JSON:
 *   - an element with child elements becomes an object of its children (a name repeated
 *     outside a member list becomes an array of the values);
 *   - an element whose children are all <member> becomes an array;
 *   - any other element becomes its text, entities decoded; an empty element becomes "" (the
 *     model would say whether an empty <Roles/> is a list; without it, it is "");
 *   - operations without a Result element (DeleteRole ...) give {}.
 * Errors: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
 * gives code, message and request id (the x-amzn-RequestId header when the body has none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "codecs.h"
#include "xml.h"

#define S_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define S_MAX_NAME     512u /* a flattened parameter name */

static const char *s_version(enum cmek_service svc)
{
    switch (svc) {
    case CMEK_SERVICE_IAM:
        return "2010-05-08";
    case CMEK_SERVICE_STS:
        return "2011-06-15";
    case CMEK_SERVICE_KMS:
    case CMEK_SERVICE_CCLOUD:
    case CMEK_SERVICE_VAULT:
    case CMEK_SERVICE_EMULATOR:
    case CMEK_SERVICE_COUNT:
    default:
        return NULL;
    }
}

/* Appends "&name=value". */
static int s_param(struct cmek_buf *body, const char *name, const char *value, size_t value_len)
{
    int rc = cmek_buf_append_byte(body, '&');
    rc = rc ? rc : cmek_codec_append_encoded(body, name, strlen(name), false);
    rc = rc ? rc : cmek_buf_append_byte(body, '=');
    rc = rc ? rc : cmek_codec_append_encoded(body, value, value_len, false);
    return rc;
}

/* Flattens value under name (a dotted prefix in a buffer of its own, S_MAX_NAME bytes). */
static int s_flatten(struct cmek_buf *body, struct cmek_buf *name, const json_t *value,
                     const struct cmek_operation *op, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    size_t mark = name->len;
    char *text = NULL;

    switch (json_typeof(value)) {
    case JSON_STRING:
        rc =
            s_param(body, cmek_buf_cstr(name), json_string_value(value), json_string_length(value));
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = text != NULL ? s_param(body, cmek_buf_cstr(name), text, strlen(text)) : CMEK_ERR_NOMEM;
        break;
    case JSON_TRUE:
        rc = s_param(body, cmek_buf_cstr(name), "true", 4);
        break;
    case JSON_FALSE:
        rc = s_param(body, cmek_buf_cstr(name), "false", 5);
        break;
    case JSON_NULL:
        break;
    case JSON_ARRAY:
        if (json_array_size(value) == 0) {
            rc = s_param(body, cmek_buf_cstr(name), "", 0);
            break;
        }
        for (size_t i = 0; i < json_array_size(value) && rc == CMEK_OK; i++) {
            name->len = mark;
            rc = cmek_buf_appendf(name, ".member.%zu", i + 1);
            rc = rc ? rc : s_flatten(body, name, json_array_get(value, i), op, err);
        }
        break;
    case JSON_OBJECT: {
        const char *key;
        const json_t *member;
        json_object_foreach((json_t *)value, key, member)
        {
            name->len = mark;
            if (mark > 0) {
                rc = cmek_buf_append_byte(name, '.');
            }
            rc = rc ? rc : cmek_buf_append_str(name, key);
            rc = rc ? rc : s_flatten(body, name, member, op, err);
            if (rc) {
                break;
            }
        }
        break;
    }
    default:
        rc = CMEK_ERR_INVALID_ARG;
        break;
    }
    if (rc == CMEK_ERR_LIMIT && err->message[0] == '\0') {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                           "%s.%s: a parameter name is over %u bytes or the body over %u bytes",
                           cmek_service_name(op->service), op->name, S_MAX_NAME,
                           CMEK_WIRE_MAX_BODY);
    }
    name->len = mark;
    if (name->data != NULL) {
        name->data[mark] = '\0';
    }
    free(text);
    return rc;
}

static int s_build(const struct cmek_target *target, const struct cmek_operation *op,
                   const json_t *input, struct cmek_wire *wire, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    struct cmek_buf name;
    const char *version = s_version(op->service);

    cmek_buf_init(&name, S_MAX_NAME);
    if (version == NULL) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s is not a Query service",
                           cmek_service_name(op->service));
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    if (!json_is_object(input)) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s.%s: the input must be a JSON object",
                           cmek_service_name(op->service), op->name);
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    if (json_object_get(input, "Action") != NULL || json_object_get(input, "Version") != NULL) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                           "%s.%s: Action and Version are set by the operation, not the input",
                           cmek_service_name(op->service), op->name);
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    wire->method = "POST";
    rc = cmek_codec_set_url(target, op->service, "/", wire, err);
    if (rc) {
        goto done;
    }
    cmek_buf_reset(&wire->body);
    rc = cmek_buf_append_str(&wire->body, "Action=");
    rc = rc ? rc : cmek_codec_append_encoded(&wire->body, op->wire, strlen(op->wire), false);
    rc = rc ? rc : s_param(&wire->body, "Version", version, strlen(version));
    rc = rc ? rc : s_flatten(&wire->body, &name, input, op, err);
    if (rc == CMEK_ERR_LIMIT) {
        rc = CMEK_ERR_INVALID_ARG;
    }
    if (rc) {
        goto done;
    }
    rc = cmek_wire_add_header(wire, "Content-Type", S_CONTENT_TYPE);
done:
    cmek_buf_clean_up(&name);
    return rc;
}

static bool s_all_members(const struct cmek_xml_node *node)
{
    for (size_t i = 0; i < node->n_children; i++) {
        if (strcmp(node->children[i]->name, "member") != 0) {
            return false;
        }
    }
    return node->n_children > 0;
}

/* A node as JSON by the rules at the top of the file; NULL when out of memory. Recursion is
 * bounded by the XML reader's depth cap. */
static json_t *s_to_json(const struct cmek_xml_node *node)
{
    json_t *out = NULL;
    json_t *counts = NULL;
    bool ok = true;

    if (node->n_children == 0) {
        return json_stringn(cmek_buf_cstr(&node->text), node->text.len);
    }
    if (s_all_members(node)) {
        out = json_array();
        for (size_t i = 0; out != NULL && i < node->n_children; i++) {
            if (json_array_append_new(out, s_to_json(node->children[i]))) {
                json_decref(out);
                out = NULL;
            }
        }
        return out;
    }
    /* Two passes so a repeated name becomes an array in linear time. */
    out = json_object();
    counts = json_object();
    for (size_t i = 0; ok && out != NULL && counts != NULL && i < node->n_children; i++) {
        const char *name = node->children[i]->name;
        json_int_t n = json_integer_value(json_object_get(counts, name));
        ok = json_object_set_new(counts, name, json_integer(n + 1)) == 0;
    }
    for (size_t i = 0; ok && out != NULL && counts != NULL && i < node->n_children; i++) {
        const struct cmek_xml_node *child = node->children[i];
        json_t *value = s_to_json(child);
        if (value == NULL) {
            ok = false;
        } else if (json_integer_value(json_object_get(counts, child->name)) == 1) {
            ok = json_object_set_new(out, child->name, value) == 0;
        } else {
            json_t *list = json_object_get(out, child->name);
            if (list == NULL) {
                list = json_array();
                if (list == NULL || json_object_set_new(out, child->name, list) != 0) {
                    list = NULL; /* set_new freed it */
                }
            }
            if (list == NULL) {
                json_decref(value);
                ok = false;
            } else {
                ok = json_array_append_new(list, value) == 0;
            }
        }
    }
    json_decref(counts);
    if (!ok || counts == NULL) {
        json_decref(out);
        out = NULL;
    }
    return out;
}

/* The message of an unreadable answer, with the XML reader's why. */
static int s_unreadable(const struct cmek_operation *op, const struct cmek_http_response *resp,
                        const char *why, struct cmek_api_error *err)
{
    char what[256];
    snprintf(what, sizeof what, "unreadable %s answer (%s)",
             op->service == CMEK_SERVICE_IAM ? "IAM" : "STS", why);
    return cmek_codec_unreadable(resp, what, err);
}

static int s_parse(const struct cmek_operation *op, const struct cmek_http_response *resp,
                   json_t **out, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    struct cmek_xml_node *root = NULL;
    char why[256] = "";
    char element[128];
    char header_id[CMEK_API_REQUEST_ID_MAX];
    bool have_header_id =
        cmek_http_response_header(resp, "x-amzn-RequestId", header_id, sizeof header_id);

    *out = NULL;
    rc = cmek_xml_parse(resp->body.data, resp->body.len, &root, why, sizeof why);
    if (rc) {
        rc = s_unreadable(op, resp, why, err);
        goto done;
    }
    if (cmek_codec_is_success(resp->status)) {
        snprintf(element, sizeof element, "%sResponse", op->wire);
        if (strcmp(root->name, element) != 0) {
            snprintf(why, sizeof why, "expected <%s>, got <%s>", element, root->name);
            rc = s_unreadable(op, resp, why, err);
            goto done;
        }
        snprintf(element, sizeof element, "%sResult", op->wire);
        const struct cmek_xml_node *result = cmek_xml_child(root, element);
        *out = result != NULL && result->n_children > 0 ? s_to_json(result) : json_object();
        rc = *out != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
        goto done;
    }
    const struct cmek_xml_node *error = cmek_xml_child(root, "Error");
    const char *code = cmek_xml_child_text(error, "Code");
    if (strcmp(root->name, "ErrorResponse") != 0 || code == NULL) {
        snprintf(why, sizeof why, "expected <ErrorResponse><Error><Code>");
        rc = s_unreadable(op, resp, why, err);
        goto done;
    }
    const char *message = cmek_xml_child_text(error, "Message");
    const char *request_id = cmek_xml_child_text(root, "RequestId");
    cmek_api_error_set(err, CMEK_FAILURE_SERVICE, "%s", message != NULL ? message : "");
    err->http_status = resp->status;
    err->ccloud_code = 0;
    cmek_codec_copy(err->code, sizeof err->code, code);
    if (request_id != NULL && request_id[0] != '\0') {
        cmek_codec_copy(err->request_id, sizeof err->request_id, request_id);
        have_header_id = false;
    }
    rc = CMEK_ERR_SERVICE;
done:
    if (rc == CMEK_ERR_SERVICE && have_header_id) {
        cmek_codec_copy(err->request_id, sizeof err->request_id, header_id);
    }
    cmek_xml_node_destroy(root);
    return rc;
}

const struct cmek_codec cmek_codec_query = {
    .build = s_build,
    .parse = s_parse,
};
