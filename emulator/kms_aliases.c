/* kms_aliases.c: the alias operations of the emulated KMS: CreateAlias, UpdateAlias,
 * DeleteAlias, ListAliases (KMS Developer Guide, "Aliases in AWS KMS"; API Reference pages
 * above each operation).
 *
 * An alias belongs to one account and Region and names one key of the same account and
 * Region; alias names are case-sensitive. Like AWS, managing an alias needs the permission
 * twice: in an identity policy on the alias ARN, and in the key policy of every key involved
 * (KMS Developer Guide, "Controlling access to aliases").
 *
 * Deliberate differences: AWS-managed keys are not emulated, so ListAliases does not show the
 * predefined alias/aws/... aliases and no alias/aws/... alias resolves; aliases are strongly
 * consistent (AWS propagates alias changes within seconds). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/crypto.h"
#include "kms_internal.h"

#define S_ALIAS_NAME_MAX     256
#define S_KEY_ID_MAX         2048
#define S_LIST_LIMIT_MODEL   1000 /* the model's LimitType maximum (validation) */
#define S_LIST_LIMIT_MAX     100  /* what ListAliases returns at most (API Reference) */
#define S_LIST_LIMIT_DEFAULT 50
#define S_MARKER_MAX         1024

static const char s_alias_pattern[] = "^[a-zA-Z0-9:/_-]+$";

/* ---- Members ---- */

static bool s_alias_chars_ok(const char *name)
{
    for (const char *p = name; *p != '\0'; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == ':' || c == '/' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* AliasName with the model's constraints (1-256 characters of ^[a-zA-Z0-9:/_-]+$). */
static const char *s_alias_member(struct emu_kms_call *call)
{
    const char *name = emu_kms_str(call, "AliasName", true, 1, S_ALIAS_NAME_MAX);
    if (name != NULL && !s_alias_chars_ok(name)) {
        char constraint[96];
        snprintf(constraint, sizeof(constraint),
                 "Member must satisfy regular expression pattern: %s", s_alias_pattern);
        emu_kms_invalid(call, "AliasName", name, constraint);
        return NULL;
    }
    return name;
}

/* KMS's own rule after the model's: every alias name starts with alias/ (text recorded from
 * real AWS). */
static int s_check_prefix(struct emu_kms_call *call, const char *name)
{
    if (strncmp(name, "alias/", 6) != 0) {
        return emu_kms_fail(call, "ValidationException",
                            "Alias must start with the prefix \"alias/\". Please see "
                            "https://docs.aws.amazon.com/kms/latest/developerguide/"
                            "kms-alias.html");
    }
    return CMEK_OK;
}

/* The checks CreateAlias adds for a new name. */
static int s_check_new_name(struct emu_kms_call *call, const char *name)
{
    if (strncmp(name, "alias/aws/", 10) == 0) {
        /* UNCERTAIN: AWS answers NotAuthorizedException (a type outside the model) without
         * a message, as moto and local-kms reproduce it; not verified against AWS. */
        return emu_kms_fail_bare(call, "NotAuthorizedException");
    }
    if (strchr(name, ':') != NULL) {
        /* The model's pattern admits ':' but KMS refuses it in a name (UNCERTAIN text, as
         * moto words it). */
        return emu_kms_fail(call, "ValidationException",
                            "%s contains invalid characters for an alias", name);
    }
    return CMEK_OK;
}

/* TargetKeyId takes a key id or key ARN only; an alias is refused (UNCERTAIN text, as moto
 * words it). */
static int s_resolve_target(struct emu_kms_call *call, const char *target, struct emu_kms_key **out)
{
    if (strncmp(target, "alias/", 6) == 0 ||
        (strncmp(target, "arn:", 4) == 0 && strstr(target, ":alias/") != NULL)) {
        return emu_kms_fail(call, "ValidationException", "Aliases must refer to keys. Not aliases");
    }
    return emu_kms_resolve(call, target, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, out);
}

/* ---- Lookups and authorization ---- */

static int s_alias_arn(const struct emu_kms_call *call, const char *name, struct cmek_buf *out)
{
    return cmek_buf_appendf(out, "arn:aws:kms:%s:%s:%s", call->region,
                            call->caller->principal.account, name);
}

/* The caller's alias name in the request's Region, after its key's due time-driven changes
 * (a key whose deletion window ended takes its aliases with it); *key_out is its target,
 * or NULL. Returns NULL when there is no such alias. */
static struct emu_kms_alias *s_find_live(struct emu_kms_call *call, const char *name,
                                         struct emu_kms_key **key_out)
{
    const char *account = call->caller->principal.account;
    struct emu_kms_alias *alias = emu_kms_find_alias(call->kms, account, call->region, name);
    struct emu_kms_key *key = NULL;
    if (alias != NULL) {
        /* The lookup may delete the key and, with it, this alias: look the alias up again
         * rather than keep a pointer that may be gone. */
        key = emu_kms_find_key(call->app, call->kms, account, call->region, alias->target_key_id,
                               (int64_t)call->now);
        alias = emu_kms_find_alias(call->kms, account, call->region, name);
    }
    *key_out = alias != NULL ? key : NULL;
    return alias;
}

static int s_alias_not_found(struct emu_kms_call *call, const char *name)
{
    /* UNCERTAIN text: the form moto and LocalStack use (AWS names the alias ARN). */
    return emu_kms_fail(call, "NotFoundException", "Alias arn:aws:kms:%s:%s:%s is not found.",
                        call->region, call->caller->principal.account, name);
}

/* kms:<Action> on the alias itself: only identity policies can grant it (an alias has no
 * policy of its own). */
static int s_authorize_alias(struct emu_kms_call *call, const char *name, const char *action)
{
    struct cmek_buf arn;
    cmek_buf_init(&arn, 512);
    int rc = s_alias_arn(call, name, &arn);
    if (rc) {
        goto done;
    }
    struct emu_aws_error err;
    if (!emu_aws_authorize(call->app, call->caller, EMU_AWS_JSON, action, cmek_buf_cstr(&arn), NULL,
                           call->caller->principal.account, false, "resource-based", NULL, 0,
                           &err)) {
        rc = emu_kms_fail(call, err.code, "%s", err.message);
    }
done:
    cmek_buf_clean_up(&arn);
    return rc;
}

/* The key type UpdateAlias keeps: symmetric, asymmetric or HMAC, by spec. */
static int s_spec_class(const char *key_spec)
{
    if (strcmp(key_spec, "SYMMETRIC_DEFAULT") == 0) {
        return 0;
    }
    if (strncmp(key_spec, "HMAC_", 5) == 0) {
        return 2;
    }
    return 1;
}

/* ---- Operations ---- */

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html */
static int s_create_alias(struct emu_kms_call *call)
{
    struct emu_kms_alias *alias = NULL;
    struct cmek_buf arn;
    cmek_buf_init(&arn, 512);
    call->empty_response = true;
    const char *name = s_alias_member(call);
    const char *target = emu_kms_str(call, "TargetKeyId", true, 1, S_KEY_ID_MAX);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    rc = rc ? rc : s_check_prefix(call, name);
    rc = rc ? rc : s_check_new_name(call, name);
    struct emu_kms_key *key = NULL;
    rc = rc ? rc : s_resolve_target(call, target, &key);
    rc = rc ? rc : s_authorize_alias(call, name, "kms:CreateAlias");
    rc = rc ? rc : emu_kms_authorize(call, key, "kms:CreateAlias");
    if (rc) {
        goto done;
    }
    /* key stays valid: it was refreshed at this same time, so the lookup below can delete
     * only another key (one that an existing alias of this name targets). */
    struct emu_kms_key *existing_key = NULL;
    if (s_find_live(call, name, &existing_key) != NULL) {
        /* UNCERTAIN text: as moto and LocalStack word it. */
        rc = s_alias_arn(call, name, &arn);
        rc = rc ? rc
                : emu_kms_fail(call, "AlreadyExistsException",
                               "An alias with the name %s already exists", cmek_buf_cstr(&arn));
        goto done;
    }
    rc = emu_kms_check_state(call, key, EMU_KMS_OPS_TAG);
    rc = rc ? rc : s_alias_arn(call, name, &arn);
    if (rc) {
        goto done;
    }
    alias = calloc(1, sizeof(*alias));
    if (alias == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    alias->account = strdup(key->account);
    alias->region = strdup(key->region);
    alias->name = strdup(name);
    alias->target_key_id = strdup(key->id);
    alias->arn = cmek_buf_steal(&arn);
    alias->created_s = (int64_t)call->now;
    alias->updated_s = (int64_t)call->now;
    if (!alias->account || !alias->region || !alias->name || !alias->target_key_id || !alias->arn) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    rc = emu_kms_add_alias(call->kms, alias); /* takes alias, also on failure */
    alias = NULL;
done:
    emu_kms_alias_destroy(alias);
    cmek_buf_clean_up(&arn);
    return rc;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateAlias.html
 * Per the key-state table, a source key pending deletion is fine, a destination key pending
 * deletion is KMSInvalidStateException. */
static int s_update_alias(struct emu_kms_call *call)
{
    call->empty_response = true;
    const char *name = s_alias_member(call);
    const char *target = emu_kms_str(call, "TargetKeyId", true, 1, S_KEY_ID_MAX);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    rc = rc ? rc : s_check_prefix(call, name);
    struct emu_kms_key *dest = NULL;
    rc = rc ? rc : s_resolve_target(call, target, &dest);
    if (rc) {
        return rc;
    }
    /* Found after dest: finding the alias's current key may delete that key (and the alias)
     * but never dest, which was just refreshed. */
    struct emu_kms_key *current = NULL;
    struct emu_kms_alias *alias = s_find_live(call, name, &current);
    if (alias == NULL) {
        return s_alias_not_found(call, name);
    }
    rc = s_authorize_alias(call, name, "kms:UpdateAlias");
    if (rc == CMEK_OK && current != NULL) {
        rc = emu_kms_authorize(call, current, "kms:UpdateAlias");
    }
    rc = rc ? rc : emu_kms_authorize(call, dest, "kms:UpdateAlias");
    rc = rc ? rc : emu_kms_check_state(call, dest, EMU_KMS_OPS_TAG);
    if (rc) {
        return rc;
    }
    if (current != NULL && (s_spec_class(current->key_spec) != s_spec_class(dest->key_spec) ||
                            strcmp(current->key_usage, dest->key_usage) != 0)) {
        /* UNCERTAIN text: the API Reference states the rule, not AWS's message. */
        return emu_kms_fail(call, "ValidationException",
                            "%s key usage is %s with key spec %s, which is not compatible with "
                            "the current target of %s (key usage %s, key spec %s).",
                            dest->arn, dest->key_usage, dest->key_spec, name, current->key_usage,
                            current->key_spec);
    }
    char *id = strdup(dest->id);
    if (id == NULL) {
        return CMEK_ERR_NOMEM;
    }
    free(alias->target_key_id);
    alias->target_key_id = id;
    alias->updated_s = (int64_t)call->now;
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteAlias.html */
static int s_delete_alias(struct emu_kms_call *call)
{
    call->empty_response = true;
    const char *name = s_alias_member(call);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    rc = rc ? rc : s_check_prefix(call, name);
    if (rc) {
        return rc;
    }
    struct emu_kms_key *key = NULL;
    struct emu_kms_alias *alias = s_find_live(call, name, &key);
    if (alias == NULL) {
        return s_alias_not_found(call, name);
    }
    rc = s_authorize_alias(call, name, "kms:DeleteAlias");
    if (rc == CMEK_OK && key != NULL) {
        rc = emu_kms_authorize(call, key, "kms:DeleteAlias");
    }
    if (rc) {
        return rc;
    }
    emu_kms_delete_alias(call->kms, alias);
    return CMEK_OK;
}

/* The aliases ListAliases shows, sorted by name (as AWS lists them). */
static int s_cmp_alias_name(const void *a, const void *b)
{
    const struct emu_kms_alias *x = *(const struct emu_kms_alias *const *)a;
    const struct emu_kms_alias *y = *(const struct emu_kms_alias *const *)b;
    return strcmp(x->name, y->name);
}

static json_t *s_alias_entry(const struct emu_kms_alias *a)
{
    return json_pack("{s:s,s:s,s:s,s:o,s:o}", "AliasName", a->name, "AliasArn", a->arn,
                     "TargetKeyId", a->target_key_id, "CreationDate", emu_kms_time(a->created_s),
                     "LastUpdatedDate", emu_kms_time(a->updated_s));
}

/* The marker is the base64 of the last name returned: the next page starts after it, so
 * aliases created or deleted between pages do not shift it. */
static int s_parse_marker(struct emu_kms_call *call, const char *marker, struct cmek_buf *out)
{
    if (marker == NULL) {
        return CMEK_OK;
    }
    int rc = cmek_base64_decode(marker, strlen(marker), out);
    if (rc == CMEK_ERR_NOMEM) {
        return rc;
    }
    if (rc || strlen(cmek_buf_cstr(out)) != out->len ||
        strncmp(cmek_buf_cstr(out), "alias/", 6) != 0) {
        /* UNCERTAIN: AWS's message for a marker it did not issue is not recorded. */
        return emu_kms_fail_bare(call, "InvalidMarkerException");
    }
    return CMEK_OK;
}

/* https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html
 * Limit: the model allows up to 1000; the API Reference says 1-100, so larger values are
 * served 100 at a time ("KMS ... might return fewer"). */
static int s_list_aliases(struct emu_kms_call *call)
{
    struct cmek_vec matches;
    cmek_vec_init(&matches);
    struct cmek_buf after, next;
    cmek_buf_init(&after, S_MARKER_MAX + 8);
    cmek_buf_init(&next, 2 * S_MARKER_MAX);
    json_t *list = NULL;
    const char *key_id = emu_kms_str(call, "KeyId", false, 1, S_KEY_ID_MAX);
    long long limit = emu_kms_int(call, "Limit", 1, S_LIST_LIMIT_MODEL, S_LIST_LIMIT_DEFAULT, NULL);
    const char *marker = emu_kms_str(call, "Marker", false, 1, S_MARKER_MAX);
    int rc = call->type ? CMEK_ERR_INVALID_ARG : emu_kms_validation_result(call);
    rc = rc ? rc : emu_kms_authorize_account(call, "kms:ListAliases");
    rc = rc ? rc : s_parse_marker(call, marker, &after);
    if (rc) {
        goto done;
    }
    /* Apply every due deletion first: a deleted key's aliases must not be listed. */
    emu_kms_refresh_all(call->app, call->kms, (int64_t)call->now);
    struct emu_kms_key *key = NULL;
    if (key_id != NULL) {
        rc = emu_kms_resolve(call, key_id, EMU_KMS_ID_KEY | EMU_KMS_ID_ARN, &key);
        if (rc) {
            goto done;
        }
    }
    const char *account = call->caller->principal.account;
    for (size_t i = 0; i < call->kms->alias_order.len; i++) {
        struct emu_kms_alias *a = call->kms->alias_order.items[i];
        if (strcmp(a->account, account) != 0 || strcmp(a->region, call->region) != 0) {
            continue;
        }
        if (key != NULL &&
            (strcmp(key->account, account) != 0 || strcmp(a->target_key_id, key->id) != 0)) {
            continue;
        }
        if (marker != NULL && strcmp(a->name, cmek_buf_cstr(&after)) <= 0) {
            continue;
        }
        rc = cmek_vec_push(&matches, a);
        if (rc) {
            goto done;
        }
    }
    if (matches.len > 1) {
        qsort(matches.items, matches.len, sizeof(matches.items[0]), s_cmp_alias_name);
    }
    size_t page = (size_t)(limit < S_LIST_LIMIT_MAX ? limit : S_LIST_LIMIT_MAX);
    size_t n = matches.len < page ? matches.len : page;
    list = json_array();
    if (list == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(list, s_alias_entry(matches.items[i]))) {
            rc = CMEK_ERR_NOMEM;
            goto done;
        }
    }
    bool truncated = matches.len > n;
    if (truncated) {
        const struct emu_kms_alias *last = matches.items[n - 1];
        rc = cmek_base64_encode(last->name, strlen(last->name), &next);
        if (rc || json_object_set_new(call->out, "NextMarker", json_string(cmek_buf_cstr(&next)))) {
            rc = rc ? rc : CMEK_ERR_NOMEM;
            goto done;
        }
    }
    if (json_object_set_new(call->out, "Aliases", list)) {
        list = NULL;
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    list = NULL;
    if (json_object_set_new(call->out, "Truncated", json_boolean(truncated))) {
        rc = CMEK_ERR_NOMEM;
    }
done:
    json_decref(list);
    cmek_vec_clean_up(&matches);
    cmek_buf_clean_up(&after);
    cmek_buf_clean_up(&next);
    return rc;
}

const struct emu_kms_op emu_kms_alias_ops[] = {
    {"CreateAlias", s_create_alias},
    {"UpdateAlias", s_update_alias},
    {"DeleteAlias", s_delete_alias},
    {"ListAliases", s_list_aliases},
};
const size_t emu_kms_alias_ops_len = sizeof(emu_kms_alias_ops) / sizeof(emu_kms_alias_ops[0]);
