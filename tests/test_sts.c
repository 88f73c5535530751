/* test_sts.c: the emulated STS (Query protocol, 2011-06-15): AssumeRole's success shape,
 * trust-policy evaluation (ExternalId, same- and cross-account callers, explicit Deny),
 * input validation with AWS's texts, session credentials (GetCallerIdentity, expiry, wrong
 * tokens), and session policies.
 *
 * Each test gets a fresh emulator built from fixtures/world.json: 111122223333 holds user
 * admin (AdministratorAccess); 999988887777 holds cockroach-cloud-cmek, whose only policy
 * allows sts:AssumeRole on every role of every account. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store.h"
#include "test_common.h"

#define S_FORM_MAX    (16u * 1024u)
#define S_EXTERNAL_ID "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"

/* Trust policy: anyone in 111122223333 whose identity policies allow sts:AssumeRole. */
#define S_TRUST_ACCOUNT                                                                            \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\"}]}"
/* The CMEK role's trust policy: CockroachDB Cloud's account, with the organization's id as
 * the external id. */
#define S_TRUST_CMEK                                                                               \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"arn:aws:iam::999988887777:root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{"            \
    "\"StringEquals\":{\"sts:ExternalId\":\"" S_EXTERNAL_ID "\"}}}]}"
#define S_ALLOW(action)                                                                            \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"" action        \
    "\",\"Resource\":\"*\"}]}"

#define S_CMEK_ROLE_ARN "arn:aws:iam::111122223333:role/cmek-role"
#define S_CRDB_DENIED_CMEK                                                                         \
    "User: arn:aws:iam::999988887777:user/cockroach-cloud-cmek is not authorized to perform: "     \
    "sts:AssumeRole on resource: " S_CMEK_ROLE_ARN

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

TestSuite(sts, .init = s_setup, .fini = s_teardown);

/* ---- Helpers ---- */

__attribute__((format(printf, 3, 0))) static int
s_vsend(const char *service, const struct th_creds *c, const char *fmt, va_list ap)
{
    return th_vqueryf(&s_t, service, c, fmt, ap);
}

/* A signed STS request as c; the form is a printf format. */
__attribute__((format(printf, 2, 3))) static int s_sts(const struct th_creds *c, const char *fmt,
                                                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = s_vsend("sts", c, fmt, ap);
    va_end(ap);
    return status;
}

__attribute__((format(printf, 2, 3))) static int s_iam(const struct th_creds *c, const char *fmt,
                                                       ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = s_vsend("iam", c, fmt, ap);
    va_end(ap);
    return status;
}

/* A signed IAM request as the customer's admin (AdministratorAccess). */
__attribute__((format(printf, 1, 2))) static int s_iam_admin(const char *fmt, ...)
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

static bool s_has(const char *needle)
{
    return strstr(cmek_buf_cstr(&s_t.body), needle) != NULL;
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

/* Creates role name with trust policy trust and extra form parameters (may be ""); its
 * RoleId into id. */
static void s_create_role(const char *name, const char *trust, const char *extra, char *id,
                          size_t cap)
{
    char enc[4096];
    s_iam_admin("Action=CreateRole&Version=2010-05-08&RoleName=%s%s&AssumeRolePolicyDocument=%s",
                name, extra, th_form_encode(trust, enc, sizeof(enc)));
    s_expect_ok();
    if (id != NULL) {
        s_text("RoleId", id, cap);
    }
}

static void s_put_role_policy(const char *role, const char *pname, const char *doc)
{
    char enc[4096];
    s_iam_admin("Action=PutRolePolicy&Version=2010-05-08&RoleName=%s&PolicyName=%s"
                "&PolicyDocument=%s",
                role, pname, th_form_encode(doc, enc, sizeof(enc)));
    s_expect_ok();
}

/* Creates user name in 111122223333 without policies, and an access key for it. */
static void s_create_user_with_key(const char *name, struct th_creds *out)
{
    s_iam_admin("Action=CreateUser&Version=2010-05-08&UserName=%s", name);
    s_expect_ok();
    s_iam_admin("Action=CreateAccessKey&Version=2010-05-08&UserName=%s", name);
    s_expect_ok();
    memset(out, 0, sizeof(*out));
    s_text("AccessKeyId", out->akid, sizeof(out->akid));
    s_text("SecretAccessKey", out->secret, sizeof(out->secret));
}

static int s_assume(const struct th_creds *c, const char *role_arn, const char *session,
                    const char *external_id, struct th_creds *out)
{
    return th_assume_role(&s_t, c, role_arn, session, external_id, out);
}

static void s_admin_assumes(const char *role_arn, const char *session, struct th_creds *out)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    cr_assert_eq(s_assume(&admin, role_arn, session, NULL, out), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
}

/* AssumeRole as the admin with extra form parameters ("&DurationSeconds=900"). */
static int s_admin_assume_with(const char *role_arn, const char *extra)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    char arn[512];
    return s_sts(&admin, "Action=AssumeRole&Version=2011-06-15&RoleArn=%s%s",
                 th_form_encode(role_arn, arn, sizeof(arn)), extra);
}

/* ---- AssumeRole: success ---- */

Test(sts, assume_role_returns_session_credentials)
{
    char role_id[64], got[256], want[256];
    s_create_role("app-role", S_TRUST_ACCOUNT, "", role_id, sizeof(role_id));
    cr_assert_eq(s_admin_assume_with("arn:aws:iam::111122223333:role/app-role",
                                     "&RoleSessionName=app-session"),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert(s_has("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
    cr_assert(s_has("<AssumeRoleResult>"));
    s_text("AccessKeyId", got, sizeof(got));
    cr_assert_eq(strlen(got), 20, "%s", got);
    cr_assert_eq(strncmp(got, "ASIA", 4), 0, "%s", got);
    cr_assert(s_all_of(got + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), "%s", got);
    s_text("SecretAccessKey", got, sizeof(got));
    cr_assert_eq(strlen(got), 40, "%s", got);
    cr_assert(s_all_of(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"));
    s_text("SessionToken", got, sizeof(got));
    cr_assert_gt(strlen(got), 100, "%s", got);
    s_expect_text("Expiration", "2026-11-23T13:00:00Z");
    s_expect_text("Arn", "arn:aws:sts::111122223333:assumed-role/app-role/app-session");
    snprintf(want, sizeof(want), "%s:app-session", role_id);
    s_expect_text("AssumedRoleId", want);
    cr_assert_not(s_has("<PackedPolicySize>"));
    s_expect_text("RequestId", "00000000-0000-4000-8000-000000000000");
}

Test(sts, assume_role_session_arn_leaves_out_role_path)
{
    s_create_role("R", S_TRUST_ACCOUNT, "&Path=%2Fteam%2Fdb%2F", NULL, 0);
    cr_assert_eq(
        s_admin_assume_with("arn:aws:iam::111122223333:role/team/db/R", "&RoleSessionName=s1"), 200,
        "%s", cmek_buf_cstr(&s_t.body));
    s_expect_text("Arn", "arn:aws:sts::111122223333:assumed-role/R/s1");
}

Test(sts, assume_role_honors_duration_seconds)
{
    s_create_role("R", S_TRUST_ACCOUNT, "&MaxSessionDuration=43200", NULL, 0);
    cr_assert_eq(s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                                     "&RoleSessionName=s1&DurationSeconds=900"),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    s_expect_text("Expiration", "2026-11-23T12:15:00Z");
    cr_assert_eq(s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                                     "&RoleSessionName=s1&DurationSeconds=43200"),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    s_expect_text("Expiration", "2026-11-24T00:00:00Z");
}

Test(sts, assume_role_accepts_every_session_name_character)
{
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    cr_assert_eq(s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                                     "&RoleSessionName=a_Z9%2B%3D%2C.%40-x"),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    s_expect_text("Arn", "arn:aws:sts::111122223333:assumed-role/R/a_Z9+=,.@-x");
}

Test(sts, assume_role_echoes_source_identity)
{
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    cr_assert_eq(s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                                     "&RoleSessionName=s1&SourceIdentity=Alice"),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    s_expect_text("SourceIdentity", "Alice");
}

/* ---- AssumeRole: the CMEK trust policy ---- */

Test(sts, cmek_trust_policy_denies_call_without_external_id)
{
    struct th_creds crdb, session;
    th_creds_crdb(&crdb);
    s_create_role("cmek-role", S_TRUST_CMEK, "", NULL, 0);
    cr_assert_eq(s_assume(&crdb, S_CMEK_ROLE_ARN, "crdb-cmek", NULL, &session), 403);
    s_expect_error(403, "AccessDenied", S_CRDB_DENIED_CMEK);
}

Test(sts, cmek_trust_policy_denies_wrong_external_id)
{
    struct th_creds crdb, session;
    th_creds_crdb(&crdb);
    s_create_role("cmek-role", S_TRUST_CMEK, "", NULL, 0);
    cr_assert_eq(s_assume(&crdb, S_CMEK_ROLE_ARN, "crdb-cmek",
                          "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a62", &session),
                 403);
    s_expect_error(403, "AccessDenied", S_CRDB_DENIED_CMEK);
    /* StringEquals is case-sensitive. */
    cr_assert_eq(s_assume(&crdb, S_CMEK_ROLE_ARN, "crdb-cmek",
                          "9D7B6C1E-4F2A-4B8E-9A35-2F1C0E8D7A61", &session),
                 403);
    s_expect_error(403, "AccessDenied", S_CRDB_DENIED_CMEK);
}

Test(sts, cmek_trust_policy_allows_matching_external_id)
{
    struct th_creds crdb, session;
    char role_id[64], want[128];
    th_creds_crdb(&crdb);
    s_create_role("cmek-role", S_TRUST_CMEK, "", role_id, sizeof(role_id));
    cr_assert_eq(s_assume(&crdb, S_CMEK_ROLE_ARN, "crdb-cmek", S_EXTERNAL_ID, &session), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    s_expect_text("Arn", "arn:aws:sts::111122223333:assumed-role/cmek-role/crdb-cmek");
    cr_assert_eq(s_sts(&session, "Action=GetCallerIdentity&Version=2011-06-15"), 200);
    snprintf(want, sizeof(want), "%s:crdb-cmek", role_id);
    s_expect_text("UserId", want);
    s_expect_text("Account", "111122223333");
}

Test(sts, assume_role_denies_nonexistent_role_like_a_trust_denial)
{
    struct th_creds crdb, session;
    th_creds_crdb(&crdb);
    cr_assert_eq(s_assume(&crdb, S_CMEK_ROLE_ARN, "crdb-cmek", S_EXTERNAL_ID, &session), 403);
    s_expect_error(403, "AccessDenied", S_CRDB_DENIED_CMEK);
}

Test(sts, assume_role_denies_arn_with_wrong_path)
{
    struct th_creds admin, session;
    th_creds_admin(&admin);
    s_create_role("R", S_TRUST_ACCOUNT, "&Path=%2Fteam%2F", NULL, 0);
    cr_assert_eq(s_assume(&admin, "arn:aws:iam::111122223333:role/R", "s1", NULL, &session), 403);
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: "
                   "sts:AssumeRole on resource: arn:aws:iam::111122223333:role/R");
}

Test(sts, assume_role_denies_cross_account_caller_not_in_trust_policy)
{
    struct th_creds crdb, session;
    th_creds_crdb(&crdb);
    s_create_role("cmek-role", S_TRUST_ACCOUNT, "", NULL, 0);
    cr_assert_eq(s_assume(&crdb, S_CMEK_ROLE_ARN, "crdb-cmek", NULL, &session), 403);
    s_expect_error(403, "AccessDenied", S_CRDB_DENIED_CMEK);
}

Test(sts, assume_role_ignores_external_id_the_trust_policy_does_not_check)
{
    struct th_creds admin, session;
    th_creds_admin(&admin);
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    cr_assert_eq(s_assume(&admin, "arn:aws:iam::111122223333:role/R", "s1", "unused-id", &session),
                 200, "%s", cmek_buf_cstr(&s_t.body));
}

/* ---- AssumeRole: same-account callers ---- */

Test(sts, assume_role_denies_caller_whose_identity_policy_does_not_allow_it)
{
    struct th_creds u1, session;
    s_create_user_with_key("u1", &u1);
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    cr_assert_eq(s_assume(&u1, "arn:aws:iam::111122223333:role/R", "s1", NULL, &session), 403);
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:iam::111122223333:user/u1 is not authorized to perform: "
                   "sts:AssumeRole on resource: arn:aws:iam::111122223333:role/R");
}

Test(sts, assume_role_allows_user_named_in_trust_policy_without_identity_policy)
{
    struct th_creds u1, session;
    s_create_user_with_key("u1", &u1);
    s_create_role(
        "R",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
        "{\"AWS\":\"arn:aws:iam::111122223333:user/u1\"},\"Action\":\"sts:AssumeRole\"}]}",
        "", NULL, 0);
    cr_assert_eq(s_assume(&u1, "arn:aws:iam::111122223333:role/R", "s1", NULL, &session), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
}

Test(sts, assume_role_trust_policy_naming_bare_account_id_delegates_to_iam)
{
    struct th_creds admin, u1, session;
    th_creds_admin(&admin);
    s_create_user_with_key("u1", &u1);
    s_create_role("R",
                  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                  "{\"AWS\":\"111122223333\"},\"Action\":\"sts:AssumeRole\"}]}",
                  "", NULL, 0);
    cr_assert_eq(s_assume(&admin, "arn:aws:iam::111122223333:role/R", "s1", NULL, &session), 200,
                 "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(s_assume(&u1, "arn:aws:iam::111122223333:role/R", "s1", NULL, &session), 403);
}

Test(sts, assume_role_allows_session_of_role_named_in_trust_policy)
{
    struct th_creds first, second;
    s_create_role("first", S_TRUST_ACCOUNT, "", NULL, 0);
    s_create_role(
        "second",
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
        "{\"AWS\":\"arn:aws:iam::111122223333:role/first\"},\"Action\":\"sts:AssumeRole\"}]}",
        "", NULL, 0);
    s_admin_assumes("arn:aws:iam::111122223333:role/first", "s1", &first);
    /* "first" has no identity policy: naming its role in the trust policy is enough. */
    cr_assert_eq(s_assume(&first, "arn:aws:iam::111122223333:role/second", "s2", NULL, &second),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    cr_assert_eq(s_sts(&second, "Action=GetCallerIdentity&Version=2011-06-15"), 200);
    s_expect_text("Arn", "arn:aws:sts::111122223333:assumed-role/second/s2");
}

Test(sts, assume_role_explicit_deny_in_trust_policy_wins)
{
    struct th_creds admin, session;
    th_creds_admin(&admin);
    s_create_role("R",
                  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                  "{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\"},"
                  "{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/"
                  "admin\"},\"Action\":\"sts:AssumeRole\"}]}",
                  "", NULL, 0);
    cr_assert_eq(s_assume(&admin, "arn:aws:iam::111122223333:role/R", "s1", NULL, &session), 403);
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: "
                   "sts:AssumeRole on resource: arn:aws:iam::111122223333:role/R");
}

Test(sts, assume_role_trust_condition_on_session_name)
{
    struct th_creds admin, session;
    th_creds_admin(&admin);
    s_create_role("R",
                  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                  "{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\","
                  "\"Condition\":{\"StringLike\":{\"sts:RoleSessionName\":\"ops-*\"}}}]}",
                  "", NULL, 0);
    cr_assert_eq(s_assume(&admin, "arn:aws:iam::111122223333:role/R", "dev-1", NULL, &session),
                 403);
    cr_assert_eq(s_assume(&admin, "arn:aws:iam::111122223333:role/R", "ops-1", NULL, &session), 200,
                 "%s", cmek_buf_cstr(&s_t.body));
}

/* ---- AssumeRole: DurationSeconds ---- */

Test(sts, assume_role_rejects_duration_below_900)
{
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                        "&RoleSessionName=s1&DurationSeconds=899");
    s_expect_validation("1 validation error detected: Value '899' at 'durationSeconds' failed to "
                        "satisfy constraint: Member must have value greater than or equal to 900");
}

Test(sts, assume_role_rejects_duration_above_43200)
{
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                        "&RoleSessionName=s1&DurationSeconds=43201");
    s_expect_validation("1 validation error detected: Value '43201' at 'durationSeconds' failed to "
                        "satisfy constraint: Member must have value less than or equal to 43200");
}

Test(sts, assume_role_rejects_duration_above_max_session_duration)
{
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                        "&RoleSessionName=s1&DurationSeconds=3601");
    s_expect_validation(
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
    /* Raising the role's MaxSessionDuration applies to the next AssumeRole. */
    s_iam_admin("Action=UpdateRole&Version=2010-05-08&RoleName=R&MaxSessionDuration=7200");
    s_expect_ok();
    cr_assert_eq(s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                                     "&RoleSessionName=s1&DurationSeconds=7200"),
                 200, "%s", cmek_buf_cstr(&s_t.body));
    s_expect_text("Expiration", "2026-11-23T14:00:00Z");
}

Test(sts, assume_role_by_role_chaining_is_limited_to_one_hour)
{
    struct th_creds first;
    char arn[256];
    s_create_role("first", S_TRUST_ACCOUNT, "", NULL, 0);
    s_put_role_policy("first", "assume", S_ALLOW("sts:AssumeRole"));
    s_create_role("second", S_TRUST_ACCOUNT, "&MaxSessionDuration=43200", NULL, 0);
    s_admin_assumes("arn:aws:iam::111122223333:role/first", "s1", &first);
    th_form_encode("arn:aws:iam::111122223333:role/second", arn, sizeof(arn));
    s_sts(&first,
          "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=s2"
          "&DurationSeconds=3601",
          arn);
    s_expect_validation("The requested DurationSeconds exceeds the 1 hour session limit for roles "
                        "assumed by role chaining.");
    s_sts(&first,
          "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=s2"
          "&DurationSeconds=3600",
          arn);
    s_expect_ok();
    s_expect_text("Arn", "arn:aws:sts::111122223333:assumed-role/second/s2");
    s_expect_text("Expiration", "2026-11-23T13:00:00Z");
}

/* ---- AssumeRole: validation ---- */

Test(sts, assume_role_reports_every_missing_parameter)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    s_sts(&admin, "Action=AssumeRole&Version=2011-06-15");
    s_expect_validation("2 validation errors detected: Value null at 'roleArn' failed to satisfy "
                        "constraint: Member must not be null; Value null at 'roleSessionName' "
                        "failed to satisfy constraint: Member must not be null");
}

Test(sts, assume_role_rejects_session_name_outside_pattern)
{
    s_admin_assume_with("arn:aws:iam::111122223333:role/R", "&RoleSessionName=Session1%3A2");
    s_expect_validation("1 validation error detected: Value 'Session1:2' at 'roleSessionName' "
                        "failed to satisfy constraint: Member must satisfy regular expression "
                        "pattern: [\\w+=,.@-]*");
}

Test(sts, assume_role_rejects_session_name_of_one_character)
{
    s_admin_assume_with("arn:aws:iam::111122223333:role/R", "&RoleSessionName=S");
    s_expect_validation("1 validation error detected: Value 'S' at 'roleSessionName' failed to "
                        "satisfy constraint: Member must have length greater than or equal to 2");
}

Test(sts, assume_role_rejects_session_name_over_64_characters)
{
    char name[66], extra[128], want[512];
    memset(name, 's', 65);
    name[65] = '\0';
    snprintf(extra, sizeof(extra), "&RoleSessionName=%s", name);
    s_admin_assume_with("arn:aws:iam::111122223333:role/R", extra);
    snprintf(want, sizeof(want),
             "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy "
             "constraint: Member must have length less than or equal to 64",
             name);
    s_expect_validation(want);
}

Test(sts, assume_role_rejects_external_id_of_one_character)
{
    s_admin_assume_with("arn:aws:iam::111122223333:role/R", "&RoleSessionName=s1&ExternalId=x");
    s_expect_validation("1 validation error detected: Value 'x' at 'externalId' failed to satisfy "
                        "constraint: Member must have length greater than or equal to 2");
}

Test(sts, assume_role_rejects_external_id_outside_pattern)
{
    s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                        "&RoleSessionName=s1&ExternalId=invalid%20external%20id");
    s_expect_validation("1 validation error detected: Value 'invalid external id' at 'externalId' "
                        "failed to satisfy constraint: Member must satisfy regular expression "
                        "pattern: [\\w+=,.@:\\/-]*");
}

Test(sts, assume_role_rejects_external_id_over_1224_characters)
{
    char id[1226], extra[1300];
    memset(id, 'e', 1225);
    id[1225] = '\0';
    snprintf(extra, sizeof(extra), "&RoleSessionName=s1&ExternalId=%s", id);
    s_admin_assume_with("arn:aws:iam::111122223333:role/R", extra);
    /* Long values are cut to 120 characters in the text. */
    char want[512];
    snprintf(want, sizeof(want),
             "1 validation error detected: Value '%.120s' at 'externalId' failed to satisfy "
             "constraint: Member must have length less than or equal to 1224",
             id);
    s_expect_validation(want);
}

Test(sts, assume_role_aggregates_violations_of_several_members)
{
    s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                        "&RoleSessionName=a%20b&ExternalId=x&DurationSeconds=60");
    s_expect_validation(
        "3 validation errors detected: Value 'a b' at 'roleSessionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*; Value 'x' at "
        "'externalId' failed to satisfy constraint: Member must have length greater than or equal "
        "to 2; Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have "
        "value greater than or equal to 900");
}

Test(sts, assume_role_rejects_role_arn_that_is_not_a_role)
{
    s_admin_assume_with("arn:aws:s3:::my-cmek-bucket-name", "&RoleSessionName=s1");
    s_expect_validation("arn:aws:s3:::my-cmek-bucket-name is invalid");
}

Test(sts, assume_role_rejects_role_arn_without_account)
{
    s_admin_assume_with("arn:aws:iam::cmek:role/cmek-role", "&RoleSessionName=s1");
    s_expect_validation("arn:aws:iam::cmek:role/cmek-role is invalid");
}

Test(sts, assume_role_rejects_role_arn_shorter_than_20)
{
    s_admin_assume_with("invalid role arn", "&RoleSessionName=s1");
    s_expect_validation("1 validation error detected: Value 'invalid role arn' at 'roleArn' "
                        "failed to satisfy constraint: Member must have length greater than or "
                        "equal to 20");
}

/* ---- Session credentials ---- */

Test(sts, get_caller_identity_for_role_session)
{
    struct th_creds session;
    char role_id[64], want[128];
    s_create_role("R", S_TRUST_ACCOUNT, "", role_id, sizeof(role_id));
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "my-session", &session);
    cr_assert_eq(s_sts(&session, "Action=GetCallerIdentity&Version=2011-06-15"), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    cr_assert(
        s_has("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
    cr_assert(s_has("<GetCallerIdentityResult>"));
    snprintf(want, sizeof(want), "%s:my-session", role_id);
    s_expect_text("UserId", want);
    s_expect_text("Arn", "arn:aws:sts::111122223333:assumed-role/R/my-session");
    s_expect_text("Account", "111122223333");
}

Test(sts, get_caller_identity_for_admin_user)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    cr_assert_eq(s_sts(&admin, "Action=GetCallerIdentity&Version=2011-06-15"), 200);
    s_expect_text("UserId", "AIDAQCUSTOMERADMIN7XA");
    s_expect_text("Arn", "arn:aws:iam::111122223333:user/admin");
    s_expect_text("Account", "111122223333");
}

Test(sts, get_caller_identity_for_cross_account_user)
{
    struct th_creds crdb;
    th_creds_crdb(&crdb);
    cr_assert_eq(s_sts(&crdb, "Action=GetCallerIdentity&Version=2011-06-15"), 200);
    s_expect_text("UserId", "AIDAQCRDBCLOUDCMEK2XB");
    s_expect_text("Arn", "arn:aws:iam::999988887777:user/cockroach-cloud-cmek");
    s_expect_text("Account", "999988887777");
}

Test(sts, get_caller_identity_needs_no_permission)
{
    struct th_creds u1;
    s_create_user_with_key("u1", &u1);
    cr_assert_eq(s_sts(&u1, "Action=GetCallerIdentity&Version=2011-06-15"), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    s_expect_text("Arn", "arn:aws:iam::111122223333:user/u1");
}

/* IAM here has no PutUserPolicy, so the Deny is put on the admin through the model. */
static void s_deny_everything_to_admin(void)
{
    static const char deny[] = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                               "\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}]}";
    struct emu_iam_user *admin = emu_iam_user_by_name(&s_t.app.store->iam, "111122223333", "admin");
    cr_assert_not_null(admin);
    struct emu_iam_inline_policy *p = calloc(1, sizeof(*p));
    cr_assert_not_null(p);
    p->name = strdup("deny-all");
    cr_assert_not_null(p->name);
    cr_assert_eq(emu_policy_parse(deny, strlen(deny), EMU_POLICY_IDENTITY, NULL, &p->policy, NULL),
                 0);
    cr_assert_eq(cmek_vec_push(&admin->ident.inline_policies, p), 0);
}

Test(sts, get_caller_identity_for_admin_works_under_explicit_deny_of_everything)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    s_deny_everything_to_admin();
    s_iam(&admin, "Action=GetUser&Version=2010-05-08");
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: "
                   "iam:GetUser on resource: arn:aws:iam::111122223333:user/admin with an explicit "
                   "deny in an identity-based policy");
    cr_assert_eq(s_sts(&admin, "Action=GetCallerIdentity&Version=2011-06-15"), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    s_expect_text("UserId", "AIDAQCUSTOMERADMIN7XA");
    s_expect_text("Arn", "arn:aws:iam::111122223333:user/admin");
    s_expect_text("Account", "111122223333");
}

Test(sts, get_caller_identity_works_under_explicit_deny_of_everything)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_put_role_policy("R", "deny-all",
                      "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\","
                      "\"Action\":\"*\",\"Resource\":\"*\"}]}");
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "s1", &session);
    cr_assert_eq(s_sts(&session, "Action=GetCallerIdentity&Version=2011-06-15"), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    s_expect_text("Arn", "arn:aws:sts::111122223333:assumed-role/R/s1");
    s_iam(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:sts::111122223333:assumed-role/R/s1 is not authorized to "
                   "perform: iam:GetRole on resource: arn:aws:iam::111122223333:role/R with an "
                   "explicit deny in an identity-based policy");
}

Test(sts, session_works_until_expiration)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "s1", &session);
    th_advance(&s_t, "3599s");
    cr_assert_eq(s_sts(&session, "Action=GetCallerIdentity&Version=2011-06-15"), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
}

Test(sts, expired_session_is_rejected_with_expired_token)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "s1", &session);
    th_advance(&s_t, "3600s");
    s_sts(&session, "Action=GetCallerIdentity&Version=2011-06-15");
    s_expect_error(403, "ExpiredToken", "The security token included in the request is expired");
    th_advance(&s_t, "2h");
    s_iam(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_error(403, "ExpiredToken", "The security token included in the request is expired");
    cr_assert(s_has("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"));
}

Test(sts, session_key_with_wrong_token_is_invalid_client_token_id)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "s1", &session);
    session.token[10] = session.token[10] == 'A' ? 'B' : 'A';
    s_sts(&session, "Action=GetCallerIdentity&Version=2011-06-15");
    s_expect_error(403, "InvalidClientTokenId",
                   "The security token included in the request is invalid.");
}

Test(sts, session_key_without_token_is_invalid_client_token_id)
{
    struct th_creds session;
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "s1", &session);
    session.token[0] = '\0';
    s_sts(&session, "Action=GetCallerIdentity&Version=2011-06-15");
    s_expect_error(403, "InvalidClientTokenId",
                   "The security token included in the request is invalid.");
}

Test(sts, session_token_of_another_session_is_invalid_client_token_id)
{
    struct th_creds one, two;
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "s1", &one);
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "s2", &two);
    memcpy(one.token, two.token, sizeof(one.token));
    s_sts(&one, "Action=GetCallerIdentity&Version=2011-06-15");
    s_expect_error(403, "InvalidClientTokenId",
                   "The security token included in the request is invalid.");
}

Test(sts, long_term_key_with_session_token_is_invalid_client_token_id)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    snprintf(admin.token, sizeof(admin.token), "FwoGZXIvYXdzEnotarealtoken");
    s_sts(&admin, "Action=GetCallerIdentity&Version=2011-06-15");
    s_expect_error(403, "InvalidClientTokenId",
                   "The security token included in the request is invalid.");
}

Test(sts, unknown_access_key_is_invalid_client_token_id)
{
    struct th_creds nobody;
    th_creds_admin(&nobody);
    memcpy(nobody.akid, "AKIANOBODYNOBODY2345", 21);
    s_sts(&nobody, "Action=GetCallerIdentity&Version=2011-06-15");
    s_expect_error(403, "InvalidClientTokenId",
                   "The security token included in the request is invalid.");
}

Test(sts, removing_trust_keeps_existing_session_but_denies_new_ones)
{
    struct th_creds admin, session, again;
    th_creds_admin(&admin);
    char enc[4096];
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_put_role_policy("R", "get-role", S_ALLOW("iam:GetRole"));
    s_admin_assumes("arn:aws:iam::111122223333:role/R", "s1", &session);
    s_iam_admin("Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=R&PolicyDocument=%s",
                th_form_encode("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                               "\"Principal\":{\"AWS\":\"arn:aws:iam::999988887777:root\"},"
                               "\"Action\":\"sts:AssumeRole\"}]}",
                               enc, sizeof(enc)));
    s_expect_ok();
    /* The trust policy is evaluated only at AssumeRole. */
    s_iam(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    cr_assert_eq(s_sts(&session, "Action=GetCallerIdentity&Version=2011-06-15"), 200);
    cr_assert_eq(s_assume(&admin, "arn:aws:iam::111122223333:role/R", "s2", NULL, &again), 403);
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:iam::111122223333:user/admin is not authorized to perform: "
                   "sts:AssumeRole on resource: arn:aws:iam::111122223333:role/R");
}

Test(sts, role_session_is_denied_sts_assume_role_without_identity_policy)
{
    struct th_creds first, second;
    s_create_role("first", S_TRUST_ACCOUNT, "", NULL, 0);
    s_create_role("second", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assumes("arn:aws:iam::111122223333:role/first", "s1", &first);
    cr_assert_eq(s_assume(&first, "arn:aws:iam::111122223333:role/second", "s2", NULL, &second),
                 403);
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:sts::111122223333:assumed-role/first/s1 is not authorized to "
                   "perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/second");
}

/* ---- Session policies ---- */

Test(sts, session_policy_narrows_role_permissions)
{
    struct th_creds admin, session;
    th_creds_admin(&admin);
    char arn[256], policy[1024];
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_put_role_policy("R", "all-iam", S_ALLOW("iam:*"));
    s_sts(&admin, "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=s1&Policy=%s",
          th_form_encode("arn:aws:iam::111122223333:role/R", arn, sizeof(arn)),
          th_form_encode(S_ALLOW("iam:GetRole"), policy, sizeof(policy)));
    s_expect_ok();
    cr_assert(s_has("<PackedPolicySize>"));
    memset(&session, 0, sizeof(session));
    s_text("AccessKeyId", session.akid, sizeof(session.akid));
    s_text("SecretAccessKey", session.secret, sizeof(session.secret));
    s_text("SessionToken", session.token, sizeof(session.token));

    s_iam(&session, "Action=GetRole&Version=2010-05-08&RoleName=R");
    s_expect_ok();
    s_iam(&session, "Action=ListRoles&Version=2010-05-08");
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:sts::111122223333:assumed-role/R/s1 is not authorized to "
                   "perform: iam:ListRoles on resource: arn:aws:iam::111122223333:role/ because "
                   "no session policy allows the iam:ListRoles action");
}

Test(sts, session_policy_cannot_widen_role_permissions)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    char arn[256], policy[1024];
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_put_role_policy("R", "get-role", S_ALLOW("iam:GetRole"));
    s_sts(&admin, "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=s1&Policy=%s",
          th_form_encode("arn:aws:iam::111122223333:role/R", arn, sizeof(arn)),
          th_form_encode(S_ALLOW("*"), policy, sizeof(policy)));
    s_expect_ok();
    struct th_creds session;
    memset(&session, 0, sizeof(session));
    s_text("AccessKeyId", session.akid, sizeof(session.akid));
    s_text("SecretAccessKey", session.secret, sizeof(session.secret));
    s_text("SessionToken", session.token, sizeof(session.token));
    s_iam(&session, "Action=ListRoles&Version=2010-05-08");
    s_expect_error(403, "AccessDenied",
                   "User: arn:aws:sts::111122223333:assumed-role/R/s1 is not authorized to "
                   "perform: iam:ListRoles on resource: arn:aws:iam::111122223333:role/ because "
                   "no identity-based policy allows the iam:ListRoles action");
}

Test(sts, assume_role_rejects_session_policy_that_is_not_json)
{
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    s_admin_assume_with("arn:aws:iam::111122223333:role/R",
                        "&RoleSessionName=s1&Policy=invalid%20policy");
    s_expect_error(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.");
}

Test(sts, assume_role_rejects_session_policy_with_principal)
{
    char extra[2048], enc[1024];
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    snprintf(extra, sizeof(extra), "&RoleSessionName=s1&Policy=%s",
             th_form_encode(S_TRUST_ACCOUNT, enc, sizeof(enc)));
    s_admin_assume_with("arn:aws:iam::111122223333:role/R", extra);
    s_expect_error(400, "MalformedPolicyDocument",
                   "Policy document should not specify a principal.");
}

Test(sts, assume_role_rejects_session_policy_over_2048_characters)
{
    char *doc = malloc(4096);
    char *extra = malloc(S_FORM_MAX / 2);
    char *enc = malloc(S_FORM_MAX / 4);
    cr_assert(doc && extra && enc);
    int n = snprintf(doc, 4096,
                     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                     "\"Action\":\"iam:GetRole\",\"Resource\":\"arn:aws:iam::111122223333:role/");
    memset(doc + n, 'x', 2000);
    snprintf(doc + n + 2000, 4096 - (size_t)n - 2000, "\"}]}");
    s_create_role("R", S_TRUST_ACCOUNT, "", NULL, 0);
    snprintf(extra, S_FORM_MAX / 2, "&RoleSessionName=s1&Policy=%s",
             th_form_encode(doc, enc, S_FORM_MAX / 4));
    s_admin_assume_with("arn:aws:iam::111122223333:role/R", extra);
    free(doc);
    free(extra);
    free(enc);
    s_expect_error(400, "PackedPolicyTooLarge",
                   "Packed policy consumes more than the allowed size limit.");
}

/* ---- Protocol ---- */

Test(sts, unknown_action_is_invalid_action)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    s_sts(&admin, "Action=GetSessionToken&Version=2011-06-15");
    s_expect_error(400, "InvalidAction",
                   "Could not find operation GetSessionToken for version 2011-06-15");
    cr_assert(s_has("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
}

Test(sts, request_with_iam_version_is_invalid_action)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    s_sts(&admin, "Action=GetCallerIdentity&Version=2010-05-08");
    s_expect_error(400, "InvalidAction",
                   "Could not find operation GetCallerIdentity for version 2010-05-08");
}

Test(sts, request_without_action_is_missing_action)
{
    struct th_creds admin;
    th_creds_admin(&admin);
    s_sts(&admin, "Version=2011-06-15");
    s_expect_error(400, "MissingAction", "Missing Action");
}

/* PolicyArns, Tags and TransitiveTagKeys would narrow the session or need sts:TagSession in
 * AWS; the emulator refuses them rather than grant more than AWS would. */
Test(sts, assume_role_refuses_parameters_that_would_change_permissions)
{
    char role_id[64];
    s_create_role("app-role", S_TRUST_ACCOUNT, "", role_id, sizeof(role_id));
    static const struct {
        const char *extra;
        const char *name;
    } cases[] = {
        {"&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess",
         "PolicyArns"},
        {"&Tags.member.1.Key=Project&Tags.member.1.Value=Pegasus", "Tags"},
        {"&TransitiveTagKeys.member.1=Project", "TransitiveTagKeys"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char extra[512], message[256];
        snprintf(extra, sizeof(extra), "&RoleSessionName=s1%s", cases[i].extra);
        s_admin_assume_with("arn:aws:iam::111122223333:role/app-role", extra);
        snprintf(message, sizeof(message),
                 "%s is not supported by cmek-emulator: it would change the session's "
                 "permissions in ways the emulator does not model.",
                 cases[i].name);
        s_expect_error(400, "ValidationError", message);
    }
    cr_assert_eq(s_t.app.store->sts.sessions.len, 0);
}
