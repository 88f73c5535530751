/* cmek-emulator: AWS IAM, STS and KMS, the CockroachDB Cloud API and Vault's keymgmt engine,
 * faked statefully in one process. See README.md and ../shared/CONTRACT.md. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "server.h"
#include "store.h"

extern const char emu_default_world[];
extern const unsigned long emu_default_world_len;

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: cmek-emulator [options]\n"
            "\n"
            "Emulates AWS IAM, STS and KMS, the CockroachDB Cloud API and Vault keymgmt on one\n"
            "port. Prints its base URL as the first line of stdout once it serves.\n"
            "\n"
            "  --listen ADDR:PORT     address to serve on (default 127.0.0.1:4566; port 0 picks\n"
            "                         a free port; [::1]:PORT for IPv6)\n"
            "  --world FILE           load this world instead of the built-in default\n"
            "  --print-world          print the world as JSON and exit\n"
            "  --log-level LEVEL      error, warn, info (default) or debug; logs go to stderr\n"
            "  --max-body-bytes N     refuse larger request bodies with 413 (default %u)\n"
            "  --threads N            request threads (default 1: requests are serialized)\n"
            "  --ccloud-response-log FILE  append every Cloud API answer to FILE as a JSON line\n"
            "                         (default: $CMEK_CCLOUD_RESPONSE_LOG), for OpenAPI checks\n"
            "  --help                 this text\n"
            "  --version              the version\n",
            EMU_DEFAULT_MAX_BODY_BYTES);
}

static int s_parse_level(const char *s, enum emu_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum emu_log_level)i;
            return 0;
        }
    }
    return -1;
}

static int s_parse_size(const char *s, unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

static json_t *s_load_world(const char *path)
{
    json_error_t jerr;
    json_t *world;
    if (path != NULL) {
        world = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    } else {
        world = json_loadb(emu_default_world, emu_default_world_len, JSON_REJECT_DUPLICATES, &jerr);
    }
    if (world == NULL) {
        fprintf(stderr, "cmek-emulator: cannot load the world %s: %s (line %d, column %d)\n",
                path ? path : "(built in)", jerr.text, jerr.line, jerr.column);
    }
    return world;
}

int main(int argc, char **argv)
{
    /* A request allocates and frees a few kilobytes; with glibc's defaults a small heap is
     * trimmed back to the system and grown again all the time (a small world is the common
     * case). Keeping up to 64 MiB of freed memory raised Encrypt throughput by about a
     * quarter at 10 keys in bench_kms. */
    mallopt(M_TOP_PAD, 16 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    struct emu_app app;
    memset(&app, 0, sizeof(app));
    emu_config_init_default(&app.cfg);
    app.sys = *emu_system_default();
    const char *listen = "127.0.0.1:4566";
    const char *response_log = getenv("CMEK_CCLOUD_RESPONSE_LOG");
    if (response_log != NULL && response_log[0] != '\0') {
        app.cfg.ccloud_response_log = response_log;
    }
    const char *world_path = NULL;
    bool print_world = false;

    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"world", required_argument, NULL, 'w'},
        {"print-world", no_argument, NULL, 'p'},
        {"log-level", required_argument, NULL, 'L'},
        {"max-body-bytes", required_argument, NULL, 'b'},
        {"threads", required_argument, NULL, 't'},
        {"ccloud-response-log", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    unsigned long long n;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'w':
            world_path = optarg;
            break;
        case 'p':
            print_world = true;
            break;
        case 'L':
            if (s_parse_level(optarg, &app.cfg.log_level) != 0) {
                fprintf(stderr, "cmek-emulator: --log-level wants error, warn, info or debug\n");
                return 2;
            }
            break;
        case 'b':
            if (s_parse_size(optarg, 1024, 64ULL * 1024 * 1024, &n) != 0) {
                fprintf(stderr, "cmek-emulator: --max-body-bytes wants 1024..67108864\n");
                return 2;
            }
            app.cfg.max_body_bytes = (size_t)n;
            break;
        case 't':
            if (s_parse_size(optarg, 1, 64, &n) != 0) {
                fprintf(stderr, "cmek-emulator: --threads wants 1..64\n");
                return 2;
            }
            app.cfg.threads = (unsigned)n;
            break;
        case 'R':
            app.cfg.ccloud_response_log = optarg;
            break;
        case 'h':
            s_usage(stdout);
            return 0;
        case 'V':
            printf("cmek-emulator %s\n", EMU_VERSION);
            return 0;
        default:
            s_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cmek-emulator: unexpected argument '%s'\n", argv[optind]);
        s_usage(stderr);
        return 2;
    }

    json_t *world = s_load_world(world_path);
    if (world == NULL) {
        return 1;
    }
    struct emu_load_error lerr;
    int rc = emu_store_new(&app, world, &app.store, &lerr);
    json_decref(world);
    if (rc) {
        fprintf(stderr, "cmek-emulator: invalid world: %s\n", lerr.message);
        return 1;
    }
    if (print_world) {
        rc = json_dumpf(emu_store_world(app.store), stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        emu_store_destroy(app.store);
        return rc == 0 ? 0 : 1;
    }

    /* Block the stop signals before the server's threads start, so they inherit the mask
     * and only sigwait() below sees SIGINT and SIGTERM. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct emu_server *server = NULL;
    const char *why = NULL;
    rc = emu_server_start(&app, listen, &server, &why);
    if (rc) {
        fprintf(stderr, "cmek-emulator: %s: %s\n", listen, why);
        emu_store_destroy(app.store);
        return 1;
    }
    printf("%s\n", emu_server_base_url(server));
    fflush(stdout);
    emu_log(&app, EMU_LOG_INFO, "serving iam, sts, kms, ccloud, vault and /_emulator on %s",
            emu_server_base_url(server));

    int sig = 0;
    sigwait(&stop, &sig);
    emu_log(&app, EMU_LOG_INFO, "%s received; stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    emu_server_stop(server);
    emu_store_destroy(app.store);
    return 0;
}
