/* Unit tests for modules/catalog/entity_validate.c: Backstage's rules for
 * entity envelopes, field formats and the core kinds' specs.  Entities are
 * written inline as YAML; the real Backstage files are covered by
 * tests/catalog/test_entity_testdata.c. */
#include <json.h>
#include <stdlib.h>

#include "catalog_model.h"
#include "test.h"

/* Parses a one-document YAML string, applies the defaults and validates
 * it.  Returns the number of issues; *out gets them (caller frees). */
static size_t validate(const char *yaml, catalog_issues_t *out)
{
    catalog_file_t f;
    *out = (catalog_issues_t){0};
    if (catalog_file_parse_yaml(&f, "inline.yaml", yaml, strlen(yaml)) != 0 || f.ndocs != 1) {
        catalog_file_free(&f);
        catalog_issues_add(out, "", "the test input did not parse");
        return 1000;
    }
    catalog_entity_apply_defaults(f.docs[0].entity);
    int rc = catalog_entity_validate(f.docs[0].entity, out);
    catalog_doc_locate_issues(&f.docs[0], out);
    catalog_file_free(&f);
    if ((rc == 0) != (out->len == 0))
        return 2000; /* the return code must agree with the issues */
    return out->len;
}

/* 1 when some issue is about `path` and its message contains `text`. */
static int has_issue(const catalog_issues_t *is, const char *path, const char *text)
{
    for (size_t i = 0; i < is->len; i++)
        if (strcmp(is->items[i].path, path) == 0 && strstr(is->items[i].message, text))
            return 1;
    for (size_t i = 0; i < is->len; i++)
        fprintf(stderr, "  issue: [%s] %s\n", is->items[i].path, is->items[i].message);
    return 0;
}

#define COMPONENT_HEAD                                                                             \
    "apiVersion: backstage.io/v1alpha1\n"                                                          \
    "kind: Component\n"

#define COMPONENT_SPEC                                                                             \
    "spec:\n"                                                                                      \
    "  type: service\n"                                                                            \
    "  lifecycle: production\n"                                                                    \
    "  owner: team-a\n"

TEST(valid_component_has_no_issues)
{
    catalog_issues_t is;
    CHECK(validate(COMPONENT_HEAD "metadata:\n"
                                  "  name: Artist_Lookup.v2\n"
                                  "  namespace: my-team\n"
                                  "  title: Artist lookup\n"
                                  "  labels:\n"
                                  "    example.com/custom: custom_label_value\n"
                                  "    empty: ''\n"
                                  "  annotations:\n"
                                  "    backstage.io/techdocs-ref: 'dir:.'\n"
                                  "  tags: [java, c++, c#, 'lang:go', a-b]\n"
                                  "  links:\n"
                                  "    - url: https://admin.example-org.com\n"
                                  "      title: Admin Dashboard\n"
                                  "      icon: dashboard\n" COMPONENT_SPEC
                                  "  system: artist-engagement-portal\n"
                                  "  providesApis: [artist-api]\n"
                                  "  dependsOn: ['resource:artists-db']\n",
                   &is) == 0);
    catalog_issues_free(&is);
}

TEST(invalid_name_is_reported_with_its_rule_and_position)
{
    catalog_issues_t is;
    REQUIRE(validate(COMPONENT_HEAD "metadata:\n  name: invalid component\n" COMPONENT_SPEC, &is) ==
            1);
    CHECK_STR(is.items[0].path, "metadata.name");
    CHECK_STR(is.items[0].message,
              "metadata.name 'invalid component' must be sequences of [a-zA-Z0-9] separated by "
              "any of [-_.], at most 63 characters in total");
    CHECK(is.items[0].line == 4 && is.items[0].column == 9);
    catalog_issues_free(&is);

    static const char *const bad[] = {"-lead", "trail-", "a b", "ä", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, COMPONENT_HEAD "metadata:\n  name: '%s'\n" COMPONENT_SPEC,
                 bad[i]);
        CHECK(validate(yaml, &is) == 1);
        CHECK(has_issue(&is, "metadata.name", "must be sequences"));
        catalog_issues_free(&is);
    }
    char yaml[512];
    snprintf(yaml, sizeof yaml, COMPONENT_HEAD "metadata:\n  name: %s\n" COMPONENT_SPEC,
             "a234567890123456789012345678901234567890123456789012345678901234");
    CHECK(validate(yaml, &is) == 1); /* 64 characters */
    catalog_issues_free(&is);
    snprintf(yaml, sizeof yaml, COMPONENT_HEAD "metadata:\n  name: %s\n" COMPONENT_SPEC,
             "a23456789012345678901234567890123456789012345678901234567890123");
    CHECK(validate(yaml, &is) == 0); /* 63 characters */
    catalog_issues_free(&is);
    CHECK(validate(COMPONENT_HEAD "metadata:\n  name: a--b__c..d\n" COMPONENT_SPEC, &is) == 0);
    catalog_issues_free(&is);
}

TEST(missing_or_mistyped_envelope_fields_are_named)
{
    catalog_issues_t is;
    CHECK(validate("kind: Component\nspec: {}\n", &is) >= 2);
    CHECK(has_issue(&is, "apiVersion", "apiVersion is required"));
    CHECK(has_issue(&is, "metadata", "metadata is required"));
    catalog_issues_free(&is);

    CHECK(validate("apiVersion: backstage.io/v1alpha1\nkind: Widget\nmetadata:\n  name: 5\n",
                   &is) == 1);
    CHECK(has_issue(&is, "metadata.name", "metadata.name must be a string, not a number"));
    catalog_issues_free(&is);

    CHECK(validate("apiVersion: backstage.io/v1alpha1\nkind: Widget\nmetadata: {name: w}\n"
                   "status: {}\nrelations: []\n",
                   &is) == 2);
    CHECK(has_issue(&is, "status", "not a field an entity may have at its root"));
    CHECK(has_issue(&is, "relations", "only apiVersion, kind, metadata and spec"));
    catalog_issues_free(&is);

    CHECK(validate("apiVersion: a/b/c\nkind: 1Widget\nmetadata: {name: w}\n", &is) == 2);
    CHECK(has_issue(&is, "apiVersion", "'a/b/c' must be a version"));
    CHECK(has_issue(&is, "kind", "'1Widget' must be a letter followed by letters and digits"));
    catalog_issues_free(&is);
}

TEST(namespace_defaults_and_follows_dns_label_rules)
{
    catalog_file_t f;
    const char *yaml = "apiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: ''\n";
    REQUIRE(catalog_file_parse_yaml(&f, "n.yaml", yaml, strlen(yaml)) == 0);
    catalog_entity_apply_defaults(f.docs[0].entity);
    char *ref = catalog_ref_of_entity(f.docs[0].entity);
    CHECK_STR(ref, "widget:default/w");
    free(ref);
    struct json_object *meta, *ns;
    REQUIRE(json_object_object_get_ex(f.docs[0].entity, "metadata", &meta));
    REQUIRE(json_object_object_get_ex(meta, "namespace", &ns));
    CHECK_STR(json_object_get_string(ns), "default");
    catalog_file_free(&f);

    catalog_issues_t is;
    static const char *const bad[] = {"Team-A", "team_a", "-a", "a-", "a.b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "apiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: '%s'\n", bad[i]);
        CHECK(validate(text, &is) == 1);
        CHECK(has_issue(&is, "metadata.namespace",
                        "must be sequences of [a-z0-9] separated by [-], at most 63 characters"));
        catalog_issues_free(&is);
    }
}

TEST(labels_annotations_tags_and_links_follow_backstage_formats)
{
    catalog_issues_t is;
    CHECK(validate("apiVersion: v1\nkind: Widget\nmetadata:\n"
                   "  name: w\n"
                   "  labels:\n"
                   "    'bad key': ok\n"     /* key not an object name */
                   "    Example.com/x: ok\n" /* prefix not a DNS subdomain */
                   "    good: 'not valid'\n" /* value not an object name */
                   "    count: 3\n"          /* not a string */
                   "  annotations:\n"
                   "    a/b/c: x\n" /* two slashes */
                   "    fine.example.com/any: 'Any text, even spaces!'\n"
                   "    number: 1\n" /* not a string */
                   "  tags: [Java, 'has space', ok-tag, 'x--y', 3]\n"
                   "  links:\n"
                   "    - url: not a url\n"
                   "    - title: no url\n"
                   "    - url: http://\n"
                   "    - url: https://ok.example.com\n"
                   "      title: '  '\n"
                   "      icon: 'bad icon'\n",
                   &is) == 15);
    CHECK(has_issue(&is, "metadata.labels.bad key", "has the key 'bad key'"));
    CHECK(has_issue(&is, "metadata.labels.Example.com/x", "has the key"));
    CHECK(has_issue(&is, "metadata.labels.good", "'not valid' must be empty or sequences"));
    CHECK(has_issue(&is, "metadata.labels.count", "must be a string, not a number"));
    CHECK(has_issue(&is, "metadata.annotations.a/b/c", "has the key 'a/b/c'"));
    CHECK(has_issue(&is, "metadata.annotations.number", "must be a string, not a number"));
    CHECK(has_issue(&is, "metadata.tags.0", "'Java' must be sequences of [a-z0-9:+#]"));
    CHECK(has_issue(&is, "metadata.tags.1", "'has space'"));
    CHECK(has_issue(&is, "metadata.tags.3", "'x--y'"));
    CHECK(has_issue(&is, "metadata.tags.4", "must be a string, not a number"));
    CHECK(has_issue(&is, "metadata.links.0.url", "'not a url' must be a valid URL"));
    CHECK(has_issue(&is, "metadata.links.1.url", "metadata.links.1.url is required"));
    CHECK(has_issue(&is, "metadata.links.2.url", "'http://' must be a valid URL"));
    CHECK(has_issue(&is, "metadata.links.3.title", "must not be empty"));
    CHECK(has_issue(&is, "metadata.links.3.icon", "'bad icon' must be sequences"));
    catalog_issues_free(&is);
}

TEST(core_kinds_require_their_spec_fields)
{
    static const struct {
        const char *yaml;
        const char *path;
        const char *text;
    } cases[] = {
        {"kind: Component\nspec: {type: s, lifecycle: l}\n", "spec.owner",
         "spec.owner is required for kind Component"},
        {"kind: Component\nspec: {type: s, owner: o}\n", "spec.lifecycle", "required"},
        {"kind: Component\nspec: {lifecycle: l, owner: o}\n", "spec.type", "required"},
        {"kind: Component\n", "spec", "spec is required for kind Component"},
        {"kind: API\nspec: {type: openapi, lifecycle: l, owner: o}\n", "spec.definition",
         "spec.definition is required for kind API"},
        {"kind: API\nspec: {type: mcp-server, lifecycle: l, owner: o}\n", "spec.remotes",
         "spec.remotes is required for kind API"},
        {"kind: API\nspec: {type: mcp-server, lifecycle: l, owner: o, remotes: []}\n",
         "spec.remotes", "must be a non-empty list"},
        {"kind: API\nspec: {type: mcp-server, lifecycle: l, owner: o, remotes: [{type: x}]}\n",
         "spec.remotes.0.url", "spec.remotes.0.url is required"},
        {"kind: System\nspec: {domain: d}\n", "spec.owner", "required for kind System"},
        {"kind: Domain\nspec: {}\n", "spec.owner", "required for kind Domain"},
        {"kind: Resource\nspec: {owner: o}\n", "spec.type", "required for kind Resource"},
        {"kind: Group\nspec: {type: team}\n", "spec.children", "required for kind Group"},
        {"kind: Group\nspec: {type: team, children: child}\n", "spec.children",
         "must be a list of entity references, not a string"},
        {"kind: User\nspec: {memberOf: [team-a, '']}\n", "spec.memberOf.1", "must not be empty"},
        {"kind: User\nspec: {profile: nope}\n", "spec.profile", "must be a mapping"},
        {"kind: Location\nspec: {targets: [1]}\n", "spec.targets.0", "must be a string"},
        {"kind: Component\nspec: {type: s, lifecycle: l, owner: o, system: ''}\n", "spec.system",
         "must not be empty"},
        {"kind: Component\nspec: {type: s, lifecycle: l, owner: [o]}\n", "spec.owner",
         "must be a string, not a list"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "apiVersion: backstage.io/v1alpha1\nmetadata: {name: x}\n%s",
                 cases[i].yaml);
        catalog_issues_t is;
        size_t n = validate(yaml, &is);
        if (n != 1 || !has_issue(&is, cases[i].path, cases[i].text)) {
            fprintf(stderr, "case %zu: %zu issues for\n%s", i, n, yaml);
            CHECK(0);
        }
        catalog_issues_free(&is);
    }
}

TEST(valid_core_kinds_pass)
{
    static const char *const specs[] = {
        "kind: API\nspec: {type: openapi, lifecycle: l, owner: o, definition: 'openapi: 3'}\n",
        "kind: API\nspec: {type: openapi, lifecycle: l, owner: o,\n"
        "  definition: {$openapi: 'https://example.com/spec.json'}}\n",
        "kind: API\nspec: {type: graphql, lifecycle: l, owner: o, definition: {$text: ./s.gql}}\n",
        "kind: API\nspec: {type: mcp-server, lifecycle: l, owner: o,\n"
        "  remotes: [{type: streamable-http, url: 'https://x/mcp'}]}\n",
        "kind: System\nspec: {owner: o, domain: d, type: product}\n",
        "kind: Domain\nspec: {owner: o, subdomainOf: parent}\n",
        "kind: Resource\nspec: {type: database, owner: o, dependencyOf: ['component:x']}\n",
        "kind: Group\nspec: {type: team, children: [], members: [u], parent: p,\n"
        "  profile: {displayName: T}}\n",
        "kind: User\nspec: {}\n",
        "kind: User\nspec: {memberOf: []}\n",
        "kind: Location\nspec: {type: url, target: 'https://x/catalog-info.yaml'}\n",
        "kind: Location\nspec: {targets: [./a.yaml, ./b.yaml]}\n",
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "apiVersion: backstage.io/v1beta1\nmetadata: {name: x}\n%s",
                 specs[i]);
        catalog_issues_t is;
        if (validate(yaml, &is) != 0) {
            fprintf(stderr, "case %zu:\n%s", i, yaml);
            has_issue(&is, "", "\x01"); /* prints them */
            CHECK(0);
        }
        catalog_issues_free(&is);
    }
}

TEST(core_kind_needs_a_backstage_api_version_and_exact_spelling)
{
    catalog_issues_t is;
    CHECK(validate(
              "apiVersion: example.com/v1\nkind: Component\nmetadata: {name: x}\n" COMPONENT_SPEC,
              &is) == 1);
    CHECK(has_issue(&is, "apiVersion",
                    "'example.com/v1' must be backstage.io/v1alpha1 or backstage.io/v1beta1 for "
                    "kind Component"));
    catalog_issues_free(&is);

    CHECK(validate("apiVersion: backstage.io/v1alpha1\nkind: component\nmetadata: {name: "
                   "x}\n" COMPONENT_SPEC,
                   &is) == 1);
    CHECK(has_issue(&is, "kind", "'component' must be written 'Component'"));
    catalog_issues_free(&is);
}

TEST(other_kinds_are_stored_as_they_are)
{
    catalog_issues_t is;
    /* A scaffolder template with ${{ }} expressions in its steps. */
    CHECK(validate("apiVersion: scaffolder.backstage.io/v1beta3\n"
                   "kind: Template\n"
                   "metadata: {name: example-nodejs-template}\n"
                   "spec:\n"
                   "  owner: user:guest\n"
                   "  steps:\n"
                   "    - input: {values: {name: '${{ parameters.name }}'}}\n",
                   &is) == 0);
    catalog_issues_free(&is);
    CHECK(validate("apiVersion: acme.io/v2\nkind: Pipeline\nmetadata: {name: p}\n"
                   "spec: {anything: [1, {goes: true}]}\n",
                   &is) == 0);
    catalog_issues_free(&is);
    CHECK(catalog_kind_is_core("Component"));
    CHECK(catalog_kind_is_core("Location"));
    CHECK(!catalog_kind_is_core("Template"));
    CHECK(!catalog_kind_is_core("component"));
}

TEST(issue_format_names_file_line_and_reason)
{
    catalog_issues_t is;
    REQUIRE(validate(COMPONENT_HEAD
                     "metadata:\n  name: ok\n  tags: [fine, 'Not Fine']\n" COMPONENT_SPEC,
                     &is) == 1);
    char *s = catalog_issue_format("services/catalog-info.yaml", &is.items[0]);
    CHECK_STR(s, "services/catalog-info.yaml:5:16: metadata.tags.1 'Not Fine' must be sequences "
                 "of [a-z0-9:+#] separated by [-], at most 63 characters in total");
    free(s);
    is.items[0].line = 0;
    s = catalog_issue_format("f.yaml", &is.items[0]);
    CHECK(strncmp(s, "f.yaml: metadata.tags.1", 23) == 0);
    free(s);
    catalog_issues_free(&is);
}

TEST_MAIN(TEST_ENTRY(valid_component_has_no_issues),
          TEST_ENTRY(invalid_name_is_reported_with_its_rule_and_position),
          TEST_ENTRY(missing_or_mistyped_envelope_fields_are_named),
          TEST_ENTRY(namespace_defaults_and_follows_dns_label_rules),
          TEST_ENTRY(labels_annotations_tags_and_links_follow_backstage_formats),
          TEST_ENTRY(core_kinds_require_their_spec_fields), TEST_ENTRY(valid_core_kinds_pass),
          TEST_ENTRY(core_kind_needs_a_backstage_api_version_and_exact_spelling),
          TEST_ENTRY(other_kinds_are_stored_as_they_are),
          TEST_ENTRY(issue_format_names_file_line_and_reason))
