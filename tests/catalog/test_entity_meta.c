/* Unit tests for modules/catalog/entity_meta.c and catalog_sha256.c:
 * metadata.uid, canonical JSON and metadata.etag. */
#include <json.h>
#include <stdlib.h>

#include "catalog_internal.h"
#include "catalog_model.h"
#include "test.h"

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

TEST(uuids_are_random_version_4)
{
    char a[CATALOG_UUID_LEN + 1], b[CATALOG_UUID_LEN + 1];
    REQUIRE(catalog_uuid_v4(a) == 0);
    REQUIRE(catalog_uuid_v4(b) == 0);
    CHECK(strlen(a) == 36);
    CHECK(strcmp(a, b) != 0);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            CHECK(a[i] == '-');
        else
            CHECK(is_hex(a[i]));
    }
    CHECK(a[14] == '4');
    CHECK(strchr("89ab", a[19]) != NULL);
}

TEST(sha256_matches_the_standard_vectors)
{
    char out[65];
    catalog__sha256_hex("", 0, out);
    CHECK_STR(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    catalog__sha256_hex("abc", 3, out);
    CHECK_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    catalog__sha256_hex(two_blocks, strlen(two_blocks), out);
    CHECK_STR(out, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    catalog__sha256_hex(million, 1000000, out);
    CHECK_STR(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

TEST(canonical_json_ignores_key_order_and_formatting)
{
    struct json_object *a = json_tokener_parse(
        "{\"kind\":\"Component\",\"metadata\":{\"name\":\"x\",\"tags\":[\"b\",\"a\"]},"
        "\"spec\":{\"n\":1.5,\"z\":null,\"t\":true,\"s\":\"q\\\"\\n\\u0001\"}}");
    struct json_object *b = json_tokener_parse(
        "{ \"spec\": {\"t\": true, \"z\": null, \"s\": \"q\\\"\\n\\u0001\", \"n\": 1.50},\n"
        "  \"metadata\": {\"tags\": [\"b\", \"a\"], \"name\": \"x\"}, \"kind\": \"Component\" }");
    char *ca = catalog_entity_canonical_json(a), *cb = catalog_entity_canonical_json(b);
    CHECK_STR(ca, "{\"kind\":\"Component\",\"metadata\":{\"name\":\"x\",\"tags\":[\"b\",\"a\"]},"
                  "\"spec\":{\"n\":1.5,\"s\":\"q\\\"\\n\\u0001\",\"t\":true,\"z\":null}}");
    CHECK_STR(ca, cb);
    free(ca);
    free(cb);
    char ea[CATALOG_ETAG_LEN + 1], eb[CATALOG_ETAG_LEN + 1];
    catalog_entity_etag(a, ea);
    catalog_entity_etag(b, eb);
    CHECK_STR(ea, eb);
    CHECK(strlen(ea) == 64);
    json_object_put(a);
    json_object_put(b);
}

TEST(etag_changes_with_content_but_not_with_stamping)
{
    struct json_object *e =
        json_tokener_parse("{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Component\","
                           "\"metadata\":{\"name\":\"x\"},\"spec\":{\"owner\":\"a\"}}");
    char before[CATALOG_ETAG_LEN + 1], after[CATALOG_ETAG_LEN + 1];
    catalog_entity_etag(e, before);
    REQUIRE(catalog_entity_stamp(e, NULL) == 0);
    catalog_entity_etag(e, after);
    CHECK_STR(before, after);

    struct json_object *meta, *uid, *etag;
    REQUIRE(json_object_object_get_ex(e, "metadata", &meta));
    REQUIRE(json_object_object_get_ex(meta, "uid", &uid));
    REQUIRE(json_object_object_get_ex(meta, "etag", &etag));
    CHECK(strlen(json_object_get_string(uid)) == 36);
    CHECK_STR(json_object_get_string(etag), before);

    /* Keeping the uid across syncs: stamping again with it changes nothing. */
    char *kept = strdup(json_object_get_string(uid));
    REQUIRE(catalog_entity_stamp(e, kept) == 0);
    REQUIRE(json_object_object_get_ex(meta, "uid", &uid));
    CHECK_STR(json_object_get_string(uid), kept);
    free(kept);

    struct json_object *spec;
    REQUIRE(json_object_object_get_ex(e, "spec", &spec));
    json_object_object_add(spec, "owner", json_object_new_string("b"));
    catalog_entity_etag(e, after);
    CHECK(strcmp(before, after) != 0);
    json_object_put(e);

    struct json_object *no_meta = json_tokener_parse("{\"kind\":\"X\"}");
    CHECK(catalog_entity_stamp(no_meta, NULL) == GR_ERR_INVALID);
    json_object_put(no_meta);
}

TEST_MAIN(TEST_ENTRY(uuids_are_random_version_4), TEST_ENTRY(sha256_matches_the_standard_vectors),
          TEST_ENTRY(canonical_json_ignores_key_order_and_formatting),
          TEST_ENTRY(etag_changes_with_content_but_not_with_stamping))
