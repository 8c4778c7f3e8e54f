/* github_internal.h: what the github plugin's files share.
 *
 *   module.c    descriptor, config, metrics, register/init/shutdown
 *   webhook.c   POST /api/github/webhook: verify, parse, store or spool, answer
 *   payload.c   turning a signed body into a parsed payload (off the loop when large)
 *   store.c     the SQL: storing deliveries, subscriber status, retries, listing
 *   spool.c     the local spool used while PostgreSQL is unreachable, and its import
 *   dispatch.c  subscriptions (github.events), handing deliveries over, retries
 *   routes.c    GET /api/github/deliveries
 *
 * Lifetime: the plugin state is created in register and freed once shutdown
 * has run and no database callback or handler answer is outstanding
 * (github_ref/github_unref), since both may arrive after shutdown. */
#ifndef GITHUB_INTERNAL_H
#define GITHUB_INTERNAL_H

#include <stdint.h>

#include <json-c/json.h>
#include <uv.h>

#include <greenroom/greenroom.h>

#include "github_events.h"
#include "util.h"

/* Bodies up to this size are verified and parsed on the loop: it takes
 * well under a millisecond.  Larger ones go to the thread pool. */
#define GITHUB_INLINE_BYTES (128u * 1024u)

/* How deep JSON may nest.  Real payloads nest about ten deep (a workflow
 * run inside a deployment inside a repository...); json-c's default of 32
 * would be near enough to that to refuse an unusual but genuine event. */
#define GITHUB_JSON_DEPTH 128

/* GitHub caps webhook payloads at 25 MB. */
#define GITHUB_DEFAULT_MAX_BODY ((size_t)25 * 1024 * 1024)
/* Deliveries stored by one insert statement at most (store.c). */
#define GITHUB_BATCH_MAX_ITEMS 64

typedef struct github_sub {
    char *id;
    char *event;  /* "*" for every event */
    char *action; /* NULL for any */
    github_event_handler_fn handler;
    void *user_data;
} github_sub_t;

typedef struct github_plugin {
    gr_context_t *ctx;
    github_events_t ep;
    int refs;
    int stopping;

    github_sub_t *subs;
    size_t nsubs, subs_cap;

    /* github.webhooks.* */
    size_t max_body;
    int max_attempts;
    uint64_t retry_initial_ms, retry_max_ms, retry_frequency_ms, handler_timeout_ms;
    uint64_t spool_frequency_ms;

    char *spool_dir;                /* NULL when the host gave no state directory */
    int spool_maybe_nonempty;       /* cleared by an import that found nothing */
    unsigned long spool_generation; /* deliveries spooled so far */

    /* The insert of n deliveries is insert_stmts[n - 1], or
     * plain_insert_stmts[n - 1] when none of them has a subscriber,
     * prepared on first use (store.c). */
    gr_db_stmt_t *insert_stmts[GITHUB_BATCH_MAX_ITEMS];
    gr_db_stmt_t *plain_insert_stmts[GITHUB_BATCH_MAX_ITEMS];
    gr_db_stmt_t *status_stmt;
    /* Deliveries waiting for the next batch insert (store.c). */
    struct insert_item *insert_head, *insert_tail;
    size_t insert_queued;
    int inserts_in_flight;
    uv_check_t insert_check; /* sends them once per loop turn */
    int insert_check_open;

    gr_metric_t *received; /* {event} */
    gr_metric_t *rejected; /* {reason} */
    gr_metric_t *spooled;
    gr_metric_t *duplicates;
    gr_metric_t *dispatched; /* {subscriber,status} */
} github_plugin_t;

void github_ref(github_plugin_t *gh);
void github_unref(github_plugin_t *gh);

/* Counts a refused delivery under reason. */
void github_count_rejected(github_plugin_t *gh, const char *reason);

/* ---- payload.c ------------------------------------------------------------ */

/* A delivery body on its way to being stored. */
typedef struct github_payload {
    const char *body; /* the signed bytes, borrowed */
    size_t len;
    const char *signature; /* X-Hub-Signature-256, or NULL: no check wanted */
    int form_encoded;      /* application/x-www-form-urlencoded: payload=<json> */
    int want_tree;         /* build `json` (a subscriber will read it) */
    /* Results. */
    int verify_status;     /* 0, GR_ERR_INVALID, GR_ERR_UNSUPPORTED; GR_ERR_CANCELED: not run */
    const char *json_text; /* the JSON text to store: body, or decoded */
    size_t json_len;
    char *decoded;            /* the form's payload field, decoded (owned) */
    int valid;                /* the text is one JSON object */
    struct json_object *json; /* the parsed object (owned) when want_tree, else NULL */
    char *action;             /* payload.action, or NULL */
    char error[200];          /* why it is not valid */
} github_payload_t;

typedef void (*github_payload_cb)(github_payload_t *p, void *user_data);

/* Checks that text is one JSON object without building a tree; action
 * spans the raw contents of its top-level "action" string, if any. */
typedef struct github_json_scan {
    const char *action;
    size_t action_len;
    int action_escaped; /* action holds a backslash escape */
    size_t error_offset;
} github_json_scan_t;
int github_json_scan(const char *text, size_t len, github_json_scan_t *out);

/* Verifies (when signature is set) and parses p, on the loop for a small
 * body and on the thread pool for a large one; cb runs on the loop, never
 * from inside this call for a large body.  Returns 0, or an error when the
 * work cannot be queued (the host is shutting down). */
int github_payload_process(github_plugin_t *gh, github_payload_t *p, github_payload_cb cb,
                           void *user_data, gr_error_t *err);
void github_payload_clear(github_payload_t *p);

/* ---- store.c ------------------------------------------------------------ */

/* From init: prepares the statements and the batching of inserts.  stop,
 * from shutdown, sends what still waits and releases what start made. */
int github_store_start(github_plugin_t *gh, gr_error_t *err);
void github_store_stop(github_plugin_t *gh);

/* What github_store_insert found. */
typedef enum github_store_result {
    GITHUB_STORED = 0,
    GITHUB_DUPLICATE,
    GITHUB_DB_DOWN, /* unreachable or shutting down: spool it */
    GITHUB_DB_ERROR
} github_store_result_t;

typedef void (*github_store_cb)(github_store_result_t result, int64_t row_id,
                                const gr_db_error_t *err, void *user_data);

/* Stores the delivery, and a pending status row for each of the matching
 * subscriptions, committed together with whatever else waits (see
 * store.c); cb learns whether it was new.  The strings are borrowed, not
 * copied (a payload is up to 25 MB): they must stay as they are until cb
 * runs, and json_text must end with a NUL at json_len. */
void github_store_insert(github_plugin_t *gh, const char *delivery_id, const char *event,
                         const char *action, const char *json_text, size_t json_len,
                         int64_t received_epoch_ms, int spooled, const gr_strvec_t *subscribers,
                         github_store_cb cb, void *user_data);

/* Records a handler's outcome for attempt number `attempt`.  next_delay_ms
 * is the wait before a retry, or -1 for none. */
void github_store_status(github_plugin_t *gh, int64_t row_id, const char *subscriber,
                         const char *status, int attempt, const char *error, int64_t next_delay_ms);

/* Claims up to limit due retries of these subscribers; cb gets rows of
 * (delivery row id, subscriber, attempt number, delivery_id, event, action,
 * payload). */
void github_store_claim_due(github_plugin_t *gh, const gr_strvec_t *subscribers, int limit,
                            gr_db_result_fn cb, void *user_data);

/* The newest `limit` deliveries (of `event` only, unless NULL); cb gets rows
 * of (delivery_id, event, action, received_at, spooled, subscribers JSON). */
void github_store_list(github_plugin_t *gh, int limit, const char *event, gr_db_result_fn cb,
                       void *user_data);

/* ---- spool.c ------------------------------------------------------------ */

typedef enum github_spool_result {
    GITHUB_SPOOL_WRITTEN = 0,
    GITHUB_SPOOL_DUPLICATE, /* already spooled under that delivery id */
    GITHUB_SPOOL_FAILED
} github_spool_result_t;

typedef void (*github_spool_cb)(github_spool_result_t result, const char *error, void *user_data);

/* Writes the delivery to its own file under the spool directory and fsyncs
 * it (and the directory) on the thread pool; cb runs on the loop after. */
void github_spool_write(github_plugin_t *gh, const char *delivery_id, const char *event,
                        int64_t received_epoch_ms, const char *json_text, size_t json_len,
                        github_spool_cb cb, void *user_data);

/* The scheduled task that moves spooled deliveries into the database. */
void github_spool_import_task(gr_task_t *task, void *user_data);

/* ---- dispatch.c ---------------------------------------------------------- */

int github_events_subscribe_impl(const github_events_t *self, const github_subscription_t *sub,
                                 size_t sub_size, gr_error_t *err);

/* True when some subscription takes this event (whatever its action). */
int github_dispatch_wants(const github_plugin_t *gh, const char *event);

/* The ids of the subscriptions matching event and action, appended to out. */
void github_dispatch_match(github_plugin_t *gh, const char *event, const char *action,
                           gr_strvec_t *out);

/* Hands a stored delivery to each of `subscribers` (ids from
 * github_dispatch_match or a retry), as attempt number attempt. */
void github_dispatch(github_plugin_t *gh, int64_t row_id, const char *delivery_id,
                     const char *event, const char *action, struct json_object *payload,
                     const char *subscriber, int attempt);

/* The scheduled task that retries failed (and timed-out) handlers. */
void github_retry_task(gr_task_t *task, void *user_data);

void github_subs_free(github_plugin_t *gh);

/* ---- webhook.c / routes.c ------------------------------------------------ */

void github_webhook_route(gr_http_request_t *req, void *user_data);
void github_deliveries_route(gr_http_request_t *req, void *user_data);

/* Wall-clock milliseconds since 1970, for received_at. */
int64_t github_epoch_ms(void);

#endif
