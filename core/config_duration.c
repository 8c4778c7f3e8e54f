/* core/config_duration.c: reading a duration from a config node.
 *
 * Three forms, as Backstage reads them:
 *   - a map of units, Backstage's HumanDuration: {hours: 1, minutes: 30};
 *   - an ISO 8601 duration string: "PT30M", "P1DT12H", "PT0.5S";
 *   - a whole number of milliseconds: 1500.
 * A year is 365 days and a month 30 days, the same casual conversion Luxon
 * (and so Backstage) uses. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "config_node.h"

#define GR__DAY_MS (24.0 * 3600 * 1000)

static const struct {
    const char *name;
    double ms;
} gr__units[] = {
    {"years", 365 * GR__DAY_MS}, {"months", 30 * GR__DAY_MS}, {"weeks", 7 * GR__DAY_MS},
    {"days", GR__DAY_MS},        {"hours", 3600.0 * 1000},    {"minutes", 60.0 * 1000},
    {"seconds", 1000.0},         {"milliseconds", 1.0},
};
#define GR__NUNITS (sizeof gr__units / sizeof gr__units[0])

/* 2^63: anything larger cannot be a uint64_t of milliseconds once rounded. */
#define GR__MAX_MS 9223372036854775808.0

static int gr__bad(const gr_config_t *node, gr_error_t *err)
{
    if (!err)
        return GR_ERR_INVALID;
    gr_buf_t got = {0};
    gr_config_node_describe(node, &got);
    gr_config_node_fail(err, GR_ERR_INVALID, node,
                        "expected a duration ({minutes: 30}, an ISO 8601 duration such as "
                        "'PT30M', or a whole number of milliseconds), got %s",
                        got.data);
    gr_buf_free(&got);
    return GR_ERR_INVALID;
}

static int gr__finish(double ms, const gr_config_t *node, uint64_t *out, gr_error_t *err)
{
    if (!(ms >= 0) || ms >= GR__MAX_MS)
        return gr_config_node_fail(err, GR_ERR_INVALID, node, "duration is too long");
    *out = (uint64_t)llround(ms);
    return 0;
}

static int gr__from_map(const gr_config_t *node, uint64_t *out, gr_error_t *err)
{
    if (node->len == 0)
        return gr_config_node_fail(err, GR_ERR_INVALID, node,
                                   "a duration map needs at least one of years, months, weeks, "
                                   "days, hours, minutes, seconds or milliseconds");
    double total = 0;
    for (size_t i = 0; i < node->len; i++) {
        const gr_config_t *c = node->items[i];
        size_t u = 0;
        while (u < GR__NUNITS && strcmp(c->key, gr__units[u].name) != 0)
            u++;
        if (u == GR__NUNITS)
            return gr_config_node_key_fail(err, GR_ERR_INVALID, c,
                                           "unknown duration unit '%s' (use years, months, "
                                           "weeks, days, hours, minutes, seconds or "
                                           "milliseconds)",
                                           c->key);
        double v;
        if (gr__config_to_number(c, &v, NULL) < 0 || v < 0) {
            if (err) {
                gr_buf_t got = {0};
                gr_config_node_describe(c, &got);
                gr_config_node_fail(err, GR_ERR_INVALID, c,
                                    "expected a non-negative number of %s, got %s", c->key,
                                    got.data);
                gr_buf_free(&got);
            }
            return GR_ERR_INVALID;
        }
        total += v * gr__units[u].ms;
    }
    return gr__finish(total, node, out, err);
}

/* "P[nY][nM][nW][nD][T[nH][nM][nS]]", units in that order, any number may
 * have a fraction.  Returns -1 when the text is not of that form. */
static int gr__iso8601(const char *s, double *ms)
{
    static const char date_units[] = "YMWD", time_units[] = "HMS";
    static const double date_ms[] = {365 * GR__DAY_MS, 30 * GR__DAY_MS, 7 * GR__DAY_MS, GR__DAY_MS};
    static const double time_ms[] = {3600.0 * 1000, 60.0 * 1000, 1000.0};
    if (*s != 'P' && *s != 'p')
        return -1;
    s++;
    int in_time = 0, any = 0, time_any = 0;
    size_t next = 0; /* units must come in order, each at most once */
    double total = 0;
    while (*s) {
        if (*s == 'T' || *s == 't') {
            if (in_time)
                return -1;
            in_time = 1;
            next = 0;
            s++;
            continue;
        }
        if (!(*s >= '0' && *s <= '9'))
            return -1;
        double v = 0;
        while (*s >= '0' && *s <= '9')
            v = v * 10 + (*s++ - '0');
        if (*s == '.' || *s == ',') {
            s++;
            if (!(*s >= '0' && *s <= '9'))
                return -1;
            for (double scale = 0.1; *s >= '0' && *s <= '9'; scale /= 10)
                v += (*s++ - '0') * scale;
        }
        char unit = (char)(*s >= 'a' && *s <= 'z' ? *s - 32 : *s);
        if (!unit)
            return -1;
        s++;
        const char *units = in_time ? time_units : date_units;
        const char *hit = strchr(units + next, unit);
        if (!hit)
            return -1;
        size_t idx = (size_t)(hit - units);
        total += v * (in_time ? time_ms[idx] : date_ms[idx]);
        next = idx + 1;
        any = 1;
        time_any |= in_time;
    }
    if (!any || (in_time && !time_any))
        return -1;
    *ms = total;
    return 0;
}

int gr_config_node_duration_ms(const gr_config_t *node, uint64_t *out, gr_error_t *err)
{
    if (!node)
        return gr_error_set(err, GR_ERR_INVALID, "expected a duration, got nothing");
    if (node->kind == GR_NODE_MAP)
        return gr__from_map(node, out, err);
    if (node->kind != GR_NODE_SCALAR)
        return gr__bad(node, err);
    const char *s = node->text;
    if (*s >= '0' && *s <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (*end)
            return gr__bad(node, err);
        if (errno || v >= (1ull << 63))
            return gr_config_node_fail(err, GR_ERR_INVALID, node, "duration is too long");
        *out = v;
        return 0;
    }
    double ms;
    if (gr__iso8601(s, &ms) < 0)
        return gr__bad(node, err);
    return gr__finish(ms, node, out, err);
}
