/* report.h: what a run shows and writes: a console line per step as it finishes, a summary,
 * TAP version 13, and JUnit XML (docs/scenarios.md, "Output"). */
#ifndef CRUN_REPORT_H
#define CRUN_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "cmek/buf.h"
#include "cmek/error.h"
#include "exec.h"
#include "scenario.h"

struct crun_report_options {
    FILE *out;              /* borrowed: console lines or TAP, and the summary */
    bool color;             /* ANSI colours on the status words */
    bool tap;               /* TAP 13 on out instead of console lines */
    const char *junit_path; /* borrowed; NULL: no JUnit file */
    const char *target;     /* borrowed: the target's name, shown and written */
};

struct crun_report;

/* *out is owned by the caller (crun_report_destroy). The options' strings must outlive it. */
CMEK_WUR int crun_report_new(const struct crun_report_options *opt, struct crun_report **out);
void crun_report_destroy(struct crun_report *r); /* NULL-safe */

/* Opens the scenario's suite (a scenario run twice has two). */
CMEK_WUR int crun_report_scenario_begin(struct crun_report *r, const struct crun_scenario *sc);
/* Shows one step's result and keeps it for the summary and the JUnit file (copies). */
CMEK_WUR int crun_report_step(struct crun_report *r, const struct crun_scenario *sc,
                              const struct crun_step *step, const struct crun_step_result *res);
/* The summary (console) or plan (TAP), and the JUnit file. CMEK_ERR_IO with why when the
 * JUnit file cannot be written. */
CMEK_WUR int crun_report_finish(struct crun_report *r, char *why, size_t why_len);

/* Counts so far. */
unsigned crun_report_count(const struct crun_report *r, enum crun_status status);

#endif
