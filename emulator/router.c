/* router.c: one table from request shape to service. The AWS CLI sends IAM, STS and KMS to
 * the same --endpoint-url, so AWS services are told apart as AWS's own front ends would:
 * KMS by X-Amz-Target (JSON 1.1), IAM and STS by the service in the SigV4 credential scope. */
#include <string.h>
#include <strings.h>

#include "app.h"
#include "service.h"

static bool s_path_prefix(const struct emu_request *req, const char *prefix)
{
    size_t n = strlen(prefix);
    return req->path.len >= n && memcmp(req->path.ptr, prefix, n) == 0;
}

/* The service named in "Credential=AKID/DATE/REGION/SERVICE/aws4_request", from the
 * Authorization header or a presigned X-Amz-Credential (where '/' is %2F). */
static struct cmek_view s_scope_service(const struct emu_request *req)
{
    struct cmek_view none = {NULL, 0};
    struct cmek_view v = emu_request_header(req, "Authorization");
    const char *sep = "/";
    size_t sep_len = 1;
    const char *key = "Credential=";
    if (v.ptr == NULL) {
        v = req->query;
        sep = "%2F";
        sep_len = 3;
        key = "X-Amz-Credential=";
    }
    size_t key_len = strlen(key);
    size_t start = 0;
    for (; start + key_len <= v.len; start++) {
        if (memcmp(v.ptr + start, key, key_len) == 0) {
            break;
        }
    }
    if (start + key_len > v.len) {
        return none;
    }
    size_t i = start + key_len;
    int field = 0;
    size_t field_start = i;
    for (; i + sep_len <= v.len; i++) {
        if (v.ptr[i] == ',' || v.ptr[i] == '&' || v.ptr[i] == ' ') {
            break;
        }
        if (strncasecmp(v.ptr + i, sep, sep_len) == 0) {
            if (field == 3) {
                struct cmek_view out = {v.ptr + field_start, i - field_start};
                return out;
            }
            field++;
            i += sep_len - 1;
            field_start = i + 1;
        }
    }
    return none;
}

/* The emulated clusters' data endpoints answer in the Cloud API's error format. */
static bool s_is_cluster_data(const struct emu_request *req)
{
    return s_path_prefix(req, "/_emulator/clusters/");
}

static bool s_is_admin(const struct emu_request *req)
{
    return s_path_prefix(req, "/_emulator/") || cmek_view_eq_cstr(req->path, "/_emulator");
}

static bool s_is_ccloud(const struct emu_request *req)
{
    return s_path_prefix(req, "/api/");
}

static bool s_is_vault(const struct emu_request *req)
{
    return s_path_prefix(req, "/v1/");
}

static bool s_is_kms(const struct emu_request *req)
{
    return emu_request_header(req, "X-Amz-Target").ptr != NULL ||
           cmek_view_eq_cstr(s_scope_service(req), "kms");
}

static bool s_is_iam(const struct emu_request *req)
{
    return cmek_view_eq_cstr(s_scope_service(req), "iam");
}

static bool s_is_sts(const struct emu_request *req)
{
    return cmek_view_eq_cstr(s_scope_service(req), "sts");
}

static const struct {
    bool (*match)(const struct emu_request *req);
    const struct emu_service *service;
} s_routes[] = {
    {s_is_cluster_data, &emu_service_ccloud},
    {s_is_admin, &emu_service_admin},
    {s_is_ccloud, &emu_service_ccloud},
    {s_is_vault, &emu_service_vault},
    {s_is_kms, &emu_service_kms},
    {s_is_iam, &emu_service_iam},
    {s_is_sts, &emu_service_sts},
};

const struct emu_service *emu_route(const struct emu_request *req)
{
    for (size_t i = 0; i < sizeof(s_routes) / sizeof(s_routes[0]); i++) {
        if (s_routes[i].match(req)) {
            return s_routes[i].service;
        }
    }
    return &emu_service_aws_unknown;
}

void emu_dispatch(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    const struct emu_service *svc = emu_route(req);
    svc->handle(app, req, resp);
    if (resp->status == 0) {
        /* The service could not render (out of memory or over the response cap). */
        cmek_buf_reset(&resp->body);
        resp->n_headers = 0;
        svc->render_error(app, req, resp, 500, "InternalFailure",
                          "The server encountered an internal error.");
    }
    emu_log(app, EMU_LOG_INFO, "%s %s %.*s -> %d", svc->name, req->method, (int)req->path.len,
            req->path.ptr, resp->status);
}
