/* vault_model.c: Vault's state (vault_model.h): tokens, namespaces, mounts, keymgmt keys with
 * real key material, KMS providers and distributions, and their world form. */
#include "vault_model.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cmek/crypto.h"
#include "iam_model.h"

#define S_PEM_MAX 16384

static const struct {
    const char *name;
    const char *algorithm; /* EVP_PKEY_Q_keygen: "RSA" or "EC"; NULL for AES */
    int bits;
    const char *curve;
} s_key_types[] = {
    {"aes256-gcm96", NULL, 0, NULL},  {"rsa-2048", "RSA", 2048, NULL},
    {"rsa-3072", "RSA", 3072, NULL},  {"rsa-4096", "RSA", 4096, NULL},
    {"ecdsa-p256", "EC", 0, "P-256"}, {"ecdsa-p384", "EC", 0, "P-384"},
    {"ecdsa-p521", "EC", 0, "P-521"},
};

static int s_type_index(const char *type)
{
    for (size_t i = 0; i < sizeof(s_key_types) / sizeof(s_key_types[0]); i++) {
        if (strcmp(s_key_types[i].name, type) == 0) {
            return (int)i;
        }
    }
    return -1;
}

bool emu_vault_key_type_valid(const char *type)
{
    return s_type_index(type) >= 0;
}

bool emu_vault_key_type_symmetric(const char *type)
{
    int i = s_type_index(type);
    return i >= 0 && s_key_types[i].algorithm == NULL;
}

static bool s_copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        return false;
    }
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    return true;
}

void emu_vault_format_time(int64_t s, char out[40])
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000000000Z", &tm);
}

/* "YYYY-MM-DDTHH:MM:SS..." (what emu_vault_format_time writes) to Unix seconds; 0 when
 * malformed. */
static int64_t s_parse_time(const char *text)
{
    static const int starts[] = {0, 5, 8, 11, 14, 17};
    static const int widths[] = {4, 2, 2, 2, 2, 2};
    int f[6] = {0};
    if (text == NULL || strlen(text) < 19) {
        return 0;
    }
    for (size_t i = 0; i < 6; i++) {
        for (int j = 0; j < widths[i]; j++) {
            char ch = text[starts[i] + j];
            if (ch < '0' || ch > '9') {
                return 0;
            }
            f[i] = f[i] * 10 + (ch - '0');
        }
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = f[0] - 1900;
    tm.tm_mon = f[1] - 1;
    tm.tm_mday = f[2];
    tm.tm_hour = f[3];
    tm.tm_min = f[4];
    tm.tm_sec = f[5];
    return (int64_t)timegm(&tm);
}

/* ---- lifecycle ---- */

static void s_version_clean_up(struct emu_vault_version *ver)
{
    cmek_cleanse(ver->material, sizeof(ver->material));
    if (ver->private_pem != NULL) {
        cmek_cleanse_str(ver->private_pem);
    }
    free(ver->private_pem);
    free(ver->public_pem);
    memset(ver, 0, sizeof(*ver));
}

static void s_key_destroy(struct emu_vault_key *k)
{
    if (k == NULL) {
        return;
    }
    for (size_t i = 0; i < k->n_versions; i++) {
        s_version_clean_up(&k->versions[i]);
    }
    free(k);
}

static void s_provider_destroy(struct emu_vault_provider *p)
{
    if (p == NULL) {
        return;
    }
    cmek_cleanse(p, sizeof(*p));
    free(p);
}

static void s_mount_destroy(struct emu_vault_mount *m)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < m->n_keys; i++) {
        s_key_destroy(m->keys[i]);
    }
    for (size_t i = 0; i < m->n_providers; i++) {
        s_provider_destroy(m->providers[i]);
    }
    free(m);
}

void emu_vault_init(struct emu_vault *v)
{
    memset(v, 0, sizeof(*v));
}

void emu_vault_clean_up(struct emu_vault *v)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < v->n_tokens; i++) {
        json_decref(v->tokens[i].policies);
    }
    for (size_t i = 0; i < v->n_mounts; i++) {
        s_mount_destroy(v->mounts[i]);
    }
    memset(v, 0, sizeof(*v));
}

/* ---- lookups ---- */

const struct emu_vault_token *emu_vault_token_find(const struct emu_vault *v, const char *id)
{
    for (size_t i = 0; i < v->n_tokens; i++) {
        if (cmek_consttime_eq(v->tokens[i].id, strlen(v->tokens[i].id), id, strlen(id))) {
            return &v->tokens[i];
        }
    }
    return NULL;
}

bool emu_vault_ns_exists(const struct emu_vault *v, const char *ns)
{
    if (ns[0] == '\0') {
        return true;
    }
    for (size_t i = 0; i < v->n_ns; i++) {
        if (strcmp(v->namespaces[i], ns) == 0) {
            return true;
        }
    }
    return false;
}

struct emu_vault_mount *emu_vault_mount_find(const struct emu_vault *v, const char *ns,
                                             const char *path)
{
    for (size_t i = 0; i < v->n_mounts; i++) {
        if (strcmp(v->mounts[i]->ns, ns) == 0 && strcmp(v->mounts[i]->path, path) == 0) {
            return v->mounts[i];
        }
    }
    return NULL;
}

struct emu_vault_key *emu_vault_key_find(const struct emu_vault_mount *m, const char *name)
{
    for (size_t i = 0; i < m->n_keys; i++) {
        if (strcmp(m->keys[i]->name, name) == 0) {
            return m->keys[i];
        }
    }
    return NULL;
}

struct emu_vault_provider *emu_vault_provider_find(const struct emu_vault_mount *m,
                                                   const char *name)
{
    for (size_t i = 0; i < m->n_providers; i++) {
        if (strcmp(m->providers[i]->name, name) == 0) {
            return m->providers[i];
        }
    }
    return NULL;
}

/* ---- changes ---- */

int emu_vault_mount_add(struct emu_app *app, struct emu_vault *v, const char *ns, const char *path,
                        const char *type, const char *description)
{
    if (v->n_mounts >= EMU_VAULT_MAX_MOUNTS) {
        return CMEK_ERR_LIMIT;
    }
    struct emu_vault_mount *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return CMEK_ERR_NOMEM;
    }
    uint8_t rnd[4];
    int rc = CMEK_OK;
    if (!s_copy(m->ns, sizeof(m->ns), ns) || !s_copy(m->path, sizeof(m->path), path) ||
        !s_copy(m->type, sizeof(m->type), type) ||
        !s_copy(m->description, sizeof(m->description), description)) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    rc = app->sys.random_bytes(app->sys.ctx, rnd, sizeof(rnd));
    rc = rc ? rc : emu_uuid4(app, m->uuid);
    if (rc) {
        goto done;
    }
    char hex[9];
    cmek_hex_encode(rnd, sizeof(rnd), hex);
    snprintf(m->accessor, sizeof(m->accessor), "%s_%s", type, hex);
    v->mounts[v->n_mounts++] = m;
    m = NULL;
done:
    free(m);
    return rc;
}

void emu_vault_mount_remove(struct emu_vault *v, struct emu_vault_mount *m)
{
    for (size_t i = 0; i < v->n_mounts; i++) {
        if (v->mounts[i] == m) {
            s_mount_destroy(m);
            v->mounts[i] = v->mounts[--v->n_mounts];
            return;
        }
    }
}

/* The PEM of pkey's public half (owned), or NULL. */
static char *s_public_pem(EVP_PKEY *pkey, bool private_part)
{
    char *out = NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = bio != NULL &&
             (private_part ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                           : PEM_write_bio_PUBKEY(bio, pkey));
    char *data = NULL;
    long len = ok ? BIO_get_mem_data(bio, &data) : 0;
    if (ok && len > 0 && len < S_PEM_MAX) {
        out = malloc((size_t)len + 1);
        if (out != NULL) {
            memcpy(out, data, (size_t)len);
            out[len] = '\0';
        }
    }
    if (bio != NULL && private_part && data != NULL && len > 0) {
        cmek_cleanse(data, (size_t)len);
    }
    BIO_free(bio);
    return out;
}

/* Fills ver's public PEM from its private PEM. */
static int s_derive_public(struct emu_vault_version *ver)
{
    BIO *bio = BIO_new_mem_buf(ver->private_pem, -1);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    ver->public_pem = pkey ? s_public_pem(pkey, false) : NULL;
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    return ver->public_pem ? CMEK_OK : CMEK_ERR_CRYPTO;
}

static int s_generate(struct emu_app *app, const char *type, struct emu_vault_version *ver)
{
    int i = s_type_index(type);
    if (i < 0) {
        return CMEK_ERR_INVALID_ARG;
    }
    if (s_key_types[i].algorithm == NULL) {
        return app->sys.random_bytes(app->sys.ctx, ver->material, sizeof(ver->material))
                   ? CMEK_ERR_CRYPTO
                   : CMEK_OK;
    }
    EVP_PKEY *pkey = s_key_types[i].curve
                         ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", s_key_types[i].curve)
                         : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)s_key_types[i].bits);
    int rc = CMEK_ERR_CRYPTO;
    if (pkey != NULL) {
        ver->private_pem = s_public_pem(pkey, true);
        ver->public_pem = s_public_pem(pkey, false);
        rc = ver->private_pem && ver->public_pem ? CMEK_OK : CMEK_ERR_CRYPTO;
    }
    EVP_PKEY_free(pkey);
    return rc;
}

int emu_vault_key_add(struct emu_app *app, struct emu_vault_mount *m, const char *name,
                      const char *type, int64_t now_s, struct emu_vault_key **out)
{
    *out = NULL;
    if (m->n_keys >= EMU_VAULT_MAX_KEYS) {
        return CMEK_ERR_LIMIT;
    }
    struct emu_vault_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return CMEK_ERR_NOMEM;
    }
    int rc = CMEK_OK;
    if (!s_copy(k->name, sizeof(k->name), name) || !s_copy(k->type, sizeof(k->type), type)) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    k->min_enabled_version = 1;
    rc = emu_vault_key_rotate(app, k, now_s);
    if (rc) {
        goto done;
    }
    m->keys[m->n_keys++] = k;
    *out = k;
    k = NULL;
done:
    s_key_destroy(k);
    return rc;
}

int emu_vault_key_rotate(struct emu_app *app, struct emu_vault_key *k, int64_t now_s)
{
    if (k->n_versions >= EMU_VAULT_MAX_VERSIONS) {
        return CMEK_ERR_LIMIT;
    }
    struct emu_vault_version *ver = &k->versions[k->n_versions];
    memset(ver, 0, sizeof(*ver));
    int rc = s_generate(app, k->type, ver);
    if (rc) {
        s_version_clean_up(ver);
        return rc;
    }
    ver->version = (int)k->n_versions + 1;
    ver->created_s = now_s;
    k->n_versions++;
    return CMEK_OK;
}

void emu_vault_key_remove(struct emu_vault_mount *m, struct emu_vault_key *k)
{
    for (size_t i = 0; i < m->n_keys; i++) {
        if (m->keys[i] == k) {
            s_key_destroy(k);
            memmove(&m->keys[i], &m->keys[i + 1], (m->n_keys - i - 1) * sizeof(m->keys[0]));
            m->n_keys--;
            return;
        }
    }
}

int emu_vault_provider_add(struct emu_vault_mount *m, const char *name,
                           struct emu_vault_provider **out)
{
    *out = NULL;
    if (m->n_providers >= EMU_VAULT_MAX_PROVIDERS) {
        return CMEK_ERR_LIMIT;
    }
    struct emu_vault_provider *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return CMEK_ERR_NOMEM;
    }
    if (!s_copy(p->name, sizeof(p->name), name)) {
        free(p);
        return CMEK_ERR_INVALID_ARG;
    }
    m->providers[m->n_providers++] = p;
    *out = p;
    return CMEK_OK;
}

void emu_vault_provider_remove(struct emu_vault_mount *m, struct emu_vault_provider *p)
{
    for (size_t i = 0; i < m->n_providers; i++) {
        if (m->providers[i] == p) {
            s_provider_destroy(p);
            memmove(&m->providers[i], &m->providers[i + 1],
                    (m->n_providers - i - 1) * sizeof(m->providers[0]));
            m->n_providers--;
            return;
        }
    }
}

/* ---- world form ---- */

static const char *s_str(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s ? s : "";
}

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

static int s_load_key(struct emu_vault_mount *m, const json_t *jk, struct emu_load_error *err)
{
    const char *name = s_str(jk, "name");
    if (m->n_keys >= EMU_VAULT_MAX_KEYS || name[0] == '\0' || emu_vault_key_find(m, name)) {
        return s_fail(err, "vault: invalid or duplicate key \"%s\"", name);
    }
    struct emu_vault_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return CMEK_ERR_NOMEM;
    }
    m->keys[m->n_keys++] = k;
    if (!s_copy(k->name, sizeof(k->name), name) ||
        !s_copy(k->type, sizeof(k->type), s_str(jk, "type")) ||
        !emu_vault_key_type_valid(k->type)) {
        return s_fail(err, "vault: key \"%s\" has no valid type", name);
    }
    k->min_enabled_version = (int)json_integer_value(json_object_get(jk, "min_enabled_version"));
    k->deletion_allowed = json_is_true(json_object_get(jk, "deletion_allowed"));
    const json_t *versions = json_object_get(jk, "versions");
    size_t i;
    const json_t *jv;
    json_array_foreach(versions, i, jv)
    {
        if (k->n_versions >= EMU_VAULT_MAX_VERSIONS) {
            return s_fail(err, "vault: key \"%s\" has too many versions", name);
        }
        struct emu_vault_version *ver = &k->versions[k->n_versions++];
        ver->version = (int)k->n_versions;
        ver->created_s = s_parse_time(s_str(jv, "creation_time"));
        if (emu_vault_key_type_symmetric(k->type)) {
            struct cmek_buf raw;
            cmek_buf_init(&raw, 64);
            const char *b64 = s_str(jv, "material");
            int rc = cmek_base64_decode(b64, strlen(b64), &raw);
            bool ok = rc == CMEK_OK && raw.len == EMU_VAULT_AES_BYTES;
            if (ok) {
                memcpy(ver->material, raw.data, EMU_VAULT_AES_BYTES);
                cmek_cleanse(raw.data, raw.len);
            }
            cmek_buf_clean_up(&raw);
            if (!ok) {
                return s_fail(err, "vault: key \"%s\" has a version without 32 bytes of material",
                              name);
            }
        } else {
            ver->private_pem = strdup(s_str(jv, "private_key"));
            if (ver->private_pem == NULL || s_derive_public(ver)) {
                return s_fail(err, "vault: key \"%s\" has a version without a private_key", name);
            }
        }
    }
    if (k->n_versions == 0 || k->min_enabled_version < 1 ||
        k->min_enabled_version > (int)k->n_versions) {
        return s_fail(err, "vault: key \"%s\" needs versions and a valid min_enabled_version",
                      name);
    }
    const json_t *jd = json_object_get(jk, "distribution");
    if (jd != NULL) {
        struct emu_vault_distribution *d = &k->dist;
        k->distributed = true;
        if (!s_copy(d->provider, sizeof(d->provider), s_str(jd, "provider")) ||
            !emu_vault_provider_find(m, d->provider) ||
            !s_copy(d->purpose, sizeof(d->purpose), s_str(jd, "purpose")) ||
            !s_copy(d->protection, sizeof(d->protection), s_str(jd, "protection"))) {
            return s_fail(err, "vault: key \"%s\" has an invalid distribution", name);
        }
        d->time_s = s_parse_time(s_str(jd, "distribution_time"));
        const json_t *dv;
        json_array_foreach(json_object_get(jd, "versions"), i, dv)
        {
            if (d->n >= EMU_VAULT_MAX_VERSIONS ||
                !s_copy(d->v[d->n].key_id, sizeof(d->v[0].key_id), s_str(dv, "key_id")) ||
                !s_copy(d->v[d->n].arn, sizeof(d->v[0].arn), s_str(dv, "arn"))) {
                return s_fail(err, "vault: key \"%s\" has an invalid distribution", name);
            }
            d->v[d->n].version = (int)json_integer_value(json_object_get(dv, "version"));
            d->n++;
        }
    }
    return CMEK_OK;
}

static int s_load_provider(struct emu_vault_mount *m, const json_t *jp, struct emu_load_error *err)
{
    const char *name = s_str(jp, "name");
    struct emu_vault_provider *p = NULL;
    if (name[0] == '\0' || emu_vault_provider_find(m, name) ||
        emu_vault_provider_add(m, name, &p)) {
        return s_fail(err, "vault: invalid or duplicate KMS provider \"%s\"", name);
    }
    const json_t *c = json_object_get(jp, "credentials");
    if (!s_copy(p->provider, sizeof(p->provider), s_str(jp, "provider")) ||
        strcmp(p->provider, "awskms") != 0 ||
        !s_copy(p->key_collection, sizeof(p->key_collection), s_str(jp, "key_collection")) ||
        !s_copy(p->access_key, sizeof(p->access_key), s_str(c, "access_key")) ||
        !s_copy(p->secret_key, sizeof(p->secret_key), s_str(c, "secret_key")) ||
        !s_copy(p->session_token, sizeof(p->session_token), s_str(c, "session_token")) ||
        !s_copy(p->endpoint, sizeof(p->endpoint), s_str(c, "endpoint"))) {
        return s_fail(err, "vault: KMS provider \"%s\" is invalid (awskms only)", name);
    }
    return CMEK_OK;
}

int emu_vault_load(struct emu_vault *v, const json_t *section, struct emu_load_error *err)
{
    if (section == NULL) {
        return CMEK_OK;
    }
    if (!json_is_object(section)) {
        return s_fail(err, "%s", "the vault section must be an object");
    }
    size_t i;
    const json_t *item;
    json_array_foreach(json_object_get(section, "namespaces"), i, item)
    {
        if (v->n_ns >= EMU_VAULT_MAX_NS || !json_is_string(item) ||
            !s_copy(v->namespaces[v->n_ns], sizeof(v->namespaces[0]), json_string_value(item))) {
            return s_fail(err, "%s", "vault: invalid namespaces");
        }
        v->n_ns++;
    }
    json_array_foreach(json_object_get(section, "tokens"), i, item)
    {
        struct emu_vault_token *t = &v->tokens[v->n_tokens];
        if (v->n_tokens >= EMU_VAULT_MAX_TOKENS ||
            !s_copy(t->id, sizeof(t->id), s_str(item, "id")) || t->id[0] == '\0' ||
            !s_copy(t->ns, sizeof(t->ns), s_str(item, "namespace"))) {
            return s_fail(err, "%s", "vault: invalid tokens");
        }
        const json_t *pol = json_object_get(item, "policies");
        t->policies = pol ? json_deep_copy(pol) : json_array();
        v->n_tokens++;
        if (t->policies == NULL) {
            return CMEK_ERR_NOMEM;
        }
        if (!emu_vault_ns_exists(v, t->ns)) {
            return s_fail(err, "vault: token namespace \"%s\" is not in namespaces", t->ns);
        }
    }
    json_array_foreach(json_object_get(section, "mounts"), i, item)
    {
        const char *ns = s_str(item, "namespace");
        const char *path = s_str(item, "path");
        size_t n = strlen(path);
        if (v->n_mounts >= EMU_VAULT_MAX_MOUNTS || !emu_vault_ns_exists(v, ns) || n < 2 ||
            path[n - 1] != '/' || strcmp(s_str(item, "type"), "keymgmt") != 0 ||
            emu_vault_mount_find(v, ns, path)) {
            return s_fail(err, "vault: invalid mount \"%s\" (keymgmt only)", path);
        }
        struct emu_vault_mount *m = calloc(1, sizeof(*m));
        if (m == NULL) {
            return CMEK_ERR_NOMEM;
        }
        v->mounts[v->n_mounts++] = m;
        if (!s_copy(m->ns, sizeof(m->ns), ns) || !s_copy(m->path, sizeof(m->path), path) ||
            !s_copy(m->type, sizeof(m->type), "keymgmt") ||
            !s_copy(m->description, sizeof(m->description), s_str(item, "description")) ||
            !s_copy(m->accessor, sizeof(m->accessor), s_str(item, "accessor")) ||
            !s_copy(m->uuid, sizeof(m->uuid), s_str(item, "uuid"))) {
            return s_fail(err, "vault: invalid mount \"%s\"", path);
        }
        size_t j;
        const json_t *sub;
        json_array_foreach(json_object_get(item, "kms_providers"), j, sub)
        {
            int rc = s_load_provider(m, sub, err);
            if (rc) {
                return rc;
            }
        }
        json_array_foreach(json_object_get(item, "keys"), j, sub)
        {
            int rc = s_load_key(m, sub, err);
            if (rc) {
                return rc;
            }
        }
    }
    return CMEK_OK;
}

static json_t *s_key_to_json(const struct emu_vault_key *k)
{
    json_t *versions = json_array();
    for (size_t i = 0; versions != NULL && i < k->n_versions; i++) {
        const struct emu_vault_version *ver = &k->versions[i];
        char when[40];
        emu_vault_format_time(ver->created_s, when);
        json_t *jv = json_pack("{s:s}", "creation_time", when);
        if (emu_vault_key_type_symmetric(k->type)) {
            struct cmek_buf b64;
            cmek_buf_init(&b64, 128);
            if (cmek_base64_encode(ver->material, sizeof(ver->material), &b64) == CMEK_OK) {
                json_object_set_new(jv, "material", json_string(cmek_buf_cstr(&b64)));
            }
            cmek_buf_clean_up(&b64);
        } else {
            json_object_set_new(jv, "private_key", json_string(ver->private_pem));
        }
        json_array_append_new(versions, jv);
    }
    json_t *out = json_pack("{s:s,s:s,s:i,s:b,s:o*}", "name", k->name, "type", k->type,
                            "min_enabled_version", k->min_enabled_version, "deletion_allowed",
                            k->deletion_allowed, "versions", versions);
    if (out != NULL && k->distributed) {
        const struct emu_vault_distribution *d = &k->dist;
        char when[40];
        emu_vault_format_time(d->time_s, when);
        json_t *dv = json_array();
        for (size_t i = 0; dv != NULL && i < d->n; i++) {
            json_array_append_new(dv, json_pack("{s:i,s:s,s:s}", "version", d->v[i].version,
                                                "key_id", d->v[i].key_id, "arn", d->v[i].arn));
        }
        json_object_set_new(out, "distribution",
                            json_pack("{s:s,s:s,s:s,s:s,s:o*}", "provider", d->provider, "purpose",
                                      d->purpose, "protection", d->protection, "distribution_time",
                                      when, "versions", dv));
    }
    return out;
}

json_t *emu_vault_to_json(const struct emu_vault *v)
{
    json_t *ns = json_array();
    json_t *tokens = json_array();
    json_t *mounts = json_array();
    for (size_t i = 0; ns != NULL && i < v->n_ns; i++) {
        json_array_append_new(ns, json_string(v->namespaces[i]));
    }
    for (size_t i = 0; tokens != NULL && i < v->n_tokens; i++) {
        json_array_append_new(tokens,
                              json_pack("{s:s,s:O,s:s}", "id", v->tokens[i].id, "policies",
                                        v->tokens[i].policies, "namespace", v->tokens[i].ns));
    }
    for (size_t i = 0; mounts != NULL && i < v->n_mounts; i++) {
        const struct emu_vault_mount *m = v->mounts[i];
        json_t *keys = json_array();
        json_t *providers = json_array();
        for (size_t j = 0; keys != NULL && j < m->n_keys; j++) {
            json_array_append_new(keys, s_key_to_json(m->keys[j]));
        }
        for (size_t j = 0; providers != NULL && j < m->n_providers; j++) {
            const struct emu_vault_provider *p = m->providers[j];
            json_t *c =
                json_pack("{s:s,s:s}", "access_key", p->access_key, "secret_key", p->secret_key);
            if (c != NULL && p->session_token[0]) {
                json_object_set_new(c, "session_token", json_string(p->session_token));
            }
            if (c != NULL && p->endpoint[0]) {
                json_object_set_new(c, "endpoint", json_string(p->endpoint));
            }
            json_array_append_new(providers, json_pack("{s:s,s:s,s:s,s:o*}", "name", p->name,
                                                       "provider", p->provider, "key_collection",
                                                       p->key_collection, "credentials", c));
        }
        json_array_append_new(mounts,
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o*,s:o*}", "namespace", m->ns,
                                        "path", m->path, "type", m->type, "description",
                                        m->description, "accessor", m->accessor, "uuid", m->uuid,
                                        "kms_providers", providers, "keys", keys));
    }
    json_t *out = json_pack("{s:o*,s:o*}", "namespaces", ns, "tokens", tokens);
    if (out != NULL && json_array_size(mounts) > 0) {
        json_object_set(out, "mounts", mounts);
    }
    json_decref(mounts);
    return out;
}
