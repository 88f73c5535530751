#include "proto_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmek/crypto.h"

void emu_query_params_init(struct emu_query_params *params)
{
    cmek_vec_init(&params->items);
}

void emu_query_params_clean_up(struct emu_query_params *params)
{
    for (size_t i = 0; i < params->items.len; i++) {
        struct emu_query_param *p = params->items.items[i];
        free(p->name);
        free(p->value);
        free(p);
    }
    cmek_vec_clean_up(&params->items);
}

/* Form decoding; libmicrohttpd's post processor only runs inside its own connection
 * callbacks, and the SigV4 check needs the raw body anyway, so the body is decoded here. */
static int s_decode(const char *in, size_t len, char **out)
{
    char *s = malloc(len + 1);
    if (s == NULL) {
        return CMEK_ERR_NOMEM;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '+') {
            s[o++] = ' ';
        } else if (in[i] == '%') {
            int hi = i + 2 < len ? cmek_hex_value(in[i + 1]) : -1;
            int lo = i + 2 < len ? cmek_hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(s);
                return CMEK_ERR_PARSE;
            }
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[o++] = in[i];
        }
    }
    s[o] = '\0';
    if (strlen(s) != o) { /* an encoded NUL has no place in a parameter */
        free(s);
        return CMEK_ERR_PARSE;
    }
    *out = s;
    return CMEK_OK;
}

int emu_query_params_parse(struct cmek_view text, bool skip_presign,
                           struct emu_query_params *params)
{
    size_t i = 0;
    while (i < text.len) {
        size_t end = i;
        while (end < text.len && text.ptr[end] != '&') {
            end++;
        }
        if (end > i) {
            size_t eq = i;
            while (eq < end && text.ptr[eq] != '=') {
                eq++;
            }
            char *name = NULL;
            char *value = NULL;
            int rc = s_decode(text.ptr + i, eq - i, &name);
            if (rc == CMEK_OK) {
                rc = eq < end ? s_decode(text.ptr + eq + 1, end - eq - 1, &value)
                              : s_decode("", 0, &value);
            }
            bool keep = rc == CMEK_OK && !(skip_presign && strncmp(name, "X-Amz-", 6) == 0) &&
                        emu_query_param(params, name) == NULL;
            struct emu_query_param *p = NULL;
            if (keep && params->items.len >= EMU_QUERY_MAX_PARAMS) {
                rc = CMEK_ERR_LIMIT;
            }
            if (keep && rc == CMEK_OK) {
                p = malloc(sizeof(*p));
                rc = p ? CMEK_OK : CMEK_ERR_NOMEM;
            }
            if (keep && rc == CMEK_OK) {
                p->name = name;
                p->value = value;
                rc = cmek_vec_push(&params->items, p);
                if (rc == CMEK_OK) {
                    name = NULL;
                    value = NULL;
                } else {
                    free(p);
                }
            }
            free(name);
            free(value);
            if (rc) {
                return rc;
            }
        }
        i = end + 1;
    }
    return CMEK_OK;
}

const char *emu_query_param(const struct emu_query_params *params, const char *name)
{
    for (size_t i = 0; i < params->items.len; i++) {
        const struct emu_query_param *p = params->items.items[i];
        if (strcmp(p->name, name) == 0) {
            return p->value;
        }
    }
    return NULL;
}

void emu_query_error_set(struct emu_query_error *err, int status, const char *code, const char *fmt,
                         ...)
{
    err->status = status;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

int emu_xml_escape(struct cmek_buf *out, const char *text)
{
    int rc = CMEK_OK;
    for (const char *p = text; *p && rc == CMEK_OK; p++) {
        switch (*p) {
        case '&':
            rc = cmek_buf_append_str(out, "&amp;");
            break;
        case '<':
            rc = cmek_buf_append_str(out, "&lt;");
            break;
        case '>':
            rc = cmek_buf_append_str(out, "&gt;");
            break;
        case '"':
            rc = cmek_buf_append_str(out, "&quot;");
            break;
        case '\'':
            rc = cmek_buf_append_str(out, "&apos;");
            break;
        default:
            rc = cmek_buf_append_byte(out, *p);
            break;
        }
    }
    return rc;
}

int emu_xml_element(struct cmek_buf *out, const char *tag, const char *text)
{
    int rc = cmek_buf_appendf(out, "<%s>", tag);
    rc = rc ? rc : emu_xml_escape(out, text);
    rc = rc ? rc : cmek_buf_appendf(out, "</%s>", tag);
    return rc;
}

static void s_xml_headers(struct emu_response *resp, const char *request_id)
{
    resp->content_type = "text/xml";
    emu_response_add_header(resp, "x-amzn-RequestId", request_id);
}

int emu_query_render_result(struct emu_response *resp, const char *xmlns, const char *action,
                            const char *result_xml, const char *request_id)
{
    resp->status = 200;
    s_xml_headers(resp, request_id);
    cmek_buf_reset(&resp->body);
    int rc = cmek_buf_appendf(&resp->body, "<%sResponse xmlns=\"%s\">\n", action, xmlns);
    if (rc == CMEK_OK && result_xml != NULL) {
        rc = cmek_buf_appendf(&resp->body, "  <%sResult>\n%s  </%sResult>\n", action, result_xml,
                              action);
    }
    rc = rc ? rc
            : cmek_buf_appendf(&resp->body,
                               "  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n"
                               "  </ResponseMetadata>\n</%sResponse>\n",
                               request_id, action);
    return rc;
}

int emu_query_render_error(struct emu_response *resp, const char *xmlns,
                           const struct emu_query_error *err, const char *request_id)
{
    resp->status = err->status;
    s_xml_headers(resp, request_id);
    cmek_buf_reset(&resp->body);
    int rc = cmek_buf_appendf(&resp->body,
                              "<ErrorResponse xmlns=\"%s\">\n  <Error>\n    <Type>%s</Type>\n"
                              "    <Code>%s</Code>\n    <Message>",
                              xmlns, err->status >= 500 ? "Receiver" : "Sender", err->code);
    rc = rc ? rc : emu_xml_escape(&resp->body, err->message);
    rc = rc ? rc
            : cmek_buf_appendf(&resp->body,
                               "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n"
                               "</ErrorResponse>\n",
                               request_id);
    return rc;
}
