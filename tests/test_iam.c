/* test_iam.c: the emulated IAM (Query protocol, 2010-05-08) as the AWS CLI and boto3 reach
 * it: every operation's success shape, each failure mode with AWS's exact code and text,
 * authorization of role sessions against the role's current policies, and the unique-id
 * rule for principals in trust policies.
 *
 * Each test gets a fresh emulator built from fixtures/world.json (accounts 111122223333
 * with user admin, 999988887777 with user cockroach-cloud-cmek). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store.h"
#include "test_common.h"

#define S_ACCT     "111122223333"
#define S_FORM_MAX (64u * 1024u)

/* Trust policy: anyone in 111122223333 whose identity policies allow sts:AssumeRole. */
#define S_TRUST_ACCOUNT                                                                            \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\"}]}"
/* Identity policy allowing one action (or pattern) on every resource. */
#define S_ALLOW(action)                                                                            \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"" action        \
    "\",\"Resource\":\"*\"}]}"

/* One emulator per test; Criterion runs each test in its own process. */
static struct th_ctx s_t;

static void s_setup(void)
{
    th_init(&s_t);
}

static void s_teardown(void)
{
    th_clean_up(&s_t);
    cmek_test_fini();
}

TestSuite(iam, .init = s_setup, .fini = s_teardown);

/* ---- Helpers ---- */

__attribute__((format(printf, 3, 0))) static int
s_vsend(const char *service, const struct th_creds *c, const char *fmt, va_list ap)
{
    return th_vqueryf(&s_t, service, c, fmt, ap);
}

/* A signed IAM request as c; the form is a printf format. */
__attribute__((format(printf, 2, 3))) static int s_as(const struct th_creds *c, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = s_vsend("iam", c, fmt, ap);
    va_end(ap);
    return status;
}

/* A signed IAM request as the customer's admin (AdministratorAccess). */
__attribute__((format(printf, 1, 2))) static int s_admin(const char *fmt, ...)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    va_list ap;
    va_start(ap, fmt);
    int status = s_vsend("iam", &admin, fmt, ap);
    va_end(ap);
    return status;
}

static void s_expect_ok(void)
{
    th_expect_query_ok(&s_t);
}

/* The text of the first <tag>. */
static const char *s_text(const char *tag, char *out, size_t cap)
{
    cr_assert(th_xml(&s_t, tag, out, cap), "no <%s> in: %s", tag, cmek_buf_cstr(&s_t.body));
    return out;
}

static void s_expect_text(const char *tag, const char *want)
{
    th_expect_xml(&s_t, tag, want);
}

static void s_expect_error(int status, const char *code, const char *message)
{
    th_expect_query_error(&s_t, status, code, message);
}

static void s_expect_validation(const char *message)
{
    s_expect_error(400, "ValidationError", message);
}

static size_t s_count(const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(cmek_buf_cstr(&s_t.body), needle); p != NULL;
         p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

static bool s_has(const char *needle)
{
    return strstr(cmek_buf_cstr(&s_t.body), needle) != NULL;
}

static int s_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* The URL-decoded text of <tag>, as botocore's json_decode_policies reads it. */
static const char *s_decoded(const char *tag, char *out, size_t cap)
{
    char *raw = malloc(cap);
    cr_assert_not_null(raw);
    s_text(tag, raw, cap);
    size_t o = 0;
    for (const char *p = raw; *p != '\0'; p++) {
        cr_assert(o + 1 < cap);
        if (*p == '%') {
            int hi = s_hex(p[1]);
            int lo = hi < 0 ? -1 : s_hex(p[2]);
            cr_assert(hi >= 0 && lo >= 0, "bad escape in <%s>: %s", tag, raw);
            out[o++] = (char)(hi * 16 + lo);
            p += 2;
        } else {
            cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~",
                             *p) != NULL,
                      "<%s> is not RFC 3986 encoded: %s", tag, raw);
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    free(raw);
    return out;
}

static bool s_all_of(const char *s, const char *alphabet)
{
    for (; *s != '\0'; s++) {
        if (strchr(alphabet, *s) == NULL) {
            return false;
        }
    }
    return true;
}

/* AWS unique ids: a 4-letter prefix and 17 characters of [A-Z2-7]. */
static void s_expect_unique_id(const char *id, const char *prefix)
{
    cr_assert_eq(strlen(id), 21, "%s", id);
    cr_assert_eq(strncmp(id, prefix, 4), 0, "%s", id);
    cr_assert(s_all_of(id + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), "%s", id);
}

static void s_create_role(const char *name, const char *trust)
{
    char enc[8192];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=%s&AssumeRolePolicyDocument=%s", name,
            th_form_encode(trust, enc, sizeof(enc)));
    s_expect_ok();
}

static void s_put_role_policy(const char *role, const char *pname, const char *doc)
{
    char enc[8192];
    s_admin("Action=PutRolePolicy&Version=2010-05-08&RoleName=%s&PolicyName=%s&PolicyDocument=%s",
            role, pname, th_form_encode(doc, enc, sizeof(enc)));
    s_expect_ok();
}

/* Creates user name; its unique id into id (22 bytes). */
static void s_create_user(const char *name, char *id, size_t cap)
{
    s_admin("Action=CreateUser&Version=2010-05-08&UserName=%s", name);
    s_expect_ok();
    s_text("UserId", id, cap);
}

static void s_create_access_key(const char *user, struct th_creds *out)
{
    s_admin("Action=CreateAccessKey&Version=2010-05-08&UserName=%s", user);
    s_expect_ok();
    memset(out, 0, sizeof(*out));
    s_text("AccessKeyId", out->akid, sizeof(out->akid));
    s_text("SecretAccessKey", out->secret, sizeof(out->secret));
}

static void s_create_policy(const char *name, const char *doc, char *arn, size_t cap)
{
    char enc[8192];
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=%s&PolicyDocument=%s", name,
            th_form_encode(doc, enc, sizeof(enc)));
    s_expect_ok();
    s_text("Arn", arn, cap);
}

/* prefix + pad 'x' characters + suffix, with spaces (not counted by IAM's quotas) after the
 * first character; the result has exactly chars non-white-space characters. */
static void s_sized_doc(char *out, size_t cap, const char *prefix, const char *suffix, size_t chars,
                        size_t spaces)
{
    size_t fixed = strlen(prefix) + strlen(suffix);
    cr_assert(chars > fixed && chars + spaces + 1 < cap);
    size_t n = 0;
    out[n++] = prefix[0];
    memset(out + n, ' ', spaces);
    n += spaces;
    memcpy(out + n, prefix + 1, strlen(prefix) - 1);
    n += strlen(prefix) - 1;
    memset(out + n, 'x', chars - fixed);
    n += chars - fixed;
    memcpy(out + n, suffix, strlen(suffix) + 1);
}

#define S_TRUST_PREFIX                                                                             \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{"            \
    "\"StringEquals\":{\"sts:ExternalId\":\""
#define S_TRUST_SUFFIX "\"}}}]}"
#define S_IDENTITY_PREFIX                                                                          \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"                 \
    "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bucket/"
#define S_IDENTITY_SUFFIX "\"}]}"

/* The admin assumes role in 111122223333 as session. */
static void s_assume_as_admin(const char *role, const char *session, struct th_creds *out)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    char arn[256];
    snprintf(arn, sizeof(arn), "arn:aws:iam::" S_ACCT ":role/%s", role);
    cr_assert_eq(th_assume_role(&s_t, &admin, arn, session, NULL, out), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
}

/* The emulated IAM has no DeleteUser (out of this emulator's scope), so tests that need a
 * user gone remove it from the model, with its access keys, as DeleteUser would after AWS's
 * own precondition (no keys left) was met. */
static void s_delete_user_from_model(const char *name)
{
    struct emu_iam *iam = &s_t.app.store->iam;
    for (size_t i = iam->access_keys.len; i > 0; i--) {
        struct emu_iam_access_key *k = iam->access_keys.items[i - 1];
        if (strcmp(k->account, S_ACCT) == 0 && strcmp(k->user_name, name) == 0) {
            emu_iam_access_key_destroy(cmek_vec_remove_at(&iam->access_keys, i - 1));
        }
    }
    for (size_t i = 0; i < iam->users.len; i++) {
        struct emu_iam_user *u = iam->users.items[i];
        if (strcmp(u->ident.account, S_ACCT) == 0 && strcmp(u->ident.name, name) == 0) {
            emu_iam_user_destroy(cmek_vec_remove_at(&iam->users, i));
            return;
        }
    }
    cr_assert_fail("no user %s", name);
}

/* ---- Protocol ---- */

Test(iam, unknown_action_is_invalid_action)
{
    s_admin("Action=Frobnicate&Version=2010-05-08");
    s_expect_error(400, "InvalidAction",
                   "Could not find operation Frobnicate for version 2010-05-08");
    cr_assert(s_has("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));
    s_expect_text("RequestId", "00000000-0000-4000-8000-000000000000");
}

Test(iam, request_without_action_is_missing_action)
{
    s_admin("Version=2010-05-08&RoleName=R");
    s_expect_error(400, "MissingAction", "Missing Action");
}

Test(iam, request_with_sts_version_is_invalid_action)
{
    s_admin("Action=GetUser&Version=2011-06-15");
    s_expect_error(400, "InvalidAction", "Could not find operation GetUser for version 2011-06-15");
}

Test(iam, operation_without_result_renders_only_response_metadata)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "p", S_ALLOW("iam:GetRole"));
    cr_assert(s_has("<PutRolePolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));
    cr_assert_not(s_has("PutRolePolicyResult"));
    s_expect_text("RequestId", "00000000-0000-4000-8000-000000000000");
}

/* ---- CreateRole ---- */

Test(iam, create_role_returns_role_with_url_encoded_trust_policy)
{
    char enc[4096], got[4096], id[64];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=app-role&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_ok();
    cr_assert(s_has("<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));
    cr_assert(s_has("<CreateRoleResult>"));
    s_expect_text("Path", "/");
    s_expect_text("RoleName", "app-role");
    s_expect_unique_id(s_text("RoleId", id, sizeof(id)), "AROA");
    s_expect_text("Arn", "arn:aws:iam::111122223333:role/app-role");
    s_expect_text("CreateDate", "2026-11-23T12:00:00Z");
    cr_assert_str_eq(s_decoded("AssumeRolePolicyDocument", got, sizeof(got)), S_TRUST_ACCOUNT);
}

Test(iam, create_role_keeps_path_description_max_session_and_tags)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=svc&Path=%%2Fapp%%2Fteam%%2F"
            "&Description=CMEK%%20role&MaxSessionDuration=7200"
            "&Tags.member.1.Key=env&Tags.member.1.Value=prod"
            "&Tags.member.2.Key=team&Tags.member.2.Value=db"
            "&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_ok();
    s_expect_text("Path", "/app/team/");
    s_expect_text("Arn", "arn:aws:iam::111122223333:role/app/team/svc");
    s_expect_text("Description", "CMEK role");
    cr_assert(s_has("<Tags><member><Key>env</Key><Value>prod</Value></member>"
                    "<member><Key>team</Key><Value>db</Value></member></Tags>"));
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=svc");
    s_expect_ok();
    s_expect_text("MaxSessionDuration", "7200");
    s_expect_text("Description", "CMEK role");
}

Test(iam, create_role_rejects_missing_role_name)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_validation("1 validation error detected: Value null at 'roleName' failed to satisfy "
                        "constraint: Member must not be null");
}

Test(iam, create_role_reports_every_missing_parameter)
{
    s_admin("Action=CreateRole&Version=2010-05-08");
    s_expect_validation("2 validation errors detected: Value null at 'roleName' failed to satisfy "
                        "constraint: Member must not be null; Value null at "
                        "'assumeRolePolicyDocument' failed to satisfy constraint: Member must not "
                        "be null");
}

Test(iam, create_role_rejects_name_outside_pattern)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=bad%%2Fname&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_validation("1 validation error detected: Value 'bad/name' at 'roleName' failed to "
                        "satisfy constraint: Member must satisfy regular expression pattern: "
                        "[\\w+=,.@-]+");
}

Test(iam, create_role_rejects_name_over_64_characters)
{
    char enc[4096], name[66], want[512];
    memset(name, 'r', 65);
    name[65] = '\0';
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=%s&AssumeRolePolicyDocument=%s", name,
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    snprintf(want, sizeof(want),
             "1 validation error detected: Value '%s' at 'roleName' failed to satisfy "
             "constraint: Member must have length less than or equal to 64",
             name);
    s_expect_validation(want);
}

Test(iam, create_role_rejects_empty_name)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_validation("1 validation error detected: Value '' at 'roleName' failed to satisfy "
                        "constraint: Member must have length greater than or equal to 1");
}

Test(iam, create_role_rejects_path_without_slashes)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&Path=app&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_validation("1 validation error detected: Value 'app' at 'path' failed to satisfy "
                        "constraint: Member must satisfy regular expression pattern: "
                        "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
}

Test(iam, create_role_rejects_max_session_duration_below_3600)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&MaxSessionDuration=3599"
            "&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_validation("1 validation error detected: Value '3599' at 'maxSessionDuration' failed "
                        "to satisfy constraint: Member must have value greater than or equal to "
                        "3600");
}

Test(iam, create_role_rejects_max_session_duration_above_43200)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&MaxSessionDuration=43201"
            "&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_validation("1 validation error detected: Value '43201' at 'maxSessionDuration' failed "
                        "to satisfy constraint: Member must have value less than or equal to "
                        "43200");
}

Test(iam, create_role_aggregates_violations_of_several_members)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=a%%20b&Path=x&MaxSessionDuration=60"
            "&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_validation(
        "3 validation errors detected: Value 'a b' at 'roleName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+; Value 'x' at 'path' failed "
        "to satisfy constraint: Member must satisfy regular expression pattern: "
        "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F); Value '60' at 'maxSessionDuration' failed "
        "to satisfy constraint: Member must have value greater than or equal to 3600");
}

Test(iam, create_role_rejects_duplicate_name)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_error(409, "EntityAlreadyExists", "Role with name R already exists.");
}

Test(iam, create_role_rejects_name_differing_only_in_case)
{
    s_create_role("Admin-Role", S_TRUST_ACCOUNT);
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=admin-role&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_error(409, "EntityAlreadyExists", "Role with name admin-role already exists.");
}

Test(iam, create_role_rejects_trust_policy_that_is_not_json)
{
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%%7Bnope");
    s_expect_error(400, "MalformedPolicyDocument", "This policy contains invalid Json");
}

Test(iam, create_role_rejects_trust_policy_naming_nonexistent_user)
{
    char enc[4096];
    const char *trust =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:user/nobody\"},\"Action\":\"sts:AssumeRole\"}]}";
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
            th_form_encode(trust, enc, sizeof(enc)));
    s_expect_error(
        400, "MalformedPolicyDocument",
        "Invalid principal in policy: \"AWS\":\"arn:aws:iam::111122223333:user/nobody\"");
}

Test(iam, create_role_rejects_trust_policy_naming_nonexistent_role)
{
    char enc[4096];
    const char *trust =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:role/ghost\"},\"Action\":\"sts:AssumeRole\"}]}";
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
            th_form_encode(trust, enc, sizeof(enc)));
    s_expect_error(400, "MalformedPolicyDocument",
                   "Invalid principal in policy: \"AWS\":\"arn:aws:iam::111122223333:role/ghost\"");
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(404, "NoSuchEntity", "The role with name R cannot be found.");
}

Test(iam, create_role_rejects_trust_policy_naming_unknown_account)
{
    char enc[4096];
    const char *trust =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::123456789012:root\"},\"Action\":\"sts:AssumeRole\"}]}";
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
            th_form_encode(trust, enc, sizeof(enc)));
    s_expect_error(400, "MalformedPolicyDocument",
                   "Invalid principal in policy: \"AWS\":\"arn:aws:iam::123456789012:root\"");
}

Test(iam, create_role_rejects_trust_policy_with_resource)
{
    char enc[4096];
    const char *trust =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\"}]}";
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
            th_form_encode(trust, enc, sizeof(enc)));
    s_expect_error(400, "MalformedPolicyDocument", "Has prohibited field Resource");
}

Test(iam, create_role_rejects_51_tags)
{
    char *form = malloc(S_FORM_MAX);
    cr_assert_not_null(form);
    char enc[4096];
    size_t n = (size_t)snprintf(form, S_FORM_MAX,
                                "Action=CreateRole&Version=2010-05-08&RoleName=R"
                                "&AssumeRolePolicyDocument=%s",
                                th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    for (int i = 1; i <= 51; i++) {
        n += (size_t)snprintf(form + n, S_FORM_MAX - n,
                              "&Tags.member.%d.Key=k%d&Tags.member.%d.Value=v", i, i, i);
    }
    struct th_creds admin;
    th_creds_admin(&admin);
    th_query(&s_t, "iam", &admin, form);
    free(form);
    /* The model's tagListType max 50; the value (the whole list) is left out of the text. */
    s_expect_validation("1 validation error detected: Value at 'tags' failed to satisfy "
                        "constraint: Member must have length less than or equal to 50");
}

Test(iam, create_role_rejects_duplicate_tag_keys_ignoring_case)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R"
            "&Tags.member.1.Key=Env&Tags.member.1.Value=a"
            "&Tags.member.2.Key=env&Tags.member.2.Value=b&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_error(400, "InvalidInput",
                   "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
}

Test(iam, create_role_rejects_permissions_boundary)
{
    char enc[4096];
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R"
            "&PermissionsBoundary=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess"
            "&AssumeRolePolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_error(400, "InvalidInput", "PermissionsBoundary is not supported by cmek-emulator.");
}

Test(iam, create_role_is_denied_to_user_without_policies)
{
    char id[64], enc[4096];
    struct th_creds u1;
    s_create_user("u1", id, sizeof(id));
    s_create_access_key("u1", &u1);
    s_as(&u1, "Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
         th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:iam::111122223333:user/u1 is not authorized to perform: "
                   "iam:CreateRole on resource: arn:aws:iam::111122223333:role/R because no "
                   "identity-based policy allows the iam:CreateRole action");
}

Test(iam, create_role_accepts_service_and_anyone_principals)
{
    s_create_role("ec2-role", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                              "\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":"
                              "\"sts:AssumeRole\"}]}");
    s_create_role("open-role", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                               "\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"}]}");
}

Test(iam, create_role_accepts_trust_policy_with_tag_session_and_source_identity)
{
    s_create_role("R", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                       "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":["
                       "\"sts:AssumeRole\",\"sts:TagSession\",\"sts:SetSourceIdentity\"]}]}");
}

Test(iam, create_role_rejects_trust_policy_with_other_actions)
{
    char enc[4096];
    const char *trust =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:root\"},\"Action\":\"s3:GetObject\"}]}";
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
            th_form_encode(trust, enc, sizeof(enc)));
    s_expect_error(400, "MalformedPolicyDocument",
                   "AssumeRole policy may only specify STS AssumeRole actions.");
}

Test(iam, create_role_rejects_trust_policy_over_2048_characters)
{
    char doc[4096], enc[16384];
    s_sized_doc(doc, sizeof(doc), S_TRUST_PREFIX, S_TRUST_SUFFIX, 2049, 0);
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
            th_form_encode(doc, enc, sizeof(enc)));
    s_expect_error(409, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048");
}

Test(iam, create_role_does_not_count_white_space_against_trust_quota)
{
    char doc[4096];
    s_sized_doc(doc, sizeof(doc), S_TRUST_PREFIX, S_TRUST_SUFFIX, 2048, 1000);
    s_create_role("R", doc);
}

Test(iam, create_role_rejects_description_over_1000_characters)
{
    char enc[4096], desc[1002], want[512];
    memset(desc, 'd', 1001);
    desc[1001] = '\0';
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&Description=%s"
            "&AssumeRolePolicyDocument=%s",
            desc, th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    snprintf(want, sizeof(want),
             "1 validation error detected: Value '%.120s' at 'description' failed to satisfy "
             "constraint: Member must have length less than or equal to 1000",
             desc);
    s_expect_validation(want);
}

/* ---- GetRole ---- */

Test(iam, get_role_returns_full_role)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    char created_id[64], got[4096];
    s_text("RoleId", created_id, sizeof(created_id));
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert(s_has("<GetRoleResult>"));
    s_expect_text("Path", "/");
    s_expect_text("RoleName", "R");
    s_expect_text("RoleId", created_id);
    s_expect_text("Arn", "arn:aws:iam::111122223333:role/R");
    s_expect_text("CreateDate", "2026-11-23T12:00:00Z");
    s_expect_text("MaxSessionDuration", "3600");
    cr_assert(s_has("<RoleLastUsed/>"));
    cr_assert_not(s_has("<Description>"));
    cr_assert_str_eq(s_decoded("AssumeRolePolicyDocument", got, sizeof(got)), S_TRUST_ACCOUNT);
}

Test(iam, get_role_finds_role_by_name_in_other_case)
{
    s_create_role("MyRole", S_TRUST_ACCOUNT);
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=myrole");
    s_expect_ok();
    s_expect_text("RoleName", "MyRole");
}

Test(iam, get_role_rejects_unknown_role)
{
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=nope");
    s_expect_error(404, "NoSuchEntity", "The role with name nope cannot be found.");
}

Test(iam, get_role_rejects_missing_role_name)
{
    s_admin("Action=GetRole&Version=2010-05-08");
    s_expect_validation("1 validation error detected: Value null at 'roleName' failed to satisfy "
                        "constraint: Member must not be null");
}

Test(iam, get_role_keeps_trust_policy_text_byte_for_byte)
{
    const char *trust = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n"
                        "      \"Effect\": \"Allow\",\n      \"Principal\": {\"AWS\": "
                        "\"111122223333\"},\n      \"Action\": \"sts:AssumeRole\"\n    }\n  ]\n}";
    s_create_role("R", trust);
    char got[4096];
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert_str_eq(s_decoded("AssumeRolePolicyDocument", got, sizeof(got)), trust);
}

/* ---- ListRoles ---- */

static void s_create_three_roles(void)
{
    char enc[4096];
    th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc));
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=r1&AssumeRolePolicyDocument=%s", enc);
    s_expect_ok();
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=r2&Path=%%2Fapp%%2F"
            "&AssumeRolePolicyDocument=%s",
            enc);
    s_expect_ok();
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=r3&Path=%%2Fapp%%2F"
            "&AssumeRolePolicyDocument=%s",
            enc);
    s_expect_ok();
}

Test(iam, list_roles_returns_every_role_of_the_account)
{
    s_create_three_roles();
    s_admin("Action=ListRoles&Version=2010-05-08");
    s_expect_ok();
    cr_assert_eq(s_count("<member>"), 3);
    cr_assert(s_has("<RoleName>r1</RoleName>"));
    cr_assert(s_has("<RoleName>r2</RoleName>"));
    cr_assert(s_has("<RoleName>r3</RoleName>"));
    cr_assert(s_has("<Arn>arn:aws:iam::111122223333:role/app/r2</Arn>"));
    cr_assert_eq(s_count("<AssumeRolePolicyDocument>"), 3);
    cr_assert_eq(s_count("<MaxSessionDuration>3600</MaxSessionDuration>"), 3);
    s_expect_text("IsTruncated", "false");
    cr_assert_not(s_has("<Marker>"));
}

Test(iam, list_roles_pages_with_max_items_and_marker)
{
    s_create_three_roles();
    char marker[64];
    s_admin("Action=ListRoles&Version=2010-05-08&MaxItems=2");
    s_expect_ok();
    cr_assert_eq(s_count("<RoleName>"), 2);
    cr_assert(s_has("<RoleName>r1</RoleName>"));
    cr_assert(s_has("<RoleName>r2</RoleName>"));
    s_expect_text("IsTruncated", "true");
    s_text("Marker", marker, sizeof(marker));
    s_admin("Action=ListRoles&Version=2010-05-08&MaxItems=2&Marker=%s", marker);
    s_expect_ok();
    cr_assert_eq(s_count("<RoleName>"), 1);
    cr_assert(s_has("<RoleName>r3</RoleName>"));
    s_expect_text("IsTruncated", "false");
    cr_assert_not(s_has("<Marker>"));
}

Test(iam, list_roles_filters_by_path_prefix)
{
    s_create_three_roles();
    s_admin("Action=ListRoles&Version=2010-05-08&PathPrefix=%%2Fapp%%2F");
    s_expect_ok();
    cr_assert_eq(s_count("<RoleName>"), 2);
    cr_assert_not(s_has("<RoleName>r1</RoleName>"));
}

Test(iam, list_roles_is_denied_to_caller_without_iam_policy)
{
    s_create_three_roles();
    struct th_creds crdb;
    th_creds_crdb(&crdb);
    /* cockroach-cloud-cmek may not list roles at all: its policy allows only sts:AssumeRole. */
    s_as(&crdb, "Action=ListRoles&Version=2010-05-08");
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized to "
                   "perform: iam:ListRoles on resource: arn:aws:iam::999988887777:role/ because no "
                   "identity-based policy allows the iam:ListRoles action");
}

Test(iam, list_roles_rejects_path_prefix_outside_pattern)
{
    s_admin("Action=ListRoles&Version=2010-05-08&PathPrefix=app%%20x");
    s_expect_validation("1 validation error detected: Value 'app x' at 'pathPrefix' failed to "
                        "satisfy constraint: Member must satisfy regular expression pattern: "
                        "\\u002F[\\u0021-\\u007F]*");
}

Test(iam, list_roles_validates_before_authorizing)
{
    struct th_creds crdb;
    th_creds_crdb(&crdb);
    s_as(&crdb, "Action=ListRoles&Version=2010-05-08&MaxItems=0");
    s_expect_validation("1 validation error detected: Value '0' at 'maxItems' failed to satisfy "
                        "constraint: Member must have value greater than or equal to 1");
}

Test(iam, list_roles_rejects_max_items_zero)
{
    s_admin("Action=ListRoles&Version=2010-05-08&MaxItems=0");
    s_expect_validation("1 validation error detected: Value '0' at 'maxItems' failed to satisfy "
                        "constraint: Member must have value greater than or equal to 1");
}

Test(iam, list_roles_rejects_max_items_over_1000)
{
    s_admin("Action=ListRoles&Version=2010-05-08&MaxItems=1001");
    s_expect_validation("1 validation error detected: Value '1001' at 'maxItems' failed to satisfy "
                        "constraint: Member must have value less than or equal to 1000");
}

Test(iam, list_roles_rejects_foreign_marker)
{
    s_create_three_roles();
    s_admin("Action=ListRoles&Version=2010-05-08&Marker=zzz");
    s_expect_error(400, "InvalidInput", "Invalid Marker.");
}

/* ---- UpdateRole ---- */

Test(iam, update_role_changes_description_and_max_session_duration)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=UpdateRole&Version=2010-05-08&RoleName=R&Description=new%%20text"
            "&MaxSessionDuration=43200");
    s_expect_ok();
    cr_assert(s_has("<UpdateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    s_expect_text("Description", "new text");
    s_expect_text("MaxSessionDuration", "43200");
}

Test(iam, update_role_rejects_max_session_duration_out_of_range)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=UpdateRole&Version=2010-05-08&RoleName=R&MaxSessionDuration=43201");
    s_expect_validation("1 validation error detected: Value '43201' at 'maxSessionDuration' failed "
                        "to satisfy constraint: Member must have value less than or equal to "
                        "43200");
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_text("MaxSessionDuration", "3600");
}

Test(iam, update_role_rejects_unknown_role)
{
    s_admin("Action=UpdateRole&Version=2010-05-08&RoleName=nope&Description=x");
    s_expect_error(404, "NoSuchEntity", "The role with name nope cannot be found.");
}

/* ---- DeleteRole ---- */

Test(iam, delete_role_removes_role)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=DeleteRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert(s_has("<DeleteRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));
    cr_assert_not(s_has("DeleteRoleResult"));
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(404, "NoSuchEntity", "The role with name R cannot be found.");
}

Test(iam, delete_role_rejects_role_with_inline_policy)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "p", S_ALLOW("iam:GetRole"));
    s_admin("Action=DeleteRole&Version=2010-05-08&RoleName=R");
    s_expect_error(409, "DeleteConflict", "Cannot delete entity, must delete policies first.");
}

Test(iam, delete_role_rejects_role_with_attached_policy)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_ok();
    s_admin("Action=DeleteRole&Version=2010-05-08&RoleName=R");
    s_expect_error(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.");
}

Test(iam, delete_role_rejects_unknown_role)
{
    s_admin("Action=DeleteRole&Version=2010-05-08&RoleName=nope");
    s_expect_error(404, "NoSuchEntity", "The role with name nope cannot be found.");
}

/* ---- UpdateAssumeRolePolicy ---- */

Test(iam, update_assume_role_policy_replaces_trust_policy)
{
    const char *trust2 =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::999988887777:root\"},\"Action\":\"sts:AssumeRole\"}]}";
    char enc[4096], got[4096];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=R&PolicyDocument=%s",
            th_form_encode(trust2, enc, sizeof(enc)));
    s_expect_ok();
    cr_assert(s_has("<UpdateAssumeRolePolicyResponse "));
    cr_assert_not(s_has("UpdateAssumeRolePolicyResult"));
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert_str_eq(s_decoded("AssumeRolePolicyDocument", got, sizeof(got)), trust2);
}

Test(iam, update_assume_role_policy_rejects_invalid_json_and_keeps_old_policy)
{
    char got[4096];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=R&PolicyDocument=%%5B");
    s_expect_error(400, "MalformedPolicyDocument", "This policy contains invalid Json");
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    cr_assert_str_eq(s_decoded("AssumeRolePolicyDocument", got, sizeof(got)), S_TRUST_ACCOUNT);
}

Test(iam, update_assume_role_policy_requires_policy_document)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=R");
    s_expect_validation("1 validation error detected: Value null at 'policyDocument' failed to "
                        "satisfy constraint: Member must not be null");
}

Test(iam, update_assume_role_policy_rejects_unknown_role)
{
    char enc[4096];
    s_admin("Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=nope&PolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_error(404, "NoSuchEntity", "The role with name nope cannot be found.");
}

Test(iam, update_assume_role_policy_rejects_nonexistent_principal)
{
    char enc[4096];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=R&PolicyDocument=%s",
            th_form_encode("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                           "\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/nobody\"},"
                           "\"Action\":\"sts:AssumeRole\"}]}",
                           enc, sizeof(enc)));
    s_expect_error(
        400, "MalformedPolicyDocument",
        "Invalid principal in policy: \"AWS\":\"arn:aws:iam::111122223333:user/nobody\"");
}

Test(iam, update_assume_role_policy_rejects_policy_over_2048_characters)
{
    char doc[4096], enc[16384];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_sized_doc(doc, sizeof(doc), S_TRUST_PREFIX, S_TRUST_SUFFIX, 2049, 0);
    s_admin("Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=R&PolicyDocument=%s",
            th_form_encode(doc, enc, sizeof(enc)));
    s_expect_error(409, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048");
}

/* ---- TagRole ---- */

Test(iam, tag_role_adds_and_replaces_tags)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=TagRole&Version=2010-05-08&RoleName=R&Tags.member.1.Key=env"
            "&Tags.member.1.Value=dev&Tags.member.2.Key=team&Tags.member.2.Value=db");
    s_expect_ok();
    cr_assert(s_has("<TagRoleResponse "));
    cr_assert_not(s_has("TagRoleResult"));
    s_admin("Action=TagRole&Version=2010-05-08&RoleName=R&Tags.member.1.Key=env"
            "&Tags.member.1.Value=prod");
    s_expect_ok();
    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert(s_has("<Tags><member><Key>env</Key><Value>prod</Value></member>"
                    "<member><Key>team</Key><Value>db</Value></member></Tags>"));
}

Test(iam, tag_role_rejects_exceeding_50_tags)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    char *form = malloc(S_FORM_MAX);
    cr_assert_not_null(form);
    size_t n = (size_t)snprintf(form, S_FORM_MAX, "Action=TagRole&Version=2010-05-08&RoleName=R");
    for (int i = 1; i <= 50; i++) {
        n += (size_t)snprintf(form + n, S_FORM_MAX - n,
                              "&Tags.member.%d.Key=k%d&Tags.member.%d.Value=v", i, i, i);
    }
    struct th_creds admin;
    th_creds_admin(&admin);
    th_query(&s_t, "iam", &admin, form);
    free(form);
    s_expect_ok();
    /* Replacing an existing key stays within the quota; a 51st key does not. */
    s_admin("Action=TagRole&Version=2010-05-08&RoleName=R&Tags.member.1.Key=k1"
            "&Tags.member.1.Value=w");
    s_expect_ok();
    s_admin("Action=TagRole&Version=2010-05-08&RoleName=R&Tags.member.1.Key=k51"
            "&Tags.member.1.Value=v");
    s_expect_error(409, "LimitExceeded", "Cannot exceed quota for TagsPerRole: 50");
}

Test(iam, tag_role_rejects_duplicate_tag_keys)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=TagRole&Version=2010-05-08&RoleName=R&Tags.member.1.Key=a"
            "&Tags.member.1.Value=1&Tags.member.2.Key=A&Tags.member.2.Value=2");
    s_expect_error(400, "InvalidInput",
                   "Duplicate tag keys found. Please note that Tag keys are case insensitive.");
}

Test(iam, tag_role_requires_tags)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=TagRole&Version=2010-05-08&RoleName=R");
    s_expect_validation("1 validation error detected: Value null at 'tags' failed to satisfy "
                        "constraint: Member must not be null");
}

Test(iam, tag_role_rejects_tag_key_over_128_characters)
{
    char key[130], want[512];
    memset(key, 'k', 129);
    key[129] = '\0';
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=TagRole&Version=2010-05-08&RoleName=R&Tags.member.1.Key=%s"
            "&Tags.member.1.Value=v",
            key);
    snprintf(want, sizeof(want),
             "1 validation error detected: Value '%.120s' at 'tags.1.member.key' failed to "
             "satisfy constraint: Member must have length less than or equal to 128",
             key);
    s_expect_validation(want);
}

/* ---- Inline role policies ---- */

Test(iam, put_role_policy_then_get_role_policy_returns_url_encoded_document)
{
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                      "[\"kms:Encrypt\",\"kms:Decrypt\"],\"Resource\":\"arn:aws:kms:us-east-1:"
                      "111122223333:key/*\"}]}";
    char got[4096];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "kms-use", doc);
    s_admin("Action=GetRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=kms-use");
    s_expect_ok();
    cr_assert(s_has("<GetRolePolicyResult>"));
    s_expect_text("RoleName", "R");
    s_expect_text("PolicyName", "kms-use");
    cr_assert_str_eq(s_decoded("PolicyDocument", got, sizeof(got)), doc);
}

Test(iam, put_role_policy_replaces_policy_of_same_name)
{
    char got[4096];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "p", S_ALLOW("iam:GetRole"));
    s_put_role_policy("R", "p", S_ALLOW("iam:ListRoles"));
    s_admin("Action=ListRolePolicies&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert_eq(s_count("<member>"), 1);
    s_admin("Action=GetRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=p");
    cr_assert_str_eq(s_decoded("PolicyDocument", got, sizeof(got)), S_ALLOW("iam:ListRoles"));
}

Test(iam, put_role_policy_rejects_policy_with_principal)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    char enc[4096];
    s_admin("Action=PutRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=p&PolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_error(400, "MalformedPolicyDocument",
                   "Policy document should not specify a principal.");
}

Test(iam, put_role_policy_rejects_invalid_json)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=PutRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=p"
            "&PolicyDocument=not%%20json");
    s_expect_error(400, "MalformedPolicyDocument", "Syntax errors in policy.");
}

Test(iam, put_role_policy_reports_every_missing_parameter)
{
    s_admin("Action=PutRolePolicy&Version=2010-05-08");
    s_expect_validation("3 validation errors detected: Value null at 'roleName' failed to satisfy "
                        "constraint: Member must not be null; Value null at 'policyName' failed "
                        "to satisfy constraint: Member must not be null; Value null at "
                        "'policyDocument' failed to satisfy constraint: Member must not be null");
}

Test(iam, put_role_policy_rejects_policy_name_outside_pattern)
{
    char enc[4096];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=PutRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=a%%3Ab"
            "&PolicyDocument=%s",
            th_form_encode(S_ALLOW("iam:GetRole"), enc, sizeof(enc)));
    s_expect_validation("1 validation error detected: Value 'a:b' at 'policyName' failed to "
                        "satisfy constraint: Member must satisfy regular expression pattern: "
                        "[\\w+=,.@-]+");
}

Test(iam, put_role_policy_rejects_unknown_role)
{
    char enc[4096];
    s_admin("Action=PutRolePolicy&Version=2010-05-08&RoleName=nope&PolicyName=p"
            "&PolicyDocument=%s",
            th_form_encode(S_ALLOW("iam:GetRole"), enc, sizeof(enc)));
    s_expect_error(404, "NoSuchEntity", "The role with name nope cannot be found.");
}

Test(iam, put_role_policy_rejects_inline_policies_over_10240_characters_together)
{
    char *doc = malloc(8192);
    cr_assert_not_null(doc);
    s_create_role("R", S_TRUST_ACCOUNT);
    s_sized_doc(doc, 8192, S_IDENTITY_PREFIX, S_IDENTITY_SUFFIX, 6000, 200);
    s_put_role_policy("R", "big", doc);
    /* Replacing "big" with a policy of the same size stays within the quota. */
    s_put_role_policy("R", "big", doc);
    s_sized_doc(doc, 8192, S_IDENTITY_PREFIX, S_IDENTITY_SUFFIX, 4240, 200);
    s_put_role_policy("R", "second", doc);
    s_sized_doc(doc, 8192, S_IDENTITY_PREFIX, S_IDENTITY_SUFFIX, 4241, 0);
    char *enc = malloc(32768);
    cr_assert_not_null(enc);
    s_admin("Action=PutRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=second"
            "&PolicyDocument=%s",
            th_form_encode(doc, enc, 32768));
    free(doc);
    free(enc);
    s_expect_error(409, "LimitExceeded", "Maximum policy size of 10240 bytes exceeded for role R");
}

Test(iam, get_role_policy_rejects_unknown_policy)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=GetRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=nope");
    s_expect_error(404, "NoSuchEntity", "The role policy with name nope cannot be found.");
}

Test(iam, list_role_policies_pages_with_max_items_and_marker)
{
    char marker[64];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "p1", S_ALLOW("iam:GetRole"));
    s_put_role_policy("R", "p2", S_ALLOW("iam:GetRole"));
    s_put_role_policy("R", "p3", S_ALLOW("iam:GetRole"));
    s_admin("Action=ListRolePolicies&Version=2010-05-08&RoleName=R&MaxItems=2");
    s_expect_ok();
    cr_assert(s_has("<PolicyNames><member>p1</member><member>p2</member></PolicyNames>"));
    s_expect_text("IsTruncated", "true");
    s_text("Marker", marker, sizeof(marker));
    s_admin("Action=ListRolePolicies&Version=2010-05-08&RoleName=R&Marker=%s", marker);
    s_expect_ok();
    cr_assert(s_has("<PolicyNames><member>p3</member></PolicyNames>"));
    s_expect_text("IsTruncated", "false");
    cr_assert_not(s_has("<Marker>"));
}

Test(iam, list_role_policies_of_role_without_policies_is_empty)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=ListRolePolicies&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert(s_has("<PolicyNames></PolicyNames>"));
    s_expect_text("IsTruncated", "false");
}

Test(iam, delete_role_policy_removes_policy)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "p", S_ALLOW("iam:GetRole"));
    s_admin("Action=DeleteRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=p");
    s_expect_ok();
    cr_assert(s_has("<DeleteRolePolicyResponse "));
    cr_assert_not(s_has("DeleteRolePolicyResult"));
    s_admin("Action=GetRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=p");
    s_expect_error(404, "NoSuchEntity", "The role policy with name p cannot be found.");
    s_admin("Action=DeleteRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
}

Test(iam, delete_role_policy_rejects_unknown_policy)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=DeleteRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=nope");
    s_expect_error(404, "NoSuchEntity", "The role policy with name nope cannot be found.");
}

/* ---- Managed policies ---- */

Test(iam, create_policy_returns_policy)
{
    char enc[4096], id[64];
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=kms-use&Path=%%2Fcmek%%2F"
            "&Description=use%%20keys&PolicyDocument=%s",
            th_form_encode(S_ALLOW("kms:Decrypt"), enc, sizeof(enc)));
    s_expect_ok();
    cr_assert(s_has("<CreatePolicyResult>"));
    cr_assert(s_has("<Policy>"));
    s_expect_text("PolicyName", "kms-use");
    s_expect_unique_id(s_text("PolicyId", id, sizeof(id)), "ANPA");
    s_expect_text("Arn", "arn:aws:iam::111122223333:policy/cmek/kms-use");
    s_expect_text("Path", "/cmek/");
    s_expect_text("DefaultVersionId", "v1");
    s_expect_text("AttachmentCount", "0");
    s_expect_text("PermissionsBoundaryUsageCount", "0");
    s_expect_text("IsAttachable", "true");
    s_expect_text("Description", "use keys");
    s_expect_text("CreateDate", "2026-11-23T12:00:00Z");
    s_expect_text("UpdateDate", "2026-11-23T12:00:00Z");
}

Test(iam, create_policy_rejects_duplicate_name)
{
    char arn[256], enc[4096];
    s_create_policy("p", S_ALLOW("kms:Decrypt"), arn, sizeof(arn));
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=P&PolicyDocument=%s",
            th_form_encode(S_ALLOW("kms:Decrypt"), enc, sizeof(enc)));
    s_expect_error(409, "EntityAlreadyExists",
                   "A policy called P already exists. Duplicate names are not allowed.");
}

Test(iam, create_policy_rejects_policy_with_principal)
{
    char enc[4096];
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=p&PolicyDocument=%s",
            th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_error(400, "MalformedPolicyDocument",
                   "Policy document should not specify a principal.");
}

Test(iam, create_policy_rejects_path_outside_policy_path_pattern)
{
    char enc[4096];
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=p&Path=%%2Fa%%3Ab%%2F"
            "&PolicyDocument=%s",
            th_form_encode(S_ALLOW("kms:Decrypt"), enc, sizeof(enc)));
    s_expect_validation("1 validation error detected: Value '/a:b/' at 'path' failed to satisfy "
                        "constraint: Member must satisfy regular expression pattern: "
                        "((/[A-Za-z0-9\\.,\\+@=_-]+)*)/");
}

Test(iam, create_policy_rejects_policy_over_6144_characters)
{
    char *doc = malloc(8192);
    char *enc = malloc(32768);
    cr_assert(doc && enc);
    s_sized_doc(doc, 8192, S_IDENTITY_PREFIX, S_IDENTITY_SUFFIX, 6144, 500);
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=fits&PolicyDocument=%s",
            th_form_encode(doc, enc, 32768));
    s_expect_ok();
    s_sized_doc(doc, 8192, S_IDENTITY_PREFIX, S_IDENTITY_SUFFIX, 6145, 0);
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=too-big&PolicyDocument=%s",
            th_form_encode(doc, enc, 32768));
    free(doc);
    free(enc);
    s_expect_error(409, "LimitExceeded", "Cannot exceed quota for PolicySize: 6144");
}

Test(iam, create_policy_rejects_old_policy_language_version)
{
    char enc[4096];
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=old&PolicyDocument=%s",
            th_form_encode("{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                           "\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}]}",
                           enc, sizeof(enc)));
    s_expect_error(400, "MalformedPolicyDocument",
                   "Policy document must be version 2012-10-17 or greater.");
}

Test(iam, create_policy_reports_every_missing_parameter)
{
    s_admin("Action=CreatePolicy&Version=2010-05-08");
    s_expect_validation("2 validation errors detected: Value null at 'policyName' failed to "
                        "satisfy constraint: Member must not be null; Value null at "
                        "'policyDocument' failed to satisfy constraint: Member must not be null");
}

Test(iam, get_policy_returns_aws_managed_policy)
{
    s_admin("Action=GetPolicy&Version=2010-05-08"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_ok();
    s_expect_text("PolicyName", "AdministratorAccess");
    s_expect_text("PolicyId", "ANPAIWMBCKSKIEE64ZLYK");
    s_expect_text("Arn", "arn:aws:iam::aws:policy/AdministratorAccess");
    s_expect_text("AttachmentCount", "1"); /* the world's admin user */
    s_expect_text("Description", "Provides full access to AWS services and resources.");
    s_expect_text("CreateDate", "2015-02-06T18:39:46Z");
}

Test(iam, get_policy_counts_attachments)
{
    char arn[256], enc[512];
    s_create_policy("p", S_ALLOW("kms:Decrypt"), arn, sizeof(arn));
    s_create_role("R", S_TRUST_ACCOUNT);
    th_form_encode(arn, enc, sizeof(enc));
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R&PolicyArn=%s", enc);
    s_expect_ok();
    s_admin("Action=GetPolicy&Version=2010-05-08&PolicyArn=%s", enc);
    s_expect_ok();
    s_expect_text("AttachmentCount", "1");
}

Test(iam, get_policy_rejects_unknown_policy)
{
    s_admin("Action=GetPolicy&Version=2010-05-08"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3A111122223333%%3Apolicy%%2Fnope");
    s_expect_error(404, "NoSuchEntity",
                   "Policy arn:aws:iam::111122223333:policy/nope was not found.");
}

Test(iam, get_policy_rejects_arn_that_is_not_a_policy)
{
    s_admin("Action=GetPolicy&Version=2010-05-08"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3A111122223333%%3Arole%%2FR");
    s_expect_error(400, "InvalidInput", "ARN arn:aws:iam::111122223333:role/R is not valid.");
}

Test(iam, get_policy_rejects_short_arn)
{
    s_admin("Action=GetPolicy&Version=2010-05-08&PolicyArn=arn");
    s_expect_validation("1 validation error detected: Value 'arn' at 'policyArn' failed to "
                        "satisfy constraint: Member must have length greater than or equal to 20");
}

Test(iam, get_policy_matches_account_not_only_name)
{
    char arn[256], enc[512];
    s_create_policy("p", S_ALLOW("kms:Decrypt"), arn, sizeof(arn));
    s_admin("Action=GetPolicy&Version=2010-05-08&PolicyArn=%s",
            th_form_encode(arn, enc, sizeof(enc)));
    s_expect_ok();
    /* A policy of the same name in another account is another policy. */
    s_admin("Action=GetPolicy&Version=2010-05-08&PolicyArn=%s",
            th_form_encode("arn:aws:iam::999988887777:policy/p", enc, sizeof(enc)));
    s_expect_error(404, "NoSuchEntity", "Policy arn:aws:iam::999988887777:policy/p was not found.");
}

/* ---- Attached role policies ---- */

Test(iam, attach_role_policy_then_list_attached_role_policies)
{
    char arn[256], enc[512];
    s_create_policy("kms-use", S_ALLOW("kms:Decrypt"), arn, sizeof(arn));
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R&PolicyArn=%s",
            th_form_encode(arn, enc, sizeof(enc)));
    s_expect_ok();
    cr_assert(s_has("<AttachRolePolicyResponse "));
    cr_assert_not(s_has("AttachRolePolicyResult"));
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_ok();
    s_admin("Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert(s_has("<AttachedPolicies><member><PolicyName>kms-use</PolicyName><PolicyArn>"
                    "arn:aws:iam::111122223333:policy/kms-use</PolicyArn></member><member>"
                    "<PolicyName>AdministratorAccess</PolicyName><PolicyArn>arn:aws:iam::aws:"
                    "policy/AdministratorAccess</PolicyArn></member></AttachedPolicies>"));
    s_expect_text("IsTruncated", "false");
}

Test(iam, attach_role_policy_twice_attaches_once)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    for (int i = 0; i < 2; i++) {
        s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R"
                "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
        s_expect_ok();
    }
    s_admin("Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=R");
    cr_assert_eq(s_count("<member>"), 1);
}

Test(iam, attach_role_policy_rejects_eleventh_policy)
{
    char arn[256], enc[512], name[16];
    s_create_role("R", S_TRUST_ACCOUNT);
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        s_create_policy(name, S_ALLOW("kms:Decrypt"), arn, sizeof(arn));
        s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R&PolicyArn=%s",
                th_form_encode(arn, enc, sizeof(enc)));
        s_expect_ok();
    }
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_error(409, "LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10");
}

Test(iam, attach_role_policy_rejects_unknown_policy)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FNoSuchPolicy");
    s_expect_error(404, "NoSuchEntity",
                   "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not "
                   "attachable.");
}

Test(iam, attach_role_policy_rejects_unknown_role)
{
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=nope"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_error(404, "NoSuchEntity", "The role with name nope cannot be found.");
}

Test(iam, detach_role_policy_removes_attachment)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_ok();
    s_admin("Action=DetachRolePolicy&Version=2010-05-08&RoleName=R"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_ok();
    cr_assert(s_has("<DetachRolePolicyResponse "));
    cr_assert_not(s_has("DetachRolePolicyResult"));
    s_admin("Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert_eq(s_count("<member>"), 0);
    s_admin("Action=DeleteRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
}

Test(iam, detach_role_policy_rejects_policy_not_attached)
{
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=DetachRolePolicy&Version=2010-05-08&RoleName=R"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_error(404, "NoSuchEntity",
                   "Policy arn:aws:iam::aws:policy/AdministratorAccess was not found.");
}

Test(iam, list_attached_role_policies_pages_with_max_items_and_marker)
{
    char arn[256], enc[512], name[16], marker[64];
    s_create_role("R", S_TRUST_ACCOUNT);
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        s_create_policy(name, S_ALLOW("kms:Decrypt"), arn, sizeof(arn));
        s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R&PolicyArn=%s",
                th_form_encode(arn, enc, sizeof(enc)));
        s_expect_ok();
    }
    s_admin("Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=R&MaxItems=2");
    s_expect_ok();
    cr_assert_eq(s_count("<member>"), 2);
    s_expect_text("IsTruncated", "true");
    s_text("Marker", marker, sizeof(marker));
    s_admin("Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=R&Marker=%s", marker);
    s_expect_ok();
    cr_assert_eq(s_count("<member>"), 1);
    cr_assert(s_has("<PolicyName>p2</PolicyName>"));
    s_expect_text("IsTruncated", "false");
}

Test(iam, list_attached_role_policies_filters_by_path_prefix)
{
    char arn[256], enc[4096];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_admin("Action=CreatePolicy&Version=2010-05-08&PolicyName=scoped&Path=%%2Fcmek%%2F"
            "&PolicyDocument=%s",
            th_form_encode(S_ALLOW("kms:Decrypt"), enc, sizeof(enc)));
    s_expect_ok();
    s_text("Arn", arn, sizeof(arn));
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R&PolicyArn=%s",
            th_form_encode(arn, enc, sizeof(enc)));
    s_expect_ok();
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R"
            "&PolicyArn=arn%%3Aaws%%3Aiam%%3A%%3Aaws%%3Apolicy%%2FAdministratorAccess");
    s_expect_ok();
    s_admin("Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=R"
            "&PathPrefix=%%2Fcmek%%2F");
    s_expect_ok();
    cr_assert_eq(s_count("<member>"), 1);
    cr_assert(s_has("<PolicyName>scoped</PolicyName>"));
}

Test(iam, list_attached_role_policies_reports_name_and_max_items_together)
{
    s_admin("Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=a%%2Fb&MaxItems=0");
    s_expect_validation("2 validation errors detected: Value 'a/b' at 'roleName' failed to "
                        "satisfy constraint: Member must satisfy regular expression pattern: "
                        "[\\w+=,.@-]+; Value '0' at 'maxItems' failed to satisfy constraint: "
                        "Member must have value greater than or equal to 1");
}

/* ---- Users ---- */

Test(iam, create_user_returns_user)
{
    char id[64];
    s_admin("Action=CreateUser&Version=2010-05-08&UserName=u1&Path=%%2Fteam%%2F"
            "&Tags.member.1.Key=k&Tags.member.1.Value=v");
    s_expect_ok();
    cr_assert(s_has("<CreateUserResult>"));
    cr_assert(s_has("<User>"));
    s_expect_text("Path", "/team/");
    s_expect_text("UserName", "u1");
    s_expect_unique_id(s_text("UserId", id, sizeof(id)), "AIDA");
    s_expect_text("Arn", "arn:aws:iam::111122223333:user/team/u1");
    s_expect_text("CreateDate", "2026-11-23T12:00:00Z");
    cr_assert(s_has("<Tags><member><Key>k</Key><Value>v</Value></member></Tags>"));
}

Test(iam, create_user_rejects_duplicate_name_ignoring_case)
{
    char id[64];
    s_create_user("u1", id, sizeof(id));
    s_admin("Action=CreateUser&Version=2010-05-08&UserName=U1");
    s_expect_error(409, "EntityAlreadyExists", "User with name U1 already exists.");
}

Test(iam, create_user_rejects_missing_name)
{
    s_admin("Action=CreateUser&Version=2010-05-08");
    s_expect_validation("1 validation error detected: Value null at 'userName' failed to satisfy "
                        "constraint: Member must not be null");
}

Test(iam, create_user_rejects_name_over_64_characters)
{
    char name[66], want[512];
    memset(name, 'u', 65);
    name[65] = '\0';
    s_admin("Action=CreateUser&Version=2010-05-08&UserName=%s", name);
    snprintf(want, sizeof(want),
             "1 validation error detected: Value '%s' at 'userName' failed to satisfy "
             "constraint: Member must have length less than or equal to 64",
             name);
    s_expect_validation(want);
}

Test(iam, get_user_without_name_returns_caller)
{
    s_admin("Action=GetUser&Version=2010-05-08");
    s_expect_ok();
    cr_assert(s_has("<GetUserResult>"));
    cr_assert(s_has("<User>"));
    s_expect_text("UserName", "admin");
    s_expect_text("UserId", "AIDAQCUSTOMERADMIN7XA");
    s_expect_text("Arn", "arn:aws:iam::111122223333:user/admin");
    s_expect_text("Path", "/");
    s_expect_text("CreateDate", "2026-01-01T00:00:00Z");
}

Test(iam, get_user_returns_named_user)
{
    char id[64];
    s_create_user("u1", id, sizeof(id));
    s_admin("Action=GetUser&Version=2010-05-08&UserName=u1");
    s_expect_ok();
    s_expect_text("UserName", "u1");
    s_expect_text("UserId", id);
}

Test(iam, get_user_rejects_unknown_user)
{
    s_admin("Action=GetUser&Version=2010-05-08&UserName=nobody");
    s_expect_error(404, "NoSuchEntity", "The user with name nobody cannot be found.");
}

Test(iam, get_user_without_name_as_role_session_is_rejected)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "p", S_ALLOW("iam:*"));
    s_assume_as_admin("R", "s1", &session);
    s_as(&session, "Action=GetUser&Version=2010-05-08");
    s_expect_validation("Must specify userName when calling with non-User credentials");
}

/* ---- Access keys ---- */

Test(iam, create_access_key_returns_working_key)
{
    char id[64];
    s_create_user("u1", id, sizeof(id));
    s_admin("Action=CreateAccessKey&Version=2010-05-08&UserName=u1");
    s_expect_ok();
    cr_assert(s_has("<CreateAccessKeyResult>"));
    cr_assert(s_has("<AccessKey>"));
    s_expect_text("UserName", "u1");
    s_expect_text("Status", "Active");
    s_expect_text("CreateDate", "2026-11-23T12:00:00Z");
    struct th_creds key;
    memset(&key, 0, sizeof(key));
    s_text("AccessKeyId", key.akid, sizeof(key.akid));
    s_text("SecretAccessKey", key.secret, sizeof(key.secret));
    cr_assert_eq(strlen(key.akid), 20);
    cr_assert_eq(strncmp(key.akid, "AKIA", 4), 0);
    cr_assert(s_all_of(key.akid + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), "%s", key.akid);
    cr_assert_eq(strlen(key.secret), 40);
    /* The new key signs requests as u1 at once. */
    cr_assert_eq(th_query(&s_t, "sts", &key, "Action=GetCallerIdentity&Version=2011-06-15"), 200);
    s_expect_text("Arn", "arn:aws:iam::111122223333:user/u1");
    s_expect_text("UserId", id);
}

Test(iam, create_access_key_without_name_is_for_caller)
{
    s_admin("Action=CreateAccessKey&Version=2010-05-08");
    s_expect_ok();
    s_expect_text("UserName", "admin");
}

Test(iam, create_access_key_rejects_third_key)
{
    char id[64];
    struct th_creds k;
    s_create_user("u1", id, sizeof(id));
    s_create_access_key("u1", &k);
    s_create_access_key("u1", &k);
    s_admin("Action=CreateAccessKey&Version=2010-05-08&UserName=u1");
    s_expect_error(409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2");
}

Test(iam, create_access_key_rejects_unknown_user)
{
    s_admin("Action=CreateAccessKey&Version=2010-05-08&UserName=nobody");
    s_expect_error(404, "NoSuchEntity", "The user with name nobody cannot be found.");
}

Test(iam, list_access_keys_lists_metadata_without_secrets)
{
    char id[64];
    struct th_creds k1, k2;
    s_create_user("u1", id, sizeof(id));
    s_create_access_key("u1", &k1);
    s_create_access_key("u1", &k2);
    s_admin("Action=ListAccessKeys&Version=2010-05-08&UserName=u1");
    s_expect_ok();
    cr_assert(s_has("<ListAccessKeysResult>"));
    cr_assert(s_has("<AccessKeyMetadata><member>"));
    cr_assert_eq(s_count("<member>"), 2);
    cr_assert_eq(s_count("<UserName>u1</UserName>"), 2);
    cr_assert_eq(s_count("<Status>Active</Status>"), 2);
    cr_assert(s_has(k1.akid));
    cr_assert(s_has(k2.akid));
    cr_assert_not(s_has("SecretAccessKey"));
    cr_assert_not(s_has(k1.secret));
    s_expect_text("IsTruncated", "false");
}

Test(iam, list_access_keys_without_name_lists_callers_keys)
{
    s_admin("Action=ListAccessKeys&Version=2010-05-08");
    s_expect_ok();
    cr_assert_eq(s_count("<member>"), 1);
    s_expect_text("AccessKeyId", "AKIAIOSFODNN7EXAMPLE");
    s_expect_text("CreateDate", "2026-01-01T00:00:00Z");
}

Test(iam, list_access_keys_pages_with_max_items)
{
    char id[64], marker[64];
    struct th_creds k1, k2;
    s_create_user("u1", id, sizeof(id));
    s_create_access_key("u1", &k1);
    s_create_access_key("u1", &k2);
    s_admin("Action=ListAccessKeys&Version=2010-05-08&UserName=u1&MaxItems=1");
    s_expect_ok();
    cr_assert_eq(s_count("<member>"), 1);
    s_expect_text("AccessKeyId", k1.akid);
    s_expect_text("IsTruncated", "true");
    s_text("Marker", marker, sizeof(marker));
    s_admin("Action=ListAccessKeys&Version=2010-05-08&UserName=u1&MaxItems=1&Marker=%s", marker);
    s_expect_ok();
    s_expect_text("AccessKeyId", k2.akid);
    s_expect_text("IsTruncated", "false");
}

Test(iam, delete_access_key_removes_key)
{
    char id[64];
    struct th_creds k;
    s_create_user("u1", id, sizeof(id));
    s_create_access_key("u1", &k);
    s_admin("Action=DeleteAccessKey&Version=2010-05-08&UserName=u1&AccessKeyId=%s", k.akid);
    s_expect_ok();
    cr_assert(s_has("<DeleteAccessKeyResponse "));
    cr_assert_not(s_has("DeleteAccessKeyResult"));
    cr_assert_eq(th_query(&s_t, "sts", &k, "Action=GetCallerIdentity&Version=2011-06-15"), 403);
    s_expect_error(403, "InvalidClientTokenId",
                   "The security token included in the request is invalid.");
}

Test(iam, delete_access_key_rejects_unknown_key)
{
    s_admin("Action=DeleteAccessKey&Version=2010-05-08&AccessKeyId=AKIAAAAAAAAAAAAAAAAA");
    s_expect_error(404, "NoSuchEntity",
                   "The Access Key with id AKIAAAAAAAAAAAAAAAAA cannot be found.");
}

Test(iam, delete_access_key_rejects_other_users_key)
{
    char id[64];
    struct th_creds k;
    s_create_user("u1", id, sizeof(id));
    s_create_access_key("u1", &k);
    /* Without UserName the key is looked for among the caller's (admin's) keys. */
    s_admin("Action=DeleteAccessKey&Version=2010-05-08&AccessKeyId=%s", k.akid);
    char want[256];
    snprintf(want, sizeof(want), "The Access Key with id %s cannot be found.", k.akid);
    s_expect_error(404, "NoSuchEntity", want);
}

Test(iam, delete_access_key_rejects_short_and_malformed_id)
{
    s_admin("Action=DeleteAccessKey&Version=2010-05-08&AccessKeyId=AKIA-SHORT");
    s_expect_validation("2 validation errors detected: Value 'AKIA-SHORT' at 'accessKeyId' failed "
                        "to satisfy constraint: Member must have length greater than or equal to "
                        "16; Value 'AKIA-SHORT' at 'accessKeyId' failed to satisfy constraint: "
                        "Member must satisfy regular expression pattern: [\\w]+");
}

Test(iam, delete_access_key_requires_access_key_id)
{
    s_admin("Action=DeleteAccessKey&Version=2010-05-08");
    s_expect_validation("1 validation error detected: Value null at 'accessKeyId' failed to "
                        "satisfy constraint: Member must not be null");
}

/* ---- Authorization of role sessions ---- */

#define S_DENIED_GET_ROLE                                                                          \
    "User: arn:aws:sts::111122223333:assumed-role/R/s1 is not authorized to perform: iam:GetRole " \
    "on resource: arn:aws:iam::111122223333:role/R because no identity-based policy allows the "   \
    "iam:GetRole action"

Test(iam, role_session_without_iam_permissions_is_denied)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT);
    s_assume_as_admin("R", "s1", &session);
    s_as(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(403, "AccessDenied", S_DENIED_GET_ROLE);
}

Test(iam, unauthorized_caller_learns_nothing_about_existence)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT);
    s_assume_as_admin("R", "s1", &session);
    s_as(&session, "Action=GetRole&Version=2010-05-08&RoleName=ghost");
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:sts::111122223333:assumed-role/R/s1 is not authorized to "
                   "perform: iam:GetRole on resource: arn:aws:iam::111122223333:role/ghost "
                   "because no identity-based policy allows the iam:GetRole action");
}

Test(iam, role_policy_changes_apply_to_existing_session_at_once)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT);
    s_assume_as_admin("R", "s1", &session);
    s_as(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(403, "AccessDenied", S_DENIED_GET_ROLE);

    s_put_role_policy("R", "get-role", S_ALLOW("iam:GetRole"));
    s_as(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    s_expect_text("RoleName", "R");

    s_admin("Action=DeleteRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=get-role");
    s_expect_ok();
    s_as(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(403, "AccessDenied", S_DENIED_GET_ROLE);
}

Test(iam, attached_policy_changes_apply_to_existing_session_at_once)
{
    char arn[256], enc[512];
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT);
    s_create_policy("get-role", S_ALLOW("iam:GetRole"), arn, sizeof(arn));
    th_form_encode(arn, enc, sizeof(enc));
    s_assume_as_admin("R", "s1", &session);
    s_admin("Action=AttachRolePolicy&Version=2010-05-08&RoleName=R&PolicyArn=%s", enc);
    s_expect_ok();
    s_as(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    s_admin("Action=DetachRolePolicy&Version=2010-05-08&RoleName=R&PolicyArn=%s", enc);
    s_expect_ok();
    s_as(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(403, "AccessDenied", S_DENIED_GET_ROLE);
}

Test(iam, explicit_deny_in_role_policy_wins_over_allow)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "all", S_ALLOW("iam:*"));
    s_put_role_policy("R", "no-get",
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\","
                      "\"Action\":\"iam:GetRole\",\"Resource\":\"*\"}]}");
    s_assume_as_admin("R", "s1", &session);
    s_as(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:sts::111122223333:assumed-role/R/s1 is not authorized to "
                   "perform: iam:GetRole on resource: arn:aws:iam::111122223333:role/R with an "
                   "explicit deny in an identity-based policy");
    s_as(&session, "Action=ListRolePolicies&Version=2010-05-08&RoleName=R");
    s_expect_ok();
}

Test(iam, old_session_is_denied_after_role_is_recreated)
{
    struct th_creds old_session, new_session;
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "get-role", S_ALLOW("iam:GetRole"));
    s_assume_as_admin("R", "s1", &old_session);
    s_as(&old_session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();

    s_admin("Action=DeleteRolePolicy&Version=2010-05-08&RoleName=R&PolicyName=get-role");
    s_expect_ok();
    s_admin("Action=DeleteRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "get-role", S_ALLOW("iam:GetRole"));

    /* The old session belongs to the old role's unique id, not to the name. */
    s_as(&old_session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(403, "AccessDenied", S_DENIED_GET_ROLE);
    s_assume_as_admin("R", "s1", &new_session);
    s_as(&new_session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
}

Test(iam, trust_policy_keeps_unique_id_of_recreated_user)
{
    char old_id[64], new_id[64], enc[4096], got[4096], want[4096];
    struct th_creds old_key, new_key, session;
    const char *trust =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
        "\"arn:aws:iam::111122223333:user/u1\"},\"Action\":\"sts:AssumeRole\"}]}";
    s_create_user("u1", old_id, sizeof(old_id));
    s_create_access_key("u1", &old_key);
    s_admin("Action=CreateRole&Version=2010-05-08&RoleName=R&AssumeRolePolicyDocument=%s",
            th_form_encode(trust, enc, sizeof(enc)));
    s_expect_ok();
    cr_assert_str_eq(s_decoded("AssumeRolePolicyDocument", got, sizeof(got)), trust);
    /* The trust policy names u1 itself: no identity policy is needed in the same account. */
    cr_assert_eq(
        th_assume_role(&s_t, &old_key, "arn:aws:iam::111122223333:role/R", "s1", NULL, &session),
        200, "%s", cmek_buf_cstr(&s_t.body));

    s_delete_user_from_model("u1");
    s_create_user("u1", new_id, sizeof(new_id));
    cr_assert_str_neq(new_id, old_id);
    s_create_access_key("u1", &new_key);

    s_admin("Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    snprintf(want, sizeof(want),
             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{"
             "\"AWS\":\"%s\"},\"Action\":\"sts:AssumeRole\"}]}",
             old_id);
    cr_assert_str_eq(s_decoded("AssumeRolePolicyDocument", got, sizeof(got)), want);

    cr_assert_eq(
        th_assume_role(&s_t, &new_key, "arn:aws:iam::111122223333:role/R", "s1", NULL, &session),
        403);
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:iam::111122223333:user/u1 is not authorized to perform: "
                   "sts:AssumeRole on resource: arn:aws:iam::111122223333:role/R");
}

Test(iam, role_session_with_iam_permissions_manages_roles)
{
    struct th_creds session;
    char enc[4096];
    s_create_role("R", S_TRUST_ACCOUNT);
    s_put_role_policy("R", "all", S_ALLOW("iam:*"));
    s_assume_as_admin("R", "s1", &session);
    s_as(&session, "Action=CreateRole&Version=2010-05-08&RoleName=R2&AssumeRolePolicyDocument=%s",
         th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_expect_ok();
    s_expect_text("Arn", "arn:aws:iam::111122223333:role/R2");
    s_as(&session, "Action=ListRoles&Version=2010-05-08");
    s_expect_ok();
    cr_assert_eq(s_count("<RoleName>"), 2);
}
