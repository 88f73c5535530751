/* svc_pending.c: the front doors of the services that later modules emulate (Vault) and of
 * AWS requests no emulated service claims (the Cloud API is svc_ccloud.c). Each
 * answers in its service's own error format, so a client sees a well-formed "not found"
 * rather than a protocol it cannot parse. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "aws_auth.h"
#include "proto_query.h"
#include "service.h"
#include "store.h"

/* Vault's {"errors": [...]}. */
static void s_vault_error(const struct emu_app *app, const struct emu_request *req,
                          struct emu_response *resp, int status, const char *code,
                          const char *message)
{
    (void)app;
    (void)req;
    (void)code;
    resp->status = status;
    resp->content_type = "application/json";
    cmek_buf_reset(&resp->body);
    json_t *o = json_pack("{s:[s]}", "errors", message);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text == NULL || cmek_buf_append_str(&resp->body, text) ||
        cmek_buf_append_byte(&resp->body, '\n')) {
        resp->status = 0;
    }
    free(text);
    json_decref(o);
}

static void s_vault_handle(struct emu_app *app, const struct emu_request *req,
                           struct emu_response *resp)
{
    char msg[512];
    size_t n = req->path.len > 4 ? req->path.len - 4 : 0;
    snprintf(msg, sizeof(msg), "no handler for route \"%.*s\". route entry not found.",
             (int)(n > 400 ? 400 : n), req->path.ptr + 4);
    s_vault_error(app, req, resp, 404, "NotFound", msg);
}

const struct emu_service emu_service_vault = {
    .name = "vault",
    .handle = s_vault_handle,
    .render_error = s_vault_error,
};

/* AWS requests that name no emulated service: answered in the Query protocol's shape. */
static void s_aws_error(const struct emu_app *app, const struct emu_request *req,
                        struct emu_response *resp, int status, const char *code,
                        const char *message)
{
    (void)app;
    struct emu_query_error err;
    emu_query_error_set(&err, status, code, "%s", message);
    if (emu_query_render_error(resp, "https://iam.amazonaws.com/doc/2010-05-08/", &err,
                               req->request_id)) {
        resp->status = 0;
    }
}

static void s_aws_unknown_handle(struct emu_app *app, const struct emu_request *req,
                                 struct emu_response *resp)
{
    struct cmek_view auth = emu_request_header(req, "Authorization");
    bool presigned = false;
    for (size_t i = 0; i + 16 <= req->query.len; i++) {
        if (memcmp(req->query.ptr + i, "X-Amz-Signature=", 16) == 0) {
            presigned = true;
        }
    }
    if (auth.ptr == NULL && !presigned) {
        s_aws_error(app, req, resp, 403, "MissingAuthenticationToken",
                    "Request is missing Authentication Token");
        return;
    }
    s_aws_error(app, req, resp, 400, "InvalidAction",
                "The request is signed for a service this emulator does not serve; it serves "
                "iam, sts and kms (credential scope) and TrentService (X-Amz-Target)");
}

const struct emu_service emu_service_aws_unknown = {
    .name = "aws",
    .handle = s_aws_unknown_handle,
    .render_error = s_aws_error,
};
