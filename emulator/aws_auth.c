#include "aws_auth.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cmek/crypto.h"
#include "cmek/timeutil.h"
#include "store.h"

enum s_failure {
    S_MISSING,
    S_INCOMPLETE,
    S_WRONG_SERVICE,
    S_SIG_EXPIRED,
    S_SIG_NOT_YET,
    S_UNKNOWN_KEY,
    S_EXPIRED_TOKEN,
    S_BAD_SIGNATURE,
    S_FAILURE_COUNT
};

/* One row per failure: the Query protocol's and the JSON protocol's wire error (aws.md 3.3).
 * Messages that depend on the request are filled in by the caller; here the fixed ones. */
static const struct {
    int query_status;
    const char *query_code;
    int json_status;
    const char *json_code;
    const char *message; /* NULL: computed */
} s_failures[S_FAILURE_COUNT] = {
    [S_MISSING] = {403, "MissingAuthenticationToken", 400, "MissingAuthenticationTokenException",
                   NULL},
    [S_INCOMPLETE] = {400, "IncompleteSignature", 400, "IncompleteSignatureException", NULL},
    [S_WRONG_SERVICE] = {403, "SignatureDoesNotMatch", 400, "InvalidSignatureException", NULL},
    [S_SIG_EXPIRED] = {403, "SignatureDoesNotMatch", 400, "InvalidSignatureException", NULL},
    [S_SIG_NOT_YET] = {403, "SignatureDoesNotMatch", 400, "InvalidSignatureException", NULL},
    [S_UNKNOWN_KEY] = {403, "InvalidClientTokenId", 400, "UnrecognizedClientException",
                       "The security token included in the request is invalid."},
    [S_EXPIRED_TOKEN] = {403, "ExpiredToken", 400, "ExpiredTokenException",
                         "The security token included in the request is expired"},
    [S_BAD_SIGNATURE] = {403, "SignatureDoesNotMatch", 400, "InvalidSignatureException",
                         "The request signature we calculated does not match the signature you "
                         "provided. Check your AWS Secret Access Key and signing method. Consult "
                         "the service documentation for details."},
};

static int s_fail(enum emu_aws_protocol proto, enum s_failure f, struct emu_aws_error *err,
                  const char *message)
{
    err->status = proto == EMU_AWS_QUERY ? s_failures[f].query_status : s_failures[f].json_status;
    err->code = proto == EMU_AWS_QUERY ? s_failures[f].query_code : s_failures[f].json_code;
    snprintf(err->message, sizeof(err->message), "%s",
             message != NULL ? message : s_failures[f].message);
    return CMEK_ERR_INVALID_ARG;
}

static void s_copy_view(char *out, size_t cap, struct cmek_view v)
{
    size_t n = v.len < cap - 1 ? v.len : cap - 1;
    memcpy(out, v.ptr, n);
    out[n] = '\0';
}

/* "Signature expired: <req> is now earlier than <now - window> (<now> - 5 min.)" and its
 * "not yet current" twin. */
static int s_skew_fail(enum emu_aws_protocol proto, enum s_failure f, time_t request_time,
                       time_t now, int64_t window_s, struct emu_aws_error *err)
{
    char req_s[CMEK_AMZ_DATE_LEN + 1], edge_s[CMEK_AMZ_DATE_LEN + 1], now_s[CMEK_AMZ_DATE_LEN + 1];
    char msg[256];
    cmek_time_format_amz(request_time, req_s);
    cmek_time_format_amz(now, now_s);
    if (f == S_SIG_EXPIRED) {
        cmek_time_format_amz(now - window_s, edge_s);
        snprintf(msg, sizeof(msg), "Signature expired: %s is now earlier than %s (%s - %lld min.)",
                 req_s, edge_s, now_s, (long long)(window_s / 60));
    } else {
        cmek_time_format_amz(now + window_s, edge_s);
        snprintf(msg, sizeof(msg),
                 "Signature not yet current: %s is still later than %s (%s + %lld min.)", req_s,
                 edge_s, now_s, (long long)(window_s / 60));
    }
    return s_fail(proto, f, err, msg);
}

static int s_check_skew(const struct emu_app *app, const struct cmek_sigv4_auth *auth,
                        int64_t window_s, enum emu_aws_protocol proto, struct emu_aws_error *err)
{
    time_t now = app->sys.wall_now(app->sys.ctx);
    if (auth->mode == CMEK_SIGV4_MODE_QUERY && now > auth->request_time + (time_t)auth->expires_s) {
        /* A presigned request is good from its date until X-Amz-Expires seconds later. */
        return s_fail(proto, S_SIG_EXPIRED, err, "Request has expired");
    }
    if (auth->mode != CMEK_SIGV4_MODE_QUERY && auth->request_time < now - window_s) {
        return s_skew_fail(proto, S_SIG_EXPIRED, auth->request_time, now, window_s, err);
    }
    if (auth->request_time > now + window_s) {
        return s_skew_fail(proto, S_SIG_NOT_YET, auth->request_time, now, window_s, err);
    }
    return CMEK_OK;
}

/* Finds the secret for the access key and fills caller's principal. */
static int s_resolve_key(const struct emu_app *app, const struct cmek_sigv4_auth *auth,
                         enum emu_aws_protocol proto, struct emu_caller *caller,
                         const char **secret, struct cmek_sigv4_key_cache **cache,
                         struct emu_aws_error *err)
{
    const struct emu_store *store = app->store;
    s_copy_view(caller->access_key_id, sizeof(caller->access_key_id), auth->access_key_id);
    struct emu_iam_access_key *key = emu_iam_access_key(&store->iam, caller->access_key_id);
    if (key != NULL) {
        const struct emu_iam_user *user =
            emu_iam_user_by_name(&store->iam, key->account, key->user_name);
        if (!key->active || user == NULL || auth->session_token.len > 0) {
            /* AWS rejects a long-term key sent with a session token as an invalid token. */
            return s_fail(proto, S_UNKNOWN_KEY, err, NULL);
        }
        *secret = key->secret;
        *cache = &key->sigv4;
        caller->identity = &user->ident;
        caller->principal.type = EMU_PRINCIPAL_USER;
        caller->principal.account = user->ident.account;
        caller->principal.entity_arn = user->ident.arn;
        caller->principal.unique_id = user->ident.id;
        caller->principal.session_name = NULL;
        s_copy_view(caller->arn, sizeof(caller->arn), cmek_view_from_cstr(user->ident.arn));
        caller->principal.arn = caller->arn;
        return CMEK_OK;
    }
    struct emu_sts_session *s = emu_sts_find(&store->sts, caller->access_key_id);
    if (s == NULL || auth->session_token.len == 0 ||
        !cmek_consttime_eq_view(auth->session_token, s->token)) {
        return s_fail(proto, S_UNKNOWN_KEY, err, NULL);
    }
    if (emu_store_now(app, store) >= (time_t)s->expires_s) {
        return s_fail(proto, S_EXPIRED_TOKEN, err, NULL);
    }
    *secret = s->secret;
    *cache = &s->sigv4;
    const struct emu_iam_role *role = emu_iam_role_by_id(&store->iam, s->role_id);
    caller->identity = role != NULL ? &role->ident : NULL;
    caller->session = s;
    caller->principal.type = EMU_PRINCIPAL_ROLE_SESSION;
    caller->principal.account = s->account;
    caller->principal.entity_arn = s->role_arn;
    caller->principal.unique_id = s->role_id;
    caller->principal.session_name = s->session_name;
    s_copy_view(caller->arn, sizeof(caller->arn), cmek_view_from_cstr(s->arn));
    caller->principal.arn = caller->arn;
    return CMEK_OK;
}

int emu_aws_authenticate(const struct emu_app *app, const struct emu_request *req,
                         const char *service, enum emu_aws_protocol proto,
                         struct emu_caller *caller, struct emu_aws_error *err)
{
    memset(caller, 0, sizeof(*caller));
    struct cmek_sigv4_request sreq;
    emu_request_sigv4_view(req, &sreq);
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    int rc = cmek_sigv4_parse(&sreq, &auth, &why);
    if (rc) {
        rc = s_fail(proto, S_INCOMPLETE, err, why ? why : "Malformed signature.");
        goto done;
    }
    if (auth.mode == CMEK_SIGV4_MODE_NONE) {
        rc = s_fail(proto, S_MISSING, err,
                    proto == EMU_AWS_QUERY ? "Request is missing Authentication Token"
                                           : "Missing Authentication Token");
        goto done;
    }
    if (!cmek_view_eq_cstr(auth.service, service)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Credential should be scoped to correct service: '%s'. ",
                 service);
        rc = s_fail(proto, S_WRONG_SERVICE, err, msg);
        goto done;
    }
    if (!cmek_sigv4_scope_date_matches(&auth)) {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                 "from HTTP: '%.*s' != '%.8s', from '%.*s'.",
                 (int)auth.scope_date.len, auth.scope_date.ptr, auth.amz_date.ptr,
                 (int)auth.amz_date.len, auth.amz_date.ptr);
        rc = s_fail(proto, S_BAD_SIGNATURE, err, msg);
        goto done;
    }
    rc = s_check_skew(app, &auth,
                      proto == EMU_AWS_JSON ? app->cfg.kms_skew_s : app->cfg.query_skew_s, proto,
                      err);
    if (rc) {
        goto done;
    }
    const char *secret = NULL;
    struct cmek_sigv4_key_cache *cache = NULL;
    rc = s_resolve_key(app, &auth, proto, caller, &secret, &cache, err);
    if (rc) {
        goto done;
    }
    bool match = false;
    rc = cmek_sigv4_verify_cached(&sreq, &auth, secret, cache, true, &match, NULL);
    if (rc || !match) {
        emu_log(app, EMU_LOG_DEBUG, "signature mismatch for %s", caller->access_key_id);
        rc = s_fail(proto, S_BAD_SIGNATURE, err, NULL);
        goto done;
    }
    s_copy_view(caller->region, sizeof(caller->region), auth.region);
done:
    cmek_sigv4_auth_clean_up(&auth);
    return rc;
}

int emu_aws_caller_policies(const struct emu_app *app, const struct emu_caller *caller,
                            struct cmek_vec *out)
{
    if (caller->identity == NULL) {
        return CMEK_OK; /* a session whose role is gone has no permissions left */
    }
    return emu_iam_identity_policies(&app->store->iam, caller->identity, out);
}

bool emu_aws_authorize(const struct emu_app *app, const struct emu_caller *caller,
                       enum emu_aws_protocol proto, const char *action, const char *resource,
                       const struct emu_policy *resource_policy, const char *resource_account,
                       bool resource_policy_required, const char *resource_policy_type,
                       const struct emu_condition_entry *conditions, size_t n_conditions,
                       struct emu_aws_error *err)
{
    /* A session whose role was deleted (or replaced by a namesake) is no longer that role:
     * statements naming the role, bound to its unique id, must not match it, and it has no
     * identity policies left. Only its account still describes it. */
    struct emu_principal orphan = caller->principal;
    bool orphaned = caller->session != NULL && caller->identity == NULL;
    if (orphaned) {
        orphan.unique_id = "";
        orphan.entity_arn = "";
    }
    struct emu_eval_request req = {
        .principal = orphaned ? &orphan : &caller->principal,
        .action = action,
        .resource = resource,
        .conditions = conditions,
        .n_conditions = n_conditions,
        .now = emu_store_now(app, app->store),
    };
    struct cmek_vec policies;
    cmek_vec_init(&policies);
    enum emu_authz_outcome outcome = EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW;
    if (emu_aws_caller_policies(app, caller, &policies) == CMEK_OK) {
        struct emu_authz_input in = {
            .req = &req,
            .identity = (const struct emu_policy *const *)policies.items,
            .n_identity = policies.len,
            .resource = resource_policy,
            .resource_account = resource_account,
            .resource_policy_required = resource_policy_required,
        };
        outcome = emu_authorize(&in);
    }
    cmek_vec_clean_up(&policies);
    /* A session policy can only narrow what the role's policies allow (IAM User Guide,
     * "Session policies"). */
    const char *session_deny = NULL;
    if (outcome == EMU_AUTHZ_ALLOW && caller->session != NULL &&
        caller->session->session_policy != NULL) {
        struct emu_policy_eval ev;
        emu_policy_evaluate(caller->session->session_policy, &req, &ev);
        if (ev.deny) {
            session_deny = "with an explicit deny in a session policy";
        } else if (!ev.allow) {
            session_deny = "because no session policy allows the";
        }
    }
    if (outcome == EMU_AUTHZ_ALLOW && session_deny == NULL) {
        return true;
    }
    err->status = proto == EMU_AWS_QUERY ? 403 : 400;
    err->code = proto == EMU_AWS_QUERY ? "AccessDenied" : "AccessDeniedException";
    struct cmek_buf msg;
    cmek_buf_init(&msg, sizeof(err->message) - 1);
    int rc;
    if (session_deny != NULL) {
        rc = cmek_buf_appendf(&msg, "User: %s is not authorized to perform: %s on resource: %s %s",
                              caller->arn, action, resource, session_deny);
        if (rc == CMEK_OK && session_deny[0] == 'b') {
            rc = cmek_buf_appendf(&msg, " %s action", action);
        }
    } else {
        rc = emu_authz_message(outcome, &req, resource_policy_type, &msg);
    }
    snprintf(err->message, sizeof(err->message), "%s",
             rc == CMEK_OK ? cmek_buf_cstr(&msg) : "Access denied");
    cmek_buf_clean_up(&msg);
    return false;
}
