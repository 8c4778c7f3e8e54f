/* core/host_routes.c: the routes the host serves itself, in Backstage's
 * shapes: health (liveness, readiness), instance metadata, Prometheus
 * metrics, and the scheduler's task list and triggers. */
#include <string.h>

#include <json-c/json.h>

#include "host_internal.h"

static void gr__liveness(gr_http_request_t *req, void *user_data)
{
    (void)user_data;
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "status", json_object_new_string("ok"));
    gr_http_respond_json(req, 200, body);
}

static void gr__readiness(gr_http_request_t *req, void *user_data)
{
    gr_host_t *host = user_data;
    struct json_object *body = json_object_new_object();
    const char *message = NULL;
    switch (gr_host_phase(host)) {
    case GR_HOST_STARTING: message = "Backend has not started yet"; break;
    case GR_HOST_STOPPING: message = "Backend is shutting down"; break;
    case GR_HOST_RUNNING: message = gr_host_unhealthy(host); break;
    }
    if (!message) {
        json_object_object_add(body, "status", json_object_new_string("ok"));
        gr_http_respond_json(req, 200, body);
        return;
    }
    json_object_object_add(body, "message", json_object_new_string(message));
    json_object_object_add(body, "status", json_object_new_string("error"));
    gr_http_respond_json(req, 503, body);
}

static void gr__instance_info(gr_http_request_t *req, void *user_data)
{
    gr_http_respond_json(req, 200, gr_host_describe(user_data));
}

static void gr__metrics(gr_http_request_t *req, void *user_data)
{
    gr_host_t *host = user_data;
    gr_buf_t out = {0};
    gr_metrics_render(host->metrics, &out);
    gr_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "",
                    out.len);
    gr_buf_free(&out);
}

static void gr__scheduler_tasks(gr_http_request_t *req, void *user_data)
{
    gr_host_t *host = user_data;
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "tasks", gr_scheduler_host_describe(host->scheduler));
    gr_http_respond_json(req, 200, body);
}

/* POST /api/scheduler/tasks/<plugin>.<task>/trigger: runs the task now (a
 * global one on whichever host claims it first). */
static void gr__scheduler_trigger(gr_http_request_t *req, void *user_data)
{
    gr_host_t *host = user_data;
    const char *id = gr_http_param(req, "id");
    gr_error_t err = {0};
    int rc = gr_scheduler_host_trigger(host->scheduler, id, &err);
    if (rc == GR_ERR_NOT_FOUND) {
        gr_http_respond_error(req, 404, "%s", err.message);
        return;
    }
    if (rc != 0) {
        gr_http_respond_error(req, rc == GR_ERR_CANCELED ? 503 : 500, "%s", err.message);
        return;
    }
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "id", json_object_new_string(id));
    json_object_object_add(body, "status", json_object_new_string("triggered"));
    gr_http_respond_json(req, 202, body);
}

void gr_host_routes_mount(gr_host_t *host)
{
    static const struct {
        const char *method, *path;
        gr_http_handler_fn handler;
    } routes[] = {
        {"GET", "/.backstage/health/v1/liveness", gr__liveness},
        {"GET", "/.backstage/health/v1/readiness", gr__readiness},
        {"GET", "/.backstage/instanceMetadata/v1/info", gr__instance_info},
        {"GET", "/metrics", gr__metrics},
        {"GET", "/api/scheduler/tasks", gr__scheduler_tasks},
        {"POST", "/api/scheduler/tasks/:id/trigger", gr__scheduler_trigger},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        gr_error_t err = {0};
        if (gr_router_add(host->host_router, routes[i].method, routes[i].path, routes[i].handler,
                          host, &err) != 0)
            gr_log_error(host->log, "cannot mount %s: %s", routes[i].path, err.message);
    }
}
