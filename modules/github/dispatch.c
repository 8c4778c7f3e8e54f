/* dispatch.c: the github.events extension point: subscriptions, handing a
 * stored delivery to each matching subscriber, recording what it answered,
 * and the task that retries failures with back-off. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "github_internal.h"

/* Retries claimed per run of the task: enough to drain a burst, few enough
 * that one run's payloads stay a bounded amount of memory. */
#define GITHUB_RETRY_BATCH 50

static int sub_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 100)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return 0;
    }
    return 1;
}

int github_events_subscribe_impl(const github_events_t *self, const github_subscription_t *sub,
                                 size_t sub_size, gr_error_t *err)
{
    github_plugin_t *gh = self->impl;
    if (!sub || sub_size < sizeof(github_subscription_t) || !sub->id || !sub->event ||
        !sub->handler)
        return gr_error_set(err, GR_ERR_INVALID,
                            "github.events: a subscription needs an id, an event and a handler");
    if (!sub_id_valid(sub->id))
        return gr_error_set(err, GR_ERR_INVALID,
                            "github.events: subscription id '%s' must be 1 to 100 letters, "
                            "digits, '.', '_' or '-'",
                            sub->id);
    if (!*sub->event)
        return gr_error_set(err, GR_ERR_INVALID,
                            "github.events: subscription '%s' names no event (use \"*\" for all)",
                            sub->id);
    for (size_t i = 0; i < gh->nsubs; i++)
        if (strcmp(gh->subs[i].id, sub->id) == 0)
            return gr_error_set(err, GR_ERR_CONFLICT,
                                "github.events: subscription id '%s' is already taken", sub->id);
    if (gh->nsubs == gh->subs_cap) {
        gh->subs_cap = gh->subs_cap ? gh->subs_cap * 2 : 8;
        gh->subs = gr_xrealloc(gh->subs, gh->subs_cap * sizeof *gh->subs);
    }
    gh->subs[gh->nsubs++] = (github_sub_t){
        .id = gr_xstrdup(sub->id),
        .event = gr_xstrdup(sub->event),
        .action = sub->action ? gr_xstrdup(sub->action) : NULL,
        .handler = sub->handler,
        .user_data = sub->user_data,
    };
    gr_log_info(gh->ctx->log, "webhooks: '%s' subscribed to %s%s%s", sub->id, sub->event,
                sub->action ? "." : "", sub->action ? sub->action : "");
    return 0;
}

void github_subs_free(github_plugin_t *gh)
{
    for (size_t i = 0; i < gh->nsubs; i++) {
        free(gh->subs[i].id);
        free(gh->subs[i].event);
        free(gh->subs[i].action);
    }
    free(gh->subs);
    gh->subs = NULL;
    gh->nsubs = gh->subs_cap = 0;
}

int github_dispatch_wants(const github_plugin_t *gh, const char *event)
{
    for (size_t i = 0; i < gh->nsubs; i++)
        if (strcmp(gh->subs[i].event, "*") == 0 || (event && strcmp(gh->subs[i].event, event) == 0))
            return 1;
    return 0;
}

void github_dispatch_match(github_plugin_t *gh, const char *event, const char *action,
                           gr_strvec_t *out)
{
    for (size_t i = 0; i < gh->nsubs; i++) {
        const github_sub_t *s = &gh->subs[i];
        if (strcmp(s->event, "*") != 0 && strcmp(s->event, event) != 0)
            continue;
        if (s->action && (!action || strcmp(s->action, action) != 0))
            continue;
        gr_strvec_push(out, s->id);
    }
}

static const github_sub_t *sub_find(const github_plugin_t *gh, const char *id)
{
    for (size_t i = 0; i < gh->nsubs; i++)
        if (strcmp(gh->subs[i].id, id) == 0)
            return &gh->subs[i];
    return NULL;
}

/* One delivery handed to one subscriber; ev comes first so the handler's
 * github_event_t pointer is the call. */
typedef struct github_call {
    github_event_t ev;
    github_plugin_t *gh;
    int64_t row_id;
    char *sub_id, *delivery_id, *event, *action;
    struct json_object *payload;
} github_call_t;

/* The wait before retry number attempt+1: doubling from the initial delay,
 * capped at the maximum. */
static int64_t backoff_ms(const github_plugin_t *gh, int attempt)
{
    uint64_t d = gh->retry_initial_ms;
    for (int i = 1; i < attempt && d < gh->retry_max_ms; i++)
        d *= 2;
    return (int64_t)(d < gh->retry_max_ms ? d : gh->retry_max_ms);
}

static void call_done(github_event_t *ev, int status, const char *error_message)
{
    github_call_t *call = (github_call_t *)ev;
    github_plugin_t *gh = call->gh;
    /* After shutdown the database handle is gone: the row keeps its
     * deadline and the delivery is handed over again after a restart. */
    if (!gh->stopping) {
        const char *labels[] = {call->sub_id, status == 0 ? "succeeded" : "failed"};
        gr_metric_inc(gr_metric_labels(gh->dispatched, labels));
        if (status == 0) {
            github_store_status(gh, call->row_id, call->sub_id, "succeeded", ev->attempt, NULL, -1);
        } else {
            char fallback[64];
            if (!error_message || !*error_message) {
                snprintf(fallback, sizeof fallback, "the handler failed (%s)",
                         gr_status_name(status));
                error_message = fallback;
            }
            int last = ev->attempt >= gh->max_attempts;
            int64_t delay = last ? -1 : backoff_ms(gh, ev->attempt);
            gr_log_warn(gh->ctx->log,
                        "webhooks: subscriber '%s' failed delivery %s (%s), attempt %d of %d: "
                        "%s%s",
                        call->sub_id, call->delivery_id, call->event, ev->attempt, gh->max_attempts,
                        error_message, last ? "; giving up" : "; it will be retried");
            github_store_status(gh, call->row_id, call->sub_id, "failed", ev->attempt,
                                error_message, delay);
        }
    }
    json_object_put(call->payload);
    free(call->sub_id);
    free(call->delivery_id);
    free(call->event);
    free(call->action);
    free(call);
    github_unref(gh);
}

void github_dispatch(github_plugin_t *gh, int64_t row_id, const char *delivery_id,
                     const char *event, const char *action, struct json_object *payload,
                     const char *subscriber, int attempt)
{
    const github_sub_t *sub = sub_find(gh, subscriber);
    if (!sub || gh->stopping)
        return;
    github_call_t *call = gr_xcalloc(1, sizeof *call);
    call->gh = gh;
    call->row_id = row_id;
    call->sub_id = gr_xstrdup(sub->id);
    call->delivery_id = gr_xstrdup(delivery_id);
    call->event = gr_xstrdup(event);
    call->action = action ? gr_xstrdup(action) : NULL;
    call->payload = json_object_get(payload);
    call->ev = (github_event_t){
        .size = sizeof(github_event_t),
        .delivery_id = call->delivery_id,
        .event = call->event,
        .action = call->action,
        .payload = call->payload,
        .subscription_id = call->sub_id,
        .attempt = attempt,
        .done = call_done,
    };
    github_ref(gh);
    sub->handler(&call->ev, sub->user_data);
}

/* ---- retries ------------------------------------------------------------- */

/* One claimed retry, waiting for its payload to be parsed. */
typedef struct retry_item {
    github_plugin_t *gh;
    struct retry_run *run;
    int64_t row_id;
    int attempt;
    char *subscriber, *delivery_id, *event, *action;
    char *text;
    github_payload_t payload;
} retry_item_t;

typedef struct retry_run {
    github_plugin_t *gh;
    gr_task_t *task;
    size_t pending; /* items still being parsed */
    int claimed_done;
} retry_run_t;

static void retry_run_maybe_done(retry_run_t *run)
{
    if (!run->claimed_done || run->pending)
        return;
    gr_task_done(run->task, 0, NULL);
    github_unref(run->gh);
    free(run);
}

static void retry_item_free(retry_item_t *it)
{
    github_payload_clear(&it->payload);
    free(it->subscriber);
    free(it->delivery_id);
    free(it->event);
    free(it->action);
    free(it->text);
    free(it);
}

static void retry_parsed(github_payload_t *p, void *user_data)
{
    retry_item_t *it = user_data;
    retry_run_t *run = it->run;
    github_plugin_t *gh = it->gh;
    if (p->json) {
        github_dispatch(gh, it->row_id, it->delivery_id, it->event, it->action, p->json,
                        it->subscriber, it->attempt);
    } else if (p->verify_status != GR_ERR_CANCELED && !gh->stopping) {
        /* A stored payload that no longer parses cannot be retried. */
        github_store_status(gh, it->row_id, it->subscriber, "failed", it->attempt, p->error, -1);
    }
    retry_item_free(it);
    run->pending--;
    retry_run_maybe_done(run);
}

static void on_claimed(const gr_db_result_t *res, const gr_db_error_t *err, void *user_data)
{
    retry_run_t *run = user_data;
    github_plugin_t *gh = run->gh;
    if (err) {
        /* While the database is away the pool says so itself; the next run
         * retries. */
        run->claimed_done = 1;
        if (err->code == GR_ERR_UNAVAILABLE || err->code == GR_ERR_CANCELED)
            gr_task_done(run->task, 0, NULL);
        else
            gr_task_done(run->task, err->code, err->message);
        github_unref(gh);
        free(run);
        return;
    }
    int rows = gr_db_result_rows(res);
    if (rows > 0)
        gr_log_info(gh->ctx->log, "webhooks: retrying %d failed or unanswered handler call(s)",
                    rows);
    for (int i = 0; i < rows; i++) {
        retry_item_t *it = gr_xcalloc(1, sizeof *it);
        it->gh = gh;
        it->run = run;
        gr_db_result_int64(res, i, 0, &it->row_id);
        int64_t attempt = 1;
        gr_db_result_int64(res, i, 2, &attempt);
        it->attempt = (int)attempt;
        it->subscriber = gr_xstrdup(gr_db_result_value(res, i, 1));
        it->delivery_id = gr_xstrdup(gr_db_result_value(res, i, 3));
        it->event = gr_xstrdup(gr_db_result_value(res, i, 4));
        const char *action = gr_db_result_value(res, i, 5);
        it->action = action ? gr_xstrdup(action) : NULL;
        it->text = gr_xstrdup(gr_db_result_value(res, i, 6));
        it->payload.body = it->text;
        it->payload.len = strlen(it->text);
        it->payload.want_tree = 1;
        run->pending++;
        gr_error_t werr = {0};
        if (github_payload_process(gh, &it->payload, retry_parsed, it, &werr) != 0) {
            /* Shutting down: the row's deadline brings it back later. */
            run->pending--;
            retry_item_free(it);
        }
    }
    run->claimed_done = 1;
    retry_run_maybe_done(run);
}

void github_retry_task(gr_task_t *task, void *user_data)
{
    github_plugin_t *gh = user_data;
    if (gh->nsubs == 0 || gh->stopping) {
        gr_task_done(task, 0, NULL);
        return;
    }
    retry_run_t *run = gr_xcalloc(1, sizeof *run);
    run->gh = gh;
    run->task = task;
    github_ref(gh);
    gr_strvec_t ids = {0};
    for (size_t i = 0; i < gh->nsubs; i++)
        gr_strvec_push(&ids, gh->subs[i].id);
    github_store_claim_due(gh, &ids, GITHUB_RETRY_BATCH, on_claimed, run);
    gr_strvec_free(&ids);
}
