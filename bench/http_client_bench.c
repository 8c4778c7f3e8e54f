/* bench/http_client_bench.c: outbound HTTP calls per second.
 *
 * A loopback server (tests/unit/support/loopback_server.c) runs on its own
 * thread and loop and answers every GET at once with a small JSON body; the
 * client under test runs on the main loop and keeps `concurrency` calls in
 * flight until `total` have completed.  Prints one line per concurrency. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "http_client.h"
#include "log.h"
#include "loopback_server.h"
#include "util.h"

static const char body[] = "{\"id\":1000,\"name\":\"hello-world\",\"private\":false}";

typedef struct server_thread {
    uv_loop_t loop;
    uv_async_t stop;
    gr_ls_t *srv;
    uv_sem_t ready;
} server_thread_t;

static void answer(gr_ls_request_t *req, void *ud)
{
    (void)ud;
    gr_ls_respond(req, 200, "Content-Type: application/json\r\n", body, sizeof body - 1);
}

static void on_stop(uv_async_t *a)
{
    server_thread_t *st = a->data;
    gr_ls_stop(st->srv);
    uv_close((uv_handle_t *)a, NULL);
}

static void server_main(void *arg)
{
    server_thread_t *st = arg;
    uv_loop_init(&st->loop);
    uv_async_init(&st->loop, &st->stop, on_stop);
    st->stop.data = st;
    st->srv = gr_ls_start(&st->loop, answer, NULL);
    uv_sem_post(&st->ready);
    uv_run(&st->loop, UV_RUN_DEFAULT);
    uv_loop_close(&st->loop);
}

typedef struct bench {
    gr_http_client_t *http;
    const char *url;
    int total, started, done, failed;
} bench_t;

static void send_one(bench_t *b);

static void on_reply(const gr_http_response_t *res, const gr_error_t *err, void *ud)
{
    bench_t *b = ud;
    b->done++;
    if (err || gr_http_response_status(res) != 200)
        b->failed++;
    if (b->started < b->total)
        send_one(b);
}

static void send_one(bench_t *b)
{
    b->started++;
    gr_http_call_send(gr_http_call_new(b->http, "GET", b->url), on_reply, b);
}

int main(int argc, char **argv)
{
    int total = argc > 1 ? atoi(argv[1]) : 20000;
    server_thread_t st;
    memset(&st, 0, sizeof st);
    uv_sem_init(&st.ready, 0);
    uv_thread_t tid;
    uv_thread_create(&tid, server_main, &st);
    uv_sem_wait(&st.ready);
    if (!st.srv) {
        fprintf(stderr, "could not start the loopback server\n");
        return 1;
    }
    char *url = gr_xasprintf("%s/repos/o/r", gr_ls_base_url(st.srv));

    uv_loop_t loop;
    uv_loop_init(&loop);
    gr_log_t *log = gr_log_root_new(stderr, GR_LOG_WARN, GR_LOG_FORMAT_PRETTY);
    gr_http_client_t *http = gr_http_client_new(&loop, log, NULL, NULL);
    printf("outbound HTTP client, %d GETs per run, loopback server on its own thread\n", total);
    static const int levels[] = {1, 8, 32, 128};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        bench_t b = {.http = http, .url = url, .total = total};
        uint64_t t0 = uv_hrtime();
        for (int k = 0; k < levels[i] && b.started < total; k++)
            send_one(&b);
        while (b.done < total)
            uv_run(&loop, UV_RUN_ONCE);
        double secs = (double)(uv_hrtime() - t0) / 1e9;
        printf("concurrency %4d: %8.0f requests/s (%d failed)\n", levels[i], total / secs,
               b.failed);
    }
    gr_http_client_free(http);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    gr_log_free(log);
    free(url);
    uv_async_send(&st.stop);
    uv_thread_join(&tid);
    uv_sem_destroy(&st.ready);
    return 0;
}
