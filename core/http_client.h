/* core/http_client.h: the outbound HTTP service behind gr_http_client_t.
 *
 * One libcurl multi handle driven by the host's libuv loop through the multi
 * socket API: libcurl tells us which sockets to watch (uv_poll per socket)
 * and when to wake it (one uv_timer); we tell it what happened with
 * curl_multi_socket_action and collect finished transfers with
 * curl_multi_info_read.  No thread per request and nothing that blocks.
 * The multi handle keeps a cache of idle connections, so consecutive calls
 * to the same host reuse one connection.
 *
 * Modules use greenroom/http_client.h; the host creates one client, hands it
 * to every context as ctx->http, and at the end calls shutdown then free.
 */
#ifndef GR_CORE_HTTP_CLIENT_H
#define GR_CORE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <greenroom/greenroom.h>

struct gr_github_client;

/* Zero means "the default" for every field. */
typedef struct gr_http_client_options {
    const char *user_agent;      /* default "greenroom/<version>" */
    const char *ca_file;         /* PEM bundle to trust instead of the system's */
    uint64_t timeout_ms;         /* per attempt, connecting included; default 30 s */
    uint64_t connect_timeout_ms; /* default 10 s (never more than timeout_ms) */
    size_t max_response_bytes;   /* default 64 MiB */
    int retries;                 /* retries of idempotent calls; default 2, negative: none */
    uint64_t retry_base_ms;      /* first back-off, doubled each retry; default 250 ms */
    uint64_t retry_max_ms;       /* longest back-off; default 10 s */
    long max_host_connections;   /* parallel connections per host; default unlimited */
} gr_http_client_options_t;

#define GR_HTTP_CLIENT_DEFAULT_TIMEOUT_MS 30000u
#define GR_HTTP_CLIENT_DEFAULT_MAX_RESPONSE ((size_t)64 * 1024 * 1024)

/* A client on `loop`.  log is borrowed (a child named "http-client" suits);
 * metrics may be NULL; opts may be NULL for every default; the strings in
 * opts are copied.  NULL (after logging why) only when libcurl cannot start. */
gr_http_client_t *gr_http_client_new(uv_loop_t *loop, gr_log_t *log, gr_metrics_t *metrics,
                                     const gr_http_client_options_t *opts);

/* Cancels every call in flight or waiting to retry: their callbacks run now
 * with GR_ERR_CANCELED.  Calls sent afterwards fail the same way (from the
 * loop, not from inside the send).  Idempotent. */
void gr_http_client_shutdown(gr_http_client_t *client);

/* Shuts down if needed, then releases everything.  The client's libuv
 * handles are closed, so the caller must let the loop run (uv_run) for the
 * last memory to be freed.  Not from inside one of the client's callbacks. */
void gr_http_client_free(gr_http_client_t *client);

/* Calls in flight, waiting to retry or waiting for their callback. */
size_t gr_http_client_pending(const gr_http_client_t *client);

/* The GitHub client attached to this HTTP client (github_client.c attaches
 * itself on creation and detaches on free), so a module reaches it through
 * ctx->http.  NULL when there is none. */
void gr_http_client_set_github(gr_http_client_t *client, struct gr_github_client *github);
struct gr_github_client *gr_http_client_github(const gr_http_client_t *client);

/* The loop and logger the client runs on (borrowed). */
uv_loop_t *gr_http_client_loop(const gr_http_client_t *client);

#endif
