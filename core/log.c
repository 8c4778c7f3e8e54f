#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_impl.h"
#include "util.h"

typedef struct gr_log_root {
    FILE *out;
    gr_log_level_t level;
    gr_log_format_t format;
    gr_strvec_t secrets;
} gr_log_root_t;

struct gr_log {
    const gr_host_api_t *api;
    gr_log_root_t *root;
    int is_root;
    char *name; /* NULL for the root */
};

gr_log_t *gr_log_root_new(FILE *out, gr_log_level_t level, gr_log_format_t format)
{
    gr_log_t *log = gr_xcalloc(1, sizeof *log);
    log->api = &gr__host_api;
    log->root = gr_xcalloc(1, sizeof *log->root);
    log->root->out = out;
    log->root->level = level;
    log->root->format = format;
    log->is_root = 1;
    return log;
}

gr_log_t *gr_log_child_new(gr_log_t *parent, const char *plugin_id, const char *module_id)
{
    gr_log_t *log = gr_xcalloc(1, sizeof *log);
    log->api = &gr__host_api;
    log->root = parent->root;
    log->name = module_id ? gr_xasprintf("%s.%s", plugin_id, module_id) : gr_xstrdup(plugin_id);
    return log;
}

void gr_log_free(gr_log_t *log)
{
    if (!log)
        return;
    if (log->is_root) {
        gr_strvec_free(&log->root->secrets);
        free(log->root);
    }
    free(log->name);
    free(log);
}

void gr_log_configure(gr_log_t *log, gr_log_level_t level, gr_log_format_t format)
{
    log->root->level = level;
    log->root->format = format;
}

void gr_log_add_secret(gr_log_t *log, const char *value)
{
    if (value && strlen(value) >= 3 && !gr_strvec_contains(&log->root->secrets, value))
        gr_strvec_push(&log->root->secrets, value);
}

void gr_log_clear_secrets(gr_log_t *log) { gr_strvec_free(&log->root->secrets); }

int gr_log_parse_level(const char *name, gr_log_level_t *out)
{
    static const struct {
        const char *name;
        gr_log_level_t level;
    } levels[] = {{"debug", GR_LOG_DEBUG}, {"info", GR_LOG_INFO}, {"warn", GR_LOG_WARN},
                  {"warning", GR_LOG_WARN}, {"error", GR_LOG_ERROR}};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcmp(name, levels[i].name) == 0) {
            *out = levels[i].level;
            return 0;
        }
    }
    return GR_ERR_INVALID;
}

int gr_log_parse_format(const char *name, gr_log_format_t *out)
{
    if (strcmp(name, "pretty") == 0)
        *out = GR_LOG_FORMAT_PRETTY;
    else if (strcmp(name, "json") == 0)
        *out = GR_LOG_FORMAT_JSON;
    else
        return GR_ERR_INVALID;
    return 0;
}

static const char *gr__level_name(int level)
{
    if (level >= GR_LOG_ERROR)
        return "error";
    if (level >= GR_LOG_WARN)
        return "warn";
    if (level >= GR_LOG_INFO)
        return "info";
    return "debug";
}

/* Replaces every occurrence of each secret in msg, in place in a new buffer. */
static void gr__redact(const gr_strvec_t *secrets, gr_buf_t *msg)
{
    for (size_t i = 0; i < secrets->len; i++) {
        const char *secret = secrets->items[i];
        size_t slen = strlen(secret);
        if (!msg->data || !strstr(msg->data, secret))
            continue;
        gr_buf_t out = {0};
        const char *p = msg->data, *hit;
        while ((hit = strstr(p, secret)) != NULL) {
            gr_buf_append(&out, p, (size_t)(hit - p));
            gr_buf_puts(&out, "[REDACTED]");
            p = hit + slen;
        }
        gr_buf_puts(&out, p);
        gr_buf_free(msg);
        *msg = out;
    }
}

int gr__log_enabled(gr_log_t *log, int level) { return level >= (int)log->root->level; }

void gr__log_write(gr_log_t *log, int level, const char *fmt, va_list ap)
{
    gr_log_root_t *root = log->root;
    if (level < (int)root->level)
        return;

    gr_buf_t msg = {0};
    gr_buf_vprintf(&msg, fmt, ap);
    gr__redact(&root->secrets, &msg);

    struct timespec ts;
    struct tm tm;
    char stamp[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000L);

    gr_buf_t line = {0};
    if (root->format == GR_LOG_FORMAT_JSON) {
        gr_buf_puts(&line, "{\"timestamp\":");
        gr_buf_json_string(&line, stamp);
        gr_buf_printf(&line, ",\"level\":\"%s\"", gr__level_name(level));
        if (log->name) {
            gr_buf_puts(&line, ",\"plugin\":");
            gr_buf_json_string(&line, log->name);
        }
        gr_buf_puts(&line, ",\"message\":");
        gr_buf_json_string(&line, msg.data ? msg.data : "");
        gr_buf_puts(&line, "}\n");
    } else {
        gr_buf_printf(&line, "%s %-5s %s %s\n", stamp, gr__level_name(level),
                      log->name ? log->name : "host", msg.data ? msg.data : "");
    }
    /* One fwrite per line keeps lines whole when several processes share a file. */
    fwrite(line.data, 1, line.len, root->out);
    fflush(root->out);
    gr_buf_free(&line);
    gr_buf_free(&msg);
}
