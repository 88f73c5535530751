/* bench_kms: the KMS performance figures of cmek-emulator, against a bare libmicrohttpd
 * baseline measured in the same run.
 *
 *   bench_kms EMULATOR BARE_MHD [seconds-per-phase] [connections] [rounds]
 *
 * 1. Startup: the emulator is started 20 times; the time until its URL line is on stdout.
 * 2. The CockroachDB CMEK set-up: the customer's role trusting 999988887777 with the org id,
 *    a key with the crdb-cmek-kms statement, a session of the role.
 * 3. With 10 keys in the region, then 100,000: rounds (default 7) of phases (default 2 s,
 *    32 keep-alive connections): Encrypt and Decrypt as the session (SigV4 verified, key
 *    policy evaluated per request), each round between two phases of the baseline, bare_mhd
 *    (the same libmicrohttpd set-up answering a fixed 200). A round's ratios are taken
 *    against the mean of the baselines around it, seconds apart: on a shared machine whose
 *    speed drifts by tens of percent within a minute, a baseline measured once would mostly
 *    measure the drift. Before each round a fixed piece of user-space work is timed on the
 *    servers' core and on the load generator's: the host sometimes slows the first core by
 *    half for minutes, which the emulator feels far more than the baseline, and a slowed
 *    last core makes the baseline measure wrk instead of libmicrohttpd. The summary gives
 *    the median of all rounds and of the balanced ones (cores within 10% of each other).
 * Each client replays one request signed once (valid for KMS's 5-minute window). On a
 * machine with two or more cores the servers (both started at once; the one not under load
 * sleeps) run pinned to the first core and the load generator to the last, so they do not
 * fight over a core and every reply does not have to wake a client on another core's run
 * queue. Figures only: nothing here passes or fails on speed. */
#define _GNU_SOURCE 1 /* sched_setaffinity */
#include <curl/curl.h>
#include <jansson.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmek/buf.h"
#include "cmek/crypto.h"
#include "cmek/sigv4.h"

#include "bench_setup.h"

#define S_MAX_CLIENTS 128
#define S_MAX_ROUNDS  50

struct s_req {
    char url[256];
    struct curl_slist *headers;
    char *body;
};

static double s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static pid_t s_spawn(const char *path, bool is_emulator, char *url, size_t cap, double *ready_ms)
{
    int fds[2];
    if (pipe(fds) != 0) {
        return -1;
    }
    double t0 = s_now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(0, &set);
            sched_setaffinity(0, sizeof(set), &set);
        }
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (is_emulator) {
            execl(path, path, "--listen", "127.0.0.1:0", "--log-level", "error", (char *)NULL);
        } else {
            execl(path, path, (char *)NULL);
        }
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    char c;
    while (n + 1 < cap && read(fds[0], &c, 1) == 1 && c != '\n') {
        url[n++] = c;
    }
    url[n] = '\0';
    *ready_ms = s_now_ms() - t0;
    close(fds[0]);
    return n > 0 ? pid : -1;
}

static void s_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* Builds a signed POST to url for service; target NULL for Query services. */
static void s_prepare(struct s_req *r, const char *url, const char *service, const char *target,
                      const struct bench_creds *c, const char *body)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->url, sizeof(r->url), "%s/", url);
    const char *host = strstr(url, "://") + 3;
    const char *ct =
        target ? "application/x-amz-json-1.1" : "application/x-www-form-urlencoded; charset=utf-8";
    struct cmek_http_header hh[3] = {
        {cmek_view_from_cstr("Content-Type"), cmek_view_from_cstr(ct)},
        {cmek_view_from_cstr("Host"), cmek_view_from_cstr(host)},
        {cmek_view_from_cstr("X-Amz-Target"), cmek_view_from_cstr(target ? target : "")},
    };
    struct cmek_sigv4_request req = {cmek_view_from_cstr("POST"),
                                     cmek_view_from_cstr("/"),
                                     cmek_view_from_cstr(""),
                                     hh,
                                     target ? 3u : 2u,
                                     cmek_view_from_cstr(body)};
    struct cmek_sigv4_credentials cr = {c->akid, c->secret, c->token[0] ? c->token : NULL};
    struct cmek_sigv4_sign_options opt = {.credentials = &cr,
                                          .region = "us-east-1",
                                          .service = service,
                                          .when = time(NULL),
                                          .normalize_path = true};
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    struct cmek_http_header added[CMEK_SIGV4_MAX_ADDED_HEADERS];
    size_t n_added = 0;
    if (cmek_sigv4_sign_to_headers(&req, &opt, &out, added, &n_added) != 0) {
        fprintf(stderr, "signing failed\n");
        exit(1);
    }
    char line[2048];
    snprintf(line, sizeof(line), "Content-Type: %s", ct);
    r->headers = curl_slist_append(r->headers, line);
    if (target) {
        snprintf(line, sizeof(line), "X-Amz-Target: %s", target);
        r->headers = curl_slist_append(r->headers, line);
    }
    for (size_t i = 0; i < n_added; i++) {
        snprintf(line, sizeof(line), "%.*s: %.*s", (int)added[i].name.len, added[i].name.ptr,
                 (int)added[i].value.len, added[i].value.ptr);
        r->headers = curl_slist_append(r->headers, line);
    }
    r->body = strdup(body);
    cmek_sigv4_signed_clean_up(&out);
}

static void s_release(struct s_req *r)
{
    curl_slist_free_all(r->headers);
    free(r->body);
}

static size_t s_sink(char *p, size_t s, size_t n, void *ud)
{
    struct cmek_buf *b = ud;
    if (b != NULL && cmek_buf_append(b, p, s * n) != CMEK_OK) {
        return 0;
    }
    return s * n;
}

static long s_send(CURL *c, const struct s_req *r, struct cmek_buf *out)
{
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    return status;
}

/* One signed call for the set-up; exits on failure. */
static void s_call(const char *url, const char *service, const char *target,
                   const struct bench_creds *c, const char *body, struct cmek_buf *out)
{
    struct s_req r;
    s_prepare(&r, url, service, target, c, body);
    CURL *h = curl_easy_init();
    cmek_buf_reset(out);
    long status = s_send(h, &r, out);
    curl_easy_cleanup(h);
    s_release(&r);
    if (status != 200) {
        fprintf(stderr, "set-up call %s failed: %ld %s\n", target ? target : body, status,
                cmek_buf_cstr(out));
        exit(1);
    }
}

struct s_load {
    const struct s_req *req;
    double until_ms;
    double *lat;
    size_t cap;
    size_t n;
    size_t errors;
};

static void *s_client(void *arg)
{
    struct s_load *l = arg;
    CURL *c = curl_easy_init();
    while (s_now_ms() < l->until_ms) {
        double t0 = s_now_ms();
        long status = s_send(c, l->req, NULL);
        double dt = s_now_ms() - t0;
        if (status != 200) {
            l->errors++;
        } else if (l->n < l->cap) {
            l->lat[l->n++] = dt;
        }
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct s_result {
    double rps, p50, p99;
    size_t errors;
};

static struct s_result s_run_wrk(const struct s_req *req, int clients, double seconds);
static bool s_have_wrk(void);

static struct s_result s_run(const struct s_req *req, int clients, double seconds)
{
    if (s_have_wrk()) {
        return s_run_wrk(req, clients, seconds);
    }
    pthread_t th[S_MAX_CLIENTS];
    struct s_load loads[S_MAX_CLIENTS];
    size_t cap = 2000000;
    double start = s_now_ms();
    for (int i = 0; i < clients; i++) {
        loads[i] =
            (struct s_load){req, start + seconds * 1e3, malloc(cap * sizeof(double)), cap, 0, 0};
        pthread_create(&th[i], NULL, s_client, &loads[i]);
    }
    size_t total = 0, errors = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        total += loads[i].n;
        errors += loads[i].errors;
    }
    double elapsed = s_now_ms() - start;
    double *all = malloc((total ? total : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, loads[i].lat, loads[i].n * sizeof(double));
        k += loads[i].n;
        free(loads[i].lat);
    }
    qsort(all, total, sizeof(double), s_cmp);
    struct s_result r = {total / (elapsed / 1e3), total ? all[total / 2] : 0,
                         total ? all[total * 99 / 100] : 0, errors};
    free(all);
    return r;
}

/* With wrk installed, the load comes from wrk (event-driven, 2 threads): a generator of 32
 * blocking client threads competes with the server for this machine's 2 cores and measures
 * itself as much as the server. The pre-signed request goes into a Lua script. */
static bool s_have_wrk(void)
{
    return access("/usr/bin/wrk", X_OK) == 0 && getenv("BENCH_NO_WRK") == NULL;
}

/* One wrk thread per core left to the load generator. */
static int s_wrk_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 4 ? (int)(n / 2) : 1;
}

static struct s_result s_run_wrk(const struct s_req *req, int clients, double seconds)
{
    struct s_result r = {0, 0, 0, 0};
    char script[] = "/tmp/bench_kms_XXXXXX";
    int fd = mkstemp(script);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        return r;
    }
    fprintf(f, "wrk.method = \"POST\"\nwrk.body = [==[%s]==]\n", req->body);
    for (const struct curl_slist *h = req->headers; h != NULL; h = h->next) {
        const char *colon = strchr(h->data, ':');
        if (colon != NULL) {
            fprintf(f, "wrk.headers[ [==[%.*s]==] ] = [==[%s]==]\n", (int)(colon - h->data),
                    h->data, colon + 2);
        }
    }
    fprintf(f, "function response(status, headers, body)\n"
               "  if status ~= 200 then errors = (errors or 0) + 1 end\nend\n"
               "function done(summary, latency, requests)\n"
               "  io.write(string.format(\"RESULT %%d %%d %%.3f %%.3f %%.3f\\n\", summary.requests,"
               " summary.errors.status, summary.duration / 1e6, latency:percentile(50) / 1e3,"
               " latency:percentile(99) / 1e3))\nend\n");
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "wrk -t%d -c%d -d%.0fs -s %s %s 2>&1", s_wrk_threads(), clients,
             seconds, script, req->url);
    FILE *p = popen(cmd, "r");
    char line[512];
    while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
        unsigned long long n, errors;
        double dur, p50, p99;
        if (strncmp(line, "RESULT ", 7) == 0) {
            char *end = line + 7;
            n = strtoull(end, &end, 10);
            errors = strtoull(end, &end, 10);
            dur = strtod(end, &end);
            p50 = strtod(end, &end);
            p99 = strtod(end, &end);
            r.rps = (double)(n - errors) / dur;
            r.p50 = p50;
            r.p99 = p99;
            r.errors = (size_t)errors;
        }
    }
    if (p != NULL) {
        pclose(p);
    }
    unlink(script);
    return r;
}

static long s_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}

struct s_fill {
    const struct s_req *req;
    int n;
    int failures;
};

static void *s_filler(void *arg)
{
    struct s_fill *f = arg;
    CURL *c = curl_easy_init();
    for (int i = 0; i < f->n; i++) {
        if (s_send(c, f->req, NULL) != 200) {
            f->failures++;
        }
    }
    curl_easy_cleanup(c);
    return NULL;
}

/* Creates keys until the region holds total, replaying one signed CreateKey from several
 * clients. */
static void s_fill_keys(const char *url, const struct bench_creds *admin, int have, int total,
                        int clients)
{
    struct s_req r;
    s_prepare(&r, url, "kms", "TrentService.CreateKey", admin, "{\"Description\":\"filler\"}");
    int need = total - have;
    int workers = clients < 8 ? clients : 8;
    struct s_fill fills[8];
    pthread_t th[8];
    for (int i = 0; i < workers; i++) {
        fills[i] = (struct s_fill){&r, need / workers + (i < need % workers ? 1 : 0), 0};
        pthread_create(&th[i], NULL, s_filler, &fills[i]);
    }
    int failures = 0;
    for (int i = 0; i < workers; i++) {
        pthread_join(th[i], NULL);
        failures += fills[i].failures;
    }
    s_release(&r);
    if (failures > 0) {
        fprintf(stderr, "%d CreateKey calls failed while filling\n", failures);
        exit(1);
    }
}

struct s_round {
    struct s_result base, enc, dec;
    double core_speed; /* the servers' core's speed relative to the load generator's */
};

/* A fixed piece of user-space work (SHA-256 of 1 kB, 20,000 times) on one core: its time
 * shows when the host is slowing one of this VM's cores, which it does for minutes at a
 * time on a shared machine, and which moves the emulator (mostly user-space work) far more
 * than the bare baseline (mostly kernel time). */
struct s_probe {
    int core;
    double ms;
};

static void *s_probe_run(void *arg)
{
    struct s_probe *p = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(p->core, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    uint8_t data[1024], digest[CMEK_SHA256_LEN];
    memset(data, 'x', sizeof(data));
    double t0 = s_now_ms();
    for (int i = 0; i < 20000; i++) {
        data[0] = (uint8_t)i;
        if (cmek_sha256(data, sizeof(data), digest) != CMEK_OK) {
            break;
        }
    }
    p->ms = s_now_ms() - t0;
    return NULL;
}

static double s_probe_core(int core)
{
    struct s_probe p = {core, 0};
    pthread_t th;
    if (pthread_create(&th, NULL, s_probe_run, &p) != 0) {
        return 0;
    }
    pthread_join(th, NULL);
    return p.ms;
}

/* The first core's speed as a fraction of the last's (1 on a one-core machine). */
static double s_core_speed(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 2) {
        return 1;
    }
    double first = s_probe_core(0);
    double last = s_probe_core((int)cpus - 1);
    return first > 0 ? last / first : 0;
}

/* The median, lowest and highest of n values. */
static void s_spread(double *v, int n, double *median, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof(double), s_cmp);
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *lo = v[0];
    *hi = v[n - 1];
}

static void s_summary(const struct s_round *r, int n)
{
    double v[S_MAX_ROUNDS], med, lo, hi;
    for (int i = 0; i < n; i++) {
        v[i] = 100.0 * r[i].core_speed;
    }
    s_spread(v, n, &med, &lo, &hi);
    printf("  core 0's speed (user-space work) relative to the last core's: median %.0f%% "
           "(rounds %.0f-%.0f%%)\n",
           med, lo, hi);
    const char *names[3] = {"baseline", "Encrypt", "Decrypt"};
    for (int k = 0; k < 3; k++) {
        double p99[S_MAX_ROUNDS], p99_med, p99_lo, p99_hi;
        for (int i = 0; i < n; i++) {
            const struct s_result *x = k == 0 ? &r[i].base : k == 1 ? &r[i].enc : &r[i].dec;
            v[i] = x->rps;
            p99[i] = x->p99;
        }
        s_spread(v, n, &med, &lo, &hi);
        s_spread(p99, n, &p99_med, &p99_lo, &p99_hi);
        printf("  %-8s median %6.0f req/s (%.0f-%.0f), p99 median %.3f ms (worst round %.3f)",
               names[k], med, lo, hi, p99_med, p99_hi);
        if (k > 0) {
            for (int i = 0; i < n; i++) {
                const struct s_result *x = k == 1 ? &r[i].enc : &r[i].dec;
                v[i] = 100.0 * x->rps / r[i].base.rps;
            }
            s_spread(v, n, &med, &lo, &hi);
            printf("; of its round's baseline: median %.0f%% (rounds %.0f-%.0f%%)", med, lo, hi);
            /* Only the rounds whose two cores ran at the same speed (within 10%): with
             * either core slowed, the ratio measures the host. */
            int m = 0;
            for (int i = 0; i < n; i++) {
                if (r[i].core_speed >= 0.9 && r[i].core_speed <= 1.1) {
                    const struct s_result *x = k == 1 ? &r[i].enc : &r[i].dec;
                    v[m++] = 100.0 * x->rps / r[i].base.rps;
                }
            }
            if (m > 0) {
                s_spread(v, m, &med, &lo, &hi);
                printf("; balanced rounds (%d of %d): median %.0f%% (%.0f-%.0f%%)", m, n, med, lo,
                       hi);
            } else {
                printf("; no round with balanced cores");
            }
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_kms EMULATOR BARE_MHD [seconds] [connections] [rounds]\n");
        return 2;
    }
    double seconds = argc > 3 ? strtod(argv[3], NULL) : 2.0;
    int clients = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 32;
    int rounds = argc > 5 ? (int)strtol(argv[5], NULL, 10) : 7;
    if (clients < 1 || clients > S_MAX_CLIENTS || seconds <= 0 || rounds < 1 ||
        rounds > S_MAX_ROUNDS) {
        fprintf(stderr, "connections 1..%d, seconds > 0, rounds 1..%d\n", S_MAX_CLIENTS,
                S_MAX_ROUNDS);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus >= 2) {
        /* The load generator (this process and the wrk it starts) on the last core. */
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET((int)cpus - 1, &set);
        sched_setaffinity(0, sizeof(set), &set);
    }
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char url[128];
    double ready, worst = 0, ready_ms[20];
    for (int i = 0; i < 20; i++) {
        pid_t p = s_spawn(argv[1], true, url, sizeof(url), &ready);
        if (p < 0) {
            fprintf(stderr, "cannot start %s\n", argv[1]);
            return 1;
        }
        ready_ms[i] = ready;
        worst = ready > worst ? ready : worst;
        s_stop(p);
    }
    qsort(ready_ms, 20, sizeof(double), s_cmp);
    printf("load generator: %s; %s\n", s_have_wrk() ? "wrk" : "libcurl, one thread per connection",
           cpus >= 2 ? "server pinned to core 0, load generator to the last core"
                     : "one core: not pinned");
    printf("startup: URL printed after %.1f ms median, %.1f ms worst (20 starts)\n", ready_ms[10],
           worst);

    pid_t bare = s_spawn(argv[2], false, url, sizeof(url), &ready);
    char bare_url[128];
    snprintf(bare_url, sizeof(bare_url), "%s", url);
    pid_t emu = s_spawn(argv[1], true, url, sizeof(url), &ready);
    if (bare < 0 || emu < 0) {
        fprintf(stderr, "cannot start the servers\n");
        return 1;
    }
    struct cmek_buf out;
    cmek_buf_init(&out, 1 << 20);
    s_call(url, "iam", NULL, &bench_admin, bench_create_role_form, &out);
    char *create_text = bench_create_key_body();
    s_call(url, "kms", "TrentService.CreateKey", &bench_admin, create_text, &out);
    free(create_text);
    json_t *created = json_loads(cmek_buf_cstr(&out), 0, NULL);
    char key_arn[256];
    snprintf(key_arn, sizeof(key_arn), "%s",
             json_string_value(json_object_get(json_object_get(created, "KeyMetadata"), "Arn")));
    json_decref(created);
    s_call(url, "sts", NULL, &bench_crdb, bench_assume_role_form, &out);
    struct bench_creds session;
    bench_session_from_xml(cmek_buf_cstr(&out), &session);
    char enc_body[512];
    bench_encrypt_body(key_arn, enc_body, sizeof(enc_body));
    s_call(url, "kms", "TrentService.Encrypt", &session, enc_body, &out);
    json_t *enc = json_loads(cmek_buf_cstr(&out), 0, NULL);
    char dec_body[1024];
    snprintf(dec_body, sizeof(dec_body), "{\"CiphertextBlob\":\"%s\"}",
             json_string_value(json_object_get(enc, "CiphertextBlob")));
    json_decref(enc);

    int have = 1;
    const int sizes[] = {10, 100000};
    for (size_t s = 0; s < 2; s++) {
        double t0 = s_now_ms();
        s_fill_keys(url, &bench_admin, have, sizes[s], clients);
        double fill_ms = s_now_ms() - t0;
        have = sizes[s];
        printf("keys in the region: %d (created %d in %.1f s), emulator RSS %ld kB\n", have,
               sizes[s] - (s == 0 ? 1 : sizes[0]), fill_ms / 1e3, s_rss_kb(emu));
        struct s_req b, e, d;
        /* The baseline's request is a small one (no session token, "{}"): with the
         * emulator's 1.3 kB Encrypt request, wrk on its one core, not bare_mhd, is the
         * bottleneck (core 0 idles a quarter of the time), which would understate the
         * baseline and flatter the ratio. */
        struct bench_creds none = {"AKIAIOSFODNN7EXAMPLE",
                                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
        s_prepare(&b, bare_url, "kms", "TrentService.Encrypt", &none, "{}");
        s_prepare(&e, url, "kms", "TrentService.Encrypt", &session, enc_body);
        s_prepare(&d, url, "kms", "TrentService.Decrypt", &session, dec_body);
        /* b0 e0 d0 b1 e1 d1 ... bN: each Encrypt and Decrypt phase between two baselines,
         * its ratio taken against their mean, so a steady drift of the machine's speed
         * cancels out. */
        struct s_round r[S_MAX_ROUNDS];
        struct s_result next_base = s_run(&b, clients, seconds);
        for (int i = 0; i < rounds; i++) {
            struct s_result before = next_base;
            r[i].core_speed = s_core_speed();
            r[i].enc = s_run(&e, clients, seconds);
            r[i].dec = s_run(&d, clients, seconds);
            next_base = s_run(&b, clients, seconds);
            r[i].base = before;
            r[i].base.rps = (before.rps + next_base.rps) / 2;
            r[i].base.p99 = before.p99 > next_base.p99 ? before.p99 : next_base.p99;
            r[i].base.errors = before.errors + next_base.errors;
            printf("  round %d: core 0 at %3.0f%% | baseline %6.0f req/s (%.0f, %.0f; p99 %.3f ms) "
                   "| Encrypt %6.0f (%3.0f%%, p99 %.3f ms) | Decrypt %6.0f (%3.0f%%, p99 %.3f "
                   "ms)%s\n",
                   i + 1, 100.0 * r[i].core_speed, r[i].base.rps, before.rps, next_base.rps,
                   r[i].base.p99, r[i].enc.rps, 100.0 * r[i].enc.rps / r[i].base.rps, r[i].enc.p99,
                   r[i].dec.rps, 100.0 * r[i].dec.rps / r[i].base.rps, r[i].dec.p99,
                   r[i].enc.errors + r[i].dec.errors + r[i].base.errors ? " ERRORS" : "");
        }
        s_summary(r, rounds);
        s_release(&b);
        s_release(&e);
        s_release(&d);
    }
    printf("targets (issue): >= 60%% of baseline, p99 < 2 ms, startup < 50 ms\n");
    cmek_buf_clean_up(&out);
    s_stop(emu);
    s_stop(bare);
    curl_global_cleanup();
    return 0;
}
