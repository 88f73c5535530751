#include "svc_query.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "store.h"

static void s_add_violation(struct emu_query_call *call, const char *text)
{
    size_t used = strlen(call->validation);
    snprintf(call->validation + used, sizeof(call->validation) - used, "%s%s",
             call->n_validation > 0 ? "; " : "", text);
    call->n_validation++;
}

void emu_query_invalid_null(struct emu_query_call *call, const char *member)
{
    char text[256];
    snprintf(text, sizeof(text),
             "Value null at '%s' failed to satisfy constraint: Member must not be null", member);
    s_add_violation(call, text);
}

void emu_query_invalid(struct emu_query_call *call, const char *member, const char *value,
                       bool sensitive, const char *constraint)
{
    char text[512];
    if (sensitive) {
        snprintf(text, sizeof(text), "Value at '%s' failed to satisfy constraint: %s", member,
                 constraint);
    } else {
        snprintf(text, sizeof(text), "Value '%.120s' at '%s' failed to satisfy constraint: %s",
                 value, member, constraint);
    }
    s_add_violation(call, text);
}

const char *emu_query_required(struct emu_query_call *call, const char *param, const char *member)
{
    const char *v = emu_query_param(call->params, param);
    if (v == NULL) {
        emu_query_invalid_null(call, member);
    }
    return v;
}

bool emu_query_char_w_plus(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}

bool emu_query_char_printable(char c)
{
    return c >= 0x21 && c <= 0x7e;
}

void emu_query_check_string(struct emu_query_call *call, const char *member, const char *value,
                            size_t min_len, size_t max_len, const char *pattern,
                            bool (*allowed)(char c))
{
    if (value == NULL) {
        return;
    }
    size_t n = strlen(value);
    char constraint[256];
    if (n < min_len) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length greater than or equal to %zu", min_len);
        emu_query_invalid(call, member, value, false, constraint);
    }
    if (n > max_len) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length less than or equal to %zu", max_len);
        emu_query_invalid(call, member, value, false, constraint);
    }
    if (allowed != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (!allowed(value[i])) {
                snprintf(constraint, sizeof(constraint),
                         "Member must satisfy regular expression pattern: %s", pattern);
                emu_query_invalid(call, member, value, false, constraint);
                break;
            }
        }
    }
}

void emu_query_check_int(struct emu_query_call *call, const char *param, const char *member,
                         long long min, long long max, long long *out)
{
    const char *v = emu_query_param(call->params, param);
    if (v == NULL) {
        return;
    }
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    char constraint[128];
    if (end == v || *end != '\0' || errno != 0) {
        /* botocore never sends this; AWS's Query front end rejects it the same way. */
        snprintf(constraint, sizeof(constraint), "Member must be a number");
        emu_query_invalid(call, member, v, false, constraint);
        return;
    }
    if (n < min) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have value greater than or equal to %lld", min);
        emu_query_invalid(call, member, v, false, constraint);
        return;
    }
    if (n > max) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have value less than or equal to %lld", max);
        emu_query_invalid(call, member, v, false, constraint);
        return;
    }
    *out = n;
}

int emu_query_fail(struct emu_query_call *call, int status, const char *code, const char *fmt, ...)
{
    call->err->status = status;
    call->err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->err->message, sizeof(call->err->message), fmt, ap);
    va_end(ap);
    return CMEK_ERR_INVALID_ARG;
}

int emu_query_validation_result(struct emu_query_call *call)
{
    if (call->n_validation == 0) {
        return CMEK_OK;
    }
    return emu_query_fail(call, 400, "ValidationError", "%d validation error%s detected: %s",
                          call->n_validation, call->n_validation > 1 ? "s" : "", call->validation);
}

int emu_query_authorize(struct emu_query_call *call, const char *action, const char *resource,
                        const char *resource_account)
{
    struct emu_aws_error aerr;
    if (emu_aws_authorize(call->app, call->caller, EMU_AWS_QUERY, action, resource, NULL,
                          resource_account, false, "resource-based", NULL, 0, &aerr)) {
        return CMEK_OK;
    }
    return emu_query_fail(call, aerr.status, aerr.code, "%s", aerr.message);
}

void emu_query_service_render_error(const struct emu_query_service *svc,
                                    const struct emu_request *req, struct emu_response *resp,
                                    int status, const char *code, const char *message)
{
    struct emu_query_error err;
    emu_query_error_set(&err, status, code, "%s", message);
    if (emu_query_render_error(resp, svc->xmlns, &err, req->request_id)) {
        resp->status = 0;
    }
}

static const struct emu_query_op *s_find_op(const struct emu_query_service *svc, const char *action)
{
    for (size_t i = 0; i < svc->n_ops; i++) {
        if (strcmp(svc->ops[i].action, action) == 0) {
            return &svc->ops[i];
        }
    }
    return NULL;
}

void emu_query_service_handle(const struct emu_query_service *svc, struct emu_app *app,
                              const struct emu_request *req, struct emu_response *resp)
{
    struct emu_query_params params;
    emu_query_params_init(&params);
    struct emu_query_error err = {.status = 0, .code = NULL, .message = ""};
    struct cmek_buf out;
    cmek_buf_init(&out, EMU_MAX_RESPONSE_BYTES / 2);
    struct emu_caller caller;
    bool locked = false;
    const char *action = NULL;
    int rc;

    bool is_get = strcmp(req->method, "GET") == 0;
    if (!is_get && strcmp(req->method, "POST") != 0) {
        emu_query_error_set(&err, 405, "InvalidHttpRequest",
                            "The %s method is not supported; use POST (or GET)", req->method);
        goto render;
    }
    if (!is_get) {
        struct cmek_view ct = emu_request_header(req, "Content-Type");
        if (ct.ptr == NULL || !cmek_view_starts_with(ct, "application/x-www-form-urlencoded")) {
            /* AWS's Query front ends read only form bodies. */
            emu_query_error_set(&err, 400, "InvalidQueryParameter",
                                "Content-Type must be application/x-www-form-urlencoded");
            goto render;
        }
    }
    rc = emu_query_params_parse(is_get ? req->query : req->body, is_get, &params);
    if (rc) {
        emu_query_error_set(&err, 400,
                            rc == CMEK_ERR_LIMIT ? "InvalidQueryParameter" : "MalformedQueryString",
                            rc == CMEK_ERR_LIMIT ? "Too many parameters in the request"
                                                 : "The request contains a malformed percent "
                                                   "escape or an encoded NUL");
        goto render;
    }

    emu_store_lock(app->store);
    locked = true;
    struct emu_aws_error aerr;
    rc = emu_aws_authenticate(app, req, svc->name, EMU_AWS_QUERY, &caller, &aerr);
    if (rc) {
        emu_query_error_set(&err, aerr.status, aerr.code, "%s", aerr.message);
        goto render;
    }
    action = emu_query_param(&params, "Action");
    if (action == NULL) {
        emu_query_error_set(&err, 400, "MissingAction", "Missing Action");
        goto render;
    }
    const char *version = emu_query_param(&params, "Version");
    const struct emu_query_op *op = s_find_op(svc, action);
    if (op == NULL || (version != NULL && strcmp(version, svc->version) != 0)) {
        emu_query_error_set(&err, 400, "InvalidAction",
                            "Could not find operation %.128s for version %.32s", action,
                            version ? version : svc->version);
        goto render;
    }
    struct emu_query_call call = {
        .app = app,
        .caller = &caller,
        .params = &params,
        .action = action,
        .now = emu_store_now(app, app->store),
        .out = &out,
        .has_result = true,
        .err = &err,
        .validation = "",
        .n_validation = 0,
    };
    rc = op->fn(&call);
    if (rc && err.status == 0) {
        emu_log(app, EMU_LOG_ERROR, "%s %s failed internally (%s)", svc->name, action,
                cmek_error_str(rc));
        emu_query_error_set(&err, 500, "ServiceFailure",
                            "The request processing has failed because of an unknown error, "
                            "exception or failure.");
    }
    if (rc == CMEK_OK) {
        emu_store_unlock(app->store);
        locked = false;
        if (emu_query_render_result(resp, svc->xmlns, action,
                                    call.has_result ? cmek_buf_cstr(&out) : NULL,
                                    req->request_id)) {
            resp->status = 0;
        }
        goto done;
    }
render:
    if (locked) {
        emu_store_unlock(app->store);
        locked = false;
    }
    emu_log(app, EMU_LOG_DEBUG, "%s %s: %s %s", svc->name, action ? action : "-", err.code,
            err.message);
    if (emu_query_render_error(resp, svc->xmlns, &err, req->request_id)) {
        resp->status = 0;
    }
done:
    cmek_buf_clean_up(&out);
    emu_query_params_clean_up(&params);
}
