/* core/api_impl.h: the host's implementations of gr_host_api_t entries.
 *
 * Each entry `foo` of the table is implemented by `gr__foo`, in the unit
 * that owns the concept (config_*.c, router.c, http_request.c, log.c,
 * metrics.c, scheduler.c, host.c).  api.c builds the one table from them;
 * every handle the host creates points at gr__host_api. */
#ifndef GR_CORE_API_IMPL_H
#define GR_CORE_API_IMPL_H

#include <greenroom/greenroom.h>

extern const gr_host_api_t gr__host_api;

/* log.c */
int gr__log_enabled(gr_log_t *log, int level);
void gr__log_write(gr_log_t *log, int level, const char *fmt, va_list ap);

/* config_reader.c */
const gr_config_t *gr__config_get(const gr_config_t *node, const char *path);
gr_config_type_t gr__config_kind(const gr_config_t *node);
const char *gr__config_scalar(const gr_config_t *node);
size_t gr__config_size(const gr_config_t *node);
const gr_config_t *gr__config_at(const gr_config_t *node, size_t index);
const char *gr__config_key_at(const gr_config_t *node, size_t index);
void gr__config_where(const gr_config_t *node, char *buf, size_t len);
int gr__config_to_int(const gr_config_t *node, int64_t *out, gr_error_t *err);
int gr__config_to_number(const gr_config_t *node, double *out, gr_error_t *err);
int gr__config_to_bool(const gr_config_t *node, int *out, gr_error_t *err);
int gr__config_to_duration_ms(const gr_config_t *node, uint64_t *out, gr_error_t *err);
int gr__config_to_schedule(const gr_config_t *node, gr_schedule_t *out, gr_error_t *err);

/* router.c */
int gr__router_add(gr_router_t *router, const char *method, const char *pattern,
                   gr_http_handler_fn handler, void *user_data, gr_error_t *err);

/* http_request.c */
const char *gr__http_method(const gr_http_request_t *req);
const char *gr__http_path(const gr_http_request_t *req);
const char *gr__http_param(const gr_http_request_t *req, const char *name);
const char *gr__http_query(const gr_http_request_t *req, const char *name, size_t index);
const char *gr__http_header(const gr_http_request_t *req, const char *name);
const char *gr__http_body(const gr_http_request_t *req, size_t *len);
struct json_object *gr__http_body_json(gr_http_request_t *req, gr_error_t *err);
int gr__http_aborted(const gr_http_request_t *req);
void gr__http_set_header(gr_http_request_t *req, const char *name, const char *value);
void gr__http_respond(gr_http_request_t *req, int status, const char *content_type,
                      const void *body, size_t len);
void gr__http_respond_json(gr_http_request_t *req, int status, struct json_object *body);
void gr__http_respond_error(gr_http_request_t *req, int status, const char *message);

/* scheduler.c */
int gr__scheduler_add(gr_scheduler_t *sched, const char *task_id, const gr_schedule_t *schedule,
                      gr_task_fn fn, void *user_data, gr_error_t *err);
int gr__scheduler_trigger(gr_scheduler_t *sched, const char *task_id, gr_error_t *err);
const char *gr__task_id(const gr_task_t *task);
int gr__task_cancelled(const gr_task_t *task);
void gr__task_done(gr_task_t *task, int status, const char *error_message);

/* metrics.c */
gr_metric_t *gr__metrics_counter(gr_metrics_t *m, const char *name, const char *help,
                                 const char *const *label_names);
gr_metric_t *gr__metrics_gauge(gr_metrics_t *m, const char *name, const char *help,
                               const char *const *label_names);
gr_metric_t *gr__metrics_histogram(gr_metrics_t *m, const char *name, const char *help,
                                   const char *const *label_names, const double *buckets,
                                   size_t nbuckets);
gr_metric_t *gr__metric_labels(gr_metric_t *family, const char *const *values);
void gr__metric_add(gr_metric_t *metric, double delta);
void gr__metric_set(gr_metric_t *metric, double value);
void gr__metric_observe(gr_metric_t *metric, double value);

/* host_context.c */
int gr__work_submit(gr_context_t *ctx, gr_work_fn work, gr_work_done_fn done, void *user_data,
                    gr_error_t *err);
int gr__lifecycle_on_started(gr_context_t *ctx, gr_hook_fn fn, void *user_data);
int gr__lifecycle_on_shutdown(gr_context_t *ctx, gr_hook_fn fn, void *user_data);
int gr__extension_point_provide(gr_context_t *ctx, const char *name, const void *impl,
                                gr_error_t *err);
const void *gr__extension_point_get(gr_context_t *ctx, const char *name);
void gr__health_report(gr_context_t *ctx, int healthy, const char *message);
gr_router_t *gr__router_mount(gr_context_t *ctx, const char *name, gr_error_t *err);

/* db_pool.c */
void gr__db_query(gr_db_t *db, gr_db_tx_t *tx, const gr_db_stmt_t *stmt, const char *sql,
                  int nparams, const char *const *params, gr_db_result_fn cb, void *user_data);
gr_db_stmt_t *gr__db_prepare(gr_db_t *db, const char *sql, gr_error_t *err);
void gr__db_copy(gr_db_t *db, gr_db_tx_t *tx, const char *table, const char *const *columns,
                 size_t ncolumns, const char *const *values, size_t nrows, gr_db_result_fn cb,
                 void *user_data);
void gr__db_copy_binary(gr_db_t *db, gr_db_tx_t *tx, const char *table, const char *const *columns,
                        const int *types, size_t ncolumns, const char *const *values, size_t nrows,
                        gr_db_result_fn cb, void *user_data);
void gr__db_begin(gr_db_t *db, gr_db_tx_fn cb, void *user_data);
void gr__db_tx_end(gr_db_tx_t *tx, int commit, gr_db_done_fn cb, void *user_data);
int gr__db_result_rows(const gr_db_result_t *res);
int gr__db_result_columns(const gr_db_result_t *res);
const char *gr__db_result_column_name(const gr_db_result_t *res, int col);
int gr__db_result_column(const gr_db_result_t *res, const char *name);
const char *gr__db_result_value(const gr_db_result_t *res, int row, int col);
int64_t gr__db_result_affected(const gr_db_result_t *res);
/* ---- outbound HTTP and GitHub ------------------------------------------- */
/* http_client.c */
gr_http_call_t *gr__http_call_new(gr_http_client_t *client, const char *method, const char *url);
void gr__http_call_header(gr_http_call_t *call, const char *name, const char *value);
void gr__http_call_body(gr_http_call_t *call, const void *body, size_t len);
void gr__http_call_timeout(gr_http_call_t *call, uint64_t timeout_ms);
void gr__http_call_max_response(gr_http_call_t *call, size_t max_bytes);
void gr__http_call_retries(gr_http_call_t *call, int retries);
void gr__http_call_send(gr_http_call_t *call, gr_http_response_fn cb, void *user_data);
void gr__http_call_free(gr_http_call_t *call);
int gr__http_response_status(const gr_http_response_t *res);
const char *gr__http_response_header(const gr_http_response_t *res, const char *name);
const char *gr__http_response_body(const gr_http_response_t *res, size_t *len);

/* github_client.c, github_pages.c */
gr_github_t *gr__github_get(gr_http_client_t *http, const char *host, gr_error_t *err);
void gr__github_request(gr_github_t *gh, const gr_github_request_t *req, size_t req_size,
                        gr_github_fn cb, void *user_data);
void gr__github_paginate(gr_github_t *gh, const gr_github_request_t *req, size_t req_size,
                         const char *items_key, int max_pages, gr_github_pages_fn cb,
                         void *user_data);
void gr__github_graphql(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size,
                        gr_github_json_fn cb, void *user_data);
void gr__github_graphql_paginate(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size,
                                 gr_github_pages_fn cb, void *user_data);
int gr__github_response_status(const gr_github_response_t *res);
const char *gr__github_response_header(const gr_github_response_t *res, const char *name);
const char *gr__github_response_body(const gr_github_response_t *res, size_t *len);
struct json_object *gr__github_response_json(const gr_github_response_t *res);
int gr__github_response_cached(const gr_github_response_t *res);
/* ---- end of outbound HTTP and GitHub ------------------------------------ */
/* ---- webhooks ------------------------------------------------------------- */
/* router.c */
int gr__router_set_body_limit(gr_router_t *router, const char *method, const char *pattern,
                              size_t max_bytes, gr_error_t *err);
/* github_webhook.c */
int gr__github_webhook_verify(gr_http_client_t *http, const void *body, size_t len,
                              const char *signature_header);
/* ---- end of webhooks ------------------------------------------------------ */

#endif
