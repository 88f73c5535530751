/* svc_admin.c: the emulator's own interface under /_emulator/ (../shared/CONTRACT.md):
 * health, reset, the emulator clock, and a dump of the current state. JSON in, JSON out;
 * errors are {"code": "...", "message": "..."}. */
#include <jansson.h>
#include <string.h>

#include "app.h"
#include "cmek/timeutil.h"
#include "service.h"
#include "store.h"

#define S_MAX_ADVANCE_S (100LL * 365 * 86400)

static void s_render_error(const struct emu_app *app, const struct emu_request *req,
                           struct emu_response *resp, int status, const char *code,
                           const char *message)
{
    (void)app;
    (void)req;
    resp->status = status;
    resp->content_type = "application/json";
    cmek_buf_reset(&resp->body);
    json_t *o = json_pack("{s:s,s:s}", "code", code, "message", message);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text == NULL || cmek_buf_append_str(&resp->body, text)) {
        resp->status = 0;
    }
    free(text);
    json_decref(o);
}

/* Steals value. */
static void s_render_json(struct emu_response *resp, int status, json_t *value)
{
    char *text = value ? json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    resp->status = status;
    resp->content_type = "application/json";
    if (text == NULL || cmek_buf_append_str(&resp->body, text)) {
        resp->status = 0;
    }
    free(text);
    json_decref(value);
}

static json_t *s_clock_json(const struct emu_app *app)
{
    char now[CMEK_ISO8601_LEN + 1];
    cmek_time_format_iso8601(emu_store_now(app, app->store), now);
    return json_pack("{s:s,s:I}", "now", now, "offset_seconds",
                     (json_int_t)app->store->clock_offset_s);
}

static void s_health(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    (void)req;
    emu_store_lock(app->store);
    json_t *clock = s_clock_json(app);
    emu_store_unlock(app->store);
    s_render_json(resp, 200,
                  json_pack("{s:s,s:s,s:o,s:[sssss]}", "status", "ok", "version", EMU_VERSION,
                            "clock", clock, "services", "iam", "sts", "kms", "ccloud", "vault"));
}

static void s_reset(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    emu_store_lock(app->store);
    int rc = emu_store_reset(app, app->store);
    emu_store_unlock(app->store);
    if (rc) {
        s_render_error(app, req, resp, 500, "ResetFailed", "the world could not be rebuilt");
        return;
    }
    emu_log(app, EMU_LOG_INFO, "state reset to the world; clock offset 0");
    s_render_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void s_get_clock(struct emu_app *app, const struct emu_request *req,
                        struct emu_response *resp)
{
    (void)req;
    emu_store_lock(app->store);
    json_t *clock = s_clock_json(app);
    emu_store_unlock(app->store);
    s_render_json(resp, 200, clock);
}

/* {"advance": "90m"} or {"set": "<RFC 3339>"}; the clock never goes back, since expiries
 * already observed must stay observed. */
static void s_post_clock(struct emu_app *app, const struct emu_request *req,
                         struct emu_response *resp)
{
    json_error_t jerr;
    json_t *body = json_loadb(req->body.ptr, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
    const char *problem = NULL;
    const char *advance = NULL;
    const char *set = NULL;
    if (!json_is_object(body)) {
        problem = "body must be a JSON object: {\"advance\": \"90m\"} or {\"set\": \"<RFC 3339>\"}";
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(body, key, v)
        {
            if (strcmp(key, "advance") == 0 && json_is_string(v)) {
                advance = json_string_value(v);
            } else if (strcmp(key, "set") == 0 && json_is_string(v)) {
                set = json_string_value(v);
            } else {
                problem = "only \"advance\" (a duration such as \"90m\", \"7d\") or \"set\" "
                          "(an RFC 3339 time) is accepted, as a string";
            }
        }
        if (problem == NULL && (advance == NULL) == (set == NULL)) {
            problem = "give exactly one of \"advance\" or \"set\"";
        }
    }
    int64_t delta = 0;
    emu_store_lock(app->store);
    if (problem == NULL && advance != NULL) {
        if (cmek_duration_parse(advance, strlen(advance), &delta) != CMEK_OK) {
            problem = "\"advance\" must be a whole number and one unit of s, m, h or d, e.g. "
                      "\"90m\"";
        }
    } else if (problem == NULL) {
        time_t target;
        if (cmek_time_parse_rfc3339(set, strlen(set), &target) != CMEK_OK) {
            problem = "\"set\" must be an RFC 3339 time, e.g. \"2030-01-01T00:00:00Z\"";
        } else {
            delta = (int64_t)target - (int64_t)emu_store_now(app, app->store);
            if (delta < 0) {
                problem = "the emulator clock only moves forward; \"set\" is in its past";
            }
        }
    }
    if (problem == NULL && app->store->clock_offset_s + delta > S_MAX_ADVANCE_S) {
        problem = "the emulator clock cannot run more than 100 years ahead";
    }
    if (problem == NULL) {
        app->store->clock_offset_s += delta;
    }
    json_t *clock = problem == NULL ? s_clock_json(app) : NULL;
    emu_store_unlock(app->store);
    json_decref(body);
    if (problem != NULL) {
        s_render_error(app, req, resp, 400, "InvalidClockRequest", problem);
        return;
    }
    emu_log(app, EMU_LOG_INFO, "clock advanced by %lld s", (long long)delta);
    s_render_json(resp, 200, clock);
}

static void s_state(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    (void)req;
    emu_store_lock(app->store);
    json_t *snap = emu_store_snapshot(app->store);
    emu_store_unlock(app->store);
    s_render_json(resp, 200, snap);
}

static const struct {
    const char *method;
    const char *path;
    void (*fn)(struct emu_app *, const struct emu_request *, struct emu_response *);
} s_routes[] = {
    {"GET", "/_emulator/health", s_health},   {"POST", "/_emulator/reset", s_reset},
    {"GET", "/_emulator/clock", s_get_clock}, {"POST", "/_emulator/clock", s_post_clock},
    {"GET", "/_emulator/state", s_state},
};

static void s_handle(struct emu_app *app, const struct emu_request *req, struct emu_response *resp)
{
    bool path_known = false;
    for (size_t i = 0; i < sizeof(s_routes) / sizeof(s_routes[0]); i++) {
        if (!cmek_view_eq_cstr(req->path, s_routes[i].path)) {
            continue;
        }
        path_known = true;
        if (strcmp(req->method, s_routes[i].method) == 0) {
            s_routes[i].fn(app, req, resp);
            return;
        }
    }
    if (path_known) {
        s_render_error(app, req, resp, 405, "MethodNotAllowed",
                       "this admin endpoint does not take that method");
        return;
    }
    s_render_error(app, req, resp, 404, "NotFound",
                   "no such admin endpoint; see GET /_emulator/health and the README");
}

const struct emu_service emu_service_admin = {
    .name = "admin",
    .handle = s_handle,
    .render_error = s_render_error,
};
