/* core/work.c: thread-pool items and the registry that lets shutdown cancel
 * them.
 *
 * Each item is a uv_work_t inside a small record that remembers the module's
 * callbacks and, for a pool, its place in the pool's list.  The list is only
 * touched on the loop thread (submit, cancel, after-work), so it needs no
 * lock. */
#include "work.h"

#include <stdlib.h>

#include "util.h"

typedef struct gr__work_item {
    uv_work_t req;
    gr_work_fn work;
    gr_work_done_fn done;
    void *user_data;
    gr_work_pool_t *pool; /* NULL for an untracked or detached item */
    struct gr__work_item *prev;
    struct gr__work_item *next;
} gr__work_item_t;

struct gr_work_pool {
    uv_loop_t *loop;
    gr__work_item_t *items; /* outstanding, newest first */
    size_t outstanding;
    int closing; /* cancel_all was called */
    void (*drained)(void *user_data);
    void *drained_user_data;
    uv_timer_t timer; /* reports "drained" when nothing was outstanding */
};

static void gr__pool_unlink(gr_work_pool_t *pool, gr__work_item_t *item)
{
    if (item->prev)
        item->prev->next = item->next;
    else
        pool->items = item->next;
    if (item->next)
        item->next->prev = item->prev;
    item->prev = item->next = NULL;
    pool->outstanding--;
}

static void gr__pool_report_drained(gr_work_pool_t *pool)
{
    void (*drained)(void *) = pool->drained;
    pool->drained = NULL;
    if (drained)
        drained(pool->drained_user_data);
}

static void gr__work_run(uv_work_t *req)
{
    gr__work_item_t *item = req->data;
    item->work(item->user_data);
}

static void gr__work_after(uv_work_t *req, int status)
{
    gr__work_item_t *item = req->data;
    gr_work_pool_t *pool = item->pool;
    if (pool)
        gr__pool_unlink(pool, item);
    if (item->done)
        item->done(item->user_data, status == UV_ECANCELED ? GR_ERR_CANCELED : 0);
    free(item);
    /* Last: `drained` may free the pool. */
    if (pool && pool->closing && pool->outstanding == 0)
        gr__pool_report_drained(pool);
}

static int gr__work_start(uv_loop_t *loop, gr_work_pool_t *pool, gr_work_fn work,
                          gr_work_done_fn done, void *user_data, gr_error_t *err)
{
    if (!loop || !work)
        return gr_error_set(err, GR_ERR_INVALID, "work: a loop and a work function are required");
    gr__work_item_t *item = gr_xcalloc(1, sizeof *item);
    item->req.data = item;
    item->work = work;
    item->done = done;
    item->user_data = user_data;
    int rc = uv_queue_work(loop, &item->req, gr__work_run, gr__work_after);
    if (rc != 0) {
        free(item);
        return gr_error_set(err, GR_ERR_INVALID, "work: libuv refused the item: %s",
                            uv_strerror(rc));
    }
    if (pool) {
        item->pool = pool;
        item->next = pool->items;
        if (pool->items)
            pool->items->prev = item;
        pool->items = item;
        pool->outstanding++;
    }
    return 0;
}

int gr_work_queue(uv_loop_t *loop, gr_work_fn work, gr_work_done_fn done, void *user_data,
                  gr_error_t *err)
{
    return gr__work_start(loop, NULL, work, done, user_data, err);
}

gr_work_pool_t *gr_work_pool_new(uv_loop_t *loop)
{
    gr_work_pool_t *pool = gr_xcalloc(1, sizeof *pool);
    pool->loop = loop;
    uv_timer_init(loop, &pool->timer);
    pool->timer.data = pool;
    return pool;
}

int gr_work_pool_submit(gr_work_pool_t *pool, gr_work_fn work, gr_work_done_fn done,
                        void *user_data, gr_error_t *err)
{
    if (!pool)
        return gr_error_set(err, GR_ERR_INVALID, "work: no work pool");
    if (pool->closing)
        return gr_error_set(err, GR_ERR_CANCELED,
                            "work: the host is shutting down and accepts no new work");
    return gr__work_start(pool->loop, pool, work, done, user_data, err);
}

size_t gr_work_pool_outstanding(const gr_work_pool_t *pool)
{
    return pool ? pool->outstanding : 0;
}

static void gr__pool_timer_cb(uv_timer_t *timer)
{
    gr_work_pool_t *pool = timer->data;
    if (pool->outstanding == 0)
        gr__pool_report_drained(pool);
}

void gr_work_pool_cancel_all(gr_work_pool_t *pool, void (*drained)(void *user_data),
                             void *user_data)
{
    if (!pool || pool->closing)
        return;
    pool->closing = 1;
    pool->drained = drained;
    pool->drained_user_data = user_data;
    /* uv_cancel only succeeds for items no thread has picked up; their
     * after-work callback then runs on a later loop turn with UV_ECANCELED.
     * Running items fail with UV_EBUSY and are simply waited for. */
    for (gr__work_item_t *item = pool->items; item; item = item->next)
        uv_cancel((uv_req_t *)&item->req);
    if (pool->outstanding == 0)
        uv_timer_start(&pool->timer, gr__pool_timer_cb, 0, 0);
}

static void gr__pool_closed(uv_handle_t *handle)
{
    free(handle->data);
}

void gr_work_pool_free(gr_work_pool_t *pool)
{
    if (!pool)
        return;
    for (gr__work_item_t *item = pool->items; item; item = item->next) {
        uv_cancel((uv_req_t *)&item->req);
        item->pool = NULL;
    }
    pool->items = NULL;
    uv_close((uv_handle_t *)&pool->timer, gr__pool_closed);
}
