/* policy.h: the one IAM policy engine every emulated AWS service uses.
 *
 * Follows the IAM User Guide: "Policy evaluation logic", "IAM JSON policy elements
 * reference" (Version, Statement, Sid, Effect, Principal/NotPrincipal, Action/NotAction,
 * Resource/NotResource, Condition) and "Cross-account policy evaluation logic", plus the
 * KMS developer guide's key-policy rules (a key policy, like a role trust policy, must
 * explicitly allow; naming the account root delegates to IAM).
 *
 * A parsed policy is immutable and may be read from any thread. Principals that name IAM
 * users and roles are bound, at parse time, to the unique id of the entity they name then
 * (AIDA..., AROA...): after that role is deleted and one of the same name created, the
 * statement no longer matches it, as in AWS. */
#ifndef EMU_POLICY_H
#define EMU_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cmek/buf.h"
#include "cmek/error.h"

#define EMU_UNIQUE_ID_MAX    64
#define EMU_POLICY_MAX_BYTES (128u * 1024u) /* IAM's policy document cap is 131072 chars */

enum emu_policy_kind {
    EMU_POLICY_IDENTITY, /* inline or managed identity policy: no Principal allowed */
    EMU_POLICY_TRUST,    /* role trust policy: Principal required, no Resource allowed */
    EMU_POLICY_RESOURCE, /* resource policy (KMS key policy): Principal required; a statement
                          * without Action or Resource is accepted and never matches */
    EMU_POLICY_MANAGED,  /* managed identity policy (CreatePolicy, CreatePolicyVersion): as
                          * IDENTITY, and Version must be "2012-10-17" */
};

/* Tells whether an IAM principal named in a policy exists, and its unique id. The engine
 * asks about: "arn:aws:iam::A:root" (for both "A" and the root ARN), user and role ARNs as
 * written, assumed-role session ARNs as written (answer for the role the ARN names: it
 * carries the role name without its path), and bare unique ids (AIDA..., AROA...; answer
 * CMEK_ERR_NOT_FOUND unless an entity has that id, which is how IAM and KMS reject a stale
 * id in a new document). */
struct emu_principal_resolver {
    /* CMEK_OK and unique_id filled when arn names an existing user or role (or an account
     * root that exists); CMEK_ERR_NOT_FOUND when it does not; any other error is passed on
     * by parse and render. */
    int (*resolve)(void *ctx, const char *arn, char unique_id[EMU_UNIQUE_ID_MAX]);
    void *ctx;
};

/* Why a policy was rejected, in the words IAM/KMS use for MalformedPolicyDocument. */
struct emu_policy_error {
    bool invalid_principal; /* the specific failure "a principal does not exist" */
    char message[512];
};

struct emu_policy; /* opaque */

/* Parses and validates text. With a resolver, every user/role principal must exist and is
 * bound to its unique id; without one, nothing is bound (used for the world file's trusted
 * built-in policies). On CMEK_ERR_PARSE err->message is IAM's or KMS's MalformedPolicyDocument
 * text for kind (err->invalid_principal set for a principal that is malformed or does not
 * exist). Text over EMU_POLICY_MAX_BYTES gives CMEK_ERR_LIMIT (a LimitExceeded case; each
 * service checks its own smaller quota first). err may be NULL. */
CMEK_WUR int emu_policy_parse(const char *text, size_t len, enum emu_policy_kind kind,
                              const struct emu_principal_resolver *resolver,
                              struct emu_policy **out, struct emu_policy_error *err);
/* Serialized form: {"document": "<text as given>", "bindings": {"<arn>": "<unique id>"}}. */
CMEK_WUR json_t *emu_policy_to_json(const struct emu_policy *policy);
CMEK_WUR int emu_policy_from_json(const json_t *stored, enum emu_policy_kind kind,
                                  struct emu_policy **out);
/* NULL-safe. */
void emu_policy_destroy(struct emu_policy *policy);
/* The document exactly as it was given. Borrowed from policy. */
const char *emu_policy_text(const struct emu_policy *policy);
/* Appends to out the document as AWS shows it now: a bound principal whose entity was
 * deleted (or replaced by a namesake with another unique id) shows as its bare unique id.
 * The rest of the text is kept byte for byte. With a NULL resolver, the text as given. */
CMEK_WUR int emu_policy_render(const struct emu_policy *policy,
                               const struct emu_principal_resolver *resolver, struct cmek_buf *out);

/* ---- Evaluation ---- */

enum emu_principal_type {
    EMU_PRINCIPAL_ROOT,
    EMU_PRINCIPAL_USER,
    EMU_PRINCIPAL_ROLE_SESSION,
};

/* Who makes the request. All strings borrowed.
 *   arn:       arn:aws:iam::A:root | arn:aws:iam::A:user/path/N | arn:aws:sts::A:assumed-role/R/S
 *   unique_id: AIDA... (user), AROA... (the role, for a session), the account id for root */
struct emu_principal {
    enum emu_principal_type type;
    const char *account;      /* 12 digits */
    const char *arn;          /* as above; what AccessDenied messages name */
    const char *entity_arn;   /* user ARN or role ARN (with path); the root ARN for root */
    const char *unique_id;    /* as above */
    const char *session_name; /* role sessions only, else NULL */
};

/* One request-context key with its values (multi-valued keys have n_values > 1). */
struct emu_condition_entry {
    const char *key; /* e.g. "sts:ExternalId"; compared case-insensitively */
    const char *const *values;
    size_t n_values;
};

struct emu_eval_request {
    const struct emu_principal *principal;
    const char *action;   /* "service:Operation", e.g. "kms:Decrypt" */
    const char *resource; /* full ARN of the resource acted on, or "*" */
    /* Service-specific keys (and any global key the caller knows better). */
    const struct emu_condition_entry *conditions;
    size_t n_conditions;
    time_t now; /* emulator clock; the engine derives aws:CurrentTime and aws:EpochTime */
};
/* The engine itself adds the global keys it can derive from principal:
 * aws:PrincipalArn (the role ARN for sessions), aws:PrincipalAccount, aws:PrincipalType,
 * aws:userid, aws:username (users), aws:CurrentTime, aws:EpochTime. A caller entry with the
 * same key wins. */

/* The outcome of one policy for one request. */
struct emu_policy_eval {
    bool deny;         /* a matching Deny statement */
    bool allow;        /* a matching Allow statement */
    bool allow_direct; /* (resource/trust policies) an Allow naming the principal itself,
                        * its role, its session or "*", not only its account */
};

void emu_policy_evaluate(const struct emu_policy *policy, const struct emu_eval_request *req,
                         struct emu_policy_eval *out);

enum emu_authz_outcome {
    EMU_AUTHZ_ALLOW = 0,
    EMU_AUTHZ_DENY_EXPLICIT_IDENTITY, /* "with an explicit deny in an identity-based policy" */
    EMU_AUTHZ_DENY_EXPLICIT_RESOURCE, /* "with an explicit deny in a <resource type> policy" */
    EMU_AUTHZ_DENY_NO_IDENTITY_ALLOW, /* "because no identity-based policy allows the X action" */
    EMU_AUTHZ_DENY_NO_RESOURCE_ALLOW, /* "because no <resource type> policy allows the X action" */
};

struct emu_authz_input {
    const struct emu_eval_request *req;
    const struct emu_policy *const *identity; /* the caller's identity policies */
    size_t n_identity;
    const struct emu_policy *resource; /* key or trust policy; NULL when there is none */
    const char *resource_account;      /* account owning the resource */
    bool resource_policy_required;     /* KMS keys, role trust: the resource policy must allow */
};

/* AWS's rules: explicit Deny anywhere wins; same account: a resource-policy Allow naming
 * the principal suffices, one naming only the account (or no resource policy, where not
 * required) needs an identity-policy Allow too; cross-account: both always. A root
 * principal has an implicit identity Allow for everything in its own account. */
enum emu_authz_outcome emu_authorize(const struct emu_authz_input *in);

/* AWS's AccessDenied text for outcome (appended to out; CMEK_ERR_INVALID_ARG for ALLOW), e.g.
 * "User: arn:aws:sts::1:assumed-role/R/S is not authorized to perform: kms:Decrypt on resource:
 * arn:aws:kms:... because no resource-based policy allows the kms:Decrypt action".
 * resource_policy_type is "resource-based" (KMS) or "role trust" (STS); an explicit deny reads
 * "with an explicit deny in a resource-based policy" but "... in the role trust policy", as the IAM
 * guide words it. */
CMEK_WUR int emu_authz_message(enum emu_authz_outcome outcome, const struct emu_eval_request *req,
                               const char *resource_policy_type, struct cmek_buf *out);

/* Glob match: '*' any run of characters (also '/' and ':'), '?' exactly one. Exposed for
 * table tests and for the IAM service's own wildcard needs. */
bool emu_policy_wildcard_match(const char *pattern, const char *value, bool ignore_case);

#endif
