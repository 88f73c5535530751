/* cmek/emulator.h: cmek-emulator's own endpoints (../shared/CONTRACT.md), for drills and
 * tests. Every operation here is emulator-only: cmek-run skips it against live targets.
 * Input: path parameters ("cluster_id", "key") and the JSON body; write_row's body is the
 * input's "value" member sent as is. Output: the response body as JSON. */
#ifndef CMEK_EMULATOR_H
#define CMEK_EMULATOR_H

#include "cmek/client.h"

/* X(name, method, path template, idempotent) */
#define CMEK_EMULATOR_OPERATIONS(X)                                                                \
    X(health, "GET", "/_emulator/health", true)                                                    \
    X(reset, "POST", "/_emulator/reset", true)                                                     \
    X(get_clock, "GET", "/_emulator/clock", true)                                                  \
    X(set_clock, "POST", "/_emulator/clock", false)                                                \
    X(state, "GET", "/_emulator/state", true)                                                      \
    X(write_row, "PUT", "/_emulator/clusters/{cluster_id}/rows/{key}", true)                       \
    X(read_row, "GET", "/_emulator/clusters/{cluster_id}/rows/{key}", true)                        \
    X(restart_cluster, "POST", "/_emulator/clusters/{cluster_id}/restart", false)                  \
    X(restore_cluster, "POST", "/_emulator/clusters/{cluster_id}/restore", false)

#define CMEK_EMULATOR_DECLARE(name, method, path, idem) CMEK_DECLARE_OPERATION_CALL(emulator, name)
CMEK_EMULATOR_OPERATIONS(CMEK_EMULATOR_DECLARE)
#undef CMEK_EMULATOR_DECLARE

#endif
