/* test_client_target.c: how libcmek resolves a target from the environment, the AWS
 * profile files and target files (client/target.c, docs/targets.md). The environment is a
 * table each test fills; files are written to a private temporary directory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmek/target.h"
#include "cmek/transport.h"
#include "test_common.h"

static void s_setup(void);
static void s_teardown(void);
TestSuite(client_target, .init = s_setup, .fini = s_teardown);

#define S_MAX_VARS 24

struct s_env {
    const char *names[S_MAX_VARS];
    const char *values[S_MAX_VARS];
    size_t n;
};

static struct s_env s_env;
static char s_dir[64];
static char s_why[512];
static struct cmek_target s_t;

static const char *s_getenv(void *ctx, const char *name)
{
    const struct s_env *env = ctx;
    for (size_t i = 0; i < env->n; i++) {
        if (strcmp(env->names[i], name) == 0) {
            return env->values[i];
        }
    }
    return NULL;
}

static void s_set(const char *name, const char *value)
{
    cr_assert_lt(s_env.n, S_MAX_VARS);
    s_env.names[s_env.n] = name;
    s_env.values[s_env.n] = value;
    s_env.n++;
}

/* Writes dir/name and returns its path, valid for the test (one slot per call, up to 4). */
static const char *s_write(const char *name, const char *text)
{
    static char paths[4][256];
    static size_t next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof(paths[0]), "%s/%s", s_dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
    return path;
}

static void s_setup(void)
{
    memset(&s_env, 0, sizeof(s_env));
    snprintf(s_dir, sizeof(s_dir), "/tmp/cmek-target-XXXXXX");
    cr_assert_not_null(mkdtemp(s_dir));
    /* HOME points at the empty private directory: no ~/.aws files unless a test writes
     * them, whatever the machine running the tests has. */
    s_set("HOME", s_dir);
    cmek_target_init(&s_t);
    s_why[0] = '\0';
}

static void s_teardown(void)
{
    static const char *const files[] = {"credentials", "config", "t.json", ".aws/credentials",
                                        ".aws/config"};
    char path[256];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", s_dir, files[i]);
        (void)unlink(path);
    }
    snprintf(path, sizeof(path), "%s/.aws", s_dir);
    (void)rmdir(path);
    (void)rmdir(s_dir);
    cmek_target_clean_up(&s_t);
    cmek_test_fini();
}

static int s_from_env(void)
{
    return cmek_target_from_environment(&s_t, s_getenv, &s_env, s_why, sizeof(s_why));
}

static int s_load(const char *name_or_path)
{
    return cmek_target_load(&s_t, name_or_path, CMEK_FIXTURES_DIR, s_getenv, &s_env, s_why,
                            sizeof(s_why));
}

/* ---- Names, copies ---- */

Test(client_target, service_names_are_the_operation_prefixes)
{
    cr_assert_str_eq(cmek_service_name(CMEK_SERVICE_IAM), "iam");
    cr_assert_str_eq(cmek_service_name(CMEK_SERVICE_STS), "sts");
    cr_assert_str_eq(cmek_service_name(CMEK_SERVICE_KMS), "kms");
    cr_assert_str_eq(cmek_service_name(CMEK_SERVICE_CCLOUD), "ccloud");
    cr_assert_str_eq(cmek_service_name(CMEK_SERVICE_VAULT), "vault");
    cr_assert_str_eq(cmek_service_name(CMEK_SERVICE_EMULATOR), "emulator");
    cr_assert_str_eq(cmek_service_name(CMEK_SERVICE_COUNT), "unknown");
}

Test(client_target, init_sets_the_documented_defaults)
{
    cr_assert_eq(s_t.max_attempts, 3);
    cr_assert_eq(s_t.connect_timeout_ms, 5000);
    cr_assert_eq(s_t.timeout_ms, 30000);
    cr_assert_eq(s_t.max_response_bytes, CMEK_HTTP_DEFAULT_MAX_RESPONSE);
    cr_assert_null(s_t.region);
}

Test(client_target, copy_is_deep_and_replaces_the_old_contents)
{
    s_set("AWS_ACCESS_KEY_ID", "AKIAENV");
    s_set("AWS_SECRET_ACCESS_KEY", "envsecret");
    s_set("AWS_SESSION_TOKEN", "envtoken");
    s_set("VAULT_TOKEN", "hvs.x");
    cr_assert_eq(s_from_env(), CMEK_OK);
    struct cmek_target copy;
    cmek_target_init(&copy);
    cr_assert_eq(cmek_target_copy(&copy, &s_t), CMEK_OK);
    cr_assert_eq(cmek_target_copy(&copy, &s_t), CMEK_OK); /* the first copy is freed */
    cr_assert_neq(copy.aws.secret_access_key, s_t.aws.secret_access_key);
    cr_assert_str_eq(copy.aws.secret_access_key, "envsecret");
    cr_assert_str_eq(copy.aws.session_token, "envtoken");
    cr_assert_str_eq(copy.vault_token, "hvs.x");
    cr_assert_str_eq(copy.endpoint[CMEK_SERVICE_KMS], "https://kms.us-east-1.amazonaws.com");
    cr_assert_null(copy.endpoint[CMEK_SERVICE_EMULATOR]);
    cmek_target_clean_up(&copy);
    cmek_target_clean_up(&copy); /* idempotent */
    cr_assert_null(copy.name);

    struct cmek_aws_credentials c = {NULL, NULL, NULL};
    cr_assert_eq(cmek_aws_credentials_copy(&c, &s_t.aws), CMEK_OK);
    cr_assert_str_eq(c.access_key_id, "AKIAENV");
    cmek_aws_credentials_clean_up(&c);
    cr_assert_null(c.access_key_id);
    cr_assert_null(c.secret_access_key);
}

/* ---- The environment ---- */

Test(client_target, live_target_without_overrides_uses_real_endpoints)
{
    cr_assert_eq(s_load("live"), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.name, "live");
    cr_assert_not(s_t.emulator);
    cr_assert_str_eq(s_t.region, "us-east-1");
    cr_assert_str_eq(s_t.iam_region, "us-east-1");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "https://kms.us-east-1.amazonaws.com");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_STS], "https://sts.us-east-1.amazonaws.com");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_IAM], "https://iam.amazonaws.com");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_CCLOUD], "https://cockroachlabs.cloud");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_VAULT], "https://127.0.0.1:8200");
    cr_assert_null(s_t.endpoint[CMEK_SERVICE_EMULATOR]);
    cr_assert_str_eq(s_t.cc_version, "2024-09-16");
    cr_assert_null(s_t.aws.access_key_id);
    cr_assert_null(s_t.ccloud_api_key);
    cr_assert_null(s_t.vault_token);
    cr_assert_null(s_t.ca_bundle);
    cr_assert_eq(s_t.max_attempts, 3);
}

Test(client_target, region_builds_the_real_endpoints)
{
    s_set("AWS_REGION", "eu-west-2");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.name, "environment");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "https://kms.eu-west-2.amazonaws.com");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_STS], "https://sts.eu-west-2.amazonaws.com");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_IAM], "https://iam.amazonaws.com");
    cr_assert_str_eq(s_t.iam_region, "us-east-1");
}

Test(client_target, aws_region_wins_over_default_region_and_profile)
{
    s_set("AWS_CONFIG_FILE", s_write("config", "[default]\nregion = ap-south-1\n"));
    s_set("AWS_DEFAULT_REGION", "eu-central-1");
    s_set("AWS_REGION", "ca-central-1");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.region, "ca-central-1");
}

Test(client_target, default_region_wins_over_profile)
{
    s_set("AWS_CONFIG_FILE", s_write("config", "[default]\nregion = ap-south-1\n"));
    s_set("AWS_DEFAULT_REGION", "eu-central-1");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.region, "eu-central-1");
}

Test(client_target, profile_region_used_without_variables)
{
    s_set("AWS_CONFIG_FILE", s_write("config", "[default]\nregion = ap-south-1\n"));
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.region, "ap-south-1");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "https://kms.ap-south-1.amazonaws.com");
}

Test(client_target, env_credentials_win_over_profile)
{
    s_set("AWS_SHARED_CREDENTIALS_FILE",
          s_write("credentials", "[default]\naws_access_key_id = AKIAFILE\n"
                                 "aws_secret_access_key = filesecret\n"));
    s_set("AWS_ACCESS_KEY_ID", "AKIAENV");
    s_set("AWS_SECRET_ACCESS_KEY", "envsecret");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.aws.access_key_id, "AKIAENV");
    cr_assert_str_eq(s_t.aws.secret_access_key, "envsecret");
    cr_assert_null(s_t.aws.session_token);
}

Test(client_target, default_profile_read_from_home_aws_directory)
{
    char aws_dir[128];
    snprintf(aws_dir, sizeof(aws_dir), "%s/.aws", s_dir);
    cr_assert_eq(mkdir(aws_dir, 0700), 0);
    s_write(".aws/credentials", "# comment\n[default]\naws_access_key_id = AKIAFILE\n"
                                "aws_secret_access_key = filesecret\n"
                                "aws_session_token = filetoken\n");
    s_write(".aws/config", "[default]\nregion = sa-east-1\ns3 =\n  max_concurrent_requests = 20\n");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.aws.access_key_id, "AKIAFILE");
    cr_assert_str_eq(s_t.aws.secret_access_key, "filesecret");
    cr_assert_str_eq(s_t.aws.session_token, "filetoken");
    cr_assert_str_eq(s_t.region, "sa-east-1");
}

Test(client_target, named_profile_uses_profile_prefix_in_config)
{
    s_set("AWS_SHARED_CREDENTIALS_FILE",
          s_write("credentials", "[default]\naws_access_key_id = AKIADEFAULT\n"
                                 "aws_secret_access_key = d\n"
                                 "[dev]\naws_access_key_id = AKIADEV\n"
                                 "aws_secret_access_key = devsecret\n"));
    s_set("AWS_CONFIG_FILE", s_write("config", "[default]\nregion = us-west-1\n"
                                               "[profile dev]\nregion = eu-north-1\n"
                                               "endpoint_url = http://localhost:4566/\n"));
    s_set("AWS_PROFILE", "dev");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.aws.access_key_id, "AKIADEV");
    cr_assert_str_eq(s_t.region, "eu-north-1");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "http://localhost:4566");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_IAM], "http://localhost:4566");
}

Test(client_target, credentials_in_config_file_are_used)
{
    s_set("AWS_CONFIG_FILE", s_write("config", "[profile ci]\naws_access_key_id = AKIACFG\n"
                                               "aws_secret_access_key = cfgsecret\n"));
    s_set("AWS_PROFILE", "ci");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.aws.access_key_id, "AKIACFG");
    cr_assert_str_eq(s_t.aws.secret_access_key, "cfgsecret");
}

Test(client_target, missing_profile_is_a_parse_error_naming_it)
{
    s_set("AWS_CONFIG_FILE", s_write("config", "[default]\nregion = us-west-1\n"));
    s_set("AWS_PROFILE", "nosuch");
    cr_assert_eq(s_from_env(), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, "AWS_PROFILE: the config profile (nosuch) could not be found in "
                            "the credentials file or the config file");
    cr_assert_null(s_t.region, "a failed resolution leaves the target untouched");
}

Test(client_target, malformed_credentials_file_names_file_and_line)
{
    const char *path =
        s_write("credentials", "[default]\naws_access_key_id = AKIA\nthis line is wrong\n");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s:3: expected 'key = value' inside a [section]", path);
    s_set("AWS_SHARED_CREDENTIALS_FILE", path);
    cr_assert_eq(s_from_env(), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, malformed_section_header_is_a_parse_error)
{
    const char *path = s_write("config", "[default\nregion = x\n");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s:1: malformed section header", path);
    s_set("AWS_CONFIG_FILE", path);
    cr_assert_eq(s_from_env(), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, per_service_endpoint_wins_over_global)
{
    s_set("AWS_ENDPOINT_URL", "http://global.test:1000/");
    s_set("AWS_ENDPOINT_URL_KMS", "http://kms.test:2000");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "http://kms.test:2000");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_STS], "http://global.test:1000");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_IAM], "http://global.test:1000");
}

Test(client_target, global_endpoint_env_wins_over_profile_endpoint)
{
    s_set("AWS_CONFIG_FILE", s_write("config", "[default]\nendpoint_url = http://profile.test\n"));
    s_set("AWS_ENDPOINT_URL", "http://env.test");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_STS], "http://env.test");
}

Test(client_target, cloud_and_vault_variables_are_read)
{
    s_set("COCKROACH_API_KEY", "CCDB1_key");
    s_set("COCKROACH_SERVER", "https://cc.test/");
    s_set("CMEK_CC_VERSION", "2023-04-10");
    s_set("VAULT_ADDR", "https://vault.test:8200");
    s_set("VAULT_TOKEN", "hvs.tok");
    s_set("VAULT_NAMESPACE", "admin");
    s_set("VAULT_CACERT", "/etc/vault-ca.pem");
    s_set("AWS_MAX_ATTEMPTS", "5");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.ccloud_api_key, "CCDB1_key");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_CCLOUD], "https://cc.test");
    cr_assert_str_eq(s_t.cc_version, "2023-04-10");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_VAULT], "https://vault.test:8200");
    cr_assert_str_eq(s_t.vault_token, "hvs.tok");
    cr_assert_str_eq(s_t.vault_namespace, "admin");
    cr_assert_str_eq(s_t.ca_bundle, "/etc/vault-ca.pem");
    cr_assert_eq(s_t.max_attempts, 5);
}

Test(client_target, cmek_ca_bundle_wins_over_aws_ca_bundle)
{
    s_set("AWS_CA_BUNDLE", "/aws.pem");
    s_set("CMEK_CA_BUNDLE", "/cmek.pem");
    s_set("VAULT_CACERT", "/vault.pem");
    cr_assert_eq(s_from_env(), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.ca_bundle, "/cmek.pem");
}

Test(client_target, bad_max_attempts_is_rejected)
{
    s_set("AWS_MAX_ATTEMPTS", "many");
    cr_assert_eq(s_from_env(), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, "AWS_MAX_ATTEMPTS: 'many' is not a number from 1 to 20");
}

Test(client_target, endpoint_that_is_not_http_is_rejected)
{
    s_set("AWS_ENDPOINT_URL_STS", "ftp://sts.test");
    cr_assert_eq(s_from_env(), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, "environment: the sts endpoint 'ftp://sts.test' is not an http:// or "
                            "https:// URL");
}

/* ---- Target files ---- */

Test(client_target, full_target_file_sets_every_field)
{
    s_set("AWS_ACCESS_KEY_ID", "AKIAENV");
    s_set("AWS_SECRET_ACCESS_KEY", "envsecret");
    s_set("AWS_ENDPOINT_URL_KMS", "http://env-kms.test");
    const char *path = s_write(
        "t.json",
        "{\"name\":\"staging\",\"emulator\":false,"
        "\"aws\":{\"region\":\"eu-west-1\",\"endpoint_url\":\"http://aws.test:9000/\","
        "\"endpoints\":{\"kms\":\"http://kms.test:9001\"},\"iam_region\":\"us-gov-west-1\","
        "\"access_key_id\":\"AKIAFILE\",\"secret_access_key\":\"filesecret\","
        "\"session_token\":\"filetoken\"},"
        "\"cockroach_cloud_principal\":{\"access_key_id\":\"AKIACRDB\","
        "\"secret_access_key\":\"crdbsecret\"},"
        "\"ccloud\":{\"server\":\"http://cc.test\",\"api_key\":\"CCDB1_f\","
        "\"cc_version\":\"2022-09-20\"},"
        "\"vault\":{\"addr\":\"http://vault.test\",\"token\":\"hvs.f\",\"namespace\":\"ns1\"},"
        "\"http\":{\"ca_bundle\":\"/ca.pem\",\"connect_timeout_ms\":1000,\"timeout_ms\":2000,"
        "\"max_response_bytes\":4096,\"max_attempts\":5}}");
    cr_assert_eq(s_load(path), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.name, "staging");
    cr_assert_str_eq(s_t.region, "eu-west-1");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "http://kms.test:9001");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_STS], "http://aws.test:9000");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_IAM], "http://aws.test:9000");
    cr_assert_str_eq(s_t.iam_region, "us-gov-west-1");
    cr_assert_str_eq(s_t.aws.access_key_id, "AKIAFILE");
    cr_assert_str_eq(s_t.aws.secret_access_key, "filesecret");
    cr_assert_str_eq(s_t.aws.session_token, "filetoken");
    cr_assert_str_eq(s_t.cloud_principal.access_key_id, "AKIACRDB");
    cr_assert_str_eq(s_t.cloud_principal.secret_access_key, "crdbsecret");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_CCLOUD], "http://cc.test");
    cr_assert_str_eq(s_t.ccloud_api_key, "CCDB1_f");
    cr_assert_str_eq(s_t.cc_version, "2022-09-20");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_VAULT], "http://vault.test");
    cr_assert_str_eq(s_t.vault_token, "hvs.f");
    cr_assert_str_eq(s_t.vault_namespace, "ns1");
    cr_assert_str_eq(s_t.ca_bundle, "/ca.pem");
    cr_assert_eq(s_t.connect_timeout_ms, 1000);
    cr_assert_eq(s_t.timeout_ms, 2000);
    cr_assert_eq(s_t.max_response_bytes, 4096);
    cr_assert_eq(s_t.max_attempts, 5);
}

Test(client_target, file_region_moves_the_real_endpoints_and_keeps_env_credentials)
{
    s_set("AWS_ACCESS_KEY_ID", "AKIAENV");
    s_set("AWS_SECRET_ACCESS_KEY", "envsecret");
    s_set("AWS_REGION", "us-west-2");
    const char *path = s_write("t.json", "{\"name\":\"eu\",\"aws\":{\"region\":\"eu-west-3\"}}");
    cr_assert_eq(s_load(path), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.region, "eu-west-3");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "https://kms.eu-west-3.amazonaws.com");
    cr_assert_str_eq(s_t.aws.access_key_id, "AKIAENV");
}

Test(client_target, unknown_field_is_rejected_with_its_path)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"aws\":{\"foo\":1}}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s: unknown field 'aws.foo'", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, unknown_nested_endpoint_is_rejected_with_its_path)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"aws\":{\"endpoints\":{\"s3\":\"x\"}}}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s: unknown field 'aws.endpoints.s3'", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, unknown_top_level_field_is_rejected)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"regoin\":\"us-east-1\"}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s: unknown field 'regoin'", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, wrong_type_is_rejected_with_its_path)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"aws\":{\"region\":42}}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s: field 'aws.region' must be a string", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, non_object_section_is_rejected)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"vault\":\"http://v\"}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s: field 'vault' must be an object", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, zero_timeout_is_rejected)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"http\":{\"timeout_ms\":0}}");
    char expected[512];
    snprintf(expected, sizeof(expected),
             "%s: field 'http.timeout_ms' must be an integer from 1 to 3600000", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, emulator_flag_must_be_boolean)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"emulator\":\"yes\"}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s: field 'emulator' must be true or false", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, name_is_required)
{
    const char *path = s_write("t.json", "{\"emulator\":false}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s: field 'name' is required (a non-empty string)", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, duplicate_member_is_rejected)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"name\":\"y\"}");
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert(strstr(s_why, "duplicate object key") != NULL, "%s", s_why);
}

Test(client_target, malformed_json_names_line_and_column)
{
    const char *path = s_write("t.json", "{\"name\":\n\"x\",}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s:2:", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert(strncmp(s_why, expected, strlen(expected)) == 0, "%s", s_why);
}

Test(client_target, missing_file_is_a_parse_error)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/none.json", s_dir);
    char expected[256];
    snprintf(expected, sizeof(expected), "%s: no such target file", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, env_reference_is_substituted)
{
    s_set("MY_KEY", "CCDB1_from_env");
    s_set("MY_HOST", "cc.test");
    const char *path =
        s_write("t.json", "{\"name\":\"x\",\"ccloud\":{\"api_key\":\"${env.MY_KEY}\","
                          "\"server\":\"https://${env.MY_HOST}:8443/api\"}}");
    cr_assert_eq(s_load(path), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.ccloud_api_key, "CCDB1_from_env");
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_CCLOUD], "https://cc.test:8443/api");
}

Test(client_target, env_reference_default_used_when_unset)
{
    const char *path = s_write(
        "t.json", "{\"name\":\"x\",\"vault\":{\"addr\":\"${env.NO_SUCH_VAR:-http://v.test:1}\","
                  "\"namespace\":\"${env.NO_NS:-}\"}}");
    cr_assert_eq(s_load(path), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_VAULT], "http://v.test:1");
    cr_assert_null(s_t.vault_namespace, "an empty value means unset");
}

Test(client_target, env_reference_without_default_must_be_set)
{
    const char *path =
        s_write("t.json", "{\"name\":\"x\",\"vault\":{\"token\":\"${env.MY_VAULT_TOKEN}\"}}");
    char expected[512];
    snprintf(expected, sizeof(expected),
             "%s: field 'vault.token': environment variable MY_VAULT_TOKEN is not set (and no "
             "default given)",
             path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, unterminated_env_reference_is_rejected)
{
    const char *path = s_write("t.json", "{\"name\":\"x\",\"vault\":{\"token\":\"${env.T\"}}");
    char expected[512];
    snprintf(expected, sizeof(expected), "%s: field 'vault.token': unterminated ${env....}", path);
    cr_assert_eq(s_load(path), CMEK_ERR_PARSE);
    cr_assert_str_eq(s_why, expected);
}

Test(client_target, emulator_fixture_points_every_service_at_the_emulator)
{
    cr_assert_eq(s_load("emulator"), CMEK_OK, "%s", s_why);
    cr_assert_str_eq(s_t.name, "emulator");
    cr_assert(s_t.emulator);
    for (int svc = 0; svc < CMEK_SERVICE_COUNT; svc++) {
        cr_assert_str_eq(s_t.endpoint[svc], "http://127.0.0.1:4566", "%s",
                         cmek_service_name((enum cmek_service)svc));
    }
    cr_assert_str_eq(s_t.aws.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    cr_assert_str_eq(s_t.aws.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    cr_assert_null(s_t.aws.session_token);
    cr_assert_str_eq(s_t.cloud_principal.access_key_id, "AKIAI44QH8DHBEXAMPLE");
    cr_assert_str_eq(s_t.cloud_principal.secret_access_key,
                     "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY");
    cr_assert_str_eq(s_t.ccloud_api_key, "CCDB1_Zp3Wm9KxQ2_Tq8VnR4sL7yB2dF6hJ0kM3pX9cW5eA1gU");
    cr_assert_str_eq(s_t.vault_token, "hvs.CAESIJlWh7V3cmek-harness-root-token");
    cr_assert_str_eq(s_t.vault_namespace, "admin");
    cr_assert_str_eq(s_t.region, "us-east-1");
    cr_assert_str_eq(s_t.iam_region, "us-east-1");
}

Test(client_target, emulator_target_ignores_ambient_aws_settings)
{
    /* The user's real credentials and endpoints must never reach an emulator run. */
    s_set("AWS_ACCESS_KEY_ID", "AKIAREALUSER");
    s_set("AWS_SECRET_ACCESS_KEY", "realsecret");
    s_set("AWS_SESSION_TOKEN", "realtoken");
    s_set("AWS_ENDPOINT_URL_KMS", "https://kms.us-east-1.amazonaws.com");
    s_set("VAULT_ADDR", "https://vault.corp:8200");
    s_set("CMEK_EMULATOR_URL", "http://127.0.0.1:41873/");
    cr_assert_eq(s_load("emulator"), CMEK_OK, "%s", s_why);
    for (int svc = 0; svc < CMEK_SERVICE_COUNT; svc++) {
        cr_assert_str_eq(s_t.endpoint[svc], "http://127.0.0.1:41873");
    }
    cr_assert_str_eq(s_t.aws.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    cr_assert_null(s_t.aws.session_token);
}

Test(client_target, set_emulator_url_moves_every_service)
{
    cr_assert_eq(s_load("emulator"), CMEK_OK, "%s", s_why);
    cr_assert_eq(cmek_target_set_emulator_url(&s_t, "http://127.0.0.1:5555/"), CMEK_OK);
    for (int svc = 0; svc < CMEK_SERVICE_COUNT; svc++) {
        cr_assert_str_eq(s_t.endpoint[svc], "http://127.0.0.1:5555");
    }
}

Test(client_target, set_emulator_url_refuses_a_live_target)
{
    cr_assert_eq(s_load("live"), CMEK_OK, "%s", s_why);
    cr_assert_eq(cmek_target_set_emulator_url(&s_t, "http://127.0.0.1:5555"), CMEK_ERR_INVALID_ARG);
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "https://kms.us-east-1.amazonaws.com");
}

Test(client_target, set_emulator_url_refuses_a_non_http_url)
{
    cr_assert_eq(s_load("emulator"), CMEK_OK, "%s", s_why);
    cr_assert_eq(cmek_target_set_emulator_url(&s_t, "file:///etc/passwd"), CMEK_ERR_INVALID_ARG);
    cr_assert_str_eq(s_t.endpoint[CMEK_SERVICE_KMS], "http://127.0.0.1:4566");
}
