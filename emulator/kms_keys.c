/* kms_keys.c: the key lifecycle of the emulated KMS: CreateKey, DescribeKey, ListKeys,
 * Enable/DisableKey, Schedule/CancelKeyDeletion, the key policy (Put/GetKeyPolicy,
 * ListKeyPolicies), tags (Tag/UntagResource, ListResourceTags) and UpdateKeyDescription.
 *
 * Each operation follows kms_internal.h's order: validate its members (botocore's
 * kms.service-2.json constraints, AWS's "N validation errors detected" texts) -> resolve the
 * key -> authorize kms:<Operation> -> check the key state (aws.md 2.2) -> change the model ->
 * shape the output.
 *
 * Deliberate differences, module-wide: only symmetric ENCRYPT_DECRYPT keys exist (asymmetric,
 * HMAC and key-agreement specs, custom key stores and external key stores are refused with
 * UnsupportedOperationException and a message saying so); ListKeys/ListResourceTags markers
 * are this emulator's own opaque strings (base64 of a position). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "cmek/crypto.h"
#include "kms_internal.h"
#include "store.h"

#define S_DESCRIPTION_MAX 8192
#define S_POLICY_MODEL_MAX                                                                         \
    131072 /* PolicyType's model maximum (the 32 KiB quota is                                      \
            * emu_kms_parse_key_policy's) */
#define S_KEY_ID_MAX       2048
#define S_TAG_KEY_MAX      128
#define S_TAG_VALUE_MAX    256
#define S_TAGS_PER_KEY     50
#define S_GRANT_TOKENS_MAX 10
#define S_GRANT_TOKEN_MAX  8192
#define S_MARKER_MAX       1024
#define S_LIST_KEYS_LIMIT  100 /* ListKeys' default page */
#define S_LIST_TAGS_LIMIT  50  /* ListResourceTags: default and most per page */
#define S_MARKER_BUF       128
#define S_POLICY_OUT_MAX   (256u * 1024u)

static const char *const s_key_usages[] = {"SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC",
                                           "KEY_AGREEMENT"};
static const char *const s_cmk_specs[] = {"RSA_2048",
                                          "RSA_3072",
                                          "RSA_4096",
                                          "ECC_NIST_P256",
                                          "ECC_NIST_P384",
                                          "ECC_NIST_P521",
                                          "ECC_SECG_P256K1",
                                          "SYMMETRIC_DEFAULT",
                                          "HMAC_224",
                                          "HMAC_256",
                                          "HMAC_384",
                                          "HMAC_512",
                                          "SM2"};
static const char *const s_key_specs[] = {"RSA_2048",
                                          "RSA_3072",
                                          "RSA_4096",
                                          "ECC_NIST_P256",
                                          "ECC_NIST_P384",
                                          "ECC_NIST_P521",
                                          "ECC_SECG_P256K1",
                                          "SYMMETRIC_DEFAULT",
                                          "HMAC_224",
                                          "HMAC_256",
                                          "HMAC_384",
                                          "HMAC_512",
                                          "SM2",
                                          "ML_DSA_44",
                                          "ML_DSA_65",
                                          "ML_DSA_87",
                                          "ECC_NIST_EDWARDS25519"};
static const char *const s_origins[] = {"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM",
                                        "EXTERNAL_KEY_STORE"};

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Members ---- */

/* The outcome of member validation: a SerializationException already set wins, then the
 * aggregated ValidationException. */
static int s_members_ok(struct emu_kms_call *call)
{
    if (call->type != NULL) {
        return CMEK_ERR_INVALID_ARG;
    }
    return emu_kms_validation_result(call);
}

/* A string at a nested path (tags.1.member.tagKey) checked for length. */
static const char *s_nested_str(struct emu_kms_call *call, const json_t *v, const char *path,
                                const char *member, size_t min_len, size_t max_len)
{
    if (v == NULL || json_is_null(v)) {
        emu_kms_invalid_null(call, path);
        return NULL;
    }
    if (!json_is_string(v)) {
        emu_kms_wrong_type(call, member, "a string");
        return NULL;
    }
    size_t n = json_string_length(v);
    char constraint[128];
    if (n < min_len) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length greater than or equal to %zu", min_len);
        emu_kms_invalid(call, path, json_string_value(v), constraint);
        return NULL;
    }
    if (n > max_len) {
        snprintf(constraint, sizeof(constraint),
                 "Member must have length less than or equal to %zu", max_len);
        emu_kms_invalid(call, path, json_string_value(v), constraint);
        return NULL;
    }
    return json_string_value(v);
}

/* A list member: NULL when absent (a violation if required) or not a list. */
static const json_t *s_list(struct emu_kms_call *call, const char *member, const char *path,
                            bool required)
{
    const json_t *v = json_object_get(call->in, member);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            emu_kms_invalid_null(call, path);
        }
        return NULL;
    }
    if (!json_is_array(v)) {
        emu_kms_wrong_type(call, member, "a list");
        return NULL;
    }
    return v;
}

/* GrantTokens (accepted and ignored: grants are not emulated): 0-10 tokens of 1-8192. */
static void s_grant_tokens(struct emu_kms_call *call)
{
    const json_t *list = s_list(call, "GrantTokens", "grantTokens", false);
    if (list == NULL) {
        return;
    }
    if (json_array_size(list) > S_GRANT_TOKENS_MAX) {
        emu_kms_invalid(call, "grantTokens", NULL,
                        "Member must have length less than or equal to 10");
        return;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        char path[64];
        snprintf(path, sizeof(path), "grantTokens.%zu.member", i + 1);
        (void)s_nested_str(call, e, path, "GrantTokens", 1, S_GRANT_TOKEN_MAX);
    }
}

/* A key policy member: PolicyType is 1-131072 characters matching
 * [\u0009\u000A\u000D\u0020-\u00FF]+. Control characters are left to
 * emu_kms_parse_key_policy (MalformedPolicyDocumentException); characters above U+00FF
 * (UTF-8 lead bytes from 0xC4) break the model's pattern. */
static const char *s_policy_member(struct emu_kms_call *call, const char *member, bool required)
{
    const char *text = emu_kms_str(call, member, required, 1, S_POLICY_MODEL_MAX);
    if (text == NULL) {
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p >= 0xC4) {
            emu_kms_invalid(call, member, text,
                            "Member must satisfy regular expression pattern: "
                            "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+");
            return NULL;
        }
    }
    return text;
}

/* ---- Tags ---- */

static void s_tags_destroy(struct cmek_vec *tags)
{
    for (size_t i = 0; i < tags->len; i++) {
        emu_tag_destroy(tags->items[i]);
    }
    cmek_vec_clean_up(tags);
}

/* Reads a TagList member into out (struct emu_tag *, owned), recording violations with
 * AWS's nested paths ('tags.1.member.tagKey'). */
static int s_read_tags(struct emu_kms_call *call, bool required, struct cmek_vec *out)
{
    const json_t *list = s_list(call, "Tags", "tags", required);
    if (list == NULL) {
        return CMEK_OK;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        if (!json_is_object(e)) {
            emu_kms_wrong_type(call, "Tags", "a list of Tag structures");
            return CMEK_OK;
        }
        char kpath[64], vpath[64];
        snprintf(kpath, sizeof(kpath), "tags.%zu.member.tagKey", i + 1);
        snprintf(vpath, sizeof(vpath), "tags.%zu.member.tagValue", i + 1);
        const char *k =
            s_nested_str(call, json_object_get(e, "TagKey"), kpath, "TagKey", 1, S_TAG_KEY_MAX);
        const char *v = s_nested_str(call, json_object_get(e, "TagValue"), vpath, "TagValue", 0,
                                     S_TAG_VALUE_MAX);
        if (k == NULL || v == NULL) {
            continue;
        }
        struct emu_tag *t = calloc(1, sizeof(*t));
        if (t == NULL) {
            return CMEK_ERR_NOMEM;
        }
        t->key = strdup(k);
        t->value = strdup(v);
        if (t->key == NULL || t->value == NULL || cmek_vec_push(out, t) != CMEK_OK) {
            emu_tag_destroy(t);
            return CMEK_ERR_NOMEM;
        }
    }
    return CMEK_OK;
}

static bool s_reserved_tag_key(const char *key)
{
    /* AWS reserves the prefix in any letter case. */
    return strncasecmp(key, "aws:", 4) == 0;
}

/* The TagException checks of a request's tags (before they meet the key's). */
static int s_check_new_tags(struct emu_kms_call *call, const struct cmek_vec *tags)
{
    for (size_t i = 0; i < tags->len; i++) {
        const struct emu_tag *t = tags->items[i];
        if (s_reserved_tag_key(t->key)) {
            return emu_kms_fail(call, "TagException", "Tags beginning with aws: are reserved");
        }
        for (size_t j = 0; j < i; j++) {
            const struct emu_tag *u = tags->items[j];
            if (strcmp(u->key, t->key) == 0) {
                return emu_kms_fail(call, "TagException", "Duplicate tag keys");
            }
        }
    }
    if (tags->len > S_TAGS_PER_KEY) {
        return emu_kms_fail(call, "TagException", "Too many tags");
    }
    return CMEK_OK;
}

static long s_find_tag(const struct emu_kms_key *key, const char *tag_key)
{
    for (size_t i = 0; i < key->tags.len; i++) {
        const struct emu_tag *t = key->tags.items[i];
        if (strcmp(t->key, tag_key) == 0) {
            return (long)i;
        }
    }
    return -1;
}

static json_t *s_tag_json(const struct emu_tag *t)
{
    return json_pack("{s:s,s:s}", "TagKey", t->key, "TagValue", t->value);
}

/* ---- Markers: base64 of "<list>:<position>", opaque to clients ---- */

static int s_marker_encode(const char *list, size_t position, struct cmek_buf *out)
{
    char text[S_MARKER_BUF];
    int n = snprintf(text, sizeof(text), "%s:%zu", list, position);
    if (n < 0 || (size_t)n >= sizeof(text)) {
        return CMEK_ERR_LIMIT;
    }
    cmek_buf_reset(out);
    return cmek_base64_encode(text, (size_t)n, out);
}

/* The position a marker names, at most max_position; InvalidMarkerException otherwise. */
static int s_marker_decode(struct emu_kms_call *call, const char *marker, const char *list,
                           size_t max_position, size_t *out)
{
    struct cmek_buf text;
    cmek_buf_init(&text, S_MARKER_BUF);
    int rc = cmek_base64_decode(marker, strlen(marker), &text);
    size_t prefix = strlen(list);
    const char *s = cmek_buf_cstr(&text);
    bool ok = rc == CMEK_OK && text.len > prefix + 1 && strlen(s) == text.len &&
              strncmp(s, list, prefix) == 0 && s[prefix] == ':';
    unsigned long long position = 0;
    if (ok) {
        const char *digits = s + prefix + 1;
        for (const char *d = digits; *d; d++) {
            ok = ok && *d >= '0' && *d <= '9';
        }
        char *end = NULL;
        errno = 0;
        position = ok ? strtoull(digits, &end, 10) : 0;
        ok = ok && errno == 0 && end != NULL && *end == '\0' && position <= max_position;
    }
    cmek_buf_clean_up(&text);
    if (!ok) {
        return emu_kms_fail(call, "InvalidMarkerException",
                            "The request was rejected because the marker that specifies where "
                            "pagination should next begin is not valid.");
    }
    *out = (size_t)position;
    return CMEK_OK;
}

/* ---- Shared steps ---- */

/* Resolves key_id in the allowed forms, authorizes kms:<Operation> on the key and checks
 * its state for op_class. */
static int s_key_for(struct emu_kms_call *call, const char *key_id, unsigned forms,
                     enum emu_kms_op_class op_class, struct emu_kms_key **out)
{
    struct emu_kms_key *key = NULL;
    char action[96];
    snprintf(action, sizeof(action), "kms:%s", call->operation);
    int rc = emu_kms_resolve(call, key_id, forms, &key);
    if (rc) {
        return rc;
    }
    rc = emu_kms_authorize(call, key, action);
    if (rc) {
        return rc;
    }
    rc = emu_kms_check_state(call, key, op_class);
    if (rc) {
        return rc;
    }
    *out = key;
    return CMEK_OK;
}

static int s_set(json_t *o, const char *member, json_t *value)
{
    return value == NULL || json_object_set_new(o, member, value) ? CMEK_ERR_NOMEM : CMEK_OK;
}

static const char *s_key_id_member(struct emu_kms_call *call)
{
    return emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
}

/* A fresh key id: a v4 UUID, or mrk- and 32 lowercase hex digits for a multi-Region key. */
static int s_new_key_id(const struct emu_app *app, bool multi_region, char out[37])
{
    if (!multi_region) {
        return emu_uuid4(app, out);
    }
    memcpy(out, "mrk-", 4);
    return emu_random_string(app, "0123456789abcdef", 32, out + 4);
}

/* ---- CreateKey ---- */

/* What this emulator cannot create; each refusal says why. */
static int s_check_supported(struct emu_kms_call *call, const char *usage, const char *cmk_spec,
                             const char *spec, const char *origin, const char *store_id,
                             const char *xks_id)
{
    if (spec != NULL && cmk_spec != NULL) {
        return emu_kms_fail(call, "ValidationException",
                            "You cannot specify KeySpec and CustomerMasterKeySpec in the same "
                            "request. CustomerMasterKeySpec is deprecated.");
    }
    const char *effective = spec != NULL ? spec : cmk_spec;
    if (effective != NULL && strcmp(effective, "SYMMETRIC_DEFAULT") != 0) {
        if (usage == NULL) {
            return emu_kms_fail(call, "ValidationException",
                                "You must specify a KeyUsage value for all KMS keys except for "
                                "symmetric encryption keys.");
        }
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "KeySpec %s is not supported by this emulator: only "
                            "SYMMETRIC_DEFAULT keys can be created.",
                            effective);
    }
    if (usage != NULL && strcmp(usage, "ENCRYPT_DECRYPT") != 0) {
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "KeyUsage %s is not supported by this emulator: only "
                            "ENCRYPT_DECRYPT keys can be created.",
                            usage);
    }
    if (origin != NULL &&
        (strcmp(origin, "AWS_CLOUDHSM") == 0 || strcmp(origin, "EXTERNAL_KEY_STORE") == 0)) {
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "Origin %s is not supported by this emulator: custom key stores are "
                            "not emulated.",
                            origin);
    }
    if (store_id != NULL || xks_id != NULL) {
        return emu_kms_fail(call, "UnsupportedOperationException",
                            "%s is not supported by this emulator: custom key stores are not "
                            "emulated.",
                            store_id != NULL ? "CustomKeyStoreId" : "XksKeyId");
    }
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html
 * Differences: only SYMMETRIC_DEFAULT ENCRYPT_DECRYPT keys with AWS_KMS or EXTERNAL origin
 * (see s_check_supported); Tags do not additionally require kms:TagResource. */
static int s_create_key(struct emu_kms_call *call)
{
    struct cmek_vec tags;
    cmek_vec_init(&tags);
    struct cmek_buf default_text;
    cmek_buf_init(&default_text, 4096);
    struct emu_policy *policy = NULL;
    struct emu_kms_key *key = NULL;
    struct emu_kms_material material;
    memset(&material, 0, sizeof(material));
    const char *account = call->caller->principal.account;

    const char *policy_text = s_policy_member(call, "Policy", false);
    const char *description = emu_kms_str(call, "Description", false, 0, S_DESCRIPTION_MAX);
    const char *usage = emu_kms_enum(call, "KeyUsage", false, s_key_usages, S_COUNT(s_key_usages));
    const char *cmk_spec =
        emu_kms_enum(call, "CustomerMasterKeySpec", false, s_cmk_specs, S_COUNT(s_cmk_specs));
    const char *spec = emu_kms_enum(call, "KeySpec", false, s_key_specs, S_COUNT(s_key_specs));
    const char *origin = emu_kms_enum(call, "Origin", false, s_origins, S_COUNT(s_origins));
    const char *store_id = emu_kms_str(call, "CustomKeyStoreId", false, 1, 64);
    const char *xks_id = emu_kms_str(call, "XksKeyId", false, 1, 128);
    bool bypass = emu_kms_bool(call, "BypassPolicyLockoutSafetyCheck", false);
    bool multi_region = emu_kms_bool(call, "MultiRegion", false);
    int rc = s_read_tags(call, false, &tags);
    rc = rc ? rc : s_members_ok(call);
    emu_kms_add_condition(call, "kms:BypassPolicyLockoutSafetyCheck", bypass ? "true" : "false");
    rc = rc ? rc : emu_kms_authorize_account(call, "kms:CreateKey");
    rc = rc ? rc : s_check_supported(call, usage, cmk_spec, spec, origin, store_id, xks_id);
    rc = rc ? rc : s_check_new_tags(call, &tags);
    if (rc) {
        goto done;
    }

    char id[37];
    rc = s_new_key_id(call->app, multi_region, id);
    if (rc) {
        goto done;
    }
    key = emu_kms_key_new(account, call->region, id, (int64_t)call->now);
    if (key == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    if (policy_text != NULL) {
        rc = emu_kms_parse_key_policy(call, policy_text, key->arn, account, bypass, &policy);
    } else {
        /* The default policy lets the account (IAM) manage the key: never a lockout. */
        const char *text = emu_kms_default_policy_text(account, &default_text);
        rc = text ? emu_kms_parse_key_policy(call, text, key->arn, account, true, &policy)
                  : CMEK_ERR_NOMEM;
    }
    if (rc) {
        goto done;
    }
    key->policy = policy;
    policy = NULL;
    if (description != NULL) {
        char *copy = strdup(description);
        if (copy == NULL) {
            rc = CMEK_ERR_NOMEM;
            goto done;
        }
        free(key->description);
        key->description = copy;
    }
    if (origin != NULL && strcmp(origin, "EXTERNAL") == 0) {
        snprintf(key->origin, sizeof(key->origin), "EXTERNAL");
        key->state = EMU_KMS_PENDING_IMPORT;
    } else {
        rc = emu_kms_material_generate(call->app, key->id, (int64_t)call->now, &material);
        rc = rc ? rc : emu_kms_key_add_material(key, &material);
        if (rc) {
            goto done;
        }
    }
    if (multi_region) {
        key->multi_region = true;
        key->primary_region = strdup(call->region);
        if (key->primary_region == NULL) {
            rc = CMEK_ERR_NOMEM;
            goto done;
        }
    }
    /* The tags move into the key. */
    key->tags = tags;
    cmek_vec_init(&tags);

    struct emu_kms_key *added = key;
    key = NULL; /* emu_kms_add_key owns it, also on failure */
    rc = emu_kms_add_key(call->kms, added);
    if (rc) {
        goto done;
    }
    emu_log(call->app, EMU_LOG_INFO, "kms: created key %s", added->arn);
    rc = s_set(call->out, "KeyMetadata", emu_kms_key_metadata(call, added));

done:
    cmek_cleanse(&material, sizeof(material));
    emu_kms_key_destroy(key);
    emu_policy_destroy(policy);
    s_tags_destroy(&tags);
    cmek_buf_clean_up(&default_text);
    return rc;
}

/* ---- DescribeKey ---- */

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html
 * Differences: GrantTokens are validated and ignored. */
static int s_describe_key(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    const char *key_id = s_key_id_member(call);
    s_grant_tokens(call);
    int rc = s_members_ok(call);
    rc = rc ? rc : s_key_for(call, key_id, EMU_KMS_ID_ANY, EMU_KMS_OPS_ANY, &key);
    rc = rc ? rc : s_set(call->out, "KeyMetadata", emu_kms_key_metadata(call, key));
    return rc;
}

/* ---- ListKeys ---- */

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeys.html
 * Differences: keys are listed in creation order; NextMarker is this emulator's own. */
static int s_list_keys(struct emu_kms_call *call)
{
    struct cmek_vec mine;
    cmek_vec_init(&mine);
    struct cmek_buf marker_out;
    cmek_buf_init(&marker_out, S_MARKER_BUF * 2);
    json_t *keys = NULL;
    long long limit = emu_kms_int(call, "Limit", 1, 1000, S_LIST_KEYS_LIMIT, NULL);
    const char *marker = emu_kms_str(call, "Marker", false, 1, S_MARKER_MAX);
    int rc = s_members_ok(call);
    rc = rc ? rc : emu_kms_authorize_account(call, "kms:ListKeys");
    if (rc) {
        goto done;
    }
    emu_kms_refresh_all(call->app, call->kms, (int64_t)call->now);
    const char *account = call->caller->principal.account;
    for (size_t i = 0; i < call->kms->key_order.len; i++) {
        struct emu_kms_key *k = call->kms->key_order.items[i];
        if (strcmp(k->account, account) == 0 && strcmp(k->region, call->region) == 0) {
            rc = cmek_vec_push(&mine, k);
            if (rc) {
                goto done;
            }
        }
    }
    size_t start = 0;
    if (marker != NULL) {
        rc = s_marker_decode(call, marker, "keys", mine.len, &start);
        if (rc) {
            goto done;
        }
    }
    size_t end = start + (size_t)limit < mine.len ? start + (size_t)limit : mine.len;
    keys = json_array();
    if (keys == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    for (size_t i = start; i < end; i++) {
        const struct emu_kms_key *k = mine.items[i];
        if (json_array_append_new(keys, json_pack("{s:s,s:s}", "KeyId", k->id, "KeyArn", k->arn)) !=
            0) {
            rc = CMEK_ERR_NOMEM;
            goto done;
        }
    }
    bool truncated = end < mine.len;
    rc = s_set(call->out, "Keys", keys);
    keys = NULL;
    if (rc == CMEK_OK && truncated) {
        rc = s_marker_encode("keys", end, &marker_out);
        rc = rc ? rc : s_set(call->out, "NextMarker", json_string(cmek_buf_cstr(&marker_out)));
    }
    rc = rc ? rc : s_set(call->out, "Truncated", json_boolean(truncated));
done:
    json_decref(keys);
    cmek_buf_clean_up(&marker_out);
    cmek_vec_clean_up(&mine);
    return rc;
}

/* ---- EnableKey, DisableKey ---- */

/* EnableKey and DisableKey: the key (id or ARN) moves from one state to the other; asking
 * for the state it is already in succeeds, as in AWS. */
static int s_switch_key(struct emu_kms_call *call, enum emu_kms_key_state from,
                        enum emu_kms_key_state to)
{
    struct emu_kms_key *key = NULL;
    const char *key_id = s_key_id_member(call);
    int rc = s_members_ok(call);
    rc = rc ? rc
            : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_ENABLE, &key);
    if (rc) {
        return rc;
    }
    if (key->state == from) {
        key->state = to;
    }
    call->empty_response = true;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKey.html
 * Differences: no quota on enabled keys (AWS's LimitExceededException). An Unavailable key
 * keeps its state, as AWS's key-state table says (footnote 12). */
static int s_enable_key(struct emu_kms_call *call)
{
    return s_switch_key(call, EMU_KMS_DISABLED, EMU_KMS_ENABLED);
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKey.html */
static int s_disable_key(struct emu_kms_call *call)
{
    return s_switch_key(call, EMU_KMS_ENABLED, EMU_KMS_DISABLED);
}

/* ---- ScheduleKeyDeletion, CancelKeyDeletion ---- */

/* The replicas of a multi-Region primary that still exist (deleted ones are skipped). */
static size_t s_live_replicas(struct emu_kms_call *call, const struct emu_kms_key *key)
{
    size_t n = 0;
    if (!key->multi_region || key->is_replica) {
        return 0;
    }
    for (size_t i = 0; i < key->replica_regions.len; i++) {
        if (emu_kms_find_key(call->app, call->kms, key->account, key->replica_regions.items[i],
                             key->id, (int64_t)call->now) != NULL) {
            n++;
        }
    }
    return n;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html
 * PendingWindowInDays takes AWS's documented 7-30 (the model says 1-365). A multi-Region
 * primary that still has replicas goes to PendingReplicaDeletion without a DeletionDate;
 * its waiting period starts when its last replica is deleted (the model's job).
 * Differences: the kms:ScheduleKeyDeletionPendingWindowInDays condition key is not set. */
static int s_schedule_key_deletion(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    const char *key_id = s_key_id_member(call);
    long long days = emu_kms_int(call, "PendingWindowInDays", 7, 30, 30, NULL);
    int rc = s_members_ok(call);
    char days_text[24];
    snprintf(days_text, sizeof(days_text), "%lld", days);
    emu_kms_add_condition(call, "kms:ScheduleKeyDeletionPendingWindowInDays", days_text);
    rc = rc ? rc
            : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_SCHEDULE, &key);
    if (rc) {
        return rc;
    }
    key->pending_window_days = (int)days;
    if (s_live_replicas(call, key) > 0) {
        key->state = EMU_KMS_PENDING_REPLICA_DELETION;
        key->deletion_s = 0;
    } else {
        key->state = EMU_KMS_PENDING_DELETION;
        key->deletion_s = (int64_t)call->now + (int64_t)days * 86400;
    }
    emu_log(call->app, EMU_LOG_INFO, "kms: key %s scheduled for deletion (%lld days)", key->arn,
            days);
    rc = s_set(call->out, "KeyId", json_string(key->arn));
    if (rc == CMEK_OK && key->state == EMU_KMS_PENDING_DELETION) {
        rc = s_set(call->out, "DeletionDate", emu_kms_time(key->deletion_s));
    }
    rc = rc ? rc : s_set(call->out, "KeyState", json_string(emu_kms_key_state_name(key->state)));
    rc = rc ? rc : s_set(call->out, "PendingWindowInDays", json_integer(days));
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html
 * The key ends Disabled, as in AWS; a key with imported origin that has no material left
 * ends PendingImport (it cannot be Disabled without material). */
static int s_cancel_key_deletion(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    const char *key_id = s_key_id_member(call);
    int rc = s_members_ok(call);
    rc = rc ? rc
            : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_CANCEL, &key);
    if (rc) {
        return rc;
    }
    key->state = emu_kms_key_current(key) != NULL ? EMU_KMS_DISABLED : EMU_KMS_PENDING_IMPORT;
    key->deletion_s = 0;
    key->pending_window_days = 0;
    return s_set(call->out, "KeyId", json_string(key->arn));
}

/* ---- Key policies ---- */

/* PolicyName: optional, 1-128 word characters; "default" is the only policy. */
static const char *s_policy_name_member(struct emu_kms_call *call)
{
    const char *name = emu_kms_str(call, "PolicyName", false, 1, 128);
    if (name == NULL) {
        return NULL;
    }
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            emu_kms_invalid(call, "PolicyName", name,
                            "Member must satisfy regular expression pattern: [\\w]+");
            return NULL;
        }
    }
    return name;
}

static int s_check_policy_name(struct emu_kms_call *call, const char *name)
{
    if (name != NULL && strcmp(name, "default") != 0) {
        return emu_kms_fail(call, "NotFoundException", "No such policy exists");
    }
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html
 * The new policy replaces the old one at once: the next request of any principal sees it. */
static int s_put_key_policy(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    struct emu_policy *policy = NULL;
    const char *key_id = s_key_id_member(call);
    const char *name = s_policy_name_member(call);
    const char *text = s_policy_member(call, "Policy", true);
    bool bypass = emu_kms_bool(call, "BypassPolicyLockoutSafetyCheck", false);
    emu_kms_add_condition(call, "kms:BypassPolicyLockoutSafetyCheck", bypass ? "true" : "false");
    int rc = s_members_ok(call);
    rc = rc ? rc : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_ANY, &key);
    rc = rc ? rc : s_check_policy_name(call, name);
    rc = rc ? rc : emu_kms_parse_key_policy(call, text, key->arn, key->account, bypass, &policy);
    if (rc) {
        return rc;
    }
    emu_policy_destroy(key->policy);
    key->policy = policy;
    emu_log(call->app, EMU_LOG_INFO, "kms: key %s has a new key policy", key->arn);
    call->empty_response = true;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html
 * The text is the one given, byte for byte; a principal whose IAM entity was deleted since
 * shows as its unique id, as AWS shows it. */
static int s_get_key_policy(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    struct cmek_buf text;
    cmek_buf_init(&text, S_POLICY_OUT_MAX);
    const char *key_id = s_key_id_member(call);
    const char *name = s_policy_name_member(call);
    int rc = s_members_ok(call);
    rc = rc ? rc : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_ANY, &key);
    rc = rc ? rc : s_check_policy_name(call, name);
    if (rc) {
        goto done;
    }
    struct emu_principal_resolver resolver = emu_iam_resolver(&call->app->store->iam);
    rc = emu_policy_render(key->policy, &resolver, &text);
    rc = rc ? rc : s_set(call->out, "Policy", json_string(cmek_buf_cstr(&text)));
    rc = rc ? rc : s_set(call->out, "PolicyName", json_string("default"));
done:
    cmek_buf_clean_up(&text);
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyPolicies.html
 * There is one policy, "default", so no marker is ever valid. */
static int s_list_key_policies(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    const char *key_id = s_key_id_member(call);
    (void)emu_kms_int(call, "Limit", 1, 1000, S_LIST_KEYS_LIMIT, NULL);
    const char *marker = emu_kms_str(call, "Marker", false, 1, S_MARKER_MAX);
    int rc = s_members_ok(call);
    rc = rc ? rc : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_ANY, &key);
    if (rc) {
        return rc;
    }
    if (marker != NULL) {
        return emu_kms_fail(call, "InvalidMarkerException",
                            "The request was rejected because the marker that specifies where "
                            "pagination should next begin is not valid.");
    }
    rc = s_set(call->out, "PolicyNames", json_pack("[s]", "default"));
    rc = rc ? rc : s_set(call->out, "Truncated", json_false());
    return rc;
}

/* ---- Tags and description ---- */

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_TagResource.html
 * An existing tag key gets the new value; more than 50 tags in all is refused. */
static int s_tag_resource(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    struct cmek_vec tags;
    cmek_vec_init(&tags);
    const char *key_id = s_key_id_member(call);
    int rc = s_read_tags(call, true, &tags);
    rc = rc ? rc : s_members_ok(call);
    rc = rc ? rc : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_TAG, &key);
    rc = rc ? rc : s_check_new_tags(call, &tags);
    if (rc) {
        goto done;
    }
    size_t added = 0;
    for (size_t i = 0; i < tags.len; i++) {
        const struct emu_tag *t = tags.items[i];
        added += s_find_tag(key, t->key) < 0 ? 1 : 0;
    }
    if (key->tags.len + added > S_TAGS_PER_KEY) {
        rc = emu_kms_fail(call, "TagException", "Too many tags");
        goto done;
    }
    /* The count was checked first: only an allocation failure can stop part way. */
    for (size_t i = 0; i < tags.len; i++) {
        struct emu_tag *t = tags.items[i];
        long at = s_find_tag(key, t->key);
        if (at >= 0) {
            struct emu_tag *old = key->tags.items[at];
            key->tags.items[at] = t;
            emu_tag_destroy(old);
        } else {
            rc = cmek_vec_push(&key->tags, t);
            if (rc) {
                goto done; /* tags[i..] are still ours */
            }
        }
        tags.items[i] = NULL;
    }
    call->empty_response = true;
done:
    for (size_t i = 0; i < tags.len; i++) {
        emu_tag_destroy(tags.items[i]);
    }
    cmek_vec_clean_up(&tags);
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_UntagResource.html
 * Keys the key does not have are ignored. */
static int s_untag_resource(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    const char *key_id = s_key_id_member(call);
    const json_t *list = s_list(call, "TagKeys", "tagKeys", true);
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        char path[64];
        snprintf(path, sizeof(path), "tagKeys.%zu.member", i + 1);
        (void)s_nested_str(call, e, path, "TagKeys", 1, S_TAG_KEY_MAX);
    }
    int rc = s_members_ok(call);
    rc = rc ? rc : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_TAG, &key);
    if (rc) {
        return rc;
    }
    json_array_foreach(list, i, e)
    {
        if (s_reserved_tag_key(json_string_value(e))) {
            return emu_kms_fail(call, "TagException", "Tags beginning with aws: are reserved");
        }
    }
    json_array_foreach(list, i, e)
    {
        long at = s_find_tag(key, json_string_value(e));
        if (at >= 0) {
            emu_tag_destroy(cmek_vec_remove_at(&key->tags, (size_t)at));
        }
    }
    call->empty_response = true;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListResourceTags.html
 * Limit takes the model's 1-1000; a page holds at most 50 tags, AWS's documented maximum
 * ("it might return fewer"). */
static int s_list_resource_tags(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    struct cmek_buf marker_out;
    cmek_buf_init(&marker_out, S_MARKER_BUF * 2);
    json_t *list = NULL;
    const char *key_id = s_key_id_member(call);
    long long limit = emu_kms_int(call, "Limit", 1, 1000, S_LIST_TAGS_LIMIT, NULL);
    const char *marker = emu_kms_str(call, "Marker", false, 1, S_MARKER_MAX);
    int rc = s_members_ok(call);
    rc = rc ? rc : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_ANY, &key);
    if (rc) {
        goto done;
    }
    if (limit > S_LIST_TAGS_LIMIT) {
        limit = S_LIST_TAGS_LIMIT;
    }
    size_t start = 0;
    if (marker != NULL) {
        rc = s_marker_decode(call, marker, "tags", key->tags.len, &start);
        if (rc) {
            goto done;
        }
    }
    size_t end = start + (size_t)limit < key->tags.len ? start + (size_t)limit : key->tags.len;
    list = json_array();
    if (list == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    for (size_t i = start; i < end; i++) {
        if (json_array_append_new(list, s_tag_json(key->tags.items[i])) != 0) {
            rc = CMEK_ERR_NOMEM;
            goto done;
        }
    }
    bool truncated = end < key->tags.len;
    rc = s_set(call->out, "Tags", list);
    list = NULL;
    if (rc == CMEK_OK && truncated) {
        rc = s_marker_encode("tags", end, &marker_out);
        rc = rc ? rc : s_set(call->out, "NextMarker", json_string(cmek_buf_cstr(&marker_out)));
    }
    rc = rc ? rc : s_set(call->out, "Truncated", json_boolean(truncated));
done:
    json_decref(list);
    cmek_buf_clean_up(&marker_out);
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateKeyDescription.html */
static int s_update_key_description(struct emu_kms_call *call)
{
    struct emu_kms_key *key = NULL;
    const char *key_id = s_key_id_member(call);
    const char *description = emu_kms_str(call, "Description", true, 0, S_DESCRIPTION_MAX);
    int rc = s_members_ok(call);
    rc = rc ? rc : s_key_for(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, EMU_KMS_OPS_TAG, &key);
    if (rc) {
        return rc;
    }
    char *copy = strdup(description);
    if (copy == NULL) {
        return CMEK_ERR_NOMEM;
    }
    free(key->description);
    key->description = copy;
    call->empty_response = true;
    return CMEK_OK;
}

const struct emu_kms_op emu_kms_key_ops[] = {
    {"CreateKey", s_create_key},
    {"DescribeKey", s_describe_key},
    {"ListKeys", s_list_keys},
    {"EnableKey", s_enable_key},
    {"DisableKey", s_disable_key},
    {"ScheduleKeyDeletion", s_schedule_key_deletion},
    {"CancelKeyDeletion", s_cancel_key_deletion},
    {"PutKeyPolicy", s_put_key_policy},
    {"GetKeyPolicy", s_get_key_policy},
    {"ListKeyPolicies", s_list_key_policies},
    {"TagResource", s_tag_resource},
    {"UntagResource", s_untag_resource},
    {"ListResourceTags", s_list_resource_tags},
    {"UpdateKeyDescription", s_update_key_description},
};
const size_t emu_kms_key_ops_len = sizeof(emu_kms_key_ops) / sizeof(emu_kms_key_ops[0]);
