/* scenario.h: loading a scenario file and checking all of it before any step runs
 * (docs/scenarios.md). Every error reads "FILE:LINE:COLUMN: step NAME: what". */
#ifndef CRUN_SCENARIO_H
#define CRUN_SCENARIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmek/buf.h"
#include "cmek/client.h"
#include "cmek/error.h"
#include "cmek/vec.h"
#include "jsonpos.h"
#include "wait.h"

#define CRUN_SCENARIO_MAX_BYTES  (4 * 1024 * 1024) /* a scenario or included file */
#define CRUN_INCLUDE_MAX_DEPTH   16
#define CRUN_ERRORS_PER_FILE_MAX 50 /* then "...: too many errors" */

/* One file read for a scenario: the scenario itself or an included file. */
struct crun_source {
    char *path; /* owned: as named (an include: joined to its includer's dir) */
    char *text; /* owned */
    size_t len;
    json_t *root;             /* owned */
    struct crun_jsonpos *pos; /* owned */
};

struct crun_step {
    char *name;                      /* owned */
    const struct crun_source *src;   /* borrowed from the scenario's sources */
    char *base;                      /* owned: the step's jsonpos path in src ("steps[2]") */
    const struct cmek_operation *op; /* borrowed: libcmek's table */
    const char *op_name;             /* borrowed from src->root: "kms.encrypt" */
    const json_t *args;              /* borrowed from src->root; NULL: {} */
    const json_t *expect;            /* borrowed; NULL: the call must succeed */
    const json_t *save;              /* borrowed; NULL: nothing */
    const char *as;                  /* borrowed; NULL: "customer" */
    const char *session;             /* borrowed; NULL: none */
    const json_t *vault;             /* borrowed; NULL: the target's Vault token and namespace */
    bool has_wait;
    struct crun_wait wait;
    bool emulator_only;         /* said so, an emulator.* op, or acting as cockroach_cloud */
    char *emulator_only_reason; /* owned; the text shown when skipped */
    bool cleanup;               /* from "cleanup" */
    struct cmek_vec refs;       /* owned char *: the ${names} (not env) it uses, once each */
};

struct crun_scenario {
    char *path;              /* owned: the file named on the command line */
    const char *name;        /* borrowed from the first source */
    const char *description; /* borrowed; NULL when none */
    json_t *vars;            /* owned: the vars templates, includer's first, in file order */
    struct cmek_vec sources; /* owned struct crun_source * */
    struct cmek_vec steps;   /* owned struct crun_step *: "steps", includes spliced in */
    struct cmek_vec cleanup; /* owned struct crun_step * */
};

struct crun_load_options {
    const char *fixtures_dir; /* for $file */
    const json_t *cli_vars;   /* --var values: an object of strings; NULL: none */
    /* The environment; NULL: getenv(3). */
    const char *(*getenv_fn)(void *ctx, const char *name);
    void *env_ctx;
};

/* The names every scenario has: run_id, target, region. */
bool crun_builtin_var(const char *name);

/* Loads and checks path. Errors are appended to errors, one line each; *error_count says
 * how many. CMEK_OK with *out (owned; crun_scenario_destroy) only when there were none;
 * CMEK_ERR_PARSE when the file had errors; other codes for memory. */
CMEK_WUR int crun_scenario_load(const char *path, const struct crun_load_options *opt,
                                struct crun_scenario **out, struct cmek_buf *errors,
                                size_t *error_count);
void crun_scenario_destroy(struct crun_scenario *sc); /* NULL-safe */

/* The line and column of a step (its "name" when present), for reports. */
struct crun_pos crun_step_pos(const struct crun_step *step);

#endif
