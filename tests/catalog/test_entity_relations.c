/* Unit tests for modules/catalog/entity_relations.c: the relations
 * Backstage's BuiltinKindsEntityProcessor derives from each kind's spec.
 * Entities are inline YAML; test_entity_testdata.c covers the real files. */
#include <json.h>
#include <stdlib.h>

#include "catalog_model.h"
#include "test.h"

/* Derives the relations of a one-document YAML string. */
static int derive(const char *yaml, catalog_relations_t *rels, catalog_issues_t *issues)
{
    catalog_file_t f;
    *rels = (catalog_relations_t){0};
    *issues = (catalog_issues_t){0};
    if (catalog_file_parse_yaml(&f, "r.yaml", yaml, strlen(yaml)) != 0 || f.ndocs != 1) {
        catalog_file_free(&f);
        return -100;
    }
    catalog_entity_apply_defaults(f.docs[0].entity);
    int rc = catalog_entity_relations(f.docs[0].entity, rels, issues);
    catalog_file_free(&f);
    return rc;
}

static int has(const catalog_relations_t *r, const char *src, const char *type, const char *dst)
{
    for (size_t i = 0; i < r->len; i++)
        if (strcmp(r->items[i].source, src) == 0 && strcmp(r->items[i].type, type) == 0 &&
            strcmp(r->items[i].target, dst) == 0)
            return 1;
    fprintf(stderr, "missing %s %s %s among:\n", src, type, dst);
    for (size_t i = 0; i < r->len; i++)
        fprintf(stderr, "  %s %s %s\n", r->items[i].source, r->items[i].type, r->items[i].target);
    return 0;
}

TEST(component_relations_use_each_fields_default_kind)
{
    catalog_relations_t r;
    catalog_issues_t is;
    CHECK(derive("apiVersion: backstage.io/v1alpha1\n"
                 "kind: Component\n"
                 "metadata: {name: Svc, namespace: ns1}\n"
                 "spec:\n"
                 "  type: service\n"
                 "  lifecycle: production\n"
                 "  owner: Team-A\n"
                 "  system: portal\n"
                 "  subcomponentOf: parent-svc\n"
                 "  providesApis: [api-one, 'other/api-two']\n"
                 "  consumesApis: ['api:default/ext']\n"
                 "  dependsOn: ['resource:db', 'component:lib']\n"
                 "  dependencyOf: ['component:front']\n",
                 &r, &is) == 0);
    CHECK(is.len == 0);
    const char *self = "component:ns1/svc";
    CHECK(has(&r, self, "ownedBy", "group:ns1/team-a"));
    CHECK(has(&r, "group:ns1/team-a", "ownerOf", self));
    CHECK(has(&r, self, "partOf", "system:ns1/portal"));
    CHECK(has(&r, "system:ns1/portal", "hasPart", self));
    CHECK(has(&r, self, "partOf", "component:ns1/parent-svc"));
    CHECK(has(&r, "component:ns1/parent-svc", "hasPart", self));
    CHECK(has(&r, self, "providesApi", "api:ns1/api-one"));
    CHECK(has(&r, "api:other/api-two", "apiProvidedBy", self));
    CHECK(has(&r, self, "consumesApi", "api:default/ext"));
    CHECK(has(&r, "api:default/ext", "apiConsumedBy", self));
    CHECK(has(&r, self, "dependsOn", "resource:ns1/db"));
    CHECK(has(&r, "resource:ns1/db", "dependencyOf", self));
    CHECK(has(&r, self, "dependsOn", "component:ns1/lib"));
    CHECK(has(&r, self, "dependencyOf", "component:ns1/front"));
    CHECK(has(&r, "component:ns1/front", "dependsOn", self));
    CHECK(r.len == 18);
    catalog_relations_free(&r);
    catalog_issues_free(&is);
}

TEST(every_core_kind_emits_its_relations)
{
    static const struct {
        const char *yaml;
        const char *src, *type, *dst;
        size_t count;
    } cases[] = {
        {"kind: API\nmetadata: {name: a}\nspec: {owner: o, system: s}\n", "api:default/a", "partOf",
         "system:default/s", 4},
        {"kind: Resource\nmetadata: {name: r}\nspec: {owner: 'user:u', system: s,\n"
         "  dependsOn: ['resource:x'], dependencyOf: ['component:y']}\n",
         "resource:default/r", "ownedBy", "user:default/u", 8},
        {"kind: System\nmetadata: {name: s}\nspec: {owner: o, domain: d}\n", "system:default/s",
         "partOf", "domain:default/d", 4},
        {"kind: Domain\nmetadata: {name: d}\nspec: {owner: o, subdomainOf: top}\n",
         "domain:default/top", "hasPart", "domain:default/d", 4},
        {"kind: User\nmetadata: {name: u}\nspec: {memberOf: [g1, 'group:x/g2']}\n", "group:x/g2",
         "hasMember", "user:default/u", 4},
        {"kind: Group\nmetadata: {name: g}\nspec: {type: t, parent: p, children: [c],\n"
         "  members: [m]}\n",
         "user:default/m", "memberOf", "group:default/g", 6},
        {"kind: Group\nmetadata: {name: g}\nspec: {type: t, parent: p, children: []}\n",
         "group:default/p", "parentOf", "group:default/g", 2},
        {"kind: Location\nmetadata: {name: l}\nspec: {targets: [./a.yaml]}\n", NULL, NULL, NULL, 0},
        {"kind: Template\nmetadata: {name: t}\nspec: {owner: 'user:guest',\n"
         "  steps: [{input: {name: '${{ parameters.name }}'}}]}\n",
         NULL, NULL, NULL, 0},
        /* Backstage matches kinds exactly: a mis-cased kind derives nothing. */
        {"kind: component\nmetadata: {name: c}\nspec: {owner: o}\n", NULL, NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        catalog_relations_t r;
        catalog_issues_t is;
        int rc = derive(cases[i].yaml, &r, &is);
        if (rc != 0 || r.len != cases[i].count ||
            (cases[i].src && !has(&r, cases[i].src, cases[i].type, cases[i].dst))) {
            fprintf(stderr, "case %zu: rc %d, %zu relations\n", i, rc, r.len);
            CHECK(0);
        }
        catalog_relations_free(&r);
        catalog_issues_free(&is);
    }
}

TEST(bad_refs_become_issues_and_the_rest_still_derives)
{
    catalog_relations_t r;
    catalog_issues_t is;
    CHECK(derive("kind: Component\nmetadata: {name: c}\n"
                 "spec: {owner: o, dependsOn: [no-kind, 'resource:ok', 7, 'kind:']}\n",
                 &r, &is) == GR_ERR_INVALID);
    REQUIRE(is.len == 3);
    CHECK_STR(is.items[0].path, "spec.dependsOn.0");
    CHECK_CONTAINS(is.items[0].message, "spec.dependsOn.0: entity reference 'no-kind' has no kind");
    CHECK_STR(is.items[1].path, "spec.dependsOn.2");
    CHECK_CONTAINS(is.items[1].message, "must be an entity reference, not a number");
    CHECK_STR(is.items[2].path, "spec.dependsOn.3");
    CHECK(has(&r, "component:default/c", "dependsOn", "resource:default/ok"));
    CHECK(has(&r, "component:default/c", "ownedBy", "group:default/o"));
    CHECK(r.len == 4);
    catalog_relations_free(&r);
    catalog_issues_free(&is);
}

TEST(duplicate_relations_are_stored_once)
{
    catalog_relations_t r;
    catalog_issues_t is;
    CHECK(derive("kind: Component\nmetadata: {name: c}\n"
                 "spec: {owner: o, dependsOn: ['resource:db', 'Resource:Default/DB']}\n",
                 &r, &is) == 0);
    CHECK(r.len == 4);
    catalog_relations_free(&r);
    catalog_issues_free(&is);
}

TEST(inverse_pairs_match_backstage)
{
    static const char *const pairs[][2] = {
        {"ownedBy", "ownerOf"},           {"partOf", "hasPart"},
        {"dependsOn", "dependencyOf"},    {"providesApi", "apiProvidedBy"},
        {"consumesApi", "apiConsumedBy"}, {"memberOf", "hasMember"},
        {"childOf", "parentOf"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        CHECK_STR(catalog_relation_inverse(pairs[i][0]), pairs[i][1]);
        CHECK_STR(catalog_relation_inverse(pairs[i][1]), pairs[i][0]);
    }
    CHECK(catalog_relation_inverse("likes") == NULL);
}

TEST_MAIN(TEST_ENTRY(component_relations_use_each_fields_default_kind),
          TEST_ENTRY(every_core_kind_emits_its_relations),
          TEST_ENTRY(bad_refs_become_issues_and_the_rest_still_derives),
          TEST_ENTRY(duplicate_relations_are_stored_once),
          TEST_ENTRY(inverse_pairs_match_backstage))
