/* svc_pending.c: the front door of AWS requests no emulated service claims (Vault is
 * svc_vault.c, the Cloud API svc_ccloud.c): answered in the Query protocol's error format, so
 * a client sees a well-formed error rather than a protocol it cannot parse. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "aws_auth.h"
#include "proto_query.h"
#include "service.h"
#include "store.h"

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
