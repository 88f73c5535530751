/* aws_client.h: the emulator as a client of its own AWS services. Emulated principals (a
 * CockroachDB cluster, Vault's awskms provider) reach STS and KMS the way a remote client
 * does: a SigV4-signed POST, signed at the wall clock, through the router, so signatures,
 * policies and key states all apply. The caller must not hold the store lock: the
 * dispatched request takes it. */
#ifndef EMU_AWS_CLIENT_H
#define EMU_AWS_CLIENT_H

#include "app.h"
#include "cmek/buf.h"
#include "cmek/error.h"
#include "cmek/sigv4.h"

struct emu_aws_client_call {
    const char *service; /* "sts", "kms" */
    const char *region;
    const char *content_type;
    const char *target; /* X-Amz-Target, or NULL for the Query protocol */
    const char *body;
    const struct cmek_sigv4_credentials *credentials; /* borrowed */
};

/* Sends call; *status is the HTTP status and out (reset first) the response body. Non-zero
 * only when the request could not be made (signing, memory). */
CMEK_WUR int emu_aws_client_post(struct emu_app *app, const struct emu_aws_client_call *call,
                                 int *status, struct cmek_buf *out);

#endif
