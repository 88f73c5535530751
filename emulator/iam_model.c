#include "iam_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "cmek/crypto.h"
#include "cmek/timeutil.h"

#define S_UNIQUE_ID_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

void emu_iam_init(struct emu_iam *iam)
{
    cmek_vec_init(&iam->accounts);
    cmek_vec_init(&iam->users);
    cmek_vec_init(&iam->roles);
    cmek_vec_init(&iam->policies);
    cmek_vec_init(&iam->access_keys);
}

void emu_tag_destroy(struct emu_tag *tag)
{
    if (tag == NULL) {
        return;
    }
    free(tag->key);
    free(tag->value);
    free(tag);
}

void emu_iam_inline_policy_destroy(struct emu_iam_inline_policy *p)
{
    if (p == NULL) {
        return;
    }
    free(p->name);
    emu_policy_destroy(p->policy);
    free(p);
}

static void s_identity_clean_up(struct emu_iam_identity *ident)
{
    free(ident->account);
    free(ident->name);
    free(ident->path);
    free(ident->id);
    free(ident->arn);
    for (size_t i = 0; i < ident->inline_policies.len; i++) {
        emu_iam_inline_policy_destroy(ident->inline_policies.items[i]);
    }
    cmek_vec_clean_up(&ident->inline_policies);
    for (size_t i = 0; i < ident->attached.len; i++) {
        free(ident->attached.items[i]);
    }
    cmek_vec_clean_up(&ident->attached);
    for (size_t i = 0; i < ident->tags.len; i++) {
        emu_tag_destroy(ident->tags.items[i]);
    }
    cmek_vec_clean_up(&ident->tags);
}

/* kind is "user" or "role"; the ARN carries the path, as IAM's do. */
static int s_identity_init(struct emu_iam_identity *ident, const char *kind, const char *account,
                           const char *name, const char *path, const char *id, int64_t create_ms)
{
    memset(ident, 0, sizeof(*ident));
    cmek_vec_init(&ident->inline_policies);
    cmek_vec_init(&ident->attached);
    cmek_vec_init(&ident->tags);
    struct cmek_buf arn;
    cmek_buf_init(&arn, 2048);
    int rc = cmek_buf_appendf(&arn, "arn:aws:iam::%s:%s%s%s", account, kind, path, name);
    if (rc) {
        cmek_buf_clean_up(&arn);
        return rc;
    }
    ident->account = strdup(account);
    ident->name = strdup(name);
    ident->path = strdup(path);
    ident->id = strdup(id);
    ident->arn = cmek_buf_steal(&arn);
    ident->create_ms = create_ms;
    if (!ident->account || !ident->name || !ident->path || !ident->id || !ident->arn) {
        return CMEK_ERR_NOMEM;
    }
    return CMEK_OK;
}

struct emu_iam_role *emu_iam_role_new(const char *account, const char *name, const char *path,
                                      const char *id, int64_t create_ms)
{
    struct emu_iam_role *role = calloc(1, sizeof(*role));
    if (role == NULL) {
        return NULL;
    }
    role->max_session_s = 3600;
    if (s_identity_init(&role->ident, "role", account, name, path, id, create_ms)) {
        emu_iam_role_destroy(role);
        return NULL;
    }
    return role;
}

void emu_iam_role_destroy(struct emu_iam_role *role)
{
    if (role == NULL) {
        return;
    }
    s_identity_clean_up(&role->ident);
    free(role->description);
    emu_policy_destroy(role->trust);
    free(role);
}

struct emu_iam_user *emu_iam_user_new(const char *account, const char *name, const char *path,
                                      const char *id, int64_t create_ms)
{
    struct emu_iam_user *user = calloc(1, sizeof(*user));
    if (user == NULL) {
        return NULL;
    }
    if (s_identity_init(&user->ident, "user", account, name, path, id, create_ms)) {
        emu_iam_user_destroy(user);
        return NULL;
    }
    return user;
}

void emu_iam_user_destroy(struct emu_iam_user *user)
{
    if (user == NULL) {
        return;
    }
    s_identity_clean_up(&user->ident);
    free(user);
}

void emu_iam_access_key_destroy(struct emu_iam_access_key *key)
{
    if (key == NULL) {
        return;
    }
    cmek_sigv4_key_cache_clean_up(&key->sigv4);
    free(key->id);
    if (key->secret != NULL) {
        cmek_cleanse_str(key->secret);
    }
    free(key->secret);
    free(key->account);
    free(key->user_name);
    free(key);
}

void emu_iam_managed_policy_destroy(struct emu_iam_managed_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    free(policy->account);
    free(policy->name);
    free(policy->path);
    free(policy->id);
    free(policy->arn);
    free(policy->description);
    emu_policy_destroy(policy->doc);
    free(policy);
}

static void s_account_destroy(struct emu_iam_account *account)
{
    if (account == NULL) {
        return;
    }
    free(account->id);
    free(account->name);
    free(account);
}

void emu_iam_clean_up(struct emu_iam *iam)
{
    for (size_t i = 0; i < iam->accounts.len; i++) {
        s_account_destroy(iam->accounts.items[i]);
    }
    for (size_t i = 0; i < iam->users.len; i++) {
        emu_iam_user_destroy(iam->users.items[i]);
    }
    for (size_t i = 0; i < iam->roles.len; i++) {
        emu_iam_role_destroy(iam->roles.items[i]);
    }
    for (size_t i = 0; i < iam->policies.len; i++) {
        emu_iam_managed_policy_destroy(iam->policies.items[i]);
    }
    for (size_t i = 0; i < iam->access_keys.len; i++) {
        emu_iam_access_key_destroy(iam->access_keys.items[i]);
    }
    cmek_vec_clean_up(&iam->accounts);
    cmek_vec_clean_up(&iam->users);
    cmek_vec_clean_up(&iam->roles);
    cmek_vec_clean_up(&iam->policies);
    cmek_vec_clean_up(&iam->access_keys);
}

/* ---- Lookups ---- */

struct emu_iam_account *emu_iam_account(const struct emu_iam *iam, const char *id)
{
    for (size_t i = 0; i < iam->accounts.len; i++) {
        struct emu_iam_account *a = iam->accounts.items[i];
        if (strcmp(a->id, id) == 0) {
            return a;
        }
    }
    return NULL;
}

struct emu_iam_role *emu_iam_role_by_name(const struct emu_iam *iam, const char *account,
                                          const char *name)
{
    for (size_t i = 0; i < iam->roles.len; i++) {
        struct emu_iam_role *r = iam->roles.items[i];
        if (strcmp(r->ident.account, account) == 0 && strcasecmp(r->ident.name, name) == 0) {
            return r;
        }
    }
    return NULL;
}

struct emu_iam_role *emu_iam_role_by_id(const struct emu_iam *iam, const char *id)
{
    for (size_t i = 0; i < iam->roles.len; i++) {
        struct emu_iam_role *r = iam->roles.items[i];
        if (strcmp(r->ident.id, id) == 0) {
            return r;
        }
    }
    return NULL;
}

struct emu_iam_user *emu_iam_user_by_name(const struct emu_iam *iam, const char *account,
                                          const char *name)
{
    for (size_t i = 0; i < iam->users.len; i++) {
        struct emu_iam_user *u = iam->users.items[i];
        if (strcmp(u->ident.account, account) == 0 && strcasecmp(u->ident.name, name) == 0) {
            return u;
        }
    }
    return NULL;
}

struct emu_iam_access_key *emu_iam_access_key(const struct emu_iam *iam, const char *id)
{
    for (size_t i = 0; i < iam->access_keys.len; i++) {
        struct emu_iam_access_key *k = iam->access_keys.items[i];
        if (strcmp(k->id, id) == 0) {
            return k;
        }
    }
    return NULL;
}

struct emu_iam_managed_policy *emu_iam_managed_policy(const struct emu_iam *iam, const char *arn)
{
    for (size_t i = 0; i < iam->policies.len; i++) {
        struct emu_iam_managed_policy *p = iam->policies.items[i];
        if (strcmp(p->arn, arn) == 0) {
            return p;
        }
    }
    return NULL;
}

static size_t s_count_attached(const struct emu_iam_identity *ident, const char *arn)
{
    for (size_t i = 0; i < ident->attached.len; i++) {
        if (strcmp(ident->attached.items[i], arn) == 0) {
            return 1;
        }
    }
    return 0;
}

size_t emu_iam_attachment_count(const struct emu_iam *iam, const char *arn)
{
    size_t n = 0;
    for (size_t i = 0; i < iam->users.len; i++) {
        n += s_count_attached(&((struct emu_iam_user *)iam->users.items[i])->ident, arn);
    }
    for (size_t i = 0; i < iam->roles.len; i++) {
        n += s_count_attached(&((struct emu_iam_role *)iam->roles.items[i])->ident, arn);
    }
    return n;
}

long emu_iam_identity_find_inline(const struct emu_iam_identity *ident, const char *name)
{
    for (size_t i = 0; i < ident->inline_policies.len; i++) {
        struct emu_iam_inline_policy *p = ident->inline_policies.items[i];
        if (strcasecmp(p->name, name) == 0) {
            return (long)i;
        }
    }
    return -1;
}

int emu_iam_identity_policies(const struct emu_iam *iam, const struct emu_iam_identity *ident,
                              struct cmek_vec *out)
{
    for (size_t i = 0; i < ident->inline_policies.len; i++) {
        struct emu_iam_inline_policy *p = ident->inline_policies.items[i];
        int rc = cmek_vec_push(out, p->policy);
        if (rc) {
            return rc;
        }
    }
    for (size_t i = 0; i < ident->attached.len; i++) {
        struct emu_iam_managed_policy *mp = emu_iam_managed_policy(iam, ident->attached.items[i]);
        if (mp == NULL) {
            continue;
        }
        int rc = cmek_vec_push(out, mp->doc);
        if (rc) {
            return rc;
        }
    }
    return CMEK_OK;
}

/* ---- Principal resolution for the policy engine ---- */

static bool s_is_account_id(const char *s, size_t len)
{
    if (len != 12) {
        return false;
    }
    for (size_t i = 0; i < 12; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

static int s_copy_id(const char *id, char out[EMU_UNIQUE_ID_MAX])
{
    size_t n = strlen(id);
    if (n >= EMU_UNIQUE_ID_MAX) {
        return CMEK_ERR_LIMIT;
    }
    memcpy(out, id, n + 1);
    return CMEK_OK;
}

/* Resolves "123456789012", arn:aws:iam::A:root, ...:user/p/N, ...:role/p/N and
 * arn:aws:sts::A:assumed-role/R/S (to role R's id). */
static int s_resolve(void *ctx, const char *arn, char unique_id[EMU_UNIQUE_ID_MAX])
{
    const struct emu_iam *iam = ctx;
    size_t len = strlen(arn);
    if (s_is_account_id(arn, len)) {
        return emu_iam_account(iam, arn) ? s_copy_id(arn, unique_id) : CMEK_ERR_NOT_FOUND;
    }
    const char *iam_prefix = "arn:aws:iam::";
    const char *sts_prefix = "arn:aws:sts::";
    bool is_sts = strncmp(arn, sts_prefix, strlen(sts_prefix)) == 0;
    if (!is_sts && strncmp(arn, iam_prefix, strlen(iam_prefix)) != 0) {
        return CMEK_ERR_NOT_FOUND;
    }
    const char *acct = arn + strlen(iam_prefix);
    if (strlen(acct) < 13 || !s_is_account_id(acct, 12) || acct[12] != ':') {
        return CMEK_ERR_NOT_FOUND;
    }
    char account[13];
    memcpy(account, acct, 12);
    account[12] = '\0';
    if (emu_iam_account(iam, account) == NULL) {
        return CMEK_ERR_NOT_FOUND;
    }
    const char *rest = acct + 13;
    if (is_sts) {
        const char *p = "assumed-role/";
        if (strncmp(rest, p, strlen(p)) != 0) {
            return CMEK_ERR_NOT_FOUND;
        }
        const char *role = rest + strlen(p);
        const char *slash = strchr(role, '/');
        if (slash == NULL || slash == role || slash[1] == '\0') {
            return CMEK_ERR_NOT_FOUND;
        }
        char name[129];
        size_t n = (size_t)(slash - role);
        if (n >= sizeof(name)) {
            return CMEK_ERR_NOT_FOUND;
        }
        memcpy(name, role, n);
        name[n] = '\0';
        struct emu_iam_role *r = emu_iam_role_by_name(iam, account, name);
        return r ? s_copy_id(r->ident.id, unique_id) : CMEK_ERR_NOT_FOUND;
    }
    if (strcmp(rest, "root") == 0) {
        return s_copy_id(account, unique_id);
    }
    for (size_t i = 0; i < iam->roles.len; i++) {
        struct emu_iam_role *r = iam->roles.items[i];
        if (strcmp(r->ident.arn, arn) == 0) {
            return s_copy_id(r->ident.id, unique_id);
        }
    }
    for (size_t i = 0; i < iam->users.len; i++) {
        struct emu_iam_user *u = iam->users.items[i];
        if (strcmp(u->ident.arn, arn) == 0) {
            return s_copy_id(u->ident.id, unique_id);
        }
    }
    return CMEK_ERR_NOT_FOUND;
}

struct emu_principal_resolver emu_iam_resolver(const struct emu_iam *iam)
{
    struct emu_principal_resolver r = {.resolve = s_resolve, .ctx = (void *)iam};
    return r;
}

int emu_iam_new_unique_id(const struct emu_app *app, const char *prefix, char out[22])
{
    size_t n = strlen(prefix);
    if (n != 4) {
        return CMEK_ERR_INVALID_ARG;
    }
    memcpy(out, prefix, 4);
    return emu_random_string(app, S_UNIQUE_ID_ALPHABET, 17, out + 4);
}

/* ---- World loading ---- */

__attribute__((format(printf, 2, 3))) static int s_fail(struct emu_load_error *err, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return CMEK_ERR_PARSE;
}

static const char *s_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int s_time_field(const json_t *obj, const char *key, int64_t now_ms, int64_t *out)
{
    const char *v = s_str(obj, key);
    if (v == NULL) {
        *out = now_ms;
        return CMEK_OK;
    }
    time_t t;
    int rc = cmek_time_parse_rfc3339(v, strlen(v), &t);
    if (rc) {
        return rc;
    }
    *out = (int64_t)t * 1000;
    return CMEK_OK;
}

/* A policy in the world: a stored {"document","bindings"} object, a policy object, or text. */
static int s_load_policy(const json_t *v, enum emu_policy_kind kind, const struct emu_iam *iam,
                         struct emu_policy **out, struct emu_load_error *err, const char *where)
{
    if (json_is_object(v) && json_object_get(v, "document") != NULL) {
        if (emu_policy_from_json(v, kind, out)) {
            return s_fail(err, "invalid stored policy at %s", where);
        }
        return CMEK_OK;
    }
    char *text = NULL;
    if (json_is_string(v)) {
        text = strdup(json_string_value(v));
    } else if (json_is_object(v)) {
        text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    } else {
        return s_fail(err, "policy expected at %s", where);
    }
    if (text == NULL) {
        return CMEK_ERR_NOMEM;
    }
    struct emu_principal_resolver resolver = emu_iam_resolver(iam);
    struct emu_policy_error perr;
    int rc = emu_policy_parse(text, strlen(text), kind, &resolver, out, &perr);
    free(text);
    if (rc) {
        snprintf(err->message, sizeof(err->message), "policy at %.200s: %.290s", where,
                 perr.message);
        return CMEK_ERR_PARSE;
    }
    return CMEK_OK;
}

static int s_id_field(const json_t *obj, const char *prefix, const struct emu_app *app,
                      char out[EMU_UNIQUE_ID_MAX])
{
    const char *v = s_str(obj, "id");
    if (v != NULL) {
        return s_copy_id(v, out);
    }
    char gen[22];
    int rc = emu_iam_new_unique_id(app, prefix, gen);
    if (rc) {
        return rc;
    }
    return s_copy_id(gen, out);
}

static int s_load_tags(struct emu_iam_identity *ident, const json_t *tags)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *k = s_str(t, "Key");
        const char *v = s_str(t, "Value");
        if (k == NULL || v == NULL) {
            return CMEK_ERR_PARSE;
        }
        struct emu_tag *tag = calloc(1, sizeof(*tag));
        if (tag == NULL) {
            return CMEK_ERR_NOMEM;
        }
        tag->key = strdup(k);
        tag->value = strdup(v);
        if (!tag->key || !tag->value || cmek_vec_push(&ident->tags, tag)) {
            emu_tag_destroy(tag);
            return CMEK_ERR_NOMEM;
        }
    }
    return CMEK_OK;
}

/* Pass 2: the parts of an identity that refer to other entities. */
static int s_load_identity_policies(struct emu_iam_identity *ident, const json_t *src,
                                    const struct emu_iam *iam, struct emu_load_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(src, "inline_policies"), key, v)
    {
        struct emu_iam_inline_policy *p = calloc(1, sizeof(*p));
        if (p == NULL) {
            return CMEK_ERR_NOMEM;
        }
        p->name = strdup(key);
        int rc = p->name ? s_load_policy(v, EMU_POLICY_IDENTITY, iam, &p->policy, err, ident->arn)
                         : CMEK_ERR_NOMEM;
        if (rc == CMEK_OK) {
            rc = cmek_vec_push(&ident->inline_policies, p);
        }
        if (rc) {
            emu_iam_inline_policy_destroy(p);
            return rc;
        }
    }
    size_t i;
    json_array_foreach(json_object_get(src, "attached_policies"), i, v)
    {
        const char *arn = json_string_value(v);
        if (arn == NULL || emu_iam_managed_policy(iam, arn) == NULL) {
            return s_fail(err, "attached policy %s does not exist", arn ? arn : "(not a string)");
        }
        char *copy = strdup(arn);
        if (copy == NULL || cmek_vec_push(&ident->attached, copy)) {
            free(copy);
            return CMEK_ERR_NOMEM;
        }
    }
    return CMEK_OK;
}

static int s_load_managed_policy(struct emu_iam *iam, const char *account, const json_t *src,
                                 const struct emu_app *app, int64_t now_ms,
                                 struct emu_load_error *err)
{
    const char *name = s_str(src, "name");
    const char *path = s_str(src, "path") ? s_str(src, "path") : "/";
    if (name == NULL) {
        return s_fail(err, "managed policy without a name in account %s", account);
    }
    struct emu_iam_managed_policy *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return CMEK_ERR_NOMEM;
    }
    char id[EMU_UNIQUE_ID_MAX];
    struct cmek_buf arn;
    cmek_buf_init(&arn, 2048);
    int rc = s_id_field(src, "ANPA", app, id);
    if (rc == CMEK_OK) {
        rc = cmek_buf_appendf(&arn, "arn:aws:iam::%s:policy%s%s", account, path, name);
    }
    if (rc == CMEK_OK) {
        p->account = strdup(account);
        p->name = strdup(name);
        p->path = strdup(path);
        p->id = strdup(id);
        p->arn = cmek_buf_steal(&arn);
        const char *desc = s_str(src, "description");
        p->description = desc ? strdup(desc) : NULL;
        rc = (!p->account || !p->name || !p->path || !p->id || !p->arn) ? CMEK_ERR_NOMEM : 0;
    }
    if (rc == CMEK_OK) {
        rc = s_time_field(src, "create_date", now_ms, &p->create_ms);
        p->update_ms = p->create_ms;
    }
    if (rc == CMEK_OK) {
        rc = s_load_policy(json_object_get(src, "document"), EMU_POLICY_MANAGED, iam, &p->doc, err,
                           name);
    }
    if (rc == CMEK_OK) {
        rc = cmek_vec_push(&iam->policies, p);
    }
    cmek_buf_clean_up(&arn);
    if (rc) {
        emu_iam_managed_policy_destroy(p);
        if (err->message[0] == '\0') {
            s_fail(err, "invalid managed policy %s", name);
        }
    }
    return rc;
}

static int s_load_access_keys(struct emu_iam *iam, const struct emu_iam_user *user,
                              const json_t *keys, int64_t now_ms, struct emu_load_error *err)
{
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *id = s_str(k, "id");
        const char *secret = s_str(k, "secret");
        const char *status = s_str(k, "status") ? s_str(k, "status") : "Active";
        if (id == NULL || secret == NULL) {
            return s_fail(err, "access key of user %s needs id and secret", user->ident.name);
        }
        if (emu_iam_access_key(iam, id) != NULL) {
            return s_fail(err, "duplicate access key id %s", id);
        }
        struct emu_iam_access_key *key = calloc(1, sizeof(*key));
        if (key == NULL) {
            return CMEK_ERR_NOMEM;
        }
        key->id = strdup(id);
        key->secret = strdup(secret);
        key->account = strdup(user->ident.account);
        key->user_name = strdup(user->ident.name);
        key->active = strcmp(status, "Active") == 0;
        int rc = (!key->id || !key->secret || !key->account || !key->user_name)
                     ? CMEK_ERR_NOMEM
                     : s_time_field(k, "create_date", now_ms, &key->create_ms);
        if (rc == CMEK_OK) {
            rc = cmek_vec_push(&iam->access_keys, key);
        }
        if (rc) {
            emu_iam_access_key_destroy(key);
            return rc;
        }
    }
    return CMEK_OK;
}

/* Pass 1 creates accounts, users, roles and managed policies' shells, so that pass 2 can
 * resolve the principals and attachments that policies name. */
static int s_load_entities(struct emu_iam *iam, const json_t *acct_json, const char *account,
                           const struct emu_app *app, int64_t now_ms, struct emu_load_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(acct_json, "users"), i, v)
    {
        const char *name = s_str(v, "name");
        const char *path = s_str(v, "path") ? s_str(v, "path") : "/";
        char id[EMU_UNIQUE_ID_MAX];
        int64_t created;
        if (name == NULL) {
            return s_fail(err, "user without a name in account %s", account);
        }
        if (s_id_field(v, "AIDA", app, id) || s_time_field(v, "create_date", now_ms, &created)) {
            return s_fail(err, "invalid id or create_date of user %s", name);
        }
        struct emu_iam_user *u = emu_iam_user_new(account, name, path, id, created);
        if (u == NULL || cmek_vec_push(&iam->users, u)) {
            emu_iam_user_destroy(u);
            return CMEK_ERR_NOMEM;
        }
        int rc = s_load_tags(&u->ident, json_object_get(v, "tags"));
        if (rc == CMEK_OK) {
            rc = s_load_access_keys(iam, u, json_object_get(v, "access_keys"), now_ms, err);
        }
        if (rc) {
            return rc;
        }
    }
    json_array_foreach(json_object_get(acct_json, "roles"), i, v)
    {
        const char *name = s_str(v, "name");
        const char *path = s_str(v, "path") ? s_str(v, "path") : "/";
        char id[EMU_UNIQUE_ID_MAX];
        int64_t created;
        if (name == NULL) {
            return s_fail(err, "role without a name in account %s", account);
        }
        if (s_id_field(v, "AROA", app, id) || s_time_field(v, "create_date", now_ms, &created)) {
            return s_fail(err, "invalid id or create_date of role %s", name);
        }
        struct emu_iam_role *r = emu_iam_role_new(account, name, path, id, created);
        if (r == NULL || cmek_vec_push(&iam->roles, r)) {
            emu_iam_role_destroy(r);
            return CMEK_ERR_NOMEM;
        }
        const char *desc = s_str(v, "description");
        if (desc != NULL && (r->description = strdup(desc)) == NULL) {
            return CMEK_ERR_NOMEM;
        }
        json_t *max = json_object_get(v, "max_session_duration");
        if (max != NULL) {
            r->max_session_s = json_integer_value(max);
            if (r->max_session_s < 3600 || r->max_session_s > 43200) {
                return s_fail(err, "max_session_duration of role %s must be 3600..43200", name);
            }
        }
        int rc = s_load_tags(&r->ident, json_object_get(v, "tags"));
        if (rc) {
            return rc;
        }
    }
    return CMEK_OK;
}

static int s_load_links(struct emu_iam *iam, const json_t *acct_json, const char *account,
                        struct emu_load_error *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(acct_json, "users"), i, v)
    {
        struct emu_iam_user *u = emu_iam_user_by_name(iam, account, s_str(v, "name"));
        int rc = s_load_identity_policies(&u->ident, v, iam, err);
        if (rc) {
            return rc;
        }
    }
    json_array_foreach(json_object_get(acct_json, "roles"), i, v)
    {
        struct emu_iam_role *r = emu_iam_role_by_name(iam, account, s_str(v, "name"));
        json_t *trust = json_object_get(v, "assume_role_policy");
        if (trust == NULL) {
            return s_fail(err, "role %s needs an assume_role_policy", r->ident.name);
        }
        int rc = s_load_policy(trust, EMU_POLICY_TRUST, iam, &r->trust, err, r->ident.arn);
        if (rc == CMEK_OK) {
            rc = s_load_identity_policies(&r->ident, v, iam, err);
        }
        if (rc) {
            return rc;
        }
    }
    return CMEK_OK;
}

int emu_iam_load(struct emu_iam *iam, const json_t *aws, const struct emu_app *app, int64_t now_ms,
                 struct emu_load_error *err)
{
    err->message[0] = '\0';
    const json_t *accounts = json_object_get(aws, "accounts");
    if (!json_is_array(accounts)) {
        return s_fail(err, "%s", "aws.accounts must be an array");
    }
    size_t i;
    json_t *a;
    int rc = CMEK_OK;
    json_array_foreach(accounts, i, a)
    {
        const char *id = s_str(a, "id");
        if (id == NULL || !s_is_account_id(id, strlen(id))) {
            return s_fail(err, "%s", "every aws account needs a 12-digit id");
        }
        if (emu_iam_account(iam, id) != NULL) {
            return s_fail(err, "duplicate aws account %s", id);
        }
        struct emu_iam_account *acct = calloc(1, sizeof(*acct));
        if (acct == NULL) {
            return CMEK_ERR_NOMEM;
        }
        acct->id = strdup(id);
        acct->name = strdup(s_str(a, "name") ? s_str(a, "name") : id);
        if (!acct->id || !acct->name || cmek_vec_push(&iam->accounts, acct)) {
            s_account_destroy(acct);
            return CMEK_ERR_NOMEM;
        }
    }
    json_array_foreach(accounts, i, a)
    {
        rc = s_load_entities(iam, a, s_str(a, "id"), app, now_ms, err);
        if (rc) {
            return rc;
        }
    }
    /* Managed policies before links (attachments name them); they may name principals. */
    json_array_foreach(json_object_get(aws, "managed_policies"), i, a)
    {
        rc = s_load_managed_policy(iam, "aws", a, app, now_ms, err);
        if (rc) {
            return rc;
        }
    }
    json_array_foreach(accounts, i, a)
    {
        size_t j;
        json_t *p;
        json_array_foreach(json_object_get(a, "policies"), j, p)
        {
            rc = s_load_managed_policy(iam, s_str(a, "id"), p, app, now_ms, err);
            if (rc) {
                return rc;
            }
        }
    }
    json_array_foreach(accounts, i, a)
    {
        rc = s_load_links(iam, a, s_str(a, "id"), err);
        if (rc) {
            return rc;
        }
    }
    return CMEK_OK;
}

/* ---- Serialization ---- */

static json_t *s_time_json(int64_t ms)
{
    char out[CMEK_ISO8601_LEN + 1];
    cmek_time_format_iso8601((time_t)(ms / 1000), out);
    return json_string(out);
}

static int s_set(json_t *obj, const char *key, json_t *value)
{
    /* json_object_set_new steals value even on failure. */
    return value == NULL || json_object_set_new(obj, key, value) ? CMEK_ERR_NOMEM : CMEK_OK;
}

static int s_identity_to_json(const struct emu_iam_identity *ident, json_t *out)
{
    int rc = s_set(out, "name", json_string(ident->name));
    rc = rc ? rc : s_set(out, "path", json_string(ident->path));
    rc = rc ? rc : s_set(out, "id", json_string(ident->id));
    rc = rc ? rc : s_set(out, "create_date", s_time_json(ident->create_ms));
    json_t *inl = json_object();
    json_t *att = json_array();
    json_t *tags = json_array();
    for (size_t i = 0; rc == CMEK_OK && inl && i < ident->inline_policies.len; i++) {
        struct emu_iam_inline_policy *p = ident->inline_policies.items[i];
        rc = s_set(inl, p->name, emu_policy_to_json(p->policy));
    }
    for (size_t i = 0; rc == CMEK_OK && att && i < ident->attached.len; i++) {
        rc = json_array_append_new(att, json_string(ident->attached.items[i])) ? CMEK_ERR_NOMEM : 0;
    }
    for (size_t i = 0; rc == CMEK_OK && tags && i < ident->tags.len; i++) {
        struct emu_tag *t = ident->tags.items[i];
        rc = json_array_append_new(tags, json_pack("{s:s,s:s}", "Key", t->key, "Value", t->value))
                 ? CMEK_ERR_NOMEM
                 : 0;
    }
    rc = rc ? rc : s_set(out, "inline_policies", json_incref(inl));
    rc = rc ? rc : s_set(out, "attached_policies", json_incref(att));
    rc = rc ? rc : s_set(out, "tags", json_incref(tags));
    json_decref(inl);
    json_decref(att);
    json_decref(tags);
    return rc;
}

static json_t *s_managed_policy_to_json(const struct emu_iam_managed_policy *p)
{
    json_t *o = json_object();
    int rc = o ? CMEK_OK : CMEK_ERR_NOMEM;
    rc = rc ? rc : s_set(o, "name", json_string(p->name));
    rc = rc ? rc : s_set(o, "path", json_string(p->path));
    rc = rc ? rc : s_set(o, "id", json_string(p->id));
    if (p->description != NULL) {
        rc = rc ? rc : s_set(o, "description", json_string(p->description));
    }
    rc = rc ? rc : s_set(o, "create_date", s_time_json(p->create_ms));
    rc = rc ? rc : s_set(o, "document", emu_policy_to_json(p->doc));
    if (rc) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int s_account_to_json(const struct emu_iam *iam, const struct emu_iam_account *acct,
                             json_t *accounts)
{
    json_t *o = json_pack("{s:s,s:s,s:[],s:[],s:[]}", "id", acct->id, "name", acct->name, "users",
                          "roles", "policies");
    if (o == NULL || json_array_append_new(accounts, o)) {
        return CMEK_ERR_NOMEM;
    }
    int rc = CMEK_OK;
    for (size_t i = 0; rc == CMEK_OK && i < iam->users.len; i++) {
        struct emu_iam_user *u = iam->users.items[i];
        if (strcmp(u->ident.account, acct->id) != 0) {
            continue;
        }
        json_t *uj = json_object();
        json_t *keys = json_array();
        rc = (uj && keys) ? s_identity_to_json(&u->ident, uj) : CMEK_ERR_NOMEM;
        for (size_t k = 0; rc == CMEK_OK && k < iam->access_keys.len; k++) {
            struct emu_iam_access_key *key = iam->access_keys.items[k];
            if (strcmp(key->account, acct->id) != 0 || strcmp(key->user_name, u->ident.name)) {
                continue;
            }
            json_t *kj = json_pack("{s:s,s:s,s:s,s:o}", "id", key->id, "secret", key->secret,
                                   "status", key->active ? "Active" : "Inactive", "create_date",
                                   s_time_json(key->create_ms));
            rc = json_array_append_new(keys, kj) ? CMEK_ERR_NOMEM : 0;
        }
        rc = rc ? rc : s_set(uj, "access_keys", json_incref(keys));
        rc = rc ? rc : (json_array_append(json_object_get(o, "users"), uj) ? CMEK_ERR_NOMEM : 0);
        json_decref(keys);
        json_decref(uj);
    }
    for (size_t i = 0; rc == CMEK_OK && i < iam->roles.len; i++) {
        struct emu_iam_role *r = iam->roles.items[i];
        if (strcmp(r->ident.account, acct->id) != 0) {
            continue;
        }
        json_t *rj = json_object();
        rc = rj ? s_identity_to_json(&r->ident, rj) : CMEK_ERR_NOMEM;
        if (r->description != NULL) {
            rc = rc ? rc : s_set(rj, "description", json_string(r->description));
        }
        rc = rc ? rc : s_set(rj, "max_session_duration", json_integer(r->max_session_s));
        rc = rc ? rc : s_set(rj, "assume_role_policy", emu_policy_to_json(r->trust));
        rc = rc ? rc : (json_array_append(json_object_get(o, "roles"), rj) ? CMEK_ERR_NOMEM : 0);
        json_decref(rj);
    }
    for (size_t i = 0; rc == CMEK_OK && i < iam->policies.len; i++) {
        struct emu_iam_managed_policy *p = iam->policies.items[i];
        if (strcmp(p->account, acct->id) != 0) {
            continue;
        }
        json_t *pj = s_managed_policy_to_json(p);
        rc = pj == NULL || json_array_append_new(json_object_get(o, "policies"), pj)
                 ? CMEK_ERR_NOMEM
                 : 0;
    }
    return rc;
}

json_t *emu_iam_to_json(const struct emu_iam *iam)
{
    json_t *accounts = json_array();
    json_t *managed = json_array();
    int rc = (accounts && managed) ? CMEK_OK : CMEK_ERR_NOMEM;
    for (size_t i = 0; rc == CMEK_OK && i < iam->accounts.len; i++) {
        rc = s_account_to_json(iam, iam->accounts.items[i], accounts);
    }
    for (size_t i = 0; rc == CMEK_OK && i < iam->policies.len; i++) {
        struct emu_iam_managed_policy *p = iam->policies.items[i];
        if (strcmp(p->account, "aws") != 0) {
            continue;
        }
        json_t *pj = s_managed_policy_to_json(p);
        rc = pj == NULL || json_array_append_new(managed, pj) ? CMEK_ERR_NOMEM : 0;
    }
    json_t *out = NULL;
    if (rc == CMEK_OK) {
        out = json_pack("{s:O,s:O}", "accounts", accounts, "managed_policies", managed);
    }
    json_decref(accounts);
    json_decref(managed);
    return out;
}
