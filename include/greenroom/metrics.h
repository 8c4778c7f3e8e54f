/* greenroom/metrics.h: counters, gauges and histograms served as Prometheus
 * text at /metrics.
 *
 * Create a family once in init; the host owns it.  With label names, get a
 * series with gr_metric_labels() (created on first use, also host-owned) and
 * update that.  Name metrics after the plugin: `catalog_entities_total`.
 *
 * Registering a name again with the same type and labels returns the same
 * family (so reconfigure may register again); a different type, label set or
 * bucket list returns NULL, as does an invalid name.  Every function accepts
 * NULL and then does nothing, so a refused metric never crashes a module.
 * Counters ignore negative deltas; set applies to gauges, observe to
 * histograms.  Call these on the loop thread only (not from work functions).
 */
#ifndef GREENROOM_METRICS_H
#define GREENROOM_METRICS_H

#include <greenroom/api.h>

/* label_names: NULL-terminated, or NULL for a metric without labels. */
static inline gr_metric_t *gr_metrics_counter(gr_metrics_t *m, const char *name, const char *help,
                                              const char *const *label_names)
{
    return m ? GR__API(m)->metrics_counter(m, name, help, label_names) : NULL;
}

static inline gr_metric_t *gr_metrics_gauge(gr_metrics_t *m, const char *name, const char *help,
                                            const char *const *label_names)
{
    return m ? GR__API(m)->metrics_gauge(m, name, help, label_names) : NULL;
}

/* buckets: ascending upper bounds; NULL for Prometheus's defaults (seconds). */
static inline gr_metric_t *gr_metrics_histogram(gr_metrics_t *m, const char *name, const char *help,
                                                const char *const *label_names,
                                                const double *buckets, size_t nbuckets)
{
    return m ? GR__API(m)->metrics_histogram(m, name, help, label_names, buckets, nbuckets) : NULL;
}

/* The series of `family` with these label values (as many as it has names). */
static inline gr_metric_t *gr_metric_labels(gr_metric_t *family, const char *const *values)
{
    return family ? GR__API(family)->metric_labels(family, values) : NULL;
}

static inline void gr_metric_inc(gr_metric_t *metric)
{
    if (metric)
        GR__API(metric)->metric_add(metric, 1.0);
}

static inline void gr_metric_add(gr_metric_t *metric, double delta)
{
    if (metric)
        GR__API(metric)->metric_add(metric, delta);
}

static inline void gr_metric_set(gr_metric_t *metric, double value)
{
    if (metric)
        GR__API(metric)->metric_set(metric, value);
}

static inline void gr_metric_observe(gr_metric_t *metric, double value)
{
    if (metric)
        GR__API(metric)->metric_observe(metric, value);
}

#endif
