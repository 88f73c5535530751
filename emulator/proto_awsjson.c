#include "proto_awsjson.h"

#include <openssl/crypto.h>

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper documents (none in KMS's shapes) go to jansson, written or read. */
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

/* Nonzero when one of w's 8 bytes is below 0x20, 0x7f or above, '"' or '\\'. Exact as a yes
 * or no (the borrow-based tests neither miss the lowest such byte nor fire without one);
 * which bits are set may be off, so the caller rescans bytewise. */
static uint64_t s_special8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\'), d = w ^ (ones * 0x7f);
    return (w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) |
            ((d - ones) & ~d)) &
           (ones * 0x80);
}

/* How many leading bytes of s are printable ASCII other than '"' and '\\' (what jansson
 * copies unchanged): the writer's test for a string and the reader's scan for its closing
 * quote. Eight bytes at a time: base64 blobs are most of a body. */
static size_t s_plain_prefix(const char *s, size_t len)
{
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, sizeof(w));
        if (s_special8(w) != 0) {
            break;
        }
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
            break;
        }
    }
    return i;
}

static enum s_write s_put(struct cmek_buf *out, const void *bytes, size_t len, int *rc)
{
    *rc = cmek_buf_append_secret(out, bytes, len);
    return *rc ? S_FAILED : S_WRITTEN;
}

static enum s_write s_put_string(struct cmek_buf *out, const char *s, size_t len, int *rc)
{
    if (s_plain_prefix(s, len) != len) {
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

/* ---- Reading requests ---- */

/* The unread rest of a body, which is not NUL-terminated: nothing is read at or past end. */
struct s_reader {
    const char *p;
    const char *end;
};

/* JSON's whitespace, jansson's too. */
static void s_skip_ws(struct s_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')) {
        r->p++;
    }
}

/* The closing quote of a string whose contents start at p, or NULL when they hold anything
 * but printable ASCII without '\\' (escapes, control bytes, UTF-8) or it is unterminated:
 * jansson's to decode or reject. */
static const char *s_string_end(const char *p, const char *end)
{
    const char *q = p + s_plain_prefix(p, (size_t)(end - p));
    return q < end && *q == '"' ? q : NULL;
}

static bool s_take(struct s_reader *r, const char *word, size_t len)
{
    if ((size_t)(r->end - r->p) < len || memcmp(r->p, word, len) != 0) {
        return false;
    }
    r->p += len;
    return true;
}

static bool s_digit(const struct s_reader *r, const char *p)
{
    return p < r->end && *p >= '0' && *p <= '9';
}

/* -?(0|[1-9][0-9]{0,17}): within json_int_t without overflow checks ("-0" is 0, as strtoll
 * makes it). Longer integers, leading zeros (an error), fractions and exponents (reals) go
 * to jansson. */
static json_t *s_read_integer(struct s_reader *r)
{
    const char *p = r->p + (*r->p == '-');
    const char *digits = p;
    json_int_t v = 0;
    for (; s_digit(r, p) && p - digits < 18; p++) {
        v = v * 10 + (*p - '0');
    }
    if (p == digits || (*digits == '0' && p - digits > 1) || s_digit(r, p) ||
        (p < r->end && (*p == '.' || *p == 'e' || *p == 'E'))) {
        return NULL;
    }
    v = *r->p == '-' ? -v : v;
    r->p = p;
    return json_integer(v);
}

static json_t *s_read_value(struct s_reader *r, int depth);

/* After '{': members, then '}'. A duplicate key goes to jansson, which rejects it. */
static json_t *s_read_object(struct s_reader *r, int depth)
{
    json_t *o = json_object();
    s_skip_ws(r);
    if (o != NULL && r->p < r->end && *r->p == '}') {
        r->p++;
        return o;
    }
    while (o != NULL && r->p < r->end && *r->p == '"') {
        const char *key = r->p + 1;
        const char *key_end = s_string_end(key, r->end);
        if (key_end == NULL) {
            break;
        }
        r->p = key_end + 1;
        s_skip_ws(r);
        if (r->p == r->end || *r->p != ':') {
            break;
        }
        r->p++;
        s_skip_ws(r);
        json_t *v = s_read_value(r, depth);
        size_t n = json_object_size(o);
        /* A duplicate replaces the first value and leaves the size: one hash lookup, not two. */
        if (v == NULL || json_object_setn_new_nocheck(o, key, (size_t)(key_end - key), v) != 0 ||
            json_object_size(o) == n) {
            break;
        }
        s_skip_ws(r);
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return o;
        }
        if (r->p == r->end || *r->p != ',') {
            break;
        }
        r->p++;
        s_skip_ws(r);
    }
    json_decref(o);
    return NULL;
}

/* After '[': elements, then ']'. */
static json_t *s_read_array(struct s_reader *r, int depth)
{
    json_t *a = json_array();
    s_skip_ws(r);
    if (a != NULL && r->p < r->end && *r->p == ']') {
        r->p++;
        return a;
    }
    while (a != NULL) {
        json_t *v = s_read_value(r, depth);
        if (v == NULL || json_array_append_new(a, v) != 0) {
            break;
        }
        s_skip_ws(r);
        if (r->p < r->end && *r->p == ']') {
            r->p++;
            return a;
        }
        if (r->p == r->end || *r->p != ',') {
            break;
        }
        r->p++;
        s_skip_ws(r);
    }
    json_decref(a);
    return NULL;
}

/* One value at r->p; NULL leaves the whole body to jansson (r->p is then meaningless). */
static json_t *s_read_value(struct s_reader *r, int depth)
{
    if (r->p == r->end) {
        return NULL;
    }
    switch (*r->p) {
    case '"': {
        const char *s = r->p + 1;
        const char *e = s_string_end(s, r->end);
        if (e == NULL) {
            return NULL;
        }
        r->p = e + 1;
        return json_stringn_nocheck(s, (size_t)(e - s));
    }
    case '{':
    case '[':
        if (depth >= S_FAST_MAX_DEPTH) {
            return NULL;
        }
        return *r->p++ == '{' ? s_read_object(r, depth + 1) : s_read_array(r, depth + 1);
    case 't':
        return s_take(r, "true", 4) ? json_true() : NULL;
    case 'f':
        return s_take(r, "false", 5) ? json_false() : NULL;
    case 'n':
        return s_take(r, "null", 4) ? json_null() : NULL;
    default:
        return *r->p == '-' || s_digit(r, r->p) ? s_read_integer(r) : NULL;
    }
}

json_t *emu_awsjson_read(const char *body, size_t len)
{
    if (body != NULL) {
        struct s_reader r = {body, body + len};
        s_skip_ws(&r);
        /* Only an object: a top-level array is valid for jansson but no request body. */
        json_t *v = r.p < r.end && *r.p == '{' ? s_read_value(&r, 0) : NULL;
        if (v != NULL) {
            s_skip_ws(&r);
            if (r.p == r.end) {
                return v;
            }
            json_decref(v);
        }
    }
    json_error_t err;
    return json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
}
