/* webhook.c: POST /api/github/webhook.
 *
 * In order: the signature (no signature or a wrong one: 401, nothing kept),
 * the headers and the payload (400), then storage: the delivery is
 * committed to PostgreSQL, or, while the database is unreachable, written
 * to the local spool and fsynced, before the 2xx answer.  Only then is it
 * handed to the subscribers.  A delivery id seen before is answered 200
 * "duplicate" and handed to nobody. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "github_internal.h"

typedef struct intake {
    github_plugin_t *gh;
    gr_http_request_t *req;
    char *delivery_id;
    char *event;
    int64_t received;
    github_payload_t payload;
} intake_t;

static void intake_free(intake_t *it)
{
    github_plugin_t *gh = it->gh;
    github_payload_clear(&it->payload);
    free(it->delivery_id);
    free(it->event);
    free(it);
    github_unref(gh);
}

static void respond_status(gr_http_request_t *req, int code, const char *delivery_id,
                           const char *status)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "deliveryId", json_object_new_string(delivery_id));
    json_object_object_add(o, "status", json_object_new_string(status));
    gr_http_respond_json(req, code, o);
}

/* A header value made of 1..max letters, digits, '.', '_', '-', starting
 * with a letter or digit: safe as a metric label and a file name. */
static int token_valid(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

static void on_spooled(github_spool_result_t result, const char *error, void *user_data)
{
    intake_t *it = user_data;
    github_plugin_t *gh = it->gh;
    switch (result) {
    case GITHUB_SPOOL_WRITTEN:
        gr_metric_inc(gh->spooled);
        gr_log_warn(gh->ctx->log,
                    "webhooks: the database is unreachable; delivery %s (%s) was spooled to %s "
                    "and will be stored when it returns",
                    it->delivery_id, it->event, gh->spool_dir);
        respond_status(it->req, 202, it->delivery_id, "spooled");
        break;
    case GITHUB_SPOOL_DUPLICATE:
        gr_metric_inc(gh->duplicates);
        respond_status(it->req, 200, it->delivery_id, "duplicate");
        break;
    case GITHUB_SPOOL_FAILED:
        github_count_rejected(gh, "storage_error");
        gr_log_error(gh->ctx->log,
                     "webhooks: delivery %s (%s) is lost unless GitHub sends it again: the "
                     "database is unreachable and spooling failed: %s",
                     it->delivery_id, it->event, error);
        gr_http_respond_error(it->req, 503,
                              "github: the database is unreachable and the delivery could not "
                              "be spooled (%s); redeliver it later",
                              error);
        break;
    }
    intake_free(it);
}

static void on_stored(github_store_result_t result, int64_t row_id, const gr_db_error_t *err,
                      void *user_data)
{
    intake_t *it = user_data;
    github_plugin_t *gh = it->gh;
    switch (result) {
    case GITHUB_STORED: {
        respond_status(it->req, 202, it->delivery_id, "stored");
        it->req = NULL;
        gr_strvec_t subs = {0};
        github_dispatch_match(gh, it->event, it->payload.action, &subs);
        /* Without a tree (json-c could not build one) the rows stay due and
         * the retry task records why. */
        for (size_t i = 0; it->payload.json && i < subs.len; i++)
            github_dispatch(gh, row_id, it->delivery_id, it->event, it->payload.action,
                            it->payload.json, subs.items[i], 1);
        gr_strvec_free(&subs);
        break;
    }
    case GITHUB_DUPLICATE:
        gr_metric_inc(gh->duplicates);
        respond_status(it->req, 200, it->delivery_id, "duplicate");
        break;
    case GITHUB_DB_DOWN:
        github_spool_write(gh, it->delivery_id, it->event, it->received, it->payload.json_text,
                           it->payload.json_len, on_spooled, it);
        return;
    case GITHUB_DB_ERROR:
        github_count_rejected(gh, "storage_error");
        gr_log_error(gh->ctx->log, "webhooks: storing delivery %s (%s) failed: %s", it->delivery_id,
                     it->event, err ? err->message : "unexpected answer");
        gr_http_respond_error(it->req, err && err->code == GR_ERR_INVALID ? 400 : 500,
                              "github: storing the delivery failed: %s",
                              err ? err->message : "unexpected answer from the database");
        break;
    }
    intake_free(it);
}

static void reject(github_plugin_t *gh, gr_http_request_t *req, int status, const char *reason,
                   const char *message)
{
    github_count_rejected(gh, reason);
    gr_http_respond_error(req, status, "%s", message);
}

static void on_parsed(github_payload_t *p, void *user_data)
{
    intake_t *it = user_data;
    github_plugin_t *gh = it->gh;
    gr_http_request_t *req = it->req;
    if (p->verify_status == GR_ERR_CANCELED) {
        gr_http_respond_error(req, 503, "github: the host is shutting down; redeliver later");
    } else if (p->verify_status == GR_ERR_UNSUPPORTED) {
        reject(gh, req, 503, "no_secret",
               "github: no webhook secret is configured (integrations.github[].webhookSecret or "
               "an App's webhookSecret), so every delivery is refused; configure the secret "
               "set on the GitHub webhook, then redeliver");
    } else if (p->verify_status != 0) {
        reject(gh, req, 401, "signature_invalid",
               "github: X-Hub-Signature-256 does not match the body under any configured "
               "webhook secret");
    } else if (!token_valid(it->event, 64)) {
        reject(gh, req, 400, "bad_request",
               "github: the X-GitHub-Event header is missing or not an event name");
    } else if (!token_valid(it->delivery_id, 128)) {
        reject(gh, req, 400, "bad_request",
               "github: the X-GitHub-Delivery header is missing or not a delivery id");
    } else if (!p->valid) {
        char msg[300];
        snprintf(msg, sizeof msg, "github: %s", p->error);
        reject(gh, req, 400, "bad_payload", msg);
    } else {
        const char *labels[] = {it->event};
        gr_metric_inc(gr_metric_labels(gh->received, labels));
        gr_strvec_t subs = {0};
        github_dispatch_match(gh, it->event, p->action, &subs);
        github_store_insert(gh, it->delivery_id, it->event, p->action, p->json_text, p->json_len,
                            it->received, 0, &subs, on_stored, it);
        gr_strvec_free(&subs);
        return;
    }
    intake_free(it);
}

void github_webhook_route(gr_http_request_t *req, void *user_data)
{
    github_plugin_t *gh = user_data;
    if (gh->stopping) {
        gr_http_respond_error(req, 503, "github: the host is shutting down; redeliver later");
        return;
    }
    const char *signature = gr_http_header(req, "x-hub-signature-256");
    if (!signature || !*signature) {
        reject(gh, req, 401, "signature_missing",
               "github: the X-Hub-Signature-256 header is missing; unsigned deliveries are "
               "refused (set a secret on the GitHub webhook)");
        return;
    }
    intake_t *it = gr_xcalloc(1, sizeof *it);
    it->gh = gh;
    it->req = req;
    github_ref(gh);
    const char *event = gr_http_header(req, "x-github-event");
    const char *delivery = gr_http_header(req, "x-github-delivery");
    it->event = event ? gr_xstrdup(event) : NULL;
    it->delivery_id = delivery ? gr_xstrdup(delivery) : NULL;
    it->received = github_epoch_ms();
    it->payload.body = gr_http_body(req, &it->payload.len);
    if (!it->payload.body)
        it->payload.body = "";
    it->payload.signature = signature;
    it->payload.want_tree = it->event && github_dispatch_wants(gh, it->event);
    const char *ctype = gr_http_header(req, "content-type");
    it->payload.form_encoded =
        ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0;
    gr_error_t err = {0};
    if (github_payload_process(gh, &it->payload, on_parsed, it, &err) != 0) {
        gr_http_respond_error(req, 503, "github: %s", err.message);
        intake_free(it);
    }
}
