#include "bench_setup.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ORG "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"

const struct bench_creds bench_admin = {"AKIAIOSFODNN7EXAMPLE",
                                        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const struct bench_creds bench_crdb = {"AKIAI44QH8DHBEXAMPLE",
                                       "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", ""};

const char bench_create_role_form[] =
    "Action=CreateRole&Version=2010-05-08&RoleName=crdb-cmek-role&AssumeRolePolicyDocument="
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow"
    "%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A999988887777%3Aroot%22"
    "%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Condition%22%3A%7B%22StringEquals%22"
    "%3A%7B%22sts%3AExternalId%22%3A%22" S_ORG "%22%7D%7D%7D%5D%7D";

const char bench_assume_role_form[] =
    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole"
    "%2Fcrdb-cmek-role&RoleSessionName=bench&ExternalId=" S_ORG;

char *bench_create_key_body(void)
{
    json_t *policy = json_pack(
        "{s:s,s:[{s:s,s:{s:s},s:s,s:s},{s:s,s:{s:s},s:[sssss],s:s}]}", "Version", "2012-10-17",
        "Statement", "Effect", "Allow", "Principal", "AWS", "arn:aws:iam::111122223333:root",
        "Action", "kms:*", "Resource", "*", "Effect", "Allow", "Principal", "AWS",
        "arn:aws:iam::111122223333:role/crdb-cmek-role", "Action", "kms:Encrypt", "kms:Decrypt",
        "kms:GenerateDataKey*", "kms:DescribeKey", "kms:ReEncrypt*", "Resource", "*");
    char *policy_text = policy ? json_dumps(policy, JSON_COMPACT) : NULL;
    json_t *create = policy_text ? json_pack("{s:s}", "Policy", policy_text) : NULL;
    char *body = create ? json_dumps(create, JSON_COMPACT) : NULL;
    free(policy_text);
    json_decref(policy);
    json_decref(create);
    if (body == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return body;
}

void bench_encrypt_body(const char *key_arn, char *out, size_t cap)
{
    snprintf(
        out, cap,
        "{\"KeyId\":\"%s\",\"Plaintext\":\"Y3VzdG9tZXIgZGF0YSBlbmNyeXB0ZWQgd2l0aCB0aGUgQ01FSyBv"
        "ZiB0aGUgY2x1c3Rlcg==\"}",
        key_arn);
}

/* The text of the first <tag> in xml, "" when there is none. */
static void s_xml(const char *xml, const char *tag, char *out, size_t cap)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = strstr(xml, open);
    const char *b = a ? strstr(a, close) : NULL;
    size_t n = a && b ? (size_t)(b - a - strlen(open)) : 0;
    n = n < cap - 1 ? n : cap - 1;
    memcpy(out, a ? a + strlen(open) : "", n);
    out[n] = '\0';
}

void bench_session_from_xml(const char *xml, struct bench_creds *out)
{
    s_xml(xml, "AccessKeyId", out->akid, sizeof(out->akid));
    s_xml(xml, "SecretAccessKey", out->secret, sizeof(out->secret));
    s_xml(xml, "SessionToken", out->token, sizeof(out->token));
}
