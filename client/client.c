/* client.c: the one call every operation goes through.
 *
 * cmek_client_call: the service's codec builds the request (cmek_wire), s_authenticate adds
 * what the service wants to see (one function per scheme, chosen from a table by service),
 * the transport sends it, the codec reads the answer, and s_should_retry decides, from the
 * failure alone, whether another attempt is safe.
 *
 * Retries follow the AWS SDKs' "standard" retry mode (AWS SDKs and Tools Reference Guide,
 * "Retry behavior"): at most target->max_attempts tries; throttling errors and transient
 * server errors (500, 502, 503, 504) are retried, and connection failures. A non-idempotent
 * operation (CreateKey, ScheduleKeyDeletion...) is retried only when the service cannot have
 * applied it: it was throttled, or nothing was sent (CMEK_TRANSPORT_CONNECT). Before retry
 * number i (i = 0 for the first retry) the client waits a uniformly random
 * 0..min(20000, 100 * 2^i) ms ("full jitter"). Unlike the SDKs there is no retry quota
 * (token bucket): a client is used for one drill step at a time, not a fleet. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "client_internal.h"
#include "cmek/client.h"
#include "cmek/crypto.h"
#include "cmek/sigv4.h"

#define S_MAX_BACKOFF_MS  20000u
#define S_BASE_BACKOFF_MS 100u
#define S_MAX_HEADERS     (CMEK_WIRE_MAX_HEADERS + CMEK_SIGV4_MAX_ADDED_HEADERS + 8)
#define S_MAX_HOST        512
#define S_MAX_BEARER      8192u /* "Bearer " + an API key or JWT */

struct cmek_client {
    struct cmek_target target;       /* owned copy */
    struct cmek_aws_credentials aws; /* owned copy: options' aws_as, else target.aws */
    struct cmek_transport *transport;
    bool owns_transport;
    time_t (*now)(void *ctx);
    void (*sleep_ms)(void *ctx, unsigned ms);
    uint32_t (*random_u32)(void *ctx);
    void *seam_ctx;
};

/* ---- Errors ---- */

void cmek_api_error_clear(struct cmek_api_error *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
}

void cmek_api_error_set(struct cmek_api_error *err, enum cmek_failure failure, const char *fmt, ...)
{
    if (err == NULL) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    err->failure = failure;
}

/* ---- Seams' defaults ---- */

static time_t s_now_default(void *ctx)
{
    (void)ctx;
    return time(NULL);
}

static void s_sleep_default(void *ctx, unsigned ms)
{
    (void)ctx;
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
        /* interrupted: sleep the rest */
    }
}

static uint32_t s_random_default(void *ctx)
{
    (void)ctx;
    uint32_t v = 0;
    if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1) {
        v = UINT32_MAX / 2; /* no entropy: wait half the window rather than none */
    }
    return v;
}

/* ---- The handle ---- */

int cmek_client_new(const struct cmek_client_options *opt, struct cmek_client **out,
                    struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    struct cmek_client *c = NULL;
    cmek_api_error_clear(err);
    if (out == NULL || opt == NULL || opt->target == NULL) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "cmek_client_new: a target is required");
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    cmek_target_init(&c->target);
    rc = cmek_target_copy(&c->target, opt->target);
    if (rc == CMEK_OK) {
        rc = cmek_aws_credentials_copy(&c->aws,
                                       opt->aws_as != NULL ? opt->aws_as : &opt->target->aws);
    }
    if (rc) {
        goto done;
    }
    if (c->target.max_attempts == 0) {
        c->target.max_attempts = 1;
    }
    c->now = opt->now != NULL ? opt->now : s_now_default;
    c->sleep_ms = opt->sleep_ms != NULL ? opt->sleep_ms : s_sleep_default;
    c->random_u32 = opt->random_u32 != NULL ? opt->random_u32 : s_random_default;
    c->seam_ctx = opt->seam_ctx;
    if (opt->transport != NULL) {
        c->transport = opt->transport;
    } else {
        struct cmek_transport_options topt = {
            .ca_bundle = c->target.ca_bundle,
            .connect_timeout_ms = c->target.connect_timeout_ms,
            .timeout_ms = c->target.timeout_ms,
            .max_response_bytes = c->target.max_response_bytes,
        };
        rc = cmek_transport_curl_new(&topt, &c->transport);
        c->owns_transport = rc == CMEK_OK;
        if (rc) {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "cannot create the HTTP transport: %s",
                               cmek_error_str(rc));
            goto done;
        }
    }
    *out = c;
    c = NULL;
done:
    if (rc == CMEK_ERR_NOMEM && err != NULL && err->failure == CMEK_FAILURE_NONE) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "out of memory");
    }
    cmek_client_destroy(c);
    return rc;
}

void cmek_client_destroy(struct cmek_client *client)
{
    if (client == NULL) {
        return;
    }
    if (client->owns_transport && client->transport != NULL) {
        client->transport->destroy(client->transport);
    }
    cmek_target_clean_up(&client->target);
    cmek_aws_credentials_clean_up(&client->aws);
    free(client);
}

/* ---- Authentication, one function per scheme ---- */

/* One attempt's request: the wire's headers, then what authentication adds. Every pointer
 * is borrowed from the wire, the client, or the storage here. */
struct s_attempt {
    struct cmek_http_field fields[S_MAX_HEADERS];
    size_t n_fields;
    char host[S_MAX_HOST];
    struct cmek_sigv4_signed sig;
    struct cmek_buf bearer; /* "Bearer <key>": a secret, wiped after the call */
};

static int s_add_field(struct s_attempt *a, const char *name, const char *value)
{
    if (a->n_fields >= S_MAX_HEADERS) {
        return CMEK_ERR_LIMIT;
    }
    a->fields[a->n_fields++] = (struct cmek_http_field){name, value};
    return CMEK_OK;
}

/* Splits an absolute URL into the Host header curl sends (authority without a default
 * port), the path (never empty) and the raw query. */
struct s_url_parts {
    struct cmek_view path;
    struct cmek_view query;
};

static int s_split_url(const char *url, char *host, size_t host_len, struct s_url_parts *parts)
{
    size_t scheme_len;
    const char *default_port;
    if (strncmp(url, "https://", 8) == 0) {
        scheme_len = 8;
        default_port = ":443";
    } else if (strncmp(url, "http://", 7) == 0) {
        scheme_len = 7;
        default_port = ":80";
    } else {
        return CMEK_ERR_INVALID_ARG;
    }
    const char *auth = url + scheme_len;
    size_t auth_len = strcspn(auth, "/?#");
    if (auth_len == 0 || memchr(auth, '@', auth_len) != NULL) {
        return CMEK_ERR_INVALID_ARG; /* no host, or userinfo we would leak into logs */
    }
    size_t dp_len = strlen(default_port);
    size_t host_part = auth_len;
    if (auth_len > dp_len && memcmp(auth + auth_len - dp_len, default_port, dp_len) == 0) {
        host_part -= dp_len;
    }
    if (host_part >= host_len) {
        return CMEK_ERR_LIMIT;
    }
    memcpy(host, auth, host_part);
    host[host_part] = '\0';
    const char *rest = auth + auth_len;
    size_t path_len = strcspn(rest, "?#");
    parts->path = path_len > 0 ? (struct cmek_view){rest, path_len} : cmek_view_from_cstr("/");
    const char *q = rest + path_len;
    parts->query =
        *q == '?' ? (struct cmek_view){q + 1, strcspn(q + 1, "#")} : (struct cmek_view){q, 0};
    return CMEK_OK;
}

struct s_auth_ctx {
    struct cmek_client *client;
    const struct cmek_operation *op;
    const struct cmek_wire *wire;
};

static int s_auth_sigv4(const struct s_auth_ctx *ac, struct s_attempt *a,
                        struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    struct cmek_client *c = ac->client;
    struct cmek_http_header views[S_MAX_HEADERS];
    struct cmek_http_header added[CMEK_SIGV4_MAX_ADDED_HEADERS];
    size_t n_added = 0;
    struct s_url_parts parts;
    const char *service = cmek_service_name(ac->op->service);
    const char *region =
        ac->op->service == CMEK_SERVICE_IAM ? c->target.iam_region : c->target.region;
    rc = s_split_url(cmek_buf_cstr(&ac->wire->url), a->host, sizeof(a->host), &parts);
    if (rc == CMEK_OK) {
        /* Host first and given to the transport too: what is signed is what is sent. */
        memmove(&a->fields[1], &a->fields[0], a->n_fields * sizeof(a->fields[0]));
        a->fields[0] = (struct cmek_http_field){"Host", a->host};
        a->n_fields++;
    }
    if (rc) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "cannot sign a request to '%s'",
                           cmek_buf_cstr(&ac->wire->url));
        goto done;
    }
    for (size_t i = 0; i < a->n_fields; i++) {
        views[i] = (struct cmek_http_header){cmek_view_from_cstr(a->fields[i].name),
                                             cmek_view_from_cstr(a->fields[i].value)};
    }
    struct cmek_sigv4_request req = {
        .method = cmek_view_from_cstr(ac->wire->method),
        .path = parts.path,
        .query = parts.query,
        .headers = views,
        .n_headers = a->n_fields,
        .body = {cmek_buf_cstr(&ac->wire->body), ac->wire->body.len},
    };
    struct cmek_sigv4_credentials creds = {c->aws.access_key_id, c->aws.secret_access_key,
                                           c->aws.session_token};
    struct cmek_sigv4_sign_options opt = {
        .credentials = &creds,
        .region = region,
        .service = service,
        .when = c->now(c->seam_ctx),
        .normalize_path = true,
    };
    rc = cmek_sigv4_sign_to_headers(&req, &opt, &a->sig, added, &n_added);
    if (rc) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "signing the %s request failed: %s", service,
                           cmek_error_str(rc));
        goto done;
    }
    /* The added views point at NUL-terminated storage (a->sig, c->aws): safe as C strings. */
    for (size_t i = 0; i < n_added && rc == CMEK_OK; i++) {
        rc = s_add_field(a, added[i].name.ptr, added[i].value.ptr);
    }
done:
    return rc;
}

static int s_auth_ccloud(const struct s_auth_ctx *ac, struct s_attempt *a,
                         struct cmek_api_error *err)
{
    (void)err;
    const struct cmek_target *t = &ac->client->target;
    cmek_buf_reset(&a->bearer);
    int rc = cmek_buf_appendf(&a->bearer, "Bearer %s", t->ccloud_api_key);
    if (rc == CMEK_OK) {
        rc = s_add_field(a, "Authorization", cmek_buf_cstr(&a->bearer));
    }
    if (rc == CMEK_OK) {
        rc = s_add_field(a, "Cc-Version", t->cc_version);
    }
    if (rc == CMEK_OK) {
        rc = s_add_field(a, "Accept", "application/json");
    }
    return rc;
}

static int s_auth_vault(const struct s_auth_ctx *ac, struct s_attempt *a,
                        struct cmek_api_error *err)
{
    (void)err;
    const struct cmek_target *t = &ac->client->target;
    int rc = CMEK_OK;
    /* "" is a deliberate "no token" (a drill of what Vault says without one); NULL was
     * refused by s_check_vault. */
    if (t->vault_token != NULL && t->vault_token[0] != '\0') {
        rc = s_add_field(a, "X-Vault-Token", t->vault_token);
    }
    if (rc == CMEK_OK) {
        rc = s_add_field(a, "X-Vault-Request", "true");
    }
    if (rc == CMEK_OK && t->vault_namespace != NULL && t->vault_namespace[0] != '\0') {
        rc = s_add_field(a, "X-Vault-Namespace", t->vault_namespace);
    }
    return rc;
}

static int s_auth_none(const struct s_auth_ctx *ac, struct s_attempt *a, struct cmek_api_error *err)
{
    (void)ac;
    (void)a;
    (void)err;
    return CMEK_OK;
}

/* What a service needs before anything is sent; an empty message means ready. */
static void s_check_sigv4(const struct cmek_client *c, const struct cmek_operation *op,
                          struct cmek_api_error *err)
{
    if (c->aws.access_key_id == NULL || c->aws.secret_access_key == NULL) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                           "no AWS credentials for %s.%s on target '%s': set AWS_ACCESS_KEY_ID "
                           "and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary "
                           "credentials), or AWS_PROFILE naming a profile in ~/.aws/credentials, "
                           "or aws.access_key_id and aws.secret_access_key in the target file",
                           cmek_service_name(op->service), op->name,
                           c->target.name ? c->target.name : "");
    }
}

static void s_check_ccloud(const struct cmek_client *c, const struct cmek_operation *op,
                           struct cmek_api_error *err)
{
    if (c->target.ccloud_api_key == NULL) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                           "no CockroachDB Cloud API key for ccloud.%s on target '%s': set "
                           "COCKROACH_API_KEY, or ccloud.api_key in the target file",
                           op->name, c->target.name ? c->target.name : "");
    }
}

static void s_check_vault(const struct cmek_client *c, const struct cmek_operation *op,
                          struct cmek_api_error *err)
{
    if (c->target.vault_token == NULL) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                           "no Vault token for vault.%s on target '%s': set VAULT_TOKEN, or "
                           "vault.token in the target file",
                           op->name, c->target.name ? c->target.name : "");
    }
}

static void s_check_none(const struct cmek_client *c, const struct cmek_operation *op,
                         struct cmek_api_error *err)
{
    (void)c;
    (void)op;
    (void)err;
}

struct s_auth_scheme {
    void (*check)(const struct cmek_client *c, const struct cmek_operation *op,
                  struct cmek_api_error *err);
    int (*add)(const struct s_auth_ctx *ac, struct s_attempt *a, struct cmek_api_error *err);
};

static const struct s_auth_scheme s_schemes[CMEK_SERVICE_COUNT] = {
    [CMEK_SERVICE_IAM] = {s_check_sigv4, s_auth_sigv4},
    [CMEK_SERVICE_STS] = {s_check_sigv4, s_auth_sigv4},
    [CMEK_SERVICE_KMS] = {s_check_sigv4, s_auth_sigv4},
    [CMEK_SERVICE_CCLOUD] = {s_check_ccloud, s_auth_ccloud},
    [CMEK_SERVICE_VAULT] = {s_check_vault, s_auth_vault},
    [CMEK_SERVICE_EMULATOR] = {s_check_none, s_auth_none},
};

/* ---- Retry rules ---- */

/* The throttling codes of the AWS SDKs' standard retry mode. LimitExceededException is not
 * here: in KMS it is a quota that waiting a few hundred milliseconds does not lift. */
static const char *const s_throttling_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

static bool s_is_throttling(const struct cmek_api_error *err)
{
    if (err->http_status == 429) {
        return true;
    }
    for (size_t i = 0; i < sizeof(s_throttling_codes) / sizeof(s_throttling_codes[0]); i++) {
        if (strcmp(err->code, s_throttling_codes[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool s_is_transient_status(long status)
{
    return status == 500 || status == 502 || status == 503 || status == 504;
}

/* Whether a failed attempt may be repeated. */
static bool s_should_retry(const struct cmek_operation *op, int rc,
                           enum cmek_transport_failure failure, const struct cmek_api_error *err)
{
    if (rc == CMEK_ERR_TRANSPORT) {
        switch (failure) {
        case CMEK_TRANSPORT_CONNECT:
            return true; /* nothing was sent */
        case CMEK_TRANSPORT_TIMEOUT:
        case CMEK_TRANSPORT_BROKEN:
            return op->idempotent; /* the service may have applied it */
        case CMEK_TRANSPORT_OK:
        case CMEK_TRANSPORT_TLS:
        case CMEK_TRANSPORT_TOO_BIG:
        case CMEK_TRANSPORT_INTERNAL:
        default:
            return false; /* repeating cannot help */
        }
    }
    if (rc == CMEK_ERR_SERVICE) {
        return s_is_throttling(err) || (op->idempotent && s_is_transient_status(err->http_status));
    }
    return false;
}

/* Full jitter: uniform in 0..min(20 s, 100 ms * 2^retry). */
static unsigned s_backoff_ms(struct cmek_client *c, unsigned retry)
{
    uint64_t cap = S_BASE_BACKOFF_MS;
    for (unsigned i = 0; i < retry && cap < S_MAX_BACKOFF_MS; i++) {
        cap *= 2;
    }
    cap = cap < S_MAX_BACKOFF_MS ? cap : S_MAX_BACKOFF_MS;
    return (unsigned)(c->random_u32(c->seam_ctx) % (cap + 1));
}

static const char *s_transport_failure_name(enum cmek_transport_failure f)
{
    switch (f) {
    case CMEK_TRANSPORT_OK:
        return "ok";
    case CMEK_TRANSPORT_CONNECT:
        return "could not connect";
    case CMEK_TRANSPORT_TLS:
        return "TLS failure";
    case CMEK_TRANSPORT_TIMEOUT:
        return "timed out";
    case CMEK_TRANSPORT_TOO_BIG:
        return "response too large";
    case CMEK_TRANSPORT_BROKEN:
        return "connection broken";
    case CMEK_TRANSPORT_INTERNAL:
    default:
        return "transport failure";
    }
}

/* ---- The call ---- */

/* One attempt: authenticate, send, read. */
static int s_attempt_once(const struct s_auth_ctx *ac, struct s_attempt *a,
                          struct cmek_http_response *resp, enum cmek_transport_failure *failure,
                          json_t **out, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    struct cmek_client *c = ac->client;
    const struct cmek_wire *wire = ac->wire;
    char why[512] = "";
    a->n_fields = 0;
    *failure = CMEK_TRANSPORT_OK;
    for (size_t i = 0; i < wire->n_headers && rc == CMEK_OK; i++) {
        rc = s_add_field(a, wire->header_names[i], wire->header_values[i]);
    }
    if (rc == CMEK_OK) {
        rc = s_schemes[ac->op->service].add(ac, a, err);
    }
    if (rc) {
        if (err->message[0] == '\0') {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "cannot build the request: %s",
                               cmek_error_str(rc));
        }
        err->failure = CMEK_FAILURE_CLIENT;
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    struct cmek_http_request req = {
        .method = wire->method,
        .url = cmek_buf_cstr(&wire->url),
        .headers = a->fields,
        .n_headers = a->n_fields,
        .body = wire->body.len > 0 ? wire->body.data : NULL,
        .body_len = wire->body.len,
    };
    rc = c->transport->send(c->transport, &req, resp, failure, why, sizeof(why));
    if (rc) {
        cmek_api_error_set(err, CMEK_FAILURE_TRANSPORT, "%s %s: %s%s%s", wire->method, req.url,
                           s_transport_failure_name(*failure), why[0] ? ": " : "", why);
        rc = CMEK_ERR_TRANSPORT;
        goto done;
    }
    rc = cmek_codec_for(ac->op->service)->parse(ac->op, resp, out, err);
    if (rc) {
        err->failure = CMEK_FAILURE_SERVICE;
        err->http_status = err->http_status != 0 ? err->http_status : resp->status;
        rc = CMEK_ERR_SERVICE;
    }
done:
    return rc;
}

int cmek_client_call(struct cmek_client *client, const struct cmek_operation *op,
                     const json_t *input, json_t **out, struct cmek_api_error *err)
{
    int rc = CMEK_OK;
    struct cmek_api_error scratch;
    json_t *empty = NULL;
    struct cmek_wire wire;
    struct cmek_http_response resp;
    struct s_attempt *a = NULL;
    cmek_wire_init(&wire);
    cmek_http_response_init(&resp);
    err = err != NULL ? err : &scratch;
    cmek_api_error_clear(err);
    if (out != NULL) {
        *out = NULL;
    }
    if (client == NULL || op == NULL || out == NULL ||
        (unsigned)op->service >= CMEK_SERVICE_COUNT) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "cmek_client_call: bad arguments");
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    const struct cmek_target *t = &client->target;
    const char *svc = cmek_service_name(op->service);
    if (op->emulator_only && !t->emulator) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT,
                           "%s.%s exists only on cmek-emulator; target '%s' is not an emulator",
                           svc, op->name, t->name ? t->name : "");
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    if (t->endpoint[op->service] == NULL) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "target '%s' has no %s endpoint",
                           t->name ? t->name : "", svc);
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    s_schemes[op->service].check(client, op, err);
    if (err->failure != CMEK_FAILURE_NONE) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    if (input == NULL) {
        empty = json_object();
        if (empty == NULL) {
            rc = CMEK_ERR_NOMEM;
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "out of memory");
            goto done;
        }
    }
    const struct cmek_codec *codec = cmek_codec_for(op->service);
    rc = codec->build(t, op, input != NULL ? input : empty, &wire, err);
    if (rc) {
        err->failure = CMEK_FAILURE_CLIENT;
        if (err->message[0] == '\0') {
            cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "%s.%s: cannot build the request: %s", svc,
                               op->name, cmek_error_str(rc));
        }
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    a = calloc(1, sizeof(*a));
    if (a == NULL) {
        rc = CMEK_ERR_NOMEM;
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "out of memory");
        goto done;
    }
    cmek_sigv4_signed_init(&a->sig);
    cmek_buf_init(&a->bearer, S_MAX_BEARER);
    struct s_auth_ctx ac = {client, op, &wire};
    for (unsigned attempt = 1;; attempt++) {
        enum cmek_transport_failure failure = CMEK_TRANSPORT_OK;
        cmek_api_error_clear(err);
        rc = s_attempt_once(&ac, a, &resp, &failure, out, err);
        err->attempts = attempt;
        if (rc == CMEK_OK || attempt >= t->max_attempts || !s_should_retry(op, rc, failure, err)) {
            break;
        }
        json_decref(*out);
        *out = NULL;
        client->sleep_ms(client->seam_ctx, s_backoff_ms(client, attempt - 1));
    }
done:
    if (rc != CMEK_OK && out != NULL) {
        json_decref(*out);
        *out = NULL;
    }
    if (a != NULL) {
        cmek_sigv4_signed_clean_up(&a->sig);
        if (a->bearer.data != NULL) {
            cmek_cleanse(a->bearer.data, a->bearer.len);
        }
        cmek_buf_clean_up(&a->bearer);
        free(a);
    }
    json_decref(empty);
    cmek_http_response_clean_up(&resp);
    cmek_wire_clean_up(&wire);
    return rc;
}

int cmek_client_call_named(struct cmek_client *client, const char *qualified, const json_t *input,
                           json_t **out, struct cmek_api_error *err)
{
    const struct cmek_operation *op = qualified != NULL ? cmek_operation_find(qualified) : NULL;
    if (op == NULL) {
        struct cmek_api_error scratch;
        err = err != NULL ? err : &scratch;
        cmek_api_error_clear(err);
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "unknown operation '%s'",
                           qualified != NULL ? qualified : "(null)");
        if (out != NULL) {
            *out = NULL;
        }
        return CMEK_ERR_INVALID_ARG;
    }
    return cmek_client_call(client, op, input, out, err);
}
