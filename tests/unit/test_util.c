/* Unit tests for core/util.c: buffers, string lists, the id rule. */
#include "test.h"
#include "util.h"

TEST(id_rule_follows_backstage)
{
    CHECK(gr_id_is_valid("catalog"));
    CHECK(gr_id_is_valid("kafka-topology"));
    CHECK(gr_id_is_valid("a1-b2-c3"));
    CHECK(!gr_id_is_valid(""));
    CHECK(!gr_id_is_valid("1abc"));
    CHECK(!gr_id_is_valid("Catalog"));
    CHECK(!gr_id_is_valid("a--b"));
    CHECK(!gr_id_is_valid("a-"));
    CHECK(!gr_id_is_valid("-a"));
    CHECK(!gr_id_is_valid("a_b"));
}

TEST(buf_grows_and_escapes_json)
{
    gr_buf_t b = {0};
    for (int i = 0; i < 1000; i++)
        gr_buf_printf(&b, "%d,", i);
    CHECK(b.len > 3000);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    gr_buf_reset(&b);
    gr_buf_json_string(&b, "a\"b\\c\n\x01");
    CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    gr_buf_free(&b);
}

TEST(strvec_owns_copies)
{
    gr_strvec_t v = {0};
    char tmp[8] = "abc";
    gr_strvec_push(&v, tmp);
    tmp[0] = 'x';
    gr_strvec_pushf(&v, "n=%d", 5);
    CHECK(gr_strvec_contains(&v, "abc"));
    CHECK(gr_strvec_contains(&v, "n=5"));
    CHECK(!gr_strvec_contains(&v, "xbc"));
    gr_strvec_free(&v);
}

TEST_MAIN(TEST_ENTRY(id_rule_follows_backstage), TEST_ENTRY(buf_grows_and_escapes_json),
          TEST_ENTRY(strvec_owns_copies))
