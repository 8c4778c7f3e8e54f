/* Unit tests for modules/catalog/stitch.c: the relations lists, final JSON
 * and relations.<type> search rows of the entities a mutation writes. */
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"
#include "test.h"

static void prepare(catalog_prepared_t *p, const char *json)
{
    struct json_object *e = json_tokener_parse(json);
    REQUIRE(e != NULL);
    catalog_prepare_entity(p, e, NULL, NULL, 0);
    json_object_put(e);
    if (p->rejected)
        fprintf(stderr, "refused: %s\n", p->reject_message);
    REQUIRE(!p->rejected);
}

static int has_row(const catalog_stitched_t *s, const char *key, const char *value,
                   const char *original)
{
    for (size_t i = 0; i < s->nrows; i++)
        if (strcmp(s->rows[3 * i], key) == 0 && strcmp(s->rows[3 * i + 1], value) == 0 &&
            strcmp(s->rows[3 * i + 2], original) == 0)
            return 1;
    return 0;
}

TEST(lists_merge_the_written_entities_and_the_stored_ones)
{
    /* A team and one of its members, written together; the member's
     * memberOf and the team's members imply the same pair twice. */
    catalog_prepared_t team, user;
    prepare(&team, "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Group\","
                   "\"metadata\":{\"name\":\"team-a\"},"
                   "\"spec\":{\"type\":\"team\",\"children\":[],\"members\":[\"alice\"]}}");
    prepare(&user, "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"User\","
                   "\"metadata\":{\"name\":\"alice\"},\"spec\":{\"memberOf\":[\"team-a\"]}}");
    /* Sorted by ref, as the catalog hands them over. */
    catalog_prepared_t *written[] = {&team, &user};
    REQUIRE(strcmp(team.ref, user.ref) < 0);
    /* A component stored earlier, not written now, owned by the team. */
    const char *external[] = {"group:default/team-a", "ownerOf", "component:default/Zed",
                              "group:default/team-a", "ownerOf", "component:default/billing"};
    catalog_stitched_t out[2];
    gr_strvec_t others = {0};
    catalog_stitch_build(written, 2, external, 2, out, &others);

    /* The team: hasMember once, then ownerOf sorted bytewise ("Z" < "b"). */
    const char *want_team =
        ",\"relations\":[{\"type\":\"hasMember\",\"targetRef\":\"user:default/alice\"},"
        "{\"type\":\"ownerOf\",\"targetRef\":\"component:default/Zed\"},"
        "{\"type\":\"ownerOf\",\"targetRef\":\"component:default/billing\"}]}";
    size_t body = strlen(team.body);
    REQUIRE(strlen(out[0].final_entity) > body);
    CHECK(strncmp(out[0].final_entity, team.body, body - 1) == 0);
    CHECK_STR(out[0].final_entity + body - 1, want_team);
    CHECK(out[0].nrows == 3);
    CHECK(has_row(&out[0], "relations.hasmember", "user:default/alice", "user:default/alice"));
    CHECK(has_row(&out[0], "relations.ownerof", "component:default/zed", "component:default/Zed"));
    CHECK(has_row(&out[0], "relations.ownerof", "component:default/billing",
                  "component:default/billing"));

    CHECK_CONTAINS(
        out[1].final_entity,
        ",\"relations\":[{\"type\":\"memberOf\",\"targetRef\":\"group:default/team-a\"}]}");
    CHECK(out[1].nrows == 1);
    /* Every source is written: nobody else to re-stitch. */
    CHECK(others.len == 0);

    for (size_t i = 0; i < 2; i++)
        catalog_stitched_free(&out[i]);
    catalog_prepared_free(&team);
    catalog_prepared_free(&user);
    gr_strvec_free(&others);
}

TEST(other_ends_not_written_are_listed_and_lone_entities_get_an_empty_list)
{
    /* A kind the catalog stores as it is, with no relations. */
    catalog_prepared_t api, comp;
    prepare(&api, "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Audit\","
                  "\"metadata\":{\"name\":\"orders\"},\"spec\":{\"owner\":\"team-b\"}}");
    prepare(&comp, "{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Component\","
                   "\"metadata\":{\"name\":\"shop\"},\"spec\":{\"type\":\"service\","
                   "\"lifecycle\":\"production\",\"owner\":\"team-b\",\"system\":\"store\"}}");
    catalog_prepared_t *written[] = {&api, &comp};
    REQUIRE(strcmp(api.ref, comp.ref) < 0);
    catalog_stitched_t out[2];
    gr_strvec_t others = {0};
    catalog_stitch_build(written, 2, NULL, 0, out, &others);
    /* The audit has no relation: its list is empty, and it has no rows. */
    CHECK_CONTAINS(out[0].final_entity, ",\"relations\":[]}");
    CHECK(out[0].nrows == 0);
    CHECK(out[1].nrows == 2);
    /* The group and the system are not written: their lists changed. */
    REQUIRE(others.len == 2);
    CHECK_STR(others.items[0], "group:default/team-b");
    CHECK_STR(others.items[1], "system:default/store");
    for (size_t i = 0; i < 2; i++)
        catalog_stitched_free(&out[i]);
    catalog_prepared_free(&api);
    catalog_prepared_free(&comp);
    gr_strvec_free(&others);
}

TEST_MAIN(TEST_ENTRY(lists_merge_the_written_entities_and_the_stored_ones),
          TEST_ENTRY(other_ends_not_written_are_listed_and_lone_entities_get_an_empty_list))
