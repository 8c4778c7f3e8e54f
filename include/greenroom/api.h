/* greenroom/api.h: the host's function table.
 *
 * A module never calls the host by symbol: every service function is reached
 * through this table, whose address sits at the start of every handle.  The
 * table only grows: a new host appends entries, so a module built against an
 * older SDK keeps working.  `size` is the host's sizeof(gr_host_api_t); the
 * loader refuses a module built against a larger table than the host has,
 * and GR_API_HAS() lets a module probe for an entry before calling it.
 *
 * Module authors use the inline functions in the service headers, not this
 * table directly.
 */
#ifndef GREENROOM_API_H
#define GREENROOM_API_H

#include <stdarg.h>
#include <stdint.h>

#include <greenroom/error.h>
#include <greenroom/types.h>

struct json_object;

typedef void (*gr_http_handler_fn)(gr_http_request_t *req, void *user_data);
typedef void (*gr_task_fn)(gr_task_t *task, void *user_data);
typedef void (*gr_work_fn)(void *user_data);
typedef void (*gr_work_done_fn)(void *user_data, int status);
typedef void (*gr_hook_fn)(void *user_data);
typedef void (*gr_db_result_fn)(const gr_db_result_t *res, const gr_db_error_t *err,
                                void *user_data);
typedef void (*gr_db_tx_fn)(gr_db_tx_t *tx, const gr_db_error_t *err, void *user_data);
typedef void (*gr_db_done_fn)(const gr_db_error_t *err, void *user_data);

/* http_client.h and github.h: res and err as each header describes. */
typedef void (*gr_http_response_fn)(const gr_http_response_t *res, const gr_error_t *err,
                                    void *user_data);
typedef void (*gr_github_fn)(const gr_github_response_t *res, const gr_error_t *err,
                             void *user_data);
typedef void (*gr_github_json_fn)(struct json_object *data, const gr_error_t *err, void *user_data);
typedef void (*gr_github_pages_fn)(struct json_object *items, int complete, const gr_error_t *err,
                                   void *user_data);

typedef struct gr_host_api {
    uint32_t size;        /* sizeof(gr_host_api_t) in the host */
    uint32_t abi_version; /* GR_ABI_VERSION of the host */
    const char *host_version;

    /* log.h */
    int (*log_enabled)(gr_log_t *log, int level);
    void (*log_write)(gr_log_t *log, int level, const char *fmt, va_list ap);

    /* config.h */
    const gr_config_t *(*config_get)(const gr_config_t *node, const char *path);
    gr_config_type_t (*config_kind)(const gr_config_t *node);
    const char *(*config_scalar)(const gr_config_t *node);
    size_t (*config_size)(const gr_config_t *node);
    const gr_config_t *(*config_at)(const gr_config_t *node, size_t index);
    const char *(*config_key_at)(const gr_config_t *node, size_t index);
    void (*config_where)(const gr_config_t *node, char *buf, size_t len);
    int (*config_to_int)(const gr_config_t *node, int64_t *out, gr_error_t *err);
    int (*config_to_number)(const gr_config_t *node, double *out, gr_error_t *err);
    int (*config_to_bool)(const gr_config_t *node, int *out, gr_error_t *err);
    int (*config_to_duration_ms)(const gr_config_t *node, uint64_t *out, gr_error_t *err);
    int (*config_to_schedule)(const gr_config_t *node, gr_schedule_t *out, gr_error_t *err);

    /* http.h */
    int (*router_add)(gr_router_t *router, const char *method, const char *pattern,
                      gr_http_handler_fn handler, void *user_data, gr_error_t *err);
    const char *(*http_method)(const gr_http_request_t *req);
    const char *(*http_path)(const gr_http_request_t *req);
    const char *(*http_param)(const gr_http_request_t *req, const char *name);
    const char *(*http_query)(const gr_http_request_t *req, const char *name, size_t index);
    const char *(*http_header)(const gr_http_request_t *req, const char *name);
    const char *(*http_body)(const gr_http_request_t *req, size_t *len);
    struct json_object *(*http_body_json)(gr_http_request_t *req, gr_error_t *err);
    int (*http_aborted)(const gr_http_request_t *req);
    void (*http_set_header)(gr_http_request_t *req, const char *name, const char *value);
    void (*http_respond)(gr_http_request_t *req, int status, const char *content_type,
                         const void *body, size_t len);
    void (*http_respond_json)(gr_http_request_t *req, int status, struct json_object *body);
    void (*http_respond_error)(gr_http_request_t *req, int status, const char *message);

    /* scheduler.h */
    int (*scheduler_add)(gr_scheduler_t *sched, const char *task_id, const gr_schedule_t *schedule,
                         gr_task_fn fn, void *user_data, gr_error_t *err);
    int (*scheduler_trigger)(gr_scheduler_t *sched, const char *task_id, gr_error_t *err);
    const char *(*task_id)(const gr_task_t *task);
    int (*task_cancelled)(const gr_task_t *task);
    void (*task_done)(gr_task_t *task, int status, const char *error_message);

    /* metrics.h */
    gr_metric_t *(*metrics_counter)(gr_metrics_t *m, const char *name, const char *help,
                                    const char *const *label_names);
    gr_metric_t *(*metrics_gauge)(gr_metrics_t *m, const char *name, const char *help,
                                  const char *const *label_names);
    gr_metric_t *(*metrics_histogram)(gr_metrics_t *m, const char *name, const char *help,
                                      const char *const *label_names, const double *buckets,
                                      size_t nbuckets);
    gr_metric_t *(*metric_labels)(gr_metric_t *family, const char *const *values);
    void (*metric_add)(gr_metric_t *metric, double delta);
    void (*metric_set)(gr_metric_t *metric, double value);
    void (*metric_observe)(gr_metric_t *metric, double value);

    /* module.h: work, lifecycle, extension points, health */
    int (*work_submit)(gr_context_t *ctx, gr_work_fn work, gr_work_done_fn done, void *user_data,
                       gr_error_t *err);
    int (*lifecycle_on_started)(gr_context_t *ctx, gr_hook_fn fn, void *user_data);
    int (*lifecycle_on_shutdown)(gr_context_t *ctx, gr_hook_fn fn, void *user_data);
    int (*extension_point_provide)(gr_context_t *ctx, const char *name, const void *impl,
                                   gr_error_t *err);
    const void *(*extension_point_get)(gr_context_t *ctx, const char *name);
    void (*health_report)(gr_context_t *ctx, int healthy, const char *message);

    /* Entries are only ever appended below this line. */

    /* db.h: exactly one of db and tx is non-NULL; exactly one of stmt and sql. */
    void (*db_query)(gr_db_t *db, gr_db_tx_t *tx, const gr_db_stmt_t *stmt, const char *sql,
                     int nparams, const char *const *params, gr_db_result_fn cb,
                     void *user_data);
    gr_db_stmt_t *(*db_prepare)(gr_db_t *db, const char *sql, gr_error_t *err);
    void (*db_copy)(gr_db_t *db, gr_db_tx_t *tx, const char *table, const char *const *columns,
                    size_t ncolumns, const char *const *values, size_t nrows,
                    gr_db_result_fn cb, void *user_data);
    void (*db_begin)(gr_db_t *db, gr_db_tx_fn cb, void *user_data);
    void (*db_tx_end)(gr_db_tx_t *tx, int commit, gr_db_done_fn cb, void *user_data);
    int (*db_result_rows)(const gr_db_result_t *res);
    int (*db_result_columns)(const gr_db_result_t *res);
    const char *(*db_result_column_name)(const gr_db_result_t *res, int col);
    int (*db_result_column)(const gr_db_result_t *res, const char *name);
    const char *(*db_result_value)(const gr_db_result_t *res, int row, int col);
    int64_t (*db_result_affected)(const gr_db_result_t *res);
    /* ---- outbound HTTP and GitHub (http_client.c, github_*.c) ---------- */
    /* http_client.h */
    gr_http_call_t *(*http_call_new)(gr_http_client_t *client, const char *method, const char *url);
    void (*http_call_header)(gr_http_call_t *call, const char *name, const char *value);
    void (*http_call_body)(gr_http_call_t *call, const void *body, size_t len);
    void (*http_call_timeout)(gr_http_call_t *call, uint64_t timeout_ms);
    void (*http_call_max_response)(gr_http_call_t *call, size_t max_bytes);
    void (*http_call_retries)(gr_http_call_t *call, int retries);
    void (*http_call_send)(gr_http_call_t *call, gr_http_response_fn cb, void *user_data);
    void (*http_call_free)(gr_http_call_t *call);
    int (*http_response_status)(const gr_http_response_t *res);
    const char *(*http_response_header)(const gr_http_response_t *res, const char *name);
    const char *(*http_response_body)(const gr_http_response_t *res, size_t *len);
    /* github.h: req_size/q_size are the caller's sizeof, so the structs may grow. */
    gr_github_t *(*github_get)(gr_http_client_t *http, const char *host, gr_error_t *err);
    void (*github_request)(gr_github_t *gh, const gr_github_request_t *req, size_t req_size,
                           gr_github_fn cb, void *user_data);
    void (*github_paginate)(gr_github_t *gh, const gr_github_request_t *req, size_t req_size,
                            const char *items_key, int max_pages, gr_github_pages_fn cb,
                            void *user_data);
    void (*github_graphql)(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size,
                           gr_github_json_fn cb, void *user_data);
    void (*github_graphql_paginate)(gr_github_t *gh, const gr_github_graphql_t *q, size_t q_size,
                                    gr_github_pages_fn cb, void *user_data);
    int (*github_response_status)(const gr_github_response_t *res);
    const char *(*github_response_header)(const gr_github_response_t *res, const char *name);
    const char *(*github_response_body)(const gr_github_response_t *res, size_t *len);
    struct json_object *(*github_response_json)(const gr_github_response_t *res);
    int (*github_response_cached)(const gr_github_response_t *res);
    /* ---- end of outbound HTTP and GitHub -------------------------------- */
    /* ---- webhooks: per-route body limits (router.c), signatures (github_webhook.c) */
    int (*router_set_body_limit)(gr_router_t *router, const char *method, const char *pattern,
                                 size_t max_bytes, gr_error_t *err);
    int (*github_webhook_verify)(gr_http_client_t *http, const void *body, size_t len,
                                 const char *signature_header);
    /* ---- end of webhooks ------------------------------------------------ */
    /* http.h: a router under a second prefix (gr_router_mount). */
    gr_router_t *(*router_mount)(gr_context_t *ctx, const char *name, gr_error_t *err);
    /* db.h: COPY in the binary format; types are enum gr_db_copy_type. */
    void (*db_copy_binary)(gr_db_t *db, gr_db_tx_t *tx, const char *table,
                           const char *const *columns, const int *types, size_t ncolumns,
                           const char *const *values, size_t nrows, gr_db_result_fn cb,
                           void *user_data);
} gr_host_api_t;

/* True when the host's table has `field` (an older host may not). */
#define GR_API_HAS(api, field)                                                                 \
    ((api)->size >= offsetof(gr_host_api_t, field) + sizeof((api)->field) && (api)->field != NULL)

#endif
