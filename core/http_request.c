/* core/http_request.c: one HTTP request as a handler sees it: what arrived
 * (method, path, parameters, query, headers, body) and the answer. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "api_impl.h"
#include "http_internal.h"
#include "http_status.h"
#include "http_url.h"

gr_http_request_t *gr_http_request_new(gr_log_t *log)
{
    gr_http_request_t *req = gr_xcalloc(1, sizeof *req);
    req->api = &gr__host_api;
    req->refs = 1;
    req->log = log;
    req->method = "";
    req->status = 0;
    return req;
}

static void gr__request_free(gr_http_request_t *req)
{
    gr_buf_free(&req->url);
    free(req->raw_path);
    free(req->path);
    gr_strvec_free(&req->query);
    gr_strvec_free(&req->headers);
    gr_buf_free(&req->body);
    if (req->body_json)
        json_object_put(req->body_json);
    gr_strvec_free(&req->params);
    free(req->plugin_id);
    free(req->content_type);
    gr_strvec_free(&req->resp_headers);
    gr_buf_free(&req->resp_body);
    free(req);
}

void gr_http_request_release(gr_http_request_t *req)
{
    if (--req->refs == 0)
        gr__request_free(req);
}

/* ---- what arrived -------------------------------------------------------- */

static void gr__parse_query(gr_http_request_t *req, const char *q, size_t len)
{
    const char *end = q + len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pair_end = amp ? amp : end;
        if (pair_end > q) {
            const char *eq = memchr(q, '=', (size_t)(pair_end - q));
            const char *name_end = eq ? eq : pair_end;
            char *name, *value;
            unsigned flags = GR_URL_PLUS_IS_SPACE | GR_URL_LENIENT;
            gr_url_decode(q, (size_t)(name_end - q), flags, &name);
            if (eq)
                gr_url_decode(eq + 1, (size_t)(pair_end - eq - 1), flags, &value);
            else
                value = gr_xstrdup("");
            gr_strvec_push_owned(&req->query, name);
            gr_strvec_push_owned(&req->query, value);
        }
        q = pair_end + 1;
    }
}

int gr_http_request_parse_target(gr_http_request_t *req, gr_error_t *err)
{
    const char *url = req->url.data ? req->url.data : "";
    const char *path = url, *path_end, *query = NULL, *query_end = NULL;
    /* An absolute-form target ("http://host/x", sent to proxies) carries the
     * path after the authority. */
    if (url[0] != '/') {
        const char *scheme = strstr(url, "://");
        if (!scheme)
            return gr_error_set(err, GR_ERR_INVALID,
                                "the request target '%s' is not a path starting with '/'", url);
        const char *authority_end = scheme + 3 + strcspn(scheme + 3, "/?#");
        path = *authority_end == '/' ? authority_end : "/";
    }
    path_end = path + strcspn(path, "?#");
    if (*path_end == '?') {
        query = path_end + 1;
        query_end = query + strcspn(query, "#");
    }
    req->raw_path = gr_xstrndup(path, (size_t)(path_end - path));
    if (gr_url_decode(path, (size_t)(path_end - path), 0, &req->path) < 0)
        return gr_error_set(err, GR_ERR_INVALID,
                            "the request path '%s' has a malformed or NUL percent-escape",
                            req->raw_path);
    if (query)
        gr__parse_query(req, query, (size_t)(query_end - query));
    return 0;
}

void gr_http_request_add_header(gr_http_request_t *req, char *lower_name, const char *value)
{
    for (size_t i = 0; i + 1 < req->headers.len; i += 2) {
        if (strcmp(req->headers.items[i], lower_name) == 0) {
            /* RFC 9110 lets repeated fields join with commas; cookies join
             * with "; " (RFC 6265). */
            const char *sep = strcmp(lower_name, "cookie") == 0 ? "; " : ", ";
            char *joined = gr_xasprintf("%s%s%s", req->headers.items[i + 1], sep, value);
            free(req->headers.items[i + 1]);
            req->headers.items[i + 1] = joined;
            free(lower_name);
            return;
        }
    }
    gr_strvec_push_owned(&req->headers, lower_name);
    gr_strvec_push(&req->headers, value);
}

const char *gr__http_method(const gr_http_request_t *req)
{
    return req->method;
}

const char *gr__http_path(const gr_http_request_t *req)
{
    return req->path ? req->path : "";
}

const char *gr__http_param(const gr_http_request_t *req, const char *name)
{
    for (size_t i = 0; name && i + 1 < req->params.len; i += 2)
        if (strcmp(req->params.items[i], name) == 0)
            return req->params.items[i + 1];
    return NULL;
}

const char *gr__http_query(const gr_http_request_t *req, const char *name, size_t index)
{
    for (size_t i = 0; name && i + 1 < req->query.len; i += 2) {
        if (strcmp(req->query.items[i], name) == 0) {
            if (index == 0)
                return req->query.items[i + 1];
            index--;
        }
    }
    return NULL;
}

const char *gr__http_header(const gr_http_request_t *req, const char *name)
{
    for (size_t i = 0; name && i + 1 < req->headers.len; i += 2)
        if (strcasecmp(req->headers.items[i], name) == 0)
            return req->headers.items[i + 1];
    return NULL;
}

const char *gr__http_body(const gr_http_request_t *req, size_t *len)
{
    if (len)
        *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

/* True for application/json and application/<anything>+json, parameters
 * (charset) allowed. */
static int gr__is_json_type(const char *ct)
{
    size_t n = strcspn(ct, ";");
    while (n > 0 && isspace((unsigned char)ct[n - 1]))
        n--;
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
        return 1;
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0;
}

struct json_object *gr__http_body_json(gr_http_request_t *req, gr_error_t *err)
{
    if (req->body_json)
        return req->body_json;
    const char *ct = gr__http_header(req, "content-type");
    /* Insisting on a JSON media type is also what keeps a cross-site HTML
     * form (which can only send form or text types without a CORS
     * preflight) from posting to a JSON API. */
    if (!ct || !gr__is_json_type(ct)) {
        gr_error_set(err, GR_ERR_INVALID,
                     "the request body must be JSON sent with 'Content-Type: application/json' "
                     "(got %s%s%s)",
                     ct ? "'" : "", ct ? ct : "no Content-Type", ct ? "'" : "");
        return NULL;
    }
    if (req->body.len == 0) {
        gr_error_set(err, GR_ERR_INVALID, "the request body is empty; expected a JSON document");
        return NULL;
    }
    json_tokener *tok = json_tokener_new();
    struct json_object *obj = json_tokener_parse_ex(tok, req->body.data, (int)req->body.len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!obj && jerr == json_tokener_continue) {
        gr_error_set(err, GR_ERR_INVALID,
                     "the request body is not valid JSON: it ends before the document does "
                     "(%zu bytes)",
                     req->body.len);
        return NULL;
    }
    if (!obj && jerr != json_tokener_success) {
        gr_error_set(err, GR_ERR_INVALID, "the request body is not valid JSON: %s at byte %zu",
                     json_tokener_error_desc(jerr), used);
        return NULL;
    }
    while (used < req->body.len && isspace((unsigned char)req->body.data[used]))
        used++;
    if (used < req->body.len) {
        if (obj)
            json_object_put(obj);
        gr_error_set(err, GR_ERR_INVALID,
                     "the request body is not valid JSON: unexpected data after the document at "
                     "byte %zu",
                     used);
        return NULL;
    }
    if (!obj) {
        /* The document was the literal null: valid, but no object to hand
         * back, and NULL means failure here. */
        gr_error_set(err, GR_ERR_INVALID, "the request body is JSON null; expected a document");
        return NULL;
    }
    req->body_json = obj;
    return obj;
}

int gr__http_aborted(const gr_http_request_t *req)
{
    return req->conn == NULL;
}

/* ---- the answer ---------------------------------------------------------- */

static int gr__header_name_valid(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", c))
            return 0;
    }
    return 1;
}

void gr__http_set_header(gr_http_request_t *req, const char *name, const char *value)
{
    if (req->responded || !name || !value)
        return;
    if (!gr__header_name_valid(name) || strpbrk(value, "\r\n")) {
        gr_log_warn(req->log,
                    "http: %s %s: ignored response header '%s' (bad name or a line "
                    "break in its value)",
                    req->method, req->url.data ? req->url.data : "", name);
        return;
    }
    /* The server owns framing: a handler setting these could desynchronise
     * the connection. */
    if (strcasecmp(name, "content-length") == 0 || strcasecmp(name, "transfer-encoding") == 0 ||
        strcasecmp(name, "connection") == 0)
        return;
    if (strcasecmp(name, "content-type") == 0) {
        free(req->content_type);
        req->content_type = gr_xstrdup(value);
        return;
    }
    gr_strvec_push(&req->resp_headers, name);
    gr_strvec_push(&req->resp_headers, value);
}

void gr_http_respond_buf(gr_http_request_t *req, int status, const char *content_type,
                         gr_buf_t *body)
{
    if (req->responded) {
        gr_log_error(req->log,
                     "http: %s %s was answered twice (%d, then %d); the second answer "
                     "is dropped",
                     req->method, req->url.data ? req->url.data : "", req->status, status);
        gr_buf_free(body);
        return;
    }
    if (status < 200 || status > 599) {
        gr_log_error(req->log, "http: %s %s: handler answered with invalid status %d; sent 500",
                     req->method, req->url.data ? req->url.data : "", status);
        status = 500;
    }
    req->responded = 1;
    req->status = status;
    if (content_type) {
        free(req->content_type);
        req->content_type = gr_xstrdup(content_type);
    }
    gr_buf_free(&req->resp_body);
    req->resp_body = *body;
    *body = (gr_buf_t){0};

    gr_http_server_request_done(req);
    if (req->conn)
        gr_http_conn_response_ready(req->conn);
    gr_http_request_release(req); /* the handler's reference */
}

void gr__http_respond(gr_http_request_t *req, int status, const char *content_type,
                      const void *body, size_t len)
{
    gr_buf_t b = {0};
    if (body && len)
        gr_buf_append(&b, body, len);
    gr_http_respond_buf(req, status, content_type, &b);
}

void gr__http_respond_json(gr_http_request_t *req, int status, struct json_object *body)
{
    gr_buf_t b = {0};
    gr_buf_puts(&b, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
    if (body)
        json_object_put(body);
    gr_http_respond_buf(req, status, "application/json; charset=utf-8", &b);
}

void gr__http_respond_error(gr_http_request_t *req, int status, const char *message)
{
    gr_buf_t b = {0};
    gr_http_error_body(&b, status, message, req->method, req->url.data ? req->url.data : "");
    gr_http_respond_buf(req, status, "application/json; charset=utf-8", &b);
}

void gr_http_request_write_response(const gr_http_request_t *req, int close, gr_buf_t *out)
{
    /* 204 and 304 have no body and, per RFC 9110, no Content-Length. */
    int bodiless = req->status == 204 || req->status == 304;
    gr_buf_printf(out, "HTTP/1.1 %d %s\r\n", req->status, gr_http_reason(req->status));
    if (!bodiless) {
        const char *ct = req->content_type;
        if (!ct && req->resp_body.len)
            ct = "application/octet-stream";
        if (ct)
            gr_buf_printf(out, "Content-Type: %s\r\n", ct);
        gr_buf_printf(out, "Content-Length: %zu\r\n", req->resp_body.len);
    }
    for (size_t i = 0; i + 1 < req->resp_headers.len; i += 2)
        gr_buf_printf(out, "%s: %s\r\n", req->resp_headers.items[i],
                      req->resp_headers.items[i + 1]);
    if (close)
        gr_buf_puts(out, "Connection: close\r\n");
    else if (req->http_major == 1 && req->http_minor == 0)
        gr_buf_puts(out, "Connection: keep-alive\r\n"); /* HTTP/1.0 closes unless told */
    gr_buf_puts(out, "\r\n");
    if (!bodiless && strcmp(req->method, "HEAD") != 0)
        gr_buf_append(out, req->resp_body.data, req->resp_body.len);
}
