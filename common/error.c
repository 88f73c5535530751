#include "cmek/error.h"

#include <stddef.h>

static const char *const s_error_text[CMEK_ERR_COUNT] = {
    [CMEK_OK] = "ok",
    [CMEK_ERR_NOMEM] = "out of memory",
    [CMEK_ERR_LIMIT] = "size limit exceeded",
    [CMEK_ERR_INVALID_ARG] = "invalid argument",
    [CMEK_ERR_PARSE] = "malformed input",
    [CMEK_ERR_CRYPTO] = "cryptographic operation failed",
    [CMEK_ERR_NOT_FOUND] = "not found",
    [CMEK_ERR_IO] = "input/output error",
    [CMEK_ERR_TRANSPORT] = "no answer from the service",
    [CMEK_ERR_SERVICE] = "the service returned an error",
};

const char *cmek_error_str(int err)
{
    if (err < 0 || err >= CMEK_ERR_COUNT || s_error_text[err] == NULL) {
        return "unknown error";
    }
    return s_error_text[err];
}
