/* Tests of imported key material in the emulated KMS: GetParametersForImport,
 * ImportKeyMaterial and DeleteImportedKeyMaterial, end to end through the signed JSON 1.1
 * front door, with real RSA wrapping on the client side (emu_kms_wrap): the whole flow for
 * each wrapping algorithm and key spec, re-import rules, every token failure (another key's,
 * used, replaced, expired), bad ciphertext and bad material, the key-state rules, ValidTo
 * rules, deletion and re-import, and expiry of imported material on the emulator clock.
 *
 * Each test gets a fresh emulator built from fixtures/world.json (customer account
 * 111122223333 with user admin, AdministratorAccess), clock at 2026-11-23T12:00:00Z. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmek/crypto.h"
#include "harness.h"
#include "kms_crypto.h"
#include "test_common.h"

#define S_START_S   1795435200LL /* 2026-11-23T12:00:00Z, the harness's start */
#define S_B64_MAX   4096
#define S_BODY_MAX  (64u * 1024u)
#define S_OAEP_256  "RSAES_OAEP_SHA_256"
#define S_NO_EXPIRY "KEY_MATERIAL_DOES_NOT_EXPIRE"

#define S_INVALID_TOKEN                                                                            \
    "The request was rejected because the provided import token is invalid or is associated "      \
    "with a different KMS key."
#define S_EXPIRED_TOKEN                                                                            \
    "The request was rejected because the specified import token is expired. Use "                 \
    "GetParametersForImport to get a new import token and public key, use the new public key "     \
    "to encrypt the key material, and then try the request again."

TH_ADMIN_FIXTURE()

TestSuite(kms_import, .init = s_init, .fini = s_fini);

/* ---- Helpers ---- */

/* Sends op with body (stolen) as c. */
static int s_kms_as(const struct th_creds *c, const char *op, json_t *body)
{
    return th_kms_json(&s_t, NULL, c, op, body);
}

static int s_kms(const char *op, json_t *body)
{
    return s_kms_as(&s_admin, op, body);
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
    cr_assert_lt(strlen(s), cap);
    snprintf(out, cap, "%s", s);
    json_decref(v);
}

static void s_expect_ok(void)
{
    cr_assert_eq(s_t.status, 200, "status %d: %s", s_t.status, cmek_buf_cstr(&s_t.body));
}

/* The last reply is a 400 with this __type and message (NULL: no message member). */
static void s_expect_error(const char *type, const char *message)
{
    th_expect_kms_error(&s_t, type, message);
}

/* Same, with the message built from a format. */
__attribute__((format(printf, 2, 3))) static void s_expect_errorf(const char *type, const char *fmt,
                                                                  ...)
{
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    s_expect_error(type, message);
}

struct s_key {
    char id[64];
    char arn[256];
};

static void s_create(const char *origin, struct s_key *out)
{
    json_t *body = origin ? json_pack("{s:s}", "Origin", origin) : json_object();
    cr_assert_eq(s_kms("CreateKey", body), 200, "%s", cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    json_t *md = json_object_get(v, "KeyMetadata");
    snprintf(out->id, sizeof(out->id), "%s", json_string_value(json_object_get(md, "KeyId")));
    snprintf(out->arn, sizeof(out->arn), "%s", json_string_value(json_object_get(md, "Arn")));
    json_decref(v);
}

/* DescribeKey's KeyMetadata (new reference). */
static json_t *s_describe(const struct s_key *key)
{
    cr_assert_eq(s_kms("DescribeKey", json_pack("{s:s}", "KeyId", key->id)), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    json_t *md = json_incref(json_object_get(v, "KeyMetadata"));
    json_decref(v);
    cr_assert_not_null(md);
    return md;
}

static const char *s_md_str(const json_t *md, const char *member)
{
    return json_string_value(json_object_get(md, member));
}

/* The key's state, and that Enabled agrees with it. */
static void s_expect_state(const struct s_key *key, const char *state)
{
    json_t *md = s_describe(key);
    cr_assert_str_eq(s_md_str(md, "KeyState"), state);
    cr_assert_eq(json_is_true(json_object_get(md, "Enabled")), strcmp(state, "Enabled") == 0);
    json_decref(md);
}

/* What GetParametersForImport returned. */
struct s_params {
    char token[S_B64_MAX];
    char public_key[S_B64_MAX];
    long long valid_to;
};

static int s_get_params_status(const struct s_key *key, const char *algorithm, const char *spec)
{
    return s_kms("GetParametersForImport",
                 json_pack("{s:s,s:s,s:s}", "KeyId", key->id, "WrappingAlgorithm", algorithm,
                           "WrappingKeySpec", spec));
}

static void s_get_params(const struct s_key *key, const char *algorithm, const char *spec,
                         struct s_params *out)
{
    s_get_params_status(key, algorithm, spec);
    s_expect_ok();
    json_t *v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), key->arn);
    const char *token = json_string_value(json_object_get(v, "ImportToken"));
    const char *pub = json_string_value(json_object_get(v, "PublicKey"));
    cr_assert_not_null(token);
    cr_assert_not_null(pub);
    cr_assert(json_is_integer(json_object_get(v, "ParametersValidTo")));
    snprintf(out->token, sizeof(out->token), "%s", token);
    snprintf(out->public_key, sizeof(out->public_key), "%s", pub);
    out->valid_to = json_integer_value(json_object_get(v, "ParametersValidTo"));
    json_decref(v);
}

/* Wraps bytes as a client would: with the returned public key and algorithm; base64 out. */
static void s_wrap(const struct s_params *p, const char *algorithm, const uint8_t *bytes,
                   size_t len, char *out, size_t cap)
{
    struct cmek_buf der, wrapped, b64;
    cmek_buf_init(&der, S_B64_MAX);
    cmek_buf_init(&wrapped, S_B64_MAX);
    cmek_buf_init(&b64, S_B64_MAX);
    cr_assert_eq(cmek_base64_decode(p->public_key, strlen(p->public_key), &der), CMEK_OK);
    cr_assert_eq(emu_kms_wrap((const uint8_t *)der.data, der.len, algorithm, bytes, len, &wrapped),
                 CMEK_OK);
    cr_assert_eq(cmek_base64_encode(wrapped.data, wrapped.len, &b64), CMEK_OK);
    cr_assert_lt(b64.len, cap);
    snprintf(out, cap, "%s", cmek_buf_cstr(&b64));
    cmek_buf_clean_up(&der);
    cmek_buf_clean_up(&wrapped);
    cmek_buf_clean_up(&b64);
}

/* ImportKeyMaterial with token and wrapped material; extra (stolen, may be NULL) adds or
 * overrides members. */
static int s_import_raw(const struct s_key *key, const char *token, const char *wrapped,
                        json_t *extra)
{
    json_t *body = json_pack("{s:s,s:s,s:s}", "KeyId", key->id, "ImportToken", token,
                             "EncryptedKeyMaterial", wrapped);
    cr_assert_not_null(body);
    if (extra != NULL) {
        cr_assert_eq(json_object_update(body, extra), 0);
        json_decref(extra);
    }
    return s_kms("ImportKeyMaterial", body);
}

/* The whole client side: parameters (OAEP-SHA-256, RSA_2048), wrap, import; extra as above
 * (by default KEY_MATERIAL_DOES_NOT_EXPIRE). Returns the import's status. */
static int s_import(const struct s_key *key, const uint8_t *bytes, size_t len, json_t *extra)
{
    struct s_params p;
    char wrapped[S_B64_MAX];
    s_get_params(key, S_OAEP_256, "RSA_2048", &p);
    s_wrap(&p, S_OAEP_256, bytes, len, wrapped, sizeof(wrapped));
    if (extra == NULL) {
        extra = json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY);
    }
    return s_import_raw(key, p.token, wrapped, extra);
}

/* The KeyMaterialId AWS-style for bytes in key (what the emulator must report). */
static void s_material_id(const struct s_key *key, const uint8_t *bytes, char out[65])
{
    struct emu_kms_material m;
    cr_assert_eq(emu_kms_material_from_bytes(key->id, bytes, EMU_KMS_MATERIAL_BYTES, 0, &m),
                 CMEK_OK);
    snprintf(out, 65, "%s", m.id);
    cmek_cleanse(&m, sizeof(m));
}

static void s_random(uint8_t *out, size_t len)
{
    cr_assert_eq(cmek_random_bytes(out, len), CMEK_OK);
}

/* An EXTERNAL key with 32 random bytes imported (no expiry). */
static void s_imported_key(struct s_key *key, uint8_t bytes[32])
{
    s_create("EXTERNAL", key);
    s_random(bytes, 32);
    s_import(key, bytes, 32, NULL);
    s_expect_ok();
}

/* ---- The whole flow ---- */

struct s_wrap_case {
    char algorithm[32]; /* arrays, not pointers: Criterion's parameters under PIE */
    char spec[16];
    int bits;
};

ParameterizedTestParameters(kms_import, imports_with_each_wrapping_algorithm_and_spec)
{
    /* RSA_4096 key generation is slow under AddressSanitizer: one case. */
    static struct s_wrap_case cases[] = {
        {"RSAES_OAEP_SHA_256", "RSA_2048", 2048}, {"RSAES_OAEP_SHA_1", "RSA_2048", 2048},
        {"RSAES_PKCS1_V1_5", "RSA_2048", 2048},   {"RSAES_OAEP_SHA_256", "RSA_3072", 3072},
        {"RSAES_OAEP_SHA_1", "RSA_3072", 3072},   {"RSAES_OAEP_SHA_256", "RSA_4096", 4096},
    };
    return cr_make_param_array(struct s_wrap_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct s_wrap_case *c, kms_import, imports_with_each_wrapping_algorithm_and_spec)
{
    struct s_key key;
    s_create("EXTERNAL", &key);

    json_t *md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "KeyState"), "PendingImport");
    cr_assert_str_eq(s_md_str(md, "Origin"), "EXTERNAL");
    cr_assert(json_is_false(json_object_get(md, "Enabled")));
    cr_assert_null(json_object_get(md, "CurrentKeyMaterialId"));
    cr_assert_null(json_object_get(md, "ExpirationModel"));
    json_decref(md);

    struct s_params p;
    s_get_params(&key, c->algorithm, c->spec, &p);
    cr_assert_eq(p.valid_to, S_START_S + 24 * 3600, "ParametersValidTo is now + 24 h");

    /* PublicKey is DER SubjectPublicKeyInfo of an RSA key of the asked size. */
    struct cmek_buf der;
    cmek_buf_init(&der, S_B64_MAX);
    cr_assert_eq(cmek_base64_decode(p.public_key, strlen(p.public_key), &der), CMEK_OK);
    const unsigned char *d = (const unsigned char *)der.data;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &d, (long)der.len);
    cr_assert_not_null(pkey);
    cr_assert_eq(d, (const unsigned char *)der.data + der.len, "trailing bytes after the SPKI");
    cr_assert_eq(EVP_PKEY_get_base_id(pkey), EVP_PKEY_RSA);
    cr_assert_eq(EVP_PKEY_get_bits(pkey), c->bits);
    EVP_PKEY_free(pkey);
    cmek_buf_clean_up(&der);

    uint8_t bytes[32];
    char wrapped[S_B64_MAX], want_id[65];
    s_random(bytes, sizeof(bytes));
    s_wrap(&p, c->algorithm, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    s_import_raw(&key, p.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_ok();
    s_material_id(&key, bytes, want_id);
    json_t *v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), key.arn);
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyMaterialId")), want_id);
    json_decref(v);

    md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "KeyState"), "Enabled");
    cr_assert(json_is_true(json_object_get(md, "Enabled")));
    cr_assert_str_eq(s_md_str(md, "CurrentKeyMaterialId"), want_id);
    cr_assert_str_eq(s_md_str(md, "ExpirationModel"), S_NO_EXPIRY);
    cr_assert_null(json_object_get(md, "ValidTo"));
    json_decref(md);
}

Test(kms_import, accepts_key_arn_and_uses_imported_material_for_encryption)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct s_params p;
    cr_assert_eq(s_kms("GetParametersForImport",
                       json_pack("{s:s,s:s,s:s}", "KeyId", key.arn, "WrappingAlgorithm", S_OAEP_256,
                                 "WrappingKeySpec", "RSA_2048")),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    s_get("ImportToken", p.token, sizeof(p.token));
    s_get("PublicKey", p.public_key, sizeof(p.public_key));
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    s_wrap(&p, S_OAEP_256, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    json_t *body = json_pack("{s:s,s:s,s:s,s:s}", "KeyId", key.arn, "ImportToken", p.token,
                             "EncryptedKeyMaterial", wrapped, "ExpirationModel", S_NO_EXPIRY);
    cr_assert_eq(s_kms("ImportKeyMaterial", body), 200, "%s", cmek_buf_cstr(&s_t.body));

    cr_assert_eq(s_kms("Encrypt", json_pack("{s:s,s:s}", "KeyId", key.id, "Plaintext", "aGVsbG8=")),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    char blob[S_B64_MAX];
    s_get("CiphertextBlob", blob, sizeof(blob));
    cr_assert_eq(s_kms("Decrypt", json_pack("{s:s}", "CiphertextBlob", blob)), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    char plain[64];
    s_get("Plaintext", plain, sizeof(plain));
    cr_assert_str_eq(plain, "aGVsbG8=");
}

/* ---- Re-import ---- */

Test(kms_import, reimports_the_same_material_and_changes_its_expiration)
{
    struct s_key key;
    uint8_t bytes[32];
    char want_id[65];
    s_imported_key(&key, bytes);
    s_material_id(&key, bytes, want_id);

    /* Same bytes again, now expiring: allowed, same id, new expiration. */
    long long valid_to = S_START_S + 30 * 86400;
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:I}", "ExpirationModel", "KEY_MATERIAL_EXPIRES", "ValidTo",
                       (json_int_t)valid_to));
    s_expect_ok();
    char got[65];
    s_get("KeyMaterialId", got, sizeof(got));
    cr_assert_str_eq(got, want_id);

    json_t *md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "KeyState"), "Enabled");
    cr_assert_str_eq(s_md_str(md, "CurrentKeyMaterialId"), want_id);
    cr_assert_str_eq(s_md_str(md, "ExpirationModel"), "KEY_MATERIAL_EXPIRES");
    cr_assert_eq(json_integer_value(json_object_get(md, "ValidTo")), valid_to);
    json_decref(md);

    /* And with EXISTING_KEY_MATERIAL and the right KeyMaterialId. */
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:s,s:s,s:s}", "ExpirationModel", S_NO_EXPIRY, "ImportType",
                       "EXISTING_KEY_MATERIAL", "KeyMaterialId", want_id, "KeyMaterialDescription",
                       "backup of 2026-11 key"));
    s_expect_ok();
    md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "ExpirationModel"), S_NO_EXPIRY);
    cr_assert_null(json_object_get(md, "ValidTo"));
    json_decref(md);
}

Test(kms_import, rejects_different_material_on_reimport)
{
    struct s_key key;
    uint8_t bytes[32], other[32];
    s_imported_key(&key, bytes);
    s_random(other, sizeof(other));
    s_import(&key, other, sizeof(other), NULL);
    s_expect_errorf("IncorrectKeyMaterialException",
                    "The key material is not the key material that was previously imported into "
                    "KMS key %s. You can reimport the same key material, but you cannot import "
                    "different key material.",
                    key.arn);
}

Test(kms_import, rejects_new_key_material_import_type_on_key_with_material)
{
    struct s_key key;
    uint8_t bytes[32], other[32];
    char id[65];
    s_imported_key(&key, bytes);
    s_material_id(&key, bytes, id);
    s_import(
        &key, bytes, sizeof(bytes),
        json_pack("{s:s,s:s}", "ExpirationModel", S_NO_EXPIRY, "ImportType", "NEW_KEY_MATERIAL"));
    s_expect_errorf("IncorrectKeyMaterialException",
                    "Key material (id: %s) is already associated with KMS key %s. Use ImportType "
                    "EXISTING_KEY_MATERIAL to reimport it.",
                    id, key.arn);

    s_random(other, sizeof(other));
    s_import(
        &key, other, sizeof(other),
        json_pack("{s:s,s:s}", "ExpirationModel", S_NO_EXPIRY, "ImportType", "NEW_KEY_MATERIAL"));
    s_expect_errorf("UnsupportedOperationException",
                    "Importing new key material into KMS key %s, which already has key material, "
                    "is not supported by cmek-emulator.",
                    key.arn);
}

Test(kms_import, rejects_key_material_id_that_does_not_match_the_material)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    uint8_t bytes[32];
    s_random(bytes, sizeof(bytes));
    const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:s}", "ExpirationModel", S_NO_EXPIRY, "KeyMaterialId", wrong));
    s_expect_errorf("IncorrectKeyMaterialException",
                    "The key material does not match the key material ID %s of KMS key %s.", wrong,
                    key.arn);
    s_expect_state(&key, "PendingImport");
}

/* ---- Import tokens ---- */

Test(kms_import, rejects_token_issued_for_another_key)
{
    struct s_key a, b;
    s_create("EXTERNAL", &a);
    s_create("EXTERNAL", &b);
    struct s_params pa, pb;
    s_get_params(&a, S_OAEP_256, "RSA_2048", &pa);
    s_get_params(&b, S_OAEP_256, "RSA_2048", &pb);
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    /* Material wrapped for B, but A's token: the token does not name B. */
    s_wrap(&pb, S_OAEP_256, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    s_import_raw(&b, pa.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("InvalidImportTokenException", S_INVALID_TOKEN);
    s_expect_state(&b, "PendingImport");

    /* B's own token still works after the failed attempt. */
    s_import_raw(&b, pb.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_ok();
}

Test(kms_import, rejects_token_that_is_not_one)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct s_params p;
    s_get_params(&key, S_OAEP_256, "RSA_2048", &p);
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    s_wrap(&p, S_OAEP_256, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    /* "not a token" in base64 */
    s_import_raw(&key, "bm90IGEgdG9rZW4=", wrapped,
                 json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("InvalidImportTokenException", S_INVALID_TOKEN);
}

Test(kms_import, rejects_token_used_once_already)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct s_params p;
    s_get_params(&key, S_OAEP_256, "RSA_2048", &p);
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    s_wrap(&p, S_OAEP_256, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    s_import_raw(&key, p.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_ok();
    s_import_raw(&key, p.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("InvalidImportTokenException", S_INVALID_TOKEN);
}

Test(kms_import, rejects_token_replaced_by_newer_parameters)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct s_params old, fresh;
    s_get_params(&key, S_OAEP_256, "RSA_2048", &old);
    s_get_params(&key, "RSAES_OAEP_SHA_1", "RSA_2048", &fresh);
    cr_assert_str_neq(old.token, fresh.token);
    cr_assert_str_neq(old.public_key, fresh.public_key);
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    s_wrap(&old, S_OAEP_256, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    s_import_raw(&key, old.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("InvalidImportTokenException", S_INVALID_TOKEN);
}

Test(kms_import, rejects_expired_token)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct s_params p;
    s_get_params(&key, S_OAEP_256, "RSA_2048", &p);
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    s_wrap(&p, S_OAEP_256, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    th_advance(&s_t, "25h");
    s_import_raw(&key, p.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("ExpiredImportTokenException", S_EXPIRED_TOKEN);
    s_expect_state(&key, "PendingImport");
}

Test(kms_import, accepts_token_just_before_it_expires)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct s_params p;
    s_get_params(&key, S_OAEP_256, "RSA_2048", &p);
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    s_wrap(&p, S_OAEP_256, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    th_advance(&s_t, "23h");
    s_import_raw(&key, p.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_ok();
}

/* ---- Encrypted key material ---- */

Test(kms_import, rejects_garbage_encrypted_material_without_message)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct s_params p;
    s_get_params(&key, S_OAEP_256, "RSA_2048", &p);
    s_import_raw(&key, p.token, "Z2FyYmFnZQ==", json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("InvalidCiphertextException", NULL);
    s_expect_state(&key, "PendingImport");
}

Test(kms_import, rejects_material_wrapped_with_another_algorithm)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct s_params p;
    s_get_params(&key, S_OAEP_256, "RSA_2048", &p);
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    s_wrap(&p, "RSAES_OAEP_SHA_1", bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    s_import_raw(&key, p.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("InvalidCiphertextException", NULL);
}

Test(kms_import, rejects_material_wrapped_under_another_public_key)
{
    struct s_key a, b;
    s_create("EXTERNAL", &a);
    s_create("EXTERNAL", &b);
    struct s_params pa, pb;
    s_get_params(&a, S_OAEP_256, "RSA_2048", &pa);
    s_get_params(&b, S_OAEP_256, "RSA_2048", &pb);
    uint8_t bytes[32];
    char wrapped[S_B64_MAX];
    s_random(bytes, sizeof(bytes));
    s_wrap(&pb, S_OAEP_256, bytes, sizeof(bytes), wrapped, sizeof(wrapped));
    s_import_raw(&a, pa.token, wrapped, json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("InvalidCiphertextException", NULL);
}

Test(kms_import, rejects_material_that_is_not_256_bits)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    uint8_t bytes[16];
    s_random(bytes, sizeof(bytes));
    s_import(&key, bytes, sizeof(bytes), NULL);
    s_expect_error("IncorrectKeyMaterialException",
                   "The key material for a SYMMETRIC_DEFAULT KMS key must be 256 bits (32 bytes) "
                   "long, not 16 bytes.");
    s_expect_state(&key, "PendingImport");
}

/* ---- Keys that cannot take imported material ---- */

Test(kms_import, refuses_key_with_aws_kms_origin)
{
    struct s_key key;
    s_create(NULL, &key);
    s_get_params_status(&key, S_OAEP_256, "RSA_2048");
    s_expect_errorf("UnsupportedOperationException",
                    "%s origin is AWS_KMS which is not valid for this operation.", key.arn);
    s_import_raw(&key,
                 "dG9rZW4=", "bWF0ZXJpYWw=", json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_errorf("UnsupportedOperationException",
                    "%s origin is AWS_KMS which is not valid for this operation.", key.arn);
    s_kms("DeleteImportedKeyMaterial", json_pack("{s:s}", "KeyId", key.id));
    s_expect_errorf("UnsupportedOperationException",
                    "%s origin is AWS_KMS which is not valid for this operation.", key.arn);
}

Test(kms_import, refuses_parameters_for_key_pending_deletion)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    cr_assert_eq(s_kms("ScheduleKeyDeletion",
                       json_pack("{s:s,s:i}", "KeyId", key.id, "PendingWindowInDays", 7)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    s_get_params_status(&key, S_OAEP_256, "RSA_2048");
    s_expect_errorf("KMSInvalidStateException", "%s is pending deletion.", key.arn);
}

Test(kms_import, refuses_unknown_key)
{
    const char *id = "0b8e3c1d-2f4a-4c6b-9d7e-1a2b3c4d5e6f";
    struct s_key key;
    snprintf(key.id, sizeof(key.id), "%s", id);
    s_get_params_status(&key, S_OAEP_256, "RSA_2048");
    s_expect_errorf("NotFoundException",
                    "Key 'arn:aws:kms:us-east-1:111122223333:key/%s' does "
                    "not exist",
                    id);
}

Test(kms_import, denies_principal_of_another_account)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    struct th_creds crdb;
    th_creds_crdb(&crdb);
    s_kms_as(&crdb, "GetParametersForImport",
             json_pack("{s:s,s:s,s:s}", "KeyId", key.arn, "WrappingAlgorithm", S_OAEP_256,
                       "WrappingKeySpec", "RSA_2048"));
    s_expect_errorf("AccessDeniedException",
                    "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized "
                    "to perform: kms:GetParametersForImport on resource: %s because no "
                    "resource-based policy allows the kms:GetParametersForImport action",
                    key.arn);
}

Test(kms_import, reimport_into_disabled_key_keeps_it_disabled)
{
    struct s_key key;
    uint8_t bytes[32];
    s_imported_key(&key, bytes);
    cr_assert_eq(s_kms("DisableKey", json_pack("{s:s}", "KeyId", key.id)), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    s_import(&key, bytes, sizeof(bytes), NULL);
    s_expect_ok();
    s_expect_state(&key, "Disabled");
}

/* ---- Request validation ---- */

Test(kms_import, reports_missing_members_of_get_parameters_for_import)
{
    s_kms("GetParametersForImport", json_object());
    s_expect_error("ValidationException",
                   "3 validation errors detected: Value null at 'keyId' failed to satisfy "
                   "constraint: Member must not be null; Value null at 'wrappingAlgorithm' failed "
                   "to satisfy constraint: Member must not be null; Value null at "
                   "'wrappingKeySpec' failed to satisfy constraint: Member must not be null");
}

Test(kms_import, reports_unknown_wrapping_key_spec)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    s_get_params_status(&key, S_OAEP_256, "RSA_1024");
    s_expect_error("ValidationException",
                   "1 validation error detected: Value 'RSA_1024' at 'wrappingKeySpec' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, "
                   "RSA_4096, SM2]");
}

Test(kms_import, refuses_wrapping_choices_that_are_not_emulated)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    s_get_params_status(&key, "RSA_AES_KEY_WRAP_SHA_256", "RSA_4096");
    s_expect_error("UnsupportedOperationException",
                   "Wrapping algorithm RSA_AES_KEY_WRAP_SHA_256 is not supported by "
                   "cmek-emulator; use RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1.");
    s_get_params_status(&key, "SM2PKE", "SM2");
    s_expect_error("UnsupportedOperationException",
                   "SM2 wrapping keys (SM2 key spec, SM2PKE algorithm) are supported only in the "
                   "AWS China Regions.");
}

Test(kms_import, reports_missing_members_of_import_key_material)
{
    s_kms("ImportKeyMaterial", json_pack("{s:s}", "ExpirationModel", S_NO_EXPIRY));
    s_expect_error("ValidationException",
                   "3 validation errors detected: Value null at 'keyId' failed to satisfy "
                   "constraint: Member must not be null; Value null at 'importToken' failed to "
                   "satisfy constraint: Member must not be null; Value null at "
                   "'encryptedKeyMaterial' failed to satisfy constraint: Member must not be "
                   "null");
}

Test(kms_import, requires_valid_to_when_material_expires)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    uint8_t bytes[32];
    s_random(bytes, sizeof(bytes));
    const char *text = "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES";
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s}", "ExpirationModel", "KEY_MATERIAL_EXPIRES"));
    s_expect_error("ValidationException", text);
    /* KEY_MATERIAL_EXPIRES is the default. */
    s_import(&key, bytes, sizeof(bytes), json_object());
    s_expect_error("ValidationException", text);
    s_expect_state(&key, "PendingImport");
}

Test(kms_import, refuses_valid_to_when_material_does_not_expire)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    uint8_t bytes[32];
    s_random(bytes, sizeof(bytes));
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:I}", "ExpirationModel", S_NO_EXPIRY, "ValidTo",
                       (json_int_t)(S_START_S + 3600)));
    s_expect_error("ValidationException",
                   "The parameter ValidTo cannot be specified for a key with an expiration model "
                   "of KEY_MATERIAL_DOES_NOT_EXPIRE");
}

Test(kms_import, refuses_valid_to_in_the_past_or_beyond_365_days)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    uint8_t bytes[32];
    s_random(bytes, sizeof(bytes));
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:I}", "ExpirationModel", "KEY_MATERIAL_EXPIRES", "ValidTo",
                       (json_int_t)(S_START_S - 1)));
    s_expect_error("ValidationException", "ValidTo must be in the future");
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:I}", "ExpirationModel", "KEY_MATERIAL_EXPIRES", "ValidTo",
                       (json_int_t)(S_START_S + 366LL * 86400)));
    s_expect_error("ValidationException", "ValidTo must be no more than 365 days in the future");
}

Test(kms_import, accepts_valid_to_with_milliseconds_and_without_expiration_model)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    uint8_t bytes[32];
    s_random(bytes, sizeof(bytes));
    /* botocore sends timestamps as epoch seconds, possibly with milliseconds. */
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:f}", "ValidTo", (double)(S_START_S + 7200) + 0.25));
    s_expect_ok();
    json_t *md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "ExpirationModel"), "KEY_MATERIAL_EXPIRES");
    cr_assert_eq(json_integer_value(json_object_get(md, "ValidTo")), S_START_S + 7200);
    json_decref(md);
}

Test(kms_import, reports_malformed_optional_members)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    uint8_t bytes[32];
    s_random(bytes, sizeof(bytes));
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:s,s:s}", "ExpirationModel", "NEVER", "KeyMaterialId", "ABC",
                       "KeyMaterialDescription", "bad;description"));
    s_expect_error(
        "ValidationException",
        "3 validation errors detected: Value 'NEVER' at 'expirationModel' failed to satisfy "
        "constraint: Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, "
        "KEY_MATERIAL_DOES_NOT_EXPIRE]; Value 'bad;description' at 'keyMaterialDescription' "
        "failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "^[a-zA-Z0-9:/_\\s.-]+$; Value 'ABC' at 'keyMaterialId' failed to satisfy constraint: "
        "Member must have length greater than or equal to 64");

    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:s}", "ExpirationModel", S_NO_EXPIRY, "ValidTo", "tomorrow"));
    s_expect_error("SerializationException", "Member ValidTo must be a timestamp");

    char id[65];
    s_material_id(&key, bytes, id);
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:s,s:s}", "ExpirationModel", S_NO_EXPIRY, "ImportType",
                       "NEW_KEY_MATERIAL", "KeyMaterialId", id));
    s_expect_error("ValidationException",
                   "KeyMaterialId cannot be specified when ImportType is NEW_KEY_MATERIAL");
}

/* ---- DeleteImportedKeyMaterial ---- */

Test(kms_import, deletes_material_and_reimport_restores_old_ciphertexts)
{
    struct s_key key;
    uint8_t bytes[32];
    char id[65];
    s_imported_key(&key, bytes);
    s_material_id(&key, bytes, id);

    cr_assert_eq(s_kms("Encrypt", json_pack("{s:s,s:s,s:{s:s}}", "KeyId", key.id, "Plaintext",
                                            "c2VjcmV0", "EncryptionContext", "db", "cluster")),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    char blob[S_B64_MAX];
    s_get("CiphertextBlob", blob, sizeof(blob));

    cr_assert_eq(s_kms("DeleteImportedKeyMaterial", json_pack("{s:s}", "KeyId", key.id)), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), key.arn);
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyMaterialId")), id);
    json_decref(v);

    json_t *md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "KeyState"), "PendingImport");
    cr_assert(json_is_false(json_object_get(md, "Enabled")));
    cr_assert_null(json_object_get(md, "CurrentKeyMaterialId"));
    cr_assert_null(json_object_get(md, "ExpirationModel"));
    json_decref(md);

    s_kms("Decrypt",
          json_pack("{s:s,s:{s:s}}", "CiphertextBlob", blob, "EncryptionContext", "db", "cluster"));
    s_expect_errorf("KMSInvalidStateException", "%s is pending import.", key.arn);

    s_import(&key, bytes, sizeof(bytes), NULL);
    s_expect_ok();
    s_expect_state(&key, "Enabled");
    cr_assert_eq(s_kms("Decrypt", json_pack("{s:s,s:{s:s}}", "CiphertextBlob", blob,
                                            "EncryptionContext", "db", "cluster")),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    char plain[64];
    s_get("Plaintext", plain, sizeof(plain));
    cr_assert_str_eq(plain, "c2VjcmV0");
}

Test(kms_import, delete_on_key_pending_import_changes_nothing)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    cr_assert_eq(s_kms("DeleteImportedKeyMaterial", json_pack("{s:s}", "KeyId", key.arn)), 200,
                 "%s", cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), key.arn);
    cr_assert_null(json_object_get(v, "KeyMaterialId"));
    json_decref(v);
    s_expect_state(&key, "PendingImport");
}

Test(kms_import, delete_on_key_pending_deletion_keeps_its_state)
{
    struct s_key key;
    uint8_t bytes[32];
    s_imported_key(&key, bytes);
    cr_assert_eq(s_kms("ScheduleKeyDeletion",
                       json_pack("{s:s,s:i}", "KeyId", key.id, "PendingWindowInDays", 7)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(s_kms("DeleteImportedKeyMaterial", json_pack("{s:s}", "KeyId", key.id)), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    json_t *md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "KeyState"), "PendingDeletion");
    cr_assert_null(json_object_get(md, "CurrentKeyMaterialId"));
    json_decref(md);
}

Test(kms_import, delete_refuses_material_id_the_key_does_not_have)
{
    struct s_key key;
    uint8_t bytes[32];
    s_imported_key(&key, bytes);
    const char *other = "1111111111111111111111111111111111111111111111111111111111111111";
    s_kms("DeleteImportedKeyMaterial",
          json_pack("{s:s,s:s}", "KeyId", key.id, "KeyMaterialId", other));
    s_expect_errorf("NotFoundException", "Key material %s is not associated with KMS key %s.",
                    other, key.arn);
    s_expect_state(&key, "Enabled");
}

/* ---- Expiry of imported material ---- */

Test(kms_import, expired_material_returns_key_to_pending_import)
{
    struct s_key key;
    s_create("EXTERNAL", &key);
    uint8_t bytes[32];
    s_random(bytes, sizeof(bytes));
    long long valid_to = S_START_S + 3600;
    s_import(&key, bytes, sizeof(bytes),
             json_pack("{s:s,s:I}", "ExpirationModel", "KEY_MATERIAL_EXPIRES", "ValidTo",
                       (json_int_t)valid_to));
    s_expect_ok();
    json_t *md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "KeyState"), "Enabled");
    cr_assert_str_eq(s_md_str(md, "ExpirationModel"), "KEY_MATERIAL_EXPIRES");
    cr_assert_eq(json_integer_value(json_object_get(md, "ValidTo")), valid_to);
    json_decref(md);

    th_advance(&s_t, "2h");
    md = s_describe(&key);
    cr_assert_str_eq(s_md_str(md, "KeyState"), "PendingImport");
    cr_assert(json_is_false(json_object_get(md, "Enabled")));
    cr_assert_null(json_object_get(md, "CurrentKeyMaterialId"));
    json_decref(md);

    /* The same material brings it back. */
    s_import(&key, bytes, sizeof(bytes), NULL);
    s_expect_ok();
    s_expect_state(&key, "Enabled");
}
