/* Unit tests for modules/catalog/prepare.c, search.c, fields.c and
 * cursor.c: what the catalog stores for an entity (uid, etag, body,
 * relations, search rows), the fields projection and the opaque cursors. */
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"
#include "test.h"

static const char component_json[] =
    "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Component\","
    "\"metadata\":{\"name\":\"Artist-Lookup\",\"tags\":[\"java\",\"data\",\"java\"],"
    "\"annotations\":{\"backstage.io/techdocs-ref\":\"dir:.\"}},"
    "\"spec\":{\"type\":\"service\",\"lifecycle\":\"experimental\",\"owner\":\"team-a\","
    "\"system\":\"podcast\",\"replicas\":3,\"public\":true,\"tier\":null}}";

static const char *row(const catalog_search_rows_t *rows, const char *key, const char *value)
{
    for (size_t i = 0; i < rows->len; i++)
        if (strcmp(rows->items[i].key, key) == 0 &&
            (value == NULL ? rows->items[i].value == NULL
                           : rows->items[i].value && strcmp(rows->items[i].value, value) == 0))
            return rows->items[i].original ? rows->items[i].original : "(null)";
    return NULL;
}

TEST(a_valid_entity_is_prepared_with_ref_uid_etag_relations_and_body)
{
    struct json_object *e = json_tokener_parse(component_json);
    catalog_prepared_t p;
    catalog_prepare_entity(&p, e, "file:/repo/a.yaml", "a.yaml", 3);
    if (p.rejected)
        fprintf(stderr, "refused: %s\n", p.reject_message);
    REQUIRE(!p.rejected);
    CHECK_STR(p.ref, "component:default/artist-lookup");
    CHECK_STR(p.kind, "Component");
    CHECK_STR(p.namespace, "default");
    CHECK(catalog_uuid_valid(p.uid));
    CHECK(p.uid[14] == '8'); /* version 8: derived, not random */
    CHECK(strlen(p.etag) == 64);
    CHECK_CONTAINS(p.body, "\"uid\":\"");
    CHECK_CONTAINS(p.body, p.etag);
    CHECK(strncmp(p.body, "{\"apiVersion\":", 14) == 0);
    CHECK(strstr(p.body, "relations") == NULL);
    /* ownedBy, partOf and their inverses. */
    CHECK(p.relations.len == 4);
    CHECK_STR(p.location, "file:/repo/a.yaml");
    CHECK(p.source_line == 3);
    catalog_prepared_free(&p);
    json_object_put(e);
}

TEST(the_uid_depends_on_the_ref_only_and_the_etag_on_content_only)
{
    char a[CATALOG_UUID_LEN + 1], b[CATALOG_UUID_LEN + 1], c[CATALOG_UUID_LEN + 1];
    catalog_uid_for_ref("component:default/x", a);
    catalog_uid_for_ref("component:default/x", b);
    catalog_uid_for_ref("component:default/y", c);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);

    /* The same entity with its keys in another order: same etag. */
    struct json_object *e1 = json_tokener_parse(component_json);
    struct json_object *e2 = json_tokener_parse(
        "{\"spec\":{\"tier\":null,\"public\":true,\"replicas\":3,\"system\":\"podcast\","
        "\"owner\":\"team-a\",\"lifecycle\":\"experimental\",\"type\":\"service\"},"
        "\"kind\":\"Component\",\"metadata\":{\"annotations\":{\"backstage.io/techdocs-ref\":"
        "\"dir:.\"},\"tags\":[\"java\",\"data\",\"java\"],\"name\":\"Artist-Lookup\"},"
        "\"apiVersion\":\"backstage.io/v1alpha1\"}");
    catalog_prepared_t p1, p2;
    catalog_prepare_entity(&p1, e1, NULL, NULL, 0);
    catalog_prepare_entity(&p2, e2, NULL, NULL, 0);
    CHECK_STR(p1.etag, p2.etag);
    CHECK_STR(p1.body, p2.body);
    catalog_prepared_free(&p1);
    catalog_prepared_free(&p2);
    json_object_put(e2);
    /* A changed field changes the etag. */
    json_object_object_add(json_object_object_get(e1, "spec"), "lifecycle",
                           json_object_new_string("production"));
    struct json_object *e3 = json_tokener_parse(component_json);
    catalog_prepare_entity(&p2, e1, NULL, NULL, 0);
    catalog_prepare_entity(&p1, e3, NULL, NULL, 0);
    CHECK(strcmp(p1.etag, p2.etag) != 0);
    catalog_prepared_free(&p1);
    catalog_prepared_free(&p2);
    json_object_put(e1);
    json_object_put(e3);
}

TEST(the_body_is_the_stamped_entitys_canonical_json)
{
    /* The body is spliced from the etag's canonical text: it must equal a
     * fresh canonical rendering of the stamped entity, whatever sits in
     * metadata before or after the keys the stamp adds, generation
     * included (kept in the body, left out of the etag). */
    static const char *const docs[] = {
        component_json,
        "{\"kind\":\"Group\",\"apiVersion\":\"backstage.io/v1alpha1\",\"spec\":{\"type\":\"team\","
        "\"children\":[]},\"metadata\":{\"zeta\":{\"uid\":\"nested, kept\"},\"generation\":4,"
        "\"name\":\"a\",\"annotations\":{\"x.io/y\":\"\\u00e9\\n\\\"q\\\"\"},"
        "\"description\":\"d\"}}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        struct json_object *e = json_tokener_parse(docs[i]);
        REQUIRE(e != NULL);
        catalog_prepared_t p;
        catalog_prepare_entity(&p, e, NULL, NULL, 0);
        REQUIRE(!p.rejected);
        char *canonical = catalog_entity_canonical_json(e);
        CHECK_STR(p.body, canonical);
        char etag[CATALOG_ETAG_LEN + 1];
        catalog_entity_etag(e, etag);
        CHECK_STR(p.etag, etag);
        free(canonical);
        catalog_prepared_free(&p);
        json_object_put(e);
    }
    struct json_object *plain = json_tokener_parse(docs[1]);
    struct json_object *meta;
    REQUIRE(json_object_object_get_ex(plain, "metadata", &meta));
    json_object_object_add(meta, "generation", json_object_new_int(5));
    catalog_prepared_t a, b;
    struct json_object *other = json_tokener_parse(docs[1]);
    catalog_prepare_entity(&a, plain, NULL, NULL, 0);
    catalog_prepare_entity(&b, other, NULL, NULL, 0);
    CHECK_STR(a.etag, b.etag);
    CHECK(strcmp(a.body, b.body) != 0);
    CHECK_CONTAINS(a.body, "\"generation\":5");
    catalog_prepared_free(&a);
    catalog_prepared_free(&b);
    json_object_put(plain);
    json_object_put(other);
}

TEST(an_invalid_entity_is_refused_with_the_field_at_fault)
{
    struct json_object *e = json_tokener_parse(
        "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Component\","
        "\"metadata\":{\"name\":\"ok\"},\"spec\":{\"type\":\"service\",\"owner\":\"x\"}}");
    catalog_prepared_t p;
    catalog_prepare_entity(&p, e, NULL, NULL, 0);
    CHECK(p.rejected);
    CHECK_STR(p.reject_path, "spec.lifecycle");
    CHECK_CONTAINS(p.reject_message, "spec.lifecycle");
    catalog_prepared_free(&p);
    json_object_put(e);

    struct json_object *s = json_object_new_string("not an object");
    catalog_prepare_entity(&p, s, NULL, NULL, 0);
    CHECK(p.rejected);
    catalog_prepared_free(&p);
    json_object_put(s);
}

TEST(search_rows_flatten_the_entity_as_backstage_does)
{
    struct json_object *e = json_tokener_parse(component_json);
    catalog_prepared_t p;
    catalog_prepare_entity(&p, e, NULL, NULL, 0);
    REQUIRE(!p.rejected);
    const catalog_search_rows_t *r = &p.search;
    CHECK_STR(row(r, "kind", "component"), "Component");
    CHECK_STR(row(r, "metadata.name", "artist-lookup"), "Artist-Lookup");
    CHECK_STR(row(r, "metadata.namespace", "default"), "default");
    CHECK(row(r, "metadata.uid", p.uid) != NULL);
    /* Lists: each item under the list's key, and "key.item" = true. */
    CHECK_STR(row(r, "metadata.tags", "java"), "java");
    CHECK_STR(row(r, "metadata.tags", "data"), "data");
    CHECK_STR(row(r, "metadata.tags.java", "true"), "true");
    CHECK_STR(row(r, "metadata.tags.data", "true"), "true");
    CHECK_STR(row(r, "metadata.annotations.backstage.io/techdocs-ref", "dir:."), "dir:.");
    CHECK_STR(row(r, "spec.replicas", "3"), "3");
    CHECK_STR(row(r, "spec.public", "true"), "true");
    CHECK_STR(row(r, "spec.tier", NULL), "(null)");
    /* Special keys are not flattened; uid and etag are the catalog's. */
    CHECK(row(r, "metadata.etag", p.etag) == NULL);
    size_t javas = 0;
    for (size_t i = 0; i < r->len; i++)
        javas += strcmp(r->items[i].key, "metadata.tags") == 0 && r->items[i].value &&
                 strcmp(r->items[i].value, "java") == 0;
    CHECK(javas == 1); /* a duplicate tag gives one row */
    catalog_prepared_free(&p);
    json_object_put(e);
}

TEST(search_rows_refuse_keys_that_differ_only_in_case_and_drop_long_values)
{
    struct json_object *e = json_tokener_parse(
        "{\"kind\":\"X\",\"metadata\":{\"name\":\"a\"},\"spec\":{\"Foo\":1,\"foo\":2}}");
    catalog_search_rows_t rows;
    gr_error_t err = {0};
    CHECK(catalog_search_rows_build(e, &rows, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "'spec.foo'");
    catalog_search_rows_free(&rows);
    json_object_put(e);

    char long_value[300];
    memset(long_value, 'v', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    e = json_tokener_parse("{\"kind\":\"X\",\"metadata\":{\"name\":\"a\"},\"spec\":{}}");
    json_object_object_add(json_object_object_get(e, "spec"), "big",
                           json_object_new_string(long_value));
    REQUIRE(catalog_search_rows_build(e, &rows, &err) == 0);
    CHECK_STR(row(&rows, "spec.big", NULL), "(null)");
    catalog_search_rows_free(&rows);
    json_object_put(e);
}

static char *project(const char *fields_text, const char *entity_json)
{
    catalog_fields_t f = {0};
    gr_error_t err = {0};
    if (catalog_fields_add(&f, fields_text, &err) != 0)
        return NULL;
    struct json_object *e = json_tokener_parse(entity_json);
    struct json_object *out = catalog_fields_project(&f, e);
    char *text = gr_xstrdup(json_object_to_json_string_ext(
        out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(out);
    json_object_put(e);
    catalog_fields_free(&f);
    return text;
}

TEST(search_rows_of_a_large_entity_keep_every_key_and_value)
{
    /* Many long keys and values: the block the rows' strings share grows
     * several times while they are written. */
    gr_buf_t doc = {0};
    gr_buf_puts(&doc, "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Component\","
                      "\"metadata\":{\"name\":\"big\",\"annotations\":{");
    for (int i = 0; i < 200; i++)
        gr_buf_printf(&doc, "%s\"example.com/Key-%03d\":\"Value-%03d-%s\"", i ? "," : "", i, i,
                      "With-A-Fairly-Long-Tail-To-Fill-The-Block");
    gr_buf_puts(&doc, "}},\"spec\":{\"type\":\"service\",\"lifecycle\":\"production\","
                      "\"owner\":\"team-a\"}}");
    struct json_object *e = json_tokener_parse(doc.data);
    REQUIRE(e != NULL);
    catalog_prepared_t p;
    catalog_prepare_entity(&p, e, NULL, NULL, 0);
    if (p.rejected)
        fprintf(stderr, "refused: %s %s\n", p.reject_path, p.reject_message);
    REQUIRE(!p.rejected);
    size_t annotations = 0;
    for (size_t i = 0; i < p.search.len; i++)
        annotations += strncmp(p.search.items[i].key, "metadata.annotations.", 21) == 0;
    CHECK(annotations == 200);
    CHECK_STR(row(&p.search, "metadata.annotations.example.com/key-000",
                  "value-000-with-a-fairly-long-tail-to-fill-the-block"),
              "Value-000-With-A-Fairly-Long-Tail-To-Fill-The-Block");
    CHECK_STR(row(&p.search, "metadata.annotations.example.com/key-199",
                  "value-199-with-a-fairly-long-tail-to-fill-the-block"),
              "Value-199-With-A-Fairly-Long-Tail-To-Fill-The-Block");
    CHECK_STR(row(&p.search, "spec.owner", "team-a"), "team-a");
    catalog_prepared_free(&p);
    json_object_put(e);
    gr_buf_free(&doc);
}

TEST(fields_keep_only_the_listed_paths)
{
    const char *e = "{\"kind\":\"Group\",\"metadata\":{\"name\":\"a\",\"namespace\":\"default\","
                    "\"annotations\":{\"backstage.io/x\":\"1\",\"y\":\"2\"}},\"spec\":{\"type\":"
                    "\"team\"}}";
    char *s = project("kind, metadata.name", e);
    CHECK_STR(s, "{\"kind\":\"Group\",\"metadata\":{\"name\":\"a\"}}");
    free(s);
    /* A key holding dots is found by joining parts. */
    s = project("metadata.annotations.backstage.io/x", e);
    CHECK_STR(s, "{\"metadata\":{\"annotations\":{\"backstage.io/x\":\"1\"}}}");
    free(s);
    /* A whole subtree and a path inside it: the subtree, once. */
    s = project("metadata.name,metadata,metadata.namespace", e);
    CHECK_CONTAINS(s, "\"annotations\"");
    free(s);
    s = project("spec.missing,relations", e);
    CHECK_STR(s, "{}");
    free(s);
    CHECK(project("metadata.tags[0]", e) == NULL);
}

TEST(cursors_round_trip_and_refuse_garbage)
{
    char *b = catalog_base64_encode("hello?", 6);
    CHECK_STR(b, "aGVsbG8/");
    size_t len = 0;
    char *d = gr_base64_decode(b, strlen(b), &len);
    CHECK_STR(d, "hello?");
    CHECK(len == 6);
    free(d);
    free(b);
    CHECK(gr_base64_decode("a$b", strlen("a$b"), NULL) == NULL);

    catalog_cursor_t c;
    catalog_cursor_init(&c);
    gr_strvec_push(&c.filter, "kind=component");
    c.order_field = gr_xstrdup("metadata.name");
    c.descending = 1;
    c.text_term = gr_xstrdup("look");
    gr_strvec_push(&c.text_fields, "metadata.name");
    c.has_position = 1;
    c.last_null = 1;
    c.last_uid = gr_xstrdup("12345678-1234-8234-9234-123456789abc");
    c.previous = 1;
    c.total_items = 42;
    char *text = catalog_cursor_encode(&c);
    catalog_cursor_t back;
    gr_error_t err = {0};
    REQUIRE(catalog_cursor_decode(&back, text, &err) == 0);
    CHECK_STR(back.filter.items[0], "kind=component");
    CHECK_STR(back.order_field, "metadata.name");
    CHECK(back.descending && back.previous && back.has_position && back.last_null);
    CHECK(back.last_value == NULL);
    CHECK_STR(back.last_uid, c.last_uid);
    CHECK_STR(back.text_term, "look");
    CHECK(back.total_items == 42);
    CHECK(!back.has_first);
    catalog_cursor_free(&back);
    catalog_cursor_free(&c);
    free(text);

    CHECK(catalog_cursor_decode(&back, "bm90IGpzb24=", &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "Malformed cursor");
    /* A position whose uid is not a UUID would reach SQL as a cast: refused. */
    const char *bad_json = "{\"position\":[\"a\",\"x'--\"]}";
    char *bad = catalog_base64_encode(bad_json, strlen(bad_json));
    CHECK(catalog_cursor_decode(&back, bad, &err) == GR_ERR_INVALID);
    free(bad);
    CHECK(catalog_uuid_valid("12345678-1234-8234-9234-123456789abc"));
    CHECK(!catalog_uuid_valid("12345678-1234-8234-9234-123456789ab"));
    CHECK(!catalog_uuid_valid("12345678x1234-8234-9234-123456789abc"));
}

TEST_MAIN(TEST_ENTRY(a_valid_entity_is_prepared_with_ref_uid_etag_relations_and_body),
          TEST_ENTRY(the_uid_depends_on_the_ref_only_and_the_etag_on_content_only),
          TEST_ENTRY(the_body_is_the_stamped_entitys_canonical_json),
          TEST_ENTRY(an_invalid_entity_is_refused_with_the_field_at_fault),
          TEST_ENTRY(search_rows_flatten_the_entity_as_backstage_does),
          TEST_ENTRY(search_rows_refuse_keys_that_differ_only_in_case_and_drop_long_values),
          TEST_ENTRY(search_rows_of_a_large_entity_keep_every_key_and_value),
          TEST_ENTRY(fields_keep_only_the_listed_paths),
          TEST_ENTRY(cursors_round_trip_and_refuse_garbage))
