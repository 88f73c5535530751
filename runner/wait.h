/* wait.h: a step's "wait" object (docs/scenarios.md, "Waiting") and the durations in it. */
#ifndef CRUN_WAIT_H
#define CRUN_WAIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cmek/error.h"

#define CRUN_DURATION_MAX_MS (24LL * 3600 * 1000) /* longer waits are mistakes */

struct crun_wait {
    int64_t timeout_ms;      /* default 60 s */
    int64_t interval_ms;     /* the first sleep; default 500 ms */
    double backoff;          /* each sleep is the last times this, >= 1; default 2 */
    int64_t max_interval_ms; /* the longest sleep; default 5 s */
};

/* "500ms", "2s", "5m", "1h": digits and a unit, at most CRUN_DURATION_MAX_MS, at least 1 ms.
 * CMEK_ERR_PARSE otherwise. */
CMEK_WUR int crun_duration_parse_ms(const char *text, int64_t *ms);

/* Reads a wait object over the defaults. On CMEK_ERR_PARSE *bad_field names the offending
 * member (static text) and why says what. */
CMEK_WUR int crun_wait_parse(const json_t *obj, struct crun_wait *out, const char **bad_field,
                             char *why, size_t why_len);

/* The sleep after one of interval_ms: times backoff, capped at max_interval_ms. */
int64_t crun_wait_next_interval(const struct crun_wait *w, int64_t interval_ms);

#endif
