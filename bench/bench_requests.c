/* bench_requests: throughput and latency of signed AWS requests against a running
 * cmek-emulator, from T client threads with keep-alive connections.
 *
 *   bench_requests URL [threads] [requests-per-thread] [op]
 *   op: gci (STS GetCallerIdentity, default) | getrole (IAM GetRole, policy-evaluated)
 *       | health (admin, no SigV4)
 *
 * Every request is signed with the shared SigV4 signer, so the figure includes a client-side
 * signature per request, as real SDKs pay. Prints requests/s and p50/p90/p99 latency. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmek/sigv4.h"

struct s_job {
    const char *url;
    const char *host;
    const char *op;
    int n;
    double *lat_ms;
    int failures;
};

static double s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t s_discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

static int s_one(CURL *c, struct s_job *job)
{
    const char *service = strcmp(job->op, "getrole") == 0 ? "iam" : "sts";
    const char *body = strcmp(job->op, "getrole") == 0
                           ? "Action=GetRole&Version=2010-05-08&RoleName=bench-role"
                           : "Action=GetCallerIdentity&Version=2011-06-15";
    struct curl_slist *h = NULL;
    char url[512];
    long status = 0;
    if (strcmp(job->op, "health") == 0) {
        snprintf(url, sizeof(url), "%s/_emulator/health", job->url);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        struct cmek_http_header hh[] = {
            {cmek_view_from_cstr("Content-Type"),
             cmek_view_from_cstr("application/x-www-form-urlencoded; charset=utf-8")},
            {cmek_view_from_cstr("Host"), cmek_view_from_cstr(job->host)},
        };
        struct cmek_sigv4_request req = {
            cmek_view_from_cstr("POST"), cmek_view_from_cstr("/"), cmek_view_from_cstr(""), hh, 2,
            cmek_view_from_cstr(body)};
        struct cmek_sigv4_credentials cr = {"AKIAIOSFODNN7EXAMPLE",
                                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL};
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
            cmek_sigv4_signed_clean_up(&out);
            return -1;
        }
        char line[1024];
        h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded; charset=utf-8");
        for (size_t i = 0; i < n_added; i++) {
            snprintf(line, sizeof(line), "%.*s: %.*s", (int)added[i].name.len, added[i].name.ptr,
                     (int)added[i].value.len, added[i].value.ptr);
            h = curl_slist_append(h, line);
        }
        cmek_sigv4_signed_clean_up(&out);
        snprintf(url, sizeof(url), "%s/", job->url);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    return rc == CURLE_OK && status == 200 ? 0 : -1;
}

static void *s_worker(void *arg)
{
    struct s_job *job = arg;
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    for (int i = 0; i < job->n; i++) {
        double t0 = s_now_ms();
        if (s_one(c, job) != 0) {
            job->failures++;
        }
        job->lat_ms[i] = s_now_ms() - t0;
    }
    curl_easy_cleanup(c);
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: bench_requests URL [threads] [requests-per-thread] [gci|getrole|health]\n");
        return 2;
    }
    const char *url = argv[1];
    int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 4;
    int per = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 2000;
    const char *op = argc > 4 ? argv[4] : "gci";
    if (threads < 1 || threads > 64 || per < 1 || per > 1000000) {
        fprintf(stderr, "threads 1..64, requests 1..1000000\n");
        return 2;
    }
    const char *host = strstr(url, "://") ? strstr(url, "://") + 3 : url;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t *th = calloc((size_t)threads, sizeof(*th));
    struct s_job *jobs = calloc((size_t)threads, sizeof(*jobs));
    double *lat = calloc((size_t)threads * (size_t)per, sizeof(*lat));
    double t0 = s_now_ms();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (struct s_job){url, host, op, per, lat + (size_t)i * per, 0};
        pthread_create(&th[i], NULL, s_worker, &jobs[i]);
    }
    int failures = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        failures += jobs[i].failures;
    }
    double elapsed = s_now_ms() - t0;
    size_t total = (size_t)threads * per;
    qsort(lat, total, sizeof(*lat), s_cmp);
    printf("op=%s threads=%d requests=%zu failures=%d elapsed=%.0f ms throughput=%.0f req/s "
           "p50=%.3f ms p90=%.3f ms p99=%.3f ms\n",
           op, threads, total, failures, elapsed, total / (elapsed / 1e3), lat[total / 2],
           lat[total * 9 / 10], lat[total * 99 / 100]);
    free(th);
    free(jobs);
    free(lat);
    curl_global_cleanup();
    return failures == 0 ? 0 : 1;
}
