/* proto_awsjson.h: the AWS JSON 1.1 protocol (KMS): errors as {"__type","message"} with
 * AWS's statuses; botocore reads the error code from __type only, so it is always there. */
#ifndef EMU_PROTO_AWSJSON_H
#define EMU_PROTO_AWSJSON_H

#include "http.h"

/* message NULL: no message member (InvalidCiphertextException and a few others). */
void emu_awsjson_render_error(struct emu_response *resp, const char *request_id, int status,
                              const char *type, const char *message);

#endif
