/* store.c: the plugin's SQL.
 *
 * Storing deliveries is group-committed: a delivery that arrives while
 * GITHUB_INSERTS_IN_FLIGHT batches are already on their way waits for the
 * next one, and each batch is a single statement (so a single commit, and
 * one WAL flush) for all the deliveries that waited.  At low load a
 * delivery goes alone and at once; under load the flushes are shared, which
 * is what keeps intake near PostgreSQL's own single-row insert rate.  Every
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
/* Bounds on one batch, so one statement stays a reasonable size. */
#define GITHUB_BATCH_MAX_ITEMS 500
#define GITHUB_BATCH_MAX_BYTES ((size_t)32 * 1024 * 1024)

/* The deliveries (unless their id is known) and one pending row per
 * matching subscriber.  Each subscriber is handed its delivery right after
 * the commit, so the row counts that first attempt and is due again only
 * once the handler's deadline passes (in case it never answers, or the host
 * dies).  Returns the id and delivery id of each new row; a delivery id
 * given twice in one batch is stored once. */
static const char insert_sql[] =
    "WITH input AS ("
    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[],"
    " $6::boolean[], $7::text[])"
    " AS t(delivery_id, event, action, payload, received_ms, spooled, subs)),"
    " d AS ("
    " INSERT INTO deliveries (delivery_id, event, action, payload, received_at, spooled)"
    " SELECT delivery_id, event, action, payload, to_timestamp(received_ms / 1000.0), spooled"
    " FROM input ON CONFLICT (delivery_id) DO NOTHING RETURNING id, delivery_id),"
    " s AS ("
    " INSERT INTO delivery_subscribers (delivery, subscriber, attempts, next_attempt_at)"
    " SELECT d.id, unnest(string_to_array(i.subs, ',')), 1,"
    " now() + $8::bigint * interval '1 millisecond'"
    " FROM d JOIN (SELECT DISTINCT ON (delivery_id) delivery_id, subs FROM input) i"
    " ON i.delivery_id = d.delivery_id)"
    " SELECT id, delivery_id FROM d";

/* The same for a batch of one, with plain parameters: most batches are one
 * delivery until the load is high, and this spares the server parsing
 * array literals. */
static const char insert_one_sql[] =
    "WITH d AS ("
    " INSERT INTO deliveries (delivery_id, event, action, payload, received_at, spooled)"
    " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint / 1000.0), $6::boolean)"
    " ON CONFLICT (delivery_id) DO NOTHING RETURNING id, delivery_id),"
    " s AS ("
    " INSERT INTO delivery_subscribers (delivery, subscriber, attempts, next_attempt_at)"
    " SELECT d.id, unnest(string_to_array($7, ',')), 1,"
    " now() + $8::bigint * interval '1 millisecond' FROM d)"
    " SELECT id, delivery_id FROM d";

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
    gh->insert_one_stmt = gr_db_prepare(gh->ctx->db, insert_one_sql, err);
    if (!gh->insert_one_stmt)
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

/* Appends one element to an array literal being built ("{" already there):
 * NULL, or the text double-quoted with '"' and '\' escaped. */
static void array_add(gr_buf_t *b, const char *s)
{
    if (b->len > 1)
        gr_buf_append(b, ",", 1);
    if (!s) {
        gr_buf_puts(b, "NULL");
        return;
    }
    gr_buf_append(b, "\"", 1);
    for (;;) {
        size_t span = strcspn(s, "\"\\");
        gr_buf_append(b, s, span);
        s += span;
        if (!*s)
            break;
        gr_buf_append(b, "\\", 1);
        gr_buf_append(b, s, 1);
        s++;
    }
    gr_buf_append(b, "\"", 1);
}

/* One delivery waiting to be stored. */
typedef struct insert_item {
    struct insert_item *next;
    char *delivery_id, *event, *action, *payload;
    size_t payload_len;
    int64_t received;
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
    free(it->delivery_id);
    free(it->event);
    free(it->action);
    free(it->payload);
    free(it->subs);
    free(it);
}

static void insert_flush(github_plugin_t *gh);

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
        insert_flush(gh);
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
    insert_flush(gh);
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

        char timeout[32];
        snprintf(timeout, sizeof timeout, "%llu", (unsigned long long)gh->handler_timeout_ms);
        gh->inserts_in_flight++;
        github_ref(gh);
        if (batch->count == 1) {
            insert_item_t *it = batch->items;
            char received[32];
            snprintf(received, sizeof received, "%lld", (long long)it->received);
            gr_db_execute(gh->ctx->db, gh->insert_one_stmt,
                          GR_DB_PARAMS(it->delivery_id, it->event, it->action, it->payload,
                                       received, it->spooled ? "true" : "false", it->subs, timeout),
                          on_batch, batch);
            continue;
        }
        gr_buf_t ids = {0}, events = {0}, actions = {0}, payloads = {0}, received = {0},
                 spooled = {0}, subs = {0};
        gr_buf_t *all[] = {&ids, &events, &actions, &payloads, &received, &spooled, &subs};
        for (size_t i = 0; i < 7; i++)
            gr_buf_puts(all[i], "{");
        gr_buf_reserve(&payloads, bytes + bytes / 8 + 16);
        for (insert_item_t *it = batch->items; it; it = it->next) {
            char num[32];
            array_add(&ids, it->delivery_id);
            array_add(&events, it->event);
            array_add(&actions, it->action);
            array_add(&payloads, it->payload);
            snprintf(num, sizeof num, "%lld", (long long)it->received);
            array_add(&received, num);
            array_add(&spooled, it->spooled ? "t" : "f");
            array_add(&subs, it->subs);
        }
        for (size_t i = 0; i < 7; i++)
            gr_buf_puts(all[i], "}");
        gr_db_execute(gh->ctx->db, gh->insert_stmt,
                      GR_DB_PARAMS(ids.data, events.data, actions.data, payloads.data,
                                   received.data, spooled.data, subs.data, timeout),
                      on_batch, batch);
        for (size_t i = 0; i < 7; i++)
            gr_buf_free(all[i]);
    }
}

void github_store_insert(github_plugin_t *gh, const char *delivery_id, const char *event,
                         const char *action, const char *json_text, size_t json_len,
                         int64_t received_epoch_ms, int spooled, const gr_strvec_t *subscribers,
                         github_store_cb cb, void *user_data)
{
    insert_item_t *it = gr_xcalloc(1, sizeof *it);
    it->delivery_id = gr_xstrdup(delivery_id);
    it->event = gr_xstrdup(event);
    it->action = action ? gr_xstrdup(action) : NULL;
    it->payload = gr_xstrndup(json_text, json_len);
    it->payload_len = json_len;
    it->received = received_epoch_ms;
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
    insert_flush(gh);
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
