/* Tests of libcmek-common's small pieces: capped buffers, base64, hex, time formats. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cmek/buf.h"
#include "cmek/map.h"
#include "cmek/crypto.h"
#include "cmek/timeutil.h"
#include "cmek/vec.h"
#include "test_common.h"

TestSuite(buf, .fini = cmek_test_fini);
TestSuite(base64, .fini = cmek_test_fini);
TestSuite(timeutil, .fini = cmek_test_fini);
TestSuite(vec, .fini = cmek_test_fini);

Test(buf, appends_and_stays_nul_terminated)
{
    struct cmek_buf b;
    cmek_buf_init(&b, 16);
    cr_assert_eq(cmek_buf_append_str(&b, "abc"), CMEK_OK);
    cr_assert_eq(cmek_buf_appendf(&b, "-%d", 42), CMEK_OK);
    cr_assert_str_eq(cmek_buf_cstr(&b), "abc-42");
    cr_assert_eq(b.len, 6);
    cmek_buf_clean_up(&b);
    cmek_buf_clean_up(&b); /* idempotent */
}

Test(buf, refuses_to_grow_past_its_cap_and_keeps_contents)
{
    struct cmek_buf b;
    cmek_buf_init(&b, 8);
    cr_assert_eq(cmek_buf_append_str(&b, "12345678"), CMEK_OK);
    cr_assert_eq(cmek_buf_append_byte(&b, '9'), CMEK_ERR_LIMIT);
    cr_assert_eq(cmek_buf_appendf(&b, "%s", "x"), CMEK_ERR_LIMIT);
    cr_assert_str_eq(cmek_buf_cstr(&b), "12345678");
    cmek_buf_clean_up(&b);
}

Test(buf, steal_hands_over_storage_even_when_empty)
{
    struct cmek_buf b;
    cmek_buf_init(&b, 8);
    char *s = cmek_buf_steal(&b);
    cr_assert_str_eq(s, "");
    free(s);
    cr_assert_eq(cmek_buf_append_str(&b, "hi"), CMEK_OK);
    s = cmek_buf_steal(&b);
    cr_assert_str_eq(s, "hi");
    cr_assert_null(b.data);
    free(s);
}

Test(buf, views_compare_exactly_and_case_insensitively)
{
    struct cmek_view v = cmek_view_from_cstr("Content-Type");
    cr_assert(cmek_view_eq_cstr(v, "Content-Type"));
    cr_assert_not(cmek_view_eq_cstr(v, "content-type"));
    cr_assert(cmek_view_eq_ignore_case(v, "content-type"));
    cr_assert(cmek_view_starts_with(v, "Content"));
    cr_assert_not(cmek_view_starts_with(v, "Content-Type-X"));
}

Test(base64, round_trips_every_padding_length)
{
    const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        struct cmek_buf e, d;
        cmek_buf_init(&e, 64);
        cmek_buf_init(&d, 64);
        cr_assert_eq(cmek_base64_encode(plain[i], strlen(plain[i]), &e), CMEK_OK);
        cr_assert_str_eq(cmek_buf_cstr(&e), enc[i]);
        cr_assert_eq(cmek_base64_decode(enc[i], strlen(enc[i]), &d), CMEK_OK);
        cr_assert_eq(d.len, strlen(plain[i]));
        cr_assert_str_eq(cmek_buf_cstr(&d), plain[i]);
        cmek_buf_clean_up(&e);
        cmek_buf_clean_up(&d);
    }
}

Test(base64, rejects_bad_length_characters_and_inner_padding)
{
    const char *bad[] = {"Zg=", "Zm9", "Zg==Zg==", "Z===", "Zm9v!A==", "Zm 9v", "=Zm9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cmek_buf d;
        cmek_buf_init(&d, 64);
        cr_assert_eq(cmek_base64_decode(bad[i], strlen(bad[i]), &d), CMEK_ERR_PARSE, "%s", bad[i]);
        cr_assert_eq(d.len, 0, "%s", bad[i]);
        cmek_buf_clean_up(&d);
    }
}

Test(base64, decode_respects_the_output_cap)
{
    struct cmek_buf d;
    cmek_buf_init(&d, 2);
    cr_assert_eq(cmek_base64_decode("Zm9v", 4, &d), CMEK_ERR_LIMIT);
    cmek_buf_clean_up(&d);
}

Test(base64, sha256_and_hmac_match_known_answers)
{
    char hex[65];
    cr_assert_eq(cmek_sha256_hex("", 0, hex), CMEK_OK);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    uint8_t mac[32];
    /* RFC 4231 test case 2 */
    cr_assert_eq(cmek_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac), CMEK_OK);
    cmek_hex_encode(mac, 32, hex);
    cr_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    cr_assert(cmek_consttime_eq("abc", 3, "abc", 3));
    cr_assert_not(cmek_consttime_eq("abc", 3, "abd", 3));
    cr_assert_not(cmek_consttime_eq("abc", 3, "ab", 2));
}

Test(timeutil, formats_and_parses_amz_dates)
{
    char out[CMEK_AMZ_DATE_LEN + 1];
    cmek_time_format_amz(1440938160, out);
    cr_assert_str_eq(out, "20150830T123600Z");
    time_t t;
    cr_assert_eq(cmek_time_parse_amz("20150830T123600Z", 16, &t), CMEK_OK);
    cr_assert_eq(t, 1440938160);
    cr_assert_eq(cmek_time_parse_amz("20150830T123600", 15, &t), CMEK_ERR_PARSE);
    cr_assert_eq(cmek_time_parse_amz("20150230T123600Z", 16, &t), CMEK_ERR_PARSE);
    cr_assert_eq(cmek_time_parse_amz("2015083xT123600Z", 16, &t), CMEK_ERR_PARSE);
}

Test(timeutil, parses_rfc3339_with_fraction_and_offsets)
{
    time_t t;
    cr_assert_eq(cmek_time_parse_rfc3339("2015-08-30T12:36:00Z", 20, &t), CMEK_OK);
    cr_assert_eq(t, 1440938160);
    cr_assert_eq(cmek_time_parse_rfc3339("2015-08-30T12:36:00.123Z", 24, &t), CMEK_OK);
    cr_assert_eq(t, 1440938160);
    cr_assert_eq(cmek_time_parse_rfc3339("2015-08-30T14:36:00+02:00", 25, &t), CMEK_OK);
    cr_assert_eq(t, 1440938160);
    cr_assert_eq(cmek_time_parse_rfc3339("2015-08-30 12:36:00Z", 20, &t), CMEK_ERR_PARSE);
    cr_assert_eq(cmek_time_parse_rfc3339("2015-08-30T12:36:00", 19, &t), CMEK_ERR_PARSE);
    cr_assert_eq(cmek_time_parse_rfc3339("2015-13-30T12:36:00Z", 20, &t), CMEK_ERR_PARSE);
    char iso[CMEK_ISO8601_MS_LEN + 1];
    cmek_time_format_iso8601_ms(1440938160123LL, iso);
    cr_assert_str_eq(iso, "2015-08-30T12:36:00.123Z");
}

Test(timeutil, parses_durations_in_every_unit)
{
    int64_t s;
    cr_assert_eq(cmek_duration_parse("90m", 3, &s), CMEK_OK);
    cr_assert_eq(s, 5400);
    cr_assert_eq(cmek_duration_parse("7d", 2, &s), CMEK_OK);
    cr_assert_eq(s, 604800);
    cr_assert_eq(cmek_duration_parse("2h", 2, &s), CMEK_OK);
    cr_assert_eq(s, 7200);
    cr_assert_eq(cmek_duration_parse("45s", 3, &s), CMEK_OK);
    cr_assert_eq(s, 45);
    cr_assert_eq(cmek_duration_parse("7", 1, &s), CMEK_ERR_PARSE);
    cr_assert_eq(cmek_duration_parse("7w", 2, &s), CMEK_ERR_PARSE);
    cr_assert_eq(cmek_duration_parse("-7d", 3, &s), CMEK_ERR_PARSE);
    cr_assert_eq(cmek_duration_parse("1.5h", 4, &s), CMEK_ERR_PARSE);
    cr_assert_eq(cmek_duration_parse("99999999999d", 12, &s), CMEK_ERR_PARSE);
}

Test(vec, pushes_and_removes_in_order)
{
    struct cmek_vec v;
    cmek_vec_init(&v);
    int items[20];
    for (int i = 0; i < 20; i++) {
        items[i] = i;
        cr_assert_eq(cmek_vec_push(&v, &items[i]), CMEK_OK);
    }
    cr_assert_eq(*(int *)cmek_vec_remove_at(&v, 0), 0);
    cr_assert_eq(*(int *)cmek_vec_remove_at(&v, 5), 6);
    cr_assert_eq(v.len, 18);
    cr_assert_eq(*(int *)v.items[0], 1);
    cr_assert_eq(*(int *)v.items[17], 19);
    cmek_vec_clean_up(&v);
}

TestSuite(map, .fini = cmek_test_fini);

Test(map, puts_gets_replaces_and_removes)
{
    struct cmek_map m;
    cmek_map_init(&m);
    int a = 1, b = 2, c = 3;
    void *old = &c;
    cr_assert_eq(cmek_map_put(&m, "a", &a, &old), CMEK_OK);
    cr_assert_null(old);
    cr_assert_eq(cmek_map_put(&m, "b", &b, NULL), CMEK_OK);
    cr_assert_eq(cmek_map_get(&m, "a"), &a);
    cr_assert_eq(cmek_map_put(&m, "a", &c, &old), CMEK_OK);
    cr_assert_eq(old, &a);
    cr_assert_eq(cmek_map_get(&m, "a"), &c);
    cr_assert_eq(m.len, 2);
    cr_assert_eq(cmek_map_remove(&m, "a"), &c);
    cr_assert_null(cmek_map_get(&m, "a"));
    cr_assert_null(cmek_map_remove(&m, "a"));
    cr_assert_eq(cmek_map_get(&m, "b"), &b);
    cmek_map_clean_up(&m);
    cmek_map_clean_up(&m);
}

Test(map, survives_many_inserts_and_removals)
{
    struct cmek_map m;
    cmek_map_init(&m);
    static int values[20000];
    char key[32];
    for (int i = 0; i < 20000; i++) {
        values[i] = i;
        snprintf(key, sizeof(key), "key-%d", i);
        cr_assert_eq(cmek_map_put(&m, key, &values[i], NULL), CMEK_OK);
    }
    for (int i = 0; i < 20000; i += 2) {
        snprintf(key, sizeof(key), "key-%d", i);
        cr_assert_eq(cmek_map_remove(&m, key), &values[i]);
    }
    for (int round = 0; round < 3; round++) { /* tombstones must not fill the table */
        for (int i = 0; i < 20000; i += 2) {
            snprintf(key, sizeof(key), "key-%d", i);
            cr_assert_eq(cmek_map_put(&m, key, &values[i], NULL), CMEK_OK);
            cr_assert_eq(cmek_map_remove(&m, key), &values[i]);
        }
    }
    cr_assert_eq(m.len, 10000);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        cr_assert_eq(cmek_map_get(&m, key), i % 2 ? &values[i] : NULL, "%s", key);
    }
    cmek_map_clean_up(&m);
}
