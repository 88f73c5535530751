#include "cmek/crypto.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
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

/* ==== Per-thread contexts ====
 * OpenSSL contexts are cheap to reuse and dear to make: a digest context is an allocation
 * and a provider context per use, a GCM context also the key schedule and GHASH table of
 * its key. Each thread keeps one digest context and the GCM contexts of the last few keys
 * it used; the thread's exit frees them (a pthread key's destructor), wiping the keys. */
#define S_GCM_SLOTS 4

struct s_gcm_slot {
    EVP_CIPHER_CTX *ctx; /* NULL: free slot */
    uint8_t key[CMEK_GCM_KEY_LEN];
};

struct s_thread_ctx {
    EVP_MD_CTX *md;
    struct s_gcm_slot gcm[S_GCM_SLOTS];
    unsigned gcm_next; /* the slot a new key replaces, round robin */
};

static pthread_key_t s_thread_key;
static pthread_once_t s_thread_once = PTHREAD_ONCE_INIT;
static bool s_thread_key_ok;

static void s_gcm_slot_drop(struct s_gcm_slot *slot)
{
    EVP_CIPHER_CTX_free(slot->ctx); /* wipes the key schedule */
    slot->ctx = NULL;
    OPENSSL_cleanse(slot->key, sizeof(slot->key));
}

static void s_thread_ctx_free(void *p)
{
    struct s_thread_ctx *t = p;
    EVP_MD_CTX_free(t->md);
    for (size_t i = 0; i < S_GCM_SLOTS; i++) {
        s_gcm_slot_drop(&t->gcm[i]);
    }
    free(t);
}

static void s_thread_key_make(void)
{
    s_thread_key_ok = pthread_key_create(&s_thread_key, s_thread_ctx_free) == 0;
}

/* This thread's contexts, made at its first use; NULL when out of memory. */
static struct s_thread_ctx *s_thread_ctx(void)
{
    pthread_once(&s_thread_once, s_thread_key_make);
    if (!s_thread_key_ok) {
        return NULL;
    }
    struct s_thread_ctx *t = pthread_getspecific(s_thread_key);
    if (t != NULL) {
        return t;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->md = EVP_MD_CTX_new();
    if (t->md == NULL || pthread_setspecific(s_thread_key, t) != 0) {
        s_thread_ctx_free(t);
        return NULL;
    }
    return t;
}

/* SHA-256 of the concatenated parts on this thread's digest context. */
static int s_sha256_parts(const struct cmek_view *parts, size_t n, uint8_t out[CMEK_SHA256_LEN])
{
    pthread_once(&s_fetch_once, s_fetch);
    struct s_thread_ctx *t = s_thread_ctx();
    if (t == NULL || s_sha256_md == NULL || EVP_DigestInit_ex2(t->md, s_sha256_md, NULL) != 1) {
        return CMEK_ERR_CRYPTO;
    }
    for (size_t i = 0; i < n; i++) {
        if (EVP_DigestUpdate(t->md, parts[i].ptr, parts[i].len) != 1) {
            return CMEK_ERR_CRYPTO;
        }
    }
    unsigned int out_len = 0;
    if (EVP_DigestFinal_ex(t->md, out, &out_len) != 1 || out_len != CMEK_SHA256_LEN) {
        return CMEK_ERR_CRYPTO;
    }
    return CMEK_OK;
}

int cmek_sha256(const void *data, size_t len, uint8_t out[CMEK_SHA256_LEN])
{
    struct cmek_view part = {data, len};
    return s_sha256_parts(&part, 1, out);
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
 * that setup was most of its cost. The construction is the standard one, on the thread's
 * digest context, and is checked against EVP_MAC's output by the unit tests (RFC 4231
 * vectors). */
int cmek_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                     uint8_t out[CMEK_SHA256_LEN])
{
    enum { S_BLOCK = 64 };
    uint8_t k0[S_BLOCK] = {0};
    uint8_t pad[S_BLOCK];
    uint8_t inner[CMEK_SHA256_LEN];
    int rc = CMEK_OK;
    if (key_len > S_BLOCK) {
        rc = cmek_sha256(key, key_len, k0);
    } else if (key_len > 0) {
        memcpy(k0, key, key_len);
    }
    for (size_t i = 0; i < S_BLOCK; i++) {
        pad[i] = (uint8_t)(k0[i] ^ 0x36);
    }
    struct cmek_view parts[2] = {{(const char *)pad, S_BLOCK}, {data, len}};
    rc = rc ? rc : s_sha256_parts(parts, 2, inner);
    for (size_t i = 0; i < S_BLOCK; i++) {
        pad[i] = (uint8_t)(k0[i] ^ 0x5c);
    }
    parts[1] = (struct cmek_view){(const char *)inner, sizeof(inner)};
    rc = rc ? rc : s_sha256_parts(parts, 2, out);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    return rc;
}

/* This thread's GCM context for key, set up for direction enc with nonce; NULL on failure. */
static EVP_CIPHER_CTX *s_gcm_ctx(const uint8_t key[CMEK_GCM_KEY_LEN],
                                 const uint8_t nonce[CMEK_GCM_NONCE_LEN], int enc,
                                 struct s_gcm_slot **slot_out)
{
    pthread_once(&s_fetch_once, s_fetch);
    struct s_thread_ctx *t = s_thread_ctx();
    if (t == NULL || s_aes256gcm_cipher == NULL) {
        return NULL;
    }
    struct s_gcm_slot *slot = NULL;
    for (size_t i = 0; i < S_GCM_SLOTS && slot == NULL; i++) {
        if (t->gcm[i].ctx != NULL && CRYPTO_memcmp(t->gcm[i].key, key, CMEK_GCM_KEY_LEN) == 0) {
            slot = &t->gcm[i];
        }
    }
    if (slot != NULL) {
        /* The key schedule stays; a new nonce starts a new message. */
        if (EVP_CipherInit_ex(slot->ctx, NULL, NULL, NULL, nonce, enc) != 1) {
            s_gcm_slot_drop(slot);
            return NULL;
        }
    } else {
        slot = &t->gcm[t->gcm_next];
        t->gcm_next = (t->gcm_next + 1) % S_GCM_SLOTS;
        s_gcm_slot_drop(slot);
        /* GCM's default nonce length is the 12 bytes used here. */
        slot->ctx = EVP_CIPHER_CTX_new();
        if (slot->ctx == NULL ||
            EVP_CipherInit_ex(slot->ctx, s_aes256gcm_cipher, NULL, key, nonce, enc) != 1) {
            s_gcm_slot_drop(slot);
            return NULL;
        }
        memcpy(slot->key, key, CMEK_GCM_KEY_LEN);
    }
    *slot_out = slot;
    return slot->ctx;
}

static bool s_gcm_aad(EVP_CIPHER_CTX *ctx, const struct cmek_view *aad, size_t n_aad)
{
    int n = 0;
    for (size_t i = 0; i < n_aad; i++) {
        if (aad[i].len > INT_MAX ||
            (aad[i].len > 0 && EVP_CipherUpdate(ctx, NULL, &n, (const unsigned char *)aad[i].ptr,
                                                (int)aad[i].len) != 1)) {
            return false;
        }
    }
    return true;
}

int cmek_gcm_seal(const uint8_t key[CMEK_GCM_KEY_LEN], const uint8_t nonce[CMEK_GCM_NONCE_LEN],
                  const struct cmek_view *aad, size_t n_aad, const void *in, size_t len, void *out,
                  uint8_t tag[CMEK_GCM_TAG_LEN])
{
    struct s_gcm_slot *slot = NULL;
    EVP_CIPHER_CTX *ctx = len <= INT_MAX ? s_gcm_ctx(key, nonce, 1, &slot) : NULL;
    int n = 0;
    int final_n = 0;
    if (ctx == NULL || !s_gcm_aad(ctx, aad, n_aad) ||
        EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1 || (size_t)n != len ||
        EVP_EncryptFinal_ex(ctx, (unsigned char *)out + len, &final_n) != 1 || final_n != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CMEK_GCM_TAG_LEN, tag) != 1) {
        if (slot != NULL) {
            s_gcm_slot_drop(slot);
        }
        ERR_clear_error();
        return CMEK_ERR_CRYPTO;
    }
    return CMEK_OK;
}

int cmek_gcm_open(const uint8_t key[CMEK_GCM_KEY_LEN], const uint8_t nonce[CMEK_GCM_NONCE_LEN],
                  const struct cmek_view *aad, size_t n_aad, const void *in, size_t len,
                  const uint8_t tag[CMEK_GCM_TAG_LEN], void *out)
{
    struct s_gcm_slot *slot = NULL;
    EVP_CIPHER_CTX *ctx = len <= INT_MAX ? s_gcm_ctx(key, nonce, 0, &slot) : NULL;
    int n = 0;
    int final_n = 0;
    uint8_t expected[CMEK_GCM_TAG_LEN];
    memcpy(expected, tag, sizeof(expected)); /* the ctrl takes a non-const pointer */
    if (ctx == NULL || !s_gcm_aad(ctx, aad, n_aad) ||
        EVP_DecryptUpdate(ctx, out, &n, in, (int)len) != 1 || (size_t)n != len ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CMEK_GCM_TAG_LEN, expected) != 1) {
        if (slot != NULL) {
            s_gcm_slot_drop(slot);
        }
        cmek_cleanse(out, len);
        ERR_clear_error();
        return CMEK_ERR_CRYPTO;
    }
    /* Final checks the tag; a mismatch is an ordinary outcome, the context stays usable. */
    if (EVP_DecryptFinal_ex(ctx, (unsigned char *)out + len, &final_n) != 1 || final_n != 0) {
        cmek_cleanse(out, len);
        ERR_clear_error();
        return CMEK_ERR_CRYPTO;
    }
    return CMEK_OK;
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

/* A word at a time (a session token is a few hundred bytes, compared on every request):
 * the XOR of every word is ORed together and looked at once, at the end, so the time
 * depends on the length only. */
bool cmek_consttime_eq(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len) {
        return false;
    }
    const unsigned char *x = a;
    const unsigned char *y = b;
    uint64_t diff = 0;
    size_t i = 0;
    for (; a_len - i >= 8; i += 8) {
        uint64_t wx, wy;
        memcpy(&wx, x + i, sizeof(wx));
        memcpy(&wy, y + i, sizeof(wy));
        diff |= wx ^ wy;
    }
    return CRYPTO_memcmp(x + i, y + i, a_len - i) == 0 && diff == 0;
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

/* The standard alphabet, by table: ciphertext blobs of a few hundred characters are checked
 * on every Decrypt. */
static const bool s_b64_alphabet[256] = {
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['+'] = 1, ['/'] = 1,
};

int cmek_base64_decode(const char *in, size_t len, struct cmek_buf *out)
{
    if (len % 4 != 0) {
        return CMEK_ERR_PARSE;
    }
    /* Up to two '=' at the very end, the alphabet everywhere before. */
    size_t pad = len > 0 && in[len - 1] == '=' ? (len > 1 && in[len - 2] == '=' ? 2 : 1) : 0;
    bool ok = true;
    for (size_t i = 0; i < len - pad; i++) {
        ok &= s_b64_alphabet[(unsigned char)in[i]];
    }
    if (!ok) {
        return CMEK_ERR_PARSE;
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
#define S_RANDOM_BLOCK_BYTES 4096
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
