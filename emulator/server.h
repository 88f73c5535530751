/* server.h: the HTTP front end on libmicrohttpd (thread pool), one port for every service. */
#ifndef EMU_SERVER_H
#define EMU_SERVER_H

#include <stdint.h>

#include "cmek/error.h"

struct emu_app;
struct emu_server;

/* Binds listen ("ADDR:PORT", "[V6]:PORT"; port 0 picks a free one) and starts serving.
 * On failure *why says what went wrong (static text). */
CMEK_WUR int emu_server_start(struct emu_app *app, const char *listen, struct emu_server **out,
                              const char **why);
/* The base URL, e.g. "http://127.0.0.1:41873" (borrowed). */
const char *emu_server_base_url(const struct emu_server *server);
uint16_t emu_server_port(const struct emu_server *server);
/* Stops accepting, finishes in-flight requests, frees. NULL-safe. */
void emu_server_stop(struct emu_server *server);

#endif
