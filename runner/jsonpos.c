/* jsonpos.c: a second, position-keeping pass over JSON text that jansson has accepted. */
#include "jsonpos.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmek/map.h"
#include "cmek/vec.h"

#define CRUN_JSONPOS_MAX_DEPTH 2048 /* jansson's own nesting limit */

struct crun_jsonpos_entry {
    struct crun_pos key;
    struct crun_pos value;
};

struct crun_jsonpos {
    struct cmek_map by_path; /* path -> entry (borrowed from entries) */
    struct cmek_vec entries; /* owned entries */
};

struct s_scanner {
    const char *text;
    size_t len;
    size_t i;
    int line;
    int column;
    struct crun_jsonpos *pos;
    struct cmek_buf path;
};

static void s_advance(struct s_scanner *s)
{
    unsigned char c = (unsigned char)s->text[s->i];
    s->i++;
    if (c == '\n') {
        s->line++;
        s->column = 1;
    } else if ((c & 0xC0) != 0x80) {
        /* a UTF-8 continuation byte belongs to the character already counted */
        s->column++;
    }
}

static void s_skip_ws(struct s_scanner *s)
{
    while (s->i < s->len && (s->text[s->i] == ' ' || s->text[s->i] == '\t' ||
                             s->text[s->i] == '\n' || s->text[s->i] == '\r')) {
        s_advance(s);
    }
}

static struct crun_pos s_here(const struct s_scanner *s)
{
    struct crun_pos p = {s->line, s->column};
    return p;
}

static int s_record(struct s_scanner *s, struct crun_pos key, struct crun_pos value)
{
    const char *path = cmek_buf_cstr(&s->path);
    if (cmek_map_get(&s->pos->by_path, path) != NULL) {
        return CMEK_OK; /* first wins (only two differently spelled keys can collide) */
    }
    struct crun_jsonpos_entry *e = malloc(sizeof(*e));
    if (e == NULL) {
        return CMEK_ERR_NOMEM;
    }
    e->key = key;
    e->value = value;
    int rc = cmek_vec_push(&s->pos->entries, e);
    if (rc) {
        free(e);
        return rc;
    }
    return cmek_map_put(&s->pos->by_path, path, e, NULL);
}

/* Moves past a string token; [*start, *end) is its raw text between the quotes. */
static int s_string(struct s_scanner *s, size_t *start, size_t *end)
{
    if (s->i >= s->len || s->text[s->i] != '"') {
        return CMEK_ERR_PARSE;
    }
    s_advance(s);
    *start = s->i;
    while (s->i < s->len && s->text[s->i] != '"') {
        if (s->text[s->i] == '\\') {
            s_advance(s);
            if (s->i >= s->len) {
                return CMEK_ERR_PARSE;
            }
        }
        s_advance(s);
    }
    if (s->i >= s->len) {
        return CMEK_ERR_PARSE;
    }
    *end = s->i;
    s_advance(s);
    return CMEK_OK;
}

static int s_value(struct s_scanner *s, struct crun_pos key, int depth);

static int s_object(struct s_scanner *s, int depth)
{
    size_t base_len = s->path.len;
    s_advance(s); /* { */
    s_skip_ws(s);
    if (s->i < s->len && s->text[s->i] == '}') {
        s_advance(s);
        return CMEK_OK;
    }
    for (;;) {
        s_skip_ws(s);
        struct crun_pos key_pos = s_here(s);
        size_t start, end;
        int rc = s_string(s, &start, &end);
        if (rc) {
            return rc;
        }
        char *key = NULL;
        if (memchr(s->text + start, '\\', end - start) != NULL) {
            /* escapes: let jansson decode the token it already accepted */
            json_t *decoded =
                json_loadb(s->text + start - 1, end - start + 2, JSON_DECODE_ANY, NULL);
            if (decoded != NULL && json_is_string(decoded)) {
                key = strdup(json_string_value(decoded));
            }
            json_decref(decoded);
        } else {
            key = strndup(s->text + start, end - start);
        }
        if (key == NULL) {
            return CMEK_ERR_NOMEM;
        }
        rc = crun_jsonpos_append_key(&s->path, key);
        free(key);
        if (rc) {
            return rc;
        }
        s_skip_ws(s);
        if (s->i >= s->len || s->text[s->i] != ':') {
            return CMEK_ERR_PARSE;
        }
        s_advance(s);
        s_skip_ws(s);
        rc = s_value(s, key_pos, depth + 1);
        if (rc) {
            return rc;
        }
        s->path.len = base_len;
        s->path.data[base_len] = '\0';
        s_skip_ws(s);
        if (s->i >= s->len) {
            return CMEK_ERR_PARSE;
        }
        if (s->text[s->i] == '}') {
            s_advance(s);
            return CMEK_OK;
        }
        if (s->text[s->i] != ',') {
            return CMEK_ERR_PARSE;
        }
        s_advance(s);
    }
}

static int s_array(struct s_scanner *s, int depth)
{
    size_t base_len = s->path.len;
    s_advance(s); /* [ */
    s_skip_ws(s);
    if (s->i < s->len && s->text[s->i] == ']') {
        s_advance(s);
        return CMEK_OK;
    }
    for (size_t index = 0;; index++) {
        s_skip_ws(s);
        int rc = crun_jsonpos_append_index(&s->path, index);
        if (rc) {
            return rc;
        }
        rc = s_value(s, s_here(s), depth + 1);
        if (rc) {
            return rc;
        }
        s->path.len = base_len;
        s->path.data[base_len] = '\0';
        s_skip_ws(s);
        if (s->i >= s->len) {
            return CMEK_ERR_PARSE;
        }
        if (s->text[s->i] == ']') {
            s_advance(s);
            return CMEK_OK;
        }
        if (s->text[s->i] != ',') {
            return CMEK_ERR_PARSE;
        }
        s_advance(s);
    }
}

/* A literal or a number: everything up to the next delimiter. */
static int s_scalar(struct s_scanner *s)
{
    size_t start = s->i;
    while (s->i < s->len && strchr(",]} \t\r\n", s->text[s->i]) == NULL) {
        s_advance(s);
    }
    return s->i > start ? CMEK_OK : CMEK_ERR_PARSE;
}

static int s_value(struct s_scanner *s, struct crun_pos key, int depth)
{
    if (depth > CRUN_JSONPOS_MAX_DEPTH || s->i >= s->len) {
        return CMEK_ERR_PARSE;
    }
    int rc = s_record(s, key, s_here(s));
    if (rc) {
        return rc;
    }
    size_t start, end;
    switch (s->text[s->i]) {
    case '{':
        return s_object(s, depth);
    case '[':
        return s_array(s, depth);
    case '"':
        return s_string(s, &start, &end);
    default:
        return s_scalar(s);
    }
}

int crun_jsonpos_scan(const char *text, size_t len, struct crun_jsonpos **out)
{
    *out = NULL;
    struct s_scanner s = {.text = text, .len = len, .i = 0, .line = 1, .column = 1};
    cmek_buf_init(&s.path, CRUN_PATH_MAX_BYTES);
    int rc = CMEK_ERR_NOMEM;
    s.pos = calloc(1, sizeof(*s.pos));
    if (s.pos == NULL) {
        goto done;
    }
    cmek_map_init(&s.pos->by_path);
    cmek_vec_init(&s.pos->entries);
    rc = cmek_buf_append(&s.path, "", 0);
    if (rc) {
        goto done;
    }
    s_skip_ws(&s);
    rc = s_value(&s, s_here(&s), 0);
    if (rc) {
        goto done;
    }
    s_skip_ws(&s);
    if (s.i != s.len) {
        rc = CMEK_ERR_PARSE;
        goto done;
    }
    *out = s.pos;
    s.pos = NULL;
done:
    crun_jsonpos_destroy(s.pos);
    cmek_buf_clean_up(&s.path);
    return rc;
}

void crun_jsonpos_destroy(struct crun_jsonpos *pos)
{
    if (pos == NULL) {
        return;
    }
    for (size_t i = 0; i < pos->entries.len; i++) {
        free(pos->entries.items[i]);
    }
    cmek_vec_clean_up(&pos->entries);
    cmek_map_clean_up(&pos->by_path);
    free(pos);
}

bool crun_jsonpos_value(const struct crun_jsonpos *pos, const char *path, struct crun_pos *out)
{
    const struct crun_jsonpos_entry *e = pos ? cmek_map_get(&pos->by_path, path) : NULL;
    if (e == NULL) {
        return false;
    }
    *out = e->value;
    return true;
}

bool crun_jsonpos_key(const struct crun_jsonpos *pos, const char *path, struct crun_pos *out)
{
    const struct crun_jsonpos_entry *e = pos ? cmek_map_get(&pos->by_path, path) : NULL;
    if (e == NULL) {
        return false;
    }
    *out = e->key;
    return true;
}

static bool s_plain_key(const char *key)
{
    if (*key == '\0') {
        return false;
    }
    for (const char *p = key; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '$')) {
            return false;
        }
    }
    return true;
}

int crun_jsonpos_append_key(struct cmek_buf *path, const char *key)
{
    if (s_plain_key(key)) {
        return path->len == 0 ? cmek_buf_append_str(path, key) : cmek_buf_appendf(path, ".%s", key);
    }
    return cmek_buf_appendf(path, "[\"%s\"]", key);
}

int crun_jsonpos_append_index(struct cmek_buf *path, size_t index)
{
    return cmek_buf_appendf(path, "[%zu]", index);
}
