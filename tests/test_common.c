/* Tests of libcmek-common's small pieces: capped buffers, base64, hex, time formats. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

Test(buf, append_file_reads_whole_files_and_names_failures)
{
    char path[] = "/tmp/cmek-buf-file-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    char big[10000];
    memset(big, 'x', sizeof(big));
    cr_assert_eq(write(fd, big, sizeof(big)), (ssize_t)sizeof(big));
    close(fd);
    struct cmek_buf b;
    cmek_buf_init(&b, sizeof(big));
    cr_assert_eq(cmek_buf_append_file(&b, path), CMEK_OK);
    cr_assert_eq(b.len, sizeof(big));
    cr_assert(memcmp(b.data, big, sizeof(big)) == 0);
    cmek_buf_clean_up(&b);
    cmek_buf_init(&b, sizeof(big) - 1);
    cr_assert_eq(cmek_buf_append_file(&b, path), CMEK_ERR_LIMIT);
    cmek_buf_clean_up(&b);
    unlink(path);
    errno = 0;
    cr_assert_eq(cmek_buf_append_file(&b, path), CMEK_ERR_IO);
    cr_assert_eq(errno, ENOENT);
    cr_assert_eq(b.len, 0);
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

Test(base64, consttime_eq_sees_a_difference_in_any_byte_of_any_length)
{
    /* Words and the tail: every length up to 40, a flipped bit at every position. */
    uint8_t a[40], b[40];
    for (size_t i = 0; i < sizeof(a); i++) {
        a[i] = (uint8_t)(i * 37 + 1);
    }
    for (size_t len = 0; len <= sizeof(a); len++) {
        memcpy(b, a, sizeof(b));
        cr_assert(cmek_consttime_eq(a, len, b, len), "len %zu", len);
        for (size_t at = 0; at < len; at++) {
            b[at] ^= 0x10;
            cr_assert_not(cmek_consttime_eq(a, len, b, len), "len %zu at %zu", len, at);
            b[at] ^= 0x10;
        }
    }
}

/* HMAC through OpenSSL's EVP_MAC, the reference cmek_hmac_sha256 must agree with. */
static void s_evp_hmac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
                       uint8_t out[32])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA2-256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t n = 0;
    cr_assert_eq(EVP_MAC_init(ctx, key, key_len, params), 1);
    cr_assert_eq(EVP_MAC_update(ctx, data, len), 1);
    cr_assert_eq(EVP_MAC_final(ctx, out, &n, 32), 1);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}

Test(base64, hmac_matches_evp_mac_for_every_key_length)
{
    uint8_t key[200], data[300], got[32], want[32];
    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = (uint8_t)(i * 7 + 1);
    }
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 13 + 5);
    }
    /* Around the 64-byte block: shorter keys are padded, longer ones hashed first. */
    for (size_t key_len = 0; key_len <= sizeof(key); key_len++) {
        size_t len = (key_len * 3) % sizeof(data);
        cr_assert_eq(cmek_hmac_sha256(key, key_len, data, len, got), CMEK_OK);
        s_evp_hmac(key, key_len, data, len, want);
        cr_assert_eq(memcmp(got, want, 32), 0, "key_len %zu", key_len);
    }
    /* RFC 4231 test case 6: a 131-byte key. */
    uint8_t long_key[131];
    memset(long_key, 0xaa, sizeof(long_key));
    const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    cr_assert_eq(cmek_hmac_sha256(long_key, sizeof(long_key), msg, strlen(msg), got), CMEK_OK);
    char hex[65];
    cmek_hex_encode(got, 32, hex);
    cr_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

Test(base64, random_bytes_do_not_repeat_across_blocks)
{
    /* Enough small draws to refill the per-thread block (4096 bytes) three times, plus
     * direct ones. */
    static uint8_t seen[1100][12];
    for (size_t i = 0; i < 1100; i++) {
        cr_assert_eq(cmek_random_bytes(seen[i], sizeof(seen[i])), CMEK_OK);
        for (size_t j = 0; j < i; j++) {
            cr_assert_neq(memcmp(seen[i], seen[j], sizeof(seen[i])), 0);
        }
    }
    uint8_t big_a[512], big_b[512];
    cr_assert_eq(cmek_random_bytes(big_a, sizeof(big_a)), CMEK_OK);
    cr_assert_eq(cmek_random_bytes(big_b, sizeof(big_b)), CMEK_OK);
    cr_assert_neq(memcmp(big_a, big_b, sizeof(big_a)), 0);
    cr_assert_eq(cmek_random_bytes(big_a, 0), CMEK_OK);
}

TestSuite(gcm, .fini = cmek_test_fini);

static void s_unhex(const char *hex, uint8_t *out, size_t *len)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(cmek_hex_value(hex[2 * i]) << 4 | cmek_hex_value(hex[2 * i + 1]));
    }
    *len = n;
}

/* The reference: a fresh EVP context per message, as OpenSSL's documentation shows it. */
static void s_evp_gcm(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                      const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    cr_assert_eq(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce), 1);
    cr_assert_eq(EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len), 1);
    cr_assert_eq(EVP_EncryptUpdate(c, out, &n, in, (int)len), 1);
    cr_assert_eq(EVP_EncryptFinal_ex(c, out + n, &n), 1);
    cr_assert_eq(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(c);
}

Test(gcm, seals_the_nist_test_case_and_opens_it)
{
    /* "The Galois/Counter Mode of Operation (GCM)", McGrew and Viega, test case 16. */
    uint8_t key[32], nonce[12], pt[64], aad[20], want_ct[64], want_tag[16], ct[64], tag[16],
        back[64];
    size_t n;
    s_unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key, &n);
    s_unhex("cafebabefacedbaddecaf888", nonce, &n);
    s_unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e"
            "2449a6b525b16aedf5aa0de657ba637b39",
            pt, &n);
    size_t pt_len = n;
    s_unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, &n);
    s_unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b"
            "1056828838c5f61e6393ba7a0abcc9f662",
            want_ct, &n);
    s_unhex("76fc6ece0f4e1768cddf8853bb2d551b", want_tag, &n);
    /* The AAD in two parts: the parts are concatenated. */
    struct cmek_view parts[2] = {{(const char *)aad, 7}, {(const char *)aad + 7, 13}};
    cr_assert_eq(cmek_gcm_seal(key, nonce, parts, 2, pt, pt_len, ct, tag), CMEK_OK);
    cr_assert_eq(memcmp(ct, want_ct, pt_len), 0);
    cr_assert_eq(memcmp(tag, want_tag, 16), 0);
    struct cmek_view whole = {(const char *)aad, 20};
    cr_assert_eq(cmek_gcm_open(key, nonce, &whole, 1, ct, pt_len, tag, back), CMEK_OK);
    cr_assert_eq(memcmp(back, pt, pt_len), 0);
}

Test(gcm, agrees_with_a_fresh_context_across_more_keys_than_a_thread_keeps)
{
    /* Nine keys used in turn, twice over, so cached contexts are both reused and evicted;
     * seal and open alternate on each. */
    uint8_t keys[9][32];
    for (size_t k = 0; k < 9; k++) {
        for (size_t i = 0; i < 32; i++) {
            keys[k][i] = (uint8_t)(k * 31 + i);
        }
    }
    for (size_t round = 0; round < 2 * 9; round++) {
        const uint8_t *key = keys[(round * 4) % 9];
        uint8_t nonce[12], in[100], aad[9], ct[100], tag[16], want_ct[100], want_tag[16], back[100];
        size_t len = 1 + round * 5;
        memset(nonce, (int)round, sizeof(nonce));
        memset(aad, 'a' + (int)round, sizeof(aad));
        for (size_t i = 0; i < len; i++) {
            in[i] = (uint8_t)(i ^ round);
        }
        struct cmek_view a = {(const char *)aad, round % 3 == 0 ? 0 : sizeof(aad)};
        s_evp_gcm(key, nonce, aad, a.len, in, len, want_ct, want_tag);
        cr_assert_eq(cmek_gcm_seal(key, nonce, &a, 1, in, len, ct, tag), CMEK_OK);
        cr_assert_eq(memcmp(ct, want_ct, len), 0, "round %zu", round);
        cr_assert_eq(memcmp(tag, want_tag, 16), 0, "round %zu", round);
        cr_assert_eq(cmek_gcm_open(key, nonce, &a, 1, ct, len, tag, back), CMEK_OK);
        cr_assert_eq(memcmp(back, in, len), 0);
    }
}

Test(gcm, a_failed_open_wipes_its_output_and_the_key_still_works)
{
    uint8_t key[32] = {7}, nonce[12] = {1}, in[48], ct[48], tag[16], back[48];
    memset(in, 'p', sizeof(in));
    struct cmek_view aad = {"context", 7};
    cr_assert_eq(cmek_gcm_seal(key, nonce, &aad, 1, in, sizeof(in), ct, tag), CMEK_OK);
    /* A flipped bit anywhere (ciphertext, tag, AAD, nonce) fails, with nothing left in out. */
    for (int what = 0; what < 4; what++) {
        uint8_t c2[48], t2[16], n2[12];
        memcpy(c2, ct, sizeof(c2));
        memcpy(t2, tag, sizeof(t2));
        memcpy(n2, nonce, sizeof(n2));
        struct cmek_view a2 = what == 2 ? (struct cmek_view){"contexu", 7} : aad;
        if (what == 0) {
            c2[47] ^= 1;
        } else if (what == 1) {
            t2[0] ^= 0x80;
        } else if (what == 3) {
            n2[11] ^= 1;
        }
        memset(back, 0xee, sizeof(back));
        cr_assert_eq(cmek_gcm_open(key, n2, &a2, 1, c2, sizeof(c2), t2, back), CMEK_ERR_CRYPTO,
                     "tamper %d", what);
        for (size_t i = 0; i < sizeof(back); i++) {
            cr_assert_eq(back[i], 0, "tamper %d: byte %zu left", what, i);
        }
    }
    cr_assert_eq(cmek_gcm_open(key, nonce, &aad, 1, ct, sizeof(ct), tag, back), CMEK_OK);
    cr_assert_eq(memcmp(back, in, sizeof(in)), 0);
    /* In place, both ways. */
    uint8_t buf[48];
    memcpy(buf, in, sizeof(buf));
    cr_assert_eq(cmek_gcm_seal(key, nonce, &aad, 1, buf, sizeof(buf), buf, tag), CMEK_OK);
    cr_assert_eq(memcmp(buf, ct, sizeof(buf)), 0);
    cr_assert_eq(cmek_gcm_open(key, nonce, &aad, 1, buf, sizeof(buf), tag, buf), CMEK_OK);
    cr_assert_eq(memcmp(buf, in, sizeof(buf)), 0);
}

struct s_gcm_worker {
    uint8_t key[32];
    int failures;
};

static void *s_gcm_worker(void *arg)
{
    struct s_gcm_worker *w = arg;
    for (int i = 0; i < 2000; i++) {
        uint8_t nonce[12] = {(uint8_t)i, (uint8_t)(i >> 8)}, in[32], ct[32], tag[16], want[32],
                want_tag[16], back[32];
        memset(in, i, sizeof(in));
        s_evp_gcm(w->key, nonce, NULL, 0, in, sizeof(in), want, want_tag);
        if (cmek_gcm_seal(w->key, nonce, NULL, 0, in, sizeof(in), ct, tag) != CMEK_OK ||
            memcmp(ct, want, sizeof(ct)) != 0 || memcmp(tag, want_tag, 16) != 0 ||
            cmek_gcm_open(w->key, nonce, NULL, 0, ct, sizeof(ct), tag, back) != CMEK_OK ||
            memcmp(back, in, sizeof(in)) != 0) {
            w->failures++;
        }
    }
    return NULL;
}

Test(gcm, threads_keep_their_own_contexts)
{
    /* Each thread's contexts are its own; the threads' exits free them (a leak fails the
     * sanitizer build). */
    pthread_t th[4];
    struct s_gcm_worker w[4];
    for (int t = 0; t < 4; t++) {
        memset(w[t].key, 0x11 * (t + 1), sizeof(w[t].key));
        w[t].failures = 0;
        cr_assert_eq(pthread_create(&th[t], NULL, s_gcm_worker, &w[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        cr_assert_eq(w[t].failures, 0, "thread %d", t);
    }
}

Test(timeutil, formats_match_gmtime_and_strftime)
{
    /* Every day boundary across leap years and centuries, and the edges of 4-digit years. */
    const time_t samples[] = {
        0,          59,         86399,        86400,        951782399, 951782400, 951868800,
        4107542399, 4107542400, 253402300799, 253402300800, -1,        -86401};
    for (size_t k = 0; k < sizeof(samples) / sizeof(samples[0]) + 3000; k++) {
        time_t t = k < sizeof(samples) / sizeof(samples[0])
                       ? samples[k]
                       : (time_t)((k - 13) * 7919 * 3607 % 4102444800LL);
        struct tm tm;
        gmtime_r(&t, &tm);
        char want[64] = "", got[64] = "";
        if (strftime(want, CMEK_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) == CMEK_AMZ_DATE_LEN) {
            cmek_time_format_amz(t, got);
            cr_assert_str_eq(got, want, "t %lld", (long long)t);
        }
        if (strftime(want, CMEK_ISO8601_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) == CMEK_ISO8601_LEN) {
            cmek_time_format_iso8601(t, got);
            cr_assert_str_eq(got, want, "t %lld", (long long)t);
        }
    }
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

/* The arithmetic parser against timegm, the libc path it replaced: every day of leap and
 * common years (1970, 2000, 2023, 2024, 2100, 9999) at the edges of the day, days that do
 * not exist, and the leap second, which timegm carries into the next minute (or day). */
Test(timeutil, parses_amz_dates_as_timegm_does)
{
    const int years[] = {1970, 2000, 2023, 2024, 2100, 9999};
    const int times[][3] = {{0, 0, 0}, {12, 36, 0}, {23, 59, 59}, {11, 59, 60}, {23, 59, 60}};
    for (size_t y = 0; y < sizeof(years) / sizeof(years[0]); y++) {
        for (int mon = 1; mon <= 12; mon++) {
            for (int day = 1; day <= 31; day++) {
                for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++) {
                    char in[32];
                    snprintf(in, sizeof(in), "%04d%02d%02dT%02d%02d%02dZ", years[y], mon, day,
                             times[k][0], times[k][1], times[k][2]);
                    struct tm tm = {.tm_year = years[y] - 1900,
                                    .tm_mon = mon - 1,
                                    .tm_mday = day,
                                    .tm_hour = times[k][0],
                                    .tm_min = times[k][1],
                                    .tm_sec = times[k][2]};
                    time_t want = timegm(&tm);
                    struct tm back;
                    gmtime_r(&want, &back);
                    bool exists = back.tm_mday == day;
                    time_t got = 0;
                    int rc = cmek_time_parse_amz(in, CMEK_AMZ_DATE_LEN, &got);
                    cr_assert_eq(rc, exists ? CMEK_OK : CMEK_ERR_PARSE, "%s", in);
                    if (exists) {
                        cr_assert_eq(got, want, "%s", in);
                    }
                }
            }
        }
    }
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
