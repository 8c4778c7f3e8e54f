/* tests/unit/support/loop_wait.c: see loop_wait.h. */
#include "loop_wait.h"

#include <stdio.h>

#include "util.h"

/* The tick only wakes the loop; the waiting loop below does the checks. */
static void on_tick(uv_timer_t *t)
{
    (void)t;
}

int gr_test_run_until_pred(uv_loop_t *loop, gr_test_pred_fn pred, void *ud, uint64_t timeout_ms)
{
    uv_timer_t tick;
    uint64_t deadline = gr_now_ms() + timeout_ms;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 1, 1);
    while (!(pred && pred(ud)) && gr_now_ms() < deadline)
        uv_run(loop, UV_RUN_ONCE);
    /* The timer lives on this stack frame: its close must finish here. */
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return pred ? pred(ud) : 0;
}

static int flag_set(void *ud)
{
    return *(const int *)ud != 0;
}

int gr_test_run_until(uv_loop_t *loop, const int *flag, uint64_t timeout_ms)
{
    return gr_test_run_until_pred(loop, flag_set, (void *)flag, timeout_ms);
}

void gr_test_run_for(uv_loop_t *loop, uint64_t ms)
{
    gr_test_run_until_pred(loop, NULL, NULL, ms);
}

void gr_test_on_status(void *ud, int status, const gr_error_t *err)
{
    gr_test_status_t *s = ud;
    s->done = 1;
    s->status = status;
    snprintf(s->message, sizeof s->message, "%s", err ? err->message : "");
}
