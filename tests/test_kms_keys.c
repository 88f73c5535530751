/* test_kms_keys.c: the key lifecycle of the emulated KMS (emulator/kms_keys.c): CreateKey
 * and DescribeKey shapes, ListKeys paging, Enable/DisableKey, Schedule/CancelKeyDeletion and
 * the deletion window, key policies (default text, lockout check, invalid principals,
 * quota), tags and descriptions, each with AWS's exact error types and texts; and the
 * CockroachDB CMEK key policy: what a session of the customer's CMEK role may and may not do,
 * and what another account sees.
 *
 * Each test gets a fresh emulator built from fixtures/world.json (wall clock
 * 2026-11-23T12:00:00Z): 111122223333 holds user admin (AdministratorAccess); 999988887777
 * holds cockroach-cloud-cmek, whose only policy allows sts:AssumeRole. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kms_model.h"
#include "store.h"
#include "test_common.h"

#define S_BODY_MAX    (200u * 1024u)
#define S_NOW         1795435200 /* 2026-11-23T12:00:00Z */
#define S_ACCOUNT     "111122223333"
#define S_CRDB        "999988887777"
#define S_ARN_PREFIX  "arn:aws:kms:us-east-1:" S_ACCOUNT ":key/"
#define S_EXTERNAL_ID "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"
#define S_ROLE_ARN    "arn:aws:iam::" S_ACCOUNT ":role/crdb-cmek-role"

#define S_DEFAULT_POLICY                                                                           \
    "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n"   \
    "    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n"                \
    "    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::111122223333:root\"\n    },\n"          \
    "    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}"

/* Key-policy statements, as JSON text (to be embedded as a string value: escaped below). */
#define S_STMT_ROOT(account)                                                                       \
    "{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"        \
    "\"arn:aws:iam::" account ":root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}"
#define S_STMT_CRDB                                                                                \
    "{\"Sid\":\"crdb-cmek-kms\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" S_ROLE_ARN         \
    "\"},\"Action\":[\"kms:Encrypt\",\"kms:Decrypt\",\"kms:GenerateDataKey*\","                    \
    "\"kms:DescribeKey\",\"kms:ReEncrypt*\"],\"Resource\":\"*\"}"
#define S_STMT_CRDB_ACCOUNT                                                                        \
    "{\"Sid\":\"Allow CockroachDB Cloud\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"            \
    "\"arn:aws:iam::999988887777:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}"
#define S_POLICY(stmts) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"

#define S_TRUST_CRDB                                                                               \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"arn:aws:iam::999988887777:root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{"            \
    "\"StringEquals\":{\"sts:ExternalId\":\"" S_EXTERNAL_ID "\"}}}]}"
#define S_TRUST_ACCOUNT                                                                            \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\"}]}"

#define S_INVALID_MARKER                                                                           \
    "The request was rejected because the marker that specifies where pagination should next "     \
    "begin is not valid."

/* One emulator per test; Criterion runs each test in its own process. */
static struct th_ctx s_t;
static json_t *s_last; /* the last response, parsed */
static struct th_creds s_admin;

static void s_setup(void)
{
    th_init(&s_t);
    th_creds_admin(&s_admin);
    s_last = NULL;
}

static void s_teardown(void)
{
    json_decref(s_last);
    s_last = NULL;
    th_clean_up(&s_t);
    cmek_test_fini();
}

TestSuite(kms_keys, .init = s_setup, .fini = s_teardown);

/* ---- Helpers ---- */

static void s_parse_last(void)
{
    json_decref(s_last);
    s_last = NULL;
    if (s_t.body.len > 0) {
        json_error_t err;
        s_last = json_loadb(s_t.body.data, s_t.body.len, JSON_REJECT_DUPLICATES, &err);
        cr_assert_not_null(s_last, "not JSON (%s): %s", err.text, cmek_buf_cstr(&s_t.body));
    }
}

/* A KMS request as c in us-east-1; the body is a printf format. Returns the status. */
__attribute__((format(printf, 3, 0))) static int s_vkms(const struct th_creds *c, const char *op,
                                                        const char *fmt, va_list ap)
{
    char *body = malloc(S_BODY_MAX);
    cr_assert_not_null(body);
    int n = vsnprintf(body, S_BODY_MAX, fmt, ap);
    cr_assert(n >= 0 && (size_t)n < S_BODY_MAX, "body too long");
    int status = th_kms(&s_t, c, op, body);
    free(body);
    s_parse_last();
    return status;
}

__attribute__((format(printf, 3, 4))) static int s_kms_as(const struct th_creds *c, const char *op,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = s_vkms(c, op, fmt, ap);
    va_end(ap);
    return status;
}

/* As the customer's admin. */
__attribute__((format(printf, 2, 3))) static int s_kms(const char *op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = s_vkms(&s_admin, op, fmt, ap);
    va_end(ap);
    return status;
}

/* A KMS request in another region. */
static int s_kms_region(const char *region, const char *op, const char *body)
{
    char target[96];
    snprintf(target, sizeof(target), "TrentService.%s", op);
    int status =
        th_signed(&s_t, "kms", region, &s_admin, "application/x-amz-json-1.1", target, body, 0);
    s_parse_last();
    return status;
}

static void s_expect_ok(void)
{
    cr_assert_eq(s_t.status, 200, "status %d, body: %s", s_t.status, cmek_buf_cstr(&s_t.body));
}

/* A success with an empty body, as AWS answers operations without output. */
static void s_expect_empty(void)
{
    s_expect_ok();
    cr_assert_eq(s_t.body.len, 0, "body: %s", cmek_buf_cstr(&s_t.body));
}

static void s_expect_error(const char *type, const char *message)
{
    th_expect_kms_error(&s_t, type, message);
}

static const json_t *s_get(const json_t *o, const char *path)
{
    /* "A.B.C": members of nested objects. */
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    const json_t *cur = o;
    char *save = buf;
    for (char *dot; cur != NULL && save != NULL; save = dot) {
        dot = strchr(save, '.');
        if (dot != NULL) {
            *dot++ = '\0';
        }
        cur = json_object_get(cur, save);
    }
    return cur;
}

static const char *s_str(const char *path)
{
    const json_t *v = s_get(s_last, path);
    cr_assert(json_is_string(v), "%s is not a string in %s", path, cmek_buf_cstr(&s_t.body));
    return json_string_value(v);
}

static long long s_int(const char *path)
{
    const json_t *v = s_get(s_last, path);
    cr_assert(json_is_integer(v), "%s is not an integer in %s", path, cmek_buf_cstr(&s_t.body));
    return json_integer_value(v);
}

static bool s_bool(const char *path)
{
    const json_t *v = s_get(s_last, path);
    cr_assert(json_is_boolean(v), "%s is not a boolean in %s", path, cmek_buf_cstr(&s_t.body));
    return json_is_true(v);
}

static bool s_absent(const char *path)
{
    return s_get(s_last, path) == NULL;
}

/* Escapes text as the inside of a JSON string. */
static const char *s_quote(const char *text, char *out, size_t cap)
{
    json_t *s = json_string(text);
    cr_assert_not_null(s);
    char *dumped = json_dumps(s, JSON_ENCODE_ANY);
    json_decref(s);
    cr_assert_not_null(dumped);
    size_t n = strlen(dumped);
    cr_assert(n >= 2 && n - 2 < cap, "text too long to quote");
    memcpy(out, dumped + 1, n - 2);
    out[n - 2] = '\0';
    free(dumped);
    return out;
}

/* Creates a key as admin with the request body json; its id into id (37 bytes) and its ARN
 * into arn (128 bytes) when not NULL. */
static void s_create(const char *json, char *id, char *arn)
{
    cr_assert_eq(s_kms("CreateKey", "%s", json), 200, "body: %s", cmek_buf_cstr(&s_t.body));
    if (id != NULL) {
        snprintf(id, 48, "%s", s_str("KeyMetadata.KeyId"));
    }
    if (arn != NULL) {
        snprintf(arn, 128, "%s", s_str("KeyMetadata.Arn"));
    }
}

static void s_describe(const char *key_id)
{
    cr_assert_eq(s_kms("DescribeKey", "{\"KeyId\":\"%s\"}", key_id), 200, "body: %s",
                 cmek_buf_cstr(&s_t.body));
}

static const char *s_state(const char *key_id)
{
    s_describe(key_id);
    return s_str("KeyMetadata.KeyState");
}

/* An IAM request as admin; the form is a printf format. */
__attribute__((format(printf, 1, 2))) static void s_iam(const char *fmt, ...)
{
    char form[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(form, sizeof(form), fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof(form));
    int status = th_query(&s_t, "iam", &s_admin, form);
    cr_assert_eq(status, 200, "IAM: %s", cmek_buf_cstr(&s_t.body));
}

static void s_create_role(const char *name, const char *trust)
{
    char enc[4096];
    s_iam("Action=CreateRole&Version=2010-05-08&RoleName=%s&AssumeRolePolicyDocument=%s", name,
          th_form_encode(trust, enc, sizeof(enc)));
}

/* A user of 111122223333 without any policy, with an access key. */
static void s_create_bare_user(const char *name, struct th_creds *out)
{
    s_iam("Action=CreateUser&Version=2010-05-08&UserName=%s", name);
    s_iam("Action=CreateAccessKey&Version=2010-05-08&UserName=%s", name);
    memset(out, 0, sizeof(*out));
    cr_assert(th_xml(&s_t, "AccessKeyId", out->akid, sizeof(out->akid)));
    cr_assert(th_xml(&s_t, "SecretAccessKey", out->secret, sizeof(out->secret)));
}

/* The CMEK role of the CockroachDB runbook and a session of it as CockroachDB Cloud. */
static void s_crdb_session(struct th_creds *session)
{
    struct th_creds crdb;
    th_creds_crdb(&crdb);
    s_create_role("crdb-cmek-role", S_TRUST_CRDB);
    int status = th_assume_role(&s_t, &crdb, S_ROLE_ARN, "crdb-session", S_EXTERNAL_ID, session);
    cr_assert_eq(status, 200, "AssumeRole: %s", cmek_buf_cstr(&s_t.body));
}

static bool s_is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* Does ListKeys (one page, Limit 1000) include id? */
static bool s_listed(const char *id)
{
    cr_assert_eq(s_kms("ListKeys", "{\"Limit\":1000}"), 200);
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(s_last, "Keys"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "KeyId")), id) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- CreateKey ---- */

Test(kms_keys, create_key_returns_aws_shaped_metadata)
{
    char id[48], arn[128], want[160];
    s_create("{}", id, arn);
    cr_assert_eq(json_object_size(s_last), 1);
    /* A v4 UUID, lowercase. */
    cr_assert_eq(strlen(id), 36);
    cr_assert(s_is_lower_hex(id, 8) && id[8] == '-' && s_is_lower_hex(id + 9, 4) && id[13] == '-' &&
              id[14] == '4' && id[18] == '-' && strchr("89ab", id[19]) && id[23] == '-' &&
              s_is_lower_hex(id + 24, 12));
    snprintf(want, sizeof(want), S_ARN_PREFIX "%s", id);
    cr_assert_str_eq(arn, want);
    cr_assert_str_eq(s_str("KeyMetadata.AWSAccountId"), S_ACCOUNT);
    cr_assert_eq(s_int("KeyMetadata.CreationDate"), S_NOW);
    cr_assert(s_bool("KeyMetadata.Enabled"));
    cr_assert_str_eq(s_str("KeyMetadata.Description"), "");
    cr_assert_str_eq(s_str("KeyMetadata.KeyUsage"), "ENCRYPT_DECRYPT");
    cr_assert_str_eq(s_str("KeyMetadata.KeyState"), "Enabled");
    cr_assert_str_eq(s_str("KeyMetadata.Origin"), "AWS_KMS");
    cr_assert_str_eq(s_str("KeyMetadata.KeyManager"), "CUSTOMER");
    cr_assert_str_eq(s_str("KeyMetadata.KeySpec"), "SYMMETRIC_DEFAULT");
    cr_assert_str_eq(s_str("KeyMetadata.CustomerMasterKeySpec"), "SYMMETRIC_DEFAULT");
    const json_t *algs = s_get(s_last, "KeyMetadata.EncryptionAlgorithms");
    cr_assert_eq(json_array_size(algs), 1);
    cr_assert_str_eq(json_string_value(json_array_get(algs, 0)), "SYMMETRIC_DEFAULT");
    cr_assert_not(s_bool("KeyMetadata.MultiRegion"));
    const char *material = s_str("KeyMetadata.CurrentKeyMaterialId");
    cr_assert_eq(strlen(material), 64);
    cr_assert(s_is_lower_hex(material, 64));
    cr_assert(s_absent("KeyMetadata.DeletionDate"));
    cr_assert(s_absent("KeyMetadata.MultiRegionConfiguration"));
    cr_assert(s_absent("KeyMetadata.ValidTo"));
    cr_assert(s_absent("KeyMetadata.PendingDeletionWindowInDays"));
}

Test(kms_keys, create_key_keeps_description_and_explicit_symmetric_members)
{
    char id[48];
    s_create("{\"Description\":\"CockroachDB CMEK\",\"KeyUsage\":\"ENCRYPT_DECRYPT\","
             "\"KeySpec\":\"SYMMETRIC_DEFAULT\",\"Origin\":\"AWS_KMS\",\"MultiRegion\":false}",
             id, NULL);
    s_describe(id);
    cr_assert_str_eq(s_str("KeyMetadata.Description"), "CockroachDB CMEK");
    s_create("{\"CustomerMasterKeySpec\":\"SYMMETRIC_DEFAULT\"}", NULL, NULL);
    cr_assert_str_eq(s_str("KeyMetadata.KeySpec"), "SYMMETRIC_DEFAULT");
}

Test(kms_keys, create_key_gives_each_key_its_own_id_and_material)
{
    char a[48], b[48], ma[80];
    s_create("{}", a, NULL);
    snprintf(ma, sizeof(ma), "%s", s_str("KeyMetadata.CurrentKeyMaterialId"));
    s_create("{}", b, NULL);
    cr_assert_str_neq(a, b);
    cr_assert_str_neq(ma, s_str("KeyMetadata.CurrentKeyMaterialId"));
}

Test(kms_keys, create_key_with_external_origin_is_pending_import)
{
    char id[48];
    s_create("{\"Origin\":\"EXTERNAL\"}", id, NULL);
    cr_assert_str_eq(s_str("KeyMetadata.Origin"), "EXTERNAL");
    cr_assert_str_eq(s_str("KeyMetadata.KeyState"), "PendingImport");
    cr_assert_not(s_bool("KeyMetadata.Enabled"));
    cr_assert(s_absent("KeyMetadata.CurrentKeyMaterialId"));
    cr_assert_str_eq(s_state(id), "PendingImport");
}

Test(kms_keys, create_key_multi_region_makes_a_primary)
{
    char id[48], arn[128];
    s_create("{\"MultiRegion\":true}", id, arn);
    cr_assert_eq(strlen(id), 36);
    cr_assert_eq(strncmp(id, "mrk-", 4), 0);
    cr_assert(s_is_lower_hex(id + 4, 32), "%s", id);
    cr_assert(s_bool("KeyMetadata.MultiRegion"));
    cr_assert_str_eq(s_str("KeyMetadata.MultiRegionConfiguration.MultiRegionKeyType"), "PRIMARY");
    cr_assert_str_eq(s_str("KeyMetadata.MultiRegionConfiguration.PrimaryKey.Arn"), arn);
    cr_assert_str_eq(s_str("KeyMetadata.MultiRegionConfiguration.PrimaryKey.Region"), "us-east-1");
    const json_t *replicas = s_get(s_last, "KeyMetadata.MultiRegionConfiguration.ReplicaKeys");
    cr_assert(json_is_array(replicas));
    cr_assert_eq(json_array_size(replicas), 0);
    s_describe(id);
    cr_assert_str_eq(s_str("KeyMetadata.MultiRegionConfiguration.MultiRegionKeyType"), "PRIMARY");
}

Test(kms_keys, create_key_refuses_other_key_usages)
{
    s_kms("CreateKey", "{\"KeyUsage\":\"SIGN_VERIFY\"}");
    s_expect_error("UnsupportedOperationException",
                   "KeyUsage SIGN_VERIFY is not supported by this emulator: only ENCRYPT_DECRYPT "
                   "keys can be created.");
    s_kms("CreateKey", "{\"KeyUsage\":\"GENERATE_VERIFY_MAC\"}");
    s_expect_error("UnsupportedOperationException",
                   "KeyUsage GENERATE_VERIFY_MAC is not supported by this emulator: only "
                   "ENCRYPT_DECRYPT keys can be created.");
}

Test(kms_keys, create_key_refuses_asymmetric_specs)
{
    s_kms("CreateKey", "{\"KeySpec\":\"RSA_2048\",\"KeyUsage\":\"ENCRYPT_DECRYPT\"}");
    s_expect_error("UnsupportedOperationException",
                   "KeySpec RSA_2048 is not supported by this emulator: only SYMMETRIC_DEFAULT "
                   "keys can be created.");
    s_kms("CreateKey", "{\"CustomerMasterKeySpec\":\"HMAC_256\",\"KeyUsage\":"
                       "\"GENERATE_VERIFY_MAC\"}");
    s_expect_error("UnsupportedOperationException",
                   "KeySpec HMAC_256 is not supported by this emulator: only SYMMETRIC_DEFAULT "
                   "keys can be created.");
}

Test(kms_keys, create_key_asymmetric_spec_without_key_usage_is_a_validation_error)
{
    s_kms("CreateKey", "{\"KeySpec\":\"ECC_NIST_P256\"}");
    s_expect_error("ValidationException", "You must specify a KeyUsage value for all KMS keys "
                                          "except for symmetric encryption keys.");
}

Test(kms_keys, create_key_rejects_both_key_spec_members)
{
    s_kms("CreateKey",
          "{\"KeySpec\":\"SYMMETRIC_DEFAULT\",\"CustomerMasterKeySpec\":\"SYMMETRIC_DEFAULT\"}");
    s_expect_error("ValidationException",
                   "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. "
                   "CustomerMasterKeySpec is deprecated.");
}

Test(kms_keys, create_key_refuses_custom_key_store_origins)
{
    s_kms("CreateKey", "{\"Origin\":\"AWS_CLOUDHSM\"}");
    s_expect_error("UnsupportedOperationException",
                   "Origin AWS_CLOUDHSM is not supported by this emulator: custom key stores are "
                   "not emulated.");
    s_kms("CreateKey", "{\"Origin\":\"EXTERNAL_KEY_STORE\"}");
    s_expect_error("UnsupportedOperationException",
                   "Origin EXTERNAL_KEY_STORE is not supported by this emulator: custom key "
                   "stores are not emulated.");
    s_kms("CreateKey", "{\"CustomKeyStoreId\":\"cks-1234567890abcdef0\"}");
    s_expect_error("UnsupportedOperationException",
                   "CustomKeyStoreId is not supported by this emulator: custom key stores are "
                   "not emulated.");
}

Test(kms_keys, create_key_rejects_enum_values_with_the_model_lists)
{
    s_kms("CreateKey", "{\"KeySpec\":\"AES_256\"}");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value 'AES_256' at 'keySpec' failed to satisfy "
                   "constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, "
                   "RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, "
                   "SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512, SM2, ML_DSA_44, "
                   "ML_DSA_65, ML_DSA_87, ECC_NIST_EDWARDS25519]");
    s_kms("CreateKey", "{\"CustomerMasterKeySpec\":\"ML_DSA_44\"}");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value 'ML_DSA_44' at 'customerMasterKeySpec' "
                   "failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, "
                   "RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, "
                   "ECC_SECG_P256K1, SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512, "
                   "SM2]");
}

Test(kms_keys, create_key_aggregates_two_validation_errors)
{
    s_kms("CreateKey", "{\"KeyUsage\":\"ENCRYPT\",\"Origin\":\"AWS\"}");
    s_expect_error("ValidationException",
                   "2 validation errors detected: Value 'ENCRYPT' at 'keyUsage' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [SIGN_VERIFY, "
                   "ENCRYPT_DECRYPT, GENERATE_VERIFY_MAC, KEY_AGREEMENT]; Value 'AWS' at "
                   "'origin' failed to satisfy constraint: Member must satisfy enum value set: "
                   "[AWS_KMS, EXTERNAL, AWS_CLOUDHSM, EXTERNAL_KEY_STORE]");
}

Test(kms_keys, create_key_rejects_overlong_description)
{
    char *desc = malloc(8194);
    cr_assert_not_null(desc);
    memset(desc, 'd', 8193);
    desc[8193] = '\0';
    s_kms("CreateKey", "{\"Description\":\"%s\"}", desc);
    cr_assert_eq(s_t.status, 400);
    cr_assert_str_eq(s_str("__type"), "ValidationException");
    cr_assert(strstr(s_str("message"), "at 'description' failed to satisfy constraint: Member "
                                       "must have length less than or equal to 8192") != NULL,
              "%s", s_str("message"));
    /* 8192 is fine. */
    desc[8192] = '\0';
    s_kms("CreateKey", "{\"Description\":\"%s\"}", desc);
    s_expect_ok();
    free(desc);
}

Test(kms_keys, create_key_rejects_a_member_of_the_wrong_type)
{
    s_kms("CreateKey", "{\"MultiRegion\":\"yes\"}");
    s_expect_error("SerializationException", "Member MultiRegion must be a boolean");
}

Test(kms_keys, create_key_needs_kms_create_key_in_an_identity_policy)
{
    struct th_creds bare;
    s_create_bare_user("bare", &bare);
    s_kms_as(&bare, "CreateKey", "{}");
    s_expect_error("AccessDeniedException",
                   "User: arn:aws:iam::111122223333:user/bare is not authorized to perform: "
                   "kms:CreateKey on resource: * because no identity-based policy allows the "
                   "kms:CreateKey action");
}

/* ---- CreateKey: tags ---- */

Test(kms_keys, create_key_stores_tags)
{
    char id[48];
    s_create("{\"Tags\":[{\"TagKey\":\"team\",\"TagValue\":\"db\"},{\"TagKey\":\"empty\","
             "\"TagValue\":\"\"}]}",
             id, NULL);
    cr_assert_eq(s_kms("ListResourceTags", "{\"KeyId\":\"%s\"}", id), 200);
    const json_t *tags = json_object_get(s_last, "Tags");
    cr_assert_eq(json_array_size(tags), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 0), "TagKey")), "team");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 0), "TagValue")), "db");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 1), "TagKey")),
                     "empty");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 1), "TagValue")), "");
    cr_assert_not(s_bool("Truncated"));
    cr_assert(s_absent("NextMarker"));
}

/* A Tags member of n distinct tags into out. */
static void s_tags_json(size_t n, size_t first, char *out, size_t cap)
{
    size_t used = (size_t)snprintf(out, cap, "[");
    for (size_t i = 0; i < n; i++) {
        used +=
            (size_t)snprintf(out + used, cap - used, "%s{\"TagKey\":\"k%zu\",\"TagValue\":\"v\"}",
                             i ? "," : "", first + i);
        cr_assert(used < cap);
    }
    snprintf(out + used, cap - used, "]");
}

Test(kms_keys, create_key_rejects_more_than_fifty_tags)
{
    char tags[8192];
    s_tags_json(51, 0, tags, sizeof(tags));
    s_kms("CreateKey", "{\"Tags\":%s}", tags);
    s_expect_error("TagException", "Too many tags");
    s_tags_json(50, 0, tags, sizeof(tags));
    s_kms("CreateKey", "{\"Tags\":%s}", tags);
    s_expect_ok();
}

Test(kms_keys, create_key_rejects_duplicate_tag_keys)
{
    s_kms("CreateKey", "{\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"1\"},{\"TagKey\":\"a\","
                       "\"TagValue\":\"2\"}]}");
    s_expect_error("TagException", "Duplicate tag keys");
}

Test(kms_keys, create_key_rejects_reserved_tag_keys)
{
    s_kms("CreateKey", "{\"Tags\":[{\"TagKey\":\"aws:owner\",\"TagValue\":\"x\"}]}");
    s_expect_error("TagException", "Tags beginning with aws: are reserved");
    s_kms("CreateKey", "{\"Tags\":[{\"TagKey\":\"AWS:owner\",\"TagValue\":\"x\"}]}");
    s_expect_error("TagException", "Tags beginning with aws: are reserved");
}

Test(kms_keys, create_key_validates_tag_members_with_nested_paths)
{
    s_kms("CreateKey", "{\"Tags\":[{\"TagKey\":\"ok\",\"TagValue\":\"1\"},{\"TagKey\":\"\","
                       "\"TagValue\":\"1\"}]}");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '' at 'tags.2.member.tagKey' failed to "
                   "satisfy constraint: Member must have length greater than or equal to 1");
    s_kms("CreateKey", "{\"Tags\":[{\"TagKey\":\"a\"}]}");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'tags.1.member.tagValue' failed "
                   "to satisfy constraint: Member must not be null");
}

/* ---- CreateKey and PutKeyPolicy: policies ---- */

Test(kms_keys, get_key_policy_returns_the_default_policy_byte_for_byte)
{
    char id[48];
    s_create("{}", id, NULL);
    cr_assert_eq(s_kms("GetKeyPolicy", "{\"KeyId\":\"%s\",\"PolicyName\":\"default\"}", id), 200);
    cr_assert_str_eq(s_str("Policy"), S_DEFAULT_POLICY);
    cr_assert_str_eq(s_str("PolicyName"), "default");
    cr_assert_eq(json_object_size(s_last), 2);
    /* PolicyName is optional. */
    cr_assert_eq(s_kms("GetKeyPolicy", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_str_eq(s_str("Policy"), S_DEFAULT_POLICY);
}

Test(kms_keys, create_key_keeps_the_given_policy_text_exactly)
{
    const char *text =
        "{ \"Version\": \"2012-10-17\",\n\t\"Statement\": [" S_STMT_ROOT("111122223333") "] }";
    char quoted[4096], id[48];
    s_quote(text, quoted, sizeof(quoted));
    char body[4200];
    snprintf(body, sizeof(body), "{\"Policy\":\"%s\"}", quoted);
    s_create(body, id, NULL);
    cr_assert_eq(s_kms("GetKeyPolicy", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_str_eq(s_str("Policy"), text);
}

Test(kms_keys, create_key_applies_the_lockout_safety_check)
{
    /* Only DescribeKey for the admin: the admin could not change the policy afterwards. */
    const char *policy =
        S_POLICY("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/"
                 "admin\"},\"Action\":\"kms:DescribeKey\",\"Resource\":\"*\"}");
    char quoted[2048];
    s_quote(policy, quoted, sizeof(quoted));
    s_kms("CreateKey", "{\"Policy\":\"%s\"}", quoted);
    s_expect_error("MalformedPolicyDocumentException",
                   "The new key policy will not allow you to update the key policy in the future.");
    s_kms("CreateKey", "{\"Policy\":\"%s\",\"BypassPolicyLockoutSafetyCheck\":true}", quoted);
    s_expect_ok();
}

Test(kms_keys, create_key_rejects_a_policy_naming_a_missing_principal)
{
    const char *policy =
        S_POLICY(S_STMT_ROOT("111122223333") ",{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                                             "\"arn:aws:iam::111122223333:role/no-such-role\"},"
                                             "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}");
    char quoted[2048];
    s_quote(policy, quoted, sizeof(quoted));
    s_kms("CreateKey", "{\"Policy\":\"%s\"}", quoted);
    s_expect_error("MalformedPolicyDocumentException",
                   "Policy contains a statement with one or more invalid principals.");
}

/* A CreateKey body whose Policy is a valid policy of size bytes (padded with spaces before
 * the final brace); free() it. */
static char *s_big_policy(size_t size)
{
    const char *base = S_POLICY(S_STMT_ROOT("111122223333"));
    size_t n = strlen(base);
    cr_assert(size > n);
    char *p = malloc(size + 1);
    cr_assert_not_null(p);
    memcpy(p, base, n - 1);
    memset(p + n - 1, ' ', size - n);
    p[size - 1] = '}';
    p[size] = '\0';
    json_t *o = json_pack("{s:s}", "Policy", p);
    free(p);
    cr_assert_not_null(o);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    cr_assert_not_null(body);
    return body;
}

Test(kms_keys, key_policy_over_32_kib_exceeds_the_quota)
{
    char *policy = s_big_policy(32769);
    s_kms("CreateKey", "%s", policy);
    s_expect_error("LimitExceededException",
                   "Policy size exceeds the maximum allowed size of 32768 bytes.");
    free(policy);
    policy = s_big_policy(32768);
    s_kms("CreateKey", "%s", policy);
    s_expect_ok();
    free(policy);
}

Test(kms_keys, key_policy_over_the_model_maximum_is_a_validation_error)
{
    char *policy = s_big_policy(131073);
    s_kms("CreateKey", "%s", policy);
    cr_assert_eq(s_t.status, 400);
    cr_assert_str_eq(s_str("__type"), "ValidationException");
    cr_assert(strstr(s_str("message"), "at 'policy' failed to satisfy constraint: Member must "
                                       "have length less than or equal to 131072") != NULL);
    free(policy);
}

Test(kms_keys, key_policy_outside_latin1_breaks_the_model_pattern)
{
    s_kms("CreateKey",
          "{\"Policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Id\\\":\\\"\u20ac\\\"}\"}");
    cr_assert_eq(s_t.status, 400, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_str_eq(s_str("__type"), "ValidationException");
    cr_assert(strstr(s_str("message"),
                     "at 'policy' failed to satisfy constraint: Member must satisfy regular "
                     "expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+") != NULL,
              "%s", s_str("message"));
}

Test(kms_keys, put_key_policy_replaces_the_policy_for_the_next_request)
{
    char id[48], arn[128];
    s_create("{}", id, arn);
    /* A session of a role with AdministratorAccess: the default policy delegates to IAM. */
    s_create_role("ops", S_TRUST_ACCOUNT);
    s_iam("Action=AttachRolePolicy&Version=2010-05-08&RoleName=ops&PolicyArn=arn%%3Aaws%%3Aiam%%3A%"
          "%3Aaws%%3Apolicy%%2FAdministratorAccess");
    struct th_creds ops;
    cr_assert_eq(
        th_assume_role(&s_t, &s_admin, "arn:aws:iam::111122223333:role/ops", "s1", NULL, &ops), 200,
        "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(s_kms_as(&ops, "DescribeKey", "{\"KeyId\":\"%s\"}", id), 200);

    const char *policy =
        S_POLICY("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/"
                 "admin\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}");
    char quoted[2048];
    s_quote(policy, quoted, sizeof(quoted));
    s_kms("PutKeyPolicy", "{\"KeyId\":\"%s\",\"PolicyName\":\"default\",\"Policy\":\"%s\"}", id,
          quoted);
    s_expect_empty();
    cr_assert_eq(s_kms("GetKeyPolicy", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_str_eq(s_str("Policy"), policy);

    char want[512];
    snprintf(want, sizeof(want),
             "User: arn:aws:sts::111122223333:assumed-role/ops/s1 is not authorized to perform: "
             "kms:DescribeKey on resource: %s because no resource-based policy allows the "
             "kms:DescribeKey action",
             arn);
    s_kms_as(&ops, "DescribeKey", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("AccessDeniedException", want);
}

Test(kms_keys, put_key_policy_applies_the_lockout_safety_check)
{
    char id[48], arn[128];
    s_create("{}", id, arn);
    const char *policy =
        S_POLICY("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/"
                 "admin\"},\"Action\":[\"kms:DescribeKey\",\"kms:GetKeyPolicy\"],"
                 "\"Resource\":\"*\"}");
    char quoted[2048];
    s_quote(policy, quoted, sizeof(quoted));
    s_kms("PutKeyPolicy", "{\"KeyId\":\"%s\",\"Policy\":\"%s\"}", id, quoted);
    s_expect_error("MalformedPolicyDocumentException",
                   "The new key policy will not allow you to update the key policy in the future.");
    cr_assert_eq(s_kms("GetKeyPolicy", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_str_eq(s_str("Policy"), S_DEFAULT_POLICY);

    s_kms("PutKeyPolicy",
          "{\"KeyId\":\"%s\",\"Policy\":\"%s\","
          "\"BypassPolicyLockoutSafetyCheck\":true}",
          id, quoted);
    s_expect_empty();
    /* Locked out, as the check warned. */
    char want[512];
    snprintf(want, sizeof(want),
             "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: "
             "kms:PutKeyPolicy on resource: %s because no resource-based policy allows the "
             "kms:PutKeyPolicy action",
             arn);
    char def[2048];
    s_quote(S_DEFAULT_POLICY, def, sizeof(def));
    s_kms("PutKeyPolicy", "{\"KeyId\":\"%s\",\"Policy\":\"%s\"}", id, def);
    s_expect_error("AccessDeniedException", want);
}

Test(kms_keys, put_key_policy_rejects_invalid_principals_and_bad_json)
{
    char id[48];
    s_create("{}", id, NULL);
    const char *policy =
        S_POLICY("{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/"
                 "ghost\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}");
    char quoted[2048];
    s_quote(policy, quoted, sizeof(quoted));
    s_kms("PutKeyPolicy",
          "{\"KeyId\":\"%s\",\"Policy\":\"%s\",\"BypassPolicyLockoutSafetyCheck\":true}", id,
          quoted);
    s_expect_error("MalformedPolicyDocumentException",
                   "Policy contains a statement with one or more invalid principals.");
    s_kms("PutKeyPolicy", "{\"KeyId\":\"%s\",\"Policy\":\"{not json\"}", id);
    cr_assert_eq(s_t.status, 400);
    cr_assert_str_eq(s_str("__type"), "MalformedPolicyDocumentException");
}

Test(kms_keys, put_key_policy_validates_its_members)
{
    char id[48];
    s_create("{}", id, NULL);
    s_kms("PutKeyPolicy", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'policy' failed to satisfy "
                   "constraint: Member must not be null");
    s_kms("PutKeyPolicy", "{}");
    s_expect_error("ValidationException",
                   "2 validation errors detected: Value null at 'keyId' failed to satisfy "
                   "constraint: Member must not be null; Value null at 'policy' failed to "
                   "satisfy constraint: Member must not be null");
    s_kms("PutKeyPolicy", "{\"KeyId\":\"%s\",\"Policy\":\"{}\",\"PolicyName\":\"my-policy\"}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value 'my-policy' at 'policyName' failed to "
                   "satisfy constraint: Member must satisfy regular expression pattern: [\\w]+");
}

Test(kms_keys, key_policy_name_other_than_default_is_not_found)
{
    char id[48];
    s_create("{}", id, NULL);
    s_kms("GetKeyPolicy", "{\"KeyId\":\"%s\",\"PolicyName\":\"other\"}", id);
    s_expect_error("NotFoundException", "No such policy exists");
    char def[2048];
    s_quote(S_DEFAULT_POLICY, def, sizeof(def));
    s_kms("PutKeyPolicy", "{\"KeyId\":\"%s\",\"PolicyName\":\"other\",\"Policy\":\"%s\"}", id, def);
    s_expect_error("NotFoundException", "No such policy exists");
}

Test(kms_keys, key_policy_operations_take_only_key_ids_and_arns)
{
    char id[48];
    s_create("{}", id, NULL);
    s_kms("GetKeyPolicy", "{\"KeyId\":\"alias/whatever\"}");
    s_expect_error("NotFoundException", "Invalid keyId 'alias/whatever'");
}

Test(kms_keys, list_key_policies_names_default)
{
    char id[48], arn[128];
    s_create("{}", id, arn);
    cr_assert_eq(s_kms("ListKeyPolicies", "{\"KeyId\":\"%s\"}", arn), 200);
    const json_t *names = json_object_get(s_last, "PolicyNames");
    cr_assert_eq(json_array_size(names), 1);
    cr_assert_str_eq(json_string_value(json_array_get(names, 0)), "default");
    cr_assert_not(s_bool("Truncated"));
    cr_assert(s_absent("NextMarker"));
    s_kms("ListKeyPolicies", "{\"KeyId\":\"%s\",\"Marker\":\"abc\"}", id);
    s_expect_error("InvalidMarkerException", S_INVALID_MARKER);
    s_kms("ListKeyPolicies", "{\"KeyId\":\"%s\",\"Limit\":1001}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '1001' at 'limit' failed to satisfy "
                   "constraint: Member must have value less than or equal to 1000");
}

/* ---- DescribeKey ---- */

static void s_add_alias(const char *name, const char *target)
{
    struct emu_kms_alias *a = calloc(1, sizeof(*a));
    cr_assert_not_null(a);
    char arn[256];
    snprintf(arn, sizeof(arn), "arn:aws:kms:us-east-1:" S_ACCOUNT ":%s", name);
    a->account = strdup(S_ACCOUNT);
    a->region = strdup("us-east-1");
    a->name = strdup(name);
    a->arn = strdup(arn);
    a->target_key_id = strdup(target);
    a->created_s = S_NOW;
    a->updated_s = S_NOW;
    cr_assert_eq(emu_kms_add_alias(&s_t.app.store->kms, a), CMEK_OK);
}

Test(kms_keys, describe_key_accepts_every_identifier_form)
{
    char id[48], arn[128];
    s_create("{\"Description\":\"by any name\"}", id, arn);
    s_add_alias("alias/crdb-cmek", id);
    const char *forms[] = {id, arn, "alias/crdb-cmek",
                           "arn:aws:kms:us-east-1:111122223333:alias/crdb-cmek"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        cr_assert_eq(s_kms("DescribeKey", "{\"KeyId\":\"%s\"}", forms[i]), 200, "%s: %s", forms[i],
                     cmek_buf_cstr(&s_t.body));
        cr_assert_str_eq(s_str("KeyMetadata.KeyId"), id);
        cr_assert_str_eq(s_str("KeyMetadata.Arn"), arn);
        cr_assert_str_eq(s_str("KeyMetadata.Description"), "by any name");
        cr_assert_eq(json_object_size(s_last), 1);
    }
}

Test(kms_keys, describe_key_accepts_grant_tokens)
{
    char id[48];
    s_create("{}", id, NULL);
    cr_assert_eq(s_kms("DescribeKey", "{\"KeyId\":\"%s\",\"GrantTokens\":[\"t1\",\"t2\"]}", id),
                 200);
    s_kms("DescribeKey",
          "{\"KeyId\":\"%s\",\"GrantTokens\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
          "\"9\",\"10\",\"11\"]}",
          id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value at 'grantTokens' failed to satisfy "
                   "constraint: Member must have length less than or equal to 10");
}

Test(kms_keys, describe_key_reports_unknown_and_malformed_ids)
{
    s_kms("DescribeKey", "{\"KeyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\"}");
    s_expect_error("NotFoundException", "Key 'arn:aws:kms:us-east-1:111122223333:key/"
                                        "1234abcd-12ab-34cd-56ef-1234567890ab' does not exist");
    s_kms("DescribeKey", "{\"KeyId\":\"nope\"}");
    s_expect_error("NotFoundException", "Invalid keyId 'nope'");
    s_kms("DescribeKey", "{\"KeyId\":\"alias/none\"}");
    s_expect_error("NotFoundException",
                   "Alias arn:aws:kms:us-east-1:111122223333:alias/none is not found.");
}

Test(kms_keys, describe_key_validates_key_id)
{
    s_kms("DescribeKey", "{}");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'keyId' failed to satisfy "
                   "constraint: Member must not be null");
    s_kms("DescribeKey", "{\"KeyId\":\"\"}");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '' at 'keyId' failed to satisfy "
                   "constraint: Member must have length greater than or equal to 1");
    s_kms("DescribeKey", "{\"KeyId\":7}");
    s_expect_error("SerializationException", "Member KeyId must be a string");
}

Test(kms_keys, describe_key_is_scoped_to_the_request_region)
{
    char id[48], arn[128], body[256], want[256];
    s_create("{}", id, arn);
    snprintf(body, sizeof(body), "{\"KeyId\":\"%s\"}", id);
    s_kms_region("eu-west-1", "DescribeKey", body);
    snprintf(want, sizeof(want), "Key 'arn:aws:kms:eu-west-1:111122223333:key/%s' does not exist",
             id);
    s_expect_error("NotFoundException", want);
    snprintf(body, sizeof(body), "{\"KeyId\":\"%s\"}", arn);
    s_kms_region("eu-west-1", "DescribeKey", body);
    s_expect_error("NotFoundException", "Invalid arn us-east-1");
}

/* ---- ListKeys ---- */

Test(kms_keys, list_keys_lists_the_callers_keys_in_the_region)
{
    cr_assert_eq(s_kms("ListKeys", "{}"), 200);
    cr_assert_eq(json_array_size(json_object_get(s_last, "Keys")), 0);
    cr_assert_not(s_bool("Truncated"));
    char a[48], aa[128], b[48], bb[128];
    s_create("{}", a, aa);
    s_create("{}", b, bb);
    /* One in another region. */
    cr_assert_eq(s_kms_region("eu-west-1", "CreateKey", "{}"), 200);
    cr_assert_eq(s_kms("ListKeys", "{}"), 200);
    const json_t *keys = json_object_get(s_last, "Keys");
    cr_assert_eq(json_array_size(keys), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 0), "KeyId")), a);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 0), "KeyArn")), aa);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 1), "KeyId")), b);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 1), "KeyArn")), bb);
    cr_assert_eq(json_object_size(json_array_get(keys, 0)), 2);
    cr_assert_not(s_bool("Truncated"));
    cr_assert(s_absent("NextMarker"));
    /* Another account sees none of them. */
    struct th_creds crdb;
    th_creds_crdb(&crdb);
    s_kms_as(&crdb, "ListKeys", "{}");
    s_expect_error("AccessDeniedException",
                   "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized "
                   "to perform: kms:ListKeys on resource: * because no identity-based policy "
                   "allows the kms:ListKeys action");
}

Test(kms_keys, list_keys_pages_with_markers)
{
    char ids[3][48];
    for (size_t i = 0; i < 3; i++) {
        s_create("{}", ids[i], NULL);
    }
    cr_assert_eq(s_kms("ListKeys", "{\"Limit\":2}"), 200);
    cr_assert_eq(json_array_size(json_object_get(s_last, "Keys")), 2);
    cr_assert(s_bool("Truncated"));
    char marker[256];
    snprintf(marker, sizeof(marker), "%s", s_str("NextMarker"));
    cr_assert_eq(s_kms("ListKeys", "{\"Limit\":2,\"Marker\":\"%s\"}", marker), 200);
    const json_t *keys = json_object_get(s_last, "Keys");
    cr_assert_eq(json_array_size(keys), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 0), "KeyId")), ids[2]);
    cr_assert_not(s_bool("Truncated"));
    cr_assert(s_absent("NextMarker"));
}

Test(kms_keys, list_keys_rejects_invalid_markers_and_limits)
{
    s_kms("ListKeys", "{\"Marker\":\"not-a-marker\"}");
    s_expect_error("InvalidMarkerException", S_INVALID_MARKER);
    /* base64 of "keys:9" with no nine keys */
    s_kms("ListKeys", "{\"Marker\":\"a2V5czo5\"}");
    s_expect_error("InvalidMarkerException", S_INVALID_MARKER);
    /* base64 of "tags:0": another list's marker */
    s_kms("ListKeys", "{\"Marker\":\"dGFnczow\"}");
    s_expect_error("InvalidMarkerException", S_INVALID_MARKER);
    s_kms("ListKeys", "{\"Limit\":0}");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '0' at 'limit' failed to satisfy "
                   "constraint: Member must have value greater than or equal to 1");
    s_kms("ListKeys", "{\"Limit\":1001,\"Marker\":\"\"}");
    s_expect_error("ValidationException",
                   "2 validation errors detected: Value '1001' at 'limit' failed to satisfy "
                   "constraint: Member must have value less than or equal to 1000; Value '' at "
                   "'marker' failed to satisfy constraint: Member must have length greater than "
                   "or equal to 1");
}

/* ---- EnableKey, DisableKey ---- */

Test(kms_keys, disable_and_enable_key_change_the_state)
{
    char id[48], arn[128];
    s_create("{}", id, arn);
    s_kms("DisableKey", "{\"KeyId\":\"%s\"}", id);
    s_expect_empty();
    s_describe(id);
    cr_assert_str_eq(s_str("KeyMetadata.KeyState"), "Disabled");
    cr_assert_not(s_bool("KeyMetadata.Enabled"));
    /* Twice is fine. */
    s_kms("DisableKey", "{\"KeyId\":\"%s\"}", arn);
    s_expect_empty();
    s_kms("EnableKey", "{\"KeyId\":\"%s\"}", arn);
    s_expect_empty();
    s_describe(id);
    cr_assert_str_eq(s_str("KeyMetadata.KeyState"), "Enabled");
    cr_assert(s_bool("KeyMetadata.Enabled"));
    s_kms("EnableKey", "{\"KeyId\":\"%s\"}", id);
    s_expect_empty();
}

Test(kms_keys, enable_key_takes_no_alias)
{
    char id[48];
    s_create("{}", id, NULL);
    s_add_alias("alias/x", id);
    s_kms("DisableKey", "{\"KeyId\":\"alias/x\"}");
    s_expect_error("NotFoundException", "Invalid keyId 'alias/x'");
    s_kms("EnableKey", "{}");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'keyId' failed to satisfy "
                   "constraint: Member must not be null");
}

Test(kms_keys, enable_key_fails_on_a_key_pending_deletion_or_import)
{
    char id[48], arn[128], want[256];
    s_create("{}", id, arn);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\",\"PendingWindowInDays\":7}", id),
                 200);
    snprintf(want, sizeof(want), "%s is pending deletion.", arn);
    s_kms("EnableKey", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("KMSInvalidStateException", want);
    s_kms("DisableKey", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("KMSInvalidStateException", want);

    s_create("{\"Origin\":\"EXTERNAL\"}", id, arn);
    snprintf(want, sizeof(want), "%s is pending import.", arn);
    s_kms("EnableKey", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("KMSInvalidStateException", want);
}

/* ---- ScheduleKeyDeletion, CancelKeyDeletion ---- */

Test(kms_keys, schedule_key_deletion_defaults_to_thirty_days)
{
    char id[48], arn[128];
    s_create("{}", id, arn);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_eq(json_object_size(s_last), 4);
    cr_assert_str_eq(s_str("KeyId"), arn);
    cr_assert_eq(s_int("DeletionDate"), S_NOW + 30 * 86400);
    cr_assert_str_eq(s_str("KeyState"), "PendingDeletion");
    cr_assert_eq(s_int("PendingWindowInDays"), 30);
    s_describe(arn);
    cr_assert_str_eq(s_str("KeyMetadata.KeyState"), "PendingDeletion");
    cr_assert_not(s_bool("KeyMetadata.Enabled"));
    cr_assert_eq(s_int("KeyMetadata.DeletionDate"), S_NOW + 30 * 86400);
    cr_assert(s_absent("KeyMetadata.PendingDeletionWindowInDays"));
}

Test(kms_keys, schedule_key_deletion_takes_seven_to_thirty_days)
{
    char id[48];
    s_create("{}", id, NULL);
    s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\",\"PendingWindowInDays\":3}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '3' at 'pendingWindowInDays' failed to "
                   "satisfy constraint: Member must have value greater than or equal to 7");
    s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\",\"PendingWindowInDays\":31}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '31' at 'pendingWindowInDays' failed to "
                   "satisfy constraint: Member must have value less than or equal to 30");
    cr_assert_str_eq(s_state(id), "Enabled");
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\",\"PendingWindowInDays\":7}", id),
                 200);
    cr_assert_eq(s_int("DeletionDate"), S_NOW + 7 * 86400);
    cr_assert_eq(s_int("PendingWindowInDays"), 7);
}

Test(kms_keys, schedule_key_deletion_twice_fails)
{
    char id[48], arn[128], want[256];
    s_create("{}", id, arn);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id), 200);
    s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id);
    snprintf(want, sizeof(want), "%s is pending deletion.", arn);
    s_expect_error("KMSInvalidStateException", want);
}

Test(kms_keys, schedule_key_deletion_works_from_disabled_and_pending_import)
{
    char id[48];
    s_create("{}", id, NULL);
    s_kms("DisableKey", "{\"KeyId\":\"%s\"}", id);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id), 200);
    s_create("{\"Origin\":\"EXTERNAL\"}", id, NULL);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_str_eq(s_str("KeyState"), "PendingDeletion");
}

Test(kms_keys, cancel_key_deletion_leaves_the_key_disabled)
{
    char id[48], arn[128];
    s_create("{}", id, arn);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_eq(s_kms("CancelKeyDeletion", "{\"KeyId\":\"%s\"}", arn), 200);
    cr_assert_eq(json_object_size(s_last), 1);
    cr_assert_str_eq(s_str("KeyId"), arn);
    s_describe(id);
    cr_assert_str_eq(s_str("KeyMetadata.KeyState"), "Disabled");
    cr_assert_not(s_bool("KeyMetadata.Enabled"));
    cr_assert(s_absent("KeyMetadata.DeletionDate"));
    /* It survives the old window. */
    th_advance(&s_t, "31d");
    cr_assert_str_eq(s_state(id), "Disabled");
}

Test(kms_keys, cancel_key_deletion_needs_a_key_pending_deletion)
{
    char id[48], arn[128], want[256];
    s_create("{}", id, arn);
    s_kms("CancelKeyDeletion", "{\"KeyId\":\"%s\"}", id);
    snprintf(want, sizeof(want), "%s is not pending deletion.", arn);
    s_expect_error("KMSInvalidStateException", want);
    s_kms("DisableKey", "{\"KeyId\":\"%s\"}", id);
    s_kms("CancelKeyDeletion", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("KMSInvalidStateException", want);
}

Test(kms_keys, key_is_deleted_when_the_window_ends)
{
    char id[48], arn[128], want[256];
    s_create("{}", id, arn);
    s_add_alias("alias/doomed", id);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\",\"PendingWindowInDays\":7}", id),
                 200);
    th_advance(&s_t, "6d");
    cr_assert_str_eq(s_state(id), "PendingDeletion");
    cr_assert(s_listed(id));
    th_advance(&s_t, "1d");
    s_kms("DescribeKey", "{\"KeyId\":\"%s\"}", id);
    snprintf(want, sizeof(want), "Key '%s' does not exist", arn);
    s_expect_error("NotFoundException", want);
    cr_assert_not(s_listed(id));
    s_kms("CancelKeyDeletion", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("NotFoundException", want);
    /* Its aliases went with it. */
    s_kms("DescribeKey", "{\"KeyId\":\"alias/doomed\"}");
    s_expect_error("NotFoundException",
                   "Alias arn:aws:kms:us-east-1:111122223333:alias/doomed is not found.");
}

Test(kms_keys, list_keys_drops_keys_whose_window_ended)
{
    char id[48], other[48];
    s_create("{}", id, NULL);
    s_create("{}", other, NULL);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\",\"PendingWindowInDays\":7}", id),
                 200);
    th_advance(&s_t, "8d");
    /* Listed before anything looked the key up. */
    cr_assert_eq(s_kms("ListKeys", "{}"), 200);
    const json_t *keys = json_object_get(s_last, "Keys");
    cr_assert_eq(json_array_size(keys), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(keys, 0), "KeyId")), other);
}

Test(kms_keys, schedule_deletion_of_a_primary_with_replicas_waits_for_them)
{
    char id[48], arn[128];
    s_create("{\"MultiRegion\":true}", id, arn);
    /* A replica in us-west-2, as ReplicateKey leaves the model. */
    struct emu_kms *kms = &s_t.app.store->kms;
    struct emu_kms_key *primary = emu_kms_find_key(&s_t.app, kms, S_ACCOUNT, "us-east-1", id, 0);
    cr_assert_not_null(primary);
    struct emu_kms_key *replica = emu_kms_key_new(S_ACCOUNT, "us-west-2", id, S_NOW);
    cr_assert_not_null(replica);
    replica->multi_region = true;
    replica->is_replica = true;
    replica->primary_region = strdup("us-east-1");
    cr_assert_eq(emu_kms_key_add_material(replica, emu_kms_key_current(primary)), CMEK_OK);
    char *region = strdup("us-west-2");
    cr_assert_eq(cmek_vec_push(&primary->replica_regions, region), CMEK_OK);
    cr_assert_eq(emu_kms_add_key(kms, replica), CMEK_OK);
    s_describe(id);
    const json_t *replicas = s_get(s_last, "KeyMetadata.MultiRegionConfiguration.ReplicaKeys");
    cr_assert_eq(json_array_size(replicas), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(replicas, 0), "Region")),
                     "us-west-2");
    char replica_arn[128];
    snprintf(replica_arn, sizeof(replica_arn), "arn:aws:kms:us-west-2:" S_ACCOUNT ":key/%s", id);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(replicas, 0), "Arn")),
                     replica_arn);

    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\",\"PendingWindowInDays\":9}", id),
                 200);
    cr_assert_str_eq(s_str("KeyId"), arn);
    cr_assert_str_eq(s_str("KeyState"), "PendingReplicaDeletion");
    cr_assert_eq(s_int("PendingWindowInDays"), 9);
    cr_assert(s_absent("DeletionDate"));
    s_describe(id);
    cr_assert_str_eq(s_str("KeyMetadata.KeyState"), "PendingReplicaDeletion");
    cr_assert_eq(s_int("KeyMetadata.PendingDeletionWindowInDays"), 9);
    cr_assert_not(s_bool("KeyMetadata.Enabled"));
    /* It does not go while its replica exists. */
    th_advance(&s_t, "60d");
    cr_assert_str_eq(s_state(id), "PendingReplicaDeletion");
    cr_assert_eq(s_kms("CancelKeyDeletion", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_str_eq(s_state(id), "Disabled");
}

/* ---- Tags, descriptions ---- */

Test(kms_keys, tag_resource_adds_and_replaces_tags)
{
    char id[48];
    s_create("{\"Tags\":[{\"TagKey\":\"team\",\"TagValue\":\"db\"}]}", id, NULL);
    s_kms("TagResource",
          "{\"KeyId\":\"%s\",\"Tags\":[{\"TagKey\":\"team\",\"TagValue\":\"sre\"},"
          "{\"TagKey\":\"env\",\"TagValue\":\"prod\"}]}",
          id);
    s_expect_empty();
    cr_assert_eq(s_kms("ListResourceTags", "{\"KeyId\":\"%s\"}", id), 200);
    const json_t *tags = json_object_get(s_last, "Tags");
    cr_assert_eq(json_array_size(tags), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 0), "TagKey")), "team");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 0), "TagValue")),
                     "sre");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 1), "TagKey")), "env");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 1), "TagValue")),
                     "prod");
}

Test(kms_keys, tag_resource_enforces_tag_rules)
{
    char id[48], tags[8192];
    s_tags_json(40, 0, tags, sizeof(tags));
    char body[8400];
    snprintf(body, sizeof(body), "{\"Tags\":%s}", tags);
    s_create(body, id, NULL);
    /* 40 + 11 new ones is one too many; replacing existing ones does not count. */
    s_tags_json(11, 40, tags, sizeof(tags));
    s_kms("TagResource", "{\"KeyId\":\"%s\",\"Tags\":%s}", id, tags);
    s_expect_error("TagException", "Too many tags");
    s_tags_json(12, 38, tags, sizeof(tags));
    s_kms("TagResource", "{\"KeyId\":\"%s\",\"Tags\":%s}", id, tags);
    s_expect_empty();
    s_kms("TagResource", "{\"KeyId\":\"%s\",\"Tags\":[{\"TagKey\":\"aws:x\",\"TagValue\":\"\"}]}",
          id);
    s_expect_error("TagException", "Tags beginning with aws: are reserved");
    s_kms("TagResource",
          "{\"KeyId\":\"%s\",\"Tags\":[{\"TagKey\":\"d\",\"TagValue\":\"1\"},"
          "{\"TagKey\":\"d\",\"TagValue\":\"1\"}]}",
          id);
    s_expect_error("TagException", "Duplicate tag keys");
    s_kms("TagResource", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'tags' failed to satisfy "
                   "constraint: Member must not be null");
}

Test(kms_keys, untag_resource_removes_tags)
{
    char id[48];
    s_create("{\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"1\"},{\"TagKey\":\"b\",\"TagValue\":"
             "\"2\"}]}",
             id, NULL);
    s_kms("UntagResource", "{\"KeyId\":\"%s\",\"TagKeys\":[\"a\",\"missing\"]}", id);
    s_expect_empty();
    cr_assert_eq(s_kms("ListResourceTags", "{\"KeyId\":\"%s\"}", id), 200);
    const json_t *tags = json_object_get(s_last, "Tags");
    cr_assert_eq(json_array_size(tags), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 0), "TagKey")), "b");
    s_kms("UntagResource", "{\"KeyId\":\"%s\",\"TagKeys\":[\"\"]}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '' at 'tagKeys.1.member' failed to "
                   "satisfy constraint: Member must have length greater than or equal to 1");
    s_kms("UntagResource", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                   "constraint: Member must not be null");
}

Test(kms_keys, list_resource_tags_pages_with_markers)
{
    char id[48];
    s_create("{\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"1\"},{\"TagKey\":\"b\",\"TagValue\":"
             "\"2\"},{\"TagKey\":\"c\",\"TagValue\":\"3\"}]}",
             id, NULL);
    cr_assert_eq(s_kms("ListResourceTags", "{\"KeyId\":\"%s\",\"Limit\":2}", id), 200);
    cr_assert_eq(json_array_size(json_object_get(s_last, "Tags")), 2);
    cr_assert(s_bool("Truncated"));
    char marker[256];
    snprintf(marker, sizeof(marker), "%s", s_str("NextMarker"));
    cr_assert_eq(s_kms("ListResourceTags", "{\"KeyId\":\"%s\",\"Marker\":\"%s\"}", id, marker),
                 200);
    const json_t *tags = json_object_get(s_last, "Tags");
    cr_assert_eq(json_array_size(tags), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(tags, 0), "TagKey")), "c");
    cr_assert_not(s_bool("Truncated"));
    s_kms("ListResourceTags", "{\"KeyId\":\"%s\",\"Marker\":\"bogus\"}", id);
    s_expect_error("InvalidMarkerException", S_INVALID_MARKER);
}

Test(kms_keys, tags_and_description_cannot_change_while_pending_deletion)
{
    char id[48], arn[128], want[256];
    s_create("{}", id, arn);
    cr_assert_eq(s_kms("ScheduleKeyDeletion", "{\"KeyId\":\"%s\"}", id), 200);
    snprintf(want, sizeof(want), "%s is pending deletion.", arn);
    s_kms("TagResource", "{\"KeyId\":\"%s\",\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"1\"}]}", id);
    s_expect_error("KMSInvalidStateException", want);
    s_kms("UntagResource", "{\"KeyId\":\"%s\",\"TagKeys\":[\"a\"]}", id);
    s_expect_error("KMSInvalidStateException", want);
    s_kms("UpdateKeyDescription", "{\"KeyId\":\"%s\",\"Description\":\"x\"}", id);
    s_expect_error("KMSInvalidStateException", want);
    /* Reading still works. */
    cr_assert_eq(s_kms("ListResourceTags", "{\"KeyId\":\"%s\"}", id), 200);
    cr_assert_eq(s_kms("GetKeyPolicy", "{\"KeyId\":\"%s\"}", id), 200);
}

Test(kms_keys, update_key_description_changes_the_description)
{
    char id[48];
    s_create("{\"Description\":\"old\"}", id, NULL);
    s_kms("UpdateKeyDescription", "{\"KeyId\":\"%s\",\"Description\":\"new\"}", id);
    s_expect_empty();
    s_describe(id);
    cr_assert_str_eq(s_str("KeyMetadata.Description"), "new");
    s_kms("UpdateKeyDescription", "{\"KeyId\":\"%s\",\"Description\":\"\"}", id);
    s_expect_empty();
    s_describe(id);
    cr_assert_str_eq(s_str("KeyMetadata.Description"), "");
    s_kms("UpdateKeyDescription", "{\"KeyId\":\"%s\"}", id);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'description' failed to satisfy "
                   "constraint: Member must not be null");
}

/* ---- The CockroachDB CMEK key policy ---- */

static void s_create_crdb_key(char *id, char *arn)
{
    char quoted[4096], body[4200];
    s_quote(S_POLICY(S_STMT_ROOT("111122223333") "," S_STMT_CRDB), quoted, sizeof(quoted));
    snprintf(body, sizeof(body), "{\"Policy\":\"%s\",\"Description\":\"crdb cmek\"}", quoted);
    s_create(body, id, arn);
}

Test(kms_keys, crdb_session_may_describe_the_key)
{
    struct th_creds session;
    s_crdb_session(&session);
    char id[48], arn[128];
    s_create_crdb_key(id, arn);
    cr_assert_eq(s_kms_as(&session, "DescribeKey", "{\"KeyId\":\"%s\"}", id), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    cr_assert_str_eq(s_str("KeyMetadata.Arn"), arn);
    cr_assert_eq(s_kms_as(&session, "DescribeKey", "{\"KeyId\":\"%s\"}", arn), 200);
}

Test(kms_keys, crdb_session_may_not_manage_the_key)
{
    struct th_creds session;
    s_crdb_session(&session);
    char id[48], arn[128];
    s_create_crdb_key(id, arn);
    const char *ops[][2] = {
        /* operation, the members after KeyId */
        {"DisableKey", ""},
        {"ScheduleKeyDeletion", ""},
        {"PutKeyPolicy", ",\"Policy\":\"{}\""},
        {"TagResource", ",\"Tags\":[{\"TagKey\":\"a\",\"TagValue\":\"b\"}]"},
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        char want[512];
        s_kms_as(&session, ops[i][0], "{\"KeyId\":\"%s\"%s}", id, ops[i][1]);
        snprintf(want, sizeof(want),
                 "User: arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/crdb-session is "
                 "not authorized to perform: kms:%s on resource: %s because no identity-based "
                 "policy allows the kms:%s action",
                 ops[i][0], arn, ops[i][0]);
        s_expect_error("AccessDeniedException", want);
    }
    cr_assert_str_eq(s_state(id), "Enabled");
}

Test(kms_keys, crdb_session_is_denied_by_a_policy_without_the_account_statement)
{
    /* Without the root statement no IAM policy can help: the key policy alone decides. */
    struct th_creds session;
    s_crdb_session(&session);
    char quoted[4096], body[4200], id[48], arn[128], want[512];
    s_quote(S_POLICY(S_STMT_CRDB), quoted, sizeof(quoted));
    snprintf(body, sizeof(body), "{\"Policy\":\"%s\",\"BypassPolicyLockoutSafetyCheck\":true}",
             quoted);
    s_create(body, id, arn);
    cr_assert_eq(s_kms_as(&session, "DescribeKey", "{\"KeyId\":\"%s\"}", id), 200);
    s_kms_as(&session, "DisableKey", "{\"KeyId\":\"%s\"}", id);
    snprintf(want, sizeof(want),
             "User: arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/crdb-session is not "
             "authorized to perform: kms:DisableKey on resource: %s because no resource-based "
             "policy allows the kms:DisableKey action",
             arn);
    s_expect_error("AccessDeniedException", want);
}

Test(kms_keys, another_account_names_a_key_by_bare_id_in_its_own_account)
{
    char id[48], want[256];
    s_create("{}", id, NULL);
    struct th_creds crdb;
    th_creds_crdb(&crdb);
    s_kms_as(&crdb, "DescribeKey", "{\"KeyId\":\"%s\"}", id);
    snprintf(want, sizeof(want), "Key 'arn:aws:kms:us-east-1:999988887777:key/%s' does not exist",
             id);
    s_expect_error("NotFoundException", want);
}

Test(kms_keys, another_account_needs_an_identity_policy_too)
{
    char quoted[4096], body[4200], id[48], arn[128], want[512];
    s_quote(S_POLICY(S_STMT_ROOT("111122223333") "," S_STMT_CRDB_ACCOUNT), quoted, sizeof(quoted));
    snprintf(body, sizeof(body), "{\"Policy\":\"%s\"}", quoted);
    s_create(body, id, arn);
    struct th_creds crdb;
    th_creds_crdb(&crdb);
    s_kms_as(&crdb, "DescribeKey", "{\"KeyId\":\"%s\"}", arn);
    snprintf(want, sizeof(want),
             "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized to "
             "perform: kms:DescribeKey on resource: %s because no identity-based policy allows "
             "the kms:DescribeKey action",
             arn);
    s_expect_error("AccessDeniedException", want);
    /* Management operations never work across accounts. */
    s_kms_as(&crdb, "DisableKey", "{\"KeyId\":\"%s\"}", arn);
    snprintf(want, sizeof(want),
             "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized to "
             "perform: kms:DisableKey on resource: %s because no resource-based policy allows "
             "the kms:DisableKey action",
             arn);
    s_expect_error("AccessDeniedException", want);
}
