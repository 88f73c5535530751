/* kms_ops_crypto.c: the cryptographic operations of the emulated KMS: Encrypt, Decrypt,
 * ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext, GenerateRandom.
 *
 * Real AES-256-GCM through kms_crypto.c, with the encryption context bound as authenticated
 * data. Decrypt and ReEncrypt find the key from the ciphertext itself and authorize against
 * THAT key (so a caller cannot pass an allowed KeyId to decrypt another key's data); a KeyId
 * that does not match the ciphertext's key is IncorrectKeyException. Every call is authorized
 * on the key's current policy and the caller's current identity policies, so a revocation
 * takes effect on the very next call.
 *
 * Deliberate differences: symmetric keys only (the RSA/SM2 EncryptionAlgorithm values are
 * refused with InvalidKeyUsageException); grants and Recipient (Nitro enclaves) are not
 * emulated, so GrantTokens are accepted and ignored and Recipient is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/crypto.h"
#include "kms_internal.h"

#define S_PLAINTEXT_MAX 4096
#define S_DATA_KEY_MAX  1024

static const char *const s_algorithms[] = {"SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1",
                                           "RSAES_OAEP_SHA_256", "SM2PKE"};
static const char *const s_data_key_specs[] = {"AES_256", "AES_128"};

static const char s_ciphertext_refers[] =
    "The ciphertext refers to a customer master key that does not exist, does not exist in this "
    "region, or you are not allowed to access.";

/* Members every crypto operation shares. */
static void s_common_members(struct emu_kms_call *call, const char *algorithm_member,
                             const char **algorithm)
{
    const json_t *grants = json_object_get(call->in, "GrantTokens");
    if (grants != NULL && (!json_is_array(grants) || json_array_size(grants) > 10)) {
        emu_kms_invalid(call, "GrantTokens", NULL,
                        "Member must have length less than or equal to 10");
    }
    *algorithm = emu_kms_enum(call, algorithm_member, false, s_algorithms,
                              sizeof(s_algorithms) / sizeof(s_algorithms[0]));
    (void)emu_kms_bool(call, "DryRun", false);
}

static int s_refuse_recipient(struct emu_kms_call *call)
{
    if (json_object_get(call->in, "Recipient") != NULL) {
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "Recipient (attested Nitro Enclaves requests) is not supported by "
                            "cmek-emulator.");
    }
    return CMEK_OK;
}

static int s_check_algorithm(struct emu_kms_call *call, const struct emu_kms_key *key,
                             const char *algorithm)
{
    if (algorithm != NULL && strcmp(algorithm, "SYMMETRIC_DEFAULT") != 0) {
        return emu_kms_fail(call, "InvalidKeyUsageException",
                            "%s key usage is ENCRYPT_DECRYPT with key spec SYMMETRIC_DEFAULT, "
                            "which does not support the %s encryption algorithm.",
                            key->arn, algorithm);
    }
    return CMEK_OK;
}

static int s_dry_run(struct emu_kms_call *call)
{
    if (emu_kms_bool(call, "DryRun", false)) {
        return emu_kms_fail(call, "DryRunOperationException",
                            "The request would have succeeded, but the DryRun option is set.");
    }
    return CMEK_OK;
}

/* Seals plaintext under key's current material and sets CiphertextBlob in call->out. */
static int s_seal_into(struct emu_kms_call *call, const struct emu_kms_key *key,
                       const uint8_t *plaintext, size_t len, const json_t *context,
                       const char *member)
{
    const struct emu_kms_material *m = emu_kms_key_current(key);
    if (m == NULL) {
        return emu_kms_fail(call, "KMSInvalidStateException", "%s is pending import.", key->arn);
    }
    struct cmek_buf blob, b64;
    cmek_buf_init(&blob, EMU_KMS_BLOB_MAX + 64);
    cmek_buf_init(&b64, 2 * EMU_KMS_BLOB_MAX);
    int rc = emu_kms_blob_seal(call->app, key->account, key->id, m, plaintext, len, context, &blob);
    rc = rc ? rc : cmek_base64_encode(blob.data, blob.len, &b64);
    rc = rc ? rc
            : (json_object_set_new(call->out, member, json_stringn_nocheck(b64.data, b64.len))
                   ? CMEK_ERR_NOMEM
                   : CMEK_OK);
    cmek_buf_clean_up(&blob);
    cmek_buf_clean_up(&b64);
    return rc;
}

/* Output members here are the emulator's own ASCII (ARNs, ids, algorithm names, base64), so
 * jansson's UTF-8 check of each byte is skipped. */
static int s_set_str(struct emu_kms_call *call, const char *member, const char *value)
{
    return json_object_set_new(call->out, member, json_stringn_nocheck(value, strlen(value)))
               ? CMEK_ERR_NOMEM
               : CMEK_OK;
}

/* Sets a base64 member holding secret bytes. */
static int s_set_secret(struct emu_kms_call *call, const char *member, const uint8_t *bytes,
                        size_t len)
{
    struct cmek_buf b64;
    cmek_buf_init(&b64, 4 * S_PLAINTEXT_MAX);
    int rc = cmek_base64_encode(bytes, len, &b64);
    rc = rc ? rc : s_set_str(call, member, cmek_buf_cstr(&b64));
    cmek_cleanse(b64.data, b64.len);
    cmek_buf_clean_up(&b64);
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html */
static int s_encrypt(struct emu_kms_call *call)
{
    struct cmek_buf plaintext;
    cmek_buf_init(&plaintext, S_PLAINTEXT_MAX + 16);
    const char *id = emu_kms_str(call, "KeyId", true, 1, 2048);
    emu_kms_blob(call, "Plaintext", true, 1, S_PLAINTEXT_MAX, &plaintext);
    const json_t *context = emu_kms_string_map(call, "EncryptionContext");
    const char *algorithm = NULL;
    s_common_members(call, "EncryptionAlgorithm", &algorithm);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    struct emu_kms_key *key = NULL;
    rc = rc ? rc : emu_kms_resolve(call, id, EMU_KMS_ID_ANY, &key);
    call->auth_context = context;
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:Encrypt");
    rc = rc ? rc : emu_kms_check_state(call, key, EMU_KMS_OPS_CRYPTO);
    rc = rc ? rc : s_check_algorithm(call, key, algorithm);
    rc = rc ? rc : s_dry_run(call);
    rc = rc ? rc
            : s_seal_into(call, key, (const uint8_t *)plaintext.data, plaintext.len, context,
                          "CiphertextBlob");
    rc = rc ? rc : s_set_str(call, "KeyId", key->arn);
    rc = rc ? rc : s_set_str(call, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
    cmek_cleanse(plaintext.data, plaintext.len);
    cmek_buf_clean_up(&plaintext);
    return rc;
}

/* What Decrypt and ReEncrypt share: find the ciphertext's key, check an optional KeyId
 * against it, authorize action on it, check its state, and open the blob. */
static int s_open(struct emu_kms_call *call, const struct cmek_buf *blob, const char *key_id,
                  const json_t *context, const char *action, struct emu_kms_key **key_out,
                  const struct emu_kms_material **material_out, struct cmek_buf *plaintext)
{
    struct emu_kms_blob_header h;
    if (emu_kms_blob_parse((const uint8_t *)blob->data, blob->len, &h) != CMEK_OK) {
        return emu_kms_fail_bare(call, "InvalidCiphertextException");
    }
    struct emu_kms_key *named = NULL;
    if (key_id != NULL) {
        int rc = emu_kms_resolve(call, key_id, EMU_KMS_ID_ANY, &named);
        if (rc) {
            return rc;
        }
        if (strcmp(named->id, h.key_id) != 0 || strcmp(named->account, h.account) != 0) {
            return emu_kms_fail(call, "IncorrectKeyException",
                                "The key ID in the request does not identify a CMK that can "
                                "perform this operation.");
        }
    }
    struct emu_kms_key *key = named != NULL
                                  ? named
                                  : emu_kms_find_key(call->app, call->kms, h.account, call->region,
                                                     h.key_id, (int64_t)call->now);
    if (key == NULL) {
        return emu_kms_fail(call, "AccessDeniedException", "%s", s_ciphertext_refers);
    }
    call->auth_context = context;
    int rc = emu_kms_authorize(call, key, action);
    rc = rc ? rc : emu_kms_check_state(call, key, EMU_KMS_OPS_CRYPTO);
    if (rc) {
        return rc;
    }
    const struct emu_kms_material *m = emu_kms_key_material(key, h.material_id);
    if (m == NULL || emu_kms_blob_open((const uint8_t *)blob->data, blob->len, m, context,
                                       plaintext) != CMEK_OK) {
        return emu_kms_fail_bare(call, "InvalidCiphertextException");
    }
    *key_out = key;
    *material_out = m;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_Decrypt.html */
static int s_decrypt(struct emu_kms_call *call)
{
    struct cmek_buf blob, plaintext;
    cmek_buf_init(&blob, EMU_KMS_BLOB_MAX + 16);
    cmek_buf_init(&plaintext, EMU_KMS_BLOB_MAX);
    emu_kms_blob(call, "CiphertextBlob", true, 1, EMU_KMS_BLOB_MAX, &blob);
    const json_t *context = emu_kms_string_map(call, "EncryptionContext");
    const char *id = emu_kms_str(call, "KeyId", false, 1, 2048);
    const char *algorithm = NULL;
    s_common_members(call, "EncryptionAlgorithm", &algorithm);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    rc = rc ? rc : s_refuse_recipient(call);
    struct emu_kms_key *key = NULL;
    const struct emu_kms_material *m = NULL;
    rc = rc ? rc : s_open(call, &blob, id, context, "kms:Decrypt", &key, &m, &plaintext);
    rc = rc ? rc : s_check_algorithm(call, key, algorithm);
    rc = rc ? rc : s_dry_run(call);
    rc = rc ? rc : s_set_str(call, "KeyId", key->arn);
    rc = rc ? rc : s_set_secret(call, "Plaintext", (const uint8_t *)plaintext.data, plaintext.len);
    rc = rc ? rc : s_set_str(call, "EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
    rc = rc ? rc : s_set_str(call, "KeyMaterialId", m->id);
    cmek_cleanse(plaintext.data, plaintext.len);
    cmek_buf_clean_up(&plaintext);
    cmek_buf_clean_up(&blob);
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html
 * Needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination. */
static int s_re_encrypt(struct emu_kms_call *call)
{
    struct cmek_buf blob, plaintext;
    cmek_buf_init(&blob, EMU_KMS_BLOB_MAX + 16);
    cmek_buf_init(&plaintext, EMU_KMS_BLOB_MAX);
    emu_kms_blob(call, "CiphertextBlob", true, 1, EMU_KMS_BLOB_MAX, &blob);
    const json_t *src_context = emu_kms_string_map(call, "SourceEncryptionContext");
    const json_t *dst_context = emu_kms_string_map(call, "DestinationEncryptionContext");
    const char *src_id = emu_kms_str(call, "SourceKeyId", false, 1, 2048);
    const char *dst_id = emu_kms_str(call, "DestinationKeyId", true, 1, 2048);
    const char *src_alg = NULL, *dst_alg = NULL;
    s_common_members(call, "SourceEncryptionAlgorithm", &src_alg);
    dst_alg = emu_kms_enum(call, "DestinationEncryptionAlgorithm", false, s_algorithms,
                           sizeof(s_algorithms) / sizeof(s_algorithms[0]));
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    struct emu_kms_key *src = NULL, *dst = NULL;
    const struct emu_kms_material *m = NULL;
    rc = rc ? rc
            : s_open(call, &blob, src_id, src_context, "kms:ReEncryptFrom", &src, &m, &plaintext);
    rc = rc ? rc : s_check_algorithm(call, src, src_alg);
    rc = rc ? rc : emu_kms_resolve(call, dst_id, EMU_KMS_ID_ANY, &dst);
    call->auth_context = dst_context;
    rc = rc ? rc : emu_kms_authorize(call, dst, "kms:ReEncryptTo");
    rc = rc ? rc : emu_kms_check_state(call, dst, EMU_KMS_OPS_CRYPTO);
    rc = rc ? rc : s_check_algorithm(call, dst, dst_alg);
    rc = rc ? rc : s_dry_run(call);
    rc = rc ? rc
            : s_seal_into(call, dst, (const uint8_t *)plaintext.data, plaintext.len, dst_context,
                          "CiphertextBlob");
    rc = rc ? rc : s_set_str(call, "SourceKeyId", src->arn);
    rc = rc ? rc : s_set_str(call, "KeyId", dst->arn);
    rc = rc ? rc : s_set_str(call, "SourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT");
    rc = rc ? rc : s_set_str(call, "DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT");
    rc = rc ? rc : s_set_str(call, "SourceKeyMaterialId", m->id);
    rc = rc ? rc : s_set_str(call, "DestinationKeyMaterialId", emu_kms_key_current(dst)->id);
    cmek_cleanse(plaintext.data, plaintext.len);
    cmek_buf_clean_up(&plaintext);
    cmek_buf_clean_up(&blob);
    return rc;
}

/* GenerateDataKey and GenerateDataKeyWithoutPlaintext. */
static int s_generate_data_key(struct emu_kms_call *call, bool with_plaintext, const char *action)
{
    const char *id = emu_kms_str(call, "KeyId", true, 1, 2048);
    const json_t *context = emu_kms_string_map(call, "EncryptionContext");
    bool have_bytes = false;
    long long n_bytes = emu_kms_int(call, "NumberOfBytes", 1, S_DATA_KEY_MAX, 0, &have_bytes);
    const char *spec = emu_kms_enum(call, "KeySpec", false, s_data_key_specs,
                                    sizeof(s_data_key_specs) / sizeof(s_data_key_specs[0]));
    const json_t *grants = json_object_get(call->in, "GrantTokens");
    if (grants != NULL && (!json_is_array(grants) || json_array_size(grants) > 10)) {
        emu_kms_invalid(call, "GrantTokens", NULL,
                        "Member must have length less than or equal to 10");
    }
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    bool have_spec = json_object_get(call->in, "KeySpec") != NULL;
    if (rc == CMEK_OK && have_bytes == have_spec) {
        rc = emu_kms_fail(call, "ValidationException",
                          "Please specify either number of bytes or key spec.");
    }
    rc = rc ? rc : s_refuse_recipient(call);
    size_t len = spec == NULL ? (size_t)n_bytes : strcmp(spec, "AES_128") == 0 ? 16 : 32;
    struct emu_kms_key *key = NULL;
    rc = rc ? rc : emu_kms_resolve(call, id, EMU_KMS_ID_ANY, &key);
    call->auth_context = context;
    rc = rc ? rc : emu_kms_authorize(call, key, action);
    rc = rc ? rc : emu_kms_check_state(call, key, EMU_KMS_OPS_CRYPTO);
    rc = rc ? rc : s_dry_run(call);
    uint8_t data_key[S_DATA_KEY_MAX];
    rc = rc ? rc : call->app->sys.random_bytes(call->app->sys.ctx, data_key, len);
    rc = rc ? rc : s_seal_into(call, key, data_key, len, context, "CiphertextBlob");
    if (with_plaintext) {
        rc = rc ? rc : s_set_secret(call, "Plaintext", data_key, len);
    }
    rc = rc ? rc : s_set_str(call, "KeyId", key->arn);
    rc = rc ? rc : s_set_str(call, "KeyMaterialId", emu_kms_key_current(key)->id);
    cmek_cleanse(data_key, sizeof(data_key));
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html */
static int s_gdk(struct emu_kms_call *call)
{
    return s_generate_data_key(call, true, "kms:GenerateDataKey");
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyWithoutPlaintext.html */
static int s_gdk_without_plaintext(struct emu_kms_call *call)
{
    return s_generate_data_key(call, false, "kms:GenerateDataKeyWithoutPlaintext");
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateRandom.html
 * IAM-only permission (resource "*"); NumberOfBytes is required in practice. */
static int s_generate_random(struct emu_kms_call *call)
{
    bool have = false;
    long long n = emu_kms_int(call, "NumberOfBytes", 1, S_DATA_KEY_MAX, 0, &have);
    if (!have && call->n_validation == 0 && call->type == NULL) {
        emu_kms_invalid(call, "NumberOfBytes", NULL, "Member must not be null");
    }
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    if (rc == CMEK_OK && json_object_get(call->in, "CustomKeyStoreId") != NULL) {
        rc = emu_kms_fail(call, "CustomKeyStoreNotFoundException",
                          "Custom key stores are not emulated by cmek-emulator.");
    }
    rc = rc ? rc : s_refuse_recipient(call);
    rc = rc ? rc : emu_kms_authorize_account(call, "kms:GenerateRandom");
    uint8_t bytes[S_DATA_KEY_MAX];
    rc = rc ? rc : call->app->sys.random_bytes(call->app->sys.ctx, bytes, (size_t)n);
    rc = rc ? rc : s_set_secret(call, "Plaintext", bytes, (size_t)n);
    cmek_cleanse(bytes, sizeof(bytes));
    return rc;
}

const struct emu_kms_op emu_kms_crypto_ops[] = {
    {"Decrypt", s_decrypt},
    {"Encrypt", s_encrypt},
    {"GenerateDataKey", s_gdk},
    {"GenerateDataKeyWithoutPlaintext", s_gdk_without_plaintext},
    {"GenerateRandom", s_generate_random},
    {"ReEncrypt", s_re_encrypt},
};
const size_t emu_kms_crypto_ops_len = sizeof(emu_kms_crypto_ops) / sizeof(emu_kms_crypto_ops[0]);
