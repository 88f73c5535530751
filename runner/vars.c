/* vars.c: one parser for ${...} references, used by the static check and by the run. */
#include "vars.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmek/crypto.h"

static bool s_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A reference at text[i] == '$' && text[i + 1] == '{'. On success *end is one past '}',
 * and for env refs with a default [*def, *def_end) is the default text. */
static int s_parse_ref(const char *text, size_t i, struct crun_ref *ref, size_t *end, size_t *def,
                       size_t *def_end, char *why, size_t why_len)
{
    const char *close = strchr(text + i + 2, '}');
    if (close == NULL) {
        snprintf(why, why_len, "unterminated \"${\" at offset %zu (write \"$${\" for a literal)",
                 i);
        return CMEK_ERR_PARSE;
    }
    size_t start = i + 2;
    size_t stop = (size_t)(close - text);
    memset(ref, 0, sizeof(*ref));
    ref->offset = i;
    ref->kind = CRUN_REF_VAR;
    bool env = stop - start > 4 && strncmp(text + start, "env.", 4) == 0;
    if (env) {
        ref->kind = CRUN_REF_ENV;
        start += 4;
    }
    size_t n = start;
    if (n < stop && s_is_alpha(text[n])) {
        n++;
        while (n < stop &&
               (s_is_alpha(text[n]) || s_is_digit(text[n]) || (!env && text[n] == '-'))) {
            n++;
        }
    }
    *def = *def_end = 0;
    if (env && n < stop && n + 1 < stop + 1 && strncmp(text + n, ":-", 2) == 0 && n > start) {
        ref->has_default = true;
        *def = n + 2;
        *def_end = stop;
    } else if (n != stop || n == start) {
        snprintf(why, why_len, "bad variable name in \"%.*s\"", (int)(stop + 1 - i), text + i);
        return CMEK_ERR_PARSE;
    }
    if (n - start > CRUN_VAR_NAME_MAX) {
        snprintf(why, why_len, "variable name longer than %d characters", CRUN_VAR_NAME_MAX);
        return CMEK_ERR_PARSE;
    }
    memcpy(ref->name, text + start, n - start);
    ref->name[n - start] = '\0';
    *end = stop + 1;
    return CMEK_OK;
}

int crun_refs_scan(const char *text, crun_ref_fn fn, void *ctx, char *why, size_t why_len)
{
    size_t i = 0;
    while (text[i] != '\0') {
        if (text[i] == '$' && text[i + 1] == '$' && text[i + 2] == '{') {
            i += 3;
            continue;
        }
        if (text[i] != '$' || text[i + 1] != '{') {
            i++;
            continue;
        }
        struct crun_ref ref;
        size_t end, def, def_end;
        int rc = s_parse_ref(text, i, &ref, &end, &def, &def_end, why, why_len);
        if (rc) {
            return rc;
        }
        rc = fn(ctx, &ref);
        if (rc) {
            return rc;
        }
        i = end;
    }
    return CMEK_OK;
}

static const char *s_getenv(const struct crun_lookup *lk, const char *name)
{
    return lk->getenv_fn != NULL ? lk->getenv_fn(lk->ctx, name) : getenv(name);
}

static int s_append_json_text(struct cmek_buf *out, const json_t *value)
{
    if (json_is_string(value)) {
        return cmek_buf_append(out, json_string_value(value), json_string_length(value));
    }
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL) {
        return CMEK_ERR_NOMEM;
    }
    int rc = cmek_buf_append_str(out, text);
    free(text);
    return rc;
}

int crun_subst_text(const char *text, const struct crun_lookup *lk, struct cmek_buf *out, char *why,
                    size_t why_len)
{
    int rc = CMEK_OK;
    size_t i = 0;
    size_t lit = 0; /* start of the literal run not yet copied */
    while (text[i] != '\0') {
        if (text[i] == '$' && text[i + 1] == '$' && text[i + 2] == '{') {
            rc = cmek_buf_append(out, text + lit, i - lit);
            if (rc) {
                return rc;
            }
            rc = cmek_buf_append_str(out, "${");
            if (rc) {
                return rc;
            }
            i += 3;
            lit = i;
            continue;
        }
        if (text[i] != '$' || text[i + 1] != '{') {
            i++;
            continue;
        }
        rc = cmek_buf_append(out, text + lit, i - lit);
        if (rc) {
            return rc;
        }
        struct crun_ref ref;
        size_t end, def, def_end;
        rc = s_parse_ref(text, i, &ref, &end, &def, &def_end, why, why_len);
        if (rc) {
            return rc;
        }
        if (ref.kind == CRUN_REF_ENV) {
            const char *v = s_getenv(lk, ref.name);
            if (v != NULL) {
                rc = cmek_buf_append_str(out, v);
            } else if (ref.has_default) {
                rc = cmek_buf_append(out, text + def, def_end - def);
            } else {
                snprintf(why, why_len, "environment variable %s is not set", ref.name);
                return CMEK_ERR_NOT_FOUND;
            }
        } else {
            const json_t *v = lk->var != NULL ? lk->var(lk->ctx, ref.name) : NULL;
            if (v == NULL) {
                snprintf(why, why_len, "undefined variable ${%s}", ref.name);
                return CMEK_ERR_NOT_FOUND;
            }
            rc = s_append_json_text(out, v);
        }
        if (rc) {
            return rc;
        }
        i = end;
        lit = i;
    }
    return cmek_buf_append(out, text + lit, i - lit);
}

static const struct {
    const char *key;
    enum crun_builder kind;
} s_builders[] = {
    {"$file", CRUN_BUILDER_FILE},      {"$json", CRUN_BUILDER_JSON},
    {"$base64", CRUN_BUILDER_BASE64},  {"$exists", CRUN_BUILDER_MATCHER},
    {"$absent", CRUN_BUILDER_MATCHER}, {"$contains", CRUN_BUILDER_MATCHER},
    {"$length", CRUN_BUILDER_MATCHER},
};

int crun_builder_kind(const json_t *obj, bool allow_matchers, enum crun_builder *kind, char *why,
                      size_t why_len)
{
    *kind = CRUN_BUILDER_NONE;
    const char *key;
    const json_t *value;
    const char *dollar = NULL;
    json_object_foreach((json_t *)obj, key, value)
    {
        if (key[0] == '$') {
            dollar = key;
            break;
        }
    }
    if (dollar == NULL) {
        return CMEK_OK;
    }
    if (json_object_size(obj) != 1) {
        snprintf(why, why_len, "\"%s\" must be the only member of its object", dollar);
        return CMEK_ERR_PARSE;
    }
    value = json_object_get(obj, dollar);
    for (size_t i = 0; i < sizeof(s_builders) / sizeof(s_builders[0]); i++) {
        if (strcmp(s_builders[i].key, dollar) != 0) {
            continue;
        }
        if (s_builders[i].kind == CRUN_BUILDER_MATCHER && !allow_matchers) {
            break;
        }
        *kind = s_builders[i].kind;
        bool ok = true;
        switch (*kind) {
        case CRUN_BUILDER_FILE:
        case CRUN_BUILDER_BASE64:
            ok = json_is_string(value);
            break;
        case CRUN_BUILDER_JSON:
            break;
        case CRUN_BUILDER_MATCHER:
            if (strcmp(dollar, "$exists") == 0 || strcmp(dollar, "$absent") == 0) {
                ok = json_is_true(value);
            } else if (strcmp(dollar, "$contains") == 0) {
                ok = !json_is_object(value) && !json_is_array(value);
            } else {
                ok = json_is_integer(value) && json_integer_value(value) >= 0;
            }
            break;
        case CRUN_BUILDER_NONE:
        default:
            break;
        }
        if (!ok) {
            static const char *const wants[] = {"", "a string (a path under fixtures/)", "",
                                                "a string", ""};
            const char *want = wants[*kind];
            if (*kind == CRUN_BUILDER_MATCHER) {
                want = strcmp(dollar, "$length") == 0     ? "a non-negative integer"
                       : strcmp(dollar, "$contains") == 0 ? "a string, number or boolean"
                                                          : "true";
            }
            snprintf(why, why_len, "\"%s\" wants %s", dollar, want);
            *kind = CRUN_BUILDER_NONE;
            return CMEK_ERR_PARSE;
        }
        return CMEK_OK;
    }
    snprintf(why, why_len, "unknown value builder \"%s\" (%s)", dollar,
             allow_matchers ? "$file, $json, $base64, $exists, $absent, $contains or $length"
                            : "$file, $json or $base64");
    return CMEK_ERR_PARSE;
}

int crun_fixture_read(const char *fixtures_dir, const char *path, struct cmek_buf *out, char *why,
                      size_t why_len)
{
    struct cmek_buf full;
    cmek_buf_init(&full, 8192);
    int rc = path[0] == '/' ? cmek_buf_append_str(&full, path)
                            : cmek_buf_appendf(&full, "%s/%s", fixtures_dir, path);
    if (rc) {
        snprintf(why, why_len, "fixture path too long");
        goto done;
    }
    rc = cmek_buf_append_file(out, cmek_buf_cstr(&full));
    if (rc == CMEK_ERR_LIMIT) {
        snprintf(why, why_len, "%s is larger than %d bytes", cmek_buf_cstr(&full),
                 CRUN_TEXT_MAX_BYTES);
        goto done;
    }
    if (rc) {
        snprintf(why, why_len, "cannot read %s: %s", cmek_buf_cstr(&full), strerror(errno));
        goto done;
    }
    rc = cmek_buf_append(out, "", 0); /* "" rather than no storage for an empty file */
done:
    cmek_buf_clean_up(&full);
    return rc;
}

/* A string that is exactly one "${name}" (not env): its value, which keeps its type. */
static const json_t *s_whole_ref(const char *text, const struct crun_lookup *lk)
{
    size_t len = strlen(text);
    if (len < 4 || text[0] != '$' || text[1] != '{' || text[len - 1] != '}' ||
        memchr(text + 2, '}', len - 3) != NULL) {
        return NULL;
    }
    struct crun_ref ref;
    size_t end, def, def_end;
    char why[8];
    if (s_parse_ref(text, 0, &ref, &end, &def, &def_end, why, sizeof(why)) != CMEK_OK ||
        ref.kind != CRUN_REF_VAR || lk->var == NULL) {
        return NULL;
    }
    return lk->var(lk->ctx, ref.name);
}

static int s_subst_string(const char *text, const struct crun_lookup *lk, json_t **out, char *why,
                          size_t why_len)
{
    const json_t *whole = s_whole_ref(text, lk);
    if (whole != NULL && !json_is_string(whole)) {
        *out = json_deep_copy(whole);
        return *out != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
    }
    struct cmek_buf buf;
    cmek_buf_init(&buf, CRUN_TEXT_MAX_BYTES);
    int rc = crun_subst_text(text, lk, &buf, why, why_len);
    if (rc == CMEK_ERR_LIMIT) {
        snprintf(why, why_len, "a substituted string is longer than %d bytes", CRUN_TEXT_MAX_BYTES);
    }
    if (rc == CMEK_OK) {
        *out = json_stringn(buf.data != NULL ? buf.data : "", buf.len);
        if (*out == NULL) {
            snprintf(why, why_len, "a substituted string is not valid UTF-8");
            rc = CMEK_ERR_PARSE;
        }
    }
    cmek_buf_clean_up(&buf);
    return rc;
}

static int s_build(enum crun_builder kind, const json_t *operand, const struct crun_lookup *lk,
                   json_t **out, char *why, size_t why_len)
{
    struct cmek_buf text, encoded;
    cmek_buf_init(&text, CRUN_TEXT_MAX_BYTES);
    cmek_buf_init(&encoded, CRUN_TEXT_MAX_BYTES * 2);
    json_t *inner = NULL;
    char *dumped = NULL;
    int rc;
    switch (kind) {
    case CRUN_BUILDER_FILE: {
        struct cmek_buf raw;
        cmek_buf_init(&raw, CRUN_TEXT_MAX_BYTES);
        rc = crun_fixture_read(lk->fixtures_dir, json_string_value(operand), &raw, why, why_len);
        if (rc == CMEK_OK) {
            rc = s_subst_string(raw.data, lk, out, why, why_len);
        }
        cmek_buf_clean_up(&raw);
        break;
    }
    case CRUN_BUILDER_JSON:
        rc = crun_subst_value(operand, lk, false, &inner, why, why_len);
        if (rc) {
            break;
        }
        dumped = json_dumps(inner, JSON_COMPACT | JSON_ENCODE_ANY);
        rc = CMEK_ERR_NOMEM;
        if (dumped != NULL) {
            *out = json_string(dumped);
            rc = *out != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
        }
        break;
    case CRUN_BUILDER_BASE64:
        rc = crun_subst_text(json_string_value(operand), lk, &text, why, why_len);
        if (rc) {
            break;
        }
        rc = cmek_base64_encode(text.data != NULL ? text.data : "", text.len, &encoded);
        if (rc) {
            break;
        }
        *out = json_stringn(encoded.data != NULL ? encoded.data : "", encoded.len);
        rc = *out != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
        break;
    case CRUN_BUILDER_MATCHER:
    case CRUN_BUILDER_NONE:
    default:
        rc = CMEK_ERR_INVALID_ARG;
        break;
    }
    free(dumped);
    json_decref(inner);
    cmek_buf_clean_up(&text);
    cmek_buf_clean_up(&encoded);
    return rc;
}

int crun_subst_value(const json_t *tmpl, const struct crun_lookup *lk, bool allow_matchers,
                     json_t **out, char *why, size_t why_len)
{
    *out = NULL;
    int rc = CMEK_OK;
    if (json_is_string(tmpl)) {
        return s_subst_string(json_string_value(tmpl), lk, out, why, why_len);
    }
    if (json_is_array(tmpl)) {
        json_t *arr = json_array();
        if (arr == NULL) {
            return CMEK_ERR_NOMEM;
        }
        size_t i;
        const json_t *item;
        json_array_foreach(tmpl, i, item)
        {
            json_t *v = NULL;
            rc = crun_subst_value(item, lk, false, &v, why, why_len);
            if (rc == CMEK_OK && json_array_append_new(arr, v) != 0) {
                rc = CMEK_ERR_NOMEM;
            }
            if (rc) {
                json_decref(arr);
                return rc;
            }
        }
        *out = arr;
        return CMEK_OK;
    }
    if (!json_is_object(tmpl)) {
        *out = json_deep_copy(tmpl);
        return *out != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
    }
    enum crun_builder kind;
    rc = crun_builder_kind(tmpl, allow_matchers, &kind, why, why_len);
    if (rc) {
        return rc;
    }
    if (kind != CRUN_BUILDER_NONE && kind != CRUN_BUILDER_MATCHER) {
        const char *key;
        const json_t *operand;
        json_object_foreach((json_t *)tmpl, key, operand)
        {
            return s_build(kind, operand, lk, out, why, why_len);
        }
    }
    json_t *obj = json_object();
    if (obj == NULL) {
        return CMEK_ERR_NOMEM;
    }
    const char *key;
    const json_t *member;
    json_object_foreach((json_t *)tmpl, key, member)
    {
        json_t *v = NULL;
        /* matchers stand only at the top of an expected value */
        rc = crun_subst_value(member, lk, false, &v, why, why_len);
        if (rc == CMEK_OK && json_object_set_new(obj, key, v) != 0) {
            rc = CMEK_ERR_NOMEM;
        }
        if (rc) {
            json_decref(obj);
            return rc;
        }
    }
    *out = obj;
    return CMEK_OK;
}
