/* svc_kms.c: AWS Key Management Service, JSON 1.1 protocol (X-Amz-Target:
 * TrentService.<Operation>, API version 2014-11-01).
 *
 * This file is the front door and the shared machinery of the emulated KMS: SigV4
 * authentication with KMS's error types, dispatch through the operation tables of
 * kms_keys.c, kms_import.c and kms_ops_crypto.c, and what they all use: member validation
 * with AWS's "N validation errors detected" texts (botocore kms.service-2.json constraints),
 * key resolution in the four id forms (AWS KMS Developer Guide, "Key identifiers"), key
 * policy authorization through the one policy engine (KMS Developer Guide, "Key policies",
 * "Allowing users in other accounts to use a KMS key"), the key-state table ("Key states of
 * AWS KMS keys"), KeyMetadata, and the default key policy.
 *
 * Deliberate differences: KMS here is strongly consistent (AWS propagates some changes
 * within seconds); grants, custom key stores and asymmetric/HMAC keys are not emulated; key
 * policies are capped at 32768 bytes (the limit in the KMS guide; the model says 131072). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/crypto.h"
#include "kms_internal.h"
#include "proto_awsjson.h"
#include "service.h"
#include "store.h"

#define S_TARGET_PREFIX        "TrentService."
#define S_KEY_POLICY_MAX_BYTES 32768

/* ---- Errors and validation ---- */

int emu_kms_fail(struct emu_kms_call *call, const char *type, const char *fmt, ...)
{
    call->status = 400;
    call->type = type;
    call->has_message = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->message, sizeof(call->message), fmt, ap);
    va_end(ap);
    return CMEK_ERR_INVALID_ARG;
}

int emu_kms_fail_bare(struct emu_kms_call *call, const char *type)
{
    call->status = 400;
    call->type = type;
    call->has_message = false;
    call->message[0] = '\0';
    return CMEK_ERR_INVALID_ARG;
}

/* "KeyId" -> "keyId", as AWS names members in validation messages. */
static void s_lower_camel(const char *member, char *out, size_t cap)
{
    snprintf(out, cap, "%s", member);
    out[0] = (char)tolower((unsigned char)out[0]);
}

void emu_kms_invalid(struct emu_kms_call *call, const char *member, const char *value,
                     const char *constraint)
{
    char name[64], text[512];
    s_lower_camel(member, name, sizeof(name));
    if (value == NULL) {
        snprintf(text, sizeof(text), "Value at '%s' failed to satisfy constraint: %s", name,
                 constraint);
    } else {
        snprintf(text, sizeof(text), "Value '%.200s' at '%s' failed to satisfy constraint: %s",
                 value, name, constraint);
    }
    size_t used = strlen(call->validation);
    snprintf(call->validation + used, sizeof(call->validation) - used, "%s%s",
             call->n_validation > 0 ? "; " : "", text);
    call->n_validation++;
}

void emu_kms_invalid_null(struct emu_kms_call *call, const char *path)
{
    char name[160], text[256];
    s_lower_camel(path, name, sizeof(name));
    snprintf(text, sizeof(text),
             "Value null at '%s' failed to satisfy constraint: Member must not be null", name);
    size_t used = strlen(call->validation);
    snprintf(call->validation + used, sizeof(call->validation) - used, "%s%s",
             call->n_validation > 0 ? "; " : "", text);
    call->n_validation++;
}

int emu_kms_validation_result(struct emu_kms_call *call)
{
    if (call->n_validation == 0) {
        return CMEK_OK;
    }
    return emu_kms_fail(call, "ValidationException", "%d validation error%s detected: %s",
                        call->n_validation, call->n_validation > 1 ? "s" : "", call->validation);
}

/* A member of the wrong JSON type: AWS's JSON front end rejects the body before validation. */
void emu_kms_wrong_type(struct emu_kms_call *call, const char *member, const char *want)
{
    if (call->type == NULL) {
        emu_kms_fail(call, "SerializationException", "Member %s must be %s", member, want);
    }
}

static const json_t *s_member(struct emu_kms_call *call, const char *member, bool required)
{
    const json_t *v = json_object_get(call->in, member);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            emu_kms_invalid_null(call, member);
        }
        return NULL;
    }
    return v;
}

const char *emu_kms_str(struct emu_kms_call *call, const char *member, bool required,
                        size_t min_len, size_t max_len)
{
    const json_t *v = s_member(call, member, required);
    if (v == NULL) {
        return NULL;
    }
    if (!json_is_string(v)) {
        emu_kms_wrong_type(call, member, "a string");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    char constraint[128];
    if (n < min_len) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length greater than or equal to %zu", min_len);
        emu_kms_invalid(call, member, s, constraint);
        return NULL;
    }
    if (n > max_len) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length less than or equal to %zu", max_len);
        emu_kms_invalid(call, member, s, constraint);
        return NULL;
    }
    return s;
}

const char *emu_kms_enum(struct emu_kms_call *call, const char *member, bool required,
                         const char *const *allowed, size_t n_allowed)
{
    const json_t *v = s_member(call, member, required);
    if (v == NULL) {
        return NULL;
    }
    if (!json_is_string(v)) {
        emu_kms_wrong_type(call, member, "a string");
        return NULL;
    }
    for (size_t i = 0; i < n_allowed; i++) {
        if (strcmp(json_string_value(v), allowed[i]) == 0) {
            return allowed[i];
        }
    }
    char constraint[768] = "Member must satisfy enum value set: [";
    for (size_t i = 0; i < n_allowed; i++) {
        size_t used = strlen(constraint);
        snprintf(constraint + used, sizeof(constraint) - used, "%s%s", i ? ", " : "", allowed[i]);
    }
    size_t used = strlen(constraint);
    snprintf(constraint + used, sizeof(constraint) - used, "]");
    emu_kms_invalid(call, member, json_string_value(v), constraint);
    return NULL;
}

long long emu_kms_int(struct emu_kms_call *call, const char *member, long long min, long long max,
                      long long dflt, bool *present)
{
    const json_t *v = s_member(call, member, false);
    if (present != NULL) {
        *present = v != NULL;
    }
    if (v == NULL) {
        return dflt;
    }
    if (!json_is_integer(v)) {
        emu_kms_wrong_type(call, member, "an integer");
        return dflt;
    }
    long long n = json_integer_value(v);
    char value[32], constraint[128];
    snprintf(value, sizeof(value), "%lld", n);
    if (n < min) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have value greater than or equal to %lld", min);
        emu_kms_invalid(call, member, value, constraint);
        return dflt;
    }
    if (n > max) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have value less than or equal to %lld", max);
        emu_kms_invalid(call, member, value, constraint);
        return dflt;
    }
    return n;
}

bool emu_kms_bool(struct emu_kms_call *call, const char *member, bool dflt)
{
    const json_t *v = s_member(call, member, false);
    if (v == NULL) {
        return dflt;
    }
    if (!json_is_boolean(v)) {
        emu_kms_wrong_type(call, member, "a boolean");
        return dflt;
    }
    return json_is_true(v);
}

bool emu_kms_blob(struct emu_kms_call *call, const char *member, bool required, size_t min_len,
                  size_t max_len, struct cmek_buf *out)
{
    const json_t *v = s_member(call, member, required);
    if (v == NULL) {
        return false;
    }
    if (!json_is_string(v)) {
        emu_kms_wrong_type(call, member, "a base64-encoded string");
        return false;
    }
    cmek_buf_reset(out);
    int rc = cmek_base64_decode(json_string_value(v), json_string_length(v), out);
    if (rc == CMEK_ERR_PARSE) {
        /* botocore always sends valid base64; AWS's front end refuses anything else. */
        emu_kms_fail(call, "SerializationException", "Member %s is not valid base64", member);
        return false;
    }
    char constraint[128];
    if (rc == CMEK_ERR_LIMIT || out->len > max_len) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length less than or equal to %zu", max_len);
        emu_kms_invalid(call, member, NULL, constraint);
        return false;
    }
    if (rc) {
        emu_kms_fail(call, "KMSInternalException", "internal error");
        call->status = 500;
        return false;
    }
    if (out->len < min_len) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length greater than or equal to %zu", min_len);
        emu_kms_invalid(call, member, NULL, constraint);
        return false;
    }
    return true;
}

const json_t *emu_kms_string_map(struct emu_kms_call *call, const char *member)
{
    const json_t *v = s_member(call, member, false);
    if (v == NULL) {
        return NULL;
    }
    if (!json_is_object(v)) {
        emu_kms_wrong_type(call, member, "a map of strings");
        return NULL;
    }
    const char *k;
    const json_t *e;
    json_object_foreach((json_t *)v, k, e)
    {
        if (!json_is_string(e)) {
            emu_kms_wrong_type(call, member, "a map of strings");
            return NULL;
        }
    }
    return v;
}

/* ---- Key identifiers ---- */

static bool s_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/* 8-4-4-4-12 lowercase hex, or mrk- and 32 lowercase hex. */
static bool s_is_key_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 36 && strncmp(s, "mrk-", 4) == 0) {
        return s_is_hex(s + 4, 32);
    }
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
        return false;
    }
    return s_is_hex(s, 8) && s_is_hex(s + 9, 4) && s_is_hex(s + 14, 4) && s_is_hex(s + 19, 4) &&
           s_is_hex(s + 24, 12);
}

struct s_arn {
    char region[64];
    char account[13];
    char resource[320]; /* key/<id> or alias/<name> */
};

static bool s_parse_arn(const char *arn, struct s_arn *out)
{
    const char *p = "arn:aws:kms:";
    if (strncmp(arn, p, strlen(p)) != 0) {
        return false;
    }
    const char *region = arn + strlen(p);
    const char *c1 = strchr(region, ':');
    if (c1 == NULL || c1 == region || (size_t)(c1 - region) >= sizeof(out->region)) {
        return false;
    }
    const char *c2 = strchr(c1 + 1, ':');
    if (c2 == NULL || c2 - c1 - 1 != 12) {
        return false;
    }
    for (const char *d = c1 + 1; d < c2; d++) {
        if (*d < '0' || *d > '9') {
            return false;
        }
    }
    size_t resource_len = strnlen(c2 + 1, sizeof(out->resource));
    if (resource_len == sizeof(out->resource) || resource_len == 0) {
        return false;
    }
    memcpy(out->region, region, (size_t)(c1 - region));
    out->region[c1 - region] = '\0';
    memcpy(out->account, c1 + 1, 12);
    out->account[12] = '\0';
    memcpy(out->resource, c2 + 1, resource_len + 1);
    return true;
}

static int s_key_not_found(struct emu_kms_call *call, const char *account, const char *region,
                           const char *id)
{
    return emu_kms_fail(call, "NotFoundException", "Key 'arn:aws:kms:%s:%s:key/%s' does not exist",
                        region, account, id);
}

static int s_find(struct emu_kms_call *call, const char *account, const char *region,
                  const char *id, struct emu_kms_key **out)
{
    struct emu_kms_key *key =
        emu_kms_find_key(call->app, call->kms, account, region, id, (int64_t)call->now);
    if (key == NULL) {
        return s_key_not_found(call, account, region, id);
    }
    *out = key;
    return CMEK_OK;
}

static int s_find_alias(struct emu_kms_call *call, const char *account, const char *name,
                        struct emu_kms_key **out)
{
    const struct emu_kms_alias *a = emu_kms_find_alias(call->kms, account, call->region, name);
    struct emu_kms_key *key = NULL;
    if (a != NULL) {
        /* Looking the target up applies its due changes: a key whose deletion window ended
         * is deleted with its aliases, so the alias is looked up again after. */
        char target[EMU_KMS_KEY_ID_MAX + 1];
        snprintf(target, sizeof(target), "%s", a->target_key_id);
        key = emu_kms_find_key(call->app, call->kms, account, call->region, target,
                               (int64_t)call->now);
        a = emu_kms_find_alias(call->kms, account, call->region, name);
    }
    if (a == NULL || key == NULL) {
        return emu_kms_fail(call, "NotFoundException", "Alias arn:aws:kms:%s:%s:%s is not found.",
                            call->region, account, name);
    }
    *out = key;
    return CMEK_OK;
}

int emu_kms_resolve(struct emu_kms_call *call, const char *id, unsigned forms,
                    struct emu_kms_key **out)
{
    const char *caller_account = call->caller->principal.account;
    if (strncmp(id, "arn:", 4) == 0) {
        struct s_arn arn;
        if (!s_parse_arn(id, &arn)) {
            return emu_kms_fail(call, "NotFoundException", "Invalid arn %s", id);
        }
        if (strcmp(arn.region, call->region) != 0) {
            /* A key ARN names its region; this request's region is its scope's. */
            return emu_kms_fail(call, "NotFoundException", "Invalid arn %s", arn.region);
        }
        if (strncmp(arn.resource, "key/", 4) == 0) {
            if (!(forms & EMU_KMS_ID_ARN)) {
                return emu_kms_fail(call, "NotFoundException", "Invalid keyId '%s'", id);
            }
            return s_find(call, arn.account, arn.region, arn.resource + 4, out);
        }
        if (strncmp(arn.resource, "alias/", 6) == 0 && (forms & EMU_KMS_ID_ALIAS_ARN)) {
            return s_find_alias(call, arn.account, arn.resource, out);
        }
        return emu_kms_fail(call, "NotFoundException", "Invalid keyId '%s'", id);
    }
    if (strncmp(id, "alias/", 6) == 0) {
        if (!(forms & EMU_KMS_ID_ALIAS)) {
            return emu_kms_fail(call, "NotFoundException", "Invalid keyId '%s'", id);
        }
        return s_find_alias(call, caller_account, id, out);
    }
    if (!(forms & EMU_KMS_ID_KEY) || !s_is_key_id(id)) {
        return emu_kms_fail(call, "NotFoundException", "Invalid keyId '%s'", id);
    }
    return s_find(call, caller_account, call->region, id, out);
}

/* ---- Authorization ---- */

/* The operations AWS lets another account's principal perform (KMS Developer Guide,
 * "Allowing users in other accounts to use a KMS key"). */
static const char *const s_cross_account_actions[] = {
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateMac",
    "kms:GetKeyRotationStatus",
    "kms:GetPublicKey",
    "kms:ListGrants",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:Sign",
    "kms:Verify",
    "kms:VerifyMac",
};

static bool s_cross_account_ok(const char *action)
{
    for (size_t i = 0; i < sizeof(s_cross_account_actions) / sizeof(s_cross_account_actions[0]);
         i++) {
        if (strcmp(s_cross_account_actions[i], action) == 0) {
            return true;
        }
    }
    return false;
}

#define S_MAX_CONDITIONS 40

void emu_kms_add_condition(struct emu_kms_call *call, const char *key, const char *value)
{
    size_t n = sizeof(call->extra) / sizeof(call->extra[0]);
    if (call->n_extra == n) {
        return;
    }
    size_t i = call->n_extra++;
    snprintf(call->extra_storage[i], sizeof(call->extra_storage[i]), "%s", value);
    call->extra_values[i] = call->extra_storage[i];
    call->extra[i] = (struct emu_condition_entry){key, &call->extra_values[i], 1};
}

int emu_kms_authorize(struct emu_kms_call *call, const struct emu_kms_key *key, const char *action)
{
    const struct emu_caller *c = call->caller;
    const char *caller_account_values[1] = {c->principal.account};
    struct emu_condition_entry conds[S_MAX_CONDITIONS];
    const char *ctx_keys[S_MAX_CONDITIONS];
    const char *ctx_values[S_MAX_CONDITIONS];
    char ctx_names[S_MAX_CONDITIONS][160];
    size_t n = 0, n_keys = 0;
    conds[n++] = (struct emu_condition_entry){"kms:CallerAccount", caller_account_values, 1};
    if (call->auth_context != NULL) {
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)call->auth_context, k, v)
        {
            if (n + 2 >= S_MAX_CONDITIONS) {
                break;
            }
            snprintf(ctx_names[n_keys], sizeof(ctx_names[n_keys]), "kms:EncryptionContext:%s", k);
            ctx_keys[n_keys] = k;
            ctx_values[n_keys] = json_string_value(v);
            conds[n++] = (struct emu_condition_entry){ctx_names[n_keys], &ctx_values[n_keys], 1};
            n_keys++;
        }
        if (n_keys > 0) {
            conds[n++] =
                (struct emu_condition_entry){"kms:EncryptionContextKeys", ctx_keys, n_keys};
        }
    }
    for (size_t i = 0; i < call->n_extra && n < S_MAX_CONDITIONS; i++) {
        conds[n++] = call->extra[i];
    }
    struct emu_aws_error err;
    bool cross = strcmp(c->principal.account, key->account) != 0;
    if (cross && !s_cross_account_ok(action)) {
        return emu_kms_fail(call, "AccessDeniedException",
                            "User: %s is not authorized to perform: %s on resource: %s because "
                            "no resource-based policy allows the %s action",
                            c->arn, action, key->arn, action);
    }
    if (!emu_aws_authorize(call->app, c, EMU_AWS_JSON, action, key->arn, key->policy, key->account,
                           true, "resource-based", conds, n, &err)) {
        return emu_kms_fail(call, err.code, "%s", err.message);
    }
    return CMEK_OK;
}

int emu_kms_authorize_account(struct emu_kms_call *call, const char *action)
{
    struct emu_aws_error err;
    if (!emu_aws_authorize(call->app, call->caller, EMU_AWS_JSON, action, "*", NULL,
                           call->caller->principal.account, false, "resource-based", call->extra,
                           call->n_extra, &err)) {
        return emu_kms_fail(call, err.code, "%s", err.message);
    }
    return CMEK_OK;
}

/* ---- Key states (KMS Developer Guide, "Key states of AWS KMS keys") ---- */

static int s_state_fail(struct emu_kms_call *call, const struct emu_kms_key *key, const char *type,
                        const char *what)
{
    return emu_kms_fail(call, type, "%s is %s.", key->arn, what);
}

int emu_kms_check_state(struct emu_kms_call *call, const struct emu_kms_key *key,
                        enum emu_kms_op_class op_class)
{
    const char *invalid = "KMSInvalidStateException";
    if ((op_class == EMU_KMS_OPS_ROTATION && strcmp(key->origin, "EXTERNAL") == 0) ||
        (op_class == EMU_KMS_OPS_IMPORT && strcmp(key->origin, "EXTERNAL") != 0)) {
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "%s origin is %s which is not valid for this operation.", key->arn,
                            key->origin);
    }
    switch (key->state) {
    case EMU_KMS_ENABLED:
        break;
    case EMU_KMS_DISABLED:
        if (op_class == EMU_KMS_OPS_CRYPTO || op_class == EMU_KMS_OPS_ROTATION ||
            op_class == EMU_KMS_OPS_REPLICATE) {
            return s_state_fail(call, key, "DisabledException", "disabled");
        }
        break;
    case EMU_KMS_PENDING_DELETION:
    case EMU_KMS_PENDING_REPLICA_DELETION:
        if (op_class != EMU_KMS_OPS_ANY && op_class != EMU_KMS_OPS_CANCEL) {
            return s_state_fail(call, key, invalid, "pending deletion");
        }
        break;
    case EMU_KMS_PENDING_IMPORT:
        if (op_class == EMU_KMS_OPS_CRYPTO || op_class == EMU_KMS_OPS_ENABLE ||
            op_class == EMU_KMS_OPS_ROTATION || op_class == EMU_KMS_OPS_REPLICATE) {
            return s_state_fail(call, key, invalid, "pending import");
        }
        break;
    case EMU_KMS_UNAVAILABLE:
        if (op_class == EMU_KMS_OPS_CRYPTO || op_class == EMU_KMS_OPS_ROTATION ||
            op_class == EMU_KMS_OPS_IMPORT) {
            return s_state_fail(call, key, invalid, "unavailable");
        }
        break;
    case EMU_KMS_CREATING:
        if (op_class != EMU_KMS_OPS_ANY && op_class != EMU_KMS_OPS_SCHEDULE &&
            op_class != EMU_KMS_OPS_TAG) {
            return s_state_fail(call, key, invalid, "creating");
        }
        break;
    case EMU_KMS_UPDATING:
        if (op_class == EMU_KMS_OPS_ENABLE || op_class == EMU_KMS_OPS_SCHEDULE ||
            op_class == EMU_KMS_OPS_REPLICATE) {
            return s_state_fail(call, key, invalid, "updating");
        }
        break;
    default:
        return s_state_fail(call, key, invalid, "unavailable");
    }
    if (op_class == EMU_KMS_OPS_CANCEL && key->state != EMU_KMS_PENDING_DELETION &&
        key->state != EMU_KMS_PENDING_REPLICA_DELETION) {
        return s_state_fail(call, key, invalid, "not pending deletion");
    }
    return CMEK_OK;
}

/* ---- Shapes ---- */

json_t *emu_kms_time(int64_t s)
{
    return json_integer((json_int_t)s);
}

static json_t *s_region_arn(const struct emu_kms_key *key, const char *region)
{
    char arn[384];
    snprintf(arn, sizeof(arn), "arn:aws:kms:%s:%s:key/%s", region, key->account, key->id);
    return json_pack("{s:s,s:s}", "Arn", arn, "Region", region);
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_KeyMetadata.html */
json_t *emu_kms_key_metadata(const struct emu_kms_call *call, const struct emu_kms_key *key)
{
    json_t *m = json_pack(
        "{s:s,s:s,s:s,s:o,s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:[s],s:b}", "AWSAccountId", key->account,
        "KeyId", key->id, "Arn", key->arn, "CreationDate", emu_kms_time(key->creation_s), "Enabled",
        key->state == EMU_KMS_ENABLED, "Description", key->description, "KeyUsage", key->key_usage,
        "KeyState", emu_kms_key_state_name(key->state), "Origin", key->origin, "KeyManager",
        "CUSTOMER", "CustomerMasterKeySpec", key->key_spec, "KeySpec", key->key_spec,
        "EncryptionAlgorithms", "SYMMETRIC_DEFAULT", "MultiRegion", key->multi_region);
    if (m == NULL) {
        return NULL;
    }
    if (key->state == EMU_KMS_PENDING_DELETION) {
        json_object_set_new(m, "DeletionDate", emu_kms_time(key->deletion_s));
    }
    if (key->state == EMU_KMS_PENDING_REPLICA_DELETION) {
        json_object_set_new(m, "PendingDeletionWindowInDays",
                            json_integer(key->pending_window_days));
    }
    const struct emu_kms_material *cur = emu_kms_key_current(key);
    if (cur != NULL) {
        json_object_set_new(m, "CurrentKeyMaterialId", json_string(cur->id));
    }
    if (strcmp(key->origin, "EXTERNAL") == 0 && key->expiration_model[0]) {
        json_object_set_new(m, "ExpirationModel", json_string(key->expiration_model));
        if (strcmp(key->expiration_model, "KEY_MATERIAL_EXPIRES") == 0) {
            json_object_set_new(m, "ValidTo", emu_kms_time(key->valid_to_s));
        }
    }
    if (key->multi_region) {
        /* The primary knows its replicas; a replica shows the primary's list. */
        const struct emu_kms_key *primary = key;
        if (key->is_replica) {
            char name[384];
            snprintf(name, sizeof(name), "%s/%s/%s", key->account, key->primary_region, key->id);
            primary = cmek_map_get(&call->kms->keys, name);
        }
        json_t *replicas = json_array();
        const struct cmek_vec *regions =
            primary ? &primary->replica_regions : &key->replica_regions;
        for (size_t i = 0; replicas && i < regions->len; i++) {
            json_array_append_new(replicas, s_region_arn(key, regions->items[i]));
        }
        json_object_set_new(m, "MultiRegionConfiguration",
                            json_pack("{s:s,s:o,s:o}", "MultiRegionKeyType",
                                      key->is_replica ? "REPLICA" : "PRIMARY", "PrimaryKey",
                                      s_region_arn(key, key->primary_region), "ReplicaKeys",
                                      replicas ? replicas : json_array()));
    }
    return m;
}

/* The text AWS stores for a key created without a policy (GetKeyPolicy shows it exactly:
 * Jackson's pretty printer, " : " separators). */
const char *emu_kms_default_policy_text(const char *account, struct cmek_buf *out)
{
    cmek_buf_reset(out);
    if (cmek_buf_appendf(out,
                         "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n"
                         "  \"Statement\" : [ {\n    \"Sid\" : \"Enable IAM User Permissions\",\n"
                         "    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n"
                         "      \"AWS\" : \"arn:aws:iam::%s:root\"\n    },\n"
                         "    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}",
                         account) != CMEK_OK) {
        return NULL;
    }
    return cmek_buf_cstr(out);
}

int emu_kms_parse_key_policy(struct emu_kms_call *call, const char *text, const char *key_arn,
                             const char *key_account, bool bypass_lockout_check,
                             struct emu_policy **out)
{
    size_t len = strlen(text);
    if (len > S_KEY_POLICY_MAX_BYTES) {
        return emu_kms_fail(call, "LimitExceededException",
                            "Policy size exceeds the maximum allowed size of %d bytes.",
                            S_KEY_POLICY_MAX_BYTES);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') {
            return emu_kms_fail(call, "MalformedPolicyDocumentException",
                                "The policy contains characters that are not allowed.");
        }
    }
    struct emu_principal_resolver resolver = emu_iam_resolver(&call->app->store->iam);
    struct emu_policy_error perr;
    struct emu_policy *policy = NULL;
    int rc = emu_policy_parse(text, len, EMU_POLICY_RESOURCE, &resolver, &policy, &perr);
    if (rc == CMEK_ERR_PARSE || rc == CMEK_ERR_LIMIT) {
        return emu_kms_fail(call, "MalformedPolicyDocumentException", "%s",
                            perr.invalid_principal
                                ? "Policy contains a statement with one or more invalid "
                                  "principals."
                                : perr.message);
    }
    if (rc) {
        return rc;
    }
    if (!bypass_lockout_check) {
        /* The lockout safety check: the caller must still be able to PutKeyPolicy. */
        struct emu_aws_error err;
        if (!emu_aws_authorize(call->app, call->caller, EMU_AWS_JSON, "kms:PutKeyPolicy", key_arn,
                               policy, key_account, true, "resource-based", NULL, 0, &err)) {
            emu_policy_destroy(policy);
            return emu_kms_fail(call, "MalformedPolicyDocumentException",
                                "The new key policy will not allow you to update the key policy "
                                "in the future.");
        }
    }
    *out = policy;
    return CMEK_OK;
}

/* ---- Dispatch ---- */

#define S_TYPICAL_RESPONSE_BYTES 1024

static const struct emu_kms_op *s_find_op(const char *name)
{
    const struct {
        const struct emu_kms_op *ops;
        size_t len;
    } tables[] = {
        {emu_kms_key_ops, emu_kms_key_ops_len},
        {emu_kms_alias_ops, emu_kms_alias_ops_len},
        {emu_kms_rotation_ops, emu_kms_rotation_ops_len},
        {emu_kms_import_ops, emu_kms_import_ops_len},
        {emu_kms_crypto_ops, emu_kms_crypto_ops_len},
    };
    /* About fifty names: a first-letter check skips most before any full comparison. */
    for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
        for (size_t i = 0; i < tables[t].len; i++) {
            const char *candidate = tables[t].ops[i].name;
            if (candidate[0] == name[0] && strcmp(candidate, name) == 0) {
                return &tables[t].ops[i];
            }
        }
    }
    return NULL;
}

static void s_render_error(const struct emu_app *app, const struct emu_request *req,
                           struct emu_response *resp, int status, const char *code,
                           const char *message)
{
    (void)app;
    const char *type = status == 413   ? "RequestEntityTooLargeException"
                       : status >= 500 ? "KMSInternalException"
                                       : code;
    emu_awsjson_render_error(resp, req->request_id, status, type, message);
}

static void s_render_success(struct emu_response *resp, const struct emu_request *req,
                             const struct emu_kms_call *call)
{
    resp->status = 200;
    resp->content_type = "application/x-amz-json-1.1";
    emu_response_add_header(resp, "x-amzn-RequestId", req->request_id);
    cmek_buf_reset(&resp->body);
    if (call->empty_response) {
        return;
    }
    /* Written straight into the body (json_dumps would build, copy and leave copies of
     * plaintext and data keys to wipe), with room for a typical answer reserved first, so
     * it is not regrown (and each old copy wiped) several times on the way. */
    if (cmek_buf_reserve(&resp->body, S_TYPICAL_RESPONSE_BYTES) != CMEK_OK ||
        emu_awsjson_write(call->out, &resp->body) != CMEK_OK) {
        resp->status = 0;
    }
}

static void s_handle(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    if (strcmp(req->method, "POST") != 0) {
        emu_awsjson_render_error(resp, req->request_id, 400, "UnknownOperationException", NULL);
        return;
    }
    struct emu_caller caller;
    struct emu_aws_error aerr;
    struct emu_kms_call call;
    memset(&call, 0, sizeof(call));
    json_t *in = NULL;
    emu_store_lock(app->store);
    int rc = emu_aws_authenticate(app, req, "kms", EMU_AWS_JSON, &caller, &aerr);
    if (rc) {
        emu_store_unlock(app->store);
        emu_awsjson_render_error(resp, req->request_id, aerr.status, aerr.code, aerr.message);
        return;
    }
    struct cmek_view target = emu_request_header(req, "X-Amz-Target");
    char name[64] = "";
    const struct emu_kms_op *op = NULL;
    if (target.ptr != NULL && cmek_view_starts_with(target, S_TARGET_PREFIX) &&
        target.len - strlen(S_TARGET_PREFIX) < sizeof(name)) {
        size_t n = target.len - strlen(S_TARGET_PREFIX);
        memcpy(name, target.ptr + strlen(S_TARGET_PREFIX), n);
        name[n] = '\0';
        op = s_find_op(name);
    }
    if (op == NULL) {
        emu_store_unlock(app->store);
        emu_awsjson_render_error(resp, req->request_id, 400, "UnknownOperationException", NULL);
        return;
    }
    in = req->body.len == 0 ? json_object() : emu_awsjson_read(req->body.ptr, req->body.len);
    if (!json_is_object(in)) {
        emu_store_unlock(app->store);
        json_decref(in);
        emu_awsjson_render_error(resp, req->request_id, 400, "SerializationException",
                                 "The request body is not a JSON object.");
        return;
    }
    call.app = app;
    call.kms = &app->store->kms;
    call.caller = &caller;
    call.operation = op->name;
    call.region = caller.region;
    call.in = in;
    call.out = json_object();
    call.now = emu_store_now(app, app->store);
    rc = call.out ? op->fn(&call) : CMEK_ERR_NOMEM;
    emu_store_unlock(app->store);
    if (rc == CMEK_OK) {
        s_render_success(resp, req, &call);
    } else {
        if (call.type == NULL) {
            emu_log(app, EMU_LOG_ERROR, "kms %s failed internally (%s)", name, cmek_error_str(rc));
            call.status = 500;
            call.type = "KMSInternalException";
            call.has_message = true;
            snprintf(call.message, sizeof(call.message), "An internal error occurred.");
        }
        emu_log(app, EMU_LOG_DEBUG, "kms %s: %s %s", name, call.type, call.message);
        emu_awsjson_render_error(resp, req->request_id, call.status ? call.status : 400, call.type,
                                 call.has_message ? call.message : NULL);
    }
    json_decref(call.out);
    json_decref(in);
}

const struct emu_service emu_service_kms = {
    .name = "kms",
    .handle = s_handle,
    .render_error = s_render_error,
};
