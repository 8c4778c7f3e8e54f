/* Unit tests for modules/catalog/entity_ref.c: parsing and printing entity
 * references the way Backstage's parseEntityRef and stringifyEntityRef do. */
#include <json.h>
#include <stdlib.h>

#include "catalog_model.h"
#include "test.h"

static void check_parse(const char *text, const char *dkind, const char *dns, const char *kind,
                        const char *ns, const char *name)
{
    catalog_ref_t r;
    gr_error_t err = {0};
    int rc = catalog_ref_parse(&r, text, dkind, dns, &err);
    if (rc != 0) {
        fprintf(stderr, "parsing '%s' failed: %s\n", text, err.message);
        CHECK(rc == 0);
        return;
    }
    CHECK_STR(r.kind, kind);
    CHECK_STR(r.namespace, ns);
    CHECK_STR(r.name, name);
    catalog_ref_free(&r);
}

TEST(refs_parse_in_every_form_backstage_accepts)
{
    check_parse("team-a", "Group", NULL, "Group", "default", "team-a");
    check_parse("user:guest", "Group", NULL, "user", "default", "guest");
    check_parse("group:default/team-a", "Group", NULL, "group", "default", "team-a");
    check_parse("default/team-a", "Group", "other", "Group", "default", "team-a");
    check_parse("resource:artists-db", NULL, "ns", "resource", "ns", "artists-db");
    check_parse("backstage/maintainers", "Group", NULL, "Group", "backstage", "maintainers");
    check_parse("short", "API", "alternative", "API", "alternative", "short");
    /* Backstage's odd cases: a '/' before the ':' means no kind, and only
     * the first separator of each kind splits. */
    check_parse("a/b:c", "Group", NULL, "Group", "a", "b:c");
    check_parse("k:b:c", NULL, NULL, "k", "default", "b:c");
    check_parse("k:ns/b/c", NULL, NULL, "k", "ns", "b/c");
    /* Case is kept by parsing; the canonical string lowers it. */
    check_parse("Component:Default/Svc", NULL, NULL, "Component", "Default", "Svc");
}

TEST(malformed_refs_are_refused_with_a_reason)
{
    static const char *const bad[] = {"", ":name", "kind:/name", "/name", "kind:", "ns/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        catalog_ref_t r;
        gr_error_t err = {0};
        CHECK(catalog_ref_parse(&r, bad[i], "Group", NULL, &err) == GR_ERR_INVALID);
        CHECK(err.message[0] != '\0');
        CHECK(r.kind == NULL && r.name == NULL);
    }
    catalog_ref_t r;
    gr_error_t err = {0};
    CHECK(catalog_ref_parse(&r, "artists-db", NULL, NULL, &err) == GR_ERR_INVALID);
    CHECK_CONTAINS(err.message, "'artists-db' has no kind");
    CHECK(catalog_ref_normalize("x", NULL, NULL, &err) == NULL);
}

TEST(canonical_string_is_lower_case_with_defaults)
{
    char *s = catalog_ref_string("Component", NULL, "Artist-Lookup");
    CHECK_STR(s, "component:default/artist-lookup");
    free(s);
    s = catalog_ref_string("API", "Alternative", "X");
    CHECK_STR(s, "api:alternative/x");
    free(s);
    gr_error_t err = {0};
    s = catalog_ref_normalize("Group:Default/Team-A", NULL, NULL, &err);
    CHECK_STR(s, "group:default/team-a");
    free(s);
    s = catalog_ref_normalize("team-b", "Group", "ops", &err);
    CHECK_STR(s, "group:ops/team-b");
    free(s);
}

TEST(entity_ref_and_comparison_ignore_case)
{
    const char *json = "{\"kind\":\"Component\",\"metadata\":{\"name\":\"Svc\"}}";
    struct json_object *e = json_tokener_parse(json);
    char *ref = catalog_ref_of_entity(e);
    CHECK_STR(ref, "component:default/svc");
    CHECK(catalog_ref_equal(ref, "Component:Default/SVC"));
    CHECK(!catalog_ref_equal(ref, "component:other/svc"));
    free(ref);
    json_object_put(e);

    e = json_tokener_parse(
        "{\"kind\":\"User\",\"metadata\":{\"name\":\"g\",\"namespace\":\"dev\"}}");
    ref = catalog_ref_of_entity(e);
    CHECK_STR(ref, "user:dev/g");
    free(ref);
    json_object_put(e);

    e = json_tokener_parse("{\"kind\":\"User\",\"metadata\":{}}");
    CHECK(catalog_ref_of_entity(e) == NULL);
    json_object_put(e);
}

TEST_MAIN(TEST_ENTRY(refs_parse_in_every_form_backstage_accepts),
          TEST_ENTRY(malformed_refs_are_refused_with_a_reason),
          TEST_ENTRY(canonical_string_is_lower_case_with_defaults),
          TEST_ENTRY(entity_ref_and_comparison_ignore_case))
