/* harness.h: drives the emulator's services in-process, as real clients would reach them:
 * requests are SigV4-signed with the shared signer and go through the same router and
 * services as over HTTP, with a fake wall clock the test controls. */
#ifndef CMEK_TEST_HARNESS_H
#define CMEK_TEST_HARNESS_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <time.h>

#include "app.h"
#include "cmek/buf.h"
#include "cmek/sigv4.h"
#include "http.h"

struct th_creds {
    char akid[129];
    char secret[129];
    char token[1024]; /* "" for long-term keys */
};

struct th_ctx {
    struct emu_app app;
    time_t wall;          /* the fake wall clock, in seconds */
    int status;           /* of the last exchange */
    struct cmek_buf body; /* of the last exchange */
};

/* The world's principals: the customer's admin user and CockroachDB Cloud's principal. */
void th_creds_admin(struct th_creds *out);
void th_creds_crdb(struct th_creds *out);

/* Builds an emulator from fixtures/world.json with the wall clock at 2026-11-23T12:00:00Z. */
void th_init(struct th_ctx *t);
void th_clean_up(struct th_ctx *t);

/* The fixture most suites share: a file-wide context s_t and admin credentials s_admin, set
 * up by s_init and torn down by s_fini (with cmek_test_fini, from test_common.h):
 *   TH_ADMIN_FIXTURE()
 *   TestSuite(name, .init = s_init, .fini = s_fini); */
#define TH_ADMIN_FIXTURE()                                                                         \
    static struct th_ctx s_t;                                                                      \
    static struct th_creds s_admin;                                                                \
    static void s_init(void)                                                                       \
    {                                                                                              \
        th_init(&s_t);                                                                             \
        th_creds_admin(&s_admin);                                                                  \
    }                                                                                              \
    static void s_fini(void)                                                                       \
    {                                                                                              \
        th_clean_up(&s_t);                                                                         \
        cmek_test_fini();                                                                          \
    }

/* A signed Query (form POST) request to service ("iam", "sts"), signed at the wall clock
 * plus sign_offset_s. Returns the HTTP status; the body is in t->body. */
int th_query(struct th_ctx *t, const char *service, const struct th_creds *c, const char *form);
int th_query_skewed(struct th_ctx *t, const char *service, const struct th_creds *c,
                    const char *form, long sign_offset_s);
/* Same, with a caller-chosen region in the credential scope. */
int th_query_region(struct th_ctx *t, const char *service, const char *region,
                    const struct th_creds *c, const char *form);
/* A signed KMS JSON 1.1 request. */
int th_kms(struct th_ctx *t, const struct th_creds *c, const char *operation, const char *json);
/* Any signed POST: service names the credential scope; target, when not NULL, is sent as
 * X-Amz-Target. */
int th_signed(struct th_ctx *t, const char *service, const char *region, const struct th_creds *c,
              const char *content_type, const char *target, const char *body, long offset_s);
/* A request exactly as given (no signing). */
int th_exchange(struct th_ctx *t, const char *method, const char *path_and_query,
                struct cmek_http_header *headers, size_t n_headers, const char *body);
/* An unsigned request (admin endpoints, or negative cases). */
int th_raw(struct th_ctx *t, const char *method, const char *path_and_query,
           const char *content_type, const char *body);

/* A signed Query request whose form is a printf format. */
int th_queryf(struct th_ctx *t, const char *service, const struct th_creds *c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int th_vqueryf(struct th_ctx *t, const char *service, const struct th_creds *c, const char *fmt,
               va_list ap) __attribute__((format(printf, 4, 0)));
/* A signed KMS request with a JSON body (stolen; asserted non-NULL, so json_pack can be
 * passed directly) in region (NULL: us-east-1). */
int th_kms_json(struct th_ctx *t, const char *region, const struct th_creds *c, const char *op,
                json_t *body);
/* The last reply parsed as JSON (new reference); fails the test when it is not JSON. */
json_t *th_json(const struct th_ctx *t);
/* The last reply is a KMS error: 400, this __type, and exactly message (NULL: no message
 * member at all). */
void th_expect_kms_error(const struct th_ctx *t, const char *type, const char *message);
/* The last reply is an AWS Query error: status, Code, Type (Sender below 500, Receiver
 * above) and exactly message. */
void th_expect_query_error(const struct th_ctx *t, int status, const char *code,
                           const char *message);

/* The last reply is a Query success: 200 and no <ErrorResponse>. */
void th_expect_query_ok(const struct th_ctx *t);
/* The first <tag> of the last reply has exactly want as its text. */
void th_expect_xml(const struct th_ctx *t, const char *tag, const char *want);

/* The text of the first <tag>...</tag> in t->body (the five XML entities decoded),
 * copied into out; false when absent. */
bool th_xml(const struct th_ctx *t, const char *tag, char *out, size_t cap);
/* The Code of an AWS Query error, or "" when the body is no error. */
const char *th_error_code(const struct th_ctx *t, char *out, size_t cap);

/* Percent-encodes a value for a form body (RFC 3986 unreserved kept). Returns out. */
const char *th_form_encode(const char *value, char *out, size_t cap);

/* AssumeRole as c; on success fills session and returns 200. external_id may be NULL. */
int th_assume_role(struct th_ctx *t, const struct th_creds *c, const char *role_arn,
                   const char *session_name, const char *external_id, struct th_creds *session);

/* The world's Cloud API key and organization. */
#define TH_CCLOUD_KEY "CCDB1_Zp3Wm9KxQ2_Tq8VnR4sL7yB2dF6hJ0kM3pX9cW5eA1gU"
#define TH_CCLOUD_ORG "9d7b6c1e-4f2a-4b8e-9a35-2f1c0e8d7a61"

/* A Cloud API request as libcmek sends it: "Authorization: Bearer <api_key>" (none when
 * api_key is NULL), Cc-Version (none when NULL) and a JSON body (NULL: none). Every exchange
 * with a path under /api/ (this one or any other) is appended to the JSON-lines file named by
 * the environment variable CMEK_CCLOUD_RESPONSE_LOG, when set: one line
 * {"method","path","status","body": <the parsed JSON body, or null>}. */
int th_ccloud_as(struct th_ctx *t, const char *method, const char *path, const char *api_key,
                 const char *cc_version, const char *body);
/* th_ccloud_as with the world's key and Cc-Version 2024-09-16. */
int th_ccloud(struct th_ctx *t, const char *method, const char *path, const char *body);

/* The world's Vault root token (namespace "" : it may use every namespace). */
#define TH_VAULT_TOKEN "hvs.CAESIJlWh7V3cmek-harness-root-token"

/* A Vault request as the CLI sends it: X-Vault-Token (none when NULL), X-Vault-Namespace (none
 * when NULL) and body exactly as given (NULL: none). path includes /v1/ and any query. */
int th_vault(struct th_ctx *t, const char *method, const char *path, const char *token,
             const char *ns, const char *body);

/* Advances the emulator clock through the admin endpoint ("2h"). */
void th_advance(struct th_ctx *t, const char *duration);

#endif
