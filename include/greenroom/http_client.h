/* greenroom/http_client.h: outbound HTTP requests (ctx->http).
 *
 * The host runs every outbound request on its loop: no thread per request,
 * connections kept alive and shared by all modules.  Build a call, send it,
 * and get exactly one callback later on the loop thread (never from inside
 * the send itself):
 *
 *     static void on_reply(const gr_http_response_t *res, const gr_error_t *err, void *ud)
 *     {
 *         if (err) { ... err->code, err->message ...; return; }
 *         size_t len;
 *         const char *body = gr_http_response_body(res, &len);
 *         if (gr_http_response_status(res) == 200) use(body, len);
 *     }
 *
 *     gr_http_call_t *call = gr_http_call_new(ctx->http, "GET", "https://example.com/x");
 *     gr_http_call_header(call, "Accept", "application/json");
 *     gr_http_call_timeout(call, 5000);
 *     gr_http_call_send(call, on_reply, state);
 *
 * What the host does for every call:
 *   - TLS certificates are always verified (the operator may name a CA file);
 *   - proxies come from the usual environment variables (https_proxy,
 *     http_proxy, no_proxy);
 *   - GET, HEAD, PUT and DELETE are retried with exponential back-off and
 *     jitter after a network error or a 5xx answer; POST and PATCH are sent
 *     once, since repeating them could act twice;
 *   - redirects are followed (at most 5); an Authorization header is not
 *     sent on to another host;
 *   - the response body is capped (a larger body fails the call with
 *     GR_ERR_INVALID, it is never truncated silently);
 *   - bodies are decompressed (gzip, br, zstd) before the cap applies.
 *
 * err is NULL whenever an HTTP answer arrived, whatever its status (a 404
 * is a response, not an error).  err is set, and res NULL, when no answer
 * arrived: GR_ERR_TIMEOUT (the timeout passed), GR_ERR_UNAVAILABLE (could
 * not resolve, connect, or the connection broke), GR_ERR_IO (TLS failure),
 * GR_ERR_INVALID (bad URL or method, body over the cap), GR_ERR_CANCELED
 * (the host is shutting down).  Messages name the method and the URL
 * without its query string; header values never appear in them or in logs.
 */
#ifndef GREENROOM_HTTP_CLIENT_H
#define GREENROOM_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <greenroom/api.h>

/* A new call (owned by the caller until it is sent or freed).  method is
 * upper case ("GET"); url is absolute (http:// or https://).  Mistakes are
 * reported by the callback when the call is sent. */
static inline gr_http_call_t *gr_http_call_new(gr_http_client_t *client, const char *method,
                                               const char *url)
{
    return GR__API(client)->http_call_new(client, method, url);
}

/* Adds a request header (copied).  Adding "Authorization" is fine: its
 * value is never logged. */
static inline void gr_http_call_header(gr_http_call_t *call, const char *name, const char *value)
{
    GR__API(call)->http_call_header(call, name, value);
}

/* Sets the request body (copied).  Set a Content-Type header with it. */
static inline void gr_http_call_body(gr_http_call_t *call, const void *body, size_t len)
{
    GR__API(call)->http_call_body(call, body, len);
}

/* Time allowed for each attempt, connecting included; 0 keeps the host's
 * default (30 seconds unless the operator changed it). */
static inline void gr_http_call_timeout(gr_http_call_t *call, uint64_t timeout_ms)
{
    GR__API(call)->http_call_timeout(call, timeout_ms);
}

/* Largest body accepted, in bytes; 0 keeps the host's default (64 MiB). */
static inline void gr_http_call_max_response(gr_http_call_t *call, size_t max_bytes)
{
    GR__API(call)->http_call_max_response(call, max_bytes);
}

/* Retries after the first attempt for an idempotent method; 0 disables
 * them, a negative value keeps the host's default (2). */
static inline void gr_http_call_retries(gr_http_call_t *call, int retries)
{
    GR__API(call)->http_call_retries(call, retries);
}

/* Sends the call; it belongs to the host from now on.  cb runs exactly once,
 * on the loop thread, after this function has returned. */
static inline void gr_http_call_send(gr_http_call_t *call, gr_http_response_fn cb, void *user_data)
{
    GR__API(call)->http_call_send(call, cb, user_data);
}

/* Drops a call that was never sent. */
static inline void gr_http_call_free(gr_http_call_t *call)
{
    if (call)
        GR__API(call)->http_call_free(call);
}

/* ---- the response: borrowed, valid until the callback returns ------------ */

static inline int gr_http_response_status(const gr_http_response_t *res)
{
    return GR__API(res)->http_response_status(res);
}

/* A response header's value (name case-insensitive; the first one when it
 * was sent several times), or NULL. */
static inline const char *gr_http_response_header(const gr_http_response_t *res, const char *name)
{
    return GR__API(res)->http_response_header(res, name);
}

/* The body, NUL-terminated for convenience (len may be NULL). */
static inline const char *gr_http_response_body(const gr_http_response_t *res, size_t *len)
{
    return GR__API(res)->http_response_body(res, len);
}

#endif
