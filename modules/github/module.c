/* module.c: the github plugin: verified, durable GitHub webhooks.
 *
 *     modules: [github]
 *     integrations:
 *       github:
 *         - host: github.com
 *           webhookSecret: ${GITHUB_WEBHOOK_SECRET}
 *     github:
 *       webhooks:                       # every key optional
 *         maxBodyBytes: 26214400        # GitHub's own cap, 25 MB
 *         retry:
 *           maxAttempts: 8              # calls of a failing handler, the first included
 *           initialDelay: {seconds: 30} # doubled after each failure...
 *           maxDelay: {hours: 1}        # ...up to this
 *           frequency: {seconds: 5}     # how often due retries are looked for
 *           handlerTimeout: {minutes: 5}  # an unanswered call is retried after this
 *         spool:
 *           importFrequency: {seconds: 5}
 *
 * Routes: POST /api/github/webhook (webhook.c), GET /api/github/deliveries
 * (routes.c).  Extension point: github.events (github_events.h).
 * Metrics: github_webhooks_received_total{event},
 * github_webhooks_rejected_total{reason}, github_webhooks_spooled_total,
 * github_webhooks_duplicate_total, github_webhook_dispatch_total{subscriber,status}. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "github_internal.h"

extern const gr_migration_t github_migrations[];

static const gr_config_field_t retry_fields[] = {
    {.key = "maxAttempts",
     .type = GR_CONFIG_INT,
     .default_value = "8",
     .description = "calls of a failing handler, the first one included"},
    {.key = "initialDelay",
     .type = GR_CONFIG_DURATION,
     .default_value = "{seconds: 30}",
     .description = "wait before the first retry; doubled after each failure"},
    {.key = "maxDelay",
     .type = GR_CONFIG_DURATION,
     .default_value = "{hours: 1}",
     .description = "longest wait between retries"},
    {.key = "frequency",
     .type = GR_CONFIG_DURATION,
     .default_value = "{seconds: 5}",
     .description = "how often due retries are looked for"},
    {.key = "handlerTimeout",
     .type = GR_CONFIG_DURATION,
     .default_value = "{minutes: 5}",
     .description = "a handler that has not answered after this is called again"},
    {0}};

static const gr_config_field_t spool_fields[] = {
    {.key = "importFrequency",
     .type = GR_CONFIG_DURATION,
     .default_value = "{seconds: 5}",
     .description = "how often spooled deliveries are moved into the database"},
    {0}};

static const gr_config_field_t webhooks_fields[] = {
    {.key = "maxBodyBytes",
     .type = GR_CONFIG_INT,
     .default_value = "26214400",
     .description = "largest delivery accepted (GitHub's cap is 25 MB)"},
    {.key = "retry", .type = GR_CONFIG_OBJECT, .fields = retry_fields},
    {.key = "spool", .type = GR_CONFIG_OBJECT, .fields = spool_fields},
    {0}};

static const gr_config_field_t github_schema[] = {
    {.key = "webhooks", .type = GR_CONFIG_OBJECT, .fields = webhooks_fields}, {0}};

void github_ref(github_plugin_t *gh)
{
    gh->refs++;
}

void github_unref(github_plugin_t *gh)
{
    if (--gh->refs > 0)
        return;
    github_subs_free(gh);
    free(gh->spool_dir);
    free(gh);
}

void github_count_rejected(github_plugin_t *gh, const char *reason)
{
    const char *labels[] = {reason};
    gr_metric_inc(gr_metric_labels(gh->rejected, labels));
}

int64_t github_epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Extension points exist before any module's init, so subscribers can
 * subscribe from theirs. */
static int github_register(gr_context_t *ctx, gr_error_t *err)
{
    github_plugin_t *gh = gr_xcalloc(1, sizeof *gh);
    gh->ctx = ctx;
    gh->refs = 1;
    gh->ep = (github_events_t){
        .size = sizeof(github_events_t),
        .subscribe = github_events_subscribe_impl,
        .impl = gh,
    };
    ctx->state = gh;
    int rc = gr_extension_point_provide(ctx, GITHUB_EVENTS_POINT, &gh->ep, err);
    if (rc != 0) {
        ctx->state = NULL;
        free(gh);
    }
    return rc;
}

static int read_config(github_plugin_t *gh, const gr_config_t *c, gr_error_t *err)
{
    int64_t max_body = gr_config_int(c, "webhooks.maxBodyBytes", (int64_t)GITHUB_DEFAULT_MAX_BODY);
    int64_t attempts = gr_config_int(c, "webhooks.retry.maxAttempts", 8);
    if (max_body < 1 || max_body > ((int64_t)1 << 30))
        return gr_error_set(err, GR_ERR_INVALID,
                            "github.webhooks.maxBodyBytes must be from 1 to 1073741824");
    if (attempts < 1 || attempts > 1000)
        return gr_error_set(err, GR_ERR_INVALID,
                            "github.webhooks.retry.maxAttempts must be from 1 to 1000");
    gh->max_body = (size_t)max_body;
    gh->max_attempts = (int)attempts;
    gh->retry_initial_ms = gr_config_duration_ms(c, "webhooks.retry.initialDelay", 30000);
    gh->retry_max_ms = gr_config_duration_ms(c, "webhooks.retry.maxDelay", 3600000);
    gh->retry_frequency_ms = gr_config_duration_ms(c, "webhooks.retry.frequency", 5000);
    gh->handler_timeout_ms = gr_config_duration_ms(c, "webhooks.retry.handlerTimeout", 300000);
    gh->spool_frequency_ms = gr_config_duration_ms(c, "webhooks.spool.importFrequency", 5000);
    if (gh->retry_initial_ms == 0)
        gh->retry_initial_ms = 1;
    if (gh->retry_max_ms < gh->retry_initial_ms)
        gh->retry_max_ms = gh->retry_initial_ms;
    if (gh->retry_frequency_ms == 0 || gh->spool_frequency_ms == 0 || gh->handler_timeout_ms == 0)
        return gr_error_set(err, GR_ERR_INVALID,
                            "github.webhooks: retry.frequency, retry.handlerTimeout and "
                            "spool.importFrequency must be longer than zero");
    return 0;
}

static void make_metrics(github_plugin_t *gh)
{
    gr_metrics_t *m = gh->ctx->metrics;
    static const char *const event_label[] = {"event", NULL};
    static const char *const reason_label[] = {"reason", NULL};
    static const char *const dispatch_labels[] = {"subscriber", "status", NULL};
    gh->received = gr_metrics_counter(m, "github_webhooks_received_total",
                                      "Webhook deliveries whose signature checked out, by event.",
                                      event_label);
    gh->rejected = gr_metrics_counter(
        m, "github_webhooks_rejected_total",
        "Webhook deliveries refused, by reason (signature_missing, signature_invalid, no_secret, "
        "bad_request, bad_payload, storage_error); 413s for oversized bodies are counted by the "
        "host in http_requests_total.",
        reason_label);
    gh->spooled = gr_metrics_counter(
        m, "github_webhooks_spooled_total",
        "Webhook deliveries written to the local spool while the database was unreachable.", NULL);
    gh->duplicates = gr_metrics_counter(
        m, "github_webhooks_duplicate_total",
        "Webhook deliveries whose X-GitHub-Delivery id was already stored or spooled.", NULL);
    gh->dispatched = gr_metrics_counter(
        m, "github_webhook_dispatch_total",
        "Deliveries handed to github.events subscribers, by subscriber and outcome.",
        dispatch_labels);
}

static int github_init(gr_context_t *ctx, gr_error_t *err)
{
    github_plugin_t *gh = ctx->state;
    if (!ctx->db)
        return gr_error_set(err, GR_ERR_UNAVAILABLE,
                            "the github plugin stores webhooks in PostgreSQL and this host has "
                            "no database (backend.database.client is none)");
    int rc = read_config(gh, ctx->config, err);
    if (rc != 0)
        return rc;
    if (ctx->state_dir && *ctx->state_dir)
        gh->spool_dir = gr_xasprintf("%s/github/webhook-spool", ctx->state_dir);
    else
        gr_log_warn(ctx->log, "webhooks: the host gave no state directory, so deliveries that "
                              "arrive while the database is down cannot be spooled");
    /* Something may have been spooled by an earlier run. */
    gh->spool_maybe_nonempty = 1;
    make_metrics(gh);
    if ((rc = gr_router_add(ctx->router, "POST", "/webhook", github_webhook_route, gh, err)) != 0 ||
        (rc = gr_router_set_body_limit(ctx->router, "POST", "/webhook", gh->max_body, err)) != 0 ||
        (rc = gr_router_add(ctx->router, "GET", "/deliveries", github_deliveries_route, gh, err)) !=
            0)
        return rc;
    gr_schedule_t retry = {
        .frequency_ms = gh->retry_frequency_ms,
        .initial_delay_ms = gh->retry_frequency_ms,
        .jitter = 0.1,
        .scope = GR_TASK_LOCAL,
    };
    gr_schedule_t import = {
        .frequency_ms = gh->spool_frequency_ms,
        .initial_delay_ms = 0,
        .scope = GR_TASK_LOCAL,
    };
    if ((rc = gr_scheduler_add(ctx->scheduler, "retry", &retry, github_retry_task, gh, err)) != 0 ||
        (rc = gr_scheduler_add(ctx->scheduler, "spool-import", &import, github_spool_import_task,
                               gh, err)) != 0)
        return rc;
    /* Last: what it opens (a loop handle) is released by shutdown, which a
     * plugin whose init failed does not get. */
    if ((rc = github_store_start(gh, err)) != 0)
        return rc;
    if (gr_log_enabled(ctx->log, GR_LOG_INFO))
        gr_log_info(ctx->log,
                    "webhooks: POST /api/github/webhook takes up to %zu bytes; %zu subscriber(s); "
                    "%s",
                    gh->max_body, gh->nsubs,
                    gr_github_webhook_verify(ctx->http, "", 0, NULL) == GR_ERR_UNSUPPORTED
                        ? "no webhook secret is configured, so every delivery will be refused"
                        : "signatures are checked against the configured webhook secrets");
    return 0;
}

static void github_shutdown(gr_context_t *ctx)
{
    github_plugin_t *gh = ctx->state;
    if (!gh)
        return;
    gh->stopping = 1;
    ctx->state = NULL;
    github_store_stop(gh);
    github_unref(gh);
}

static const gr_module_descriptor_t github_plugin = {
    GR_DESCRIPTOR_HEADER,
    .kind = GR_KIND_PLUGIN,
    .plugin_id = "github",
    .version = "0.1.0",
    .description = "verified, durable GitHub webhooks handed to github.events subscribers",
    .config_key = "github",
    .config_schema = github_schema,
    .migrations = github_migrations,
    .register_fn = github_register,
    .init = github_init,
    .shutdown = github_shutdown,
};
GR_MODULE_EXPORT(github_plugin)
