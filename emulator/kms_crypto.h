/* kms_crypto.h: the cryptography of the emulated KMS, on OpenSSL 3.
 *
 * - Key material: 32 random (or imported) bytes per version; AES-256-GCM.
 * - The ciphertext blob (docs/kms-ciphertext.md): a versioned, self-describing header naming
 *   the key (account and key id, not the region, so multi-Region related keys decrypt each
 *   other's ciphertexts) and the material version, then a 12-byte nonce, the ciphertext and
 *   the 16-byte GCM tag. The header and a canonical, length-prefixed encoding of the
 *   encryption context are the GCM additional authenticated data: a blob made with
 *   {"a":"bc"} does not open with {"ab":"c"}, nor under another key's id.
 * - Import: RSA wrapping key pairs (RSA_2048/3072/4096) whose public half is handed out as DER
 *   SubjectPublicKeyInfo, and unwrapping with RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256 (and
 *   RSAES_PKCS1_V1_5, which AWS still lists).
 * Secrets are wiped with OPENSSL_cleanse; tags are checked before any plaintext is used. */
#ifndef EMU_KMS_CRYPTO_H
#define EMU_KMS_CRYPTO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmek/buf.h"
#include "cmek/error.h"

struct emu_app;

#define EMU_KMS_MATERIAL_BYTES  32
#define EMU_KMS_MATERIAL_ID_HEX 64
#define EMU_KMS_KEY_ID_MAX      64   /* uuid (36) or mrk-<32 hex> (36) */
#define EMU_KMS_BLOB_MAX        6144 /* CiphertextBlob's model maximum */
#define EMU_KMS_CONTEXT_MAX     8192 /* bytes of encoded encryption context */

struct emu_kms_material {
    char id[EMU_KMS_MATERIAL_ID_HEX + 1]; /* KeyMaterialId, 64 lowercase hex */
    uint8_t bytes[EMU_KMS_MATERIAL_BYTES];
    int64_t created_s;
    bool imported;
    bool on_demand; /* a RotateKeyOnDemand version (ListKeyRotations' RotationType); set by
                     * the caller, not by this module */
};

/* Fresh random material; its id is derived from key_id and the bytes. */
CMEK_WUR int emu_kms_material_generate(const struct emu_app *app, const char *key_id, int64_t now_s,
                                       struct emu_kms_material *out);
/* Material from given bytes (import); the same bytes give the same id for the same key. */
CMEK_WUR int emu_kms_material_from_bytes(const char *key_id, const uint8_t *bytes, size_t len,
                                         int64_t now_s, struct emu_kms_material *out);

/* The encryption context (a JSON object of string values, or NULL/empty) in its canonical
 * encoding: u32 count, then per pair in byte order of keys: u32 len, key, u32 len, value.
 * CMEK_ERR_INVALID_ARG for a non-object or a non-string value. */
CMEK_WUR int emu_kms_context_encode(const json_t *context, struct cmek_buf *out);

/* What a blob's header says. */
struct emu_kms_blob_header {
    uint8_t version;
    char account[13];
    char key_id[EMU_KMS_KEY_ID_MAX + 1];
    char material_id[EMU_KMS_MATERIAL_ID_HEX + 1];
};

/* Encrypts plaintext under material for the key (account, key_id), binding context. */
CMEK_WUR int emu_kms_blob_seal(const struct emu_app *app, const char *account, const char *key_id,
                               const struct emu_kms_material *material, const uint8_t *plaintext,
                               size_t plaintext_len, const json_t *context,
                               struct cmek_buf *blob_out);
/* Reads the header; CMEK_ERR_PARSE when blob is not one of ours. */
CMEK_WUR int emu_kms_blob_parse(const uint8_t *blob, size_t blob_len,
                                struct emu_kms_blob_header *out);
/* Decrypts and authenticates; CMEK_ERR_CRYPTO when the tag does not verify (tampered,
 * other context, other key or material). plaintext_out is untouched on failure. */
CMEK_WUR int emu_kms_blob_open(const uint8_t *blob, size_t blob_len,
                               const struct emu_kms_material *material, const json_t *context,
                               struct cmek_buf *plaintext_out);

/* ---- Import wrapping keys ---- */

struct emu_kms_wrapping_key; /* opaque: an RSA key pair */

/* spec: "RSA_2048", "RSA_3072", "RSA_4096"; CMEK_ERR_INVALID_ARG otherwise. */
CMEK_WUR int emu_kms_wrapping_key_new(const char *spec, struct emu_kms_wrapping_key **out);
void emu_kms_wrapping_key_destroy(struct emu_kms_wrapping_key *key);
/* The public key as DER SubjectPublicKeyInfo (what GetParametersForImport returns). */
CMEK_WUR int emu_kms_wrapping_key_public_der(const struct emu_kms_wrapping_key *key,
                                             struct cmek_buf *out);
/* PEM of the private key, and back: for state snapshots. */
CMEK_WUR int emu_kms_wrapping_key_to_pem(const struct emu_kms_wrapping_key *key,
                                         struct cmek_buf *out);
CMEK_WUR int emu_kms_wrapping_key_from_pem(const char *pem, struct emu_kms_wrapping_key **out);
/* Unwraps with algorithm "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256" or "RSAES_PKCS1_V1_5";
 * CMEK_ERR_INVALID_ARG for another algorithm, CMEK_ERR_CRYPTO when it does not decrypt. */
CMEK_WUR int emu_kms_unwrap(const struct emu_kms_wrapping_key *key, const char *algorithm,
                            const uint8_t *wrapped, size_t wrapped_len, struct cmek_buf *out);
/* The client side, for tests and the Vault emulation: wrap bytes with a DER public key. */
CMEK_WUR int emu_kms_wrap(const uint8_t *public_der, size_t der_len, const char *algorithm,
                          const uint8_t *plain, size_t plain_len, struct cmek_buf *out);

#endif
