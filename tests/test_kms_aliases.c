/* Tests of KMS aliases (kms_aliases.c) and of rotation and multi-Region replication
 * (kms_rotation.c): success shapes, every validation and error text, alias resolution in
 * other operations, aliases per Region and their fate when their key is deleted, automatic
 * rotation driven by the emulator clock, and replicas that decrypt the primary's
 * ciphertexts in their own Region. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test_common.h"

#define ACCOUNT "111122223333"
#define START_S 1795435200 /* the harness's wall clock at th_init */
#define DAY_S   86400
#define ARN_E1  "arn:aws:kms:us-east-1:" ACCOUNT ":"
#define ARN_W2  "arn:aws:kms:us-west-2:" ACCOUNT ":"
#define DEFAULT_POLICY                                                                             \
    "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n"   \
    "    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n"                \
    "    \"Principal\" : {\n      \"AWS\" : \"arn:aws:iam::111122223333:root\"\n    },\n"          \
    "    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}"
#define ADMIN_STATEMENT                                                                            \
    "{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"        \
    "\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}"

static struct th_ctx s_t;
static struct th_creds s_admin, s_crdb;

static void s_init(void)
{
    th_init(&s_t);
    th_creds_admin(&s_admin);
    th_creds_crdb(&s_crdb);
}

static void s_fini(void)
{
    th_clean_up(&s_t);
    cmek_test_fini();
}

TestSuite(kms_aliases, .init = s_init, .fini = s_fini);
TestSuite(kms_rotation, .init = s_init, .fini = s_fini);
TestSuite(kms_replicate, .init = s_init, .fini = s_fini);

/* ---- Helpers ---- */

/* Sends op with body (stolen) as c to KMS in region. */
static int s_kms_in(const char *region, const struct th_creds *c, const char *op, json_t *body)
{
    return th_kms_json(&s_t, region, c, op, body);
}

static int s_kms(const struct th_creds *c, const char *op, json_t *body)
{
    return s_kms_in("us-east-1", c, op, body);
}

static json_t *s_reply(void)
{
    return th_json(&s_t);
}

static void s_expect_ok_empty(int status)
{
    cr_assert_eq(status, 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(s_t.body.len, 0, "not empty: %s", cmek_buf_cstr(&s_t.body));
}

/* The last reply is a 400 of type with exactly message (NULL: no message member). */
static void s_expect_error(const char *type, const char *message)
{
    th_expect_kms_error(&s_t, type, message);
}

/* Creates a key in region; fills its id and ARN. extra (stolen, may be NULL) adds members. */
static void s_create_key_in(const char *region, json_t *extra, char *id, size_t id_cap, char *arn,
                            size_t arn_cap)
{
    json_t *body = extra != NULL ? extra : json_object();
    cr_assert_eq(s_kms_in(region, &s_admin, "CreateKey", body), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    json_t *md = json_object_get(v, "KeyMetadata");
    snprintf(id, id_cap, "%s", json_string_value(json_object_get(md, "KeyId")));
    if (arn != NULL) {
        snprintf(arn, arn_cap, "%s", json_string_value(json_object_get(md, "Arn")));
    }
    json_decref(v);
}

static void s_create_key(char *id, size_t id_cap, char *arn, size_t arn_cap)
{
    s_create_key_in("us-east-1", NULL, id, id_cap, arn, arn_cap);
}

static void s_create_mrk(char *id, size_t id_cap, char *arn, size_t arn_cap)
{
    s_create_key_in("us-east-1", json_pack("{s:b,s:s}", "MultiRegion", 1, "Description", "mrk"), id,
                    id_cap, arn, arn_cap);
}

static void s_create_alias_in(const char *region, const char *name, const char *target)
{
    s_expect_ok_empty(s_kms_in(region, &s_admin, "CreateAlias",
                               json_pack("{s:s,s:s}", "AliasName", name, "TargetKeyId", target)));
}

static void s_create_alias(const char *name, const char *target)
{
    s_create_alias_in("us-east-1", name, target);
}

/* DescribeKey of id in region as admin; returns the reply (caller decrefs). */
static json_t *s_describe_in(const char *region, const char *id)
{
    cr_assert_eq(s_kms_in(region, &s_admin, "DescribeKey", json_pack("{s:s}", "KeyId", id)), 200,
                 "%s", cmek_buf_cstr(&s_t.body));
    return s_reply();
}

/* A string member of KeyMetadata from DescribeKey, copied into out. */
static void s_metadata_str(const char *region, const char *id, const char *member, char *out,
                           size_t cap)
{
    json_t *v = s_describe_in(region, id);
    const char *s = json_string_value(json_object_get(json_object_get(v, "KeyMetadata"), member));
    cr_assert_not_null(s, "no %s in %s", member, cmek_buf_cstr(&s_t.body));
    snprintf(out, cap, "%s", s);
    json_decref(v);
}

static void s_schedule_deletion(const char *id, int days)
{
    cr_assert_eq(s_kms(&s_admin, "ScheduleKeyDeletion",
                       json_pack("{s:s,s:i}", "KeyId", id, "PendingWindowInDays", days)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
}

/* ListAliases as admin in region with body (stolen); returns the reply. */
static json_t *s_list_aliases_in(const char *region, json_t *body)
{
    cr_assert_eq(s_kms_in(region, &s_admin, "ListAliases", body), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    return s_reply();
}

static const char *s_entry_str(const json_t *list, size_t i, const char *member)
{
    return json_string_value(json_object_get(json_array_get(list, i), member));
}

/* ---- CreateAlias and ListAliases ---- */

Test(kms_aliases, create_alias_then_list_aliases_shows_every_member)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_create_alias("alias/demo", id);
    json_t *v = s_list_aliases_in("us-east-1", json_object());
    json_t *list = json_object_get(v, "Aliases");
    cr_assert_eq(json_array_size(list), 1, "%s", cmek_buf_cstr(&s_t.body));
    json_t *e = json_array_get(list, 0);
    cr_assert_eq(json_object_size(e), 5, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_str_eq(s_entry_str(list, 0, "AliasName"), "alias/demo");
    cr_assert_str_eq(s_entry_str(list, 0, "AliasArn"), ARN_E1 "alias/demo");
    cr_assert_str_eq(s_entry_str(list, 0, "TargetKeyId"), id);
    cr_assert_eq(json_integer_value(json_object_get(e, "CreationDate")), START_S);
    cr_assert_eq(json_integer_value(json_object_get(e, "LastUpdatedDate")), START_S);
    cr_assert(json_is_false(json_object_get(v, "Truncated")));
    cr_assert_null(json_object_get(v, "NextMarker"));
    json_decref(v);
}

Test(kms_aliases, create_alias_accepts_a_key_arn_target)
{
    char id[64], arn[256];
    s_create_key(id, sizeof(id), arn, sizeof(arn));
    s_create_alias("alias/by-arn", arn);
    json_t *v = s_list_aliases_in("us-east-1", json_object());
    cr_assert_str_eq(s_entry_str(json_object_get(v, "Aliases"), 0, "TargetKeyId"), id);
    json_decref(v);
}

Test(kms_aliases, create_alias_without_prefix_is_refused)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_kms(&s_admin, "CreateAlias", json_pack("{s:s,s:s}", "AliasName", "demo", "TargetKeyId", id));
    s_expect_error("ValidationException",
                   "Alias must start with the prefix \"alias/\". Please see "
                   "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
}

Test(kms_aliases, create_alias_with_invalid_characters_is_refused)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/bad name", "TargetKeyId", id));
    s_expect_error("ValidationException",
                   "1 validation error detected: Value 'alias/bad name' at 'aliasName' failed to "
                   "satisfy constraint: Member must satisfy regular expression pattern: "
                   "^[a-zA-Z0-9:/_-]+$");
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/a:b", "TargetKeyId", id));
    s_expect_error("ValidationException", "alias/a:b contains invalid characters for an alias");
}

Test(kms_aliases, create_alias_with_too_long_a_name_is_refused)
{
    char id[64], name[300];
    s_create_key(id, sizeof(id), NULL, 0);
    memset(name, 'a', sizeof(name));
    memcpy(name, "alias/", 6);
    name[257] = '\0';
    s_kms(&s_admin, "CreateAlias", json_pack("{s:s,s:s}", "AliasName", name, "TargetKeyId", id));
    cr_assert_eq(s_t.status, 400);
    json_t *v = s_reply();
    const char *msg = json_string_value(json_object_get(v, "message"));
    const char *head = "1 validation error detected: Value 'alias/aaaa";
    const char *tail = "' at 'aliasName' failed to satisfy constraint: Member must have length "
                       "less than or equal to 256";
    cr_assert_str_eq(json_string_value(json_object_get(v, "__type")), "ValidationException");
    cr_assert_eq(strncmp(msg, head, strlen(head)), 0, "%s", msg);
    cr_assert(strlen(msg) > strlen(tail) && strcmp(msg + strlen(msg) - strlen(tail), tail) == 0,
              "%s", msg);
    json_decref(v);
}

Test(kms_aliases, create_alias_reports_missing_members_together)
{
    s_kms(&s_admin, "CreateAlias", json_object());
    s_expect_error("ValidationException",
                   "2 validation errors detected: Value null at 'aliasName' failed to satisfy "
                   "constraint: Member must not be null; Value null at 'targetKeyId' failed to "
                   "satisfy constraint: Member must not be null");
}

Test(kms_aliases, create_alias_in_the_reserved_aws_namespace_is_not_authorized)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/aws/ebs", "TargetKeyId", id));
    s_expect_error("NotAuthorizedException", NULL);
}

Test(kms_aliases, create_alias_twice_is_already_exists)
{
    char a[64], b[64];
    s_create_key(a, sizeof(a), NULL, 0);
    s_create_key(b, sizeof(b), NULL, 0);
    s_create_alias("alias/demo", a);
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/demo", "TargetKeyId", b));
    s_expect_error("AlreadyExistsException",
                   "An alias with the name " ARN_E1 "alias/demo already exists");
}

Test(kms_aliases, create_alias_target_must_be_an_existing_key_not_an_alias)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_create_alias("alias/first", id);
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/second", "TargetKeyId", "alias/first"));
    s_expect_error("ValidationException", "Aliases must refer to keys. Not aliases");
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/second", "TargetKeyId", ARN_E1 "alias/first"));
    s_expect_error("ValidationException", "Aliases must refer to keys. Not aliases");
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/second", "TargetKeyId",
                    "0b0e5e38-5b0c-4c86-8d8b-0fd7b3b4b0c1"));
    s_expect_error("NotFoundException",
                   "Key '" ARN_E1 "key/0b0e5e38-5b0c-4c86-8d8b-0fd7b3b4b0c1' does not exist");
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/second", "TargetKeyId", "not-a-key"));
    s_expect_error("NotFoundException", "Invalid keyId 'not-a-key'");
}

Test(kms_aliases, create_alias_on_a_key_pending_deletion_is_invalid_state)
{
    char id[64], arn[256], want[512];
    s_create_key(id, sizeof(id), arn, sizeof(arn));
    s_schedule_deletion(id, 7);
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/late", "TargetKeyId", id));
    snprintf(want, sizeof(want), "%s is pending deletion.", arn);
    s_expect_error("KMSInvalidStateException", want);
}

Test(kms_aliases, alias_names_are_case_sensitive)
{
    char a[64], b[64], got[64];
    s_create_key(a, sizeof(a), NULL, 0);
    s_create_key(b, sizeof(b), NULL, 0);
    s_create_alias("alias/Demo", a);
    s_create_alias("alias/demo", b);
    s_metadata_str("us-east-1", "alias/Demo", "KeyId", got, sizeof(got));
    cr_assert_str_eq(got, a);
    s_metadata_str("us-east-1", "alias/demo", "KeyId", got, sizeof(got));
    cr_assert_str_eq(got, b);
}

Test(kms_aliases, describe_key_resolves_alias_name_and_alias_arn)
{
    char id[64], got[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_create_alias("alias/app/db", id);
    s_metadata_str("us-east-1", "alias/app/db", "KeyId", got, sizeof(got));
    cr_assert_str_eq(got, id);
    s_metadata_str("us-east-1", ARN_E1 "alias/app/db", "KeyId", got, sizeof(got));
    cr_assert_str_eq(got, id);
    s_kms(&s_admin, "DescribeKey", json_pack("{s:s}", "KeyId", "alias/nope"));
    s_expect_error("NotFoundException", "Alias " ARN_E1 "alias/nope is not found.");
}

Test(kms_aliases, aliases_belong_to_one_region)
{
    char east[64], west[64], got[64];
    s_create_key(east, sizeof(east), NULL, 0);
    s_create_alias("alias/regional", east);
    s_kms_in("us-west-2", &s_admin, "DescribeKey", json_pack("{s:s}", "KeyId", "alias/regional"));
    s_expect_error("NotFoundException", "Alias " ARN_W2 "alias/regional is not found.");
    json_t *v = s_list_aliases_in("us-west-2", json_object());
    cr_assert_eq(json_array_size(json_object_get(v, "Aliases")), 0, "%s", cmek_buf_cstr(&s_t.body));
    json_decref(v);
    /* The same name is free in another Region, for a key of that Region only. */
    s_kms_in("us-west-2", &s_admin, "CreateAlias",
             json_pack("{s:s,s:s}", "AliasName", "alias/regional", "TargetKeyId", east));
    char want[512];
    snprintf(want, sizeof(want), "Key '" ARN_W2 "key/%s' does not exist", east);
    s_expect_error("NotFoundException", want);
    s_create_key_in("us-west-2", NULL, west, sizeof(west), NULL, 0);
    s_create_alias_in("us-west-2", "alias/regional", west);
    s_metadata_str("us-west-2", "alias/regional", "KeyId", got, sizeof(got));
    cr_assert_str_eq(got, west);
    s_metadata_str("us-east-1", "alias/regional", "KeyId", got, sizeof(got));
    cr_assert_str_eq(got, east);
}

/* ---- UpdateAlias, DeleteAlias ---- */

Test(kms_aliases, update_alias_moves_the_alias_and_its_last_updated_date)
{
    char a[64], b[64], got[64];
    s_create_key(a, sizeof(a), NULL, 0);
    s_create_key(b, sizeof(b), NULL, 0);
    s_create_alias("alias/moving", a);
    th_advance(&s_t, "1h");
    s_expect_ok_empty(s_kms(&s_admin, "UpdateAlias",
                            json_pack("{s:s,s:s}", "AliasName", "alias/moving", "TargetKeyId", b)));
    s_metadata_str("us-east-1", "alias/moving", "KeyId", got, sizeof(got));
    cr_assert_str_eq(got, b);
    json_t *v = s_list_aliases_in("us-east-1", json_object());
    json_t *e = json_array_get(json_object_get(v, "Aliases"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(e, "TargetKeyId")), b);
    cr_assert_eq(json_integer_value(json_object_get(e, "CreationDate")), START_S);
    cr_assert_eq(json_integer_value(json_object_get(e, "LastUpdatedDate")), START_S + 3600);
    json_decref(v);
}

Test(kms_aliases, update_alias_errors)
{
    char a[64], b[64], b_arn[256], want[512];
    s_create_key(a, sizeof(a), NULL, 0);
    s_create_key(b, sizeof(b), b_arn, sizeof(b_arn));
    s_kms(&s_admin, "UpdateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/none", "TargetKeyId", a));
    s_expect_error("NotFoundException", "Alias " ARN_E1 "alias/none is not found.");
    s_kms(&s_admin, "UpdateAlias", json_pack("{s:s,s:s}", "AliasName", "none", "TargetKeyId", a));
    s_expect_error("ValidationException",
                   "Alias must start with the prefix \"alias/\". Please see "
                   "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
    s_kms(&s_admin, "UpdateAlias", json_pack("{s:s}", "AliasName", "alias/none"));
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'targetKeyId' failed to satisfy "
                   "constraint: Member must not be null");
    /* A destination pending deletion is refused; a source pending deletion is fine. */
    s_create_alias("alias/moving", a);
    s_schedule_deletion(b, 7);
    s_kms(&s_admin, "UpdateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/moving", "TargetKeyId", b));
    snprintf(want, sizeof(want), "%s is pending deletion.", b_arn);
    s_expect_error("KMSInvalidStateException", want);
    char c[64];
    s_create_key(c, sizeof(c), NULL, 0);
    s_schedule_deletion(a, 7);
    s_expect_ok_empty(s_kms(&s_admin, "UpdateAlias",
                            json_pack("{s:s,s:s}", "AliasName", "alias/moving", "TargetKeyId", c)));
}

Test(kms_aliases, delete_alias_removes_it)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_create_alias("alias/gone", id);
    s_expect_ok_empty(
        s_kms(&s_admin, "DeleteAlias", json_pack("{s:s}", "AliasName", "alias/gone")));
    s_kms(&s_admin, "DescribeKey", json_pack("{s:s}", "KeyId", "alias/gone"));
    s_expect_error("NotFoundException", "Alias " ARN_E1 "alias/gone is not found.");
    s_kms(&s_admin, "DeleteAlias", json_pack("{s:s}", "AliasName", "alias/gone"));
    s_expect_error("NotFoundException", "Alias " ARN_E1 "alias/gone is not found.");
    s_kms(&s_admin, "DeleteAlias", json_pack("{s:s}", "AliasName", "gone"));
    s_expect_error("ValidationException",
                   "Alias must start with the prefix \"alias/\". Please see "
                   "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html");
    s_kms(&s_admin, "DeleteAlias", json_object());
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'aliasName' failed to satisfy "
                   "constraint: Member must not be null");
    /* The key itself is untouched. */
    char got[64];
    s_metadata_str("us-east-1", id, "KeyState", got, sizeof(got));
    cr_assert_str_eq(got, "Enabled");
}

Test(kms_aliases, aliases_go_with_their_key_after_the_deletion_window)
{
    char id[64], other[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_create_key(other, sizeof(other), NULL, 0);
    s_create_alias("alias/doomed", id);
    s_create_alias("alias/kept", other);
    s_schedule_deletion(id, 7);
    /* Still there (and resolving) during the window. */
    json_t *v = s_list_aliases_in("us-east-1", json_object());
    cr_assert_eq(json_array_size(json_object_get(v, "Aliases")), 2);
    json_decref(v);
    th_advance(&s_t, "8d");
    v = s_list_aliases_in("us-east-1", json_object());
    json_t *list = json_object_get(v, "Aliases");
    cr_assert_eq(json_array_size(list), 1, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_str_eq(s_entry_str(list, 0, "AliasName"), "alias/kept");
    json_decref(v);
    s_kms(&s_admin, "DescribeKey", json_pack("{s:s}", "KeyId", "alias/doomed"));
    s_expect_error("NotFoundException", "Alias " ARN_E1 "alias/doomed is not found.");
    /* The name is free again. */
    s_create_alias("alias/doomed", other);
}

Test(kms_aliases, create_alias_reuses_the_name_of_a_key_deleted_meanwhile)
{
    char id[64], other[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_create_key(other, sizeof(other), NULL, 0);
    s_create_alias("alias/reused", id);
    s_schedule_deletion(id, 7);
    th_advance(&s_t, "8d");
    /* No listing in between: CreateAlias itself notices the old key is gone. */
    s_create_alias("alias/reused", other);
}

/* ---- ListAliases filters and pages ---- */

Test(kms_aliases, list_aliases_filters_by_key)
{
    char a[64], a_arn[256], b[64];
    s_create_key(a, sizeof(a), a_arn, sizeof(a_arn));
    s_create_key(b, sizeof(b), NULL, 0);
    s_create_alias("alias/a1", a);
    s_create_alias("alias/b1", b);
    s_create_alias("alias/a2", a);
    json_t *v = s_list_aliases_in("us-east-1", json_pack("{s:s}", "KeyId", a));
    json_t *list = json_object_get(v, "Aliases");
    cr_assert_eq(json_array_size(list), 2, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_str_eq(s_entry_str(list, 0, "AliasName"), "alias/a1");
    cr_assert_str_eq(s_entry_str(list, 1, "AliasName"), "alias/a2");
    json_decref(v);
    v = s_list_aliases_in("us-east-1", json_pack("{s:s}", "KeyId", a_arn));
    cr_assert_eq(json_array_size(json_object_get(v, "Aliases")), 2);
    json_decref(v);
    s_kms(&s_admin, "ListAliases",
          json_pack("{s:s}", "KeyId", "0b0e5e38-5b0c-4c86-8d8b-0fd7b3b4b0c1"));
    s_expect_error("NotFoundException",
                   "Key '" ARN_E1 "key/0b0e5e38-5b0c-4c86-8d8b-0fd7b3b4b0c1' does not exist");
    s_kms(&s_admin, "ListAliases", json_pack("{s:s}", "KeyId", "alias/a1"));
    s_expect_error("NotFoundException", "Invalid keyId 'alias/a1'");
}

Test(kms_aliases, list_aliases_pages_in_name_order)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    const char *names[] = {"alias/e", "alias/b", "alias/d", "alias/a", "alias/c"};
    for (size_t i = 0; i < 5; i++) {
        s_create_alias(names[i], id);
    }
    json_t *v = s_list_aliases_in("us-east-1", json_pack("{s:i}", "Limit", 2));
    json_t *list = json_object_get(v, "Aliases");
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(s_entry_str(list, 0, "AliasName"), "alias/a");
    cr_assert_str_eq(s_entry_str(list, 1, "AliasName"), "alias/b");
    cr_assert(json_is_true(json_object_get(v, "Truncated")));
    char marker[256];
    snprintf(marker, sizeof(marker), "%s", json_string_value(json_object_get(v, "NextMarker")));
    json_decref(v);
    /* An alias deleted between pages does not shift the next one. */
    s_expect_ok_empty(s_kms(&s_admin, "DeleteAlias", json_pack("{s:s}", "AliasName", "alias/a")));
    v = s_list_aliases_in("us-east-1", json_pack("{s:i,s:s}", "Limit", 2, "Marker", marker));
    list = json_object_get(v, "Aliases");
    cr_assert_eq(json_array_size(list), 2);
    cr_assert_str_eq(s_entry_str(list, 0, "AliasName"), "alias/c");
    cr_assert_str_eq(s_entry_str(list, 1, "AliasName"), "alias/d");
    snprintf(marker, sizeof(marker), "%s", json_string_value(json_object_get(v, "NextMarker")));
    json_decref(v);
    v = s_list_aliases_in("us-east-1", json_pack("{s:i,s:s}", "Limit", 2, "Marker", marker));
    list = json_object_get(v, "Aliases");
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(s_entry_str(list, 0, "AliasName"), "alias/e");
    cr_assert(json_is_false(json_object_get(v, "Truncated")));
    cr_assert_null(json_object_get(v, "NextMarker"));
    json_decref(v);
}

Test(kms_aliases, list_aliases_validates_limit_and_marker)
{
    s_kms(&s_admin, "ListAliases", json_pack("{s:i}", "Limit", 0));
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '0' at 'limit' failed to satisfy "
                   "constraint: Member must have value greater than or equal to 1");
    s_kms(&s_admin, "ListAliases", json_pack("{s:i}", "Limit", 1001));
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '1001' at 'limit' failed to satisfy "
                   "constraint: Member must have value less than or equal to 1000");
    s_kms(&s_admin, "ListAliases", json_pack("{s:s}", "Marker", "not a marker"));
    s_expect_error("InvalidMarkerException", NULL);
    /* Up to 1000 is valid; at most 100 come back. */
    json_t *v = s_list_aliases_in("us-east-1", json_pack("{s:i}", "Limit", 1000));
    cr_assert(json_is_false(json_object_get(v, "Truncated")));
    json_decref(v);
}

/* ---- Authorization ---- */

Test(kms_aliases, alias_operations_need_identity_and_key_policy_permission)
{
    char id[64], arn[256];
    s_create_key(id, sizeof(id), arn, sizeof(arn));
    /* Another account's principal without KMS permissions: the alias would be its own. */
    s_kms(&s_crdb, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/x", "TargetKeyId", arn));
    s_expect_error("AccessDeniedException",
                   "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized "
                   "to perform: kms:CreateAlias on resource: "
                   "arn:aws:kms:us-east-1:999988887777:alias/x because no identity-based policy "
                   "allows the kms:CreateAlias action");
    s_kms(&s_crdb, "ListAliases", json_object());
    s_expect_error("AccessDeniedException",
                   "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized "
                   "to perform: kms:ListAliases on resource: * because no identity-based policy "
                   "allows the kms:ListAliases action");
    /* The key policy must allow it too. */
    char denied[64], denied_arn[256], want[768];
    const char *policy = "{\"Version\":\"2012-10-17\",\"Statement\":[" ADMIN_STATEMENT
                         ",{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"*\"},\"Action\":"
                         "[\"kms:CreateAlias\",\"kms:UpdateAlias\",\"kms:DeleteAlias\"],"
                         "\"Resource\":\"*\"}]}";
    s_create_key_in("us-east-1", json_pack("{s:s}", "Policy", policy), denied, sizeof(denied),
                    denied_arn, sizeof(denied_arn));
    s_kms(&s_admin, "CreateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/denied", "TargetKeyId", denied));
    snprintf(want, sizeof(want),
             "User: arn:aws:iam::" ACCOUNT ":user/admin is not authorized to perform: "
             "kms:CreateAlias on resource: %s with an explicit deny in a resource-based policy",
             denied_arn);
    s_expect_error("AccessDeniedException", want);
    s_create_alias("alias/ok", id);
    s_kms(&s_admin, "UpdateAlias",
          json_pack("{s:s,s:s}", "AliasName", "alias/ok", "TargetKeyId", denied));
    snprintf(want, sizeof(want),
             "User: arn:aws:iam::" ACCOUNT ":user/admin is not authorized to perform: "
             "kms:UpdateAlias on resource: %s with an explicit deny in a resource-based policy",
             denied_arn);
    s_expect_error("AccessDeniedException", want);
}

/* ---- Rotation ---- */

static json_t *s_rotation_status_in(const char *region, const char *id)
{
    cr_assert_eq(
        s_kms_in(region, &s_admin, "GetKeyRotationStatus", json_pack("{s:s}", "KeyId", id)), 200,
        "%s", cmek_buf_cstr(&s_t.body));
    return s_reply();
}

static json_t *s_rotations(const char *id, json_t *extra)
{
    json_t *body = extra != NULL ? extra : json_object();
    json_object_set_new(body, "KeyId", json_string(id));
    cr_assert_eq(s_kms(&s_admin, "ListKeyRotations", body), 200, "%s", cmek_buf_cstr(&s_t.body));
    return s_reply();
}

Test(kms_rotation, rotation_is_off_by_default)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    json_t *v = s_rotation_status_in("us-east-1", id);
    cr_assert_eq(json_object_size(v), 2, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), id);
    cr_assert(json_is_false(json_object_get(v, "KeyRotationEnabled")));
    json_decref(v);
    v = s_rotations(id, NULL);
    cr_assert_eq(json_array_size(json_object_get(v, "Rotations")), 0);
    cr_assert(json_is_false(json_object_get(v, "Truncated")));
    json_decref(v);
}

Test(kms_rotation, enable_and_disable_rotation)
{
    char id[64], arn[256];
    s_create_key(id, sizeof(id), arn, sizeof(arn));
    s_expect_ok_empty(s_kms(&s_admin, "EnableKeyRotation", json_pack("{s:s}", "KeyId", id)));
    json_t *v = s_rotation_status_in("us-east-1", id);
    cr_assert(json_is_true(json_object_get(v, "KeyRotationEnabled")));
    cr_assert_eq(json_integer_value(json_object_get(v, "RotationPeriodInDays")), 365);
    cr_assert_eq(json_integer_value(json_object_get(v, "NextRotationDate")), START_S + 365 * DAY_S);
    json_decref(v);
    /* A new period restarts the schedule from now; the key ARN works as KeyId. */
    s_expect_ok_empty(s_kms(&s_admin, "EnableKeyRotation",
                            json_pack("{s:s,s:i}", "KeyId", arn, "RotationPeriodInDays", 90)));
    v = s_rotation_status_in("us-east-1", arn);
    cr_assert_eq(json_integer_value(json_object_get(v, "RotationPeriodInDays")), 90);
    cr_assert_eq(json_integer_value(json_object_get(v, "NextRotationDate")), START_S + 90 * DAY_S);
    json_decref(v);
    s_expect_ok_empty(s_kms(&s_admin, "DisableKeyRotation", json_pack("{s:s}", "KeyId", id)));
    v = s_rotation_status_in("us-east-1", id);
    cr_assert(json_is_false(json_object_get(v, "KeyRotationEnabled")));
    cr_assert_null(json_object_get(v, "NextRotationDate"));
    json_decref(v);
}

Test(kms_rotation, rotation_period_bounds_and_key_id_forms)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    s_kms(&s_admin, "EnableKeyRotation",
          json_pack("{s:s,s:i}", "KeyId", id, "RotationPeriodInDays", 89));
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '89' at 'rotationPeriodInDays' failed to "
                   "satisfy constraint: Member must have value greater than or equal to 90");
    s_kms(&s_admin, "EnableKeyRotation",
          json_pack("{s:s,s:i}", "KeyId", id, "RotationPeriodInDays", 2561));
    s_expect_error("ValidationException",
                   "1 validation error detected: Value '2561' at 'rotationPeriodInDays' failed "
                   "to satisfy constraint: Member must have value less than or equal to 2560");
    s_kms(&s_admin, "EnableKeyRotation", json_object());
    s_expect_error("ValidationException",
                   "1 validation error detected: Value null at 'keyId' failed to satisfy "
                   "constraint: Member must not be null");
    s_create_alias("alias/rot", id);
    s_kms(&s_admin, "EnableKeyRotation", json_pack("{s:s}", "KeyId", "alias/rot"));
    s_expect_error("NotFoundException", "Invalid keyId 'alias/rot'");
    s_expect_ok_empty(s_kms(&s_admin, "EnableKeyRotation",
                            json_pack("{s:s,s:i}", "KeyId", id, "RotationPeriodInDays", 2560)));
}

Test(kms_rotation, automatic_rotation_happens_when_the_period_passes)
{
    char id[64], before[80], after[80];
    s_create_key(id, sizeof(id), NULL, 0);
    s_metadata_str("us-east-1", id, "CurrentKeyMaterialId", before, sizeof(before));
    s_expect_ok_empty(s_kms(&s_admin, "EnableKeyRotation",
                            json_pack("{s:s,s:i}", "KeyId", id, "RotationPeriodInDays", 90)));
    th_advance(&s_t, "89d");
    s_metadata_str("us-east-1", id, "CurrentKeyMaterialId", after, sizeof(after));
    cr_assert_str_eq(after, before);
    th_advance(&s_t, "2d");
    s_metadata_str("us-east-1", id, "CurrentKeyMaterialId", after, sizeof(after));
    cr_assert_str_neq(after, before);
    cr_assert_eq(strlen(after), 64);
    json_t *v = s_rotations(id, NULL);
    json_t *list = json_object_get(v, "Rotations");
    cr_assert_eq(json_array_size(list), 1, "%s", cmek_buf_cstr(&s_t.body));
    json_t *e = json_array_get(list, 0);
    cr_assert_str_eq(json_string_value(json_object_get(e, "KeyId")), id);
    cr_assert_str_eq(json_string_value(json_object_get(e, "KeyMaterialId")), after);
    cr_assert_str_eq(json_string_value(json_object_get(e, "KeyMaterialState")), "CURRENT");
    cr_assert_str_eq(json_string_value(json_object_get(e, "RotationType")), "AUTOMATIC");
    cr_assert_eq(json_integer_value(json_object_get(e, "RotationDate")), START_S + 90 * DAY_S);
    json_decref(v);
    v = s_rotation_status_in("us-east-1", id);
    cr_assert_eq(json_integer_value(json_object_get(v, "NextRotationDate")), START_S + 180 * DAY_S);
    json_decref(v);
}

Test(kms_rotation, rotate_on_demand_adds_a_current_version_and_old_data_still_decrypts)
{
    char id[64], first[80], second[80], blob[8192];
    s_create_key(id, sizeof(id), NULL, 0);
    s_metadata_str("us-east-1", id, "CurrentKeyMaterialId", first, sizeof(first));
    cr_assert_eq(
        s_kms(&s_admin, "Encrypt", json_pack("{s:s,s:s}", "KeyId", id, "Plaintext", "aGVsbG8=")),
        200, "%s", cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    snprintf(blob, sizeof(blob), "%s", json_string_value(json_object_get(v, "CiphertextBlob")));
    json_decref(v);
    th_advance(&s_t, "1h");
    cr_assert_eq(s_kms(&s_admin, "RotateKeyOnDemand", json_pack("{s:s}", "KeyId", id)), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    v = s_reply();
    cr_assert_eq(json_object_size(v), 1);
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), id);
    json_decref(v);
    s_metadata_str("us-east-1", id, "CurrentKeyMaterialId", second, sizeof(second));
    cr_assert_str_neq(second, first);
    v = s_rotations(id, NULL);
    json_t *list = json_object_get(v, "Rotations");
    cr_assert_eq(json_array_size(list), 1);
    cr_assert_str_eq(s_entry_str(list, 0, "RotationType"), "ON_DEMAND");
    cr_assert_str_eq(s_entry_str(list, 0, "KeyMaterialId"), second);
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(list, 0), "RotationDate")),
                 START_S + 3600);
    json_decref(v);
    v = s_rotations(id, json_pack("{s:s}", "IncludeKeyMaterial", "ALL_KEY_MATERIAL"));
    list = json_object_get(v, "Rotations");
    cr_assert_eq(json_array_size(list), 2);
    json_t *e = json_array_get(list, 0);
    cr_assert_str_eq(s_entry_str(list, 0, "KeyMaterialId"), first);
    cr_assert_str_eq(s_entry_str(list, 0, "KeyMaterialState"), "NON_CURRENT");
    cr_assert_null(json_object_get(e, "RotationDate"));
    cr_assert_null(json_object_get(e, "RotationType"));
    cr_assert_str_eq(s_entry_str(list, 1, "KeyMaterialState"), "CURRENT");
    json_decref(v);
    /* Automatic rotation stays off; the first version still opens what it sealed. */
    v = s_rotation_status_in("us-east-1", id);
    cr_assert(json_is_false(json_object_get(v, "KeyRotationEnabled")));
    json_decref(v);
    cr_assert_eq(s_kms(&s_admin, "Decrypt", json_pack("{s:s}", "CiphertextBlob", blob)), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "Plaintext")), "aGVsbG8=");
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyMaterialId")), first);
    json_decref(v);
}

Test(kms_rotation, on_demand_rotations_are_limited_to_25)
{
    char id[64], arn[256], want[512];
    s_create_key(id, sizeof(id), arn, sizeof(arn));
    for (int i = 0; i < 25; i++) {
        cr_assert_eq(s_kms(&s_admin, "RotateKeyOnDemand", json_pack("{s:s}", "KeyId", id)), 200,
                     "rotation %d: %s", i + 1, cmek_buf_cstr(&s_t.body));
    }
    s_kms(&s_admin, "RotateKeyOnDemand", json_pack("{s:s}", "KeyId", id));
    snprintf(want, sizeof(want),
             "The on-demand rotations limit has been reached for the given keyId. No more "
             "on-demand rotations can be performed for this key: %s",
             arn);
    s_expect_error("LimitExceededException", want);
}

Test(kms_rotation, list_key_rotations_pages)
{
    char id[64];
    s_create_key(id, sizeof(id), NULL, 0);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(s_kms(&s_admin, "RotateKeyOnDemand", json_pack("{s:s}", "KeyId", id)), 200);
    }
    json_t *v = s_rotations(id, json_pack("{s:i}", "Limit", 2));
    cr_assert_eq(json_array_size(json_object_get(v, "Rotations")), 2);
    cr_assert(json_is_true(json_object_get(v, "Truncated")));
    char marker[64];
    snprintf(marker, sizeof(marker), "%s", json_string_value(json_object_get(v, "NextMarker")));
    json_decref(v);
    v = s_rotations(id, json_pack("{s:i,s:s}", "Limit", 2, "Marker", marker));
    cr_assert_eq(json_array_size(json_object_get(v, "Rotations")), 1);
    cr_assert(json_is_false(json_object_get(v, "Truncated")));
    cr_assert_null(json_object_get(v, "NextMarker"));
    json_decref(v);
    s_kms(&s_admin, "ListKeyRotations", json_pack("{s:s,s:s}", "KeyId", id, "Marker", "x"));
    s_expect_error("InvalidMarkerException", NULL);
    s_kms(&s_admin, "ListKeyRotations",
          json_pack("{s:s,s:s}", "KeyId", id, "IncludeKeyMaterial", "SOME"));
    s_expect_error("ValidationException",
                   "1 validation error detected: Value 'SOME' at 'includeKeyMaterial' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [ALL_KEY_MATERIAL, "
                   "ROTATIONS_ONLY]");
}

Test(kms_rotation, rotation_follows_the_key_state)
{
    char id[64], arn[256], want[512];
    s_create_key(id, sizeof(id), arn, sizeof(arn));
    s_expect_ok_empty(s_kms(&s_admin, "EnableKeyRotation", json_pack("{s:s}", "KeyId", id)));
    s_expect_ok_empty(s_kms(&s_admin, "DisableKey", json_pack("{s:s}", "KeyId", id)));
    snprintf(want, sizeof(want), "%s is disabled.", arn);
    s_kms(&s_admin, "DisableKeyRotation", json_pack("{s:s}", "KeyId", id));
    s_expect_error("DisabledException", want);
    s_kms(&s_admin, "RotateKeyOnDemand", json_pack("{s:s}", "KeyId", id));
    s_expect_error("DisabledException", want);
    /* The status does not change while the key is disabled. */
    json_t *v = s_rotation_status_in("us-east-1", id);
    cr_assert(json_is_true(json_object_get(v, "KeyRotationEnabled")));
    json_decref(v);
    s_schedule_deletion(id, 7);
    snprintf(want, sizeof(want), "%s is pending deletion.", arn);
    s_kms(&s_admin, "EnableKeyRotation", json_pack("{s:s}", "KeyId", id));
    s_expect_error("KMSInvalidStateException", want);
    v = s_rotation_status_in("us-east-1", id);
    cr_assert(json_is_false(json_object_get(v, "KeyRotationEnabled")));
    json_decref(v);
    cr_assert_eq(s_kms(&s_admin, "CancelKeyDeletion", json_pack("{s:s}", "KeyId", id)), 200);
    v = s_rotation_status_in("us-east-1", id);
    cr_assert(json_is_true(json_object_get(v, "KeyRotationEnabled")));
    json_decref(v);
}

Test(kms_rotation, keys_with_imported_material_do_not_rotate)
{
    char id[64], arn[256], want[512];
    s_create_key_in("us-east-1", json_pack("{s:s}", "Origin", "EXTERNAL"), id, sizeof(id), arn,
                    sizeof(arn));
    snprintf(want, sizeof(want), "%s origin is EXTERNAL which is not valid for this operation.",
             arn);
    s_kms(&s_admin, "EnableKeyRotation", json_pack("{s:s}", "KeyId", id));
    s_expect_error("UnsupportedOperationException", want);
    s_kms(&s_admin, "DisableKeyRotation", json_pack("{s:s}", "KeyId", id));
    s_expect_error("UnsupportedOperationException", want);
    s_kms(&s_admin, "GetKeyRotationStatus", json_pack("{s:s}", "KeyId", id));
    s_expect_error("UnsupportedOperationException", want);
    s_kms(&s_admin, "RotateKeyOnDemand", json_pack("{s:s}", "KeyId", id));
    s_expect_error("UnsupportedOperationException", want);
}

Test(kms_rotation, rotation_status_needs_key_policy_permission)
{
    char id[64], arn[256];
    s_create_key(id, sizeof(id), arn, sizeof(arn));
    /* Cross-account use is allowed for GetKeyRotationStatus, but the default key policy
     * trusts only the key's account. */
    s_kms(&s_crdb, "GetKeyRotationStatus", json_pack("{s:s}", "KeyId", arn));
    cr_assert_eq(s_t.status, 400);
    json_t *v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "__type")), "AccessDeniedException");
    json_decref(v);
    char want[768];
    snprintf(want, sizeof(want),
             "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized to "
             "perform: kms:EnableKeyRotation on resource: %s because no resource-based policy "
             "allows the kms:EnableKeyRotation action",
             arn);
    s_kms(&s_crdb, "EnableKeyRotation", json_pack("{s:s}", "KeyId", arn));
    s_expect_error("AccessDeniedException", want);
}

/* ---- ReplicateKey ---- */

static json_t *s_replicate(const char *key_id, const char *region, json_t *extra)
{
    json_t *body = extra != NULL ? extra : json_object();
    json_object_set_new(body, "KeyId", json_string(key_id));
    json_object_set_new(body, "ReplicaRegion", json_string(region));
    cr_assert_eq(s_kms(&s_admin, "ReplicateKey", body), 200, "%s", cmek_buf_cstr(&s_t.body));
    return s_reply();
}

static void s_expect_region(const json_t *entry, const char *region, const char *id)
{
    char arn[256];
    snprintf(arn, sizeof(arn), "arn:aws:kms:%s:" ACCOUNT ":key/%s", region, id);
    cr_assert_str_eq(json_string_value(json_object_get(entry, "Arn")), arn);
    cr_assert_str_eq(json_string_value(json_object_get(entry, "Region")), region);
}

Test(kms_replicate, replicate_key_creates_a_replica_in_creating_state)
{
    char id[64], arn[256], want_arn[256];
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    cr_assert_eq(strncmp(id, "mrk-", 4), 0, "%s", id);
    snprintf(want_arn, sizeof(want_arn), ARN_W2 "key/%s", id);
    th_advance(&s_t, "1h");
    json_t *v = s_replicate(arn, "us-west-2",
                            json_pack("{s:s,s:[{s:s,s:s}]}", "Description", "west copy", "Tags",
                                      "TagKey", "team", "TagValue", "db"));
    json_t *md = json_object_get(v, "ReplicaKeyMetadata");
    cr_assert_str_eq(json_string_value(json_object_get(md, "KeyId")), id);
    cr_assert_str_eq(json_string_value(json_object_get(md, "Arn")), want_arn);
    cr_assert_str_eq(json_string_value(json_object_get(md, "AWSAccountId")), ACCOUNT);
    cr_assert_str_eq(json_string_value(json_object_get(md, "KeyState")), "Creating");
    cr_assert(json_is_false(json_object_get(md, "Enabled")));
    cr_assert(json_is_true(json_object_get(md, "MultiRegion")));
    cr_assert_str_eq(json_string_value(json_object_get(md, "Description")), "west copy");
    cr_assert_str_eq(json_string_value(json_object_get(md, "KeySpec")), "SYMMETRIC_DEFAULT");
    cr_assert_str_eq(json_string_value(json_object_get(md, "KeyUsage")), "ENCRYPT_DECRYPT");
    cr_assert_str_eq(json_string_value(json_object_get(md, "Origin")), "AWS_KMS");
    cr_assert_eq(json_integer_value(json_object_get(md, "CreationDate")), START_S + 3600);
    json_t *mrc = json_object_get(md, "MultiRegionConfiguration");
    cr_assert_str_eq(json_string_value(json_object_get(mrc, "MultiRegionKeyType")), "REPLICA");
    s_expect_region(json_object_get(mrc, "PrimaryKey"), "us-east-1", id);
    json_t *replicas = json_object_get(mrc, "ReplicaKeys");
    cr_assert_eq(json_array_size(replicas), 1);
    s_expect_region(json_array_get(replicas, 0), "us-west-2", id);
    cr_assert_str_eq(json_string_value(json_object_get(v, "ReplicaPolicy")), DEFAULT_POLICY);
    json_t *tags = json_object_get(v, "ReplicaTags");
    cr_assert_eq(json_array_size(tags), 1);
    cr_assert_str_eq(s_entry_str(tags, 0, "TagKey"), "team");
    cr_assert_str_eq(s_entry_str(tags, 0, "TagValue"), "db");
    json_decref(v);
}

Test(kms_replicate, the_replica_is_enabled_in_its_region_and_shares_the_material)
{
    char id[64], arn[256], primary_material[80], got[80];
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    s_metadata_str("us-east-1", id, "CurrentKeyMaterialId", primary_material,
                   sizeof(primary_material));
    json_decref(s_replicate(id, "us-west-2", NULL));
    json_t *v = s_describe_in("us-west-2", id);
    json_t *md = json_object_get(v, "KeyMetadata");
    cr_assert_str_eq(json_string_value(json_object_get(md, "KeyState")), "Enabled");
    cr_assert(json_is_true(json_object_get(md, "Enabled")));
    cr_assert_str_eq(json_string_value(json_object_get(md, "Description")), "");
    cr_assert_str_eq(json_string_value(json_object_get(md, "CurrentKeyMaterialId")),
                     primary_material);
    json_t *mrc = json_object_get(md, "MultiRegionConfiguration");
    cr_assert_str_eq(json_string_value(json_object_get(mrc, "MultiRegionKeyType")), "REPLICA");
    s_expect_region(json_object_get(mrc, "PrimaryKey"), "us-east-1", id);
    json_decref(v);
    /* The primary lists its replica. */
    v = s_describe_in("us-east-1", id);
    mrc = json_object_get(json_object_get(v, "KeyMetadata"), "MultiRegionConfiguration");
    cr_assert_str_eq(json_string_value(json_object_get(mrc, "MultiRegionKeyType")), "PRIMARY");
    cr_assert_eq(json_array_size(json_object_get(mrc, "ReplicaKeys")), 1);
    s_expect_region(json_array_get(json_object_get(mrc, "ReplicaKeys"), 0), "us-west-2", id);
    json_decref(v);
    /* The replica's policy is the default one, kept in its Region. */
    cr_assert_eq(s_kms_in("us-west-2", &s_admin, "GetKeyPolicy", json_pack("{s:s}", "KeyId", id)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "Policy")), DEFAULT_POLICY);
    json_decref(v);
    /* Aliases stay per Region: one in the replica's Region names the replica. */
    s_create_alias_in("us-west-2", "alias/west", id);
    s_metadata_str("us-west-2", "alias/west", "Arn", got, sizeof(got));
    cr_assert_eq(strncmp(got, ARN_W2, strlen(ARN_W2)), 0, "%s", got);
}

Test(kms_replicate, ciphertext_from_the_primary_decrypts_in_the_replica_region)
{
    char id[64], arn[256], blob[8192];
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    json_decref(s_replicate(id, "us-west-2", NULL));
    cr_assert_eq(s_kms(&s_admin, "Encrypt",
                       json_pack("{s:s,s:s,s:{s:s}}", "KeyId", id, "Plaintext",
                                 "aGVsbG8=", "EncryptionContext", "purpose", "test")),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    json_t *v = s_reply();
    snprintf(blob, sizeof(blob), "%s", json_string_value(json_object_get(v, "CiphertextBlob")));
    json_decref(v);
    cr_assert_eq(s_kms_in("us-west-2", &s_admin, "Decrypt",
                          json_pack("{s:s,s:{s:s}}", "CiphertextBlob", blob, "EncryptionContext",
                                    "purpose", "test")),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    v = s_reply();
    char want[256];
    snprintf(want, sizeof(want), ARN_W2 "key/%s", id);
    cr_assert_str_eq(json_string_value(json_object_get(v, "Plaintext")), "aGVsbG8=");
    cr_assert_str_eq(json_string_value(json_object_get(v, "KeyId")), want);
    json_decref(v);
}

Test(kms_replicate, only_a_multi_region_primary_can_be_replicated)
{
    char id[64], arn[256], plain[64], plain_arn[256], want[512];
    s_create_key(plain, sizeof(plain), plain_arn, sizeof(plain_arn));
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s}", "KeyId", plain, "ReplicaRegion", "us-west-2"));
    snprintf(want, sizeof(want), "%s is not a multi-region primary key.", plain_arn);
    s_expect_error("UnsupportedOperationException", want);
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    json_decref(s_replicate(id, "us-west-2", NULL));
    s_kms_in("us-west-2", &s_admin, "ReplicateKey",
             json_pack("{s:s,s:s}", "KeyId", id, "ReplicaRegion", "eu-west-1"));
    snprintf(want, sizeof(want), ARN_W2 "key/%s is not a multi-region primary key.", id);
    s_expect_error("UnsupportedOperationException", want);
}

Test(kms_replicate, one_key_per_region)
{
    char id[64], arn[256], want[512];
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s}", "KeyId", id, "ReplicaRegion", "us-east-1"));
    snprintf(want, sizeof(want), "Key '%s' already exists", arn);
    s_expect_error("AlreadyExistsException", want);
    json_decref(s_replicate(id, "us-west-2", NULL));
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s}", "KeyId", id, "ReplicaRegion", "us-west-2"));
    snprintf(want, sizeof(want), "Key '" ARN_W2 "key/%s' already exists", id);
    s_expect_error("AlreadyExistsException", want);
    /* A second Region is fine; the primary lists both. */
    json_decref(s_replicate(id, "eu-central-1", NULL));
    json_t *v = s_describe_in("us-east-1", id);
    json_t *mrc = json_object_get(json_object_get(v, "KeyMetadata"), "MultiRegionConfiguration");
    cr_assert_eq(json_array_size(json_object_get(mrc, "ReplicaKeys")), 2);
    json_decref(v);
}

Test(kms_replicate, replicate_key_validation)
{
    char id[64], arn[256];
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s}", "KeyId", id, "ReplicaRegion", "uswest2"));
    s_expect_error("ValidationException",
                   "1 validation error detected: Value 'uswest2' at 'replicaRegion' failed to "
                   "satisfy constraint: Member must satisfy regular expression pattern: "
                   "^([a-z]+-){2,3}\\d+$");
    s_kms(&s_admin, "ReplicateKey", json_object());
    s_expect_error("ValidationException",
                   "2 validation errors detected: Value null at 'keyId' failed to satisfy "
                   "constraint: Member must not be null; Value null at 'replicaRegion' failed to "
                   "satisfy constraint: Member must not be null");
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "KeyId", id, "ReplicaRegion", "us-west-2", "Tags",
                    "TagKey", "aws:x", "TagValue", "y"));
    s_expect_error("TagException", "Tags beginning with aws: are reserved");
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s,s:[{s:s,s:s},{s:s,s:s}]}", "KeyId", id, "ReplicaRegion", "us-west-2",
                    "Tags", "TagKey", "a", "TagValue", "1", "TagKey", "a", "TagValue", "2"));
    s_expect_error("TagException", "Duplicate tag keys");
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s,s:s}", "KeyId", id, "ReplicaRegion", "us-west-2", "Policy",
                    "not json"));
    cr_assert_eq(s_t.status, 400);
    json_t *v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "__type")),
                     "MalformedPolicyDocumentException");
    json_decref(v);
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s}", "KeyId", "alias/x", "ReplicaRegion", "us-west-2"));
    s_expect_error("NotFoundException", "Invalid keyId 'alias/x'");
    /* Nothing was created by the failures. */
    s_kms_in("us-west-2", &s_admin, "DescribeKey", json_pack("{s:s}", "KeyId", id));
    char want[256];
    snprintf(want, sizeof(want), "Key '" ARN_W2 "key/%s' does not exist", id);
    s_expect_error("NotFoundException", want);
}

Test(kms_replicate, replica_takes_a_given_policy)
{
    char id[64], arn[256];
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    const char *policy = "{\"Version\":\"2012-10-17\",\"Statement\":[" ADMIN_STATEMENT "]}";
    json_t *v = s_replicate(id, "us-west-2", json_pack("{s:s}", "Policy", policy));
    cr_assert_str_eq(json_string_value(json_object_get(v, "ReplicaPolicy")), policy);
    cr_assert_eq(json_array_size(json_object_get(v, "ReplicaTags")), 0);
    json_decref(v);
    cr_assert_eq(s_kms_in("us-west-2", &s_admin, "GetKeyPolicy", json_pack("{s:s}", "KeyId", id)),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    v = s_reply();
    cr_assert_str_eq(json_string_value(json_object_get(v, "Policy")), policy);
    json_decref(v);
}

Test(kms_replicate, replicate_key_needs_permission_on_the_primary)
{
    char id[64], arn[256], want[768];
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    s_kms(&s_crdb, "ReplicateKey",
          json_pack("{s:s,s:s}", "KeyId", arn, "ReplicaRegion", "us-west-2"));
    snprintf(want, sizeof(want),
             "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized to "
             "perform: kms:ReplicateKey on resource: %s because no resource-based policy "
             "allows the kms:ReplicateKey action",
             arn);
    s_expect_error("AccessDeniedException", want);
}

Test(kms_replicate, rotation_is_managed_on_the_primary_and_reaches_the_replicas)
{
    char id[64], arn[256], want[512], primary_material[80], got[80];
    s_create_mrk(id, sizeof(id), arn, sizeof(arn));
    s_expect_ok_empty(s_kms(&s_admin, "EnableKeyRotation",
                            json_pack("{s:s,s:i}", "KeyId", id, "RotationPeriodInDays", 90)));
    json_decref(s_replicate(id, "us-west-2", NULL));
    snprintf(want, sizeof(want), ARN_W2 "key/%s is not a multi-region primary key.", id);
    s_kms_in("us-west-2", &s_admin, "DisableKeyRotation", json_pack("{s:s}", "KeyId", id));
    s_expect_error("UnsupportedOperationException", want);
    s_kms_in("us-west-2", &s_admin, "RotateKeyOnDemand", json_pack("{s:s}", "KeyId", id));
    s_expect_error("UnsupportedOperationException", want);
    /* The replica reports the shared setting. */
    json_t *v = s_rotation_status_in("us-west-2", id);
    cr_assert(json_is_true(json_object_get(v, "KeyRotationEnabled")));
    cr_assert_eq(json_integer_value(json_object_get(v, "RotationPeriodInDays")), 90);
    json_decref(v);
    /* On-demand rotation of the primary reaches the replica. */
    cr_assert_eq(s_kms(&s_admin, "RotateKeyOnDemand", json_pack("{s:s}", "KeyId", id)), 200);
    s_metadata_str("us-east-1", id, "CurrentKeyMaterialId", primary_material,
                   sizeof(primary_material));
    s_metadata_str("us-west-2", id, "CurrentKeyMaterialId", got, sizeof(got));
    cr_assert_str_eq(got, primary_material);
    /* So does automatic rotation, once the primary has been looked at. */
    th_advance(&s_t, "91d");
    s_metadata_str("us-east-1", id, "CurrentKeyMaterialId", got, sizeof(got));
    cr_assert_str_neq(got, primary_material);
    snprintf(primary_material, sizeof(primary_material), "%s", got);
    s_metadata_str("us-west-2", id, "CurrentKeyMaterialId", got, sizeof(got));
    cr_assert_str_eq(got, primary_material);
    /* Disabling on the primary turns the replica's status off too. */
    s_expect_ok_empty(s_kms(&s_admin, "DisableKeyRotation", json_pack("{s:s}", "KeyId", id)));
    v = s_rotation_status_in("us-west-2", id);
    cr_assert(json_is_false(json_object_get(v, "KeyRotationEnabled")));
    json_decref(v);
}

Test(kms_replicate, a_primary_pending_import_cannot_be_replicated)
{
    char id[64], arn[256];
    s_create_key_in("us-east-1", json_pack("{s:b,s:s}", "MultiRegion", 1, "Origin", "EXTERNAL"), id,
                    sizeof(id), arn, sizeof(arn));
    /* A primary pending import cannot be replicated yet. */
    char want[512];
    snprintf(want, sizeof(want), "%s is pending import.", arn);
    s_kms(&s_admin, "ReplicateKey",
          json_pack("{s:s,s:s}", "KeyId", id, "ReplicaRegion", "us-west-2"));
    s_expect_error("KMSInvalidStateException", want);
}
