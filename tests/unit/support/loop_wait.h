/* tests/unit/support/loop_wait.h: running a test's libuv loop until what
 * the test waits for has happened, or a time limit has passed.
 *
 * A test starts something asynchronous, then waits for a flag its callback
 * sets (gr_test_run_until) or for a condition on its own state
 * (gr_test_run_until_pred).  While waiting, a 1 ms tick keeps the loop
 * waking up, so a flag set by a callback early in a loop iteration is seen
 * without waiting for the next unrelated event, and the time limit is kept
 * even when nothing else happens.  The tick is closed before the call
 * returns: the loop holds no handle of the helper's afterwards. */
#ifndef GR_TEST_LOOP_WAIT_H
#define GR_TEST_LOOP_WAIT_H

#include <stdint.h>

#include <greenroom/error.h>
#include <uv.h>

typedef int (*gr_test_pred_fn)(void *ud);

/* Runs loop until pred(ud) holds or timeout_ms has passed; returns
 * pred(ud) (0 when pred is NULL). */
int gr_test_run_until_pred(uv_loop_t *loop, gr_test_pred_fn pred, void *ud, uint64_t timeout_ms);
/* Runs loop until *flag is non-zero or timeout_ms has passed; 1 if the
 * flag was set. */
int gr_test_run_until(uv_loop_t *loop, const int *flag, uint64_t timeout_ms);
/* Runs loop for about ms milliseconds. */
void gr_test_run_for(uv_loop_t *loop, uint64_t ms);

/* What a `void (*)(void *ud, int status, const gr_error_t *err)` callback
 * reported: pass gr_test_on_status and a zeroed gr_test_status_t, then
 * wait for .done. */
typedef struct gr_test_status {
    int done;
    int status;
    char message[512]; /* err->message, or "" */
} gr_test_status_t;

void gr_test_on_status(void *ud, int status, const gr_error_t *err);

#endif
