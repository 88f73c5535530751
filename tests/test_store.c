/* Tests of the store: loading worlds, rejecting bad ones, snapshot round trips, reset. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "app.h"
#include "harness.h"
#include "store.h"
#include "test_common.h"

TestSuite(store, .fini = cmek_test_fini);

static void s_app(struct emu_app *app)
{
    memset(app, 0, sizeof(*app));
    emu_config_init_default(&app->cfg);
    app->cfg.log_level = EMU_LOG_ERROR;
    app->sys = *emu_system_default();
}

static int s_load(const char *text, struct emu_store **out, struct emu_load_error *err)
{
    struct emu_app app;
    s_app(&app);
    json_error_t jerr;
    json_t *w = json_loads(text, 0, &jerr);
    cr_assert_not_null(w, "%s", jerr.text);
    int rc = emu_store_new(&app, w, out, err);
    json_decref(w);
    return rc;
}

Test(store, default_world_has_both_accounts_and_their_keys)
{
    struct th_ctx t;
    th_init(&t);
    struct emu_iam *iam = &t.app.store->iam;
    cr_assert_not_null(emu_iam_account(iam, "111122223333"));
    cr_assert_not_null(emu_iam_account(iam, "999988887777"));
    struct emu_iam_access_key *k = emu_iam_access_key(iam, "AKIAIOSFODNN7EXAMPLE");
    cr_assert_not_null(k);
    cr_assert_str_eq(k->secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    cr_assert_str_eq(k->user_name, "admin");
    k = emu_iam_access_key(iam, "AKIAI44QH8DHBEXAMPLE");
    cr_assert_not_null(k);
    cr_assert_str_eq(k->account, "999988887777");
    cr_assert_not_null(emu_iam_managed_policy(iam, "arn:aws:iam::aws:policy/AdministratorAccess"));
    const json_t *cc = json_object_get(emu_store_world(t.app.store), "ccloud");
    const char *secret = json_string_value(
        json_object_get(json_array_get(json_object_get(cc, "api_keys"), 0), "secret"));
    cr_assert(strncmp(secret, "CCDB1_", 6) == 0);
    const json_t *vault = json_object_get(emu_store_world(t.app.store), "vault");
    const char *token = json_string_value(
        json_object_get(json_array_get(json_object_get(vault, "tokens"), 0), "id"));
    cr_assert(strncmp(token, "hvs.", 4) == 0);
    th_clean_up(&t);
}

Test(store, snapshot_of_a_fresh_store_equals_the_normalized_world)
{
    struct th_ctx t;
    th_init(&t);
    json_t *snap = emu_store_snapshot(t.app.store);
    cr_assert(json_equal(snap, (json_t *)emu_store_world(t.app.store)));
    json_decref(snap);
    th_clean_up(&t);
}

Test(store, a_snapshot_loads_back_to_the_same_state)
{
    struct th_ctx t;
    th_init(&t);
    struct th_creds admin;
    th_creds_admin(&admin);
    cr_assert_eq(
        th_query(&t, "iam", &admin,
                 "Action=CreateRole&Version=2010-05-08&RoleName=r1&AssumeRolePolicyDocument="
                 "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A"
                 "%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fadmin%22%7D%2C"
                 "%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"),
        200, "%s", cmek_buf_cstr(&t.body));
    json_t *snap = emu_store_snapshot(t.app.store);
    struct emu_store *copy = NULL;
    struct emu_load_error err;
    cr_assert_eq(emu_store_new(&t.app, snap, &copy, &err), 0, "%s", err.message);
    json_t *snap2 = emu_store_snapshot(copy);
    cr_assert(json_equal(snap, snap2));
    /* The role's binding to the admin user's unique id survives the round trip. */
    struct emu_iam_role *r = emu_iam_role_by_name(&copy->iam, "111122223333", "r1");
    cr_assert_not_null(r);
    json_t *trust = emu_policy_to_json(r->trust);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(trust, "bindings"),
                                                       "arn:aws:iam::111122223333:user/admin")),
                     "AIDAQCUSTOMERADMIN7XA");
    json_decref(trust);
    json_decref(snap);
    json_decref(snap2);
    emu_store_destroy(copy);
    th_clean_up(&t);
}

Test(store, reset_drops_changes_and_the_clock_offset)
{
    struct th_ctx t;
    th_init(&t);
    struct th_creds admin;
    th_creds_admin(&admin);
    cr_assert_eq(th_query(&t, "iam", &admin, "Action=CreateUser&Version=2010-05-08&UserName=u1"),
                 200);
    th_advance(&t, "3d");
    cr_assert_eq(t.app.store->clock_offset_s, 3 * 86400);
    cr_assert_eq(th_raw(&t, "POST", "/_emulator/reset", NULL, ""), 200);
    cr_assert_eq(t.app.store->clock_offset_s, 0);
    cr_assert_null(emu_iam_user_by_name(&t.app.store->iam, "111122223333", "u1"));
    cr_assert_not_null(emu_iam_user_by_name(&t.app.store->iam, "111122223333", "admin"));
    th_clean_up(&t);
}

Test(store, rejects_worlds_with_a_clear_message)
{
    static const struct {
        const char *world;
        const char *message;
    } cases[] = {
        {"[]", "the world must be a JSON object"},
        {"{}", "the world needs an \"aws\" object"},
        {"{\"aws\":{}}", "aws.accounts must be an array"},
        {"{\"aws\":{\"accounts\":[{\"id\":\"12\"}]}}", "every aws account needs a 12-digit id"},
        {"{\"aws\":{\"accounts\":[{\"id\":\"111122223333\"},{\"id\":\"111122223333\"}]}}",
         "duplicate aws account 111122223333"},
        {"{\"aws\":{\"accounts\":[{\"id\":\"111122223333\",\"users\":[{\"name\":\"u\","
         "\"access_keys\":[{\"id\":\"AKIA1\"}]}]}]}}",
         "access key of user u needs id and secret"},
        {"{\"aws\":{\"accounts\":[{\"id\":\"111122223333\",\"users\":[{\"name\":\"u\","
         "\"attached_policies\":[\"arn:aws:iam::aws:policy/Nope\"]}]}]}}",
         "attached policy arn:aws:iam::aws:policy/Nope does not exist"},
        {"{\"aws\":{\"accounts\":[{\"id\":\"111122223333\",\"roles\":[{\"name\":\"r\"}]}]}}",
         "role r needs an assume_role_policy"},
        {"{\"aws\":{\"accounts\":[{\"id\":\"111122223333\",\"roles\":[{\"name\":\"r\","
         "\"max_session_duration\":60,\"assume_role_policy\":{}}]}]}}",
         "max_session_duration of role r must be 3600..43200"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct emu_store *store = NULL;
        struct emu_load_error err;
        cr_assert_neq(s_load(cases[i].world, &store, &err), 0, "case %zu loaded", i);
        cr_assert_null(store);
        cr_assert_str_eq(err.message, cases[i].message, "case %zu", i);
    }
}

Test(store, rejects_a_trust_policy_naming_a_principal_that_does_not_exist)
{
    struct emu_store *store = NULL;
    struct emu_load_error err;
    int rc = s_load("{\"aws\":{\"accounts\":[{\"id\":\"111122223333\",\"roles\":[{\"name\":\"r\","
                    "\"assume_role_policy\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                    "\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/ghost\"},"
                    "\"Action\":\"sts:AssumeRole\"}]}}]}]}}",
                    &store, &err);
    cr_assert_neq(rc, 0);
    cr_assert(strncmp(err.message, "policy at arn:aws:iam::111122223333:role/r: ", 44) == 0, "%s",
              err.message);
}
