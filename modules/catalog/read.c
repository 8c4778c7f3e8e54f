/* modules/catalog/read.c: entities and revisions for other modules, the
 * extension point's entities_read and entities_revision.
 *
 * A read is one statement (store.c): the matching set's revision and its
 * final entities, in one snapshot.  The loop copies the rows out of the
 * result; a worker parses each one and projects it to the fields asked
 * for, as GET /entities?fields= does, so a large answer does not hold the
 * loop.  A read holds a reference to the catalog until it answers, and
 * answers "cancelled" once the catalog has begun shutting down. */
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"

typedef struct read_op {
    catalog_t *cat;
    catalog_entities_cb entities_cb; /* a read */
    catalog_revision_cb revision_cb; /* a revision */
    void *user_data;
    catalog_fields_t fields;
    char *revision;
    /* The rows' final entities, one after the other with their NULs. */
    char *texts;
    size_t ntexts;
    /* Built by the worker. */
    struct json_object *entities;
    size_t unparsable;
    gr_error_t err;
} read_op_t;

/* Answers the caller, once, and ends the read. */
static void answer(read_op_t *op)
{
    catalog_t *cat = op->cat;
    const gr_error_t *err = op->err.code ? &op->err : NULL;
    if (op->entities_cb)
        op->entities_cb(err ? NULL : op->entities, err ? NULL : op->revision, err, op->user_data);
    else
        op->revision_cb(err ? NULL : op->revision, err, op->user_data);
    if (op->entities)
        json_object_put(op->entities);
    catalog_fields_free(&op->fields);
    free(op->revision);
    free(op->texts);
    free(op);
    catalog_unref(cat);
}

static void answer_canceled(void *arg)
{
    read_op_t *op = arg;
    gr_error_set(&op->err, GR_ERR_CANCELED, "catalog: the catalog is shutting down");
    answer(op);
}

static void parse_work(void *arg)
{
    read_op_t *op = arg;
    op->entities = json_object_new_array();
    json_tokener *tok = json_tokener_new();
    const char *p = op->texts;
    for (size_t i = 0; i < op->ntexts; i++) {
        size_t len = strlen(p);
        json_tokener_reset(tok);
        struct json_object *entity = json_tokener_parse_ex(tok, p, (int)len);
        p += len + 1;
        if (!entity || json_tokener_get_error(tok) != json_tokener_success) {
            json_object_put(entity);
            op->unparsable++;
            continue;
        }
        if (op->fields.paths.len) {
            struct json_object *projected = catalog_fields_project(&op->fields, entity);
            json_object_put(entity);
            entity = projected;
        }
        json_object_array_add(op->entities, entity);
    }
    json_tokener_free(tok);
    /* The texts are not needed any more: free them here, not on the loop. */
    free(op->texts);
    op->texts = NULL;
}

static void parse_done(void *arg, int status)
{
    read_op_t *op = arg;
    if (status != 0 || op->cat->stopping)
        gr_error_set(&op->err, GR_ERR_CANCELED, "catalog: the catalog is shutting down");
    else if (op->unparsable)
        /* Stored entities are written by the catalog from valid JSON; one
         * that does not parse is a bug, and a read that silently left it
         * out would mislead its caller. */
        gr_error_set(&op->err, GR_ERR_INTERNAL,
                     "catalog: %zu stored entities of the answer are not valid JSON",
                     op->unparsable);
    answer(op);
}

static void on_rows(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    read_op_t *op = ud;
    catalog_t *cat = op->cat;
    if (cat->stopping) {
        answer_canceled(op);
        return;
    }
    if (err) {
        gr_error_set(&op->err, err->code ? err->code : GR_ERR_INTERNAL,
                     "catalog: reading entities failed: %s", err->message);
        answer(op);
        return;
    }
    int rows = gr_db_result_rows(res);
    const char *revision = rows > 0 ? gr_db_result_value(res, 0, 0) : NULL;
    if (!revision) {
        gr_error_set(&op->err, GR_ERR_INTERNAL, "catalog: the revision query returned no row");
        answer(op);
        return;
    }
    op->revision = gr_xstrdup(revision);
    if (!op->entities_cb) {
        answer(op);
        return;
    }
    /* An empty set is one row without an entity. */
    gr_buf_t texts = {0};
    for (int i = 0; i < rows; i++) {
        const char *text = gr_db_result_value(res, i, 1);
        if (!text)
            continue;
        gr_buf_append(&texts, text, strlen(text) + 1);
        op->ntexts++;
    }
    op->texts = gr_buf_steal(&texts);
    gr_error_t werr = {0};
    if (gr_work_submit(cat->ctx, parse_work, parse_done, op, &werr) != 0) {
        /* The host refuses work only once it is shutting down. */
        gr_error_set(&op->err, GR_ERR_CANCELED, "catalog: %s", werr.message);
        answer(op);
    }
}

/* Parses the arguments, common to both calls, into a new read holding a
 * reference to the catalog.  Returns 0, or the error that refuses them. */
static int read_new(catalog_t *cat, const char *filter, const char *fields,
                    catalog_filter_t *parsed, read_op_t **out, gr_error_t *err)
{
    *parsed = (catalog_filter_t){0};
    int rc = filter && *filter ? catalog_filter_parse(parsed, &filter, 1, err) : 0;
    if (rc != 0)
        return rc;
    read_op_t *op = gr_xcalloc(1, sizeof *op);
    rc = fields ? catalog_fields_add(&op->fields, fields, err) : 0;
    if (rc != 0) {
        catalog_fields_free(&op->fields);
        catalog_filter_free(parsed);
        free(op);
        return rc;
    }
    op->cat = cat;
    catalog_ref(cat);
    *out = op;
    return 0;
}

/* 1 when the answer holds relations: the whole entity, or a field under
 * "relations". */
static int with_relations(const catalog_fields_t *fields)
{
    if (fields->paths.len == 0)
        return 1;
    for (size_t i = 0; i < fields->paths.len; i++) {
        const char *p = fields->paths.items[i];
        if (strncmp(p, "relations", 9) == 0 && (p[9] == '\0' || p[9] == '.'))
            return 1;
    }
    return 0;
}

/* Sends the statement, or answers "cancelled" on a later turn when the
 * catalog has begun shutting down. */
static void read_start(read_op_t *op, const catalog_filter_t *filter)
{
    catalog_t *cat = op->cat;
    if (cat->stopping) {
        gr_loop_defer(cat->ctx->loop, answer_canceled, op);
        return;
    }
    catalog_sql_t q = {0};
    if (op->entities_cb)
        catalog_sql_read(&q, filter, with_relations(&op->fields));
    else
        catalog_sql_revision(&q, filter, with_relations(&op->fields));
    gr_db_query(cat->ctx->db, q.text.data, (int)q.params.len, (const char *const *)q.params.items,
                on_rows, op);
    catalog_sql_free(&q);
}

int catalog_read_entities(const catalog_provider_api_t *api, const char *filter, const char *fields,
                          catalog_entities_cb cb, void *user_data, gr_error_t *err)
{
    if (!cb)
        return gr_error_set(err, GR_ERR_INVALID, "catalog: a read needs a callback");
    catalog_filter_t parsed;
    read_op_t *op = NULL;
    int rc = read_new(api->catalog, filter, fields, &parsed, &op, err);
    if (rc != 0)
        return rc;
    op->entities_cb = cb;
    op->user_data = user_data;
    read_start(op, &parsed);
    catalog_filter_free(&parsed);
    return 0;
}

int catalog_read_revision(const catalog_provider_api_t *api, const char *filter, const char *fields,
                          catalog_revision_cb cb, void *user_data, gr_error_t *err)
{
    if (!cb)
        return gr_error_set(err, GR_ERR_INVALID, "catalog: a revision query needs a callback");
    catalog_filter_t parsed;
    read_op_t *op = NULL;
    int rc = read_new(api->catalog, filter, fields, &parsed, &op, err);
    if (rc != 0)
        return rc;
    op->revision_cb = cb;
    op->user_data = user_data;
    read_start(op, &parsed);
    catalog_filter_free(&parsed);
    return 0;
}
