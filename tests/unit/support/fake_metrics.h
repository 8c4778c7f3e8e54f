/* tests/unit/support/fake_metrics.h: a gr_metrics_t that records values so
 * a test can read them back, independent of the host's registry.
 *
 * It is a handle like any other (its first member points at an API table),
 * but the table is a copy of the host's with the metrics entries replaced,
 * so code under test updates it through the ordinary SDK functions. */
#ifndef GR_TEST_FAKE_METRICS_H
#define GR_TEST_FAKE_METRICS_H

#include <greenroom/greenroom.h>

gr_metrics_t *gr_fake_metrics_new(void);
void gr_fake_metrics_free(gr_metrics_t *m);
/* The value of family `name` for label value `label` (NULL for a metric
 * without labels), or -1 when that series was never created. */
double gr_fake_metrics_value(gr_metrics_t *m, const char *name, const char *label);

#endif
