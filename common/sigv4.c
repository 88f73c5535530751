/* sigv4.c: AWS Signature Version 4, the signer of the client library and the verifier of the
 * emulator in one file, so both canonicalize requests with the same code.
 *
 * Follows the AWS IAM User Guide, "Create a signed AWS API request" and "Elements of an AWS
 * API request signature", and matches every case of the aws-c-auth signing test suite
 * (fixtures/sigv4-test-suite/v4) in both header and query mode. Deliberate limits: no S3
 * rules (single path encoding, UNSIGNED-PAYLOAD, chunked signing) and no SigV4a, because the
 * emulated services (KMS, STS, IAM) use neither. */
#include "cmek/sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmek/crypto.h"
#include "cmek/timeutil.h"

#define S_ALGORITHM        "AWS4-HMAC-SHA256"
#define S_TERMINATOR       "aws4_request"
#define S_MAX_EXPIRES_S    604800u /* seven days, AWS's limit for presigned requests */
#define S_MAX_SECRET_BYTES 1024u   /* real secrets are 40 bytes; bounds the key buffer */
#define S_SCOPE_DATE_LEN   8
/* Starting sizes of the verifier's buffers: a botocore KMS request's canonical request is
 * about 400 bytes, its string to sign about 130. */
#define S_TYPICAL_CANONICAL_BYTES      1024u
#define S_TYPICAL_STRING_TO_SIGN_BYTES 256u

/* Canonical-query parameters left out of the signed text: the signature itself always
 * (query mode), and the session token when a presigner added it after signing. */
#define S_EXCLUDE_SIGNATURE 1u
#define S_EXCLUDE_TOKEN     2u

/* ---- Client-safe parse error texts, in AWS's words where AWS's text is known ----
 * AWS appends request-specific details to several of these (the offending value, or
 * "Authorization=<header>"); the texts here stop before them because *why is static. */

#define S_NEED_CREDENTIAL "Authorization header requires 'Credential' parameter."
#define S_NEED_SIGNATURE  "Authorization header requires 'Signature' parameter."
#define S_NEED_SIGNED     "Authorization header requires 'SignedHeaders' parameter."
#define S_NEED_DATE                                                                                \
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."

/* AWS reports every missing part at once, one sentence each, in this order. Indexed by a
 * mask: 1 Credential, 2 Signature, 4 SignedHeaders, 8 date. */
#define S_MISSING_CREDENTIAL 1u
#define S_MISSING_SIGNATURE  2u
#define S_MISSING_SIGNED     4u
#define S_MISSING_DATE       8u
static const char *const s_why_missing[16] = {
    [0] = "Authorization header is incomplete.",
    [1] = S_NEED_CREDENTIAL,
    [2] = S_NEED_SIGNATURE,
    [3] = S_NEED_CREDENTIAL " " S_NEED_SIGNATURE,
    [4] = S_NEED_SIGNED,
    [5] = S_NEED_CREDENTIAL " " S_NEED_SIGNED,
    [6] = S_NEED_SIGNATURE " " S_NEED_SIGNED,
    [7] = S_NEED_CREDENTIAL " " S_NEED_SIGNATURE " " S_NEED_SIGNED,
    [8] = S_NEED_DATE,
    [9] = S_NEED_CREDENTIAL " " S_NEED_DATE,
    [10] = S_NEED_SIGNATURE " " S_NEED_DATE,
    [11] = S_NEED_CREDENTIAL " " S_NEED_SIGNATURE " " S_NEED_DATE,
    [12] = S_NEED_SIGNED " " S_NEED_DATE,
    [13] = S_NEED_CREDENTIAL " " S_NEED_SIGNED " " S_NEED_DATE,
    [14] = S_NEED_SIGNATURE " " S_NEED_SIGNED " " S_NEED_DATE,
    [15] = S_NEED_CREDENTIAL " " S_NEED_SIGNATURE " " S_NEED_SIGNED " " S_NEED_DATE,
};

static const char s_why_two_mechanisms[] =
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
    "query string parameter or the Authorization header should be specified";
static const char s_why_two_headers[] = "Only one Authorization header is allowed.";
static const char s_why_mechanism[] =
    "The authorization mechanism you have provided is not supported. Please use "
    "AWS4-HMAC-SHA256.";
static const char s_why_pair[] =
    "Authorization header contains a component that is not a valid key=value pair (missing "
    "equal-sign).";
static const char s_why_duplicate_part[] =
    "Authorization header contains the same parameter more than once.";
static const char s_why_elements[] = "Credential must have exactly 5 slash-delimited elements, "
                                     "e.g. keyid/date/region/service/term.";
static const char s_why_scope_date[] =
    "Invalid credential date. Date is not the required format: yyyyMMdd.";
static const char s_why_region[] = "Credential should be scoped to a valid region.";
static const char s_why_service[] = "Credential should be scoped to a valid service.";
static const char s_why_terminator[] =
    "Credential should be scoped with a valid terminator: 'aws4_request'.";
static const char s_why_signed_headers[] =
    "SignedHeaders must be a ';'-separated list of header names.";
static const char s_why_date_format[] =
    "Date must be in ISO-8601 'basic format'. See http://en.wikipedia.org/wiki/ISO_8601";
static const char s_why_query_missing[] =
    "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "
    "'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. "
    "Re-examine the query-string parameters.";
static const char s_why_query_algorithm[] = "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"";
static const char s_why_query_duplicate[] =
    "An X-Amz-* query-string parameter appears more than once.";
static const char s_why_expires_number[] = "X-Amz-Expires should be a number";
static const char s_why_expires_negative[] = "X-Amz-Expires must be non-negative";
static const char s_why_expires_week[] =
    "X-Amz-Expires must be less than a week (in seconds) that is 604800";

/* Headers the signer never signs. The first four are the ones it writes itself; the rest
 * are rewritten by proxies or belong to one hop (aws-c-auth's and botocore's lists). */
static const char *const s_unsigned_headers[] = {
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "user-agent",
    "x-amzn-trace-id",
    "expect",
    "transfer-encoding",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-protocol",
    "sec-websocket-version",
};

/* ---- Small text helpers ---- */

static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static char s_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static struct cmek_view s_trim(struct cmek_view v)
{
    while (v.len > 0 && s_is_space(v.ptr[0])) {
        v.ptr++;
        v.len--;
    }
    while (v.len > 0 && s_is_space(v.ptr[v.len - 1])) {
        v.len--;
    }
    return v;
}

static bool s_eq_ignore_case(struct cmek_view a, struct cmek_view b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (s_lower(a.ptr[i]) != s_lower(b.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* Byte order of the lowercased names, shorter first on a common prefix. */
static int s_cmp_ignore_case(struct cmek_view a, struct cmek_view b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = (unsigned char)s_lower(a.ptr[i]);
        unsigned char cb = (unsigned char)s_lower(b.ptr[i]);
        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }
    return a.len < b.len ? -1 : (a.len > b.len ? 1 : 0);
}

static int s_cmp_bytes(struct cmek_view a, struct cmek_view b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n > 0 ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c != 0) {
        return c;
    }
    return a.len < b.len ? -1 : (a.len > b.len ? 1 : 0);
}

static bool s_all_digits(struct cmek_view v)
{
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9') {
            return false;
        }
    }
    return v.len > 0;
}

/* Region and service names are lowercase letters, digits and '-' (us-east-1, kms). */
static bool s_is_scope_name(struct cmek_view v)
{
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return false;
        }
    }
    return v.len > 0;
}

/* RFC 7230 tchar: what a header field name may contain. */
static bool s_is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

static bool s_is_unsigned_header(struct cmek_view name)
{
    for (size_t i = 0; i < sizeof(s_unsigned_headers) / sizeof(s_unsigned_headers[0]); i++) {
        if (s_eq_ignore_case(name, cmek_view_from_cstr(s_unsigned_headers[i]))) {
            return true;
        }
    }
    return false;
}

static int s_append_lower(struct cmek_buf *out, struct cmek_view v)
{
    size_t start = out->len;
    int rc = cmek_buf_append_view(out, v);
    for (size_t i = 0; i < v.len && rc == CMEK_OK; i++) {
        out->data[start + i] = s_lower(out->data[start + i]);
    }
    return rc;
}

/* How many leading bytes of p, in whole 8-byte words, hold no whitespace: every
 * whitespace byte is at most 0x20, and a word without such a byte is skipped at once. */
static size_t s_space_free_prefix(const char *p, size_t len)
{
    const uint64_t ones = 0x0101010101010101u;
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof(w));
        if (((w - ones * 0x21) & ~w & (ones * 0x80)) != 0) {
            break;
        }
    }
    return i;
}

/* SigV4's Trimall: no whitespace at either end, every inner run of whitespace (including
 * the CRLF and indentation of an obs-fold continuation) becomes one space. */
static int s_append_header_value(struct cmek_buf *out, struct cmek_view value)
{
    int rc = CMEK_OK;
    struct cmek_view v = s_trim(value);
    /* Copied in runs between whitespace, not byte by byte: values are mostly one run (a
     * session token is a run of about a thousand bytes). */
    size_t i = 0;
    while (i < v.len && rc == CMEK_OK) {
        size_t run = s_space_free_prefix(v.ptr + i, v.len - i) + i;
        while (run < v.len && !s_is_space(v.ptr[run])) {
            run++;
        }
        rc = cmek_buf_append(out, v.ptr + i, run - i);
        i = run;
        while (i < v.len && s_is_space(v.ptr[i])) {
            i++;
        }
        if (rc == CMEK_OK && i < v.len) {
            rc = cmek_buf_append_byte(out, ' '); /* s_trim left no whitespace at the end */
        }
    }
    return rc;
}

/* ---- URI encoding ---- */

static bool s_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int cmek_sigv4_uri_encode(struct cmek_view in, bool encode_slash, struct cmek_buf *out)
{
    static const char digits[] = "0123456789ABCDEF";
    int rc = CMEK_OK;
    if (out == NULL || (in.len > 0 && in.ptr == NULL)) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    for (size_t i = 0; i < in.len && rc == CMEK_OK; i++) {
        unsigned char c = (unsigned char)in.ptr[i];
        if (s_is_unreserved(c) || (c == '/' && !encode_slash)) {
            rc = cmek_buf_append_byte(out, (char)c);
        } else {
            char esc[3] = {'%', digits[c >> 4], digits[c & 0x0f]};
            rc = cmek_buf_append(out, esc, sizeof(esc));
        }
    }
done:
    return rc;
}

/* Percent-decoding of a query component. '+' stays '+': SigV4 clients encode a space as
 * %20, and aws-c-auth and curl sign a literal '+' as %2B. A '%' not followed by two hex
 * digits is kept as a literal '%' (it is re-encoded as %25). */
static int s_uri_decode(struct cmek_view in, struct cmek_buf *out)
{
    int rc = CMEK_OK;
    for (size_t i = 0; i < in.len && rc == CMEK_OK; i++) {
        char c = in.ptr[i];
        if (c == '%' && i + 2 < in.len) {
            int hi = cmek_hex_value(in.ptr[i + 1]);
            int lo = cmek_hex_value(in.ptr[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = (char)((hi << 4) | lo);
                i += 2;
            }
        }
        rc = cmek_buf_append_byte(out, c);
    }
    return rc;
}

/* ---- Canonical URI ---- */

/* Non-S3 services sign the path with dot segments removed and empty segments dropped (when
 * normalizing), then URI-encoded once more on top of the encoding it was sent with: the
 * "double encoding" of the SigV4 documentation. A path ending in '/', '.' or '..' keeps a
 * trailing slash, as RFC 3986 remove_dot_segments would. */
static int s_append_canonical_uri(struct cmek_buf *out, struct cmek_view path, bool normalize)
{
    int rc = CMEK_OK;
    struct cmek_view *segs = NULL;
    struct cmek_buf norm;
    cmek_buf_init(&norm, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    if (cmek_view_eq_cstr(path, "/")) {
        /* The path of every JSON and Query request: the same either way. */
        rc = cmek_buf_append_byte(out, '/');
        goto done;
    }
    if (!normalize) {
        rc = path.len == 0 ? cmek_buf_append_byte(out, '/')
                           : cmek_sigv4_uri_encode(path, false, out);
        goto done;
    }
    size_t n_slots = 1;
    for (size_t i = 0; i < path.len; i++) {
        n_slots += path.ptr[i] == '/' ? 1 : 0;
    }
    segs = calloc(n_slots, sizeof(*segs));
    if (segs == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    size_t n = 0;
    bool trailing_slash = false;
    size_t start = 0;
    for (size_t i = 0; i <= path.len; i++) {
        if (i < path.len && path.ptr[i] != '/') {
            continue;
        }
        struct cmek_view seg = {path.ptr + start, i - start};
        bool dot = cmek_view_eq_cstr(seg, ".");
        bool dotdot = cmek_view_eq_cstr(seg, "..");
        trailing_slash = seg.len == 0 || dot || dotdot;
        if (dotdot) {
            n -= n > 0 ? 1 : 0;
        } else if (seg.len > 0 && !dot) {
            segs[n++] = seg;
        }
        start = i + 1;
    }
    rc = cmek_buf_append_byte(&norm, '/');
    for (size_t k = 0; k < n && rc == CMEK_OK; k++) {
        if (k > 0) {
            rc = cmek_buf_append_byte(&norm, '/');
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_view(&norm, segs[k]);
        }
    }
    if (rc == CMEK_OK && n > 0 && trailing_slash) {
        rc = cmek_buf_append_byte(&norm, '/');
    }
    if (rc) {
        goto done;
    }
    struct cmek_view nv = {norm.data, norm.len};
    rc = cmek_sigv4_uri_encode(nv, false, out);
done:
    free(segs);
    cmek_buf_clean_up(&norm);
    return rc;
}

/* ---- Canonical query string ---- */

struct s_param {
    struct cmek_view key; /* encoded, set once the encoded buffer stops growing */
    struct cmek_view value;
    size_t key_off;
    size_t value_off;
};

/* A parameter the signer adds, given decoded. */
struct s_extra {
    const char *key;
    struct cmek_view value;
};

static int s_param_cmp(const void *a, const void *b)
{
    const struct s_param *pa = a;
    const struct s_param *pb = b;
    int c = s_cmp_bytes(pa->key, pb->key);
    return c != 0 ? c : s_cmp_bytes(pa->value, pb->value);
}

/* Splits the next "key[=value]" off *rest at '&'. */
static void s_next_pair(struct cmek_view *rest, struct cmek_view *key, struct cmek_view *value)
{
    const char *amp = rest->len > 0 ? memchr(rest->ptr, '&', rest->len) : NULL;
    size_t piece_len = amp != NULL ? (size_t)(amp - rest->ptr) : rest->len;
    struct cmek_view piece = {rest->ptr, piece_len};
    rest->ptr += piece_len < rest->len ? piece_len + 1 : piece_len;
    rest->len -= piece_len < rest->len ? piece_len + 1 : piece_len;
    const char *eq = piece.len > 0 ? memchr(piece.ptr, '=', piece.len) : NULL;
    if (eq == NULL) {
        *key = piece;
        value->ptr = piece.ptr + piece.len;
        value->len = 0;
    } else {
        key->ptr = piece.ptr;
        key->len = (size_t)(eq - piece.ptr);
        value->ptr = eq + 1;
        value->len = piece.len - key->len - 1;
    }
}

/* Each key and value decoded from the raw query, re-encoded per RFC 3986, sorted by key
 * then value, joined with '&'; "k=" for an empty value. */
static int s_append_canonical_query(struct cmek_buf *out, struct cmek_view raw,
                                    const struct s_extra *extras, size_t n_extras, unsigned exclude)
{
    int rc = CMEK_OK;
    struct s_param *params = NULL;
    struct cmek_buf scratch;
    struct cmek_buf encoded;
    cmek_buf_init(&scratch, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    cmek_buf_init(&encoded, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    if (raw.len > CMEK_SIGV4_MAX_CANONICAL_BYTES) {
        rc = CMEK_ERR_LIMIT;
        goto done;
    }
    if (raw.len == 0 && n_extras == 0) {
        goto done; /* no parameters: an empty line (every JSON request) */
    }
    size_t n_slots = n_extras + 1;
    for (size_t i = 0; i < raw.len; i++) {
        n_slots += raw.ptr[i] == '&' ? 1 : 0;
    }
    params = calloc(n_slots, sizeof(*params));
    if (params == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    size_t n = 0;
    struct cmek_view rest = raw;
    while (rest.len > 0 && rc == CMEK_OK) {
        struct cmek_view key;
        struct cmek_view value;
        s_next_pair(&rest, &key, &value);
        if (key.len == 0 && value.len == 0) {
            continue; /* "a=1&&b=2": an empty piece is no parameter */
        }
        cmek_buf_reset(&scratch);
        rc = s_uri_decode(key, &scratch);
        if (rc) {
            break;
        }
        struct cmek_view dkey = {cmek_buf_cstr(&scratch), scratch.len};
        if (((exclude & S_EXCLUDE_SIGNATURE) && cmek_view_eq_cstr(dkey, "X-Amz-Signature")) ||
            ((exclude & S_EXCLUDE_TOKEN) && cmek_view_eq_cstr(dkey, "X-Amz-Security-Token"))) {
            continue;
        }
        params[n].key_off = encoded.len;
        rc = cmek_sigv4_uri_encode(dkey, true, &encoded);
        params[n].key.len = encoded.len - params[n].key_off;
        cmek_buf_reset(&scratch);
        if (rc == CMEK_OK) {
            rc = s_uri_decode(value, &scratch);
        }
        if (rc == CMEK_OK) {
            struct cmek_view dvalue = {cmek_buf_cstr(&scratch), scratch.len};
            params[n].value_off = encoded.len;
            rc = cmek_sigv4_uri_encode(dvalue, true, &encoded);
            params[n].value.len = encoded.len - params[n].value_off;
        }
        n++;
    }
    for (size_t i = 0; i < n_extras && rc == CMEK_OK; i++) {
        params[n].key_off = encoded.len;
        rc = cmek_sigv4_uri_encode(cmek_view_from_cstr(extras[i].key), true, &encoded);
        params[n].key.len = encoded.len - params[n].key_off;
        params[n].value_off = encoded.len;
        if (rc == CMEK_OK) {
            rc = cmek_sigv4_uri_encode(extras[i].value, true, &encoded);
        }
        params[n].value.len = encoded.len - params[n].value_off;
        n++;
    }
    if (rc) {
        goto done;
    }
    const char *base = cmek_buf_cstr(&encoded);
    for (size_t i = 0; i < n; i++) {
        params[i].key.ptr = base + params[i].key_off;
        params[i].value.ptr = base + params[i].value_off;
    }
    qsort(params, n, sizeof(*params), s_param_cmp);
    for (size_t i = 0; i < n && rc == CMEK_OK; i++) {
        rc = i > 0 ? cmek_buf_append_byte(out, '&') : CMEK_OK;
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_view(out, params[i].key);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_byte(out, '=');
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_view(out, params[i].value);
        }
    }
done:
    free(params);
    cmek_buf_clean_up(&scratch);
    cmek_buf_clean_up(&encoded);
    return rc;
}

/* ---- Key derivation, string to sign, signature ---- */

int cmek_sigv4_signing_key(const char *secret_access_key, struct cmek_view date,
                           struct cmek_view region, struct cmek_view service, uint8_t out[32])
{
    int rc = CMEK_OK;
    char key[4 + S_MAX_SECRET_BYTES];
    uint8_t k_date[CMEK_SHA256_LEN];
    uint8_t k_region[CMEK_SHA256_LEN];
    uint8_t k_service[CMEK_SHA256_LEN];
    size_t secret_len = secret_access_key != NULL ? strlen(secret_access_key) : 0;
    if (secret_access_key == NULL || out == NULL || secret_len > S_MAX_SECRET_BYTES) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    memcpy(key, "AWS4", 4);
    memcpy(key + 4, secret_access_key, secret_len);
    rc = cmek_hmac_sha256(key, 4 + secret_len, date.ptr, date.len, k_date);
    if (rc == CMEK_OK) {
        rc = cmek_hmac_sha256(k_date, sizeof(k_date), region.ptr, region.len, k_region);
    }
    if (rc == CMEK_OK) {
        rc = cmek_hmac_sha256(k_region, sizeof(k_region), service.ptr, service.len, k_service);
    }
    if (rc == CMEK_OK) {
        rc = cmek_hmac_sha256(k_service, sizeof(k_service), S_TERMINATOR, sizeof(S_TERMINATOR) - 1,
                              out);
    }
done:
    cmek_cleanse(key, sizeof(key));
    cmek_cleanse(k_date, sizeof(k_date));
    cmek_cleanse(k_region, sizeof(k_region));
    cmek_cleanse(k_service, sizeof(k_service));
    return rc;
}

struct s_scope {
    struct cmek_view date; /* YYYYMMDD */
    struct cmek_view region;
    struct cmek_view service;
    struct cmek_view terminator;
};

static int s_append_scope(struct cmek_buf *out, const struct s_scope *scope)
{
    int rc = cmek_buf_append_view(out, scope->date);
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(out, '/');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_view(out, scope->region);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(out, '/');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_view(out, scope->service);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(out, '/');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_view(out, scope->terminator);
    }
    return rc;
}

static int s_string_to_sign(struct cmek_buf *out, struct cmek_view timestamp,
                            const struct s_scope *scope, const struct cmek_buf *canonical)
{
    char digest[CMEK_SHA256_HEX_LEN + 1];
    int rc = cmek_sha256_hex(cmek_buf_cstr(canonical), canonical->len, digest);
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_str(out, S_ALGORITHM "\n");
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_view(out, timestamp);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(out, '\n');
    }
    if (rc == CMEK_OK) {
        rc = s_append_scope(out, scope);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(out, '\n');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append(out, digest, CMEK_SHA256_HEX_LEN);
    }
    return rc;
}

void cmek_sigv4_key_cache_clean_up(struct cmek_sigv4_key_cache *cache)
{
    if (cache != NULL) {
        cmek_cleanse(cache, sizeof(*cache));
    }
}

/* The signing key for scope: from cache when it holds this scope, else derived (and stored
 * in cache when there is one). */
static int s_scoped_key(const char *secret, const struct s_scope *scope,
                        struct cmek_sigv4_key_cache *cache, uint8_t key[CMEK_SHA256_LEN])
{
    char name[sizeof(cache->scope)];
    size_t n = scope->date.len + 1 + scope->region.len + 1 + scope->service.len;
    bool cacheable = cache != NULL && n < sizeof(name);
    if (cacheable) {
        /* "date/region/service" */
        char *p = name;
        memcpy(p, scope->date.ptr, scope->date.len);
        p += scope->date.len;
        *p++ = '/';
        memcpy(p, scope->region.ptr, scope->region.len);
        p += scope->region.len;
        *p++ = '/';
        memcpy(p, scope->service.ptr, scope->service.len);
        name[n] = '\0';
    }
    if (cacheable && strcmp(cache->scope, name) == 0) {
        memcpy(key, cache->key, CMEK_SHA256_LEN);
        return CMEK_OK;
    }
    int rc = cmek_sigv4_signing_key(secret, scope->date, scope->region, scope->service, key);
    if (rc == CMEK_OK && cacheable) {
        memcpy(cache->key, key, CMEK_SHA256_LEN);
        memcpy(cache->scope, name, n + 1);
    }
    return rc;
}

static int s_signature(const char *secret, const struct s_scope *scope,
                       const struct cmek_buf *string_to_sign, struct cmek_sigv4_key_cache *cache,
                       char out[CMEK_SIGV4_SIGNATURE_HEX_LEN + 1])
{
    uint8_t key[CMEK_SHA256_LEN];
    uint8_t mac[CMEK_SHA256_LEN];
    int rc = s_scoped_key(secret, scope, cache, key);
    if (rc == CMEK_OK) {
        rc = cmek_hmac_sha256(key, sizeof(key), cmek_buf_cstr(string_to_sign), string_to_sign->len,
                              mac);
    }
    if (rc == CMEK_OK) {
        cmek_hex_encode(mac, sizeof(mac), out);
    }
    cmek_cleanse(key, sizeof(key));
    return rc;
}

/* ---- Signing ---- */

void cmek_sigv4_signed_init(struct cmek_sigv4_signed *out)
{
    cmek_buf_init(&out->canonical_request, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    cmek_buf_init(&out->string_to_sign, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    cmek_buf_init(&out->signed_headers, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    cmek_buf_init(&out->authorization, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    cmek_buf_init(&out->query, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    out->signature[0] = '\0';
    out->amz_date[0] = '\0';
    out->payload_hash[0] = '\0';
}

void cmek_sigv4_signed_clean_up(struct cmek_sigv4_signed *out)
{
    if (out == NULL) {
        return;
    }
    cmek_buf_clean_up(&out->canonical_request);
    cmek_buf_clean_up(&out->string_to_sign);
    cmek_buf_clean_up(&out->signed_headers);
    cmek_buf_clean_up(&out->authorization);
    cmek_buf_clean_up(&out->query);
}

struct s_sign_header {
    struct cmek_view name;
    struct cmek_view value;
    size_t order; /* keeps repeated headers in request order after sorting */
};

static int s_sign_header_cmp(const void *a, const void *b)
{
    const struct s_sign_header *ha = a;
    const struct s_sign_header *hb = b;
    int c = s_cmp_ignore_case(ha->name, hb->name);
    if (c != 0) {
        return c;
    }
    return ha->order < hb->order ? -1 : (ha->order > hb->order ? 1 : 0);
}

/* Canonical header lines and the SignedHeaders list from a sorted header array: one line per
 * name, repeated headers' values joined with ','. */
static int s_append_sorted_headers(struct cmek_buf *canonical, struct cmek_buf *signed_headers,
                                   const struct s_sign_header *hdrs, size_t n)
{
    int rc = CMEK_OK;
    for (size_t i = 0; i < n && rc == CMEK_OK; i++) {
        bool same = i > 0 && s_eq_ignore_case(hdrs[i].name, hdrs[i - 1].name);
        if (same) {
            rc = cmek_buf_append_byte(canonical, ',');
        } else {
            if (i > 0) {
                rc = cmek_buf_append_byte(canonical, '\n');
                if (rc == CMEK_OK) {
                    rc = cmek_buf_append_byte(signed_headers, ';');
                }
            }
            if (rc == CMEK_OK) {
                rc = s_append_lower(signed_headers, hdrs[i].name);
            }
            if (rc == CMEK_OK) {
                rc = s_append_lower(canonical, hdrs[i].name);
            }
            if (rc == CMEK_OK) {
                rc = cmek_buf_append_byte(canonical, ':');
            }
        }
        if (rc == CMEK_OK) {
            rc = s_append_header_value(canonical, hdrs[i].value);
        }
    }
    if (rc == CMEK_OK && n > 0) {
        rc = cmek_buf_append_byte(canonical, '\n');
    }
    return rc;
}

static bool s_nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int s_sign(const struct cmek_sigv4_request *req, const struct cmek_sigv4_sign_options *opt,
                  bool query_mode, struct cmek_sigv4_signed *out)
{
    int rc = CMEK_OK;
    struct s_sign_header *hdrs = NULL;
    struct cmek_buf credential;
    cmek_buf_init(&credential, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    if (req == NULL || opt == NULL || out == NULL || opt->credentials == NULL ||
        !s_nonempty(opt->credentials->access_key_id) ||
        opt->credentials->secret_access_key == NULL || !s_nonempty(opt->region) ||
        !s_nonempty(opt->service) || (req->n_headers > 0 && req->headers == NULL) ||
        (query_mode && opt->expires_s > S_MAX_EXPIRES_S)) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    cmek_buf_reset(&out->canonical_request);
    cmek_buf_reset(&out->string_to_sign);
    cmek_buf_reset(&out->signed_headers);
    cmek_buf_reset(&out->authorization);
    cmek_buf_reset(&out->query);
    out->signature[0] = '\0';

    const char *token = opt->credentials->session_token;
    bool sign_token = s_nonempty(token) && !opt->omit_session_token;
    cmek_time_format_amz(opt->when, out->amz_date);
    rc = cmek_sha256_hex(req->body.ptr, req->body.len, out->payload_hash);
    if (rc) {
        goto done;
    }
    struct cmek_view amz_date = {out->amz_date, CMEK_AMZ_DATE_LEN};
    struct s_scope scope = {
        .date = {out->amz_date, S_SCOPE_DATE_LEN},
        .region = cmek_view_from_cstr(opt->region),
        .service = cmek_view_from_cstr(opt->service),
        .terminator = cmek_view_from_cstr(S_TERMINATOR),
    };
    rc = cmek_buf_append_str(&credential, opt->credentials->access_key_id);
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(&credential, '/');
    }
    if (rc == CMEK_OK) {
        rc = s_append_scope(&credential, &scope);
    }
    if (rc) {
        goto done;
    }

    /* The headers to sign: the request's own, then what header mode adds. */
    hdrs = calloc(req->n_headers + 3, sizeof(*hdrs));
    if (hdrs == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    size_t n = 0;
    bool has_host = false;
    for (size_t i = 0; i < req->n_headers; i++) {
        has_host = has_host || cmek_view_eq_ignore_case(req->headers[i].name, "host");
        if (s_is_unsigned_header(req->headers[i].name)) {
            continue;
        }
        hdrs[n] = (struct s_sign_header){req->headers[i].name, req->headers[i].value, n};
        n++;
    }
    if (!has_host) {
        rc = CMEK_ERR_INVALID_ARG; /* SigV4 requires host to be signed */
        goto done;
    }
    if (!query_mode) {
        hdrs[n] = (struct s_sign_header){cmek_view_from_cstr("x-amz-date"), amz_date, n};
        n++;
        if (sign_token) {
            hdrs[n] = (struct s_sign_header){cmek_view_from_cstr("x-amz-security-token"),
                                             cmek_view_from_cstr(token), n};
            n++;
        }
        if (opt->sign_body) {
            hdrs[n] = (struct s_sign_header){cmek_view_from_cstr("x-amz-content-sha256"),
                                             cmek_view_from_cstr(out->payload_hash), n};
            n++;
        }
    }
    qsort(hdrs, n, sizeof(*hdrs), s_sign_header_cmp);

    struct cmek_buf headers_block;
    cmek_buf_init(&headers_block, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    rc = s_append_sorted_headers(&headers_block, &out->signed_headers, hdrs, n);

    char expires[16];
    snprintf(expires, sizeof(expires), "%u", (unsigned)opt->expires_s);
    struct s_extra extras[] = {
        {"X-Amz-Algorithm", cmek_view_from_cstr(S_ALGORITHM)},
        {"X-Amz-Credential", {credential.data, credential.len}},
        {"X-Amz-Date", amz_date},
        {"X-Amz-Expires", cmek_view_from_cstr(expires)},
        {"X-Amz-SignedHeaders", {out->signed_headers.data, out->signed_headers.len}},
        {"X-Amz-Security-Token", cmek_view_from_cstr(token)},
    };
    size_t n_extras = query_mode ? (sign_token ? 6 : 5) : 0;

    struct cmek_buf *cr = &out->canonical_request;
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_view(cr, req->method);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(cr, '\n');
    }
    if (rc == CMEK_OK) {
        rc = s_append_canonical_uri(cr, req->path, opt->normalize_path);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(cr, '\n');
    }
    if (rc == CMEK_OK) {
        rc = s_append_canonical_query(cr, req->query, extras, n_extras, 0);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(cr, '\n');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append(cr, cmek_buf_cstr(&headers_block), headers_block.len);
    }
    cmek_buf_clean_up(&headers_block);
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(cr, '\n');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append(cr, cmek_buf_cstr(&out->signed_headers), out->signed_headers.len);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(cr, '\n');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_str(cr, out->payload_hash);
    }
    if (rc == CMEK_OK) {
        rc = s_string_to_sign(&out->string_to_sign, amz_date, &scope, cr);
    }
    if (rc == CMEK_OK) {
        rc = s_signature(opt->credentials->secret_access_key, &scope, &out->string_to_sign, NULL,
                         out->signature);
    }
    if (rc) {
        goto done;
    }

    if (!query_mode) {
        rc = cmek_buf_appendf(
            &out->authorization, S_ALGORITHM " Credential=%s, SignedHeaders=%s, Signature=%s",
            cmek_buf_cstr(&credential), cmek_buf_cstr(&out->signed_headers), out->signature);
        goto done;
    }
    /* The parameter order on the wire follows aws-c-auth (the vectors' signed requests); the
     * signature covers them sorted. A token left out of the signature is still sent. */
    struct cmek_buf *q = &out->query;
    rc = cmek_buf_append_view(q, req->query);
    if (rc == CMEK_OK && req->query.len > 0) {
        rc = cmek_buf_append_byte(q, '&');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_str(q, "X-Amz-Algorithm=" S_ALGORITHM "&X-Amz-Credential=");
    }
    if (rc == CMEK_OK) {
        rc = cmek_sigv4_uri_encode(extras[1].value, true, q);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_appendf(q, "&X-Amz-Date=%s&X-Amz-SignedHeaders=", out->amz_date);
    }
    if (rc == CMEK_OK) {
        rc = cmek_sigv4_uri_encode(extras[4].value, true, q);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_appendf(q, "&X-Amz-Expires=%s", expires);
    }
    if (rc == CMEK_OK && s_nonempty(token)) {
        rc = cmek_buf_append_str(q, "&X-Amz-Security-Token=");
        if (rc == CMEK_OK) {
            rc = cmek_sigv4_uri_encode(extras[5].value, true, q);
        }
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_appendf(q, "&X-Amz-Signature=%s", out->signature);
    }
done:
    free(hdrs);
    cmek_buf_clean_up(&credential);
    return rc;
}

int cmek_sigv4_sign_headers(const struct cmek_sigv4_request *req,
                            const struct cmek_sigv4_sign_options *opt,
                            struct cmek_sigv4_signed *out)
{
    return s_sign(req, opt, false, out);
}

int cmek_sigv4_sign_to_headers(const struct cmek_sigv4_request *req,
                               const struct cmek_sigv4_sign_options *opt,
                               struct cmek_sigv4_signed *out,
                               struct cmek_http_header added[CMEK_SIGV4_MAX_ADDED_HEADERS],
                               size_t *n_added)
{
    int rc = CMEK_OK;
    size_t n = 0;
    if (added == NULL || n_added == NULL) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    rc = s_sign(req, opt, false, out);
    if (rc) {
        goto done;
    }
    added[n++] = (struct cmek_http_header){cmek_view_from_cstr("X-Amz-Date"),
                                           {out->amz_date, CMEK_AMZ_DATE_LEN}};
    /* Sent whenever there is a token: omit_session_token only keeps it out of the
     * signature (post-sts-header-after), the service still needs it. */
    if (s_nonempty(opt->credentials->session_token)) {
        added[n++] =
            (struct cmek_http_header){cmek_view_from_cstr("X-Amz-Security-Token"),
                                      cmek_view_from_cstr(opt->credentials->session_token)};
    }
    if (opt->sign_body) {
        added[n++] = (struct cmek_http_header){cmek_view_from_cstr("x-amz-content-sha256"),
                                               cmek_view_from_cstr(out->payload_hash)};
    }
    added[n++] =
        (struct cmek_http_header){cmek_view_from_cstr("Authorization"),
                                  {cmek_buf_cstr(&out->authorization), out->authorization.len}};
done:
    if (n_added != NULL) {
        *n_added = rc == CMEK_OK ? n : 0;
    }
    return rc;
}

int cmek_sigv4_sign_post(const struct cmek_sigv4_post *post, struct cmek_sigv4_signed *out,
                         struct cmek_http_header headers[CMEK_SIGV4_POST_MAX_HEADERS],
                         size_t *n_headers)
{
    if (post == NULL || headers == NULL || n_headers == NULL || post->host == NULL ||
        post->content_type == NULL) {
        if (n_headers != NULL) {
            *n_headers = 0;
        }
        return CMEK_ERR_INVALID_ARG;
    }
    size_t n = 0;
    headers[n++] = (struct cmek_http_header){cmek_view_from_cstr("Content-Type"),
                                             cmek_view_from_cstr(post->content_type)};
    headers[n++] =
        (struct cmek_http_header){cmek_view_from_cstr("Host"), cmek_view_from_cstr(post->host)};
    if (post->target != NULL) {
        headers[n++] = (struct cmek_http_header){cmek_view_from_cstr("X-Amz-Target"),
                                                 cmek_view_from_cstr(post->target)};
    }
    struct cmek_sigv4_request req = {
        .method = cmek_view_from_cstr("POST"),
        .path = cmek_view_from_cstr("/"),
        .query = cmek_view_from_cstr(""),
        .headers = headers,
        .n_headers = n,
        .body = cmek_view_from_cstr(post->body ? post->body : ""),
    };
    struct cmek_sigv4_sign_options opt = {
        .credentials = post->credentials,
        .region = post->region,
        .service = post->service,
        .when = post->when,
        .normalize_path = true,
    };
    size_t n_added = 0;
    int rc = cmek_sigv4_sign_to_headers(&req, &opt, out, headers + n, &n_added);
    *n_headers = rc == CMEK_OK ? n + n_added : 0;
    return rc;
}

int cmek_sigv4_sign_query(const struct cmek_sigv4_request *req,
                          const struct cmek_sigv4_sign_options *opt, struct cmek_sigv4_signed *out)
{
    return s_sign(req, opt, true, out);
}

/* ---- Parsing a received signature ---- */

void cmek_sigv4_auth_init(struct cmek_sigv4_auth *auth)
{
    memset(auth, 0, sizeof(*auth));
    auth->mode = CMEK_SIGV4_MODE_NONE;
    cmek_buf_init(&auth->decoded, CMEK_SIGV4_MAX_CANONICAL_BYTES);
}

void cmek_sigv4_auth_clean_up(struct cmek_sigv4_auth *auth)
{
    if (auth == NULL) {
        return;
    }
    cmek_buf_clean_up(&auth->decoded);
}

/* The first header named name (a lowercase string literal: "" name refuses anything
 * else), and how many there are. Lengths are compared first: most names differ in length,
 * and many share the "x-amz-" prefix. */
#define s_find_header(req, name, first)                                                            \
    s_find_header_n((req), (struct cmek_view){"" name, sizeof("" name) - 1}, (first))

static size_t s_find_header_n(const struct cmek_sigv4_request *req, struct cmek_view name,
                              struct cmek_view *first)
{
    size_t count = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (req->headers[i].name.len == name.len && s_eq_ignore_case(req->headers[i].name, name)) {
            if (count == 0 && first != NULL) {
                *first = req->headers[i].value;
            }
            count++;
        }
    }
    return count;
}

/* RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", the only Date format HTTP/1.1
 * senders may generate. */
static int s_parse_http_date(struct cmek_view v, time_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static const char days[] = "MonTueWedThuFriSatSun";
    int rc = CMEK_ERR_PARSE;
    if (v.len != 29 || v.ptr[3] != ',' || v.ptr[4] != ' ' || v.ptr[7] != ' ' || v.ptr[11] != ' ' ||
        v.ptr[16] != ' ' || memcmp(v.ptr + 25, " GMT", 4) != 0) {
        goto done;
    }
    bool day_ok = false;
    for (size_t d = 0; d < 7; d++) {
        day_ok = day_ok || memcmp(v.ptr, days + 3 * d, 3) == 0;
    }
    int month = 0;
    for (int m = 0; m < 12; m++) {
        if (memcmp(v.ptr + 8, months + 3 * m, 3) == 0) {
            month = m + 1;
        }
    }
    if (!day_ok || month == 0) {
        goto done;
    }
    /* Rewritten as RFC 3339 so one parser validates the numbers. */
    char iso[CMEK_ISO8601_LEN + 1];
    memcpy(iso, v.ptr + 12, 4);
    iso[4] = '-';
    iso[5] = (char)('0' + month / 10);
    iso[6] = (char)('0' + month % 10);
    iso[7] = '-';
    memcpy(iso + 8, v.ptr + 5, 2);
    iso[10] = 'T';
    memcpy(iso + 11, v.ptr + 17, 8);
    iso[19] = 'Z';
    iso[20] = '\0';
    rc = cmek_time_parse_rfc3339(iso, CMEK_ISO8601_LEN, out);
done:
    return rc;
}

/* "AKID/YYYYMMDD/region/service/aws4_request" */
static int s_parse_credential(struct cmek_view cred, struct cmek_sigv4_auth *auth, const char **why)
{
    int rc = CMEK_ERR_PARSE;
    struct cmek_view parts[5];
    size_t n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= cred.len; i++) {
        if (i < cred.len && cred.ptr[i] != '/') {
            continue;
        }
        if (n == 5) {
            n = 6; /* too many elements */
            break;
        }
        parts[n++] = (struct cmek_view){cred.ptr + start, i - start};
        start = i + 1;
    }
    if (n != 5 || parts[0].len == 0) {
        *why = s_why_elements;
        goto done;
    }
    if (parts[1].len != S_SCOPE_DATE_LEN || !s_all_digits(parts[1])) {
        *why = s_why_scope_date;
        goto done;
    }
    if (!s_is_scope_name(parts[2])) {
        *why = s_why_region;
        goto done;
    }
    if (!s_is_scope_name(parts[3])) {
        *why = s_why_service;
        goto done;
    }
    if (!cmek_view_eq_cstr(parts[4], S_TERMINATOR)) {
        *why = s_why_terminator;
        goto done;
    }
    auth->access_key_id = parts[0];
    auth->scope_date = parts[1];
    auth->region = parts[2];
    auth->service = parts[3];
    auth->terminator = parts[4];
    rc = CMEK_OK;
done:
    return rc;
}

static int s_check_signed_headers(struct cmek_view list, const char **why)
{
    int rc = CMEK_OK;
    size_t name_len = 0;
    for (size_t i = 0; i <= list.len; i++) {
        if (i == list.len || list.ptr[i] == ';') {
            if (name_len == 0) {
                rc = CMEK_ERR_PARSE;
                break;
            }
            name_len = 0;
        } else if (s_is_tchar(list.ptr[i])) {
            name_len++;
        } else {
            rc = CMEK_ERR_PARSE;
            break;
        }
    }
    if (rc) {
        *why = s_why_signed_headers;
    }
    return rc;
}

/* X-Amz-Date, or else the Date header (ISO 8601 basic or IMF-fixdate). Repeated date
 * headers reach AWS joined with ',', which is no valid date, so they fail the same way. */
static int s_parse_header_date(const struct cmek_sigv4_request *req, struct cmek_sigv4_auth *auth,
                               const char **why)
{
    int rc = CMEK_ERR_PARSE;
    struct cmek_view value = {NULL, 0};
    size_t n_amz = s_find_header(req, "x-amz-date", &value);
    size_t n_date = n_amz == 0 ? s_find_header(req, "date", &value) : 0;
    value = s_trim(value);
    if (n_amz + n_date != 1) {
        goto done;
    }
    if (cmek_time_parse_amz(value.ptr, value.len, &auth->request_time) == CMEK_OK ||
        (n_date == 1 && s_parse_http_date(value, &auth->request_time) == CMEK_OK)) {
        auth->amz_date = value;
        rc = CMEK_OK;
    }
done:
    if (rc) {
        *why = s_why_date_format;
    }
    return rc;
}

static bool s_has_date_header(const struct cmek_sigv4_request *req)
{
    return s_find_header(req, "x-amz-date", NULL) + s_find_header(req, "date", NULL) > 0;
}

static int s_parse_header_mode(const struct cmek_sigv4_request *req, struct cmek_view header,
                               struct cmek_sigv4_auth *auth, const char **why)
{
    int rc = CMEK_ERR_PARSE;
    struct cmek_view v = s_trim(header);
    size_t alg_len = 0;
    while (alg_len < v.len && v.ptr[alg_len] != ' ' && v.ptr[alg_len] != '\t') {
        alg_len++;
    }
    struct cmek_view alg = {v.ptr, alg_len};
    unsigned missing = s_has_date_header(req) ? 0 : S_MISSING_DATE;
    if (!cmek_view_eq_cstr(alg, S_ALGORITHM)) {
        /* Another SigV4 variant is refused by name; any other scheme (Bearer, Basic) gets
         * the list of everything missing, as AWS answers. */
        if (cmek_view_starts_with(alg, "AWS4-")) {
            *why = s_why_mechanism;
        } else {
            *why = s_why_missing[missing | S_MISSING_CREDENTIAL | S_MISSING_SIGNATURE |
                                 S_MISSING_SIGNED];
        }
        goto done;
    }
    struct cmek_view cred = {NULL, 0};
    struct cmek_view signed_headers = {NULL, 0};
    struct cmek_view signature = {NULL, 0};
    bool seen_cred = false;
    bool seen_signed = false;
    bool seen_sig = false;
    size_t i = alg_len;
    /* Components are separated by ',' and whitespace in any mix. */
    while (i < v.len) {
        if (v.ptr[i] == ',' || v.ptr[i] == ' ' || v.ptr[i] == '\t') {
            i++;
            continue;
        }
        size_t start = i;
        while (i < v.len && v.ptr[i] != ',' && v.ptr[i] != ' ' && v.ptr[i] != '\t') {
            i++;
        }
        struct cmek_view part = {v.ptr + start, i - start};
        const char *eq = memchr(part.ptr, '=', part.len);
        if (eq == NULL) {
            *why = s_why_pair;
            goto done;
        }
        struct cmek_view key = {part.ptr, (size_t)(eq - part.ptr)};
        struct cmek_view value = {eq + 1, part.len - key.len - 1};
        bool dup = false;
        if (cmek_view_eq_cstr(key, "Credential")) {
            dup = seen_cred;
            seen_cred = true;
            cred = value;
        } else if (cmek_view_eq_cstr(key, "SignedHeaders")) {
            dup = seen_signed;
            seen_signed = true;
            signed_headers = value;
        } else if (cmek_view_eq_cstr(key, "Signature")) {
            dup = seen_sig;
            seen_sig = true;
            signature = value;
        }
        if (dup) {
            *why = s_why_duplicate_part;
            goto done;
        }
    }
    missing |= cred.len == 0 ? S_MISSING_CREDENTIAL : 0;
    missing |= signature.len == 0 ? S_MISSING_SIGNATURE : 0;
    missing |= signed_headers.len == 0 ? S_MISSING_SIGNED : 0;
    if (missing != 0) {
        *why = s_why_missing[missing];
        goto done;
    }
    rc = s_parse_credential(cred, auth, why);
    if (rc == CMEK_OK) {
        rc = s_check_signed_headers(signed_headers, why);
    }
    if (rc == CMEK_OK) {
        rc = s_parse_header_date(req, auth, why);
    }
    if (rc) {
        goto done;
    }
    auth->mode = CMEK_SIGV4_MODE_HEADER;
    auth->algorithm = alg;
    auth->signed_headers = signed_headers;
    auth->signature = signature;
    struct cmek_view token = {NULL, 0};
    if (s_find_header(req, "x-amz-security-token", &token) > 0) {
        auth->session_token = s_trim(token);
    }
done:
    return rc;
}

enum s_qp {
    S_QP_ALGORITHM,
    S_QP_CREDENTIAL,
    S_QP_DATE,
    S_QP_EXPIRES,
    S_QP_SIGNED_HEADERS,
    S_QP_SIGNATURE,
    S_QP_TOKEN,
    S_QP_COUNT
};

static const char *const s_qp_names[S_QP_COUNT] = {
    [S_QP_ALGORITHM] = "X-Amz-Algorithm",
    [S_QP_CREDENTIAL] = "X-Amz-Credential",
    [S_QP_DATE] = "X-Amz-Date",
    [S_QP_EXPIRES] = "X-Amz-Expires",
    [S_QP_SIGNED_HEADERS] = "X-Amz-SignedHeaders",
    [S_QP_SIGNATURE] = "X-Amz-Signature",
    [S_QP_TOKEN] = "X-Amz-Security-Token",
};

/* Whether the query carries a presigned-request parameter that selects query mode. */
static bool s_query_has_auth(struct cmek_view query)
{
    bool found = false;
    struct cmek_view rest = query;
    while (rest.len > 0 && !found) {
        struct cmek_view key;
        struct cmek_view value;
        s_next_pair(&rest, &key, &value);
        found = cmek_view_eq_cstr(key, s_qp_names[S_QP_ALGORITHM]) ||
                cmek_view_eq_cstr(key, s_qp_names[S_QP_CREDENTIAL]) ||
                cmek_view_eq_cstr(key, s_qp_names[S_QP_SIGNATURE]);
    }
    return found;
}

static bool s_query_has_param(struct cmek_view query, const char *name)
{
    bool found = false;
    struct cmek_view rest = query;
    while (rest.len > 0 && !found) {
        struct cmek_view key;
        struct cmek_view value;
        s_next_pair(&rest, &key, &value);
        found = cmek_view_eq_cstr(key, name);
    }
    return found;
}

static int s_parse_expires(struct cmek_view v, uint32_t *out, const char **why)
{
    int rc = CMEK_ERR_PARSE;
    struct cmek_view digits = v;
    bool negative = digits.len > 0 && digits.ptr[0] == '-';
    if (negative) {
        digits.ptr++;
        digits.len--;
    }
    if (!s_all_digits(digits)) {
        *why = s_why_expires_number;
        goto done;
    }
    if (negative) {
        *why = s_why_expires_negative;
        goto done;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < digits.len && n <= S_MAX_EXPIRES_S; i++) {
        n = n * 10 + (uint64_t)(digits.ptr[i] - '0');
    }
    if (n > S_MAX_EXPIRES_S) {
        *why = s_why_expires_week;
        goto done;
    }
    *out = (uint32_t)n;
    rc = CMEK_OK;
done:
    return rc;
}

static int s_parse_query_mode(const struct cmek_sigv4_request *req, struct cmek_sigv4_auth *auth,
                              const char **why)
{
    int rc = CMEK_OK;
    bool seen[S_QP_COUNT] = {false};
    size_t off[S_QP_COUNT] = {0};
    size_t len[S_QP_COUNT] = {0};
    struct cmek_view rest = req->query;
    /* Values are decoded into auth->decoded first and viewed only once it stops growing. */
    while (rest.len > 0 && rc == CMEK_OK) {
        struct cmek_view key;
        struct cmek_view value;
        s_next_pair(&rest, &key, &value);
        for (size_t p = 0; p < S_QP_COUNT && rc == CMEK_OK; p++) {
            if (!cmek_view_eq_cstr(key, s_qp_names[p])) {
                continue;
            }
            if (seen[p]) {
                *why = s_why_query_duplicate;
                rc = CMEK_ERR_PARSE;
                break;
            }
            seen[p] = true;
            off[p] = auth->decoded.len;
            rc = s_uri_decode(value, &auth->decoded);
            len[p] = auth->decoded.len - off[p];
        }
    }
    if (rc) {
        goto done;
    }
    struct cmek_view v[S_QP_COUNT];
    const char *base = cmek_buf_cstr(&auth->decoded);
    for (size_t p = 0; p < S_QP_COUNT; p++) {
        v[p] = (struct cmek_view){base + off[p], len[p]};
    }
    if (!seen[S_QP_ALGORITHM] || !seen[S_QP_CREDENTIAL] || !seen[S_QP_SIGNATURE] ||
        !seen[S_QP_DATE] || !seen[S_QP_SIGNED_HEADERS] || !seen[S_QP_EXPIRES]) {
        *why = s_why_query_missing;
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    if (!cmek_view_eq_cstr(v[S_QP_ALGORITHM], S_ALGORITHM)) {
        *why = s_why_query_algorithm;
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    rc = s_parse_credential(v[S_QP_CREDENTIAL], auth, why);
    if (rc == CMEK_OK) {
        rc = s_check_signed_headers(v[S_QP_SIGNED_HEADERS], why);
    }
    if (rc == CMEK_OK &&
        cmek_time_parse_amz(v[S_QP_DATE].ptr, v[S_QP_DATE].len, &auth->request_time) != 0) {
        *why = s_why_date_format;
        rc = CMEK_ERR_PARSE;
    }
    if (rc == CMEK_OK) {
        rc = s_parse_expires(v[S_QP_EXPIRES], &auth->expires_s, why);
    }
    if (rc) {
        goto done;
    }
    auth->mode = CMEK_SIGV4_MODE_QUERY;
    auth->algorithm = v[S_QP_ALGORITHM];
    auth->amz_date = v[S_QP_DATE];
    auth->signed_headers = v[S_QP_SIGNED_HEADERS];
    auth->signature = v[S_QP_SIGNATURE];
    if (seen[S_QP_TOKEN]) {
        auth->session_token = v[S_QP_TOKEN];
    } else {
        struct cmek_view token = {NULL, 0};
        if (s_find_header(req, "x-amz-security-token", &token) > 0) {
            auth->session_token = s_trim(token);
        }
    }
done:
    return rc;
}

int cmek_sigv4_parse(const struct cmek_sigv4_request *req, struct cmek_sigv4_auth *auth,
                     const char **why)
{
    int rc = CMEK_OK;
    const char *ignored = NULL;
    if (why == NULL) {
        why = &ignored;
    }
    *why = NULL;
    if (req == NULL || auth == NULL || (req->n_headers > 0 && req->headers == NULL)) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    /* Forget a previous parse but keep the decoded buffer (and its cap). */
    struct cmek_buf decoded = auth->decoded;
    memset(auth, 0, sizeof(*auth));
    auth->decoded = decoded;
    cmek_buf_reset(&auth->decoded);
    auth->mode = CMEK_SIGV4_MODE_NONE;

    struct cmek_view header = {NULL, 0};
    size_t n_auth = s_find_header(req, "authorization", &header);
    bool in_query = s_query_has_auth(req->query);
    if (n_auth > 1) {
        *why = s_why_two_headers;
        rc = CMEK_ERR_PARSE;
    } else if (n_auth == 1 && in_query) {
        *why = s_why_two_mechanisms;
        rc = CMEK_ERR_PARSE;
    } else if (n_auth == 1) {
        rc = s_parse_header_mode(req, header, auth, why);
    } else if (in_query) {
        rc = s_parse_query_mode(req, auth, why);
    }
done:
    if (rc && auth != NULL) {
        auth->mode = CMEK_SIGV4_MODE_NONE;
    }
    return rc;
}

bool cmek_sigv4_scope_date_matches(const struct cmek_sigv4_auth *auth)
{
    char when[CMEK_AMZ_DATE_LEN + 1];
    if (auth == NULL || auth->mode == CMEK_SIGV4_MODE_NONE ||
        auth->scope_date.len != S_SCOPE_DATE_LEN) {
        return false;
    }
    cmek_time_format_amz(auth->request_time, when);
    return memcmp(when, auth->scope_date.ptr, S_SCOPE_DATE_LEN) == 0;
}

/* ---- Verifying ---- */

/* One canonical line per name in the client's SignedHeaders list, from the values as
 * received. *present turns false when a listed header is not in the request. */
static int s_append_listed_headers(struct cmek_buf *out, const struct cmek_sigv4_request *req,
                                   struct cmek_view list, bool *present)
{
    int rc = CMEK_OK;
    size_t start = 0;
    for (size_t i = 0; i <= list.len && rc == CMEK_OK; i++) {
        if (i < list.len && list.ptr[i] != ';') {
            continue;
        }
        struct cmek_view name = {list.ptr + start, i - start};
        start = i + 1;
        rc = cmek_buf_append_view(out, name);
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_byte(out, ':');
        }
        bool found = false;
        for (size_t h = 0; h < req->n_headers && rc == CMEK_OK; h++) {
            if (!s_eq_ignore_case(req->headers[h].name, name)) {
                continue;
            }
            rc = found ? cmek_buf_append_byte(out, ',') : CMEK_OK;
            if (rc == CMEK_OK) {
                rc = s_append_header_value(out, req->headers[h].value);
            }
            found = true;
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_byte(out, '\n');
        }
        *present = *present && found;
    }
    return rc;
}

static int s_verify_once(const struct cmek_sigv4_request *req, const struct cmek_sigv4_auth *auth,
                         const char *secret, struct cmek_sigv4_key_cache *cache,
                         bool normalize_path, unsigned exclude, bool *match,
                         struct cmek_buf *canonical)
{
    int rc = CMEK_OK;
    struct cmek_buf sts;
    cmek_buf_init(&sts, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    char body_hash[CMEK_SHA256_HEX_LEN + 1];
    char signature[CMEK_SIGV4_SIGNATURE_HEX_LEN + 1];
    bool present = true;
    *match = false;
    cmek_buf_reset(canonical);
    /* Room for a typical canonical request and string to sign at once (they grow past it
     * if they must): a doubling from 64 bytes was one realloc per few appends. */
    rc = cmek_buf_reserve(canonical, S_TYPICAL_CANONICAL_BYTES);
    rc = rc ? rc : cmek_buf_reserve(&sts, S_TYPICAL_STRING_TO_SIGN_BYTES);
    rc = rc ? rc : cmek_sha256_hex(req->body.ptr, req->body.len, body_hash);
    if (rc) {
        goto done;
    }
    /* A client may state the payload hash; it is signed, but only proves the body when it
     * is the body's hash. The services here have no unsigned or streaming payloads. */
    struct cmek_view payload = {body_hash, CMEK_SHA256_HEX_LEN};
    bool payload_ok = true;
    struct cmek_view stated = {NULL, 0};
    if (s_find_header(req, "x-amz-content-sha256", &stated) > 0) {
        payload = s_trim(stated);
        payload_ok = s_eq_ignore_case(payload, (struct cmek_view){body_hash, CMEK_SHA256_HEX_LEN});
    }

    rc = cmek_buf_append_view(canonical, req->method);
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(canonical, '\n');
    }
    if (rc == CMEK_OK) {
        rc = s_append_canonical_uri(canonical, req->path, normalize_path);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(canonical, '\n');
    }
    if (rc == CMEK_OK) {
        rc = s_append_canonical_query(canonical, req->query, NULL, 0, exclude);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(canonical, '\n');
    }
    if (rc == CMEK_OK) {
        rc = s_append_listed_headers(canonical, req, auth->signed_headers, &present);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(canonical, '\n');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_view(canonical, auth->signed_headers);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(canonical, '\n');
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_view(canonical, payload);
    }
    struct s_scope scope = {auth->scope_date, auth->region, auth->service, auth->terminator};
    if (rc == CMEK_OK) {
        rc = s_string_to_sign(&sts, auth->amz_date, &scope, canonical);
    }
    if (rc == CMEK_OK) {
        rc = s_signature(secret, &scope, &sts, cache, signature);
    }
    if (rc) {
        goto done;
    }
    bool sig_ok = cmek_consttime_eq(signature, CMEK_SIGV4_SIGNATURE_HEX_LEN, auth->signature.ptr,
                                    auth->signature.len);
    *match = sig_ok && present && payload_ok;
done:
    cmek_buf_clean_up(&sts);
    return rc;
}

int cmek_sigv4_verify(const struct cmek_sigv4_request *req, const struct cmek_sigv4_auth *auth,
                      const char *secret_access_key, bool normalize_path, bool *match,
                      struct cmek_buf *canonical_out)
{
    return cmek_sigv4_verify_cached(req, auth, secret_access_key, NULL, normalize_path, match,
                                    canonical_out);
}

int cmek_sigv4_verify_cached(const struct cmek_sigv4_request *req,
                             const struct cmek_sigv4_auth *auth, const char *secret_access_key,
                             struct cmek_sigv4_key_cache *cache, bool normalize_path, bool *match,
                             struct cmek_buf *canonical_out)
{
    int rc = CMEK_OK;
    struct cmek_buf canonical;
    struct cmek_buf retry;
    cmek_buf_init(&canonical, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    cmek_buf_init(&retry, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    if (match != NULL) {
        *match = false;
    }
    if (req == NULL || auth == NULL || secret_access_key == NULL || match == NULL ||
        auth->mode == CMEK_SIGV4_MODE_NONE || (req->n_headers > 0 && req->headers == NULL)) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    unsigned exclude = auth->mode == CMEK_SIGV4_MODE_QUERY ? S_EXCLUDE_SIGNATURE : 0;
    rc = s_verify_once(req, auth, secret_access_key, cache, normalize_path, exclude, match,
                       &canonical);
    if (rc) {
        goto done;
    }
    struct cmek_buf *used = &canonical;
    /* A presigner may add X-Amz-Security-Token after signing (aws-c-auth's
     * omit_session_token, vector post-sts-header-after). There is no SignedHeaders for query
     * parameters, so try the signature without the token too. The token is still checked
     * against the access key by the caller, so accepting it unsigned gives nothing away. */
    if (!*match && auth->mode == CMEK_SIGV4_MODE_QUERY &&
        s_query_has_param(req->query, s_qp_names[S_QP_TOKEN])) {
        rc = s_verify_once(req, auth, secret_access_key, cache, normalize_path,
                           exclude | S_EXCLUDE_TOKEN, match, &retry);
        if (rc) {
            goto done;
        }
        used = *match ? &retry : &canonical;
    }
    /* AWS rejects a scope whose date is not the request's: "Date in Credential scope does
     * not match YYYYMMDD from ISO-8601 version of date from HTTP". */
    *match = *match && cmek_sigv4_scope_date_matches(auth);
    if (canonical_out != NULL) {
        cmek_buf_reset(canonical_out);
        rc = cmek_buf_append(canonical_out, cmek_buf_cstr(used), used->len);
    }
done:
    if (rc && match != NULL) {
        *match = false;
    }
    cmek_buf_clean_up(&canonical);
    cmek_buf_clean_up(&retry);
    return rc;
}
