/* transport_curl.c: the real transport, on libcurl's easy interface.
 *
 * One easy handle per transport, reused for every request so connections stay alive (curl
 * keeps them in the handle's connection cache). The request goes out exactly as the client
 * built and signed it: curl's own "Expect: 100-continue", "Accept: *" + "/" + "*" and implicit
 * form Content-Type are suppressed, because a header curl adds after signing is at best
 * unsigned noise and at worst (the form Content-Type on a Vault JSON body) changes how the
 * server reads the body. TLS peer and host verification are always on; only http and https
 * URLs are accepted, and redirects are never followed (a 3xx is an answer like any other).
 *
 * curl's error text is kept for humans (why); the decision of what to retry is made on the
 * mapped cmek_transport_failure only. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmek/transport.h"

#ifndef CMEK_VERSION
#define CMEK_VERSION "0"
#endif

#define S_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define S_DEFAULT_TIMEOUT_MS         30000L
#define S_MAX_HEADER_LINE            (16u * 1024u) /* one "Name: value" line we send */

struct s_curl {
    struct cmek_transport base; /* first: the vtable the client sees */
    CURL *easy;                 /* owned; reused across requests */
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response_bytes;
    char *ca_bundle;  /* owned; NULL: the system store */
    char *user_agent; /* owned */
    char errbuf[CURL_ERROR_SIZE];
};

/* Where the callbacks of one perform write, and why they stopped. */
struct s_sink {
    struct cmek_http_response *resp;
    size_t max_body;
    bool too_big;
};

/* curl_global_init is not thread-safe before 7.84 and must run once per process; a
 * pthread_once guard is the one piece of static state here, and it is immutable after the
 * first call. A failure shows up as curl_easy_init returning NULL. */
static pthread_once_t s_global_once = PTHREAD_ONCE_INIT;

static void s_global_init(void)
{
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void s_set_why(char *why, size_t why_len, const char *prefix, const char *detail)
{
    if (why != NULL && why_len > 0) {
        snprintf(why, why_len, "%s%s%s", prefix, detail[0] ? ": " : "", detail);
    }
}

static enum cmek_transport_failure s_map(CURLcode code, bool too_big)
{
    switch (code) {
    case CURLE_OK:
        return CMEK_TRANSPORT_OK;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return CMEK_TRANSPORT_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return CMEK_TRANSPORT_TLS;
    case CURLE_OPERATION_TIMEDOUT:
        return CMEK_TRANSPORT_TIMEOUT;
    case CURLE_WRITE_ERROR:
        /* Our callbacks return short only when a cap is hit. */
        return too_big ? CMEK_TRANSPORT_TOO_BIG : CMEK_TRANSPORT_INTERNAL;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return CMEK_TRANSPORT_BROKEN;
    default:
        return CMEK_TRANSPORT_INTERNAL;
    }
}

static size_t s_on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct s_sink *sink = userdata;
    size_t n = size * nmemb;
    if (n > sink->max_body || sink->resp->body.len > sink->max_body - n) {
        sink->too_big = true;
        return 0;
    }
    if (cmek_buf_append(&sink->resp->body, ptr, n) != CMEK_OK) {
        sink->too_big = true;
        return 0;
    }
    return n;
}

/* curl calls this for every header line, status lines and the blank line included, and for
 * each interim (1xx) answer: head keeps the final answer's field lines only. */
static size_t s_on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct s_sink *sink = userdata;
    size_t n = size * nmemb;
    struct cmek_view line = {ptr, n};
    if (cmek_view_starts_with(line, "HTTP/")) {
        cmek_buf_reset(&sink->resp->head);
        return n;
    }
    if (n <= 2 && (n == 0 || ptr[0] == '\r' || ptr[0] == '\n')) {
        return n;
    }
    if (cmek_buf_append(&sink->resp->head, ptr, n) != CMEK_OK) {
        sink->too_big = true;
        return 0;
    }
    return n;
}

static bool s_has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static bool s_has_header(const struct cmek_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

static int s_append_line(struct curl_slist **list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (grown == NULL) {
        return CMEK_ERR_NOMEM;
    }
    *list = grown;
    return CMEK_OK;
}

/* The request's headers as curl lines, plus the suppressions of curl's defaults. A value
 * with CR or LF would split into another header (request smuggling): refused. */
static int s_build_headers(const struct cmek_http_request *req, struct curl_slist **out)
{
    int rc = CMEK_OK;
    struct curl_slist *list = NULL;
    struct cmek_buf line;
    cmek_buf_init(&line, S_MAX_HEADER_LINE);
    for (size_t i = 0; i < req->n_headers && rc == CMEK_OK; i++) {
        const char *name = req->headers[i].name;
        const char *value = req->headers[i].value;
        if (name == NULL || value == NULL || name[0] == '\0' || s_has_crlf(name) ||
            s_has_crlf(value) || strchr(name, ':') != NULL) {
            rc = CMEK_ERR_INVALID_ARG;
            break;
        }
        cmek_buf_reset(&line);
        /* "Name;" is curl's way to send a header with an empty value ("Name:" deletes it). */
        rc = value[0] == '\0' ? cmek_buf_appendf(&line, "%s;", name)
                              : cmek_buf_appendf(&line, "%s: %s", name, value);
        if (rc == CMEK_OK) {
            rc = s_append_line(&list, cmek_buf_cstr(&line));
        }
    }
    if (rc == CMEK_OK) {
        rc = s_append_line(&list, "Expect:");
    }
    if (rc == CMEK_OK && !s_has_header(req, "Accept")) {
        rc = s_append_line(&list, "Accept:");
    }
    if (rc == CMEK_OK && !s_has_header(req, "Content-Type")) {
        rc = s_append_line(&list, "Content-Type:");
    }
    if (rc) {
        curl_slist_free_all(list);
        list = NULL;
    }
    *out = list;
    cmek_buf_clean_up(&line);
    return rc;
}

/* Sets the method and body on the reused handle, undoing whatever the last request set. */
static CURLcode s_set_method(CURL *easy, const struct cmek_http_request *req)
{
    CURLcode c = curl_easy_setopt(easy, CURLOPT_NOBODY, 0L);
    bool has_body = req->body_len > 0;
    bool is_get = strcmp(req->method, "GET") == 0;
    bool is_post = strcmp(req->method, "POST") == 0;
    bool is_head = strcmp(req->method, "HEAD") == 0;
    if (c == CURLE_OK) {
        c = curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    }
    if (c != CURLE_OK) {
        return c;
    }
    if (is_post || has_body) {
        /* POSTFIELDSIZE first: POSTFIELDS alone would strlen a binary body. */
        c = curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (c == CURLE_OK) {
            c = curl_easy_setopt(easy, CURLOPT_POSTFIELDS, has_body ? (const char *)req->body : "");
        }
    } else if (is_head) {
        c = curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else {
        c = curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    }
    if (c == CURLE_OK && !is_get && !is_post && !is_head) {
        c = curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    }
    return c;
}

static int s_send(struct cmek_transport *self, const struct cmek_http_request *req,
                  struct cmek_http_response *resp, enum cmek_transport_failure *failure, char *why,
                  size_t why_len)
{
    struct s_curl *t = (struct s_curl *)self;
    int rc = CMEK_OK;
    struct curl_slist *headers = NULL;
    struct s_sink sink = {resp, t->max_response_bytes, false};
    *failure = CMEK_TRANSPORT_OK;
    if (why != NULL && why_len > 0) {
        why[0] = '\0';
    }
    cmek_http_response_reset(resp);
    if (resp->body.max_bytes < t->max_response_bytes) {
        resp->body.max_bytes = t->max_response_bytes;
    }
    if (req == NULL || req->method == NULL || req->url == NULL ||
        (req->n_headers > 0 && req->headers == NULL) || (req->body_len > 0 && req->body == NULL)) {
        *failure = CMEK_TRANSPORT_INTERNAL;
        s_set_why(why, why_len, "invalid request", "");
        rc = CMEK_ERR_TRANSPORT;
        goto done;
    }
    if (s_has_crlf(req->method) || s_build_headers(req, &headers) != CMEK_OK) {
        *failure = CMEK_TRANSPORT_INTERNAL;
        s_set_why(why, why_len, "refused to send a malformed or oversized header", "");
        rc = CMEK_ERR_TRANSPORT;
        goto done;
    }
    t->errbuf[0] = '\0';
    CURLcode c = curl_easy_setopt(t->easy, CURLOPT_URL, req->url);
    if (c == CURLE_OK) {
        c = curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, headers);
    }
    if (c == CURLE_OK) {
        c = s_set_method(t->easy, req);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, &sink);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, &sink);
    }
    if (c == CURLE_OK) {
        c = curl_easy_perform(t->easy);
    }
    if (c == CURLE_OK) {
        long status = 0;
        c = curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        resp->status = status;
    }
    if (c != CURLE_OK) {
        *failure = s_map(c, sink.too_big);
        if (*failure == CMEK_TRANSPORT_TOO_BIG) {
            char cap[64];
            snprintf(cap, sizeof(cap), "%zu bytes", t->max_response_bytes);
            s_set_why(why, why_len, "response larger than the cap", cap);
        } else {
            s_set_why(why, why_len, curl_easy_strerror(c), t->errbuf);
        }
        resp->status = 0;
        rc = CMEK_ERR_TRANSPORT;
    }
done:
    /* The handle must not keep pointers into this call's stack and lists. */
    (void)curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    (void)curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, (void *)NULL);
    (void)curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, (void *)NULL);
    curl_slist_free_all(headers);
    return rc;
}

static void s_destroy(struct cmek_transport *self)
{
    struct s_curl *t = (struct s_curl *)self;
    if (t == NULL) {
        return;
    }
    if (t->easy != NULL) {
        curl_easy_cleanup(t->easy);
    }
    free(t->ca_bundle);
    free(t->user_agent);
    free(t);
}

/* The options that stay the same for every request of this transport. */
static CURLcode s_configure(struct s_curl *t)
{
    CURL *e = t->easy;
    CURLcode c = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (c == CURLE_OK && t->ca_bundle != NULL) {
        c = curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_bundle);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, t->connect_timeout_ms);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t->timeout_ms);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_USERAGENT, t->user_agent);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_body);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_on_header);
    }
    if (c == CURLE_OK) {
        c = curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    }
    return c;
}

int cmek_transport_curl_new(const struct cmek_transport_options *opt, struct cmek_transport **out)
{
    int rc = CMEK_OK;
    struct s_curl *t = NULL;
    if (out == NULL) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    *out = NULL;
    if (opt != NULL && (opt->connect_timeout_ms < 0 || opt->timeout_ms < 0)) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    (void)pthread_once(&s_global_once, s_global_init);
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    t->base.send = s_send;
    t->base.destroy = s_destroy;
    t->connect_timeout_ms = opt != NULL && opt->connect_timeout_ms > 0
                                ? opt->connect_timeout_ms
                                : S_DEFAULT_CONNECT_TIMEOUT_MS;
    t->timeout_ms = opt != NULL && opt->timeout_ms > 0 ? opt->timeout_ms : S_DEFAULT_TIMEOUT_MS;
    t->max_response_bytes = opt != NULL && opt->max_response_bytes > 0
                                ? opt->max_response_bytes
                                : CMEK_HTTP_DEFAULT_MAX_RESPONSE;
    t->user_agent =
        strdup(opt != NULL && opt->user_agent != NULL ? opt->user_agent : "libcmek/" CMEK_VERSION);
    if (t->user_agent == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    if (opt != NULL && opt->ca_bundle != NULL) {
        t->ca_bundle = strdup(opt->ca_bundle);
        if (t->ca_bundle == NULL) {
            rc = CMEK_ERR_NOMEM;
            goto done;
        }
    }
    t->easy = curl_easy_init();
    if (t->easy == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    if (s_configure(t) != CURLE_OK) {
        rc = CMEK_ERR_INVALID_ARG; /* e.g. a libcurl without http/https */
        goto done;
    }
    *out = &t->base;
    t = NULL;
done:
    s_destroy(t == NULL ? NULL : &t->base);
    return rc;
}
