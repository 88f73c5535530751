#include "proto_awsjson.h"

#include <jansson.h>
#include <stdlib.h>

void emu_awsjson_render_error(struct emu_response *resp, const char *request_id, int status,
                              const char *type, const char *message)
{
    resp->status = status;
    resp->content_type = "application/x-amz-json-1.1";
    emu_response_add_header(resp, "x-amzn-RequestId", request_id);
    cmek_buf_reset(&resp->body);
    json_t *o = message != NULL ? json_pack("{s:s,s:s}", "__type", type, "message", message)
                                : json_pack("{s:s}", "__type", type);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text == NULL || cmek_buf_append_str(&resp->body, text)) {
        resp->status = 0;
    }
    free(text);
    json_decref(o);
}
