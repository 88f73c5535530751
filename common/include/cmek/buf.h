/* cmek/buf.h: length-carrying byte buffers with a named cap, and borrowed views.
 *
 * A cmek_buf owns its storage; data is always NUL-terminated one past len so it can be
 * used as a C string when it holds text. Every append checks max_bytes (0 = no cap is
 * not allowed: every buffer names its cap). */
#ifndef CMEK_BUF_H
#define CMEK_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmek/error.h"

struct cmek_buf {
    char *data; /* owned; NUL at data[len] once anything was appended */
    size_t len;
    size_t cap;       /* allocated bytes, including room for the NUL */
    size_t max_bytes; /* hard cap on len */
};

/* A borrowed, not necessarily NUL-terminated, run of bytes. */
struct cmek_view {
    const char *ptr;
    size_t len;
};

void cmek_buf_init(struct cmek_buf *buf, size_t max_bytes);
/* Frees the storage; NULL-safe and idempotent. Keeps max_bytes. */
void cmek_buf_clean_up(struct cmek_buf *buf);
/* Empties the buffer without freeing. */
void cmek_buf_reset(struct cmek_buf *buf);
CMEK_WUR int cmek_buf_append(struct cmek_buf *buf, const void *bytes, size_t len);
/* Makes room for extra more bytes (and the NUL) without changing len; CMEK_ERR_LIMIT past
 * the cap. For code that writes into data + len itself and then sets len. */
CMEK_WUR int cmek_buf_reserve(struct cmek_buf *buf, size_t extra);
/* cmek_buf_append for a buffer holding secrets: when it has to grow, the old storage is
 * wiped before it is freed (realloc would leave a copy in freed memory). */
CMEK_WUR int cmek_buf_append_secret(struct cmek_buf *buf, const void *bytes, size_t len);
CMEK_WUR int cmek_buf_append_str(struct cmek_buf *buf, const char *str);
CMEK_WUR int cmek_buf_append_byte(struct cmek_buf *buf, char byte);
CMEK_WUR int cmek_buf_append_view(struct cmek_buf *buf, struct cmek_view view);
CMEK_WUR int cmek_buf_appendf(struct cmek_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
CMEK_WUR int cmek_buf_vappendf(struct cmek_buf *buf, const char *fmt, va_list ap);
/* Appends the whole file at path. CMEK_ERR_IO when it cannot be opened or read (errno says
 * why, as left by fopen or fread), CMEK_ERR_LIMIT when it would pass the cap (the buffer
 * then holds a prefix). The stack chunks the file passes through are wiped: files may hold
 * secrets. */
CMEK_WUR int cmek_buf_append_file(struct cmek_buf *buf, const char *path);
/* The contents as a C string ("" when empty); borrowed from buf. */
const char *cmek_buf_cstr(const struct cmek_buf *buf);
/* Hands the storage to the caller (free() it) and leaves buf empty. Never NULL on success. */
CMEK_WUR char *cmek_buf_steal(struct cmek_buf *buf);

struct cmek_view cmek_view_from_cstr(const char *str);
bool cmek_view_eq(struct cmek_view a, struct cmek_view b);
bool cmek_view_eq_cstr(struct cmek_view a, const char *str);
bool cmek_view_eq_ignore_case(struct cmek_view a, const char *str);
bool cmek_view_starts_with(struct cmek_view a, const char *prefix);
/* A copy as an owned C string, or NULL when out of memory. */
char *cmek_view_dup(struct cmek_view view);

#endif
