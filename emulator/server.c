#include "server.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "app.h"
#include "cmek/buf.h"
#include "cmek/crypto.h"
#include "cmek/vec.h"
#include "http.h"
#include "service.h"

#define S_MAX_HEADERS          128
#define S_CONNECTION_TIMEOUT_S 30

struct emu_server {
    struct MHD_Daemon *daemon;
    struct emu_app *app;
    /* Request ids (x-amzn-RequestId) are this random base with a counter mixed in: unique
     * per server and unpredictable enough, without a random-number call (and OpenSSL's
     * fork-check syscall) per request. */
    uint8_t request_id_base[16];
    _Atomic uint64_t request_seq;
    uint16_t port;
    char base_url[96];
};

/* Per-request state, created when the request line arrives (URI log callback) and freed
 * when the exchange completes: one allocation, the URI stored after the struct. */
struct s_exchange {
    struct cmek_buf body;
    bool started;
    bool too_large;
    size_t received_bytes;
    char raw_uri[]; /* as sent: path and query, not yet unescaped */
};

static void *s_uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    struct emu_server *server = cls;
    size_t uri_len = strlen(uri);
    struct s_exchange *ex = malloc(sizeof(*ex) + uri_len + 1);
    if (ex == NULL) {
        return NULL;
    }
    cmek_buf_init(&ex->body, server->app->cfg.max_body_bytes);
    ex->started = false;
    ex->too_large = false;
    ex->received_bytes = 0;
    memcpy(ex->raw_uri, uri, uri_len + 1);
    return ex;
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct s_exchange *ex = *con_cls;
    if (ex == NULL) {
        return;
    }
    cmek_buf_clean_up(&ex->body);
    free(ex);
    *con_cls = NULL;
}

struct s_header_list {
    struct cmek_http_header items[S_MAX_HEADERS];
    size_t n;
    bool overflow;
};

static enum MHD_Result s_collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                        size_t key_len, const char *value, size_t value_len)
{
    (void)kind;
    struct s_header_list *list = cls;
    if (list->n == S_MAX_HEADERS) {
        list->overflow = true;
        return MHD_NO;
    }
    struct cmek_http_header *h = &list->items[list->n++];
    h->name.ptr = key;
    h->name.len = key_len;
    h->value.ptr = value != NULL ? value : "";
    h->value.len = value != NULL ? value_len : 0;
    return MHD_YES;
}

/* Frees a body handed to libmicrohttpd once it is sent, wiping it first: bodies may hold
 * plaintext and data keys. Its length is not passed back, so the allocation's own size is
 * wiped (at least the body). */
static void s_free_body(void *body)
{
    cmek_cleanse(body, malloc_usable_size(body));
    free(body);
}

/* Queues resp, handing its body's storage to libmicrohttpd rather than copying it. */
static enum MHD_Result s_send(struct MHD_Connection *conn, struct emu_response *resp)
{
    struct MHD_Response *r = NULL;
    if (resp->body.len == 0) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = resp->body.len;
        char *body = cmek_buf_steal(&resp->body);
        r = MHD_create_response_from_buffer_with_free_callback_cls(len, body, s_free_body, body);
        if (r == NULL) {
            s_free_body(body);
        }
    }
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    for (size_t i = 0; i < resp->n_headers; i++) {
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    }
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void s_build_request(struct s_exchange *ex, const char *method,
                            const struct s_header_list *headers, struct emu_request *req)
{
    memset(req, 0, sizeof(*req));
    req->method = method;
    const char *uri = ex->raw_uri;
    const char *q = strchr(uri, '?');
    req->path.ptr = uri;
    req->path.len = q ? (size_t)(q - uri) : strlen(uri);
    req->query.ptr = q ? q + 1 : "";
    req->query.len = q ? strlen(q + 1) : 0;
    req->headers = headers->items;
    req->n_headers = headers->n;
    req->body.ptr = ex->body.data != NULL ? ex->body.data : "";
    req->body.len = ex->body.len;
}

static void s_request_id(struct emu_server *server, char out[37])
{
    uint8_t b[16];
    memcpy(b, server->request_id_base, sizeof(b));
    uint64_t n = atomic_fetch_add(&server->request_seq, 1);
    for (int i = 0; i < 8; i++) {
        b[8 + i] ^= (uint8_t)(n >> (8 * i));
    }
    emu_uuid_format(b, out);
}

static enum MHD_Result s_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    (void)url;
    (void)version;
    struct emu_server *server = cls;
    struct emu_app *app = server->app;
    struct s_exchange *ex = *con_cls;
    if (ex == NULL) {
        return MHD_NO; /* out of memory at the request line */
    }
    if (!ex->started) {
        ex->started = true;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL) {
            char *end = NULL;
            unsigned long long n = strtoull(cl, &end, 10);
            if (end != cl && *end == '\0' && n > app->cfg.max_body_bytes) {
                ex->too_large = true;
                ex->received_bytes = (size_t)n;
            }
        }
        if (!ex->too_large) {
            return MHD_YES; /* wait for the body */
        }
    } else if (*upload_data_size > 0) {
        if (!ex->too_large &&
            cmek_buf_append(&ex->body, upload_data, *upload_data_size) != CMEK_OK) {
            ex->too_large = true;
            cmek_buf_clean_up(&ex->body);
        }
        ex->received_bytes += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }

    struct s_header_list headers; /* 4 KB: only the used entries are written */
    headers.n = 0;
    headers.overflow = false;
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, s_collect_header, &headers);
    struct emu_request req;
    s_build_request(ex, method, &headers, &req);
    s_request_id(server, req.request_id);
    struct emu_response resp;
    emu_response_init(&resp);
    /* Refusals are rendered in the addressed service's format; emu_dispatch routes the rest. */
    const struct emu_service *svc = ex->too_large || headers.overflow ? emu_route(&req) : NULL;
    if (ex->too_large) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Request body is larger than the limit of %zu bytes",
                 app->cfg.max_body_bytes);
        svc->render_error(app, &req, &resp, 413, "RequestEntityTooLarge", msg);
        emu_log(app, EMU_LOG_WARN, "%s %s: body over %zu bytes refused", svc->name, method,
                app->cfg.max_body_bytes);
    } else if (headers.overflow) {
        svc->render_error(app, &req, &resp, 400, "InvalidRequest", "Too many request headers");
    } else {
        emu_dispatch(app, &req, &resp);
    }
    enum MHD_Result ret = s_send(conn, &resp);
    emu_response_clean_up(&resp);
    return ret;
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct emu_server *server = cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
        line[--n] = '\0';
    }
    emu_log(server->app, EMU_LOG_DEBUG, "libmicrohttpd: %s", line);
}

/* Splits "HOST:PORT" or "[HOST]:PORT". */
static int s_split_listen(const char *listen, char *host, size_t host_cap, char *port,
                          size_t port_cap)
{
    const char *colon;
    const char *h = listen;
    size_t hlen;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':') {
            return CMEK_ERR_PARSE;
        }
        h = listen + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL) {
            return CMEK_ERR_PARSE;
        }
        hlen = (size_t)(colon - listen);
    }
    size_t plen = strlen(colon + 1);
    if (hlen == 0 || hlen >= host_cap || plen == 0 || plen >= port_cap) {
        return CMEK_ERR_PARSE;
    }
    for (size_t i = 0; i < plen; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9') {
            return CMEK_ERR_PARSE;
        }
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, colon + 1, plen + 1);
    return CMEK_OK;
}

int emu_server_start(struct emu_app *app, const char *listen, struct emu_server **out,
                     const char **why)
{
    char host[256], port[8];
    if (s_split_listen(listen, host, sizeof(host), port, sizeof(port)) != CMEK_OK ||
        strtol(port, NULL, 10) > 65535) {
        *why = "--listen wants ADDR:PORT, e.g. 127.0.0.1:4566 or [::1]:0";
        return CMEK_ERR_INVALID_ARG;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL) {
        *why = "cannot resolve the --listen address";
        return CMEK_ERR_INVALID_ARG;
    }
    struct emu_server *server = calloc(1, sizeof(*server));
    if (server == NULL) {
        freeaddrinfo(ai);
        *why = "out of memory";
        return CMEK_ERR_NOMEM;
    }
    server->app = app;
    if (app->sys.random_bytes(app->sys.ctx, server->request_id_base,
                              sizeof(server->request_id_base)) != CMEK_OK) {
        freeaddrinfo(ai);
        free(server);
        *why = "no random bytes for request ids";
        return CMEK_ERR_CRYPTO;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES) {
        flags |= MHD_USE_EPOLL;
    }
    /* A pool of one is no pool: the option is left out and libmicrohttpd serves from its
     * one polling thread. Options that take a function pass it through the integer slot, as
     * libmicrohttpd's MHD_OPTION_ARRAY documents. */
    struct MHD_OptionItem opts[8];
    size_t n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, ai->ai_addr};
    if (app->cfg.threads > 1) {
        opts[n++] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)app->cfg.threads, NULL};
    }
    opts[n++] =
        (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)s_uri_logger, server};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)s_completed, server};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                        (intptr_t)S_CONNECTION_TIMEOUT_S, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)s_mhd_log, server};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    server->daemon = MHD_start_daemon(flags, 0, NULL, NULL, s_answer, server, MHD_OPTION_ARRAY,
                                      opts, MHD_OPTION_END);
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (server->daemon == NULL) {
        free(server);
        *why = "cannot listen on that address (in use, or not an address of this machine)";
        return CMEK_ERR_IO;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info != NULL ? info->port : (uint16_t)strtol(port, NULL, 10);
    snprintf(server->base_url, sizeof(server->base_url), v6 ? "http://[%s]:%u" : "http://%s:%u",
             host, (unsigned)server->port);
    *out = server;
    return CMEK_OK;
}

const char *emu_server_base_url(const struct emu_server *server)
{
    return server->base_url;
}

uint16_t emu_server_port(const struct emu_server *server)
{
    return server->port;
}

void emu_server_stop(struct emu_server *server)
{
    if (server == NULL) {
        return;
    }
    MHD_stop_daemon(server->daemon);
    free(server);
}
