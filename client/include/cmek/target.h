/* cmek/target.h: where libcmek sends each service's requests, and as whom.
 *
 * A target is resolved once, by each ecosystem's own conventions, then handed to clients:
 * - AWS: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; else AWS_PROFILE
 *   (default "default") in AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) and
 *   AWS_CONFIG_FILE (default ~/.aws/config, sections "[profile NAME]" or "[default]").
 *   Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's region. Endpoints:
 *   AWS_ENDPOINT_URL_KMS / _STS / _IAM, then AWS_ENDPOINT_URL, then the profile's
 *   endpoint_url, then the real ones: https://kms.REGION.amazonaws.com,
 *   https://sts.REGION.amazonaws.com, https://iam.amazonaws.com (signed for us-east-1).
 * - CockroachDB Cloud API: COCKROACH_API_KEY, COCKROACH_SERVER (default
 *   https://cockroachlabs.cloud), Cc-Version CMEK_CC_VERSION (default 2024-09-16).
 * - Vault: VAULT_ADDR (default https://127.0.0.1:8200), VAULT_TOKEN, VAULT_NAMESPACE,
 *   VAULT_CACERT.
 * - Transport: CMEK_CA_BUNDLE, then AWS_CA_BUNDLE; timeouts and caps have defaults.
 * A target file (docs/targets.md; fixtures/targets/emulator.json and live.json) names the
 * target and may set any of these itself; what it sets wins over the environment. Secrets
 * are only ever read, never written back. */
#ifndef CMEK_TARGET_H
#define CMEK_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "cmek/error.h"

#define CMEK_DEFAULT_CC_VERSION   "2024-09-16"
#define CMEK_DEFAULT_CCLOUD_URL   "https://cockroachlabs.cloud"
#define CMEK_DEFAULT_EMULATOR_URL "http://127.0.0.1:4566"

struct cmek_aws_credentials {
    char *access_key_id;     /* owned; NULL when unset */
    char *secret_access_key; /* owned */
    char *session_token;     /* owned; NULL for long-term keys */
};

void cmek_aws_credentials_clean_up(struct cmek_aws_credentials *c); /* wipes and frees */
/* Deep copy; dst must be zeroed or own what it holds (freed and replaced on success,
 * untouched on failure). */
CMEK_WUR int cmek_aws_credentials_copy(struct cmek_aws_credentials *dst,
                                       const struct cmek_aws_credentials *src);

/* The services a target addresses. */
enum cmek_service {
    CMEK_SERVICE_IAM = 0,
    CMEK_SERVICE_STS,
    CMEK_SERVICE_KMS,
    CMEK_SERVICE_CCLOUD,
    CMEK_SERVICE_VAULT,
    CMEK_SERVICE_EMULATOR, /* cmek-emulator's own /_emulator endpoints */
    CMEK_SERVICE_COUNT
};
/* "iam", "sts", "kms", "ccloud", "vault", "emulator". */
const char *cmek_service_name(enum cmek_service svc);

struct cmek_target {
    char *name;    /* "emulator", "live", or what the file says */
    bool emulator; /* a cmek-emulator: emulator-only steps run, /_emulator is reachable */
    char *region;  /* AWS region for KMS and STS */
    char *endpoint[CMEK_SERVICE_COUNT]; /* base URL per service, no trailing '/' */
    char *iam_region;                   /* the region IAM requests are signed for */
    struct cmek_aws_credentials aws;    /* the customer's credentials */
    /* emulator only: CockroachDB Cloud's own AWS principal (the world's
     * cockroach-cloud-cmek user), so drills can act as CockroachDB Cloud. */
    struct cmek_aws_credentials cloud_principal;
    char *ccloud_api_key;  /* sent as "Authorization: Bearer ..." */
    char *cc_version;      /* the Cc-Version header */
    char *vault_token;     /* X-Vault-Token; NULL refuses Vault calls, "" sends none */
    char *vault_namespace; /* X-Vault-Namespace; NULL or "" for none */
    char *ca_bundle;       /* NULL: the system's trust store */
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response_bytes;
    unsigned max_attempts; /* per call, first try included; AWS's standard mode uses 3 */
};

/* A deep copy of src into dst (which must be initialised; its old contents are freed):
 * what a client keeps so the caller's target may change or go away. */
CMEK_WUR int cmek_target_copy(struct cmek_target *dst, const struct cmek_target *src);

/* How the target reads the environment; tests pass their own. NULL fn: getenv(3). */
typedef const char *(*cmek_getenv_fn)(void *ctx, const char *name);

void cmek_target_init(struct cmek_target *t);
void cmek_target_clean_up(struct cmek_target *t); /* wipes secrets, frees, NULL-safe */

/* Fills t from the environment as the header comment says. Missing credentials are not an
 * error here (a call that needs them fails with a clear message). On CMEK_ERR_PARSE (a
 * malformed config or credentials file, an AWS_PROFILE that does not exist) why says what
 * and where. */
CMEK_WUR int cmek_target_from_environment(struct cmek_target *t, cmek_getenv_fn getenv_fn,
                                          void *ctx, char *why, size_t why_len);

/* Resolves a target: "emulator" and "live" name fixtures/targets/<name>.json under
 * fixtures_dir; anything else is a file path. The environment is applied first and the
 * file's settings over it; "${env.NAME}" in a file value reads NAME, and
 * "${env.NAME:-default}" falls back. Unknown fields, bad types and unreadable files are
 * CMEK_ERR_PARSE with why naming the file and field. */
CMEK_WUR int cmek_target_load(struct cmek_target *t, const char *name_or_path,
                              const char *fixtures_dir, cmek_getenv_fn getenv_fn, void *ctx,
                              char *why, size_t why_len);

/* Points every service of an emulator target at base_url (e.g. "http://127.0.0.1:41873"):
 * what `cmek-run --emulator` does once its private emulator is up. */
CMEK_WUR int cmek_target_set_emulator_url(struct cmek_target *t, const char *base_url);

#endif
