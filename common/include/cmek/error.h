/* cmek/error.h: the one error enum of libcmek-common, returned by value. */
#ifndef CMEK_ERROR_H
#define CMEK_ERROR_H

#define CMEK_WUR __attribute__((warn_unused_result))

enum cmek_error {
    CMEK_OK = 0,
    CMEK_ERR_NOMEM,       /* an allocation failed */
    CMEK_ERR_LIMIT,       /* a capped buffer or a documented limit would be exceeded */
    CMEK_ERR_INVALID_ARG, /* the caller passed something the function does not accept */
    CMEK_ERR_PARSE,       /* input bytes are not in the expected format */
    CMEK_ERR_CRYPTO,      /* OpenSSL reported a failure */
    CMEK_ERR_NOT_FOUND,   /* a looked-up item does not exist */
    CMEK_ERR_IO,          /* reading or writing a file or socket failed */
    CMEK_ERR_TRANSPORT,   /* libcmek: no HTTP answer (connect, TLS, timeout, size cap) */
    CMEK_ERR_SERVICE,     /* libcmek: the service answered with its own error */
    CMEK_ERR_COUNT
};

/* Static text for an error code; never NULL. */
const char *cmek_error_str(int err);

#endif
