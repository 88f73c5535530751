/* emuproc.c: spawn, handshake, health, stop. */
#include "emuproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void crun_emulator_init(struct crun_emulator *emu)
{
    emu->pid = 0;
    emu->stdout_fd = -1;
    emu->url[0] = '\0';
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void s_child(const struct crun_emulator_options *opt, int out_fd, pid_t parent)
{
    (void)setpgid(0, 0);
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) {
        _exit(127); /* the parent is already gone */
    }
    int log_fd = open(opt->log_path != NULL ? opt->log_path : "/dev/null",
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (dup2(out_fd, STDOUT_FILENO) < 0 || log_fd < 0 || dup2(log_fd, STDERR_FILENO) < 0) {
        _exit(127);
    }
    char *const argv[] = {(char *)opt->binary,   (char *)"--listen", (char *)"127.0.0.1:0",
                          (char *)"--log-level", (char *)"warn",     NULL};
    execv(opt->binary, argv);
    _exit(127);
}

/* Reads the first line of stdout before the deadline. */
static int s_read_url(struct crun_emulator *emu, int64_t deadline, char *why, size_t why_len)
{
    size_t len = 0;
    for (;;) {
        int64_t left = deadline - s_now_ms();
        if (left <= 0) {
            snprintf(why, why_len, "printed no URL within %d ms", CRUN_EMULATOR_START_MS);
            return CMEK_ERR_IO;
        }
        struct pollfd pfd = {emu->stdout_fd, POLLIN, 0};
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            continue;
        }
        ssize_t got = read(emu->stdout_fd, emu->url + len, CRUN_EMULATOR_URL_MAX - len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            snprintf(why, why_len, "exited before printing its URL");
            return CMEK_ERR_IO;
        }
        len += (size_t)got;
        emu->url[len] = '\0';
        char *nl = strchr(emu->url, '\n');
        if (nl != NULL) {
            *nl = '\0';
            if (strncmp(emu->url, "http://", 7) != 0) {
                snprintf(why, why_len, "printed \"%.64s\" where its URL belongs", emu->url);
                return CMEK_ERR_IO;
            }
            return CMEK_OK;
        }
        if (len == CRUN_EMULATOR_URL_MAX) {
            snprintf(why, why_len, "printed a first line longer than %d bytes",
                     CRUN_EMULATOR_URL_MAX);
            return CMEK_ERR_IO;
        }
    }
}

int crun_emulator_start(struct crun_emulator *emu, const struct crun_emulator_options *opt,
                        char *why, size_t why_len)
{
    int64_t deadline = s_now_ms() + CRUN_EMULATOR_START_MS;
    int fds[2];
    if (access(opt->binary, X_OK) != 0) {
        snprintf(why, why_len, "cannot run %s: %s", opt->binary, strerror(errno));
        return CMEK_ERR_IO;
    }
    if (pipe(fds) != 0 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fds[1], F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(why, why_len, "pipe: %s", strerror(errno));
        return CMEK_ERR_IO;
    }
    fflush(NULL); /* nothing buffered is written twice */
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return CMEK_ERR_IO;
    }
    if (pid == 0) {
        s_child(opt, fds[1], parent);
    }
    close(fds[1]);
    emu->pid = pid;
    emu->stdout_fd = fds[0];
    char step_why[CRUN_EMULATOR_URL_MAX + 256];
    int rc = s_read_url(emu, deadline, step_why, sizeof(step_why));
    while (rc == CMEK_OK && !opt->healthy(opt->ctx, emu->url)) {
        if (s_now_ms() >= deadline) {
            snprintf(step_why, sizeof(step_why),
                     "was not healthy at %s/_emulator/health within %d ms", emu->url,
                     CRUN_EMULATOR_START_MS);
            rc = CMEK_ERR_IO;
            break;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc) {
        int status = 0;
        crun_emulator_stop(emu, &status);
        snprintf(why, why_len, "the emulator %s %s (exit status %d; its log: %s)", opt->binary,
                 step_why, status,
                 opt->log_path != NULL ? opt->log_path : "/dev/null, keep it with --emulator-log");
    }
    return rc;
}

void crun_emulator_stop(struct crun_emulator *emu, int *exit_status)
{
    *exit_status = 0;
    if (emu->pid > 0) {
        (void)kill(emu->pid, SIGTERM);
        int64_t deadline = s_now_ms() + CRUN_EMULATOR_STOP_MS;
        int status = 0;
        for (;;) {
            pid_t got = waitpid(emu->pid, &status, WNOHANG);
            if (got == emu->pid || (got < 0 && errno != EINTR)) {
                break;
            }
            if (s_now_ms() >= deadline) {
                (void)kill(emu->pid, SIGKILL);
                (void)waitpid(emu->pid, &status, 0);
                break;
            }
            struct timespec ts = {0, 10 * 1000000L};
            nanosleep(&ts, NULL);
        }
        *exit_status = WIFEXITED(status)     ? WEXITSTATUS(status)
                       : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                             : 0;
        emu->pid = 0;
    }
    if (emu->stdout_fd >= 0) {
        close(emu->stdout_fd);
        emu->stdout_fd = -1;
    }
}
