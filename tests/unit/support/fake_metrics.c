/* tests/unit/support/fake_metrics.c: see fake_metrics.h. */
#include "fake_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "util.h"

typedef struct fake_metric {
    const gr_host_api_t *api;
    char *name;
    char *label; /* NULL for a family or an unlabelled metric */
    int labelled;
    double value;
    struct fake_metric *family;
    struct fake_metric *next;
} fake_metric_t;

typedef struct fake_metrics {
    const gr_host_api_t *api;
    gr_host_api_t table;
    fake_metric_t *all;
} fake_metrics_t;

static fake_metric_t *add(fake_metrics_t *fm, const char *name, const char *label, int labelled,
                          fake_metric_t *family)
{
    fake_metric_t *m = gr_xcalloc(1, sizeof *m);
    m->api = &fm->table;
    m->name = gr_xstrdup(name);
    m->label = label ? gr_xstrdup(label) : NULL;
    m->labelled = labelled;
    m->family = family;
    m->next = fm->all;
    fm->all = m;
    return m;
}

/* The registry a metric belongs to: its API table sits inside it. */
static fake_metrics_t *owner(const gr_metric_t *metric)
{
    const fake_metric_t *m = (const fake_metric_t *)metric;
    return (fake_metrics_t *)((char *)m->api - offsetof(fake_metrics_t, table));
}

static gr_metric_t *family_new(gr_metrics_t *metrics, const char *name, const char *help,
                               const char *const *label_names)
{
    (void)help;
    fake_metrics_t *fm = (fake_metrics_t *)metrics;
    int labelled = label_names && label_names[0];
    return (gr_metric_t *)add(fm, name, NULL, labelled, NULL);
}

static gr_metric_t *histogram_new(gr_metrics_t *metrics, const char *name, const char *help,
                                  const char *const *label_names, const double *buckets,
                                  size_t nbuckets)
{
    (void)buckets;
    (void)nbuckets;
    return family_new(metrics, name, help, label_names);
}

static gr_metric_t *labels(gr_metric_t *family, const char *const *values)
{
    fake_metrics_t *fm = owner(family);
    fake_metric_t *f = (fake_metric_t *)family;
    for (fake_metric_t *m = fm->all; m; m = m->next)
        if (m->family == f && strcmp(m->label, values[0]) == 0)
            return (gr_metric_t *)m;
    return (gr_metric_t *)add(fm, f->name, values[0], 1, f);
}

static void metric_add(gr_metric_t *metric, double delta)
{
    ((fake_metric_t *)metric)->value += delta;
}
static void metric_set(gr_metric_t *metric, double v)
{
    ((fake_metric_t *)metric)->value = v;
}
static void metric_observe(gr_metric_t *metric, double v)
{
    ((fake_metric_t *)metric)->value += v;
}

gr_metrics_t *gr_fake_metrics_new(void)
{
    fake_metrics_t *fm = gr_xcalloc(1, sizeof *fm);
    fm->table = gr__host_api;
    fm->table.metrics_counter = family_new;
    fm->table.metrics_gauge = family_new;
    fm->table.metrics_histogram = histogram_new;
    fm->table.metric_labels = labels;
    fm->table.metric_add = metric_add;
    fm->table.metric_set = metric_set;
    fm->table.metric_observe = metric_observe;
    fm->api = &fm->table;
    return (gr_metrics_t *)fm;
}

void gr_fake_metrics_free(gr_metrics_t *metrics)
{
    fake_metrics_t *fm = (fake_metrics_t *)metrics;
    while (fm->all) {
        fake_metric_t *m = fm->all;
        fm->all = m->next;
        free(m->name);
        free(m->label);
        free(m);
    }
    free(fm);
}

double gr_fake_metrics_value(gr_metrics_t *metrics, const char *name, const char *label)
{
    fake_metrics_t *fm = (fake_metrics_t *)metrics;
    for (fake_metric_t *m = fm->all; m; m = m->next) {
        if (strcmp(m->name, name) != 0)
            continue;
        if (!label && !m->labelled && !m->family)
            return m->value;
        if (label && m->label && strcmp(m->label, label) == 0)
            return m->value;
    }
    return -1;
}
