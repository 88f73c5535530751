/* Tests of SigV4 request authentication as each protocol reports it (aws.md 3.2, 3.3):
 * the Query services' 403 codes and KMS's JSON 400 exceptions, with AWS's exact texts. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "harness.h"
#include "test_common.h"

#define FORM     "application/x-www-form-urlencoded; charset=utf-8"
#define KMS_JSON "application/x-amz-json-1.1"
#define GCI      "Action=GetCallerIdentity&Version=2011-06-15"

TH_ADMIN_FIXTURE()

TestSuite(auth_query, .init = s_init, .fini = s_fini);
TestSuite(auth_kms, .init = s_init, .fini = s_fini);

static void s_assert_query_error(int status, const char *code, const char *message)
{
    th_expect_query_error(&s_t, status, code, message);
}

static void s_assert_kms_error(const char *type, const char *message)
{
    th_expect_kms_error(&s_t, type, message);
}

static int s_kms(const struct th_creds *c, long offset_s)
{
    return th_signed(&s_t, "kms", "us-east-1", c, KMS_JSON, "TrentService.ListKeys", "{}",
                     offset_s);
}

/* Signs body_signed, sends body_sent (for tampering cases). */
static int s_tampered(const char *body_signed, const char *body_sent, const char *extra_name,
                      const char *extra_value)
{
    struct cmek_http_header h[8];
    size_t n = 0;
    h[n++] =
        (struct cmek_http_header){cmek_view_from_cstr("Content-Type"), cmek_view_from_cstr(FORM)};
    h[n++] = (struct cmek_http_header){cmek_view_from_cstr("Host"),
                                       cmek_view_from_cstr("127.0.0.1:4566")};
    struct cmek_sigv4_request req = {
        cmek_view_from_cstr("POST"),     cmek_view_from_cstr("/"), cmek_view_from_cstr(""), h, n,
        cmek_view_from_cstr(body_signed)};
    struct cmek_sigv4_credentials creds = {s_admin.akid, s_admin.secret, NULL};
    struct cmek_sigv4_sign_options opt = {.credentials = &creds,
                                          .region = "us-east-1",
                                          .service = "sts",
                                          .when = s_t.wall,
                                          .normalize_path = true};
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_headers(&req, &opt, &out), 0);
    h[n++] = (struct cmek_http_header){cmek_view_from_cstr("X-Amz-Date"),
                                       cmek_view_from_cstr(out.amz_date)};
    h[n++] = (struct cmek_http_header){cmek_view_from_cstr("Authorization"),
                                       cmek_view_from_cstr(cmek_buf_cstr(&out.authorization))};
    if (extra_name != NULL) {
        h[n++] = (struct cmek_http_header){cmek_view_from_cstr(extra_name),
                                           cmek_view_from_cstr(extra_value)};
    }
    int status = th_exchange(&s_t, "POST", "/", h, n, body_sent);
    cmek_sigv4_signed_clean_up(&out);
    return status;
}

static const char s_bad_signature[] =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

Test(auth_query, accepts_a_correctly_signed_request)
{
    cr_assert_eq(th_query(&s_t, "sts", &s_admin, GCI), 200, "%s", cmek_buf_cstr(&s_t.body));
}

Test(auth_query, unsigned_request_is_missing_authentication_token)
{
    th_raw(&s_t, "POST", "/", FORM, GCI);
    s_assert_query_error(403, "MissingAuthenticationToken",
                         "Request is missing Authentication Token");
}

Test(auth_query, malformed_authorization_is_incomplete_signature)
{
    struct cmek_http_header h[] = {
        {cmek_view_from_cstr("Content-Type"), cmek_view_from_cstr(FORM)},
        {cmek_view_from_cstr("Host"), cmek_view_from_cstr("127.0.0.1:4566")},
        {cmek_view_from_cstr("X-Amz-Date"), cmek_view_from_cstr("20261123T120000Z")},
        {cmek_view_from_cstr("Authorization"),
         cmek_view_from_cstr("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261123/us-east-1/"
                             "sts/aws4_request")},
    };
    th_exchange(&s_t, "POST", "/", h, 4, GCI);
    char code[64];
    cr_assert_eq(s_t.status, 400, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_str_eq(th_error_code(&s_t, code, sizeof(code)), "IncompleteSignature");
}

Test(auth_query, wrong_secret_is_signature_does_not_match)
{
    struct th_creds bad = s_admin;
    memcpy(bad.secret, "X", 1);
    th_query(&s_t, "sts", &bad, GCI);
    s_assert_query_error(403, "SignatureDoesNotMatch", s_bad_signature);
}

Test(auth_query, body_changed_after_signing_is_signature_does_not_match)
{
    s_tampered(GCI, "Action=GetCallerIdentity&Version=2011-06-15&X=1", NULL, NULL);
    s_assert_query_error(403, "SignatureDoesNotMatch", s_bad_signature);
}

Test(auth_query, unknown_access_key_is_invalid_client_token_id)
{
    struct th_creds ghost = s_admin;
    memcpy(ghost.akid, "AKIAGHOSTGHOSTGHOST0", 21);
    th_query(&s_t, "sts", &ghost, GCI);
    s_assert_query_error(403, "InvalidClientTokenId",
                         "The security token included in the request is invalid.");
}

Test(auth_query, long_term_key_with_a_session_token_is_invalid_client_token_id)
{
    struct th_creds c = s_admin;
    strcpy(c.token, "FwoGZXIvYXdzEnotarealtoken");
    th_query(&s_t, "sts", &c, GCI);
    s_assert_query_error(403, "InvalidClientTokenId",
                         "The security token included in the request is invalid.");
}

Test(auth_query, request_older_than_15_minutes_is_signature_expired)
{
    th_query_skewed(&s_t, "sts", &s_admin, GCI, -16 * 60);
    s_assert_query_error(403, "SignatureDoesNotMatch",
                         "Signature expired: 20261123T114400Z is now earlier than 20261123T114500Z "
                         "(20261123T120000Z - 15 min.)");
}

Test(auth_query, request_more_than_15_minutes_ahead_is_not_yet_current)
{
    th_query_skewed(&s_t, "iam", &s_admin, "Action=ListRoles&Version=2010-05-08", 16 * 60);
    s_assert_query_error(403, "SignatureDoesNotMatch",
                         "Signature not yet current: 20261123T121600Z is still later than "
                         "20261123T121500Z (20261123T120000Z + 15 min.)");
}

Test(auth_query, request_14_minutes_old_is_accepted)
{
    cr_assert_eq(th_query_skewed(&s_t, "sts", &s_admin, GCI, -14 * 60), 200);
}

Test(auth_query, emulator_clock_does_not_age_signatures)
{
    th_advance(&s_t, "30d");
    cr_assert_eq(th_query(&s_t, "sts", &s_admin, GCI), 200, "%s", cmek_buf_cstr(&s_t.body));
}

Test(auth_query, any_region_in_the_scope_is_accepted)
{
    cr_assert_eq(th_query_region(&s_t, "sts", "ap-south-1", &s_admin, GCI), 200);
    cr_assert_eq(
        th_query_region(&s_t, "iam", "eu-west-1", &s_admin, "Action=ListRoles&Version=2010-05-08"),
        200);
}

Test(auth_query, session_with_missing_or_wrong_token_is_invalid_client_token_id)
{
    struct th_creds crdb, admin_session;
    th_creds_crdb(&crdb);
    cr_assert_eq(
        th_query(&s_t, "iam", &s_admin,
                 "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument="
                 "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect"
                 "%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam"
                 "%3A%3A111122223333%3Auser%2Fadmin%22%7D%2C%22Action%22%3A%22sts%3AAssume"
                 "Role%22%7D%5D%7D"),
        200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(th_assume_role(&s_t, &s_admin, "arn:aws:iam::111122223333:role/r", "s1", NULL,
                                &admin_session),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(th_query(&s_t, "sts", &admin_session, GCI), 200);
    struct th_creds no_token = admin_session;
    no_token.token[0] = '\0';
    th_query(&s_t, "sts", &no_token, GCI);
    s_assert_query_error(403, "InvalidClientTokenId",
                         "The security token included in the request is invalid.");
    struct th_creds wrong_token = admin_session;
    wrong_token.token[5] = wrong_token.token[5] == 'A' ? 'B' : 'A';
    th_query(&s_t, "sts", &wrong_token, GCI);
    s_assert_query_error(403, "InvalidClientTokenId",
                         "The security token included in the request is invalid.");
    th_advance(&s_t, "3601s");
    th_query(&s_t, "sts", &admin_session, GCI);
    s_assert_query_error(403, "ExpiredToken",
                         "The security token included in the request is expired");
    s_kms(&admin_session, 0);
    s_assert_kms_error("ExpiredTokenException",
                       "The security token included in the request is expired");
}

Test(auth_kms, unsigned_request_is_missing_authentication_token_exception)
{
    struct cmek_http_header h[] = {
        {cmek_view_from_cstr("Content-Type"), cmek_view_from_cstr(KMS_JSON)},
        {cmek_view_from_cstr("X-Amz-Target"), cmek_view_from_cstr("TrentService.ListKeys")},
    };
    th_exchange(&s_t, "POST", "/", h, 2, "{}");
    s_assert_kms_error("MissingAuthenticationTokenException", "Missing Authentication Token");
    cr_assert_str_eq(s_t.body.data[0] == '{' ? "json" : "other", "json");
}

Test(auth_kms, unknown_access_key_is_unrecognized_client_exception)
{
    struct th_creds ghost = s_admin;
    memcpy(ghost.akid, "AKIAGHOSTGHOSTGHOST0", 21);
    s_kms(&ghost, 0);
    s_assert_kms_error("UnrecognizedClientException",
                       "The security token included in the request is invalid.");
}

Test(auth_kms, wrong_secret_is_invalid_signature_exception)
{
    struct th_creds bad = s_admin;
    memcpy(bad.secret, "X", 1);
    s_kms(&bad, 0);
    s_assert_kms_error("InvalidSignatureException", s_bad_signature);
}

Test(auth_kms, request_older_than_5_minutes_is_signature_expired)
{
    s_kms(&s_admin, -6 * 60);
    s_assert_kms_error("InvalidSignatureException",
                       "Signature expired: 20261123T115400Z is now earlier than 20261123T115500Z "
                       "(20261123T120000Z - 5 min.)");
}

Test(auth_kms, request_4_minutes_old_passes_authentication)
{
    s_kms(&s_admin, -4 * 60);
    /* Authentication passed, and ListKeys answered. */
    json_error_t e;
    json_t *v = json_loads(cmek_buf_cstr(&s_t.body), 0, &e);
    cr_assert_not_null(v);
    cr_assert_eq(s_t.status, 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_null(json_object_get(v, "__type"));
    json_decref(v);
}

Test(auth_kms, credential_scoped_to_another_service_is_rejected)
{
    th_signed(&s_t, "sts", "us-east-1", &s_admin, KMS_JSON, "TrentService.ListKeys", "{}", 0);
    s_assert_kms_error("InvalidSignatureException",
                       "Credential should be scoped to correct service: 'kms'. ");
}

Test(auth_query, credential_date_other_than_the_request_date_is_rejected)
{
    struct cmek_http_header h[] = {
        {cmek_view_from_cstr("Content-Type"), cmek_view_from_cstr(FORM)},
        {cmek_view_from_cstr("Host"), cmek_view_from_cstr("127.0.0.1:4566")},
        {cmek_view_from_cstr("X-Amz-Date"), cmek_view_from_cstr("20261123T120000Z")},
        {cmek_view_from_cstr("Authorization"),
         cmek_view_from_cstr("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/"
                             "sts/aws4_request, SignedHeaders=host;x-amz-date, Signature="
                             "0000000000000000000000000000000000000000000000000000000000000000")},
    };
    th_exchange(&s_t, "POST", "/", h, 4, GCI);
    s_assert_query_error(403, "SignatureDoesNotMatch",
                         "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                         "of date from HTTP: '20261122' != '20261123', from '20261123T120000Z'.");
}
