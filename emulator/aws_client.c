#include "aws_client.h"

#include <stdio.h>
#include <string.h>

#include "http.h"
#include "service.h"

int emu_aws_client_post(struct emu_app *app, const struct emu_aws_client_call *call, int *status,
                        struct cmek_buf *out)
{
    char host[128];
    snprintf(host, sizeof(host), "%s.%s.amazonaws.com", call->service, call->region);
    struct cmek_http_header headers[CMEK_SIGV4_POST_MAX_HEADERS];
    size_t n_headers = 0;
    /* Signatures are checked against the wall clock, as real clients sign with it. */
    struct cmek_sigv4_post post = {
        .host = host,
        .content_type = call->content_type,
        .target = call->target,
        .body = call->body,
        .credentials = call->credentials,
        .region = call->region,
        .service = call->service,
        .when = app->sys.wall_now(app->sys.ctx),
    };
    struct cmek_sigv4_signed sig;
    cmek_sigv4_signed_init(&sig);
    struct emu_response resp;
    emu_response_init(&resp);
    int rc = cmek_sigv4_sign_post(&post, &sig, headers, &n_headers);
    if (rc) {
        goto done;
    }
    struct emu_request req;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = cmek_view_from_cstr("/");
    req.query = cmek_view_from_cstr("");
    req.headers = headers;
    req.n_headers = n_headers;
    req.body = cmek_view_from_cstr(call->body ? call->body : "");
    rc = emu_uuid4(app, req.request_id);
    if (rc) {
        goto done;
    }
    emu_dispatch(app, &req, &resp);
    *status = resp.status;
    cmek_buf_reset(out);
    rc = cmek_buf_append(out, resp.body.data ? resp.body.data : "", resp.body.len);
done:
    emu_response_clean_up(&resp);
    cmek_sigv4_signed_clean_up(&sig);
    return rc;
}
