/* The runner's pure modules: jsonpos, vars, expect, wait, xmlesc. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test_common.h"
#include "expect.h"
#include "jsonpos.h"
#include "vars.h"
#include "wait.h"
#include "xmlesc.h"

TestSuite(jsonpos, .fini = cmek_test_fini);
TestSuite(vars, .fini = cmek_test_fini);
TestSuite(expect, .fini = cmek_test_fini);
TestSuite(wait, .fini = cmek_test_fini);
TestSuite(xmlesc, .fini = cmek_test_fini);

/* ---- jsonpos ---- */

static struct crun_jsonpos *s_scan(const char *text)
{
    struct crun_jsonpos *pos = NULL;
    cr_assert_eq(crun_jsonpos_scan(text, strlen(text), &pos), CMEK_OK);
    return pos;
}

static void s_assert_pos(struct crun_pos p, int line, int column)
{
    cr_assert_eq(p.line, line, "line %d, wanted %d", p.line, line);
    cr_assert_eq(p.column, column, "column %d, wanted %d", p.column, column);
}

Test(jsonpos, records_value_and_key_positions_by_path)
{
    struct crun_jsonpos *pos = s_scan("{\n  \"steps\": [\n    {\"name\": \"a\",\n     \"args\": "
                                      "{\"KeyId\": \"k\"}}\n  ]\n}");
    struct crun_pos p;
    cr_assert(crun_jsonpos_value(pos, "steps[0].args.KeyId", &p));
    s_assert_pos(p, 4, 24);
    cr_assert(crun_jsonpos_key(pos, "steps[0].args.KeyId", &p));
    s_assert_pos(p, 4, 15);
    cr_assert(crun_jsonpos_value(pos, "steps[0]", &p));
    s_assert_pos(p, 3, 5);
    cr_assert(crun_jsonpos_key(pos, "steps", &p));
    s_assert_pos(p, 2, 3);
    cr_assert(crun_jsonpos_value(pos, "", &p));
    s_assert_pos(p, 1, 1);
    crun_jsonpos_destroy(pos);
}

Test(jsonpos, counts_columns_in_characters_not_bytes)
{
    struct crun_jsonpos *pos = s_scan("{\"\xc3\xa9t\xc3\xa9\": \"\xe2\x82\xac\", \"b\": 1}");
    struct crun_pos p;
    cr_assert(crun_jsonpos_key(pos, "b", &p));
    s_assert_pos(p, 1, 14);
    crun_jsonpos_destroy(pos);
}

Test(jsonpos, writes_keys_with_dots_in_brackets)
{
    struct crun_jsonpos *pos = s_scan("{\"save\": {\"Role.Arn\": \"x\"}}");
    struct crun_pos p;
    cr_assert(crun_jsonpos_value(pos, "save[\"Role.Arn\"]", &p));
    s_assert_pos(p, 1, 23);
    cr_assert_not(crun_jsonpos_value(pos, "save.Role.Arn", &p));
    crun_jsonpos_destroy(pos);
}

Test(jsonpos, decodes_escaped_keys)
{
    struct crun_jsonpos *pos = s_scan("{\"a\\u0062\": [1, {\"c\": true}]}");
    struct crun_pos p;
    cr_assert(crun_jsonpos_value(pos, "ab[1].c", &p));
    s_assert_pos(p, 1, 23);
    crun_jsonpos_destroy(pos);
}

Test(jsonpos, rejects_text_that_is_not_json)
{
    struct crun_jsonpos *pos = NULL;
    cr_assert_eq(crun_jsonpos_scan("{\"a\" 1}", 7, &pos), CMEK_ERR_PARSE);
    cr_assert_null(pos);
    cr_assert_eq(crun_jsonpos_scan("[1] 2", 5, &pos), CMEK_ERR_PARSE);
    cr_assert_null(pos);
}

/* ---- vars ---- */

static const json_t *s_test_var(void *ctx, const char *name)
{
    return json_object_get(ctx, name);
}

static const char *s_test_env(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "HOME_REGION") == 0 ? "eu-west-1" : NULL;
}

static json_t *s_vars(void)
{
    json_t *v = json_pack("{s:s, s:I, s:{s:s}, s:b}", "role", "crdb-cmek", "count", (json_int_t)3,
                          "obj", "a", "b", "flag", 1);
    cr_assert_not_null(v);
    return v;
}

static char *s_subst(json_t *vars, const char *text, int want_rc, char *why, size_t why_len)
{
    struct crun_lookup lk = {s_test_var, s_test_env, vars, "/nonexistent"};
    struct cmek_buf out;
    cmek_buf_init(&out, 4096);
    int rc = crun_subst_text(text, &lk, &out, why, why_len);
    cr_assert_eq(rc, want_rc, "rc %d for %s", rc, text);
    char *s = strdup(cmek_buf_cstr(&out));
    cmek_buf_clean_up(&out);
    return s;
}

Test(vars, substitutes_vars_env_and_defaults)
{
    json_t *vars = s_vars();
    char why[256] = "";
    char *s = s_subst(vars, "${role}-${env.HOME_REGION}-${env.NOPE:-us-east-1}-${env.NOPE:-}.",
                      CMEK_OK, why, sizeof(why));
    cr_assert_str_eq(s, "crdb-cmek-eu-west-1-us-east-1-.");
    free(s);
    json_decref(vars);
}

Test(vars, dollar_dollar_brace_is_a_literal_and_other_dollars_stay)
{
    json_t *vars = s_vars();
    char why[256] = "";
    char *s = s_subst(vars, "$${role} costs $5, $$ and ${role}", CMEK_OK, why, sizeof(why));
    cr_assert_str_eq(s, "${role} costs $5, $$ and crdb-cmek");
    free(s);
    json_decref(vars);
}

Test(vars, non_string_values_become_compact_json_text)
{
    json_t *vars = s_vars();
    char why[256] = "";
    char *s = s_subst(vars, "n=${count} o=${obj} f=${flag}", CMEK_OK, why, sizeof(why));
    cr_assert_str_eq(s, "n=3 o={\"a\":\"b\"} f=true");
    free(s);
    json_decref(vars);
}

Test(vars, undefined_variable_fails_with_its_name)
{
    json_t *vars = s_vars();
    char why[256] = "";
    free(s_subst(vars, "x ${nope} y", CMEK_ERR_NOT_FOUND, why, sizeof(why)));
    cr_assert_str_eq(why, "undefined variable ${nope}");
    json_decref(vars);
}

Test(vars, unset_environment_variable_without_default_fails)
{
    json_t *vars = s_vars();
    char why[256] = "";
    free(s_subst(vars, "${env.NOPE}", CMEK_ERR_NOT_FOUND, why, sizeof(why)));
    cr_assert_str_eq(why, "environment variable NOPE is not set");
    json_decref(vars);
}

Test(vars, unterminated_reference_is_a_parse_error)
{
    json_t *vars = s_vars();
    char why[256] = "";
    free(s_subst(vars, "ab${role", CMEK_ERR_PARSE, why, sizeof(why)));
    cr_assert_str_eq(why, "unterminated \"${\" at offset 2 (write \"$${\" for a literal)");
    json_decref(vars);
}

Test(vars, bad_name_is_a_parse_error)
{
    json_t *vars = s_vars();
    char why[256] = "";
    free(s_subst(vars, "${1abc}", CMEK_ERR_PARSE, why, sizeof(why)));
    cr_assert_str_eq(why, "bad variable name in \"${1abc}\"");
    free(s_subst(vars, "${}", CMEK_ERR_PARSE, why, sizeof(why)));
    cr_assert_str_eq(why, "bad variable name in \"${}\"");
    free(s_subst(vars, "${env.A-B}", CMEK_ERR_PARSE, why, sizeof(why)));
    cr_assert_str_eq(why, "bad variable name in \"${env.A-B}\"");
    json_decref(vars);
}

static int s_collect_ref(void *ctx, const struct crun_ref *ref)
{
    struct cmek_buf *out = ctx;
    return cmek_buf_appendf(out, "%s:%s:%d:%zu;", ref->kind == CRUN_REF_ENV ? "env" : "var",
                            ref->name, ref->has_default, ref->offset);
}

Test(vars, scan_lists_every_reference_with_its_kind_and_offset)
{
    struct cmek_buf out;
    cmek_buf_init(&out, 4096);
    char why[256] = "";
    cr_assert_eq(
        crun_refs_scan("${a}$${b}${env.C:-x}${env.D}${e-f}", s_collect_ref, &out, why, sizeof(why)),
        CMEK_OK);
    cr_assert_str_eq(cmek_buf_cstr(&out), "var:a:0:0;env:C:1:9;env:D:0:20;var:e-f:0:28;");
    cmek_buf_clean_up(&out);
}

static json_t *s_value(json_t *vars, const char *tmpl_text, bool matchers, int want_rc, char *why,
                       const char *fixtures)
{
    json_error_t jerr;
    json_t *tmpl = json_loads(tmpl_text, JSON_DECODE_ANY, &jerr);
    cr_assert_not_null(tmpl, "%s", jerr.text);
    struct crun_lookup lk = {s_test_var, s_test_env, vars, fixtures};
    json_t *out = NULL;
    int rc = crun_subst_value(tmpl, &lk, matchers, &out, why, 256);
    cr_assert_eq(rc, want_rc, "rc %d: %s", rc, why);
    json_decref(tmpl);
    return out;
}

static void s_assert_json(json_t *got, const char *want)
{
    char *text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
    cr_assert_str_eq(text, want);
    free(text);
    json_decref(got);
}

Test(vars, whole_reference_keeps_the_value_type)
{
    json_t *vars = s_vars();
    char why[256] = "";
    s_assert_json(s_value(vars,
                          "{\"n\": \"${count}\", \"o\": \"${obj}\", \"s\": \"${role}\", "
                          "\"t\": \"x${count}\"}",
                          false, CMEK_OK, why, "/nonexistent"),
                  "{\"n\":3,\"o\":{\"a\":\"b\"},\"s\":\"crdb-cmek\",\"t\":\"x3\"}");
    json_decref(vars);
}

Test(vars, json_builder_gives_compact_text_and_base64_encodes)
{
    json_t *vars = s_vars();
    char why[256] = "";
    s_assert_json(s_value(vars,
                          "[{\"$json\": {\"Version\": \"2012-10-17\", \"R\": \"${role}\"}}, "
                          "{\"$base64\": \"hi ${role}\"}]",
                          false, CMEK_OK, why, "/nonexistent"),
                  "[\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"R\\\":\\\"crdb-cmek\\\"}\","
                  "\"aGkgY3JkYi1jbWVr\"]");
    json_decref(vars);
}

Test(vars, file_builder_reads_the_fixture_and_substitutes)
{
    char dir[] = "/tmp/crun-fixtures-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/p.json", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs("{\"Role\": \"${role}\"}", f);
    fclose(f);
    json_t *vars = s_vars();
    char why[256] = "";
    s_assert_json(s_value(vars, "{\"$file\": \"p.json\"}", false, CMEK_OK, why, dir),
                  "\"{\\\"Role\\\": \\\"crdb-cmek\\\"}\"");
    json_t *none = s_value(vars, "{\"$file\": \"missing.json\"}", false, CMEK_ERR_IO, why, dir);
    cr_assert_null(none);
    char want[512];
    snprintf(want, sizeof(want), "cannot read %s/missing.json: No such file or directory", dir);
    cr_assert_str_eq(why, want);
    unlink(path);
    rmdir(dir);
    json_decref(vars);
}

Test(vars, unknown_builder_and_builder_beside_members_are_rejected)
{
    json_t *vars = s_vars();
    char why[256] = "";
    cr_assert_null(s_value(vars, "{\"$yaml\": \"x\"}", false, CMEK_ERR_PARSE, why, "/"));
    cr_assert_str_eq(why, "unknown value builder \"$yaml\" ($file, $json or $base64)");
    cr_assert_null(s_value(vars, "{\"a\": 1, \"$json\": 2}", false, CMEK_ERR_PARSE, why, "/"));
    cr_assert_str_eq(why, "\"$json\" must be the only member of its object");
    cr_assert_null(s_value(vars, "{\"$base64\": 5}", false, CMEK_ERR_PARSE, why, "/"));
    cr_assert_str_eq(why, "\"$base64\" wants a string");
    cr_assert_null(s_value(vars, "{\"$exists\": true}", false, CMEK_ERR_PARSE, why, "/"));
    cr_assert_str_eq(why, "unknown value builder \"$exists\" ($file, $json or $base64)");
    s_assert_json(s_value(vars, "{\"$contains\": \"${role}\"}", true, CMEK_OK, why, "/"),
                  "{\"$contains\":\"crdb-cmek\"}");
    json_decref(vars);
}

/* ---- expect ---- */

Test(expect, path_get_walks_members_and_indexes)
{
    json_t *out = json_loads("{\"Aliases\": [{\"AliasName\": \"alias/a\"}, {\"AliasName\": "
                             "\"alias/b\"}], \"K\": {\"S\": \"Enabled\"}}",
                             0, NULL);
    cr_assert_str_eq(json_string_value(crun_path_get(out, "Aliases[1].AliasName")), "alias/b");
    cr_assert_str_eq(json_string_value(crun_path_get(out, "K.S")), "Enabled");
    cr_assert_null(crun_path_get(out, "Aliases[2].AliasName"));
    cr_assert_null(crun_path_get(out, "K.S.T"));
    json_t *arr = json_loads("[[1, 2]]", 0, NULL);
    cr_assert_eq(json_integer_value(crun_path_get(arr, "[0][1]")), 2);
    json_decref(arr);
    json_decref(out);
}

Test(expect, path_check_names_each_syntax_error)
{
    char why[128];
    cr_assert_eq(crun_path_check("A..B", why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(why, "empty member name in path");
    cr_assert_eq(crun_path_check("A[x]", why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(why, "an index in a path is [digits]");
    cr_assert_eq(crun_path_check("A[0]B", why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(why, "expected '.' or '[' after \"A\" in path");
    cr_assert_eq(crun_path_check("", why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(why, "empty path");
    cr_assert_eq(crun_path_check("A]", why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(why, "unexpected ']' in path");
    cr_assert_eq(crun_path_check("Role.Arn", why, sizeof(why)), CMEK_OK);
}

static struct cmek_api_error s_service_error(const char *code, long status, const char *message)
{
    struct cmek_api_error err;
    memset(&err, 0, sizeof(err));
    err.failure = CMEK_FAILURE_SERVICE;
    err.http_status = status;
    snprintf(err.code, sizeof(err.code), "%s", code);
    snprintf(err.message, sizeof(err.message), "%s", message);
    err.attempts = 1;
    return err;
}

/* Checks expect_text against a result; returns the verdict; why_out gets the reason. */
static bool s_check(const char *expect_text, int call_rc, const char *output_text,
                    const struct cmek_api_error *err, char *why_out, size_t why_len)
{
    json_t *expect = expect_text != NULL ? json_loads(expect_text, 0, NULL) : NULL;
    json_t *output = output_text != NULL ? json_loads(output_text, 0, NULL) : NULL;
    struct cmek_buf why;
    cmek_buf_init(&why, CRUN_REASON_MAX_BYTES);
    bool holds = false;
    cr_assert_eq(crun_expect_check(expect, call_rc, output, err, &holds, &why), CMEK_OK);
    snprintf(why_out, why_len, "%s", cmek_buf_cstr(&why));
    cmek_buf_clean_up(&why);
    json_decref(expect);
    json_decref(output);
    return holds;
}

Test(expect, success_expected_but_the_service_refused)
{
    struct cmek_api_error err =
        s_service_error("AccessDeniedException", 400, "User: x is not authorized");
    char why[512];
    cr_assert_not(s_check(NULL, CMEK_ERR_SERVICE, NULL, &err, why, sizeof(why)));
    cr_assert_str_eq(why, "expected success, got AccessDeniedException (HTTP 400): User: x is not "
                          "authorized");
}

Test(expect, exact_error_code_matches_and_mismatches)
{
    struct cmek_api_error err = s_service_error("NoSuchEntity", 404, "Role r not found");
    char why[512];
    cr_assert(
        s_check("{\"error\": \"NoSuchEntity\"}", CMEK_ERR_SERVICE, NULL, &err, why, sizeof(why)));
    cr_assert_str_eq(why, "");
    cr_assert_not(
        s_check("{\"error\": \"AccessDenied\"}", CMEK_ERR_SERVICE, NULL, &err, why, sizeof(why)));
    cr_assert_str_eq(why, "expected a failure with error AccessDenied, got NoSuchEntity (HTTP "
                          "404): Role r not found");
    cr_assert_not(s_check("{\"error\": \"NoSuchEntity\"}", CMEK_OK, "{}", &err, why, sizeof(why)));
    cr_assert_str_eq(why, "expected a failure with error NoSuchEntity, got success");
}

Test(expect, status_and_message_expectations)
{
    struct cmek_api_error err = s_service_error("", 403, "permission denied");
    char why[512];
    cr_assert(s_check("{\"status\": 403, \"message_contains\": \"denied\"}", CMEK_ERR_SERVICE, NULL,
                      &err, why, sizeof(why)));
    cr_assert_not(s_check("{\"status\": 404, \"message\": \"permission denied\"}", CMEK_ERR_SERVICE,
                          NULL, &err, why, sizeof(why)));
    cr_assert_str_eq(why, "expected a failure with HTTP status 404, message \"permission "
                          "denied\", got HTTP 403: permission denied");
    struct cmek_api_error transport;
    memset(&transport, 0, sizeof(transport));
    transport.failure = CMEK_FAILURE_TRANSPORT;
    transport.attempts = 3;
    snprintf(transport.message, sizeof(transport.message), "Connection refused");
    cr_assert_not(
        s_check("{\"status\": 403}", CMEK_ERR_TRANSPORT, NULL, &transport, why, sizeof(why)));
    cr_assert_str_eq(why, "expected a failure with HTTP status 403, got no answer (after 3 "
                          "attempts): Connection refused");
}

Test(expect, values_compare_exactly_and_name_the_mismatch)
{
    char why[512];
    const char *out = "{\"KeyMetadata\": {\"KeyState\": \"Enabled\", \"Enabled\": true}}";
    cr_assert(s_check("{\"values\": {\"KeyMetadata.KeyState\": \"Enabled\", "
                      "\"KeyMetadata.Enabled\": true}}",
                      CMEK_OK, out, NULL, why, sizeof(why)));
    cr_assert_not(s_check("{\"values\": {\"KeyMetadata.KeyState\": \"Disabled\"}}", CMEK_OK, out,
                          NULL, why, sizeof(why)));
    cr_assert_str_eq(why, "KeyMetadata.KeyState: expected \"Disabled\", got \"Enabled\"");
    cr_assert_not(s_check("{\"values\": {\"KeyMetadata.Arn\": \"x\"}}", CMEK_OK, out, NULL, why,
                          sizeof(why)));
    cr_assert_str_eq(why, "KeyMetadata.Arn: expected \"x\", got nothing (no such path)");
}

Test(expect, matchers_exists_absent_contains_length)
{
    char why[512];
    const char *out = "{\"A\": [\"x\", \"y\"], \"S\": \"hello world\", \"O\": {\"k\": 1}}";
    cr_assert(s_check("{\"values\": {\"A\": {\"$exists\": true}, \"B\": {\"$absent\": true}, "
                      "\"S\": {\"$contains\": \"lo w\"}, \"A[1]\": {\"$contains\": \"y\"}, "
                      "\"A\": {\"$length\": 2}}}",
                      CMEK_OK, out, NULL, why, sizeof(why)));
    cr_assert(s_check("{\"values\": {\"A\": {\"$contains\": \"y\"}, \"O\": {\"$length\": 1}}}",
                      CMEK_OK, out, NULL, why, sizeof(why)));
    cr_assert_not(s_check("{\"values\": {\"B\": {\"$exists\": true}}}", CMEK_OK, out, NULL, why,
                          sizeof(why)));
    cr_assert_str_eq(why, "B: expected to exist, got nothing");
    cr_assert_not(s_check("{\"values\": {\"S\": {\"$absent\": true}}}", CMEK_OK, out, NULL, why,
                          sizeof(why)));
    cr_assert_str_eq(why, "S: expected to be absent, got \"hello world\"");
    cr_assert_not(s_check("{\"values\": {\"A\": {\"$contains\": \"z\"}}}", CMEK_OK, out, NULL, why,
                          sizeof(why)));
    cr_assert_str_eq(why, "A: expected to contain \"z\", got [\"x\",\"y\"]");
    cr_assert_not(
        s_check("{\"values\": {\"S\": {\"$length\": 3}}}", CMEK_OK, out, NULL, why, sizeof(why)));
    cr_assert_str_eq(why, "S: expected length 3, got length 11 in \"hello world\"");
}

static void s_validate(const char *expect_text, const char *want_path, bool want_at_key,
                       const char *want_why)
{
    json_t *expect = json_loads(expect_text, 0, NULL);
    cr_assert_not_null(expect);
    struct cmek_buf path;
    cmek_buf_init(&path, 1024);
    bool at_key = false;
    char why[512];
    cr_assert_eq(crun_expect_validate(expect, &path, &at_key, why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(cmek_buf_cstr(&path), want_path);
    cr_assert_eq(at_key, want_at_key);
    cr_assert_str_eq(why, want_why);
    cmek_buf_clean_up(&path);
    json_decref(expect);
}

Test(expect, validate_names_the_offending_member)
{
    s_validate("{\"eror\": \"X\"}", "eror", true,
               "unknown field \"expect.eror\" (error, status, message, message_contains, values)");
    s_validate("{\"status\": \"403\"}", "status", false,
               "\"expect.status\" must be an HTTP status (an integer, 100 to 599)");
    s_validate("{\"error\": \"X\", \"values\": {}}", "values", false,
               "\"expect.values\" checks a successful call's output: it cannot be combined with "
               "error, status or message");
    s_validate("{\"values\": {\"A..B\": 1}}", "values[\"A..B\"]", true,
               "bad output path \"A..B\" in \"expect.values\": empty member name in path");
    s_validate("{\"values\": {\"A\": {\"$length\": -1}}}", "values.A", false,
               "\"expect.values\" \"A\": \"$length\" wants a non-negative integer");
}

/* ---- wait ---- */

Test(wait, durations_parse_with_their_units)
{
    int64_t ms = 0;
    cr_assert_eq(crun_duration_parse_ms("500ms", &ms), CMEK_OK);
    cr_assert_eq(ms, 500);
    cr_assert_eq(crun_duration_parse_ms("2s", &ms), CMEK_OK);
    cr_assert_eq(ms, 2000);
    cr_assert_eq(crun_duration_parse_ms("5m", &ms), CMEK_OK);
    cr_assert_eq(ms, 300000);
    cr_assert_eq(crun_duration_parse_ms("1h", &ms), CMEK_OK);
    cr_assert_eq(ms, 3600000);
    static const char *const bad[] = {"", "5", "0s", "1.5s", "2d", "s", "-1s", "25h", "5 s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(crun_duration_parse_ms(bad[i], &ms), CMEK_ERR_PARSE, "%s", bad[i]);
    }
}

Test(wait, parse_applies_defaults_and_backoff_caps_at_max_interval)
{
    json_t *obj = json_loads("{\"timeout\": \"3s\", \"interval\": \"100ms\", \"backoff\": 3, "
                             "\"max_interval\": \"500ms\"}",
                             0, NULL);
    struct crun_wait w;
    const char *bad = NULL;
    char why[256];
    cr_assert_eq(crun_wait_parse(obj, &w, &bad, why, sizeof(why)), CMEK_OK);
    cr_assert_eq(w.timeout_ms, 3000);
    cr_assert_eq(crun_wait_next_interval(&w, 100), 300);
    cr_assert_eq(crun_wait_next_interval(&w, 300), 500);
    json_decref(obj);
    obj = json_object();
    cr_assert_eq(crun_wait_parse(obj, &w, &bad, why, sizeof(why)), CMEK_OK);
    cr_assert_eq(w.timeout_ms, 60000);
    cr_assert_eq(w.interval_ms, 500);
    cr_assert_eq(w.max_interval_ms, 5000);
    cr_assert_eq(crun_wait_next_interval(&w, 500), 1000);
    json_decref(obj);
}

Test(wait, parse_names_the_bad_member)
{
    struct crun_wait w;
    const char *bad = NULL;
    char why[256];
    json_t *obj = json_loads("{\"timeout\": \"soon\"}", 0, NULL);
    cr_assert_eq(crun_wait_parse(obj, &w, &bad, why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(bad, "timeout");
    cr_assert_str_eq(why,
                     "\"wait.timeout\" must be a duration such as \"500ms\", \"2s\", \"5m\" or "
                     "\"1h\"");
    json_decref(obj);
    obj = json_loads("{\"backoff\": 0.5}", 0, NULL);
    cr_assert_eq(crun_wait_parse(obj, &w, &bad, why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(bad, "backoff");
    cr_assert_str_eq(why, "\"wait.backoff\" must be a number from 1 to 10");
    json_decref(obj);
    obj = json_loads("{\"interval\": \"2s\", \"max_interval\": \"1s\"}", 0, NULL);
    cr_assert_eq(crun_wait_parse(obj, &w, &bad, why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(bad, "max_interval");
    cr_assert_str_eq(why, "\"wait.max_interval\" is shorter than \"wait.interval\"");
    json_decref(obj);
    obj = json_loads("{\"every\": \"2s\"}", 0, NULL);
    cr_assert_eq(crun_wait_parse(obj, &w, &bad, why, sizeof(why)), CMEK_ERR_PARSE);
    cr_assert_str_eq(bad, "");
    cr_assert_str_eq(why,
                     "unknown field \"wait.every\" (timeout, interval, backoff, max_interval)");
    json_decref(obj);
}

/* ---- xmlesc ---- */

static void s_assert_escaped(const char *in, const char *want)
{
    struct cmek_buf out;
    cmek_buf_init(&out, 4096);
    cr_assert_eq(crun_xml_escape(&out, in), CMEK_OK);
    cr_assert_str_eq(cmek_buf_cstr(&out), want);
    cmek_buf_clean_up(&out);
}

Test(xmlesc, escapes_markup_and_whitespace)
{
    s_assert_escaped("a<b>&\"c\"'d'\n\te\r",
                     "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#10;&#9;e&#13;");
    s_assert_escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
                     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
}

Test(xmlesc, replaces_what_xml_cannot_hold)
{
    /* a control character, a lone continuation byte, an overlong form, a surrogate, U+FFFF */
    s_assert_escaped("a\x01"
                     "b\x80"
                     "c\xc0\xaf"
                     "d\xed\xa0\x80"
                     "e\xef\xbf\xbf",
                     "a\xef\xbf\xbd"
                     "b\xef\xbf\xbd"
                     "c\xef\xbf\xbd\xef\xbf\xbd"
                     "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                     "e\xef\xbf\xbd");
}
