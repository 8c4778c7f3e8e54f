/* core/github_client.c: integrations, the call pipeline (see
 * github_internal.h), rate limits, the ETag cache and GitHub's errors. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/sha.h>

#include "api_impl.h"
#include "github_internal.h"

#define DEFAULT_MAX_WAIT_MS (60u * 60u * 1000u)
#define DEFAULT_MAX_RATE_WAITS 3
#define DEFAULT_REFRESH_MARGIN_MS (5u * 60u * 1000u)
/* X-RateLimit-Reset has one-second resolution: come back a little after it. */
#define RESET_MARGIN_MS 1000
#define MIN_RATE_WAIT_MS 1000
/* GitHub asks to wait at least a minute after a secondary limit that does
 * not say for how long. */
#define SECONDARY_WAIT_MS 60000
#define GITHUB_API_VERSION "2022-11-28"
#define DEFAULT_ACCEPT "application/vnd.github+json"

/* ---- config schema -------------------------------------------------------- */

static const gr_config_field_t app_fields[] = {
    {.key = "appId",
     .type = GR_CONFIG_STRING,
     .flags = GR_CONFIG_REQUIRED,
     .description = "The App's numeric id (or its client id), the JWT issuer."},
    {.key = "privateKey",
     .type = GR_CONFIG_STRING,
     .flags = GR_CONFIG_REQUIRED | GR_CONFIG_SECRET,
     .description = "The App's RSA private key, PEM."},
    {.key = "clientId", .type = GR_CONFIG_STRING},
    {.key = "clientSecret", .type = GR_CONFIG_STRING, .flags = GR_CONFIG_SECRET},
    {.key = "webhookSecret", .type = GR_CONFIG_STRING, .flags = GR_CONFIG_SECRET},
    {.key = "installationId",
     .type = GR_CONFIG_INT,
     .description = "Use this installation instead of looking one up per owner."},
    {0},
};

static const gr_config_field_t app_item[] = {
    {.key = "", .type = GR_CONFIG_OBJECT, .fields = app_fields}};

static const gr_config_field_t integration_fields[] = {
    {.key = "host", .type = GR_CONFIG_STRING, .default_value = "github.com"},
    {.key = "apiBaseUrl",
     .type = GR_CONFIG_STRING,
     .description = "Default https://api.github.com, or https://<host>/api/v3."},
    {.key = "graphqlBaseUrl",
     .type = GR_CONFIG_STRING,
     .description = "Default <apiBaseUrl>/graphql, or https://<host>/api/graphql."},
    {.key = "rawBaseUrl", .type = GR_CONFIG_STRING},
    {.key = "token", .type = GR_CONFIG_STRING, .flags = GR_CONFIG_SECRET},
    {.key = "webhookSecret", .type = GR_CONFIG_STRING, .flags = GR_CONFIG_SECRET},
    {.key = "apps", .type = GR_CONFIG_ARRAY, .items = app_item},
    {0},
};

static const gr_config_field_t integration_item[] = {
    {.key = "", .type = GR_CONFIG_OBJECT, .fields = integration_fields}};

const gr_config_field_t gr_github_integrations_schema[] = {
    {.key = "github", .type = GR_CONFIG_ARRAY, .items = integration_item},
    {.key = "*", .type = GR_CONFIG_ANY}, /* gitlab, bitbucket...: not ours */
    {0},
};

/* ---- small helpers ---------------------------------------------------------- */

void gh_log(gr_github_client_t *c, int level, const char *fmt, ...)
{
    if (!c->log || !gr_log_enabled(c->log, (gr_log_level_t)level))
        return;
    va_list ap;
    va_start(ap, fmt);
    gr_log_vwrite(c->log, (gr_log_level_t)level, fmt, ap);
    va_end(ap);
}

int64_t gh_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

json_object *gh_json_path(json_object *root, const char *path)
{
    json_object *cur = root;
    const char *p = path;
    while (cur && p && *p) {
        size_t n = strcspn(p, ".");
        char *key = gr_xstrndup(p, n);
        json_object *next = NULL;
        if (!json_object_is_type(cur, json_type_object) ||
            !json_object_object_get_ex(cur, key, &next))
            next = NULL;
        free(key);
        cur = next;
        p += n;
        if (*p == '.')
            p++;
    }
    return cur;
}

static void metric_set(gr_metric_t *family, const char *label, double v)
{
    if (!family)
        return;
    const char *values[] = {label};
    gr_metric_t *series = gr_metric_labels(family, values);
    if (series)
        gr_metric_set(series, v);
}

static void metric_inc(gr_metric_t *family, const char *label)
{
    if (!family)
        return;
    gr_metric_t *series = family;
    if (label) {
        const char *values[] = {label};
        series = gr_metric_labels(family, values);
    }
    if (series)
        gr_metric_inc(series);
}

/* "scheme://authority" of an absolute URL (caller frees). */
static char *url_origin(const char *url)
{
    const char *rest = strstr(url, "://");
    if (!rest)
        return gr_xstrdup(url);
    rest += 3;
    return gr_xstrndup(url, (size_t)(rest - url) + strcspn(rest, "/?#"));
}

static int starts_with_origin(const char *url, const char *origin)
{
    size_t n = strlen(origin);
    return strncasecmp(url, origin, n) == 0 && (url[n] == '\0' || strchr("/?#", url[n]));
}

static int is_absolute(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* ---- queues --------------------------------------------------------------------- */

static void queue_remove(gh_op_t *op)
{
    gh_queue_t *q = op->queue;
    if (!q)
        return;
    if (op->q_prev)
        op->q_prev->q_next = op->q_next;
    else
        q->head = op->q_next;
    if (op->q_next)
        op->q_next->q_prev = op->q_prev;
    else
        q->tail = op->q_prev;
    op->q_prev = op->q_next = NULL;
    op->queue = NULL;
    op->state = GH_OP_READY;
}

void gh_queue_push(gh_queue_t *q, gh_op_t *op)
{
    queue_remove(op);
    op->q_prev = q->tail;
    op->q_next = NULL;
    if (q->tail)
        q->tail->q_next = op;
    else
        q->head = op;
    q->tail = op;
    op->queue = q;
    op->state = GH_OP_QUEUED;
}

static void on_kick(uv_timer_t *t);

static void kick(gr_github_client_t *c)
{
    if (!c->freeing)
        uv_timer_start(&c->kick, on_kick, 0, 0);
}

void gh_op_resume(gh_op_t *op)
{
    gr_github_client_t *c = op->gh->client;
    gh_queue_push(&c->ready, op);
    kick(c);
}

void gh_queue_resume_all(gh_queue_t *q)
{
    while (q->head)
        gh_op_resume(q->head);
}

static void op_finish(gh_op_t *op, const gr_github_response_t *res, const gr_error_t *err);

void gh_queue_fail_all(gh_queue_t *q, const gr_error_t *err)
{
    while (q->head) {
        gh_op_t *op = q->head;
        queue_remove(op);
        op_finish(op, NULL, err);
    }
}

/* ---- calls ------------------------------------------------------------------------ */

/* The owner and repository a /repos/{owner}/{repo}/..., /orgs/{org}/... or
 * /users/{user}/... path names. */
static void infer_owner(const char *rel, char **owner, char **repo)
{
    static const char *const prefixes[] = {"/repos/", "/orgs/", "/users/"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(rel, prefixes[i], n) != 0)
            continue;
        const char *o = rel + n;
        size_t olen = strcspn(o, "/?#");
        if (!olen)
            return;
        *owner = gr_xstrndup(o, olen);
        if (i == 0 && o[olen] == '/') {
            const char *r = o + olen + 1;
            size_t rlen = strcspn(r, "/?#");
            if (rlen)
                *repo = gr_xstrndup(r, rlen);
        }
        return;
    }
}

gh_op_t *gh_op_new(gr_github_t *gh, const char *method, const char *path)
{
    gh_op_t *op = gr_xcalloc(1, sizeof *op);
    op->gh = gh;
    op->method = gr_xstrdup(method ? method : "GET");
    op->accept = gr_xstrdup(DEFAULT_ACCEPT);
    op->resource = "core";
    if (!path || !*path) {
        gr_error_set(&op->start_err, GR_ERR_INVALID, "GitHub %s: the request has no path",
                     op->method);
    } else if (is_absolute(path)) {
        if (!starts_with_origin(path, gh->origin) &&
            !(strncasecmp(path, gh->graphql_url, strlen(gh->graphql_url)) == 0)) {
            char *origin = url_origin(path);
            gr_error_set(&op->start_err, GR_ERR_INVALID,
                         "GitHub %s: refusing to send %s's credentials to %s (only URLs on %s "
                         "are followed)",
                         op->method, gh->host, origin, gh->origin);
            free(origin);
        }
        op->url = gr_xstrdup(path);
    } else if (path[0] != '/') {
        gr_error_set(&op->start_err, GR_ERR_INVALID,
                     "GitHub %s %s: a path must start with '/' (or be an absolute URL)", op->method,
                     path);
        op->url = gr_xstrdup(path);
    } else {
        op->url = gr_xasprintf("%s%s", gh->api_base, path);
    }
    if (!op->url)
        op->url = gr_xstrdup("");

    /* The path as logged: relative to the API and without the query. */
    const char *rel = op->url;
    size_t base_len = strlen(gh->api_base);
    if (strncasecmp(rel, gh->api_base, base_len) == 0)
        rel += base_len;
    else if (starts_with_origin(rel, gh->origin))
        rel += strlen(gh->origin);
    op->path_for_log = gr_xstrndup(rel, strcspn(rel, "?#"));

    if (strcasecmp(op->url, gh->graphql_url) == 0)
        op->resource = "graphql";
    else if (strncmp(rel, "/search/code", 12) == 0)
        op->resource = "code_search";
    else if (strncmp(rel, "/search/", 8) == 0)
        op->resource = "search";
    if (rel[0] == '/')
        infer_owner(rel, &op->owner, &op->repo);
    return op;
}

static void op_free(gh_op_t *op)
{
    free(op->method);
    free(op->url);
    free(op->path_for_log);
    free(op->body);
    free(op->accept);
    free(op->owner);
    free(op->repo);
    free(op->cache_key);
    gr_github_cache_entry_free(op->cached);
    free(op);
}

static void op_unlink_all(gh_op_t *op)
{
    gr_github_client_t *c = op->gh->client;
    if (op->all_prev)
        op->all_prev->all_next = op->all_next;
    else if (c->ops == op)
        c->ops = op->all_next;
    if (op->all_next)
        op->all_next->all_prev = op->all_prev;
    op->all_prev = op->all_next = NULL;
    c->nops--;
}

static void op_finish(gh_op_t *op, const gr_github_response_t *res, const gr_error_t *err)
{
    queue_remove(op);
    op_unlink_all(op);
    if (op->cb)
        op->cb(res, err, op->user_data);
    op_free(op);
}

void gh_op_start(gh_op_t *op, gr_github_fn cb, void *user_data)
{
    gr_github_client_t *c = op->gh->client;
    op->cb = cb;
    op->user_data = user_data;
    op->all_next = c->ops;
    if (c->ops)
        c->ops->all_prev = op;
    c->ops = op;
    c->nops++;
    gh_op_resume(op);
}

/* ---- rate limits ----------------------------------------------------------------- */

static gh_rate_t *rate_find(gh_cred_t *cred, const char *resource, int create)
{
    for (gh_rate_t *r = cred->rates; r; r = r->next)
        if (strcmp(r->resource, resource) == 0)
            return r;
    if (!create)
        return NULL;
    gh_rate_t *r = gr_xcalloc(1, sizeof *r);
    r->resource = gr_xstrdup(resource);
    r->limit = r->remaining = r->used = -1;
    r->next = cred->rates;
    cred->rates = r;
    return r;
}

static int parse_long(const char *s, long *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end != '\0')
        return 0;
    *out = v;
    return 1;
}

static void rate_update(gh_op_t *op, const gr_http_response_t *res)
{
    gr_github_client_t *c = op->gh->client;
    long limit, remaining, used, reset;
    int has_limit = parse_long(gr_http_response_header(res, "X-RateLimit-Limit"), &limit);
    int has_remaining =
        parse_long(gr_http_response_header(res, "X-RateLimit-Remaining"), &remaining);
    if (!has_limit && !has_remaining)
        return;
    const char *resource = gr_http_response_header(res, "X-RateLimit-Resource");
    if (!resource || !*resource)
        resource = op->resource;
    gh_rate_t *r = rate_find(op->cred, resource, 1);
    if (has_limit) {
        r->limit = limit;
        metric_set(c->m_limit, resource, (double)limit);
    }
    if (has_remaining) {
        r->remaining = remaining;
        metric_set(c->m_remaining, resource, (double)remaining);
    }
    if (parse_long(gr_http_response_header(res, "X-RateLimit-Used"), &used))
        r->used = used;
    if (parse_long(gr_http_response_header(res, "X-RateLimit-Reset"), &reset))
        r->reset_epoch = reset;
}

/* How long op must wait before it may be sent on its credential (0: now). */
static uint64_t rate_wait_ms(gh_op_t *op)
{
    uint64_t now = gr_now_ms();
    uint64_t until = op->cred->blocked_until > now ? op->cred->blocked_until : 0;
    gh_rate_t *r = rate_find(op->cred, op->resource, 0);
    if (r && r->remaining == 0 && r->reset_epoch > 0) {
        int64_t w = r->reset_epoch * 1000 + RESET_MARGIN_MS - gh_wall_ms();
        if (w > 0 && now + (uint64_t)w > until)
            until = now + (uint64_t)w;
    }
    return until ? until - now : 0;
}

static void on_wake(uv_timer_t *t)
{
    gr_github_client_t *c = t->data;
    c->wake_at = 0;
    /* Everyone waiting goes back through the pipeline, which parks again
     * whoever must still wait and re-arms this timer. */
    for (gr_github_t *gh = c->integrations; gh; gh = gh->next)
        for (gh_cred_t *cred = gh->creds; cred; cred = cred->next)
            gh_queue_resume_all(&cred->rate_waiters);
}

static void arm_wake(gr_github_client_t *c, uint64_t at)
{
    if (c->freeing || (c->wake_at && c->wake_at <= at))
        return;
    c->wake_at = at;
    uint64_t now = gr_now_ms();
    uv_timer_start(&c->wake, on_wake, at > now ? at - now : 0, 0);
}

/* The GitHub message of an answer's body, or NULL. */
static const char *answer_message(gr_github_response_t *resp)
{
    json_object *j = gr__github_response_json(resp);
    json_object *m;
    if (j && json_object_is_type(j, json_type_object) &&
        json_object_object_get_ex(j, "message", &m))
        return json_object_get_string(m);
    return NULL;
}

/* When a 403/429 is a rate limit, how long to wait (ms) and which kind;
 * -1 when it is an ordinary refusal. */
static int64_t rate_limited_wait(gr_github_response_t *resp, const char **kind)
{
    const gr_http_response_t *res = resp->http;
    long secs, remaining, reset;
    if (parse_long(gr_http_response_header(res, "Retry-After"), &secs) && secs >= 0) {
        *kind = "secondary";
        int64_t w = (int64_t)secs * 1000;
        return w < MIN_RATE_WAIT_MS ? MIN_RATE_WAIT_MS : w;
    }
    if (parse_long(gr_http_response_header(res, "X-RateLimit-Remaining"), &remaining) &&
        remaining == 0 && parse_long(gr_http_response_header(res, "X-RateLimit-Reset"), &reset)) {
        *kind = "primary";
        int64_t w = (int64_t)reset * 1000 + RESET_MARGIN_MS - gh_wall_ms();
        return w < MIN_RATE_WAIT_MS ? MIN_RATE_WAIT_MS : w;
    }
    const char *msg = answer_message(resp);
    if ((msg && strcasestr(msg, "secondary rate limit")) || resp->status == 429) {
        *kind = "secondary";
        return SECONDARY_WAIT_MS;
    }
    return -1;
}

/* 403 and 429 may be rate limits; GraphQL also answers 200 with an error
 * of type RATE_LIMITED once X-RateLimit-Remaining is 0. */
static int may_be_rate_limit(const gh_op_t *op, const gr_github_response_t *resp)
{
    if (resp->status == 403 || resp->status == 429)
        return 1;
    const char *remaining = gr_http_response_header(resp->http, "X-RateLimit-Remaining");
    return resp->status == 200 && strcmp(op->resource, "graphql") == 0 && remaining &&
           strcmp(remaining, "0") == 0 && resp->body && strstr(resp->body, "RATE_LIMITED");
}

/* ---- GitHub's errors --------------------------------------------------------------- */

static int status_code(int status)
{
    switch (status) {
    case 404:
    case 410: return GR_ERR_NOT_FOUND;
    case 409: return GR_ERR_CONFLICT;
    case 429: return GR_ERR_UNAVAILABLE;
    default: return status >= 500 ? GR_ERR_UNAVAILABLE : GR_ERR_INVALID;
    }
}

/* "Label.color: invalid; ..." from GitHub's `errors` list. */
static void describe_errors(json_object *errors, gr_buf_t *out)
{
    size_t n = json_object_array_length(errors);
    for (size_t i = 0; i < n && i < 5; i++) {
        json_object *e = json_object_array_get_idx(errors, i);
        if (out->len)
            gr_buf_puts(out, "; ");
        if (json_object_is_type(e, json_type_string)) {
            gr_buf_puts(out, json_object_get_string(e));
            continue;
        }
        json_object *v;
        if (json_object_object_get_ex(e, "message", &v)) {
            gr_buf_puts(out, json_object_get_string(v));
            continue;
        }
        const char *resource =
            json_object_object_get_ex(e, "resource", &v) ? json_object_get_string(v) : NULL;
        const char *field =
            json_object_object_get_ex(e, "field", &v) ? json_object_get_string(v) : NULL;
        const char *code =
            json_object_object_get_ex(e, "code", &v) ? json_object_get_string(v) : "invalid";
        if (resource && field)
            gr_buf_printf(out, "%s.%s: %s", resource, field, code);
        else if (field || resource)
            gr_buf_printf(out, "%s: %s", field ? field : resource, code);
        else
            gr_buf_puts(out, code);
    }
    if (n > 5)
        gr_buf_printf(out, "; and %zu more", n - 5);
}

static void answer_error(gh_op_t *op, gr_github_response_t *resp, gr_error_t *err)
{
    json_object *j = gr__github_response_json(resp);
    const char *message = NULL, *doc = NULL;
    gr_buf_t details = {0};
    if (j && json_object_is_type(j, json_type_object)) {
        json_object *v;
        if (json_object_object_get_ex(j, "message", &v))
            message = json_object_get_string(v);
        if (json_object_object_get_ex(j, "documentation_url", &v))
            doc = json_object_get_string(v);
        if (json_object_object_get_ex(j, "errors", &v) && json_object_is_type(v, json_type_array))
            describe_errors(v, &details);
    }
    gr_error_set(err, status_code(resp->status), "GitHub %s %s: %d %s%s%s%s%s%s", op->method,
                 op->path_for_log, resp->status, message ? message : "(no message)",
                 details.len ? " (" : "", details.len ? details.data : "", details.len ? ")" : "",
                 doc ? "; see " : "", doc ? doc : "");
    gr_buf_free(&details);
}

/* ---- the pipeline ----------------------------------------------------------------- */

static void op_send(gh_op_t *op);

static void op_fail(gh_op_t *op, const gr_error_t *err)
{
    op_finish(op, NULL, err);
}

static int cache_eligible(const gh_op_t *op)
{
    return !op->no_cache && strcmp(op->method, "GET") == 0;
}

static void on_cache_got(gr_github_cache_entry_t *entry, void *user_data)
{
    gh_op_t *op = user_data;
    op->cached = entry;
    op->state = GH_OP_READY;
    if (op->gh->client->shut) {
        gr_error_t err;
        gr_error_set(&err, GR_ERR_CANCELED, "GitHub %s %s: canceled: the host is shutting down",
                     op->method, op->path_for_log);
        op_fail(op, &err);
        return;
    }
    op_send(op);
}

static void op_advance(gh_op_t *op)
{
    gr_github_client_t *c = op->gh->client;
    gr_error_t err;
    if (op->start_err.code) {
        op_fail(op, &op->start_err);
        return;
    }
    if (c->shut) {
        gr_error_set(&err, GR_ERR_CANCELED, "GitHub %s %s: canceled: the host is shutting down",
                     op->method, op->path_for_log);
        op_fail(op, &err);
        return;
    }
    if (!op->cred_resolved) {
        int r = gh_auth_resolve(op, &err);
        if (r < 0) {
            op_fail(op, &err);
            return;
        }
        if (r > 0)
            return;
        op->cred_resolved = 1;
    }
    int r = gh_auth_ready(op, &err);
    if (r < 0) {
        op_fail(op, &err);
        return;
    }
    if (r > 0)
        return;

    uint64_t wait = rate_wait_ms(op);
    if (wait > c->max_wait_ms) {
        gr_error_set(&err, GR_ERR_UNAVAILABLE,
                     "GitHub %s %s: the %s rate limit of %s is used up and resets in %llu s, "
                     "later than a call may wait (%llu s)",
                     op->method, op->path_for_log, op->resource, op->cred->identity,
                     (unsigned long long)(wait / 1000),
                     (unsigned long long)(c->max_wait_ms / 1000));
        op_fail(op, &err);
        return;
    }
    if (wait) {
        if (!op->cred->rate_waiters.head)
            gh_log(c, GR_LOG_INFO,
                   "GitHub %s: holding calls on %s for %.1f s until its %s rate limit lifts",
                   op->gh->host, op->cred->identity, (double)wait / 1000.0, op->resource);
        gh_queue_push(&op->cred->rate_waiters, op);
        arm_wake(c, gr_now_ms() + wait);
        return;
    }
    if (!op->cache_checked && cache_eligible(op)) {
        op->cache_checked = 1;
        op->cache_key = gr_xasprintf("%s\n%s\n%s", op->cred->identity, op->accept, op->url);
        op->state = GH_OP_CACHE;
        c->cache->get(c->cache, op->cache_key, on_cache_got, op);
        return;
    }
    op_send(op);
}

static void on_kick(uv_timer_t *t)
{
    gr_github_client_t *c = t->data;
    /* Only the ops ready now: one that parks and resumes at once waits for
     * the next turn instead of spinning here. */
    size_t n = 0;
    for (gh_op_t *op = c->ready.head; op; op = op->q_next)
        n++;
    while (n-- && c->ready.head) {
        gh_op_t *op = c->ready.head;
        queue_remove(op);
        op_advance(op);
    }
    if (c->ready.head)
        kick(c);
}

static void cache_store(gh_op_t *op, const gr_http_response_t *res)
{
    const char *etag = gr_http_response_header(res, "ETag");
    const char *modified = gr_http_response_header(res, "Last-Modified");
    if (!op->cache_key || (!etag && !modified))
        return;
    size_t len;
    const char *body = gr_http_response_body(res, &len);
    gr_github_cache_entry_t entry = {
        .etag = (char *)etag,
        .last_modified = (char *)modified,
        .link = (char *)gr_http_response_header(res, "Link"),
        .content_type = (char *)gr_http_response_header(res, "Content-Type"),
        .body = (char *)body,
        .body_len = len,
    };
    gr_github_client_t *c = op->gh->client;
    c->cache->put(c->cache, op->cache_key, &entry);
}

static void on_http_done(const gr_http_response_t *res, const gr_error_t *err, void *user_data)
{
    gh_op_t *op = user_data;
    gr_github_client_t *c = op->gh->client;
    op->state = GH_OP_READY;
    if (err) {
        metric_inc(c->m_requests, "error");
        op_fail(op, err);
        return;
    }
    gr_github_response_t resp = {.api = &gr__host_api, .http = res};
    resp.status = gr_http_response_status(res);
    resp.body = gr_http_response_body(res, &resp.body_len);
    char status[16];
    snprintf(status, sizeof status, "%d", resp.status);
    metric_inc(c->m_requests, status);
    rate_update(op, res);

    if (resp.status == 304 && op->cached) {
        metric_inc(c->m_cache_hits, NULL);
        resp.status = 200;
        resp.cached = op->cached;
        resp.body = op->cached->body;
        resp.body_len = op->cached->body_len;
        gh_log(c, GR_LOG_DEBUG, "GitHub %s %s: not modified, answered from the cache", op->method,
               op->path_for_log);
        op_finish(op, &resp, NULL);
        json_object_put(resp.json);
        return;
    }

    const char *kind = NULL;
    int64_t wait = may_be_rate_limit(op, &resp) ? rate_limited_wait(&resp, &kind) : -1;
    if (wait >= 0) {
        const char *msg = answer_message(&resp);
        op->rate_waits++;
        if (c->shut || op->rate_waits > c->max_rate_waits || (uint64_t)wait > c->max_wait_ms) {
            gr_error_t e;
            gr_error_set(&e, GR_ERR_UNAVAILABLE,
                         "GitHub %s %s: %d %s (%s rate limit of %s; it lifts in %lld s and "
                         "this call has already waited %d time(s))",
                         op->method, op->path_for_log, resp.status, msg ? msg : "rate limited",
                         kind, op->cred->identity, (long long)(wait / 1000), op->rate_waits - 1);
            op_finish(op, &resp, &e);
            json_object_put(resp.json);
            return;
        }
        uint64_t until = gr_now_ms() + (uint64_t)wait;
        if (until > op->cred->blocked_until)
            op->cred->blocked_until = until;
        gh_log(c, GR_LOG_WARN,
               "GitHub %s: %s rate limit reached for %s (%s); waiting %.1f s before %s %s and "
               "the calls queued behind it",
               op->gh->host, kind, op->cred->identity, op->resource, (double)wait / 1000.0,
               op->method, op->path_for_log);
        metric_inc(c->m_waits, NULL);
        json_object_put(resp.json);
        gh_queue_push(&op->cred->rate_waiters, op);
        arm_wake(c, op->cred->blocked_until);
        return;
    }

    if (resp.status == 401 && op->cred->kind == GH_CRED_INSTALLATION && !op->auth_retried) {
        /* The token may have been revoked early: get a new one, once. */
        op->auth_retried = 1;
        gh_auth_invalidate(op->cred);
        json_object_put(resp.json);
        gh_op_resume(op);
        return;
    }

    if (resp.status == 200 && cache_eligible(op))
        cache_store(op, res);
    if (resp.status >= 400) {
        gr_error_t e;
        answer_error(op, &resp, &e);
        op_finish(op, &resp, &e);
    } else {
        op_finish(op, &resp, NULL);
    }
    json_object_put(resp.json);
}

static void op_send(gh_op_t *op)
{
    gr_github_client_t *c = op->gh->client;
    gr_http_call_t *call = gr_http_call_new(c->http, op->method, op->url);
    gr_http_call_header(call, "Accept", op->accept);
    gr_http_call_header(call, "X-GitHub-Api-Version", GITHUB_API_VERSION);
    if (op->cred->secret) {
        char *auth = gr_xasprintf("%s %s", op->cred->kind == GH_CRED_APP ? "Bearer" : "token",
                                  op->cred->secret);
        gr_http_call_header(call, "Authorization", auth);
        free(auth);
    }
    if (op->body) {
        gr_http_call_header(call, "Content-Type", "application/json");
        gr_http_call_body(call, op->body, strlen(op->body));
    }
    if (op->cached && op->cached->etag)
        gr_http_call_header(call, "If-None-Match", op->cached->etag);
    else if (op->cached && op->cached->last_modified)
        gr_http_call_header(call, "If-Modified-Since", op->cached->last_modified);
    if (op->timeout_ms)
        gr_http_call_timeout(call, op->timeout_ms);
    op->state = GH_OP_IN_FLIGHT;
    gr_http_call_send(call, on_http_done, op);
}

/* ---- responses --------------------------------------------------------------------- */

int gr__github_response_status(const gr_github_response_t *res)
{
    return res ? res->status : 0;
}

const char *gr__github_response_header(const gr_github_response_t *res, const char *name)
{
    if (!res || !name)
        return NULL;
    const char *v = res->http ? gr_http_response_header(res->http, name) : NULL;
    if (v || !res->cached)
        return v;
    if (strcasecmp(name, "Link") == 0)
        return res->cached->link;
    if (strcasecmp(name, "Content-Type") == 0)
        return res->cached->content_type;
    if (strcasecmp(name, "ETag") == 0)
        return res->cached->etag;
    if (strcasecmp(name, "Last-Modified") == 0)
        return res->cached->last_modified;
    return NULL;
}

const char *gr__github_response_body(const gr_github_response_t *res, size_t *len)
{
    if (len)
        *len = res ? res->body_len : 0;
    return res && res->body ? res->body : "";
}

struct json_object *gr__github_response_json(const gr_github_response_t *res)
{
    if (!res)
        return NULL;
    /* Parsed on first use and kept with the response, which is ours. */
    gr_github_response_t *mut = (gr_github_response_t *)res;
    if (!mut->json_parsed) {
        mut->json_parsed = 1;
        if (res->body && res->body_len) {
            json_tokener *tok = json_tokener_new();
            mut->json = json_tokener_parse_ex(tok, res->body, (int)res->body_len);
            if (json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(mut->json);
                mut->json = NULL;
            }
            json_tokener_free(tok);
        }
    }
    return mut->json;
}

int gr__github_response_cached(const gr_github_response_t *res)
{
    return res && res->cached != NULL;
}

/* ---- the module-facing entry points ------------------------------------------------ */

gr_github_t *gr__github_get(gr_http_client_t *http, const char *host, gr_error_t *err)
{
    gr_github_client_t *c = gr_http_client_github(http);
    if (!c) {
        gr_error_set(err, GR_ERR_UNSUPPORTED, "github: this host has no GitHub client");
        return NULL;
    }
    return gr_github_client_get(c, host, err);
}

void gr__github_request(gr_github_t *gh, const gr_github_request_t *req, size_t req_size,
                        gr_github_fn cb, void *user_data)
{
    gr_github_request_t r = {0};
    if (req)
        memcpy(&r, req, req_size < sizeof r ? req_size : sizeof r);
    gh_op_t *op = gh_op_new(gh, r.method, r.path);
    if (r.body)
        op->body = gr_xstrdup(r.body);
    if (r.accept) {
        free(op->accept);
        op->accept = gr_xstrdup(r.accept);
    }
    if (r.owner) {
        free(op->owner);
        free(op->repo);
        op->owner = gr_xstrdup(r.owner);
        op->repo = r.repo ? gr_xstrdup(r.repo) : NULL;
    }
    op->timeout_ms = r.timeout_ms;
    op->no_cache = r.no_cache;
    gh_op_start(op, cb, user_data);
}

/* ---- integrations -------------------------------------------------------------------- */

static char *token_identity(const char *token)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), digest);
    /* Six bytes of the hash tell tokens apart in logs and cache keys
     * without revealing anything usable. */
    return gr_xasprintf("token:%02x%02x%02x%02x%02x%02x", digest[0], digest[1], digest[2],
                        digest[3], digest[4], digest[5]);
}

static char *trim_slash(const char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '/')
        n--;
    return gr_xstrndup(s, n);
}

static void integration_free(gr_github_t *gh)
{
    gh_owner_free_all(gh);
    while (gh->creds) {
        gh_cred_t *cred = gh->creds;
        gh->creds = cred->next;
        gh_cred_free(cred);
    }
    for (size_t i = 0; i < gh->napps; i++) {
        free(gh->apps[i].app_id);
        free(gh->apps[i].webhook_secret);
        EVP_PKEY_free(gh->apps[i].key);
    }
    free(gh->apps);
    free(gh->host);
    free(gh->api_base);
    free(gh->graphql_url);
    free(gh->origin);
    gr_strvec_free(&gh->webhook_secrets);
    free(gh);
}

static gr_github_t *integration_new(gr_github_client_t *c, const gr_config_t *node, gr_error_t *err)
{
    char where[256];
    gr_config_where(node, where, sizeof where);
    gr_github_t *gh = gr_xcalloc(1, sizeof *gh);
    gh->api = &gr__host_api;
    gh->client = c;
    gh->host = gr_xstrdup(gr_config_string(node, "host", "github.com"));
    int dotcom = strcasecmp(gh->host, "github.com") == 0;

    const char *api = gr_config_string(node, "apiBaseUrl", NULL);
    gh->api_base = api      ? trim_slash(api)
                   : dotcom ? gr_xstrdup("https://api.github.com")
                            : gr_xasprintf("https://%s/api/v3", gh->host);
    const char *gql = gr_config_string(node, "graphqlBaseUrl", NULL);
    size_t blen = strlen(gh->api_base);
    if (gql)
        gh->graphql_url = trim_slash(gql);
    else if (blen >= 7 && strcmp(gh->api_base + blen - 7, "/api/v3") == 0)
        gh->graphql_url = gr_xasprintf("%.*s/api/graphql", (int)(blen - 7), gh->api_base);
    else
        gh->graphql_url = gr_xasprintf("%s/graphql", gh->api_base);
    if (!is_absolute(gh->api_base) || !is_absolute(gh->graphql_url)) {
        gr_error_set(err, GR_ERR_INVALID,
                     "%s: integrations.github (host %s): apiBaseUrl and graphqlBaseUrl must be "
                     "http:// or https:// URLs",
                     where, gh->host);
        integration_free(gh);
        return NULL;
    }
    gh->origin = url_origin(gh->api_base);

    const char *token = gr_config_string(node, "token", NULL);
    if (token && *token) {
        char *id = token_identity(token);
        gh->default_cred = gh_cred_new(gh, GH_CRED_TOKEN, id);
        gh->default_cred->secret = gr_xstrdup(token);
        free(id);
    } else {
        gh->default_cred = gh_cred_new(gh, GH_CRED_ANONYMOUS, "anonymous");
    }
    const char *secret = gr_config_string(node, "webhookSecret", NULL);
    if (secret && *secret)
        gr_strvec_push(&gh->webhook_secrets, secret);

    const gr_config_t *apps = gr_config_get(node, "apps");
    gh->napps = gr_config_size(apps);
    gh->apps = gr_xcalloc(gh->napps, sizeof *gh->apps);
    for (size_t i = 0; i < gh->napps; i++) {
        const gr_config_t *a = gr_config_at(apps, i);
        gh_app_t *app = &gh->apps[i];
        gr_config_where(a, where, sizeof where);
        const char *app_id = gr_config_string(a, "appId", NULL);
        const char *pem = gr_config_string(a, "privateKey", NULL);
        if (!app_id || !pem) {
            gr_error_set(err, GR_ERR_INVALID,
                         "%s: integrations.github (host %s): every entry of apps needs appId "
                         "and privateKey",
                         where, gh->host);
            gh->napps = i;
            integration_free(gh);
            return NULL;
        }
        app->app_id = gr_xstrdup(app_id);
        gr_error_t kerr;
        app->key = gh_key_load(pem, &kerr);
        if (!app->key) {
            gr_error_set(err, GR_ERR_INVALID,
                         "%s: integrations.github (host %s): privateKey of App %s: %s", where,
                         gh->host, app_id, kerr.message);
            gh->napps = i + 1;
            integration_free(gh);
            return NULL;
        }
        app->installation_id = gr_config_int(a, "installationId", 0);
        const char *ws = gr_config_string(a, "webhookSecret", NULL);
        if (ws && *ws) {
            app->webhook_secret = gr_xstrdup(ws);
            gr_strvec_push(&gh->webhook_secrets, ws);
        }
        char *id = gr_xasprintf("app:%s", app_id);
        app->jwt = gh_cred_new(gh, GH_CRED_APP, id);
        app->jwt->app = app;
        free(id);
    }
    return gh;
}

static gr_github_t *find_integration(const gr_github_client_t *c, const char *host)
{
    for (gr_github_t *gh = c->integrations; gh; gh = gh->next)
        if (strcasecmp(gh->host, host) == 0)
            return gh;
    return NULL;
}

static void on_handle_closed(uv_handle_t *h)
{
    gr_github_client_t *c = h->data;
    if (--c->open_handles == 0)
        free(c);
}

gr_github_client_t *gr_github_client_new(uv_loop_t *loop, gr_log_t *log, gr_metrics_t *metrics,
                                         gr_http_client_t *http, const gr_config_t *integrations,
                                         const gr_github_client_options_t *opts, gr_error_t *err)
{
    static const gr_github_client_options_t defaults = {0};
    if (!opts)
        opts = &defaults;
    gr_github_client_t *c = gr_xcalloc(1, sizeof *c);
    c->loop = loop;
    c->log = log;
    c->http = http;
    c->max_wait_ms =
        opts->rate_limit_max_wait_ms ? opts->rate_limit_max_wait_ms : DEFAULT_MAX_WAIT_MS;
    c->max_rate_waits =
        opts->rate_limit_max_retries ? opts->rate_limit_max_retries : DEFAULT_MAX_RATE_WAITS;
    c->refresh_margin_ms =
        opts->token_refresh_margin_ms ? opts->token_refresh_margin_ms : DEFAULT_REFRESH_MARGIN_MS;

    gr_github_t **tail = &c->integrations;
    size_t n = gr_config_size(integrations);
    for (size_t i = 0; i < n; i++) {
        const gr_config_t *node = gr_config_at(integrations, i);
        gr_github_t *gh = integration_new(c, node, err);
        if (gh && find_integration(c, gh->host)) {
            char where[256];
            gr_config_where(node, where, sizeof where);
            gr_error_set(err, GR_ERR_INVALID,
                         "%s: integrations.github: host %s is configured twice", where, gh->host);
            integration_free(gh);
            gh = NULL;
        }
        if (!gh) {
            while (c->integrations) {
                gr_github_t *next = c->integrations->next;
                integration_free(c->integrations);
                c->integrations = next;
            }
            free(c);
            return NULL;
        }
        *tail = gh;
        tail = &gh->next;
    }
    if (!find_integration(c, "github.com")) {
        /* Public github.com works without configuration, anonymously. */
        gr_github_t *gh = integration_new(c, NULL, err);
        *tail = gh;
    }

    c->cache = opts->cache
                   ? opts->cache
                   : gr_github_cache_memory_new(opts->cache_max_entries, opts->cache_max_bytes);
    uv_timer_init(loop, &c->kick);
    uv_timer_init(loop, &c->wake);
    c->kick.data = c->wake.data = c;
    c->open_handles = 2;

    if (metrics) {
        static const char *const resource[] = {"resource", NULL};
        static const char *const status[] = {"status", NULL};
        c->m_remaining = gr_metrics_gauge(metrics, "github_rate_limit_remaining",
                                          "Requests left in the current GitHub rate-limit window, "
                                          "as GitHub last reported it.",
                                          resource);
        c->m_limit = gr_metrics_gauge(metrics, "github_rate_limit_limit",
                                      "Size of the GitHub rate-limit window, as GitHub last "
                                      "reported it.",
                                      resource);
        c->m_requests = gr_metrics_counter(metrics, "github_requests_total",
                                           "GitHub API answers by HTTP status (\"error\" when no "
                                           "answer came).",
                                           status);
        c->m_cache_hits = gr_metrics_counter(metrics, "github_cache_hits_total",
                                             "GitHub GETs answered 304 Not Modified and served "
                                             "from the ETag cache.",
                                             NULL);
        c->m_waits =
            gr_metrics_counter(metrics, "github_rate_limit_waits_total",
                               "Times a GitHub call waited for a rate limit to lift.", NULL);
    }
    gr_http_client_set_github(http, c);
    return c;
}

gr_github_t *gr_github_client_get(gr_github_client_t *c, const char *host, gr_error_t *err)
{
    gr_github_t *gh = find_integration(c, host ? host : "github.com");
    if (!gh)
        gr_error_set(err, GR_ERR_NOT_FOUND,
                     "github: no integrations.github entry has host '%s'; add one with its "
                     "apiBaseUrl and credentials",
                     host);
    return gh;
}

void gr_github_client_shutdown(gr_github_client_t *c)
{
    if (!c || c->shut)
        return;
    c->shut = 1;
    gr_error_t err;
    gr_error_set(&err, GR_ERR_CANCELED, "GitHub: call canceled: the host is shutting down");
    uv_timer_stop(&c->wake);
    for (gr_github_t *gh = c->integrations; gh; gh = gh->next) {
        for (gh_cred_t *cred = gh->creds; cred; cred = cred->next)
            gh_queue_fail_all(&cred->rate_waiters, &err);
        gh_auth_fail_waiters(gh, &err);
    }
    gh_queue_fail_all(&c->ready, &err);
}

void gr_github_client_free(gr_github_client_t *c)
{
    if (!c)
        return;
    gr_github_client_shutdown(c);
    if (c->nops) {
        /* Calls still in flight hold pointers into this client: the HTTP
         * client's shutdown completes them now (the host is going away). */
        gr_http_client_shutdown(c->http);
    }
    /* Callbacks run above may have started calls: they fail at once. */
    gr_error_t err;
    gr_error_set(&err, GR_ERR_CANCELED, "GitHub: call canceled: the host is shutting down");
    while (c->ready.head)
        gh_queue_fail_all(&c->ready, &err);
    c->freeing = 1;
    if (gr_http_client_github(c->http) == c)
        gr_http_client_set_github(c->http, NULL);
    while (c->integrations) {
        gr_github_t *next = c->integrations->next;
        integration_free(c->integrations);
        c->integrations = next;
    }
    c->cache->destroy(c->cache);
    uv_timer_stop(&c->kick);
    uv_close((uv_handle_t *)&c->kick, on_handle_closed);
    uv_close((uv_handle_t *)&c->wake, on_handle_closed);
}

void gr_github_client_webhook_secrets(const gr_github_client_t *c, gr_strvec_t *out)
{
    for (gr_github_t *gh = c->integrations; gh; gh = gh->next)
        for (size_t i = 0; i < gh->webhook_secrets.len; i++)
            gr_strvec_push(out, gh->webhook_secrets.items[i]);
}

int gr_github_rate_limit(const gr_github_t *gh, const char *resource, gr_github_rate_limit_t *out)
{
    /* The most restrictive figure any credential of the integration saw. */
    int found = 0;
    for (gh_cred_t *cred = gh->creds; cred; cred = cred->next) {
        gh_rate_t *r = rate_find(cred, resource, 0);
        if (!r || (found && r->remaining >= out->remaining))
            continue;
        out->limit = r->limit;
        out->remaining = r->remaining;
        out->used = r->used;
        out->reset_epoch = r->reset_epoch;
        found = 1;
    }
    return found ? 0 : GR_ERR_NOT_FOUND;
}

size_t gr_github_client_pending(const gr_github_client_t *c)
{
    return c ? c->nops : 0;
}
