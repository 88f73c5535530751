#include "kms_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/crypto.h"
#include "cmek/timeutil.h"

static const char *const s_state_names[EMU_KMS_STATE_COUNT] = {
    [EMU_KMS_CREATING] = "Creating",
    [EMU_KMS_ENABLED] = "Enabled",
    [EMU_KMS_DISABLED] = "Disabled",
    [EMU_KMS_PENDING_DELETION] = "PendingDeletion",
    [EMU_KMS_PENDING_REPLICA_DELETION] = "PendingReplicaDeletion",
    [EMU_KMS_PENDING_IMPORT] = "PendingImport",
    [EMU_KMS_UNAVAILABLE] = "Unavailable",
    [EMU_KMS_UPDATING] = "Updating",
};

const char *emu_kms_key_state_name(enum emu_kms_key_state state)
{
    return state < EMU_KMS_STATE_COUNT ? s_state_names[state] : "Unavailable";
}

int emu_kms_key_state_parse(const char *name, enum emu_kms_key_state *out)
{
    for (int i = 0; i < EMU_KMS_STATE_COUNT; i++) {
        if (strcmp(s_state_names[i], name) == 0) {
            *out = (enum emu_kms_key_state)i;
            return CMEK_OK;
        }
    }
    return CMEK_ERR_PARSE;
}

void emu_kms_init(struct emu_kms *kms)
{
    cmek_map_init(&kms->keys);
    cmek_vec_init(&kms->key_order);
    cmek_map_init(&kms->aliases);
    cmek_vec_init(&kms->alias_order);
}

static void s_import_destroy(struct emu_kms_import_params *p)
{
    if (p == NULL) {
        return;
    }
    emu_kms_wrapping_key_destroy(p->wrapping_key);
    free(p);
}

void emu_kms_key_destroy(struct emu_kms_key *key)
{
    if (key == NULL) {
        return;
    }
    free(key->account);
    free(key->region);
    free(key->id);
    free(key->arn);
    free(key->description);
    free(key->primary_region);
    for (size_t i = 0; i < key->replica_regions.len; i++) {
        free(key->replica_regions.items[i]);
    }
    cmek_vec_clean_up(&key->replica_regions);
    emu_policy_destroy(key->policy);
    for (size_t i = 0; i < key->tags.len; i++) {
        emu_tag_destroy(key->tags.items[i]);
    }
    cmek_vec_clean_up(&key->tags);
    if (key->materials != NULL) {
        cmek_cleanse(key->materials, key->n_materials * sizeof(*key->materials));
    }
    free(key->materials);
    s_import_destroy(key->import);
    free(key);
}

void emu_kms_alias_destroy(struct emu_kms_alias *alias)
{
    if (alias == NULL) {
        return;
    }
    free(alias->account);
    free(alias->region);
    free(alias->name);
    free(alias->arn);
    free(alias->target_key_id);
    free(alias);
}

void emu_kms_clean_up(struct emu_kms *kms)
{
    for (size_t i = 0; i < kms->key_order.len; i++) {
        emu_kms_key_destroy(kms->key_order.items[i]);
    }
    for (size_t i = 0; i < kms->alias_order.len; i++) {
        emu_kms_alias_destroy(kms->alias_order.items[i]);
    }
    cmek_map_clean_up(&kms->keys);
    cmek_vec_clean_up(&kms->key_order);
    cmek_map_clean_up(&kms->aliases);
    cmek_vec_clean_up(&kms->alias_order);
}

struct emu_kms_key *emu_kms_key_new(const char *account, const char *region, const char *id,
                                    int64_t now_s)
{
    struct emu_kms_key *key = calloc(1, sizeof(*key));
    if (key == NULL) {
        return NULL;
    }
    cmek_vec_init(&key->replica_regions);
    cmek_vec_init(&key->tags);
    struct cmek_buf arn;
    cmek_buf_init(&arn, 512);
    int rc = cmek_buf_appendf(&arn, "arn:aws:kms:%s:%s:key/%s", region, account, id);
    key->account = strdup(account);
    key->region = strdup(region);
    key->id = strdup(id);
    key->arn = rc == CMEK_OK ? cmek_buf_steal(&arn) : NULL;
    key->description = strdup("");
    cmek_buf_clean_up(&arn);
    if (!key->account || !key->region || !key->id || !key->arn || !key->description) {
        emu_kms_key_destroy(key);
        return NULL;
    }
    snprintf(key->key_usage, sizeof(key->key_usage), "ENCRYPT_DECRYPT");
    snprintf(key->key_spec, sizeof(key->key_spec), "SYMMETRIC_DEFAULT");
    snprintf(key->origin, sizeof(key->origin), "AWS_KMS");
    key->state = EMU_KMS_ENABLED;
    key->creation_s = now_s;
    key->rotation_period_days = 365;
    return key;
}

int emu_kms_key_add_material(struct emu_kms_key *key, const struct emu_kms_material *material)
{
    struct emu_kms_material *grown =
        realloc(key->materials, (key->n_materials + 1) * sizeof(*grown));
    if (grown == NULL) {
        return CMEK_ERR_NOMEM;
    }
    key->materials = grown;
    key->materials[key->n_materials++] = *material;
    return CMEK_OK;
}

const struct emu_kms_material *emu_kms_key_current(const struct emu_kms_key *key)
{
    return key->n_materials > 0 ? &key->materials[key->n_materials - 1] : NULL;
}

const struct emu_kms_material *emu_kms_key_material(const struct emu_kms_key *key,
                                                    const char *material_id)
{
    for (size_t i = key->n_materials; i-- > 0;) {
        if (strcmp(key->materials[i].id, material_id) == 0) {
            return &key->materials[i];
        }
    }
    return NULL;
}

static int s_key_name(char *out, size_t cap, const char *account, const char *region,
                      const char *id)
{
    /* "account/region/id", built by hand: every key lookup of every request names one. */
    size_t a = strlen(account), r = strlen(region), i = strlen(id);
    if (a + 1 + r + 1 + i >= cap) {
        return CMEK_ERR_LIMIT;
    }
    memcpy(out, account, a);
    out[a] = '/';
    memcpy(out + a + 1, region, r);
    out[a + 1 + r] = '/';
    memcpy(out + a + 1 + r + 1, id, i + 1);
    return CMEK_OK;
}

int emu_kms_add_key(struct emu_kms *kms, struct emu_kms_key *key)
{
    char name[384];
    int rc = s_key_name(name, sizeof(name), key->account, key->region, key->id);
    if (rc == CMEK_OK && cmek_map_get(&kms->keys, name) != NULL) {
        rc = CMEK_ERR_INVALID_ARG;
    }
    rc = rc ? rc : cmek_vec_push(&kms->key_order, key);
    if (rc == CMEK_OK) {
        rc = cmek_map_put(&kms->keys, name, key, NULL);
        if (rc) {
            kms->key_order.len--;
        }
    }
    if (rc) {
        emu_kms_key_destroy(key);
    }
    return rc;
}

void emu_kms_delete_key(struct emu_kms *kms, struct emu_kms_key *key)
{
    for (size_t i = kms->alias_order.len; i-- > 0;) {
        struct emu_kms_alias *a = kms->alias_order.items[i];
        if (strcmp(a->account, key->account) == 0 && strcmp(a->region, key->region) == 0 &&
            strcmp(a->target_key_id, key->id) == 0) {
            emu_kms_delete_alias(kms, a);
        }
    }
    char name[384];
    if (s_key_name(name, sizeof(name), key->account, key->region, key->id) == CMEK_OK) {
        cmek_map_remove(&kms->keys, name);
    }
    for (size_t i = 0; i < kms->key_order.len; i++) {
        if (kms->key_order.items[i] == key) {
            cmek_vec_remove_at(&kms->key_order, i);
            break;
        }
    }
    emu_kms_key_destroy(key);
}

/* Applies what time did to key; returns false when the key is gone. Automatic rotation
 * needs fresh material, hence app. */
static bool s_refresh(const struct emu_app *app, struct emu_kms *kms, struct emu_kms_key *key,
                      int64_t now_s);

/* A deleted replica leaves its primary's list; a primary waiting for its last replica
 * (PendingReplicaDeletion) then starts its own waiting period. */
static void s_forget_replica(struct emu_kms *kms, const struct emu_kms_key *replica, int64_t now_s)
{
    char name[384];
    if (!replica->is_replica || replica->primary_region == NULL ||
        s_key_name(name, sizeof(name), replica->account, replica->primary_region, replica->id)) {
        return;
    }
    struct emu_kms_key *primary = cmek_map_get(&kms->keys, name);
    if (primary == NULL) {
        return;
    }
    for (size_t i = 0; i < primary->replica_regions.len; i++) {
        if (strcmp(primary->replica_regions.items[i], replica->region) == 0) {
            free(cmek_vec_remove_at(&primary->replica_regions, i));
            break;
        }
    }
    if (primary->state == EMU_KMS_PENDING_REPLICA_DELETION && primary->replica_regions.len == 0) {
        primary->state = EMU_KMS_PENDING_DELETION;
        primary->deletion_s = now_s + (int64_t)primary->pending_window_days * 86400;
    }
}

/* A replica's material follows its primary's rotations, so the primary is brought up to
 * date first. */
static void s_refresh_primary(const struct emu_app *app, struct emu_kms *kms,
                              const struct emu_kms_key *replica, int64_t now_s)
{
    char name[384];
    if (!replica->is_replica || replica->primary_region == NULL ||
        s_key_name(name, sizeof(name), replica->account, replica->primary_region, replica->id)) {
        return;
    }
    struct emu_kms_key *primary = cmek_map_get(&kms->keys, name);
    if (primary != NULL) {
        s_refresh(app, kms, primary, now_s);
    }
}

static bool s_refresh(const struct emu_app *app, struct emu_kms *kms, struct emu_kms_key *key,
                      int64_t now_s)
{
    if (key->state == EMU_KMS_PENDING_DELETION && now_s >= key->deletion_s) {
        emu_log(app, EMU_LOG_INFO, "kms: key %s deleted (its waiting period ended)", key->arn);
        s_forget_replica(kms, key, now_s);
        emu_kms_delete_key(kms, key);
        return false;
    }
    s_refresh_primary(app, kms, key, now_s);
    if (key->state == EMU_KMS_CREATING) {
        /* Replicas take "a few seconds" in AWS; here they are ready at the next look. */
        key->state = key->n_materials > 0 ? EMU_KMS_ENABLED : EMU_KMS_PENDING_IMPORT;
    }
    if (strcmp(key->expiration_model, "KEY_MATERIAL_EXPIRES") == 0 && key->n_materials > 0 &&
        now_s >= key->valid_to_s) {
        /* Expired imported material is deleted; the key waits for a new import of the same
         * material (a key pending deletion stays pending deletion). */
        cmek_cleanse(key->materials, key->n_materials * sizeof(*key->materials));
        free(key->materials);
        key->materials = NULL;
        key->n_materials = 0;
        if (key->state == EMU_KMS_ENABLED || key->state == EMU_KMS_DISABLED) {
            key->state = EMU_KMS_PENDING_IMPORT;
        }
        key->expiration_model[0] = '\0';
        key->valid_to_s = 0;
    }
    while (key->rotation_enabled && key->state == EMU_KMS_ENABLED && !key->is_replica &&
           now_s >= key->next_rotation_s && key->next_rotation_s > 0) {
        if (emu_kms_rotate(app, kms, key, key->next_rotation_s, false) != CMEK_OK) {
            break; /* tried again at the next look */
        }
        key->next_rotation_s += (int64_t)key->rotation_period_days * 86400;
    }
    return true;
}

int emu_kms_rotate(const struct emu_app *app, struct emu_kms *kms, struct emu_kms_key *key,
                   int64_t now_s, bool on_demand)
{
    struct emu_kms_material m;
    int rc = emu_kms_material_generate(app, key->id, now_s, &m);
    m.on_demand = on_demand;
    rc = rc ? rc : emu_kms_key_add_material(key, &m);
    for (size_t i = 0;
         rc == CMEK_OK && key->multi_region && !key->is_replica && i < key->replica_regions.len;
         i++) {
        char name[384];
        struct emu_kms_key *replica = NULL;
        if (s_key_name(name, sizeof(name), key->account, key->replica_regions.items[i], key->id) ==
            CMEK_OK) {
            replica = cmek_map_get(&kms->keys, name);
        }
        if (replica != NULL) {
            rc = emu_kms_key_add_material(replica, &m);
        }
    }
    cmek_cleanse(&m, sizeof(m));
    return rc;
}

struct emu_kms_key *emu_kms_find_key(const struct emu_app *app, struct emu_kms *kms,
                                     const char *account, const char *region, const char *id,
                                     int64_t now_s)
{
    char name[384];
    if (s_key_name(name, sizeof(name), account, region, id) != CMEK_OK) {
        return NULL;
    }
    struct emu_kms_key *key = cmek_map_get(&kms->keys, name);
    if (key == NULL || !s_refresh(app, kms, key, now_s)) {
        return NULL;
    }
    return key;
}

void emu_kms_refresh_all(const struct emu_app *app, struct emu_kms *kms, int64_t now_s)
{
    for (size_t i = kms->key_order.len; i-- > 0;) {
        if (i < kms->key_order.len) {
            s_refresh(app, kms, kms->key_order.items[i], now_s);
        }
    }
}

static int s_alias_name(char *out, size_t cap, const char *account, const char *region,
                        const char *name)
{
    int n = snprintf(out, cap, "%s/%s/%s", account, region, name);
    return n < 0 || (size_t)n >= cap ? CMEK_ERR_LIMIT : CMEK_OK;
}

int emu_kms_add_alias(struct emu_kms *kms, struct emu_kms_alias *alias)
{
    char name[512];
    int rc = s_alias_name(name, sizeof(name), alias->account, alias->region, alias->name);
    if (rc == CMEK_OK && cmek_map_get(&kms->aliases, name) != NULL) {
        rc = CMEK_ERR_INVALID_ARG;
    }
    rc = rc ? rc : cmek_vec_push(&kms->alias_order, alias);
    if (rc == CMEK_OK) {
        rc = cmek_map_put(&kms->aliases, name, alias, NULL);
        if (rc) {
            kms->alias_order.len--;
        }
    }
    if (rc) {
        emu_kms_alias_destroy(alias);
    }
    return rc;
}

struct emu_kms_alias *emu_kms_find_alias(const struct emu_kms *kms, const char *account,
                                         const char *region, const char *name)
{
    char key[512];
    if (s_alias_name(key, sizeof(key), account, region, name) != CMEK_OK) {
        return NULL;
    }
    return cmek_map_get(&kms->aliases, key);
}

void emu_kms_delete_alias(struct emu_kms *kms, struct emu_kms_alias *alias)
{
    char name[512];
    if (s_alias_name(name, sizeof(name), alias->account, alias->region, alias->name) == CMEK_OK) {
        cmek_map_remove(&kms->aliases, name);
    }
    for (size_t i = 0; i < kms->alias_order.len; i++) {
        if (kms->alias_order.items[i] == alias) {
            cmek_vec_remove_at(&kms->alias_order, i);
            break;
        }
    }
    emu_kms_alias_destroy(alias);
}

/* ---- Serialization ---- */

static int s_set(json_t *o, const char *k, json_t *v)
{
    return v == NULL || json_object_set_new(o, k, v) ? CMEK_ERR_NOMEM : CMEK_OK;
}

static json_t *s_material_json(const struct emu_kms_material *m)
{
    struct cmek_buf b64;
    cmek_buf_init(&b64, 128);
    json_t *o = NULL;
    if (cmek_base64_encode(m->bytes, sizeof(m->bytes), &b64) == CMEK_OK) {
        o = json_pack("{s:s,s:s,s:I,s:b,s:b}", "id", m->id, "bytes", cmek_buf_cstr(&b64), "created",
                      (json_int_t)m->created_s, "imported", m->imported, "on_demand", m->on_demand);
    }
    cmek_cleanse(b64.data, b64.len);
    cmek_buf_clean_up(&b64);
    return o;
}

static json_t *s_key_json(const struct emu_kms_key *k)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "account", k->account, "region",
                          k->region, "id", k->id, "description", k->description, "key_usage",
                          k->key_usage, "key_spec", k->key_spec, "origin", k->origin, "state",
                          emu_kms_key_state_name(k->state), "created", (json_int_t)k->creation_s);
    int rc = o ? CMEK_OK : CMEK_ERR_NOMEM;
    if (k->state == EMU_KMS_PENDING_DELETION || k->state == EMU_KMS_PENDING_REPLICA_DELETION) {
        rc = rc ? rc : s_set(o, "deletion", json_integer(k->deletion_s));
        rc = rc ? rc : s_set(o, "pending_window_days", json_integer(k->pending_window_days));
    }
    if (k->multi_region) {
        json_t *replicas = json_array();
        for (size_t i = 0; replicas && i < k->replica_regions.len; i++) {
            json_array_append_new(replicas, json_string(k->replica_regions.items[i]));
        }
        rc = rc ? rc : s_set(o, "multi_region", json_true());
        rc = rc ? rc : s_set(o, "replica", json_boolean(k->is_replica));
        rc = rc ? rc : s_set(o, "primary_region", json_string(k->primary_region));
        rc = rc ? rc : s_set(o, "replica_regions", replicas);
    }
    rc = rc ? rc : s_set(o, "policy", emu_policy_to_json(k->policy));
    json_t *tags = json_array();
    for (size_t i = 0; tags && i < k->tags.len; i++) {
        const struct emu_tag *t = k->tags.items[i];
        json_array_append_new(tags, json_pack("{s:s,s:s}", "TagKey", t->key, "TagValue", t->value));
    }
    rc = rc ? rc : s_set(o, "tags", tags);
    if (k->rotation_enabled) {
        rc = rc ? rc : s_set(o, "rotation_period_days", json_integer(k->rotation_period_days));
        rc = rc ? rc : s_set(o, "next_rotation", json_integer(k->next_rotation_s));
    }
    json_t *mats = json_array();
    for (size_t i = 0; mats && i < k->n_materials; i++) {
        if (json_array_append_new(mats, s_material_json(&k->materials[i]))) {
            rc = CMEK_ERR_NOMEM;
        }
    }
    rc = rc ? rc : s_set(o, "materials", mats);
    if (k->imported_material_id[0]) {
        rc = rc ? rc : s_set(o, "imported_material_id", json_string(k->imported_material_id));
    }
    if (k->expiration_model[0]) {
        rc = rc ? rc : s_set(o, "expiration_model", json_string(k->expiration_model));
        rc = rc ? rc : s_set(o, "valid_to", json_integer(k->valid_to_s));
    }
    if (k->import != NULL) {
        struct cmek_buf pem;
        cmek_buf_init(&pem, 16384);
        if (rc == CMEK_OK && emu_kms_wrapping_key_to_pem(k->import->wrapping_key, &pem) == 0) {
            rc = s_set(o, "import",
                       json_pack("{s:s,s:s,s:s,s:s,s:I}", "token_id", k->import->token_id,
                                 "wrapping_algorithm", k->import->wrapping_algorithm,
                                 "wrapping_key_spec", k->import->wrapping_key_spec,
                                 "wrapping_key_pem", cmek_buf_cstr(&pem), "valid_to",
                                 (json_int_t)k->import->valid_to_s));
        }
        cmek_cleanse(pem.data, pem.len);
        cmek_buf_clean_up(&pem);
    }
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *emu_kms_to_json(const struct emu_kms *kms)
{
    json_t *keys = json_array();
    json_t *aliases = json_array();
    int rc = keys && aliases ? CMEK_OK : CMEK_ERR_NOMEM;
    for (size_t i = 0; rc == CMEK_OK && i < kms->key_order.len; i++) {
        rc = json_array_append_new(keys, s_key_json(kms->key_order.items[i])) ? CMEK_ERR_NOMEM : 0;
    }
    for (size_t i = 0; rc == CMEK_OK && i < kms->alias_order.len; i++) {
        const struct emu_kms_alias *a = kms->alias_order.items[i];
        rc = json_array_append_new(aliases,
                                   json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "account", a->account,
                                             "region", a->region, "name", a->name, "target_key_id",
                                             a->target_key_id, "created", (json_int_t)a->created_s,
                                             "updated", (json_int_t)a->updated_s))
                 ? CMEK_ERR_NOMEM
                 : 0;
    }
    json_t *out = rc ? NULL : json_pack("{s:O,s:O}", "keys", keys, "aliases", aliases);
    json_decref(keys);
    json_decref(aliases);
    return out;
}

static const char *s_str(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int s_fail(struct emu_load_error *err, const char *what, const char *id)
{
    snprintf(err->message, sizeof(err->message), "kms key %.80s: %.300s", id ? id : "?", what);
    return CMEK_ERR_PARSE;
}

static int s_load_key(struct emu_kms *kms, const json_t *o, const struct emu_iam *iam,
                      int64_t now_s, struct emu_load_error *err)
{
    const char *account = s_str(o, "account"), *region = s_str(o, "region"), *id = s_str(o, "id");
    if (!account || !region || !id) {
        return s_fail(err, "needs account, region and id", id);
    }
    if (emu_iam_account(iam, account) == NULL) {
        return s_fail(err, "names an account the world does not have", id);
    }
    const json_t *created = json_object_get(o, "created");
    struct emu_kms_key *k =
        emu_kms_key_new(account, region, id, created ? json_integer_value(created) : now_s);
    if (k == NULL) {
        return CMEK_ERR_NOMEM;
    }
    int rc = CMEK_OK;
    const char *v;
    if ((v = s_str(o, "description")) != NULL) {
        free(k->description);
        k->description = strdup(v);
        rc = k->description ? rc : CMEK_ERR_NOMEM;
    }
    if ((v = s_str(o, "origin")) != NULL) {
        snprintf(k->origin, sizeof(k->origin), "%s", v);
    }
    if ((v = s_str(o, "state")) != NULL && emu_kms_key_state_parse(v, &k->state) != CMEK_OK) {
        rc = s_fail(err, "has an unknown state", id);
    }
    k->deletion_s = json_integer_value(json_object_get(o, "deletion"));
    k->pending_window_days = (int)json_integer_value(json_object_get(o, "pending_window_days"));
    k->multi_region = json_is_true(json_object_get(o, "multi_region"));
    k->is_replica = json_is_true(json_object_get(o, "replica"));
    if (k->multi_region && (v = s_str(o, "primary_region")) != NULL) {
        k->primary_region = strdup(v);
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(o, "replica_regions"), i, e)
    {
        char *r = json_string_value(e) ? strdup(json_string_value(e)) : NULL;
        if (r == NULL || cmek_vec_push(&k->replica_regions, r)) {
            free(r);
            rc = CMEK_ERR_NOMEM;
        }
    }
    const json_t *policy = json_object_get(o, "policy");
    if (rc == CMEK_OK && policy != NULL) {
        struct emu_principal_resolver resolver = emu_iam_resolver(iam);
        struct emu_policy_error perr;
        if (json_is_object(policy) && json_object_get(policy, "document") != NULL) {
            rc = emu_policy_from_json(policy, EMU_POLICY_RESOURCE, &k->policy);
        } else if (json_is_string(policy)) {
            const char *text = json_string_value(policy);
            rc = emu_policy_parse(text, strlen(text), EMU_POLICY_RESOURCE, &resolver, &k->policy,
                                  &perr);
        } else {
            char *text = json_dumps(policy, JSON_COMPACT | JSON_PRESERVE_ORDER);
            rc = text ? emu_policy_parse(text, strlen(text), EMU_POLICY_RESOURCE, &resolver,
                                         &k->policy, &perr)
                      : CMEK_ERR_NOMEM;
            free(text);
        }
        if (rc) {
            rc = s_fail(err, "has an invalid key policy", id);
        }
    } else if (rc == CMEK_OK) {
        rc = s_fail(err, "needs a policy", id);
    }
    json_array_foreach(json_object_get(o, "tags"), i, e)
    {
        struct emu_tag *t = calloc(1, sizeof(*t));
        if (t == NULL) {
            rc = CMEK_ERR_NOMEM;
            break;
        }
        t->key = s_str(e, "TagKey") ? strdup(s_str(e, "TagKey")) : NULL;
        t->value = s_str(e, "TagValue") ? strdup(s_str(e, "TagValue")) : NULL;
        if (!t->key || !t->value || cmek_vec_push(&k->tags, t)) {
            emu_tag_destroy(t);
            rc = rc ? rc : s_fail(err, "has an invalid tag", id);
        }
    }
    if (json_object_get(o, "rotation_period_days") != NULL) {
        k->rotation_enabled = true;
        k->rotation_period_days =
            (int)json_integer_value(json_object_get(o, "rotation_period_days"));
        k->next_rotation_s = json_integer_value(json_object_get(o, "next_rotation"));
    }
    json_array_foreach(json_object_get(o, "materials"), i, e)
    {
        struct emu_kms_material m;
        memset(&m, 0, sizeof(m));
        struct cmek_buf bytes;
        cmek_buf_init(&bytes, 64);
        const char *b64 = s_str(e, "bytes"), *mid = s_str(e, "id");
        if (rc == CMEK_OK && (!b64 || !mid || strlen(mid) != EMU_KMS_MATERIAL_ID_HEX ||
                              cmek_base64_decode(b64, strlen(b64), &bytes) != CMEK_OK ||
                              bytes.len != EMU_KMS_MATERIAL_BYTES)) {
            rc = s_fail(err, "has invalid key material", id);
        }
        if (rc == CMEK_OK) {
            memcpy(m.id, mid, EMU_KMS_MATERIAL_ID_HEX + 1);
            memcpy(m.bytes, bytes.data, EMU_KMS_MATERIAL_BYTES);
            m.created_s = json_integer_value(json_object_get(e, "created"));
            m.imported = json_is_true(json_object_get(e, "imported"));
            m.on_demand = json_is_true(json_object_get(e, "on_demand"));
            rc = emu_kms_key_add_material(k, &m);
        }
        cmek_cleanse(&m, sizeof(m));
        cmek_cleanse(bytes.data, bytes.len);
        cmek_buf_clean_up(&bytes);
    }
    if ((v = s_str(o, "imported_material_id")) != NULL) {
        snprintf(k->imported_material_id, sizeof(k->imported_material_id), "%s", v);
    }
    if ((v = s_str(o, "expiration_model")) != NULL) {
        snprintf(k->expiration_model, sizeof(k->expiration_model), "%s", v);
        k->valid_to_s = json_integer_value(json_object_get(o, "valid_to"));
    }
    const json_t *imp = json_object_get(o, "import");
    if (rc == CMEK_OK && imp != NULL) {
        k->import = calloc(1, sizeof(*k->import));
        const char *pem = s_str(imp, "wrapping_key_pem");
        if (k->import == NULL || pem == NULL ||
            emu_kms_wrapping_key_from_pem(pem, &k->import->wrapping_key) != CMEK_OK) {
            rc = s_fail(err, "has an invalid import wrapping key", id);
        } else {
            snprintf(k->import->token_id, sizeof(k->import->token_id), "%s",
                     s_str(imp, "token_id") ? s_str(imp, "token_id") : "");
            snprintf(k->import->wrapping_algorithm, sizeof(k->import->wrapping_algorithm), "%s",
                     s_str(imp, "wrapping_algorithm") ? s_str(imp, "wrapping_algorithm") : "");
            snprintf(k->import->wrapping_key_spec, sizeof(k->import->wrapping_key_spec), "%s",
                     s_str(imp, "wrapping_key_spec") ? s_str(imp, "wrapping_key_spec") : "");
            k->import->valid_to_s = json_integer_value(json_object_get(imp, "valid_to"));
        }
    }
    if (rc == CMEK_OK && k->state == EMU_KMS_ENABLED && k->n_materials == 0) {
        rc = s_fail(err, "is Enabled but has no key material", id);
    }
    if (rc) {
        emu_kms_key_destroy(k);
        return rc;
    }
    rc = emu_kms_add_key(kms, k);
    return rc == CMEK_ERR_INVALID_ARG ? s_fail(err, "is defined twice", id) : rc;
}

int emu_kms_load(struct emu_kms *kms, const json_t *kms_json, const struct emu_iam *iam,
                 int64_t now_s, struct emu_load_error *err)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(kms_json, "keys"), i, o)
    {
        int rc = s_load_key(kms, o, iam, now_s, err);
        if (rc) {
            return rc;
        }
    }
    json_array_foreach(json_object_get(kms_json, "aliases"), i, o)
    {
        struct emu_kms_alias *a = calloc(1, sizeof(*a));
        const char *account = s_str(o, "account"), *region = s_str(o, "region"),
                   *name = s_str(o, "name"), *target = s_str(o, "target_key_id");
        if (a == NULL) {
            return CMEK_ERR_NOMEM;
        }
        if (!account || !region || !name || !target) {
            emu_kms_alias_destroy(a);
            return s_fail(err, "alias needs account, region, name and target_key_id", name);
        }
        struct cmek_buf arn;
        cmek_buf_init(&arn, 512);
        int rc = cmek_buf_appendf(&arn, "arn:aws:kms:%s:%s:%s", region, account, name);
        a->account = strdup(account);
        a->region = strdup(region);
        a->name = strdup(name);
        a->target_key_id = strdup(target);
        a->arn = rc == CMEK_OK ? cmek_buf_steal(&arn) : NULL;
        cmek_buf_clean_up(&arn);
        a->created_s = json_integer_value(json_object_get(o, "created"));
        a->updated_s = json_integer_value(json_object_get(o, "updated"));
        if (!a->account || !a->region || !a->name || !a->target_key_id || !a->arn) {
            emu_kms_alias_destroy(a);
            return CMEK_ERR_NOMEM;
        }
        rc = emu_kms_add_alias(kms, a);
        if (rc) {
            return rc == CMEK_ERR_INVALID_ARG ? s_fail(err, "alias is defined twice", name) : rc;
        }
    }
    return CMEK_OK;
}
