/* modules/catalog/store.c: the catalog's read-side SQL (the queries behind
 * the API, built from fixed text and "$n" placeholders only).  The writes
 * of a mutation live in store_apply.c, the providers' status documents in
 * status.c, the tables in migrations/.  Nothing here calls the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"

/* ---- the hot paths, prepared once per connection -------------------------------- */

const char CATALOG_SQL_BY_REF[] = "SELECT final_entity FROM entities WHERE ref = $1";
const char CATALOG_SQL_BY_UID[] = "SELECT final_entity FROM entities WHERE uid = $1";
/* LIMIT NULL is no limit. */
const char CATALOG_SQL_LIST[] = "SELECT final_entity FROM entities ORDER BY ref LIMIT $1 OFFSET $2";

/* ---- query text ------------------------------------------------------------------ */

/* Joins the lower-cased value of search key `field` to entity `alias` as
 * <join_alias>.v: the sort key of "order" and "orderField".  Aggregated
 * once over the key's rows (which the (key, value) index finds) rather
 * than looked up per entity, so the search table needs no second index. */
static void join_sort_value(catalog_sql_t *q, const char *alias, const char *join_alias,
                            const char *field)
{
    catalog_sql_append(q,
                       " LEFT JOIN (SELECT entity_uid, min(value) AS v FROM search WHERE key = ");
    catalog_sql_param(q, field);
    catalog_sql_append(q, " GROUP BY entity_uid) ");
    catalog_sql_append(q, join_alias);
    catalog_sql_append(q, " ON ");
    catalog_sql_append(q, join_alias);
    catalog_sql_append(q, ".entity_uid = ");
    catalog_sql_append(q, alias);
    catalog_sql_append(q, ".uid");
}

static void int_param(catalog_sql_t *q, int64_t v)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)v);
    catalog_sql_param(q, text);
}

void catalog_sql_entities(catalog_sql_t *q, const catalog_filter_t *f, const catalog_order_t *order,
                          size_t norder, int64_t limit, int64_t offset)
{
    /* At most a few order fields: o0, o1, ... */
    char alias[32];
    catalog_sql_append(q, "SELECT e.final_entity FROM entities e");
    for (size_t i = 0; i < norder; i++) {
        snprintf(alias, sizeof alias, "o%zu", i);
        join_sort_value(q, "e", alias, order[i].field);
    }
    catalog_sql_append(q, " WHERE ");
    catalog_sql_filter(q, f, "e.uid");
    catalog_sql_append(q, " ORDER BY ");
    for (size_t i = 0; i < norder; i++) {
        snprintf(alias, sizeof alias, "o%zu.v", i);
        catalog_sql_append(q, alias);
        catalog_sql_append(q, order[i].descending ? " DESC NULLS LAST, " : " ASC NULLS LAST, ");
    }
    catalog_sql_append(q, "e.ref");
    if (limit >= 0) {
        catalog_sql_append(q, " LIMIT ");
        int_param(q, limit);
    }
    if (offset > 0) {
        catalog_sql_append(q, " OFFSET ");
        int_param(q, offset);
    }
}

/* Rows come back as (total, uid, value, final_entity).  The logical order
 * is by the sort value (NULLs last) then uid, in the cursor's direction; a
 * page before the position is fetched in reverse and flipped by the caller.
 * Counting wraps the page in a join to the count, so an empty page still
 * returns the total in one row whose uid is NULL. */
void catalog_sql_query(catalog_sql_t *q, const catalog_filter_t *f, const catalog_cursor_t *c,
                       int count_total, int64_t limit, int64_t offset)
{
    catalog_sql_append(q, "WITH filtered AS (SELECT e.uid, e.final_entity, ");
    catalog_sql_append(q, c->order_field ? "o.v" : "NULL::text");
    catalog_sql_append(q, " AS value FROM entities e");
    if (c->order_field)
        join_sort_value(q, "e", "o", c->order_field);
    catalog_sql_append(q, " WHERE ");
    catalog_sql_filter(q, f, "e.uid");
    if (c->text_term && *c->text_term) {
        catalog_sql_append(q, " AND e.uid IN (SELECT entity_uid FROM search WHERE key IN (");
        if (c->text_fields.len) {
            for (size_t i = 0; i < c->text_fields.len; i++) {
                if (i)
                    catalog_sql_append(q, ", ");
                catalog_sql_param(q, c->text_fields.items[i]);
            }
        } else {
            catalog_sql_param(q, c->order_field ? c->order_field : "metadata.uid");
        }
        catalog_sql_append(q, ") AND value LIKE ");
        char *like = catalog_like_contains(c->text_term);
        catalog_sql_param(q, like);
        free(like);
        catalog_sql_append(q, ")");
    }
    catalog_sql_append(q, ") ");

    if (count_total)
        catalog_sql_append(q, "SELECT c.total, p.uid, p.value, p.final_entity FROM "
                              "(SELECT count(*) AS total FROM filtered) c LEFT JOIN LATERAL ("
                              "SELECT f.uid, f.value, f.final_entity FROM filtered f WHERE ");
    else
        catalog_sql_append(q, "SELECT NULL::bigint AS total, f.uid, f.value, f.final_entity "
                              "FROM filtered f WHERE ");

    int backwards = c->previous;
    int desc = c->descending;
    /* "after" in the direction rows are fetched in. */
    int greater = backwards ? desc : !desc;
    if (c->has_position && c->order_field) {
        catalog_sql_append(q, backwards ? "((f.value IS NULL) < " : "((f.value IS NULL) > ");
        catalog_sql_param(q, c->last_null ? "true" : "false");
        catalog_sql_append(q, " OR ((f.value IS NULL) = ");
        catalog_sql_param(q, c->last_null ? "true" : "false");
        catalog_sql_append(q, greater ? " AND (coalesce(f.value, ''), f.uid) > ("
                                      : " AND (coalesce(f.value, ''), f.uid) < (");
        catalog_sql_param(q, c->last_null || !c->last_value ? "" : c->last_value);
        catalog_sql_append(q, ", ");
        catalog_sql_param(q, c->last_uid);
        catalog_sql_append(q, "::uuid)))");
    } else if (c->has_position) {
        catalog_sql_append(q, greater ? "f.uid > " : "f.uid < ");
        catalog_sql_param(q, c->last_uid);
        catalog_sql_append(q, "::uuid");
    } else {
        catalog_sql_append(q, "TRUE");
    }

    catalog_sql_append(q, " ORDER BY ");
    if (c->order_field) {
        catalog_sql_append(q, backwards ? "(f.value IS NULL) DESC, " : "(f.value IS NULL) ASC, ");
        catalog_sql_append(q, greater ? "f.value ASC, " : "f.value DESC, ");
    }
    catalog_sql_append(q, greater ? "f.uid ASC" : "f.uid DESC");
    catalog_sql_append(q, " LIMIT ");
    int_param(q, limit);
    if (offset > 0) {
        catalog_sql_append(q, " OFFSET ");
        int_param(q, offset);
    }
    if (count_total)
        catalog_sql_append(q, ") p ON TRUE");
}

void catalog_sql_by_refs(catalog_sql_t *q, const char *joined_refs, const catalog_filter_t *f)
{
    catalog_sql_append(q, "SELECT e.ref, e.final_entity FROM entities e WHERE e.ref = ANY("
                          "string_to_array(");
    catalog_sql_param(q, joined_refs);
    catalog_sql_append(q, ", E'\\n')) AND ");
    catalog_sql_filter(q, f, "e.uid");
}

void catalog_sql_facets(catalog_sql_t *q, const gr_strvec_t *facets, const catalog_filter_t *f)
{
    catalog_sql_append(q,
                       "SELECT s.key, s.original_value, count(*) FROM search s WHERE s.key IN (");
    for (size_t i = 0; i < facets->len; i++) {
        if (i)
            catalog_sql_append(q, ", ");
        catalog_sql_param(q, facets->items[i]);
    }
    catalog_sql_append(q, ") AND s.original_value IS NOT NULL AND ");
    catalog_sql_filter(q, f, "s.entity_uid");
    catalog_sql_append(q, " GROUP BY s.key, s.original_value ORDER BY s.key, s.original_value");
}

/* ---- reads of other modules (read.c) ------------------------------------------------ */

/* The matching set, as a common table `s`: the same text for both reads, so
 * the revision of a read and of a later revision query are computed alike.
 * Referenced once (the revision), PostgreSQL inlines it and reads only the
 * columns the revision needs. */
static void matching_set(catalog_sql_t *q, const catalog_filter_t *f)
{
    catalog_sql_append(q, "WITH s AS (SELECT e.ref, e.etag, e.updated_at, e.final_entity "
                          "FROM entities e WHERE ");
    catalog_sql_filter(q, f, "e.uid");
    catalog_sql_append(q, ") ");
}

/* The count and the sum of one 64-bit hash per entity: adding, removing or
 * changing one entity changes the sum unless two hashes collide.  The etag
 * changes with everything a provider emits.  Relations are stitched in
 * without a new etag, but re-stitching sets updated_at, which is every
 * other change's time too; it seeds the hash when relations count.  Summed
 * as numeric, so it cannot overflow, and independent of row order. */
static const char REVISION_OF_BODIES[] =
    "count(*) || ':' || coalesce(sum(hashtextextended(s.etag, 0)), 0)";
static const char REVISION_OF_FINAL[] =
    "count(*) || ':' || coalesce(sum(hashtextextended(s.etag, "
    "(extract(epoch FROM s.updated_at) * 1000000)::bigint)), 0)";

void catalog_sql_revision(catalog_sql_t *q, const catalog_filter_t *f, int with_relations)
{
    matching_set(q, f);
    catalog_sql_append(q, "SELECT ");
    catalog_sql_append(q, with_relations ? REVISION_OF_FINAL : REVISION_OF_BODIES);
    catalog_sql_append(q, " FROM s");
}

/* The revision joins the set rather than being a window over it, so an
 * empty set still returns it, in one row without an entity. */
void catalog_sql_read(catalog_sql_t *q, const catalog_filter_t *f, int with_relations)
{
    matching_set(q, f);
    catalog_sql_append(q, "SELECT r.revision, s.final_entity FROM (SELECT ");
    catalog_sql_append(q, with_relations ? REVISION_OF_FINAL : REVISION_OF_BODIES);
    catalog_sql_append(q, " AS revision FROM s) r LEFT JOIN s ON TRUE ORDER BY s.ref");
}

/* Locations: one per distinct location ref of the stored entities, with a
 * stable id derived from the ref (md5 read as a UUID). */
const char CATALOG_SQL_LOCATIONS[] =
    "SELECT md5(location)::uuid::text, location FROM entities WHERE location IS NOT NULL "
    "GROUP BY location ORDER BY location";
const char CATALOG_SQL_LOCATION_BY_ID[] =
    "SELECT md5(location)::uuid::text, location FROM entities "
    "WHERE location IS NOT NULL AND md5(location)::uuid = $1::uuid GROUP BY location";
const char CATALOG_SQL_LOCATION_BY_REF[] =
    "SELECT md5(location)::uuid::text, location FROM entities "
    "WHERE ref = $1 AND location IS NOT NULL";

/* Where an entity came from, for a person: its location ref, the path
 * within its provider's source and the line its document starts on. */
const char CATALOG_SQL_SOURCE_BY_REF[] =
    "SELECT location, source_path, source_line, provider FROM entities WHERE ref = $1";
