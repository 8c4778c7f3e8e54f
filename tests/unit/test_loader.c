/* Unit tests for core/loader.c: opening module files (built from
 * tests/fixtures/modules/ by the test suite) and ordering them. */
#include "loader.h"
#include "test.h"

#define FIXTURE(name) GR_TEST_FIXTURE_MODULES "/" name ".so"

static int open_fixture(const char *path, gr_module_file_t *out, gr_error_t *err)
{
    gr_error_clear(err);
    return gr_loader_open(path, out, err);
}

TEST(opens_a_good_plugin_and_reads_its_descriptor)
{
    gr_module_file_t m;
    gr_error_t err;
    REQUIRE(open_fixture(FIXTURE("alpha"), &m, &err) == 0);
    CHECK_STR(m.display_id, "alpha");
    CHECK_STR(m.desc->version, "1.2.3");
    CHECK(m.desc->kind == GR_KIND_PLUGIN);
    gr_loader_close(&m);

    REQUIRE(open_fixture(FIXTURE("alpha-extra"), &m, &err) == 0);
    CHECK_STR(m.display_id, "alpha.extra");
    gr_loader_close(&m);
}

TEST(refuses_each_bad_file_with_a_clear_message)
{
    static const struct {
        const char *file;
        int code;
        const char *says;
    } cases[] = {
        {FIXTURE("bad-abi"), GR_ERR_UNSUPPORTED, "built for module ABI version 999, but this host speaks version 1"},
        {FIXTURE("bad-magic"), GR_ERR_INVALID, "bad descriptor magic 0x12345678"},
        {FIXTURE("newer-sdk"), GR_ERR_UNSUPPORTED, "newer SDK than this host"},
        {FIXTURE("no-entry"), GR_ERR_INVALID, "does not export gr_module_entry()"},
        {FIXTURE("bad-id"), GR_ERR_INVALID, "plugin id 'Bad_Id' does not match"},
        {FIXTURE("undefined-symbol"), GR_ERR_IO, "gr_fixture_symbol_that_does_not_exist"},
        {GR_TEST_FIXTURE_MODULES "/does-not-exist.so", GR_ERR_IO, "cannot load module"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gr_module_file_t m;
        gr_error_t err;
        int rc = open_fixture(cases[i].file, &m, &err);
        CHECK(rc == cases[i].code);
        CHECK_CONTAINS(err.message, cases[i].says);
        /* Every refusal names the file. */
        CHECK_CONTAINS(err.message, cases[i].file);
        CHECK(m.handle == NULL && m.path == NULL);
    }
}

TEST(finds_modules_by_name_in_directories_in_order)
{
    gr_strvec_t dirs = {0};
    gr_strvec_push(&dirs, "/nonexistent-dir");
    gr_strvec_push(&dirs, GR_TEST_FIXTURE_MODULES);
    gr_error_t err = {0};
    char *path = gr_loader_find("alpha", &dirs, &err);
    CHECK_STR(path, FIXTURE("alpha"));
    free(path);

    CHECK(gr_loader_find("nope", &dirs, &err) == NULL);
    CHECK_CONTAINS(err.message, "module 'nope' not found: no nope.so in /nonexistent-dir, " GR_TEST_FIXTURE_MODULES);
    CHECK(gr_loader_find("Not Valid", &dirs, &err) == NULL);
    CHECK_CONTAINS(err.message, "not a valid id");
    gr_strvec_free(&dirs);
}

/* Opens the named fixtures and orders them; returns the order's ids joined
 * by spaces, or the error message. */
static void order_of(const char *const *names, size_t n, char *out, size_t out_len)
{
    gr_module_file_t mods[8];
    size_t order[8];
    gr_error_t err = {0};
    size_t opened = 0;
    for (; opened < n; opened++) {
        char *path = gr_xasprintf(GR_TEST_FIXTURE_MODULES "/%s.so", names[opened]);
        int rc = gr_loader_open(path, &mods[opened], &err);
        free(path);
        if (rc != 0)
            break;
    }
    if (opened < n) {
        snprintf(out, out_len, "open failed: %s", err.message);
    } else if (gr_loader_order(mods, n, order, &err) != 0) {
        snprintf(out, out_len, "error: %s", err.message);
    } else {
        out[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            strncat(out, mods[order[i]].display_id, out_len - strlen(out) - 1);
            if (i + 1 < n)
                strncat(out, " ", out_len - strlen(out) - 1);
        }
    }
    for (size_t i = 0; i < opened; i++)
        gr_loader_close(&mods[i]);
}

TEST(orders_modules_before_their_plugin_and_dependencies_first)
{
    char out[1024];
    /* The config's order must not matter. */
    const char *a[] = {"beta", "alpha", "alpha-extra"};
    order_of(a, 3, out, sizeof out);
    CHECK_STR(out, "alpha.extra alpha beta");
    const char *b[] = {"alpha-extra", "beta", "alpha"};
    order_of(b, 3, out, sizeof out);
    CHECK_STR(out, "alpha.extra alpha beta");
}

TEST(refuses_bad_sets)
{
    char out[1024];
    const char *cycle[] = {"cycle-a", "cycle-b"};
    order_of(cycle, 2, out, sizeof out);
    CHECK_CONTAINS(out, "error: dependency cycle among: cycle-a (");
    CHECK_CONTAINS(out, "cycle-b (");

    const char *dup[] = {"alpha", "dup-alpha"};
    order_of(dup, 2, out, sizeof out);
    CHECK_CONTAINS(out, "error: duplicate id 'alpha': declared by");
    CHECK_CONTAINS(out, "dup-alpha.so");

    const char *missing[] = {"needs-missing"};
    order_of(missing, 1, out, sizeof out);
    CHECK_CONTAINS(out, "depends on plugin 'nonexistent', which no loaded module provides");

    const char *orphan[] = {"orphan"};
    order_of(orphan, 1, out, sizeof out);
    CHECK_CONTAINS(out, "module 'ghost.orphan' extends plugin 'ghost', which is not loaded");
}

TEST_MAIN(TEST_ENTRY(opens_a_good_plugin_and_reads_its_descriptor),
          TEST_ENTRY(refuses_each_bad_file_with_a_clear_message),
          TEST_ENTRY(finds_modules_by_name_in_directories_in_order),
          TEST_ENTRY(orders_modules_before_their_plugin_and_dependencies_first),
          TEST_ENTRY(refuses_bad_sets))
