/* Unit tests for modules/catalog/cache.c, the read cache: expiry, the
 * generation guard against storing answers older than a mutation, the
 * byte limit. */
#include <stdio.h>
#include <string.h>

#include "catalog_plugin.h"
#include "test.h"

TEST(entries_are_served_until_they_expire)
{
    catalog_cache_t *c = catalog_cache_new(1000, 1 << 20);
    size_t len = 0;
    CHECK(catalog_cache_get(c, "component:default/a", 0, &len) == NULL);
    catalog_cache_put(c, catalog_cache_generation(c), "component:default/a", "{\"a\":1}", 7, 100);
    const char *body = catalog_cache_get(c, "component:default/a", 1099, &len);
    CHECK_STR(body, "{\"a\":1}");
    CHECK(len == 7);
    CHECK(catalog_cache_get(c, "component:default/a", 1100, &len) == NULL);
    CHECK(catalog_cache_get(c, "component:default/a", 1101, &len) == NULL);
    catalog_cache_free(c);
}

TEST(a_clear_drops_everything_and_refuses_answers_read_before_it)
{
    catalog_cache_t *c = catalog_cache_new(1000, 1 << 20);
    uint64_t before = catalog_cache_generation(c);
    catalog_cache_put(c, before, "k", "old", 3, 0);
    catalog_cache_clear(c);
    size_t len;
    CHECK(catalog_cache_get(c, "k", 1, &len) == NULL);
    /* A read that began before the clear (a mutation) must not store. */
    catalog_cache_put(c, before, "k", "stale", 5, 2);
    CHECK(catalog_cache_get(c, "k", 3, &len) == NULL);
    catalog_cache_put(c, catalog_cache_generation(c), "k", "fresh", 5, 2);
    CHECK_STR(catalog_cache_get(c, "k", 3, &len), "fresh");
    catalog_cache_free(c);
}

TEST(the_cache_keeps_under_its_byte_limit_and_many_keys)
{
    catalog_cache_t *c = catalog_cache_new(1000, 4096);
    char key[32], body[1000];
    memset(body, 'x', sizeof body);
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "k%d", i);
        catalog_cache_put(c, catalog_cache_generation(c), key, body, sizeof body, 0);
    }
    size_t len, held = 0;
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof key, "k%d", i);
        held += catalog_cache_get(c, key, 1, &len) != NULL;
    }
    CHECK(held >= 1 && held <= 4);
    CHECK(catalog_cache_get(c, "k19", 1, &len) != NULL); /* the newest stays */
    catalog_cache_free(c);

    /* Thousands of small entries: all found (the table grows). */
    c = catalog_cache_new(1000, 64 << 20);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "component:default/svc-%d", i);
        catalog_cache_put(c, catalog_cache_generation(c), key, key, strlen(key), 0);
    }
    int found = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "component:default/svc-%d", i);
        const char *v = catalog_cache_get(c, key, 1, &len);
        found += v && strcmp(v, key) == 0;
    }
    CHECK(found == 5000);
    catalog_cache_free(c);

    /* ttl 0: off. */
    c = catalog_cache_new(0, 1 << 20);
    catalog_cache_put(c, 0, "k", "v", 1, 0);
    CHECK(catalog_cache_get(c, "k", 0, &len) == NULL);
    catalog_cache_free(c);
}

TEST_MAIN(TEST_ENTRY(entries_are_served_until_they_expire),
          TEST_ENTRY(a_clear_drops_everything_and_refuses_answers_read_before_it),
          TEST_ENTRY(the_cache_keeps_under_its_byte_limit_and_many_keys))
