/* svc_vault.c: Vault's HTTP API under /v1/: token auth, namespaces, the response envelope and
 * error format (vault.md §4), sys/mounts (§4.4) and the keymgmt secrets engine (§1) with the
 * awskms provider, whose KMS side runs in vault_agent.c.
 *
 * Request handling: parse (method -> operation, token, namespace, body) -> authorize (the
 * world's tokens; a token of namespace N may use N and below) -> route (sys/ or the mount the
 * path falls in, then the keymgmt route table) -> the handler applies and renders. The store
 * lock is held throughout, except while the agent talks to KMS: a handler that needs KMS marks
 * the key busy, releases the lock, runs the agent, takes the lock again and finds the key anew
 * before committing.
 *
 * Where Vault's behaviour is unknown (vault.md §6) the choice is documented in README.md's
 * UNCERTAIN table. Deliberate differences: form-urlencoded bodies are not sniffed (JSON only);
 * unknown parameters are ignored without Vault's warning; only keymgmt can be mounted and only
 * awskms providers can be created. */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "cmek/crypto.h"
#include "service.h"
#include "store.h"
#include "vault_agent.h"
#include "vault_model.h"

#define S_PATH_MAX       1024
#define S_MAX_SEGMENTS   8
#define S_UNSUPPORTED    "1 error occurred:\n\t* unsupported path\n\n"
#define S_UNSUPPORTED_OP "1 error occurred:\n\t* unsupported operation\n\n"
#define S_DENIED         "permission denied"
#define S_DENIED_WRAPPED "1 error occurred:\n\t* permission denied\n\n"
#define S_INVALID_TOKEN  "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"
#define S_ALIAS_PREFIX   "alias/hashicorp/"

enum s_op { S_READ, S_LIST, S_WRITE, S_DELETE, S_PATCH };

struct s_ctx {
    struct emu_app *app;
    const struct emu_request *req;
    struct emu_response *resp;
    struct emu_vault *v;
    enum s_op op;
    char ns[EMU_VAULT_NAME_MAX + 1];
    char rel[S_PATH_MAX + 1]; /* the path after /v1/ and the namespace */
    json_t *body;             /* owned: the JSON object sent ({} when none) */
    struct emu_vault_mount *m;
    char mount_path[EMU_VAULT_NAME_MAX + 2];
    size_t n_seg;
    char seg[S_MAX_SEGMENTS][EMU_VAULT_NAME_MAX + 1]; /* the path within the mount */
};

/* ---- rendering ---- */

static void s_append(struct emu_response *resp, const char *text, int *rc)
{
    *rc = *rc ? *rc : cmek_buf_append_str(&resp->body, text);
}

/* {"errors":[message]} (none when message is NULL) with status. */
static void s_error(const struct emu_app *app, const struct emu_request *req,
                    struct emu_response *resp, int status, const char *code, const char *message)
{
    (void)app;
    (void)req;
    (void)code;
    resp->status = status;
    resp->content_type = "application/json";
    cmek_buf_reset(&resp->body);
    json_t *o = message ? json_pack("{s:[s]}", "errors", message) : json_pack("{s:[]}", "errors");
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    int rc = text ? CMEK_OK : CMEK_ERR_NOMEM;
    s_append(resp, text, &rc);
    s_append(resp, "\n", &rc);
    if (rc) {
        resp->status = 0;
    }
    free(text);
    json_decref(o);
}

static void s_fail(struct s_ctx *c, int status, const char *message)
{
    s_error(c->app, c->req, c->resp, status, NULL, message);
}

static void s_failf(struct s_ctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_failf(struct s_ctx *c, int status, const char *fmt, ...)
{
    char message[2560];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    s_fail(c, status, message);
}

static void s_not_found(struct s_ctx *c)
{
    s_fail(c, 404, NULL);
}

static void s_internal(struct s_ctx *c)
{
    c->resp->status = 0; /* emu_dispatch renders the 500 */
}

/* 204, empty body: every write and delete that returns no data. */
static void s_no_content(struct s_ctx *c)
{
    c->resp->status = 204;
    c->resp->content_type = "application/json";
    cmek_buf_reset(&c->resp->body);
}

/* 200 with Vault's envelope around data (stolen), keys of data sorted as Go prints maps. */
static void s_data(struct s_ctx *c, json_t *data, const char *mount_type)
{
    char *text = data ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(data);
    struct emu_response *resp = c->resp;
    cmek_buf_reset(&resp->body);
    int rc = text ? CMEK_OK : CMEK_ERR_NOMEM;
    rc = rc ? rc
            : cmek_buf_appendf(&resp->body,
                               "{\"request_id\":\"%s\",\"lease_id\":\"\",\"renewable\":false,"
                               "\"lease_duration\":0,\"data\":",
                               c->req->request_id);
    s_append(resp, text, &rc);
    rc = rc ? rc
            : cmek_buf_appendf(&resp->body,
                               ",\"wrap_info\":null,\"warnings\":null,\"auth\":null,"
                               "\"mount_type\":\"%s\"}\n",
                               mount_type);
    free(text);
    resp->status = rc ? 0 : 200;
    resp->content_type = "application/json";
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* A LIST answer: {"keys": names sorted} (stolen), or 404 {"errors":[]} when empty. */
static void s_list(struct s_ctx *c, json_t *names)
{
    size_t n = json_array_size(names);
    if (names == NULL) {
        s_internal(c);
        return;
    }
    if (n == 0) {
        json_decref(names);
        s_not_found(c);
        return;
    }
    json_t **items = calloc(n, sizeof(*items));
    json_t *sorted = json_array();
    if (items == NULL || sorted == NULL) {
        free(items);
        json_decref(sorted);
        json_decref(names);
        s_internal(c);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        items[i] = json_array_get(names, i);
    }
    qsort(items, n, sizeof(*items), s_cmp_str);
    for (size_t i = 0; i < n; i++) {
        json_array_append(sorted, items[i]);
    }
    free(items);
    json_decref(names);
    s_data(c, json_pack("{s:o}", "keys", sorted), "keymgmt");
}

/* ---- parameters, weakly typed as Vault's framework decodes them (vault.md §4.7) ---- */

static void s_conversion_error(struct s_ctx *c, const char *name, const json_t *value,
                               const char *as)
{
    char *raw = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
    s_failf(c, 400,
            "Field validation failed: error converting input %.200s for field \"%s\": "
            "cannot parse as %s",
            raw ? raw : "?", name, as);
    free(raw);
}

/* An int: a JSON integer or a decimal string. Returns false after answering 400. */
static bool s_param_int(struct s_ctx *c, const char *name, long long *out, bool *present)
{
    const json_t *v = json_object_get(c->body, name);
    *present = v != NULL && !json_is_null(v);
    if (!*present) {
        return true;
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    char *end = NULL;
    long long n = s && *s ? strtoll(s, &end, 10) : 0;
    if (s != NULL && (*s == '\0' || *end == '\0')) {
        *out = n;
        return true;
    }
    s_conversion_error(c, name, v, "int");
    return false;
}

/* A bool: JSON true/false, or Go's strconv.ParseBool strings, or 0/1. */
static bool s_param_bool(struct s_ctx *c, const char *name, bool *out, bool *present)
{
    static const char *const truthy[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const falsy[] = {"0", "f", "F", "FALSE", "false", "False"};
    const json_t *v = json_object_get(c->body, name);
    *present = v != NULL && !json_is_null(v);
    if (!*present) {
        return true;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_integer_value(v) == 1;
        return true;
    }
    const char *s = json_string_value(v);
    for (size_t i = 0; s != NULL && i < sizeof(truthy) / sizeof(truthy[0]); i++) {
        if (strcmp(s, truthy[i]) == 0 || strcmp(s, falsy[i]) == 0) {
            *out = strcmp(s, truthy[i]) == 0;
            return true;
        }
    }
    s_conversion_error(c, name, v, "bool");
    return false;
}

/* A string; numbers and bools are printed as strings. NULL when absent. */
static const char *s_param_str(struct s_ctx *c, const char *name, char *buf, size_t cap)
{
    const json_t *v = json_object_get(c->body, name);
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_boolean(v)) {
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
        return buf;
    }
    return NULL;
}

/* ---- request parsing ---- */

static bool s_valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EMU_VAULT_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '_' && ch != '-' && ch != '.') {
            return false;
        }
    }
    return isalnum((unsigned char)s[0]) || s[0] == '_';
}

static bool s_query_list(const struct emu_request *req)
{
    static const char *const forms[] = {"list=true", "list=1", "list=t", "list=True", "list=TRUE"};
    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        size_t n = strlen(forms[f]);
        for (size_t i = 0; i + n <= req->query.len; i++) {
            if ((i == 0 || req->query.ptr[i - 1] == '&') &&
                memcmp(req->query.ptr + i, forms[f], n) == 0 &&
                (i + n == req->query.len || req->query.ptr[i + n] == '&')) {
                return true;
            }
        }
    }
    return false;
}

/* Copies view without leading and trailing '/' into out; false when too long. */
static bool s_trim_slashes(struct cmek_view v, char *out, size_t cap)
{
    while (v.len > 0 && v.ptr[0] == '/') {
        v.ptr++;
        v.len--;
    }
    while (v.len > 0 && v.ptr[v.len - 1] == '/') {
        v.len--;
    }
    if (v.len >= cap) {
        return false;
    }
    memcpy(out, v.ptr, v.len);
    out[v.len] = '\0';
    return true;
}

/* The namespace from X-Vault-Namespace and then from known namespaces prefixed to the path
 * (vault.md §4.1: both ways are equivalent). Returns false when the header names a namespace
 * that does not exist. */
static bool s_resolve_namespace(struct s_ctx *c, const char *path)
{
    c->ns[0] = '\0';
    struct cmek_view h = emu_request_header(c->req, "X-Vault-Namespace");
    if (h.ptr != NULL && !s_trim_slashes(h, c->ns, sizeof(c->ns))) {
        return false;
    }
    if (!emu_vault_ns_exists(c->v, c->ns)) {
        return false;
    }
    bool progress = true;
    while (progress) {
        progress = false;
        size_t base = strlen(c->ns);
        for (size_t i = 0; i < c->v->n_ns; i++) {
            const char *n = c->v->namespaces[i];
            if (base > 0 && (strncmp(n, c->ns, base) != 0 || n[base] != '/')) {
                continue;
            }
            const char *child = base > 0 ? n + base + 1 : n;
            size_t len = strlen(child);
            if (len > 0 && strncmp(path, child, len) == 0 && path[len] == '/') {
                snprintf(c->ns, sizeof(c->ns), "%s", n);
                path += len + 1;
                progress = true;
                break;
            }
        }
    }
    snprintf(c->rel, sizeof(c->rel), "%s", path);
    return true;
}

static bool s_token_may_use(const struct emu_vault_token *t, const char *ns)
{
    size_t n = strlen(t->ns);
    return n == 0 || (strncmp(ns, t->ns, n) == 0 && (ns[n] == '\0' || ns[n] == '/'));
}

/* The request's JSON body as an object ({} for none, empty or `null`: the CLI's -f).
 * Returns false after answering 400. */
static bool s_parse_body(struct s_ctx *c)
{
    struct cmek_view b = c->req->body;
    size_t i = 0;
    while (i < b.len && isspace((unsigned char)b.ptr[i])) {
        i++;
    }
    json_error_t jerr;
    json_t *v = i == b.len
                    ? json_null()
                    : json_loadb(b.ptr, b.len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (json_is_null(v)) {
        json_decref(v);
        v = json_object();
    }
    if (!json_is_object(v)) {
        json_decref(v);
        s_fail(c, 400, "failed to parse JSON input: the body must be a JSON object");
        return false;
    }
    c->body = v;
    return true;
}

/* ---- sys/mounts (vault.md §4.4) ---- */

static json_t *s_mount_json(const struct emu_vault_mount *m)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:{s:i,s:i,s:b},s:b,s:b,s:b,s:n,s:s}", "type", m->type,
                     "description", m->description, "accessor", m->accessor, "uuid", m->uuid,
                     "config", "default_lease_ttl", 0, "max_lease_ttl", 0, "force_no_cache", 0,
                     "local", 0, "seal_wrap", 0, "external_entropy_access", 0, "options",
                     "plugin_version", "");
}

/* https://developer.hashicorp.com/vault/api-docs/system/mounts */
static void s_sys_mounts(struct s_ctx *c, const char *path)
{
    char norm[EMU_VAULT_NAME_MAX + 2];
    struct cmek_view pv = cmek_view_from_cstr(path);
    if (path[0] == '\0') {
        if (c->op != S_READ) {
            s_fail(c, 405, S_UNSUPPORTED_OP);
            return;
        }
        json_t *data = json_object();
        for (size_t i = 0; data != NULL && i < c->v->n_mounts; i++) {
            if (strcmp(c->v->mounts[i]->ns, c->ns) == 0) {
                json_object_set_new(data, c->v->mounts[i]->path, s_mount_json(c->v->mounts[i]));
            }
        }
        s_data(c, data, "system");
        return;
    }
    if (!s_trim_slashes(pv, norm, sizeof(norm) - 1) || norm[0] == '\0') {
        s_fail(c, 400, "invalid mount path");
        return;
    }
    size_t norm_len = strlen(norm); /* trimmed to sizeof - 2, so the '/' fits */
    norm[norm_len] = '/';
    norm[norm_len + 1] = '\0';
    struct emu_vault_mount *m = emu_vault_mount_find(c->v, c->ns, norm);
    switch (c->op) {
    case S_READ:
        if (m == NULL) {
            s_failf(c, 400, "No secret engine mount at %s", norm);
            return;
        }
        s_data(c, s_mount_json(m), "system");
        return;
    case S_DELETE:
        for (size_t i = 0; m != NULL && i < m->n_keys; i++) {
            if (m->keys[i]->busy) {
                s_fail(c, 400, "the mount has a key being updated; retry");
                return;
            }
        }
        if (m != NULL) {
            emu_vault_mount_remove(c->v, m);
        }
        s_no_content(c);
        return;
    case S_WRITE:
        break;
    case S_LIST:
    case S_PATCH:
    default:
        s_fail(c, 405, S_UNSUPPORTED_OP);
        return;
    }
    if (strncmp(norm, "sys/", 4) == 0 || strncmp(norm, "cubbyhole/", 10) == 0 ||
        strncmp(norm, "identity/", 9) == 0) {
        s_failf(c, 400, "cannot mount under %s", norm);
        return;
    }
    for (size_t i = 0; i < c->v->n_mounts; i++) {
        const struct emu_vault_mount *o = c->v->mounts[i];
        size_t a = strlen(o->path), b = strlen(norm);
        if (strcmp(o->ns, c->ns) == 0 && strncmp(o->path, norm, a < b ? a : b) == 0) {
            s_failf(c, 400, "path is already in use at %s", o->path);
            return;
        }
    }
    char tbuf[64], dbuf[8];
    const char *type = s_param_str(c, "type", tbuf, sizeof(tbuf));
    const char *description = s_param_str(c, "description", dbuf, sizeof(dbuf));
    if (type == NULL || type[0] == '\0') {
        s_fail(c, 400, "missing type");
        return;
    }
    if (strcmp(type, "keymgmt") != 0) {
        s_failf(c, 400, "plugin not found in the catalog: %.64s", type);
        return;
    }
    if (description != NULL && strlen(description) >= 256) {
        s_fail(c, 400, "description is too long");
        return;
    }
    int rc = emu_vault_mount_add(c->app, c->v, c->ns, norm, type, description ? description : "");
    if (rc == CMEK_ERR_LIMIT) {
        s_failf(c, 400, "the emulator holds at most %d mounts", EMU_VAULT_MAX_MOUNTS);
        return;
    }
    if (rc) {
        s_internal(c);
        return;
    }
    s_no_content(c);
}

/* ---- keymgmt: helpers ---- */

static int64_t s_now(struct s_ctx *c)
{
    return (int64_t)emu_store_now(c->app, c->app->store);
}

static bool s_not_busy(struct s_ctx *c, const struct emu_vault_key *k)
{
    if (k->busy) {
        s_failf(c, 400, "key \"%s\" is being updated by another request; retry", k->name);
        return false;
    }
    return true;
}

/* Copies the provider's credentials and region into job. */
static bool s_job_for(struct s_ctx *c, const struct emu_vault_provider *p,
                      const struct emu_vault_key *k, struct emu_vault_agent_job *job)
{
    memset(job, 0, sizeof(*job));
    if (p->access_key[0] == '\0' || p->secret_key[0] == '\0') {
        s_failf(c, 400,
                "KMS provider \"%s\" has no credentials: set access_key and secret_key (the "
                "emulator has no environment or instance credentials to fall back on)",
                p->name);
        return false;
    }
    snprintf(job->access_key, sizeof(job->access_key), "%s", p->access_key);
    snprintf(job->secret_key, sizeof(job->secret_key), "%s", p->secret_key);
    snprintf(job->session_token, sizeof(job->session_token), "%s", p->session_token);
    snprintf(job->region, sizeof(job->region), "%s", p->key_collection);
    snprintf(job->key_name, sizeof(job->key_name), "%s", k->name);
    snprintf(job->alias_name, sizeof(job->alias_name), S_ALIAS_PREFIX "%s-%lld", k->name,
             (long long)k->dist.time_s);
    return true;
}

/* Runs job with the lock released; afterwards the key (NULL when it went away with its mount)
 * is looked up again. Returns false after answering (internal failure or AWS refusal). */
static bool s_run_agent(struct s_ctx *c, struct emu_vault_key **k, struct emu_vault_agent_job *job,
                        const char *what)
{
    char name[EMU_VAULT_NAME_MAX + 1];
    snprintf(name, sizeof(name), "%s", (*k)->name);
    (*k)->busy = true;
    emu_store_unlock(c->app->store);
    int rc = emu_vault_agent_run(c->app, job);
    emu_store_lock(c->app->store);
    c->m = emu_vault_mount_find(c->v, c->ns, c->mount_path);
    *k = c->m ? emu_vault_key_find(c->m, name) : NULL;
    if (*k != NULL) {
        (*k)->busy = false;
    }
    if (rc) {
        s_internal(c);
        return false;
    }
    if (!job->ok) {
        emu_log(c->app, EMU_LOG_INFO, "vault: %s of %s failed: %s", what, name, job->message);
        s_failf(c, 400, "error %s key \"%s\": %s", what, name, job->message);
        return false;
    }
    if (*k == NULL) {
        s_failf(c, 400, "key \"%s\" went away while it was being updated", name);
        return false;
    }
    return true;
}

/* ---- keymgmt: keys (vault.md §1.1-1.7) ---- */

static struct emu_vault_key *s_key(struct s_ctx *c)
{
    return emu_vault_key_find(c->m, c->seg[1]);
}

/* LIST keymgmt/key */
static void s_key_list(struct s_ctx *c)
{
    json_t *names = json_array();
    for (size_t i = 0; names != NULL && i < c->m->n_keys; i++) {
        json_array_append_new(names, json_string(c->m->keys[i]->name));
    }
    s_list(c, names);
}

/* GET keymgmt/key/:name: the shape real Vault returns (`versions`, not the docs' `keys`),
 * listing only versions >= min_enabled_version (vault.md §1.2, observed). */
static void s_key_read(struct s_ctx *c)
{
    struct emu_vault_key *k = s_key(c);
    if (k == NULL) {
        s_not_found(c);
        return;
    }
    json_t *versions = json_object();
    for (size_t i = 0; versions != NULL && i < k->n_versions; i++) {
        const struct emu_vault_version *ver = &k->versions[i];
        if (ver->version < k->min_enabled_version) {
            continue;
        }
        char when[40], num[16];
        emu_vault_format_time(ver->created_s, when);
        snprintf(num, sizeof(num), "%d", ver->version);
        json_t *jv = json_pack("{s:s}", "creation_time", when);
        if (jv != NULL && ver->public_pem != NULL) {
            json_object_set_new(jv, "public_key", json_string(ver->public_pem));
        }
        json_object_set_new(versions, num, jv);
    }
    s_data(c,
           json_pack("{s:b,s:i,s:i,s:s,s:s,s:o*}", "deletion_allowed", k->deletion_allowed,
                     "latest_version", (int)k->n_versions, "min_enabled_version",
                     k->min_enabled_version, "name", k->name, "type", k->type, "versions",
                     versions),
           "keymgmt");
}

/* Plans the KMS side of a min_enabled_version change from old_min to new_min. */
static void s_plan_min(const struct emu_vault_key *k, int old_min, int new_min,
                       struct emu_vault_agent_job *job)
{
    for (size_t i = 0; i < k->dist.n; i++) {
        int ver = k->dist.v[i].version;
        if (ver < new_min && ver >= old_min) {
            snprintf(job->disable[job->n_disable++], sizeof(job->disable[0]), "%s",
                     k->dist.v[i].key_id);
        } else if (ver >= new_min && ver < old_min) {
            snprintf(job->enable[job->n_enable++], sizeof(job->enable[0]), "%s",
                     k->dist.v[i].key_id);
        }
    }
}

/* POST/PUT keymgmt/key/:name: create (only `type` counts) or update (min_enabled_version,
 * deletion_allowed). One path for both, as in Vault. */
static void s_key_write(struct s_ctx *c)
{
    char tbuf[32];
    const char *type = s_param_str(c, "type", tbuf, sizeof(tbuf));
    long long min = 0;
    bool has_min = false, allowed = false, has_allowed = false;
    if (!s_param_int(c, "min_enabled_version", &min, &has_min) ||
        !s_param_bool(c, "deletion_allowed", &allowed, &has_allowed)) {
        return;
    }
    struct emu_vault_key *k = s_key(c);
    if (k == NULL && has_min && min > 1) {
        s_fail(c, 400, "min_enabled_version must be between 0 and the latest version (1)");
        return;
    }
    if (k == NULL) {
        if (type == NULL || type[0] == '\0') {
            type = "rsa-2048"; /* the documented default */
        }
        if (!emu_vault_key_type_valid(type)) {
            s_failf(c, 400, "unsupported key type: %.64s", type);
            return;
        }
        int rc = emu_vault_key_add(c->app, c->m, c->seg[1], type, s_now(c), &k);
        if (rc == CMEK_ERR_LIMIT) {
            s_failf(c, 400, "the emulator holds at most %d keys per mount", EMU_VAULT_MAX_KEYS);
            return;
        }
        if (rc) {
            s_internal(c);
            return;
        }
    } else if (type != NULL && strcmp(type, k->type) != 0) {
        s_failf(c, 400, "key type cannot be changed after creation (it is %s)", k->type);
        return;
    }
    if (!s_not_busy(c, k)) {
        return;
    }
    if (has_min && (min < 0 || min > (long long)k->n_versions)) {
        s_failf(c, 400, "min_enabled_version must be between 0 and the latest version (%d)",
                (int)k->n_versions);
        return;
    }
    if (has_allowed) {
        k->deletion_allowed = allowed;
    }
    int new_min = has_min ? (min == 0 ? 1 : (int)min) : k->min_enabled_version;
    if (new_min != k->min_enabled_version && k->distributed) {
        const struct emu_vault_provider *p = emu_vault_provider_find(c->m, k->dist.provider);
        struct emu_vault_agent_job *job = calloc(1, sizeof(*job));
        if (job == NULL || p == NULL) {
            free(job);
            s_internal(c);
            return;
        }
        bool ok = s_job_for(c, p, k, job);
        if (ok) {
            s_plan_min(k, k->min_enabled_version, new_min, job);
            ok = s_run_agent(c, &k, job, "updating min_enabled_version of");
        }
        emu_vault_agent_job_clean_up(job);
        free(job);
        if (!ok) {
            return;
        }
    }
    k->min_enabled_version = new_min;
    s_no_content(c);
}

/* POST/PUT keymgmt/key/:name/rotate: a new version; when distributed, a new KMS key with the
 * new material and the alias moved to it (vault.md §2, manual rotation). */
static void s_key_rotate(struct s_ctx *c)
{
    struct emu_vault_key *k = s_key(c);
    if (k == NULL) {
        s_failf(c, 400, "key \"%s\" not found", c->seg[1]);
        return;
    }
    if (!s_not_busy(c, k)) {
        return;
    }
    int rc = emu_vault_key_rotate(c->app, k, s_now(c));
    if (rc == CMEK_ERR_LIMIT) {
        s_failf(c, 400, "the emulator holds at most %d versions per key", EMU_VAULT_MAX_VERSIONS);
        return;
    }
    if (rc) {
        s_internal(c);
        return;
    }
    if (!k->distributed) {
        s_no_content(c);
        return;
    }
    const struct emu_vault_provider *p = emu_vault_provider_find(c->m, k->dist.provider);
    struct emu_vault_agent_job *job = calloc(1, sizeof(*job));
    bool ok = job != NULL && p != NULL && s_job_for(c, p, k, job);
    if (ok) {
        const struct emu_vault_version *ver = &k->versions[k->n_versions - 1];
        job->n_import = 1;
        job->import[0].version = ver->version;
        memcpy(job->import[0].material, ver->material, sizeof(ver->material));
        job->alias_update = true;
        ok = s_run_agent(c, &k, job, "rotating");
        if (ok) {
            struct emu_vault_dist_version *dv = &k->dist.v[k->dist.n++];
            dv->version = job->import[0].version;
            snprintf(dv->key_id, sizeof(dv->key_id), "%s", job->import[0].key_id);
            snprintf(dv->arn, sizeof(dv->arn), "%s", job->import[0].arn);
        } else if (k != NULL && (int)k->n_versions == job->import[0].version) {
            /* KMS refused: the version is taken back so Vault and KMS stay in step. */
            k->n_versions--;
            struct emu_vault_version *last = &k->versions[k->n_versions];
            cmek_cleanse(last->material, sizeof(last->material));
            memset(last, 0, sizeof(*last));
        }
    } else if (job == NULL || p == NULL) {
        s_internal(c);
    }
    emu_vault_agent_job_clean_up(job);
    free(job);
    if (ok) {
        s_no_content(c);
    }
}

/* DELETE keymgmt/key/:name: only when removed from every provider and deletion_allowed. */
static void s_key_delete(struct s_ctx *c)
{
    struct emu_vault_key *k = s_key(c);
    if (k == NULL) {
        s_no_content(c);
        return;
    }
    if (!s_not_busy(c, k)) {
        return;
    }
    if (k->distributed) {
        s_failf(c, 400,
                "key \"%s\" is distributed to KMS provider \"%s\": remove it from every KMS "
                "provider before deleting it",
                k->name, k->dist.provider);
        return;
    }
    if (!k->deletion_allowed) {
        s_failf(c, 400, "deletion is not allowed for key \"%s\": set deletion_allowed to true",
                k->name);
        return;
    }
    emu_vault_key_remove(c->m, k);
    s_no_content(c);
}

/* LIST keymgmt/key/:name/kms */
static void s_key_kms_list(struct s_ctx *c)
{
    struct emu_vault_key *k = s_key(c);
    json_t *names = json_array();
    if (names != NULL && k != NULL && k->distributed) {
        json_array_append_new(names, json_string(k->dist.provider));
    }
    s_list(c, names);
}

/* ---- keymgmt: KMS providers (vault.md §1.8-1.11, §3) ---- */

static struct emu_vault_provider *s_provider(struct s_ctx *c)
{
    return emu_vault_provider_find(c->m, c->seg[1]);
}

static void s_kms_list(struct s_ctx *c)
{
    json_t *names = json_array();
    for (size_t i = 0; names != NULL && i < c->m->n_providers; i++) {
        json_array_append_new(names, json_string(c->m->providers[i]->name));
    }
    s_list(c, names);
}

static void s_kms_read(struct s_ctx *c)
{
    struct emu_vault_provider *p = s_provider(c);
    if (p == NULL) {
        s_not_found(c);
        return;
    }
    /* Credentials are write-only. */
    s_data(c, json_pack("{s:s,s:s}", "key_collection", p->key_collection, "provider", p->provider),
           "keymgmt");
}

struct s_creds {
    char access_key[EMU_VAULT_NAME_MAX + 1];
    char secret_key[EMU_VAULT_NAME_MAX + 1];
    char session_token[EMU_VAULT_SECRET_MAX + 1];
    char endpoint[256];
};

/* One "k=v" credential into creds; false after answering 400. */
static bool s_cred_set(struct s_ctx *c, struct s_creds *creds, const char *key, size_t key_len,
                       const char *value, const char *pair)
{
    static const struct {
        const char *name;
        size_t offset, cap;
    } fields[] = {
        {"access_key", offsetof(struct s_creds, access_key), EMU_VAULT_NAME_MAX + 1},
        {"secret_key", offsetof(struct s_creds, secret_key), EMU_VAULT_NAME_MAX + 1},
        {"session_token", offsetof(struct s_creds, session_token), EMU_VAULT_SECRET_MAX + 1},
        {"endpoint", offsetof(struct s_creds, endpoint), 256},
    };
    if (key_len == 0) {
        s_failf(c, 400, "invalid key pair \"%.200s\"", pair);
        return false;
    }
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strlen(fields[i].name) == key_len && memcmp(fields[i].name, key, key_len) == 0) {
            if (strlen(value) >= fields[i].cap) {
                s_failf(c, 400, "credential %s is too long", fields[i].name);
                return false;
            }
            snprintf((char *)creds + fields[i].offset, fields[i].cap, "%s", value);
            return true;
        }
    }
    s_failf(c, 400,
            "invalid credential \"%.*s\" for the awskms provider: use access_key, secret_key, "
            "session_token or endpoint",
            (int)(key_len > 64 ? 64 : key_len), key);
    return false;
}

/* A "k=v" pair, split on the first '='. */
static bool s_cred_pair(struct s_ctx *c, struct s_creds *creds, const char *pair)
{
    const char *eq = strchr(pair, '=');
    if (eq == NULL) {
        s_failf(c, 400, "invalid key pair \"%.200s\"", pair);
        return false;
    }
    return s_cred_set(c, creds, pair, (size_t)(eq - pair), eq + 1, pair);
}

/* `credentials` as Vault's TypeKVPairs takes it: an object, a list of "k=v", or one "k=v"
 * string (vault.md §3). */
static bool s_parse_creds(struct s_ctx *c, const json_t *v, struct s_creds *creds)
{
    if (json_is_object(v)) {
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *)v, key, val)
        {
            if (!json_is_string(val)) {
                s_failf(c, 400, "credential %.64s must be a string", key);
                return false;
            }
            if (!s_cred_set(c, creds, key, strlen(key), json_string_value(val), key)) {
                return false;
            }
        }
        return true;
    }
    if (json_is_string(v)) {
        return s_cred_pair(c, creds, json_string_value(v));
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item)) {
                s_fail(c, 400, "credentials must be key=value strings");
                return false;
            }
            if (!s_cred_pair(c, creds, json_string_value(item))) {
                return false;
            }
        }
        return true;
    }
    s_fail(c, 400, "credentials must be a map, a list of key=value strings or one such string");
    return false;
}

/* POST/PUT keymgmt/kms/:name: create, or update the credentials. */
static void s_kms_write(struct s_ctx *c)
{
    char b1[64], b2[64];
    const char *provider = s_param_str(c, "provider", b1, sizeof(b1));
    const char *region = s_param_str(c, "key_collection", b2, sizeof(b2));
    const json_t *jc = json_object_get(c->body, "credentials");
    struct s_creds *creds = calloc(1, sizeof(*creds));
    if (creds == NULL) {
        s_internal(c);
        return;
    }
    struct emu_vault_provider *p = s_provider(c);
    if (p == NULL) {
        if (provider == NULL || provider[0] == '\0') {
            s_fail(c, 400, "missing provider");
            goto done;
        }
        if (region == NULL || region[0] == '\0') {
            s_fail(c, 400, "missing key_collection");
            goto done;
        }
    } else if (provider != NULL && strcmp(provider, p->provider) != 0) {
        s_fail(c, 400, "provider cannot be changed after creation");
        goto done;
    } else if (region != NULL && strcmp(region, p->key_collection) != 0) {
        s_fail(c, 400, "key_collection cannot be changed after creation");
        goto done;
    }
    if (p == NULL && strcmp(provider, "awskms") != 0) {
        if (strcmp(provider, "azurekeyvault") == 0 || strcmp(provider, "gcpckms") == 0) {
            s_failf(c, 400, "the %s provider is not emulated: only awskms", provider);
        } else {
            s_failf(c, 400, "unsupported KMS provider type \"%.64s\"", provider);
        }
        goto done;
    }
    if (p == NULL && strlen(region) >= sizeof(p->key_collection)) {
        s_fail(c, 400, "key_collection is too long");
        goto done;
    }
    if (jc != NULL && !json_is_null(jc) && !s_parse_creds(c, jc, creds)) {
        goto done;
    }
    if (p == NULL) {
        int rc = emu_vault_provider_add(c->m, c->seg[1], &p);
        if (rc == CMEK_ERR_LIMIT) {
            s_failf(c, 400, "the emulator holds at most %d KMS providers per mount",
                    EMU_VAULT_MAX_PROVIDERS);
            goto done;
        }
        if (rc) {
            s_internal(c);
            goto done;
        }
        snprintf(p->provider, sizeof(p->provider), "%s", provider);
        snprintf(p->key_collection, sizeof(p->key_collection), "%s", region);
    }
    if (jc != NULL && !json_is_null(jc)) {
        snprintf(p->access_key, sizeof(p->access_key), "%s", creds->access_key);
        snprintf(p->secret_key, sizeof(p->secret_key), "%s", creds->secret_key);
        snprintf(p->session_token, sizeof(p->session_token), "%s", creds->session_token);
        snprintf(p->endpoint, sizeof(p->endpoint), "%s", creds->endpoint);
    }
    s_no_content(c);
done:
    cmek_cleanse(creds, sizeof(*creds));
    free(creds);
}

static void s_kms_delete(struct s_ctx *c)
{
    struct emu_vault_provider *p = s_provider(c);
    if (p == NULL) {
        s_no_content(c);
        return;
    }
    for (size_t i = 0; i < c->m->n_keys; i++) {
        const struct emu_vault_key *k = c->m->keys[i];
        if ((k->distributed || k->busy) && strcmp(k->dist.provider, p->name) == 0) {
            s_failf(c, 400,
                    "KMS provider \"%s\" still has keys distributed to it: remove them first",
                    p->name);
            return;
        }
    }
    emu_vault_provider_remove(c->m, p);
    s_no_content(c);
}

/* ---- keymgmt: distribution (vault.md §1.12-1.15, §2) ---- */

/* LIST keymgmt/kms/:name/key */
static void s_kms_key_list(struct s_ctx *c)
{
    struct emu_vault_provider *p = s_provider(c);
    json_t *names = json_array();
    for (size_t i = 0; names != NULL && p != NULL && i < c->m->n_keys; i++) {
        const struct emu_vault_key *k = c->m->keys[i];
        if (k->distributed && strcmp(k->dist.provider, p->name) == 0) {
            json_array_append_new(names, json_string(k->name));
        }
    }
    s_list(c, names);
}

static struct emu_vault_key *s_distributed(struct s_ctx *c)
{
    struct emu_vault_provider *p = s_provider(c);
    struct emu_vault_key *k = emu_vault_key_find(c->m, c->seg[3]);
    return p && k && k->distributed && strcmp(k->dist.provider, p->name) == 0 ? k : NULL;
}

/* GET keymgmt/kms/:name/key/:key_name: every distributed version's KMS key id, also those
 * below min_enabled_version (observed). */
static void s_kms_key_read(struct s_ctx *c)
{
    struct emu_vault_key *k = s_distributed(c);
    if (k == NULL) {
        s_not_found(c);
        return;
    }
    json_t *versions = json_object();
    for (size_t i = 0; versions != NULL && i < k->dist.n; i++) {
        char num[16];
        snprintf(num, sizeof(num), "%d", k->dist.v[i].version);
        json_object_set_new(versions, num, json_string(k->dist.v[i].key_id));
    }
    char when[40], name[EMU_VAULT_NAME_MAX + 32];
    emu_vault_format_time(k->dist.time_s, when);
    snprintf(name, sizeof(name), "%s-%lld", k->name, (long long)k->dist.time_s);
    s_data(c,
           json_pack("{s:s,s:s,s:s,s:s,s:o*}", "distribution_time", when, "name", name,
                     "protection", k->dist.protection, "purpose", k->dist.purpose, "versions",
                     versions),
           "keymgmt");
}

/* `purpose` as TypeCommaStringSlice: "a,b" or ["a","b"], into the sorted comma form. */
static bool s_parse_purpose(struct s_ctx *c, char *out, size_t cap)
{
    static const char *const all[] = {"decrypt", "encrypt", "sign", "unwrap", "verify", "wrap"};
    bool seen[6] = {false};
    const json_t *v = json_object_get(c->body, "purpose");
    char buf[256];
    buf[0] = '\0';
    if (json_is_string(v)) {
        snprintf(buf, sizeof(buf), "%s", json_string_value(v));
    } else if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            size_t n = strlen(buf);
            if (!json_is_string(item) ||
                (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "," : "",
                                 json_string_value(item)) >= sizeof(buf) - n) {
                s_fail(c, 400, "purpose must be a list of strings");
                return false;
            }
        }
    } else if (v != NULL && !json_is_null(v)) {
        s_fail(c, 400, "purpose must be a comma-separated string or a list of strings");
        return false;
    }
    size_t any = 0;
    for (char *tok = buf, *next = NULL; tok != NULL; tok = next) {
        char *comma = strchr(tok, ',');
        next = comma ? comma + 1 : NULL;
        if (comma != NULL) {
            *comma = '\0';
        }
        while (*tok == ' ') {
            tok++;
        }
        if (*tok == '\0') {
            continue;
        }
        size_t i = 0;
        for (; i < 6 && strcmp(tok, all[i]) != 0; i++) {
        }
        if (i == 6) {
            s_failf(c, 400, "invalid purpose \"%.64s\"", tok);
            return false;
        }
        if (strcmp(tok, "encrypt") != 0 && strcmp(tok, "decrypt") != 0) {
            s_failf(c, 400,
                    "purpose \"%s\" is not supported by the awskms provider: use encrypt and "
                    "decrypt",
                    tok);
            return false;
        }
        seen[i] = true;
        any++;
    }
    if (any == 0) {
        s_fail(c, 400, "at least one purpose is required");
        return false;
    }
    out[0] = '\0';
    for (size_t i = 0; i < 6; i++) {
        if (seen[i]) {
            size_t n = strlen(out);
            snprintf(out + n, cap - n, "%s%s", n ? "," : "", all[i]);
        }
    }
    return true;
}

/* POST/PUT keymgmt/kms/:name/key/:key_name: every version becomes its own KMS key with
 * imported material; the alias points at the newest (vault.md §2). */
static void s_kms_key_write(struct s_ctx *c)
{
    struct emu_vault_provider *p = s_provider(c);
    struct emu_vault_key *k = emu_vault_key_find(c->m, c->seg[3]);
    char purpose[32], pbuf[32];
    if (p == NULL) {
        s_failf(c, 400, "KMS provider \"%s\" not found", c->seg[1]);
        return;
    }
    if (k == NULL) {
        s_failf(c, 400, "key \"%s\" not found", c->seg[3]);
        return;
    }
    if (!s_not_busy(c, k)) {
        return;
    }
    if (k->distributed) {
        if (strcmp(k->dist.provider, p->name) == 0) {
            s_failf(c, 400, "key \"%s\" is already distributed to KMS provider \"%s\"", k->name,
                    p->name);
        } else {
            s_failf(c, 400,
                    "key \"%s\" is distributed to KMS provider \"%s\": a key can only be "
                    "distributed to a single KMS provider",
                    k->name, k->dist.provider);
        }
        return;
    }
    if (strcmp(k->type, "aes256-gcm96") != 0) {
        s_failf(c, 400, "key type \"%s\" is not supported by the awskms provider", k->type);
        return;
    }
    if (!s_parse_purpose(c, purpose, sizeof(purpose))) {
        return;
    }
    const char *protection = s_param_str(c, "protection", pbuf, sizeof(pbuf));
    if (protection == NULL || protection[0] == '\0') {
        protection = "hsm";
    }
    if (strcmp(protection, "software") == 0) {
        s_fail(c, 400, "protection \"software\" is not supported by the awskms provider: use hsm");
        return;
    }
    if (strcmp(protection, "hsm") != 0) {
        s_failf(c, 400, "invalid protection \"%.64s\"", protection);
        return;
    }
    struct emu_vault_agent_job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        s_internal(c);
        return;
    }
    k->dist.time_s = s_now(c);
    bool ok = s_job_for(c, p, k, job);
    if (ok) {
        for (size_t i = 0; i < k->n_versions; i++) {
            struct emu_vault_agent_import *im = &job->import[job->n_import++];
            im->version = k->versions[i].version;
            im->disable = im->version < k->min_enabled_version;
            memcpy(im->material, k->versions[i].material, sizeof(im->material));
        }
        job->alias_create = true;
        int64_t when = k->dist.time_s;
        snprintf(k->dist.provider, sizeof(k->dist.provider), "%s", p->name);
        ok = s_run_agent(c, &k, job, "distributing");
        if (ok) {
            struct emu_vault_distribution *d = &k->dist;
            snprintf(d->purpose, sizeof(d->purpose), "%s", purpose);
            snprintf(d->protection, sizeof(d->protection), "%s", protection);
            d->time_s = when;
            d->n = job->n_import;
            for (size_t i = 0; i < job->n_import; i++) {
                d->v[i].version = job->import[i].version;
                snprintf(d->v[i].key_id, sizeof(d->v[i].key_id), "%s", job->import[i].key_id);
                snprintf(d->v[i].arn, sizeof(d->v[i].arn), "%s", job->import[i].arn);
            }
            k->distributed = true;
            s_no_content(c);
        } else if (k != NULL) {
            memset(&k->dist, 0, sizeof(k->dist));
        }
    } else {
        memset(&k->dist, 0, sizeof(k->dist));
    }
    emu_vault_agent_job_clean_up(job);
    free(job);
}

/* DELETE keymgmt/kms/:name/key/:key_name: the alias is deleted and every version's KMS key
 * scheduled for deletion; Vault keeps the key. Idempotent ("if it existed"). */
static void s_kms_key_delete(struct s_ctx *c)
{
    struct emu_vault_key *k = s_distributed(c);
    if (k == NULL) {
        s_no_content(c);
        return;
    }
    if (!s_not_busy(c, k)) {
        return;
    }
    struct emu_vault_agent_job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        s_internal(c);
        return;
    }
    bool ok = s_job_for(c, s_provider(c), k, job);
    if (ok) {
        job->alias_delete = true;
        for (size_t i = 0; i < k->dist.n; i++) {
            snprintf(job->delete_ids[job->n_delete++], sizeof(job->delete_ids[0]), "%s",
                     k->dist.v[i].key_id);
        }
        ok = s_run_agent(c, &k, job, "removing");
    }
    if (ok) {
        k->distributed = false;
        memset(&k->dist, 0, sizeof(k->dist));
        s_no_content(c);
    }
    emu_vault_agent_job_clean_up(job);
    free(job);
}

/* ---- routing ---- */

static const struct s_route {
    const char *pattern; /* segments; '*' is a name */
    enum s_op op;
    void (*handle)(struct s_ctx *c);
} s_keymgmt_routes[] = {
    {"key", S_LIST, s_key_list},
    {"key/*", S_READ, s_key_read},
    {"key/*", S_WRITE, s_key_write},
    {"key/*", S_DELETE, s_key_delete},
    {"key/*/rotate", S_WRITE, s_key_rotate},
    {"key/*/kms", S_LIST, s_key_kms_list},
    {"kms", S_LIST, s_kms_list},
    {"kms/*", S_READ, s_kms_read},
    {"kms/*", S_WRITE, s_kms_write},
    {"kms/*", S_DELETE, s_kms_delete},
    {"kms/*/key", S_LIST, s_kms_key_list},
    {"kms/*/key/*", S_READ, s_kms_key_read},
    {"kms/*/key/*", S_WRITE, s_kms_key_write},
    {"kms/*/key/*", S_DELETE, s_kms_key_delete},
};

static bool s_pattern_matches(const struct s_ctx *c, const char *pattern)
{
    size_t i = 0;
    const char *p = pattern;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (i >= c->n_seg) {
            return false;
        }
        if (len == 1 && p[0] == '*') {
            if (!s_valid_name(c->seg[i])) {
                return false;
            }
        } else if (strlen(c->seg[i]) != len || memcmp(c->seg[i], p, len) != 0) {
            return false;
        }
        i++;
        p += len + (end ? 1 : 0);
    }
    return i == c->n_seg;
}

/* Splits the path within the mount into segments; a trailing '/' (LIST) is dropped. */
static bool s_split(struct s_ctx *c, const char *rest)
{
    c->n_seg = 0;
    char buf[S_PATH_MAX + 1];
    snprintf(buf, sizeof(buf), "%s", rest);
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '/') {
        buf[n - 1] = '\0';
    }
    if (buf[0] == '\0') {
        return true;
    }
    char *p = buf;
    while (p != NULL) {
        char *slash = strchr(p, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
        size_t len = strlen(p);
        if (c->n_seg >= S_MAX_SEGMENTS || len > EMU_VAULT_NAME_MAX) {
            return false;
        }
        memcpy(c->seg[c->n_seg], p, len + 1);
        c->n_seg++;
        p = slash ? slash + 1 : NULL;
    }
    return true;
}

static void s_keymgmt(struct s_ctx *c, const char *rest)
{
    if (!s_split(c, rest)) {
        s_fail(c, 404, S_UNSUPPORTED);
        return;
    }
    bool path_known = false;
    for (size_t i = 0; i < sizeof(s_keymgmt_routes) / sizeof(s_keymgmt_routes[0]); i++) {
        const struct s_route *r = &s_keymgmt_routes[i];
        if (!s_pattern_matches(c, r->pattern)) {
            continue;
        }
        path_known = true;
        if (r->op == c->op) {
            r->handle(c);
            return;
        }
    }
    s_fail(c, path_known ? 405 : 404, path_known ? S_UNSUPPORTED_OP : S_UNSUPPORTED);
}

static bool s_is_sys(const char *rel)
{
    return strncmp(rel, "sys/", 4) == 0 || strcmp(rel, "sys") == 0;
}

/* The mount the path falls in: the longest mount path that prefixes it; NULL when none. */
static struct emu_vault_mount *s_find_mount(const struct s_ctx *c)
{
    struct emu_vault_mount *best = NULL;
    size_t rel_len = strlen(c->rel);
    for (size_t i = 0; i < c->v->n_mounts; i++) {
        struct emu_vault_mount *m = c->v->mounts[i];
        size_t n = strlen(m->path);
        bool match = strcmp(m->ns, c->ns) == 0 &&
                     ((rel_len + 1 == n && strncmp(c->rel, m->path, rel_len) == 0) ||
                      (rel_len >= n && strncmp(c->rel, m->path, n) == 0));
        if (match && (best == NULL || n > strlen(best->path))) {
            best = m;
        }
    }
    return best;
}

static void s_route(struct s_ctx *c)
{
    if (strcmp(c->rel, "sys/mounts") == 0 || strncmp(c->rel, "sys/mounts/", 11) == 0) {
        s_sys_mounts(c, c->rel[10] == '/' ? c->rel + 11 : "");
        return;
    }
    if (s_is_sys(c->rel)) {
        s_fail(c, 404, S_UNSUPPORTED);
        return;
    }
    struct emu_vault_mount *best = s_find_mount(c);
    if (best == NULL) {
        s_failf(c, 404, "no handler for route \"%.400s\". route entry not found.", c->rel);
        return;
    }
    c->m = best;
    snprintf(c->mount_path, sizeof(c->mount_path), "%s", best->path);
    size_t n = strlen(best->path);
    s_keymgmt(c, strlen(c->rel) >= n ? c->rel + n : "");
}

static void s_handle(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    struct s_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        resp->status = 0;
        return;
    }
    c->app = app;
    c->req = req;
    c->resp = resp;
    emu_response_add_header(resp, "Cache-Control", "no-store");
    static const struct {
        const char *method;
        enum s_op op;
    } methods[] = {{"GET", S_READ},  {"LIST", S_LIST},     {"POST", S_WRITE},
                   {"PUT", S_WRITE}, {"DELETE", S_DELETE}, {"PATCH", S_PATCH}};
    size_t mi = 0;
    for (; mi < sizeof(methods) / sizeof(methods[0]); mi++) {
        if (strcmp(req->method, methods[mi].method) == 0) {
            break;
        }
    }
    if (mi == sizeof(methods) / sizeof(methods[0])) {
        s_fail(c, 405, NULL);
        free(c);
        return;
    }
    c->op = methods[mi].op;
    if (c->op == S_READ && s_query_list(req)) {
        c->op = S_LIST;
    }
    /* X-Vault-Token, else Authorization: Bearer. */
    char token[EMU_VAULT_NAME_MAX + 1] = "";
    struct cmek_view tv = emu_request_header(req, "X-Vault-Token");
    if (tv.ptr == NULL) {
        struct cmek_view a = emu_request_header(req, "Authorization");
        if (a.ptr != NULL && a.len > 7 && strncasecmp(a.ptr, "Bearer ", 7) == 0) {
            tv.ptr = a.ptr + 7;
            tv.len = a.len - 7;
        }
    }
    if (tv.ptr != NULL && tv.len < sizeof(token)) {
        memcpy(token, tv.ptr, tv.len);
        token[tv.len] = '\0';
    }
    char path[S_PATH_MAX + 1];
    size_t plen = req->path.len > 4 ? req->path.len - 4 : 0;
    if (plen > S_PATH_MAX) {
        s_fail(c, 404, S_UNSUPPORTED);
        free(c);
        return;
    }
    memcpy(path, req->path.ptr + 4, plen);
    path[plen] = '\0';
    emu_store_lock(app->store);
    c->v = &app->store->vault;
    const struct emu_vault_token *t = token[0] ? emu_vault_token_find(c->v, token) : NULL;
    bool ns_ok = s_resolve_namespace(c, path);
    if (ns_ok && !s_is_sys(c->rel) && s_find_mount(c) == NULL) {
        /* Deliberate difference: a path outside every mount is "no handler" even without a
         * valid token (Vault checks the token first), so a client learns the engine is not
         * mounted; README.md's Vault table. */
        s_failf(c, 404, "no handler for route \"%.400s\". route entry not found.", c->rel);
    } else if (tv.ptr == NULL || tv.len == 0) {
        s_fail(c, 403, S_DENIED);
    } else if (t == NULL) {
        s_fail(c, 403, S_INVALID_TOKEN);
    } else if (!ns_ok || !s_token_may_use(t, c->ns)) {
        s_fail(c, 403, S_DENIED_WRAPPED);
    } else if (c->op != S_WRITE || s_parse_body(c)) {
        if (c->body == NULL) {
            c->body = json_object();
        }
        if (c->body == NULL) {
            s_internal(c);
        } else {
            s_route(c);
        }
    }
    emu_store_unlock(app->store);
    json_decref(c->body);
    free(c);
}

const struct emu_service emu_service_vault = {
    .name = "vault",
    .handle = s_handle,
    .render_error = s_error,
};
