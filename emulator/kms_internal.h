/* kms_internal.h: what the files of the emulated KMS share (svc_kms.c dispatch and protocol,
 * kms_keys.c key lifecycle, aliases, tags, policies, rotation and replication, kms_import.c
 * import, kms_ops_crypto.c the cryptographic operations). Not used outside KMS.
 * Files: kms_keys.c (key lifecycle, policies, tags), kms_aliases.c (aliases),
 * kms_rotation.c (rotation, multi-Region replication), kms_import.c (imported material),
 * kms_ops_crypto.c (Encrypt, Decrypt, ReEncrypt, GenerateDataKey*, GenerateRandom).
 *
 * An operation: validate its members (AWS's "N validation errors detected" text) ->
 * resolve the key (emu_kms_resolve) -> authorize (emu_kms_authorize) -> check the key state
 * (emu_kms_check_state) -> change state -> fill call->out. It returns CMEK_OK, or non-zero
 * after emu_kms_fail() set the wire error (an internal failure without one becomes 500
 * KMSInternalException). */
#ifndef EMU_KMS_INTERNAL_H
#define EMU_KMS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "aws_auth.h"
#include "cmek/buf.h"
#include "kms_model.h"

struct emu_app;

struct emu_kms_call {
    struct emu_app *app;
    struct emu_kms *kms;
    const struct emu_caller *caller;
    const char *operation; /* "Encrypt" */
    const char *region;    /* the credential scope's region: the key partition */
    const json_t *in;      /* the request object (borrowed) */
    json_t *out;           /* the response object (owned by the dispatcher; starts empty) */
    bool empty_response;   /* operations with no output: an empty body, as AWS sends */
    time_t now;            /* emulator clock */
    /* Set by an operation before emu_kms_authorize when its request carries an encryption
     * context, so kms:EncryptionContext:<key> and kms:EncryptionContextKeys are in the
     * request context of key-policy conditions. */
    const json_t *auth_context;
    /* Operation-specific condition keys (kms:ScheduleKeyDeletionPendingWindowInDays,
     * kms:BypassPolicyLockoutSafetyCheck, kms:RotationPeriodInDays), added with
     * emu_kms_add_condition before authorizing. */
    struct emu_condition_entry extra[4];
    const char *extra_values[4];
    char extra_storage[4][32];
    size_t n_extra;
    /* The error, when an operation fails. */
    int status;
    const char *type;
    bool has_message;
    char message[1024];
    /* Validation violations, reported together. */
    char validation[1024];
    int n_validation;
};

struct emu_kms_op {
    const char *name; /* the X-Amz-Target suffix */
    int (*fn)(struct emu_kms_call *call);
};

/* Operation tables of each file (the dispatcher searches them all). */
extern const struct emu_kms_op emu_kms_key_ops[];
extern const size_t emu_kms_key_ops_len;
extern const struct emu_kms_op emu_kms_alias_ops[];
extern const size_t emu_kms_alias_ops_len;
extern const struct emu_kms_op emu_kms_rotation_ops[];
extern const size_t emu_kms_rotation_ops_len;
extern const struct emu_kms_op emu_kms_import_ops[];
extern const size_t emu_kms_import_ops_len;
extern const struct emu_kms_op emu_kms_crypto_ops[];
extern const size_t emu_kms_crypto_ops_len;

/* ---- Errors ---- */
/* Sets a 400 error of type with a message; returns non-zero. */
int emu_kms_fail(struct emu_kms_call *call, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same without a message member (InvalidCiphertextException and the like). */
int emu_kms_fail_bare(struct emu_kms_call *call, const char *type);

/* ---- Members, validated as AWS does (member names in lowerCamelCase in messages) ---- */
/* A string member; NULL when absent (a violation is recorded if required) or invalid. */
const char *emu_kms_str(struct emu_kms_call *call, const char *member, bool required,
                        size_t min_len, size_t max_len);
/* An enum member; NULL when absent or not in allowed (violation: "Member must satisfy enum
 * value set: [A, B]"). */
const char *emu_kms_enum(struct emu_kms_call *call, const char *member, bool required,
                         const char *const *allowed, size_t n_allowed);
/* An integer member in [min, max]; returns dflt when absent; *present says which. */
long long emu_kms_int(struct emu_kms_call *call, const char *member, long long min, long long max,
                      long long dflt, bool *present);
/* A boolean member; dflt when absent. */
bool emu_kms_bool(struct emu_kms_call *call, const char *member, bool dflt);
/* A base64 blob member decoded into out, length-checked on the decoded bytes (values are
 * left out of messages: blobs are sensitive). Returns true when present and valid. */
bool emu_kms_blob(struct emu_kms_call *call, const char *member, bool required, size_t min_len,
                  size_t max_len, struct cmek_buf *out);
/* A map<string,string> member (EncryptionContext); NULL when absent; violation for other
 * shapes. */
const json_t *emu_kms_string_map(struct emu_kms_call *call, const char *member);
/* Records a violation in AWS's words. value NULL: a sensitive or null value. */
void emu_kms_invalid(struct emu_kms_call *call, const char *member, const char *value,
                     const char *constraint);
/* Records "Value null at '<path>' failed to satisfy constraint: Member must not be null";
 * path is a member name or a nested path such as "tags.1.member.tagKey". */
void emu_kms_invalid_null(struct emu_kms_call *call, const char *path);
/* A member of the wrong JSON type: SerializationException "Member X must be <want>" (the
 * first one wins). */
void emu_kms_wrong_type(struct emu_kms_call *call, const char *member, const char *want);
/* CMEK_OK when no violation was recorded; else the ValidationException. */
int emu_kms_validation_result(struct emu_kms_call *call);

/* ---- Keys ---- */
enum {
    EMU_KMS_ID_KEY = 1,       /* 1234abcd-... or mrk-... */
    EMU_KMS_ID_ARN = 2,       /* arn:aws:kms:region:account:key/... */
    EMU_KMS_ID_ALIAS = 4,     /* alias/name */
    EMU_KMS_ID_ALIAS_ARN = 8, /* arn:aws:kms:region:account:alias/name */
    EMU_KMS_ID_ANY = 15,
};
/* Finds the key named by id in any of the allowed forms. A bare id or alias means the
 * caller's account and the request's region; another account's key needs an ARN. Failures:
 * NotFoundException with AWS's texts ("Key '<arn>' does not exist", "Invalid keyId '<x>'",
 * "Alias <arn> is not found.", "Invalid arn <region>"), or a ValidationException for a form
 * the operation does not take. */
int emu_kms_resolve(struct emu_kms_call *call, const char *id, unsigned forms,
                    struct emu_kms_key **out);
/* Authorizes the caller for kms:<action> on key: key policy (required) plus identity
 * policies, by the same- and cross-account rules; only the operations AWS allows across
 * accounts pass cross-account. AccessDeniedException otherwise. */
int emu_kms_authorize(struct emu_kms_call *call, const struct emu_kms_key *key, const char *action);
/* Puts key = value (copied, at most 31 bytes) in the request context of the next
 * authorization; at most 4. */
void emu_kms_add_condition(struct emu_kms_call *call, const char *key, const char *value);
/* IAM-only actions with resource "*" (CreateKey, ListKeys, ListAliases, GenerateRandom). */
int emu_kms_authorize_account(struct emu_kms_call *call, const char *action);

/* The operation classes of the key-state table (aws.md 2.2). */
enum emu_kms_op_class {
    EMU_KMS_OPS_CRYPTO,    /* Encrypt, Decrypt, GenerateDataKey*, ReEncrypt */
    EMU_KMS_OPS_ENABLE,    /* EnableKey, DisableKey */
    EMU_KMS_OPS_ROTATION,  /* Enable/DisableKeyRotation, RotateKeyOnDemand */
    EMU_KMS_OPS_SCHEDULE,  /* ScheduleKeyDeletion */
    EMU_KMS_OPS_CANCEL,    /* CancelKeyDeletion */
    EMU_KMS_OPS_TAG,       /* Tag/UntagResource, UpdateKeyDescription, CreateAlias */
    EMU_KMS_OPS_REPLICATE, /* ReplicateKey */
    EMU_KMS_OPS_IMPORT,    /* GetParametersForImport, ImportKeyMaterial */
    EMU_KMS_OPS_ANY,       /* DescribeKey, policies, lists: every state */
};
/* Fails with the table's exception and text when key's state forbids the class. */
int emu_kms_check_state(struct emu_kms_call *call, const struct emu_kms_key *key,
                        enum emu_kms_op_class op_class);

/* KeyMetadata as AWS shapes it for this key (new reference). */
json_t *emu_kms_key_metadata(const struct emu_kms_call *call, const struct emu_kms_key *key);
/* AWS's default key policy for account, pretty-printed exactly as AWS returns it. */
const char *emu_kms_default_policy_text(const char *account, struct cmek_buf *out);
/* Parses a key policy (RESOURCE kind, principals bound) and, unless bypass, applies the
 * lockout safety check for the caller; MalformedPolicyDocumentException /
 * LimitExceededException on failure. */
int emu_kms_parse_key_policy(struct emu_kms_call *call, const char *text, const char *key_arn,
                             const char *key_account, bool bypass_lockout_check,
                             struct emu_policy **out);
/* Epoch seconds as KMS's JSON timestamps (numbers). */
json_t *emu_kms_time(int64_t s);

#endif
