#include "ccloud_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/crypto.h"
#include "cmek/timeutil.h"

#define S_NONCE_LEN CMEK_GCM_NONCE_LEN
#define S_TAG_LEN   CMEK_GCM_TAG_LEN

static const char *const s_status_names[EMU_CC_STATUS_COUNT] = {
    "DISABLED", "DISABLING",     "DISABLE_FAILED", "ENABLED",  "ENABLING",      "ENABLE_FAILED",
    "ROTATING", "ROTATE_FAILED", "REVOKED",        "REVOKING", "REVOKE_FAILED",
};

const char *emu_cc_status_name(enum emu_cc_status status)
{
    return (unsigned)status < EMU_CC_STATUS_COUNT ? s_status_names[status] : "DISABLED";
}

bool emu_cc_status_parse(const char *name, enum emu_cc_status *out)
{
    for (int i = 0; name != NULL && i < EMU_CC_STATUS_COUNT; i++) {
        if (strcmp(name, s_status_names[i]) == 0) {
            *out = (enum emu_cc_status)i;
            return true;
        }
    }
    return false;
}

static const char *const s_pending_names[EMU_CC_PENDING_COUNT] = {"NONE", "WRAP", "REVOKE"};

const char *emu_cc_pending_name(enum emu_cc_pending pending)
{
    return (unsigned)pending < EMU_CC_PENDING_COUNT ? s_pending_names[pending] : "NONE";
}

/* ---- constructors and destructors ---- */

void emu_cc_key_info_destroy(struct emu_cc_key_info *k)
{
    if (k == NULL) {
        return;
    }
    free(k->type);
    free(k->uri);
    free(k->auth_principal);
    free(k->user_message);
    free(k->wrapped_store_key);
    free(k->sealed_data_key);
    free(k);
}

struct emu_cc_region *emu_cc_region_new(const char *name, int32_t node_count)
{
    struct emu_cc_region *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->name = strdup(name);
    if (r->name == NULL) {
        free(r);
        return NULL;
    }
    r->node_count = node_count;
    r->status = EMU_CC_DISABLED;
    cmek_vec_init(&r->key_infos);
    return r;
}

void emu_cc_region_destroy(struct emu_cc_region *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->key_infos.len; i++) {
        emu_cc_key_info_destroy(r->key_infos.items[i]);
    }
    cmek_vec_clean_up(&r->key_infos);
    free(r->name);
    free(r);
}

static void s_row_destroy(struct emu_cc_row *row)
{
    if (row == NULL) {
        return;
    }
    free(row->key);
    free(row->sealed);
    free(row);
}

struct emu_cc_cluster *emu_cc_cluster_new(void)
{
    struct emu_cc_cluster *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    cmek_vec_init(&c->regions);
    cmek_vec_init(&c->rows);
    cmek_map_init(&c->row_index);
    c->cmek_status = EMU_CC_DISABLED;
    return c;
}

void emu_cc_cluster_destroy(struct emu_cc_cluster *c)
{
    if (c == NULL) {
        return;
    }
    char **fields[] = {&c->id,
                       &c->org_id,
                       &c->name,
                       &c->cloud_provider,
                       &c->plan,
                       &c->cockroach_version,
                       &c->account_id,
                       &c->state,
                       &c->creator_id,
                       &c->network_visibility,
                       &c->delete_protection,
                       &c->parent_id,
                       &c->machine_type,
                       &c->down_reason};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        free(*fields[i]);
    }
    json_decref(c->labels);
    for (size_t i = 0; i < c->regions.len; i++) {
        emu_cc_region_destroy(c->regions.items[i]);
    }
    cmek_vec_clean_up(&c->regions);
    for (size_t i = 0; i < c->rows.len; i++) {
        s_row_destroy(c->rows.items[i]);
    }
    cmek_vec_clean_up(&c->rows);
    cmek_map_clean_up(&c->row_index);
    cmek_cleanse(c->managed_key, sizeof(c->managed_key));
    cmek_cleanse(c->dek, sizeof(c->dek));
    free(c);
}

int emu_cc_cluster_add_region(struct emu_cc_cluster *c, struct emu_cc_region *r)
{
    if (r == NULL) {
        return CMEK_ERR_NOMEM;
    }
    int rc = cmek_vec_push(&c->regions, r);
    if (rc) {
        emu_cc_region_destroy(r);
        return rc;
    }
    for (size_t i = c->regions.len - 1; i > 0; i--) {
        struct emu_cc_region *a = c->regions.items[i - 1];
        if (strcmp(a->name, r->name) <= 0) {
            break;
        }
        c->regions.items[i] = a;
        c->regions.items[i - 1] = r;
    }
    return CMEK_OK;
}

void emu_cc_cluster_touch(struct emu_cc_cluster *c, int64_t now_s)
{
    c->updated_s = now_s;
    c->generation++;
}

int emu_cc_cluster_set_down(struct emu_cc_cluster *c, const char *reason)
{
    char *copy = NULL;
    if (reason != NULL) {
        copy = strdup(reason);
        if (copy == NULL) {
            return CMEK_ERR_NOMEM;
        }
    }
    free(c->down_reason);
    c->down_reason = copy;
    return CMEK_OK;
}

static void s_org_destroy(struct emu_cc_org *o)
{
    if (o == NULL) {
        return;
    }
    free(o->id);
    free(o->name);
    free(o->label);
    free(o);
}

static void s_api_key_destroy(struct emu_cc_api_key *k)
{
    if (k == NULL) {
        return;
    }
    free(k->id);
    free(k->name);
    cmek_cleanse_str(k->secret);
    free(k->secret);
    free(k->org_id);
    free(k);
}

void emu_ccloud_init(struct emu_ccloud *cc)
{
    memset(cc, 0, sizeof(*cc));
    cmek_vec_init(&cc->orgs);
    cmek_vec_init(&cc->api_keys);
    cmek_vec_init(&cc->clusters);
}

void emu_ccloud_clean_up(struct emu_ccloud *cc)
{
    for (size_t i = 0; i < cc->orgs.len; i++) {
        s_org_destroy(cc->orgs.items[i]);
    }
    for (size_t i = 0; i < cc->api_keys.len; i++) {
        s_api_key_destroy(cc->api_keys.items[i]);
    }
    for (size_t i = 0; i < cc->clusters.len; i++) {
        emu_cc_cluster_destroy(cc->clusters.items[i]);
    }
    cmek_vec_clean_up(&cc->orgs);
    cmek_vec_clean_up(&cc->api_keys);
    cmek_vec_clean_up(&cc->clusters);
    free(cc->aws_account_id);
    cc->aws_account_id = NULL;
}

/* ---- lookups ---- */

struct emu_cc_org *emu_ccloud_org(const struct emu_ccloud *cc, const char *id)
{
    for (size_t i = 0; i < cc->orgs.len; i++) {
        struct emu_cc_org *o = cc->orgs.items[i];
        if (strcmp(o->id, id) == 0) {
            return o;
        }
    }
    return NULL;
}

struct emu_cc_api_key *emu_ccloud_api_key(const struct emu_ccloud *cc, const char *secret,
                                          size_t secret_len)
{
    struct emu_cc_api_key *found = NULL;
    for (size_t i = 0; i < cc->api_keys.len; i++) {
        struct emu_cc_api_key *k = cc->api_keys.items[i];
        if (cmek_consttime_eq(k->secret, strlen(k->secret), secret, secret_len)) {
            found = k;
        }
    }
    return found;
}

struct emu_cc_cluster *emu_ccloud_cluster(const struct emu_ccloud *cc, const char *id)
{
    for (size_t i = 0; i < cc->clusters.len; i++) {
        struct emu_cc_cluster *c = cc->clusters.items[i];
        if (strcmp(c->id, id) == 0) {
            return c;
        }
    }
    return NULL;
}

struct emu_cc_region *emu_cc_cluster_region(const struct emu_cc_cluster *c, const char *name)
{
    for (size_t i = 0; i < c->regions.len; i++) {
        struct emu_cc_region *r = c->regions.items[i];
        if (strcmp(r->name, name) == 0) {
            return r;
        }
    }
    return NULL;
}

struct emu_cc_key_info *emu_cc_region_current(const struct emu_cc_region *r)
{
    return r->key_infos.len ? r->key_infos.items[r->key_infos.len - 1] : NULL;
}

int emu_ccloud_add_cluster(struct emu_ccloud *cc, struct emu_cc_cluster *c)
{
    if (cc->clusters.len >= EMU_CC_MAX_CLUSTERS) {
        emu_cc_cluster_destroy(c);
        return CMEK_ERR_LIMIT;
    }
    int rc = cmek_vec_push(&cc->clusters, c);
    if (rc) {
        emu_cc_cluster_destroy(c);
    }
    return rc;
}

/* ---- sealing ---- */

int emu_cc_seal(const uint8_t key[EMU_CC_KEY_BYTES], const char *aad, const void *in, size_t in_len,
                struct cmek_buf *out)
{
    int rc = cmek_buf_reserve(out, S_NONCE_LEN + in_len + S_TAG_LEN);
    if (rc) {
        return rc;
    }
    uint8_t *nonce = (uint8_t *)out->data + out->len;
    uint8_t *ct = nonce + S_NONCE_LEN;
    const struct cmek_view a = cmek_view_from_cstr(aad);
    rc = cmek_random_bytes(nonce, S_NONCE_LEN);
    rc = rc ? rc : cmek_gcm_seal(key, nonce, &a, 1, in, in_len, ct, ct + in_len);
    if (rc) {
        return rc;
    }
    out->len += S_NONCE_LEN + in_len + S_TAG_LEN;
    out->data[out->len] = '\0';
    return CMEK_OK;
}

int emu_cc_open(const uint8_t key[EMU_CC_KEY_BYTES], const char *aad, const void *in, size_t in_len,
                struct cmek_buf *out)
{
    if (in_len < S_NONCE_LEN + S_TAG_LEN) {
        return CMEK_ERR_CRYPTO;
    }
    const uint8_t *p = in;
    size_t ct_len = in_len - S_NONCE_LEN - S_TAG_LEN;
    const struct cmek_view a = cmek_view_from_cstr(aad);
    /* Opened in place at the end of out; cmek_gcm_open wipes it unless the tag verifies. */
    int rc = cmek_buf_reserve(out, ct_len);
    rc = rc ? rc
            : cmek_gcm_open(key, p, &a, 1, p + S_NONCE_LEN, ct_len, p + S_NONCE_LEN + ct_len,
                            out->data + out->len);
    if (rc) {
        return rc;
    }
    out->len += ct_len;
    out->data[out->len] = '\0';
    return CMEK_OK;
}

static int s_row_aad(const struct emu_cc_cluster *c, const char *key, struct cmek_buf *aad)
{
    return cmek_buf_appendf(aad, "crdb-row|%s|%s", c->id, key);
}

int emu_cc_row_get(const struct emu_cc_cluster *c, const char *key, struct cmek_buf *out)
{
    const struct emu_cc_row *row = cmek_map_get(&c->row_index, key);
    if (row == NULL) {
        return CMEK_ERR_NOT_FOUND;
    }
    struct cmek_buf aad;
    cmek_buf_init(&aad, EMU_CC_MAX_ROW_KEY + 256);
    int rc = s_row_aad(c, key, &aad);
    rc = rc ? rc : emu_cc_open(c->dek, cmek_buf_cstr(&aad), row->sealed, row->sealed_len, out);
    cmek_buf_clean_up(&aad);
    return rc;
}

int emu_cc_row_put(struct emu_cc_cluster *c, const char *key, const void *value, size_t len)
{
    struct emu_cc_row *row = cmek_map_get(&c->row_index, key);
    if (row == NULL && c->rows.len >= EMU_CC_MAX_ROWS) {
        return CMEK_ERR_LIMIT;
    }
    struct cmek_buf aad, sealed;
    cmek_buf_init(&aad, EMU_CC_MAX_ROW_KEY + 256);
    cmek_buf_init(&sealed, EMU_CC_MAX_ROW_BYTES + 64);
    int rc = s_row_aad(c, key, &aad);
    rc = rc ? rc : emu_cc_seal(c->dek, cmek_buf_cstr(&aad), value, len, &sealed);
    if (rc) {
        goto done;
    }
    size_t sealed_len = sealed.len;
    if (row != NULL) {
        free(row->sealed);
        row->sealed = (uint8_t *)cmek_buf_steal(&sealed);
        row->sealed_len = sealed_len;
        goto done;
    }
    row = calloc(1, sizeof(*row));
    if (row == NULL || (row->key = strdup(key)) == NULL) {
        s_row_destroy(row);
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    row->sealed = (uint8_t *)cmek_buf_steal(&sealed);
    row->sealed_len = sealed_len;
    rc = cmek_vec_push(&c->rows, row);
    if (rc) {
        s_row_destroy(row);
        goto done;
    }
    rc = cmek_map_put(&c->row_index, row->key, row, NULL);
    if (rc) {
        c->rows.len--;
        s_row_destroy(row);
    }
done:
    cmek_buf_clean_up(&aad);
    cmek_buf_clean_up(&sealed);
    return rc;
}

/* ---- world load ---- */

static int s_fail(struct emu_load_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int s_fail(struct emu_load_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return CMEK_ERR_PARSE;
}

/* A string member copied into *out; def when absent (NULL def: required). */
static int s_str(const json_t *o, const char *name, const char *def, char **out,
                 struct emu_load_error *err)
{
    const json_t *v = json_object_get(o, name);
    const char *s = v == NULL ? def : json_string_value(v);
    if (s == NULL || strlen(s) > EMU_CC_MAX_FIELD) {
        return s_fail(err, "ccloud: \"%s\" must be a string", name);
    }
    *out = strdup(s);
    return *out ? CMEK_OK : CMEK_ERR_NOMEM;
}

static int s_time(const json_t *o, const char *name, int64_t def, int64_t *out,
                  struct emu_load_error *err)
{
    const json_t *v = json_object_get(o, name);
    if (v == NULL) {
        *out = def;
        return CMEK_OK;
    }
    time_t t;
    const char *s = json_string_value(v);
    if (s == NULL || cmek_time_parse_rfc3339(s, strlen(s), &t) != CMEK_OK) {
        return s_fail(err, "ccloud: \"%s\" must be an RFC 3339 time", name);
    }
    *out = (int64_t)t;
    return CMEK_OK;
}

static int s_int(const json_t *o, const char *name, int32_t def, int32_t *out,
                 struct emu_load_error *err)
{
    const json_t *v = json_object_get(o, name);
    if (v == NULL) {
        *out = def;
        return CMEK_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000) {
        return s_fail(err, "ccloud: \"%s\" must be a small non-negative integer", name);
    }
    *out = (int32_t)json_integer_value(v);
    return CMEK_OK;
}

static int s_b64_key(const json_t *o, const char *name, uint8_t out[EMU_CC_KEY_BYTES], bool *has,
                     struct emu_load_error *err)
{
    const json_t *v = json_object_get(o, name);
    *has = false;
    if (v == NULL) {
        return CMEK_OK;
    }
    struct cmek_buf b;
    cmek_buf_init(&b, 64);
    const char *s = json_string_value(v);
    int rc = s == NULL ? CMEK_ERR_PARSE : cmek_base64_decode(s, strlen(s), &b);
    if (rc == CMEK_OK && b.len != EMU_CC_KEY_BYTES) {
        rc = CMEK_ERR_PARSE;
    }
    if (rc == CMEK_OK) {
        memcpy(out, b.data, EMU_CC_KEY_BYTES);
        *has = true;
    } else {
        rc = s_fail(err, "ccloud: \"%s\" must be base64 of 32 bytes", name);
    }
    if (b.data != NULL) {
        cmek_cleanse(b.data, b.len);
    }
    cmek_buf_clean_up(&b);
    return rc;
}

static int s_load_key_info(const json_t *o, int64_t now_s, struct emu_cc_region *r,
                           struct emu_load_error *err)
{
    struct emu_cc_key_info *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return CMEK_ERR_NOMEM;
    }
    const json_t *spec = json_object_get(o, "spec");
    const char *status = json_string_value(json_object_get(o, "status"));
    int rc = json_is_object(spec) ? CMEK_OK : s_fail(err, "ccloud: a key_info needs a \"spec\"");
    rc = rc ? rc : s_str(spec, "type", "AWS_KMS", &k->type, err);
    rc = rc ? rc : s_str(spec, "uri", NULL, &k->uri, err);
    rc = rc ? rc : s_str(spec, "auth_principal", NULL, &k->auth_principal, err);
    rc = rc ? rc : s_str(o, "user_message", "", &k->user_message, err);
    rc = rc ? rc : s_time(o, "created_at", now_s, &k->created_s, err);
    rc = rc ? rc : s_time(o, "updated_at", k->created_s, &k->updated_s, err);
    if (rc == CMEK_OK && !emu_cc_status_parse(status, &k->status)) {
        rc = s_fail(err, "ccloud: unknown key_info status %s", status ? status : "(none)");
    }
    if (rc == CMEK_OK && json_object_get(o, "wrapped_store_key") != NULL) {
        rc = s_str(o, "wrapped_store_key", NULL, &k->wrapped_store_key, err);
        rc = rc ? rc : s_str(o, "sealed_data_key", NULL, &k->sealed_data_key, err);
    }
    rc = rc ? rc : cmek_vec_push(&r->key_infos, k);
    if (rc) {
        emu_cc_key_info_destroy(k);
    }
    return rc;
}

static int s_load_region(const json_t *o, int64_t now_s, struct emu_cc_cluster *c,
                         struct emu_load_error *err)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    int32_t nodes = 0;
    if (name == NULL || name[0] == '\0' || strlen(name) > 64) {
        return s_fail(err, "ccloud: a region needs a \"name\"");
    }
    if (emu_cc_cluster_region(c, name) != NULL) {
        return s_fail(err, "ccloud: region %s appears twice", name);
    }
    int rc = s_int(o, "node_count", 3, &nodes, err);
    if (rc) {
        return rc;
    }
    struct emu_cc_region *r = emu_cc_region_new(name, nodes);
    if (r == NULL) {
        return CMEK_ERR_NOMEM;
    }
    const json_t *cmek = json_object_get(o, "cmek");
    if (cmek != NULL) {
        const char *status = json_string_value(json_object_get(cmek, "status"));
        if (!emu_cc_status_parse(status, &r->status)) {
            rc = s_fail(err, "ccloud: unknown region CMEK status %s", status ? status : "(none)");
        }
        const json_t *infos = json_object_get(cmek, "key_infos");
        size_t i;
        const json_t *ki;
        json_array_foreach(infos, i, ki)
        {
            rc = rc ? rc : s_load_key_info(ki, now_s, r, err);
        }
    }
    if (rc) {
        emu_cc_region_destroy(r);
        return rc;
    }
    return emu_cc_cluster_add_region(c, r);
}

static int s_load_rows(const json_t *rows, struct emu_cc_cluster *c, struct emu_load_error *err)
{
    const char *key;
    const json_t *v;
    int rc = CMEK_OK;
    json_object_foreach((json_t *)rows, key, v)
    {
        const char *b64 = json_string_value(v);
        struct emu_cc_row *row = calloc(1, sizeof(*row));
        struct cmek_buf b;
        cmek_buf_init(&b, EMU_CC_MAX_ROW_BYTES + 64);
        if (row == NULL || (row->key = strdup(key)) == NULL) {
            rc = CMEK_ERR_NOMEM;
        } else if (b64 == NULL || strlen(key) > EMU_CC_MAX_ROW_KEY ||
                   cmek_base64_decode(b64, strlen(b64), &b) != CMEK_OK) {
            rc = s_fail(err, "ccloud: row %s must be base64 of its sealed bytes", key);
        } else {
            row->sealed_len = b.len;
            row->sealed = (uint8_t *)cmek_buf_steal(&b);
            rc = cmek_vec_push(&c->rows, row);
            if (rc == CMEK_OK) {
                row = NULL; /* owned by rows now */
                rc = cmek_map_put(&c->row_index, key, c->rows.items[c->rows.len - 1], NULL);
            }
        }
        s_row_destroy(row);
        cmek_buf_clean_up(&b);
        if (rc) {
            break;
        }
    }
    return rc;
}

static int s_load_cluster(struct emu_ccloud *cc, const json_t *o, const struct emu_app *app,
                          int64_t now_s, struct emu_load_error *err)
{
    if (!json_is_object(o)) {
        return s_fail(err, "ccloud: each cluster must be an object");
    }
    struct emu_cc_cluster *c = emu_cc_cluster_new();
    if (c == NULL) {
        return CMEK_ERR_NOMEM;
    }
    char creator[37];
    int rc = emu_uuid4(app, creator);
    const struct emu_cc_org *org0 = cc->orgs.len ? cc->orgs.items[0] : NULL;
    const char *org_default = org0 ? org0->id : NULL;
    rc = rc ? rc : s_str(o, "id", NULL, &c->id, err);
    rc = rc ? rc : s_str(o, "organization_id", org_default, &c->org_id, err);
    rc = rc ? rc : s_str(o, "name", NULL, &c->name, err);
    rc = rc ? rc : s_str(o, "cloud_provider", "AWS", &c->cloud_provider, err);
    rc = rc ? rc : s_str(o, "plan", "ADVANCED", &c->plan, err);
    rc =
        rc ? rc : s_str(o, "cockroach_version", EMU_CC_DEFAULT_VERSION, &c->cockroach_version, err);
    rc = rc ? rc : s_str(o, "account_id", cc->aws_account_id, &c->account_id, err);
    rc = rc ? rc : s_str(o, "state", "CREATED", &c->state, err);
    rc = rc ? rc : s_str(o, "creator_id", creator, &c->creator_id, err);
    rc = rc ? rc : s_str(o, "network_visibility", "PRIVATE", &c->network_visibility, err);
    rc = rc ? rc : s_str(o, "delete_protection", "DISABLED", &c->delete_protection, err);
    rc = rc ? rc : s_str(o, "parent_id", "root", &c->parent_id, err);
    rc = rc ? rc : s_time(o, "created_at", now_s, &c->created_s, err);
    rc = rc ? rc : s_time(o, "updated_at", c->created_s, &c->updated_s, err);
    rc = rc ? rc : s_time(o, "deleted_at", 0, &c->deleted_s, err);
    const json_t *hw = json_object_get(o, "hardware");
    rc = rc ? rc : s_str(hw, "machine_type", "m6i.xlarge", &c->machine_type, err);
    rc = rc ? rc : s_int(hw, "num_virtual_cpus", 4, &c->num_virtual_cpus, err);
    rc = rc ? rc : s_int(hw, "storage_gib", 35, &c->storage_gib, err);
    rc = rc ? rc : s_int(hw, "disk_iops", 0, &c->disk_iops, err);
    if (rc == CMEK_OK && emu_ccloud_org(cc, c->org_id) == NULL) {
        rc = s_fail(err, "ccloud: cluster of unknown organization %s", c->org_id);
    }
    if (rc == CMEK_OK && emu_ccloud_cluster(cc, c->id) != NULL) {
        rc = s_fail(err, "ccloud: cluster id %s appears twice", c->id);
    }
    const json_t *labels = json_object_get(o, "labels");
    c->labels = labels ? json_deep_copy(labels) : json_object();
    if (rc == CMEK_OK && !json_is_object(c->labels)) {
        rc = s_fail(err, "ccloud: \"labels\" must be an object");
    }
    const json_t *regions = json_object_get(o, "regions");
    if (rc == CMEK_OK && (!json_is_array(regions) || json_array_size(regions) == 0 ||
                          json_array_size(regions) > EMU_CC_MAX_REGIONS)) {
        rc = s_fail(err, "ccloud: cluster %s needs 1 to 16 \"regions\"", c->id);
    }
    size_t i;
    const json_t *rv;
    json_array_foreach(regions, i, rv)
    {
        rc = rc ? rc : s_load_region(rv, now_s, c, err);
    }
    const json_t *cmek = json_object_get(o, "cmek");
    if (rc == CMEK_OK && cmek != NULL) {
        const char *status = json_string_value(json_object_get(cmek, "status"));
        const char *pending = json_string_value(json_object_get(cmek, "pending"));
        if (!emu_cc_status_parse(status, &c->cmek_status)) {
            rc = s_fail(err, "ccloud: unknown cluster CMEK status %s", status ? status : "(none)");
        }
        for (int p = 0; pending != NULL && p < EMU_CC_PENDING_COUNT; p++) {
            if (strcmp(pending, s_pending_names[p]) == 0) {
                c->pending = (enum emu_cc_pending)p;
            }
        }
        const char *down = json_string_value(json_object_get(cmek, "down_reason"));
        rc = rc ? rc : emu_cc_cluster_set_down(c, down);
    }
    const json_t *data = json_object_get(o, "data");
    rc = rc ? rc : s_b64_key(data, "managed_data_key", c->managed_key, &c->has_managed_key, err);
    if (rc == CMEK_OK && !c->has_managed_key && c->cmek_status == EMU_CC_DISABLED) {
        /* A new cluster's own data key, managed by Cockroach Labs until CMEK wraps it. */
        rc = app->sys.random_bytes(app->sys.ctx, c->managed_key, sizeof(c->managed_key));
        c->has_managed_key = rc == CMEK_OK;
    }
    const json_t *rows = json_object_get(data, "rows");
    if (rc == CMEK_OK && rows != NULL) {
        rc = json_is_object(rows) ? s_load_rows(rows, c, err)
                                  : s_fail(err, "ccloud: \"rows\" must be an object");
    }
    if (rc == CMEK_OK && c->has_managed_key) {
        memcpy(c->dek, c->managed_key, sizeof(c->dek));
        c->running = true;
        c->started = true;
    }
    if (rc) {
        emu_cc_cluster_destroy(c);
        return rc;
    }
    return emu_ccloud_add_cluster(cc, c);
}

static int s_load_org(struct emu_ccloud *cc, const json_t *o, int64_t now_s,
                      struct emu_load_error *err)
{
    struct emu_cc_org *org = calloc(1, sizeof(*org));
    if (org == NULL) {
        return CMEK_ERR_NOMEM;
    }
    int rc = json_is_object(o) ? CMEK_OK : s_fail(err, "ccloud: an organization is an object");
    rc = rc ? rc : s_str(o, "id", NULL, &org->id, err);
    rc = rc ? rc : s_str(o, "name", NULL, &org->name, err);
    rc = rc ? rc : s_str(o, "label", org->name, &org->label, err);
    rc = rc ? rc : s_time(o, "created_at", now_s, &org->created_s, err);
    if (rc == CMEK_OK && emu_ccloud_org(cc, org->id) != NULL) {
        rc = s_fail(err, "ccloud: organization %s appears twice", org->id);
    }
    rc = rc ? rc : cmek_vec_push(&cc->orgs, org);
    if (rc) {
        s_org_destroy(org);
    }
    return rc;
}

static int s_load_api_key(struct emu_ccloud *cc, const json_t *o, struct emu_load_error *err)
{
    struct emu_cc_api_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return CMEK_ERR_NOMEM;
    }
    const struct emu_cc_org *org0 = cc->orgs.items[0];
    int rc = s_str(o, "id", NULL, &k->id, err);
    rc = rc ? rc : s_str(o, "name", "", &k->name, err);
    rc = rc ? rc : s_str(o, "secret", NULL, &k->secret, err);
    rc = rc ? rc : s_str(o, "organization_id", org0->id, &k->org_id, err);
    if (rc == CMEK_OK && strncmp(k->secret, "CCDB1_", 6) != 0) {
        rc = s_fail(err, "ccloud: API key %s: the secret must start with CCDB1_", k->id);
    }
    if (rc == CMEK_OK && emu_ccloud_org(cc, k->org_id) == NULL) {
        rc = s_fail(err, "ccloud: API key of unknown organization %s", k->org_id);
    }
    rc = rc ? rc : cmek_vec_push(&cc->api_keys, k);
    if (rc) {
        s_api_key_destroy(k);
    }
    return rc;
}

int emu_ccloud_load(struct emu_ccloud *cc, const json_t *section, const struct emu_app *app,
                    int64_t now_s, struct emu_load_error *err)
{
    if (section == NULL || (json_is_object(section) && json_object_size(section) == 0)) {
        cc->aws_account_id = strdup(EMU_CC_DEFAULT_ACCOUNT);
        return cc->aws_account_id ? CMEK_OK : CMEK_ERR_NOMEM;
    }
    if (!json_is_object(section)) {
        return s_fail(err, "the \"ccloud\" section must be an object");
    }
    const json_t *accounts = json_object_get(section, "provider_accounts");
    int rc = s_str(accounts, "AWS", EMU_CC_DEFAULT_ACCOUNT, &cc->aws_account_id, err);
    rc = rc ? rc : s_load_org(cc, json_object_get(section, "organization"), now_s, err);
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(section, "other_organizations"), i, v)
    {
        rc = rc ? rc : s_load_org(cc, v, now_s, err);
    }
    json_array_foreach(json_object_get(section, "api_keys"), i, v)
    {
        rc = rc ? rc : s_load_api_key(cc, v, err);
    }
    json_array_foreach(json_object_get(section, "clusters"), i, v)
    {
        rc = rc ? rc : s_load_cluster(cc, v, app, now_s, err);
    }
    return rc;
}

/* ---- world dump ---- */

static json_t *s_time_json(int64_t t)
{
    char s[CMEK_ISO8601_LEN + 1];
    cmek_time_format_iso8601((time_t)t, s);
    return json_string(s);
}

static json_t *s_key_info_json(const struct emu_cc_key_info *k)
{
    json_t *o =
        json_pack("{s:{s:s,s:s,s:s},s:s,s:s,s:o,s:o}", "spec", "type", k->type, "uri", k->uri,
                  "auth_principal", k->auth_principal, "status", emu_cc_status_name(k->status),
                  "user_message", k->user_message, "created_at", s_time_json(k->created_s),
                  "updated_at", s_time_json(k->updated_s));
    if (o != NULL && k->wrapped_store_key != NULL && k->sealed_data_key != NULL) {
        json_object_set_new(o, "wrapped_store_key", json_string(k->wrapped_store_key));
        json_object_set_new(o, "sealed_data_key", json_string(k->sealed_data_key));
    }
    return o;
}

static json_t *s_b64_json(const void *bytes, size_t len)
{
    struct cmek_buf b;
    cmek_buf_init(&b, 2 * EMU_CC_MAX_ROW_BYTES + 256);
    json_t *out = cmek_base64_encode(bytes, len, &b) ? NULL : json_string(cmek_buf_cstr(&b));
    cmek_buf_clean_up(&b);
    return out;
}

static json_t *s_cluster_json(const struct emu_cc_cluster *c)
{
    json_t *regions = json_array();
    json_t *rows = json_object();
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:{s:s,s:i,s:i,s:i},s:o,s:o}", "id",
        c->id, "organization_id", c->org_id, "name", c->name, "cloud_provider", c->cloud_provider,
        "plan", c->plan, "cockroach_version", c->cockroach_version, "account_id", c->account_id,
        "state", c->state, "creator_id", c->creator_id, "network_visibility", c->network_visibility,
        "delete_protection", c->delete_protection, "parent_id", c->parent_id, "labels", c->labels,
        "hardware", "machine_type", c->machine_type, "num_virtual_cpus", (int)c->num_virtual_cpus,
        "storage_gib", (int)c->storage_gib, "disk_iops", (int)c->disk_iops, "created_at",
        s_time_json(c->created_s), "updated_at", s_time_json(c->updated_s));
    if (o == NULL || regions == NULL || rows == NULL) {
        goto fail;
    }
    if (c->deleted_s != 0) {
        json_object_set_new(o, "deleted_at", s_time_json(c->deleted_s));
    }
    for (size_t i = 0; i < c->regions.len; i++) {
        const struct emu_cc_region *r = c->regions.items[i];
        json_t *ro = json_pack("{s:s,s:i}", "name", r->name, "node_count", (int)r->node_count);
        if (ro == NULL || json_array_append_new(regions, ro)) {
            goto fail;
        }
        if (r->key_infos.len == 0 && r->status == EMU_CC_DISABLED) {
            continue;
        }
        json_t *infos = json_array();
        for (size_t k = 0; infos != NULL && k < r->key_infos.len; k++) {
            if (json_array_append_new(infos, s_key_info_json(r->key_infos.items[k]))) {
                json_decref(infos);
                infos = NULL;
            }
        }
        if (infos == NULL ||
            json_object_set_new(ro, "cmek",
                                json_pack("{s:s,s:o}", "status", emu_cc_status_name(r->status),
                                          "key_infos", infos))) {
            goto fail;
        }
    }
    json_object_set_new(o, "regions", regions);
    regions = NULL;
    if (c->cmek_status != EMU_CC_DISABLED || c->pending != EMU_CC_PENDING_NONE) {
        json_t *cm = json_pack("{s:s}", "status", emu_cc_status_name(c->cmek_status));
        if (cm != NULL && c->pending != EMU_CC_PENDING_NONE) {
            json_object_set_new(cm, "pending", json_string(emu_cc_pending_name(c->pending)));
        }
        if (cm != NULL && c->down_reason != NULL) {
            json_object_set_new(cm, "down_reason", json_string(c->down_reason));
        }
        if (cm == NULL || json_object_set_new(o, "cmek", cm)) {
            goto fail;
        }
    }
    for (size_t i = 0; i < c->rows.len; i++) {
        const struct emu_cc_row *row = c->rows.items[i];
        if (json_object_set_new(rows, row->key, s_b64_json(row->sealed, row->sealed_len))) {
            goto fail;
        }
    }
    json_t *data = json_pack("{s:o}", "rows", rows);
    rows = NULL;
    if (data != NULL && c->has_managed_key) {
        json_object_set_new(data, "managed_data_key",
                            s_b64_json(c->managed_key, sizeof(c->managed_key)));
    }
    if (data == NULL || json_object_set_new(o, "data", data)) {
        goto fail;
    }
    return o;
fail:
    json_decref(regions);
    json_decref(rows);
    json_decref(o);
    return NULL;
}

json_t *emu_ccloud_to_json(const struct emu_ccloud *cc)
{
    json_t *out = json_object();
    json_t *others = json_array();
    json_t *keys = json_array();
    json_t *clusters = json_array();
    if (out == NULL || others == NULL || keys == NULL || clusters == NULL) {
        goto fail;
    }
    for (size_t i = 0; i < cc->orgs.len; i++) {
        const struct emu_cc_org *org = cc->orgs.items[i];
        json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "id", org->id, "name", org->name, "label",
                              org->label, "created_at", s_time_json(org->created_s));
        if (o == NULL || (i == 0 ? json_object_set_new(out, "organization", o)
                                 : json_array_append_new(others, o))) {
            goto fail;
        }
    }
    for (size_t i = 0; i < cc->api_keys.len; i++) {
        const struct emu_cc_api_key *k = cc->api_keys.items[i];
        if (json_array_append_new(keys,
                                  json_pack("{s:s,s:s,s:s,s:s}", "id", k->id, "name", k->name,
                                            "secret", k->secret, "organization_id", k->org_id))) {
            goto fail;
        }
    }
    for (size_t i = 0; i < cc->clusters.len; i++) {
        if (json_array_append_new(clusters, s_cluster_json(cc->clusters.items[i]))) {
            goto fail;
        }
    }
    if (cc->orgs.len == 0) {
        json_decref(others);
        json_decref(keys);
        json_decref(clusters);
        return out;
    }
    if (json_array_size(others) > 0) {
        json_object_set(out, "other_organizations", others);
    }
    json_decref(others);
    if (json_object_set_new(out, "provider_accounts",
                            json_pack("{s:s}", "AWS", cc->aws_account_id)) ||
        json_object_set_new(out, "api_keys", keys) ||
        json_object_set_new(out, "clusters", clusters)) {
        json_decref(out);
        return NULL;
    }
    return out;
fail:
    json_decref(out);
    json_decref(others);
    json_decref(keys);
    json_decref(clusters);
    return NULL;
}
