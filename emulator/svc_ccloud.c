/* svc_ccloud.c: the CockroachDB Cloud API (https://cockroachlabs.cloud/api/v1, OpenAPI
 * 2024-09-16; ../shared/reference/ccloud.md and ccloud-openapi.json) for the operations of
 * the CMEK lifecycle, and the emulator's cluster data endpoints under /_emulator/clusters/
 * (../shared/CONTRACT.md).
 *
 * The API is grpc-gateway: errors are google.rpc.Status {code, message, details} with the
 * gRPC code and the HTTP status of the gateway's mapping (s_http_status); bodies are
 * protojson with EmitUnpopulated (every scalar field present, enums as names, int64 as
 * strings; unset message fields such as deleted_at are left out rather than null, since the
 * spec does not mark them nullable); unknown request fields are ignored; a bad enum value is
 * protojson's "proto: (line L:C): invalid value for enum type: \"X\"".
 *
 * A request: Cc-Version (known versions, absent = latest, else 400 "invalid Cc-Version",
 * echoed in every answer) -> route table (method + path pattern) -> bearer API key (CCDB1_...)
 * -> the cluster's pending work (ccloud_agent.h, lock released) -> lock -> handler -> unlock.
 * Another organization's cluster is not found.
 *
 * Where the emulator decides what the reference leaves open (README, "Cloud API" table):
 * GET /cmek before CMEK was requested is 404 NOT_FOUND (Terraform drops the resource on 404);
 * POST /cmek when CMEK is on is 409 ALREADY_EXISTS; PUT before enable, REVOKE without CMEK,
 * REVOKE twice, POST/PUT after REVOKED and any change while an operation is pending are 400
 * FAILED_PRECONDITION; a region added to a CMEK cluster without its key is 400
 * INVALID_ARGUMENT; CMEK on a cluster still CREATING is 503 UNAVAILABLE (Terraform waits). */
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app.h"
#include "ccloud_agent.h"
#include "ccloud_model.h"
#include "cmek/crypto.h"
#include "cmek/timeutil.h"
#include "service.h"
#include "store.h"

#define S_LATEST_VERSION "2024-09-16"
#define S_MAX_PARAM      512
#define S_DEFAULT_LIMIT  100
#define S_MAX_LIMIT      500

static const char *const s_versions[] = {"2022-03-31", "2022-09-20", "2023-04-10",
                                         S_LATEST_VERSION};

/* gRPC codes the emulator sends. */
enum s_code {
    S_INVALID_ARGUMENT = 3,
    S_NOT_FOUND = 5,
    S_ALREADY_EXISTS = 6,
    S_PERMISSION_DENIED = 7,
    S_RESOURCE_EXHAUSTED = 8,
    S_FAILED_PRECONDITION = 9,
    S_ABORTED = 10,
    S_UNIMPLEMENTED = 12,
    S_INTERNAL = 13,
    S_UNAVAILABLE = 14,
    S_UNAUTHENTICATED = 16,
};

/* grpc-gateway's runtime.HTTPStatusFromCode (ccloud.md §3). */
static const struct {
    int code;
    int http;
} s_http_map[] = {
    {S_INVALID_ARGUMENT, 400},
    {S_FAILED_PRECONDITION, 400},
    {11, 400},
    {S_UNAUTHENTICATED, 401},
    {S_PERMISSION_DENIED, 403},
    {S_NOT_FOUND, 404},
    {S_ALREADY_EXISTS, 409},
    {S_ABORTED, 409},
    {S_RESOURCE_EXHAUSTED, 429},
    {S_UNIMPLEMENTED, 501},
    {S_INTERNAL, 500},
    {2, 500},
    {S_UNAVAILABLE, 503},
    {4, 504},
};

static int s_http_status(int code)
{
    for (size_t i = 0; i < sizeof(s_http_map) / sizeof(s_http_map[0]); i++) {
        if (s_http_map[i].code == code) {
            return s_http_map[i].http;
        }
    }
    return 500;
}

struct s_ctx {
    struct emu_app *app;
    const struct emu_request *req;
    struct emu_response *resp;
    const char *org_id; /* the caller's organization (points at org), NULL for emulator routes */
    char org[EMU_CC_MAX_FIELD + 1];
    char params[2][S_MAX_PARAM + 1];
    int64_t now;
    bool done; /* the answer is rendered */
};

/* ---- rendering ---- */

static void s_write_json(struct emu_response *resp, int status, json_t *value, size_t flags)
{
    char *text = value ? json_dumps(value, flags | JSON_PRESERVE_ORDER) : NULL;
    json_decref(value);
    cmek_buf_reset(&resp->body);
    resp->status = status;
    resp->content_type = "application/json";
    if (text == NULL || cmek_buf_append_str(&resp->body, text)) {
        resp->status = 0;
    }
    free(text);
}

static void s_status_body(struct emu_response *resp, int code, const char *message)
{
    /* grpc-gateway indents its error bodies (the observed 404 was pretty-printed). */
    s_write_json(resp, s_http_status(code),
                 json_pack("{s:i,s:s,s:[]}", "code", code, "message", message, "details"),
                 JSON_INDENT(2));
}

static void s_fail(struct s_ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_fail(struct s_ctx *x, int code, const char *fmt, ...)
{
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    s_status_body(x->resp, code, message);
    x->done = true;
}

static void s_ok(struct s_ctx *x, json_t *value)
{
    s_write_json(x->resp, 200, value, JSON_COMPACT);
    x->done = true;
}

static void s_render_error(const struct emu_app *app, const struct emu_request *req,
                           struct emu_response *resp, int status, const char *code,
                           const char *message)
{
    (void)app;
    (void)req;
    (void)code;
    int grpc = status == 404   ? S_NOT_FOUND
               : status == 413 ? S_RESOURCE_EXHAUSTED
               : status == 401 ? S_UNAUTHENTICATED
               : status >= 500 ? S_INTERNAL
                               : S_INVALID_ARGUMENT;
    s_status_body(resp, grpc, message);
    if (resp->status != 0) {
        resp->status = status;
    }
}

static json_t *s_time(int64_t t)
{
    char s[CMEK_ISO8601_LEN + 1];
    cmek_time_format_iso8601((time_t)t, s);
    return json_string(s);
}

static json_t *s_cmek_info(const struct emu_cc_cluster *c)
{
    json_t *regions = json_array();
    for (size_t i = 0; regions != NULL && i < c->regions.len; i++) {
        const struct emu_cc_region *r = c->regions.items[i];
        if (r->key_infos.len == 0) {
            continue;
        }
        json_t *infos = json_array();
        for (size_t k = 0; infos != NULL && k < r->key_infos.len; k++) {
            const struct emu_cc_key_info *ki = r->key_infos.items[k];
            json_array_append_new(
                infos,
                json_pack("{s:o,s:{s:s,s:s,s:s},s:s,s:o,s:s}", "created_at", s_time(ki->created_s),
                          "spec", "auth_principal", ki->auth_principal, "type", ki->type, "uri",
                          ki->uri, "status", emu_cc_status_name(ki->status), "updated_at",
                          s_time(ki->updated_s), "user_message", ki->user_message));
        }
        json_array_append_new(regions, json_pack("{s:o,s:s,s:s}", "key_infos", infos, "region",
                                                 r->name, "status", emu_cc_status_name(r->status)));
    }
    return json_pack("{s:o,s:s}", "region_infos", regions, "status",
                     emu_cc_status_name(c->cmek_status));
}

static json_t *s_region_json(const struct emu_cc_cluster *c, const struct emu_cc_region *r)
{
    char sql[512], ui[512], internal[512], priv[512];
    snprintf(sql, sizeof(sql), "%s-%.4s.aws-%s.cockroachlabs.cloud", c->name, c->id, r->name);
    snprintf(ui, sizeof(ui), "admin-%s-%.4s.aws-%s.cockroachlabs.cloud", c->name, c->id, r->name);
    snprintf(internal, sizeof(internal), "internal-%s-%.4s.aws-%s.cockroachlabs.cloud", c->name,
             c->id, r->name);
    snprintf(priv, sizeof(priv), "private-%s-%.4s.aws-%s.cockroachlabs.cloud", c->name, c->id,
             r->name);
    return json_pack("{s:s,s:s,s:i,s:b,s:s,s:s,s:s,s:s}", "internal_dns", internal, "name", r->name,
                     "node_count", (int)r->node_count, "primary", 0, "private_endpoint_dns", priv,
                     "s3_vpc_endpoint_id", "", "sql_dns", sql, "ui_dns", ui);
}

static json_t *s_cluster_json(const struct emu_cc_cluster *c)
{
    json_t *regions = json_array();
    for (size_t i = 0; regions != NULL && i < c->regions.len; i++) {
        json_array_append_new(regions, s_region_json(c, c->regions.items[i]));
    }
    const struct emu_cc_region *first = c->regions.len ? c->regions.items[0] : NULL;
    char sql[512];
    snprintf(sql, sizeof(sql), "%s-%.4s.aws-%s.cockroachlabs.cloud", c->name, c->id,
             first ? first->name : "");
    const char *operation =
        c->pending != EMU_CC_PENDING_NONE ? "CRDB_CMEK_OPERATION_RUNNING" : "UNSPECIFIED";
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:{s:{s:s,s:i,s:i,s:f,s:i}},s:o,s:s,s:s,s:s,s:s,s:b,s:O,s:s,s:s,"
        "s:s,s:s,s:s,s:o,s:s,s:s,s:o,s:s}",
        "account_id", c->account_id, "azure_cluster_identity_client_id", "", "cidr_range", "",
        "cloud_provider", c->cloud_provider, "cockroach_version", c->cockroach_version, "config",
        "dedicated", "machine_type", c->machine_type, "num_virtual_cpus", (int)c->num_virtual_cpus,
        "storage_gib", (int)c->storage_gib, "memory_gib", (double)c->num_virtual_cpus * 4.0,
        "disk_iops", (int)c->disk_iops, "created_at", s_time(c->created_s), "creator_id",
        c->creator_id, "delete_protection", c->delete_protection, "egress_traffic_policy",
        "ALLOW_ALL", "id", c->id, "is_customer_cloud_account", 0, "labels", c->labels, "name",
        c->name, "network_visibility", c->network_visibility, "operation_status", operation,
        "parent_id", c->parent_id, "plan", c->plan, "regions", regions, "sql_dns", sql, "state",
        c->state, "updated_at", s_time(c->updated_s), "upgrade_status", "FINALIZED");
    if (o != NULL && c->deleted_s != 0) {
        json_object_set_new(o, "deleted_at", s_time(c->deleted_s));
    }
    return o;
}

/* ---- request parsing ---- */

/* Line and column (1-based) of the first occurrence of needle in the body, as protojson
 * reports positions; 1:1 when absent. */
static void s_position(const struct emu_request *req, const char *needle, int *line, int *col)
{
    size_t n = strlen(needle);
    *line = 1;
    *col = 1;
    for (size_t i = 0; i + n <= req->body.len; i++) {
        if (memcmp(req->body.ptr + i, needle, n) == 0) {
            return;
        }
        if (req->body.ptr[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
    *line = 1;
    *col = 1;
}

static json_t *s_body(struct s_ctx *x)
{
    json_error_t jerr;
    json_t *body = json_loadb(x->req->body.ptr, x->req->body.len, JSON_REJECT_DUPLICATES, &jerr);
    if (body == NULL) {
        s_fail(x, S_INVALID_ARGUMENT, "proto: syntax error (line %d:%d): %s", jerr.line,
               jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(body)) {
        s_fail(x, S_INVALID_ARGUMENT,
               "proto: syntax error (line 1:1): unexpected token, the body must be an object");
        json_decref(body);
        return NULL;
    }
    return body;
}

/* An optional string member; a wrong type is protojson's error. */
static bool s_string_member(struct s_ctx *x, const json_t *o, const char *name, const char **out)
{
    const json_t *v = json_object_get(o, name);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return true;
    }
    if (!json_is_string(v) || json_string_length(v) > EMU_CC_MAX_FIELD) {
        char needle[128];
        int line, col;
        snprintf(needle, sizeof(needle), "\"%s\"", name);
        s_position(x->req, needle, &line, &col);
        s_fail(x, S_INVALID_ARGUMENT, "proto: (line %d:%d): invalid value for string field %s",
               line, col, name);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

/* An optional enum member: one of allowed (NULL-terminated) or protojson's error. */
static bool s_enum_member(struct s_ctx *x, const json_t *o, const char *name,
                          const char *const *allowed, const char **out)
{
    if (!s_string_member(x, o, name, out) || *out == NULL) {
        return !x->done;
    }
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcmp(*out, allowed[i]) == 0) {
            return true;
        }
    }
    char needle[EMU_CC_MAX_FIELD + 8];
    int line, col;
    snprintf(needle, sizeof(needle), "\"%s\"", *out);
    s_position(x->req, needle, &line, &col);
    s_fail(x, S_INVALID_ARGUMENT, "proto: (line %d:%d): invalid value for enum type: \"%s\"", line,
           col, *out);
    return false;
}

static const char *const s_key_types[] = {"AWS_KMS", "GCP_CLOUD_KMS", "NULL_KMS", "AZURE_KEY_VAULT",
                                          NULL};
static const char *const s_providers[] = {"GCP", "AWS", "AZURE", NULL};
static const char *const s_plans[] = {"BASIC", "STANDARD", "ADVANCED", NULL};
static const char *const s_visibilities[] = {"PUBLIC", "PRIVATE", NULL};
static const char *const s_protections[] = {"ENABLED", "DISABLED", NULL};
static const char *const s_actions[] = {"REVOKE", NULL};

/* arn:aws:kms:<region>:<12 digits>:key/<id>; region copied out. */
static bool s_key_arn(const char *uri, char region[65])
{
    const char *p = "arn:aws:kms:";
    if (strncmp(uri, p, strlen(p)) != 0) {
        return false;
    }
    const char *r = uri + strlen(p);
    const char *colon = strchr(r, ':');
    if (colon == NULL || colon == r || colon - r > 64) {
        return false;
    }
    memcpy(region, r, (size_t)(colon - r));
    region[colon - r] = '\0';
    const char *acct = colon + 1;
    for (int i = 0; i < 12; i++) {
        if (acct[i] < '0' || acct[i] > '9') {
            return false;
        }
    }
    return strncmp(acct + 12, ":key/", 5) == 0 && acct[17] != '\0';
}

static bool s_role_arn(const char *arn)
{
    const char *p = "arn:aws:iam::";
    if (strncmp(arn, p, strlen(p)) != 0) {
        return false;
    }
    const char *acct = arn + strlen(p);
    for (int i = 0; i < 12; i++) {
        if (acct[i] < '0' || acct[i] > '9') {
            return false;
        }
    }
    const char *last = strrchr(arn, '/');
    return strncmp(acct + 12, ":role/", 6) == 0 && last != NULL && last[1] != '\0';
}

struct s_spec {
    const char *region;
    const char *type;
    const char *uri;
    const char *principal;
};

/* region_specs (CMEKRegionSpecification[]) checked against the cluster: every region named
 * is one of names (or of the cluster when names is NULL), at most once, with an AWS key ARN
 * of that region and a role ARN. */
static bool s_parse_specs(struct s_ctx *x, const struct emu_cc_cluster *c, const json_t *array,
                          const char *member, struct s_spec *specs, size_t *n)
{
    *n = 0;
    if (!json_is_array(array)) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: %s is required", member);
        return false;
    }
    if (json_array_size(array) > EMU_CC_MAX_REGIONS) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: %s has more than %d entries", member,
               EMU_CC_MAX_REGIONS);
        return false;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(array, i, v)
    {
        struct s_spec *s = &specs[(*n)++];
        memset(s, 0, sizeof(*s));
        const json_t *key = json_object_get(v, "key_spec");
        if (!json_is_object(v) || !s_string_member(x, v, "region", &s->region) ||
            !s_string_member(x, key, "uri", &s->uri) ||
            !s_string_member(x, key, "auth_principal", &s->principal) ||
            !s_enum_member(x, key, "type", s_key_types, &s->type)) {
            if (!x->done) {
                s_fail(x, S_INVALID_ARGUMENT, "invalid argument: each of %s must be an object",
                       member);
            }
            return false;
        }
        if (s->region == NULL || s->region[0] == '\0') {
            s_fail(x, S_INVALID_ARGUMENT, "invalid argument: %s[%zu].region is required", member,
                   i);
            return false;
        }
        for (size_t j = 0; j + 1 < *n; j++) {
            if (strcmp(specs[j].region, s->region) == 0) {
                s_fail(x, S_INVALID_ARGUMENT,
                       "invalid argument: region '%s' appears more than once in %s", s->region,
                       member);
                return false;
            }
        }
        if (s->type == NULL || strcmp(s->type, "AWS_KMS") != 0) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: key type %s is not supported for %s clusters; use AWS_KMS",
                   s->type ? s->type : "(unset)", c->cloud_provider);
            return false;
        }
        char arn_region[65];
        if (s->uri == NULL || !s_key_arn(s->uri, arn_region)) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: uri for region '%s' must be an AWS KMS key ARN "
                   "(arn:aws:kms:<region>:<account>:key/<key id>)",
                   s->region);
            return false;
        }
        /* A key ARN of another region than the spec's is accepted here: the cluster uses
         * the key from its own region, so KMS itself refuses it and the enable ends
         * ENABLE_FAILED with KMS's reason (the CMEK issue lists "key in another region"
         * among the asynchronous failures). */
        if (s->principal == NULL || !s_role_arn(s->principal)) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: auth_principal for region '%s' must be an IAM role ARN "
                   "(arn:aws:iam::<account>:role/<name>)",
                   s->region);
            return false;
        }
    }
    return true;
}

/* ---- cluster lookups ---- */

static struct emu_cc_cluster *s_cluster(struct s_ctx *x, bool deleted_ok)
{
    struct emu_cc_cluster *c = emu_ccloud_cluster(&x->app->store->ccloud, x->params[0]);
    if (c != NULL && x->org_id != NULL && strcmp(c->org_id, x->org_id) != 0) {
        c = NULL; /* another organization's cluster does not exist for this caller */
    }
    if (c != NULL && c->deleted_s != 0 && !deleted_ok) {
        c = NULL;
    }
    if (c == NULL) {
        s_fail(x, S_NOT_FOUND, "internal call failed: cluster '%s' not found", x->params[0]);
        return NULL;
    }
    if (strcmp(c->state, "CREATING") == 0) {
        /* Creation completes by the next request that looks at the cluster. */
        char *created = strdup("CREATED");
        if (created != NULL) {
            free(c->state);
            c->state = created;
        }
    }
    return c;
}

static bool s_ready_for_cmek(struct s_ctx *x, const struct emu_cc_cluster *c)
{
    if (strcmp(c->plan, "ADVANCED") != 0) {
        s_fail(x, S_FAILED_PRECONDITION,
               "failed precondition: CMEK is only available for Advanced clusters");
        return false;
    }
    if (strcmp(c->state, "CREATED") != 0) {
        s_fail(x, S_UNAVAILABLE, "unavailable: cluster '%s' is not ready (state %s)", c->id,
               c->state);
        return false;
    }
    if (c->pending != EMU_CC_PENDING_NONE || c->pending_running) {
        s_fail(x, S_FAILED_PRECONDITION,
               "failed precondition: a CMEK operation is in progress on cluster '%s' (status "
               "%s); poll GET /api/v1/clusters/%s/cmek until it settles",
               c->id, emu_cc_status_name(c->cmek_status), c->id);
        return false;
    }
    return true;
}

static bool s_cmek_on(const struct emu_cc_cluster *c)
{
    return c->cmek_status != EMU_CC_DISABLED && c->cmek_status != EMU_CC_ENABLE_FAILED;
}

static int s_new_key_info(struct emu_cc_region *r, const struct s_spec *s,
                          enum emu_cc_status status, int64_t now)
{
    struct emu_cc_key_info *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return CMEK_ERR_NOMEM;
    }
    k->type = strdup(s->type);
    k->uri = strdup(s->uri);
    k->auth_principal = strdup(s->principal);
    k->user_message = strdup("");
    k->status = status;
    k->created_s = now;
    k->updated_s = now;
    int rc = k->type && k->uri && k->auth_principal && k->user_message ? CMEK_OK : CMEK_ERR_NOMEM;
    rc = rc ? rc : cmek_vec_push(&r->key_infos, k);
    if (rc) {
        emu_cc_key_info_destroy(k);
        return rc;
    }
    r->status = status;
    return CMEK_OK;
}

/* ---- Cloud API handlers (lock held) ---- */

/* GetOrganizationInfo. The AWS principal is the IAM user that holds CockroachDB Cloud's
 * access key in its AWS account. */
static void s_get_organization(struct s_ctx *x)
{
    const struct emu_store *store = x->app->store;
    const struct emu_cc_org *org = emu_ccloud_org(&store->ccloud, x->org_id);
    const char *user_arn = "";
    for (size_t i = 0; i < store->iam.access_keys.len; i++) {
        const struct emu_iam_access_key *k = store->iam.access_keys.items[i];
        if (k->active && strcmp(k->account, store->ccloud.aws_account_id) == 0) {
            const struct emu_iam_user *u =
                emu_iam_user_by_name(&store->iam, k->account, k->user_name);
            user_arn = u ? u->ident.arn : "";
            break;
        }
    }
    s_ok(x, json_pack("{s:{s:{s:s},s:{s:s,s:s},s:{s:s}},s:o,s:s,s:s,s:s}",
                      "cockroach_cloud_service_principals", "aws", "user_arn", user_arn, "azure",
                      "app_registration_client_id", "", "app_registration_name", "", "gcp",
                      "service_account_email", "", "created_at", s_time(org->created_s), "id",
                      org->id, "label", org->label, "name", org->name));
}

/* One query parameter, percent-decoded into out; false when absent. */
static bool s_query_param(const struct emu_request *req, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *q = req->query.ptr;
    size_t len = req->query.len;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && q[end] != '&') {
            end++;
        }
        if (end - i > n && memcmp(q + i, name, n) == 0 && q[i + n] == '=') {
            size_t o = 0;
            for (size_t p = i + n + 1; p < end && o + 1 < cap; p++) {
                if (q[p] == '%' && p + 2 < end && cmek_hex_value(q[p + 1]) >= 0 &&
                    cmek_hex_value(q[p + 2]) >= 0) {
                    out[o++] = (char)(cmek_hex_value(q[p + 1]) * 16 + cmek_hex_value(q[p + 2]));
                    p += 2;
                } else {
                    out[o++] = q[p] == '+' ? ' ' : q[p];
                }
            }
            out[o] = '\0';
            return true;
        }
        i = end + 1;
    }
    return false;
}

static bool s_parse_uint(const char *s, long max, long *out)
{
    long v = 0;
    if (*s == '\0') {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > max) {
            return false;
        }
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return v <= max;
}

struct s_sort {
    bool by_created;
    bool desc;
};

static int s_compare(const struct emu_cc_cluster *a, const struct emu_cc_cluster *b,
                     const struct s_sort *sort)
{
    int r = sort->by_created ? (a->created_s > b->created_s) - (a->created_s < b->created_s)
                             : strcmp(a->name, b->name);
    r = r ? r : strcmp(a->id, b->id);
    return sort->desc ? -r : r;
}

/* ListClusters with keyset-style pagination: the page token is an opaque offset. */
static void s_list_clusters(struct s_ctx *x)
{
    char v[S_MAX_PARAM];
    long limit = S_DEFAULT_LIMIT, offset = 0;
    bool show_inactive = false;
    struct s_sort sort = {false, false};
    if (s_query_param(x->req, "pagination.limit", v, sizeof(v)) &&
        (!s_parse_uint(v, S_MAX_LIMIT, &limit) || limit == 0)) {
        s_fail(x, S_INVALID_ARGUMENT,
               "invalid argument: pagination.limit must be a whole number from 1 to %d",
               S_MAX_LIMIT);
        return;
    }
    if (s_query_param(x->req, "pagination.page", v, sizeof(v)) && v[0] != '\0' &&
        !s_parse_uint(v, EMU_CC_MAX_CLUSTERS, &offset)) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: invalid pagination.page token");
        return;
    }
    if (s_query_param(x->req, "pagination.sort_order", v, sizeof(v))) {
        if (strcmp(v, "DESC") != 0 && strcmp(v, "ASC") != 0) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "type mismatch, parameter: pagination.sort_order, error: \"%s\" is not valid",
                   v);
            return;
        }
        sort.desc = strcmp(v, "DESC") == 0;
    }
    if (s_query_param(x->req, "pagination.sort_by", v, sizeof(v))) {
        if (strcmp(v, "NAME") != 0 && strcmp(v, "CREATED_AT") != 0 &&
            strcmp(v, "DELETED_AT") != 0) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "type mismatch, parameter: pagination.sort_by, error: \"%s\" is not valid", v);
            return;
        }
        sort.by_created = strcmp(v, "NAME") != 0;
    }
    if (s_query_param(x->req, "show_inactive", v, sizeof(v))) {
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "type mismatch, parameter: show_inactive, error: strconv.ParseBool: parsing "
                   "\"%s\": invalid syntax",
                   v);
            return;
        }
        show_inactive = strcmp(v, "true") == 0;
    }
    const struct emu_ccloud *cc = &x->app->store->ccloud;
    const struct emu_cc_cluster *picked[EMU_CC_MAX_CLUSTERS];
    size_t n = 0;
    for (size_t i = 0; i < cc->clusters.len; i++) {
        const struct emu_cc_cluster *c = cc->clusters.items[i];
        if (strcmp(c->org_id, x->org_id) != 0 || (c->deleted_s != 0 && !show_inactive)) {
            continue;
        }
        /* insertion sort: lists are small */
        size_t j = n++;
        while (j > 0 && s_compare(picked[j - 1], c, &sort) > 0) {
            picked[j] = picked[j - 1];
            j--;
        }
        picked[j] = c;
    }
    json_t *clusters = json_array();
    for (size_t i = (size_t)offset; clusters != NULL && i < n && i < (size_t)(offset + limit);
         i++) {
        json_array_append_new(clusters, s_cluster_json(picked[i]));
    }
    char next[32] = "", prev[32] = "";
    if ((size_t)(offset + limit) < n) {
        snprintf(next, sizeof(next), "%ld", offset + limit);
    }
    if (offset > 0) {
        snprintf(prev, sizeof(prev), "%ld", offset > limit ? offset - limit : 0);
    }
    s_ok(x, json_pack("{s:o,s:{s:s,s:s}}", "clusters", clusters, "pagination", "next_page", next,
                      "previous_page", prev));
}

static bool s_valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 6 || n > 20 || name[0] == '-' || name[n - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return true;
}

/* AWS region names: <area>-<place>-<digit> (us-east-1, ap-southeast-2, us-gov-west-1). */
static bool s_valid_aws_region(const char *name)
{
    size_t n = strlen(name);
    if (n < 4 || n > 32 || name[n - 1] < '0' || name[n - 1] > '9' || name[n - 2] != '-') {
        return false;
    }
    int dashes = 1;
    for (size_t i = 0; i + 2 < n; i++) {
        if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '-')) {
            return false;
        }
        dashes += name[i] == '-';
    }
    return dashes >= 2 && name[0] != '-';
}

static bool s_labels(struct s_ctx *x, const json_t *labels)
{
    const char *k;
    const json_t *v;
    if (!json_is_object(labels)) {
        s_fail(x, S_INVALID_ARGUMENT, "proto: (line 1:1): invalid value for map field labels");
        return false;
    }
    json_object_foreach((json_t *)labels, k, v)
    {
        if (!json_is_string(v)) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "proto: (line 1:1): invalid value for string type: labels[\"%s\"]", k);
            return false;
        }
    }
    return true;
}

/* region_nodes: region -> node count (int32 >= 1). */
static bool s_region_nodes(struct s_ctx *x, const json_t *nodes)
{
    const char *k;
    const json_t *v;
    if (!json_is_object(nodes) || json_object_size(nodes) == 0) {
        s_fail(x, S_INVALID_ARGUMENT,
               "invalid argument: region_nodes must name at least one region");
        return false;
    }
    if (json_object_size(nodes) > EMU_CC_MAX_REGIONS) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: at most %d regions are supported",
               EMU_CC_MAX_REGIONS);
        return false;
    }
    json_object_foreach((json_t *)nodes, k, v)
    {
        if (!s_valid_aws_region(k)) {
            s_fail(x, S_INVALID_ARGUMENT, "invalid argument: invalid region name '%s' for AWS", k);
            return false;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 150) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: node count for region '%s' must be from 1 to 150", k);
            return false;
        }
    }
    return true;
}

static int s_dup_into(char **field, const char *value)
{
    char *copy = strdup(value);
    if (copy == NULL) {
        return CMEK_ERR_NOMEM;
    }
    free(*field);
    *field = copy;
    return CMEK_OK;
}

/* CreateCluster: Advanced (dedicated) AWS clusters; they are CREATING in the answer and
 * CREATED from the next request on. The plan may be given at the top level too, as the spec's
 * own example does (ccloud.md §2.5). */
static void s_create_cluster(struct s_ctx *x)
{
    json_t *body = s_body(x);
    struct emu_cc_cluster *c = NULL;
    if (body == NULL) {
        return;
    }
    const char *name, *provider, *plan = NULL, *top_plan, *visibility, *protection, *version;
    const json_t *spec = json_object_get(body, "spec");
    const json_t *dedicated = json_object_get(spec, "dedicated");
    const json_t *hardware = json_object_get(dedicated, "hardware");
    const json_t *machine = json_object_get(hardware, "machine_spec");
    if (!s_string_member(x, body, "name", &name) ||
        !s_enum_member(x, body, "provider", s_providers, &provider) ||
        !s_enum_member(x, body, "plan", s_plans, &top_plan) ||
        !s_enum_member(x, spec, "plan", s_plans, &plan) ||
        !s_enum_member(x, dedicated, "network_visibility", s_visibilities, &visibility) ||
        !s_enum_member(x, spec, "delete_protection", s_protections, &protection) ||
        !s_string_member(x, dedicated, "cockroach_version", &version)) {
        goto done;
    }
    plan = plan ? plan : top_plan;
    if (name == NULL || !s_valid_name(name)) {
        s_fail(x, S_INVALID_ARGUMENT,
               "invalid argument: cluster name must be 6-20 characters of numbers, lowercase "
               "letters, and dashes (but no leading or trailing dashes)");
        goto done;
    }
    if (provider == NULL) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: provider is required");
        goto done;
    }
    if (spec == NULL || (dedicated == NULL && json_object_get(spec, "serverless") == NULL)) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: spec.dedicated is required");
        goto done;
    }
    if (strcmp(provider, "AWS") != 0 || dedicated == NULL ||
        (plan != NULL && strcmp(plan, "ADVANCED") != 0)) {
        s_fail(x, S_UNIMPLEMENTED,
               "unimplemented: cmek-emulator creates Advanced (dedicated) AWS clusters only");
        goto done;
    }
    const json_t *nodes = json_object_get(dedicated, "region_nodes");
    if (!s_region_nodes(x, nodes)) {
        goto done;
    }
    const char *machine_type = NULL;
    const json_t *vcpus = json_object_get(machine, "num_virtual_cpus");
    const json_t *storage = json_object_get(hardware, "storage_gib");
    if (!json_is_object(hardware) || !json_is_object(machine) ||
        !s_string_member(x, machine, "machine_type", &machine_type) ||
        (vcpus != NULL && !json_is_integer(vcpus)) ||
        (storage != NULL && !json_is_integer(storage))) {
        if (!x->done) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: spec.dedicated.hardware.machine_spec is required");
        }
        goto done;
    }
    if (json_object_get(spec, "labels") != NULL && !s_labels(x, json_object_get(spec, "labels"))) {
        goto done;
    }
    struct emu_ccloud *cc = &x->app->store->ccloud;
    for (size_t i = 0; i < cc->clusters.len; i++) {
        const struct emu_cc_cluster *o = cc->clusters.items[i];
        if (o->deleted_s == 0 && strcmp(o->org_id, x->org_id) == 0 && strcmp(o->name, name) == 0) {
            s_fail(x, S_ALREADY_EXISTS, "already exists: a cluster named '%s' already exists",
                   name);
            goto done;
        }
    }
    c = emu_cc_cluster_new();
    char id[37], creator[37];
    int rc = c ? CMEK_OK : CMEK_ERR_NOMEM;
    rc = rc ? rc : emu_uuid4(x->app, id);
    rc = rc ? rc : emu_uuid4(x->app, creator);
    rc = rc ? rc : s_dup_into(&c->id, id);
    rc = rc ? rc : s_dup_into(&c->org_id, x->org_id);
    rc = rc ? rc : s_dup_into(&c->name, name);
    rc = rc ? rc : s_dup_into(&c->cloud_provider, "AWS");
    rc = rc ? rc : s_dup_into(&c->plan, "ADVANCED");
    rc = rc ? rc : s_dup_into(&c->cockroach_version, EMU_CC_DEFAULT_VERSION);
    rc = rc ? rc : s_dup_into(&c->account_id, cc->aws_account_id);
    rc = rc ? rc : s_dup_into(&c->state, "CREATING");
    rc = rc ? rc : s_dup_into(&c->creator_id, creator);
    rc = rc ? rc : s_dup_into(&c->network_visibility, visibility ? visibility : "PUBLIC");
    rc = rc ? rc : s_dup_into(&c->delete_protection, protection ? protection : "DISABLED");
    rc = rc ? rc : s_dup_into(&c->parent_id, "root");
    rc = rc ? rc : s_dup_into(&c->machine_type, machine_type ? machine_type : "m6i.xlarge");
    if (rc == CMEK_OK && version != NULL && version[0] == 'v') {
        rc = s_dup_into(&c->cockroach_version, version);
    }
    if (rc) {
        goto internal;
    }
    c->labels = json_object_get(spec, "labels") ? json_deep_copy(json_object_get(spec, "labels"))
                                                : json_object();
    c->num_virtual_cpus = vcpus ? (int32_t)json_integer_value(vcpus) : 4;
    c->storage_gib = storage ? (int32_t)json_integer_value(storage) : 35;
    c->created_s = x->now;
    c->updated_s = x->now;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)nodes, k, v)
    {
        rc =
            rc ? rc
               : emu_cc_cluster_add_region(c, emu_cc_region_new(k, (int32_t)json_integer_value(v)));
    }
    rc =
        rc ? rc : x->app->sys.random_bytes(x->app->sys.ctx, c->managed_key, sizeof(c->managed_key));
    if (rc || c->labels == NULL) {
        goto internal;
    }
    c->has_managed_key = true;
    memcpy(c->dek, c->managed_key, sizeof(c->dek));
    c->running = true;
    c->started = true;
    json_t *out = s_cluster_json(c);
    rc = emu_ccloud_add_cluster(cc, c);
    c = NULL;
    if (rc) {
        json_decref(out);
        s_fail(x, S_RESOURCE_EXHAUSTED, "resource exhausted: too many clusters");
        goto done;
    }
    emu_log(x->app, EMU_LOG_INFO, "ccloud: created cluster %s (%s)", id, name);
    s_ok(x, out);
    goto done;
internal:
    s_fail(x, S_INTERNAL, "internal error");
done:
    emu_cc_cluster_destroy(c);
    json_decref(body);
}

static void s_get_cluster(struct s_ctx *x)
{
    const struct emu_cc_cluster *c = s_cluster(x, true);
    if (c != NULL) {
        s_ok(x, s_cluster_json(c));
    }
}

/* UpdateCluster: labels, delete protection and dedicated.region_nodes (the full desired map)
 * with cmek_region_specs for new regions of a CMEK cluster, which then become ENABLING. */
static void s_update_cluster(struct s_ctx *x)
{
    struct emu_cc_cluster *c = s_cluster(x, false);
    json_t *body = c ? s_body(x) : NULL;
    if (body == NULL) {
        return;
    }
    const char *protection;
    const json_t *dedicated = json_object_get(body, "dedicated");
    const json_t *nodes = json_object_get(dedicated, "region_nodes");
    const json_t *specs_json = json_object_get(dedicated, "cmek_region_specs");
    const json_t *labels = json_object_get(body, "labels");
    struct s_spec specs[EMU_CC_MAX_REGIONS];
    size_t n_specs = 0;
    int rc = CMEK_OK;
    if (!s_enum_member(x, body, "delete_protection", s_protections, &protection) ||
        (labels != NULL && !s_labels(x, labels)) || (nodes != NULL && !s_region_nodes(x, nodes))) {
        goto done;
    }
    if (specs_json != NULL && json_array_size(specs_json) > 0) {
        if (!s_parse_specs(x, c, specs_json, "cmek_region_specs", specs, &n_specs)) {
            goto done;
        }
        for (size_t i = 0; i < n_specs; i++) {
            if (emu_cc_cluster_region(c, specs[i].region) != NULL) {
                s_fail(x, S_INVALID_ARGUMENT,
                       "invalid argument: a CMEK spec was provided for existing region '%s'; "
                       "cmek_region_specs is for new regions only",
                       specs[i].region);
                goto done;
            }
            if (nodes == NULL || json_object_get(nodes, specs[i].region) == NULL) {
                s_fail(x, S_INVALID_ARGUMENT,
                       "invalid argument: cmek_region_specs names region '%s', which is not in "
                       "region_nodes",
                       specs[i].region);
                goto done;
            }
        }
        if (!s_cmek_on(c)) {
            s_fail(x, S_FAILED_PRECONDITION,
                   "failed precondition: CMEK is not enabled for cluster '%s'", c->id);
            goto done;
        }
    }
    bool adds = false;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)nodes, k, v)
    {
        if (emu_cc_cluster_region(c, k) != NULL) {
            continue;
        }
        adds = true;
        bool has_spec = false;
        for (size_t i = 0; i < n_specs; i++) {
            has_spec = has_spec || strcmp(specs[i].region, k) == 0;
        }
        if (s_cmek_on(c) && !has_spec) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: cluster '%s' uses CMEK: cmek_region_specs must include a "
                   "key for each new region; missing '%s'",
                   c->id, k);
            goto done;
        }
    }
    if ((adds || nodes != NULL) && s_cmek_on(c) && !s_ready_for_cmek(x, c)) {
        goto done;
    }
    if (adds && s_cmek_on(c) && c->cmek_status != EMU_CC_ENABLED) {
        s_fail(x, S_FAILED_PRECONDITION,
               "failed precondition: regions can be added to a CMEK cluster only while its CMEK "
               "status is ENABLED (it is %s)",
               emu_cc_status_name(c->cmek_status));
        goto done;
    }
    /* Apply. */
    if (nodes != NULL) {
        for (size_t i = c->regions.len; i > 0; i--) {
            struct emu_cc_region *r = c->regions.items[i - 1];
            if (json_object_get(nodes, r->name) == NULL) {
                emu_cc_region_destroy(cmek_vec_remove_at(&c->regions, i - 1));
            }
        }
        json_object_foreach((json_t *)nodes, k, v)
        {
            struct emu_cc_region *r = emu_cc_cluster_region(c, k);
            if (r != NULL) {
                r->node_count = (int32_t)json_integer_value(v);
                continue;
            }
            r = emu_cc_region_new(k, (int32_t)json_integer_value(v));
            rc = rc ? rc : emu_cc_cluster_add_region(c, r);
            for (size_t i = 0; rc == CMEK_OK && i < n_specs; i++) {
                if (strcmp(specs[i].region, k) == 0) {
                    rc = s_new_key_info(r, &specs[i], EMU_CC_ENABLING, x->now);
                    c->cmek_status = EMU_CC_ENABLING;
                    c->pending = EMU_CC_PENDING_WRAP;
                }
            }
        }
    }
    if (rc == CMEK_OK && labels != NULL) {
        json_t *copy = json_deep_copy(labels);
        rc = copy ? CMEK_OK : CMEK_ERR_NOMEM;
        if (copy != NULL) {
            json_decref(c->labels);
            c->labels = copy;
        }
    }
    rc = rc ? rc : protection ? s_dup_into(&c->delete_protection, protection) : CMEK_OK;
    if (rc) {
        s_fail(x, S_INTERNAL, "internal error");
        goto done;
    }
    emu_cc_cluster_touch(c, x->now);
    s_ok(x, s_cluster_json(c));
done:
    json_decref(body);
}

/* DeleteCluster: the cluster is DELETED (GET still shows it, lists only with show_inactive);
 * its data is gone with it. */
static void s_delete_cluster(struct s_ctx *x)
{
    struct emu_cc_cluster *c = s_cluster(x, false);
    if (c == NULL) {
        return;
    }
    if (strcmp(c->delete_protection, "ENABLED") == 0) {
        s_fail(x, S_FAILED_PRECONDITION,
               "failed precondition: delete protection is enabled for cluster '%s'", c->id);
        return;
    }
    if (s_dup_into(&c->state, "DELETED")) {
        s_fail(x, S_INTERNAL, "internal error");
        return;
    }
    c->deleted_s = x->now;
    c->running = false;
    cmek_cleanse(c->dek, sizeof(c->dek));
    emu_cc_cluster_touch(c, x->now);
    s_ok(x, s_cluster_json(c));
}

/* GetCMEKClusterInfo. */
static void s_get_cmek(struct s_ctx *x)
{
    const struct emu_cc_cluster *c = s_cluster(x, false);
    if (c == NULL) {
        return;
    }
    if (c->cmek_status == EMU_CC_DISABLED) {
        s_fail(x, S_NOT_FOUND, "internal call failed: CMEK is not enabled for cluster '%s'", c->id);
        return;
    }
    s_ok(x, s_cmek_info(c));
}

static bool s_reject_revoked(struct s_ctx *x, const struct emu_cc_cluster *c)
{
    if (c->cmek_status == EMU_CC_REVOKED) {
        s_fail(x, S_FAILED_PRECONDITION,
               "failed precondition: CMEK was revoked for cluster '%s'; restoring it is done by "
               "CockroachDB Cloud support",
               c->id);
        return true;
    }
    return false;
}

/* EnableCMEKSpec: a spec for every region of the cluster; the regions go ENABLING and the
 * next request runs the enable (ccloud_agent.h). */
static void s_enable_cmek(struct s_ctx *x)
{
    struct emu_cc_cluster *c = s_cluster(x, false);
    json_t *body = c ? s_body(x) : NULL;
    struct s_spec specs[EMU_CC_MAX_REGIONS];
    size_t n = 0;
    if (body == NULL || !s_ready_for_cmek(x, c) || s_reject_revoked(x, c)) {
        goto done;
    }
    if (s_cmek_on(c)) {
        s_fail(x, S_ALREADY_EXISTS,
               "already exists: CMEK is already enabled for cluster '%s'; use PUT to rotate "
               "keys",
               c->id);
        goto done;
    }
    if (!s_parse_specs(x, c, json_object_get(body, "region_specs"), "region_specs", specs, &n)) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (emu_cc_cluster_region(c, specs[i].region) == NULL) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: region '%s' is not a region of cluster '%s'", specs[i].region,
                   c->id);
            goto done;
        }
    }
    for (size_t i = 0; i < c->regions.len; i++) {
        const struct emu_cc_region *r = c->regions.items[i];
        bool found = false;
        for (size_t j = 0; j < n; j++) {
            found = found || strcmp(specs[j].region, r->name) == 0;
        }
        if (!found) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: a region_spec is required for each region of the cluster; "
                   "missing '%s'",
                   r->name);
            goto done;
        }
    }
    int rc = CMEK_OK;
    for (size_t i = 0; rc == CMEK_OK && i < n; i++) {
        rc = s_new_key_info(emu_cc_cluster_region(c, specs[i].region), &specs[i], EMU_CC_ENABLING,
                            x->now);
    }
    if (rc) {
        s_fail(x, S_INTERNAL, "internal error");
        goto done;
    }
    c->cmek_status = EMU_CC_ENABLING;
    c->pending = EMU_CC_PENDING_WRAP;
    emu_cc_cluster_touch(c, x->now);
    s_ok(x, s_cmek_info(c));
done:
    json_decref(body);
}

/* UpdateCMEKSpec: rotation of the regions named. The same URI re-wraps under the key's
 * current version (a new GenerateDataKey); a new URI switches keys, the old key_info is kept
 * (DISABLED once the new one is ENABLED). */
static void s_update_cmek_spec(struct s_ctx *x)
{
    struct emu_cc_cluster *c = s_cluster(x, false);
    json_t *body = c ? s_body(x) : NULL;
    struct s_spec specs[EMU_CC_MAX_REGIONS];
    size_t n = 0;
    if (body == NULL || !s_ready_for_cmek(x, c) || s_reject_revoked(x, c)) {
        goto done;
    }
    if (!s_cmek_on(c)) {
        s_fail(x, S_FAILED_PRECONDITION,
               "failed precondition: CMEK is not enabled for cluster '%s'; enable it with POST "
               "first",
               c->id);
        goto done;
    }
    if (!s_parse_specs(x, c, json_object_get(body, "region_specs"), "region_specs", specs, &n)) {
        goto done;
    }
    if (n == 0) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: region_specs must name a region");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const struct emu_cc_region *r = emu_cc_cluster_region(c, specs[i].region);
        if (r == NULL || r->key_infos.len == 0) {
            s_fail(x, S_INVALID_ARGUMENT,
                   "invalid argument: region '%s' is not a CMEK region of cluster '%s'",
                   specs[i].region, c->id);
            goto done;
        }
    }
    int rc = CMEK_OK;
    for (size_t i = 0; rc == CMEK_OK && i < n; i++) {
        struct emu_cc_region *r = emu_cc_cluster_region(c, specs[i].region);
        struct emu_cc_key_info *cur = emu_cc_region_current(r);
        if (cur->wrapped_store_key != NULL && strcmp(cur->uri, specs[i].uri) == 0 &&
            strcmp(cur->auth_principal, specs[i].principal) == 0) {
            cur->status = EMU_CC_ROTATING;
            cur->updated_s = x->now;
            r->status = EMU_CC_ROTATING;
        } else {
            rc = s_new_key_info(r, &specs[i], EMU_CC_ROTATING, x->now);
        }
    }
    if (rc) {
        s_fail(x, S_INTERNAL, "internal error");
        goto done;
    }
    c->cmek_status = EMU_CC_ROTATING;
    c->pending = EMU_CC_PENDING_WRAP;
    emu_cc_cluster_touch(c, x->now);
    s_ok(x, s_cmek_info(c));
done:
    json_decref(body);
}

/* UpdateCMEKStatus {"action":"REVOKE"}: REVOKING now; the next request restarts the cluster
 * without its key (ccloud_agent.c decides REVOKED or REVOKE_FAILED). */
static void s_update_cmek_status(struct s_ctx *x)
{
    struct emu_cc_cluster *c = s_cluster(x, false);
    json_t *body = c ? s_body(x) : NULL;
    const char *action = NULL;
    if (body == NULL || !s_enum_member(x, body, "action", s_actions, &action)) {
        goto done;
    }
    if (action == NULL) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: action is required (REVOKE)");
        goto done;
    }
    if (!s_ready_for_cmek(x, c)) {
        goto done;
    }
    if (c->cmek_status == EMU_CC_REVOKED) {
        s_fail(x, S_FAILED_PRECONDITION,
               "failed precondition: CMEK is already revoked for cluster '%s'", c->id);
        goto done;
    }
    if (!s_cmek_on(c)) {
        s_fail(x, S_FAILED_PRECONDITION,
               "failed precondition: CMEK is not enabled for cluster '%s'", c->id);
        goto done;
    }
    c->cmek_status = EMU_CC_REVOKING;
    for (size_t i = 0; i < c->regions.len; i++) {
        struct emu_cc_region *r = c->regions.items[i];
        struct emu_cc_key_info *k = NULL;
        for (size_t j = r->key_infos.len; j > 0 && k == NULL; j--) {
            struct emu_cc_key_info *cand = r->key_infos.items[j - 1];
            k = cand->wrapped_store_key != NULL ? cand : NULL;
        }
        if (k != NULL) {
            k->status = EMU_CC_REVOKING;
            k->updated_s = x->now;
            r->status = EMU_CC_REVOKING;
        }
    }
    c->pending = EMU_CC_PENDING_REVOKE;
    emu_cc_cluster_touch(c, x->now);
    s_ok(x, s_cmek_info(c));
done:
    json_decref(body);
}

/* ---- emulator cluster data (lock held unless said) ---- */

static bool s_running(struct s_ctx *x, const struct emu_cc_cluster *c)
{
    if (c->running) {
        return true;
    }
    s_fail(x, S_FAILED_PRECONDITION,
           "failed precondition: cluster '%s' cannot use its encryption key, its data is "
           "inaccessible: %s",
           c->id, c->down_reason ? c->down_reason : "the cluster is not running");
    return false;
}

static bool s_row_key(struct s_ctx *x)
{
    size_t n = strlen(x->params[1]);
    if (n == 0 || n > EMU_CC_MAX_ROW_KEY) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: a row key is 1 to %d bytes",
               EMU_CC_MAX_ROW_KEY);
        return false;
    }
    return true;
}

static void s_put_row(struct s_ctx *x)
{
    struct emu_cc_cluster *c = s_cluster(x, false);
    if (c == NULL || !s_row_key(x) || !s_running(x, c)) {
        return;
    }
    if (x->req->body.len > EMU_CC_MAX_ROW_BYTES) {
        s_fail(x, S_INVALID_ARGUMENT, "invalid argument: a row value is at most %d bytes",
               EMU_CC_MAX_ROW_BYTES);
        return;
    }
    int rc = emu_cc_row_put(c, x->params[1], x->req->body.ptr, x->req->body.len);
    if (rc == CMEK_ERR_LIMIT) {
        s_fail(x, S_RESOURCE_EXHAUSTED, "resource exhausted: a cluster holds at most %d rows",
               EMU_CC_MAX_ROWS);
        return;
    }
    if (rc) {
        s_fail(x, S_INTERNAL, "internal error");
        return;
    }
    s_ok(x, json_pack("{s:s,s:s,s:I}", "cluster_id", c->id, "key", x->params[1], "bytes",
                      (json_int_t)x->req->body.len));
}

static void s_get_row(struct s_ctx *x)
{
    struct emu_cc_cluster *c = s_cluster(x, false);
    if (c == NULL || !s_row_key(x) || !s_running(x, c)) {
        return;
    }
    struct cmek_buf value, b64;
    cmek_buf_init(&value, EMU_CC_MAX_ROW_BYTES + 1);
    cmek_buf_init(&b64, 2 * EMU_CC_MAX_ROW_BYTES + 16);
    int rc = emu_cc_row_get(c, x->params[1], &value);
    if (rc == CMEK_ERR_NOT_FOUND) {
        s_fail(x, S_NOT_FOUND, "row '%s' not found in cluster '%s'", x->params[1], c->id);
    } else if (rc == CMEK_ERR_CRYPTO) {
        s_fail(x, S_INTERNAL, "row '%s' of cluster '%s' does not decrypt with the data key",
               x->params[1], c->id);
    } else if (rc || cmek_base64_encode(value.data ? value.data : "", value.len, &b64)) {
        s_fail(x, S_INTERNAL, "internal error");
    } else {
        json_t *out = json_pack("{s:s,s:s,s:s}", "cluster_id", c->id, "key", x->params[1],
                                "value_base64", cmek_buf_cstr(&b64));
        json_t *text = json_stringn(value.data ? value.data : "", value.len);
        if (out != NULL && text != NULL) {
            json_object_set_new(out, "value", text); /* only when the value is UTF-8 */
        }
        s_ok(x, out);
    }
    if (value.data != NULL) {
        cmek_cleanse(value.data, value.len);
    }
    cmek_buf_clean_up(&value);
    cmek_buf_clean_up(&b64);
}

static json_t *s_start_json(const struct emu_cc_cluster *c, const char *why)
{
    json_t *o = json_pack("{s:s,s:b,s:s}", "cluster_id", c->id, "running", c->running,
                          "cmek_status", emu_cc_status_name(c->cmek_status));
    if (o != NULL && why[0] != '\0') {
        json_object_set_new(o, "message", json_string(why));
    }
    return o;
}

/* Lock NOT held: the start dispatches to STS and KMS. */
static void s_start(struct s_ctx *x, enum emu_cc_start_mode mode)
{
    bool known = false, ok = false;
    char why[2048];
    if (emu_cc_start(x->app, x->params[0], mode, &known, &ok, why, sizeof(why))) {
        s_fail(x, S_INTERNAL, "internal error");
        return;
    }
    emu_store_lock(x->app->store);
    const struct emu_cc_cluster *c = known ? s_cluster(x, false) : NULL;
    if (!known) {
        s_fail(x, S_NOT_FOUND, "internal call failed: cluster '%s' not found", x->params[0]);
    } else if (c != NULL && !ok && mode == EMU_CC_START_RESTORE) {
        s_fail(x, S_FAILED_PRECONDITION, "failed precondition: cannot restore cluster '%s': %s",
               c->id, why);
    } else if (c != NULL) {
        s_ok(x, s_start_json(c, why));
    }
    emu_store_unlock(x->app->store);
}

static void s_restart(struct s_ctx *x)
{
    s_start(x, EMU_CC_START_RESTART);
}

static void s_restore(struct s_ctx *x)
{
    s_start(x, EMU_CC_START_RESTORE);
}

/* ---- the route table ---- */

enum s_access {
    S_API,      /* bearer key, Cc-Version */
    S_EMULATOR, /* no auth (emulator-only) */
};

static const struct {
    const char *method;
    const char *pattern; /* "{}" matches one path segment, captured in order */
    enum s_access access;
    bool locked; /* false: the handler takes the lock itself */
    void (*fn)(struct s_ctx *x);
} s_routes[] = {
    {"GET", "/api/v1/organization", S_API, true, s_get_organization},
    {"GET", "/api/v1/clusters", S_API, true, s_list_clusters},
    {"POST", "/api/v1/clusters", S_API, true, s_create_cluster},
    {"GET", "/api/v1/clusters/{}", S_API, true, s_get_cluster},
    {"PATCH", "/api/v1/clusters/{}", S_API, true, s_update_cluster},
    {"DELETE", "/api/v1/clusters/{}", S_API, true, s_delete_cluster},
    {"GET", "/api/v1/clusters/{}/cmek", S_API, true, s_get_cmek},
    {"POST", "/api/v1/clusters/{}/cmek", S_API, true, s_enable_cmek},
    {"PUT", "/api/v1/clusters/{}/cmek", S_API, true, s_update_cmek_spec},
    {"PATCH", "/api/v1/clusters/{}/cmek", S_API, true, s_update_cmek_status},
    {"PUT", "/_emulator/clusters/{}/rows/{}", S_EMULATOR, true, s_put_row},
    {"GET", "/_emulator/clusters/{}/rows/{}", S_EMULATOR, true, s_get_row},
    {"POST", "/_emulator/clusters/{}/restart", S_EMULATOR, false, s_restart},
    {"POST", "/_emulator/clusters/{}/restore", S_EMULATOR, false, s_restore},
};

/* Matches path against pattern, capturing "{}" segments into params. */
static bool s_match(const char *pattern, struct cmek_view path, char params[2][S_MAX_PARAM + 1])
{
    size_t pi = 0, i = 0, n_params = 0;
    size_t plen = strlen(pattern);
    while (pi < plen && i < path.len) {
        if (strncmp(pattern + pi, "{}", 2) == 0) {
            size_t start = i;
            while (i < path.len && path.ptr[i] != '/') {
                i++;
            }
            if (i == start || i - start > S_MAX_PARAM || n_params == 2) {
                return false;
            }
            memcpy(params[n_params], path.ptr + start, i - start);
            params[n_params++][i - start] = '\0';
            pi += 2;
            continue;
        }
        if (pattern[pi] != path.ptr[i]) {
            return false;
        }
        pi++;
        i++;
    }
    return pi == plen && i == path.len;
}

static bool s_version_ok(const struct emu_request *req, char out[32])
{
    struct cmek_view v = emu_request_header(req, "Cc-Version");
    if (v.ptr == NULL) {
        snprintf(out, 32, "%s", S_LATEST_VERSION);
        return true;
    }
    for (size_t i = 0; i < sizeof(s_versions) / sizeof(s_versions[0]); i++) {
        if (cmek_view_eq_cstr(v, s_versions[i])) {
            snprintf(out, 32, "%s", s_versions[i]);
            return true;
        }
    }
    return false;
}

/* The caller's organization from "Authorization: Bearer <secret>"; NULL and a 401 when none. */
static const char *s_authenticate(struct s_ctx *x)
{
    struct cmek_view auth = emu_request_header(x->req, "Authorization");
    if (auth.ptr == NULL || auth.len <= 7 || strncasecmp(auth.ptr, "Bearer ", 7) != 0) {
        s_fail(x, S_UNAUTHENTICATED,
               "unauthenticated: missing API key; send \"Authorization: Bearer <API key>\"");
        return NULL;
    }
    const struct emu_cc_api_key *k =
        emu_ccloud_api_key(&x->app->store->ccloud, auth.ptr + 7, auth.len - 7);
    if (k == NULL) {
        s_fail(x, S_UNAUTHENTICATED, "unauthenticated: the API key is not valid");
        return NULL;
    }
    return k->org_id;
}

/* Appends the answer to cfg.ccloud_response_log (app.h) as one JSON line, in one write(2)
 * on an O_APPEND descriptor so lines from concurrent requests do not interleave. A failure
 * to log is logged, never answered. */
static void s_log_response(const struct emu_app *app, const struct emu_request *req,
                           const struct emu_response *resp)
{
    const char *file = app->cfg.ccloud_response_log;
    if (file == NULL || file[0] == '\0') {
        return;
    }
    json_t *body = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
    json_t *line =
        json_pack("{s:s,s:s%,s:i,s:o}", "method", req->method, "path", req->path.ptr, req->path.len,
                  "status", resp->status, "body", body ? body : json_null());
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    int fd = text ? open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
    bool ok = false;
    if (fd >= 0) {
        size_t n = strlen(text);
        text[n] = '\n'; /* json_dumps' NUL becomes the line end; written by length */
        ok = write(fd, text, n + 1) == (ssize_t)(n + 1);
        close(fd);
    }
    if (!ok) {
        emu_log(app, EMU_LOG_WARN, "cannot append to the Cloud API response log %s", file);
    }
    free(text);
    json_decref(line);
}

static void s_handle(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    struct s_ctx x;
    memset(&x, 0, sizeof(x));
    x.app = app;
    x.req = req;
    x.resp = resp;
    bool api = cmek_view_starts_with(req->path, "/api/");
    char version[32] = S_LATEST_VERSION;
    if (api && !s_version_ok(req, version)) {
        s_fail(&x, S_INVALID_ARGUMENT, "invalid Cc-Version");
        goto done;
    }
    size_t route = SIZE_MAX;
    bool path_known = false;
    for (size_t i = 0; i < sizeof(s_routes) / sizeof(s_routes[0]); i++) {
        char params[2][S_MAX_PARAM + 1];
        if (!s_match(s_routes[i].pattern, req->path, params)) {
            continue;
        }
        path_known = true;
        if (strcmp(req->method, s_routes[i].method) == 0) {
            route = i;
            memcpy(x.params, params, sizeof(params));
            break;
        }
    }
    if (route == SIZE_MAX) {
        /* grpc-gateway's routing errors. */
        if (path_known) {
            s_fail(&x, S_UNIMPLEMENTED, "Method Not Allowed");
        } else {
            s_fail(&x, S_NOT_FOUND, "Not Found");
        }
        goto done;
    }
    if (s_routes[route].access == S_API) {
        emu_store_lock(app->store);
        const char *org = s_authenticate(&x);
        if (org != NULL) {
            snprintf(x.org, sizeof(x.org), "%s", org);
            x.org_id = x.org;
        }
        emu_store_unlock(app->store);
        if (org == NULL) {
            goto done;
        }
    }
    if (x.params[0][0] != '\0' && emu_cc_settle(app, x.params[0])) {
        s_fail(&x, S_INTERNAL, "internal error");
        goto done;
    }
    if (!s_routes[route].locked) {
        s_routes[route].fn(&x);
        goto done;
    }
    emu_store_lock(app->store);
    x.now = (int64_t)emu_store_now(app, app->store);
    s_routes[route].fn(&x);
    emu_store_unlock(app->store);
done:
    if (!x.done) {
        s_fail(&x, S_INTERNAL, "internal error");
    }
    if (api) {
        emu_response_add_header(resp, "Cc-Version", version);
        s_log_response(app, req, resp);
    }
}

const struct emu_service emu_service_ccloud = {
    .name = "ccloud",
    .handle = s_handle,
    .render_error = s_render_error,
};
