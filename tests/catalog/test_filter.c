/* Unit tests for modules/catalog/filter.c and store.c: Backstage's filter
 * parameters parsed, and the SQL text built from them, with every value
 * kept out of the text and passed as a parameter. */
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"
#include "test.h"

static int parse(catalog_filter_t *f, const char *a, const char *b)
{
    const char *strings[] = {a, b};
    gr_error_t err = {0};
    return catalog_filter_parse(f, strings, b ? 2 : 1, &err);
}

TEST(a_filter_string_is_conditions_all_of_which_hold)
{
    catalog_filter_t f;
    REQUIRE(parse(&f, "Kind=Component, spec.type = Service", NULL) == 0);
    REQUIRE(f.n == 1);
    REQUIRE(f.sets[0].n == 2);
    CHECK_STR(f.sets[0].conds[0].key, "kind");
    CHECK_STR(f.sets[0].conds[0].values.items[0], "component");
    CHECK_STR(f.sets[0].conds[1].key, "spec.type");
    CHECK_STR(f.sets[0].conds[1].values.items[0], "service");
    catalog_filter_free(&f);
}

TEST(the_same_key_twice_means_any_of_its_values)
{
    catalog_filter_t f;
    REQUIRE(parse(&f, "kind=component,kind=API", NULL) == 0);
    REQUIRE(f.n == 1 && f.sets[0].n == 1);
    REQUIRE(f.sets[0].conds[0].values.len == 2);
    CHECK_STR(f.sets[0].conds[0].values.items[1], "api");
    catalog_filter_free(&f);
}

TEST(a_key_alone_asks_for_existence_and_an_empty_value_for_empty)
{
    catalog_filter_t f;
    REQUIRE(parse(&f, "metadata.tags.java,spec.owner=", NULL) == 0);
    REQUIRE(f.sets[0].n == 2);
    CHECK(f.sets[0].conds[0].values.len == 0);
    REQUIRE(f.sets[0].conds[1].values.len == 1);
    CHECK_STR(f.sets[0].conds[1].values.items[0], "");
    catalog_filter_free(&f);
}

TEST(repeated_filters_are_alternatives_and_empty_ones_vanish)
{
    catalog_filter_t f;
    REQUIRE(parse(&f, "kind=user", "kind=group,spec.type") == 0);
    CHECK(f.n == 2);
    catalog_filter_free(&f);
    REQUIRE(parse(&f, " , ", NULL) == 0);
    CHECK(f.n == 0);
    catalog_filter_free(&f);
}

TEST(a_statement_without_a_key_is_refused_with_backstages_sentence)
{
    catalog_filter_t f;
    const char *strings[] = {"kind=user,=x"};
    gr_error_t err = {0};
    CHECK(catalog_filter_parse(&f, strings, 1, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "Invalid filter, '=x' is not a valid statement");
}

TEST(filter_sql_holds_placeholders_only)
{
    catalog_filter_t f;
    const char *hostile = "kind=x'); DROP TABLE entities;--,spec.type=a,spec.type=b";
    REQUIRE(parse(&f, hostile, "metadata.tags.java") == 0);
    catalog_sql_t q = {0};
    catalog_sql_filter(&q, &f, "e.uid");
    CHECK_STR(q.text.data,
              "((e.uid IN (SELECT entity_uid FROM search WHERE key = $1 AND value = $2) AND "
              "e.uid IN (SELECT entity_uid FROM search WHERE key = $3 AND value IN ($4, $5))) OR "
              "(e.uid IN (SELECT entity_uid FROM search WHERE key = $6)))");
    REQUIRE(q.params.len == 6);
    CHECK_STR(q.params.items[1], "x'); drop table entities;--");
    CHECK_STR(q.params.items[5], "metadata.tags.java");
    CHECK(strstr(q.text.data, "DROP") == NULL);
    catalog_sql_free(&q);
    catalog_filter_free(&f);

    catalog_filter_t none = {0};
    catalog_sql_t t = {0};
    catalog_sql_filter(&t, &none, "e.uid");
    CHECK_STR(t.text.data, "TRUE");
    CHECK(t.params.len == 0);
    catalog_sql_free(&t);
}

TEST(like_terms_escape_wildcards_and_lower_case)
{
    char *s = catalog_like_contains("50%_Off\\");
    CHECK_STR(s, "%50\\%\\_off\\\\%");
    free(s);
}

TEST(entities_sql_orders_by_search_values_then_ref)
{
    catalog_filter_t f;
    REQUIRE(parse(&f, "kind=component", NULL) == 0);
    catalog_order_t order[] = {{"metadata.name", 1}};
    catalog_sql_t q = {0};
    catalog_sql_entities(&q, &f, order, 1, 11, 20);
    CHECK_STR(q.text.data,
              "SELECT e.final_entity FROM entities e LEFT JOIN (SELECT entity_uid, min(value) AS "
              "v FROM search WHERE key = $1 GROUP BY entity_uid) o0 ON o0.entity_uid = e.uid "
              "WHERE ((e.uid IN (SELECT entity_uid FROM search WHERE key = $2 AND value = $3))) "
              "ORDER BY o0.v DESC NULLS LAST, e.ref LIMIT $4 OFFSET $5");
    REQUIRE(q.params.len == 5);
    CHECK_STR(q.params.items[0], "metadata.name");
    CHECK_STR(q.params.items[3], "11");
    CHECK_STR(q.params.items[4], "20");
    catalog_sql_free(&q);
    catalog_filter_free(&f);
}

static char *query_sql(int descending, int previous, int with_position, int count)
{
    catalog_cursor_t c;
    catalog_cursor_init(&c);
    c.order_field = gr_xstrdup("metadata.name");
    c.descending = descending;
    c.previous = previous;
    if (with_position) {
        c.has_position = 1;
        c.last_value = gr_xstrdup("m");
        c.last_uid = gr_xstrdup("00000000-0000-8000-8000-000000000000");
    }
    catalog_filter_t none = {0};
    catalog_sql_t q = {0};
    catalog_sql_query(&q, &none, &c, count, 21, 0);
    char *text = gr_buf_steal(&q.text);
    catalog_sql_free(&q);
    catalog_cursor_free(&c);
    return text;
}

TEST(query_sql_pages_forward_and_backward_in_either_order)
{
    char *s = query_sql(0, 0, 1, 0);
    CHECK_CONTAINS(s, "WITH filtered AS (SELECT e.uid, e.final_entity, o.v AS value FROM "
                      "entities e LEFT JOIN (SELECT entity_uid, min(value) AS v FROM search "
                      "WHERE key = $1 GROUP BY entity_uid) o ON o.entity_uid = e.uid WHERE TRUE)");
    CHECK_CONTAINS(s, "((f.value IS NULL) > $2 OR ((f.value IS NULL) = $3 AND "
                      "(coalesce(f.value, ''), f.uid) > ($4, $5::uuid)))");
    CHECK_CONTAINS(s, "ORDER BY (f.value IS NULL) ASC, f.value ASC, f.uid ASC LIMIT $6");
    free(s);
    s = query_sql(1, 0, 1, 0);
    CHECK_CONTAINS(s, "(coalesce(f.value, ''), f.uid) < ($4, $5::uuid)");
    CHECK_CONTAINS(s, "ORDER BY (f.value IS NULL) ASC, f.value DESC, f.uid DESC");
    free(s);
    /* Going back over an ascending order reads the rows before, in reverse. */
    s = query_sql(0, 1, 1, 0);
    CHECK_CONTAINS(s, "((f.value IS NULL) < $2 OR");
    CHECK_CONTAINS(s, "(coalesce(f.value, ''), f.uid) < ($4, $5::uuid)");
    CHECK_CONTAINS(s, "ORDER BY (f.value IS NULL) DESC, f.value DESC, f.uid DESC");
    free(s);
    s = query_sql(0, 0, 0, 1);
    CHECK_CONTAINS(s, "FROM (SELECT count(*) AS total FROM filtered) c LEFT JOIN LATERAL (");
    CHECK_CONTAINS(s, "WHERE TRUE ORDER BY");
    CHECK_CONTAINS(s, ") p ON TRUE");
    free(s);
}

TEST(by_refs_and_facets_sql_take_values_as_parameters)
{
    catalog_filter_t none = {0};
    catalog_sql_t q = {0};
    catalog_sql_by_refs(&q, "component:default/a\ngroup:default/b", &none);
    CHECK_CONTAINS(q.text.data, "e.ref = ANY(string_to_array($1, E'\\n')) AND TRUE");
    CHECK_STR(q.params.items[0], "component:default/a\ngroup:default/b");
    catalog_sql_free(&q);

    gr_strvec_t facets = {0};
    gr_strvec_push(&facets, "kind");
    gr_strvec_push(&facets, "spec.type");
    catalog_sql_t fq = {0};
    catalog_sql_facets(&fq, &facets, &none);
    CHECK_CONTAINS(fq.text.data,
                   "WHERE s.key IN ($1, $2) AND s.original_value IS NOT NULL AND TRUE "
                   "GROUP BY s.key, s.original_value");
    catalog_sql_free(&fq);
    gr_strvec_free(&facets);
}

TEST_MAIN(TEST_ENTRY(a_filter_string_is_conditions_all_of_which_hold),
          TEST_ENTRY(the_same_key_twice_means_any_of_its_values),
          TEST_ENTRY(a_key_alone_asks_for_existence_and_an_empty_value_for_empty),
          TEST_ENTRY(repeated_filters_are_alternatives_and_empty_ones_vanish),
          TEST_ENTRY(a_statement_without_a_key_is_refused_with_backstages_sentence),
          TEST_ENTRY(filter_sql_holds_placeholders_only),
          TEST_ENTRY(like_terms_escape_wildcards_and_lower_case),
          TEST_ENTRY(entities_sql_orders_by_search_values_then_ref),
          TEST_ENTRY(query_sql_pages_forward_and_backward_in_either_order),
          TEST_ENTRY(by_refs_and_facets_sql_take_values_as_parameters))
