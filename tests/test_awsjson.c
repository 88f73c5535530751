/* Tests of the direct reader of AWS JSON 1.1 request bodies (emu_awsjson_read): for every
 * byte string it must return what json_loadb(..., JSON_REJECT_DUPLICATES, ...) returns, with
 * the same type at every node and members in the same order; hand-written cases, every
 * truncation of real KMS bodies, deep nesting, allocation failures and seeded mutants are all
 * checked against jansson itself. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "proto_awsjson.h"
#include "test_common.h"

TestSuite(awsjson, .fini = cmek_test_fini);

/* A literal with its exact length (it may hold NUL bytes). */
#define B(s) s, sizeof(s) - 1

#define KEY_ARN "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
/* 400 base64 characters, the size of a real CiphertextBlob. */
#define BLOB50 "AQICAHhVk2Bq3N0+f7Vd9wXqL0Zb1T8kYz5mGc4rH2sJ6uE/pQ=="
#define BLOB   BLOB50 BLOB50 BLOB50 BLOB50 BLOB50 BLOB50 BLOB50 BLOB50

/* The bodies the KMS clients send (botocore, the Go SDK, CockroachDB's CMEK flow). */
static const char *const s_real[] = {
    "{\"KeyId\":\"" KEY_ARN "\",\"Plaintext\":\"Y3VzdG9tZXIgZGF0YSBlbmNyeXB0ZWQgd2l0aA==\"}",
    "{\"CiphertextBlob\":\"" BLOB "\"}",
    "{\"CiphertextBlob\":\"" BLOB "\",\"EncryptionContext\":{\"cluster\":\"c-1\",\"tenant\":"
    "\"t2\"},\"KeyId\":\"" KEY_ARN "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}",
    "{\"KeyId\":\"alias/crdb-cmek\",\"KeySpec\":\"AES_256\"}",
    "{\"KeyId\":\"" KEY_ARN "\",\"NumberOfBytes\":32,\"GrantTokens\":[\"tok-1\",\"tok-2\"],"
    "\"DryRun\":false}",
    "{\"Description\":\"test\",\"KeyUsage\":\"ENCRYPT_DECRYPT\",\"MultiRegion\":true,\"Tags\":"
    "[{\"TagKey\":\"env\",\"TagValue\":\"prod\"}],\"BypassPolicyLockoutSafetyCheck\":false}",
    "{\"KeyId\":\"" KEY_ARN "\",\"Plaintext\":\"aGVsbG8=\",\"EncryptionContext\":null}",
    "{\"Limit\":100,\"Marker\":\"eyJvZmZzZXQiOjEwMH0=\"}",
    "{\"KeyId\":\"" KEY_ARN "\",\"PendingWindowInDays\":7}",
    "{ \"KeyId\" : \"" KEY_ARN "\" ,\n  \"GrantTokens\" : [ ] ,\n  \"Plaintext\" : \"AA==\" }\n",
};
#define N_REAL (sizeof(s_real) / sizeof(s_real[0]))

/* body as C text, non-printable bytes as \xNN, cut to fit out. */
static const char *s_show(const char *body, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 5 < cap; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c >= 0x20 && c < 0x7f) {
            out[n++] = (char)c;
        } else {
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        }
    }
    out[n] = '\0';
    return out;
}

/* Same type at every node and members in the same order (json_equal ignores the order). */
static bool s_same_shape(const json_t *a, const json_t *b)
{
    if (json_typeof(a) != json_typeof(b)) {
        return false;
    }
    if (json_is_object(a)) {
        void *i = json_object_iter((json_t *)a);
        void *j = json_object_iter((json_t *)b);
        for (; i != NULL && j != NULL;
             i = json_object_iter_next((json_t *)a, i), j = json_object_iter_next((json_t *)b, j)) {
            size_t n = json_object_iter_key_len(i);
            if (n != json_object_iter_key_len(j) ||
                memcmp(json_object_iter_key(i), json_object_iter_key(j), n) != 0 ||
                !s_same_shape(json_object_iter_value(i), json_object_iter_value(j))) {
                return false;
            }
        }
        return i == NULL && j == NULL;
    }
    for (size_t k = 0; json_is_array(a) && k < json_array_size(a); k++) {
        if (k >= json_array_size(b) || !s_same_shape(json_array_get(a, k), json_array_get(b, k))) {
            return false;
        }
    }
    return true;
}

/* Allocations through jansson, counted (the reader's fast path makes fewer than json_loadb,
 * whose lexer always allocates a buffer and a copy of every key; a fallback makes more). */
static size_t s_allocs;
static size_t s_fail_after = SIZE_MAX;

static void *s_count_malloc(size_t n)
{
    if (s_allocs++ >= s_fail_after) {
        return NULL;
    }
    return malloc(n);
}

static void s_count_allocs(void)
{
    json_set_alloc_funcs(s_count_malloc, free);
}

enum s_path { S_FAILED, S_FAST, S_FALLBACK };

/* The differential property for body[0..len) (copied to a buffer of exactly len bytes, so
 * that ASan catches a read past the end). Returns which way the reader went. */
static enum s_path s_check(const char *body, size_t len, const char *what)
{
    char *copy = body != NULL ? malloc(len ? len : 1) : NULL;
    cr_assert(body == NULL || copy != NULL);
    if (len > 0) {
        memcpy(copy, body, len);
    }
    char shown[512];
    json_error_t err;
    s_allocs = 0;
    json_t *want = json_loadb(copy, len, JSON_REJECT_DUPLICATES, &err);
    size_t want_allocs = s_allocs;
    s_allocs = 0;
    json_t *got = emu_awsjson_read(copy, len);
    size_t got_allocs = s_allocs;
    cr_assert_eq(got == NULL, want == NULL, "%s: jansson %s (%s), reader %s: %s", what,
                 want ? "parses" : "fails", want ? "" : err.text, got ? "parses" : "fails",
                 s_show(body, len, shown, sizeof(shown)));
    enum s_path path = S_FAILED;
    if (want != NULL) {
        cr_assert(json_equal(got, want), "%s: values differ: %s", what,
                  s_show(body, len, shown, sizeof(shown)));
        cr_assert(s_same_shape(got, want), "%s: types or member order differ: %s", what,
                  s_show(body, len, shown, sizeof(shown)));
        path = got_allocs < want_allocs ? S_FAST : S_FALLBACK;
    }
    json_decref(got);
    json_decref(want);
    free(copy);
    return path;
}

Test(awsjson, real_kms_bodies_take_the_fast_path)
{
    s_count_allocs();
    for (size_t i = 0; i < N_REAL; i++) {
        char what[32];
        snprintf(what, sizeof(what), "real body %zu", i);
        cr_assert_eq(s_check(s_real[i], strlen(s_real[i]), what), S_FAST, "%s", what);
    }
}

Test(awsjson, every_truncation_of_a_real_body_fails)
{
    for (size_t i = 0; i < N_REAL; i++) {
        size_t len = strlen(s_real[i]);
        /* The last one ends in whitespace after its '}'. */
        size_t complete = i == N_REAL - 1 ? len - 1 : len;
        for (size_t k = 0; k < complete; k++) {
            char what[48];
            snprintf(what, sizeof(what), "body %zu cut at %zu", i, k);
            cr_assert_eq(s_check(s_real[i], k, what), S_FAILED, "%s", what);
        }
    }
}

struct s_case {
    const char *body;
    size_t len;
    enum s_path path; /* S_FAILED: jansson fails it, and so must the reader */
};

Test(awsjson, hand_written_cases_match_jansson)
{
    static const struct s_case cases[] = {
        /* objects, whitespace, nesting, literals */
        {B("{}"), S_FAST},
        {B("{ }"), S_FAST},
        {B(" \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n1 \t\r\n, \"b\" :[ 1 , 2 ] ,\"c\": { } } \t\r\n"),
         S_FAST},
        {B("{\"a\":{\"b\":{\"c\":[1,[2,[3,{\"d\":null}]]]}},\"e\":[[],{}]}"), S_FAST},
        {B("{\"t\":true,\"f\":false,\"n\":null,\"l\":[true,false,null]}"), S_FAST},
        {B("{\"\":\"\"}"), S_FAST},
        {B("{\"z\":1,\"y\":2,\"x\":3,\"a\":4}"), S_FAST},
        {B("{\"s\":\" !#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~\"}"), S_FAST},
        {B("{\"t\":tru}"), S_FAILED},
        {B("{\"t\":truex}"), S_FAILED},
        {B("{\"t\":True}"), S_FAILED},
        {B("{\"n\":nul}"), S_FAILED},
        {B("{\"n\":nulll}"), S_FAILED},
        {B("{\"f\":false1}"), S_FAILED},
        /* escapes, non-ASCII, invalid UTF-8, control bytes, NUL */
        {B("{\"a\":\"q\\\"q\"}"), S_FALLBACK},
        {B("{\"a\":\"b\\\\s\"}"), S_FALLBACK},
        {B("{\"a\":\"\\/\\b\\f\\n\\r\\t\"}"), S_FALLBACK},
        {B("{\"a\":\"caf\\u00e9\"}"), S_FALLBACK},
        {B("{\"a\":\"\\ud83d\\ude00\"}"), S_FALLBACK},
        {B("{\"a\":\"\\ud83d\"}"), S_FAILED},
        {B("{\"a\":\"\\x\"}"), S_FAILED},
        {B("{\"a\":\"\\u00\"}"), S_FAILED},
        {B("{\"a\":\"\\u0000\"}"), S_FAILED},
        {B("{\"\\u0000\":1}"), S_FAILED},
        {B("{\"\\u0041\":1,\"A\":2}"), S_FAILED},
        {B("{\"caf\xc3\xa9\":\"\xf0\x9f\x98\x80\"}"), S_FALLBACK},
        {B("{\"a\":\"\x7f\"}"), S_FALLBACK},
        {B("{\"a\":\"\xc3\"}"), S_FAILED},
        {B("{\"a\":\"\xc3\x28\"}"), S_FAILED},
        {B("{\"a\":\"\xc0\xaf\"}"), S_FAILED},
        {B("{\"a\":\"\xed\xa0\x80\"}"), S_FAILED},
        {B("{\"a\":\"\xff\"}"), S_FAILED},
        {B("{\"a\":\"\x01\"}"), S_FAILED},
        {B("{\"a\":\"\x1f\"}"), S_FAILED},
        {B("{\"a\":\"tab\there\"}"), S_FAILED},
        {B("{\"a\":\"x\0y\"}"), S_FAILED},
        {B("{\"a\0\":1}"), S_FAILED},
        {B("{\"a\":1}\0"), S_FAILED},
        {B("{\0}"), S_FAILED},
        {B("\0{}"), S_FAILED},
        {B("\xef\xbb\xbf{}"), S_FAILED},
        /* structure errors */
        {B("{\"a\":1}x"), S_FAILED},
        {B("{\"a\":1}{}"), S_FAILED},
        {B("{\"a\":1} ,"), S_FAILED},
        {B("{\"a\":1}]"), S_FAILED},
        {B("{\"a\":1,}"), S_FAILED},
        {B("{\"a\":[1,]}"), S_FAILED},
        {B("{\"a\":[,1]}"), S_FAILED},
        {B("{,}"), S_FAILED},
        {B("{\"a\" 1}"), S_FAILED},
        {B("{\"a\"}"), S_FAILED},
        {B("{\"a\"::1}"), S_FAILED},
        {B("{\"a\":}"), S_FAILED},
        {B("{a:1}"), S_FAILED},
        {B("{'a':1}"), S_FAILED},
        {B("{\"a\":1 \"b\":2}"), S_FAILED},
        {B("{\"a\":[1 2]}"), S_FAILED},
        {B("{\"a\":[1}"), S_FAILED},
        {B("{\"a\":{]}"), S_FAILED},
        {B("{\"a\":\"unterminated}"), S_FAILED},
        {B("{\"a\":\"x\"\"y\"}"), S_FAILED},
        {B("{\"a\":1\v}"), S_FAILED},
        {B("{\"a\":1\f}"), S_FAILED},
        /* duplicate keys */
        {B("{\"a\":1,\"a\":1}"), S_FAILED},
        {B("{\"a\":1,\"b\":2,\"a\":3}"), S_FAILED},
        {B("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}"), S_FAILED},
        {B("{\"a\":[{\"x\":1,\"x\":[]}]}"), S_FAILED},
        {B("{\"a\":1,\"A\":1}"), S_FAST},
        {B("{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}"), S_FAST},
        /* numbers */
        {B("{\"n\":0}"), S_FAST},
        {B("{\"n\":-0}"), S_FAST},
        {B("{\"n\":01}"), S_FAILED},
        {B("{\"n\":-01}"), S_FAILED},
        {B("{\"n\":00}"), S_FAILED},
        {B("{\"n\":-}"), S_FAILED},
        {B("{\"n\":-a}"), S_FAILED},
        {B("{\"n\":+1}"), S_FAILED},
        {B("{\"n\":.5}"), S_FAILED},
        {B("{\"n\":1.}"), S_FAILED},
        {B("{\"n\":1.5}"), S_FALLBACK},
        {B("{\"n\":-0.0}"), S_FALLBACK},
        {B("{\"n\":1e3}"), S_FALLBACK},
        {B("{\"n\":1E3}"), S_FALLBACK},
        {B("{\"n\":-1.5e-3}"), S_FALLBACK},
        {B("{\"n\":0e0}"), S_FALLBACK},
        {B("{\"n\":1e}"), S_FAILED},
        {B("{\"n\":2e+}"), S_FAILED},
        {B("{\"n\":1e999}"), S_FAILED},
        {B("{\"n\":0x10}"), S_FAILED},
        {B("{\"n\":1-2}"), S_FAILED},
        {B("{\"n\":7,\"m\":[-3,0,42]}"), S_FAST},
        {B("{\"n\":123456789012345678}"), S_FAST},
        {B("{\"n\":-123456789012345678}"), S_FAST},
        {B("{\"n\":999999999999999999}"), S_FAST},
        {B("{\"n\":1234567890123456789}"), S_FALLBACK},
        {B("{\"n\":9223372036854775807}"), S_FALLBACK},
        {B("{\"n\":9223372036854775808}"), S_FAILED},
        {B("{\"n\":-9223372036854775808}"), S_FALLBACK},
        {B("{\"n\":-9223372036854775809}"), S_FAILED},
        {B("{\"n\":99999999999999999999999}"), S_FAILED},
        /* not an object at the top (an array is valid JSON for jansson; the service then
         * refuses it) */
        {B("[1,2]"), S_FALLBACK},
        {B("[]"), S_FALLBACK},
        {B(" [ {\"a\":1} ] "), S_FALLBACK},
        {B("\"str\""), S_FAILED},
        {B("5"), S_FAILED},
        {B("true"), S_FAILED},
        {B("null"), S_FAILED},
        {B(""), S_FAILED},
        {B(" \n"), S_FAILED},
        {B("{"), S_FAILED},
        {B("}"), S_FAILED},
    };
    s_count_allocs();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char what[32];
        snprintf(what, sizeof(what), "case %zu", i);
        cr_assert_eq(s_check(cases[i].body, cases[i].len, what), cases[i].path, "%s", what);
    }
    /* No body at all. */
    cr_assert_eq(s_check(NULL, 0, "NULL"), S_FAILED);
    /* Nothing past len is read, even when it would complete the document. */
    cr_assert_eq(s_check("{\"a\":1}", 6, "cut before }"), S_FAILED);
    cr_assert_eq(s_check("{\"a\":\"b\"}", 7, "cut in a string"), S_FAILED);
}

/* {"a": then depth-1 more containers, innermost holding 1. */
static char *s_nested(size_t depth, bool objects)
{
    char *s = malloc(depth * 6 + 16);
    cr_assert_not_null(s);
    size_t n = (size_t)sprintf(s, "{\"a\":");
    for (size_t i = 1; i < depth; i++) {
        n += (size_t)sprintf(s + n, "%s", objects ? "{\"a\":" : "[");
    }
    n += (size_t)sprintf(s + n, "1");
    for (size_t i = 1; i < depth; i++) {
        n += (size_t)sprintf(s + n, "%s", objects ? "}" : "]");
    }
    sprintf(s + n, "}");
    return s;
}

Test(awsjson, deep_nesting_matches_jansson)
{
    static const size_t depths[] = {1, 2, 15, 16, 17, 100, 2047, 2048, 2049, 3000};
    s_count_allocs();
    for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
        for (int objects = 0; objects < 2; objects++) {
            char *body = s_nested(depths[i], objects);
            char what[48];
            snprintf(what, sizeof(what), "depth %zu %s", depths[i], objects ? "objects" : "arrays");
            enum s_path path = s_check(body, strlen(body), what);
            /* jansson's limit counts the innermost 1 as a level too; the fast path's is 16
             * containers. */
            cr_assert_eq(path,
                         depths[i] <= 16                     ? S_FAST
                         : depths[i] < JSON_PARSER_MAX_DEPTH ? S_FALLBACK
                                                             : S_FAILED,
                         "%s", what);
            free(body);
        }
    }
}

/* Every allocation failure: a NULL, or a value still equal to jansson's, and no leak. */
Test(awsjson, allocation_failures_leave_nothing_behind)
{
    json_error_t err;
    s_count_allocs();
    for (size_t i = 0; i < N_REAL; i++) {
        json_t *want = json_loadb(s_real[i], strlen(s_real[i]), JSON_REJECT_DUPLICATES, &err);
        cr_assert_not_null(want);
        size_t survived = 0;
        for (size_t k = 0; k < 64; k++) {
            s_allocs = 0;
            s_fail_after = k;
            json_t *got = emu_awsjson_read(s_real[i], strlen(s_real[i]));
            s_fail_after = SIZE_MAX;
            cr_assert(got == NULL || (json_equal(got, want) && s_same_shape(got, want)),
                      "body %zu, allocation %zu failing", i, k);
            survived += got != NULL;
            json_decref(got);
        }
        cr_assert_gt(survived, 0, "body %zu never parsed", i);
        json_decref(want);
    }
}

static uint64_t s_rng = 0x9e3779b97f4a7c15u;

static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* Seeded mutants of the real bodies: bytes replaced, inserted or deleted (chosen among the
 * ones that matter to a JSON lexer), and truncations. */
Test(awsjson, mutants_match_jansson)
{
    static const char interesting[] = {
        '"',  '\\', '{', '}',  '[',  ']',        ',',        ':',        ' ',
        '\n', '0',  '1', '9',  '-',  'e',        '.',        't',        'n',
        'u',  'a',  0,   0x1f, 0x7f, (char)0x80, (char)0xc3, (char)0xa9, (char)0xff};
    enum { N_MUTANTS = 20000 };
    size_t counts[3] = {0, 0, 0};
    char buf[2048];
    s_count_allocs();
    for (size_t m = 0; m < N_MUTANTS; m++) {
        const char *base = s_real[s_next() % N_REAL];
        size_t len = strlen(base);
        memcpy(buf, base, len);
        size_t edits = 1 + s_next() % 3;
        for (size_t e = 0; e < edits && len > 0; e++) {
            size_t at = s_next() % len;
            char c = interesting[s_next() % sizeof(interesting)];
            switch (s_next() % 5) {
            case 0:
            case 1:
                buf[at] = c;
                break;
            case 2:
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = c;
                len++;
                break;
            case 3:
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
                break;
            default:
                len = at;
                break;
            }
        }
        char what[32];
        snprintf(what, sizeof(what), "mutant %zu", m);
        counts[s_check(buf, len, what)]++;
    }
    cr_log_info("%d mutants: %zu parsed on the fast path, %zu parsed by jansson, %zu failed",
                N_MUTANTS, counts[S_FAST], counts[S_FALLBACK], counts[S_FAILED]);
    cr_assert_gt(counts[S_FAST], N_MUTANTS / 20);
    cr_assert_gt(counts[S_FALLBACK], N_MUTANTS / 200);
    cr_assert_gt(counts[S_FAILED], N_MUTANTS / 4);
}

/* ---- Through the service ---- */

TH_ADMIN_FIXTURE()

TestSuite(awsjson_kms, .init = s_init, .fini = s_fini);

Test(awsjson_kms, bodies_that_are_not_json_objects_are_serialization_errors)
{
    static const char *const bodies[] = {
        "not json",
        "[1,2]",
        "{\"KeyId\":\"k\",\"KeyId\":\"k\"}",
        "{\"KeyId\":\"k\"} x",
        "{\"KeyId\":\"k\",}",
        "{\"Plaintext\":\"\x01\"}",
        "{\"KeyId\":\"k\"",
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        cr_assert_eq(th_kms(&s_t, &s_admin, "Encrypt", bodies[i]), 400, "%s", bodies[i]);
        th_expect_kms_error(&s_t, "SerializationException",
                            "The request body is not a JSON object.");
    }
}

Test(awsjson_kms, fast_and_fallback_bodies_round_trip)
{
    cr_assert_eq(th_kms(&s_t, &s_admin, "CreateKey", "{\"Description\":\"awsjson\"}"), 200, "%s",
                 cmek_buf_cstr(&s_t.body));
    json_t *v = th_json(&s_t);
    char key[128], body[4096];
    snprintf(key, sizeof(key), "%s",
             json_string_value(json_object_get(json_object_get(v, "KeyMetadata"), "KeyId")));
    json_decref(v);
    /* Whitespace and an escape: jansson's path. */
    snprintf(body, sizeof(body), "{ \"KeyId\" : \"%s\",\n \"Plaintext\": \"aGVsbG8\\u003d\" }",
             key);
    cr_assert_eq(th_kms(&s_t, &s_admin, "Encrypt", body), 200, "%s", cmek_buf_cstr(&s_t.body));
    v = th_json(&s_t);
    /* Compact: the fast path. */
    snprintf(body, sizeof(body), "{\"CiphertextBlob\":\"%s\"}",
             json_string_value(json_object_get(v, "CiphertextBlob")));
    json_decref(v);
    cr_assert_eq(th_kms(&s_t, &s_admin, "Decrypt", body), 200, "%s", cmek_buf_cstr(&s_t.body));
    v = th_json(&s_t);
    cr_assert_str_eq(json_string_value(json_object_get(v, "Plaintext")), "aGVsbG8=");
    json_decref(v);
}
