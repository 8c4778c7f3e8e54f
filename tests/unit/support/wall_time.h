/* tests/unit/support/wall_time.h: wall-clock times as the host's APIs
 * answer them ("2024-05-01T12:00:00.123Z"), for tests that check when
 * something happened. */
#ifndef GR_TEST_WALL_TIME_H
#define GR_TEST_WALL_TIME_H

#include <stdint.h>

/* Milliseconds since the epoch of "YYYY-MM-DDTHH:MM:SS.mmmZ", or -1 when s
 * is NULL or has another form. */
int64_t gr_test_iso_ms(const char *s);
/* The wall clock (CLOCK_REALTIME) in milliseconds since the epoch. */
int64_t gr_test_wall_ms(void);

#endif
