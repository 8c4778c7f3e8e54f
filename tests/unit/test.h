/* tests/unit/test.h: the few macros every unit test uses.
 *
 * CHECK records a failure and goes on; REQUIRE stops the test function.
 * test_main() runs each TEST and prints "N passed, N failed" (the line CI
 * reads), exiting non-zero on any failure. */
#ifndef GR_TEST_H
#define GR_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int gr_test_checks_failed_in_case;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);           \
            gr_test_checks_failed_in_case++;                                                   \
        }                                                                                      \
    } while (0)

#define REQUIRE(cond)                                                                          \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);         \
            gr_test_checks_failed_in_case++;                                                   \
            return;                                                                            \
        }                                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                                        \
    do {                                                                                       \
        const char *a_ = (a), *b_ = (b);                                                       \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                               \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", expected \"%s\"\n",        \
                    __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
            gr_test_checks_failed_in_case++;                                                   \
        }                                                                                      \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                       \
    do {                                                                                       \
        const char *h_ = (haystack), *n_ = (needle);                                           \
        if (!h_ || !strstr(h_, n_)) {                                                          \
            fprintf(stderr, "%s:%d: CHECK_CONTAINS failed: \"%s\" does not contain \"%s\"\n",  \
                    __FILE__, __LINE__, h_ ? h_ : "(null)", n_);                               \
            gr_test_checks_failed_in_case++;                                                   \
        }                                                                                      \
    } while (0)

typedef struct gr_test_case {
    const char *name;
    void (*fn)(void);
} gr_test_case_t;

#define TEST(name) static void name(void)
#define TEST_ENTRY(name) {#name, name}

static inline int gr_test_run(const gr_test_case_t *cases, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        gr_test_checks_failed_in_case = 0;
        cases[i].fn();
        if (gr_test_checks_failed_in_case) {
            failed++;
            fprintf(stderr, "FAIL %s\n", cases[i].name);
        } else {
            passed++;
            fprintf(stderr, "ok   %s\n", cases[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define TEST_MAIN(...)                                                                         \
    int main(void)                                                                             \
    {                                                                                          \
        static const gr_test_case_t cases[] = {__VA_ARGS__};                                   \
        return gr_test_run(cases, sizeof cases / sizeof cases[0]);                             \
    }

#endif
