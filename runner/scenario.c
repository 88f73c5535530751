/* scenario.c: reads scenario files (and the files they include) and checks everything a
 * run would trip over -- JSON, fields, types, operations, identities, variables, fixtures --
 * so that a scenario fails before its first step or not at all for reasons of its own. */
#include "scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmek/map.h"
#include "expect.h"
#include "vars.h"

#define CRUN_ERRORS_MAX_BYTES (1024 * 1024)

static const char *const s_builtins[] = {"run_id", "target", "region"};

bool crun_builtin_var(const char *name)
{
    for (size_t i = 0; i < sizeof(s_builtins) / sizeof(s_builtins[0]); i++) {
        if (strcmp(name, s_builtins[i]) == 0) {
            return true;
        }
    }
    return false;
}

struct s_loader {
    const struct crun_load_options *opt;
    struct crun_scenario *sc;
    struct cmek_buf *errors;
    size_t *count;
    size_t file_errors;
    bool stopped;          /* CRUN_ERRORS_PER_FILE_MAX reached */
    struct cmek_vec stack; /* borrowed const char *: the files being included, outermost first */
    int rc;                /* the first non-parse failure (memory) */
};

static const char *s_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    default:
        return "a value";
    }
}

/* Appends "FILE:LINE:COL: step LABEL: what\n" (without a position: "FILE: ..."). */
static void s_verr(struct s_loader *l, const char *file, const struct crun_pos *pos,
                   const char *step_label, const char *fmt, va_list ap)
{
    *l->count += 1;
    if (l->stopped) {
        return;
    }
    if (++l->file_errors > CRUN_ERRORS_PER_FILE_MAX) {
        l->stopped = true;
        if (cmek_buf_appendf(l->errors, "%s: too many errors, stopping here\n", file) != CMEK_OK) {
            return; /* past the errors cap */
        }
        return;
    }
    int rc = pos != NULL ? cmek_buf_appendf(l->errors, "%s:%d:%d: ", file, pos->line, pos->column)
                         : cmek_buf_appendf(l->errors, "%s: ", file);
    if (rc == CMEK_OK && step_label != NULL) {
        rc = cmek_buf_appendf(l->errors, "step %s: ", step_label);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_vappendf(l->errors, fmt, ap);
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_byte(l->errors, '\n');
    }
    (void)rc; /* past the errors cap the rest is dropped: the count still says how many */
}

__attribute__((format(printf, 5, 6))) static void s_err_at(struct s_loader *l, const char *file,
                                                           const struct crun_pos *pos,
                                                           const char *step_label, const char *fmt,
                                                           ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_verr(l, file, pos, step_label, fmt, ap);
    va_end(ap);
}

/* An error at the value (or, at_key, the member name) with jsonpos path in src. */
__attribute__((format(printf, 6, 7))) static void
s_err(struct s_loader *l, const struct crun_source *src, const char *path, bool at_key,
      const char *step_label, const char *fmt, ...)
{
    struct crun_pos pos = {0, 0};
    bool found = path != NULL && (at_key ? crun_jsonpos_key(src->pos, path, &pos)
                                         : crun_jsonpos_value(src->pos, path, &pos));
    va_list ap;
    va_start(ap, fmt);
    s_verr(l, src->path, found ? &pos : NULL, step_label, fmt, ap);
    va_end(ap);
}

/* The step object at base ("steps[2]", "cleanup[0]") in src. */
static const json_t *s_step_object(const struct crun_source *src, const char *base)
{
    const char *bracket = strchr(base, '[');
    const json_t *arr =
        json_object_get(src->root, strncmp(base, "cleanup[", 8) == 0 ? "cleanup" : "steps");
    return json_array_get(arr, strtoul(bracket + 1, NULL, 10));
}

/* path + ".field" in a scratch buffer owned by the caller. */
static const char *s_path(struct cmek_buf *scratch, const char *base, const char *field)
{
    cmek_buf_reset(scratch);
    if (cmek_buf_append_str(scratch, base) != CMEK_OK ||
        (field != NULL && crun_jsonpos_append_key(scratch, field) != CMEK_OK)) {
        return NULL;
    }
    return cmek_buf_cstr(scratch);
}

static bool s_valid_var_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > CRUN_VAR_NAME_MAX ||
        !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
          name[0] == '_')) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

static void s_source_destroy(struct crun_source *src)
{
    if (src == NULL) {
        return;
    }
    free(src->path);
    free(src->text);
    json_decref(src->root);
    crun_jsonpos_destroy(src->pos);
    free(src);
}

static void s_step_destroy(struct crun_step *step)
{
    if (step == NULL) {
        return;
    }
    free(step->name);
    free(step->base);
    free(step->emulator_only_reason);
    for (size_t i = 0; i < step->refs.len; i++) {
        free(step->refs.items[i]);
    }
    cmek_vec_clean_up(&step->refs);
    free(step);
}

void crun_scenario_destroy(struct crun_scenario *sc)
{
    if (sc == NULL) {
        return;
    }
    for (size_t i = 0; i < sc->steps.len; i++) {
        s_step_destroy(sc->steps.items[i]);
    }
    for (size_t i = 0; i < sc->cleanup.len; i++) {
        s_step_destroy(sc->cleanup.items[i]);
    }
    for (size_t i = 0; i < sc->sources.len; i++) {
        s_source_destroy(sc->sources.items[i]);
    }
    cmek_vec_clean_up(&sc->steps);
    cmek_vec_clean_up(&sc->cleanup);
    cmek_vec_clean_up(&sc->sources);
    json_decref(sc->vars);
    free(sc->path);
    free(sc);
}

struct crun_pos crun_step_pos(const struct crun_step *step)
{
    struct crun_pos pos = {0, 0};
    struct cmek_buf scratch;
    cmek_buf_init(&scratch, CRUN_PATH_MAX_BYTES);
    const char *path = s_path(&scratch, step->base, "name");
    if (path == NULL || !crun_jsonpos_value(step->src->pos, path, &pos)) {
        (void)crun_jsonpos_value(step->src->pos, step->base, &pos);
    }
    cmek_buf_clean_up(&scratch);
    return pos;
}

/* Reads and parses one file into a new source (added to the scenario). Errors about the
 * file itself are reported here; *out is NULL after one. */
static int s_source_load(struct s_loader *l, const char *path, const char *included_by,
                         struct crun_source **out)
{
    *out = NULL;
    struct crun_source *src = calloc(1, sizeof(*src));
    struct cmek_buf text;
    cmek_buf_init(&text, CRUN_SCENARIO_MAX_BYTES);
    int rc = CMEK_ERR_NOMEM;
    if (src == NULL || (src->path = strdup(path)) == NULL) {
        goto done;
    }
    rc = cmek_vec_push(&l->sc->sources, src);
    if (rc) {
        goto done;
    }
    struct crun_source *added = src;
    src = NULL; /* the scenario owns it now */
    rc = cmek_buf_append_file(&text, path);
    if (rc == CMEK_ERR_LIMIT) {
        s_err(l, added, NULL, false, NULL, "larger than %d bytes", CRUN_SCENARIO_MAX_BYTES);
        rc = CMEK_OK;
        goto done;
    }
    if (rc || cmek_buf_append(&text, "", 0) != CMEK_OK) {
        s_err(l, added, NULL, false, NULL, "cannot read: %s%s", strerror(errno),
              included_by != NULL ? included_by : "");
        rc = CMEK_OK;
        goto done;
    }
    added->len = text.len;
    added->text = cmek_buf_steal(&text);
    json_error_t jerr;
    added->root = json_loadb(added->text, added->len, JSON_REJECT_DUPLICATES, &jerr);
    if (added->root == NULL) {
        struct crun_pos jpos = {jerr.line, jerr.column};
        s_err_at(l, added->path, &jpos, NULL, "invalid JSON: %s%s", jerr.text,
                 included_by != NULL ? included_by : "");
        rc = CMEK_OK;
        goto done;
    }
    rc = crun_jsonpos_scan(added->text, added->len, &added->pos);
    if (rc) {
        goto done;
    }
    *out = added;
done:
    cmek_buf_clean_up(&text);
    s_source_destroy(src);
    return rc;
}

static const char *const s_top_fields[] = {"name", "description", "vars", "steps", "cleanup"};

/* Checks a file's top level and merges its vars. */
static int s_check_top(struct s_loader *l, const struct crun_source *src, bool included)
{
    const json_t *root = src->root;
    if (!json_is_object(root)) {
        s_err(l, src, "", false, NULL, "a scenario is a JSON object, not %s", s_type_name(root));
        return CMEK_ERR_PARSE;
    }
    const char *key;
    const json_t *value;
    struct cmek_buf scratch;
    cmek_buf_init(&scratch, CRUN_PATH_MAX_BYTES);
    json_object_foreach((json_t *)root, key, value)
    {
        size_t i;
        for (i = 0; i < sizeof(s_top_fields) / sizeof(s_top_fields[0]); i++) {
            if (strcmp(key, s_top_fields[i]) == 0) {
                break;
            }
        }
        const char *path = s_path(&scratch, "", key);
        if (i == sizeof(s_top_fields) / sizeof(s_top_fields[0])) {
            s_err(l, src, path, true, NULL,
                  "unknown field \"%s\" (name, description, vars, steps, cleanup)", key);
        } else if ((i <= 1 && !json_is_string(value)) || (i == 2 && !json_is_object(value)) ||
                   (i >= 3 && !json_is_array(value))) {
            s_err(l, src, path, false, NULL, "\"%s\" must be %s, not %s", key,
                  i <= 1   ? "a string"
                  : i == 2 ? "an object"
                           : "an array",
                  s_type_name(value));
        } else if (i == 0 && json_string_length(value) == 0) {
            s_err(l, src, path, false, NULL, "\"name\" must not be empty");
        } else if (i == 4 && included) {
            s_err(l, src, path, true, NULL,
                  "\"cleanup\" is not allowed in an included file (only its steps are spliced)");
        }
    }
    if (!included && json_object_get(root, "name") == NULL) {
        s_err(l, src, "", false, NULL, "missing field \"name\"");
    }
    if (json_object_get(root, "steps") == NULL) {
        s_err(l, src, "", false, NULL, "missing field \"steps\"");
    }
    /* vars: in file order; each may use built-ins, --var, env and the vars before it */
    json_object_foreach(json_object_get(root, "vars"), key, value)
    {
        const char *path = s_path(&scratch, "vars", key);
        if (!s_valid_var_name(key)) {
            s_err(l, src, path, true, NULL,
                  "bad variable name \"%s\" (a letter or '_', then letters, digits, '_', '-')",
                  key);
            continue;
        }
        if (crun_builtin_var(key)) {
            s_err(l, src, path, true, NULL, "\"%s\" is a built-in variable", key);
            continue;
        }
        if (!json_is_string(value)) {
            s_err(l, src, path, false, NULL, "vars.%s must be a string, not %s", key,
                  s_type_name(value));
            continue;
        }
        if (json_object_get(l->sc->vars, key) != NULL) {
            continue; /* the includer's (earlier) definition wins */
        }
        if (json_object_set(l->sc->vars, key, (json_t *)value) != 0) {
            cmek_buf_clean_up(&scratch);
            return CMEK_ERR_NOMEM;
        }
    }
    cmek_buf_clean_up(&scratch);
    return CMEK_OK;
}

static int s_collect(struct s_loader *l, const struct crun_source *src, const char *array,
                     bool cleanup, int depth);

static const char *const s_include_fields[] = {"include", "name", "description"};

/* An {"include": "file"} entry at path in src. */
static int s_include(struct s_loader *l, const struct crun_source *src, const char *base,
                     const char *label, bool cleanup, int depth)
{
    struct cmek_buf scratch, joined, by;
    cmek_buf_init(&scratch, CRUN_PATH_MAX_BYTES);
    cmek_buf_init(&joined, 8192);
    cmek_buf_init(&by, 8192);
    int rc = CMEK_OK;
    const json_t *obj = s_step_object(src, base);
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        size_t i;
        for (i = 0; i < sizeof(s_include_fields) / sizeof(s_include_fields[0]); i++) {
            if (strcmp(key, s_include_fields[i]) == 0) {
                break;
            }
        }
        const char *path = s_path(&scratch, base, key);
        if (i == sizeof(s_include_fields) / sizeof(s_include_fields[0])) {
            s_err(l, src, path, true, label,
                  "\"%s\" does not go with \"include\" (an include has include, name, "
                  "description)",
                  key);
        } else if (!json_is_string(value)) {
            s_err(l, src, path, false, label, "\"%s\" must be a string, not %s", key,
                  s_type_name(value));
        }
    }
    const json_t *inc = json_object_get(obj, "include");
    if (!json_is_string(inc)) {
        goto done;
    }
    const char *ipath = s_path(&scratch, base, "include");
    const char *rel = json_string_value(inc);
    const char *slash = strrchr(src->path, '/');
    rc = rel[0] == '/' || slash == NULL
             ? cmek_buf_append_str(&joined, rel)
             : cmek_buf_appendf(&joined, "%.*s/%s", (int)(slash - src->path), src->path, rel);
    if (rc) {
        goto done;
    }
    if (depth + 1 > CRUN_INCLUDE_MAX_DEPTH) {
        s_err(l, src, ipath, false, label, "includes nested deeper than %d",
              CRUN_INCLUDE_MAX_DEPTH);
        goto done;
    }
    char *real = realpath(cmek_buf_cstr(&joined), NULL);
    if (real == NULL) {
        s_err(l, src, ipath, false, label, "cannot include \"%s\": %s", rel, strerror(errno));
        goto done;
    }
    for (size_t i = 0; i < l->stack.len; i++) {
        if (strcmp(l->stack.items[i], real) == 0) {
            s_err(l, src, ipath, false, label,
                  "include cycle: \"%s\" is already being included (%zu level%s up)", rel,
                  l->stack.len - i, l->stack.len - i == 1 ? "" : "s");
            free(real);
            goto done;
        }
    }
    struct crun_pos ipos = {0, 0};
    (void)crun_jsonpos_value(src->pos, ipath, &ipos);
    rc = cmek_buf_appendf(&by, " (included by %s:%d:%d)", src->path, ipos.line, ipos.column);
    struct crun_source *isrc = NULL;
    if (rc == CMEK_OK) {
        rc = s_source_load(l, cmek_buf_cstr(&joined), cmek_buf_cstr(&by), &isrc);
    }
    if (rc == CMEK_OK && isrc != NULL) {
        rc = cmek_vec_push(&l->stack, real);
        if (rc == CMEK_OK) {
            rc = s_check_top(l, isrc, true);
            if (rc == CMEK_OK) {
                rc = s_collect(l, isrc, "steps", cleanup, depth + 1);
            } else if (rc == CMEK_ERR_PARSE) {
                rc = CMEK_OK;
            }
            (void)cmek_vec_remove_at(&l->stack, l->stack.len - 1);
        }
    }
    free(real);
done:
    cmek_buf_clean_up(&scratch);
    cmek_buf_clean_up(&joined);
    cmek_buf_clean_up(&by);
    return rc;
}

/* Pass 1: the flat list of steps (includes spliced in), each knowing its file and path. */
static int s_collect(struct s_loader *l, const struct crun_source *src, const char *array,
                     bool cleanup, int depth)
{
    const json_t *arr = json_object_get(src->root, array);
    struct cmek_buf base, label;
    cmek_buf_init(&base, CRUN_PATH_MAX_BYTES);
    cmek_buf_init(&label, 64);
    int rc = CMEK_OK;
    size_t i;
    const json_t *item;
    json_array_foreach(arr, i, item)
    {
        cmek_buf_reset(&base);
        cmek_buf_reset(&label);
        rc = cmek_buf_appendf(&base, "%s[%zu]", array, i);
        if (rc == CMEK_OK) {
            rc = cmek_buf_appendf(&label, "#%zu", i + 1);
        }
        if (rc) {
            break;
        }
        const json_t *name = json_object_get(item, "name");
        const char *shown = json_is_string(name) ? json_string_value(name) : cmek_buf_cstr(&label);
        if (!json_is_object(item)) {
            s_err(l, src, cmek_buf_cstr(&base), false, cmek_buf_cstr(&label),
                  "a step is an object, not %s", s_type_name(item));
            continue;
        }
        if (json_object_get(item, "include") != NULL) {
            rc = s_include(l, src, cmek_buf_cstr(&base), shown, cleanup, depth);
            if (rc) {
                break;
            }
            continue;
        }
        struct crun_step *step = calloc(1, sizeof(*step));
        if (step == NULL) {
            rc = CMEK_ERR_NOMEM;
            break;
        }
        cmek_vec_init(&step->refs);
        step->src = src;
        step->cleanup = cleanup;
        step->base = strdup(cmek_buf_cstr(&base));
        step->name = strdup(shown);
        rc = step->base == NULL || step->name == NULL
                 ? CMEK_ERR_NOMEM
                 : cmek_vec_push(cleanup ? &l->sc->cleanup : &l->sc->steps, step);
        if (rc) {
            s_step_destroy(step);
            break;
        }
    }
    cmek_buf_clean_up(&base);
    cmek_buf_clean_up(&label);
    return rc;
}

/* Pass 2 state: what is defined where. */
struct s_checker {
    struct s_loader *l;
    struct cmek_map names;        /* step name -> struct crun_step * */
    struct cmek_map saved_before; /* var -> the step that saves it, among steps checked so far */
    struct cmek_map saved_any;    /* var -> the first step that saves it, anywhere */
    struct cmek_map sessions_before;
    struct cmek_map sessions_any;
};

struct s_ref_ctx {
    struct s_checker *c;
    struct crun_step *step;
    const char *path;    /* jsonpos path of the string holding the refs */
    const char *fixture; /* when the refs are in a $file's text */
};

static int s_add_ref(struct crun_step *step, const char *name)
{
    for (size_t i = 0; i < step->refs.len; i++) {
        if (strcmp(step->refs.items[i], name) == 0) {
            return CMEK_OK;
        }
    }
    char *copy = strdup(name);
    if (copy == NULL) {
        return CMEK_ERR_NOMEM;
    }
    int rc = cmek_vec_push(&step->refs, copy);
    if (rc) {
        free(copy);
    }
    return rc;
}

static const char *s_getenv(const struct crun_load_options *opt, const char *name)
{
    return opt->getenv_fn != NULL ? opt->getenv_fn(opt->env_ctx, name) : getenv(name);
}

static int s_on_ref(void *ctx, const struct crun_ref *ref)
{
    struct s_ref_ctx *r = ctx;
    struct s_loader *l = r->c->l;
    const char *in = r->fixture != NULL ? " in fixture " : "";
    const char *fixture = r->fixture != NULL ? r->fixture : "";
    if (ref->kind == CRUN_REF_ENV) {
        if (!ref->has_default && s_getenv(l->opt, ref->name) == NULL) {
            s_err(l, r->step->src, r->path, false, r->step->name,
                  "environment variable %s is not set%s%s (${env.%s:-default} gives a fallback)",
                  ref->name, in, fixture, ref->name);
        }
        return CMEK_OK;
    }
    bool cleanup = r->step->cleanup;
    if (json_object_get(l->sc->vars, ref->name) != NULL ||
        (l->opt->cli_vars != NULL && json_object_get(l->opt->cli_vars, ref->name) != NULL) ||
        crun_builtin_var(ref->name) ||
        cmek_map_get(cleanup ? &r->c->saved_any : &r->c->saved_before, ref->name) != NULL) {
        return s_add_ref(r->step, ref->name);
    }
    const struct crun_step *later = cmek_map_get(&r->c->saved_any, ref->name);
    if (later != NULL) {
        s_err(l, r->step->src, r->path, false, r->step->name,
              "undefined variable ${%s}%s%s: step %s saves it, but runs later", ref->name, in,
              fixture, later->name);
    } else {
        s_err(l, r->step->src, r->path, false, r->step->name,
              "undefined variable ${%s}%s%s (not in vars, --var, a built-in or saved by an "
              "earlier step)",
              ref->name, in, fixture);
    }
    return CMEK_OK;
}

/* Walks a template for references, builders and fixtures. */
static int s_check_template(struct s_checker *c, struct crun_step *step, const json_t *v,
                            struct cmek_buf *path, bool allow_matchers)
{
    struct s_loader *l = c->l;
    char why[512];
    int rc = CMEK_OK;
    size_t keep = path->len;
    if (json_is_string(v)) {
        struct s_ref_ctx r = {c, step, cmek_buf_cstr(path), NULL};
        if (crun_refs_scan(json_string_value(v), s_on_ref, &r, why, sizeof(why)) != CMEK_OK) {
            s_err(l, step->src, cmek_buf_cstr(path), false, step->name, "%s", why);
        }
        return CMEK_OK;
    }
    if (json_is_array(v)) {
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            rc = crun_jsonpos_append_index(path, i);
            if (rc == CMEK_OK) {
                rc = s_check_template(c, step, item, path, false);
            }
            path->len = keep;
            path->data[keep] = '\0';
            if (rc) {
                return rc;
            }
        }
        return CMEK_OK;
    }
    if (!json_is_object(v)) {
        return CMEK_OK;
    }
    enum crun_builder kind;
    if (crun_builder_kind(v, allow_matchers, &kind, why, sizeof(why)) != CMEK_OK) {
        s_err(l, step->src, cmek_buf_cstr(path), false, step->name, "%s", why);
        return CMEK_OK;
    }
    const char *key;
    const json_t *member;
    if (kind == CRUN_BUILDER_FILE) {
        const json_t *file = json_object_get(v, "$file");
        rc = crun_jsonpos_append_key(path, "$file");
        if (rc) {
            return rc;
        }
        struct cmek_buf text;
        cmek_buf_init(&text, CRUN_TEXT_MAX_BYTES);
        if (crun_fixture_read(l->opt->fixtures_dir, json_string_value(file), &text, why,
                              sizeof(why)) != CMEK_OK) {
            s_err(l, step->src, cmek_buf_cstr(path), false, step->name, "%s", why);
        } else {
            struct s_ref_ctx r = {c, step, cmek_buf_cstr(path), json_string_value(file)};
            if (crun_refs_scan(text.data, s_on_ref, &r, why, sizeof(why)) != CMEK_OK) {
                s_err(l, step->src, cmek_buf_cstr(path), false, step->name, "in fixture %s: %s",
                      json_string_value(file), why);
            }
        }
        cmek_buf_clean_up(&text);
        path->len = keep;
        path->data[keep] = '\0';
        return CMEK_OK;
    }
    json_object_foreach((json_t *)v, key, member)
    {
        rc = crun_jsonpos_append_key(path, key);
        if (rc == CMEK_OK) {
            rc = s_check_template(c, step, member, path, false);
        }
        path->len = keep;
        path->data[keep] = '\0';
        if (rc) {
            return rc;
        }
    }
    return CMEK_OK;
}

static const char *const s_step_fields[] = {"name",          "op",          "args",   "as",
                                            "session",       "save",        "expect", "wait",
                                            "emulator_only", "description", "vault"};

/* Field types, by index in s_step_fields. */
static bool s_field_type_ok(size_t i, const json_t *v, const char **want)
{
    switch (i) {
    case 0: /* name */
    case 1: /* op */
    case 3: /* as */
    case 4: /* session */
    case 9: /* description */
        *want = "a string";
        return json_is_string(v);
    case 2:  /* args */
    case 5:  /* save */
    case 6:  /* expect */
    case 7:  /* wait */
    case 10: /* vault */
        *want = "an object";
        return json_is_object(v);
    case 8: /* emulator_only */
        *want = "a boolean or a reason (a string)";
        return json_is_boolean(v) || json_is_string(v);
    default:
        *want = "?";
        return false;
    }
}

static int s_check_step(struct s_checker *c, struct crun_step *step)
{
    struct s_loader *l = c->l;
    const struct crun_source *src = step->src;
    struct cmek_buf scratch, path;
    cmek_buf_init(&scratch, CRUN_PATH_MAX_BYTES);
    cmek_buf_init(&path, CRUN_PATH_MAX_BYTES);
    int rc = CMEK_OK;
    const char *label = step->name;
    const char *base = step->base;
    const json_t *obj = s_step_object(src, base);
    bool typed_ok = true;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        size_t i;
        for (i = 0; i < sizeof(s_step_fields) / sizeof(s_step_fields[0]); i++) {
            if (strcmp(key, s_step_fields[i]) == 0) {
                break;
            }
        }
        const char *p = s_path(&scratch, base, key);
        const char *want;
        if (i == sizeof(s_step_fields) / sizeof(s_step_fields[0])) {
            s_err(l, src, p, true, label,
                  "unknown field \"%s\" (name, op, include, args, as, session, save, expect, "
                  "wait, emulator_only, description, vault)",
                  key);
        } else if (!s_field_type_ok(i, value, &want)) {
            s_err(l, src, p, false, label, "\"%s\" must be %s, not %s", key, want,
                  s_type_name(value));
            typed_ok = false;
        }
    }
    const json_t *name = json_object_get(obj, "name");
    if (name == NULL) {
        s_err(l, src, base, false, label, "missing field \"name\"");
    } else if (json_is_string(name)) {
        const struct crun_step *first = cmek_map_get(&c->names, step->name);
        if (json_string_length(name) == 0) {
            s_err(l, src, s_path(&scratch, base, "name"), false, label,
                  "\"name\" must not be empty");
        } else if (first != NULL) {
            struct crun_pos fp = crun_step_pos(first);
            s_err(l, src, s_path(&scratch, base, "name"), false, label,
                  "duplicate step name (first at %s:%d:%d)", first->src->path, fp.line, fp.column);
        } else {
            rc = cmek_map_put(&c->names, step->name, step, NULL);
            if (rc) {
                goto done;
            }
        }
    }
    if (!typed_ok) {
        goto done; /* the checks below read the fields as their types */
    }
    step->op_name = json_string_value(json_object_get(obj, "op"));
    step->args = json_object_get(obj, "args");
    step->expect = json_object_get(obj, "expect");
    step->save = json_object_get(obj, "save");
    step->as = json_string_value(json_object_get(obj, "as"));
    step->session = json_string_value(json_object_get(obj, "session"));
    step->vault = json_object_get(obj, "vault");
    if (step->op_name == NULL) {
        s_err(l, src, base, false, label, "missing field \"op\" (or \"include\")");
    } else if ((step->op = cmek_operation_find(step->op_name)) == NULL) {
        s_err(l, src, s_path(&scratch, base, "op"), false, label,
              "unknown operation \"%s\" (see the tables in client/include/cmek/*.h)",
              step->op_name);
    }
    if (step->session != NULL) {
        if (step->op_name != NULL && strcmp(step->op_name, "sts.assume_role") != 0) {
            s_err(l, src, s_path(&scratch, base, "session"), true, label,
                  "\"session\" saves the credentials of sts.assume_role, not of %s", step->op_name);
        } else if (strcmp(step->session, "customer") == 0 ||
                   strcmp(step->session, "cockroach_cloud") == 0 || step->session[0] == '\0') {
            s_err(l, src, s_path(&scratch, base, "session"), false, label,
                  "\"%s\" cannot name a session", step->session);
        }
    }
    if (step->vault != NULL) {
        if (step->op != NULL && step->op->service != CMEK_SERVICE_VAULT) {
            s_err(l, src, s_path(&scratch, base, "vault"), true, label,
                  "\"vault\" sets the Vault token and namespace of vault.* steps, not of %s",
                  step->op_name);
        }
        const char *vkey;
        const json_t *vvalue;
        json_object_foreach((json_t *)step->vault, vkey, vvalue)
        {
            const char *vp = s_path(&path, s_path(&scratch, base, "vault"), vkey);
            if (strcmp(vkey, "token") != 0 && strcmp(vkey, "namespace") != 0) {
                s_err(l, src, vp, true, label, "unknown field \"vault.%s\" (token, namespace)",
                      vkey);
            } else if (!json_is_string(vvalue) && !json_is_null(vvalue)) {
                s_err(l, src, vp, false, label,
                      "\"vault.%s\" must be a string or null (no header), not %s", vkey,
                      s_type_name(vvalue));
            }
        }
    }
    if (step->as != NULL && strcmp(step->as, "customer") != 0 &&
        strcmp(step->as, "cockroach_cloud") != 0 &&
        cmek_map_get(step->cleanup ? &c->sessions_any : &c->sessions_before, step->as) == NULL) {
        const struct crun_step *later = cmek_map_get(&c->sessions_any, step->as);
        if (later != NULL) {
            s_err(l, src, s_path(&scratch, base, "as"), false, label,
                  "session \"%s\" is saved by step %s, which runs later", step->as, later->name);
        } else {
            s_err(l, src, s_path(&scratch, base, "as"), false, label,
                  "unknown identity \"%s\" (customer, cockroach_cloud, or a session saved by an "
                  "earlier step)",
                  step->as);
        }
    }
    /* emulator-only: said so, the operation, or the identity */
    const json_t *eo = json_object_get(obj, "emulator_only");
    const char *reason = NULL;
    char reason_buf[256];
    if (json_is_string(eo)) {
        if (json_string_length(eo) == 0) {
            s_err(l, src, s_path(&scratch, base, "emulator_only"), false, label,
                  "\"emulator_only\" needs a reason, or true");
        }
        reason = json_string_value(eo);
    } else if (json_is_true(eo)) {
        reason = "marked emulator_only";
    } else if (step->op != NULL && step->op->emulator_only) {
        snprintf(reason_buf, sizeof(reason_buf), "%s exists only on cmek-emulator", step->op_name);
        reason = reason_buf;
    } else if (step->as != NULL && strcmp(step->as, "cockroach_cloud") == 0) {
        reason = "acts as cockroach_cloud, CockroachDB Cloud's own principal, which only the "
                 "emulator lends";
    }
    if (reason != NULL) {
        step->emulator_only = true;
        step->emulator_only_reason = strdup(reason);
        if (step->emulator_only_reason == NULL) {
            rc = CMEK_ERR_NOMEM;
            goto done;
        }
    }
    /* expect */
    bool expect_ok = true;
    if (step->expect != NULL) {
        bool at_key;
        char why[512];
        rc = crun_expect_validate(step->expect, &path, &at_key, why, sizeof(why));
        if (rc == CMEK_ERR_PARSE) {
            cmek_buf_reset(&scratch);
            rc = cmek_buf_appendf(&scratch, "%s.expect%s%s", base,
                                  path.len > 0 && path.data[0] != '[' ? "." : "",
                                  cmek_buf_cstr(&path));
            if (rc) {
                goto done;
            }
            s_err(l, src, cmek_buf_cstr(&scratch), at_key, label, "%s", why);
            expect_ok = false;
            rc = CMEK_OK;
        } else if (rc) {
            goto done;
        }
        if (step->save != NULL && crun_expect_wants_failure(step->expect)) {
            s_err(l, src, s_path(&scratch, base, "save"), true, label,
                  "\"save\" needs a successful call, and \"expect\" wants a failure");
        }
    }
    /* wait */
    const json_t *wait = json_object_get(obj, "wait");
    if (wait != NULL) {
        const char *bad_field;
        char why[256];
        if (crun_wait_parse(wait, &step->wait, &bad_field, why, sizeof(why)) != CMEK_OK) {
            const char *p = s_path(&scratch, base, "wait");
            if (p != NULL && bad_field != NULL && bad_field[0] != '\0') {
                p = s_path(&path, p, bad_field);
            }
            s_err(l, src, p, false, label, "%s", why);
        }
        step->has_wait = true;
    }
    /* references in args and expect */
    cmek_buf_reset(&path);
    if (step->args != NULL) {
        rc = cmek_buf_append_str(&path, s_path(&scratch, base, "args"));
        if (rc == CMEK_OK) {
            rc = s_check_template(c, step, step->args, &path, false);
        }
        if (rc) {
            goto done;
        }
    }
    json_object_foreach((json_t *)(expect_ok ? step->expect : NULL), key, value)
    {
        cmek_buf_reset(&path);
        rc = cmek_buf_append_str(&path, s_path(&scratch, base, "expect"));
        if (rc == CMEK_OK) {
            rc = crun_jsonpos_append_key(&path, key);
        }
        if (rc) {
            goto done;
        }
        if (strcmp(key, "values") != 0 || !json_is_object(value)) {
            rc = s_check_template(c, step, value, &path, false);
            if (rc) {
                goto done;
            }
            continue;
        }
        size_t keep = path.len;
        const char *vpath;
        const json_t *want;
        json_object_foreach((json_t *)value, vpath, want)
        {
            rc = crun_jsonpos_append_key(&path, vpath);
            if (rc == CMEK_OK) {
                rc = s_check_template(c, step, want, &path, true);
            }
            path.len = keep;
            path.data[keep] = '\0';
            if (rc) {
                goto done;
            }
        }
    }
    /* save: names and paths; then they are defined for the steps after */
    json_object_foreach((json_t *)step->save, key, value)
    {
        const char *p = s_path(&scratch, base, "save");
        char why[256];
        cmek_buf_reset(&path);
        rc = cmek_buf_append_str(&path, p);
        if (rc == CMEK_OK) {
            rc = crun_jsonpos_append_key(&path, key);
        }
        if (rc) {
            goto done;
        }
        if (!s_valid_var_name(key)) {
            s_err(l, src, cmek_buf_cstr(&path), true, label,
                  "bad variable name \"%s\" (a letter or '_', then letters, digits, '_', '-')",
                  key);
        } else if (crun_builtin_var(key)) {
            s_err(l, src, cmek_buf_cstr(&path), true, label,
                  "cannot save to the built-in variable \"%s\"", key);
        } else if (!json_is_string(value)) {
            s_err(l, src, cmek_buf_cstr(&path), false, label,
                  "save.%s must be an output path (a string), not %s", key, s_type_name(value));
        } else if (crun_path_check(json_string_value(value), why, sizeof(why)) != CMEK_OK) {
            s_err(l, src, cmek_buf_cstr(&path), false, label, "bad output path \"%s\": %s",
                  json_string_value(value), why);
        } else {
            rc = cmek_map_put(&c->saved_before, key, step, NULL);
            if (rc) {
                goto done;
            }
        }
    }
    if (step->session != NULL) {
        rc = cmek_map_put(&c->sessions_before, step->session, step, NULL);
    }
done:
    cmek_buf_clean_up(&scratch);
    cmek_buf_clean_up(&path);
    return rc;
}

/* What every step saves, so that cleanup may use it and errors can name the step. */
static int s_index_saves(struct s_checker *c, const struct cmek_vec *steps)
{
    for (size_t i = 0; i < steps->len; i++) {
        const struct crun_step *step = steps->items[i];
        const json_t *obj = s_step_object(step->src, step->base);
        const json_t *save = json_object_get(obj, "save");
        const json_t *session = json_object_get(obj, "session");
        const char *key;
        const json_t *value;
        int rc;
        json_object_foreach((json_t *)save, key, value)
        {
            if (cmek_map_get(&c->saved_any, key) == NULL) {
                rc = cmek_map_put(&c->saved_any, key, (void *)step, NULL);
                if (rc) {
                    return rc;
                }
            }
        }
        if (json_is_string(session) &&
            cmek_map_get(&c->sessions_any, json_string_value(session)) == NULL) {
            rc = cmek_map_put(&c->sessions_any, json_string_value(session), (void *)step, NULL);
            if (rc) {
                return rc;
            }
        }
    }
    return CMEK_OK;
}

int crun_scenario_load(const char *path, const struct crun_load_options *opt,
                       struct crun_scenario **out, struct cmek_buf *errors, size_t *error_count)
{
    *out = NULL;
    *error_count = 0;
    struct s_loader l = {.opt = opt, .errors = errors, .count = error_count};
    cmek_vec_init(&l.stack);
    struct s_checker c = {.l = &l};
    cmek_map_init(&c.names);
    cmek_map_init(&c.saved_before);
    cmek_map_init(&c.saved_any);
    cmek_map_init(&c.sessions_before);
    cmek_map_init(&c.sessions_any);
    char *real = NULL;
    int rc = CMEK_ERR_NOMEM;
    l.sc = calloc(1, sizeof(*l.sc));
    if (l.sc == NULL) {
        goto done;
    }
    cmek_vec_init(&l.sc->sources);
    cmek_vec_init(&l.sc->steps);
    cmek_vec_init(&l.sc->cleanup);
    l.sc->path = strdup(path);
    l.sc->vars = json_object();
    if (l.sc->path == NULL || l.sc->vars == NULL) {
        goto done;
    }
    struct crun_source *src = NULL;
    rc = s_source_load(&l, path, NULL, &src);
    if (rc || src == NULL) {
        goto done;
    }
    rc = s_check_top(&l, src, false);
    if (rc == CMEK_ERR_PARSE) {
        rc = CMEK_OK;
        goto done;
    }
    if (rc) {
        goto done;
    }
    l.sc->name = json_string_value(json_object_get(src->root, "name"));
    l.sc->description = json_string_value(json_object_get(src->root, "description"));
    real = realpath(path, NULL);
    if (real != NULL) {
        rc = cmek_vec_push(&l.stack, real);
        if (rc) {
            goto done;
        }
    }
    rc = s_collect(&l, src, "steps", false, 0);
    if (rc == CMEK_OK) {
        rc = s_collect(&l, src, "cleanup", true, 0);
    }
    if (rc == CMEK_OK) {
        rc = s_index_saves(&c, &l.sc->steps);
    }
    if (rc == CMEK_OK) {
        rc = s_index_saves(&c, &l.sc->cleanup);
    }
    for (size_t i = 0; rc == CMEK_OK && i < l.sc->steps.len; i++) {
        rc = s_check_step(&c, l.sc->steps.items[i]);
    }
    for (size_t i = 0; rc == CMEK_OK && i < l.sc->cleanup.len; i++) {
        rc = s_check_step(&c, l.sc->cleanup.items[i]);
    }
done:
    if (rc == CMEK_OK && *error_count > 0) {
        rc = CMEK_ERR_PARSE;
    }
    if (rc == CMEK_OK) {
        *out = l.sc;
        l.sc = NULL;
    }
    crun_scenario_destroy(l.sc);
    free(real);
    cmek_vec_clean_up(&l.stack);
    cmek_map_clean_up(&c.names);
    cmek_map_clean_up(&c.saved_before);
    cmek_map_clean_up(&c.saved_any);
    cmek_map_clean_up(&c.sessions_before);
    cmek_map_clean_up(&c.sessions_any);
    return rc;
}
