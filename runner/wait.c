/* wait.c: polling parameters. */
#include "wait.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *unit;
    int64_t ms;
} s_units[] = {{"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}};

int crun_duration_parse_ms(const char *text, int64_t *ms)
{
    int64_t n = 0;
    const char *p = text;
    while (*p >= '0' && *p <= '9') {
        n = n * 10 + (*p - '0');
        if (n > CRUN_DURATION_MAX_MS) {
            return CMEK_ERR_PARSE;
        }
        p++;
    }
    if (p == text) {
        return CMEK_ERR_PARSE;
    }
    for (size_t i = 0; i < sizeof(s_units) / sizeof(s_units[0]); i++) {
        if (strcmp(p, s_units[i].unit) == 0) {
            if (n == 0 || n > CRUN_DURATION_MAX_MS / s_units[i].ms) {
                return CMEK_ERR_PARSE;
            }
            *ms = n * s_units[i].ms;
            return CMEK_OK;
        }
    }
    return CMEK_ERR_PARSE;
}

static const char *const s_wait_fields[] = {"timeout", "interval", "backoff", "max_interval"};

int crun_wait_parse(const json_t *obj, struct crun_wait *out, const char **bad_field, char *why,
                    size_t why_len)
{
    out->timeout_ms = 60 * 1000;
    out->interval_ms = 500;
    out->backoff = 2.0;
    out->max_interval_ms = 5 * 1000;
    *bad_field = NULL;
    bool max_given = false;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        size_t i;
        for (i = 0; i < sizeof(s_wait_fields) / sizeof(s_wait_fields[0]); i++) {
            if (strcmp(key, s_wait_fields[i]) == 0) {
                break;
            }
        }
        if (i == sizeof(s_wait_fields) / sizeof(s_wait_fields[0])) {
            *bad_field = "";
            snprintf(why, why_len,
                     "unknown field \"wait.%s\" (timeout, interval, backoff, max_interval)", key);
            return CMEK_ERR_PARSE;
        }
        *bad_field = s_wait_fields[i];
        if (strcmp(key, "backoff") == 0) {
            if (!json_is_number(value) || json_number_value(value) < 1.0 ||
                json_number_value(value) > 10.0) {
                snprintf(why, why_len, "\"wait.backoff\" must be a number from 1 to 10");
                return CMEK_ERR_PARSE;
            }
            out->backoff = json_number_value(value);
            continue;
        }
        int64_t ms;
        if (!json_is_string(value) || crun_duration_parse_ms(json_string_value(value), &ms) != 0) {
            snprintf(why, why_len,
                     "\"wait.%s\" must be a duration such as \"500ms\", \"2s\", \"5m\" or \"1h\"",
                     key);
            return CMEK_ERR_PARSE;
        }
        if (i == 0) {
            out->timeout_ms = ms;
        } else if (i == 1) {
            out->interval_ms = ms;
        } else {
            out->max_interval_ms = ms;
            max_given = true;
        }
    }
    if (!max_given && out->max_interval_ms < out->interval_ms) {
        out->max_interval_ms = out->interval_ms;
    }
    if (out->max_interval_ms < out->interval_ms) {
        *bad_field = "max_interval";
        snprintf(why, why_len, "\"wait.max_interval\" is shorter than \"wait.interval\"");
        return CMEK_ERR_PARSE;
    }
    *bad_field = NULL;
    return CMEK_OK;
}

int64_t crun_wait_next_interval(const struct crun_wait *w, int64_t interval_ms)
{
    double next = (double)interval_ms * w->backoff;
    if (next > (double)w->max_interval_ms) {
        return w->max_interval_ms;
    }
    return (int64_t)next;
}
