/* The real Backstage entity files in ../shared/testdata/backstage/ (see
 * ../shared/testdata/README.md for their origin) run through the whole
 * entity model: parse, defaults, validation, relations, etag.  The first
 * test walks every file there; the others each name the file they read and
 * assert what Backstage would make of it. */
#include <ftw.h>
#include <json.h>
#include <stdlib.h>

#include "catalog_model.h"
#include "json_path.h"
#include "test.h"
#include "util.h"

#define BACKSTAGE_DIR GR_TEST_TESTDATA "/backstage"

/* One ingested file: its entities (defaults applied, validated, stamped)
 * with their validation issues, and every relation they derive. */
typedef struct ingest {
    catalog_file_t file;
    catalog_issues_t *issues; /* one list per document */
    catalog_relations_t relations;
    catalog_issues_t relation_issues;
} ingest_t;

static int ingest(ingest_t *in, const char *relative)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", BACKSTAGE_DIR, relative);
    *in = (ingest_t){0};
    gr_error_t err = {0};
    int rc = catalog_file_load(&in->file, path, &err);
    if (rc == GR_ERR_IO) {
        fprintf(stderr, "%s\n", err.message);
        return rc;
    }
    in->issues = calloc(in->file.ndocs + 1, sizeof *in->issues);
    for (size_t i = 0; i < in->file.ndocs; i++) {
        catalog_doc_t *doc = &in->file.docs[i];
        catalog_entity_apply_defaults(doc->entity);
        if (catalog_entity_validate(doc->entity, &in->issues[i]) == 0)
            catalog_entity_relations(doc->entity, &in->relations, &in->relation_issues);
        catalog_doc_locate_issues(doc, &in->issues[i]);
    }
    return rc;
}

static void ingest_free(ingest_t *in)
{
    for (size_t i = 0; i < in->file.ndocs; i++)
        catalog_issues_free(&in->issues[i]);
    free(in->issues);
    catalog_relations_free(&in->relations);
    catalog_issues_free(&in->relation_issues);
    catalog_file_free(&in->file);
}

/* The document whose canonical ref is `ref`, or NULL. */
static catalog_doc_t *find(ingest_t *in, const char *ref)
{
    for (size_t i = 0; i < in->file.ndocs; i++) {
        char *r = catalog_ref_of_entity(in->file.docs[i].entity);
        int same = r && strcmp(r, ref) == 0;
        free(r);
        if (same)
            return &in->file.docs[i];
    }
    return NULL;
}

static size_t issues_of(ingest_t *in, const char *ref)
{
    catalog_doc_t *d = find(in, ref);
    return d ? in->issues[d - in->file.docs].len : 999;
}

static int rel(const ingest_t *in, const char *src, const char *type, const char *dst)
{
    for (size_t i = 0; i < in->relations.len; i++) {
        const catalog_relation_t *r = &in->relations.items[i];
        if (strcmp(r->source, src) == 0 && strcmp(r->type, type) == 0 &&
            strcmp(r->target, dst) == 0)
            return 1;
    }
    fprintf(stderr, "missing relation %s %s %s\n", src, type, dst);
    return 0;
}

static size_t rels_from(const ingest_t *in, const char *src)
{
    size_t n = 0;
    for (size_t i = 0; i < in->relations.len; i++)
        n += strcmp(in->relations.items[i].source, src) == 0;
    return n;
}

/* ---- every file --------------------------------------------------------------- */

static gr_strvec_t walked;

static int collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_F)
        gr_strvec_push(&walked, path);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files that are meant to be invalid, with how many of their entities are. */
static const struct {
    const char *suffix;
    size_t invalid;
} known_invalid[] = {
    {"catalog-model-examples/components/invalid-component.yaml", 1},
    /* The scaffolder's skeleton: its name is a ${{ }} expression until a
     * template run fills it in. */
    {"create-app-0.9.2/template-content-catalog-info.yaml", 1},
};

/* Entity counts of the files this suite knows; others only have to parse. */
static const struct {
    const char *suffix;
    size_t entities;
} known_counts[] = {
    {"catalog-model-examples/acme/org.yaml", 2},
    {"catalog-model-examples/acme/team-a-group.yaml", 6},
    {"catalog-model-examples/all.yaml", 1},
    {"catalog-model-examples/components/artist-lookup-component.yaml", 1},
    {"catalog-model-examples/components/different-namespace.yaml", 1},
    {"catalog-model-examples/components/invalid-component.yaml", 1},
    {"catalog-model-examples/domains/artists-domain.yaml", 1},
    {"catalog-model-examples/resources/artists-db-resource.yaml", 1},
    {"catalog-model-examples/systems/podcast-system.yaml", 1},
    {"create-app-0.9.2/entities.yaml", 3},
    {"create-app-0.9.2/org.yaml", 2},
    {"create-app-0.9.2/template-content-catalog-info.yaml", 1},
    {"create-app-0.9.2/template-template.yaml", 1},
    {"demo-repo/catalog-info.yaml", 2},
    {"demo-repo/mcp-server-api.yaml", 1},
    {"janus-showcase/all.yaml", 1},
    {"janus-showcase/apis-nexus-repo-manager-3.yaml", 1},
    {"janus-showcase/catalog-info.yaml", 2},
    {"janus-showcase/components-showcase.yaml", 1},
    {"janus-showcase/groups-rhdh-team.yaml", 1},
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads: every *.yaml, *.yml and *.json file under testdata/backstage/. */
TEST(every_backstage_file_ingests)
{
    walked = (gr_strvec_t){0};
    REQUIRE(nftw(BACKSTAGE_DIR, collect, 16, FTW_PHYS) == 0);
    qsort(walked.items, walked.len, sizeof *walked.items, cmp_str);
    size_t files = 0, entities = 0, counted = 0;
    for (size_t i = 0; i < walked.len; i++) {
        const char *path = walked.items[i];
        if (!ends_with(path, ".yaml") && !ends_with(path, ".yml") && !ends_with(path, ".json"))
            continue;
        files++;
        ingest_t in;
        int rc = ingest(&in, path + strlen(BACKSTAGE_DIR) + 1);
        /* Real files from public repositories: no syntax errors. */
        if (rc != 0 || in.file.errors.len) {
            for (size_t k = 0; k < in.file.errors.len; k++) {
                char *s = catalog_issue_format(in.file.path, &in.file.errors.items[k]);
                fprintf(stderr, "%s\n", s);
                free(s);
            }
            CHECK(rc == 0);
        }
        CHECK(in.file.ndocs >= 1);
        entities += in.file.ndocs;

        size_t invalid = 0, expect_invalid = 0;
        int known = 0;
        for (size_t k = 0; k < in.file.ndocs; k++)
            invalid += in.issues[k].len > 0;
        for (size_t k = 0; k < sizeof known_invalid / sizeof known_invalid[0]; k++)
            if (ends_with(path, known_invalid[k].suffix))
                expect_invalid = known_invalid[k].invalid;
        for (size_t k = 0; k < sizeof known_counts / sizeof known_counts[0]; k++) {
            if (ends_with(path, known_counts[k].suffix)) {
                known = 1;
                counted++;
                if (in.file.ndocs != known_counts[k].entities) {
                    fprintf(stderr, "%s: %zu entities, expected %zu\n", path, in.file.ndocs,
                            known_counts[k].entities);
                    CHECK(0);
                }
            }
        }
        if (known && invalid != expect_invalid) {
            fprintf(stderr, "%s: %zu invalid entities, expected %zu\n", path, invalid,
                    expect_invalid);
            for (size_t d = 0; d < in.file.ndocs; d++)
                for (size_t k = 0; k < in.issues[d].len; k++) {
                    char *s = catalog_issue_format(in.file.path, &in.issues[d].items[k]);
                    fprintf(stderr, "  %s\n", s);
                    free(s);
                }
            CHECK(0);
        }
        /* Every valid entity's refs resolve. */
        CHECK(in.relation_issues.len == 0);
        /* And every entity gets a stable etag. */
        for (size_t k = 0; k < in.file.ndocs; k++) {
            char a[CATALOG_ETAG_LEN + 1], b[CATALOG_ETAG_LEN + 1];
            catalog_entity_etag(in.file.docs[k].entity, a);
            catalog_entity_etag(in.file.docs[k].entity, b);
            CHECK(strlen(a) == 64 && strcmp(a, b) == 0);
        }
        ingest_free(&in);
    }
    CHECK(files >= 20);
    CHECK(counted == sizeof known_counts / sizeof known_counts[0]);
    size_t expected = 0;
    for (size_t k = 0; k < sizeof known_counts / sizeof known_counts[0]; k++)
        expected += known_counts[k].entities;
    CHECK(entities >= expected);
    gr_strvec_free(&walked);
}

/* ---- named files ----------------------------------------------------------------- */

/* Reads: catalog-model-examples/acme/org.yaml */
TEST(acme_org_group_hierarchy_and_location)
{
    ingest_t in;
    REQUIRE(ingest(&in, "catalog-model-examples/acme/org.yaml") == 0);
    catalog_doc_t *corp = find(&in, "group:default/acme-corp");
    REQUIRE(corp);
    CHECK(corp->line == 1);
    /* "descendants:\n    [a, ...]": a flow sequence on the next line. */
    struct json_object *desc = gr_test_json_at(corp->entity, "spec.descendants");
    REQUIRE(desc && json_object_array_length(desc) == 7);
    CHECK_STR(gr_test_json_str(corp->entity, "spec.descendants.6"), "team-d");
    CHECK(json_object_array_length(gr_test_json_at(corp->entity, "spec.ancestors")) == 0);
    CHECK(rel(&in, "group:default/acme-corp", "parentOf", "group:default/infrastructure"));
    CHECK(rel(&in, "group:default/infrastructure", "childOf", "group:default/acme-corp"));
    CHECK(rels_from(&in, "group:default/acme-corp") == 1);

    catalog_doc_t *loc = find(&in, "location:default/example-groups");
    REQUIRE(loc);
    CHECK(loc->line == 13);
    CHECK(json_object_array_length(gr_test_json_at(loc->entity, "spec.targets")) == 7);
    CHECK_STR(gr_test_json_str(loc->entity, "spec.targets.3"), "./team-a-group.yaml");
    CHECK(rels_from(&in, "location:default/example-groups") == 0);
    ingest_free(&in);
}

/* Reads: catalog-model-examples/acme/team-a-group.yaml */
TEST(team_a_parent_and_members_and_two_guests)
{
    ingest_t in;
    REQUIRE(ingest(&in, "catalog-model-examples/acme/team-a-group.yaml") == 0);
    CHECK(rel(&in, "group:default/team-a", "childOf", "group:default/backstage"));
    CHECK(rel(&in, "group:default/backstage", "parentOf", "group:default/team-a"));
    static const char *const users[] = {"breanna.davison", "janelle.dawe", "nigel.manning",
                                        "guest"};
    for (size_t i = 0; i < 4; i++) {
        char ref[128];
        snprintf(ref, sizeof ref, "user:default/%s", users[i]);
        CHECK(rel(&in, ref, "memberOf", "group:default/team-a"));
        CHECK(rel(&in, "group:default/team-a", "hasMember", ref));
    }
    /* Same name, two namespaces: two entities, and the one in development
     * names its group with an explicit namespace. */
    catalog_doc_t *g1 = find(&in, "user:default/guest"), *g2 = find(&in, "user:development/guest");
    REQUIRE(g1 && g2 && g1 != g2);
    CHECK(g1->line == 51 && g2->line == 64);
    CHECK(rel(&in, "user:development/guest", "memberOf", "group:default/team-a"));
    CHECK(rel(&in, "group:default/team-a", "hasMember", "user:development/guest"));
    /* "displayName: Guest User " ends in a space, which YAML drops. */
    CHECK_STR(gr_test_json_str(g1->entity, "spec.profile.displayName"), "Guest User");
    CHECK(gr_test_json_at(find(&in, "user:default/breanna.davison")->entity,
                          "spec.profile.displayName") == NULL);
    CHECK(in.relations.len == 2 + 5 * 2);
    char e1[CATALOG_ETAG_LEN + 1], e2[CATALOG_ETAG_LEN + 1];
    catalog_entity_etag(g1->entity, e1);
    catalog_entity_etag(g2->entity, e2);
    CHECK(strcmp(e1, e2) != 0);
    ingest_free(&in);
}

/* Reads: catalog-model-examples/components/artist-lookup-component.yaml */
TEST(artist_lookup_owner_system_tags_links)
{
    ingest_t in;
    REQUIRE(ingest(&in, "catalog-model-examples/components/artist-lookup-component.yaml") == 0);
    catalog_doc_t *c = find(&in, "component:default/artist-lookup");
    REQUIRE(c);
    CHECK(issues_of(&in, "component:default/artist-lookup") == 0);
    CHECK(rel(&in, "component:default/artist-lookup", "ownedBy", "group:default/team-a"));
    CHECK(rel(&in, "group:default/team-a", "ownerOf", "component:default/artist-lookup"));
    CHECK(rel(&in, "component:default/artist-lookup", "partOf",
              "system:default/artist-engagement-portal"));
    CHECK(rel(&in, "system:default/artist-engagement-portal", "hasPart",
              "component:default/artist-lookup"));
    CHECK(in.relations.len == 4);
    CHECK_STR(gr_test_json_str(c->entity, "metadata.tags.1"), "data");
    CHECK(json_object_array_length(gr_test_json_at(c->entity, "metadata.links")) == 7);
    CHECK_STR(gr_test_json_str(c->entity, "metadata.links.6.icon"), "alert");
    CHECK_STR(gr_test_json_str(c->entity, "metadata.namespace"), "default");
    ingest_free(&in);
}

/* Reads: catalog-model-examples/components/different-namespace.yaml and,
 * for a same-named entity in the default namespace,
 * catalog-model-examples/components/artist-lookup-component.yaml. */
TEST(different_namespace_keeps_same_named_entities_apart)
{
    ingest_t in;
    REQUIRE(ingest(&in, "catalog-model-examples/components/different-namespace.yaml") == 0);
    catalog_doc_t *alt = find(&in, "component:alternative/different-namespace");
    REQUIRE(alt);
    CHECK(issues_of(&in, "component:alternative/different-namespace") == 0);
    /* "owner: default/team-a" names the namespace, so the entity's own
     * namespace does not apply; the file also has no final newline. */
    CHECK(rel(&in, "component:alternative/different-namespace", "ownedBy", "group:default/team-a"));
    CHECK_STR(gr_test_json_str(alt->entity, "spec.owner"), "default/team-a");

    /* The same name in the default namespace is another entity. */
    ingest_t other;
    REQUIRE(ingest(&other, "catalog-model-examples/components/artist-lookup-component.yaml") == 0);
    struct json_object *copy = NULL;
    REQUIRE(json_object_deep_copy(other.file.docs[0].entity, &copy, NULL) == 0);
    json_object_object_add(json_object_object_get(copy, "metadata"), "name",
                           json_object_new_string("different-namespace"));
    char *ref_default = catalog_ref_of_entity(copy);
    char *ref_alt = catalog_ref_of_entity(alt->entity);
    CHECK_STR(ref_default, "component:default/different-namespace");
    CHECK(!catalog_ref_equal(ref_default, ref_alt));
    free(ref_default);
    free(ref_alt);
    json_object_put(copy);
    ingest_free(&other);
    ingest_free(&in);
}

/* Reads: catalog-model-examples/components/invalid-component.yaml */
TEST(invalid_component_reports_file_line_and_reason)
{
    ingest_t in;
    REQUIRE(ingest(&in, "catalog-model-examples/components/invalid-component.yaml") == 0);
    REQUIRE(in.file.ndocs == 1);
    catalog_issues_t *is = &in.issues[0];
    REQUIRE(is->len == 2);
    char *first = catalog_issue_format(in.file.path, &is->items[0]);
    CHECK(ends_with(first, "components/invalid-component.yaml:4:9: metadata.name 'invalid "
                           "component' must be sequences of [a-zA-Z0-9] separated by any of "
                           "[-_.], at most 63 characters in total"));
    free(first);
    char *second = catalog_issue_format(in.file.path, &is->items[1]);
    CHECK(ends_with(second, "invalid-component.yaml:11:7: metadata.tags.1 'go 1.15.3' must be "
                            "sequences of [a-z0-9:+#] separated by [-], at most 63 characters in "
                            "total"));
    free(second);
    /* The label "goVersion: go1.15.3" is valid; only name and tag are not. */
    CHECK_STR(gr_test_json_str(in.file.docs[0].entity, "metadata.labels.goVersion"), "go1.15.3");
    CHECK(in.relations.len == 0); /* an invalid entity derives nothing */
    ingest_free(&in);
}

/* Reads: catalog-model-examples/domains/artists-domain.yaml,
 * resources/artists-db-resource.yaml and systems/podcast-system.yaml */
TEST(domain_resource_and_system_examples)
{
    ingest_t in;
    REQUIRE(ingest(&in, "catalog-model-examples/domains/artists-domain.yaml") == 0);
    CHECK(rel(&in, "domain:default/artists", "ownedBy", "group:default/team-a"));
    CHECK(rel(&in, "domain:default/artists", "partOf", "domain:default/audio"));
    CHECK(rel(&in, "domain:default/audio", "hasPart", "domain:default/artists"));
    ingest_free(&in);

    REQUIRE(ingest(&in, "catalog-model-examples/resources/artists-db-resource.yaml") == 0);
    CHECK(rel(&in, "resource:default/artists-db", "ownedBy", "group:default/team-a"));
    CHECK(rel(&in, "system:default/artist-engagement-portal", "hasPart",
              "resource:default/artists-db"));
    ingest_free(&in);

    REQUIRE(ingest(&in, "catalog-model-examples/systems/podcast-system.yaml") == 0);
    CHECK(rel(&in, "system:default/podcast", "ownedBy", "group:default/team-b"));
    CHECK(rel(&in, "system:default/podcast", "partOf", "domain:default/playback"));
    CHECK(rel(&in, "domain:default/playback", "hasPart", "system:default/podcast"));
    ingest_free(&in);
}

/* Reads: create-app-0.9.2/entities.yaml and create-app-0.9.2/org.yaml */
TEST(create_app_examples_provide_api_and_membership)
{
    ingest_t in;
    REQUIRE(ingest(&in, "create-app-0.9.2/entities.yaml") == 0);
    CHECK(rel(&in, "component:default/example-website", "providesApi",
              "api:default/example-grpc-api"));
    CHECK(rel(&in, "api:default/example-grpc-api", "apiProvidedBy",
              "component:default/example-website"));
    CHECK(rel(&in, "api:default/example-grpc-api", "partOf", "system:default/examples"));
    CHECK(rel(&in, "group:default/guests", "ownerOf", "system:default/examples"));
    /* The block scalar keeps its lines and blank lines. */
    const char *def =
        gr_test_json_str(find(&in, "api:default/example-grpc-api")->entity, "spec.definition");
    REQUIRE(def);
    CHECK(strncmp(def, "syntax = \"proto3\";\n\nservice Exampler {\n", 39) == 0);
    CHECK(ends_with(def, "  string example = 1;\n};\n"));
    /* The file starts with "---" and a comment: the first entity starts
     * after them. */
    CHECK(find(&in, "system:default/examples")->line == 3);
    ingest_free(&in);

    REQUIRE(ingest(&in, "create-app-0.9.2/org.yaml") == 0);
    CHECK(rel(&in, "user:default/guest", "memberOf", "group:default/guests"));
    CHECK(rel(&in, "group:default/guests", "hasMember", "user:default/guest"));
    CHECK(in.relations.len == 2);
    ingest_free(&in);
}

/* Reads: create-app-0.9.2/template-template.yaml and
 * create-app-0.9.2/template-content-catalog-info.yaml */
TEST(templates_do_not_crash_and_are_kept_as_they_are)
{
    ingest_t in;
    REQUIRE(ingest(&in, "create-app-0.9.2/template-template.yaml") == 0);
    catalog_doc_t *t = find(&in, "template:default/example-nodejs-template");
    REQUIRE(t);
    CHECK(in.issues[0].len == 0);
    CHECK_STR(gr_test_json_str(t->entity, "apiVersion"), "scaffolder.backstage.io/v1beta3");
    CHECK_STR(gr_test_json_str(t->entity, "spec.steps.1.input.repoUrl"),
              "${{ parameters.repoUrl }}");
    CHECK_STR(gr_test_json_str(t->entity, "spec.steps.2.input.repoContentsUrl"),
              "${{ steps['publish'].output.repoContentsUrl }}");
    CHECK_STR(gr_test_json_str(t->entity, "spec.parameters.0.properties.name.ui:field"),
              "EntityNamePicker");
    struct json_object *autofocus =
        gr_test_json_at(t->entity, "spec.parameters.0.properties.name.ui:autofocus");
    CHECK(json_object_is_type(autofocus, json_type_boolean) && json_object_get_boolean(autofocus));
    CHECK(in.relations.len == 0); /* not a kind BuiltinKindsEntityProcessor handles */
    ingest_free(&in);

    REQUIRE(ingest(&in, "create-app-0.9.2/template-content-catalog-info.yaml") == 0);
    REQUIRE(in.file.ndocs == 1);
    CHECK_STR(gr_test_json_str(in.file.docs[0].entity, "metadata.name"),
              "${{ values.name | dump }}");
    REQUIRE(in.issues[0].len == 1);
    CHECK_STR(in.issues[0].items[0].path, "metadata.name");
    CHECK(in.issues[0].items[0].line == 4);
    ingest_free(&in);
}

/* Reads: demo-repo/catalog-info.yaml and demo-repo/mcp-server-api.yaml */
TEST(demo_repo_namespaced_owner_and_placeholders)
{
    ingest_t in;
    REQUIRE(ingest(&in, "demo-repo/catalog-info.yaml") == 0);
    CHECK(issues_of(&in, "api:default/demo-graphql") == 0); /* definition: {$text: ...} */
    CHECK(rel(&in, "component:default/backstage-demo", "ownedBy", "group:backstage/maintainers"));
    CHECK(rel(&in, "component:default/backstage-demo", "consumesApi", "api:default/demo-graphql"));
    CHECK(
        rel(&in, "api:default/demo-graphql", "apiConsumedBy", "component:default/backstage-demo"));
    /* The API's own spec.apiConsumedBy is not a field Backstage reads. */
    CHECK(rels_from(&in, "api:default/demo-graphql") == 2);
    struct json_object *ann = gr_test_json_at(find(&in, "component:default/backstage-demo")->entity,
                                              "metadata.annotations");
    CHECK_STR(json_object_get_string(json_object_object_get(ann, "backstage.io/techdocs-ref")),
              "dir:.");
    ingest_free(&in);

    REQUIRE(ingest(&in, "demo-repo/mcp-server-api.yaml") == 0);
    CHECK(issues_of(&in, "api:default/github-mcp-server") == 0); /* remotes, no definition */
    CHECK(rel(&in, "api:default/github-mcp-server", "ownedBy", "group:backstage/maintainers"));
    ingest_free(&in);
}

/* Reads: janus-showcase/catalog-info.yaml, components-showcase.yaml,
 * apis-nexus-repo-manager-3.yaml and groups-rhdh-team.yaml */
TEST(janus_showcase_system_component_and_dependencies)
{
    ingest_t in;
    REQUIRE(ingest(&in, "janus-showcase/catalog-info.yaml") == 0);
    /* A System and a Component both named rhdh: different kinds, two entities. */
    REQUIRE(find(&in, "system:default/rhdh") && find(&in, "component:default/rhdh"));
    CHECK(find(&in, "component:default/rhdh")->line == 42);
    CHECK(rel(&in, "component:default/rhdh", "partOf", "system:default/rhdh"));
    CHECK(rel(&in, "system:default/rhdh", "hasPart", "component:default/rhdh"));
    CHECK(rel(&in, "system:default/rhdh", "ownedBy", "group:default/rhdh-team"));
    ingest_free(&in);

    REQUIRE(ingest(&in, "janus-showcase/components-showcase.yaml") == 0);
    static const char *const deps[] = {"pgdb", "argocd", "obc", "keycloak", "github"};
    for (size_t i = 0; i < 5; i++) {
        char ref[64];
        snprintf(ref, sizeof ref, "resource:default/%s", deps[i]);
        CHECK(rel(&in, "component:default/backstage-showcase", "dependsOn", ref));
        CHECK(rel(&in, ref, "dependencyOf", "component:default/backstage-showcase"));
    }
    CHECK(rel(&in, "component:default/backstage-showcase", "partOf", "system:default/janus-idp"));
    CHECK(in.relations.len == 14);
    ingest_free(&in);

    REQUIRE(ingest(&in, "janus-showcase/apis-nexus-repo-manager-3.yaml") == 0);
    CHECK(issues_of(&in, "api:default/nexus-repo-manager3") == 0); /* {$openapi: ...} */
    CHECK(rel(&in, "api:default/nexus-repo-manager3", "partOf", "system:default/janus-idp"));
    ingest_free(&in);

    REQUIRE(ingest(&in, "janus-showcase/groups-rhdh-team.yaml") == 0);
    /* Two comment lines and "---" come before the entity. */
    REQUIRE(find(&in, "group:default/rhdh-team"));
    CHECK(find(&in, "group:default/rhdh-team")->line == 4);
    ingest_free(&in);
}

TEST_MAIN(TEST_ENTRY(every_backstage_file_ingests),
          TEST_ENTRY(acme_org_group_hierarchy_and_location),
          TEST_ENTRY(team_a_parent_and_members_and_two_guests),
          TEST_ENTRY(artist_lookup_owner_system_tags_links),
          TEST_ENTRY(different_namespace_keeps_same_named_entities_apart),
          TEST_ENTRY(invalid_component_reports_file_line_and_reason),
          TEST_ENTRY(domain_resource_and_system_examples),
          TEST_ENTRY(create_app_examples_provide_api_and_membership),
          TEST_ENTRY(templates_do_not_crash_and_are_kept_as_they_are),
          TEST_ENTRY(demo_repo_namespaced_owner_and_placeholders),
          TEST_ENTRY(janus_showcase_system_component_and_dependencies))
