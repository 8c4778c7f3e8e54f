/* A trivial plugin for the benchmarks, built ten times with different ids
 * (BENCH_PLUGIN_ID): GET /api/<id>/ping answers {"ok":true}. */
#include <json-c/json.h>

#include <greenroom/greenroom.h>

static void bench_ping(gr_http_request_t *req, void *user_data)
{
    (void)user_data;
    static const char body[] = "{\"ok\":true}";
    gr_http_respond(req, 200, "application/json", body, sizeof body - 1);
}

static int bench_init(gr_context_t *ctx, gr_error_t *err)
{
    return gr_router_add(ctx->router, "GET", "/ping", bench_ping, NULL, err);
}

static const gr_module_descriptor_t bench_plugin = {
    GR_DESCRIPTOR_HEADER,
    .kind = GR_KIND_PLUGIN,
    .plugin_id = BENCH_PLUGIN_ID,
    .version = "1.0.0",
    .init = bench_init,
};
GR_MODULE_EXPORT(bench_plugin)
