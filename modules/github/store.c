/* store.c: the plugin's SQL.
 *
 * Storing deliveries is group-committed: deliveries whose requests complete
 * in the same loop turn are sent together from a check handle, and one that
 * arrives while GITHUB_INSERTS_IN_FLIGHT batches are already on their way
 * waits for the next one.  Each batch is a single statement (so a single
 * commit, and one WAL flush) for all the deliveries that waited.  At low
 * load a delivery goes alone, in the turn it arrived; under load the
 * flushes and the server's per-statement work are shared.  Every
 * delivery is answered only after the commit of the batch that carried it.
 * A batch that fails for any reason but an unreachable database is split
 * and its deliveries sent one by one, so one bad delivery cannot sink the
 * others. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "github_internal.h"

/* Batches on their way to the server at once. */
#define GITHUB_INSERTS_IN_FLIGHT 4
/* Bound on the bytes of one batch, so one statement stays a reasonable size
 * (GITHUB_BATCH_MAX_ITEMS, in github_internal.h, bounds its rows). */
#define GITHUB_BATCH_MAX_BYTES ((size_t)32 * 1024 * 1024)

/* A column of a VALUES row: its parameter, with what goes around it. */
typedef struct value_column {
    const char *before, *after;
} value_column_t;

/* The columns of each delivery in the insert statement, and in the plain
 * one (the same but the subscribers, with the time converted in place). */
static const value_column_t insert_columns[] = {
    {"$", "::text"},   {"$", "::text"},    {"$", "::text"}, {"$", "::text"},
    {"$", "::bigint"}, {"$", "::boolean"}, {"$", "::text"}};
static const value_column_t plain_insert_columns[] = {
    {"$", "::text"}, {"$", "::text"}, {"$", "::text"}, {"$", "::text"},
    {"to_timestamp($", "::bigint / 1000.0)"}, {"$", "::boolean"}};
#define GITHUB_INSERT_COLUMNS (sizeof insert_columns / sizeof insert_columns[0])
#define GITHUB_PLAIN_INSERT_COLUMNS (sizeof plain_insert_columns / sizeof plain_insert_columns[0])

/* n VALUES rows of these columns, numbering parameters from first. */
static void append_value_rows(gr_buf_t *b, size_t n, size_t first, const value_column_t *columns,
                              size_t ncolumns)
{
    for (size_t i = 0; i < n; i++) {
        gr_buf_puts(b, i ? ", (" : "(");
        for (size_t c = 0; c < ncolumns; c++)
            gr_buf_printf(b, "%s%s%zu%s", c ? ", " : "", columns[c].before,
                          first + i * ncolumns + c, columns[c].after);
        gr_buf_puts(b, ")");
    }
}

/* The insert statement for a batch of n deliveries: the deliveries (unless
 * their id is known) and one pending row per matching subscriber.  Each
 * subscriber is handed its delivery right after the commit, so the row
 * counts that first attempt and is due again only once the handler's
 * deadline passes (in case it never answers, or the host dies).  Returns
 * the id and delivery id of each new row; a delivery id given twice in one
 * batch is stored once.
 *
 * $1 is the handler timeout in milliseconds; each delivery then has its
 * own parameters in a VALUES row.  Plain text parameters cost the server
 * nothing to read, where arrays (one statement for every size) cost the
 * host escaping every payload and the server parsing it back: measured,
 * that was a tenth of the server's time per delivery. */
static char *insert_sql_for(size_t n)
{
    gr_buf_t b = {0};
    gr_buf_puts(&b, "WITH input (delivery_id, event, action, payload, received_ms, spooled, subs)"
                    " AS (VALUES ");
    append_value_rows(&b, n, 2, insert_columns, GITHUB_INSERT_COLUMNS);
    gr_buf_puts(
        &b,
        "), d AS ("
        " INSERT INTO deliveries (delivery_id, event, action, payload, received_at, spooled)"
        " SELECT delivery_id, event, action, payload, to_timestamp(received_ms / 1000.0), spooled"
        " FROM input ON CONFLICT (delivery_id) DO NOTHING RETURNING id, delivery_id),"
        " s AS ("
        " INSERT INTO delivery_subscribers (delivery, subscriber, attempts, next_attempt_at)"
        " SELECT d.id, unnest(string_to_array(i.subs, ',')), 1,"
        " now() + $1::bigint * interval '1 millisecond'"
        " FROM d JOIN (SELECT DISTINCT ON (delivery_id) delivery_id, subs FROM input) i"
        " ON i.delivery_id = d.delivery_id)"
        " SELECT id, delivery_id FROM d");
    return gr_buf_steal(&b);
}

/* The insert for a batch of n deliveries of which none has a subscriber,
 * the usual case while no module subscribes to the events GitHub sends:
 * the deliveries alone, straight from VALUES, which costs the server about
 * a sixth less per row than the statement above (measured with pgbench on
 * 8-row batches).  ON CONFLICT DO NOTHING also skips the second of two rows
 * with the same delivery id in one statement. */
static char *plain_insert_sql_for(size_t n)
{
    gr_buf_t b = {0};
    gr_buf_puts(&b, "INSERT INTO deliveries (delivery_id, event, action, payload, received_at,"
                    " spooled) VALUES ");
    append_value_rows(&b, n, 1, plain_insert_columns, GITHUB_PLAIN_INSERT_COLUMNS);
    gr_buf_puts(&b, " ON CONFLICT (delivery_id) DO NOTHING RETURNING id, delivery_id");
    return gr_buf_steal(&b);
}

static const char status_sql[] =
    "UPDATE delivery_subscribers SET status = $3, attempts = $4::integer, error = $5,"
    " next_attempt_at = CASE WHEN $6::bigint IS NULL THEN NULL"
    " ELSE now() + $6::bigint * interval '1 millisecond' END, updated_at = now()"
    " WHERE delivery = $1::bigint AND subscriber = $2";

int github_store_start(github_plugin_t *gh, gr_error_t *err)
{
    gh->status_stmt = gr_db_prepare(gh->ctx->db, status_sql, err);
    if (!gh->status_stmt)
        return err->code ? err->code : GR_ERR_INTERNAL;
    uv_check_init(gh->ctx->loop, &gh->insert_check);
    gh->insert_check.data = gh;
    gh->insert_check_open = 1;
    github_ref(gh);
    return 0;
}

/* The prepared insert for n deliveries, plain or not, made on first use:
 * each connection prepares only the sizes the load brings. */
static const gr_db_stmt_t *insert_stmt(github_plugin_t *gh, size_t n, int plain)
{
    gr_db_stmt_t **stmt = plain ? &gh->plain_insert_stmts[n - 1] : &gh->insert_stmts[n - 1];
    if (!*stmt) {
        char *sql = plain ? plain_insert_sql_for(n) : insert_sql_for(n);
        gr_error_t err = {0};
        *stmt = gr_db_prepare(gh->ctx->db, sql, &err);
        free(sql);
    }
    return *stmt;
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

/* One delivery waiting to be stored; its strings are the caller's. */
typedef struct insert_item {
    struct insert_item *next;
    const char *delivery_id, *event, *action, *payload;
    size_t payload_len;
    char received_ms[24]; /* epoch milliseconds, as the statement's parameter */
    int spooled;
    char *subs;                   /* comma-separated subscription ids */
    int solo;                     /* send alone (a failed batch is being split) */
    github_store_result_t result; /* decided when its batch returns */
    int64_t row_id;
    github_store_cb cb;
    void *user_data;
} insert_item_t;

typedef struct insert_batch {
    github_plugin_t *gh;
    insert_item_t *items;
    size_t count;
} insert_batch_t;

static void item_free(insert_item_t *it)
{
    free(it->subs);
    free(it);
}

static void insert_schedule(github_plugin_t *gh);

static void item_answer(github_plugin_t *gh, insert_item_t *it, github_store_result_t result,
                        int64_t row_id, const gr_db_error_t *err)
{
    it->cb(result, row_id, err, it->user_data);
    item_free(it);
    github_unref(gh);
}

static void on_batch(const gr_db_result_t *res, const gr_db_error_t *err, void *user_data)
{
    insert_batch_t *batch = user_data;
    github_plugin_t *gh = batch->gh;
    gh->inserts_in_flight--;
    insert_item_t *it = batch->items, *next;
    if (err && err->code != GR_ERR_UNAVAILABLE && err->code != GR_ERR_CANCELED &&
        batch->count > 1) {
        /* Some delivery in it was refused: find which by sending each alone,
         * ahead of what is already waiting. */
        insert_item_t *last = it;
        for (;;) {
            last->solo = 1;
            if (!last->next)
                break;
            last = last->next;
        }
        last->next = gh->insert_head;
        if (!gh->insert_head)
            gh->insert_tail = last;
        gh->insert_head = it;
        gh->insert_queued += batch->count;
        free(batch);
        insert_schedule(gh);
        github_unref(gh);
        return;
    }
    /* Decide every item's outcome before answering any, since an answer
     * frees its item.  The first item of a delivery id gets the new row; a
     * second one in the same batch, or one already stored, is a duplicate. */
    github_store_result_t down =
        err && (err->code == GR_ERR_UNAVAILABLE || err->code == GR_ERR_CANCELED) ? GITHUB_DB_DOWN
                                                                                 : GITHUB_DB_ERROR;
    int rows = err ? 0 : gr_db_result_rows(res);
    for (insert_item_t *a = it; a && !err; a = a->next) {
        a->result = GITHUB_DUPLICATE;
        for (int i = 0; i < rows; i++) {
            const char *id = gr_db_result_value(res, i, 1);
            if (id && strcmp(id, a->delivery_id) == 0 &&
                gr_db_result_int64(res, i, 0, &a->row_id) == 0) {
                a->result = GITHUB_STORED;
                break;
            }
        }
        for (insert_item_t *prev = it; prev != a && a->result == GITHUB_STORED; prev = prev->next)
            if (strcmp(prev->delivery_id, a->delivery_id) == 0)
                a->result = GITHUB_DUPLICATE;
    }
    for (; it; it = next) {
        next = it->next;
        item_answer(gh, it, err ? down : it->result, err ? 0 : it->row_id, err);
    }
    free(batch);
    insert_schedule(gh);
    github_unref(gh);
}

/* Sends what waits, while fewer than GITHUB_INSERTS_IN_FLIGHT batches are
 * on their way. */
static void insert_flush(github_plugin_t *gh)
{
    while (gh->insert_head && gh->inserts_in_flight < GITHUB_INSERTS_IN_FLIGHT) {
        insert_batch_t *batch = gr_xcalloc(1, sizeof *batch);
        batch->gh = gh;
        insert_item_t **tail = &batch->items;
        size_t bytes = 0;
        while (
            gh->insert_head && batch->count < GITHUB_BATCH_MAX_ITEMS &&
            (batch->count == 0 || (!gh->insert_head->solo && bytes + gh->insert_head->payload_len <=
                                                                 GITHUB_BATCH_MAX_BYTES))) {
            insert_item_t *it = gh->insert_head;
            gh->insert_head = it->next;
            it->next = NULL;
            *tail = it;
            tail = &it->next;
            batch->count++;
            bytes += it->payload_len;
            if (it->solo)
                break;
        }
        if (!gh->insert_head)
            gh->insert_tail = NULL;
        gh->insert_queued -= batch->count;

        int plain = 1;
        for (insert_item_t *it = batch->items; it && plain; it = it->next)
            plain = it->subs[0] == '\0';
        char timeout[32];
        snprintf(timeout, sizeof timeout, "%llu", (unsigned long long)gh->handler_timeout_ms);
        size_t nparams = plain ? batch->count * GITHUB_PLAIN_INSERT_COLUMNS
                               : 1 + batch->count * GITHUB_INSERT_COLUMNS;
        const char **params = gr_xcalloc(nparams, sizeof *params);
        size_t k = 0;
        if (!plain)
            params[k++] = timeout;
        for (insert_item_t *it = batch->items; it; it = it->next) {
            params[k++] = it->delivery_id;
            params[k++] = it->event;
            params[k++] = it->action;
            params[k++] = it->payload;
            params[k++] = it->received_ms;
            params[k++] = it->spooled ? "true" : "false";
            if (!plain)
                params[k++] = it->subs;
        }
        gh->inserts_in_flight++;
        github_ref(gh);
        gr_db_execute(gh->ctx->db, insert_stmt(gh, batch->count, plain), (int)nparams, params,
                      on_batch, batch);
        free(params);
    }
}

/* Deliveries are sent from a check handle, which runs once per loop turn
 * after the I/O callbacks: every delivery whose request completed in the
 * same turn goes in one batch. */
static void on_insert_check(uv_check_t *check)
{
    github_plugin_t *gh = check->data;
    uv_check_stop(check);
    insert_flush(gh);
}

static void insert_schedule(github_plugin_t *gh)
{
    if (!gh->insert_check_open)
        insert_flush(gh); /* shutting down: nothing more will join them */
    else if (gh->insert_head && gh->inserts_in_flight < GITHUB_INSERTS_IN_FLIGHT)
        uv_check_start(&gh->insert_check, on_insert_check);
}

static void on_insert_check_closed(uv_handle_t *h)
{
    github_unref(h->data);
}

void github_store_stop(github_plugin_t *gh)
{
    if (!gh->insert_check_open)
        return;
    gh->insert_check_open = 0;
    uv_close((uv_handle_t *)&gh->insert_check, on_insert_check_closed);
    /* What waits goes now: the database is stopped only after the plugins. */
    insert_flush(gh);
}

void github_store_insert(github_plugin_t *gh, const char *delivery_id, const char *event,
                         const char *action, const char *json_text, size_t json_len,
                         int64_t received_epoch_ms, int spooled, const gr_strvec_t *subscribers,
                         github_store_cb cb, void *user_data)
{
    insert_item_t *it = gr_xcalloc(1, sizeof *it);
    it->delivery_id = delivery_id;
    it->event = event;
    it->action = action;
    it->payload = json_text;
    it->payload_len = json_len;
    snprintf(it->received_ms, sizeof it->received_ms, "%lld", (long long)received_epoch_ms);
    it->spooled = spooled;
    gr_buf_t subs = {0};
    for (size_t i = 0; subscribers && i < subscribers->len; i++)
        gr_buf_printf(&subs, "%s%s", i ? "," : "", subscribers->items[i]);
    it->subs = subs.data ? gr_buf_steal(&subs) : gr_xstrdup("");
    it->cb = cb;
    it->user_data = user_data;
    github_ref(gh);
    if (gh->insert_tail)
        gh->insert_tail->next = it;
    else
        gh->insert_head = it;
    gh->insert_tail = it;
    gh->insert_queued++;
    insert_schedule(gh);
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
                         const char *status, int attempt, const char *error, int64_t next_delay_ms)
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
    gr_db_execute(
        gh->ctx->db, gh->status_stmt,
        GR_DB_PARAMS(row, subscriber, status, attempts, error, next_delay_ms < 0 ? NULL : delay),
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
