/* http.h: one HTTP exchange as services see it, independent of libmicrohttpd, so service
 * cores can be driven in-process by tests and by other services. */
#ifndef EMU_HTTP_H
#define EMU_HTTP_H

#include <stddef.h>

#include "cmek/buf.h"
#include "cmek/sigv4.h"

#define EMU_MAX_RESPONSE_HEADERS 8
#define EMU_MAX_RESPONSE_BYTES   (8u * 1024u * 1024u)

struct emu_request {
    const char *method;                     /* "GET", "POST", ... */
    struct cmek_view path;                  /* raw path as sent, percent-encoded */
    struct cmek_view query;                 /* raw query without '?', may be empty */
    const struct cmek_http_header *headers; /* borrowed */
    size_t n_headers;
    struct cmek_view body;
    char request_id[37]; /* x-amzn-RequestId / request_id of this exchange */
};

struct emu_response_header {
    const char *name; /* static */
    char value[256];
};

struct emu_response {
    int status;
    const char *content_type; /* static */
    struct cmek_buf body;     /* capped at EMU_MAX_RESPONSE_BYTES */
    struct emu_response_header headers[EMU_MAX_RESPONSE_HEADERS];
    size_t n_headers;
};

void emu_response_init(struct emu_response *resp);
void emu_response_clean_up(struct emu_response *resp);
/* Adds a header (value truncated to 255 bytes; names are static strings). */
void emu_response_add_header(struct emu_response *resp, const char *name, const char *value);

/* First header named name (case-insensitive), or an empty view with ptr NULL. */
struct cmek_view emu_request_header(const struct emu_request *req, const char *name);
/* The request as SigV4 sees it. */
void emu_request_sigv4_view(const struct emu_request *req, struct cmek_sigv4_request *out);

#endif
