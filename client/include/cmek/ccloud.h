/* cmek/ccloud.h: the CockroachDB Cloud API (https://cockroachlabs.cloud/api/v1, OpenAPI
 * version 2024-09-16), the operations of the CMEK lifecycle. Every request carries
 * "Authorization: Bearer <api key>", "Cc-Version" and JSON content types. Input: the path
 * parameters ({cluster_id}) plus, for POST/PUT/PATCH, the body's members, or for GET and
 * DELETE, query parameters (e.g. "pagination.limit"). Output: the response body. Errors
 * keep the API's {code,message,details}: cmek_api_error.ccloud_code and .message. */
#ifndef CMEK_CCLOUD_H
#define CMEK_CCLOUD_H

#include "cmek/client.h"

/* X(name, method, path template, idempotent) */
#define CMEK_CCLOUD_OPERATIONS(X)                                                                  \
    X(get_organization, "GET", "/api/v1/organization", true)                                       \
    X(list_clusters, "GET", "/api/v1/clusters", true)                                              \
    X(create_cluster, "POST", "/api/v1/clusters", false)                                           \
    X(get_cluster, "GET", "/api/v1/clusters/{cluster_id}", true)                                   \
    X(update_cluster, "PATCH", "/api/v1/clusters/{cluster_id}", false)                             \
    X(delete_cluster, "DELETE", "/api/v1/clusters/{cluster_id}", false)                            \
    X(list_cluster_nodes, "GET", "/api/v1/clusters/{cluster_id}/nodes", true)                      \
    X(list_available_regions, "GET", "/api/v1/clusters/available-regions", true)                   \
    X(get_cmek, "GET", "/api/v1/clusters/{cluster_id}/cmek", true)                                 \
    X(enable_cmek, "POST", "/api/v1/clusters/{cluster_id}/cmek", false)                            \
    X(update_cmek_spec, "PUT", "/api/v1/clusters/{cluster_id}/cmek", false)                        \
    X(update_cmek_status, "PATCH", "/api/v1/clusters/{cluster_id}/cmek", false)                    \
    X(get_client_ca_cert, "GET", "/api/v1/clusters/{cluster_id}/client-ca-cert", true)             \
    X(set_client_ca_cert, "POST", "/api/v1/clusters/{cluster_id}/client-ca-cert", false)           \
    X(update_client_ca_cert, "PATCH", "/api/v1/clusters/{cluster_id}/client-ca-cert", false)       \
    X(delete_client_ca_cert, "DELETE", "/api/v1/clusters/{cluster_id}/client-ca-cert", false)

#define CMEK_CCLOUD_DECLARE(name, method, path, idem) CMEK_DECLARE_OPERATION_CALL(ccloud, name)
CMEK_CCLOUD_OPERATIONS(CMEK_CCLOUD_DECLARE)
#undef CMEK_CCLOUD_DECLARE

#endif
