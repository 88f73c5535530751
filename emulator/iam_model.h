/* iam_model.h: the IAM entities of every emulated AWS account. IAM's wire operations
 * (iam.c) change them; STS, KMS and request authentication read them. All access happens
 * with the store lock held (store.h).
 *
 * Serialized form (the "aws" section of the world file, see docs/world.md):
 *   {"accounts": [{"id", "name", "users": [...], "roles": [...], "policies": [...]}],
 *    "managed_policies": [...AWS managed policies, arn:aws:iam::aws:policy/...]} */
#ifndef EMU_IAM_MODEL_H
#define EMU_IAM_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmek/buf.h"
#include "cmek/sigv4.h"
#include "cmek/vec.h"
#include "policy.h"

struct emu_app;

struct emu_tag {
    char *key;
    char *value;
};

struct emu_iam_inline_policy {
    char *name;
    struct emu_policy *policy; /* owned */
};

/* What users and roles share: the principal's identity policies and tags. */
struct emu_iam_identity {
    char *account;
    char *name;
    char *path;
    char *id; /* AIDA... / AROA... */
    char *arn;
    int64_t create_ms;
    struct cmek_vec inline_policies; /* struct emu_iam_inline_policy *, owned */
    struct cmek_vec attached;        /* char * managed policy ARNs, owned */
    struct cmek_vec tags;            /* struct emu_tag *, owned */
};

struct emu_iam_user {
    struct emu_iam_identity ident;
};

struct emu_iam_role {
    struct emu_iam_identity ident;
    char *description;        /* NULL when none */
    int64_t max_session_s;    /* 3600..43200 */
    struct emu_policy *trust; /* owned */
};

struct emu_iam_access_key {
    char *id;                          /* AKIA... */
    char *secret;                      /* never logged */
    struct cmek_sigv4_key_cache sigv4; /* derived signing key, for the verifier */
    char *account;
    char *user_name;
    bool active;
    int64_t create_ms;
};

struct emu_iam_managed_policy {
    char *account; /* "aws" for AWS managed policies */
    char *name;
    char *path;
    char *id; /* ANPA... */
    char *arn;
    char *description; /* NULL when none */
    int64_t create_ms;
    int64_t update_ms;
    struct emu_policy *doc; /* owned; version v1 */
};

struct emu_iam_account {
    char *id;
    char *name;
};

struct emu_iam {
    struct cmek_vec accounts;    /* struct emu_iam_account * */
    struct cmek_vec users;       /* struct emu_iam_user * */
    struct cmek_vec roles;       /* struct emu_iam_role * */
    struct cmek_vec policies;    /* struct emu_iam_managed_policy * */
    struct cmek_vec access_keys; /* struct emu_iam_access_key * */
};

/* Why a world could not be loaded, for the operator. */
struct emu_load_error {
    char message[512];
};

void emu_iam_init(struct emu_iam *iam);
void emu_iam_clean_up(struct emu_iam *iam);
/* Loads the "aws" world section; missing ids and dates are generated (app's random source)
 * and now_ms, so emu_iam_to_json gives back a complete, deterministic world. */
CMEK_WUR int emu_iam_load(struct emu_iam *iam, const json_t *aws, const struct emu_app *app,
                          int64_t now_ms, struct emu_load_error *err);
CMEK_WUR json_t *emu_iam_to_json(const struct emu_iam *iam);

struct emu_iam_account *emu_iam_account(const struct emu_iam *iam, const char *id);
/* IAM names are unique per account case-insensitively. */
struct emu_iam_role *emu_iam_role_by_name(const struct emu_iam *iam, const char *account,
                                          const char *name);
struct emu_iam_role *emu_iam_role_by_id(const struct emu_iam *iam, const char *id);
struct emu_iam_user *emu_iam_user_by_name(const struct emu_iam *iam, const char *account,
                                          const char *name);
struct emu_iam_access_key *emu_iam_access_key(const struct emu_iam *iam, const char *id);
struct emu_iam_managed_policy *emu_iam_managed_policy(const struct emu_iam *iam, const char *arn);
/* How many users and roles have arn attached. */
size_t emu_iam_attachment_count(const struct emu_iam *iam, const char *arn);

/* The resolver the policy engine uses to check and bind principals against this IAM. */
struct emu_principal_resolver emu_iam_resolver(const struct emu_iam *iam);

/* Appends (borrowed) every identity policy that applies to the entity: its inline
 * policies and its attached managed policies. */
CMEK_WUR int emu_iam_identity_policies(const struct emu_iam *iam,
                                       const struct emu_iam_identity *ident, struct cmek_vec *out);

/* New unique ids in AWS's form: prefix + 17 characters of [A-Z2-7]. out holds 22. */
CMEK_WUR int emu_iam_new_unique_id(const struct emu_app *app, const char *prefix, char out[22]);

/* Constructors and destructors used by iam.c and the loader. NULL-safe destroys. */
struct emu_iam_role *emu_iam_role_new(const char *account, const char *name, const char *path,
                                      const char *id, int64_t create_ms);
void emu_iam_role_destroy(struct emu_iam_role *role);
struct emu_iam_user *emu_iam_user_new(const char *account, const char *name, const char *path,
                                      const char *id, int64_t create_ms);
void emu_iam_user_destroy(struct emu_iam_user *user);
void emu_iam_access_key_destroy(struct emu_iam_access_key *key);
void emu_iam_managed_policy_destroy(struct emu_iam_managed_policy *policy);
void emu_iam_inline_policy_destroy(struct emu_iam_inline_policy *p);
void emu_tag_destroy(struct emu_tag *tag);
/* Finds an inline policy by name (case-insensitive); returns its index or -1. */
long emu_iam_identity_find_inline(const struct emu_iam_identity *ident, const char *name);

#endif
