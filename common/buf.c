#include "cmek/buf.h"

#include <errno.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cmek_buf_init(struct cmek_buf *buf, size_t max_bytes)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max_bytes = max_bytes;
}

void cmek_buf_clean_up(struct cmek_buf *buf)
{
    if (buf == NULL) {
        return;
    }
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
}

void cmek_buf_reset(struct cmek_buf *buf)
{
    buf->len = 0;
    if (buf->data != NULL) {
        buf->data[0] = '\0';
    }
}

static int s_reserve(struct cmek_buf *buf, size_t extra)
{
    if (extra > buf->max_bytes || buf->len > buf->max_bytes - extra) {
        return CMEK_ERR_LIMIT;
    }
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap) {
        return CMEK_OK;
    }
    size_t cap = buf->cap ? buf->cap : 64;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    char *grown = realloc(buf->data, cap);
    if (grown == NULL) {
        return CMEK_ERR_NOMEM;
    }
    buf->data = grown;
    buf->cap = cap;
    return CMEK_OK;
}

static bool s_fits(const struct cmek_buf *buf, size_t extra)
{
    return buf->data != NULL && extra < buf->cap && buf->len + extra + 1 <= buf->cap;
}

int cmek_buf_reserve(struct cmek_buf *buf, size_t extra)
{
    return s_reserve(buf, extra);
}

int cmek_buf_append(struct cmek_buf *buf, const void *bytes, size_t len)
{
    int rc = s_reserve(buf, len);
    if (rc) {
        return rc;
    }
    if (len > 0) {
        memcpy(buf->data + buf->len, bytes, len);
    }
    buf->len += len;
    buf->data[buf->len] = '\0';
    return CMEK_OK;
}

int cmek_buf_append_secret(struct cmek_buf *buf, const void *bytes, size_t len)
{
    if (s_fits(buf, len)) {
        return cmek_buf_append(buf, bytes, len);
    }
    struct cmek_buf grown;
    cmek_buf_init(&grown, buf->max_bytes);
    /* The doubling s_reserve would do, into fresh storage. */
    int rc = s_reserve(&grown, 2 * (buf->len + len));
    if (rc == CMEK_ERR_LIMIT) {
        rc = s_reserve(&grown, buf->len + len);
    }
    rc = rc ? rc : cmek_buf_append(&grown, buf->data, buf->len);
    rc = rc ? rc : cmek_buf_append(&grown, bytes, len);
    if (rc) {
        if (grown.data != NULL) {
            OPENSSL_cleanse(grown.data, grown.cap);
        }
        cmek_buf_clean_up(&grown);
        return rc;
    }
    if (buf->data != NULL) {
        OPENSSL_cleanse(buf->data, buf->cap);
    }
    free(buf->data);
    *buf = grown;
    return CMEK_OK;
}

int cmek_buf_append_str(struct cmek_buf *buf, const char *str)
{
    return cmek_buf_append(buf, str, strlen(str));
}

int cmek_buf_append_byte(struct cmek_buf *buf, char byte)
{
    /* The common case without s_reserve's checks: room for the byte and the NUL, under
     * the cap (s_reserve's own condition for one byte). */
    if (buf->len + 2 <= buf->cap && buf->len < buf->max_bytes) {
        buf->data[buf->len++] = byte;
        buf->data[buf->len] = '\0';
        return CMEK_OK;
    }
    return cmek_buf_append(buf, &byte, 1);
}

int cmek_buf_append_view(struct cmek_buf *buf, struct cmek_view view)
{
    return cmek_buf_append(buf, view.ptr, view.len);
}

int cmek_buf_vappendf(struct cmek_buf *buf, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) {
        return CMEK_ERR_INVALID_ARG;
    }
    int rc = s_reserve(buf, (size_t)n);
    if (rc) {
        return rc;
    }
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return CMEK_OK;
}

int cmek_buf_appendf(struct cmek_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cmek_buf_vappendf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

const char *cmek_buf_cstr(const struct cmek_buf *buf)
{
    return buf->data != NULL ? buf->data : "";
}

char *cmek_buf_steal(struct cmek_buf *buf)
{
    if (buf->data == NULL && s_reserve(buf, 0) != CMEK_OK) {
        return NULL;
    }
    buf->data[buf->len] = '\0';
    char *out = buf->data;
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    return out;
}

struct cmek_view cmek_view_from_cstr(const char *str)
{
    struct cmek_view v = {str, str != NULL ? strlen(str) : 0};
    return v;
}

bool cmek_view_eq(struct cmek_view a, struct cmek_view b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool cmek_view_eq_cstr(struct cmek_view a, const char *str)
{
    return cmek_view_eq(a, cmek_view_from_cstr(str));
}

static char s_ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case folding (header names), in one pass over both: no strlen, no locale. */
bool cmek_view_eq_ignore_case(struct cmek_view a, const char *str)
{
    size_t i = 0;
    for (; i < a.len; i++) {
        if (str[i] == '\0' || s_ascii_lower(a.ptr[i]) != s_ascii_lower(str[i])) {
            return false;
        }
    }
    return str[i] == '\0';
}

bool cmek_view_starts_with(struct cmek_view a, const char *prefix)
{
    size_t n = strlen(prefix);
    return a.len >= n && memcmp(a.ptr, prefix, n) == 0;
}

char *cmek_view_dup(struct cmek_view view)
{
    char *out = malloc(view.len + 1);
    if (out == NULL) {
        return NULL;
    }
    if (view.len > 0) {
        memcpy(out, view.ptr, view.len);
    }
    out[view.len] = '\0';
    return out;
}

int cmek_buf_append_file(struct cmek_buf *buf, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return CMEK_ERR_IO;
    }
    int rc = CMEK_OK;
    char chunk[4096];
    size_t n;
    while (rc == CMEK_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = cmek_buf_append(buf, chunk, n);
    }
    OPENSSL_cleanse(chunk, sizeof(chunk));
    int saved_errno = errno;
    if (rc == CMEK_OK && ferror(f)) {
        rc = CMEK_ERR_IO;
    }
    fclose(f);
    errno = saved_errno; /* fclose must not hide why the read failed */
    return rc;
}
