/* cmek/timeutil.h: the timestamp formats AWS, the Cloud API and Vault use, all UTC. */
#ifndef CMEK_TIMEUTIL_H
#define CMEK_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cmek/error.h"

#define CMEK_AMZ_DATE_LEN   16 /* 20150830T123600Z */
#define CMEK_ISO8601_LEN    20 /* 2015-08-30T12:36:00Z */
#define CMEK_ISO8601_MS_LEN 24 /* 2015-08-30T12:36:00.000Z */

void cmek_time_format_amz(time_t t, char out[CMEK_AMZ_DATE_LEN + 1]);
void cmek_time_format_iso8601(time_t t, char out[CMEK_ISO8601_LEN + 1]);
/* With milliseconds, as IAM writes CreateDate. */
void cmek_time_format_iso8601_ms(int64_t t_ms, char out[CMEK_ISO8601_MS_LEN + 1]);
/* Parses exactly YYYYMMDD'T'HHMMSS'Z'. */
CMEK_WUR int cmek_time_parse_amz(const char *in, size_t len, time_t *out);
/* Parses RFC 3339 / ISO 8601 in UTC or with an offset: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM). */
CMEK_WUR int cmek_time_parse_rfc3339(const char *in, size_t len, time_t *out);
/* Parses a duration like "90m", "7d", "3600s", "2h" (one unsigned number, one unit). */
CMEK_WUR int cmek_duration_parse(const char *in, size_t len, int64_t *seconds_out);

#endif
