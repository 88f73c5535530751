/* cmek/transport.h: how libcmek puts one HTTP request on the wire and gets one answer.
 *
 * A transport is a small vtable so the client can run over libcurl (the real one, made by
 * cmek_transport_curl_new) or over the mock (cmek_transport_mock_new), which records every
 * request and answers from a queue the test fills. The client signs and retries; the
 * transport only sends. A transport is used by one thread at a time. */
#ifndef CMEK_TRANSPORT_H
#define CMEK_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "cmek/buf.h"
#include "cmek/error.h"

#define CMEK_HTTP_MAX_HEADERS          64
#define CMEK_HTTP_DEFAULT_MAX_RESPONSE (8u * 1024u * 1024u) /* response body cap */

struct cmek_http_field {
    const char *name;
    const char *value;
};

/* One request. Everything borrowed from the caller for the duration of send. */
struct cmek_http_request {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE", "LIST" */
    const char *url;    /* absolute: scheme, host[:port], path and query, percent-encoded */
    const struct cmek_http_field *headers; /* sent as given, in order (Host is derived) */
    size_t n_headers;
    const void *body; /* may be NULL when body_len is 0 */
    size_t body_len;
};

/* One answer. Init with cmek_http_response_init, free with _clean_up. */
struct cmek_http_response {
    long status;          /* HTTP status; 0 before an answer */
    struct cmek_buf head; /* the response header lines, "Name: value\r\n" each */
    struct cmek_buf body; /* capped at the transport's max_response_bytes */
};

void cmek_http_response_init(struct cmek_http_response *resp);
void cmek_http_response_reset(struct cmek_http_response *resp);
void cmek_http_response_clean_up(struct cmek_http_response *resp);
/* The value of the first response header called name (case-insensitive), trimmed, copied
 * into out (truncated to out_len - 1); false when absent. */
bool cmek_http_response_header(const struct cmek_http_response *resp, const char *name, char *out,
                               size_t out_len);

/* Why a send produced no answer. */
enum cmek_transport_failure {
    CMEK_TRANSPORT_OK = 0,
    CMEK_TRANSPORT_CONNECT,  /* nothing was sent: DNS, refused, unreachable (safe to retry) */
    CMEK_TRANSPORT_TLS,      /* the TLS handshake or certificate check failed */
    CMEK_TRANSPORT_TIMEOUT,  /* the connect or total timeout passed */
    CMEK_TRANSPORT_TOO_BIG,  /* the response body passed max_response_bytes */
    CMEK_TRANSPORT_BROKEN,   /* the connection failed after the request may have been sent */
    CMEK_TRANSPORT_INTERNAL, /* the transport itself failed (out of memory, bad URL) */
};

struct cmek_transport {
    /* Sends req and fills resp. Returns CMEK_OK with resp->status set when an HTTP answer
     * came back (whatever its status), else CMEK_ERR_TRANSPORT with *failure and a
     * human-readable why (NUL-terminated, at most why_len bytes). */
    int (*send)(struct cmek_transport *self, const struct cmek_http_request *req,
                struct cmek_http_response *resp, enum cmek_transport_failure *failure, char *why,
                size_t why_len);
    void (*destroy)(struct cmek_transport *self);
};

struct cmek_transport_options {
    const char *ca_bundle;     /* PEM file of trusted CAs; NULL: the system's. TLS peer and
                                  host verification are always on; there is no "insecure". */
    long connect_timeout_ms;   /* 0: 5000 */
    long timeout_ms;           /* whole request; 0: 30000 */
    size_t max_response_bytes; /* 0: CMEK_HTTP_DEFAULT_MAX_RESPONSE */
    const char *user_agent;    /* NULL: "libcmek/<version>" */
};

/* A libcurl transport: one easy handle, reused so connections are kept alive. */
CMEK_WUR int cmek_transport_curl_new(const struct cmek_transport_options *opt,
                                     struct cmek_transport **out);

/* ---- The mock transport, for tests ---- */

/* A request as the mock received it: owned copies. */
struct cmek_mock_request {
    char *method;
    char *url;
    struct cmek_http_field *headers; /* owned names and values */
    size_t n_headers;
    struct cmek_buf body;
};

CMEK_WUR int cmek_transport_mock_new(struct cmek_transport **out);
/* Queues the next answer: status with body (may be NULL) and extra header lines
 * ("Name: value\r\n..."; may be NULL). With failure != CMEK_TRANSPORT_OK the send fails
 * that way instead. When the queue is empty, send answers 599 with an empty body. */
CMEK_WUR int cmek_transport_mock_push(struct cmek_transport *mock, long status, const char *head,
                                      const char *body, enum cmek_transport_failure failure);
size_t cmek_transport_mock_count(const struct cmek_transport *mock);
/* The i-th request received (0 = first); NULL past the end. Borrowed from the mock. */
const struct cmek_mock_request *cmek_transport_mock_request(const struct cmek_transport *mock,
                                                            size_t i);
/* The value of a captured request header (case-insensitive name), or NULL. */
const char *cmek_mock_request_header(const struct cmek_mock_request *req, const char *name);

#endif
