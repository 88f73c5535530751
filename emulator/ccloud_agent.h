/* ccloud_agent.h: the emulated cluster as an AWS principal.
 *
 * The cluster signs requests with CockroachDB Cloud's principal (the IAM user with an active
 * access key in the cluster's account_id) and sends them in-process through emu_dispatch to
 * the emulated STS (AssumeRole of the region's auth_principal with ExternalId = the
 * organization id) and KMS (GenerateDataKey, Decrypt as that session), exactly as a remote
 * client would: SigV4, trust policies, key policies and key states all apply.
 *
 * Asynchrony (the one place that says how Cloud API state changes take effect): POST, PUT and
 * PATCH on /cmek only record a pending operation (emu_cc_pending) and answer with the
 * in-progress status. The work runs at the start of the next Cloud API or
 * /_emulator/clusters request that touches that cluster (emu_cc_settle): the inputs are copied
 * under the store lock, the STS and KMS calls run with the lock released (each dispatched
 * request takes it itself), and the outcome is committed under the lock only if the cluster's
 * generation did not change meanwhile (else it is dropped and the next request retries). So a
 * client's first poll after the change sees the outcome, as Terraform's polling expects.
 *
 * None of these functions may be called with the store lock held. */
#ifndef EMU_CCLOUD_AGENT_H
#define EMU_CCLOUD_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#include "cmek/error.h"

struct emu_app;

/* Runs cluster_id's pending work, or its first start after a world load, if any. A cluster
 * that does not exist is no error (the caller answers not found). CMEK_ERR_NOMEM etc. only
 * for internal failures; AWS failures become CMEK statuses and user messages. */
CMEK_WUR int emu_cc_settle(struct emu_app *app, const char *cluster_id);

enum emu_cc_start_mode {
    EMU_CC_START_RESTART, /* the cluster restarts: drop the key, unwrap it again */
    EMU_CC_START_RESTORE, /* support restores a REVOKED cluster: back to ENABLED if usable */
};

/* Restart or restore: why it could not (a client-safe text) is copied into why (cap bytes,
 * "" on success). *known is false when the cluster does not exist. *ok says whether the
 * cluster now runs with its key. */
CMEK_WUR int emu_cc_start(struct emu_app *app, const char *cluster_id, enum emu_cc_start_mode mode,
                          bool *known, bool *ok, char *why, size_t cap);

#endif
