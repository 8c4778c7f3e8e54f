/* core/work.h: CPU-bound work on the libuv thread pool.
 *
 * work(user_data) runs on a pool thread; done(user_data, status) runs on the
 * loop thread afterwards, with status 0, or GR_ERR_CANCELED when the item
 * was cancelled before a thread picked it up (work did not run then).  A
 * work function must not touch any host handle: it computes, and done
 * publishes the result (metrics, responses, logs) on the loop.
 *
 * gr_work_queue is the bare wrapper.  A gr_work_pool_t also remembers every
 * item it queued, so shutdown can cancel whatever has not started and learn
 * when the rest has finished:
 *
 *     gr_work_pool_cancel_all(pool, work_drained, host);   // at shutdown
 *     ...work_drained(host) runs once every done has run...
 *     gr_work_pool_free(pool);
 *
 * Items already running cannot be interrupted; they finish and their done
 * gets 0.  The pool holds one timer handle (to report "drained" on a later
 * loop turn when nothing is outstanding), so after gr_work_pool_free the
 * loop must run once more to release it, as for any libuv handle. */
#ifndef GR_CORE_WORK_H
#define GR_CORE_WORK_H

#include <uv.h>

#include <greenroom/greenroom.h>

/* Queues one item with no tracking.  Returns 0, or GR_ERR_INVALID with err
 * filled when an argument is missing or libuv refuses. */
int gr_work_queue(uv_loop_t *loop, gr_work_fn work, gr_work_done_fn done, void *user_data,
                  gr_error_t *err);

typedef struct gr_work_pool gr_work_pool_t;

gr_work_pool_t *gr_work_pool_new(uv_loop_t *loop);

/* As gr_work_queue, tracked.  After gr_work_pool_cancel_all it refuses new
 * items with GR_ERR_CANCELED (the host is shutting down). */
int gr_work_pool_submit(gr_work_pool_t *pool, gr_work_fn work, gr_work_done_fn done,
                        void *user_data, gr_error_t *err);

/* Items submitted and whose done has not run yet. */
size_t gr_work_pool_outstanding(const gr_work_pool_t *pool);

/* Cancels every queued item (their done gets GR_ERR_CANCELED), refuses new
 * ones, and calls drained(user_data) on the loop once no item is outstanding;
 * never from inside this call.  drained may be NULL.  Call it once. */
void gr_work_pool_cancel_all(gr_work_pool_t *pool, void (*drained)(void *user_data),
                             void *user_data);

/* Frees the pool.  Call it after `drained`: an item still outstanding is
 * cancelled if it can be and detached, and its done still runs later. */
void gr_work_pool_free(gr_work_pool_t *pool);

#endif
