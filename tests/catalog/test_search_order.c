/* Unit tests for the search table's row order (modules/catalog/search.c):
 * a large load's rows are sorted, and merged, in the order of the table's
 * (key, value) index, as PostgreSQL compares under the C collation: bytes
 * as unsigned, a shorter string before any longer one it begins, a null
 * value after every other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_plugin.h"
#include "test.h"

/* The order the index keeps, written out plainly. */
static int index_order(const char *const *x, const char *const *y)
{
    int c = strcmp(x[1], y[1]);
    if (c)
        return c;
    if (!x[2] || !y[2])
        return (x[2] == NULL) - (y[2] == NULL);
    return strcmp(x[2], y[2]);
}

static int is_sorted(const char *const *rows, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (index_order(&rows[4 * (i - 1)], &rows[4 * i]) > 0)
            return 0;
    return 1;
}

/* Row i of a generated load: its uid and original name the row, so a test
 * can tell that a row moved whole. */
typedef struct load {
    char (*names)[32];
    char **keys, **values;
    const char **rows;
    size_t n;
} load_t;

static const char *const test_keys[] = {"metadata.name", "metadata.namespace", "kind",
                                        "spec.owner", "relations.ownedby", "metadata.tags",
                                        "spec.dependson.resource:default/db-1", "a"};
static const char *const value_stems[] = {"", "a", "abcdefg", "abcdefgh", "abcdefghi",
                                          "abcdefgh\xc3\xa9", "user-0123@example.com",
                                          "user-0124@example.com", "\x7f", "z"};

static void make_load(load_t *l, size_t n, unsigned seed)
{
    srand(seed);
    l->n = n;
    l->names = calloc(n, sizeof *l->names);
    l->keys = calloc(n, sizeof *l->keys);
    l->values = calloc(n, sizeof *l->values);
    l->rows = calloc(4 * n, sizeof *l->rows);
    for (size_t i = 0; i < n; i++) {
        snprintf(l->names[i], sizeof l->names[i], "row-%zu", i);
        l->keys[i] = strdup(test_keys[rand() % 8]);
        int v = rand() % 12;
        if (v == 10) {
            l->values[i] = NULL;
        } else {
            const char *stem = value_stems[v % 10];
            char buf[64];
            /* Some values go on after a shared stem, some are the stem. */
            if (v == 11 || rand() % 2)
                snprintf(buf, sizeof buf, "%s%d", stem, rand() % 50);
            else
                snprintf(buf, sizeof buf, "%s", stem);
            l->values[i] = strdup(buf);
        }
        l->rows[4 * i] = l->names[i];
        l->rows[4 * i + 1] = l->keys[i];
        l->rows[4 * i + 2] = l->values[i];
        l->rows[4 * i + 3] = l->names[i];
    }
}

static void free_load(load_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->keys[i]);
        free(l->values[i]);
    }
    free(l->names);
    free(l->keys);
    free(l->values);
    free(l->rows);
}

/* Every row still has its own key and value beside its uid and original. */
static int rows_whole(const load_t *l, const char *const *rows)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *const *r = &rows[4 * i];
        size_t k = (size_t)strtoul(r[0] + 4, NULL, 10);
        if (r[3] != r[0] || r[1] != l->keys[k] || r[2] != l->values[k])
            return 0;
    }
    return 1;
}

TEST(sort_puts_rows_in_the_index_order_and_moves_them_whole)
{
    load_t l;
    make_load(&l, 5000, 7);
    CHECK(!is_sorted(l.rows, l.n));
    catalog_search_table_rows_sort(l.rows, l.n);
    CHECK(is_sorted(l.rows, l.n));
    CHECK(rows_whole(&l, l.rows));
    free_load(&l);
}

TEST(sort_compares_past_the_first_eight_bytes_and_puts_null_last)
{
    const char *rows[] = {
        "u1", "k", NULL,                  "o1", /* null: after every value */
        "u2", "k", "abcdefgh\xc3\xa9",    "o2", /* a high byte: after ASCII */
        "u3", "k", "abcdefghz",           "o3",
        "u4", "k", "abcdefgh",            "o4", /* a prefix: before its longer forms */
        "u5", "k", "abcdefg",             "o5",
        "u6", "k", "",                    "o6",
        "u7", "j", "zzzz",                "o7", /* a smaller key first, whatever its value */
        "u8", "k", "abcdefghz",           "o8", /* equal to u3 */
    };
    catalog_search_table_rows_sort(rows, 8);
    const char *expected[] = {"u7", "u6", "u5", "u4", "u3", "u8", "u2", "u1"};
    for (size_t i = 0; i < 8; i++) {
        if (i == 4 || i == 5) /* u3 and u8 are equal: either order */
            CHECK(strcmp(rows[4 * i], "u3") == 0 || strcmp(rows[4 * i], "u8") == 0);
        else
            CHECK_STR(rows[4 * i], expected[i]);
    }
    CHECK(is_sorted(rows, 8));
}

TEST(sort_leaves_zero_and_one_row_alone)
{
    const char *one[] = {"u", "k", "v", "o"};
    catalog_search_table_rows_sort(one, 1);
    CHECK_STR(one[0], "u");
    catalog_search_table_rows_sort(NULL, 0);
}

TEST(merge_of_two_sorted_loads_is_sorted_and_keeps_the_first_loads_rows_first)
{
    load_t a, b;
    make_load(&a, 3000, 11);
    make_load(&b, 1000, 12);
    catalog_search_table_rows_sort(a.rows, a.n);
    catalog_search_table_rows_sort(b.rows, b.n);
    const char **out = calloc(4 * (a.n + b.n), sizeof *out);
    catalog_search_table_rows_merge(a.rows, a.n, b.rows, b.n, out);
    CHECK(is_sorted(out, a.n + b.n));
    /* Each load's rows all arrive, in their own order; of equal rows, a's
     * come before b's. */
    size_t ia = 0, ib = 0;
    int stable = 1;
    for (size_t i = 0; i < a.n + b.n; i++) {
        const char *const *r = &out[4 * i];
        if (ia < a.n && r[0] == a.rows[4 * ia]) {
            ia++;
        } else if (ib < b.n && r[0] == b.rows[4 * ib]) {
            if (ia < a.n && index_order(&a.rows[4 * ia], r) == 0)
                stable = 0;
            ib++;
        }
    }
    CHECK(ia == a.n);
    CHECK(ib == b.n);
    CHECK(stable);
    /* One side empty: a copy of the other. */
    catalog_search_table_rows_merge(NULL, 0, b.rows, b.n, out);
    CHECK(memcmp(out, b.rows, 4 * b.n * sizeof *out) == 0);
    free(out);
    free_load(&a);
    free_load(&b);
}

TEST_MAIN(TEST_ENTRY(sort_puts_rows_in_the_index_order_and_moves_them_whole),
          TEST_ENTRY(sort_compares_past_the_first_eight_bytes_and_puts_null_last),
          TEST_ENTRY(sort_leaves_zero_and_one_row_alone),
          TEST_ENTRY(merge_of_two_sorted_loads_is_sorted_and_keeps_the_first_loads_rows_first))
