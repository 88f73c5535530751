/* svc_sts.c: AWS Security Token Service, Query protocol (API version 2011-06-15).
 *
 * Follows the STS API Reference (AssumeRole, GetCallerIdentity) and the IAM User Guide's
 * "How to use an external ID" and "Policy evaluation logic": the role's trust policy is a
 * resource policy that must allow the caller explicitly (naming its account delegates to the
 * caller's own identity policies); sts:ExternalId is in the request context only when the
 * caller passes ExternalId, so a trust policy that requires it denies a call without it.
 * The trust policy is evaluated only here; a session's permissions are the role's policies
 * as they are at each later request.
 *
 * Deliberate differences: SourceIdentity is validated and recorded. PolicyArns, Tags and
 * TransitiveTagKeys are refused with a ValidationError rather than ignored, because each
 * changes what AWS allows (managed session policies narrow the session; tags need
 * sts:TagSession in the trust policy): ignoring them would grant more than AWS does. The MFA
 * parameters (SerialNumber, TokenCode) are accepted and ignored (aws:MultiFactorAuthPresent
 * stays absent). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/crypto.h"
#include "cmek/timeutil.h"
#include "service.h"
#include "store.h"
#include "svc_query.h"

#define S_XMLNS        "https://sts.amazonaws.com/doc/2011-06-15/"
#define S_CHAIN_MAX_S  3600
#define S_B64_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

static bool s_external_id_char(char c)
{
    return emu_query_char_w_plus(c) || c == ':' || c == '/';
}

/* arn:aws:iam::<12 digits>:role/<path/>name -> account and name. */
static bool s_parse_role_arn(const char *arn, char account[13], const char **name)
{
    const char *p = "arn:aws:iam::";
    size_t n = strlen(p);
    if (strncmp(arn, p, n) != 0 || strlen(arn) < n + 18) {
        return false;
    }
    for (size_t i = 0; i < 12; i++) {
        if (arn[n + i] < '0' || arn[n + i] > '9') {
            return false;
        }
    }
    if (strncmp(arn + n + 12, ":role/", 6) != 0) {
        return false;
    }
    memcpy(account, arn + n, 12);
    account[12] = '\0';
    const char *last = strrchr(arn, '/');
    *name = last + 1;
    return **name != '\0';
}

/* STS words a session policy that is not JSON at all in its own way, not as IAM's "Syntax
 * errors in policy.": this is the text the live service gave amazon.aws's sts_assume_role
 * integration test (newer responses may carry the JSON parser's own message instead). */
static bool s_is_json(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    bool ok = v != NULL;
    json_decref(v);
    return ok;
}

/* The STS AccessDenied text: AWS reports the widely seen suffix-less form for AssumeRole and
 * does not say whether the role exists (docs/fidelity.md, "STS AssumeRole denial"). */
static int s_deny(struct emu_query_call *call, const char *role_arn)
{
    return emu_query_fail(call, 403, "AccessDenied",
                          "User: %s is not authorized to perform: sts:AssumeRole on resource: %s",
                          call->caller->arn, role_arn);
}

static int s_new_session(struct emu_query_call *call, const struct emu_iam_role *role,
                         const char *session_name, long long duration, const char *source_identity,
                         struct emu_policy **session_policy, struct emu_sts_session **out)
{
    struct emu_sts_session *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return CMEK_ERR_NOMEM;
    }
    char akid[21], secret[41], token_raw[160];
    struct cmek_buf token;
    cmek_buf_init(&token, 512);
    memcpy(akid, "ASIA", 4);
    int rc = emu_random_string(call->app, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, akid + 4);
    rc = rc ? rc : emu_random_string(call->app, S_B64_ALPHABET, 40, secret);
    rc = rc ? rc : call->app->sys.random_bytes(call->app->sys.ctx, token_raw, sizeof(token_raw));
    /* Real session tokens are opaque base64 blobs of a few hundred bytes starting "IQoJb3Jp"
     * or "FwoGZXIv"; the "FwoGZXIv" prefix keeps tools that sniff it happy. */
    rc = rc ? rc : cmek_buf_append_str(&token, "FwoGZXIvYXdzE");
    rc = rc ? rc : cmek_base64_encode(token_raw, sizeof(token_raw), &token);
    struct cmek_buf arn;
    cmek_buf_init(&arn, 1024);
    rc = rc ? rc
            : cmek_buf_appendf(&arn, "arn:aws:sts::%s:assumed-role/%s/%s", role->ident.account,
                               role->ident.name, session_name);
    if (rc == CMEK_OK) {
        s->access_key_id = strdup(akid);
        s->secret = strdup(secret);
        s->token = cmek_buf_steal(&token);
        s->account = strdup(role->ident.account);
        s->role_id = strdup(role->ident.id);
        s->role_arn = strdup(role->ident.arn);
        s->role_name = strdup(role->ident.name);
        s->session_name = strdup(session_name);
        s->arn = cmek_buf_steal(&arn);
        s->source_arn = strdup(call->caller->arn);
        s->source_identity = source_identity ? strdup(source_identity) : NULL;
        s->issued_s = (int64_t)call->now;
        s->expires_s = (int64_t)call->now + duration;
        s->session_policy = *session_policy;
        *session_policy = NULL;
        if (!s->access_key_id || !s->secret || !s->token || !s->account || !s->role_id ||
            !s->role_arn || !s->role_name || !s->session_name || !s->arn || !s->source_arn ||
            (source_identity && !s->source_identity)) {
            rc = CMEK_ERR_NOMEM;
        }
    }
    cmek_cleanse(secret, sizeof(secret));
    cmek_cleanse(token_raw, sizeof(token_raw));
    cmek_buf_clean_up(&token);
    cmek_buf_clean_up(&arn);
    if (rc) {
        emu_sts_session_destroy(s);
        return rc;
    }
    *out = s;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html */
/* The parameter families this emulator refuses (see the file comment). */
static const char *const s_unsupported_prefixes[] = {"PolicyArns.", "Tags.", "TransitiveTagKeys."};

static int s_refuse_unsupported(struct emu_query_call *call)
{
    for (size_t i = 0; i < call->params->items.len; i++) {
        const struct emu_query_param *p = call->params->items.items[i];
        for (size_t j = 0; j < sizeof(s_unsupported_prefixes) / sizeof(s_unsupported_prefixes[0]);
             j++) {
            const char *prefix = s_unsupported_prefixes[j];
            if (strncmp(p->name, prefix, strlen(prefix)) == 0) {
                return emu_query_fail(call, 400, "ValidationError",
                                      "%.*s is not supported by cmek-emulator: it would change the "
                                      "session's permissions in ways the emulator does not model.",
                                      (int)strlen(prefix) - 1, prefix);
            }
        }
    }
    return CMEK_OK;
}

static int s_assume_role(struct emu_query_call *call)
{
    const char *role_arn = emu_query_required(call, "RoleArn", "roleArn");
    const char *session_name = emu_query_required(call, "RoleSessionName", "roleSessionName");
    const char *external_id = emu_query_param(call->params, "ExternalId");
    const char *policy_text = emu_query_param(call->params, "Policy");
    const char *source_identity = emu_query_param(call->params, "SourceIdentity");
    long long duration = 3600;
    emu_query_check_string(call, "roleArn", role_arn, 20, 2048, NULL, NULL);
    emu_query_check_string(call, "roleSessionName", session_name, 2, 64, "[\\w+=,.@-]*",
                           emu_query_char_w_plus);
    emu_query_check_string(call, "externalId", external_id, 2, 1224, "[\\w+=,.@:\\/-]*",
                           s_external_id_char);
    emu_query_check_string(call, "sourceIdentity", source_identity, 2, 64, "[\\w+=,.@-]*",
                           emu_query_char_w_plus);
    emu_query_check_string(call, "policy", policy_text, 1, 100000, NULL, NULL);
    emu_query_check_int(call, "DurationSeconds", "durationSeconds", 900, 43200, &duration);
    int rc = emu_query_validation_result(call);
    rc = rc ? rc : s_refuse_unsupported(call);
    if (rc) {
        return rc;
    }
    char account[13];
    const char *role_name = NULL;
    if (!s_parse_role_arn(role_arn, account, &role_name)) {
        return emu_query_fail(call, 400, "ValidationError", "%s is invalid", role_arn);
    }
    struct emu_policy *session_policy = NULL;
    if (policy_text != NULL) {
        struct emu_policy_error perr;
        if (strlen(policy_text) > 2048) {
            return emu_query_fail(call, 400, "PackedPolicyTooLarge",
                                  "Packed policy consumes more than the allowed size limit.");
        }
        if (!s_is_json(policy_text)) {
            return emu_query_fail(call, 400, "MalformedPolicyDocument",
                                  "The policy is not in the valid JSON format.");
        }
        rc = emu_policy_parse(policy_text, strlen(policy_text), EMU_POLICY_IDENTITY, NULL,
                              &session_policy, &perr);
        if (rc) {
            return rc == CMEK_ERR_PARSE
                       ? emu_query_fail(call, 400, "MalformedPolicyDocument", "%s", perr.message)
                       : rc;
        }
    }
    struct emu_iam_role *role = emu_iam_role_by_name(&call->app->store->iam, account, role_name);
    if (role == NULL || strcmp(role->ident.arn, role_arn) != 0) {
        emu_policy_destroy(session_policy);
        return s_deny(call, role_arn);
    }
    const char *ext_values[1] = {external_id};
    const char *name_values[1] = {session_name};
    const char *src_values[1] = {source_identity};
    struct emu_condition_entry conds[3];
    size_t n_conds = 0;
    conds[n_conds++] = (struct emu_condition_entry){"sts:RoleSessionName", name_values, 1};
    if (external_id != NULL) {
        conds[n_conds++] = (struct emu_condition_entry){"sts:ExternalId", ext_values, 1};
    }
    if (source_identity != NULL) {
        conds[n_conds++] = (struct emu_condition_entry){"sts:SourceIdentity", src_values, 1};
    }
    struct emu_aws_error aerr;
    if (!emu_aws_authorize(call->app, call->caller, EMU_AWS_QUERY, "sts:AssumeRole",
                           role->ident.arn, role->trust, role->ident.account, true, "role trust",
                           conds, n_conds, &aerr)) {
        emu_log(call->app, EMU_LOG_DEBUG, "AssumeRole denied: %s", aerr.message);
        emu_policy_destroy(session_policy);
        return s_deny(call, role_arn);
    }
    if (duration > role->max_session_s) {
        emu_policy_destroy(session_policy);
        return emu_query_fail(call, 400, "ValidationError",
                              "The requested DurationSeconds exceeds the MaxSessionDuration set "
                              "for this role.");
    }
    if (call->caller->principal.type == EMU_PRINCIPAL_ROLE_SESSION && duration > S_CHAIN_MAX_S) {
        emu_policy_destroy(session_policy);
        return emu_query_fail(call, 400, "ValidationError",
                              "The requested DurationSeconds exceeds the 1 hour session limit "
                              "for roles assumed by role chaining.");
    }
    struct emu_sts_session *s = NULL;
    rc = s_new_session(call, role, session_name, duration, source_identity, &session_policy, &s);
    emu_policy_destroy(session_policy);
    if (rc) {
        return rc;
    }
    /* Render before handing the session to the store, which may evict old ones. */
    char expires[CMEK_ISO8601_LEN + 1];
    cmek_time_format_iso8601((time_t)s->expires_s, expires);
    struct cmek_buf *o = call->out;
    rc = cmek_buf_append_str(o, "<AssumedRoleUser>");
    rc = rc ? rc : emu_xml_element(o, "Arn", s->arn);
    rc = rc ? rc : cmek_buf_appendf(o, "<AssumedRoleId>%s:", s->role_id);
    rc = rc ? rc : emu_xml_escape(o, s->session_name);
    rc = rc ? rc : cmek_buf_append_str(o, "</AssumedRoleId></AssumedRoleUser><Credentials>");
    rc = rc ? rc : emu_xml_element(o, "AccessKeyId", s->access_key_id);
    rc = rc ? rc : emu_xml_element(o, "SecretAccessKey", s->secret);
    rc = rc ? rc : emu_xml_element(o, "SessionToken", s->token);
    rc = rc ? rc : emu_xml_element(o, "Expiration", expires);
    rc = rc ? rc : cmek_buf_append_str(o, "</Credentials>");
    if (source_identity != NULL) {
        rc = rc ? rc : emu_xml_element(o, "SourceIdentity", source_identity);
    }
    if (s->session_policy != NULL) {
        /* PackedPolicySize: percentage of the packed-policy allowance used (approximate). */
        rc = rc ? rc
                : cmek_buf_appendf(o, "<PackedPolicySize>%zu</PackedPolicySize>",
                                   strlen(emu_policy_text(s->session_policy)) * 100 / 2048);
    }
    if (rc) {
        emu_sts_session_destroy(s);
        return rc;
    }
    emu_log(call->app, EMU_LOG_INFO, "AssumeRole: %s assumed %s (session %s, %lld s)",
            call->caller->arn, role->ident.arn, s->access_key_id, duration);
    return emu_sts_add(&call->app->store->sts, s);
}

/* https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 * Needs no permission, works even under an explicit Deny. */
static int s_get_caller_identity(struct emu_query_call *call)
{
    const struct emu_caller *c = call->caller;
    struct cmek_buf *o = call->out;
    int rc;
    if (c->principal.type == EMU_PRINCIPAL_ROLE_SESSION) {
        rc = cmek_buf_appendf(o, "<UserId>%s:", c->principal.unique_id);
        rc = rc ? rc : emu_xml_escape(o, c->principal.session_name);
        rc = rc ? rc : cmek_buf_append_str(o, "</UserId>");
    } else {
        rc = emu_xml_element(o, "UserId", c->principal.unique_id);
    }
    rc = rc ? rc : emu_xml_element(o, "Account", c->principal.account);
    return rc ? rc : emu_xml_element(o, "Arn", c->arn);
}

static const struct emu_query_op s_ops[] = {
    {"AssumeRole", s_assume_role},
    {"GetCallerIdentity", s_get_caller_identity},
};

static const struct emu_query_service s_sts_service = {
    .name = "sts",
    .xmlns = S_XMLNS,
    .version = "2011-06-15",
    .ops = s_ops,
    .n_ops = sizeof(s_ops) / sizeof(s_ops[0]),
};

static void s_handle(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    emu_query_service_handle(&s_sts_service, app, req, resp);
}

static void s_render_error(const struct emu_app *app, const struct emu_request *req,
                           struct emu_response *resp, int status, const char *code,
                           const char *message)
{
    (void)app;
    emu_query_service_render_error(&s_sts_service, req, resp, status, code, message);
}

const struct emu_service emu_service_sts = {
    .name = "sts",
    .handle = s_handle,
    .render_error = s_render_error,
};
