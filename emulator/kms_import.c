/* kms_import.c: imported key material in the emulated KMS: GetParametersForImport,
 * ImportKeyMaterial and DeleteImportedKeyMaterial, for KMS keys created with
 * Origin=EXTERNAL (KMS Developer Guide, "Importing key material for AWS KMS keys").
 *
 * The cryptography is real: GetParametersForImport generates a fresh RSA wrapping key pair
 * and hands out its public half as DER SubjectPublicKeyInfo; ImportKeyMaterial unwraps the
 * client's RSAES-OAEP (or PKCS#1 v1.5) ciphertext with the private half, kept on the key as
 * its one outstanding set of import parameters.
 *
 * The ImportToken is an opaque blob of the emulator's own format (AWS does not publish
 * its): the text "cmek-import-token/v1:<region>:<account>:<key id>:<token id>:" followed by
 * 64 random bytes, where the token id is 32 random hex digits naming the parameters. The
 * header lets ImportKeyMaterial tell a token for another key, or one superseded by a newer
 * GetParametersForImport, or already used (InvalidImportTokenException) from one that is
 * merely too old (ExpiredImportTokenException). Nothing secret is in it: a token is only
 * good while it names the key's outstanding parameters, and a 128-bit random id cannot be
 * guessed.
 *
 * Decisions where the documentation leaves room:
 * - A set of parameters is single use: a successful import consumes it ("Each time you
 *   import key material into AWS KMS, you must download and re-encrypt the key material",
 *   Developer Guide, "Download the wrapping public key and import token"). A failed import
 *   leaves it usable until it expires, so a client may correct its request.
 * - A new GetParametersForImport replaces the outstanding parameters; the older token then
 *   gets InvalidImportTokenException.
 * - ExpirationModel defaults to KEY_MATERIAL_EXPIRES, as the API reference states, so a
 *   request with neither ExpirationModel nor ValidTo is a ValidationException.
 *
 * Deliberate differences:
 * - RSAES_PKCS1_V1_5 is still accepted (AWS stopped accepting it on 2023-10-10), so that
 *   older tools keep working.
 * - RSA_AES_KEY_WRAP_SHA_1/256 are refused with UnsupportedOperationException: they exist to
 *   import asymmetric private keys, and the emulator has only symmetric keys. SM2 and SM2PKE
 *   are refused likewise (AWS offers them only in the China Regions).
 * - One material per imported key: importing NEW_KEY_MATERIAL into a key that already has
 *   material (AWS's on-demand rotation of imported material) is UnsupportedOperationException.
 * - KeyMaterialDescription is validated and otherwise ignored: the key model has no place
 *   for it.
 * - The key remembers the id of the material imported into it (imported_material_id) after
 *   DeleteImportedKeyMaterial or expiry wipe the bytes, so only that material can come back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/crypto.h"
#include "kms_internal.h"

#define S_KEY_ID_MAX            2048
#define S_TOKEN_MAGIC           "cmek-import-token/v1:"
#define S_TOKEN_ID_BYTES        16
#define S_TOKEN_ID_HEX          (2 * S_TOKEN_ID_BYTES)
#define S_TOKEN_PAD_BYTES       64
#define S_TOKEN_MAX_BYTES       512
#define S_PARAMS_VALID_S        (24 * 3600)
#define S_VALID_TO_MAX_S        (365LL * 86400)
#define S_WRAPPED_PLAIN_MAX     1024 /* an RSA_4096 block is 512 bytes */
#define S_DESCRIPTION_MAX       256
#define S_PUBLIC_KEY_DER_MAX    2048
#define S_EXPIRES               "KEY_MATERIAL_EXPIRES"
#define S_DOES_NOT_EXPIRE       "KEY_MATERIAL_DOES_NOT_EXPIRE"
#define S_NEW_KEY_MATERIAL      "NEW_KEY_MATERIAL"
#define S_EXISTING_KEY_MATERIAL "EXISTING_KEY_MATERIAL"

/* The enums of the botocore model (kms.service-2.json), in its order. */
static const char *const s_wrapping_algorithms[] = {
    "RSAES_PKCS1_V1_5",       "RSAES_OAEP_SHA_1",         "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256", "SM2PKE",
};
static const char *const s_wrapping_key_specs[] = {"RSA_2048", "RSA_3072", "RSA_4096", "SM2"};
static const char *const s_expiration_models[] = {S_EXPIRES, S_DOES_NOT_EXPIRE};
static const char *const s_import_types[] = {S_NEW_KEY_MATERIAL, S_EXISTING_KEY_MATERIAL};

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The texts of the exceptions' documentation in the API reference (AWS's own messages for
 * these two are not published). */
static const char s_invalid_token_text[] =
    "The request was rejected because the provided import token is invalid or is associated "
    "with a different KMS key.";
static const char s_expired_token_text[] =
    "The request was rejected because the specified import token is expired. Use "
    "GetParametersForImport to get a new import token and public key, use the new public key "
    "to encrypt the key material, and then try the request again.";

/* ---- Members ---- */

static int s_set(struct emu_kms_call *call, const char *member, json_t *value)
{
    /* json_object_set_new steals value, also when it fails. */
    return value == NULL || json_object_set_new(call->out, member, value) ? CMEK_ERR_NOMEM
                                                                          : CMEK_OK;
}

/* A timestamp member as botocore sends it in JSON protocols: seconds since the epoch, an
 * integer or a number with milliseconds. Returns true when present and valid; the fraction is
 * dropped. */
static bool s_timestamp(struct emu_kms_call *call, const char *member, int64_t *out_s)
{
    const json_t *v = json_object_get(call->in, member);
    if (v == NULL || json_is_null(v)) {
        return false;
    }
    double s = json_number_value(v);
    if (!json_is_number(v) || !isfinite(s) || s < 0 || s > 1e12) {
        if (call->type == NULL) {
            emu_kms_fail(call, "SerializationException", "Member %s must be a timestamp", member);
        }
        return false;
    }
    *out_s = (int64_t)s; /* s >= 0: truncation is floor */
    return true;
}

/* The pattern of KeyMaterialDescriptionType: ^[a-zA-Z0-9:/_\s.-]+$ (Java's \s). */
static bool s_description_ok(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr(":/_.- \t\n\v\f\r", c) != NULL;
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* The pattern of BackingKeyIdType: ^[a-f0-9]+$ (its length, 64, is checked by emu_kms_str). */
static bool s_material_id_ok(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'f') || (*p >= '0' && *p <= '9'))) {
            return false;
        }
    }
    return true;
}

static const char *s_material_id_member(struct emu_kms_call *call)
{
    const char *id =
        emu_kms_str(call, "KeyMaterialId", false, EMU_KMS_MATERIAL_ID_HEX, EMU_KMS_MATERIAL_ID_HEX);
    if (id != NULL && !s_material_id_ok(id)) {
        emu_kms_invalid(call, "KeyMaterialId", id,
                        "Member must satisfy regular expression pattern: ^[a-f0-9]+$");
        return NULL;
    }
    return id;
}

/* ---- Key states ---- */

static int s_check_origin(struct emu_kms_call *call, const struct emu_kms_key *key)
{
    if (strcmp(key->origin, "EXTERNAL") != 0) {
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "%s origin is %s which is not valid for this operation.", key->arn,
                            key->origin);
    }
    return CMEK_OK;
}

/* The key-state table's row for GetParametersForImport: ImportKeyMaterial's row
 * (EMU_KMS_OPS_IMPORT), except that an Updating key is refused. */
static int s_check_params_state(struct emu_kms_call *call, const struct emu_kms_key *key)
{
    int rc = emu_kms_check_state(call, key, EMU_KMS_OPS_IMPORT);
    if (rc == CMEK_OK && key->state == EMU_KMS_UPDATING) {
        rc = emu_kms_fail(call, "KMSInvalidStateException", "%s is updating.", key->arn);
    }
    return rc;
}

/* DeleteImportedKeyMaterial's row: every state but Creating and Updating, including
 * PendingDeletion (footnote 9), which EMU_KMS_OPS_IMPORT refuses. */
static int s_check_delete_state(struct emu_kms_call *call, const struct emu_kms_key *key)
{
    int rc = s_check_origin(call, key);
    if (rc) {
        return rc;
    }
    switch (key->state) {
    case EMU_KMS_CREATING:
        return emu_kms_fail(call, "KMSInvalidStateException", "%s is creating.", key->arn);
    case EMU_KMS_UPDATING:
        return emu_kms_fail(call, "KMSInvalidStateException", "%s is updating.", key->arn);
    case EMU_KMS_UNAVAILABLE:
        return emu_kms_fail(call, "KMSInvalidStateException", "%s is unavailable.", key->arn);
    case EMU_KMS_ENABLED:
    case EMU_KMS_DISABLED:
    case EMU_KMS_PENDING_DELETION:
    case EMU_KMS_PENDING_REPLICA_DELETION:
    case EMU_KMS_PENDING_IMPORT:
        return CMEK_OK;
    default:
        return emu_kms_fail(call, "KMSInvalidStateException", "%s is unavailable.", key->arn);
    }
}

/* ---- Import parameters and tokens ---- */

static void s_params_destroy(struct emu_kms_import_params *params)
{
    if (params == NULL) {
        return;
    }
    emu_kms_wrapping_key_destroy(params->wrapping_key);
    free(params);
}

/* Refuses the wrapping choices the emulator does not implement (see the file comment). The
 * values are valid enum members, so this is not a validation error. */
static int s_check_wrapping(struct emu_kms_call *call, const char *algorithm, const char *spec)
{
    if (strcmp(spec, "SM2") == 0 || strcmp(algorithm, "SM2PKE") == 0) {
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "SM2 wrapping keys (SM2 key spec, SM2PKE algorithm) are supported "
                            "only in the AWS China Regions.");
    }
    if (strncmp(algorithm, "RSA_AES_KEY_WRAP_", 17) == 0) {
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "Wrapping algorithm %s is not supported by cmek-emulator; use "
                            "RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1.",
                            algorithm);
    }
    return CMEK_OK;
}

/* A fresh set of parameters: a new RSA pair and token id, valid for 24 hours. */
static int s_params_new(const struct emu_kms_call *call, const char *algorithm, const char *spec,
                        struct emu_kms_import_params **out)
{
    uint8_t id[S_TOKEN_ID_BYTES];
    struct emu_kms_import_params *p = calloc(1, sizeof(*p));
    int rc = p ? CMEK_OK : CMEK_ERR_NOMEM;
    rc = rc ? rc : call->app->sys.random_bytes(call->app->sys.ctx, id, sizeof(id));
    rc = rc ? rc : emu_kms_wrapping_key_new(spec, &p->wrapping_key);
    if (rc == CMEK_OK) {
        cmek_hex_encode(id, sizeof(id), p->token_id);
        snprintf(p->wrapping_algorithm, sizeof(p->wrapping_algorithm), "%s", algorithm);
        snprintf(p->wrapping_key_spec, sizeof(p->wrapping_key_spec), "%s", spec);
        p->valid_to_s = (int64_t)call->now + S_PARAMS_VALID_S;
        *out = p;
        p = NULL;
    }
    s_params_destroy(p);
    return rc;
}

/* The ImportToken for key's parameters p, base64-encoded into b64. */
static int s_token_encode(const struct emu_kms_call *call, const struct emu_kms_key *key,
                          const struct emu_kms_import_params *p, struct cmek_buf *b64)
{
    uint8_t pad[S_TOKEN_PAD_BYTES];
    struct cmek_buf raw;
    cmek_buf_init(&raw, S_TOKEN_MAX_BYTES);
    int rc = cmek_buf_appendf(&raw, S_TOKEN_MAGIC "%s:%s:%s:%s:", key->region, key->account,
                              key->id, p->token_id);
    rc = rc ? rc : call->app->sys.random_bytes(call->app->sys.ctx, pad, sizeof(pad));
    rc = rc ? rc : cmek_buf_append(&raw, pad, sizeof(pad));
    rc = rc ? rc : cmek_base64_encode(raw.data, raw.len, b64);
    cmek_buf_clean_up(&raw);
    return rc;
}

/* What an ImportToken names. */
struct s_token {
    char region[64];
    char account[13];
    char key_id[EMU_KMS_KEY_ID_MAX + 1];
    char token_id[S_TOKEN_ID_HEX + 1];
};

/* The next ':'-terminated field of [*p, end), non-empty, without NUL, shorter than cap. */
static bool s_token_field(const char **p, const char *end, char *out, size_t cap)
{
    const char *colon = memchr(*p, ':', (size_t)(end - *p));
    if (colon == NULL) {
        return false;
    }
    size_t n = (size_t)(colon - *p);
    if (n == 0 || n >= cap || memchr(*p, '\0', n) != NULL) {
        return false;
    }
    memcpy(out, *p, n);
    out[n] = '\0';
    *p = colon + 1;
    return true;
}

/* CMEK_ERR_PARSE when blob is not a token of this emulator. */
static int s_token_parse(const char *blob, size_t len, struct s_token *out)
{
    size_t magic_len = strlen(S_TOKEN_MAGIC);
    if (len < magic_len || memcmp(blob, S_TOKEN_MAGIC, magic_len) != 0) {
        return CMEK_ERR_PARSE;
    }
    const char *p = blob + magic_len, *end = blob + len;
    if (!s_token_field(&p, end, out->region, sizeof(out->region)) ||
        !s_token_field(&p, end, out->account, sizeof(out->account)) ||
        !s_token_field(&p, end, out->key_id, sizeof(out->key_id)) ||
        !s_token_field(&p, end, out->token_id, sizeof(out->token_id)) ||
        strlen(out->token_id) != S_TOKEN_ID_HEX || (size_t)(end - p) != S_TOKEN_PAD_BYTES) {
        return CMEK_ERR_PARSE;
    }
    return CMEK_OK;
}

/* The token must name key's outstanding parameters, which must not have expired. */
static int s_check_token(struct emu_kms_call *call, const struct emu_kms_key *key,
                         const struct cmek_buf *token)
{
    struct s_token t;
    const struct emu_kms_import_params *p = key->import;
    if (s_token_parse(token->data, token->len, &t) != CMEK_OK) {
        emu_log(call->app, EMU_LOG_DEBUG, "kms: ImportToken for %s is not a token", key->arn);
        return emu_kms_fail(call, "InvalidImportTokenException", "%s", s_invalid_token_text);
    }
    if (strcmp(t.region, key->region) != 0 || strcmp(t.account, key->account) != 0 ||
        strcmp(t.key_id, key->id) != 0) {
        emu_log(call->app, EMU_LOG_DEBUG, "kms: ImportToken for %s names another key", key->arn);
        return emu_kms_fail(call, "InvalidImportTokenException", "%s", s_invalid_token_text);
    }
    if (p == NULL || !cmek_consttime_eq(t.token_id, S_TOKEN_ID_HEX, p->token_id,
                                        strnlen(p->token_id, sizeof(p->token_id)))) {
        emu_log(call->app, EMU_LOG_DEBUG,
                "kms: ImportToken for %s is not its outstanding one (used or replaced)", key->arn);
        return emu_kms_fail(call, "InvalidImportTokenException", "%s", s_invalid_token_text);
    }
    if ((int64_t)call->now >= p->valid_to_s) {
        return emu_kms_fail(call, "ExpiredImportTokenException", "%s", s_expired_token_text);
    }
    return CMEK_OK;
}

/* ---- Material ---- */

/* The id of the material imported into key before, or NULL when none is known. The key
 * model wipes material, id included, on DeleteImportedKeyMaterial and on expiry, so only the
 * material the key holds now is known; once the model keeps the id across those, this is the
 * one place to return it. */
static const char *s_previous_material_id(const struct emu_kms_key *key)
{
    if (key->imported_material_id[0]) {
        return key->imported_material_id;
    }
    const struct emu_kms_material *cur = emu_kms_key_current(key);
    return cur != NULL ? cur->id : NULL;
}

/* ValidTo and ExpirationModel agree, and ValidTo lies within the next 365 days. */
static int s_check_expiration(struct emu_kms_call *call, const char *model, bool has_valid_to,
                              int64_t valid_to_s)
{
    if (strcmp(model, S_EXPIRES) == 0 && !has_valid_to) {
        return emu_kms_fail(call, "ValidationException",
                            "A validTo date must be set if the ExpirationModel is "
                            "KEY_MATERIAL_EXPIRES");
    }
    if (strcmp(model, S_DOES_NOT_EXPIRE) == 0 && has_valid_to) {
        return emu_kms_fail(call, "ValidationException",
                            "The parameter ValidTo cannot be specified for a key with an "
                            "expiration model of KEY_MATERIAL_DOES_NOT_EXPIRE");
    }
    if (has_valid_to && valid_to_s <= (int64_t)call->now) {
        return emu_kms_fail(call, "ValidationException", "ValidTo must be in the future");
    }
    if (has_valid_to && valid_to_s > (int64_t)call->now + S_VALID_TO_MAX_S) {
        return emu_kms_fail(call, "ValidationException",
                            "ValidTo must be no more than 365 days in the future");
    }
    return CMEK_OK;
}

static int s_check_import_type(struct emu_kms_call *call, const char *import_type,
                               const char *material_id)
{
    if (material_id != NULL && import_type != NULL &&
        strcmp(import_type, S_NEW_KEY_MATERIAL) == 0) {
        return emu_kms_fail(call, "ValidationException",
                            "KeyMaterialId cannot be specified when ImportType is "
                            "NEW_KEY_MATERIAL");
    }
    return CMEK_OK;
}

/* Unwraps the EncryptedKeyMaterial with the parameters' private key into material. */
static int s_unwrap(struct emu_kms_call *call, const struct emu_kms_key *key,
                    const struct cmek_buf *wrapped, struct cmek_buf *material)
{
    const struct emu_kms_import_params *p = key->import;
    int rc = emu_kms_unwrap(p->wrapping_key, p->wrapping_algorithm, (const uint8_t *)wrapped->data,
                            wrapped->len, material);
    if (rc == CMEK_ERR_CRYPTO) {
        emu_log(call->app, EMU_LOG_DEBUG,
                "kms: EncryptedKeyMaterial for %s does not unwrap with %s under its wrapping key",
                key->arn, p->wrapping_algorithm);
        return emu_kms_fail_bare(call, "InvalidCiphertextException");
    }
    if (rc == CMEK_OK && material->len != EMU_KMS_MATERIAL_BYTES) {
        return emu_kms_fail(call, "IncorrectKeyMaterialException",
                            "The key material for a SYMMETRIC_DEFAULT KMS key must be 256 bits "
                            "(32 bytes) long, not %zu bytes.",
                            material->len);
    }
    return rc;
}

/* The rules of re-importing: the same material only, and NEW_KEY_MATERIAL only into a key
 * without material (see the file comment). */
static int s_check_material(struct emu_kms_call *call, const struct emu_kms_key *key,
                            const struct emu_kms_material *m, const char *import_type,
                            const char *material_id)
{
    const char *prev = s_previous_material_id(key);
    if (import_type == NULL) {
        import_type = prev != NULL ? S_EXISTING_KEY_MATERIAL : S_NEW_KEY_MATERIAL;
    }
    if (material_id != NULL && strcmp(material_id, m->id) != 0) {
        return emu_kms_fail(call, "IncorrectKeyMaterialException",
                            "The key material does not match the key material ID %s of KMS "
                            "key %s.",
                            material_id, key->arn);
    }
    bool same = prev != NULL && strcmp(prev, m->id) == 0;
    if (strcmp(import_type, S_NEW_KEY_MATERIAL) == 0 && prev != NULL) {
        if (same) {
            return emu_kms_fail(call, "IncorrectKeyMaterialException",
                                "Key material (id: %s) is already associated with KMS key %s. "
                                "Use ImportType EXISTING_KEY_MATERIAL to reimport it.",
                                m->id, key->arn);
        }
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "Importing new key material into KMS key %s, which already has key "
                            "material, is not supported by cmek-emulator.",
                            key->arn);
    }
    if (prev != NULL && !same) {
        return emu_kms_fail(call, "IncorrectKeyMaterialException",
                            "The key material is not the key material that was previously "
                            "imported into KMS key %s. You can reimport the same key material, "
                            "but you cannot import different key material.",
                            key->arn);
    }
    return CMEK_OK;
}

/* Installs the material (unless the key holds it already), the expiration, and the state;
 * consumes the import parameters. */
static int s_apply_import(struct emu_kms_call *call, struct emu_kms_key *key,
                          const struct emu_kms_material *m, const char *model, int64_t valid_to_s)
{
    if (emu_kms_key_current(key) == NULL) {
        int rc = emu_kms_key_add_material(key, m);
        if (rc) {
            return rc;
        }
    }
    snprintf(key->imported_material_id, sizeof(key->imported_material_id), "%s", m->id);
    snprintf(key->expiration_model, sizeof(key->expiration_model), "%s", model);
    key->valid_to_s = strcmp(model, S_EXPIRES) == 0 ? valid_to_s : 0;
    if (key->state == EMU_KMS_PENDING_IMPORT) {
        key->state = EMU_KMS_ENABLED;
    }
    s_params_destroy(key->import);
    key->import = NULL;
    emu_log(call->app, EMU_LOG_INFO, "kms: key material %s imported into %s (%s)", m->id, key->arn,
            model);
    return CMEK_OK;
}

/* Wipes every material version. */
static void s_clear_materials(struct emu_kms_key *key)
{
    if (key->materials != NULL) {
        cmek_cleanse(key->materials, key->n_materials * sizeof(*key->materials));
    }
    free(key->materials);
    key->materials = NULL;
    key->n_materials = 0;
}

/* ---- Operations ---- */

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GetParametersForImport.html */
static int s_get_parameters_for_import(struct emu_kms_call *call)
{
    struct cmek_buf token, der, der_b64;
    cmek_buf_init(&token, 2 * S_TOKEN_MAX_BYTES);
    cmek_buf_init(&der, S_PUBLIC_KEY_DER_MAX);
    cmek_buf_init(&der_b64, 2 * S_PUBLIC_KEY_DER_MAX);
    struct emu_kms_import_params *params = NULL;
    struct emu_kms_key *key = NULL;

    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    const char *algorithm = emu_kms_enum(call, "WrappingAlgorithm", true, s_wrapping_algorithms,
                                         S_COUNT(s_wrapping_algorithms));
    const char *spec = emu_kms_enum(call, "WrappingKeySpec", true, s_wrapping_key_specs,
                                    S_COUNT(s_wrapping_key_specs));
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    rc = rc ? rc : s_check_wrapping(call, algorithm, spec);
    rc = rc ? rc : emu_kms_resolve(call, id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, &key);
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:GetParametersForImport");
    rc = rc ? rc : s_check_params_state(call, key);
    rc = rc ? rc : s_params_new(call, algorithm, spec, &params);
    rc = rc ? rc : s_token_encode(call, key, params, &token);
    rc = rc ? rc : emu_kms_wrapping_key_public_der(params->wrapping_key, &der);
    rc = rc ? rc : cmek_base64_encode(der.data, der.len, &der_b64);
    rc = rc ? rc : s_set(call, "KeyId", json_string(key->arn));
    rc = rc ? rc : s_set(call, "ImportToken", json_string(cmek_buf_cstr(&token)));
    rc = rc ? rc : s_set(call, "PublicKey", json_string(cmek_buf_cstr(&der_b64)));
    rc = rc ? rc : s_set(call, "ParametersValidTo", emu_kms_time(params->valid_to_s));
    if (rc == CMEK_OK) {
        /* The new set replaces any outstanding one, whose token stops working. */
        s_params_destroy(key->import);
        key->import = params;
        params = NULL;
        emu_log(call->app, EMU_LOG_INFO, "kms: import parameters (%s, %s) issued for %s", algorithm,
                spec, key->arn);
    }
    s_params_destroy(params);
    cmek_buf_clean_up(&token);
    cmek_buf_clean_up(&der);
    cmek_buf_clean_up(&der_b64);
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html */
static int s_import_key_material(struct emu_kms_call *call)
{
    struct cmek_buf token, wrapped, plain;
    cmek_buf_init(&token, EMU_KMS_BLOB_MAX + 16);
    cmek_buf_init(&wrapped, EMU_KMS_BLOB_MAX + 16);
    cmek_buf_init(&plain, S_WRAPPED_PLAIN_MAX);
    struct emu_kms_material m;
    memset(&m, 0, sizeof(m));
    struct emu_kms_key *key = NULL;
    int64_t valid_to_s = 0;

    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    emu_kms_blob(call, "ImportToken", true, 1, EMU_KMS_BLOB_MAX, &token);
    emu_kms_blob(call, "EncryptedKeyMaterial", true, 1, EMU_KMS_BLOB_MAX, &wrapped);
    bool has_valid_to = s_timestamp(call, "ValidTo", &valid_to_s);
    const char *model = emu_kms_enum(call, "ExpirationModel", false, s_expiration_models,
                                     S_COUNT(s_expiration_models));
    const char *import_type =
        emu_kms_enum(call, "ImportType", false, s_import_types, S_COUNT(s_import_types));
    const char *description =
        emu_kms_str(call, "KeyMaterialDescription", false, 0, S_DESCRIPTION_MAX);
    if (description != NULL && description[0] != '\0' && !s_description_ok(description)) {
        emu_kms_invalid(call, "KeyMaterialDescription", description,
                        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_\\s.-]+$");
    }
    const char *material_id = s_material_id_member(call);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    if (model == NULL) {
        model = S_EXPIRES; /* the API reference's default */
    }
    rc = rc ? rc : s_check_expiration(call, model, has_valid_to, valid_to_s);
    rc = rc ? rc : s_check_import_type(call, import_type, material_id);
    rc = rc ? rc : emu_kms_resolve(call, id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, &key);
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:ImportKeyMaterial");
    rc = rc ? rc : emu_kms_check_state(call, key, EMU_KMS_OPS_IMPORT);
    rc = rc ? rc : s_check_token(call, key, &token);
    rc = rc ? rc : s_unwrap(call, key, &wrapped, &plain);
    rc = rc ? rc
            : emu_kms_material_from_bytes(key->id, (const uint8_t *)plain.data, plain.len,
                                          (int64_t)call->now, &m);
    rc = rc ? rc : s_check_material(call, key, &m, import_type, material_id);
    rc = rc ? rc : s_set(call, "KeyId", json_string(key->arn));
    rc = rc ? rc : s_set(call, "KeyMaterialId", json_string(m.id));
    rc = rc ? rc : s_apply_import(call, key, &m, model, valid_to_s);
    cmek_cleanse(&m, sizeof(m));
    cmek_cleanse(plain.data, plain.len);
    cmek_buf_clean_up(&token);
    cmek_buf_clean_up(&wrapped);
    cmek_buf_clean_up(&plain);
    return rc;
}

/* A KeyMaterialId given to DeleteImportedKeyMaterial must name the key's material. */
static int s_check_delete_material_id(struct emu_kms_call *call, const struct emu_kms_key *key,
                                      const char *material_id)
{
    const struct emu_kms_material *cur = emu_kms_key_current(key);
    if (material_id != NULL && (cur == NULL || strcmp(cur->id, material_id) != 0)) {
        return emu_kms_fail(call, "NotFoundException",
                            "Key material %s is not associated with KMS key %s.", material_id,
                            key->arn);
    }
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteImportedKeyMaterial.html
 * The key goes to PendingImport, except that a key pending deletion stays so; on a key without
 * material it changes nothing. The response has the model's KeyId and KeyMaterialId (the
 * latter only when material was deleted). */
static int s_delete_imported_key_material(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    const struct emu_kms_material *cur = NULL;

    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    const char *material_id = s_material_id_member(call);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    rc = rc ? rc : emu_kms_resolve(call, id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, &key);
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:DeleteImportedKeyMaterial");
    rc = rc ? rc : s_check_delete_state(call, key);
    rc = rc ? rc : s_check_delete_material_id(call, key, material_id);
    rc = rc ? rc : s_set(call, "KeyId", json_string(key->arn));
    if (rc == CMEK_OK) {
        cur = emu_kms_key_current(key);
    }
    rc = rc || cur == NULL ? rc : s_set(call, "KeyMaterialId", json_string(cur->id));
    if (rc == CMEK_OK && cur != NULL) {
        emu_log(call->app, EMU_LOG_INFO, "kms: imported key material %s deleted from %s", cur->id,
                key->arn);
        s_clear_materials(key); /* cur dangles from here on */
        key->expiration_model[0] = '\0';
        key->valid_to_s = 0;
        if (key->state != EMU_KMS_PENDING_DELETION &&
            key->state != EMU_KMS_PENDING_REPLICA_DELETION) {
            key->state = EMU_KMS_PENDING_IMPORT;
        }
    }
    return rc;
}

const struct emu_kms_op emu_kms_import_ops[] = {
    {"GetParametersForImport", s_get_parameters_for_import},
    {"ImportKeyMaterial", s_import_key_material},
    {"DeleteImportedKeyMaterial", s_delete_imported_key_material},
};
const size_t emu_kms_import_ops_len = S_COUNT(emu_kms_import_ops);
