/* ccloud_model.h: the CockroachDB Cloud side of the store: organizations, API keys, clusters,
 * each cluster's CMEK state (per region: status, key_infos, the store key wrapped by the
 * customer's KMS key) and the cluster's data plane (the data key while the cluster runs,
 * rows sealed with AES-256-GCM under it). Read and written under the store lock (store.h);
 * svc_ccloud.c serves it over the Cloud API, ccloud_agent.c runs the work that needs AWS.
 *
 * Serialized form: the "ccloud" section of the world file (docs/world.md). The in-memory data
 * key is never serialized: a loaded world is a cluster that has just started, and it unwraps
 * its key through KMS at the first request that touches it.
 *
 * Keys: the cluster's data key (DEK) encrypts rows. Without CMEK it is "managed by Cockroach
 * Labs" and kept as is (managed_key). With CMEK each region holds a store key (a KMS data key
 * from GenerateDataKey on the region's CMEK, kept only wrapped) and the DEK sealed under that
 * store key; the managed copy is dropped. Starting the cluster means unwrapping every region's
 * store key through KMS as the customer's role and opening the DEK with it. */
#ifndef EMU_CCLOUD_MODEL_H
#define EMU_CCLOUD_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmek/buf.h"
#include "cmek/map.h"
#include "cmek/vec.h"
#include "iam_model.h"

struct emu_app;

#define EMU_CC_KEY_BYTES       32
#define EMU_CC_MAX_ROWS        10000 /* per cluster */
#define EMU_CC_MAX_ROW_BYTES   65536 /* one value */
#define EMU_CC_MAX_ROW_KEY     256   /* bytes of a row key */
#define EMU_CC_MAX_CLUSTERS    1000  /* per store */
#define EMU_CC_MAX_REGIONS     16    /* per cluster */
#define EMU_CC_MAX_FIELD       2048  /* a URI, ARN or name */
#define EMU_CC_DEFAULT_ACCOUNT "999988887777"
#define EMU_CC_DEFAULT_VERSION "v25.2.4"

/* CMEKStatus, in the spec's order. */
enum emu_cc_status {
    EMU_CC_DISABLED = 0,
    EMU_CC_DISABLING,
    EMU_CC_DISABLE_FAILED,
    EMU_CC_ENABLED,
    EMU_CC_ENABLING,
    EMU_CC_ENABLE_FAILED,
    EMU_CC_ROTATING,
    EMU_CC_ROTATE_FAILED,
    EMU_CC_REVOKED,
    EMU_CC_REVOKING,
    EMU_CC_REVOKE_FAILED,
    EMU_CC_STATUS_COUNT
};
const char *emu_cc_status_name(enum emu_cc_status status);
/* false when name is no CMEKStatus. */
bool emu_cc_status_parse(const char *name, enum emu_cc_status *out);

/* What the next request touching the cluster has to do (ccloud_agent.c). */
enum emu_cc_pending {
    EMU_CC_PENDING_NONE = 0,
    EMU_CC_PENDING_WRAP,   /* wrap the DEK for every region whose newest key_info is
                              ENABLING or ROTATING (enable, add region, rotate) */
    EMU_CC_PENDING_REVOKE, /* the cluster restarts without its key (PATCH REVOKE) */
    EMU_CC_PENDING_COUNT
};
const char *emu_cc_pending_name(enum emu_cc_pending pending);

struct emu_cc_key_info {
    char *type; /* CMEKKeyType */
    char *uri;
    char *auth_principal;
    enum emu_cc_status status;
    char *user_message; /* "" when none */
    int64_t created_s;
    int64_t updated_s;
    char *wrapped_store_key; /* base64 KMS CiphertextBlob; NULL until wrapped */
    char *sealed_data_key;   /* base64 of the DEK sealed under the store key; NULL likewise */
};

struct emu_cc_region {
    char *name;
    int32_t node_count;
    enum emu_cc_status status; /* DISABLED until CMEK covers it */
    struct cmek_vec key_infos; /* struct emu_cc_key_info *, owned, oldest first */
};

struct emu_cc_row {
    char *key;
    uint8_t *sealed; /* nonce | ciphertext | tag */
    size_t sealed_len;
};

struct emu_cc_cluster {
    char *id;
    char *org_id;
    char *name;
    char *cloud_provider;
    char *plan;
    char *cockroach_version;
    char *account_id;
    char *state; /* ClusterState.Type */
    char *creator_id;
    char *network_visibility;
    char *delete_protection;
    char *parent_id;
    json_t *labels; /* owned object of strings */
    char *machine_type;
    int32_t num_virtual_cpus;
    int32_t storage_gib;
    int32_t disk_iops;
    int64_t created_s;
    int64_t updated_s;
    int64_t deleted_s;       /* 0: not deleted */
    struct cmek_vec regions; /* struct emu_cc_region *, owned, sorted by name */

    /* CMEK, cluster level. cmek_status DISABLED means CMEK was never asked for. */
    enum emu_cc_status cmek_status;
    enum emu_cc_pending pending;
    bool pending_running; /* a request is doing the pending work outside the lock */
    uint64_t generation;  /* bumped by every change, so outside work can see it is stale */

    /* Data plane. */
    bool has_managed_key; /* the DEK as Cockroach Labs keeps it before CMEK */
    uint8_t managed_key[EMU_CC_KEY_BYTES];
    bool running; /* the DEK is in memory */
    bool started; /* tried to start since load (a loaded CMEK cluster starts at first touch) */
    uint8_t dek[EMU_CC_KEY_BYTES];
    char *down_reason;         /* why the cluster cannot use its key; NULL while it can */
    struct cmek_vec rows;      /* struct emu_cc_row *, owned, in insertion order */
    struct cmek_map row_index; /* key -> struct emu_cc_row * (borrowed from rows) */
};

struct emu_cc_org {
    char *id;
    char *name;
    char *label;
    int64_t created_s;
};

struct emu_cc_api_key {
    char *id;
    char *name;
    char *secret; /* never logged */
    char *org_id;
};

struct emu_ccloud {
    struct cmek_vec orgs;     /* struct emu_cc_org *; the first is the world's organization */
    struct cmek_vec api_keys; /* struct emu_cc_api_key * */
    struct cmek_vec clusters; /* struct emu_cc_cluster *, creation order */
    char *aws_account_id;     /* CockroachDB Cloud's AWS account for new AWS clusters */
};

void emu_ccloud_init(struct emu_ccloud *cc);
void emu_ccloud_clean_up(struct emu_ccloud *cc);
/* Loads the "ccloud" world section (borrowed; NULL or {} gives an empty Cloud API). Missing
 * creator ids, dates and managed data keys are generated (app's random source, now_s). */
CMEK_WUR int emu_ccloud_load(struct emu_ccloud *cc, const json_t *section,
                             const struct emu_app *app, int64_t now_s, struct emu_load_error *err);
/* The section in world format (new reference). */
CMEK_WUR json_t *emu_ccloud_to_json(const struct emu_ccloud *cc);

struct emu_cc_org *emu_ccloud_org(const struct emu_ccloud *cc, const char *id);
/* The API key whose secret is secret (constant-time compare), or NULL. */
struct emu_cc_api_key *emu_ccloud_api_key(const struct emu_ccloud *cc, const char *secret,
                                          size_t secret_len);
struct emu_cc_cluster *emu_ccloud_cluster(const struct emu_ccloud *cc, const char *id);
struct emu_cc_region *emu_cc_cluster_region(const struct emu_cc_cluster *c, const char *name);
/* The newest key_info of a region, or NULL. */
struct emu_cc_key_info *emu_cc_region_current(const struct emu_cc_region *r);

/* Takes ownership of c (also on failure). */
CMEK_WUR int emu_ccloud_add_cluster(struct emu_ccloud *cc, struct emu_cc_cluster *c);
struct emu_cc_cluster *emu_cc_cluster_new(void);
void emu_cc_cluster_destroy(struct emu_cc_cluster *c);
struct emu_cc_region *emu_cc_region_new(const char *name, int32_t node_count);
void emu_cc_region_destroy(struct emu_cc_region *r);
void emu_cc_key_info_destroy(struct emu_cc_key_info *k);
/* Inserts r keeping regions sorted by name; takes ownership (also on failure). */
CMEK_WUR int emu_cc_cluster_add_region(struct emu_cc_cluster *c, struct emu_cc_region *r);
/* Records a change: updated_s and generation. */
void emu_cc_cluster_touch(struct emu_cc_cluster *c, int64_t now_s);
/* Sets c->down_reason (copied; NULL clears). */
CMEK_WUR int emu_cc_cluster_set_down(struct emu_cc_cluster *c, const char *reason);

/* AES-256-GCM with a random nonce: out receives nonce(12) | ciphertext | tag(16). aad binds
 * the sealed bytes to their place (cluster id and row key). */
CMEK_WUR int emu_cc_seal(const uint8_t key[EMU_CC_KEY_BYTES], const char *aad, const void *in,
                         size_t in_len, struct cmek_buf *out);
/* The inverse; CMEK_ERR_CRYPTO when the tag does not verify (wrong key, tampered, other
 * place). out receives the plaintext. */
CMEK_WUR int emu_cc_open(const uint8_t key[EMU_CC_KEY_BYTES], const char *aad, const void *in,
                         size_t in_len, struct cmek_buf *out);

/* A row's value (decrypted into out), CMEK_ERR_NOT_FOUND when absent. The cluster must be
 * running. */
CMEK_WUR int emu_cc_row_get(const struct emu_cc_cluster *c, const char *key, struct cmek_buf *out);
/* Writes a row, sealed under the running DEK; CMEK_ERR_LIMIT past EMU_CC_MAX_ROWS. */
CMEK_WUR int emu_cc_row_put(struct emu_cc_cluster *c, const char *key, const void *value,
                            size_t len);

#endif
