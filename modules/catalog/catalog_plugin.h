/* modules/catalog/catalog_plugin.h: what the files of the catalog plugin
 * share.  The first half is pure (no host calls, safe on worker threads,
 * unit-tested in tests/catalog/): preparing entities for storage, search
 * rows, filters turned into SQL text, field projection, cursors.  The second
 * half is the plugin's state and the functions its units call each other
 * with, all on the loop thread. */
#ifndef CATALOG_PLUGIN_H
#define CATALOG_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <json.h>

#include <greenroom/greenroom.h>

#include "catalog_model.h"
#include "catalog_provider.h"
#include "util.h"

/* ---- search rows (search.c) ------------------------------------------------ */

/* Backstage's limits: longer keys are skipped, longer values stored as NULL. */
#define CATALOG_SEARCH_MAX_KEY 200
#define CATALOG_SEARCH_MAX_VALUE 200

/* One row of the search table: key is the lower-cased dotted path, value the
 * lower-cased text (NULL for null or too long), original the text as written
 * (NULL likewise), which entity facets count. */
typedef struct catalog_search_row {
    char *key;
    char *value;
    char *original;
} catalog_search_row_t;

typedef struct catalog_search_rows {
    catalog_search_row_t *items;
    size_t len, cap;
    char *strings; /* the items' keys and values, in one block */
} catalog_search_rows_t;

/* Flattens an entity as Backstage's buildEntitySearch does, without the
 * relations.* rows (the catalog adds those when it stitches relations):
 * every leaf under its dotted path, each string item of a list both as
 * "path" = item and "path.item" = "true", metadata.name, namespace and uid
 * always present, attachments, relations and status skipped, duplicate
 * (key, value) pairs dropped.  Lower-casing is ASCII only, the same on the
 * stored and the queried side.  Returns 0, or GR_ERR_INVALID with a sentence
 * in err when two keys differ only in case (Backstage refuses those). */
int catalog_search_rows_build(struct json_object *entity, catalog_search_rows_t *out,
                              gr_error_t *err);
void catalog_search_rows_free(catalog_search_rows_t *rows);

/* Sorts rows of the search table (row-major: entity_uid, key, value,
 * original_value) in the order of its (key, value) index.  Loaded in that
 * order, the table's rows are already sorted when the index is built after
 * a large load, and PostgreSQL's sort checks for that first: the build
 * then costs a third of what it does on rows grouped by entity. */
void catalog_search_table_rows_sort(const char **rows, size_t nrows);
/* Merges two arrays of such rows, each sorted so, into out (room for
 * na + nb rows); of equal rows, a's come first. */
void catalog_search_table_rows_merge(const char *const *a, size_t na, const char *const *b,
                                     size_t nb, const char **out);

/* ASCII lower-case copy (new string). */
char *catalog_lower(const char *s);

/* ---- preparing an entity for storage (prepare.c) --------------------------- */

/* Everything the catalog stores for one entity, computed off the loop. */
typedef struct catalog_prepared {
    char uid[CATALOG_UUID_LEN + 1];
    char etag[CATALOG_ETAG_LEN + 1];
    char *ref;  /* canonical, lower-case */
    char *kind; /* as written */
    char *namespace;
    char *name;
    char *body; /* canonical JSON with metadata.uid and metadata.etag, no relations */
    char *location;
    char *source_path;
    uint32_t source_line;
    catalog_relations_t relations; /* both directions, as the entity's spec implies */
    catalog_search_rows_t search;
    /* Set when the entity is refused: the field at fault and why. */
    int rejected;
    char *reject_path;
    char *reject_message;
} catalog_prepared_t;

/* The uid the catalog gives the entity called `ref` (canonical): a UUID
 * (version 8, RFC 9562) made from a SHA-256 of the ref, so an entity keeps
 * its uid across syncs, restarts and instances without a lookup. */
void catalog_uid_for_ref(const char *ref, char out[CATALOG_UUID_LEN + 1]);

/* Applies defaults, validates, derives ref, uid, relations, etag, body and
 * search rows.  Reads `entity` (and stamps uid and etag into it); does not
 * take it over.  A refused entity has rejected set and nothing else but
 * ref (when it had one) filled.  Safe on a worker thread. */
void catalog_prepare_entity(catalog_prepared_t *out, struct json_object *entity,
                            const char *location, const char *source_path, uint32_t source_line);
void catalog_prepared_free(catalog_prepared_t *p);

/* ---- stitching the written entities (stitch.c) ----------------------------- */

/* What the catalog stores for a written entity besides its prepared parts. */
typedef struct catalog_stitched {
    char *final_entity; /* body with its "relations" list added */
    size_t body_length; /* characters of the body, where its relations begin */
    /* Its relations.<type> search rows: nrows (key, value, original value)
     * triples, pointing into `strings`. */
    const char **rows;
    size_t nrows;
    char *strings;
} catalog_stitched_t;

/* Fills out[i] for written[i] (sorted by ref, no duplicates).  An entity's
 * relations are those of every written entity whose source is its ref, and
 * the rows of `external` (source, type, target: nexternal triples, the
 * relations stored entities imply for the written ones) whose source is
 * its ref; the same relation twice is listed once, sorted by type then
 * target, bytewise.  Pushes onto `others` (when not NULL) each ref that is
 * not written but is the source of a written entity's relation: its list
 * changed, and the caller re-stitches it.  Safe on a worker thread. */
void catalog_stitch_build(catalog_prepared_t *const *written, size_t nwritten,
                          const char *const *external, size_t nexternal, catalog_stitched_t *out,
                          gr_strvec_t *others);
void catalog_stitched_free(catalog_stitched_t *s);

/* ---- filters and SQL text (filter.c) --------------------------------------- */

/* One condition: key=value[,value...] (any of the values), or key alone
 * (the key exists).  Keys and values are lower-cased. */
typedef struct catalog_filter_cond {
    char *key;
    gr_strvec_t values; /* empty: the key only has to exist */
} catalog_filter_cond_t;

typedef struct catalog_filter_set { /* all conditions must hold */
    catalog_filter_cond_t *conds;
    size_t n;
} catalog_filter_set_t;

typedef struct catalog_filter { /* any set may hold; n == 0: no filter */
    catalog_filter_set_t *sets;
    size_t n;
} catalog_filter_t;

/* Parses Backstage's filter query values ("kind=component,spec.type=service",
 * one string per ?filter= parameter).  Returns 0, or GR_ERR_INVALID with
 * Backstage's sentence for a statement without a key. */
int catalog_filter_parse(catalog_filter_t *out, const char *const *strings, size_t n,
                         gr_error_t *err);
void catalog_filter_free(catalog_filter_t *f);

/* SQL text under construction with its parameters: values never enter the
 * text, only "$n" placeholders for them do. */
typedef struct catalog_sql {
    gr_buf_t text;
    gr_strvec_t params;
} catalog_sql_t;

void catalog_sql_append(catalog_sql_t *q, const char *fixed_text);
/* Appends "$n" for a new parameter holding a copy of value (NULL is NULL). */
void catalog_sql_param(catalog_sql_t *q, const char *value);
void catalog_sql_free(catalog_sql_t *q);

/* Appends a boolean SQL expression that holds when the entity whose uid is
 * in `uid_column` (a fixed identifier such as "e.uid") matches f; "TRUE"
 * for an empty filter. */
void catalog_sql_filter(catalog_sql_t *q, const catalog_filter_t *f, const char *uid_column);

/* Escapes LIKE's wildcards in a search term and wraps it in '%': the value of
 * a "value LIKE $n" parameter (new string, lower-cased). */
char *catalog_like_contains(const char *term);

/* ---- read-side SQL (store.c) ----------------------------------------------- */

struct catalog_cursor; /* cursor.c, below */

/* One "order=asc:metadata.name" of GET /entities (field lower-cased). */
typedef struct catalog_order {
    char *field;
    int descending;
} catalog_order_t;

/* GET /entities: rows of (final_entity).  limit < 0: no limit. */
void catalog_sql_entities(catalog_sql_t *q, const catalog_filter_t *f, const catalog_order_t *order,
                          size_t norder, int64_t limit, int64_t offset);

/* GET /entities/by-query: rows of (total, uid, value, final_entity) for the
 * page after (or, with c->previous, before) the cursor's position.  limit
 * is the number of rows to fetch; offset applies to a first request only. */
void catalog_sql_query(catalog_sql_t *q, const catalog_filter_t *f, const struct catalog_cursor *c,
                       int count_total, int64_t limit, int64_t offset);

/* POST /entities/by-refs: rows of (ref, final_entity) for the refs in
 * joined_refs (lower-cased, one per line). */
void catalog_sql_by_refs(catalog_sql_t *q, const char *joined_refs, const catalog_filter_t *f);

/* GET /entity-facets: rows of (key, original_value, count); facets
 * lower-cased. */
void catalog_sql_facets(catalog_sql_t *q, const gr_strvec_t *facets, const catalog_filter_t *f);

/* Reads through the extension point (read.c).  The revision of the
 * entities f matches: one row of one text column.  with_relations: the
 * revision also changes when an entity's relations are re-stitched. */
void catalog_sql_revision(catalog_sql_t *q, const catalog_filter_t *f, int with_relations);
/* Rows of (revision, final_entity) sorted by ref, the revision that of
 * catalog_sql_revision on the same snapshot; an empty set is one row with
 * a NULL final_entity. */
void catalog_sql_read(catalog_sql_t *q, const catalog_filter_t *f, int with_relations);

/* Prepared in init: rows of (final_entity). */
extern const char CATALOG_SQL_BY_REF[]; /* $1: canonical ref */
extern const char CATALOG_SQL_BY_UID[]; /* $1: uid */
extern const char CATALOG_SQL_LIST[];   /* $1: limit (NULL: all), $2: offset */

/* Rows of (id, location ref). */
extern const char CATALOG_SQL_LOCATIONS[];
extern const char CATALOG_SQL_LOCATION_BY_ID[];  /* $1: the id */
extern const char CATALOG_SQL_LOCATION_BY_REF[]; /* $1: an entity's canonical ref */

/* One row of (location ref, source path, source line, provider), any of the
 * first three NULL when the provider did not say. */
extern const char CATALOG_SQL_SOURCE_BY_REF[]; /* $1: an entity's canonical ref */

/* ---- field projection (fields.c) ------------------------------------------- */

/* The `fields` parameter: comma-separated dotted paths, any number of
 * strings.  n == 0 means the whole entity. */
typedef struct catalog_fields {
    gr_strvec_t paths;
} catalog_fields_t;

/* Adds the comma-separated paths of `text`.  Returns 0, or GR_ERR_INVALID
 * for a path with "[" (Backstage refuses array paths). */
int catalog_fields_add(catalog_fields_t *f, const char *text, gr_error_t *err);
void catalog_fields_free(catalog_fields_t *f);

/* A new object with only the listed parts of entity, Backstage's way: a path
 * part may itself contain dots ("metadata.annotations.backstage.io/x"), so
 * parts are joined until they name an existing key. */
struct json_object *catalog_fields_project(const catalog_fields_t *f, struct json_object *entity);

/* ---- base64 and cursors (cursor.c) ----------------------------------------- */

char *catalog_base64_encode(const char *data, size_t len); /* new string */
/* (Decoding: gr_base64_decode in util.h.) */

/* 1 when s is a UUID in its 8-4-4-4-12 hex form. */
int catalog_uuid_valid(const char *s);

/* The opaque cursor of GET /entities/by-query, which Backstage's client
 * hands back unchanged: base64 of this JSON. */
struct catalog_cursor {
    gr_strvec_t filter; /* the filter strings, as given */
    char *order_field;  /* lower-cased; NULL: by uid */
    int descending;
    char *text_term;         /* full-text term, NULL for none */
    gr_strvec_t text_fields; /* lower-cased */
    int has_position;        /* the row to continue after (or before) */
    int last_null;           /* its sort value was NULL */
    char *last_value;
    char *last_uid;
    int previous;  /* fetching the page before that row */
    int has_first; /* the first row of the first page, to know where prevCursor stops */
    int first_null;
    char *first_value;
    char *first_uid;
    int64_t total_items; /* -1: not counted yet */
};
typedef struct catalog_cursor catalog_cursor_t;

void catalog_cursor_init(catalog_cursor_t *c);
void catalog_cursor_free(catalog_cursor_t *c);
char *catalog_cursor_encode(const catalog_cursor_t *c); /* new base64 string */
int catalog_cursor_decode(catalog_cursor_t *c, const char *text, gr_error_t *err);

/* ---- the read cache (cache.c) ------------------------------------------------ */

typedef struct catalog_cache catalog_cache_t;

/* ttl_ms 0 disables the cache (every call then does nothing). */
catalog_cache_t *catalog_cache_new(uint64_t ttl_ms, size_t max_bytes);
void catalog_cache_free(catalog_cache_t *c);
/* Empties the cache and starts a new generation: reads begun before it do
 * not store their (older) answers. */
void catalog_cache_clear(catalog_cache_t *c);
uint64_t catalog_cache_generation(const catalog_cache_t *c);
/* The body stored under key and not expired at now_ms (borrowed until the
 * next call), or NULL. */
const char *catalog_cache_get(catalog_cache_t *c, const char *key, uint64_t now_ms, size_t *len);
/* Stores a copy of body under key, unless the cache was cleared since
 * `generation` was read. */
void catalog_cache_put(catalog_cache_t *c, uint64_t generation, const char *key, const char *body,
                       size_t len, uint64_t now_ms);

/* ---- the plugin (loop thread only) ------------------------------------------ */

typedef struct catalog_mutation catalog_mutation_t;

struct catalog_provider {
    struct catalog *cat;
    char *name;
    struct catalog_provider *next;
};

typedef struct catalog {
    gr_context_t *ctx;
    catalog_provider_api_t api;
    catalog_provider_t *providers;
    /* Operations in flight hold a reference; shutdown drops the first one
     * and the last one frees, so no late callback reads freed memory. */
    int refs;
    int stopping;
    int draining; /* the host began shutting down: end long mutations early */
    /* Mutations run one at a time, in order. */
    catalog_mutation_t *queue_head, *queue_tail;
    int mutating;
    catalog_cache_t *cache;
    gr_db_stmt_t *stmt_by_ref;
    gr_db_stmt_t *stmt_by_uid;
    gr_db_stmt_t *stmt_list;
    gr_metric_t *mutations_total;  /* labels: provider, result */
    gr_metric_t *mutation_seconds; /* label: provider */
    gr_metric_t *entities_changed; /* labels: provider, change */
} catalog_t;

void catalog_ref(catalog_t *cat);
void catalog_unref(catalog_t *cat);

/* provider.c: the extension point's functions. */
void catalog_provider_api_init(catalog_t *cat);
void catalog_providers_free(catalog_t *cat);
/* At shutdown (stopping set): answers every queued mutation "cancelled". */
void catalog_mutations_cancel(catalog_t *cat);

/* store_apply.c: runs one mutation in a transaction; done is called on the
 * loop with the result.  The items stay the caller's; an item whose ref
 * another provider owns is marked rejected. */
typedef struct catalog_apply {
    catalog_t *cat;
    const char *provider;
    int full;
    catalog_prepared_t **items; /* sorted by ref, duplicates already rejected */
    size_t nitems;
    gr_strvec_t removed_refs; /* delta: lower-cased refs to remove */
} catalog_apply_t;

typedef void (*catalog_apply_done_fn)(catalog_apply_t *apply, int status, const char *message,
                                      const size_t counts[4], void *user_data);

/* counts: added, updated, removed, unchanged. */
void catalog_store_apply(catalog_apply_t *apply, catalog_apply_done_fn done, void *user_data);

/* read.c: entities and revisions for other modules (the table's
 * entities_read and entities_revision). */
int catalog_read_entities(const catalog_provider_api_t *api, const char *filter, const char *fields,
                          catalog_entities_cb cb, void *user_data, gr_error_t *err);
int catalog_read_revision(const catalog_provider_api_t *api, const char *filter, const char *fields,
                          catalog_revision_cb cb, void *user_data, gr_error_t *err);

/* status.c: provider status documents. */
void catalog_store_status_save(catalog_t *cat, const char *provider, const char *json,
                               catalog_status_cb cb, void *user_data);
void catalog_store_status_load(catalog_t *cat, const char *provider, catalog_status_cb cb,
                               void *user_data);

/* routes.c */
int catalog_routes_add(catalog_t *cat, gr_error_t *err);

#endif
