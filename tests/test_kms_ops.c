/* Tests of KMS's cryptographic operations, the CockroachDB CMEK key flow, and every
 * revocation path with its exact error and its restoration (issue: emulated AWS KMS, 5a-e),
 * including a concurrent proof that revocation is atomic. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cmek/crypto.h"
#include "cmek/sigv4.h"
#include "harness.h"
#include "proto_awsjson.h"
#include "server.h"
#include "store.h"
#include "test_common.h"

#define ORG         "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"
#define ROLE_ARN    "arn:aws:iam::111122223333:role/crdb-cmek-role"
#define SESSION_ARN "arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/cluster"
#define ADMIN_STATEMENT                                                                            \
    "{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"        \
    "\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}"
#define CMEK_STATEMENT                                                                             \
    "{\"Sid\":\"crdb-cmek-kms\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ROLE_ARN "\"},"    \
    "\"Action\":[\"kms:Encrypt\",\"kms:Decrypt\",\"kms:GenerateDataKey*\",\"kms:DescribeKey\","    \
    "\"kms:ReEncrypt*\"],\"Resource\":\"*\"}"
#define POLICY_WITH_CMEK                                                                           \
    "{\"Version\":\"2012-10-17\",\"Statement\":[" ADMIN_STATEMENT "," CMEK_STATEMENT "]}"
#define POLICY_WITHOUT_CMEK "{\"Version\":\"2012-10-17\",\"Statement\":[" ADMIN_STATEMENT "]}"
#define TRUST                                                                                      \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"arn:aws:iam::999988887777:root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{"            \
    "\"StringEquals\":{\"sts:ExternalId\":\"" ORG "\"}}}]}"

static struct th_ctx s_t;
static struct th_creds s_admin, s_crdb, s_session;
static char s_key[64], s_key_arn[256];

static void s_init(void)
{
    th_init(&s_t);
    th_creds_admin(&s_admin);
    th_creds_crdb(&s_crdb);
}

static void s_fini(void)
{
    th_clean_up(&s_t);
    cmek_test_fini();
}

TestSuite(kms_ops, .init = s_init, .fini = s_fini);
TestSuite(kms_cmek, .init = s_init, .fini = s_fini);

/* Sends op with body (stolen) as c. */
static int s_kms(const struct th_creds *c, const char *op, json_t *body)
{
    return th_kms_json(&s_t, NULL, c, op, body);
}

static json_t *s_reply(void)
{
    return th_json(&s_t);
}

/* Copies a string member of the last reply into out. */
static void s_get(const char *member, char *out, size_t cap)
{
    json_t *v = s_reply();
    const char *s = json_string_value(json_object_get(v, member));
    cr_assert_not_null(s, "no %s in %s", member, cmek_buf_cstr(&s_t.body));
    snprintf(out, cap, "%s", s);
    json_decref(v);
}

static void s_expect_error(const char *type, const char *message)
{
    th_expect_kms_error(&s_t, type, message);
}

static void s_create_key(const char *policy, char *id, size_t id_cap, char *arn, size_t arn_cap)
{
    json_t *body = policy ? json_pack("{s:s,s:s}", "Description", "test", "Policy", policy)
                          : json_pack("{s:s}", "Description", "test");
    cr_assert_eq(s_kms(&s_admin, "CreateKey", body), 200, "%s", cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    json_t *md = json_object_get(v, "KeyMetadata");
    snprintf(id, id_cap, "%s", json_string_value(json_object_get(md, "KeyId")));
    snprintf(arn, arn_cap, "%s", json_string_value(json_object_get(md, "Arn")));
    json_decref(v);
}

/* Encrypts "hello" (aGVsbG8=) with an optional context; returns the blob (static). */
static const char *s_encrypt(const struct th_creds *c, const char *key, json_t *context)
{
    static char blob[8192];
    json_t *body = json_pack("{s:s,s:s}", "KeyId", key, "Plaintext", "aGVsbG8=");
    if (context != NULL) {
        json_object_set_new(body, "EncryptionContext", context);
    }
    if (s_kms(c, "Encrypt", body) != 200) {
        return NULL;
    }
    s_get("CiphertextBlob", blob, sizeof(blob));
    return blob;
}

static int s_decrypt(const struct th_creds *c, const char *blob, json_t *context)
{
    json_t *body = json_pack("{s:s}", "CiphertextBlob", blob);
    if (context != NULL) {
        json_object_set_new(body, "EncryptionContext", context);
    }
    return s_kms(c, "Decrypt", body);
}

static void s_assert_plaintext(const char *want_b64)
{
    char got[8192];
    s_get("Plaintext", got, sizeof(got));
    cr_assert_str_eq(got, want_b64);
}

/* ---- Cryptographic operations ---- */

Test(kms_ops, encrypt_and_decrypt_round_trip_with_and_without_key_id)
{
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    const char *blob = s_encrypt(&s_admin, s_key, NULL);
    cr_assert_not_null(blob, "%s", cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), s_key_arn);
    cr_assert_str_eq(json_string_value(json_object_get(v, "EncryptionAlgorithm")),
                     "SYMMETRIC_DEFAULT");
    json_decref(v);
    char saved[8192];
    snprintf(saved, sizeof(saved), "%s", blob);
    cr_assert_eq(s_decrypt(&s_admin, saved, NULL), 200, "%s", cmek_buf_cstr(&s_t.body));
    s_assert_plaintext("aGVsbG8=");
    v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), s_key_arn);
    cr_assert_eq(strlen(json_string_value(json_object_get(v, "KeyMaterialId"))), 64);
    json_decref(v);
    cr_assert_eq(s_kms(&s_admin, "Decrypt",
                       json_pack("{s:s,s:s}", "CiphertextBlob", saved, "KeyId", s_key_arn)),
                 200);
    s_assert_plaintext("aGVsbG8=");
}

Test(kms_ops, encryption_context_is_bound_unambiguously)
{
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    char blob[8192];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_admin, s_key, json_pack("{s:s}", "a", "bc")));
    cr_assert_eq(s_decrypt(&s_admin, blob, json_pack("{s:s}", "ab", "c")), 400);
    s_expect_error("InvalidCiphertextException", NULL);
    cr_assert_eq(s_decrypt(&s_admin, blob, NULL), 400);
    s_expect_error("InvalidCiphertextException", NULL);
    cr_assert_eq(s_decrypt(&s_admin, blob, json_pack("{s:s}", "a", "bc")), 200);
    s_assert_plaintext("aGVsbG8=");
    /* Order of pairs does not matter. */
    snprintf(blob, sizeof(blob), "%s",
             s_encrypt(&s_admin, s_key, json_pack("{s:s,s:s}", "x", "1", "y", "2")));
    cr_assert_eq(s_decrypt(&s_admin, blob, json_pack("{s:s,s:s}", "y", "2", "x", "1")), 200);
}

Test(kms_ops, tampered_ciphertext_is_invalid)
{
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    const char *blob = s_encrypt(&s_admin, s_key, NULL);
    struct cmek_buf raw, b64;
    cmek_buf_init(&raw, 8192);
    cmek_buf_init(&b64, 16384);
    cr_assert_eq(cmek_base64_decode(blob, strlen(blob), &raw), 0);
    raw.data[raw.len - 1] ^= 1;
    cr_assert_eq(cmek_base64_encode(raw.data, raw.len, &b64), 0);
    cr_assert_eq(s_decrypt(&s_admin, cmek_buf_cstr(&b64), NULL), 400);
    s_expect_error("InvalidCiphertextException", NULL);
    cr_assert_eq(s_decrypt(&s_admin, "bm90IGEgY2lwaGVydGV4dA==", NULL), 400);
    s_expect_error("InvalidCiphertextException", NULL);
    cmek_buf_clean_up(&raw);
    cmek_buf_clean_up(&b64);
}

Test(kms_ops, decrypt_with_another_key_id_is_incorrect_key)
{
    char other[64], other_arn[256];
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    s_create_key(NULL, other, sizeof(other), other_arn, sizeof(other_arn));
    char blob[8192];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_admin, s_key, NULL));
    cr_assert_eq(
        s_kms(&s_admin, "Decrypt", json_pack("{s:s,s:s}", "CiphertextBlob", blob, "KeyId", other)),
        400);
    s_expect_error("IncorrectKeyException", "The key ID in the request does not identify a CMK "
                                            "that can perform this operation.");
}

Test(kms_ops, validation_errors_are_reported_together)
{
    cr_assert_eq(s_kms(&s_admin, "Encrypt", json_object()), 400);
    s_expect_error("ValidationException",
                   "2 validation errors detected: Value null at 'keyId' failed to satisfy "
                   "constraint: Member must not be null; Value null at 'plaintext' failed to "
                   "satisfy constraint: Member must not be null");
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    struct cmek_buf big, b64;
    cmek_buf_init(&big, 8192);
    cmek_buf_init(&b64, 16384);
    for (int i = 0; i < 4097; i++) {
        cr_assert_eq(cmek_buf_append_byte(&big, 'x'), 0);
    }
    cr_assert_eq(cmek_base64_encode(big.data, big.len, &b64), 0);
    cr_assert_eq(s_kms(&s_admin, "Encrypt",
                       json_pack("{s:s,s:s}", "KeyId", s_key, "Plaintext", cmek_buf_cstr(&b64))),
                 400);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value at 'plaintext' failed to satisfy "
                   "constraint: Member must have length less than or equal to 4096");
    cr_assert_eq(s_kms(&s_admin, "Encrypt",
                       json_pack("{s:s,s:s,s:s}", "KeyId", s_key, "Plaintext",
                                 "aGk=", "EncryptionAlgorithm", "ROT13")),
                 400);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value 'ROT13' at 'encryptionAlgorithm' failed "
                   "to satisfy constraint: Member must satisfy enum value set: "
                   "[SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]");
    cmek_buf_clean_up(&big);
    cmek_buf_clean_up(&b64);
}

Test(kms_ops, unknown_keys_and_other_regions_are_not_found)
{
    cr_assert_eq(s_kms(&s_admin, "Encrypt",
                       json_pack("{s:s,s:s}", "KeyId", "1234abcd-12ab-34cd-56ef-1234567890ab",
                                 "Plaintext", "aGk=")),
                 400);
    s_expect_error("NotFoundException", "Key 'arn:aws:kms:us-east-1:111122223333:key/"
                                        "1234abcd-12ab-34cd-56ef-1234567890ab' does not exist");
    cr_assert_eq(
        s_kms(&s_admin, "Encrypt", json_pack("{s:s,s:s}", "KeyId", "nope", "Plaintext", "aGk=")),
        400);
    s_expect_error("NotFoundException", "Invalid keyId 'nope'");
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    char blob[8192];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_admin, s_key, NULL));
    char body[9000];
    snprintf(body, sizeof(body), "{\"CiphertextBlob\":\"%s\"}", blob);
    th_signed(&s_t, "kms", "eu-west-1", &s_admin, "application/x-amz-json-1.1",
              "TrentService.Decrypt", body, 0);
    s_expect_error("AccessDeniedException",
                   "The ciphertext refers to a customer master key that does not exist, does not "
                   "exist in this region, or you are not allowed to access.");
    snprintf(body, sizeof(body), "{\"KeyId\":\"%s\",\"Plaintext\":\"aGk=\"}", s_key_arn);
    th_signed(&s_t, "kms", "eu-west-1", &s_admin, "application/x-amz-json-1.1",
              "TrentService.Encrypt", body, 0);
    s_expect_error("NotFoundException", "Invalid arn us-east-1");
}

Test(kms_ops, generate_data_key_in_every_size)
{
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    static const struct {
        const char *member;
        long long value;
        size_t bytes;
    } cases[] = {{"KeySpec", 256, 32},
                 {"KeySpec", 128, 16},
                 {"NumberOfBytes", 1, 1},
                 {"NumberOfBytes", 1024, 1024}};
    for (size_t i = 0; i < 4; i++) {
        json_t *body = json_pack("{s:s}", "KeyId", s_key);
        if (strcmp(cases[i].member, "KeySpec") == 0) {
            json_object_set_new(body, "KeySpec",
                                json_string(cases[i].value == 256 ? "AES_256" : "AES_128"));
        } else {
            json_object_set_new(body, "NumberOfBytes", json_integer(cases[i].value));
        }
        cr_assert_eq(s_kms(&s_admin, "GenerateDataKey", body), 200, "%s", cmek_buf_cstr(&s_t.body));
        char plain[4096], blob[8192];
        s_get("Plaintext", plain, sizeof(plain));
        s_get("CiphertextBlob", blob, sizeof(blob));
        struct cmek_buf raw;
        cmek_buf_init(&raw, 4096);
        cr_assert_eq(cmek_base64_decode(plain, strlen(plain), &raw), 0);
        cr_assert_eq(raw.len, cases[i].bytes, "case %zu", i);
        cmek_buf_clean_up(&raw);
        cr_assert_eq(s_decrypt(&s_admin, blob, NULL), 200);
        s_assert_plaintext(plain);
    }
    cr_assert_eq(s_kms(&s_admin, "GenerateDataKey", json_pack("{s:s}", "KeyId", s_key)), 400);
    s_expect_error("ValidationException", "Please specify either number of bytes or key spec.");
    cr_assert_eq(s_kms(&s_admin, "GenerateDataKey",
                       json_pack("{s:s,s:s,s:i}", "KeyId", s_key, "KeySpec", "AES_256",
                                 "NumberOfBytes", 32)),
                 400);
    s_expect_error("ValidationException", "Please specify either number of bytes or key spec.");
    cr_assert_eq(s_kms(&s_admin, "GenerateDataKey",
                       json_pack("{s:s,s:i}", "KeyId", s_key, "NumberOfBytes", 1025)),
                 400);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '1025' at 'numberOfBytes' failed to "
                   "satisfy constraint: Member must have value less than or equal to 1024");
}

Test(kms_ops, generate_data_key_without_plaintext_decrypts_to_a_data_key)
{
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    cr_assert_eq(s_kms(&s_admin, "GenerateDataKeyWithoutPlaintext",
                       json_pack("{s:s,s:s}", "KeyId", s_key, "KeySpec", "AES_256")),
                 200);
    json_t *v = s_reply();
    cr_assert_null(json_object_get(v, "Plaintext"));
    char blob[8192];
    snprintf(blob, sizeof(blob), "%s", json_string_value(json_object_get(v, "CiphertextBlob")));
    json_decref(v);
    cr_assert_eq(s_decrypt(&s_admin, blob, NULL), 200);
    char plain[128];
    s_get("Plaintext", plain, sizeof(plain));
    cr_assert_eq(strlen(plain), 44); /* base64 of 32 bytes */
}

Test(kms_ops, re_encrypt_moves_data_between_keys)
{
    char other[64], other_arn[256];
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    s_create_key(NULL, other, sizeof(other), other_arn, sizeof(other_arn));
    char blob[8192];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_admin, s_key, json_pack("{s:s}", "a", "1")));
    cr_assert_eq(s_kms(&s_admin, "ReEncrypt",
                       json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "CiphertextBlob", blob,
                                 "DestinationKeyId", other, "SourceEncryptionContext", "a", "1",
                                 "DestinationEncryptionContext", "b", "2")),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "SourceKeyId")), s_key_arn);
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), other_arn);
    char moved[8192];
    snprintf(moved, sizeof(moved), "%s", json_string_value(json_object_get(v, "CiphertextBlob")));
    json_decref(v);
    cr_assert_eq(s_decrypt(&s_admin, moved, json_pack("{s:s}", "b", "2")), 200);
    s_assert_plaintext("aGVsbG8=");
    cr_assert_eq(
        s_kms(&s_admin, "ReEncrypt",
              json_pack("{s:s,s:s,s:s,s:{s:s}}", "CiphertextBlob", blob, "DestinationKeyId", other,
                        "SourceKeyId", other, "SourceEncryptionContext", "a", "1")),
        400);
    s_expect_error("IncorrectKeyException", "The key ID in the request does not identify a CMK "
                                            "that can perform this operation.");
}

Test(kms_ops, generate_random_and_dry_run)
{
    cr_assert_eq(s_kms(&s_admin, "GenerateRandom", json_pack("{s:i}", "NumberOfBytes", 32)), 200);
    char plain[128];
    s_get("Plaintext", plain, sizeof(plain));
    cr_assert_eq(strlen(plain), 44);
    cr_assert_eq(s_kms(&s_admin, "GenerateRandom", json_pack("{s:i}", "NumberOfBytes", 0)), 400);
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '0' at 'numberOfBytes' failed to satisfy "
                   "constraint: Member must have value greater than or equal to 1");
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    cr_assert_eq(
        s_kms(&s_admin, "Encrypt",
              json_pack("{s:s,s:s,s:b}", "KeyId", s_key, "Plaintext", "aGk=", "DryRun", 1)),
        400);
    s_expect_error("DryRunOperationException",
                   "The request would have succeeded, but the DryRun option is set.");
}

Test(kms_ops, old_material_versions_still_decrypt_after_rotation)
{
    s_create_key(NULL, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    char before[8192];
    snprintf(before, sizeof(before), "%s", s_encrypt(&s_admin, s_key, NULL));
    struct emu_kms_key *key = emu_kms_find_key(&s_t.app, &s_t.app.store->kms, "111122223333",
                                               "us-east-1", s_key, s_t.wall);
    cr_assert_not_null(key);
    char old_id[65];
    snprintf(old_id, sizeof(old_id), "%s", emu_kms_key_current(key)->id);
    cr_assert_eq(emu_kms_rotate(&s_t.app, &s_t.app.store->kms, key, s_t.wall, true), 0);
    cr_assert_str_neq(emu_kms_key_current(key)->id, old_id);
    cr_assert_eq(s_decrypt(&s_admin, before, NULL), 200);
    s_assert_plaintext("aGVsbG8=");
    char mid[65];
    s_get("KeyMaterialId", mid, sizeof(mid));
    cr_assert_str_eq(mid, old_id);
    s_encrypt(&s_admin, s_key, NULL);
    cr_assert_eq(s_t.status, 200);
}

Test(kms_ops, session_policy_and_unknown_operations)
{
    cr_assert_eq(th_kms(&s_t, &s_admin, "Frobnicate", "{}"), 400);
    s_expect_error("UnknownOperationException", NULL);
    cr_assert_eq(th_kms(&s_t, &s_admin, "Encrypt", "[1,2]"), 400);
    s_expect_error("SerializationException", "The request body is not a JSON object.");
    cr_assert_eq(th_kms(&s_t, &s_admin, "Encrypt", "{\"KeyId\": 5, \"Plaintext\": \"aGk=\"}"), 400);
    s_expect_error("SerializationException", "Member KeyId must be a string");
}

/* ---- The CockroachDB CMEK key flow and its revocation paths ---- */

/* The customer's role trusting CockroachDB Cloud with the org id, the key with the
 * crdb-cmek-kms statement, and a session of the role assumed from 999988887777. */
static void s_setup_cmek(void)
{
    char form[2048], enc[1024];
    snprintf(form, sizeof(form),
             "Action=CreateRole&Version=2010-05-08&RoleName=crdb-cmek-role&"
             "AssumeRolePolicyDocument=%s",
             th_form_encode(TRUST, enc, sizeof(enc)));
    cr_assert_eq(th_query(&s_t, "iam", &s_admin, form), 200, "%s", cmek_buf_cstr(&s_t.body));
    s_create_key(POLICY_WITH_CMEK, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
    cr_assert_eq(th_assume_role(&s_t, &s_crdb, ROLE_ARN, "cluster", ORG, &s_session), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
}

/* The key policy's first statement names the account root, so once the role's own
 * statement no longer applies, the session is judged by its (empty) identity policies: AWS
 * says "no identity-based policy allows" in that case (aws.md 1.4). */
static void s_expect_denied(const char *action)
{
    char msg[1024];
    snprintf(msg, sizeof(msg),
             "User: " SESSION_ARN " is not authorized to perform: %s on resource: %s because no "
             "identity-based policy allows the %s action",
             action, s_key_arn, action);
    s_expect_error("AccessDeniedException", msg);
}

Test(kms_cmek, the_role_session_may_do_exactly_what_crdb_cmek_kms_allows)
{
    s_setup_cmek();
    char blob[8192];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_session, s_key, NULL));
    cr_assert_eq(s_t.status, 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(s_decrypt(&s_session, blob, NULL), 200);
    s_assert_plaintext("aGVsbG8=");
    cr_assert_eq(s_kms(&s_session, "GenerateDataKey",
                       json_pack("{s:s,s:s}", "KeyId", s_key_arn, "KeySpec", "AES_256")),
                 200);
    cr_assert_eq(s_kms(&s_session, "GenerateDataKeyWithoutPlaintext",
                       json_pack("{s:s,s:s}", "KeyId", s_key, "KeySpec", "AES_256")),
                 200);
    cr_assert_eq(s_kms(&s_session, "ReEncrypt",
                       json_pack("{s:s,s:s}", "CiphertextBlob", blob, "DestinationKeyId", s_key)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(s_kms(&s_session, "DescribeKey", json_pack("{s:s}", "KeyId", s_key)), 200);
    static const char *const denied[] = {"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy",
                                         "GetKeyPolicy", "EnableKeyRotation"};
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        json_t *body = json_pack("{s:s}", "KeyId", s_key);
        if (strcmp(denied[i], "PutKeyPolicy") == 0) {
            json_object_set_new(body, "Policy", json_string(POLICY_WITH_CMEK));
        }
        s_kms(&s_session, denied[i], body);
        char action[64];
        snprintf(action, sizeof(action), "kms:%s", denied[i]);
        s_expect_denied(action);
    }
}

Test(kms_cmek, a_removing_the_statement_denies_at_once_and_putting_it_back_restores)
{
    s_setup_cmek();
    char blob[8192];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_session, s_key, NULL));
    cr_assert_eq(s_kms(&s_admin, "PutKeyPolicy",
                       json_pack("{s:s,s:s,s:s}", "KeyId", s_key, "PolicyName", "default", "Policy",
                                 POLICY_WITHOUT_CMEK)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(s_decrypt(&s_session, blob, NULL), 400);
    s_expect_denied("kms:Decrypt");
    s_encrypt(&s_session, s_key, NULL);
    s_expect_denied("kms:Encrypt");
    s_kms(&s_session, "GenerateDataKey",
          json_pack("{s:s,s:s}", "KeyId", s_key, "KeySpec", "AES_256"));
    s_expect_denied("kms:GenerateDataKey");
    cr_assert_eq(s_kms(&s_admin, "PutKeyPolicy",
                       json_pack("{s:s,s:s}", "KeyId", s_key, "Policy", POLICY_WITH_CMEK)),
                 200);
    cr_assert_eq(s_decrypt(&s_session, blob, NULL), 200);
    s_assert_plaintext("aGVsbG8=");
}

Test(kms_cmek, b_disabling_the_key_stops_crypto_and_enabling_restores)
{
    s_setup_cmek();
    char blob[8192], msg[512];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_session, s_key, NULL));
    cr_assert_eq(s_kms(&s_admin, "DisableKey", json_pack("{s:s}", "KeyId", s_key)), 200);
    snprintf(msg, sizeof(msg), "%s is disabled.", s_key_arn);
    s_encrypt(&s_session, s_key, NULL);
    s_expect_error("DisabledException", msg);
    s_decrypt(&s_session, blob, NULL);
    s_expect_error("DisabledException", msg);
    s_kms(&s_session, "GenerateDataKey",
          json_pack("{s:s,s:s}", "KeyId", s_key, "KeySpec", "AES_256"));
    s_expect_error("DisabledException", msg);
    cr_assert_eq(s_kms(&s_admin, "EnableKey", json_pack("{s:s}", "KeyId", s_key)), 200);
    cr_assert_eq(s_decrypt(&s_session, blob, NULL), 200);
    s_assert_plaintext("aGVsbG8=");
}

Test(kms_cmek, c_scheduled_deletion_blocks_cancel_disables_and_the_window_destroys)
{
    s_setup_cmek();
    char blob[8192], msg[512];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_session, s_key, NULL));
    cr_assert_eq(s_kms(&s_admin, "ScheduleKeyDeletion",
                       json_pack("{s:s,s:i}", "KeyId", s_key, "PendingWindowInDays", 7)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    snprintf(msg, sizeof(msg), "%s is pending deletion.", s_key_arn);
    s_decrypt(&s_session, blob, NULL);
    s_expect_error("KMSInvalidStateException", msg);
    s_encrypt(&s_session, s_key, NULL);
    s_expect_error("KMSInvalidStateException", msg);
    cr_assert_eq(s_kms(&s_admin, "CancelKeyDeletion", json_pack("{s:s}", "KeyId", s_key)), 200);
    snprintf(msg, sizeof(msg), "%s is disabled.", s_key_arn);
    s_decrypt(&s_session, blob, NULL);
    s_expect_error("DisabledException", msg);
    cr_assert_eq(s_kms(&s_admin, "EnableKey", json_pack("{s:s}", "KeyId", s_key)), 200);
    cr_assert_eq(s_decrypt(&s_session, blob, NULL), 200);
    /* Scheduled again, and the waiting period passes on the emulator clock. */
    cr_assert_eq(s_kms(&s_admin, "ScheduleKeyDeletion",
                       json_pack("{s:s,s:i}", "KeyId", s_key, "PendingWindowInDays", 7)),
                 200);
    th_advance(&s_t, "6d");
    cr_assert_eq(s_kms(&s_admin, "DescribeKey", json_pack("{s:s}", "KeyId", s_key)), 200);
    th_advance(&s_t, "1d");
    s_kms(&s_admin, "DescribeKey", json_pack("{s:s}", "KeyId", s_key));
    snprintf(msg, sizeof(msg), "Key '%s' does not exist", s_key_arn);
    s_expect_error("NotFoundException", msg);
    s_decrypt(&s_admin, blob, NULL);
    s_expect_error("AccessDeniedException",
                   "The ciphertext refers to a customer master key that does not exist, does not "
                   "exist in this region, or you are not allowed to access.");
    /* The one-hour session has long expired; a fresh one finds nothing to decrypt with. */
    cr_assert_eq(th_assume_role(&s_t, &s_crdb, ROLE_ARN, "cluster", ORG, &s_session), 200);
    s_decrypt(&s_session, blob, NULL);
    s_expect_error("AccessDeniedException",
                   "The ciphertext refers to a customer master key that does not exist, does not "
                   "exist in this region, or you are not allowed to access.");
}

Test(kms_cmek, d_trust_change_blocks_new_sessions_but_not_issued_ones_until_expiry)
{
    s_setup_cmek();
    char form[1024], enc[512];
    snprintf(form, sizeof(form),
             "Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=crdb-cmek-role&"
             "PolicyDocument=%s",
             th_form_encode("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\","
                            "\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"}]}",
                            enc, sizeof(enc)));
    cr_assert_eq(th_query(&s_t, "iam", &s_admin, form), 200, "%s", cmek_buf_cstr(&s_t.body));
    struct th_creds second;
    cr_assert_eq(th_assume_role(&s_t, &s_crdb, ROLE_ARN, "cluster2", ORG, &second), 403);
    cr_assert_not_null(s_encrypt(&s_session, s_key, NULL), "%s", cmek_buf_cstr(&s_t.body));
    th_advance(&s_t, "61m");
    s_encrypt(&s_session, s_key, NULL);
    s_expect_error("ExpiredTokenException",
                   "The security token included in the request is expired");
}

Test(kms_cmek, e_deleting_the_role_denies_its_sessions_and_a_namesake_is_not_authorized)
{
    s_setup_cmek();
    char blob[8192];
    snprintf(blob, sizeof(blob), "%s", s_encrypt(&s_session, s_key, NULL));
    cr_assert_eq(th_query(&s_t, "iam", &s_admin,
                          "Action=DeleteRole&Version=2010-05-08&RoleName=crdb-cmek-role"),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    s_decrypt(&s_session, blob, NULL);
    s_expect_denied("kms:Decrypt");
    /* A new role of the same name: the key policy's statement still names the old one. */
    char form[2048], enc[1024];
    snprintf(form, sizeof(form),
             "Action=CreateRole&Version=2010-05-08&RoleName=crdb-cmek-role&"
             "AssumeRolePolicyDocument=%s",
             th_form_encode(TRUST, enc, sizeof(enc)));
    cr_assert_eq(th_query(&s_t, "iam", &s_admin, form), 200);
    struct th_creds fresh;
    cr_assert_eq(th_assume_role(&s_t, &s_crdb, ROLE_ARN, "cluster", ORG, &fresh), 200);
    s_decrypt(&fresh, blob, NULL);
    s_expect_denied("kms:Decrypt");
    /* The key policy now shows the old role's bare unique id. */
    cr_assert_eq(s_kms(&s_admin, "GetKeyPolicy", json_pack("{s:s}", "KeyId", s_key)), 200);
    cr_assert_null(strstr(cmek_buf_cstr(&s_t.body), "role/crdb-cmek-role"), "%s",
                   cmek_buf_cstr(&s_t.body));
}

/* ---- Atomic revocation under concurrent load (real sockets) ---- */

struct s_worker {
    const char *base_url;
    char host[64];
    atomic_int *revoked; /* set once the revoking call has returned */
    atomic_int *stop;
    int ok_before, ok_after, denied_after, other;
};

static size_t s_sink(char *p, size_t s, size_t n, void *ud)
{
    struct cmek_buf *b = ud;
    return cmek_buf_append(b, p, s * n) == CMEK_OK ? s * n : 0;
}

static void *s_hammer(void *arg)
{
    struct s_worker *w = arg;
    CURL *c = curl_easy_init();
    char body[256];
    snprintf(body, sizeof(body), "{\"KeyId\":\"%s\",\"Plaintext\":\"aGVsbG8=\"}", s_key);
    char url[128];
    snprintf(url, sizeof(url), "%s/", w->base_url);
    while (!atomic_load(w->stop)) {
        int revoked_before_send = atomic_load(w->revoked);
        struct cmek_http_header hh[] = {
            {cmek_view_from_cstr("Content-Type"),
             cmek_view_from_cstr("application/x-amz-json-1.1")},
            {cmek_view_from_cstr("Host"), cmek_view_from_cstr(w->host)},
            {cmek_view_from_cstr("X-Amz-Target"), cmek_view_from_cstr("TrentService.Encrypt")},
        };
        struct cmek_sigv4_request req = {
            cmek_view_from_cstr("POST"), cmek_view_from_cstr("/"), cmek_view_from_cstr(""), hh, 3,
            cmek_view_from_cstr(body)};
        struct cmek_sigv4_credentials cr = {s_session.akid, s_session.secret, s_session.token};
        struct cmek_sigv4_sign_options opt = {.credentials = &cr,
                                              .region = "us-east-1",
                                              .service = "kms",
                                              .when = s_t.wall,
                                              .normalize_path = true};
        struct cmek_sigv4_signed out;
        cmek_sigv4_signed_init(&out);
        struct cmek_http_header added[CMEK_SIGV4_MAX_ADDED_HEADERS];
        size_t n_added = 0;
        if (cmek_sigv4_sign_to_headers(&req, &opt, &out, added, &n_added) != 0) {
            cmek_sigv4_signed_clean_up(&out);
            w->other++;
            continue;
        }
        char line[2048];
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-amz-json-1.1");
        h = curl_slist_append(h, "X-Amz-Target: TrentService.Encrypt");
        for (size_t i = 0; i < n_added; i++) {
            snprintf(line, sizeof(line), "%.*s: %.*s", (int)added[i].name.len, added[i].name.ptr,
                     (int)added[i].value.len, added[i].value.ptr);
            h = curl_slist_append(h, line);
        }
        cmek_sigv4_signed_clean_up(&out);
        struct cmek_buf resp;
        cmek_buf_init(&resp, 1 << 16);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_sink);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
        long status = 0;
        if (curl_easy_perform(c) == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        }
        if (status == 200) {
            if (revoked_before_send) {
                w->ok_after++;
            } else {
                w->ok_before++;
            }
        } else if (revoked_before_send && strstr(cmek_buf_cstr(&resp), "AccessDeniedException")) {
            w->denied_after++;
        } else if (!revoked_before_send && strstr(cmek_buf_cstr(&resp), "AccessDeniedException")) {
            /* in flight while the revocation happened: allowed either way */
        } else {
            w->other++;
        }
        curl_slist_free_all(h);
        cmek_buf_clean_up(&resp);
    }
    curl_easy_cleanup(c);
    return NULL;
}

Test(kms_cmek, revocation_is_atomic_under_concurrent_clients, .timeout = 120)
{
    s_setup_cmek();
    s_t.app.cfg.threads = 4;
    struct emu_server *server = NULL;
    const char *why = NULL;
    cr_assert_eq(emu_server_start(&s_t.app, "127.0.0.1:0", &server, &why), 0, "%s", why);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    atomic_int revoked = 0, stop = 0;
    enum { N = 8 };
    struct s_worker workers[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        memset(&workers[i], 0, sizeof(workers[i]));
        workers[i].base_url = emu_server_base_url(server);
        snprintf(workers[i].host, sizeof(workers[i].host), "127.0.0.1:%u",
                 (unsigned)emu_server_port(server));
        workers[i].revoked = &revoked;
        workers[i].stop = &stop;
        cr_assert_eq(pthread_create(&th[i], NULL, s_hammer, &workers[i]), 0);
    }
    /* Let every client succeed a few times, revoke, and let them keep trying. */
    for (int spins = 0; spins < 2000; spins++) {
        int min_ok = 1 << 30;
        for (int i = 0; i < N; i++) {
            min_ok = workers[i].ok_before < min_ok ? workers[i].ok_before : min_ok;
        }
        if (min_ok >= 20) {
            break;
        }
        usleep(5000);
    }
    cr_assert_eq(s_kms(&s_admin, "PutKeyPolicy",
                       json_pack("{s:s,s:s}", "KeyId", s_key, "Policy", POLICY_WITHOUT_CMEK)),
                 200);
    atomic_store(&revoked, 1);
    for (int spins = 0; spins < 2000; spins++) {
        int min_denied = 1 << 30;
        for (int i = 0; i < N; i++) {
            min_denied =
                workers[i].denied_after < min_denied ? workers[i].denied_after : min_denied;
        }
        if (min_denied >= 20) {
            break;
        }
        usleep(5000);
    }
    atomic_store(&stop, 1);
    int ok_before = 0, ok_after = 0, denied_after = 0, other = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        ok_before += workers[i].ok_before;
        ok_after += workers[i].ok_after;
        denied_after += workers[i].denied_after;
        other += workers[i].other;
    }
    emu_server_stop(server);
    curl_global_cleanup();
    cr_assert_geq(ok_before, N * 20, "clients succeeded %d times before revocation", ok_before);
    cr_assert_geq(denied_after, N * 20, "clients were denied %d times after", denied_after);
    cr_assert_eq(ok_after, 0, "%d requests started after the revocation returned succeeded",
                 ok_after);
    cr_assert_eq(other, 0, "%d unexpected answers", other);
}

/* ---- Operation-specific condition keys ---- */

/* A key whose policy lets the account do everything except what statement (a Deny)
 * forbids. */
static void s_create_key_denying(const char *deny_statement)
{
    char policy[2048];
    snprintf(policy, sizeof(policy), "{\"Version\":\"2012-10-17\",\"Statement\":[%s,%s]}",
             ADMIN_STATEMENT, deny_statement);
    s_create_key(policy, s_key, sizeof(s_key), s_key_arn, sizeof(s_key_arn));
}

static void s_expect_explicit_deny(const char *action)
{
    char msg[1024];
    snprintf(msg, sizeof(msg),
             "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: %s on "
             "resource: %s with an explicit deny in a resource-based policy",
             action, s_key_arn);
    s_expect_error("AccessDeniedException", msg);
}

Test(kms_ops, key_policy_sees_the_deletion_window_requested)
{
    s_create_key_denying("{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"},\"Action\":"
                         "\"kms:ScheduleKeyDeletion\",\"Resource\":\"*\",\"Condition\":{"
                         "\"NumericLessThan\":{\"kms:ScheduleKeyDeletionPendingWindowInDays\":"
                         "\"30\"}}}");
    s_kms(&s_admin, "ScheduleKeyDeletion",
          json_pack("{s:s,s:i}", "KeyId", s_key, "PendingWindowInDays", 7));
    s_expect_explicit_deny("kms:ScheduleKeyDeletion");
    cr_assert_eq(s_kms(&s_admin, "ScheduleKeyDeletion",
                       json_pack("{s:s,s:i}", "KeyId", s_key, "PendingWindowInDays", 30)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
}

Test(kms_ops, key_policy_sees_the_lockout_bypass_flag)
{
    s_create_key_denying("{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"},\"Action\":"
                         "\"kms:PutKeyPolicy\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{"
                         "\"kms:BypassPolicyLockoutSafetyCheck\":\"true\"}}}");
    s_kms(&s_admin, "PutKeyPolicy",
          json_pack("{s:s,s:s,s:b}", "KeyId", s_key, "Policy", POLICY_WITHOUT_CMEK,
                    "BypassPolicyLockoutSafetyCheck", 1));
    s_expect_explicit_deny("kms:PutKeyPolicy");
    cr_assert_eq(s_kms(&s_admin, "PutKeyPolicy",
                       json_pack("{s:s,s:s}", "KeyId", s_key, "Policy", POLICY_WITHOUT_CMEK)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
}

Test(kms_ops, key_policy_sees_the_rotation_period_requested)
{
    s_create_key_denying("{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"},\"Action\":"
                         "\"kms:EnableKeyRotation\",\"Resource\":\"*\",\"Condition\":{"
                         "\"NumericLessThan\":{\"kms:RotationPeriodInDays\":\"180\"}}}");
    s_kms(&s_admin, "EnableKeyRotation",
          json_pack("{s:s,s:i}", "KeyId", s_key, "RotationPeriodInDays", 90));
    s_expect_explicit_deny("kms:EnableKeyRotation");
    cr_assert_eq(s_kms(&s_admin, "EnableKeyRotation",
                       json_pack("{s:s,s:i}", "KeyId", s_key, "RotationPeriodInDays", 365)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
}

Test(kms_ops, identity_policy_sees_the_bypass_flag_on_create_key)
{
    /* A user whose identity policy allows kms:CreateKey only without the bypass flag. */
    struct th_creds user;
    cr_assert_eq(
        th_query(&s_t, "iam", &s_admin, "Action=CreateUser&Version=2010-05-08&UserName=keymaker"),
        200);
    /* IAM here has no PutUserPolicy: attach the policy through the model instead. */
    struct emu_iam_user *u = emu_iam_user_by_name(&s_t.app.store->iam, "111122223333", "keymaker");
    cr_assert_not_null(u);
    struct emu_iam_inline_policy *p = calloc(1, sizeof(*p));
    p->name = strdup("p");
    struct emu_policy_error perr;
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                      "\"kms:CreateKey\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{"
                      "\"kms:BypassPolicyLockoutSafetyCheck\":\"false\"}}}]}";
    cr_assert_eq(emu_policy_parse(doc, strlen(doc), EMU_POLICY_IDENTITY, NULL, &p->policy, &perr),
                 0, "%s", perr.message);
    cr_assert_eq(cmek_vec_push(&u->ident.inline_policies, p), 0);
    cr_assert_eq(th_query(&s_t, "iam", &s_admin,
                          "Action=CreateAccessKey&Version=2010-05-08&UserName=keymaker"),
                 200);
    memset(&user, 0, sizeof(user));
    cr_assert(th_xml(&s_t, "AccessKeyId", user.akid, sizeof(user.akid)));
    cr_assert(th_xml(&s_t, "SecretAccessKey", user.secret, sizeof(user.secret)));
    cr_assert_eq(s_kms(&user, "CreateKey", json_object()), 200, "%s", cmek_buf_cstr(&s_t.body));
    s_kms(
        &user, "CreateKey",
        json_pack("{s:b,s:s}", "BypassPolicyLockoutSafetyCheck", 1, "Policy", POLICY_WITHOUT_CMEK));
    s_expect_error("AccessDeniedException",
                   "User: arn:aws:iam::111122223333:user/keymaker is not authorized to perform: "
                   "kms:CreateKey on resource: * because no identity-based policy allows the "
                   "kms:CreateKey action");
}

TestSuite(kms_proto, .fini = cmek_test_fini);

/* The direct JSON writer of responses must write what jansson writes, byte for byte, and
 * hand anything it does not write itself to jansson. */
Test(kms_proto, json_writer_matches_jansson_byte_for_byte)
{
    const char *docs[] = {
        "{}",
        "[]",
        "{\"KeyId\":\"arn:aws:kms:us-east-1:111122223333:key/1234\",\"CiphertextBlob\":"
        "\"AQIDBA+/==\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}",
        "{\"a\":1,\"b\":-9223372036854775808,\"c\":true,\"d\":false,\"e\":null,\"f\":[1,[2,{}],[]]"
        "}",
        "{\"KeyMetadata\":{\"CreationDate\":1700000000,\"Enabled\":true,\"EncryptionAlgorithms\":"
        "[\"SYMMETRIC_DEFAULT\"],\"MultiRegionConfiguration\":{\"ReplicaKeys\":[]}}}",
        "{\"Description\":\"quote \\\" backslash \\\\ slash / tab \\t nl \\n ctl \\u0001\"}",
        "{\"Description\":\"caf\\u00e9 \\u2028 \\ud83d\\ude00\",\"x\":1}",
        "{\"ratio\":0.5,\"name\":\"k\"}",
        "{\"deep\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}",
        "{\"\\u00e9\":\"key not plain\"}",
        "{\"s\":\"~ !#$%&'()*+,-.0123456789:;<=>?@[]^_`{|}\"}",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_t *v = json_loads(docs[i], JSON_DECODE_ANY, NULL);
        cr_assert_not_null(v, "doc %zu", i);
        char *want = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        struct cmek_buf got;
        cmek_buf_init(&got, 1 << 20);
        cr_assert_eq(cmek_buf_append_str(&got, "prefix:"), CMEK_OK);
        cr_assert_eq(emu_awsjson_write(v, &got), CMEK_OK, "doc %zu", i);
        cr_assert_str_eq(cmek_buf_cstr(&got) + 7, want, "doc %zu", i);
        cr_assert_eq(got.len, 7 + strlen(want));
        cmek_buf_clean_up(&got);
        free(want);
        json_decref(v);
    }
    /* Over the cap: an error, not a truncated body. */
    json_t *big = json_pack("{s:s}", "Plaintext", "0123456789abcdef0123456789abcdef");
    struct cmek_buf small;
    cmek_buf_init(&small, 16);
    cr_assert_neq(emu_awsjson_write(big, &small), CMEK_OK);
    cmek_buf_clean_up(&small);
    json_decref(big);
}
