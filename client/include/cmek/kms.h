/* cmek/kms.h: AWS KMS (JSON 1.1, "TrentService.<Action>"), every operation cmek-emulator
 * serves. Input: the request body object, with AWS's member names (binary members such as
 * Plaintext and CiphertextBlob in base64, as on the wire). Output: the response body. */
#ifndef CMEK_KMS_H
#define CMEK_KMS_H

#include "cmek/client.h"

/* X(name, AWS action, idempotent) */
#define CMEK_KMS_OPERATIONS(X)                                                                     \
    X(cancel_key_deletion, "CancelKeyDeletion", false)                                             \
    X(create_alias, "CreateAlias", false)                                                          \
    X(create_key, "CreateKey", false)                                                              \
    X(decrypt, "Decrypt", true)                                                                    \
    X(delete_alias, "DeleteAlias", false)                                                          \
    X(delete_imported_key_material, "DeleteImportedKeyMaterial", false)                            \
    X(describe_key, "DescribeKey", true)                                                           \
    X(disable_key, "DisableKey", true)                                                             \
    X(disable_key_rotation, "DisableKeyRotation", true)                                            \
    X(enable_key, "EnableKey", true)                                                               \
    X(enable_key_rotation, "EnableKeyRotation", true)                                              \
    X(encrypt, "Encrypt", true)                                                                    \
    X(generate_data_key, "GenerateDataKey", true)                                                  \
    X(generate_data_key_without_plaintext, "GenerateDataKeyWithoutPlaintext", true)                \
    X(generate_random, "GenerateRandom", true)                                                     \
    X(get_key_policy, "GetKeyPolicy", true)                                                        \
    X(get_key_rotation_status, "GetKeyRotationStatus", true)                                       \
    X(get_parameters_for_import, "GetParametersForImport", true)                                   \
    X(import_key_material, "ImportKeyMaterial", false)                                             \
    X(list_aliases, "ListAliases", true)                                                           \
    X(list_key_policies, "ListKeyPolicies", true)                                                  \
    X(list_key_rotations, "ListKeyRotations", true)                                                \
    X(list_keys, "ListKeys", true)                                                                 \
    X(list_resource_tags, "ListResourceTags", true)                                                \
    X(put_key_policy, "PutKeyPolicy", true)                                                        \
    X(re_encrypt, "ReEncrypt", true)                                                               \
    X(replicate_key, "ReplicateKey", false)                                                        \
    X(rotate_key_on_demand, "RotateKeyOnDemand", false)                                            \
    X(schedule_key_deletion, "ScheduleKeyDeletion", false)                                         \
    X(tag_resource, "TagResource", true)                                                           \
    X(untag_resource, "UntagResource", true)                                                       \
    X(update_alias, "UpdateAlias", true)

#define CMEK_KMS_DECLARE(name, wire, idem) CMEK_DECLARE_OPERATION_CALL(kms, name)
CMEK_KMS_OPERATIONS(CMEK_KMS_DECLARE)
#undef CMEK_KMS_DECLARE

#endif
