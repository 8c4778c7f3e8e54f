/* core/metrics.c: counters, gauges and histograms, rendered as Prometheus
 * text.
 *
 * A family is a gr__family_t whose first member is the gr_metric_t handle a
 * module holds.  A family without labels is its own (only) series; a family
 * with labels keeps its series in a chained hash table keyed by the label
 * values, because HTTP request counters look a series up on every request,
 * and in a creation-ordered array for rendering. */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"

typedef enum gr__metric_type {
    GR__METRIC_COUNTER,
    GR__METRIC_GAUGE,
    GR__METRIC_HISTOGRAM
} gr__metric_type_t;

typedef struct gr__family gr__family_t;

struct gr_metric {
    const gr_host_api_t *api;
    gr__family_t *family;
    char **values;      /* one owned value per label name; NULL for the family handle */
    uint64_t hash;      /* of the values */
    gr_metric_t *chain; /* next series in the same hash slot */
    double value;       /* counter or gauge */
    uint64_t *counts;   /* histogram: observations per bucket (not cumulative), +Inf last */
    double sum;         /* histogram */
    uint64_t count;     /* histogram */
};

struct gr__family {
    gr_metric_t self; /* first: a family pointer is also its handle */
    gr__metric_type_t type;
    char *name;
    char *help;
    char **label_names;
    size_t nlabels;
    double *bounds; /* histogram upper bounds, ascending, without +Inf */
    size_t nbounds;
    gr_metric_t **series; /* creation order */
    size_t nseries;
    size_t series_cap;
    gr_metric_t **slots; /* hash table; its size is a power of two */
    size_t nslots;
};

struct gr_metrics {
    const gr_host_api_t *api;
    gr_log_t *log;
    gr__family_t **families; /* registration order */
    size_t nfamilies;
    size_t cap;
};

static const double gr__default_bounds[] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

static const char *gr__type_name(gr__metric_type_t type)
{
    switch (type) {
    case GR__METRIC_COUNTER: return "counter";
    case GR__METRIC_GAUGE: return "gauge";
    default: return "histogram";
    }
}

__attribute__((format(printf, 3, 4))) static void gr__refuse(gr_metrics_t *m, const char *name,
                                                             const char *fmt, ...)
{
    if (!m->log)
        return;
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    gr_log_warn(m->log, "metrics: refusing to register '%s': %s", name ? name : "(null)", reason);
}

/* ---- registry -------------------------------------------------------------- */

gr_metrics_t *gr_metrics_new(void)
{
    gr_metrics_t *m = gr_xcalloc(1, sizeof *m);
    m->api = &gr__host_api;
    return m;
}

void gr_metrics_set_log(gr_metrics_t *m, gr_log_t *log)
{
    if (m)
        m->log = log;
}

static void gr__series_free_fields(gr_metric_t *s, size_t nlabels)
{
    if (s->values) {
        for (size_t i = 0; i < nlabels; i++)
            free(s->values[i]);
        free(s->values);
    }
    free(s->counts);
}

static void gr__family_free(gr__family_t *f)
{
    for (size_t i = 0; i < f->nseries; i++) {
        gr__series_free_fields(f->series[i], f->nlabels);
        free(f->series[i]);
    }
    free(f->series);
    free(f->slots);
    gr__series_free_fields(&f->self, f->nlabels);
    for (size_t i = 0; i < f->nlabels; i++)
        free(f->label_names[i]);
    free(f->label_names);
    free(f->bounds);
    free(f->name);
    free(f->help);
    free(f);
}

void gr_metrics_free(gr_metrics_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfamilies; i++)
        gr__family_free(m->families[i]);
    free(m->families);
    free(m);
}

/* Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]* */
static int gr__metric_name_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

/* Prometheus: [a-zA-Z_][a-zA-Z0-9_]*, and names starting "__" are reserved. */
static int gr__label_name_ok(const char *s)
{
    if (!s || !*s || strncmp(s, "__", 2) == 0)
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return 0;
    }
    return 1;
}

static size_t gr__count_labels(const char *const *names)
{
    size_t n = 0;
    while (names && names[n])
        n++;
    return n;
}

static gr__family_t *gr__find_family(gr_metrics_t *m, const char *name)
{
    for (size_t i = 0; i < m->nfamilies; i++)
        if (strcmp(m->families[i]->name, name) == 0)
            return m->families[i];
    return NULL;
}

static int gr__same_shape(const gr__family_t *f, gr__metric_type_t type,
                          const char *const *label_names, size_t nlabels, const double *bounds,
                          size_t nbounds)
{
    if (f->type != type || f->nlabels != nlabels)
        return 0;
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(f->label_names[i], label_names[i]) != 0)
            return 0;
    if (type == GR__METRIC_HISTOGRAM) {
        if (f->nbounds != nbounds)
            return 0;
        for (size_t i = 0; i < nbounds; i++)
            if (f->bounds[i] != bounds[i])
                return 0;
    }
    return 1;
}

static gr_metric_t *gr__register(gr_metrics_t *m, gr__metric_type_t type, const char *name,
                                 const char *help, const char *const *label_names,
                                 const double *bounds, size_t nbounds)
{
    if (!m)
        return NULL;
    if (!gr__metric_name_ok(name)) {
        gr__refuse(m, name, "a metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*");
        return NULL;
    }
    size_t nlabels = gr__count_labels(label_names);
    gr__family_t *existing = gr__find_family(m, name);
    if (existing) {
        if (gr__same_shape(existing, type, label_names, nlabels, bounds, nbounds))
            return &existing->self;
        gr__refuse(m, name,
                   "it is already registered as a %s with other labels or buckets; use another "
                   "name or register it exactly as before",
                   gr__type_name(existing->type));
        return NULL;
    }
    for (size_t i = 0; i < nlabels; i++) {
        if (!gr__label_name_ok(label_names[i])) {
            gr__refuse(m, name,
                       "label '%s' must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __",
                       label_names[i]);
            return NULL;
        }
        if (type == GR__METRIC_HISTOGRAM && strcmp(label_names[i], "le") == 0) {
            gr__refuse(m, name, "a histogram cannot have a label named 'le'");
            return NULL;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(label_names[i], label_names[j]) == 0) {
                gr__refuse(m, name, "label '%s' appears twice", label_names[i]);
                return NULL;
            }
        }
    }

    gr__family_t *f = gr_xcalloc(1, sizeof *f);
    f->self.api = &gr__host_api;
    f->self.family = f;
    f->type = type;
    f->name = gr_xstrdup(name);
    f->help = gr_xstrdup(help ? help : "");
    f->nlabels = nlabels;
    if (nlabels) {
        f->label_names = gr_xcalloc(nlabels, sizeof *f->label_names);
        for (size_t i = 0; i < nlabels; i++)
            f->label_names[i] = gr_xstrdup(label_names[i]);
    }
    if (type == GR__METRIC_HISTOGRAM) {
        f->nbounds = nbounds;
        f->bounds = gr_xcalloc(nbounds ? nbounds : 1, sizeof *f->bounds);
        if (nbounds)
            memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
        if (nlabels == 0)
            f->self.counts = gr_xcalloc(nbounds + 1, sizeof *f->self.counts);
    }
    if (m->nfamilies == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->families = gr_xrealloc(m->families, m->cap * sizeof *m->families);
    }
    m->families[m->nfamilies++] = f;
    return &f->self;
}

gr_metric_t *gr__metrics_counter(gr_metrics_t *m, const char *name, const char *help,
                                 const char *const *label_names)
{
    return gr__register(m, GR__METRIC_COUNTER, name, help, label_names, NULL, 0);
}

gr_metric_t *gr__metrics_gauge(gr_metrics_t *m, const char *name, const char *help,
                               const char *const *label_names)
{
    return gr__register(m, GR__METRIC_GAUGE, name, help, label_names, NULL, 0);
}

/* buckets NULL or nbuckets 0 means the Prometheus defaults.  A final +Inf is
 * accepted and dropped, since every histogram renders one. */
gr_metric_t *gr__metrics_histogram(gr_metrics_t *m, const char *name, const char *help,
                                   const char *const *label_names, const double *buckets,
                                   size_t nbuckets)
{
    if (!m)
        return NULL;
    if (!buckets || nbuckets == 0) {
        buckets = gr__default_bounds;
        nbuckets = sizeof gr__default_bounds / sizeof gr__default_bounds[0];
    }
    if (isinf(buckets[nbuckets - 1]) && buckets[nbuckets - 1] > 0)
        nbuckets--;
    for (size_t i = 0; i < nbuckets; i++) {
        if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1]))) {
            gr__refuse(m, name, "histogram buckets must be finite and strictly ascending");
            return NULL;
        }
    }
    return gr__register(m, GR__METRIC_HISTOGRAM, name, help, label_names, buckets, nbuckets);
}

/* ---- series ------------------------------------------------------------------ */

/* FNV-1a over the values, each followed by a 0xff byte so that ("ab","c")
 * and ("a","bc") differ. */
static uint64_t gr__hash_values(const char *const *values, size_t n)
{
    static const unsigned char separator = 0xff;
    uint64_t h = GR_HASH_INIT;
    for (size_t i = 0; i < n; i++) {
        h = gr_hash_update(h, values[i], strlen(values[i]));
        h = gr_hash_update(h, &separator, 1);
    }
    return h;
}

static void gr__slots_grow(gr__family_t *f)
{
    size_t nslots = f->nslots ? f->nslots * 2 : 16;
    gr_metric_t **slots = gr_xcalloc(nslots, sizeof *slots);
    for (size_t i = 0; i < f->nseries; i++) {
        gr_metric_t *s = f->series[i];
        size_t at = (size_t)(s->hash & (nslots - 1));
        s->chain = slots[at];
        slots[at] = s;
    }
    free(f->slots);
    f->slots = slots;
    f->nslots = nslots;
}

/* Takes a family handle and returns its series for `values`, creating it on
 * first use.  A family without labels is its own series.  NULL when family is
 * NULL or a series, or when values (or one of them) is missing. */
gr_metric_t *gr__metric_labels(gr_metric_t *family, const char *const *values)
{
    if (!family || family != &family->family->self)
        return NULL;
    gr__family_t *f = family->family;
    if (f->nlabels == 0)
        return family;
    if (!values)
        return NULL;
    for (size_t i = 0; i < f->nlabels; i++)
        if (!values[i])
            return NULL;

    uint64_t h = gr__hash_values(values, f->nlabels);
    if (f->nslots) {
        for (gr_metric_t *s = f->slots[h & (f->nslots - 1)]; s; s = s->chain) {
            if (s->hash != h)
                continue;
            size_t i = 0;
            while (i < f->nlabels && strcmp(s->values[i], values[i]) == 0)
                i++;
            if (i == f->nlabels)
                return s;
        }
    }

    gr_metric_t *s = gr_xcalloc(1, sizeof *s);
    s->api = &gr__host_api;
    s->family = f;
    s->hash = h;
    s->values = gr_xcalloc(f->nlabels, sizeof *s->values);
    for (size_t i = 0; i < f->nlabels; i++)
        s->values[i] = gr_xstrdup(values[i]);
    if (f->type == GR__METRIC_HISTOGRAM)
        s->counts = gr_xcalloc(f->nbounds + 1, sizeof *s->counts);
    if (f->nseries == f->series_cap) {
        f->series_cap = f->series_cap ? f->series_cap * 2 : 8;
        f->series = gr_xrealloc(f->series, f->series_cap * sizeof *f->series);
    }
    f->series[f->nseries++] = s;
    /* Keep chains short: grow when the table would be more than 3/4 full. */
    if (f->nseries * 4 > f->nslots * 3) {
        gr__slots_grow(f);
    } else {
        size_t at = (size_t)(h & (f->nslots - 1));
        s->chain = f->slots[at];
        f->slots[at] = s;
    }
    return s;
}

/* A family with labels has no value of its own: updates must go to a series. */
static int gr__updatable(const gr_metric_t *metric, gr__metric_type_t type)
{
    if (!metric || metric->family->type != type)
        return 0;
    return metric != &metric->family->self || metric->family->nlabels == 0;
}

/* Counters only go up: a negative or NaN delta is ignored. */
void gr__metric_add(gr_metric_t *metric, double delta)
{
    if (gr__updatable(metric, GR__METRIC_COUNTER)) {
        if (delta >= 0)
            metric->value += delta;
    } else if (gr__updatable(metric, GR__METRIC_GAUGE)) {
        metric->value += delta;
    }
}

/* Only gauges can be set. */
void gr__metric_set(gr_metric_t *metric, double value)
{
    if (gr__updatable(metric, GR__METRIC_GAUGE))
        metric->value = value;
}

/* Only histograms observe; a NaN observation is ignored. */
void gr__metric_observe(gr_metric_t *metric, double value)
{
    if (!gr__updatable(metric, GR__METRIC_HISTOGRAM) || isnan(value))
        return;
    const gr__family_t *f = metric->family;
    size_t i = 0;
    while (i < f->nbounds && value > f->bounds[i])
        i++;
    metric->counts[i]++;
    metric->sum += value;
    metric->count++;
}

/* ---- rendering ---------------------------------------------------------------- */

/* The shortest of %.15g and %.17g that reads back as the same double, so
 * 0.1 renders as "0.1" and 1 as "1", as Prometheus's own clients do. */
static void gr__put_number(gr_buf_t *out, double v)
{
    if (isnan(v)) {
        gr_buf_puts(out, "NaN");
    } else if (isinf(v)) {
        gr_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    } else {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.15g", v);
        if (strtod(tmp, NULL) != v)
            snprintf(tmp, sizeof tmp, "%.17g", v);
        gr_buf_puts(out, tmp);
    }
}

/* HELP text escapes backslash and newline; label values also escape '"'. */
static void gr__put_escaped(gr_buf_t *out, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            gr_buf_puts(out, "\\\\");
        else if (*s == '\n')
            gr_buf_puts(out, "\\n");
        else if (quote && *s == '"')
            gr_buf_puts(out, "\\\"");
        else
            gr_buf_append(out, s, 1);
    }
}

/* Writes `name{labels,le="..."} ` for one sample; le may be NULL. */
static void gr__put_sample_head(gr_buf_t *out, const gr__family_t *f, const char *suffix,
                                const gr_metric_t *s, const char *le)
{
    gr_buf_puts(out, f->name);
    gr_buf_puts(out, suffix);
    if (f->nlabels || le) {
        gr_buf_puts(out, "{");
        for (size_t i = 0; i < f->nlabels; i++) {
            gr_buf_printf(out, "%s%s=\"", i ? "," : "", f->label_names[i]);
            gr__put_escaped(out, s->values[i], 1);
            gr_buf_puts(out, "\"");
        }
        if (le)
            gr_buf_printf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
        gr_buf_puts(out, "}");
    }
    gr_buf_puts(out, " ");
}

static void gr__render_series(gr_buf_t *out, const gr__family_t *f, const gr_metric_t *s)
{
    if (f->type != GR__METRIC_HISTOGRAM) {
        gr__put_sample_head(out, f, "", s, NULL);
        gr__put_number(out, s->value);
        gr_buf_puts(out, "\n");
        return;
    }
    uint64_t cumulative = 0;
    gr_buf_t le = {0};
    for (size_t i = 0; i < f->nbounds; i++) {
        cumulative += s->counts[i];
        gr_buf_reset(&le);
        gr__put_number(&le, f->bounds[i]);
        gr__put_sample_head(out, f, "_bucket", s, le.data);
        gr_buf_printf(out, "%" PRIu64 "\n", cumulative);
    }
    gr_buf_free(&le);
    gr__put_sample_head(out, f, "_bucket", s, "+Inf");
    gr_buf_printf(out, "%" PRIu64 "\n", s->count);
    gr__put_sample_head(out, f, "_sum", s, NULL);
    gr__put_number(out, s->sum);
    gr_buf_puts(out, "\n");
    gr__put_sample_head(out, f, "_count", s, NULL);
    gr_buf_printf(out, "%" PRIu64 "\n", s->count);
}

void gr_metrics_render(gr_metrics_t *m, gr_buf_t *out)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfamilies; i++) {
        const gr__family_t *f = m->families[i];
        if (f->help[0]) {
            gr_buf_printf(out, "# HELP %s ", f->name);
            gr__put_escaped(out, f->help, 0);
            gr_buf_puts(out, "\n");
        }
        gr_buf_printf(out, "# TYPE %s %s\n", f->name, gr__type_name(f->type));
        if (f->nlabels == 0) {
            gr__render_series(out, f, &f->self);
        } else {
            for (size_t j = 0; j < f->nseries; j++)
                gr__render_series(out, f, f->series[j]);
        }
    }
}
