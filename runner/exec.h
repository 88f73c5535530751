/* exec.h: running a checked scenario against a target: identities, values, expectations,
 * waiting, skipping, cleanup (docs/scenarios.md). */
#ifndef CRUN_EXEC_H
#define CRUN_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmek/client.h"
#include "cmek/error.h"
#include "cmek/target.h"
#include "scenario.h"

enum crun_status {
    CRUN_PASS = 0,
    CRUN_FAIL,
    CRUN_SKIP,
};

struct crun_step_result {
    enum crun_status status;
    int64_t duration_ms;
    unsigned calls;     /* calls made: more than one when the step waited */
    const char *reason; /* borrowed for the callback; "" when passed */
};

/* The step that stands for the emulator reset before a scenario, when it fails. */
#define CRUN_RESET_STEP_NAME "emulator-reset"

struct crun_exec_options {
    const struct cmek_target *target; /* required, borrowed */
    const json_t *cli_vars;           /* --var values (object of strings), borrowed; NULL: none */
    const char *run_id;               /* ${run_id} */
    const char *fixtures_dir;         /* for $file */
    bool reset;                       /* emulator.reset before the scenario (emulator targets) */
    int64_t max_wait_ms;              /* caps every step's wait timeout; 0: no cap */
    const char *(*getenv_fn)(void *ctx, const char *name); /* NULL: getenv(3) */
    void *env_ctx;
    struct cmek_transport *transport; /* lent to every client; NULL: libcurl */
    /* Polled between steps and while waiting; NULL: never. */
    bool (*interrupted)(void *ctx);
    void *interrupt_ctx;
    /* Called once per step as it finishes (and for a failed reset); required. */
    void (*on_step)(void *ctx, const struct crun_scenario *sc, const struct crun_step *step,
                    const struct crun_step_result *result);
    void *report_ctx;
};

/* Runs sc: "steps", then "cleanup" always. *failed is set when a step (or the reset) failed.
 * Returns CMEK_OK unless memory ran out; step failures are results, not errors. */
CMEK_WUR int crun_exec_scenario(const struct crun_scenario *sc, const struct crun_exec_options *opt,
                                bool *failed);

#endif
