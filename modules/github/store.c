/* store.c: the plugin's SQL.  Every statement is one round trip; storing a
 * delivery and its subscribers' pending rows is a single statement, so it
 * commits (and is durable) before the webhook is answered. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "github_internal.h"

/* The delivery, unless its id is known, then one pending row per matching
 * subscriber.  Each is handed the delivery right after this commits, so
 * the row counts that first attempt and is due again only once the
 * handler's deadline passes (in case it never answers, or the host dies).
 * Returns the new row's id, or no row for a duplicate. */
static const char insert_sql[] =
    "WITH d AS ("
    " INSERT INTO deliveries (delivery_id, event, action, payload, received_at, spooled)"
    " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint / 1000.0), $6::boolean)"
    " ON CONFLICT (delivery_id) DO NOTHING RETURNING id),"
    " s AS ("
    " INSERT INTO delivery_subscribers (delivery, subscriber, attempts, next_attempt_at)"
    " SELECT d.id, unnest($7::text[]), 1, now() + $8::bigint * interval '1 millisecond'"
    " FROM d)"
    " SELECT id FROM d";

static const char status_sql[] =
    "UPDATE delivery_subscribers SET status = $3, attempts = $4::integer, error = $5,"
    " next_attempt_at = CASE WHEN $6::bigint IS NULL THEN NULL"
    " ELSE now() + $6::bigint * interval '1 millisecond' END, updated_at = now()"
    " WHERE delivery = $1::bigint AND subscriber = $2";

int github_store_prepare(github_plugin_t *gh, gr_error_t *err)
{
    gh->insert_stmt = gr_db_prepare(gh->ctx->db, insert_sql, err);
    if (!gh->insert_stmt)
        return err->code ? err->code : GR_ERR_INTERNAL;
    gh->status_stmt = gr_db_prepare(gh->ctx->db, status_sql, err);
    return gh->status_stmt ? 0 : (err->code ? err->code : GR_ERR_INTERNAL);
}

/* A PostgreSQL array literal of ids, which need no quoting: subscription
 * ids are letters, digits, '.', '_' and '-'. */
static char *array_literal(const gr_strvec_t *items)
{
    gr_buf_t b = {0};
    gr_buf_puts(&b, "{");
    for (size_t i = 0; items && i < items->len; i++)
        gr_buf_printf(&b, "%s%s", i ? "," : "", items->items[i]);
    gr_buf_puts(&b, "}");
    return gr_buf_steal(&b);
}

typedef struct insert_op {
    github_plugin_t *gh;
    github_store_cb cb;
    void *user_data;
} insert_op_t;

static void on_inserted(const gr_db_result_t *res, const gr_db_error_t *err, void *user_data)
{
    insert_op_t *op = user_data;
    int64_t row_id = 0;
    github_store_result_t result;
    if (err)
        result = err->code == GR_ERR_UNAVAILABLE || err->code == GR_ERR_CANCELED ? GITHUB_DB_DOWN
                                                                                 : GITHUB_DB_ERROR;
    else if (gr_db_result_rows(res) == 0)
        result = GITHUB_DUPLICATE;
    else
        result = gr_db_result_int64(res, 0, 0, &row_id) == 0 ? GITHUB_STORED : GITHUB_DB_ERROR;
    op->cb(result, row_id, err, op->user_data);
    github_unref(op->gh);
    free(op);
}

void github_store_insert(github_plugin_t *gh, const char *delivery_id, const char *event,
                         const char *action, const char *json_text, int64_t received_epoch_ms,
                         int spooled, const gr_strvec_t *subscribers, github_store_cb cb,
                         void *user_data)
{
    insert_op_t *op = gr_xcalloc(1, sizeof *op);
    *op = (insert_op_t){gh, cb, user_data};
    github_ref(gh);
    char received[32], timeout[32];
    snprintf(received, sizeof received, "%lld", (long long)received_epoch_ms);
    snprintf(timeout, sizeof timeout, "%llu", (unsigned long long)gh->handler_timeout_ms);
    char *subs = array_literal(subscribers);
    gr_db_execute(gh->ctx->db, gh->insert_stmt,
                  GR_DB_PARAMS(delivery_id, event, action, json_text, received,
                               spooled ? "true" : "false", subs, timeout),
                  on_inserted, op);
    free(subs);
}

typedef struct status_op {
    github_plugin_t *gh;
    char *subscriber;
    int64_t row_id;
} status_op_t;

static void on_status(const gr_db_result_t *res, const gr_db_error_t *err, void *user_data)
{
    (void)res;
    status_op_t *op = user_data;
    if (err && err->code != GR_ERR_CANCELED)
        gr_log_warn(op->gh->ctx->log,
                    "webhooks: could not record the outcome of subscriber '%s' for delivery row "
                    "%lld (it will be handed the delivery again when its deadline passes): %s",
                    op->subscriber, (long long)op->row_id, err->message);
    github_unref(op->gh);
    free(op->subscriber);
    free(op);
}

void github_store_status(github_plugin_t *gh, int64_t row_id, const char *subscriber,
                         const char *status, int attempt, const char *error,
                         int64_t next_delay_ms)
{
    status_op_t *op = gr_xcalloc(1, sizeof *op);
    op->gh = gh;
    op->subscriber = gr_xstrdup(subscriber);
    op->row_id = row_id;
    github_ref(gh);
    char row[32], attempts[16], delay[32];
    snprintf(row, sizeof row, "%lld", (long long)row_id);
    snprintf(attempts, sizeof attempts, "%d", attempt);
    snprintf(delay, sizeof delay, "%lld", (long long)next_delay_ms);
    gr_db_execute(gh->ctx->db, gh->status_stmt,
                  GR_DB_PARAMS(row, subscriber, status, attempts, error,
                               next_delay_ms < 0 ? NULL : delay),
                  on_status, op);
}

/* Claims due rows of the given subscribers: pushes their deadline out by
 * the handler timeout and counts the attempt, skipping rows another host
 * is claiming at the same moment. */
static const char claim_sql[] =
    "WITH due AS ("
    " SELECT delivery, subscriber FROM delivery_subscribers"
    " WHERE status <> 'succeeded' AND next_attempt_at <= now()"
    " AND subscriber = ANY($1::text[]) AND attempts < $3::integer"
    " ORDER BY next_attempt_at LIMIT $4::integer FOR UPDATE SKIP LOCKED)"
    " UPDATE delivery_subscribers s"
    " SET attempts = s.attempts + 1, updated_at = now(),"
    " next_attempt_at = now() + $2::bigint * interval '1 millisecond'"
    " FROM due, deliveries d"
    " WHERE s.delivery = due.delivery AND s.subscriber = due.subscriber AND d.id = s.delivery"
    " RETURNING s.delivery, s.subscriber, s.attempts, d.delivery_id, d.event, d.action,"
    " d.payload";

void github_store_claim_due(github_plugin_t *gh, const gr_strvec_t *subscribers, int limit,
                            gr_db_result_fn cb, void *user_data)
{
    char *subs = array_literal(subscribers);
    char timeout[32], max[16], lim[16];
    snprintf(timeout, sizeof timeout, "%llu", (unsigned long long)gh->handler_timeout_ms);
    snprintf(max, sizeof max, "%d", gh->max_attempts);
    snprintf(lim, sizeof lim, "%d", limit);
    gr_db_query(gh->ctx->db, claim_sql, GR_DB_PARAMS(subs, timeout, max, lim), cb, user_data);
    free(subs);
}

/* Newest first, each with its subscribers' status as a JSON array. */
static const char list_sql[] =
    "SELECT d.delivery_id, d.event, d.action,"
    " to_char(d.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
    " d.spooled,"
    " COALESCE((SELECT json_agg(json_build_object('id', s.subscriber, 'status', s.status,"
    " 'attempts', s.attempts, 'error', s.error, 'nextAttemptAt',"
    " to_char(s.next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))"
    " ORDER BY s.subscriber)"
    " FROM delivery_subscribers s WHERE s.delivery = d.id), '[]'::json)::text"
    " FROM deliveries d WHERE ($2::text IS NULL OR d.event = $2)"
    " ORDER BY d.received_at DESC, d.id DESC LIMIT $1::integer";

void github_store_list(github_plugin_t *gh, int limit, const char *event, gr_db_result_fn cb,
                       void *user_data)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    gr_db_query(gh->ctx->db, list_sql, GR_DB_PARAMS(lim, event), cb, user_data);
}
