/* report.c: console, TAP and JUnit renderings of the same results. */
#include "report.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmek/vec.h"
#include "xmlesc.h"

#define CRUN_JUNIT_MAX_BYTES (64 * 1024 * 1024)

struct s_case {
    char *name;   /* owned */
    char *op;     /* owned */
    char *reason; /* owned */
    bool cleanup;
    int line;
    enum crun_status status;
    int64_t duration_ms;
};

struct s_suite {
    char *name;            /* owned */
    char *file;            /* owned */
    struct cmek_vec cases; /* owned struct s_case * */
};

struct crun_report {
    struct crun_report_options opt;
    struct cmek_vec suites; /* owned struct s_suite * */
    unsigned counts[3];
    unsigned tap_number;
    int64_t start_ms;
};

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct {
    const char *word;
    const char *color;
} s_status[] = {
    [CRUN_PASS] = {"PASS", "\033[32m"},
    [CRUN_FAIL] = {"FAIL", "\033[1;31m"},
    [CRUN_SKIP] = {"SKIP", "\033[33m"},
};

int crun_report_new(const struct crun_report_options *opt, struct crun_report **out)
{
    struct crun_report *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return CMEK_ERR_NOMEM;
    }
    r->opt = *opt;
    cmek_vec_init(&r->suites);
    r->start_ms = s_now_ms();
    if (opt->tap) {
        fprintf(opt->out, "TAP version 13\n");
        fflush(opt->out);
    }
    *out = r;
    return CMEK_OK;
}

static void s_case_destroy(struct s_case *c)
{
    if (c == NULL) {
        return;
    }
    free(c->name);
    free(c->op);
    free(c->reason);
    free(c);
}

static void s_suite_destroy(struct s_suite *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < s->cases.len; i++) {
        s_case_destroy(s->cases.items[i]);
    }
    cmek_vec_clean_up(&s->cases);
    free(s->name);
    free(s->file);
    free(s);
}

void crun_report_destroy(struct crun_report *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->suites.len; i++) {
        s_suite_destroy(r->suites.items[i]);
    }
    cmek_vec_clean_up(&r->suites);
    free(r);
}

unsigned crun_report_count(const struct crun_report *r, enum crun_status status)
{
    return r->counts[status];
}

/* The suite crun_report_scenario_begin opened, or a new one. */
static struct s_suite *s_suite_for(struct crun_report *r, const struct crun_scenario *sc,
                                   bool open_new)
{
    if (r->suites.len > 0 && !open_new) {
        return r->suites.items[r->suites.len - 1];
    }
    struct s_suite *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    cmek_vec_init(&s->cases);
    s->name = strdup(sc->name);
    s->file = strdup(sc->path);
    if (s->name == NULL || s->file == NULL || cmek_vec_push(&r->suites, s) != CMEK_OK) {
        s_suite_destroy(s);
        return NULL;
    }
    return s;
}

int crun_report_scenario_begin(struct crun_report *r, const struct crun_scenario *sc)
{
    if (s_suite_for(r, sc, true) == NULL) {
        return CMEK_ERR_NOMEM;
    }
    if (r->opt.tap) {
        fprintf(r->opt.out, "# %s (%s)\n", sc->name, sc->path);
    } else {
        fprintf(r->opt.out, "%s== %s%s (%s) on %s\n", r->opt.color ? "\033[1m" : "", sc->name,
                r->opt.color ? "\033[0m" : "", sc->path, r->opt.target);
    }
    fflush(r->opt.out);
    return CMEK_OK;
}

/* Each line of text, indented. */
static void s_print_indented(FILE *out, const char *indent, const char *text)
{
    while (*text != '\0') {
        const char *nl = strchr(text, '\n');
        size_t n = nl != NULL ? (size_t)(nl - text) : strlen(text);
        fprintf(out, "%s%.*s\n", indent, (int)n, text);
        text += n + (nl != NULL);
    }
}

/* A TAP description or directive: no newlines, '#' and '\' escaped. */
static void s_tap_text(FILE *out, const char *text)
{
    for (; *text != '\0'; text++) {
        if (*text == '#' || *text == '\\') {
            fputc('\\', out);
        }
        fputc(*text == '\n' || *text == '\r' ? ' ' : *text, out);
    }
}

static void s_print_tap(struct crun_report *r, const struct s_suite *suite, const struct s_case *c)
{
    FILE *out = r->opt.out;
    r->tap_number++;
    fprintf(out, "%s %u - ", c->status == CRUN_FAIL ? "not ok" : "ok", r->tap_number);
    s_tap_text(out, suite->name);
    fputs(" / ", out);
    s_tap_text(out, c->name);
    if (c->cleanup) {
        fputs(" [cleanup]", out);
    }
    if (c->status == CRUN_SKIP) {
        fputs(" # SKIP ", out);
        s_tap_text(out, c->reason);
    }
    fputc('\n', out);
    if (c->status == CRUN_FAIL) {
        /* a JSON string is a valid YAML double-quoted scalar */
        json_t *msg = json_string(c->reason);
        char *quoted = msg != NULL ? json_dumps(msg, JSON_ENCODE_ANY) : NULL;
        fprintf(out, "  ---\n  message: %s\n  op: %s\n  duration_ms: %lld\n  ...\n",
                quoted != NULL ? quoted : "\"?\"", c->op, (long long)c->duration_ms);
        free(quoted);
        json_decref(msg);
    }
}

static void s_print_console(struct crun_report *r, const struct s_suite *suite,
                            const struct s_case *c)
{
    FILE *out = r->opt.out;
    bool color = r->opt.color;
    fprintf(out, "%s%s%s  %s / %s%s  %s", color ? s_status[c->status].color : "",
            s_status[c->status].word, color ? "\033[0m" : "", suite->name, c->name,
            c->cleanup ? " [cleanup]" : "", c->op);
    if (c->status != CRUN_SKIP) {
        fprintf(out, "  %lld ms", (long long)c->duration_ms);
    }
    fputc('\n', out);
    if (c->reason[0] != '\0') {
        s_print_indented(out, "      ", c->reason);
    }
}

int crun_report_step(struct crun_report *r, const struct crun_scenario *sc,
                     const struct crun_step *step, const struct crun_step_result *res)
{
    struct s_suite *suite = s_suite_for(r, sc, false);
    struct s_case *c = calloc(1, sizeof(*c));
    if (suite == NULL || c == NULL) {
        free(c);
        return CMEK_ERR_NOMEM;
    }
    c->name = strdup(step->name);
    c->op = strdup(step->op_name != NULL ? step->op_name : "");
    c->reason = strdup(res->reason != NULL ? res->reason : "");
    c->cleanup = step->cleanup;
    c->status = res->status;
    c->duration_ms = res->duration_ms;
    c->line = step->base[0] != '\0' ? crun_step_pos(step).line : 0;
    if (c->name == NULL || c->op == NULL || c->reason == NULL ||
        cmek_vec_push(&suite->cases, c) != CMEK_OK) {
        s_case_destroy(c);
        return CMEK_ERR_NOMEM;
    }
    r->counts[res->status]++;
    if (r->opt.tap) {
        s_print_tap(r, suite, c);
    } else {
        s_print_console(r, suite, c);
    }
    fflush(r->opt.out);
    return CMEK_OK;
}

/* name="escaped value" */
static int s_attr(struct cmek_buf *x, const char *name, const char *value)
{
    int rc = cmek_buf_appendf(x, " %s=\"", name);
    if (rc == CMEK_OK) {
        rc = crun_xml_escape(x, value);
    }
    return rc == CMEK_OK ? cmek_buf_append_byte(x, '"') : rc;
}

static void s_tally(const struct s_suite *s, unsigned counts[3], int64_t *ms)
{
    for (size_t i = 0; i < s->cases.len; i++) {
        const struct s_case *c = s->cases.items[i];
        counts[c->status]++;
        *ms += c->duration_ms;
    }
}

static int s_junit_case(struct cmek_buf *x, const struct s_suite *s, const struct s_case *c)
{
    struct cmek_buf classname;
    cmek_buf_init(&classname, 4096);
    int rc = cmek_buf_appendf(&classname, "%s%s", s->name, c->cleanup ? ".cleanup" : "");
    if (rc == CMEK_OK) {
        rc = cmek_buf_append_str(x, "    <testcase");
    }
    if (rc == CMEK_OK) {
        rc = s_attr(x, "name", c->name);
    }
    if (rc == CMEK_OK) {
        rc = s_attr(x, "classname", cmek_buf_cstr(&classname));
    }
    if (rc == CMEK_OK) {
        rc = cmek_buf_appendf(x, " time=\"%lld.%03lld\"", (long long)(c->duration_ms / 1000),
                              (long long)(c->duration_ms % 1000));
    }
    if (rc == CMEK_OK) {
        rc = s_attr(x, "file", s->file);
    }
    if (rc == CMEK_OK && c->line > 0) {
        rc = cmek_buf_appendf(x, " line=\"%d\"", c->line);
    }
    if (rc == CMEK_OK && c->status == CRUN_PASS) {
        rc = cmek_buf_append_str(x, "/>\n");
    } else if (rc == CMEK_OK && c->status == CRUN_SKIP) {
        rc = cmek_buf_append_str(x, ">\n      <skipped");
        if (rc == CMEK_OK) {
            rc = s_attr(x, "message", c->reason);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_str(x, "/>\n    </testcase>\n");
        }
    } else if (rc == CMEK_OK) {
        rc = cmek_buf_append_str(x, ">\n      <failure");
        if (rc == CMEK_OK) {
            rc = s_attr(x, "message", c->reason);
        }
        if (rc == CMEK_OK) {
            rc = s_attr(x, "type", c->op);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_byte(x, '>');
        }
        if (rc == CMEK_OK) {
            rc = crun_xml_escape(x, c->reason);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_str(x, "</failure>\n    </testcase>\n");
        }
    }
    cmek_buf_clean_up(&classname);
    return rc;
}

static int s_junit_render(const struct crun_report *r, struct cmek_buf *x)
{
    unsigned all[3] = {0, 0, 0};
    int64_t all_ms = 0;
    for (size_t i = 0; i < r->suites.len; i++) {
        s_tally(r->suites.items[i], all, &all_ms);
    }
    int rc = cmek_buf_appendf(x,
                              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                              "<testsuites name=\"cmek-run\" tests=\"%u\" failures=\"%u\" "
                              "errors=\"0\" skipped=\"%u\" time=\"%lld.%03lld\">\n",
                              all[0] + all[1] + all[2], all[CRUN_FAIL], all[CRUN_SKIP],
                              (long long)(all_ms / 1000), (long long)(all_ms % 1000));
    for (size_t i = 0; rc == CMEK_OK && i < r->suites.len; i++) {
        const struct s_suite *s = r->suites.items[i];
        unsigned n[3] = {0, 0, 0};
        int64_t ms = 0;
        s_tally(s, n, &ms);
        rc = cmek_buf_append_str(x, "  <testsuite");
        if (rc == CMEK_OK) {
            rc = s_attr(x, "name", s->name);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_appendf(x,
                                  " tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"%u\" "
                                  "time=\"%lld.%03lld\"",
                                  n[0] + n[1] + n[2], n[CRUN_FAIL], n[CRUN_SKIP],
                                  (long long)(ms / 1000), (long long)(ms % 1000));
        }
        if (rc == CMEK_OK) {
            rc = s_attr(x, "file", s->file);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_str(x, ">\n    <properties>\n      <property name=\"target\"");
        }
        if (rc == CMEK_OK) {
            rc = s_attr(x, "value", r->opt.target);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_str(x, "/>\n    </properties>\n");
        }
        for (size_t j = 0; rc == CMEK_OK && j < s->cases.len; j++) {
            rc = s_junit_case(x, s, s->cases.items[j]);
        }
        if (rc == CMEK_OK) {
            rc = cmek_buf_append_str(x, "  </testsuite>\n");
        }
    }
    return rc == CMEK_OK ? cmek_buf_append_str(x, "</testsuites>\n") : rc;
}

int crun_report_finish(struct crun_report *r, char *why, size_t why_len)
{
    FILE *out = r->opt.out;
    unsigned total = r->counts[0] + r->counts[1] + r->counts[2];
    int64_t ms = s_now_ms() - r->start_ms;
    if (r->opt.tap) {
        fprintf(out, "1..%u\n# %u passed, %u failed, %u skipped\n", total, r->counts[CRUN_PASS],
                r->counts[CRUN_FAIL], r->counts[CRUN_SKIP]);
    } else {
        bool failed = r->counts[CRUN_FAIL] > 0;
        fprintf(out,
                "%s%s%s: %zu scenario%s, %u step%s: %u passed, %u failed, %u skipped (%lld ms)\n",
                r->opt.color ? (failed ? "\033[1;31m" : "\033[32m") : "", failed ? "FAILED" : "OK",
                r->opt.color ? "\033[0m" : "", r->suites.len, r->suites.len == 1 ? "" : "s", total,
                total == 1 ? "" : "s", r->counts[CRUN_PASS], r->counts[CRUN_FAIL],
                r->counts[CRUN_SKIP], (long long)ms);
    }
    fflush(out);
    if (r->opt.junit_path == NULL) {
        return CMEK_OK;
    }
    struct cmek_buf x;
    cmek_buf_init(&x, CRUN_JUNIT_MAX_BYTES);
    int rc = s_junit_render(r, &x);
    FILE *f = NULL;
    if (rc) {
        snprintf(why, why_len, "cannot render the JUnit report: %s", cmek_error_str(rc));
        goto done;
    }
    f = fopen(r->opt.junit_path, "wb");
    if (f == NULL || fwrite(x.data, 1, x.len, f) != x.len) {
        snprintf(why, why_len, "cannot write %s: %s", r->opt.junit_path, strerror(errno));
        rc = CMEK_ERR_IO;
        goto done;
    }
    if (fclose(f) != 0) {
        f = NULL;
        snprintf(why, why_len, "cannot write %s: %s", r->opt.junit_path, strerror(errno));
        rc = CMEK_ERR_IO;
        goto done;
    }
    f = NULL;
done:
    if (f != NULL) {
        fclose(f);
    }
    cmek_buf_clean_up(&x);
    return rc;
}
