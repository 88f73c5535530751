/* proto_rest.c: the REST codecs, one table entry per service: the CockroachDB Cloud API
 * (../shared/reference/ccloud.md), Vault's /v1 API (vault.md §4) and cmek-emulator's own
 * /_emulator endpoints (../shared/CONTRACT.md).
 *
 * Request: the operation's path template with its placeholders ({cluster_id}, {name},
 * {key_name}, {key}, {path}, {mount}) taken out of the input and percent-encoded. {path} and
 * {mount} keep their '/' separators but may not start with '/' or hold "", "." or ".."
 * segments (a trailing '/' is fine); Vault's {mount} defaults to "keymgmt". What remains of
 * the input is the JSON body of a POST, PUT or PATCH ("{}" when nothing remains), or the
 * query string of a GET or DELETE (scalars only, names kept as given, so
 * "pagination.limit" stays dotted). Two operations have bodies of their own: Vault's generic
 * write sends the input's "data" member ({} when absent) and the emulator's write_row sends
 * the input's "value" string as is. Vault's URL is endpoint + "/v1/" + path, and LIST goes
 * out as GET with list=true, as the vault CLI sends it.
 *
 * Answer: a 2xx body is JSON ({} when empty, so Vault's 204 is {}). Errors:
 *   Cloud API: {code, message, details} -> ccloud_code, code as decimal text, message;
 *   Vault:     {"errors": [...]} -> message the errors joined by "; ", code "";
 *   emulator:  {code, message} (code a string, or a number as the Cloud API's) or Vault's
 *              shape, whichever it sent.
 * Anything else (an HTML page from a proxy) is unreadable: code "" and the body's start. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "codecs.h"

#define S_VAULT_DEFAULT_MOUNT "keymgmt"
#define S_JSON_CONTENT_TYPE   "application/json"
#define S_RAW_CONTENT_TYPE    "application/octet-stream"

/* The qualified name of op into a fixed buffer, for messages. */
struct s_qname {
    char text[96];
};

static struct s_qname s_qualified(const struct cmek_operation *op)
{
    struct s_qname q;
    snprintf(q.text, sizeof q.text, "%s.%s", cmek_service_name(op->service), op->name);
    return q;
}

/* Checks a {path}/{mount} value: relative, no empty, "." or ".." segment before the end. */
static const char *s_path_problem(const char *value)
{
    if (value[0] == '/') {
        return "must not start with '/'";
    }
    const char *seg = value;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash != NULL ? (size_t)(slash - seg) : strlen(seg);
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            return "must not contain \".\" or \"..\" segments";
        }
        if (n == 0 && slash != NULL) {
            return "must not contain empty segments";
        }
        if (slash == NULL) {
            return NULL;
        }
        seg = slash + 1;
    }
}

/* Appends the expanded path template to path, deleting the placeholders from rest. */
static int s_expand(const struct cmek_operation *op, json_t *rest, struct cmek_buf *path,
                    struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    const char *t = op->wire;
    while (*t != '\0' && rc == CMEK_OK) {
        if (*t != '{') {
            size_t n = strcspn(t, "{");
            rc = cmek_buf_append(path, t, n);
            t += n;
            continue;
        }
        const char *close = strchr(t, '}');
        char name[32];
        size_t n = close != NULL ? (size_t)(close - t - 1) : 0;
        if (close == NULL || n == 0 || n >= sizeof name) {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s: bad path template \"%s\"",
                               s_qualified(op).text, op->wire);
            return CMEK_ERR_INVALID_ARG;
        }
        memcpy(name, t + 1, n);
        name[n] = '\0';
        t = close + 1;

        const json_t *v = json_object_get(rest, name);
        const char *value = json_string_value(v);
        bool path_like = strcmp(name, "path") == 0 || strcmp(name, "mount") == 0;
        if (v == NULL && op->service == CMEK_SERVICE_VAULT && strcmp(name, "mount") == 0) {
            value = S_VAULT_DEFAULT_MOUNT;
        } else if (v == NULL) {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s: missing path parameter \"%s\"",
                               s_qualified(op).text, name);
            return CMEK_ERR_INVALID_ARG;
        } else if (value == NULL) {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                               "%s: path parameter \"%s\" must be a string", s_qualified(op).text,
                               name);
            return CMEK_ERR_INVALID_ARG;
        }
        if (value[0] == '\0') {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s: path parameter \"%s\" is empty",
                               s_qualified(op).text, name);
            return CMEK_ERR_INVALID_ARG;
        }
        /* A lone "." or ".." would be resolved away by the HTTP client: refuse it too. */
        const char *problem = path_like ? s_path_problem(value)
                              : strcmp(value, ".") == 0 || strcmp(value, "..") == 0
                                  ? "must not be \".\" or \"..\""
                                  : NULL;
        if (problem != NULL) {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s: path parameter \"%s\" %s",
                               s_qualified(op).text, name, problem);
            return CMEK_ERR_INVALID_ARG;
        }
        rc = cmek_codec_append_encoded(path, value, strlen(value), path_like);
        if (v != NULL) {
            json_object_del(rest, name); /* value is not used after this */
        }
    }
    return rc;
}

/* Appends rest as "?a=b&c=d" (prefixed by '&' when the query already started). */
static int s_query(const struct cmek_operation *op, const json_t *rest, bool started,
                   struct cmek_buf *path, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)rest, key, v)
    {
        char *text = NULL;
        const char *value;
        size_t value_len;
        if (json_is_null(v)) {
            continue;
        }
        if (json_is_string(v)) {
            value = json_string_value(v);
            value_len = json_string_length(v);
        } else if (json_is_number(v) || json_is_boolean(v)) {
            text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            if (text == NULL) {
                return CMEK_ERR_NOMEM;
            }
            value = text;
            value_len = strlen(text);
        } else {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                               "%s: query parameter \"%s\" must be a string, number or boolean",
                               s_qualified(op).text, key);
            return CMEK_ERR_INVALID_ARG;
        }
        rc = cmek_buf_append_byte(path, started ? '&' : '?');
        rc = rc ? rc : cmek_codec_append_encoded(path, key, strlen(key), false);
        rc = rc ? rc : cmek_buf_append_byte(path, '=');
        rc = rc ? rc : cmek_codec_append_encoded(path, value, value_len, false);
        started = true;
        free(text);
        if (rc) {
            break;
        }
    }
    return rc;
}

/* Only the named members may remain in rest. */
static int s_only(const struct cmek_operation *op, const json_t *rest, const char *allowed,
                  struct cmek_api_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)rest, key, v)
    {
        if (strcmp(key, allowed) != 0) {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                               "%s: unexpected input member \"%s\" (the body is \"%s\")",
                               s_qualified(op).text, key, allowed);
            return CMEK_ERR_INVALID_ARG;
        }
    }
    return CMEK_OK;
}

/* The body of a POST/PUT/PATCH into wire->body, and its content type into *content_type. */
static int s_body(const struct cmek_operation *op, const json_t *rest, struct cmek_wire *wire,
                  const char **content_type, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    char *text = NULL;
    const json_t *body = rest;

    *content_type = S_JSON_CONTENT_TYPE;
    if (op->service == CMEK_SERVICE_EMULATOR && strcmp(op->name, "write_row") == 0) {
        const json_t *value = json_object_get(rest, "value");
        rc = s_only(op, rest, "value", err);
        if (rc) {
            return rc;
        }
        if (!json_is_string(value)) {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                               "%s: input member \"value\" must be a string", s_qualified(op).text);
            return CMEK_ERR_INVALID_ARG;
        }
        *content_type = S_RAW_CONTENT_TYPE;
        rc = cmek_buf_append(&wire->body, json_string_value(value), json_string_length(value));
        goto done;
    }
    if (op->service == CMEK_SERVICE_VAULT && strcmp(op->name, "write") == 0) {
        rc = s_only(op, rest, "data", err);
        if (rc) {
            return rc;
        }
        body = json_object_get(rest, "data");
        if (body != NULL && !json_is_object(body)) {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                               "%s: input member \"data\" must be an object", s_qualified(op).text);
            return CMEK_ERR_INVALID_ARG;
        }
    }
    text = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : strdup("{}");
    if (text == NULL) {
        return CMEK_ERR_NOMEM;
    }
    rc = cmek_buf_append_str(&wire->body, text);
done:
    if (rc == CMEK_ERR_LIMIT) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s: the request body is over %u bytes",
                           s_qualified(op).text, CMEK_WIRE_MAX_BODY);
        rc = CMEK_ERR_INVALID_ARG;
    }
    free(text);
    return rc;
}

static int s_build(const struct cmek_target *target, const struct cmek_operation *op,
                   const json_t *input, struct cmek_wire *wire, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    json_t *rest = NULL;
    struct cmek_buf path;
    bool list = strcmp(op->method, "LIST") == 0;
    bool has_body = strcmp(op->method, "POST") == 0 || strcmp(op->method, "PUT") == 0 ||
                    strcmp(op->method, "PATCH") == 0;
    const char *content_type = NULL;

    cmek_buf_init(&path, CMEK_WIRE_MAX_URL);
    if (!json_is_object(input)) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s: the input must be a JSON object",
                           s_qualified(op).text);
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    rest = json_copy((json_t *)input); /* shallow: only top-level members are removed */
    if (rest == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    if (op->service == CMEK_SERVICE_VAULT) {
        rc = cmek_buf_append_str(&path, "/v1/");
    }
    rc = rc ? rc : s_expand(op, rest, &path, err);
    if (rc) {
        goto done;
    }
    if (has_body) {
        cmek_buf_reset(&wire->body);
        rc = s_body(op, rest, wire, &content_type, err);
    } else {
        if (list) {
            rc = cmek_buf_append_str(&path, "?list=true");
        }
        rc = rc ? rc : s_query(op, rest, list, &path, err);
    }
    if (rc == CMEK_ERR_LIMIT) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s: the request URL is over %u bytes",
                           s_qualified(op).text, CMEK_WIRE_MAX_URL);
        rc = CMEK_ERR_INVALID_ARG;
    }
    if (rc) {
        goto done;
    }
    wire->method = list                                ? "GET"
                   : strcmp(op->method, "GET") == 0    ? "GET"
                   : strcmp(op->method, "POST") == 0   ? "POST"
                   : strcmp(op->method, "PUT") == 0    ? "PUT"
                   : strcmp(op->method, "PATCH") == 0  ? "PATCH"
                   : strcmp(op->method, "DELETE") == 0 ? "DELETE"
                                                       : NULL;
    if (wire->method == NULL) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s: unknown method \"%s\"",
                           s_qualified(op).text, op->method);
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    rc = cmek_codec_set_url(target, op->service, cmek_buf_cstr(&path), wire, err);
    if (rc == CMEK_OK && content_type != NULL) {
        rc = cmek_wire_add_header(wire, "Content-Type", content_type);
    }
done:
    cmek_buf_clean_up(&path);
    json_decref(rest);
    return rc;
}

/* Fills err from a service error; CMEK_ERR_SERVICE, or CMEK_ERR_NOMEM. */
static int s_service_error(const struct cmek_http_response *resp, const char *code, int ccloud_code,
                           const char *message, struct cmek_api_error *err)
{
    cmek_api_error_set(err, CMEK_FAILURE_SERVICE, "%s", message);
    err->http_status = resp->status;
    err->ccloud_code = ccloud_code;
    cmek_codec_copy(err->code, sizeof err->code, code);
    return CMEK_ERR_SERVICE;
}

/* Cloud API's google.rpc.Status shape, also what the emulator's rows endpoint sends. */
static bool s_ccloud_shape(const struct cmek_http_response *resp, const json_t *body,
                           struct cmek_api_error *err)
{
    const json_t *code = json_object_get(body, "code");
    const char *message = json_string_value(json_object_get(body, "message"));
    char text[32];
    if (!json_is_integer(code) || message == NULL) {
        return false;
    }
    json_int_t n = json_integer_value(code);
    if (n < 0 || n > 1000) {
        return false;
    }
    snprintf(text, sizeof text, "%d", (int)n);
    (void)s_service_error(resp, text, (int)n, message, err);
    return true;
}

/* Vault's {"errors": [...]}; the errors joined by "; " (non-strings as their JSON text). */
static bool s_vault_shape(const struct cmek_http_response *resp, const json_t *body,
                          struct cmek_api_error *err)
{
    const json_t *errors = json_object_get(body, "errors");
    struct cmek_buf joined;
    bool ok = true;
    if (!json_is_array(errors)) {
        return false;
    }
    /* The message cap truncates; the buffer only needs to hold what fits there. */
    cmek_buf_init(&joined, CMEK_API_MESSAGE_MAX);
    for (size_t i = 0; ok && i < json_array_size(errors); i++) {
        const json_t *e = json_array_get(errors, i);
        char *text = json_is_string(e) ? NULL : json_dumps(e, JSON_ENCODE_ANY | JSON_COMPACT);
        const char *s = json_is_string(e) ? json_string_value(e) : text;
        int rc = i > 0 ? cmek_buf_append_str(&joined, "; ") : CMEK_OK;
        rc = rc ? rc : cmek_buf_append_str(&joined, s != NULL ? s : "");
        if (rc == CMEK_ERR_LIMIT) {
            size_t room = joined.max_bytes - joined.len;
            if (s != NULL && room > 0) {
                rc = cmek_buf_append(&joined, s, strlen(s) < room ? strlen(s) : room);
            }
            ok = false; /* full: the rest would be cut anyway */
        }
        free(text);
    }
    (void)s_service_error(resp, "", 0, cmek_buf_cstr(&joined), err);
    cmek_buf_clean_up(&joined);
    return true;
}

/* The emulator's own {"code": "...", "message": "..."}. */
static bool s_emulator_shape(const struct cmek_http_response *resp, const json_t *body,
                             struct cmek_api_error *err)
{
    const char *code = json_string_value(json_object_get(body, "code"));
    const char *message = json_string_value(json_object_get(body, "message"));
    if (code == NULL || message == NULL) {
        return false;
    }
    (void)s_service_error(resp, code, 0, message, err);
    return true;
}

static int s_parse(const struct cmek_operation *op, const struct cmek_http_response *resp,
                   json_t **out, struct cmek_api_error *err)
{
    json_t *body = NULL;
    int rc = cmek_codec_parse_json(&resp->body, &body);
    const char *service = op->service == CMEK_SERVICE_CCLOUD  ? "Cloud API"
                          : op->service == CMEK_SERVICE_VAULT ? "Vault"
                                                              : "emulator";
    char what[64];
    bool known = false;

    *out = NULL;
    if (rc == CMEK_ERR_NOMEM) {
        goto done;
    }
    if (cmek_codec_is_success(resp->status)) {
        if (rc == CMEK_OK) {
            *out = body;
            body = NULL;
            goto done;
        }
        snprintf(what, sizeof what, "unreadable %s answer", service);
        rc = cmek_codec_unreadable(resp, what, err);
        goto done;
    }
    if (rc == CMEK_OK && json_is_object(body)) {
        switch (op->service) {
        case CMEK_SERVICE_CCLOUD:
            known = s_ccloud_shape(resp, body, err);
            break;
        case CMEK_SERVICE_VAULT:
            known = s_vault_shape(resp, body, err);
            break;
        case CMEK_SERVICE_EMULATOR:
            known = s_emulator_shape(resp, body, err) || s_ccloud_shape(resp, body, err) ||
                    s_vault_shape(resp, body, err);
            break;
        case CMEK_SERVICE_IAM:
        case CMEK_SERVICE_STS:
        case CMEK_SERVICE_KMS:
        case CMEK_SERVICE_COUNT:
        default:
            break;
        }
    }
    if (known) {
        rc = CMEK_ERR_SERVICE;
        goto done;
    }
    snprintf(what, sizeof what, "unreadable %s error", service);
    rc = cmek_codec_unreadable(resp, what, err);
done:
    json_decref(body);
    return rc;
}

const struct cmek_codec cmek_codec_rest = {
    .build = s_build,
    .parse = s_parse,
};
