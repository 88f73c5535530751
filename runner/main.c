/* cmek-run: runs scenario files (docs/scenarios.md) through libcmek against the emulator or
 * the live services. Exit status: 0 no step failed, 1 a step failed, 2 usage or scenario-file
 * errors (nothing ran), 130 interrupted. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmek/client.h"
#include "cmek/crypto.h"
#include "cmek/target.h"
#include "emuproc.h"
#include "exec.h"
#include "report.h"
#include "scenario.h"
#include "vars.h"
#include "wait.h"

#define CRUN_EXIT_OK          0
#define CRUN_EXIT_FAILED      1
#define CRUN_EXIT_USAGE       2
#define CRUN_EXIT_INTERRUPTED 130
#define CRUN_ERRORS_MAX_BYTES (1024 * 1024)

/* The one mutable file-scope variable: a signal handler may touch nothing else. Read through
 * s_interrupted, the seam exec.c polls. */
static volatile sig_atomic_t s_interrupt_signal;

static void s_on_signal(int sig)
{
    s_interrupt_signal = sig;
}

static bool s_interrupted(void *ctx)
{
    (void)ctx;
    return s_interrupt_signal != 0;
}

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: cmek-run [options] SCENARIO...\n"
            "\n"
            "Runs scenario files (docs/scenarios.md) step by step through libcmek.\n"
            "\n"
            "  --target emulator|live|FILE  where to run (default: emulator); FILE is a target\n"
            "                         file (docs/targets.md)\n"
            "  --emulator             start a private cmek-emulator on a free port for the run\n"
            "                         and stop it after (needs an emulator target)\n"
            "  --emulator-bin PATH    the emulator to start (default: $CMEK_EMULATOR, else the\n"
            "                         one built with cmek-run)\n"
            "  --emulator-log FILE    where the private emulator's log goes (default /dev/null)\n"
            "  --no-reset             do not reset the emulator before each scenario\n"
            "  --max-wait DURATION    cap every step's wait timeout (e.g. 10s: a CI run against\n"
            "                         the emulator, which needs no waiting for consistency)\n"
            "  --var NAME=VALUE       set a variable (overrides the scenario's vars); repeatable\n"
            "  --only NAME            run only the scenario of that name; repeatable\n"
            "  --fixtures DIR         where $file and target names are looked up (default:\n"
            "                         $CMEK_FIXTURES_DIR, else the source tree's fixtures/)\n"
            "  --junit FILE           also write JUnit XML to FILE\n"
            "  --tap                  write TAP version 13 to stdout instead of step lines\n"
            "  --color auto|always|never  colour the status words (auto: on a terminal)\n"
            "  --check                check the scenario files and exit; run nothing\n"
            "  --help                 this text\n"
            "  --version              the version\n"
            "\n"
            "Exit status: 0 no step failed, 1 a step failed, 2 usage or scenario-file errors,\n"
            "130 interrupted.\n");
}

struct s_cli {
    const char *target;
    bool emulator;
    const char *emulator_bin;
    const char *emulator_log;
    bool reset;
    int64_t max_wait_ms; /* 0: no cap */
    json_t *vars;        /* owned */
    const char **only;
    size_t only_len;
    const char *fixtures_dir;
    const char *junit;
    bool tap;
    int color; /* -1 auto, 0 never, 1 always */
    bool check;
};

static bool s_valid_name(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

/* Returns -1 to go on, or the exit status. */
static int s_parse(int argc, char **argv, struct s_cli *cli)
{
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'},
        {"emulator", no_argument, NULL, 'e'},
        {"emulator-bin", required_argument, NULL, 'b'},
        {"emulator-log", required_argument, NULL, 'l'},
        {"no-reset", no_argument, NULL, 'R'},
        {"max-wait", required_argument, NULL, 'W'},
        {"var", required_argument, NULL, 'v'},
        {"only", required_argument, NULL, 'o'},
        {"fixtures", required_argument, NULL, 'f'},
        {"junit", required_argument, NULL, 'j'},
        {"tap", no_argument, NULL, 'T'},
        {"color", required_argument, NULL, 'c'},
        {"check", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            cli->target = optarg;
            break;
        case 'e':
            cli->emulator = true;
            break;
        case 'b':
            cli->emulator_bin = optarg;
            break;
        case 'l':
            cli->emulator_log = optarg;
            break;
        case 'R':
            cli->reset = false;
            break;
        case 'W':
            if (crun_duration_parse_ms(optarg, &cli->max_wait_ms) != CMEK_OK) {
                fprintf(stderr,
                        "cmek-run: --max-wait wants a duration such as 500ms, 10s, 5m: '%s'\n",
                        optarg);
                return CRUN_EXIT_USAGE;
            }
            break;
        case 'v': {
            const char *eq = strchr(optarg, '=');
            if (eq == NULL || !s_valid_name(optarg, (size_t)(eq - optarg)) ||
                (eq - optarg == 6 && strncmp(optarg, "run_id", 6) == 0) ||
                (eq - optarg == 6 && strncmp(optarg, "target", 6) == 0) ||
                (eq - optarg == 6 && strncmp(optarg, "region", 6) == 0)) {
                fprintf(stderr,
                        "cmek-run: --var wants NAME=VALUE with NAME a letter or '_', then "
                        "letters, digits, '_', '-', and not a built-in: '%s'\n",
                        optarg);
                return CRUN_EXIT_USAGE;
            }
            char name[CRUN_VAR_NAME_MAX + 1];
            size_t n = (size_t)(eq - optarg);
            if (n > CRUN_VAR_NAME_MAX) {
                fprintf(stderr, "cmek-run: --var name longer than %d characters\n",
                        CRUN_VAR_NAME_MAX);
                return CRUN_EXIT_USAGE;
            }
            memcpy(name, optarg, n);
            name[n] = '\0';
            json_t *value = json_string(eq + 1);
            if (value == NULL) {
                fprintf(stderr, "cmek-run: --var %s: the value is not UTF-8\n", name);
                return CRUN_EXIT_USAGE;
            }
            if (json_object_set_new(cli->vars, name, value) != 0) {
                fprintf(stderr, "cmek-run: out of memory\n");
                return CRUN_EXIT_USAGE;
            }
            break;
        }
        case 'o': {
            const char **grown = realloc(cli->only, (cli->only_len + 1) * sizeof(*grown));
            if (grown == NULL) {
                fprintf(stderr, "cmek-run: out of memory\n");
                return CRUN_EXIT_USAGE;
            }
            cli->only = grown;
            cli->only[cli->only_len++] = optarg;
            break;
        }
        case 'f':
            cli->fixtures_dir = optarg;
            break;
        case 'j':
            cli->junit = optarg;
            break;
        case 'T':
            cli->tap = true;
            break;
        case 'c':
            if (strcmp(optarg, "auto") == 0) {
                cli->color = -1;
            } else if (strcmp(optarg, "always") == 0) {
                cli->color = 1;
            } else if (strcmp(optarg, "never") == 0) {
                cli->color = 0;
            } else {
                fprintf(stderr, "cmek-run: --color wants auto, always or never\n");
                return CRUN_EXIT_USAGE;
            }
            break;
        case 'C':
            cli->check = true;
            break;
        case 'h':
            s_usage(stdout);
            return CRUN_EXIT_OK;
        case 'V':
            printf("cmek-run %s\n", CMEK_VERSION);
            return CRUN_EXIT_OK;
        default:
            s_usage(stderr);
            return CRUN_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "cmek-run: no scenario files given\n");
        s_usage(stderr);
        return CRUN_EXIT_USAGE;
    }
    return -1;
}

static bool s_selected(const struct s_cli *cli, const char *name)
{
    if (cli->only_len == 0) {
        return true;
    }
    for (size_t i = 0; i < cli->only_len; i++) {
        if (strcmp(cli->only[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* GET /_emulator/health through libcmek, with the run's target pointed at url. */
static bool s_healthy(void *ctx, const char *url)
{
    struct cmek_target *target = ctx;
    struct cmek_client *client = NULL;
    json_t *out = NULL;
    struct cmek_api_error err;
    memset(&err, 0, sizeof(err));
    bool ok = false;
    if (cmek_target_set_emulator_url(target, url) != CMEK_OK) {
        goto done;
    }
    struct cmek_client_options copt = {.target = target};
    if (cmek_client_new(&copt, &client, &err) != CMEK_OK) {
        goto done;
    }
    ok = cmek_client_call_named(client, "emulator.health", NULL, &out, &err) == CMEK_OK;
done:
    json_decref(out);
    cmek_client_destroy(client);
    return ok;
}

struct s_report_ctx {
    struct crun_report *report;
    int rc;
};

static void s_on_step(void *ctx, const struct crun_scenario *sc, const struct crun_step *step,
                      const struct crun_step_result *result)
{
    struct s_report_ctx *r = ctx;
    int rc = crun_report_step(r->report, sc, step, result);
    if (rc && r->rc == CMEK_OK) {
        r->rc = rc;
    }
}

static const char *s_default_emulator(void)
{
    const char *env = getenv("CMEK_EMULATOR");
    return env != NULL && env[0] != '\0' ? env : CMEK_BUILD_EMULATOR;
}

static const char *s_default_fixtures(void)
{
    const char *env = getenv("CMEK_FIXTURES_DIR");
    return env != NULL && env[0] != '\0' ? env : CMEK_SOURCE_FIXTURES_DIR;
}

int main(int argc, char **argv)
{
    struct s_cli cli = {.target = NULL, .reset = true, .color = -1};
    struct cmek_vec scenarios;
    cmek_vec_init(&scenarios);
    struct cmek_buf errors;
    cmek_buf_init(&errors, CRUN_ERRORS_MAX_BYTES);
    struct cmek_target target;
    cmek_target_init(&target);
    struct crun_emulator emu;
    crun_emulator_init(&emu);
    struct crun_report *report = NULL;
    int status = CRUN_EXIT_USAGE;
    char why[1024];

    cli.vars = json_object();
    if (cli.vars == NULL) {
        goto done;
    }
    int parsed = s_parse(argc, argv, &cli);
    if (parsed >= 0) {
        status = parsed;
        goto done;
    }
    if (cli.fixtures_dir == NULL) {
        cli.fixtures_dir = s_default_fixtures();
    }
    if (cli.emulator_bin == NULL) {
        cli.emulator_bin = s_default_emulator();
    }
    if (cli.target == NULL) {
        cli.target = "emulator";
    }

    /* every file, checked, before anything runs */
    struct crun_load_options lopt = {.fixtures_dir = cli.fixtures_dir, .cli_vars = cli.vars};
    size_t total_errors = 0;
    for (int i = optind; i < argc; i++) {
        struct crun_scenario *sc = NULL;
        size_t n = 0;
        int rc = crun_scenario_load(argv[i], &lopt, &sc, &errors, &n);
        total_errors += n;
        if (rc == CMEK_OK) {
            rc = cmek_vec_push(&scenarios, sc);
            if (rc) {
                crun_scenario_destroy(sc);
            }
        }
        if (rc && rc != CMEK_ERR_PARSE) {
            fprintf(stderr, "cmek-run: %s: %s\n", argv[i], cmek_error_str(rc));
            goto done;
        }
    }
    if (total_errors > 0) {
        fputs(cmek_buf_cstr(&errors), stderr);
        fprintf(stderr, "cmek-run: %zu error%s in the scenario files; nothing was run\n",
                total_errors, total_errors == 1 ? "" : "s");
        goto done;
    }
    for (size_t i = 0; i < cli.only_len; i++) {
        bool found = false;
        for (size_t j = 0; j < scenarios.len && !found; j++) {
            found = strcmp(((struct crun_scenario *)scenarios.items[j])->name, cli.only[i]) == 0;
        }
        if (!found) {
            fprintf(stderr, "cmek-run: --only %s: no scenario given has that name\n", cli.only[i]);
            goto done;
        }
    }
    if (cli.check) {
        size_t steps = 0;
        for (size_t i = 0; i < scenarios.len; i++) {
            const struct crun_scenario *sc = scenarios.items[i];
            steps += sc->steps.len + sc->cleanup.len;
        }
        printf("OK: %zu scenario%s, %zu steps checked\n", scenarios.len,
               scenarios.len == 1 ? "" : "s", steps);
        status = CRUN_EXIT_OK;
        goto done;
    }

    /* the target, and the private emulator */
    if (cmek_target_load(&target, cli.target, cli.fixtures_dir, NULL, NULL, why, sizeof(why)) !=
        CMEK_OK) {
        fprintf(stderr, "cmek-run: --target %s: %s\n", cli.target, why);
        goto done;
    }
    if (cli.emulator && !target.emulator) {
        fprintf(stderr, "cmek-run: --emulator needs an emulator target; %s is not one\n",
                cli.target);
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = s_on_signal;
    sa.sa_flags = (int)SA_RESETHAND; /* a second Ctrl-C ends cmek-run at once */
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    if (cli.emulator) {
        struct crun_emulator_options eopt = {cli.emulator_bin, cli.emulator_log, s_healthy,
                                             &target};
        if (crun_emulator_start(&emu, &eopt, why, sizeof(why)) != CMEK_OK) {
            fprintf(stderr, "cmek-run: --emulator: %s\n", why);
            goto done;
        }
        if (cmek_target_set_emulator_url(&target, emu.url) != CMEK_OK) {
            fprintf(stderr, "cmek-run: --emulator: cannot use the URL %s\n", emu.url);
            goto done;
        }
        if (!cli.tap) {
            printf("cmek-run: a private emulator at %s (pid %ld; its log: %s)\n", emu.url,
                   (long)emu.pid, cli.emulator_log != NULL ? cli.emulator_log : "/dev/null");
        }
    }

    /* the run */
    uint8_t rnd[4];
    char run_id[9];
    if (cmek_random_bytes(rnd, sizeof(rnd)) != CMEK_OK) {
        fprintf(stderr, "cmek-run: no random bytes for ${run_id}\n");
        goto done;
    }
    snprintf(run_id, sizeof(run_id), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    bool color =
        cli.color == 1 || (cli.color == -1 && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL);
    struct crun_report_options ropt = {stdout, color && !cli.tap, cli.tap, cli.junit,
                                       target.name != NULL ? target.name : cli.target};
    if (crun_report_new(&ropt, &report) != CMEK_OK) {
        goto done;
    }
    struct s_report_ctx rctx = {report, CMEK_OK};
    struct crun_exec_options xopt = {
        .target = &target,
        .cli_vars = cli.vars,
        .run_id = run_id,
        .fixtures_dir = cli.fixtures_dir,
        .reset = cli.reset,
        .max_wait_ms = cli.max_wait_ms,
        .interrupted = s_interrupted,
        .on_step = s_on_step,
        .report_ctx = &rctx,
    };
    bool any_failed = false;
    for (size_t i = 0; i < scenarios.len; i++) {
        const struct crun_scenario *sc = scenarios.items[i];
        if (!s_selected(&cli, sc->name)) {
            continue;
        }
        bool failed = false;
        int rc = crun_report_scenario_begin(report, sc);
        if (rc == CMEK_OK) {
            rc = crun_exec_scenario(sc, &xopt, &failed);
        }
        if (rc == CMEK_OK) {
            rc = rctx.rc;
        }
        if (rc) {
            fprintf(stderr, "cmek-run: %s: %s\n", sc->path, cmek_error_str(rc));
            status = CRUN_EXIT_FAILED;
            goto done;
        }
        any_failed = any_failed || failed;
    }
    status = any_failed ? CRUN_EXIT_FAILED : CRUN_EXIT_OK;
    if (crun_report_finish(report, why, sizeof(why)) != CMEK_OK) {
        fprintf(stderr, "cmek-run: --junit: %s\n", why);
        status = CRUN_EXIT_FAILED;
    }
    if (s_interrupted(NULL)) {
        fprintf(stderr, "cmek-run: interrupted by signal %d\n", (int)s_interrupt_signal);
        status = CRUN_EXIT_INTERRUPTED;
    }
done:
    if (emu.pid > 0) {
        int emu_status = 0;
        crun_emulator_stop(&emu, &emu_status);
        if (emu_status != 0) {
            fprintf(stderr, "cmek-run: the private emulator exited with status %d\n", emu_status);
            if (status == CRUN_EXIT_OK) {
                status = CRUN_EXIT_FAILED;
            }
        }
    }
    crun_report_destroy(report);
    for (size_t i = 0; i < scenarios.len; i++) {
        crun_scenario_destroy(scenarios.items[i]);
    }
    cmek_vec_clean_up(&scenarios);
    cmek_buf_clean_up(&errors);
    cmek_target_clean_up(&target);
    json_decref(cli.vars);
    free(cli.only);
    return status;
}
