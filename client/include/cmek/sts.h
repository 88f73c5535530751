/* cmek/sts.h: AWS STS (Query protocol, API version 2011-06-15, signed for the target's
 * region). Input: the action's parameters; output: <ActionResult> as JSON, e.g.
 * {"Credentials":{"AccessKeyId":...,"SecretAccessKey":...,"SessionToken":...,
 * "Expiration":...},"AssumedRoleUser":{"Arn":...,"AssumedRoleId":...}}. */
#ifndef CMEK_STS_H
#define CMEK_STS_H

#include "cmek/client.h"

/* X(name, AWS action, idempotent) */
#define CMEK_STS_OPERATIONS(X)                                                                     \
    X(assume_role, "AssumeRole", true)                                                             \
    X(get_caller_identity, "GetCallerIdentity", true)

#define CMEK_STS_DECLARE(name, wire, idem) CMEK_DECLARE_OPERATION_CALL(sts, name)
CMEK_STS_OPERATIONS(CMEK_STS_DECLARE)
#undef CMEK_STS_DECLARE

/* The credentials of an AssumeRole output as an identity to act as (owned copies). out must
 * be zeroed or hold credentials it owns: they are freed and replaced on success, untouched
 * on failure. CMEK_ERR_PARSE when the output has no complete Credentials member. */
CMEK_WUR int cmek_sts_session_credentials(const json_t *assume_role_output,
                                          struct cmek_aws_credentials *out);

#endif
