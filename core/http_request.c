/* STUB: replaced by the unit's real implementation. */
#include "api_impl.h"

const char *gr__http_method(const gr_http_request_t *req)
{
    (void)req; return NULL;
}

const char *gr__http_path(const gr_http_request_t *req)
{
    (void)req; return NULL;
}

const char *gr__http_param(const gr_http_request_t *req, const char *name)
{
    (void)req; (void)name; return NULL;
}

const char *gr__http_query(const gr_http_request_t *req, const char *name, size_t index)
{
    (void)req; (void)name; (void)index; return NULL;
}

const char *gr__http_header(const gr_http_request_t *req, const char *name)
{
    (void)req; (void)name; return NULL;
}

const char *gr__http_body(const gr_http_request_t *req, size_t *len)
{
    (void)req; (void)len; return NULL;
}

struct json_object *gr__http_body_json(gr_http_request_t *req, gr_error_t *err)
{
    (void)req; (void)err; return NULL;
}

int gr__http_aborted(const gr_http_request_t *req)
{
    (void)req; return GR_ERR_UNSUPPORTED;
}

void gr__http_set_header(gr_http_request_t *req, const char *name, const char *value)
{
    (void)req; (void)name; (void)value;
}

void gr__http_respond(gr_http_request_t *req, int status, const char *content_type, const void *body, size_t len)
{
    (void)req; (void)status; (void)content_type; (void)body; (void)len;
}

void gr__http_respond_json(gr_http_request_t *req, int status, struct json_object *body)
{
    (void)req; (void)status; (void)body;
}

void gr__http_respond_error(gr_http_request_t *req, int status, const char *message)
{
    (void)req; (void)status; (void)message;
}
