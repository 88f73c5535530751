/* svc_kms.c: AWS KMS, JSON 1.1 protocol (X-Amz-Target: TrentService.<Operation>).
 *
 * This module authenticates every request with SigV4 (KMS's 5-minute window, its JSON
 * error types) and dispatches through the operation table. The table is empty until the
 * KMS operations land (issue 3), so every operation is answered, as AWS answers an unknown
 * target, with UnknownOperationException. */
#include <string.h>

#include "app.h"
#include "aws_auth.h"
#include "proto_awsjson.h"
#include "service.h"
#include "store.h"

#define S_TARGET_PREFIX "TrentService."

static void s_render_error(const struct emu_app *app, const struct emu_request *req,
                           struct emu_response *resp, int status, const char *code,
                           const char *message)
{
    (void)app;
    const char *type = status == 413   ? "RequestEntityTooLargeException"
                       : status >= 500 ? "KMSInternalException"
                                       : code;
    emu_awsjson_render_error(resp, req->request_id, status, type, message);
}

static void s_handle(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    if (strcmp(req->method, "POST") != 0) {
        emu_awsjson_render_error(resp, req->request_id, 400, "UnknownOperationException", NULL);
        return;
    }
    emu_store_lock(app->store);
    struct emu_caller caller;
    struct emu_aws_error err;
    int rc = emu_aws_authenticate(app, req, "kms", EMU_AWS_JSON, &caller, &err);
    emu_store_unlock(app->store);
    if (rc) {
        emu_awsjson_render_error(resp, req->request_id, err.status, err.code, err.message);
        return;
    }
    struct cmek_view target = emu_request_header(req, "X-Amz-Target");
    if (target.ptr == NULL || !cmek_view_starts_with(target, S_TARGET_PREFIX)) {
        emu_awsjson_render_error(resp, req->request_id, 400, "UnknownOperationException", NULL);
        return;
    }
    emu_awsjson_render_error(resp, req->request_id, 400, "UnknownOperationException", NULL);
}

const struct emu_service emu_service_kms = {
    .name = "kms",
    .handle = s_handle,
    .render_error = s_render_error,
};
