/* svc_iam.c: AWS Identity and Access Management, Query protocol (API version 2010-05-08).
 *
 * Follows the IAM API Reference pages of each operation (CreateRole, GetRole, ...) and the
 * botocore model (../shared/reference/botocore/iam.service-2.json) for member names,
 * constraints and output shapes. Every call is authorized with the caller's identity
 * policies (IAM has no resource policies). Policy documents come back URL-encoded, as AWS
 * sends them.
 *
 * Deliberate differences: IAM here is strongly consistent (AWS is eventually consistent);
 * list markers are offsets; instance profiles, groups, permissions boundaries and policy
 * versions beyond v1 are not emulated (PermissionsBoundary is refused, not ignored). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "cmek/crypto.h"
#include "cmek/sigv4.h"
#include "cmek/timeutil.h"
#include "service.h"
#include "store.h"
#include "svc_query.h"

#define S_XMLNS               "https://iam.amazonaws.com/doc/2010-05-08/"
#define S_PATH_PATTERN        "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
#define S_NAME_PATTERN        "[\\w+=,.@-]+"
#define S_POLICY_PATH_PATTERN "((/[A-Za-z0-9\\.,\\+@=_-]+)*)/"
#define S_PATH_PREFIX_PATTERN "\\u002F[\\u0021-\\u007F]*"
#define S_MAX_TAGS            50
#define S_MAX_ACCESS_KEYS     2
/* Policy size quotas (IAM User Guide, "IAM and AWS STS quotas"), in characters other than
 * white space: a role trust policy (ACLSizePerRole, default), a managed policy, and all of a
 * role's inline policies together. */
#define S_MAX_TRUST_CHARS       2048
#define S_MAX_MANAGED_CHARS     6144
#define S_MAX_ROLE_INLINE_CHARS 10240

/* ---- Small helpers ---- */

static struct emu_iam *s_iam(struct emu_query_call *call)
{
    return &call->app->store->iam;
}

static const char *s_account(struct emu_query_call *call)
{
    return call->caller->principal.account;
}

static int s_el(struct emu_query_call *call, const char *tag, const char *text)
{
    return emu_xml_element(call->out, tag, text);
}

static int s_el_time(struct emu_query_call *call, const char *tag, int64_t ms)
{
    char t[CMEK_ISO8601_LEN + 1];
    cmek_time_format_iso8601((time_t)(ms / 1000), t);
    return s_el(call, tag, t);
}

static int s_el_policy(struct emu_query_call *call, const char *tag,
                       const struct emu_policy *policy)
{
    struct cmek_buf text, enc;
    cmek_buf_init(&text, EMU_POLICY_MAX_BYTES * 2);
    cmek_buf_init(&enc, EMU_POLICY_MAX_BYTES * 6);
    struct emu_principal_resolver resolver = emu_iam_resolver(s_iam(call));
    int rc = emu_policy_render(policy, &resolver, &text);
    rc = rc ? rc
            : cmek_sigv4_uri_encode((struct cmek_view){text.data ? text.data : "", text.len}, true,
                                    &enc);
    rc = rc ? rc : s_el(call, tag, cmek_buf_cstr(&enc));
    cmek_buf_clean_up(&text);
    cmek_buf_clean_up(&enc);
    return rc;
}

static int s_el_tags(struct emu_query_call *call, const struct cmek_vec *tags)
{
    if (tags->len == 0) {
        return CMEK_OK;
    }
    int rc = cmek_buf_append_str(call->out, "<Tags>");
    for (size_t i = 0; rc == CMEK_OK && i < tags->len; i++) {
        const struct emu_tag *t = tags->items[i];
        rc = cmek_buf_append_str(call->out, "<member>");
        rc = rc ? rc : s_el(call, "Key", t->key);
        rc = rc ? rc : s_el(call, "Value", t->value);
        rc = rc ? rc : cmek_buf_append_str(call->out, "</member>");
    }
    return rc ? rc : cmek_buf_append_str(call->out, "</Tags>");
}

static bool s_path_ok(const char *path)
{
    size_t n = strlen(path);
    if (n == 1) {
        return path[0] == '/';
    }
    if (n < 3 || path[0] != '/' || path[n - 1] != '/') {
        return false;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        if (!emu_query_char_printable(path[i])) {
            return false;
        }
    }
    return true;
}

static void s_check_path(struct emu_query_call *call, const char *path)
{
    if (path == NULL) {
        return;
    }
    emu_query_check_string(call, "path", path, 1, 512, NULL, NULL);
    if (!s_path_ok(path)) {
        emu_query_invalid(call, "path", path, false,
                          "Member must satisfy regular expression pattern: " S_PATH_PATTERN);
    }
}

/* policyPathType: "/" or "/seg/.../" with segments of [A-Za-z0-9.,+@=_-]. */
static bool s_policy_path_ok(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || path[0] != '/' || path[n - 1] != '/') {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        char c = path[i];
        bool seg = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   strchr(".,+@=_-", c) != NULL;
        if (!seg && !(c == '/' && path[i - 1] != '/')) {
            return false;
        }
    }
    return true;
}

static void s_check_policy_path(struct emu_query_call *call, const char *member, const char *path)
{
    if (path == NULL) {
        return;
    }
    emu_query_check_string(call, member, path, 1, 512, NULL, NULL);
    if (!s_policy_path_ok(path)) {
        emu_query_invalid(call, member, path, false,
                          "Member must satisfy regular expression pattern: " S_POLICY_PATH_PATTERN);
    }
}

/* [\w] of accessKeyIdType. */
static bool s_char_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* pathPrefixType (ListRoles): "/" then [\u0021-\u007F]*. The empty string is left to the
 * length check, as emu_query_check_string does for every pattern. */
static bool s_path_prefix_ok(const char *prefix)
{
    if (prefix[0] == '\0') {
        return true;
    }
    if (prefix[0] != '/') {
        return false;
    }
    for (const char *p = prefix + 1; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7f) {
            return false;
        }
    }
    return true;
}

static void s_check_name(struct emu_query_call *call, const char *member, const char *value,
                         size_t max_len)
{
    emu_query_check_string(call, member, value, 1, max_len, S_NAME_PATTERN, emu_query_char_w_plus);
}

static void s_check_document(struct emu_query_call *call, const char *member, const char *doc)
{
    if (doc == NULL) {
        return;
    }
    /* Model pattern: [\u0009\u000A\u000D\u0020-\u00FF]+, length 1..131072. */
    emu_query_check_string(call, member, doc, 1, 131072, NULL, NULL);
}

/* A policy's size as IAM counts it against its quotas: white space is not counted. */
static size_t s_policy_size(const char *doc)
{
    size_t n = 0;
    for (const char *p = doc; *p != '\0'; p++) {
        n += (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ? 0 : 1;
    }
    return n;
}

/* LimitExceeded for a trust policy over the ACLSizePerRole quota. */
static int s_check_trust_size(struct emu_query_call *call, const char *doc)
{
    if (s_policy_size(doc) > S_MAX_TRUST_CHARS) {
        return emu_query_fail(call, 409, "LimitExceeded",
                              "Cannot exceed quota for ACLSizePerRole: %d", S_MAX_TRUST_CHARS);
    }
    return CMEK_OK;
}

/* Parses a policy document for IAM; MalformedPolicyDocument on failure. */
static int s_parse_policy(struct emu_query_call *call, const char *doc, enum emu_policy_kind kind,
                          struct emu_policy **out)
{
    struct emu_principal_resolver resolver = emu_iam_resolver(s_iam(call));
    struct emu_policy_error perr;
    int rc = emu_policy_parse(doc, strlen(doc), kind, &resolver, out, &perr);
    if (rc == CMEK_ERR_PARSE) {
        return emu_query_fail(call, 400, "MalformedPolicyDocument", "%s", perr.message);
    }
    return rc;
}

/* Tags.member.N.Key / .Value, N from 1 with no gaps. */
static int s_parse_tags(struct emu_query_call *call, struct cmek_vec *out)
{
    for (int i = 1; i <= 1000; i++) {
        char kname[64], vname[64];
        snprintf(kname, sizeof(kname), "Tags.member.%d.Key", i);
        snprintf(vname, sizeof(vname), "Tags.member.%d.Value", i);
        const char *k = emu_query_param(call->params, kname);
        const char *v = emu_query_param(call->params, vname);
        if (k == NULL && v == NULL) {
            break;
        }
        char member[64];
        snprintf(member, sizeof(member), "tags.%d.member.key", i);
        if (k == NULL) {
            emu_query_invalid_null(call, member);
            continue;
        }
        emu_query_check_string(call, member, k, 1, 128, NULL, NULL);
        snprintf(member, sizeof(member), "tags.%d.member.value", i);
        if (v == NULL) {
            emu_query_invalid_null(call, member);
            continue;
        }
        emu_query_check_string(call, member, v, 0, 256, NULL, NULL);
        for (size_t j = 0; j < out->len; j++) {
            if (strcasecmp(((struct emu_tag *)out->items[j])->key, k) == 0) {
                return emu_query_fail(call, 400, "InvalidInput",
                                      "Duplicate tag keys found. Please note that Tag keys are "
                                      "case insensitive.");
            }
        }
        struct emu_tag *tag = calloc(1, sizeof(*tag));
        if (tag == NULL) {
            return CMEK_ERR_NOMEM;
        }
        tag->key = strdup(k);
        tag->value = strdup(v);
        if (!tag->key || !tag->value || cmek_vec_push(out, tag)) {
            emu_tag_destroy(tag);
            return CMEK_ERR_NOMEM;
        }
    }
    if (out->len > S_MAX_TAGS) {
        emu_query_invalid(call, "tags", "", true,
                          "Member must have length less than or equal to 50");
    }
    return CMEK_OK;
}

static void s_free_tags(struct cmek_vec *tags)
{
    for (size_t i = 0; i < tags->len; i++) {
        emu_tag_destroy(tags->items[i]);
    }
    cmek_vec_clean_up(tags);
}

/* Moves tags into dest, replacing the values of keys already there (TagRole semantics). */
static int s_merge_tags(struct cmek_vec *dest, struct cmek_vec *src)
{
    while (src->len > 0) {
        struct emu_tag *t = cmek_vec_remove_at(src, 0);
        bool replaced = false;
        for (size_t j = 0; j < dest->len; j++) {
            struct emu_tag *d = dest->items[j];
            if (strcasecmp(d->key, t->key) == 0) {
                dest->items[j] = t;
                emu_tag_destroy(d);
                replaced = true;
                break;
            }
        }
        if (!replaced && cmek_vec_push(dest, t)) {
            emu_tag_destroy(t);
            return CMEK_ERR_NOMEM;
        }
    }
    return CMEK_OK;
}

/* Validates MaxItems (1..1000, default 100) and Marker with the request's other members, so
 * that AWS's one ValidationError lists them all; returns MaxItems. */
static long long s_check_paging(struct emu_query_call *call)
{
    long long max_items = 100;
    emu_query_check_int(call, "MaxItems", "maxItems", 1, 1000, &max_items);
    emu_query_check_string(call, "marker", emu_query_param(call->params, "Marker"), 1, 320, NULL,
                           NULL);
    return max_items;
}

/* The page of total items from Marker (an offset this emulator handed out). */
static int s_paging(struct emu_query_call *call, long long max_items, size_t total, size_t *start,
                    size_t *count)
{
    const char *marker = emu_query_param(call->params, "Marker");
    size_t from = 0;
    if (marker != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(marker, &end, 10);
        if (end == marker || *end != '\0' || n > total) {
            return emu_query_fail(call, 400, "InvalidInput", "Invalid Marker.");
        }
        from = (size_t)n;
    }
    *start = from;
    *count = total - from < (size_t)max_items ? total - from : (size_t)max_items;
    return CMEK_OK;
}

static int s_paging_tail(struct emu_query_call *call, size_t next, size_t total)
{
    int rc = s_el(call, "IsTruncated", next < total ? "true" : "false");
    if (rc == CMEK_OK && next < total) {
        char m[32];
        snprintf(m, sizeof(m), "%zu", next);
        rc = s_el(call, "Marker", m);
    }
    return rc;
}

static char *s_arn_for(struct emu_query_call *call, const char *kind, const char *path,
                       const char *name)
{
    struct cmek_buf b;
    cmek_buf_init(&b, 2048);
    if (cmek_buf_appendf(&b, "arn:aws:iam::%s:%s%s%s", s_account(call), kind, path, name)) {
        cmek_buf_clean_up(&b);
        return NULL;
    }
    return cmek_buf_steal(&b);
}

/* Validation first, then authorization against the role's ARN (so an unauthorized caller
 * learns nothing about existence, as in IAM), then existence. */
static int s_lookup_role(struct emu_query_call *call, const char *name, const char *action,
                         struct emu_iam_role **out)
{
    int rc = emu_query_validation_result(call);
    if (rc) {
        return rc;
    }
    struct emu_iam_role *role = emu_iam_role_by_name(s_iam(call), s_account(call), name);
    char *arn = role != NULL ? NULL : s_arn_for(call, "role", "/", name);
    if (role == NULL && arn == NULL) {
        return CMEK_ERR_NOMEM;
    }
    rc = emu_query_authorize(call, action, role != NULL ? role->ident.arn : arn, s_account(call));
    free(arn);
    if (rc) {
        return rc;
    }
    if (role == NULL) {
        return emu_query_fail(call, 404, "NoSuchEntity", "The role with name %s cannot be found.",
                              name);
    }
    *out = role;
    return CMEK_OK;
}

/* ---- Role rendering ---- */

enum s_role_view { S_ROLE_CREATE, S_ROLE_GET, S_ROLE_LIST };

static int s_render_role(struct emu_query_call *call, const struct emu_iam_role *r,
                         const char *wrapper, enum s_role_view view)
{
    char max[32];
    snprintf(max, sizeof(max), "%lld", (long long)r->max_session_s);
    int rc = cmek_buf_appendf(call->out, "<%s>", wrapper);
    rc = rc ? rc : s_el(call, "Path", r->ident.path);
    rc = rc ? rc : s_el(call, "RoleName", r->ident.name);
    rc = rc ? rc : s_el(call, "RoleId", r->ident.id);
    rc = rc ? rc : s_el(call, "Arn", r->ident.arn);
    rc = rc ? rc : s_el_time(call, "CreateDate", r->ident.create_ms);
    rc = rc ? rc : s_el_policy(call, "AssumeRolePolicyDocument", r->trust);
    if (r->description != NULL) {
        rc = rc ? rc : s_el(call, "Description", r->description);
    }
    if (view != S_ROLE_CREATE) {
        rc = rc ? rc : s_el(call, "MaxSessionDuration", max);
    }
    if (view != S_ROLE_LIST) {
        rc = rc ? rc : s_el_tags(call, &r->ident.tags);
    }
    if (view == S_ROLE_GET) {
        rc = rc ? rc : cmek_buf_append_str(call->out, "<RoleLastUsed/>");
    }
    return rc ? rc : cmek_buf_appendf(call->out, "</%s>", wrapper);
}

/* ---- Roles ---- */

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html */
static int s_create_role(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *doc =
        emu_query_required(call, "AssumeRolePolicyDocument", "assumeRolePolicyDocument");
    const char *path = emu_query_param(call->params, "Path");
    const char *desc = emu_query_param(call->params, "Description");
    long long max_session = 3600;
    s_check_name(call, "roleName", name, 64);
    s_check_path(call, path);
    s_check_document(call, "assumeRolePolicyDocument", doc);
    emu_query_check_string(call, "description", desc, 0, 1000, NULL, NULL);
    emu_query_check_int(call, "MaxSessionDuration", "maxSessionDuration", 3600, 43200,
                        &max_session);
    struct cmek_vec tags;
    cmek_vec_init(&tags);
    struct emu_policy *trust = NULL;
    struct emu_iam_role *role = NULL;
    char *arn = NULL;
    int rc = s_parse_tags(call, &tags);
    rc = rc ? rc : emu_query_validation_result(call);
    if (rc) {
        goto done;
    }
    if (emu_query_param(call->params, "PermissionsBoundary") != NULL) {
        rc = emu_query_fail(call, 400, "InvalidInput",
                            "PermissionsBoundary is not supported by cmek-emulator.");
        goto done;
    }
    path = path ? path : "/";
    arn = s_arn_for(call, "role", path, name);
    rc = arn ? emu_query_authorize(call, "iam:CreateRole", arn, s_account(call)) : CMEK_ERR_NOMEM;
    if (rc) {
        goto done;
    }
    if (emu_iam_role_by_name(s_iam(call), s_account(call), name) != NULL) {
        rc = emu_query_fail(call, 409, "EntityAlreadyExists", "Role with name %s already exists.",
                            name);
        goto done;
    }
    rc = s_check_trust_size(call, doc);
    rc = rc ? rc : s_parse_policy(call, doc, EMU_POLICY_TRUST, &trust);
    if (rc) {
        goto done;
    }
    char id[22];
    rc = emu_iam_new_unique_id(call->app, "AROA", id);
    if (rc) {
        goto done;
    }
    role = emu_iam_role_new(s_account(call), name, path, id, (int64_t)call->now * 1000);
    if (role == NULL || (desc != NULL && (role->description = strdup(desc)) == NULL)) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    role->max_session_s = max_session;
    role->trust = trust;
    trust = NULL;
    rc = s_merge_tags(&role->ident.tags, &tags);
    rc = rc ? rc : cmek_vec_push(&s_iam(call)->roles, role);
    if (rc) {
        goto done;
    }
    struct emu_iam_role *added = role;
    role = NULL;
    rc = s_render_role(call, added, "Role", S_ROLE_CREATE);
done:
    emu_iam_role_destroy(role);
    emu_policy_destroy(trust);
    s_free_tags(&tags);
    free(arn);
    return rc;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html */
static int s_get_role(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    s_check_name(call, "roleName", name, 64);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:GetRole", &role);
    return rc ? rc : s_render_role(call, role, "Role", S_ROLE_GET);
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html */
static int s_list_roles(struct emu_query_call *call)
{
    const char *prefix = emu_query_param(call->params, "PathPrefix");
    emu_query_check_string(call, "pathPrefix", prefix, 1, 512, NULL, NULL);
    if (prefix != NULL && !s_path_prefix_ok(prefix)) {
        emu_query_invalid(call, "pathPrefix", prefix, false,
                          "Member must satisfy regular expression pattern: " S_PATH_PREFIX_PATTERN);
    }
    long long max_items = s_check_paging(call);
    char resource[64];
    snprintf(resource, sizeof(resource), "arn:aws:iam::%s:role/", s_account(call));
    int rc = emu_query_validation_result(call);
    rc = rc ? rc : emu_query_authorize(call, "iam:ListRoles", resource, s_account(call));
    if (rc) {
        return rc;
    }
    struct cmek_vec roles;
    cmek_vec_init(&roles);
    struct emu_iam *iam = s_iam(call);
    for (size_t i = 0; rc == CMEK_OK && i < iam->roles.len; i++) {
        struct emu_iam_role *r = iam->roles.items[i];
        if (strcmp(r->ident.account, s_account(call)) == 0 &&
            (prefix == NULL || strncmp(r->ident.path, prefix, strlen(prefix)) == 0)) {
            rc = cmek_vec_push(&roles, r);
        }
    }
    size_t start = 0, count = 0;
    rc = rc ? rc : s_paging(call, max_items, roles.len, &start, &count);
    rc = rc ? rc : cmek_buf_append_str(call->out, "<Roles>");
    for (size_t i = start; rc == CMEK_OK && i < start + count; i++) {
        rc = s_render_role(call, roles.items[i], "member", S_ROLE_LIST);
    }
    rc = rc ? rc : cmek_buf_append_str(call->out, "</Roles>");
    rc = rc ? rc : s_paging_tail(call, start + count, roles.len);
    cmek_vec_clean_up(&roles);
    return rc;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html */
static int s_update_role(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *desc = emu_query_param(call->params, "Description");
    long long max_session = -1;
    s_check_name(call, "roleName", name, 64);
    emu_query_check_string(call, "description", desc, 0, 1000, NULL, NULL);
    emu_query_check_int(call, "MaxSessionDuration", "maxSessionDuration", 3600, 43200,
                        &max_session);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:UpdateRole", &role);
    if (rc) {
        return rc;
    }
    if (desc != NULL) {
        char *copy = strdup(desc);
        if (copy == NULL) {
            return CMEK_ERR_NOMEM;
        }
        free(role->description);
        role->description = copy;
    }
    if (max_session > 0) {
        /* Takes effect for the next AssumeRole; issued sessions keep their expiry. */
        role->max_session_s = max_session;
    }
    return CMEK_OK; /* an empty <UpdateRoleResult> */
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html */
static int s_delete_role(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    s_check_name(call, "roleName", name, 64);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:DeleteRole", &role);
    if (rc) {
        return rc;
    }
    if (role->ident.inline_policies.len > 0) {
        return emu_query_fail(call, 409, "DeleteConflict",
                              "Cannot delete entity, must delete policies first.");
    }
    if (role->ident.attached.len > 0) {
        return emu_query_fail(call, 409, "DeleteConflict",
                              "Cannot delete entity, must detach all policies first.");
    }
    struct cmek_vec *roles = &s_iam(call)->roles;
    for (size_t i = 0; i < roles->len; i++) {
        if (roles->items[i] == role) {
            emu_iam_role_destroy(cmek_vec_remove_at(roles, i));
            break;
        }
    }
    call->has_result = false;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAssumeRolePolicy.html
 * Checked only at AssumeRole: sessions already issued keep working until they expire. */
static int s_update_assume_role_policy(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *doc = emu_query_required(call, "PolicyDocument", "policyDocument");
    s_check_name(call, "roleName", name, 64);
    s_check_document(call, "policyDocument", doc);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:UpdateAssumeRolePolicy", &role);
    struct emu_policy *trust = NULL;
    rc = rc ? rc : s_check_trust_size(call, doc);
    rc = rc ? rc : s_parse_policy(call, doc, EMU_POLICY_TRUST, &trust);
    if (rc) {
        return rc;
    }
    emu_policy_destroy(role->trust);
    role->trust = trust;
    call->has_result = false;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagRole.html */
static int s_tag_role(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    s_check_name(call, "roleName", name, 64);
    struct cmek_vec tags;
    cmek_vec_init(&tags);
    int rc = s_parse_tags(call, &tags);
    if (rc == CMEK_OK && tags.len == 0 && emu_query_param(call->params, "Tags") == NULL) {
        emu_query_invalid_null(call, "tags");
    }
    struct emu_iam_role *role = NULL;
    rc = rc ? rc : s_lookup_role(call, name, "iam:TagRole", &role);
    if (rc == CMEK_OK) {
        size_t new_keys = 0;
        for (size_t i = 0; i < tags.len; i++) {
            bool exists = false;
            for (size_t j = 0; j < role->ident.tags.len; j++) {
                exists =
                    exists || strcasecmp(((struct emu_tag *)tags.items[i])->key,
                                         ((struct emu_tag *)role->ident.tags.items[j])->key) == 0;
            }
            new_keys += exists ? 0 : 1;
        }
        if (role->ident.tags.len + new_keys > S_MAX_TAGS) {
            rc = emu_query_fail(call, 409, "LimitExceeded",
                                "Cannot exceed quota for TagsPerRole: 50");
        }
    }
    if (rc == CMEK_OK) {
        rc = s_merge_tags(&role->ident.tags, &tags);
    }
    s_free_tags(&tags);
    call->has_result = false;
    return rc;
}

/* ---- Inline role policies ---- */

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html
 * Takes effect on the role's sessions at once: permissions are evaluated per request. */
static int s_put_role_policy(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *pname = emu_query_required(call, "PolicyName", "policyName");
    const char *doc = emu_query_required(call, "PolicyDocument", "policyDocument");
    s_check_name(call, "roleName", name, 64);
    s_check_name(call, "policyName", pname, 128);
    s_check_document(call, "policyDocument", doc);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:PutRolePolicy", &role);
    if (rc) {
        return rc;
    }
    /* The quota is on the role's inline policies together; the one replaced does not count. */
    long idx = emu_iam_identity_find_inline(&role->ident, pname);
    size_t total = s_policy_size(doc);
    for (size_t i = 0; i < role->ident.inline_policies.len; i++) {
        const struct emu_iam_inline_policy *q = role->ident.inline_policies.items[i];
        total += (long)i == idx ? 0 : s_policy_size(emu_policy_text(q->policy));
    }
    if (total > S_MAX_ROLE_INLINE_CHARS) {
        return emu_query_fail(call, 409, "LimitExceeded",
                              "Maximum policy size of %d bytes exceeded for role %s",
                              S_MAX_ROLE_INLINE_CHARS, role->ident.name);
    }
    struct emu_policy *policy = NULL;
    rc = s_parse_policy(call, doc, EMU_POLICY_IDENTITY, &policy);
    if (rc) {
        return rc;
    }
    if (idx >= 0) {
        struct emu_iam_inline_policy *p = role->ident.inline_policies.items[idx];
        emu_policy_destroy(p->policy);
        p->policy = policy;
    } else {
        struct emu_iam_inline_policy *p = calloc(1, sizeof(*p));
        if (p == NULL || (p->name = strdup(pname)) == NULL) {
            free(p);
            emu_policy_destroy(policy);
            return CMEK_ERR_NOMEM;
        }
        p->policy = policy;
        if (cmek_vec_push(&role->ident.inline_policies, p)) {
            emu_iam_inline_policy_destroy(p);
            return CMEK_ERR_NOMEM;
        }
    }
    call->has_result = false;
    return CMEK_OK;
}

static struct emu_iam_inline_policy *s_inline_or_fail(struct emu_query_call *call,
                                                      struct emu_iam_role *role, const char *pname,
                                                      long *idx, int *rc)
{
    *idx = emu_iam_identity_find_inline(&role->ident, pname);
    if (*idx < 0) {
        *rc = emu_query_fail(call, 404, "NoSuchEntity",
                             "The role policy with name %s cannot be found.", pname);
        return NULL;
    }
    return role->ident.inline_policies.items[*idx];
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html */
static int s_get_role_policy(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *pname = emu_query_required(call, "PolicyName", "policyName");
    s_check_name(call, "roleName", name, 64);
    s_check_name(call, "policyName", pname, 128);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:GetRolePolicy", &role);
    long idx = -1;
    struct emu_iam_inline_policy *p = rc ? NULL : s_inline_or_fail(call, role, pname, &idx, &rc);
    rc = rc ? rc : s_el(call, "RoleName", role->ident.name);
    rc = rc ? rc : s_el(call, "PolicyName", p->name);
    return rc ? rc : s_el_policy(call, "PolicyDocument", p->policy);
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRolePolicies.html */
static int s_list_role_policies(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    s_check_name(call, "roleName", name, 64);
    long long max_items = s_check_paging(call);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:ListRolePolicies", &role);
    size_t start = 0, count = 0;
    rc = rc ? rc : s_paging(call, max_items, role->ident.inline_policies.len, &start, &count);
    rc = rc ? rc : cmek_buf_append_str(call->out, "<PolicyNames>");
    for (size_t i = start; rc == CMEK_OK && i < start + count; i++) {
        struct emu_iam_inline_policy *p = role->ident.inline_policies.items[i];
        rc = s_el(call, "member", p->name);
    }
    rc = rc ? rc : cmek_buf_append_str(call->out, "</PolicyNames>");
    return rc ? rc : s_paging_tail(call, start + count, role->ident.inline_policies.len);
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRolePolicy.html */
static int s_delete_role_policy(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *pname = emu_query_required(call, "PolicyName", "policyName");
    s_check_name(call, "roleName", name, 64);
    s_check_name(call, "policyName", pname, 128);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:DeleteRolePolicy", &role);
    long idx = -1;
    if (rc == CMEK_OK && s_inline_or_fail(call, role, pname, &idx, &rc) != NULL) {
        emu_iam_inline_policy_destroy(
            cmek_vec_remove_at(&role->ident.inline_policies, (size_t)idx));
    }
    call->has_result = false;
    return rc;
}

/* ---- Managed policies ---- */

static int s_render_policy(struct emu_query_call *call, const struct emu_iam_managed_policy *p)
{
    char count[32];
    snprintf(count, sizeof(count), "%zu", emu_iam_attachment_count(s_iam(call), p->arn));
    int rc = cmek_buf_append_str(call->out, "<Policy>");
    rc = rc ? rc : s_el(call, "PolicyName", p->name);
    rc = rc ? rc : s_el(call, "PolicyId", p->id);
    rc = rc ? rc : s_el(call, "Arn", p->arn);
    rc = rc ? rc : s_el(call, "Path", p->path);
    rc = rc ? rc : s_el(call, "DefaultVersionId", "v1");
    rc = rc ? rc : s_el(call, "AttachmentCount", count);
    rc = rc ? rc : s_el(call, "PermissionsBoundaryUsageCount", "0");
    rc = rc ? rc : s_el(call, "IsAttachable", "true");
    if (p->description != NULL) {
        rc = rc ? rc : s_el(call, "Description", p->description);
    }
    rc = rc ? rc : s_el_time(call, "CreateDate", p->create_ms);
    rc = rc ? rc : s_el_time(call, "UpdateDate", p->update_ms);
    return rc ? rc : cmek_buf_append_str(call->out, "</Policy>");
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreatePolicy.html */
static int s_create_policy(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "PolicyName", "policyName");
    const char *doc = emu_query_required(call, "PolicyDocument", "policyDocument");
    const char *path = emu_query_param(call->params, "Path");
    const char *desc = emu_query_param(call->params, "Description");
    s_check_name(call, "policyName", name, 128);
    s_check_policy_path(call, "path", path);
    s_check_document(call, "policyDocument", doc);
    emu_query_check_string(call, "description", desc, 0, 1000, NULL, NULL);
    struct cmek_vec tags;
    cmek_vec_init(&tags);
    int rc = s_parse_tags(call, &tags);
    rc = rc ? rc : emu_query_validation_result(call);
    path = path ? path : "/";
    char *arn = rc ? NULL : s_arn_for(call, "policy", path, name);
    if (rc == CMEK_OK && arn == NULL) {
        rc = CMEK_ERR_NOMEM;
    }
    rc = rc ? rc : emu_query_authorize(call, "iam:CreatePolicy", arn, s_account(call));
    struct emu_iam_managed_policy *p = NULL;
    if (rc == CMEK_OK) {
        struct emu_iam *iam = s_iam(call);
        for (size_t i = 0; i < iam->policies.len; i++) {
            struct emu_iam_managed_policy *q = iam->policies.items[i];
            if (strcmp(q->account, s_account(call)) == 0 && strcasecmp(q->name, name) == 0) {
                rc = emu_query_fail(call, 409, "EntityAlreadyExists",
                                    "A policy called %s already exists. Duplicate names are not "
                                    "allowed.",
                                    name);
                break;
            }
        }
    }
    struct emu_policy *doc_policy = NULL;
    if (rc == CMEK_OK && s_policy_size(doc) > S_MAX_MANAGED_CHARS) {
        rc = emu_query_fail(call, 409, "LimitExceeded", "Cannot exceed quota for PolicySize: %d",
                            S_MAX_MANAGED_CHARS);
    }
    /* Managed policies must be written in the current policy language version. */
    rc = rc ? rc : s_parse_policy(call, doc, EMU_POLICY_MANAGED, &doc_policy);
    if (rc == CMEK_OK) {
        p = calloc(1, sizeof(*p));
        char id[22];
        rc = p ? emu_iam_new_unique_id(call->app, "ANPA", id) : CMEK_ERR_NOMEM;
        if (rc == CMEK_OK) {
            p->account = strdup(s_account(call));
            p->name = strdup(name);
            p->path = strdup(path);
            p->id = strdup(id);
            p->arn = arn;
            arn = NULL;
            p->description = desc ? strdup(desc) : NULL;
            p->create_ms = p->update_ms = (int64_t)call->now * 1000;
            p->doc = doc_policy;
            doc_policy = NULL;
            rc = (!p->account || !p->name || !p->path || !p->id || (desc && !p->description))
                     ? CMEK_ERR_NOMEM
                     : cmek_vec_push(&s_iam(call)->policies, p);
        }
        if (rc == CMEK_OK) {
            struct emu_iam_managed_policy *added = p;
            p = NULL;
            rc = s_render_policy(call, added);
        }
    }
    emu_iam_managed_policy_destroy(p);
    emu_policy_destroy(doc_policy);
    free(arn);
    s_free_tags(&tags); /* policy tags are validated; not kept (no ListPolicyTags here) */
    return rc;
}

static bool s_policy_arn_ok(const char *arn)
{
    const char *p = "arn:aws:iam::";
    if (strncmp(arn, p, strlen(p)) != 0) {
        return false;
    }
    const char *colon = strchr(arn + strlen(p), ':');
    return colon != NULL && strncmp(colon, ":policy/", 8) == 0 && colon[8] != '\0';
}

/* The managed policy arn names, visible to the caller's account. IAM words the miss as
 * "was not found" for GetPolicy and "does not exist or is not attachable" for attaching. */
static struct emu_iam_managed_policy *s_policy_or_fail(struct emu_query_call *call, const char *arn,
                                                       bool attaching, int *rc)
{
    if (!s_policy_arn_ok(arn)) {
        *rc = emu_query_fail(call, 400, "InvalidInput", "ARN %s is not valid.", arn);
        return NULL;
    }
    struct emu_iam_managed_policy *p = emu_iam_managed_policy(s_iam(call), arn);
    bool visible =
        p != NULL && (strcmp(p->account, "aws") == 0 || strcmp(p->account, s_account(call)) == 0);
    if (!visible) {
        *rc = attaching
                  ? emu_query_fail(call, 404, "NoSuchEntity",
                                   "Policy %s does not exist or is not attachable.", arn)
                  : emu_query_fail(call, 404, "NoSuchEntity", "Policy %s was not found.", arn);
        return NULL;
    }
    return p;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetPolicy.html */
static int s_get_policy(struct emu_query_call *call)
{
    const char *arn = emu_query_required(call, "PolicyArn", "policyArn");
    emu_query_check_string(call, "policyArn", arn, 20, 2048, NULL, NULL);
    int rc = emu_query_validation_result(call);
    rc = rc ? rc : emu_query_authorize(call, "iam:GetPolicy", arn, s_account(call));
    struct emu_iam_managed_policy *p = rc ? NULL : s_policy_or_fail(call, arn, false, &rc);
    return rc ? rc : s_render_policy(call, p);
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachRolePolicy.html */
static int s_attach_role_policy(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *arn = emu_query_required(call, "PolicyArn", "policyArn");
    s_check_name(call, "roleName", name, 64);
    emu_query_check_string(call, "policyArn", arn, 20, 2048, NULL, NULL);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:AttachRolePolicy", &role);
    struct emu_iam_managed_policy *p = rc ? NULL : s_policy_or_fail(call, arn, true, &rc);
    if (rc) {
        return rc;
    }
    call->has_result = false;
    for (size_t i = 0; i < role->ident.attached.len; i++) {
        if (strcmp(role->ident.attached.items[i], p->arn) == 0) {
            return CMEK_OK; /* attaching twice is not an error in IAM */
        }
    }
    if (role->ident.attached.len >= 10) {
        return emu_query_fail(call, 409, "LimitExceeded",
                              "Cannot exceed quota for PoliciesPerRole: 10");
    }
    char *copy = strdup(p->arn);
    if (copy == NULL || cmek_vec_push(&role->ident.attached, copy)) {
        free(copy);
        return CMEK_ERR_NOMEM;
    }
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_DetachRolePolicy.html */
static int s_detach_role_policy(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *arn = emu_query_required(call, "PolicyArn", "policyArn");
    s_check_name(call, "roleName", name, 64);
    emu_query_check_string(call, "policyArn", arn, 20, 2048, NULL, NULL);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:DetachRolePolicy", &role);
    if (rc) {
        return rc;
    }
    call->has_result = false;
    for (size_t i = 0; i < role->ident.attached.len; i++) {
        if (strcmp(role->ident.attached.items[i], arn) == 0) {
            free(cmek_vec_remove_at(&role->ident.attached, i));
            return CMEK_OK;
        }
    }
    return emu_query_fail(call, 404, "NoSuchEntity", "Policy %s was not found.", arn);
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedRolePolicies.html */
static int s_list_attached_role_policies(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "RoleName", "roleName");
    const char *prefix = emu_query_param(call->params, "PathPrefix");
    s_check_name(call, "roleName", name, 64);
    s_check_policy_path(call, "pathPrefix", prefix);
    long long max_items = s_check_paging(call);
    struct emu_iam_role *role = NULL;
    int rc = s_lookup_role(call, name, "iam:ListAttachedRolePolicies", &role);
    if (rc) {
        return rc;
    }
    struct cmek_vec shown; /* const struct emu_iam_managed_policy *, borrowed */
    cmek_vec_init(&shown);
    for (size_t i = 0; rc == CMEK_OK && i < role->ident.attached.len; i++) {
        struct emu_iam_managed_policy *p =
            emu_iam_managed_policy(s_iam(call), role->ident.attached.items[i]);
        if (p != NULL && (prefix == NULL || strncmp(p->path, prefix, strlen(prefix)) == 0)) {
            rc = cmek_vec_push(&shown, p);
        }
    }
    size_t start = 0, count = 0;
    rc = rc ? rc : s_paging(call, max_items, shown.len, &start, &count);
    rc = rc ? rc : cmek_buf_append_str(call->out, "<AttachedPolicies>");
    for (size_t i = start; rc == CMEK_OK && i < start + count; i++) {
        const struct emu_iam_managed_policy *p = shown.items[i];
        rc = cmek_buf_append_str(call->out, "<member>");
        rc = rc ? rc : s_el(call, "PolicyName", p->name);
        rc = rc ? rc : s_el(call, "PolicyArn", p->arn);
        rc = rc ? rc : cmek_buf_append_str(call->out, "</member>");
    }
    rc = rc ? rc : cmek_buf_append_str(call->out, "</AttachedPolicies>");
    rc = rc ? rc : s_paging_tail(call, start + count, shown.len);
    cmek_vec_clean_up(&shown);
    return rc;
}

/* ---- Users and access keys ---- */

static int s_render_user(struct emu_query_call *call, const struct emu_iam_user *u, bool with_tags)
{
    int rc = cmek_buf_append_str(call->out, "<User>");
    rc = rc ? rc : s_el(call, "Path", u->ident.path);
    rc = rc ? rc : s_el(call, "UserName", u->ident.name);
    rc = rc ? rc : s_el(call, "UserId", u->ident.id);
    rc = rc ? rc : s_el(call, "Arn", u->ident.arn);
    rc = rc ? rc : s_el_time(call, "CreateDate", u->ident.create_ms);
    if (with_tags) {
        rc = rc ? rc : s_el_tags(call, &u->ident.tags);
    }
    return rc ? rc : cmek_buf_append_str(call->out, "</User>");
}

/* The user named by UserName, or the calling user when it is absent (IAM's rule for
 * GetUser, CreateAccessKey, ListAccessKeys, DeleteAccessKey); validated, then authorized,
 * then looked up. */
static int s_lookup_user(struct emu_query_call *call, const char *name, const char *action,
                         struct emu_iam_user **out)
{
    int rc = emu_query_validation_result(call);
    if (rc) {
        return rc;
    }
    if (name == NULL) {
        if (call->caller->principal.type != EMU_PRINCIPAL_USER || call->caller->identity == NULL) {
            return emu_query_fail(call, 400, "ValidationError",
                                  "Must specify userName when calling with non-User credentials");
        }
        name = call->caller->identity->name;
    }
    struct emu_iam_user *u = emu_iam_user_by_name(s_iam(call), s_account(call), name);
    char *arn = u != NULL ? NULL : s_arn_for(call, "user", "/", name);
    if (u == NULL && arn == NULL) {
        return CMEK_ERR_NOMEM;
    }
    rc = emu_query_authorize(call, action, u != NULL ? u->ident.arn : arn, s_account(call));
    free(arn);
    if (rc) {
        return rc;
    }
    if (u == NULL) {
        return emu_query_fail(call, 404, "NoSuchEntity", "The user with name %s cannot be found.",
                              name);
    }
    *out = u;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html */
static int s_create_user(struct emu_query_call *call)
{
    const char *name = emu_query_required(call, "UserName", "userName");
    const char *path = emu_query_param(call->params, "Path");
    s_check_name(call, "userName", name, 64);
    s_check_path(call, path);
    struct cmek_vec tags;
    cmek_vec_init(&tags);
    int rc = s_parse_tags(call, &tags);
    rc = rc ? rc : emu_query_validation_result(call);
    if (rc == CMEK_OK && emu_query_param(call->params, "PermissionsBoundary") != NULL) {
        rc = emu_query_fail(call, 400, "InvalidInput",
                            "PermissionsBoundary is not supported by cmek-emulator.");
    }
    path = path ? path : "/";
    char *arn = rc ? NULL : s_arn_for(call, "user", path, name);
    if (rc == CMEK_OK && arn == NULL) {
        rc = CMEK_ERR_NOMEM;
    }
    rc = rc ? rc : emu_query_authorize(call, "iam:CreateUser", arn, s_account(call));
    if (rc == CMEK_OK && emu_iam_user_by_name(s_iam(call), s_account(call), name) != NULL) {
        rc = emu_query_fail(call, 409, "EntityAlreadyExists", "User with name %s already exists.",
                            name);
    }
    struct emu_iam_user *u = NULL;
    if (rc == CMEK_OK) {
        char id[22];
        rc = emu_iam_new_unique_id(call->app, "AIDA", id);
        u = rc ? NULL
               : emu_iam_user_new(s_account(call), name, path, id, (int64_t)call->now * 1000);
        rc = rc ? rc : (u == NULL ? CMEK_ERR_NOMEM : s_merge_tags(&u->ident.tags, &tags));
        rc = rc ? rc : cmek_vec_push(&s_iam(call)->users, u);
        if (rc == CMEK_OK) {
            struct emu_iam_user *added = u;
            u = NULL;
            rc = s_render_user(call, added, true);
        }
    }
    emu_iam_user_destroy(u);
    s_free_tags(&tags);
    free(arn);
    return rc;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUser.html */
static int s_get_user(struct emu_query_call *call)
{
    const char *name = emu_query_param(call->params, "UserName");
    s_check_name(call, "userName", name, 128);
    struct emu_iam_user *u = NULL;
    int rc = s_lookup_user(call, name, "iam:GetUser", &u);
    return rc ? rc : s_render_user(call, u, true);
}

static const char *s_key_status(const struct emu_iam_access_key *k)
{
    return k->active ? "Active" : "Inactive";
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateAccessKey.html */
static int s_create_access_key(struct emu_query_call *call)
{
    const char *name = emu_query_param(call->params, "UserName");
    s_check_name(call, "userName", name, 128);
    struct emu_iam_user *u = NULL;
    int rc = s_lookup_user(call, name, "iam:CreateAccessKey", &u);
    if (rc) {
        return rc;
    }
    struct emu_iam *iam = s_iam(call);
    size_t have = 0;
    for (size_t i = 0; i < iam->access_keys.len; i++) {
        struct emu_iam_access_key *k = iam->access_keys.items[i];
        have +=
            strcmp(k->account, u->ident.account) == 0 && strcmp(k->user_name, u->ident.name) == 0;
    }
    if (have >= S_MAX_ACCESS_KEYS) {
        return emu_query_fail(call, 409, "LimitExceeded",
                              "Cannot exceed quota for AccessKeysPerUser: 2");
    }
    struct emu_iam_access_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return CMEK_ERR_NOMEM;
    }
    char id[21], secret[41];
    memcpy(id, "AKIA", 4);
    rc = emu_random_string(call->app, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, id + 4);
    rc = rc ? rc
            : emu_random_string(call->app,
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                40, secret);
    if (rc == CMEK_OK) {
        k->id = strdup(id);
        k->secret = strdup(secret);
        k->account = strdup(u->ident.account);
        k->user_name = strdup(u->ident.name);
        k->active = true;
        k->create_ms = (int64_t)call->now * 1000;
        rc = (!k->id || !k->secret || !k->account || !k->user_name)
                 ? CMEK_ERR_NOMEM
                 : cmek_vec_push(&iam->access_keys, k);
    }
    cmek_cleanse(secret, sizeof(secret));
    if (rc) {
        emu_iam_access_key_destroy(k);
        return rc;
    }
    rc = cmek_buf_append_str(call->out, "<AccessKey>");
    rc = rc ? rc : s_el(call, "UserName", k->user_name);
    rc = rc ? rc : s_el(call, "AccessKeyId", k->id);
    rc = rc ? rc : s_el(call, "Status", s_key_status(k));
    rc = rc ? rc : s_el(call, "SecretAccessKey", k->secret);
    rc = rc ? rc : s_el_time(call, "CreateDate", k->create_ms);
    return rc ? rc : cmek_buf_append_str(call->out, "</AccessKey>");
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html */
static int s_list_access_keys(struct emu_query_call *call)
{
    const char *name = emu_query_param(call->params, "UserName");
    s_check_name(call, "userName", name, 128);
    long long max_items = s_check_paging(call);
    struct emu_iam_user *u = NULL;
    int rc = s_lookup_user(call, name, "iam:ListAccessKeys", &u);
    if (rc) {
        return rc;
    }
    struct cmek_vec keys;
    cmek_vec_init(&keys);
    struct emu_iam *iam = s_iam(call);
    for (size_t i = 0; rc == CMEK_OK && i < iam->access_keys.len; i++) {
        struct emu_iam_access_key *k = iam->access_keys.items[i];
        if (strcmp(k->account, u->ident.account) == 0 && strcmp(k->user_name, u->ident.name) == 0) {
            rc = cmek_vec_push(&keys, k);
        }
    }
    size_t start = 0, count = 0;
    rc = rc ? rc : s_paging(call, max_items, keys.len, &start, &count);
    rc = rc ? rc : cmek_buf_append_str(call->out, "<AccessKeyMetadata>");
    for (size_t i = start; rc == CMEK_OK && i < start + count; i++) {
        const struct emu_iam_access_key *k = keys.items[i];
        rc = cmek_buf_append_str(call->out, "<member>");
        rc = rc ? rc : s_el(call, "UserName", k->user_name);
        rc = rc ? rc : s_el(call, "AccessKeyId", k->id);
        rc = rc ? rc : s_el(call, "Status", s_key_status(k));
        rc = rc ? rc : s_el_time(call, "CreateDate", k->create_ms);
        rc = rc ? rc : cmek_buf_append_str(call->out, "</member>");
    }
    rc = rc ? rc : cmek_buf_append_str(call->out, "</AccessKeyMetadata>");
    rc = rc ? rc : s_paging_tail(call, start + count, keys.len);
    cmek_vec_clean_up(&keys);
    return rc;
}

/* https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccessKey.html */
static int s_delete_access_key(struct emu_query_call *call)
{
    const char *name = emu_query_param(call->params, "UserName");
    const char *id = emu_query_required(call, "AccessKeyId", "accessKeyId");
    s_check_name(call, "userName", name, 128);
    emu_query_check_string(call, "accessKeyId", id, 16, 128, "[\\w]+", s_char_word);
    struct emu_iam_user *u = NULL;
    int rc = s_lookup_user(call, name, "iam:DeleteAccessKey", &u);
    if (rc) {
        return rc;
    }
    call->has_result = false;
    struct emu_iam *iam = s_iam(call);
    for (size_t i = 0; i < iam->access_keys.len; i++) {
        struct emu_iam_access_key *k = iam->access_keys.items[i];
        if (strcmp(k->id, id) == 0 && strcmp(k->account, u->ident.account) == 0 &&
            strcmp(k->user_name, u->ident.name) == 0) {
            emu_iam_access_key_destroy(cmek_vec_remove_at(&iam->access_keys, i));
            return CMEK_OK;
        }
    }
    return emu_query_fail(call, 404, "NoSuchEntity", "The Access Key with id %s cannot be found.",
                          id);
}

static const struct emu_query_op s_ops[] = {
    {"AttachRolePolicy", s_attach_role_policy},
    {"CreateAccessKey", s_create_access_key},
    {"CreatePolicy", s_create_policy},
    {"CreateRole", s_create_role},
    {"CreateUser", s_create_user},
    {"DeleteAccessKey", s_delete_access_key},
    {"DeleteRole", s_delete_role},
    {"DeleteRolePolicy", s_delete_role_policy},
    {"DetachRolePolicy", s_detach_role_policy},
    {"GetPolicy", s_get_policy},
    {"GetRole", s_get_role},
    {"GetRolePolicy", s_get_role_policy},
    {"GetUser", s_get_user},
    {"ListAccessKeys", s_list_access_keys},
    {"ListAttachedRolePolicies", s_list_attached_role_policies},
    {"ListRolePolicies", s_list_role_policies},
    {"ListRoles", s_list_roles},
    {"PutRolePolicy", s_put_role_policy},
    {"TagRole", s_tag_role},
    {"UpdateAssumeRolePolicy", s_update_assume_role_policy},
    {"UpdateRole", s_update_role},
};

static const struct emu_query_service s_iam_service = {
    .name = "iam",
    .xmlns = S_XMLNS,
    .version = "2010-05-08",
    .ops = s_ops,
    .n_ops = sizeof(s_ops) / sizeof(s_ops[0]),
};

static void s_handle(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    emu_query_service_handle(&s_iam_service, app, req, resp);
}

static void s_render_error(const struct emu_app *app, const struct emu_request *req,
                           struct emu_response *resp, int status, const char *code,
                           const char *message)
{
    (void)app;
    emu_query_service_render_error(&s_iam_service, req, resp, status, code, message);
}

const struct emu_service emu_service_iam = {
    .name = "iam",
    .handle = s_handle,
    .render_error = s_render_error,
};
