/* vault_agent.h: Vault's keymgmt engine as an AWS KMS client (vault.md §2).
 *
 * A job is planned by svc_vault.c under the store lock (copies of the provider's credentials
 * and region and of the versions' material), run here with the lock RELEASED (every KMS call
 * is SigV4-signed with the provider's credentials and sent in-process through emu_dispatch,
 * which takes the lock itself, so IAM policies, key policies and key states all apply), and
 * committed by the caller under the lock again.
 *
 * The steps, in this order, each only when asked for:
 * 1. import: per version, CreateKey {Origin EXTERNAL, KeySpec SYMMETRIC_DEFAULT, KeyUsage
 *    ENCRYPT_DECRYPT} -> GetParametersForImport {RSAES_OAEP_SHA_256, RSA_4096} -> the 32
 *    bytes wrapped with RSA-OAEP (SHA-256, MGF1 SHA-256) -> ImportKeyMaterial
 *    {KEY_MATERIAL_DOES_NOT_EXPIRE}; versions below min_enabled_version are disabled;
 * 2. alias: CreateAlias or UpdateAlias of alias_name to the newest version's key;
 * 3. enable / disable: EnableKey / DisableKey of the listed key ids;
 * 4. remove: DeleteAlias, then ScheduleKeyDeletion (AWS's default 30-day window) of the
 *    listed key ids.
 * On the first failure the job stops; keys it created in step 1 are scheduled for deletion
 * (best effort) so a failed distribution leaves nothing usable behind.
 *
 * None of this may be called with the store lock held. */
#ifndef EMU_VAULT_AGENT_H
#define EMU_VAULT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmek/error.h"
#include "vault_model.h"

struct emu_app;

struct emu_vault_agent_import {
    int version;
    uint8_t material[EMU_VAULT_AES_BYTES]; /* wiped by emu_vault_agent_job_clean_up */
    bool disable;                          /* below min_enabled_version */
    char key_id[64];                       /* result */
    char arn[256];                         /* result */
};

struct emu_vault_agent_job {
    /* who and where: the provider's credentials, region = key_collection */
    char access_key[EMU_VAULT_NAME_MAX + 1];
    char secret_key[EMU_VAULT_NAME_MAX + 1];
    char session_token[EMU_VAULT_SECRET_MAX + 1];
    char region[64];
    char key_name[EMU_VAULT_NAME_MAX + 1];
    char alias_name[EMU_VAULT_NAME_MAX + 64]; /* "alias/hashicorp/<key>-<unix time>" */
    /* what */
    size_t n_import;
    struct emu_vault_agent_import import[EMU_VAULT_MAX_VERSIONS];
    bool alias_create; /* CreateAlias to the last imported key */
    bool alias_update; /* UpdateAlias to the last imported key */
    size_t n_enable, n_disable, n_delete;
    char enable[EMU_VAULT_MAX_VERSIONS][64];
    char disable[EMU_VAULT_MAX_VERSIONS][64];
    char delete_ids[EMU_VAULT_MAX_VERSIONS][64];
    bool alias_delete;
    /* outcome: why it failed, "<kms:Op> failed: <AWS error code>: <AWS message>" */
    bool ok;
    char message[2048];
};

/* Wipes the material and credentials. */
void emu_vault_agent_job_clean_up(struct emu_vault_agent_job *job);

/* Runs job. Returns non-zero only for internal failures; an AWS refusal is job->ok false
 * with job->message set. */
CMEK_WUR int emu_vault_agent_run(struct emu_app *app, struct emu_vault_agent_job *job);

#endif
