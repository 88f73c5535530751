/* transport_mock.c: a transport for tests. It keeps an owned copy of every request it is
 * given and answers from a FIFO queue the test fills with cmek_transport_mock_push; an
 * empty queue answers 599 so a test that forgot an answer fails visibly. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmek/transport.h"

#define S_MAX_BODY_BYTES (64u * 1024u * 1024u) /* cap on a recorded request body */

struct s_answer {
    long status;
    char *head; /* owned; may be NULL */
    char *body; /* owned; may be NULL */
    enum cmek_transport_failure failure;
};

struct s_mock {
    struct cmek_transport base; /* first: the vtable the client sees */
    struct s_answer *answers;   /* owned queue */
    size_t n_answers;
    size_t next_answer;
    struct cmek_mock_request *requests; /* owned copies */
    size_t n_requests;
};

static struct s_mock *s_from(struct cmek_transport *t)
{
    return (struct s_mock *)t;
}

static const struct s_mock *s_from_const(const struct cmek_transport *t)
{
    return (const struct s_mock *)t;
}

static void s_request_clean_up(struct cmek_mock_request *r)
{
    free(r->method);
    free(r->url);
    for (size_t i = 0; i < r->n_headers; i++) {
        free((char *)r->headers[i].name);
        free((char *)r->headers[i].value);
    }
    free(r->headers);
    cmek_buf_clean_up(&r->body);
    memset(r, 0, sizeof(*r));
}

static char *s_dup_or_null(const char *s, bool *failed)
{
    char *d = s != NULL ? strdup(s) : NULL;
    *failed = *failed || (s != NULL && d == NULL);
    return d;
}

static int s_record(struct s_mock *m, const struct cmek_http_request *req)
{
    int rc = CMEK_OK;
    struct cmek_mock_request copy;
    memset(&copy, 0, sizeof(copy));
    cmek_buf_init(&copy.body, S_MAX_BODY_BYTES);
    bool failed = false;
    copy.method = s_dup_or_null(req->method, &failed);
    copy.url = s_dup_or_null(req->url, &failed);
    if (req->n_headers > 0) {
        copy.headers = calloc(req->n_headers, sizeof(*copy.headers));
        failed = failed || copy.headers == NULL;
    }
    for (size_t i = 0; !failed && i < req->n_headers; i++) {
        copy.headers[i].name = s_dup_or_null(req->headers[i].name, &failed);
        copy.headers[i].value = s_dup_or_null(req->headers[i].value, &failed);
        copy.n_headers = i + 1;
    }
    if (failed) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    if (req->body_len > 0) {
        rc = cmek_buf_append(&copy.body, req->body, req->body_len);
        if (rc) {
            goto done;
        }
    }
    struct cmek_mock_request *grown =
        realloc(m->requests, (m->n_requests + 1) * sizeof(*m->requests));
    if (grown == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    m->requests = grown;
    m->requests[m->n_requests++] = copy;
    memset(&copy, 0, sizeof(copy));
done:
    if (rc) {
        s_request_clean_up(&copy);
    }
    return rc;
}

static void s_set_why(char *why, size_t why_len, const char *text)
{
    if (why != NULL && why_len > 0) {
        size_t n = strlen(text);
        n = n < why_len - 1 ? n : why_len - 1;
        memcpy(why, text, n);
        why[n] = '\0';
    }
}

static int s_send(struct cmek_transport *self, const struct cmek_http_request *req,
                  struct cmek_http_response *resp, enum cmek_transport_failure *failure, char *why,
                  size_t why_len)
{
    struct s_mock *m = s_from(self);
    int rc = CMEK_OK;
    *failure = CMEK_TRANSPORT_OK;
    s_set_why(why, why_len, "");
    cmek_http_response_reset(resp);
    rc = s_record(m, req);
    if (rc) {
        *failure = CMEK_TRANSPORT_INTERNAL;
        s_set_why(why, why_len, "mock: out of memory recording the request");
        rc = CMEK_ERR_TRANSPORT;
        goto done;
    }
    if (m->next_answer >= m->n_answers) {
        resp->status = 599;
        goto done;
    }
    const struct s_answer *a = &m->answers[m->next_answer++];
    if (a->failure != CMEK_TRANSPORT_OK) {
        *failure = a->failure;
        s_set_why(why, why_len, "mock: queued transport failure");
        rc = CMEK_ERR_TRANSPORT;
        goto done;
    }
    resp->status = a->status;
    if (a->head != NULL) {
        rc = cmek_buf_append_str(&resp->head, a->head);
    }
    if (rc == CMEK_OK && a->body != NULL) {
        rc = cmek_buf_append_str(&resp->body, a->body);
    }
    if (rc) {
        /* The queued body is over the response cap: what a real transport reports. */
        *failure = rc == CMEK_ERR_LIMIT ? CMEK_TRANSPORT_TOO_BIG : CMEK_TRANSPORT_INTERNAL;
        s_set_why(why, why_len, "mock: queued answer does not fit the response buffers");
        resp->status = 0;
        rc = CMEK_ERR_TRANSPORT;
    }
done:
    return rc;
}

static void s_destroy(struct cmek_transport *self)
{
    struct s_mock *m = s_from(self);
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < m->n_answers; i++) {
        free(m->answers[i].head);
        free(m->answers[i].body);
    }
    free(m->answers);
    for (size_t i = 0; i < m->n_requests; i++) {
        s_request_clean_up(&m->requests[i]);
    }
    free(m->requests);
    free(m);
}

int cmek_transport_mock_new(struct cmek_transport **out)
{
    int rc = CMEK_OK;
    if (out == NULL) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    *out = NULL;
    struct s_mock *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    m->base.send = s_send;
    m->base.destroy = s_destroy;
    *out = &m->base;
done:
    return rc;
}

int cmek_transport_mock_push(struct cmek_transport *mock, long status, const char *head,
                             const char *body, enum cmek_transport_failure failure)
{
    int rc = CMEK_OK;
    struct s_answer a = {status, NULL, NULL, failure};
    if (mock == NULL || mock->send != s_send) {
        rc = CMEK_ERR_INVALID_ARG;
        goto done;
    }
    struct s_mock *m = s_from(mock);
    bool failed = false;
    a.head = s_dup_or_null(head, &failed);
    a.body = s_dup_or_null(body, &failed);
    if (failed) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    struct s_answer *grown = realloc(m->answers, (m->n_answers + 1) * sizeof(*m->answers));
    if (grown == NULL) {
        rc = CMEK_ERR_NOMEM;
        goto done;
    }
    m->answers = grown;
    m->answers[m->n_answers++] = a;
    a.head = NULL;
    a.body = NULL;
done:
    free(a.head);
    free(a.body);
    return rc;
}

size_t cmek_transport_mock_count(const struct cmek_transport *mock)
{
    return mock != NULL && mock->send == s_send ? s_from_const(mock)->n_requests : 0;
}

const struct cmek_mock_request *cmek_transport_mock_request(const struct cmek_transport *mock,
                                                            size_t i)
{
    if (mock == NULL || mock->send != s_send) {
        return NULL;
    }
    const struct s_mock *m = s_from_const(mock);
    return i < m->n_requests ? &m->requests[i] : NULL;
}

const char *cmek_mock_request_header(const struct cmek_mock_request *req, const char *name)
{
    if (req == NULL || name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            return req->headers[i].value;
        }
    }
    return NULL;
}
