/* Unit tests for modules/catalog/entity_parse.c and entity_parse_json.c:
 * YAML and JSON entity files into json-c objects with positions.  The
 * inputs are written inline; tests/catalog/test_entity_testdata.c reads
 * the real Backstage files. */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "catalog_model.h"
#include "json_path.h"
#include "test.h"
#include "util.h"

static int parse(catalog_file_t *f, const char *path, const char *text)
{
    return catalog_file_parse(f, path, text, strlen(text));
}

TEST(multi_document_file_keeps_each_entity_and_its_start)
{
    const char *text = "# a comment before the first marker\n"
                       "---\n"
                       "apiVersion: backstage.io/v1alpha1\n"
                       "kind: Group\n"
                       "metadata:\n"
                       "  name: team-a\n"
                       "spec:\n"
                       "  type: team\n"
                       "  children:\n"
                       "    [a, b]\n"
                       "---\n"
                       "\n"
                       "# comment inside the second document\n"
                       "apiVersion: backstage.io/v1alpha1\n"
                       "kind: User\n"
                       "metadata: {name: jdoe}\n"
                       "---\n"
                       "---\n";
    catalog_file_t f;
    REQUIRE(parse(&f, "org.yaml", text) == 0);
    CHECK_STR(f.path, "org.yaml");
    REQUIRE(f.ndocs == 2); /* the two empty documents at the end are skipped */
    CHECK(f.errors.len == 0);
    CHECK_STR(gr_test_json_str(f.docs[0].entity, "metadata.name"), "team-a");
    CHECK_STR(gr_test_json_str(f.docs[0].entity, "spec.children.1"), "b");
    CHECK(f.docs[0].line == 3 && f.docs[0].column == 1);
    CHECK(f.docs[0].index == 0);
    CHECK_STR(gr_test_json_str(f.docs[1].entity, "metadata.name"), "jdoe");
    CHECK(f.docs[1].line == 14);
    CHECK(f.docs[1].index == 1);
    catalog_file_free(&f);
}

TEST(scalars_are_typed_like_backstage_yaml_reader)
{
    const char *text = "plain_true: true\n"
                       "quoted_true: 'true'\n"
                       "double_quoted: \"42\"\n"
                       "yes_is_a_string: yes\n"
                       "int: 42\n"
                       "negative: -7\n"
                       "hex: 0x1F\n"
                       "octal: 0o17\n"
                       "float: 2.5\n"
                       "exp: 1e3\n"
                       "nothing: ~\n"
                       "empty:\n"
                       "version: 1.15.3\n"
                       "huge: 123456789012345678901234\n"
                       "tagged_str: !!str 12\n"
                       "tagged_int: !!int '12'\n"
                       "block: |\n"
                       "  line one\n"
                       "  line two\n"
                       "folded: >-\n"
                       "  a\n"
                       "  b\n";
    catalog_file_t f;
    REQUIRE(parse(&f, "t.yaml", text) == 0);
    REQUIRE(f.ndocs == 1);
    struct json_object *e = f.docs[0].entity, *v;
    v = gr_test_json_at(e, "plain_true");
    CHECK(json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v));
    CHECK_STR(gr_test_json_str(e, "quoted_true"), "true");
    CHECK_STR(gr_test_json_str(e, "double_quoted"), "42");
    CHECK_STR(gr_test_json_str(e, "yes_is_a_string"), "yes");
    v = gr_test_json_at(e, "int");
    CHECK(json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 42);
    CHECK(json_object_get_int64(gr_test_json_at(e, "negative")) == -7);
    CHECK(json_object_get_int64(gr_test_json_at(e, "hex")) == 31);
    CHECK(json_object_get_int64(gr_test_json_at(e, "octal")) == 15);
    v = gr_test_json_at(e, "float");
    CHECK(json_object_is_type(v, json_type_double) && json_object_get_double(v) == 2.5);
    CHECK(json_object_get_double(gr_test_json_at(e, "exp")) == 1000.0);
    CHECK(json_object_object_get_ex(e, "nothing", &v) && v == NULL);
    CHECK(json_object_object_get_ex(e, "empty", &v) && v == NULL);
    CHECK_STR(gr_test_json_str(e, "version"), "1.15.3");
    CHECK(json_object_is_type(gr_test_json_at(e, "huge"), json_type_double));
    CHECK_STR(gr_test_json_str(e, "tagged_str"), "12");
    CHECK(json_object_get_int64(gr_test_json_at(e, "tagged_int")) == 12);
    CHECK_STR(gr_test_json_str(e, "block"), "line one\nline two\n");
    CHECK_STR(gr_test_json_str(e, "folded"), "a b");
    catalog_file_free(&f);
}

TEST(syntax_error_is_reported_with_position_and_later_documents_still_load)
{
    const char *text = "kind: Component\n"       /* 1 */
                       "metadata: {name: one}\n" /* 2 */
                       "---\n"                   /* 3 */
                       "kind: Component\n"       /* 4 */
                       "metadata:\n"             /* 5 */
                       "  name: two\n"           /* 6 */
                       "   broken: indent\n"     /* 7 */
                       "---\n"                   /* 8 */
                       "kind: Component\n"       /* 9 */
                       "metadata: {name: three}\n";
    catalog_file_t f;
    CHECK(parse(&f, "svc.yaml", text) == GR_ERR_INVALID);
    REQUIRE(f.ndocs == 2);
    CHECK_STR(gr_test_json_str(f.docs[0].entity, "metadata.name"), "one");
    CHECK_STR(gr_test_json_str(f.docs[1].entity, "metadata.name"), "three");
    CHECK(f.docs[1].index == 2);
    CHECK(f.docs[1].line == 9);
    REQUIRE(f.errors.len == 1);
    CHECK(f.errors.items[0].line == 7);
    char *msg = catalog_issue_format(f.path, &f.errors.items[0]);
    CHECK_CONTAINS(msg, "svc.yaml:7:");
    CHECK_CONTAINS(msg, "YAML syntax error: mapping values are not allowed");
    free(msg);
    catalog_file_free(&f);
}

TEST(unclosed_flow_sequence_loses_only_its_own_document)
{
    const char *text = "a: 1\n"
                       "---\n"
                       "b: [1, 2\n"
                       "---\n"
                       "c: 3\n";
    catalog_file_t f;
    CHECK(parse(&f, "x.yaml", text) == GR_ERR_INVALID);
    REQUIRE(f.ndocs == 2);
    CHECK(json_object_get_int64(gr_test_json_at(f.docs[0].entity, "a")) == 1);
    CHECK(json_object_get_int64(gr_test_json_at(f.docs[1].entity, "c")) == 3);
    REQUIRE(f.errors.len == 1);
    CHECK_CONTAINS(f.errors.items[0].message, "flow sequence");
    CHECK(f.errors.items[0].line >= 3);
    catalog_file_free(&f);
}

TEST(error_on_the_next_marker_keeps_the_complete_document_before_it)
{
    /* libyaml reports the bad token after "---" before it has closed the
     * first document; the first one is complete and must not be lost. */
    const char *text = "first: 1\n"
                       "--- ]\n"
                       "---\n"
                       "third: 3\n";
    catalog_file_t f;
    CHECK(parse(&f, "m.yaml", text) == GR_ERR_INVALID);
    REQUIRE(f.ndocs == 2);
    CHECK(json_object_get_int64(gr_test_json_at(f.docs[0].entity, "first")) == 1);
    CHECK(json_object_get_int64(gr_test_json_at(f.docs[1].entity, "third")) == 3);
    CHECK(f.errors.len == 1 && f.errors.items[0].line == 2);
    catalog_file_free(&f);
}

TEST(document_level_mistakes_are_errors_of_that_document_only)
{
    const char *text = "- a list at the root\n" /* 1 */
                       "---\n"                  /* 2 */
                       "name: x\n"              /* 3 */
                       "name: y\n"              /* 4 */
                       "---\n"                  /* 5 */
                       "base: &b {k: v}\n"      /* 6 */
                       "merged:\n"              /* 7 */
                       "  <<: *b\n"             /* 8 */
                       "---\n"                  /* 9 */
                       "ref: *missing\n"        /* 10 */
                       "---\n"                  /* 11 */
                       "anchor: &a [1, 2]\n"    /* 12 */
                       "copy: *a\n"             /* 13 */
                       "---\n"                  /* 14 */
                       "just a string\n";       /* 15 */
    catalog_file_t f;
    CHECK(parse(&f, "d.yaml", text) == GR_ERR_INVALID);
    REQUIRE(f.ndocs == 1);
    CHECK(f.docs[0].index == 4);
    CHECK(json_object_get_int64(gr_test_json_at(f.docs[0].entity, "copy.1")) == 2);
    REQUIRE(f.errors.len == 5);
    CHECK(f.errors.items[0].line == 1);
    CHECK_CONTAINS(f.errors.items[0].message, "found a list");
    CHECK(f.errors.items[1].line == 4);
    CHECK_CONTAINS(f.errors.items[1].message, "duplicate key 'name'");
    CHECK(f.errors.items[2].line == 8);
    CHECK_CONTAINS(f.errors.items[2].message, "merge keys (<<) are not supported in merged");
    CHECK(f.errors.items[3].line == 10);
    CHECK_CONTAINS(f.errors.items[3].message, "alias *missing");
    CHECK(f.errors.items[4].line == 15);
    CHECK_CONTAINS(f.errors.items[4].message, "found a string");
    catalog_file_free(&f);
}

TEST(alias_bomb_is_refused_not_expanded)
{
    gr_buf_t b = {0};
    gr_buf_puts(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 10; i++)
        gr_buf_printf(&b,
                      "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
                      "*a%d]\n",
                      i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    gr_buf_puts(&b, "---\nok: true\n");
    catalog_file_t f;
    CHECK(catalog_file_parse_yaml(&f, "bomb.yaml", b.data, b.len) == GR_ERR_INVALID);
    REQUIRE(f.errors.len == 1);
    CHECK_CONTAINS(f.errors.items[0].message, "aliases are nested too deeply");
    REQUIRE(f.ndocs == 1);
    CHECK(gr_test_json_at(f.docs[0].entity, "ok") != NULL);
    catalog_file_free(&f);
    gr_buf_free(&b);
}

TEST(positions_point_at_fields_and_fall_back_to_parents)
{
    const char *text = "apiVersion: backstage.io/v1alpha1\n"
                       "kind: Component\n"
                       "metadata:\n"
                       "  name: svc\n"
                       "  annotations:\n"
                       "    backstage.io/techdocs-ref: dir:.\n"
                       "  tags:\n"
                       "    - java\n"
                       "    - Bad Tag\n"
                       "spec:\n"
                       "  type: service\n";
    catalog_file_t f;
    REQUIRE(parse(&f, "p.yaml", text) == 0);
    REQUIRE(f.ndocs == 1);
    uint32_t line, col;
    catalog_doc_locate(&f.docs[0], "metadata.name", &line, &col);
    CHECK(line == 4 && col == 9);
    catalog_doc_locate(&f.docs[0], "metadata.tags.1", &line, &col);
    CHECK(line == 9 && col == 7);
    catalog_doc_locate(&f.docs[0], "metadata.annotations.backstage.io/techdocs-ref", &line, &col);
    CHECK(line == 6 && col == 32);
    catalog_doc_locate(&f.docs[0], "spec.owner", &line, &col); /* missing: its parent */
    CHECK(line == 11 && col == 3);
    catalog_doc_locate(&f.docs[0], "nothing.here", &line, &col); /* the document */
    CHECK(line == 1 && col == 1);
    catalog_file_free(&f);
}

TEST(crlf_files_parse_with_the_same_lines)
{
    const char *text = "a: 1\r\n---\r\nkind: X\r\nmetadata:\r\n  name: n\r\n";
    catalog_file_t f;
    REQUIRE(parse(&f, "w.yaml", text) == 0);
    REQUIRE(f.ndocs == 2);
    uint32_t line, col;
    catalog_doc_locate(&f.docs[1], "metadata.name", &line, &col);
    CHECK(line == 5 && col == 9);
    CHECK_STR(gr_test_json_str(f.docs[1].entity, "metadata.name"), "n");
    catalog_file_free(&f);
}

TEST(json_file_parses_with_positions)
{
    const char *text = "{\n"
                       "  \"apiVersion\": \"backstage.io/v1alpha1\",\n"
                       "  \"kind\": \"Component\",\n"
                       "  \"metadata\": {\"name\": \"x\", \"tags\": [\"a\", \"b\"],\n"
                       "               \"annotations\": {\"k\\u00e9y\": \"v\"}}\n"
                       "}\n";
    catalog_file_t f;
    REQUIRE(parse(&f, "catalog-info.JSON", text) == 0);
    REQUIRE(f.ndocs == 1);
    CHECK_STR(gr_test_json_str(f.docs[0].entity, "metadata.tags.1"), "b");
    uint32_t line, col;
    catalog_doc_locate(&f.docs[0], "metadata.tags.1", &line, &col);
    CHECK(line == 4 && col == 43);
    catalog_doc_locate(&f.docs[0], "metadata.annotations.k\xc3\xa9y", &line, &col);
    CHECK(line == 5 && col == 44);
    catalog_doc_locate(&f.docs[0], "kind", &line, &col);
    CHECK(line == 3 && col == 11);
    catalog_file_free(&f);
}

TEST(json_errors_carry_line_and_column)
{
    catalog_file_t f;
    CHECK(parse(&f, "a.json", "{\n  \"a\": [1, 2,]\n}") == GR_ERR_INVALID);
    REQUIRE(f.errors.len == 1 && f.ndocs == 0);
    CHECK(f.errors.items[0].line == 2);
    CHECK_CONTAINS(f.errors.items[0].message, "JSON syntax error");
    catalog_file_free(&f);

    CHECK(parse(&f, "b.json", "{\"a\": 1") == GR_ERR_INVALID);
    REQUIRE(f.errors.len == 1);
    CHECK_CONTAINS(f.errors.items[0].message, "ends before it is complete");
    catalog_file_free(&f);

    CHECK(parse(&f, "c.json", "[{\"a\": 1}]") == GR_ERR_INVALID);
    REQUIRE(f.errors.len == 1);
    CHECK_CONTAINS(f.errors.items[0].message, "expected an object");
    catalog_file_free(&f);

    CHECK(parse(&f, "d.json", "  \n") == 0);
    CHECK(f.ndocs == 0 && f.errors.len == 0);
    catalog_file_free(&f);
}

TEST(load_reads_from_disk_and_reports_missing_files)
{
    char path[] = "/tmp/gr-catalog-load-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    REQUIRE(fd >= 0);
    const char *text = "kind: Component\nmetadata:\n  name: from-disk\n";
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    catalog_file_t f;
    gr_error_t err = {0};
    CHECK(catalog_file_load(&f, path, &err) == 0);
    REQUIRE(f.ndocs == 1);
    CHECK_STR(gr_test_json_str(f.docs[0].entity, "metadata.name"), "from-disk");
    CHECK_STR(f.path, path);
    catalog_file_free(&f);
    unlink(path);

    CHECK(catalog_file_load(&f, path, &err) == GR_ERR_IO);
    CHECK_CONTAINS(err.message, path);
    CHECK_CONTAINS(err.message, "No such file");
    catalog_file_free(&f);
}

TEST_MAIN(TEST_ENTRY(multi_document_file_keeps_each_entity_and_its_start),
          TEST_ENTRY(scalars_are_typed_like_backstage_yaml_reader),
          TEST_ENTRY(syntax_error_is_reported_with_position_and_later_documents_still_load),
          TEST_ENTRY(unclosed_flow_sequence_loses_only_its_own_document),
          TEST_ENTRY(error_on_the_next_marker_keeps_the_complete_document_before_it),
          TEST_ENTRY(document_level_mistakes_are_errors_of_that_document_only),
          TEST_ENTRY(alias_bomb_is_refused_not_expanded),
          TEST_ENTRY(positions_point_at_fields_and_fall_back_to_parents),
          TEST_ENTRY(crlf_files_parse_with_the_same_lines),
          TEST_ENTRY(json_file_parses_with_positions),
          TEST_ENTRY(json_errors_carry_line_and_column),
          TEST_ENTRY(load_reads_from_disk_and_reports_missing_files))
