/* modules/catalog-provider-central-config/routes.c: the sync status API,
 * under /api/central-config/ (the paths users already have):
 *
 *   GET  /last-sync[?provider=<id>]  the last sync of one provider (by
 *                                    default the one that ran last)
 *   GET  /status                     every provider, with its schedule
 *   POST /refresh[?provider=<id>]    runs the sync now (all providers by
 *                                    default); 202 with the ids triggered
 *
 * Status documents come from the catalog's database, so every instance
 * answers the same; "running" and "nextRunAt" are this instance's view. */
#include <stdlib.h>
#include <string.h>

#include "central_config.h"

typedef struct status_req {
    cc_module_t *m;
    gr_http_request_t *req;
    int all;                  /* /status: every provider; /last-sync: one */
    const char *only;         /* /last-sync?provider= */
    size_t next;              /* the provider whose status is read next */
    struct json_object *docs; /* one per provider, in order */
} status_req_t;

/* The provider's document with this instance's live fields added. */
static struct json_object *with_live_fields(cc_provider_t *p, struct json_object *doc)
{
    struct json_object *out = NULL;
    if (doc) {
        json_object_deep_copy(doc, &out, NULL);
    } else {
        out = json_object_new_object();
        json_object_object_add(out, "providerId", json_object_new_string(p->id));
        cc_sync_status_pending(&p->sync, out);
    }
    cc_sync_status_live(&p->sync, out);
    return out;
}

static const char *attempt_of(struct json_object *doc)
{
    struct json_object *v;
    if (doc && json_object_object_get_ex(doc, "lastAttempt", &v) &&
        json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "";
}

static void read_next(status_req_t *sr);

static void finish(status_req_t *sr)
{
    cc_module_t *m = sr->m;
    if (sr->all) {
        struct json_object *body = json_object_new_object();
        json_object_object_add(body, "providers", json_object_get(sr->docs));
        gr_http_respond_json(sr->req, 200, body);
    } else {
        /* The provider asked for, or the one whose sync started last. */
        struct json_object *best = NULL;
        for (size_t i = 0; i < json_object_array_length(sr->docs); i++) {
            struct json_object *d = json_object_array_get_idx(sr->docs, i);
            if (!best || strcmp(attempt_of(d), attempt_of(best)) > 0)
                best = d;
        }
        gr_http_respond_json(sr->req, 200, json_object_get(best));
    }
    json_object_put(sr->docs);
    free(sr);
    cc_module_unref(m);
}

static cc_provider_t *nth_provider(cc_module_t *m, size_t i)
{
    cc_provider_t *p = m->providers;
    while (p && i--)
        p = p->next;
    return p;
}

static void on_status(struct json_object *status, const gr_error_t *err, void *ud)
{
    status_req_t *sr = ud;
    if (err) {
        gr_http_respond_error(sr->req, err->code == GR_ERR_UNAVAILABLE ? 503 : 500, "%s",
                              err->message);
        json_object_put(sr->docs);
        cc_module_t *m = sr->m;
        free(sr);
        cc_module_unref(m);
        return;
    }
    cc_provider_t *p = nth_provider(sr->m, sr->next - 1);
    json_object_array_add(sr->docs, with_live_fields(p, status));
    read_next(sr);
}

static void read_next(status_req_t *sr)
{
    cc_module_t *m = sr->m;
    while (sr->next < m->nproviders) {
        cc_provider_t *p = nth_provider(m, sr->next++);
        if (sr->only && strcmp(sr->only, p->id) != 0)
            continue;
        catalog_provider_status_load(m->catalog, p->catalog, on_status, sr);
        return;
    }
    finish(sr);
}

static void start_status(cc_module_t *m, gr_http_request_t *req, int all)
{
    const char *only = all ? NULL : gr_http_query(req, "provider", 0);
    if (m->nproviders == 0) {
        gr_http_respond_error(req, 404,
                              "no central-config provider is configured: add one under "
                              "catalog.providers.centralConfig");
        return;
    }
    if (only && !cc_provider_find(m, only)) {
        gr_http_respond_error(req, 404, "no central-config provider '%s'", only);
        return;
    }
    status_req_t *sr = gr_xcalloc(1, sizeof *sr);
    sr->m = m;
    sr->req = req;
    sr->all = all;
    sr->only = only;
    sr->docs = json_object_new_array();
    cc_module_ref(m);
    read_next(sr);
}

static void last_sync(gr_http_request_t *req, void *ud)
{
    start_status(ud, req, 0);
}

static void status(gr_http_request_t *req, void *ud)
{
    start_status(ud, req, 1);
}

static void refresh(gr_http_request_t *req, void *ud)
{
    cc_module_t *m = ud;
    const char *only = gr_http_query(req, "provider", 0);
    size_t len = 0;
    const char *text = gr_http_body(req, &len);
    struct json_object *body = NULL, *v;
    if (!only && len && text[0] == '{') {
        gr_error_t err = {0};
        body = gr_http_body_json(req, &err);
        if (body && json_object_object_get_ex(body, "provider", &v) &&
            json_object_is_type(v, json_type_string))
            only = json_object_get_string(v);
    }
    if (only && !cc_provider_find(m, only)) {
        gr_http_respond_error(req, 404, "no central-config provider '%s'", only);
        return;
    }
    struct json_object *triggered = json_object_new_array();
    for (cc_provider_t *p = m->providers; p; p = p->next) {
        if (only && strcmp(only, p->id) != 0)
            continue;
        gr_error_t err = {0};
        if (gr_scheduler_trigger(m->ctx->scheduler, p->task_id, &err) != 0) {
            json_object_put(triggered);
            gr_http_respond_error(req, err.code == GR_ERR_CANCELED ? 503 : 500, "%s", err.message);
            return;
        }
        json_object_array_add(triggered, json_object_new_string(p->id));
    }
    struct json_object *out = json_object_new_object();
    json_object_object_add(out, "triggered", triggered);
    gr_http_respond_json(req, 202, out);
}

int cc_routes_add(cc_module_t *m, gr_router_t *router, gr_error_t *err)
{
    int rc = gr_router_add(router, "GET", "/last-sync", last_sync, m, err);
    if (rc == 0)
        rc = gr_router_add(router, "GET", "/status", status, m, err);
    if (rc == 0)
        rc = gr_router_add(router, "POST", "/refresh", refresh, m, err);
    return rc;
}
