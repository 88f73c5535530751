/* cmek/sigv4.h: AWS Signature Version 4, signing and verifying, shared by the emulator's
 * verifier and the client library's signer so the algorithm exists once.
 *
 * Reference: AWS General Reference, "Create a signed AWS API request" (SigV4), and the
 * aws-c-auth signing test suite (../shared/reference/sigv4-test-suite/v4), which the tests
 * in tests/test_sigv4.c run in full, in both directions.
 *
 * Nothing here allocates except into the cmek_buf members the caller initialises and later
 * cleans up; every view is borrowed from the request the caller passed. */
#ifndef CMEK_SIGV4_H
#define CMEK_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cmek/buf.h"
#include "cmek/error.h"

#define CMEK_SIGV4_MAX_CANONICAL_BYTES (256u * 1024u) /* cap on canonical request text */
#define CMEK_SIGV4_SIGNATURE_HEX_LEN   64

struct cmek_http_header {
    struct cmek_view name;  /* as received; compared case-insensitively */
    struct cmek_view value; /* as received, untrimmed */
};

/* An HTTP request as it is (or will be) on the wire. All views borrowed. */
struct cmek_sigv4_request {
    struct cmek_view method; /* "GET", "POST" */
    struct cmek_view path;   /* raw request path as sent, percent-encoded, without the query */
    struct cmek_view query;  /* raw query string as sent, without '?'; empty when none */
    const struct cmek_http_header *headers; /* in order; a name may repeat */
    size_t n_headers;
    struct cmek_view body;
};

struct cmek_sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL for long-term credentials */
};

struct cmek_sigv4_sign_options {
    const struct cmek_sigv4_credentials *credentials;
    const char *region;
    const char *service;
    time_t when;             /* signing time, becomes X-Amz-Date */
    bool normalize_path;     /* true for every service but S3 */
    bool sign_body;          /* add and sign x-amz-content-sha256 */
    bool omit_session_token; /* sign without the token; the caller adds it after signing */
    uint32_t expires_s;      /* query (presigned) mode: X-Amz-Expires */
};

/* What signing produced. Init with cmek_sigv4_signed_init, free with _clean_up. */
struct cmek_sigv4_signed {
    struct cmek_buf canonical_request;
    struct cmek_buf string_to_sign;
    char signature[CMEK_SIGV4_SIGNATURE_HEX_LEN + 1];
    char amz_date[17]; /* YYYYMMDD'T'HHMMSS'Z' */
    char payload_hash[CMEK_SIGV4_SIGNATURE_HEX_LEN + 1];
    struct cmek_buf signed_headers; /* "host;x-amz-date" */
    struct cmek_buf authorization;  /* header mode: the Authorization value */
    struct cmek_buf query;          /* query mode: the complete new query string */
};

void cmek_sigv4_signed_init(struct cmek_sigv4_signed *out);
void cmek_sigv4_signed_clean_up(struct cmek_sigv4_signed *out);

/* Header mode. Signs every header in req (which must include Host) plus X-Amz-Date,
 * X-Amz-Security-Token (unless omit_session_token or no token) and x-amz-content-sha256
 * (when sign_body): the caller sends those headers with the values in out
 * (amz_date, credentials->session_token, payload_hash) and Authorization.
 * Headers in req that signing writes itself (Authorization, X-Amz-Date,
 * X-Amz-Security-Token, x-amz-content-sha256) and hop-by-hop or proxy-rewritten ones
 * (User-Agent, X-Amzn-Trace-Id, Expect, Transfer-Encoding, Connection, Upgrade,
 * Sec-WebSocket-*) are not signed. The path is normalized when normalize_path and always
 * URI-encoded once more (non-S3 rules). CMEK_ERR_INVALID_ARG without Host or credentials,
 * CMEK_ERR_LIMIT when a built text would exceed CMEK_SIGV4_MAX_CANONICAL_BYTES. */
CMEK_WUR int cmek_sigv4_sign_headers(const struct cmek_sigv4_request *req,
                                     const struct cmek_sigv4_sign_options *opt,
                                     struct cmek_sigv4_signed *out);

/* The most headers cmek_sigv4_sign_to_headers adds: X-Amz-Date, X-Amz-Security-Token,
 * x-amz-content-sha256, Authorization. */
#define CMEK_SIGV4_MAX_ADDED_HEADERS 4

/* cmek_sigv4_sign_headers, then the headers the caller must send on top of req's, in this
 * order: X-Amz-Date, X-Amz-Security-Token (whenever the credentials carry a token, signed
 * or not), x-amz-content-sha256 (when sign_body), Authorization. The views in added borrow
 * from out (date, hash, Authorization) and from opt->credentials (the token): keep both
 * alive until the request is sent. *n_added is 0 on failure. */
CMEK_WUR int cmek_sigv4_sign_to_headers(const struct cmek_sigv4_request *req,
                                        const struct cmek_sigv4_sign_options *opt,
                                        struct cmek_sigv4_signed *out,
                                        struct cmek_http_header added[CMEK_SIGV4_MAX_ADDED_HEADERS],
                                        size_t *n_added);

/* An AWS POST to "/" as the Query and JSON 1.1 protocols send it, signed in header mode
 * at when. headers receives Content-Type, Host, X-Amz-Target (when target is not NULL)
 * and then what cmek_sigv4_sign_to_headers adds; the views borrow from post's strings and
 * from out: keep them alive until the request is sent. *n_headers is 0 on failure. */
#define CMEK_SIGV4_POST_MAX_HEADERS (3 + CMEK_SIGV4_MAX_ADDED_HEADERS)
struct cmek_sigv4_post {
    const char *host;
    const char *content_type;
    const char *target; /* X-Amz-Target, or NULL */
    const char *body;
    const struct cmek_sigv4_credentials *credentials;
    const char *region;
    const char *service;
    time_t when;
};
CMEK_WUR int cmek_sigv4_sign_post(const struct cmek_sigv4_post *post, struct cmek_sigv4_signed *out,
                                  struct cmek_http_header headers[CMEK_SIGV4_POST_MAX_HEADERS],
                                  size_t *n_headers);

/* Query (presigned) mode: out->query is req's query plus the X-Amz-* parameters and
 * X-Amz-Signature, ready to send. Signs the headers in req. expires_s must be at most
 * 604800. With omit_session_token the token is left out of the signature but still
 * appended to out->query as X-Amz-Security-Token (aws-c-auth's behaviour). */
CMEK_WUR int cmek_sigv4_sign_query(const struct cmek_sigv4_request *req,
                                   const struct cmek_sigv4_sign_options *opt,
                                   struct cmek_sigv4_signed *out);

/* ---- Verifying ---- */

enum cmek_sigv4_mode {
    CMEK_SIGV4_MODE_NONE = 0, /* no Authorization header, no X-Amz-Algorithm, -Credential or
                                 -Signature query parameter */
    CMEK_SIGV4_MODE_HEADER,
    CMEK_SIGV4_MODE_QUERY,
};

/* The parts of a received signature. Views point into the request, or into decoded
 * for the query mode, whose percent-decoded values it owns. */
struct cmek_sigv4_auth {
    enum cmek_sigv4_mode mode;
    struct cmek_view algorithm; /* "AWS4-HMAC-SHA256" */
    struct cmek_view access_key_id;
    struct cmek_view scope_date; /* YYYYMMDD */
    struct cmek_view region;
    struct cmek_view service;
    struct cmek_view terminator;     /* "aws4_request" */
    struct cmek_view signed_headers; /* "content-type;host;x-amz-date" */
    struct cmek_view signature;      /* hex as sent */
    struct cmek_view amz_date;       /* the signed timestamp as sent: X-Amz-Date (header or
                                        query), or the Date header when X-Amz-Date is absent */
    struct cmek_view session_token;  /* X-Amz-Security-Token (header or query); may be empty */
    time_t request_time;             /* amz_date parsed (Date: ISO 8601 basic or IMF-fixdate) */
    uint32_t expires_s;              /* query mode: X-Amz-Expires */
    struct cmek_buf decoded;         /* owned storage for query-mode values */
};

void cmek_sigv4_auth_init(struct cmek_sigv4_auth *auth);
void cmek_sigv4_auth_clean_up(struct cmek_sigv4_auth *auth);

/* Finds and parses the signature in req. On CMEK_ERR_PARSE, *why is set to a static,
 * client-safe text in AWS's words (e.g. "Authorization header requires 'Signature'
 * parameter."); the service maps it to IncompleteSignature(Exception). When the request
 * carries no signature at all, returns CMEK_OK with auth->mode == CMEK_SIGV4_MODE_NONE.
 * auth may be reused: every call starts afresh. */
CMEK_WUR int cmek_sigv4_parse(const struct cmek_sigv4_request *req, struct cmek_sigv4_auth *auth,
                              const char **why);

/* True when auth's scope date is the date of auth->request_time. AWS rejects a mismatch as
 * "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from
 * HTTP"; cmek_sigv4_verify also treats it as a mismatch. */
bool cmek_sigv4_scope_date_matches(const struct cmek_sigv4_auth *auth);

/* Recomputes the signature of req from auth's scope and signed header list and the given
 * secret, and compares it in constant time. *match is false for any mismatch, including a
 * signed header missing from req, an x-amz-content-sha256 that is not the body's hash, and
 * a scope date other than the request's. In query mode a request whose
 * X-Amz-Security-Token was added after signing also matches. Returns non-zero only for
 * internal failures (CMEK_ERR_LIMIT when the canonical request would exceed the cap). When
 * canonical_out is non-NULL it receives the recomputed canonical request (for logs/tests). */
CMEK_WUR int cmek_sigv4_verify(const struct cmek_sigv4_request *req,
                               const struct cmek_sigv4_auth *auth, const char *secret_access_key,
                               bool normalize_path, bool *match, struct cmek_buf *canonical_out);

/* The derived signing key of one credential for one scope (date/region/service), kept by
 * the caller next to the secret so a verifier that sees the same credential many times a
 * day derives it once (4 of the 5 HMACs per request). Owned by the caller, who also
 * serializes access to it; wipe it with cmek_sigv4_key_cache_clean_up. */
struct cmek_sigv4_key_cache {
    char scope[160]; /* "date/region/service"; "" when empty */
    uint8_t key[32];
};
void cmek_sigv4_key_cache_clean_up(struct cmek_sigv4_key_cache *cache);

/* cmek_sigv4_verify, with the signing key taken from (or stored into) cache. */
CMEK_WUR int cmek_sigv4_verify_cached(const struct cmek_sigv4_request *req,
                                      const struct cmek_sigv4_auth *auth,
                                      const char *secret_access_key,
                                      struct cmek_sigv4_key_cache *cache, bool normalize_path,
                                      bool *match, struct cmek_buf *canonical_out);

/* Building blocks, exposed for the test suite and for the client. */
CMEK_WUR int cmek_sigv4_signing_key(const char *secret_access_key, struct cmek_view date,
                                    struct cmek_view region, struct cmek_view service,
                                    uint8_t out[32]);
/* RFC 3986 encoding as SigV4 wants it: unreserved A-Za-z0-9-_.~ kept, all else %XX
 * (uppercase); '/' kept when encode_slash is false. */
CMEK_WUR int cmek_sigv4_uri_encode(struct cmek_view in, bool encode_slash, struct cmek_buf *out);

#endif
