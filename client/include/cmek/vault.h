/* cmek/vault.h: HashiCorp Vault's HTTP API (/v1), the parts the CMEK flow uses: the generic
 * read/write/list/delete the vault CLI sends, secrets-engine mounts (sys/mounts), and the
 * Key Management engine (keymgmt). Every request carries X-Vault-Token, X-Vault-Request:
 * true and, when the target has one, X-Vault-Namespace.
 * Input: path parameters ("path" for the generic calls; "mount" defaults to "keymgmt";
 * "name", "key_name"), and the rest as the JSON body (writes) or query (reads). For the
 * generic write the body is the input's "data" member. LIST is sent as GET ?list=true, as
 * the CLI does. Output: the response envelope ({"request_id":...,"data":{...},...}); {} for
 * 204. Errors keep Vault's {"errors":[...]} joined into cmek_api_error.message. */
#ifndef CMEK_VAULT_H
#define CMEK_VAULT_H

#include "cmek/client.h"

/* X(name, method, path template under /v1, idempotent) */
#define CMEK_VAULT_OPERATIONS(X)                                                                   \
    X(read, "GET", "{path}", true)                                                                 \
    X(write, "PUT", "{path}", false)                                                               \
    X(list, "LIST", "{path}", true)                                                                \
    X(delete, "DELETE", "{path}", true)                                                            \
    X(list_mounts, "GET", "sys/mounts", true)                                                      \
    X(enable_secrets_engine, "POST", "sys/mounts/{path}", false)                                   \
    X(disable_secrets_engine, "DELETE", "sys/mounts/{path}", true)                                 \
    X(create_key, "POST", "{mount}/key/{name}", false)                                             \
    X(read_key, "GET", "{mount}/key/{name}", true)                                                 \
    X(list_keys, "LIST", "{mount}/key", true)                                                      \
    X(update_key, "POST", "{mount}/key/{name}", true)                                              \
    X(rotate_key, "POST", "{mount}/key/{name}/rotate", false)                                      \
    X(delete_key, "DELETE", "{mount}/key/{name}", true)                                            \
    X(list_key_kms, "LIST", "{mount}/key/{name}/kms", true)                                        \
    X(write_kms, "POST", "{mount}/kms/{name}", true)                                               \
    X(read_kms, "GET", "{mount}/kms/{name}", true)                                                 \
    X(list_kms, "LIST", "{mount}/kms", true)                                                       \
    X(delete_kms, "DELETE", "{mount}/kms/{name}", true)                                            \
    X(distribute_key, "POST", "{mount}/kms/{name}/key/{key_name}", false)                          \
    X(read_kms_key, "GET", "{mount}/kms/{name}/key/{key_name}", true)                              \
    X(list_kms_keys, "LIST", "{mount}/kms/{name}/key", true)                                       \
    X(remove_kms_key, "DELETE", "{mount}/kms/{name}/key/{key_name}", true)                         \
    X(replicate_kms_key, "POST", "{mount}/kms/{name}/key/{key_name}/replicate", false)

#define CMEK_VAULT_DECLARE(name, method, path, idem) CMEK_DECLARE_OPERATION_CALL(vault, name)
CMEK_VAULT_OPERATIONS(CMEK_VAULT_DECLARE)
#undef CMEK_VAULT_DECLARE

#endif
