/* service.h: what every emulated service exports: one descriptor. Everything else in a
 * service's file is static. */
#ifndef EMU_SERVICE_H
#define EMU_SERVICE_H

#include "http.h"

struct emu_app;

struct emu_service {
    const char *name;
    /* Handles one complete request. Takes the store lock itself when it needs state. */
    void (*handle)(struct emu_app *app, const struct emu_request *req, struct emu_response *resp);
    /* Renders a transport-level failure (413 body too large, 500) in the service's own
     * error format. code is a hint for services with string codes. */
    void (*render_error)(const struct emu_app *app, const struct emu_request *req,
                         struct emu_response *resp, int status, const char *code,
                         const char *message);
};

extern const struct emu_service emu_service_admin;
extern const struct emu_service emu_service_iam;
extern const struct emu_service emu_service_sts;
extern const struct emu_service emu_service_kms;
extern const struct emu_service emu_service_ccloud;
extern const struct emu_service emu_service_vault;
extern const struct emu_service emu_service_aws_unknown;

/* Which service a request goes to, decided from the method, path and headers alone (so
 * a body-size failure can already be answered in that service's format). */
const struct emu_service *emu_route(const struct emu_request *req);

/* Runs the whole exchange for req: routing, the service, and a 500 in the service's format
 * if the service could not render its answer. */
void emu_dispatch(struct emu_app *app, const struct emu_request *req, struct emu_response *resp);

#endif
