/* Unit tests of libcmek's operation table and protocol codecs: each codec's build and parse
 * called directly through cmek_codec_for, with hand-made targets and responses, so every
 * byte of a request and every field of a parsed error can be asserted exactly. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client/client_internal.h"
#include "../client/xml.h"
#include "cmek/ccloud.h"
#include "cmek/emulator.h"
#include "cmek/iam.h"
#include "cmek/kms.h"
#include "cmek/sts.h"
#include "cmek/vault.h"
#include "test_common.h"

TestSuite(client_ops, .fini = cmek_test_fini);
TestSuite(client_awsjson, .fini = cmek_test_fini);
TestSuite(client_query, .fini = cmek_test_fini);
TestSuite(client_xml, .fini = cmek_test_fini);
TestSuite(client_rest, .fini = cmek_test_fini);
TestSuite(client_sts_creds, .fini = cmek_test_fini);

/* ---- helpers ---- */

/* A target with every endpoint set; borrowed literals, never cleaned up. */
static struct cmek_target s_target(void)
{
    struct cmek_target t;
    memset(&t, 0, sizeof t);
    t.endpoint[CMEK_SERVICE_IAM] = (char *)"https://iam.amazonaws.com";
    t.endpoint[CMEK_SERVICE_STS] = (char *)"https://sts.eu-west-1.amazonaws.com";
    t.endpoint[CMEK_SERVICE_KMS] = (char *)"https://kms.eu-west-1.amazonaws.com";
    t.endpoint[CMEK_SERVICE_CCLOUD] = (char *)"https://cockroachlabs.cloud";
    t.endpoint[CMEK_SERVICE_VAULT] = (char *)"http://127.0.0.1:8200";
    t.endpoint[CMEK_SERVICE_EMULATOR] = (char *)"http://127.0.0.1:4566";
    return t;
}

static const struct cmek_operation *s_op(const char *qualified)
{
    const struct cmek_operation *op = cmek_operation_find(qualified);
    cr_assert_not_null(op, "%s", qualified);
    return op;
}

/* Builds qualified with input (JSON text) into wire; returns the codec's result. */
static int s_build(const char *qualified, const char *input_json, struct cmek_wire *wire,
                   struct cmek_api_error *err)
{
    const struct cmek_operation *op = s_op(qualified);
    struct cmek_target t = s_target();
    json_error_t jerr;
    json_t *input = json_loads(input_json, JSON_DECODE_ANY, &jerr);
    cr_assert_not_null(input, "%s: %s", input_json, jerr.text);
    cmek_wire_init(wire);
    cmek_api_error_clear(err);
    int rc = cmek_codec_for(op->service)->build(&t, op, input, wire, err);
    json_decref(input);
    return rc;
}

static const char *s_header(const struct cmek_wire *wire, const char *name)
{
    for (size_t i = 0; i < wire->n_headers; i++) {
        if (strcasecmp(wire->header_names[i], name) == 0) {
            return wire->header_values[i];
        }
    }
    return NULL;
}

/* Asserts a built request exactly: method, URL, body, and the only header's value (NULL:
 * no headers at all). */
static void s_expect_wire(const struct cmek_wire *wire, const char *method, const char *url,
                          const char *body, const char *content_type)
{
    cr_assert_str_eq(wire->method, method);
    cr_assert_str_eq(cmek_buf_cstr(&wire->url), url);
    cr_assert_eq(wire->body.len, strlen(body));
    cr_assert_str_eq(cmek_buf_cstr(&wire->body), body);
    if (content_type == NULL) {
        cr_assert_null(s_header(wire, "Content-Type"));
    } else {
        cr_assert_str_eq(s_header(wire, "Content-Type"), content_type);
    }
}

static void s_expect_invalid(const char *qualified, const char *input, const char *message)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build(qualified, input, &wire, &err), CMEK_ERR_INVALID_ARG, "%s %s", qualified,
                 input);
    cr_assert_eq(err.failure, CMEK_FAILURE_CLIENT);
    cr_assert_str_eq(err.message, message);
    cmek_wire_clean_up(&wire);
}

/* Parses an answer for qualified; head is "Name: value\r\n" lines or NULL. */
static int s_parse_n(const char *qualified, long status, const char *head, const char *body,
                     size_t body_len, json_t **out, struct cmek_api_error *err)
{
    const struct cmek_operation *op = s_op(qualified);
    struct cmek_http_response resp;
    cmek_http_response_init(&resp);
    resp.status = status;
    if (head != NULL) {
        cr_assert_eq(cmek_buf_append_str(&resp.head, head), CMEK_OK);
    }
    cr_assert_eq(cmek_buf_append(&resp.body, body, body_len), CMEK_OK);
    cmek_api_error_clear(err);
    int rc = cmek_codec_for(op->service)->parse(op, &resp, out, err);
    cmek_http_response_clean_up(&resp);
    if (rc != CMEK_OK) {
        cr_assert_null(*out);
    }
    return rc;
}

static int s_parse(const char *qualified, long status, const char *head, const char *body,
                   json_t **out, struct cmek_api_error *err)
{
    return s_parse_n(qualified, status, head, body, strlen(body), out, err);
}

/* Asserts out equals the JSON text want (compared as values), and releases out. */
static void s_expect_json(json_t *out, const char *want)
{
    json_error_t jerr;
    json_t *w = json_loads(want, 0, &jerr);
    cr_assert_not_null(w, "%s", jerr.text);
    char *got = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    cr_assert(json_equal(out, w), "got %s\nwant %s", got, want);
    free(got);
    json_decref(w);
    json_decref(out);
}

static void s_expect_error(const struct cmek_api_error *err, long status, const char *code,
                           const char *message, const char *request_id)
{
    cr_assert_eq(err->failure, CMEK_FAILURE_SERVICE);
    cr_assert_eq(err->http_status, status);
    cr_assert_str_eq(err->code, code);
    cr_assert_str_eq(err->message, message);
    cr_assert_str_eq(err->request_id, request_id);
}

/* ---- the operation table ---- */

struct s_expected_op {
    enum cmek_service service;
    const char *qualified;
    const char *wire;
    const char *method;
    bool idempotent;
};

static const struct s_expected_op s_expected[] = {
#define S_IAM(name, wire, idem) {CMEK_SERVICE_IAM, "iam." #name, wire, "POST", idem},
#define S_STS(name, wire, idem) {CMEK_SERVICE_STS, "sts." #name, wire, "POST", idem},
#define S_KMS(name, wire, idem) {CMEK_SERVICE_KMS, "kms." #name, wire, "POST", idem},
#define S_CCLOUD(name, method, path, idem)                                                         \
    {CMEK_SERVICE_CCLOUD, "ccloud." #name, path, method, idem},
#define S_VAULT(name, method, path, idem) {CMEK_SERVICE_VAULT, "vault." #name, path, method, idem},
#define S_EMU(name, method, path, idem)                                                            \
    {CMEK_SERVICE_EMULATOR, "emulator." #name, path, method, idem},
    CMEK_IAM_OPERATIONS(S_IAM) CMEK_STS_OPERATIONS(S_STS) CMEK_KMS_OPERATIONS(S_KMS)
        CMEK_CCLOUD_OPERATIONS(S_CCLOUD) CMEK_VAULT_OPERATIONS(S_VAULT)
            CMEK_EMULATOR_OPERATIONS(S_EMU)};

Test(client_ops, count_is_every_operation_of_every_service)
{
    cr_assert_eq(sizeof s_expected / sizeof s_expected[0], 21 + 2 + 32 + 16 + 23 + 9);
    cr_assert_eq(cmek_operation_count(), 21 + 2 + 32 + 16 + 23 + 9);
    cr_assert_null(cmek_operation_at(cmek_operation_count()));
}

Test(client_ops, find_returns_every_operation_by_qualified_name)
{
    size_t per_service[CMEK_SERVICE_COUNT] = {0};
    for (size_t i = 0; i < sizeof s_expected / sizeof s_expected[0]; i++) {
        const struct s_expected_op *e = &s_expected[i];
        const struct cmek_operation *op = cmek_operation_find(e->qualified);
        cr_assert_not_null(op, "%s", e->qualified);
        char qualified[128];
        snprintf(qualified, sizeof qualified, "%s.%s", cmek_service_name(op->service), op->name);
        cr_assert_str_eq(qualified, e->qualified);
        cr_assert_eq(op->service, e->service, "%s", e->qualified);
        cr_assert_str_eq(op->wire, e->wire, "%s", e->qualified);
        cr_assert_str_eq(op->method, e->method, "%s", e->qualified);
        cr_assert_eq(op->idempotent, e->idempotent, "%s", e->qualified);
        cr_assert_eq(op->emulator_only, e->service == CMEK_SERVICE_EMULATOR, "%s", e->qualified);
        cr_assert_eq(cmek_operation_at(i), op, "%s", e->qualified);
        per_service[op->service]++;
    }
    cr_assert_eq(per_service[CMEK_SERVICE_IAM], 21);
    cr_assert_eq(per_service[CMEK_SERVICE_STS], 2);
    cr_assert_eq(per_service[CMEK_SERVICE_KMS], 32);
    cr_assert_eq(per_service[CMEK_SERVICE_CCLOUD], 16);
    cr_assert_eq(per_service[CMEK_SERVICE_VAULT], 23);
    cr_assert_eq(per_service[CMEK_SERVICE_EMULATOR], 9);
}

Test(client_ops, find_rejects_unknown_and_malformed_names)
{
    const char *bad[] = {
        "kms.nope",    "kms",         "",     "kmsencrypt",  ".encrypt", "kms.encrypt.x",
        "KMS.encrypt", "kms.Encrypt", "kms.", "iam.encrypt", "vault.",   "emulator.health "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_null(cmek_operation_find(bad[i]), "%s", bad[i]);
    }
    cr_assert_null(cmek_operation_find(NULL));
}

Test(client_ops, codec_for_each_service)
{
    for (int s = 0; s < CMEK_SERVICE_COUNT; s++) {
        const struct cmek_codec *c = cmek_codec_for((enum cmek_service)s);
        cr_assert_not_null(c);
        cr_assert_not_null(c->build);
        cr_assert_not_null(c->parse);
    }
    cr_assert_eq(cmek_codec_for(CMEK_SERVICE_IAM), cmek_codec_for(CMEK_SERVICE_STS));
    cr_assert_eq(cmek_codec_for(CMEK_SERVICE_CCLOUD), cmek_codec_for(CMEK_SERVICE_VAULT));
    cr_assert_neq(cmek_codec_for(CMEK_SERVICE_KMS), cmek_codec_for(CMEK_SERVICE_IAM));
    cr_assert_null(cmek_codec_for(CMEK_SERVICE_COUNT));
}

Test(client_ops, build_refuses_a_target_without_the_endpoint)
{
    const struct cmek_operation *op = s_op("kms.list_keys");
    struct cmek_target t = s_target();
    t.endpoint[CMEK_SERVICE_KMS] = NULL;
    struct cmek_wire wire;
    struct cmek_api_error err;
    json_t *input = json_object();
    cmek_wire_init(&wire);
    cmek_api_error_clear(&err);
    cr_assert_eq(cmek_codec_for(op->service)->build(&t, op, input, &wire, &err),
                 CMEK_ERR_INVALID_ARG);
    cr_assert_str_eq(err.message, "the target has no kms endpoint");
    cr_assert_eq(err.failure, CMEK_FAILURE_CLIENT);
    json_decref(input);
    cmek_wire_clean_up(&wire);
}

/* ---- KMS: AWS JSON 1.1 ---- */

Test(client_awsjson, encrypt_request_is_what_botocore_sends)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("kms.encrypt",
                         "{\"KeyId\":\"alias/crdb\",\"Plaintext\":\"aGk=\","
                         "\"EncryptionContext\":{\"cluster\":\"c 1\"}}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "POST", "https://kms.eu-west-1.amazonaws.com/",
                  "{\"KeyId\":\"alias/crdb\",\"Plaintext\":\"aGk=\","
                  "\"EncryptionContext\":{\"cluster\":\"c 1\"}}",
                  "application/x-amz-json-1.1");
    cr_assert_str_eq(s_header(&wire, "X-Amz-Target"), "TrentService.Encrypt");
    cr_assert_eq(wire.n_headers, 2);
    cmek_wire_clean_up(&wire);
}

Test(client_awsjson, empty_input_is_an_empty_object)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("kms.list_keys", "{}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "POST", "https://kms.eu-west-1.amazonaws.com/", "{}",
                  "application/x-amz-json-1.1");
    cr_assert_str_eq(s_header(&wire, "X-Amz-Target"), "TrentService.ListKeys");
    cmek_wire_clean_up(&wire);
}

Test(client_awsjson, input_that_is_not_an_object_is_refused)
{
    s_expect_invalid("kms.encrypt", "[1]", "kms.encrypt: the input must be a JSON object");
}

Test(client_awsjson, success_body_is_the_output)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("kms.encrypt", 200, "x-amzn-RequestId: r-1\r\n",
                         "{\"CiphertextBlob\":\"AQID\",\"KeyId\":\"arn:aws:kms:k\"}", &out, &err),
                 CMEK_OK);
    s_expect_json(out, "{\"CiphertextBlob\":\"AQID\",\"KeyId\":\"arn:aws:kms:k\"}");
}

Test(client_awsjson, empty_success_body_is_an_empty_object)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("kms.enable_key", 200, NULL, "", &out, &err), CMEK_OK);
    s_expect_json(out, "{}");
}

Test(client_awsjson, error_without_prefix)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("kms.describe_key", 400, "x-amzn-RequestId: 7f1c-req\r\n",
                         "{\"__type\":\"NotFoundException\",\"message\":\"Alias "
                         "arn:aws:kms:eu-west-1:111122223333:alias/x is not found.\"}",
                         &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 400, "NotFoundException",
                   "Alias arn:aws:kms:eu-west-1:111122223333:alias/x is not found.", "7f1c-req");
    cr_assert_eq(err.ccloud_code, 0);
}

Test(client_awsjson, error_with_prefix_and_capital_message)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("kms.decrypt", 400, "X-Amzn-RequestId: abc\r\n",
                         "{\"__type\":\"com.amazonaws.kms#InvalidCiphertextException\","
                         "\"Message\":\"bad\"}",
                         &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 400, "InvalidCiphertextException", "bad", "abc");
}

Test(client_awsjson, error_without_message_has_an_empty_message)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("kms.decrypt", 400, NULL, "{\"__type\":\"InvalidCiphertextException\"}",
                         &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 400, "InvalidCiphertextException", "", "");
}

Test(client_awsjson, html_error_from_a_proxy_is_quoted)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("kms.encrypt", 502, NULL,
                         "<html><body>502 \"Bad\" Gateway</body></html>\n", &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 502, "",
                   "unreadable KMS error (HTTP 502): \"<html><body>502 \\\"Bad\\\" "
                   "Gateway</body></html>\\x0a\"",
                   "");
}

Test(client_awsjson, unreadable_success_is_an_error)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("kms.encrypt", 200, NULL, "[1,2]", &out, &err), CMEK_ERR_SERVICE);
    s_expect_error(&err, 200, "", "unreadable KMS answer (HTTP 200): \"[1,2]\"", "");
}

Test(client_awsjson, long_unreadable_body_is_cut)
{
    char body[400];
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("kms.encrypt", 500, NULL, body, &out, &err), CMEK_ERR_SERVICE);
    char want[256];
    snprintf(want, sizeof want, "unreadable KMS error (HTTP 500): \"%.120s...\"", body);
    cr_assert_str_eq(err.message, want);
}

/* ---- IAM and STS: the Query protocol ---- */

Test(client_query, list_roles_request_is_what_botocore_sends)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("iam.list_roles", "{}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "POST", "https://iam.amazonaws.com/",
                  "Action=ListRoles&Version=2010-05-08",
                  "application/x-www-form-urlencoded; charset=utf-8");
    cr_assert_eq(wire.n_headers, 1);
    cmek_wire_clean_up(&wire);
}

Test(client_query, sts_uses_its_own_version)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("sts.get_caller_identity", "{}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "POST", "https://sts.eu-west-1.amazonaws.com/",
                  "Action=GetCallerIdentity&Version=2011-06-15",
                  "application/x-www-form-urlencoded; charset=utf-8");
    cmek_wire_clean_up(&wire);
}

Test(client_query, create_role_flattens_strings_numbers_and_tag_lists)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("iam.create_role",
                         "{\"RoleName\":\"crdb-cmek\",\"AssumeRolePolicyDocument\":"
                         "\"{\\\"Version\\\":\\\"2012-10-17\\\"}\",\"MaxSessionDuration\":3600,"
                         "\"Tags\":[{\"Key\":\"team\",\"Value\":\"db ops\"},"
                         "{\"Key\":\"env\",\"Value\":\"prod\"}]}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "POST", "https://iam.amazonaws.com/",
                  "Action=CreateRole&Version=2010-05-08&RoleName=crdb-cmek"
                  "&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D"
                  "&MaxSessionDuration=3600&Tags.member.1.Key=team&Tags.member.1.Value=db%20ops"
                  "&Tags.member.2.Key=env&Tags.member.2.Value=prod",
                  "application/x-www-form-urlencoded; charset=utf-8");
    cmek_wire_clean_up(&wire);
}

Test(client_query, assume_role_flattens_lists_of_strings_and_structures)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("sts.assume_role",
                         "{\"RoleArn\":\"arn:aws:iam::111122223333:role/r\","
                         "\"RoleSessionName\":\"s\",\"ExternalId\":\"ext\",\"DurationSeconds\":900,"
                         "\"PolicyArns\":[{\"arn\":\"arn:aws:iam::aws:policy/P\"}],"
                         "\"TransitiveTagKeys\":[\"a\",\"b\"]}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "POST", "https://sts.eu-west-1.amazonaws.com/",
                  "Action=AssumeRole&Version=2011-06-15"
                  "&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fr&RoleSessionName=s"
                  "&ExternalId=ext&DurationSeconds=900"
                  "&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FP"
                  "&TransitiveTagKeys.member.1=a&TransitiveTagKeys.member.2=b",
                  "application/x-www-form-urlencoded; charset=utf-8");
    cmek_wire_clean_up(&wire);
}

Test(client_query, nested_structures_booleans_reals_empty_lists_and_nulls)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("iam.update_role",
                         "{\"Outer\":{\"Inner\":{\"Leaf\":\"v\"},\"On\":true},\"Off\":false,"
                         "\"Ratio\":0.5,\"Gone\":null,\"Empty\":[],"
                         "\"Grid\":[[\"x\"],[{\"K\":1}]]}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    cr_assert_str_eq(cmek_buf_cstr(&wire.body),
                     "Action=UpdateRole&Version=2010-05-08&Outer.Inner.Leaf=v&Outer.On=true"
                     "&Off=false&Ratio=0.5&Empty=&Grid.member.1.member.1=x"
                     "&Grid.member.2.member.1.K=1");
    cmek_wire_clean_up(&wire);
}

Test(client_query, values_are_encoded_as_botocore_does)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(
        s_build("iam.get_role", "{\"RoleName\":\"a b+c&d=e/f~g-h_i.j*k'l\\u00e9%\"}", &wire, &err),
        CMEK_OK);
    cr_assert_str_eq(cmek_buf_cstr(&wire.body),
                     "Action=GetRole&Version=2010-05-08"
                     "&RoleName=a%20b%2Bc%26d%3De%2Ff~g-h_i.j%2Ak%27l%C3%A9%25");
    cmek_wire_clean_up(&wire);
}

Test(client_query, action_and_version_in_the_input_are_refused)
{
    s_expect_invalid("iam.get_role", "{\"Action\":\"DeleteRole\"}",
                     "iam.get_role: Action and Version are set by the operation, not the input");
    s_expect_invalid("sts.assume_role", "{\"Version\":\"1\"}",
                     "sts.assume_role: Action and Version are set by the operation, not the input");
    s_expect_invalid("iam.get_role", "\"RoleName\"",
                     "iam.get_role: the input must be a JSON object");
}

Test(client_query, over_long_parameter_names_are_refused)
{
    char input[1200];
    char name[600];
    memset(name, 'N', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(input, sizeof input, "{\"%s\":\"v\"}", name);
    s_expect_invalid("iam.get_role", input,
                     "iam.get_role: a parameter name is over 512 bytes or the body over 4194304 "
                     "bytes");
}

static const char s_get_role_xml[] =
    "<GetRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <GetRoleResult>\n"
    "<Role><Path>/</Path><RoleName>crdb-cmek</RoleName><RoleId>AROAEXAMPLE</RoleId>"
    "<Arn>arn:aws:iam::111122223333:role/crdb-cmek</Arn>"
    "<CreateDate>2026-11-23T12:00:00Z</CreateDate>"
    "<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%7D</AssumeRolePolicyDocument>"
    "<Description>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x41;</Description>"
    "<MaxSessionDuration>3600</MaxSessionDuration>"
    "<Tags><member><Key>team</Key><Value>db</Value></member>"
    "<member><Key>env</Key><Value><![CDATA[<prod>]]></Value></member></Tags>"
    "<RoleLastUsed/></Role>\n"
    "  </GetRoleResult>\n"
    "  <ResponseMetadata>\n    <RequestId>req-1</RequestId>\n  </ResponseMetadata>\n"
    "</GetRoleResponse>\n";

Test(client_query, get_role_result_becomes_json)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("iam.get_role", 200, NULL, s_get_role_xml, &out, &err), CMEK_OK, "%s",
                 err.message);
    s_expect_json(out, "{\"Role\":{\"Path\":\"/\",\"RoleName\":\"crdb-cmek\","
                       "\"RoleId\":\"AROAEXAMPLE\",\"Arn\":\"arn:aws:iam::111122223333:role/"
                       "crdb-cmek\",\"CreateDate\":\"2026-11-23T12:00:00Z\","
                       "\"AssumeRolePolicyDocument\":\"%7B%22Version%22%3A%222012-10-17%22%7D\","
                       "\"Description\":\"a & b <c> \\\"d\\\" 'e' \\u00e9A\","
                       "\"MaxSessionDuration\":\"3600\","
                       "\"Tags\":[{\"Key\":\"team\",\"Value\":\"db\"},"
                       "{\"Key\":\"env\",\"Value\":\"<prod>\"}],\"RoleLastUsed\":\"\"}}");
}

Test(client_query, list_roles_members_become_arrays)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("iam.list_roles", 200, NULL,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<ListRolesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                         "<ListRolesResult><IsTruncated>false</IsTruncated><Roles>"
                         "<member><RoleName>a</RoleName></member>"
                         "<member><RoleName>b</RoleName></member></Roles>"
                         "</ListRolesResult><ResponseMetadata><RequestId>r</RequestId>"
                         "</ResponseMetadata></ListRolesResponse>",
                         &out, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_json(out, "{\"IsTruncated\":\"false\",\"Roles\":[{\"RoleName\":\"a\"},"
                       "{\"RoleName\":\"b\"}]}");
}

Test(client_query, repeated_names_become_arrays_and_empty_lists_are_empty_strings)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("iam.list_role_policies", 200, NULL,
                         "<ListRolePoliciesResponse><ListRolePoliciesResult>"
                         "<PolicyNames></PolicyNames><X>1</X><X>2</X><Y><!-- c -->y</Y>"
                         "</ListRolePoliciesResult></ListRolePoliciesResponse>",
                         &out, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_json(out, "{\"PolicyNames\":\"\",\"X\":[\"1\",\"2\"],\"Y\":\"y\"}");
}

Test(client_query, operations_without_a_result_give_an_empty_object)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("iam.delete_role", 200, NULL,
                         "<DeleteRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                         "\n  <ResponseMetadata>\n    <RequestId>r</RequestId>\n"
                         "  </ResponseMetadata>\n</DeleteRoleResponse>\n",
                         &out, &err),
                 CMEK_OK);
    s_expect_json(out, "{}");
}

Test(client_query, success_with_another_root_is_unreadable)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("iam.get_role", 200, NULL, "<GetUserResponse/>", &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 200, "",
                   "unreadable IAM answer (expected <GetRoleResponse>, got <GetUserResponse>) "
                   "(HTTP 200): \"<GetUserResponse/>\"",
                   "");
}

static const char s_error_xml[] =
    "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <Error>\n    <Type>Sender</Type>\n    <Code>NoSuchEntity</Code>\n"
    "    <Message>The role with name nope cannot be found.</Message>\n  </Error>\n"
    "  <RequestId>4a5b-req</RequestId>\n</ErrorResponse>\n";

Test(client_query, error_response_gives_code_message_and_request_id)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(
        s_parse("iam.get_role", 404, "x-amzn-RequestId: from-header\r\n", s_error_xml, &out, &err),
        CMEK_ERR_SERVICE);
    s_expect_error(&err, 404, "NoSuchEntity", "The role with name nope cannot be found.",
                   "4a5b-req");
}

Test(client_query, error_request_id_falls_back_to_the_header)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("sts.assume_role", 403, "x-amzn-RequestId: hdr-1\r\n",
                         "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no &amp; "
                         "no</Message></Error></ErrorResponse>",
                         &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 403, "AccessDenied", "no & no", "hdr-1");
}

Test(client_query, error_of_another_shape_is_unreadable)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("iam.get_role", 400, NULL, "<Oops><Error/></Oops>", &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 400, "",
                   "unreadable IAM answer (expected <ErrorResponse><Error><Code>) (HTTP 400): "
                   "\"<Oops><Error/></Oops>\"",
                   "");
}

Test(client_query, html_error_is_quoted_with_the_xml_problem)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(
        s_parse("sts.get_caller_identity", 502, NULL, "<html><body>Bad Gateway</html>", &out, &err),
        CMEK_ERR_SERVICE);
    s_expect_error(&err, 502, "",
                   "unreadable STS answer (malformed XML at byte 23: expected </body>) "
                   "(HTTP 502): \"<html><body>Bad Gateway</html>\"",
                   "");
}

Test(client_query, every_truncation_of_a_response_is_an_error_not_a_crash)
{
    size_t len = strlen(s_get_role_xml);
    /* The document is complete once its root's end tag is read; only a trailing newline
     * can be cut and still leave well-formed XML. */
    size_t complete = len - 1;
    for (size_t n = 0; n < complete; n++) {
        json_t *out = NULL;
        struct cmek_api_error err;
        cr_assert_eq(s_parse_n("iam.get_role", 200, NULL, s_get_role_xml, n, &out, &err),
                     CMEK_ERR_SERVICE, "prefix of %zu bytes", n);
        cr_assert_str_eq(err.code, "");
        cr_assert(strncmp(err.message, "unreadable IAM answer (malformed XML at byte ", 45) == 0,
                  "%zu: %s", n, err.message);
    }
}

Test(client_query, random_garbage_is_an_error_not_a_crash)
{
    /* A fixed-seed generator so a failure can be reproduced. */
    unsigned long state = 12345;
    const char alphabet[] = "<>/!?[]&;#x\"'= abAB-:\n\0\xff";
    char doc[256];
    for (int round = 0; round < 3000; round++) {
        size_t n = 0;
        state = state * 6364136223846793005ul + 1442695040888963407ul;
        size_t len = (state >> 33) % sizeof doc;
        for (n = 0; n < len; n++) {
            state = state * 6364136223846793005ul + 1442695040888963407ul;
            doc[n] = alphabet[(state >> 33) % (sizeof alphabet - 1)];
        }
        if (round % 3 == 0 && len > 10) { /* start some like a real response */
            memcpy(doc, "<A><B>", 6);
        }
        json_t *out = NULL;
        struct cmek_api_error err;
        int rc = s_parse_n("iam.get_role", 400, NULL, doc, len, &out, &err);
        cr_assert_eq(rc, CMEK_ERR_SERVICE);
    }
}

/* ---- the XML reader itself ---- */

static int s_xml(const char *doc, char *why, size_t why_len)
{
    struct cmek_xml_node *root = NULL;
    int rc = cmek_xml_parse(doc, strlen(doc), &root, why, why_len);
    if (rc != CMEK_OK) {
        cr_assert_null(root);
    }
    cmek_xml_node_destroy(root);
    return rc;
}

Test(client_xml, malformed_documents_are_named_exactly)
{
    struct {
        const char *doc;
        const char *why;
    } cases[] = {
        {"", "malformed XML at byte 0: no root element"},
        {"   ", "malformed XML at byte 3: no root element"},
        {"text", "malformed XML at byte 0: expected an element"},
        {"<a>", "malformed XML at byte 3: document ends inside <a>"},
        {"<a></b>", "malformed XML at byte 3: expected </a>"},
        {"<a></a", "malformed XML at byte 6: expected '>' to end </a"},
        {"<a>&bogus;</a>", "malformed XML at byte 3: unknown entity &bogus;"},
        {"<a>&amp</a>", "malformed XML at byte 3: unterminated or empty entity reference"},
        {"<a>&#xD800;</a>", "malformed XML at byte 3: character reference to an invalid character"},
        {"<a>&#0;</a>", "malformed XML at byte 3: character reference to an invalid character"},
        {"<a>&#x110000;</a>", "malformed XML at byte 3: character reference out of range"},
        {"<a>&#12a;</a>", "malformed XML at byte 3: bad digit in character reference"},
        {"<a>&#;</a>", "malformed XML at byte 3: empty character reference"},
        {"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
         "malformed XML at byte 0: DOCTYPE and declarations are not accepted"},
        {"<a><!DOCTYPE></a>",
         "malformed XML at byte 3: declarations are not accepted inside elements"},
        {"<a x=1/>", "malformed XML at byte 5: expected a quoted attribute value"},
        {"<a x/>", "malformed XML at byte 4: expected '=' after an attribute name"},
        {"<a x=\"1/>", "malformed XML at byte 9: unterminated attribute value"},
        {"<a x=\"<\"/>", "malformed XML at byte 6: '<' in an attribute value"},
        {"<a x=\"1\"y=\"2\"/>", "malformed XML at byte 8: expected an attribute, '>' or '/>'"},
        {"<a/><b/>", "malformed XML at byte 4: content after the root element"},
        {"<a/>junk", "malformed XML at byte 4: content after the root element"},
        {"<a><![CDATA[x</a>", "malformed XML at byte 12: unterminated CDATA section"},
        {"<a><!-- x</a>", "malformed XML at byte 7: unterminated comment"},
        {"<?xml version=\"1.0\"", "malformed XML at byte 0: unterminated processing instruction"},
        {"< a/>", "malformed XML at byte 1: expected an element name after '<'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[256];
        cr_assert_eq(s_xml(cases[i].doc, why, sizeof why), CMEK_ERR_PARSE, "%s", cases[i].doc);
        cr_assert_str_eq(why, cases[i].why, "%s", cases[i].doc);
    }
}

Test(client_xml, nul_bytes_in_text_are_refused)
{
    struct cmek_xml_node *root = NULL;
    char why[128];
    cr_assert_eq(cmek_xml_parse("<a>x\0y</a>", 10, &root, why, sizeof why), CMEK_ERR_PARSE);
    cr_assert_str_eq(why, "malformed XML at byte 4: NUL byte in text");
    cr_assert_null(root);
}

Test(client_xml, depth_is_capped)
{
    char doc[2048];
    size_t n = 0;
    for (unsigned i = 0; i < CMEK_XML_MAX_DEPTH; i++) {
        n += (size_t)snprintf(doc + n, sizeof doc - n, "<a>");
    }
    for (unsigned i = 0; i < CMEK_XML_MAX_DEPTH; i++) {
        n += (size_t)snprintf(doc + n, sizeof doc - n, "</a>");
    }
    char why[128];
    cr_assert_eq(s_xml(doc, why, sizeof why), CMEK_OK);
    char deeper[sizeof doc + 8];
    snprintf(deeper, sizeof deeper, "<b>%s</b>", doc);
    cr_assert_eq(s_xml(deeper, why, sizeof why), CMEK_ERR_LIMIT);
    cr_assert_str_eq(why, "malformed XML at byte 192: elements nested deeper than 64");
}

Test(client_xml, element_count_is_capped)
{
    struct cmek_buf doc;
    cmek_buf_init(&doc, CMEK_XML_MAX_BYTES);
    cr_assert_eq(cmek_buf_append_str(&doc, "<a>"), CMEK_OK);
    for (unsigned i = 0; i < CMEK_XML_MAX_ELEMENTS; i++) {
        cr_assert_eq(cmek_buf_append_str(&doc, "<b/>"), CMEK_OK);
    }
    cr_assert_eq(cmek_buf_append_str(&doc, "</a>"), CMEK_OK);
    struct cmek_xml_node *root = NULL;
    char why[128];
    cr_assert_eq(cmek_xml_parse(doc.data, doc.len, &root, why, sizeof why), CMEK_ERR_LIMIT);
    cr_assert_str_eq(why, "malformed XML at byte 399999: more than 100000 elements");
    cmek_buf_clean_up(&doc);
}

Test(client_xml, size_is_capped)
{
    struct cmek_xml_node *root = NULL;
    char why[128];
    cr_assert_eq(cmek_xml_parse("<a/>", CMEK_XML_MAX_BYTES + 1u, &root, why, sizeof why),
                 CMEK_ERR_LIMIT);
    cr_assert_str_eq(why, "malformed XML at byte 0: document larger than 8388608 bytes");
}

Test(client_xml, prolog_comments_attributes_and_text)
{
    const char *doc = "\xef\xbb\xbf<?xml version='1.0'?>\n<!-- c --><r a=\"1\" b='2'>"
                      "x<?pi?>y<c/>z<c>w</c></r>\n<!-- end -->\n";
    struct cmek_xml_node *root = NULL;
    char why[128];
    cr_assert_eq(cmek_xml_parse(doc, strlen(doc), &root, why, sizeof why), CMEK_OK, "%s", why);
    cr_assert_str_eq(root->name, "r");
    cr_assert_str_eq(cmek_buf_cstr(&root->text), "xyz");
    cr_assert_eq(root->n_children, 2);
    cr_assert_str_eq(cmek_xml_child_text(root, "c"), "");
    cr_assert_null(cmek_xml_child(root, "d"));
    cr_assert_null(cmek_xml_child_text(root, "d"));
    cmek_xml_node_destroy(root);
    cmek_xml_node_destroy(NULL);
}

/* ---- REST: Cloud API, Vault, emulator ---- */

Test(client_rest, ccloud_get_cluster_puts_the_id_in_the_path)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("ccloud.get_cluster", "{\"cluster_id\":\"abc 1/2\"}", &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "GET", "https://cockroachlabs.cloud/api/v1/clusters/abc%201%2F2", "",
                  NULL);
    cr_assert_eq(wire.n_headers, 0);
    cmek_wire_clean_up(&wire);
}

Test(client_rest, ccloud_list_clusters_sends_scalars_as_query)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("ccloud.list_clusters",
                         "{\"pagination.limit\":10,\"show_inactive\":true,\"pagination.page\":"
                         "\"a b&c\",\"skip\":null}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "GET",
                  "https://cockroachlabs.cloud/api/v1/clusters?pagination.limit=10"
                  "&show_inactive=true&pagination.page=a%20b%26c",
                  "", NULL);
    cmek_wire_clean_up(&wire);
}

Test(client_rest, ccloud_enable_cmek_sends_the_rest_as_json)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("ccloud.enable_cmek",
                         "{\"cluster_id\":\"c-1\",\"region_specs\":[{\"region\":\"us-east-1\","
                         "\"key_spec\":{\"type\":\"AWS_KMS\",\"uri\":\"arn:k\"}}]}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "POST", "https://cockroachlabs.cloud/api/v1/clusters/c-1/cmek",
                  "{\"region_specs\":[{\"region\":\"us-east-1\",\"key_spec\":{\"type\":"
                  "\"AWS_KMS\",\"uri\":\"arn:k\"}}]}",
                  "application/json");
    cmek_wire_clean_up(&wire);
}

Test(client_rest, ccloud_patch_and_delete)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("ccloud.update_cmek_status",
                         "{\"cluster_id\":\"c\",\"action\":\"REVOKE\"}", &wire, &err),
                 CMEK_OK);
    s_expect_wire(&wire, "PATCH", "https://cockroachlabs.cloud/api/v1/clusters/c/cmek",
                  "{\"action\":\"REVOKE\"}", "application/json");
    cmek_wire_clean_up(&wire);
    cr_assert_eq(s_build("ccloud.delete_cluster", "{\"cluster_id\":\"c\"}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "DELETE", "https://cockroachlabs.cloud/api/v1/clusters/c", "", NULL);
    cmek_wire_clean_up(&wire);
    cr_assert_eq(s_build("ccloud.create_cluster", "{}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "POST", "https://cockroachlabs.cloud/api/v1/clusters", "{}",
                  "application/json");
    cmek_wire_clean_up(&wire);
}

Test(client_rest, missing_and_bad_path_parameters_are_named)
{
    s_expect_invalid("ccloud.get_cluster", "{}",
                     "ccloud.get_cluster: missing path parameter \"cluster_id\"");
    s_expect_invalid("ccloud.get_cmek", "{\"cluster_id\":7}",
                     "ccloud.get_cmek: path parameter \"cluster_id\" must be a string");
    s_expect_invalid("ccloud.get_cmek", "{\"cluster_id\":\"\"}",
                     "ccloud.get_cmek: path parameter \"cluster_id\" is empty");
    s_expect_invalid("vault.read_kms_key", "{\"name\":\"aws\"}",
                     "vault.read_kms_key: missing path parameter \"key_name\"");
    s_expect_invalid("vault.read", "{}", "vault.read: missing path parameter \"path\"");
    s_expect_invalid("emulator.read_row", "{\"cluster_id\":\"c\"}",
                     "emulator.read_row: missing path parameter \"key\"");
    s_expect_invalid("ccloud.list_clusters", "{\"filter\":{\"a\":1}}",
                     "ccloud.list_clusters: query parameter \"filter\" must be a string, number "
                     "or boolean");
    s_expect_invalid("ccloud.list_clusters", "[]",
                     "ccloud.list_clusters: the input must be a JSON object");
}

Test(client_rest, vault_paths_may_not_escape)
{
    s_expect_invalid("vault.read", "{\"path\":\"secret/../sys/raw\"}",
                     "vault.read: path parameter \"path\" must not contain \".\" or \"..\" "
                     "segments");
    s_expect_invalid("vault.read", "{\"path\":\"..\"}",
                     "vault.read: path parameter \"path\" must not contain \".\" or \"..\" "
                     "segments");
    s_expect_invalid("vault.write", "{\"path\":\"a/./b\"}",
                     "vault.write: path parameter \"path\" must not contain \".\" or \"..\" "
                     "segments");
    s_expect_invalid("vault.delete", "{\"path\":\"/sys/mounts\"}",
                     "vault.delete: path parameter \"path\" must not start with '/'");
    s_expect_invalid("vault.list", "{\"path\":\"a//b\"}",
                     "vault.list: path parameter \"path\" must not contain empty segments");
    s_expect_invalid("vault.create_key", "{\"mount\":\"../sys\",\"name\":\"k\"}",
                     "vault.create_key: path parameter \"mount\" must not contain \".\" or \"..\" "
                     "segments");
    s_expect_invalid("vault.read_key", "{\"name\":\"..\"}",
                     "vault.read_key: path parameter \"name\" must not be \".\" or \"..\"");
}

Test(client_rest, vault_generic_read_write_list_delete)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(
        s_build("vault.read", "{\"path\":\"secret/data/my app\",\"version\":2}", &wire, &err),
        CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "GET", "http://127.0.0.1:8200/v1/secret/data/my%20app?version=2", "",
                  NULL);
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("vault.write", "{\"path\":\"secret/x\",\"data\":{\"a\":1,\"b\":\"c\"}}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "PUT", "http://127.0.0.1:8200/v1/secret/x", "{\"a\":1,\"b\":\"c\"}",
                  "application/json");
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("vault.write", "{\"path\":\"keymgmt/key/k/rotate\"}", &wire, &err),
                 CMEK_OK);
    s_expect_wire(&wire, "PUT", "http://127.0.0.1:8200/v1/keymgmt/key/k/rotate", "{}",
                  "application/json");
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("vault.list", "{\"path\":\"keymgmt/key/\"}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "GET", "http://127.0.0.1:8200/v1/keymgmt/key/?list=true", "", NULL);
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("vault.delete", "{\"path\":\"sys/mounts/km\"}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "DELETE", "http://127.0.0.1:8200/v1/sys/mounts/km", "", NULL);
    cmek_wire_clean_up(&wire);

    s_expect_invalid("vault.write", "{\"path\":\"a\",\"type\":\"x\"}",
                     "vault.write: unexpected input member \"type\" (the body is \"data\")");
    s_expect_invalid("vault.write", "{\"path\":\"a\",\"data\":[1]}",
                     "vault.write: input member \"data\" must be an object");
}

Test(client_rest, vault_keymgmt_defaults_the_mount)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("vault.create_key", "{\"name\":\"crdb key\",\"type\":\"aes256-gcm96\"}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "POST", "http://127.0.0.1:8200/v1/keymgmt/key/crdb%20key",
                  "{\"type\":\"aes256-gcm96\"}", "application/json");
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("vault.distribute_key",
                         "{\"mount\":\"team/km\",\"name\":\"aws\",\"key_name\":\"k1\","
                         "\"purpose\":[\"encrypt\",\"decrypt\"],\"protection\":\"hsm\"}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "POST", "http://127.0.0.1:8200/v1/team/km/kms/aws/key/k1",
                  "{\"purpose\":[\"encrypt\",\"decrypt\"],\"protection\":\"hsm\"}",
                  "application/json");
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("vault.list_kms_keys", "{\"name\":\"aws\"}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "GET", "http://127.0.0.1:8200/v1/keymgmt/kms/aws/key?list=true", "", NULL);
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("vault.enable_secrets_engine",
                         "{\"path\":\"keymgmt\",\"type\":"
                         "\"keymgmt\"}",
                         &wire, &err),
                 CMEK_OK);
    s_expect_wire(&wire, "POST", "http://127.0.0.1:8200/v1/sys/mounts/keymgmt",
                  "{\"type\":\"keymgmt\"}", "application/json");
    cmek_wire_clean_up(&wire);
}

Test(client_rest, emulator_endpoints)
{
    struct cmek_wire wire;
    struct cmek_api_error err;
    cr_assert_eq(s_build("emulator.write_row",
                         "{\"cluster_id\":\"c1\",\"key\":\"a/b\",\"value\":\"hello {not json\"}",
                         &wire, &err),
                 CMEK_OK, "%s", err.message);
    s_expect_wire(&wire, "PUT", "http://127.0.0.1:4566/_emulator/clusters/c1/rows/a%2Fb",
                  "hello {not json", "application/octet-stream");
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("emulator.set_clock", "{\"advance\":\"90m\"}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "POST", "http://127.0.0.1:4566/_emulator/clock", "{\"advance\":\"90m\"}",
                  "application/json");
    cmek_wire_clean_up(&wire);

    cr_assert_eq(s_build("emulator.health", "{}", &wire, &err), CMEK_OK);
    s_expect_wire(&wire, "GET", "http://127.0.0.1:4566/_emulator/health", "", NULL);
    cmek_wire_clean_up(&wire);

    s_expect_invalid("emulator.write_row", "{\"cluster_id\":\"c\",\"key\":\"k\"}",
                     "emulator.write_row: input member \"value\" must be a string");
    s_expect_invalid("emulator.write_row",
                     "{\"cluster_id\":\"c\",\"key\":\"k\",\"value\":\"v\",\"x\":1}",
                     "emulator.write_row: unexpected input member \"x\" (the body is \"value\")");
}

Test(client_rest, ccloud_success_and_empty_bodies)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("ccloud.get_cluster", 200, NULL, "{\"id\":\"c\",\"state\":\"CREATED\"}",
                         &out, &err),
                 CMEK_OK);
    s_expect_json(out, "{\"id\":\"c\",\"state\":\"CREATED\"}");
    cr_assert_eq(s_parse("ccloud.delete_client_ca_cert", 200, NULL, "", &out, &err), CMEK_OK);
    s_expect_json(out, "{}");
}

Test(client_rest, ccloud_error_keeps_code_message_and_details)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("ccloud.enable_cmek", 400, NULL,
                         "{\n  \"code\": 9,\n  \"message\": \"cluster must be ready\",\n"
                         "  \"details\": [{\"@type\":\"type.googleapis.com/x\"}]\n}",
                         &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 400, "9", "cluster must be ready", "");
    cr_assert_eq(err.ccloud_code, 9);
}

Test(client_rest, ccloud_html_error_is_quoted)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(
        s_parse("ccloud.get_cluster", 502, NULL, "<html>502 Bad Gateway</html>", &out, &err),
        CMEK_ERR_SERVICE);
    s_expect_error(&err, 502, "",
                   "unreadable Cloud API error (HTTP 502): \"<html>502 Bad Gateway</html>\"", "");
    cr_assert_eq(err.ccloud_code, 0);
    cr_assert_eq(s_parse("ccloud.get_cluster", 500, NULL, "{\"error\":\"x\"}", &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 500, "",
                   "unreadable Cloud API error (HTTP 500): \"{\\\"error\\\":\\\"x\\\"}\"", "");
    cr_assert_eq(s_parse("ccloud.get_cluster", 200, NULL, "{", &out, &err), CMEK_ERR_SERVICE);
    s_expect_error(&err, 200, "", "unreadable Cloud API answer (HTTP 200): \"{\"", "");
}

Test(client_rest, vault_envelope_and_204)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("vault.read_key", 200, NULL,
                         "{\"request_id\":\"r\",\"data\":{\"name\":\"k\"},\"warnings\":null}", &out,
                         &err),
                 CMEK_OK);
    s_expect_json(out, "{\"request_id\":\"r\",\"data\":{\"name\":\"k\"},\"warnings\":null}");
    cr_assert_eq(s_parse("vault.delete_key", 204, NULL, "", &out, &err), CMEK_OK);
    s_expect_json(out, "{}");
}

Test(client_rest, vault_errors_are_joined)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("vault.read_key", 400, NULL,
                         "{\"errors\":[\"1 error occurred:\\n\\t* no key\\n\\n\",\"second\",3]}\n",
                         &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 400, "", "1 error occurred:\n\t* no key\n\n; second; 3", "");
    cr_assert_eq(s_parse("vault.read", 404, NULL, "{\"errors\":[]}", &out, &err), CMEK_ERR_SERVICE);
    s_expect_error(&err, 404, "", "", "");
    cr_assert_eq(s_parse("vault.read", 503, NULL, "Vault is sealed", &out, &err), CMEK_ERR_SERVICE);
    s_expect_error(&err, 503, "", "unreadable Vault error (HTTP 503): \"Vault is sealed\"", "");
}

Test(client_rest, vault_long_errors_are_cut_at_the_message_cap)
{
    struct cmek_buf body;
    cmek_buf_init(&body, 1 << 16);
    cr_assert_eq(cmek_buf_append_str(&body, "{\"errors\":["), CMEK_OK);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(cmek_buf_appendf(&body, "%s\"%050d\"", i ? "," : "", i), CMEK_OK);
    }
    cr_assert_eq(cmek_buf_append_str(&body, "]}"), CMEK_OK);
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("vault.read", 500, NULL, cmek_buf_cstr(&body), &out, &err),
                 CMEK_ERR_SERVICE);
    cr_assert_eq(strlen(err.message), CMEK_API_MESSAGE_MAX - 1);
    cr_assert(
        strncmp(err.message, "00000000000000000000000000000000000000000000000000; 0000", 56) == 0);
    cmek_buf_clean_up(&body);
}

Test(client_rest, emulator_errors_in_its_own_and_the_cloud_shape)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("emulator.set_clock", 400, NULL,
                         "{\"code\":\"InvalidClock\",\"message\":\"the clock never goes back\"}",
                         &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 400, "InvalidClock", "the clock never goes back", "");
    cr_assert_eq(s_parse("emulator.read_row", 400, NULL,
                         "{\"code\":9,\"message\":\"the cluster cannot use its key\","
                         "\"details\":[]}",
                         &out, &err),
                 CMEK_ERR_SERVICE);
    s_expect_error(&err, 400, "9", "the cluster cannot use its key", "");
    cr_assert_eq(err.ccloud_code, 9);
    cr_assert_eq(s_parse("emulator.health", 200, NULL, "{\"status\":\"ok\"}", &out, &err), CMEK_OK);
    s_expect_json(out, "{\"status\":\"ok\"}");
}

/* ---- cmek_sts_session_credentials ---- */

Test(client_sts_creds, copies_the_session_credentials)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(s_parse("sts.assume_role", 200, NULL,
                         "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                         "<AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
                         "<SecretAccessKey>sec/ret+</SecretAccessKey>"
                         "<SessionToken>tok&amp;en</SessionToken>"
                         "<Expiration>2026-11-23T13:00:00Z</Expiration></Credentials>"
                         "<AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId>"
                         "<Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>"
                         "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId>"
                         "</ResponseMetadata></AssumeRoleResponse>",
                         &out, &err),
                 CMEK_OK, "%s", err.message);
    struct cmek_aws_credentials c = {0};
    cr_assert_eq(cmek_sts_session_credentials(out, &c), CMEK_OK);
    cr_assert_str_eq(c.access_key_id, "ASIAEXAMPLE");
    cr_assert_str_eq(c.secret_access_key, "sec/ret+");
    cr_assert_str_eq(c.session_token, "tok&en");
    cmek_aws_credentials_clean_up(&c);
    json_decref(out);
}

Test(client_sts_creds, incomplete_outputs_are_parse_errors)
{
    const char *bad[] = {
        "{}",
        "[]",
        "{\"Credentials\":\"\"}",
        "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}}",
        "{\"Credentials\":{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"\",\"SessionToken\":\"T\"}}",
        "{\"Credentials\":{\"AccessKeyId\":1,\"SecretAccessKey\":\"S\",\"SessionToken\":\"T\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = json_loads(bad[i], 0, NULL);
        cr_assert_not_null(o);
        struct cmek_aws_credentials c = {0};
        cr_assert_eq(cmek_sts_session_credentials(o, &c), CMEK_ERR_PARSE, "%s", bad[i]);
        cr_assert_null(c.access_key_id);
        json_decref(o);
    }
    struct cmek_aws_credentials c = {0};
    cr_assert_eq(cmek_sts_session_credentials(NULL, &c), CMEK_ERR_PARSE);
}
