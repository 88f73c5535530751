#include "http.h"

#include <string.h>

void emu_response_init(struct emu_response *resp)
{
    resp->status = 200;
    resp->content_type = "application/json";
    cmek_buf_init(&resp->body, EMU_MAX_RESPONSE_BYTES);
    resp->n_headers = 0;
}

void emu_response_clean_up(struct emu_response *resp)
{
    cmek_buf_clean_up(&resp->body);
    resp->n_headers = 0;
}

void emu_response_add_header(struct emu_response *resp, const char *name, const char *value)
{
    if (resp->n_headers == EMU_MAX_RESPONSE_HEADERS) {
        return;
    }
    struct emu_response_header *h = &resp->headers[resp->n_headers++];
    h->name = name;
    size_t n = strnlen(value, sizeof(h->value) - 1);
    memcpy(h->value, value, n);
    h->value[n] = '\0';
}

struct cmek_view emu_request_header(const struct emu_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (cmek_view_eq_ignore_case(req->headers[i].name, name)) {
            return req->headers[i].value;
        }
    }
    struct cmek_view none = {NULL, 0};
    return none;
}

void emu_request_sigv4_view(const struct emu_request *req, struct cmek_sigv4_request *out)
{
    out->method = cmek_view_from_cstr(req->method);
    out->path = req->path;
    out->query = req->query;
    out->headers = req->headers;
    out->n_headers = req->n_headers;
    out->body = req->body;
}
