#include "app.h"

#include <stdio.h>
#include <string.h>

#include "cmek/crypto.h"
#include "cmek/timeutil.h"

static time_t s_wall_now(void *ctx)
{
    (void)ctx;
    return time(NULL);
}

static int s_random_bytes(void *ctx, void *out, size_t len)
{
    (void)ctx;
    return cmek_random_bytes(out, len);
}

static const struct emu_system s_default_system = {
    .wall_now = s_wall_now,
    .random_bytes = s_random_bytes,
    .ctx = NULL,
};

const struct emu_system *emu_system_default(void)
{
    return &s_default_system;
}

void emu_config_init_default(struct emu_config *cfg)
{
    cfg->max_body_bytes = EMU_DEFAULT_MAX_BODY_BYTES;
    cfg->kms_skew_s = 5 * 60;
    cfg->query_skew_s = 15 * 60;
    cfg->log_level = EMU_LOG_INFO;
    /* One request thread: every request holds the store lock for its whole work, so on a
     * small machine more threads only add lock contention (bench/README.md has the
     * figures); --threads raises it. */
    cfg->threads = 1;
}

void emu_log(const struct emu_app *app, enum emu_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (app != NULL && level > app->cfg.log_level) {
        return;
    }
    char stamp[CMEK_ISO8601_LEN + 1];
    cmek_time_format_iso8601(time(NULL), stamp);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines from pool threads do not interleave. */
    fprintf(stderr, "%s cmek-emulator %s: %s\n", stamp, names[level], line);
}

void emu_uuid_format(const uint8_t bytes[16], char out[37])
{
    uint8_t b[16];
    memcpy(b, bytes, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char hex[33];
    cmek_hex_encode(b, sizeof(b), hex);
    size_t o = 0;
    for (size_t i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20) {
            out[o++] = '-';
        }
        out[o++] = hex[i];
    }
    out[o] = '\0';
}

int emu_uuid4(const struct emu_app *app, char out[37])
{
    uint8_t b[16];
    int rc = app->sys.random_bytes(app->sys.ctx, b, sizeof(b));
    if (rc) {
        return rc;
    }
    emu_uuid_format(b, out);
    return CMEK_OK;
}

int emu_random_string(const struct emu_app *app, const char *alphabet, size_t n, char *out)
{
    size_t k = strlen(alphabet);
    size_t i = 0;
    /* Rejection sampling keeps every character equally likely. */
    size_t limit = 256 - (256 % k);
    while (i < n) {
        uint8_t chunk[64];
        int rc = app->sys.random_bytes(app->sys.ctx, chunk, sizeof(chunk));
        if (rc) {
            return rc;
        }
        for (size_t j = 0; j < sizeof(chunk) && i < n; j++) {
            if (chunk[j] < limit) {
                out[i++] = alphabet[chunk[j] % k];
            }
        }
    }
    out[n] = '\0';
    return CMEK_OK;
}
