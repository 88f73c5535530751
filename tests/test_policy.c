/* test_policy.c: the IAM policy engine (emulator/policy.c), table-driven.
 *
 * Policy texts in the tables are written with ' for " and converted before parsing, so the
 * tables stay readable. Every failure names the table and row. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "test_common.h"

TestSuite(policy, .fini = cmek_test_fini);

#define ACCT        "111122223333"
#define OTHER       "444455556666"
#define KEY_ARN     "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
#define X_KEY_ARN   "arn:aws:kms:us-east-1:444455556666:key/0987dcba-09fe-87dc-65ba-ab0987654321"
#define CRDB_ROLE   "arn:aws:iam::111122223333:role/crdb-cmek-role"
#define CRDB_ID_OLD "AROACRDB0000000000001"
#define CRDB_ID_NEW "AROACRDB0000000000002"
#define NOW         1700000000 /* 2023-11-14T22:13:20Z */

/* ---- Principals making requests ---- */

enum t_who {
    T_SESSION,   /* crdb-cmek-role/node1 in ACCT */
    T_SESSION2,  /* crdb-cmek-role/node2 in ACCT */
    T_RECREATED, /* a session of a new crdb-cmek-role (new AROA id) */
    T_PATHROLE,  /* role /svc/app, session s1 */
    T_USER,      /* alice in ACCT */
    T_USER2,     /* bob in ACCT */
    T_ROOT,      /* ACCT root */
    T_X_USER,    /* xavier in OTHER */
    T_X_SESSION, /* OTHER's role ops, session s */
    T_X_ROOT,    /* OTHER root */
};

static const struct emu_principal s_who[] = {
    [T_SESSION] = {EMU_PRINCIPAL_ROLE_SESSION, ACCT,
                   "arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/node1", CRDB_ROLE,
                   CRDB_ID_OLD, "node1"},
    [T_SESSION2] = {EMU_PRINCIPAL_ROLE_SESSION, ACCT,
                    "arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/node2", CRDB_ROLE,
                    CRDB_ID_OLD, "node2"},
    [T_RECREATED] = {EMU_PRINCIPAL_ROLE_SESSION, ACCT,
                     "arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/node1", CRDB_ROLE,
                     CRDB_ID_NEW, "node1"},
    [T_PATHROLE] = {EMU_PRINCIPAL_ROLE_SESSION, ACCT,
                    "arn:aws:sts::111122223333:assumed-role/app/s1",
                    "arn:aws:iam::111122223333:role/svc/app", "AROAAPP00000000000001", "s1"},
    [T_USER] = {EMU_PRINCIPAL_USER, ACCT, "arn:aws:iam::111122223333:user/alice",
                "arn:aws:iam::111122223333:user/alice", "AIDAALICE000000000001", NULL},
    [T_USER2] = {EMU_PRINCIPAL_USER, ACCT, "arn:aws:iam::111122223333:user/bob",
                 "arn:aws:iam::111122223333:user/bob", "AIDABOB00000000000001", NULL},
    [T_ROOT] = {EMU_PRINCIPAL_ROOT, ACCT, "arn:aws:iam::111122223333:root",
                "arn:aws:iam::111122223333:root", ACCT, NULL},
    [T_X_USER] = {EMU_PRINCIPAL_USER, OTHER, "arn:aws:iam::444455556666:user/xavier",
                  "arn:aws:iam::444455556666:user/xavier", "AIDAXAVIER00000000001", NULL},
    [T_X_SESSION] = {EMU_PRINCIPAL_ROLE_SESSION, OTHER,
                     "arn:aws:sts::444455556666:assumed-role/ops/s",
                     "arn:aws:iam::444455556666:role/ops", "AROAOPS00000000000001", "s"},
    [T_X_ROOT] = {EMU_PRINCIPAL_ROOT, OTHER, "arn:aws:iam::444455556666:root",
                  "arn:aws:iam::444455556666:root", OTHER, NULL},
};

/* ---- A fake IAM for the resolver ---- */

struct t_entity {
    const char *arn;
    const char *id;
};

struct t_world {
    struct t_entity entities[8];
    size_t n;
};

static void t_copy_id(const char *id, char out[EMU_UNIQUE_ID_MAX])
{
    snprintf(out, EMU_UNIQUE_ID_MAX, "%s", id);
}

static int t_resolve(void *ctx, const char *arn, char unique_id[EMU_UNIQUE_ID_MAX])
{
    const struct t_world *w = ctx;
    if (strcmp(arn, "arn:aws:iam::" ACCT ":root") == 0) {
        t_copy_id(ACCT, unique_id);
        return CMEK_OK;
    }
    if (strcmp(arn, "arn:aws:iam::" OTHER ":root") == 0) {
        t_copy_id(OTHER, unique_id);
        return CMEK_OK;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (strcmp(w->entities[i].arn, arn) == 0 || strcmp(w->entities[i].id, arn) == 0) {
            t_copy_id(w->entities[i].id, unique_id);
            return CMEK_OK;
        }
    }
    /* arn:aws:sts::A:assumed-role/R/S answers for role R of account A, whatever its path. */
    const char *sts = "arn:aws:sts::";
    if (strncmp(arn, sts, strlen(sts)) == 0 && strlen(arn) > 13 + 13 + 13) {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "arn:aws:iam::%.12s:role/", arn + 13);
        const char *role = arn + 13 + 13 + strlen("assumed-role/");
        const char *slash = strchr(role, '/');
        size_t rlen = slash != NULL ? (size_t)(slash - role) : 0;
        for (size_t i = 0; i < w->n && rlen > 0; i++) {
            const char *e = w->entities[i].arn;
            const char *last = strrchr(e, '/');
            if (strncmp(e, prefix, strlen(prefix)) == 0 && strlen(last + 1) == rlen &&
                strncmp(last + 1, role, rlen) == 0) {
                t_copy_id(w->entities[i].id, unique_id);
                return CMEK_OK;
            }
        }
    }
    return CMEK_ERR_NOT_FOUND;
}

static void t_world_default(struct t_world *w)
{
    memset(w, 0, sizeof(*w));
    w->entities[w->n++] = (struct t_entity){CRDB_ROLE, CRDB_ID_OLD};
    w->entities[w->n++] =
        (struct t_entity){"arn:aws:iam::111122223333:user/alice", "AIDAALICE000000000001"};
    w->entities[w->n++] =
        (struct t_entity){"arn:aws:iam::111122223333:user/bob", "AIDABOB00000000000001"};
    w->entities[w->n++] =
        (struct t_entity){"arn:aws:iam::111122223333:role/svc/app", "AROAAPP00000000000001"};
    w->entities[w->n++] =
        (struct t_entity){"arn:aws:iam::111122223333:role/target", "AROATARGET00000000001"};
    w->entities[w->n++] =
        (struct t_entity){"arn:aws:iam::444455556666:role/ops", "AROAOPS00000000000001"};
}

/* ---- Helpers ---- */

#define T_TEXT_MAX 8192

/* ' -> " so the tables can hold JSON without escapes. */
static void t_json(const char *src, char dst[T_TEXT_MAX])
{
    size_t n = strlen(src);
    cr_assert_lt(n, (size_t)T_TEXT_MAX, "test text too long");
    for (size_t i = 0; i <= n; i++) {
        dst[i] = src[i] == '\'' ? '"' : src[i];
    }
}

static struct emu_policy *t_parse(const char *src, enum emu_policy_kind kind,
                                  const struct emu_principal_resolver *resolver, const char *row)
{
    char text[T_TEXT_MAX];
    t_json(src, text);
    struct emu_policy *p = NULL;
    struct emu_policy_error err;
    int rc = emu_policy_parse(text, strlen(text), kind, resolver, &p, &err);
    cr_assert_eq(rc, CMEK_OK, "[%s] parse failed (%d): %s\n%s", row, rc, err.message, text);
    cr_assert_not_null(p, "[%s] no policy", row);
    return p;
}

static struct emu_eval_request t_req(enum t_who who, const char *action, const char *resource)
{
    struct emu_eval_request req = {
        .principal = &s_who[who],
        .action = action,
        .resource = resource,
        .now = NOW,
    };
    return req;
}

/* ==== Wildcards ==== */

Test(policy, wildcard_table)
{
    static const struct {
        const char *pattern;
        const char *value;
        bool ignore_case;
        bool expect;
    } rows[] = {
        {"*", "", false, true},
        {"*", "anything/at:all", false, true},
        {"", "", false, true},
        {"", "a", false, false},
        {"a?c", "abc", false, true},
        {"a?c", "ac", false, false},
        {"a?c", "abbc", false, false},
        {"a*c", "ac", false, true},
        {"a*c", "a/b/c", false, true},
        {"a*c", "a/b/cd", false, false},
        {"*a*b*", "xxaxxbxx", false, true},
        {"*a*b*", "xxbxxaxx", false, false},
        {"kms:GenerateDataKey*", "kms:GenerateDataKeyWithoutPlaintext", false, true},
        {"ABC", "abc", false, false},
        {"ABC", "abc", true, true},
        {"A?C*", "abcdef", true, true},
        {"**", "x", false, true},
        {"a*", "", false, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        bool got = emu_policy_wildcard_match(rows[i].pattern, rows[i].value, rows[i].ignore_case);
        cr_expect_eq(got, rows[i].expect, "wildcard row %zu: '%s' vs '%s' (ic=%d) gave %d", i,
                     rows[i].pattern, rows[i].value, rows[i].ignore_case, got);
    }
}

/* ==== Action / NotAction ==== */

Test(policy, action_table)
{
    static const struct {
        const char *element; /* "Action": <element> or "NotAction": <element> */
        bool not_action;
        const char *action;
        bool expect;
    } rows[] = {
        {"'kms:GenerateDataKey*'", false, "kms:GenerateDataKey", true},
        {"'kms:GenerateDataKey*'", false, "kms:GenerateDataKeyWithoutPlaintext", true},
        {"'kms:GenerateDataKey*'", false, "kms:GenerateDataKeyPair", true},
        {"'kms:GenerateDataKey*'", false, "kms:GenerateDataKeyPairWithoutPlaintext", true},
        {"'kms:GenerateDataKey*'", false, "kms:GenerateRandom", false},
        {"'kms:ReEncrypt*'", false, "kms:ReEncryptFrom", true},
        {"'kms:ReEncrypt*'", false, "kms:ReEncryptTo", true},
        {"'kms:ReEncrypt*'", false, "kms:Encrypt", false},
        {"'kms:Encrypt'", false, "kms:Encrypt", true},
        {"'kms:Encrypt'", false, "kms:EncryptX", false},
        {"'kms:Encrypt'", false, "kms:Encryp", false},
        {"'kms:Encrypt'", false, "KMS:encrypt", true},
        {"'KMS:ENCRYPT'", false, "kms:Encrypt", true},
        {"'kms:*'", false, "kms:PutKeyPolicy", true},
        {"'kms:*'", false, "sts:AssumeRole", false},
        {"'*'", false, "sts:AssumeRole", true},
        {"'kms:Describe?ey'", false, "kms:DescribeKey", true},
        {"'kms:Describe?ey'", false, "kms:DescribeKeys", false},
        {"'kms:*Key'", false, "kms:DescribeKey", true},
        {"['kms:Encrypt','kms:Decrypt']", false, "kms:Decrypt", true},
        {"['kms:Encrypt','kms:Decrypt']", false, "kms:Sign", false},
        {"'kms:Decrypt'", true, "kms:Encrypt", true},
        {"'kms:Decrypt'", true, "kms:Decrypt", false},
        {"'kms:decrypt'", true, "kms:Decrypt", false},
        {"'kms:*'", true, "sts:AssumeRole", true},
        {"['kms:Get*','kms:List*']", true, "kms:ListAliases", false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char src[T_TEXT_MAX];
        char row[32];
        snprintf(row, sizeof(row), "action row %zu", i);
        snprintf(src, sizeof(src),
                 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','%s':%s,"
                 "'Resource':'*'}}",
                 rows[i].not_action ? "NotAction" : "Action", rows[i].element);
        struct emu_policy *p = t_parse(src, EMU_POLICY_IDENTITY, NULL, row);
        struct emu_eval_request req = t_req(T_USER, rows[i].action, KEY_ARN);
        struct emu_policy_eval ev;
        emu_policy_evaluate(p, &req, &ev);
        cr_expect_eq(ev.allow, rows[i].expect, "%s: %s %s vs %s", row,
                     rows[i].not_action ? "NotAction" : "Action", rows[i].element, rows[i].action);
        cr_expect_not(ev.deny, "%s: no deny statement", row);
        emu_policy_destroy(p);
    }
}

/* ==== Resource / NotResource ==== */

Test(policy, resource_table)
{
    static const struct {
        const char *element;
        bool not_resource;
        const char *resource;
        bool expect;
    } rows[] = {
        {"'*'", false, KEY_ARN, true},
        {"'*'", false, "*", true},
        {"'" KEY_ARN "'", false, KEY_ARN, true},
        {"'" KEY_ARN "'", false, X_KEY_ARN, false},
        {"'" KEY_ARN "'", false, "*", false},
        {"'arn:aws:kms:us-east-1:111122223333:key/*'", false, KEY_ARN, true},
        {"'arn:aws:kms:us-east-1:111122223333:key/*'", false,
         "arn:aws:kms:us-east-1:111122223333:alias/crdb", false},
        {"'arn:aws:kms:*:111122223333:key/*'", false, "arn:aws:kms:eu-west-2:111122223333:key/k",
         true},
        {"'arn:aws:kms:*'", false, X_KEY_ARN, true},
        {"'arn:aws:kms:us-east-1:111122223333:KEY/*'", false, KEY_ARN, false},
        {"'arn:aws:kms:us-east-1:111122223333:key/1234abcd-?\?\?\?-34cd-*'", false, KEY_ARN, true},
        {"'arn:aws:kms:us-east-1:111122223333:key/1234abcd-?\?\?-34cd-*'", false, KEY_ARN, false},
        {"'arn:aws:s3:::bucket/*'", false, "arn:aws:s3:::bucket/a/b/c", true},
        {"'arn:aws:s3:::bucket/*'", false, "arn:aws:s3:::bucket", false},
        {"['arn:aws:s3:::a','" KEY_ARN "']", false, KEY_ARN, true},
        {"'arn:aws:kms:*:*:key/secret'", true, KEY_ARN, true},
        {"'arn:aws:kms:*:*:key/secret'", true, "arn:aws:kms:us-east-1:1:key/secret", false},
        {"'*'", true, KEY_ARN, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char src[T_TEXT_MAX];
        char row[32];
        snprintf(row, sizeof(row), "resource row %zu", i);
        snprintf(src, sizeof(src),
                 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'kms:*',"
                 "'%s':%s}}",
                 rows[i].not_resource ? "NotResource" : "Resource", rows[i].element);
        struct emu_policy *p = t_parse(src, EMU_POLICY_IDENTITY, NULL, row);
        struct emu_eval_request req = t_req(T_USER, "kms:Decrypt", rows[i].resource);
        struct emu_policy_eval ev;
        emu_policy_evaluate(p, &req, &ev);
        cr_expect_eq(ev.allow, rows[i].expect, "%s: %s %s vs %s", row,
                     rows[i].not_resource ? "NotResource" : "Resource", rows[i].element,
                     rows[i].resource);
        emu_policy_destroy(p);
    }
}

/* ==== Conditions ==== */

/* ctx: the request's condition entries as "key=v1|v2;key2=v3"; NULL for none. */
struct t_cond_row {
    const char *name;
    const char *condition;
    const char *ctx;
    enum t_who who;
    bool expect;
};

#define C(name, condition, ctx, who, expect)                                                       \
    {                                                                                              \
        name, condition, ctx, who, expect                                                          \
    }

static const struct t_cond_row s_cond_rows[] = {
    /* String */
    C("StringEquals match", "{'StringEquals':{'k':'abc'}}", "k=abc", T_USER, true),
    C("StringEquals is case-sensitive", "{'StringEquals':{'k':'abc'}}", "k=ABC", T_USER, false),
    C("StringEquals mismatch", "{'StringEquals':{'k':'abc'}}", "k=abd", T_USER, false),
    C("StringEquals absent key", "{'StringEquals':{'k':'abc'}}", NULL, T_USER, false),
    C("StringEquals policy values ORed", "{'StringEquals':{'k':['x','abc']}}", "k=abc", T_USER,
      true),
    C("StringEquals multivalued context", "{'StringEquals':{'k':'abc'}}", "k=x|abc", T_USER, true),
    C("StringNotEquals differs", "{'StringNotEquals':{'k':'abc'}}", "k=xyz", T_USER, true),
    C("StringNotEquals equal", "{'StringNotEquals':{'k':'abc'}}", "k=abc", T_USER, false),
    C("StringNotEquals absent key", "{'StringNotEquals':{'k':'abc'}}", NULL, T_USER, true),
    C("StringNotEquals none of several", "{'StringNotEquals':{'k':['a','b']}}", "k=c", T_USER,
      true),
    C("StringNotEquals one of several", "{'StringNotEquals':{'k':['a','b']}}", "k=b", T_USER,
      false),
    C("StringEqualsIgnoreCase match", "{'StringEqualsIgnoreCase':{'k':'ABC'}}", "k=abc", T_USER,
      true),
    C("StringEqualsIgnoreCase mismatch", "{'StringEqualsIgnoreCase':{'k':'ABC'}}", "k=abd", T_USER,
      false),
    C("StringEqualsIgnoreCase absent", "{'StringEqualsIgnoreCase':{'k':'ABC'}}", NULL, T_USER,
      false),
    C("StringNotEqualsIgnoreCase equal", "{'StringNotEqualsIgnoreCase':{'k':'ABC'}}", "k=abc",
      T_USER, false),
    C("StringNotEqualsIgnoreCase differs", "{'StringNotEqualsIgnoreCase':{'k':'ABC'}}", "k=x",
      T_USER, true),
    C("StringNotEqualsIgnoreCase absent", "{'StringNotEqualsIgnoreCase':{'k':'ABC'}}", NULL, T_USER,
      true),
    C("StringLike star", "{'StringLike':{'k':'key1*'}}", "k=key1:legal", T_USER, true),
    C("StringLike mismatch", "{'StringLike':{'k':'key1*'}}", "k=key2:x", T_USER, false),
    C("StringLike question mark", "{'StringLike':{'k':'a?c'}}", "k=abc", T_USER, true),
    C("StringLike question mark is one char", "{'StringLike':{'k':'a?c'}}", "k=abbc", T_USER,
      false),
    C("StringLike is case-sensitive", "{'StringLike':{'k':'ABC*'}}", "k=abcd", T_USER, false),
    C("StringLike absent", "{'StringLike':{'k':'*'}}", NULL, T_USER, false),
    C("StringNotLike matching", "{'StringNotLike':{'k':'key1*'}}", "k=key1:x", T_USER, false),
    C("StringNotLike not matching", "{'StringNotLike':{'k':'key1*'}}", "k=key2", T_USER, true),
    C("StringNotLike absent", "{'StringNotLike':{'k':'key1*'}}", NULL, T_USER, true),
    /* Numeric */
    C("NumericEquals match", "{'NumericEquals':{'n':'10'}}", "n=10.0", T_USER, true),
    C("NumericEquals JSON number", "{'NumericEquals':{'n':10}}", "n=10", T_USER, true),
    C("NumericEquals mismatch", "{'NumericEquals':{'n':'10'}}", "n=11", T_USER, false),
    C("NumericEquals not a number", "{'NumericEquals':{'n':'10'}}", "n=ten", T_USER, false),
    C("NumericEquals absent", "{'NumericEquals':{'n':'10'}}", NULL, T_USER, false),
    C("NumericNotEquals differs", "{'NumericNotEquals':{'n':'10'}}", "n=11", T_USER, true),
    C("NumericNotEquals equal", "{'NumericNotEquals':{'n':'10'}}", "n=10", T_USER, false),
    C("NumericNotEquals absent", "{'NumericNotEquals':{'n':'10'}}", NULL, T_USER, true),
    C("NumericLessThan true", "{'NumericLessThan':{'n':'10'}}", "n=5", T_USER, true),
    C("NumericLessThan equal", "{'NumericLessThan':{'n':'10'}}", "n=10", T_USER, false),
    C("NumericLessThan absent", "{'NumericLessThan':{'n':'10'}}", NULL, T_USER, false),
    C("NumericLessThanEquals equal", "{'NumericLessThanEquals':{'n':'10'}}", "n=10", T_USER, true),
    C("NumericLessThanEquals greater", "{'NumericLessThanEquals':{'n':'10'}}", "n=10.5", T_USER,
      false),
    C("NumericLessThanEquals absent", "{'NumericLessThanEquals':{'n':'10'}}", NULL, T_USER, false),
    C("NumericGreaterThan true", "{'NumericGreaterThan':{'n':'10'}}", "n=10.5", T_USER, true),
    C("NumericGreaterThan equal", "{'NumericGreaterThan':{'n':'10'}}", "n=10", T_USER, false),
    C("NumericGreaterThan absent", "{'NumericGreaterThan':{'n':'10'}}", NULL, T_USER, false),
    C("NumericGreaterThanEquals equal", "{'NumericGreaterThanEquals':{'n':'10'}}", "n=10", T_USER,
      true),
    C("NumericGreaterThanEquals less", "{'NumericGreaterThanEquals':{'n':'10'}}", "n=-1", T_USER,
      false),
    C("NumericGreaterThanEquals absent", "{'NumericGreaterThanEquals':{'n':'10'}}", NULL, T_USER,
      false),
    /* Date */
    C("DateEquals RFC 3339 vs epoch", "{'DateEquals':{'d':'2024-01-01T00:00:00Z'}}", "d=1704067200",
      T_USER, true),
    C("DateEquals epoch vs RFC 3339", "{'DateEquals':{'d':'1704067200'}}", "d=2024-01-01T00:00:00Z",
      T_USER, true),
    C("DateEquals with offset", "{'DateEquals':{'d':'2024-01-01T01:00:00+01:00'}}",
      "d=2024-01-01T00:00:00Z", T_USER, true),
    C("DateEquals bare date", "{'DateEquals':{'d':'2024-01-01'}}", "d=1704067200", T_USER, true),
    C("DateEquals mismatch", "{'DateEquals':{'d':'2024-01-01T00:00:00Z'}}",
      "d=2024-01-01T00:00:01Z", T_USER, false),
    C("DateEquals absent", "{'DateEquals':{'d':'2024-01-01T00:00:00Z'}}", NULL, T_USER, false),
    C("DateNotEquals differs", "{'DateNotEquals':{'d':'2024-01-01T00:00:00Z'}}",
      "d=2024-01-02T00:00:00Z", T_USER, true),
    C("DateNotEquals equal", "{'DateNotEquals':{'d':'2024-01-01T00:00:00Z'}}", "d=1704067200",
      T_USER, false),
    C("DateNotEquals absent", "{'DateNotEquals':{'d':'2024-01-01T00:00:00Z'}}", NULL, T_USER, true),
    C("DateLessThan CurrentTime before",
      "{'DateLessThan':{'aws:CurrentTime':'2024-01-01T00:00:00Z'}}", NULL, T_USER, true),
    C("DateLessThan CurrentTime after",
      "{'DateLessThan':{'aws:CurrentTime':'2023-01-01T00:00:00Z'}}", NULL, T_USER, false),
    C("DateLessThan absent", "{'DateLessThan':{'d':'2024-01-01T00:00:00Z'}}", NULL, T_USER, false),
    C("DateLessThanEquals EpochTime equal", "{'DateLessThanEquals':{'aws:EpochTime':'1700000000'}}",
      NULL, T_USER, true),
    C("DateLessThanEquals EpochTime after", "{'DateLessThanEquals':{'aws:EpochTime':'1699999999'}}",
      NULL, T_USER, false),
    C("DateLessThanEquals absent", "{'DateLessThanEquals':{'d':'1699999999'}}", NULL, T_USER,
      false),
    C("DateGreaterThan CurrentTime true",
      "{'DateGreaterThan':{'aws:CurrentTime':'2023-11-14T22:13:19Z'}}", NULL, T_USER, true),
    C("DateGreaterThan CurrentTime equal",
      "{'DateGreaterThan':{'aws:CurrentTime':'2023-11-14T22:13:20Z'}}", NULL, T_USER, false),
    C("DateGreaterThan absent", "{'DateGreaterThan':{'d':'2023-11-14T22:13:19Z'}}", NULL, T_USER,
      false),
    C("DateGreaterThanEquals equal",
      "{'DateGreaterThanEquals':{'aws:CurrentTime':'2023-11-14T22:13:20Z'}}", NULL, T_USER, true),
    C("DateGreaterThanEquals before", "{'DateGreaterThanEquals':{'aws:CurrentTime':'2023-11-15'}}",
      NULL, T_USER, false),
    C("DateGreaterThanEquals absent", "{'DateGreaterThanEquals':{'d':'2023-11-15'}}", NULL, T_USER,
      false),
    /* Bool, Binary */
    C("Bool match", "{'Bool':{'aws:SecureTransport':'true'}}", "aws:SecureTransport=true", T_USER,
      true),
    C("Bool JSON true", "{'Bool':{'aws:SecureTransport':true}}", "aws:SecureTransport=true", T_USER,
      true),
    C("Bool mismatch", "{'Bool':{'aws:SecureTransport':'false'}}", "aws:SecureTransport=true",
      T_USER, false),
    C("Bool absent", "{'Bool':{'aws:SecureTransport':'true'}}", NULL, T_USER, false),
    C("BinaryEquals match", "{'BinaryEquals':{'b':'QmluYXJ5VmFsdWUx'}}", "b=QmluYXJ5VmFsdWUx",
      T_USER, true),
    C("BinaryEquals mismatch", "{'BinaryEquals':{'b':'QmluYXJ5VmFsdWUx'}}", "b=QmluYXJ5VmFsdWUy",
      T_USER, false),
    C("BinaryEquals absent", "{'BinaryEquals':{'b':'QmluYXJ5VmFsdWUx'}}", NULL, T_USER, false),
    /* IP */
    C("IpAddress in CIDR", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}",
      "aws:SourceIp=203.0.113.7", T_USER, true),
    C("IpAddress outside CIDR", "{'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}",
      "aws:SourceIp=198.51.100.1", T_USER, false),
    C("IpAddress single address", "{'IpAddress':{'aws:SourceIp':'203.0.113.7'}}",
      "aws:SourceIp=203.0.113.7", T_USER, true),
    C("IpAddress IPv6", "{'IpAddress':{'aws:SourceIp':'2001:db8::/32'}}",
      "aws:SourceIp=2001:db8:1::5", T_USER, true),
    C("IpAddress family differs", "{'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}",
      "aws:SourceIp=2001:db8::1", T_USER, false),
    C("IpAddress absent", "{'IpAddress':{'aws:SourceIp':'0.0.0.0/0'}}", NULL, T_USER, false),
    C("NotIpAddress outside", "{'NotIpAddress':{'aws:SourceIp':'203.0.113.0/24'}}",
      "aws:SourceIp=198.51.100.1", T_USER, true),
    C("NotIpAddress inside", "{'NotIpAddress':{'aws:SourceIp':'203.0.113.0/24'}}",
      "aws:SourceIp=203.0.113.9", T_USER, false),
    C("NotIpAddress absent", "{'NotIpAddress':{'aws:SourceIp':'203.0.113.0/24'}}", NULL, T_USER,
      true),
    /* ARN */
    C("ArnEquals match", "{'ArnEquals':{'a':'" CRDB_ROLE "'}}", "a=" CRDB_ROLE, T_USER, true),
    C("ArnEquals mismatch", "{'ArnEquals':{'a':'" CRDB_ROLE "'}}",
      "a=arn:aws:iam::111122223333:role/other", T_USER, false),
    C("ArnEquals absent", "{'ArnEquals':{'a':'" CRDB_ROLE "'}}", NULL, T_USER, false),
    C("ArnLike wildcard", "{'ArnLike':{'a':'arn:aws:iam::*:role/crdb-*'}}", "a=" CRDB_ROLE, T_USER,
      true),
    C("ArnLike per-part, * spans the resource part",
      "{'ArnLike':{'a':'arn:aws:iam::111122223333:*'}}", "a=" CRDB_ROLE, T_USER, true),
    C("ArnLike * cannot span parts", "{'ArnLike':{'a':'arn:aws:*:role/crdb-cmek-role'}}",
      "a=" CRDB_ROLE, T_USER, false),
    C("ArnLike mismatch", "{'ArnLike':{'a':'arn:aws:iam::*:role/crdb-*'}}",
      "a=arn:aws:iam::111122223333:user/crdb-x", T_USER, false),
    C("ArnLike not an ARN", "{'ArnLike':{'a':'arn:aws:iam::*:role/*'}}", "a=role/x", T_USER, false),
    C("ArnLike absent", "{'ArnLike':{'a':'arn:aws:iam::*:role/*'}}", NULL, T_USER, false),
    C("ArnNotEquals differs", "{'ArnNotEquals':{'a':'" CRDB_ROLE "'}}",
      "a=arn:aws:iam::111122223333:role/other", T_USER, true),
    C("ArnNotEquals equal", "{'ArnNotEquals':{'a':'" CRDB_ROLE "'}}", "a=" CRDB_ROLE, T_USER,
      false),
    C("ArnNotEquals absent", "{'ArnNotEquals':{'a':'" CRDB_ROLE "'}}", NULL, T_USER, true),
    C("ArnNotLike matching", "{'ArnNotLike':{'a':'arn:aws:iam::*:role/*'}}", "a=" CRDB_ROLE, T_USER,
      false),
    C("ArnNotLike not matching", "{'ArnNotLike':{'a':'arn:aws:iam::*:user/*'}}", "a=" CRDB_ROLE,
      T_USER, true),
    C("ArnNotLike absent", "{'ArnNotLike':{'a':'arn:aws:iam::*:role/*'}}", NULL, T_USER, true),
    /* Null */
    C("Null true, key absent", "{'Null':{'aws:TokenIssueTime':'true'}}", NULL, T_USER, true),
    C("Null true, key present", "{'Null':{'aws:TokenIssueTime':'true'}}",
      "aws:TokenIssueTime=2023-11-14T22:00:00Z", T_USER, false),
    C("Null false, key present", "{'Null':{'aws:TokenIssueTime':'false'}}",
      "aws:TokenIssueTime=2023-11-14T22:00:00Z", T_USER, true),
    C("Null false, key absent", "{'Null':{'aws:TokenIssueTime':false}}", NULL, T_USER, false),
    /* IfExists */
    C("StringEqualsIfExists absent", "{'StringEqualsIfExists':{'k':'abc'}}", NULL, T_USER, true),
    C("StringEqualsIfExists match", "{'StringEqualsIfExists':{'k':'abc'}}", "k=abc", T_USER, true),
    C("StringEqualsIfExists mismatch", "{'StringEqualsIfExists':{'k':'abc'}}", "k=x", T_USER,
      false),
    C("StringNotEqualsIfExists equal", "{'StringNotEqualsIfExists':{'k':'abc'}}", "k=abc", T_USER,
      false),
    C("NumericLessThanIfExists absent", "{'NumericLessThanIfExists':{'n':'10'}}", NULL, T_USER,
      true),
    C("NumericLessThanIfExists present", "{'NumericLessThanIfExists':{'n':'10'}}", "n=20", T_USER,
      false),
    C("DateLessThanIfExists absent", "{'DateLessThanIfExists':{'d':'2020-01-01'}}", NULL, T_USER,
      true),
    C("BoolIfExists absent", "{'BoolIfExists':{'aws:MultiFactorAuthPresent':'true'}}", NULL, T_USER,
      true),
    C("ArnLikeIfExists present mismatch", "{'ArnLikeIfExists':{'a':'arn:aws:iam::*:user/*'}}",
      "a=" CRDB_ROLE, T_USER, false),
    C("IpAddressIfExists absent", "{'IpAddressIfExists':{'aws:SourceIp':'10.0.0.0/8'}}", NULL,
      T_USER, true),
    /* Set operators */
    C("ForAnyValue absent", "{'ForAnyValue:StringEquals':{'t':'a'}}", NULL, T_USER, false),
    C("ForAnyValue one matches", "{'ForAnyValue:StringEquals':{'t':'a'}}", "t=a|b", T_USER, true),
    C("ForAnyValue none matches", "{'ForAnyValue:StringEquals':{'t':'a'}}", "t=c", T_USER, false),
    C("ForAllValues absent", "{'ForAllValues:StringEquals':{'t':['a','b','c']}}", NULL, T_USER,
      true),
    C("ForAllValues subset", "{'ForAllValues:StringEquals':{'t':['a','b','c']}}", "t=a|b", T_USER,
      true),
    C("ForAllValues not a subset", "{'ForAllValues:StringEquals':{'t':['a','b','c']}}", "t=a|d",
      T_USER, false),
    C("ForAllValues:StringNotLike one prefixed", "{'ForAllValues:StringNotLike':{'t':'key1*'}}",
      "t=key1:legal", T_USER, false),
    C("ForAllValues:StringNotLike all prefixed", "{'ForAllValues:StringNotLike':{'t':'key1*'}}",
      "t=key1:hr|key1:personnel", T_USER, false),
    C("ForAllValues:StringNotLike none prefixed", "{'ForAllValues:StringNotLike':{'t':'key1*'}}",
      "t=key2:audit", T_USER, true),
    C("ForAllValues:StringNotLike absent", "{'ForAllValues:StringNotLike':{'t':'key1*'}}", NULL,
      T_USER, true),
    C("ForAnyValue:StringNotEquals one differs", "{'ForAnyValue:StringNotEquals':{'t':'a'}}",
      "t=a|x", T_USER, true),
    C("ForAnyValue:StringNotEquals all equal", "{'ForAnyValue:StringNotEquals':{'t':'a'}}", "t=a",
      T_USER, false),
    C("ForAnyValue:StringNotEquals absent", "{'ForAnyValue:StringNotEquals':{'t':'a'}}", NULL,
      T_USER, false),
    C("ForAnyValue:StringEqualsIfExists absent", "{'ForAnyValue:StringEqualsIfExists':{'t':'a'}}",
      NULL, T_USER, true),
    C("ForAllValues:StringLike", "{'ForAllValues:StringLike':{'t':['team*','env']}}",
      "t=team-a|env", T_USER, true),
    /* Combination */
    C("two keys ANDed, both hold", "{'StringEquals':{'k1':'a','k2':'b'}}", "k1=a;k2=b", T_USER,
      true),
    C("two keys ANDed, one fails", "{'StringEquals':{'k1':'a','k2':'b'}}", "k1=a;k2=x", T_USER,
      false),
    C("two operators ANDed, both hold", "{'StringEquals':{'k1':'a'},'StringLike':{'k2':'b*'}}",
      "k1=a;k2=bee", T_USER, true),
    C("two operators ANDed, one fails", "{'StringEquals':{'k1':'a'},'StringLike':{'k2':'b*'}}",
      "k1=a;k2=see", T_USER, false),
    C("condition keys are case-insensitive", "{'StringEquals':{'STS:EXTERNALID':'x'}}",
      "sts:ExternalId=x", T_USER, true),
    C("unknown operator with an empty block is ignored", "{'StringEqualz':{}}", NULL, T_USER, true),
    /* Global keys the engine derives */
    C("aws:PrincipalArn of a session is the role",
      "{'ArnEquals':{'aws:PrincipalArn':'" CRDB_ROLE "'}}", NULL, T_SESSION, true),
    C("aws:PrincipalArn of a user",
      "{'StringEquals':{'aws:principalarn':'arn:aws:iam::111122223333:user/alice'}}", NULL, T_USER,
      true),
    C("aws:PrincipalAccount", "{'StringEquals':{'aws:PrincipalAccount':'111122223333'}}", NULL,
      T_SESSION, true),
    C("aws:PrincipalType session", "{'StringEquals':{'aws:PrincipalType':'AssumedRole'}}", NULL,
      T_SESSION, true),
    C("aws:PrincipalType user", "{'StringEquals':{'aws:PrincipalType':'User'}}", NULL, T_USER,
      true),
    C("aws:PrincipalType root", "{'StringEquals':{'aws:PrincipalType':'Account'}}", NULL, T_ROOT,
      true),
    C("aws:userid session", "{'StringEquals':{'aws:userid':'" CRDB_ID_OLD ":node1'}}", NULL,
      T_SESSION, true),
    C("aws:userid user", "{'StringEquals':{'aws:userid':'AIDAALICE000000000001'}}", NULL, T_USER,
      true),
    C("aws:userid root", "{'StringEquals':{'aws:userid':'111122223333'}}", NULL, T_ROOT, true),
    C("aws:username user", "{'StringEquals':{'aws:username':'alice'}}", NULL, T_USER, true),
    C("aws:username absent for sessions", "{'Null':{'aws:username':'true'}}", NULL, T_SESSION,
      true),
    C("caller entry overrides a derived key",
      "{'StringEquals':{'aws:PrincipalAccount':'999999999999'}}",
      "aws:PrincipalAccount=999999999999", T_USER, true),
};

#undef C

#define T_CTX_MAX 8

/* Splits ctx into entries, cutting buf in place; strings point into buf. Returns the count. */
static size_t t_context(const char *ctx, char buf[512], struct emu_condition_entry entries[4],
                        const char *values[4][T_CTX_MAX])
{
    size_t n = 0;
    if (ctx == NULL) {
        return 0;
    }
    cr_assert_lt(strlen(ctx), (size_t)512);
    memcpy(buf, ctx, strlen(ctx) + 1);
    for (char *e = buf; e != NULL;) {
        char *next = strchr(e, ';');
        if (next != NULL) {
            *next++ = '\0';
        }
        char *eq = strchr(e, '=');
        cr_assert_not_null(eq, "context entry without '=': %s", e);
        cr_assert_lt(n, (size_t)4);
        *eq = '\0';
        size_t nv = 0;
        for (char *v = eq + 1; v != NULL;) {
            char *bar = strchr(v, '|');
            if (bar != NULL) {
                *bar++ = '\0';
            }
            cr_assert_lt(nv, (size_t)T_CTX_MAX);
            values[n][nv++] = v;
            v = bar;
        }
        entries[n] = (struct emu_condition_entry){e, values[n], nv};
        n++;
        e = next;
    }
    return n;
}

Test(policy, condition_table)
{
    for (size_t i = 0; i < sizeof(s_cond_rows) / sizeof(s_cond_rows[0]); i++) {
        const struct t_cond_row *r = &s_cond_rows[i];
        char src[T_TEXT_MAX];
        char row[160];
        snprintf(row, sizeof(row), "condition row %zu (%s)", i, r->name);
        snprintf(src, sizeof(src),
                 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'kms:Decrypt',"
                 "'Resource':'*','Condition':%s}}",
                 r->condition);
        struct emu_policy *p = t_parse(src, EMU_POLICY_IDENTITY, NULL, row);
        char buf[512];
        struct emu_condition_entry entries[4];
        const char *values[4][T_CTX_MAX];
        struct emu_eval_request req = t_req(r->who, "kms:Decrypt", KEY_ARN);
        req.conditions = entries;
        req.n_conditions = t_context(r->ctx, buf, entries, values);
        struct emu_policy_eval ev;
        emu_policy_evaluate(p, &req, &ev);
        cr_expect_eq(ev.allow, r->expect, "%s: condition %s with context %s gave %d", row,
                     r->condition, r->ctx != NULL ? r->ctx : "(none)", ev.allow);
        emu_policy_destroy(p);
    }
}

/* ==== Allow and Deny ==== */

Test(policy, explicit_deny_wins_in_one_policy)
{
    struct emu_policy *p =
        t_parse("{'Version':'2012-10-17','Statement':["
                "{'Effect':'Allow','Action':'kms:*','Resource':'*'},"
                "{'Effect':'Deny','Action':'kms:ScheduleKeyDeletion','Resource':'*'}]}",
                EMU_POLICY_IDENTITY, NULL, "deny policy");
    struct emu_eval_request req = t_req(T_USER, "kms:ScheduleKeyDeletion", KEY_ARN);
    struct emu_policy_eval ev;
    emu_policy_evaluate(p, &req, &ev);
    cr_expect(ev.allow && ev.deny, "both statements match");
    const struct emu_policy *ids[] = {p};
    struct emu_authz_input in = {&req, ids, 1, NULL, ACCT, false};
    cr_expect_eq(emu_authorize(&in), EMU_AUTHZ_DENY_EXPLICIT_IDENTITY);
    req.action = "kms:Decrypt";
    emu_policy_evaluate(p, &req, &ev);
    cr_expect(ev.allow && !ev.deny, "Decrypt is only allowed");
    cr_expect_eq(emu_authorize(&in), EMU_AUTHZ_ALLOW);
    emu_policy_destroy(p);
}

/* ==== Principal forms ==== */

Test(policy, principal_table)
{
    static const struct {
        const char *element; /* "Principal": <element>, or NotPrincipal when not_principal */
        bool not_principal;
        enum t_who who;
        bool allow;
        bool direct;
    } rows[] = {
        {"'*'", false, T_X_USER, true, true},
        {"{'AWS':'*'}", false, T_SESSION, true, true},
        {"{'AWS':'111122223333'}", false, T_USER, true, false},
        {"{'AWS':'111122223333'}", false, T_SESSION, true, false},
        {"{'AWS':'111122223333'}", false, T_ROOT, true, true},
        {"{'AWS':'111122223333'}", false, T_X_USER, false, false},
        {"{'AWS':'arn:aws:iam::111122223333:root'}", false, T_SESSION, true, false},
        {"{'AWS':'arn:aws:iam::111122223333:root'}", false, T_ROOT, true, true},
        {"{'AWS':'arn:aws:iam::111122223333:root'}", false, T_X_ROOT, false, false},
        {"{'AWS':'arn:aws:iam::111122223333:user/alice'}", false, T_USER, true, true},
        {"{'AWS':'arn:aws:iam::111122223333:user/alice'}", false, T_USER2, false, false},
        {"{'AWS':'" CRDB_ROLE "'}", false, T_SESSION, true, true},
        {"{'AWS':'" CRDB_ROLE "'}", false, T_SESSION2, true, true},
        {"{'AWS':'" CRDB_ROLE "'}", false, T_USER, false, false},
        {"{'AWS':'arn:aws:iam::111122223333:role/svc/app'}", false, T_PATHROLE, true, true},
        {"{'AWS':'arn:aws:iam::111122223333:role/app'}", false, T_PATHROLE, false, false},
        {"{'AWS':'arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/node1'}", false, T_SESSION,
         true, true},
        {"{'AWS':'arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/node1'}", false, T_SESSION2,
         false, false},
        {"{'AWS':'" CRDB_ID_OLD "'}", false, T_SESSION, true, true},
        {"{'AWS':'" CRDB_ID_OLD "'}", false, T_RECREATED, false, false},
        {"{'AWS':'AIDAALICE000000000001'}", false, T_USER, true, true},
        {"{'AWS':['arn:aws:iam::111122223333:user/bob','" CRDB_ROLE "']}", false, T_SESSION, true,
         true},
        {"{'AWS':['444455556666','arn:aws:iam::111122223333:user/alice']}", false, T_X_SESSION,
         true, false},
        {"{'Service':'kms.amazonaws.com'}", false, T_SESSION, false, false},
        {"{'Federated':'arn:aws:iam::111122223333:saml-provider/idp'}", false, T_USER, false,
         false},
        {"{'CanonicalUser':'79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be'}",
         false, T_USER, false, false},
        {"{'AWS':'arn:aws:iam::111122223333:user/alice'}", true, T_USER2, true, true},
        {"{'AWS':'arn:aws:iam::111122223333:user/alice'}", true, T_USER, false, false},
        {"{'AWS':'" CRDB_ROLE "'}", true, T_SESSION2, false, false},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char src[T_TEXT_MAX];
        char row[32];
        snprintf(row, sizeof(row), "principal row %zu", i);
        snprintf(src, sizeof(src),
                 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','%s':%s,"
                 "'Action':'kms:*','Resource':'*'}}",
                 rows[i].not_principal ? "NotPrincipal" : "Principal", rows[i].element);
        struct emu_policy *p = t_parse(src, EMU_POLICY_RESOURCE, NULL, row);
        struct emu_eval_request req = t_req(rows[i].who, "kms:Decrypt", KEY_ARN);
        struct emu_policy_eval ev;
        emu_policy_evaluate(p, &req, &ev);
        cr_expect_eq(ev.allow, rows[i].allow, "%s: %s vs %s: allow %d", row, rows[i].element,
                     s_who[rows[i].who].arn, ev.allow);
        cr_expect_eq(ev.allow_direct, rows[i].direct, "%s: %s vs %s: direct %d", row,
                     rows[i].element, s_who[rows[i].who].arn, ev.allow_direct);
        emu_policy_destroy(p);
    }
}

Test(policy, key_policy_statement_without_action_or_resource_never_matches)
{
    static const char *const texts[] = {
        "{'Statement':{'Effect':'Allow','Principal':'*','Resource':'*'}}",
        "{'Statement':{'Effect':'Allow','Principal':'*','Action':'kms:*'}}",
        "{'Statement':{'Effect':'Deny','Principal':'*','Action':[],'Resource':'*'}}",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        char row[32];
        snprintf(row, sizeof(row), "inert row %zu", i);
        struct emu_policy *p = t_parse(texts[i], EMU_POLICY_RESOURCE, NULL, row);
        struct emu_eval_request req = t_req(T_SESSION, "kms:Decrypt", KEY_ARN);
        struct emu_policy_eval ev;
        emu_policy_evaluate(p, &req, &ev);
        cr_expect(!ev.allow && !ev.deny, "%s: statement should be inert", row);
        emu_policy_destroy(p);
    }
}

/* ==== Binding to unique ids ==== */

static const char s_crdb_key_policy[] =
    "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ {\n    \"Sid\" : \"crdb\",\n"
    "    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"" CRDB_ROLE "\"\n"
    "    },\n    \"Action\" : [ \"kms:Encrypt\", \"kms:Decrypt\" ],\n"
    "    \"Resource\" : \"*\",\n    \"Condition\" : {\n      \"ArnEquals\" : {\n"
    "        \"aws:PrincipalArn\" : \"" CRDB_ROLE "\"\n      }\n    }\n  } ]\n}";

static bool t_allows(const struct emu_policy *p, enum t_who who)
{
    struct emu_eval_request req = t_req(who, "kms:Decrypt", KEY_ARN);
    struct emu_policy_eval ev;
    emu_policy_evaluate(p, &req, &ev);
    return ev.allow;
}

Test(policy, role_recreated_with_new_id_no_longer_matches)
{
    struct t_world world;
    t_world_default(&world);
    struct emu_principal_resolver r = {t_resolve, &world};
    struct emu_policy *p = NULL;
    struct emu_policy_error err;
    int rc = emu_policy_parse(s_crdb_key_policy, strlen(s_crdb_key_policy), EMU_POLICY_RESOURCE, &r,
                              &p, &err);
    cr_assert_eq(rc, CMEK_OK, "%s", err.message);
    cr_expect(t_allows(p, T_SESSION), "the role's session matches");
    cr_expect_not(t_allows(p, T_RECREATED), "a new role of the same name does not");

    /* Unchanged IAM: the document renders byte for byte. */
    struct cmek_buf out;
    cmek_buf_init(&out, 65536);
    cr_assert_eq(emu_policy_render(p, &r, &out), CMEK_OK);
    cr_expect_str_eq(cmek_buf_cstr(&out), s_crdb_key_policy);
    cr_expect_str_eq(emu_policy_text(p), s_crdb_key_policy);

    /* Delete and recreate the role: the principal shows as the old bare id, the condition
     * value (not a principal) keeps its ARN. */
    world.entities[0].id = CRDB_ID_NEW;
    cmek_buf_reset(&out);
    cr_assert_eq(emu_policy_render(p, &r, &out), CMEK_OK);
    char expected[4096];
    snprintf(expected, sizeof(expected),
             "{\n  \"Version\" : \"2012-10-17\",\n  \"Statement\" : [ {\n    \"Sid\" : \"crdb\",\n"
             "    \"Effect\" : \"Allow\",\n    \"Principal\" : {\n      \"AWS\" : \"%s\"\n"
             "    },\n    \"Action\" : [ \"kms:Encrypt\", \"kms:Decrypt\" ],\n"
             "    \"Resource\" : \"*\",\n    \"Condition\" : {\n      \"ArnEquals\" : {\n"
             "        \"aws:PrincipalArn\" : \"%s\"\n      }\n    }\n  } ]\n}",
             CRDB_ID_OLD, CRDB_ROLE);
    cr_expect_str_eq(cmek_buf_cstr(&out), expected);

    /* Deleted outright: the same. */
    world.n = 1;
    world.entities[0].arn = "arn:aws:iam::111122223333:role/gone";
    cmek_buf_reset(&out);
    cr_assert_eq(emu_policy_render(p, &r, &out), CMEK_OK);
    cr_expect_str_eq(cmek_buf_cstr(&out), expected);
    cr_expect_not(t_allows(p, T_RECREATED));

    /* Rendering with no resolver gives the text as given. */
    cmek_buf_reset(&out);
    cr_assert_eq(emu_policy_render(p, NULL, &out), CMEK_OK);
    cr_expect_str_eq(cmek_buf_cstr(&out), s_crdb_key_policy);

    cmek_buf_clean_up(&out);
    emu_policy_destroy(p);
}

Test(policy, render_replaces_every_stale_principal_in_arrays_and_not_principal)
{
    struct t_world world;
    t_world_default(&world);
    struct emu_principal_resolver r = {t_resolve, &world};
    char text[T_TEXT_MAX];
    t_json("{'Statement':[{'Effect':'Allow','Principal':{'AWS':['"
           "arn:aws:iam::111122223333:user/alice','" CRDB_ROLE "','111122223333']},"
           "'Action':'kms:*','Resource':'*'},{'Effect':'Deny','NotPrincipal':{'AWS':'"
           "arn:aws:iam::111122223333:user\\/bob'},'Action':'kms:Put*','Resource':'*'}]}",
           text);
    struct emu_policy *p = NULL;
    struct emu_policy_error err;
    cr_assert_eq(emu_policy_parse(text, strlen(text), EMU_POLICY_RESOURCE, &r, &p, &err), CMEK_OK,
                 "%s", err.message);
    world.entities[1].id = "AIDAALICE000000000009"; /* alice recreated */
    world.entities[2].id = "AIDABOB00000000000009"; /* bob recreated */
    struct cmek_buf out;
    cmek_buf_init(&out, 65536);
    cr_assert_eq(emu_policy_render(p, &r, &out), CMEK_OK);
    char expected[T_TEXT_MAX];
    t_json("{'Statement':[{'Effect':'Allow','Principal':{'AWS':['"
           "AIDAALICE000000000001','" CRDB_ROLE "','111122223333']},"
           "'Action':'kms:*','Resource':'*'},{'Effect':'Deny','NotPrincipal':{'AWS':'"
           "AIDABOB00000000000001'},'Action':'kms:Put*','Resource':'*'}]}",
           expected);
    cr_expect_str_eq(cmek_buf_cstr(&out), expected);
    cmek_buf_clean_up(&out);
    emu_policy_destroy(p);
}

Test(policy, bindings_survive_to_json_and_from_json)
{
    struct t_world world;
    t_world_default(&world);
    struct emu_principal_resolver r = {t_resolve, &world};
    struct emu_policy *p = NULL;
    struct emu_policy_error err;
    cr_assert_eq(emu_policy_parse(s_crdb_key_policy, strlen(s_crdb_key_policy), EMU_POLICY_RESOURCE,
                                  &r, &p, &err),
                 CMEK_OK);
    json_t *stored = emu_policy_to_json(p);
    cr_assert_not_null(stored);
    cr_expect_str_eq(json_string_value(json_object_get(stored, "document")), s_crdb_key_policy);
    cr_expect_str_eq(
        json_string_value(json_object_get(json_object_get(stored, "bindings"), CRDB_ROLE)),
        CRDB_ID_OLD);
    cr_expect_eq(json_object_size(json_object_get(stored, "bindings")), 1);

    struct emu_policy *back = NULL;
    cr_assert_eq(emu_policy_from_json(stored, EMU_POLICY_RESOURCE, &back), CMEK_OK);
    cr_expect_str_eq(emu_policy_text(back), s_crdb_key_policy);
    cr_expect(t_allows(back, T_SESSION));
    cr_expect_not(t_allows(back, T_RECREATED), "the binding was restored");

    /* Without a resolver nothing is bound: any role of that name matches. */
    struct emu_policy *unbound = NULL;
    cr_assert_eq(emu_policy_parse(s_crdb_key_policy, strlen(s_crdb_key_policy), EMU_POLICY_RESOURCE,
                                  NULL, &unbound, &err),
                 CMEK_OK);
    cr_expect(t_allows(unbound, T_RECREATED));
    json_t *unbound_json = emu_policy_to_json(unbound);
    cr_expect_eq(json_object_size(json_object_get(unbound_json, "bindings")), 0);

    /* Malformed stored forms. */
    json_t *bad1 = json_pack("{s:i}", "document", 3);
    json_t *bad2 =
        json_pack("{s:s,s:{s:i}}", "document", s_crdb_key_policy, "bindings", CRDB_ROLE, 7);
    json_t *bad3 = json_pack("{s:s}", "document", "not json");
    struct emu_policy *none = NULL;
    cr_expect_eq(emu_policy_from_json(bad1, EMU_POLICY_RESOURCE, &none), CMEK_ERR_PARSE);
    cr_expect_eq(emu_policy_from_json(bad2, EMU_POLICY_RESOURCE, &none), CMEK_ERR_PARSE);
    cr_expect_eq(emu_policy_from_json(bad3, EMU_POLICY_RESOURCE, &none), CMEK_ERR_PARSE);
    cr_expect_null(none);

    json_decref(bad1);
    json_decref(bad2);
    json_decref(bad3);
    json_decref(unbound_json);
    json_decref(stored);
    emu_policy_destroy(unbound);
    emu_policy_destroy(back);
    emu_policy_destroy(p);
}

/* ==== Invalid principals ==== */

Test(policy, invalid_principal_table)
{
    static const char kms_text[] =
        "Policy contains a statement with one or more invalid principals.";
    static const struct {
        const char *value;
        bool with_resolver;
    } rows[] = {
        {"999999999999", true},
        {"arn:aws:iam::999999999999:root", true},
        {"arn:aws:iam::111122223333:role/nobody", true},
        {"arn:aws:iam::111122223333:user/nobody", true},
        {"arn:aws:sts::111122223333:assumed-role/nobody/sess", true},
        {"arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/s", false},
        {"AROASTALE000000000001", true},
        {"arn:aws:iam::*:root", false},
        {"arn:aws:iam::111122223333:role/*", false},
        {"arn:aws:iam::111122223333:user/al*", false},
        {"arn:aws:iam::11112222333:root", false},
        {"arn:aws:iam::111122223333:group/admins", false},
        {"arn:aws:iam::111122223333:role/", false},
        {"arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/*", false},
        {"arn:aws:sts::111122223333:assumed-role/crdb-cmek-role", false},
        {"arn:aws:iam::111122223333:Root", false},
        {"arn:aws-cn:iam::111122223333:root", false},
        {"1111222233334", false},
        {"alice", false},
        {"", false},
    };
    struct t_world world;
    t_world_default(&world);
    struct emu_principal_resolver r = {t_resolve, &world};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char src[T_TEXT_MAX];
        char text[T_TEXT_MAX];
        snprintf(src, sizeof(src),
                 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Principal':{'AWS':'%s'},"
                 "'Action':'sts:AssumeRole'}}",
                 rows[i].value);
        t_json(src, text);
        char iam_text[512];
        snprintf(iam_text, sizeof(iam_text), "Invalid principal in policy: \"AWS\":\"%s\"",
                 rows[i].value);

        struct emu_policy *p = NULL;
        struct emu_policy_error err;
        int rc = emu_policy_parse(text, strlen(text), EMU_POLICY_TRUST, &r, &p, &err);
        cr_expect_eq(rc, CMEK_ERR_PARSE, "invalid principal row %zu (%s): trust rc %d", i,
                     rows[i].value, rc);
        cr_expect_str_eq(err.message, iam_text, "invalid principal row %zu (%s)", i, rows[i].value);
        cr_expect(err.invalid_principal, "invalid principal row %zu: flag", i);
        cr_expect_null(p);

        /* The same statement as a key policy (Resource added). */
        snprintf(src, sizeof(src),
                 "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Principal':{'AWS':'%s'},"
                 "'Action':'kms:*','Resource':'*'}}",
                 rows[i].value);
        t_json(src, text);
        rc = emu_policy_parse(text, strlen(text), EMU_POLICY_RESOURCE, &r, &p, &err);
        cr_expect_eq(rc, CMEK_ERR_PARSE, "invalid principal row %zu (%s): key rc %d", i,
                     rows[i].value, rc);
        cr_expect_str_eq(err.message, kms_text, "invalid principal row %zu (%s)", i, rows[i].value);
        cr_expect(err.invalid_principal, "invalid principal row %zu: flag", i);

        /* Without a resolver only the malformed ones fail. */
        rc = emu_policy_parse(text, strlen(text), EMU_POLICY_RESOURCE, NULL, &p, &err);
        cr_expect_eq(rc, rows[i].with_resolver ? CMEK_OK : CMEK_ERR_PARSE,
                     "invalid principal row %zu (%s): no resolver rc %d", i, rows[i].value, rc);
        emu_policy_destroy(p);
        p = NULL;
    }
}

Test(policy, valid_principals_resolve)
{
    static const char *const values[] = {
        "111122223333",
        "444455556666",
        "arn:aws:iam::111122223333:root",
        "arn:aws:iam::111122223333:user/alice",
        CRDB_ROLE,
        "arn:aws:iam::111122223333:role/svc/app",
        "arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/any-session",
        "arn:aws:sts::111122223333:assumed-role/app/s1",
        CRDB_ID_OLD,
        "*",
    };
    struct t_world world;
    t_world_default(&world);
    struct emu_principal_resolver r = {t_resolve, &world};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char src[T_TEXT_MAX];
        char row[128];
        snprintf(row, sizeof(row), "valid principal row %zu (%s)", i, values[i]);
        snprintf(src, sizeof(src),
                 "{'Statement':{'Effect':'Allow','Principal':{'AWS':['%s']},"
                 "'Action':'sts:AssumeRole'}}",
                 values[i]);
        struct emu_policy *p = t_parse(src, EMU_POLICY_TRUST, &r, row);
        emu_policy_destroy(p);
    }
}

/* ==== MalformedPolicyDocument texts ==== */

Test(policy, malformed_policy_document_table)
{
    static const struct {
        const char *name;
        enum emu_policy_kind kind;
        const char *text;
        const char *message;
    } rows[] = {
        {"not JSON, identity", EMU_POLICY_IDENTITY, "This is not a json document",
         "Syntax errors in policy."},
        {"not JSON, managed", EMU_POLICY_MANAGED, "{'Version':'2012-10-17',",
         "Syntax errors in policy."},
        {"not JSON, trust", EMU_POLICY_TRUST, "assume-role-policy.json",
         "This policy contains invalid Json"},
        {"trailing comma, trust", EMU_POLICY_TRUST,
         "{'Statement':[{'Effect':'Allow','Principal':'*','Action':'sts:AssumeRole',}]}",
         "This policy contains invalid Json"},
        {"duplicate key", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Effect':'Deny','Action':'s3:*','Resource':'*'}}",
         "Syntax errors in policy."},
        {"not an object", EMU_POLICY_IDENTITY, "['x']", "Syntax errors in policy."},
        {"no Statement", EMU_POLICY_IDENTITY, "{'Version':'2012-10-17'}",
         "Syntax errors in policy."},
        {"empty Statement", EMU_POLICY_IDENTITY, "{'Version':'2012-10-17','Statement':[]}",
         "Syntax errors in policy."},
        {"Statement of strings", EMU_POLICY_IDENTITY,
         "{'Version':'2012-10-17','Statement':['afd']}", "Syntax errors in policy."},
        {"unknown Version", EMU_POLICY_IDENTITY,
         "{'Version':'2013-10-17','Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*'}}",
         "Syntax errors in policy."},
        {"unknown top-level field", EMU_POLICY_IDENTITY,
         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*'},"
         "'Extra field':'value'}",
         "Syntax errors in policy."},
        {"Id not a string", EMU_POLICY_RESOURCE,
         "{'Id':{},'Statement':{'Effect':'Allow','Principal':'*','Action':'kms:*','Resource':'*'}}",
         "Syntax errors in policy."},
        {"unknown statement field", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*','Extra field':'v'}}",
         "Syntax errors in policy."},
        {"missing Effect", EMU_POLICY_IDENTITY,
         "{'Version':'2012-10-17','Statement':{'Action':'s3:*','Resource':'*'}}",
         "Syntax errors in policy."},
        {"invalid Effect", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'invalid','Action':'s3:*','Resource':'*'}}",
         "Syntax errors in policy."},
        {"Action and NotAction", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','NotAction':'s3:Get','Resource':'*'}}",
         "Syntax errors in policy."},
        {"Resource and NotResource", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*','NotResource':[]}}",
         "Syntax errors in policy."},
        {"Action an object", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':{},'Resource':'*'}}", "Syntax errors in policy."},
        {"Resource list with an object", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Deny','Action':'s3:*','Resource':['adfdf',{}]}}",
         "Syntax errors in policy."},
        {"Condition a list", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':[]}}",
         "Syntax errors in policy."},
        {"Condition block a string", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*',"
         "'Condition':{'DateGreaterThan':'b'}}}",
         "Syntax errors in policy."},
        {"unknown condition operator", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*',"
         "'Condition':{'StringEqualz':{'k':'v'}}}}",
         "Syntax errors in policy."},
        {"NullIfExists", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*',"
         "'Condition':{'NullIfExists':{'k':'true'}}}}",
         "Syntax errors in policy."},
        {"condition value an object", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*',"
         "'Condition':{'StringEquals':{'k':{'a':'b'}}}}}",
         "Syntax errors in policy."},
        {"condition value null", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*',"
         "'Condition':{'StringEquals':{'k':[null]}}}}",
         "Syntax errors in policy."},
        {"Principal a bare ARN", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Allow','Principal':'arn:aws:iam::111122223333:root',"
         "'Action':'sts:AssumeRole'}}",
         "Syntax errors in policy."},
        {"Principal with unknown type", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Allow','Principal':{'IAM':'x'},'Action':'sts:AssumeRole'}}",
         "Syntax errors in policy."},
        {"Principal and NotPrincipal", EMU_POLICY_RESOURCE,
         "{'Statement':{'Effect':'Allow','Principal':'*','NotPrincipal':{'AWS':'*'},"
         "'Action':'kms:*','Resource':'*'}}",
         "Syntax errors in policy."},
        {"identity policy with Principal", EMU_POLICY_IDENTITY,
         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Principal':{'AWS':'*'},"
         "'Action':'s3:*','Resource':'*'}}",
         "Policy document should not specify a principal."},
        {"managed policy with NotPrincipal", EMU_POLICY_MANAGED,
         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','NotPrincipal':{'AWS':'*'},"
         "'Action':'s3:*','Resource':'*'}}",
         "Policy document should not specify a principal."},
        {"trust policy with Resource", EMU_POLICY_TRUST,
         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Principal':{'Service':"
         "'vpc-flow-logs.amazonaws.com'},'Action':'sts:AssumeRole','Resource':'*'}}",
         "Has prohibited field Resource"},
        {"trust policy with NotResource", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Allow','Principal':'*','Action':'sts:AssumeRole',"
         "'NotResource':'*'}}",
         "Has prohibited field NotResource"},
        {"managed policy without Version", EMU_POLICY_MANAGED,
         "{'Statement':{'Effect':'Allow','Action':'s3:ListBucket','Resource':"
         "'arn:aws:s3:::example_bucket'}}",
         "Policy document must be version 2012-10-17 or greater."},
        {"managed policy with 2008-10-17", EMU_POLICY_MANAGED,
         "{'Version':'2008-10-17','Statement':{'Effect':'Allow','Action':'s3:ListBucket',"
         "'Resource':'arn:aws:s3:::example_bucket'}}",
         "Policy document must be version 2012-10-17 or greater."},
        {"Effect in lower case", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'allow','Action':'s3:*','Resource':'*'}}",
         "The policy failed legacy parsing"},
        {"unreadable date", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*',"
         "'Condition':{'DateGreaterThan':{'aws:CurrentTime':'2019-13-45'}}}}",
         "The policy failed legacy parsing"},
        {"five-part ARN", EMU_POLICY_IDENTITY,
         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'s3:ListBucket',"
         "'Resource':'arn:aws:s3::example_bucket'}}",
         "The policy failed legacy parsing"},
        {"duplicate Sid", EMU_POLICY_IDENTITY,
         "{'Statement':[{'Sid':'a','Effect':'Allow','Action':'s3:*','Resource':'*'},"
         "{'Sid':'a','Effect':'Deny','Action':'s3:*','Resource':'*'}]}",
         "Statement IDs (SID) in a single policy must be unique."},
        {"duplicate Sid in a key policy", EMU_POLICY_RESOURCE,
         "{'Statement':[{'Sid':'a','Effect':'Allow','Principal':'*','Action':'kms:*',"
         "'Resource':'*'},{'Sid':'a','Effect':'Deny','Principal':'*','Action':'kms:*',"
         "'Resource':'*'}]}",
         "Statement IDs (SID) in a single policy must be unique."},
        {"no Action", EMU_POLICY_IDENTITY,
         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Resource':"
         "'arn:aws:s3:::example_bucket'}}",
         "Policy statement must contain actions."},
        {"empty Action", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':[],'Resource':'*'}}",
         "Policy statement must contain actions."},
        {"no Action in a trust policy", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Allow','Principal':'*'}}",
         "Policy statement must contain actions."},
        {"no Resource", EMU_POLICY_IDENTITY,
         "{'Version':'2012-10-17','Statement':{'Effect':'Allow','Action':'s3:ListBucket'}}",
         "Policy statement must contain resources."},
        {"actions are checked before resources", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow'}}", "Policy statement must contain actions."},
        {"trust policy without Principal", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Allow','Action':'sts:AssumeRole'}}",
         "Missing required field Principal"},
        {"key policy without Principal", EMU_POLICY_RESOURCE,
         "{'Statement':{'Effect':'Allow','Action':'kms:*','Resource':'*'}}",
         "Policy contains a statement with one or more invalid principals."},
        {"Resource not an ARN", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:ListBucket','Resource':'invalid resource'}}",
         "Resource invalid resource must be in ARN format or \"*\"."},
        {"empty Resource", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:ListBucket','Resource':''}}",
         "Resource  must be in ARN format or \"*\"."},
        {"bad partition", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','NotAction':'s3s:ListBucket','Resource':'a:bsdfdsafsad'}}",
         "Partition \"bsdfdsafsad\" is not valid for resource \"arn:bsdfdsafsad:*:*:*:*\"."},
        {"bad partition, long", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','NotAction':'s3s:ListBucket','Resource':'a:b:c:d:e:f:g:h'}"
         "}",
         "Partition \"b\" is not valid for resource \"arn:b:c:d:e:f:g:h\"."},
        {"missing arn prefix", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:ListBucket','Resource':"
         "'aws:s3:::example_bucket'}}",
         "Partition \"s3\" is not valid for resource \"arn:s3:::example_bucket:*\"."},
        {"no vendor", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:ListBucket','Resource':'arn:aws'}}",
         "Resource vendor must be fully qualified and cannot contain regexes."},
        {"IAM resource with region", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'iam:GetRole','Resource':"
         "'arn:aws:iam:us-east-1:111122223333:role/x'}}",
         "IAM resource arn:aws:iam:us-east-1:111122223333:role/x cannot contain region "
         "information."},
        {"S3 resource with region", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:GetObject','Resource':"
         "'arn:aws:s3:us-east-1::bucket'}}",
         "Resource arn:aws:s3:us-east-1::bucket can not contain region information."},
        {"IAM resource path", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:ListBucket','Resource':"
         "'arn:aws:iam:::example_bucket'}}",
         "IAM resource path must either be \"*\" or start with user/, federated-user/, role/, "
         "group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, "
         "saml-provider/, oidc-provider/, report/, access-report/."},
        {"action without vendor", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'invalid','Resource':'*'}}",
         "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
        {"empty NotAction", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','NotAction':'','Resource':'*'}}",
         "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
        {"action with two colons", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:List:Bucket','Resource':'*'}}",
         "Actions/Condition can contain only one colon."},
        {"invalid vendor", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'a a:ListBucket','Resource':'*'}}",
         "Vendor a a is not valid"},
        {"trust policy with a KMS action", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Allow','Principal':{'AWS':'*'},'Action':'kms:Decrypt'}}",
         "AssumeRole policy may only specify STS AssumeRole actions."},
        {"malformed principal, trust", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::*:root'},"
         "'Action':'sts:AssumeRole'}}",
         "Invalid principal in policy: \"AWS\":\"arn:aws:iam::*:root\""},
        {"malformed principal, key policy", EMU_POLICY_RESOURCE,
         "{'Statement':{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::*:root'},"
         "'Action':'kms:*','Resource':'*'}}",
         "Policy contains a statement with one or more invalid principals."},
        {"syntax fault outranks later faults", EMU_POLICY_IDENTITY,
         "{'Statement':[{'Effect':'Allow','Action':'invalid'},{'Effect':'Allow','Bogus':1}]}",
         "Syntax errors in policy."},
        {"legacy fault outranks missing actions", EMU_POLICY_IDENTITY,
         "{'Statement':[{'Effect':'Allow','Resource':'*'},{'Effect':'deny','Action':'s3:*',"
         "'Resource':'*'}]}",
         "The policy failed legacy parsing"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char text[T_TEXT_MAX];
        t_json(rows[i].text, text);
        struct emu_policy *p = NULL;
        struct emu_policy_error err;
        int rc = emu_policy_parse(text, strlen(text), rows[i].kind, NULL, &p, &err);
        cr_expect_eq(rc, CMEK_ERR_PARSE, "malformed row %zu (%s): rc %d", i, rows[i].name, rc);
        cr_expect_null(p, "malformed row %zu (%s): no policy on failure", i, rows[i].name);
        cr_expect_str_eq(err.message, rows[i].message, "malformed row %zu (%s)", i, rows[i].name);
        emu_policy_destroy(p);
    }
}

Test(policy, accepted_documents_table)
{
    static const struct {
        const char *name;
        enum emu_policy_kind kind;
        const char *text;
    } rows[] = {
        {"inline policy without Version", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*'}}"},
        {"inline policy with 2008-10-17", EMU_POLICY_IDENTITY,
         "{'Version':'2008-10-17','Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*'}}"},
        {"managed policy", EMU_POLICY_MANAGED,
         "{'Version':'2012-10-17','Statement':[{'Sid':'A1','Effect':'Deny','NotAction':"
         "['iam:*'],'NotResource':'arn:aws:iam::111122223333:role/*'}]}"},
        {"trust policy without Version", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Allow','Principal':{'Service':'ec2.amazonaws.com'},"
         "'Action':['sts:AssumeRole','sts:TagSession']}}"},
        {"trust policy NotAction", EMU_POLICY_TRUST,
         "{'Statement':{'Effect':'Deny','Principal':'*','NotAction':'sts:AssumeRole'}}"},
        {"default key policy", EMU_POLICY_RESOURCE,
         "{\n  'Version' : '2012-10-17',\n  'Id' : 'key-default-1',\n  'Statement' : [ {\n"
         "    'Sid' : 'Enable IAM User Permissions',\n    'Effect' : 'Allow',\n"
         "    'Principal' : {\n      'AWS' : 'arn:aws:iam::111122223333:root'\n    },\n"
         "    'Action' : 'kms:*',\n    'Resource' : '*'\n  } ]\n}"},
        {"unknown operator with empty block", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':"
         "{'Bogus':{}}}}"},
        {"empty Sids may repeat", EMU_POLICY_IDENTITY,
         "{'Statement':[{'Sid':'','Effect':'Allow','Action':'s3:*','Resource':'*'},"
         "{'Sid':'','Effect':'Allow','Action':'s3:*','Resource':'*'}]}"},
        {"condition values of every scalar type", EMU_POLICY_IDENTITY,
         "{'Statement':{'Effect':'Allow','Action':'s3:*','Resource':'*','Condition':"
         "{'NumericLessThan':{'n':[1,2.5,'3']},'Bool':{'b':false}}}}"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char row[96];
        snprintf(row, sizeof(row), "accepted row %zu (%s)", i, rows[i].name);
        struct emu_policy *p = t_parse(rows[i].text, rows[i].kind, NULL, row);
        emu_policy_destroy(p);
    }
}

Test(policy, document_over_the_cap_is_a_limit_error)
{
    size_t len = EMU_POLICY_MAX_BYTES + 1;
    char *text = malloc(len);
    cr_assert_not_null(text);
    memset(text, ' ', len);
    text[0] = '{';
    text[len - 1] = '}';
    struct emu_policy *p = NULL;
    struct emu_policy_error err;
    int rc = emu_policy_parse(text, len, EMU_POLICY_IDENTITY, NULL, &p, &err);
    cr_expect_eq(rc, CMEK_ERR_LIMIT);
    cr_expect_str_eq(err.message, "Cannot exceed quota for PolicySize: 131072");
    cr_expect_null(p);
    /* At the cap it is read (and here fails only for having no Statement). */
    rc = emu_policy_parse(text, len - 1, EMU_POLICY_IDENTITY, NULL, &p, &err);
    cr_expect_eq(rc, CMEK_ERR_PARSE);
    free(text);
}

Test(policy, parse_rejects_bad_arguments)
{
    struct emu_policy *p = NULL;
    struct emu_policy_error err;
    cr_expect_eq(emu_policy_parse(NULL, 0, EMU_POLICY_IDENTITY, NULL, &p, &err),
                 CMEK_ERR_INVALID_ARG);
    cr_expect_eq(emu_policy_parse("{}", 2, EMU_POLICY_IDENTITY, NULL, NULL, &err),
                 CMEK_ERR_INVALID_ARG);
    cr_expect_eq(emu_policy_parse("{}", 2, (enum emu_policy_kind)42, NULL, &p, &err),
                 CMEK_ERR_INVALID_ARG);
    /* err may be NULL. */
    cr_expect_eq(emu_policy_parse("{}", 2, EMU_POLICY_IDENTITY, NULL, &p, NULL), CMEK_ERR_PARSE);
    cr_expect_null(p);
    emu_policy_destroy(NULL);
}

/* ==== emu_authorize ==== */

#define ROOT_STMT                                                                                  \
    "{'Sid':'Enable IAM User Permissions','Effect':'Allow','Principal':{'AWS':"                    \
    "'arn:aws:iam::111122223333:root'},'Action':'kms:*','Resource':'*'}"
#define CRDB_STMT                                                                                  \
    "{'Effect':'Allow','Principal':{'AWS':'" CRDB_ROLE "'},'Action':['kms:Encrypt',"               \
    "'kms:Decrypt','kms:GenerateDataKey*','kms:DescribeKey','kms:ReEncrypt*'],'Resource':'*'}"
#define ID_ALLOW_KMS "{'Statement':{'Effect':'Allow','Action':'kms:*','Resource':'*'}}"
#define ID_ALLOW_KEY                                                                               \
    "{'Statement':{'Effect':'Allow','Action':'kms:Decrypt','Resource':'" X_KEY_ARN "'}}"

Test(policy, authorize_table)
{
    static const struct {
        const char *name;
        const char *resource_policy; /* NULL: none */
        const char *identity;        /* NULL: no identity policy */
        enum t_who who;
        const char *resource;
        const char *resource_account;
        bool required;
        enum emu_authz_outcome expect;
    } rows[] = {
        {"key policy names the role: no identity policy needed", "{'Statement':[" CRDB_STMT "]}",
         NULL, T_SESSION, KEY_ARN, ACCT, true, EMU_AUTHZ_ALLOW},
        {"key policy names the account root: identity policy needed",
         "{'Statement':[" ROOT_STMT "]}", NULL, T_SESSION, KEY_ARN, ACCT, true,
         EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW},
        {"key policy names the account id: identity policy needed",
         "{'Statement':{'Effect':'Allow','Principal':{'AWS':'111122223333'},'Action':'kms:*',"
         "'Resource':'*'}}",
         NULL, T_USER, KEY_ARN, ACCT, true, EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW},
        {"key policy names the account root, identity allows", "{'Statement':[" ROOT_STMT "]}",
         ID_ALLOW_KMS, T_SESSION, KEY_ARN, ACCT, true, EMU_AUTHZ_ALLOW},
        {"no matching key policy statement", "{'Statement':[" CRDB_STMT "]}", ID_ALLOW_KMS, T_USER,
         KEY_ARN, ACCT, true, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"key policy allows Principal * in the same account",
         "{'Statement':{'Effect':'Allow',"
         "'Principal':'*','Action':'kms:*',"
         "'Resource':'*'}}",
         NULL, T_USER, KEY_ARN, ACCT, true, EMU_AUTHZ_ALLOW},
        {"identity deny beats a direct key policy allow", "{'Statement':[" CRDB_STMT "]}",
         "{'Statement':{'Effect':'Deny','Action':'kms:Decrypt','Resource':'*'}}", T_SESSION,
         KEY_ARN, ACCT, true, EMU_AUTHZ_DENY_EXPLICIT_IDENTITY},
        {"key policy deny beats identity allow",
         "{'Statement':[" ROOT_STMT ",{'Effect':'Deny','Principal':{'AWS':'111122223333'},"
         "'Action':'kms:Decrypt','Resource':'*'}]}",
         ID_ALLOW_KMS, T_USER, KEY_ARN, ACCT, true, EMU_AUTHZ_DENY_EXPLICIT_RESOURCE},
        {"both deny: identity reported",
         "{'Statement':{'Effect':'Deny','Principal':'*','Action':'kms:*','Resource':'*'}}",
         "{'Statement':{'Effect':'Deny','Action':'kms:*','Resource':'*'}}", T_USER, KEY_ARN, ACCT,
         true, EMU_AUTHZ_DENY_EXPLICIT_IDENTITY},
        {"root, key policy names root", "{'Statement':[" ROOT_STMT "]}", NULL, T_ROOT, KEY_ARN,
         ACCT, true, EMU_AUTHZ_ALLOW},
        {"root, key policy names someone else", "{'Statement':[" CRDB_STMT "]}", NULL, T_ROOT,
         KEY_ARN, ACCT, true, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"root, no resource policy needed", NULL, NULL, T_ROOT, "*", ACCT, false, EMU_AUTHZ_ALLOW},
        {"no resource policy, not required: identity decides", NULL, ID_ALLOW_KMS, T_USER, "*",
         ACCT, false, EMU_AUTHZ_ALLOW},
        {"no resource policy, not required, no identity allow", NULL, NULL, T_USER, "*", ACCT,
         false, EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW},
        {"no resource policy, required", NULL, ID_ALLOW_KMS, T_USER, KEY_ARN, ACCT, true,
         EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"optional resource policy silent: identity decides",
         "{'Statement':{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::111122223333:user/bob'},"
         "'Action':'s3:*','Resource':'*'}}",
         ID_ALLOW_KMS, T_USER, KEY_ARN, ACCT, false, EMU_AUTHZ_ALLOW},
        /* Cross-account: the key lives in OTHER, the caller in ACCT. */
        {"cross-account, key policy names the role, no identity",
         "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'" CRDB_ROLE
         "'},'Action':'kms:Decrypt','Resource':'*'}]}",
         NULL, T_SESSION, X_KEY_ARN, OTHER, true, EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW},
        {"cross-account, key policy names the role, identity allows",
         "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'" CRDB_ROLE
         "'},'Action':'kms:Decrypt','Resource':'*'}]}",
         ID_ALLOW_KEY, T_SESSION, X_KEY_ARN, OTHER, true, EMU_AUTHZ_ALLOW},
        {"cross-account, key policy names the caller's account, identity allows",
         "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::111122223333:root'},"
         "'Action':'kms:Decrypt','Resource':'*'}]}",
         ID_ALLOW_KEY, T_SESSION, X_KEY_ARN, OTHER, true, EMU_AUTHZ_ALLOW},
        {"cross-account, key policy names only its own account",
         "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::444455556666:root'},"
         "'Action':'kms:*','Resource':'*'}]}",
         ID_ALLOW_KEY, T_SESSION, X_KEY_ARN, OTHER, true, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"cross-account, identity allows another key only",
         "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'111122223333'},"
         "'Action':'kms:Decrypt','Resource':'*'}]}",
         "{'Statement':{'Effect':'Allow','Action':'kms:Decrypt','Resource':'" KEY_ARN "'}}",
         T_SESSION, X_KEY_ARN, OTHER, true, EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW},
        {"cross-account, Principal * still needs identity",
         "{'Statement':{'Effect':'Allow','Principal':'*','Action':'kms:*','Resource':'*'}}", NULL,
         T_SESSION, X_KEY_ARN, OTHER, true, EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW},
        {"cross-account root: its own side is implicit",
         "{'Statement':[{'Effect':'Allow','Principal':{'AWS':'111122223333'},"
         "'Action':'kms:Decrypt','Resource':'*'}]}",
         NULL, T_ROOT, X_KEY_ARN, OTHER, true, EMU_AUTHZ_ALLOW},
        {"cross-account root without a resource allow", "{'Statement':[" ROOT_STMT "]}", NULL,
         T_X_ROOT, KEY_ARN, ACCT, true, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"cross-account, no resource policy", NULL, ID_ALLOW_KMS, T_SESSION, X_KEY_ARN, OTHER,
         false, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char row[128];
        snprintf(row, sizeof(row), "authorize row %zu (%s)", i, rows[i].name);
        struct emu_policy *res =
            rows[i].resource_policy != NULL
                ? t_parse(rows[i].resource_policy, EMU_POLICY_RESOURCE, NULL, row)
                : NULL;
        struct emu_policy *id = rows[i].identity != NULL
                                    ? t_parse(rows[i].identity, EMU_POLICY_IDENTITY, NULL, row)
                                    : NULL;
        const struct emu_policy *ids[1] = {id};
        struct emu_eval_request req = t_req(rows[i].who, "kms:Decrypt", rows[i].resource);
        struct emu_authz_input in = {
            .req = &req,
            .identity = ids,
            .n_identity = id != NULL ? 1 : 0,
            .resource = res,
            .resource_account = rows[i].resource_account,
            .resource_policy_required = rows[i].required,
        };
        enum emu_authz_outcome got = emu_authorize(&in);
        cr_expect_eq(got, rows[i].expect, "%s: got %d, want %d", row, got, rows[i].expect);
        emu_policy_destroy(res);
        emu_policy_destroy(id);
    }
}

/* ==== AccessDenied texts ==== */

Test(policy, authz_message_table)
{
    static const struct {
        enum emu_authz_outcome outcome;
        enum t_who who;
        const char *action;
        const char *resource;
        const char *type;
        const char *message;
    } rows[] = {
        {EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW, T_SESSION, "kms:Decrypt", KEY_ARN, "resource-based",
         "User: arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/node1 is not authorized to "
         "perform: kms:Decrypt on resource: " KEY_ARN
         " because no identity-based policy allows the kms:Decrypt action"},
        {EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW, T_USER, "kms:DescribeKey", KEY_ARN, "resource-based",
         "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: "
         "kms:DescribeKey on resource: " KEY_ARN
         " because no resource-based policy allows the kms:DescribeKey action"},
        {EMU_AUTHZ_DENY_EXPLICIT_IDENTITY, T_USER, "kms:Decrypt", KEY_ARN, "resource-based",
         "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt "
         "on resource: " KEY_ARN " with an explicit deny in an identity-based policy"},
        {EMU_AUTHZ_DENY_EXPLICIT_RESOURCE, T_USER, "kms:Decrypt", KEY_ARN, "resource-based",
         "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt "
         "on resource: " KEY_ARN " with an explicit deny in a resource-based policy"},
        {EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW, T_USER, "sts:AssumeRole",
         "arn:aws:iam::111122223333:role/target", "role trust",
         "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: "
         "sts:AssumeRole on resource: arn:aws:iam::111122223333:role/target because no role "
         "trust policy allows the sts:AssumeRole action"},
        {EMU_AUTHZ_DENY_EXPLICIT_RESOURCE, T_SESSION, "sts:AssumeRole",
         "arn:aws:iam::111122223333:role/target", "role trust",
         "User: arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/node1 is not authorized "
         "to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/target with an "
         "explicit deny in the role trust policy"},
        {EMU_AUTHZ_DENY_EXPLICIT_RESOURCE, T_ROOT, "s3:GetObject", "arn:aws:s3:::b/k",
         "access point",
         "User: arn:aws:iam::111122223333:root is not authorized to perform: s3:GetObject on "
         "resource: arn:aws:s3:::b/k with an explicit deny in an access point policy"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct emu_eval_request req = t_req(rows[i].who, rows[i].action, rows[i].resource);
        struct cmek_buf out;
        cmek_buf_init(&out, 4096);
        int rc = emu_authz_message(rows[i].outcome, &req, rows[i].type, &out);
        cr_expect_eq(rc, CMEK_OK, "message row %zu: rc %d", i, rc);
        cr_expect_str_eq(cmek_buf_cstr(&out), rows[i].message, "message row %zu", i);
        cmek_buf_clean_up(&out);
    }
    struct emu_eval_request req = t_req(T_USER, "kms:Decrypt", KEY_ARN);
    struct cmek_buf out;
    cmek_buf_init(&out, 4096);
    cr_expect_eq(emu_authz_message(EMU_AUTHZ_ALLOW, &req, "resource-based", &out),
                 CMEK_ERR_INVALID_ARG);
    cr_expect_eq(out.len, 0u, "nothing appended for ALLOW");
    cmek_buf_clean_up(&out);
}

/* ==== STS trust policy with ExternalId (IAM guide, "Access to AWS accounts owned by third
 * parties") ==== */

Test(policy, trust_policy_external_id)
{
    struct t_world world;
    t_world_default(&world);
    struct emu_principal_resolver r = {t_resolve, &world};
    struct emu_policy *trust =
        t_parse("{'Version':'2012-10-17','Statement':{'Effect':'Allow','Principal':{'AWS':"
                "'arn:aws:iam::111122223333:user/alice'},'Action':'sts:AssumeRole',"
                "'Condition':{'StringEquals':{'sts:ExternalId':'crdb-external-id'}}}}",
                EMU_POLICY_TRUST, &r, "trust");
    static const struct {
        const char *name;
        const char *external_id; /* NULL: not passed */
        enum emu_authz_outcome expect;
    } rows[] = {
        {"missing ExternalId", NULL, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"wrong ExternalId", "other", EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"ExternalId differs in case", "CRDB-EXTERNAL-ID", EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"right ExternalId", "crdb-external-id", EMU_AUTHZ_ALLOW},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *vals[1] = {rows[i].external_id};
        struct emu_condition_entry entry = {"sts:ExternalId", vals, 1};
        struct emu_eval_request req =
            t_req(T_USER, "sts:AssumeRole", "arn:aws:iam::111122223333:role/target");
        req.conditions = rows[i].external_id != NULL ? &entry : NULL;
        req.n_conditions = rows[i].external_id != NULL ? 1 : 0;
        struct emu_authz_input in = {&req, NULL, 0, trust, ACCT, true};
        enum emu_authz_outcome got = emu_authorize(&in);
        cr_expect_eq(got, rows[i].expect, "external id row %zu (%s): got %d", i, rows[i].name, got);
        if (got != EMU_AUTHZ_ALLOW) {
            struct cmek_buf out;
            cmek_buf_init(&out, 4096);
            cr_expect_eq(emu_authz_message(got, &req, "role trust", &out), CMEK_OK);
            cr_expect_str_eq(cmek_buf_cstr(&out),
                             "User: arn:aws:iam::111122223333:user/alice is not authorized to "
                             "perform: sts:AssumeRole on resource: "
                             "arn:aws:iam::111122223333:role/target because no role trust "
                             "policy allows the sts:AssumeRole action",
                             "external id row %zu (%s)", i, rows[i].name);
            cmek_buf_clean_up(&out);
        }
    }
    /* An ExternalId the trust policy does not check is accepted (aws-sdk-js#3869). */
    struct emu_policy *plain = t_parse(
        "{'Statement':{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::111122223333:user/alice'},"
        "'Action':'sts:AssumeRole'}}",
        EMU_POLICY_TRUST, &r, "plain trust");
    const char *vals[1] = {"unexpected"};
    struct emu_condition_entry entry = {"sts:ExternalId", vals, 1};
    struct emu_eval_request req =
        t_req(T_USER, "sts:AssumeRole", "arn:aws:iam::111122223333:role/target");
    req.conditions = &entry;
    req.n_conditions = 1;
    struct emu_authz_input in = {&req, NULL, 0, plain, ACCT, true};
    cr_expect_eq(emu_authorize(&in), EMU_AUTHZ_ALLOW);
    /* Someone the trust policy does not name. */
    req.principal = &s_who[T_USER2];
    cr_expect_eq(emu_authorize(&in), EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW);
    emu_policy_destroy(plain);
    emu_policy_destroy(trust);
}

/* ==== The CockroachDB CMEK key policy ==== */

Test(policy, cockroachdb_cmek_key_policy)
{
    struct t_world world;
    t_world_default(&world);
    struct emu_principal_resolver r = {t_resolve, &world};
    struct emu_policy *with_root =
        t_parse("{'Version':'2012-10-17','Statement':[" ROOT_STMT "," CRDB_STMT "]}",
                EMU_POLICY_RESOURCE, &r, "crdb + root");
    struct emu_policy *only_crdb = t_parse("{'Version':'2012-10-17','Statement':[" CRDB_STMT "]}",
                                           EMU_POLICY_RESOURCE, &r, "crdb only");
    static const struct {
        const char *action;
        enum emu_authz_outcome with_root;
        enum emu_authz_outcome only_crdb;
    } rows[] = {
        {"kms:Encrypt", EMU_AUTHZ_ALLOW, EMU_AUTHZ_ALLOW},
        {"kms:Decrypt", EMU_AUTHZ_ALLOW, EMU_AUTHZ_ALLOW},
        {"kms:GenerateDataKey", EMU_AUTHZ_ALLOW, EMU_AUTHZ_ALLOW},
        {"kms:GenerateDataKeyWithoutPlaintext", EMU_AUTHZ_ALLOW, EMU_AUTHZ_ALLOW},
        {"kms:DescribeKey", EMU_AUTHZ_ALLOW, EMU_AUTHZ_ALLOW},
        {"kms:ReEncryptFrom", EMU_AUTHZ_ALLOW, EMU_AUTHZ_ALLOW},
        {"kms:ReEncryptTo", EMU_AUTHZ_ALLOW, EMU_AUTHZ_ALLOW},
        {"kms:PutKeyPolicy", EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"kms:ScheduleKeyDeletion", EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW,
         EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"kms:DisableKey", EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
        {"kms:CreateGrant", EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW, EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct emu_eval_request req = t_req(T_SESSION, rows[i].action, KEY_ARN);
        struct emu_authz_input in = {&req, NULL, 0, with_root, ACCT, true};
        cr_expect_eq(emu_authorize(&in), rows[i].with_root, "crdb row %zu (%s) with root", i,
                     rows[i].action);
        in.resource = only_crdb;
        cr_expect_eq(emu_authorize(&in), rows[i].only_crdb, "crdb row %zu (%s) crdb only", i,
                     rows[i].action);
        /* Another session of the same role is covered by the role ARN too. */
        req.principal = &s_who[T_SESSION2];
        cr_expect_eq(emu_authorize(&in), rows[i].only_crdb, "crdb row %zu (%s) node2", i,
                     rows[i].action);
        /* A role recreated after the policy was written is not. */
        req.principal = &s_who[T_RECREATED];
        cr_expect_eq(emu_authorize(&in), EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW,
                     "crdb row %zu (%s) recreated role", i, rows[i].action);
    }
    struct emu_eval_request req = t_req(T_SESSION, "kms:ScheduleKeyDeletion", KEY_ARN);
    struct cmek_buf out;
    cmek_buf_init(&out, 4096);
    cr_expect_eq(emu_authz_message(EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW, &req, "resource-based", &out),
                 CMEK_OK);
    cr_expect_str_eq(cmek_buf_cstr(&out),
                     "User: arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/node1 is not "
                     "authorized to perform: kms:ScheduleKeyDeletion on resource: " KEY_ARN
                     " because no resource-based policy allows the kms:ScheduleKeyDeletion "
                     "action");
    cmek_buf_clean_up(&out);
    emu_policy_destroy(only_crdb);
    emu_policy_destroy(with_root);
}

/* ==== Evaluation is read-only ==== */

Test(policy, evaluate_null_inputs_are_inert)
{
    struct emu_policy_eval ev = {true, true, true};
    struct emu_eval_request req = t_req(T_USER, "kms:Decrypt", KEY_ARN);
    emu_policy_evaluate(NULL, &req, &ev);
    cr_expect(!ev.allow && !ev.deny && !ev.allow_direct);
    cr_expect_eq(emu_authorize(NULL), EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW);
    cr_expect_str_eq(emu_policy_text(NULL), "");
    cr_expect_null(emu_policy_to_json(NULL));
}
