/* tests/unit/support/wall_time.c: see wall_time.h. */
#include "wall_time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t gr_test_iso_ms(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    char z = 0;
    if (!s || strlen(s) != 24 ||
        sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 ||
        z != 'Z')
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

int64_t gr_test_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
