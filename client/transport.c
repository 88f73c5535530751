/* transport.c: what every transport and codec shares: the HTTP response value and the
 * pre-authentication request a codec builds (cmek_wire). The transports themselves live in
 * transport_curl.c (libcurl) and transport_mock.c (tests). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_internal.h"
#include "cmek/crypto.h"
#include "cmek/transport.h"

/* Response header lines are small (a few hundred bytes from AWS); 64 KiB bounds a
 * misbehaving server without ever cutting a real answer. */
#define S_MAX_HEAD_BYTES (64u * 1024u)

void cmek_http_response_init(struct cmek_http_response *resp)
{
    resp->status = 0;
    cmek_buf_init(&resp->head, S_MAX_HEAD_BYTES);
    cmek_buf_init(&resp->body, CMEK_HTTP_DEFAULT_MAX_RESPONSE);
}

void cmek_http_response_reset(struct cmek_http_response *resp)
{
    resp->status = 0;
    cmek_buf_reset(&resp->head);
    cmek_buf_reset(&resp->body);
}

void cmek_http_response_clean_up(struct cmek_http_response *resp)
{
    if (resp == NULL) {
        return;
    }
    resp->status = 0;
    cmek_buf_clean_up(&resp->head);
    cmek_buf_clean_up(&resp->body);
}

static bool s_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool cmek_http_response_header(const struct cmek_http_response *resp, const char *name, char *out,
                               size_t out_len)
{
    if (resp == NULL || name == NULL || out == NULL || out_len == 0) {
        return false;
    }
    size_t name_len = strlen(name);
    const char *p = cmek_buf_cstr(&resp->head);
    const char *end = p + resp->head.len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol != NULL ? eol : end;
        size_t line_len = (size_t)(line_end - p);
        if (line_len > name_len && p[name_len] == ':' && strncasecmp(p, name, name_len) == 0) {
            const char *v = p + name_len + 1;
            const char *ve = line_end;
            while (v < ve && s_is_blank(*v)) {
                v++;
            }
            while (ve > v && (s_is_blank(ve[-1]) || ve[-1] == '\r')) {
                ve--;
            }
            size_t n = (size_t)(ve - v);
            n = n < out_len - 1 ? n : out_len - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
        p = eol != NULL ? eol + 1 : end;
    }
    return false;
}

/* ---- cmek_wire ---- */

void cmek_wire_init(struct cmek_wire *wire)
{
    memset(wire, 0, sizeof(*wire));
    cmek_buf_init(&wire->url, CMEK_WIRE_MAX_URL);
    cmek_buf_init(&wire->body, CMEK_WIRE_MAX_BODY);
}

void cmek_wire_clean_up(struct cmek_wire *wire)
{
    if (wire == NULL) {
        return;
    }
    cmek_buf_clean_up(&wire->url);
    /* Request bodies carry plaintexts (Encrypt) and secrets (Vault's AWS credentials,
     * imported key material): wipe before freeing. */
    if (wire->body.data != NULL) {
        cmek_cleanse(wire->body.data, wire->body.len);
    }
    cmek_buf_clean_up(&wire->body);
    for (size_t i = 0; i < wire->n_headers; i++) {
        free(wire->header_names[i]);
        cmek_cleanse_str(wire->header_values[i]);
        free(wire->header_values[i]);
        wire->header_names[i] = NULL;
        wire->header_values[i] = NULL;
    }
    wire->n_headers = 0;
    wire->method = NULL;
}

int cmek_wire_add_header(struct cmek_wire *wire, const char *name, const char *value)
{
    int rc = CMEK_OK;
    char *n = NULL;
    char *v = NULL;
    if (wire == NULL || name == NULL || value == NULL) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    if (wire->n_headers >= CMEK_WIRE_MAX_HEADERS) {
        rc = CMEK_ERR_LIMIT;
        goto done;
    }
    n = strdup(name);
    v = strdup(value);
    if (n == NULL || v == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    wire->header_names[wire->n_headers] = n;
    wire->header_values[wire->n_headers] = v;
    wire->n_headers++;
    n = NULL;
    v = NULL;
done:
    free(n);
    free(v);
    return rc;
}
