/* Integration tests of libcmek against a real cmek-emulator: the emulator runs in-process,
 * listening on a socket, and every call goes through the real client (SigV4, bearer, Vault
 * token), the libcurl transport and the codecs. Every AWS call libcmek names (21 IAM, 2 STS,
 * 32 KMS) and the emulator's admin calls are run once to succeed and once to fail with an
 * exact code; then the CMEK flow as CockroachDB Cloud runs it. The Cloud API and Vault are
 * not emulated yet: their "not found" answers must land in the right error fields. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/ccloud.h"
#include "cmek/client.h"
#include "cmek/crypto.h"
#include "cmek/emulator.h"
#include "cmek/iam.h"
#include "cmek/kms.h"
#include "cmek/sts.h"
#include "cmek/vault.h"
#include "server.h"
#include "store.h"
#include "test_common.h"

#define S_ACCOUNT     "111122223333"
#define S_CRDB_ACCT   "999988887777"
#define S_ORG_ID      "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"
#define S_CLUSTER_ID  "3c5e2a1b-7d9f-4e6a-8b2c-1f0d9e8c7b6a"
#define S_MISSING_KEY "00000000-0000-0000-0000-000000000000"
#define S_MISSING_ARN "arn:aws:kms:us-east-1:" S_ACCOUNT ":key/" S_MISSING_KEY

static struct emu_app s_app;
static struct emu_server *s_server;
static struct cmek_target s_target;
static struct cmek_client *s_admin;

/* The tests read no environment: the target comes from its file alone. */
static const char *s_no_env(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static struct cmek_client *s_client_as(const struct cmek_aws_credentials *as)
{
    struct cmek_client_options opt = {.target = &s_target, .aws_as = as};
    struct cmek_client *c = NULL;
    struct cmek_api_error err;
    cr_assert_eq(cmek_client_new(&opt, &c, &err), CMEK_OK, "%s", err.message);
    return c;
}

static void s_init(void)
{
    memset(&s_app, 0, sizeof s_app);
    emu_config_init_default(&s_app.cfg);
    s_app.cfg.log_level = EMU_LOG_ERROR;
    s_app.cfg.ccloud_response_log = getenv("CMEK_CCLOUD_RESPONSE_LOG"); /* tests/openapi */
    s_app.sys = *emu_system_default();
    json_error_t e;
    json_t *w = json_load_file(CMEK_FIXTURES_DIR "/world.json", 0, &e);
    cr_assert_not_null(w);
    struct emu_load_error lerr;
    cr_assert_eq(emu_store_new(&s_app, w, &s_app.store, &lerr), 0, "%s", lerr.message);
    json_decref(w);
    const char *why = NULL;
    cr_assert_eq(emu_server_start(&s_app, "127.0.0.1:0", &s_server, &why), 0, "%s", why);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    char twhy[512];
    cmek_target_init(&s_target);
    cr_assert_eq(cmek_target_load(&s_target, "emulator", CMEK_FIXTURES_DIR, s_no_env, NULL, twhy,
                                  sizeof twhy),
                 CMEK_OK, "%s", twhy);
    cr_assert_eq(cmek_target_set_emulator_url(&s_target, emu_server_base_url(s_server)), CMEK_OK);
    s_target.max_attempts = 1; /* a failure here is a bug, not something to retry */
    s_admin = s_client_as(NULL);
}

static void s_fini(void)
{
    cmek_client_destroy(s_admin);
    cmek_target_clean_up(&s_target);
    emu_server_stop(s_server);
    emu_store_destroy(s_app.store);
    curl_global_cleanup();
    cmek_test_fini();
}

TestSuite(client_emulator, .init = s_init, .fini = s_fini, .timeout = 120);

typedef int (*s_call_fn)(struct cmek_client *, const json_t *, json_t **, struct cmek_api_error *);

/* Calls fn with input (stolen; asserted non-NULL so json_pack can be passed directly) and
 * expects success; returns the output (a new reference). */
static json_t *s_ok(const char *label, struct cmek_client *c, s_call_fn fn, json_t *input)
{
    cr_assert_not_null(input, "%s: bad json_pack", label);
    json_t *out = NULL;
    struct cmek_api_error err;
    int rc = fn(c, input, &out, &err);
    cr_assert_eq(rc, CMEK_OK, "%s: %s (%s, HTTP %ld: %s)", label, cmek_error_str(rc), err.code,
                 err.http_status, err.message);
    cr_assert_not_null(out, "%s", label);
    cr_assert_eq(err.attempts, 1, "%s", label);
    json_decref(input);
    return out;
}

/* Calls fn with input (stolen) and expects the service's error: status, exact code, and a
 * message starting with message_start. */
static void s_fail(const char *label, struct cmek_client *c, s_call_fn fn, json_t *input,
                   long status, const char *code, const char *message_start)
{
    cr_assert_not_null(input, "%s: bad json_pack", label);
    json_t *out = NULL;
    struct cmek_api_error err;
    int rc = fn(c, input, &out, &err);
    cr_assert_eq(rc, CMEK_ERR_SERVICE, "%s: %s (%s)", label, cmek_error_str(rc), err.message);
    cr_assert_null(out, "%s", label);
    cr_assert_eq(err.failure, CMEK_FAILURE_SERVICE, "%s", label);
    cr_assert_eq(err.http_status, status, "%s: %ld %s %s", label, err.http_status, err.code,
                 err.message);
    cr_assert_str_eq(err.code, code, "%s: %s", label, err.message);
    cr_assert(strncmp(err.message, message_start, strlen(message_start)) == 0,
              "%s: message \"%s\" does not start with \"%s\"", label, err.message, message_start);
    json_decref(input);
}

#define OK(fn, input) s_ok(#fn, s_admin, fn, input)
#define DO(fn, input) json_decref(s_ok(#fn, s_admin, fn, input))
#define FAIL(fn, input, status, code, message_start)                                               \
    s_fail(#fn, s_admin, fn, input, status, code, message_start)

/* A string member of out along a path of member names, asserted present; borrowed. */
static const char *s_str(const json_t *out, const char *a, const char *b)
{
    const json_t *v = json_object_get(out, a);
    if (b != NULL) {
        v = json_object_get(v, b);
    }
    const char *s = json_string_value(v);
    cr_assert_not_null(s, "no string at %s.%s", a, b ? b : "");
    return s;
}

static char *s_dump(const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    cr_assert_not_null(text);
    return text;
}

static char *s_trust_policy(const char *external_id)
{
    json_t *doc =
        json_pack("{s:s,s:[{s:s,s:s,s:{s:s},s:s,s:{s:{s:s}}}]}", "Version", "2012-10-17",
                  "Statement", "Sid", "CockroachDBCloudCMEK", "Effect", "Allow", "Principal", "AWS",
                  "arn:aws:iam::" S_CRDB_ACCT ":root", "Action", "sts:AssumeRole", "Condition",
                  "StringEquals", "sts:ExternalId", external_id);
    char *text = s_dump(doc);
    json_decref(doc);
    return text;
}

/* fixtures/policies/crdb-cmek-kms.json with its placeholders filled. */
static char *s_key_policy(const char *role_arn)
{
    json_t *doc = json_pack(
        "{s:s,s:s,s:[{s:s,s:s,s:{s:s},s:s,s:s},{s:s,s:s,s:{s:s},s:[sssss],s:s}]}", "Version",
        "2012-10-17", "Id", "crdb-cmek-kms", "Statement", "Sid", "Enable IAM User Permissions",
        "Effect", "Allow", "Principal", "AWS", "arn:aws:iam::" S_ACCOUNT ":root", "Action", "kms:*",
        "Resource", "*", "Sid", "Allow use of the key for CMEK", "Effect", "Allow", "Principal",
        "AWS", role_arn, "Action", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*",
        "kms:DescribeKey", "kms:ReEncrypt*", "Resource", "*");
    char *text = s_dump(doc);
    json_decref(doc);
    return text;
}

static const char s_inline_policy[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"kms:Encrypt\","
    "\"Resource\":\"*\"}]}";

/* ---- IAM: all 21 calls ---- */

Test(client_emulator, iam_users_and_access_keys)
{
    json_t *out = OK(cmek_iam_create_user, json_pack("{s:s}", "UserName", "u1"));
    cr_assert_str_eq(s_str(out, "User", "UserName"), "u1");
    json_decref(out);
    FAIL(cmek_iam_create_user, json_pack("{s:s}", "UserName", "u1"), 409, "EntityAlreadyExists",
         "User with name u1 already exists.");

    out = OK(cmek_iam_get_user, json_pack("{s:s}", "UserName", "u1"));
    cr_assert_str_eq(s_str(out, "User", "Arn"), "arn:aws:iam::" S_ACCOUNT ":user/u1");
    json_decref(out);
    FAIL(cmek_iam_get_user, json_pack("{s:s}", "UserName", "nope"), 404, "NoSuchEntity",
         "The user with name nope cannot be found.");

    out = OK(cmek_iam_create_access_key, json_pack("{s:s}", "UserName", "u1"));
    char akid[64];
    snprintf(akid, sizeof akid, "%s", s_str(out, "AccessKey", "AccessKeyId"));
    cr_assert_str_eq(s_str(out, "AccessKey", "Status"), "Active");
    json_decref(out);
    FAIL(cmek_iam_create_access_key, json_pack("{s:s}", "UserName", "nope"), 404, "NoSuchEntity",
         "The user with name nope cannot be found.");

    out = OK(cmek_iam_list_access_keys, json_pack("{s:s}", "UserName", "u1"));
    const json_t *md = json_object_get(out, "AccessKeyMetadata");
    cr_assert_eq(json_array_size(md), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(md, 0), "AccessKeyId")),
                     akid);
    json_decref(out);
    FAIL(cmek_iam_list_access_keys, json_pack("{s:s}", "UserName", "nope"), 404, "NoSuchEntity",
         "The user with name nope cannot be found.");

    DO(cmek_iam_delete_access_key, json_pack("{s:s,s:s}", "UserName", "u1", "AccessKeyId", akid));
    char want[128];
    snprintf(want, sizeof want, "The Access Key with id %s cannot be found.", akid);
    FAIL(cmek_iam_delete_access_key, json_pack("{s:s,s:s}", "UserName", "u1", "AccessKeyId", akid),
         404, "NoSuchEntity", want);
}

Test(client_emulator, iam_roles_and_policies)
{
    char *trust = s_trust_policy(S_ORG_ID);
    json_t *out = OK(cmek_iam_create_role, json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "RoleName", "r1",
                                                     "AssumeRolePolicyDocument", trust, "Tags",
                                                     "Key", "team", "Value", "db ops"));
    cr_assert_str_eq(s_str(out, "Role", "Arn"), "arn:aws:iam::" S_ACCOUNT ":role/r1");
    json_decref(out);
    FAIL(cmek_iam_create_role,
         json_pack("{s:s,s:s}", "RoleName", "r1", "AssumeRolePolicyDocument", trust), 409,
         "EntityAlreadyExists", "Role with name r1 already exists.");

    out = OK(cmek_iam_get_role, json_pack("{s:s}", "RoleName", "r1"));
    cr_assert_str_eq(s_str(out, "Role", "RoleName"), "r1");
    const json_t *tags = json_object_get(json_object_get(out, "Role"), "Tags");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 0), "Value")),
                     "db ops");
    json_decref(out);
    FAIL(cmek_iam_get_role, json_pack("{s:s}", "RoleName", "nope"), 404, "NoSuchEntity",
         "The role with name nope cannot be found.");

    out = OK(cmek_iam_list_roles, json_pack("{}"));
    cr_assert_str_eq(s_str(out, "IsTruncated", NULL), "false");
    cr_assert_eq(json_array_size(json_object_get(out, "Roles")), 1);
    json_decref(out);
    FAIL(cmek_iam_list_roles, json_pack("{s:s}", "Marker", "bogus"), 400, "InvalidInput",
         "Invalid Marker.");

    DO(cmek_iam_update_role, json_pack("{s:s,s:s,s:i}", "RoleName", "r1", "Description", "d",
                                       "MaxSessionDuration", 7200));
    FAIL(cmek_iam_update_role, json_pack("{s:s,s:s}", "RoleName", "nope", "Description", "d"), 404,
         "NoSuchEntity", "The role with name nope cannot be found.");

    DO(cmek_iam_update_assume_role_policy,
       json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyDocument", trust));
    FAIL(cmek_iam_update_assume_role_policy,
         json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyDocument", "{"), 400,
         "MalformedPolicyDocument", "This policy contains invalid Json");

    DO(cmek_iam_tag_role,
       json_pack("{s:s,s:[{s:s,s:s}]}", "RoleName", "r1", "Tags", "Key", "env", "Value", "prod"));
    FAIL(cmek_iam_tag_role,
         json_pack("{s:s,s:[{s:s,s:s}]}", "RoleName", "nope", "Tags", "Key", "a", "Value", "b"),
         404, "NoSuchEntity", "The role with name nope cannot be found.");

    DO(cmek_iam_put_role_policy, json_pack("{s:s,s:s,s:s}", "RoleName", "r1", "PolicyName", "p",
                                           "PolicyDocument", s_inline_policy));
    FAIL(cmek_iam_put_role_policy,
         json_pack("{s:s,s:s,s:s}", "RoleName", "nope", "PolicyName", "p", "PolicyDocument",
                   s_inline_policy),
         404, "NoSuchEntity", "The role with name nope cannot be found.");

    out = OK(cmek_iam_get_role_policy, json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyName", "p"));
    cr_assert_str_eq(s_str(out, "PolicyName", NULL), "p");
    cr_assert_str_eq(s_str(out, "RoleName", NULL), "r1");
    json_decref(out);
    FAIL(cmek_iam_get_role_policy, json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyName", "nope"),
         404, "NoSuchEntity", "The role policy with name nope cannot be found.");

    out = OK(cmek_iam_list_role_policies, json_pack("{s:s}", "RoleName", "r1"));
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(out, "PolicyNames"), 0)),
                     "p");
    json_decref(out);
    FAIL(cmek_iam_list_role_policies, json_pack("{s:s}", "RoleName", "nope"), 404, "NoSuchEntity",
         "The role with name nope cannot be found.");

    out = OK(cmek_iam_create_policy,
             json_pack("{s:s,s:s}", "PolicyName", "mp", "PolicyDocument", s_inline_policy));
    const char *policy_arn = "arn:aws:iam::" S_ACCOUNT ":policy/mp";
    cr_assert_str_eq(s_str(out, "Policy", "Arn"), policy_arn);
    json_decref(out);
    FAIL(cmek_iam_create_policy,
         json_pack("{s:s,s:s}", "PolicyName", "mp", "PolicyDocument", s_inline_policy), 409,
         "EntityAlreadyExists", "A policy called mp already exists.");

    out = OK(cmek_iam_get_policy, json_pack("{s:s}", "PolicyArn", policy_arn));
    cr_assert_str_eq(s_str(out, "Policy", "PolicyName"), "mp");
    json_decref(out);
    FAIL(cmek_iam_get_policy,
         json_pack("{s:s}", "PolicyArn", "arn:aws:iam::" S_ACCOUNT ":policy/nope"), 404,
         "NoSuchEntity", "Policy arn:aws:iam::" S_ACCOUNT ":policy/nope was not found.");

    DO(cmek_iam_attach_role_policy,
       json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyArn", policy_arn));
    FAIL(cmek_iam_attach_role_policy,
         json_pack("{s:s,s:s}", "RoleName", "nope", "PolicyArn", policy_arn), 404, "NoSuchEntity",
         "The role with name nope cannot be found.");

    out = OK(cmek_iam_list_attached_role_policies, json_pack("{s:s}", "RoleName", "r1"));
    const json_t *attached = json_object_get(out, "AttachedPolicies");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(attached, 0), "PolicyArn")),
                     policy_arn);
    json_decref(out);
    FAIL(cmek_iam_list_attached_role_policies, json_pack("{s:s}", "RoleName", "nope"), 404,
         "NoSuchEntity", "The role with name nope cannot be found.");

    FAIL(cmek_iam_delete_role, json_pack("{s:s}", "RoleName", "r1"), 409, "DeleteConflict",
         "Cannot delete entity, must delete policies first.");
    DO(cmek_iam_delete_role_policy, json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyName", "p"));
    FAIL(cmek_iam_delete_role_policy, json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyName", "p"),
         404, "NoSuchEntity", "The role policy with name p cannot be found.");
    DO(cmek_iam_detach_role_policy,
       json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyArn", policy_arn));
    FAIL(cmek_iam_detach_role_policy,
         json_pack("{s:s,s:s}", "RoleName", "r1", "PolicyArn", policy_arn), 404, "NoSuchEntity",
         "Policy arn:aws:iam::" S_ACCOUNT ":policy/mp was not found.");
    DO(cmek_iam_delete_role, json_pack("{s:s}", "RoleName", "r1"));
    FAIL(cmek_iam_delete_role, json_pack("{s:s}", "RoleName", "r1"), 404, "NoSuchEntity",
         "The role with name r1 cannot be found.");
    free(trust);
}

/* ---- STS and the CMEK flow ---- */

Test(client_emulator, sts_get_caller_identity)
{
    json_t *out = OK(cmek_sts_get_caller_identity, json_pack("{}"));
    cr_assert_str_eq(s_str(out, "Account", NULL), S_ACCOUNT);
    cr_assert_str_eq(s_str(out, "Arn", NULL), "arn:aws:iam::" S_ACCOUNT ":user/admin");
    json_decref(out);

    struct cmek_aws_credentials bad = {(char *)"AKIAIOSFODNN7EXAMPLE", (char *)"wrong-secret",
                                       NULL};
    struct cmek_client *c = s_client_as(&bad);
    s_fail("get_caller_identity with a wrong secret", c, cmek_sts_get_caller_identity,
           json_pack("{}"), 403, "SignatureDoesNotMatch",
           "The request signature we calculated does not match the signature you provided.");
    cmek_client_destroy(c);
}

Test(client_emulator, cmek_flow_as_cockroach_cloud)
{
    /* The customer: a role CockroachDB Cloud may assume with the org id as ExternalId, and a
     * key whose policy lets that role use it. */
    char *trust = s_trust_policy(S_ORG_ID);
    json_t *out = OK(cmek_iam_create_role, json_pack("{s:s,s:s}", "RoleName", "crdb-cmek",
                                                     "AssumeRolePolicyDocument", trust));
    char role_arn[256];
    snprintf(role_arn, sizeof role_arn, "%s", s_str(out, "Role", "Arn"));
    json_decref(out);
    free(trust);
    char *policy = s_key_policy(role_arn);
    out = OK(cmek_kms_create_key,
             json_pack("{s:s,s:s}", "Description", "crdb cmek", "Policy", policy));
    char key_id[64];
    snprintf(key_id, sizeof key_id, "%s", s_str(out, "KeyMetadata", "KeyId"));
    json_decref(out);
    free(policy);

    /* CockroachDB Cloud's principal assumes it: without the ExternalId it is denied. */
    struct cmek_aws_credentials crdb = {(char *)"AKIAI44QH8DHBEXAMPLE",
                                        (char *)"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", NULL};
    struct cmek_client *cloud = s_client_as(&crdb);
    char denied[512];
    snprintf(denied, sizeof denied,
             "User: arn:aws:iam::" S_CRDB_ACCT ":user/cockroach-cloud-cmek is not authorized to "
             "perform: sts:AssumeRole on resource: %s",
             role_arn);
    s_fail("assume_role without ExternalId", cloud, cmek_sts_assume_role,
           json_pack("{s:s,s:s}", "RoleArn", role_arn, "RoleSessionName", "crdb"), 403,
           "AccessDenied", denied);
    out = s_ok("assume_role", cloud, cmek_sts_assume_role,
               json_pack("{s:s,s:s,s:s,s:i}", "RoleArn", role_arn, "RoleSessionName", "crdb",
                         "ExternalId", S_ORG_ID, "DurationSeconds", 900));
    cr_assert(strncmp(s_str(out, "AssumedRoleUser", "Arn"),
                      "arn:aws:sts::" S_ACCOUNT ":assumed-role/crdb-cmek/crdb", 50) == 0);
    struct cmek_aws_credentials session = {0};
    cr_assert_eq(cmek_sts_session_credentials(out, &session), CMEK_OK);
    json_decref(out);
    cmek_client_destroy(cloud);

    /* As the session: the key works for encryption, but not for administration. */
    struct cmek_client *as_role = s_client_as(&session);
    out = s_ok("session whoami", as_role, cmek_sts_get_caller_identity, json_pack("{}"));
    cr_assert_str_eq(s_str(out, "Arn", NULL),
                     "arn:aws:sts::" S_ACCOUNT ":assumed-role/crdb-cmek/crdb");
    json_decref(out);
    out = s_ok("session encrypt", as_role, cmek_kms_encrypt,
               json_pack("{s:s,s:s,s:{s:s}}", "KeyId", key_id, "Plaintext",
                         "ZGF0YSBrZXk=", "EncryptionContext", "cluster", S_CLUSTER_ID));
    char *blob = strdup(s_str(out, "CiphertextBlob", NULL));
    json_decref(out);
    out = s_ok("session decrypt", as_role, cmek_kms_decrypt,
               json_pack("{s:s,s:{s:s}}", "CiphertextBlob", blob, "EncryptionContext", "cluster",
                         S_CLUSTER_ID));
    cr_assert_str_eq(s_str(out, "Plaintext", NULL), "ZGF0YSBrZXk=");
    json_decref(out);
    free(blob);
    s_fail("session disable_key", as_role, cmek_kms_disable_key,
           json_pack("{s:s}", "KeyId", key_id), 400, "AccessDeniedException",
           "User: arn:aws:sts::" S_ACCOUNT ":assumed-role/crdb-cmek/crdb is not authorized to "
           "perform: kms:DisableKey on resource: arn:aws:kms:us-east-1:" S_ACCOUNT ":key/");
    cmek_client_destroy(as_role);
    cmek_aws_credentials_clean_up(&session);
}

/* ---- KMS: all 32 calls ---- */

static char *s_new_key(json_t *input)
{
    json_t *out = OK(cmek_kms_create_key, input);
    char *id = strdup(s_str(out, "KeyMetadata", "KeyId"));
    json_decref(out);
    return id;
}

#define S_NOT_FOUND_MESSAGE       "Key '" S_MISSING_ARN "' does not exist"
#define S_FAIL_MISSING(fn, input) FAIL(fn, input, 400, "NotFoundException", S_NOT_FOUND_MESSAGE)

Test(client_emulator, kms_keys_and_crypto)
{
    char *k1 = s_new_key(json_pack("{s:s,s:[{s:s,s:s}]}", "Description", "k1", "Tags", "TagKey",
                                   "team", "TagValue", "db"));
    char *k2 = s_new_key(json_pack("{}"));
    FAIL(cmek_kms_create_key, json_pack("{s:s}", "KeyUsage", "BOGUS"), 400, "ValidationException",
         "1 validation error detected: Value 'BOGUS' at 'keyUsage'");

    json_t *out = OK(cmek_kms_describe_key, json_pack("{s:s}", "KeyId", k1));
    cr_assert_str_eq(s_str(out, "KeyMetadata", "Description"), "k1");
    cr_assert_str_eq(s_str(out, "KeyMetadata", "KeyState"), "Enabled");
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_describe_key, json_pack("{s:s}", "KeyId", S_MISSING_KEY));

    out = OK(cmek_kms_list_keys, json_pack("{}"));
    cr_assert_eq(json_array_size(json_object_get(out, "Keys")), 2);
    json_decref(out);
    FAIL(cmek_kms_list_keys, json_pack("{s:i}", "Limit", 0), 400, "ValidationException",
         "1 validation error detected: Value '0' at 'limit'");

    out = OK(cmek_kms_encrypt, json_pack("{s:s,s:s}", "KeyId", k1, "Plaintext", "aGVsbG8="));
    char *blob = strdup(s_str(out, "CiphertextBlob", NULL));
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_encrypt,
                   json_pack("{s:s,s:s}", "KeyId", S_MISSING_KEY, "Plaintext", "aGVsbG8="));

    out = OK(cmek_kms_decrypt, json_pack("{s:s}", "CiphertextBlob", blob));
    cr_assert_str_eq(s_str(out, "Plaintext", NULL), "aGVsbG8=");
    json_decref(out);
    /* KMS sends InvalidCiphertextException with no message at all. */
    json_t *bad_blob = json_pack("{s:s}", "CiphertextBlob", "AAAAAAAAAAAAAAAAAAAAAAAA");
    struct cmek_api_error err;
    cr_assert_eq(cmek_kms_decrypt(s_admin, bad_blob, &out, &err), CMEK_ERR_SERVICE);
    cr_assert_eq(err.http_status, 400);
    cr_assert_str_eq(err.code, "InvalidCiphertextException");
    cr_assert_str_eq(err.message, "");
    cr_assert_neq(err.request_id[0], '\0');
    json_decref(bad_blob);

    out = OK(cmek_kms_re_encrypt,
             json_pack("{s:s,s:s}", "CiphertextBlob", blob, "DestinationKeyId", k2));
    cr_assert(strstr(s_str(out, "KeyId", NULL), k2) != NULL);
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_re_encrypt, json_pack("{s:s,s:s}", "CiphertextBlob", blob,
                                                  "DestinationKeyId", S_MISSING_KEY));
    free(blob);

    out = OK(cmek_kms_generate_data_key, json_pack("{s:s,s:s}", "KeyId", k1, "KeySpec", "AES_256"));
    cr_assert_eq(strlen(s_str(out, "Plaintext", NULL)), 44);
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_generate_data_key,
                   json_pack("{s:s,s:s}", "KeyId", S_MISSING_KEY, "KeySpec", "AES_256"));

    out = OK(cmek_kms_generate_data_key_without_plaintext,
             json_pack("{s:s,s:i}", "KeyId", k1, "NumberOfBytes", 32));
    cr_assert_null(json_object_get(out, "Plaintext"));
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_generate_data_key_without_plaintext,
                   json_pack("{s:s,s:i}", "KeyId", S_MISSING_KEY, "NumberOfBytes", 32));

    out = OK(cmek_kms_generate_random, json_pack("{s:i}", "NumberOfBytes", 16));
    cr_assert_eq(strlen(s_str(out, "Plaintext", NULL)), 24);
    json_decref(out);
    FAIL(cmek_kms_generate_random, json_pack("{s:i}", "NumberOfBytes", 0), 400,
         "ValidationException", "1 validation error detected: Value '0' at 'numberOfBytes'");

    DO(cmek_kms_disable_key, json_pack("{s:s}", "KeyId", k2));
    S_FAIL_MISSING(cmek_kms_disable_key, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    DO(cmek_kms_enable_key, json_pack("{s:s}", "KeyId", k2));
    S_FAIL_MISSING(cmek_kms_enable_key, json_pack("{s:s}", "KeyId", S_MISSING_KEY));

    out = OK(cmek_kms_schedule_key_deletion,
             json_pack("{s:s,s:i}", "KeyId", k2, "PendingWindowInDays", 7));
    cr_assert_str_eq(s_str(out, "KeyState", NULL), "PendingDeletion");
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_schedule_key_deletion, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    DO(cmek_kms_cancel_key_deletion, json_pack("{s:s}", "KeyId", k2));
    S_FAIL_MISSING(cmek_kms_cancel_key_deletion, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    free(k1);
    free(k2);
}

Test(client_emulator, kms_aliases_tags_policies_and_rotation)
{
    char *k1 = s_new_key(json_pack("{}"));
    char *k2 = s_new_key(json_pack("{}"));

    DO(cmek_kms_create_alias, json_pack("{s:s,s:s}", "AliasName", "alias/crdb", "TargetKeyId", k1));
    FAIL(cmek_kms_create_alias,
         json_pack("{s:s,s:s}", "AliasName", "alias/crdb", "TargetKeyId", k1), 400,
         "AlreadyExistsException",
         "An alias with the name arn:aws:kms:us-east-1:" S_ACCOUNT ":alias/crdb already exists");
    json_t *out = OK(cmek_kms_list_aliases, json_pack("{s:s}", "KeyId", k1));
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(out, "Aliases"), 0), "AliasName")),
                     "alias/crdb");
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_list_aliases, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    DO(cmek_kms_update_alias, json_pack("{s:s,s:s}", "AliasName", "alias/crdb", "TargetKeyId", k2));
    FAIL(cmek_kms_update_alias,
         json_pack("{s:s,s:s}", "AliasName", "alias/nope", "TargetKeyId", k2), 400,
         "NotFoundException", "Alias arn:aws:kms:us-east-1:" S_ACCOUNT ":alias/nope is not found.");
    DO(cmek_kms_delete_alias, json_pack("{s:s}", "AliasName", "alias/crdb"));
    FAIL(cmek_kms_delete_alias, json_pack("{s:s}", "AliasName", "alias/crdb"), 400,
         "NotFoundException", "Alias arn:aws:kms:us-east-1:" S_ACCOUNT ":alias/crdb is not found.");

    DO(cmek_kms_tag_resource,
       json_pack("{s:s,s:[{s:s,s:s}]}", "KeyId", k1, "Tags", "TagKey", "a", "TagValue", "b"));
    S_FAIL_MISSING(cmek_kms_tag_resource, json_pack("{s:s,s:[{s:s,s:s}]}", "KeyId", S_MISSING_KEY,
                                                    "Tags", "TagKey", "a", "TagValue", "b"));
    out = OK(cmek_kms_list_resource_tags, json_pack("{s:s}", "KeyId", k1));
    cr_assert_eq(json_array_size(json_object_get(out, "Tags")), 1);
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_list_resource_tags, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    DO(cmek_kms_untag_resource, json_pack("{s:s,s:[s]}", "KeyId", k1, "TagKeys", "a"));
    S_FAIL_MISSING(cmek_kms_untag_resource,
                   json_pack("{s:s,s:[s]}", "KeyId", S_MISSING_KEY, "TagKeys", "a"));

    out = OK(cmek_kms_get_key_policy, json_pack("{s:s,s:s}", "KeyId", k1, "PolicyName", "default"));
    char *policy = strdup(s_str(out, "Policy", NULL));
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_get_key_policy,
                   json_pack("{s:s,s:s}", "KeyId", S_MISSING_KEY, "PolicyName", "default"));
    DO(cmek_kms_put_key_policy,
       json_pack("{s:s,s:s,s:s}", "KeyId", k1, "PolicyName", "default", "Policy", policy));
    char *ghost = s_key_policy("arn:aws:iam::" S_ACCOUNT ":role/does-not-exist");
    FAIL(cmek_kms_put_key_policy,
         json_pack("{s:s,s:s,s:s}", "KeyId", k1, "PolicyName", "default", "Policy", ghost), 400,
         "MalformedPolicyDocumentException",
         "Policy contains a statement with one or more invalid principals.");
    free(ghost);
    free(policy);
    out = OK(cmek_kms_list_key_policies, json_pack("{s:s}", "KeyId", k1));
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(out, "PolicyNames"), 0)),
                     "default");
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_list_key_policies, json_pack("{s:s}", "KeyId", S_MISSING_KEY));

    DO(cmek_kms_enable_key_rotation, json_pack("{s:s}", "KeyId", k1));
    S_FAIL_MISSING(cmek_kms_enable_key_rotation, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    out = OK(cmek_kms_get_key_rotation_status, json_pack("{s:s}", "KeyId", k1));
    cr_assert(json_is_true(json_object_get(out, "KeyRotationEnabled")));
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_get_key_rotation_status, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    DO(cmek_kms_rotate_key_on_demand, json_pack("{s:s}", "KeyId", k1));
    S_FAIL_MISSING(cmek_kms_rotate_key_on_demand, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    out = OK(cmek_kms_list_key_rotations, json_pack("{s:s}", "KeyId", k1));
    cr_assert_eq(json_array_size(json_object_get(out, "Rotations")), 1);
    json_decref(out);
    S_FAIL_MISSING(cmek_kms_list_key_rotations, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    DO(cmek_kms_disable_key_rotation, json_pack("{s:s}", "KeyId", k1));
    S_FAIL_MISSING(cmek_kms_disable_key_rotation, json_pack("{s:s}", "KeyId", S_MISSING_KEY));
    free(k1);
    free(k2);
}

/* RSAES-OAEP-SHA-256 wraps material under the base64 DER public key, as a customer's
 * openssl pkeyutl step does; returns the base64 of the wrapped bytes (malloc'd). */
static char *s_wrap(const char *public_key_b64, const unsigned char *material, size_t len)
{
    struct cmek_buf der;
    struct cmek_buf b64;
    cmek_buf_init(&der, 1 << 16);
    cmek_buf_init(&b64, 1 << 16);
    cr_assert_eq(cmek_base64_decode(public_key_b64, strlen(public_key_b64), &der), CMEK_OK);
    const unsigned char *p = (const unsigned char *)der.data;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)der.len);
    cr_assert_not_null(pkey);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
    cr_assert_not_null(ctx);
    cr_assert_eq(EVP_PKEY_encrypt_init(ctx), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()), 1);
    cr_assert_eq(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()), 1);
    unsigned char out[1024];
    size_t out_len = sizeof out;
    cr_assert_eq(EVP_PKEY_encrypt(ctx, out, &out_len, material, len), 1);
    cr_assert_eq(cmek_base64_encode(out, out_len, &b64), CMEK_OK);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    cmek_buf_clean_up(&der);
    return cmek_buf_steal(&b64);
}

Test(client_emulator, kms_import_and_replication)
{
    char *aws_key = s_new_key(json_pack("{}"));
    char *ext = s_new_key(json_pack("{s:s}", "Origin", "EXTERNAL"));
    char origin_aws[256];
    snprintf(origin_aws, sizeof origin_aws,
             "arn:aws:kms:us-east-1:" S_ACCOUNT ":key/%s origin is AWS_KMS which is not valid for "
             "this operation.",
             aws_key);

    json_t *params = OK(cmek_kms_get_parameters_for_import,
                        json_pack("{s:s,s:s,s:s}", "KeyId", ext, "WrappingAlgorithm",
                                  "RSAES_OAEP_SHA_256", "WrappingKeySpec", "RSA_2048"));
    FAIL(cmek_kms_get_parameters_for_import,
         json_pack("{s:s,s:s,s:s}", "KeyId", aws_key, "WrappingAlgorithm", "RSAES_OAEP_SHA_256",
                   "WrappingKeySpec", "RSA_2048"),
         400, "UnsupportedOperationException", origin_aws);

    unsigned char material[32];
    memset(material, 0x5a, sizeof material);
    char *wrapped = s_wrap(s_str(params, "PublicKey", NULL), material, sizeof material);
    DO(cmek_kms_import_key_material,
       json_pack("{s:s,s:s,s:s,s:s}", "KeyId", ext, "ImportToken",
                 s_str(params, "ImportToken", NULL), "EncryptedKeyMaterial", wrapped,
                 "ExpirationModel", "KEY_MATERIAL_DOES_NOT_EXPIRE"));
    FAIL(cmek_kms_import_key_material,
         json_pack("{s:s,s:s,s:s,s:s}", "KeyId", ext, "ImportToken", "AAAA", "EncryptedKeyMaterial",
                   wrapped, "ExpirationModel", "KEY_MATERIAL_DOES_NOT_EXPIRE"),
         400, "InvalidImportTokenException",
         "The request was rejected because the provided import token is invalid or is associated "
         "with a different KMS key.");
    free(wrapped);
    json_decref(params);

    json_t *out = OK(cmek_kms_describe_key, json_pack("{s:s}", "KeyId", ext));
    cr_assert_str_eq(s_str(out, "KeyMetadata", "KeyState"), "Enabled");
    json_decref(out);
    DO(cmek_kms_delete_imported_key_material, json_pack("{s:s}", "KeyId", ext));
    FAIL(cmek_kms_delete_imported_key_material, json_pack("{s:s}", "KeyId", aws_key), 400,
         "UnsupportedOperationException", origin_aws);

    char *mrk = s_new_key(json_pack("{s:b}", "MultiRegion", 1));
    out = OK(cmek_kms_replicate_key,
             json_pack("{s:s,s:s}", "KeyId", mrk, "ReplicaRegion", "eu-west-1"));
    cr_assert(strncmp(s_str(out, "ReplicaKeyMetadata", "Arn"), "arn:aws:kms:eu-west-1:", 22) == 0);
    json_decref(out);
    char single[256];
    snprintf(single, sizeof single,
             "arn:aws:kms:us-east-1:" S_ACCOUNT ":key/%s is not a multi-region primary key.",
             aws_key);
    FAIL(cmek_kms_replicate_key,
         json_pack("{s:s,s:s}", "KeyId", aws_key, "ReplicaRegion", "eu-west-1"), 400,
         "UnsupportedOperationException", single);
    free(mrk);
    free(aws_key);
    free(ext);
}

/* ---- the emulator's own endpoints ---- */

Test(client_emulator, admin_endpoints)
{
    json_t *out = OK(cmek_emulator_health, json_pack("{}"));
    cr_assert_str_eq(s_str(out, "status", NULL), "ok");
    json_decref(out);

    out = OK(cmek_emulator_get_clock, json_pack("{}"));
    cr_assert_eq(json_integer_value(json_object_get(out, "offset_seconds")), 0);
    json_decref(out);
    out = OK(cmek_emulator_set_clock, json_pack("{s:s}", "advance", "90m"));
    cr_assert_eq(json_integer_value(json_object_get(out, "offset_seconds")), 5400);
    json_decref(out);
    FAIL(cmek_emulator_set_clock, json_pack("{s:s}", "advance", "soon"), 400, "InvalidClockRequest",
         "\"advance\" must be a whole number and one unit of s, m, h or d");

    DO(cmek_iam_create_user, json_pack("{s:s}", "UserName", "gone-after-reset"));
    out = OK(cmek_emulator_state, json_pack("{}"));
    cr_assert(json_is_object(out));
    json_decref(out);
    DO(cmek_emulator_reset, json_pack("{}"));
    out = OK(cmek_emulator_get_clock, json_pack("{}"));
    cr_assert_eq(json_integer_value(json_object_get(out, "offset_seconds")), 0);
    json_decref(out);
    FAIL(cmek_iam_get_user, json_pack("{s:s}", "UserName", "gone-after-reset"), 404, "NoSuchEntity",
         "The user with name gone-after-reset cannot be found.");

    FAIL(cmek_emulator_read_row, json_pack("{s:s,s:s}", "cluster_id", S_CLUSTER_ID, "key", "k"),
         404, "5", "row 'k' not found in cluster '" S_CLUSTER_ID "'");
    out = OK(cmek_emulator_write_row,
             json_pack("{s:s,s:s,s:s}", "cluster_id", S_CLUSTER_ID, "key", "k", "value", "v1"));
    json_decref(out);
    out =
        OK(cmek_emulator_read_row, json_pack("{s:s,s:s}", "cluster_id", S_CLUSTER_ID, "key", "k"));
    cr_assert_str_eq(s_str(out, "value", NULL), "v1");
    json_decref(out);
    DO(cmek_emulator_restart_cluster, json_pack("{s:s}", "cluster_id", S_CLUSTER_ID));
    FAIL(cmek_emulator_restore_cluster, json_pack("{s:s}", "cluster_id", S_CLUSTER_ID), 400, "9",
         "failed precondition: cannot restore cluster '" S_CLUSTER_ID "': cluster '" S_CLUSTER_ID
         "' is not revoked (CMEK status DISABLED): nothing to restore");
    FAIL(cmek_emulator_restart_cluster, json_pack("{s:s}", "cluster_id", "no-such-cluster"), 404,
         "5", "internal call failed: cluster 'no-such-cluster' not found");
}

/* ---- the CockroachDB Cloud API: each call the emulator serves, success and error ---- */

Test(client_emulator, ccloud_calls)
{
    json_t *out = OK(cmek_ccloud_get_organization, json_pack("{}"));
    cr_assert_str_eq(s_str(out, "id", NULL), "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61");
    json_decref(out);
    out = OK(cmek_ccloud_list_clusters, json_pack("{s:s}", "pagination.limit", "10"));
    cr_assert_eq(json_array_size(json_object_get(out, "clusters")), 1);
    json_decref(out);
    out = OK(cmek_ccloud_get_cluster, json_pack("{s:s}", "cluster_id", S_CLUSTER_ID));
    cr_assert_str_eq(s_str(out, "account_id", NULL), "999988887777");
    json_decref(out);
    FAIL(cmek_ccloud_get_cluster, json_pack("{s:s}", "cluster_id", "no-such-cluster"), 404, "5",
         "internal call failed: cluster 'no-such-cluster' not found");
    FAIL(cmek_ccloud_create_cluster, json_pack("{s:s}", "name", "x"), 400, "3",
         "invalid argument: ");
    FAIL(
        cmek_ccloud_update_cluster,
        json_pack("{s:s,s:{s:i}}", "cluster_id", "no-such-cluster", "dedicated", "storage_gib", 35),
        404, "5", "internal call failed: cluster 'no-such-cluster' not found");
    FAIL(cmek_ccloud_delete_cluster, json_pack("{s:s}", "cluster_id", "no-such-cluster"), 404, "5",
         "internal call failed: cluster 'no-such-cluster' not found");
    FAIL(cmek_ccloud_get_cmek, json_pack("{s:s}", "cluster_id", S_CLUSTER_ID), 404, "5",
         "internal call failed: CMEK is not enabled for cluster '" S_CLUSTER_ID "'");
    FAIL(cmek_ccloud_enable_cmek,
         json_pack("{s:s,s:[]}", "cluster_id", S_CLUSTER_ID, "region_specs"), 400, "3",
         "invalid argument: a region_spec is required for each region of the cluster; missing "
         "'us-east-1'");
    FAIL(cmek_ccloud_update_cmek_spec,
         json_pack("{s:s,s:[]}", "cluster_id", S_CLUSTER_ID, "region_specs"), 400, "9",
         "failed precondition: CMEK is not enabled for cluster '" S_CLUSTER_ID "'");
    FAIL(cmek_ccloud_update_cmek_status,
         json_pack("{s:s,s:s}", "cluster_id", S_CLUSTER_ID, "action", "REVOKE"), 400, "9",
         "failed precondition: CMEK is not enabled for cluster '" S_CLUSTER_ID "'");
    /* The whole enable, through the client: role, key, POST, poll until ENABLED. */
    DO(cmek_iam_create_role,
       json_pack("{s:s,s:s}", "RoleName", "crdb-cmek", "AssumeRolePolicyDocument",
                 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                 "\"Principal\":{\"AWS\":\"arn:aws:iam::999988887777:root\"},\"Action\":"
                 "\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":"
                 "\"9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61\"}}}]}"));
    out = OK(cmek_kms_create_key,
             json_pack("{s:s}", "Policy",
                       "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                       "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":"
                       "\"kms:*\",\"Resource\":\"*\"},{\"Effect\":\"Allow\",\"Principal\":{"
                       "\"AWS\":\"arn:aws:iam::111122223333:role/crdb-cmek\"},\"Action\":["
                       "\"kms:Encrypt\",\"kms:Decrypt\",\"kms:GenerateDataKey*\",\"kms:"
                       "DescribeKey\",\"kms:ReEncrypt*\"],\"Resource\":\"*\"}]}"));
    char key_arn[256];
    snprintf(key_arn, sizeof(key_arn), "%s", s_str(out, "KeyMetadata", "Arn"));
    json_decref(out);
    out = OK(cmek_ccloud_enable_cmek,
             json_pack("{s:s,s:[{s:s,s:{s:s,s:s,s:s}}]}", "cluster_id", S_CLUSTER_ID,
                       "region_specs", "region", "us-east-1", "key_spec", "type", "AWS_KMS", "uri",
                       key_arn, "auth_principal", "arn:aws:iam::111122223333:role/crdb-cmek"));
    cr_assert_str_eq(s_str(out, "status", NULL), "ENABLING");
    json_decref(out);
    out = OK(cmek_ccloud_get_cmek, json_pack("{s:s}", "cluster_id", S_CLUSTER_ID));
    cr_assert_str_eq(s_str(out, "status", NULL), "ENABLED");
    json_decref(out);
    out = OK(cmek_ccloud_update_cmek_spec,
             json_pack("{s:s,s:[{s:s,s:{s:s,s:s,s:s}}]}", "cluster_id", S_CLUSTER_ID,
                       "region_specs", "region", "us-east-1", "key_spec", "type", "AWS_KMS", "uri",
                       key_arn, "auth_principal", "arn:aws:iam::111122223333:role/crdb-cmek"));
    cr_assert_str_eq(s_str(out, "status", NULL), "ROTATING");
    json_decref(out);
    out = OK(cmek_ccloud_update_cmek_status,
             json_pack("{s:s,s:s}", "cluster_id", S_CLUSTER_ID, "action", "REVOKE"));
    cr_assert_str_eq(s_str(out, "status", NULL), "REVOKING");
    json_decref(out);
}

/* ---- Vault: its errors parsed (the target's namespace is admin) ---- */

/* A Vault call that fails with status and exactly message. */
static void s_vault_fails(s_call_fn fn, json_t *in, long status, const char *message)
{
    json_t *out = NULL;
    struct cmek_api_error err;
    cr_assert_eq(fn(s_admin, in, &out, &err), CMEK_ERR_SERVICE);
    cr_assert_eq(err.http_status, status, "%s", err.message);
    cr_assert_eq(err.ccloud_code, 0);
    cr_assert_str_eq(err.code, "");
    cr_assert_str_eq(err.message, message);
    cr_assert_null(out);
    json_decref(in);
}

Test(client_emulator, vault_not_found_is_parsed)
{
    /* No engine mounted yet: Vault's routing error. */
    s_vault_fails(cmek_vault_read_key, json_pack("{s:s}", "name", "crdb"), 404,
                  "no handler for route \"keymgmt/key/crdb\". route entry not found.");
    DO(cmek_vault_enable_secrets_engine,
       json_pack("{s:s,s:s}", "path", "keymgmt", "type", "keymgmt"));
    /* A missing key and an empty list: 404 with {"errors":[]}. */
    s_vault_fails(cmek_vault_read_key, json_pack("{s:s}", "name", "crdb"), 404, "");
    s_vault_fails(cmek_vault_list_keys, json_pack("{}"), 404, "");
    s_vault_fails(cmek_vault_enable_secrets_engine,
                  json_pack("{s:s,s:s}", "path", "keymgmt", "type", "keymgmt"), 400,
                  "path is already in use at keymgmt/");
    DO(cmek_vault_create_key, json_pack("{s:s,s:s}", "name", "crdb", "type", "aes256-gcm96"));
    json_t *out = OK(cmek_vault_read_key, json_pack("{s:s}", "name", "crdb"));
    cr_assert_str_eq(s_str(out, "data", "type"), "aes256-gcm96");
    json_decref(out);
}
