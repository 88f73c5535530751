/* Tests of Vault's HTTP surface and the keymgmt engine (svc_vault.c, vault_model.c,
 * vault_agent.c): conventions (tokens, namespaces, envelope, errors, LIST, the CLI's request
 * shapes), sys/mounts, keys, KMS providers, and distribution into the emulated KMS, checked
 * through KMS's own API. Every request goes through the router as over HTTP (th_vault). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "cmek/crypto.h"
#include "harness.h"
#include "store.h"
#include "test_common.h"

#define TOKEN            TH_VAULT_TOKEN
#define AKID             "AKIAIOSFODNN7EXAMPLE"
#define SECRET           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define UNSUPPORTED_PATH "{\"errors\":[\"1 error occurred:\\n\\t* unsupported path\\n\\n\"]}\n"
#define UNSUPPORTED_OP   "{\"errors\":[\"1 error occurred:\\n\\t* unsupported operation\\n\\n\"]}\n"
/* The CLI's `vault secrets enable keymgmt` body (vault.md §4.4). */
#define CLI_ENABLE                                                                                 \
    "{\"type\":\"keymgmt\",\"description\":\"\",\"config\":{\"options\":null,"                     \
    "\"default_lease_ttl\":\"0s\",\"max_lease_ttl\":\"0s\",\"force_no_cache\":false},\"local\":"   \
    "false,\"seal_wrap\":false,\"external_entropy_access\":false,\"options\":null}"
#define CLI_PROVIDER                                                                               \
    "{\"credentials\":[\"access_key=" AKID "\",\"secret_key=" SECRET "\"],\"key_collection\":"     \
    "\"us-east-1\",\"provider\":\"awskms\"}"

TH_ADMIN_FIXTURE()

TestSuite(vault_http, .init = s_init, .fini = s_fini);
TestSuite(vault_mounts, .init = s_init, .fini = s_fini);
TestSuite(vault_keys, .init = s_init, .fini = s_fini);
TestSuite(vault_kms, .init = s_init, .fini = s_fini);
TestSuite(vault_distribute, .init = s_init, .fini = s_fini);

/* ---- helpers ---- */

static const char *s_body(void)
{
    return cmek_buf_cstr(&s_t.body);
}

static int s_v(const char *method, const char *path, const char *body)
{
    return th_vault(&s_t, method, path, TOKEN, NULL, body);
}

static void s_expect(int status, const char *body)
{
    cr_assert_eq(s_t.status, status, "status %d: %s", s_t.status, s_body());
    cr_assert_str_eq(s_body(), body);
}

/* The last answer is 400 {"errors":[message]}. */
static void s_expect_400(const char *message)
{
    cr_assert_eq(s_t.status, 400, "status %d: %s", s_t.status, s_body());
    json_t *v = th_json(&s_t);
    cr_assert_eq(json_object_size(v), 1, "%s", s_body());
    cr_assert_eq(json_array_size(json_object_get(v, "errors")), 1, "%s", s_body());
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(v, "errors"), 0)), message);
    json_decref(v);
}

static void s_no_content(int status)
{
    cr_assert_eq(status, 204, "status %d: %s", status, s_body());
    cr_assert_str_eq(s_body(), "");
}

/* The data of a 200 answer (new reference). */
static json_t *s_data(int status)
{
    cr_assert_eq(status, 200, "status %d: %s", status, s_body());
    json_t *v = th_json(&s_t);
    json_t *data = json_incref(json_object_get(v, "data"));
    json_decref(v);
    cr_assert_not_null(data);
    return data;
}

static void s_mount(void)
{
    s_no_content(s_v("POST", "/v1/sys/mounts/keymgmt", CLI_ENABLE));
}

static void s_key(const char *name, const char *type)
{
    char path[256], body[128];
    snprintf(path, sizeof(path), "/v1/keymgmt/key/%s", name);
    snprintf(body, sizeof(body), "{\"type\":\"%s\"}", type);
    s_no_content(s_v("PUT", path, body));
}

static const char *s_str(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    cr_assert_not_null(s, "no %s", name);
    return s;
}

/* A KMS call as the account's admin; returns the parsed answer of a 200. */
static json_t *s_kms_ok(const char *op, json_t *in)
{
    int status = th_kms_json(&s_t, NULL, &s_admin, op, in);
    cr_assert_eq(status, 200, "%s: %d %s", op, status, s_body());
    return th_json(&s_t);
}

static void s_expect_key_state(const char *key_id, const char *state)
{
    json_t *out = s_kms_ok("DescribeKey", json_pack("{s:s}", "KeyId", key_id));
    cr_assert_str_eq(s_str(json_object_get(out, "KeyMetadata"), "KeyState"), state);
    json_decref(out);
}

/* Mount, provider "awskms" with the world's admin keys, key "crdb" distributed. */
static void s_distributed(void)
{
    s_mount();
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/awskms", CLI_PROVIDER));
    s_key("crdb", "aes256-gcm96");
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/awskms/key/crdb",
                     "{\"protection\":\"hsm\",\"purpose\":\"encrypt,decrypt\"}"));
}

/* The KMS key id of a distributed version (owned by the caller). */
static char *s_version_key(const char *version)
{
    json_t *d = s_data(s_v("GET", "/v1/keymgmt/kms/awskms/key/crdb", NULL));
    char *id = strdup(s_str(json_object_get(d, "versions"), version));
    json_decref(d);
    return id;
}

/* ---- conventions (vault.md §4) ---- */

Test(vault_http, missing_token_is_permission_denied)
{
    th_vault(&s_t, "GET", "/v1/sys/mounts", NULL, NULL, NULL);
    s_expect(403, "{\"errors\":[\"permission denied\"]}\n");
}

Test(vault_http, invalid_token_is_permission_denied_invalid_token)
{
    th_vault(&s_t, "GET", "/v1/sys/mounts", "hvs.nope", NULL, NULL);
    s_expect(403, "{\"errors\":[\"2 errors occurred:\\n\\t* permission denied\\n\\t* invalid "
                  "token\\n\\n\"]}\n");
}

Test(vault_http, bearer_token_is_accepted)
{
    struct cmek_http_header h[] = {
        {cmek_view_from_cstr("Authorization"), cmek_view_from_cstr("Bearer " TOKEN)}};
    th_exchange(&s_t, "GET", "/v1/sys/mounts", h, 1, NULL);
    cr_assert_eq(s_t.status, 200, "%s", s_body());
}

Test(vault_http, envelope_is_vaults_in_its_order)
{
    s_v("GET", "/v1/sys/mounts", NULL);
    s_expect(200, "{\"request_id\":\"00000000-0000-4000-8000-000000000000\",\"lease_id\":\"\","
                  "\"renewable\":false,\"lease_duration\":0,\"data\":{},\"wrap_info\":null,"
                  "\"warnings\":null,\"auth\":null,\"mount_type\":\"system\"}\n");
}

Test(vault_http, path_without_mount_has_no_handler)
{
    s_v("GET", "/v1/keymgmt/key/crdb", NULL);
    s_expect(404, "{\"errors\":[\"no handler for route \\\"keymgmt/key/crdb\\\". route entry not "
                  "found.\"]}\n");
}

Test(vault_http, unknown_path_in_mount_is_unsupported_path)
{
    s_mount();
    s_v("GET", "/v1/keymgmt/nothing", NULL);
    s_expect(404, UNSUPPORTED_PATH);
    s_v("GET", "/v1/keymgmt/key/bad%name", NULL);
    s_expect(404, UNSUPPORTED_PATH);
}

Test(vault_http, wrong_method_is_unsupported_operation)
{
    s_mount();
    s_v("POST", "/v1/keymgmt/key", "{}");
    s_expect(405, UNSUPPORTED_OP);
    s_v("LIST", "/v1/keymgmt/key/crdb/rotate", NULL);
    s_expect(405, UNSUPPORTED_OP);
    s_v("PATCH", "/v1/keymgmt/key/crdb", "{}");
    s_expect(405, UNSUPPORTED_OP);
}

Test(vault_http, unknown_method_is_405_with_no_errors)
{
    s_v("TRACE", "/v1/sys/mounts", NULL);
    s_expect(405, "{\"errors\":[]}\n");
}

Test(vault_http, malformed_body_is_400)
{
    s_v("PUT", "/v1/sys/mounts/keymgmt", "{\"type\":");
    s_expect_400("failed to parse JSON input: the body must be a JSON object");
    s_v("PUT", "/v1/sys/mounts/keymgmt", "[1]");
    s_expect_400("failed to parse JSON input: the body must be a JSON object");
}

Test(vault_http, list_verb_and_query_are_the_same)
{
    s_mount();
    s_key("b", "aes256-gcm96");
    s_key("a", "aes256-gcm96");
    const char *want = "{\"keys\":[\"a\",\"b\"]}";
    const char *paths[][2] = {{"LIST", "/v1/keymgmt/key"},
                              {"LIST", "/v1/keymgmt/key/"},
                              {"GET", "/v1/keymgmt/key?list=true"},
                              {"GET", "/v1/keymgmt/key/?list=true"}};
    for (size_t i = 0; i < 4; i++) {
        json_t *d = s_data(s_v(paths[i][0], paths[i][1], NULL));
        char *text = json_dumps(d, JSON_COMPACT);
        cr_assert_str_eq(text, want, "%s %s", paths[i][0], paths[i][1]);
        free(text);
        json_decref(d);
    }
}

Test(vault_http, namespace_by_header_or_path_prefix)
{
    s_no_content(th_vault(&s_t, "POST", "/v1/sys/mounts/keymgmt", TOKEN, "admin", CLI_ENABLE));
    s_no_content(th_vault(&s_t, "PUT", "/v1/admin/keymgmt/key/k", TOKEN, NULL,
                          "{\"type\":\"aes256-gcm96\"}"));
    json_t *d = s_data(th_vault(&s_t, "GET", "/v1/keymgmt/key/k", TOKEN, "admin/", NULL));
    cr_assert_str_eq(s_str(d, "type"), "aes256-gcm96");
    json_decref(d);
    /* The root namespace has no such mount. */
    s_v("GET", "/v1/keymgmt/key/k", NULL);
    cr_assert_eq(s_t.status, 404, "%s", s_body());
    th_vault(&s_t, "GET", "/v1/keymgmt/key/k", TOKEN, "nowhere", NULL);
    s_expect(403, "{\"errors\":[\"1 error occurred:\\n\\t* permission denied\\n\\n\"]}\n");
}

/* ---- sys/mounts (vault.md §4.4) ---- */

Test(vault_mounts, enable_list_disable)
{
    s_mount();
    json_t *d = s_data(s_v("GET", "/v1/sys/mounts", NULL));
    json_t *m = json_object_get(d, "keymgmt/");
    cr_assert_str_eq(s_str(m, "type"), "keymgmt");
    cr_assert(strncmp(s_str(m, "accessor"), "keymgmt_", 8) == 0);
    json_decref(d);
    s_no_content(s_v("DELETE", "/v1/sys/mounts/keymgmt", NULL));
    s_v("LIST", "/v1/keymgmt/key", NULL);
    cr_assert_eq(s_t.status, 404);
    s_no_content(s_v("DELETE", "/v1/sys/mounts/keymgmt", NULL)); /* "if it existed" */
}

Test(vault_mounts, enabling_an_occupied_path_is_400)
{
    s_mount();
    s_v("POST", "/v1/sys/mounts/keymgmt", CLI_ENABLE);
    s_expect(400, "{\"errors\":[\"path is already in use at keymgmt/\"]}\n");
    s_v("POST", "/v1/sys/mounts/keymgmt/sub", "{\"type\":\"keymgmt\"}");
    s_expect_400("path is already in use at keymgmt/");
}

Test(vault_mounts, enable_at_another_path)
{
    s_no_content(s_v("POST", "/v1/sys/mounts/km", "{\"type\":\"keymgmt\"}"));
    s_no_content(s_v("PUT", "/v1/km/key/k", "{\"type\":\"aes256-gcm96\"}"));
    json_t *d = s_data(s_v("GET", "/v1/km/key/k", NULL));
    cr_assert_str_eq(s_str(d, "name"), "k");
    json_decref(d);
    s_v("GET", "/v1/sys/mounts", NULL);
    cr_assert(strstr(s_body(), "\"mount_type\":\"system\"") != NULL);
    d = s_data(200);
    cr_assert_not_null(json_object_get(d, "km/"));
    json_decref(d);
}

Test(vault_mounts, enable_needs_a_known_type)
{
    s_v("POST", "/v1/sys/mounts/x", "{}");
    s_expect_400("missing type");
    s_v("POST", "/v1/sys/mounts/x", "{\"type\":\"kv\"}");
    s_expect_400("plugin not found in the catalog: kv");
    s_v("POST", "/v1/sys/mounts/sys/x", "{\"type\":\"keymgmt\"}");
    cr_assert_eq(s_t.status, 400);
}

/* ---- keys (vault.md §1.1-1.7) ---- */

Test(vault_keys, create_read_in_real_vaults_shape)
{
    s_mount();
    s_key("crdb-cmek-vault", "aes256-gcm96");
    s_v("GET", "/v1/keymgmt/key/crdb-cmek-vault", NULL);
    s_expect(200, "{\"request_id\":\"00000000-0000-4000-8000-000000000000\",\"lease_id\":\"\","
                  "\"renewable\":false,\"lease_duration\":0,\"data\":{\"deletion_allowed\":false,"
                  "\"latest_version\":1,\"min_enabled_version\":1,\"name\":\"crdb-cmek-vault\","
                  "\"type\":\"aes256-gcm96\",\"versions\":{\"1\":{\"creation_time\":\"2026-11-"
                  "23T12:00:00.000000000Z\"}}},\"wrap_info\":null,\"warnings\":null,\"auth\":null,"
                  "\"mount_type\":\"keymgmt\"}\n");
}

Test(vault_keys, default_type_is_rsa_2048_with_public_key)
{
    s_mount();
    s_no_content(s_v("PUT", "/v1/keymgmt/key/r", "null"));
    json_t *d = s_data(s_v("GET", "/v1/keymgmt/key/r", NULL));
    cr_assert_str_eq(s_str(d, "type"), "rsa-2048");
    const char *pem = s_str(json_object_get(json_object_get(d, "versions"), "1"), "public_key");
    cr_assert(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0, "%s", pem);
    json_decref(d);
}

Test(vault_keys, asymmetric_types_have_real_public_keys)
{
    s_mount();
    static const char *const types[] = {"rsa-3072", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521"};
    static const int bits[] = {3072, 256, 384, 521};
    for (size_t i = 0; i < 4; i++) {
        s_key(types[i], types[i]);
        char path[64];
        snprintf(path, sizeof(path), "/v1/keymgmt/key/%s", types[i]);
        json_t *d = s_data(s_v("GET", path, NULL));
        const char *pem = s_str(json_object_get(json_object_get(d, "versions"), "1"), "public_key");
        BIO *bio = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        cr_assert_not_null(pkey, "%s", types[i]);
        cr_assert_eq(EVP_PKEY_get_bits(pkey), bits[i], "%s", types[i]);
        EVP_PKEY_free(pkey);
        BIO_free(bio);
        json_decref(d);
    }
}

Test(vault_keys, unsupported_type_is_400)
{
    s_mount();
    s_v("PUT", "/v1/keymgmt/key/k", "{\"type\":\"aes128-gcm96\"}");
    s_expect_400("unsupported key type: aes128-gcm96");
    s_v("GET", "/v1/keymgmt/key/k", NULL);
    s_expect(404, "{\"errors\":[]}\n");
}

Test(vault_keys, type_cannot_change)
{
    s_mount();
    s_key("k", "aes256-gcm96");
    s_v("PUT", "/v1/keymgmt/key/k", "{\"type\":\"rsa-2048\"}");
    s_expect_400("key type cannot be changed after creation (it is aes256-gcm96)");
    s_no_content(s_v("PUT", "/v1/keymgmt/key/k", "{\"type\":\"aes256-gcm96\"}"));
}

Test(vault_keys, list_and_empty_list)
{
    s_mount();
    s_v("LIST", "/v1/keymgmt/key", NULL);
    s_expect(404, "{\"errors\":[]}\n");
    s_key("k", "aes256-gcm96");
    json_t *d = s_data(s_v("GET", "/v1/keymgmt/key?list=true", NULL));
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "keys"), 0)), "k");
    json_decref(d);
}

Test(vault_keys, rotate_with_null_body_and_min_enabled_version_as_strings)
{
    s_mount();
    s_key("k", "aes256-gcm96");
    s_t.wall += 60;
    s_no_content(s_v("PUT", "/v1/keymgmt/key/k/rotate", "null"));
    s_no_content(s_v("POST", "/v1/keymgmt/key/k/rotate", NULL));
    json_t *d = s_data(s_v("GET", "/v1/keymgmt/key/k", NULL));
    cr_assert_eq(json_integer_value(json_object_get(d, "latest_version")), 3);
    cr_assert_str_eq(s_str(json_object_get(json_object_get(d, "versions"), "2"), "creation_time"),
                     "2026-11-23T12:01:00.000000000Z");
    json_decref(d);
    /* The CLI sends every value as a string. */
    s_no_content(s_v("PUT", "/v1/keymgmt/key/k",
                     "{\"min_enabled_version\":\"2\",\"deletion_allowed\":\"true\"}"));
    d = s_data(s_v("GET", "/v1/keymgmt/key/k", NULL));
    cr_assert_eq(json_integer_value(json_object_get(d, "min_enabled_version")), 2);
    cr_assert(json_is_true(json_object_get(d, "deletion_allowed")));
    cr_assert_null(json_object_get(json_object_get(d, "versions"), "1"));
    cr_assert_eq(json_object_size(json_object_get(d, "versions")), 2);
    json_decref(d);
    /* 0 means all versions (read back as 1); native JSON types as Terraform sends them. */
    s_no_content(
        s_v("PUT", "/v1/keymgmt/key/k", "{\"min_enabled_version\":0,\"deletion_allowed\":false}"));
    d = s_data(s_v("GET", "/v1/keymgmt/key/k", NULL));
    cr_assert_eq(json_integer_value(json_object_get(d, "min_enabled_version")), 1);
    cr_assert_eq(json_object_size(json_object_get(d, "versions")), 3);
    cr_assert(json_is_false(json_object_get(d, "deletion_allowed")));
    json_decref(d);
}

Test(vault_keys, update_rejects_bad_values)
{
    s_mount();
    s_key("k", "aes256-gcm96");
    s_v("PUT", "/v1/keymgmt/key/k", "{\"min_enabled_version\":\"two\"}");
    s_expect_400("Field validation failed: error converting input \"two\" for field "
                 "\"min_enabled_version\": cannot parse as int");
    s_v("PUT", "/v1/keymgmt/key/k", "{\"deletion_allowed\":\"yes\"}");
    s_expect_400("Field validation failed: error converting input \"yes\" for field "
                 "\"deletion_allowed\": cannot parse as bool");
    s_v("PUT", "/v1/keymgmt/key/k", "{\"min_enabled_version\":2}");
    s_expect_400("min_enabled_version must be between 0 and the latest version (1)");
    s_v("PUT", "/v1/keymgmt/key/k/rotate", NULL);
    s_no_content(s_t.status);
    s_v("PUT", "/v1/keymgmt/key/k", "{\"min_enabled_version\":-1}");
    s_expect_400("min_enabled_version must be between 0 and the latest version (2)");
}

Test(vault_keys, rotate_of_missing_key_is_400)
{
    s_mount();
    s_v("PUT", "/v1/keymgmt/key/nope/rotate", "null");
    s_expect_400("key \"nope\" not found");
}

Test(vault_keys, delete_needs_deletion_allowed)
{
    s_mount();
    s_key("k", "aes256-gcm96");
    s_v("DELETE", "/v1/keymgmt/key/k", NULL);
    s_expect_400("deletion is not allowed for key \"k\": set deletion_allowed to true");
    s_no_content(s_v("PUT", "/v1/keymgmt/key/k", "{\"deletion_allowed\":\"true\"}"));
    s_no_content(s_v("DELETE", "/v1/keymgmt/key/k", NULL));
    s_v("GET", "/v1/keymgmt/key/k", NULL);
    s_expect(404, "{\"errors\":[]}\n");
    s_no_content(s_v("DELETE", "/v1/keymgmt/key/k", NULL));
}

Test(vault_keys, key_not_distributed_lists_no_providers)
{
    s_mount();
    s_key("k", "aes256-gcm96");
    s_v("LIST", "/v1/keymgmt/key/k/kms", NULL);
    s_expect(404, "{\"errors\":[]}\n");
}

/* ---- KMS providers (vault.md §1.8-1.11, §3) ---- */

Test(vault_kms, cli_credentials_array_create_read_list)
{
    s_mount();
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/awskms", CLI_PROVIDER));
    s_v("GET", "/v1/keymgmt/kms/awskms", NULL);
    cr_assert(strstr(s_body(), SECRET) == NULL && strstr(s_body(), AKID) == NULL);
    json_t *d = s_data(200);
    char *text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert_str_eq(text, "{\"key_collection\":\"us-east-1\",\"provider\":\"awskms\"}");
    free(text);
    json_decref(d);
    d = s_data(s_v("LIST", "/v1/keymgmt/kms", NULL));
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "keys"), 0)), "awskms");
    json_decref(d);
}

Test(vault_kms, credentials_as_one_string_and_as_object)
{
    s_mount();
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/one",
                     "{\"credentials\":\"access_key=" AKID "\",\"key_collection\":\"us-east-1\","
                     "\"provider\":\"awskms\"}"));
    s_no_content(s_v("POST", "/v1/keymgmt/kms/obj",
                     "{\"credentials\":{\"access_key\":\"" AKID "\",\"secret_key\":\"" SECRET
                     "\"},\"key_collection\":\"us-east-1\",\"provider\":\"awskms\"}"));
    struct emu_vault_mount *m = emu_vault_mount_find(&s_t.app.store->vault, "", "keymgmt/");
    cr_assert_str_eq(emu_vault_provider_find(m, "one")->access_key, AKID);
    cr_assert_str_eq(emu_vault_provider_find(m, "one")->secret_key, "");
    cr_assert_str_eq(emu_vault_provider_find(m, "obj")->secret_key, SECRET);
}

Test(vault_kms, invalid_credentials_are_400)
{
    s_mount();
    s_v("PUT", "/v1/keymgmt/kms/p",
        "{\"credentials\":[\"=x\"],\"key_collection\":\"us-east-1\",\"provider\":\"awskms\"}");
    s_expect_400("invalid key pair \"=x\"");
    s_v("PUT", "/v1/keymgmt/kms/p",
        "{\"credentials\":[\"nokey\"],\"key_collection\":\"us-east-1\",\"provider\":\"awskms\"}");
    s_expect_400("invalid key pair \"nokey\"");
    s_v("PUT", "/v1/keymgmt/kms/p",
        "{\"credentials\":{\"region\":\"x\"},\"key_collection\":\"us-east-1\",\"provider\":"
        "\"awskms\"}");
    s_expect_400("invalid credential \"region\" for the awskms provider: use access_key, "
                 "secret_key, session_token or endpoint");
    s_v("GET", "/v1/keymgmt/kms/p", NULL);
    s_expect(404, "{\"errors\":[]}\n");
}

Test(vault_kms, required_and_immutable_fields)
{
    s_mount();
    s_v("PUT", "/v1/keymgmt/kms/p", "{\"key_collection\":\"us-east-1\"}");
    s_expect_400("missing provider");
    s_v("PUT", "/v1/keymgmt/kms/p", "{\"provider\":\"awskms\"}");
    s_expect_400("missing key_collection");
    s_v("PUT", "/v1/keymgmt/kms/p", "{\"provider\":\"azurekeyvault\",\"key_collection\":\"v\"}");
    s_expect_400("the azurekeyvault provider is not emulated: only awskms");
    s_v("PUT", "/v1/keymgmt/kms/p", "{\"provider\":\"x\",\"key_collection\":\"v\"}");
    s_expect_400("unsupported KMS provider type \"x\"");
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/p", CLI_PROVIDER));
    s_v("PUT", "/v1/keymgmt/kms/p", "{\"provider\":\"awskms\",\"key_collection\":\"eu-west-1\"}");
    s_expect_400("key_collection cannot be changed after creation");
    /* An update re-sending provider with new credentials is fine. */
    s_no_content(
        s_v("PUT", "/v1/keymgmt/kms/p",
            "{\"provider\":\"awskms\",\"credentials\":[\"access_key=A\",\"secret_key=B\"]}"));
}

Test(vault_kms, delete_and_empty_list)
{
    s_mount();
    s_v("LIST", "/v1/keymgmt/kms", NULL);
    s_expect(404, "{\"errors\":[]}\n");
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/p", CLI_PROVIDER));
    s_no_content(s_v("DELETE", "/v1/keymgmt/kms/p", NULL));
    s_v("GET", "/v1/keymgmt/kms/p", NULL);
    s_expect(404, "{\"errors\":[]}\n");
    s_no_content(s_v("DELETE", "/v1/keymgmt/kms/p", NULL));
}

/* ---- distribution (vault.md §1.12-1.15, §2) ---- */

Test(vault_distribute, distribute_imports_real_material_into_kms)
{
    s_distributed();
    json_t *d = s_data(s_v("GET", "/v1/keymgmt/kms/awskms/key/crdb", NULL));
    cr_assert_str_eq(s_str(d, "distribution_time"), "2026-11-23T12:00:00.000000000Z");
    char name[64];
    snprintf(name, sizeof(name), "crdb-%lld", (long long)s_t.wall);
    cr_assert_str_eq(s_str(d, "name"), name);
    cr_assert_str_eq(s_str(d, "purpose"), "decrypt,encrypt");
    cr_assert_str_eq(s_str(d, "protection"), "hsm");
    cr_assert_eq(json_object_size(json_object_get(d, "versions")), 1);
    const char *key_id = s_str(json_object_get(d, "versions"), "1");
    /* In KMS: a customer managed key with imported material, enabled, behind the alias. */
    json_t *out = s_kms_ok("DescribeKey", json_pack("{s:s}", "KeyId", key_id));
    json_t *meta = json_object_get(out, "KeyMetadata");
    cr_assert_str_eq(s_str(meta, "Origin"), "EXTERNAL");
    cr_assert_str_eq(s_str(meta, "KeyState"), "Enabled");
    cr_assert_str_eq(s_str(meta, "KeyManager"), "CUSTOMER");
    cr_assert_str_eq(s_str(meta, "ExpirationModel"), "KEY_MATERIAL_DOES_NOT_EXPIRE");
    json_decref(out);
    char alias[96];
    snprintf(alias, sizeof(alias), "alias/hashicorp/%s", name);
    out = s_kms_ok("DescribeKey", json_pack("{s:s}", "KeyId", alias));
    cr_assert_str_eq(s_str(json_object_get(out, "KeyMetadata"), "KeyId"), key_id);
    json_decref(out);
    /* The default key policy, to which the customer adds crdb-cmek-kms. */
    out =
        s_kms_ok("GetKeyPolicy", json_pack("{s:s,s:s}", "KeyId", key_id, "PolicyName", "default"));
    cr_assert(strstr(s_str(out, "Policy"), "arn:aws:iam::111122223333:root") != NULL);
    json_decref(out);
    json_decref(d);
    d = s_data(s_v("GET", "/v1/keymgmt/key/crdb/kms?list=true", NULL));
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "keys"), 0)), "awskms");
    json_decref(d);
    d = s_data(s_v("LIST", "/v1/keymgmt/kms/awskms/key", NULL));
    cr_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "keys"), 0)), "crdb");
    json_decref(d);
}

/* The proof the import is real: KMS encrypts under the alias, and the blob (docs/
 * kms-ciphertext.md) opens with the 32 bytes Vault holds for version 1. */
Test(vault_distribute, kms_ciphertext_opens_with_vaults_material)
{
    s_distributed();
    char alias[96];
    snprintf(alias, sizeof(alias), "alias/hashicorp/crdb-%lld", (long long)s_t.wall);
    json_t *out = s_kms_ok("Encrypt",
                           json_pack("{s:s,s:s}", "KeyId", alias, "Plaintext", "aGVsbG8sIHZhdWx0"));
    const char *b64 = s_str(out, "CiphertextBlob");
    struct cmek_buf blob;
    cmek_buf_init(&blob, 8192);
    cr_assert_eq(cmek_base64_decode(b64, strlen(b64), &blob), 0);
    json_decref(out);
    const uint8_t *p = (const uint8_t *)blob.data;
    size_t l = p[13];
    size_t header = 46 + l, n = blob.len - header - 12 - 16;
    struct emu_vault_mount *m = emu_vault_mount_find(&s_t.app.store->vault, "", "keymgmt/");
    const uint8_t *material = emu_vault_key_find(m, "crdb")->versions[0].material;
    uint8_t aad[256], plain[64];
    memcpy(aad, p, header);
    memset(aad + header, 0, 4); /* no encryption context */
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    cr_assert_eq(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, material, p + header), 1);
    cr_assert_eq(EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)header + 4), 1);
    cr_assert_eq(EVP_DecryptUpdate(ctx, plain, &len, p + header + 12, (int)n), 1);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(p + header + 12 + n)),
                 1);
    cr_assert_eq(EVP_DecryptFinal_ex(ctx, plain + len, &fin), 1, "tag mismatch");
    EVP_CIPHER_CTX_free(ctx);
    cr_assert_eq(len + fin, 12);
    cr_assert(memcmp(plain, "hello, vault", 12) == 0);
    cmek_buf_clean_up(&blob);
}

Test(vault_distribute, only_aes_hsm_encrypt_decrypt)
{
    s_mount();
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/awskms", CLI_PROVIDER));
    s_key("r", "rsa-2048");
    s_key("a", "aes256-gcm96");
    s_v("PUT", "/v1/keymgmt/kms/awskms/key/r", "{\"purpose\":\"encrypt,decrypt\"}");
    s_expect_400("key type \"rsa-2048\" is not supported by the awskms provider");
    s_v("PUT", "/v1/keymgmt/kms/awskms/key/a", "{\"purpose\":\"sign\"}");
    s_expect_400("purpose \"sign\" is not supported by the awskms provider: use encrypt and "
                 "decrypt");
    s_v("PUT", "/v1/keymgmt/kms/awskms/key/a", "{\"purpose\":\"frobnicate\"}");
    s_expect_400("invalid purpose \"frobnicate\"");
    s_v("PUT", "/v1/keymgmt/kms/awskms/key/a", "{}");
    s_expect_400("at least one purpose is required");
    s_v("PUT", "/v1/keymgmt/kms/awskms/key/a",
        "{\"purpose\":\"encrypt,decrypt\",\"protection\":\"software\"}");
    s_expect_400("protection \"software\" is not supported by the awskms provider: use hsm");
    s_v("PUT", "/v1/keymgmt/kms/nope/key/a", "{\"purpose\":\"encrypt\"}");
    s_expect_400("KMS provider \"nope\" not found");
    s_v("PUT", "/v1/keymgmt/kms/awskms/key/nope", "{\"purpose\":\"encrypt\"}");
    s_expect_400("key \"nope\" not found");
    /* Terraform's array form. */
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/awskms/key/a", "{\"purpose\":[\"encrypt\"]}"));
    json_t *d = s_data(s_v("GET", "/v1/keymgmt/kms/awskms/key/a", NULL));
    cr_assert_str_eq(s_str(d, "purpose"), "encrypt");
    json_decref(d);
    s_v("PUT", "/v1/keymgmt/kms/awskms/key/a", "{\"purpose\":\"encrypt\"}");
    s_expect_400("key \"a\" is already distributed to KMS provider \"awskms\"");
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/other", CLI_PROVIDER));
    s_v("PUT", "/v1/keymgmt/kms/other/key/a", "{\"purpose\":\"encrypt\"}");
    s_expect_400("key \"a\" is distributed to KMS provider \"awskms\": a key can only be "
                 "distributed to a single KMS provider");
}

Test(vault_distribute, wrong_credentials_surface_the_kms_error)
{
    s_mount();
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/bad",
                     "{\"credentials\":[\"access_key=AKIANOTAREALKEY00000\",\"secret_key=x\"],"
                     "\"key_collection\":\"us-east-1\",\"provider\":\"awskms\"}"));
    s_key("k", "aes256-gcm96");
    s_v("PUT", "/v1/keymgmt/kms/bad/key/k", "{\"purpose\":\"encrypt,decrypt\"}");
    s_expect_400("error distributing key \"k\": kms:CreateKey failed: "
                 "UnrecognizedClientException: The security token included in the request is "
                 "invalid.");
    s_v("GET", "/v1/keymgmt/kms/bad/key/k", NULL);
    s_expect(404, "{\"errors\":[]}\n");
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/none",
                     "{\"key_collection\":\"us-east-1\",\"provider\":\"awskms\"}"));
    s_v("PUT", "/v1/keymgmt/kms/none/key/k", "{\"purpose\":\"encrypt,decrypt\"}");
    s_expect_400("KMS provider \"none\" has no credentials: set access_key and secret_key (the "
                 "emulator has no environment or instance credentials to fall back on)");
}

Test(vault_distribute, rotate_makes_a_new_kms_key_and_moves_the_alias)
{
    s_distributed();
    char *v1 = s_version_key("1");
    long long ts = (long long)s_t.wall;
    s_t.wall += 3600;
    s_no_content(s_v("PUT", "/v1/keymgmt/key/crdb/rotate", "null"));
    char *v2 = s_version_key("2");
    cr_assert_str_neq(v1, v2);
    json_t *d = s_data(s_v("GET", "/v1/keymgmt/kms/awskms/key/crdb", NULL));
    char name[64];
    snprintf(name, sizeof(name), "crdb-%lld", ts);
    cr_assert_str_eq(s_str(d, "name"), name); /* the alias keeps its first timestamp */
    json_decref(d);
    char alias[96];
    snprintf(alias, sizeof(alias), "alias/hashicorp/%s", name);
    json_t *out = s_kms_ok("DescribeKey", json_pack("{s:s}", "KeyId", alias));
    cr_assert_str_eq(s_str(json_object_get(out, "KeyMetadata"), "KeyId"), v2);
    json_decref(out);
    s_expect_key_state(v1, "Enabled");
    s_expect_key_state(v2, "Enabled");
    free(v1);
    free(v2);
}

Test(vault_distribute, min_enabled_version_disables_and_reenables_in_kms)
{
    s_distributed();
    s_no_content(s_v("PUT", "/v1/keymgmt/key/crdb/rotate", "null"));
    char *v1 = s_version_key("1");
    char *v2 = s_version_key("2");
    s_no_content(s_v("PUT", "/v1/keymgmt/key/crdb", "{\"min_enabled_version\":\"2\"}"));
    s_expect_key_state(v1, "Disabled");
    s_expect_key_state(v2, "Enabled");
    /* The distributed read still lists every version. */
    json_t *d = s_data(s_v("GET", "/v1/keymgmt/kms/awskms/key/crdb", NULL));
    cr_assert_eq(json_object_size(json_object_get(d, "versions")), 2);
    json_decref(d);
    s_no_content(s_v("PUT", "/v1/keymgmt/key/crdb", "{\"min_enabled_version\":\"1\"}"));
    s_expect_key_state(v1, "Enabled");
    free(v1);
    free(v2);
}

Test(vault_distribute, remove_schedules_every_version_for_deletion_then_delete)
{
    s_distributed();
    s_no_content(s_v("PUT", "/v1/keymgmt/key/crdb/rotate", "null"));
    char *v1 = s_version_key("1");
    char *v2 = s_version_key("2");
    s_no_content(s_v("PUT", "/v1/keymgmt/key/crdb", "{\"deletion_allowed\":\"true\"}"));
    s_v("DELETE", "/v1/keymgmt/key/crdb", NULL);
    s_expect_400("key \"crdb\" is distributed to KMS provider \"awskms\": remove it from every KMS "
                 "provider before deleting it");
    s_v("DELETE", "/v1/keymgmt/kms/awskms", NULL);
    s_expect_400("KMS provider \"awskms\" still has keys distributed to it: remove them first");
    s_no_content(s_v("DELETE", "/v1/keymgmt/kms/awskms/key/crdb", NULL));
    s_expect_key_state(v1, "PendingDeletion");
    s_expect_key_state(v2, "PendingDeletion");
    s_v("GET", "/v1/keymgmt/kms/awskms/key/crdb", NULL);
    s_expect(404, "{\"errors\":[]}\n");
    s_no_content(s_v("DELETE", "/v1/keymgmt/kms/awskms/key/crdb", NULL));
    s_no_content(s_v("DELETE", "/v1/keymgmt/key/crdb", NULL));
    s_no_content(s_v("DELETE", "/v1/keymgmt/kms/awskms", NULL));
    free(v1);
    free(v2);
}

Test(vault_distribute, distribution_with_min_enabled_version_disables_old_versions)
{
    s_mount();
    s_no_content(s_v("PUT", "/v1/keymgmt/kms/awskms", CLI_PROVIDER));
    s_key("crdb", "aes256-gcm96");
    s_no_content(s_v("PUT", "/v1/keymgmt/key/crdb/rotate", "null"));
    s_no_content(s_v("PUT", "/v1/keymgmt/key/crdb", "{\"min_enabled_version\":2}"));
    s_no_content(
        s_v("PUT", "/v1/keymgmt/kms/awskms/key/crdb", "{\"purpose\":\"encrypt,decrypt\"}"));
    char *v1 = s_version_key("1");
    s_expect_key_state(v1, "Disabled");
    free(v1);
}

Test(vault_distribute, state_round_trips_through_a_world)
{
    s_distributed();
    s_key("rsa", "ecdsa-p256");
    json_t *snap = emu_store_snapshot(s_t.app.store);
    cr_assert_not_null(snap);
    struct emu_store *again = NULL;
    struct emu_load_error err;
    cr_assert_eq(emu_store_new(&s_t.app, snap, &again, &err), 0, "%s", err.message);
    json_t *snap2 = emu_store_snapshot(again);
    cr_assert(json_equal(json_object_get(snap, "vault"), json_object_get(snap2, "vault")));
    json_decref(snap);
    json_decref(snap2);
    emu_store_destroy(again);
}
