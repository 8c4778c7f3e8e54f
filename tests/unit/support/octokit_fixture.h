/* tests/unit/support/octokit_fixture.h: serves recorded GitHub interactions
 * (@octokit/fixtures' normalized-fixture.json files, as copied under
 * shared/testdata/github-api/rest/octokit-fixtures/) from the loopback
 * server.
 *
 * Each file is a JSON array of {method, path, status, headers, response}.
 * Served answers keep the recorded status, headers and body; URLs in them
 * that point at https://api.github.com are rewritten to the loopback base
 * URL, so a Link header leads back to the test server with its path and
 * query exactly as recorded.  Content-Length and Connection are left to
 * the server. */
#ifndef GR_TEST_OCTOKIT_FIXTURE_H
#define GR_TEST_OCTOKIT_FIXTURE_H

#include <json-c/json.h>

#include "loopback_server.h"

/* Parses a fixture file; NULL (with a message on stderr) when unreadable. */
json_object *gr_fixture_load(const char *path);
/* The recorded interaction for this method (any case) and path+query, or NULL. */
json_object *gr_fixture_find(json_object *fixture, const char *method, const char *target);
/* The recorded response body as JSON text (caller frees). */
char *gr_fixture_body(json_object *entry);
/* Answers req with the recorded interaction; extra_headers ("Name: v\r\n",
 * may be NULL) are added and replace recorded headers of the same name. */
void gr_fixture_respond(gr_ls_request_t *req, json_object *entry, const char *base_url,
                        const char *extra_headers);

#endif
