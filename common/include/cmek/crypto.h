/* cmek/crypto.h: the few primitives both the emulator and the client need, on OpenSSL 3. */
#ifndef CMEK_CRYPTO_H
#define CMEK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmek/buf.h"
#include "cmek/error.h"

#define CMEK_SHA256_LEN     32
#define CMEK_SHA256_HEX_LEN 64

CMEK_WUR int cmek_sha256(const void *data, size_t len, uint8_t out[CMEK_SHA256_LEN]);
/* Lowercase hex of SHA-256, NUL-terminated. */
CMEK_WUR int cmek_sha256_hex(const void *data, size_t len, char out[CMEK_SHA256_HEX_LEN + 1]);
CMEK_WUR int cmek_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                              uint8_t out[CMEK_SHA256_LEN]);
/* Lowercase hex; out must hold 2 * len + 1 bytes. */
void cmek_hex_encode(const uint8_t *in, size_t len, char *out);
/* The value of one hex digit (either case), or -1. */
int cmek_hex_value(char c);
/* Constant-time equality of two equal-length runs; false when lengths differ. */
bool cmek_consttime_eq(const void *a, size_t a_len, const void *b, size_t b_len);
/* Constant-time comparison of a view with a C string. */
bool cmek_consttime_eq_view(struct cmek_view a, const char *b);
/* AES-256-GCM with a 96-bit nonce, one call per message. The additional authenticated data
 * is the concatenation of aad[0..n_aad). Each thread keeps the key schedules of the last few
 * keys it used, so sealing or opening under a recent key sets up no key. */
#define CMEK_GCM_KEY_LEN   32
#define CMEK_GCM_NONCE_LEN 12
#define CMEK_GCM_TAG_LEN   16
/* Writes len bytes of ciphertext to out (which may be in) and the tag. */
CMEK_WUR int cmek_gcm_seal(const uint8_t key[CMEK_GCM_KEY_LEN],
                           const uint8_t nonce[CMEK_GCM_NONCE_LEN], const struct cmek_view *aad,
                           size_t n_aad, const void *in, size_t len, void *out,
                           uint8_t tag[CMEK_GCM_TAG_LEN]);
/* Writes len bytes of plaintext to out (which may be in). CMEK_ERR_CRYPTO when the tag does
 * not verify; out is then wiped, never left holding unauthenticated plaintext. */
CMEK_WUR int cmek_gcm_open(const uint8_t key[CMEK_GCM_KEY_LEN],
                           const uint8_t nonce[CMEK_GCM_NONCE_LEN], const struct cmek_view *aad,
                           size_t n_aad, const void *in, size_t len,
                           const uint8_t tag[CMEK_GCM_TAG_LEN], void *out);
/* Appends standard base64 (with padding) of in to out. */
CMEK_WUR int cmek_base64_encode(const void *in, size_t len, struct cmek_buf *out);
/* Decodes strict standard base64 (padding required, no whitespace) into out.
 * CMEK_ERR_PARSE on anything else. */
CMEK_WUR int cmek_base64_decode(const char *in, size_t len, struct cmek_buf *out);
CMEK_WUR int cmek_random_bytes(void *out, size_t len);
/* Overwrites secret bytes so they do not linger in freed memory. */
void cmek_cleanse(void *ptr, size_t len);
/* cmek_cleanse over a NUL-terminated secret (NULL-safe). */
void cmek_cleanse_str(char *str);

#endif
