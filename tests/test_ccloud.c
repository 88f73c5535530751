/* Tests of the CockroachDB Cloud API (svc_ccloud.c), the emulated cluster as an AWS principal
 * (ccloud_agent.c) and the cluster's data semantics under CMEK (issue: Cloud side, 1-4). Every
 * Cloud API exchange goes through th_exchange, which logs it for the OpenAPI validator when
 * CMEK_CCLOUD_RESPONSE_LOG is set. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "store.h"
#include "test_common.h"

#define ORG      TH_CCLOUD_ORG
#define CLUSTER  "3c5e2a1b-7d9f-4e6a-8b2c-1f0d9e8c7b6a"
#define ROLE_ARN "arn:aws:iam::111122223333:role/crdb-cmek-role"
#define CRDB_ARN "arn:aws:iam::999988887777:user/cockroach-cloud-cmek"
#define SESSION  "arn:aws:sts::111122223333:assumed-role/crdb-cmek-role/crdb-cmek-" CLUSTER
#define ADMIN_STATEMENT                                                                            \
    "{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"        \
    "\"arn:aws:iam::111122223333:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}"
#define CMEK_STATEMENT                                                                             \
    "{\"Sid\":\"crdb-cmek-kms\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ROLE_ARN "\"},"    \
    "\"Action\":[\"kms:Encrypt\",\"kms:Decrypt\",\"kms:GenerateDataKey*\",\"kms:DescribeKey\","    \
    "\"kms:ReEncrypt*\"],\"Resource\":\"*\"}"
#define POLICY_WITH_CMEK                                                                           \
    "{\"Version\":\"2012-10-17\",\"Statement\":[" ADMIN_STATEMENT "," CMEK_STATEMENT "]}"
#define POLICY_WITHOUT_CMEK "{\"Version\":\"2012-10-17\",\"Statement\":[" ADMIN_STATEMENT "]}"
#define TRUST_WITH(ext)                                                                            \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"     \
    "\"arn:aws:iam::999988887777:root\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{"            \
    "\"StringEquals\":{\"sts:ExternalId\":\"" ext "\"}}}]}"

TH_ADMIN_FIXTURE()
static char s_key_arn[256], s_key_id[64];

TestSuite(ccloud_api, .init = s_init, .fini = s_fini);
TestSuite(ccloud_clusters, .init = s_init, .fini = s_fini);
TestSuite(ccloud_cmek, .init = s_init, .fini = s_fini);
TestSuite(ccloud_data, .init = s_init, .fini = s_fini);

/* ---- helpers ---- */

static const char *s_body(void)
{
    return cmek_buf_cstr(&s_t.body);
}

/* The last answer is the Cloud API error {code, message, details: []} with this status. */
static void s_expect_error(int status, int code, const char *message)
{
    cr_assert_eq(s_t.status, status, "status %d: %s", s_t.status, s_body());
    json_t *v = th_json(&s_t);
    cr_assert_eq(json_integer_value(json_object_get(v, "code")), code, "%s", s_body());
    cr_assert_str_eq(json_string_value(json_object_get(v, "message")), message);
    cr_assert(json_is_array(json_object_get(v, "details")));
    cr_assert_eq(json_array_size(json_object_get(v, "details")), 0);
    cr_assert_eq(json_object_size(v), 3, "%s", s_body());
    json_decref(v);
}

static void s_ok(int status)
{
    cr_assert_eq(status, 200, "status %d: %s", status, s_body());
}

/* A string at a dotted path of the last answer ("region_infos.0.status"). */
static const char *s_get(json_t *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = v;
    for (char *save = NULL, *part = strtok_r(buf, ".", &save); part && cur;
         part = strtok_r(NULL, ".", &save)) {
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)strtoul(part, NULL, 10))
                                 : json_object_get(cur, part);
    }
    return json_string_value(cur);
}

static void s_expect(const char *path, const char *want)
{
    json_t *v = th_json(&s_t);
    const char *got = s_get(v, path);
    cr_assert_not_null(got, "no %s in %s", path, s_body());
    cr_assert_str_eq(got, want, "%s in %s", path, s_body());
    json_decref(v);
}

static void s_create_role(const char *trust)
{
    char form[4096], enc[2048];
    snprintf(form, sizeof(form),
             "Action=CreateRole&Version=2010-05-08&RoleName=crdb-cmek-role&"
             "AssumeRolePolicyDocument=%s",
             th_form_encode(trust, enc, sizeof(enc)));
    cr_assert_eq(th_query(&s_t, "iam", &s_admin, form), 200, "%s", s_body());
}

static void s_create_key(const char *region, const char *policy, char *id, size_t id_cap, char *arn,
                         size_t arn_cap)
{
    cr_assert_eq(th_kms_json(&s_t, region, &s_admin, "CreateKey",
                             json_pack("{s:s,s:s}", "Description", "crdb", "Policy", policy)),
                 200, "%s", s_body());
    json_t *v = th_json(&s_t);
    snprintf(id, id_cap, "%s", s_get(v, "KeyMetadata.KeyId"));
    snprintf(arn, arn_cap, "%s", s_get(v, "KeyMetadata.Arn"));
    json_decref(v);
}

/* The customer's side as the CMEK docs set it up: the role trusting CockroachDB Cloud's
 * account with the organization id, the key in us-east-1 allowing the role. */
static void s_provision(void)
{
    s_create_role(TRUST_WITH(ORG));
    s_create_key("us-east-1", POLICY_WITH_CMEK, s_key_id, sizeof(s_key_id), s_key_arn,
                 sizeof(s_key_arn));
}

static int s_enable_with(const char *key_arn, const char *role_arn)
{
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"region_specs\":[{\"region\":\"us-east-1\",\"key_spec\":{\"type\":\"AWS_KMS\","
             "\"uri\":\"%s\",\"auth_principal\":\"%s\"}}]}",
             key_arn, role_arn);
    return th_ccloud(&s_t, "POST", "/api/v1/clusters/" CLUSTER "/cmek", body);
}

static void s_get_cmek(void)
{
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters/" CLUSTER "/cmek", NULL));
}

/* Provision, enable, poll once: ENABLED. */
static void s_enabled_cluster(void)
{
    s_provision();
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    s_get_cmek();
    s_expect("status", "ENABLED");
}

static int s_put_row(const char *key, const char *value)
{
    char path[512];
    snprintf(path, sizeof(path), "/_emulator/clusters/" CLUSTER "/rows/%s", key);
    return th_raw(&s_t, "PUT", path, "application/octet-stream", value);
}

static int s_get_row(const char *key)
{
    char path[512];
    snprintf(path, sizeof(path), "/_emulator/clusters/" CLUSTER "/rows/%s", key);
    return th_raw(&s_t, "GET", path, NULL, NULL);
}

static void s_expect_row(const char *key, const char *value)
{
    s_ok(s_get_row(key));
    s_expect("value", value);
}

static int s_restart(void)
{
    return th_raw(&s_t, "POST", "/_emulator/clusters/" CLUSTER "/restart", NULL, NULL);
}

static int s_restore(void)
{
    return th_raw(&s_t, "POST", "/_emulator/clusters/" CLUSTER "/restore", NULL, NULL);
}

static void s_key_op(const char *op)
{
    cr_assert_eq(th_kms_json(&s_t, NULL, &s_admin, op, json_pack("{s:s}", "KeyId", s_key_id)), 200,
                 "%s", s_body());
}

static void s_put_key_policy(const char *policy)
{
    cr_assert_eq(th_kms_json(&s_t, NULL, &s_admin, "PutKeyPolicy",
                             json_pack("{s:s,s:s,s:s}", "KeyId", s_key_id, "PolicyName", "default",
                                       "Policy", policy)),
                 200, "%s", s_body());
}

/* ---- auth, versions, routing ---- */

Test(ccloud_api, organization_answers_with_the_principal_and_echoes_the_version)
{
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/organization", NULL));
    s_expect("id", ORG);
    s_expect("name", "cmek-drill-org");
    s_expect("label", "cmek-drill-org");
    s_expect("cockroach_cloud_service_principals.aws.user_arn", CRDB_ARN);
    s_ok(th_ccloud_as(&s_t, "GET", "/api/v1/organization", TH_CCLOUD_KEY, "2022-03-31", NULL));
    s_ok(th_ccloud_as(&s_t, "GET", "/api/v1/organization", TH_CCLOUD_KEY, NULL, NULL));
}

Test(ccloud_api, missing_or_bad_key_is_unauthenticated)
{
    th_ccloud_as(&s_t, "GET", "/api/v1/organization", NULL, "2024-09-16", NULL);
    s_expect_error(401, 16,
                   "unauthenticated: missing API key; send \"Authorization: Bearer <API key>\"");
    th_ccloud_as(&s_t, "GET", "/api/v1/clusters", "CCDB1_not_a_key", "2024-09-16", NULL);
    s_expect_error(401, 16, "unauthenticated: the API key is not valid");
    th_ccloud_as(&s_t, "GET", "/api/v1/clusters/" CLUSTER "/cmek", "", "2024-09-16", NULL);
    s_expect_error(401, 16,
                   "unauthenticated: missing API key; send \"Authorization: Bearer <API key>\"");
}

Test(ccloud_api, unknown_cc_version_is_invalid_argument)
{
    th_ccloud_as(&s_t, "GET", "/api/v1/organization", TH_CCLOUD_KEY, "2021-01-01", NULL);
    s_expect_error(400, 3, "invalid Cc-Version");
}

Test(ccloud_api, unknown_route_and_method)
{
    th_ccloud(&s_t, "GET", "/api/v1/nothing", NULL);
    s_expect_error(404, 5, "Not Found");
    th_ccloud(&s_t, "PUT", "/api/v1/organization", "{}");
    s_expect_error(501, 12, "Method Not Allowed");
}

Test(ccloud_api, another_organizations_cluster_is_not_found)
{
    /* A second organization with its own key and cluster, loaded from a world. */
    json_t *world = emu_store_snapshot(s_t.app.store);
    json_t *cc = json_object_get(world, "ccloud");
    json_object_set_new(cc, "other_organizations",
                        json_pack("[{s:s,s:s}]", "id", "11111111-2222-4333-8444-555555555555",
                                  "name", "other-org"));
    json_array_append_new(json_object_get(cc, "api_keys"),
                          json_pack("{s:s,s:s,s:s}", "id", "other", "secret", "CCDB1_other_secret",
                                    "organization_id", "11111111-2222-4333-8444-555555555555"));
    struct emu_store *store = NULL;
    struct emu_load_error err;
    cr_assert_eq(emu_store_new(&s_t.app, world, &store, &err), 0, "%s", err.message);
    json_decref(world);
    emu_store_destroy(s_t.app.store);
    s_t.app.store = store;
    th_ccloud_as(&s_t, "GET", "/api/v1/clusters/" CLUSTER, "CCDB1_other_secret", NULL, NULL);
    s_expect_error(404, 5, "internal call failed: cluster '" CLUSTER "' not found");
    s_ok(th_ccloud_as(&s_t, "GET", "/api/v1/clusters", "CCDB1_other_secret", NULL, NULL));
    json_t *v = th_json(&s_t);
    cr_assert_eq(json_array_size(json_object_get(v, "clusters")), 0);
    json_decref(v);
}

/* ---- clusters ---- */

Test(ccloud_clusters, world_cluster_is_listed_and_read)
{
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters", NULL));
    s_expect("clusters.0.id", CLUSTER);
    s_expect("clusters.0.account_id", "999988887777");
    s_expect("clusters.0.plan", "ADVANCED");
    s_expect("clusters.0.state", "CREATED");
    s_expect("clusters.0.regions.0.name", "us-east-1");
    s_expect("pagination.next_page", "");
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters/" CLUSTER, NULL));
    s_expect("cloud_provider", "AWS");
    s_expect("operation_status", "UNSPECIFIED");
    th_ccloud(&s_t, "GET", "/api/v1/clusters/nope", NULL);
    s_expect_error(404, 5, "internal call failed: cluster 'nope' not found");
}

#define CREATE_BODY(name)                                                                          \
    "{\"name\":\"" name "\",\"provider\":\"AWS\",\"spec\":{\"plan\":\"ADVANCED\",\"dedicated\":{"  \
    "\"region_nodes\":{\"us-east-1\":3,\"us-west-2\":3},\"hardware\":{\"machine_spec\":{"          \
    "\"num_virtual_cpus\":4},\"storage_gib\":35},\"network_visibility\":\"PRIVATE\"}}}"

Test(ccloud_clusters, create_multi_region_then_paginate)
{
    s_ok(th_ccloud(&s_t, "POST", "/api/v1/clusters", CREATE_BODY("multi-one")));
    s_expect("state", "CREATING");
    s_expect("regions.0.name", "us-east-1");
    s_expect("regions.1.name", "us-west-2");
    s_expect("account_id", "999988887777");
    json_t *v = th_json(&s_t);
    char id[64];
    snprintf(id, sizeof(id), "%s", s_get(v, "id"));
    json_decref(v);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/clusters/%s", id);
    s_ok(th_ccloud(&s_t, "GET", path, NULL));
    s_expect("state", "CREATED");
    th_ccloud(&s_t, "POST", "/api/v1/clusters", CREATE_BODY("multi-one"));
    s_expect_error(409, 6, "already exists: a cluster named 'multi-one' already exists");

    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters?pagination.limit=1", NULL));
    s_expect("clusters.0.name", "cmek-drill");
    s_expect("pagination.next_page", "1");
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters?pagination.limit=1&pagination.page=1", NULL));
    s_expect("clusters.0.name", "multi-one");
    s_expect("pagination.next_page", "");
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters?pagination.sort_order=DESC", NULL));
    s_expect("clusters.0.name", "multi-one");
    th_ccloud(&s_t, "GET", "/api/v1/clusters?pagination.limit=x", NULL);
    s_expect_error(400, 3,
                   "invalid argument: pagination.limit must be a whole number from 1 to 500");
    th_ccloud(&s_t, "GET", "/api/v1/clusters?pagination.sort_order=UP", NULL);
    s_expect_error(400, 3,
                   "type mismatch, parameter: pagination.sort_order, error: \"UP\" is not valid");
}

Test(ccloud_clusters, create_rejects_bad_input)
{
    th_ccloud(&s_t, "POST", "/api/v1/clusters", CREATE_BODY("Bad_Name"));
    s_expect_error(400, 3,
                   "invalid argument: cluster name must be 6-20 characters of numbers, lowercase "
                   "letters, and dashes (but no leading or trailing dashes)");
    th_ccloud(&s_t, "POST", "/api/v1/clusters", "{\"name\":\"abcdef\",\"provider\":\"HAHA\"}");
    s_expect_error(400, 3, "proto: (line 1:29): invalid value for enum type: \"HAHA\"");
    th_ccloud(&s_t, "POST", "/api/v1/clusters", "{\"name\":");
    cr_assert_eq(s_t.status, 400);
    th_ccloud(&s_t, "POST", "/api/v1/clusters",
              "{\"name\":\"abcdef\",\"provider\":\"GCP\",\"spec\":{\"dedicated\":{}}}");
    s_expect_error(501, 12,
                   "unimplemented: cmek-emulator creates Advanced (dedicated) AWS clusters only");
    th_ccloud(&s_t, "POST", "/api/v1/clusters",
              "{\"name\":\"abcdef\",\"provider\":\"AWS\",\"spec\":{\"dedicated\":{\"region_nodes\":"
              "{\"mars-1\":3},\"hardware\":{\"machine_spec\":{}}}}}");
    s_expect_error(400, 3, "invalid argument: invalid region name 'mars-1' for AWS");
}

Test(ccloud_clusters, patch_labels_and_delete_with_protection)
{
    s_ok(th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER,
                   "{\"labels\":{\"env\":\"drill\"},\"delete_protection\":\"ENABLED\"}"));
    s_expect("labels.env", "drill");
    th_ccloud(&s_t, "DELETE", "/api/v1/clusters/" CLUSTER, NULL);
    s_expect_error(400, 9,
                   "failed precondition: delete protection is enabled for cluster '" CLUSTER "'");
    s_ok(th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER,
                   "{\"delete_protection\":\"DISABLED\"}"));
    s_ok(th_ccloud(&s_t, "DELETE", "/api/v1/clusters/" CLUSTER, NULL));
    s_expect("state", "DELETED");
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters/" CLUSTER, NULL));
    s_expect("state", "DELETED");
    th_ccloud(&s_t, "DELETE", "/api/v1/clusters/" CLUSTER, NULL);
    s_expect_error(404, 5, "internal call failed: cluster '" CLUSTER "' not found");
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters", NULL));
    s_expect("pagination.next_page", "");
    s_ok(th_ccloud(&s_t, "GET", "/api/v1/clusters?show_inactive=true", NULL));
    s_expect("clusters.0.state", "DELETED");
}

/* ---- CMEK state machine ---- */

Test(ccloud_cmek, get_before_enable_is_not_found)
{
    th_ccloud(&s_t, "GET", "/api/v1/clusters/" CLUSTER "/cmek", NULL);
    s_expect_error(404, 5, "internal call failed: CMEK is not enabled for cluster '" CLUSTER "'");
}

Test(ccloud_cmek, enable_goes_enabling_then_enabled_through_sts_and_kms)
{
    s_provision();
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    s_expect("status", "ENABLING");
    s_expect("region_infos.0.region", "us-east-1");
    s_expect("region_infos.0.status", "ENABLING");
    s_expect("region_infos.0.key_infos.0.status", "ENABLING");
    s_get_cmek();
    s_expect("status", "ENABLED");
    s_expect("region_infos.0.status", "ENABLED");
    s_expect("region_infos.0.key_infos.0.spec.uri", s_key_arn);
    s_expect("region_infos.0.key_infos.0.spec.auth_principal", ROLE_ARN);
    s_expect("region_infos.0.key_infos.0.spec.type", "AWS_KMS");
    s_expect("region_infos.0.key_infos.0.user_message", "");
    /* The cluster really assumed the role: its session is in STS. */
    json_t *state = emu_store_snapshot(s_t.app.store);
    char *text = json_dumps(state, JSON_COMPACT);
    cr_assert_not_null(strstr(text, "crdb-cmek-" CLUSTER));
    cr_assert_null(strstr(text, "managed_data_key"), "CMEK protects the data key only");
    free(text);
    json_decref(state);
}

static void s_expect_enable_failed(const char *user_message)
{
    s_get_cmek();
    s_expect("status", "ENABLE_FAILED");
    s_expect("region_infos.0.status", "ENABLE_FAILED");
    s_expect("region_infos.0.key_infos.0.status", "ENABLE_FAILED");
    s_expect("region_infos.0.key_infos.0.user_message", user_message);
}

Test(ccloud_cmek, enable_fails_when_trust_has_another_external_id)
{
    s_create_role(TRUST_WITH("not-the-org-id"));
    s_create_key("us-east-1", POLICY_WITH_CMEK, s_key_id, sizeof(s_key_id), s_key_arn,
                 sizeof(s_key_arn));
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    s_expect_enable_failed("sts:AssumeRole of " ROLE_ARN " with ExternalId " ORG
                           " failed: AccessDenied: User: " CRDB_ARN
                           " is not authorized to perform: sts:AssumeRole on resource: " ROLE_ARN);
}

Test(ccloud_cmek, enable_fails_when_key_policy_lacks_the_role)
{
    s_create_role(TRUST_WITH(ORG));
    s_create_key("us-east-1", POLICY_WITHOUT_CMEK, s_key_id, sizeof(s_key_id), s_key_arn,
                 sizeof(s_key_arn));
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    char want[2048];
    snprintf(want, sizeof(want),
             "kms:GenerateDataKey on %s as " ROLE_ARN
             " failed: AccessDeniedException: User: " SESSION
             " is not authorized to perform: kms:GenerateDataKey on resource: %s because no "
             "identity-based policy allows the kms:GenerateDataKey action",
             s_key_arn, s_key_arn);
    s_expect_enable_failed(want);
}

Test(ccloud_cmek, enable_fails_when_key_disabled_and_can_be_retried)
{
    s_provision();
    s_key_op("DisableKey");
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    char want[2048];
    snprintf(want, sizeof(want),
             "kms:GenerateDataKey on %s as " ROLE_ARN " failed: DisabledException: %s is disabled.",
             s_key_arn, s_key_arn);
    s_expect_enable_failed(want);
    s_key_op("EnableKey");
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    s_get_cmek();
    s_expect("status", "ENABLED");
    s_expect("region_infos.0.key_infos.0.status", "ENABLE_FAILED");
    s_expect("region_infos.0.key_infos.1.status", "ENABLED");
}

Test(ccloud_cmek, enable_fails_when_the_key_arn_names_another_region)
{
    s_create_role(TRUST_WITH(ORG));
    s_create_key("us-west-2", POLICY_WITH_CMEK, s_key_id, sizeof(s_key_id), s_key_arn,
                 sizeof(s_key_arn));
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    char want[2048];
    snprintf(want, sizeof(want),
             "kms:GenerateDataKey on %s as " ROLE_ARN " failed: NotFoundException: Invalid arn "
             "us-west-2",
             s_key_arn);
    s_expect_enable_failed(want);
}

Test(ccloud_cmek, enable_fails_when_key_is_in_another_region)
{
    s_create_role(TRUST_WITH(ORG));
    s_create_key("us-west-2", POLICY_WITH_CMEK, s_key_id, sizeof(s_key_id), s_key_arn,
                 sizeof(s_key_arn));
    char east_arn[256];
    snprintf(east_arn, sizeof(east_arn), "arn:aws:kms:us-east-1:111122223333:key/%s", s_key_id);
    s_ok(s_enable_with(east_arn, ROLE_ARN));
    char want[2048];
    snprintf(want, sizeof(want),
             "kms:GenerateDataKey on %s as " ROLE_ARN " failed: NotFoundException: Key '%s' does "
             "not exist",
             east_arn, east_arn);
    s_expect_enable_failed(want);
}

Test(ccloud_cmek, enable_validates_the_specs)
{
    s_provision();
    th_ccloud(&s_t, "POST", "/api/v1/clusters/" CLUSTER "/cmek", "{}");
    s_expect_error(400, 3, "invalid argument: region_specs is required");
    th_ccloud(&s_t, "POST", "/api/v1/clusters/" CLUSTER "/cmek", "{\"region_specs\":[]}");
    s_expect_error(400, 3,
                   "invalid argument: a region_spec is required for each region of the cluster; "
                   "missing 'us-east-1'");
    s_enable_with("alias/crdb", ROLE_ARN);
    s_expect_error(400, 3,
                   "invalid argument: uri for region 'us-east-1' must be an AWS KMS key ARN "
                   "(arn:aws:kms:<region>:<account>:key/<key id>)");
    s_enable_with(s_key_arn, "arn:aws:iam::111122223333:user/admin");
    s_expect_error(400, 3,
                   "invalid argument: auth_principal for region 'us-east-1' must be an IAM role "
                   "ARN (arn:aws:iam::<account>:role/<name>)");
    th_ccloud(&s_t, "POST", "/api/v1/clusters/" CLUSTER "/cmek",
              "{\"region_specs\":[{\"region\":\"us-east-1\",\"key_spec\":{\"type\":\"HAHA\"}}]}");
    s_expect_error(400, 3, "proto: (line 1:59): invalid value for enum type: \"HAHA\"");
    th_ccloud(&s_t, "POST", "/api/v1/clusters/" CLUSTER "/cmek",
              "{\"region_specs\":[{\"region\":\"us-east-1\",\"key_spec\":{\"type\":\"GCP_CLOUD_"
              "KMS\"}}]}");
    s_expect_error(400, 3,
                   "invalid argument: key type GCP_CLOUD_KMS is not supported for AWS clusters; "
                   "use AWS_KMS");
    th_ccloud(
        &s_t, "POST", "/api/v1/clusters/" CLUSTER "/cmek",
        "{\"region_specs\":[{\"region\":\"eu-west-1\",\"key_spec\":{\"type\":\"AWS_KMS\"}}]}");
    cr_assert_eq(s_t.status, 400);
}

Test(ccloud_cmek, conflicts_answer_with_documented_errors)
{
    s_provision();
    th_ccloud(&s_t, "PUT", "/api/v1/clusters/" CLUSTER "/cmek", "{\"region_specs\":[]}");
    s_expect_error(400, 9,
                   "failed precondition: CMEK is not enabled for cluster '" CLUSTER
                   "'; enable it with POST first");
    th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER "/cmek", "{\"action\":\"REVOKE\"}");
    s_expect_error(400, 9, "failed precondition: CMEK is not enabled for cluster '" CLUSTER "'");
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    /* The enable is pending: the next change waits for the poll that settles it. Here the
     * request itself settles it first, so a second POST is a double enable. */
    s_enable_with(s_key_arn, ROLE_ARN);
    s_expect_error(409, 6,
                   "already exists: CMEK is already enabled for cluster '" CLUSTER
                   "'; use PUT to rotate keys");
    th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER "/cmek", "{\"action\":\"HAHA\"}");
    s_expect_error(400, 3, "proto: (line 1:11): invalid value for enum type: \"HAHA\"");
    th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER "/cmek", "{}");
    s_expect_error(400, 3, "invalid argument: action is required (REVOKE)");
    /* A new region without its key. */
    th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER,
              "{\"dedicated\":{\"region_nodes\":{\"us-east-1\":3,\"us-west-2\":3}}}");
    s_expect_error(400, 3,
                   "invalid argument: cluster '" CLUSTER "' uses CMEK: cmek_region_specs must "
                   "include a key for each new region; missing 'us-west-2'");
    th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER,
              "{\"dedicated\":{\"region_nodes\":{\"us-east-1\":3},\"cmek_region_specs\":[{"
              "\"region\":\"us-east-1\",\"key_spec\":{\"type\":\"AWS_KMS\",\"uri\":\"arn:aws:kms:"
              "us-east-1:111122223333:key/x\",\"auth_principal\":\"" ROLE_ARN "\"}}]}}");
    s_expect_error(400, 3,
                   "invalid argument: a CMEK spec was provided for existing region 'us-east-1'; "
                   "cmek_region_specs is for new regions only");
}

Test(ccloud_cmek, add_region_with_its_key)
{
    s_enabled_cluster();
    char west_id[64], west_arn[256], body[2048];
    s_create_key("us-west-2", POLICY_WITH_CMEK, west_id, sizeof(west_id), west_arn,
                 sizeof(west_arn));
    snprintf(body, sizeof(body),
             "{\"dedicated\":{\"region_nodes\":{\"us-east-1\":3,\"us-west-2\":3},"
             "\"cmek_region_specs\":[{\"region\":\"us-west-2\",\"key_spec\":{\"type\":\"AWS_KMS\","
             "\"uri\":\"%s\",\"auth_principal\":\"" ROLE_ARN "\"}}]}}",
             west_arn);
    s_ok(th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER, body));
    s_expect("regions.1.name", "us-west-2");
    s_expect("operation_status", "CRDB_CMEK_OPERATION_RUNNING");
    s_get_cmek();
    s_expect("status", "ENABLED");
    s_expect("region_infos.1.region", "us-west-2");
    s_expect("region_infos.1.status", "ENABLED");
    /* Both regions' keys are needed to start. */
    s_ok(s_put_row("k", "v"));
    s_ok(s_restart());
    s_expect_row("k", "v");
}

Test(ccloud_cmek, rotate_same_uri_and_new_key)
{
    s_enabled_cluster();
    char body[2048];
    snprintf(body, sizeof(body),
             "{\"region_specs\":[{\"region\":\"us-east-1\",\"key_spec\":{\"type\":\"AWS_KMS\","
             "\"uri\":\"%s\",\"auth_principal\":\"" ROLE_ARN "\"}}]}",
             s_key_arn);
    s_ok(s_put_row("before", "rotation"));
    s_ok(th_ccloud(&s_t, "PUT", "/api/v1/clusters/" CLUSTER "/cmek", body));
    s_expect("status", "ROTATING");
    s_expect("region_infos.0.status", "ROTATING");
    s_get_cmek();
    s_expect("status", "ENABLED");
    json_t *v = th_json(&s_t);
    cr_assert_eq(json_array_size(json_object_get(
                     json_array_get(json_object_get(v, "region_infos"), 0), "key_infos")),
                 1);
    json_decref(v);

    char new_id[64], new_arn[256];
    s_create_key("us-east-1", POLICY_WITH_CMEK, new_id, sizeof(new_id), new_arn, sizeof(new_arn));
    snprintf(body, sizeof(body),
             "{\"region_specs\":[{\"region\":\"us-east-1\",\"key_spec\":{\"type\":\"AWS_KMS\","
             "\"uri\":\"%s\",\"auth_principal\":\"" ROLE_ARN "\"}}]}",
             new_arn);
    s_ok(th_ccloud(&s_t, "PUT", "/api/v1/clusters/" CLUSTER "/cmek", body));
    s_expect("region_infos.0.key_infos.1.status", "ROTATING");
    s_get_cmek();
    s_expect("status", "ENABLED");
    s_expect("region_infos.0.key_infos.0.status", "DISABLED");
    s_expect("region_infos.0.key_infos.1.status", "ENABLED");
    s_expect("region_infos.0.key_infos.1.spec.uri", new_arn);
    /* The old key is no longer needed to start. */
    s_key_op("DisableKey");
    s_ok(s_restart());
    s_expect_row("before", "rotation");
}

Test(ccloud_cmek, rotate_to_unusable_key_fails_and_keeps_the_old_one)
{
    s_enabled_cluster();
    char new_id[64], new_arn[256], body[2048];
    s_create_key("us-east-1", POLICY_WITHOUT_CMEK, new_id, sizeof(new_id), new_arn,
                 sizeof(new_arn));
    snprintf(body, sizeof(body),
             "{\"region_specs\":[{\"region\":\"us-east-1\",\"key_spec\":{\"type\":\"AWS_KMS\","
             "\"uri\":\"%s\",\"auth_principal\":\"" ROLE_ARN "\"}}]}",
             new_arn);
    s_ok(th_ccloud(&s_t, "PUT", "/api/v1/clusters/" CLUSTER "/cmek", body));
    s_get_cmek();
    s_expect("status", "ROTATE_FAILED");
    s_expect("region_infos.0.status", "ROTATE_FAILED");
    s_expect("region_infos.0.key_infos.0.status", "ENABLED");
    s_expect("region_infos.0.key_infos.1.status", "ROTATE_FAILED");
    s_ok(s_put_row("k", "v"));
    s_ok(s_restart());
    s_expect_row("k", "v");
}

Test(ccloud_cmek, revoke_while_key_usable_is_revoke_failed)
{
    s_enabled_cluster();
    s_ok(th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER "/cmek", "{\"action\":\"REVOKE\"}"));
    s_expect("status", "REVOKING");
    s_expect("region_infos.0.status", "REVOKING");
    s_get_cmek();
    s_expect("status", "REVOKE_FAILED");
    s_expect("region_infos.0.key_infos.0.user_message",
             "revocation did not take effect: the cluster can still use the key (kms:Decrypt "
             "succeeded); remove CockroachDB Cloud's access in IAM or KMS first, then revoke "
             "again");
}

Test(ccloud_cmek, revoke_after_key_policy_change_is_revoked_and_twice_is_refused)
{
    s_enabled_cluster();
    s_ok(s_put_row("k", "v"));
    s_put_key_policy(POLICY_WITHOUT_CMEK);
    s_ok(th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER "/cmek", "{\"action\":\"REVOKE\"}"));
    s_get_cmek();
    s_expect("status", "REVOKED");
    s_expect("region_infos.0.status", "REVOKED");
    s_expect("region_infos.0.key_infos.0.status", "REVOKED");
    th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER "/cmek", "{\"action\":\"REVOKE\"}");
    s_expect_error(400, 9,
                   "failed precondition: CMEK is already revoked for cluster '" CLUSTER "'");
    s_enable_with(s_key_arn, ROLE_ARN);
    s_expect_error(400, 9,
                   "failed precondition: CMEK was revoked for cluster '" CLUSTER
                   "'; restoring it is done by CockroachDB Cloud support");
    s_get_row("k");
    cr_assert_eq(s_t.status, 400);
}

/* ---- data semantics ---- */

Test(ccloud_data, rows_before_cmek_use_the_clusters_own_key)
{
    s_ok(s_put_row("greeting", "hello"));
    s_expect_row("greeting", "hello");
    s_ok(s_restart());
    s_expect("cmek_status", "DISABLED");
    s_expect_row("greeting", "hello");
    s_get_row("absent");
    s_expect_error(404, 5, "row 'absent' not found in cluster '" CLUSTER "'");
    th_raw(&s_t, "GET", "/_emulator/clusters/nope/rows/k", NULL, NULL);
    s_expect_error(404, 5, "internal call failed: cluster 'nope' not found");
    s_restore();
    s_expect_error(400, 9,
                   "failed precondition: cannot restore cluster '" CLUSTER "': cluster '" CLUSTER
                   "' is not revoked (CMEK status DISABLED): nothing to restore");
}

Test(ccloud_data, rows_written_before_cmek_survive_enable_and_restart)
{
    s_provision();
    s_ok(s_put_row("old", "before-cmek"));
    s_ok(s_enable_with(s_key_arn, ROLE_ARN));
    s_get_cmek();
    s_expect("status", "ENABLED");
    s_ok(s_restart());
    s_expect_row("old", "before-cmek");
}

static void s_expect_unreadable(const char *reason)
{
    char want[4096];
    snprintf(want, sizeof(want),
             "failed precondition: cluster '" CLUSTER "' cannot use its encryption key, its data "
             "is inaccessible: %s",
             reason);
    s_get_row("k");
    s_expect_error(400, 9, want);
    s_put_row("new", "x");
    s_expect_error(400, 9, want);
}

/* Revocation in KMS (the key policy loses the role): the running cluster keeps its key until
 * it restarts; then REVOKED and unreadable; access back + restore: ENABLED, rows intact. */
Test(ccloud_data, key_policy_revocation_takes_effect_at_restart_and_restore_brings_it_back)
{
    s_enabled_cluster();
    s_ok(s_put_row("k", "v1"));
    s_put_key_policy(POLICY_WITHOUT_CMEK);
    s_expect_row("k", "v1");
    s_ok(s_put_row("k2", "written-after-revocation"));
    s_ok(s_restart());
    s_expect("cmek_status", "REVOKED");
    char reason[2048];
    snprintf(reason, sizeof(reason),
             "the cluster could not unwrap its data key at start: kms:Decrypt on %s as " ROLE_ARN
             " failed: AccessDeniedException: User: " SESSION
             " is not authorized to perform: kms:Decrypt on resource: %s because no "
             "identity-based policy allows the kms:Decrypt action",
             s_key_arn, s_key_arn);
    s_expect_unreadable(reason);
    s_get_cmek();
    s_expect("status", "REVOKED");
    s_expect("region_infos.0.key_infos.0.user_message", reason);
    s_restore();
    cr_assert_eq(s_t.status, 400, "%s", s_body());
    s_put_key_policy(POLICY_WITH_CMEK);
    s_ok(s_restore());
    s_expect("cmek_status", "ENABLED");
    s_get_cmek();
    s_expect("status", "ENABLED");
    s_expect("region_infos.0.key_infos.0.status", "ENABLED");
    s_expect_row("k", "v1");
    s_expect_row("k2", "written-after-revocation");
}

/* Revocation in IAM (the trust policy no longer has the org id), then PATCH REVOKE. */
Test(ccloud_data, trust_revocation_then_patch_revoke)
{
    s_enabled_cluster();
    s_ok(s_put_row("k", "v"));
    char form[4096], enc[2048];
    snprintf(form, sizeof(form),
             "Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=crdb-cmek-role&"
             "PolicyDocument=%s",
             th_form_encode(TRUST_WITH("someone-else"), enc, sizeof(enc)));
    cr_assert_eq(th_query(&s_t, "iam", &s_admin, form), 200, "%s", s_body());
    s_expect_row("k", "v");
    s_ok(th_ccloud(&s_t, "PATCH", "/api/v1/clusters/" CLUSTER "/cmek", "{\"action\":\"REVOKE\"}"));
    s_get_cmek();
    s_expect("status", "REVOKED");
    s_expect_unreadable("CMEK access was revoked: sts:AssumeRole of " ROLE_ARN
                        " with ExternalId " ORG " failed: AccessDenied: User: " CRDB_ARN
                        " is not authorized to perform: sts:AssumeRole on resource: " ROLE_ARN);
    s_ok(s_restart());
    s_expect("cmek_status", "REVOKED");
    snprintf(form, sizeof(form),
             "Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=crdb-cmek-role&"
             "PolicyDocument=%s",
             th_form_encode(TRUST_WITH(ORG), enc, sizeof(enc)));
    cr_assert_eq(th_query(&s_t, "iam", &s_admin, form), 200, "%s", s_body());
    s_ok(s_restore());
    s_expect_row("k", "v");
}

/* A disabled key: the same until restart; once scheduled for deletion and its window passed
 * on the emulator clock, restore is impossible for good. */
Test(ccloud_data, deleted_key_makes_the_data_unreadable_for_good)
{
    s_enabled_cluster();
    s_ok(s_put_row("k", "v"));
    cr_assert_eq(th_kms_json(&s_t, NULL, &s_admin, "ScheduleKeyDeletion",
                             json_pack("{s:s,s:i}", "KeyId", s_key_id, "PendingWindowInDays", 7)),
                 200, "%s", s_body());
    s_expect_row("k", "v");
    s_ok(s_restart());
    s_expect("cmek_status", "REVOKED");
    s_get_row("k");
    cr_assert_eq(s_t.status, 400);
    th_advance(&s_t, "8d");
    s_restore();
    char want[4096];
    snprintf(want, sizeof(want),
             "failed precondition: cannot restore cluster '" CLUSTER "': the cluster could not "
             "unwrap its data key: kms:Decrypt on %s as " ROLE_ARN
             " failed: NotFoundException: Key '%s' does not exist; the key no longer exists, so "
             "the data encrypted under it is lost for good",
             s_key_arn, s_key_arn);
    s_expect_error(400, 9, want);
    s_get_row("k");
    cr_assert_eq(s_t.status, 400);
    cr_assert(strstr(s_body(), "the data encrypted under it is lost for good") != NULL, "%s",
              s_body());
}

/* A state dump is a world: loading it gives a cluster that starts through KMS at its first
 * request and reads its rows back. */
Test(ccloud_data, snapshot_round_trip_restarts_through_kms)
{
    s_enabled_cluster();
    s_ok(s_put_row("k", "persisted"));
    json_t *world = emu_store_snapshot(s_t.app.store);
    struct emu_store *store = NULL;
    struct emu_load_error err;
    cr_assert_eq(emu_store_new(&s_t.app, world, &store, &err), 0, "%s", err.message);
    json_t *again = emu_store_snapshot(store);
    cr_assert(json_equal(json_object_get(world, "ccloud"), json_object_get(again, "ccloud")));
    json_decref(again);
    json_decref(world);
    emu_store_destroy(s_t.app.store);
    s_t.app.store = store;
    s_expect_row("k", "persisted");
    /* The loaded dump is the world reset goes back to. */
    s_ok(th_raw(&s_t, "POST", "/_emulator/reset", "application/json", "{}"));
    s_expect_row("k", "persisted");
}
