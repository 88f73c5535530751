/* Tests of the HTTP front end over real sockets (libcurl): binding, routing by path, target
 * and credential scope, the body cap answered in each service's format, presigned GETs. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <string.h>

#include "app.h"
#include "cmek/sigv4.h"
#include "server.h"
#include "store.h"
#include "test_common.h"

static struct emu_app s_app;
static struct emu_server *s_server;

static void s_init(void)
{
    memset(&s_app, 0, sizeof(s_app));
    emu_config_init_default(&s_app.cfg);
    s_app.cfg.log_level = EMU_LOG_ERROR;
    s_app.cfg.max_body_bytes = 4096;
    s_app.sys = *emu_system_default();
    json_error_t e;
    json_t *w = json_load_file(CMEK_FIXTURES_DIR "/world.json", 0, &e);
    cr_assert_not_null(w);
    struct emu_load_error err;
    cr_assert_eq(emu_store_new(&s_app, w, &s_app.store, &err), 0, "%s", err.message);
    json_decref(w);
    const char *why = NULL;
    cr_assert_eq(emu_server_start(&s_app, "127.0.0.1:0", &s_server, &why), 0, "%s", why);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void s_fini(void)
{
    emu_server_stop(s_server);
    emu_store_destroy(s_app.store);
    curl_global_cleanup();
    cmek_test_fini();
}

TestSuite(server, .init = s_init, .fini = s_fini);

struct s_reply {
    long status;
    struct cmek_buf body;
    char content_type[128];
};

static size_t s_write(char *ptr, size_t size, size_t n, void *ud)
{
    struct s_reply *r = ud;
    return cmek_buf_append(&r->body, ptr, size * n) == CMEK_OK ? size * n : 0;
}

static void s_request(const char *method, const char *path, struct curl_slist *headers,
                      const char *body, size_t body_len, struct s_reply *r)
{
    cmek_buf_init(&r->body, 1 << 20);
    char url[512];
    snprintf(url, sizeof(url), "%s%s", emu_server_base_url(s_server), path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    cr_assert_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r->content_type, sizeof(r->content_type), "%s", ct ? ct : "");
    curl_easy_cleanup(c);
}

static char *s_big_body(size_t n)
{
    char *b = malloc(n + 1);
    memset(b, 'a', n);
    b[n] = '\0';
    return b;
}

Test(server, binds_a_free_port_and_reports_it)
{
    cr_assert_gt(emu_server_port(s_server), 0);
    char want[64];
    snprintf(want, sizeof(want), "http://127.0.0.1:%u", (unsigned)emu_server_port(s_server));
    cr_assert_str_eq(emu_server_base_url(s_server), want);
}

Test(server, refuses_bad_listen_addresses)
{
    const char *bad[] = {"127.0.0.1",
                         "127.0.0.1:",
                         ":80",
                         "127.0.0.1:99999",
                         "127.0.0.1:x",
                         "[::1:80",
                         "no.such.host.invalid:0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct emu_server *srv = NULL;
        const char *why = NULL;
        cr_assert_neq(emu_server_start(&s_app, bad[i], &srv, &why), 0, "%s", bad[i]);
        cr_assert_not_null(why);
        cr_assert_null(srv);
    }
}

Test(server, refuses_a_port_in_use)
{
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)emu_server_port(s_server));
    struct emu_server *srv = NULL;
    const char *why = NULL;
    cr_assert_eq(emu_server_start(&s_app, listen, &srv, &why), CMEK_ERR_IO);
}

Test(server, serves_admin_health_as_json)
{
    struct s_reply r;
    s_request("GET", "/_emulator/health", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.content_type, "application/json");
    cr_assert_not_null(strstr(cmek_buf_cstr(&r.body), "\"status\":\"ok\""));
    cmek_buf_clean_up(&r.body);
}

Test(server, answers_oversized_query_bodies_with_413_xml)
{
    struct curl_slist *h =
        curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    h = curl_slist_append(h,
                          "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"
                          "20261123/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00");
    char *body = s_big_body(5000);
    struct s_reply r;
    s_request("POST", "/", h, body, 5000, &r);
    cr_assert_eq(r.status, 413);
    cr_assert_str_eq(r.content_type, "text/xml");
    cr_assert_not_null(strstr(cmek_buf_cstr(&r.body), "<Code>RequestEntityTooLarge</Code>"));
    cr_assert_not_null(
        strstr(cmek_buf_cstr(&r.body), "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\""));
    free(body);
    curl_slist_free_all(h);
    cmek_buf_clean_up(&r.body);
}

Test(server, answers_oversized_kms_bodies_with_413_json)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-amz-json-1.1");
    h = curl_slist_append(h, "X-Amz-Target: TrentService.Encrypt");
    char *body = s_big_body(5000);
    struct s_reply r;
    s_request("POST", "/", h, body, 5000, &r);
    cr_assert_eq(r.status, 413);
    cr_assert_str_eq(r.content_type, "application/x-amz-json-1.1");
    cr_assert_str_eq(cmek_buf_cstr(&r.body),
                     "{\"__type\":\"RequestEntityTooLargeException\",\"message\":\"Request body is "
                     "larger than the limit of 4096 bytes\"}");
    free(body);
    curl_slist_free_all(h);
    cmek_buf_clean_up(&r.body);
}

Test(server, answers_oversized_cloud_and_vault_bodies_in_their_formats)
{
    char *body = s_big_body(5000);
    struct s_reply r;
    s_request("POST", "/api/v1/clusters", NULL, body, 5000, &r);
    cr_assert_eq(r.status, 413);
    json_t *v = json_loads(cmek_buf_cstr(&r.body), 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(v, "code")), 8);
    cr_assert(json_is_array(json_object_get(v, "details")));
    json_decref(v);
    cmek_buf_clean_up(&r.body);
    s_request("PUT", "/v1/sys/mounts/keymgmt", NULL, body, 5000, &r);
    cr_assert_eq(r.status, 413);
    v = json_loads(cmek_buf_cstr(&r.body), 0, NULL);
    cr_assert(json_is_array(json_object_get(v, "errors")));
    json_decref(v);
    cmek_buf_clean_up(&r.body);
    free(body);
}

Test(server, stays_up_and_consistent_after_an_oversized_body)
{
    char *body = s_big_body(100000);
    struct s_reply r;
    s_request("POST", "/_emulator/clock", NULL, body, 100000, &r);
    cr_assert_eq(r.status, 413);
    cmek_buf_clean_up(&r.body);
    free(body);
    s_request("GET", "/_emulator/clock", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_not_null(strstr(cmek_buf_cstr(&r.body), "\"offset_seconds\":0"));
    cmek_buf_clean_up(&r.body);
}

Test(server, routes_unclaimed_paths_to_their_services_formats)
{
    struct s_reply r;
    s_request("GET", "/v1/nomount/x", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 404);
    cr_assert_str_eq(cmek_buf_cstr(&r.body),
                     "{\"errors\":[\"no handler for route \\\"nomount/x\\\". route entry not "
                     "found.\"]}\n");
    cmek_buf_clean_up(&r.body);
    s_request("GET", "/", NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 403);
    cr_assert_not_null(strstr(cmek_buf_cstr(&r.body), "<Code>MissingAuthenticationToken</Code>"));
    cmek_buf_clean_up(&r.body);
}

/* A presigned GetCallerIdentity (as aws-iam-authenticator makes them): the query string
 * must reach the verifier exactly as sent. */
Test(server, accepts_a_presigned_sts_get)
{
    char host[64];
    snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)emu_server_port(s_server));
    struct cmek_http_header hh[] = {{cmek_view_from_cstr("Host"), cmek_view_from_cstr(host)}};
    struct cmek_sigv4_request req = {
        cmek_view_from_cstr("GET"),
        cmek_view_from_cstr("/"),
        cmek_view_from_cstr("Action=GetCallerIdentity&Version=2011-06-15"),
        hh,
        1,
        cmek_view_from_cstr("")};
    struct cmek_sigv4_credentials creds = {"AKIAIOSFODNN7EXAMPLE",
                                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL};
    struct cmek_sigv4_sign_options opt = {.credentials = &creds,
                                          .region = "us-east-1",
                                          .service = "sts",
                                          .when = time(NULL),
                                          .normalize_path = true,
                                          .expires_s = 60};
    struct cmek_sigv4_signed out;
    cmek_sigv4_signed_init(&out);
    cr_assert_eq(cmek_sigv4_sign_query(&req, &opt, &out), 0);
    char path[4096];
    snprintf(path, sizeof(path), "/?%s", cmek_buf_cstr(&out.query));
    struct s_reply r;
    s_request("GET", path, NULL, NULL, 0, &r);
    cr_assert_eq(r.status, 200, "%s", cmek_buf_cstr(&r.body));
    cr_assert_not_null(
        strstr(cmek_buf_cstr(&r.body), "<Arn>arn:aws:iam::111122223333:user/admin</Arn>"));
    cmek_buf_clean_up(&r.body);
    cmek_sigv4_signed_clean_up(&out);
}

static void *s_hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++) {
        struct s_reply r;
        s_request("GET", "/_emulator/clock", NULL, NULL, 0, &r);
        if (r.status != 200) {
            cmek_buf_clean_up(&r.body);
            return (void *)1;
        }
        cmek_buf_clean_up(&r.body);
    }
    return NULL;
}

Test(server, serves_concurrent_clients)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(pthread_create(&th[i], NULL, s_hammer, NULL), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret = NULL;
        pthread_join(th[i], &ret);
        cr_assert_null(ret);
    }
}
