/* greenroom/github.h: the GitHub client every module shares.
 *
 * The host reads Backstage's `integrations.github` list once:
 *
 *     integrations:
 *       github:
 *         - host: github.com                 # default github.com
 *           token: ${GITHUB_TOKEN}           # a personal or fine-grained token, or
 *           apps:                            # GitHub Apps (installation tokens)
 *             - appId: 123456
 *               privateKey: { $file: secrets/app.pem }
 *               clientId: Iv1.abc
 *               clientSecret: ${APP_CLIENT_SECRET}
 *               webhookSecret: ${APP_WEBHOOK_SECRET}
 *               installationId: 7890         # optional; else looked up per owner
 *         - host: ghe.example.com
 *           apiBaseUrl: https://ghe.example.com/api/v3
 *           graphqlBaseUrl: https://ghe.example.com/api/graphql  # optional
 *           token: ${GHE_TOKEN}
 *
 * and does for every call, whichever module makes it:
 *   - auth: the integration's App installation for the request's owner
 *     when Apps are configured (installation tokens are cached and renewed
 *     before they expire), else its token, else none;
 *   - conditional requests: GET answers carrying an ETag are remembered, the
 *     next identical GET sends If-None-Match, and a 304 (which costs no rate
 *     limit) is answered from the cache: gr_github_response_cached() is 1
 *     and the status reads 200;
 *   - rate limits: after a 403/429 with X-RateLimit-Remaining: 0 the call
 *     waits for X-RateLimit-Reset, after a Retry-After (secondary limit) for
 *     that many seconds, then goes again; calls made meanwhile with the same
 *     credentials wait in order behind it.  Each wait is logged;
 *   - errors: GitHub's own message, errors list and documentation link are
 *     put in the gr_error_t.
 *
 * Callbacks run exactly once on the loop thread, never from inside the call
 * that started them.  A response (and any JSON handed to a callback) is
 * borrowed until the callback returns; json_object_get() keeps JSON longer.
 */
#ifndef GREENROOM_GITHUB_H
#define GREENROOM_GITHUB_H

#include <stddef.h>
#include <stdint.h>

#include <greenroom/api.h>

/* One REST call.  Zero-initialise it and set what you need. */
struct gr_github_request {
    const char *method; /* NULL: "GET" */
    /* "/repos/octo/hello/issues?state=all", relative to the integration's
     * API base URL, or an absolute URL on that same host (a Link header's
     * target), used exactly as given. */
    const char *path;
    const char *body; /* JSON text sent with Content-Type: application/json, or NULL */
    /* The account (organisation or user) whose App installation to use, and
     * optionally its repository, which finds the installation more directly.
     * NULL: read from a /repos/{owner}/{repo}/... or /orgs/{org}/... path. */
    const char *owner;
    const char *repo;
    const char *accept;  /* NULL: "application/vnd.github+json" */
    uint64_t timeout_ms; /* 0: the host's default */
    int no_cache;        /* 1: neither use nor fill the ETag cache */
};

/* One GraphQL query.  The query text names its variables; `variables` (a
 * JSON object, borrowed) gives their values. */
struct gr_github_graphql {
    const char *query;
    struct json_object *variables;
    const char *owner; /* App installation to use, as for REST */
    /* gr_github_graphql_paginate(): the dotted path below `data` to the
     * connection to page through ("repository.pullRequests"); it must
     * select `pageInfo { hasNextPage endCursor }` and `nodes` (or `edges`). */
    const char *page_path;
    const char *cursor_variable; /* the variable that takes endCursor; NULL: "cursor" */
    int max_pages;               /* 0: 100 */
    uint64_t timeout_ms;
};

/* The integration for `host` ("github.com", "ghe.example.com"); NULL host
 * means github.com, which works without configuration (anonymously, with
 * GitHub's low anonymous rate limit).  The handle lives as long as the host.
 * NULL (err filled) for a host with no integration. */
static inline gr_github_t *gr_github_get(gr_http_client_t *http, const char *host, gr_error_t *err)
{
    if (!http || !GR_API_HAS(GR__API(http), github_get)) {
        gr_error_set(err, GR_ERR_UNSUPPORTED, "github: this host has no GitHub client");
        return NULL;
    }
    return GR__API(http)->github_get(http, host, err);
}

/* One REST call.  err is NULL for a 2xx or 3xx answer; for a 4xx or 5xx
 * answer both res and err are set (err->message carries GitHub's message;
 * err->code is GR_ERR_NOT_FOUND for 404, GR_ERR_INVALID for 400, 401, 403
 * and 422, GR_ERR_CONFLICT for 409, GR_ERR_UNAVAILABLE for 5xx and for a
 * rate limit that does not reset in time); when no answer came, res is NULL. */
static inline void gr_github_request(gr_github_t *gh, const gr_github_request_t *req,
                                     gr_github_fn cb, void *user_data)
{
    GR__API(gh)->github_request(gh, req, sizeof *req, cb, user_data);
}

/* Every page of a list: starts at req, follows each rel="next" Link, and
 * collects the items of each page (the page itself when it is a JSON array,
 * else its `items_key` array field, such as "workflow_runs" or "items") into
 * one array handed to cb.  `complete` is 0 when max_pages (0: 100) stopped
 * it before the last page.  On error, items is NULL. */
static inline void gr_github_paginate(gr_github_t *gh, const gr_github_request_t *req,
                                      const char *items_key, int max_pages, gr_github_pages_fn cb,
                                      void *user_data)
{
    GR__API(gh)->github_paginate(gh, req, sizeof *req, items_key, max_pages, cb, user_data);
}

/* One GraphQL query; cb gets the `data` object.  A response carrying
 * `errors` fails with their messages (GR_ERR_NOT_FOUND when GitHub says
 * NOT_FOUND, else GR_ERR_INVALID). */
static inline void gr_github_graphql(gr_github_t *gh, const gr_github_graphql_t *q,
                                     gr_github_json_fn cb, void *user_data)
{
    GR__API(gh)->github_graphql(gh, q, sizeof *q, cb, user_data);
}

/* Runs q once per page, passing each endCursor back as the cursor variable
 * (null for the first page), and collects the connection's nodes (or edges)
 * into one array. */
static inline void gr_github_graphql_paginate(gr_github_t *gh, const gr_github_graphql_t *q,
                                              gr_github_pages_fn cb, void *user_data)
{
    GR__API(gh)->github_graphql_paginate(gh, q, sizeof *q, cb, user_data);
}

/* ---- webhooks -------------------------------------------------------------- */

/* Checks a webhook delivery's X-Hub-Signature-256 header ("sha256=<64 hex
 * digits>") against the HMAC-SHA256 of the exact body bytes under every
 * webhook secret configured (integrations.github[].webhookSecret and each
 * App's webhookSecret), comparing in constant time.  The secrets never leave
 * the host.  Returns 0 when one matches, GR_ERR_INVALID when the header is
 * missing, malformed or matches none, and GR_ERR_UNSUPPORTED when no secret
 * is configured (refuse the delivery: never accept unsigned events).
 * It only reads the configuration, so a thread-pool work function may call
 * it for a large body. */
static inline int gr_github_webhook_verify(gr_http_client_t *http, const void *body, size_t len,
                                           const char *signature_header)
{
    if (!http || !GR_API_HAS(GR__API(http), github_webhook_verify))
        return GR_ERR_UNSUPPORTED;
    return GR__API(http)->github_webhook_verify(http, body, len, signature_header);
}

/* ---- a REST response: borrowed, valid until the callback returns ---------- */

static inline int gr_github_response_status(const gr_github_response_t *res)
{
    return GR__API(res)->github_response_status(res);
}

/* A header of the answer (name case-insensitive), or NULL. */
static inline const char *gr_github_response_header(const gr_github_response_t *res,
                                                    const char *name)
{
    return GR__API(res)->github_response_header(res, name);
}

static inline const char *gr_github_response_body(const gr_github_response_t *res, size_t *len)
{
    return GR__API(res)->github_response_body(res, len);
}

/* The body parsed as JSON (owned by the response), or NULL when it is not JSON. */
static inline struct json_object *gr_github_response_json(const gr_github_response_t *res)
{
    return GR__API(res)->github_response_json(res);
}

/* 1 when GitHub answered 304 Not Modified and the body is the cached one. */
static inline int gr_github_response_cached(const gr_github_response_t *res)
{
    return GR__API(res)->github_response_cached(res);
}

#endif
