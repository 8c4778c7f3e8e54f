/* greenroom/log.h: the logger service.
 *
 * ctx->log is a child logger that stamps every line with the plugin (and
 * module) it belongs to.  The operator picks the level and the format
 * (`pretty` for a terminal, `json` for a collector) in backend.log.  Values
 * the config marks as secret are replaced by "[REDACTED]" in every line, so
 * logging a connection string cannot leak its password.
 */
#ifndef GREENROOM_LOG_H
#define GREENROOM_LOG_H

#include <stdarg.h>

#include <greenroom/api.h>

typedef enum gr_log_level {
    GR_LOG_DEBUG = 10,
    GR_LOG_INFO = 20,
    GR_LOG_WARN = 30,
    GR_LOG_ERROR = 40
} gr_log_level_t;

/* True when a line at `level` would be written: guard costly arguments. */
static inline int gr_log_enabled(gr_log_t *log, gr_log_level_t level)
{
    return GR__API(log)->log_enabled(log, (int)level);
}

static inline void gr_log_vwrite(gr_log_t *log, gr_log_level_t level, const char *fmt, va_list ap)
{
    GR__API(log)->log_write(log, (int)level, fmt, ap);
}

#define GR__LOG_FN(fn, level)                                                                  \
    __attribute__((format(printf, 2, 3))) static inline void fn(gr_log_t *log, const char *fmt, \
                                                                ...)                           \
    {                                                                                          \
        va_list ap;                                                                            \
        va_start(ap, fmt);                                                                     \
        gr_log_vwrite(log, level, fmt, ap);                                                    \
        va_end(ap);                                                                            \
    }

GR__LOG_FN(gr_log_debug, GR_LOG_DEBUG)
GR__LOG_FN(gr_log_info, GR_LOG_INFO)
GR__LOG_FN(gr_log_warn, GR_LOG_WARN)
GR__LOG_FN(gr_log_error, GR_LOG_ERROR)

#endif
