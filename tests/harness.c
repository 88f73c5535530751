#include "harness.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmek/sigv4.h"
#include "service.h"
#include "store.h"

#define S_HOST  "127.0.0.1:4566"
#define S_START 1795435200 /* 2026-11-23T12:00:00Z */

static time_t s_wall_now(void *ctx)
{
    return ((struct th_ctx *)ctx)->wall;
}

static int s_random(void *ctx, void *out, size_t len)
{
    (void)ctx;
    return emu_system_default()->random_bytes(NULL, out, len);
}

void th_creds_admin(struct th_creds *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->akid, sizeof(out->akid), "AKIAIOSFODNN7EXAMPLE");
    snprintf(out->secret, sizeof(out->secret), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
}

void th_creds_crdb(struct th_creds *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->akid, sizeof(out->akid), "AKIAI44QH8DHBEXAMPLE");
    snprintf(out->secret, sizeof(out->secret), "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY");
}

void th_init(struct th_ctx *t)
{
    memset(t, 0, sizeof(*t));
    emu_config_init_default(&t->app.cfg);
    t->app.cfg.log_level = EMU_LOG_ERROR;
    t->app.cfg.ccloud_response_log = getenv("CMEK_CCLOUD_RESPONSE_LOG"); /* tests/openapi */
    t->app.sys.wall_now = s_wall_now;
    t->app.sys.random_bytes = s_random;
    t->app.sys.ctx = t;
    t->wall = S_START;
    cmek_buf_init(&t->body, 16u * 1024 * 1024);
    json_error_t jerr;
    json_t *world = json_load_file(CMEK_FIXTURES_DIR "/world.json", JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(world, "world.json: %s", jerr.text);
    struct emu_load_error lerr;
    int rc = emu_store_new(&t->app, world, &t->app.store, &lerr);
    json_decref(world);
    cr_assert_eq(rc, 0, "world: %s", lerr.message);
}

void th_clean_up(struct th_ctx *t)
{
    emu_store_destroy(t->app.store);
    cmek_buf_clean_up(&t->body);
}

/* One JSON line per Cloud API exchange, for the OpenAPI validator (harness.h). */
int th_exchange(struct th_ctx *t, const char *method, const char *path_and_query,
                struct cmek_http_header *headers, size_t n_headers, const char *body)
{
    struct emu_request req;
    memset(&req, 0, sizeof(req));
    req.method = method;
    const char *q = strchr(path_and_query, '?');
    req.path.ptr = path_and_query;
    req.path.len = q ? (size_t)(q - path_and_query) : strlen(path_and_query);
    req.query.ptr = q ? q + 1 : "";
    req.query.len = q ? strlen(q + 1) : 0;
    req.headers = headers;
    req.n_headers = n_headers;
    req.body = cmek_view_from_cstr(body ? body : "");
    snprintf(req.request_id, sizeof(req.request_id), "00000000-0000-4000-8000-000000000000");
    struct emu_response resp;
    emu_response_init(&resp);
    emu_dispatch(&t->app, &req, &resp);
    t->status = resp.status;
    cmek_buf_reset(&t->body);
    cr_assert_eq(cmek_buf_append(&t->body, resp.body.data ? resp.body.data : "", resp.body.len), 0);
    emu_response_clean_up(&resp);
    return t->status;
}

static struct cmek_http_header s_hdr(const char *name, const char *value)
{
    struct cmek_http_header h = {cmek_view_from_cstr(name), cmek_view_from_cstr(value)};
    return h;
}

int th_signed(struct th_ctx *t, const char *service, const char *region, const struct th_creds *c,
              const char *content_type, const char *target, const char *body, long offset_s)
{
    struct cmek_http_header headers[CMEK_SIGV4_POST_MAX_HEADERS];
    size_t n = 0;
    struct cmek_sigv4_credentials creds = {c->akid, c->secret, c->token[0] ? c->token : NULL};
    struct cmek_sigv4_post post = {
        .host = S_HOST,
        .content_type = content_type,
        .target = target,
        .body = body,
        .credentials = &creds,
        .region = region,
        .service = service,
        .when = t->wall + offset_s,
    };
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_post(&post, &out, headers, &n), 0);
    int status = th_exchange(t, "POST", "/", headers, n, body);
    cmek_sigv4_signed_clean_up(&out);
    return status;
}

int th_query(struct th_ctx *t, const char *service, const struct th_creds *c, const char *form)
{
    return th_query_skewed(t, service, c, form, 0);
}

int th_query_skewed(struct th_ctx *t, const char *service, const struct th_creds *c,
                    const char *form, long sign_offset_s)
{
    return th_signed(t, service, "us-east-1", c, "application/x-www-form-urlencoded; charset=utf-8",
                     NULL, form, sign_offset_s);
}

int th_query_region(struct th_ctx *t, const char *service, const char *region,
                    const struct th_creds *c, const char *form)
{
    return th_signed(t, service, region, c, "application/x-www-form-urlencoded; charset=utf-8",
                     NULL, form, 0);
}

int th_kms(struct th_ctx *t, const struct th_creds *c, const char *operation, const char *json)
{
    char target[128];
    snprintf(target, sizeof(target), "TrentService.%s", operation);
    return th_signed(t, "kms", "us-east-1", c, "application/x-amz-json-1.1", target, json, 0);
}

int th_raw(struct th_ctx *t, const char *method, const char *path_and_query,
           const char *content_type, const char *body)
{
    struct cmek_http_header headers[2];
    size_t n = 0;
    headers[n++] = s_hdr("Host", S_HOST);
    if (content_type != NULL) {
        headers[n++] = s_hdr("Content-Type", content_type);
    }
    return th_exchange(t, method, path_and_query, headers, n, body);
}

bool th_xml(const struct th_ctx *t, const char *tag, char *out, size_t cap)
{
    char open[128], close[128];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *text = cmek_buf_cstr(&t->body);
    const char *a = strstr(text, open);
    if (a == NULL) {
        return false;
    }
    a += strlen(open);
    const char *b = strstr(a, close);
    if (b == NULL) {
        return false;
    }
    size_t o = 0;
    for (const char *p = a; p < b && o + 1 < cap; p++) {
        if (strncmp(p, "&amp;", 5) == 0) {
            out[o++] = '&';
            p += 4;
        } else if (strncmp(p, "&lt;", 4) == 0) {
            out[o++] = '<';
            p += 3;
        } else if (strncmp(p, "&gt;", 4) == 0) {
            out[o++] = '>';
            p += 3;
        } else if (strncmp(p, "&quot;", 6) == 0) {
            out[o++] = '"';
            p += 5;
        } else if (strncmp(p, "&apos;", 6) == 0) {
            out[o++] = '\'';
            p += 5;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return true;
}

const char *th_error_code(const struct th_ctx *t, char *out, size_t cap)
{
    if (strstr(cmek_buf_cstr(&t->body), "<ErrorResponse") == NULL || !th_xml(t, "Code", out, cap)) {
        out[0] = '\0';
    }
    return out;
}

const char *th_form_encode(const char *value, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)value; *p && o + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}

int th_assume_role(struct th_ctx *t, const struct th_creds *c, const char *role_arn,
                   const char *session_name, const char *external_id, struct th_creds *session)
{
    char form[2048], arn_enc[512], ext_enc[512];
    snprintf(form, sizeof(form),
             "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=%s%s%s",
             th_form_encode(role_arn, arn_enc, sizeof(arn_enc)), session_name,
             external_id ? "&ExternalId=" : "",
             external_id ? th_form_encode(external_id, ext_enc, sizeof(ext_enc)) : "");
    int status = th_query(t, "sts", c, form);
    if (status == 200) {
        memset(session, 0, sizeof(*session));
        cr_assert(th_xml(t, "AccessKeyId", session->akid, sizeof(session->akid)));
        cr_assert(th_xml(t, "SecretAccessKey", session->secret, sizeof(session->secret)));
        cr_assert(th_xml(t, "SessionToken", session->token, sizeof(session->token)));
    }
    return status;
}

void th_advance(struct th_ctx *t, const char *duration)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"advance\":\"%s\"}", duration);
    cr_assert_eq(th_raw(t, "POST", "/_emulator/clock", "application/json", body), 200, "%s",
                 cmek_buf_cstr(&t->body));
}

int th_vqueryf(struct th_ctx *t, const char *service, const struct th_creds *c, const char *fmt,
               va_list ap)
{
    struct cmek_buf form;
    cmek_buf_init(&form, 1u << 20);
    cr_assert_eq(cmek_buf_vappendf(&form, fmt, ap), 0, "form too long");
    int status = th_query(t, service, c, cmek_buf_cstr(&form));
    cmek_buf_clean_up(&form);
    return status;
}

int th_queryf(struct th_ctx *t, const char *service, const struct th_creds *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = th_vqueryf(t, service, c, fmt, ap);
    va_end(ap);
    return status;
}

int th_kms_json(struct th_ctx *t, const char *region, const struct th_creds *c, const char *op,
                json_t *body)
{
    cr_assert_not_null(body, "bad JSON body for %s", op);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    cr_assert_not_null(text);
    char target[128];
    snprintf(target, sizeof(target), "TrentService.%s", op);
    int status = th_signed(t, "kms", region ? region : "us-east-1", c, "application/x-amz-json-1.1",
                           target, text, 0);
    free(text);
    return status;
}

json_t *th_json(const struct th_ctx *t)
{
    json_error_t e;
    json_t *v = json_loads(cmek_buf_cstr(&t->body), 0, &e);
    cr_assert_not_null(v, "not JSON: %s", cmek_buf_cstr(&t->body));
    return v;
}

void th_expect_kms_error(const struct th_ctx *t, const char *type, const char *message)
{
    cr_assert_eq(t->status, 400, "status %d: %s", t->status, cmek_buf_cstr(&t->body));
    json_t *v = th_json(t);
    cr_assert_str_eq(json_string_value(json_object_get(v, "__type")), type, "%s",
                     cmek_buf_cstr(&t->body));
    if (message == NULL) {
        cr_assert_null(json_object_get(v, "message"), "%s", cmek_buf_cstr(&t->body));
    } else {
        cr_assert_str_eq(json_string_value(json_object_get(v, "message")), message, "%s",
                         cmek_buf_cstr(&t->body));
    }
    json_decref(v);
}

void th_expect_query_error(const struct th_ctx *t, int status, const char *code,
                           const char *message)
{
    char got[1024];
    cr_assert_eq(t->status, status, "status %d: %s", t->status, cmek_buf_cstr(&t->body));
    cr_assert_str_eq(th_error_code(t, got, sizeof(got)), code, "%s", cmek_buf_cstr(&t->body));
    cr_assert(th_xml(t, "Type", got, sizeof(got)));
    cr_assert_str_eq(got, status >= 500 ? "Receiver" : "Sender");
    cr_assert(th_xml(t, "Message", got, sizeof(got)), "%s", cmek_buf_cstr(&t->body));
    cr_assert_str_eq(got, message);
}

void th_expect_query_ok(const struct th_ctx *t)
{
    cr_assert_eq(t->status, 200, "status %d, body: %s", t->status, cmek_buf_cstr(&t->body));
    cr_assert_null(strstr(cmek_buf_cstr(&t->body), "<ErrorResponse"));
}

void th_expect_xml(const struct th_ctx *t, const char *tag, const char *want)
{
    char got[4096];
    cr_assert(th_xml(t, tag, got, sizeof(got)), "no <%s> in: %s", tag, cmek_buf_cstr(&t->body));
    cr_assert_str_eq(got, want, "<%s>", tag);
}

int th_ccloud_as(struct th_ctx *t, const char *method, const char *path, const char *api_key,
                 const char *cc_version, const char *body)
{
    struct cmek_http_header headers[5];
    char bearer[512];
    size_t n = 0;
    headers[n++] = s_hdr("Host", S_HOST);
    headers[n++] = s_hdr("Accept", "application/json");
    if (body != NULL) {
        headers[n++] = s_hdr("Content-Type", "application/json");
    }
    if (api_key != NULL) {
        snprintf(bearer, sizeof(bearer), "Bearer %s", api_key);
        headers[n++] = s_hdr("Authorization", bearer);
    }
    if (cc_version != NULL) {
        headers[n++] = s_hdr("Cc-Version", cc_version);
    }
    return th_exchange(t, method, path, headers, n, body);
}

int th_ccloud(struct th_ctx *t, const char *method, const char *path, const char *body)
{
    return th_ccloud_as(t, method, path, TH_CCLOUD_KEY, "2024-09-16", body);
}

int th_vault(struct th_ctx *t, const char *method, const char *path, const char *token,
             const char *ns, const char *body)
{
    struct cmek_http_header headers[4];
    size_t n = 0;
    headers[n++] = s_hdr("X-Vault-Request", "true");
    if (token != NULL) {
        headers[n++] = s_hdr("X-Vault-Token", token);
    }
    if (ns != NULL) {
        headers[n++] = s_hdr("X-Vault-Namespace", ns);
    }
    return th_exchange(t, method, path, headers, n, body);
}
