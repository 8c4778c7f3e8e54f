/* tests/unit/test_loop_wait.c: the wait helpers every loop-driven test
 * relies on (tests/unit/support/loop_wait.c).  A wait that reported success
 * on a timeout would let those tests pass without their callbacks ever
 * running, so both outcomes are checked here. */
#include <uv.h>

#include "loop_wait.h"
#include "test.h"
#include "util.h"

static void set_flag(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

static int reached_three(void *ud)
{
    return *(int *)ud >= 3;
}

static void count(uv_timer_t *t)
{
    (*(int *)t->data)++;
}

/* A loop with one timer that calls cb on *value after ms (and every repeat ms). */
static void loop_with_timer(uv_loop_t *loop, uv_timer_t *timer, uv_timer_cb cb, int *value,
                            uint64_t ms, uint64_t repeat)
{
    uv_loop_init(loop);
    uv_timer_init(loop, timer);
    timer->data = value;
    uv_timer_start(timer, cb, ms, repeat);
}

/* Closes the timer, then the loop, which must hold nothing else. */
static void close_loop(uv_loop_t *loop, uv_timer_t *timer)
{
    uv_close((uv_handle_t *)timer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(loop) == 0);
}

TEST(a_flag_set_by_a_callback_ends_the_wait)
{
    uv_loop_t loop;
    uv_timer_t timer;
    int flag = 0;
    loop_with_timer(&loop, &timer, set_flag, &flag, 20, 0);
    uint64_t t0 = gr_now_ms();
    CHECK(gr_test_run_until(&loop, &flag, 5000) == 1);
    CHECK(gr_now_ms() - t0 < 2000);
    close_loop(&loop, &timer);
}

TEST(a_flag_never_set_times_out_and_says_so)
{
    uv_loop_t loop;
    int flag = 0;
    uv_loop_init(&loop);
    uint64_t t0 = gr_now_ms();
    CHECK(gr_test_run_until(&loop, &flag, 50) == 0);
    CHECK(gr_now_ms() - t0 >= 50);
    /* The helper's own timer is gone: the loop closes at once. */
    CHECK(uv_loop_close(&loop) == 0);
}

TEST(a_condition_is_waited_for_and_run_for_keeps_time)
{
    uv_loop_t loop;
    uv_timer_t timer;
    int n = 0;
    loop_with_timer(&loop, &timer, count, &n, 5, 5);
    CHECK(gr_test_run_until_pred(&loop, reached_three, &n, 5000) == 1);
    CHECK(n >= 3);
    uv_timer_stop(&timer);
    CHECK(gr_test_run_until_pred(&loop, reached_three, &(int){0}, 30) == 0);
    uint64_t t0 = gr_now_ms();
    gr_test_run_for(&loop, 40);
    CHECK(gr_now_ms() - t0 >= 40);
    close_loop(&loop, &timer);
}

TEST(a_status_callback_is_captured)
{
    gr_test_status_t s = {0};
    gr_error_t err = {0};
    err.code = GR_ERR_NOT_FOUND;
    snprintf(err.message, sizeof err.message, "no such thing");
    gr_test_on_status(&s, GR_ERR_NOT_FOUND, &err);
    CHECK(s.done == 1);
    CHECK(s.status == GR_ERR_NOT_FOUND);
    CHECK_STR(s.message, "no such thing");
    gr_test_status_t ok = {0};
    gr_test_on_status(&ok, 0, NULL);
    CHECK(ok.done == 1 && ok.status == 0);
    CHECK_STR(ok.message, "");
}

TEST_MAIN(TEST_ENTRY(a_flag_set_by_a_callback_ends_the_wait),
          TEST_ENTRY(a_flag_never_set_times_out_and_says_so),
          TEST_ENTRY(a_condition_is_waited_for_and_run_for_keeps_time),
          TEST_ENTRY(a_status_callback_is_captured))
