/* modules/catalog/provider.c: the "catalog.entity-provider" extension
 * point: connecting providers, queueing their mutations, preparing the
 * entities on the thread pool, and reporting what each mutation did. */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "catalog_plugin.h"

/* Entities are prepared in up to this many pieces at once, so a large sync
 * uses every thread-pool thread; below PREPARE_MIN_CHUNK entities a second
 * piece costs more than it saves. */
#define PREPARE_MAX_CHUNKS 4
#define PREPARE_MIN_CHUNK 256

struct catalog_mutation {
    catalog_t *cat;
    catalog_provider_t *provider;
    int full;
    catalog_entity_input_t *inputs; /* entity references owned; strings copied */
    size_t ninputs;
    gr_strvec_t removed_refs;
    catalog_prepared_t *items; /* one per input, same index */
    size_t chunks_left;
    catalog_mutation_cb cb;
    void *user_data;
    uint64_t start_ms;
    catalog_mutation_t *next;
};

typedef struct prepare_chunk {
    catalog_mutation_t *m;
    size_t lo, hi;
} prepare_chunk_t;

/* ---- results ------------------------------------------------------------------ */

static void mutation_free(catalog_mutation_t *m)
{
    for (size_t i = 0; i < m->ninputs; i++) {
        if (m->inputs[i].entity)
            json_object_put(m->inputs[i].entity);
        free((char *)m->inputs[i].location);
        free((char *)m->inputs[i].source_path);
    }
    free(m->inputs);
    if (m->items) {
        for (size_t i = 0; i < m->ninputs; i++)
            catalog_prepared_free(&m->items[i]);
        free(m->items);
    }
    gr_strvec_free(&m->removed_refs);
    free(m);
}

static void run_next(catalog_t *cat);

static void free_work(void *arg)
{
    mutation_free(arg);
}

static void free_done(void *arg, int status)
{
    if (status != 0) /* cancelled before it ran */
        mutation_free(arg);
}

/* A large mutation holds a million small allocations (parsed entities,
 * search rows); freeing them takes a while, so a worker does it and the
 * loop goes on to the provider's next step. */
static void mutation_dispose(catalog_mutation_t *m)
{
    gr_error_t err = {0};
    if (m->ninputs < PREPARE_MIN_CHUNK ||
        gr_work_submit(m->cat->ctx, free_work, free_done, m, &err) != 0)
        mutation_free(m);
}

static void finish(catalog_mutation_t *m, int status, const char *message, const size_t counts[4])
{
    catalog_t *cat = m->cat;
    catalog_mutation_result_t result = {.status = status, .message = message};
    if (counts) {
        result.added = counts[0];
        result.updated = counts[1];
        result.removed = counts[2];
        result.unchanged = counts[3];
    }
    catalog_rejection_t *rejected = NULL;
    size_t nrejected = 0;
    for (size_t i = 0; m->items && i < m->ninputs; i++)
        nrejected += m->items[i].rejected;
    if (nrejected) {
        rejected = gr_xcalloc(nrejected, sizeof *rejected);
        size_t k = 0;
        for (size_t i = 0; i < m->ninputs; i++)
            if (m->items[i].rejected)
                rejected[k++] =
                    (catalog_rejection_t){i, m->items[i].reject_path, m->items[i].reject_message};
    }
    result.rejected = rejected;
    result.nrejected = nrejected;

    const char *provider = m->provider->name;
    const char *labels[] = {provider, status == 0 ? "succeeded" : "failed"};
    gr_metric_inc(gr_metric_labels(cat->mutations_total, labels));
    gr_metric_observe(gr_metric_labels(cat->mutation_seconds, labels),
                      (double)(gr_now_ms() - m->start_ms) / 1000.0);
    /* What this host serves from its read cache is now out of date. */
    if (status == 0 && result.added + result.updated + result.removed)
        catalog_cache_clear(cat->cache);
    if (status == 0) {
        static const char *const changes[] = {"added", "updated", "removed"};
        for (size_t i = 0; i < 3; i++) {
            const char *cl[] = {provider, changes[i]};
            gr_metric_add(gr_metric_labels(cat->entities_changed, cl), (double)counts[i]);
        }
        gr_log_info(cat->ctx->log,
                    "%s: %s mutation applied: %zu added, %zu updated, %zu removed, %zu unchanged, "
                    "%zu refused",
                    provider, m->full ? "full" : "delta", result.added, result.updated,
                    result.removed, result.unchanged, nrejected);
    } else {
        gr_log_warn(cat->ctx->log, "%s: mutation failed, nothing applied: %s", provider, message);
    }
    if (m->cb)
        m->cb(&result, m->user_data);
    free(rejected);
    mutation_dispose(m);
    cat->mutating = 0;
    run_next(cat);
    catalog_unref(cat);
}

/* ---- the pipeline: prepare (thread pool), then store (one transaction) ---- */

static void applied(catalog_apply_t *apply, int status, const char *message, const size_t counts[4],
                    void *user_data)
{
    catalog_mutation_t *m = user_data;
    free(apply->items);
    gr_strvec_free(&apply->removed_refs);
    free(apply);
    finish(m, status, message, counts);
}

static int cmp_prepared(const void *a, const void *b)
{
    const catalog_prepared_t *x = *(catalog_prepared_t *const *)a;
    const catalog_prepared_t *y = *(catalog_prepared_t *const *)b;
    int c = strcmp(x->ref, y->ref);
    return c ? c : (x < y ? -1 : x > y);
}

static void store(catalog_mutation_t *m)
{
    catalog_t *cat = m->cat;
    /* Sort by ref, keeping input order among equal refs: the first wins. */
    catalog_prepared_t **sorted = gr_xmalloc((m->ninputs ? m->ninputs : 1) * sizeof *sorted);
    size_t n = 0;
    for (size_t i = 0; i < m->ninputs; i++)
        if (!m->items[i].rejected)
            sorted[n++] = &m->items[i];
    qsort(sorted, n, sizeof *sorted, cmp_prepared);
    catalog_apply_t *apply = gr_xcalloc(1, sizeof *apply);
    apply->cat = cat;
    apply->provider = m->provider->name;
    apply->full = m->full;
    apply->items = gr_xmalloc((n ? n : 1) * sizeof *apply->items);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(sorted[i]->ref, sorted[i - 1]->ref) == 0) {
            size_t first = (size_t)(sorted[i - 1] - m->items);
            char *msg = gr_xasprintf("%s appears twice in this provider's entities; the first one "
                                     "(entity #%zu) is kept",
                                     sorted[i]->ref, first + 1);
            sorted[i]->rejected = 1;
            sorted[i]->reject_path = gr_xstrdup("");
            sorted[i]->reject_message = msg;
            continue;
        }
        apply->items[apply->nitems++] = sorted[i];
    }
    free(sorted);
    for (size_t i = 0; i < m->removed_refs.len; i++)
        gr_strvec_push(&apply->removed_refs, m->removed_refs.items[i]);
    catalog_store_apply(apply, applied, m);
}

static void prepare_work(void *arg)
{
    prepare_chunk_t *c = arg;
    catalog_mutation_t *m = c->m;
    for (size_t i = c->lo; i < c->hi; i++) {
        catalog_entity_input_t *in = &m->inputs[i];
        catalog_prepare_entity(&m->items[i], in->entity, in->location, in->source_path,
                               in->source_line);
    }
}

static void prepare_done(void *arg, int status)
{
    prepare_chunk_t *c = arg;
    catalog_mutation_t *m = c->m;
    free(c);
    /* A cancelled chunk never ran: the host is shutting down. */
    if (status != 0)
        m->full = -1;
    if (--m->chunks_left)
        return;
    if (m->full < 0 || m->cat->stopping || m->cat->draining) {
        finish(m, GR_ERR_CANCELED, "the catalog is shutting down", NULL);
        return;
    }
    gr_log_debug(m->cat->ctx->log, "%s: prepared %zu entities in %llu ms", m->provider->name,
                 m->ninputs, (unsigned long long)(gr_now_ms() - m->start_ms));
    store(m);
}

static void start(catalog_mutation_t *m)
{
    catalog_t *cat = m->cat;
    cat->mutating = 1;
    m->start_ms = gr_now_ms();
    m->items = gr_xcalloc(m->ninputs ? m->ninputs : 1, sizeof *m->items);
    size_t chunks = m->ninputs / PREPARE_MIN_CHUNK;
    if (chunks < 1)
        chunks = 1;
    if (chunks > PREPARE_MAX_CHUNKS)
        chunks = PREPARE_MAX_CHUNKS;
    size_t per = (m->ninputs + chunks - 1) / chunks;
    m->chunks_left = chunks;
    for (size_t k = 0; k < chunks; k++) {
        prepare_chunk_t *c = gr_xcalloc(1, sizeof *c);
        c->m = m;
        c->lo = k * per < m->ninputs ? k * per : m->ninputs;
        c->hi = (k + 1) * per < m->ninputs ? (k + 1) * per : m->ninputs;
        gr_error_t err = {0};
        if (gr_work_submit(cat->ctx, prepare_work, prepare_done, c, &err) == 0)
            continue;
        /* Refused (the host is shutting down): this chunk and the ones not
         * submitted yet will never report, so count them out here. */
        free(c);
        m->full = -1;
        m->chunks_left -= chunks - k;
        if (m->chunks_left == 0)
            finish(m, GR_ERR_CANCELED, err.message, NULL);
        return;
    }
}

static void run_next(catalog_t *cat)
{
    if (cat->mutating || !cat->queue_head)
        return;
    catalog_mutation_t *m = cat->queue_head;
    cat->queue_head = m->next;
    if (!cat->queue_head)
        cat->queue_tail = NULL;
    if (cat->stopping || cat->draining) {
        cat->mutating = 1;
        finish(m, GR_ERR_CANCELED, "the catalog is shutting down", NULL);
        return;
    }
    start(m);
}

void catalog_mutations_cancel(catalog_t *cat)
{
    run_next(cat);
}

static void run_next_deferred(void *arg)
{
    catalog_t *cat = arg;
    run_next(cat);
    catalog_unref(cat);
}

static void enqueue(catalog_provider_t *p, int full, catalog_entity_input_t *inputs, size_t n,
                    const char *const *removed, size_t nremoved, catalog_mutation_cb cb,
                    void *user_data)
{
    catalog_t *cat = p->cat;
    catalog_mutation_t *m = gr_xcalloc(1, sizeof *m);
    m->cat = cat;
    m->provider = p;
    m->full = full;
    m->cb = cb;
    m->user_data = user_data;
    m->ninputs = n;
    m->inputs = gr_xcalloc(n ? n : 1, sizeof *m->inputs);
    for (size_t i = 0; i < n; i++) {
        m->inputs[i].entity = inputs[i].entity;
        m->inputs[i].location = inputs[i].location ? gr_xstrdup(inputs[i].location) : NULL;
        m->inputs[i].source_path = inputs[i].source_path ? gr_xstrdup(inputs[i].source_path) : NULL;
        m->inputs[i].source_line = inputs[i].source_line;
    }
    for (size_t i = 0; i < nremoved; i++)
        if (removed[i])
            gr_strvec_push_owned(&m->removed_refs, catalog_lower(removed[i]));
    catalog_ref(cat); /* held by the mutation until finish */
    if (cat->queue_tail)
        cat->queue_tail->next = m;
    else
        cat->queue_head = m;
    cat->queue_tail = m;
    /* Start on a later loop turn, so the callback never runs inside this call. */
    catalog_ref(cat);
    gr_loop_defer(cat->ctx->loop, run_next_deferred, cat);
}

/* ---- the extension point's table ------------------------------------------ */

static catalog_provider_t *ep_connect(const catalog_provider_api_t *api, gr_context_t *ctx,
                                      const char *name, gr_error_t *err)
{
    catalog_t *cat = api->catalog;
    if (!name || !*name) {
        gr_error_set(err, GR_ERR_INVALID, "catalog: a provider needs a name");
        return NULL;
    }
    for (catalog_provider_t *p = cat->providers; p; p = p->next)
        if (strcmp(p->name, name) == 0) {
            gr_error_set(err, GR_ERR_CONFLICT,
                         "catalog: an entity provider named '%s' is already connected; provider "
                         "names must be unique",
                         name);
            return NULL;
        }
    catalog_provider_t *p = gr_xcalloc(1, sizeof *p);
    p->cat = cat;
    p->name = gr_xstrdup(name);
    p->next = cat->providers;
    cat->providers = p;
    gr_log_info(cat->ctx->log, "entity provider '%s' connected (module %s)", name,
                ctx && ctx->module_id ? ctx->module_id : "?");
    return p;
}

static void ep_apply_full(catalog_provider_t *p, catalog_entity_input_t *entities, size_t n,
                          catalog_mutation_cb cb, void *user_data)
{
    enqueue(p, 1, entities, n, NULL, 0, cb, user_data);
}

static void ep_apply_delta(catalog_provider_t *p, catalog_entity_input_t *added, size_t nadded,
                           const char *const *removed_refs, size_t nremoved, catalog_mutation_cb cb,
                           void *user_data)
{
    enqueue(p, 0, added, nadded, removed_refs, nremoved, cb, user_data);
}

typedef struct status_refused {
    catalog_t *cat;
    catalog_status_cb cb;
    void *user_data;
} status_refused_t;

static void status_refused_fire(void *arg)
{
    status_refused_t *r = arg;
    gr_error_t err;
    gr_error_set(&err, GR_ERR_CANCELED, "the catalog is shutting down");
    if (r->cb)
        r->cb(NULL, &err, r->user_data);
    catalog_unref(r->cat);
    free(r);
}

static int refuse_status(catalog_t *cat, catalog_status_cb cb, void *user_data)
{
    if (!cat->stopping)
        return 0;
    status_refused_t *r = gr_xcalloc(1, sizeof *r);
    *r = (status_refused_t){cat, cb, user_data};
    catalog_ref(cat);
    gr_loop_defer(cat->ctx->loop, status_refused_fire, r);
    return 1;
}

static void ep_status_save(catalog_provider_t *p, struct json_object *status, catalog_status_cb cb,
                           void *user_data)
{
    if (refuse_status(p->cat, cb, user_data))
        return;
    catalog_store_status_save(p->cat, p->name,
                              json_object_to_json_string_ext(status, JSON_C_TO_STRING_PLAIN), cb,
                              user_data);
}

static void ep_status_load(catalog_provider_t *p, catalog_status_cb cb, void *user_data)
{
    if (refuse_status(p->cat, cb, user_data))
        return;
    catalog_store_status_load(p->cat, p->name, cb, user_data);
}

void catalog_provider_api_init(catalog_t *cat)
{
    cat->api = (catalog_provider_api_t){
        .version = CATALOG_PROVIDER_API_VERSION,
        .size = sizeof(catalog_provider_api_t),
        .catalog = cat,
        .connect = ep_connect,
        .apply_full = ep_apply_full,
        .apply_delta = ep_apply_delta,
        .status_save = ep_status_save,
        .status_load = ep_status_load,
        .entities_read = catalog_read_entities,
        .entities_revision = catalog_read_revision,
    };
}

void catalog_providers_free(catalog_t *cat)
{
    for (catalog_provider_t *p = cat->providers, *next; p; p = next) {
        next = p->next;
        free(p->name);
        free(p);
    }
    cat->providers = NULL;
}
