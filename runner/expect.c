/* expect.c: output paths, the shape of "expect", and the verdict on one call. */
#include "expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "vars.h"

#define CRUN_SHOWN_VALUE_MAX 200 /* longer values are cut in mismatch texts */

/* One segment of a path: a member name (may be empty before a leading index) and indexes. */
static int s_next_segment(const char **p, struct cmek_view *name, char *why, size_t why_len)
{
    const char *s = *p;
    name->ptr = s;
    while (*s != '\0' && *s != '.' && *s != '[' && *s != ']') {
        s++;
    }
    name->len = (size_t)(s - name->ptr);
    if (*s == ']') {
        snprintf(why, why_len, "unexpected ']' in path");
        return CMEK_ERR_PARSE;
    }
    *p = s;
    return CMEK_OK;
}

static int s_next_index(const char **p, size_t *index, char *why, size_t why_len)
{
    const char *s = *p + 1; /* past '[' */
    size_t v = 0;
    const char *digits = s;
    while (*s >= '0' && *s <= '9') {
        if (v > (SIZE_MAX - 9) / 10) {
            snprintf(why, why_len, "index too large in path");
            return CMEK_ERR_PARSE;
        }
        v = v * 10 + (size_t)(*s - '0');
        s++;
    }
    if (s == digits || *s != ']') {
        snprintf(why, why_len, "an index in a path is [digits]");
        return CMEK_ERR_PARSE;
    }
    *index = v;
    *p = s + 1;
    return CMEK_OK;
}

/* Walks path over root (NULL root: syntax check only). */
static int s_walk(const json_t *root, const char *path, const json_t **found, char *why,
                  size_t why_len)
{
    const char *p = path;
    const json_t *cur = root;
    if (*p == '\0') {
        snprintf(why, why_len, "empty path");
        return CMEK_ERR_PARSE;
    }
    for (bool first = true;; first = false) {
        struct cmek_view name;
        int rc = s_next_segment(&p, &name, why, why_len);
        if (rc) {
            return rc;
        }
        if (name.len == 0 && !(first && *p == '[')) {
            snprintf(why, why_len, "empty member name in path");
            return CMEK_ERR_PARSE;
        }
        if (name.len > 0 && cur != NULL) {
            char *key = cmek_view_dup(name);
            if (key == NULL) {
                return CMEK_ERR_NOMEM;
            }
            cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
            free(key);
        }
        while (*p == '[') {
            size_t index;
            rc = s_next_index(&p, &index, why, why_len);
            if (rc) {
                return rc;
            }
            cur = json_is_array(cur) ? json_array_get(cur, index) : NULL;
        }
        if (*p == '\0') {
            break;
        }
        if (*p != '.') {
            snprintf(why, why_len, "expected '.' or '[' after \"%.*s\" in path", (int)name.len,
                     name.ptr);
            return CMEK_ERR_PARSE;
        }
        p++;
    }
    *found = cur;
    return CMEK_OK;
}

int crun_path_check(const char *path, char *why, size_t why_len)
{
    const json_t *ignored;
    return s_walk(NULL, path, &ignored, why, why_len);
}

const json_t *crun_path_get(const json_t *root, const char *path)
{
    const json_t *found = NULL;
    char why[128];
    if (root == NULL || s_walk(root, path, &found, why, sizeof(why)) != CMEK_OK) {
        return NULL;
    }
    return found;
}

static const char *const s_expect_fields[] = {"error", "status", "message", "message_contains",
                                              "values"};

static int s_bad(struct cmek_buf *bad_path, const char *field, const char *subkey)
{
    int rc = crun_jsonpos_append_key(bad_path, field);
    if (rc == CMEK_OK && subkey != NULL) {
        rc = crun_jsonpos_append_key(bad_path, subkey);
    }
    return rc == CMEK_OK ? CMEK_ERR_PARSE : rc;
}

int crun_expect_validate(const json_t *expect, struct cmek_buf *bad_path, bool *at_key, char *why,
                         size_t why_len)
{
    *at_key = false;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)expect, key, value)
    {
        size_t i;
        for (i = 0; i < sizeof(s_expect_fields) / sizeof(s_expect_fields[0]); i++) {
            if (strcmp(key, s_expect_fields[i]) == 0) {
                break;
            }
        }
        if (i == sizeof(s_expect_fields) / sizeof(s_expect_fields[0])) {
            *at_key = true;
            snprintf(why, why_len,
                     "unknown field \"expect.%s\" (error, status, message, message_contains, "
                     "values)",
                     key);
            return s_bad(bad_path, key, NULL);
        }
        const char *want = NULL;
        if (strcmp(key, "status") == 0) {
            if (!json_is_integer(value) || json_integer_value(value) < 100 ||
                json_integer_value(value) > 599) {
                want = "an HTTP status (an integer, 100 to 599)";
            }
        } else if (strcmp(key, "values") == 0) {
            if (!json_is_object(value)) {
                want = "an object";
            }
        } else if (!json_is_string(value)) {
            want = "a string";
        }
        if (want != NULL) {
            snprintf(why, why_len, "\"expect.%s\" must be %s", key, want);
            return s_bad(bad_path, key, NULL);
        }
    }
    const json_t *values = json_object_get(expect, "values");
    if (values != NULL && crun_expect_wants_failure(expect)) {
        snprintf(why, why_len,
                 "\"expect.values\" checks a successful call's output: it cannot be combined "
                 "with error, status or message");
        return s_bad(bad_path, "values", NULL);
    }
    json_object_foreach((json_t *)values, key, value)
    {
        char pwhy[256];
        if (crun_path_check(key, pwhy, sizeof(pwhy)) != CMEK_OK) {
            *at_key = true;
            snprintf(why, why_len, "bad output path \"%s\" in \"expect.values\": %s", key, pwhy);
            return s_bad(bad_path, "values", key);
        }
        if (json_is_object(value)) {
            enum crun_builder kind;
            char bwhy[256];
            if (crun_builder_kind(value, true, &kind, bwhy, sizeof(bwhy)) != CMEK_OK) {
                snprintf(why, why_len, "\"expect.values\" \"%s\": %s", key, bwhy);
                return s_bad(bad_path, "values", key);
            }
        }
    }
    return CMEK_OK;
}

int crun_expect_subst(const json_t *expect, const struct crun_lookup *lk, json_t **out, char *why,
                      size_t why_len)
{
    *out = NULL;
    json_t *result = json_object();
    if (result == NULL) {
        return CMEK_ERR_NOMEM;
    }
    int rc = CMEK_OK;
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)expect, key, member)
    {
        json_t *v = NULL;
        if (strcmp(key, "values") == 0 && json_is_object(member)) {
            v = json_object();
            rc = v != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
            const char *path;
            const json_t *want;
            json_object_foreach((json_t *)member, path, want)
            {
                json_t *w = NULL;
                if (rc == CMEK_OK) {
                    rc = crun_subst_value(want, lk, true, &w, why, why_len);
                }
                if (rc == CMEK_OK && json_object_set_new(v, path, w) != 0) {
                    rc = CMEK_ERR_NOMEM;
                }
            }
        } else {
            rc = crun_subst_value(member, lk, false, &v, why, why_len);
        }
        if (rc == CMEK_OK && json_object_set_new(result, key, v) != 0) {
            rc = CMEK_ERR_NOMEM;
        } else if (rc) {
            json_decref(v);
        }
        if (rc) {
            break;
        }
    }
    if (rc) {
        json_decref(result);
        return rc;
    }
    *out = result;
    return CMEK_OK;
}

bool crun_expect_wants_failure(const json_t *expect)
{
    return expect != NULL &&
           (json_object_get(expect, "error") != NULL || json_object_get(expect, "status") != NULL ||
            json_object_get(expect, "message") != NULL ||
            json_object_get(expect, "message_contains") != NULL);
}

int crun_describe_error(int call_rc, const struct cmek_api_error *err, struct cmek_buf *out)
{
    switch (err->failure) {
    case CMEK_FAILURE_SERVICE:
        if (err->code[0] != '\0') {
            return cmek_buf_appendf(out, "%s (HTTP %ld): %s", err->code, err->http_status,
                                    err->message);
        }
        return cmek_buf_appendf(out, "HTTP %ld: %s", err->http_status, err->message);
    case CMEK_FAILURE_TRANSPORT:
        return cmek_buf_appendf(out, "no answer (after %u attempts): %s", err->attempts,
                                err->message);
    case CMEK_FAILURE_CLIENT:
        return cmek_buf_appendf(out, "refused before sending: %s", err->message);
    case CMEK_FAILURE_NONE:
    default:
        return cmek_buf_appendf(out, "failed (%s): %s", cmek_error_str(call_rc), err->message);
    }
}

/* A value as compact JSON, cut at CRUN_SHOWN_VALUE_MAX. */
static int s_show(struct cmek_buf *out, const json_t *value)
{
    if (value == NULL) {
        return cmek_buf_append_str(out, "nothing (no such path)");
    }
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        return CMEK_ERR_NOMEM;
    }
    size_t len = strlen(text);
    int rc;
    if (len > CRUN_SHOWN_VALUE_MAX) {
        rc = cmek_buf_appendf(out, "%.*s...", CRUN_SHOWN_VALUE_MAX, text);
    } else {
        rc = cmek_buf_append(out, text, len);
    }
    free(text);
    return rc;
}

static size_t s_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* One entry of "values". */
static int s_check_value(const char *path, const json_t *want, const json_t *got, bool *holds,
                         struct cmek_buf *why)
{
    enum crun_builder kind = CRUN_BUILDER_NONE;
    char bwhy[128];
    if (json_is_object(want) &&
        crun_builder_kind(want, true, &kind, bwhy, sizeof(bwhy)) != CMEK_OK) {
        kind = CRUN_BUILDER_NONE;
    }
    if (kind != CRUN_BUILDER_MATCHER) {
        *holds = got != NULL && json_equal(want, got);
        if (*holds) {
            return CMEK_OK;
        }
        int rc = cmek_buf_appendf(why, "%s: expected ", path);
        if (rc == CMEK_OK) {
            rc = s_show(why, want);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_str(why, ", got ");
        }
        return rc == CMEK_OK ? s_show(why, got) : rc;
    }
    const char *matcher = NULL;
    const json_t *operand = NULL;
    json_object_foreach((json_t *)want, matcher, operand)
    {
        break;
    }
    if (strcmp(matcher, "$exists") == 0) {
        *holds = got != NULL;
        return *holds ? CMEK_OK : cmek_buf_appendf(why, "%s: expected to exist, got nothing", path);
    }
    if (strcmp(matcher, "$absent") == 0) {
        *holds = got == NULL;
        if (*holds) {
            return CMEK_OK;
        }
        int rc = cmek_buf_appendf(why, "%s: expected to be absent, got ", path);
        return rc == CMEK_OK ? s_show(why, got) : rc;
    }
    int rc;
    if (strcmp(matcher, "$length") == 0) {
        json_int_t n = -1;
        if (json_is_string(got)) {
            n = (json_int_t)s_utf8_len(json_string_value(got));
        } else if (json_is_array(got)) {
            n = (json_int_t)json_array_size(got);
        } else if (json_is_object(got)) {
            n = (json_int_t)json_object_size(got);
        }
        *holds = n == json_integer_value(operand);
        if (*holds) {
            return CMEK_OK;
        }
        rc = cmek_buf_appendf(why, "%s: expected length %" JSON_INTEGER_FORMAT ", got ", path,
                              json_integer_value(operand));
        if (rc == CMEK_OK && n >= 0) {
            rc = cmek_buf_appendf(why, "length %" JSON_INTEGER_FORMAT " in ", n);
        }
        return rc == CMEK_OK ? s_show(why, got) : rc;
    }
    /* $contains: a substring of a string, or an element of an array */
    *holds = false;
    if (json_is_string(got) && json_is_string(operand)) {
        *holds = strstr(json_string_value(got), json_string_value(operand)) != NULL;
    } else if (json_is_array(got)) {
        size_t i;
        const json_t *item;
        json_array_foreach(got, i, item)
        {
            if (json_equal(item, operand)) {
                *holds = true;
                break;
            }
        }
    }
    if (*holds) {
        return CMEK_OK;
    }
    rc = cmek_buf_appendf(why, "%s: expected to contain ", path);
    if (rc == CMEK_OK) {
        rc = s_show(why, operand);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_str(why, ", got ");
    }
    return rc == CMEK_OK ? s_show(why, got) : rc;
}

/* The expected failure, in words: "error AccessDeniedException", "HTTP status 403". */
static int s_show_wanted_failure(const json_t *expect, struct cmek_buf *why)
{
    const json_t *error = json_object_get(expect, "error");
    const json_t *status = json_object_get(expect, "status");
    const json_t *message = json_object_get(expect, "message");
    const json_t *contains = json_object_get(expect, "message_contains");
    int rc = cmek_buf_append_str(why, "expected a failure");
    if (rc == CMEK_OK && error != NULL) {
        rc = cmek_buf_appendf(why, " with error %s", json_string_value(error));
    }
    if (rc == CMEK_OK && status != NULL) {
        rc = cmek_buf_appendf(why, "%s HTTP status %" JSON_INTEGER_FORMAT,
                              error != NULL ? " and" : " with", json_integer_value(status));
    }
    if (rc == CMEK_OK && message != NULL) {
        rc = cmek_buf_appendf(why, ", message \"%s\"", json_string_value(message));
    }
    if (rc == CMEK_OK && contains != NULL) {
        rc = cmek_buf_appendf(why, ", message containing \"%s\"", json_string_value(contains));
    }
    return rc;
}

int crun_expect_check(const json_t *expect, int call_rc, const json_t *output,
                      const struct cmek_api_error *err, bool *holds, struct cmek_buf *why)
{
    *holds = false;
    int rc;
    if (crun_expect_wants_failure(expect)) {
        const json_t *error = json_object_get(expect, "error");
        const json_t *status = json_object_get(expect, "status");
        const json_t *message = json_object_get(expect, "message");
        const json_t *contains = json_object_get(expect, "message_contains");
        if (call_rc == CMEK_OK) {
            rc = s_show_wanted_failure(expect, why);
            return rc == CMEK_OK ? cmek_buf_append_str(why, ", got success") : rc;
        }
        bool service = err->failure == CMEK_FAILURE_SERVICE;
        *holds = (error == NULL || (service && strcmp(err->code, json_string_value(error)) == 0)) &&
                 (status == NULL || (service && err->http_status == json_integer_value(status))) &&
                 (message == NULL || strcmp(err->message, json_string_value(message)) == 0) &&
                 (contains == NULL || strstr(err->message, json_string_value(contains)) != NULL);
        if (*holds) {
            return CMEK_OK;
        }
        rc = s_show_wanted_failure(expect, why);
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_str(why, ", got ");
        }
        return rc == CMEK_OK ? crun_describe_error(call_rc, err, why) : rc;
    }
    if (call_rc != CMEK_OK) {
        rc = cmek_buf_append_str(why, "expected success, got ");
        return rc == CMEK_OK ? crun_describe_error(call_rc, err, why) : rc;
    }
    const json_t *values = expect != NULL ? json_object_get(expect, "values") : NULL;
    const char *path;
    const json_t *want;
    json_object_foreach((json_t *)values, path, want)
    {
        bool one = false;
        rc = s_check_value(path, want, crun_path_get(output, path), &one, why);
        if (rc) {
            return rc;
        }
        if (!one) {
            return CMEK_OK;
        }
    }
    *holds = true;
    return CMEK_OK;
}
