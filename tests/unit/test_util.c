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

TEST(hex_values)
{
    CHECK(gr_hex_value('0') == 0 && gr_hex_value('9') == 9);
    CHECK(gr_hex_value('a') == 10 && gr_hex_value('F') == 15);
    CHECK(gr_hex_value('g') == -1 && gr_hex_value(' ') == -1);
}

/* FNV-1a's published 64-bit vectors. */
TEST(hash_is_fnv1a)
{
    CHECK(gr_hash_string("") == 0xcbf29ce484222325ull);
    CHECK(gr_hash_string("a") == 0xaf63dc4c8601ec8cull);
    CHECK(gr_hash_string("foobar") == 0x85944171f73967e8ull);
    CHECK(gr_hash_update(gr_hash_update(GR_HASH_INIT, "foo", 3), "bar", 3) ==
          gr_hash_string("foobar"));
}

/* One decoder serves GitHub's blobs (standard, padded, wrapped) and the
 * catalog's cursors (URL-safe, unpadded). */
TEST(base64_both_alphabets)
{
    size_t n = 0;
    char *s = gr_base64_decode("aGVs\nbG8=", 9, &n);
    REQUIRE(s);
    CHECK(n == 5 && strcmp(s, "hello") == 0);
    free(s);
    s = gr_base64_decode("aGVsbG8", 7, &n); /* padding left out */
    REQUIRE(s);
    CHECK(n == 5 && strcmp(s, "hello") == 0);
    free(s);
    s = gr_base64_decode("-_8=", 4, &n); /* URL-safe: 0xfb 0xff */
    REQUIRE(s);
    CHECK(n == 2 && (unsigned char)s[0] == 0xfb && (unsigned char)s[1] == 0xff);
    free(s);
    s = gr_base64_decode("+/8=", 4, &n); /* the same bytes, standard */
    REQUIRE(s);
    CHECK(n == 2 && (unsigned char)s[0] == 0xfb && (unsigned char)s[1] == 0xff);
    free(s);
    s = gr_base64_decode("", 0, &n);
    REQUIRE(s);
    CHECK(n == 0);
    free(s);
    CHECK(gr_base64_decode("aGVsbG8*", 8, &n) == NULL);  /* outside the alphabets */
    CHECK(gr_base64_decode("aGVs=bG8", 8, &n) == NULL);  /* data after padding */
    CHECK(gr_base64_decode("aGVsbG8==", 9, &n) == NULL); /* too much padding */
    CHECK(gr_base64_decode("aGVsb", 5, &n) == NULL);     /* no encoder ends so */
    CHECK(gr_base64_decode("aGVsbG", 6, &n) == NULL);    /* leftover bits set */
}

TEST_MAIN(TEST_ENTRY(hex_values), TEST_ENTRY(hash_is_fnv1a), TEST_ENTRY(base64_both_alphabets),
          TEST_ENTRY(id_rule_follows_backstage), TEST_ENTRY(buf_grows_and_escapes_json),
          TEST_ENTRY(strvec_owns_copies))
