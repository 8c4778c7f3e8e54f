/* core/http_status.h: reason phrases and Backstage-shaped error bodies. */
#ifndef GR_CORE_HTTP_STATUS_H
#define GR_CORE_HTTP_STATUS_H

#include "util.h"

/* "Not Found" for 404; "Unknown" for a code without a standard phrase. */
const char *gr_http_reason(int status);

/* The error name Backstage's clients expect for a status: "InputError" for
 * 400, "NotFoundError" for 404, ... and "Error" for the rest. */
const char *gr_http_error_name(int status);

/* Appends Backstage's error body:
 * {"error":{"name":...,"message":...},"request":{"method":...,"url":...},
 *  "response":{"statusCode":...}} */
void gr_http_error_body(gr_buf_t *out, int status, const char *message, const char *method,
                        const char *url);

#endif
