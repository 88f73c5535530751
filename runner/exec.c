/* exec.c: one scenario at a time; a step is: decide whether it runs -> build its input ->
 * call (again, while it waits) -> judge -> save. */
#include "exec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmek/crypto.h"
#include "cmek/map.h"
#include "cmek/sts.h"
#include "cmek/vec.h"
#include "expect.h"
#include "vars.h"

/* One identity a step can act as; its client is made on first use. */
struct s_identity {
    char *name;                        /* owned */
    bool use_target_aws;               /* "customer": the target's own credentials */
    struct cmek_aws_credentials creds; /* owned, unless use_target_aws */
    struct cmek_client *client;        /* owned; NULL until needed */
};

struct s_run {
    const struct crun_scenario *sc;
    const struct crun_exec_options *opt;
    json_t *vars;           /* owned: built-ins, --var, the scenario's vars, resolved */
    json_t *saved;          /* owned: values saved by steps */
    struct cmek_vec ids;    /* owned struct s_identity * */
    struct cmek_map status; /* step name -> (void *)(uintptr_t)(status + 1) */
    const struct crun_step *failed_step; /* the first failed step of "steps" */
    bool failed;
    struct cmek_buf reason;
};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool s_interrupted(const struct crun_exec_options *opt)
{
    return opt->interrupted != NULL && opt->interrupted(opt->interrupt_ctx);
}

/* Sleeps ms, in slices, so that an interrupt is noticed within 100 ms. */
static void s_sleep_ms(const struct crun_exec_options *opt, int64_t ms)
{
    while (ms > 0 && !s_interrupted(opt)) {
        int64_t slice = ms > 100 ? 100 : ms;
        struct timespec ts = {(time_t)(slice / 1000), (long)(slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

static const json_t *s_var(void *ctx, const char *name)
{
    const struct s_run *run = ctx;
    const json_t *v = json_object_get(run->saved, name);
    return v != NULL ? v : json_object_get(run->vars, name);
}

static const char *s_env(void *ctx, const char *name)
{
    const struct s_run *run = ctx;
    return run->opt->getenv_fn != NULL ? run->opt->getenv_fn(run->opt->env_ctx, name)
                                       : getenv(name);
}

static struct crun_lookup s_lookup(struct s_run *run)
{
    struct crun_lookup lk = {s_var, s_env, run, run->opt->fixtures_dir};
    return lk;
}

static int s_set_string(json_t *obj, const char *key, const char *value)
{
    return json_object_set_new(obj, key, json_string(value != NULL ? value : "")) == 0
               ? CMEK_OK
               : CMEK_ERR_NOMEM;
}

/* Built-ins, then --var, then the scenario's vars in order (a --var overrides a var). */
static int s_resolve_vars(struct s_run *run, char *why, size_t why_len)
{
    const struct crun_exec_options *opt = run->opt;
    int rc = s_set_string(run->vars, "run_id", opt->run_id);
    if (rc == CMEK_OK) {
        rc = s_set_string(run->vars, "target", opt->target->name);
    }
    if (rc == CMEK_OK) {
        rc = s_set_string(run->vars, "region", opt->target->region);
    }
    if (rc == CMEK_OK && opt->cli_vars != NULL) {
        rc = json_object_update(run->vars, (json_t *)opt->cli_vars) == 0 ? CMEK_OK : CMEK_ERR_NOMEM;
    }
    const char *key;
    const json_t *tmpl;
    json_object_foreach(run->sc->vars, key, tmpl)
    {
        if (rc) {
            break;
        }
        if (opt->cli_vars != NULL && json_object_get(opt->cli_vars, key) != NULL) {
            continue;
        }
        struct crun_lookup lk = s_lookup(run);
        json_t *value = NULL;
        rc = crun_subst_value(tmpl, &lk, false, &value, why, why_len);
        if (rc == CMEK_OK && json_object_set_new(run->vars, key, value) != 0) {
            rc = CMEK_ERR_NOMEM;
        }
    }
    return rc;
}

static void s_identity_destroy(struct s_identity *id)
{
    if (id == NULL) {
        return;
    }
    cmek_client_destroy(id->client);
    if (!id->use_target_aws) {
        cmek_aws_credentials_clean_up(&id->creds);
    }
    free(id->name);
    free(id);
}

static struct s_identity *s_identity_find(struct s_run *run, const char *name)
{
    for (size_t i = 0; i < run->ids.len; i++) {
        struct s_identity *id = run->ids.items[i];
        if (strcmp(id->name, name) == 0) {
            return id;
        }
    }
    return NULL;
}

static int s_identity_add(struct s_run *run, const char *name, struct s_identity **out)
{
    struct s_identity *id = calloc(1, sizeof(*id));
    if (id == NULL || (id->name = strdup(name)) == NULL) {
        free(id);
        return CMEK_ERR_NOMEM;
    }
    int rc = cmek_vec_push(&run->ids, id);
    if (rc) {
        s_identity_destroy(id);
        return rc;
    }
    *out = id;
    return CMEK_OK;
}

/* The client acting as `as` (NULL: customer), made on first use. */
static int s_client_for(struct s_run *run, const char *as, struct cmek_client **out)
{
    const char *name = as != NULL ? as : "customer";
    struct s_identity *id = s_identity_find(run, name);
    int rc;
    if (id == NULL) {
        if (strcmp(name, "customer") != 0 && strcmp(name, "cockroach_cloud") != 0) {
            rc = cmek_buf_appendf(&run->reason, "no session \"%s\"", name);
            return rc ? rc : CMEK_ERR_NOT_FOUND;
        }
        if (strcmp(name, "cockroach_cloud") == 0 &&
            run->opt->target->cloud_principal.access_key_id == NULL) {
            rc = cmek_buf_appendf(&run->reason,
                                  "target %s has no CockroachDB Cloud principal to act as",
                                  run->opt->target->name);
            return rc ? rc : CMEK_ERR_NOT_FOUND;
        }
        rc = s_identity_add(run, name, &id);
        if (rc) {
            return rc;
        }
        id->use_target_aws = strcmp(name, "customer") == 0;
        if (!id->use_target_aws) {
            rc = cmek_aws_credentials_copy(&id->creds, &run->opt->target->cloud_principal);
            if (rc) {
                return rc;
            }
        }
    }
    if (id->client == NULL) {
        struct cmek_client_options copt = {
            .target = run->opt->target,
            .aws_as = id->use_target_aws ? NULL : &id->creds,
            .transport = run->opt->transport,
        };
        struct cmek_api_error err;
        memset(&err, 0, sizeof(err));
        rc = cmek_client_new(&copt, &id->client, &err);
        if (rc) {
            int rc2 = cmek_buf_appendf(&run->reason, "cannot act as %s: %s", name,
                                       err.message[0] != '\0' ? err.message : cmek_error_str(rc));
            return rc2 ? rc2 : rc;
        }
    }
    *out = id->client;
    return CMEK_OK;
}

/* A client for one step whose "vault" object replaces the target's Vault token and
 * namespace (null: send none); owned by the caller. */
static int s_vault_client(struct s_run *run, const struct crun_step *step, struct cmek_client **out)
{
    struct cmek_target t;
    cmek_target_init(&t);
    int rc = cmek_target_copy(&t, run->opt->target);
    static const char *const fields[] = {"token", "namespace"};
    char **slots[] = {&t.vault_token, &t.vault_namespace};
    for (size_t i = 0; rc == CMEK_OK && i < 2; i++) {
        const json_t *v = json_object_get(step->vault, fields[i]);
        if (v == NULL) {
            continue;
        }
        if (*slots[i] != NULL) {
            cmek_cleanse_str(*slots[i]);
            free(*slots[i]);
        }
        /* "" is libcmek's "send no header" (cmek/target.h) */
        *slots[i] = strdup(json_is_string(v) ? json_string_value(v) : "");
        rc = *slots[i] != NULL ? CMEK_OK : CMEK_ERR_NOMEM;
    }
    if (rc == CMEK_OK) {
        struct cmek_client_options copt = {.target = &t, .transport = run->opt->transport};
        struct cmek_api_error err;
        memset(&err, 0, sizeof(err));
        rc = cmek_client_new(&copt, out, &err);
        if (rc) {
            int rc2 = cmek_buf_appendf(&run->reason, "cannot make a Vault client: %s",
                                       err.message[0] != '\0' ? err.message : cmek_error_str(rc));
            rc = rc2 ? rc2 : rc;
        }
    }
    cmek_target_clean_up(&t);
    return rc;
}

static void s_set_status(struct s_run *run, const struct crun_step *step, enum crun_status st)
{
    /* a failed put only loses the dependency reason's detail ("which did not run") */
    if (cmek_map_put(&run->status, step->name, (void *)(uintptr_t)(st + 1), NULL) != CMEK_OK) {
        return;
    }
}

static const char *s_status_words(struct s_run *run, const struct crun_step *step)
{
    uintptr_t v = (uintptr_t)cmek_map_get(&run->status, step->name);
    switch (v) {
    case CRUN_FAIL + 1:
        return "which failed";
    case CRUN_SKIP + 1:
        return "which was skipped";
    case CRUN_PASS + 1:
        return "which did not save it";
    default:
        return "which did not run";
    }
}

/* The last step before `step` (or any, for cleanup) that saves var / makes session. */
static const struct crun_step *s_maker(const struct s_run *run, const struct crun_step *step,
                                       const char *name, bool session)
{
    const struct crun_step *found = NULL;
    const struct cmek_vec *lists[] = {&run->sc->steps, &run->sc->cleanup};
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < lists[l]->len; i++) {
            const struct crun_step *s = lists[l]->items[i];
            if (s == step && found != NULL) {
                return found;
            }
            bool makes = session ? (s->session != NULL && strcmp(s->session, name) == 0)
                                 : json_object_get(s->save, name) != NULL;
            if (makes) {
                found = s;
            }
        }
    }
    return found;
}

/* Why step cannot run (appended to run->reason), or nothing. */
static int s_skip_reason(struct s_run *run, const struct crun_step *step, bool *skip)
{
    *skip = true;
    const struct cmek_target *t = run->opt->target;
    if (!step->cleanup && s_interrupted(run->opt)) {
        /* cleanup still runs: on a live account it deletes what was made */
        return cmek_buf_append_str(&run->reason, "interrupted");
    }
    if (!t->emulator && step->emulator_only) {
        return cmek_buf_appendf(&run->reason, "emulator only: %s", step->emulator_only_reason);
    }
    if (!step->cleanup && run->failed_step != NULL) {
        return cmek_buf_appendf(&run->reason, "after the failure of step %s",
                                run->failed_step->name);
    }
    for (size_t i = 0; i < step->refs.len; i++) {
        const char *name = step->refs.items[i];
        if (s_var(run, name) != NULL) {
            continue;
        }
        const struct crun_step *maker = s_maker(run, step, name, false);
        if (maker == NULL) {
            return cmek_buf_appendf(&run->reason, "needs ${%s}, which nothing saved", name);
        }
        return cmek_buf_appendf(&run->reason, "needs ${%s} from step %s, %s", name, maker->name,
                                s_status_words(run, maker));
    }
    if (step->as != NULL && strcmp(step->as, "customer") != 0 &&
        strcmp(step->as, "cockroach_cloud") != 0 && s_identity_find(run, step->as) == NULL) {
        const struct crun_step *maker = s_maker(run, step, step->as, true);
        return cmek_buf_appendf(&run->reason, "acts as session %s from step %s, %s", step->as,
                                maker != NULL ? maker->name : "?",
                                maker != NULL ? s_status_words(run, maker) : "which did not run");
    }
    *skip = false;
    return CMEK_OK;
}

/* After a call that met its expectations: save values and the session. */
static int s_save(struct s_run *run, const struct crun_step *step, const json_t *output, bool *ok)
{
    *ok = false;
    const char *key;
    const json_t *path;
    json_object_foreach((json_t *)step->save, key, path)
    {
        const json_t *v = crun_path_get(output, json_string_value(path));
        if (v == NULL) {
            return cmek_buf_appendf(&run->reason, "save %s: no %s in the output", key,
                                    json_string_value(path));
        }
        if (json_object_set_new(run->saved, key, json_deep_copy(v)) != 0) {
            return CMEK_ERR_NOMEM;
        }
    }
    if (step->session != NULL) {
        struct cmek_aws_credentials creds;
        memset(&creds, 0, sizeof(creds));
        int rc = cmek_sts_session_credentials(output, &creds);
        if (rc) {
            cmek_aws_credentials_clean_up(&creds);
            return rc == CMEK_ERR_NOMEM
                       ? rc
                       : cmek_buf_appendf(&run->reason,
                                          "session %s: the output has no complete Credentials",
                                          step->session);
        }
        struct s_identity *id = s_identity_find(run, step->session);
        if (id == NULL) {
            rc = s_identity_add(run, step->session, &id);
            if (rc) {
                cmek_aws_credentials_clean_up(&creds);
                return rc;
            }
        }
        /* a session saved again replaces the old one and its client */
        cmek_client_destroy(id->client);
        id->client = NULL;
        cmek_aws_credentials_clean_up(&id->creds);
        id->creds = creds;
    }
    *ok = true;
    return CMEK_OK;
}

/* Runs one step that is not skipped. *status is PASS or FAIL; run->reason says why not. */
static int s_call_step(struct s_run *run, const struct crun_step *step, enum crun_status *status,
                       unsigned *calls)
{
    *status = CRUN_FAIL;
    *calls = 0;
    char why[1024];
    json_t *args = NULL;
    json_t *expect = NULL;
    json_t *output = NULL;
    struct cmek_client *step_client = NULL; /* owned: a step with its own "vault" */
    struct crun_lookup lk = s_lookup(run);
    int rc = step->args != NULL ? crun_subst_value(step->args, &lk, false, &args, why, sizeof(why))
             : (args = json_object()) != NULL ? CMEK_OK
                                              : CMEK_ERR_NOMEM;
    if (rc == CMEK_OK && step->expect != NULL) {
        rc = crun_expect_subst(step->expect, &lk, &expect, why, sizeof(why));
    }
    if (rc) {
        if (rc == CMEK_ERR_NOMEM) {
            goto done;
        }
        rc = cmek_buf_appendf(&run->reason, "building the input: %s", why);
        goto done;
    }
    struct cmek_client *client = NULL;
    rc = step->vault != NULL ? s_vault_client(run, step, &step_client)
                             : s_client_for(run, step->as, &client);
    client = step->vault != NULL ? step_client : client;
    if (rc) {
        rc = rc == CMEK_ERR_NOMEM ? rc : CMEK_OK;
        goto done;
    }
    int64_t start = s_now_ms();
    int64_t interval = step->wait.interval_ms;
    for (;;) {
        struct cmek_api_error err;
        memset(&err, 0, sizeof(err));
        json_decref(output);
        output = NULL;
        int call_rc = cmek_client_call(client, step->op, args, &output, &err);
        *calls += 1;
        bool holds = false;
        cmek_buf_reset(&run->reason);
        rc = crun_expect_check(expect, call_rc, output, &err, &holds, &run->reason);
        if (rc) {
            goto done;
        }
        if (holds) {
            break;
        }
        if (!step->has_wait) {
            goto done;
        }
        int64_t elapsed = s_now_ms() - start;
        int64_t timeout_ms = step->wait.timeout_ms;
        if (run->opt->max_wait_ms > 0 && run->opt->max_wait_ms < timeout_ms) {
            timeout_ms = run->opt->max_wait_ms;
        }
        if (elapsed + interval > timeout_ms || s_interrupted(run->opt)) {
            struct cmek_buf last;
            cmek_buf_init(&last, CRUN_REASON_MAX_BYTES);
            rc = cmek_buf_append(&last, run->reason.data, run->reason.len);
            cmek_buf_reset(&run->reason);
            if (rc == CMEK_OK) {
                rc = cmek_buf_appendf(&run->reason, "%s after %lld ms (%u calls); the last: %s",
                                      s_interrupted(run->opt) ? "interrupted" : "timed out",
                                      (long long)elapsed, *calls, cmek_buf_cstr(&last));
            }
            cmek_buf_clean_up(&last);
            goto done;
        }
        s_sleep_ms(run->opt, interval);
        interval = crun_wait_next_interval(&step->wait, interval);
    }
    cmek_buf_reset(&run->reason);
    bool saved = false;
    rc = s_save(run, step, output, &saved);
    if (rc == CMEK_OK && saved) {
        *status = CRUN_PASS;
    }
done:
    cmek_client_destroy(step_client);
    json_decref(args);
    json_decref(expect);
    json_decref(output);
    return rc == CMEK_ERR_LIMIT ? CMEK_OK : rc; /* a reason past its cap is cut, not fatal */
}

static void s_report(struct s_run *run, const struct crun_step *step, enum crun_status status,
                     int64_t duration_ms, unsigned calls)
{
    struct crun_step_result res = {status, duration_ms, calls, cmek_buf_cstr(&run->reason)};
    s_set_status(run, step, status);
    if (status == CRUN_FAIL) {
        run->failed = true;
        if (!step->cleanup && run->failed_step == NULL) {
            run->failed_step = step;
        }
    }
    run->opt->on_step(run->opt->report_ctx, run->sc, step, &res);
}

static int s_run_list(struct s_run *run, const struct cmek_vec *steps)
{
    for (size_t i = 0; i < steps->len; i++) {
        const struct crun_step *step = steps->items[i];
        cmek_buf_reset(&run->reason);
        bool skip = false;
        int rc = s_skip_reason(run, step, &skip);
        if (rc && rc != CMEK_ERR_LIMIT) {
            return rc;
        }
        if (skip) {
            s_report(run, step, CRUN_SKIP, 0, 0);
            continue;
        }
        int64_t start = s_now_ms();
        enum crun_status status;
        unsigned calls;
        rc = s_call_step(run, step, &status, &calls);
        if (rc) {
            return rc;
        }
        s_report(run, step, status, s_now_ms() - start, calls);
    }
    return CMEK_OK;
}

/* Before a scenario on an emulator target: the emulator back to its world. */
static int s_reset(struct s_run *run, bool *ok)
{
    *ok = false;
    struct cmek_client *client = NULL;
    int rc = s_client_for(run, NULL, &client);
    if (rc) {
        return rc == CMEK_ERR_NOMEM ? rc : CMEK_OK;
    }
    const struct cmek_operation *op = cmek_operation_find("emulator.reset");
    struct cmek_api_error err;
    memset(&err, 0, sizeof(err));
    json_t *output = NULL;
    int call_rc =
        op != NULL ? cmek_client_call(client, op, NULL, &output, &err) : CMEK_ERR_NOT_FOUND;
    json_decref(output);
    if (call_rc == CMEK_OK) {
        *ok = true;
        return CMEK_OK;
    }
    rc = cmek_buf_append_str(&run->reason, "emulator.reset before the scenario failed: ");
    return rc == CMEK_OK ? crun_describe_error(call_rc, &err, &run->reason) : rc;
}

/* A failure before the first step (the reset, the vars): reported as a failed pseudo-step,
 * and every step as skipped with the same cause. */
static int s_fail_before(struct s_run *run, const char *what, int64_t duration_ms)
{
    struct crun_step pseudo;
    memset(&pseudo, 0, sizeof(pseudo));
    pseudo.name = (char *)CRUN_RESET_STEP_NAME;
    pseudo.op_name = what;
    pseudo.op = cmek_operation_find(what);
    pseudo.src = run->sc->sources.items[0];
    pseudo.base = (char *)"";
    struct crun_step_result res = {CRUN_FAIL, duration_ms, 1, cmek_buf_cstr(&run->reason)};
    run->failed = true;
    run->opt->on_step(run->opt->report_ctx, run->sc, &pseudo, &res);
    const struct cmek_vec *lists[] = {&run->sc->steps, &run->sc->cleanup};
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < lists[l]->len; i++) {
            cmek_buf_reset(&run->reason);
            int rc = cmek_buf_appendf(&run->reason, "%s failed", what);
            if (rc) {
                return rc;
            }
            struct crun_step_result skipped = {CRUN_SKIP, 0, 0, cmek_buf_cstr(&run->reason)};
            run->opt->on_step(run->opt->report_ctx, run->sc, lists[l]->items[i], &skipped);
        }
    }
    return CMEK_OK;
}

int crun_exec_scenario(const struct crun_scenario *sc, const struct crun_exec_options *opt,
                       bool *failed)
{
    *failed = false;
    struct s_run run = {.sc = sc, .opt = opt};
    cmek_vec_init(&run.ids);
    cmek_map_init(&run.status);
    cmek_buf_init(&run.reason, CRUN_REASON_MAX_BYTES);
    run.vars = json_object();
    run.saved = json_object();
    int rc = CMEK_ERR_NOMEM;
    if (run.vars == NULL || run.saved == NULL) {
        goto done;
    }
    char why[1024];
    rc = s_resolve_vars(&run, why, sizeof(why));
    if (rc == CMEK_ERR_NOT_FOUND || rc == CMEK_ERR_PARSE || rc == CMEK_ERR_LIMIT ||
        rc == CMEK_ERR_IO) {
        rc = cmek_buf_appendf(&run.reason, "vars: %s", why);
        if (rc == CMEK_OK) {
            rc = s_fail_before(&run, "vars", 0);
        }
        goto done;
    }
    if (rc) {
        goto done;
    }
    if (opt->target->emulator && opt->reset) {
        int64_t start = s_now_ms();
        bool ok = false;
        rc = s_reset(&run, &ok);
        if (rc == CMEK_OK && !ok) {
            rc = s_fail_before(&run, "emulator.reset", s_now_ms() - start);
            goto done;
        }
        if (rc) {
            goto done;
        }
    }
    rc = s_run_list(&run, &sc->steps);
    if (rc == CMEK_OK) {
        rc = s_run_list(&run, &sc->cleanup);
    }
done:
    *failed = run.failed;
    for (size_t i = 0; i < run.ids.len; i++) {
        s_identity_destroy(run.ids.items[i]);
    }
    cmek_vec_clean_up(&run.ids);
    cmek_map_clean_up(&run.status);
    cmek_buf_clean_up(&run.reason);
    json_decref(run.vars);
    json_decref(run.saved);
    return rc;
}
