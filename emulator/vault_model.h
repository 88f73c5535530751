/* vault_model.h: Vault's state as the emulator keeps it: the world's tokens and namespaces,
 * and per namespace the secrets engines mounted at a path (only keymgmt), each holding
 * keymgmt keys (with every version's real key material), KMS providers (their credentials
 * kept and never rendered to a client) and the distributions of keys to providers.
 *
 * Ownership: struct emu_vault owns everything reachable from it (mounts, keys, providers are
 * heap objects owned through the pointer arrays). Lookups return borrowed pointers, valid
 * until the next change of the same array. Locking: the store's lock covers all of it.
 *
 * Serialization: emu_vault_load / emu_vault_to_json read and write the world's "vault"
 * section (docs/world.md). Key material is in it, as with KMS keys: a state dump is secret. */
#ifndef EMU_VAULT_MODEL_H
#define EMU_VAULT_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmek/error.h"

struct emu_app;
struct emu_load_error;

#define EMU_VAULT_NAME_MAX      128 /* key, provider, mount, namespace and token lengths */
#define EMU_VAULT_MAX_TOKENS    16
#define EMU_VAULT_MAX_NS        16
#define EMU_VAULT_MAX_MOUNTS    32
#define EMU_VAULT_MAX_KEYS      128 /* per mount */
#define EMU_VAULT_MAX_PROVIDERS 32  /* per mount */
#define EMU_VAULT_MAX_VERSIONS  32  /* per key */
#define EMU_VAULT_AES_BYTES     32
#define EMU_VAULT_SECRET_MAX    2048 /* a credential value (session tokens are long) */

struct emu_vault_token {
    char id[EMU_VAULT_NAME_MAX + 1];
    char ns[EMU_VAULT_NAME_MAX + 1]; /* "" = root: may use every namespace */
    json_t *policies;                /* owned; carried for the world round trip */
};

struct emu_vault_version {
    int version;
    int64_t created_s;                     /* emulator clock */
    uint8_t material[EMU_VAULT_AES_BYTES]; /* aes256-gcm96 only */
    char *private_pem;                     /* asymmetric types: PKCS#8 PEM, owned */
    char *public_pem;                      /* asymmetric types: SubjectPublicKeyInfo PEM */
};

/* One version as it exists in the provider: for awskms one KMS key per version. */
struct emu_vault_dist_version {
    int version;
    char key_id[64];
    char arn[256];
};

struct emu_vault_distribution {
    char provider[EMU_VAULT_NAME_MAX + 1];
    char purpose[32];    /* sorted, comma-joined: "decrypt,encrypt" */
    char protection[32]; /* "hsm" */
    int64_t time_s;      /* distribution_time; also the alias suffix */
    size_t n;
    struct emu_vault_dist_version v[EMU_VAULT_MAX_VERSIONS];
};

struct emu_vault_key {
    char name[EMU_VAULT_NAME_MAX + 1];
    char type[16];
    int min_enabled_version; /* >= 1 */
    bool deletion_allowed;
    bool busy;         /* the agent is working on it with the lock released */
    size_t n_versions; /* versions[i].version == i + 1; latest_version == n_versions */
    struct emu_vault_version versions[EMU_VAULT_MAX_VERSIONS];
    bool distributed;
    struct emu_vault_distribution dist;
};

struct emu_vault_provider {
    char name[EMU_VAULT_NAME_MAX + 1];
    char provider[64];       /* "awskms" */
    char key_collection[64]; /* the AWS region */
    char access_key[EMU_VAULT_NAME_MAX + 1];
    char secret_key[EMU_VAULT_NAME_MAX + 1];
    char session_token[EMU_VAULT_SECRET_MAX + 1];
    char endpoint[256];
};

struct emu_vault_mount {
    char ns[EMU_VAULT_NAME_MAX + 1];   /* "" or "admin" (no slashes at either end) */
    char path[EMU_VAULT_NAME_MAX + 2]; /* with its trailing '/': "keymgmt/" */
    char type[16];                     /* "keymgmt" */
    char description[256];
    char accessor[32]; /* "keymgmt_" + 8 hex */
    char uuid[37];
    size_t n_keys;
    struct emu_vault_key *keys[EMU_VAULT_MAX_KEYS];
    size_t n_providers;
    struct emu_vault_provider *providers[EMU_VAULT_MAX_PROVIDERS];
};

struct emu_vault {
    size_t n_tokens;
    struct emu_vault_token tokens[EMU_VAULT_MAX_TOKENS];
    size_t n_ns;
    char namespaces[EMU_VAULT_MAX_NS][EMU_VAULT_NAME_MAX + 1];
    size_t n_mounts;
    struct emu_vault_mount *mounts[EMU_VAULT_MAX_MOUNTS];
};

void emu_vault_init(struct emu_vault *v);
void emu_vault_clean_up(struct emu_vault *v); /* NULL-safe, idempotent */

/* Loads the world's vault section (borrowed; NULL = empty). */
CMEK_WUR int emu_vault_load(struct emu_vault *v, const json_t *section, struct emu_load_error *err);
/* The state as a world section (new reference), or NULL when out of memory. */
json_t *emu_vault_to_json(const struct emu_vault *v);

/* Borrowed lookups; NULL when absent. */
const struct emu_vault_token *emu_vault_token_find(const struct emu_vault *v, const char *id);
bool emu_vault_ns_exists(const struct emu_vault *v, const char *ns);
struct emu_vault_mount *emu_vault_mount_find(const struct emu_vault *v, const char *ns,
                                             const char *path);
struct emu_vault_key *emu_vault_key_find(const struct emu_vault_mount *m, const char *name);
struct emu_vault_provider *emu_vault_provider_find(const struct emu_vault_mount *m,
                                                   const char *name);

/* Adds a mount (path with its trailing '/'); CMEK_ERR_LIMIT when full. */
CMEK_WUR int emu_vault_mount_add(struct emu_app *app, struct emu_vault *v, const char *ns,
                                 const char *path, const char *type, const char *description);
void emu_vault_mount_remove(struct emu_vault *v, struct emu_vault_mount *m);

/* The key types keymgmt generates (vault.md §5). */
bool emu_vault_key_type_valid(const char *type);
bool emu_vault_key_type_symmetric(const char *type);

/* A new key with version 1 of fresh material (OpenSSL key generation for asymmetric types).
 * *out is borrowed from m. */
CMEK_WUR int emu_vault_key_add(struct emu_app *app, struct emu_vault_mount *m, const char *name,
                               const char *type, int64_t now_s, struct emu_vault_key **out);
/* Adds version n_versions + 1 of fresh material. CMEK_ERR_LIMIT when full. */
CMEK_WUR int emu_vault_key_rotate(struct emu_app *app, struct emu_vault_key *k, int64_t now_s);
void emu_vault_key_remove(struct emu_vault_mount *m, struct emu_vault_key *k);

CMEK_WUR int emu_vault_provider_add(struct emu_vault_mount *m, const char *name,
                                    struct emu_vault_provider **out);
void emu_vault_provider_remove(struct emu_vault_mount *m, struct emu_vault_provider *p);

/* RFC 3339 UTC with nanoseconds ("2026-11-23T12:00:00.000000000Z"), as Vault prints. */
void emu_vault_format_time(int64_t s, char out[40]);

#endif
