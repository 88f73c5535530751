/* cmek/iam.h: AWS IAM (Query protocol, API version 2010-05-08, signed for the target's
 * iam_region), every operation cmek-emulator serves. Input: the action's parameters with
 * AWS's names; policy documents are JSON text (strings). Output: <ActionResult> as JSON. */
#ifndef CMEK_IAM_H
#define CMEK_IAM_H

#include "cmek/client.h"

/* X(name, AWS action, idempotent) */
#define CMEK_IAM_OPERATIONS(X)                                                                     \
    X(attach_role_policy, "AttachRolePolicy", true)                                                \
    X(create_access_key, "CreateAccessKey", false)                                                 \
    X(create_policy, "CreatePolicy", false)                                                        \
    X(create_role, "CreateRole", false)                                                            \
    X(create_user, "CreateUser", false)                                                            \
    X(delete_access_key, "DeleteAccessKey", false)                                                 \
    X(delete_role, "DeleteRole", false)                                                            \
    X(delete_role_policy, "DeleteRolePolicy", false)                                               \
    X(detach_role_policy, "DetachRolePolicy", false)                                               \
    X(get_policy, "GetPolicy", true)                                                               \
    X(get_role, "GetRole", true)                                                                   \
    X(get_role_policy, "GetRolePolicy", true)                                                      \
    X(get_user, "GetUser", true)                                                                   \
    X(list_access_keys, "ListAccessKeys", true)                                                    \
    X(list_attached_role_policies, "ListAttachedRolePolicies", true)                               \
    X(list_role_policies, "ListRolePolicies", true)                                                \
    X(list_roles, "ListRoles", true)                                                               \
    X(put_role_policy, "PutRolePolicy", true)                                                      \
    X(tag_role, "TagRole", true)                                                                   \
    X(update_assume_role_policy, "UpdateAssumeRolePolicy", true)                                   \
    X(update_role, "UpdateRole", true)

#define CMEK_IAM_DECLARE(name, wire, idem) CMEK_DECLARE_OPERATION_CALL(iam, name)
CMEK_IAM_OPERATIONS(CMEK_IAM_DECLARE)
#undef CMEK_IAM_DECLARE

#endif
