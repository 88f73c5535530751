/* Tests of the emulated KMS's cryptography: the ciphertext blob (docs/kms-ciphertext.md),
 * the encryption context encoding, key material ids and the RSA wrapping keys of import. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cmek/buf.h"
#include "cmek/crypto.h"
#include "kms_crypto.h"
#include "test_common.h"

TestSuite(kms_crypto, .fini = cmek_test_fini);

#define S_ACCOUNT   "111122223333"
#define S_KEY_A     "1234abcd-12ab-34cd-56ef-1234567890ab"
#define S_KEY_B     "1234abcd-12ab-34cd-56ef-1234567890ac"
#define S_WRAP_MAX  4096
#define S_PLAIN_MAX 8192

/* The worked example of docs/kms-ciphertext.md. */
#define S_DOC_CONTEXT     "{\"purpose\":\"demo\",\"app\":\"cmek\"}"
#define S_DOC_MATERIAL_ID "6b81c95abbc162ed19eebe00f37164821b520b80f689fd92bb6b4e977211fb54"
#define S_DOC_BLOB_HEX                                                                             \
    "013131313132323232333333332431323334616263642d313261622d333463642d353665662d313233343536"     \
    "3738393061626b81c95abbc162ed19eebe00f37164821b520b80f689fd92bb6b4e977211fb54a0a1a2a3a4a5"     \
    "a6a7a8a9aaabae7d10412ae722f42f36d570058e4f5625eaacbdd9feec9902f4"

/* A random source that repeats the bytes it was given. */
struct s_fake_random {
    uint8_t bytes[64];
    size_t len;
};

static int s_fake_random_bytes(void *ctx, void *out, size_t len)
{
    struct s_fake_random *f = ctx;
    uint8_t *o = out;
    for (size_t i = 0; i < len; i++) {
        o[i] = f->bytes[i % f->len];
    }
    return CMEK_OK;
}

static void s_app(struct emu_app *app)
{
    memset(app, 0, sizeof(*app));
    emu_config_init_default(&app->cfg);
    app->cfg.log_level = EMU_LOG_ERROR;
    app->sys = *emu_system_default();
}

static json_t *s_json(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    cr_assert_not_null(j, "%s", err.text);
    return j;
}

static size_t s_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    cr_assert_leq(n, cap);
    for (size_t i = 0; i < n; i++) {
        int hi = cmek_hex_value(hex[2 * i]);
        int lo = cmek_hex_value(hex[2 * i + 1]);
        cr_assert(hi >= 0 && lo >= 0);
        out[i] = (uint8_t)((hi << 4) | lo);
    }
    return n;
}

static void s_material(const char *key_id, uint8_t first, struct emu_kms_material *m)
{
    uint8_t bytes[EMU_KMS_MATERIAL_BYTES];
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (uint8_t)(first + i);
    }
    cr_assert_eq(emu_kms_material_from_bytes(key_id, bytes, sizeof(bytes), 1700000000, m), CMEK_OK);
}

/* Seals plaintext "secret" (or len bytes of a pattern) under key A with context_text. */
static void s_seal(const char *key_id, const struct emu_kms_material *m, size_t len,
                   const char *context_text, struct cmek_buf *blob)
{
    struct emu_app app;
    s_app(&app);
    uint8_t plain[4096];
    cr_assert_leq(len, sizeof(plain));
    for (size_t i = 0; i < len; i++) {
        plain[i] = (uint8_t)(i * 7 + 3);
    }
    json_t *ctx = context_text ? s_json(context_text) : NULL;
    cmek_buf_init(blob, EMU_KMS_BLOB_MAX);
    cr_assert_eq(emu_kms_blob_seal(&app, S_ACCOUNT, key_id, m, plain, len, ctx, blob), CMEK_OK);
    json_decref(ctx);
}

/* Opens blob bytes; returns the result and checks plaintext_out is untouched on failure. */
static int s_open(const uint8_t *blob, size_t blob_len, const struct emu_kms_material *m,
                  const char *context_text)
{
    json_t *ctx = context_text ? s_json(context_text) : NULL;
    struct cmek_buf out;
    cmek_buf_init(&out, S_PLAIN_MAX);
    int rc = emu_kms_blob_open(blob, blob_len, m, ctx, &out);
    if (rc) {
        cr_assert_eq(out.len, 0);
        cr_assert_null(out.data);
    }
    cmek_buf_clean_up(&out);
    json_decref(ctx);
    return rc;
}

static size_t s_header_len(const char *key_id)
{
    return 1 + 12 + 1 + strlen(key_id) + 32;
}

/* ==== Seal and open ==== */

Test(kms_crypto, seal_then_open_round_trips_1_16_and_4096_bytes)
{
    static const size_t sizes[] = {1, 16, 4096};
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        struct cmek_buf blob;
        s_seal(S_KEY_A, &m, sizes[s], "{\"k\":\"v\"}", &blob);
        cr_assert_eq(blob.len, s_header_len(S_KEY_A) + 12 + sizes[s] + 16);
        json_t *ctx = s_json("{\"k\":\"v\"}");
        struct cmek_buf out;
        cmek_buf_init(&out, S_PLAIN_MAX);
        cr_assert_eq(emu_kms_blob_open((const uint8_t *)blob.data, blob.len, &m, ctx, &out),
                     CMEK_OK);
        cr_assert_eq(out.len, sizes[s]);
        for (size_t i = 0; i < sizes[s]; i++) {
            cr_assert_eq((uint8_t)out.data[i], (uint8_t)(i * 7 + 3));
        }
        cmek_buf_clean_up(&out);
        json_decref(ctx);
        cmek_buf_clean_up(&blob);
    }
}

Test(kms_crypto, largest_blob_stays_within_the_model_maximum)
{
    char key_id[EMU_KMS_KEY_ID_MAX + 1];
    memset(key_id, 'k', EMU_KMS_KEY_ID_MAX);
    key_id[EMU_KMS_KEY_ID_MAX] = '\0';
    struct emu_kms_material m;
    s_material(key_id, 0, &m);
    struct cmek_buf blob;
    s_seal(key_id, &m, 4096, NULL, &blob);
    cr_assert_eq(blob.len, 1 + 12 + 1 + 64 + 32 + 12 + 4096 + 16);
    cr_assert_eq(blob.len, 4234);
    cr_assert_leq(blob.len, EMU_KMS_BLOB_MAX);
    cr_assert_eq(s_open((const uint8_t *)blob.data, blob.len, &m, NULL), CMEK_OK);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, two_seals_of_the_same_plaintext_differ_by_nonce)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf b1;
    struct cmek_buf b2;
    s_seal(S_KEY_A, &m, 16, NULL, &b1);
    s_seal(S_KEY_A, &m, 16, NULL, &b2);
    cr_assert_eq(b1.len, b2.len);
    cr_assert_neq(memcmp(b1.data, b2.data, b1.len), 0);
    cmek_buf_clean_up(&b1);
    cmek_buf_clean_up(&b2);
}

Test(kms_crypto, seal_rejects_empty_and_oversized_plaintext)
{
    struct emu_app app;
    s_app(&app);
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    static uint8_t plain[4097];
    struct cmek_buf blob;
    cmek_buf_init(&blob, EMU_KMS_BLOB_MAX);
    cr_assert_eq(emu_kms_blob_seal(&app, S_ACCOUNT, S_KEY_A, &m, plain, 0, NULL, &blob),
                 CMEK_ERR_INVALID_ARG);
    cr_assert_eq(emu_kms_blob_seal(&app, S_ACCOUNT, S_KEY_A, &m, plain, 4097, NULL, &blob),
                 CMEK_ERR_INVALID_ARG);
    cr_assert_eq(blob.len, 0);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, seal_rejects_a_malformed_account_key_id_or_material_id)
{
    struct emu_app app;
    s_app(&app);
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    uint8_t plain[4] = {1, 2, 3, 4};
    struct cmek_buf blob;
    cmek_buf_init(&blob, EMU_KMS_BLOB_MAX);
    static const char *const accounts[] = {"11112222333", "1111222233334", "11112222333a", ""};
    for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
        cr_assert_eq(
            emu_kms_blob_seal(&app, accounts[i], S_KEY_A, &m, plain, sizeof(plain), NULL, &blob),
            CMEK_ERR_INVALID_ARG, "%s", accounts[i]);
    }
    char long_id[EMU_KMS_KEY_ID_MAX + 2];
    memset(long_id, 'k', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    const char *key_ids[] = {"", "alias/x", "key id", "k\xc3\xa9", long_id};
    for (size_t i = 0; i < sizeof(key_ids) / sizeof(key_ids[0]); i++) {
        cr_assert_eq(
            emu_kms_blob_seal(&app, S_ACCOUNT, key_ids[i], &m, plain, sizeof(plain), NULL, &blob),
            CMEK_ERR_INVALID_ARG, "%s", key_ids[i]);
    }
    struct emu_kms_material bad = m;
    bad.id[0] = 'A';
    cr_assert_eq(
        emu_kms_blob_seal(&app, S_ACCOUNT, S_KEY_A, &bad, plain, sizeof(plain), NULL, &blob),
        CMEK_ERR_INVALID_ARG);
    bad.id[0] = 'g';
    cr_assert_eq(
        emu_kms_blob_seal(&app, S_ACCOUNT, S_KEY_A, &bad, plain, sizeof(plain), NULL, &blob),
        CMEK_ERR_INVALID_ARG);
    cr_assert_eq(blob.len, 0);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, seal_rejects_a_context_with_a_non_string_value)
{
    struct emu_app app;
    s_app(&app);
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    uint8_t plain[1] = {9};
    json_t *ctx = s_json("{\"a\":1}");
    struct cmek_buf blob;
    cmek_buf_init(&blob, EMU_KMS_BLOB_MAX);
    cr_assert_eq(emu_kms_blob_seal(&app, S_ACCOUNT, S_KEY_A, &m, plain, 1, ctx, &blob),
                 CMEK_ERR_INVALID_ARG);
    cr_assert_eq(blob.len, 0);
    cmek_buf_clean_up(&blob);
    json_decref(ctx);
}

Test(kms_crypto, seal_takes_its_nonce_from_the_injected_random_source)
{
    struct emu_app app;
    s_app(&app);
    struct s_fake_random fake = {.len = 1, .bytes = {0x5a}};
    app.sys.random_bytes = s_fake_random_bytes;
    app.sys.ctx = &fake;
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    uint8_t plain[3] = {1, 2, 3};
    struct cmek_buf blob;
    cmek_buf_init(&blob, EMU_KMS_BLOB_MAX);
    cr_assert_eq(emu_kms_blob_seal(&app, S_ACCOUNT, S_KEY_A, &m, plain, 3, NULL, &blob), CMEK_OK);
    size_t h = s_header_len(S_KEY_A);
    for (size_t i = 0; i < 12; i++) {
        cr_assert_eq((uint8_t)blob.data[h + i], 0x5a);
    }
    cmek_buf_clean_up(&blob);
}

/* ==== Encryption context binding ==== */

Test(kms_crypto, open_rejects_a_context_that_only_concatenates_the_same)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, "{\"a\":\"bc\"}", &blob);
    const uint8_t *b = (const uint8_t *)blob.data;
    cr_assert_eq(s_open(b, blob.len, &m, "{\"a\":\"bc\"}"), CMEK_OK);
    cr_assert_eq(s_open(b, blob.len, &m, "{\"ab\":\"c\"}"), CMEK_ERR_CRYPTO);
    cr_assert_eq(s_open(b, blob.len, &m, "{\"abc\":\"\"}"), CMEK_ERR_CRYPTO);
    cr_assert_eq(s_open(b, blob.len, &m, "{\"\":\"abc\"}"), CMEK_ERR_CRYPTO);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, open_accepts_the_context_pairs_in_any_order)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, "{\"x\":\"1\",\"y\":\"2\"}", &blob);
    const uint8_t *b = (const uint8_t *)blob.data;
    cr_assert_eq(s_open(b, blob.len, &m, "{\"y\":\"2\",\"x\":\"1\"}"), CMEK_OK);
    cr_assert_eq(s_open(b, blob.len, &m, "{\"x\":\"1\",\"y\":\"2\"}"), CMEK_OK);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, open_rejects_a_context_differing_in_case_subset_or_superset)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, "{\"x\":\"1\",\"y\":\"v\"}", &blob);
    const uint8_t *b = (const uint8_t *)blob.data;
    cr_assert_eq(s_open(b, blob.len, &m, "{\"x\":\"1\",\"y\":\"V\"}"), CMEK_ERR_CRYPTO);
    cr_assert_eq(s_open(b, blob.len, &m, "{\"X\":\"1\",\"y\":\"v\"}"), CMEK_ERR_CRYPTO);
    cr_assert_eq(s_open(b, blob.len, &m, "{\"x\":\"1\"}"), CMEK_ERR_CRYPTO);
    cr_assert_eq(s_open(b, blob.len, &m, "{\"x\":\"1\",\"y\":\"v\",\"z\":\"\"}"), CMEK_ERR_CRYPTO);
    cr_assert_eq(s_open(b, blob.len, &m, NULL), CMEK_ERR_CRYPTO);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, open_treats_a_missing_context_as_an_empty_object)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf none;
    struct cmek_buf empty;
    s_seal(S_KEY_A, &m, 16, NULL, &none);
    s_seal(S_KEY_A, &m, 16, "{}", &empty);
    cr_assert_eq(s_open((const uint8_t *)none.data, none.len, &m, "{}"), CMEK_OK);
    cr_assert_eq(s_open((const uint8_t *)none.data, none.len, &m, NULL), CMEK_OK);
    cr_assert_eq(s_open((const uint8_t *)empty.data, empty.len, &m, NULL), CMEK_OK);
    cr_assert_eq(s_open((const uint8_t *)empty.data, empty.len, &m, "{}"), CMEK_OK);
    cr_assert_eq(s_open((const uint8_t *)none.data, none.len, &m, "{\"a\":\"\"}"), CMEK_ERR_CRYPTO);
    cmek_buf_clean_up(&none);
    cmek_buf_clean_up(&empty);
}

Test(kms_crypto, open_rejects_a_context_with_a_non_string_value)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    cr_assert_eq(s_open((const uint8_t *)blob.data, blob.len, &m, "{\"a\":null}"),
                 CMEK_ERR_INVALID_ARG);
    cr_assert_eq(s_open((const uint8_t *)blob.data, blob.len, &m, "[]"), CMEK_ERR_INVALID_ARG);
    cmek_buf_clean_up(&blob);
}

/* ==== Keys and material ==== */

Test(kms_crypto, open_rejects_other_material)
{
    struct emu_kms_material m;
    struct emu_kms_material other;
    s_material(S_KEY_A, 0, &m);
    s_material(S_KEY_A, 1, &other);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    cr_assert_eq(s_open((const uint8_t *)blob.data, blob.len, &other, NULL), CMEK_ERR_CRYPTO);
    /* Other bytes filed under the blob's material id: the tag refuses them. */
    struct emu_kms_material forged = other;
    memcpy(forged.id, m.id, sizeof(forged.id));
    cr_assert_eq(s_open((const uint8_t *)blob.data, blob.len, &forged, NULL), CMEK_ERR_CRYPTO);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, open_rejects_a_blob_relabelled_with_another_key_id)
{
    /* Same material bytes and id, so only the key id in the AAD tells the keys apart. */
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    size_t last = 14 + strlen(S_KEY_A) - 1;
    cr_assert_eq(blob.data[last], 'b');
    blob.data[last] = 'c';
    struct emu_kms_blob_header h;
    cr_assert_eq(emu_kms_blob_parse((const uint8_t *)blob.data, blob.len, &h), CMEK_OK);
    cr_assert_str_eq(h.key_id, S_KEY_B);
    cr_assert_eq(s_open((const uint8_t *)blob.data, blob.len, &m, NULL), CMEK_ERR_CRYPTO);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, open_rejects_a_blob_relabelled_with_another_account)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    blob.data[12] = '4';
    struct emu_kms_blob_header h;
    cr_assert_eq(emu_kms_blob_parse((const uint8_t *)blob.data, blob.len, &h), CMEK_OK);
    cr_assert_str_eq(h.account, "111122223334");
    cr_assert_eq(s_open((const uint8_t *)blob.data, blob.len, &m, NULL), CMEK_ERR_CRYPTO);
    cmek_buf_clean_up(&blob);
}

/* ==== Tampering ==== */

struct s_tamper {
    const char *what;
    size_t offset;
    uint8_t value; /* the byte written there */
    int parse_rc;
    int open_rc;
};

Test(kms_crypto, tampering_with_each_region_fails_with_its_exact_error)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    size_t h = s_header_len(S_KEY_A);
    size_t kid = 14;
    size_t mid = 14 + strlen(S_KEY_A);
    const struct s_tamper cases[] = {
        {"version 0", 0, 0x00, CMEK_ERR_PARSE, CMEK_ERR_PARSE},
        {"version 2", 0, 0x02, CMEK_ERR_PARSE, CMEK_ERR_PARSE},
        {"account digit", 1, '9', CMEK_OK, CMEK_ERR_CRYPTO},
        {"account non-digit", 5, 'x', CMEK_ERR_PARSE, CMEK_ERR_PARSE},
        {"key id length 0", 13, 0, CMEK_ERR_PARSE, CMEK_ERR_PARSE},
        {"key id length 65", 13, 65, CMEK_ERR_PARSE, CMEK_ERR_PARSE},
        {"key id length 255", 13, 255, CMEK_ERR_PARSE, CMEK_ERR_PARSE},
        {"key id length 35", 13, 35, CMEK_OK, CMEK_ERR_CRYPTO},
        {"key id byte", kid, 'f', CMEK_OK, CMEK_ERR_CRYPTO},
        {"key id byte not allowed", kid + 3, '/', CMEK_ERR_PARSE, CMEK_ERR_PARSE},
        {"material id first byte", mid, (uint8_t)(blob.data[mid] ^ 0x01), CMEK_OK, CMEK_ERR_CRYPTO},
        {"material id last byte", h - 1, (uint8_t)(blob.data[h - 1] ^ 0x80), CMEK_OK,
         CMEK_ERR_CRYPTO},
        {"nonce first byte", h, (uint8_t)(blob.data[h] ^ 0x01), CMEK_OK, CMEK_ERR_CRYPTO},
        {"nonce last byte", h + 11, (uint8_t)(blob.data[h + 11] ^ 0x01), CMEK_OK, CMEK_ERR_CRYPTO},
        {"ciphertext first byte", h + 12, (uint8_t)(blob.data[h + 12] ^ 0x01), CMEK_OK,
         CMEK_ERR_CRYPTO},
        {"ciphertext last byte", h + 27, (uint8_t)(blob.data[h + 27] ^ 0x01), CMEK_OK,
         CMEK_ERR_CRYPTO},
        {"tag first byte", h + 28, (uint8_t)(blob.data[h + 28] ^ 0x01), CMEK_OK, CMEK_ERR_CRYPTO},
        {"tag last byte", blob.len - 1, (uint8_t)(blob.data[blob.len - 1] ^ 0x01), CMEK_OK,
         CMEK_ERR_CRYPTO},
    };
    uint8_t copy[256];
    cr_assert_leq(blob.len, sizeof(copy));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(copy, blob.data, blob.len);
        cr_assert_neq(copy[cases[i].offset], cases[i].value, "%s", cases[i].what);
        copy[cases[i].offset] = cases[i].value;
        struct emu_kms_blob_header hdr;
        cr_assert_eq(emu_kms_blob_parse(copy, blob.len, &hdr), cases[i].parse_rc, "%s",
                     cases[i].what);
        cr_assert_eq(s_open(copy, blob.len, &m, NULL), cases[i].open_rc, "%s", cases[i].what);
    }
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, flipping_any_bit_of_a_blob_never_opens_it)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 5, "{\"k\":\"v\"}", &blob);
    uint8_t copy[256];
    cr_assert_leq(blob.len, sizeof(copy));
    for (size_t i = 0; i < blob.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, blob.data, blob.len);
            copy[i] ^= (uint8_t)(1u << bit);
            int rc = s_open(copy, blob.len, &m, "{\"k\":\"v\"}");
            cr_assert(rc == CMEK_ERR_PARSE || rc == CMEK_ERR_CRYPTO, "byte %zu bit %d: %d", i, bit,
                      rc);
        }
    }
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, truncated_blobs_fail_without_crashing)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    size_t h = s_header_len(S_KEY_A);
    for (size_t len = 0; len < blob.len; len++) {
        /* An exact-size copy, so ASan sees any read past the end. */
        uint8_t *copy = malloc(len > 0 ? len : 1);
        cr_assert_not_null(copy);
        memcpy(copy, blob.data, len);
        struct emu_kms_blob_header hdr;
        int prc = emu_kms_blob_parse(copy, len, &hdr);
        int rc = s_open(copy, len, &m, NULL);
        if (len <= h + 28) {
            /* No room for nonce, one ciphertext byte and tag: not one of ours. */
            cr_assert_eq(prc, CMEK_ERR_PARSE, "len %zu", len);
            cr_assert_eq(rc, CMEK_ERR_PARSE, "len %zu", len);
        } else {
            cr_assert_eq(prc, CMEK_OK, "len %zu", len);
            cr_assert_eq(rc, CMEK_ERR_CRYPTO, "len %zu", len);
        }
        free(copy);
    }
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, a_blob_with_a_trailing_byte_does_not_open)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    cr_assert_eq(cmek_buf_append_byte(&blob, 0), CMEK_OK);
    cr_assert_eq(s_open((const uint8_t *)blob.data, blob.len, &m, NULL), CMEK_ERR_CRYPTO);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, parse_rejects_a_blob_over_the_maximum_size)
{
    static uint8_t big[EMU_KMS_BLOB_MAX + 1];
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    memcpy(big, blob.data, blob.len);
    struct emu_kms_blob_header hdr;
    cr_assert_eq(emu_kms_blob_parse(big, sizeof(big), &hdr), CMEK_ERR_PARSE);
    /* And a blob whose ciphertext would be longer than Encrypt's 4096 bytes. */
    size_t too_long = s_header_len(S_KEY_A) + 12 + 4097 + 16;
    cr_assert_eq(emu_kms_blob_parse(big, too_long, &hdr), CMEK_ERR_PARSE);
    cr_assert_eq(emu_kms_blob_parse(big, too_long - 1, &hdr), CMEK_OK);
    cr_assert_eq(emu_kms_blob_parse(NULL, 0, &hdr), CMEK_ERR_PARSE);
    cmek_buf_clean_up(&blob);
}

Test(kms_crypto, parse_reads_the_header_fields)
{
    struct emu_kms_material m;
    s_material(S_KEY_A, 0, &m);
    struct cmek_buf blob;
    s_seal(S_KEY_A, &m, 16, NULL, &blob);
    struct emu_kms_blob_header h;
    cr_assert_eq(emu_kms_blob_parse((const uint8_t *)blob.data, blob.len, &h), CMEK_OK);
    cr_assert_eq(h.version, 1);
    cr_assert_str_eq(h.account, S_ACCOUNT);
    cr_assert_str_eq(h.key_id, S_KEY_A);
    cr_assert_str_eq(h.material_id, m.id);
    cmek_buf_clean_up(&blob);
}

/* ==== Material ids ==== */

static bool s_is_lower_hex64(const char *s)
{
    if (strlen(s) != 64) {
        return false;
    }
    for (size_t i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

Test(kms_crypto, material_id_is_64_hex_and_determined_by_key_id_and_bytes)
{
    struct emu_kms_material a1;
    struct emu_kms_material a2;
    struct emu_kms_material b;
    struct emu_kms_material other_bytes;
    s_material(S_KEY_A, 0, &a1);
    s_material(S_KEY_A, 0, &a2);
    s_material(S_KEY_B, 0, &b);
    s_material(S_KEY_A, 1, &other_bytes);
    cr_assert(s_is_lower_hex64(a1.id));
    cr_assert_str_eq(a1.id, a2.id);
    cr_assert_str_neq(a1.id, b.id);
    cr_assert_str_neq(a1.id, other_bytes.id);
    cr_assert(a1.imported);
    cr_assert_eq(a1.created_s, 1700000000);
    cr_assert_eq(memcmp(a1.bytes, a2.bytes, sizeof(a1.bytes)), 0);
    /* The documented derivation, recomputed here. */
    uint8_t input[29 + 36 + 1 + 32];
    memcpy(input, "cmek-harness/kms/material/v1", 29);
    memcpy(input + 29, S_KEY_A, 36);
    input[65] = 0;
    for (size_t i = 0; i < 32; i++) {
        input[66 + i] = (uint8_t)i;
    }
    char hex[65];
    cr_assert_eq(cmek_sha256_hex(input, sizeof(input), hex), CMEK_OK);
    cr_assert_str_eq(a1.id, hex);
    cr_assert_str_eq(a1.id, S_DOC_MATERIAL_ID);
}

Test(kms_crypto, material_from_bytes_requires_32_bytes_and_a_valid_key_id)
{
    uint8_t bytes[33] = {0};
    struct emu_kms_material m;
    cr_assert_eq(emu_kms_material_from_bytes(S_KEY_A, bytes, 31, 0, &m), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(emu_kms_material_from_bytes(S_KEY_A, bytes, 33, 0, &m), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(emu_kms_material_from_bytes(S_KEY_A, bytes, 0, 0, &m), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(emu_kms_material_from_bytes(S_KEY_A, NULL, 32, 0, &m), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(emu_kms_material_from_bytes("", bytes, 32, 0, &m), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(emu_kms_material_from_bytes("a/b", bytes, 32, 0, &m), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(emu_kms_material_from_bytes(NULL, bytes, 32, 0, &m), CMEK_ERR_INVALID_ARG);
}

Test(kms_crypto, material_generate_uses_the_injected_random_source)
{
    struct emu_app app;
    s_app(&app);
    struct s_fake_random fake = {.len = 1, .bytes = {0x42}};
    app.sys.random_bytes = s_fake_random_bytes;
    app.sys.ctx = &fake;
    struct emu_kms_material m;
    cr_assert_eq(emu_kms_material_generate(&app, S_KEY_A, 1234, &m), CMEK_OK);
    for (size_t i = 0; i < sizeof(m.bytes); i++) {
        cr_assert_eq(m.bytes[i], 0x42);
    }
    cr_assert_not(m.imported);
    cr_assert_eq(m.created_s, 1234);
    struct emu_kms_material same;
    cr_assert_eq(emu_kms_material_from_bytes(S_KEY_A, m.bytes, 32, 0, &same), CMEK_OK);
    cr_assert_str_eq(m.id, same.id);

    /* The real source gives different material each time. */
    s_app(&app);
    struct emu_kms_material r1;
    struct emu_kms_material r2;
    cr_assert_eq(emu_kms_material_generate(&app, S_KEY_A, 0, &r1), CMEK_OK);
    cr_assert_eq(emu_kms_material_generate(&app, S_KEY_A, 0, &r2), CMEK_OK);
    cr_assert_str_neq(r1.id, r2.id);
    cr_assert(s_is_lower_hex64(r1.id));
}

/* ==== Context encoding ==== */

static void s_assert_encoding(const char *context_text, const uint8_t *want, size_t want_len)
{
    json_t *ctx = context_text ? s_json(context_text) : NULL;
    struct cmek_buf out;
    cmek_buf_init(&out, EMU_KMS_CONTEXT_MAX);
    cr_assert_eq(emu_kms_context_encode(ctx, &out), CMEK_OK);
    cr_assert_eq(out.len, want_len, "%s", context_text ? context_text : "NULL");
    cr_assert_eq(memcmp(out.data, want, want_len), 0, "%s", context_text ? context_text : "NULL");
    cmek_buf_clean_up(&out);
    json_decref(ctx);
}

Test(kms_crypto, context_encoding_is_sorted_and_length_prefixed)
{
    static const uint8_t want[] = {
        0, 0, 0, 2,                                    /* two pairs */
        0, 0, 0, 3, 'a', 'p', 'p',                     /* "app" */
        0, 0, 0, 4, 'c', 'm', 'e', 'k',                /* "cmek" */
        0, 0, 0, 7, 'p', 'u', 'r', 'p', 'o', 's', 'e', /* "purpose" */
        0, 0, 0, 4, 'd', 'e', 'm', 'o',                /* "demo" */
    };
    s_assert_encoding(S_DOC_CONTEXT, want, sizeof(want));
    s_assert_encoding("{\"app\":\"cmek\",\"purpose\":\"demo\"}", want, sizeof(want));
}

Test(kms_crypto, context_encoding_puts_a_shorter_key_first_on_a_common_prefix)
{
    /* {"b":"é","ab":"","a":"1"}: "a" < "ab" < "b", a two-byte UTF-8 value. */
    static const uint8_t want[] = {
        0, 0, 0, 3,                                /* three pairs */
        0, 0, 0, 1, 'a', 0,   0, 0, 1, '1',        /* "a":"1" */
        0, 0, 0, 2, 'a', 'b', 0, 0, 0, 0,          /* "ab":"" */
        0, 0, 0, 1, 'b', 0,   0, 0, 2, 0xc3, 0xa9, /* "b":"é" */
    };
    s_assert_encoding("{\"b\":\"\\u00e9\",\"ab\":\"\",\"a\":\"1\"}", want, sizeof(want));
}

Test(kms_crypto, context_encoding_of_null_and_empty_object_is_a_zero_count)
{
    static const uint8_t want[] = {0, 0, 0, 0};
    s_assert_encoding(NULL, want, sizeof(want));
    s_assert_encoding("{}", want, sizeof(want));
}

Test(kms_crypto, context_encoding_rejects_non_objects_and_non_string_values)
{
    static const char *const bad[] = {"[]",
                                      "\"s\"",
                                      "null",
                                      "{\"a\":1}",
                                      "{\"a\":null}",
                                      "{\"a\":\"1\",\"b\":{}}",
                                      "{\"a\":[\"x\"]}",
                                      "{\"a\":true}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *ctx = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        cr_assert_not_null(ctx, "%s", bad[i]);
        struct cmek_buf out;
        cmek_buf_init(&out, EMU_KMS_CONTEXT_MAX);
        cr_assert_eq(emu_kms_context_encode(ctx, &out), CMEK_ERR_INVALID_ARG, "%s", bad[i]);
        cr_assert_eq(out.len, 0, "%s", bad[i]);
        cmek_buf_clean_up(&out);
        json_decref(ctx);
    }
}

Test(kms_crypto, context_encoding_over_the_cap_is_a_limit_error)
{
    /* One pair: 4 + 4 + 1 + 4 + n bytes; n = 8192 - 13 fits exactly, one more does not. */
    static char value[EMU_KMS_CONTEXT_MAX];
    memset(value, 'v', sizeof(value));
    struct cmek_buf out;
    cmek_buf_init(&out, 2 * EMU_KMS_CONTEXT_MAX);

    json_t *ctx = json_object();
    cr_assert_eq(json_object_set_new(ctx, "k", json_stringn(value, EMU_KMS_CONTEXT_MAX - 13)), 0);
    cr_assert_eq(emu_kms_context_encode(ctx, &out), CMEK_OK);
    cr_assert_eq(out.len, EMU_KMS_CONTEXT_MAX);
    cmek_buf_reset(&out);
    cr_assert_eq(json_object_set_new(ctx, "k", json_stringn(value, EMU_KMS_CONTEXT_MAX - 12)), 0);
    cr_assert_eq(emu_kms_context_encode(ctx, &out), CMEK_ERR_LIMIT);
    cr_assert_eq(out.len, 0);
    json_decref(ctx);

    /* Many small pairs. */
    ctx = json_object();
    for (int i = 0; i < 1100; i++) {
        char key[16];
        cr_assert_eq(snprintf(key, sizeof(key), "k%d", i) > 0, true);
        cr_assert_eq(json_object_set_new(ctx, key, json_string("")), 0);
    }
    cr_assert_eq(emu_kms_context_encode(ctx, &out), CMEK_ERR_LIMIT);
    cr_assert_eq(out.len, 0);
    json_decref(ctx);
    cmek_buf_clean_up(&out);
}

/* ==== The documented format ==== */

Test(kms_crypto, the_documented_worked_example_opens_and_seal_reproduces_it)
{
    uint8_t bytes[32];
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] = (uint8_t)i;
    }
    struct emu_kms_material m;
    cr_assert_eq(emu_kms_material_from_bytes(S_KEY_A, bytes, sizeof(bytes), 0, &m), CMEK_OK);
    cr_assert_str_eq(m.id, S_DOC_MATERIAL_ID);

    uint8_t doc_blob[256];
    size_t doc_len = s_unhex(S_DOC_BLOB_HEX, doc_blob, sizeof(doc_blob));
    cr_assert_eq(doc_len, 120);
    json_t *ctx = s_json(S_DOC_CONTEXT);
    struct cmek_buf out;
    cmek_buf_init(&out, S_PLAIN_MAX);
    cr_assert_eq(emu_kms_blob_open(doc_blob, doc_len, &m, ctx, &out), CMEK_OK);
    cr_assert_eq(out.len, 10);
    cr_assert_eq(memcmp(out.data, "Hello, KMS", 10), 0);
    cmek_buf_clean_up(&out);

    /* The base64 form given in the document decodes to the same bytes. */
    struct cmek_buf b64;
    cmek_buf_init(&b64, 1024);
    static const char doc_b64[] =
        "ATExMTEyMjIyMzMzMyQxMjM0YWJjZC0xMmFiLTM0Y2QtNTZlZi0xMjM0NTY3ODkwYWJrgclau8Fi7RnuvgDzcWSCG1"
        "ILgPaJ/ZK7a06XchH7VKChoqOkpaanqKmqq659EEEq5yL0LzbVcAWOT1Yl6qy92f7smQL0";
    cr_assert_eq(cmek_base64_decode(doc_b64, strlen(doc_b64), &b64), CMEK_OK);
    cr_assert_eq(b64.len, doc_len);
    cr_assert_eq(memcmp(b64.data, doc_blob, doc_len), 0);
    cmek_buf_clean_up(&b64);

    /* seal with the example's nonce gives the example's bytes. */
    struct emu_app app;
    s_app(&app);
    struct s_fake_random fake = {.len = 12};
    for (size_t i = 0; i < 12; i++) {
        fake.bytes[i] = (uint8_t)(0xa0 + i);
    }
    app.sys.random_bytes = s_fake_random_bytes;
    app.sys.ctx = &fake;
    struct cmek_buf blob;
    cmek_buf_init(&blob, EMU_KMS_BLOB_MAX);
    cr_assert_eq(emu_kms_blob_seal(&app, S_ACCOUNT, S_KEY_A, &m, (const uint8_t *)"Hello, KMS", 10,
                                   ctx, &blob),
                 CMEK_OK);
    cr_assert_eq(blob.len, doc_len);
    cr_assert_eq(memcmp(blob.data, doc_blob, doc_len), 0);
    cmek_buf_clean_up(&blob);
    json_decref(ctx);
}

static void s_be32(uint8_t *out, size_t *off, uint32_t v)
{
    out[(*off)++] = (uint8_t)(v >> 24);
    out[(*off)++] = (uint8_t)(v >> 16);
    out[(*off)++] = (uint8_t)(v >> 8);
    out[(*off)++] = (uint8_t)v;
}

/* An outside program following docs/kms-ciphertext.md with OpenSSL alone. */
Test(kms_crypto, a_blob_built_by_hand_from_the_document_opens)
{
    static const char account[] = "999988887777";
    static const char key_id[] = "mrk-1234abcd12ab34cd56ef1234567890ab";
    static const char plaintext[] = "data key bytes, say";
    uint8_t key[32];
    uint8_t nonce[12];
    cr_assert_eq(cmek_random_bytes(key, sizeof(key)), CMEK_OK);
    cr_assert_eq(cmek_random_bytes(nonce, sizeof(nonce)), CMEK_OK);

    /* Material id: SHA-256("cmek-harness/kms/material/v1" NUL key_id NUL key). */
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    cr_assert_not_null(md);
    uint8_t material_id[32];
    unsigned int md_len = 0;
    cr_assert_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    cr_assert_eq(EVP_DigestUpdate(md, "cmek-harness/kms/material/v1\0", 29), 1);
    cr_assert_eq(EVP_DigestUpdate(md, key_id, strlen(key_id) + 1), 1); /* with its NUL */
    cr_assert_eq(EVP_DigestUpdate(md, key, sizeof(key)), 1);
    cr_assert_eq(EVP_DigestFinal_ex(md, material_id, &md_len), 1);
    cr_assert_eq(md_len, 32);
    EVP_MD_CTX_free(md);

    /* Header. */
    uint8_t blob[512];
    size_t off = 0;
    blob[off++] = 1;
    memcpy(blob + off, account, 12);
    off += 12;
    blob[off++] = (uint8_t)strlen(key_id);
    memcpy(blob + off, key_id, strlen(key_id));
    off += strlen(key_id);
    memcpy(blob + off, material_id, 32);
    off += 32;
    size_t header_len = off;

    /* Context {"b":"2","a":"1"}: count, then "a","1","b","2" each length-prefixed. */
    uint8_t aad_ctx[64];
    size_t ctx_len = 0;
    s_be32(aad_ctx, &ctx_len, 2);
    s_be32(aad_ctx, &ctx_len, 1);
    aad_ctx[ctx_len++] = 'a';
    s_be32(aad_ctx, &ctx_len, 1);
    aad_ctx[ctx_len++] = '1';
    s_be32(aad_ctx, &ctx_len, 1);
    aad_ctx[ctx_len++] = 'b';
    s_be32(aad_ctx, &ctx_len, 1);
    aad_ctx[ctx_len++] = '2';

    memcpy(blob + off, nonce, 12);
    off += 12;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    cr_assert_not_null(c);
    int n = 0;
    cr_assert_eq(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce), 1);
    cr_assert_eq(EVP_EncryptUpdate(c, NULL, &n, blob, (int)header_len), 1);
    cr_assert_eq(EVP_EncryptUpdate(c, NULL, &n, aad_ctx, (int)ctx_len), 1);
    cr_assert_eq(
        EVP_EncryptUpdate(c, blob + off, &n, (const uint8_t *)plaintext, (int)strlen(plaintext)),
        1);
    off += (size_t)n;
    cr_assert_eq(EVP_EncryptFinal_ex(c, blob + off, &n), 1);
    cr_assert_eq(n, 0);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, blob + off), 1);
    off += 16;
    EVP_CIPHER_CTX_free(c);

    struct emu_kms_blob_header h;
    cr_assert_eq(emu_kms_blob_parse(blob, off, &h), CMEK_OK);
    cr_assert_str_eq(h.account, account);
    cr_assert_str_eq(h.key_id, key_id);

    struct emu_kms_material m;
    cr_assert_eq(emu_kms_material_from_bytes(key_id, key, sizeof(key), 0, &m), CMEK_OK);
    cr_assert_str_eq(h.material_id, m.id);
    json_t *ctx = s_json("{\"b\":\"2\",\"a\":\"1\"}");
    struct cmek_buf out;
    cmek_buf_init(&out, S_PLAIN_MAX);
    cr_assert_eq(emu_kms_blob_open(blob, off, &m, ctx, &out), CMEK_OK);
    cr_assert_eq(out.len, strlen(plaintext));
    cr_assert_eq(memcmp(out.data, plaintext, out.len), 0);
    cmek_buf_clean_up(&out);
    json_decref(ctx);
}

/* ==== RSA wrapping keys ==== */

static const char *const s_algs[] = {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSAES_PKCS1_V1_5"};

static void s_new_key(const char *spec, struct emu_kms_wrapping_key **key, struct cmek_buf *der)
{
    cr_assert_eq(emu_kms_wrapping_key_new(spec, key), CMEK_OK, "%s", spec);
    cr_assert_not_null(*key);
    cmek_buf_init(der, S_WRAP_MAX);
    cr_assert_eq(emu_kms_wrapping_key_public_der(*key, der), CMEK_OK);
}

static void s_wrap_round_trip(const char *spec, int bits)
{
    struct emu_kms_wrapping_key *key = NULL;
    struct cmek_buf der;
    s_new_key(spec, &key, &der);

    /* DER SubjectPublicKeyInfo of an RSA key of the right size, e = 65537. */
    const unsigned char *p = (const unsigned char *)der.data;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, (long)der.len);
    cr_assert_not_null(pub);
    cr_assert_eq(p, (const unsigned char *)der.data + der.len);
    cr_assert_eq(EVP_PKEY_get_base_id(pub), EVP_PKEY_RSA);
    cr_assert_eq(EVP_PKEY_get_bits(pub), bits);
    BIGNUM *e = NULL;
    cr_assert_eq(EVP_PKEY_get_bn_param(pub, "e", &e), 1);
    cr_assert(BN_is_word(e, 65537));
    BN_free(e);
    EVP_PKEY_free(pub);

    for (size_t a = 0; a < sizeof(s_algs) / sizeof(s_algs[0]); a++) {
        uint8_t material[32];
        cr_assert_eq(cmek_random_bytes(material, sizeof(material)), CMEK_OK);
        struct cmek_buf wrapped;
        cmek_buf_init(&wrapped, S_WRAP_MAX);
        cr_assert_eq(emu_kms_wrap((const uint8_t *)der.data, der.len, s_algs[a], material,
                                  sizeof(material), &wrapped),
                     CMEK_OK, "%s %s", spec, s_algs[a]);
        cr_assert_eq(wrapped.len, (size_t)bits / 8);
        struct cmek_buf out;
        cmek_buf_init(&out, S_WRAP_MAX);
        cr_assert_eq(
            emu_kms_unwrap(key, s_algs[a], (const uint8_t *)wrapped.data, wrapped.len, &out),
            CMEK_OK, "%s %s", spec, s_algs[a]);
        cr_assert_eq(out.len, sizeof(material));
        cr_assert_eq(memcmp(out.data, material, sizeof(material)), 0);
        cmek_buf_clean_up(&out);
        cmek_buf_clean_up(&wrapped);
    }
    cmek_buf_clean_up(&der);
    emu_kms_wrapping_key_destroy(key);
}

Test(kms_crypto, rsa_2048_wraps_and_unwraps_with_every_algorithm)
{
    s_wrap_round_trip("RSA_2048", 2048);
}

Test(kms_crypto, rsa_3072_wraps_and_unwraps_with_every_algorithm, .timeout = 120)
{
    s_wrap_round_trip("RSA_3072", 3072);
}

Test(kms_crypto, rsa_4096_wraps_and_unwraps_with_every_algorithm, .timeout = 240)
{
    s_wrap_round_trip("RSA_4096", 4096);
}

static void s_wrap(const struct cmek_buf *der, const char *alg, const uint8_t *material,
                   struct cmek_buf *wrapped)
{
    cmek_buf_init(wrapped, S_WRAP_MAX);
    cr_assert_eq(emu_kms_wrap((const uint8_t *)der->data, der->len, alg, material, 32, wrapped),
                 CMEK_OK);
}

static int s_unwrap(const struct emu_kms_wrapping_key *key, const char *alg, const uint8_t *w,
                    size_t w_len)
{
    struct cmek_buf out;
    cmek_buf_init(&out, S_WRAP_MAX);
    int rc = emu_kms_unwrap(key, alg, w, w_len, &out);
    if (rc) {
        cr_assert_eq(out.len, 0);
    }
    cmek_buf_clean_up(&out);
    return rc;
}

Test(kms_crypto, unwrap_with_another_algorithm_or_garbage_is_a_crypto_error)
{
    struct emu_kms_wrapping_key *key = NULL;
    struct cmek_buf der;
    s_new_key("RSA_2048", &key, &der);
    uint8_t material[32];
    cr_assert_eq(cmek_random_bytes(material, sizeof(material)), CMEK_OK);

    /* OAEP's hash check makes a wrong OAEP digest, or OAEP over a PKCS#1 v1.5 block, fail
     * every time (the other way round, PKCS#1 v1.5 over OAEP, can pass by chance). */
    static const char *const pairs[][2] = {
        {"RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"},
        {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"},
        {"RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_256"},
        {"RSAES_PKCS1_V1_5", "RSAES_OAEP_SHA_1"},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct cmek_buf w;
        s_wrap(&der, pairs[i][0], material, &w);
        cr_assert_eq(s_unwrap(key, pairs[i][1], (const uint8_t *)w.data, w.len), CMEK_ERR_CRYPTO,
                     "%s as %s", pairs[i][0], pairs[i][1]);
        cmek_buf_clean_up(&w);
    }

    /* Garbage: random bytes for OAEP, and values no padding accepts. */
    uint8_t garbage[256];
    cr_assert_eq(cmek_random_bytes(garbage, sizeof(garbage)), CMEK_OK);
    garbage[0] = 0; /* below the modulus, so the RSA step itself succeeds */
    cr_assert_eq(s_unwrap(key, "RSAES_OAEP_SHA_256", garbage, sizeof(garbage)), CMEK_ERR_CRYPTO);
    cr_assert_eq(s_unwrap(key, "RSAES_OAEP_SHA_1", garbage, sizeof(garbage)), CMEK_ERR_CRYPTO);
    memset(garbage, 0xff, sizeof(garbage)); /* above the modulus */
    for (size_t a = 0; a < sizeof(s_algs) / sizeof(s_algs[0]); a++) {
        cr_assert_eq(s_unwrap(key, s_algs[a], garbage, sizeof(garbage)), CMEK_ERR_CRYPTO);
        cr_assert_eq(s_unwrap(key, s_algs[a], garbage, 255), CMEK_ERR_CRYPTO);
        cr_assert_eq(s_unwrap(key, s_algs[a], garbage, 0), CMEK_ERR_CRYPTO);
        cr_assert_eq(s_unwrap(key, s_algs[a], garbage, 1), CMEK_ERR_CRYPTO);
    }
    cmek_buf_clean_up(&der);
    emu_kms_wrapping_key_destroy(key);
}

Test(kms_crypto, unknown_spec_or_algorithm_is_an_invalid_argument)
{
    struct emu_kms_wrapping_key *key = NULL;
    static const char *const specs[] = {"RSA_1024",      "rsa_2048",          "RSA_2048 ",
                                        "ECC_NIST_P256", "SYMMETRIC_DEFAULT", ""};
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        cr_assert_eq(emu_kms_wrapping_key_new(specs[i], &key), CMEK_ERR_INVALID_ARG, "%s",
                     specs[i]);
        cr_assert_null(key);
    }
    cr_assert_eq(emu_kms_wrapping_key_new(NULL, &key), CMEK_ERR_INVALID_ARG);

    struct cmek_buf der;
    s_new_key("RSA_2048", &key, &der);
    uint8_t material[32] = {1};
    static const char *const algs[] = {"RSAES_OAEP_SHA_512", "RSA_AES_KEY_WRAP_SHA_256",
                                       "rsaes_oaep_sha_256", "SM2PKE", ""};
    uint8_t wrapped[256] = {0};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        struct cmek_buf out;
        cmek_buf_init(&out, S_WRAP_MAX);
        cr_assert_eq(emu_kms_wrap((const uint8_t *)der.data, der.len, algs[i], material, 32, &out),
                     CMEK_ERR_INVALID_ARG, "%s", algs[i]);
        cr_assert_eq(emu_kms_unwrap(key, algs[i], wrapped, sizeof(wrapped), &out),
                     CMEK_ERR_INVALID_ARG, "%s", algs[i]);
        cr_assert_eq(out.len, 0);
        cmek_buf_clean_up(&out);
    }
    cmek_buf_clean_up(&der);
    emu_kms_wrapping_key_destroy(key);
    emu_kms_wrapping_key_destroy(NULL);
}

Test(kms_crypto, wrap_rejects_a_public_key_that_is_not_der_spki)
{
    struct emu_kms_wrapping_key *key = NULL;
    struct cmek_buf der;
    s_new_key("RSA_2048", &key, &der);
    uint8_t material[32] = {1};
    struct cmek_buf out;
    cmek_buf_init(&out, S_WRAP_MAX);
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    cr_assert_eq(emu_kms_wrap(junk, sizeof(junk), "RSAES_OAEP_SHA_256", material, 32, &out),
                 CMEK_ERR_PARSE);
    cr_assert_eq(emu_kms_wrap((const uint8_t *)der.data, der.len - 1, "RSAES_OAEP_SHA_256",
                              material, 32, &out),
                 CMEK_ERR_PARSE);
    cr_assert_eq(cmek_buf_append_byte(&der, 0), CMEK_OK);
    cr_assert_eq(
        emu_kms_wrap((const uint8_t *)der.data, der.len, "RSAES_OAEP_SHA_256", material, 32, &out),
        CMEK_ERR_PARSE);
    cr_assert_eq(out.len, 0);
    cmek_buf_clean_up(&out);
    cmek_buf_clean_up(&der);
    emu_kms_wrapping_key_destroy(key);
}

Test(kms_crypto, pem_round_trip_gives_a_key_that_unwraps_what_the_original_wrapped)
{
    struct emu_kms_wrapping_key *key = NULL;
    struct cmek_buf der;
    s_new_key("RSA_2048", &key, &der);
    struct cmek_buf pem;
    cmek_buf_init(&pem, 16384);
    cr_assert_eq(emu_kms_wrapping_key_to_pem(key, &pem), CMEK_OK);
    cr_assert(strncmp(pem.data, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
    struct emu_kms_wrapping_key *back = NULL;
    cr_assert_eq(emu_kms_wrapping_key_from_pem(cmek_buf_cstr(&pem), &back), CMEK_OK);

    struct cmek_buf der2;
    cmek_buf_init(&der2, S_WRAP_MAX);
    cr_assert_eq(emu_kms_wrapping_key_public_der(back, &der2), CMEK_OK);
    cr_assert_eq(der2.len, der.len);
    cr_assert_eq(memcmp(der2.data, der.data, der.len), 0);

    uint8_t material[32];
    cr_assert_eq(cmek_random_bytes(material, sizeof(material)), CMEK_OK);
    struct cmek_buf w;
    s_wrap(&der, "RSAES_OAEP_SHA_256", material, &w);
    struct cmek_buf out;
    cmek_buf_init(&out, S_WRAP_MAX);
    cr_assert_eq(emu_kms_unwrap(back, "RSAES_OAEP_SHA_256", (const uint8_t *)w.data, w.len, &out),
                 CMEK_OK);
    cr_assert_eq(out.len, 32);
    cr_assert_eq(memcmp(out.data, material, 32), 0);

    cmek_buf_clean_up(&out);
    cmek_buf_clean_up(&w);
    cmek_buf_clean_up(&der2);
    cmek_buf_clean_up(&pem);
    cmek_buf_clean_up(&der);
    emu_kms_wrapping_key_destroy(back);
    emu_kms_wrapping_key_destroy(key);
}

Test(kms_crypto, from_pem_rejects_what_is_not_an_rsa_wrapping_key)
{
    struct emu_kms_wrapping_key *key = NULL;
    cr_assert_eq(emu_kms_wrapping_key_from_pem("", &key), CMEK_ERR_PARSE);
    cr_assert_eq(emu_kms_wrapping_key_from_pem("not a pem", &key), CMEK_ERR_PARSE);
    cr_assert_eq(emu_kms_wrapping_key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                               "-----END PRIVATE KEY-----\n",
                                               &key),
                 CMEK_ERR_PARSE);
    cr_assert_null(key);

    /* An EC key is a private key, but not a wrapping key. */
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    cr_assert_not_null(ec);
    BIO *bio = BIO_new(BIO_s_mem());
    cr_assert_not_null(bio);
    cr_assert_eq(PEM_write_bio_PrivateKey(bio, ec, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    cr_assert_gt(len, 0);
    char *pem = malloc((size_t)len + 1);
    cr_assert_not_null(pem);
    memcpy(pem, data, (size_t)len);
    pem[len] = '\0';
    cr_assert_eq(emu_kms_wrapping_key_from_pem(pem, &key), CMEK_ERR_PARSE);
    cr_assert_null(key);
    free(pem);
    BIO_free(bio);
    EVP_PKEY_free(ec);
}
