#include "proto_awsjson.h"

#include <openssl/crypto.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper documents (none in KMS's shapes) go to jansson. */
#define S_FAST_MAX_DEPTH 16

/* Why the direct writer stopped: a value it leaves to jansson, or a buffer failure. */
enum s_write { S_WRITTEN, S_UNUSUAL, S_FAILED };

void emu_awsjson_render_error(struct emu_response *resp, const char *request_id, int status,
                              const char *type, const char *message)
{
    resp->status = status;
    resp->content_type = "application/x-amz-json-1.1";
    emu_response_add_header(resp, "x-amzn-RequestId", request_id);
    cmek_buf_reset(&resp->body);
    json_t *o = message != NULL ? json_pack("{s:s,s:s}", "__type", type, "message", message)
                                : json_pack("{s:s}", "__type", type);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text == NULL || cmek_buf_append_str(&resp->body, text)) {
        resp->status = 0;
    }
    free(text);
    json_decref(o);
}

/* Printable ASCII without '"' and '\\': what jansson copies unchanged. */
static bool s_plain(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

static enum s_write s_put(struct cmek_buf *out, const void *bytes, size_t len, int *rc)
{
    *rc = cmek_buf_append_secret(out, bytes, len);
    return *rc ? S_FAILED : S_WRITTEN;
}

static enum s_write s_put_string(struct cmek_buf *out, const char *s, size_t len, int *rc)
{
    if (!s_plain(s, len)) {
        return S_UNUSUAL;
    }
    enum s_write w = s_put(out, "\"", 1, rc);
    w = w ? w : s_put(out, s, len, rc);
    return w ? w : s_put(out, "\"", 1, rc);
}

static enum s_write s_write_value(const json_t *v, struct cmek_buf *out, int depth, int *rc)
{
    if (depth > S_FAST_MAX_DEPTH) {
        return S_UNUSUAL;
    }
    enum s_write w = S_WRITTEN;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        w = s_put(out, "{", 1, rc);
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it != NULL && w == S_WRITTEN;
             it = json_object_iter_next((json_t *)v, it)) {
            w = first ? S_WRITTEN : s_put(out, ",", 1, rc);
            first = false;
            w = w ? w
                  : s_put_string(out, json_object_iter_key(it), json_object_iter_key_len(it), rc);
            w = w ? w : s_put(out, ":", 1, rc);
            w = w ? w : s_write_value(json_object_iter_value(it), out, depth + 1, rc);
        }
        return w ? w : s_put(out, "}", 1, rc);
    }
    case JSON_ARRAY:
        w = s_put(out, "[", 1, rc);
        for (size_t i = 0; i < json_array_size(v) && w == S_WRITTEN; i++) {
            w = i == 0 ? S_WRITTEN : s_put(out, ",", 1, rc);
            w = w ? w : s_write_value(json_array_get(v, i), out, depth + 1, rc);
        }
        return w ? w : s_put(out, "]", 1, rc);
    case JSON_STRING:
        return s_put_string(out, json_string_value(v), json_string_length(v), rc);
    case JSON_INTEGER: {
        char digits[32];
        int n = snprintf(digits, sizeof(digits), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return n > 0 && (size_t)n < sizeof(digits) ? s_put(out, digits, (size_t)n, rc) : S_UNUSUAL;
    }
    case JSON_TRUE:
        return s_put(out, "true", 4, rc);
    case JSON_FALSE:
        return s_put(out, "false", 5, rc);
    case JSON_NULL:
        return s_put(out, "null", 4, rc);
    case JSON_REAL:
    default:
        return S_UNUSUAL;
    }
}

static int s_dump_to_buf(const char *buffer, size_t size, void *data)
{
    return cmek_buf_append_secret(data, buffer, size) == CMEK_OK ? 0 : -1;
}

int emu_awsjson_write(const json_t *v, struct cmek_buf *out)
{
    if (v == NULL) {
        return CMEK_ERR_INVALID_ARG;
    }
    size_t start = out->len;
    int rc = CMEK_OK;
    enum s_write w = s_write_value(v, out, 0, &rc);
    if (w == S_UNUSUAL) {
        /* Start over with jansson; what was written so far is overwritten, then wiped. */
        size_t written = out->len - start;
        out->len = start;
        if (json_dump_callback(v, s_dump_to_buf, out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) {
            rc = CMEK_ERR_NOMEM;
        }
        if (out->len < start + written) {
            OPENSSL_cleanse(out->data + out->len, start + written - out->len);
        }
        if (out->data != NULL) {
            out->data[out->len] = '\0';
        }
    }
    return rc;
}
