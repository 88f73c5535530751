/* target.c: where libcmek sends each service's requests, and as whom.
 *
 * Resolution happens in three steps, each a small function:
 * 1. settings: the environment (s_apply_environment, by each ecosystem's own conventions:
 *    the AWS CLI's variables and ~/.aws files, Terraform's COCKROACH_* variables, the vault
 *    CLI's VAULT_* variables) and then a target file (s_apply_file) write what they set into
 *    the target; an unset string stays NULL;
 * 2. defaults (s_finish): whatever is still NULL gets its default, the real AWS endpoints
 *    built from the region last, so a file that only changes the region moves them too;
 * 3. checks: every endpoint is an http(s) URL without a trailing '/'.
 *
 * Safety: an emulator target ("emulator": true in its file) does not read the ambient
 * environment at all. It cannot fall back to real AWS endpoints (every endpoint it does not
 * name is the emulator's URL) nor to the user's real credentials (only the file's, which may
 * reference a variable explicitly with ${env.NAME}). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmek/buf.h"
#include "cmek/crypto.h"
#include "cmek/target.h"
#include "cmek/transport.h"

#define S_MAX_FILE_BYTES     (1024u * 1024u) /* target, config and credentials files */
#define S_MAX_VALUE_BYTES    (64u * 1024u)   /* one string value after ${env.} expansion */
#define S_MAX_PATH_BYTES     4096u
#define S_MAX_ATTEMPTS_LIMIT 20u
#define S_DEFAULT_REGION     "us-east-1"
#define S_DEFAULT_VAULT_ADDR "https://127.0.0.1:8200"
#define S_IAM_REGION         "us-east-1" /* IAM is global; AWS signs it for us-east-1 */
#define S_ENV_NAME           "environment"

static const char *const s_service_names[CMEK_SERVICE_COUNT] = {
    [CMEK_SERVICE_IAM] = "iam",     [CMEK_SERVICE_STS] = "sts",
    [CMEK_SERVICE_KMS] = "kms",     [CMEK_SERVICE_CCLOUD] = "ccloud",
    [CMEK_SERVICE_VAULT] = "vault", [CMEK_SERVICE_EMULATOR] = "emulator",
};

/* AWS_ENDPOINT_URL_<SERVICE>, as botocore spells the service ids. */
static const char *const s_aws_endpoint_env[3] = {
    [CMEK_SERVICE_IAM] = "AWS_ENDPOINT_URL_IAM",
    [CMEK_SERVICE_STS] = "AWS_ENDPOINT_URL_STS",
    [CMEK_SERVICE_KMS] = "AWS_ENDPOINT_URL_KMS",
};

const char *cmek_service_name(enum cmek_service svc)
{
    return (unsigned)svc < CMEK_SERVICE_COUNT ? s_service_names[svc] : "unknown";
}

/* ---- Small helpers ---- */

static void s_why(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_why(char *why, size_t why_len, const char *fmt, ...)
{
    if (why == NULL || why_len == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static void s_free_secret(char **s)
{
    cmek_cleanse_str(*s);
    free(*s);
    *s = NULL;
}

/* Replaces *field with a copy of value (NULL or "" clears it). Old value wiped: any of
 * these strings may be a secret. */
static int s_set(char **field, const char *value)
{
    char *copy = NULL;
    if (value != NULL && value[0] != '\0') {
        copy = strdup(value);
        if (copy == NULL) {
            return CMEK_ERR_NOMEM;
        }
    }
    s_free_secret(field);
    *field = copy;
    return CMEK_OK;
}

/* Like s_set, but "" stays "" (only NULL means unset). */
static int s_set_exact(char **field, const char *value)
{
    char *copy = value != NULL ? strdup(value) : NULL;
    if (value != NULL && copy == NULL) {
        return CMEK_ERR_NOMEM;
    }
    s_free_secret(field);
    *field = copy;
    return CMEK_OK;
}

/* Like s_set, without the trailing '/'s a base URL must not have. */
static int s_set_url(char **field, const char *value)
{
    int rc = s_set(field, value);
    if (rc == CMEK_OK && *field != NULL) {
        size_t n = strlen(*field);
        while (n > 0 && (*field)[n - 1] == '/') {
            (*field)[--n] = '\0';
        }
    }
    return rc;
}

static const char *s_getenv_default(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

struct s_env {
    cmek_getenv_fn fn;
    void *ctx;
};

/* An environment variable, NULL when unset or empty (the AWS CLI treats both alike). */
static const char *s_env(const struct s_env *env, const char *name)
{
    const char *v = env->fn(env->ctx, name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

static const char *s_first(const char *a, const char *b)
{
    return a != NULL ? a : b;
}

static int s_read_file(const char *path, struct cmek_buf *out, bool *missing)
{
    int rc = cmek_buf_append_file(out, path);
    *missing = rc == CMEK_ERR_IO && errno == ENOENT;
    return rc;
}

/* ---- Credentials ---- */

void cmek_aws_credentials_clean_up(struct cmek_aws_credentials *c)
{
    if (c == NULL) {
        return;
    }
    s_free_secret(&c->access_key_id);
    s_free_secret(&c->secret_access_key);
    s_free_secret(&c->session_token);
}

int cmek_aws_credentials_copy(struct cmek_aws_credentials *dst,
                              const struct cmek_aws_credentials *src)
{
    int rc = CMEK_OK;
    struct cmek_aws_credentials tmp = {NULL, NULL, NULL};
    if (dst == NULL || src == NULL) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    rc = s_set(&tmp.access_key_id, src->access_key_id);
    if (rc == CMEK_OK) {
        rc = s_set(&tmp.secret_access_key, src->secret_access_key);
    }
    if (rc == CMEK_OK) {
        rc = s_set(&tmp.session_token, src->session_token);
    }
    if (rc) {
        goto done;
    }
    cmek_aws_credentials_clean_up(dst);
    *dst = tmp;
    memset(&tmp, 0, sizeof(tmp));
done:
    cmek_aws_credentials_clean_up(&tmp);
    return rc;
}

/* ---- The target value ---- */

void cmek_target_init(struct cmek_target *t)
{
    memset(t, 0, sizeof(*t));
    t->connect_timeout_ms = 5000;
    t->timeout_ms = 30000;
    t->max_response_bytes = CMEK_HTTP_DEFAULT_MAX_RESPONSE;
    t->max_attempts = 3;
}

void cmek_target_clean_up(struct cmek_target *t)
{
    if (t == NULL) {
        return;
    }
    free(t->name);
    free(t->region);
    for (size_t i = 0; i < CMEK_SERVICE_COUNT; i++) {
        free(t->endpoint[i]);
    }
    free(t->iam_region);
    cmek_aws_credentials_clean_up(&t->aws);
    cmek_aws_credentials_clean_up(&t->cloud_principal);
    s_free_secret(&t->ccloud_api_key);
    free(t->cc_version);
    s_free_secret(&t->vault_token);
    free(t->vault_namespace);
    free(t->ca_bundle);
    cmek_target_init(t);
}

int cmek_target_copy(struct cmek_target *dst, const struct cmek_target *src)
{
    int rc = CMEK_OK;
    struct cmek_target tmp;
    cmek_target_init(&tmp);
    if (dst == NULL || src == NULL) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    tmp.emulator = src->emulator;
    tmp.connect_timeout_ms = src->connect_timeout_ms;
    tmp.timeout_ms = src->timeout_ms;
    tmp.max_response_bytes = src->max_response_bytes;
    tmp.max_attempts = src->max_attempts;
    rc = s_set(&tmp.name, src->name);
    rc = rc ? rc : s_set(&tmp.region, src->region);
    for (size_t i = 0; i < CMEK_SERVICE_COUNT && rc == CMEK_OK; i++) {
        rc = s_set(&tmp.endpoint[i], src->endpoint[i]);
    }
    rc = rc ? rc : s_set(&tmp.iam_region, src->iam_region);
    rc = rc ? rc : cmek_aws_credentials_copy(&tmp.aws, &src->aws);
    rc = rc ? rc : cmek_aws_credentials_copy(&tmp.cloud_principal, &src->cloud_principal);
    rc = rc ? rc : s_set(&tmp.ccloud_api_key, src->ccloud_api_key);
    rc = rc ? rc : s_set(&tmp.cc_version, src->cc_version);
    /* Exact copies: "" is a Vault token of its own ("send none", cmek/target.h). */
    rc = rc ? rc : s_set_exact(&tmp.vault_token, src->vault_token);
    rc = rc ? rc : s_set_exact(&tmp.vault_namespace, src->vault_namespace);
    rc = rc ? rc : s_set(&tmp.ca_bundle, src->ca_bundle);
    if (rc) {
        goto done;
    }
    cmek_target_clean_up(dst);
    *dst = tmp;
    cmek_target_init(&tmp);
done:
    cmek_target_clean_up(&tmp);
    return rc;
}

/* ---- ~/.aws/credentials and ~/.aws/config (INI) ---- */

struct s_ini_entry {
    char *section; /* "default", "profile dev", "dev" */
    char *key;
    char *value; /* may be a secret */
};

struct s_ini {
    struct s_ini_entry *entries; /* owned */
    size_t n;
    char **sections; /* owned: every section header seen, so an empty profile exists */
    size_t n_sections;
};

static void s_ini_clean_up(struct s_ini *ini)
{
    for (size_t i = 0; i < ini->n; i++) {
        free(ini->entries[i].section);
        free(ini->entries[i].key);
        s_free_secret(&ini->entries[i].value);
    }
    free(ini->entries);
    for (size_t i = 0; i < ini->n_sections; i++) {
        free(ini->sections[i]);
    }
    free(ini->sections);
    memset(ini, 0, sizeof(*ini));
}

static struct cmek_view s_trim(struct cmek_view v)
{
    while (v.len > 0 && (v.ptr[0] == ' ' || v.ptr[0] == '\t' || v.ptr[0] == '\r')) {
        v.ptr++;
        v.len--;
    }
    while (v.len > 0 &&
           (v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\t' || v.ptr[v.len - 1] == '\r')) {
        v.len--;
    }
    return v;
}

static int s_ini_add_section(struct s_ini *ini, struct cmek_view name)
{
    char **grown = realloc(ini->sections, (ini->n_sections + 1) * sizeof(*grown));
    if (grown == NULL) {
        return CMEK_ERR_NOMEM;
    }
    ini->sections = grown;
    ini->sections[ini->n_sections] = cmek_view_dup(name);
    if (ini->sections[ini->n_sections] == NULL) {
        return CMEK_ERR_NOMEM;
    }
    ini->n_sections++;
    return CMEK_OK;
}

static int s_ini_add(struct s_ini *ini, const char *section, struct cmek_view key,
                     struct cmek_view value)
{
    struct s_ini_entry *grown = realloc(ini->entries, (ini->n + 1) * sizeof(*grown));
    if (grown == NULL) {
        return CMEK_ERR_NOMEM;
    }
    ini->entries = grown;
    struct s_ini_entry *e = &ini->entries[ini->n];
    e->section = strdup(section);
    e->key = cmek_view_dup(key);
    e->value = cmek_view_dup(value);
    ini->n++; /* counted even when a copy failed, so clean-up frees the rest */
    return e->section != NULL && e->key != NULL && e->value != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
}

/* The subset of the AWS CLI's INI dialect that profiles use: [section], key = value, '#'
 * and ';' comment lines, and indented continuation lines (nested settings such as
 * "s3 =\n  max_concurrent_requests = 20"), which are skipped. */
static int s_ini_parse(const char *path, struct cmek_view text, struct s_ini *ini, char *why,
                       size_t why_len)
{
    int rc = CMEK_OK;
    const char *section = NULL;
    size_t line_no = 0;
    const char *p = text.ptr;
    const char *end = text.ptr + text.len;
    while (p < end && rc == CMEK_OK) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        struct cmek_view raw = {p, (size_t)((eol != NULL ? eol : end) - p)};
        p = eol != NULL ? eol + 1 : end;
        line_no++;
        bool indented = raw.len > 0 && (raw.ptr[0] == ' ' || raw.ptr[0] == '\t');
        struct cmek_view line = s_trim(raw);
        if (line.len == 0 || line.ptr[0] == '#' || line.ptr[0] == ';') {
            continue;
        }
        if (indented && section != NULL) {
            continue;
        }
        if (line.ptr[0] == '[') {
            if (line.ptr[line.len - 1] != ']' || line.len < 3) {
                s_why(why, why_len, "%s:%zu: malformed section header", path, line_no);
                rc = CMEK_ERR_PARSE;
                break;
            }
            struct cmek_view name = s_trim((struct cmek_view){line.ptr + 1, line.len - 2});
            rc = s_ini_add_section(ini, name);
            section = rc == CMEK_OK ? ini->sections[ini->n_sections - 1] : NULL;
            continue;
        }
        const char *eq = memchr(line.ptr, '=', line.len);
        if (eq == NULL || section == NULL) {
            s_why(why, why_len, "%s:%zu: expected 'key = value' inside a [section]", path, line_no);
            rc = CMEK_ERR_PARSE;
            break;
        }
        struct cmek_view key = s_trim((struct cmek_view){line.ptr, (size_t)(eq - line.ptr)});
        struct cmek_view value =
            s_trim((struct cmek_view){eq + 1, line.len - (size_t)(eq - line.ptr) - 1});
        rc = s_ini_add(ini, section, key, value);
    }
    return rc;
}

static bool s_ini_has_section(const struct s_ini *ini, const char *section)
{
    for (size_t i = 0; i < ini->n_sections; i++) {
        if (strcmp(ini->sections[i], section) == 0) {
            return true;
        }
    }
    return false;
}

/* The last value of key in section (a later line wins, as in botocore), or NULL. */
static const char *s_ini_get(const struct s_ini *ini, const char *section, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < ini->n; i++) {
        if (strcmp(ini->entries[i].section, section) == 0 &&
            strcmp(ini->entries[i].key, key) == 0) {
            found = ini->entries[i].value[0] != '\0' ? ini->entries[i].value : NULL;
        }
    }
    return found;
}

/* path, with a leading "~/" expanded from HOME. */
static int s_expand_home(const struct s_env *env, const char *path, char *out, size_t out_len)
{
    const char *home = s_env(env, "HOME");
    int n;
    if (path[0] == '~' && path[1] == '/') {
        if (home == NULL) {
            return CMEK_ERR_NOT_FOUND;
        }
        n = snprintf(out, out_len, "%s%s", home, path + 1);
    } else {
        n = snprintf(out, out_len, "%s", path);
    }
    return n >= 0 && (size_t)n < out_len ? CMEK_OK : CMEK_ERR_LIMIT;
}

/* Loads one AWS file into ini; a file that does not exist is an empty one. */
static int s_load_aws_file(const struct s_env *env, const char *env_name, const char *default_path,
                           struct s_ini *ini, char *why, size_t why_len)
{
    int rc = CMEK_OK;
    char path[S_MAX_PATH_BYTES];
    struct cmek_buf text;
    cmek_buf_init(&text, S_MAX_FILE_BYTES);
    const char *configured = s_env(env, env_name);
    rc = s_expand_home(env, s_first(configured, default_path), path, sizeof(path));
    if (rc == CMEK_ERR_NOT_FOUND && configured == NULL) {
        rc = CMEK_OK; /* no HOME and nothing configured: there is no such file */
        goto done;
    }
    if (rc) {
        s_why(why, why_len, "%s: cannot resolve the path (HOME unset or path too long)",
              s_first(configured, default_path));
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    bool missing = false;
    rc = s_read_file(path, &text, &missing);
    if (rc == CMEK_ERR_IO && missing) {
        rc = CMEK_OK;
        goto done;
    }
    if (rc) {
        s_why(why, why_len, "%s: %s", path,
              rc == CMEK_ERR_LIMIT ? "file larger than 1 MiB" : "cannot be read");
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    rc = s_ini_parse(path, (struct cmek_view){cmek_buf_cstr(&text), text.len}, ini, why, why_len);
done:
    if (text.data != NULL) {
        cmek_cleanse(text.data, text.len); /* the credentials file holds secrets */
    }
    cmek_buf_clean_up(&text);
    return rc;
}

/* ---- Step 1a: the environment ---- */

static int s_apply_profile(struct cmek_target *t, const struct s_env *env, bool use_env_creds,
                           const char **profile_endpoint, struct s_ini *creds, struct s_ini *config,
                           char *why, size_t why_len)
{
    int rc = CMEK_OK;
    const char *explicit_profile = s_env(env, "AWS_PROFILE");
    const char *profile = s_first(explicit_profile, "default");
    char config_section[256];
    *profile_endpoint = NULL;
    rc = s_load_aws_file(env, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials", creds, why,
                         why_len);
    if (rc == CMEK_OK) {
        rc = s_load_aws_file(env, "AWS_CONFIG_FILE", "~/.aws/config", config, why, why_len);
    }
    if (rc) {
        goto done;
    }
    /* The config file names profiles "[profile NAME]", except the default one, which is
     * "[default]" (botocore also accepts "[profile default]"). */
    snprintf(config_section, sizeof(config_section), "profile %s", profile);
    const char *section = config_section;
    if (strcmp(profile, "default") == 0 && !s_ini_has_section(config, config_section)) {
        section = "default";
    }
    bool in_creds = s_ini_has_section(creds, profile);
    bool in_config = s_ini_has_section(config, section);
    if (explicit_profile != NULL && !in_creds && !in_config) {
        s_why(why, why_len,
              "AWS_PROFILE: the config profile (%s) could not be found in the credentials "
              "file or the config file",
              profile);
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    if (!use_env_creds) {
        /* The credentials file first, then credentials written in the config file. */
        const struct s_ini *src = s_ini_get(creds, profile, "aws_access_key_id") ? creds : config;
        const char *src_section = src == creds ? profile : section;
        rc = s_set(&t->aws.access_key_id, s_ini_get(src, src_section, "aws_access_key_id"));
        rc = rc ? rc
                : s_set(&t->aws.secret_access_key,
                        s_ini_get(src, src_section, "aws_secret_access_key"));
        rc = rc ? rc
                : s_set(&t->aws.session_token, s_ini_get(src, src_section, "aws_session_token"));
    }
    if (rc == CMEK_OK && t->region == NULL) {
        rc = s_set(&t->region, s_ini_get(config, section, "region"));
    }
    if (rc == CMEK_OK && t->ca_bundle == NULL) {
        rc = s_set(&t->ca_bundle, s_ini_get(config, section, "ca_bundle"));
    }
    *profile_endpoint = s_ini_get(config, section, "endpoint_url");
done:
    return rc;
}

static int s_apply_environment(struct cmek_target *t, const struct s_env *env, char *why,
                               size_t why_len)
{
    int rc = CMEK_OK;
    struct s_ini creds = {0};
    struct s_ini config = {0};
    const char *akid = s_env(env, "AWS_ACCESS_KEY_ID");
    const char *secret = s_env(env, "AWS_SECRET_ACCESS_KEY");
    bool use_env_creds = akid != NULL && secret != NULL;
    if (use_env_creds) {
        rc = s_set(&t->aws.access_key_id, akid);
        rc = rc ? rc : s_set(&t->aws.secret_access_key, secret);
        rc = rc ? rc : s_set(&t->aws.session_token, s_env(env, "AWS_SESSION_TOKEN"));
    }
    rc =
        rc ? rc
           : s_set(&t->region, s_first(s_env(env, "AWS_REGION"), s_env(env, "AWS_DEFAULT_REGION")));
    rc = rc ? rc
            : s_set(&t->ca_bundle,
                    s_first(s_env(env, "CMEK_CA_BUNDLE"), s_env(env, "AWS_CA_BUNDLE")));
    if (rc) {
        goto done;
    }
    const char *profile_endpoint = NULL;
    rc = s_apply_profile(t, env, use_env_creds, &profile_endpoint, &creds, &config, why, why_len);
    if (rc) {
        goto done;
    }
    const char *global = s_first(s_env(env, "AWS_ENDPOINT_URL"), profile_endpoint);
    for (int svc = CMEK_SERVICE_IAM; svc <= CMEK_SERVICE_KMS && rc == CMEK_OK; svc++) {
        rc = s_set_url(&t->endpoint[svc], s_first(s_env(env, s_aws_endpoint_env[svc]), global));
    }
    rc = rc ? rc : s_set_url(&t->endpoint[CMEK_SERVICE_CCLOUD], s_env(env, "COCKROACH_SERVER"));
    rc = rc ? rc : s_set(&t->ccloud_api_key, s_env(env, "COCKROACH_API_KEY"));
    rc = rc ? rc : s_set(&t->cc_version, s_env(env, "CMEK_CC_VERSION"));
    rc = rc ? rc : s_set_url(&t->endpoint[CMEK_SERVICE_VAULT], s_env(env, "VAULT_ADDR"));
    rc = rc ? rc : s_set(&t->vault_token, s_env(env, "VAULT_TOKEN"));
    rc = rc ? rc : s_set(&t->vault_namespace, s_env(env, "VAULT_NAMESPACE"));
    if (rc == CMEK_OK && t->ca_bundle == NULL) {
        rc = s_set(&t->ca_bundle, s_env(env, "VAULT_CACERT"));
    }
    const char *attempts = s_env(env, "AWS_MAX_ATTEMPTS");
    if (rc == CMEK_OK && attempts != NULL) {
        char *end = NULL;
        unsigned long n = strtoul(attempts, &end, 10);
        if (*end != '\0' || n == 0 || n > S_MAX_ATTEMPTS_LIMIT) {
            s_why(why, why_len, "AWS_MAX_ATTEMPTS: '%s' is not a number from 1 to %u", attempts,
                  S_MAX_ATTEMPTS_LIMIT);
            rc = CMEK_ERR_PARSE;
            goto done;
        }
        t->max_attempts = (unsigned)n;
    }
done:
    s_ini_clean_up(&creds);
    s_ini_clean_up(&config);
    return rc;
}

/* ---- Step 2 and 3: defaults and checks ---- */

static bool s_is_http_url(const char *url)
{
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

static int s_finish(struct cmek_target *t, const char *emulator_url, const char *origin, char *why,
                    size_t why_len)
{
    int rc = CMEK_OK;
    char url[512];
    rc = t->region == NULL ? s_set(&t->region, S_DEFAULT_REGION) : CMEK_OK;
    rc = rc ? rc : (t->iam_region == NULL ? s_set(&t->iam_region, S_IAM_REGION) : CMEK_OK);
    rc = rc ? rc
            : (t->cc_version == NULL ? s_set(&t->cc_version, CMEK_DEFAULT_CC_VERSION) : CMEK_OK);
    if (rc) {
        goto done;
    }
    for (int svc = 0; svc < CMEK_SERVICE_COUNT && rc == CMEK_OK; svc++) {
        if (t->endpoint[svc] != NULL) {
            continue;
        }
        if (t->emulator) {
            rc = s_set_url(&t->endpoint[svc], s_first(emulator_url, CMEK_DEFAULT_EMULATOR_URL));
            continue;
        }
        switch ((enum cmek_service)svc) {
        case CMEK_SERVICE_IAM:
            rc = s_set(&t->endpoint[svc], "https://iam.amazonaws.com");
            break;
        case CMEK_SERVICE_STS:
        case CMEK_SERVICE_KMS:
            snprintf(url, sizeof(url), "https://%s.%s.amazonaws.com", s_service_names[svc],
                     t->region);
            rc = s_set(&t->endpoint[svc], url);
            break;
        case CMEK_SERVICE_CCLOUD:
            rc = s_set(&t->endpoint[svc], CMEK_DEFAULT_CCLOUD_URL);
            break;
        case CMEK_SERVICE_VAULT:
            rc = s_set(&t->endpoint[svc], S_DEFAULT_VAULT_ADDR);
            break;
        case CMEK_SERVICE_EMULATOR: /* only emulator targets have one */
        case CMEK_SERVICE_COUNT:
        default:
            break;
        }
    }
    for (int svc = 0; svc < CMEK_SERVICE_COUNT && rc == CMEK_OK; svc++) {
        if (t->endpoint[svc] != NULL && !s_is_http_url(t->endpoint[svc])) {
            s_why(why, why_len, "%s: the %s endpoint '%s' is not an http:// or https:// URL",
                  origin, s_service_names[svc], t->endpoint[svc]);
            rc = CMEK_ERR_PARSE;
        }
    }
done:
    return rc;
}

int cmek_target_from_environment(struct cmek_target *t, cmek_getenv_fn getenv_fn, void *ctx,
                                 char *why, size_t why_len)
{
    int rc = CMEK_OK;
    struct s_env env = {getenv_fn != NULL ? getenv_fn : s_getenv_default, ctx};
    struct cmek_target tmp;
    cmek_target_init(&tmp);
    s_why(why, why_len, "%s", "");
    if (t == NULL) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    rc = s_set(&tmp.name, S_ENV_NAME);
    rc = rc ? rc : s_apply_environment(&tmp, &env, why, why_len);
    rc = rc ? rc : s_finish(&tmp, NULL, "environment", why, why_len);
    if (rc) {
        goto done;
    }
    cmek_target_clean_up(t);
    *t = tmp;
    cmek_target_init(&tmp);
done:
    cmek_target_clean_up(&tmp);
    return rc;
}

/* ---- Step 1b: a target file ---- */

struct s_file_ctx {
    const char *path; /* for messages */
    const struct s_env *env;
    char *why;
    size_t why_len;
    const char *emulator_url; /* aws.endpoint_url of an emulator target; borrowed from t */
};

/* value with every "${env.NAME}" and "${env.NAME:-default}" replaced. */
static int s_expand(const struct s_file_ctx *fc, const char *field, const char *value,
                    struct cmek_buf *out)
{
    int rc = CMEK_OK;
    const char *p = value;
    while (*p != '\0' && rc == CMEK_OK) {
        const char *start = strstr(p, "${env.");
        if (start == NULL) {
            rc = cmek_buf_append_str(out, p);
            break;
        }
        rc = cmek_buf_append(out, p, (size_t)(start - p));
        const char *name = start + 6;
        const char *close = strchr(name, '}');
        if (rc == CMEK_OK && close == NULL) {
            s_why(fc->why, fc->why_len, "%s: field '%s': unterminated ${env....}", fc->path, field);
            rc = CMEK_ERR_PARSE;
        }
        if (rc) {
            break;
        }
        const char *dflt = NULL;
        size_t name_len = (size_t)(close - name);
        const char *sep = strstr(name, ":-");
        if (sep != NULL && sep < close) {
            name_len = (size_t)(sep - name);
            dflt = sep + 2;
        }
        char var[256];
        if (name_len == 0 || name_len >= sizeof(var)) {
            s_why(fc->why, fc->why_len, "%s: field '%s': bad variable name in ${env....}", fc->path,
                  field);
            rc = CMEK_ERR_PARSE;
            break;
        }
        memcpy(var, name, name_len);
        var[name_len] = '\0';
        const char *v = fc->env->fn(fc->env->ctx, var);
        if (dflt != NULL && (v == NULL || v[0] == '\0')) {
            rc = cmek_buf_append(out, dflt, (size_t)(close - dflt)); /* as the shell's :- */
        } else if (v == NULL) {
            s_why(fc->why, fc->why_len,
                  "%s: field '%s': environment variable %s is not set (and no default given)",
                  fc->path, field, var);
            rc = CMEK_ERR_PARSE;
        } else {
            rc = cmek_buf_append_str(out, v);
        }
        p = close + 1;
    }
    if (rc == CMEK_ERR_LIMIT) {
        s_why(fc->why, fc->why_len, "%s: field '%s': value longer than %u bytes", fc->path, field,
              S_MAX_VALUE_BYTES);
        rc = CMEK_ERR_PARSE;
    }
    return rc;
}

/* The member name of obj, typed string, expanded into *field; absent members leave it. */
static int s_file_string(const struct s_file_ctx *fc, const json_t *obj, const char *prefix,
                         const char *key, char **field, bool url)
{
    int rc = CMEK_OK;
    char path[128];
    struct cmek_buf expanded;
    cmek_buf_init(&expanded, S_MAX_VALUE_BYTES);
    const json_t *v = json_object_get(obj, key);
    snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", key);
    if (v == NULL) {
        goto done;
    }
    if (!json_is_string(v)) {
        s_why(fc->why, fc->why_len, "%s: field '%s' must be a string", fc->path, path);
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    rc = s_expand(fc, path, json_string_value(v), &expanded);
    if (rc == CMEK_OK) {
        rc = url ? s_set_url(field, cmek_buf_cstr(&expanded))
                 : s_set(field, cmek_buf_cstr(&expanded));
    }
done:
    if (expanded.data != NULL) {
        cmek_cleanse(expanded.data, expanded.len); /* may be a secret */
    }
    cmek_buf_clean_up(&expanded);
    return rc;
}

/* A positive integer member no larger than max, into *out. */
static int s_file_uint(const struct s_file_ctx *fc, const json_t *obj, const char *key,
                       json_int_t max, json_int_t *out)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        return CMEK_OK;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > max) {
        s_why(fc->why, fc->why_len,
              "%s: field 'http.%s' must be an integer from 1 to %" JSON_INTEGER_FORMAT, fc->path,
              key, max);
        return CMEK_ERR_PARSE;
    }
    *out = json_integer_value(v);
    return CMEK_OK;
}

/* Fails on the first member of obj not in allowed (NULL-terminated). */
static int s_check_members(const struct s_file_ctx *fc, const json_t *obj, const char *prefix,
                           const char *const *allowed)
{
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        (void)value;
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL && !known; i++) {
            known = strcmp(allowed[i], key) == 0;
        }
        if (!known) {
            s_why(fc->why, fc->why_len, "%s: unknown field '%s%s%s'", fc->path, prefix,
                  prefix[0] ? "." : "", key);
            return CMEK_ERR_PARSE;
        }
    }
    return CMEK_OK;
}

/* The member key of parent (at path) as an object, or NULL when absent; a non-object is an error.
 */
static int s_file_object(const struct s_file_ctx *fc, const json_t *parent, const char *key,
                         const char *path, const char *const *allowed, const json_t **out)
{
    *out = json_object_get(parent, key);
    if (*out == NULL) {
        return CMEK_OK;
    }
    if (!json_is_object(*out)) {
        s_why(fc->why, fc->why_len, "%s: field '%s' must be an object", fc->path, path);
        return CMEK_ERR_PARSE;
    }
    return s_check_members(fc, *out, path, allowed);
}

static const char *const s_root_fields[] = {
    "name", "emulator", "aws", "cockroach_cloud_principal", "ccloud", "vault", "http", NULL};
static const char *const s_aws_fields[] = {
    "region",        "endpoint_url",      "endpoints",     "iam_region",
    "access_key_id", "secret_access_key", "session_token", NULL};
static const char *const s_endpoints_fields[] = {"kms", "sts", "iam", NULL};
static const char *const s_principal_fields[] = {"access_key_id", "secret_access_key",
                                                 "session_token", NULL};
static const char *const s_ccloud_fields[] = {"server", "api_key", "cc_version", NULL};
static const char *const s_vault_fields[] = {"addr", "token", "namespace", NULL};
static const char *const s_http_fields[] = {
    "ca_bundle", "connect_timeout_ms", "timeout_ms", "max_response_bytes", "max_attempts", NULL};

static int s_file_credentials(const struct s_file_ctx *fc, const json_t *obj, const char *prefix,
                              struct cmek_aws_credentials *c)
{
    int rc = s_file_string(fc, obj, prefix, "access_key_id", &c->access_key_id, false);
    rc =
        rc ? rc : s_file_string(fc, obj, prefix, "secret_access_key", &c->secret_access_key, false);
    rc = rc ? rc : s_file_string(fc, obj, prefix, "session_token", &c->session_token, false);
    return rc;
}

static int s_file_aws(const struct s_file_ctx *fc, const json_t *root, struct cmek_target *t,
                      char **endpoint_url)
{
    const json_t *aws = NULL;
    const json_t *eps = NULL;
    int rc = s_file_object(fc, root, "aws", "aws", s_aws_fields, &aws);
    if (rc || aws == NULL) {
        return rc;
    }
    rc = s_file_string(fc, aws, "aws", "region", &t->region, false);
    rc = rc ? rc : s_file_string(fc, aws, "aws", "iam_region", &t->iam_region, false);
    rc = rc ? rc : s_file_string(fc, aws, "aws", "endpoint_url", endpoint_url, true);
    for (int svc = CMEK_SERVICE_IAM; svc <= CMEK_SERVICE_KMS && rc == CMEK_OK && *endpoint_url;
         svc++) {
        rc = s_set(&t->endpoint[svc], *endpoint_url);
    }
    rc = rc ? rc : s_file_credentials(fc, aws, "aws", &t->aws);
    rc = rc ? rc : s_file_object(fc, aws, "endpoints", "aws.endpoints", s_endpoints_fields, &eps);
    for (int svc = CMEK_SERVICE_IAM; svc <= CMEK_SERVICE_KMS && rc == CMEK_OK && eps; svc++) {
        rc = s_file_string(fc, eps, "aws.endpoints", s_service_names[svc], &t->endpoint[svc], true);
    }
    return rc;
}

static int s_file_http(const struct s_file_ctx *fc, const json_t *root, struct cmek_target *t)
{
    const json_t *http = NULL;
    int rc = s_file_object(fc, root, "http", "http", s_http_fields, &http);
    if (rc || http == NULL) {
        return rc;
    }
    json_int_t connect_ms = t->connect_timeout_ms;
    json_int_t timeout_ms = t->timeout_ms;
    json_int_t max_bytes = (json_int_t)t->max_response_bytes;
    json_int_t attempts = t->max_attempts;
    rc = s_file_string(fc, http, "http", "ca_bundle", &t->ca_bundle, false);
    rc = rc ? rc : s_file_uint(fc, http, "connect_timeout_ms", 3600000, &connect_ms);
    rc = rc ? rc : s_file_uint(fc, http, "timeout_ms", 3600000, &timeout_ms);
    rc = rc ? rc : s_file_uint(fc, http, "max_response_bytes", 1024 * 1024 * 1024, &max_bytes);
    rc = rc ? rc : s_file_uint(fc, http, "max_attempts", S_MAX_ATTEMPTS_LIMIT, &attempts);
    t->connect_timeout_ms = (long)connect_ms;
    t->timeout_ms = (long)timeout_ms;
    t->max_response_bytes = (size_t)max_bytes;
    t->max_attempts = (unsigned)attempts;
    return rc;
}

static int s_apply_file(const struct s_file_ctx *fc, const json_t *root, struct cmek_target *t,
                        char **endpoint_url)
{
    const json_t *obj = NULL;
    int rc = s_check_members(fc, root, "", s_root_fields);
    rc = rc ? rc : s_file_string(fc, root, "", "name", &t->name, false);
    if (rc == CMEK_OK && t->name == NULL) {
        s_why(fc->why, fc->why_len, "%s: field 'name' is required (a non-empty string)", fc->path);
        rc = CMEK_ERR_PARSE;
    }
    rc = rc ? rc : s_file_aws(fc, root, t, endpoint_url);
    rc = rc ? rc
            : s_file_object(fc, root, "cockroach_cloud_principal", "cockroach_cloud_principal",
                            s_principal_fields, &obj);
    if (rc == CMEK_OK && obj != NULL) {
        rc = s_file_credentials(fc, obj, "cockroach_cloud_principal", &t->cloud_principal);
    }
    rc = rc ? rc : s_file_object(fc, root, "ccloud", "ccloud", s_ccloud_fields, &obj);
    if (rc == CMEK_OK && obj != NULL) {
        rc = s_file_string(fc, obj, "ccloud", "server", &t->endpoint[CMEK_SERVICE_CCLOUD], true);
        rc = rc ? rc : s_file_string(fc, obj, "ccloud", "api_key", &t->ccloud_api_key, false);
        rc = rc ? rc : s_file_string(fc, obj, "ccloud", "cc_version", &t->cc_version, false);
    }
    rc = rc ? rc : s_file_object(fc, root, "vault", "vault", s_vault_fields, &obj);
    if (rc == CMEK_OK && obj != NULL) {
        rc = s_file_string(fc, obj, "vault", "addr", &t->endpoint[CMEK_SERVICE_VAULT], true);
        rc = rc ? rc : s_file_string(fc, obj, "vault", "token", &t->vault_token, false);
        rc = rc ? rc : s_file_string(fc, obj, "vault", "namespace", &t->vault_namespace, false);
    }
    rc = rc ? rc : s_file_http(fc, root, t);
    return rc;
}

static bool s_is_bare_name(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
            return false;
        }
    }
    return s[0] != '\0';
}

int cmek_target_load(struct cmek_target *t, const char *name_or_path, const char *fixtures_dir,
                     cmek_getenv_fn getenv_fn, void *ctx, char *why, size_t why_len)
{
    int rc = CMEK_OK;
    struct s_env env = {getenv_fn != NULL ? getenv_fn : s_getenv_default, ctx};
    char path[S_MAX_PATH_BYTES];
    char *endpoint_url = NULL;
    json_t *root = NULL;
    struct cmek_buf text;
    struct cmek_target tmp;
    cmek_buf_init(&text, S_MAX_FILE_BYTES);
    cmek_target_init(&tmp);
    s_why(why, why_len, "%s", "");
    if (t == NULL || name_or_path == NULL) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    /* "emulator" and "live" (any bare name without '/' or ".json") are fixtures. */
    if (s_is_bare_name(name_or_path)) {
        if (fixtures_dir == NULL) {
            s_why(why, why_len, "target '%s': no fixtures directory to look it up in",
                  name_or_path);
            rc = CMEK_ERR_INVALID_ARG;
            goto done;
        }
        int n = snprintf(path, sizeof(path), "%s/targets/%s.json", fixtures_dir, name_or_path);
        rc = n >= 0 && (size_t)n < sizeof(path) ? CMEK_OK : CMEK_ERR_LIMIT;
    } else {
        int n = snprintf(path, sizeof(path), "%s", name_or_path);
        rc = n >= 0 && (size_t)n < sizeof(path) ? CMEK_OK : CMEK_ERR_LIMIT;
    }
    if (rc) {
        s_why(why, why_len, "target '%s': path too long", name_or_path);
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    bool missing = false;
    rc = s_read_file(path, &text, &missing);
    if (rc) {
        s_why(why, why_len, "%s: %s", path,
              missing                ? "no such target file"
              : rc == CMEK_ERR_LIMIT ? "file larger than 1 MiB"
                                     : "cannot be read");
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    json_error_t jerr;
    root = json_loadb(cmek_buf_cstr(&text), text.len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        if (root == NULL) {
            s_why(why, why_len, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        } else {
            s_why(why, why_len, "%s: the target must be a JSON object", path);
        }
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    struct s_file_ctx fc = {path, &env, why, why_len, NULL};
    const json_t *emulator = json_object_get(root, "emulator");
    if (emulator != NULL && !json_is_boolean(emulator)) {
        s_why(why, why_len, "%s: field 'emulator' must be true or false", path);
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    tmp.emulator = emulator != NULL && json_is_true(emulator);
    /* The environment first, the file over it; an emulator target skips the environment
     * (see the top of this file). */
    if (!tmp.emulator) {
        rc = s_apply_environment(&tmp, &env, why, why_len);
        if (rc) {
            goto done;
        }
    }
    rc = s_apply_file(&fc, root, &tmp, &endpoint_url);
    rc = rc ? rc : s_finish(&tmp, endpoint_url, path, why, why_len);
    if (rc) {
        goto done;
    }
    cmek_target_clean_up(t);
    *t = tmp;
    cmek_target_init(&tmp);
done:
    free(endpoint_url);
    json_decref(root);
    if (text.data != NULL) {
        cmek_cleanse(text.data, text.len); /* the file may hold secrets */
    }
    cmek_buf_clean_up(&text);
    cmek_target_clean_up(&tmp);
    return rc;
}

int cmek_target_set_emulator_url(struct cmek_target *t, const char *base_url)
{
    int rc = CMEK_OK;
    char *copies[CMEK_SERVICE_COUNT] = {NULL};
    /* Never redirect a live target: the safety of emulator runs rests on it. */
    if (t == NULL || base_url == NULL || !t->emulator || !s_is_http_url(base_url)) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    for (size_t i = 0; i < CMEK_SERVICE_COUNT && rc == CMEK_OK; i++) {
        rc = s_set_url(&copies[i], base_url);
    }
    if (rc) {
        goto done;
    }
    for (size_t i = 0; i < CMEK_SERVICE_COUNT; i++) {
        free(t->endpoint[i]);
        t->endpoint[i] = copies[i];
        copies[i] = NULL;
    }
done:
    for (size_t i = 0; i < CMEK_SERVICE_COUNT; i++) {
        free(copies[i]);
    }
    return rc;
}
