/* greenroom/error.h: status codes and the error record every call fills.
 *
 * Functions return 0 or a negative gr_status_t and, when they take a
 * gr_error_t *, write a sentence a person can act on into it.  The caller
 * owns the gr_error_t (usually on its stack); it holds no pointers.  Log an
 * error once, where it is handled, not at every level it passes through.
 */
#ifndef GREENROOM_ERROR_H
#define GREENROOM_ERROR_H

#include <stdarg.h>
#include <stdio.h>

typedef enum gr_status {
    GR_OK = 0,
    GR_ERR_INVALID = -1,     /* bad input: config, request, argument */
    GR_ERR_NOT_FOUND = -2,   /* a named thing does not exist */
    GR_ERR_IO = -3,          /* a file or socket failed */
    GR_ERR_NOMEM = -4,       /* an allocation failed */
    GR_ERR_UNAVAILABLE = -5, /* a dependency (database, upstream) is down */
    GR_ERR_TIMEOUT = -6,     /* a deadline passed */
    GR_ERR_CANCELED = -7,    /* the host is shutting down or the caller gave up */
    GR_ERR_CONFLICT = -8,    /* a duplicate or a state that forbids the call */
    GR_ERR_UNSUPPORTED = -9, /* the host or module lacks the feature */
    GR_ERR_INTERNAL = -10    /* a bug: report it */
} gr_status_t;

typedef struct gr_error {
    int code;          /* a gr_status_t */
    char message[512]; /* one or more sentences, NUL-terminated */
} gr_error_t;

/* Fills err (when non-NULL) and returns code, so a failing path reads
 * `return gr_error_set(err, GR_ERR_INVALID, "...", ...);`. */
static inline int gr_error_vset(gr_error_t *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return code;
}

__attribute__((format(printf, 3, 4))) static inline int gr_error_set(gr_error_t *err, int code,
                                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gr_error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

static inline void gr_error_clear(gr_error_t *err)
{
    if (err) {
        err->code = GR_OK;
        err->message[0] = '\0';
    }
}

/* A short name for a status code ("invalid", "not found", ...). */
static inline const char *gr_status_name(int code)
{
    switch (code) {
    case GR_OK: return "ok";
    case GR_ERR_INVALID: return "invalid";
    case GR_ERR_NOT_FOUND: return "not found";
    case GR_ERR_IO: return "i/o error";
    case GR_ERR_NOMEM: return "out of memory";
    case GR_ERR_UNAVAILABLE: return "unavailable";
    case GR_ERR_TIMEOUT: return "timed out";
    case GR_ERR_CANCELED: return "canceled";
    case GR_ERR_CONFLICT: return "conflict";
    case GR_ERR_UNSUPPORTED: return "unsupported";
    default: return "internal error";
    }
}

#endif
