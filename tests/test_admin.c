/* Tests of the admin endpoints (../shared/CONTRACT.md): health, reset, the emulator clock. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "harness.h"
#include "store.h"
#include "test_common.h"

static struct th_ctx s_t;

static void s_init(void)
{
    th_init(&s_t);
}

static void s_fini(void)
{
    th_clean_up(&s_t);
    cmek_test_fini();
}

TestSuite(admin, .init = s_init, .fini = s_fini);

static json_t *s_json(void)
{
    json_error_t e;
    json_t *v = json_loads(cmek_buf_cstr(&s_t.body), 0, &e);
    cr_assert_not_null(v, "not JSON: %s", cmek_buf_cstr(&s_t.body));
    return v;
}

static void s_assert_error(int status, const char *code)
{
    cr_assert_eq(s_t.status, status, "%s", cmek_buf_cstr(&s_t.body));
    json_t *v = s_json();
    cr_assert_str_eq(json_string_value(json_object_get(v, "code")), code);
    cr_assert(json_is_string(json_object_get(v, "message")));
    json_decref(v);
}

Test(admin, health_reports_ok_and_the_services)
{
    cr_assert_eq(th_raw(&s_t, "GET", "/_emulator/health", NULL, NULL), 200);
    json_t *v = s_json();
    cr_assert_str_eq(json_string_value(json_object_get(v, "status")), "ok");
    cr_assert_eq(json_array_size(json_object_get(v, "services")), 5);
    json_decref(v);
}

Test(admin, clock_reports_now_and_a_zero_offset)
{
    cr_assert_eq(th_raw(&s_t, "GET", "/_emulator/clock", NULL, NULL), 200);
    json_t *v = s_json();
    cr_assert_str_eq(json_string_value(json_object_get(v, "now")), "2026-11-23T12:00:00Z");
    cr_assert_eq(json_integer_value(json_object_get(v, "offset_seconds")), 0);
    json_decref(v);
}

Test(admin, clock_advances_by_a_duration)
{
    cr_assert_eq(
        th_raw(&s_t, "POST", "/_emulator/clock", "application/json", "{\"advance\":\"90m\"}"), 200);
    json_t *v = s_json();
    cr_assert_str_eq(json_string_value(json_object_get(v, "now")), "2026-11-23T13:30:00Z");
    cr_assert_eq(json_integer_value(json_object_get(v, "offset_seconds")), 5400);
    json_decref(v);
    cr_assert_eq(th_raw(&s_t, "POST", "/_emulator/clock", NULL, "{\"advance\":\"7d\"}"), 200);
    cr_assert_eq(s_t.app.store->clock_offset_s, 5400 + 7 * 86400);
}

Test(admin, clock_is_set_forward_to_a_time)
{
    cr_assert_eq(
        th_raw(&s_t, "POST", "/_emulator/clock", NULL, "{\"set\":\"2027-01-01T00:00:00Z\"}"), 200);
    json_t *v = s_json();
    cr_assert_str_eq(json_string_value(json_object_get(v, "now")), "2027-01-01T00:00:00Z");
    json_decref(v);
}

Test(admin, clock_never_moves_back)
{
    th_raw(&s_t, "POST", "/_emulator/clock", NULL, "{\"set\":\"2026-11-23T11:59:59Z\"}");
    s_assert_error(400, "InvalidClockRequest");
    cr_assert_eq(s_t.app.store->clock_offset_s, 0);
}

Test(admin, clock_rejects_bad_bodies_without_changing_time)
{
    const char *bad[] = {"",
                         "not json",
                         "[]",
                         "{}",
                         "{\"advance\":\"90\"}",
                         "{\"advance\":\"-5m\"}",
                         "{\"advance\":5}",
                         "{\"set\":\"tomorrow\"}",
                         "{\"advance\":\"5m\",\"set\":\"2030-01-01T00:00:00Z\"}",
                         "{\"advance\":\"5m\",\"extra\":1}",
                         "{\"advance\":\"5m\",\"advance\":\"6m\"}",
                         "{\"advance\":\"999999999d\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        th_raw(&s_t, "POST", "/_emulator/clock", NULL, bad[i]);
        s_assert_error(400, "InvalidClockRequest");
    }
    cr_assert_eq(s_t.app.store->clock_offset_s, 0);
}

Test(admin, reset_answers_ok)
{
    cr_assert_eq(th_raw(&s_t, "POST", "/_emulator/reset", NULL, NULL), 200);
    json_t *v = s_json();
    cr_assert_str_eq(json_string_value(json_object_get(v, "status")), "ok");
    json_decref(v);
}

Test(admin, state_dumps_the_world_format)
{
    cr_assert_eq(th_raw(&s_t, "GET", "/_emulator/state", NULL, NULL), 200);
    json_t *v = s_json();
    cr_assert(json_equal(v, (json_t *)emu_store_world(s_t.app.store)));
    json_decref(v);
}

Test(admin, unknown_paths_and_methods_get_json_errors)
{
    th_raw(&s_t, "GET", "/_emulator/nope", NULL, NULL);
    s_assert_error(404, "NotFound");
    th_raw(&s_t, "DELETE", "/_emulator/clock", NULL, NULL);
    s_assert_error(405, "MethodNotAllowed");
    th_raw(&s_t, "GET", "/_emulator/reset", NULL, NULL);
    s_assert_error(405, "MethodNotAllowed");
}
