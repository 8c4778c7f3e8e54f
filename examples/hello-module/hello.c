/* hello: the smallest useful greenroom plugin.  It reads `hello.greeting`
 * from the config (default "Hello"), serves GET /api/hello/greet?name=x,
 * and counts greetings in /metrics. */
#include <json-c/json.h>

#include <greenroom/greenroom.h>

typedef struct hello_state {
    const gr_config_t *config;
    gr_metric_t *greetings;
} hello_state_t;

static hello_state_t hello_state;

static const gr_config_field_t hello_schema[] = {
    {.key = "greeting", .type = GR_CONFIG_STRING, .default_value = "Hello",
     .description = "the word said before the name"},
    {0}};

static void hello_greet(gr_http_request_t *req, void *user_data)
{
    hello_state_t *st = user_data;
    const char *name = gr_http_query(req, "name", 0);
    if (!name || !*name) {
        gr_http_respond_error(req, 400, "query parameter 'name' is required");
        return;
    }
    char text[256];
    snprintf(text, sizeof text, "%s, %s!", gr_config_string(st->config, "greeting", "Hello"), name);
    struct json_object *body = json_object_new_object();
    json_object_object_add(body, "message", json_object_new_string(text));
    gr_metric_inc(st->greetings);
    gr_http_respond_json(req, 200, body);
}

static int hello_init(gr_context_t *ctx, gr_error_t *err)
{
    hello_state.config = ctx->config;
    hello_state.greetings =
        gr_metrics_counter(ctx->metrics, "hello_greetings_total", "Greetings said", NULL);
    ctx->state = &hello_state;
    gr_log_info(ctx->log, "ready to greet with '%s'", gr_config_string(ctx->config, "greeting", ""));
    return gr_router_add(ctx->router, "GET", "/greet", hello_greet, &hello_state, err);
}

static int hello_reconfigure(gr_context_t *ctx, const gr_config_t *config, gr_error_t *err)
{
    (void)ctx;
    (void)err;
    hello_state.config = config;
    return 0;
}

static const gr_module_descriptor_t hello = {
    GR_DESCRIPTOR_HEADER,
    .kind = GR_KIND_PLUGIN,
    .plugin_id = "hello",
    .version = "1.0.0",
    .description = "says hello",
    .config_key = "hello",
    .config_schema = hello_schema,
    .init = hello_init,
    .reconfigure = hello_reconfigure,
};
GR_MODULE_EXPORT(hello)
