/* Unit tests for modules/github/json_scan.c, the github plugin's check that
 * a payload is one JSON object (with its top-level action), against json-c
 * on every shared webhook payload and on hand-made edge cases. */
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "github_internal.h"
#include "test.h"

static int scan_str(const char *s, github_json_scan_t *out)
{
    return github_json_scan(s, strlen(s), out);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = '\0';
    fclose(f);
    return b;
}

TEST(every_testdata_payload_scans_like_json_c)
{
    static const char *const dirs[] = {"check_run",    "deployment",  "deployment_status", "go-scm",
                                       "issues",       "ping",        "pull_request",      "push",
                                       "workflow_job", "workflow_run"};
    int files = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/webhooks/%s", GR_TEST_TESTDATA, dirs[d]);
        DIR *dp = opendir(dir);
        REQUIRE(dp);
        struct dirent *e;
        while ((e = readdir(dp)) != NULL) {
            if (!strstr(e->d_name, ".json"))
                continue;
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            size_t len;
            char *text = read_all(path, &len);
            REQUIRE(text);
            github_json_scan_t s;
            int rc = github_json_scan(text, len, &s);
            if (rc != 0)
                fprintf(stderr, "%s: rejected at byte %zu\n", path, s.error_offset);
            CHECK(rc == 0);
            struct json_object *o = json_tokener_parse(text), *a;
            REQUIRE(o);
            if (json_object_object_get_ex(o, "action", &a) &&
                json_object_is_type(a, json_type_string)) {
                REQUIRE(s.action);
                CHECK(s.action_len == strlen(json_object_get_string(a)));
                CHECK(strncmp(s.action, json_object_get_string(a), s.action_len) == 0);
            } else {
                CHECK(s.action == NULL);
            }
            json_object_put(o);
            free(text);
            files++;
        }
        closedir(dp);
    }
    CHECK(files >= 25);
}

TEST(edge_cases)
{
    github_json_scan_t s;
    CHECK(scan_str("{}", &s) == 0 && s.action == NULL);
    CHECK(scan_str(" \r\n\t{ } \n", &s) == 0);
    CHECK(scan_str("{\"action\":\"opened\"}", &s) == 0 && s.action_len == 6);
    /* Only the top level's action counts, and the last one wins. */
    CHECK(scan_str("{\"x\":{\"action\":\"inner\"},\"n\":1}", &s) == 0 && s.action == NULL);
    CHECK(scan_str("{\"action\":\"a\",\"action\":null}", &s) == 0 && s.action == NULL);
    CHECK(scan_str("{\"action\":5}", &s) == 0 && s.action == NULL);
    CHECK(scan_str("{\"action\":\"clos\\u0065d\"}", &s) == 0 && s.action_escaped == 1);
    CHECK(scan_str("{\"a\":[1,-2.5e+3,0,0.1,true,false,null,\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]}",
                   &s) == 0);
    CHECK(scan_str("{\"a\":\"\\u00e9\\ud83d\\ude00 ünï\"}", &s) == 0);

    /* Not one JSON object. */
    const char *bad[] = {"",
                         "[]",
                         "\"x\"",
                         "{",
                         "{\"a\"}",
                         "{\"a\":}",
                         "{\"a\":1,}",
                         "{\"a\":01}",
                         "{\"a\":1.}",
                         "{\"a\":.5}",
                         "{\"a\":-}",
                         "{\"a\":tru}",
                         "{\"a\":\"\\x\"}",
                         "{\"a\":\"\\u12\"}",
                         "{\"a\":\"tab\there\"}",
                         "{} {}",
                         "{\"a\":[1,]}",
                         "{'a':1}",
                         "{\"a\":1e}",
                         "{\"a\":NaN}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = scan_str(bad[i], &s);
        if (rc == 0)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(rc < 0);
    }
    /* A string's contents are skipped eight bytes at a time: a quote, an
     * escape, a control character or a non-ASCII byte at every offset of a
     * long string is still seen where it is. */
    for (size_t at = 0; at < 40; at++) {
        char text[64], body[48];
        memset(body, 'a', 40);
        body[40] = '\0';
        body[at] = '\x01';
        snprintf(text, sizeof text, "{\"a\":\"%s\"}", body);
        CHECK(scan_str(text, &s) < 0);
        body[at] = '\x1f';
        snprintf(text, sizeof text, "{\"a\":\"%s\"}", body);
        CHECK(scan_str(text, &s) < 0);
        body[at] = ' ';
        snprintf(text, sizeof text, "{\"a\":\"%s\"}", body);
        CHECK(scan_str(text, &s) == 0);
        body[at] = '"'; /* ends the string early: what follows is not JSON */
        snprintf(text, sizeof text, "{\"a\":\"%s\"}", body);
        CHECK(scan_str(text, &s) < 0);
        body[at] = '\\'; /* "\\a" is no escape (and "\\\"" at the end leaves it open) */
        snprintf(text, sizeof text, "{\"a\":\"%s\"}", body);
        CHECK(scan_str(text, &s) < 0);
        if (at < 39) {
            body[at + 1] = 'n';
            snprintf(text, sizeof text, "{\"a\":\"%s\"}", body);
            CHECK(scan_str(text, &s) == 0 && s.action == NULL);
            body[at + 1] = 'a';
        }
        body[at] = '\xc3'; /* high bytes go through the scan (UTF-8 is checked apart) */
        snprintf(text, sizeof text, "{\"a\":\"%s\"}", body);
        CHECK(scan_str(text, &s) == 0);
        /* The action's end is found exactly. */
        memset(body, 'b', 40);
        body[at] = '\0';
        snprintf(text, sizeof text, "{\"action\":\"%s\"}", body);
        CHECK(scan_str(text, &s) == 0 && s.action_len == at);
    }

    /* An unterminated string at the very end, and a NUL inside the text. */
    CHECK(github_json_scan("{\"a\":\"x", 7, &s) < 0);
    CHECK(github_json_scan("{\"a\":\"\0\"}", 8, &s) < 0);

    /* Nesting up to the limit is fine, past it refused (no stack overflow). */
    size_t deep = 100000;
    char *t = malloc(2 * deep + 8);
    size_t n = 0;
    t[n++] = '{';
    t[n++] = '"';
    t[n++] = 'a';
    t[n++] = '"';
    t[n++] = ':';
    for (size_t i = 0; i < deep; i++)
        t[n++] = '[';
    for (size_t i = 0; i < deep; i++)
        t[n++] = ']';
    t[n++] = '}';
    CHECK(github_json_scan(t, n, &s) < 0);
    n = 5;
    for (size_t i = 0; i < GITHUB_JSON_DEPTH - 1; i++)
        t[n++] = '[';
    for (size_t i = 0; i < GITHUB_JSON_DEPTH - 1; i++)
        t[n++] = ']';
    t[n++] = '}';
    CHECK(github_json_scan(t, n, &s) == 0);
    free(t);
}

TEST_MAIN(TEST_ENTRY(every_testdata_payload_scans_like_json_c), TEST_ENTRY(edge_cases))
