/* routes.c: GET /api/github/deliveries[?limit=N][&event=E]: the newest
 * deliveries, each with how every subscriber handled it:
 *
 *     {"items": [{"deliveryId", "event", "action", "receivedAt", "spooled",
 *                 "subscribers": [{"id", "status", "attempts", "error",
 *                                  "nextAttemptAt"}]}]}
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "github_internal.h"

#define GITHUB_LIST_DEFAULT 50
#define GITHUB_LIST_MAX 1000

static struct json_object *string_or_null(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}

static void on_listed(const gr_db_result_t *res, const gr_db_error_t *err, void *user_data)
{
    gr_http_request_t *req = user_data;
    if (err) {
        gr_http_respond_error(req, err->code == GR_ERR_UNAVAILABLE ? 503 : 500,
                              "github: listing deliveries failed: %s", err->message);
        return;
    }
    struct json_object *items = json_object_new_array();
    for (int i = 0; i < gr_db_result_rows(res); i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "deliveryId", string_or_null(gr_db_result_value(res, i, 0)));
        json_object_object_add(o, "event", string_or_null(gr_db_result_value(res, i, 1)));
        json_object_object_add(o, "action", string_or_null(gr_db_result_value(res, i, 2)));
        json_object_object_add(o, "receivedAt", string_or_null(gr_db_result_value(res, i, 3)));
        int spooled = 0;
        gr_db_result_bool(res, i, 4, &spooled);
        json_object_object_add(o, "spooled", json_object_new_boolean(spooled));
        const char *subs = gr_db_result_value(res, i, 5);
        struct json_object *arr = subs ? json_tokener_parse(subs) : NULL;
        json_object_object_add(o, "subscribers", arr ? arr : json_object_new_array());
        json_object_array_add(items, o);
    }
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "items", items);
    gr_http_respond_json(req, 200, body);
}

void github_deliveries_route(gr_http_request_t *req, void *user_data)
{
    github_plugin_t *gh = user_data;
    long limit = GITHUB_LIST_DEFAULT;
    const char *l = gr_http_query(req, "limit", 0);
    if (l) {
        char *end;
        errno = 0;
        limit = strtol(l, &end, 10);
        if (errno || end == l || *end || limit < 1 || limit > GITHUB_LIST_MAX) {
            gr_http_respond_error(req, 400, "github: limit must be a number from 1 to %d",
                                  GITHUB_LIST_MAX);
            return;
        }
    }
    github_store_list(gh, (int)limit, gr_http_query(req, "event", 0), on_listed, req);
}
