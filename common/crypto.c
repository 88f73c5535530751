#include "cmek/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

/* OpenSSL 3 looks an algorithm up (under a lock) on every use of EVP_sha256() and friends;
 * SigV4 and KMS use two algorithms on every request, so they are fetched once per process
 * and then only read. These are constants after the first use, not mutable state. */
static pthread_once_t s_fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *s_sha256_md;
static EVP_CIPHER *s_aes256gcm_cipher;

static void s_fetch(void)
{
    s_sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    s_aes256gcm_cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

const EVP_CIPHER *cmek_cipher_aes256gcm(void)
{
    pthread_once(&s_fetch_once, s_fetch);
    return s_aes256gcm_cipher;
}

int cmek_sha256(const void *data, size_t len, uint8_t out[CMEK_SHA256_LEN])
{
    pthread_once(&s_fetch_once, s_fetch);
    unsigned int out_len = 0;
    if (s_sha256_md == NULL || EVP_Digest(data, len, out, &out_len, s_sha256_md, NULL) != 1 ||
        out_len != CMEK_SHA256_LEN) {
        return CMEK_ERR_CRYPTO;
    }
    return CMEK_OK;
}

int cmek_sha256_hex(const void *data, size_t len, char out[CMEK_SHA256_HEX_LEN + 1])
{
    uint8_t digest[CMEK_SHA256_LEN];
    int rc = cmek_sha256(data, len, digest);
    if (rc) {
        return rc;
    }
    cmek_hex_encode(digest, sizeof(digest), out);
    return CMEK_OK;
}

/* HMAC-SHA256 (RFC 2104) over the SHA-256 fetched once. EVP_MAC would be the usual call, but
 * it takes its digest by name, and OpenSSL 3 resolves that name (a fetch under the library
 * context's lock) and builds three digest contexts on every EVP_MAC_init: a SigV4
 * verification runs one HMAC per request (five when the signing key is not cached), where
 * that setup was most of its cost. The construction is the standard one and is checked
 * against EVP_MAC's output by the unit tests (RFC 4231 vectors). */
int cmek_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     uint8_t out[CMEK_SHA256_LEN])
{
    enum { S_BLOCK = 64 };
    pthread_once(&s_fetch_once, s_fetch);
    int rc = CMEK_ERR_CRYPTO;
    uint8_t k0[S_BLOCK] = {0};
    uint8_t pad[S_BLOCK];
    uint8_t inner[CMEK_SHA256_LEN];
    unsigned int inner_len = 0;
    unsigned int out_len = 0;
    EVP_MD_CTX *ctx = s_sha256_md ? EVP_MD_CTX_new() : NULL;
    if (ctx == NULL) {
        goto done;
    }
    if (key_len > S_BLOCK) {
        if (cmek_sha256(key, key_len, k0) != CMEK_OK) {
            goto done;
        }
    } else if (key_len > 0) {
        memcpy(k0, key, key_len);
    }
    for (size_t i = 0; i < S_BLOCK; i++) {
        pad[i] = (uint8_t)(k0[i] ^ 0x36);
    }
    if (EVP_DigestInit_ex2(ctx, s_sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, pad, S_BLOCK) != 1 || EVP_DigestUpdate(ctx, data, len) != 1 ||
        EVP_DigestFinal_ex(ctx, inner, &inner_len) != 1 || inner_len != CMEK_SHA256_LEN) {
        goto done;
    }
    for (size_t i = 0; i < S_BLOCK; i++) {
        pad[i] = (uint8_t)(k0[i] ^ 0x5c);
    }
    if (EVP_DigestInit_ex2(ctx, s_sha256_md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, pad, S_BLOCK) != 1 ||
        EVP_DigestUpdate(ctx, inner, sizeof(inner)) != 1 ||
        EVP_DigestFinal_ex(ctx, out, &out_len) != 1 || out_len != CMEK_SHA256_LEN) {
        goto done;
    }
    rc = CMEK_OK;
done:
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    return rc;
}

void cmek_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int cmek_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool cmek_consttime_eq(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len) {
        return false;
    }
    return CRYPTO_memcmp(a, b, a_len) == 0;
}

int cmek_base64_encode(const void *in, size_t len, struct cmek_buf *out)
{
    size_t enc_len = 4 * ((len + 2) / 3);
    size_t start = out->len;
    /* Room for the whole encoding at once, then encode in place. */
    int rc = cmek_buf_reserve(out, enc_len);
    if (rc) {
        return rc;
    }
    if (len > 0) {
        /* EVP_EncodeBlock writes a trailing NUL, which lands on buf's terminator slot. */
        EVP_EncodeBlock((unsigned char *)out->data + start, in, (int)len);
    }
    out->len = start + enc_len;
    out->data[out->len] = '\0';
    return CMEK_OK;
}

static bool s_is_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

int cmek_base64_decode(const char *in, size_t len, struct cmek_buf *out)
{
    if (len % 4 != 0) {
        return CMEK_ERR_PARSE;
    }
    size_t pad = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '=') {
            if (i < len - 2) {
                return CMEK_ERR_PARSE;
            }
            pad++;
        } else if (pad > 0 || !s_is_b64_char(in[i])) {
            return CMEK_ERR_PARSE;
        }
    }
    if (len == 0) {
        return CMEK_OK;
    }
    size_t dec_len = len / 4 * 3;
    size_t start = out->len;
    int rc = cmek_buf_reserve(out, dec_len);
    if (rc) {
        return rc;
    }
    int n =
        EVP_DecodeBlock((unsigned char *)out->data + start, (const unsigned char *)in, (int)len);
    if (n < 0 || (size_t)n != dec_len) {
        out->len = start;
        out->data[start] = '\0';
        return CMEK_ERR_PARSE;
    }
    out->len = start + dec_len - pad;
    out->data[out->len] = '\0';
    return CMEK_OK;
}

/* Random bytes come from OpenSSL's DRBG in blocks: each RAND_bytes call costs far more than
 * the bytes it makes (the per-thread DRBG lookup under the library context's lock, parameter
 * lookups, and a getpid() system call for its fork check), and the emulator draws 12 bytes
 * (a GCM IV) or 32 (a data key) per request. Each thread keeps its own block, so there is
 * no lock; a byte is handed out once and wiped as it is; a forked child drops the block it
 * inherited (pthread_atfork), so parent and child never hand out the same bytes. */
#define S_RANDOM_BLOCK_BYTES 1024
#define S_RANDOM_DIRECT_MIN  256 /* larger requests go straight to the DRBG */

struct s_random_block {
    uint8_t bytes[S_RANDOM_BLOCK_BYTES];
    size_t next; /* bytes[next..] are unused; S_RANDOM_BLOCK_BYTES when empty */
};

static _Thread_local struct s_random_block s_random = {.next = S_RANDOM_BLOCK_BYTES};
static pthread_once_t s_random_once = PTHREAD_ONCE_INIT;

static void s_random_drop(void)
{
    OPENSSL_cleanse(s_random.bytes, sizeof(s_random.bytes));
    s_random.next = S_RANDOM_BLOCK_BYTES;
}

static void s_random_register_fork(void)
{
    /* After fork only the forking thread exists in the child: its block is the one to drop. */
    (void)pthread_atfork(NULL, NULL, s_random_drop);
}

int cmek_random_bytes(void *out, size_t len)
{
    if (len >= S_RANDOM_DIRECT_MIN) {
        return RAND_bytes(out, (int)len) == 1 ? CMEK_OK : CMEK_ERR_CRYPTO;
    }
    pthread_once(&s_random_once, s_random_register_fork);
    struct s_random_block *b = &s_random;
    if (S_RANDOM_BLOCK_BYTES - b->next < len) {
        if (RAND_bytes(b->bytes, (int)sizeof(b->bytes)) != 1) {
            s_random_drop();
            return CMEK_ERR_CRYPTO;
        }
        b->next = 0;
    }
    memcpy(out, b->bytes + b->next, len);
    OPENSSL_cleanse(b->bytes + b->next, len);
    b->next += len;
    return CMEK_OK;
}

void cmek_cleanse(void *ptr, size_t len)
{
    if (ptr != NULL) {
        OPENSSL_cleanse(ptr, len);
    }
}

void cmek_cleanse_str(char *str)
{
    if (str != NULL) {
        OPENSSL_cleanse(str, strlen(str));
    }
}

bool cmek_consttime_eq_view(struct cmek_view a, const char *b)
{
    return cmek_consttime_eq(a.ptr, a.len, b, strlen(b));
}
