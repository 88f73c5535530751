/* test_client_retry.c: cmek_client_call over the mock transport (client/client.c): where
 * each service's request goes, how it is authenticated, and the retry rules of
 * cmek/client.h, observed through the clock, sleep and random seams. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmek/client.h"
#include "cmek/sigv4.h"
#include "cmek/target.h"
#include "cmek/timeutil.h"
#include "cmek/transport.h"
#include "test_common.h"

static void s_setup(void);
static void s_teardown(void);
TestSuite(client_call, .init = s_setup, .fini = s_teardown);
TestSuite(client_retry, .init = s_setup, .fini = s_teardown);

#define S_AKID       "AKIAIOSFODNN7EXAMPLE"
#define S_SECRET     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S_THROTTLE   "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}"
#define S_MAX_VARS   8
#define S_MAX_SLEEPS 32

/* The fake environment target_load reads, and the seams' record. */
struct s_world {
    const char *names[S_MAX_VARS];
    const char *values[S_MAX_VARS];
    size_t n_vars;
    time_t now;
    uint32_t random_value;
    unsigned sleeps[S_MAX_SLEEPS];
    size_t n_sleeps;
};

static struct s_world s_w;
static struct cmek_target s_target;
static struct cmek_transport *s_mock;
static struct cmek_client *s_client;
static struct cmek_api_error s_err;
static json_t *s_out;

static const char *s_getenv(void *ctx, const char *name)
{
    const struct s_world *w = ctx;
    for (size_t i = 0; i < w->n_vars; i++) {
        if (strcmp(w->names[i], name) == 0) {
            return w->values[i];
        }
    }
    return NULL;
}

static void s_set_env(const char *name, const char *value)
{
    cr_assert_lt(s_w.n_vars, S_MAX_VARS);
    s_w.names[s_w.n_vars] = name;
    s_w.values[s_w.n_vars] = value;
    s_w.n_vars++;
}

static time_t s_now(void *ctx)
{
    struct s_world *w = ctx;
    return w->now++; /* one second per signature: each attempt gets its own X-Amz-Date */
}

static void s_sleep(void *ctx, unsigned ms)
{
    struct s_world *w = ctx;
    cr_assert_lt(w->n_sleeps, S_MAX_SLEEPS);
    w->sleeps[w->n_sleeps++] = ms;
}

static uint32_t s_random(void *ctx)
{
    const struct s_world *w = ctx;
    return w->random_value;
}

static void s_setup(void)
{
    memset(&s_w, 0, sizeof(s_w));
    cr_assert_eq(cmek_time_parse_amz("20260301T120000Z", 16, &s_w.now), CMEK_OK);
    s_w.random_value = 1000003u;
    s_set_env("HOME", "/nonexistent-cmek-test-home");
    cmek_target_init(&s_target);
    cr_assert_eq(cmek_transport_mock_new(&s_mock), CMEK_OK);
    s_client = NULL;
    s_out = NULL;
    cmek_api_error_clear(&s_err);
}

static void s_teardown(void)
{
    json_decref(s_out);
    cmek_client_destroy(s_client);
    if (s_mock != NULL) {
        s_mock->destroy(s_mock);
    }
    cmek_target_clean_up(&s_target);
    cmek_test_fini();
}

/* Loads target name ("live", "emulator") with the fake environment and opens a client over
 * the mock. */
static void s_open(const char *name, const struct cmek_aws_credentials *aws_as)
{
    char why[256] = "";
    cr_assert_eq(
        cmek_target_load(&s_target, name, CMEK_FIXTURES_DIR, s_getenv, &s_w, why, sizeof(why)),
        CMEK_OK, "%s", why);
    struct cmek_client_options opt = {
        .target = &s_target,
        .aws_as = aws_as,
        .transport = s_mock,
        .now = s_now,
        .sleep_ms = s_sleep,
        .random_u32 = s_random,
        .seam_ctx = &s_w,
    };
    cr_assert_eq(cmek_client_new(&opt, &s_client, &s_err), CMEK_OK, "%s", s_err.message);
}

static void s_push(long status, const char *head, const char *body)
{
    cr_assert_eq(cmek_transport_mock_push(s_mock, status, head, body, CMEK_TRANSPORT_OK), CMEK_OK);
}

static void s_push_failure(enum cmek_transport_failure f)
{
    cr_assert_eq(cmek_transport_mock_push(s_mock, 0, NULL, NULL, f), CMEK_OK);
}

static int s_call(const char *op, const char *input_json)
{
    json_t *in = NULL;
    if (input_json != NULL) {
        in = json_loads(input_json, 0, NULL);
        cr_assert_not_null(in);
    }
    json_decref(s_out);
    s_out = NULL;
    int rc = cmek_client_call_named(s_client, op, in, &s_out, &s_err);
    json_decref(in);
    return rc;
}

static const struct cmek_mock_request *s_req(size_t i)
{
    const struct cmek_mock_request *r = cmek_transport_mock_request(s_mock, i);
    cr_assert_not_null(r, "no request %zu", i);
    return r;
}

/* Verifies a captured request's signature as an AWS service would, for secret; returns
 * the scope "date/region/service" it was signed for through scope. */
static bool s_signature_ok(const struct cmek_mock_request *r, const char *secret, char *scope,
                           size_t scope_len)
{
    const char *url = r->url;
    const char *path = strchr(strstr(url, "://") + 3, '/');
    cr_assert_not_null(path);
    const char *q = strchr(path, '?');
    struct cmek_view vpath = {path, q != NULL ? (size_t)(q - path) : strlen(path)};
    struct cmek_view vquery = q != NULL ? cmek_view_from_cstr(q + 1) : cmek_view_from_cstr("");
    struct cmek_http_header hh[32];
    cr_assert_leq(r->n_headers, 32);
    for (size_t i = 0; i < r->n_headers; i++) {
        hh[i] = (struct cmek_http_header){cmek_view_from_cstr(r->headers[i].name),
                                          cmek_view_from_cstr(r->headers[i].value)};
    }
    struct cmek_sigv4_request req = {cmek_view_from_cstr(r->method),
                                     vpath,
                                     vquery,
                                     hh,
                                     r->n_headers,
                                     (struct cmek_view){cmek_buf_cstr(&r->body), r->body.len}};
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    bool match = false;
    cr_assert_eq(cmek_sigv4_parse(&req, &auth, &why), CMEK_OK, "%s", why ? why : "");
    cr_assert_eq(auth.mode, CMEK_SIGV4_MODE_HEADER);
    cr_assert_eq(cmek_sigv4_verify(&req, &auth, secret, true, &match, NULL), CMEK_OK);
    if (scope != NULL) {
        snprintf(scope, scope_len, "%.*s/%.*s/%.*s", (int)auth.scope_date.len, auth.scope_date.ptr,
                 (int)auth.region.len, auth.region.ptr, (int)auth.service.len, auth.service.ptr);
    }
    cmek_sigv4_auth_clean_up(&auth);
    return match;
}

/* ---- Where requests go and how they are authenticated ---- */

Test(client_call, live_kms_call_goes_to_the_real_endpoint_signed)
{
    s_set_env("AWS_ACCESS_KEY_ID", S_AKID);
    s_set_env("AWS_SECRET_ACCESS_KEY", S_SECRET);
    s_open("live", NULL);
    s_push(200, "x-amzn-RequestId: r1\r\n", "{\"KeyMetadata\":{\"KeyId\":\"k\"}}");
    cr_assert_eq(s_call("kms.describe_key", "{\"KeyId\":\"alias/cmek\"}"), CMEK_OK, "%s",
                 s_err.message);
    cr_assert_str_eq(
        json_string_value(json_object_get(json_object_get(s_out, "KeyMetadata"), "KeyId")), "k");
    cr_assert_eq(s_err.attempts, 1);
    const struct cmek_mock_request *r = s_req(0);
    cr_assert_str_eq(r->method, "POST");
    cr_assert_str_eq(r->url, "https://kms.us-east-1.amazonaws.com/");
    cr_assert_str_eq(cmek_mock_request_header(r, "Host"), "kms.us-east-1.amazonaws.com");
    cr_assert_str_eq(cmek_mock_request_header(r, "X-Amz-Target"), "TrentService.DescribeKey");
    cr_assert_str_eq(cmek_mock_request_header(r, "Content-Type"), "application/x-amz-json-1.1");
    cr_assert_str_eq(cmek_mock_request_header(r, "X-Amz-Date"), "20260301T120000Z");
    cr_assert_null(cmek_mock_request_header(r, "X-Amz-Security-Token"));
    cr_assert_str_eq(cmek_buf_cstr(&r->body), "{\"KeyId\":\"alias/cmek\"}");
    char scope[128];
    cr_assert(s_signature_ok(r, S_SECRET, scope, sizeof(scope)));
    cr_assert_str_eq(scope, "20260301/us-east-1/kms");
    cr_assert_not(s_signature_ok(r, "wrong-secret", NULL, 0));
    const char *auth = cmek_mock_request_header(r, "Authorization");
    cr_assert(strstr(auth, "SignedHeaders=content-type;host;x-amz-date;x-amz-target,") != NULL,
              "%s", auth);
}

Test(client_call, session_token_is_sent_and_signed)
{
    s_set_env("AWS_ACCESS_KEY_ID", "ASIAEXAMPLESESSION01");
    s_set_env("AWS_SECRET_ACCESS_KEY", "sessionsecret");
    s_set_env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEBYaDH+token/with=chars");
    s_open("live", NULL);
    s_push(200, NULL, "{}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_OK, "%s", s_err.message);
    const struct cmek_mock_request *r = s_req(0);
    cr_assert_str_eq(cmek_buf_cstr(&r->body), "{}");
    cr_assert_str_eq(cmek_mock_request_header(r, "X-Amz-Security-Token"),
                     "FwoGZXIvYXdzEBYaDH+token/with=chars");
    cr_assert(strstr(cmek_mock_request_header(r, "Authorization"), "x-amz-security-token") != NULL);
    cr_assert(s_signature_ok(r, "sessionsecret", NULL, 0));
}

Test(client_call, iam_is_signed_for_us_east_1_and_sts_for_the_region)
{
    s_set_env("AWS_ACCESS_KEY_ID", S_AKID);
    s_set_env("AWS_SECRET_ACCESS_KEY", S_SECRET);
    s_set_env("AWS_REGION", "eu-west-1");
    s_open("live", NULL);
    s_push(200, NULL, "<GetUserResponse><GetUserResult></GetUserResult></GetUserResponse>");
    s_push(200, NULL,
           "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>1</Account>"
           "</GetCallerIdentityResult></GetCallerIdentityResponse>");
    (void)s_call("iam.get_user", NULL);
    (void)s_call("sts.get_caller_identity", NULL);
    char scope[128];
    const struct cmek_mock_request *iam = s_req(0);
    cr_assert_str_eq(iam->url, "https://iam.amazonaws.com/");
    cr_assert(s_signature_ok(iam, S_SECRET, scope, sizeof(scope)));
    cr_assert_str_eq(scope, "20260301/us-east-1/iam");
    const struct cmek_mock_request *sts = s_req(1);
    cr_assert_str_eq(sts->url, "https://sts.eu-west-1.amazonaws.com/");
    cr_assert(s_signature_ok(sts, S_SECRET, scope, sizeof(scope)));
    cr_assert_str_eq(scope, "20260301/eu-west-1/sts");
}

Test(client_call, emulator_port_is_part_of_the_signed_host)
{
    s_open("emulator", NULL);
    s_push(200, NULL, "{}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_OK, "%s", s_err.message);
    const struct cmek_mock_request *r = s_req(0);
    cr_assert_str_eq(r->url, "http://127.0.0.1:4566/");
    cr_assert_str_eq(cmek_mock_request_header(r, "Host"), "127.0.0.1:4566");
    cr_assert(s_signature_ok(r, S_SECRET, NULL, 0));
}

Test(client_call, aws_as_replaces_the_target_identity)
{
    struct cmek_aws_credentials crdb = {(char *)"AKIAI44QH8DHBEXAMPLE",
                                        (char *)"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", NULL};
    s_open("emulator", &crdb);
    s_push(200, NULL, "{}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_OK, "%s", s_err.message);
    const struct cmek_mock_request *r = s_req(0);
    cr_assert(strstr(cmek_mock_request_header(r, "Authorization"),
                     "Credential=AKIAI44QH8DHBEXAMPLE/") != NULL);
    cr_assert(s_signature_ok(r, "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", NULL, 0));
}

Test(client_call, missing_aws_credentials_are_refused_before_sending)
{
    s_open("live", NULL);
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(s_err.failure, CMEK_FAILURE_CLIENT);
    cr_assert_str_eq(s_err.message,
                     "no AWS credentials for kms.list_keys on target 'live': set "
                     "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for "
                     "temporary credentials), or AWS_PROFILE naming a profile in "
                     "~/.aws/credentials, or aws.access_key_id and aws.secret_access_key in "
                     "the target file");
    cr_assert_eq(s_err.attempts, 0);
    cr_assert_eq(cmek_transport_mock_count(s_mock), 0);
    cr_assert_null(s_out);
}

Test(client_call, ccloud_call_carries_bearer_key_and_version)
{
    s_open("emulator", NULL);
    s_push(200, NULL, "{\"id\":\"org\"}");
    cr_assert_eq(s_call("ccloud.get_organization", NULL), CMEK_OK, "%s", s_err.message);
    const struct cmek_mock_request *r = s_req(0);
    cr_assert_str_eq(r->method, "GET");
    cr_assert_str_eq(r->url, "http://127.0.0.1:4566/api/v1/organization");
    cr_assert_str_eq(cmek_mock_request_header(r, "Authorization"),
                     "Bearer CCDB1_Zp3Wm9KxQ2_Tq8VnR4sL7yB2dF6hJ0kM3pX9cW5eA1gU");
    cr_assert_str_eq(cmek_mock_request_header(r, "Cc-Version"), "2024-09-16");
    cr_assert_str_eq(cmek_mock_request_header(r, "Accept"), "application/json");
    cr_assert_null(cmek_mock_request_header(r, "X-Amz-Date"));
    cr_assert_null(cmek_mock_request_header(r, "X-Vault-Token"));
}

Test(client_call, missing_ccloud_key_is_refused_before_sending)
{
    s_open("live", NULL);
    cr_assert_eq(s_call("ccloud.list_clusters", NULL), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(s_err.failure, CMEK_FAILURE_CLIENT);
    cr_assert_str_eq(s_err.message,
                     "no CockroachDB Cloud API key for ccloud.list_clusters on target 'live': "
                     "set COCKROACH_API_KEY, or ccloud.api_key in the target file");
    cr_assert_eq(cmek_transport_mock_count(s_mock), 0);
}

Test(client_call, vault_call_carries_token_request_flag_and_namespace)
{
    s_open("emulator", NULL);
    s_push(200, NULL, "{\"data\":{}}");
    cr_assert_eq(s_call("vault.read_key", "{\"name\":\"k1\"}"), CMEK_OK, "%s", s_err.message);
    const struct cmek_mock_request *r = s_req(0);
    cr_assert_str_eq(r->method, "GET");
    cr_assert_str_eq(r->url, "http://127.0.0.1:4566/v1/keymgmt/key/k1");
    cr_assert_str_eq(cmek_mock_request_header(r, "X-Vault-Token"),
                     "hvs.CAESIJlWh7V3cmek-harness-root-token");
    cr_assert_str_eq(cmek_mock_request_header(r, "X-Vault-Request"), "true");
    cr_assert_str_eq(cmek_mock_request_header(r, "X-Vault-Namespace"), "admin");
    cr_assert_null(cmek_mock_request_header(r, "Authorization"));
}

Test(client_call, vault_without_namespace_sends_no_namespace_header)
{
    s_set_env("VAULT_TOKEN", "hvs.live");
    s_set_env("VAULT_ADDR", "https://vault.example:8200");
    s_open("live", NULL);
    s_push(204, NULL, NULL);
    cr_assert_eq(s_call("vault.delete_key", "{\"name\":\"k1\"}"), CMEK_OK, "%s", s_err.message);
    const struct cmek_mock_request *r = s_req(0);
    cr_assert_str_eq(r->url, "https://vault.example:8200/v1/keymgmt/key/k1");
    cr_assert_str_eq(cmek_mock_request_header(r, "X-Vault-Token"), "hvs.live");
    cr_assert_null(cmek_mock_request_header(r, "X-Vault-Namespace"));
}

Test(client_call, emulator_endpoint_is_unauthenticated)
{
    s_open("emulator", NULL);
    s_push(200, NULL, "{\"status\":\"ok\"}");
    cr_assert_eq(s_call("emulator.health", NULL), CMEK_OK, "%s", s_err.message);
    const struct cmek_mock_request *r = s_req(0);
    cr_assert_str_eq(r->url, "http://127.0.0.1:4566/_emulator/health");
    cr_assert_null(cmek_mock_request_header(r, "Authorization"));
    cr_assert_null(cmek_mock_request_header(r, "X-Vault-Token"));
}

Test(client_call, emulator_only_operation_is_refused_on_a_live_target)
{
    s_open("live", NULL);
    cr_assert_eq(s_call("emulator.reset", NULL), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(s_err.failure, CMEK_FAILURE_CLIENT);
    cr_assert_str_eq(s_err.message,
                     "emulator.reset exists only on cmek-emulator; target 'live' is not an "
                     "emulator");
    cr_assert_eq(cmek_transport_mock_count(s_mock), 0);
}

Test(client_call, unknown_operation_is_refused)
{
    s_open("emulator", NULL);
    cr_assert_eq(s_call("kms.no_such_thing", NULL), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(s_err.failure, CMEK_FAILURE_CLIENT);
    cr_assert_str_eq(s_err.message, "unknown operation 'kms.no_such_thing'");
}

Test(client_call, client_new_requires_a_target)
{
    struct cmek_client_options opt = {.transport = s_mock};
    struct cmek_client *c = NULL;
    cr_assert_eq(cmek_client_new(&opt, &c, &s_err), CMEK_ERR_INVALID_ARG);
    cr_assert_null(c);
    cr_assert_eq(s_err.failure, CMEK_FAILURE_CLIENT);
    cr_assert_str_eq(s_err.message, "cmek_client_new: a target is required");
}

Test(client_call, client_keeps_its_own_copy_of_the_target)
{
    s_open("emulator", NULL);
    cmek_target_clean_up(&s_target); /* the caller's copy goes away */
    s_push(200, NULL, "{}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_OK, "%s", s_err.message);
    cr_assert_str_eq(s_req(0)->url, "http://127.0.0.1:4566/");
}

Test(client_call, service_error_is_preserved_exactly)
{
    s_open("emulator", NULL);
    s_push(400, "x-amzn-RequestId: 6f1f0a6e-0000-4000-8000-000000000001\r\n",
           "{\"__type\":\"NotFoundException\",\"message\":\"Alias "
           "arn:aws:kms:us-east-1:111122223333:alias/nope is not found.\"}");
    cr_assert_eq(s_call("kms.describe_key", "{\"KeyId\":\"alias/nope\"}"), CMEK_ERR_SERVICE);
    cr_assert_eq(s_err.failure, CMEK_FAILURE_SERVICE);
    cr_assert_eq(s_err.http_status, 400);
    cr_assert_str_eq(s_err.code, "NotFoundException");
    cr_assert_str_eq(s_err.message,
                     "Alias arn:aws:kms:us-east-1:111122223333:alias/nope is not found.");
    cr_assert_str_eq(s_err.request_id, "6f1f0a6e-0000-4000-8000-000000000001");
    cr_assert_eq(s_err.attempts, 1);
    cr_assert_null(s_out);
}

/* ---- Retries ---- */

Test(client_retry, throttling_is_retried_then_succeeds)
{
    s_open("emulator", NULL);
    s_push(400, NULL, S_THROTTLE);
    s_push(200, NULL, "{\"Keys\":[]}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_OK, "%s", s_err.message);
    cr_assert_eq(s_err.attempts, 2);
    cr_assert(json_is_array(json_object_get(s_out, "Keys")));
    cr_assert_eq(cmek_transport_mock_count(s_mock), 2);
    /* One wait, drawn from 0..100 ms (the first retry's window) through the random seam. */
    cr_assert_eq(s_w.n_sleeps, 1);
    cr_assert_eq(s_w.sleeps[0], 1000003u % 101u);
    cr_assert_leq(s_w.sleeps[0], 100);
    /* Each attempt is signed afresh. */
    cr_assert_str_neq(cmek_mock_request_header(s_req(0), "X-Amz-Date"),
                      cmek_mock_request_header(s_req(1), "X-Amz-Date"));
    cr_assert(s_signature_ok(s_req(1), S_SECRET, NULL, 0));
}

Test(client_retry, throttling_is_retried_for_a_non_idempotent_operation)
{
    s_open("emulator", NULL);
    s_push(429, NULL, "{\"__type\":\"TooManyRequestsException\",\"message\":\"slow down\"}");
    s_push(200, NULL, "{\"KeyMetadata\":{}}");
    cr_assert_eq(s_call("kms.create_key", NULL), CMEK_OK, "%s", s_err.message);
    cr_assert_eq(s_err.attempts, 2);
}

Test(client_retry, server_error_is_retried_for_an_idempotent_operation)
{
    s_open("emulator", NULL);
    s_push(503, NULL, "{\"__type\":\"KMSInternalException\",\"message\":\"try again\"}");
    s_push(200, NULL, "{\"KeyMetadata\":{}}");
    cr_assert_eq(s_call("kms.describe_key", "{\"KeyId\":\"k\"}"), CMEK_OK, "%s", s_err.message);
    cr_assert_eq(s_err.attempts, 2);
    cr_assert_eq(s_w.n_sleeps, 1);
}

Test(client_retry, server_error_is_not_retried_for_a_non_idempotent_operation)
{
    s_open("emulator", NULL);
    s_push(503, NULL, "{\"__type\":\"KMSInternalException\",\"message\":\"try again\"}");
    s_push(200, NULL, "{\"KeyMetadata\":{}}");
    cr_assert_eq(s_call("kms.create_key", NULL), CMEK_ERR_SERVICE);
    cr_assert_eq(s_err.attempts, 1);
    cr_assert_eq(s_err.http_status, 503);
    cr_assert_str_eq(s_err.code, "KMSInternalException");
    cr_assert_str_eq(s_err.message, "try again");
    cr_assert_eq(cmek_transport_mock_count(s_mock), 1);
    cr_assert_eq(s_w.n_sleeps, 0);
}

Test(client_retry, connect_failure_is_retried_for_a_non_idempotent_operation)
{
    s_open("emulator", NULL);
    s_push_failure(CMEK_TRANSPORT_CONNECT);
    s_push(200, NULL, "{\"KeyMetadata\":{}}");
    cr_assert_eq(s_call("kms.create_key", NULL), CMEK_OK, "%s", s_err.message);
    cr_assert_eq(s_err.attempts, 2);
}

Test(client_retry, broken_connection_is_not_retried_for_a_non_idempotent_operation)
{
    s_open("emulator", NULL);
    s_push_failure(CMEK_TRANSPORT_BROKEN);
    s_push(200, NULL, "{\"KeyMetadata\":{}}");
    cr_assert_eq(s_call("kms.create_key", NULL), CMEK_ERR_TRANSPORT);
    cr_assert_eq(s_err.failure, CMEK_FAILURE_TRANSPORT);
    cr_assert_eq(s_err.attempts, 1);
    cr_assert_eq(s_err.http_status, 0);
    cr_assert_str_eq(s_err.message,
                     "POST http://127.0.0.1:4566/: connection broken: mock: queued transport "
                     "failure");
    cr_assert_null(s_out);
}

Test(client_retry, broken_connection_and_timeout_are_retried_for_an_idempotent_operation)
{
    s_open("emulator", NULL);
    s_push_failure(CMEK_TRANSPORT_BROKEN);
    s_push_failure(CMEK_TRANSPORT_TIMEOUT);
    s_push(200, NULL, "{}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_OK, "%s", s_err.message);
    cr_assert_eq(s_err.attempts, 3);
    cr_assert_eq(s_w.n_sleeps, 2);
    cr_assert_eq(s_w.sleeps[1], 1000003u % 201u, "second retry: window 0..200 ms");
}

Test(client_retry, tls_failure_is_never_retried)
{
    s_open("emulator", NULL);
    s_push_failure(CMEK_TRANSPORT_TLS);
    s_push(200, NULL, "{}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_ERR_TRANSPORT);
    cr_assert_eq(s_err.attempts, 1);
    cr_assert_str_eq(s_err.message,
                     "POST http://127.0.0.1:4566/: TLS failure: mock: queued transport failure");
}

Test(client_retry, max_attempts_is_respected_and_the_last_error_kept)
{
    s_open("emulator", NULL);
    for (int i = 0; i < 5; i++) {
        s_push(400, "x-amzn-RequestId: rid-throttled\r\n", S_THROTTLE);
    }
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_ERR_SERVICE);
    cr_assert_eq(s_err.attempts, 3);
    cr_assert_eq(cmek_transport_mock_count(s_mock), 3);
    cr_assert_eq(s_w.n_sleeps, 2);
    cr_assert_eq(s_err.failure, CMEK_FAILURE_SERVICE);
    cr_assert_eq(s_err.http_status, 400);
    cr_assert_str_eq(s_err.code, "ThrottlingException");
    cr_assert_str_eq(s_err.message, "Rate exceeded");
    cr_assert_str_eq(s_err.request_id, "rid-throttled");
}

Test(client_retry, backoff_window_doubles_up_to_twenty_seconds)
{
    s_open("emulator", NULL);
    /* A client allowed 12 attempts over the same target. */
    cmek_client_destroy(s_client);
    s_client = NULL;
    s_target.max_attempts = 12;
    struct cmek_client_options opt = {.target = &s_target,
                                      .transport = s_mock,
                                      .now = s_now,
                                      .sleep_ms = s_sleep,
                                      .random_u32 = s_random,
                                      .seam_ctx = &s_w};
    cr_assert_eq(cmek_client_new(&opt, &s_client, &s_err), CMEK_OK);
    s_w.random_value = UINT32_MAX;
    for (int i = 0; i < 12; i++) {
        s_push(503, NULL, "{\"__type\":\"ServiceUnavailableException\",\"message\":\"x\"}");
    }
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_ERR_SERVICE);
    cr_assert_eq(s_err.attempts, 12);
    cr_assert_eq(s_w.n_sleeps, 11);
    for (size_t i = 0; i < s_w.n_sleeps; i++) {
        unsigned cap = 100u << i;
        cap = cap < 20000u ? cap : 20000u;
        cr_assert_eq(s_w.sleeps[i], UINT32_MAX % (cap + 1u), "retry %zu", i);
        cr_assert_leq(s_w.sleeps[i], 20000u);
    }
}

Test(client_retry, limit_exceeded_is_a_quota_and_not_retried)
{
    s_open("emulator", NULL);
    s_push(400, NULL, "{\"__type\":\"LimitExceededException\",\"message\":\"quota\"}");
    s_push(200, NULL, "{}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_ERR_SERVICE);
    cr_assert_eq(s_err.attempts, 1);
    cr_assert_str_eq(s_err.code, "LimitExceededException");
}

Test(client_retry, client_error_status_is_not_retried)
{
    s_open("emulator", NULL);
    s_push(400, NULL, "{\"__type\":\"ValidationException\",\"message\":\"bad\"}");
    s_push(200, NULL, "{}");
    cr_assert_eq(s_call("kms.list_keys", NULL), CMEK_ERR_SERVICE);
    cr_assert_eq(s_err.attempts, 1);
    cr_assert_eq(s_w.n_sleeps, 0);
}

Test(client_retry, ccloud_429_is_retried)
{
    s_open("emulator", NULL);
    s_push(429, NULL, "{\"code\":8,\"message\":\"rate limited\"}");
    s_push(200, NULL, "{\"id\":\"org\"}");
    cr_assert_eq(s_call("ccloud.get_organization", NULL), CMEK_OK, "%s", s_err.message);
    cr_assert_eq(s_err.attempts, 2);
    cr_assert_str_eq(cmek_mock_request_header(s_req(1), "Cc-Version"), "2024-09-16");
}
