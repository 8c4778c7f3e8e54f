/* Unit tests for core/work.c on a real loop and the real libuv thread pool. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <uv.h>

#include "test.h"
#include "work.h"

/* Two pool threads, so two blocked items are enough to hold the pool busy.
 * libuv reads this once, when the first item is queued. */
#define POOL_THREADS "2"

typedef struct job {
    pthread_t work_thread;
    pthread_t done_thread;
    atomic_int ran;
    int done_calls;
    int status;
    uv_sem_t *gate; /* when set, work waits on it */
    atomic_int *started;
} job_t;

static void job_work(void *ud)
{
    job_t *job = ud;
    job->work_thread = pthread_self();
    if (job->started)
        atomic_fetch_add(job->started, 1);
    if (job->gate)
        uv_sem_wait(job->gate);
    atomic_store(&job->ran, 1);
}

static void job_done(void *ud, int status)
{
    job_t *job = ud;
    job->done_thread = pthread_self();
    job->done_calls++;
    job->status = status;
}

static void count_drained(void *ud)
{
    (*(int *)ud)++;
}

/* Waits (off the loop) until `n` items have started on pool threads. */
static int wait_started(atomic_int *started, int n)
{
    for (int i = 0; i < 5000 && atomic_load(started) < n; i++)
        uv_sleep(1);
    return atomic_load(started) >= n;
}

TEST(work_runs_off_the_loop_and_done_on_it)
{
    setenv("UV_THREADPOOL_SIZE", POOL_THREADS, 1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    pthread_t loop_thread = pthread_self();

    job_t bare = {0}, tracked = {0};
    gr_error_t err;
    CHECK(gr_work_queue(&loop, job_work, job_done, &bare, &err) == 0);
    gr_work_pool_t *pool = gr_work_pool_new(&loop);
    CHECK(gr_work_pool_submit(pool, job_work, job_done, &tracked, &err) == 0);
    CHECK(gr_work_pool_outstanding(pool) == 1);
    uv_run(&loop, UV_RUN_DEFAULT);

    for (job_t *j = &bare; j; j = j == &bare ? &tracked : NULL) {
        CHECK(atomic_load(&j->ran) == 1);
        CHECK(j->done_calls == 1);
        CHECK(j->status == 0);
        CHECK(!pthread_equal(j->work_thread, loop_thread));
        CHECK(pthread_equal(j->done_thread, loop_thread));
    }
    CHECK(gr_work_pool_outstanding(pool) == 0);
    CHECK(gr_work_queue(&loop, NULL, job_done, &bare, &err) == GR_ERR_INVALID);

    gr_work_pool_free(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST(cancel_all_cancels_queued_items_and_waits_for_running_ones)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gr_work_pool_t *pool = gr_work_pool_new(&loop);
    uv_sem_t gate;
    uv_sem_init(&gate, 0);
    atomic_int started = 0;
    gr_error_t err;

    job_t running[2] = {{.gate = &gate, .started = &started}, {.gate = &gate, .started = &started}};
    for (int i = 0; i < 2; i++)
        CHECK(gr_work_pool_submit(pool, job_work, job_done, &running[i], &err) == 0);
    REQUIRE(wait_started(&started, 2));

    job_t queued[3] = {{0}};
    for (int i = 0; i < 3; i++)
        CHECK(gr_work_pool_submit(pool, job_work, job_done, &queued[i], &err) == 0);
    CHECK(gr_work_pool_outstanding(pool) == 5);

    int drained = 0;
    gr_work_pool_cancel_all(pool, count_drained, &drained);
    CHECK(drained == 0);
    job_t late = {0};
    CHECK(gr_work_pool_submit(pool, job_work, job_done, &late, &err) == GR_ERR_CANCELED);
    CHECK(err.code == GR_ERR_CANCELED);
    uv_sem_post(&gate);
    uv_sem_post(&gate);
    uv_run(&loop, UV_RUN_DEFAULT);

    for (int i = 0; i < 2; i++) {
        CHECK(running[i].done_calls == 1);
        CHECK(running[i].status == 0);
        CHECK(atomic_load(&running[i].ran) == 1);
    }
    for (int i = 0; i < 3; i++) {
        CHECK(queued[i].done_calls == 1);
        CHECK(queued[i].status == GR_ERR_CANCELED);
        CHECK(atomic_load(&queued[i].ran) == 0);
    }
    CHECK(late.done_calls == 0);
    CHECK(drained == 1);
    CHECK(gr_work_pool_outstanding(pool) == 0);

    gr_work_pool_free(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_sem_destroy(&gate);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST(drained_is_reported_later_when_nothing_is_outstanding)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gr_work_pool_t *pool = gr_work_pool_new(&loop);
    int drained = 0;
    gr_work_pool_cancel_all(pool, count_drained, &drained);
    CHECK(drained == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(drained == 1);
    gr_work_pool_free(pool);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST(freeing_a_busy_pool_detaches_its_items)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    gr_work_pool_t *pool = gr_work_pool_new(&loop);
    uv_sem_t gate;
    uv_sem_init(&gate, 0);
    atomic_int started = 0;
    gr_error_t err;
    job_t busy = {.gate = &gate, .started = &started};
    CHECK(gr_work_pool_submit(pool, job_work, job_done, &busy, &err) == 0);
    REQUIRE(wait_started(&started, 1));
    gr_work_pool_free(pool);
    uv_sem_post(&gate);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(busy.done_calls == 1);
    CHECK(busy.status == 0);
    uv_sem_destroy(&gate);
    CHECK(uv_loop_close(&loop) == 0);
}

TEST_MAIN(TEST_ENTRY(work_runs_off_the_loop_and_done_on_it),
          TEST_ENTRY(cancel_all_cancels_queued_items_and_waits_for_running_ones),
          TEST_ENTRY(drained_is_reported_later_when_nothing_is_outstanding),
          TEST_ENTRY(freeing_a_busy_pool_detaches_its_items))
