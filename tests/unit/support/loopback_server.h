/* tests/unit/support/loopback_server.h: a scriptable HTTP/1.1 server on
 * 127.0.0.1 for tests of outbound HTTP.
 *
 * It runs on the test's own libuv loop, so a client that blocked the loop
 * would never get an answer.  Each complete request goes to the test's
 * handler, which answers now or later (gr_ls_respond_after), never (to
 * provoke a timeout), or by closing the connection.  Connections are kept
 * alive between requests unless the answer says "Connection: close", and
 * the server counts accepted connections so tests can check reuse.
 */
#ifndef GR_TEST_LOOPBACK_SERVER_H
#define GR_TEST_LOOPBACK_SERVER_H

#include <stddef.h>

#include <uv.h>

#include "util.h"

typedef struct gr_ls gr_ls_t;

typedef struct gr_ls_request {
    gr_ls_t *server;
    int conn_id; /* 1 for the first accepted connection, 2 for the next... */
    char *method;
    char *target; /* path and query, as sent */
    gr_strvec_t header_names;
    gr_strvec_t header_values;
    gr_buf_t body;
    void *priv; /* the server's bookkeeping */
} gr_ls_request_t;

/* Called once per request; the request stays valid until it is answered
 * (or until gr_ls_stop). */
typedef void (*gr_ls_handler_fn)(gr_ls_request_t *req, void *user_data);

/* Listens on 127.0.0.1 at a free port.  NULL if listening fails. */
gr_ls_t *gr_ls_start(uv_loop_t *loop, gr_ls_handler_fn handler, void *user_data);
/* "http://127.0.0.1:<port>" (owned by the server). */
const char *gr_ls_base_url(const gr_ls_t *server);
size_t gr_ls_connections(const gr_ls_t *server);
size_t gr_ls_requests(const gr_ls_t *server);
/* Closes every connection and the listener; memory goes once the loop has
 * run the close callbacks. */
void gr_ls_stop(gr_ls_t *server);

/* A request header (case-insensitive name), or NULL. */
const char *gr_ls_header(const gr_ls_request_t *req, const char *name);

/* Answers with status, extra header lines ("Name: value\r\n"..., may be
 * NULL) and a body; Content-Length is added.  Frees the request. */
void gr_ls_respond(gr_ls_request_t *req, int status, const char *headers, const void *body,
                   size_t len);
/* The same, delay_ms later. */
void gr_ls_respond_after(gr_ls_request_t *req, uint64_t delay_ms, int status, const char *headers,
                         const void *body, size_t len);
/* Writes bytes as they are (a chunked answer, say), then keeps or closes
 * the connection.  Frees the request. */
void gr_ls_respond_raw(gr_ls_request_t *req, const void *data, size_t len, int close_after);
/* Closes the connection without answering.  Frees the request. */
void gr_ls_drop(gr_ls_request_t *req);
/* Never answers: the request is freed by gr_ls_stop. */
void gr_ls_hang(gr_ls_request_t *req);

#endif
