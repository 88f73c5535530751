/* emuproc.h: a private cmek-emulator for one run (`cmek-run --emulator`).
 *
 * Started as `BINARY --listen 127.0.0.1:0 --log-level warn`: it binds a free port and prints
 * its base URL as the first line of stdout (../shared/CONTRACT.md); its stderr (the log) goes
 * to log_path. The child is in its own process group, so a Ctrl-C at the terminal reaches
 * cmek-run only, which then stops it in order; and it gets SIGTERM should cmek-run die
 * without stopping it (PR_SET_PDEATHSIG). */
#ifndef CRUN_EMUPROC_H
#define CRUN_EMUPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cmek/error.h"

#define CRUN_EMULATOR_URL_MAX  256
#define CRUN_EMULATOR_START_MS 10000 /* from spawn to a healthy answer */
#define CRUN_EMULATOR_STOP_MS  5000  /* SIGTERM to exit, then SIGKILL */

struct crun_emulator {
    pid_t pid;                           /* 0 when not running */
    int stdout_fd;                       /* read end of its stdout; -1 when closed */
    char url[CRUN_EMULATOR_URL_MAX + 1]; /* "http://127.0.0.1:41873" */
};

struct crun_emulator_options {
    const char *binary;   /* borrowed, required */
    const char *log_path; /* borrowed; NULL: /dev/null */
    /* Answers whether the emulator at url is healthy (GET /_emulator/health). */
    bool (*healthy)(void *ctx, const char *url);
    void *ctx;
};

void crun_emulator_init(struct crun_emulator *emu);

/* Spawns the emulator, reads its URL and waits until healthy, all within
 * CRUN_EMULATOR_START_MS. On failure the process is stopped again and why says what
 * happened (CMEK_ERR_IO). */
CMEK_WUR int crun_emulator_start(struct crun_emulator *emu, const struct crun_emulator_options *opt,
                                 char *why, size_t why_len);

/* SIGTERM, then waits (SIGKILL after CRUN_EMULATOR_STOP_MS). *exit_status receives its exit
 * status, or 128 + the signal that ended it. Idempotent: a stopped emulator gives 0. */
void crun_emulator_stop(struct crun_emulator *emu, int *exit_status);

#endif
