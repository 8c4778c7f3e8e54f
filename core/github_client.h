/* core/github_client.h: the GitHub client the host creates once.
 *
 * It reads Backstage's `integrations.github` list (see greenroom/github.h
 * for the shape and for what every call gets: auth, ETag cache, rate-limit
 * waits, GitHub's error messages), attaches itself to the host's HTTP
 * client so modules reach it through ctx->http, and sends everything
 * through that client.
 *
 * Host wiring:
 *
 *     host->http = gr_http_client_new(loop, http_log, metrics, &http_opts);
 *     host->github = gr_github_client_new(loop, gh_log, metrics, host->http,
 *                                         gr_config_get(root, "integrations.github"),
 *                                         NULL, &err);
 *     ...
 *     gr_github_client_shutdown(host->github);   (before the HTTP client's)
 *     gr_http_client_shutdown(host->http);
 *     gr_github_client_free(host->github);
 *     gr_http_client_free(host->http);           (then let the loop run)
 */
#ifndef GR_CORE_GITHUB_CLIENT_H
#define GR_CORE_GITHUB_CLIENT_H

#include <stdint.h>

#include <uv.h>

#include <greenroom/greenroom.h>

#include "github_cache.h"
#include "util.h"

typedef struct gr_github_client gr_github_client_t;

/* Zero means "the default" for every field. */
typedef struct gr_github_client_options {
    /* Where ETags and bodies live; the client takes ownership.  NULL: an
     * in-memory store of cache_max_entries / cache_max_bytes. */
    gr_github_cache_t *cache;
    size_t cache_max_entries;
    size_t cache_max_bytes;
    /* A rate limit that resets later than this fails the call instead of
     * waiting (default 1 hour, GitHub's longest primary window). */
    uint64_t rate_limit_max_wait_ms;
    /* How many rate-limit waits one call may go through (default 3). */
    int rate_limit_max_retries;
    /* An installation token is renewed this long before it expires
     * (default 5 minutes). */
    uint64_t token_refresh_margin_ms;
} gr_github_client_options_t;

/* `integrations` is the integrations.github list (NULL or missing: only an
 * anonymous github.com).  log is borrowed; metrics may be NULL; http must
 * outlive the GitHub client.  NULL with err filled when the config is
 * wrong (a private key that does not load, a duplicate host...); the
 * message names the file:line:col of the offending value, never a secret. */
gr_github_client_t *gr_github_client_new(uv_loop_t *loop, gr_log_t *log, gr_metrics_t *metrics,
                                         gr_http_client_t *http, const gr_config_t *integrations,
                                         const gr_github_client_options_t *opts, gr_error_t *err);

/* Fails every call waiting for a rate limit, a token or an installation
 * with GR_ERR_CANCELED; calls in flight end when the HTTP client cancels
 * them.  Idempotent. */
void gr_github_client_shutdown(gr_github_client_t *client);

/* Shuts down if needed and releases everything once the loop has run the
 * close callbacks.  Not from inside one of the client's callbacks. */
void gr_github_client_free(gr_github_client_t *client);

/* The integration for host (NULL: github.com), as gr_github_get() gives it. */
gr_github_t *gr_github_client_get(gr_github_client_t *client, const char *host, gr_error_t *err);

/* Every webhook secret configured (integrations.github[].webhookSecret and
 * each App's webhookSecret), appended to out, for the webhook receiver. */
void gr_github_client_webhook_secrets(const gr_github_client_t *client, gr_strvec_t *out);

/* What the client last saw of a rate limit: 0 and the figures, or
 * GR_ERR_NOT_FOUND when no answer has named that resource yet. */
typedef struct gr_github_rate_limit {
    long limit;
    long remaining;
    long used;
    int64_t reset_epoch; /* seconds since 1970 */
} gr_github_rate_limit_t;
int gr_github_rate_limit(const gr_github_t *gh, const char *resource, gr_github_rate_limit_t *out);

/* Calls started and not yet finished, for tests and shutdown checks. */
size_t gr_github_client_pending(const gr_github_client_t *client);

/* The schema of integrations.github, for the host's config validation:
 * integrations: { github: [ ... ] }. */
extern const gr_config_field_t gr_github_integrations_schema[];

#endif
