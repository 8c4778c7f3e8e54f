/* Unit tests for the central-config provider's pure parts: globs
 * (glob.c), mapping templates (mapping.c) and the scan of a directory
 * (scan.c) over real files in a temporary directory. */
#include <json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "central_config.h"
#include "test.h"

TEST(globs_match_segments_double_stars_classes_and_braces)
{
    CHECK(cc_glob_match("**/catalog-info.yaml", "catalog-info.yaml"));
    CHECK(cc_glob_match("**/catalog-info.yaml", "a/b/catalog-info.yaml"));
    CHECK(!cc_glob_match("**/catalog-info.yaml", "a/b/other-catalog-info.yaml"));
    CHECK(cc_glob_match("services/*.yaml", "services/a.yaml"));
    CHECK(!cc_glob_match("services/*.yaml", "services/x/a.yaml"));
    CHECK(cc_glob_match("services/**", "services/x/a.yaml"));
    CHECK(cc_glob_match("a/**/b/*.json", "a/b/c.json"));
    CHECK(cc_glob_match("a/**/b/*.json", "a/x/y/b/c.json"));
    CHECK(cc_glob_match("**/*.{yaml,yml,json}", "t/x.yml"));
    CHECK(!cc_glob_match("**/*.{yaml,yml,json}", "t/x.txt"));
    CHECK(cc_glob_match("team-[a-c].yaml", "team-b.yaml"));
    CHECK(!cc_glob_match("team-[!a-c].yaml", "team-b.yaml"));
    CHECK(cc_glob_match("file?.yaml", "file1.yaml"));
    CHECK(!cc_glob_match("file?.yaml", "file12.yaml"));
    CHECK(cc_glob_match("./teams/*.yaml", "teams/x.yaml"));
    /* Hidden names need a pattern that names the dot. */
    CHECK(!cc_glob_match("**/*.yaml", ".github/workflows/ci.yaml"));
    CHECK(!cc_glob_match("*.yaml", ".hidden.yaml"));
    CHECK(cc_glob_match(".github/**/*.yaml", ".github/workflows/ci.yaml"));
}

static char *render(const char *template_json, const char *item_json, const char *key)
{
    struct json_object *t = json_tokener_parse(template_json);
    struct json_object *item = json_tokener_parse(item_json);
    gr_error_t err = {0};
    struct json_object *out = cc_mapping_render(t, item, key, "lists/a.yaml", &err);
    char *text = out ? gr_xstrdup(json_object_to_json_string_ext(
                           out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE))
                     : NULL;
    json_object_put(out);
    json_object_put(t);
    json_object_put(item);
    return text;
}

TEST(mapping_templates_keep_types_interpolate_default_and_drop_missing)
{
    char *s =
        render("{\"name\":\"{{ name }}\",\"tags\":\"{{ tags }}\",\"title\":\"Svc {{ name }} "
               "({{ $key }})\",\"owner\":\"{{ team | platform }}\",\"desc\":\"{{ nope }}\","
               "\"list\":[\"{{ nope }}\",\"x\"],\"file\":\"{{ $file }}\",\"n\":\"{{ n }}\","
               "\"deep\":\"{{ a.b }}\"}",
               "{\"name\":\"billing\",\"tags\":[\"a\",\"b\"],\"n\":5,\"a\":{\"b\":\"c\"}}", "3");
    CHECK_STR(s, "{\"name\":\"billing\",\"tags\":[\"a\",\"b\"],\"title\":\"Svc billing (3)\","
                 "\"owner\":\"platform\",\"list\":[\"x\"],\"file\":\"lists/a.yaml\",\"n\":5,"
                 "\"deep\":\"c\"}");
    free(s);
    s = render("{\"name\":\"{{ $value }}\"}", "\"just-a-name\"", "0");
    CHECK_STR(s, "{\"name\":\"just-a-name\"}");
    free(s);
    CHECK(render("\"{{ name }}\"", "{\"name\":\"x\"}", NULL) == NULL);
}

/* ---- scanning a directory -------------------------------------------------------------- */

static char root[256];

static void write_file(const char *rel, const char *fmt, ...)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

#define COMPONENT(name, extra)                                                                     \
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: " name "\n" extra      \
    "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"

static const cc_file_error_t *error_for(const cc_scan_result_t *r, const char *path,
                                        const char *needle)
{
    for (size_t i = 0; i < r->nerrors; i++)
        if (strcmp(r->errors[i].path, path) == 0 && strstr(r->errors[i].message, needle))
            return &r->errors[i];
    return NULL;
}

static const cc_scan_entity_t *entity_for(const cc_scan_result_t *r, const char *ref)
{
    for (size_t i = 0; i < r->nentities; i++)
        if (strcmp(r->entities[i].ref, ref) == 0)
            return &r->entities[i];
    return NULL;
}

static void rm_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void options(cc_scan_options_t *o)
{
    *o = (cc_scan_options_t){0};
    o->root = gr_xstrdup(root);
    o->location_prefix = gr_xasprintf("file:%s/", root);
    o->max_file_bytes = 1 << 20;
    gr_strvec_push(&o->include, "**/*.{yaml,yml,json}");
}

TEST(a_scan_reads_selected_files_in_order_and_reports_each_problem_in_place)
{
    snprintf(root, sizeof root, "/tmp/gr-cc-scan-XXXXXX");
    REQUIRE(mkdtemp(root) != NULL);
    write_file("b/service.yaml", COMPONENT("svc-b", ""));
    write_file("a/two.yaml", COMPONENT("svc-a", "") "---\n" COMPONENT("svc-a2", ""));
    /* The same entity again, later in path order: a conflict it loses. */
    write_file("c/dup.yaml", "# a comment\n" COMPONENT("svc-b", ""));
    write_file("c/broken.yaml", "apiVersion: backstage.io/v1alpha1\nkind: [\n");
    write_file("c/invalid.yaml", COMPONENT("bad name", ""));
    write_file("d/api.yaml",
               "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-x\nspec:\n"
               "  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n"
               "    $text: ./openapi.txt\n");
    write_file("d/openapi.txt", "openapi: 3.0.0\n");
    write_file("d/escape.yaml",
               "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-y\nspec:\n"
               "  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n"
               "    $text: ../../../../../../../../../../etc/passwd\n");
    /* A link inside the repository to a file outside it is refused too. */
    char link_path[512];
    snprintf(link_path, sizeof link_path, "%s/d/link.txt", root);
    REQUIRE(symlink("/etc/passwd", link_path) == 0);
    write_file("d/linked.yaml",
               "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-z\nspec:\n"
               "  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n"
               "    $text: ./link.txt\n");
    write_file("e/c.json", "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Group\","
                           "\"metadata\":{\"name\":\"team-a\"},\"spec\":{\"type\":\"team\","
                           "\"children\":[]}}");
    write_file(".github/ci.yaml", "not: an entity\n");
    write_file("notes.txt", "ignored");

    cc_scan_options_t o;
    options(&o);
    gr_strvec_push(&o.exclude, "e/**");
    cc_scan_result_t r;
    cc_scan(&o, &r);
    CHECK(r.status == 0);
    /* a/two.yaml (2), b/service.yaml, d/api.yaml; e/ is excluded. */
    CHECK(r.nentities == 4);
    REQUIRE(entity_for(&r, "component:default/svc-b") != NULL);
    CHECK_STR(entity_for(&r, "component:default/svc-b")->path, "b/service.yaml");
    CHECK(entity_for(&r, "group:default/team-a") == NULL);
    const cc_scan_entity_t *second = entity_for(&r, "component:default/svc-a2");
    REQUIRE(second != NULL);
    CHECK(second->line == 10);
    CHECK_CONTAINS(second->location, "/a/two.yaml");

    const cc_file_error_t *e = error_for(&r, "c/dup.yaml", "conflict");
    REQUIRE(e != NULL);
    CHECK(e->line == 2);
    CHECK_CONTAINS(e->message, "b/service.yaml:1:1, which wins");
    e = error_for(&r, "c/broken.yaml", "YAML");
    REQUIRE(e != NULL);
    CHECK(e->line >= 2);
    e = error_for(&r, "c/invalid.yaml", "metadata.name");
    REQUIRE(e != NULL);
    CHECK(e->line == 4 && e->column == 9);
    e = error_for(&r, "d/escape.yaml", "outside the config repository");
    REQUIRE(e != NULL);
    CHECK(e->line == 10);
    CHECK(error_for(&r, "d/linked.yaml", "outside the config repository") != NULL);
    CHECK(entity_for(&r, "api:default/api-y") == NULL);
    CHECK(entity_for(&r, "api:default/api-z") == NULL);
    CHECK(error_for(&r, ".github/ci.yaml", "") == NULL);

    /* The placeholder was replaced by the file's text. */
    const cc_scan_entity_t *api = entity_for(&r, "api:default/api-x");
    REQUIRE(api != NULL);
    struct json_object *spec = json_object_object_get(api->entity, "spec");
    CHECK_STR(json_object_get_string(json_object_object_get(spec, "definition")),
              "openapi: 3.0.0\n");
    /* Errors come sorted by path then line. */
    for (size_t i = 1; i < r.nerrors; i++)
        CHECK(strcmp(r.errors[i - 1].path, r.errors[i].path) <= 0);
    cc_scan_result_free(&r);
    cc_scan_options_free(&o);
    rm_tree(root);
}

TEST(mapping_rules_turn_lists_and_maps_into_entities)
{
    snprintf(root, sizeof root, "/tmp/gr-cc-map-XXXXXX");
    REQUIRE(mkdtemp(root) != NULL);
    write_file("services.yaml", "services:\n  - name: billing\n    team: payments\n"
                                "  - name: ledger\n    team: payments\n"
                                "  - team: nobody\n");
    write_file("teams.yaml", "teams:\n  payments:\n    lead: ann\n  search:\n    lead: bob\n");
    cc_scan_options_t o;
    options(&o);
    o.nmappings = 2;
    o.mappings = gr_xcalloc(2, sizeof *o.mappings);
    gr_strvec_push(&o.mappings[0].include, "services.yaml");
    o.mappings[0].items = gr_xstrdup("services");
    o.mappings[0].entity = json_tokener_parse(
        "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Component\",\"metadata\":{"
        "\"name\":\"{{ name }}\"},\"spec\":{\"type\":\"service\",\"lifecycle\":\"{{ lifecycle | "
        "production }}\",\"owner\":\"{{ team }}\"}}");
    gr_strvec_push(&o.mappings[1].include, "teams.yaml");
    o.mappings[1].items = gr_xstrdup("teams");
    o.mappings[1].entity = json_tokener_parse(
        "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Group\",\"metadata\":{\"name\":"
        "\"{{ $key }}\",\"description\":\"Led by {{ lead }}\"},\"spec\":{\"type\":\"team\","
        "\"children\":[]}}");
    cc_scan_result_t r;
    cc_scan(&o, &r);
    CHECK(r.nentities == 4);
    const cc_scan_entity_t *ledger = entity_for(&r, "component:default/ledger");
    REQUIRE(ledger != NULL);
    CHECK(ledger->line == 4);
    const cc_scan_entity_t *search = entity_for(&r, "group:default/search");
    REQUIRE(search != NULL);
    CHECK_STR(json_object_get_string(json_object_object_get(
                  json_object_object_get(search->entity, "metadata"), "description")),
              "Led by bob");
    /* The third item has no name: reported at the item, with the rule. */
    const cc_file_error_t *e = error_for(&r, "services.yaml", "mapping #1");
    REQUIRE(e != NULL);
    CHECK(e->line == 6);
    CHECK_CONTAINS(e->message, "services.2");
    cc_scan_result_free(&r);
    cc_scan_options_free(&o);
    rm_tree(root);
}

TEST(a_scan_in_parts_gives_the_serial_result_whatever_the_order_parts_run_in)
{
    snprintf(root, sizeof root, "/tmp/gr-cc-parts-XXXXXX");
    REQUIRE(mkdtemp(root) != NULL);
    char name[64], rel[64];
    for (int i = 0; i < 40; i++) {
        /* Every tenth file redefines an entity of an earlier file. */
        snprintf(name, sizeof name, "svc-%02d", i % 10 == 9 ? i - 9 : i);
        snprintf(rel, sizeof rel, "f%02d.yaml", i);
        write_file(rel,
                   "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n"
                   "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
                   name);
    }
    write_file("f05b.yaml", "kind: [\n");
    cc_scan_options_t o;
    options(&o);
    cc_scan_result_t serial, parted;
    cc_scan(&o, &serial);
    cc_scan_job_t *job = cc_scan_begin(&o, 3, &parted);
    REQUIRE(job != NULL);
    REQUIRE(cc_scan_parts(job) == 3);
    for (size_t i = 3; i-- > 0;)
        cc_scan_part(job, i);
    cc_scan_finish(job);
    CHECK(serial.nentities == 36);
    REQUIRE(parted.nentities == serial.nentities);
    for (size_t i = 0; i < serial.nentities; i++)
        CHECK_STR(parted.entities[i].path, serial.entities[i].path);
    REQUIRE(parted.nerrors == serial.nerrors);
    CHECK(serial.nerrors == 5); /* four conflicts and a syntax error */
    for (size_t i = 0; i < serial.nerrors; i++)
        CHECK_STR(parted.errors[i].message, serial.errors[i].message);
    CHECK(parted.files == 41);
    cc_scan_result_free(&serial);
    cc_scan_result_free(&parted);
    cc_scan_options_free(&o);
    rm_tree(root);
}

TEST(a_missing_root_fails_the_scan_as_a_whole)
{
    cc_scan_options_t o = {0};
    o.root = gr_xstrdup("/nonexistent/greenroom-config-repo");
    cc_scan_result_t r;
    cc_scan(&o, &r);
    CHECK(r.status == GR_ERR_NOT_FOUND);
    CHECK_CONTAINS(r.message, "does not exist");
    cc_scan_result_free(&r);
    cc_scan_options_free(&o);
}

TEST_MAIN(TEST_ENTRY(globs_match_segments_double_stars_classes_and_braces),
          TEST_ENTRY(mapping_templates_keep_types_interpolate_default_and_drop_missing),
          TEST_ENTRY(a_scan_reads_selected_files_in_order_and_reports_each_problem_in_place),
          TEST_ENTRY(mapping_rules_turn_lists_and_maps_into_entities),
          TEST_ENTRY(a_scan_in_parts_gives_the_serial_result_whatever_the_order_parts_run_in),
          TEST_ENTRY(a_missing_root_fails_the_scan_as_a_whole))
