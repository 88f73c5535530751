/* kms_rotation.c: key material rotation and multi-Region replication in the emulated KMS:
 * EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
 * ListKeyRotations, ReplicateKey (KMS Developer Guide, "Rotate AWS KMS keys" and
 * "Multi-Region keys in AWS KMS"; API Reference pages above each operation).
 *
 * Rotation adds a material version (kms_model.c emu_kms_rotate); older versions stay to
 * decrypt what they encrypted. Automatic rotation is applied lazily by the model when the key
 * is next looked up after its next_rotation_s. A multi-Region primary and its replicas share
 * the rotation setting and every material version: rotation is managed on the primary only
 * and the model copies each new version to the replicas.
 *
 * Deliberate differences: rotations complete at once (AWS rotates in the background, so
 * OnDemandRotationStartDate and ConflictException never appear); keys with imported material
 * cannot rotate on demand (AWS allows it once new material is imported for rotation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "kms_internal.h"

#define S_KEY_ID_MAX          2048
#define S_PERIOD_MIN_DAYS     90
#define S_PERIOD_MAX_DAYS     2560
#define S_PERIOD_DEFAULT_DAYS 365
#define S_DAY_S               86400
/* RotateKeyOnDemand: "a maximum of 25 times per KMS key" (API Reference; it was 10 before
 * 2025). */
#define S_ON_DEMAND_MAX           25
#define S_ROTATIONS_LIMIT_MODEL   1000
#define S_ROTATIONS_LIMIT_DEFAULT 100
#define S_MARKER_MAX              1024
#define S_REGION_MAX              32
#define S_POLICY_MAX              131072
#define S_DESCRIPTION_MAX         8192
#define S_TAGS_MAX                50
#define S_TAG_KEY_MAX             128
#define S_TAG_VALUE_MAX           256

/* ---- Shared checks ---- */

/* The KeyId member, which these operations take as a key id or key ARN only. */
static int s_resolve(struct emu_kms_call *call, const char *id, struct emu_kms_key **out)
{
    return emu_kms_resolve(call, id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, out);
}

static int s_not_primary(struct emu_kms_call *call, const struct emu_kms_key *key)
{
    /* Real AWS text for ReplicateKey of a replica; UNCERTAIN for the rotation operations,
     * which AWS also refuses on replicas ("set the property on the primary key"). */
    return emu_kms_fail(call, "UnsupportedOperationException",
                        "%s is not a multi-region primary key.", key->arn);
}

/* Rotation is managed on a multi-Region primary, never on a replica. */
static int s_require_not_replica(struct emu_kms_call *call, const struct emu_kms_key *key)
{
    return key->multi_region && key->is_replica ? s_not_primary(call, key) : CMEK_OK;
}

/* The replicas of primary that still exist, after their due time-driven changes; a region
 * whose replica is gone (its deletion window ended) is dropped from the primary's list. */
static void s_prune_replicas(struct emu_kms_call *call, struct emu_kms_key *primary)
{
    for (size_t i = primary->replica_regions.len; i-- > 0;) {
        const char *region = primary->replica_regions.items[i];
        if (emu_kms_find_key(call->app, call->kms, primary->account, region, primary->id,
                             (int64_t)call->now) == NULL) {
            free(cmek_vec_remove_at(&primary->replica_regions, i));
        }
    }
}

/* Sets the shared rotation property on primary and its replicas. */
static void s_set_rotation(struct emu_kms_call *call, struct emu_kms_key *primary, bool enabled,
                           int period_days)
{
    int64_t next = enabled ? (int64_t)call->now + (int64_t)period_days * S_DAY_S : 0;
    s_prune_replicas(call, primary);
    for (size_t i = 0; i <= primary->replica_regions.len; i++) {
        struct emu_kms_key *k = primary;
        if (i < primary->replica_regions.len) {
            k = emu_kms_find_key(call->app, call->kms, primary->account,
                                 primary->replica_regions.items[i], primary->id,
                                 (int64_t)call->now);
        }
        if (k == NULL) {
            continue;
        }
        k->rotation_enabled = enabled;
        if (enabled) {
            k->rotation_period_days = period_days;
        }
        k->next_rotation_s = next;
    }
}

static int s_set(json_t *out, const char *member, json_t *value)
{
    return json_object_set_new(out, member, value) ? CMEK_ERR_NOMEM : CMEK_OK;
}

/* ---- Rotation ---- */

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKeyRotation.html
 * The first automatic rotation comes one period after this call (also when the call only
 * changes the period of a key already rotating). */
static int s_enable_key_rotation(struct emu_kms_call *call)
{
    call->empty_response = true;
    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    long long period = emu_kms_int(call, "RotationPeriodInDays", S_PERIOD_MIN_DAYS,
                                   S_PERIOD_MAX_DAYS, S_PERIOD_DEFAULT_DAYS, NULL);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    char period_text[24];
    snprintf(period_text, sizeof(period_text), "%lld", period);
    emu_kms_add_condition(call, "kms:RotationPeriodInDays", period_text);
    struct emu_kms_key *key = NULL;
    rc = rc ? rc : s_resolve(call, id, &key);
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:EnableKeyRotation");
    rc = rc ? rc : emu_kms_check_state(call, key, EMU_KMS_OPS_ROTATION);
    rc = rc ? rc : s_require_not_replica(call, key);
    if (rc == CMEK_OK) {
        s_set_rotation(call, key, true, (int)period);
    }
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKeyRotation.html */
static int s_disable_key_rotation(struct emu_kms_call *call)
{
    call->empty_response = true;
    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    struct emu_kms_key *key = NULL;
    rc = rc ? rc : s_resolve(call, id, &key);
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:DisableKeyRotation");
    rc = rc ? rc : emu_kms_check_state(call, key, EMU_KMS_OPS_ROTATION);
    rc = rc ? rc : s_require_not_replica(call, key);
    if (rc == CMEK_OK) {
        s_set_rotation(call, key, false, key->rotation_period_days);
    }
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyRotationStatus.html
 * Any key state; a key pending deletion reports false and keeps its setting for
 * CancelKeyDeletion. A replica reports its primary's (shared) setting. KeyId in the response
 * is the key id, as the API Reference example shows it. */
static int s_get_key_rotation_status(struct emu_kms_call *call)
{
    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    struct emu_kms_key *key = NULL;
    rc = rc ? rc : s_resolve(call, id, &key);
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:GetKeyRotationStatus");
    if (rc == CMEK_OK && strcmp(key->origin, "EXTERNAL") == 0) {
        rc = emu_kms_fail(call, "UnsupportedOperationException",
                          "%s origin is EXTERNAL which is not valid for this operation.", key->arn);
    }
    if (rc) {
        return rc;
    }
    const struct emu_kms_key *setting = key;
    if (key->multi_region && key->is_replica && key->primary_region != NULL) {
        /* The lookup applies a due automatic rotation of the primary (never deletes key:
         * another region). */
        const struct emu_kms_key *primary = emu_kms_find_key(
            call->app, call->kms, key->account, key->primary_region, key->id, (int64_t)call->now);
        setting = primary != NULL ? primary : key;
    }
    bool pending_deletion =
        key->state == EMU_KMS_PENDING_DELETION || key->state == EMU_KMS_PENDING_REPLICA_DELETION;
    bool enabled = setting->rotation_enabled && !pending_deletion;
    rc = s_set(call->out, "KeyId", json_string(key->id));
    rc = rc ? rc : s_set(call->out, "KeyRotationEnabled", json_boolean(enabled));
    if (enabled) {
        rc = rc ? rc
                : s_set(call->out, "RotationPeriodInDays",
                        json_integer(setting->rotation_period_days));
        rc = rc ? rc : s_set(call->out, "NextRotationDate", emu_kms_time(setting->next_rotation_s));
    }
    return rc;
}

static size_t s_on_demand_count(const struct emu_kms_key *key)
{
    size_t n = 0;
    for (size_t i = 0; i < key->n_materials; i++) {
        n += key->materials[i].on_demand ? 1 : 0;
    }
    return n;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_RotateKeyOnDemand.html
 * The new version is current at once; the automatic schedule does not move. */
static int s_rotate_key_on_demand(struct emu_kms_call *call)
{
    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    struct emu_kms_key *key = NULL;
    rc = rc ? rc : s_resolve(call, id, &key);
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:RotateKeyOnDemand");
    rc = rc ? rc : emu_kms_check_state(call, key, EMU_KMS_OPS_ROTATION);
    rc = rc ? rc : s_require_not_replica(call, key);
    if (rc == CMEK_OK && s_on_demand_count(key) >= S_ON_DEMAND_MAX) {
        /* UNCERTAIN text: as LocalStack words it. */
        rc = emu_kms_fail(call, "LimitExceededException",
                          "The on-demand rotations limit has been reached for the given keyId. "
                          "No more on-demand rotations can be performed for this key: %s",
                          key->arn);
    }
    if (rc) {
        return rc;
    }
    rc = emu_kms_rotate(call->app, call->kms, key, (int64_t)call->now, true);
    if (rc) {
        emu_log(call->app, EMU_LOG_ERROR, "kms: on-demand rotation of %s failed", key->arn);
        return rc;
    }
    emu_log(call->app, EMU_LOG_INFO, "kms: %s rotated on demand", key->arn);
    return s_set(call->out, "KeyId", json_string(key->id));
}

static const char *const s_include_values[] = {"ALL_KEY_MATERIAL", "ROTATIONS_ONLY"};

/* One ListKeyRotations entry for key's material version i. */
static json_t *s_rotation_entry(const struct emu_kms_key *key, size_t i)
{
    const struct emu_kms_material *m = &key->materials[i];
    json_t *e =
        json_pack("{s:s,s:s,s:s}", "KeyId", key->id, "KeyMaterialId", m->id, "KeyMaterialState",
                  i + 1 == key->n_materials ? "CURRENT" : "NON_CURRENT");
    int rc = e != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
    if (rc == CMEK_OK && strcmp(key->origin, "EXTERNAL") == 0) {
        rc = s_set(e, "ImportState", json_string("IMPORTED"));
        if (rc == CMEK_OK && key->expiration_model[0] != '\0') {
            rc = s_set(e, "ExpirationModel", json_string(key->expiration_model));
            if (rc == CMEK_OK && strcmp(key->expiration_model, "KEY_MATERIAL_EXPIRES") == 0) {
                rc = s_set(e, "ValidTo", emu_kms_time(key->valid_to_s));
            }
        }
    }
    /* The first version was no rotation: no date, no type. */
    if (rc == CMEK_OK && i > 0) {
        rc = s_set(e, "RotationDate", emu_kms_time(m->created_s));
        rc = rc ? rc
                : s_set(e, "RotationType", json_string(m->on_demand ? "ON_DEMAND" : "AUTOMATIC"));
    }
    if (rc) {
        json_decref(e);
        return NULL;
    }
    return e;
}

/* The marker is the decimal index of the next version to list. */
static int s_parse_index_marker(struct emu_kms_call *call, const char *marker, size_t max,
                                size_t *out)
{
    size_t v = 0;
    bool ok = marker[0] != '\0' && strlen(marker) <= 9;
    for (const char *p = marker; ok && *p != '\0'; p++) {
        ok = *p >= '0' && *p <= '9';
        v = v * 10 + (size_t)(*p - '0');
    }
    if (!ok || v > max) {
        /* UNCERTAIN: AWS's message for a marker it did not issue is not recorded. */
        return emu_kms_fail_bare(call, "InvalidMarkerException");
    }
    *out = v;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListKeyRotations.html
 * Oldest first. ROTATIONS_ONLY (the default) leaves out the first version. */
static int s_list_key_rotations(struct emu_kms_call *call)
{
    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    const char *include = emu_kms_enum(call, "IncludeKeyMaterial", false, s_include_values,
                                       sizeof(s_include_values) / sizeof(s_include_values[0]));
    long long limit =
        emu_kms_int(call, "Limit", 1, S_ROTATIONS_LIMIT_MODEL, S_ROTATIONS_LIMIT_DEFAULT, NULL);
    const char *marker = emu_kms_str(call, "Marker", false, 1, S_MARKER_MAX);
    json_t *list = NULL;
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    struct emu_kms_key *key = NULL;
    rc = rc ? rc : s_resolve(call, id, &key);
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:ListKeyRotations");
    if (rc) {
        goto done;
    }
    bool all = include != NULL && strcmp(include, "ALL_KEY_MATERIAL") == 0;
    size_t first = all || key->n_materials == 0 ? 0 : 1;
    size_t start = first;
    if (marker != NULL) {
        rc = s_parse_index_marker(call, marker, key->n_materials, &start);
        if (rc) {
            goto done;
        }
        start = start < first ? first : start;
    }
    list = json_array();
    if (list == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    size_t end =
        start + (size_t)limit < key->n_materials ? start + (size_t)limit : key->n_materials;
    for (size_t i = start; i < end; i++) {
        if (json_array_append_new(list, s_rotation_entry(key, i))) {
            rc = CMEK_ERR_NOMEM;
            goto done;
        }
    }
    rc = s_set(call->out, "Rotations", list); /* steals list, also on failure */
    list = NULL;
    bool truncated = end < key->n_materials;
    if (rc == CMEK_OK && truncated) {
        char next[24];
        snprintf(next, sizeof(next), "%zu", end);
        rc = s_set(call->out, "NextMarker", json_string(next));
    }
    rc = rc ? rc : s_set(call->out, "Truncated", json_boolean(truncated));
done:
    json_decref(list);
    return rc;
}

/* ---- Replication ---- */

/* ^([a-z]+-){2,3}\d+$ */
static bool s_region_ok(const char *region)
{
    size_t words = 0;
    const char *p = region;
    for (;;) {
        const char *start = p;
        while (*p >= 'a' && *p <= 'z') {
            p++;
        }
        if (p == start || *p != '-') {
            break;
        }
        words++;
        p++;
    }
    if (words < 2 || words > 3) {
        return false;
    }
    const char *digits = p;
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    return p != digits && *p == '\0';
}

/* The Tags member: model constraints as validation violations ('tags.N.member.tagKey'),
 * then KMS's TagException rules (texts recorded from real AWS). */
static int s_parse_tags(struct emu_kms_call *call, struct cmek_vec *out)
{
    const json_t *tags = json_object_get(call->in, "Tags");
    if (tags == NULL || json_is_null(tags)) {
        return CMEK_OK;
    }
    if (!json_is_array(tags)) {
        return emu_kms_fail(call, "SerializationException", "Member Tags must be a list");
    }
    size_t i;
    const json_t *t;
    json_array_foreach(tags, i, t)
    {
        const json_t *k = json_object_get(t, "TagKey");
        const json_t *v = json_object_get(t, "TagValue");
        if (!json_is_object(t) || (k != NULL && !json_is_string(k)) ||
            (v != NULL && !json_is_string(v))) {
            return emu_kms_fail(call, "SerializationException",
                                "Member Tags must be a list of TagKey/TagValue structures");
        }
        if (k == NULL || v == NULL) {
            /* botocore never sends this (both members are required client-side). */
            char path[64];
            snprintf(path, sizeof(path), "tags.%zu.member.%s", i + 1,
                     k == NULL ? "tagKey" : "tagValue");
            emu_kms_invalid_null(call, path);
            return emu_kms_validation_result(call);
        }
        char member[64];
        if (json_string_length(k) < 1 || json_string_length(k) > S_TAG_KEY_MAX) {
            snprintf(member, sizeof(member), "tags.%zu.member.tagKey", i + 1);
            emu_kms_invalid(call, member, json_string_value(k),
                            json_string_length(k) < 1
                                ? "Member must have length greater than or equal to 1"
                                : "Member must have length less than or equal to 128");
        }
        if (json_string_length(v) > S_TAG_VALUE_MAX) {
            snprintf(member, sizeof(member), "tags.%zu.member.tagValue", i + 1);
            emu_kms_invalid(call, member, json_string_value(v),
                            "Member must have length less than or equal to 256");
        }
    }
    int rc = emu_kms_validation_result(call);
    if (rc) {
        return rc;
    }
    /* The same order and rules as CreateKey's tags (kms_keys.c): AWS reserves aws: in any
     * letter case. */
    json_array_foreach(tags, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "TagKey"));
        if (strncasecmp(k, "aws:", 4) == 0) {
            return emu_kms_fail(call, "TagException", "Tags beginning with aws: are reserved");
        }
        for (size_t j = 0; j < i; j++) {
            const json_t *earlier = json_object_get(json_array_get(tags, j), "TagKey");
            if (strcmp(k, json_string_value(earlier)) == 0) {
                return emu_kms_fail(call, "TagException", "Duplicate tag keys");
            }
        }
    }
    if (json_array_size(tags) > S_TAGS_MAX) {
        return emu_kms_fail(call, "TagException", "Too many tags");
    }
    json_array_foreach(tags, i, t)
    {
        struct emu_tag *tag = calloc(1, sizeof(*tag));
        if (tag != NULL) {
            tag->key = strdup(json_string_value(json_object_get(t, "TagKey")));
            tag->value = strdup(json_string_value(json_object_get(t, "TagValue")));
        }
        if (tag == NULL || tag->key == NULL || tag->value == NULL || cmek_vec_push(out, tag)) {
            emu_tag_destroy(tag);
            return CMEK_ERR_NOMEM;
        }
    }
    return CMEK_OK;
}

/* An identity-policy permission in the replica Region (resource: the replica key). */
static int s_authorize_identity(struct emu_kms_call *call, const char *action, const char *resource)
{
    struct emu_aws_error err;
    if (!emu_aws_authorize(call->app, call->caller, EMU_AWS_JSON, action, resource, NULL,
                           call->caller->principal.account, false, "resource-based", NULL, 0,
                           &err)) {
        return emu_kms_fail(call, err.code, "%s", err.message);
    }
    return CMEK_OK;
}

/* The replica of primary in region (no policy yet); NULL when out of memory. */
static struct emu_kms_key *s_replica_new(const struct emu_kms_call *call,
                                         const struct emu_kms_key *primary, const char *region,
                                         const char *description)
{
    struct emu_kms_key *r =
        emu_kms_key_new(primary->account, region, primary->id, (int64_t)call->now);
    if (r == NULL) {
        return NULL;
    }
    snprintf(r->key_usage, sizeof(r->key_usage), "%s", primary->key_usage);
    snprintf(r->key_spec, sizeof(r->key_spec), "%s", primary->key_spec);
    snprintf(r->origin, sizeof(r->origin), "%s", primary->origin);
    r->state = EMU_KMS_CREATING;
    r->multi_region = true;
    r->is_replica = true;
    r->rotation_enabled = primary->rotation_enabled;
    r->rotation_period_days = primary->rotation_period_days;
    r->next_rotation_s = primary->next_rotation_s;
    free(r->description);
    r->description = strdup(description != NULL ? description : "");
    r->primary_region = strdup(primary->region);
    int rc = r->description != NULL && r->primary_region != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
    /* "If you replicate a multi-Region primary key with imported key material, the replica
     * key is created with no key material" (API Reference): it waits in PendingImport. */
    for (size_t i = 0;
         rc == CMEK_OK && strcmp(primary->origin, "EXTERNAL") != 0 && i < primary->n_materials;
         i++) {
        rc = emu_kms_key_add_material(r, &primary->materials[i]);
    }
    if (rc) {
        emu_kms_key_destroy(r);
        return NULL;
    }
    return r;
}

static json_t *s_tags_json(const struct cmek_vec *tags)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < tags->len; i++) {
        const struct emu_tag *t = tags->items[i];
        if (json_array_append_new(a,
                                  json_pack("{s:s,s:s}", "TagKey", t->key, "TagValue", t->value))) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html
 * The replica has the primary's id, key spec, usage, origin, rotation setting and a copy of
 * every material version; its own policy (the default one unless given), description and
 * tags. It starts in Creating and is Enabled (or PendingImport) at its next lookup. */
static int s_replicate_key(struct emu_kms_call *call)
{
    struct cmek_vec tags;
    cmek_vec_init(&tags);
    struct cmek_buf policy_text, replica_arn;
    cmek_buf_init(&policy_text, S_POLICY_MAX + 1);
    cmek_buf_init(&replica_arn, 512);
    struct emu_policy *policy = NULL;
    struct emu_kms_key *replica = NULL;
    const char *id = emu_kms_str(call, "KeyId", true, 1, S_KEY_ID_MAX);
    const char *region = emu_kms_str(call, "ReplicaRegion", true, 1, S_REGION_MAX);
    if (region != NULL && !s_region_ok(region)) {
        emu_kms_invalid(call, "ReplicaRegion", region,
                        "Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$");
        region = NULL;
    }
    const char *given_policy = emu_kms_str(call, "Policy", false, 1, S_POLICY_MAX);
    const char *description = emu_kms_str(call, "Description", false, 0, S_DESCRIPTION_MAX);
    bool bypass = emu_kms_bool(call, "BypassPolicyLockoutSafetyCheck", false);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : s_parse_tags(call, &tags);
    rc = rc ? rc : call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    struct emu_kms_key *primary = NULL;
    rc = rc ? rc : s_resolve(call, id, &primary);
    rc = rc ? rc : emu_kms_authorize(call, primary, "kms:ReplicateKey");
    if (rc == CMEK_OK && (!primary->multi_region || primary->is_replica)) {
        rc = s_not_primary(call, primary);
    }
    rc = rc ? rc : emu_kms_check_state(call, primary, EMU_KMS_OPS_REPLICATE);
    rc = rc ? rc
            : cmek_buf_appendf(&replica_arn, "arn:aws:kms:%s:%s:key/%s", region ? region : "",
                               primary->account, primary->id);
    if (rc) {
        goto done;
    }
    /* One key per Region: the primary's own Region or a live replica's is taken. */
    s_prune_replicas(call, primary);
    bool taken = strcmp(region, primary->region) == 0;
    for (size_t i = 0; !taken && i < primary->replica_regions.len; i++) {
        taken = strcmp(primary->replica_regions.items[i], region) == 0;
    }
    /* A key with this id in that Region that the primary does not list (a loaded world)
     * takes it too; the lookup can delete only that other key. */
    taken = taken || emu_kms_find_key(call->app, call->kms, primary->account, region, primary->id,
                                      (int64_t)call->now) != NULL;
    if (taken) {
        /* UNCERTAIN text: AWS's wording is not recorded. */
        rc = emu_kms_fail(call, "AlreadyExistsException", "Key '%s' already exists",
                          cmek_buf_cstr(&replica_arn));
        goto done;
    }
    rc = s_authorize_identity(call, "kms:CreateKey", "*");
    if (rc == CMEK_OK && tags.len > 0) {
        rc = s_authorize_identity(call, "kms:TagResource", cmek_buf_cstr(&replica_arn));
    }
    if (rc) {
        goto done;
    }
    const char *text = given_policy;
    if (text == NULL) {
        text = emu_kms_default_policy_text(primary->account, &policy_text);
        rc = text != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
    }
    /* The default policy needs no lockout check: it lets the account manage the key. */
    rc = rc ? rc
            : emu_kms_parse_key_policy(call, text, cmek_buf_cstr(&replica_arn), primary->account,
                                       bypass || given_policy == NULL, &policy);
    if (rc) {
        goto done;
    }
    replica = s_replica_new(call, primary, region, description);
    if (replica == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    replica->policy = policy;
    policy = NULL;
    for (size_t i = 0; i < tags.len; i++) {
        rc = cmek_vec_push(&replica->tags, tags.items[i]);
        if (rc) {
            goto done;
        }
        tags.items[i] = NULL;
    }
    char *region_copy = strdup(region);
    if (region_copy == NULL || cmek_vec_push(&primary->replica_regions, region_copy)) {
        free(region_copy);
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    struct emu_kms_key *added = replica;
    replica = NULL;
    rc = emu_kms_add_key(call->kms, added); /* takes added, also on failure */
    if (rc) {
        free(cmek_vec_remove_at(&primary->replica_regions, primary->replica_regions.len - 1));
        goto done;
    }
    emu_log(call->app, EMU_LOG_INFO, "kms: %s replicated to %s", primary->arn, region);
    rc = s_set(call->out, "ReplicaKeyMetadata", emu_kms_key_metadata(call, added));
    rc = rc ? rc : s_set(call->out, "ReplicaPolicy", json_string(emu_policy_text(added->policy)));
    rc = rc ? rc : s_set(call->out, "ReplicaTags", s_tags_json(&added->tags));
done:
    emu_kms_key_destroy(replica);
    emu_policy_destroy(policy);
    for (size_t i = 0; i < tags.len; i++) {
        emu_tag_destroy(tags.items[i]); /* the ones not handed to the replica */
    }
    cmek_vec_clean_up(&tags);
    cmek_buf_clean_up(&policy_text);
    cmek_buf_clean_up(&replica_arn);
    return rc;
}

const struct emu_kms_op emu_kms_rotation_ops[] = {
    {"EnableKeyRotation", s_enable_key_rotation},
    {"DisableKeyRotation", s_disable_key_rotation},
    {"GetKeyRotationStatus", s_get_key_rotation_status},
    {"RotateKeyOnDemand", s_rotate_key_on_demand},
    {"ListKeyRotations", s_list_key_rotations},
    {"ReplicateKey", s_replicate_key},
};
const size_t emu_kms_rotation_ops_len =
    sizeof(emu_kms_rotation_ops) / sizeof(emu_kms_rotation_ops[0]);
