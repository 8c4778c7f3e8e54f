/* core/metrics.h: the registry behind gr_metrics_t and its Prometheus text.
 *
 * The host owns one registry.  Families are unique by name: registering a
 * name again with the same type and label names (and, for a histogram, the
 * same buckets) returns the existing family, so a module may register again
 * on reconfigure; any other difference returns NULL and logs why.  Updating
 * a NULL metric does nothing, so a module whose registration was refused
 * keeps running without that metric.
 *
 * The registry is not thread-safe, by design: every update and every render
 * happens on the loop thread (handlers, timers, work `done` callbacks), and a
 * lock would cost every HTTP request for nothing.  Code running on the thread
 * pool must hand its figures back to its `done` callback and update metrics
 * there. */
#ifndef GR_CORE_METRICS_H
#define GR_CORE_METRICS_H

#include <greenroom/greenroom.h>

#include "util.h"

/* The Content-Type of what gr_metrics_render writes. */
#define GR_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

gr_metrics_t *gr_metrics_new(void);
/* Frees every family and series; metric pointers handed out die with it. */
void gr_metrics_free(gr_metrics_t *m);

/* Where refused registrations are reported (borrowed; NULL for nowhere). */
void gr_metrics_set_log(gr_metrics_t *m, gr_log_t *log);

/* Appends every family in Prometheus text exposition format 0.0.4: families
 * in registration order, series in creation order. */
void gr_metrics_render(gr_metrics_t *m, gr_buf_t *out);

#endif
