/* vault_agent.c: the KMS side of keymgmt's awskms provider (vault_agent.h). The call
 * sequence follows vault.md §2 (reconstructed from Vault's documented IAM permissions and
 * observed console state; Vault's code is closed). The signed in-process POST mirrors
 * ccloud_agent.c's; it is repeated here rather than shared because that one is static to the
 * cluster agent and this module may not change it. */
#include "vault_agent.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "aws_client.h"
#include "cmek/crypto.h"
#include "cmek/sigv4.h"
#include "service.h"

#define S_WRAP_MAX 1024 /* an RSA_4096 block is 512 bytes */

void emu_vault_agent_job_clean_up(struct emu_vault_agent_job *job)
{
    if (job != NULL) {
        cmek_cleanse(job, sizeof(*job));
    }
}

/* One KMS JSON 1.1 operation as the provider; *result gets the answer on 200. */
static int s_kms(struct emu_app *app, struct emu_vault_agent_job *job, const char *op, json_t *in,
                 json_t **result)
{
    *result = NULL;
    char *text = in ? json_dumps(in, JSON_COMPACT) : NULL;
    json_decref(in);
    if (text == NULL) {
        return CMEK_ERR_NOMEM;
    }
    char target[64];
    snprintf(target, sizeof(target), "TrentService.%s", op);
    struct cmek_sigv4_credentials creds = {job->access_key, job->secret_key,
                                           job->session_token[0] ? job->session_token : NULL};
    struct emu_aws_client_call call = {
        .service = "kms",
        .region = job->region,
        .content_type = "application/x-amz-json-1.1",
        .target = target,
        .body = text,
        .credentials = &creds,
    };
    struct cmek_buf body;
    cmek_buf_init(&body, EMU_MAX_RESPONSE_BYTES);
    json_t *out = NULL;
    int status = 0;
    int rc = emu_aws_client_post(app, &call, &status, &body);
    if (rc) {
        goto done;
    }
    out = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
    if (status == 200) {
        /* Some operations (CreateAlias, DisableKey, ...) answer with an empty body. */
        *result = json_is_object(out) ? out : json_object();
        out = *result == out ? NULL : out;
        rc = *result ? CMEK_OK : CMEK_ERR_NOMEM;
        goto done;
    }
    const char *type = json_string_value(json_object_get(out, "__type"));
    const char *message = json_string_value(json_object_get(out, "message"));
    if (message == NULL) {
        message = json_string_value(json_object_get(out, "Message"));
    }
    job->ok = false;
    snprintf(job->message, sizeof(job->message), "kms:%s failed: %s: %s", op,
             type ? type : "InternalFailure", message ? message : "");
done:
    json_decref(out);
    if (body.data != NULL) {
        cmek_cleanse(body.data, body.len); /* GenerateDataKey-like answers carry secrets */
    }
    cmek_buf_clean_up(&body);
    cmek_cleanse_str(text);
    free(text);
    return rc;
}

/* RSAES-OAEP-SHA-256 of material under the DER SubjectPublicKeyInfo in public_b64, as base64
 * (owned, into out). */
static int s_wrap(const char *public_b64, const uint8_t *material, struct cmek_buf *out)
{
    struct cmek_buf der;
    cmek_buf_init(&der, 4096);
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char wrapped[S_WRAP_MAX];
    size_t wrapped_len = sizeof(wrapped);
    int rc = cmek_base64_decode(public_b64, strlen(public_b64), &der);
    if (rc) {
        goto done;
    }
    const unsigned char *p = (const unsigned char *)der.data;
    pkey = d2i_PUBKEY(NULL, &p, (long)der.len);
    ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
    rc = CMEK_ERR_CRYPTO;
    if (ctx == NULL || EVP_PKEY_encrypt_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_encrypt(ctx, wrapped, &wrapped_len, material, EMU_VAULT_AES_BYTES) <= 0) {
        goto done;
    }
    rc = cmek_base64_encode(wrapped, wrapped_len, out);
done:
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    cmek_buf_clean_up(&der);
    return rc;
}

static int s_import_one(struct emu_app *app, struct emu_vault_agent_job *job,
                        struct emu_vault_agent_import *im)
{
    char description[256];
    snprintf(description, sizeof(description), "Vault keymgmt key %s version %d", job->key_name,
             im->version);
    json_t *out = NULL;
    int rc =
        s_kms(app, job, "CreateKey",
              json_pack("{s:s,s:s,s:s,s:s}", "Origin", "EXTERNAL", "KeySpec", "SYMMETRIC_DEFAULT",
                        "KeyUsage", "ENCRYPT_DECRYPT", "Description", description),
              &out);
    if (rc || out == NULL) {
        return rc;
    }
    const json_t *meta = json_object_get(out, "KeyMetadata");
    const char *key_id = json_string_value(json_object_get(meta, "KeyId"));
    const char *arn = json_string_value(json_object_get(meta, "Arn"));
    snprintf(im->key_id, sizeof(im->key_id), "%s", key_id ? key_id : "");
    snprintf(im->arn, sizeof(im->arn), "%s", arn ? arn : "");
    json_decref(out);
    rc = s_kms(app, job, "GetParametersForImport",
               json_pack("{s:s,s:s,s:s}", "KeyId", im->key_id, "WrappingAlgorithm",
                         "RSAES_OAEP_SHA_256", "WrappingKeySpec", "RSA_4096"),
               &out);
    if (rc || out == NULL) {
        return rc;
    }
    struct cmek_buf wrapped;
    cmek_buf_init(&wrapped, 4096);
    const char *pub = json_string_value(json_object_get(out, "PublicKey"));
    const char *token = json_string_value(json_object_get(out, "ImportToken"));
    rc = pub && token ? s_wrap(pub, im->material, &wrapped) : CMEK_ERR_PARSE;
    json_t *import_out = NULL;
    if (rc == CMEK_OK) {
        rc = s_kms(app, job, "ImportKeyMaterial",
                   json_pack("{s:s,s:s,s:s,s:s}", "KeyId", im->key_id, "ImportToken", token,
                             "EncryptedKeyMaterial", cmek_buf_cstr(&wrapped), "ExpirationModel",
                             "KEY_MATERIAL_DOES_NOT_EXPIRE"),
                   &import_out);
    }
    json_decref(import_out);
    json_decref(out);
    cmek_buf_clean_up(&wrapped);
    if (rc == CMEK_OK && job->ok && im->disable) {
        rc = s_kms(app, job, "DisableKey", json_pack("{s:s}", "KeyId", im->key_id), &out);
        json_decref(out);
    }
    return rc;
}

static int s_simple(struct emu_app *app, struct emu_vault_agent_job *job, const char *op,
                    json_t *in)
{
    json_t *out = NULL;
    int rc = s_kms(app, job, op, in, &out);
    json_decref(out);
    return rc;
}

int emu_vault_agent_run(struct emu_app *app, struct emu_vault_agent_job *job)
{
    job->ok = true;
    job->message[0] = '\0';
    int rc = CMEK_OK;
    size_t created = 0;
    for (size_t i = 0; rc == CMEK_OK && job->ok && i < job->n_import; i++) {
        rc = s_import_one(app, job, &job->import[i]);
        created += job->import[i].key_id[0] ? 1 : 0;
    }
    const char *latest = job->n_import ? job->import[job->n_import - 1].key_id : "";
    if (rc == CMEK_OK && job->ok && (job->alias_create || job->alias_update)) {
        rc = s_simple(app, job, job->alias_create ? "CreateAlias" : "UpdateAlias",
                      json_pack("{s:s,s:s}", "AliasName", job->alias_name, "TargetKeyId", latest));
    }
    for (size_t i = 0; rc == CMEK_OK && job->ok && i < job->n_enable; i++) {
        rc = s_simple(app, job, "EnableKey", json_pack("{s:s}", "KeyId", job->enable[i]));
    }
    for (size_t i = 0; rc == CMEK_OK && job->ok && i < job->n_disable; i++) {
        rc = s_simple(app, job, "DisableKey", json_pack("{s:s}", "KeyId", job->disable[i]));
    }
    if (rc == CMEK_OK && job->ok && job->alias_delete) {
        rc = s_simple(app, job, "DeleteAlias", json_pack("{s:s}", "AliasName", job->alias_name));
        if (rc == CMEK_OK && !job->ok && strstr(job->message, "NotFoundException") != NULL) {
            job->ok = true; /* already gone: removal goes on */
        }
    }
    for (size_t i = 0; rc == CMEK_OK && job->ok && i < job->n_delete; i++) {
        rc = s_simple(app, job, "ScheduleKeyDeletion",
                      json_pack("{s:s}", "KeyId", job->delete_ids[i]));
    }
    if (!job->ok || rc) {
        /* Best effort: what this job created must not stay usable. */
        char message[sizeof(job->message)];
        memcpy(message, job->message, sizeof(message));
        bool ok = job->ok;
        for (size_t i = 0; i < created; i++) {
            if (job->import[i].key_id[0] &&
                s_simple(app, job, "ScheduleKeyDeletion",
                         json_pack("{s:s}", "KeyId", job->import[i].key_id))) {
                emu_log(app, EMU_LOG_WARN, "vault: could not clean up KMS key %s",
                        job->import[i].key_id);
            }
        }
        memcpy(job->message, message, sizeof(message));
        job->ok = ok && rc == CMEK_OK;
    }
    return rc;
}
