/* test_sigv4.c: SigV4 signing and verifying against the aws-c-auth signing test suite
 * (fixtures/sigv4-test-suite/v4, every case, header and query mode, both directions),
 * against requests the AWS CLI really sent, and one test per parse or verify failure. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmek/crypto.h"
#include "cmek/sigv4.h"
#include "cmek/timeutil.h"
#include "test_common.h"

TestSuite(sigv4, .fini = cmek_test_fini);

#define S_MAX_HEADERS       32
#define S_FIXTURE_MAX_BYTES (64u * 1024u)
#define S_VECTOR_SECRET     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S_DUMMY_SIGNATURE   "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- A tiny reader for HTTP/1.1 request texts (fixtures and captures) ---- */

struct s_http {
    char *text; /* owned copy; every view below points into it */
    size_t len;
    struct cmek_view request_line;
    struct cmek_view header_block; /* the header lines exactly as written */
    struct cmek_http_header headers[S_MAX_HEADERS];
    struct cmek_sigv4_request req;
};

static void s_http_clean_up(struct s_http *h)
{
    free(h->text);
    h->text = NULL;
}

/* Request line "METHOD target HTTP/1.1" (the target may hold spaces, as in get-space),
 * header lines with obs-fold continuations kept inside the value as sent, a blank line,
 * then the body. Returns 0 or -1. */
static int s_http_parse(struct s_http *h, const char *text, size_t len)
{
    int rc = -1;
    memset(h, 0, sizeof(*h));
    h->text = malloc(len + 1);
    if (h->text == NULL) {
        goto done;
    }
    memcpy(h->text, text, len);
    h->text[len] = '\0';
    h->len = len;
    const char *p = h->text;
    const char *end = p + len;
    const char *eol = memchr(p, '\n', len);
    if (eol == NULL) {
        goto done;
    }
    h->request_line = (struct cmek_view){p, (size_t)(eol - p)};
    const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
    const char *sp2 = eol;
    while (sp2 > p && sp2[-1] != ' ') {
        sp2--;
    }
    sp2--; /* the space before "HTTP/1.1" */
    if (sp1 == NULL || sp2 <= sp1) {
        goto done;
    }
    h->req.method = (struct cmek_view){p, (size_t)(sp1 - p)};
    const char *target = sp1 + 1;
    const char *qmark = memchr(target, '?', (size_t)(sp2 - target));
    if (qmark != NULL) {
        h->req.path = (struct cmek_view){target, (size_t)(qmark - target)};
        h->req.query = (struct cmek_view){qmark + 1, (size_t)(sp2 - qmark - 1)};
    } else {
        h->req.path = (struct cmek_view){target, (size_t)(sp2 - target)};
        h->req.query = (struct cmek_view){sp2, 0};
    }
    const char *line = eol + 1;
    h->header_block = (struct cmek_view){line, 0};
    h->req.body = (struct cmek_view){end, 0};
    size_t n = 0;
    while (line < end) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *line_end = nl != NULL ? nl : end;
        const char *next = nl != NULL ? nl + 1 : end;
        if (line_end == line) {
            h->req.body = (struct cmek_view){next, (size_t)(end - next)};
            break;
        }
        if (line[0] == ' ' || line[0] == '\t') {
            if (n == 0) {
                goto done;
            }
            struct cmek_view *value = &h->headers[n - 1].value;
            value->len = (size_t)(line_end - value->ptr);
        } else {
            const char *colon = memchr(line, ':', (size_t)(line_end - line));
            if (colon == NULL || n == S_MAX_HEADERS) {
                goto done;
            }
            h->headers[n].name = (struct cmek_view){line, (size_t)(colon - line)};
            h->headers[n].value = (struct cmek_view){colon + 1, (size_t)(line_end - colon - 1)};
            n++;
        }
        line = next;
        h->header_block.len = (size_t)(line - h->header_block.ptr);
    }
    h->req.headers = h->headers;
    h->req.n_headers = n;
    rc = 0;
done:
    return rc;
}

/* A writable pointer to the bytes of a view into h->text. */
static char *s_at(struct s_http *h, const char *ptr)
{
    return h->text + (ptr - h->text);
}

/* ---- Fixtures ---- */

static void s_read_file(const char *path, struct cmek_buf *out)
{
    cr_assert_eq(cmek_buf_append_file(out, path), CMEK_OK, "cannot read %s", path);
}

static void s_read_fixture(const char *case_name, const char *file, struct cmek_buf *out)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/sigv4-test-suite/v4/%s/%s", CMEK_FIXTURES_DIR, case_name,
             file);
    s_read_file(path, out);
}

struct s_context {
    char access_key_id[64];
    char secret[128];
    char token[1024];
    char region[32];
    char service[32];
    bool normalize;
    bool sign_body;
    bool omit_session_token;
    uint32_t expires_s;
    time_t when;
};

/* Where the value of "key" starts in a flat JSON text, or NULL. The context files are
 * small, flat and escape-free, so a key search is all the parsing they need. */
static const char *s_json_value(const char *json, const char *key)
{
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "\"%s\"", key);
    const char *p = strstr(json, quoted);
    if (p == NULL) {
        return NULL;
    }
    p += strlen(quoted);
    while (*p == ' ' || *p == ':' || *p == '\n') {
        p++;
    }
    return p;
}

static void s_json_string(const char *json, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    const char *p = s_json_value(json, key);
    if (p == NULL || *p != '"') {
        return;
    }
    p++;
    const char *q = strchr(p, '"');
    cr_assert(q != NULL && (size_t)(q - p) < cap, "bad JSON string for %s", key);
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
}

static bool s_json_bool(const char *json, const char *key)
{
    const char *p = s_json_value(json, key);
    return p != NULL && strncmp(p, "true", 4) == 0;
}

static void s_load_context(const char *case_name, struct s_context *ctx)
{
    struct cmek_buf json;
    cmek_buf_init(&json, S_FIXTURE_MAX_BYTES);
    s_read_fixture(case_name, "context.json", &json);
    const char *j = cmek_buf_cstr(&json);
    memset(ctx, 0, sizeof(*ctx));
    s_json_string(j, "access_key_id", ctx->access_key_id, sizeof(ctx->access_key_id));
    s_json_string(j, "secret_access_key", ctx->secret, sizeof(ctx->secret));
    s_json_string(j, "token", ctx->token, sizeof(ctx->token));
    s_json_string(j, "region", ctx->region, sizeof(ctx->region));
    s_json_string(j, "service", ctx->service, sizeof(ctx->service));
    ctx->normalize = s_json_bool(j, "normalize");
    ctx->sign_body = s_json_bool(j, "sign_body");
    ctx->omit_session_token = s_json_bool(j, "omit_session_token");
    const char *exp = s_json_value(j, "expiration_in_seconds");
    cr_assert_not_null(exp);
    while (*exp >= '0' && *exp <= '9') {
        ctx->expires_s = ctx->expires_s * 10 + (uint32_t)(*exp - '0');
        exp++;
    }
    char ts[32];
    s_json_string(j, "timestamp", ts, sizeof(ts));
    cr_assert_eq(cmek_time_parse_rfc3339(ts, strlen(ts), &ctx->when), CMEK_OK);
    cmek_buf_clean_up(&json);
}

static void s_assert_bytes(const char *what, const char *got, size_t got_len,
                           const struct cmek_buf *want)
{
    cr_assert(got_len == want->len && (got_len == 0 || memcmp(got, want->data, got_len) == 0),
              "%s differs\n--- got (%zu bytes)\n%.*s\n--- want (%zu bytes)\n%s", what, got_len,
              (int)got_len, got, want->len, cmek_buf_cstr(want));
}

static void s_assert_fixture(const char *case_name, const char *file, const char *got,
                             size_t got_len)
{
    struct cmek_buf want;
    cmek_buf_init(&want, S_FIXTURE_MAX_BYTES);
    s_read_fixture(case_name, file, &want);
    s_assert_bytes(file, got, got_len, &want);
    cmek_buf_clean_up(&want);
}

/* ---- The vector cases; Criterion params hold the names inline (no literal pointers) ---- */

struct s_case {
    char name[48];
};

#define S_CASE_LIST                                                                                \
    {"get-header-key-duplicate"}, {"get-header-value-multiline"}, {"get-header-value-order"},      \
        {"get-header-value-trim"}, {"get-relative-normalized"},                                    \
        {"get-relative-relative-normalized"}, {"get-relative-relative-unnormalized"},              \
        {"get-relative-unnormalized"}, {"get-slash-dot-slash-normalized"},                         \
        {"get-slash-dot-slash-unnormalized"}, {"get-slash-normalized"},                            \
        {"get-slash-pointless-dot-normalized"}, {"get-slash-pointless-dot-unnormalized"},          \
        {"get-slash-unnormalized"}, {"get-slashes-normalized"}, {"get-slashes-unnormalized"},      \
        {"get-space-normalized"}, {"get-space-unnormalized"}, {"get-unreserved"}, {"get-utf8"},    \
        {"get-vanilla"}, {"get-vanilla-empty-query-key"}, {"get-vanilla-query"},                   \
        {"get-vanilla-query-order-encoded"}, {"get-vanilla-query-order-key-case"},                 \
        {"get-vanilla-query-unreserved"}, {"get-vanilla-utf8-query"},                              \
        {"get-vanilla-with-session-token"}, {"post-header-key-case"}, {"post-header-key-sort"},    \
        {"post-header-value-case"}, {"post-sts-header-after"}, {"post-sts-header-before"},         \
        {"post-vanilla"}, {"post-vanilla-empty-query-value"}, {"post-vanilla-query"},              \
        {"post-x-www-form-urlencoded"},                                                            \
    {                                                                                              \
        "post-x-www-form-urlencoded-parameters"                                                    \
    }

#define S_CASE_PARAMS(test)                                                                        \
    ParameterizedTestParameters(sigv4, test)                                                       \
    {                                                                                              \
        static struct s_case cases[] = {S_CASE_LIST};                                              \
        return cr_make_param_array(struct s_case, cases, sizeof(cases) / sizeof(cases[0]));        \
    }

Test(sigv4, vector_list_covers_every_fixture_case)
{
    static const struct s_case cases[] = {S_CASE_LIST};
    cr_assert_eq(sizeof(cases) / sizeof(cases[0]), 38);
}

/* ---- Signing ---- */

struct s_vector {
    struct s_context ctx;
    struct cmek_buf text;
    struct s_http http;
    struct cmek_sigv4_credentials creds;
    struct cmek_sigv4_sign_options opt;
};

static void s_vector_load(struct s_vector *v, const char *case_name)
{
    s_load_context(case_name, &v->ctx);
    cmek_buf_init(&v->text, S_FIXTURE_MAX_BYTES);
    s_read_fixture(case_name, "request.txt", &v->text);
    cr_assert_eq(s_http_parse(&v->http, v->text.data, v->text.len), 0);
    v->creds = (struct cmek_sigv4_credentials){
        .access_key_id = v->ctx.access_key_id,
        .secret_access_key = v->ctx.secret,
        .session_token = v->ctx.token[0] != '\0' ? v->ctx.token : NULL,
    };
    v->opt = (struct cmek_sigv4_sign_options){
        .credentials = &v->creds,
        .region = v->ctx.region,
        .service = v->ctx.service,
        .when = v->ctx.when,
        .normalize_path = v->ctx.normalize,
        .sign_body = v->ctx.sign_body,
        .omit_session_token = v->ctx.omit_session_token,
        .expires_s = v->ctx.expires_s,
    };
}

static void s_vector_clean_up(struct s_vector *v)
{
    s_http_clean_up(&v->http);
    cmek_buf_clean_up(&v->text);
}

static void s_append_checked(struct cmek_buf *b, const void *bytes, size_t len)
{
    cr_assert_eq(cmek_buf_append(b, bytes, len), CMEK_OK);
}

static void s_append_header_block(struct cmek_buf *b, const struct s_http *h)
{
    s_append_checked(b, h->header_block.ptr, h->header_block.len);
    if (h->header_block.len > 0 && h->header_block.ptr[h->header_block.len - 1] != '\n') {
        s_append_checked(b, "\n", 1);
    }
}

S_CASE_PARAMS(sign_headers_matches_vector)
ParameterizedTest(struct s_case *c, sigv4, sign_headers_matches_vector)
{
    struct s_vector v;
    s_vector_load(&v, c->name);
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_headers(&v.http.req, &v.opt, &out), CMEK_OK);
    s_assert_fixture(c->name, "header-canonical-request.txt", out.canonical_request.data,
                     out.canonical_request.len);
    s_assert_fixture(c->name, "header-string-to-sign.txt", out.string_to_sign.data,
                     out.string_to_sign.len);
    s_assert_fixture(c->name, "header-signature.txt", out.signature, strlen(out.signature));

    /* The request as aws-c-auth sends it: the original headers, then the token, date and
     * payload hash headers, then Authorization. */
    struct cmek_buf signed_req;
    cmek_buf_init(&signed_req, S_FIXTURE_MAX_BYTES);
    s_append_checked(&signed_req, v.http.request_line.ptr, v.http.request_line.len);
    s_append_checked(&signed_req, "\n", 1);
    s_append_header_block(&signed_req, &v.http);
    if (v.creds.session_token != NULL) {
        cr_assert_eq(
            cmek_buf_appendf(&signed_req, "X-Amz-Security-Token:%s\n", v.creds.session_token),
            CMEK_OK);
    }
    cr_assert_eq(cmek_buf_appendf(&signed_req, "X-Amz-Date:%s\n", out.amz_date), CMEK_OK);
    if (v.opt.sign_body) {
        cr_assert_eq(cmek_buf_appendf(&signed_req, "x-amz-content-sha256:%s\n", out.payload_hash),
                     CMEK_OK);
    }
    cr_assert_eq(
        cmek_buf_appendf(&signed_req, "Authorization:%s\n\n", cmek_buf_cstr(&out.authorization)),
        CMEK_OK);
    s_append_checked(&signed_req, v.http.req.body.ptr, v.http.req.body.len);
    s_assert_fixture(c->name, "header-signed-request.txt", signed_req.data, signed_req.len);

    cmek_buf_clean_up(&signed_req);
    cmek_sigv4_signed_clean_up(&out);
    s_vector_clean_up(&v);
}

S_CASE_PARAMS(sign_query_matches_vector)
ParameterizedTest(struct s_case *c, sigv4, sign_query_matches_vector)
{
    struct s_vector v;
    s_vector_load(&v, c->name);
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_query(&v.http.req, &v.opt, &out), CMEK_OK);
    s_assert_fixture(c->name, "query-canonical-request.txt", out.canonical_request.data,
                     out.canonical_request.len);
    s_assert_fixture(c->name, "query-string-to-sign.txt", out.string_to_sign.data,
                     out.string_to_sign.len);
    s_assert_fixture(c->name, "query-signature.txt", out.signature, strlen(out.signature));
    cr_assert_eq(out.authorization.len, 0);

    struct cmek_buf signed_req;
    cmek_buf_init(&signed_req, S_FIXTURE_MAX_BYTES);
    s_append_checked(&signed_req, v.http.req.method.ptr, v.http.req.method.len);
    s_append_checked(&signed_req, " ", 1);
    s_append_checked(&signed_req, v.http.req.path.ptr, v.http.req.path.len);
    cr_assert_eq(cmek_buf_appendf(&signed_req, "?%s HTTP/1.1\n", cmek_buf_cstr(&out.query)),
                 CMEK_OK);
    s_append_header_block(&signed_req, &v.http);
    s_append_checked(&signed_req, "\n", 1);
    s_append_checked(&signed_req, v.http.req.body.ptr, v.http.req.body.len);
    s_assert_fixture(c->name, "query-signed-request.txt", signed_req.data, signed_req.len);

    cmek_buf_clean_up(&signed_req);
    cmek_sigv4_signed_clean_up(&out);
    s_vector_clean_up(&v);
}

/* ---- Verifying the vectors' signed requests ---- */

enum s_mutation {
    S_MUT_NONE,
    S_MUT_SIGNATURE, /* one hex digit of the signature */
    S_MUT_BODY,      /* one byte of the body, or a body where there was none */
    S_MUT_HEADER,    /* one byte of the (always signed) Host value */
    S_MUT_SECRET,    /* one byte of the secret */
    S_MUT_QUERY,     /* one byte of a signed query parameter, or a new parameter */
    S_MUT_COUNT
};

static const char *const s_mutation_names[S_MUT_COUNT] = {
    "none", "signature", "body", "signed header", "secret", "query",
};

static void s_mutate(struct s_http *h, enum s_mutation m, char *secret)
{
    switch (m) {
    case S_MUT_SIGNATURE: {
        char *p = strstr(h->text, "Signature=");
        cr_assert_not_null(p);
        p += strlen("Signature=");
        *p = *p == 'a' ? 'b' : 'a';
        break;
    }
    case S_MUT_BODY:
        if (h->req.body.len > 0) {
            *s_at(h, h->req.body.ptr) ^= 1;
        } else {
            h->req.body = cmek_view_from_cstr("x");
        }
        break;
    case S_MUT_HEADER: {
        bool done = false;
        for (size_t i = 0; i < h->req.n_headers && !done; i++) {
            if (cmek_view_eq_ignore_case(h->headers[i].name, "host")) {
                char *p = s_at(h, h->headers[i].value.ptr);
                while (*p == ' ') {
                    p++;
                }
                *p ^= 1;
                done = true;
            }
        }
        cr_assert(done, "no Host header");
        break;
    }
    case S_MUT_SECRET:
        secret[0] ^= 1;
        break;
    case S_MUT_QUERY: {
        char *expires = h->req.query.len > 0 ? strstr(h->text, "X-Amz-Expires=") : NULL;
        if (expires != NULL) {
            expires += strlen("X-Amz-Expires=");
            *expires = *expires == '3' ? '4' : '3';
        } else if (h->req.query.len > 0) {
            *s_at(h, h->req.query.ptr) ^= 1;
        } else {
            h->req.query = cmek_view_from_cstr("a=b");
        }
        break;
    }
    case S_MUT_NONE:
    case S_MUT_COUNT:
    default:
        break;
    }
}

/* Parses text, applies one mutation, verifies; the parse must succeed. */
static bool s_verify_text(const struct cmek_buf *text, enum s_mutation m, const char *secret,
                          bool normalize, enum cmek_sigv4_mode want_mode)
{
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text->data, text->len), 0);
    char secret_copy[128];
    snprintf(secret_copy, sizeof(secret_copy), "%s", secret);
    s_mutate(&h, m, secret_copy);
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    int rc = cmek_sigv4_parse(&h.req, &auth, &why);
    cr_assert_eq(rc, CMEK_OK, "parse after %s mutation: %s", s_mutation_names[m],
                 why != NULL ? why : "(no text)");
    cr_assert_eq(auth.mode, want_mode);
    bool match = true;
    cr_assert_eq(cmek_sigv4_verify(&h.req, &auth, secret_copy, normalize, &match, NULL), CMEK_OK);
    cmek_sigv4_auth_clean_up(&auth);
    s_http_clean_up(&h);
    return match;
}

static void s_verify_vector_accepts(const char *case_name, bool query_mode)
{
    struct s_context ctx;
    s_load_context(case_name, &ctx);
    struct cmek_buf text;
    cmek_buf_init(&text, S_FIXTURE_MAX_BYTES);
    s_read_fixture(case_name, query_mode ? "query-signed-request.txt" : "header-signed-request.txt",
                   &text);
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text.data, text.len), 0);
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = "unset";
    cr_assert_eq(cmek_sigv4_parse(&h.req, &auth, &why), CMEK_OK, "%s", why ? why : "");
    cr_assert_null(why);
    cr_assert_eq(auth.mode, query_mode ? CMEK_SIGV4_MODE_QUERY : CMEK_SIGV4_MODE_HEADER);
    cr_assert(cmek_view_eq_cstr(auth.algorithm, "AWS4-HMAC-SHA256"));
    cr_assert(cmek_view_eq_cstr(auth.access_key_id, ctx.access_key_id));
    cr_assert(cmek_view_eq_cstr(auth.scope_date, "20150830"));
    cr_assert(cmek_view_eq_cstr(auth.region, ctx.region));
    cr_assert(cmek_view_eq_cstr(auth.service, ctx.service));
    cr_assert(cmek_view_eq_cstr(auth.terminator, "aws4_request"));
    cr_assert(cmek_view_eq_cstr(auth.amz_date, "20150830T123600Z"));
    cr_assert_eq(auth.request_time, ctx.when);
    cr_assert(cmek_view_eq_cstr(auth.session_token, ctx.token));
    cr_assert_eq(auth.expires_s, query_mode ? ctx.expires_s : 0);

    struct cmek_buf canonical;
    cmek_buf_init(&canonical, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    bool match = false;
    cr_assert_eq(cmek_sigv4_verify(&h.req, &auth, ctx.secret, ctx.normalize, &match, &canonical),
                 CMEK_OK);
    cr_assert(match, "vector %s not accepted", case_name);
    s_assert_fixture(case_name,
                     query_mode ? "query-canonical-request.txt" : "header-canonical-request.txt",
                     canonical.data, canonical.len);

    cmek_buf_clean_up(&canonical);
    cmek_sigv4_auth_clean_up(&auth);
    s_http_clean_up(&h);
    cmek_buf_clean_up(&text);
}

static void s_verify_vector_rejects_tampering(const char *case_name, bool query_mode)
{
    struct s_context ctx;
    s_load_context(case_name, &ctx);
    struct cmek_buf text;
    cmek_buf_init(&text, S_FIXTURE_MAX_BYTES);
    s_read_fixture(case_name, query_mode ? "query-signed-request.txt" : "header-signed-request.txt",
                   &text);
    enum cmek_sigv4_mode mode = query_mode ? CMEK_SIGV4_MODE_QUERY : CMEK_SIGV4_MODE_HEADER;
    cr_assert(s_verify_text(&text, S_MUT_NONE, ctx.secret, ctx.normalize, mode));
    for (int m = S_MUT_SIGNATURE; m < S_MUT_COUNT; m++) {
        cr_expect_not(s_verify_text(&text, (enum s_mutation)m, ctx.secret, ctx.normalize, mode),
                      "%s: accepted with a changed %s", case_name, s_mutation_names[m]);
    }
    cmek_buf_clean_up(&text);
}

S_CASE_PARAMS(verify_accepts_header_signed_vector)
ParameterizedTest(struct s_case *c, sigv4, verify_accepts_header_signed_vector)
{
    s_verify_vector_accepts(c->name, false);
}

S_CASE_PARAMS(verify_accepts_query_signed_vector)
ParameterizedTest(struct s_case *c, sigv4, verify_accepts_query_signed_vector)
{
    s_verify_vector_accepts(c->name, true);
}

S_CASE_PARAMS(verify_rejects_tampered_header_signed_vector)
ParameterizedTest(struct s_case *c, sigv4, verify_rejects_tampered_header_signed_vector)
{
    s_verify_vector_rejects_tampering(c->name, false);
}

S_CASE_PARAMS(verify_rejects_tampered_query_signed_vector)
ParameterizedTest(struct s_case *c, sigv4, verify_rejects_tampered_query_signed_vector)
{
    s_verify_vector_rejects_tampering(c->name, true);
}

/* ---- Requests the AWS CLI / boto3 really sent (shared/reference/aws-cli-wire-capture.log),
 * headers and bodies byte for byte. The first three verify with the suite's example secret
 * (with '+'); the two with session token TOKEN123 were signed with the secret "x". ---- */

#define S_CLI_SECRET     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define S_CLI_SECRET_TMP "x"
/* The AWS documentation's example secret, which differs from S_CLI_SECRET in one byte. */
#define S_DOC_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static const char s_cli_iam_list_roles[] =
    "POST / HTTP/1.1\n"
    "Host: 127.0.0.1:5010\n"
    "Accept-Encoding: identity\n"
    "Content-Type: application/x-www-form-urlencoded; charset=utf-8\n"
    "User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v769 "
    "md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/D,g,b,C,Z,N cfg/retry-mode#legacy "
    "botocore/1.43.11\n"
    "X-Amz-Date: 20261122T223342Z\n"
    "Authorization: AWS4-HMAC-SHA256 "
    "Credential=AKIAIOSFODNN7EXAMPLE/20261122/eu-west-1/iam/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, "
    "Signature=0e14d829c0a21cbf4baca88161c20b6172a9b49c1a3ae465583fc8aeffe61ff3\n"
    "amz-sdk-invocation-id: 415e1d1e-f675-481f-a086-29cb5909cff7\n"
    "amz-sdk-request: attempt=1\n"
    "Content-Length: 35\n"
    "\n"
    "Action=ListRoles&Version=2010-05-08";

static const char s_cli_sts_get_caller_identity[] =
    "POST / HTTP/1.1\n"
    "Host: 127.0.0.1:5010\n"
    "Accept-Encoding: identity\n"
    "Content-Type: application/x-www-form-urlencoded; charset=utf-8\n"
    "User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v769 "
    "md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/b,N,D,g,Z cfg/retry-mode#legacy "
    "botocore/1.43.11\n"
    "X-Amz-Date: 20261122T223343Z\n"
    "Authorization: AWS4-HMAC-SHA256 "
    "Credential=AKIAIOSFODNN7EXAMPLE/20261122/eu-west-1/sts/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date, "
    "Signature=6d7c309680ab6a71ced71268c11c73e06df669ebe714f9612ee98cd401e2b130\n"
    "amz-sdk-invocation-id: 70ed2a35-9891-4b9c-90e8-c53d2a0e65e1\n"
    "amz-sdk-request: attempt=1\n"
    "Content-Length: 43\n"
    "\n"
    "Action=GetCallerIdentity&Version=2011-06-15";

static const char s_cli_kms_list_keys[] =
    "POST / HTTP/1.1\n"
    "Host: 127.0.0.1:5010\n"
    "Accept-Encoding: identity\n"
    "X-Amz-Target: TrentService.ListKeys\n"
    "Content-Type: application/x-amz-json-1.1\n"
    "User-Agent: aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v769 "
    "md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/b,N,C,D,g,Z cfg/retry-mode#legacy "
    "botocore/1.43.11\n"
    "X-Amz-Date: 20261122T223344Z\n"
    "Authorization: AWS4-HMAC-SHA256 "
    "Credential=AKIAIOSFODNN7EXAMPLE/20261122/eu-west-1/kms/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
    "Signature=1e734ed954064881fee02cca98c0ccd1d6a0d490556f9a98881bc74748e338d7\n"
    "amz-sdk-invocation-id: d56cc710-76ed-485e-b187-b54559593316\n"
    "amz-sdk-request: attempt=1\n"
    "Content-Length: 2\n"
    "\n"
    "{}";

static const char s_boto3_sts_get_caller_identity_token[] =
    "POST / HTTP/1.1\n"
    "Host: 127.0.0.1:5010\n"
    "Accept-Encoding: identity\n"
    "Content-Type: application/x-www-form-urlencoded; charset=utf-8\n"
    "User-Agent: Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v769 "
    "md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/N,e,D,b,Z cfg/retry-mode#legacy "
    "Botocore/1.43.11\n"
    "X-Amz-Date: 20261122T223344Z\n"
    "X-Amz-Security-Token: TOKEN123\n"
    "Authorization: AWS4-HMAC-SHA256 "
    "Credential=AKIAIOSFODNN7EXAMPLE/20261122/ap-south-1/sts/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
    "Signature=c0fa5deef3bd2d99f8506ca3cc20293ff480d231b8716fbd5749daacefd231d3\n"
    "amz-sdk-invocation-id: 05a75ecc-4682-4e02-9aac-27bae6a1de1b\n"
    "amz-sdk-request: attempt=1\n"
    "Content-Length: 43\n"
    "\n"
    "Action=GetCallerIdentity&Version=2011-06-15";

static const char s_boto3_kms_list_keys_token[] =
    "POST / HTTP/1.1\n"
    "Host: 127.0.0.1:5010\n"
    "Accept-Encoding: identity\n"
    "X-Amz-Target: TrentService.ListKeys\n"
    "Content-Type: application/x-amz-json-1.1\n"
    "User-Agent: Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44-fc-v769 "
    "md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/N,e,D,b,Z cfg/retry-mode#legacy "
    "Botocore/1.43.11\n"
    "X-Amz-Date: 20261122T223344Z\n"
    "X-Amz-Security-Token: TOKEN123\n"
    "Authorization: AWS4-HMAC-SHA256 "
    "Credential=AKIAIOSFODNN7EXAMPLE/20261122/ap-south-1/kms/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
    "Signature=a21c58c50aebfe74bdb41e4f084cc412ba2b00c45640ba60ef868c453f3ade13\n"
    "amz-sdk-invocation-id: f625a267-b7c6-4606-b786-99eb010ae02c\n"
    "amz-sdk-request: attempt=1\n"
    "Content-Length: 2\n"
    "\n"
    "{}";

static bool s_verify_capture(const char *text, const char *secret, const char *service,
                             const char *region, const char *token)
{
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text, strlen(text)), 0);
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&h.req, &auth, &why), CMEK_OK, "%s", why ? why : "");
    cr_assert_eq(auth.mode, CMEK_SIGV4_MODE_HEADER);
    cr_assert(cmek_view_eq_cstr(auth.access_key_id, "AKIAIOSFODNN7EXAMPLE"));
    cr_assert(cmek_view_eq_cstr(auth.service, service));
    cr_assert(cmek_view_eq_cstr(auth.region, region));
    cr_assert(cmek_view_eq_cstr(auth.session_token, token));
    bool match = false;
    cr_assert_eq(cmek_sigv4_verify(&h.req, &auth, secret, true, &match, NULL), CMEK_OK);
    cmek_sigv4_auth_clean_up(&auth);
    s_http_clean_up(&h);
    return match;
}

Test(sigv4, verify_accepts_aws_cli_iam_list_roles)
{
    cr_assert(s_verify_capture(s_cli_iam_list_roles, S_CLI_SECRET, "iam", "eu-west-1", ""));
    cr_assert_not(s_verify_capture(s_cli_iam_list_roles, S_DOC_SECRET, "iam", "eu-west-1", ""));
}

Test(sigv4, verify_accepts_aws_cli_sts_get_caller_identity)
{
    cr_assert(
        s_verify_capture(s_cli_sts_get_caller_identity, S_CLI_SECRET, "sts", "eu-west-1", ""));
    cr_assert_not(
        s_verify_capture(s_cli_sts_get_caller_identity, S_DOC_SECRET, "sts", "eu-west-1", ""));
}

Test(sigv4, verify_accepts_aws_cli_kms_list_keys)
{
    cr_assert(s_verify_capture(s_cli_kms_list_keys, S_CLI_SECRET, "kms", "eu-west-1", ""));
    cr_assert_not(s_verify_capture(s_cli_kms_list_keys, S_DOC_SECRET, "kms", "eu-west-1", ""));
}

Test(sigv4, verify_accepts_boto3_sts_with_session_token)
{
    cr_assert(s_verify_capture(s_boto3_sts_get_caller_identity_token, S_CLI_SECRET_TMP, "sts",
                               "ap-south-1", "TOKEN123"));
    cr_assert_not(s_verify_capture(s_boto3_sts_get_caller_identity_token, S_CLI_SECRET, "sts",
                                   "ap-south-1", "TOKEN123"));
}

Test(sigv4, verify_accepts_boto3_kms_with_session_token)
{
    cr_assert(s_verify_capture(s_boto3_kms_list_keys_token, S_CLI_SECRET_TMP, "kms", "ap-south-1",
                               "TOKEN123"));
    cr_assert_not(s_verify_capture(s_boto3_kms_list_keys_token, S_CLI_SECRET, "kms", "ap-south-1",
                                   "TOKEN123"));
}

/* ---- Parse failures, each with AWS's text ---- */

#define S_VANILLA_DATE       "X-Amz-Date:20150830T123600Z\n"
#define S_VANILLA_CREDENTIAL "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
#define S_VANILLA_AUTH                                                                             \
    "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL ", SignedHeaders=host;x-amz-date, "     \
    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n"
#define S_VANILLA_REQUEST                                                                          \
    "GET / HTTP/1.1\nHost:example.amazonaws.com\n" S_VANILLA_DATE S_VANILLA_AUTH "\n"

/* Parses text; returns the parse result, with the text and mode it gave. */
static int s_parse(const char *text, const char **why, enum cmek_sigv4_mode *mode)
{
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text, strlen(text)), 0);
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    *why = NULL;
    int rc = cmek_sigv4_parse(&h.req, &auth, why);
    *mode = auth.mode;
    cmek_sigv4_auth_clean_up(&auth);
    s_http_clean_up(&h);
    return rc;
}

static void s_expect_parse_error(const char *text, const char *want_why)
{
    const char *why = NULL;
    enum cmek_sigv4_mode mode = CMEK_SIGV4_MODE_HEADER;
    cr_assert_eq(s_parse(text, &why, &mode), CMEK_ERR_PARSE);
    cr_assert_not_null(why);
    cr_assert_str_eq(why, want_why);
    cr_assert_eq(mode, CMEK_SIGV4_MODE_NONE);
}

Test(sigv4, parse_accepts_vanilla_request)
{
    const char *why = NULL;
    enum cmek_sigv4_mode mode = CMEK_SIGV4_MODE_NONE;
    cr_assert_eq(s_parse(S_VANILLA_REQUEST, &why, &mode), CMEK_OK);
    cr_assert_null(why);
    cr_assert_eq(mode, CMEK_SIGV4_MODE_HEADER);
}

Test(sigv4, parse_returns_mode_none_without_any_signature)
{
    const char *why = NULL;
    enum cmek_sigv4_mode mode = CMEK_SIGV4_MODE_HEADER;
    cr_assert_eq(
        s_parse("GET /?Action=ListUsers HTTP/1.1\nHost:h\n" S_VANILLA_DATE "\n", &why, &mode),
        CMEK_OK);
    cr_assert_null(why);
    cr_assert_eq(mode, CMEK_SIGV4_MODE_NONE);
}

Test(sigv4, parse_rejects_missing_credential_and_signature)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date\n\n",
                         "Authorization header requires 'Credential' parameter. Authorization "
                         "header requires 'Signature' parameter.");
}

Test(sigv4, parse_rejects_empty_signed_headers_as_missing)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL
                         ", SignedHeaders=, Signature=abcd\n\n",
                         "Authorization header requires 'SignedHeaders' parameter.");
}

Test(sigv4, parse_rejects_bearer_token_with_every_missing_part)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\nAuthorization: Bearer eyJhbGciOiJIUzI1NiJ9\n\n",
                         "Authorization header requires 'Credential' parameter. Authorization "
                         "header requires 'Signature' parameter. Authorization header requires "
                         "'SignedHeaders' parameter. Authorization header requires existence of "
                         "either a 'X-Amz-Date' or a 'Date' header.");
}

Test(sigv4, parse_rejects_missing_date_headers)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_AUTH "\n",
                         "Authorization header requires existence of either a 'X-Amz-Date' or a "
                         "'Date' header.");
}

Test(sigv4, parse_rejects_extended_iso_x_amz_date)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\nX-Amz-Date:2015-08-30T12:36:00Z\n" S_VANILLA_AUTH
                         "\n",
                         "Date must be in ISO-8601 'basic format'. See "
                         "http://en.wikipedia.org/wiki/ISO_8601");
}

Test(sigv4, parse_rejects_repeated_x_amz_date)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE S_VANILLA_DATE S_VANILLA_AUTH
                         "\n",
                         "Date must be in ISO-8601 'basic format'. See "
                         "http://en.wikipedia.org/wiki/ISO_8601");
}

Test(sigv4, parse_rejects_malformed_date_header)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\nDate: yesterday\n" S_VANILLA_AUTH "\n",
                         "Date must be in ISO-8601 'basic format'. See "
                         "http://en.wikipedia.org/wiki/ISO_8601");
}

Test(sigv4, parse_rejects_wrong_terminator)
{
    s_expect_parse_error(
        "GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
        "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
        "aws4_reques, SignedHeaders=host;x-amz-date, Signature=" S_DUMMY_SIGNATURE "\n\n",
        "Credential should be scoped with a valid terminator: 'aws4_request'.");
}

Test(sigv4, parse_rejects_empty_region)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830//service/"
                         "aws4_request, SignedHeaders=host;x-amz-date, Signature=" S_DUMMY_SIGNATURE
                         "\n\n",
                         "Credential should be scoped to a valid region.");
}

Test(sigv4, parse_rejects_invalid_service)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                         "KMS!/aws4_request, SignedHeaders=host;x-amz-date, "
                         "Signature=" S_DUMMY_SIGNATURE "\n\n",
                         "Credential should be scoped to a valid service.");
}

Test(sigv4, parse_rejects_four_element_credential)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                         "aws4_request, SignedHeaders=host;x-amz-date, Signature=" S_DUMMY_SIGNATURE
                         "\n\n",
                         "Credential must have exactly 5 slash-delimited elements, e.g. "
                         "keyid/date/region/service/term.");
}

Test(sigv4, parse_rejects_six_element_credential)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 Credential=A/B/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host;x-amz-date, Signature=" S_DUMMY_SIGNATURE
                         "\n\n",
                         "Credential must have exactly 5 slash-delimited elements, e.g. "
                         "keyid/date/region/service/term.");
}

Test(sigv4, parse_rejects_malformed_scope_date)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2015-08-30/"
                         "us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                         "Signature=" S_DUMMY_SIGNATURE "\n\n",
                         "Invalid credential date. Date is not the required format: yyyyMMdd.");
}

Test(sigv4, parse_rejects_unknown_algorithm)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA512 " S_VANILLA_CREDENTIAL
                         ", SignedHeaders=host;x-amz-date, Signature=" S_DUMMY_SIGNATURE "\n\n",
                         "The authorization mechanism you have provided is not supported. Please "
                         "use AWS4-HMAC-SHA256.");
}

Test(sigv4, parse_rejects_component_without_equal_sign)
{
    /* A pasted key with a space after "Credential=", as in real IncompleteSignature reports. */
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 Credential= AKIDEXAMPLE/20150830/"
                         "us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                         "Signature=" S_DUMMY_SIGNATURE "\n\n",
                         "Authorization header contains a component that is not a valid key=value "
                         "pair (missing equal-sign).");
}

Test(sigv4, parse_rejects_duplicate_credential)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL
                         ", " S_VANILLA_CREDENTIAL
                         ", SignedHeaders=host;x-amz-date, Signature=" S_DUMMY_SIGNATURE "\n\n",
                         "Authorization header contains the same parameter more than once.");
}

Test(sigv4, parse_rejects_empty_signed_header_name)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE
                         "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL
                         ", SignedHeaders=host;;x-amz-date, Signature=" S_DUMMY_SIGNATURE "\n\n",
                         "SignedHeaders must be a ';'-separated list of header names.");
}

Test(sigv4, parse_rejects_two_authorization_headers)
{
    s_expect_parse_error("GET / HTTP/1.1\nHost:h\n" S_VANILLA_DATE S_VANILLA_AUTH S_VANILLA_AUTH
                         "\n",
                         "Only one Authorization header is allowed.");
}

Test(sigv4, parse_rejects_header_and_query_signature_together)
{
    s_expect_parse_error(
        "GET /?X-Amz-Algorithm=AWS4-HMAC-SHA256 HTTP/1.1\nHost:h\n" S_VANILLA_DATE S_VANILLA_AUTH
        "\n",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
        "parameter, Signature query string parameter or the Authorization header "
        "should be specified");
}

/* Query mode. */

#define S_Q_ALG  "X-Amz-Algorithm=AWS4-HMAC-SHA256"
#define S_Q_CRED "X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request"
#define S_Q_DATE "X-Amz-Date=20150830T123600Z"
#define S_Q_SH   "X-Amz-SignedHeaders=host"
#define S_Q_EXP  "X-Amz-Expires=3600"
#define S_Q_SIG  "X-Amz-Signature=" S_DUMMY_SIGNATURE
#define S_Q_ALL  S_Q_ALG "&" S_Q_CRED "&" S_Q_DATE "&" S_Q_SH "&" S_Q_EXP "&" S_Q_SIG
#define S_Q_TAIL " HTTP/1.1\nHost:example.amazonaws.com\n\n"
#define S_Q_MISSING                                                                                \
    "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "             \
    "'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. "                \
    "Re-examine the query-string parameters."

Test(sigv4, parse_accepts_query_signature)
{
    const char *why = NULL;
    enum cmek_sigv4_mode mode = CMEK_SIGV4_MODE_NONE;
    cr_assert_eq(s_parse("GET /?" S_Q_ALL S_Q_TAIL, &why, &mode), CMEK_OK);
    cr_assert_eq(mode, CMEK_SIGV4_MODE_QUERY);
}

Test(sigv4, parse_rejects_query_without_signature)
{
    s_expect_parse_error("GET /?" S_Q_ALG "&" S_Q_CRED "&" S_Q_DATE "&" S_Q_SH "&" S_Q_EXP S_Q_TAIL,
                         S_Q_MISSING);
}

Test(sigv4, parse_rejects_query_without_expires)
{
    s_expect_parse_error("GET /?" S_Q_ALG "&" S_Q_CRED "&" S_Q_DATE "&" S_Q_SH "&" S_Q_SIG S_Q_TAIL,
                         S_Q_MISSING);
}

Test(sigv4, parse_rejects_query_with_other_algorithm)
{
    s_expect_parse_error("GET /?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&" S_Q_CRED "&" S_Q_DATE
                         "&" S_Q_SH "&" S_Q_EXP "&" S_Q_SIG S_Q_TAIL,
                         "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
}

Test(sigv4, parse_rejects_query_expires_not_a_number)
{
    s_expect_parse_error("GET /?" S_Q_ALG "&" S_Q_CRED "&" S_Q_DATE "&" S_Q_SH
                         "&X-Amz-Expires=1h&" S_Q_SIG S_Q_TAIL,
                         "X-Amz-Expires should be a number");
}

Test(sigv4, parse_rejects_query_negative_expires)
{
    s_expect_parse_error("GET /?" S_Q_ALG "&" S_Q_CRED "&" S_Q_DATE "&" S_Q_SH
                         "&X-Amz-Expires=-1&" S_Q_SIG S_Q_TAIL,
                         "X-Amz-Expires must be non-negative");
}

Test(sigv4, parse_rejects_query_expires_over_a_week)
{
    s_expect_parse_error("GET /?" S_Q_ALG "&" S_Q_CRED "&" S_Q_DATE "&" S_Q_SH
                         "&X-Amz-Expires=604801&" S_Q_SIG S_Q_TAIL,
                         "X-Amz-Expires must be less than a week (in seconds) that is 604800");
}

Test(sigv4, parse_rejects_query_duplicate_date)
{
    s_expect_parse_error("GET /?" S_Q_ALL "&" S_Q_DATE S_Q_TAIL,
                         "An X-Amz-* query-string parameter appears more than once.");
}

Test(sigv4, parse_rejects_query_malformed_date)
{
    s_expect_parse_error("GET /?" S_Q_ALG "&" S_Q_CRED "&X-Amz-Date=20150830&" S_Q_SH "&" S_Q_EXP
                         "&" S_Q_SIG S_Q_TAIL,
                         "Date must be in ISO-8601 'basic format'. See "
                         "http://en.wikipedia.org/wiki/ISO_8601");
}

Test(sigv4, parse_decodes_query_session_token)
{
    struct cmek_buf text;
    cmek_buf_init(&text, S_FIXTURE_MAX_BYTES);
    s_read_fixture("post-sts-header-before", "query-signed-request.txt", &text);
    struct s_context ctx;
    s_load_context("post-sts-header-before", &ctx);
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text.data, text.len), 0);
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&h.req, &auth, &why), CMEK_OK);
    /* The token holds '/', '+' and '=', sent as %2F, %2B and %3D. */
    cr_assert(cmek_view_eq_cstr(auth.session_token, ctx.token));
    cr_assert(cmek_view_eq_cstr(auth.signed_headers, "host"));
    cr_assert_eq(auth.expires_s, 3600);
    /* Parsing again into the same auth starts afresh. */
    cr_assert_eq(cmek_sigv4_parse(&h.req, &auth, &why), CMEK_OK);
    cr_assert(cmek_view_eq_cstr(auth.session_token, ctx.token));
    cmek_sigv4_auth_clean_up(&auth);
    s_http_clean_up(&h);
    cmek_buf_clean_up(&text);
}

/* ---- Verify failures and fallbacks ---- */

/* Puts the right signature for secret into h's Authorization header (which holds a
 * 64-character placeholder), computed from the library's canonical request and a string to
 * sign built here from the raw timestamp. Returns the parsed auth's request time. */
static time_t s_resign(struct s_http *h, const char *secret)
{
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&h->req, &auth, &why), CMEK_OK, "%s", why ? why : "");
    cr_assert_eq(auth.mode, CMEK_SIGV4_MODE_HEADER);
    struct cmek_buf canonical;
    cmek_buf_init(&canonical, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    bool match = true;
    cr_assert_eq(cmek_sigv4_verify(&h->req, &auth, secret, true, &match, &canonical), CMEK_OK);
    char digest[CMEK_SHA256_HEX_LEN + 1];
    cr_assert_eq(cmek_sha256_hex(canonical.data, canonical.len, digest), CMEK_OK);
    struct cmek_buf sts;
    cmek_buf_init(&sts, CMEK_SIGV4_MAX_CANONICAL_BYTES);
    cr_assert_eq(cmek_buf_appendf(&sts, "AWS4-HMAC-SHA256\n%.*s\n%.*s/%.*s/%.*s/aws4_request\n%s",
                                  (int)auth.amz_date.len, auth.amz_date.ptr,
                                  (int)auth.scope_date.len, auth.scope_date.ptr,
                                  (int)auth.region.len, auth.region.ptr, (int)auth.service.len,
                                  auth.service.ptr, digest),
                 CMEK_OK);
    uint8_t key[32];
    uint8_t mac[32];
    char hex[65];
    cr_assert_eq(cmek_sigv4_signing_key(secret, auth.scope_date, auth.region, auth.service, key),
                 CMEK_OK);
    cr_assert_eq(cmek_hmac_sha256(key, sizeof(key), sts.data, sts.len, mac), CMEK_OK);
    cmek_hex_encode(mac, sizeof(mac), hex);
    cr_assert_eq(auth.signature.len, 64);
    memcpy(s_at(h, auth.signature.ptr), hex, 64);
    time_t t = auth.request_time;
    cmek_buf_clean_up(&sts);
    cmek_buf_clean_up(&canonical);
    cmek_sigv4_auth_clean_up(&auth);
    return t;
}

static bool s_verify_http(struct s_http *h, const char *secret)
{
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&h->req, &auth, &why), CMEK_OK, "%s", why ? why : "");
    bool match = true;
    cr_assert_eq(cmek_sigv4_verify(&h->req, &auth, secret, true, &match, NULL), CMEK_OK);
    cmek_sigv4_auth_clean_up(&auth);
    return match;
}

Test(sigv4, verify_accepts_date_header_when_x_amz_date_absent)
{
    static const char text[] =
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nDate: Sun, 30 Aug 2015 12:36:00 GMT\n"
        "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL
        ", SignedHeaders=date;host, Signature=" S_DUMMY_SIGNATURE "\n\n";
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text, sizeof(text) - 1), 0);
    cr_assert_eq(s_resign(&h, S_VECTOR_SECRET), 1440938160);
    cr_assert(s_verify_http(&h, S_VECTOR_SECRET));
    cr_assert_not(s_verify_http(&h, "other"));
    s_http_clean_up(&h);
}

Test(sigv4, verify_accepts_flexible_authorization_whitespace)
{
    static const char text[] =
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
        "authorization:  AWS4-HMAC-SHA256   " S_VANILLA_CREDENTIAL ",SignedHeaders=host;x-amz-date"
        ",\tSignature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31  \n\n";
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text, sizeof(text) - 1), 0);
    cr_assert(s_verify_http(&h, S_VECTOR_SECRET));
    s_http_clean_up(&h);
}

Test(sigv4, verify_rejects_signed_header_absent_from_request)
{
    /* get-header-key-duplicate's request without its My-Header1 lines, re-signed so that
     * the signature covers "my-header1:" with an empty value: only the absence fails. */
    static const char text[] =
        "GET / HTTP/1.1\nHost:example.amazonaws.com\n" S_VANILLA_DATE
        "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL
        ", SignedHeaders=host;my-header1;x-amz-date, Signature=" S_DUMMY_SIGNATURE "\n\n";
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text, sizeof(text) - 1), 0);
    s_resign(&h, S_VECTOR_SECRET);
    cr_assert_not(s_verify_http(&h, S_VECTOR_SECRET));
    s_http_clean_up(&h);

    static const char with_empty[] =
        "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:\n" S_VANILLA_DATE
        "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL
        ", SignedHeaders=host;my-header1;x-amz-date, Signature=" S_DUMMY_SIGNATURE "\n\n";
    cr_assert_eq(s_http_parse(&h, with_empty, sizeof(with_empty) - 1), 0);
    s_resign(&h, S_VECTOR_SECRET);
    cr_assert(s_verify_http(&h, S_VECTOR_SECRET));
    s_http_clean_up(&h);
}

Test(sigv4, verify_rejects_scope_date_other_than_request_date)
{
    static const char text[] =
        "GET / HTTP/1.1\nHost:example.amazonaws.com\n" S_VANILLA_DATE
        "Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=" S_DUMMY_SIGNATURE "\n\n";
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text, sizeof(text) - 1), 0);
    s_resign(&h, S_VECTOR_SECRET);
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&h.req, &auth, &why), CMEK_OK);
    cr_assert_not(cmek_sigv4_scope_date_matches(&auth));
    bool match = true;
    cr_assert_eq(cmek_sigv4_verify(&h.req, &auth, S_VECTOR_SECRET, true, &match, NULL), CMEK_OK);
    cr_assert_not(match);
    cmek_sigv4_auth_clean_up(&auth);
    s_http_clean_up(&h);
}

Test(sigv4, verify_rejects_payload_hash_header_not_of_body)
{
    /* Signed correctly, but x-amz-content-sha256 states the hash of the empty body while
     * the body is "Param1=value1". */
    static const char text[] =
        "POST / HTTP/1.1\nHost:example.amazonaws.com\n" S_VANILLA_DATE
        "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL
        ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" S_DUMMY_SIGNATURE
        "\n\nParam1=value1";
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text, sizeof(text) - 1), 0);
    s_resign(&h, S_VECTOR_SECRET);
    cr_assert_not(s_verify_http(&h, S_VECTOR_SECRET));
    /* The same signature over an empty body is fine. */
    h.req.body.len = 0;
    cr_assert(s_verify_http(&h, S_VECTOR_SECRET));
    s_http_clean_up(&h);
}

Test(sigv4, verify_rejects_truncated_signature)
{
    static const char text[] =
        "GET / HTTP/1.1\nHost:example.amazonaws.com\n" S_VANILLA_DATE
        "Authorization:AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL ", SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf3\n\n";
    struct s_http h;
    cr_assert_eq(s_http_parse(&h, text, sizeof(text) - 1), 0);
    cr_assert_not(s_verify_http(&h, S_VECTOR_SECRET));
    s_http_clean_up(&h);
}

Test(sigv4, verify_rejects_request_without_signature)
{
    struct cmek_sigv4_request req = {.method = {"GET", 3}, .path = {"/", 1}};
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&req, &auth, &why), CMEK_OK);
    cr_assert_eq(auth.mode, CMEK_SIGV4_MODE_NONE);
    bool match = true;
    cr_assert_eq(cmek_sigv4_verify(&req, &auth, S_VECTOR_SECRET, true, &match, NULL),
                 CMEK_ERR_INVALID_ARG);
    cr_assert_not(match);
    cmek_sigv4_auth_clean_up(&auth);
}

/* ---- Caps ---- */

Test(sigv4, sign_and_verify_refuse_canonical_request_over_cap)
{
    size_t big = CMEK_SIGV4_MAX_CANONICAL_BYTES + 16;
    char *value = malloc(big + 1);
    cr_assert_not_null(value);
    memset(value, 'a', big);
    value[big] = '\0';
    struct cmek_http_header headers[] = {
        {{"Host", 4}, {"example.amazonaws.com", 21}},
        {{"X-Amz-Date", 10}, {"20150830T123600Z", 16}},
        {{"X-Big", 5}, {value, big}},
        {{"Authorization", 13},
         cmek_view_from_cstr(
             "AWS4-HMAC-SHA256 " S_VANILLA_CREDENTIAL
             ", SignedHeaders=host;x-amz-date;x-big, Signature=" S_DUMMY_SIGNATURE)},
    };
    struct cmek_sigv4_request req = {
        .method = {"GET", 3}, .path = {"/", 1}, .headers = headers, .n_headers = 4};
    struct cmek_sigv4_credentials creds = {"AKIDEXAMPLE", S_VECTOR_SECRET, NULL};
    struct cmek_sigv4_sign_options opt = {
        .credentials = &creds, .region = "us-east-1", .service = "service", .when = 1440938160};
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_headers(&req, &opt, &out), CMEK_ERR_LIMIT);

    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&req, &auth, &why), CMEK_OK);
    bool match = true;
    cr_assert_eq(cmek_sigv4_verify(&req, &auth, S_VECTOR_SECRET, true, &match, NULL),
                 CMEK_ERR_LIMIT);
    cr_assert_not(match);
    cmek_sigv4_auth_clean_up(&auth);
    cmek_sigv4_signed_clean_up(&out);
    free(value);
}

/* ---- Signing options and building blocks ---- */

Test(sigv4, sign_rejects_request_without_host)
{
    struct cmek_http_header headers[] = {{{"X-Other", 7}, {"v", 1}}};
    struct cmek_sigv4_request req = {
        .method = {"GET", 3}, .path = {"/", 1}, .headers = headers, .n_headers = 1};
    struct cmek_sigv4_credentials creds = {"AKIDEXAMPLE", S_VECTOR_SECRET, NULL};
    struct cmek_sigv4_sign_options opt = {
        .credentials = &creds, .region = "us-east-1", .service = "service", .when = 1440938160};
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_headers(&req, &opt, &out), CMEK_ERR_INVALID_ARG);
    cmek_sigv4_signed_clean_up(&out);
}

Test(sigv4, sign_query_rejects_expires_over_a_week)
{
    struct cmek_http_header headers[] = {{{"Host", 4}, {"h", 1}}};
    struct cmek_sigv4_request req = {
        .method = {"GET", 3}, .path = {"/", 1}, .headers = headers, .n_headers = 1};
    struct cmek_sigv4_credentials creds = {"AKIDEXAMPLE", S_VECTOR_SECRET, NULL};
    struct cmek_sigv4_sign_options opt = {.credentials = &creds,
                                          .region = "us-east-1",
                                          .service = "service",
                                          .when = 1440938160,
                                          .expires_s = 604801};
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_query(&req, &opt, &out), CMEK_ERR_INVALID_ARG);
    cmek_sigv4_signed_clean_up(&out);
}

Test(sigv4, sign_does_not_sign_user_agent_or_caller_supplied_date)
{
    struct cmek_http_header headers[] = {
        {{"Host", 4}, {"example.amazonaws.com", 21}},
        {{"User-Agent", 10}, {"aws-cli/2", 9}},
        {{"X-Amz-Date", 10}, {"19990101T000000Z", 16}},
    };
    struct cmek_sigv4_request req = {
        .method = {"GET", 3}, .path = {"/", 1}, .headers = headers, .n_headers = 3};
    struct cmek_sigv4_credentials creds = {"AKIDEXAMPLE", S_VECTOR_SECRET, NULL};
    struct cmek_sigv4_sign_options opt = {.credentials = &creds,
                                          .region = "us-east-1",
                                          .service = "service",
                                          .when = 1440938160,
                                          .normalize_path = true};
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_headers(&req, &opt, &out), CMEK_OK);
    /* Exactly get-vanilla. */
    cr_assert_str_eq(cmek_buf_cstr(&out.signed_headers), "host;x-amz-date");
    cr_assert_str_eq(out.signature,
                     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    cmek_sigv4_signed_clean_up(&out);
}

Test(sigv4, signed_query_round_trips_through_verifier)
{
    struct cmek_http_header headers[] = {{{"Host", 4}, {"sts.amazonaws.com", 17}}};
    struct cmek_sigv4_request req = {.method = {"GET", 3},
                                     .path = {"/", 1},
                                     .query = cmek_view_from_cstr("Action=GetCallerIdentity"
                                                                  "&Version=2011-06-15"),
                                     .headers = headers,
                                     .n_headers = 1};
    struct cmek_sigv4_credentials creds = {"ASIAEXAMPLE", "secret", "tok/en+=="};
    struct cmek_sigv4_sign_options opt = {.credentials = &creds,
                                          .region = "us-east-1",
                                          .service = "sts",
                                          .when = 1440938160,
                                          .normalize_path = true,
                                          .expires_s = 60};
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_query(&req, &opt, &out), CMEK_OK);
    struct cmek_sigv4_request sent = req;
    sent.query = (struct cmek_view){out.query.data, out.query.len};
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&sent, &auth, &why), CMEK_OK);
    cr_assert_eq(auth.mode, CMEK_SIGV4_MODE_QUERY);
    cr_assert(cmek_view_eq_cstr(auth.session_token, "tok/en+=="));
    cr_assert_eq(auth.expires_s, 60);
    bool match = false;
    cr_assert_eq(cmek_sigv4_verify(&sent, &auth, "secret", true, &match, NULL), CMEK_OK);
    cr_assert(match);
    cr_assert_eq(cmek_sigv4_verify(&sent, &auth, "secreT", true, &match, NULL), CMEK_OK);
    cr_assert_not(match);
    cmek_sigv4_auth_clean_up(&auth);
    cmek_sigv4_signed_clean_up(&out);
}

Test(sigv4, signed_post_carries_its_headers_and_verifies)
{
    struct cmek_sigv4_credentials creds = {"ASIAEXAMPLE", "secret", "tok/en+=="};
    struct cmek_sigv4_post post = {.host = "kms.us-east-1.amazonaws.com",
                                   .content_type = "application/x-amz-json-1.1",
                                   .target = "TrentService.Encrypt",
                                   .body = "{\"KeyId\":\"alias/x\"}",
                                   .credentials = &creds,
                                   .region = "us-east-1",
                                   .service = "kms",
                                   .when = 1440938160};
    struct cmek_http_header headers[CMEK_SIGV4_POST_MAX_HEADERS];
    size_t n = 99;
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_post(&post, &out, headers, &n), CMEK_OK);
    static const char *const names[] = {"Content-Type",         "Host",
                                        "X-Amz-Target",         "X-Amz-Date",
                                        "X-Amz-Security-Token", "Authorization"};
    cr_assert_eq(n, 6);
    for (size_t i = 0; i < n; i++) {
        cr_assert(cmek_view_eq_cstr(headers[i].name, names[i]), "header %zu", i);
    }
    cr_assert(cmek_view_eq_cstr(headers[3].value, "20150830T123600Z"));
    struct cmek_sigv4_request sent = {.method = {"POST", 4},
                                      .path = {"/", 1},
                                      .query = {"", 0},
                                      .headers = headers,
                                      .n_headers = n,
                                      .body = cmek_view_from_cstr(post.body)};
    struct cmek_sigv4_auth auth;
    cmek_sigv4_auth_init(&auth);
    const char *why = NULL;
    cr_assert_eq(cmek_sigv4_parse(&sent, &auth, &why), CMEK_OK);
    cr_assert(cmek_view_eq_cstr(auth.signed_headers,
                                "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"));
    bool match = false;
    cr_assert_eq(cmek_sigv4_verify(&sent, &auth, "secret", true, &match, NULL), CMEK_OK);
    cr_assert(match);
    cmek_sigv4_auth_clean_up(&auth);
    cmek_sigv4_signed_clean_up(&out);
    post.host = NULL;
    cr_assert_eq(cmek_sigv4_sign_post(&post, &out, headers, &n), CMEK_ERR_INVALID_ARG);
    cr_assert_eq(n, 0);
}

Test(sigv4, signing_key_matches_aws_documentation_example)
{
    /* IAM User Guide, "Derive a signing key": secret ...+bPxRfiCYEXAMPLEKEY, 20120215,
     * us-east-1, iam. */
    uint8_t key[32];
    char hex[65];
    cr_assert_eq(cmek_sigv4_signing_key(S_VECTOR_SECRET, cmek_view_from_cstr("20120215"),
                                        cmek_view_from_cstr("us-east-1"),
                                        cmek_view_from_cstr("iam"), key),
                 CMEK_OK);
    cmek_hex_encode(key, sizeof(key), hex);
    cr_assert_str_eq(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

Test(sigv4, uri_encode_keeps_unreserved_and_optionally_slash)
{
    struct cmek_buf out;
    cmek_buf_init(&out, 256);
    struct cmek_view in = cmek_view_from_cstr("a b/c~-_.\xc3\xa9+=%");
    cr_assert_eq(cmek_sigv4_uri_encode(in, false, &out), CMEK_OK);
    cr_assert_str_eq(cmek_buf_cstr(&out), "a%20b/c~-_.%C3%A9%2B%3D%25");
    cmek_buf_reset(&out);
    cr_assert_eq(cmek_sigv4_uri_encode(in, true, &out), CMEK_OK);
    cr_assert_str_eq(cmek_buf_cstr(&out), "a%20b%2Fc~-_.%C3%A9%2B%3D%25");
    cmek_buf_clean_up(&out);
}

/* The signing-key cache gives the same verdicts as deriving every time, keeps the key of the
 * last scope it saw, and derives again when the scope changes. */
Test(sigv4, verify_cached_matches_uncached_and_follows_the_scope)
{
    struct cmek_http_header hh[] = {
        {cmek_view_from_cstr("Host"), cmek_view_from_cstr("127.0.0.1:4566")},
    };
    struct cmek_sigv4_request req = {cmek_view_from_cstr("POST"),
                                     cmek_view_from_cstr("/"),
                                     cmek_view_from_cstr(""),
                                     hh,
                                     1,
                                     cmek_view_from_cstr("Action=GetCallerIdentity")};
    struct cmek_sigv4_credentials creds = {"AKIDEXAMPLE", "secret-one", NULL};
    struct cmek_sigv4_key_cache cache;
    memset(&cache, 0, sizeof(cache));
    const char *regions[] = {"us-east-1", "us-east-1", "eu-west-1"};
    for (int i = 0; i < 3; i++) {
        struct cmek_sigv4_sign_options opt = {.credentials = &creds,
                                              .region = regions[i],
                                              .service = "sts",
                                              .when = 1440938160,
                                              .normalize_path = true};
        struct cmek_sigv4_signed out;
        cmek_sigv4_signed_init(&out);
        cr_assert_eq(cmek_sigv4_sign_headers(&req, &opt, &out), 0);
        struct cmek_http_header signed_h[] = {
            hh[0],
            {cmek_view_from_cstr("X-Amz-Date"), cmek_view_from_cstr(out.amz_date)},
            {cmek_view_from_cstr("Authorization"),
             cmek_view_from_cstr(cmek_buf_cstr(&out.authorization))},
        };
        struct cmek_sigv4_request sent = req;
        sent.headers = signed_h;
        sent.n_headers = 3;
        struct cmek_sigv4_auth auth;
        cmek_sigv4_auth_init(&auth);
        const char *why = NULL;
        cr_assert_eq(cmek_sigv4_parse(&sent, &auth, &why), 0, "%s", why);
        bool cached = false, plain = false;
        cr_assert_eq(
            cmek_sigv4_verify_cached(&sent, &auth, "secret-one", &cache, true, &cached, NULL), 0);
        cr_assert_eq(cmek_sigv4_verify(&sent, &auth, "secret-one", true, &plain, NULL), 0);
        cr_assert(cached && plain, "row %d", i);
        char want[64];
        snprintf(want, sizeof(want), "20150830/%s/sts", regions[i]);
        cr_assert_str_eq(cache.scope, want);
        cr_assert_eq(cmek_sigv4_verify(&sent, &auth, "secret-two", true, &plain, NULL), 0);
        cr_assert_not(plain);
        cmek_sigv4_auth_clean_up(&auth);
        cmek_sigv4_signed_clean_up(&out);
    }
    cmek_sigv4_key_cache_clean_up(&cache);
}
