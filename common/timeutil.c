#include "cmek/timeutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool s_digits(const char *in, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] < '0' || in[i] > '9') {
            return false;
        }
        v = v * 10 + (in[i] - '0');
    }
    *out = v;
    return true;
}

/* Years 1970..9999 by arithmetic (days to civil date, H. Hinnant's algorithm), because
 * gmtime_r takes glibc's time-zone lock and strftime goes through the locale machinery, and
 * SigV4 formats a date on every request. Outside that range (never in practice) the libc
 * path, which the fast one matches exactly (tests/test_common.c compares them). */
#define S_LAST_FOUR_DIGIT_SECOND 253402300799LL /* 9999-12-31T23:59:59Z */

struct s_civil {
    int year, mon, day, hour, min, sec;
};

static bool s_civil_fast(time_t t, struct s_civil *c)
{
    if (t < 0 || (long long)t > S_LAST_FOUR_DIGIT_SECOND) {
        return false;
    }
    long long days = (long long)t / 86400;
    long long rem = (long long)t % 86400;
    c->hour = (int)(rem / 3600);
    c->min = (int)(rem / 60 % 60);
    c->sec = (int)(rem % 60);
    long long z = days + 719468;
    long long era = z / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    c->year = (int)(yoe + era * 400 + (c->mon <= 2 ? 1 : 0));
    return true;
}

static char *s_put_digits(char *out, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return out + width;
}

void cmek_time_format_amz(time_t t, char out[CMEK_AMZ_DATE_LEN + 1])
{
    struct s_civil c;
    if (!s_civil_fast(t, &c)) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, CMEK_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
        return;
    }
    char *p = s_put_digits(out, c.year, 4);
    p = s_put_digits(p, c.mon, 2);
    p = s_put_digits(p, c.day, 2);
    *p++ = 'T';
    p = s_put_digits(p, c.hour, 2);
    p = s_put_digits(p, c.min, 2);
    p = s_put_digits(p, c.sec, 2);
    *p++ = 'Z';
    *p = '\0';
}

void cmek_time_format_iso8601(time_t t, char out[CMEK_ISO8601_LEN + 1])
{
    struct s_civil c;
    if (!s_civil_fast(t, &c)) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, CMEK_ISO8601_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return;
    }
    char *p = s_put_digits(out, c.year, 4);
    *p++ = '-';
    p = s_put_digits(p, c.mon, 2);
    *p++ = '-';
    p = s_put_digits(p, c.day, 2);
    *p++ = 'T';
    p = s_put_digits(p, c.hour, 2);
    *p++ = ':';
    p = s_put_digits(p, c.min, 2);
    *p++ = ':';
    p = s_put_digits(p, c.sec, 2);
    *p++ = 'Z';
    *p = '\0';
}

void cmek_time_format_iso8601_ms(int64_t t_ms, char out[CMEK_ISO8601_MS_LEN + 1])
{
    time_t t = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[CMEK_ISO8601_LEN + 1];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    int ms = (int)(t_ms % 1000);
    memcpy(out, base, CMEK_ISO8601_LEN - 1);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

static bool s_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* The inverse of s_civil_fast (civil date to days, H. Hinnant's algorithm): timegm is
 * glibc's mktime under the time-zone lock, and SigV4 parses a date on every request. A
 * date that does not exist (30 February) is refused, and so is 23:59:60, which timegm would
 * carry into the next day. */
static int s_make_time(int year, int mon, int day, int hour, int min, int sec, time_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 ||
        day > mdays[mon - 1] + (mon == 2 && s_leap(year)) || hour > 23 || min > 59 || sec > 60 ||
        (hour == 23 && min == 59 && sec == 60)) {
        return CMEK_ERR_PARSE;
    }
    long long y = mon <= 2 ? year - 1 : year;
    long long era = y / 400;
    long long yoe = y - era * 400;
    long long mp = mon > 2 ? mon - 3 : mon + 9;
    long long doy = (153 * mp + 2) / 5 + day - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    *out = (time_t)(days * 86400 + hour * 3600LL + min * 60LL + sec);
    return CMEK_OK;
}

int cmek_time_parse_amz(const char *in, size_t len, time_t *out)
{
    int y, mo, d, h, mi, s;
    if (len != CMEK_AMZ_DATE_LEN || in[8] != 'T' || in[15] != 'Z' || !s_digits(in, 4, &y) ||
        !s_digits(in + 4, 2, &mo) || !s_digits(in + 6, 2, &d) || !s_digits(in + 9, 2, &h) ||
        !s_digits(in + 11, 2, &mi) || !s_digits(in + 13, 2, &s)) {
        return CMEK_ERR_PARSE;
    }
    return s_make_time(y, mo, d, h, mi, s, out);
}

int cmek_time_parse_rfc3339(const char *in, size_t len, time_t *out)
{
    int y, mo, d, h, mi, s;
    if (len < 20 || in[4] != '-' || in[7] != '-' || (in[10] != 'T' && in[10] != 't') ||
        in[13] != ':' || in[16] != ':' || !s_digits(in, 4, &y) || !s_digits(in + 5, 2, &mo) ||
        !s_digits(in + 8, 2, &d) || !s_digits(in + 11, 2, &h) || !s_digits(in + 14, 2, &mi) ||
        !s_digits(in + 17, 2, &s)) {
        return CMEK_ERR_PARSE;
    }
    size_t i = 19;
    if (in[i] == '.') {
        i++;
        size_t start = i;
        while (i < len && in[i] >= '0' && in[i] <= '9') {
            i++;
        }
        if (i == start) {
            return CMEK_ERR_PARSE;
        }
    }
    long offset = 0;
    if (i < len && (in[i] == 'Z' || in[i] == 'z')) {
        i++;
    } else if (i + 6 == len && (in[i] == '+' || in[i] == '-') && in[i + 3] == ':') {
        int oh, om;
        if (!s_digits(in + i + 1, 2, &oh) || !s_digits(in + i + 4, 2, &om) || oh > 23 || om > 59) {
            return CMEK_ERR_PARSE;
        }
        offset = (oh * 3600L + om * 60L) * (in[i] == '+' ? 1 : -1);
        i += 6;
    } else {
        return CMEK_ERR_PARSE;
    }
    if (i != len) {
        return CMEK_ERR_PARSE;
    }
    time_t t;
    int rc = s_make_time(y, mo, d, h, mi, s, &t);
    if (rc) {
        return rc;
    }
    *out = t - offset;
    return CMEK_OK;
}

int cmek_duration_parse(const char *in, size_t len, int64_t *seconds_out)
{
    if (len < 2 || len > 11) { /* at most 10 digits: no overflow in any unit */
        return CMEK_ERR_PARSE;
    }
    int64_t n = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        if (in[i] < '0' || in[i] > '9') {
            return CMEK_ERR_PARSE;
        }
        n = n * 10 + (in[i] - '0');
    }
    int64_t unit;
    switch (in[len - 1]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return CMEK_ERR_PARSE;
    }
    *seconds_out = n * unit;
    return CMEK_OK;
}
