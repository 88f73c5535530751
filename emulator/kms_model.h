/* kms_model.h: the keys and aliases of the emulated KMS, in every account and region.
 * Read and written under the store lock. Keys are partitioned by (account, region); a
 * multi-Region primary and its replicas are separate keys with the same id and a copy of the
 * same material versions.
 *
 * Time-driven changes (a deletion window passing, imported material expiring, a replica
 * finishing creation, automatic rotation) are applied lazily by emu_kms_refresh when a key is
 * looked up or listed, so no request pays for keys it does not touch.
 *
 * Serialized as the "kms" member of the world's "aws" section (docs/world.md). */
#ifndef EMU_KMS_MODEL_H
#define EMU_KMS_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmek/map.h"
#include "cmek/vec.h"
#include "iam_model.h"
#include "kms_crypto.h"
#include "policy.h"

struct emu_app;

enum emu_kms_key_state {
    EMU_KMS_CREATING = 0,
    EMU_KMS_ENABLED,
    EMU_KMS_DISABLED,
    EMU_KMS_PENDING_DELETION,
    EMU_KMS_PENDING_REPLICA_DELETION,
    EMU_KMS_PENDING_IMPORT,
    EMU_KMS_UNAVAILABLE,
    EMU_KMS_UPDATING,
    EMU_KMS_STATE_COUNT
};

/* AWS's KeyState names ("Enabled", "PendingDeletion", ...). */
const char *emu_kms_key_state_name(enum emu_kms_key_state state);
CMEK_WUR int emu_kms_key_state_parse(const char *name, enum emu_kms_key_state *out);

/* An outstanding GetParametersForImport answer. */
struct emu_kms_import_params {
    char token_id[33];                         /* 32 hex: what the ImportToken blob names */
    char wrapping_algorithm[32];               /* RSAES_OAEP_SHA_256 ... */
    char wrapping_key_spec[16];                /* RSA_2048 ... */
    struct emu_kms_wrapping_key *wrapping_key; /* owned */
    int64_t valid_to_s;                        /* emulator clock: now + 24 h */
};

struct emu_kms_key {
    char *account;
    char *region;
    char *id;           /* uuid, or mrk-<32 hex> */
    char *arn;          /* arn:aws:kms:<region>:<account>:key/<id> */
    char *description;  /* never NULL ("" by default) */
    char key_usage[24]; /* ENCRYPT_DECRYPT */
    char key_spec[24];  /* SYMMETRIC_DEFAULT */
    char origin[16];    /* AWS_KMS | EXTERNAL */
    enum emu_kms_key_state state;
    int64_t creation_s;
    int64_t deletion_s;      /* PendingDeletion: when it goes */
    int pending_window_days; /* PendingDeletion */
    bool multi_region;
    bool is_replica;
    char *primary_region;            /* multi-Region keys: the primary's region */
    struct cmek_vec replica_regions; /* char *, on the primary */
    struct emu_policy *policy;       /* owned */
    struct cmek_vec tags;            /* struct emu_tag * (iam_model.h), owned */
    bool rotation_enabled;
    int rotation_period_days;           /* 90..2560, default 365 */
    int64_t next_rotation_s;            /* when rotation_enabled */
    struct emu_kms_material *materials; /* owned array, oldest first; current is the last */
    size_t n_materials;
    /* EXTERNAL keys */
    char expiration_model[32]; /* KEY_MATERIAL_EXPIRES | KEY_MATERIAL_DOES_NOT_EXPIRE | "" */
    /* The id of the material imported into the key, kept after the material is deleted or
     * expires: only the same material may be imported again (AWS's rule). */
    char imported_material_id[EMU_KMS_MATERIAL_ID_HEX + 1];
    int64_t valid_to_s;                   /* KEY_MATERIAL_EXPIRES */
    struct emu_kms_import_params *import; /* owned; NULL when none outstanding */
};

struct emu_kms_alias {
    char *account;
    char *region;
    char *name; /* alias/... */
    char *arn;
    char *target_key_id;
    int64_t created_s;
    int64_t updated_s;
};

struct emu_kms {
    struct cmek_map keys;        /* "account/region/id" -> struct emu_kms_key * (owned) */
    struct cmek_vec key_order;   /* the same keys, in creation order (ListKeys) */
    struct cmek_map aliases;     /* "account/region/alias/x" -> struct emu_kms_alias * (owned) */
    struct cmek_vec alias_order; /* creation order (ListAliases) */
};

void emu_kms_init(struct emu_kms *kms);
void emu_kms_clean_up(struct emu_kms *kms);
/* Loads the world's "kms" object ({"keys": [...], "aliases": [...]}); keys without a
 * "created" time get now_s. */
CMEK_WUR int emu_kms_load(struct emu_kms *kms, const json_t *kms_json, const struct emu_iam *iam,
                          int64_t now_s, struct emu_load_error *err);
CMEK_WUR json_t *emu_kms_to_json(const struct emu_kms *kms);

/* A new key shell (no material, no policy), state Enabled; NULL when out of memory. */
struct emu_kms_key *emu_kms_key_new(const char *account, const char *region, const char *id,
                                    int64_t now_s);
void emu_kms_key_destroy(struct emu_kms_key *key);
/* Appends a material version (copied). */
CMEK_WUR int emu_kms_key_add_material(struct emu_kms_key *key,
                                      const struct emu_kms_material *material);
/* The current material version, or NULL when the key has none (PendingImport). */
const struct emu_kms_material *emu_kms_key_current(const struct emu_kms_key *key);
/* The version with this id, or NULL. */
const struct emu_kms_material *emu_kms_key_material(const struct emu_kms_key *key,
                                                    const char *material_id);

/* A new material version for key (rotation), copied to every replica of a multi-Region
 * primary so related keys keep sharing material. */
CMEK_WUR int emu_kms_rotate(const struct emu_app *app, struct emu_kms *kms, struct emu_kms_key *key,
                            int64_t now_s, bool on_demand);

/* Takes ownership (also on failure). */
CMEK_WUR int emu_kms_add_key(struct emu_kms *kms, struct emu_kms_key *key);
/* Removes and destroys the key and every alias pointing at it. */
void emu_kms_delete_key(struct emu_kms *kms, struct emu_kms_key *key);
/* The key, after applying its due time-driven changes; NULL if absent (or just deleted). */
struct emu_kms_key *emu_kms_find_key(const struct emu_app *app, struct emu_kms *kms,
                                     const char *account, const char *region, const char *id,
                                     int64_t now_s);
/* Applies every key's due changes (for listings). */
void emu_kms_refresh_all(const struct emu_app *app, struct emu_kms *kms, int64_t now_s);

CMEK_WUR int emu_kms_add_alias(struct emu_kms *kms, struct emu_kms_alias *alias);
struct emu_kms_alias *emu_kms_find_alias(const struct emu_kms *kms, const char *account,
                                         const char *region, const char *name);
/* Removes and destroys. */
void emu_kms_delete_alias(struct emu_kms *kms, struct emu_kms_alias *alias);
void emu_kms_alias_destroy(struct emu_kms_alias *alias);

#endif
