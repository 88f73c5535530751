/* app.h: the emulator instance: configuration, injected system seams, logging, the store.
 *
 * Nothing here is global: main() builds one struct emu_app, tests build their own with a
 * fake wall clock or random source through struct emu_system. */
#ifndef EMU_APP_H
#define EMU_APP_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cmek/error.h"

#define EMU_VERSION                "0.1.0"
#define EMU_DEFAULT_MAX_BODY_BYTES (1024u * 1024u)

enum emu_log_level {
    EMU_LOG_ERROR = 0,
    EMU_LOG_WARN,
    EMU_LOG_INFO,
    EMU_LOG_DEBUG,
};

/* Seams for tests (aws-c-auth's system vtable): the real wall clock and random source. */
struct emu_system {
    time_t (*wall_now)(void *ctx);
    int (*random_bytes)(void *ctx, void *out, size_t len);
    void *ctx;
};
/* The real ones: time(NULL) and OpenSSL's RAND_bytes. */
const struct emu_system *emu_system_default(void);

struct emu_config {
    size_t max_body_bytes; /* request bodies above this get 413 */
    int64_t kms_skew_s;    /* KMS SigV4 window: 5 min */
    int64_t query_skew_s;  /* STS/IAM SigV4 window: 15 min */
    enum emu_log_level log_level;
    unsigned threads; /* libmicrohttpd thread pool size */
    /* When set, every Cloud API (/api/) answer is appended to this file as one JSON line
     * {"method","path","status","body"}, for checking against the OpenAPI spec
     * (tests/openapi/validate.py). Borrowed. */
    const char *ccloud_response_log;
};
void emu_config_init_default(struct emu_config *cfg);

struct emu_store;

struct emu_app {
    struct emu_config cfg;
    struct emu_system sys;
    struct emu_store *store; /* owned */
};

/* Logs to stderr when level <= app's level. Never pass secrets. */
void emu_log(const struct emu_app *app, enum emu_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 16 bytes as an RFC 4122 v4 UUID (version and variant bits set), lowercase. */
void emu_uuid_format(const uint8_t bytes[16], char out[37]);
/* A fresh RFC 4122 v4 UUID, lowercase, NUL-terminated (37 bytes). */
CMEK_WUR int emu_uuid4(const struct emu_app *app, char out[37]);
/* n characters from alphabet, uniformly. out must hold n + 1. */
CMEK_WUR int emu_random_string(const struct emu_app *app, const char *alphabet, size_t n,
                               char *out);

#endif
