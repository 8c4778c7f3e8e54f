/* STUB: replaced by the unit's real implementation. */
#include "api_impl.h"

gr_metric_t *gr__metrics_counter(gr_metrics_t *m, const char *name, const char *help, const char *const *label_names)
{
    (void)m; (void)name; (void)help; (void)label_names; return NULL;
}

gr_metric_t *gr__metrics_gauge(gr_metrics_t *m, const char *name, const char *help, const char *const *label_names)
{
    (void)m; (void)name; (void)help; (void)label_names; return NULL;
}

gr_metric_t *gr__metrics_histogram(gr_metrics_t *m, const char *name, const char *help, const char *const *label_names, const double *buckets, size_t nbuckets)
{
    (void)m; (void)name; (void)help; (void)label_names; (void)buckets; (void)nbuckets; return NULL;
}

gr_metric_t *gr__metric_labels(gr_metric_t *family, const char *const *values)
{
    (void)family; (void)values; return NULL;
}

void gr__metric_add(gr_metric_t *metric, double delta)
{
    (void)metric; (void)delta;
}

void gr__metric_set(gr_metric_t *metric, double value)
{
    (void)metric; (void)value;
}

void gr__metric_observe(gr_metric_t *metric, double value)
{
    (void)metric; (void)value;
}
