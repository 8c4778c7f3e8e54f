/* core/http_client.c: outbound HTTP on the loop with libcurl's multi socket API.
 *
 * Each sent call owns one easy handle, reused for its retries.  Connections
 * live in the multi handle's cache, not in the easy handles, so freeing a
 * call's easy handle keeps its connection open for the next call.
 *
 * A call's callback never runs from inside gr_http_call_send(): a call that
 * fails before it starts (bad URL, client shut down) arms its own 0 ms
 * timer and fails from there. */
#include "http_client.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "api_impl.h"
#include "util.h"
#include "version.h"

#define GR__MAX_HEADER_BYTES (256u * 1024u)
#define GR__MAX_REDIRECTS 5L
#define GR__DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define GR__DEFAULT_RETRIES 2
#define GR__DEFAULT_RETRY_BASE_MS 250u
#define GR__DEFAULT_RETRY_MAX_MS 10000u

typedef enum call_state {
    CALL_NEW = 0, /* being built by its owner */
    CALL_ACTIVE,  /* its easy handle is in the multi handle */
    CALL_BACKOFF, /* waiting on its timer before the next attempt */
    CALL_FAILING, /* failed before starting; its timer delivers the error */
    CALL_DONE
} call_state_t;

struct gr_http_response {
    const gr_host_api_t *api;
    long status;
    gr_buf_t body;
    gr_strvec_t header_names;
    gr_strvec_t header_values;
    size_t header_bytes;
};

struct gr_http_call {
    const gr_host_api_t *api;
    gr_http_client_t *client;
    char *method;
    char *url;
    struct curl_slist *headers;
    char *body;
    size_t body_len;
    int has_body;
    uint64_t timeout_ms;
    size_t max_bytes;
    int retries; /* negative: the client's default */

    gr_http_response_fn cb;
    void *user_data;
    call_state_t state;
    CURL *easy;
    int attempt; /* attempts started so far */
    uint64_t started_ms;
    uv_timer_t timer;
    int timer_open;
    gr_error_t error; /* CALL_FAILING: what the timer delivers */
    gr_http_response_t res;
    int body_over_cap;
    int headers_over_cap;
    char errbuf[CURL_ERROR_SIZE];
    struct gr_http_call *prev, *next; /* the client's list of sent calls */
};

typedef struct gr__sock {
    uv_poll_t poll;
    curl_socket_t fd;
    gr_http_client_t *client;
    struct gr__sock *prev, *next;
} gr__sock_t;

struct gr_http_client {
    const gr_host_api_t *api;
    uv_loop_t *loop;
    gr_log_t *log;
    CURLM *multi;
    uv_timer_t timer;
    char *user_agent;
    char *ca_file;
    uint64_t timeout_ms;
    uint64_t connect_timeout_ms;
    size_t max_response;
    int retries;
    uint64_t retry_base_ms;
    uint64_t retry_max_ms;
    uint64_t rng;

    gr_http_call_t *live; /* sent, callback not yet run */
    size_t nlive;
    gr__sock_t *socks;
    int open_handles; /* uv handles whose close callback is still due */
    int shut;
    int freeing;

    struct gr_github_client *github;
    gr_metric_t *m_requests; /* http_client_requests_total{code} */
    gr_metric_t *m_retries;  /* http_client_retries_total */
};

/* ---- small helpers ------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static void client_log(gr_http_client_t *c, int level,
                                                             const char *fmt, ...)
{
    if (!c->log || !gr_log_enabled(c->log, (gr_log_level_t)level))
        return;
    va_list ap;
    va_start(ap, fmt);
    gr_log_vwrite(c->log, (gr_log_level_t)level, fmt, ap);
    va_end(ap);
}

/* The URL without credentials, query or fragment: query strings may carry
 * signatures or tokens, and messages end up in logs. */
static void url_for_log(const char *url, char *out, size_t n)
{
    if (!url) {
        snprintf(out, n, "(no URL)");
        return;
    }
    const char *scheme_end = strstr(url, "://");
    const char *rest = scheme_end ? scheme_end + 3 : url;
    size_t host_len = strcspn(rest, "/?#");
    const char *at = memchr(rest, '@', host_len);
    size_t scheme_len = (size_t)(rest - url);
    const char *host = at ? at + 1 : rest;
    size_t path_len = strcspn(host, "?#");
    snprintf(out, n, "%.*s%.*s", (int)scheme_len, url, (int)path_len, host);
}

static uint64_t client_random(gr_http_client_t *c)
{
    /* xorshift64*: enough to spread retries of many calls apart. */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 2685821657736338717ull;
}

static int method_is_idempotent(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "PUT") == 0 ||
           strcmp(m, "DELETE") == 0 || strcmp(m, "OPTIONS") == 0;
}

static int method_is_valid(const char *m)
{
    if (!m || !*m || strlen(m) > 16)
        return 0;
    for (const char *p = m; *p; p++)
        if (*p < 'A' || *p > 'Z')
            return 0;
    return 1;
}

static int url_is_valid(const char *url)
{
    return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0) &&
           !strpbrk(url, " \r\n");
}

static void count_request(gr_http_client_t *c, const char *code)
{
    if (!c->m_requests)
        return;
    const char *values[] = {code};
    gr_metric_t *series = gr_metric_labels(c->m_requests, values);
    if (series)
        gr_metric_inc(series);
}

/* ---- responses ----------------------------------------------------------- */

static void response_clear_headers(gr_http_response_t *res)
{
    gr_strvec_free(&res->header_names);
    gr_strvec_free(&res->header_values);
    res->header_bytes = 0;
}

static void response_reset(gr_http_response_t *res)
{
    res->status = 0;
    gr_buf_reset(&res->body);
    response_clear_headers(res);
}

int gr__http_response_status(const gr_http_response_t *res)
{
    return res ? (int)res->status : 0;
}

const char *gr__http_response_header(const gr_http_response_t *res, const char *name)
{
    if (!res || !name)
        return NULL;
    for (size_t i = 0; i < res->header_names.len; i++)
        if (strcasecmp(res->header_names.items[i], name) == 0)
            return res->header_values.items[i];
    return NULL;
}

const char *gr__http_response_body(const gr_http_response_t *res, size_t *len)
{
    if (len)
        *len = res ? res->body.len : 0;
    return res && res->body.data ? res->body.data : "";
}

static size_t on_curl_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    gr_http_call_t *call = userdata;
    size_t n = size * nmemb;
    if (call->res.body.len + n > call->max_bytes) {
        /* Returning short makes libcurl abort the transfer (CURLE_WRITE_ERROR). */
        call->body_over_cap = 1;
        return 0;
    }
    gr_buf_append(&call->res.body, ptr, n);
    return n;
}

static size_t on_curl_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    gr_http_call_t *call = userdata;
    size_t n = size * nitems;
    /* A status line starts a new response (after a redirect or a 100
     * Continue): only the final response's headers are kept. */
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        response_clear_headers(&call->res);
        return n;
    }
    call->res.header_bytes += n;
    if (call->res.header_bytes > GR__MAX_HEADER_BYTES) {
        call->headers_over_cap = 1;
        return 0;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon)
        return n;
    const char *name_end = colon;
    while (name_end > buf && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
    const char *v = colon + 1;
    const char *end = buf + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (name_end == buf)
        return n;
    gr_strvec_push_owned(&call->res.header_names, gr_xstrndup(buf, (size_t)(name_end - buf)));
    gr_strvec_push_owned(&call->res.header_values, gr_xstrndup(v, (size_t)(end - v)));
    return n;
}

/* ---- call lifetime -------------------------------------------------------- */

static void client_maybe_free(gr_http_client_t *c);

static void on_call_timer_closed(uv_handle_t *h)
{
    gr_http_call_t *call = h->data;
    gr_http_client_t *c = call->client;
    free(call);
    c->open_handles--;
    client_maybe_free(c);
}

static void call_destroy(gr_http_call_t *call)
{
    if (call->easy)
        curl_easy_cleanup(call->easy);
    free(call->method);
    free(call->url);
    free(call->body);
    curl_slist_free_all(call->headers);
    gr_buf_free(&call->res.body);
    response_clear_headers(&call->res);
    if (call->timer_open)
        uv_close((uv_handle_t *)&call->timer, on_call_timer_closed);
    else
        free(call);
}

static void call_link(gr_http_call_t *call)
{
    gr_http_client_t *c = call->client;
    call->prev = NULL;
    call->next = c->live;
    if (c->live)
        c->live->prev = call;
    c->live = call;
    c->nlive++;
}

static void call_unlink(gr_http_call_t *call)
{
    gr_http_client_t *c = call->client;
    if (call->prev)
        call->prev->next = call->next;
    else if (c->live == call)
        c->live = call->next;
    if (call->next)
        call->next->prev = call->prev;
    call->prev = call->next = NULL;
    c->nlive--;
}

static void call_timer_start(gr_http_call_t *call, uint64_t ms, uv_timer_cb cb)
{
    if (!call->timer_open) {
        uv_timer_init(call->client->loop, &call->timer);
        call->timer.data = call;
        call->timer_open = 1;
        call->client->open_handles++;
    }
    uv_timer_start(&call->timer, cb, ms, 0);
}

/* Runs the callback once and frees the call. */
static void call_complete(gr_http_call_t *call, const gr_error_t *err)
{
    gr_http_client_t *c = call->client;
    call_unlink(call);
    call->state = CALL_DONE;
    if (call->timer_open)
        uv_timer_stop(&call->timer);

    char code[16];
    if (err)
        snprintf(code, sizeof code, "error");
    else
        snprintf(code, sizeof code, "%ld", call->res.status);
    count_request(c, code);
    if (c->log && gr_log_enabled(c->log, GR_LOG_DEBUG)) {
        char where[512];
        url_for_log(call->url, where, sizeof where);
        client_log(c, GR_LOG_DEBUG, "%s %s: %s after %d attempt(s) in %llu ms", call->method, where,
                   err ? err->message : code, call->attempt,
                   (unsigned long long)(gr_now_ms() - call->started_ms));
    }
    if (call->cb)
        call->cb(err ? NULL : &call->res, err, call->user_data);
    call_destroy(call);
}

static void on_call_failing_timer(uv_timer_t *t)
{
    gr_http_call_t *call = t->data;
    call_complete(call, &call->error);
}

__attribute__((format(printf, 3, 4))) static void call_fail_later(gr_http_call_t *call, int code,
                                                                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gr_error_vset(&call->error, code, fmt, ap);
    va_end(ap);
    call->state = CALL_FAILING;
    call_link(call);
    call_timer_start(call, 0, on_call_failing_timer);
}

/* ---- the module-facing builder ------------------------------------------- */

gr_http_call_t *gr__http_call_new(gr_http_client_t *client, const char *method, const char *url)
{
    gr_http_call_t *call = gr_xcalloc(1, sizeof *call);
    call->api = &gr__host_api;
    call->client = client;
    call->method = gr_xstrdup(method ? method : "");
    call->url = gr_xstrdup(url ? url : "");
    call->retries = -1;
    call->res.api = &gr__host_api;
    return call;
}

void gr__http_call_header(gr_http_call_t *call, const char *name, const char *value)
{
    if (!call || call->state != CALL_NEW || !name || !*name)
        return;
    /* Refuse line breaks: a header value must not smuggle another header. */
    if (strpbrk(name, "\r\n:") || (value && strpbrk(value, "\r\n")))
        return;
    char *line = value && *value ? gr_xasprintf("%s: %s", name, value)
                                 : gr_xasprintf("%s;", name); /* curl's "send empty" form */
    call->headers = curl_slist_append(call->headers, line);
    free(line);
}

void gr__http_call_body(gr_http_call_t *call, const void *body, size_t len)
{
    if (!call || call->state != CALL_NEW)
        return;
    free(call->body);
    call->body = gr_xmalloc(len + 1);
    if (len)
        memcpy(call->body, body, len);
    call->body[len] = '\0';
    call->body_len = len;
    call->has_body = 1;
}

void gr__http_call_timeout(gr_http_call_t *call, uint64_t timeout_ms)
{
    if (call)
        call->timeout_ms = timeout_ms;
}

void gr__http_call_max_response(gr_http_call_t *call, size_t max_bytes)
{
    if (call)
        call->max_bytes = max_bytes;
}

void gr__http_call_retries(gr_http_call_t *call, int retries)
{
    if (call)
        call->retries = retries;
}

void gr__http_call_free(gr_http_call_t *call)
{
    if (call && call->state == CALL_NEW)
        call_destroy(call);
}

/* ---- attempts -------------------------------------------------------------- */

static int call_setup_easy(gr_http_call_t *call)
{
    gr_http_client_t *c = call->client;
    CURL *e = curl_easy_init();
    if (!e)
        return -1;
    call->easy = e;
    /* libcurl adds "Expect: 100-continue" to larger bodies, which costs a
     * round trip with servers that do not answer it. */
    call->headers = curl_slist_append(call->headers, "Expect:");

    uint64_t timeout = call->timeout_ms;
    uint64_t connect_timeout = c->connect_timeout_ms < timeout ? c->connect_timeout_ms : timeout;
    int rc = 0;
    rc |= curl_easy_setopt(e, CURLOPT_URL, call->url);
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, call);
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, call->errbuf);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_curl_body);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_curl_header);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
    rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
    rc |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
    rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout);
    rc |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)call->max_bytes);
    rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Verification stays on whatever the environment says; the operator
     * can only choose which certificates to trust. */
    rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file)
        rc |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, GR__MAX_REDIRECTS);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* CURLOPT_PROXY is deliberately left unset: libcurl then reads
     * http_proxy, https_proxy and no_proxy from the environment. */

    if (strcmp(call->method, "GET") == 0 && !call->has_body) {
        rc |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(call->method, "HEAD") == 0) {
        rc |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(call->method, "POST") != 0)
            rc |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, call->method);
        if (call->has_body || strcmp(call->method, "POST") == 0) {
            rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
            rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body ? call->body : "");
        }
    }
    return rc == 0 ? 0 : -1;
}

static void call_start_attempt(gr_http_call_t *call)
{
    gr_http_client_t *c = call->client;
    call->attempt++;
    call->body_over_cap = 0;
    call->headers_over_cap = 0;
    call->errbuf[0] = '\0';
    response_reset(&call->res);
    CURLMcode mc = curl_multi_add_handle(c->multi, call->easy);
    if (mc != CURLM_OK) {
        call_unlink(call);
        call_fail_later(call, GR_ERR_INTERNAL, "%s: libcurl refused the transfer: %s", call->method,
                        curl_multi_strerror(mc));
        return;
    }
    call->state = CALL_ACTIVE;
}

static void on_call_retry_timer(uv_timer_t *t)
{
    gr_http_call_t *call = t->data;
    call_start_attempt(call);
}

void gr__http_call_send(gr_http_call_t *call, gr_http_response_fn cb, void *user_data)
{
    if (!call || call->state != CALL_NEW)
        return;
    gr_http_client_t *c = call->client;
    call->cb = cb;
    call->user_data = user_data;
    call->started_ms = gr_now_ms();
    if (!call->timeout_ms)
        call->timeout_ms = c->timeout_ms;
    if (!call->max_bytes)
        call->max_bytes = c->max_response;
    if (call->retries < 0)
        call->retries = c->retries;
    if (!method_is_idempotent(call->method))
        call->retries = 0;

    char where[512];
    url_for_log(call->url, where, sizeof where);
    if (c->shut || c->freeing) {
        call_fail_later(call, GR_ERR_CANCELED,
                        "%s %s: not sent because the HTTP client is shutting down", call->method,
                        where);
        return;
    }
    if (!method_is_valid(call->method)) {
        call_fail_later(call, GR_ERR_INVALID, "HTTP method '%s' is not valid (expected e.g. GET)",
                        call->method);
        return;
    }
    if (!url_is_valid(call->url)) {
        call_fail_later(call, GR_ERR_INVALID, "%s %s: not an absolute http:// or https:// URL",
                        call->method, where);
        return;
    }
    if (call_setup_easy(call) != 0) {
        call_fail_later(call, GR_ERR_INTERNAL, "%s %s: libcurl could not set up the transfer",
                        call->method, where);
        return;
    }
    call_link(call);
    call_start_attempt(call);
}

/* Maps a failed transfer to a gr_error_t; *retriable says whether another
 * attempt could succeed. */
static void call_transfer_error(gr_http_call_t *call, CURLcode rc, gr_error_t *err, int *retriable)
{
    char where[512];
    url_for_log(call->url, where, sizeof where);
    const char *why = call->errbuf[0] ? call->errbuf : curl_easy_strerror(rc);
    *retriable = 0;
    if (call->body_over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
        gr_error_set(err, GR_ERR_INVALID,
                     "%s %s: the response body is larger than the %zu-byte cap; the transfer "
                     "was aborted (raise the call's max response size if this is expected)",
                     call->method, where, call->max_bytes);
        return;
    }
    if (call->headers_over_cap) {
        gr_error_set(err, GR_ERR_INVALID, "%s %s: the response headers exceed %u bytes",
                     call->method, where, GR__MAX_HEADER_BYTES);
        return;
    }
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        *retriable = 1;
        gr_error_set(err, GR_ERR_TIMEOUT, "%s %s: no complete answer within %llu ms (%s)",
                     call->method, where, (unsigned long long)call->timeout_ms, why);
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        *retriable = 1;
        gr_error_set(err, GR_ERR_UNAVAILABLE, "%s %s: %s", call->method, where, why);
        return;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        gr_error_set(err, GR_ERR_IO,
                     "%s %s: the server's TLS certificate could not be verified (%s); name the "
                     "CA bundle that signs it in the HTTP client's CA file option",
                     call->method, where, why);
        return;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_TOO_MANY_REDIRECTS:
        gr_error_set(err, GR_ERR_INVALID, "%s %s: %s", call->method, where, why);
        return;
    default: gr_error_set(err, GR_ERR_IO, "%s %s: %s", call->method, where, why); return;
    }
}

static uint64_t call_backoff_ms(gr_http_call_t *call)
{
    gr_http_client_t *c = call->client;
    uint64_t delay = c->retry_base_ms;
    for (int i = 1; i < call->attempt && delay < c->retry_max_ms; i++)
        delay *= 2;
    if (delay > c->retry_max_ms)
        delay = c->retry_max_ms;
    /* Half fixed, half random: calls that failed together do not all come
     * back at the same instant. */
    delay = delay / 2 + client_random(c) % (delay / 2 + 1);
    /* A 503 may say when to come back. */
    const char *ra = gr__http_response_header(&call->res, "Retry-After");
    if (ra && call->res.status) {
        char *end;
        unsigned long secs = strtoul(ra, &end, 10);
        if (end != ra && *end == '\0') {
            uint64_t want = (uint64_t)secs * 1000u;
            if (want > c->retry_max_ms)
                want = c->retry_max_ms;
            if (want > delay)
                delay = want;
        }
    }
    return delay;
}

static void call_attempt_finished(gr_http_call_t *call, CURLcode rc)
{
    gr_http_client_t *c = call->client;
    long status = 0;
    curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
    call->res.status = status;

    gr_error_t err;
    gr_error_clear(&err);
    int retriable;
    if (rc != CURLE_OK)
        call_transfer_error(call, rc, &err, &retriable);
    else
        /* 501 and 505 say the server never will; other 5xx may pass. */
        retriable = status >= 500 && status <= 599 && status != 501 && status != 505;

    if (retriable && !c->shut && call->attempt <= call->retries) {
        uint64_t delay = call_backoff_ms(call);
        char where[512];
        url_for_log(call->url, where, sizeof where);
        char reason[600];
        if (rc != CURLE_OK)
            snprintf(reason, sizeof reason, "%s", err.message);
        else
            snprintf(reason, sizeof reason, "status %ld", status);
        client_log(c, GR_LOG_INFO, "%s %s: retry %d of %d in %llu ms after %s", call->method, where,
                   call->attempt, call->retries, (unsigned long long)delay, reason);
        if (c->m_retries)
            gr_metric_inc(c->m_retries);
        call->state = CALL_BACKOFF;
        call_timer_start(call, delay, on_call_retry_timer);
        return;
    }
    call_complete(call, rc != CURLE_OK ? &err : NULL);
}

/* ---- the libcurl <-> libuv glue ------------------------------------------- */

static void check_finished(gr_http_client_t *c)
{
    CURLMsg *msg;
    int left;
    while (c->multi && !c->freeing && (msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result; /* msg dies with remove_handle */
        gr_http_call_t *call = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&call);
        curl_multi_remove_handle(c->multi, easy);
        if (call && call->state == CALL_ACTIVE)
            call_attempt_finished(call, rc);
    }
}

static void on_sock_closed(uv_handle_t *h)
{
    gr__sock_t *sk = h->data;
    gr_http_client_t *c = sk->client;
    free(sk);
    c->open_handles--;
    client_maybe_free(c);
}

static void sock_close(gr_http_client_t *c, gr__sock_t *sk)
{
    if (sk->prev)
        sk->prev->next = sk->next;
    else
        c->socks = sk->next;
    if (sk->next)
        sk->next->prev = sk->prev;
    uv_poll_stop(&sk->poll);
    uv_close((uv_handle_t *)&sk->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    gr__sock_t *sk = h->data;
    gr_http_client_t *c = sk->client;
    curl_socket_t fd = sk->fd; /* sk may be closed during socket_action */
    int flags = 0;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(c->multi, fd, flags, &running);
    check_finished(c);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    gr_http_client_t *c = userp;
    gr__sock_t *sk = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            sock_close(c, sk);
            if (!c->freeing)
                curl_multi_assign(c->multi, s, NULL);
        }
        return 0;
    }
    if (c->freeing)
        return -1;
    if (!sk) {
        sk = gr_xcalloc(1, sizeof *sk);
        sk->client = c;
        sk->fd = s;
        if (uv_poll_init_socket(c->loop, &sk->poll, s) != 0) {
            free(sk);
            return -1;
        }
        sk->poll.data = sk;
        c->open_handles++;
        sk->next = c->socks;
        if (c->socks)
            c->socks->prev = sk;
        c->socks = sk;
        curl_multi_assign(c->multi, s, sk);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&sk->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    gr_http_client_t *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_finished(c);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    gr_http_client_t *c = userp;
    if (c->freeing)
        return 0;
    /* 0 means "as soon as possible", but libcurl must not be re-entered
     * from here: a 0 ms uv timer runs it on the next loop iteration. */
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- the client ------------------------------------------------------------ */

gr_http_client_t *gr_http_client_new(uv_loop_t *loop, gr_log_t *log, gr_metrics_t *metrics,
                                     const gr_http_client_options_t *opts)
{
    static const gr_http_client_options_t defaults = {0};
    if (!opts)
        opts = &defaults;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        if (log)
            gr_log_error(log, "http client: libcurl could not initialise");
        return NULL;
    }
    gr_http_client_t *c = gr_xcalloc(1, sizeof *c);
    c->api = &gr__host_api;
    c->loop = loop;
    c->log = log;
    c->multi = curl_multi_init();
    if (!c->multi) {
        if (log)
            gr_log_error(log, "http client: libcurl could not create a multi handle");
        free(c);
        curl_global_cleanup();
        return NULL;
    }
    c->user_agent = gr_xstrdup(opts->user_agent ? opts->user_agent : "greenroom/" GR_HOST_VERSION);
    c->ca_file = opts->ca_file ? gr_xstrdup(opts->ca_file) : NULL;
    c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : GR_HTTP_CLIENT_DEFAULT_TIMEOUT_MS;
    c->connect_timeout_ms =
        opts->connect_timeout_ms ? opts->connect_timeout_ms : GR__DEFAULT_CONNECT_TIMEOUT_MS;
    c->max_response =
        opts->max_response_bytes ? opts->max_response_bytes : GR_HTTP_CLIENT_DEFAULT_MAX_RESPONSE;
    c->retries = opts->retries < 0 ? 0 : opts->retries ? opts->retries : GR__DEFAULT_RETRIES;
    c->retry_base_ms = opts->retry_base_ms ? opts->retry_base_ms : GR__DEFAULT_RETRY_BASE_MS;
    c->retry_max_ms = opts->retry_max_ms ? opts->retry_max_ms : GR__DEFAULT_RETRY_MAX_MS;
    if (c->retry_max_ms < c->retry_base_ms)
        c->retry_max_ms = c->retry_base_ms;
    c->rng = (uv_hrtime() ^ (uint64_t)(uintptr_t)c) | 1u;

    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;

    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    if (opts->max_host_connections > 0)
        curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opts->max_host_connections);

    if (metrics) {
        static const char *const code_label[] = {"code", NULL};
        c->m_requests = gr_metrics_counter(metrics, "http_client_requests_total",
                                           "Outbound HTTP calls by final status code "
                                           "(\"error\" when no answer came).",
                                           code_label);
        c->m_retries = gr_metrics_counter(metrics, "http_client_retries_total",
                                          "Outbound HTTP attempts repeated after a network "
                                          "error or a 5xx answer.",
                                          NULL);
    }
    return c;
}

void gr_http_client_shutdown(gr_http_client_t *c)
{
    if (!c || c->shut)
        return;
    c->shut = 1;
    /* Take the list as it is now: calls sent from the callbacks below fail
     * on their own timers instead of being drained here. */
    gr_http_call_t *list = c->live;
    while (list) {
        gr_http_call_t *call = list;
        list = call->next;
        if (call->state == CALL_FAILING)
            continue;
        if (call->state == CALL_ACTIVE)
            curl_multi_remove_handle(c->multi, call->easy);
        char where[512];
        url_for_log(call->url, where, sizeof where);
        gr_error_t err;
        gr_error_set(&err, GR_ERR_CANCELED, "%s %s: canceled because the host is shutting down",
                     call->method, where);
        /* Completing unlinks only this call; `list` already points past it. */
        call_complete(call, &err);
    }
}

static void client_maybe_free(gr_http_client_t *c)
{
    if (!c->freeing || c->open_handles > 0)
        return;
    free(c->user_agent);
    free(c->ca_file);
    free(c);
    curl_global_cleanup();
}

static void on_client_timer_closed(uv_handle_t *h)
{
    gr_http_client_t *c = h->data;
    c->open_handles--;
    client_maybe_free(c);
}

void gr_http_client_free(gr_http_client_t *c)
{
    if (!c)
        return;
    gr_http_client_shutdown(c);
    /* Calls that failed before starting still owe their callbacks. */
    while (c->live)
        call_complete(c->live, &c->live->error);
    c->freeing = 1;
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    while (c->socks)
        sock_close(c, c->socks);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_client_timer_closed);
}

size_t gr_http_client_pending(const gr_http_client_t *c)
{
    return c ? c->nlive : 0;
}

void gr_http_client_set_github(gr_http_client_t *c, struct gr_github_client *github)
{
    if (c)
        c->github = github;
}

struct gr_github_client *gr_http_client_github(const gr_http_client_t *c)
{
    return c ? c->github : NULL;
}

uv_loop_t *gr_http_client_loop(const gr_http_client_t *c)
{
    return c ? c->loop : NULL;
}
