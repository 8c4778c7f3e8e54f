/* core/config_reader.c: the config entries of the host API table, which is
 * how modules read their section (greenroom/config.h).
 *
 * Scalars are read in YAML 1.2 core schema forms, whatever their quoting
 * (a value from ${PORT} is a string but must still read as a number):
 *   integers: decimal with an optional sign, 0x hexadecimal, 0o octal;
 *   numbers:  integers and decimals with an optional exponent (no .inf/.nan);
 *   booleans: true/false plus YAML 1.1's yes/no and on/off, each written in
 *             lower case, Capitalised or UPPER case (not y/n).
 * Every failure message starts "file:line:col: key.path: ". */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api_impl.h"
#include "config_node.h"

const gr_config_t *gr__config_get(const gr_config_t *node, const char *path)
{
    if (!node || !path || !*path)
        return node;
    const char *seg = path;
    while (node) {
        const char *dot = strchr(seg, '.');
        size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
        const gr_config_t *next = NULL;
        if (node->kind == GR_NODE_MAP) {
            for (size_t i = 0; i < node->len && !next; i++)
                if (strncmp(node->items[i]->key, seg, n) == 0 && node->items[i]->key[n] == '\0')
                    next = node->items[i];
        } else if (node->kind == GR_NODE_SEQ && n > 0 && strspn(seg, "0123456789") >= n) {
            /* "modules.2.name": a numeric segment indexes a list. */
            size_t index = 0;
            for (size_t i = 0; i < n && index <= node->len; i++)
                index = index * 10 + (size_t)(seg[i] - '0');
            if (index < node->len)
                next = node->items[index];
        }
        node = next;
        if (!dot)
            break;
        seg = dot + 1;
    }
    return node;
}

gr_config_type_t gr__config_kind(const gr_config_t *node)
{
    switch (node ? node->kind : GR_NODE_NULL) {
    case GR_NODE_MAP: return GR_CONFIG_OBJECT;
    case GR_NODE_SEQ: return GR_CONFIG_ARRAY;
    case GR_NODE_SCALAR: return GR_CONFIG_STRING;
    case GR_NODE_NULL: return GR_CONFIG_ANY;
    }
    return GR_CONFIG_ANY;
}

const char *gr__config_scalar(const gr_config_t *node)
{
    return node && node->kind == GR_NODE_SCALAR ? node->text : NULL;
}

size_t gr__config_size(const gr_config_t *node)
{
    return node && (node->kind == GR_NODE_MAP || node->kind == GR_NODE_SEQ) ? node->len : 0;
}

const gr_config_t *gr__config_at(const gr_config_t *node, size_t index)
{
    return node && index < gr__config_size(node) ? node->items[index] : NULL;
}

const char *gr__config_key_at(const gr_config_t *node, size_t index)
{
    return node && node->kind == GR_NODE_MAP && index < node->len ? node->items[index]->key : NULL;
}

void gr__config_where(const gr_config_t *node, char *buf, size_t len)
{
    if (!len)
        return;
    if (!node)
        buf[0] = '\0';
    else
        snprintf(buf, len, "%s:%u:%u", node->file ? node->file : "<config>", node->line, node->col);
}

static int gr__expected(const gr_config_t *node, const char *what, gr_error_t *err)
{
    if (!err)
        return GR_ERR_INVALID;
    if (!node)
        return gr_error_set(err, GR_ERR_INVALID, "expected %s, got nothing", what);
    gr_buf_t got = {0};
    gr_config_node_describe(node, &got);
    gr_config_node_fail(err, GR_ERR_INVALID, node, "expected %s, got %s", what, got.data);
    gr_buf_free(&got);
    return GR_ERR_INVALID;
}

/* Parses the YAML 1.2 core integer forms.  1: not an integer, 2: too large. */
static int gr__parse_int(const char *s, int64_t *out)
{
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && s[1] == 'o')
        base = 8, s += 2;
    if (!*s)
        return 1;
    uint64_t v = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return 1;
        if (d >= base)
            return 1;
        if (v > (UINT64_MAX - d) / base)
            return 2;
        v = v * base + d;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return 2;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int gr__config_to_int(const gr_config_t *node, int64_t *out, gr_error_t *err)
{
    if (!node || node->kind != GR_NODE_SCALAR)
        return gr__expected(node, "an integer", err);
    int rc = gr__parse_int(node->text, out);
    if (rc == 2)
        return gr_config_node_fail(err, GR_ERR_INVALID, node,
                                   "integer '%s' is out of range (a 64-bit integer)", node->text);
    return rc ? gr__expected(node, "an integer", err) : 0;
}

/* [-+]? (digits [. digits*] | . digits) ([eE] [-+]? digits)? */
static int gr__is_decimal(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    size_t whole = strspn(s, "0123456789");
    s += whole;
    size_t frac = 0;
    if (*s == '.') {
        s++;
        frac = strspn(s, "0123456789");
        s += frac;
    }
    if (!whole && !frac)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        size_t exp = strspn(s, "0123456789");
        if (!exp)
            return 0;
        s += exp;
    }
    return *s == '\0';
}

int gr__config_to_number(const gr_config_t *node, double *out, gr_error_t *err)
{
    if (!node || node->kind != GR_NODE_SCALAR)
        return gr__expected(node, "a number", err);
    int64_t i;
    if (gr__parse_int(node->text, &i) == 0) {
        *out = (double)i;
        return 0;
    }
    if (!gr__is_decimal(node->text))
        return gr__expected(node, "a number", err);
    errno = 0;
    double v = strtod(node->text, NULL);
    if (!isfinite(v))
        return gr_config_node_fail(err, GR_ERR_INVALID, node, "number '%s' is out of range",
                                   node->text);
    *out = v;
    return 0;
}

int gr__config_to_bool(const gr_config_t *node, int *out, gr_error_t *err)
{
    static const char *const truths[] = {"true", "True", "TRUE", "yes", "Yes",
                                         "YES",  "on",   "On",   "ON",  NULL};
    static const char *const lies[] = {"false", "False", "FALSE", "no",  "No",
                                       "NO",    "off",   "Off",   "OFF", NULL};
    if (node && node->kind == GR_NODE_SCALAR) {
        for (size_t i = 0; truths[i]; i++) {
            if (strcmp(node->text, truths[i]) == 0) {
                *out = 1;
                return 0;
            }
            if (strcmp(node->text, lies[i]) == 0) {
                *out = 0;
                return 0;
            }
        }
    }
    return gr__expected(node, "true or false", err);
}

int gr__config_to_duration_ms(const gr_config_t *node, uint64_t *out, gr_error_t *err)
{
    return gr_config_node_duration_ms(node, out, err);
}

static int gr__frequency(const gr_config_t *node, uint64_t *out, gr_error_t *err)
{
    if (node->kind == GR_NODE_MAP) {
        const gr_config_t *cron = gr_config_node_find(node, "cron");
        if (cron)
            return gr_config_node_fail(err, GR_ERR_UNSUPPORTED, cron,
                                       "cron schedules are not supported yet; give the "
                                       "frequency as a duration, such as {minutes: 30} or "
                                       "'PT30M'");
        const gr_config_t *trigger = gr_config_node_find(node, "trigger");
        if (trigger) {
            if (trigger->kind != GR_NODE_SCALAR || strcmp(trigger->text, "manual") != 0)
                return gr__expected(trigger, "'manual'", err);
            *out = 0; /* runs only when triggered */
            return 0;
        }
    }
    return gr_config_node_duration_ms(node, out, err);
}

int gr__config_to_schedule(const gr_config_t *node, gr_schedule_t *out, gr_error_t *err)
{
    if (!node || node->kind == GR_NODE_NULL)
        return 0;
    if (node->kind != GR_NODE_MAP)
        return gr__expected(node, "a schedule ({frequency: ..., timeout: ...})", err);
    /* Fill a copy so a bad schedule leaves *out as it was. */
    gr_schedule_t s = *out;
    for (size_t i = 0; i < node->len; i++) {
        const gr_config_t *c = node->items[i];
        int rc = 0;
        if (c->kind == GR_NODE_NULL)
            continue;
        if (strcmp(c->key, "frequency") == 0) {
            rc = gr__frequency(c, &s.frequency_ms, err);
        } else if (strcmp(c->key, "timeout") == 0) {
            rc = gr_config_node_duration_ms(c, &s.timeout_ms, err);
        } else if (strcmp(c->key, "initialDelay") == 0) {
            rc = gr_config_node_duration_ms(c, &s.initial_delay_ms, err);
        } else if (strcmp(c->key, "scope") == 0) {
            if (c->kind == GR_NODE_SCALAR && strcmp(c->text, "global") == 0)
                s.scope = GR_TASK_GLOBAL;
            else if (c->kind == GR_NODE_SCALAR && strcmp(c->text, "local") == 0)
                s.scope = GR_TASK_LOCAL;
            else
                rc = gr__expected(c, "'global' or 'local'", err);
        } else if (strcmp(c->key, "jitter") == 0) {
            /* A greenroom addition: Backstage's schedule has no jitter. */
            double v;
            if (gr__config_to_number(c, &v, NULL) < 0 || v < 0 || v > 1)
                rc = gr__expected(c, "a number from 0 to 1", err);
            else
                s.jitter = v;
        } else if (strcmp(c->key, "cron") == 0) {
            rc = gr_config_node_key_fail(err, GR_ERR_UNSUPPORTED, c,
                                         "cron schedules are not supported yet; use frequency "
                                         "with a duration, such as {minutes: 30}");
        } else {
            rc = gr_config_node_key_fail(err, GR_ERR_INVALID, c,
                                         "unknown schedule key '%s' (use frequency, timeout, "
                                         "initialDelay, scope or jitter)",
                                         c->key);
        }
        if (rc < 0)
            return rc;
    }
    *out = s;
    return 0;
}
