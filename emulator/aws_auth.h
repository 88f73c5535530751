/* aws_auth.h: who is calling an emulated AWS service, proven by SigV4.
 *
 * Order of checks (aws.md 3.2): signature present and well formed -> credential scoped to
 * this service -> request time within the window (real wall clock: clients sign with it)
 * -> access key known -> session token matches and has not expired (emulator clock) ->
 * signature recomputed and compared in constant time. Each failure maps, in one table, to
 * the service protocol's own error: the Query services' (STS, IAM) 403 codes, or KMS's
 * JSON 400 exceptions. */
#ifndef EMU_AWS_AUTH_H
#define EMU_AWS_AUTH_H

#include <stdbool.h>

#include "cmek/vec.h"
#include "http.h"
#include "policy.h"

struct emu_app;
struct emu_iam_identity;
struct emu_sts_session;

enum emu_aws_protocol {
    EMU_AWS_QUERY, /* STS, IAM */
    EMU_AWS_JSON,  /* KMS */
};

/* An authenticated caller. Pointers into the store are valid while its lock is held. */
struct emu_caller {
    struct emu_principal principal; /* strings point into the fields below or the store */
    char arn[512];
    char region[64];
    char access_key_id[129];
    const struct emu_iam_identity *identity; /* the user, or the session's role (NULL if the
                                              * role is gone or was replaced) */
    const struct emu_sts_session *session;   /* role sessions only */
};

struct emu_aws_error {
    int status;
    const char *code; /* static */
    char message[1024];
};

/* Authenticates req for service ("iam", "sts", "kms"). Lock held. */
CMEK_WUR int emu_aws_authenticate(const struct emu_app *app, const struct emu_request *req,
                                  const char *service, enum emu_aws_protocol proto,
                                  struct emu_caller *caller, struct emu_aws_error *err);

/* The identity policies of caller (borrowed from the store; a session's role's current
 * policies). Lock held. */
CMEK_WUR int emu_aws_caller_policies(const struct emu_app *app, const struct emu_caller *caller,
                                     struct cmek_vec *out);

/* Authorizes caller for action on resource with the policy engine: identity policies (and
 * the session policy of a session) plus an optional resource policy. Fills err with
 * AccessDenied (Query: 403 "AccessDenied"; JSON: 400 "AccessDeniedException") and returns
 * false when denied. resource_policy_type names the resource policy in the message. */
CMEK_WUR bool emu_aws_authorize(const struct emu_app *app, const struct emu_caller *caller,
                                enum emu_aws_protocol proto, const char *action,
                                const char *resource, const struct emu_policy *resource_policy,
                                const char *resource_account, bool resource_policy_required,
                                const char *resource_policy_type,
                                const struct emu_condition_entry *conditions, size_t n_conditions,
                                struct emu_aws_error *err);

#endif
