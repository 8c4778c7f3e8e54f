/* core/http_status.c: reason phrases and Backstage-shaped error bodies. */
#include "http_status.h"

const char *gr_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

const char *gr_http_error_name(int status)
{
    /* The names of @backstage/errors, which Backstage's clients map back to
     * error classes. */
    switch (status) {
    case 400: return "InputError";
    case 401: return "AuthenticationError";
    case 403: return "NotAllowedError";
    case 404: return "NotFoundError";
    case 409: return "ConflictError";
    case 501: return "NotImplementedError";
    case 503: return "ServiceUnavailableError";
    default: return "Error";
    }
}

void gr_http_error_body(gr_buf_t *out, int status, const char *message, const char *method,
                        const char *url)
{
    gr_buf_puts(out, "{\"error\":{\"name\":");
    gr_buf_json_string(out, gr_http_error_name(status));
    gr_buf_puts(out, ",\"message\":");
    gr_buf_json_string(out, message ? message : gr_http_reason(status));
    gr_buf_puts(out, "},\"request\":{\"method\":");
    gr_buf_json_string(out, method ? method : "");
    gr_buf_puts(out, ",\"url\":");
    gr_buf_json_string(out, url ? url : "");
    gr_buf_printf(out, "},\"response\":{\"statusCode\":%d}}", status);
}
