/* bench_inproc: the emulator's own cost per request, without the network: requests are
 * signed once (outside the timed loop) and dispatched in-process through the same router,
 * authentication, policy evaluation and operations as over HTTP, as bench_kms's caller: a
 * session of the CockroachDB CMEK role, under a key policy with the crdb-cmek-kms statement. The
 * figure that code changes move, free of the scheduling noise of a load test on a small shared
 * machine.
 *
 *   bench_inproc [requests-per-operation [operation]]
 * With an operation (e.g. kms:Encrypt) only that one is timed: for profiling.
 * Figures only: nothing here passes or fails on speed. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cmek/sigv4.h"
#include "service.h"
#include "store.h"

#include "bench_setup.h"

extern const char emu_default_world[];
extern const unsigned long emu_default_world_len;

struct s_signed_req {
    struct cmek_http_header headers[3 + CMEK_SIGV4_MAX_ADDED_HEADERS];
    size_t n_headers;
    struct cmek_sigv4_signed sig;
    char *body;
};

static double s_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* Signs a POST for service as c; target NULL for Query services. */
static void s_sign(struct s_signed_req *r, const struct bench_creds *c, const char *service,
                   const char *target, const char *body)
{
    memset(r, 0, sizeof(*r));
    r->body = strdup(body);
    const char *ct =
        target ? "application/x-amz-json-1.1" : "application/x-www-form-urlencoded; charset=utf-8";
    r->headers[r->n_headers++] =
        (struct cmek_http_header){cmek_view_from_cstr("Content-Type"), cmek_view_from_cstr(ct)};
    r->headers[r->n_headers++] = (struct cmek_http_header){cmek_view_from_cstr("Host"),
                                                           cmek_view_from_cstr("127.0.0.1:4566")};
    if (target != NULL) {
        r->headers[r->n_headers++] = (struct cmek_http_header){cmek_view_from_cstr("X-Amz-Target"),
                                                               cmek_view_from_cstr(target)};
    }
    struct cmek_sigv4_request sr = {cmek_view_from_cstr("POST"),
                                    cmek_view_from_cstr("/"),
                                    cmek_view_from_cstr(""),
                                    r->headers,
                                    r->n_headers,
                                    cmek_view_from_cstr(r->body)};
    struct cmek_sigv4_credentials cr = {c->akid, c->secret, c->token[0] ? c->token : NULL};
    struct cmek_sigv4_sign_options o = {.credentials = &cr,
                                        .region = "us-east-1",
                                        .service = service,
                                        .when = time(NULL),
                                        .normalize_path = true};
    cmek_sigv4_signed_init(&r->sig);
    size_t n_added = 0;
    if (cmek_sigv4_sign_to_headers(&sr, &o, &r->sig, r->headers + r->n_headers, &n_added) !=
        CMEK_OK) {
        fprintf(stderr, "signing failed\n");
        exit(1);
    }
    r->n_headers += n_added;
}

static void s_release(struct s_signed_req *r)
{
    cmek_sigv4_signed_clean_up(&r->sig);
    free(r->body);
}

static int s_send(struct emu_app *app, const struct s_signed_req *r, struct emu_response *resp)
{
    struct emu_request req;
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.path = cmek_view_from_cstr("/");
    req.query = cmek_view_from_cstr("");
    req.headers = r->headers;
    req.n_headers = r->n_headers;
    req.body = cmek_view_from_cstr(r->body);
    memcpy(req.request_id, "00000000-0000-4000-8000-000000000000", 37);
    emu_response_init(resp);
    emu_dispatch(app, &req, resp);
    return resp->status;
}

/* One signed call for the set-up; exits unless it answers 200. resp is the caller's. */
static void s_call(struct emu_app *app, const struct bench_creds *c, const char *service,
                   const char *target, const char *body, struct emu_response *resp)
{
    struct s_signed_req r;
    s_sign(&r, c, service, target, body);
    if (s_send(app, &r, resp) != 200) {
        fprintf(stderr, "set-up call %s failed: %s\n", target ? target : body,
                cmek_buf_cstr(&resp->body));
        exit(1);
    }
    s_release(&r);
}

static const char *s_only; /* the one operation to time, or NULL for all */

static void s_time(struct emu_app *app, const char *name, const struct s_signed_req *r, int n)
{
    if (s_only != NULL && strcmp(s_only, name) != 0) {
        return;
    }
    struct emu_response resp;
    double t0 = s_now_us();
    for (int i = 0; i < n; i++) {
        if (s_send(app, r, &resp) != 200) {
            fprintf(stderr, "%s failed: %s\n", name, cmek_buf_cstr(&resp.body));
            exit(1);
        }
        emu_response_clean_up(&resp);
    }
    printf("  %-26s %7.2f us/request\n", name, (s_now_us() - t0) / n);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 50000;
    if (n < 1) {
        fprintf(stderr, "usage: bench_inproc [requests-per-operation [operation]]\n");
        return 2;
    }
    s_only = argc > 2 ? argv[2] : NULL;
    struct emu_app app;
    memset(&app, 0, sizeof(app));
    emu_config_init_default(&app.cfg);
    app.cfg.log_level = EMU_LOG_ERROR;
    app.sys = *emu_system_default();
    json_t *world = json_loadb(emu_default_world, emu_default_world_len, 0, NULL);
    struct emu_load_error err;
    if (world == NULL || emu_store_new(&app, world, &app.store, &err) != CMEK_OK) {
        fprintf(stderr, "cannot build the default world\n");
        return 1;
    }
    json_decref(world);
    /* The CockroachDB CMEK set-up of bench_kms: the customer's role trusting 999988887777
     * with the org id, a key with the crdb-cmek-kms statement, a session of that role. */
    struct emu_response resp;
    s_call(&app, &bench_admin, "iam", NULL, bench_create_role_form, &resp);
    emu_response_clean_up(&resp);
    char *create_text = bench_create_key_body();
    s_call(&app, &bench_admin, "kms", "TrentService.CreateKey", create_text, &resp);
    free(create_text);
    json_t *v = json_loads(cmek_buf_cstr(&resp.body), 0, NULL);
    char key_arn[256];
    snprintf(key_arn, sizeof(key_arn), "%s",
             json_string_value(json_object_get(json_object_get(v, "KeyMetadata"), "Arn")));
    json_decref(v);
    emu_response_clean_up(&resp);
    s_call(&app, &bench_crdb, "sts", NULL, bench_assume_role_form, &resp);
    struct bench_creds session;
    bench_session_from_xml(cmek_buf_cstr(&resp.body), &session);
    emu_response_clean_up(&resp);

    char body[512];
    bench_encrypt_body(key_arn, body, sizeof(body));
    char gdk_body[512];
    snprintf(gdk_body, sizeof(gdk_body), "{\"KeyId\":\"%s\",\"KeySpec\":\"AES_256\"}", key_arn);
    s_call(&app, &session, "kms", "TrentService.Encrypt", body, &resp);
    v = json_loads(cmek_buf_cstr(&resp.body), 0, NULL);
    char dec_body[1024];
    snprintf(dec_body, sizeof(dec_body), "{\"CiphertextBlob\":\"%s\"}",
             json_string_value(json_object_get(v, "CiphertextBlob")));
    json_decref(v);
    emu_response_clean_up(&resp);
    struct s_signed_req enc, dec, gdk, gci;
    s_sign(&enc, &session, "kms", "TrentService.Encrypt", body);
    s_sign(&dec, &session, "kms", "TrentService.Decrypt", dec_body);
    s_sign(&gdk, &session, "kms", "TrentService.GenerateDataKey", gdk_body);
    s_sign(&gci, &session, "sts", NULL, "Action=GetCallerIdentity&Version=2011-06-15");
    printf("in-process cost per request (%d each; request signed once, outside the loop):\n", n);
    s_time(&app, "sts:GetCallerIdentity", &gci, n);
    s_time(&app, "kms:Encrypt", &enc, n);
    s_time(&app, "kms:Decrypt", &dec, n);
    s_time(&app, "kms:GenerateDataKey", &gdk, n);
    s_release(&enc);
    s_release(&dec);
    s_release(&gdk);
    s_release(&gci);
    emu_store_destroy(app.store);
    return 0;
}
