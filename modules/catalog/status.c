/* modules/catalog/status.c: the providers' status documents, one JSON
 * object per provider in the provider_status table, written and read
 * through the entity-provider extension point. */
#include <stdlib.h>

#include "catalog_plugin.h"

/* ---- provider status documents --------------------------------------------------- */

typedef struct status_call {
    catalog_t *cat;
    catalog_status_cb cb;
    void *user_data;
} status_call_t;

static void status_saved(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    (void)res;
    status_call_t *c = ud;
    gr_error_t e = {0};
    if (err)
        gr_error_set(&e, err->code, "catalog: saving provider status: %s", err->message);
    if (c->cb)
        c->cb(NULL, err ? &e : NULL, c->user_data);
    catalog_unref(c->cat);
    free(c);
}

void catalog_store_status_save(catalog_t *cat, const char *provider, const char *json,
                               catalog_status_cb cb, void *user_data)
{
    status_call_t *c = gr_xcalloc(1, sizeof *c);
    *c = (status_call_t){cat, cb, user_data};
    catalog_ref(cat);
    gr_db_query(cat->ctx->db,
                "INSERT INTO provider_status (provider, status, updated_at) "
                "VALUES ($1, $2::jsonb, now()) ON CONFLICT (provider) DO UPDATE "
                "SET status = excluded.status, updated_at = excluded.updated_at",
                GR_DB_PARAMS(provider, json), status_saved, c);
}

static void status_loaded(const gr_db_result_t *res, const gr_db_error_t *err, void *ud)
{
    status_call_t *c = ud;
    gr_error_t e = {0};
    struct json_object *doc = NULL;
    if (err)
        gr_error_set(&e, err->code, "catalog: reading provider status: %s", err->message);
    else if (gr_db_result_rows(res) > 0 && gr_db_result_value(res, 0, 0))
        doc = json_tokener_parse(gr_db_result_value(res, 0, 0));
    if (c->cb)
        c->cb(doc, err ? &e : NULL, c->user_data);
    if (doc)
        json_object_put(doc);
    catalog_unref(c->cat);
    free(c);
}

void catalog_store_status_load(catalog_t *cat, const char *provider, catalog_status_cb cb,
                               void *user_data)
{
    status_call_t *c = gr_xcalloc(1, sizeof *c);
    *c = (status_call_t){cat, cb, user_data};
    catalog_ref(cat);
    gr_db_query(cat->ctx->db, "SELECT status::text FROM provider_status WHERE provider = $1",
                GR_DB_PARAMS(provider), status_loaded, c);
}
