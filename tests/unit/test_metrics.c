/* Unit tests for core/metrics.c: registration rules, series lookup and the
 * exact Prometheus text a scraper reads.  Calls go through the public
 * inline wrappers, as a module's would. */
#include <math.h>
#include <stdio.h>

#include "log.h"
#include "metrics.h"
#include "test.h"
#include "util.h"

static char *render(gr_metrics_t *m)
{
    gr_buf_t out = {0};
    gr_metrics_render(m, &out);
    return out.data ? gr_buf_steal(&out) : gr_xstrdup("");
}

TEST(counter_with_labels_renders_escaped_values)
{
    gr_metrics_t *m = gr_metrics_new();
    static const char *const labels[] = {"method", "path", NULL};
    gr_metric_t *c =
        gr_metrics_counter(m, "http_requests_total", "Requests, by \\route\nserved.", labels);
    REQUIRE(c != NULL);
    gr_metric_inc(gr_metric_labels(c, (const char *const[]){"GET", "/a", NULL}));
    gr_metric_add(gr_metric_labels(c, (const char *const[]){"GET", "/a", NULL}), 2);
    gr_metric_add(gr_metric_labels(c, (const char *const[]){"POST", "say \"hi\"\\\n", NULL}), 0.5);
    /* Counters never go down, and a labelled family has no value of its own. */
    gr_metric_add(gr_metric_labels(c, (const char *const[]){"GET", "/a", NULL}), -1);
    gr_metric_inc(c);

    char *text = render(m);
    CHECK_STR(text, "# HELP http_requests_total Requests, by \\\\route\\nserved.\n"
                    "# TYPE http_requests_total counter\n"
                    "http_requests_total{method=\"GET\",path=\"/a\"} 3\n"
                    "http_requests_total{method=\"POST\",path=\"say \\\"hi\\\"\\\\\\n\"} 0.5\n");
    free(text);
    gr_metrics_free(m);
}

TEST(gauge_sets_and_adds)
{
    gr_metrics_t *m = gr_metrics_new();
    gr_metric_t *g = gr_metrics_gauge(m, "queue_depth", "Items waiting.", NULL);
    REQUIRE(g != NULL);
    CHECK(gr_metric_labels(g, NULL) == g);
    gr_metric_set(g, 7);
    gr_metric_add(g, -2.25);
    gr_metric_observe(g, 100); /* not a histogram: ignored */

    char *text = render(m);
    CHECK_STR(text, "# HELP queue_depth Items waiting.\n"
                    "# TYPE queue_depth gauge\n"
                    "queue_depth 4.75\n");
    free(text);
    gr_metrics_free(m);
}

TEST(histogram_buckets_are_cumulative)
{
    gr_metrics_t *m = gr_metrics_new();
    static const char *const labels[] = {"route", NULL};
    static const double bounds[] = {0.1, 0.5, 1};
    gr_metric_t *h = gr_metrics_histogram(m, "latency_seconds", "", labels, bounds, 3);
    REQUIRE(h != NULL);
    gr_metric_t *s = gr_metric_labels(h, (const char *const[]){"/x", NULL});
    gr_metric_observe(s, 0.05);
    gr_metric_observe(s, 0.1); /* an upper bound is inclusive */
    gr_metric_observe(s, 0.7);
    gr_metric_observe(s, 3);
    gr_metric_observe(s, NAN);
    gr_metric_set(s, 9); /* not a gauge: ignored */

    char *text = render(m);
    CHECK_STR(text, "# TYPE latency_seconds histogram\n"
                    "latency_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
                    "latency_seconds_bucket{route=\"/x\",le=\"0.5\"} 2\n"
                    "latency_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"
                    "latency_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"
                    "latency_seconds_sum{route=\"/x\"} 3.85\n"
                    "latency_seconds_count{route=\"/x\"} 4\n");
    free(text);
    gr_metrics_free(m);
}

TEST(histogram_defaults_to_prometheus_buckets)
{
    gr_metrics_t *m = gr_metrics_new();
    gr_metric_t *h = gr_metrics_histogram(m, "d_seconds", "Durations.", NULL, NULL, 0);
    REQUIRE(h != NULL);
    gr_metric_observe(h, 0.3);

    char *text = render(m);
    CHECK_STR(text, "# HELP d_seconds Durations.\n"
                    "# TYPE d_seconds histogram\n"
                    "d_seconds_bucket{le=\"0.005\"} 0\n"
                    "d_seconds_bucket{le=\"0.01\"} 0\n"
                    "d_seconds_bucket{le=\"0.025\"} 0\n"
                    "d_seconds_bucket{le=\"0.05\"} 0\n"
                    "d_seconds_bucket{le=\"0.1\"} 0\n"
                    "d_seconds_bucket{le=\"0.25\"} 0\n"
                    "d_seconds_bucket{le=\"0.5\"} 1\n"
                    "d_seconds_bucket{le=\"1\"} 1\n"
                    "d_seconds_bucket{le=\"2.5\"} 1\n"
                    "d_seconds_bucket{le=\"5\"} 1\n"
                    "d_seconds_bucket{le=\"10\"} 1\n"
                    "d_seconds_bucket{le=\"+Inf\"} 1\n"
                    "d_seconds_sum 0.3\n"
                    "d_seconds_count 1\n");
    free(text);
    gr_metrics_free(m);
}

TEST(same_name_registration_returns_the_family)
{
    gr_metrics_t *m = gr_metrics_new();
    static const char *const labels[] = {"kind", NULL};
    gr_metric_t *a = gr_metrics_counter(m, "catalog_entities_total", "Entities.", labels);
    gr_metric_t *b = gr_metrics_counter(m, "catalog_entities_total", "Other help.",
                                        (const char *const[]){"kind", NULL});
    REQUIRE(a != NULL);
    CHECK(a == b);
    gr_metric_inc(gr_metric_labels(a, (const char *const[]){"Component", NULL}));
    gr_metric_inc(gr_metric_labels(b, (const char *const[]){"Component", NULL}));

    char *text = render(m);
    CHECK_STR(text, "# HELP catalog_entities_total Entities.\n"
                    "# TYPE catalog_entities_total counter\n"
                    "catalog_entities_total{kind=\"Component\"} 2\n");
    free(text);

    static const double b1[] = {1, 2};
    static const double b2[] = {1, 3};
    gr_metric_t *h = gr_metrics_histogram(m, "h_seconds", NULL, NULL, b1, 2);
    CHECK(h != NULL);
    CHECK(gr_metrics_histogram(m, "h_seconds", NULL, NULL, b1, 2) == h);
    CHECK(gr_metrics_histogram(m, "h_seconds", NULL, NULL, b2, 2) == NULL);
    gr_metrics_free(m);
}

TEST(conflicting_registration_is_refused)
{
    gr_metrics_t *m = gr_metrics_new();
    static const char *const labels[] = {"kind", NULL};
    REQUIRE(gr_metrics_counter(m, "jobs_total", "Jobs.", labels) != NULL);
    CHECK(gr_metrics_gauge(m, "jobs_total", "Jobs.", labels) == NULL);
    CHECK(gr_metrics_counter(m, "jobs_total", "Jobs.", NULL) == NULL);
    CHECK(gr_metrics_counter(m, "jobs_total", "Jobs.", (const char *const[]){"type", NULL}) ==
          NULL);
    CHECK(gr_metrics_counter(m, "jobs_total", "Jobs.", (const char *const[]){"kind", "x", NULL}) ==
          NULL);

    /* The refused family changes nothing in the output. */
    char *text = render(m);
    CHECK_STR(text, "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\n");
    free(text);
    gr_metrics_free(m);
}

TEST(refusals_are_logged_with_the_reason)
{
    FILE *out = tmpfile();
    REQUIRE(out != NULL);
    gr_log_t *log = gr_log_root_new(out, GR_LOG_WARN, GR_LOG_FORMAT_PRETTY);
    gr_metrics_t *m = gr_metrics_new();
    gr_metrics_set_log(m, log);
    CHECK(gr_metrics_counter(m, "x_total", NULL, NULL) != NULL);
    CHECK(gr_metrics_gauge(m, "x_total", NULL, NULL) == NULL);
    CHECK(gr_metrics_gauge(m, "bad-name", NULL, NULL) == NULL);

    char text[2048] = {0};
    rewind(out);
    CHECK(fread(text, 1, sizeof text - 1, out) > 0);
    CHECK_CONTAINS(text, "'x_total'");
    CHECK_CONTAINS(text, "already registered as a counter");
    CHECK_CONTAINS(text, "'bad-name'");
    CHECK_CONTAINS(text, "[a-zA-Z_:][a-zA-Z0-9_:]*");
    gr_metrics_free(m);
    gr_log_free(log);
    fclose(out);
}

TEST(names_follow_prometheus_rules)
{
    gr_metrics_t *m = gr_metrics_new();
    CHECK(gr_metrics_counter(m, "ok_name:sub_total", NULL, NULL) != NULL);
    CHECK(gr_metrics_counter(m, "_leading_underscore", NULL, NULL) != NULL);
    CHECK(gr_metrics_counter(m, "9starts_with_digit", NULL, NULL) == NULL);
    CHECK(gr_metrics_counter(m, "has-dash", NULL, NULL) == NULL);
    CHECK(gr_metrics_counter(m, "has space", NULL, NULL) == NULL);
    CHECK(gr_metrics_counter(m, "", NULL, NULL) == NULL);
    CHECK(gr_metrics_counter(m, NULL, NULL, NULL) == NULL);
    CHECK(gr_metrics_gauge(m, "g1", NULL, (const char *const[]){"a:b", NULL}) == NULL);
    CHECK(gr_metrics_gauge(m, "g2", NULL, (const char *const[]){"__reserved", NULL}) == NULL);
    CHECK(gr_metrics_gauge(m, "g3", NULL, (const char *const[]){"a", "a", NULL}) == NULL);
    CHECK(gr_metrics_histogram(m, "h1", NULL, (const char *const[]){"le", NULL}, NULL, 0) == NULL);
    static const double unsorted[] = {1, 0.5};
    CHECK(gr_metrics_histogram(m, "h2", NULL, NULL, unsorted, 2) == NULL);
    static const double with_inf[] = {1, INFINITY};
    CHECK(gr_metrics_histogram(m, "h3", NULL, NULL, with_inf, 2) != NULL);
    gr_metrics_free(m);
}

TEST(null_metrics_are_ignored)
{
    gr_metric_t *none = NULL;
    gr_metric_inc(none);
    gr_metric_add(none, 1);
    gr_metric_set(none, 1);
    gr_metric_observe(none, 1);
    CHECK(gr_metric_labels(none, (const char *const[]){"x", NULL}) == NULL);
    CHECK(gr_metrics_counter(NULL, "x_total", NULL, NULL) == NULL);

    gr_metrics_t *m = gr_metrics_new();
    gr_metric_t *c = gr_metrics_counter(m, "c_total", NULL, (const char *const[]){"a", NULL});
    CHECK(gr_metric_labels(c, NULL) == NULL);
    CHECK(gr_metric_labels(c, (const char *const[]){NULL}) == NULL);
    /* A series is not a family. */
    gr_metric_t *s = gr_metric_labels(c, (const char *const[]){"v", NULL});
    CHECK(s != NULL);
    CHECK(gr_metric_labels(s, (const char *const[]){"v", NULL}) == NULL);
    gr_metrics_free(m);
}

TEST(ten_thousand_series_are_found_again)
{
    gr_metrics_t *m = gr_metrics_new();
    gr_metric_t *c =
        gr_metrics_counter(m, "many_total", NULL, (const char *const[]){"a", "b", NULL});
    REQUIRE(c != NULL);
    enum { N = 10000 };
    gr_metric_t **first = gr_xcalloc(N, sizeof *first);
    char a[32], b[32];
    for (int i = 0; i < N; i++) {
        snprintf(a, sizeof a, "a%d", i % 97);
        snprintf(b, sizeof b, "b%d", i);
        first[i] = gr_metric_labels(c, (const char *const[]){a, b, NULL});
        gr_metric_inc(first[i]);
    }
    int same = 1, distinct = 1;
    for (int i = 0; i < N; i++) {
        snprintf(a, sizeof a, "a%d", i % 97);
        snprintf(b, sizeof b, "b%d", i);
        gr_metric_t *again = gr_metric_labels(c, (const char *const[]){a, b, NULL});
        same &= again == first[i];
        distinct &= i == 0 || first[i] != first[i - 1];
        gr_metric_inc(again);
    }
    CHECK(same);
    CHECK(distinct);

    char *text = render(m);
    size_t lines = 0, twos = 0;
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++) {
        lines++;
        twos += p[-1] == '2' && p[-2] == ' ';
    }
    CHECK(lines == N + 1);
    CHECK(twos == N);
    CHECK_CONTAINS(text, "many_total{a=\"a8\",b=\"b9999\"} 2\n");
    free(text);
    free(first);
    gr_metrics_free(m);
}

TEST(families_render_in_registration_order)
{
    gr_metrics_t *m = gr_metrics_new();
    gr_metric_t *z = gr_metrics_gauge(m, "zeta", NULL, NULL);
    gr_metric_t *a = gr_metrics_counter(m, "alpha_total", NULL, NULL);
    gr_metric_set(z, 1e21);
    gr_metric_add(a, 0.1);
    char *text = render(m);
    CHECK_STR(text, "# TYPE zeta gauge\nzeta 1e+21\n# TYPE alpha_total counter\nalpha_total 0.1\n");
    free(text);
    gr_metrics_free(m);
}

TEST_MAIN(TEST_ENTRY(counter_with_labels_renders_escaped_values), TEST_ENTRY(gauge_sets_and_adds),
          TEST_ENTRY(histogram_buckets_are_cumulative),
          TEST_ENTRY(histogram_defaults_to_prometheus_buckets),
          TEST_ENTRY(same_name_registration_returns_the_family),
          TEST_ENTRY(conflicting_registration_is_refused),
          TEST_ENTRY(refusals_are_logged_with_the_reason),
          TEST_ENTRY(names_follow_prometheus_rules), TEST_ENTRY(null_metrics_are_ignored),
          TEST_ENTRY(ten_thousand_series_are_found_again),
          TEST_ENTRY(families_render_in_registration_order))
