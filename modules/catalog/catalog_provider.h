/* modules/catalog/catalog_provider.h: the catalog's "catalog.entity-provider"
 * extension point, the one header an entity provider module includes.
 *
 * A provider is a module of the catalog plugin (pluginId "catalog") that
 * reads entities from somewhere (a config repository, an API) and hands
 * them to the catalog.  In its descriptor it lists the extension point:
 *
 *     static const char *const uses[] = {CATALOG_ENTITY_PROVIDER_POINT, NULL};
 *     ... .kind = GR_KIND_MODULE, .plugin_id = "catalog", .module_id = "my-provider",
 *         .extension_points = uses, ...
 *
 * and in init it connects once per provider name:
 *
 *     const catalog_provider_api_t *api =
 *         gr_extension_point_get(ctx, CATALOG_ENTITY_PROVIDER_POINT);
 *     catalog_provider_t *p = catalog_provider_connect(api, ctx, "my-provider:main", err);
 *
 * Then, whenever it has read its source, it applies a mutation:
 *
 *   - full: the complete set of entities this provider emits.  Entities it
 *     emitted before and no longer does are removed; the rest are added,
 *     updated or left alone (same etag) as needed;
 *   - delta: entities to add or update, and refs to remove.
 *
 * A mutation runs in one database transaction, after the CPU-heavy part
 * (validation, refs, relations, etags, search rows) has run on the host's
 * thread pool.  Relations are derived by the catalog from each entity's
 * spec, as Backstage's BuiltinKindsEntityProcessor does, and every entity
 * whose relations change is re-stitched in the same transaction, so readers
 * see either the state before the mutation or the state after it.
 * Mutations of all providers run one at a time, in the order applied.
 *
 * An entity the catalog refuses (invalid, a ref owned by another provider,
 * or a duplicate inside the mutation) is left out and reported in the
 * result by its index in the input; the rest of the mutation applies.
 *
 * Any module of the catalog plugin may also read entities through the same
 * extension point, without being a provider and without SQL on the
 * catalog's tables (which are the catalog's own and change with it):
 *
 *     gr_error_t err;
 *     if (catalog_entities_read(api, "kind=component", "kind,metadata.name",
 *                               on_components, state, &err) != 0)
 *         ... err.message: a bad filter, or a catalog older than this header ...
 *
 * and, to notice later that the answer would differ, poll the matching
 * set's revision, which costs the database a small fraction of the read:
 *
 *     catalog_entities_revision(api, "kind=component", "kind,metadata.name",
 *                               on_revision, state, &err);
 *
 * Everything here runs on the loop thread; callbacks run later, never from
 * inside the call that asked for them, exactly once.  After the catalog
 * has shut down, calls fail with GR_ERR_CANCELED.
 */
#ifndef CATALOG_PROVIDER_H
#define CATALOG_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include <greenroom/greenroom.h>

struct json_object;

#define CATALOG_ENTITY_PROVIDER_POINT "catalog.entity-provider"
#define CATALOG_PROVIDER_API_VERSION 1u

/* One connected provider, owned by the catalog. */
typedef struct catalog_provider catalog_provider_t;

/* One entity of a mutation. */
typedef struct catalog_entity_input {
    /* The entity, shaped as Backstage's JSON.  The mutation takes over the
     * caller's reference: do not use or release the object afterwards.
     * Entities are prepared on several threads at once, so no two of them
     * (and nothing the caller keeps) may share a json_object. */
    struct json_object *entity;
    /* Backstage location ref of the file it came from ("file:/srv/repo/a.yaml",
     * "url:https://..."), served by GET /locations; may be NULL. */
    const char *location;
    /* Where a person finds it: a path relative to the source and a line
     * (1-based; 0 when unknown).  path may be NULL. */
    const char *source_path;
    uint32_t source_line;
} catalog_entity_input_t;

/* An entity the catalog left out of a mutation. */
typedef struct catalog_rejection {
    size_t index;        /* into the mutation's entity array */
    const char *path;    /* the field at fault ("spec.owner"), "" for the entity */
    const char *message; /* a full sentence */
} catalog_rejection_t;

/* What a mutation did.  Borrowed: valid during the callback only. */
typedef struct catalog_mutation_result {
    int status;          /* 0, or a gr_status_t: nothing was applied */
    const char *message; /* why, when status is not 0 */
    size_t added, updated, removed, unchanged;
    const catalog_rejection_t *rejected;
    size_t nrejected;
} catalog_mutation_result_t;

typedef void (*catalog_mutation_cb)(const catalog_mutation_result_t *result, void *user_data);

/* A provider's status document: status is NULL when none was saved yet
 * (borrowed; take a reference to keep it).  err is NULL on success. */
typedef void (*catalog_status_cb)(struct json_object *status, const gr_error_t *err,
                                  void *user_data);

/* A read's answer: entities is a JSON array of the matching entities,
 * sorted by ref, each as GET /api/catalog/entities serves it (relations
 * included) and projected to the fields asked for; revision is the
 * matching set's revision (see catalog_entities_revision), taken in the
 * same database snapshot as the entities.  Both are borrowed, valid during
 * the callback only: take a reference to the array to keep it, and it is
 * then the caller's alone (another thread may use it, one at a time).  On
 * failure both are NULL and err says why: GR_ERR_UNAVAILABLE (the database
 * cannot be reached), GR_ERR_CANCELED (the catalog is shutting down). */
typedef void (*catalog_entities_cb)(struct json_object *entities, const char *revision,
                                    const gr_error_t *err, void *user_data);

/* A revision's answer: revision is borrowed (copy it to keep it), NULL on
 * failure, when err says why. */
typedef void (*catalog_revision_cb)(const char *revision, const gr_error_t *err, void *user_data);

/* The table the catalog offers.  It only grows at its end: a module built
 * against a newer header checks `size` before it uses a newer member, which
 * the wrappers below do. */
typedef struct catalog_provider_api {
    uint32_t version; /* CATALOG_PROVIDER_API_VERSION */
    uint32_t size;    /* sizeof(catalog_provider_api_t) in the catalog */
    void *catalog;    /* the catalog's own state: pass the api, never this */

    catalog_provider_t *(*connect)(const struct catalog_provider_api *api, gr_context_t *ctx,
                                   const char *name, gr_error_t *err);
    void (*apply_full)(catalog_provider_t *p, catalog_entity_input_t *entities, size_t n,
                       catalog_mutation_cb cb, void *user_data);
    void (*apply_delta)(catalog_provider_t *p, catalog_entity_input_t *added, size_t nadded,
                        const char *const *removed_refs, size_t nremoved, catalog_mutation_cb cb,
                        void *user_data);
    void (*status_save)(catalog_provider_t *p, struct json_object *status, catalog_status_cb cb,
                        void *user_data);
    void (*status_load)(catalog_provider_t *p, catalog_status_cb cb, void *user_data);
    /* Reads, for any module of the catalog plugin. */
    int (*entities_read)(const struct catalog_provider_api *api, const char *filter,
                         const char *fields, catalog_entities_cb cb, void *user_data,
                         gr_error_t *err);
    int (*entities_revision)(const struct catalog_provider_api *api, const char *filter,
                             const char *fields, catalog_revision_cb cb, void *user_data,
                             gr_error_t *err);
} catalog_provider_api_t;

/* 1 when the catalog's table has `member`: a catalog older than this header
 * offers a shorter one. */
#define CATALOG_API_HAS(api, member)                                                               \
    ((api) && (api)->version == CATALOG_PROVIDER_API_VERSION &&                                    \
     (api)->size >= offsetof(catalog_provider_api_t, member) + sizeof((api)->member))

/* Registers a provider called `name` (unique in the catalog, such as
 * "central-config:platform-repo"; it is stored with every entity the
 * provider emits, so keep it stable).  Call it from init.  Returns a handle
 * that lives until the catalog shuts down, or NULL with err filled (an
 * unknown API version, a name already connected). */
static inline catalog_provider_t *catalog_provider_connect(const catalog_provider_api_t *api,
                                                           gr_context_t *ctx, const char *name,
                                                           gr_error_t *err)
{
    if (!api || api->version != CATALOG_PROVIDER_API_VERSION) {
        gr_error_set(err, GR_ERR_UNSUPPORTED,
                     "the catalog's entity-provider API is version %u; this module needs %u",
                     api ? api->version : 0u, CATALOG_PROVIDER_API_VERSION);
        return NULL;
    }
    return api->connect(api, ctx, name, err);
}

/* Replaces everything this provider emitted by entities[0..n).  Takes over
 * each entity's reference; the array and its strings may be freed on return. */
static inline void catalog_provider_apply_full(const catalog_provider_api_t *api,
                                               catalog_provider_t *p,
                                               catalog_entity_input_t *entities, size_t n,
                                               catalog_mutation_cb cb, void *user_data)
{
    api->apply_full(p, entities, n, cb, user_data);
}

/* Adds or updates added[0..nadded) and removes the entities whose refs
 * ("kind:namespace/name", any case) are in removed_refs, if this provider
 * owns them.  Same ownership rules as apply_full. */
static inline void catalog_provider_apply_delta(const catalog_provider_api_t *api,
                                                catalog_provider_t *p,
                                                catalog_entity_input_t *added, size_t nadded,
                                                const char *const *removed_refs, size_t nremoved,
                                                catalog_mutation_cb cb, void *user_data)
{
    api->apply_delta(p, added, nadded, removed_refs, nremoved, cb, user_data);
}

/* Keeps a JSON object describing the provider's last sync in the catalog's
 * database, so it survives restarts and every instance sees it.  Replaces
 * the previous document; does not take over `status` (it is serialised at
 * once).  cb may be NULL. */
static inline void catalog_provider_status_save(const catalog_provider_api_t *api,
                                                catalog_provider_t *p, struct json_object *status,
                                                catalog_status_cb cb, void *user_data)
{
    api->status_save(p, status, cb, user_data);
}

/* Reads the document saved last (NULL in cb when there is none). */
static inline void catalog_provider_status_load(const catalog_provider_api_t *api,
                                                catalog_provider_t *p, catalog_status_cb cb,
                                                void *user_data)
{
    api->status_load(p, cb, user_data);
}

/* Reads the entities that `filter` matches, with the syntax of one
 * ?filter= parameter of GET /api/catalog/entities: comma-separated
 * key=value conditions that must all hold ("kind=component,spec.type=
 * service"), a key alone for "has this field", the same key twice for
 * either value; keys are dotted paths, values compared in any case, as
 * Backstage does.  NULL or "" reads every entity.  `fields`, as the fields
 * parameter ("kind,metadata.name,metadata.annotations"), keeps only those
 * parts of each entity; NULL keeps all.  The catalog parses and projects
 * the entities on the host's thread pool, so a large answer costs the loop
 * only the copy of the database's rows.
 *
 * Returns 0 when cb will run, later and exactly once (after the catalog
 * has shut down, with GR_ERR_CANCELED).  Otherwise cb never runs and err
 * says why: GR_ERR_INVALID for a filter or fields the API would refuse
 * (Backstage's sentence) or no cb, GR_ERR_UNSUPPORTED when the catalog is
 * older than this header. */
static inline int catalog_entities_read(const catalog_provider_api_t *api, const char *filter,
                                        const char *fields, catalog_entities_cb cb, void *user_data,
                                        gr_error_t *err)
{
    if (!CATALOG_API_HAS(api, entities_read))
        return gr_error_set(err, GR_ERR_UNSUPPORTED,
                            "the catalog loaded is older than this module and offers no entity "
                            "reads: update the catalog module");
    return api->entities_read(api, filter, fields, cb, user_data, err);
}

/* The revision of what catalog_entities_read(api, filter, fields) would
 * answer now, without reading the entities: a short string that changes
 * when an entity enters or leaves the matching set or its provider changes
 * it (it gets a new metadata.etag), and, when fields is NULL or names
 * relations, also when the catalog re-stitches an entity's relations
 * because another entity changed.  While none of that happens it stays
 * the same, on every instance of the catalog; it may change when only
 * fields left out of the projection did.  Compare revisions for equality,
 * and only those asked with the same filter and fields.  Returns and fails
 * as catalog_entities_read. */
static inline int catalog_entities_revision(const catalog_provider_api_t *api, const char *filter,
                                            const char *fields, catalog_revision_cb cb,
                                            void *user_data, gr_error_t *err)
{
    if (!CATALOG_API_HAS(api, entities_revision))
        return gr_error_set(err, GR_ERR_UNSUPPORTED,
                            "the catalog loaded is older than this module and offers no entity "
                            "revisions: update the catalog module");
    return api->entities_revision(api, filter, fields, cb, user_data, err);
}

#endif
