/* operations.c: libcmek's operation table, built once from the X-macro lists of every service
 * header, the codec each service speaks, and the named calls (cmek_kms_encrypt ...), which are
 * one-line calls of cmek_client_call with their table entry.
 *
 * The table is const data, sorted by nothing in particular: cmek_operation_find is a linear
 * scan over ~100 entries, which is cheaper than keeping a second index in sync. */
#include <string.h>

#include "client_internal.h"
#include "codecs.h"
#include "cmek/ccloud.h"
#include "cmek/emulator.h"
#include "cmek/iam.h"
#include "cmek/kms.h"
#include "cmek/sts.h"
#include "cmek/vault.h"

/* Positions in s_operations, so the named calls reach their entry without a lookup. */
enum s_op_index {
#define S_IAM_INDEX(name, wire, idem)                   S_OP_iam_##name,
#define S_STS_INDEX(name, wire, idem)                   S_OP_sts_##name,
#define S_KMS_INDEX(name, wire, idem)                   S_OP_kms_##name,
#define S_REST_INDEX_CCLOUD(name, method, path, idem)   S_OP_ccloud_##name,
#define S_REST_INDEX_VAULT(name, method, path, idem)    S_OP_vault_##name,
#define S_REST_INDEX_EMULATOR(name, method, path, idem) S_OP_emulator_##name,
    CMEK_IAM_OPERATIONS(S_IAM_INDEX) CMEK_STS_OPERATIONS(S_STS_INDEX)
        CMEK_KMS_OPERATIONS(S_KMS_INDEX) CMEK_CCLOUD_OPERATIONS(S_REST_INDEX_CCLOUD)
            CMEK_VAULT_OPERATIONS(S_REST_INDEX_VAULT)
                CMEK_EMULATOR_OPERATIONS(S_REST_INDEX_EMULATOR) S_OP_COUNT
};

static const struct cmek_operation s_operations[S_OP_COUNT] = {
#define S_IAM_ENTRY(name, wire, idem) {CMEK_SERVICE_IAM, #name, wire, "POST", idem, false},
#define S_STS_ENTRY(name, wire, idem) {CMEK_SERVICE_STS, #name, wire, "POST", idem, false},
#define S_KMS_ENTRY(name, wire, idem) {CMEK_SERVICE_KMS, #name, wire, "POST", idem, false},
#define S_CCLOUD_ENTRY(name, method, path, idem)                                                   \
    {CMEK_SERVICE_CCLOUD, #name, path, method, idem, false},
#define S_VAULT_ENTRY(name, method, path, idem)                                                    \
    {CMEK_SERVICE_VAULT, #name, path, method, idem, false},
#define S_EMULATOR_ENTRY(name, method, path, idem)                                                 \
    {CMEK_SERVICE_EMULATOR, #name, path, method, idem, true},
    CMEK_IAM_OPERATIONS(S_IAM_ENTRY) CMEK_STS_OPERATIONS(S_STS_ENTRY)
        CMEK_KMS_OPERATIONS(S_KMS_ENTRY) CMEK_CCLOUD_OPERATIONS(S_CCLOUD_ENTRY)
            CMEK_VAULT_OPERATIONS(S_VAULT_ENTRY) CMEK_EMULATOR_OPERATIONS(S_EMULATOR_ENTRY)};

const struct cmek_operation *cmek_operation_find(const char *qualified)
{
    if (qualified == NULL) {
        return NULL;
    }
    const char *dot = strchr(qualified, '.');
    if (dot == NULL) {
        return NULL;
    }
    size_t svc_len = (size_t)(dot - qualified);
    for (size_t i = 0; i < S_OP_COUNT; i++) {
        const struct cmek_operation *op = &s_operations[i];
        const char *svc = cmek_service_name(op->service);
        if (strlen(svc) == svc_len && memcmp(svc, qualified, svc_len) == 0 &&
            strcmp(op->name, dot + 1) == 0) {
            return op;
        }
    }
    return NULL;
}

size_t cmek_operation_count(void)
{
    return S_OP_COUNT;
}

const struct cmek_operation *cmek_operation_at(size_t i)
{
    return i < S_OP_COUNT ? &s_operations[i] : NULL;
}

const struct cmek_codec *cmek_codec_for(enum cmek_service svc)
{
    switch (svc) {
    case CMEK_SERVICE_KMS:
        return &cmek_codec_awsjson;
    case CMEK_SERVICE_IAM:
    case CMEK_SERVICE_STS:
        return &cmek_codec_query;
    case CMEK_SERVICE_CCLOUD:
    case CMEK_SERVICE_VAULT:
    case CMEK_SERVICE_EMULATOR:
        return &cmek_codec_rest;
    case CMEK_SERVICE_COUNT:
    default:
        return NULL;
    }
}

/* The named calls: cmek_<svc>_<name>(client, input, out, err). */
#define S_DEFINE_CALL(svc, name)                                                                   \
    int cmek_##svc##_##name(struct cmek_client *client, const json_t *input, json_t **out,         \
                            struct cmek_api_error *err)                                            \
    {                                                                                              \
        return cmek_client_call(client, &s_operations[S_OP_##svc##_##name], input, out, err);      \
    }
#define S_AWS_CALL_IAM(name, wire, idem)               S_DEFINE_CALL(iam, name)
#define S_AWS_CALL_STS(name, wire, idem)               S_DEFINE_CALL(sts, name)
#define S_AWS_CALL_KMS(name, wire, idem)               S_DEFINE_CALL(kms, name)
#define S_REST_CALL_CCLOUD(name, method, path, idem)   S_DEFINE_CALL(ccloud, name)
#define S_REST_CALL_VAULT(name, method, path, idem)    S_DEFINE_CALL(vault, name)
#define S_REST_CALL_EMULATOR(name, method, path, idem) S_DEFINE_CALL(emulator, name)
CMEK_IAM_OPERATIONS(S_AWS_CALL_IAM)
CMEK_STS_OPERATIONS(S_AWS_CALL_STS)
CMEK_KMS_OPERATIONS(S_AWS_CALL_KMS)
CMEK_CCLOUD_OPERATIONS(S_REST_CALL_CCLOUD)
CMEK_VAULT_OPERATIONS(S_REST_CALL_VAULT)
CMEK_EMULATOR_OPERATIONS(S_REST_CALL_EMULATOR)

/* AssumeRole's output (proto_query.c's reading of <AssumeRoleResult>) as an identity. */
int cmek_sts_session_credentials(const json_t *assume_role_output, struct cmek_aws_credentials *out)
{
    int rc = CMEK_ERR_PARSE;
    struct cmek_aws_credentials tmp = {0};
    const json_t *creds = json_object_get(assume_role_output, "Credentials");
    const char *id = json_string_value(json_object_get(creds, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(creds, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(creds, "SessionToken"));
    if (out == NULL) {
        return CMEK_ERR_INVALID_ARG;
    }
    if (id == NULL || secret == NULL || token == NULL || id[0] == '\0' || secret[0] == '\0' ||
        token[0] == '\0') {
        goto done;
    }
    tmp.access_key_id = (char *)id;
    tmp.secret_access_key = (char *)secret;
    tmp.session_token = (char *)token;
    rc = cmek_aws_credentials_copy(out, &tmp);
done:
    return rc;
}

/* ---- Helpers the codecs share (codecs.h) ---- */

int cmek_codec_set_url(const struct cmek_target *target, enum cmek_service svc, const char *path,
                       struct cmek_wire *wire, struct cmek_api_error *err)
{
    const char *base = NULL;
    if (target != NULL && (unsigned)svc < CMEK_SERVICE_COUNT) {
        base = target->endpoint[svc];
    }
    if (base == NULL || base[0] == '\0') {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "the target has no %s endpoint",
                           cmek_service_name(svc));
        return CMEK_ERR_INVALID_ARG;
    }
    cmek_buf_reset(&wire->url);
    int rc = cmek_buf_append_str(&wire->url, base);
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_str(&wire->url, path);
    }
    if (rc == CMEK_ERR_LIMIT) {
        cmek_api_error_set(err, CMEK_FAILURE_CLIENT, "the %s request URL is longer than %u bytes",
                           cmek_service_name(svc), CMEK_WIRE_MAX_URL);
        rc = CMEK_ERR_INVALID_ARG;
    }
    return rc;
}

int cmek_codec_append_encoded(struct cmek_buf *buf, const char *str, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = CMEK_OK;
    for (size_t i = 0; i < len && rc == CMEK_OK; i++) {
        unsigned char c = (unsigned char)str[i];
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
        if (keep) {
            rc = cmek_buf_append_byte(buf, (char)c);
        } else {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = cmek_buf_append(buf, enc, sizeof enc);
        }
    }
    return rc;
}

bool cmek_codec_is_success(long status)
{
    return status >= 200 && status <= 299;
}

int cmek_codec_parse_json(const struct cmek_buf *body, json_t **out)
{
    *out = NULL;
    if (body->len == 0) {
        *out = json_object();
        return *out != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
    }
    json_error_t jerr;
    *out = json_loadb(body->data, body->len, JSON_REJECT_DUPLICATES, &jerr);
    return *out != NULL ? CMEK_OK : CMEK_ERR_PARSE;
}

void cmek_codec_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0) {
        return;
    }
    size_t n = src != NULL ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
    }
    if (n > 0) {
        memcpy(dst, src, n);
    }
    dst[n] = '\0';
}

int cmek_codec_unreadable(const struct cmek_http_response *resp, const char *what,
                          struct cmek_api_error *err)
{
    /* Each quoted byte takes at most 4 characters (\xNN). */
    char quote[CMEK_CODEC_QUOTE_BYTES * 4 + 4];
    size_t q = 0;
    size_t n = resp->body.len < CMEK_CODEC_QUOTE_BYTES ? resp->body.len : CMEK_CODEC_QUOTE_BYTES;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)resp->body.data[i];
        if (c == '"' || c == '\\') {
            quote[q++] = '\\';
            quote[q++] = (char)c;
        } else if (c >= 0x20 && c < 0x7f) {
            quote[q++] = (char)c;
        } else {
            static const char hex[] = "0123456789abcdef";
            quote[q++] = '\\';
            quote[q++] = 'x';
            quote[q++] = hex[c >> 4];
            quote[q++] = hex[c & 15];
        }
    }
    quote[q] = '\0';
    cmek_api_error_set(err, CMEK_FAILURE_SERVICE, "%s (HTTP %ld): \"%s%s\"", what, resp->status,
                       quote, resp->body.len > n ? "..." : "");
    err->http_status = resp->status;
    err->code[0] = '\0';
    err->ccloud_code = 0;
    return CMEK_ERR_SERVICE;
}
