/* svc_query.h: what IAM and STS share as Query-protocol services: the per-call context, the
 * operation table type, AWS's validation-error wording, and the dispatcher that runs
 * authenticate -> look up the action -> operation -> render. */
#ifndef EMU_SVC_QUERY_H
#define EMU_SVC_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "aws_auth.h"
#include "proto_query.h"

struct emu_app;

struct emu_query_call {
    struct emu_app *app;
    const struct emu_caller *caller;
    const struct emu_query_params *params;
    const char *action;
    time_t now;                  /* emulator clock */
    struct cmek_buf *out;        /* the <XResult> inner XML */
    bool has_result;             /* false: render only ResponseMetadata */
    struct emu_query_error *err; /* set when an operation fails */
    /* AWS reports every validation failure of a request at once. */
    char validation[768];
    int n_validation;
};

struct emu_query_op {
    const char *action;
    int (*fn)(struct emu_query_call *call); /* CMEK_OK, or non-zero with call->err set */
};

struct emu_query_service {
    const char *name; /* "iam": the SigV4 service and the policy action prefix */
    const char *xmlns;
    const char *version; /* the API version the Version parameter must carry */
    const struct emu_query_op *ops;
    size_t n_ops;
};

void emu_query_service_handle(const struct emu_query_service *svc, struct emu_app *app,
                              const struct emu_request *req, struct emu_response *resp);
void emu_query_service_render_error(const struct emu_query_service *svc,
                                    const struct emu_request *req, struct emu_response *resp,
                                    int status, const char *code, const char *message);

/* ---- Validation, in AWS's words ---- */
/* Records "Value null at 'member' failed to satisfy constraint: Member must not be null". */
void emu_query_invalid_null(struct emu_query_call *call, const char *member);
/* Records "Value 'v' at 'member' failed to satisfy constraint: <constraint>"; the value is
 * left out when sensitive. */
void emu_query_invalid(struct emu_query_call *call, const char *member, const char *value,
                       bool sensitive, const char *constraint);
/* The required parameter, or NULL after recording the null violation. */
const char *emu_query_required(struct emu_query_call *call, const char *param, const char *member);
/* Checks length and pattern of a string parameter value; records violations. pattern is
 * the model's regular expression text; allowed() decides each character. */
void emu_query_check_string(struct emu_query_call *call, const char *member, const char *value,
                            size_t min_len, size_t max_len, const char *pattern,
                            bool (*allowed)(char c));
/* Parses an integer parameter with range; records violations; *out untouched if absent. */
void emu_query_check_int(struct emu_query_call *call, const char *param, const char *member,
                         long long min, long long max, long long *out);
/* CMEK_OK when nothing was recorded, else sets the ValidationError and returns non-zero. */
int emu_query_validation_result(struct emu_query_call *call);

/* Character classes of the IAM/STS models' patterns. */
bool emu_query_char_w_plus(char c);    /* [\w+=,.@-] */
bool emu_query_char_printable(char c); /* [\u0021-\u007E] */

/* Sets call->err and returns non-zero. */
int emu_query_fail(struct emu_query_call *call, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Authorizes the caller for an identity-policy-only action (IAM). */
int emu_query_authorize(struct emu_query_call *call, const char *action, const char *resource,
                        const char *resource_account);

#endif
